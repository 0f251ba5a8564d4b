//! Logging in and out, server-side sessions, login limits and password reset by mail.

use std::net::IpAddr;

use chrono::{Duration, NaiveDateTime};

use super::form::FormOutcome;
use super::mail::{self, Recipient, emails};
use super::token::{hash_token, looks_like_token, new_token};
use super::{Core, password};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
/// An account, as a session knows it.
pub use crate::models::user::User;
use crate::models::{audit, email_change, login_failure, now, password_reset, session, user};

/// How long a login lasts without use.
pub const SESSION_DAYS: i64 = 14;
/// Failed logins allowed from one client network in `IP_WINDOW_MINUTES`.
pub const IP_FAILURE_LIMIT: i64 = 30;
/// The window for the per-network limit.
pub const IP_WINDOW_MINUTES: i64 = 15;
/// Failed logins allowed against one account per hour (soft: the window slides, nothing is locked for good).
pub const ACCOUNT_FAILURE_LIMIT: i64 = 100;
/// How long a reset link works.
pub const RESET_TTL_MINUTES: i64 = 60;
/// How long the link in a welcome mail works.
pub const WELCOME_TTL_DAYS: i64 = 7;
/// Reset mails sent to one account per hour at most.
pub const RESET_MAILS_PER_HOUR: i64 = 3;

/// The key rate limits use for a client address: the address for IPv4, the /64 network for IPv6
/// (one household or phone gets a whole /64, so counting single v6 addresses limits nothing).
pub fn ip_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4.to_string();
            }
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

/// A live session as the web layer sees it.
#[derive(Debug, Clone)]
pub struct LiveSession {
    /// The session row id.
    pub id: i64,
    /// SHA-256 of the cookie token.
    pub token_hash: String,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// The logged-in user.
    pub user: User,
    /// Past half its life: the middleware extends it (one write a week at most, not one per request).
    pub needs_extension: bool,
}

/// Finds the session for a cookie token (read-only); disabled users and expired sessions yield `None`.
pub fn resolve_session(conn: &mut DbConn, token: &str) -> AppResult<Option<LiveSession>> {
    if !looks_like_token(token) {
        return Ok(None);
    }
    let hash = hash_token(token);
    let at = now();
    let Some((s, Some(u))) = session::find_live(conn, &hash, at)? else {
        return Ok(None);
    };
    if u.disabled {
        return Ok(None);
    }
    Ok(Some(LiveSession {
        id: s.id,
        needs_extension: s.expires_at - at < Duration::days(SESSION_DAYS / 2),
        token_hash: s.token_hash,
        csrf_token: s.csrf_token,
        user: u,
    }))
}

/// Gives a session another full lifetime.
pub fn extend_session(conn: &mut DbConn, id: i64) -> AppResult<()> {
    session::extend(conn, id, now() + Duration::days(SESSION_DAYS))?;
    Ok(())
}

/// Creates a session for a user and returns the cookie token.
pub fn start_session(conn: &mut DbConn, user_id: i64) -> AppResult<String> {
    let token = new_token();
    let at = now();
    session::insert(
        conn,
        &session::NewSession {
            token_hash: &hash_token(&token),
            user_id: Some(user_id),
            csrf_token: &new_token(),
            created_at: at,
            expires_at: at + Duration::days(SESSION_DAYS),
        },
    )?;
    Ok(token)
}

/// What the login form sends.
#[derive(Debug, Clone)]
pub struct LoginAttempt {
    /// Login name or email.
    pub name: String,
    /// The password.
    pub password: String,
    /// `ip_key` of the client.
    pub ip_key: String,
    /// The client address for the audit log.
    pub ip: String,
    /// The token hash of the session the request came with, ended at login (session id rotation).
    pub previous_session: Option<String>,
}

/// The login-limit counter of an account: `u:<id>` for a known account, `unknown_name_key`
/// otherwise, so unknown names are limited alike and the counter does not reveal which names exist.
fn account_key(found: Option<&User>, name: &str) -> String {
    found.map_or_else(|| unknown_name_key(name), |u| format!("u:{}", u.id))
}

/// The counter of a typed name that matched no account: `n:` and the SHA-256 of the name in lower
/// case, never the name itself (people type their password into the name field).
pub fn unknown_name_key(name: &str) -> String {
    format!("n:{}", hash_token(&name.trim().to_lowercase()))
}

/// Checks the per-network and per-account limits and, when neither is reached, counts this attempt
/// as a failure at once, before the slow password check, in the same transaction and under the
/// counters' locks: two hundred parallel requests cannot all read the old count and all be let
/// through. Returns the id of the counted attempt, which a right password takes back.
fn reserve_attempt(conn: &mut DbConn, ip_key: &str, account_key: &str) -> AppResult<i64> {
    login_failure::lock_counters(
        conn,
        &[&format!("ip:{ip_key}"), &format!("account:{account_key}")],
    )?;
    let at = now();
    let ip_failures =
        login_failure::count_for_ip(conn, ip_key, at - Duration::minutes(IP_WINDOW_MINUTES))?;
    if ip_failures >= IP_FAILURE_LIMIT {
        return Err(AppError::RateLimited("login.too_many_ip"));
    }
    let account_failures =
        login_failure::count_for_account(conn, account_key, at - Duration::hours(1))?;
    if account_failures >= ACCOUNT_FAILURE_LIMIT {
        return Err(AppError::RateLimited("login.too_many_account"));
    }
    Ok(login_failure::record(conn, ip_key, account_key, at)?)
}

/// Whether the login limits already refuse `ip_key` or the account `account_key` (a read, for
/// credentials that are cheap to check: app passwords). A 256-bit app password cannot be guessed,
/// so the few attempts that parallel requests may slip past the count matter not; the limits are
/// there so that the app-password door is no faster way to try login passwords.
pub fn check_limits(conn: &mut DbConn, ip_key: &str, account_key: &str) -> AppResult<()> {
    let at = now();
    if login_failure::count_for_ip(conn, ip_key, at - Duration::minutes(IP_WINDOW_MINUTES))?
        >= IP_FAILURE_LIMIT
    {
        return Err(AppError::RateLimited("login.too_many_ip"));
    }
    if login_failure::count_for_account(conn, account_key, at - Duration::hours(1))?
        >= ACCOUNT_FAILURE_LIMIT
    {
        return Err(AppError::RateLimited("login.too_many_account"));
    }
    Ok(())
}

/// Counts a failed attempt against the network and the account, as a failed login does.
pub fn record_failure(conn: &mut DbConn, ip_key: &str, account_key: &str) -> AppResult<()> {
    login_failure::record(conn, ip_key, account_key, now())?;
    Ok(())
}

/// The login-limit counter of a typed login name (`u:<id>` for an account, a hash otherwise).
pub fn limit_key(found: Option<&User>, name: &str) -> String {
    account_key(found, name)
}

/// Checks the credentials and starts a session; returns the new cookie token.
/// Unknown accounts, wrong passwords and disabled accounts give the same error after the same work.
pub async fn login(core: &Core, attempt: LoginAttempt) -> AppResult<String> {
    let name = attempt.name.trim().to_owned();
    let ip_key = attempt.ip_key.clone();
    let (found, attempt_id) = core
        .db
        .write(move |conn| {
            let found = user::find_by_login_or_email(conn, &name)?;
            let attempt_id = reserve_attempt(conn, &ip_key, &account_key(found.as_ref(), &name))?;
            Ok((found, attempt_id))
        })
        .await?;
    let hash = found.as_ref().map(|u| u.password_hash.clone());
    let password_ok = core.passwords.verify(attempt.password, hash).await?;
    let matched = found.as_ref().map(|u| u.id);
    let usable = found.filter(|u| password_ok && !u.disabled);
    core.db
        .write(move |conn| {
            let Some(u) = usable else {
                // Never the typed name: people type their password into it. A name that matched
                // an account is recorded as that account, anything else as nothing.
                audit::record(conn, matched, "login.failed", "", Some(&attempt.ip))?;
                // The counted attempt must stay, so this returns Ok and the caller reports the error.
                return Ok(None);
            };
            login_failure::delete(conn, attempt_id)?;
            if let Some(prev) = &attempt.previous_session {
                session::delete_by_hash(conn, prev)?;
            }
            let token = start_session(conn, u.id)?;
            user::touch_last_login(conn, u.id, now())?;
            audit::record(conn, Some(u.id), "login", &u.login, Some(&attempt.ip))?;
            Ok(Some(token))
        })
        .await?
        .ok_or_else(|| {
            let mut e = FieldErrors::default();
            e.add("name", "login.failed");
            AppError::Invalid(e)
        })
}

/// Checks the current password of a logged-in account before a change that needs it (email,
/// password), under the login limits: a stolen session must not become a way to guess the password
/// without them. A wrong password counts as a failed login and is a field error on `field`.
pub async fn confirm_password(
    core: &Core,
    user: &User,
    password_text: String,
    ip_key: String,
    field: &'static str,
) -> AppResult<()> {
    let key = account_key(Some(user), "");
    let attempt_id = core
        .db
        .write(move |conn| reserve_attempt(conn, &ip_key, &key))
        .await?;
    let ok = core
        .passwords
        .verify(password_text, Some(user.password_hash.clone()))
        .await?;
    let user_id = user.id;
    core.db
        .write(move |conn| {
            if ok {
                login_failure::delete(conn, attempt_id)?;
            } else {
                audit::record(conn, Some(user_id), "password.confirm_failed", "", None)?;
            }
            Ok(())
        })
        .await?;
    if ok {
        Ok(())
    } else {
        let mut e = FieldErrors::default();
        e.add(field, "error.current_password_wrong");
        Err(AppError::Invalid(e))
    }
}

/// Ends one session.
pub fn logout(conn: &mut DbConn, token_hash: &str) -> AppResult<()> {
    session::delete_by_hash(conn, token_hash)?;
    Ok(())
}

/// Ends every session of a user except the current one; returns how many were ended.
pub fn logout_others(conn: &mut DbConn, user_id: i64, keep_hash: &str) -> AppResult<usize> {
    let n = session::delete_for_user(conn, user_id, Some(keep_hash))?;
    audit::record(conn, Some(user_id), "logout.others", &n.to_string(), None)?;
    Ok(n)
}

/// Starts a password reset: queues a mail with a one-hour, single-use link if the address belongs to an
/// enabled account. The caller shows the same page either way (no account enumeration).
pub fn request_reset(core: &Core, conn: &mut DbConn, email: &str, ip: &str) -> AppResult<()> {
    let Some(u) = user::find_by_email(conn, email.trim())? else {
        audit::record(conn, None, "password.reset_unknown", "", Some(ip))?;
        return Ok(());
    };
    if u.disabled {
        return Ok(());
    }
    send_reset_mail(core, conn, &u)
}

/// Which mail carries a link to choose a password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordLink {
    /// "Forgot my password" or an admin's reset: the link works for an hour.
    Reset,
    /// A new account (created by an admin or imported): a welcome that works for a week.
    Welcome,
}

/// Issues a reset token for `u` and queues the mail (also used by the admin's "reset password").
pub fn send_reset_mail(core: &Core, conn: &mut DbConn, u: &User) -> AppResult<()> {
    send_password_link(core, conn, u, PasswordLink::Reset)
}

/// Issues a single-use password link for `u` and queues the mail of that kind.
pub fn send_password_link(
    core: &Core,
    conn: &mut DbConn,
    u: &User,
    kind: PasswordLink,
) -> AppResult<()> {
    let at = now();
    if password_reset::count_since(conn, u.id, at - Duration::hours(1))? >= RESET_MAILS_PER_HOUR {
        return Ok(());
    }
    let ttl = match kind {
        PasswordLink::Reset => Duration::minutes(RESET_TTL_MINUTES),
        PasswordLink::Welcome => Duration::days(WELCOME_TTL_DAYS),
    };
    let token = new_token();
    password_reset::insert(conn, u.id, &hash_token(&token), at, at + ttl)?;
    let link = format!("{}/password/reset/{token}", core.config.base_url());
    let to = Recipient::from(u);
    match kind {
        PasswordLink::Reset => mail::queue(
            core,
            conn,
            &to,
            &emails::PasswordReset {
                login: &u.login,
                minutes: RESET_TTL_MINUTES,
                link: &link,
            },
        )?,
        PasswordLink::Welcome => mail::queue(
            core,
            conn,
            &to,
            &emails::Welcome {
                login: &u.login,
                days: WELCOME_TTL_DAYS,
                link: &link,
            },
        )?,
    }
    audit::record(conn, Some(u.id), "password.link_sent", &u.login, None)?;
    Ok(())
}

/// Why a reset link cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetProblem {
    /// No such token (or garbage).
    Unknown,
    /// Older than an hour.
    Expired,
    /// Already used (or superseded by a later reset).
    Used,
}

/// Checks a reset token; returns the account it belongs to.
pub fn check_reset_token(
    conn: &mut DbConn,
    token: &str,
    at: NaiveDateTime,
) -> AppResult<Result<User, ResetProblem>> {
    if !looks_like_token(token) {
        return Ok(Err(ResetProblem::Unknown));
    }
    let Some(r) = password_reset::find_by_hash(conn, &hash_token(token))? else {
        return Ok(Err(ResetProblem::Unknown));
    };
    if r.used_at.is_some() {
        return Ok(Err(ResetProblem::Used));
    }
    if r.expires_at <= at {
        return Ok(Err(ResetProblem::Expired));
    }
    let u = user::find(conn, r.user_id)?;
    if u.disabled {
        return Ok(Err(ResetProblem::Unknown));
    }
    Ok(Ok(u))
}

/// Checks a reset link now (the form's page shows why it cannot be used).
pub fn check_reset_link(conn: &mut DbConn, token: &str) -> AppResult<Result<User, ResetProblem>> {
    check_reset_token(conn, token, now())
}

/// The reset form's use case: the link is checked, the new password pair validated (a refused
/// pair comes back as `Invalid`), hashed off the database, and set (`complete_reset`).
pub async fn reset_password(
    core: &Core,
    token: String,
    password_text: String,
    confirm: String,
) -> AppResult<Result<FormOutcome<()>, ResetProblem>> {
    let t = token.clone();
    let user = match core.db.read(move |conn| check_reset_link(conn, &t)).await? {
        Ok(u) => u,
        Err(p) => return Ok(Err(p)),
    };
    let checked = check_new_password(&password_text, &confirm, &password::Owner::of(&user));
    if let FormOutcome::Invalid { errors, page } = FormOutcome::of(checked, ())? {
        return Ok(Ok(FormOutcome::Invalid { errors, page }));
    }
    let hash = core.passwords.hash(password_text).await?;
    let done = core
        .db
        .write(move |conn| complete_reset(conn, &token, &hash))
        .await?;
    Ok(done.map(|_| FormOutcome::Saved(())))
}

/// Sets a new password through a reset link: the token is spent, every session of the account ends.
pub fn complete_reset(
    conn: &mut DbConn,
    token: &str,
    new_hash: &str,
) -> AppResult<Result<User, ResetProblem>> {
    let at = now();
    let u = match check_reset_token(conn, token, at)? {
        Ok(u) => u,
        Err(p) => return Ok(Err(p)),
    };
    user::set_password_hash(conn, u.id, new_hash)?;
    password_was_set(conn, u.id, None)?;
    audit::record(conn, Some(u.id), "password.reset_done", &u.login, None)?;
    Ok(Ok(u))
}

/// What follows every new password of an account, however it was set (`/me`, a reset link, the
/// CLI): its password links and pending email changes die (whoever had them may be who the owner is
/// locking out), and every session ends except `keep` (the one that made the change).
pub fn password_was_set(conn: &mut DbConn, user_id: i64, keep: Option<&str>) -> AppResult<()> {
    let at = now();
    password_reset::use_all_for_user(conn, user_id, at)?;
    email_change::cancel_all_for_user(conn, user_id, at)?;
    session::delete_for_user(conn, user_id, keep)?;
    Ok(())
}

/// Validates a new password pair (`password`, `password_confirm`) for the account `owner`.
pub fn check_new_password(
    password_text: &str,
    confirm: &str,
    owner: &password::Owner<'_>,
) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    password::check_policy(password_text, owner, "password", &mut errors);
    if password_text != confirm {
        errors.add("password_confirm", "error.password_mismatch");
    }
    errors.into_result()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_is_limited_per_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_key(a), ip_key(b));
        assert_ne!(ip_key(a), ip_key(c));
        assert_eq!(ip_key("192.0.2.7".parse().unwrap()), "192.0.2.7");
        assert_eq!(ip_key("::ffff:192.0.2.7".parse().unwrap()), "192.0.2.7");
    }
}
