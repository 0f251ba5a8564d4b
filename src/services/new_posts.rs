//! New posts: the mail that announces them and the 新着 (what's new) list (`notices` is something
//! else: circular notices and safety checks). When a room post is first published, every member
//! whose role receives new-content mail (DESIGN.md §4) and may read the room hears of it as they
//! chose for that room: a mail each (`every`, the default), one daily digest (`digest`), or nothing
//! (`none`). A scheduled post is announced when its `publish_at` passes (`announce_due`, from the
//! jobs loop); each post exactly once (`room_posts.notified_at`).

use chrono::{NaiveDateTime, Timelike};

use super::authz::{RoomAction, RoomPermission, authorize_room};
use super::mail::{self, Recipient, emails};
use super::rooms::RoomCtx;
use super::{Actor, Core};
use crate::db::DbConn;
use crate::db::types::{Feature, MailMode};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::room_post::{LivePost, RoomPost};
use crate::models::user::SiteRole;
use crate::models::{new_post_mail, now, room, room_post, setting, user};

/// Local hour (site time zone) after which the day's digest goes out.
pub const DIGEST_HOUR: u32 = 7;

/// Announces a post's first publication to its room, once: claims it (`room_post::claim_notice`)
/// and, if this call won the claim, queues the mail in the caller's transaction. Called when a post
/// goes live now (saved or approved) and by the jobs loop when a scheduled post's time comes.
/// Returns whether it was announced by this call.
pub fn announce(
    core: &Core,
    conn: &mut DbConn,
    ctx: &RoomCtx,
    post: &RoomPost,
    title: &str,
    at: NaiveDateTime,
) -> AppResult<bool> {
    if !room_post::claim_notice(conn, post.id, at)? {
        return Ok(false);
    }
    first_publication(core, conn, ctx, post, title)?;
    Ok(true)
}

/// Tells the room about a post published for the first time: every member whose role receives
/// new-content mail here and who may read the room, except its author, as each chose.
fn first_publication(
    core: &Core,
    conn: &mut DbConn,
    ctx: &RoomCtx,
    post: &RoomPost,
    title: &str,
) -> AppResult<()> {
    let author = user::find(conn, post.author_id)?;
    let link = format!(
        "{}{}",
        core.config.base_url(),
        super::url_path(&format!("/rooms/{}/posts/{}", ctx.room.slug, post.id))
    );
    let at = now();
    for m in room::contacts(conn, ctx.room.id)? {
        if m.user_id == author.id || !ctx.access.allows(m.role, RoomPermission::ReceiveMail) {
            continue;
        }
        let mode = new_post_mail::mode(conn, ctx.room.id, m.user_id)?;
        let member = Actor {
            id: m.user_id,
            is_admin: m.site_role == SiteRole::Admin,
            // Only asked whether they may read the room.
            tz: None,
        };
        if mode == MailMode::None || !super::rooms::member_may_read(conn, &member, &ctx.room)? {
            continue;
        }
        if mode == MailMode::Digest {
            new_post_mail::add_digest_item(conn, m.user_id, ctx.room.id, post.id, at)?;
            continue;
        }
        mail::queue(
            core,
            conn,
            &Recipient::from(&m),
            &emails::NewPost {
                who: &author.display_name,
                room: &ctx.room.name,
                title,
                link: &link,
            },
        )?;
    }
    Ok(())
}

/// How many due posts one round of `announce_due` takes on.
const DUE_BATCH: i64 = 50;

/// Announces scheduled posts whose `publish_at` has passed (the jobs loop calls this; tests call it
/// directly). Each post is claimed in this transaction, so several `yui serve` processes never
/// announce one twice. A post that is no longer shown when its turn comes (deleted, its period
/// over, its room archived or without posts) is marked and not announced. Returns how many were.
pub fn announce_due(core: &Core, conn: &mut DbConn, at: NaiveDateTime) -> AppResult<usize> {
    let mut announced = 0;
    for post_id in room_post::due_notices(conn, at, DUE_BATCH)? {
        let post = room_post::find_any(conn, post_id)?;
        let ctx = super::rooms::for_jobs(conn, post.room_id)?;
        let shown = !post.deleted
            && post.publish_until.is_none_or(|u| u > at)
            && !ctx.room.archived
            && ctx.access.features.has(Feature::Blog);
        if !shown {
            room_post::claim_notice(conn, post.id, at)?;
            continue;
        }
        let title = room_post::live_title(conn, post.id)?.unwrap_or_default();
        if announce(core, conn, &ctx, &post, &title, at)? {
            announced += 1;
        }
    }
    Ok(announced)
}

/// Sets how the actor hears about new posts in a room (members only).
pub fn set_mode(conn: &mut DbConn, actor: &Actor, slug: &str, mode: &str) -> AppResult<()> {
    let ctx = super::rooms::load_for(conn, Some(actor), slug, RoomAction::ChooseMailMode)?;
    let Some(mode) = MailMode::parse(mode) else {
        let mut e = FieldErrors::default();
        e.add("mode", "error.invalid_choice");
        return Err(AppError::Invalid(e));
    };
    new_post_mail::set_mode(conn, ctx.room.id, actor.id, mode)?;
    Ok(())
}

/// The actor's mode in a room, if they are a member (only members choose one).
pub fn mode_of(conn: &mut DbConn, actor: &Actor, room: &RoomCtx) -> AppResult<Option<MailMode>> {
    if authorize_room(Some(actor), &room.access, RoomAction::ChooseMailMode).is_err() {
        return Ok(None);
    }
    Ok(Some(new_post_mail::mode(conn, room.room.id, actor.id)?))
}

/// Sends the daily digests when it is time: once a day after `DIGEST_HOUR` in the site's time zone.
/// The day is claimed in the same transaction, so two `yui serve` processes never both send it.
pub fn send_digests_if_due(core: &Core, conn: &mut DbConn, at: NaiveDateTime) -> AppResult<usize> {
    let site = super::site::load(conn)?;
    let local = at.and_utc().with_timezone(&site.timezone);
    if local.hour() < DIGEST_HOUR {
        return Ok(0);
    }
    let today = local.format("%Y-%m-%d").to_string();
    if setting::get(conn, "digest.last_day")?.as_deref() == Some(today.as_str()) {
        return Ok(0);
    }
    setting::set(conn, "digest.last_day", &today)?;
    send_digests(core, conn)
}

/// Whether a post queued for `member`'s digest is still theirs to hear of when the digest goes out:
/// the post is shown to readers, the member may still read the room, their role still receives
/// new-content mail there and they still chose the digest. A digest once listed the titles of
/// posts in rooms its reader had been removed from.
fn still_for(
    conn: &mut DbConn,
    member: &Actor,
    room: &room::Room,
    post: &RoomPost,
    at: NaiveDateTime,
) -> AppResult<bool> {
    let shown = !post.deleted
        && post.live_revision_id.is_some()
        && post.published_at.is_some_and(|p| p <= at)
        && post.publish_until.is_none_or(|u| u > at)
        && room.features.has(Feature::Blog);
    if !shown || !super::rooms::member_may_read(conn, member, room)? {
        return Ok(false);
    }
    let ctx = super::rooms::for_jobs(conn, room.id)?;
    let receives = room::role_in(conn, room.id, member.id)?
        .is_some_and(|r| ctx.access.allows(r, RoomPermission::ReceiveMail));
    Ok(receives && new_post_mail::mode(conn, room.id, member.id)? == MailMode::Digest)
}

/// Sends one mail per member listing their queued posts that are still theirs to hear of
/// (`still_for`), then empties what was queued.
pub fn send_digests(core: &Core, conn: &mut DbConn) -> AppResult<usize> {
    let lines = new_post_mail::digest_lines(conn)?;
    let Some(max_id) = lines.iter().map(|l| l.0).max() else {
        return Ok(0);
    };
    let at = now();
    let mut sent = 0;
    let mut i = 0;
    while i < lines.len() {
        let user_id = lines[i].1;
        let u = user::find(conn, user_id)?;
        let member = Actor::from(&u);
        let mut items = Vec::new();
        while i < lines.len() && lines[i].1 == user_id {
            let (_, _, room_id, post_id) = lines[i];
            i += 1;
            let room = room::find(conn, room_id)?;
            let post = room_post::find_any(conn, post_id)?;
            if !still_for(conn, &member, &room, &post, at)? {
                continue;
            }
            let title = room_post::live_title(conn, post_id)?.unwrap_or_default();
            items.push(format!(
                "・{}: {title}\n  {}{}",
                room.name,
                core.config.base_url(),
                super::url_path(&format!("/rooms/{}/posts/{post_id}", room.slug))
            ));
        }
        if items.is_empty() {
            continue;
        }
        mail::queue(
            core,
            conn,
            &Recipient::from(&u),
            &emails::Digest {
                items: &items.join("\n"),
                count: items.len(),
            },
        )?;
        sent += 1;
    }
    new_post_mail::clear_digest(conn, max_id)?;
    Ok(sent)
}

/// 新着: the newest visible posts across every room the actor may read.
pub fn whats_new(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<(LivePost, String, String)>> {
    let mut rooms: Vec<(i64, String, String)> = Vec::new();
    for i in super::rooms::list_visible(conn, Some(actor))? {
        if i.room.features.has(Feature::Blog) {
            rooms.push((i.room.id, i.room.slug, i.room.name));
        }
    }
    let ids: Vec<i64> = rooms.iter().map(|r| r.0).collect();
    let posts = room_post::visible_in_rooms(conn, &ids, now(), 30)?;
    Ok(posts
        .into_iter()
        .filter_map(|p| {
            let (_, slug, name) = rooms.iter().find(|r| r.0 == p.post.room_id)?.clone();
            Some((p, slug, name))
        })
        .collect())
}
