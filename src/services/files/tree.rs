//! The folder tree of a cabinet: making folders, the names in a folder (a taken name gets ` (2)`),
//! and renaming, moving and copying files and folders (a copy shares the blobs). Who may change an
//! item is decided here once (`changeable`), for the trash too.

use chrono::NaiveDateTime;

use super::{MAX_DEPTH, ancestry, field_error, in_trash, live_folder, load_cabinet};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::files::names::{CleanName, clean_name};
use crate::models::file::{self as m, File, Folder, NewFile};
use crate::models::now;
use crate::services::Actor;
use crate::services::authz::{RoomAction, authorize_room};
use crate::services::rooms::RoomCtx;

/// Makes a folder inside `parent` (root for `None`); returns its id.
pub fn create_folder(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    parent: Option<i64>,
    raw_name: &str,
) -> AppResult<i64> {
    let ctx = load_cabinet(conn, Some(actor), slug, RoomAction::CreateContent)?;
    let parent = live_folder(conn, &ctx, parent, Some(actor.id))?;
    let name = clean_name(raw_name).map_err(|k| field_error("name", k))?;
    if ancestry(conn, &parent)?.len() > MAX_DEPTH {
        return Err(field_error("name", "files.too_deep"));
    }
    if m::name_taken(conn, parent.id, &name.key, None, None)? {
        return Err(field_error("name", "files.name_taken"));
    }
    let id = m::insert_folder(
        conn,
        ctx.room.id,
        Some(parent.id),
        &name.name,
        &name.key,
        actor.id,
        now(),
    )?;
    Ok(id)
}

/// A name not taken in the folder: `name`, else `name (2).ext`, `name (3).ext` …
pub(super) fn free_name(
    conn: &mut DbConn,
    folder_id: i64,
    name: &CleanName,
) -> AppResult<CleanName> {
    if !m::name_taken(conn, folder_id, &name.key, None, None)? {
        return Ok(name.clone());
    }
    let (stem, ext) = match name.name.rfind('.') {
        Some(i) if i > 0 => (&name.name[..i], &name.name[i..]),
        _ => (name.name.as_str(), ""),
    };
    for n in 2..10_000 {
        let candidate = format!("{stem} ({n}){ext}");
        if let Ok(c) = clean_name(&candidate)
            && !m::name_taken(conn, folder_id, &c.key, None, None)?
        {
            return Ok(c);
        }
    }
    Err(AppError::Conflict("files.name_taken"))
}

/// Something in a cabinet that an action names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// A file by id.
    File(i64),
    /// A folder by id.
    Folder(i64),
}

/// What `POST /rooms/{room}/files/{kind}/{id}/{op}` does to an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new name, as typed.
    Rename(String),
    /// Into this folder.
    Move(i64),
    /// A copy into this folder.
    Copy(i64),
    /// Into the trash.
    Delete,
}

/// Renames, moves, copies or trashes a file or folder; returns the folder to show afterwards.
pub fn change_item(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    item: Item,
    change: Change,
) -> AppResult<i64> {
    match change {
        Change::Rename(name) => rename(conn, actor, slug, item, &name),
        Change::Move(target) => move_item(conn, actor, slug, item, target),
        Change::Copy(target) => copy_item(conn, actor, slug, item, target),
        Change::Delete => super::trash::delete_item(conn, actor, slug, item),
    }
}

/// Loads a live item and checks that `actor` may change it (own, or others' with the "edit others"
/// cell). Root folders cannot be changed.
pub(super) fn changeable(
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &RoomCtx,
    item: Item,
) -> AppResult<Loaded> {
    let loaded = match item {
        Item::File(id) => {
            let f = m::find_file(conn, ctx.room.id, id)?;
            let folder = m::find_folder(conn, ctx.room.id, f.folder_id)?;
            if f.deleted_at.is_some() || in_trash(conn, &folder)? {
                return Err(AppError::NotFound);
            }
            Loaded::File(f)
        }
        Item::Folder(id) => {
            let f = m::find_folder(conn, ctx.room.id, id)?;
            if f.parent_id.is_none() || in_trash(conn, &f)? {
                return Err(AppError::NotFound);
            }
            Loaded::Folder(f)
        }
    };
    let own = loaded.owner() == actor.id;
    authorize_room(Some(actor), &ctx.access, RoomAction::EditContent { own })?;
    Ok(loaded)
}

/// A file or folder found by `changeable`.
pub(super) enum Loaded {
    File(File),
    Folder(Folder),
}

impl Loaded {
    /// Who made it.
    pub(super) fn owner(&self) -> i64 {
        match self {
            Self::File(f) => f.uploaded_by,
            Self::Folder(f) => f.created_by,
        }
    }

    /// The folder it is in (a root folder is its own).
    pub(super) fn parent(&self) -> i64 {
        match self {
            Self::File(f) => f.folder_id,
            Self::Folder(f) => f.parent_id.unwrap_or(f.id),
        }
    }
}

/// Renames a file or folder; returns the folder to show afterwards.
pub fn rename(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    item: Item,
    raw_name: &str,
) -> AppResult<i64> {
    let ctx = load_cabinet(conn, Some(actor), slug, RoomAction::Read)?;
    let loaded = changeable(conn, actor, &ctx, item)?;
    let name = clean_name(raw_name).map_err(|k| field_error("name", k))?;
    let parent = loaded.parent();
    let (except_file, except_folder) = match item {
        Item::File(id) => (Some(id), None),
        Item::Folder(id) => (None, Some(id)),
    };
    if m::name_taken(conn, parent, &name.key, except_file, except_folder)? {
        return Err(field_error("name", "files.name_taken"));
    }
    match item {
        Item::File(id) => m::rename_file(conn, id, &name.name, &name.key, now())?,
        Item::Folder(id) => m::rename_folder(conn, id, &name.name, &name.key)?,
    }
    Ok(parent)
}

/// Moves a file or folder into `target` (a live folder of the same room); returns the target.
pub fn move_item(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    item: Item,
    target: i64,
) -> AppResult<i64> {
    let ctx = load_cabinet(conn, Some(actor), slug, RoomAction::CreateContent)?;
    let loaded = changeable(conn, actor, &ctx, item)?;
    let target = live_folder(conn, &ctx, Some(target), Some(actor.id))
        .map_err(|_| field_error("target", "files.bad_target"))?;
    let (key, except_file, except_folder) = match &loaded {
        Loaded::File(f) => (f.name_key.clone(), Some(f.id), None),
        Loaded::Folder(f) => {
            if ancestry(conn, &target)?.iter().any(|a| a.id == f.id) {
                return Err(field_error("target", "files.into_itself"));
            }
            if ancestry(conn, &target)?.len() + subtree_depth(conn, f.id, 0)? > MAX_DEPTH {
                return Err(field_error("target", "files.too_deep"));
            }
            (f.name_key.clone(), None, Some(f.id))
        }
    };
    if m::name_taken(conn, target.id, &key, except_file, except_folder)? {
        return Err(field_error("target", "files.name_taken"));
    }
    match item {
        Item::File(id) => m::move_file(conn, id, target.id, now())?,
        Item::Folder(id) => m::move_folder(conn, id, target.id)?,
    }
    Ok(target.id)
}

pub(super) fn subtree_depth(conn: &mut DbConn, folder_id: i64, depth: usize) -> AppResult<usize> {
    if depth > MAX_DEPTH {
        return Ok(depth);
    }
    let mut deepest = depth + 1;
    for child in m::child_folders(conn, folder_id)? {
        deepest = deepest.max(subtree_depth(conn, child.id, depth + 1)?);
    }
    Ok(deepest)
}

/// Copies a file or folder (with everything in it) into `target`; the copy is the actor's and
/// shares the blobs (nothing is stored twice). Returns the target.
pub fn copy_item(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    item: Item,
    target: i64,
) -> AppResult<i64> {
    let ctx = load_cabinet(conn, Some(actor), slug, RoomAction::CreateContent)?;
    let target = live_folder(conn, &ctx, Some(target), Some(actor.id))
        .map_err(|_| field_error("target", "files.bad_target"))?;
    let at = now();
    m::lock_room_quota(conn, ctx.room.id)?;
    let mut budget = ctx.room.quota_bytes - m::room_usage(conn, ctx.room.id)?;
    match item {
        Item::File(id) => {
            let f = m::find_file(conn, ctx.room.id, id)?;
            let folder = m::find_folder(conn, ctx.room.id, f.folder_id)?;
            if f.deleted_at.is_some() || in_trash(conn, &folder)? {
                return Err(AppError::NotFound);
            }
            let name = free_name(conn, target.id, &name_of(&f.name, &f.name_key))?;
            copy_file(
                conn,
                actor,
                &f,
                (ctx.room.id, target.id),
                &name,
                &mut budget,
                at,
            )?;
        }
        Item::Folder(id) => {
            let f = m::find_folder(conn, ctx.room.id, id)?;
            if f.parent_id.is_none() || in_trash(conn, &f)? {
                return Err(AppError::NotFound);
            }
            if ancestry(conn, &target)?.iter().any(|a| a.id == f.id) {
                return Err(field_error("target", "files.into_itself"));
            }
            if ancestry(conn, &target)?.len() + subtree_depth(conn, f.id, 0)? > MAX_DEPTH {
                return Err(field_error("target", "files.too_deep"));
            }
            let name = free_name(conn, target.id, &name_of(&f.name, &f.name_key))?;
            let to = (ctx.room.id, target.id);
            copy_folder(conn, actor, &f, to, &name, &mut budget, at, 0)?;
        }
    }
    Ok(target.id)
}

fn name_of(name: &str, key: &str) -> CleanName {
    CleanName {
        name: name.to_owned(),
        key: key.to_owned(),
    }
}

/// Copies file `f` as `name` into folder `to.1` of room `to.0`, sharing its blob, within `budget`
/// (the target room's free quota, spent as it goes).
pub(super) fn copy_file(
    conn: &mut DbConn,
    actor: &Actor,
    f: &File,
    to: (i64, i64),
    name: &CleanName,
    budget: &mut i64,
    at: NaiveDateTime,
) -> AppResult<()> {
    *budget -= f.size;
    if *budget < 0 {
        return Err(AppError::OverQuota);
    }
    m::touch_blob(conn, &f.blob_sha256, f.size, at)?;
    m::insert_file(
        conn,
        &NewFile {
            room_id: to.0,
            folder_id: to.1,
            name: &name.name,
            name_key: &name.key,
            blob_sha256: &f.blob_sha256,
            size: f.size,
            content_type: &f.content_type,
            title: f.title.as_deref(),
            artist: f.artist.as_deref(),
            album: f.album.as_deref(),
            track: f.track,
            uploaded_by: actor.id,
            created_at: at,
            updated_at: at,
        },
    )?;
    Ok(())
}

/// Copies folder `f` with everything live in it as `name` into folder `to.1` of room `to.0`.
#[expect(
    clippy::too_many_arguments,
    reason = "the recursion carries its budget and depth"
)]
pub(super) fn copy_folder(
    conn: &mut DbConn,
    actor: &Actor,
    f: &Folder,
    to: (i64, i64),
    name: &CleanName,
    budget: &mut i64,
    at: NaiveDateTime,
    depth: usize,
) -> AppResult<()> {
    if depth > MAX_DEPTH {
        return Err(field_error("target", "files.too_deep"));
    }
    let copy = m::insert_folder(conn, to.0, Some(to.1), &name.name, &name.key, actor.id, at)?;
    for (file, _) in m::folder_files(conn, f.id)? {
        let name = free_name(conn, copy, &name_of(&file.name, &file.name_key))?;
        copy_file(conn, actor, &file, (to.0, copy), &name, budget, at)?;
    }
    for child in m::child_folders(conn, f.id)? {
        let name = free_name(conn, copy, &name_of(&child.name, &child.name_key))?;
        copy_folder(
            conn,
            actor,
            &child,
            (to.0, copy),
            &name,
            budget,
            at,
            depth + 1,
        )?;
    }
    Ok(())
}
