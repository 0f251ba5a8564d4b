//! The images of a room's cabinet that a post can show: the post editor's picker (it works without
//! JavaScript: the list comes with the page, the chosen image is inserted by the server), and the
//! check that an image chosen by its id is one the author may read in this very room.

use std::collections::HashMap;

use super::{RoomCtx, in_trash, load_cabinet, may};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::files::mime::{IMAGE_TYPES, is_image_type};
use crate::models::file as m;
use crate::services::Actor;
use crate::services::authz::RoomAction;

/// Most images the picker lists (the newest first).
pub const PICKER_LIMIT: i64 = 200;

/// An image in a room's cabinet.
#[derive(Debug, Clone)]
pub struct CabinetImage {
    /// The file.
    pub id: i64,
    /// Its name.
    pub name: String,
    /// The folders it sits in, from the cabinet's top (empty at the top).
    pub folders: Vec<String>,
}

/// What the post editor offers for images.
#[derive(Debug, Clone, Default)]
pub struct PostImages {
    /// The newest images of the room's cabinet the actor may read (the picker).
    pub images: Vec<CabinetImage>,
    /// Whether the actor may upload a new image into the cabinet (the editor's drop zone).
    pub may_upload: bool,
}

/// The post editor's images in `ctx`'s room for `actor`: none when the room has no cabinet or the
/// actor may not read it.
pub fn post_images(conn: &mut DbConn, actor: &Actor, ctx: &RoomCtx) -> AppResult<PostImages> {
    if !ctx.can.files || !may(Some(actor), ctx, RoomAction::Read) {
        return Ok(PostImages::default());
    }
    let may_upload = may(Some(actor), ctx, RoomAction::CreateContent);
    let files = m::room_files_of_types(conn, ctx.room.id, &IMAGE_TYPES, PICKER_LIMIT)?;
    if files.is_empty() {
        return Ok(PostImages {
            images: Vec::new(),
            may_upload,
        });
    }
    // Live folders only: a folder under one in the trash has no live parent here, so its files
    // drop out as the walk up meets the missing parent.
    let folders: HashMap<i64, m::Folder> = m::room_folders(conn, ctx.room.id)?
        .into_iter()
        .map(|f| (f.id, f))
        .collect();
    let path = |mut id: i64| -> Option<Vec<String>> {
        let mut names = Vec::new();
        for _ in 0..=super::MAX_DEPTH {
            let folder = folders.get(&id)?;
            let Some(parent) = folder.parent_id else {
                names.reverse();
                return Some(names);
            };
            names.push(folder.name.clone());
            id = parent;
        }
        None
    };
    let images = files
        .into_iter()
        .filter_map(|f| {
            path(f.folder_id).map(|folders| CabinetImage {
                id: f.id,
                name: f.name,
                folders,
            })
        })
        .collect();
    Ok(PostImages { images, may_upload })
}

/// The image `file_id` of the room's cabinet, if `actor` may read it there and it is an image a
/// page may show (404 for anything else: another room's file, a deleted one, an SVG).
pub fn post_image(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    file_id: i64,
) -> AppResult<CabinetImage> {
    let room = load_cabinet(conn, Some(actor), slug, RoomAction::Read)?;
    let file = m::find_file(conn, room.room.id, file_id)?;
    let folder = m::find_folder(conn, room.room.id, file.folder_id)?;
    if file.deleted_at.is_some() || in_trash(conn, &folder)? || !is_image_type(&file.content_type) {
        return Err(AppError::NotFound);
    }
    Ok(CabinetImage {
        id: file.id,
        name: file.name,
        folders: Vec::new(),
    })
}
