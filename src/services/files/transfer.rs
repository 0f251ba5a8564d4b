//! Moving and copying between two rooms' cabinets (the drive's MOVE and COPY from one room to
//! another). The target room's rights and quota apply, the copy shares the blobs (no byte is
//! stored twice), and a move leaves the source in its own room's trash, as deleting it there
//! would: that room's people can restore it from the web, and it counts toward that room's quota
//! until the trash is emptied.

use super::tree::{Item, copy_file, copy_folder, subtree_depth};
use super::{MAX_DEPTH, ancestry, field_error, in_trash, live_folder, load_cabinet};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::files::names::clean_name;
use crate::models::file as m;
use crate::models::now;
use crate::services::Actor;
use crate::services::authz::{RoomAction, Transfer, authorize_transfer};

/// Where a transfer goes: a room, a folder of its cabinet (`None`: the root), the new name.
#[derive(Debug, Clone, Copy)]
pub struct Destination<'a> {
    /// The target room's address.
    pub slug: &'a str,
    /// The folder (`None`: the cabinet's root, made if need be).
    pub folder: Option<i64>,
    /// The name it gets there, as typed.
    pub name: &'a str,
}

/// Copies or moves `item` of room `from` into another room, in one transaction: all of it or
/// nothing (a copy beyond the target's quota is `OverQuota` and leaves nothing). Returns the
/// folder it landed in.
pub fn transfer_item(
    conn: &mut DbConn,
    actor: &Actor,
    from: &str,
    item: Item,
    to: Destination<'_>,
    kind: Transfer,
) -> AppResult<i64> {
    let source = load_cabinet(conn, Some(actor), from, RoomAction::Read)?;
    let target = load_cabinet(conn, Some(actor), to.slug, RoomAction::Read)?;
    if source.room.id == target.room.id {
        return Err(field_error("target", "files.bad_target"));
    }
    let (owner, size_of) = match item {
        Item::File(id) => {
            let f = m::find_file(conn, source.room.id, id)?;
            let folder = m::find_folder(conn, source.room.id, f.folder_id)?;
            if f.deleted_at.is_some() || in_trash(conn, &folder)? {
                return Err(AppError::NotFound);
            }
            (f.uploaded_by, Ok(f))
        }
        Item::Folder(id) => {
            let f = m::find_folder(conn, source.room.id, id)?;
            if f.parent_id.is_none() || in_trash(conn, &f)? {
                return Err(AppError::NotFound);
            }
            (f.created_by, Err(f))
        }
    };
    authorize_transfer(
        actor,
        &source.access,
        &target.access,
        owner == actor.id,
        kind,
    )?;
    let folder = live_folder(conn, &target, to.folder, Some(actor.id))
        .map_err(|_| field_error("target", "files.bad_target"))?;
    let name = clean_name(to.name).map_err(|k| field_error("name", k))?;
    if m::name_taken(conn, folder.id, &name.key, None, None)? {
        return Err(AppError::Conflict("files.name_taken"));
    }
    let at = now();
    m::lock_room_quota(conn, target.room.id)?;
    let mut budget = target.room.quota_bytes - m::room_usage(conn, target.room.id)?;
    let into = (target.room.id, folder.id);
    match &size_of {
        Ok(file) => copy_file(conn, actor, file, into, &name, &mut budget, at)?,
        Err(f) => {
            if ancestry(conn, &folder)?.len() + subtree_depth(conn, f.id, 0)? > MAX_DEPTH {
                return Err(field_error("target", "files.too_deep"));
            }
            copy_folder(conn, actor, f, into, &name, &mut budget, at, 0)?;
        }
    }
    if kind == Transfer::Move {
        let mark = Some((at, actor.id));
        match item {
            Item::File(id) => m::set_file_deleted(conn, id, mark)?,
            Item::Folder(id) => m::set_folder_deleted(conn, id, mark)?,
        }
    }
    Ok(folder.id)
}

/// Bytes of everything live in `item` (a file's size; a folder's files, all the way down), which
/// a copy of it adds to a room's usage.
pub fn item_bytes(conn: &mut DbConn, room_id: i64, item: Item) -> AppResult<i64> {
    match item {
        Item::File(id) => Ok(m::find_file(conn, room_id, id)?.size),
        Item::Folder(id) => folder_bytes(conn, id, 0),
    }
}

fn folder_bytes(conn: &mut DbConn, folder_id: i64, depth: usize) -> AppResult<i64> {
    if depth > MAX_DEPTH {
        return Err(AppError::Internal(anyhow::anyhow!("folder tree too deep")));
    }
    let mut total: i64 = m::folder_files(conn, folder_id)?
        .iter()
        .map(|(f, _)| f.size)
        .sum();
    for child in m::child_folders(conn, folder_id)? {
        total += folder_bytes(conn, child.id, depth + 1)?;
    }
    Ok(total)
}
