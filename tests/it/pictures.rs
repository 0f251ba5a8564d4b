//! Profile pictures (issue #15): uploaded on `/me` with a plain form, made into a 256 px square
//! JPEG on the server (EXIF and its GPS position gone), kept as a blob that garbage collection
//! leaves alone while a picture or a file refers to it, shown where people appear, and served only
//! to those who may see the person's profile.

use diesel::prelude::*;
use yui::db::schema::{blobs, user_pictures};

use crate::support::*;

fn picture_of(app: &TestApp, user: i64) -> Option<String> {
    app.db(move |conn| {
        Ok(user_pictures::table
            .find(user)
            .select(user_pictures::blob_sha256)
            .first::<String>(conn)
            .optional()?)
    })
}

fn blob_known(app: &TestApp, sha: &str) -> bool {
    let sha = sha.to_owned();
    app.db(move |conn| {
        Ok(blobs::table
            .find(sha)
            .select(blobs::sha256)
            .first::<String>(conn)
            .optional()?
            .is_some())
    })
}

async fn html(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

/// Garbage collection as the jobs loop runs it, two hours from now (past the grace period).
fn collect_garbage(app: &TestApp) {
    let later = yui::models::now() + chrono::Duration::hours(2);
    yui::services::files::collect_garbage(&app.core, later).unwrap();
}

#[actix_web::test]
async fn a_picture_is_uploaded_shown_replaced_and_removed() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let hanako = app.user("hanako").create();
    app.user("taro").create();
    app.user("jiro").create();
    app.room("town")
        .managed_by("admin")
        .member("hanako", "member")
        .member("taro", "member")
        .create(&admin)
        .await;
    let as_hanako = app.sign_in("hanako").await;
    let as_taro = app.sign_in("taro").await;
    let as_jiro = app.sign_in("jiro").await;

    // Without a picture: the placeholder with her initial, no <img>.
    let (_, me) = html(&as_hanako, &app, "/me").await;
    assert!(me.contains("avatar-none"), "{me}");
    assert!(picture_src(&me, hanako.id).is_none());

    // A phone's photo with its GPS position in EXIF.
    let photo = jpeg_with_gps(640, 480, 1);
    assert!(has_exif(&photo));
    let res = upload_picture(&app, &as_hanako, "IMG_0001.jpg", photo).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/me");
    let first = picture_of(&app, hanako.id).expect("stored");
    let (_, me) = html(&as_hanako, &app, "/me").await;
    assert!(me.contains("プロフィール写真を保存しました"), "{me}");
    let src = picture_src(&me, hanako.id).expect("shown on /me and in the header");
    assert!(src.contains(&first[..16]), "{src}");

    let res = as_hanako.get(app.url(&src)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    assert_eq!(h.get("content-type").unwrap(), "image/jpeg");
    assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(h.get("cache-control").unwrap(), "private, max-age=86400");
    let etag = h.get("etag").unwrap().to_str().unwrap().to_owned();
    assert_eq!(etag, format!("\"{first}\""));
    let stored = res.bytes().await.unwrap().to_vec();
    assert!(
        !has_exif(&stored),
        "re-encoding drops EXIF and its GPS position"
    );
    assert!(!stored.windows(7).any(|w| w == b"PhoneCo"));
    let img = image::load_from_memory(&stored).unwrap();
    assert_eq!((img.width(), img.height()), (256, 256));
    // Unchanged: 304 with the same validators.
    let res = as_hanako
        .get(app.url(&src))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers().get("etag").unwrap().to_str().unwrap(), etag);

    // Taro shares a room: he sees it in the directory and on her profile (with her name as alt).
    let (_, people) = html(&as_taro, &app, "/people").await;
    assert!(picture_src(&people, hanako.id).is_some(), "{people}");
    let (_, profile) = html(&as_taro, &app, &format!("/people/{}", hanako.id)).await;
    assert!(profile.contains("alt=\"hanako さん\""), "{profile}");
    let res = as_taro.get(app.url(&src)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    // Jiro shares nothing with her and an anonymous visitor is nobody: 404 both.
    let res = as_jiro.get(app.url(&src)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let res = app.client().get(app.url(&src)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    // The admin sees everyone's.
    let res = admin.get(app.url(&src)).send().await.unwrap();
    assert_eq!(res.status(), 200);

    // Replaced by a PNG: a new blob and a new address; the old blob is left to collection.
    let res = upload_picture(
        &app,
        &as_hanako,
        "me.png",
        sample_png(300, 200, [0, 160, 0]),
    )
    .await;
    assert_eq!(res.status(), 303);
    let second = picture_of(&app, hanako.id).unwrap();
    assert_ne!(first, second);
    let (_, people) = html(&as_taro, &app, "/people").await;
    let src2 = picture_src(&people, hanako.id).unwrap();
    assert!(src2.contains(&second[..16]) && src2 != src);
    collect_garbage(&app);
    assert!(
        !blob_known(&app, &first),
        "the old picture's blob is collected"
    );
    assert!(
        !app.data_dir()
            .join("blobs")
            .join(&first[..2])
            .join(&first[2..4])
            .join(&first)
            .exists()
    );
    assert!(blob_known(&app, &second), "the picture's blob is kept");
    let res = as_taro.get(app.url(&src2)).send().await.unwrap();
    assert_eq!(res.status(), 200);

    // The same bytes as a file in a cabinet: removing the picture leaves the file's blob alone.
    let green = as_taro
        .get(app.url(&src2))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .to_vec();
    app.room("album")
        .features(&["blog", "files"])
        .managed_by("admin")
        .create(&admin)
        .await;
    app.file_in("album", "copy.jpg")
        .bytes(green)
        .upload(&admin)
        .await;

    // Removed: the placeholder again everywhere, the address answers 404.
    let res = app
        .post_form(&as_hanako, "/me", "/me/picture/delete", &[])
        .await;
    assert_eq!(res.status(), 303);
    assert!(picture_of(&app, hanako.id).is_none());
    let (_, me) = html(&as_hanako, &app, "/me").await;
    assert!(me.contains("プロフィール写真を削除しました"));
    assert!(picture_src(&me, hanako.id).is_none() && me.contains("avatar-none"));
    let (_, people) = html(&as_taro, &app, "/people").await;
    assert!(picture_src(&people, hanako.id).is_none());
    let res = as_taro.get(app.url(&src2)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    collect_garbage(&app);
    assert!(
        blob_known(&app, &second),
        "a file still refers to the same bytes"
    );
}

#[actix_web::test]
async fn a_photo_is_turned_upright_by_its_exif_orientation() {
    let app = TestApp::spawn();
    let _admin = app.admin_client().await;
    let hanako = app.user("hanako").create();
    let c = app.sign_in("hanako").await;
    // Stored sideways (red left, blue right) and tagged "rotate 90° clockwise to view".
    let res = upload_picture(&app, &c, "IMG.jpg", jpeg_with_gps(600, 300, 6)).await;
    assert_eq!(res.status(), 303);
    let src = format!("/people/{}/picture", hanako.id);
    let bytes = c
        .get(app.url(&src))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let img = image::load_from_memory(&bytes).unwrap().to_rgb8();
    let (top, bottom) = (img.get_pixel(128, 20).0, img.get_pixel(128, 235).0);
    assert!(top[0] > 150 && top[2] < 100, "red on top: {top:?}");
    assert!(bottom[2] > 150 && bottom[0] < 100, "blue below: {bottom:?}");
}

/// A 1×1 PNG whose header says `w` × `h`: a decompression bomb's promise (the decoder must
/// refuse it from the header, before allocating anything).
fn png_claiming(w: u32, h: u32) -> Vec<u8> {
    let mut png = sample_png(1, 1, [0, 0, 0]);
    // IHDR's data starts at 16 (8 signature + 4 length + 4 type); its CRC follows at 29.
    png[16..20].copy_from_slice(&w.to_be_bytes());
    png[20..24].copy_from_slice(&h.to_be_bytes());
    let crc = crc32(&png[12..29]);
    png[29..33].copy_from_slice(&crc.to_be_bytes());
    png
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A small JPEG whose frame header says 60000 × 60000.
fn jpeg_claiming_huge() -> Vec<u8> {
    let mut jpeg = sample_jpeg(16, 16);
    let sof = jpeg.windows(2).position(|w| w == [0xff, 0xc0]).unwrap();
    // FFC0, length (2), precision (1), then height and width (2 each).
    jpeg[sof + 5..sof + 7].copy_from_slice(&60000u16.to_be_bytes());
    jpeg[sof + 7..sof + 9].copy_from_slice(&60000u16.to_be_bytes());
    jpeg
}

#[actix_web::test]
async fn bad_pictures_are_refused_with_a_reason_and_the_old_one_stays() {
    let app = TestApp::spawn();
    let _admin = app.admin_client().await;
    let hanako = app.user("hanako").create();
    let c = app.sign_in("hanako").await;
    // WebP is taken too.
    let res = upload_picture(&app, &c, "me.webp", sample_webp(64, 64, [200, 100, 0])).await;
    assert_eq!(res.status(), 303);
    let kept = picture_of(&app, hanako.id).unwrap();

    let mut cut = sample_jpeg(400, 400);
    cut.truncate(cut.len() / 3);
    let mut cut_png = sample_png(300, 300, [10, 20, 30]);
    cut_png.truncate(cut_png.len() / 2);
    let too_large = vec![0xffu8; 16 * 1024 * 1024 + 1];
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "notes.txt",
            b"just some text, not a photo".to_vec(),
            "JPEG・PNG・WebP の画像ではありません",
        ),
        (
            "fake.jpg",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec(),
            "JPEG・PNG・WebP の画像ではありません",
        ),
        ("cut.jpg", cut, "画像が壊れているか途中で切れている"),
        ("cut.png", cut_png, "画像が壊れているか途中で切れている"),
        ("empty.jpg", Vec::new(), "空のファイルは使えません"),
        (
            "bomb.png",
            png_claiming(100_000, 100_000),
            "画像の縦横が大きすぎます",
        ),
        (
            "wide.png",
            png_claiming(8001, 10),
            "画像の縦横が大きすぎます",
        ),
        ("bomb.jpg", jpeg_claiming_huge(), "画像の縦横が大きすぎます"),
        ("huge.jpg", too_large, "ファイルが大きすぎます"),
    ];
    for (name, bytes, message) in cases {
        let res = upload_picture(&app, &c, name, bytes).await;
        assert_eq!(res.status(), 422, "{name}");
        let page = res.text().await.unwrap();
        assert!(page.contains(message), "{name}: {page}");
        assert!(
            page.contains("id=\"err-picture\""),
            "{name}: under its field"
        );
        assert_eq!(
            picture_of(&app, hanako.id).as_deref(),
            Some(kept.as_str()),
            "{name}"
        );
        assert!(
            picture_src(&page, hanako.id).is_some(),
            "{name}: the page still shows the picture she has"
        );
    }
    // The same in English.
    c.get(app.url("/lang/en")).send().await.unwrap();
    let res = upload_picture(&app, &c, "notes.txt", b"hello".to_vec()).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("This is not a JPEG, PNG or WebP image"),
        "{page}"
    );
    assert_eq!(picture_of(&app, hanako.id).as_deref(), Some(kept.as_str()));
}

#[actix_web::test]
async fn nobody_changes_someone_else_s_picture() {
    let app = TestApp::spawn();
    let _admin = app.admin_client().await;
    let hanako = app.user("hanako").create();
    let taro = app.user("taro").create();
    let as_hanako = app.sign_in("hanako").await;
    let as_taro = app.sign_in("taro").await;
    let res = upload_picture(&app, &as_hanako, "h.png", sample_png(50, 50, [255, 0, 0])).await;
    assert_eq!(res.status(), 303);
    let hers = picture_of(&app, hanako.id).unwrap();

    // Taro names her account in the query and in the form: only his own picture changes.
    let token = app.csrf(&as_taro, "/me").await;
    let form = reqwest::multipart::Form::new()
        .text("user_id", hanako.id.to_string())
        .text("login", "hanako")
        .part(
            "picture",
            reqwest::multipart::Part::bytes(sample_png(50, 50, [0, 0, 255])).file_name("t.png"),
        );
    let res = as_taro
        .post(app.url(&format!(
            "/me/picture?_csrf={token}&user_id={}&login=hanako",
            hanako.id
        )))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(picture_of(&app, hanako.id).as_deref(), Some(hers.as_str()));
    assert!(picture_of(&app, taro.id).is_some());
    let res = app
        .post_form(
            &as_taro,
            "/me",
            &format!("/me/picture/delete?user_id={}", hanako.id),
            &[("user_id", &hanako.id.to_string())],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(picture_of(&app, hanako.id).as_deref(), Some(hers.as_str()));
    assert!(picture_of(&app, taro.id).is_none());
    // There is no route that takes another account's picture.
    for path in [
        format!("/people/{}/picture", hanako.id),
        format!("/people/{}/picture/delete", hanako.id),
    ] {
        let res = app.post_form(&as_taro, "/me", &path, &[]).await;
        assert!(res.status().is_client_error(), "{path}: {}", res.status());
    }
    assert_eq!(picture_of(&app, hanako.id).as_deref(), Some(hers.as_str()));
}

/// Two uploads of one member's picture at once: both answer, one picture is left (PostgreSQL
/// takes the account row's lock; SQLite serialises the writes).
#[actix_web::test]
async fn two_uploads_at_once_leave_one_picture() {
    let app = TestApp::spawn();
    let _admin = app.admin_client().await;
    let hanako = app.user("hanako").create();
    let c = app.sign_in("hanako").await;
    let (a, b) = tokio::join!(
        upload_picture(&app, &c, "a.png", sample_png(80, 80, [255, 0, 0])),
        upload_picture(&app, &c, "b.png", sample_png(80, 80, [0, 0, 255])),
    );
    assert_eq!((a.status().as_u16(), b.status().as_u16()), (303, 303));
    let rows: i64 = app.db(|conn| {
        Ok(user_pictures::table
            .filter(user_pictures::user_id.eq(hanako.id))
            .count()
            .get_result(conn)?)
    });
    assert_eq!(rows, 1);
    let sha = picture_of(&app, hanako.id).unwrap();
    assert!(blob_known(&app, &sha));
}
