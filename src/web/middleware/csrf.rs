//! CSRF: every POST/PUT/PATCH/DELETE is checked here, before its handler runs: `Sec-Fetch-Site`,
//! `Origin`, and the token from `X-CSRF-Token` or the form's `_csrf` field (a form body is read once,
//! bounded by `server.max_form_bytes`, and handed on unchanged). On the way out, a page that gave an
//! anonymous visitor a new form token sets the pre-session cookie that keeps it.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{HttpMessage, web};
use futures_util::StreamExt;

use super::{is_answer_link, is_subsonic, is_unsafe, state_of};
use crate::error::{AppError, FieldErrors};
use crate::services::token::same_secret;
use crate::web::AppState;
use crate::web::context::ReqCtx;
use crate::web::cookies::{cookie_names, make_cookie};

/// The middleware.
pub async fn check(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(ctx) = ReqCtx::of(req.request()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let state = state_of(&req)?;
    // `/rest/`: credentials travel in each request's parameters, never in a cookie (`is_subsonic`).
    if is_unsafe(req.method())
        && !is_subsonic(req.path())
        && let Err(e) = check_request(&mut req, &state, &ctx).await
    {
        return Ok(req.error_response(e));
    }
    let mut res = next.call(req).await?.map_into_boxed_body();
    if let Some(token) = ctx.new_form_token() {
        let https = state.core.config.is_https();
        let c = make_cookie(cookie_names(https).csrf, token.to_owned(), https, None);
        let _ = res.response_mut().add_cookie(&c);
    }
    Ok(res)
}

/// CSRF: the Origin (or `Sec-Fetch-Site`) must be this site, and the token from the `X-CSRF-Token` header
/// or the form's `_csrf` field must match the session's. A form body is read here (bounded), checked,
/// and handed on to the handler unchanged.
async fn check_request(
    req: &mut ServiceRequest,
    state: &AppState,
    ctx: &ReqCtx,
) -> Result<(), AppError> {
    if req
        .headers()
        .get("sec-fetch-site")
        .is_some_and(|v| v.as_bytes() == b"cross-site")
    {
        return Err(AppError::Forbidden);
    }
    let answer_link = is_answer_link(req.path());
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        // An answer page is served with `Referrer-Policy: no-referrer`, under which browsers send
        // `Origin: null` with its form: that is no foreign origin (cross-site is refused above).
        let opaque_ok = answer_link && origin == "null";
        if !opaque_ok && !origin_allowed(origin, req, &state.core.config.base_url()) {
            return Err(AppError::Forbidden);
        }
    }
    if super::is_dav(req.path()) {
        // Basic auth with an app password, never a cookie (`handlers::dav`). A browser that
        // cached those credentials still sends a cross-site request's Origin or Sec-Fetch-Site,
        // refused above.
        return Ok(());
    }
    if answer_link {
        // The unguessable link is the credential (DESIGN.md §8: no login, no cookie needed on a
        // phone's mail app); a forged cross-site form cannot know it, and Origin was checked above.
        return Ok(());
    }
    // No session and no pre-session cookie: nothing this visitor submits can match.
    let expected = ctx
        .expected_csrf_token()
        .ok_or(AppError::Forbidden)?
        .to_owned();
    if let Some(h) = req.headers().get("x-csrf-token") {
        return if same_secret(h.to_str().unwrap_or(""), &expected) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        };
    }
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if content_type.starts_with("multipart/form-data") {
        // A file upload from a plain <form> (no JavaScript to set the header): the token rides in
        // the action URL's query, so it is checked before a single byte of the body is read.
        let submitted = form_urlencoded_field(req.query_string().as_bytes(), "_csrf");
        return match submitted {
            Some(t) if same_secret(&t, &expected) => Ok(()),
            _ => Err(AppError::Forbidden),
        };
    }
    if !content_type.starts_with("application/x-www-form-urlencoded") {
        return Err(AppError::Forbidden);
    }
    let limit = state.core.config.server.max_form_bytes;
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return Err(AppError::PayloadTooLarge);
    }
    let mut payload = req.take_payload();
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|_| AppError::Invalid(FieldErrors::default()))?;
        if body.len() + chunk.len() > limit {
            return Err(AppError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let body = body.freeze();
    let submitted = form_urlencoded_field(&body, "_csrf");
    req.set_payload(Payload::from(body));
    match submitted {
        Some(t) if same_secret(&t, &expected) => Ok(()),
        _ => Err(AppError::Forbidden),
    }
}

fn form_urlencoded_field(body: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(body)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn origin_allowed(origin: &str, req: &ServiceRequest, base_url: &str) -> bool {
    let Ok(o) = url::Url::parse(origin) else {
        return false;
    };
    let host_port = |u: &url::Url| {
        u.host_str()
            .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
    };
    let origin_hp = host_port(&o);
    if let Ok(base) = url::Url::parse(base_url)
        && origin_hp.is_some()
        && host_port(&base) == origin_hp
        && base.scheme() == o.scheme()
    {
        return true;
    }
    // Same-origin by the Host the browser itself sent (a cross-site form carries the attacker's Origin).
    let host = req.connection_info().host().to_owned();
    let with_port = if host.contains(':') {
        host
    } else {
        format!("{host}:{}", o.port_or_known_default().unwrap_or(0))
    };
    origin_hp.as_deref() == Some(with_port.as_str())
}
