//! `yui migrate-db --to URL`: copies a whole site's database to another database (SQLite ⇄
//! PostgreSQL, or SQLite to another file) through the backup machinery: one read snapshot
//! exported as the archive's backend-neutral rows (without the blobs, which stay in the data
//! directory) into a temporary archive, restored into the target with `database_only`, then
//! every table's rows and the blob references compared between the snapshot and the target.

use std::path::{Path, PathBuf};

use diesel::RunQueryDsl;
use diesel::sql_types::BigInt;

use super::catalog::TABLES;
use super::export::{BackupOptions, referenced_blobs, write_backup_with};
use super::restore::{RestoreOptions, restore_archive};
use super::{Progress, sha256_hex};
use crate::db::DbConn;

/// What `migrate-db` copies.
#[derive(Debug, Clone)]
pub struct CopyOptions {
    /// The site's data directory (its blobs are where the target's rows will find them).
    pub data_dir: PathBuf,
    /// The source database's URL (refused as a target).
    pub source_url: String,
    /// The target database's URL.
    pub target_url: String,
    /// Replace a target that is not empty.
    pub force: bool,
}

/// One table's rows in the snapshot and in the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    /// The table.
    pub table: String,
    /// Rows in the source's snapshot.
    pub source: u64,
    /// Rows in the target after the copy.
    pub target: u64,
}

/// What the copy found when it compared the two databases.
#[derive(Debug, Clone)]
pub struct CopyReport {
    /// The schema version copied.
    pub schema_version: String,
    /// Rows per table, source and target.
    pub tables: Vec<TableCount>,
    /// Blobs files refer to in the source's snapshot and in the target.
    pub blob_refs: (u64, u64),
    /// SHA-256 over the sorted referenced blob names and sizes, source and target.
    pub blob_refs_digest: (String, String),
    /// Referenced blobs that are not in the data directory.
    pub blobs_missing: Vec<String>,
}

impl CopyReport {
    /// Every difference found (empty: the copy is complete).
    pub fn problems(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .tables
            .iter()
            .filter(|t| t.source != t.target)
            .map(|t| {
                format!(
                    "{}: {} rows in the source, {} in the target",
                    t.table, t.source, t.target
                )
            })
            .collect();
        if self.blob_refs.0 != self.blob_refs.1
            || self.blob_refs_digest.0 != self.blob_refs_digest.1
        {
            out.push(format!(
                "blob references differ: {} in the source, {} in the target",
                self.blob_refs.0, self.blob_refs.1
            ));
        }
        if let Some(first) = self.blobs_missing.first() {
            out.push(format!(
                "{} referenced blobs are not in the data directory (first: {first})",
                self.blobs_missing.len()
            ));
        }
        out
    }
}

/// Removes the temporary archive's directory however the copy ends.
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn digest(blobs: &[(String, i64)]) -> String {
    use std::fmt::Write;
    let text = blobs.iter().fold(String::new(), |mut text, (s, n)| {
        let _ = writeln!(text, "{s} {n}");
        text
    });
    sha256_hex(text.as_bytes())
}

/// Copies the site's database on `source` to `opts.target_url` and compares the two. Refuses a
/// source whose schema is not this binary's newest, a target that is the source, and a target
/// that is not empty without `force`. Blocking.
pub fn migrate_db(
    source: &mut DbConn,
    opts: &CopyOptions,
    progress: &mut dyn FnMut(Progress),
) -> anyhow::Result<CopyReport> {
    if same_database(&opts.source_url, &opts.target_url) {
        anyhow::bail!("the target is the site's own database: refused");
    }
    let status = crate::db::migrate::status(source)?;
    if !status.pending.is_empty() {
        anyhow::bail!(
            "the site's database is at schema {}, this Yui's is {}: run `yui migrate` first (it takes a backup)",
            status.current().unwrap_or("none"),
            status.newest_known
        );
    }
    crate::secret::Secret::load_or_create(&opts.data_dir)?;
    let work = TempDir(
        opts.data_dir
            .join("tmp")
            .join(format!("migrate-db-{}", uuid::Uuid::new_v4().simple())),
    );
    let snapshot = write_backup_with(
        source,
        &BackupOptions {
            data_dir: &opts.data_dir,
            config_file: None,
            to_dir: &work.0,
            name_prefix: "yui-migrate-db",
            blobs: false,
            passphrase: None,
        },
        progress,
    )?;
    let restored = restore_archive(
        &RestoreOptions {
            archive: snapshot.path.clone(),
            data_dir: opts.data_dir.clone(),
            database_url: Some(opts.target_url.clone()),
            force: opts.force,
            database_only: true,
            passphrase: None,
        },
        progress,
    )?;
    drop(work);
    let mut target = crate::db::establish(&opts.target_url)?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for table in &restored.manifest.tables {
        let n: Vec<Count> =
            diesel::sql_query(format!("SELECT COUNT(*) AS n FROM \"{}\"", table.name))
                .load(&mut target)?;
        tables.push(TableCount {
            table: table.name.clone(),
            source: table.rows,
            target: n.first().map_or(0, |c| u64::try_from(c.n).unwrap_or(0)),
        });
    }
    let in_target = referenced_blobs(&mut target)?;
    let storage = crate::storage::Storage::new(&opts.data_dir, 0);
    let blobs_missing = in_target
        .iter()
        .filter(|(s, _)| !crate::storage::is_sha256_hex(s) || !storage.blob_path(s).is_file())
        .map(|(s, _)| s.clone())
        .collect();
    Ok(CopyReport {
        schema_version: restored.manifest.schema_version,
        tables,
        blob_refs: (snapshot.blob_refs.len() as u64, in_target.len() as u64),
        blob_refs_digest: (digest(&snapshot.blob_refs), digest(&in_target)),
        blobs_missing,
    })
}

/// Whether two database URLs name the same database (same SQLite file, or same PostgreSQL URL).
fn same_database(a: &str, b: &str) -> bool {
    let sqlite_file = |u: &str| {
        u.strip_prefix("sqlite://").map(|p| {
            let p = Path::new(p);
            std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
        })
    };
    match (sqlite_file(a), sqlite_file(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.trim_end_matches('/') == b.trim_end_matches('/'),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(target_users: u64, target_digest: &str) -> CopyReport {
        CopyReport {
            schema_version: "1".into(),
            tables: vec![
                TableCount {
                    table: "users".into(),
                    source: 3,
                    target: target_users,
                },
                TableCount {
                    table: "files".into(),
                    source: 2,
                    target: 2,
                },
            ],
            blob_refs: (2, 2),
            blob_refs_digest: ("d".into(), target_digest.into()),
            blobs_missing: Vec::new(),
        }
    }

    #[test]
    fn every_difference_is_a_problem() {
        assert!(report(3, "d").problems().is_empty());
        let p = report(2, "d").problems();
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("users: 3 rows in the source, 2 in the target"));
        assert!(report(3, "e").problems()[0].contains("blob references differ"));
    }

    #[test]
    fn the_same_database_is_recognised() {
        assert!(same_database("postgres://a/b", "postgres://a/b/"));
        assert!(!same_database("postgres://a/b", "postgres://a/c"));
        assert!(same_database(
            "sqlite:///x/../x/yui.db",
            "sqlite:///x/../x/yui.db"
        ));
    }
}
