//! Creating accounts and the profile page (`/me`): display name, email, language, password.

use super::{Core, password};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Lang;
use crate::models::user::{self, NewUser, ProfileChanges, SiteRole, User};
use crate::models::{audit, now, password_reset, session};

/// Whether a login name is acceptable: 2–32 of `a-z 0-9 . _ -`, starting with a letter or digit.
pub fn valid_login(login: &str) -> bool {
    let len = login.len();
    (2..=32).contains(&len)
        && login.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
        && login
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
}

/// A plausible email address (the mail it receives is the real test).
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && email.len() <= 254
        && !email.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"')
        })
}

/// A display name: 1–80 characters, no control characters.
pub fn valid_display_name(name: &str) -> bool {
    let n = name.chars().count();
    (1..=80).contains(&n) && !name.chars().any(char::is_control)
}

/// What is needed to create an account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub role: SiteRole,
    pub language: Option<Lang>,
}

/// Validates the fields of a new account against the rules and existing accounts.
pub fn check_new_account(conn: &mut DbConn, a: &NewAccount) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    if !valid_login(&a.login) {
        errors.add("login", "error.login_format");
    } else if user::find_by_login_opt(conn, &a.login)?.is_some() {
        errors.add("login", "error.login_taken");
    }
    if !valid_email(&a.email) {
        errors.add("email", "error.email_format");
    } else if user::email_taken(conn, &a.email, None)? {
        errors.add("email", "error.email_taken");
    }
    if !valid_display_name(&a.display_name) {
        errors.add("display_name", "error.display_name_format");
    }
    errors.into_result()
}

/// Inserts a validated account with a ready password hash.
pub fn insert_account(conn: &mut DbConn, a: &NewAccount, password_hash: &str) -> AppResult<User> {
    check_new_account(conn, a)?;
    let at = now();
    Ok(user::insert(
        conn,
        &NewUser {
            login: &a.login,
            email: a.email.trim(),
            display_name: a.display_name.trim(),
            password_hash,
            site_role: a.role.as_str(),
            language: a.language.map(Lang::code),
            disabled: false,
            created_at: at,
            updated_at: at,
        },
    )?)
}

/// The profile form.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ProfileForm {
    pub display_name: String,
    pub email: String,
    #[serde(default)]
    pub language: String,
}

/// Saves the profile of `user_id`.
pub fn update_profile(conn: &mut DbConn, user_id: i64, form: &ProfileForm) -> AppResult<()> {
    let mut errors = FieldErrors::default();
    let display_name = form.display_name.trim();
    let email = form.email.trim();
    if !valid_display_name(display_name) {
        errors.add("display_name", "error.display_name_format");
    }
    if !valid_email(email) {
        errors.add("email", "error.email_format");
    } else if user::email_taken(conn, email, Some(user_id))? {
        errors.add("email", "error.email_taken");
    }
    let language = if form.language.is_empty() {
        None
    } else if let Some(l) = Lang::parse(&form.language) {
        Some(l.code())
    } else {
        errors.add("language", "error.invalid_choice");
        None
    };
    errors.into_result()?;
    user::update_profile(
        conn,
        user_id,
        &ProfileChanges {
            display_name,
            email,
            language,
            updated_at: now(),
        },
    )?;
    audit::record(conn, Some(user_id), "profile.updated", "", None)?;
    Ok(())
}

/// The change-password form.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PasswordForm {
    pub current_password: String,
    pub password: String,
    pub password_confirm: String,
}

/// Changes the password after checking the current one; every other session of the account ends.
pub async fn change_password(
    core: &Core,
    user: &User,
    keep_session_hash: String,
    form: PasswordForm,
) -> AppResult<()> {
    super::auth::check_new_password(&form.password, &form.password_confirm, &user.login)?;
    let ok = core
        .passwords
        .verify(form.current_password, Some(user.password_hash.clone()))
        .await?;
    if !ok {
        let mut e = FieldErrors::default();
        e.add("current_password", "error.current_password_wrong");
        return Err(AppError::Invalid(e));
    }
    let hash = core.passwords.hash(form.password).await?;
    let user_id = user.id;
    core.db
        .write(move |conn| {
            user::set_password_hash(conn, user_id, &hash)?;
            password_reset::use_all_for_user(conn, user_id, now())?;
            session::delete_for_user(conn, user_id, Some(&keep_session_hash))?;
            audit::record(conn, Some(user_id), "password.changed", "", None)?;
            Ok(())
        })
        .await
}

/// A password nobody knows (accounts created without one get a reset link instead).
pub fn unusable_password_hash() -> anyhow::Result<String> {
    password::hash_now(&super::token::new_token())
}
