//! New-post mail (`services::new_posts`): each member's choice per room (`room_notification_prefs`:
//! every post, a daily digest, or nothing) and the queue of posts waiting for the digest
//! (`digest_items`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{digest_items, room_notification_prefs, room_posts, rooms, users};
use crate::db::types::MailMode;

/// A member's mode for one room (`every` when never chosen; a stored value this version does not
/// know is an error).
pub fn mode(conn: &mut DbConn, room_id: i64, user_id: i64) -> QueryResult<MailMode> {
    let stored: Option<String> = room_notification_prefs::table
        .find((room_id, user_id))
        .select(room_notification_prefs::mode)
        .first(conn)
        .optional()?;
    stored.map_or(Ok(MailMode::Every), |m| {
        MailMode::try_from(m).map_err(|e| diesel::result::Error::DeserializationError(e.into()))
    })
}

/// Sets a member's mode for a room.
pub fn set_mode(conn: &mut DbConn, room_id: i64, user_id: i64, mode: MailMode) -> QueryResult<()> {
    diesel::delete(room_notification_prefs::table.find((room_id, user_id))).execute(conn)?;
    diesel::insert_into(room_notification_prefs::table)
        .values((
            room_notification_prefs::room_id.eq(room_id),
            room_notification_prefs::user_id.eq(user_id),
            room_notification_prefs::mode.eq(mode.as_str()),
        ))
        .execute(conn)
        .map(drop)
}

/// Queues a post for a member's digest.
pub fn add_digest_item(
    conn: &mut DbConn,
    user_id: i64,
    room_id: i64,
    post_id: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(digest_items::table)
        .values((
            digest_items::user_id.eq(user_id),
            digest_items::room_id.eq(room_id),
            digest_items::post_id.eq(post_id),
            digest_items::created_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// A digest line: `(item id, user_id, room id, post id)`.
pub type DigestLine = (i64, i64, i64, i64);

/// Every queued digest line, grouped by user (ordered by user, then age).
pub fn digest_lines(conn: &mut DbConn) -> QueryResult<Vec<DigestLine>> {
    digest_items::table
        .inner_join(rooms::table.on(rooms::id.eq(digest_items::room_id)))
        .inner_join(room_posts::table.on(room_posts::id.eq(digest_items::post_id)))
        .inner_join(users::table.on(users::id.eq(digest_items::user_id)))
        .filter(room_posts::deleted.eq(false))
        .filter(users::disabled.eq(false))
        .order((digest_items::user_id.asc(), digest_items::id.asc()))
        .select((
            digest_items::id,
            digest_items::user_id,
            digest_items::room_id,
            digest_items::post_id,
        ))
        .load(conn)
}

/// Empties the digest queue up to and including `max_id` (what was just sent; items queued meanwhile
/// by another process wait for the next digest).
pub fn clear_digest(conn: &mut DbConn, max_id: i64) -> QueryResult<usize> {
    diesel::delete(digest_items::table.filter(digest_items::id.le(max_id))).execute(conn)
}
