//! Which tables a backup holds, in which order, and what their columns are on the database at
//! hand (read from the catalog, so a column added by a migration is exported without a code
//! change, and a PostgreSQL-only generated column such as `grams_tsv` is left out).

use diesel::RunQueryDsl;
use diesel::sql_types::Text;
use serde::{Deserialize, Serialize};

use crate::db::DbConn;

/// Every table of the site in foreign-key order (a table comes after the tables it refers to), so
/// rows load in this order without deferring constraints. `backup` refuses a database with a table
/// missing here, so a new table cannot silently be left out of backups.
pub const TABLES: &[&str] = &[
    "users",
    "sessions",
    "settings",
    "password_resets",
    "login_failures",
    "audit_log",
    "outbox",
    "rooms",
    "room_members",
    "room_permissions",
    "room_join_requests",
    "room_posts",
    "post_revisions",
    "room_post_tags",
    "room_invitations",
    "post_comments",
    "room_notification_prefs",
    "digest_items",
    "blobs",
    "user_pictures",
    "folders",
    "files",
    "notices",
    "notice_recipients",
    "safety_officers",
    "contact_addresses",
    "contact_tokens",
    "email_changes",
    "facilities",
    "facility_rooms",
    "facility_managers",
    "events",
    "calendar_feeds",
    "app_passwords",
    "event_overrides",
    "event_reminders",
    "event_reminder_sends",
    "import_sources",
    "audio_meta",
    "subsonic_stars",
    "playlists",
    "playlist_entries",
];

/// Tables deliberately left out: `uploads` are resumable uploads in flight, whose parts are not
/// blobs yet (their bytes are not in the archive, so their rows would promise bytes that are gone).
pub const SKIPPED: &[&str] = &["uploads"];

/// Columns that refer to their own table (a room's parent room, a folder's parent folder): a row
/// may name a parent with a larger id, so these load as NULL first and are set once the table is in.
pub const SELF_REFERENCES: &[(&str, &str)] = &[("rooms", "parent_id"), ("folders", "parent_id")];

/// What a column holds, in terms both backends share.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An integer of any width (JSON number).
    Int,
    /// A boolean (JSON `true`/`false`).
    Bool,
    /// A UTC timestamp without zone (JSON string `YYYY-MM-DDTHH:MM:SS[.f]`).
    Timestamp,
    /// Text (JSON string).
    Text,
}

/// One column of an exported table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Its name.
    pub name: String,
    /// What it holds.
    pub kind: Kind,
}

#[derive(diesel::QueryableByName)]
struct NameType {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
}

#[derive(diesel::QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

/// Whether `name` is a plain lower-case SQL identifier (table and column names from an archive
/// are checked with it before they appear in SQL text, quoted).
pub fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Maps a declared column type (either backend's spelling) to its kind.
fn kind_of(table: &str, column: &str, declared: &str) -> anyhow::Result<Kind> {
    let ty = declared.to_ascii_lowercase();
    if ty.contains("int") {
        Ok(Kind::Int)
    } else if ty.starts_with("bool") {
        Ok(Kind::Bool)
    } else if ty.starts_with("timestamp") || ty.starts_with("datetime") {
        Ok(Kind::Timestamp)
    } else if ty == "text" || ty.starts_with("varchar") || ty.starts_with("character") {
        Ok(Kind::Text)
    } else {
        anyhow::bail!("{table}.{column} has type {declared:?}, which backups do not know")
    }
}

/// The columns of `table` on this database, in their declared order (generated columns left out).
pub fn columns(conn: &mut DbConn, table: &str) -> anyhow::Result<Vec<Column>> {
    let rows: Vec<NameType> = match conn {
        DbConn::Sqlite(_) => diesel::sql_query(
            "SELECT name AS name, type AS ty FROM pragma_table_info(?) ORDER BY cid",
        )
        .bind::<Text, _>(table)
        .load(conn)?,
        DbConn::Pg(_) => diesel::sql_query(
            "SELECT column_name::text AS name, data_type::text AS ty \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 AND is_generated = 'NEVER' \
             ORDER BY ordinal_position",
        )
        .bind::<Text, _>(table)
        .load(conn)?,
    };
    if rows.is_empty() {
        anyhow::bail!("table {table} does not exist in this database");
    }
    rows.into_iter()
        .map(|r| {
            Ok(Column {
                kind: kind_of(table, &r.name, &r.ty)?,
                name: r.name,
            })
        })
        .collect()
}

/// The site's tables on this database (not migrations' bookkeeping, not SQLite's full-text
/// index tables, which triggers fill from their content table).
pub fn tables(conn: &mut DbConn) -> anyhow::Result<Vec<String>> {
    let rows: Vec<Name> = match conn {
        DbConn::Sqlite(_) => diesel::sql_query(
            "SELECT t.name AS name FROM sqlite_master t \
             WHERE t.type = 'table' AND t.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
             AND t.name <> '__diesel_schema_migrations' AND t.sql NOT LIKE 'CREATE VIRTUAL%' \
             AND NOT EXISTS (SELECT 1 FROM sqlite_master v WHERE v.type = 'table' \
                 AND v.sql LIKE 'CREATE VIRTUAL%' AND t.name LIKE v.name || '\\_%' ESCAPE '\\')",
        )
        .load(conn)?,
        DbConn::Pg(_) => diesel::sql_query(
            "SELECT table_name::text AS name FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name <> '__diesel_schema_migrations'",
        )
        .load(conn)?,
    };
    Ok(rows.into_iter().map(|r| r.name).collect())
}

/// Refuses a database with a table that is neither exported nor deliberately skipped.
pub fn check_known(conn: &mut DbConn) -> anyhow::Result<()> {
    let unknown: Vec<String> = tables(conn)?
        .into_iter()
        .filter(|t| !TABLES.contains(&t.as_str()) && !SKIPPED.contains(&t.as_str()))
        .collect();
    if !unknown.is_empty() {
        anyhow::bail!(
            "the database has tables this backup does not know: {} (add them to services::backup::catalog::TABLES)",
            unknown.join(", ")
        );
    }
    Ok(())
}

/// The newest migration applied to this database.
pub fn schema_version(conn: &mut DbConn) -> anyhow::Result<String> {
    let rows: Vec<Name> = diesel::sql_query(
        "SELECT version AS name FROM __diesel_schema_migrations ORDER BY version DESC LIMIT 1",
    )
    .load(conn)?;
    rows.into_iter()
        .next()
        .map(|r| r.name)
        .ok_or_else(|| anyhow::anyhow!("the database has no migrations applied"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_plain() {
        assert!(is_identifier("room_posts"));
        assert!(!is_identifier("x\"; DROP TABLE users; --"));
        assert!(!is_identifier("Users"));
        assert!(!is_identifier(""));
    }

    #[test]
    fn kinds_cover_both_spellings() {
        for (ty, kind) in [
            ("BIGINT", Kind::Int),
            ("INTEGER", Kind::Int),
            ("bigint", Kind::Int),
            ("BOOLEAN", Kind::Bool),
            ("boolean", Kind::Bool),
            ("TIMESTAMP", Kind::Timestamp),
            ("timestamp without time zone", Kind::Timestamp),
            ("TEXT", Kind::Text),
            ("VARCHAR", Kind::Text),
            ("character varying", Kind::Text),
        ] {
            assert_eq!(kind_of("t", "c", ty).unwrap(), kind, "{ty}");
        }
        assert!(kind_of("t", "c", "tsvector").is_err());
    }
}
