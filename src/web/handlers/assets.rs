//! Embedded static files and the health check.

use actix_web::{HttpResponse, web};

use crate::error::AppError;
use crate::web::AppState;

/// `GET /static/{hash}/{path}`: immutable, cached for a year (the hash changes with the content).
pub async fn static_file(
    state: web::Data<AppState>,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, AppError> {
    let (hash, file) = path.into_inner();
    let asset = state.assets.get(&hash, &file).ok_or(AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type(asset.content_type.as_str())
        .insert_header(("cache-control", "public, max-age=31536000, immutable"))
        .body(asset.bytes.clone().into_owned()))
}

/// `GET /healthz`: 200 when the database answers.
pub async fn healthz(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    state
        .core
        .db
        .read(crate::services::site::check_database)
        .await?;
    Ok(HttpResponse::Ok().content_type("text/plain").body("ok"))
}
