//! Headers, error pages, redirects, oversized bodies, caching and compression.

use std::io::Read;

use crate::support::*;

const HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
];

fn assert_security_headers(res: &reqwest::Response, what: &str) {
    for (name, value) in HEADERS {
        assert_eq!(
            res.headers().get(*name).map(|v| v.to_str().unwrap()),
            Some(*value),
            "{name} on {what}"
        );
    }
    let csp = res
        .headers()
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("CSP on {what}"))
        .to_str()
        .unwrap();
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "no inline script allowed");
    assert!(
        res.headers().get("server").is_none(),
        "no version banner on {what}"
    );
    assert!(res.headers().get("x-powered-by").is_none());
}

#[actix_web::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = TestApp::spawn();
    app.create_user("admin", true);
    let c = app.client();
    let front = c.get(app.url("/")).send().await.unwrap();
    let html = front.text().await.unwrap();
    let static_url = |file: &str| {
        let end = html.find(file).unwrap() + file.len();
        let start = html[..end].rfind("/static/").unwrap();
        html[start..end].to_owned()
    };
    let css_url = static_url("css/site.css");
    // Every page names its icon (an SVG), so browsers stop asking for a missing /favicon.ico.
    let icon = c
        .get(app.url(&static_url("img/favicon.svg")))
        .send()
        .await
        .unwrap();
    assert_eq!(icon.status(), 200);
    assert_eq!(icon.headers()["content-type"], "image/svg+xml");
    for path in [
        "/",
        "/login",
        "/nope",
        "/posts/none",
        "/feed.atom",
        "/healthz",
        css_url.as_str(),
        "/admin",
    ] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_security_headers(&res, path);
    }
    let css = c.get(app.url(&css_url)).send().await.unwrap();
    assert_eq!(
        css.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css")
    );
    let stale = c
        .get(app.url("/static/000000000000/css/site.css"))
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 404, "a stale hash is not served");
}

#[actix_web::test]
async fn error_pages_use_the_site_layout_without_internals() {
    let app = TestApp::spawn();
    app.create_user("admin", true);
    let c = app.client();
    let res = c.get(app.url("/definitely/not/here")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let body = res.text().await.unwrap();
    assert!(
        body.contains("ページが見つかりません"),
        "translated 404 page"
    );
    assert!(body.contains("site-header"), "in the site layout");
    for leak in ["actix", "panicked", "diesel", "stack backtrace", "0.1.0"] {
        assert!(!body.to_lowercase().contains(leak), "{leak} leaked");
    }
    let res = c.get(app.url("/?page=abc")).send().await.unwrap();
    assert_eq!(res.status(), 400);
    let res = c.get(app.url("/?page=0")).send().await.unwrap();
    assert_eq!(res.status(), 400);
}

#[actix_web::test]
async fn members_get_404_for_admin_pages_and_visitors_the_login_page() {
    let app = TestApp::spawn();
    app.create_user("admin", true);
    let member = app.user("taro").signed_in().await;
    let anon = app.client();
    let admin_pages: Vec<_> = yui::web::routes::TABLE
        .iter()
        .filter(|(m, p)| *m == "get" && p.starts_with("/admin"))
        .collect();
    for page in [
        "/admin",
        "/admin/members",
        "/admin/settings",
        "/admin/rooms",
    ] {
        assert!(
            admin_pages.iter().any(|(_, p)| *p == page),
            "{page} is walked"
        );
    }
    for (method, path) in admin_pages {
        let path = path.replace("{id}", "1");
        let res = member.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "member {method} {path}");
        let res = anon.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 303, "anonymous {method} {path}");
        assert_eq!(
            location(&res),
            format!(
                "/login?next={}",
                url::form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>()
            )
        );
    }
}

#[actix_web::test]
async fn next_only_redirects_to_same_site_paths() {
    let app = TestApp::spawn();
    app.create_user("hanako", false);
    for (next, expected) in [
        ("/me", "/me"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
    ] {
        let c = app.client();
        let token = app.csrf(&c, "/login").await;
        let res = c
            .post(app.url("/login"))
            .form(&[
                ("_csrf", token.as_str()),
                ("name", "hanako"),
                ("password", PASSWORD),
                ("next", next),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        assert_eq!(location(&res), expected, "next={next}");
    }
    let res = app
        .client()
        .get(app.url("/lang/en?next=https://evil.example"))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/");
}

#[actix_web::test]
async fn oversized_form_bodies_get_413_and_change_nothing() {
    let app = TestApp::spawn_with(Options {
        max_form_bytes: Some(64 * 1024),
        ..Options::default()
    });
    let admin = app.admin_client().await;
    let token = app.csrf(&admin, "/rooms/public/posts/new").await;
    let huge = "あ".repeat(100 * 1024);
    let res = admin
        .post(app.url("/rooms/public/posts"))
        .form(&[
            ("_csrf", token.as_str()),
            ("title", "big"),
            ("body", huge.as_str()),
            ("action", "submit"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    assert!(res.text().await.unwrap().contains("大きすぎます"));
    let count = app.db(|conn| {
        let space = yui::models::room::public_space(conn)?;
        Ok(yui::models::blog::count_posts(conn, space.id)?)
    });
    assert_eq!(count, 0);
}

#[actix_web::test]
async fn public_pages_have_etags_and_gzip() {
    let app = TestApp::spawn();
    app.create_user("admin", true);
    let c = app.client();
    let res = c.get(app.url("/")).send().await.unwrap();
    let etag = res
        .headers()
        .get("etag")
        .expect("ETag on the front page")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(etag.starts_with("W/\""));
    let res = c
        .get(app.url("/"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert!(res.bytes().await.unwrap().is_empty());
    let res = c
        .get(app.url("/"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-encoding"], "gzip");
    let bytes = res.bytes().await.unwrap();
    let mut html = String::new();
    flate2::read::GzDecoder::new(&bytes[..])
        .read_to_string(&mut html)
        .unwrap();
    assert!(html.contains("<!doctype html>"));
    // Personal pages are never cached.
    app.login(&c, "admin", PASSWORD).await;
    let res = c.get(app.url("/me")).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    assert!(res.headers().get("etag").is_none());
}

#[actix_web::test]
async fn language_follows_accept_language_cookie_and_site_default() {
    let app = TestApp::spawn();
    app.create_user("admin", true);
    let c = app.client();
    let ja = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ja.contains("<html lang=\"ja\">") && ja.contains("ログイン名"));
    let en = c
        .get(app.url("/login"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("<html lang=\"en\">") && en.contains("Login name or email"));
    let res = c.get(app.url("/lang/en?next=/login")).send().await.unwrap();
    assert_eq!(location(&res), "/login");
    let en = c
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        en.contains("Login name or email"),
        "the language link's cookie wins"
    );
}

#[actix_web::test]
async fn health_check_answers() {
    let app = TestApp::spawn();
    let res = app.client().get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "ok");
}

#[actix_web::test]
async fn the_public_page_cache_never_hides_a_change_or_shares_a_token() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let visitor = app.client();
    let before = visitor
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!before.contains("速報"));
    // A change through this server shows at once.
    let res = app
        .post_form(
            &admin,
            "/rooms/public/posts/new",
            "/rooms/public/posts",
            &[("title", "速報"), ("body", "x"), ("action", "submit")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let after = visitor
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(after.contains("速報"), "cache emptied by the change");
    // A change made by another process sharing the database shows within the cache's second.
    app.db(|conn| {
        use diesel::prelude::*;
        diesel::update(yui::db::schema::post_revisions::table)
            .set(yui::db::schema::post_revisions::title.eq("続報"))
            .execute(conn)?;
        Ok(())
    });
    let deadline = std::time::Instant::now()
        + yui::web::page_cache::PageCache::TTL
        + std::time::Duration::from_millis(100);
    loop {
        let asked_at = std::time::Instant::now();
        let later = visitor
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        if later.contains("続報") {
            break;
        }
        assert!(
            asked_at < deadline,
            "the change made elsewhere still hidden after the cache's lifetime"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Pages with a form token are personal: two visitors never get the same one.
    let a = csrf_from(
        &app.client()
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    let b = csrf_from(
        &app.client()
            .get(app.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    );
    assert_ne!(a, b);
    // Languages are cached apart.
    let en = visitor
        .get(app.url("/"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(en.contains("<html lang=\"en\">"));
    let ja = visitor
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ja.contains("<html lang=\"ja\">"));
}
