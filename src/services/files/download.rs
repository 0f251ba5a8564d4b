//! Reading out of a cabinet: one file (after the permission check, never a blob that is missing
//! or quarantined) and a folder as a zip, streamed while it is written.

use super::{MAX_DEPTH, in_trash, live_folder, load_cabinet};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::files::preview::{PreviewKind, preview_kind};
use crate::files::zipstream::{Entry, ZipStream, zip_stream};
use crate::models::file as m;
use crate::services::authz::RoomAction;
use crate::services::rooms::RoomCtx;
use crate::services::{Actor, Core};

/// What a download serves.
#[derive(Debug)]
pub struct Download {
    /// The blob on disk.
    pub path: std::path::PathBuf,
    /// The file's name.
    pub name: String,
    /// Its stored type.
    pub content_type: String,
    /// Its SHA-256 (a strong `ETag`: the content never changes).
    pub sha256: String,
}

/// Checks that the actor may read the file, then says what to serve.
pub fn download(
    core: &Core,
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    file_id: i64,
) -> AppResult<Download> {
    readable(core, conn, actor, slug, file_id).map(|r| r.download)
}

/// A file the actor may read, with its room and folder.
struct Readable {
    room: RoomCtx,
    download: Download,
    file: m::File,
    folder: m::Folder,
}

/// Finds a file the actor may read: not deleted, not in the trash, its blob on disk.
fn readable(
    core: &Core,
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    file_id: i64,
) -> AppResult<Readable> {
    let room = load_cabinet(conn, actor, slug, RoomAction::Read)?;
    let f = m::find_file(conn, room.room.id, file_id)?;
    let folder = m::find_folder(conn, room.room.id, f.folder_id)?;
    if f.deleted_at.is_some() || in_trash(conn, &folder)? {
        return Err(AppError::NotFound);
    }
    let path = core.storage.blob_path(&f.blob_sha256);
    if !path.is_file() {
        // `yui check --blobs` quarantined it (its bytes did not match its name), or the disk lost
        // it: say so rather than serve anything else. Uploading the same bytes again heals it.
        tracing::warn!(blob = %f.blob_sha256, file.id = f.id, "a file's blob is missing");
        return Err(AppError::Conflict("files.content_missing"));
    }
    Ok(Readable {
        room,
        download: Download {
            path,
            name: f.name.clone(),
            content_type: f.content_type.clone(),
            sha256: f.blob_sha256.clone(),
        },
        file: f,
        folder,
    })
}

/// A file opened for its preview page: where its bytes are, how they are previewed, and the room
/// and folder it sits in (for the page's way back).
#[derive(Debug)]
pub struct PreviewSource {
    /// The room.
    pub room: RoomCtx,
    /// The file as a download serves it.
    pub file: Download,
    /// Its id.
    pub file_id: i64,
    /// Its size in bytes.
    pub size: i64,
    /// How it is previewed.
    pub kind: PreviewKind,
    /// Its folder, as folder URLs name it (0 for the cabinet's top).
    pub folder_url_id: i64,
}

/// Checks that the actor may read the file and that its type has a preview (404 otherwise: an
/// HTML or SVG file is never shown, only downloaded).
pub fn preview(
    core: &Core,
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    file_id: i64,
) -> AppResult<PreviewSource> {
    let r = readable(core, conn, actor, slug, file_id)?;
    let kind = preview_kind(&r.download.content_type).ok_or(AppError::NotFound)?;
    Ok(PreviewSource {
        room: r.room,
        file: r.download,
        file_id: r.file.id,
        size: r.file.size,
        kind,
        folder_url_id: if r.folder.parent_id.is_none() {
            0
        } else {
            r.folder.id
        },
    })
}

/// A folder download: the zip's file name and its bytes.
#[derive(Debug)]
pub struct FolderZip {
    /// `<folder>.zip` (the room's name for the root folder).
    pub name: String,
    /// The zip, written while it is read.
    pub body: ZipStream,
}

/// `GET /rooms/{room}/files/folder/{folder}/zip`: checks that the actor may read the folder, lists
/// what is in it in one read transaction, then streams it as a zip (stored entries, ZIP64), so
/// memory stays flat for any size.
pub async fn folder_zip(
    core: &Core,
    actor: Option<&Actor>,
    slug: &str,
    folder_id: Option<i64>,
) -> AppResult<FolderZip> {
    let (c, a, s) = (core.clone(), actor.cloned(), slug.to_owned());
    let (top, entries) = core
        .db
        .read(move |conn| zip_entries(&c, conn, a.as_ref(), &s, folder_id))
        .await?;
    Ok(FolderZip {
        name: format!("{top}.zip"),
        body: zip_stream(entries),
    })
}

/// The entries of a folder as a zip: `(path inside the zip, blob on disk)`, folders first.
fn zip_entries(
    core: &Core,
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    folder_id: Option<i64>,
) -> AppResult<(String, Vec<Entry>)> {
    let ctx = load_cabinet(conn, actor, slug, RoomAction::Read)?;
    let folder = live_folder(conn, &ctx, folder_id, None)?;
    let top = if folder.parent_id.is_none() {
        ctx.room.name.clone()
    } else {
        folder.name.clone()
    };
    let mut out = Vec::new();
    collect_zip(core, conn, folder.id, "", &mut out, 0)?;
    Ok((top, out))
}

fn collect_zip(
    core: &Core,
    conn: &mut DbConn,
    folder_id: i64,
    prefix: &str,
    out: &mut Vec<Entry>,
    depth: usize,
) -> AppResult<()> {
    if depth > MAX_DEPTH {
        return Ok(());
    }
    for child in m::child_folders(conn, folder_id)? {
        let p = format!("{prefix}{}/", child.name);
        out.push((p.clone(), std::path::PathBuf::new()));
        collect_zip(core, conn, child.id, &p, out, depth + 1)?;
    }
    for (f, _) in m::folder_files(conn, folder_id)? {
        out.push((
            format!("{prefix}{}", f.name),
            core.storage.blob_path(&f.blob_sha256),
        ));
    }
    Ok(())
}
