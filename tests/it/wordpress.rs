//! `yui import wordpress` (issue #13 item 7), through the real binary against a running site: a
//! WordPress export with Japanese titles and addresses, a draft, a page, comments in every state,
//! two authors and an attachment becomes posts readers find at their addresses with sanitised
//! HTML; a second run imports nothing new; hostile XML (billion laughs, external entities, a
//! giant text node) is refused and writes nothing.

use std::path::{Path, PathBuf};

use diesel::prelude::*;
use yui::db::schema::{
    files, import_sources, outbox, post_comments, post_revisions, room_posts, users,
};

use crate::cli::{run, yui};
use crate::support::*;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/wordpress")
        .join(name)
}

/// Runs `yui import wordpress FILE [ARGS…]` against the test app's site.
fn import(app: &TestApp, file: &Path, args: &[&str]) -> (bool, String) {
    let mut cmd = yui(app.data_dir());
    cmd.arg("--database-url")
        .arg(app.core.config.database_url())
        .args(["import", "wordpress"])
        .arg(file)
        .args(args);
    run(&mut cmd, None)
}

/// Rows per table the import writes to.
fn counts(app: &TestApp) -> [i64; 6] {
    app.db(|conn| {
        Ok([
            room_posts::table.count().get_result(conn)?,
            post_revisions::table.count().get_result(conn)?,
            post_comments::table.count().get_result(conn)?,
            users::table.count().get_result(conn)?,
            files::table.count().get_result(conn)?,
            import_sources::table.count().get_result(conn)?,
        ])
    })
}

async fn get(app: &TestApp, path: &str) -> (u16, String) {
    let res = app.client().get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[actix_web::test]
async fn a_wordpress_export_becomes_the_public_blog_once() {
    let app = TestApp::spawn();
    // A site that is set up (the front page is the blog, not the welcome page).
    app.user("admin").admin().create();
    let uploads = fixture("uploads");
    let uploads = uploads.to_str().unwrap();
    let (ok, out) = import(&app, &fixture("export.xml"), &["--uploads", uploads]);
    assert!(ok, "{out}");
    assert!(out.contains("imported into /rooms/public"), "{out}");
    assert!(
        out.contains("posts        5 imported, 0 already there, 0 skipped"),
        "{out}"
    );
    assert!(out.contains("pages        1 imported"), "{out}");
    assert!(
        out.contains("comments     3 imported, 0 already there, 1 skipped"),
        "{out}"
    );
    assert!(out.contains("authors      2 imported"), "{out}");
    assert!(out.contains("commenters   2 imported"), "{out}");
    assert!(out.contains("attachments  1 imported"), "{out}");
    assert!(out.contains("1 × comment marked \"spam\""), "{out}");
    assert!(out.contains("1 × item of type \"nav_menu_item\""), "{out}");
    assert!(out.contains("1 × private post: kept as a draft"), "{out}");

    // The Japanese address (%e3%81%af%e3%81%98%e3%82%81%e3%81%a6 = はじめて) is kept, the date
    // too, and the HTML is the sanitiser's: no script, no handler, no javascript: link.
    let (status, page) = get(&app, "/posts/%E3%81%AF%E3%81%98%E3%82%81%E3%81%A6").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("はじめての防災訓練"), "{page}");
    assert!(
        page.contains("参加者は<strong>42名</strong>でした。"),
        "{page}"
    );
    assert!(page.contains("<p>二行目のない段落<br>"), "{page}");
    assert!(page.contains("2024"), "the WordPress date is shown: {page}");
    for bad in ["alert(", "onclick", "javascript:", "steal()"] {
        assert!(!page.contains(bad), "{bad} survived: {page}");
    }
    // The resized copy's link leads to the stored attachment, which serves the same bytes.
    let file_id: i64 = app.db(|conn| {
        Ok(files::table
            .filter(files::name.eq("photo.png"))
            .select(files::id)
            .first(conn)?)
    });
    let src = format!("/rooms/public/files/file/{file_id}/photo.png");
    assert!(page.contains(&format!(" src=\"{src}\"")), "{page}");
    assert!(!page.contains("wp-content/uploads"), "{page}");
    let res = app.client().get(app.url(&src)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.bytes().await.unwrap().as_ref(),
        std::fs::read(fixture("uploads/2024/05/photo.png"))
            .unwrap()
            .as_slice()
    );
    // Comments keep their approval: the approved ones show, the waiting one and spam do not.
    assert!(page.contains("お疲れさまでした！"), "{page}");
    assert!(page.contains("写真ありがとうございます。"), "{page}");
    assert!(!page.contains("承認待ちのコメントです"), "{page}");
    assert!(!page.contains("spam-marker"), "{page}");
    let statuses: Vec<String> = app.db(|conn| {
        Ok(post_comments::table
            .order(post_comments::created_at)
            .select(post_comments::status)
            .load(conn)?)
    });
    assert_eq!(statuses, ["published", "published", "pending"]);
    // Categories and tags are the post's tags (Uncategorized left out).
    let (status, tag_page) = get(&app, "/tags/%E9%98%B2%E7%81%BD").await;
    assert_eq!(status, 200);
    assert!(tag_page.contains("はじめての防災訓練"), "{tag_page}");

    // Search finds imported text (a word from the body, not the title), never the draft's.
    let (_, found) = get(&app, "/search?q=%E5%8F%82%E5%8A%A0%E8%80%85").await;
    assert!(found.contains("はじめての防災訓練"), "{found}");
    let (_, found) = get(&app, "/search?q=draft-marker").await;
    assert!(!found.contains("下書きの記事"), "{found}");

    // The page is a post at its own address; the post that wanted the same address got -2.
    let (status, about) = get(&app, "/posts/about").await;
    assert_eq!(status, 200);
    assert!(
        about.contains("page-marker") && about.contains("夏祭り &amp; 餅つき"),
        "{about}"
    );
    let (status, second) = get(&app, "/posts/about-2").await;
    assert_eq!(status, 200);
    assert!(second.contains("collision-marker"), "{second}");
    // The draft stays a draft: not at its address, not on the front page.
    let (status, _) = get(
        &app,
        "/posts/%E4%B8%8B%E6%9B%B8%E3%81%8D%E3%81%AE%E8%A8%98%E4%BA%8B",
    )
    .await;
    assert_eq!(status, 404);
    let (_, front) = get(&app, "/").await;
    assert!(front.contains("はじめての防災訓練"), "{front}");
    assert!(
        !front.contains("draft-marker") && !front.contains("下書きの記事"),
        "{front}"
    );
    let draft_status: String = app.db(|conn| {
        Ok(post_revisions::table
            .filter(post_revisions::title.eq("下書きの記事"))
            .select(post_revisions::status)
            .first(conn)?)
    });
    assert_eq!(draft_status, "draft");
    // Pending stays waiting for approval, private becomes a draft: neither is public.
    let mut states: Vec<(String, String, Option<i64>)> = app.db(|conn| {
        Ok(post_revisions::table
            .inner_join(room_posts::table)
            .filter(post_revisions::title.eq_any(["承認待ちの記事", "役員だけの記事"]))
            .select((
                post_revisions::title,
                post_revisions::status,
                room_posts::live_revision_id,
            ))
            .load(conn)?)
    });
    states.sort();
    assert_eq!(
        states,
        [
            ("役員だけの記事".to_owned(), "draft".to_owned(), None),
            ("承認待ちの記事".to_owned(), "pending".to_owned(), None),
        ]
    );
    for path in ["/posts/pending-post", "/posts/officers-only"] {
        assert_eq!(get(&app, path).await.0, 404, "{path}");
    }
    assert!(!front.contains("pending-marker") && !front.contains("private-marker"));

    // Authors are disabled members to invite later, their login and name kept.
    let authors: Vec<(String, String, bool)> = app.db(|conn| {
        Ok(users::table
            .filter(users::login.eq_any(["taro", "hanako.w"]))
            .order(users::login)
            .select((users::login, users::display_name, users::disabled))
            .load(conn)?)
    });
    assert_eq!(
        authors,
        [
            ("hanako.w".to_owned(), "Hanako Watanabe".to_owned(), true),
            ("taro".to_owned(), "山田 太郎".to_owned(), true)
        ]
    );
    // Nobody is mailed about a post from 2024: nothing queued, every post's news already claimed
    // (the jobs loop announces only unclaimed ones).
    let (queued, unclaimed): (i64, i64) = app.db(|conn| {
        Ok((
            outbox::table.count().get_result(conn)?,
            room_posts::table
                .filter(room_posts::notified_at.is_null())
                .filter(room_posts::published_at.is_not_null())
                .count()
                .get_result(conn)?,
        ))
    });
    assert_eq!((queued, unclaimed), (0, 0));

    // The second run duplicates nothing.
    let before = counts(&app);
    let (ok, out) = import(&app, &fixture("export.xml"), &["--uploads", uploads]);
    assert!(ok, "{out}");
    assert!(
        out.contains("posts        0 imported, 5 already there"),
        "{out}"
    );
    assert!(
        out.contains("comments     0 imported, 3 already there"),
        "{out}"
    );
    assert!(
        out.contains("attachments  0 imported, 1 already there"),
        "{out}"
    );
    assert_eq!(counts(&app), before);
}

#[actix_web::test]
async fn hostile_xml_is_refused_and_nothing_is_written() {
    let app = TestApp::spawn();
    let before = counts(&app);
    for (file, expect) in [
        ("billion-laughs.xml", "DOCTYPE"),
        ("external-entity.xml", "DOCTYPE"),
    ] {
        let (ok, out) = import(&app, &fixture(file), &[]);
        assert!(!ok, "{file} was accepted: {out}");
        assert!(
            out.contains(expect) && out.contains("nothing was imported"),
            "{out}"
        );
        assert!(!out.contains("root:"), "a local file was read: {out}");
        assert_eq!(counts(&app), before, "{file} wrote something");
    }
    // A text node of 17 MiB (over the 16 MiB limit), in an otherwise good export.
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.xml");
    let good = std::fs::read_to_string(fixture("export.xml")).unwrap();
    let huge = good.replacen(
        "まだ書きかけです。draft-marker",
        &"あ".repeat(17 * 1024 * 1024 / 3 + 1),
        1,
    );
    std::fs::write(&big, huge).unwrap();
    let (ok, out) = import(&app, &big, &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("larger than"), "{out}");
    assert_eq!(counts(&app), before);
    // Broken halfway (an unclosed element after good items): nothing half-imported.
    let broken = dir.path().join("broken.xml");
    std::fs::write(
        &broken,
        good.replace("</channel>", "<item><title>x</title>"),
    )
    .unwrap();
    let (ok, out) = import(&app, &broken, &[]);
    assert!(!ok, "{out}");
    assert!(out.contains("not well-formed"), "{out}");
    assert_eq!(counts(&app), before);
}

#[actix_web::test]
async fn an_export_goes_into_a_room_without_tags_or_addresses() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.room("town").features(&["blog"]).create(&admin).await;
    let uploads = fixture("uploads");
    let (ok, out) = import(
        &app,
        &fixture("export.xml"),
        &["--room", "town", "--uploads", uploads.to_str().unwrap()],
    );
    assert!(ok, "{out}");
    assert!(out.contains("imported into /rooms/town"), "{out}");
    assert!(out.contains("posts        5 imported"), "{out}");
    assert!(
        out.contains("only the public space's posts have tags"),
        "{out}"
    );
    assert!(out.contains("the room's cabinet is turned off"), "{out}");
    let (id, slug): (i64, Option<String>) = app.db(|conn| {
        Ok(room_posts::table
            .inner_join(post_revisions::table.on(post_revisions::post_id.eq(room_posts::id)))
            .filter(post_revisions::title.eq("はじめての防災訓練"))
            .select((room_posts::id, room_posts::slug))
            .first(conn)?)
    });
    assert_eq!(slug, None);
    let res = admin
        .get(app.url(&format!("/rooms/town/posts/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("参加者は<strong>42名</strong>でした。"),
        "{page}"
    );
    assert!(!page.contains("alert("), "{page}");
    // Not in the public blog.
    let (status, _) = get(&app, "/posts/%E3%81%AF%E3%81%98%E3%82%81%E3%81%A6").await;
    assert_eq!(status, 404);
    let (ok, out) = import(&app, &fixture("export.xml"), &["--room", "nowhere"]);
    assert!(!ok && out.contains("no room \"nowhere\""), "{out}");
}

#[actix_web::test]
async fn two_imports_at_once_bring_everything_in_once() {
    let app = TestApp::spawn();
    let uploads = fixture("uploads");
    let spawn = || {
        let mut cmd = yui(app.data_dir());
        cmd.arg("--database-url")
            .arg(app.core.config.database_url())
            .args(["import", "wordpress"])
            .arg(fixture("export.xml"))
            .arg("--uploads")
            .arg(&uploads)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        cmd.spawn().unwrap()
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let [posts, _, comments, _, files, _] = counts(&app);
    assert_eq!((posts, comments, files), (6, 3, 1));
    let authors: i64 = app.db(|conn| {
        Ok(users::table
            .filter(users::login.eq_any(["taro", "hanako.w", "taro-2", "hanako.w-2"]))
            .count()
            .get_result(conn)?)
    });
    assert_eq!(authors, 2);
}
