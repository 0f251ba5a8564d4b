//! Creating accounts and the profile page (`/me`): display name, language, email (confirmed by a
//! link mailed to the new address), password.

use chrono::{Duration, NaiveDateTime};

use super::authz::{Action, authorize, authorize_address_link};
use super::mail::{self, Recipient, emails};
use super::token::{hash_token, looks_like_token, new_token};
use super::{Actor, Core, password, zones};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Lang;
use crate::models::contact::address_key;
use crate::models::email_change::{self, EmailChange, NewEmailChange};
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

/// The account with this login, as the one acting (for the command line, which acts as a named
/// account the way a session would).
pub fn actor_by_login(conn: &mut DbConn, login: &str) -> AppResult<Actor> {
    Ok(Actor::from(&user::find_by_login(conn, login)?))
}

/// The account with this login (`NotFound` when there is none).
pub fn user_by_login(conn: &mut DbConn, login: &str) -> AppResult<User> {
    Ok(user::find_by_login(conn, login)?)
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

/// How long the link confirming a new email works.
pub const EMAIL_CHANGE_HOURS: i64 = 24;
/// Email changes one account may ask for per hour: each one mails an address the requester typed.
pub const EMAIL_CHANGES_PER_HOUR: i64 = 5;

/// The profile form. `current_password` is needed only when the email changes.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ProfileForm {
    pub display_name: String,
    pub email: String,
    #[serde(default)]
    pub language: String,
    /// An IANA zone from `zones::groups`; empty: the site's (stored as NULL).
    #[serde(default)]
    pub timezone: String,
    #[serde(default)]
    pub current_password: String,
}

/// What saving the profile did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileSaved {
    /// Name, language and time zone saved.
    Saved,
    /// Saved, and a link to confirm the new email was mailed to it (the email itself is unchanged).
    EmailConfirmationSent,
}

/// The session a change is made from: it stays, every other session of the account ends.
#[derive(Debug, Clone)]
pub struct FromSession {
    /// SHA-256 of the session's cookie token.
    pub token_hash: String,
    /// `auth::ip_key` of the client (a wrong current password counts against the login limits).
    pub ip_key: String,
}

/// Saves the profile of `user`. A new email is not saved here: whoever holds a session must also
/// know the current password (checked under the login limits), the new address must prove itself
/// by a link mailed to it, and the old address is told. Everything else saves at once.
pub async fn update_profile(
    core: &Core,
    user: &User,
    from: FromSession,
    form: ProfileForm,
) -> AppResult<ProfileSaved> {
    authorize(Some(&Actor::from(user)), Action::EditOwnProfile)?;
    let mut errors = FieldErrors::default();
    let display_name = form.display_name.trim().to_owned();
    let email = form.email.trim().to_owned();
    if !valid_display_name(&display_name) {
        errors.add("display_name", "error.display_name_format");
    }
    let language = if form.language.is_empty() {
        None
    } else if let Some(l) = Lang::parse(&form.language) {
        Some(l.code())
    } else {
        errors.add("language", "error.invalid_choice");
        None
    };
    let timezone = if let Ok(zone) = zones::parse_choice(&form.timezone) {
        zone.map(chrono_tz::Tz::name)
    } else {
        errors.add("timezone", "error.invalid_timezone");
        None
    };
    // The same mailbox written differently (case, spaces) is no change of address.
    let new_email = address_key(&email) != address_key(&user.email);
    if !valid_email(&email) {
        errors.add("email", "error.email_format");
    } else if new_email && form.current_password.is_empty() {
        // Its own field name: `/me` shows this form beside the password form.
        errors.add("email_password", "error.current_password_needed");
    }
    errors.into_result()?;
    if new_email {
        super::auth::confirm_password(
            core,
            user,
            form.current_password,
            from.ip_key,
            "email_password",
        )
        .await?;
        // Only once the password is right: before it, a stolen session could ask `/me` which
        // addresses have accounts here.
        let (uid, e) = (user.id, email.clone());
        if core
            .db
            .read(move |conn| Ok(user::email_taken(conn, &e, Some(uid))?))
            .await?
        {
            let mut taken = FieldErrors::default();
            taken.add("email", "error.email_taken");
            return Err(AppError::Invalid(taken));
        }
    }
    let (core2, u) = (core.clone(), user.clone());
    core.db
        .write(move |conn| {
            user::update_profile(
                conn,
                u.id,
                &ProfileChanges {
                    display_name: &display_name,
                    email: if new_email { &u.email } else { &email },
                    language,
                    timezone,
                    updated_at: now(),
                },
            )?;
            audit::record(conn, Some(u.id), "profile.updated", "", None)?;
            if !new_email {
                return Ok(ProfileSaved::Saved);
            }
            request_email_change(&core2, conn, &u, &email, &from.token_hash)?;
            Ok(ProfileSaved::EmailConfirmationSent)
        })
        .await
}

/// Mails a confirmation link to `new_email` and a notice to the account's current email. Like a
/// password change, it ends the account's other sessions (an attacker's, or the owner's if the
/// attacker is the one here: either way the owner learns it from the notice) and kills its
/// outstanding password links.
fn request_email_change(
    core: &Core,
    conn: &mut DbConn,
    u: &User,
    new_email: &str,
    keep_session_hash: &str,
) -> AppResult<()> {
    let at = now();
    if email_change::count_since(conn, u.id, at - Duration::hours(1))? >= EMAIL_CHANGES_PER_HOUR {
        return Err(AppError::RateLimited("me.too_many_email_changes"));
    }
    email_change::cancel_all_for_user(conn, u.id, at)?;
    let token = new_token();
    email_change::insert(
        conn,
        &NewEmailChange {
            user_id: u.id,
            new_email,
            token_hash: &hash_token(&token),
            created_at: at,
            expires_at: at + Duration::hours(EMAIL_CHANGE_HOURS),
        },
    )?;
    let to = Recipient::from(u);
    let confirm = format!("{}/email/confirm/{token}", core.config.base_url());
    mail::queue(
        core,
        conn,
        &to.clone().at(new_email),
        &emails::EmailChangeConfirm {
            login: &u.login,
            new_email,
            hours: EMAIL_CHANGE_HOURS,
            link: &confirm,
        },
    )?;
    mail::queue(
        core,
        conn,
        &to,
        &emails::EmailChangeNotice {
            login: &u.login,
            new_email,
            hours: EMAIL_CHANGE_HOURS,
        },
    )?;
    password_reset::use_all_for_user(conn, u.id, at)?;
    session::delete_for_user(conn, u.id, Some(keep_session_hash))?;
    audit::record(conn, Some(u.id), "email.change_requested", "", None)?;
    Ok(())
}

/// Why a link confirming a new email cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailLinkProblem {
    /// Unknown token or garbage.
    Invalid,
    /// Older than `EMAIL_CHANGE_HOURS`.
    Expired,
    /// Used, superseded by a newer request, or cancelled by a password change.
    Used,
    /// The visitor is logged in as another account.
    OtherAccount,
    /// Another account took the address meanwhile.
    Taken,
}

impl EmailLinkProblem {
    /// The i18n key of the message.
    pub fn message_key(self) -> &'static str {
        match self {
            Self::Invalid => "email_change.link_invalid",
            Self::Expired => "email_change.link_expired",
            Self::Used => "email_change.link_used",
            Self::OtherAccount => "reach.link_other_account",
            Self::Taken => "error.email_taken",
        }
    }
}

fn open_email_link(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    token: &str,
    at: NaiveDateTime,
) -> AppResult<Result<EmailChange, EmailLinkProblem>> {
    if !looks_like_token(token) {
        return Ok(Err(EmailLinkProblem::Invalid));
    }
    let Some(row) = email_change::find_by_hash(conn, &hash_token(token))? else {
        return Ok(Err(EmailLinkProblem::Invalid));
    };
    if row.used_at.is_some() {
        return Ok(Err(EmailLinkProblem::Used));
    }
    if row.expires_at <= at {
        return Ok(Err(EmailLinkProblem::Expired));
    }
    if user::find(conn, row.user_id)?.disabled {
        return Ok(Err(EmailLinkProblem::Invalid));
    }
    if authorize_address_link(actor, row.user_id).is_err() {
        return Ok(Err(EmailLinkProblem::OtherAccount));
    }
    if user::email_taken(conn, &row.new_email, Some(row.user_id))? {
        return Ok(Err(EmailLinkProblem::Taken));
    }
    Ok(Ok(row))
}

/// What a confirmation link would do: the new address, or why it cannot be used. Changes nothing.
pub fn check_email_link(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    token: &str,
) -> AppResult<Result<String, EmailLinkProblem>> {
    Ok(open_email_link(conn, actor, token, now())?.map(|row| row.new_email))
}

/// Uses a confirmation link: the new address becomes the account's email (and counts as verified:
/// its mailbox just proved itself). Password links sent to the old address die. Works without a
/// login, like every link that proves a mailbox; returns the new address.
pub fn confirm_email_change(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    token: &str,
) -> AppResult<Result<String, EmailLinkProblem>> {
    let at = now();
    let row = match open_email_link(conn, actor, token, at)? {
        Ok(row) => row,
        Err(problem) => return Ok(Err(problem)),
    };
    if !email_change::use_one(conn, row.id, at)? {
        return Ok(Err(EmailLinkProblem::Used));
    }
    user::set_email(conn, row.user_id, &row.new_email)?;
    email_change::cancel_all_for_user(conn, row.user_id, at)?;
    password_reset::use_all_for_user(conn, row.user_id, at)?;
    super::reachability::verify_without_mail(conn, row.user_id, &row.new_email)?;
    audit::record(conn, Some(row.user_id), "email.changed", "", None)?;
    Ok(Ok(row.new_email))
}

/// The change-password form.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct PasswordForm {
    pub current_password: String,
    pub password: String,
    pub password_confirm: String,
}

/// Changes the password after checking the current one (under the login limits). Every other
/// session of the account ends, its password links and pending email changes die, and its email
/// is told.
pub async fn change_password(
    core: &Core,
    user: &User,
    from: FromSession,
    form: PasswordForm,
) -> AppResult<()> {
    super::auth::check_new_password(
        &form.password,
        &form.password_confirm,
        &password::Owner::of(user),
    )?;
    super::auth::confirm_password(
        core,
        user,
        form.current_password,
        from.ip_key,
        "current_password",
    )
    .await?;
    let hash = core.passwords.hash(form.password).await?;
    let (core2, u) = (core.clone(), user.clone());
    core.db
        .write(move |conn| {
            user::set_password_hash(conn, u.id, &hash)?;
            super::auth::password_was_set(conn, u.id, Some(&from.token_hash))?;
            mail::queue(
                &core2,
                conn,
                &Recipient::from(&u),
                &emails::PasswordChanged { login: &u.login },
            )?;
            audit::record(conn, Some(u.id), "password.changed", "", None)?;
            Ok(())
        })
        .await
}

/// A password nobody knows (accounts created without one get a reset link instead).
pub fn unusable_password_hash() -> anyhow::Result<String> {
    password::hash_now(&new_token())
}
