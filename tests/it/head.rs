//! HEAD everywhere (issue #14 item 4): every GET route of the route table answers HEAD with the
//! GET's status and headers and no body. The walk takes its routes from `web::routes::TABLE`, so a
//! new GET route is checked without being listed here.

use diesel::prelude::*;
use yui::db::schema::{facilities, folders, post_comments};
use yui::web::routes::TABLE;

use crate::support::*;

/// The headers a HEAD must repeat (the date and cookies may differ between two requests).
const COMPARED: &[&str] = &[
    "content-type",
    "content-length",
    "etag",
    "last-modified",
    "accept-ranges",
    "content-disposition",
    "cache-control",
    "location",
];

/// Real objects for a route pattern's placeholders.
struct Samples {
    post: i64,
    file: i64,
    file_name: String,
    folder: i64,
    event: i64,
    facility: i64,
    comment: i64,
    /// Someone with a profile picture (the admin).
    person: i64,
    static_path: String,
}

fn sample_path(pattern: &str, s: &Samples) -> String {
    if pattern.starts_with("/static/") {
        return s.static_path.clone();
    }
    let mut path = pattern
        .replace("{room}", "club")
        .replace("{slug}", "no-such-post")
        .replace("{tag}", "お知らせ")
        .replace("{login}", "admin")
        .replace("{code}", "en")
        .replace("{folder}", &s.folder.to_string())
        .replace("{comment}", &s.comment.to_string())
        .replace("{upload}", "no-such-upload")
        // The Subsonic API: without credentials, its documented failure (stream and cover art
        // answer HEAD in `subsonic.rs`).
        .replace("{method}", "ping.view")
        .replace("{token}", "a-token-that-does-not-exist-here-at-all-xyz");
    path = if pattern.contains("/files/file/") {
        path.replace("{id}", &s.file.to_string())
            .replace("{name}", &s.file_name)
    } else if pattern.contains("/calendar/events/") {
        path.replace("{id}", &s.event.to_string())
    } else if pattern.contains("facilities/") {
        path.replace("{id}", &s.facility.to_string())
    } else if pattern.starts_with("/people/") {
        path.replace("{id}", &s.person.to_string())
    } else {
        path.replace("{id}", &s.post.to_string())
    };
    assert!(!path.contains('{'), "no sample for {pattern}");
    path
}

/// A facility every room may book.
async fn sample_facility(app: &TestApp, admin: &reqwest::Client) -> i64 {
    let res = app
        .post_form(
            admin,
            "/admin/facilities/new",
            "/admin/facilities",
            &[
                ("name", "会議室"),
                ("opens", "08:00"),
                ("closes", "18:00"),
                ("day_mo", "on"),
                ("all_rooms", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.db(|conn| {
        Ok(facilities::table
            .select(facilities::id)
            .order(facilities::id.desc())
            .first(conn)?)
    })
}

async fn arrange(app: &TestApp, admin: &reqwest::Client) -> Samples {
    app.room("club")
        .features(&["blog", "files", "calendar"])
        .managed_by("admin")
        .create(admin)
        .await;
    let post = app.post_in("club", "お知らせ").published(admin).await;
    let file = app
        .file_in("club", "議事録.txt")
        .bytes(b"minutes".to_vec())
        .upload(admin)
        .await;
    let res = app
        .post_form(
            admin,
            "/rooms/club/files",
            "/rooms/club/files/folder/0/mkdir",
            &[("name", "資料")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let folder = app.db(|conn| {
        Ok(folders::table
            .filter(folders::name.eq("資料"))
            .select(folders::id)
            .first(conn)?)
    });
    let res = app
        .post_form(
            admin,
            "/rooms/club/calendar",
            "/rooms/club/calendar/events",
            &[
                ("title", "予定"),
                ("start_date", "2027-01-05"),
                ("start_time", "10:00"),
                ("end_time", "11:00"),
                ("repeat", "never"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let event = location(&res)
        .rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap();
    let facility = sample_facility(app, admin).await;
    let res = app
        .post_form(
            admin,
            &post.path,
            &format!("{}/comments", post.path),
            &[("comment", "了解です")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let comment = app.db(|conn| {
        Ok(post_comments::table
            .select(post_comments::id)
            .order(post_comments::id.desc())
            .first(conn)?)
    });
    // (Before the home page: that page shows and spends the upload's flash message.)
    let res = upload_picture(app, admin, "me.jpg", sample_jpeg(120, 90)).await;
    assert_eq!(res.status(), 303);
    let person = app.db(|conn| {
        Ok(yui::db::schema::users::table
            .filter(yui::db::schema::users::login.eq("admin"))
            .select(yui::db::schema::users::id)
            .first(conn)?)
    });
    let home = admin
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let at = home.find("/static/").unwrap();
    let end = home[at..].find('"').unwrap() + at;
    Samples {
        post: post.id,
        file: file.id,
        file_name: "議事録.txt".into(),
        folder,
        event,
        facility,
        comment,
        person,
        static_path: home[at..end].to_owned(),
    }
}

/// Sends GET and HEAD to every GET route as `c`; returns how many answered 200.
async fn walk(app: &TestApp, c: &reqwest::Client, s: &Samples, who: &str) -> usize {
    let mut ok = 0;
    for (method, pattern) in TABLE {
        if *method != "get" {
            continue;
        }
        let url = app.url(&sample_path(pattern, s));
        let head = c.head(&url).send().await.unwrap();
        let get = c.get(&url).send().await.unwrap();
        assert_eq!(head.status(), get.status(), "{who}: HEAD {pattern}");
        for name in COMPARED {
            assert_eq!(
                head.headers().get(*name),
                get.headers().get(*name),
                "{who}: HEAD {pattern}: {name}"
            );
        }
        let get_len = get.headers().get("content-length").cloned();
        let status = head.status();
        let body = head.bytes().await.unwrap();
        assert!(body.is_empty(), "{who}: HEAD {pattern} sent a body");
        let get_body = get.bytes().await.unwrap();
        if let Some(len) = get_len {
            assert_eq!(
                len.to_str().unwrap(),
                get_body.len().to_string(),
                "{pattern}"
            );
        }
        if status == 200 {
            ok += 1;
        }
    }
    ok
}

#[actix_web::test]
async fn every_get_route_answers_head_alike() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let samples = arrange(&app, &admin).await;
    let ok = walk(&app, &admin, &samples, "admin").await;
    assert!(
        ok >= 40,
        "only {ok} routes answered 200: the samples went stale"
    );
    let visitor = app.client();
    // The first page a visitor opens sets the pre-session cookie (and a page that sets a cookie
    // gets no ETag); from then on both methods see the same visitor.
    visitor.get(app.url("/login")).send().await.unwrap();
    walk(&app, &visitor, &samples, "visitor").await;
}

#[actix_web::test]
async fn head_of_a_file_download_has_its_length_etag_and_ranges() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let s = arrange(&app, &admin).await;
    let url = app.url(&format!(
        "/rooms/club/files/file/{}/{}",
        s.file, s.file_name
    ));
    let head = admin.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let h = head.headers();
    assert_eq!(h.get("content-length").unwrap(), "7");
    assert!(h.get("etag").is_some());
    assert_eq!(h.get("accept-ranges").unwrap(), "bytes");
}

#[actix_web::test]
async fn head_of_a_profile_picture_has_its_type_length_and_etag() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let s = arrange(&app, &admin).await;
    let url = app.url(&format!("/people/{}/picture", s.person));
    let head = admin.head(&url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    let h = head.headers().clone();
    assert_eq!(h.get("content-type").unwrap(), "image/jpeg");
    assert!(h.get("etag").is_some());
    let get = admin.get(&url).send().await.unwrap();
    let len = get.bytes().await.unwrap().len();
    assert_eq!(h.get("content-length").unwrap(), &len.to_string());
    assert!(head.bytes().await.unwrap().is_empty());
}
