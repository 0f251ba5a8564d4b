//! The WebDAV drive at `/dav/` (issue #14): a `dav_server::fs::DavFileSystem` over the room
//! cabinets, for one authenticated account per request. `/dav/` lists the rooms whose cabinet the
//! account may read (a folder per room, named by its address), and inside each the cabinet's
//! folders and files. Every operation goes through the cabinet's use cases (`services::files`), so
//! `authz` decides as on the web: a guest's mount is read-only, a room one may not read does not
//! exist (404), a deletion goes to the trash (restorable on the web).
//!
//! PUT streams the body into `tmp/` through `Storage::stage` (hashing as it goes, constant memory)
//! and commits it like any upload (`files::commit_upload`) when the body is complete; a body beyond
//! the quota is refused with 507 and leaves nothing behind. Replacing a file puts the old one in
//! the trash. Nothing here knows actix; the glue is `web::handlers::dav`.

use std::io::SeekFrom;
use std::time::SystemTime;

use bytes::Bytes;
use dav_server::davpath::DavPath;
use dav_server::fs::{
    DavDirEntry, DavFile, DavFileSystem, DavMetaData, FsError, FsFuture, FsResult, FsStream,
    OpenOptions, ReadDirMeta,
};
use futures_util::FutureExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::authz::{RoomAction, Transfer};
use super::{Actor, Core, files, rooms};
use crate::db::DbConn;
use crate::db::types::Feature;
use crate::error::AppError;
use crate::files::names::clean_name;
use crate::models::file::{self as m, File, Folder};
use crate::storage::{Staged, StoreError};

/// Longest path segment accepted, in bytes (names are at most a few hundred characters).
pub const MAX_SEGMENT_BYTES: usize = 1024;

/// Whether a request path under `/dav/` is acceptable before anything looks it up: no `.` or `..`
/// segment, no encoded `/` or `\`, no NUL or control character, no overlong segment. A path that
/// fails is answered 400 and touches nothing.
pub fn path_is_clean(raw_path: &str) -> bool {
    raw_path.split('/').all(|seg| {
        let decoded: Vec<u8> = percent_encoding::percent_decode_str(seg).collect();
        let Ok(text) = std::str::from_utf8(&decoded) else {
            return false;
        };
        text != "."
            && text != ".."
            && decoded.len() <= MAX_SEGMENT_BYTES
            && !text
                .chars()
                .any(|c| c == '/' || c == '\\' || c.is_control())
    })
}

/// The drive of one account for one request.
#[derive(Clone)]
pub struct DavFs {
    core: Core,
    actor: Actor,
    /// The room the request is about (first path segment), for the quota properties.
    quota_room: Option<String>,
}

impl DavFs {
    /// The drive as `actor` sees it; `quota_room` answers RFC 4331's quota properties.
    pub fn new(core: Core, actor: Actor, quota_room: Option<String>) -> Self {
        Self {
            core,
            actor,
            quota_room,
        }
    }
}

/// What a path names.
#[derive(Debug, Clone)]
enum Node {
    /// `/dav/`: the rooms.
    Top,
    /// A folder of a room's cabinet (`folder.id == 0`: the root, not made yet), with the bytes
    /// its room uses (RFC 4331's `quota-used-bytes` of every collection of the room).
    Folder {
        slug: String,
        folder: Folder,
        used: u64,
    },
    /// A file.
    File { slug: String, file: File },
}

/// The decoded segments of a path.
fn segments(path: &DavPath) -> FsResult<Vec<String>> {
    let bytes = path.as_bytes();
    let text = std::str::from_utf8(bytes).map_err(|_| FsError::NotFound)?;
    Ok(text
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect())
}

/// A refusal of a change in a room the actor can read: authz answers 404 for what one may not
/// do there, which a WebDAV client would take for a missing parent (409); it is a 403.
fn write_error(e: &AppError) -> FsError {
    match e {
        AppError::NotFound => FsError::Forbidden,
        e => fs_error(e),
    }
}

fn fs_error(e: &AppError) -> FsError {
    match e {
        AppError::NotFound | AppError::Gone(_) => FsError::NotFound,
        AppError::Forbidden | AppError::Unauthenticated | AppError::Invalid(_) => {
            FsError::Forbidden
        }
        AppError::OverQuota | AppError::InsufficientStorage | AppError::PayloadTooLarge => {
            FsError::InsufficientStorage
        }
        AppError::Conflict(_) => FsError::Exists,
        other => {
            tracing::error!(error = %other, "webdav");
            FsError::GeneralFailure
        }
    }
}

/// Resolves a path for `actor` (reads only; a room's root not made yet is a stand-in).
fn resolve(conn: &mut DbConn, actor: &Actor, segs: &[String]) -> Result<Node, AppError> {
    let Some((slug, rest)) = segs.split_first() else {
        return Ok(Node::Top);
    };
    let ctx = files::load_cabinet(conn, Some(actor), slug, RoomAction::Read)?;
    let used = u64::try_from(m::room_usage(conn, ctx.room.id)?).unwrap_or(0);
    let mut folder = match m::root_folder(conn, ctx.room.id)? {
        Some(f) => f,
        None if rest.is_empty() => {
            return Ok(Node::Folder {
                slug: slug.clone(),
                folder: Folder {
                    id: 0,
                    room_id: ctx.room.id,
                    parent_id: None,
                    name: String::new(),
                    name_key: String::new(),
                    created_by: 0,
                    created_at: ctx.room.created_at,
                    deleted_at: None,
                    deleted_by: None,
                },
                used,
            });
        }
        None => return Err(AppError::NotFound),
    };
    for (i, seg) in rest.iter().enumerate() {
        let key = clean_name(seg).map_err(|_| AppError::NotFound)?.key;
        if let Some(f) = m::live_child_folder(conn, folder.id, &key)? {
            folder = f;
            continue;
        }
        if i + 1 == rest.len()
            && let Some(file) = m::live_file_named(conn, folder.id, &key)?
        {
            return Ok(Node::File {
                slug: slug.clone(),
                file,
            });
        }
        return Err(AppError::NotFound);
    }
    Ok(Node::Folder {
        slug: slug.clone(),
        folder,
        used,
    })
}

impl DavFs {
    async fn node(&self, path: &DavPath) -> FsResult<Node> {
        let segs = segments(path)?;
        let actor = self.actor.clone();
        self.core
            .db
            .read(move |conn| resolve(conn, &actor, &segs))
            .await
            .map_err(|e| fs_error(&e))
    }

    /// The parent folder of `path` and the last segment (for PUT and MKCOL).
    async fn parent_and_name(&self, path: &DavPath) -> FsResult<(String, Option<i64>, String)> {
        let mut segs = segments(path)?;
        let name = segs.pop().ok_or(FsError::Forbidden)?;
        if segs.is_empty() {
            // A new room cannot be made through the drive.
            return Err(FsError::Forbidden);
        }
        let actor = self.actor.clone();
        let node = self
            .core
            .db
            .read(move |conn| resolve(conn, &actor, &segs))
            .await
            .map_err(|e| fs_error(&e))?;
        match node {
            Node::Folder { slug, folder, .. } => {
                let id = (folder.id != 0 && folder.parent_id.is_some()).then_some(folder.id);
                Ok((slug, id, name))
            }
            _ => Err(FsError::NotFound),
        }
    }
}

/// Metadata of a file or folder.
#[derive(Debug, Clone)]
struct Meta {
    len: u64,
    modified: SystemTime,
    dir: bool,
    etag: Option<String>,
}

fn system_time(t: chrono::NaiveDateTime) -> SystemTime {
    SystemTime::from(t.and_utc())
}

impl Meta {
    fn of(node: &Node) -> Self {
        match node {
            Node::Top => Self {
                len: 0,
                modified: SystemTime::UNIX_EPOCH,
                dir: true,
                etag: None,
            },
            // `dav_server` answers a collection's `quota-used-bytes` with its length (a folder has
            // no content length of its own): the room's usage, so every folder of the room
            // shows the room's numbers, as Explorer and Finder ask them of the folder they show.
            Node::Folder { folder, used, .. } => Self {
                len: *used,
                modified: system_time(folder.created_at),
                dir: true,
                etag: None,
            },
            Node::File { file, .. } => Self {
                len: u64::try_from(file.size).unwrap_or(0),
                modified: system_time(file.updated_at),
                dir: false,
                // The content never changes under a file row: its SHA-256 is a strong validator.
                etag: Some(file.blob_sha256.clone()),
            },
        }
    }
}

impl DavMetaData for Meta {
    fn len(&self) -> u64 {
        self.len
    }
    fn modified(&self) -> FsResult<SystemTime> {
        Ok(self.modified)
    }
    fn is_dir(&self) -> bool {
        self.dir
    }
    fn etag(&self) -> Option<String> {
        self.etag.clone().or_else(|| {
            let t = self.modified.duration_since(SystemTime::UNIX_EPOCH).ok()?;
            Some(format!("{:x}", t.as_micros()))
        })
    }
}

struct Entry {
    name: String,
    meta: Meta,
}

impl DavDirEntry for Entry {
    fn name(&self) -> Vec<u8> {
        self.name.as_bytes().to_vec()
    }
    fn metadata(&'_ self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta: Box<dyn DavMetaData> = Box::new(self.meta.clone());
        async move { Ok(meta) }.boxed()
    }
}

/// The entries of a folder (or of the top: the rooms with a readable cabinet).
fn list(conn: &mut DbConn, actor: &Actor, node: &Node) -> Result<Vec<Entry>, AppError> {
    match node {
        Node::Top => Ok(rooms::list_visible(conn, Some(actor))?
            .into_iter()
            .filter(|r| r.room.features.has(Feature::Files))
            .map(|r| Entry {
                meta: Meta {
                    len: 0,
                    modified: system_time(r.room.created_at),
                    dir: true,
                    etag: None,
                },
                name: r.room.slug,
            })
            .collect()),
        Node::Folder { folder, .. } if folder.id == 0 => Ok(Vec::new()),
        Node::Folder { slug, folder, used } => {
            let mut out: Vec<Entry> = m::child_folders(conn, folder.id)?
                .into_iter()
                .map(|f| {
                    let node = Node::Folder {
                        slug: slug.clone(),
                        folder: f,
                        used: *used,
                    };
                    let meta = Meta::of(&node);
                    let Node::Folder { folder, .. } = node else {
                        unreachable!("made above")
                    };
                    Entry {
                        name: folder.name,
                        meta,
                    }
                })
                .collect();
            for (f, _) in m::folder_files(conn, folder.id)? {
                let node = Node::File {
                    slug: slug.clone(),
                    file: f,
                };
                let meta = Meta::of(&node);
                if let Node::File { file, .. } = node {
                    out.push(Entry {
                        name: file.name,
                        meta,
                    });
                }
            }
            Ok(out)
        }
        Node::File { .. } => Err(AppError::NotFound),
    }
}

impl DavFileSystem for DavFs {
    fn open<'a>(
        &'a self,
        path: &'a DavPath,
        options: OpenOptions,
    ) -> FsFuture<'a, Box<dyn DavFile>> {
        async move {
            if options.write {
                let (slug, folder, name) = self.parent_and_name(path).await?;
                let file: Box<dyn DavFile> =
                    Box::new(Upload::start(self, slug, folder, name, options.size).await?);
                return Ok(file);
            }
            match self.node(path).await? {
                Node::File { slug, file } => {
                    let (core, actor, id) = (self.core.clone(), self.actor.clone(), file.id);
                    let c2 = core.clone();
                    let d = core
                        .db
                        .read(move |conn| files::download(&c2, conn, Some(&actor), &slug, id))
                        .await
                        .map_err(|e| fs_error(&e))?;
                    let handle = tokio::fs::File::open(&d.path)
                        .await
                        .map_err(|_| FsError::GeneralFailure)?;
                    let meta = Meta::of(&Node::File {
                        slug: String::new(),
                        file,
                    });
                    let file: Box<dyn DavFile> = Box::new(BlobFile { handle, meta });
                    Ok(file)
                }
                _ => Err(FsError::Forbidden),
            }
        }
        .boxed()
    }

    fn read_dir<'a>(
        &'a self,
        path: &'a DavPath,
        _meta: ReadDirMeta,
    ) -> FsFuture<'a, FsStream<Box<dyn DavDirEntry>>> {
        async move {
            let node = self.node(path).await?;
            let actor = self.actor.clone();
            let entries = self
                .core
                .db
                .read(move |conn| list(conn, &actor, &node))
                .await
                .map_err(|e| fs_error(&e))?;
            let items: Vec<FsResult<Box<dyn DavDirEntry>>> = entries
                .into_iter()
                .map(|e| Ok(Box::new(e) as Box<dyn DavDirEntry>))
                .collect();
            let stream: FsStream<Box<dyn DavDirEntry>> =
                Box::pin(futures_util::stream::iter(items));
            Ok(stream)
        }
        .boxed()
    }

    fn metadata<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, Box<dyn DavMetaData>> {
        async move {
            let node = self.node(path).await?;
            Ok(Box::new(Meta::of(&node)) as Box<dyn DavMetaData>)
        }
        .boxed()
    }

    fn create_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            if self.node(path).await.is_ok() {
                return Err(FsError::Exists);
            }
            let (slug, parent, name) = self.parent_and_name(path).await?;
            let actor = self.actor.clone();
            self.core
                .db
                .write(move |conn| files::create_folder(conn, &actor, &slug, parent, &name))
                .await
                .map(drop)
                .map_err(|e| write_error(&e))
        }
        .boxed()
    }

    fn remove_dir<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        self.remove(path)
    }

    fn remove_file<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        self.remove(path)
    }

    fn rename<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        self.relocate(from, to, false)
    }

    fn copy<'a>(&'a self, from: &'a DavPath, to: &'a DavPath) -> FsFuture<'a, ()> {
        self.relocate(from, to, true)
    }

    fn get_quota(&'_ self) -> FsFuture<'_, (u64, Option<u64>)> {
        async move {
            let slug = self.quota_room.clone().ok_or(FsError::NotImplemented)?;
            let actor = self.actor.clone();
            self.core
                .db
                .read(move |conn| {
                    let ctx = files::load_cabinet(conn, Some(&actor), &slug, RoomAction::Read)?;
                    let used = u64::try_from(m::room_usage(conn, ctx.room.id)?).unwrap_or(0);
                    let quota = u64::try_from(ctx.room.quota_bytes).unwrap_or(0);
                    // `dav_server` answers "available" as this total minus the length of what
                    // was asked for, which for a folder is the room's usage (`Meta::of`).
                    Ok((used, Some(quota)))
                })
                .await
                .map_err(|e| fs_error(&e))
        }
        .boxed()
    }
}

/// The id of a folder named by `parent_and_name` (`None`: the room's root, made if need be).
fn folder_or_root(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    folder: Option<i64>,
) -> Result<i64, AppError> {
    if let Some(id) = folder {
        return Ok(id);
    }
    let ctx = files::load_cabinet(conn, Some(actor), slug, RoomAction::Read)?;
    // Something is being moved or copied out of this room, so its root exists.
    Ok(m::root_folder(conn, ctx.room.id)?
        .ok_or(AppError::NotFound)?
        .id)
}

/// What is moved or copied: the item, the folder it is in, its name.
#[derive(Debug, Clone)]
struct Source {
    item: files::Item,
    parent: i64,
    name: String,
}

/// MOVE or COPY of `item` in room `slug` into `target` (a folder id or the root) as `name`, in
/// one transaction, through the cabinet's own move, copy and rename (so their rights apply).
fn relocate_item(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    source: Source,
    target: Option<i64>,
    name: &str,
    copy: bool,
) -> Result<(), AppError> {
    let target = folder_or_root(conn, actor, slug, target)?;
    let Source {
        item,
        parent: current_parent,
        name: current_name,
    } = source;
    let moved = if copy {
        files::copy_item(conn, actor, slug, item, target)?;
        match item {
            files::Item::File(_) => files::Item::File(
                m::newest_file_in(conn, target)?
                    .ok_or(AppError::NotFound)?
                    .id,
            ),
            files::Item::Folder(_) => files::Item::Folder(
                m::newest_folder_in(conn, target)?
                    .ok_or(AppError::NotFound)?
                    .id,
            ),
        }
    } else {
        if current_parent != target {
            files::move_item(conn, actor, slug, item, target)?;
        }
        item
    };
    if copy || current_name != name {
        files::rename(conn, actor, slug, moved, name)?;
    }
    Ok(())
}

impl DavFs {
    fn relocate<'a>(&'a self, from: &'a DavPath, to: &'a DavPath, copy: bool) -> FsFuture<'a, ()> {
        async move {
            let (slug, source) = match self.node(from).await? {
                Node::File { slug, file } => (
                    slug,
                    Source {
                        item: files::Item::File(file.id),
                        parent: file.folder_id,
                        name: file.name,
                    },
                ),
                Node::Folder { slug, folder, .. } if folder.parent_id.is_some() => (
                    slug,
                    Source {
                        item: files::Item::Folder(folder.id),
                        parent: folder.parent_id.unwrap_or(0),
                        name: folder.name,
                    },
                ),
                _ => return Err(FsError::Forbidden),
            };
            let (to_slug, target, name) = self.parent_and_name(to).await?;
            let actor = self.actor.clone();
            if to_slug != slug {
                // Between rooms: the target's rights and quota, the source to its room's trash.
                let kind = if copy { Transfer::Copy } else { Transfer::Move };
                return self
                    .core
                    .db
                    .write(move |conn| {
                        let to = files::Destination {
                            slug: &to_slug,
                            folder: target,
                            name: &name,
                        };
                        files::transfer_item(conn, &actor, &slug, source.item, to, kind)
                    })
                    .await
                    .map(drop)
                    .map_err(|e| write_error(&e));
            }
            self.core
                .db
                .write(move |conn| relocate_item(conn, &actor, &slug, source, target, &name, copy))
                .await
                .map_err(|e| write_error(&e))
        }
        .boxed()
    }

    /// Whether what a MOVE or COPY from `from` to `to` adds to the target room fits in its free
    /// quota: `InsufficientStorage` (507) if not. Asked before `dav_server` starts, which copies a
    /// folder file by file and first deletes a destination it overwrites, so that a refusal
    /// changes nothing; every file's copy checks the quota again in its own transaction. Anything
    /// else (a path that does not resolve, rights) is left to the method itself.
    pub async fn transfer_fits(&self, from: &DavPath, to: &DavPath, copy: bool) -> FsResult<()> {
        let (slug, room_id, item) = match self.node(from).await {
            Ok(Node::File { slug, file }) => (slug, file.room_id, files::Item::File(file.id)),
            Ok(Node::Folder { slug, folder, .. }) if folder.id != 0 => {
                (slug, folder.room_id, files::Item::Folder(folder.id))
            }
            _ => return Ok(()),
        };
        let Some(to_slug) = segments(to)?.into_iter().next() else {
            return Ok(());
        };
        if !copy && to_slug == slug {
            // A move within a room adds nothing.
            return Ok(());
        }
        let actor = self.actor.clone();
        let fits = self
            .core
            .db
            .read(move |conn| {
                let ctx = files::load_cabinet(conn, Some(&actor), &to_slug, RoomAction::Read)?;
                let free = ctx.room.quota_bytes - m::room_usage(conn, ctx.room.id)?;
                Ok(files::item_bytes(conn, room_id, item)? <= free)
            })
            .await
            .unwrap_or(true);
        if fits {
            Ok(())
        } else {
            Err(FsError::InsufficientStorage)
        }
    }

    /// DELETE: the file or folder goes to the trash, as on the web.
    fn remove<'a>(&'a self, path: &'a DavPath) -> FsFuture<'a, ()> {
        async move {
            let item = match self.node(path).await? {
                Node::File { slug, file } => (slug, files::Item::File(file.id)),
                Node::Folder { slug, folder, .. } if folder.parent_id.is_some() => {
                    (slug, files::Item::Folder(folder.id))
                }
                _ => return Err(FsError::Forbidden),
            };
            let actor = self.actor.clone();
            self.core
                .db
                .write(move |conn| files::delete_item(conn, &actor, &item.0, item.1))
                .await
                .map(drop)
                .map_err(|e| write_error(&e))
        }
        .boxed()
    }
}

/// A blob opened for reading (GET, with ranges by seeking).
#[derive(Debug)]
struct BlobFile {
    handle: tokio::fs::File,
    meta: Meta,
}

impl DavFile for BlobFile {
    fn metadata(&'_ mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        let meta: Box<dyn DavMetaData> = Box::new(self.meta.clone());
        async move { Ok(meta) }.boxed()
    }
    fn write_buf(&'_ mut self, _buf: Box<dyn bytes::Buf + Send>) -> FsFuture<'_, ()> {
        async { Err(FsError::Forbidden) }.boxed()
    }
    fn write_bytes(&'_ mut self, _buf: Bytes) -> FsFuture<'_, ()> {
        async { Err(FsError::Forbidden) }.boxed()
    }
    fn read_bytes(&'_ mut self, count: usize) -> FsFuture<'_, Bytes> {
        async move {
            let mut buf = vec![0u8; count];
            let mut filled = 0;
            while filled < count {
                let n = self
                    .handle
                    .read(&mut buf[filled..])
                    .await
                    .map_err(|_| FsError::GeneralFailure)?;
                if n == 0 {
                    break;
                }
                filled += n;
            }
            buf.truncate(filled);
            Ok(Bytes::from(buf))
        }
        .boxed()
    }
    fn seek(&'_ mut self, pos: SeekFrom) -> FsFuture<'_, u64> {
        async move {
            self.handle
                .seek(pos)
                .await
                .map_err(|_| FsError::GeneralFailure)
        }
        .boxed()
    }
    fn flush(&'_ mut self) -> FsFuture<'_, ()> {
        async { Ok(()) }.boxed()
    }
}

type Chunk = Result<Bytes, std::io::Error>;

/// A PUT in flight: the body's chunks go through a small channel into `Storage::stage` (so at
/// most a few chunks wait in memory), and `flush` commits the staged bytes as the file.
struct Upload {
    core: Core,
    actor: Actor,
    target: files::UploadTarget,
    name: crate::files::names::CleanName,
    tx: Option<tokio::sync::mpsc::Sender<Chunk>>,
    staging: Option<tokio::task::JoinHandle<Result<Staged, StoreError>>>,
    done: bool,
}

impl std::fmt::Debug for Upload {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upload")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Upload {
    async fn start(
        fs: &DavFs,
        slug: String,
        folder: Option<i64>,
        raw_name: String,
        declared: Option<u64>,
    ) -> FsResult<Self> {
        let name =
            crate::files::names::clean_upload_name(&raw_name).map_err(|_| FsError::Forbidden)?;
        let (core, actor) = (fs.core.clone(), fs.actor.clone());
        let c2 = core.clone();
        let a2 = actor.clone();
        let target = core
            .db
            .write(move |conn| files::check_upload(&c2, conn, &a2, &slug, folder, declared))
            .await
            .map_err(|e| write_error(&e))?;
        let (tx, rx) = tokio::sync::mpsc::channel::<Chunk>(4);
        let body = Box::pin(futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|c| (c, rx))
        }));
        let storage = core.storage.clone();
        // The trash counts toward the quota, so a replaced file's bytes still count: the limit is
        // the free quota, as for a new file.
        let limit = target.limit;
        let staging = tokio::spawn(async move { storage.stage(body, limit).await });
        Ok(Self {
            core,
            actor,
            target,
            name,
            tx: Some(tx),
            staging: Some(staging),
            done: false,
        })
    }

    async fn send(&mut self, chunk: Bytes) -> FsResult<()> {
        let Some(tx) = &self.tx else {
            return Err(FsError::GeneralFailure);
        };
        if tx.send(Ok(chunk)).await.is_ok() {
            return Ok(());
        }
        // The stager stopped early: say why.
        self.tx = None;
        match self.staging.take() {
            Some(h) => match h.await {
                Ok(Err(StoreError::TooLarge | StoreError::Full)) => {
                    Err(FsError::InsufficientStorage)
                }
                _ => Err(FsError::GeneralFailure),
            },
            None => Err(FsError::GeneralFailure),
        }
    }

    async fn commit(&mut self) -> FsResult<()> {
        if self.done {
            return Ok(());
        }
        self.tx = None;
        let h = self.staging.take().ok_or(FsError::GeneralFailure)?;
        let staged = match h.await.map_err(|_| FsError::GeneralFailure)? {
            Ok(s) => std::sync::Arc::new(s),
            Err(StoreError::TooLarge | StoreError::Full) => {
                return Err(FsError::InsufficientStorage);
            }
            Err(_) => return Err(FsError::GeneralFailure),
        };
        let storage = self.core.storage.clone();
        let (a, t, n, st) = (
            self.actor.clone(),
            self.target.clone(),
            self.name.clone(),
            staged.clone(),
        );
        let result = self
            .core
            .db
            .write(move |conn| {
                // Replacing: the old file goes to the trash in the same transaction.
                if let Some(old) = m::live_file_named(conn, t.folder_id, &n.key)? {
                    files::delete_item(conn, &a, &t.slug, files::Item::File(old.id))?;
                }
                let tags = crate::files::audio::tags_if_audio(&n.name, &st.path);
                files::commit_upload(&storage, conn, &a, &t, &st, &n, &tags)
            })
            .await;
        self.core.storage.discard(&staged);
        self.done = true;
        result.map(drop).map_err(|e| fs_error(&e))
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        // A body that broke off (or a refused commit) leaves nothing: the stager is told, and
        // whatever it staged is removed.
        if let Some(tx) = self.tx.take() {
            let _ = tx.try_send(Err(std::io::Error::other("request ended")));
        }
        if let Some(h) = self.staging.take() {
            let storage = self.core.storage.clone();
            tokio::spawn(async move {
                if let Ok(Ok(staged)) = h.await {
                    storage.discard(&staged);
                }
            });
        }
    }
}

impl DavFile for Upload {
    fn metadata(&'_ mut self) -> FsFuture<'_, Box<dyn DavMetaData>> {
        async move {
            let meta: Box<dyn DavMetaData> = Box::new(Meta {
                len: 0,
                modified: SystemTime::now(),
                dir: false,
                etag: None,
            });
            Ok(meta)
        }
        .boxed()
    }
    fn write_buf(&'_ mut self, mut buf: Box<dyn bytes::Buf + Send>) -> FsFuture<'_, ()> {
        async move {
            let chunk = buf.copy_to_bytes(buf.remaining());
            self.send(chunk).await
        }
        .boxed()
    }
    fn write_bytes(&'_ mut self, buf: Bytes) -> FsFuture<'_, ()> {
        async move { self.send(buf).await }.boxed()
    }
    fn read_bytes(&'_ mut self, _count: usize) -> FsFuture<'_, Bytes> {
        async { Err(FsError::Forbidden) }.boxed()
    }
    fn seek(&'_ mut self, _pos: SeekFrom) -> FsFuture<'_, u64> {
        async { Err(FsError::NotImplemented) }.boxed()
    }
    fn flush(&'_ mut self) -> FsFuture<'_, ()> {
        async move { self.commit().await }.boxed()
    }
}
