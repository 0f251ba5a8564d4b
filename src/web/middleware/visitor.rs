//! Who is asking: the site settings, the session (from the database only when the request carries a
//! session cookie), the navigation facts of a logged-in member, the language and the flash message,
//! resolved once per request into the `ReqCtx` every later step and handler reads.

use std::rc::Rc;
use std::sync::Arc;

use actix_web::HttpMessage;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;

use super::{outside_site, state_of};
use crate::error::AppError;
use crate::services::auth::{self, LiveSession};
use crate::services::nav::{self, NavFacts};
use crate::services::site::SiteSettings;
use crate::services::token::looks_like_token;
use crate::services::{Actor, site};
use crate::web::AppState;
use crate::web::client_ip::client_ip;
use crate::web::context::ReqCtx;
use crate::web::cookies::cookie_names;
use crate::web::error_page;
use crate::web::{flash, lang};

/// The middleware. A visitor the database cannot place gets the error page of an unknown,
/// anonymous visitor (rendered here: `errors` needs the `ReqCtx` this could not make).
pub async fn resolve_visitor(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    if outside_site(req.path()) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let state = state_of(&req)?;
    let names = cookie_names(state.core.config.is_https());
    let ip = client_ip(&req, &state.trusted_proxies);
    let session_token = req.cookie(names.session).map(|c| c.value().to_owned());
    let (site, session, nav) = match load(&state, session_token).await {
        Ok(v) => v,
        Err(e) => {
            let page = error_page::render(&state, req.request(), &ReqCtx::unknown_visitor(ip), &e);
            return Ok(req.into_response(page));
        }
    };
    let lang = lang::pick(&req, session.as_ref(), &site);
    let flash = flash::from_request(&req);
    let csrf_cookie = req
        .cookie(names.csrf)
        .map(|c| c.value().to_owned())
        .filter(|v| looks_like_token(v));
    let ctx = ReqCtx::new(session, nav, site, lang, ip, flash, csrf_cookie);
    req.extensions_mut().insert(Rc::new(ctx));
    Ok(next.call(req).await?.map_into_boxed_body())
}

/// What `load` finds: the settings, the session and the navigation facts.
type Visitor = (Arc<SiteSettings>, Option<LiveSession>, NavFacts);

/// The site settings (cached) and the visitor's session with its navigation facts, if the request
/// carries a session cookie: one read transaction. A visitor without a session reading a public
/// page costs no query while the settings are cached.
async fn load(state: &AppState, session_token: Option<String>) -> Result<Visitor, AppError> {
    let cached_site = state.core.site_cache.fresh();
    if session_token.is_none()
        && let Some(site) = cached_site.clone()
    {
        return Ok((site, None, NavFacts::default()));
    }
    let need_site = cached_site.is_none();
    let (loaded_site, session, nav) = state
        .core
        .db
        .read(move |conn| {
            let site = if need_site {
                Some(site::load(conn)?)
            } else {
                None
            };
            let session = match session_token {
                Some(t) => auth::resolve_session(conn, &t)?,
                None => None,
            };
            let nav = match &session {
                Some(s) => nav::for_member(conn, &Actor::from(&s.user))?,
                None => NavFacts::default(),
            };
            Ok((site, session, nav))
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
    Ok((site, session, nav))
}
