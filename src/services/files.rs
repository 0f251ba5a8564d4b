//! Room cabinets (DESIGN.md §6): folders and files per room, uploads (plain and resumable), downloads,
//! rename / move / copy, a trash that is purged after `storage.trash_days`, and garbage collection of
//! blobs no file refers to. Every use case loads the room through `rooms::load_for`, so
//! `authorize_room` decides: readers download, those who may create content upload, and editing or
//! deleting someone else's file needs the "edit others" cell.

use chrono::{Duration as ChronoDuration, NaiveDateTime};
use unicode_normalization::UnicodeNormalization;

use super::authz::{RoomAction, authorize_room};
use super::rooms::{RoomCtx, load_for};
use super::{Actor, Core};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::file::{self as m, File, FileWithUploader, Folder, NewFile, Upload};
use crate::models::{audit, now};
use crate::storage::{Staged, Storage, StoreError};

/// Longest file or folder name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Deepest folder nesting (also bounds every walk up or down the tree).
pub const MAX_DEPTH: usize = 32;
/// Blobs younger than this are never collected (an upload may be about to refer to them).
const GC_GRACE_MINUTES: i64 = 60;
/// Resumable uploads untouched this long are abandoned and removed.
const STALE_UPLOAD_DAYS: i64 = 7;

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::TooLarge => Self::PayloadTooLarge,
            StoreError::Full => Self::InsufficientStorage,
            StoreError::Interrupted(_) => Self::Invalid(FieldErrors::default()),
            StoreError::Io(e) => Self::Internal(anyhow::anyhow!("storage: {e}")),
        }
    }
}

/// A cleaned name: NFC text, and its key (lower case) for "same name" checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanName {
    /// As shown.
    pub name: String,
    /// NFC + lower case.
    pub key: String,
}

/// Checks a file or folder name typed by a person: NFC, trimmed, no path separators, no control
/// characters, not `.` or `..`, at most `MAX_NAME_CHARS`. Names are never used as paths; these rules
/// keep them sane in zip downloads and on the computers files are downloaded to.
pub fn clean_name(raw: &str) -> Result<CleanName, &'static str> {
    let name: String = raw.nfc().collect::<String>().trim().to_owned();
    if name.is_empty() || name == "." || name == ".." {
        return Err("files.name_empty");
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err("files.name_too_long");
    }
    if name
        .chars()
        .any(|c| c.is_control() || matches!(c, '/' | '\\'))
    {
        return Err("files.name_bad_chars");
    }
    let key = name.to_lowercase();
    Ok(CleanName { name, key })
}

/// The name of an uploaded file as the client sent it: only the last path component is kept (some
/// clients send a whole path), then `clean_name` applies.
pub fn clean_upload_name(raw: &str) -> Result<CleanName, &'static str> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    clean_name(base)
}

/// Types a browser may show inline; everything else is downloaded (never rendered: no HTML, no SVG).
pub fn is_inline_type(content_type: &str) -> bool {
    content_type.starts_with("audio/")
        || content_type.starts_with("video/")
        || matches!(
            content_type,
            "application/pdf"
                | "image/png"
                | "image/jpeg"
                | "image/gif"
                | "image/webp"
                | "image/avif"
                | "image/bmp"
        )
}

/// The type a file is stored with, from its name.
pub fn content_type_for(name: &str) -> String {
    mime_guess::from_path(name)
        .first_raw()
        .unwrap_or("application/octet-stream")
        .to_owned()
}

fn ensure_files_feature(ctx: &RoomCtx) -> AppResult<()> {
    if ctx.room.features.split(',').any(|f| f == "files") {
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
    let may_create = may(actor, &ctx, RoomAction::CreateContent);
    let may_edit_others = may(actor, &ctx, RoomAction::EditContent { own: false });
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

fn field_error(field: &'static str, key: &'static str) -> AppError {
    let mut e = FieldErrors::default();
    e.add(field, key);
    AppError::Invalid(e)
}

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
    let used = u64::try_from(m::room_usage(conn, ctx.room.id)?).unwrap_or(0);
    let quota = u64::try_from(ctx.room.quota_bytes).unwrap_or(0);
    let limit = quota
        .saturating_sub(used)
        .min(core.config.storage.max_file_bytes);
    if let Some(n) = declared {
        if n > limit {
            return Err(AppError::PayloadTooLarge);
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

/// A name not taken in the folder: `name`, else `name (2).ext`, `name (3).ext` …
fn free_name(conn: &mut DbConn, folder_id: i64, name: &CleanName) -> AppResult<CleanName> {
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

/// Tags of an audio file, when it has them.
#[derive(Debug, Default, Clone)]
pub struct AudioTags {
    /// Title.
    pub title: Option<String>,
    /// Artist.
    pub artist: Option<String>,
    /// Album.
    pub album: Option<String>,
    /// Track number.
    pub track: Option<i64>,
}

/// Reads title/artist/album/track from an audio file (ID3, Vorbis comments, MP4, RIFF INFO …).
/// A file without tags, or one lofty cannot read, simply has none. Blocking.
pub fn read_audio_tags(path: &std::path::Path) -> AudioTags {
    use lofty::file::TaggedFileExt;
    use lofty::tag::Accessor;
    let Some(probe) = lofty::probe::Probe::open(path)
        .ok()
        .and_then(|p| p.guess_file_type().ok())
    else {
        return AudioTags::default();
    };
    let Ok(tagged) = probe.read() else {
        return AudioTags::default();
    };
    let Some(tag) = tagged.primary_tag().or_else(|| tagged.first_tag()) else {
        return AudioTags::default();
    };
    let text = |v: Option<std::borrow::Cow<'_, str>>| {
        v.map(|s| s.trim().chars().take(MAX_NAME_CHARS).collect::<String>())
            .filter(|s| !s.is_empty())
    };
    AudioTags {
        title: text(tag.title()),
        artist: text(tag.artist()),
        album: text(tag.album()),
        track: tag.track().map(i64::from),
    }
}

/// The tags of an uploaded file: read for audio files (by their name's type), none otherwise.
/// Blocking.
pub fn tags_if_audio(name: &str, path: &std::path::Path) -> AudioTags {
    if content_type_for(name).starts_with("audio/") {
        read_audio_tags(path)
    } else {
        AudioTags::default()
    }
}

/// Writes `entries` (from `zip_entries`) as a zip into `sink`: stored entries (media and PDFs are
/// compressed already) with ZIP64, streamed, so memory stays flat for any size. Blocking; the
/// caller's `sink` decides where the bytes go.
pub fn write_zip(
    sink: impl std::io::Write,
    entries: &[(String, std::path::PathBuf)],
) -> Result<(), Box<dyn std::error::Error>> {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new_stream(std::io::BufWriter::with_capacity(64 * 1024, sink));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .large_file(true);
    for (name, blob) in entries {
        if name.ends_with('/') {
            zip.add_directory(name.as_str(), opts)?;
        } else {
            zip.start_file(name.as_str(), opts)?;
            let mut f = std::fs::File::open(blob)?;
            std::io::copy(&mut f, &mut zip)?;
        }
    }
    zip.finish()?;
    Ok(())
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
    let used = m::room_usage(conn, ctx.room.id)?;
    let size = i64::try_from(staged.size).map_err(|_| AppError::PayloadTooLarge)?;
    if used.saturating_add(size) > ctx.room.quota_bytes {
        return Err(AppError::PayloadTooLarge);
    }
    let at = now();
    m::touch_blob(conn, &staged.sha256, size, at)?;
    storage.ensure_blob(staged).map_err(StoreError::from)?;
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

/// Something in a cabinet that an action names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Item {
    /// A file by id.
    File(i64),
    /// A folder by id.
    Folder(i64),
}

/// Loads a live item and checks that `actor` may change it (own, or others' with the "edit others"
/// cell). Root folders cannot be changed.
fn changeable(conn: &mut DbConn, actor: &Actor, ctx: &RoomCtx, item: Item) -> AppResult<Loaded> {
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

enum Loaded {
    File(File),
    Folder(Folder),
}

impl Loaded {
    fn owner(&self) -> i64 {
        match self {
            Self::File(f) => f.uploaded_by,
            Self::Folder(f) => f.created_by,
        }
    }

    fn parent(&self) -> i64 {
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

fn subtree_depth(conn: &mut DbConn, folder_id: i64, depth: usize) -> AppResult<usize> {
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
    let mut budget = ctx.room.quota_bytes - m::room_usage(conn, ctx.room.id)?;
    match item {
        Item::File(id) => {
            let f = m::find_file(conn, ctx.room.id, id)?;
            let folder = m::find_folder(conn, ctx.room.id, f.folder_id)?;
            if f.deleted_at.is_some() || in_trash(conn, &folder)? {
                return Err(AppError::NotFound);
            }
            copy_file(conn, actor, &f, target.id, &mut budget, at)?;
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
            copy_folder(conn, actor, &f, target.id, &mut budget, at, 0)?;
        }
    }
    Ok(target.id)
}

fn copy_file(
    conn: &mut DbConn,
    actor: &Actor,
    f: &File,
    target: i64,
    budget: &mut i64,
    at: NaiveDateTime,
) -> AppResult<()> {
    *budget -= f.size;
    if *budget < 0 {
        return Err(AppError::PayloadTooLarge);
    }
    let name = free_name(
        conn,
        target,
        &CleanName {
            name: f.name.clone(),
            key: f.name_key.clone(),
        },
    )?;
    m::touch_blob(conn, &f.blob_sha256, f.size, at)?;
    m::insert_file(
        conn,
        &NewFile {
            room_id: f.room_id,
            folder_id: target,
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

fn copy_folder(
    conn: &mut DbConn,
    actor: &Actor,
    f: &Folder,
    target: i64,
    budget: &mut i64,
    at: NaiveDateTime,
    depth: usize,
) -> AppResult<()> {
    if depth > MAX_DEPTH {
        return Err(field_error("target", "files.too_deep"));
    }
    let name = free_name(
        conn,
        target,
        &CleanName {
            name: f.name.clone(),
            key: f.name_key.clone(),
        },
    )?;
    let copy = m::insert_folder(
        conn,
        f.room_id,
        Some(target),
        &name.name,
        &name.key,
        actor.id,
        at,
    )?;
    for (file, _) in m::folder_files(conn, f.id)? {
        copy_file(conn, actor, &file, copy, budget, at)?;
    }
    for child in m::child_folders(conn, f.id)? {
        copy_folder(conn, actor, &child, copy, budget, at, depth + 1)?;
    }
    Ok(())
}

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
    let ctx = load_cabinet(conn, actor, slug, RoomAction::Read)?;
    let f = m::find_file(conn, ctx.room.id, file_id)?;
    let folder = m::find_folder(conn, ctx.room.id, f.folder_id)?;
    if f.deleted_at.is_some() || in_trash(conn, &folder)? {
        return Err(AppError::NotFound);
    }
    Ok(Download {
        path: core.storage.blob_path(&f.blob_sha256),
        name: f.name,
        content_type: f.content_type,
        sha256: f.blob_sha256,
    })
}

/// The entries of a folder as a zip: `(path inside the zip, blob on disk)`, folders first.
pub fn zip_entries(
    core: &Core,
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    folder_id: Option<i64>,
) -> AppResult<(String, Vec<(String, std::path::PathBuf)>)> {
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
    out: &mut Vec<(String, std::path::PathBuf)>,
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

/// Records the bytes a part now holds.
pub fn record_received(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: &str,
    received: u64,
) -> AppResult<()> {
    let upload = own_upload(conn, actor, slug, id)?;
    let received = i64::try_from(received).map_err(|_| AppError::PayloadTooLarge)?;
    m::set_upload_received(conn, &upload.id, received, now())?;
    Ok(())
}

/// Finishes a resumable upload whose part is complete (inside a write transaction): the part
/// becomes a blob and a file. Returns `(folder id, file id)`.
pub fn finish_upload(
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
    m::delete_upload(conn, &upload.id)?;
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

/// Cancels a resumable upload (the caller removes its part after the commit).
pub fn cancel_upload(conn: &mut DbConn, actor: &Actor, slug: &str, id: &str) -> AppResult<()> {
    let upload = own_upload(conn, actor, slug, id)?;
    m::delete_upload(conn, &upload.id)?;
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_nfc_and_refuse_path_tricks() {
        // が as one code point and as か + combining mark are the same name.
        let composed = clean_name("が.txt").unwrap();
        let decomposed = clean_name("か\u{3099}.txt").unwrap();
        assert_eq!(composed, decomposed);
        assert_eq!(clean_name("  議事録.PDF ").unwrap().key, "議事録.pdf");
        for bad in [
            "", ".", "..", "../x", "a/b", "a\\b", "a\0b", "a\nb", "\u{7f}",
        ] {
            assert!(clean_name(bad).is_err(), "{bad:?} accepted");
        }
        assert!(clean_name(&"あ".repeat(MAX_NAME_CHARS + 1)).is_err());
        assert!(clean_name(&"あ".repeat(MAX_NAME_CHARS)).is_ok());
    }

    #[test]
    fn upload_names_keep_only_the_last_component() {
        assert_eq!(
            clean_upload_name("../../etc/passwd").unwrap().name,
            "passwd"
        );
        assert_eq!(
            clean_upload_name("C:\\Users\\a\\写真.jpg").unwrap().name,
            "写真.jpg"
        );
        assert_eq!(clean_upload_name("%2e%2e%2fx").unwrap().name, "%2e%2e%2fx");
        assert!(clean_upload_name("dir/..").is_err());
    }

    #[test]
    fn only_media_pdf_and_raster_images_are_inline() {
        for t in [
            "audio/mpeg",
            "video/mp4",
            "application/pdf",
            "image/png",
            "image/jpeg",
        ] {
            assert!(is_inline_type(t), "{t}");
        }
        for t in [
            "text/html",
            "image/svg+xml",
            "application/octet-stream",
            "text/plain",
        ] {
            assert!(!is_inline_type(t), "{t}");
        }
        assert_eq!(content_type_for("x.jpg.html"), "text/html");
        assert_eq!(content_type_for("曲.mp3"), "audio/mpeg");
    }
}
