//! App passwords (`/me`): per-member credentials for clients that cannot log in through a form
//! (WebDAV drives, Subsonic music players). Each is a 256-bit random token shown once; the database
//! keeps its HMAC-SHA256 under the site's secret key (`Secret::keyed_hash`), not an argon2 hash:
//! a random 256-bit value needs no slow hash against guessing, and a WebDAV client sends it with
//! every request (a folder copy is hundreds of requests), where argon2's ~50 ms each on the capped
//! hashing pool would be the bottleneck. Keyed, so a copy of the database alone cannot test one.
//!
//! The one exception: Subsonic's token authentication sends `md5(password + salt)`, which only
//! the secret itself can check, so an app password of scope `subsonic` also keeps its secret sealed
//! with ChaCha20-Poly1305 under a key derived from `secret.key` (`Secret::seal`); `/me` says so.
//!
//! These clients accept only app passwords, never the login password; a failure counts against
//! the same limits as a failed login (`auth::check_limits`, `auth::record_failure`). Making one
//! needs the current password, so a stolen session cannot turn itself into a lasting credential.

use chrono::{Duration, NaiveDateTime};

use super::authz::{Action, authorize};
use super::token::{looks_like_token, new_token};
use super::{Actor, Core, auth};
use crate::db::DbConn;
use crate::db::types::AppPasswordScope;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::app_password;
use crate::models::user::{self, User};
use crate::models::{audit, now};

/// Live app passwords one account may have.
pub const MAX_LIVE: i64 = 50;
/// A use is written down at most this often per password (unless the client changes).
const TOUCH_EVERY_SECONDS: i64 = 60;
/// What is kept of a client's `User-Agent`.
const CLIENT_CHARS: usize = 200;
/// The `purpose` of the keyed hash, so an app password's hash is no other token's.
const PURPOSE: &str = "app-password";
/// The `purpose` of a sealed Subsonic secret.
const SEAL_PURPOSE: &str = "app-password:subsonic";

/// The form that makes an app password.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewAppPasswordForm {
    /// What the member calls it ("laptop", "phone").
    #[serde(default)]
    pub name: String,
    /// `dav` or `subsonic`.
    #[serde(default)]
    pub scope: String,
    /// The account's login password.
    #[serde(default)]
    pub current_password: String,
}

/// A freshly made app password: the only time its secret is known.
#[derive(Debug, Clone)]
pub struct CreatedAppPassword {
    /// Its id.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The secret to type into the client.
    pub secret: String,
}

/// An app password as the list on `/me` shows it (never its hash).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AppPasswordItem {
    pub id: i64,
    pub name: String,
    pub scope: AppPasswordScope,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub last_client: Option<String>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// The member's app passwords, live ones first.
pub fn list(conn: &mut DbConn, user: &User) -> AppResult<Vec<AppPasswordItem>> {
    authorize(Some(&Actor::from(user)), Action::EditOwnProfile)?;
    Ok(app_password::list_for_user(conn, user.id)?
        .into_iter()
        .map(|p| AppPasswordItem {
            id: p.id,
            name: p.name,
            scope: p.scope,
            created_at: p.created_at,
            last_used_at: p.last_used_at,
            last_client: p.last_client,
            revoked_at: p.revoked_at,
        })
        .collect())
}

/// Makes an app password for `user` after checking their current password (under the login
/// limits); returns its secret, which is never shown again.
pub async fn create(
    core: &Core,
    user: &User,
    ip_key: String,
    form: NewAppPasswordForm,
) -> AppResult<CreatedAppPassword> {
    authorize(Some(&Actor::from(user)), Action::EditOwnProfile)?;
    let name = form.name.trim().to_owned();
    let mut errors = FieldErrors::default();
    let n = name.chars().count();
    if !(1..=80).contains(&n) || name.chars().any(char::is_control) {
        errors.add("app_name", "error.app_password_name");
    }
    let scope = AppPasswordScope::parse(&form.scope);
    if scope.is_none() {
        errors.add("app_scope", "error.invalid_choice");
    }
    if form.current_password.is_empty() {
        errors.add("app_current_password", "error.app_password_needs_password");
    }
    errors.into_result()?;
    let scope = scope.unwrap_or(AppPasswordScope::Dav);
    auth::confirm_password(
        core,
        user,
        form.current_password,
        ip_key,
        "app_current_password",
    )
    .await?;
    let secret = new_token();
    let hash = core.secret.keyed_hash(PURPOSE, &secret);
    // Only Subsonic's token authentication needs the secret back (see the module's comment).
    let sealed =
        (scope == AppPasswordScope::Subsonic).then(|| core.secret.seal(SEAL_PURPOSE, &secret));
    let (uid, n2) = (user.id, name.clone());
    let id = core
        .db
        .write(move |conn| {
            if app_password::count_live(conn, uid)? >= MAX_LIVE {
                let mut e = FieldErrors::default();
                e.add("app_name", "error.app_password_too_many");
                return Err(AppError::Invalid(e));
            }
            let id = app_password::insert(conn, uid, &n2, scope, &hash, sealed.as_deref(), now())?;
            audit::record(conn, Some(uid), "app_password.created", &n2, None)?;
            Ok(id)
        })
        .await?;
    Ok(CreatedAppPassword { id, name, secret })
}

/// Revokes one of the member's app passwords: refused from the next request on. Another
/// member's id (or an unknown one) is `NotFound`.
pub fn revoke(conn: &mut DbConn, user: &User, id: i64) -> AppResult<()> {
    authorize(Some(&Actor::from(user)), Action::EditOwnProfile)?;
    if !app_password::revoke(conn, user.id, id, now())? {
        return Err(AppError::NotFound);
    }
    audit::record(
        conn,
        Some(user.id),
        "app_password.revoked",
        &id.to_string(),
        None,
    )?;
    Ok(())
}

/// What a client sent: Basic auth's login and password, where from, and as what.
#[derive(Debug, Clone)]
pub struct ClientCredentials {
    /// The login name.
    pub login: String,
    /// The app password.
    pub password: String,
    /// `auth::ip_key` of the client.
    pub ip_key: String,
    /// The client's `User-Agent` (shown on `/me`).
    pub client: String,
}

/// Why a client's credentials were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Wrong, revoked, of another scope, a login password, or a disabled account (one answer).
    Wrong,
    /// The login limits are reached for the network or the account.
    Limited,
}

/// Checks an app password of `scope`; returns its account. A failure is counted like a failed
/// login. The use is written down (time, client) at most once a minute.
pub async fn authenticate(
    core: &Core,
    creds: ClientCredentials,
    scope: AppPasswordScope,
) -> AppResult<Result<User, Refused>> {
    let ClientCredentials {
        login,
        password,
        ip_key,
        client,
    } = creds;
    check(
        core,
        Some(login),
        Proof::Password(password),
        ip_key,
        client,
        scope,
    )
    .await
}

/// How a client proves that it holds an app password.
#[derive(Debug, Clone)]
pub enum Proof {
    /// The secret itself (Basic auth, Subsonic's `p=`).
    Password(String),
    /// Subsonic's `t` = md5(secret + `s`), hex.
    Token {
        /// `t`.
        token: String,
        /// `s`.
        salt: String,
    },
    /// The `OpenSubsonic` `apiKey`: the secret, without a login.
    ApiKey(String),
}

/// Checks a `proof` of an app password of `scope` from a client (`login` is `None` for an API
/// key, which names its account itself); returns its account. Every failure counts like a failed
/// login, against the network and the account it named.
pub async fn check(
    core: &Core,
    login: Option<String>,
    proof: Proof,
    ip_key: String,
    client: String,
    scope: AppPasswordScope,
) -> AppResult<Result<User, Refused>> {
    let hash = match &proof {
        Proof::Password(p) | Proof::ApiKey(p) => {
            looks_like_token(p).then(|| core.secret.keyed_hash(PURPOSE, p))
        }
        Proof::Token { .. } => None,
    };
    let ip = ip_key.clone();
    let secret = core.secret.clone();
    let found = core
        .db
        .read(move |conn| {
            let (account, live) = match (&login, &proof) {
                (Some(login), Proof::Password(_)) => {
                    let account = user::find_by_login_opt(conn, login)?;
                    let live = match (&account, &hash) {
                        (Some(_), Some(h)) => app_password::find_live(conn, login, h)?,
                        _ => None,
                    };
                    (account, live)
                }
                (Some(login), Proof::Token { .. }) => {
                    let account = user::find_by_login_opt(conn, login)?;
                    let candidates = if account.is_some() {
                        app_password::live_sealed_for_login(conn, login, scope)?
                    } else {
                        Vec::new()
                    };
                    (account, token_match(&secret, &proof, candidates))
                }
                (None, Proof::ApiKey(_)) => {
                    let live = match &hash {
                        Some(h) => app_password::find_live_by_hash(conn, h)?,
                        None => None,
                    };
                    (live.as_ref().map(|(_, u)| u.clone()), live)
                }
                _ => (None, None),
            };
            let name = login.as_deref().unwrap_or("(api key)");
            let key = auth::limit_key(account.as_ref(), name);
            match auth::check_limits(conn, &ip, &key) {
                Ok(()) => {}
                Err(AppError::RateLimited(_)) => return Ok(Err(Refused::Limited)),
                Err(e) => return Err(e),
            }
            Ok(Ok((key, live)))
        })
        .await?;
    let (key, live) = match found {
        Ok(f) => f,
        Err(r) => return Ok(Err(r)),
    };
    let usable = live.filter(|(p, u)| p.scope == scope && !u.disabled);
    let Some((pw, user)) = usable else {
        core.db
            .write(move |conn| auth::record_failure(conn, &ip_key, &key))
            .await?;
        return Ok(Err(Refused::Wrong));
    };
    let client: String = client.chars().take(CLIENT_CHARS).collect();
    let at = now();
    let stale = pw
        .last_used_at
        .is_none_or(|t| at - t >= Duration::seconds(TOUCH_EVERY_SECONDS));
    if stale || pw.last_client.as_deref() != Some(client.as_str()) {
        core.db
            .write(move |conn| Ok(app_password::touch(conn, pw.id, at, &client)?))
            .await?;
    }
    Ok(Ok(user))
}

/// The candidate whose sealed secret `s` gives the token `t` (compared in constant time).
fn token_match(
    secret: &crate::secret::Secret,
    proof: &Proof,
    candidates: Vec<(app_password::AppPassword, User)>,
) -> Option<(app_password::AppPassword, User)> {
    use md5::Digest as _;
    use subtle::ConstantTimeEq as _;
    let Proof::Token { token, salt } = proof else {
        return None;
    };
    if salt.is_empty() || token.len() != 32 {
        return None;
    }
    let token = token.to_ascii_lowercase();
    candidates.into_iter().find(|(p, _)| {
        let Some(plain) = p
            .secret_sealed
            .as_deref()
            .and_then(|s| secret.open(SEAL_PURPOSE, s))
        else {
            return false;
        };
        let mut h = md5::Md5::new();
        h.update(plain.as_bytes());
        h.update(salt.as_bytes());
        let expected = crate::services::token::to_hex(&h.finalize());
        bool::from(expected.as_bytes().ct_eq(token.as_bytes()))
    })
}
