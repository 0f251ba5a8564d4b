//! Putting bytes into a cabinet: the checks before any body byte is read (`check_upload`), the
//! plain upload (each file of a form streamed to `tmp/`, then committed), and `commit_upload`,
//! through which every upload, plain or resumable (and the demo), records a file: in the write
//! transaction it touches the blob row, puts the proven bytes in place and inserts the file row.

use super::tree::free_name;
use super::{field_error, live_folder, load_cabinet};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::files::audio::{AudioTags, tags_if_audio};
use crate::files::mime::content_type_for;
use crate::files::names::{CleanName, clean_upload_name};
use crate::models::file::{self as m, NewFile};
use crate::models::now;
use crate::services::authz::RoomAction;
use crate::services::{Actor, Core};
use crate::storage::{Staged, Storage, StoreError};

/// Where an upload may go and how many bytes it may bring.
#[derive(Debug, Clone)]
pub struct UploadTarget {
    /// The room's slug.
    pub slug: String,
    /// The room.
    pub room_id: i64,
    /// The folder.
    pub folder_id: i64,
    /// Bytes left: the smaller of the room's free quota and the largest file allowed.
    pub limit: u64,
}

/// Checks, before any body byte is read, that `actor` may upload into the folder and that
/// `declared` bytes (the request's `Content-Length`, when known) fit the quota (413) and the disk (507).
pub fn check_upload(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    folder: Option<i64>,
    declared: Option<u64>,
) -> AppResult<UploadTarget> {
    let ctx = load_cabinet(conn, Some(actor), slug, RoomAction::CreateContent)?;
    let folder = live_folder(conn, &ctx, folder, Some(actor.id))?;
    m::lock_room_quota(conn, ctx.room.id)?;
    let used = u64::try_from(m::room_usage(conn, ctx.room.id)?).unwrap_or(0);
    let quota = u64::try_from(ctx.room.quota_bytes).unwrap_or(0);
    let limit = quota
        .saturating_sub(used)
        .min(core.config.storage.max_file_bytes);
    if let Some(n) = declared {
        if n > limit {
            return Err(AppError::OverQuota);
        }
        core.storage.check_space(n)?;
    } else {
        core.storage.check_space(0)?;
    }
    Ok(UploadTarget {
        slug: ctx.room.slug,
        room_id: ctx.room.id,
        folder_id: folder.id,
        limit,
    })
}

/// Stores one file of a plain upload (`POST …/upload`, one multipart field): its name as the
/// client sent it is cleaned, its bytes stream to `tmp/` (no more than `target.limit`), then the
/// write transaction commits them (audio tags read from the staged bytes first). Staged bytes the
/// commit did not take are removed. On success `target.limit` shrinks by the file's size, for the
/// next file of the same form. Returns the file id.
pub async fn store_upload<S, B, E>(
    core: &Core,
    actor: &Actor,
    target: &mut UploadTarget,
    raw_name: &str,
    body: S,
) -> AppResult<i64>
where
    S: futures_util::Stream<Item = Result<B, E>> + Unpin,
    B: AsRef<[u8]>,
    E: std::fmt::Display,
{
    let name = clean_upload_name(raw_name).map_err(|k| field_error("files", k))?;
    let staged = core
        .storage
        .stage(body, target.limit)
        .await
        .map_err(|e| match e {
            // The limit is what is left of the quota (or the largest file allowed).
            StoreError::TooLarge => AppError::OverQuota,
            e => e.into(),
        })?;
    let size = staged.size;
    let storage = core.storage.clone();
    let (a, t) = (actor.clone(), target.clone());
    let staged = std::sync::Arc::new(staged);
    let st = staged.clone();
    let result = core
        .db
        .write(move |conn| {
            let tags = tags_if_audio(&name.name, &st.path);
            commit_upload(&storage, conn, &a, &t, &st, &name, &tags)
        })
        .await;
    core.storage.discard(&staged);
    let id = result?;
    target.limit = target.limit.saturating_sub(size);
    Ok(id)
}

/// Records staged bytes as a file in the target folder (inside the caller's write transaction):
/// the blob row is touched, the blob made durable in place if it was not there, then the file row
/// written. A taken name gets ` (2)`. Returns the file id.
pub fn commit_upload(
    storage: &Storage,
    conn: &mut DbConn,
    actor: &Actor,
    target: &UploadTarget,
    staged: &Staged,
    name: &CleanName,
    tags: &AudioTags,
) -> AppResult<i64> {
    // The room, folder and quota are checked again: they may have changed while bytes streamed.
    let ctx = load_cabinet(conn, Some(actor), &target.slug, RoomAction::CreateContent)?;
    if ctx.room.id != target.room_id {
        return Err(AppError::NotFound);
    }
    let folder = live_folder(conn, &ctx, Some(target.folder_id), Some(actor.id))?;
    m::lock_room_quota(conn, ctx.room.id)?;
    let used = m::room_usage(conn, ctx.room.id)?;
    let size = i64::try_from(staged.size).map_err(|_| AppError::PayloadTooLarge)?;
    if used.saturating_add(size) > ctx.room.quota_bytes {
        return Err(AppError::OverQuota);
    }
    let at = now();
    let known_size = m::touch_blob(conn, &staged.sha256, size, at)?;
    storage.ensure_blob(staged).map_err(StoreError::from)?;
    if known_size.is_some_and(|n| n != size) {
        // The row was written with bytes that did not have this SHA-256 (ensure_blob has put
        // the proven ones in place): it records what the blob holds now.
        m::set_blob_size(conn, &staged.sha256, size)?;
    }
    let name = free_name(conn, folder.id, name)?;
    let content_type = content_type_for(&name.name);
    let id = m::insert_file(
        conn,
        &NewFile {
            room_id: ctx.room.id,
            folder_id: folder.id,
            name: &name.name,
            name_key: &name.key,
            blob_sha256: &staged.sha256,
            size,
            content_type: &content_type,
            title: tags.title.as_deref(),
            artist: tags.artist.as_deref(),
            album: tags.album.as_deref(),
            track: tags.track,
            uploaded_by: actor.id,
            created_at: at,
            updated_at: at,
        },
    )?;
    Ok(id)
}

/// Records staged bytes as a file of a room brought in by an import (`yui import wordpress`,
/// run by the site's operator on the server, so no actor is asked): into the sub-folder
/// `folder_name` of the room's root (made if missing), as `uploaded_by`, within the room's quota
/// (`Err(AppError::OverQuota)` otherwise). A taken name gets ` (2)`. Returns the file id.
pub fn import_file(
    storage: &Storage,
    conn: &mut DbConn,
    room_id: i64,
    folder_name: &str,
    uploaded_by: i64,
    staged: &Staged,
    name: &CleanName,
) -> AppResult<i64> {
    let at = now();
    let root = match m::root_folder(conn, room_id)? {
        Some(f) => f.id,
        None => m::insert_folder(conn, room_id, None, "", "", uploaded_by, at)?,
    };
    let folder = crate::files::names::clean_name(folder_name)
        .map_err(|k| AppError::Internal(anyhow::anyhow!("folder name: {k}")))?;
    let folder_id = match m::live_child_folder(conn, root, &folder.key)? {
        Some(f) => f.id,
        None => m::insert_folder(
            conn,
            room_id,
            Some(root),
            &folder.name,
            &folder.key,
            uploaded_by,
            at,
        )?,
    };
    m::lock_room_quota(conn, room_id)?;
    let quota = crate::models::room::find(conn, room_id)?.quota_bytes;
    let size = i64::try_from(staged.size).map_err(|_| AppError::PayloadTooLarge)?;
    if m::room_usage(conn, room_id)?.saturating_add(size) > quota {
        return Err(AppError::OverQuota);
    }
    let known_size = m::touch_blob(conn, &staged.sha256, size, at)?;
    storage.ensure_blob(staged).map_err(StoreError::from)?;
    if known_size.is_some_and(|n| n != size) {
        m::set_blob_size(conn, &staged.sha256, size)?;
    }
    let name = free_name(conn, folder_id, name)?;
    let content_type = content_type_for(&name.name);
    Ok(m::insert_file(
        conn,
        &NewFile {
            room_id,
            folder_id,
            name: &name.name,
            name_key: &name.key,
            blob_sha256: &staged.sha256,
            size,
            content_type: &content_type,
            title: None,
            artist: None,
            album: None,
            track: None,
            uploaded_by,
            created_at: at,
            updated_at: at,
        },
    )?)
}
