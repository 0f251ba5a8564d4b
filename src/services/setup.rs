//! First run: with no administrator, `serve` prints a one-time `/setup?token=…` URL that creates the
//! first admin. There is no default account, ever.

use chrono::{Duration, NaiveDateTime};

use super::Core;
use super::account::{NewAccount, insert_account};
use super::token::{hash_token, looks_like_token, new_token, same_secret};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Lang;
use crate::models::user::SiteRole;
use crate::models::{audit, now, setting, user};

const TOKEN_KEY: &str = "setup.token_hash";
const EXPIRY_KEY: &str = "setup.expires_at";
/// How long a printed setup URL works.
pub const SETUP_TTL_HOURS: i64 = 24;

/// Whether the site still needs its first administrator.
pub fn needed(conn: &mut DbConn) -> AppResult<bool> {
    Ok(!user::admin_exists(conn)?)
}

/// Issues a fresh setup token when no admin exists (each `serve` start prints a new one).
pub fn issue_token(conn: &mut DbConn) -> AppResult<Option<String>> {
    if !needed(conn)? {
        setting::delete(conn, TOKEN_KEY)?;
        setting::delete(conn, EXPIRY_KEY)?;
        return Ok(None);
    }
    let token = new_token();
    setting::set(conn, TOKEN_KEY, &hash_token(&token))?;
    let expires = now() + Duration::hours(SETUP_TTL_HOURS);
    setting::set(
        conn,
        EXPIRY_KEY,
        &expires.format("%Y-%m-%dT%H:%M:%S").to_string(),
    )?;
    Ok(Some(token))
}

/// Whether `token` is the current, unexpired setup token.
pub fn token_valid(conn: &mut DbConn, token: &str) -> AppResult<bool> {
    if !looks_like_token(token) || !needed(conn)? {
        return Ok(false);
    }
    let Some(stored) = setting::get(conn, TOKEN_KEY)? else {
        return Ok(false);
    };
    let expires = setting::get(conn, EXPIRY_KEY)?
        .and_then(|s| NaiveDateTime::parse_from_str(&s, "%Y-%m-%dT%H:%M:%S").ok());
    Ok(same_secret(&stored, &hash_token(token)) && expires.is_some_and(|e| e > now()))
}

/// What a setup link leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetupLink {
    /// The site has its administrator: there is no setup any more (404).
    Done,
    /// Not the current, unexpired token.
    Invalid,
    /// The form may be shown.
    Valid,
}

/// Checks a setup link.
pub fn check_link(conn: &mut DbConn, token: &str) -> AppResult<SetupLink> {
    Ok(if !needed(conn)? {
        SetupLink::Done
    } else if token_valid(conn, token)? {
        SetupLink::Valid
    } else {
        SetupLink::Invalid
    })
}

/// The setup form.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SetupForm {
    pub token: String,
    pub site_title: String,
    pub language: String,
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub password: String,
    pub password_confirm: String,
}

/// Creates the first administrator and logs them in; returns the session token.
pub async fn complete(core: &Core, form: SetupForm) -> AppResult<String> {
    let login = form.login.trim().to_lowercase();
    let language = Lang::parse(&form.language).unwrap_or_default();
    let owner = super::password::Owner {
        login: &login,
        display_name: &form.display_name,
        email: &form.email,
    };
    super::auth::check_new_password(&form.password, &form.password_confirm, &owner)?;
    let title = form.site_title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 100 {
        let mut e = FieldErrors::default();
        e.add("site_title", "error.title_length");
        return Err(AppError::Invalid(e));
    }
    let hash = core.passwords.hash(form.password).await?;
    core.db
        .write(move |conn| {
            if !token_valid(conn, &form.token)? {
                return Err(AppError::NotFound);
            }
            let account = NewAccount {
                login,
                email: form.email.trim().to_owned(),
                display_name: form.display_name.trim().to_owned(),
                role: SiteRole::Admin,
                language: Some(language),
            };
            let admin = insert_account(conn, &account, &hash)?;
            setting::set(conn, "site.title", &title)?;
            setting::set(conn, "site.language", language.code())?;
            setting::delete(conn, TOKEN_KEY)?;
            setting::delete(conn, EXPIRY_KEY)?;
            audit::record(conn, Some(admin.id), "setup.completed", &admin.login, None)?;
            super::auth::start_session(conn, admin.id)
        })
        .await
        .inspect(|_| {
            core.site_cache.invalidate();
            core.site_cache.mark_setup_done();
        })
}
