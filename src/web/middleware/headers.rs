//! Security headers on every response (static files included), and no caching of personal pages.

use std::rc::Rc;

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderMap, HeaderName, HeaderValue};
use actix_web::middleware::Next;

use super::{is_answer_link, outside_site};
use crate::web::context::ReqCtx;

const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The middleware: the headers a handler did not set itself.
pub async fn security_headers(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let answer_link = is_answer_link(req.path());
    let outside = outside_site(req.path());
    let mut res = next.call(req).await?.map_into_boxed_body();
    // A page is public unless it was made for a session; a request `visitor` could not place (the
    // database did not answer) got an anonymous error page.
    let public = !outside
        && res
            .request()
            .extensions()
            .get::<Rc<ReqCtx>>()
            .is_none_or(|c| c.session.is_none());
    let h = res.headers_mut();
    if answer_link {
        // The link is the secret: it must not travel on in a Referer header.
        h.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    set(h, "content-security-policy", CSP);
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
    Ok(res)
}

fn set(h: &mut HeaderMap, k: &'static str, v: &'static str) {
    if !h.contains_key(k) {
        h.insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
}
