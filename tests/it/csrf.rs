//! Every state-changing route refuses a forged or missing CSRF token and a foreign Origin, and
//! changes nothing. The routes come from the route table itself, so a new route is covered at once.

use diesel::prelude::*;
use yui::db::schema::{audit_log, post_revisions, sessions, settings, users};

use crate::support::*;

/// Everything a forged request could have changed.
fn snapshot(app: &TestApp) -> String {
    app.db(|conn| {
        let u: Vec<(String, String, String, String, bool)> = users::table
            .order(users::id)
            .select((
                users::login,
                users::email,
                users::password_hash,
                users::site_role,
                users::disabled,
            ))
            .load(conn)?;
        let s: Vec<(String, String)> = settings::table
            .filter(settings::key.not_like("setup.%"))
            .order(settings::key)
            .select((settings::key, settings::value))
            .load(conn)?;
        let p: Vec<(i64, String, String)> = post_revisions::table
            .order(post_revisions::id)
            .select((
                post_revisions::id,
                post_revisions::title,
                post_revisions::status,
            ))
            .load(conn)?;
        let sess: i64 = sessions::table.count().get_result(conn)?;
        let audit: i64 = audit_log::table.count().get_result(conn)?;
        Ok(format!(
            "{u:?}\n{s:?}\n{p:?}\nsessions={sess}\naudit={audit}"
        ))
    })
}

fn concrete(path: &str) -> String {
    path.replace("{slug}", "x")
        .replace("{tag}", "x")
        .replace("{login}", "victim")
        .replace("{code}", "en")
        .replace("{token}", &"A".repeat(43))
        .replace("{id}", "1")
        .replace("{hash}", "0")
        .replace("{path:.*}", "x")
}

#[actix_web::test]
async fn every_unsafe_route_refuses_forged_csrf_and_changes_nothing() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("victim", false);
    // A post for the routes that take an id.
    let res = app
        .post_form(
            &admin,
            "/rooms/public/posts/new",
            "/rooms/public/posts",
            &[
                ("title", "Original"),
                ("body", "text"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let unsafe_routes: Vec<_> = yui::web::routes::TABLE
        .iter()
        .filter(|(m, _)| *m != "get")
        .collect();
    assert!(
        unsafe_routes.len() >= 10,
        "the route table lists the POST routes"
    );
    let before = snapshot(&app);
    let fields: &[(&str, &str)] = &[
        ("title", "Hacked"),
        ("body", "x"),
        ("status", "published"),
        ("action", "disable"),
        ("name", "victim"),
        ("password", PASSWORD),
        ("password_confirm", PASSWORD),
        ("display_name", "Hacked"),
        ("email", "evil@example.test"),
        ("language", "en"),
        ("tagline", "hacked"),
        ("timezone", "UTC"),
        ("role", "admin"),
        ("login", "evil"),
        ("current_password", PASSWORD),
        ("site_title", "Hacked"),
    ];
    for (_, path) in &unsafe_routes {
        let url = app.url(&concrete(path));
        // A safety check's personal link is its own credential (no session, no cookie): a page
        // without the link cannot forge it, so only the Origin rules below apply. An unknown
        // link is simply not found, and nothing changes.
        let answer_link = path.starts_with("/a/");
        let refused = if answer_link { 404 } else { 403 };
        // 1. A forged token.
        let mut forged = vec![("_csrf", "forged-token-forged-token-forged-token-123")];
        forged.extend_from_slice(fields);
        let res = admin.post(&url).form(&forged).send().await.unwrap();
        assert_eq!(
            res.status(),
            refused,
            "forged token accepted by POST {path}"
        );
        // 2. No token at all.
        let res = admin.post(&url).form(fields).send().await.unwrap();
        assert_eq!(
            res.status(),
            refused,
            "missing token accepted by POST {path}"
        );
        // 3. The right token from a foreign origin.
        let token = app.csrf(&admin, "/me").await;
        let mut good = vec![("_csrf", token.as_str())];
        good.extend_from_slice(fields);
        let res = admin
            .post(&url)
            .header("origin", "https://evil.example")
            .form(&good)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "foreign Origin accepted by POST {path}");
        let res = admin
            .post(&url)
            .header("sec-fetch-site", "cross-site")
            .form(&good)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            403,
            "cross-site fetch accepted by POST {path}"
        );
        // 4. A token in a header that is not this session's.
        let res = admin
            .post(&url)
            .header("x-csrf-token", "A".repeat(43))
            .form(fields)
            .send()
            .await
            .unwrap();
        assert_eq!(
            res.status(),
            refused,
            "wrong header token accepted by POST {path}"
        );
    }
    assert_eq!(snapshot(&app), before, "a refused request changed data");
    // Anonymous visitors are covered too (login, reset, setup).
    let anon = app.client();
    for path in ["/login", "/password/reset", "/setup"] {
        let res = anon
            .post(app.url(path))
            .form(&[("name", "victim"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "anonymous POST {path} without token");
    }
    assert_eq!(snapshot(&app), before);
}

#[actix_web::test]
async fn the_right_token_from_this_origin_is_accepted() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let token = app.csrf(&admin, "/admin/settings").await;
    let res = admin
        .post(app.url("/admin/settings"))
        .header("origin", app.base.clone())
        .form(&[
            ("_csrf", token.as_str()),
            ("title", "新しい名前"),
            ("tagline", ""),
            ("language", "ja"),
            ("timezone", "Asia/Tokyo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // The token may also come in the X-CSRF-Token header (what scripts and uploads use).
    let res = admin
        .post(app.url("/admin/settings"))
        .header("x-csrf-token", token.clone())
        .form(&[
            ("title", "ヘッダーで送信"),
            ("tagline", ""),
            ("language", "ja"),
            ("timezone", "Asia/Tokyo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let front = admin
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(front.contains("ヘッダーで送信"));
}
