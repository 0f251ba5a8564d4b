//! Room cabinets (DESIGN.md §6): folders and files per room, uploads (plain and resumable), downloads,
//! rename / move / copy, a trash that is purged after `storage.trash_days`, and garbage collection of
//! blobs no file refers to. Every use case loads the room through `rooms::load_for`, so
//! `authorize_room` decides: readers download, those who may create content upload, and editing or
//! deleting someone else's file needs the "edit others" cell.
//!
//! This module is the cabinet itself: how a use case opens it and asks what the actor may do there
//! (`load_cabinet`, `may`, `ensure_files_feature`, kept together so that the permission questions
//! change in one place), the folder lookups every use case shares, and the folder page. The use
//! cases live in `tree` (folders, rename, move, copy), `transfer` (move and copy between two
//! rooms), `trash`, `download` (a file, a folder as a
//! zip), `uploads` (the plain upload and what every upload commits through), `resumable` (the
//! chunked protocol and its proven-hash rules), `gc` (housekeeping) and `check` (`yui check
//! --blobs`); handlers call them through the names re-exported here. Name rules, the type policy,
//! audio tags and zip writing have no database and live below, in `crate::files`.

mod check;
mod download;
mod gc;
mod images;
mod resumable;
mod transfer;
mod trash;
mod tree;
mod uploads;

pub use check::{ScrubReport, scrub_blobs};
pub use download::{Download, FolderZip, PreviewSource, download, folder_zip, preview};
pub use gc::{collect_garbage, housekeeping};
pub use images::{CabinetImage, PostImages, post_image, post_images};
pub use resumable::{
    cancel_upload, create_upload, finish_upload, own_upload, put_chunk, upload_progress,
};
pub use transfer::{Destination, item_bytes, transfer_item};
pub use trash::{TrashView, delete_item, restore_item, trash_view};
pub use tree::{Change, Item, change_item, copy_item, create_folder, move_item, rename};
pub use uploads::{UploadTarget, check_upload, commit_upload, import_file, store_upload};

use super::Actor;
use super::authz::{RoomAction, authorize_room};
use super::rooms::{RoomCtx, load_for};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::file::{self as m, FileWithUploader};
/// The rows file pages show (pages name them through this service, never through `models`).
pub use crate::models::file::{File, Folder};
use crate::models::now;
use crate::storage::StoreError;

/// Deepest folder nesting (also bounds every walk up or down the tree).
pub const MAX_DEPTH: usize = 32;

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::TooLarge => Self::PayloadTooLarge,
            StoreError::Full => Self::InsufficientStorage,
            StoreError::Interrupted(_) => Self::Invalid(FieldErrors::default()),
            StoreError::Busy => Self::Conflict("files.upload_busy"),
            StoreError::Io(e) => Self::Internal(anyhow::anyhow!("storage: {e}")),
        }
    }
}

/// The room must have its cabinet on (`authz` answered it in the room's capabilities).
fn ensure_files_feature(ctx: &RoomCtx) -> AppResult<()> {
    if ctx.can.files {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// Loads a room whose cabinet is on, checking `action`.
pub fn load_cabinet(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    action: RoomAction,
) -> AppResult<RoomCtx> {
    let ctx = load_for(conn, actor, slug, action)?;
    ensure_files_feature(&ctx)?;
    Ok(ctx)
}

fn may(actor: Option<&Actor>, ctx: &RoomCtx, action: RoomAction) -> bool {
    authorize_room(actor, &ctx.access, action).is_ok()
}

/// The room's root folder, made on first write (reads see an empty stand-in until then, so a
/// reader's page never writes).
fn root(conn: &mut DbConn, ctx: &RoomCtx, creator: Option<i64>) -> AppResult<Folder> {
    if let Some(f) = m::root_folder(conn, ctx.room.id)? {
        return Ok(f);
    }
    let Some(creator) = creator else {
        return Ok(Folder {
            id: 0,
            room_id: ctx.room.id,
            parent_id: None,
            name: String::new(),
            name_key: String::new(),
            created_by: 0,
            created_at: now(),
            deleted_at: None,
            deleted_by: None,
        });
    };
    let id = m::insert_folder(conn, ctx.room.id, None, "", "", creator, now())?;
    Ok(m::find_folder(conn, ctx.room.id, id)?)
}

/// A live folder of the room, or its root for `None` (made when `creator` is given: write paths).
fn live_folder(
    conn: &mut DbConn,
    ctx: &RoomCtx,
    id: Option<i64>,
    creator: Option<i64>,
) -> AppResult<Folder> {
    let Some(id) = id else {
        return root(conn, ctx, creator);
    };
    let folder = m::find_folder(conn, ctx.room.id, id)?;
    if in_trash(conn, &folder)? {
        return Err(AppError::NotFound);
    }
    Ok(folder)
}

/// Whether a folder is in the trash, itself or through a parent.
fn in_trash(conn: &mut DbConn, folder: &Folder) -> AppResult<bool> {
    Ok(ancestry(conn, folder)?
        .iter()
        .any(|f| f.deleted_at.is_some()))
}

/// The folder and its parents, root first.
fn ancestry(conn: &mut DbConn, folder: &Folder) -> AppResult<Vec<Folder>> {
    let mut chain = vec![folder.clone()];
    while let Some(pid) = chain.last().and_then(|f| f.parent_id) {
        if chain.len() > MAX_DEPTH + 1 {
            return Err(AppError::Internal(anyhow::anyhow!("folder tree too deep")));
        }
        chain.push(m::find_folder(conn, folder.room_id, pid)?);
    }
    chain.reverse();
    Ok(chain)
}

/// A cabinet page: one folder with what is in it and what the actor may do there.
#[derive(Debug)]
pub struct FolderView {
    /// The room.
    pub ctx: RoomCtx,
    /// The folder shown.
    pub folder: Folder,
    /// Root first, down to this folder.
    pub path: Vec<Folder>,
    /// Sub-folders by name.
    pub folders: Vec<Folder>,
    /// Files by name, with uploader names.
    pub files: Vec<FileWithUploader>,
    /// Bytes used in the room, and its quota.
    pub usage: i64,
    /// The room's quota in bytes.
    pub quota: i64,
    /// May upload and make folders here.
    pub may_create: bool,
    /// May rename, move and delete others' files.
    pub may_edit_others: bool,
    /// Every live folder of the room, with its full path (targets for move and copy).
    pub targets: Vec<(i64, String)>,
}

/// What `GET /rooms/{room}/files[/folders/{id}]` shows.
pub fn folder_view(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    folder_id: Option<i64>,
) -> AppResult<FolderView> {
    let ctx = load_cabinet(conn, actor, slug, RoomAction::Read)?;
    let folder = live_folder(conn, &ctx, folder_id, None)?;
    let path = ancestry(conn, &folder)?;
    let folders = m::child_folders(conn, folder.id)?;
    let files = m::folder_files(conn, folder.id)?;
    let may_create = ctx.can.upload;
    let may_edit_others = ctx.can.edit_others;
    let targets = if may_create {
        folder_targets(conn, ctx.room.id)?
    } else {
        Vec::new()
    };
    Ok(FolderView {
        usage: m::room_usage(conn, ctx.room.id)?,
        quota: ctx.room.quota_bytes,
        ctx,
        folder,
        path,
        folders,
        files,
        may_create,
        may_edit_others,
        targets,
    })
}

/// Every live folder of a room with its path (`/`, `/資料`, `/資料/2026`), by path.
fn folder_targets(conn: &mut DbConn, room_id: i64) -> AppResult<Vec<(i64, String)>> {
    let all = m::room_folders(conn, room_id)?;
    let by_id: std::collections::HashMap<i64, &Folder> = all.iter().map(|f| (f.id, f)).collect();
    let mut out = Vec::new();
    for f in &all {
        let mut parts = Vec::new();
        let mut cur = Some(f);
        let mut live = true;
        while let Some(c) = cur {
            if parts.len() > MAX_DEPTH {
                live = false;
                break;
            }
            if c.parent_id.is_some() {
                parts.push(c.name.as_str());
            }
            cur = match c.parent_id {
                Some(pid) => {
                    let p = by_id.get(&pid).copied();
                    // A parent missing from the live list is in the trash.
                    live &= p.is_some();
                    p
                }
                None => None,
            };
        }
        if live {
            parts.reverse();
            out.push((f.id, format!("/{}", parts.join("/"))));
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    Ok(out)
}

fn field_error(field: &'static str, key: &'static str) -> AppError {
    let mut e = FieldErrors::default();
    e.add(field, key);
    AppError::Invalid(e)
}
