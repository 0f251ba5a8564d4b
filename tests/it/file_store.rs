//! The content-addressed store cannot be poisoned (issue #10): resumable uploads are appended to
//! one chunk at a time across requests and processes, a blob is named only by a hash proven from
//! its bytes, an upload is finished once, quotas hold under parallel uploads, and
//! `yui check --blobs` finds, quarantines and lets uploads heal a damaged blob.

use diesel::prelude::*;
use futures_util::future::join_all;
use yui::db::schema::files;

use crate::files::{MB, cabinet_with, file_url, files_of, sha_hex, upload};
use crate::support::*;

/// Bytes no other test body shares: `seed` picks the pattern.
fn body(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| u8::try_from((i * 31 + usize::from(seed) * 7 + i / 251) % 256).unwrap())
        .collect()
}

/// Starts a resumable upload of `size` bytes in `cab` through `base` (an app or its sibling).
async fn create(c: &reqwest::Client, base: &str, token: &str, size: usize) -> String {
    let res = c
        .post(format!("{base}/rooms/cab/files/folder/0/uploads"))
        .header("x-csrf-token", token)
        .form(&[("name", "data.bin"), ("size", &size.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn put(
    c: &reqwest::Client,
    base: &str,
    token: &str,
    id: &str,
    offset: usize,
    bytes: &[u8],
) -> reqwest::Response {
    c.put(format!(
        "{base}/rooms/cab/files/uploads/{id}?offset={offset}"
    ))
    .header("x-csrf-token", token)
    .body(bytes.to_vec())
    .send()
    .await
    .unwrap()
}

async fn finish(c: &reqwest::Client, base: &str, token: &str, id: &str) -> reqwest::Response {
    c.post(format!("{base}/rooms/cab/files/uploads/{id}/finish"))
        .header("x-csrf-token", token)
        .send()
        .await
        .unwrap()
}

async fn offset_of(c: &reqwest::Client, base: &str, id: &str) -> usize {
    let v: serde_json::Value = c
        .get(format!("{base}/rooms/cab/files/uploads/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    usize::try_from(v["offset"].as_u64().unwrap()).unwrap()
}

/// The file's recorded blob name, and the SHA-256 of what a download of it serves.
async fn recorded_and_served(t: &crate::files::Cabinet, file_id: i64) -> (String, String) {
    let recorded: String = t.app.db(|conn| {
        Ok(files::table
            .find(file_id)
            .select(files::blob_sha256)
            .first(conn)?)
    });
    let res = t
        .hanako
        .get(t.app.url(&file_url(file_id)))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    (recorded, sha_hex(&res.bytes().await.unwrap()))
}

/// A second room `other` with files on, managed by the admin (an uploader in ANY room gets a blob
/// by its hash, so a poisoned blob would reach them).
async fn other_room(app: &TestApp, admin: &reqwest::Client) {
    app.room("other")
        .named("別室")
        .closed()
        .quota_mb(50)
        .features(&["files"])
        .managed_by("admin")
        .create(admin)
        .await;
}

/// The admin uploads `bytes` into `other` and downloads them back.
async fn upload_elsewhere_and_download(
    app: &TestApp,
    admin: &reqwest::Client,
    name: &str,
    bytes: &[u8],
) -> Vec<u8> {
    let id = app
        .file_in("other", name)
        .bytes(bytes)
        .upload(admin)
        .await
        .id;
    let res = admin
        .get(app.url(&format!("/rooms/other/files/file/{id}/x")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.bytes().await.unwrap().to_vec()
}

#[actix_web::test]
async fn parallel_chunks_at_one_offset_cannot_poison_the_store() {
    let t = cabinet_with(Options::default(), 50).await;
    other_room(&t.app, &t.admin).await;
    let token = t.app.csrf(&t.hanako, "/rooms/cab/files").await;
    // The attacker's bytes M and the bytes T someone will upload later, sent at once at offset 0
    // of one upload declared as long as both.
    let bodies = [body(3 * MB, 1), body(2 * MB, 2), body(2 * MB + 7, 3)];
    let total: usize = bodies.iter().map(Vec::len).sum();
    let id = create(&t.hanako, &t.app.base, &token, total).await;
    let mut clients = Vec::new();
    for _ in &bodies {
        let c = t.app.sign_in("hanako").await;
        let token = t.app.csrf(&c, "/rooms/cab/files").await;
        clients.push((c, token));
    }
    let sent = join_all(
        clients
            .iter()
            .zip(&bodies)
            .map(|((c, token), b)| put(c, &t.app.base, token, &id, 0, b)),
    )
    .await;
    let statuses: Vec<u16> = sent.iter().map(|r| r.status().as_u16()).collect();
    let won: Vec<usize> = (0..bodies.len()).filter(|&i| statuses[i] == 200).collect();
    assert_eq!(won.len(), 1, "one chunk at offset 0 is taken: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 409),
        "the others are told the offset is taken or in flight: {statuses:?}"
    );
    let part = t.app.data_dir().join("uploads").join(format!("{id}.part"));
    assert!(
        std::fs::read(&part).unwrap() == bodies[won[0]],
        "the part holds exactly the accepted body"
    );
    // Complete it the way a client resumes: ask where it stands, send the rest.
    let at = offset_of(&t.hanako, &t.app.base, &id).await;
    assert_eq!(at, bodies[won[0]].len());
    let rest: Vec<u8> = (0..bodies.len())
        .filter(|&i| i != won[0])
        .flat_map(|i| bodies[i].clone())
        .collect();
    assert_eq!(
        put(&t.hanako, &t.app.base, &token, &id, at, &rest)
            .await
            .status(),
        200
    );
    let res = finish(&t.hanako, &t.app.base, &token, &id).await;
    assert_eq!(res.status(), 200);
    let file_id = res.json::<serde_json::Value>().await.unwrap()["file"]
        .as_i64()
        .unwrap();
    let (recorded, served) = recorded_and_served(&t, file_id).await;
    assert_eq!(served, recorded, "the blob's name is the hash of its bytes");
    // Someone uploading any of the raced bodies in another room gets those bytes back.
    for (i, b) in bodies.iter().enumerate() {
        let got = upload_elsewhere_and_download(&t.app, &t.admin, &format!("t{i}.bin"), b).await;
        assert!(got == *b, "body {i} comes back as it was uploaded");
    }
}

#[actix_web::test]
async fn a_second_process_cannot_name_a_blob_with_a_stale_hash() {
    let t = cabinet_with(Options::default(), 50).await;
    let b = t.app.spawn_sibling();
    let (a_base, b_base) = (t.app.base.clone(), b.base.clone());
    let token = t.app.csrf(&t.hanako, "/rooms/cab/files").await;
    let h = &t.hanako;

    // 1. Chunks alternate between the two processes; each finds the other's bytes on disk.
    let x = body(3 * MB, 4);
    let id = create(h, &a_base, &token, x.len()).await;
    for (i, base) in [&a_base, &b_base, &a_base].into_iter().enumerate() {
        let res = put(h, base, &token, &id, i * MB, &x[i * MB..(i + 1) * MB]).await;
        assert_eq!(res.status(), 200, "chunk {i}");
    }
    // Both processes now refuse a chunk at a taken offset.
    for base in [&a_base, &b_base] {
        let res = put(h, base, &token, &id, 0, &body(3 * MB, 5)).await;
        assert_eq!(res.status(), 409);
    }
    let res = finish(h, &b_base, &token, &id).await;
    assert_eq!(res.status(), 200);
    let file = res.json::<serde_json::Value>().await.unwrap()["file"]
        .as_i64()
        .unwrap();
    assert_eq!(recorded_and_served(&t, file).await.0, sha_hex(&x));
    assert_eq!(recorded_and_served(&t, file).await.1, sha_hex(&x));

    // 2. Process A holds the running hash of the whole of X; B is asked to write Y over it.
    let (x, y) = (body(2 * MB, 6), body(2 * MB, 7));
    let id = create(h, &a_base, &token, x.len()).await;
    assert_eq!(put(h, &a_base, &token, &id, 0, &x).await.status(), 200);
    assert_eq!(put(h, &b_base, &token, &id, 0, &y).await.status(), 409);
    let res = finish(h, &a_base, &token, &id).await;
    assert_eq!(res.status(), 200);
    let file = res.json::<serde_json::Value>().await.unwrap()["file"]
        .as_i64()
        .unwrap();
    let (recorded, served) = recorded_and_served(&t, file).await;
    assert_eq!(
        (recorded.as_str(), served.as_str()),
        (&*sha_hex(&x), &*sha_hex(&x))
    );

    // 3. The same, but the part lost its bytes (a disk, a hand, a process that ignored the lock)
    //    and B legitimately wrote Y from offset 0 again: A's hash is for as many bytes as the
    //    part has, but not for these bytes, and only the row's token can tell.
    let (x, y) = (body(2 * MB, 8), body(2 * MB, 9));
    let id = create(h, &a_base, &token, x.len()).await;
    assert_eq!(put(h, &a_base, &token, &id, 0, &x).await.status(), 200);
    let part = t.app.data_dir().join("uploads").join(format!("{id}.part"));
    std::fs::File::options()
        .write(true)
        .open(&part)
        .unwrap()
        .set_len(0)
        .unwrap();
    assert_eq!(offset_of(h, &b_base, &id).await, 0);
    assert_eq!(put(h, &b_base, &token, &id, 0, &y).await.status(), 200);
    let res = finish(h, &a_base, &token, &id).await;
    assert_eq!(res.status(), 200);
    let file = res.json::<serde_json::Value>().await.unwrap()["file"]
        .as_i64()
        .unwrap();
    let (recorded, served) = recorded_and_served(&t, file).await;
    assert_eq!(served, sha_hex(&y));
    assert_eq!(
        recorded, served,
        "named by the bytes it holds, not by A's stale hash"
    );
    drop(b);
}

#[actix_web::test]
async fn an_upload_finished_twice_at_once_makes_one_file() {
    let t = cabinet_with(Options::default(), 50).await;
    let b = t.app.spawn_sibling();
    let token = t.app.csrf(&t.hanako, "/rooms/cab/files").await;
    let x = body(4 * MB, 10);
    let id = create(&t.hanako, &t.app.base, &token, x.len()).await;
    assert_eq!(
        put(&t.hanako, &t.app.base, &token, &id, 0, &x)
            .await
            .status(),
        200
    );
    let before = files_of(&t.app, t.room_id).len();
    let bases = [&t.app.base, &b.base, &t.app.base, &b.base];
    let answers = join_all(
        bases
            .iter()
            .map(|base| finish(&t.hanako, base, &token, &id)),
    )
    .await;
    let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| [200, 404, 409].contains(s)),
        "{statuses:?}"
    );
    // And once more afterwards.
    let again = finish(&t.hanako, &t.app.base, &token, &id).await.status();
    assert!(again == 404 || again == 409, "{again}");
    assert_eq!(files_of(&t.app, t.room_id).len(), before + 1);
    assert!(crate::files::files_below(&t.app.data_dir().join("uploads")).is_empty());
}

/// Uploads at once that each fit the room's quota alone, no two together.
const RACERS: usize = 16;
/// Races per test: each is an independent chance for a missing lock to show (one race alone lets
/// two through about half the time on PostgreSQL without the lock).
const ROUNDS: usize = 5;

/// Gives the room `cab` a quota of what it uses now plus `left` bytes; returns the quota.
fn leave_room_for(t: &crate::files::Cabinet, left: usize) -> usize {
    use yui::db::schema::rooms;
    let quota = usage(t) + left;
    let room_id = t.room_id;
    t.app.db(|conn| {
        diesel::update(rooms::table.find(room_id))
            .set(rooms::quota_bytes.eq(i64::try_from(quota).unwrap()))
            .execute(conn)?;
        Ok(())
    });
    quota
}

fn usage(t: &crate::files::Cabinet) -> usize {
    let room_id = t.room_id;
    let n = t
        .app
        .db(|conn| Ok(yui::models::file::room_usage(conn, room_id)?));
    usize::try_from(n).unwrap()
}

#[actix_web::test]
async fn parallel_uploads_into_a_nearly_full_room_stay_within_its_quota() {
    let t = cabinet_with(Options::default(), 50).await;
    let each = MB * 3 / 5;
    for round in 0..ROUNDS {
        let quota = leave_room_for(&t, MB);
        let app = &t.app;
        let answers = join_all((0..RACERS).map(|i| {
            let name = format!("p{round}-{i}.bin");
            let bytes = body(each, u8::try_from(round * RACERS + i).unwrap());
            let c = &t.hanako;
            async move { upload(app, c, 0, &[(name.as_str(), bytes)]).await }
        }))
        .await;
        let statuses: Vec<u16> = answers.iter().map(|r| r.status().as_u16()).collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 303).count(),
            1,
            "round {round}: exactly one fits: {statuses:?}"
        );
        assert!(
            usage(&t) <= quota,
            "{} bytes in a room of {quota}",
            usage(&t)
        );
    }
}

#[actix_web::test]
async fn parallel_resumable_uploads_reserve_within_the_quota() {
    let t = cabinet_with(Options::default(), 50).await;
    // A resumable upload reserves its declared size when it starts.
    let token = t.app.csrf(&t.hanako, "/rooms/cab/files").await;
    let size = (MB * 3 / 5).to_string();
    for round in 0..ROUNDS {
        let quota = leave_room_for(&t, MB);
        let answers = join_all((0..RACERS).map(|_| {
            t.hanako
                .post(t.app.url("/rooms/cab/files/folder/0/uploads"))
                .header("x-csrf-token", &token)
                .form(&[("name", "r.bin"), ("size", size.as_str())])
                .send()
        }))
        .await;
        let statuses: Vec<u16> = answers
            .iter()
            .map(|r| r.as_ref().unwrap().status().as_u16())
            .collect();
        assert_eq!(
            statuses.iter().filter(|s| **s == 201).count(),
            1,
            "round {round}: exactly one reservation fits: {statuses:?}"
        );
        assert!(
            usage(&t) <= quota,
            "{} bytes reserved of {quota}",
            usage(&t)
        );
    }
}

/// Runs the real `yui` binary on the app's data directory and database.
async fn yui_cli(app: &TestApp, args: &[&str]) -> (bool, String) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_yui"));
    cmd.arg("--data-dir")
        .arg(app.data_dir())
        .arg("--database-url")
        .arg(app.core.config.database_url())
        .args(args)
        .env_remove("YUI_CONFIG");
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[actix_web::test]
async fn check_blobs_quarantines_a_damaged_blob_and_an_upload_heals_it() {
    let t = cabinet_with(Options::default(), 50).await;
    let good = body(3 * MB + 5, 30);
    let other = body(1000, 31);
    let res = upload(
        &t.app,
        &t.hanako,
        0,
        &[("good.bin", good.clone()), ("other.bin", other.clone())],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (ok, out) = yui_cli(&t.app, &["check", "--blobs"]).await;
    assert!(ok, "a clean store passes: {out}");
    assert!(
        out.contains("blobs: 2 checked") && out.contains("damaged: 0, missing: 0"),
        "{out}"
    );

    // Bit rot: one byte of the big blob flips, its length stays.
    let sha = sha_hex(&good);
    let blob = t
        .app
        .data_dir()
        .join("blobs")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(&sha);
    let mut rotten = good.clone();
    rotten[2 * MB] ^= 0x40;
    std::fs::write(&blob, &rotten).unwrap();
    let (ok, out) = yui_cli(&t.app, &["check", "--blobs"]).await;
    assert!(!ok, "a damaged blob fails the check: {out}");
    assert!(
        out.contains(&format!("DAMAGED {sha}")) && out.contains("damaged: 1, missing: 0"),
        "{out}"
    );
    assert!(!blob.exists(), "moved out of blobs/");
    let quarantined: Vec<Vec<u8>> = std::fs::read_dir(t.app.data_dir().join("quarantine"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(quarantined == [rotten], "kept, not deleted");

    // Downloads say what happened instead of serving other bytes.
    let id = files_of(&t.app, t.room_id)
        .into_iter()
        .find(|f| f.1 == "good.bin")
        .unwrap()
        .0;
    let res = t.hanako.get(t.app.url(&file_url(id))).send().await.unwrap();
    assert_eq!(res.status(), 409);
    let page = res.text().await.unwrap();
    assert!(
        page.contains("integrity") || page.contains("整合性"),
        "{page}"
    );
    let (ok, out) = yui_cli(&t.app, &["check", "--blobs"]).await;
    assert!(!ok && out.contains(&format!("MISSING {sha}")), "{out}");

    // Uploading the same bytes again writes the blob anew, and the old file is whole again.
    let res = upload(&t.app, &t.hanako, 0, &[("again.bin", good.clone())]).await;
    assert_eq!(res.status(), 303);
    let res = t.hanako.get(t.app.url(&file_url(id))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap() == good);
    let (ok, out) = yui_cli(&t.app, &["check", "--blobs"]).await;
    assert!(
        ok && out.contains("damaged: 0, missing: 0"),
        "healed: {out}"
    );
}

#[actix_web::test]
async fn an_upload_replaces_a_blob_poisoned_with_other_bytes() {
    use yui::db::schema::blobs;
    let t = cabinet_with(Options::default(), 50).await;
    other_room(&t.app, &t.admin).await;
    // As a store poisoned before the fix holds it: the blob named sha256(T) holds M‖T, and its
    // row records that length.
    let (m, tee) = (body(MB, 40), body(MB / 2, 41));
    let sha = sha_hex(&tee);
    let poisoned: Vec<u8> = m.iter().chain(&tee).copied().collect();
    let dir = t
        .app
        .data_dir()
        .join("blobs")
        .join(&sha[0..2])
        .join(&sha[2..4]);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(&sha), &poisoned).unwrap();
    let at = yui::models::now();
    let len = i64::try_from(poisoned.len()).unwrap();
    t.app.db(|conn| {
        diesel::insert_into(blobs::table)
            .values((
                blobs::sha256.eq(&sha),
                blobs::size.eq(len),
                blobs::last_used_at.eq(at),
            ))
            .execute(conn)?;
        Ok(())
    });
    // Someone uploads T: the blob "exists", but not with T's length, so T takes its place.
    let got = upload_elsewhere_and_download(&t.app, &t.admin, "t.bin", &tee).await;
    assert!(got == tee, "T comes back, not M‖T");
    let size: i64 = t
        .app
        .db(|conn| Ok(blobs::table.find(&sha).select(blobs::size).first(conn)?));
    assert_eq!(size, i64::try_from(tee.len()).unwrap());
    let kept: Vec<Vec<u8>> = std::fs::read_dir(t.app.data_dir().join("quarantine"))
        .unwrap()
        .map(|e| std::fs::read(e.unwrap().path()).unwrap())
        .collect();
    assert!(kept == [poisoned], "the poisoned bytes are kept aside");
}

/// A second `yui serve` starting on the same data directory sweeps `tmp/` at start: it must leave a
/// plain upload that the first process is still receiving, which then arrives whole.
#[actix_web::test]
async fn a_second_process_starting_leaves_an_upload_in_flight_alone() {
    let t = cabinet_with(Options::default(), 50).await;
    let token = t.app.csrf(&t.hanako, "/rooms/cab/files").await;
    let bytes = body(2 * MB, 9);
    let boundary = "yui-test-boundary-7f3a";
    let head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"flight.bin\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    );
    let tail = format!("\r\n--{boundary}--\r\n");
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel::<Vec<u8>>();
    let rx = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|b| (Ok::<_, std::io::Error>(b), rx))
    });
    let request = t
        .hanako
        .post(
            t.app
                .url(&format!("/rooms/cab/files/folder/0/upload?_csrf={token}")),
        )
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(reqwest::Body::wrap_stream(rx))
        .send();
    let sending = actix_web::rt::spawn(request);
    tx.send(head.into_bytes()).unwrap();
    tx.send(bytes[..MB].to_vec()).unwrap();
    // Wait until the first process holds the upload in tmp/.
    let tmp = t.app.data_dir().join("tmp");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while std::fs::read_dir(&tmp).unwrap().count() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the upload never reached tmp/"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let _second = t.app.spawn_sibling();
    tx.send(bytes[MB..].to_vec()).unwrap();
    tx.send(tail.into_bytes()).unwrap();
    drop(tx);
    let res = sending.await.unwrap().unwrap();
    assert_eq!(res.status(), 303, "the upload arrived");
    let stored = files_of(&t.app, t.room_id);
    assert_eq!(stored.len(), 1, "{stored:?}");
    let (recorded, served) = recorded_and_served(&t, stored[0].0).await;
    assert_eq!(
        (recorded.as_str(), served.as_str()),
        (sha_hex(&bytes).as_str(), sha_hex(&bytes).as_str())
    );
}
