//! Resumable uploads (`POST …/uploads`, `PUT …/uploads/{id}?offset=N`, `GET` to resume,
//! `…/finish`, `…/cancel`): a row in `uploads` (its declared size counts against the quota) plus
//! the part file in `storage`. The rules that keep a blob's name proven from its bytes: every
//! chunk and finish holds the part's lock and reads the row under it, a chunk records its new
//! length with a fresh token by a conditional update, the running hash is trusted only for that
//! token, and the finish claims the row by a conditional delete in the transaction that records
//! the file.

use super::uploads::{UploadTarget, check_upload, commit_upload};
use super::{field_error, load_cabinet};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::files::audio::{AudioTags, tags_if_audio};
use crate::files::names::{clean_name, clean_upload_name};
use crate::models::file::{self as m, Upload};
use crate::models::now;
use crate::services::authz::RoomAction;
use crate::services::{Actor, Core};
use crate::storage::{PartLock, Staged, StoreError};

/// Starts a resumable upload of `size` bytes named `raw_name` into a folder; returns its id.
pub fn create_upload(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    folder: Option<i64>,
    raw_name: &str,
    size: u64,
) -> AppResult<String> {
    let target = check_upload(core, conn, actor, slug, folder, Some(size))?;
    let name = clean_upload_name(raw_name).map_err(|k| field_error("name", k))?;
    let at = now();
    let upload = Upload {
        id: crate::storage::new_upload_id(),
        room_id: target.room_id,
        folder_id: target.folder_id,
        user_id: actor.id,
        name: name.name,
        size: i64::try_from(size).map_err(|_| AppError::PayloadTooLarge)?,
        received: 0,
        created_at: at,
        updated_at: at,
        token: String::new(),
    };
    m::insert_upload(conn, &upload)?;
    Ok(upload.id)
}

/// The actor's own upload in a room they may still upload to.
pub fn own_upload(conn: &mut DbConn, actor: &Actor, slug: &str, id: &str) -> AppResult<Upload> {
    if !crate::storage::is_upload_id(id) {
        return Err(AppError::NotFound);
    }
    let ctx = load_cabinet(conn, Some(actor), slug, RoomAction::CreateContent)?;
    let upload = m::find_upload(conn, ctx.room.id, id)?;
    if upload.user_id != actor.id {
        return Err(AppError::NotFound);
    }
    Ok(upload)
}

/// Where the next chunk of an upload goes: the bytes the row says were received, or fewer if the
/// part on disk lost some (then the next chunk repairs the row).
fn next_offset(received: i64, on_disk: u64) -> u64 {
    u64::try_from(received).unwrap_or(0).min(on_disk)
}

/// Where a resumable upload stands: `(offset of the next chunk, declared size)`.
pub fn upload_progress(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: &str,
) -> AppResult<(u64, u64)> {
    let upload = own_upload(conn, actor, slug, id)?;
    let on_disk = std::fs::metadata(core.storage.upload_part(&upload.id)).map_or(0, |m| m.len());
    Ok((
        next_offset(upload.received, on_disk),
        u64::try_from(upload.size).unwrap_or(0),
    ))
}

async fn read_own_upload(core: &Core, actor: &Actor, slug: &str, id: &str) -> AppResult<Upload> {
    let (a, s, i) = (actor.clone(), slug.to_owned(), id.to_owned());
    core.db.read(move |conn| own_upload(conn, &a, &s, &i)).await
}

async fn blocking<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> AppResult<R> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blocking task failed: {e}")))
}

/// Takes the part's lock (409 while another chunk, finish or cancel of the upload is in flight,
/// in this process or another), then reads the upload's row again: only now is it the row the
/// last appender left.
async fn lock_upload(
    core: &Core,
    actor: &Actor,
    slug: &str,
    upload: &Upload,
) -> AppResult<(PartLock, Upload)> {
    let (storage, id) = (core.storage.clone(), upload.id.clone());
    let part = blocking(move || storage.lock_part(&id)).await??;
    // If the upload was finished or cancelled meanwhile, dropping the lock removes the empty
    // part it made.
    let row = read_own_upload(core, actor, slug, &upload.id).await?;
    Ok((part, row))
}

/// Appends one chunk of a resumable upload at `offset` (`PUT …/uploads/{id}?offset=N`) and
/// returns how many bytes the part holds now. Appends are serialised per upload across requests
/// and processes by the part's file lock, held for the whole chunk; the chunk must start where the
/// row (read under that lock) says the upload stands, else 409 (the client asks for the offset and
/// resumes). The new offset is recorded with a fresh token by a conditional update of the row, and
/// this process keeps its running hash for that token, so the finish need not read the part again
/// unless someone else appended since.
pub async fn put_chunk<S, B, E>(
    core: &Core,
    actor: &Actor,
    slug: &str,
    id: &str,
    offset: u64,
    declared: Option<u64>,
    body: S,
) -> AppResult<u64>
where
    S: futures_util::Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let upload = read_own_upload(core, actor, slug, id).await?;
    let size = u64::try_from(upload.size).unwrap_or(0);
    let remaining = size.saturating_sub(offset);
    if declared.is_some_and(|n| n > remaining) {
        return Err(AppError::PayloadTooLarge);
    }
    core.storage.check_space(remaining)?;
    let (part, row) = lock_upload(core, actor, slug, &upload).await?;
    if offset != next_offset(row.received, part.len().map_err(StoreError::from)?) {
        return Err(AppError::Conflict("files.upload_offset"));
    }
    let hash = core
        .storage
        .resume_hash(&part, &row.id, &row.token, offset)
        .await?;
    let (received, hash) = core
        .storage
        .append_part(&part, offset, hash, body, size)
        .await?;
    let token = crate::storage::new_upload_id();
    let (a, s, t) = (actor.clone(), slug.to_owned(), token.clone());
    let (rid, old_received, old_token) = (row.id.clone(), row.received, row.token);
    let advanced = core
        .db
        .write(move |conn| {
            own_upload(conn, &a, &s, &rid)?;
            let received = i64::try_from(received).map_err(|_| AppError::PayloadTooLarge)?;
            Ok(m::advance_upload(
                conn,
                &rid,
                (old_received, &old_token),
                (received, &t),
                now(),
            )?)
        })
        .await?;
    if !advanced {
        // Someone changed the row without holding the lock: what this chunk wrote is not
        // recorded, and the next chunk cuts it off.
        return Err(AppError::Conflict("files.upload_busy"));
    }
    core.storage.remember_hash(&row.id, &token, received, hash);
    drop(part);
    Ok(received)
}

/// Finishes a resumable upload whose part is complete (`POST …/uploads/{id}/finish`): under the
/// part's lock the part is named by its SHA-256 (the running hash only when the row's token proves
/// it is of these bytes, else read from disk), then in one write transaction the upload row is
/// claimed (once: a second finish answers 404 or 409, never a second file) and the part becomes
/// a blob and a file. Returns `(folder id, file id)`.
pub async fn finish_upload(
    core: &Core,
    actor: &Actor,
    slug: &str,
    id: &str,
) -> AppResult<(i64, i64)> {
    let upload = read_own_upload(core, actor, slug, id).await?;
    let (part, row) = lock_upload(core, actor, slug, &upload).await?;
    let size = u64::try_from(row.size).unwrap_or(0);
    if u64::try_from(row.received).ok() != Some(size) {
        return Err(AppError::Conflict("files.upload_incomplete"));
    }
    let (storage, rid, token) = (core.storage.clone(), row.id.clone(), row.token.clone());
    let (part, staged) = blocking(move || {
        let staged = storage.stage_part(&part, &rid, &token, size);
        (part, staged)
    })
    .await?;
    let staged = staged.map_err(|e| match e {
        StoreError::Interrupted(_) => AppError::Conflict("files.upload_incomplete"),
        e => e.into(),
    })?;
    let (core2, a, s) = (core.clone(), actor.clone(), slug.to_owned());
    let done = core
        .db
        .write(move |conn| {
            let tags = tags_if_audio(&row.name, &staged.path);
            finish_claimed(&core2, conn, &a, &s, &row, &staged, &tags)
        })
        .await?;
    if let Err(e) = core.storage.remove_part(part, &upload.id) {
        tracing::warn!(error = %e, "could not remove a finished upload's part");
    }
    Ok(done)
}

/// Claims a complete upload and records its staged bytes as a file (inside the write
/// transaction). The claim is a conditional delete of the row as the finisher read it: if it
/// deletes nothing, another finish (or a cancel, or a chunk) got there first.
fn finish_claimed(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    upload: &Upload,
    staged: &Staged,
    tags: &AudioTags,
) -> AppResult<(i64, i64)> {
    if i64::try_from(staged.size).ok() != Some(upload.size) {
        return Err(AppError::Conflict("files.upload_incomplete"));
    }
    // Its declared size no longer reserves quota once the row is gone; the file itself counts.
    if !m::claim_upload(conn, &upload.id, upload.received, &upload.token)? {
        return Err(AppError::Conflict("files.upload_finished"));
    }
    let target = UploadTarget {
        slug: slug.to_owned(),
        room_id: upload.room_id,
        folder_id: upload.folder_id,
        limit: staged.size,
    };
    let name = clean_name(&upload.name).map_err(|k| field_error("name", k))?;
    let id = commit_upload(&core.storage, conn, actor, &target, staged, &name, tags)?;
    Ok((upload.folder_id, id))
}

/// Cancels a resumable upload: under the part's lock (409 while a chunk is in flight), the row
/// goes, then the part.
pub async fn cancel_upload(core: &Core, actor: &Actor, slug: &str, id: &str) -> AppResult<()> {
    let upload = read_own_upload(core, actor, slug, id).await?;
    let (part, row) = lock_upload(core, actor, slug, &upload).await?;
    let (a, s) = (actor.clone(), slug.to_owned());
    core.db
        .write(move |conn| {
            let upload = own_upload(conn, &a, &s, &row.id)?;
            m::delete_upload(conn, &upload.id)?;
            Ok(())
        })
        .await?;
    if let Err(e) = core.storage.remove_part(part, &upload.id) {
        tracing::warn!(error = %e, "could not remove a cancelled upload's part");
    }
    Ok(())
}
