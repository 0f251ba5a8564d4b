//! Error pages: a failed handler, extractor or middleware inside this one leaves a bare response
//! carrying its `AppError`; here it becomes the page in the site layout (`error_page::render`), or
//! the login redirect. (Static files keep their bare errors: `visitor` gave them no `ReqCtx`.)

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;

use crate::error::AppError;
use crate::web::context::ReqCtx;
use crate::web::error_page;

/// The middleware.
pub async fn error_pages(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let Some(ctx) = ReqCtx::of(req.request()) else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let res = next.call(req).await?.map_into_boxed_body();
    let Some(e) = res
        .response()
        .error()
        .and_then(|e| e.as_error::<AppError>())
    else {
        return Ok(res);
    };
    let state = state_of_response(&res)?;
    let mut page = error_page::render(&state, res.request(), &ctx, e);
    let (req, bare) = res.into_parts();
    // Cookies set on the way out (a flash message spent, a pre-session CSRF secret) still apply.
    for cookie in bare.headers().get_all(header::SET_COOKIE) {
        page.headers_mut()
            .append(header::SET_COOKIE, cookie.clone());
    }
    Ok(ServiceResponse::new(req, page))
}

/// The application state, read only when a page has to be rendered.
fn state_of_response(
    res: &ServiceResponse<BoxBody>,
) -> Result<actix_web::web::Data<crate::web::AppState>, actix_web::Error> {
    res.request()
        .app_data::<actix_web::web::Data<crate::web::AppState>>()
        .cloned()
        .ok_or_else(|| actix_web::error::ErrorInternalServerError("state missing"))
}
