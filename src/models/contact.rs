//! Contact addresses of members (reachability) and their verification tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{contact_addresses, contact_tokens, users};

/// A row of `contact_addresses`: an address a member added (`extra`), or the status of the account's
/// own email (`extra == false`).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = contact_addresses)]
pub struct ContactAddress {
    pub id: i64,
    pub user_id: i64,
    pub address: String,
    pub address_key: String,
    pub extra: bool,
    pub created_at: NaiveDateTime,
    pub verified_at: Option<NaiveDateTime>,
    pub bouncing_at: Option<NaiveDateTime>,
    pub bounce_error: Option<String>,
}

/// A new address row.
#[derive(Debug, Insertable)]
#[diesel(table_name = contact_addresses)]
pub struct NewContactAddress<'a> {
    pub user_id: i64,
    pub address: &'a str,
    pub address_key: &'a str,
    pub extra: bool,
    pub created_at: NaiveDateTime,
}

/// A row of `contact_tokens`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = contact_tokens)]
pub struct ContactToken {
    pub id: i64,
    pub user_id: i64,
    pub contact_id: Option<i64>,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// A new verification token (its hash).
#[derive(Debug, Insertable)]
#[diesel(table_name = contact_tokens)]
pub struct NewContactToken<'a> {
    pub user_id: i64,
    pub contact_id: Option<i64>,
    pub token_hash: &'a str,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// The comparison key of an address: trimmed, lower case.
pub fn address_key(address: &str) -> String {
    address.trim().to_lowercase()
}

/// Every address row of one member, oldest first.
pub fn for_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<ContactAddress>> {
    contact_addresses::table
        .filter(contact_addresses::user_id.eq(user_id))
        .order(contact_addresses::id.asc())
        .select(ContactAddress::as_select())
        .load(conn)
}

/// Every address row of some members, oldest first.
pub fn for_users(conn: &mut DbConn, user_ids: &[i64]) -> QueryResult<Vec<ContactAddress>> {
    contact_addresses::table
        .filter(contact_addresses::user_id.eq_any(user_ids))
        .order(contact_addresses::id.asc())
        .select(ContactAddress::as_select())
        .load(conn)
}

/// Every address row of every enabled account, oldest first.
pub fn for_active_users(conn: &mut DbConn) -> QueryResult<Vec<ContactAddress>> {
    contact_addresses::table
        .inner_join(users::table)
        .filter(users::disabled.eq(false))
        .order(contact_addresses::id.asc())
        .select(ContactAddress::as_select())
        .load(conn)
}

/// One row by id.
pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<ContactAddress> {
    contact_addresses::table
        .find(id)
        .select(ContactAddress::as_select())
        .first(conn)
}

/// The row of one member for one address key, if any.
pub fn find_by_key(
    conn: &mut DbConn,
    user_id: i64,
    key: &str,
) -> QueryResult<Option<ContactAddress>> {
    contact_addresses::table
        .filter(contact_addresses::user_id.eq(user_id))
        .filter(contact_addresses::address_key.eq(key))
        .select(ContactAddress::as_select())
        .first(conn)
        .optional()
}

/// Inserts a row and returns it (read back by its unique `(user_id, address_key)`).
pub fn insert(conn: &mut DbConn, new: &NewContactAddress<'_>) -> QueryResult<ContactAddress> {
    diesel::insert_into(contact_addresses::table)
        .values(new)
        .execute(conn)?;
    contact_addresses::table
        .filter(contact_addresses::user_id.eq(new.user_id))
        .filter(contact_addresses::address_key.eq(new.address_key))
        .select(ContactAddress::as_select())
        .first(conn)
}

/// Marks a row as added by the member (or back to only carrying the account email's status).
pub fn set_extra(conn: &mut DbConn, id: i64, extra: bool) -> QueryResult<()> {
    diesel::update(contact_addresses::table.find(id))
        .set(contact_addresses::extra.eq(extra))
        .execute(conn)
        .map(drop)
}

/// Deletes a row (its tokens stop working: `contact_id` becomes NULL).
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(contact_addresses::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Marks a row verified now; a verified address is no longer bouncing.
pub fn mark_verified(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(contact_addresses::table.find(id))
        .set((
            contact_addresses::verified_at.eq(at),
            contact_addresses::bouncing_at.eq(None::<NaiveDateTime>),
            contact_addresses::bounce_error.eq(None::<String>),
        ))
        .execute(conn)
        .map(drop)
}

/// Marks every row with this address key bouncing; returns how many rows changed.
pub fn mark_bouncing(
    conn: &mut DbConn,
    key: &str,
    error: &str,
    at: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(contact_addresses::table.filter(contact_addresses::address_key.eq(key)))
        .set((
            contact_addresses::bouncing_at.eq(at),
            contact_addresses::bounce_error.eq(error),
        ))
        .execute(conn)
}

/// Clears the bouncing mark of every row with this address key; returns how many rows changed.
pub fn clear_bouncing(conn: &mut DbConn, key: &str) -> QueryResult<usize> {
    diesel::update(
        contact_addresses::table
            .filter(contact_addresses::address_key.eq(key))
            .filter(contact_addresses::bouncing_at.is_not_null()),
    )
    .set((
        contact_addresses::bouncing_at.eq(None::<NaiveDateTime>),
        contact_addresses::bounce_error.eq(None::<String>),
    ))
    .execute(conn)
}

/// Ids and emails of the accounts whose own email has this key (case-insensitive).
pub fn accounts_with_email(conn: &mut DbConn, key: &str) -> QueryResult<Vec<(i64, String)>> {
    users::table
        .filter(super::lower(users::email).eq(key))
        .select((users::id, users::email))
        .load(conn)
}

/// Stores a new token hash.
pub fn insert_token(conn: &mut DbConn, new: &NewContactToken<'_>) -> QueryResult<()> {
    diesel::insert_into(contact_tokens::table)
        .values(new)
        .execute(conn)
        .map(drop)
}

/// A token by hash, whatever its state (the caller explains expired or used tokens).
pub fn find_token(conn: &mut DbConn, token_hash: &str) -> QueryResult<Option<ContactToken>> {
    contact_tokens::table
        .filter(contact_tokens::token_hash.eq(token_hash))
        .select(ContactToken::as_select())
        .first(conn)
        .optional()
}

/// Marks a token used unless it was already; returns whether this call used it.
pub fn use_token(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        contact_tokens::table
            .find(id)
            .filter(contact_tokens::used_at.is_null()),
    )
    .set(contact_tokens::used_at.eq(at))
    .execute(conn)
    .map(|n| n == 1)
}

/// How many tokens (test mails) a member got since a time.
pub fn count_tokens_since(
    conn: &mut DbConn,
    user_id: i64,
    since: NaiveDateTime,
) -> QueryResult<i64> {
    contact_tokens::table
        .filter(contact_tokens::user_id.eq(user_id))
        .filter(contact_tokens::created_at.gt(since))
        .count()
        .get_result(conn)
}

/// Deletes tokens that expired before `before`; returns how many.
pub fn purge_tokens(conn: &mut DbConn, before: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(contact_tokens::table.filter(contact_tokens::expires_at.lt(before)))
        .execute(conn)
}
