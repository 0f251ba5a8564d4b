//! Room cabinets' pages: a folder, the trash, and the JSON answers of the resumable uploads.

use serde::Serialize;

use super::rooms::{RoomItem, room_item};
use super::{Errors, Layout, Page, path_segment};
use crate::files::mime::is_inline_type;
use crate::files::preview::{PreviewKind, Rows, TextStart, preview_kind};
use crate::services::Actor;
use crate::services::files::{File, Folder};
use crate::services::files::{FolderView, TrashView};
use crate::services::site::SiteSettings;

/// A folder in a list or in the breadcrumb.
#[derive(Debug, Clone, Serialize)]
pub struct FolderItem {
    pub id: i64,
    pub name: String,
    pub url: String,
    /// The actor may rename, move and delete it.
    pub changeable: bool,
}

/// A file row.
#[derive(Debug, Clone, Serialize)]
pub struct FileItem {
    pub id: i64,
    pub name: String,
    /// Opens it (inline for media, PDF and raster images; a download otherwise).
    pub url: String,
    /// Always downloads.
    pub download_url: String,
    pub size: String,
    pub bytes: i64,
    pub uploader: String,
    pub date: String,
    pub audio: bool,
    pub title: String,
    pub artist: String,
    pub changeable: bool,
}

/// Human-readable size: `532 B`, `1.2 MB`, `3.4 GB` (powers of 1024, as file managers show).
pub fn human_size(bytes: i64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    #[expect(
        clippy::cast_precision_loss,
        reason = "a size shown with one decimal; precision beyond 2^52 bytes does not matter"
    )]
    let mut v = bytes.max(0) as f64;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[unit])
    }
}

/// The URL of a folder page (`0` is the root).
pub fn folder_url(slug: &str, id: i64) -> String {
    format!("/rooms/{slug}/files/folder/{id}")
}

/// The URL of a file's preview page (text, CSV and Markdown files).
pub fn preview_url(slug: &str, id: i64) -> String {
    format!("/rooms/{slug}/files/preview/{id}")
}

/// The URL that serves a file; the name at the end is what browsers save it as.
pub fn file_url(slug: &str, f: &File) -> String {
    format!(
        "/rooms/{slug}/files/file/{}/{}",
        f.id,
        path_segment(&f.name)
    )
}

/// A folder that files can be moved or copied to.
#[derive(Debug, Clone, Serialize)]
pub struct Target {
    pub id: i64,
    pub path: String,
}

/// The whole cabinet page.
#[derive(Debug, Clone, Serialize)]
pub struct CabinetPage {
    pub folder_id: i64,
    pub is_root: bool,
    pub breadcrumb: Vec<FolderItem>,
    pub folders: Vec<FolderItem>,
    pub files: Vec<FileItem>,
    pub tracks: Vec<FileItem>,
    pub usage: String,
    pub quota: String,
    pub usage_percent: i64,
    pub may_create: bool,
    pub targets: Vec<Target>,
    pub zip_url: String,
    pub upload_url: String,
}

/// Builds the cabinet page for `actor`.
pub fn cabinet_page(v: &FolderView, actor: Option<&Actor>, site: &SiteSettings) -> CabinetPage {
    let slug = &v.ctx.room.slug;
    let may_change =
        |owner: i64| actor.is_some_and(|a| v.may_create && (owner == a.id || v.may_edit_others));
    let folder_id = v.folder.id;
    let breadcrumb = v
        .path
        .iter()
        .map(|f| FolderItem {
            id: f.id,
            name: f.name.clone(),
            url: folder_url(slug, if f.parent_id.is_none() { 0 } else { f.id }),
            changeable: false,
        })
        .collect();
    let folders = v
        .folders
        .iter()
        .map(|f: &Folder| FolderItem {
            id: f.id,
            name: f.name.clone(),
            url: folder_url(slug, f.id),
            changeable: may_change(f.created_by),
        })
        .collect();
    let files: Vec<FileItem> = v
        .files
        .iter()
        .map(|(f, uploader)| {
            let url = file_url(slug, f);
            FileItem {
                id: f.id,
                name: f.name.clone(),
                download_url: format!("{url}?download=1"),
                // Text, CSV and Markdown open their preview page; the rest open as before.
                url: if preview_kind(&f.content_type).is_some() {
                    preview_url(slug, f.id)
                } else {
                    url
                },
                size: human_size(f.size),
                bytes: f.size,
                uploader: uploader.clone(),
                date: site.local_datetime(f.created_at),
                audio: f.content_type.starts_with("audio/") && is_inline_type(&f.content_type),
                title: f.title.clone().unwrap_or_else(|| f.name.clone()),
                artist: f.artist.clone().unwrap_or_default(),
                changeable: may_change(f.uploaded_by),
            }
        })
        .collect();
    let mut tracks: Vec<FileItem> = files.iter().filter(|f| f.audio).cloned().collect();
    let track_no = |id: i64| {
        v.files
            .iter()
            .find(|(f, _)| f.id == id)
            .and_then(|(f, _)| f.track)
    };
    tracks.sort_by_key(|t| (track_no(t.id).unwrap_or(i64::MAX), t.name.clone()));
    let url_id = if v.folder.parent_id.is_none() {
        0
    } else {
        folder_id
    };
    let usage_percent = if v.quota > 0 {
        (v.usage.saturating_mul(100) / v.quota).clamp(0, 100)
    } else {
        100
    };
    CabinetPage {
        folder_id: url_id,
        is_root: v.folder.parent_id.is_none(),
        breadcrumb,
        folders,
        files,
        tracks,
        usage: human_size(v.usage),
        quota: human_size(v.quota),
        usage_percent,
        may_create: v.may_create,
        targets: v
            .targets
            .iter()
            .map(|(id, path)| Target {
                id: *id,
                path: path.clone(),
            })
            .collect(),
        zip_url: format!("{}/zip", folder_url(slug, url_id)),
        upload_url: format!("{}/upload", folder_url(slug, url_id)),
    }
}

/// A row of the trash.
#[derive(Debug, Clone, Serialize)]
pub struct TrashItem {
    pub kind: &'static str,
    pub id: i64,
    pub name: String,
    pub size: String,
    pub deleted: String,
    pub may_restore: bool,
}

/// The trash page's rows, folders first.
pub fn trash_items(v: &TrashView, site: &SiteSettings) -> Vec<TrashItem> {
    let date =
        |d: Option<chrono::NaiveDateTime>| d.map(|d| site.local_datetime(d)).unwrap_or_default();
    v.folders
        .iter()
        .map(|(f, ok)| TrashItem {
            kind: "folder",
            id: f.id,
            name: f.name.clone(),
            size: String::new(),
            deleted: date(f.deleted_at),
            may_restore: *ok,
        })
        .chain(v.files.iter().map(|(f, ok)| TrashItem {
            kind: "file",
            id: f.id,
            name: f.name.clone(),
            size: human_size(f.size),
            deleted: date(f.deleted_at),
            may_restore: *ok,
        }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_like_a_file_manager() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(4 * 1024 * 1024 * 1024), "4.0 GB");
    }
}

/// `POST …/folder/{id}/uploads` (201): the new resumable upload, and where its first chunk goes.
#[derive(Debug, Serialize)]
pub struct UploadCreated {
    pub id: String,
    pub offset: u64,
}

/// `GET …/uploads/{id}`: where to resume (`offset`) and the declared size.
#[derive(Debug, Serialize)]
pub struct UploadProgress {
    pub offset: u64,
    pub size: u64,
}

/// `PUT …/uploads/{id}?offset=N`: how many bytes the upload holds now.
#[derive(Debug, Serialize)]
pub struct ChunkStored {
    pub offset: u64,
}

/// `POST …/uploads/{id}/finish`: the new file's id and its folder's page.
#[derive(Debug, Serialize)]
pub struct UploadFinished {
    pub file: i64,
    pub folder: String,
}

/// `files/folder.html`: a folder of a room's cabinet, with the upload and new-folder forms.
#[derive(Debug, Clone, Serialize)]
pub struct FolderPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The room.
    pub room: RoomItem,
    /// The folder, its contents and what the visitor may do there.
    pub cabinet: CabinetPage,
    /// Field errors of a refused change (shown above the list).
    pub errors: Errors,
}

impl Page for FolderPage {
    const TEMPLATE: &'static str = "files/folder.html";
}

impl FolderPage {
    /// The page of `v` for `actor`; `layout` is made with `FolderPage::path`.
    pub fn new(
        layout: Layout,
        v: &FolderView,
        actor: Option<&Actor>,
        site: &SiteSettings,
        errors: Errors,
    ) -> Self {
        Self {
            layout,
            room: room_item(&v.ctx.room, v.ctx.access.role),
            cabinet: cabinet_page(v, actor, site),
            errors,
        }
    }

    /// The folder page's own path (`0` for the root folder).
    pub fn path(v: &FolderView) -> String {
        let id = if v.folder.parent_id.is_none() {
            0
        } else {
            v.folder.id
        };
        folder_url(&v.ctx.room.slug, id)
    }
}

/// `files/trash.html`: what was deleted from a cabinet, for the days it is kept.
#[derive(Debug, Clone, Serialize)]
pub struct TrashPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The room.
    pub room: RoomItem,
    /// Folders first, then files.
    pub items: Vec<TrashItem>,
    /// How many days the trash keeps things.
    pub days: u32,
}

impl Page for TrashPage {
    const TEMPLATE: &'static str = "files/trash.html";
}

/// What a preview page shows of a file.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PreviewBody {
    /// Text, escaped by the template.
    Text {
        /// The text.
        text: String,
    },
    /// A table's rows (the first as the header), each cell escaped by the template.
    Table {
        /// The rows.
        rows: Vec<Vec<String>>,
        /// More rows follow.
        more: bool,
    },
    /// Markdown rendered through the posts' sanitiser.
    Markdown {
        /// Sanitised HTML.
        html: String,
    },
}

impl PreviewBody {
    /// The body of a file of `kind` that starts with `start`.
    pub fn new(kind: PreviewKind, start: TextStart) -> Self {
        match kind {
            PreviewKind::Text => Self::Text { text: start.text },
            PreviewKind::Table { delimiter } => {
                let Rows { rows, more } =
                    crate::files::preview::rows(&start.text, delimiter, start.truncated);
                Self::Table { rows, more }
            }
            PreviewKind::Markdown => Self::Markdown {
                html: crate::markdown::render(&start.text),
            },
        }
    }
}

/// `files/preview.html`: a text, CSV or Markdown file shown in the page (never served as HTML),
/// with its download.
#[derive(Debug, Clone, Serialize)]
pub struct PreviewPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The room.
    pub room: RoomItem,
    /// The file's name.
    pub name: String,
    /// Its size.
    pub size: String,
    /// Downloads it.
    pub download_url: String,
    /// Its folder.
    pub back_url: String,
    /// The encoding it was read in.
    pub encoding: &'static str,
    /// Only its start is shown.
    pub truncated: bool,
    /// What is shown.
    pub body: PreviewBody,
}

impl Page for PreviewPage {
    const TEMPLATE: &'static str = "files/preview.html";
}

impl PreviewPage {
    /// The preview of `source`, whose start is `start`.
    pub fn new(
        layout: Layout,
        source: &crate::services::files::PreviewSource,
        start: TextStart,
    ) -> Self {
        let slug = &source.room.room.slug;
        let url = format!(
            "/rooms/{slug}/files/file/{}/{}",
            source.file_id,
            path_segment(&source.file.name)
        );
        Self {
            layout,
            room: room_item(&source.room.room, source.room.access.role),
            name: source.file.name.clone(),
            size: human_size(source.size),
            download_url: format!("{url}?download=1"),
            back_url: folder_url(slug, source.folder_url_id),
            encoding: start.encoding,
            truncated: start.truncated,
            body: PreviewBody::new(source.kind, start),
        }
    }
}
