//! Key/value site settings that the admin edits in the web panel.

use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::settings;

/// Reads every setting.
pub fn all(conn: &mut DbConn) -> QueryResult<Vec<(String, String)>> {
    settings::table
        .select((settings::key, settings::value))
        .load(conn)
}

/// Reads one setting.
pub fn get(conn: &mut DbConn, key: &str) -> QueryResult<Option<String>> {
    settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()
}

/// Writes one setting (delete + insert: portable, and the caller's transaction makes it atomic).
pub fn set(conn: &mut DbConn, key: &str, value: &str) -> QueryResult<()> {
    diesel::delete(settings::table.find(key)).execute(conn)?;
    diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(value)))
        .execute(conn)
        .map(drop)
}

/// Deletes one setting.
pub fn delete(conn: &mut DbConn, key: &str) -> QueryResult<()> {
    diesel::delete(settings::table.find(key))
        .execute(conn)
        .map(drop)
}
