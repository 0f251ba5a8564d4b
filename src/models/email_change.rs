//! Requested changes of an account's email, waiting for the link mailed to the new address.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::email_changes;

/// A row of `email_changes`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = email_changes)]
pub struct EmailChange {
    pub id: i64,
    pub user_id: i64,
    pub new_email: String,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// A new request (the token's hash).
#[derive(Debug, Insertable)]
#[diesel(table_name = email_changes)]
pub struct NewEmailChange<'a> {
    pub user_id: i64,
    pub new_email: &'a str,
    pub token_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Stores a request.
pub fn insert(conn: &mut DbConn, new: &NewEmailChange<'_>) -> QueryResult<()> {
    diesel::insert_into(email_changes::table)
        .values(new)
        .execute(conn)
        .map(drop)
}

/// A request by token hash, whatever its state (the caller explains used or expired links).
pub fn find_by_hash(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<EmailChange>> {
    email_changes::table
        .filter(email_changes::token_hash.eq(token_hash))
        .select(EmailChange::as_select())
        .first(conn)
        .optional()
}

/// Spends one request; `false` when it was spent (or cancelled) meanwhile, so a link opened twice
/// at once changes the email once.
pub fn use_one(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        email_changes::table
            .find(id)
            .filter(email_changes::used_at.is_null()),
    )
    .set(email_changes::used_at.eq(at))
    .execute(conn)
    .map(|n| n == 1)
}

/// Cancels every open request of an account (a newer request, a password change, a confirmed change).
pub fn cancel_all_for_user(conn: &mut DbConn, user_id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        email_changes::table
            .filter(email_changes::user_id.eq(user_id))
            .filter(email_changes::used_at.is_null()),
    )
    .set(email_changes::used_at.eq(at))
    .execute(conn)
    .map(drop)
}

/// Counts the requests of an account since a time (each one mails an address the requester typed).
pub fn count_since(conn: &mut DbConn, user_id: i64, since: NaiveDateTime) -> QueryResult<i64> {
    email_changes::table
        .filter(email_changes::user_id.eq(user_id))
        .filter(email_changes::created_at.gt(since))
        .count()
        .get_result(conn)
}

/// Forgets requests that ended (used or expired) before a time.
pub fn purge_before(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(email_changes::table.filter(email_changes::expires_at.lt(before))).execute(conn)
}
