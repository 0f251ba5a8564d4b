//! The request-context middleware: resolves the session and site settings once per request, picks the
//! language, checks CSRF (token + Origin) on every state-changing request before its handler runs, and
//! finishes every response (security headers, error pages, ETag/304, cookies).

use std::cell::Cell;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

use super::AppState;
use super::page_cache::{CachedPage, PageCache};
use crate::error::AppError;
use crate::i18n::{self, Lang};
use crate::services::auth::{self, LiveSession};
use crate::services::site::SiteSettings;
use crate::services::token::{new_token, same_secret};

/// Everything a handler knows about the request's visitor.
pub struct ReqCtx {
    /// The logged-in session, if any.
    pub session: Option<LiveSession>,
    /// Whether the approval inbox may hold something for this person (navigation hint).
    pub may_approve: bool,
    /// An open safety check this person has not answered: `(id, title, drill)` (the banner).
    pub pending_safety: Option<(i64, String, bool)>,
    /// Circular notices this person has not read yet (the navigation shows the count).
    pub unread_notices: i64,
    /// Site settings.
    pub site: Arc<SiteSettings>,
    /// The language to answer in.
    pub lang: Lang,
    /// The client's address (after trusted proxies).
    pub ip: IpAddr,
    /// A flash message key carried over a redirect.
    pub flash: Option<&'static str>,
    /// The anonymous visitor's CSRF secret (from the pre-session cookie or fresh).
    anon_csrf: String,
    anon_csrf_is_new: bool,
    anon_csrf_used: Cell<bool>,
}

impl ReqCtx {
    /// The CSRF token forms on this page must carry. For anonymous visitors this also asks the
    /// middleware to set the pre-session cookie, which public pages without forms never get.
    pub fn csrf_token(&self) -> &str {
        if let Some(s) = &self.session {
            &s.csrf_token
        } else {
            self.anon_csrf_used.set(true);
            &self.anon_csrf
        }
    }

    /// The client's rate-limit key.
    pub fn ip_key(&self) -> String {
        auth::ip_key(self.ip)
    }
}

/// Cookie names; `__Host-` on HTTPS so no subdomain can plant them.
pub struct CookieNames {
    /// The session cookie.
    pub session: &'static str,
    /// The anonymous CSRF cookie.
    pub csrf: &'static str,
}

/// The cookie names for this site.
pub fn cookie_names(https: bool) -> CookieNames {
    if https {
        CookieNames {
            session: "__Host-yui_session",
            csrf: "__Host-yui_csrf",
        }
    } else {
        CookieNames {
            session: "yui_session",
            csrf: "yui_csrf",
        }
    }
}

/// Builds a cookie with the site's flags (`HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` on HTTPS).
pub fn make_cookie(
    name: &str,
    value: String,
    https: bool,
    max_age: Option<CookieDuration>,
) -> Cookie<'static> {
    let mut c = Cookie::build(name.to_owned(), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(https)
        .finish();
    if let Some(age) = max_age {
        c.set_max_age(age);
    }
    c
}

const FLASH_COOKIE: &str = "yui_flash";
const LANG_COOKIE: &str = "yui_lang";

/// The middleware (registered with `actix_web::middleware::from_fn`).
pub async fn request_context(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError("state missing"));
    };
    // Static files and the health check need no session, settings or CSRF.
    if req.path().starts_with("/static/") || req.path() == "/healthz" {
        let res = next.call(req).await?.map_into_boxed_body();
        return Ok(finish_headers(res, false));
    }
    let https = state.core.config.is_https();
    let names = cookie_names(https);
    let ip = client_ip(&req, &state.trusted_proxies);
    let session_token = req.cookie(names.session).map(|c| c.value().to_owned());

    let (site, session, may_approve, (pending_safety, unread_notices)) =
        match load_visitor(&state, session_token).await {
            Ok(v) => v,
            Err(e) => {
                let fallback = fallback_ctx(ip);
                return Ok(error_response(&state, &req, &fallback, &e));
            }
        };

    let lang = pick_language(&req, session.as_ref(), &site);
    let flash = req
        .cookie(FLASH_COOKIE)
        .and_then(|c| i18n::lookup(Lang::En, c.value()).map(|_| c.value().to_owned()))
        .and_then(|k| known_flash_key(&k));
    let is_get = req.method() == Method::GET || req.method() == Method::HEAD;
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Personal answer links are private pages even without a session: never cached.
    let personal_link = is_answer_link(req.path());
    let cache_key = (is_get && session.is_none() && flash.is_none() && !personal_link).then(|| {
        let pq = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
        PageCache::key(lang.code(), pq)
    });
    if let Some(page) = cache_key.as_deref().and_then(|k| state.page_cache.get(k)) {
        let res = cached_response(&page, if_none_match.as_deref());
        return Ok(finish_headers(req.into_response(res), true));
    }
    let (anon_csrf, anon_csrf_is_new) = match req.cookie(names.csrf) {
        Some(c) if crate::services::token::looks_like_token(c.value()) => {
            (c.value().to_owned(), false)
        }
        _ => (new_token(), true),
    };
    let ctx = Rc::new(ReqCtx {
        session,
        may_approve,
        pending_safety,
        unread_notices,
        site,
        lang,
        ip,
        flash,
        anon_csrf,
        anon_csrf_is_new,
        anon_csrf_used: Cell::new(false),
    });

    if is_unsafe(req.method())
        && let Err(e) = check_csrf(&mut req, &state, &ctx).await
    {
        return Ok(error_response(&state, &req, &ctx, &e));
    }

    req.extensions_mut().insert(ctx.clone());
    let unsafe_method = is_unsafe(req.method());
    let res = next.call(req).await?.map_into_boxed_body();
    let mut res = finish_response(&state, &ctx, res);
    if personal_link {
        // The link is the secret: it must not travel on in a Referer header.
        res.headers_mut().insert(
            header::REFERRER_POLICY,
            header::HeaderValue::from_static("no-referrer"),
        );
    }
    if unsafe_method && res.status().as_u16() < 400 {
        // Something changed: public pages must show it at once.
        state.page_cache.clear();
    }
    if is_get && ctx.session.is_none() && res.status() == StatusCode::OK {
        // Pages with a form token or a flash message are personal; never keep them.
        let keep = cache_key.filter(|_| !ctx.anon_csrf_used.get());
        return Ok(with_etag(
            res,
            if_none_match.as_deref(),
            keep.map(|k| (&*state.page_cache, k)),
        ));
    }
    Ok(res)
}

/// The site settings (cached) and the visitor's session, if the request carries one. A visitor without
/// a session reading a public page costs no query while the settings are cached.
async fn load_visitor(
    state: &AppState,
    session_token: Option<String>,
) -> Result<Visitor, AppError> {
    let cached_site = state.core.site_cache.fresh();
    if session_token.is_none()
        && let Some(site) = cached_site.clone()
    {
        return Ok((site, None, false, (None, 0)));
    }
    let need_site = cached_site.is_none();
    let (loaded_site, session, may_approve, personal) = state
        .core
        .db
        .read(move |conn| {
            let site = if need_site {
                Some(crate::services::site::load(conn)?)
            } else {
                None
            };
            let session = match session_token {
                Some(t) => auth::resolve_session(conn, &t)?,
                None => None,
            };
            let may_approve = match &session {
                Some(s) => crate::services::rooms::may_approve_somewhere(conn, &(&s.user).into())?,
                None => false,
            };
            let personal = match &session {
                Some(s) => (
                    crate::services::safety::pending_for(conn, s.user.id)?
                        .map(|n| (n.id, n.title, n.drill)),
                    crate::services::notices::unread_count(conn, &(&s.user).into())?,
                ),
                None => (None, 0),
            };
            Ok((site, session, may_approve, personal))
        })
        .await?;
    let site = match (loaded_site, cached_site) {
        (Some(fresh), _) => state.core.site_cache.store(fresh),
        (None, Some(cached)) => cached,
        (None, None) => Arc::new(SiteSettings::default()),
    };
    if let Some(s) = session.as_ref().filter(|s| s.needs_extension) {
        let id = s.id;
        if let Err(e) = state
            .core
            .db
            .write(move |conn| auth::extend_session(conn, id))
            .await
        {
            tracing::warn!(error = %e, "session extension failed");
        }
    }
    Ok((site, session, may_approve, personal))
}

/// What `load_visitor` finds: settings, session, the approvals hint, the safety banner.
type Visitor = (
    Arc<SiteSettings>,
    Option<LiveSession>,
    bool,
    (Option<(i64, String, bool)>, i64),
);

/// `/a/{token}`: a safety check's personal answer link.
pub fn is_answer_link(path: &str) -> bool {
    path.starts_with("/a/")
}

/// A response from the micro-cache (304 when the browser has it already).
fn cached_response(page: &CachedPage, if_none_match: Option<&str>) -> HttpResponse {
    if etag_matches(if_none_match, &page.etag) {
        return HttpResponse::NotModified()
            .insert_header((header::ETAG, page.etag.clone()))
            .finish();
    }
    HttpResponse::Ok()
        .content_type(page.content_type.clone())
        .insert_header((header::ETAG, page.etag.clone()))
        .body(page.body.clone())
}

fn etag_matches(if_none_match: Option<&str>, etag: &str) -> bool {
    if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"))
}

/// Everything a response gets on its way out: handler errors rendered as pages in the site layout, the
/// pre-session CSRF cookie when a form used it, the spent flash message cleared, security headers.
fn finish_response(
    state: &AppState,
    ctx: &ReqCtx,
    res: ServiceResponse<BoxBody>,
) -> ServiceResponse<BoxBody> {
    let https = state.core.config.is_https();
    let page = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
        .map(|e| error_response_for(state, res.request(), ctx, e));
    let mut res = match page {
        Some(page) => {
            let (req, _) = res.into_parts();
            ServiceResponse::new(req, page)
        }
        None => res,
    };
    if ctx.session.is_none() && ctx.anon_csrf_is_new && ctx.anon_csrf_used.get() {
        let c = make_cookie(cookie_names(https).csrf, ctx.anon_csrf.clone(), https, None);
        let _ = res.response_mut().add_cookie(&c);
    }
    if ctx.flash.is_some() && !sets_cookie(&res, FLASH_COOKIE) {
        let c = make_cookie(
            FLASH_COOKIE,
            String::new(),
            https,
            Some(CookieDuration::ZERO),
        );
        let _ = res.response_mut().add_cookie(&c);
    }
    finish_headers(res, ctx.session.is_none())
}

fn fallback_ctx(ip: IpAddr) -> ReqCtx {
    ReqCtx {
        session: None,
        may_approve: false,
        pending_safety: None,
        unread_notices: 0,
        site: Arc::new(SiteSettings::default()),
        lang: Lang::default(),
        ip,
        flash: None,
        anon_csrf: String::new(),
        anon_csrf_is_new: false,
        anon_csrf_used: Cell::new(false),
    }
}

fn known_flash_key(k: &str) -> Option<&'static str> {
    // Only keys under `flash.` may be carried, so a cookie cannot pick arbitrary UI text.
    if !k.starts_with("flash.") {
        return None;
    }
    crate::web::render::FLASH_KEYS
        .iter()
        .copied()
        .find(|f| *f == k)
}

fn sets_cookie(res: &ServiceResponse<BoxBody>, name: &str) -> bool {
    res.response().cookies().any(|c| c.name() == name)
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The client address: the peer, or, when the peer is a trusted proxy, the last address in
/// `X-Forwarded-For` that is not itself a trusted proxy.
pub fn client_ip(req: &ServiceRequest, trusted: &[ipnet::IpNet]) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::from([127, 0, 0, 1]), |a| a.ip());
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for value in req.headers().get_all("x-forwarded-for") {
        let Ok(s) = value.to_str() else { continue };
        for hop in s.split(',').rev() {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) if is_trusted(&ip) => client = ip,
                Ok(ip) => return ip,
                Err(_) => return client,
            }
        }
    }
    client
}

fn pick_language(req: &ServiceRequest, session: Option<&LiveSession>, site: &SiteSettings) -> Lang {
    if let Some(l) = req.cookie(LANG_COOKIE).and_then(|c| Lang::parse(c.value())) {
        return l;
    }
    if let Some(l) = session
        .and_then(|s| s.user.language.as_deref())
        .and_then(Lang::parse)
    {
        return l;
    }
    req.headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or(site.language)
}

/// CSRF: the Origin (or `Sec-Fetch-Site`) must be this site, and the token from the `X-CSRF-Token` header
/// or the form's `_csrf` field must match the session's. A form body is read here (bounded), checked,
/// and handed on to the handler unchanged.
async fn check_csrf(
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
    if answer_link {
        // The unguessable link is the credential (DESIGN.md §8: no login, no cookie needed on a
        // phone's mail app); a forged cross-site form cannot know it, and Origin was checked above.
        return Ok(());
    }
    let expected = if let Some(s) = &ctx.session {
        s.csrf_token.clone()
    } else if ctx.anon_csrf_is_new {
        // No pre-session cookie: nothing this visitor submits can match.
        return Err(AppError::Forbidden);
    } else {
        ctx.anon_csrf.clone()
    };
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
        let chunk = chunk.map_err(|_| AppError::Invalid(crate::error::FieldErrors::default()))?;
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

/// Security headers on every response; no caching of personal pages.
fn finish_headers(mut res: ServiceResponse<BoxBody>, public: bool) -> ServiceResponse<BoxBody> {
    let h = res.headers_mut();
    let set = |h: &mut header::HeaderMap, k: &'static str, v: &'static str| {
        if !h.contains_key(k) {
            h.insert(
                header::HeaderName::from_static(k),
                header::HeaderValue::from_static(v),
            );
        }
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "referrer-policy", "strict-origin-when-cross-origin");
    set(h, "x-frame-options", "DENY");
    set(h, "cross-origin-opener-policy", "same-origin");
    set(
        h,
        "permissions-policy",
        "camera=(), microphone=(), geolocation=()",
    );
    if public {
        set(h, "cache-control", "no-cache");
    } else {
        set(h, "cache-control", "private, no-store");
    }
    res
}

/// Adds a weak `ETag` to a public page, answers 304 when the browser already has it, and keeps the
/// page in the micro-cache when `keep` names its key.
fn with_etag(
    res: ServiceResponse<BoxBody>,
    if_none_match: Option<&str>,
    keep: Option<(&PageCache, String)>,
) -> ServiceResponse<BoxBody> {
    let content_type = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .unwrap_or_default();
    let cacheable =
        content_type.starts_with("text/html") || content_type.starts_with("application/atom+xml");
    if !cacheable || res.headers().contains_key(header::SET_COOKIE) {
        return res;
    }
    let (req, response) = res.into_parts();
    let (head, body) = response.into_parts();
    // Rendered pages are already in memory as one buffer: take it without copying.
    let bytes = match body.try_into_bytes() {
        Ok(bytes) => bytes,
        Err(body) => return ServiceResponse::new(req, head.set_body(body)),
    };
    let digest = Sha256::digest(&bytes);
    let etag = format!("W/\"{}\"", crate::services::token::to_hex(&digest[..10]));
    if let Some((cache, key)) = keep {
        cache.put(
            key,
            CachedPage {
                content_type,
                etag: etag.clone(),
                body: bytes.clone(),
            },
        );
    }
    let mut response = if etag_matches(if_none_match, &etag) {
        let mut r = head.set_body(BoxBody::new(()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r.headers_mut().remove(header::CONTENT_TYPE);
        r
    } else {
        head.set_body(BoxBody::new(bytes))
    };
    if let Ok(v) = header::HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, v);
    }
    ServiceResponse::new(req, response)
}

fn error_response(
    state: &AppState,
    req: &ServiceRequest,
    ctx: &ReqCtx,
    e: &AppError,
) -> ServiceResponse<BoxBody> {
    let page = error_response_for(state, req.request(), ctx, e);
    finish_headers(
        ServiceResponse::new(req.request().clone(), page),
        ctx.session.is_none(),
    )
}

fn error_response_for(
    state: &AppState,
    req: &actix_web::HttpRequest,
    ctx: &ReqCtx,
    e: &AppError,
) -> HttpResponse {
    super::error_page::render(state, req, ctx, e)
}
