//! Safe upgrades: before `serve` or `migrate` applies the migrations a new Yui brings to a site
//! that has data, it writes a backup of the site as it is (the archive restores into this or the
//! older Yui, on either backend), and migrates nothing when that backup fails. A database that a
//! newer Yui migrated is refused by `db::migrate::status`, naming both versions.

use std::path::PathBuf;

use diesel::RunQueryDsl;
use diesel::sql_types::BigInt;

use super::export::{BackupOptions, BackupSummary, write_backup_with};
use crate::config::Config;
use crate::db::{DbConn, migrate};

/// The start of a pre-upgrade archive's name: the daily schedule's pruning (`yui-backup-*`)
/// leaves these alone.
pub const PRE_UPGRADE_PREFIX: &str = "yui-pre-upgrade";

/// What `migrate_safely` did.
#[derive(Debug, Clone)]
pub struct Upgrade {
    /// The schema before (`None`: a new database).
    pub from: Option<String>,
    /// The schema after.
    pub to: String,
    /// Migrations applied.
    pub applied: usize,
    /// The backup taken before them (none for a new or empty site, or when turned off).
    pub backup: Option<BackupSummary>,
    /// Migrations were applied to a site with data without a backup, because it was turned off.
    pub skipped_backup: bool,
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Whether the site holds nothing worth a backup yet (no account was ever made).
fn is_empty_site(conn: &mut DbConn) -> bool {
    diesel::sql_query("SELECT COUNT(*) AS n FROM users")
        .load::<Count>(conn)
        .is_ok_and(|r| r.first().is_some_and(|c| c.n == 0))
}

/// Where the pre-upgrade backup goes: `[upgrade] backup_dir`, else the daily backup's directory,
/// else `backups/` in the data directory.
fn backup_dir(config: &Config, conn: &mut DbConn) -> PathBuf {
    if let Some(dir) = &config.upgrade.backup_dir {
        return dir.clone();
    }
    // An old schema's settings table has the same two columns; if it cannot be read, the default.
    super::load_schedule(conn).map_or_else(
        |_| config.data_dir.join("backups"),
        |s| s.target(&config.data_dir),
    )
}

/// Brings the schema up to date, first writing a backup when migrations are pending on a site
/// with data (unless `[upgrade] backup = false`). Refuses to migrate when the backup fails, and
/// refuses a database a newer Yui migrated. Blocking.
pub fn migrate_safely(config: &Config, conn: &mut DbConn) -> anyhow::Result<Upgrade> {
    let status = migrate::status(conn)?;
    let from = status.current().map(str::to_owned);
    let to = status.newest_known.clone();
    if status.pending.is_empty() {
        return Ok(Upgrade {
            from,
            to,
            applied: 0,
            backup: None,
            skipped_backup: false,
        });
    }
    let has_data = from.is_some() && !is_empty_site(conn);
    let mut backup = None;
    let mut skipped_backup = false;
    if has_data && config.upgrade.backup {
        let dir = backup_dir(config, conn);
        let from_version = from.as_deref().unwrap_or("none");
        tracing::info!(
            from = from_version,
            to = %to,
            dir = %dir.display(),
            "new migrations: taking a backup before applying them"
        );
        let taken = crate::secret::Secret::load_or_create(&config.data_dir).and_then(|_| {
            write_backup_with(
                conn,
                &BackupOptions {
                    data_dir: &config.data_dir,
                    config_file: config.source.as_deref(),
                    to_dir: &dir,
                    name_prefix: &format!("{PRE_UPGRADE_PREFIX}-{from_version}"),
                    blobs: true,
                    passphrase: None,
                },
                &mut |_| {},
            )
        });
        match taken {
            Ok(summary) => {
                tracing::info!(archive = %summary.path.display(), bytes = summary.bytes, "backup before the upgrade written");
                backup = Some(summary);
            }
            Err(e) => anyhow::bail!(
                "this Yui brings {n} new migrations (schema {from_version} -> {to}) and backs the site up before applying them, \
                 but the backup into {dir} failed: {e:#}. Nothing was migrated. Fix the cause and start again, \
                 or migrate without a backup: `yui migrate --no-backup` (or `[upgrade] backup = false`, YUI_UPGRADE__BACKUP=false)",
                n = status.pending.len(),
                dir = dir.display(),
            ),
        }
    } else if has_data {
        tracing::warn!(
            pending = status.pending.len(),
            "applying new migrations WITHOUT a backup ([upgrade] backup = false or --no-backup)"
        );
        skipped_backup = true;
    }
    let applied = migrate::run(conn)?;
    Ok(Upgrade {
        from,
        to,
        applied,
        backup,
        skipped_backup,
    })
}
