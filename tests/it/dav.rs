//! The WebDAV drive at `/dav/` (issue #14): Basic auth with an app password only, one folder per
//! readable room, the cabinet inside; PROPFIND, GET with Range, PUT into the content-addressed
//! store with the quota (507, nothing left behind), MKCOL, DELETE to the trash, a guest's
//! read-only mount, bad paths and foreign destinations refused; MOVE and COPY within a room and
//! between rooms (both rooms' rights, the target's quota, shared blobs, the source to its trash);
//! the quota properties on every folder; two real clients, rclone and cadaver.

use diesel::prelude::*;
use reqwest::Method;
use yui::db::schema::files;

use crate::app_passwords::make_app_password;
use crate::files::{Cabinet, MB, cabinet_with, files_below, files_of};
use crate::support::*;

fn m(name: &str) -> Method {
    Method::from_bytes(name.as_bytes()).unwrap()
}

/// A WebDAV client of `login` with `secret`.
struct Dav<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    login: String,
    secret: String,
}

impl Dav<'_> {
    fn req(&self, method: &str, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(m(method), self.app.url(path))
            .basic_auth(&self.login, Some(&self.secret))
    }

    async fn propfind(&self, path: &str, depth: &str) -> (u16, String) {
        let res = self
            .req("PROPFIND", path)
            .header("Depth", depth)
            .send()
            .await
            .unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    async fn put(&self, path: &str, body: Vec<u8>) -> u16 {
        self.req("PUT", path)
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }
}

async fn drive<'a>(app: &'a TestApp, browser: &reqwest::Client, login: &str) -> Dav<'a> {
    let secret = make_app_password(app, browser, "drive").await;
    Dav {
        app,
        http: reqwest::Client::new(),
        login: login.to_owned(),
        secret,
    }
}

async fn hanako_drive(c: &Cabinet) -> Dav<'_> {
    drive(&c.app, &c.hanako, "hanako").await
}

/// `/dav/cab/` encoded as a client sends it.
const ROOM: &str = "/dav/cab/";

#[actix_web::test]
async fn dav_lists_readable_rooms_and_hides_closed_ones() {
    let c = cabinet_with(Options::default(), 1).await;
    c.app
        .room("secret")
        .closed()
        .features(&["files"])
        .managed_by("admin")
        .create(&c.admin)
        .await;
    let dav = hanako_drive(&c).await;
    let (status, body) = dav.propfind("/dav/", "1").await;
    assert_eq!(status, 207, "{body}");
    assert!(body.contains("/dav/cab/"), "{body}");
    assert!(
        !body.contains("secret"),
        "a closed room one is not in: {body}"
    );
    let (status, _) = dav.propfind("/dav/secret/", "0").await;
    assert_eq!(status, 404, "does not exist for her");
    let (status, _) = dav.propfind("/dav/", "infinity").await;
    assert!(
        [403, 501].contains(&status),
        "infinity refused, got {status}"
    );
}

#[actix_web::test]
async fn dav_put_then_propfind_get_and_range() {
    let c = cabinet_with(Options::default(), 1).await;
    let dav = hanako_drive(&c).await;
    let bytes = b"0123456789 minutes of the meeting".to_vec();
    let path = "/dav/cab/%E8%AD%B0%E4%BA%8B%E9%8C%B2.txt"; // 議事録.txt
    assert_eq!(dav.put(path, bytes.clone()).await, 201);
    let listed = files_of(&c.app, c.room_id);
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].1, "議事録.txt");
    let (status, body) = dav.propfind(ROOM, "1").await;
    assert_eq!(status, 207);
    assert!(body.contains("%E8%AD%B0%E4%BA%8B%E9%8C%B2.txt"), "{body}");
    // RFC 4331: the room's free space (1 MB quota minus the file), asked for by name.
    let quota = dav
        .req("PROPFIND", ROOM)
        .header("Depth", "0")
        .body(
            r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>"#,
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let free = 1024 * 1024 - bytes.len();
    assert!(
        quota.contains(&format!("quota-available-bytes>{free}<")),
        "{quota}"
    );
    let got = dav.req("GET", path).send().await.unwrap();
    assert_eq!(got.status(), 200);
    assert_eq!(got.bytes().await.unwrap().to_vec(), bytes);
    let part = dav
        .req("GET", path)
        .header("Range", "bytes=2-5")
        .send()
        .await
        .unwrap();
    assert_eq!(part.status(), 206);
    assert_eq!(part.bytes().await.unwrap().as_ref(), b"2345");
    let head = dav.req("HEAD", path).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        head.headers().get("content-length").unwrap(),
        &bytes.len().to_string()
    );
    // The same file on the web.
    let web = c
        .hanako
        .get(
            c.app
                .url(&format!("/rooms/cab/files/file/{}/x", listed[0].0)),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(web.bytes().await.unwrap().to_vec(), bytes);
    // Replacing: the old one goes to the trash.
    assert!([201, 204].contains(&dav.put(path, b"v2".to_vec()).await));
    let now = files_of(&c.app, c.room_id);
    assert_eq!(now.len(), 1);
    assert_ne!(now[0].0, listed[0].0);
    let trashed: i64 = c.app.db(|conn| {
        Ok(files::table
            .filter(files::deleted_at.is_not_null())
            .count()
            .get_result(conn)?)
    });
    assert_eq!(trashed, 1);
}

#[actix_web::test]
async fn dav_put_beyond_the_quota_is_507_and_leaves_nothing() {
    let c = cabinet_with(Options::default(), 1).await;
    let dav = hanako_drive(&c).await;
    // Declared too large.
    assert_eq!(dav.put("/dav/cab/big.bin", vec![7u8; 2 * MB]).await, 507);
    // Streamed without a length: refused once the bytes pass the quota.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..4).map(|_| Ok(vec![1u8; MB / 2 + 1])).collect();
    let res = dav
        .req("PUT", "/dav/cab/stream.bin")
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 507);
    assert!(files_of(&c.app, c.room_id).is_empty(), "no partial file");
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let tmp: Vec<_> = files_below(&c.app.data_dir().join("tmp"));
    assert!(tmp.is_empty(), "nothing staged is left: {tmp:?}");
}

#[actix_web::test]
async fn dav_mkcol_and_delete_go_through_the_cabinet() {
    let c = cabinet_with(Options::default(), 1).await;
    let dav = hanako_drive(&c).await;
    let status = dav
        .req("MKCOL", "/dav/cab/%E8%B3%87%E6%96%99")
        .send()
        .await
        .unwrap();
    assert_eq!(status.status(), 201);
    assert_eq!(
        dav.put("/dav/cab/%E8%B3%87%E6%96%99/a.txt", b"a".to_vec())
            .await,
        201
    );
    let (status, body) = dav.propfind("/dav/cab/%E8%B3%87%E6%96%99/", "1").await;
    assert_eq!(status, 207);
    assert!(body.contains("a.txt"), "{body}");
    let del = dav
        .req("DELETE", "/dav/cab/%E8%B3%87%E6%96%99/a.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(del.status(), 204);
    assert!(files_of(&c.app, c.room_id).is_empty());
    let trashed: i64 = c.app.db(|conn| {
        Ok(files::table
            .filter(files::deleted_at.is_not_null())
            .count()
            .get_result(conn)?)
    });
    assert_eq!(trashed, 1, "restorable from the web's trash");
}

#[actix_web::test]
async fn a_guests_mount_is_read_only() {
    let c = cabinet_with(Options::default(), 1).await;
    c.app.user("kyaku").create();
    c.app.add_member(&c.admin, "cab", "kyaku", "guest").await;
    let hanako = hanako_drive(&c).await;
    assert_eq!(hanako.put("/dav/cab/mine.txt", b"x".to_vec()).await, 201);
    let browser = c.app.sign_in("kyaku").await;
    let guest = drive(&c.app, &browser, "kyaku").await;
    let (status, body) = guest.propfind(ROOM, "1").await;
    assert_eq!(status, 207);
    assert!(body.contains("mine.txt"));
    let got = guest.req("GET", "/dav/cab/mine.txt").send().await.unwrap();
    assert_eq!(got.status(), 200);
    for (method, path) in [
        ("PUT", "/dav/cab/guest.txt"),
        ("MKCOL", "/dav/cab/guest"),
        ("DELETE", "/dav/cab/mine.txt"),
    ] {
        let mut req = guest.req(method, path);
        if method == "PUT" {
            req = req.body("x");
        }
        let res = req.send().await.unwrap();
        assert!(
            [403, 404].contains(&res.status().as_u16()),
            "{method} {path}: {}",
            res.status()
        );
    }
    assert_eq!(files_of(&c.app, c.room_id).len(), 1);
}

#[actix_web::test]
async fn only_an_app_password_opens_the_drive_never_a_cookie_or_the_login_password() {
    let c = cabinet_with(Options::default(), 1).await;
    // A logged-in browser, no Basic auth: its session cookie opens nothing.
    let res = c
        .hanako
        .request(m("PROPFIND"), c.app.url(ROOM))
        .header("Depth", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(res.headers().get("www-authenticate").is_some());
    let res = c
        .hanako
        .put(c.app.url("/dav/cab/by-cookie.txt"))
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401, "no CSRF token needed, and still refused");
    // The login password.
    let res = reqwest::Client::new()
        .request(m("PROPFIND"), c.app.url(ROOM))
        .basic_auth("hanako", Some(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // A live app password works; revoked, it is refused at once.
    let dav = hanako_drive(&c).await;
    assert_eq!(dav.propfind(ROOM, "0").await.0, 207);
    let id: i64 = c.app.db(|conn| {
        use yui::db::schema::app_passwords;
        Ok(app_passwords::table.select(app_passwords::id).first(conn)?)
    });
    let path = format!("/me/app-passwords/{id}/revoke");
    assert_eq!(
        c.app.post_form(&c.hanako, "/me", &path, &[]).await.status(),
        303
    );
    assert_eq!(dav.propfind(ROOM, "0").await.0, 401);
    assert!(files_of(&c.app, c.room_id).is_empty());
}

/// Sends a request with its path exactly as written (an HTTP client library would resolve `..`).
async fn raw(app: &TestApp, dav: &Dav<'_>, method: &str, path: &str) -> u16 {
    use base64::Engine;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let host = app.base.trim_start_matches("http://");
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let auth =
        base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", dav.login, dav.secret));
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Basic {auth}\r\n\
         Depth: 0\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8_lossy(&out);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[actix_web::test]
async fn bad_paths_and_foreign_destinations_are_refused() {
    let c = cabinet_with(Options::default(), 1).await;
    let dav = hanako_drive(&c).await;
    assert_eq!(dav.put("/dav/cab/ok.txt", b"ok".to_vec()).await, 201);
    let long = format!("/dav/cab/{}", "a".repeat(2000));
    for path in [
        "/dav/cab/../../etc/passwd",
        "/dav/cab/%2e%2e/%2e%2e/etc/passwd",
        "/dav/cab/./ok.txt",
        "/dav/cab/a%2fb.txt",
        "/dav/cab/a%5cb.txt",
        "/dav/cab/nul%00.txt",
        long.as_str(),
    ] {
        for method in ["PUT", "PROPFIND", "DELETE"] {
            let status = raw(&c.app, &dav, method, path).await;
            assert!([400, 404].contains(&status), "{method} {path}: {status}");
        }
    }
    let res = dav
        .req("COPY", "/dav/cab/ok.txt")
        .header("Destination", "http://evil.example/dav/cab/copy.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502, "another host");
    assert_eq!(files_of(&c.app, c.room_id).len(), 1, "nothing else written");
}

#[actix_web::test]
async fn dav_move_and_copy_within_a_room() {
    let c = cabinet_with(Options::default(), 1).await;
    let dav = hanako_drive(&c).await;
    assert_eq!(dav.put("/dav/cab/a.txt", b"aaa".to_vec()).await, 201);
    let mk = dav
        .req("MKCOL", "/dav/cab/%E8%B3%87%E6%96%99")
        .send()
        .await
        .unwrap();
    assert_eq!(mk.status(), 201);
    let dest = |p: &str| c.app.url(p);
    let mv = dav
        .req("MOVE", "/dav/cab/a.txt")
        .header("Destination", dest("/dav/cab/%E8%B3%87%E6%96%99/b.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(mv.status(), 201);
    let cp = dav
        .req("COPY", "/dav/cab/%E8%B3%87%E6%96%99/b.txt")
        .header("Destination", dest("/dav/cab/c.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(cp.status(), 201);
    let mut names: Vec<String> = files_of(&c.app, c.room_id)
        .into_iter()
        .map(|f| f.1)
        .collect();
    names.sort();
    assert_eq!(names, ["b.txt", "c.txt"]);
    let got = dav.req("GET", "/dav/cab/c.txt").send().await.unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"aaa");
}

/// A second closed room with files where hanako has `role`, quota `quota_mb`; its id.
async fn second_room(c: &Cabinet, slug: &str, role: &str, quota_mb: u32) -> i64 {
    c.app
        .room(slug)
        .closed()
        .quota_mb(quota_mb)
        .features(&["files"])
        .managed_by("admin")
        .member("hanako", role)
        .create(&c.admin)
        .await
        .id
}

/// Sends MOVE or COPY of `from` to `to` (paths of this app) and answers the status.
async fn transfer(dav: &Dav<'_>, method: &str, from: &str, to: &str, overwrite: bool) -> u16 {
    dav.req(method, from)
        .header("Destination", dav.app.url(to))
        .header("Overwrite", if overwrite { "T" } else { "F" })
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// Rows of `blobs` and files under `data/blobs/`: a copy that shares the blobs adds neither.
fn blob_count(app: &TestApp) -> (i64, usize) {
    use yui::db::schema::blobs;
    let rows: i64 = app.db(|conn| Ok(blobs::table.count().get_result(conn)?));
    (rows, files_below(&app.data_dir().join("blobs")).len())
}

/// `(name, deleted_by)` of the room's folders in the trash.
fn trashed_folders(app: &TestApp, room_id: i64) -> Vec<(String, Option<i64>)> {
    use yui::db::schema::folders;
    app.db(|conn| {
        Ok(folders::table
            .filter(folders::room_id.eq(room_id))
            .filter(folders::deleted_at.is_not_null())
            .select((folders::name, folders::deleted_by))
            .load(conn)?)
    })
}

/// 資料 (percent-encoded).
const SHIRYO: &str = "%E8%B3%87%E6%96%99";

#[actix_web::test]
async fn dav_moves_and_copies_between_rooms_sharing_the_blobs() {
    let c = cabinet_with(Options::default(), 1).await;
    let two = second_room(&c, "two", "member", 1).await;
    let dav = hanako_drive(&c).await;
    assert_eq!(dav.put("/dav/cab/a.txt", b"aaa".to_vec()).await, 201);
    let mk = dav.req("MKCOL", &format!("/dav/cab/{SHIRYO}")).send().await;
    assert_eq!(mk.unwrap().status(), 201);
    let inner = format!("/dav/cab/{SHIRYO}/b.txt");
    assert_eq!(dav.put(&inner, b"bbbb".to_vec()).await, 201);
    let blobs = blob_count(&c.app);

    // COPY a file: both rooms have it, one blob.
    let status = transfer(&dav, "COPY", "/dav/cab/a.txt", "/dav/two/a2.txt", false).await;
    assert_eq!(status, 201);
    assert_eq!(files_of(&c.app, c.room_id).len(), 2, "the source stays");
    let copied = files_of(&c.app, two);
    assert_eq!(copied.len(), 1);
    assert_eq!(copied[0].1, "a2.txt");
    let got = dav.req("GET", "/dav/two/a2.txt").send().await.unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"aaa");

    // MOVE a folder: it is in the target with its file; the source is in its room's trash.
    let status = transfer(
        &dav,
        "MOVE",
        &format!("/dav/cab/{SHIRYO}/"),
        &format!("/dav/two/{SHIRYO}/"),
        false,
    )
    .await;
    assert_eq!(status, 201);
    let got = dav
        .req("GET", &format!("/dav/two/{SHIRYO}/b.txt"))
        .send()
        .await
        .unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"bbbb");
    let hanako_id: i64 = c.app.db(|conn| {
        use yui::db::schema::users;
        Ok(users::table
            .filter(users::login.eq("hanako"))
            .select(users::id)
            .first(conn)?)
    });
    assert_eq!(
        trashed_folders(&c.app, c.room_id),
        [("資料".to_owned(), Some(hanako_id))],
        "moved out into its room's trash"
    );
    let (status, _) = dav.propfind(&format!("/dav/cab/{SHIRYO}/"), "0").await;
    assert_eq!(status, 404, "gone from the source");
    assert_eq!(blob_count(&c.app), blobs, "no byte stored twice");
    // The source room restores it from the web.
    let trash = c
        .hanako
        .get(c.app.url("/rooms/cab/files/trash"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(trash.contains("資料"), "{trash}");
    let id: i64 = c.app.db(|conn| {
        use yui::db::schema::folders;
        Ok(folders::table
            .filter(folders::room_id.eq(c.room_id))
            .filter(folders::deleted_at.is_not_null())
            .select(folders::id)
            .first(conn)?)
    });
    let path = format!("/rooms/cab/files/trash/folder/{id}/restore");
    let res = c
        .app
        .post_form(&c.hanako, "/rooms/cab/files/trash", &path, &[])
        .await;
    assert_eq!(res.status(), 303);
    let got = dav.req("GET", &inner).send().await.unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"bbbb");
}

#[actix_web::test]
async fn dav_transfer_beyond_the_target_rooms_quota_is_507_and_changes_nothing() {
    let c = cabinet_with(Options::default(), 10).await;
    let small = second_room(&c, "small", "member", 1).await;
    let dav = hanako_drive(&c).await;
    let kb = |n: usize| vec![b'x'; n * 1024];
    assert_eq!(dav.put("/dav/small/keep.bin", kb(400)).await, 201);
    assert_eq!(dav.put("/dav/cab/big.bin", kb(700)).await, 201);
    let mk = dav.req("MKCOL", &format!("/dav/cab/{SHIRYO}")).send().await;
    assert_eq!(mk.unwrap().status(), 201);
    // Each fits alone, both do not: a folder is copied whole or not at all.
    for name in ["1.bin", "2.bin"] {
        let path = format!("/dav/cab/{SHIRYO}/{name}");
        assert_eq!(dav.put(&path, kb(350)).await, 201);
    }
    let before_cab = files_of(&c.app, c.room_id);
    let folders_in_small = || -> i64 {
        use yui::db::schema::folders;
        c.app.db(|conn| {
            Ok(folders::table
                .filter(folders::room_id.eq(small))
                .filter(folders::parent_id.is_not_null())
                .count()
                .get_result(conn)?)
        })
    };
    for (method, from, to, overwrite) in [
        ("MOVE", "/dav/cab/big.bin", "/dav/small/big.bin", false),
        ("COPY", "/dav/cab/big.bin", "/dav/small/big.bin", false),
        // Overwriting: the file there is not even put in the trash.
        ("COPY", "/dav/cab/big.bin", "/dav/small/keep.bin", true),
        ("MOVE", "/dav/cab/big.bin", "/dav/small/keep.bin", true),
        (
            "COPY",
            &format!("/dav/cab/{SHIRYO}/"),
            &format!("/dav/small/{SHIRYO}/"),
            false,
        ),
        (
            "MOVE",
            &format!("/dav/cab/{SHIRYO}/"),
            &format!("/dav/small/{SHIRYO}/"),
            false,
        ),
    ] {
        let status = transfer(&dav, method, from, to, overwrite).await;
        assert_eq!(status, 507, "{method} {from} -> {to}");
        let in_small: Vec<String> = files_of(&c.app, small).into_iter().map(|f| f.1).collect();
        assert_eq!(in_small, ["keep.bin"], "{method} {from} -> {to}");
        assert_eq!(folders_in_small(), 0, "{method} {from} -> {to}");
        assert_eq!(files_of(&c.app, c.room_id), before_cab, "{method} {from}");
        assert!(trashed_folders(&c.app, c.room_id).is_empty());
    }
    let trashed: i64 = c.app.db(|conn| {
        Ok(files::table
            .filter(files::deleted_at.is_not_null())
            .count()
            .get_result(conn)?)
    });
    assert_eq!(trashed, 0, "nothing went to any trash");
    // What fits goes.
    let status = transfer(
        &dav,
        "COPY",
        &format!("/dav/cab/{SHIRYO}/1.bin"),
        "/dav/small/1.bin",
        false,
    )
    .await;
    assert_eq!(status, 201);
}

#[actix_web::test]
async fn dav_transfer_between_rooms_needs_the_rights_of_both() {
    let c = cabinet_with(Options::default(), 1).await;
    let two = second_room(&c, "two", "member", 1).await;
    let ro = second_room(&c, "ro", "guest", 1).await;
    let secret = c
        .app
        .room("secret")
        .closed()
        .features(&["files"])
        .managed_by("admin")
        .create(&c.admin)
        .await
        .id;
    let admin = drive(&c.app, &c.admin, "admin").await;
    for path in [
        "/dav/ro/theirs.txt",
        "/dav/secret/hidden.txt",
        "/dav/cab/admins.txt",
    ] {
        assert_eq!(admin.put(path, b"theirs".to_vec()).await, 201, "{path}");
    }
    let dav = hanako_drive(&c).await;
    assert_eq!(dav.put("/dav/cab/mine.txt", b"mine".to_vec()).await, 201);
    let counts = || [c.room_id, two, ro, secret].map(|room| files_of(&c.app, room).len());
    let before = counts();
    let cases: [(&str, &str, &str, &[u16]); 10] = [
        // Into a room where she is a guest: readable, not writable.
        ("COPY", "/dav/cab/mine.txt", "/dav/ro/mine.txt", &[403]),
        ("MOVE", "/dav/cab/mine.txt", "/dav/ro/mine.txt", &[403]),
        // Out of it: a move takes it out of a room she may not change.
        ("MOVE", "/dav/ro/theirs.txt", "/dav/cab/theirs.txt", &[403]),
        // Someone else's file, in a room where a member changes only her own.
        ("MOVE", "/dav/cab/admins.txt", "/dav/two/admins.txt", &[403]),
        // A closed room she is not in answers as a room that does not exist.
        ("COPY", "/dav/cab/mine.txt", "/dav/secret/mine.txt", &[409]),
        ("MOVE", "/dav/cab/mine.txt", "/dav/secret/mine.txt", &[409]),
        ("MOVE", "/dav/cab/mine.txt", "/dav/nosuch/mine.txt", &[409]),
        (
            "COPY",
            "/dav/secret/hidden.txt",
            "/dav/cab/hidden.txt",
            &[404],
        ),
        (
            "MOVE",
            "/dav/secret/hidden.txt",
            "/dav/cab/hidden.txt",
            &[404],
        ),
        (
            "MOVE",
            "/dav/nosuch/hidden.txt",
            "/dav/cab/hidden.txt",
            &[404],
        ),
    ];
    for (method, from, to, want) in cases {
        let status = transfer(&dav, method, from, to, false).await;
        assert!(want.contains(&status), "{method} {from} -> {to}: {status}");
        assert_eq!(counts(), before, "{method} {from} -> {to} changed nothing");
    }
    // Another host, even naming a room she may write.
    let res = dav
        .req("MOVE", "/dav/cab/mine.txt")
        .header("Destination", "http://evil.example/dav/two/mine.txt")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 502);
    assert_eq!(counts(), before);
    // Reading is enough to copy out; her own file she may move.
    assert_eq!(
        transfer(
            &dav,
            "COPY",
            "/dav/ro/theirs.txt",
            "/dav/cab/theirs.txt",
            false
        )
        .await,
        201
    );
    assert_eq!(
        transfer(
            &dav,
            "COPY",
            "/dav/cab/admins.txt",
            "/dav/two/admins.txt",
            false
        )
        .await,
        201
    );
    assert_eq!(
        transfer(
            &dav,
            "MOVE",
            "/dav/cab/mine.txt",
            "/dav/two/mine.txt",
            false
        )
        .await,
        201
    );
    let mut in_two: Vec<String> = files_of(&c.app, two).into_iter().map(|f| f.1).collect();
    in_two.sort();
    assert_eq!(in_two, ["admins.txt", "mine.txt"]);
    assert_eq!(
        files_of(&c.app, ro).len(),
        1,
        "the guest's room kept its file"
    );
}

#[actix_web::test]
async fn every_collection_of_a_room_answers_its_quota() {
    let c = cabinet_with(Options::default(), 1).await;
    let dav = hanako_drive(&c).await;
    let mk = dav.req("MKCOL", &format!("/dav/cab/{SHIRYO}")).send().await;
    assert_eq!(mk.unwrap().status(), 201);
    let mk = dav
        .req("MKCOL", &format!("/dav/cab/{SHIRYO}/2026"))
        .send()
        .await;
    assert_eq!(mk.unwrap().status(), 201);
    assert_eq!(dav.put("/dav/cab/a.bin", vec![1u8; 1000]).await, 201);
    let inner = format!("/dav/cab/{SHIRYO}/2026/b.bin");
    assert_eq!(dav.put(&inner, vec![2u8; 24]).await, 201);
    let ask = |path: String, depth: &'static str| {
        dav.req("PROPFIND", &path)
            .header("Depth", depth)
            .body(
                r#"<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:quota-available-bytes/><D:quota-used-bytes/></D:prop></D:propfind>"#,
            )
            .send()
    };
    let (used, free) = (1024, 1024 * 1024 - 1024);
    for path in [
        ROOM.to_owned(),
        format!("/dav/cab/{SHIRYO}/"),
        format!("/dav/cab/{SHIRYO}/2026/"),
    ] {
        let res = ask(path.clone(), "0").await.unwrap();
        assert_eq!(res.status(), 207);
        let body = res.text().await.unwrap();
        assert!(
            body.contains(&format!("quota-used-bytes>{used}<")),
            "{path}: {body}"
        );
        assert!(
            body.contains(&format!("quota-available-bytes>{free}<")),
            "{path}: {body}"
        );
    }
    // Depth 1: the folder and its sub-folder both carry the room's numbers.
    let body = ask(format!("/dav/cab/{SHIRYO}/"), "1")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        body.matches(&format!("quota-available-bytes>{free}<"))
            .count(),
        2,
        "{body}"
    );
}

/// Runs `rclone` with the drive configured through its environment (never a config file), off
/// the runtime's thread (the app under test answers on it).
async fn rclone(app: &TestApp, dav: &Dav<'_>, args: &[String]) -> std::process::Output {
    let obscured = run_blocking(vec!["obscure".into(), dav.secret.clone()], Vec::new()).await;
    assert!(obscured.status.success(), "rclone obscure failed");
    let pass = String::from_utf8(obscured.stdout)
        .unwrap()
        .trim()
        .to_owned();
    let env = vec![
        ("RCLONE_CONFIG_YUI_TYPE".to_owned(), "webdav".to_owned()),
        ("RCLONE_CONFIG_YUI_URL".to_owned(), app.url("/dav/")),
        ("RCLONE_CONFIG_YUI_VENDOR".to_owned(), "other".to_owned()),
        ("RCLONE_CONFIG_YUI_USER".to_owned(), dav.login.clone()),
        ("RCLONE_CONFIG_YUI_PASS".to_owned(), pass),
        ("RCLONE_CONFIG".to_owned(), "/dev/null".to_owned()),
    ];
    run_blocking(args.to_vec(), env).await
}

async fn run_blocking(args: Vec<String>, env: Vec<(String, String)>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(RCLONE)
            .args(&args)
            .envs(env)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

const RCLONE: &str = "/usr/bin/rclone";

/// Every file below `dir` with its bytes, by path relative to `dir`.
fn tree_of(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = files_below(dir)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            (rel, std::fs::read(&p).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// A real client: rclone copies a folder with Japanese names into the drive and back out, and
/// every byte comes back (and the cabinet holds the files, as the web shows them).
#[actix_web::test]
async fn rclone_copies_a_japanese_folder_in_and_out() {
    if !std::path::Path::new(RCLONE).exists() {
        assert!(
            std::env::var_os("YUI_REQUIRE_RCLONE").is_none(),
            "YUI_REQUIRE_RCLONE is set but {RCLONE} is missing"
        );
        eprintln!("*** SKIPPED: the rclone test needs rclone (apt-get install rclone) ***");
        return;
    }
    let c = cabinet_with(Options::default(), 10).await;
    let dav = hanako_drive(&c).await;
    let local = tempfile::tempdir().unwrap();
    let src = local.path().join("src");
    std::fs::create_dir_all(src.join("写真/旅行 2026")).unwrap();
    std::fs::write(src.join("議事録.txt"), "第1回 議事録\n".repeat(100)).unwrap();
    std::fs::write(
        src.join("写真/旅行 2026/海と空.bin"),
        (0..=255u8).cycle().take(3 * MB).collect::<Vec<u8>>(),
    )
    .unwrap();
    std::fs::write(src.join("写真/メモ.md"), "# メモ").unwrap();
    let up = rclone(
        &c.app,
        &dav,
        &[
            "copy".into(),
            src.display().to_string(),
            "yui:cab/取り込み".into(),
        ],
    )
    .await;
    assert!(
        up.status.success(),
        "rclone copy in: {}",
        String::from_utf8_lossy(&up.stderr)
    );
    let mut names: Vec<String> = files_of(&c.app, c.room_id)
        .into_iter()
        .map(|f| f.1)
        .collect();
    names.sort();
    assert_eq!(names, ["メモ.md", "海と空.bin", "議事録.txt"]);
    let back = local.path().join("back");
    let down = rclone(
        &c.app,
        &dav,
        &[
            "copy".into(),
            "yui:cab/取り込み".into(),
            back.display().to_string(),
        ],
    )
    .await;
    assert!(
        down.status.success(),
        "rclone copy out: {}",
        String::from_utf8_lossy(&down.stderr)
    );
    assert_eq!(tree_of(&back), tree_of(&src), "every byte came back");
    let check = rclone(
        &c.app,
        &dav,
        &[
            "check".into(),
            "--download".into(),
            src.display().to_string(),
            "yui:cab/取り込み".into(),
        ],
    )
    .await;
    assert!(
        check.status.success(),
        "rclone check: {}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[actix_web::test]
async fn a_lock_by_one_member_gives_another_no_right_to_write() {
    let c = cabinet_with(Options::default(), 1).await;
    c.app.user("kyaku").create();
    c.app.add_member(&c.admin, "cab", "kyaku", "guest").await;
    let hanako = hanako_drive(&c).await;
    assert_eq!(hanako.put("/dav/cab/plan.txt", b"v1".to_vec()).await, 201);
    let lock = hanako
        .req("LOCK", "/dav/cab/plan.txt")
        .header("Timeout", "Second-600")
        .body(
            r#"<?xml version="1.0"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>hanako</D:owner></D:lockinfo>"#,
        )
        .send()
        .await
        .unwrap();
    assert_eq!(
        lock.status(),
        200,
        "Finder and Windows need LOCK to mount writable"
    );
    let token = lock
        .headers()
        .get("lock-token")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    let browser = c.app.sign_in("kyaku").await;
    let guest = drive(&c.app, &browser, "kyaku").await;
    let res = guest
        .req("PUT", "/dav/cab/plan.txt")
        .header("If", format!("({token})"))
        .body("guest's version")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let got = hanako.req("GET", "/dav/cab/plan.txt").send().await.unwrap();
    assert_eq!(got.bytes().await.unwrap().as_ref(), b"v1");
}

#[actix_web::test]
async fn wrong_app_passwords_on_the_drive_meet_the_login_limits() {
    let c = cabinet_with(Options::default(), 1).await;
    let dav = hanako_drive(&c).await;
    let wrong = Dav {
        app: &c.app,
        http: reqwest::Client::new(),
        login: "hanako".into(),
        secret: "a-guess".into(),
    };
    for _ in 0..yui::services::auth::IP_FAILURE_LIMIT {
        assert_eq!(wrong.propfind(ROOM, "0").await.0, 401);
    }
    assert_eq!(wrong.propfind(ROOM, "0").await.0, 429);
    assert_eq!(
        dav.propfind(ROOM, "0").await.0,
        429,
        "the network is limited"
    );
    // The web's login form shares the count.
    let res = c.app.try_login(&c.app.client(), "hanako", PASSWORD).await;
    assert_eq!(res.status(), 429);
}

const CADAVER: &str = "/usr/bin/cadaver";

/// Runs `cadaver` on `url` with `script` as its input (it reads commands from stdin), signed in
/// through `~/.netrc` in a fresh `HOME`; returns what it printed. cadaver exits 0 whatever
/// happened, so callers check the drive and the bytes instead.
async fn cadaver(app: &TestApp, dav: &Dav<'_>, url: &str, script: String) -> String {
    let home = tempfile::tempdir().unwrap();
    let host = app
        .base
        .trim_start_matches("http://")
        .split(':')
        .next()
        .unwrap()
        .to_owned();
    let netrc = home.path().join(".netrc");
    std::fs::write(
        &netrc,
        format!(
            "machine {host} login {} password {}\n",
            dav.login, dav.secret
        ),
    )
    .unwrap();
    let url = url.to_owned();
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new(CADAVER)
            .arg(url)
            .env("HOME", home.path())
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(script.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A second real client: cadaver makes a folder, uploads, downloads, moves, copies and deletes
/// files with Japanese names, and every byte comes back.
#[actix_web::test]
async fn cadaver_works_the_drive_with_japanese_names() {
    if !std::path::Path::new(CADAVER).exists() {
        assert!(
            std::env::var_os("YUI_REQUIRE_CADAVER").is_none(),
            "YUI_REQUIRE_CADAVER is set but {CADAVER} is missing"
        );
        eprintln!("*** SKIPPED: the cadaver test needs cadaver (apt-get install cadaver) ***");
        return;
    }
    let c = cabinet_with(Options::default(), 10).await;
    let dav = hanako_drive(&c).await;
    let local = tempfile::tempdir().unwrap();
    let minutes = "第1回 議事録\n".repeat(200).into_bytes();
    let photo: Vec<u8> = (0..=255u8).cycle().take(2 * MB + 17).collect();
    std::fs::write(local.path().join("議事録.txt"), &minutes).unwrap();
    std::fs::write(local.path().join("海と空.bin"), &photo).unwrap();
    let l = |name: &str| local.path().join(name).display().to_string();
    let script = format!(
        "mkcol 写真\n\
         put {} 写真/議事録.txt\n\
         put {} \"写真/海と 空.bin\"\n\
         get 写真/議事録.txt {}\n\
         get \"写真/海と 空.bin\" {}\n\
         mkcol 保管\n\
         move 写真/議事録.txt 保管/議事録（済）.txt\n\
         copy \"写真/海と 空.bin\" 保管/控え.bin\n\
         delete \"写真/海と 空.bin\"\n\
         ls 保管\n\
         quit\n",
        l("議事録.txt"),
        l("海と空.bin"),
        l("back-議事録.txt"),
        l("back-海と空.bin"),
    );
    let said = cadaver(&c.app, &dav, &c.app.url("/dav/cab/"), script).await;
    assert_eq!(
        std::fs::read(local.path().join("back-議事録.txt")).ok(),
        Some(minutes.clone()),
        "{said}"
    );
    assert_eq!(
        std::fs::read(local.path().join("back-海と空.bin")).ok(),
        Some(photo.clone()),
        "{said}"
    );
    let mut names: Vec<String> = files_of(&c.app, c.room_id)
        .into_iter()
        .map(|f| f.1)
        .collect();
    names.sort();
    assert_eq!(names, ["控え.bin", "議事録（済）.txt"], "{said}");
    let trashed: i64 = c.app.db(|conn| {
        Ok(files::table
            .filter(files::deleted_at.is_not_null())
            .count()
            .get_result(conn)?)
    });
    assert_eq!(trashed, 1, "the deleted one is in the trash: {said}");
    for (path, bytes) in [
        ("/dav/cab/%E4%BF%9D%E7%AE%A1/%E6%8E%A7%E3%81%88.bin", &photo),
        (
            "/dav/cab/%E4%BF%9D%E7%AE%A1/%E8%AD%B0%E4%BA%8B%E9%8C%B2%EF%BC%88%E6%B8%88%EF%BC%89.txt",
            &minutes,
        ),
    ] {
        let got = dav.req("GET", path).send().await.unwrap();
        assert_eq!(got.status(), 200, "{path}: {said}");
        assert_eq!(&got.bytes().await.unwrap().to_vec(), bytes, "{path}");
    }
}
