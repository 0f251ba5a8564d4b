//! What the admin panel shows about backups: the last backup and the last verified restore, kept
//! as JSON in two settings rows (`backup.last`, `backup.last_verified`) by the commands that made them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::db::DbConn;
use crate::error::AppError;
use crate::models::setting;

const LAST_BACKUP: &str = "backup.last";
const LAST_VERIFIED: &str = "backup.last_verified";

/// A backup or a verified restore is "old" after this many days (the admin overview warns).
pub const STALE_DAYS: i64 = 7;

/// The last backup `yui backup` wrote.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupRecord {
    /// When it finished.
    pub at: DateTime<Utc>,
    /// The archive's path.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
}

/// The last `yui verify-backup` run.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifyRecord {
    /// When it finished.
    pub at: DateTime<Utc>,
    /// The archive it restored.
    pub path: String,
    /// Whether the restored copy passed every check.
    pub ok: bool,
    /// What it found (rows and blobs, or the first problem).
    pub detail: String,
}

/// Both records, for the admin overview.
#[derive(Debug, Clone, Default)]
pub struct BackupStatus {
    /// The last backup, if any.
    pub last_backup: Option<BackupRecord>,
    /// The last verified restore, if any.
    pub last_verified: Option<VerifyRecord>,
}

fn read<T: for<'de> Deserialize<'de>>(conn: &mut DbConn, key: &str) -> Result<Option<T>, AppError> {
    Ok(setting::get(conn, key)?.and_then(|text| serde_json::from_str(&text).ok()))
}

/// Reads both records.
pub fn load_status(conn: &mut DbConn) -> Result<BackupStatus, AppError> {
    Ok(BackupStatus {
        last_backup: read(conn, LAST_BACKUP)?,
        last_verified: read(conn, LAST_VERIFIED)?,
    })
}

/// Records a finished backup.
pub fn record_backup(conn: &mut DbConn, record: &BackupRecord) -> Result<(), AppError> {
    let text = serde_json::to_string(record).map_err(|e| AppError::Internal(e.into()))?;
    setting::set(conn, LAST_BACKUP, &text)?;
    Ok(())
}

/// Records a verified restore (successful or not).
pub fn record_verify(conn: &mut DbConn, record: &VerifyRecord) -> Result<(), AppError> {
    let text = serde_json::to_string(record).map_err(|e| AppError::Internal(e.into()))?;
    setting::set(conn, LAST_VERIFIED, &text)?;
    Ok(())
}
