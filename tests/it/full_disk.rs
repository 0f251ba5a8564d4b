//! A data directory on a small tmpfs filled to the brim (#13): uploads and posts while the disk
//! fills are refused with the "disk is full" page (507, in Japanese and in English), nothing is
//! left half-written (no partial file in `tmp/` or `uploads/`, no row without its blob, no blob
//! with other bytes than its name, no post that was refused), the database stays whole (SQLite:
//! `integrity_check`, `foreign_key_check`), what was there before still reads and downloads; once
//! space is freed, uploads and posts work again in the same running site. `yui backup --to` a full
//! disk exits non-zero, says the disk is full and leaves no archive (not even a partial one); with
//! room made, the same command writes one that restores.
//!
//! On PostgreSQL only the data directory (blobs, uploads, temporary files) is on the small disk:
//! uploads are refused, posts go on.
//!
//! Mounting a tmpfs needs root (CI runs as root). Without it these tests say so loudly and pass,
//! unless `YUI_REQUIRE_TMPFS` is set (as `.ci/run` does), in which case they fail.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use yui::db::schema::{files, post_revisions, room_posts};

use crate::cli::{run, yui};
use crate::files::{files_below, sha_hex};
use crate::support::*;

/// A tmpfs of a given size mounted on a fresh temporary directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts one, or says loudly why it cannot (and fails under `YUI_REQUIRE_TMPFS`).
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0700"),
                "tmpfs",
            ])
            .arg(dir.path())
            .output();
        let why = match out {
            Ok(o) if o.status.success() => return Some(Self { dir }),
            Ok(o) => format!(
                "`mount -t tmpfs` failed ({}): {}",
                o.status,
                String::from_utf8_lossy(&o.stderr).trim()
            ),
            Err(e) => format!("`mount` could not run: {e}"),
        };
        assert!(
            std::env::var_os("YUI_REQUIRE_TMPFS").is_none(),
            "YUI_REQUIRE_TMPFS is set but no tmpfs could be mounted: {why}"
        );
        eprintln!(
            "\n*** SKIPPED: the full-disk test needs a small tmpfs and {why}.\n\
             *** Run the tests as root (CI does) to run it; YUI_REQUIRE_TMPFS=1 makes this a failure.\n"
        );
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Gives the disk a new size (to make room on a full one).
    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(status.success(), "remount {}", self.path().display());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazy: the app of the test may still hold files open there.
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

fn is_full(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(28)
}

/// Appends to `filler` until the disk under it takes not one byte more.
fn fill_to_the_brim(filler: &Path) {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(filler)
        .unwrap();
    for chunk in [1 << 20, 64 << 10, 4096, 1] {
        let buf = vec![0xa5u8; chunk];
        loop {
            match f.write(&buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if is_full(&e) => break,
                Err(e) => panic!("filling {}: {e}", filler.display()),
            }
        }
    }
    let free = fs4::available_space(filler.parent().unwrap()).unwrap();
    assert_eq!(free, 0, "the disk is not full");
}

/// Gives `bytes` of the filler back to the disk.
fn free_some(filler: &Path, bytes: u64) {
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(filler)
        .unwrap();
    let len = f.metadata().unwrap().len();
    f.set_len(len.saturating_sub(bytes)).unwrap();
}

/// Bytes that do not compress, different for each `seed`.
fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x.to_le_bytes()[0]
        })
        .collect()
}

/// A long Japanese body (every character a new bigram for the search index), different per `seed`.
fn long_body(seed: u32, chars: u32) -> String {
    (0..chars)
        .map(|i| char::from_u32(0x4e00 + (seed * 7919 + i * 31) % 0x5000).unwrap())
        .collect()
}

/// Uploads one file through the cabinet's plain form, in `lang`: (status, body).
async fn upload(
    app: &TestApp,
    c: &reqwest::Client,
    name: &str,
    bytes: Vec<u8>,
    lang: &str,
) -> (u16, String) {
    let token = app.csrf(c, "/rooms/disk/files").await;
    let form = reqwest::multipart::Form::new().part(
        "files",
        reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
    );
    let res = c
        .post(app.url(&format!("/rooms/disk/files/folder/0/upload?_csrf={token}")))
        .header("accept-language", lang)
        .multipart(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Publishes a post in the room, in `lang`: (status, body).
async fn post(
    app: &TestApp,
    c: &reqwest::Client,
    title: &str,
    body: &str,
    lang: &str,
) -> (u16, String) {
    let token = app.csrf(c, "/rooms/disk/posts/new").await;
    let res = c
        .post(app.url("/rooms/disk/posts"))
        .header("accept-language", lang)
        .form(&[
            ("_csrf", token.as_str()),
            ("title", title),
            ("body", body),
            ("action", "submit"),
        ])
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Asserts the answer is the clear "disk is full" page in `lang`, never a 500.
fn assert_disk_full_page(what: &str, lang: &str, status: u16, page: &str) {
    assert_eq!(status, 507, "{what}: {page}");
    let needles: &[&str] = if lang == "en" {
        &["The disk is full", "Nothing was saved"]
    } else {
        &["ディスクがいっぱいです", "何も保存されておらず"]
    };
    for needle in needles {
        assert!(page.contains(needle), "{what}: {needle:?} missing: {page}");
    }
}

fn titles(app: &TestApp) -> Vec<String> {
    app.db(|conn| {
        Ok(post_revisions::table
            .inner_join(room_posts::table)
            .select(post_revisions::title)
            .load(conn)?)
    })
}

/// `(name, sha256)` of the room's live files.
fn stored_files(app: &TestApp) -> Vec<(String, String)> {
    app.db(|conn| {
        Ok(files::table
            .filter(files::deleted_at.is_null())
            .select((files::name, files::blob_sha256))
            .load(conn)?)
    })
}

/// Nothing is half-written: no partial file waits in `tmp/` or `uploads/`, every blob under
/// `blobs/` has the bytes its name says (a blob whose row a full database refused is whole and
/// left to garbage collection), every file row's blob is there.
fn assert_nothing_half_written(app: &TestApp, what: &str) {
    let data = app.data_dir();
    for dir in ["tmp", "uploads"] {
        let left = files_below(&data.join(dir));
        assert!(left.is_empty(), "{what}: left in {dir}/: {left:?}");
    }
    for blob in files_below(&data.join("blobs")) {
        let name = blob.file_name().unwrap().to_str().unwrap().to_owned();
        assert_eq!(
            sha_hex(&std::fs::read(&blob).unwrap()),
            name,
            "{what}: a blob with other bytes than its name"
        );
    }
    for (name, sha) in stored_files(app) {
        let path = data
            .join("blobs")
            .join(&sha[0..2])
            .join(&sha[2..4])
            .join(&sha);
        assert!(path.is_file(), "{what}: {name}'s blob is missing");
    }
}

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

/// SQLite's own checks of the database file, on a connection of its own.
fn assert_sqlite_whole(app: &TestApp, what: &str) {
    if app.core.db.backend() != yui::db::Backend::Sqlite {
        return;
    }
    let mut conn = yui::db::establish(&app.core.config.database_url()).unwrap();
    let integrity: Vec<Line> =
        diesel::sql_query("SELECT integrity_check AS line FROM pragma_integrity_check")
            .load(&mut conn)
            .unwrap();
    let lines: Vec<&str> = integrity.iter().map(|l| l.line.as_str()).collect();
    assert_eq!(lines, ["ok"], "{what}: integrity_check");
    let broken: Vec<Line> =
        diesel::sql_query("SELECT \"table\" AS line FROM pragma_foreign_key_check")
            .load(&mut conn)
            .unwrap();
    assert!(broken.is_empty(), "{what}: foreign keys broken");
}

/// Downloads a file by name and checks its bytes.
async fn assert_downloads(app: &TestApp, c: &reqwest::Client, name: &str, sha: &str) {
    let id: i64 = app.db({
        let name = name.to_owned();
        move |conn| {
            Ok(files::table
                .filter(files::name.eq(name))
                .filter(files::deleted_at.is_null())
                .select(files::id)
                .first(conn)?)
        }
    });
    let res = c
        .get(app.url(&format!("/rooms/disk/files/file/{id}/x")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "download {name}");
    assert_eq!(sha_hex(&res.bytes().await.unwrap()), sha, "{name}'s bytes");
}

#[actix_web::test]
async fn a_full_disk_refuses_writes_clearly_corrupts_nothing_and_recovers() {
    let Some(disk) = Tmpfs::mount("32m") else {
        return;
    };
    let app = TestApp::spawn_with(Options {
        data_dir_in: Some(disk.path().to_path_buf()),
        ..Options::default()
    });
    let sqlite = app.core.db.backend() == yui::db::Backend::Sqlite;
    let admin = app.admin_client().await;
    app.room("disk")
        .named("満杯試験室")
        .closed()
        .quota_mb(1024)
        .features(&["blog", "files"])
        .managed_by("admin")
        .create(&admin)
        .await;

    // What was there before the disk filled.
    let mut kept: Vec<(String, String)> = Vec::new();
    for i in 0..3 {
        let name = format!("前からある資料-{i}.bin");
        let bytes = noise(i, 200 * 1024);
        kept.push((name.clone(), sha_hex(&bytes)));
        let (status, page) = upload(&app, &admin, &name, bytes, "ja").await;
        assert_eq!(status, 303, "{page}");
    }
    let (status, page) = post(&app, &admin, "満杯になる前の記事", "前からある本文。", "ja").await;
    assert_eq!(status, 303, "{page}");
    if sqlite {
        // An empty WAL: from here every commit has to grow it on the small disk (a checkpoint
        // would let commits reuse its old space, and the fill below would not reach them).
        let mut conn = yui::db::establish(&app.core.config.database_url()).unwrap();
        conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")
            .unwrap();
    }

    // The disk fills while uploads and posts arrive: each one is stored whole or refused clearly.
    let filler = disk.path().join("filler");
    fill_to_the_brim(&filler);
    free_some(&filler, 2 << 20);
    let (mut uploaded, mut refused_uploads) = (Vec::new(), Vec::new());
    let (mut posted, mut refused_posts) = (Vec::new(), Vec::new());
    for i in 0..400u32 {
        if refused_uploads.is_empty() || i % 8 == 0 {
            let name = format!("満杯-{i}.bin");
            let bytes = noise(u64::from(i) + 100, 64 * 1024);
            let sha = sha_hex(&bytes);
            match upload(&app, &admin, &name, bytes, "ja").await {
                (303, _) => uploaded.push((name, sha)),
                (status, page) => {
                    assert_disk_full_page(&name, "ja", status, &page);
                    refused_uploads.push(name);
                }
            }
        }
        let title = format!("満杯の記事 {i}");
        match post(&app, &admin, &title, &long_body(i, 6000), "ja").await {
            (303, _) => posted.push(title),
            (status, page) => {
                assert_disk_full_page(&title, "ja", status, &page);
                refused_posts.push(title);
            }
        }
        if !refused_uploads.is_empty() && (!refused_posts.is_empty() || !sqlite && i >= 20) {
            break;
        }
    }
    eprintln!(
        "while the disk filled: {} uploads stored, {} refused; {} posts saved, {} refused",
        uploaded.len(),
        refused_uploads.len(),
        posted.len(),
        refused_posts.len()
    );
    assert!(!refused_uploads.is_empty(), "no upload was refused");
    assert!(
        !uploaded.is_empty(),
        "no upload got in before the disk filled"
    );
    if sqlite {
        assert!(
            !refused_posts.is_empty(),
            "no post was refused on a full SQLite disk"
        );
    } else {
        assert!(
            refused_posts.is_empty(),
            "PostgreSQL's disk is not the full one"
        );
    }

    // To the brim: refused in either language, every time.
    fill_to_the_brim(&filler);
    for lang in ["ja", "en"] {
        let (status, page) =
            upload(&app, &admin, "もう入らない.bin", noise(7, 64 * 1024), lang).await;
        assert_disk_full_page("an upload on a full disk", lang, status, &page);
        let title = format!("入らない記事 {lang}");
        let (status, page) = post(&app, &admin, &title, &long_body(9, 60_000), lang).await;
        if sqlite {
            assert_disk_full_page("a post on a full disk", lang, status, &page);
            refused_posts.push(title);
        } else {
            assert_eq!(status, 303, "{page}");
            posted.push(title);
        }
    }

    // The rest of the site reads on, and what was there is intact.
    for path in ["/", "/rooms", "/rooms/disk", "/rooms/disk/files"] {
        let res = admin.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path} on a full disk");
    }
    for (name, sha) in &kept {
        assert_downloads(&app, &admin, name, sha).await;
    }
    assert_nothing_half_written(&app, "full");
    assert_sqlite_whole(&app, "full");
    let stored = stored_files(&app);
    for (name, sha) in kept.iter().chain(&uploaded) {
        assert!(
            stored.contains(&(name.clone(), sha.clone())),
            "{name} was stored and is gone"
        );
    }
    for name in &refused_uploads {
        assert!(
            !stored.iter().any(|(n, _)| n == name),
            "{name} was refused and is there"
        );
    }
    let all = titles(&app);
    assert!(all.iter().any(|t| t == "満杯になる前の記事"));
    for title in &posted {
        assert!(all.contains(title), "{title} was saved and is gone");
    }
    for title in &refused_posts {
        assert!(!all.contains(title), "{title} was refused and is there");
    }

    // Space freed: the same running site writes again.
    std::fs::remove_file(&filler).unwrap();
    let bytes = noise(42, 300 * 1024);
    let sha = sha_hex(&bytes);
    let (status, page) = upload(&app, &admin, "空いたあと.bin", bytes, "ja").await;
    assert_eq!(status, 303, "an upload after space was freed: {page}");
    assert_downloads(&app, &admin, "空いたあと.bin", &sha).await;
    let (status, page) = post(&app, &admin, "空いたあとの記事", &long_body(3, 6000), "ja").await;
    assert_eq!(status, 303, "a post after space was freed: {page}");
    let room = admin
        .get(app.url("/rooms/disk"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(room.contains("空いたあとの記事"));
    assert_nothing_half_written(&app, "after");
    assert_sqlite_whole(&app, "after");
}

#[actix_web::test]
async fn a_backup_to_a_full_disk_fails_and_leaves_no_archive() {
    let Some(usb) = Tmpfs::mount("1m") else {
        return;
    };
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.room("disk")
        .closed()
        .quota_mb(1024)
        .features(&["files"])
        .managed_by("admin")
        .create(&admin)
        .await;
    for i in 0..3 {
        let (status, page) = upload(
            &app,
            &admin,
            &format!("大きい-{i}.bin"),
            noise(i, 1 << 20),
            "ja",
        )
        .await;
        assert_eq!(status, 303, "{page}");
    }
    let backup = |to: &Path| {
        let mut cmd = yui(app.data_dir());
        cmd.arg("--database-url")
            .arg(app.core.config.database_url())
            .args(["backup", "--to"])
            .arg(to);
        run(&mut cmd, None)
    };
    let (ok, out) = backup(usb.path());
    assert!(!ok, "a backup to a full disk succeeded: {out}");
    assert!(out.contains("is full: no archive was written"), "{out}");
    let left = files_below(usb.path());
    assert!(left.is_empty(), "a failed backup left {left:?}");

    // With room made, the same command writes an archive that restores with every file.
    usb.resize("64m");
    let (ok, out) = backup(usb.path());
    assert!(ok, "{out}");
    let written: Vec<PathBuf> = files_below(usb.path());
    assert_eq!(written.len(), 1, "{written:?}");
    let name = written[0].file_name().unwrap().to_str().unwrap().to_owned();
    assert!(
        name.starts_with("yui-backup-") && name.ends_with(".tar.zst"),
        "{name}"
    );
    let restored = TestApp::spawn_with(Options {
        restore_from: Some(written[0].clone()),
        ..Options::default()
    });
    let mut before = stored_files(&app);
    let mut after = stored_files(&restored);
    before.sort();
    after.sort();
    assert_eq!(after, before);
}
