//! Building template contexts and responses: the fields every page has, redirects, flash messages.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use super::AppState;
use super::context::{ReqCtx, make_cookie};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::i18n::Lang;

/// Flash messages that may be carried over a redirect (each is an i18n key).
pub const FLASH_KEYS: &[&str] = &[
    "flash.logged_in",
    "flash.logged_out",
    "flash.saved",
    "flash.password_changed",
    "flash.password_reset_done",
    "flash.reset_mail_sent",
    "flash.member_created",
    "flash.member_updated",
    "flash.post_saved",
    "flash.post_deleted",
    "flash.sessions_ended",
    "flash.setup_done",
    "flash.room_created",
    "flash.room_joined",
    "flash.room_left",
    "flash.room_requested",
    "flash.post_draft_saved",
    "flash.post_pending",
    "flash.post_approved",
    "flash.post_sent_back",
    "flash.note_required",
    "flash.invitation_sent",
    "flash.comment_added",
    "flash.comment_pending",
    "flash.comment_empty",
    "flash.comment_approved",
    "flash.members_imported",
    "flash.folder_created",
    "flash.files_uploaded",
    "flash.no_files",
    "flash.renamed",
    "flash.copied",
    "flash.moved",
    "flash.trashed",
    "flash.restored",
    "flash.safety_started",
    "flash.safety_answered",
    "flash.safety_proxy",
    "flash.reminded",
    "flash.safety_closed",
    "flash.notice_sent",
    "flash.notice_answered",
    "flash.notice_closed",
    "flash.address_added",
    "flash.address_removed",
    "flash.test_sent",
    "flash.address_verified",
    "flash.test_everyone_sent",
];

/// The context every page template gets: language, site, user, CSRF token, path and flash.
pub fn base_context(ctx: &ReqCtx, path: &str) -> tera::Context {
    let mut c = tera::Context::new();
    c.insert("lang", ctx.lang.code());
    let other = match ctx.lang {
        Lang::Ja => Lang::En,
        Lang::En => Lang::Ja,
    };
    c.insert("other_lang", other.code());
    c.insert("site_title", &ctx.site.title);
    c.insert("site_tagline", &ctx.site.tagline);
    if let Some(s) = &ctx.session {
        c.insert(
            "user",
            &serde_json::json!({
                "login": s.user.login,
                "display_name": s.user.display_name,
                "is_admin": s.user.is_admin(),
                "may_approve": ctx.may_approve,
                "unread_notices": ctx.unread_notices,
            }),
        );
        c.insert("csrf", &s.csrf_token);
        // Not on the safety pages themselves (the answer form is right there).
        if let Some((id, title, drill)) = ctx
            .pending_safety
            .as_ref()
            .filter(|_| !path.starts_with("/safety/"))
        {
            c.insert(
                "safety_banner",
                &serde_json::json!({ "url": format!("/safety/{id}/answer"), "title": title, "drill": drill }),
            );
        }
    } else {
        c.insert("user", &None::<()>);
        c.insert("csrf", "");
    }
    if !c.contains_key("safety_banner") {
        c.insert("safety_banner", &None::<()>);
    }
    c.insert("path", path);
    c.insert("flash", &ctx.flash);
    c.insert("errors", &serde_json::Map::new());
    c
}

/// Adds the CSRF token for a form on a page an anonymous visitor may see (login, setup, reset).
pub fn with_form_token(c: &mut tera::Context, ctx: &ReqCtx) {
    c.insert("csrf", ctx.csrf_token());
}

/// Puts field errors into the context as `errors.<field>` = message key.
pub fn insert_errors(c: &mut tera::Context, errors: &FieldErrors) {
    let map: serde_json::Map<String, serde_json::Value> = errors
        .0
        .iter()
        .map(|e| (e.field.to_owned(), serde_json::Value::from(e.message)))
        .collect();
    c.insert("errors", &map);
}

/// Renders an HTML page with a status.
pub fn page(
    state: &AppState,
    template: &str,
    context: &tera::Context,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let body = state.core.templates.render(template, context)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// Renders an HTML page with 200.
pub fn ok(state: &AppState, template: &str, context: &tera::Context) -> AppResult<HttpResponse> {
    page(state, template, context, StatusCode::OK)
}

/// 303 See Other (Post/Redirect/Get).
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("location", to.to_owned()))
        .finish()
}

/// 303 with a flash message for the next page.
pub fn redirect_with_flash(state: &AppState, to: &str, flash: &'static str) -> HttpResponse {
    let cookie = make_cookie(
        "yui_flash",
        flash.to_owned(),
        state.core.config.is_https(),
        None,
    );
    HttpResponse::SeeOther()
        .insert_header(("location", to.to_owned()))
        .cookie(cookie)
        .finish()
}

/// A redirect target from user input, kept only if it is a path on this site (`/x`, not `//x`,
/// `/\x` or `https://…`); anything else becomes `/`.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with('/')
                && !n.starts_with("//")
                && !n.starts_with("/\\")
                && !n.chars().any(|c| c.is_control() || c == '\\') =>
        {
            n.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// Splits a form-validation error from other errors: `Ok(errors)` to re-render with 422.
pub fn invalid_or(e: AppError) -> Result<FieldErrors, AppError> {
    match e {
        AppError::Invalid(errors) if !errors.is_empty() => Ok(errors),
        other => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_same_site_paths_are_redirect_targets() {
        assert_eq!(safe_next(Some("/me")), "/me");
        assert_eq!(safe_next(Some("/posts/a?x=1")), "/posts/a?x=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\r\nb",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
