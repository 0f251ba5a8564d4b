//! Public pages for visitors without a session: answered from the one-second `PageCache` when it
//! has them, kept there with a weak `ETag` (304 when the browser has the page already) when not.
//! Any successful change empties the cache, so an author sees their edit at once.

use std::rc::Rc;

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, StatusCode, header};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use sha2::{Digest, Sha256};

use super::{is_answer_link, is_unsafe, state_of};
use crate::web::AppState;
use crate::web::context::ReqCtx;
use crate::web::page_cache::{CachedPage, PageCache};

/// The middleware.
pub async fn public_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if super::is_dav(req.path()) || super::is_subsonic(req.path()) {
        // Answers there depend on the account (Basic auth, Subsonic's parameters), which the
        // cache key does not know.
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let is_get = req.method() == Method::GET || req.method() == Method::HEAD;
    // The context is borrowed, not cloned: a page from the cache costs as little as it can.
    let visitor = req.extensions().get::<Rc<ReqCtx>>().map(|c| {
        let anonymous = c.session.is_none();
        // Personal answer links are private pages even without a session: never cached.
        let cacheable = is_get && anonymous && c.flash.is_none() && !is_answer_link(req.path());
        (anonymous, cacheable.then(|| cache_key(&req, c.lang.code())))
    });
    let Some((anonymous, cache_key)) = visitor else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let hit = req
        .app_data::<web::Data<AppState>>()
        .zip(cache_key.as_deref())
        .and_then(|(state, key)| state.page_cache.get(key));
    if let Some(page) = hit {
        return Ok(req.into_response(cached_response(&page, if_none_match.as_deref())));
    }
    let state = state_of(&req)?;
    let ctx = ReqCtx::of(req.request());
    let unsafe_method = is_unsafe(req.method());
    let res = next.call(req).await?.map_into_boxed_body();
    if unsafe_method && res.status().as_u16() < 400 {
        // Something changed: public pages must show it at once.
        state.page_cache.clear();
    }
    if is_get && anonymous && res.status() == StatusCode::OK {
        // Pages with a form token are personal; never keep them.
        let keep = cache_key.filter(|_| ctx.is_some_and(|c| !c.form_token_used()));
        return Ok(with_etag(
            res,
            if_none_match.as_deref(),
            keep.map(|k| (&*state.page_cache, k)),
        ));
    }
    Ok(res)
}

/// The page's key in the cache: its language and URL.
fn cache_key(req: &ServiceRequest, lang: &str) -> String {
    let pq = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    PageCache::key(lang, pq)
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
