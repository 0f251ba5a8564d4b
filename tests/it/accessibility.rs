//! Accessibility in the HTML itself (issue #17), on both backends: the skip link, the front page's
//! `h1`, labelled search landmarks, the permissions matrix's headers, and the language of parts
//! (`lang` on the answer page's second-language labels, the site's title and tagline, and posts
//! written in the other language than the page). The browser test `browser::accessibility`
//! measures the rendered pages with axe-core and walks them with the keyboard.

use diesel::prelude::*;
use yui::db::schema::post_revisions;

use crate::room_posts::get;
use crate::support::*;

/// The post language migration (the upgrade test goes back to before it).
const POST_LANGUAGE_MIGRATION: &str = "20261207000020";

fn sel(css: &str) -> scraper::Selector {
    scraper::Selector::parse(css).unwrap()
}

/// The `lang` attribute of the first element matching `css` (`None`: no such attribute).
fn lang_of(html: &str, css: &str) -> Option<String> {
    let doc = scraper::Html::parse_document(html);
    let el = doc
        .select(&sel(css))
        .next()
        .unwrap_or_else(|| panic!("no {css}"));
    el.value().attr("lang").map(str::to_owned)
}

/// A client whose pages come in `lang` (the footer's switch).
async fn in_lang(app: &TestApp, c: reqwest::Client, lang: &str) -> reqwest::Client {
    let res = c
        .get(app.url(&format!("/lang/{lang}?next=/")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    c
}

/// The language stored with a post's newest revision.
fn stored_lang(app: &TestApp, post: i64) -> String {
    app.db(move |conn| {
        Ok(post_revisions::table
            .filter(post_revisions::post_id.eq(post))
            .order(post_revisions::id.desc())
            .select(post_revisions::lang)
            .first(conn)?)
    })
}

#[actix_web::test]
async fn every_page_starts_with_a_skip_link_and_the_front_page_has_an_h1() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    // With a post, so that the front page is the list (an empty site shows its first steps).
    app.post_in("public", "防災訓練のお知らせ")
        .published(&admin)
        .await;
    for (lang, skip, heading) in [
        ("ja", "本文へ移動", "新着記事"),
        ("en", "Skip to the content", "Latest posts"),
    ] {
        let c = in_lang(&app, app.client(), lang).await;
        let (status, page) = get(&c, &app, "/").await;
        assert_eq!(status, 200);
        let doc = scraper::Html::parse_document(&page);
        let first = doc
            .select(&sel("body a[href], body input, body button"))
            .next()
            .unwrap();
        assert_eq!(first.value().attr("class"), Some("skip-link"));
        assert_eq!(first.value().attr("href"), Some("#main"));
        assert_eq!(first.text().collect::<String>(), skip);
        assert_eq!(doc.select(&sel("main#main")).count(), 1);
        let h1: Vec<String> = doc
            .select(&sel("main h1"))
            .map(|h| h.text().collect())
            .collect();
        assert_eq!(h1, [heading], "{lang}");
    }
}

#[actix_web::test]
async fn the_two_search_landmarks_have_their_own_names() {
    let app = TestApp::spawn();
    let (_, page) = get(&app.client(), &app, "/search?q=訓練").await;
    let doc = scraper::Html::parse_document(&page);
    let names: Vec<&str> = doc
        .select(&sel("[role=search]"))
        .map(|f| f.value().attr("aria-label").unwrap_or_default())
        .collect();
    assert_eq!(names, ["サイト内検索", "検索しなおす"]);
}

#[actix_web::test]
async fn the_permissions_matrix_has_no_empty_header() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("taro", false);
    let taro = app.sign_in("taro").await;
    app.room("kazoku").managed_by("taro").create(&admin).await;
    let (status, page) = get(&taro, &app, "/rooms/kazoku/permissions").await;
    assert_eq!(status, 200);
    let doc = scraper::Html::parse_document(&page);
    let headers: Vec<String> = doc
        .select(&sel("table.matrix thead tr > *"))
        .map(|c| {
            assert_eq!(c.value().name(), "th");
            c.text().collect::<String>().trim().to_owned()
        })
        .collect();
    assert_eq!(headers.len(), 6);
    assert_eq!(headers[0], "権限");
    assert!(headers.iter().all(|h| !h.is_empty()), "{headers:?}");
}

#[actix_web::test]
async fn the_answer_page_marks_its_second_language_labels() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("hanako", false);
    let res = app
        .post_form(
            &admin,
            "/safety/new",
            "/safety",
            &[
                ("scope", "all"),
                ("title", "地震 安否確認"),
                ("drill", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("hanako@example.test", "安否確認")
        .await;
    let start = mail.body.find("http://").unwrap();
    let link = mail.body[start..].split_whitespace().next().unwrap();
    let path = &link[link.find("/a/").unwrap()..];
    for (lang, other) in [("ja", "en"), ("en", "ja")] {
        let phone = in_lang(&app, app.client(), lang).await;
        let (status, page) = get(&phone, &app, path).await;
        assert_eq!(status, 200);
        let doc = scraper::Html::parse_document(&page);
        let html = doc.select(&sel("html")).next().unwrap();
        assert_eq!(html.value().attr("lang"), Some(lang));
        let smalls: Vec<Option<&str>> = doc
            .select(&sel("p.drill small, .conditions small"))
            .map(|s| s.value().attr("lang"))
            .collect();
        // 訓練 / Drill, the question, and the three answers.
        assert_eq!(smalls, vec![Some(other); 5], "{lang}");
        let skip = doc.select(&sel("a.skip-link")).next().unwrap();
        assert_eq!(skip.value().attr("href"), Some("#answer"));
        assert_eq!(doc.select(&sel("fieldset#answer")).count(), 1);
    }
}

#[actix_web::test]
async fn a_title_and_tagline_in_the_other_language_are_marked() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let res = app
        .post_form(
            &admin,
            "/admin/settings",
            "/admin/settings",
            &[
                ("title", "結の掲示板"),
                ("tagline", "News from the neighbourhood"),
                ("language", "ja"),
                ("timezone", "Asia/Tokyo"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "settings saved");
    let ja = in_lang(&app, app.client(), "ja").await;
    let (_, page) = get(&ja, &app, "/").await;
    assert_eq!(lang_of(&page, ".site-title"), None);
    assert_eq!(lang_of(&page, ".tagline").as_deref(), Some("en"));
    let en = in_lang(&app, app.client(), "en").await;
    let (_, page) = get(&en, &app, "/").await;
    assert_eq!(lang_of(&page, ".site-title").as_deref(), Some("ja"));
    assert_eq!(lang_of(&page, ".tagline"), None);
}

#[actix_web::test]
async fn a_post_s_language_comes_from_its_text_or_the_editor_and_is_marked_where_it_differs() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let ja_post = app
        .post_in("public", "防災訓練のお知らせ")
        .body("今年も**全員参加**です。")
        .published(&admin)
        .await;
    let en_post = app
        .post_in("public", "Evacuation drill")
        .body("Everyone meets at the **community hall**.")
        .published(&admin)
        .await;
    assert_eq!(stored_lang(&app, ja_post.id), "ja");
    assert_eq!(stored_lang(&app, en_post.id), "en");

    // The front page, a post page, search, and the room's own page of the post.
    let ja = in_lang(&app, app.client(), "ja").await;
    let (_, front) = get(&ja, &app, "/").await;
    let doc = scraper::Html::parse_document(&front);
    let marked: Vec<(String, Option<&str>)> = doc
        .select(&sel(".post-summary h2"))
        .map(|h| (h.text().collect(), h.value().attr("lang")))
        .collect();
    assert_eq!(
        marked,
        [
            ("Evacuation drill".to_owned(), Some("en")),
            ("防災訓練のお知らせ".to_owned(), None)
        ]
    );
    let en_excerpt = doc.select(&sel(".post-summary .excerpt")).next().unwrap();
    assert_eq!(en_excerpt.value().attr("lang"), Some("en"));
    let en_url = doc
        .select(&sel(".post-summary h2 a"))
        .next()
        .unwrap()
        .value()
        .attr("href")
        .unwrap()
        .to_owned();
    let (_, page) = get(&ja, &app, &en_url).await;
    assert_eq!(lang_of(&page, "article.post h1").as_deref(), Some("en"));
    assert_eq!(
        lang_of(&page, "article.post .post-body").as_deref(),
        Some("en")
    );
    let (_, page) = get(&ja, &app, "/search?q=drill").await;
    assert_eq!(lang_of(&page, ".post-summary h2").as_deref(), Some("en"));
    let (_, page) = get(&admin, &app, &en_post.path).await;
    assert_eq!(lang_of(&page, "main h1").as_deref(), Some("en"));
    // Feed readers are told each entry's language.
    let (_, feed) = get(&ja, &app, "/feed.atom").await;
    let entry = &feed[feed.find("Evacuation drill").unwrap() - 40..];
    assert!(entry.contains(r#"xml:lang="en""#), "{entry:.200}");
    // In English, the Japanese post is the marked one.
    let en = in_lang(&app, app.client(), "en").await;
    let (_, front) = get(&en, &app, "/").await;
    let doc = scraper::Html::parse_document(&front);
    let langs: Vec<Option<&str>> = doc
        .select(&sel(".post-summary h2"))
        .map(|h| h.value().attr("lang"))
        .collect();
    assert_eq!(langs, [None, Some("ja")]);

    // The editor's choice wins over the text; a text that does not tell (numbers) is the
    // author's own language, the site's here; an unknown choice is refused.
    let chosen = app
        .post_in("public", "Sayonara")
        .body("Mata ne")
        .lang("ja")
        .published(&admin)
        .await;
    assert_eq!(stored_lang(&app, chosen.id), "ja");
    let (_, editor) = get(&admin, &app, &format!("{}/edit", chosen.path)).await;
    assert!(
        editor.contains(r#"<option value="ja" lang="ja" selected>"#),
        "the choice is kept in the editor"
    );
    let (_, editor) = get(&admin, &app, &format!("{}/edit", en_post.path)).await;
    assert!(
        editor.contains(r#"<option value="" selected>"#),
        "a language the text tells stays told by the text"
    );
    let numbers = app
        .post_in("public", "2026")
        .body("10:00 ✓")
        .published(&admin)
        .await;
    assert_eq!(stored_lang(&app, numbers.id), "ja");
    let res = app
        .post_form(
            &admin,
            "/rooms/public/posts/new",
            "/rooms/public/posts",
            &[
                ("title", "Bonjour"),
                ("body", "Salut"),
                ("lang", "fr"),
                ("action", "submit"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
}

#[actix_web::test]
async fn an_upgrade_gives_the_posts_written_before_a_language_from_their_text() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let ja_post = app
        .post_in("public", "防災訓練のお知らせ")
        .published(&admin)
        .await;
    let en_post = app
        .post_in("public", "Evacuation drill")
        .body("At the community hall (公民館).")
        .published(&admin)
        .await;
    let plain_en = app
        .post_in("public", "Evacuation drill, again")
        .body("Everyone meets at ten.")
        .published(&admin)
        .await;
    let numbers = app
        .post_in("public", "2026")
        .body("10:00 ✓")
        .lang("en")
        .published(&admin)
        .await;
    let mut conn = yui::db::establish(&app.core.config.database_url()).unwrap();
    let reverted = yui::db::migrate::revert_through(&mut conn, POST_LANGUAGE_MIGRATION).unwrap();
    assert!(reverted >= 1);
    assert_eq!(yui::db::migrate::run(&mut conn).unwrap(), reverted);
    assert_eq!(stored_lang(&app, ja_post.id), "ja");
    // Kanji in an English text: Japanese, as `Lang::of_text` says too.
    assert_eq!(stored_lang(&app, en_post.id), "ja");
    assert_eq!(stored_lang(&app, plain_en.id), "en");
    // Neither told by the text: the site's first language (the editor's choice is not kept).
    assert_eq!(stored_lang(&app, numbers.id), "ja");
}
