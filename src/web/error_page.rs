//! Turns an `AppError` into a page in the site layout (no stack traces, no version banner).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use super::AppState;
use super::context::ReqCtx;
use super::render::{base_context, safe_next};
use crate::error::AppError;

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Unauthenticated => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::Invalid(errors) if errors.is_empty() => StatusCode::BAD_REQUEST,
            Self::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::InsufficientStorage => StatusCode::INSUFFICIENT_STORAGE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A bare response; the request-context middleware replaces it with the rendered page.
    fn error_response(&self) -> HttpResponse {
        HttpResponse::build(self.status_code()).finish()
    }
}

/// Renders the error page (or the login redirect) for `e`.
pub fn render(state: &AppState, req: &HttpRequest, ctx: &ReqCtx, e: &AppError) -> HttpResponse {
    if matches!(e, AppError::Unauthenticated) {
        let here = match req.uri().path_and_query() {
            Some(pq) if req.method() == actix_web::http::Method::GET => pq.as_str().to_owned(),
            _ => "/".to_owned(),
        };
        let target = format!(
            "/login?next={}",
            url::form_urlencoded::byte_serialize(safe_next(Some(&here)).as_bytes())
                .collect::<String>()
        );
        return HttpResponse::SeeOther()
            .insert_header(("location", target))
            .finish();
    }
    let status = e.status_code();
    let (title, message) = match e {
        AppError::NotFound => ("error.404_title", "error.404_message"),
        AppError::Forbidden => ("error.403_title", "error.403_message"),
        AppError::Invalid(_) => ("error.400_title", "error.400_message"),
        AppError::Conflict(key) => ("error.409_title", *key),
        AppError::RateLimited(key) => ("error.429_title", *key),
        AppError::PayloadTooLarge => ("error.413_title", "error.413_message"),
        AppError::InsufficientStorage => ("error.507_title", "error.507_message"),
        AppError::Unavailable(_) => ("error.503_title", "error.503_message"),
        AppError::Unauthenticated | AppError::Internal(_) => {
            ("error.500_title", "error.500_message")
        }
    };
    let incident = if matches!(e, AppError::Internal(_) | AppError::Unavailable(_)) {
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        // Personal answer links carry their secret in the path: never log it.
        let path = if super::context::is_answer_link(req.path()) {
            "/a/…"
        } else {
            req.path()
        };
        tracing::error!(incident = %id, error = %e, path = %path, "request failed");
        Some(id)
    } else {
        None
    };
    let mut context = base_context(ctx, req.path());
    context.insert("status", &status.as_u16());
    context.insert("title_key", title);
    context.insert("message_key", message);
    context.insert("incident", &incident);
    let body = state
        .core
        .templates
        .render("errors/error.html", &context)
        .unwrap_or_else(|err| {
            tracing::error!(error = %err, "error page failed to render");
            format!("<!doctype html><title>{status}</title><h1>{status}</h1>")
        });
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}
