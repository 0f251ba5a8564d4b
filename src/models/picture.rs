//! Members' profile pictures: which blob is whose (`user_pictures`). The blob itself is a row of
//! `blobs` like a cabinet file's, kept by garbage collection while a row here refers to it.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::user_pictures;

/// The SHA-256 of `user_id`'s picture, if they have one.
pub fn find(conn: &mut DbConn, user_id: i64) -> QueryResult<Option<String>> {
    user_pictures::table
        .find(user_id)
        .select(user_pictures::blob_sha256)
        .first(conn)
        .optional()
}

/// Takes the account row's lock on PostgreSQL, so two uploads of one member's picture at once
/// replace each other in turn instead of both inserting (SQLite's `BEGIN IMMEDIATE` serialises them).
pub fn lock_user(conn: &mut DbConn, user_id: i64) -> QueryResult<()> {
    match conn {
        DbConn::Sqlite(_) => Ok(()),
        DbConn::Pg(c) => diesel::sql_query("SELECT id FROM users WHERE id = $1 FOR UPDATE")
            .bind::<diesel::sql_types::BigInt, _>(user_id)
            .execute(c)
            .map(drop),
    }
}

/// Makes `sha256` (a blob with a row) `user_id`'s picture, replacing any older one (whose blob
/// is left to garbage collection). Call `lock_user` first in the same transaction.
pub fn set(conn: &mut DbConn, user_id: i64, sha256: &str, at: NaiveDateTime) -> QueryResult<()> {
    let updated = diesel::update(user_pictures::table.find(user_id))
        .set((
            user_pictures::blob_sha256.eq(sha256),
            user_pictures::updated_at.eq(at),
        ))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(user_pictures::table)
            .values((
                user_pictures::user_id.eq(user_id),
                user_pictures::blob_sha256.eq(sha256),
                user_pictures::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes `user_id`'s picture; `true` when they had one.
pub fn remove(conn: &mut DbConn, user_id: i64) -> QueryResult<bool> {
    diesel::delete(user_pictures::table.find(user_id))
        .execute(conn)
        .map(|n| n > 0)
}

/// The pictures of `ids` as `(user id, SHA-256)` (the directory's list).
pub fn of_users(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<(i64, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    user_pictures::table
        .filter(user_pictures::user_id.eq_any(ids))
        .select((user_pictures::user_id, user_pictures::blob_sha256))
        .load(conn)
}

/// Up to `limit` blobs that pictures refer to, in name order after `after` (the blob scrub's pages).
pub fn referenced_blobs(conn: &mut DbConn, after: &str, limit: i64) -> QueryResult<Vec<String>> {
    user_pictures::table
        .filter(user_pictures::blob_sha256.gt(after))
        .select(user_pictures::blob_sha256)
        .distinct()
        .order(user_pictures::blob_sha256)
        .limit(limit)
        .load(conn)
}
