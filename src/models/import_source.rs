//! What an import brought in, by its source's own id (`yui import wordpress`).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::import_sources;

/// The row an item of `source` became, if it was imported before.
pub fn find(conn: &mut DbConn, source: &str, guid: &str) -> QueryResult<Option<i64>> {
    import_sources::table
        .filter(import_sources::source.eq(source))
        .filter(import_sources::guid.eq(guid))
        .select(import_sources::target_id)
        .first(conn)
        .optional()
}

/// Remembers that the item `guid` of `source` became row `target_id`.
pub fn remember(
    conn: &mut DbConn,
    source: &str,
    guid: &str,
    target_id: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(import_sources::table)
        .values((
            import_sources::source.eq(source),
            import_sources::guid.eq(guid),
            import_sources::target_id.eq(target_id),
            import_sources::imported_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}
