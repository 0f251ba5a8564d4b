//! App passwords (`/me`): per-member credentials for clients that cannot log in through a form
//! (WebDAV drives; later Subsonic players). Each is a 256-bit random token shown once; the database
//! keeps its HMAC-SHA256 under the site's secret key (`Secret::keyed_hash`), not an argon2 hash:
//! a random 256-bit value needs no slow hash against guessing, and a WebDAV client sends it with
//! every request (a folder copy is hundreds of requests), where argon2's ~50 ms each on the capped
//! hashing pool would be the bottleneck. Keyed, so a copy of the database alone cannot test one.
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

/// The form that makes an app password.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewAppPasswordForm {
    /// What the member calls it ("laptop", "phone").
    #[serde(default)]
    pub name: String,
    /// `dav` (the only scope served so far).
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
    // TODO(#14): Subsonic's token+salt needs the secret itself (stored encrypted, not hashed).
    let scope = AppPasswordScope::Dav;
    if AppPasswordScope::parse(&form.scope) != Some(scope) {
        errors.add("app_scope", "error.invalid_choice");
    }
    if form.current_password.is_empty() {
        errors.add("app_current_password", "error.app_password_needs_password");
    }
    errors.into_result()?;
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
    let (uid, n2) = (user.id, name.clone());
    let id = core
        .db
        .write(move |conn| {
            if app_password::count_live(conn, uid)? >= MAX_LIVE {
                let mut e = FieldErrors::default();
                e.add("app_name", "error.app_password_too_many");
                return Err(AppError::Invalid(e));
            }
            let id = app_password::insert(conn, uid, &n2, scope, &hash, now())?;
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
    let hash =
        looks_like_token(&creds.password).then(|| core.secret.keyed_hash(PURPOSE, &creds.password));
    let login = creds.login.clone();
    let ip_key = creds.ip_key.clone();
    let found = core
        .db
        .read(move |conn| {
            let account = user::find_by_login_opt(conn, &login)?;
            let key = auth::limit_key(account.as_ref(), &login);
            match auth::check_limits(conn, &ip_key, &key) {
                Ok(()) => {}
                Err(AppError::RateLimited(_)) => return Ok(Err(Refused::Limited)),
                Err(e) => return Err(e),
            }
            let live = match (&account, &hash) {
                (Some(_), Some(h)) => app_password::find_live(conn, &login, h)?,
                _ => None,
            };
            Ok(Ok((key, live)))
        })
        .await?;
    let (key, live) = match found {
        Ok(f) => f,
        Err(r) => return Ok(Err(r)),
    };
    let usable = live.filter(|(p, u)| p.scope == scope && !u.disabled);
    let Some((pw, user)) = usable else {
        let ip_key = creds.ip_key;
        core.db
            .write(move |conn| auth::record_failure(conn, &ip_key, &key))
            .await?;
        return Ok(Err(Refused::Wrong));
    };
    let client: String = creds.client.chars().take(CLIENT_CHARS).collect();
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
