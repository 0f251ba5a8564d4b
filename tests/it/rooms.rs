//! Rooms over HTTP: who sees what, joining and leaving, managers' pages, permission overrides.

use diesel::prelude::*;
use yui::db::schema::{room_members, room_permissions};

use crate::support::Mail;
use crate::support::*;

/// Creates a room through the admin panel.
async fn create_room(
    app: &TestApp,
    admin: &reqwest::Client,
    slug: &str,
    visibility: &str,
    state: &str,
    join: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let name = format!("{slug} の部屋");
    let mut fields = vec![
        ("name", name.as_str()),
        ("slug", slug),
        ("description", "説明"),
        ("visibility", visibility),
        ("state", state),
        ("default_role", "member"),
        ("join_policy", join),
        ("quota_mb", "100"),
        ("feature_blog", "on"),
    ];
    fields.extend_from_slice(extra);
    app.post_form(admin, "/admin/rooms/new", "/admin/rooms", &fields)
        .await
}

struct Town {
    app: TestApp,
    admin: reqwest::Client,
    hanako: reqwest::Client,
    taro: reqwest::Client,
}

/// A site with four rooms: town (public, open), staff (members, invite), family (closed, invite,
/// managed by hanako) and plans (準備中, managed by hanako); taro belongs to none.
async fn town() -> Town {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("hanako", false);
    app.create_user("taro", false);
    for (slug, vis, state, join, manager) in [
        ("town", "public", "open", "open", ""),
        ("staff", "members", "open", "invite", ""),
        ("family", "closed", "open", "invite", "hanako"),
        ("plans", "members", "preparing", "invite", "hanako"),
    ] {
        let res = create_room(
            &app,
            &admin,
            slug,
            vis,
            state,
            join,
            &[("manager", manager)],
        )
        .await;
        assert_eq!(res.status(), 303, "create {slug}");
    }
    let hanako = app.client();
    app.login(&hanako, "hanako", PASSWORD).await;
    let taro = app.client();
    app.login(&taro, "taro", PASSWORD).await;
    Town {
        app,
        admin,
        hanako,
        taro,
    }
}

async fn status(c: &reqwest::Client, app: &TestApp, path: &str) -> u16 {
    c.get(app.url(path)).send().await.unwrap().status().as_u16()
}

async fn body(c: &reqwest::Client, app: &TestApp, path: &str) -> String {
    c.get(app.url(path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[actix_web::test]
async fn who_sees_which_room() {
    let Town {
        app,
        admin,
        hanako,
        taro,
    } = town().await;
    let anon = app.client();
    // (client, room, expected status)
    let table: &[(&reqwest::Client, &str, &str, u16)] = &[
        (&anon, "anonymous", "town", 200),
        (&anon, "anonymous", "staff", 404),
        (&anon, "anonymous", "family", 404),
        (&anon, "anonymous", "plans", 404),
        (&anon, "anonymous", "nowhere", 404),
        (&taro, "outsider", "town", 200),
        (&taro, "outsider", "staff", 200),
        (&taro, "outsider", "family", 404),
        (&taro, "outsider", "plans", 404),
        (&hanako, "manager", "family", 200),
        (&hanako, "manager", "plans", 200),
        (&admin, "site admin", "family", 200),
        (&admin, "site admin", "plans", 200),
    ];
    for (client, who, room, expected) in table {
        assert_eq!(
            status(client, &app, &format!("/rooms/{room}")).await,
            *expected,
            "{who} → {room}"
        );
    }
    let list = body(&anon, &app, "/rooms").await;
    assert!(
        list.contains("town の部屋")
            && !list.contains("staff の部屋")
            && !list.contains("family の部屋")
    );
    let list = body(&taro, &app, "/rooms").await;
    assert!(
        list.contains("staff の部屋")
            && !list.contains("family の部屋")
            && !list.contains("plans の部屋")
    );
    let list = body(&hanako, &app, "/rooms").await;
    assert!(
        list.contains("family の部屋") && list.contains("plans の部屋") && list.contains("準備中")
    );
    // A 404 for a room that exists looks like one for a room that does not.
    let a = anon
        .get(app.url("/rooms/family"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let b = anon
        .get(app.url("/rooms/nowhere"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        a.replace("/rooms/family", "/rooms/X"),
        b.replace("/rooms/nowhere", "/rooms/X")
    );
}

#[actix_web::test]
async fn joining_an_open_room_and_leaving_it() {
    let Town {
        app, taro, hanako, ..
    } = town().await;
    // Extra fields are ignored: taro cannot pick his own role.
    let res = app
        .post_form(
            &taro,
            "/rooms/town",
            "/rooms/town/join",
            &[("role", "manager")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let role: String = app.db(|conn| {
        Ok(room_members::table
            .inner_join(yui::db::schema::users::table)
            .filter(yui::db::schema::users::login.eq("taro"))
            .select(room_members::role)
            .first(conn)?)
    });
    assert_eq!(
        role, "member",
        "the room's default role, not the submitted one"
    );
    assert!(
        body(&taro, &app, "/rooms/town")
            .await
            .contains("あなた：一般")
    );
    // Members see who else is in the room; visitors and logged-in non-members do not.
    assert!(body(&taro, &app, "/rooms/town").await.contains("taro さん"));
    assert!(
        !body(&app.client(), &app, "/rooms/town")
            .await
            .contains("taro さん")
    );
    assert!(
        !body(&hanako, &app, "/rooms/town")
            .await
            .contains("taro さん")
    );
    // Invite-only rooms cannot be joined.
    let res = app
        .post_form(&taro, "/rooms/staff", "/rooms/staff/join", &[])
        .await;
    assert_eq!(res.status(), 404);
    let res = app
        .post_form(&taro, "/rooms/town", "/rooms/town/leave", &[])
        .await;
    assert_eq!(res.status(), 303);
    assert!(!body(&taro, &app, "/rooms/town").await.contains("あなた："));
    // Anonymous visitors are asked to log in.
    let anon = app.client();
    let token = app.csrf(&anon, "/login").await;
    let res = anon
        .post(app.url("/rooms/town/join"))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert!(location(&res).starts_with("/login"));
}

#[actix_web::test]
async fn a_manager_manages_members_and_a_room_keeps_one_manager() {
    let Town {
        app, hanako, taro, ..
    } = town().await;
    assert_eq!(status(&taro, &app, "/rooms/family").await, 404);
    let res = app
        .post_form(
            &hanako,
            "/rooms/family/members",
            "/rooms/family/members",
            &[("login", "ghost"), ("role", "member")],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("有効なアカウントはありません")
    );
    let res = app
        .post_form(
            &hanako,
            "/rooms/family/members",
            "/rooms/family/members",
            &[("login", "taro"), ("role", "editor")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        status(&taro, &app, "/rooms/family").await,
        200,
        "a member now"
    );
    for page in ["settings", "members", "permissions"] {
        assert_eq!(
            status(&taro, &app, &format!("/rooms/family/{page}")).await,
            404,
            "editors do not manage: {page}"
        );
        assert_eq!(
            status(&hanako, &app, &format!("/rooms/family/{page}")).await,
            200,
            "managers do: {page}"
        );
    }
    let res = app
        .post_form(
            &taro,
            "/rooms/family",
            "/rooms/family/members/hanako",
            &[("action", "remove")],
        )
        .await;
    assert_eq!(res.status(), 404, "a non-manager cannot remove anyone");
    // The last manager can neither leave, nor step down, nor be removed.
    let res = app
        .post_form(&hanako, "/rooms/family", "/rooms/family/leave", &[])
        .await;
    assert_eq!(res.status(), 409);
    let res = app
        .post_form(
            &hanako,
            "/rooms/family/members",
            "/rooms/family/members/hanako",
            &[("action", "role"), ("role", "member")],
        )
        .await;
    assert_eq!(res.status(), 409);
    // With a second manager, she can.
    app.post_form(
        &hanako,
        "/rooms/family/members",
        "/rooms/family/members/taro",
        &[("action", "role"), ("role", "manager")],
    )
    .await;
    assert_eq!(status(&taro, &app, "/rooms/family/members").await, 200);
    let res = app
        .post_form(&hanako, "/rooms/family", "/rooms/family/leave", &[])
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        status(&hanako, &app, "/rooms/family").await,
        404,
        "gone from a closed room"
    );
}

#[actix_web::test]
async fn managers_change_only_adjustable_cells() {
    let Town { app, hanako, .. } = town().await;
    let page = body(&hanako, &app, "/rooms/family/permissions").await;
    assert!(
        page.contains("name=\"cell:publish:editor\""),
        "an adjustable cell is a checkbox"
    );
    assert!(
        !page.contains("name=\"cell:manage:member\""),
        "a fixed cell is not"
    );
    let res = app
        .post_form(
            &hanako,
            "/rooms/family/permissions",
            "/rooms/family/permissions",
            &[
                ("cell:publish:editor", "on"),
                ("cell:create:member", "on"),
                ("cell:edit_others:editor", "on"),
                ("cell:publish:chief_editor", "on"),
                ("cell:manage:member", "on"),
                ("cell:read:guest", "off"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let stored: Vec<(String, String, bool)> = app.db(|conn| {
        Ok(room_permissions::table
            .select((
                room_permissions::permission,
                room_permissions::role,
                room_permissions::allowed,
            ))
            .load(conn)?)
    });
    assert_eq!(
        stored,
        vec![("publish".to_owned(), "editor".to_owned(), true)],
        "only the change from the default is kept"
    );
    let page = body(&hanako, &app, "/rooms/family/permissions").await;
    assert!(page.contains("id=\"cell:publish:editor\" name=\"cell:publish:editor\" checked"));
}

#[actix_web::test]
async fn room_forms_keep_input_and_explain_errors() {
    let Town {
        app, admin, hanako, ..
    } = town().await;
    let res = create_room(
        &app,
        &admin,
        "Town!",
        "secret",
        "open",
        "open",
        &[("manager", "nobody")],
    )
    .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("半角英小文字・数字・ハイフンで 2〜40 文字")
            && html.contains("選択肢から選んでください")
    );
    assert!(html.contains("Town! の部屋"), "typed values are kept");
    let res = create_room(&app, &admin, "town", "public", "open", "open", &[]).await;
    assert_eq!(res.status(), 422, "slug taken");
    // A manager edits her room; the member list on the room page follows.
    let mut fields = vec![
        ("name", "家族の部屋"),
        ("slug", "family"),
        ("description", "家族の連絡"),
        ("visibility", "closed"),
        ("state", "open"),
        ("default_role", "member"),
        ("join_policy", "invite"),
        ("quota_mb", "abc"),
    ];
    let res = app
        .post_form(
            &hanako,
            "/rooms/family/settings",
            "/rooms/family/settings",
            &fields,
        )
        .await;
    assert_eq!(res.status(), 422);
    fields[7] = ("quota_mb", "500");
    let res = app
        .post_form(
            &hanako,
            "/rooms/family/settings",
            "/rooms/family/settings",
            &fields,
        )
        .await;
    assert_eq!(res.status(), 303);
    let home = body(&hanako, &app, "/rooms/family").await;
    assert!(
        home.contains("家族の部屋") && home.contains("家族の連絡") && home.contains("hanako さん")
    );
}

#[actix_web::test]
async fn sub_rooms_hide_behind_their_parent_and_archived_rooms_disappear() {
    let Town {
        app,
        admin,
        hanako,
        taro,
    } = town().await;
    let res = create_room(
        &app,
        &admin,
        "family-trip",
        "public",
        "open",
        "open",
        &[("parent", "family")],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        status(&app.client(), &app, "/rooms/family-trip").await,
        404,
        "a public sub-room of a closed room stays hidden"
    );
    assert_eq!(status(&taro, &app, "/rooms/family-trip").await, 404);
    assert_eq!(status(&hanako, &app, "/rooms/family-trip").await, 200);
    assert!(
        body(&hanako, &app, "/rooms/family")
            .await
            .contains("family-trip の部屋"),
        "listed on the parent's page"
    );

    let res = app
        .post_form(
            &admin,
            "/admin/rooms",
            "/admin/rooms/town/archive",
            &[("archived", "true")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(status(&taro, &app, "/rooms/town").await, 404);
    assert_eq!(
        status(&admin, &app, "/rooms/town").await,
        200,
        "site admins still reach it"
    );
    assert!(
        body(&admin, &app, "/admin/rooms")
            .await
            .contains("アーカイブ済み")
    );
    app.post_form(
        &admin,
        "/admin/rooms",
        "/admin/rooms/town/archive",
        &[("archived", "false")],
    )
    .await;
    assert_eq!(status(&taro, &app, "/rooms/town").await, 200);
    // Members cannot create rooms.
    let res = app
        .post_form(
            &taro,
            "/rooms",
            "/admin/rooms",
            &[("name", "x"), ("slug", "mine")],
        )
        .await;
    assert_eq!(res.status(), 404);
}

#[actix_web::test]
async fn join_requests_reach_the_managers_who_approve_or_decline() {
    let Town {
        app,
        admin,
        hanako,
        taro,
    } = town().await;
    let res = create_room(
        &app,
        &admin,
        "club",
        "members",
        "open",
        "request",
        &[("manager", "hanako")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let page = body(&taro, &app, "/rooms/club").await;
    assert!(
        page.contains("参加を申請"),
        "request rooms offer a request form"
    );
    let res = app
        .post_form(
            &taro,
            "/rooms/club",
            "/rooms/club/join",
            &[("message", "よろしくお願いします")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        status(&taro, &app, "/rooms/club/members").await,
        404,
        "not a member yet"
    );
    assert!(body(&taro, &app, "/rooms/club").await.contains("承認待ち"));
    // Asking twice sends one mail.
    app.post_form(&taro, "/rooms/club", "/rooms/club/join", &[])
        .await;
    let mail = app.smtp.wait_for("hanako@example.test").await;
    assert_eq!(mail.subject, "「club の部屋」への参加申請");
    assert!(mail.body.contains("taro さん") && mail.body.contains("よろしくお願いします"));
    assert!(mail.body.contains(&app.url("/rooms/club/members")));
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        app.smtp
            .mails()
            .iter()
            .filter(|m| m.to.contains(&"hanako@example.test".to_owned()))
            .count(),
        1
    );

    let members = body(&hanako, &app, "/rooms/club/members").await;
    assert!(members.contains("参加申請") && members.contains("よろしくお願いします"));
    let res = app
        .post_form(
            &taro,
            "/rooms/club",
            "/rooms/club/requests/taro",
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(res.status(), 404, "the requester cannot approve himself");
    let res = app
        .post_form(
            &hanako,
            "/rooms/club/members",
            "/rooms/club/requests/taro",
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        body(&taro, &app, "/rooms/club")
            .await
            .contains("あなた：一般")
    );
    let res = app
        .post_form(
            &hanako,
            "/rooms/club/members",
            "/rooms/club/requests/taro",
            &[("decision", "approve")],
        )
        .await;
    assert_eq!(res.status(), 404, "a request is decided once");

    // Declining leaves the requester outside.
    app.create_user("jiro", false);
    let jiro = app.client();
    app.login(&jiro, "jiro", PASSWORD).await;
    app.post_form(&jiro, "/rooms/club", "/rooms/club/join", &[])
        .await;
    let res = app
        .post_form(
            &hanako,
            "/rooms/club/members",
            "/rooms/club/requests/jiro",
            &[("decision", "decline")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = body(&jiro, &app, "/rooms/club").await;
    assert!(!page.contains("あなた：") && !page.contains("承認待ち"));
}

fn link_in(mail: &Mail) -> String {
    mail.body
        .split_whitespace()
        .find(|w| w.contains("/invite/"))
        .unwrap_or_else(|| panic!("no invitation link in {}", mail.body))
        .to_owned()
}

#[actix_web::test]
async fn an_invitation_lets_someone_without_an_account_into_a_closed_room() {
    let Town {
        app, hanako, taro, ..
    } = town().await;
    let members = "/rooms/family/members";
    let res = app
        .post_form(
            &hanako,
            members,
            "/rooms/family/invitations",
            &[("email", "not-an-email"), ("role", "editor")],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .post_form(
            &taro,
            "/rooms/town",
            "/rooms/family/invitations",
            &[("email", "x@example.test"), ("role", "editor")],
        )
        .await;
    assert_eq!(res.status(), 404, "only managers invite");
    let res = app
        .post_form(
            &hanako,
            members,
            "/rooms/family/invitations",
            &[("email", "newbie@example.test"), ("role", "editor")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(
        app.client()
            .get(app.url(members))
            .send()
            .await
            .unwrap()
            .status()
            != 200
    );
    let mail = app.smtp.wait_for("newbie@example.test").await;
    assert_eq!(mail.subject, "「family の部屋」への招待");
    let link = link_in(&mail);
    assert!(
        link.starts_with(&app.url("/invite/")),
        "absolute link from base_url"
    );
    let path = link.trim_start_matches(&app.base).to_owned();

    let newbie = app.client();
    let page = newbie.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "no-referrer");
    let html = page.text().await.unwrap();
    assert!(html.contains("編集者として招待") && html.contains("newbie@example.test"));
    let res = app
        .post_form(
            &newbie,
            &path,
            &format!("{path}/signup"),
            &[
                ("login", "newbie"),
                ("display_name", "新人"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422, "the password rules apply");
    let res = app
        .post_form(
            &newbie,
            &path,
            &format!("{path}/signup"),
            &[
                ("login", "newbie"),
                ("display_name", "新人"),
                ("password", "newbie's secret"),
                ("password_confirm", "newbie's secret"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/rooms/family");
    let home = newbie
        .get(app.url("/rooms/family"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains("あなた：編集者"),
        "logged in, in the room, with the invited role"
    );
    // The link works once.
    let again = app.client().get(&link).send().await.unwrap();
    assert_eq!(again.status(), 410);
    assert!(again.text().await.unwrap().contains("すでに使われています"));
}

#[actix_web::test]
async fn an_existing_account_accepts_after_logging_in_and_old_links_expire() {
    let Town {
        app, hanako, taro, ..
    } = town().await;
    let members = "/rooms/family/members";
    app.post_form(
        &hanako,
        members,
        "/rooms/family/invitations",
        &[("email", "taro@example.test"), ("role", "member")],
    )
    .await;
    let link = link_in(&app.smtp.wait_for("taro@example.test").await);
    let path = link.trim_start_matches(&app.base).to_owned();
    let anon = app
        .client()
        .get(&link)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        anon.contains("ログインしてから"),
        "an existing account is asked to log in, not to sign up"
    );
    let res = app
        .post_form(
            &app.client(),
            "/login",
            &format!("{path}/signup"),
            &[
                ("login", "taro2"),
                ("display_name", "x"),
                ("password", "a long password"),
                ("password_confirm", "a long password"),
            ],
        )
        .await;
    assert_eq!(res.status(), 409, "no second account for the same address");
    assert_eq!(
        app.client()
            .get(app.url("/rooms/family"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let res = app.post_form(&taro, &path, &path, &[]).await;
    assert_eq!(res.status(), 303);
    assert!(
        taro.get(app.url("/rooms/family"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("あなた：一般")
    );
    let res = app
        .post_form(
            &hanako,
            members,
            "/rooms/family/invitations",
            &[("email", "taro@example.test"), ("role", "member")],
        )
        .await;
    assert_eq!(res.status(), 422, "already a member");

    app.post_form(
        &hanako,
        members,
        "/rooms/family/invitations",
        &[("email", "late@example.test"), ("role", "guest")],
    )
    .await;
    let link = link_in(&app.smtp.wait_for("late@example.test").await);
    app.db(|conn| {
        use diesel::prelude::*;
        use yui::db::schema::room_invitations;
        diesel::update(room_invitations::table)
            .set(room_invitations::expires_at.eq(yui::models::now() - chrono::Duration::minutes(1)))
            .execute(conn)?;
        Ok(())
    });
    let res = app.client().get(&link).send().await.unwrap();
    assert_eq!(res.status(), 410);
    assert!(res.text().await.unwrap().contains("期限切れ"));
    let res = app
        .client()
        .get(app.url(&format!("/invite/{}", "B".repeat(43))))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 410);
}

#[actix_web::test]
async fn members_get_a_private_room_when_the_site_allows_it() {
    let Town {
        app,
        admin,
        taro,
        hanako,
    } = town().await;
    assert_eq!(status(&taro, &app, "/me/room").await, 404, "off by default");
    assert!(!body(&taro, &app, "/me").await.contains("/me/room"));
    let res = app
        .post_form(
            &admin,
            "/admin/settings",
            "/admin/settings",
            &[
                ("title", "Yui"),
                ("tagline", ""),
                ("language", "ja"),
                ("timezone", "Asia/Tokyo"),
                ("private_rooms", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert!(body(&taro, &app, "/me").await.contains("/me/room"));
    let res = taro.get(app.url("/me/room")).send().await.unwrap();
    assert_eq!(res.status(), 303);
    let room = location(&res);
    assert!(room.starts_with("/rooms/my-"), "{room}");
    let page = body(&taro, &app, &room).await;
    assert!(page.contains("taro さん のマイルーム") && page.contains("あなた：ルーム管理者"));
    assert_eq!(
        status(&hanako, &app, &room).await,
        404,
        "private to its owner"
    );
    let again = taro.get(app.url("/me/room")).send().await.unwrap();
    assert_eq!(location(&again), room, "one private room per member");
}
