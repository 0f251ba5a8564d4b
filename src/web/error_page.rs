//! Turns an `AppError` into a page in the site layout (no stack traces, no version banner), or the
//! login redirect; `middleware::errors` calls it for every failed request.

use std::borrow::Cow;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, ResponseError};

use super::AppState;
use super::context::ReqCtx;
use super::render::{html, safe_next};
use super::views::Layout;
use super::views::errors::ErrorPage;
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
            Self::Gone(_) => StatusCode::GONE,
            Self::RateLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge | Self::OverQuota => StatusCode::PAYLOAD_TOO_LARGE,
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

/// `path` as it may be logged: the secret segment of every route whose pattern has a `{token}`
/// (answer, reset, invitation, verification and email links) becomes `…`. The prefixes come from
/// the route table, so a new token route is redacted without being listed here; anything under such
/// a prefix is redacted, matched route or not.
pub fn loggable_path(path: &str) -> Cow<'_, str> {
    for (_, pattern) in super::routes::TABLE {
        let Some((prefix, after_token)) = pattern.split_once("{token}") else {
            continue;
        };
        // What the pattern has after the token in the same segment (`.ics` of a feed) stays.
        let suffix = after_token.split('/').next().unwrap_or("");
        if let Some(rest) = path.strip_prefix(prefix) {
            let (segment, after) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
            let keep = if segment.ends_with(suffix) {
                suffix
            } else {
                ""
            };
            return Cow::Owned(format!("{prefix}…{keep}{after}"));
        }
    }
    Cow::Borrowed(path)
}

/// An error as a script reads it.
#[derive(serde::Serialize)]
struct JsonError {
    status: u16,
    title: String,
    message: String,
}

/// Whether the request asked for JSON (`Accept: application/json`, as the uploader's requests do).
fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

/// The referring page's path when it is on this site, to offer a way back.
fn same_site_referer(req: &HttpRequest) -> Option<String> {
    let referer = req
        .headers()
        .get(actix_web::http::header::REFERER)?
        .to_str()
        .ok()?;
    let url = url::Url::parse(referer).ok()?;
    let host = req.connection_info().host().to_owned();
    let here = match url.port() {
        Some(port) => format!("{}:{port}", url.host_str()?),
        None => url.host_str()?.to_owned(),
    };
    if here != host {
        return None;
    }
    let path = match url.query() {
        Some(q) => format!("{}?{q}", url.path()),
        None => url.path().to_owned(),
    };
    Some(safe_next(Some(&path))).filter(|p| p != req.path())
}

/// Renders the error page (or the login redirect) for `e`.
pub fn render(state: &AppState, req: &HttpRequest, ctx: &ReqCtx, e: &AppError) -> HttpResponse {
    if matches!(e, AppError::Unauthenticated) {
        let here = match req.uri().path_and_query() {
            Some(pq) if !super::middleware::is_unsafe(req.method()) => pq.as_str().to_owned(),
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
        AppError::Gone(key) => ("error.410_title", *key),
        AppError::RateLimited(key) => ("error.429_title", *key),
        AppError::PayloadTooLarge => ("error.413_title", "error.413_message"),
        AppError::OverQuota => ("error.413_title", "files.over_quota"),
        AppError::InsufficientStorage => ("error.507_title", "error.507_message"),
        AppError::Unavailable(_) => ("error.503_title", "error.503_message"),
        AppError::Unauthenticated | AppError::Internal(_) => {
            ("error.500_title", "error.500_message")
        }
    };
    let incident = if matches!(e, AppError::Internal(_) | AppError::Unavailable(_)) {
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
        // Links that are credentials carry their secret in the path: never log it.
        let path = loggable_path(req.path());
        tracing::error!(incident = %id, error = %e, path = %path, "request failed");
        Some(id)
    } else {
        None
    };
    let details: Vec<&'static str> = match e {
        AppError::Invalid(errors) => errors.0.iter().map(|f| f.message).collect(),
        _ => Vec::new(),
    };
    if wants_json(req) {
        // Scripts (the uploader) show the reason in the member's language.
        let lang = ctx.lang;
        let mut lines = vec![crate::i18n::t(lang, message, &[])];
        lines.extend(details.iter().map(|d| crate::i18n::t(lang, d, &[])));
        return HttpResponse::build(status).json(JsonError {
            status: status.as_u16(),
            title: crate::i18n::t(lang, title, &[]),
            message: lines.join(" "),
        });
    }
    let page = ErrorPage {
        layout: Layout::new(ctx, req.path()),
        status: status.as_u16(),
        title_key: title,
        message_key: message,
        incident,
        details,
        back: same_site_referer(req),
    };
    let body = html(state, &page).unwrap_or_else(|err| {
        tracing::error!(error = %err, "error page failed to render");
        format!("<!doctype html><title>{status}</title><h1>{status}</h1>")
    });
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "Q2xhc3NpZmllZCB0b2tlbiBvZiBmb3J0eS10aHJlZQ";

    #[test]
    fn every_token_route_is_redacted_in_logs() {
        let table = [
            ("/a/{t}", "/a/…"),
            ("/password/reset/{t}", "/password/reset/…"),
            ("/invite/{t}", "/invite/…"),
            ("/invite/{t}/signup", "/invite/…/signup"),
            ("/verify/{t}", "/verify/…"),
            ("/email/confirm/{t}", "/email/confirm/…"),
            // Not a route, but under a token prefix: still redacted.
            ("/invite/{t}/x/y", "/invite/…/x/y"),
            ("/a/{t}/", "/a/…/"),
            // No token: as it is.
            ("/password/reset", "/password/reset"),
            ("/rooms/town/posts/7", "/rooms/town/posts/7"),
            ("/me/addresses/3/test", "/me/addresses/3/test"),
        ];
        for (path, logged) in table {
            let path = path.replace("{t}", TOKEN);
            assert_eq!(loggable_path(&path), logged, "{path}");
        }
        // Every route of the table that carries a token, whatever it is.
        let mut token_routes = 0;
        for (_, pattern) in crate::web::routes::TABLE {
            if !pattern.contains("{token}") {
                continue;
            }
            token_routes += 1;
            let path = pattern.replace("{token}", TOKEN);
            let logged = loggable_path(&path);
            assert!(!logged.contains(TOKEN), "{pattern} logs {logged}");
            assert_eq!(logged, pattern.replace("{token}", "…"));
        }
        assert!(token_routes >= 9, "{token_routes} token routes");
        // A secret in a path is always called `{token}`, so the rule above finds it.
        for (_, pattern) in crate::web::routes::TABLE {
            for param in pattern.split('{').skip(1) {
                let name = param.split('}').next().unwrap_or("");
                assert!(
                    name == "token" || !(name.contains("token") || name.contains("secret")),
                    "{pattern}: name the secret segment {{token}}"
                );
            }
        }
    }
}
