//! The site's cookies: their names and the flags every one of them carries.

use actix_web::cookie::{Cookie, SameSite, time::Duration};

/// Cookie names; `__Host-` on HTTPS so no subdomain can plant them.
pub struct CookieNames {
    /// The session cookie.
    pub session: &'static str,
    /// The anonymous CSRF cookie.
    pub csrf: &'static str,
}

/// The cookie names for this site.
pub fn cookie_names(https: bool) -> CookieNames {
    if https {
        CookieNames {
            session: "__Host-yui_session",
            csrf: "__Host-yui_csrf",
        }
    } else {
        CookieNames {
            session: "yui_session",
            csrf: "yui_csrf",
        }
    }
}

/// Builds a cookie with the site's flags (`HttpOnly`, `SameSite=Lax`, `Path=/`, `Secure` on HTTPS).
pub fn make_cookie(
    name: &str,
    value: String,
    https: bool,
    max_age: Option<Duration>,
) -> Cookie<'static> {
    let mut c = Cookie::build(name.to_owned(), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(https)
        .finish();
    if let Some(age) = max_age {
        c.set_max_age(age);
    }
    c
}

/// A cookie that tells the browser to forget `name` at once.
pub fn removal(name: &str, https: bool) -> Cookie<'static> {
    make_cookie(name, String::new(), https, Some(Duration::ZERO))
}
