//! The request pipeline, one single-purpose middleware per module. `app::start` wraps them around
//! the routes in this order (outermost first) and says why; each is an `actix_web::middleware::from_fn`.
//!
//! 1. `headers`: security headers on every response.
//! 2. `visitor`: who is asking (site settings, session, navigation facts, language, flash) → `ReqCtx`.
//! 3. `public_cache`: anonymous GETs from the one-second page cache; `ETag`/304; emptied after a change.
//! 4. `errors`: a handler's or a middleware's `AppError` becomes a page in the site layout.
//! 5. `flash`: clears a flash message once a page has shown it.
//! 6. `csrf`: every state-changing request is checked before its handler; the pre-session cookie.
//!
//! Static files and `/healthz` are outside the site: `visitor` gives them no `ReqCtx`, so everything
//! after it lets them through untouched (their errors stay bare). A page from the cache passes
//! through `headers` and `visitor` only: the public front page is read by everyone at once.

pub mod csrf;
pub mod errors;
pub mod flash;
pub mod headers;
pub mod public_cache;
pub mod visitor;

/// Static files and the health check: no session, settings, CSRF or error page.
pub fn outside_site(path: &str) -> bool {
    path.starts_with("/static/") || path == "/healthz"
}

/// `/dav` and below: the WebDAV drive, authenticated by Basic auth with an app password only.
/// No CSRF token (clients have none; a session cookie opens nothing there, so there is no ambient
/// cookie credential to ride on) and never the public page cache.
pub fn is_dav(path: &str) -> bool {
    path == "/dav" || path.starts_with("/dav/")
}

/// `/rest/` and below: the Subsonic API, authenticated by an app password in its parameters on
/// every request, never by a cookie. No CSRF token or Origin check (there is no ambient
/// credential a forged request could ride on: a session cookie opens nothing there, and a browser
/// keeps no credentials for it) and never the public page cache (answers depend on the account).
pub fn is_subsonic(path: &str) -> bool {
    path == "/rest" || path.starts_with("/rest/")
}

/// `/a/{token}`: a safety check's personal answer link (the link is the credential).
pub fn is_answer_link(path: &str) -> bool {
    path.starts_with("/a/")
}

/// Whether a request may change something (everything but GET, HEAD and OPTIONS).
pub fn is_unsafe(m: &actix_web::http::Method) -> bool {
    use actix_web::http::Method;
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The application state every middleware reads (registered by `app::start`).
fn state_of(
    req: &actix_web::dev::ServiceRequest,
) -> Result<actix_web::web::Data<super::AppState>, actix_web::Error> {
    req.app_data::<actix_web::web::Data<super::AppState>>()
        .cloned()
        .ok_or_else(|| actix_web::error::ErrorInternalServerError("state missing"))
}
