//! `yui check --blobs`: the scrub that re-reads every blob, quarantines those whose bytes do not
//! match their name, and lists the blobs file rows refer to that are missing.

use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::models::file as m;
use crate::storage::Storage;

/// What `yui check --blobs` found.
#[derive(Debug, Default)]
pub struct ScrubReport {
    /// Files read under `blobs/`.
    pub checked: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Files whose bytes did not match their name (or that were not named or placed like a
    /// blob), by name, with where each was moved.
    pub quarantined: Vec<(String, std::path::PathBuf)>,
    /// Blobs that file rows refer to and that were missing before this scrub (quarantined by an
    /// earlier one, or lost).
    pub missing: Vec<String>,
}

impl ScrubReport {
    /// Whether the store is as it should be.
    pub fn is_clean(&self) -> bool {
        self.quarantined.is_empty() && self.missing.is_empty()
    }
}

/// Re-hashes every file under `blobs/` and moves any whose bytes do not match its name to
/// `quarantine/` (never deleting it): its file rows then point at a missing blob, so downloads
/// answer `files.content_missing` instead of wrong bytes, and the next upload of the right bytes
/// writes the blob again. Then lists the blobs that file rows refer to but that are missing.
/// `start` is told the number of files and bytes first, `progress` the bytes of every piece read;
/// memory stays flat for any blob size. Blocking (the CLI runs it).
pub fn scrub_blobs(
    storage: &Storage,
    conn: &mut DbConn,
    start: impl FnOnce(u64, u64),
    mut progress: impl FnMut(u64),
) -> AppResult<ScrubReport> {
    let io = |e: std::io::Error| AppError::Internal(anyhow::anyhow!("blob store: {e}"));
    let (mut files, mut bytes) = (0u64, 0u64);
    storage
        .each_blob_file(|_, _, len| {
            files += 1;
            bytes += len;
            Ok(())
        })
        .map_err(io)?;
    start(files, bytes);
    let mut report = ScrubReport::default();
    storage
        .each_blob_file(|path, name, len| {
            report.checked += 1;
            report.bytes += len;
            let good = match storage.verify_blob(path, name, &mut progress) {
                Ok(good) => good,
                // Collected by garbage collection while we walked: nothing to check.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            if !good {
                let to = storage.quarantine(path, name)?;
                tracing::warn!(blob = name, to = %to.display(), "blob quarantined: its bytes do not match its name");
                report.quarantined.push((name.to_owned(), to));
            }
            Ok(())
        })
        .map_err(io)?;
    let mut after = String::new();
    loop {
        // Files' blobs and profile pictures' blobs, merged into one page in name order.
        let mut page = m::referenced_blobs(conn, &after, 1000)?;
        page.extend(crate::models::picture::referenced_blobs(
            conn, &after, 1000,
        )?);
        page.sort();
        page.dedup();
        page.truncate(1000);
        let Some(last) = page.last() else { break };
        after.clone_from(last);
        for sha in page {
            let quarantined_now = report.quarantined.iter().any(|(q, _)| *q == sha);
            if !quarantined_now
                && (!crate::storage::is_sha256_hex(&sha) || !storage.blob_path(&sha).is_file())
            {
                report.missing.push(sha);
            }
        }
    }
    Ok(report)
}
