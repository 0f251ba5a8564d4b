//! Room cabinets: folder pages, uploads (a plain multipart form, and the resumable protocol the
//! browser uploader uses), downloads with Range, folder zips streamed on the fly, the trash.
//!
//! Resumable uploads: `POST …/folder/{id}/uploads` (name, size) → `{id, offset}`;
//! `PUT …/uploads/{id}?offset=N` with the next bytes → `{offset}`; `GET …/uploads/{id}` → `{offset,
//! size}` to resume after a dropped connection or a reload; `POST …/uploads/{id}/finish`.

use actix_files::NamedFile;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpRequest, HttpResponse, web};
use futures_util::StreamExt;

use crate::error::{AppError, FieldErrors};
use crate::services::Actor;
use crate::services::files::{self, Item, UploadTarget};
use crate::web::AppState;
use crate::web::extract::{Ctx, CurrentUser, room_slug};
use crate::web::render::{base_context, insert_errors, invalid_or, ok, page, redirect_with_flash};
use crate::web::views::files::{cabinet_page, folder_url, trash_items};
use crate::web::views::rooms::room_item;

/// Multipart headers and boundaries around the files of one form, allowed on top of the quota when
/// comparing it with `Content-Length` (the bytes themselves are counted exactly while they stream).
const MULTIPART_SLACK: u64 = 64 * 1024;

fn maybe_actor(ctx: &Ctx) -> Option<Actor> {
    ctx.session.as_ref().map(|s| Actor::from(&s.user))
}

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

async fn render_folder(
    state: &AppState,
    ctx: &Ctx,
    slug: String,
    folder: Option<i64>,
    errors: Option<&FieldErrors>,
) -> Result<HttpResponse, AppError> {
    let actor = maybe_actor(ctx);
    let a = actor.clone();
    let view = state
        .core
        .db
        .read(move |conn| files::folder_view(conn, a.as_ref(), &slug, folder))
        .await?;
    let cabinet = cabinet_page(&view, actor.as_ref(), &ctx.site);
    let mut c = base_context(ctx, &folder_url(&view.ctx.room.slug, cabinet.folder_id));
    c.insert("room", &room_item(&view.ctx.room, view.ctx.access.role));
    c.insert("cabinet", &cabinet);
    let status = if let Some(e) = errors {
        insert_errors(&mut c, e);
        actix_web::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        actix_web::http::StatusCode::OK
    };
    page(state, "files/folder.html", &c, status)
}

/// `GET /rooms/{room}/files`: the root folder.
pub async fn show_cabinet(
    state: web::Data<AppState>,
    ctx: Ctx,
    slug: web::Path<String>,
) -> Result<HttpResponse, AppError> {
    let slug = room_slug(&slug)?.to_owned();
    render_folder(&state, &ctx, slug, None, None).await
}

/// `GET /rooms/{room}/files/folder/{folder}`.
pub async fn show_folder(
    state: web::Data<AppState>,
    ctx: Ctx,
    path: web::Path<(String, i64)>,
) -> Result<HttpResponse, AppError> {
    let (slug, folder) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    render_folder(&state, &ctx, slug, folder_param(folder)?, None).await
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
    match state
        .core
        .db
        .write(move |conn| files::create_folder(conn, &actor, &s, parent, &name))
        .await
    {
        Ok(id) => Ok(redirect_with_flash(
            &state,
            &folder_url(&slug, id),
            "flash.folder_created",
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            render_folder(&state, &ctx, slug, parent, Some(&errors)).await
        }
    }
}

async fn check_target(
    state: &AppState,
    actor: &Actor,
    slug: &str,
    folder: Option<i64>,
    declared: Option<u64>,
) -> Result<UploadTarget, AppError> {
    let (core, a, s) = (state.core.clone(), actor.clone(), slug.to_owned());
    state
        .core
        .db
        .write(move |conn| files::check_upload(&core, conn, &a, &s, folder, declared))
        .await
}

async fn commit_staged(
    state: &AppState,
    actor: &Actor,
    target: &UploadTarget,
    staged: crate::storage::Staged,
    name: files::CleanName,
) -> Result<i64, AppError> {
    let storage = state.core.storage.clone();
    let (a, t) = (actor.clone(), target.clone());
    let staged = std::sync::Arc::new(staged);
    let st = staged.clone();
    let result = state
        .core
        .db
        .write(move |conn| {
            let tags = files::tags_if_audio(&name.name, &st.path);
            files::commit_upload(&storage, conn, &a, &t, &st, &name, &tags)
        })
        .await;
    state.core.storage.discard(&staged);
    result
}

/// `POST /rooms/{room}/files/folder/{folder}/upload` (multipart, `files` fields; the CSRF token in
/// the `X-CSRF-Token` header or the action URL's query). Each file streams to disk and is
/// committed on its own; the quota is checked from `Content-Length` first, then byte by byte.
pub async fn upload_files(
    state: web::Data<AppState>,
    user: CurrentUser,
    req: HttpRequest,
    path: web::Path<(String, i64)>,
    mut form: actix_multipart::Multipart,
) -> Result<HttpResponse, AppError> {
    let (slug, folder) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let declared = declared_length(&req).map(|n| n.saturating_sub(MULTIPART_SLACK));
    let mut target = check_target(&state, &actor, &slug, folder_param(folder)?, declared).await?;
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
        let name = files::clean_upload_name(&raw_name).map_err(|k| {
            let mut e = FieldErrors::default();
            e.add("files", k);
            AppError::Invalid(e)
        })?;
        let staged = state.core.storage.stage(field, target.limit).await?;
        let size = staged.size;
        commit_staged(&state, &actor, &target, staged, name).await?;
        target.limit = target.limit.saturating_sub(size);
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
    let actor = maybe_actor(&ctx);
    let core = state.core.clone();
    let d = state
        .core
        .db
        .read(move |conn| files::download(&core, conn, actor.as_ref(), &slug, id))
        .await?;
    let inline = files::is_inline_type(&d.content_type) && query.download.is_none();
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
    let mut res = file.into_response(&req);
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
    let actor = maybe_actor(&ctx);
    let core = state.core.clone();
    let (top, entries) = state
        .core
        .db
        .read(move |conn| files::zip_entries(&core, conn, actor.as_ref(), &slug, folder))
        .await?;
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<web::Bytes, std::io::Error>>(4);
    tokio::task::spawn_blocking(move || {
        let sink = ChannelWriter { tx: tx.clone() };
        if let Err(e) = files::write_zip(sink, &entries) {
            tracing::warn!(error = %e, "zip download stopped");
            let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
        }
    });
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(disposition(&format!("{top}.zip"), false))
        .streaming(body))
}

/// `std::io::Write` into the response stream: blocks (on the blocking pool) while the client is
/// slower than the disk, which is what keeps memory flat.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<web::Bytes, std::io::Error>>,
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.tx
            .blocking_send(Ok(web::Bytes::copy_from_slice(buf)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
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
    let (actor, s) = (user.actor(), slug.clone());
    let (flash, result) = match op.as_str() {
        "rename" => (
            "flash.renamed",
            state
                .core
                .db
                .write(move |conn| files::rename(conn, &actor, &s, item, &name))
                .await,
        ),
        "move" | "copy" => {
            let Some(to) = target_id else {
                let mut e = FieldErrors::default();
                e.add("target", "files.bad_target");
                return render_folder(&state, &ctx, slug, None, Some(&e)).await;
            };
            let copy = op == "copy";
            (
                if copy { "flash.copied" } else { "flash.moved" },
                state
                    .core
                    .db
                    .write(move |conn| {
                        if copy {
                            files::copy_item(conn, &actor, &s, item, to)
                        } else {
                            files::move_item(conn, &actor, &s, item, to)
                        }
                    })
                    .await,
            )
        }
        "delete" => (
            "flash.trashed",
            state
                .core
                .db
                .write(move |conn| files::delete_item(conn, &actor, &s, item))
                .await,
        ),
        _ => return Err(AppError::NotFound),
    };
    match result {
        Ok(folder) => Ok(redirect_with_flash(
            &state,
            &folder_url(&slug, folder),
            flash,
        )),
        Err(e) => {
            let errors = invalid_or(e)?;
            render_folder(&state, &ctx, slug, None, Some(&errors)).await
        }
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
    let mut c = base_context(
        user.ctx(),
        &format!("/rooms/{}/files/trash", view.ctx.room.slug),
    );
    c.insert("room", &room_item(&view.ctx.room, view.ctx.access.role));
    c.insert("items", &trash_items(&view, &user.ctx().site));
    c.insert("days", &view.days);
    ok(&state, "files/trash.html", &c)
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
    Ok(HttpResponse::Created().json(serde_json::json!({ "id": id, "offset": 0 })))
}

/// `GET /rooms/{room}/files/uploads/{id}` → `{"offset", "size"}`: where to resume.
pub async fn upload_status(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let actor = user.actor();
    let upload = state
        .core
        .db
        .read(move |conn| files::own_upload(conn, &actor, &slug, &id))
        .await?;
    // The part file is the truth (a chunk may have landed after the row was last updated).
    let on_disk = tokio::fs::metadata(state.core.storage.upload_part(&upload.id))
        .await
        .map_or(0, |m| m.len());
    Ok(HttpResponse::Ok().json(serde_json::json!({ "offset": on_disk, "size": upload.size })))
}

/// Where a chunk goes.
#[derive(Debug, serde::Deserialize)]
pub struct ChunkQuery {
    offset: u64,
}

/// `PUT /rooms/{room}/files/uploads/{id}?offset=N` with the next bytes → `{"offset"}`.
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
    let (actor, s, i) = (user.actor(), slug.clone(), id.clone());
    let upload = state
        .core
        .db
        .read(move |conn| files::own_upload(conn, &actor, &s, &i))
        .await?;
    let size = u64::try_from(upload.size).unwrap_or(0);
    let remaining = size.saturating_sub(query.offset);
    if declared_length(&req).is_some_and(|n| n > remaining) {
        return Err(AppError::PayloadTooLarge);
    }
    state.core.storage.check_space(remaining)?;
    let received = state
        .core
        .storage
        .append_part(&upload.id, query.offset, body, size)
        .await?;
    let actor = user.actor();
    state
        .core
        .db
        .write(move |conn| files::record_received(conn, &actor, &slug, &id, received))
        .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "offset": received })))
}

/// `POST /rooms/{room}/files/uploads/{id}/finish` → `{"url", "folder"}`.
pub async fn finish_upload(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, s, i) = (user.actor(), slug.clone(), id.clone());
    let upload = state
        .core
        .db
        .read(move |conn| files::own_upload(conn, &actor, &s, &i))
        .await?;
    let storage = state.core.storage.clone();
    let uid = upload.id.clone();
    let staged = web::block(move || storage.stage_part(&uid))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))??;
    let (core, actor, s) = (state.core.clone(), user.actor(), slug.clone());
    let (folder, file) = state
        .core
        .db
        .write(move |conn| {
            let tags = files::tags_if_audio(&upload.name, &staged.path);
            files::finish_upload(&core, conn, &actor, &s, &upload, &staged, &tags)
        })
        .await?;
    if let Err(e) = state.core.storage.discard_part(&id) {
        tracing::warn!(error = %e, "could not remove a finished upload's part");
    }
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "file": file,
        "folder": folder_url(&slug, folder),
    })))
}

/// `POST /rooms/{room}/files/uploads/{id}/cancel`.
pub async fn cancel_upload(
    state: web::Data<AppState>,
    user: CurrentUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (slug, id) = path.into_inner();
    let slug = room_slug(&slug)?.to_owned();
    let (actor, i) = (user.actor(), id.clone());
    state
        .core
        .db
        .write(move |conn| files::cancel_upload(conn, &actor, &slug, &i))
        .await?;
    if let Err(e) = state.core.storage.discard_part(&id) {
        tracing::warn!(error = %e, "could not remove a cancelled upload's part");
    }
    Ok(HttpResponse::NoContent().finish())
}
