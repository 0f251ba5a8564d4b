//! Accounts: first-run setup, login/logout, sessions, limits, enumeration, password reset by mail.

use diesel::prelude::*;
use yui::db::schema::{login_failures, password_resets, sessions};

use crate::support::*;

#[actix_web::test]
async fn first_run_needs_the_printed_token_and_creates_one_admin() {
    let app = TestApp::spawn();
    let accounts = app.db(|conn| Ok(yui::models::user::count(conn)?));
    assert_eq!(accounts, 0, "no default account, ever");
    let token = app
        .setup_token
        .clone()
        .expect("a fresh site prints a setup token");
    let c = app.client();
    let front = c
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        front.contains("/setup?token="),
        "first-run page explains the setup link"
    );

    for bad in ["", "nope", &"A".repeat(43)] {
        let res = c
            .get(app.url(&format!("/setup?token={bad}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "token {bad:?}");
    }
    let page = c
        .get(app.url(&format!("/setup?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csrf = csrf_from(&page.text().await.unwrap());
    let mut form = vec![
        ("_csrf", csrf.as_str()),
        ("token", token.as_str()),
        ("site_title", "結のサイト"),
        ("language", "ja"),
        ("login", "root"),
        ("email", "root@example.test"),
        ("display_name", "管理 太郎"),
        ("password", "short"),
        ("password_confirm", "short"),
    ];
    let res = c.post(app.url("/setup")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 422, "too-short password is a field error");
    let body = res.text().await.unwrap();
    assert!(
        body.contains("8 文字以上"),
        "message shown next to the field"
    );
    assert!(body.contains("root@example.test"), "typed values are kept");

    form[7] = ("password", PASSWORD);
    form[8] = ("password_confirm", PASSWORD);
    let res = c.post(app.url("/setup")).form(&form).send().await.unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/admin");
    let members = c.get(app.url("/admin/members")).send().await.unwrap();
    assert_eq!(members.status(), 200, "setup logs the new admin in");
    let front = c
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(front.contains("結のサイト"), "site title from setup");

    // The token is spent: setup is gone for good.
    let again = app
        .client()
        .get(app.url(&format!("/setup?token={token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 404);
}

#[actix_web::test]
async fn login_rotates_the_session_and_logout_ends_it() {
    let app = TestApp::spawn();
    let c = app.user("hanako").signed_in().await;
    let first = app.db(|conn| {
        Ok(sessions::table
            .select(sessions::token_hash)
            .load::<String>(conn)?)
    });
    assert_eq!(first.len(), 1);
    // Logging in again from the same browser replaces the session (new id), it does not add one.
    app.login(&c, "hanako", PASSWORD).await;
    let second = app.db(|conn| {
        Ok(sessions::table
            .select(sessions::token_hash)
            .load::<String>(conn)?)
    });
    assert_eq!(second.len(), 1);
    assert_ne!(first, second, "session id rotated at login");

    assert_eq!(c.get(app.url("/me")).send().await.unwrap().status(), 200);
    let res = app.post_form(&c, "/me", "/logout", &[]).await;
    assert_eq!(res.status(), 303);
    let me = c.get(app.url("/me")).send().await.unwrap();
    assert_eq!(me.status(), 303, "logged out: /me sends to login");
    assert!(location(&me).starts_with("/login?next="));
    let left = app.db(|conn| Ok(sessions::table.count().get_result::<i64>(conn)?));
    assert_eq!(left, 0, "the session row is gone");
}

#[actix_web::test]
async fn session_cookie_flags_on_http() {
    let app = TestApp::spawn();
    app.create_user("hanako", false);
    let res = app.try_login(&app.client(), "hanako", PASSWORD).await;
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("yui_session="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain-http site: no Secure flag"
    );
}

#[actix_web::test]
async fn session_cookie_is_secure_host_prefixed_on_https() {
    let app = TestApp::spawn_with(Options {
        base_url: Some("https://yui.example.test".into()),
        ..Options::default()
    });
    app.create_user("hanako", false);
    let c = app.client();
    let page = c.get(app.url("/login")).send().await.unwrap();
    let csrf_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("__Host-yui_csrf="))
        .expect("pre-session CSRF cookie");
    assert!(
        csrf_cookie.contains("Secure") && csrf_cookie.contains("Path=/"),
        "{csrf_cookie}"
    );
    let token = csrf_from(&page.text().await.unwrap());
    let cookie_value = csrf_cookie.split(';').next().unwrap().to_owned();
    // The client's cookie jar will not send Secure cookies over http, so send it by hand.
    let res = c
        .post(app.url("/login"))
        .header("cookie", cookie_value)
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "hanako"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .find(|v| v.starts_with("__Host-yui_session="))
        .expect("__Host- session cookie");
    for flag in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(session.contains(flag), "{flag} missing in {session}");
    }
    assert!(
        !session.contains("Domain="),
        "__Host- cookies carry no Domain"
    );
}

#[actix_web::test]
async fn unknown_and_known_accounts_get_the_same_answer() {
    let app = TestApp::spawn();
    app.create_user("hanako", false);
    let wrong_pw = app
        .try_login(&app.client(), "hanako", "not the password")
        .await;
    let unknown = app
        .try_login(&app.client(), "nobody", "not the password")
        .await;
    assert_eq!(wrong_pw.status(), 422);
    assert_eq!(unknown.status(), 422);
    let a = wrong_pw.text().await.unwrap();
    let b = unknown.text().await.unwrap();
    let message = "ログイン名またはパスワードが違います。";
    assert!(a.contains(message) && b.contains(message));
    // The pages differ only in the echoed name and the CSRF token.
    let strip = |s: &str, name: &str| s.replace(name, "N").replace(&csrf_from(s), "T");
    assert_eq!(strip(&a, "hanako"), strip(&b, "nobody"));
    // Both ran a full argon2 verification (the unknown one against a dummy hash): similar time.
    let before = app.core.passwords.verification_count();
    let _ = app.try_login(&app.client(), "nobody-else", "x").await;
    assert_eq!(app.core.passwords.verification_count(), before + 1);
    // Both failures are counted, keyed without revealing which name exists.
    let keys = app.db(|conn| {
        Ok(login_failures::table
            .select(login_failures::account_key)
            .load::<String>(conn)?)
    });
    assert_eq!(keys.len(), 3);
}

#[actix_web::test]
async fn disabled_accounts_cannot_log_in() {
    let app = TestApp::spawn();
    let u = app.create_user("taro", false);
    app.db(|conn| Ok(yui::models::user::set_disabled(conn, u.id, true)?));
    let res = app.try_login(&app.client(), "taro", PASSWORD).await;
    assert_eq!(res.status(), 422);
}

fn add_failures(app: &TestApp, ip_key: &str, account_key: &str, n: usize) {
    app.db(|conn| {
        let at = yui::models::now();
        for _ in 0..n {
            yui::models::login_failure::record(conn, ip_key, account_key, at)?;
        }
        Ok(())
    });
}

#[actix_web::test]
async fn too_many_failures_for_an_account_are_refused_even_with_the_right_password() {
    let app = TestApp::spawn();
    let u = app.create_user("hanako", false);
    // 100 failures spread over many networks (a distributed guess), within the hour.
    for i in 0..100 {
        add_failures(&app, &format!("198.51.100.{i}"), &format!("u:{}", u.id), 1);
    }
    let res = app.try_login(&app.client(), "hanako", PASSWORD).await;
    assert_eq!(res.status(), 429);
    assert!(res.text().await.unwrap().contains("パスワードを再設定"));
    // An unknown name behaves the same, so the limit does not reveal which names exist.
    let ghost = yui::services::auth::unknown_name_key("ghost");
    add_failures(&app, "203.0.113.9", &ghost, 100);
    let res = app.try_login(&app.client(), "ghost", PASSWORD).await;
    assert_eq!(res.status(), 429);
}

#[actix_web::test]
async fn too_many_failures_from_one_network_are_refused() {
    let app = TestApp::spawn();
    app.create_user("hanako", false);
    add_failures(&app, "127.0.0.1", "n:someone", 30);
    let res = app.try_login(&app.client(), "hanako", PASSWORD).await;
    assert_eq!(res.status(), 429);
}

#[actix_web::test]
async fn forwarded_for_is_believed_only_from_trusted_proxies() {
    // Not trusted: a spoofed header does not dodge the per-network limit.
    let app = TestApp::spawn();
    app.create_user("hanako", false);
    add_failures(&app, "127.0.0.1", "n:someone", 30);
    let c = app.client();
    let token = app.csrf(&c, "/login").await;
    let res = c
        .post(app.url("/login"))
        .header("x-forwarded-for", "192.0.2.200")
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "hanako"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        429,
        "X-Forwarded-For from an untrusted peer is ignored"
    );

    // Trusted: the client behind the proxy is the one counted.
    let app = TestApp::spawn_with(Options {
        trusted_proxies: vec!["127.0.0.1".into()],
        ..Options::default()
    });
    app.create_user("hanako", false);
    add_failures(&app, "127.0.0.1", "n:someone", 30);
    let c = app.client();
    let token = app.csrf(&c, "/login").await;
    let res = c
        .post(app.url("/login"))
        .header("x-forwarded-for", "192.0.2.200")
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "hanako"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.status(),
        303,
        "the proxy's own failures do not block its clients"
    );
}

#[actix_web::test]
async fn password_reset_by_mail_is_single_use_and_ends_sessions() {
    let app = TestApp::spawn();
    let old_browser = app.user("hanako").signed_in().await;

    let c = app.client();
    let res = app
        .post_form(
            &c,
            "/password/reset",
            "/password/reset",
            &[("email", "HANAKO@example.test")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let mail = app.smtp.wait_for("hanako@example.test").await;
    assert_eq!(mail.subject, "[Yui] パスワード再設定のご案内");
    let link = mail
        .body
        .split_whitespace()
        .find(|w| w.starts_with(&app.url("/password/reset/")))
        .unwrap_or_else(|| panic!("link from base_url in {}", mail.body))
        .to_owned();
    let token = link.rsplit('/').next().unwrap();
    assert!(token.len() >= 43, "token carries at least 256 bits");
    let stored = app.db(|conn| {
        Ok(password_resets::table
            .select(password_resets::token_hash)
            .first::<String>(conn)?)
    });
    assert_ne!(stored, token, "only a hash is stored");
    let logged: Vec<String> = app.db(|conn| {
        use yui::db::schema::audit_log;
        Ok(audit_log::table.select(audit_log::detail).load(conn)?)
    });
    assert!(
        logged.iter().all(|d| !d.contains(token)),
        "the token is never logged"
    );

    let form = c.get(&link).send().await.unwrap();
    assert_eq!(form.status(), 200);
    assert_eq!(form.headers()["referrer-policy"], "same-origin");
    let path = link.trim_start_matches(&app.base).to_owned();
    let res = app
        .post_form(
            &c,
            &path,
            &path,
            &[
                ("password", "a brand new secret"),
                ("password_confirm", "different"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422, "mismatch is a field error");
    let res = app
        .post_form(
            &c,
            &path,
            &path,
            &[
                ("password", "a brand new secret"),
                ("password_confirm", "a brand new secret"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);

    assert_eq!(
        old_browser
            .get(app.url("/me"))
            .send()
            .await
            .unwrap()
            .status(),
        303,
        "old sessions ended"
    );
    assert_eq!(
        app.try_login(&app.client(), "hanako", PASSWORD)
            .await
            .status(),
        422
    );
    app.login(&app.client(), "hanako", "a brand new secret")
        .await;

    let reused = c.get(&link).send().await.unwrap();
    assert_eq!(reused.status(), 410);
    assert!(
        reused
            .text()
            .await
            .unwrap()
            .contains("すでに使用されています")
    );
}

#[actix_web::test]
async fn expired_and_garbage_reset_links_get_a_clear_message() {
    let app = TestApp::spawn();
    app.create_user("hanako", false);
    let c = app.client();
    app.post_form(
        &c,
        "/password/reset",
        "/password/reset",
        &[("email", "hanako@example.test")],
    )
    .await;
    let mail = app.smtp.wait_for("hanako@example.test").await;
    let link = mail
        .body
        .split_whitespace()
        .find(|w| w.contains("/password/reset/"))
        .unwrap()
        .to_owned();
    app.db(|conn| {
        diesel::update(password_resets::table)
            .set(password_resets::expires_at.eq(yui::models::now() - chrono::Duration::minutes(1)))
            .execute(conn)?;
        Ok(())
    });
    let res = c.get(&link).send().await.unwrap();
    assert_eq!(res.status(), 410);
    assert!(res.text().await.unwrap().contains("有効期限"));
    // Unknown tokens get the same "gone" page; a path that climbs out is no reset link at all
    // (the client resolves it to /etc/passwd, which nothing answers).
    for (garbage, status) in [
        ("x", 410),
        ("../../etc/passwd", 404),
        (&"a".repeat(43), 410),
    ] {
        let res = c
            .get(app.url(&format!("/password/reset/{garbage}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{garbage}");
    }
}

#[actix_web::test]
async fn reset_for_an_unknown_address_looks_the_same_and_sends_nothing() {
    let app = TestApp::spawn();
    app.create_user("hanako", false);
    let c = app.client();
    let known = app
        .post_form(
            &c,
            "/password/reset",
            "/password/reset",
            &[("email", "hanako@example.test")],
        )
        .await;
    let unknown = app
        .post_form(
            &c,
            "/password/reset",
            "/password/reset",
            &[("email", "ghost@example.test")],
        )
        .await;
    assert_eq!(known.status(), unknown.status());
    let (a, b) = (known.text().await.unwrap(), unknown.text().await.unwrap());
    assert_eq!(a, b, "the same page whether or not the address exists");
    app.smtp.wait_for("hanako@example.test").await;
    assert!(app.mails_to("ghost@example.test", "").await.is_empty());
    assert_eq!(app.smtp.mails().len(), 1, "one mail, to hanako");
}

#[actix_web::test]
async fn changing_the_password_ends_other_sessions_but_keeps_this_one() {
    let app = TestApp::spawn();
    let phone = app.user("hanako").signed_in().await;
    let laptop = app.sign_in("hanako").await;
    let res = app
        .post_form(
            &laptop,
            "/me",
            "/me/password",
            &[
                ("current_password", "wrong"),
                ("password", "another good one"),
                ("password_confirm", "another good one"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .post_form(
            &laptop,
            "/me",
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("password", "another good one"),
                ("password_confirm", "another good one"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        laptop.get(app.url("/me")).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        phone.get(app.url("/me")).send().await.unwrap().status(),
        303
    );
}

#[actix_web::test]
async fn logout_everywhere_else() {
    let app = TestApp::spawn();
    let phone = app.user("hanako").signed_in().await;
    let laptop = app.sign_in("hanako").await;
    let res = app.post_form(&laptop, "/me", "/me/sessions/end", &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        laptop.get(app.url("/me")).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        phone.get(app.url("/me")).send().await.unwrap().status(),
        303
    );
}

#[actix_web::test]
async fn profile_updates_and_validates() {
    let app = TestApp::spawn();
    app.create_user("hanako", false);
    app.create_user("taro", false);
    let c = app.sign_in("hanako").await;
    let res = app
        .post_form(
            &c,
            "/me",
            "/me",
            &[
                ("display_name", "花子"),
                ("email", "taro@example.test"),
                ("language", "en"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 422, "email of another account");
    assert!(res.text().await.unwrap().contains("ほかのアカウント"));
    let res = app
        .post_form(
            &c,
            "/me",
            "/me",
            &[
                ("display_name", "Hanako Y."),
                ("email", "h@example.test"),
                ("language", "en"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = c
        .get(app.url("/me"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Your account"), "the chosen language applies");
    assert!(page.contains("Hanako Y."));
}
