//! Housekeeping, run by the jobs loop: purging the trash, removing abandoned resumable uploads,
//! forgetting running hashes of uploads that are over, and garbage collection of blobs no file
//! refers to (a blob row and its file go in one transaction, so an upload never loses its blob).

use chrono::{Duration as ChronoDuration, NaiveDateTime};

use crate::error::AppResult;
use crate::models::audit;
use crate::models::file as m;
use crate::services::Core;
use crate::storage::StoreError;

/// Blobs younger than this are never collected (an upload may be about to refer to them).
const GC_GRACE_MINUTES: i64 = 60;
/// Resumable uploads untouched this long are abandoned and removed.
const STALE_UPLOAD_DAYS: i64 = 7;

/// Housekeeping, run by the jobs loop: purges trash older than `trash_days`, removes abandoned
/// uploads, and collects blobs nothing refers to (each in its own transaction). Returns
/// `(purged items, removed uploads, collected blobs)`.
pub fn housekeeping(core: &Core, at: NaiveDateTime) -> AppResult<(usize, usize, usize)> {
    let db = &core.db;
    let cutoff = at - ChronoDuration::days(i64::from(core.config.storage.trash_days));
    let purged = db.run_sync(true, |conn| {
        let folders = m::expired_folders(conn, cutoff)?;
        let files = m::expired_files(conn, cutoff)?;
        for f in &folders {
            m::purge_folder_tree(conn, f.id)?;
        }
        for id in &files {
            m::purge_file(conn, *id)?;
        }
        if !folders.is_empty() || !files.is_empty() {
            audit::record(
                conn,
                None,
                "files.purged",
                &format!("{} folders, {} files", folders.len(), files.len()),
                None,
            )?;
        }
        Ok(folders.len() + files.len())
    })?;
    let stale = db.run_sync(true, |conn| {
        let ids = m::stale_uploads(conn, at - ChronoDuration::days(STALE_UPLOAD_DAYS))?;
        for id in &ids {
            m::delete_upload(conn, id)?;
        }
        Ok(ids)
    })?;
    for id in &stale {
        if let Err(e) = core.storage.discard_part(id) {
            tracing::warn!(error = %e, "could not remove an abandoned upload");
        }
    }
    // Running hashes of uploads another process finished or cancelled stay in this one's memory
    // until they are looked up here.
    for ids in core.storage.hashed_uploads().chunks(500) {
        let live = db.run_sync(false, |conn| Ok(m::existing_uploads(conn, ids)?))?;
        for id in ids.iter().filter(|id| !live.contains(id)) {
            core.storage.forget_hash(id);
        }
    }
    let collected = collect_garbage(core, at)?;
    Ok((purged, stale.len(), collected))
}

/// Removes blobs that no file refers to (rows first, each with its file in one transaction), then
/// blob files on disk that have no row at all (left by a transaction that failed after the rename).
pub fn collect_garbage(core: &Core, at: NaiveDateTime) -> AppResult<usize> {
    let before = at - ChronoDuration::minutes(GC_GRACE_MINUTES);
    let candidates = core
        .db
        .run_sync(false, |conn| Ok(m::unreferenced_blobs(conn, before)?))?;
    let mut n = 0;
    for sha in candidates {
        let storage = core.storage.clone();
        let removed = core.db.run_sync(true, |conn| {
            if m::delete_blob_if_unused(conn, &sha, before)? {
                storage.remove_blob(&sha).map_err(StoreError::from)?;
                Ok(true)
            } else {
                Ok(false)
            }
        })?;
        n += usize::from(removed);
    }
    let grace = std::time::Duration::from_secs(u64::try_from(GC_GRACE_MINUTES).unwrap_or(60) * 60);
    let on_disk = core.storage.old_blobs(grace).map_err(StoreError::from)?;
    for sha in on_disk {
        let storage = core.storage.clone();
        let removed = core.db.run_sync(true, |conn| {
            if m::blob_known(conn, &sha)? {
                Ok(false)
            } else {
                storage.remove_blob(&sha).map_err(StoreError::from)?;
                Ok(true)
            }
        })?;
        n += usize::from(removed);
    }
    Ok(n)
}
