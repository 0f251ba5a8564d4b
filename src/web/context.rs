//! What a handler knows about the request's visitor (`ReqCtx`): built once per request by
//! `middleware::visitor`, kept in the request's extensions, read by the `Ctx` and `CurrentUser`
//! extractors and by the middleware that finishes the response.

use std::cell::{Cell, OnceCell};
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;

use actix_web::{HttpMessage, HttpRequest};

use crate::i18n::Lang;
use crate::services::Actor;
use crate::services::auth::{self, LiveSession};
use crate::services::nav::NavFacts;
use crate::services::site::SiteSettings;
use crate::services::token::new_token;

/// Everything a handler knows about the request's visitor.
pub struct ReqCtx {
    /// The logged-in session, if any.
    pub session: Option<LiveSession>,
    /// What the navigation shows a logged-in member (approvals link, unread notices, safety banner).
    pub nav: NavFacts,
    /// Site settings.
    pub site: Arc<SiteSettings>,
    /// The language to answer in.
    pub lang: Lang,
    /// The client's address (after trusted proxies).
    pub ip: IpAddr,
    /// A flash message key carried over a redirect.
    pub flash: Option<&'static str>,
    /// The CSRF secret of a visitor without a session.
    form_token: FormToken,
}

/// The CSRF secret of a visitor without a session: the pre-session cookie's, or a fresh one made
/// when a page first puts a form token on itself (public pages without forms never make one, so
/// they stay cacheable and set no cookie).
#[derive(Default)]
struct FormToken {
    from_cookie: Option<String>,
    fresh: OnceCell<String>,
    used: Cell<bool>,
}

impl ReqCtx {
    /// A request context; `csrf_cookie` is the pre-session CSRF cookie's value, when it looks like a token.
    pub fn new(
        session: Option<LiveSession>,
        nav: NavFacts,
        site: Arc<SiteSettings>,
        lang: Lang,
        ip: IpAddr,
        flash: Option<&'static str>,
        csrf_cookie: Option<String>,
    ) -> Self {
        Self {
            session,
            nav,
            site,
            lang,
            ip,
            flash,
            form_token: FormToken {
                from_cookie: csrf_cookie,
                ..FormToken::default()
            },
        }
    }

    /// The context of a request whose visitor could not be loaded (the database did not answer):
    /// anonymous, default settings and language, so the error page can still be shown.
    pub fn unknown_visitor(ip: IpAddr) -> Self {
        Self::new(
            None,
            NavFacts::default(),
            Arc::new(SiteSettings::default()),
            Lang::default(),
            ip,
            None,
            None,
        )
    }

    /// The context `middleware::visitor` put on the request, if it ran (not for static files).
    pub fn of(req: &HttpRequest) -> Option<Rc<ReqCtx>> {
        req.extensions().get::<Rc<ReqCtx>>().cloned()
    }

    /// The actor for services: the logged-in member, or `None` for an anonymous visitor.
    pub fn actor(&self) -> Option<Actor> {
        self.session.as_ref().map(|s| Actor::from(&s.user))
    }

    /// The zone this visitor reads times in: their own (`/me`), else the site's.
    pub fn zone(&self) -> chrono_tz::Tz {
        let own = self.session.as_ref().map(|s| Actor::from(&s.user));
        crate::services::zones::zone_for(&self.site, own.as_ref())
    }

    /// The CSRF token forms on this page must carry. For anonymous visitors this also asks
    /// `middleware::csrf` to set the pre-session cookie, which public pages without forms never get.
    pub fn csrf_token(&self) -> &str {
        if let Some(s) = &self.session {
            return &s.csrf_token;
        }
        let t = &self.form_token;
        t.used.set(true);
        match &t.from_cookie {
            Some(c) => c,
            None => t.fresh.get_or_init(new_token),
        }
    }

    /// The token a state-changing request must carry: the session's, or the pre-session cookie's
    /// (`None` when an anonymous visitor has no such cookie: nothing they send can match).
    pub fn expected_csrf_token(&self) -> Option<&str> {
        match &self.session {
            Some(s) => Some(&s.csrf_token),
            None => self.form_token.from_cookie.as_deref(),
        }
    }

    /// Whether this page carries a form token (then it is personal: never cached).
    pub fn form_token_used(&self) -> bool {
        self.form_token.used.get()
    }

    /// A new pre-session CSRF secret that this page put into a form, which the browser must now keep.
    pub fn new_form_token(&self) -> Option<&str> {
        let t = &self.form_token;
        if self.session.is_some() || t.from_cookie.is_some() || !t.used.get() {
            return None;
        }
        t.fresh.get().map(String::as_str)
    }

    /// The client's rate-limit key.
    pub fn ip_key(&self) -> String {
        auth::ip_key(self.ip)
    }
}
