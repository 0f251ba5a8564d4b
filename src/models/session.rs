//! Server-side sessions: the browser holds a random token, the database its SHA-256.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::user::User;
use crate::db::DbConn;
use crate::db::schema::{sessions, users};

/// A row of `sessions`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct Session {
    pub id: i64,
    pub token_hash: String,
    pub user_id: Option<i64>,
    pub csrf_token: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// A new session.
#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: Option<i64>,
    pub csrf_token: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Inserts a session.
pub fn insert(conn: &mut DbConn, new: &NewSession<'_>) -> QueryResult<()> {
    diesel::insert_into(sessions::table)
        .values(new)
        .execute(conn)
        .map(drop)
}

/// Finds a live session and its (enabled) user, if any.
pub fn find_live(
    conn: &mut DbConn,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(Session, Option<User>)>> {
    sessions::table
        .left_join(users::table)
        .filter(sessions::token_hash.eq(token_hash))
        .filter(sessions::expires_at.gt(now))
        .select((Session::as_select(), Option::<User>::as_select()))
        .first(conn)
        .optional()
}

/// Deletes one session.
pub fn delete_by_hash(conn: &mut DbConn, token_hash: &str) -> QueryResult<()> {
    diesel::delete(sessions::table.filter(sessions::token_hash.eq(token_hash)))
        .execute(conn)
        .map(drop)
}

/// Deletes every session of a user except (optionally) one.
pub fn delete_for_user(
    conn: &mut DbConn,
    user_id: i64,
    keep_hash: Option<&str>,
) -> QueryResult<usize> {
    let mut q = diesel::delete(sessions::table)
        .filter(sessions::user_id.eq(user_id))
        .into_boxed();
    if let Some(keep) = keep_hash {
        q = q.filter(sessions::token_hash.ne(keep));
    }
    q.execute(conn)
}

/// Moves the expiry of a session forward.
pub fn extend(conn: &mut DbConn, id: i64, expires_at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(sessions::table.find(id))
        .set(sessions::expires_at.eq(expires_at))
        .execute(conn)
        .map(drop)
}

/// Counts live sessions of a user.
pub fn count_for_user(conn: &mut DbConn, user_id: i64, now: NaiveDateTime) -> QueryResult<i64> {
    sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::expires_at.gt(now))
        .count()
        .get_result(conn)
}

/// Removes expired sessions.
pub fn purge_expired(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)
}
