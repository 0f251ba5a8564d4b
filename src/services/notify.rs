//! New-post notifications: when a room post is first published, every member whose role receives
//! new-content mail (DESIGN.md §4) and may read the room hears of it as they chose for that room: a
//! mail each (`every`, the default), one daily digest (`digest`), or nothing (`none`). A scheduled
//! post is announced when its `publish_at` passes (`announce_due`, from the jobs loop); each post
//! exactly once (`room_posts.notified_at`). Also the 新着 (what's new) list.

use chrono::{NaiveDateTime, Timelike};

use super::authz::{RoomAction, RoomPermission, RoomRole};
use super::rooms::RoomCtx;
use super::{Actor, Core};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Lang;
use crate::models::room_post::{LivePost, RoomPost};
use crate::models::user::SiteRole;
use crate::models::{notify, now, room, room_post, setting, user};

/// The modes a member can choose.
pub const MODES: [&str; 3] = ["every", "digest", "none"];
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
        "{}/rooms/{}/posts/{}",
        core.config.base_url(),
        ctx.room.slug,
        post.id
    );
    let at = now();
    for m in room::contacts(conn, ctx.room.id)? {
        let Some(role) = RoomRole::parse(&m.role) else {
            continue;
        };
        if m.user_id == author.id || !ctx.access.allows(role, RoomPermission::ReceiveMail) {
            continue;
        }
        let mode = notify::mode(conn, ctx.room.id, m.user_id)?;
        let member = Actor {
            id: m.user_id,
            is_admin: m.site_role == SiteRole::Admin.as_str(),
        };
        if mode == "none" || !super::rooms::member_may_read(conn, &member, &ctx.room)? {
            continue;
        }
        if mode == "digest" {
            notify::add_digest_item(conn, m.user_id, ctx.room.id, post.id, at)?;
            continue;
        }
        let lang = m
            .language
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or_default();
        let mut c = tera::Context::new();
        c.insert("name", &m.display_name);
        c.insert("who", &author.display_name);
        c.insert("room", &ctx.room.name);
        c.insert("title", title);
        c.insert("link", &link);
        super::mail::queue(
            conn,
            &core.templates,
            "new_post",
            lang,
            Some(m.user_id),
            &m.email,
            c,
        )?;
    }
    core.mail_wakeup.notify_one();
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
            && ctx.room.features.split(',').any(|f| f == "blog");
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
    let ctx = super::rooms::load_for(conn, Some(actor), slug, RoomAction::Read)?;
    if ctx.access.role.is_none() {
        return Err(AppError::NotFound);
    }
    if !MODES.contains(&mode) {
        let mut e = FieldErrors::default();
        e.add("mode", "error.invalid_choice");
        return Err(AppError::Invalid(e));
    }
    notify::set_mode(conn, ctx.room.id, actor.id, mode)?;
    Ok(())
}

/// The actor's mode in a room.
pub fn mode_of(conn: &mut DbConn, actor: &Actor, room_id: i64) -> AppResult<String> {
    Ok(notify::mode(conn, room_id, actor.id)?)
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

/// Sends one mail per member listing their queued posts, then empties what was sent.
pub fn send_digests(core: &Core, conn: &mut DbConn) -> AppResult<usize> {
    let lines = notify::digest_lines(conn)?;
    let Some(max_id) = lines.iter().map(|l| l.0).max() else {
        return Ok(0);
    };
    let mut sent = 0;
    let mut i = 0;
    while i < lines.len() {
        let user_id = lines[i].1;
        let mut items = Vec::new();
        while i < lines.len() && lines[i].1 == user_id {
            let (_, _, room_name, room_slug, post_id) = &lines[i];
            let title = room_post::live_title(conn, *post_id)?.unwrap_or_default();
            items.push(format!(
                "・{room_name}: {title}\n  {}/rooms/{room_slug}/posts/{post_id}",
                core.config.base_url()
            ));
            i += 1;
        }
        let u = user::find(conn, user_id)?;
        let lang = u
            .language
            .as_deref()
            .and_then(Lang::parse)
            .unwrap_or_default();
        let mut c = tera::Context::new();
        c.insert("name", &u.display_name);
        c.insert("items", &items.join("\n"));
        c.insert("count", &items.len());
        super::mail::queue(
            conn,
            &core.templates,
            "digest",
            lang,
            Some(u.id),
            &u.email,
            c,
        )?;
        sent += 1;
    }
    notify::clear_digest(conn, max_id)?;
    core.mail_wakeup.notify_one();
    Ok(sent)
}

/// 新着: the newest visible posts across every room the actor may read.
pub fn whats_new(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<(LivePost, String, String)>> {
    let rooms: Vec<(i64, String, String)> = super::rooms::list_visible(conn, Some(actor))?
        .into_iter()
        .filter(|i| i.room.features.split(',').any(|f| f == "blog"))
        .map(|i| (i.room.id, i.room.slug, i.room.name))
        .collect();
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
