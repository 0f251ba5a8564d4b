//! Events waiting for approval (承認, issue #12 item 1), the way room posts wait: in a room with
//! approval, an event saved by someone who may not publish there (`authz::content_waits`) is kept
//! waiting (承認待ち) and shown only to its author and to those who may approve it, in every view;
//! feeds and reminders carry only approved events. Approvers find it on `/inbox` with the waiting
//! posts and approve it (readers see it from then on) or send it back with a note (its author sees
//! it). Whoever decides, only one decision counts (`event::decide` changes only a waiting row).
//!
//! An edit by someone who needs approval puts the whole event (a series: every occurrence) back to
//! waiting, rather than keeping the approved version visible beside a waiting one: an event is one
//! row holding a rule, its changed occurrences and its reminders, and a second, waiting copy of all
//! of that would need revisions of rules and occurrences that nothing else reads. Readers then miss
//! it until it is approved again, which is what approval asks for: nothing they see has changed
//! without an approver's look. Deleting an event that readers were shown in a room with approval
//! needs publish rights (`ever_published`), as for posts; in a room without approval anyone who
//! may write publishes, so there an author still deletes their own events.
//!
//! Facility reservations (施設予約) do not wait for the room's approval: they have their own, by the
//! facility's managers (仮予約, `facilities::PENDING`), and hold their slot from the moment they are
//! asked for, so that a second teacher cannot take the gym while the first one's booking waits for
//! someone to look at it. A reservation is changed only through the booking screen, never here.

use std::collections::HashSet;

use super::{Event, ensure_calendar};
use crate::db::DbConn;
use crate::db::types::EventId;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::event;
/// An inbox row (named through this service, never through `models`).
pub use crate::models::event::WaitingEvent;
use crate::models::{audit, now, room, user};
use crate::services::authz::{self, RoomAction, RoomRole, authorize_room};
use crate::services::mail::{self, Recipient, emails};
use crate::services::rooms::{self, RoomCtx};
use crate::services::{Actor, Core};

/// Whether what `actor` saves in this room's calendar waits for approval.
pub fn waits(actor: &Actor, ctx: &RoomCtx) -> bool {
    authz::content_waits(actor, &ctx.access, ctx.room.need_approval)
}

/// Whether `actor` sees `ev`: every reader sees an approved event; one waiting or sent back only
/// its author and those who may approve it.
pub fn may_see(actor: Option<&Actor>, ctx: &RoomCtx, ev: &Event) -> bool {
    ev.is_published()
        || actor.is_some_and(|a| {
            authorize_room(
                Some(a),
                &ctx.access,
                RoomAction::SeeWaiting {
                    own: ev.created_by == a.id,
                },
            )
            .is_ok()
        })
}

/// After an event was saved by `actor` (`was_published`: readers saw it before this save; a new
/// one is): when their saves wait here, it waits and the approvers are mailed; otherwise it is
/// shown, and in a room with approval counts as published from now on. Returns whether it waits.
pub(super) fn after_save(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &RoomCtx,
    id: EventId,
    was_published: bool,
) -> AppResult<bool> {
    if waits(actor, ctx) {
        event::set_waiting(conn, id, now())?;
        let ev = event::find_in_room(conn, ctx.room.id, id)?;
        notify_approvers(core, conn, ctx, actor, &ev.title)?;
        return Ok(true);
    }
    if ctx.room.need_approval || !was_published {
        event::set_published(conn, id, ctx.room.need_approval, now())?;
    }
    Ok(false)
}

/// Approves (publishes) a waiting event: readers see it from now on.
pub fn approve(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
) -> AppResult<()> {
    decide(core, conn, actor, slug, id, None)
}

/// Sends a waiting event back to its author with a note (差し戻し).
pub fn send_back(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
    note: &str,
) -> AppResult<()> {
    let note = note.trim();
    if note.is_empty() || note.chars().count() > 2000 {
        let mut e = FieldErrors::default();
        e.add("note", "post.note_required");
        return Err(AppError::Invalid(e));
    }
    decide(core, conn, actor, slug, id, Some(note))
}

fn decide(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
    note: Option<&str>,
) -> AppResult<()> {
    // Only those who may approve in this very room: an approver of another room is refused (404)
    // whatever id they send.
    let ctx = rooms::load_for(conn, Some(actor), slug, RoomAction::Publish)?;
    let ev = event::find_in_room(conn, ctx.room.id, id)?;
    if !event::decide(conn, id, note, now())? {
        // Already decided (by another approver a moment ago, or never waiting).
        return Err(AppError::Conflict("calendar.already_decided"));
    }
    notify_author(core, conn, &ctx, &ev, note)?;
    let what = if note.is_some() {
        "event.sent_back"
    } else {
        "event.approved"
    };
    audit::record(
        conn,
        Some(actor.id),
        what,
        &format!("{} #{id}", ctx.room.slug),
        None,
    )?;
    Ok(())
}

/// The approvals inbox's events: every waiting event the actor may approve, across rooms.
pub fn inbox(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<WaitingEvent>> {
    let waiting = event::waiting(conn)?;
    if waiting.is_empty() {
        return Ok(waiting);
    }
    let rooms: HashSet<i64> = waiting.iter().map(|w| w.event.room_id).collect();
    let approves: HashSet<i64> = rooms::readable_many(conn, actor, |r| rooms.contains(&r.id))?
        .into_iter()
        .filter(|ctx| authorize_room(Some(actor), &ctx.access, RoomAction::Publish).is_ok())
        .map(|ctx| ctx.room.id)
        .collect();
    Ok(waiting
        .into_iter()
        .filter(|w| approves.contains(&w.event.room_id))
        .collect())
}

/// Mails everyone in the room who may approve that an event waits (the site admins where no
/// member may, as for posts), but not the one who saved it.
pub(super) fn notify_approvers(
    core: &Core,
    conn: &mut DbConn,
    ctx: &RoomCtx,
    actor: &Actor,
    title: &str,
) -> AppResult<()> {
    let who = user::find(conn, actor.id)?.display_name;
    let link = format!("{}/inbox", core.config.base_url());
    let contacts = room::contacts(conn, ctx.room.id)?;
    let roles: Vec<(i64, RoomRole)> = contacts.iter().map(|m| (m.user_id, m.role)).collect();
    let approvers: Vec<(i64, String, String, Option<String>)> =
        match authz::approvers(&ctx.access, &roles) {
            authz::Approvers::Members(ids) => contacts
                .into_iter()
                .filter(|m| ids.contains(&m.user_id))
                .map(|m| (m.user_id, m.email, m.display_name, m.language))
                .collect(),
            authz::Approvers::SiteAdmins => user::active_admins(conn)?
                .into_iter()
                .map(|u| (u.id, u.email, u.display_name, u.language))
                .collect(),
        };
    for (user_id, email, display_name, language) in approvers {
        if user_id == actor.id {
            continue;
        }
        mail::queue(
            core,
            conn,
            &Recipient::account(user_id, &email, &display_name, language.as_deref()),
            &emails::EventApprovalRequest {
                who: &who,
                room: &ctx.room.name,
                title,
                link: &link,
            },
        )?;
    }
    Ok(())
}

/// Mails the event's author what was decided (approved, or sent back with `note`).
fn notify_author(
    core: &Core,
    conn: &mut DbConn,
    ctx: &RoomCtx,
    ev: &Event,
    note: Option<&str>,
) -> AppResult<()> {
    let author = user::find(conn, ev.created_by)?;
    if author.disabled {
        return Ok(());
    }
    let link = format!(
        "{}{}",
        core.config.base_url(),
        crate::services::url_path(&format!(
            "/rooms/{}/calendar/events/{}",
            ctx.room.slug, ev.id
        ))
    );
    mail::queue(
        core,
        conn,
        &Recipient::from(&author),
        &emails::EventDecided {
            room: &ctx.room.name,
            title: &ev.title,
            approved: note.is_none(),
            note: note.unwrap_or_default(),
            link: &link,
        },
    )
}

/// The room's calendar must be on and the event the actor's to see (404 otherwise).
pub(super) fn ensure_visible(actor: Option<&Actor>, ctx: &RoomCtx, ev: &Event) -> AppResult<()> {
    ensure_calendar(actor, ctx)?;
    if may_see(actor, ctx, ev) {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
