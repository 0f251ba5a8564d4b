//! The admin panel: members, roles, settings, the audit log.

use crate::support::*;

#[actix_web::test]
async fn an_admin_adds_a_member_who_sets_a_password_from_the_mail() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let res = app
        .post_form(
            &admin,
            "/admin/members/new",
            "/admin/members",
            &[
                ("login", "Bad Login!"),
                ("email", "not-an-email"),
                ("display_name", ""),
                ("role", "member"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("半角英小文字") && html.contains("メールアドレスの形式"));
    let res = app
        .post_form(
            &admin,
            "/admin/members/new",
            "/admin/members",
            &[
                ("login", "sachiko"),
                ("email", "sachiko@example.test"),
                ("display_name", "佐藤 幸子"),
                ("role", "member"),
                ("password", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mail = app.smtp.wait_for("sachiko@example.test").await;
    assert_eq!(
        mail.subject, "[Yui] アカウントを作成しました",
        "a welcome, not a reset"
    );
    assert!(mail.body.contains("7 日以内"));
    let link = mail
        .body
        .split_whitespace()
        .find(|w| w.contains("/password/reset/"))
        .unwrap()
        .to_owned();
    let path = link.trim_start_matches(&app.base).to_owned();
    let c = app.client();
    let res = app
        .post_form(
            &c,
            &path,
            &path,
            &[
                ("password", "sachiko's secret"),
                ("password_confirm", "sachiko's secret"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.login(&c, "sachiko", "sachiko's secret").await;
    let list = admin
        .get(app.url("/admin/members"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("佐藤 幸子"));
}

#[actix_web::test]
async fn disabling_a_member_ends_their_sessions_and_an_admin_cannot_disable_themselves() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let taro = app.user("taro").signed_in().await;
    let res = app
        .post_form(
            &admin,
            "/admin/members",
            "/admin/members/taro",
            &[("action", "disable")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        taro.get(app.url("/me")).send().await.unwrap().status(),
        303,
        "logged out at once"
    );
    assert_eq!(
        app.try_login(&app.client(), "taro", PASSWORD)
            .await
            .status(),
        422
    );
    let res = app
        .post_form(
            &admin,
            "/admin/members",
            "/admin/members/taro",
            &[("action", "enable")],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.login(&app.client(), "taro", PASSWORD).await;

    let res = app
        .post_form(
            &admin,
            "/admin/members",
            "/admin/members/admin",
            &[("action", "disable")],
        )
        .await;
    assert_eq!(res.status(), 409);
    let res = app
        .post_form(
            &admin,
            "/admin/members",
            "/admin/members/admin",
            &[("action", "role"), ("role", "member")],
        )
        .await;
    assert_eq!(res.status(), 409);
    let res = app
        .post_form(
            &admin,
            "/admin/members",
            "/admin/members/nobody",
            &[("action", "disable")],
        )
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .post_form(
            &admin,
            "/admin/members",
            "/admin/members/taro",
            &[("action", "explode")],
        )
        .await;
    assert_eq!(res.status(), 400);
}

#[actix_web::test]
async fn a_role_change_takes_effect_at_once() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let taro = app.user("taro").signed_in().await;
    assert_eq!(
        taro.get(app.url("/admin/members"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let res = app
        .post_form(
            &admin,
            "/admin/members",
            "/admin/members/taro",
            &[("action", "role"), ("role", "admin")],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.login(&taro, "taro", PASSWORD).await;
    assert_eq!(
        taro.get(app.url("/admin/members"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

#[actix_web::test]
async fn site_settings_change_the_site_and_are_validated() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let res = app
        .post_form(
            &admin,
            "/admin/settings",
            "/admin/settings",
            &[
                ("title", "結の村"),
                ("tagline", "ご近所の掲示板"),
                ("language", "en"),
                ("timezone", "Mars/Olympus"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("タイムゾーン"));
    let res = app
        .post_form(
            &admin,
            "/admin/settings",
            "/admin/settings",
            &[
                ("title", "結の村"),
                ("tagline", "ご近所の掲示板"),
                ("language", "en"),
                ("timezone", "UTC"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let front = app
        .client()
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(front.contains("結の村") && front.contains("ご近所の掲示板"));
    assert!(
        front.contains("<html lang=\"en\">"),
        "default language for visitors without Accept-Language"
    );
}

#[actix_web::test]
async fn the_audit_log_records_logins_and_admin_actions() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("taro", false);
    let _ = app.try_login(&app.client(), "taro", "wrong password").await;
    app.post_form(
        &admin,
        "/admin/members",
        "/admin/members/taro",
        &[("action", "disable")],
    )
    .await;
    let log = admin
        .get(app.url("/admin/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Each in words the admin reads (Japanese here), with its code beside it.
    for (label, code) in [
        ("ログイン", "login"),
        ("ログイン失敗", "login.failed"),
        ("会員を無効に", "member.disabled"),
    ] {
        assert!(
            log.contains(&format!("{label} <code class=\"hint\">{code}</code>")),
            "{code} in the audit log"
        );
    }
    assert!(
        !log.contains("wrong password"),
        "passwords are never logged"
    );
}

#[actix_web::test]
async fn a_csv_import_is_all_or_nothing_with_errors_per_row() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.room("town").features(&[]).create(&admin).await;
    app.create_user("taken", false);
    let bad = "name,login,email,rooms,role\n\
               山田 花子,hanako,hanako@example.test,town,member\n\
               ,Bad Login,not-mail,nowhere,boss\n\
               重複,taken,dup@example.test,,\n\
               \"Smith, Anna\",anna,hanako@example.test,town,editor\n";
    let res = app
        .post_form(
            &admin,
            "/admin/members/import",
            "/admin/members/import",
            &[("csv", bad)],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    for expected in [
        "<td>3</td><td>name</td>",
        "<td>3</td><td>login</td>",
        "<td>3</td><td>email</td>",
        "<td>3</td><td>rooms</td>",
        "<td>3</td><td>role</td>",
        "<td>4</td><td>login</td>",
        "<td>5</td><td>email</td>",
    ] {
        assert!(html.contains(expected), "{expected} reported");
    }
    assert!(!html.contains("<td>2</td>"), "the good row has no error");
    assert!(
        html.contains("hanako@example.test"),
        "the pasted text is kept for fixing"
    );
    let count = app.db(|conn| Ok(yui::models::user::count(conn)?));
    assert_eq!(
        count, 2,
        "nothing was imported (only admin and taken exist)"
    );

    let good = "name,login,email,rooms,role\n山田 花子,hanako,hanako@example.test,town,editor\n\"Smith, Anna\",anna,anna@example.test,,\n";
    let res = app
        .post_form(
            &admin,
            "/admin/members/import",
            "/admin/members/import",
            &[("csv", good)],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(app.db(|conn| Ok(yui::models::user::count(conn)?)), 4);
    let mail = app.smtp.wait_for("hanako@example.test").await;
    let link = mail
        .body
        .split_whitespace()
        .find(|w| w.contains("/password/reset/"))
        .unwrap()
        .to_owned();
    let path = link.trim_start_matches(&app.base).to_owned();
    let c = app.client();
    app.post_form(
        &c,
        &path,
        &path,
        &[
            ("password", "hanako's secret"),
            ("password_confirm", "hanako's secret"),
        ],
    )
    .await;
    app.login(&c, "hanako", "hanako's secret").await;
    let home = c
        .get(app.url("/rooms/town"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("あなた：編集者"),
        "in the room with the imported role"
    );
    let res = app
        .post_form(
            &admin,
            "/admin/members/import",
            "/admin/members/import",
            &[("csv", "login,name\nx,y\n")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("name,login,email,rooms,role にしてください")
    );
}

/// The admin's start page (where setup lands) offers a new site's first steps and ticks each one
/// as it is done: a name, a first post, a room, people, mail.
#[actix_web::test]
async fn the_overview_offers_the_first_steps_and_ticks_what_is_done() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let steps = |html: &str| -> Vec<(String, bool)> {
        html.split("<li class=\"")
            .skip(1)
            .map(|li| {
                let done = li.starts_with("done");
                let href = li
                    .split("href=\"")
                    .nth(1)
                    .unwrap()
                    .split('"')
                    .next()
                    .unwrap();
                (href.to_owned(), done)
            })
            .collect()
    };
    let page = |c: &reqwest::Client| {
        let c = c.clone();
        let url = app.url("/admin");
        async move {
            let res = c.get(url).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.text().await.unwrap()
        }
    };
    let fresh = page(&admin).await;
    assert_eq!(
        steps(&fresh),
        [
            ("/admin/settings".to_owned(), false),
            ("/admin/posts/new".to_owned(), false),
            ("/admin/rooms/new".to_owned(), false),
            ("/admin/members/new".to_owned(), false),
            // The test app sends through SMTP (its sink): mail is set up.
            ("#mail".to_owned(), true),
        ]
    );
    assert!(fresh.contains("id=\"mail\"") && fresh.contains("transport = \"smtp\""));
    let res = app
        .post_form(
            &admin,
            "/admin/settings",
            "/admin/settings",
            &[
                ("title", "みどり町内会"),
                ("tagline", ""),
                ("language", "ja"),
                ("timezone", "Asia/Tokyo"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.room("club").create(&admin).await;
    app.create_user("taro", false);
    let now = steps(&page(&admin).await);
    let done: Vec<bool> = now.iter().map(|(_, d)| *d).collect();
    assert_eq!(done, [true, false, true, true, true]);
    // Members have no overview.
    let taro = app.sign_in("taro").await;
    let res = taro.get(app.url("/admin")).send().await.unwrap();
    assert_ne!(res.status(), 200);
}

/// The member list tells the admin when each account last logged in, and "never" for an account
/// that has not.
#[actix_web::test]
async fn the_member_list_shows_each_account_s_last_login() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.user("hanako").signed_in().await;
    app.user("taro").create();
    let page = admin
        .get(app.url("/admin/members"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = |login: &str| {
        let start = page
            .find(&format!("<td>{login}</td>"))
            .unwrap_or_else(|| panic!("{login} listed: {page}"));
        let end = page[start..].find("</tr>").unwrap() + start;
        page[start..end].to_owned()
    };
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Tokyo)
        .format("%Y-%m-%d")
        .to_string();
    assert!(row("hanako").contains(&today), "{}", row("hanako"));
    assert!(
        row("taro").contains("<td class=\"meta\">なし</td>"),
        "{}",
        row("taro")
    );
}
