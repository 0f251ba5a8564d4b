//! Forgets a flash message once a page has shown it (unless the response carries a new one).

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use super::state_of;
use crate::web::context::ReqCtx;
use crate::web::cookies::removal;
use crate::web::flash::COOKIE;

/// The middleware.
pub async fn clear_shown(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(ctx) = ReqCtx::of(req.request()).filter(|c| c.flash.is_some()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let https = state_of(&req)?.core.config.is_https();
    let mut res = next.call(req).await?.map_into_boxed_body();
    let sets_new = res.response().cookies().any(|c| c.name() == COOKIE);
    if ctx.flash.is_some() && !sets_new {
        // A response that cannot take the cookie keeps the message for the next page; no harm.
        let _ = res.response_mut().add_cookie(&removal(COOKIE, https));
    }
    Ok(res)
}
