//! The site layout's data (`templates/base.html`): what every page shows around its own content.

use serde::Serialize;

use crate::i18n::Lang;
use crate::services::Actor;
use crate::services::authz::is_site_admin;
use crate::web::context::ReqCtx;

/// What every page embeds (`#[serde(flatten)]`): language, site, the member and their
/// navigation, the CSRF token, the safety banner, the page's path and the flash message.
#[derive(Debug, Clone, Serialize)]
pub struct Layout {
    /// The page's language (`ja`, `en`).
    pub lang: &'static str,
    /// The language the footer's switch offers.
    pub other_lang: &'static str,
    /// The site's title.
    pub site_title: String,
    /// The site's tagline.
    pub site_tagline: String,
    /// The title's language where it is not the page's (`lang` markup), as its letters tell.
    pub site_title_lang: Option<&'static str>,
    /// The tagline's language where it is not the page's.
    pub site_tagline_lang: Option<&'static str>,
    /// The logged-in member, if any.
    pub user: Option<NavUser>,
    /// The CSRF token forms carry (empty for an anonymous visitor unless the page has a form).
    pub csrf: String,
    /// A safety check waiting for the member's answer.
    pub safety_banner: Option<SafetyBanner>,
    /// The page's path (the language switch returns to it).
    pub path: String,
    /// A flash message key carried over a redirect.
    pub flash: Option<&'static str>,
}

/// The logged-in member as the navigation shows them.
#[derive(Debug, Clone, Serialize)]
pub struct NavUser {
    /// Login name.
    pub login: String,
    /// Display name.
    pub display_name: String,
    /// A site administrator (the admin links; `authz::is_site_admin` says so).
    pub is_admin: bool,
    /// The approvals link.
    pub may_approve: bool,
    /// Revisions waiting there for their approval.
    pub waiting_approvals: i64,
    /// Unread circular notices.
    pub unread_notices: i64,
    /// Their profile picture's address, if they have one.
    pub picture: Option<String>,
    /// The first letter of their name (the placeholder without a picture).
    pub initial: String,
}

/// The banner of a safety check waiting for the member's answer.
#[derive(Debug, Clone, Serialize)]
pub struct SafetyBanner {
    /// The answer form.
    pub url: String,
    /// The check's title.
    pub title: String,
    /// A drill (訓練).
    pub drill: bool,
}

/// The language of `text` if its letters tell one and it is not `page`'s.
fn other_than(page: Lang, text: &str) -> Option<&'static str> {
    Lang::of_text(text).filter(|l| *l != page).map(Lang::code)
}

impl Layout {
    /// The layout of the page at `path`.
    pub fn new(ctx: &ReqCtx, path: &str) -> Self {
        let other = match ctx.lang {
            Lang::Ja => Lang::En,
            Lang::En => Lang::Ja,
        };
        let user = ctx.session.as_ref().map(|s| NavUser {
            login: s.user.login.clone(),
            display_name: s.user.display_name.clone(),
            is_admin: is_site_admin(&Actor::from(&s.user)),
            may_approve: ctx.nav.may_approve,
            waiting_approvals: ctx.nav.waiting_approvals,
            unread_notices: ctx.nav.unread_notices,
            picture: ctx
                .nav
                .picture
                .as_deref()
                .map(|sha| super::people::picture_url(s.user.id, sha)),
            initial: super::people::initial(&s.user.display_name),
        });
        // Not on the safety pages themselves (the answer form is right there).
        let safety_banner = ctx
            .session
            .as_ref()
            .and(ctx.nav.pending_safety.as_ref())
            .filter(|_| !path.starts_with("/safety/"))
            .map(|p| SafetyBanner {
                url: format!("/safety/{}/answer", p.id),
                title: p.title.clone(),
                drill: p.drill,
            });
        Self {
            lang: ctx.lang.code(),
            other_lang: other.code(),
            site_title: ctx.site.title.clone(),
            site_tagline: ctx.site.tagline.clone(),
            site_title_lang: other_than(ctx.lang, &ctx.site.title),
            site_tagline_lang: other_than(ctx.lang, &ctx.site.tagline),
            user,
            csrf: ctx
                .session
                .as_ref()
                .map(|s| s.csrf_token.clone())
                .unwrap_or_default(),
            safety_banner,
            path: path.to_owned(),
            flash: ctx.flash,
        }
    }

    /// The layout of a page with a form an anonymous visitor may send (login, setup, reset, the
    /// links mailed to people): it carries the form token even without a session.
    pub fn with_form_token(ctx: &ReqCtx, path: &str) -> Self {
        Self {
            csrf: ctx.csrf_token().to_owned(),
            ..Self::new(ctx, path)
        }
    }
}
