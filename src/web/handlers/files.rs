//! Room cabinets: folder pages, uploads (a plain multipart form, and the resumable protocol the
//! browser uploader uses), downloads with Range, folder zips streamed on the fly, the trash.
//!
//! Resumable uploads: `POST …/folder/{id}/uploads` (name, size) → `{id, offset}`;
//! `PUT …/uploads/{id}?offset=N` with the next bytes → `{offset}` (409 when the upload does not
//! stand at N, or another chunk is in flight); `GET …/uploads/{id}` → `{offset, size}` to resume
//! after a dropped connection, a reload or a 409; `POST …/uploads/{id}/finish`. The rules that keep
//! a blob's name proven from its bytes live in `services::files::resumable`.

use actix_files::NamedFile;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use crate::error::{AppError, FieldErrors};
use crate::files::mime::is_inline_type;
use crate::services::files::{self, Change, FolderView, Item};
use crate::services::form::{self, FormOutcome};
use crate::web::AppState;
use crate::web::extract::{Ctx, CurrentUser, room_slug};
use crate::web::render::{self, redirect_with_flash};
use crate::web::views::files::{
    ChunkStored, FolderPage, PreviewPage, TrashPage, UploadCreated, UploadFinished, UploadProgress,
    folder_url, preview_url, trash_items,
};
use crate::web::views::rooms::room_item;
use crate::web::views::{Errors, Layout};

/// Multipart headers and boundaries around the files of one form, allowed on top of the quota when
/// comparing it with `Content-Length` (the bytes themselves are counted exactly while they stream).
const MULTIPART_SLACK: u64 = 64 * 1024;

/// `0` in a URL is the room's root folder.
fn folder_param(id: i64) -> Result<Option<i64>, AppError> {
    match id {
        0 => Ok(None),
        id if id > 0 => Ok(Some(id)),
        _ => Err(AppError::NotFound),
    }
}

fn item_param(kind: &str, id: i64) -> Result<Item, AppError> {
    match kind {
        "file" if id > 0 => Ok(Item::File(id)),
        "folder" if id > 0 => Ok(Item::Folder(id)),
        _ => Err(AppError::NotFound),
    }
}

fn declared_length(req: &HttpRequest) -> Option<u64> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

/// The folder page of `view`, with the errors of a refused change (422) or without (200).
fn folder_page(
    state: &AppState,
    ctx: &Ctx,
    view: &FolderView,
    errors: Errors,
) -> Result<HttpResponse, AppError> {
    let layout = Layout::new(ctx, &FolderPage::path(view));
    let actor = ctx.actor();
    let refused = !errors.is_empty();
    let page = FolderPage::new(layout, view, actor.as_ref(), &ctx.site, errors);
    if refused {
        render::invalid(state, &page)
    } else {
        render::ok(state, &page)
    }
}

/// Shows a folder (`None`: the room's root), with `errors` of a form refused before any change.
async fn show(
    state: &AppState,
    ctx: &Ctx,
    slug: String,
    folder: Option<i64>,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let actor = ctx.actor();
    let view = state
        .core
        .db
        .read(move |conn| files::folder_view(conn, actor.as_ref(), &slug, folder))
        .await?;
    folder_page(state, ctx, &view, errors.into())
}

/// `GET /rooms/{room}/files`: the root folder.
pub async fn show_cabinet(
    state: web::Data<AppState>,
    ctx: Ctx,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    show(&state, &ctx, slug, None, FieldErrors::default()).await
}

/// `GET /rooms/{room}/files/folder/{folder}`.
pub async fn show_folder(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, folder) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    show(
        &state,
        &ctx,
        slug,
        folder_param(folder)?,
        FieldErrors::default(),
    )
    .await
}

/// The new folder form.
#[derive(Debug, serde::Deserialize)]
pub struct NameForm {
    #[serde(default)]
    name: String,
}

/// `POST /rooms/{room}/files/folder/{folder}/mkdir`.
pub async fn create_folder(
    state: web::Data<AppState>,
    user: CurrentUser,
    ctx: Ctx,
    path: web::Path<(String, i64)>,
    form: web::Form<NameForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, folder) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let parent = folder_param(folder)?;
    let (actor, s, name) = (user.actor(), slug.clone(), form.into_inner().name);
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| files::create_folder(conn, &actor, &s, parent, &name),
                |conn| files::folder_view(conn, Some(&actor), &s, parent),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(id) => Ok(redirect_with_flash(
            &state,
            &folder_url(&slug, id),
            "flash.folder_created",
        )),
        FormOutcome::Invalid { errors, page } => folder_page(&state, &ctx, &page, errors.into()),
    }
}

/// `POST /rooms/{room}/files/folder/{folder}/upload` (multipart, `files` fields; the CSRF token in
/// the `X-CSRF-Token` header or the action URL's query). Each file streams to disk and is
/// committed on its own (`files::store_upload`); the quota is checked from `Content-Length` first,
/// then byte by byte.
pub async fn upload_files(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    mut form: actix_multipart::Multipart,
) -> Result<HttpResponse, AppError> {
    let (slug, folder) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let folder = folder_param(folder)?;
    let declared = declared_length(&req).map(|n| n.saturating_sub(MULTIPART_SLACK));
    let actor = user.actor();
    let (a, core, s) = (actor.clone(), state.core.clone(), slug.clone());
    let mut target = state
        .core
        .db
        .write(move |conn| files::check_upload(&core, conn, &a, &s, folder, declared))
        .await?;
    let mut stored = 0usize;
    while let Some(field) = form.next().await {
        let field = field.map_err(|_| AppError::Invalid(FieldErrors::default()))?;
        let Some(raw_name) = field
            .content_disposition()
            .and_then(|cd| cd.get_filename())
            .map(str::to_owned)
        else {
            continue;
        };
        if raw_name.is_empty() {
            continue; // the form was sent without choosing a file
        }
        files::store_upload(&state.core, &actor, &mut target, &raw_name, field).await?;
        stored += 1;
    }
    let flash = if stored == 0 {
        "flash.no_files"
    } else {
        "flash.files_uploaded"
    };
    Ok(redirect_with_flash(
        &state,
        &folder_url(&slug, target.folder_id),
        flash,
    ))
}

/// `GET /rooms/{room}/files/preview/{id}`: a text, CSV or Markdown file's start, shown in a page.
pub async fn preview_file(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, core) = (ctx.actor(), state.core.clone());
    let source = state
        .core
        .db
        .read(move |conn| files::preview(&core, conn, actor.as_ref(), &slug, id))
        .await?;
    let blob = source.file.path.clone();
    let start = web::block(move || crate::files::preview::read_text_start(&blob))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blob unreadable: {e}")))?;
    let path = preview_url(&source.room.room.slug, id);
    render::ok(
        &state,
        &PreviewPage::new(Layout::new(&ctx, &path), &source, start),
    )
}

/// `GET /rooms/{room}/files/file/{id}/{name}`: the file, after the permission check, with Range,
/// `If-Range`, `ETag` and `Last-Modified`; inline only for media, PDF and raster images.
pub async fn download_file(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    path: web::Path<(String, i64, String)>,
    query: web::Query<DownloadQuery>,
) -> Result<HttpResponse, AppError> {
    let (slug, id, _name) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let actor = ctx.actor();
    let core = state.core.clone();
    let d = state
        .core
        .db
        .read(move |conn| files::download(&core, conn, actor.as_ref(), &slug, id))
        .await?;
    let inline = is_inline_type(&d.content_type) && query.download.is_none();
    send_blob(&req, d, inline).await
}

/// Serves a file's blob after the permission check (also the Subsonic API's `stream` and
/// `download`): `NamedFile` in constant memory with Range, `If-Range`, `ETag` and
/// `Last-Modified`, the stored type only when `inline`, and the sandboxing CSP.
pub async fn send_blob(
    req: &HttpRequest,
    d: files::Download,
    inline: bool,
) -> Result<HttpResponse, AppError> {
    let blob = d.path.clone();
    let file = web::block(move || NamedFile::open(blob))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("blob {} unreadable: {e}", d.sha256)))?;
    let mime: mime_guess::Mime = if inline {
        d.content_type
            .parse()
            .unwrap_or(mime_guess::mime::APPLICATION_OCTET_STREAM)
    } else {
        mime_guess::mime::APPLICATION_OCTET_STREAM
    };
    let file = file
        .set_content_type(mime)
        .set_content_disposition(disposition(&d.name, inline))
        // NamedFile's own validators (from the blob's inode, size and time; a blob never changes)
        // drive If-None-Match, If-Range and If-Modified-Since, so resumed downloads get ranges.
        .use_etag(true)
        .use_last_modified(true);
    let mut res = file.into_response(req);
    let h = res.headers_mut();
    // Ranges must reach the client as they are: no gzip on top.
    h.insert(
        header::CONTENT_ENCODING,
        header::HeaderValue::from_static("identity"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("private, no-cache"),
    );
    let csp = if d.content_type == "application/pdf" && inline {
        "default-src 'none'; frame-ancestors 'self'"
    } else {
        "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'self'"
    };
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(csp),
    );
    Ok(res)
}

/// `?download=1` forces a download even for types a browser could show.
#[derive(Debug, serde::Deserialize)]
pub struct DownloadQuery {
    download: Option<String>,
}

/// `Content-Disposition` with an ASCII fallback and the real name as RFC 6266 `filename*`.
fn disposition(name: &str, inline: bool) -> ContentDisposition {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    ContentDisposition {
        disposition: if inline {
            DispositionType::Inline
        } else {
            DispositionType::Attachment
        },
        parameters: vec![
            DispositionParam::Filename(ascii),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".into()),
                language_tag: None,
                value: name.as_bytes().to_vec(),
            }),
        ],
    }
}

/// `GET /rooms/{room}/files/folder/{folder}/zip`: the folder as a zip, written while it is sent
/// (stored entries, ZIP64 for large files), so memory stays flat for any size.
pub async fn download_zip(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, folder) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let folder = folder_param(folder)?;
    let zip = files::folder_zip(&state.core, ctx.actor().as_ref(), &slug, folder).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(disposition(&zip.name, false))
        .streaming(zip.body.map(|piece| piece.map(web::Bytes::from))))
}

/// The fields of the rename / move / copy / delete forms (each uses what it needs).
#[derive(Debug, serde::Deserialize)]
pub struct ItemForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    target: String,
}

/// `POST /rooms/{room}/files/{kind}/{id}/{op}`: rename, move, copy or delete a file or folder.
pub async fn change_item(
    state: web::Data<AppState>,
    user: CurrentUser,
    ctx: Ctx,
    path: web::Path<(String, String, i64, String)>,
    form: web::Form<ItemForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, kind, id, op) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let item = item_param(&kind, id)?;
    let ItemForm { name, target } = form.into_inner();
    let target_id = target.trim().parse::<i64>().ok();
    let (flash, change) = match op.as_str() {
        "rename" => ("flash.renamed", Change::Rename(name)),
        "move" | "copy" => {
            let Some(to) = target_id else {
                let mut e = FieldErrors::default();
                e.add("target", "files.bad_target");
                return show(&state, &ctx, slug, None, e).await;
            };
            if op == "copy" {
                ("flash.copied", Change::Copy(to))
            } else {
                ("flash.moved", Change::Move(to))
            }
        }
        "delete" => ("flash.trashed", Change::Delete),
        _ => return Err(AppError::NotFound),
    };
    let (actor, s) = (user.actor(), slug.clone());
    let outcome = state
        .core
        .db
        .write(move |conn| {
            form::submit(
                conn,
                |conn| files::change_item(conn, &actor, &s, item, change),
                // A refused change is shown on the cabinet's root page.
                |conn| files::folder_view(conn, Some(&actor), &s, None),
            )
        })
        .await?;
    match outcome {
        FormOutcome::Saved(folder) => Ok(redirect_with_flash(
            &state,
            &folder_url(&slug, folder),
            flash,
        )),
        FormOutcome::Invalid { errors, page } => folder_page(&state, &ctx, &page, errors.into()),
    }
}

/// `GET /rooms/{room}/files/trash`.
pub async fn show_trash(
    state: web::Data<AppState>,
    user: CurrentUser,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    let (actor, core) = (user.actor(), state.core.clone());
    let view = state
        .core
        .db
        .read(move |conn| files::trash_view(&core, conn, &actor, &slug))
        .await?;
    let path = format!("/rooms/{}/files/trash", view.ctx.room.slug);
    let page = TrashPage {
        layout: Layout::new(user.ctx(), &path),
        room: room_item(&view.ctx.room, view.ctx.access.role),
        items: trash_items(&view, &user.ctx().site),
        days: view.days,
    };
    render::ok(&state, &page)
}

/// `POST /rooms/{room}/files/trash/{kind}/{id}/restore`.
pub async fn restore_item(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, kind, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let item = item_param(&kind, id)?;
    let (actor, s) = (user.actor(), slug.clone());
    let folder = state
        .core
        .db
        .write(move |conn| files::restore_item(conn, &actor, &s, item))
        .await?;
    Ok(redirect_with_flash(
        &state,
        &folder_url(&slug, folder),
        "flash.restored",
    ))
}

/// The start of a resumable upload.
#[derive(Debug, serde::Deserialize)]
pub struct NewUploadForm {
    name: String,
    size: u64,
}

/// `POST /rooms/{room}/files/folder/{folder}/uploads` → `{"id", "offset"}`.
pub async fn create_upload(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, i64)>,
    form: web::Form<NewUploadForm>,
) -> Result<HttpResponse, AppError> {
    let (slug, folder) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let folder = folder_param(folder)?;
    let (actor, core, f) = (user.actor(), state.core.clone(), form.into_inner());
    let id = state
        .core
        .db
        .write(move |conn| {
            files::create_upload(&core, conn, &actor, &slug, folder, &f.name, f.size)
        })
        .await?;
    Ok(HttpResponse::Created().json(UploadCreated { id, offset: 0 }))
}

/// `GET /rooms/{room}/files/uploads/{id}` → `{"offset", "size"}`: where to resume.
pub async fn upload_status(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, core) = (user.actor(), state.core.clone());
    let (offset, size) = state
        .core
        .db
        .read(move |conn| files::upload_progress(&core, conn, &actor, &slug, &id))
        .await?;
    Ok(HttpResponse::Ok().json(UploadProgress { offset, size }))
}

/// Where a chunk goes.
#[derive(Debug, serde::Deserialize)]
pub struct ChunkQuery {
    offset: u64,
}

/// `PUT /rooms/{room}/files/uploads/{id}?offset=N` with the next bytes → `{"offset"}`; 409 when
/// the upload does not stand at `N` (or another chunk is in flight).
pub async fn put_chunk(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    query: web::Query<ChunkQuery>,
    body: web::Payload,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let declared = declared_length(&req);
    let actor = user.actor();
    let offset = files::put_chunk(
        &state.core,
        &actor,
        &slug,
        &id,
        query.offset,
        declared,
        body,
    )
    .await?;
    Ok(HttpResponse::Ok().json(ChunkStored { offset }))
}

/// `POST /rooms/{room}/files/uploads/{id}/finish` → `{"url", "folder"}`.
pub async fn finish_upload(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (folder, file) = files::finish_upload(&state.core, &user.actor(), &slug, &id).await?;
    Ok(HttpResponse::Ok().json(UploadFinished {
        file,
        folder: folder_url(&slug, folder),
    }))
}

/// `POST /rooms/{room}/files/uploads/{id}/cancel`.
pub async fn cancel_upload(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    files::cancel_upload(&state.core, &user.actor(), &slug, &id).await?;
    Ok(HttpResponse::NoContent().finish())
}
