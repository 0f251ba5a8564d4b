//! Embedded migrations for both backends, run by `yui migrate` and at `serve` start.

use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConn;

/// The SQLite migration tree.
pub const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
/// The PostgreSQL migration tree (same names as the SQLite one; a test checks it).
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Names (versions) of the migrations this binary knows, for one backend.
pub fn known_versions(conn: &DbConn) -> anyhow::Result<Vec<String>> {
    known_versions_of(conn.backend())
}

/// Names (versions) of the migrations this binary knows for `backend` (both trees have the same).
pub fn known_versions_of(backend: super::Backend) -> anyhow::Result<Vec<String>> {
    let source = match backend {
        super::Backend::Sqlite => SQLITE,
        super::Backend::Postgres => POSTGRES,
    };
    let migrations = MigrationSource::<diesel::sqlite::Sqlite>::migrations(&source)
        .map_err(|e| anyhow::anyhow!("reading embedded migrations: {e}"))?;
    Ok(migrations
        .iter()
        .map(|m| m.name().version().to_string())
        .collect())
}

/// Brings the schema up to date. Refuses to touch a database that a newer Yui has migrated.
pub fn run(conn: &mut DbConn) -> anyhow::Result<usize> {
    let known = known_versions(conn)?;
    let applied: Vec<String> = match conn {
        DbConn::Sqlite(c) => {
            // WAL is persistent: set once here, never per connection.
            c.batch_execute("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;")?;
            c.applied_migrations()
        }
        DbConn::Pg(c) => c.applied_migrations(),
    }
    .map_err(|e| anyhow::anyhow!("reading applied migrations: {e}"))?
    .iter()
    .map(ToString::to_string)
    .collect();
    if let Some(unknown) = applied.iter().find(|v| !known.contains(v)) {
        anyhow::bail!(
            "the database has migration {unknown}, which this binary does not know: it was written by a newer Yui; upgrade the binary instead"
        );
    }
    let done = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE).map(|v| v.len()),
        DbConn::Pg(c) => c.run_pending_migrations(POSTGRES).map(|v| v.len()),
    }
    .map_err(|e| anyhow::anyhow!("running migrations: {e}"))?;
    Ok(done)
}

/// Reverts every migration (used by the up → down → up test).
pub fn revert_all(conn: &mut DbConn) -> anyhow::Result<()> {
    match conn {
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE).map(|_| ()),
        DbConn::Pg(c) => c.revert_all_migrations(POSTGRES).map(|_| ()),
    }
    .map_err(|e| anyhow::anyhow!("reverting migrations: {e}"))
}

/// Reverts migrations newest first until `version` (e.g. `"20261130000014"`) is undone; returns how
/// many were reverted (used by tests that build a database as an older Yui left it).
pub fn revert_through(conn: &mut DbConn, version: &str) -> anyhow::Result<usize> {
    let mut reverted = 0;
    loop {
        let applied = match conn {
            DbConn::Sqlite(c) => c.applied_migrations(),
            DbConn::Pg(c) => c.applied_migrations(),
        }
        .map_err(|e| anyhow::anyhow!("reading applied migrations: {e}"))?;
        if !applied.iter().any(|v| v.to_string() == version) {
            return Ok(reverted);
        }
        match conn {
            DbConn::Sqlite(c) => c.revert_last_migration(SQLITE).map(drop),
            DbConn::Pg(c) => c.revert_last_migration(POSTGRES).map(drop),
        }
        .map_err(|e| anyhow::anyhow!("reverting a migration: {e}"))?;
        reverted += 1;
    }
}
