//! The public blog: writing, Japanese slugs and search, drafts and schedules, pages, the feed, XSS.

use crate::support::*;

async fn write_post(
    app: &TestApp,
    c: &reqwest::Client,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all = vec![("action", "save")];
    all.extend_from_slice(fields);
    app.post_form(c, "/admin/posts/new", "/admin/posts", &all)
        .await
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
    write_post(
        &app,
        &admin,
        &[
            ("title", "会議の議事録"),
            ("body", "東京で会議をしました。Rust の話。"),
            ("status", "published"),
        ],
    )
    .await;
    write_post(
        &app,
        &admin,
        &[
            ("title", "Garden notes"),
            ("body", "Tomatoes grew well."),
            ("tags", "庭"),
            ("status", "published"),
        ],
    )
    .await;
    write_post(
        &app,
        &admin,
        &[
            ("title", "下書きの会議"),
            ("body", "秘密"),
            ("status", "draft"),
        ],
    )
    .await;
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
    // Editors still see them in their list.
    let list = admin
        .get(app.url("/admin/posts"))
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
        200,
        "past the end is an empty page, not an error"
    );
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
        .get(app.url("/admin/posts/new"))
        .header("cookie", &session)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let token = csrf_from(&editor);
    let res = admin
        .post(app.url("/admin/posts"))
        .header("cookie", &session)
        .form(&[
            ("_csrf", token.as_str()),
            ("title", "フィードの記事"),
            ("body", "本文 <b>太字</b>"),
            ("tags", "rust"),
            ("status", "published"),
            ("action", "save"),
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
    app.post_form(
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
        let html = c
            .get(app.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
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
        assert!(
            html.contains("&lt;") || path == "/authors/admin",
            "escaped text shows on {path}"
        );
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
    let token = app.csrf(&admin, "/admin/posts/new").await;
    let res = admin
        .post(app.url("/admin/posts"))
        .form(&[
            ("_csrf", token.as_str()),
            ("title", "下書き"),
            ("body", "**プレビュー**"),
            ("status", "published"),
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
    assert_eq!(
        app.db(|conn| Ok(yui::models::post::count(conn)?)),
        0,
        "preview saves nothing"
    );

    let long_body = "大切な文章。".repeat(500);
    let res = admin
        .post(app.url("/admin/posts"))
        .form(&[
            ("_csrf", token.as_str()),
            ("title", ""),
            ("body", long_body.as_str()),
            ("status", "published"),
            ("action", "save"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(html.contains("タイトルは 1〜200 文字"), "field message");
    assert!(html.contains(&long_body), "nothing typed is lost");

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
    let edit = location(&res);
    let id = edit
        .trim_start_matches("/admin/posts/")
        .trim_end_matches("/edit")
        .to_owned();
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
            &format!("/admin/posts/{id}"),
            &[
                ("title", "first"),
                ("slug", "first"),
                ("body", "new text"),
                ("status", "published"),
                ("action", "save"),
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
        .post_form(&admin, &edit, &format!("/admin/posts/{id}/delete"), &[])
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
    app.create_user("taro", false);
    let member = app.client();
    app.login(&member, "taro", PASSWORD).await;
    let res = app
        .post_form(
            &member,
            "/me",
            "/admin/posts",
            &[
                ("title", "mine"),
                ("body", "x"),
                ("status", "published"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(app.db(|conn| Ok(yui::models::post::count(conn)?)), 0);
}
