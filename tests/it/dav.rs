//! The WebDAV drive at `/dav/` (issue #14): Basic auth with an app password only, one folder per
//! readable room, the cabinet inside; PROPFIND, GET with Range, PUT into the content-addressed
//! store with the quota (507, nothing left behind), MKCOL, DELETE to the trash, a guest's
//! read-only mount, bad paths and foreign destinations refused.

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
async fn dav_move_and_copy_stay_within_the_room_and_its_rights() {
    let c = cabinet_with(Options::default(), 1).await;
    c.app
        .room("other")
        .features(&["files"])
        .managed_by("admin")
        .member("hanako", "guest")
        .create(&c.admin)
        .await;
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
    // Into a room where she is a guest (no write), or any other room: refused.
    for method in ["MOVE", "COPY"] {
        let res = dav
            .req(method, "/dav/cab/c.txt")
            .header("Destination", dest("/dav/other/c.txt"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{method}");
    }
    let in_other: i64 = c.app.db(|conn| {
        Ok(files::table
            .filter(files::room_id.ne(c.room_id))
            .count()
            .get_result(conn)?)
    });
    assert_eq!(in_other, 0);
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
