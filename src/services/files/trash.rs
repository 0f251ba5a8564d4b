//! The trash of a cabinet: deleting puts a file or folder there (a folder's contents go with it),
//! the trash page, and restoring. Purging old items is housekeeping (`gc`).

use super::tree::{Item, changeable, free_name};
use super::{in_trash, load_cabinet, may, root};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::files::names::CleanName;
use crate::models::file::{self as m, File, Folder};
use crate::models::now;
use crate::services::authz::{RoomAction, authorize_room};
use crate::services::rooms::RoomCtx;
use crate::services::{Actor, Core};

/// Puts a file or folder in the trash; returns the folder it was in.
pub fn delete_item(conn: &mut DbConn, actor: &Actor, slug: &str, item: Item) -> AppResult<i64> {
    let ctx = load_cabinet(conn, Some(actor), slug, RoomAction::Read)?;
    let loaded = changeable(conn, actor, &ctx, item)?;
    let own = loaded.owner() == actor.id;
    authorize_room(
        Some(actor),
        &ctx.access,
        RoomAction::DeleteContent {
            own,
            ever_published: false,
        },
    )?;
    let mark = Some((now(), actor.id));
    match item {
        Item::File(id) => m::set_file_deleted(conn, id, mark)?,
        Item::Folder(id) => m::set_folder_deleted(conn, id, mark)?,
    }
    Ok(loaded.parent())
}

/// The trash of a room's cabinet.
#[derive(Debug)]
pub struct TrashView {
    /// The room.
    pub ctx: RoomCtx,
    /// Deleted folders, newest first, with whether the actor may restore them.
    pub folders: Vec<(Folder, bool)>,
    /// Deleted files, newest first, with whether the actor may restore them.
    pub files: Vec<(File, bool)>,
    /// Days before purging.
    pub days: u32,
}

/// What `GET /rooms/{room}/files/trash` shows (to those who may create content in the room).
pub fn trash_view(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
) -> AppResult<TrashView> {
    let ctx = load_cabinet(conn, Some(actor), slug, RoomAction::CreateContent)?;
    let (folders, files) = m::trash(conn, ctx.room.id)?;
    let may_restore = |owner: i64| {
        may(
            Some(actor),
            &ctx,
            RoomAction::EditContent {
                own: owner == actor.id,
            },
        )
    };
    let folders = folders
        .into_iter()
        .map(|f| {
            let ok = may_restore(f.created_by);
            (f, ok)
        })
        .collect();
    let files = files
        .into_iter()
        .map(|f| {
            let ok = may_restore(f.uploaded_by);
            (f, ok)
        })
        .collect();
    Ok(TrashView {
        ctx,
        folders,
        files,
        days: core.config.storage.trash_days,
    })
}

/// Takes a file or folder out of the trash, back where it was (or to the root, if that folder is
/// gone), renamed with ` (2)` if its name was taken meanwhile. Returns the folder it is in now.
pub fn restore_item(conn: &mut DbConn, actor: &Actor, slug: &str, item: Item) -> AppResult<i64> {
    let ctx = load_cabinet(conn, Some(actor), slug, RoomAction::CreateContent)?;
    let (owner, parent, clean) = match item {
        Item::File(id) => {
            let f = m::find_file(conn, ctx.room.id, id)?;
            if f.deleted_at.is_none() {
                return Err(AppError::NotFound);
            }
            (
                f.uploaded_by,
                f.folder_id,
                CleanName {
                    name: f.name,
                    key: f.name_key,
                },
            )
        }
        Item::Folder(id) => {
            let f = m::find_folder(conn, ctx.room.id, id)?;
            if f.deleted_at.is_none() {
                return Err(AppError::NotFound);
            }
            (
                f.created_by,
                f.parent_id.unwrap_or(f.id),
                CleanName {
                    name: f.name,
                    key: f.name_key,
                },
            )
        }
    };
    authorize_room(
        Some(actor),
        &ctx.access,
        RoomAction::EditContent {
            own: owner == actor.id,
        },
    )?;
    let parent_folder = m::find_folder(conn, ctx.room.id, parent)?;
    let parent = if in_trash(conn, &parent_folder)? {
        root(conn, &ctx, Some(actor.id))?.id
    } else {
        parent
    };
    let name = free_name(conn, parent, &clean)?;
    match item {
        Item::File(id) => {
            m::move_file(conn, id, parent, now())?;
            m::rename_file(conn, id, &name.name, &name.key, now())?;
            m::set_file_deleted(conn, id, None)?;
        }
        Item::Folder(id) => {
            m::move_folder(conn, id, parent)?;
            m::rename_folder(conn, id, &name.name, &name.key)?;
            m::set_folder_deleted(conn, id, None)?;
        }
    }
    Ok(parent)
}
