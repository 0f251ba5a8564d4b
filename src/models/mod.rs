//! Diesel rows and queries, one file per aggregate. Functions take `&mut DbConn` and return
//! `QueryResult`, so the caller owns the transaction.

pub mod app_password;
pub mod audit;
pub mod blog;
pub mod comment;
pub mod contact;
pub mod email_change;
pub mod event;
pub mod facility;
pub mod file;
pub mod import_source;
pub mod invitation;
pub mod login_failure;
pub mod music;
pub mod nav;
pub mod new_post_mail;
pub mod notice;
pub mod outbox;
pub mod password_reset;
pub mod picture;
pub mod room;
pub mod room_post;
pub mod search;
pub mod session;
pub mod setting;
pub mod user;

use chrono::{NaiveDateTime, SubsecRound, Utc};

/// Turns a stored text into its domain type; a value this version does not know fails the query
/// (as a deserialization error naming the column) instead of becoming a default.
pub fn decode<T>(stored: String) -> diesel::QueryResult<T>
where
    T: TryFrom<String, Error = crate::db::types::UnknownValue>,
{
    T::try_from(stored).map_err(|e| diesel::result::Error::DeserializationError(e.into()))
}

/// The current time in UTC, at microsecond precision so both backends store the same value.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

diesel::define_sql_function! {
    /// SQL `lower()`, the same on both backends.
    fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub fn like_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[derive(diesel::QueryableByName)]
struct LastId {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// The id of the row this connection inserted last. Diesel's multi-backend connection has no
/// `RETURNING`, and tables without a natural unique key cannot be read back by it, so this asks each
/// backend in its own words (same connection, same transaction: no other writer can interfere).
pub fn last_insert_id(conn: &mut crate::db::DbConn) -> diesel::QueryResult<i64> {
    use diesel::RunQueryDsl;
    let sql = match conn {
        crate::db::DbConn::Sqlite(_) => "SELECT last_insert_rowid() AS id",
        crate::db::DbConn::Pg(_) => "SELECT lastval() AS id",
    };
    diesel::sql_query(sql)
        .get_result::<LastId>(conn)
        .map(|r| r.id)
}
