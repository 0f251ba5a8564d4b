//! The public blog, which is the public space's blog (a room with roles, revisions and 承認):
//! writing, Japanese slugs and search, drafts and schedules, pages, the feed, XSS, approval, and the
//! upgrade that moves the foundation's posts into it.

use crate::room_posts::{get, revision_in};
use crate::support::*;

/// Writes a post in the public space through its editor. `status` = `published` submits (publishes,
/// or asks for approval), anything else keeps a draft; `published_at` is the start of publication.
async fn write_post(
    app: &TestApp,
    c: &reqwest::Client,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = Vec::new();
    for (k, v) in fields {
        match *k {
            "status" if *v == "published" => all.push(("action", "submit")),
            "status" => all.push(("action", "draft")),
            "published_at" => all.push(("publish_at", *v)),
            _ => all.push((*k, *v)),
        }
    }
    app.post_form(c, "/rooms/public/posts/new", "/rooms/public/posts", &all)
        .await
}

/// The migration that made the public space (the upgrade tests go back to before it, whatever
/// migrations come later).
const PUBLIC_SPACE_MIGRATION: &str = "20261130000014";

/// How many posts the public space holds (deleted ones too).
fn blog_post_count(app: &TestApp) -> i64 {
    app.db(|conn| {
        let space = yui::models::room::public_space(conn)?;
        Ok(yui::models::blog::count_posts(conn, space.id)?)
    })
}

#[actix_web::test]
async fn a_published_post_with_a_japanese_title_appears_everywhere() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let res = write_post(
        &app,
        &admin,
        &[
            ("title", "防災訓練のお知らせ"),
            (
                "body",
                "## 集合場所\n\n**公民館**の前です。\n\n- 水\n- 軍手",
            ),
            ("tags", "お知らせ、防災"),
            ("status", "published"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let anon = app.client();
    let front = anon
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(front.contains("防災訓練のお知らせ"));
    let slug_url =
        "/posts/%E9%98%B2%E7%81%BD%E8%A8%93%E7%B7%B4%E3%81%AE%E3%81%8A%E7%9F%A5%E3%82%89%E3%81%9B";
    assert!(
        front.contains(slug_url),
        "Japanese slug, percent-encoded link"
    );
    let page = anon.get(app.url(slug_url)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("<h2>集合場所</h2>") && page.contains("<strong>公民館</strong>"));
    let tag = anon
        .get(app.url("/tags/%E9%98%B2%E7%81%BD"))
        .send()
        .await
        .unwrap();
    assert_eq!(tag.status(), 200);
    assert!(tag.text().await.unwrap().contains("防災訓練のお知らせ"));
    let author = anon.get(app.url("/authors/admin")).send().await.unwrap();
    assert_eq!(author.status(), 200);
    assert!(
        author
            .text()
            .await
            .unwrap()
            .contains("admin さん さんの記事")
    );
    assert_eq!(
        anon.get(app.url("/authors/nobody"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        anon.get(app.url("/tags/unknown"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

#[actix_web::test]
async fn search_finds_japanese_words_of_any_length_and_full_width_text() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    for fields in [
        &[
            ("title", "会議の議事録"),
            ("body", "東京で会議をしました。Rust の話。"),
            ("status", "published"),
        ][..],
        &[
            ("title", "Garden notes"),
            ("body", "Tomatoes grew well."),
            ("tags", "庭"),
            ("status", "published"),
        ],
        &[
            ("title", "下書きの会議"),
            ("body", "秘密"),
            ("status", "draft"),
        ],
    ] {
        assert_eq!(write_post(&app, &admin, fields).await.status(), 303);
    }
    let c = app.client();
    let search = |q: &'static str| {
        let c = c.clone();
        let url = app.url(&format!(
            "/search?q={}",
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        ));
        async move { c.get(url).send().await.unwrap().text().await.unwrap() }
    };
    let r = search("会議").await;
    assert!(r.contains("会議の議事録"), "2-character Japanese word");
    assert!(!r.contains("下書きの会議"), "drafts are not searchable");
    assert!(search("東").await.contains("会議の議事録"), "1 character");
    assert!(
        search("ＲＵＳＴ").await.contains("会議の議事録"),
        "full-width and case-insensitive"
    );
    assert!(
        search("庭").await.contains("Garden notes"),
        "tags are searched"
    );
    let none = search("会議 tomatoes").await;
    assert!(
        !none.contains("会議の議事録") && !none.contains("Garden notes"),
        "all terms must match"
    );
    assert!(
        search("100%_").await.contains("検索結果：0 件"),
        "LIKE wildcards are literal"
    );
    assert!(!search("秘密").await.contains("下書き"));
}

#[actix_web::test]
async fn drafts_and_scheduled_posts_stay_hidden() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    write_post(
        &app,
        &admin,
        &[
            ("title", "draft one"),
            ("slug", "draft-one"),
            ("body", "x"),
            ("status", "draft"),
        ],
    )
    .await;
    write_post(
        &app,
        &admin,
        &[
            ("title", "future one"),
            ("slug", "future-one"),
            ("body", "x"),
            ("status", "published"),
            ("published_at", "2099-01-01T09:00"),
        ],
    )
    .await;
    let c = app.client();
    assert_eq!(
        c.get(app.url("/posts/draft-one"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        c.get(app.url("/posts/future-one"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let front = c
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!front.contains("draft one") && !front.contains("future one"));
    let feed = c
        .get(app.url("/feed.atom"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!feed.contains("draft one") && !feed.contains("future one"));
    // Their author still sees them on the public space's page.
    let list = admin
        .get(app.url("/rooms/public"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list.contains("draft one") && list.contains("future one"));
}

#[actix_web::test]
async fn the_front_page_paginates() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    for i in 1..=12 {
        let title = format!("Post number {i:02}");
        let date = format!("2026-01-{i:02}T10:00");
        write_post(
            &app,
            &admin,
            &[
                ("title", &title),
                ("body", "x"),
                ("status", "published"),
                ("published_at", &date),
            ],
        )
        .await;
    }
    let c = app.client();
    let p1 = c
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        p1.contains("Post number 12")
            && p1.contains("Post number 03")
            && !p1.contains("Post number 02")
    );
    assert!(p1.contains("href=\"/?page=2\""));
    let p2 = c
        .get(app.url("/?page=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        p2.contains("Post number 02")
            && p2.contains("Post number 01")
            && !p2.contains("Post number 03")
    );
    let p9 = c.get(app.url("/?page=9")).send().await.unwrap();
    assert_eq!(
        p9.status(),
        404,
        "past the end is a page that does not exist (as for tags), not 'no posts yet'"
    );
    assert!(!p9.text().await.unwrap().contains("まだ記事がありません"));
}

#[actix_web::test]
async fn the_feed_is_valid_atom_with_links_from_base_url_only() {
    let app = TestApp::spawn_with(Options {
        base_url: Some("https://blog.example.test".into()),
        ..Options::default()
    });
    app.create_user("admin", true);
    let admin = app.client();
    // The https base_url gives __Host- cookies the test client cannot send over http, so log in by hand.
    let page = admin.get(app.url("/login")).send().await.unwrap();
    let csrf_cookie = page
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .next()
        .unwrap();
    let token = csrf_from(&page.text().await.unwrap());
    let res = admin
        .post(app.url("/login"))
        .header("cookie", &csrf_cookie)
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "admin"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned())
        .find(|c| c.starts_with("__Host-yui_session"))
        .unwrap();
    let editor = admin
        .get(app.url("/rooms/public/posts/new"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_from(&editor);
    let res = admin
        .post(app.url("/rooms/public/posts"))
        .header("cookie", &session)
        .form(&[
            ("_csrf", token.as_str()),
            ("title", "フィードの記事"),
            ("body", "本文 <b>太字</b>"),
            ("tags", "rust"),
            ("action", "submit"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);

    let res = app
        .client()
        .get(app.url("/feed.atom"))
        .header("host", "evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/atom+xml")
    );
    let xml = res.text().await.unwrap();
    assert!(
        !xml.contains("evil.example"),
        "links never come from the Host header"
    );
    let feed: atom_syndication::Feed = xml.parse().expect("valid Atom");
    assert_eq!(feed.title().as_str(), "Yui");
    assert!(
        feed.links()
            .iter()
            .any(|l| l.rel() == "self" && l.href() == "https://blog.example.test/feed.atom")
    );
    let entry = &feed.entries()[0];
    assert_eq!(entry.title().as_str(), "フィードの記事");
    assert!(
        entry.links()[0]
            .href()
            .starts_with("https://blog.example.test/posts/")
    );
    assert!(
        entry
            .content()
            .unwrap()
            .value()
            .unwrap()
            .contains("<b>太字</b>")
    );
    assert_eq!(entry.categories()[0].term(), "rust");
}

#[actix_web::test]
async fn hostile_input_is_inert_everywhere() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let xss_name = "<script>alert('name')</script>";
    let res = app
        .post_form(
            &admin,
            "/me",
            "/me",
            &[
                ("display_name", xss_name),
                ("email", "admin@example.test"),
                ("language", "ja"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "the hostile display name is saved");
    let res = write_post(&app, &admin, &[
        ("title", "<img src=x onerror=alert(1)>タイトル"),
        ("slug", "xss"),
        ("body", "<script>alert(2)</script>\n\n[click](javascript:alert(3))\n\n<svg onload=alert(4)><script>alert(5)</script></svg>\n\n<a href=\"data:text/html,x\">d</a>"),
        ("tags", "<b onmouseover=alert(6)>tag"),
        ("status", "published"),
    ])
    .await;
    assert_eq!(res.status(), 303);
    let c = app.client();
    for path in [
        "/",
        "/posts/xss",
        "/search?q=%E3%82%BF%E3%82%A4%E3%83%88%E3%83%AB",
        "/authors/admin",
    ] {
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let html = res.text().await.unwrap();
        for bad in [
            "<script>alert",
            "<img src=x",
            "javascript:alert",
            "<svg",
            "onload=",
            "<b onmouseover",
            "data:text/html",
        ] {
            assert!(!html.contains(bad), "{bad} is live on {path}");
        }
        assert!(html.contains("&lt;"), "escaped text shows on {path}");
        if path == "/authors/admin" {
            assert!(
                html.contains("&lt;script&gt;alert("),
                "the hostile display name shows, escaped"
            );
        }
    }
    let feed = c
        .get(app.url("/feed.atom"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let parsed: atom_syndication::Feed = feed.parse().unwrap();
    let content = parsed.entries()[0]
        .content()
        .unwrap()
        .value()
        .unwrap()
        .to_owned();
    for bad in ["<script", "javascript:", "<svg", "onload", "data:text"] {
        assert!(!content.contains(bad), "{bad} in feed content");
    }
}

#[actix_web::test]
async fn the_editor_previews_without_saving_and_keeps_input_on_errors() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let token = app.csrf(&admin, "/rooms/public/posts/new").await;
    let res = admin
        .post(app.url("/rooms/public/posts"))
        .form(&[
            ("_csrf", token.as_str()),
            ("title", "下書き"),
            ("body", "**プレビュー**"),
            ("action", "preview"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("<strong>プレビュー</strong>")
    );
    assert_eq!(blog_post_count(&app), 0, "preview saves nothing");

    let long_body = "大切な文章。".repeat(500);
    let res = admin
        .post(app.url("/rooms/public/posts"))
        .form(&[
            ("_csrf", token.as_str()),
            ("title", ""),
            ("body", long_body.as_str()),
            ("tags", "残るタグ"),
            ("action", "submit"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("タイトルは 1〜200 文字"), "field message");
    assert!(html.contains(&long_body), "nothing typed is lost");
    assert!(html.contains("残るタグ"), "the tags are kept too");

    // Two posts with the same title get distinct slugs; an explicit clash is a field error.
    for _ in 0..2 {
        write_post(
            &app,
            &admin,
            &[("title", "同じ題"), ("body", "x"), ("status", "published")],
        )
        .await;
    }
    let c = app.client();
    assert_eq!(
        c.get(app.url("/posts/%E5%90%8C%E3%81%98%E9%A1%8C"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.get(app.url("/posts/%E5%90%8C%E3%81%98%E9%A1%8C-2"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = write_post(
        &app,
        &admin,
        &[
            ("title", "別"),
            ("slug", "同じ題"),
            ("body", "x"),
            ("status", "published"),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
}

#[actix_web::test]
async fn editing_and_deleting_a_post() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let res = write_post(
        &app,
        &admin,
        &[
            ("title", "first"),
            ("slug", "first"),
            ("body", "old"),
            ("status", "published"),
        ],
    )
    .await;
    let post = location(&res);
    let id = post.trim_start_matches("/rooms/public/posts/").to_owned();
    let edit = format!("{post}/edit");
    let form = admin
        .get(app.url(&edit))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(form.contains("old"));
    let res = app
        .post_form(
            &admin,
            &edit,
            &format!("/rooms/public/posts/{id}"),
            &[
                ("title", "first"),
                ("slug", "first"),
                ("body", "new text"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = app
        .client()
        .get(app.url("/posts/first"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("new text"));
    let res = app
        .post_form(
            &admin,
            &post,
            &format!("/rooms/public/posts/{id}/delete"),
            &[("confirmed", "yes")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        app.client()
            .get(app.url("/posts/first"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        admin.get(app.url(&edit)).send().await.unwrap().status(),
        404
    );
}

#[actix_web::test]
async fn members_cannot_write_to_the_blog() {
    let app = TestApp::spawn();
    app.create_user("admin", true);
    let member = app.user("taro").signed_in().await;
    let res = app
        .post_form(
            &member,
            "/me",
            "/rooms/public/posts",
            &[("title", "mine"), ("body", "x"), ("action", "submit")],
        )
        .await;
    assert_eq!(res.status(), 404, "not a member of the public space");
    assert_eq!(blog_post_count(&app), 0);
    assert_eq!(
        member
            .get(app.url("/rooms/public/posts/new"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Signs in `login` (created as a site member) holding `role` in the public space.
async fn public_space_member(app: &TestApp, login: &str, role: &str) -> reqwest::Client {
    let user = app.create_user(login, false);
    app.db(|conn| {
        let space = yui::models::room::public_space(conn)?;
        yui::models::room::set_member(
            conn,
            space.id,
            user.id,
            yui::db::types::RoomRole::parse(role).unwrap(),
            yui::models::now(),
        )?;
        Ok(())
    });
    app.sign_in(login).await
}

#[actix_web::test]
async fn an_editor_s_blog_post_and_its_edits_wait_for_the_chief_editor() {
    let app = TestApp::spawn();
    let editor = public_space_member(&app, "kaku", "editor").await;
    let chief = public_space_member(&app, "hensyu", "chief_editor").await;
    let anon = app.client();
    let res = write_post(
        &app,
        &editor,
        &[
            ("title", "承認待ちの記事"),
            ("slug", "waiting"),
            ("body", "最初の本文"),
            ("tags", "お知らせ"),
            ("status", "published"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let post = location(&res);
    assert!(post.starts_with("/rooms/public/posts/"), "{post}");
    assert_eq!(get(&anon, &app, "/posts/waiting").await.0, 404);
    assert!(!get(&anon, &app, "/").await.1.contains("承認待ちの記事"));
    assert!(
        !get(&anon, &app, "/feed.atom")
            .await
            .1
            .contains("承認待ちの記事")
    );

    let (_, inbox) = get(&chief, &app, "/inbox").await;
    assert!(inbox.contains("承認待ちの記事"), "the chief editor's inbox");
    let approve = format!("{post}/approve");
    let res = app
        .post_form(
            &chief,
            &post,
            &approve,
            &[("revision", &revision_in(&inbox))],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (status, page) = get(&anon, &app, "/posts/waiting").await;
    assert_eq!(status, 200);
    assert!(page.contains("最初の本文"));
    assert!(!page.contains(&post), "visitors get no manage link");
    assert!(
        get(&editor, &app, "/posts/waiting").await.1.contains(&post),
        "its author finds the way to manage it"
    );
    assert!(
        get(&anon, &app, "/tags/%E3%81%8A%E7%9F%A5%E3%82%89%E3%81%9B")
            .await
            .1
            .contains("承認待ちの記事")
    );

    // An edit waits too, and the live version (text and tags) stays until it is approved.
    let res = app
        .post_form(
            &editor,
            &format!("{post}/edit"),
            &post,
            &[
                ("title", "承認待ちの記事"),
                ("slug", "waiting"),
                ("body", "直した本文"),
                ("tags", "更新"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = get(&anon, &app, "/posts/waiting").await.1;
    assert!(page.contains("最初の本文") && !page.contains("直した本文"));
    let updated_tag = "/tags/%E6%9B%B4%E6%96%B0";
    assert_eq!(get(&anon, &app, updated_tag).await.0, 404);
    let (_, chief_view) = get(&chief, &app, &post).await;
    let res = app
        .post_form(
            &chief,
            &post,
            &approve,
            &[("revision", &revision_in(&chief_view))],
        )
        .await;
    assert_eq!(res.status(), 303);
    let page = get(&anon, &app, "/posts/waiting").await.1;
    assert!(page.contains("直した本文") && !page.contains("最初の本文"));
    assert_eq!(get(&anon, &app, updated_tag).await.0, 200);
    assert_eq!(
        get(&anon, &app, "/tags/%E3%81%8A%E7%9F%A5%E3%82%89%E3%81%9B")
            .await
            .0,
        404,
        "the old tag went with the old version"
    );
    assert!(
        get(&anon, &app, "/search?q=%E7%9B%B4%E3%81%97%E3%81%9F")
            .await
            .1
            .contains("href=\"/posts/waiting\""),
        "search links public space posts to their public address"
    );
}

#[actix_web::test]
async fn the_public_space_stays_public_and_the_old_editor_addresses_lead_to_it() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    for (old, new) in [
        ("/admin/posts", "/rooms/public"),
        ("/admin/posts/new", "/rooms/public/posts/new"),
    ] {
        let res = admin.get(app.url(old)).send().await.unwrap();
        assert_eq!(res.status(), 303, "{old}");
        assert_eq!(location(&res), new);
    }
    let res = app
        .post_form(
            &admin,
            "/rooms/public/settings",
            "/rooms/public/settings",
            &[
                ("name", "お知らせ"),
                ("slug", "public"),
                ("visibility", "closed"),
                ("state", "preparing"),
                ("default_role", "guest"),
                ("join_policy", "invite"),
                ("quota_mb", "100"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let space = app.db(|conn| Ok(yui::models::room::public_space(conn)?));
    assert_eq!(
        (
            space.name.as_str(),
            space.visibility.as_str(),
            space.state.as_str(),
            space.features.to_string().as_str()
        ),
        ("お知らせ", "public", "open", "blog"),
        "the name changes; visibility, state and the blog do not"
    );
    let res = app
        .post_form(
            &admin,
            "/admin/rooms",
            "/admin/rooms/public/archive",
            &[("archived", "true")],
        )
        .await;
    assert_eq!(res.status(), 409);
    let space = app.db(|conn| Ok(yui::models::room::public_space(conn)?));
    assert!(!space.archived);
}

#[actix_web::test]
async fn an_upgrade_moves_the_foundation_s_blog_into_the_public_space() {
    use diesel::RunQueryDsl;
    let app = TestApp::spawn();
    let admin = app.create_user("admin", true);
    let mut conn = yui::db::establish(&app.core.config.database_url()).unwrap();
    // Back to the schema before the public space, with the foundation's blog tables.
    let reverted = yui::db::migrate::revert_through(&mut conn, PUBLIC_SPACE_MIGRATION).unwrap();
    let grams = yui::textsearch::bigrams("旧ブログの記事 移行される本文 移行");
    for (slug, title, status, published) in [
        (
            "old-post",
            "旧ブログの記事",
            "published",
            "2026-01-02 03:04:05",
        ),
        (
            "old-draft",
            "旧ブログの下書き",
            "draft",
            "2026-01-03 03:04:05",
        ),
    ] {
        diesel::sql_query(format!(
            "INSERT INTO posts (author_id, title, slug, body_md, body_html, excerpt, search_text, \
             status, published_at, created_at, updated_at, grams) VALUES ({}, '{title}', '{slug}', \
             '移行される本文', '<p>移行される本文</p>', '移行される本文', '{title} 移行される本文 移行', \
             '{status}', '{published}', '{published}', '{published}', '{grams}')",
            admin.id
        ))
        .execute(&mut conn)
        .unwrap();
    }
    diesel::sql_query("INSERT INTO tags (name) VALUES ('移行')")
        .execute(&mut conn)
        .unwrap();
    diesel::sql_query(
        "INSERT INTO post_tags (post_id, tag_id) SELECT p.id, t.id FROM posts p, tags t",
    )
    .execute(&mut conn)
    .unwrap();
    assert_eq!(yui::db::migrate::run(&mut conn).unwrap(), reverted);

    let anon = app.client();
    let (status, page) = get(&anon, &app, "/posts/old-post").await;
    assert_eq!(status, 200);
    assert!(page.contains("旧ブログの記事") && page.contains("<p>移行される本文</p>"));
    assert!(page.contains("2026"), "the publication date is kept");
    assert_eq!(get(&anon, &app, "/posts/old-draft").await.0, 404);
    let tag = get(&anon, &app, "/tags/%E7%A7%BB%E8%A1%8C").await.1;
    assert!(tag.contains("旧ブログの記事") && !tag.contains("下書き"));
    let found = get(&anon, &app, "/search?q=%E7%A7%BB%E8%A1%8C").await.1;
    assert!(
        found.contains("href=\"/posts/old-post\""),
        "searchable after the move"
    );
    assert!(
        get(&anon, &app, "/feed.atom")
            .await
            .1
            .contains("旧ブログの記事")
    );

    // The draft is the author's to finish, in the public space's editor, with its tags.
    let admin_client = app.sign_in("admin").await;
    let (_, room) = get(&admin_client, &app, "/rooms/public").await;
    assert!(room.contains("旧ブログの下書き"));
    let draft_id: i64 = app.db(|conn| {
        use diesel::prelude::*;
        use yui::db::schema::room_posts;
        Ok(room_posts::table
            .filter(room_posts::slug.eq("old-draft"))
            .select(room_posts::id)
            .first(conn)?)
    });
    let (status, editor) = get(
        &admin_client,
        &app,
        &format!("/rooms/public/posts/{draft_id}/edit"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(editor.contains("value=\"old-draft\"") && editor.contains("value=\"移行\""));
    app.outbox_drained().await;
    assert!(app.smtp.mails().is_empty(), "moving the blog mails nobody");
}

#[actix_web::test]
async fn an_editor_cannot_move_a_published_post_s_address_past_approval() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let editor = public_space_member(&app, "kaku", "editor").await;
    let anon = app.client();
    let res = write_post(
        &app,
        &admin,
        &[
            ("title", "公開中の記事"),
            ("slug", "kept"),
            ("body", "本文"),
            ("status", "published"),
        ],
    )
    .await;
    let post = location(&res);
    assert_eq!(get(&anon, &app, "/posts/kept").await.0, 200);

    // An edit that waits for approval must not move the live post's address at once: links out
    // there would break before anyone approved anything.
    let res = app
        .post_form(
            &editor,
            &format!("{post}/edit"),
            &post,
            &[
                ("title", "公開中の記事"),
                ("slug", "moved"),
                ("body", "直した本文"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(
        res.status(),
        422,
        "the address of a live post is the approvers' to change"
    );
    assert_eq!(get(&anon, &app, "/posts/kept").await.0, 200);
    assert_eq!(get(&anon, &app, "/posts/moved").await.0, 404);

    // The same edit keeping the address waits for approval as usual.
    let res = app
        .post_form(
            &editor,
            &format!("{post}/edit"),
            &post,
            &[
                ("title", "公開中の記事"),
                ("slug", "kept"),
                ("body", "直した本文"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(get(&anon, &app, "/posts/kept").await.0, 200);

    // Those who publish still move it at once.
    let res = app
        .post_form(
            &admin,
            &format!("{post}/edit"),
            &post,
            &[
                ("title", "公開中の記事"),
                ("slug", "moved"),
                ("body", "本文"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(get(&anon, &app, "/posts/moved").await.0, 200);
    assert_eq!(get(&anon, &app, "/posts/kept").await.0, 404);
}

#[derive(diesel::QueryableByName)]
struct Slug {
    #[diesel(sql_type = diesel::sql_types::Text)]
    slug: String,
}

#[actix_web::test]
async fn rolling_back_the_public_space_keeps_its_posts_whatever_was_built_on_it() {
    use diesel::RunQueryDsl;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let res = write_post(
        &app,
        &admin,
        &[
            ("title", "戻しても残る記事"),
            ("slug", "stays"),
            ("body", "本文"),
            ("tags", "残る"),
            ("status", "published"),
        ],
    )
    .await;
    let post = location(&res);
    let res = app
        .post_form(
            &admin,
            &post,
            &format!("{post}/comments"),
            &[("comment", "コメント")],
        )
        .await;
    assert_eq!(res.status(), 303);
    public_space_member(&app, "kaku", "editor").await;
    // A sub-room under the public space (an admin may make one, like under any room).
    app.room("news")
        .named("お知らせの部屋")
        .public()
        .under("public")
        .create(&admin)
        .await;

    let mut conn = yui::db::establish(&app.core.config.database_url()).unwrap();
    let reverted = yui::db::migrate::revert_through(&mut conn, PUBLIC_SPACE_MIGRATION)
        .expect("down.sql runs on a site that used the public space");
    let slugs: Vec<String> = diesel::sql_query("SELECT slug FROM posts")
        .load::<Slug>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|s| s.slug)
        .collect();
    assert_eq!(slugs, ["stays"]);
    assert_eq!(yui::db::migrate::run(&mut conn).unwrap(), reverted);
    assert_eq!(get(&app.client(), &app, "/posts/stays").await.0, 200);
    assert_eq!(get(&app.client(), &app, "/rooms/news").await.0, 200);
}

/// The `<updated>` values of a feed (the feed's own first, then each entry's).
fn feed_updated(xml: &str) -> Vec<String> {
    xml.split("<updated>")
        .skip(1)
        .map(|s| s.split("</updated>").next().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn an_edit_waiting_for_approval_leaves_the_feeds_as_they_were() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let editor = public_space_member(&app, "kaku", "editor").await;
    let anon = app.client();
    let res = write_post(
        &app,
        &admin,
        &[
            ("title", "公開中の記事"),
            ("slug", "live"),
            ("body", "本文"),
            ("status", "published"),
        ],
    )
    .await;
    let post = location(&res);
    let before = feed_updated(&get(&anon, &app, "/feed.atom").await.1);
    let room_before = feed_updated(&get(&anon, &app, "/rooms/public/feed.atom").await.1);
    assert_eq!(before.len(), 2, "{before:?}");
    for action in ["draft", "submit"] {
        let res = app
            .post_form(
                &editor,
                &format!("{post}/edit"),
                &post,
                &[
                    ("title", "公開中の記事"),
                    ("slug", "live"),
                    ("body", "直した本文"),
                    ("action", action),
                ],
            )
            .await;
        assert_eq!(res.status(), 303);
    }
    assert_eq!(
        feed_updated(&get(&anon, &app, "/feed.atom").await.1),
        before,
        "nothing readers see changed"
    );
    assert_eq!(
        feed_updated(&get(&anon, &app, "/rooms/public/feed.atom").await.1),
        room_before
    );

    // Approved, the new version is an update.
    let (_, chief_view) = get(&admin, &app, &post).await;
    let res = app
        .post_form(
            &admin,
            &post,
            &format!("{post}/approve"),
            &[("revision", &revision_in(&chief_view))],
        )
        .await;
    assert_eq!(res.status(), 303);
    let after = feed_updated(&get(&anon, &app, "/feed.atom").await.1);
    assert!(after[1] > before[1], "{after:?} after {before:?}");
    assert!(after[0] > before[0]);
}

#[actix_web::test]
async fn every_tag_link_leads_to_its_page_and_a_fresh_post_shows_on_the_cached_front_page_at_once()
{
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let anon = app.client();
    // The front page as a visitor sees it, kept in the page cache.
    assert!(!get(&anon, &app, "/").await.1.contains("記号のタグ"));
    let res = write_post(
        &app,
        &admin,
        &[
            ("title", "記号のタグ"),
            ("body", "本文"),
            ("tags", "C++, 100%, なぜ?, a b, C#, 予定.2026"),
            ("status", "published"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (_, front) = get(&anon, &app, "/").await;
    assert!(
        front.contains("記号のタグ"),
        "a write empties the page cache"
    );
    let (status, page) = get(&anon, &app, "/posts/記号のタグ").await;
    assert_eq!(status, 200);
    let links: Vec<String> = page
        .split("href=\"/tags/")
        .skip(1)
        .map(|s| format!("/tags/{}", s.split('"').next().unwrap()))
        .collect();
    assert_eq!(links.len(), 6, "{links:?}");
    for link in links {
        let (status, list) = get(&anon, &app, &link).await;
        assert_eq!(status, 200, "{link}");
        assert!(list.contains("記号のタグ"), "{link}");
    }
}

#[actix_web::test]
async fn an_editor_s_post_in_a_public_space_without_approvers_is_mailed_to_the_site_admins() {
    // After the upgrade (and on a new site) the public space has no members: the site admins, who
    // may approve everywhere, are the only ones who can publish an editor's post.
    let app = TestApp::spawn();
    app.create_user("admin", true);
    let editor = public_space_member(&app, "kaku", "editor").await;
    let res = write_post(
        &app,
        &editor,
        &[
            ("title", "誰かが承認する記事"),
            ("body", "本文"),
            ("status", "published"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    app.core.db.mail_wakeup().notify_one();
    let mail = app
        .smtp
        .wait_for_subject("admin@example.test", "承認待ち")
        .await;
    assert!(mail.body.contains("誰かが承認する記事"), "{}", mail.body);
    assert!(mail.body.contains("/inbox"), "{}", mail.body);
    assert!(
        app.mails_to("kaku@example.test", "").await.is_empty(),
        "not to the author"
    );
}

#[actix_web::test]
async fn published_comments_show_on_the_public_page_and_waiting_ones_do_not() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let res = write_post(
        &app,
        &admin,
        &[
            ("title", "ご意見募集"),
            ("slug", "iken"),
            ("body", "x"),
            ("status", "published"),
        ],
    )
    .await;
    let post = location(&res);
    let member = public_space_member(&app, "hanashi", "member").await;
    let anon = app.client();
    let (_, page) = get(&member, &app, "/posts/iken").await;
    assert!(
        page.contains(&format!("{post}#comments-title")),
        "members get a way to comment"
    );
    assert!(
        !get(&anon, &app, "/posts/iken")
            .await
            .1
            .contains("#comments-title")
    );
    let comments = format!("{post}/comments");
    let res = app
        .post_form(&member, &post, &comments, &[("comment", "**賛成**です")])
        .await;
    assert_eq!(res.status(), 303);
    app.db(|conn| {
        use diesel::prelude::*;
        use yui::db::schema::rooms;
        diesel::update(rooms::table.filter(rooms::space.eq("public")))
            .set(rooms::comment_approval.eq(true))
            .execute(conn)?;
        Ok(())
    });
    let res = app
        .post_form(&member, &post, &comments, &[("comment", "承認待ちの意見")])
        .await;
    assert_eq!(res.status(), 303);
    let (_, page) = get(&anon, &app, "/posts/iken").await;
    assert!(
        page.contains("<strong>賛成</strong>です"),
        "the published comment"
    );
    assert!(
        !page.contains("承認待ちの意見"),
        "a waiting comment stays on the room page"
    );
    let (_, room_page) = get(&admin, &app, &post).await;
    assert!(
        room_page.contains("承認待ちの意見"),
        "the approver finds it on the room's page"
    );
}

#[actix_web::test]
async fn tag_and_author_pages_paginate_newest_first_and_drop_deleted_posts() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let mut newest = String::new();
    for i in 1..=12 {
        let title = format!("連載 第{i:02}回");
        let date = format!("2026-02-{i:02}T10:00");
        let res = write_post(
            &app,
            &admin,
            &[
                ("title", &title),
                ("body", "x"),
                ("tags", "連載"),
                ("status", "published"),
                ("published_at", &date),
            ],
        )
        .await;
        assert_eq!(res.status(), 303);
        newest = location(&res);
    }
    let res = write_post(
        &app,
        &admin,
        &[
            ("title", "タグなし"),
            ("body", "x"),
            ("status", "published"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    // Its period is over: gone from the tag page like from the front page.
    let res = write_post(
        &app,
        &admin,
        &[
            ("title", "期間終了"),
            ("body", "x"),
            ("tags", "連載"),
            ("status", "published"),
            ("published_at", "2026-02-20T10:00"),
            ("publish_until", "2026-03-01T10:00"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let anon = app.client();
    let tag = "/tags/%E9%80%A3%E8%BC%89";
    let order = |html: &str| -> Vec<u32> {
        html.match_indices("連載 第")
            .filter_map(|(at, _)| html[at + "連載 第".len()..].get(..2)?.parse().ok())
            .collect()
    };
    let p1 = get(&anon, &app, tag).await.1;
    assert_eq!(
        order(&p1),
        (3..=12).rev().collect::<Vec<_>>(),
        "newest first"
    );
    assert!(!p1.contains("タグなし") && !p1.contains("期間終了"));
    let p2 = get(&anon, &app, &format!("{tag}?page=2")).await.1;
    assert_eq!(order(&p2), vec![2, 1]);
    let author = get(&anon, &app, "/authors/admin?page=2").await.1;
    assert_eq!(
        order(&author),
        vec![3, 2, 1],
        "the untagged post is the newest"
    );
    let res = app
        .post_form(
            &admin,
            &newest,
            &format!("{newest}/delete"),
            &[("confirmed", "yes")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let p1 = get(&anon, &app, tag).await.1;
    assert_eq!(
        order(&p1),
        (2..=11).rev().collect::<Vec<_>>(),
        "a deleted post leaves"
    );
}

#[actix_web::test]
async fn search_shows_the_newest_hundred_and_asks_for_another_word() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    for i in 1..=105 {
        let title = format!("共通の話題 {i:03}");
        write_post(
            &app,
            &admin,
            &[("title", &title), ("body", "x"), ("status", "published")],
        )
        .await;
    }
    let anon = app.client();
    let q = "/search?q=%E5%85%B1%E9%80%9A";
    let (_, first) = get(&anon, &app, q).await;
    assert!(
        first.contains("検索結果：100+ 件"),
        "the count stops at 100"
    );
    assert!(first.contains("語を足すと絞り込めます"));
    assert!(first.contains("共通の話題 105"), "newest first");
    let (_, last) = get(&anon, &app, &format!("{q}&page=10")).await;
    assert!(last.contains("共通の話題 006") && !last.contains("共通の話題 005"));
    assert!(!last.contains("page=11"), "no page past the tenth");
    let (_, past) = get(&anon, &app, &format!("{q}&page=11")).await;
    assert!(
        past.contains("共通の話題 006"),
        "a later page number shows the tenth page"
    );
    // Under the cap the count is exact and there is no hint.
    let (_, one) = get(&anon, &app, "/search?q=%E8%A9%B1%E9%A1%8C%20105").await;
    assert!(one.contains("検索結果：1 件") && !one.contains("語を足すと"));
}
