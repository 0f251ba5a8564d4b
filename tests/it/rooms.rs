//! Rooms over HTTP: who sees what, joining and leaving, managers' pages, permission overrides.

use diesel::prelude::*;
use yui::db::schema::{room_members, room_permissions, rooms};

use crate::support::Mail;
use crate::support::*;

/// A room of this file's site: `<slug> の部屋`, described, otherwise as `TestApp::room` makes one.
fn room<'a>(app: &'a TestApp, slug: &str) -> RoomBuilder<'a> {
    app.room(slug)
        .named(&format!("{slug} の部屋"))
        .described("説明")
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
    app.user("hanako").create();
    app.user("taro").create();
    room(&app, "town")
        .public()
        .open_to_join()
        .create(&admin)
        .await;
    room(&app, "staff").create(&admin).await;
    room(&app, "family")
        .closed()
        .managed_by("hanako")
        .create(&admin)
        .await;
    room(&app, "plans")
        .preparing()
        .managed_by("hanako")
        .create(&admin)
        .await;
    let hanako = app.sign_in("hanako").await;
    let taro = app.sign_in("taro").await;
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
    assert_eq!(status(&taro, &app, "/rooms/town").await, 200);
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
    let res = app
        .post_form(
            &hanako,
            "/rooms/family/members",
            "/rooms/family/members/taro",
            &[("action", "role"), ("role", "manager")],
        )
        .await;
    assert_eq!(res.status(), 303);
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

/// Every checkbox of the permissions page sits under the header of the role it changes (the table
/// is parsed as a browser would: column index of the cell → the header at that index).
#[actix_web::test]
async fn every_permission_checkbox_sits_under_its_role_s_header() {
    let Town { app, hanako, .. } = town().await;
    let page = body(&hanako, &app, "/rooms/family/permissions").await;
    let label_of_role: std::collections::HashMap<&str, &str> = [
        ("manager", "ルーム管理者"),
        ("chief_editor", "編集長"),
        ("editor", "編集者"),
        ("member", "一般"),
        ("guest", "ゲスト"),
    ]
    .into_iter()
    .collect();
    let doc = scraper::Html::parse_document(&page);
    let sel = |s: &str| scraper::Selector::parse(s).unwrap();
    let table = doc.select(&sel("table.matrix")).next().expect("the matrix");
    let headers: Vec<String> = table
        .select(&sel("thead tr > *"))
        .map(|c| c.text().collect::<String>().trim().to_owned())
        .collect();
    assert_eq!(
        headers.len(),
        6,
        "a corner cell and five roles: {headers:?}"
    );
    let mut checked = 0;
    for row in table.select(&sel("tbody tr")) {
        for (column, cell) in row.select(&sel(":scope > th, :scope > td")).enumerate() {
            for input in cell.select(&sel("input[type=checkbox]")) {
                let name = input.value().attr("name").unwrap();
                let role = name.rsplit(':').next().unwrap();
                assert_eq!(
                    headers[column], label_of_role[role],
                    "{name} sits in the column headed {}",
                    headers[column]
                );
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 4, "the four adjustable cells of DESIGN.md §4");
}

/// The settings form of `slug` as submitted by a manager, with `quota_mb` changed.
fn settings_with_quota<'a>(slug: &'a str, quota_mb: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", "家族の部屋"),
        ("slug", slug),
        ("description", ""),
        ("visibility", "closed"),
        ("state", "open"),
        ("default_role", "member"),
        ("join_policy", "invite"),
        ("quota_mb", quota_mb),
        ("feature_blog", "on"),
        ("feature_files", "on"),
    ]
}

fn quota_of(app: &TestApp, slug: &str) -> i64 {
    let slug = slug.to_owned();
    app.db(move |conn| Ok(yui::models::room::find_by_slug(conn, &slug)?.quota_bytes))
}

/// A room's disk quota is the site admin's decision: a manager (every member manages their own
/// private room) sees it but cannot raise it, whatever the form says; the admin can.
#[actix_web::test]
async fn only_site_admins_set_a_room_s_quota() {
    let Town {
        app, admin, hanako, ..
    } = town().await;
    let page = body(&hanako, &app, "/rooms/family/settings").await;
    assert!(
        page.contains("id=\"quota_mb\" name=\"quota_mb\" value=\"100\" readonly"),
        "{page}"
    );
    assert!(page.contains("ディスク容量はサイト管理者が決めます"));
    let res = app
        .post_form(
            &hanako,
            "/rooms/family/settings",
            "/rooms/family/settings",
            &settings_with_quota("family", "10000000"),
        )
        .await;
    assert_eq!(res.status(), 303, "the rest of the form is saved");
    assert_eq!(
        quota_of(&app, "family"),
        100 * 1024 * 1024,
        "the quota is not"
    );
    // A bad quota from a manager is no error either: the field is not theirs.
    let res = app
        .post_form(
            &hanako,
            "/rooms/family/settings",
            "/rooms/family/settings",
            &settings_with_quota("family", "lots"),
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(quota_of(&app, "family"), 100 * 1024 * 1024);
    // The site admin decides it through the same form.
    assert!(
        body(&admin, &app, "/rooms/family/settings")
            .await
            .contains("id=\"quota_mb\" name=\"quota_mb\" value=\"100\" inputmode")
    );
    let res = app
        .post_form(
            &admin,
            "/rooms/family/settings",
            "/rooms/family/settings",
            &settings_with_quota("family", "250"),
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(quota_of(&app, "family"), 250 * 1024 * 1024);
}

#[actix_web::test]
async fn room_forms_keep_input_and_explain_errors() {
    let Town {
        app, admin, hanako, ..
    } = town().await;
    let res = room(&app, "Town!")
        .field("visibility", "secret")
        .open_to_join()
        .managed_by("nobody")
        .try_create(&admin)
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("文字・数字・ハイフンで 2〜40 文字にしてください")
            && html.contains("選択肢から選んでください")
    );
    assert!(html.contains("Town! の部屋"), "typed values are kept");
    let res = room(&app, "town")
        .public()
        .open_to_join()
        .try_create(&admin)
        .await;
    assert_eq!(res.status(), 422, "slug taken");
    // A manager edits her room; the member list on the room page follows.
    let mut fields = vec![
        ("name", "家族の部屋"),
        ("slug", "my-family"),
        ("description", "家族の連絡"),
        ("visibility", "closed"),
        ("state", "open"),
        ("default_role", "member"),
        ("join_policy", "invite"),
        ("quota_mb", "500"),
    ];
    let res = app
        .post_form(
            &hanako,
            "/rooms/family/settings",
            "/rooms/family/settings",
            &fields,
        )
        .await;
    assert_eq!(res.status(), 422, "my- addresses are the private rooms'");
    let html = res.text().await.unwrap();
    assert!(html.contains("「my-」で始まる URL 名はマイルーム用です"));
    assert!(
        html.contains("id=\"quota_mb\" name=\"quota_mb\" value=\"500\" readonly"),
        "the re-rendered form still shows the quota locked to a manager"
    );
    fields[1] = ("slug", "family");
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
    room(&app, "family-trip")
        .public()
        .open_to_join()
        .under("family")
        .create(&admin)
        .await;
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
    let res = app
        .post_form(
            &admin,
            "/admin/rooms",
            "/admin/rooms/town/archive",
            &[("archived", "false")],
        )
        .await;
    assert_eq!(res.status(), 303);
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
    room(&app, "club")
        .joined_on_request()
        .managed_by("hanako")
        .create(&admin)
        .await;
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
    let res = app
        .post_form(&taro, "/rooms/club", "/rooms/club/join", &[])
        .await;
    assert_eq!(res.status(), 303);
    let mail = app.smtp.wait_for("hanako@example.test").await;
    assert_eq!(mail.subject, "[Yui] 「club の部屋」への参加申請");
    assert!(mail.body.contains("taro さん") && mail.body.contains("よろしくお願いします"));
    assert!(mail.body.contains(&app.url("/rooms/club/members")));
    assert_eq!(app.mails_to("hanako@example.test", "").await.len(), 1);

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
    let jiro = app.user("jiro").signed_in().await;
    let res = app
        .post_form(&jiro, "/rooms/club", "/rooms/club/join", &[])
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &hanako,
            "/rooms/club/members",
            "/rooms/club/requests/jiro",
            &[("decision", "decline")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(status(&jiro, &app, "/rooms/club").await, 200);
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
    // A visitor is sent to log in, as for a room that does not exist (nothing leaks).
    for path in [members, "/rooms/nowhere/members"] {
        let res = app.client().get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 303, "{path}");
        assert!(location(&res).starts_with("/login?next="), "{path}");
    }
    let mail = app.smtp.wait_for("newbie@example.test").await;
    assert_eq!(mail.subject, "[Yui] 「family の部屋」への招待");
    let link = link_in(&mail);
    assert!(
        link.starts_with(&app.url("/invite/")),
        "absolute link from base_url"
    );
    let path = link.trim_start_matches(&app.base).to_owned();

    let newbie = app.client();
    let page = newbie.get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
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

/// Turns private rooms on (site settings, as the admin).
async fn allow_private_rooms(app: &TestApp, admin: &reqwest::Client) {
    let res = app
        .post_form(
            admin,
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
}

fn user_id(app: &TestApp, login: &str) -> i64 {
    let login = login.to_owned();
    app.db(move |conn| Ok(yui::models::user::find_by_login(conn, &login)?.id))
}

fn members_of(app: &TestApp, slug: &str) -> Vec<(String, String)> {
    let slug = slug.to_owned();
    app.db(move |conn| {
        let room = yui::models::room::find_by_slug(conn, &slug)?;
        Ok(room_members::table
            .inner_join(yui::db::schema::users::table)
            .filter(room_members::room_id.eq(room.id))
            .select((yui::db::schema::users::login, room_members::role))
            .order(yui::db::schema::users::login)
            .load(conn)?)
    })
}

/// A manager cannot give a room the address of someone's private room: `my-` is reserved, and a
/// private room is found by its owner, so taro's first visit to /me/room makes his own room.
#[actix_web::test]
async fn a_room_cannot_pose_as_someone_s_private_room() {
    let Town {
        app,
        admin,
        taro,
        hanako,
    } = town().await;
    allow_private_rooms(&app, &admin).await;
    let taro_id = user_id(&app, "taro");
    let borrowed = format!("my-{taro_id}");
    let mut fields = settings_with_quota("family", "100");
    fields[1] = ("slug", &borrowed);
    let res = app
        .post_form(
            &hanako,
            "/rooms/family/settings",
            "/rooms/family/settings",
            &fields,
        )
        .await;
    assert_eq!(res.status(), 422);
    // Nor from her own private room.
    let res = hanako.get(app.url("/me/room")).send().await.unwrap();
    let hers = location(&res).trim_start_matches("/rooms/").to_owned();
    let path = format!("/rooms/{hers}/settings");
    let mut fields = settings_with_quota(&borrowed, "1024");
    fields[0] = ("name", "hanako さん のマイルーム");
    let res = app.post_form(&hanako, &path, &path, &fields).await;
    assert_eq!(res.status(), 422);
    // Nor can an admin create one.
    let res = room(&app, &borrowed).closed().try_create(&admin).await;
    assert_eq!(res.status(), 422);
    let res = taro.get(app.url("/me/room")).send().await.unwrap();
    assert_eq!(location(&res), format!("/rooms/{borrowed}"));
    assert_eq!(
        members_of(&app, &borrowed),
        [("taro".into(), "manager".into())]
    );
}

/// Upgrading: a room that a manager renamed to `my-<id>` before this release stops being anyone's
/// private room (it becomes an ordinary room of its members), and its namesake gets their own;
/// genuine private rooms keep their owner.
#[actix_web::test]
async fn an_upgrade_takes_a_borrowed_private_room_address_away() {
    let Town {
        app,
        admin,
        taro,
        hanako,
    } = town().await;
    allow_private_rooms(&app, &admin).await;
    let (taro_id, hanako_id) = (user_id(&app, "taro"), user_id(&app, "hanako"));
    let res = hanako.get(app.url("/me/room")).send().await.unwrap();
    let genuine = location(&res).trim_start_matches("/rooms/").to_owned();
    assert_eq!(genuine, format!("my-{hanako_id}"));
    let mut conn = yui::db::establish(&app.core.config.database_url()).unwrap();
    let reverted = yui::db::migrate::revert_through(&mut conn, "20261207000019").unwrap();
    // The attack as the old code allowed it: hanako renames `family` (which she manages, joined
    // first) to taro's address and adds taro; migration 000014 marked `my-<n>` rooms private.
    let borrowed = format!("my-{taro_id}");
    diesel::sql_query(format!(
        "UPDATE rooms SET slug = '{borrowed}', space = 'private' WHERE slug = 'family'"
    ))
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(format!(
        "INSERT INTO room_members (room_id, user_id, role, joined_at) \
         SELECT id, {taro_id}, 'manager', CURRENT_TIMESTAMP FROM rooms WHERE slug = '{borrowed}'"
    ))
    .execute(&mut conn)
    .unwrap();
    diesel::sql_query(format!(
        "UPDATE room_members SET joined_at = '2026-01-01 00:00:00' \
         WHERE user_id = {hanako_id} AND room_id = (SELECT id FROM rooms WHERE slug = '{borrowed}')"
    ))
    .execute(&mut conn)
    .unwrap();
    assert_eq!(yui::db::migrate::run(&mut conn).unwrap(), reverted);
    let (space, owner) = {
        let b = borrowed.clone();
        let r = app.db(move |conn| Ok(yui::models::room::find_by_slug(conn, &b)?));
        (r.space, r.owner_id)
    };
    assert_eq!((space.as_str(), owner), ("community", None));
    let g = genuine.clone();
    let mine = app.db(move |conn| Ok(yui::models::room::find_by_slug(conn, &g)?));
    assert_eq!(
        (mine.space.as_str(), mine.owner_id),
        ("private", Some(hanako_id))
    );
    // taro's /me/room is a new room of his own, not hanako's.
    let res = taro.get(app.url("/me/room")).send().await.unwrap();
    let his = location(&res).trim_start_matches("/rooms/").to_owned();
    assert_eq!(his, format!("my-{taro_id}-2"));
    assert_eq!(members_of(&app, &his), [("taro".into(), "manager".into())]);
    let res = hanako.get(app.url("/me/room")).send().await.unwrap();
    assert_eq!(location(&res), format!("/rooms/{genuine}"));
}

/// The owner of a private room stays its manager: a manager they added cannot demote or remove
/// them, and they cannot leave it.
#[actix_web::test]
async fn a_private_room_s_owner_cannot_be_pushed_out() {
    let Town {
        app,
        admin,
        taro,
        hanako,
    } = town().await;
    allow_private_rooms(&app, &admin).await;
    let res = taro.get(app.url("/me/room")).send().await.unwrap();
    let room = location(&res);
    let members = format!("{room}/members");
    let res = app
        .post_form(
            &taro,
            &members,
            &members,
            &[("login", "hanako"), ("role", "manager")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let me = format!("{members}/taro");
    for fields in [
        vec![("action", "remove")],
        vec![("action", "role"), ("role", "guest")],
    ] {
        let res = app.post_form(&hanako, &members, &me, &fields).await;
        assert_eq!(res.status(), 409, "{fields:?}");
    }
    let res = app
        .post_form(&taro, &room, &format!("{room}/leave"), &[])
        .await;
    assert_eq!(res.status(), 409);
    let slug = room.trim_start_matches("/rooms/");
    assert!(members_of(&app, slug).contains(&("taro".into(), "manager".into())));
}

/// Two first visits to /me/room at once (two tabs, or two `yui serve` processes) make one private
/// room, and both land in it.
#[actix_web::test]
async fn two_first_visits_at_once_make_one_private_room() {
    let Town { app, admin, .. } = town().await;
    allow_private_rooms(&app, &admin).await;
    let mut tabs = Vec::new();
    for _ in 0..6 {
        tabs.push(app.sign_in("taro").await);
    }
    let visits = tabs.iter().map(|c| c.get(app.url("/me/room")).send());
    let landed: Vec<String> = futures_util::future::join_all(visits)
        .await
        .into_iter()
        .map(|r| {
            let r = r.unwrap();
            assert_eq!(r.status(), 303);
            location(&r)
        })
        .collect();
    assert!(landed.iter().all(|l| *l == landed[0]), "{landed:?}");
    let taro = user_id(&app, "taro");
    let rooms: i64 = app.db(move |conn| {
        Ok(rooms::table
            .filter(rooms::owner_id.eq(taro))
            .count()
            .get_result(conn)?)
    });
    assert_eq!(rooms, 1);
}

/// A value in the database that this version does not know (a hand edit, a newer version's
/// row) is an error, never a silent default: a room whose visibility reads "everyone" is not
/// quietly treated as closed, a member whose role reads "owner" is not quietly a guest.
#[actix_web::test]
async fn a_value_this_version_does_not_know_is_an_error_not_a_guess() {
    let Town {
        app, hanako, taro, ..
    } = town().await;
    assert_eq!(status(&taro, &app, "/rooms/town").await, 200);
    app.db(|conn| {
        diesel::sql_query("UPDATE rooms SET visibility = 'everyone' WHERE slug = 'town'")
            .execute(conn)?;
        Ok(())
    });
    assert_eq!(status(&taro, &app, "/rooms/town").await, 500);
    assert_eq!(status(&app.client(), &app, "/rooms/town").await, 500);
    app.db(|conn| {
        diesel::sql_query("UPDATE rooms SET visibility = 'public' WHERE slug = 'town'")
            .execute(conn)?;
        Ok(())
    });
    assert_eq!(status(&hanako, &app, "/rooms/family").await, 200);
    app.db(|conn| {
        diesel::sql_query("UPDATE room_members SET role = 'owner'").execute(conn)?;
        Ok(())
    });
    assert_eq!(status(&hanako, &app, "/rooms/family").await, 500);
}

/// `rooms::readable_many` (the walks over many rooms: /safety, the approval inbox) answers what
/// `rooms::readable` answers room by room, with the same access, for every kind of room and actor:
/// closed, members-only, public, 準備中, archived, behind a closed or a members-only parent, with
/// overrides, for members, officers, outsiders and a site admin.
#[actix_web::test]
async fn reading_many_rooms_at_once_answers_as_one_by_one() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    for login in ["kenji", "yumi", "outsider"] {
        app.user(login).create();
    }
    app.room("square")
        .public()
        .member("kenji", "guest")
        .create(&admin)
        .await;
    app.room("club")
        .member("kenji", "editor")
        .officer("kenji")
        .create(&admin)
        .await;
    app.room("vault")
        .closed()
        .member("yumi", "manager")
        .create(&admin)
        .await;
    app.room("inside")
        .under("vault")
        .member("kenji", "member")
        .create(&admin)
        .await;
    app.room("annex")
        .under("club")
        .closed()
        .member("yumi", "member")
        .create(&admin)
        .await;
    app.room("deep")
        .under("annex")
        .member("kenji", "member")
        .member("yumi", "guest")
        .create(&admin)
        .await;
    app.room("plans")
        .preparing()
        .member("kenji", "manager")
        .member("yumi", "member")
        .create(&admin)
        .await;
    app.room("old")
        .member("kenji", "member")
        .create(&admin)
        .await;
    let res = app
        .post_form(
            &admin,
            "/admin/rooms",
            "/admin/rooms/old/archive",
            &[("archived", "true")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &admin,
            "/rooms/club/permissions",
            "/rooms/club/permissions",
            &[("cell:publish:editor", "on"), ("cell:create:member", "on")],
        )
        .await;
    assert_eq!(res.status(), 303);
    for login in ["kenji", "yumi", "outsider", "admin"] {
        let (many, one_by_one) = app.db(|conn| {
            let actor = yui::services::account::actor_by_login(conn, login)?;
            let many: Vec<(String, String)> =
                yui::services::rooms::readable_many(conn, &actor, |_| true)?
                    .into_iter()
                    .map(|ctx| (ctx.room.slug.clone(), format!("{:?}", ctx.access)))
                    .collect();
            let mut one_by_one = Vec::new();
            let site_admin = admin_actor(conn)?;
            for room in yui::services::rooms::all_rooms(conn, &site_admin)? {
                if let Some(ctx) = yui::services::rooms::readable(conn, Some(&actor), room)? {
                    one_by_one.push((ctx.room.slug.clone(), format!("{:?}", ctx.access)));
                }
            }
            Ok((many, one_by_one))
        });
        assert_eq!(many, one_by_one, "{login}");
        assert!(!many.is_empty(), "{login} reads something");
    }
}

fn admin_actor(conn: &mut yui::db::DbConn) -> Result<yui::services::Actor, yui::error::AppError> {
    yui::services::account::actor_by_login(conn, "admin")
}

/// A room named in Japanese needs no address typed: it is made from the name as a post's is, a
/// second room of the same name gets `-2`, a full-width address is the same as its half-width
/// form, and redirects and mail links carry the address percent-encoded.
#[actix_web::test]
async fn a_room_named_in_japanese_gets_its_address_from_the_name() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let create = |name: &'static str, slug: &'static str| {
        let admin = admin.clone();
        let app = &app;
        async move {
            app.post_form(
                &admin,
                "/admin/rooms/new",
                "/admin/rooms",
                &[
                    ("name", name),
                    ("slug", slug),
                    ("visibility", "members"),
                    ("state", "open"),
                    ("default_role", "member"),
                    ("join_policy", "invite"),
                    ("quota_mb", "100"),
                    ("feature_blog", "on"),
                ],
            )
            .await
        }
    };
    let res = create("3年2組", "").await;
    assert_eq!(res.status(), 303);
    let to = location(&res);
    assert!(to.is_ascii(), "{to}");
    assert!(to.contains("3%E5%B9%B42%E7%B5%84"), "{to}");
    let page = admin.get(app.url(&to)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("3年2組"));
    let slugs = || {
        app.db(|conn| {
            Ok(rooms::table
                .filter(rooms::name.eq("3年2組"))
                .order(rooms::id)
                .select(rooms::slug)
                .load::<String>(conn)?)
        })
    };
    assert_eq!(slugs(), ["3年2組"]);
    assert_eq!(create("3年2組", "").await.status(), 303);
    assert_eq!(slugs(), ["3年2組", "3年2組-2"]);
    // Typed in full width, the address is the first room's: taken.
    let res = create("三年二組", "３年２組").await;
    assert_eq!(res.status(), 422);
    // Symbols and a reserved prefix are still refused when typed.
    assert_eq!(create("記号", "a/b").await.status(), 422);
    assert_eq!(create("偽物", "my-7").await.status(), 422);
    // A name that gives too little makes `room`.
    assert_eq!(create("!", "").await.status(), 303);
    let room: i64 = app.db(|conn| {
        Ok(rooms::table
            .filter(rooms::slug.eq("room"))
            .count()
            .get_result(conn)?)
    });
    assert_eq!(room, 1);
    // A member of the Japanese room hears of a new post through a link that works as it is.
    app.create_user("taro", false);
    let encoded = to.trim_start_matches("/rooms/").to_owned();
    app.add_member(&admin, &encoded, "taro", "member").await;
    let taro = app.sign_in("taro").await;
    app.create_user("hana", false);
    app.add_member(&admin, &encoded, "hana", "member").await;
    let res = app
        .post_form(
            &taro,
            &format!("{to}/posts/new"),
            &format!("{to}/posts"),
            &[
                ("title", "遠足のお知らせ"),
                ("body", "持ち物"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("hana@example.test", "遠足のお知らせ")
        .await;
    let link = mail
        .body
        .split_whitespace()
        .find(|w| w.starts_with("http") && w.contains("/posts/"))
        .unwrap_or_else(|| panic!("no post link: {}", mail.body))
        .to_owned();
    assert!(link.is_ascii(), "{link}");
    let hana = app.sign_in("hana").await;
    assert_eq!(
        hana.get(&link).send().await.unwrap().status(),
        200,
        "{link}"
    );
}

/// `/rooms` draws each sub-room right under its own parent, indented by depth, whatever the names'
/// order (sorted by name alone, "3組" of "1年" landed under "2年").
#[actix_web::test]
async fn the_room_list_draws_each_sub_room_under_its_own_parent() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.room("grade1")
        .named("1年")
        .public()
        .create(&admin)
        .await;
    app.room("grade2")
        .named("2年")
        .public()
        .create(&admin)
        .await;
    app.room("class3")
        .named("3組")
        .public()
        .under("grade1")
        .create(&admin)
        .await;
    app.room("club")
        .named("4班")
        .public()
        .under("class3")
        .create(&admin)
        .await;
    let page = app
        .client()
        .get(app.url("/rooms"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = |name: &str| {
        page.find(&format!(">{name}</a>"))
            .unwrap_or_else(|| panic!("{name} listed: {page}"))
    };
    assert!(at("1年") < at("3組") && at("3組") < at("4班") && at("4班") < at("2年"));
    let flat = page.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("class=\"nested depth-1\"> <a href=\"/rooms/class3\""));
    assert!(flat.contains("class=\"nested depth-2\"> <a href=\"/rooms/club\""));
}

/// A manager picks people by name: the members page offers everyone not yet in the room by display
/// name, and a display name typed in full (when only one account has it) adds that person.
#[actix_web::test]
async fn a_manager_adds_a_member_picked_by_display_name() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.user("hanako").create();
    app.user("taro").create();
    app.room("club")
        .named("写真部")
        .closed()
        .member("hanako", "member")
        .create(&admin)
        .await;
    let page = admin
        .get(app.url("/rooms/club/members"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<option value=\"taro さん\">"), "{page}");
    assert!(
        !page.contains("<option value=\"hanako さん\">"),
        "already a member"
    );
    // Names only: a member manages their own private room, so logins here would list every account.
    assert!(
        !page.contains("<option value=\"taro\""),
        "no logins in the list"
    );
    let res = app
        .post_form(
            &admin,
            "/rooms/club/members",
            "/rooms/club/members",
            &[("login", "taro さん"), ("role", "member")],
        )
        .await;
    assert_eq!(res.status(), 303, "added by display name");
    let page = admin
        .get(app.url("/rooms/club/members"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("<td>taro さん</td><td>taro</td>"), "{page}");
    let res = app
        .post_form(
            &admin,
            "/rooms/club/members",
            "/rooms/club/members",
            &[("login", "誰でもない人"), ("role", "member")],
        )
        .await;
    assert_eq!(
        res.status(),
        422,
        "an unknown name is refused with a message"
    );
}

/// The admin's new-room form offers the parent as a list in tree order (no private rooms) and the
/// first manager by display name; a name nobody has is refused under its field, keeping the form.
#[actix_web::test]
async fn a_new_room_s_parent_and_manager_are_picked_by_name() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let hanako = app.user("hanako").create();
    app.db(move |conn| {
        diesel::update(yui::db::schema::users::table.find(hanako.id))
            .set(yui::db::schema::users::display_name.eq("山田 花子"))
            .execute(conn)?;
        Ok(())
    });
    app.room("school").named("小学校").create(&admin).await;
    app.room("grade3")
        .named("3年生")
        .under("school")
        .create(&admin)
        .await;
    let page = admin
        .get(app.url("/admin/rooms/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let school = page
        .find("<option value=\"school\">小学校")
        .unwrap_or_else(|| panic!("{page}"));
    let grade = page
        .find("<option value=\"grade3\">\u{3000}3年生")
        .unwrap_or_else(|| panic!("{page}"));
    assert!(
        school < grade,
        "the sub-room comes under its parent, indented"
    );
    assert!(
        page.contains("<option value=\"山田 花子\">"),
        "people by display name"
    );
    assert!(!page.contains("value=\"hanako\""), "not by login");
    let fields = |manager: &'static str| {
        vec![
            ("name", "3年2組"),
            ("slug", "class32"),
            ("visibility", "members"),
            ("state", "open"),
            ("default_role", "member"),
            ("join_policy", "invite"),
            ("quota_mb", "100"),
            ("feature_blog", "on"),
            ("parent", "grade3"),
            ("manager", manager),
        ]
    };
    let res = app
        .post_form(
            &admin,
            "/admin/rooms/new",
            "/admin/rooms",
            &fields("山田 太郎"),
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("class=\"field-error\"") && html.contains("value=\"山田 太郎\""));
    assert!(
        html.contains("<option value=\"grade3\" selected>"),
        "the parent stays picked"
    );
    let res = app
        .post_form(
            &admin,
            "/admin/rooms/new",
            "/admin/rooms",
            &fields("山田 花子"),
        )
        .await;
    assert_eq!(location(&res), "/rooms/class32");
    let members = members_of(&app, "class32");
    assert_eq!(members, vec![("hanako".to_owned(), "manager".to_owned())]);
}
