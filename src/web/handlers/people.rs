//! The member directory (名簿) and profile pages.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::error::AppError;
use crate::services::{people, pictures};
use crate::web::AppState;
use crate::web::extract::{Ctx, CurrentUser};
use crate::web::render;
use crate::web::views::Layout;
use crate::web::views::people::{PeoplePage, ProfilePage};

/// The directory's search.
#[derive(Debug, serde::Deserialize)]
pub struct PeopleQuery {
    #[serde(default)]
    q: String,
}

/// `GET /people`: the people one shares a room with, searched by name.
pub async fn directory(
    state: web::Data<AppState>,
    user: CurrentUser,
    query: web::Query<PeopleQuery>,
) -> Result<HttpResponse, AppError> {
    let (actor, q) = (user.actor(), query.into_inner().q);
    let typed = q.clone();
    let (people, more) = state
        .core
        .db
        .read(move |conn| people::directory(conn, &actor, &q))
        .await?;
    let page = PeoplePage::new(Layout::new(user.ctx(), "/people"), typed, &people, more);
    render::ok(&state, &page)
}

/// `GET /people/{id}`: a person's profile and the rooms one shares with them.
pub async fn profile(
    state: web::Data<AppState>,
    user: CurrentUser,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (actor, id) = (user.actor(), id.into_inner());
    let found = state
        .core
        .db
        .read(move |conn| people::profile(conn, &actor, id))
        .await?;
    let layout = Layout::new(user.ctx(), &format!("/people/{id}"));
    render::ok(&state, &ProfilePage::new(layout, &user.ctx().site, &found))
}

/// `GET /people/{id}/picture`: a person's profile picture (a JPEG), for whoever may see their
/// profile (`authz::authorize_picture`; 404 otherwise, and for anonymous visitors). Its `ETag`
/// is the blob's SHA-256; its address carries a version, so browsers keep it for a day.
pub async fn picture(
    state: web::Data<AppState>,
    ctx: Ctx,
    req: HttpRequest,
    id: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    let (actor, id, core) = (ctx.actor(), id.into_inner(), state.core.clone());
    let found = state
        .core
        .db
        .read(move |conn| pictures::picture_of(&core, conn, actor.as_ref(), id))
        .await?;
    let etag = format!("\"{}\"", found.sha256);
    let mut res = if none_match(&req, &etag) {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    res.insert_header((header::ETAG, etag.clone()))
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"));
    if none_match(&req, &etag) {
        return Ok(res.finish());
    }
    let path = found.path;
    let bytes = web::block(move || std::fs::read(path))
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("{e}")))?
        .map_err(|e| AppError::Internal(anyhow::anyhow!("picture blob unreadable: {e}")))?;
    Ok(res.content_type("image/jpeg").body(bytes))
}

/// Whether the request's `If-None-Match` names `etag` (or `*`); weak tags match too (RFC 9110
/// §13.1.2 compares them weakly).
fn none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers()
        .get_all(header::IF_NONE_MATCH)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}
