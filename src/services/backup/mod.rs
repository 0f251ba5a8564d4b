//! Backups (`yui backup`, `yui restore`, `yui verify-backup`): one streamed tar + zstd archive with
//! a backend-neutral logical export of the database (JSON lines, one table at a time in foreign-key
//! order, read in one snapshot), every blob the snapshot refers to, the configuration and
//! `secret.key`, and a manifest with every entry's size and SHA-256. The same archive restores
//! into SQLite or PostgreSQL.
//!
//! Layout of an archive (entries in this order):
//! `db/<table>/<n>.jsonl` (rows as JSON arrays in the manifest's column order, at most
//! `CHUNK_BYTES` per entry) · `blobs/ab/cd/<sha256>` · `config/secret.key` · `config/yui.toml`
//! (if any) · `manifest.json` (last, so a truncated archive has none).

mod catalog;
mod crypt;
mod export;
mod migrate_db;
mod restore;
mod schedule;
mod status;
mod upgrade;

pub use catalog::{Column, Kind, TABLES};
pub use crypt::{ENCRYPTED_SUFFIX, Passphrase, is_encrypted};
pub use export::{BackupOptions, BackupSummary, write_backup, write_backup_with};
pub use migrate_db::{CopyOptions, CopyReport, TableCount, migrate_db};
pub use restore::{RestoreOptions, RestoreSummary, restore_archive, verify_archive};
pub use schedule::{
    Schedule, ScheduleForm, disable_schedule, load_schedule, run_due, save_schedule,
};
pub use status::{
    BackupRecord, BackupStatus, STALE_DAYS, VerifyRecord, load_status, record_backup, record_verify,
};
pub use upgrade::{PRE_UPGRADE_PREFIX, Upgrade, migrate_safely};

use serde::{Deserialize, Serialize};
use sha2::Digest;

/// The archive format this binary writes and reads.
pub const FORMAT: u32 = 1;

/// The most bytes of JSON lines in one `db/` entry: memory stays flat whatever the table's size.
pub const CHUNK_BYTES: usize = 4 << 20;

/// The manifest's name inside the archive.
pub const MANIFEST: &str = "manifest.json";

/// What `manifest.json` says about an archive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The archive format (`FORMAT`).
    pub format: u32,
    /// The version of the Yui that wrote it.
    pub yui_version: String,
    /// The newest migration applied to the database it was taken from.
    pub schema_version: String,
    /// The backend it was taken from (`sqlite` or `postgres`), for the record only.
    pub source_backend: String,
    /// When it was taken (UTC, RFC 3339).
    pub created_at: String,
    /// The tables in the order they were written (foreign-key order), with their columns.
    pub tables: Vec<TableEntry>,
    /// Every other entry of the archive, in archive order.
    pub entries: Vec<FileEntry>,
}

/// One table of the export.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TableEntry {
    /// The table's name.
    pub name: String,
    /// Its columns, in the order each row's array lists them.
    pub columns: Vec<Column>,
    /// How many rows it had in the snapshot.
    pub rows: u64,
}

/// One entry of the archive with its size and SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct FileEntry {
    /// Its path inside the archive.
    pub path: String,
    /// Its length in bytes.
    pub size: u64,
    /// The SHA-256 of its bytes, lower-case hex.
    pub sha256: String,
}

/// Lower-case hex of a digest.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// SHA-256 of a byte slice, lower-case hex.
pub fn sha256_of(bytes: &[u8]) -> String {
    sha256_hex(bytes)
}

/// SHA-256 of a byte slice, hex.
fn sha256_hex(bytes: &[u8]) -> String {
    hex(&sha2::Sha256::digest(bytes))
}

/// A reader that hashes and counts what passes through it.
struct HashingReader<R> {
    inner: R,
    hasher: sha2::Sha256,
    count: u64,
}

impl<R: std::io::Read> HashingReader<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: sha2::Sha256::new(),
            count: 0,
        }
    }

    fn finish(self) -> (u64, String) {
        (self.count, hex(&self.hasher.finalize()))
    }
}

impl<R: std::io::Read> std::io::Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }
}

/// What a backup step reports to the command line's progress bar.
#[derive(Debug, Clone, Copy)]
pub enum Progress {
    /// The rows of the database are being exported (rows so far).
    Rows(u64),
    /// The blobs are about to be copied (their total bytes).
    BlobsStart(u64),
    /// More blob bytes were copied.
    BlobBytes(u64),
}
