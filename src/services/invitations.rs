//! Invitations by email (招待): a room manager invites an address with a role; the link works once,
//! for seven days, and lets someone without an account create one and land in the room.

use chrono::{Duration, NaiveDateTime};

use super::authz::{RoomAction, RoomRole, authorize_invitation};
use super::form::FormOutcome;
use super::mail::{self, Recipient, emails};
use super::token::{hash_token, looks_like_token, new_token};
use super::{Actor, Core};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Lang;
/// An invitation as the members page lists it.
pub use crate::models::invitation::Invitation;
use crate::models::invitation::{self, NewInvitation};
use crate::models::user::SiteRole;
use crate::models::{audit, now, room, user};

/// How long an invitation link works.
pub const INVITATION_DAYS: i64 = 7;

/// Invites `email` into a room with `role` and mails the link (room managers).
pub fn invite(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    email: &str,
    role: &str,
) -> AppResult<()> {
    let ctx = super::rooms::load_for(conn, Some(actor), slug, RoomAction::Manage)?;
    let email = email.trim();
    let mut e = FieldErrors::default();
    if !super::account::valid_email(email) {
        e.add("email", "error.email_format");
    }
    let role = RoomRole::parse(role);
    if role.is_none() {
        e.add("role", "error.invalid_choice");
    }
    if let Some(existing) = user::find_by_email(conn, email)?
        && room::role_in(conn, ctx.room.id, existing.id)?.is_some()
    {
        e.add("email", "room.already_member");
    }
    e.into_result()?;
    let Some(role) = role else {
        return Err(AppError::Invalid(FieldErrors::default()));
    };
    let token = new_token();
    let at = now();
    invitation::insert(
        conn,
        &NewInvitation {
            room_id: ctx.room.id,
            email,
            role: role.as_str(),
            token_hash: &hash_token(&token),
            invited_by: actor.id,
            created_at: at,
            expires_at: at + Duration::days(INVITATION_DAYS),
        },
    )?;
    let inviter = user::find(conn, actor.id)?;
    // The address may have no account yet; when one has it, the mail is in that account's language.
    let lang = Lang::of_account(
        user::find_by_email(conn, email)?
            .and_then(|u| u.language)
            .as_deref(),
    );
    mail::queue(
        core,
        conn,
        &Recipient::address(email, lang),
        &emails::RoomInvitation {
            who: &inviter.display_name,
            room: &ctx.room.name,
            link: &format!("{}/invite/{token}", core.config.base_url()),
            days: INVITATION_DAYS,
        },
    )?;
    audit::record(
        conn,
        Some(actor.id),
        "room.invited",
        &format!("{} {}", ctx.room.slug, role.as_str()),
        None,
    )?;
    Ok(())
}

/// What an invitation link leads to.
#[derive(Debug, Clone)]
pub enum InviteCheck {
    /// Usable: the invitation, its room's slug and name, and whether an account has its address.
    Open {
        /// The invitation.
        invitation: Box<Invitation>,
        /// The room's slug.
        room_slug: String,
        /// The room's name.
        room_name: String,
        /// An account with the invited address exists (log in to accept).
        account_exists: bool,
        /// The logged-in visitor owns the invited address and may accept (`false` without one).
        for_actor: bool,
    },
    /// Unknown token (or garbage).
    Invalid,
    /// Older than seven days.
    Expired,
    /// Used already.
    Used,
}

/// Checks an invitation token, and whether the logged-in `actor` (if any) may accept it.
pub fn check(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    token: &str,
    at: NaiveDateTime,
) -> AppResult<InviteCheck> {
    if !looks_like_token(token) {
        return Ok(InviteCheck::Invalid);
    }
    let Some((inv, room_slug, room_name)) = invitation::find_by_hash(conn, &hash_token(token))?
    else {
        return Ok(InviteCheck::Invalid);
    };
    if inv.accepted_at.is_some() {
        return Ok(InviteCheck::Used);
    }
    if inv.expires_at <= at {
        return Ok(InviteCheck::Expired);
    }
    let account_exists = user::find_by_email(conn, &inv.email)?.is_some();
    let for_actor = match actor {
        Some(a) => {
            let own = super::reachability::proven_addresses(conn, a.id)?;
            authorize_invitation(&own, &inv.email).is_ok()
        }
        None => false,
    };
    Ok(InviteCheck::Open {
        invitation: Box::new(inv),
        room_slug,
        room_name,
        account_exists,
        for_actor,
    })
}

/// Checks an invitation link now (its page).
pub fn check_link(conn: &mut DbConn, actor: Option<&Actor>, token: &str) -> AppResult<InviteCheck> {
    check(conn, actor, token, now())
}

fn open_invitation(conn: &mut DbConn, token: &str) -> AppResult<(Invitation, String)> {
    usable(check(conn, None, token, now())?)
}

/// The invitation and its room's slug, when the link may be used.
fn usable(check: InviteCheck) -> AppResult<(Invitation, String)> {
    match check {
        InviteCheck::Open {
            invitation,
            room_slug,
            ..
        } => Ok((*invitation, room_slug)),
        InviteCheck::Used => Err(AppError::Conflict("invite.used")),
        InviteCheck::Expired => Err(AppError::Conflict("invite.expired")),
        InviteCheck::Invalid => Err(AppError::NotFound),
    }
}

/// Spends the invitation for `user_id`, then gives them its role. The claim comes first and is
/// conditional, so a second accept running at the same time fails before it changes anything.
fn join_with(conn: &mut DbConn, inv: &Invitation, user_id: i64) -> AppResult<()> {
    if !invitation::accept(conn, inv.id, user_id, now())? {
        return Err(AppError::Conflict("invite.used"));
    }
    let role = inv.role;
    // Someone already in the room keeps the higher of the two roles.
    let current = room::role_in(conn, inv.room_id, user_id)?;
    let role = current.map_or(role, |c| c.max(role));
    room::set_member(conn, inv.room_id, user_id, role, now())?;
    Ok(())
}

/// Accepts an invitation as the logged-in account, which must own the invited address; returns the
/// room's slug.
pub fn accept(conn: &mut DbConn, actor: &Actor, token: &str) -> AppResult<String> {
    let (inv, slug) = open_invitation(conn, token)?;
    let own = super::reachability::proven_addresses(conn, actor.id)?;
    authorize_invitation(&own, &inv.email)?;
    join_with(conn, &inv, actor.id)?;
    audit::record(
        conn,
        Some(actor.id),
        "room.invitation_accepted",
        &slug,
        None,
    )?;
    Ok(slug)
}

/// The form of someone without an account.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct SignupForm {
    pub login: String,
    pub display_name: String,
    pub password: String,
    pub password_confirm: String,
}

/// Creates an account for the invited address (the link proves it), joins the room and logs in;
/// returns the session token and the room's slug. A refused form comes back with the link as
/// `visitor` sees it (`check`), for its page.
pub async fn signup(
    core: &Core,
    visitor: Option<Actor>,
    token: String,
    form: SignupForm,
) -> AppResult<FormOutcome<(String, String), InviteCheck>> {
    let login = form.login.trim().to_lowercase();
    let t = token.clone();
    let page = core
        .db
        .read(move |conn| check(conn, visitor.as_ref(), &t, now()))
        .await?;
    let (inv, _) = usable(page.clone())?;
    let owner = super::password::Owner {
        login: &login,
        display_name: &form.display_name,
        email: &inv.email,
    };
    let checked = super::auth::check_new_password(&form.password, &form.password_confirm, &owner);
    if let Err(e) = checked {
        return FormOutcome::of(Err(e), page);
    }
    let hash = core.passwords.hash(form.password).await?;
    let written = core
        .db
        .write(move |conn| {
            let (inv, slug) = open_invitation(conn, &token)?;
            if user::find_by_email(conn, &inv.email)?.is_some() {
                return Err(AppError::Conflict("invite.log_in_instead"));
            }
            let account = super::account::NewAccount {
                login,
                email: inv.email.clone(),
                display_name: form.display_name.trim().to_owned(),
                role: SiteRole::Member,
                language: None,
            };
            let u = super::account::insert_account(conn, &account, &hash)?;
            join_with(conn, &inv, u.id)?;
            // The link came to this mailbox: the new account's email is verified from the start.
            super::reachability::verify_without_mail(conn, u.id, &inv.email)?;
            audit::record(conn, Some(u.id), "room.invitation_signup", &slug, None)?;
            let session = super::auth::start_session(conn, u.id)?;
            Ok((session, slug))
        })
        .await;
    FormOutcome::of(written, page)
}
