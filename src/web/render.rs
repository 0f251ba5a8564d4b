//! Responses: a page rendered from its struct, redirects (with a flash message), same-site checks
//! of redirect targets.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;

use super::AppState;
use super::cookies::make_cookie;
use super::views::Page;
use crate::error::AppResult;

/// Renders a page's template to HTML.
pub fn html<P: Page>(state: &AppState, page: &P) -> anyhow::Result<String> {
    let context = tera::Context::from_serialize(page)
        .map_err(|e| anyhow::anyhow!("page for {}: {e:?}", P::TEMPLATE))?;
    state.core.templates.render(P::TEMPLATE, &context)
}

/// A rendered page with `status`.
pub fn with_status<P: Page>(
    state: &AppState,
    page: &P,
    status: StatusCode,
) -> AppResult<HttpResponse> {
    let body = html(state, page)?;
    Ok(HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(body))
}

/// A rendered page (200).
pub fn ok<P: Page>(state: &AppState, page: &P) -> AppResult<HttpResponse> {
    with_status(state, page, StatusCode::OK)
}

/// A form shown again with its field errors (422).
pub fn invalid<P: Page>(state: &AppState, page: &P) -> AppResult<HttpResponse> {
    with_status(state, page, StatusCode::UNPROCESSABLE_ENTITY)
}

/// Marks a page whose URL carries a secret token (password reset, email change, address
/// verification, invitation): its links never pass the URL on to another site in a `Referer`
/// (`same-origin`). Not `no-referrer`: under it browsers send `Origin: null` with the page's own
/// form, which the CSRF check rightly refuses, so the form could not be sent (the browser test of
/// the email change found it).
pub fn keep_token_private(mut res: HttpResponse) -> HttpResponse {
    res.headers_mut().insert(
        actix_web::http::header::REFERRER_POLICY,
        actix_web::http::header::HeaderValue::from_static("same-origin"),
    );
    res
}

/// 303 See Other (Post/Redirect/Get).
pub fn redirect(to: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header(("location", crate::services::url_path(to)))
        .finish()
}

/// 303 with a flash message for the next page (one of `flash::FLASH_KEYS`).
pub fn redirect_with_flash(state: &AppState, to: &str, flash: &'static str) -> HttpResponse {
    let cookie = make_cookie(
        super::flash::COOKIE,
        flash.to_owned(),
        state.core.config.is_https(),
        None,
    );
    HttpResponse::SeeOther()
        .insert_header(("location", crate::services::url_path(to)))
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
