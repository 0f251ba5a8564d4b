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

/// Where a database stands against the migrations this binary knows.
#[derive(Debug, Clone)]
pub struct Status {
    /// Versions applied to the database, oldest first.
    pub applied: Vec<String>,
    /// Versions this binary would apply, oldest first.
    pub pending: Vec<String>,
    /// The newest version this binary knows (the schema it brings a database to).
    pub newest_known: String,
}

impl Status {
    /// The database's schema version (its newest applied migration), if any was applied.
    pub fn current(&self) -> Option<&str> {
        self.applied.iter().max().map(String::as_str)
    }
}

/// Reads which migrations are applied and which are pending. Refuses a database that a newer Yui
/// migrated (it has a migration this binary does not know), naming both versions.
pub fn status(conn: &mut DbConn) -> anyhow::Result<Status> {
    let known = known_versions(conn)?;
    let mut applied: Vec<String> = match conn {
        DbConn::Sqlite(c) => c.applied_migrations(),
        DbConn::Pg(c) => c.applied_migrations(),
    }
    .map_err(|e| anyhow::anyhow!("reading applied migrations: {e}"))?
    .iter()
    .map(ToString::to_string)
    .collect();
    applied.sort();
    let newest_known = known.iter().max().cloned().unwrap_or_default();
    if let Some(unknown) = applied.iter().rev().find(|v| !known.contains(v)) {
        anyhow::bail!(
            "the database's schema is version {db} (migration {unknown}, which this binary does not know): it was written by a newer Yui. \
             This Yui {yui} knows schema versions up to {newest_known}. Nothing was changed; run the newer Yui again, \
             or restore a backup taken before the upgrade",
            db = applied.last().map_or(unknown.as_str(), String::as_str),
            yui = env!("CARGO_PKG_VERSION"),
        );
    }
    let pending = known.into_iter().filter(|v| !applied.contains(v)).collect();
    Ok(Status {
        applied,
        pending,
        newest_known,
    })
}

/// Brings the schema up to date. Refuses to touch a database that a newer Yui has migrated.
/// (`services::backup::migrate_safely` takes a backup first; call that instead on a real site.)
pub fn run(conn: &mut DbConn) -> anyhow::Result<usize> {
    if let DbConn::Sqlite(c) = conn {
        // WAL is persistent: set once here, never per connection.
        c.batch_execute("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;")?;
    }
    status(conn)?;
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
