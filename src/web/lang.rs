//! The language a page is answered in, and the cookie that remembers a visitor's own choice.

use actix_web::cookie::{Cookie, time::Duration};
use actix_web::dev::ServiceRequest;
use actix_web::http::header;

use super::cookies::{make_cookie, removal};
use crate::i18n::Lang;
use crate::services::auth::LiveSession;
use crate::services::site::SiteSettings;

/// The cookie that keeps a visitor's language switch (`/lang/{code}`).
const COOKIE: &str = "yui_lang";

/// The language to answer in: the visitor's switch (cookie), the member's profile, the browser's
/// `Accept-Language`, then the site's default.
pub fn pick(req: &ServiceRequest, session: Option<&LiveSession>, site: &SiteSettings) -> Lang {
    if let Some(l) = req.cookie(COOKIE).and_then(|c| Lang::parse(c.value())) {
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

/// The cookie that remembers a switch to `lang` for a year.
pub fn remember(lang: Lang, https: bool) -> Cookie<'static> {
    make_cookie(
        COOKIE,
        lang.code().to_owned(),
        https,
        Some(Duration::days(365)),
    )
}

/// The cookie that forgets an earlier switch (the profile's language is the new choice).
pub fn forget(https: bool) -> Cookie<'static> {
    removal(COOKIE, https)
}
