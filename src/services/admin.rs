//! The admin panel's use cases: members (create, disable, role, reset password) and the audit log.
//! Every function checks `authorize(.., Administer)` first.

use super::authz::{Action, authorize};
use super::{Actor, Core};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Lang;
use crate::models::audit;
/// An audit log line as the admin page shows it.
pub use crate::models::audit::AuditEntry;
use crate::models::session;
/// The site roles an admin gives (stored on the account).
pub use crate::models::user::SiteRole;
use crate::models::user::{self, User};

/// Page size of admin lists.
pub const PAGE_SIZE: i64 = 50;

/// One page of members and the total.
pub fn list_members(conn: &mut DbConn, actor: &Actor, page: i64) -> AppResult<(Vec<User>, i64)> {
    authorize(Some(actor), Action::Administer)?;
    let total = user::count(conn)?;
    let rows = user::list(conn, (page - 1).max(0) * PAGE_SIZE, PAGE_SIZE)?;
    Ok((rows, total))
}

/// One page of the audit log and the total.
pub fn list_audit(
    conn: &mut DbConn,
    actor: &Actor,
    page: i64,
) -> AppResult<(Vec<AuditEntry>, i64)> {
    authorize(Some(actor), Action::Administer)?;
    let total = audit::count(conn)?;
    let rows = audit::list(conn, (page - 1).max(0) * PAGE_SIZE, PAGE_SIZE)?;
    Ok((rows, total))
}

/// The "new member" form.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewMemberForm {
    pub login: String,
    pub email: String,
    pub display_name: String,
    pub role: String,
    /// Empty: the member gets a mail with a link to choose a password.
    #[serde(default)]
    pub password: String,
}

/// Creates a member; with no password given, mails them a link to set one.
pub async fn create_member(
    core: &Core,
    actor: &Actor,
    form: NewMemberForm,
    ip: String,
) -> AppResult<User> {
    authorize(Some(actor), Action::Administer)?;
    let login = form.login.trim().to_lowercase();
    let Some(role) = SiteRole::parse(&form.role) else {
        let mut e = FieldErrors::default();
        e.add("role", "error.invalid_choice");
        return Err(AppError::Invalid(e));
    };
    let send_link = form.password.is_empty();
    let hash = if send_link {
        super::account::unusable_password_hash()?
    } else {
        let owner = super::password::Owner {
            login: &login,
            display_name: &form.display_name,
            email: &form.email,
        };
        super::auth::check_new_password(&form.password, &form.password, &owner)?;
        core.passwords.hash(form.password).await?
    };
    let actor_id = actor.id;
    let core2 = core.clone();
    core.db
        .write(move |conn| {
            let account = super::account::NewAccount {
                login,
                email: form.email.trim().to_owned(),
                display_name: form.display_name.trim().to_owned(),
                role,
                language: None::<Lang>,
            };
            let u = super::account::insert_account(conn, &account, &hash)?;
            audit::record(conn, Some(actor_id), "member.created", &u.login, Some(&ip))?;
            if send_link {
                super::auth::send_password_link(
                    &core2,
                    conn,
                    &u,
                    super::auth::PasswordLink::Welcome,
                )?;
            }
            Ok(u)
        })
        .await
}

/// What an admin can do to one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberChange {
    /// Disable the account and end its sessions.
    Disable,
    /// Enable it again.
    Enable,
    /// Change the site role.
    Role(SiteRole),
    /// Mail a password-reset link.
    SendReset,
}

/// Applies a change to a member. An admin cannot disable or demote themselves, so the site always
/// keeps an administrator.
pub fn change_member(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    login: &str,
    change: MemberChange,
    ip: &str,
) -> AppResult<()> {
    authorize(Some(actor), Action::Administer)?;
    let target = user::find_by_login(conn, login)?;
    let self_change = target.id == actor.id;
    match change {
        MemberChange::Disable => {
            if self_change {
                return Err(AppError::Conflict("admin.cannot_change_self"));
            }
            user::set_disabled(conn, target.id, true)?;
            session::delete_for_user(conn, target.id, None)?;
            audit::record(
                conn,
                Some(actor.id),
                "member.disabled",
                &target.login,
                Some(ip),
            )?;
        }
        MemberChange::Enable => {
            user::set_disabled(conn, target.id, false)?;
            audit::record(
                conn,
                Some(actor.id),
                "member.enabled",
                &target.login,
                Some(ip),
            )?;
        }
        MemberChange::Role(role) => {
            if self_change && role != SiteRole::Admin {
                return Err(AppError::Conflict("admin.cannot_change_self"));
            }
            user::set_role(conn, target.id, role)?;
            // A changed role takes effect at once: the member logs in again with the new rights.
            session::delete_for_user(conn, target.id, None)?;
            audit::record(
                conn,
                Some(actor.id),
                "member.role_changed",
                &format!("{} → {}", target.login, role.as_str()),
                Some(ip),
            )?;
        }
        MemberChange::SendReset => {
            super::auth::send_reset_mail(core, conn, &target)?;
            audit::record(
                conn,
                Some(actor.id),
                "member.reset_sent",
                &target.login,
                Some(ip),
            )?;
        }
    }
    Ok(())
}

/// Saves the site settings.
pub fn save_settings(
    conn: &mut DbConn,
    actor: &Actor,
    form: &super::site::SettingsForm,
    ip: &str,
) -> AppResult<()> {
    authorize(Some(actor), Action::Administer)?;
    super::site::save(conn, form)?;
    audit::record(conn, Some(actor.id), "settings.updated", "", Some(ip))?;
    Ok(())
}

/// Where a new site stands on the first steps an admin takes (the admin overview offers each
/// step that is not done yet, with its link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "one independent yes/no per step the page lists"
)]
pub struct FirstSteps {
    /// The site has a name of its own (not the default "Yui").
    pub site_named: bool,
    /// The public blog has a post.
    pub first_post: bool,
    /// A room for a group exists (the public space and private rooms do not count).
    pub first_room: bool,
    /// Someone besides the admins has an account, or an invitation is out.
    pub people: bool,
    /// Mail leaves the server (SMTP), instead of landing in `data/mail/`.
    pub mail: bool,
}

/// What the admin overview shows: the first steps, the backups and the site's settings (for
/// local times).
#[derive(Debug, Clone)]
pub struct Overview {
    /// The first steps.
    pub steps: FirstSteps,
    /// The last backup and the last verified restore.
    pub backups: super::backup::BackupStatus,
    /// The site's settings.
    pub site: super::site::SiteSettings,
    /// The backup schedule.
    pub schedule: super::backup::Schedule,
}

/// The admin overview's facts.
pub fn overview(conn: &mut DbConn, actor: &Actor, core: &Core) -> AppResult<Overview> {
    let steps = first_steps(conn, actor, core)?;
    Ok(Overview {
        steps,
        backups: super::backup::load_status(conn)?,
        site: super::site::load(conn)?,
        schedule: super::backup::load_schedule(conn)?,
    })
}

/// The first steps' state, for the admin overview.
pub fn first_steps(conn: &mut DbConn, actor: &Actor, core: &Core) -> AppResult<FirstSteps> {
    authorize(Some(actor), Action::Administer)?;
    let site = super::site::load(conn)?;
    let rooms = crate::models::room::list_all(conn)?;
    Ok(FirstSteps {
        site_named: site.title.trim() != super::site::SiteSettings::default().title,
        first_post: super::blog::post_count(conn)? > 0,
        first_room: rooms
            .iter()
            .any(|r| r.space == crate::db::types::Space::Community),
        people: user::count(conn)? > user::count_active_admins(conn)?
            || crate::models::invitation::any_open(conn, crate::models::now())?,
        mail: core.config.mail.transport == crate::config::MailTransport::Smtp,
    })
}
