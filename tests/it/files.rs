//! Room cabinets over HTTP: uploads (plain and resumable), downloads with Range, names, quota,
//! trash, zip, permissions by role, a full disk.

use sha2::{Digest, Sha256};

use crate::support::*;

pub(crate) const MB: usize = 1024 * 1024;

pub(crate) struct Cabinet {
    pub(crate) app: TestApp,
    pub(crate) admin: reqwest::Client,
    /// hanako: a 一般 member of the room.
    pub(crate) hanako: reqwest::Client,
    pub(crate) room_id: i64,
}

/// A closed room `cab` (資料室) with files on and a quota of `quota_mb`, managed by the admin;
/// hanako is a 一般 member.
pub(crate) async fn cabinet_with(opts: Options, quota_mb: u32) -> Cabinet {
    let app = TestApp::spawn_with(opts);
    let admin = app.admin_client().await;
    app.user("hanako").create();
    let room = app
        .room("cab")
        .named("資料室")
        .closed()
        .quota_mb(quota_mb)
        .features(&["files"])
        .managed_by("admin")
        .member("hanako", "member")
        .create(&admin)
        .await;
    let hanako = app.sign_in("hanako").await;
    Cabinet {
        app,
        admin,
        hanako,
        room_id: room.id,
    }
}

async fn cabinet() -> Cabinet {
    cabinet_with(Options::default(), 1).await
}

/// Uploads files through the plain form (multipart, token in the query) into folder `folder`.
pub(crate) async fn upload(
    app: &TestApp,
    c: &reqwest::Client,
    folder: i64,
    files: &[(&str, Vec<u8>)],
) -> reqwest::Response {
    app.upload_form(c, "cab", folder, files).await
}

/// The live files of the room: `(id, name, folder_id)`.
pub(crate) fn files_of(app: &TestApp, room_id: i64) -> Vec<(i64, String, i64)> {
    use diesel::prelude::*;
    use yui::db::schema::files;
    app.db(|conn| {
        Ok(files::table
            .filter(files::room_id.eq(room_id))
            .filter(files::deleted_at.is_null())
            .order(files::id.asc())
            .select((files::id, files::name, files::folder_id))
            .load::<(i64, String, i64)>(conn)?)
    })
}

pub(crate) fn file_url(id: i64) -> String {
    format!("/rooms/cab/files/file/{id}/x")
}

pub(crate) fn sha_hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    Sha256::digest(bytes)
        .iter()
        .fold(String::new(), |mut s, b| {
            write!(s, "{b:02x}").unwrap();
            s
        })
}

/// Files on disk below `dir` (recursively).
pub(crate) fn files_below(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_below(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[actix_web::test]
async fn member_uploads_a_japanese_file_and_downloads_it_back() {
    let t = cabinet().await;
    let body = "第1回 議事録\n".repeat(100).into_bytes();
    let res = upload(&t.app, &t.hanako, 0, &[("議事録 2026.txt", body.clone())]).await;
    assert_eq!(res.status(), 303);
    let page = t
        .hanako
        .get(t.app.url("/rooms/cab/files"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("議事録 2026.txt"), "{page}");
    assert!(page.contains("hanako さん"), "uploader shown");
    let (id, name, _) = files_of(&t.app, t.room_id)[0].clone();
    assert_eq!(name, "議事録 2026.txt");
    let res = t.hanako.get(t.app.url(&file_url(id))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    let cd = h["content-disposition"].to_str().unwrap();
    assert!(cd.starts_with("attachment"), "{cd}");
    assert!(
        cd.contains("filename*=UTF-8''%E8%AD%B0%E4%BA%8B%E9%8C%B2%202026.txt"),
        "{cd}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .unwrap()
            .starts_with("sandbox")
    );
    assert!(h.contains_key("etag") && h.contains_key("last-modified"));
    assert_eq!(res.bytes().await.unwrap().as_ref(), body.as_slice());
    // Stored once, under its hash, and nothing left in tmp/.
    let blob = t.app.data_dir().join("blobs").join(&sha_hex(&body)[..2]);
    assert!(blob.is_dir());
    assert!(files_below(&t.app.data_dir().join("tmp")).is_empty());
}

#[actix_web::test]
async fn identical_files_are_stored_once() {
    let t = cabinet().await;
    let body = b"same bytes".to_vec();
    upload(
        &t.app,
        &t.hanako,
        0,
        &[("a.txt", body.clone()), ("b.txt", body.clone())],
    )
    .await;
    assert_eq!(files_of(&t.app, t.room_id).len(), 2);
    assert_eq!(files_below(&t.app.data_dir().join("blobs")).len(), 1);
}

#[actix_web::test]
async fn ranges_are_served_and_range_abuse_is_bounded() {
    let t = cabinet().await;
    let body: Vec<u8> = (0..1000u32)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    let id = t
        .app
        .file_in("cab", "data.bin")
        .bytes(body.clone())
        .upload(&t.hanako)
        .await
        .id;
    let get = |range: &'static str| {
        t.hanako
            .get(t.app.url(&file_url(id)))
            .header("range", range)
            .send()
    };
    let res = get("bytes=10-19").await.unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.headers()["content-range"], "bytes 10-19/1000");
    assert_eq!(res.bytes().await.unwrap().as_ref(), &body[10..20]);
    let res = get("bytes=990-").await.unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.bytes().await.unwrap().len(), 10);
    for bad in ["bytes=5000-6000", "bytes=20-10"] {
        let res = get(bad).await.unwrap();
        assert_eq!(res.status(), 416, "{bad}");
    }
    // A thousand tiny ranges: answered with the first one only, never a huge multipart body.
    let many: String = (0..1000)
        .map(|i| format!("{i}-{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let res = t
        .hanako
        .get(t.app.url(&file_url(id)))
        .header("range", format!("bytes={many}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206);
    assert_eq!(res.headers()["content-range"], "bytes 0-0/1000");
    assert_eq!(res.bytes().await.unwrap().as_ref(), &body[..1]);
    // If-Range with the current validator (how a browser resumes a download): just the range.
    let etag = t
        .hanako
        .get(t.app.url(&file_url(id)))
        .send()
        .await
        .unwrap()
        .headers()["etag"]
        .to_str()
        .unwrap()
        .to_owned();
    let res = t
        .hanako
        .get(t.app.url(&file_url(id)))
        .header("range", "bytes=100-199")
        .header("if-range", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 206, "If-Range with the current ETag");
    assert_eq!(res.bytes().await.unwrap().as_ref(), &body[100..200]);
    // If-None-Match with it: 304.
    let res = t
        .hanako
        .get(t.app.url(&file_url(id)))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    // If-Range with an old validator: the whole file.
    let res = t
        .hanako
        .get(t.app.url(&file_url(id)))
        .header("range", "bytes=0-0")
        .header("if-range", "\"not-the-etag\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().len(), 1000);
}

#[actix_web::test]
async fn only_media_pdf_and_raster_images_open_in_the_browser() {
    let t = cabinet().await;
    let cases = [
        ("page.html", "attachment", "application/octet-stream"),
        ("evil.svg", "attachment", "application/octet-stream"),
        ("x.jpg.html", "attachment", "application/octet-stream"),
        ("photo.png", "inline", "image/png"),
        ("song.mp3", "inline", "audio/mpeg"),
        ("paper.pdf", "inline", "application/pdf"),
    ];
    for (name, _, _) in cases {
        let bytes = format!("<script>alert('{name}')</script>").into_bytes();
        assert_eq!(
            upload(&t.app, &t.hanako, 0, &[(name, bytes)])
                .await
                .status(),
            303
        );
    }
    let stored = files_of(&t.app, t.room_id);
    for (name, disposition, content_type) in cases {
        let id = stored.iter().find(|f| f.1 == name).unwrap().0;
        let res = t.hanako.get(t.app.url(&file_url(id))).send().await.unwrap();
        let h = res.headers();
        assert!(
            h["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with(disposition),
            "{name}: {:?}",
            h["content-disposition"]
        );
        assert_eq!(h["content-type"], content_type, "{name}");
        assert_eq!(h["x-content-type-options"], "nosniff");
        // ?download=1 always downloads.
        let res = t
            .hanako
            .get(t.app.url(&format!("{}?download=1", file_url(id))))
            .send()
            .await
            .unwrap();
        assert!(
            res.headers()["content-disposition"]
                .to_str()
                .unwrap()
                .starts_with("attachment")
        );
    }
}

#[actix_web::test]
async fn path_tricks_in_names_are_refused_or_made_harmless() {
    let t = cabinet().await;
    // Uploaded names keep only their last component; a name that is only a path is refused.
    let res = upload(&t.app, &t.hanako, 0, &[("../../etc/passwd", b"x".to_vec())]).await;
    assert_eq!(res.status(), 303);
    let res = upload(&t.app, &t.hanako, 0, &[("..\\..\\boot.ini", b"y".to_vec())]).await;
    assert_eq!(res.status(), 303);
    let res = upload(&t.app, &t.hanako, 0, &[("%2e%2e%2fsecret", b"z".to_vec())]).await;
    assert_eq!(res.status(), 303);
    let names: Vec<String> = files_of(&t.app, t.room_id)
        .into_iter()
        .map(|f| f.1)
        .collect();
    assert_eq!(names, ["passwd", "boot.ini", "%2e%2e%2fsecret"]);
    let res = upload(&t.app, &t.hanako, 0, &[("..", b"w".to_vec())]).await;
    assert_eq!(res.status(), 422);
    // Typed names: refused with a message, nothing created.
    for (bad, message) in [
        ("../x", "使えません"),
        ("a/b", "使えません"),
        ("a\u{0}b", "使えません"),
        ("a\nb", "使えません"),
        ("..", "名前を入力してください"),
    ] {
        let res = t
            .app
            .post_form(
                &t.hanako,
                "/rooms/cab/files",
                "/rooms/cab/files/folder/0/mkdir",
                &[("name", bad)],
            )
            .await;
        assert_eq!(res.status(), 422, "{bad:?}");
        let page = res.text().await.unwrap();
        assert!(page.contains(message), "{bad:?}: {page}");
    }
    let long = "長".repeat(201);
    let res = t
        .app
        .post_form(
            &t.hanako,
            "/rooms/cab/files",
            "/rooms/cab/files/folder/0/mkdir",
            &[("name", &long)],
        )
        .await;
    assert_eq!(res.status(), 422);
    // Names that differ only by Unicode normalisation (or case) are the same name.
    let res = t
        .app
        .post_form(
            &t.hanako,
            "/rooms/cab/files",
            "/rooms/cab/files/folder/0/mkdir",
            &[("name", "が")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = t
        .app
        .post_form(
            &t.hanako,
            "/rooms/cab/files",
            "/rooms/cab/files/folder/0/mkdir",
            &[("name", "か\u{3099}")],
        )
        .await;
    assert_eq!(res.status(), 422);
    upload(
        &t.app,
        &t.hanako,
        0,
        &[("Report.txt", b"1".to_vec()), ("report.TXT", b"2".to_vec())],
    )
    .await;
    let names: Vec<String> = files_of(&t.app, t.room_id)
        .into_iter()
        .map(|f| f.1)
        .collect();
    assert!(names.contains(&"report (2).TXT".to_owned()), "{names:?}");
    // Everything written stays inside the data directory, under hex names.
    let blobs = files_below(&t.app.data_dir().join("blobs"));
    assert_eq!(blobs.len(), 5, "{blobs:?}");
    for f in blobs {
        let name = f.file_name().unwrap().to_str().unwrap().to_owned();
        assert!(
            name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}"
        );
    }
}

#[actix_web::test]
async fn one_byte_over_the_quota_is_refused_and_leaves_nothing() {
    let t = cabinet().await; // quota 1 MB
    let token = t.app.csrf(&t.hanako, "/rooms/cab/files").await;
    // Resumable: the declared size is checked before anything is stored. The uploader asks for
    // JSON and gets the reason in the member's language, not "413 Payload Too Large".
    let res = t
        .hanako
        .post(t.app.url("/rooms/cab/files/folder/0/uploads"))
        .header("x-csrf-token", &token)
        .header("accept", "application/json")
        .form(&[("name", "big.bin"), ("size", &(MB + 1).to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let why: serde_json::Value = res.json().await.unwrap();
    assert!(
        why["message"].as_str().unwrap().contains("残り容量"),
        "{why}"
    );
    // Plain form: refused while streaming, at the first byte past the quota, with the same
    // reason on the page and a way back to the folder.
    let res = upload(&t.app, &t.hanako, 0, &[("big.bin", vec![7u8; MB + 1])]).await;
    assert_eq!(res.status(), 413);
    let page = res.text().await.unwrap();
    assert!(page.contains("残り容量"), "{page}");
    // A name the cabinet cannot take says which rule it broke, with or without JavaScript.
    let long = format!("{}.txt", "長".repeat(300));
    let res = upload(&t.app, &t.hanako, 0, &[(long.as_str(), vec![1u8; 10])]).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("名前が長すぎます"), "{page}");
    let res = t
        .hanako
        .post(t.app.url("/rooms/cab/files/folder/0/uploads"))
        .header("x-csrf-token", &token)
        .header("accept", "application/json")
        .form(&[("name", long.as_str()), ("size", "10")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let why: serde_json::Value = res.json().await.unwrap();
    assert!(
        why["message"]
            .as_str()
            .unwrap()
            .contains("名前が長すぎます"),
        "{why}"
    );
    let res = upload(&t.app, &t.hanako, 0, &[("fits.bin", vec![7u8; MB])]).await;
    assert_eq!(res.status(), 303, "exactly the quota fits");
    // A PUT whose Content-Length is over what the upload may still take: 413 before reading.
    let res = t
        .hanako
        .post(t.app.url("/rooms/cab/files/folder/0/uploads"))
        .header("x-csrf-token", &token)
        .form(&[("name", "one.bin"), ("size", "1")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413, "the quota is used up");
    let names: Vec<String> = files_of(&t.app, t.room_id)
        .into_iter()
        .map(|f| f.1)
        .collect();
    assert_eq!(names, ["fits.bin"]);
    assert!(files_below(&t.app.data_dir().join("tmp")).is_empty());
    assert_eq!(files_below(&t.app.data_dir().join("blobs")).len(), 1);
}

#[actix_web::test]
async fn a_resumed_upload_arrives_whole_with_the_same_sha256() {
    let t = cabinet_with(Options::default(), 10).await;
    let token = t.app.csrf(&t.hanako, "/rooms/cab/files").await;
    let body: Vec<u8> = (0..3 * MB)
        .map(|i| u8::try_from(i * 7 % 256).unwrap())
        .collect();
    let res = t
        .hanako
        .post(t.app.url("/rooms/cab/files/folder/0/uploads"))
        .header("x-csrf-token", &token)
        .form(&[("name", "録音.wav"), ("size", &body.len().to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let id = res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let put = |offset: usize, end: usize| {
        t.hanako
            .put(
                t.app
                    .url(&format!("/rooms/cab/files/uploads/{id}?offset={offset}")),
            )
            .header("x-csrf-token", &token)
            .body(body[offset..end].to_vec())
            .send()
    };
    let r = put(0, MB).await.unwrap();
    assert_eq!(r.json::<serde_json::Value>().await.unwrap()["offset"], MB);
    // Finishing early is refused; the upload stays resumable.
    let res = t
        .hanako
        .post(t.app.url(&format!("/rooms/cab/files/uploads/{id}/finish")))
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    // "The connection dropped": the client asks where to go on.
    let status: serde_json::Value = t
        .hanako
        .get(t.app.url(&format!("/rooms/cab/files/uploads/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["offset"], MB);
    put(MB, 2 * MB).await.unwrap();
    // A chunk sent again from an earlier offset is refused (what is stored stays), and so is
    // one that would leave a gap; the client asks where the upload stands and resumes.
    assert_eq!(put(MB, 3 * MB).await.unwrap().status(), 409);
    assert_eq!(put(2 * MB + 1, 3 * MB).await.unwrap().status(), 409);
    put(2 * MB, 3 * MB).await.unwrap();
    // Someone else cannot see or touch it.
    let admin_token = t.app.csrf(&t.admin, "/rooms/cab/files").await;
    let res = t
        .admin
        .put(
            t.app
                .url(&format!("/rooms/cab/files/uploads/{id}?offset=0")),
        )
        .header("x-csrf-token", &admin_token)
        .body(b"evil".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = t
        .hanako
        .post(t.app.url(&format!("/rooms/cab/files/uploads/{id}/finish")))
        .header("x-csrf-token", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let file_id = res.json::<serde_json::Value>().await.unwrap()["file"]
        .as_i64()
        .unwrap();
    let got = t
        .hanako
        .get(t.app.url(&file_url(file_id)))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(sha_hex(&got), sha_hex(&body));
    assert!(files_below(&t.app.data_dir().join("uploads")).is_empty());
}

#[actix_web::test]
async fn upload_without_a_valid_csrf_token_stores_nothing() {
    let t = cabinet().await;
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(vec![1u8; 1000]).file_name("x.bin"),
    );
    let res = t
        .hanako
        .post(t.app.url("/rooms/cab/files/folder/0/upload?_csrf=forged"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let res = t
        .hanako
        .put(t.app.url(&format!(
            "/rooms/cab/files/uploads/{}?offset=0",
            "a".repeat(32)
        )))
        .header("x-csrf-token", "forged")
        .body(vec![1u8; 1000])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(files_of(&t.app, t.room_id).is_empty());
    assert!(files_below(&t.app.data_dir().join("tmp")).is_empty());
    assert!(files_below(&t.app.data_dir().join("uploads")).is_empty());
}

/// Posts a cabinet action (rename, move, copy, delete, restore) with hanako's token.
async fn act(
    t: &Cabinet,
    c: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    t.app.post_form(c, "/rooms/cab/files", path, fields).await
}

#[actix_web::test]
async fn folders_rename_move_copy_and_the_trash_work() {
    let t = cabinet().await;
    let res = act(
        &t,
        &t.hanako,
        "/rooms/cab/files/folder/0/mkdir",
        &[("name", "写真")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let photos: i64 = location(&res).rsplit('/').next().unwrap().parse().unwrap();
    let file = t
        .app
        .file_in("cab", "旅行.jpg")
        .bytes(b"jpeg")
        .upload(&t.hanako)
        .await
        .id;
    // Rename, then a clash with an existing name is refused.
    let res = act(
        &t,
        &t.hanako,
        &format!("/rooms/cab/files/file/{file}/rename"),
        &[("name", "京都.jpg")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = act(
        &t,
        &t.hanako,
        &format!("/rooms/cab/files/file/{file}/rename"),
        &[("name", "写真")],
    )
    .await;
    assert_eq!(res.status(), 422);
    // Move into the folder; copy back to the root (same blob, no new bytes).
    let res = act(
        &t,
        &t.hanako,
        &format!("/rooms/cab/files/file/{file}/move"),
        &[("target", &photos.to_string())],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(files_of(&t.app, t.room_id)[0].2, photos);
    let room_id = t.room_id;
    let root = t
        .app
        .db(|conn| Ok(yui::models::file::root_folder(conn, room_id)?.unwrap().id));
    let res = act(
        &t,
        &t.hanako,
        &format!("/rooms/cab/files/file/{file}/copy"),
        &[("target", &root.to_string())],
    )
    .await;
    assert_eq!(res.status(), 303);
    let all = files_of(&t.app, t.room_id);
    assert_eq!(all.len(), 2);
    assert!(all.iter().any(|f| f.1 == "京都.jpg" && f.2 == photos));
    assert!(all.iter().any(|f| f.1 == "京都.jpg" && f.2 == root));
    assert_eq!(files_below(&t.app.data_dir().join("blobs")).len(), 1);
    // A folder cannot move into itself; a folder from another room is no target.
    let res = act(
        &t,
        &t.hanako,
        &format!("/rooms/cab/files/folder/{photos}/move"),
        &[("target", &photos.to_string())],
    )
    .await;
    assert_eq!(res.status(), 422);
    // Delete the folder: it and its file leave the listing and appear in the trash.
    let res = act(
        &t,
        &t.hanako,
        &format!("/rooms/cab/files/folder/{photos}/delete"),
        &[],
    )
    .await;
    assert_eq!(res.status(), 303);
    let status = t
        .hanako
        .get(t.app.url(&format!("/rooms/cab/files/folder/{photos}")))
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404);
    let trash = t
        .hanako
        .get(t.app.url("/rooms/cab/files/trash"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(trash.contains("写真"), "{trash}");
    let res = act(
        &t,
        &t.hanako,
        &format!("/rooms/cab/files/trash/folder/{photos}/restore"),
        &[],
    )
    .await;
    assert_eq!(res.status(), 303);
    let page = t
        .hanako
        .get(t.app.url(&format!("/rooms/cab/files/folder/{photos}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("京都.jpg"));
    // Trash older than 30 days is purged, then the blob nothing refers to is collected.
    act(
        &t,
        &t.hanako,
        &format!("/rooms/cab/files/folder/{photos}/delete"),
        &[],
    )
    .await;
    let copy = files_of(&t.app, t.room_id)
        .into_iter()
        .find(|f| f.2 == root)
        .unwrap()
        .0;
    act(
        &t,
        &t.hanako,
        &format!("/rooms/cab/files/file/{copy}/delete"),
        &[],
    )
    .await;
    let old = yui::models::now() - chrono::Duration::days(31);
    let long_ago = yui::models::now() - chrono::Duration::days(2);
    {
        use diesel::prelude::*;
        use yui::db::schema::{blobs, files, folders};
        t.app.db(|conn| {
            diesel::update(folders::table.filter(folders::deleted_at.is_not_null()))
                .set(folders::deleted_at.eq(Some(old)))
                .execute(conn)?;
            diesel::update(files::table.filter(files::deleted_at.is_not_null()))
                .set(files::deleted_at.eq(Some(old)))
                .execute(conn)?;
            diesel::update(blobs::table)
                .set(blobs::last_used_at.eq(long_ago))
                .execute(conn)?;
            Ok(())
        });
    }
    let core = t.app.core.clone();
    let (purged, _, collected) = actix_web::web::block(move || {
        yui::services::files::housekeeping(&core, yui::models::now())
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!((purged, collected), (2, 1));
    assert!(files_below(&t.app.data_dir().join("blobs")).is_empty());
    let res = t
        .hanako
        .get(t.app.url("/rooms/cab/files/trash"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!res.text().await.unwrap().contains("写真"));
}

#[actix_web::test]
async fn a_folder_downloads_as_a_zip_of_its_tree() {
    let t = cabinet().await;
    let res = act(
        &t,
        &t.hanako,
        "/rooms/cab/files/folder/0/mkdir",
        &[("name", "会議")],
    )
    .await;
    let sub: i64 = location(&res).rsplit('/').next().unwrap().parse().unwrap();
    t.app
        .file_in("cab", "予定.txt")
        .bytes(b"plan")
        .upload(&t.hanako)
        .await;
    t.app
        .file_in("cab", "議事録.txt")
        .bytes(b"minutes")
        .in_folder(sub)
        .upload(&t.hanako)
        .await;
    let res = t
        .hanako
        .get(t.app.url("/rooms/cab/files/folder/0/zip"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(".zip")
    );
    let bytes = res.bytes().await.unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).unwrap();
    let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["予定.txt", "会議/", "会議/議事録.txt"]);
    let mut s = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("会議/議事録.txt").unwrap(), &mut s).unwrap();
    assert_eq!(s, "minutes");
}

#[actix_web::test]
async fn a_full_disk_answers_507_and_the_site_keeps_working() {
    let t = cabinet_with(
        Options {
            min_free_bytes: Some(u64::MAX / 4),
            ..Options::default()
        },
        1,
    )
    .await;
    let res = upload(&t.app, &t.hanako, 0, &[("x.txt", b"hello".to_vec())]).await;
    assert_eq!(res.status(), 507);
    let page = res.text().await.unwrap();
    assert!(page.contains("何も保存されておらず"), "{page}");
    assert!(files_of(&t.app, t.room_id).is_empty());
    assert!(files_below(&t.app.data_dir().join("tmp")).is_empty());
    let res = t
        .hanako
        .get(t.app.url("/rooms/cab/files"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        t.hanako.get(t.app.url("/")).send().await.unwrap().status(),
        200
    );
}

#[actix_web::test]
async fn audio_files_show_a_player_with_their_tags() {
    let t = cabinet_with(Options::default(), 10).await;
    let wav = |title, track| {
        yui::sample_audio::tone_wav(
            440.0,
            1,
            yui::sample_audio::ToneTags {
                title,
                artist: "結 合唱団",
                album: "デモ",
                track,
            },
        )
    };
    upload(
        &t.app,
        &t.hanako,
        0,
        &[("02.wav", wav("夕焼け", 2)), ("01.wav", wav("朝の歌", 1))],
    )
    .await;
    let page = t
        .hanako
        .get(t.app.url("/rooms/cab/files"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("id=\"audio\""), "player shown");
    let first = page.find("data-title=\"朝の歌\"").unwrap();
    let second = page.find("data-title=\"夕焼け\"").unwrap();
    assert!(first < second, "tracks in track order");
    assert!(page.contains("結 合唱団"));
    let id = files_of(&t.app, t.room_id)
        .iter()
        .find(|f| f.1 == "01.wav")
        .unwrap()
        .0;
    let res = t.hanako.get(t.app.url(&file_url(id))).send().await.unwrap();
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("audio/")
    );
    assert!(
        res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("inline")
    );
}

/// Every role × cabinet action in a closed room, against the expected status.
#[actix_web::test]
async fn cabinet_permissions_follow_the_room_matrix() {
    let t = cabinet_with(Options::default(), 10).await;
    // Each room role, an outsider, and the anonymous visitor.
    let roles = ["guest", "member", "editor", "chief_editor", "manager"];
    let mut clients = Vec::new();
    for role in roles {
        let login = format!("u_{role}");
        t.app.user(&login).create();
        t.app.add_member(&t.admin, "cab", &login, role).await;
        clients.push((role, Some(t.app.sign_in(&login).await)));
    }
    let outsider = t.app.user("outsider").signed_in().await;
    clients.push(("outsider", Some(outsider)));
    clients.push(("anonymous", None));
    // hanako (一般) owns one file; each actor also tries its own upload.
    let others = t
        .app
        .file_in("cab", "hanako.txt")
        .bytes(b"h")
        .upload(&t.hanako)
        .await
        .id;
    // (actor, list, download, upload, rename others', delete others')
    let expected: &[(&str, u16, u16, u16, u16, u16)] = &[
        ("guest", 200, 200, 404, 404, 404),
        ("member", 200, 200, 303, 404, 404),
        ("editor", 200, 200, 303, 303, 303),
        ("chief_editor", 200, 200, 303, 303, 303),
        ("manager", 200, 200, 303, 303, 303),
        ("outsider", 404, 404, 404, 404, 404),
        // Actions need an account: the visitor is sent to log in, and nothing changes.
        ("anonymous", 404, 404, 303, 303, 303),
    ];
    for (role, c) in &clients {
        let row = expected.iter().find(|r| r.0 == *role).unwrap();
        let anon = t.app.client();
        let c = c.as_ref().unwrap_or(&anon);
        let list = c
            .get(t.app.url("/rooms/cab/files"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        let down = c
            .get(t.app.url(&file_url(others)))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16();
        let up = if c
            .get(t.app.url("/rooms/cab/files"))
            .send()
            .await
            .unwrap()
            .status()
            == 200
        {
            upload(&t.app, c, 0, &[(&format!("{role}.txt"), b"x".to_vec())])
                .await
                .status()
                .as_u16()
        } else {
            // No cabinet page to take a token from: the login page's (this visitor's own).
            let token = t.app.csrf(c, "/login").await;
            let form = reqwest::multipart::Form::new().part(
                "files",
                reqwest::multipart::Part::bytes(b"x".to_vec()).file_name(format!("{role}.txt")),
            );
            c.post(
                t.app
                    .url(&format!("/rooms/cab/files/folder/0/upload?_csrf={token}")),
            )
            .multipart(form)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
        };
        let token = t.app.csrf(c, "/login").await;
        let post = |op: &str| {
            c.post(t.app.url(&format!("/rooms/cab/files/file/{others}/{op}")))
                .form(&[
                    ("_csrf", token.as_str()),
                    ("name", &format!("{role}-renamed.txt")),
                ])
                .send()
        };
        let rename = post("rename").await.unwrap().status().as_u16();
        let delete = post("delete").await.unwrap().status().as_u16();
        let got = (list, down, up, rename, delete);
        let want = (row.1, row.2, row.3, row.4, row.5);
        assert_eq!(got, want, "{role}");
        if *role == "anonymous" {
            continue;
        }
        if delete == 303 {
            // Put it back for the next actor.
            let res = act(
                &t,
                &t.admin,
                &format!("/rooms/cab/files/trash/file/{others}/restore"),
                &[],
            )
            .await;
            assert_eq!(res.status(), 303);
        }
    }
    // Exactly the allowed roles left a file behind; hanako's file bears the name the last actor
    // allowed to rename it gave (the outsider and the visitor after the manager could not).
    let mut names: Vec<String> = files_of(&t.app, t.room_id)
        .into_iter()
        .map(|f| f.1)
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "chief_editor.txt",
            "editor.txt",
            "manager-renamed.txt",
            "manager.txt",
            "member.txt"
        ]
    );
}

/// Text, CSV (`Shift_JIS`, as Japanese Excel writes it) and Markdown files open a preview page that
/// shows them as text, a table and sanitised Markdown; an HTML file has no preview (it downloads);
/// hostile content stays text; someone outside the closed room finds nothing; a large file shows
/// only its start.
#[actix_web::test]
async fn text_csv_and_markdown_files_are_previewed_as_text_never_as_html() {
    let t = cabinet_with(Options::default(), 10).await;
    let (csv, _, _) =
        encoding_rs::SHIFT_JIS.encode("氏名,学年,メモ\n山田,3年,\"<b>太字</b>, です\"\n");
    let big = "行\n".repeat(200_000).into_bytes();
    let res = upload(
        &t.app,
        &t.hanako,
        0,
        &[
            ("名簿.csv", csv.into_owned()),
            ("メモ.txt", b"<script>alert(1)</script>\nline 2".to_vec()),
            (
                "README.md",
                b"# Title\n\n<img src=x onerror=alert(1)> **bold**".to_vec(),
            ),
            ("page.html", b"<h1>hi</h1>".to_vec()),
            ("大きい.txt", big),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let ids: std::collections::HashMap<String, i64> = files_of(&t.app, t.room_id)
        .into_iter()
        .map(|(id, name, _)| (name, id))
        .collect();
    let preview = |name: &str| format!("/rooms/cab/files/preview/{}", ids[name]);
    let (_, list) = open(&t, "/rooms/cab/files".to_owned()).await;
    assert!(
        list.contains(&format!("href=\"{}\"", preview("名簿.csv"))),
        "the list links the preview"
    );

    let (status, html) = open(&t, preview("名簿.csv")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("<th scope=\"col\">氏名</th>") && html.contains("<td>山田</td>"),
        "{html}"
    );
    assert!(
        html.contains("&lt;b&gt;太字&lt;&#x2F;b&gt;, です")
            || html.contains("&lt;b&gt;太字&lt;/b&gt;, です"),
        "{html}"
    );
    assert!(html.contains("Shift_JIS"));

    let (_, html) = open(&t, preview("メモ.txt")).await;
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;") && !html.contains("<script>alert"),
        "text stays text"
    );

    let (_, html) = open(&t, preview("README.md")).await;
    assert!(html.contains("<h1>Title</h1>") && html.contains("<strong>bold</strong>"));
    assert!(
        !html.contains("onerror"),
        "Markdown goes through the sanitiser"
    );

    let (status, _) = open(&t, preview("page.html")).await;
    assert_eq!(status, 404, "HTML is never previewed");

    let (_, html) = open(&t, preview("大きい.txt")).await;
    assert!(
        html.contains("先頭だけ"),
        "a large file shows its start, and says so"
    );
    assert!(
        html.len() < 400_000,
        "only the start is read: {} bytes",
        html.len()
    );

    // Someone else: not a member of the closed room, or logged out.
    t.app.user("taro").create();
    let taro = t.app.sign_in("taro").await;
    let res = taro
        .get(t.app.url(&preview("名簿.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let anon = t.app.client();
    let res = anon
        .get(t.app.url(&preview("名簿.csv")))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 200);
    // A file in the trash has no preview either.
    let res = t
        .app
        .post_form(
            &t.hanako,
            "/rooms/cab/files",
            &format!("/rooms/cab/files/file/{}/delete", ids["メモ.txt"]),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(open(&t, preview("メモ.txt")).await.0, 404);
}

/// GETs a page as hanako: its status and text.
async fn open(t: &Cabinet, path: String) -> (u16, String) {
    let res = t.hanako.get(t.app.url(&path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}
