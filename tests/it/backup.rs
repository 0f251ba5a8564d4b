//! Backups: `yui backup` while the site writes, `yui restore` into a fresh site (same rows and
//! files, logins and safety links keep working), `yui verify-backup`, and every way a restore must
//! refuse before it writes a byte (a flipped byte, a truncated archive, hostile entries, a target
//! that is not empty). On PostgreSQL also SQLite ⇄ PostgreSQL through one archive.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use diesel::prelude::*;
use yui::db::schema::{files, users};

use crate::cli::{run, yui};
use crate::files::cabinet_with;
use crate::support::*;

/// Runs `yui backup --to DIR` against a test app's site; returns (success, output).
fn backup_cmd(app: &TestApp, to: &Path) -> (bool, String) {
    let mut cmd = yui(app.data_dir());
    cmd.arg("--database-url")
        .arg(app.core.config.database_url())
        .args(["backup", "--to"])
        .arg(to);
    run(&mut cmd, None)
}

/// Runs `yui restore ARCHIVE --data-dir DIR [--force]`.
fn restore_cmd(archive: &Path, target: &Path, force: bool) -> (bool, String) {
    let mut cmd = yui(target);
    cmd.arg("restore").arg(archive);
    if force {
        cmd.arg("--force");
    }
    run(&mut cmd, None)
}

/// The one archive in `dir`.
fn archive_in(dir: &Path) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].to_string_lossy().ends_with(".tar.zst"));
    found[0].clone()
}

/// Every file under `dir` with its bytes (what "the target is unchanged" compares).
fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.is_dir() {
                out.insert(p.clone(), Vec::new());
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Rewrites an archive entry by entry, letting `change` alter an entry's bytes.
fn rewrite(from: &Path, to: &Path, mut change: impl FnMut(&str, &mut Vec<u8>)) {
    let mut archive =
        tar::Archive::new(zstd::Decoder::new(std::fs::File::open(from).unwrap()).unwrap());
    let out = zstd::Encoder::new(std::fs::File::create(to).unwrap(), 3).unwrap();
    let mut builder = tar::Builder::new(out);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        change(&path, &mut bytes);
        let mut header = entry.header().clone();
        header.set_size(bytes.len() as u64);
        builder
            .append_data(&mut header, &path, bytes.as_slice())
            .unwrap();
    }
    builder
        .into_inner()
        .unwrap()
        .finish()
        .unwrap()
        .flush()
        .unwrap();
}

fn safety_link(body: &str) -> String {
    let start = body.find("http://").unwrap();
    let link = body[start..].split_whitespace().next().unwrap();
    let after = &link["http://".len()..];
    after[after.find('/').unwrap()..].to_owned()
}

#[derive(Debug, PartialEq, Eq, Queryable)]
struct UserRow {
    id: i64,
    login: String,
    email: String,
    password_hash: String,
}

#[derive(Debug, PartialEq, Eq, Queryable)]
struct FileRow {
    id: i64,
    name: String,
    blob_sha256: String,
    size: i64,
}

fn user_rows(app: &TestApp) -> Vec<UserRow> {
    app.db(|conn| {
        Ok(users::table
            .order(users::id)
            .select((users::id, users::login, users::email, users::password_hash))
            .load(conn)?)
    })
}

fn file_rows(app: &TestApp) -> Vec<FileRow> {
    app.db(|conn| {
        Ok(files::table
            .order(files::id)
            .select((files::id, files::name, files::blob_sha256, files::size))
            .load(conn)?)
    })
}

#[actix_web::test]
async fn a_backup_taken_while_writes_run_restores_the_same_site() {
    let t = cabinet_with(Options::default(), 50).await;
    let app = &t.app;
    let body: Vec<u8> = (0..300_000u32)
        .map(|i| u8::try_from(i * 7 % 251).unwrap())
        .collect();
    let big = app
        .file_in("cab", "data.bin")
        .bytes(body.clone())
        .upload(&t.hanako)
        .await;
    // A safety check, whose personal link is an HMAC with secret.key.
    let res = app
        .post_form(
            &t.admin,
            "/safety/new",
            "/safety",
            &[
                ("scope", "all"),
                ("title", "地震 安否確認"),
                ("drill", "on"),
                ("message", "m"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("hanako@example.test", "地震 安否確認")
        .await;
    let link = safety_link(&mail.body);
    let users_before = user_rows(app);
    let files_before = file_rows(app);

    // Uploads keep arriving while the backup runs.
    let out = tempfile::tempdir().unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writes = async {
        let mut i = 0;
        while !stop.load(Ordering::SeqCst) || i < 3 {
            app.file_in("cab", &format!("w{i}.txt"))
                .bytes(format!("write number {i}").into_bytes())
                .upload(&t.hanako)
                .await;
            written.fetch_add(1, Ordering::SeqCst);
            i += 1;
        }
    };
    let taking = async {
        let data = app.data_dir().to_path_buf();
        let url = app.core.config.database_url();
        let to = out.path().to_path_buf();
        let result = actix_web::rt::task::spawn_blocking(move || {
            let mut cmd = yui(&data);
            cmd.arg("--database-url")
                .arg(url)
                .args(["backup", "--to"])
                .arg(&to);
            run(&mut cmd, None)
        })
        .await
        .unwrap();
        stop.store(true, Ordering::SeqCst);
        result
    };
    let ((ok, output), ()) = tokio::join!(taking, writes);
    assert!(ok, "{output}");
    assert!(output.contains("backup written"), "{output}");
    let archive = archive_in(out.path());

    let restored = TestApp::spawn_with(Options {
        restore_from: Some(archive.clone()),
        ..Options::default()
    });
    // The same people and the same files (those from before the backup exactly; of the uploads
    // during it, a prefix: each one whole, with its blob).
    assert_eq!(user_rows(&restored), users_before);
    let files_after = file_rows(&restored);
    assert_eq!(&files_after[..files_before.len()], files_before.as_slice());
    assert!(files_after.len() <= files_before.len() + written.load(Ordering::SeqCst));
    let c = restored.client();
    restored.login(&c, "hanako", PASSWORD).await;
    for f in &files_after {
        let res = c
            .get(restored.url(&format!("/rooms/cab/files/file/{}/{}", f.id, f.name)))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{}", f.name);
        let bytes = res.bytes().await.unwrap();
        if f.id == big.id {
            assert_eq!(bytes.as_ref(), body.as_slice());
        } else {
            assert!(
                std::str::from_utf8(&bytes)
                    .unwrap()
                    .starts_with("write number")
            );
        }
    }
    // The safety link still opens (secret.key came along) and can be answered.
    let phone = restored.client();
    let res = phone.get(restored.url(&link)).send().await.unwrap();
    assert_eq!(res.status(), 200, "safety link after restore");
    // New writes work (on PostgreSQL: the sequences were moved past the restored ids).
    restored
        .file_in("cab", "after.txt")
        .bytes(b"after the restore".to_vec())
        .upload(&c)
        .await;
    restored.user("newcomer").create();

    // verify-backup restores it again in a temporary directory and records the result.
    let mut cmd = yui(app.data_dir());
    cmd.arg("--database-url")
        .arg(app.core.config.database_url())
        .arg("verify-backup")
        .arg(&archive);
    let (ok, output) = run(&mut cmd, None);
    assert!(ok, "{output}");
    assert!(output.contains("the restored site served"), "{output}");
    assert!(
        output.contains("a probe account logged in") && output.contains("file downloads match"),
        "{output}"
    );
    let status = app.db(yui::services::backup::load_status);
    assert!(status.last_backup.is_some());
    assert!(
        status.last_verified.as_ref().is_some_and(|v| v.ok),
        "{status:?}"
    );
}

#[actix_web::test]
async fn a_flipped_byte_or_a_truncated_archive_is_refused_and_the_target_is_unchanged() {
    let t = cabinet_with(Options::default(), 10).await;
    t.app
        .file_in("cab", "a.bin")
        .bytes(vec![42u8; 50_000])
        .upload(&t.hanako)
        .await;
    let out = tempfile::tempdir().unwrap();
    let (ok, output) = backup_cmd(&t.app, out.path());
    assert!(ok, "{output}");
    let archive = archive_in(out.path());
    let work = tempfile::tempdir().unwrap();

    let flipped = work.path().join("flipped.tar.zst");
    let mut hit = false;
    rewrite(&archive, &flipped, |path, bytes| {
        if path.starts_with("blobs/") && !hit {
            bytes[1000] ^= 0x01;
            hit = true;
        }
    });
    assert!(hit);
    let truncated = work.path().join("truncated.tar.zst");
    let whole = std::fs::read(&archive).unwrap();
    std::fs::write(&truncated, &whole[..whole.len() * 2 / 3]).unwrap();
    let row_changed = work.path().join("row.tar.zst");
    rewrite(&archive, &row_changed, |path, bytes| {
        if path.starts_with("db/users/") {
            let text = String::from_utf8(bytes.clone()).unwrap();
            *bytes = text.replacen("hanako", "hanakx", 1).into_bytes();
        }
    });

    // A target that already holds a site: even with --force, nothing of it may change.
    let target = work.path().join("target");
    std::fs::create_dir_all(target.join("blobs")).unwrap();
    std::fs::write(target.join("yui.db"), b"the old database").unwrap();
    std::fs::write(target.join("secret.key"), b"the old secret").unwrap();
    let before = tree(&target);
    for (bad, says) in [
        (&flipped, "does not match its name"),
        (&truncated, "refused"),
        (&row_changed, "does not match the manifest"),
    ] {
        let (ok, output) = restore_cmd(bad, &target, true);
        assert!(!ok, "{}: {output}", bad.display());
        assert!(output.contains(says), "{}: {output}", bad.display());
        assert_eq!(
            tree(&target),
            before,
            "{} changed the target",
            bad.display()
        );
    }
    // The real archive restores over it with --force.
    let (ok, output) = restore_cmd(&archive, &target, true);
    assert!(ok, "{output}");
}

/// A raw tar header whose name is written byte for byte (the tar crate refuses `..` itself).
fn raw_entry(
    builder: &mut tar::Builder<impl Write>,
    name: &[u8],
    kind: tar::EntryType,
    link: Option<&[u8]>,
    data: &[u8],
) {
    let mut header = tar::Header::new_old();
    header.as_old_mut().name[..name.len()].copy_from_slice(name);
    if let Some(link) = link {
        header.as_old_mut().linkname[..link.len()].copy_from_slice(link);
    }
    header.set_entry_type(kind);
    header.set_mode(0o644);
    header.set_size(data.len() as u64);
    header.set_cksum();
    builder.append(&header, data).unwrap();
}

/// A hostile entry: what it is, its raw name, its kind and its link target.
type Case<'a> = (&'a str, Vec<u8>, tar::EntryType, Option<&'a [u8]>, &'a str);

#[test]
fn entries_outside_the_target_links_and_devices_are_refused_before_a_byte_is_written() {
    let work = tempfile::tempdir().unwrap();
    let outside = work.path().join("evil.txt");
    let absolute = work.path().join("absolute.txt");
    let absolute_name = absolute.to_string_lossy().into_owned();
    let cases: Vec<Case<'_>> = vec![
        (
            "dotdot",
            b"../evil.txt".to_vec(),
            tar::EntryType::Regular,
            None,
            "`..`",
        ),
        (
            "nested dotdot",
            b"blobs/../../evil.txt".to_vec(),
            tar::EntryType::Regular,
            None,
            "`..`",
        ),
        (
            "absolute",
            absolute_name.as_bytes().to_vec(),
            tar::EntryType::Regular,
            None,
            "absolute",
        ),
        (
            "symlink",
            b"config/secret.key".to_vec(),
            tar::EntryType::Symlink,
            Some(b"/etc/passwd"),
            "not a regular file",
        ),
        (
            "hard link",
            b"config/yui.toml".to_vec(),
            tar::EntryType::Link,
            Some(b"../evil.txt"),
            "not a regular file",
        ),
        (
            "device",
            b"config/secret.key".to_vec(),
            tar::EntryType::Char,
            None,
            "not a regular file",
        ),
        (
            "fifo",
            b"config/secret.key".to_vec(),
            tar::EntryType::Fifo,
            None,
            "not a regular file",
        ),
    ];
    for (what, name, kind, link, reason) in cases {
        let archive = work.path().join("hostile.tar.zst");
        {
            let out = zstd::Encoder::new(std::fs::File::create(&archive).unwrap(), 3).unwrap();
            let mut builder = tar::Builder::new(out);
            // A harmless entry first, so the hostile one is not simply the first thing read.
            raw_entry(
                &mut builder,
                b"config/yui.toml",
                tar::EntryType::Regular,
                None,
                b"",
            );
            raw_entry(&mut builder, &name, kind, link, b"owned");
            raw_entry(
                &mut builder,
                b"manifest.json",
                tar::EntryType::Regular,
                None,
                b"{}",
            );
            builder
                .into_inner()
                .unwrap()
                .finish()
                .unwrap()
                .flush()
                .unwrap();
        }
        let target = work.path().join("target");
        let (ok, output) = restore_cmd(&archive, &target, false);
        assert!(!ok, "{what}: {output}");
        assert!(
            output.contains("refused") && output.contains(reason),
            "{what}: {output}"
        );
        assert!(!target.exists(), "{what}: the target was created");
        assert!(!outside.exists(), "{what}: wrote outside the target");
        assert!(!absolute.exists(), "{what}: wrote to an absolute path");
    }
}

#[actix_web::test]
async fn a_target_that_is_not_empty_is_refused_without_force() {
    let app = TestApp::spawn();
    app.create_user("hanako", false);
    let out = tempfile::tempdir().unwrap();
    let (ok, output) = backup_cmd(&app, out.path());
    assert!(ok, "{output}");
    let archive = archive_in(out.path());
    let target = tempfile::tempdir().unwrap();
    std::fs::write(target.path().join("notes.txt"), b"mine").unwrap();
    let (ok, output) = restore_cmd(&archive, target.path(), false);
    assert!(!ok, "{output}");
    assert!(
        output.contains("is not empty") && output.contains("--force"),
        "{output}"
    );
    assert_eq!(std::fs::read_dir(target.path()).unwrap().count(), 1);
    let (ok, output) = restore_cmd(&archive, target.path(), true);
    assert!(ok, "{output}");
    assert!(target.path().join("yui.db").is_file());
    assert_eq!(
        std::fs::read(target.path().join("notes.txt")).unwrap(),
        b"mine"
    );
    assert_eq!(
        std::fs::read(target.path().join("secret.key")).unwrap(),
        std::fs::read(app.data_dir().join("secret.key")).unwrap()
    );
}

#[actix_web::test]
async fn a_table_the_backup_does_not_know_is_refused_and_no_archive_is_left() {
    let app = TestApp::spawn();
    app.db(|conn| {
        diesel::sql_query("CREATE TABLE plugin_notes (id BIGINT PRIMARY KEY, body TEXT)")
            .execute(conn)?;
        Ok(())
    });
    let out = tempfile::tempdir().unwrap();
    let (ok, output) = backup_cmd(&app, out.path());
    assert!(!ok, "{output}");
    assert!(output.contains("plugin_notes"), "{output}");
    assert_eq!(
        std::fs::read_dir(out.path()).unwrap().count(),
        0,
        "no archive, no partial file"
    );
}

#[actix_web::test]
async fn a_killed_backup_leaves_no_archive_under_the_final_name() {
    let t = cabinet_with(Options::default(), 200).await;
    // Enough bytes that the copy takes a moment (incompressible, so zstd cannot shortcut it).
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let noise: Vec<u8> = (0..40 << 20)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed.to_le_bytes()[0]
        })
        .collect();
    t.app
        .file_in("cab", "noise.bin")
        .bytes(noise)
        .upload(&t.hanako)
        .await;
    let out = tempfile::tempdir().unwrap();
    let mut cmd = yui(t.app.data_dir());
    cmd.arg("--database-url")
        .arg(t.app.core.config.database_url())
        .args(["backup", "--to"])
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    // Wait until the temporary archive exists and has grown, then kill -9.
    let deadline = std::time::Instant::now() + std::time::Duration::from_mins(1);
    loop {
        let partial = std::fs::read_dir(out.path())
            .unwrap()
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().ends_with(".partial"));
        if partial.is_some_and(|p| p.metadata().unwrap().len() > 1 << 20) {
            break;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the backup ended before it could be killed"
        );
        assert!(
            std::time::Instant::now() < deadline,
            "no partial archive appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.ends_with(".tar.zst")),
        "a half archive under a final name: {names:?}"
    );
    // The next backup completes beside the leftover.
    let (ok, output) = backup_cmd(&t.app, out.path());
    assert!(ok, "{output}");
}

/// On PostgreSQL: the site's archive restores into SQLite, that site's archive (written from
/// SQLite) restores into PostgreSQL, and the rows are the same all the way.
#[actix_web::test]
async fn an_archive_moves_a_site_between_sqlite_and_postgresql() {
    let Ok(admin_url) = std::env::var("YUI_TEST_DATABASE_URL") else {
        eprintln!(
            "an_archive_moves_a_site_between_sqlite_and_postgresql: PostgreSQL only (YUI_TEST_DATABASE_URL)"
        );
        return;
    };
    if admin_url.is_empty() {
        return;
    }
    let t = cabinet_with(Options::default(), 10).await;
    t.app
        .file_in("cab", "b.bin")
        .bytes(vec![7u8; 10_000])
        .upload(&t.hanako)
        .await;
    let users_pg = user_rows(&t.app);
    let files_pg = file_rows(&t.app);
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("from-pg");
    let (ok, output) = backup_cmd(&t.app, &out);
    assert!(ok, "{output}");
    // Into SQLite (a data directory of its own).
    let sqlite_site = work.path().join("sqlite-site");
    let (ok, output) = restore_cmd(&archive_in(&out), &sqlite_site, false);
    assert!(ok, "{output}");
    assert!(output.contains("from postgres"), "{output}");
    // Its archive, written from SQLite, into a fresh PostgreSQL database (TestApp makes one).
    let out2 = work.path().join("from-sqlite");
    let mut cmd = yui(&sqlite_site);
    cmd.args(["backup", "--to"]).arg(&out2);
    let (ok, output) = run(&mut cmd, None);
    assert!(ok, "{output}");
    let back = TestApp::spawn_with(Options {
        restore_from: Some(archive_in(&out2)),
        ..Options::default()
    });
    assert_eq!(back.core.db.backend(), yui::db::Backend::Postgres);
    assert_eq!(user_rows(&back), users_pg);
    assert_eq!(file_rows(&back), files_pg);
    let c = back.client();
    back.login(&c, "hanako", PASSWORD).await;
    let res = c
        .get(back.url(&format!("/rooms/cab/files/file/{}/b.bin", files_pg[0].id)))
        .send()
        .await
        .unwrap();
    assert_eq!(
        res.bytes().await.unwrap().as_ref(),
        vec![7u8; 10_000].as_slice()
    );

    // A PostgreSQL database with tables is refused without --force, and left as it was.
    let url = back.core.config.database_url();
    back.user("only_here").create();
    let users_back = user_rows(&back);
    let restore_into_back = |force: bool| {
        yui::services::backup::restore_archive(
            &yui::services::backup::RestoreOptions {
                archive: archive_in(&out),
                data_dir: work.path().join(format!("pg-target-{force}")),
                database_url: Some(url.clone()),
                force,
                database_only: false,
                passphrase: None,
            },
            &mut |_| {},
        )
    };
    let err = restore_into_back(false).unwrap_err().to_string();
    assert!(
        err.contains("has tables") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(user_rows(&back), users_back);
    // With --force the schema is replaced in one transaction: the archive's rows, nothing else.
    restore_into_back(true).unwrap();
    assert_eq!(user_rows(&back), users_pg);
}

#[actix_web::test]
async fn the_admin_overview_warns_until_a_backup_was_restored_and_when_it_is_old() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let overview = || async {
        let html = admin
            .get(app.url("/admin"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let start = html.find("id=\"backups\"").expect("a backups card");
        html[start..html[start..].find("</section>").unwrap() + start].to_owned()
    };
    let card = overview().await;
    assert!(
        card.contains("role=\"alert\"") && card.contains("バックアップがありません"),
        "{card}"
    );

    let out = tempfile::tempdir().unwrap();
    let (ok, output) = backup_cmd(&app, out.path());
    assert!(ok, "{output}");
    let archive = archive_in(out.path());
    let card = overview().await;
    let name = archive.file_name().unwrap().to_string_lossy().into_owned();
    assert!(card.contains(&name), "the last backup is shown: {card}");
    assert!(card.contains("一度も復元していません"), "{card}");

    let mut cmd = yui(app.data_dir());
    cmd.arg("--database-url")
        .arg(app.core.config.database_url())
        .arg("verify-backup")
        .arg(&archive);
    let (ok, output) = run(&mut cmd, None);
    assert!(ok, "{output}");
    let card = overview().await;
    assert!(
        !card.contains("role=\"alert\""),
        "no warning once restored: {card}"
    );
    assert!(card.contains("成功"), "{card}");

    // A restore check that failed, then one that is old: warned again.
    let record = |ok: bool, days: i64| {
        let r = yui::services::backup::VerifyRecord {
            at: chrono::Utc::now() - chrono::Duration::days(days),
            path: "x".into(),
            ok,
            detail: "row counts differ".into(),
        };
        app.db(move |conn| yui::services::backup::record_verify(conn, &r));
    };
    record(false, 0);
    let card = overview().await;
    assert!(
        card.contains("role=\"alert\"") && card.contains("失敗しました"),
        "{card}"
    );
    record(true, 8);
    let card = overview().await;
    assert!(
        card.contains("role=\"alert\"") && card.contains("1 週間以上"),
        "{card}"
    );
}

#[actix_web::test]
async fn the_daily_backup_is_set_in_the_admin_panel_taken_once_a_day_and_pruned() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_string_lossy().into_owned();
    // Refused with the reasons, nothing saved.
    let res = app
        .post_form(
            &admin,
            "/admin",
            "/admin/backups/schedule",
            &[
                ("enabled", "on"),
                ("at", "25:99"),
                ("keep", "0"),
                ("dir", "relative/dir"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("HH:MM") && html.contains("1 から 365") && html.contains("絶対パス"),
        "{html}"
    );
    assert!(!app.db(yui::services::backup::load_schedule).enabled);
    // Saved.
    let res = app
        .post_form(
            &admin,
            "/admin",
            "/admin/backups/schedule",
            &[
                ("enabled", "on"),
                ("at", "00:00"),
                ("keep", "2"),
                ("dir", dir.as_str()),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let schedule = app.db(yui::services::backup::load_schedule);
    assert!(
        schedule.enabled && schedule.keep == 2 && schedule.dir == dir,
        "{schedule:?}"
    );

    // Due once today, not twice; once more each following day, keeping the newest two.
    let now = chrono::Utc::now();
    let core = app.core.clone();
    let run_at = move |at: chrono::DateTime<chrono::Utc>| {
        let core = core.clone();
        async move {
            actix_web::rt::task::spawn_blocking(move || yui::services::backup::run_due(&core, at))
                .await
                .unwrap()
                .unwrap()
        }
    };
    assert!(run_at(now).await.is_some(), "due: no backup yet today");
    assert!(run_at(now).await.is_none(), "not twice a day");
    for day in 1..=3 {
        let b = run_at(now + chrono::Duration::days(day)).await;
        assert!(b.is_some(), "day {day}");
        // The record carries the real time; the next day's slot is still ahead of it.
    }
    let archives: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
    assert_eq!(archives.len(), 2, "kept the newest two: {archives:?}");
    // Verifying an archive whose site has the schedule on: the trial copy takes no backup into
    // (and prunes nothing from) the site's directory.
    // (An archive of the site as it was before its first daily backup: due at once in the copy.)
    app.db(|conn| {
        yui::models::setting::delete(conn, "backup.last")?;
        yui::models::setting::delete(conn, "backup.schedule_claimed")?;
        Ok(())
    });
    let elsewhere = tempfile::tempdir().unwrap();
    let (ok, output) = backup_cmd(&app, elsewhere.path());
    assert!(ok, "{output}");
    let newest = archive_in(elsewhere.path());
    let before: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let mut cmd = yui(app.data_dir());
    cmd.arg("--database-url")
        .arg(app.core.config.database_url())
        .arg("verify-backup")
        .arg(&newest);
    let (ok, output) = run(&mut cmd, None);
    assert!(ok, "{output}");
    std::thread::sleep(std::time::Duration::from_millis(300));
    let mut after: Vec<_> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    after.sort();
    let mut before = before;
    before.sort();
    assert_eq!(after, before, "the trial copy touched the backup directory");
    let card = admin
        .get(app.url("/admin"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(card.contains(&dir), "the last backup's place is shown");
}

/// `yui migrate-db`: on PostgreSQL the site is copied to SQLite and from there back to a fresh
/// PostgreSQL database (on SQLite: to a second file and a third); each copy prints every table's
/// rows on both sides and the blob references, a non-empty target is refused without `--force`,
/// the site's own database is refused as a target, and the site served from the last copy has
/// the same accounts and files: its people log in and its files download.
#[actix_web::test]
async fn migrate_db_copies_a_site_between_sqlite_and_postgresql_and_back() {
    let t = cabinet_with(Options::default(), 10).await;
    let app = &t.app;
    app.file_in("cab", "b.bin")
        .bytes(vec![7u8; 10_000])
        .upload(&t.hanako)
        .await;
    let users_before = user_rows(app);
    let files_before = file_rows(app);
    let work = tempfile::tempdir().unwrap();
    let there = format!("sqlite://{}", work.path().join("copy.db").display());
    let (_back_db, back) = match std::env::var("YUI_TEST_DATABASE_URL") {
        Ok(admin) if !admin.is_empty() => {
            let (db, url) = PgDatabase::create(&admin);
            (Some(db), url)
        }
        _ => (
            None,
            format!("sqlite://{}", work.path().join("back.db").display()),
        ),
    };
    let migrate_db = |from: &str, to: &str, force: bool| {
        let mut cmd = yui(app.data_dir());
        cmd.args(["--database-url", from, "migrate-db", "--to", to]);
        if force {
            cmd.arg("--force");
        }
        run(&mut cmd, None)
    };
    let source = app.core.config.database_url();
    let users = users_before.len();
    let blobs = files_before
        .iter()
        .map(|f| f.blob_sha256.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let expect_report = |out: &str| {
        assert!(!out.contains("MISMATCH"), "{out}");
        let users_line = format!("  {:<24} {:>9} {:>9}\n", "users", users, users);
        assert!(out.contains(&users_line), "{users_line:?} missing: {out}");
        let blobs_line = format!(
            "blob references: {blobs} in the source, {blobs} in the target (the same set); 0 missing"
        );
        assert!(out.contains(&blobs_line), "{blobs_line:?} missing: {out}");
        assert!(
            out.contains("every count and blob reference matches"),
            "{out}"
        );
    };
    let (ok, out) = migrate_db(&source, &there, false);
    assert!(ok, "{out}");
    expect_report(&out);
    // A target that is not empty: refused without --force, replaced with it.
    let (ok, out) = migrate_db(&source, &there, false);
    assert!(!ok && out.contains("--force"), "{out}");
    let (ok, out) = migrate_db(&source, &there, true);
    assert!(ok, "{out}");
    expect_report(&out);
    // The site's own database is no target.
    let (ok, out) = migrate_db(&source, &source, true);
    assert!(!ok && out.contains("own database"), "{out}");
    // And back, into a fresh database of the suite's backend.
    let (ok, out) = migrate_db(&there, &back, false);
    assert!(ok, "{out}");
    expect_report(&out);

    // The site served from the copy.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let mut config = (*app.core.config).clone();
    config.database.url = Some(back.clone());
    config.server.base_url = Some(base.clone());
    let core = yui::app::build_core(config).unwrap();
    let running = yui::app::start(core, listener).unwrap();
    actix_web::rt::spawn(running.server);
    let core = running.core;
    let copied_users = core
        .db
        .run_sync(true, |conn| {
            Ok(users::table
                .order(users::id)
                .select((users::id, users::login, users::email, users::password_hash))
                .load::<UserRow>(conn)?)
        })
        .unwrap();
    assert_eq!(copied_users, users_before);
    let copied_files = core
        .db
        .run_sync(true, |conn| {
            Ok(files::table
                .order(files::id)
                .select((files::id, files::name, files::blob_sha256, files::size))
                .load::<FileRow>(conn)?)
        })
        .unwrap();
    assert_eq!(copied_files, files_before);
    let c = app.client();
    let page = c
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = c
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf_from(&page).as_str()),
            ("name", "hanako"),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let b = files_before.iter().find(|f| f.name == "b.bin").unwrap();
    let res = c
        .get(format!("{base}/rooms/cab/files/file/{}/b.bin", b.id))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.bytes().await.unwrap().as_ref(),
        vec![7u8; 10_000].as_slice()
    );
}

/// `yui backup --encrypt`: the archive is an age file (`….tar.zst.age`) made with the passphrase
/// from `YUI_BACKUP_PASSPHRASE`; `--encrypt` without a passphrase is refused (nothing prompts); a
/// restore without the passphrase or with a wrong one is refused before a byte is written, and
/// with the right one (from `--passphrase-file`) it restores; `verify-backup` decrypts too.
#[actix_web::test]
async fn an_encrypted_backup_restores_only_with_its_passphrase() {
    let t = cabinet_with(Options::default(), 10).await;
    let app = &t.app;
    app.file_in("cab", "secret-plan.txt")
        .bytes(b"the plan, in plain words".to_vec())
        .upload(&t.hanako)
        .await;
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("out");
    let backup = |env: Option<&str>| {
        let mut cmd = yui(app.data_dir());
        cmd.arg("--database-url")
            .arg(app.core.config.database_url())
            .args(["backup", "--encrypt", "--to"])
            .arg(&out)
            .env_remove("YUI_BACKUP_PASSPHRASE");
        if let Some(p) = env {
            cmd.env("YUI_BACKUP_PASSPHRASE", p);
        }
        run(&mut cmd, None)
    };
    let (ok, output) = backup(None);
    assert!(!ok && output.contains("YUI_BACKUP_PASSPHRASE"), "{output}");
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().next().is_none());
    let (ok, output) = backup(Some("a long passphrase for the usb disk"));
    assert!(ok, "{output}");
    let archive = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    assert!(
        archive.to_string_lossy().ends_with(".tar.zst.age"),
        "{}",
        archive.display()
    );
    let bytes = std::fs::read(&archive).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n-> scrypt "));
    assert!(zstd::decode_all(bytes.as_slice()).is_err());
    // Restores that must refuse, each leaving no target behind.
    let pass_file = |name: &str, text: &str| {
        let p = work.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let wrong = pass_file("wrong", "not the passphrase\n");
    let right = pass_file("right", "a long passphrase for the usb disk\n");
    let target = work.path().join("restored");
    let restore = |file: Option<&Path>| {
        let mut cmd = yui(&target);
        cmd.arg("restore")
            .arg(&archive)
            .env_remove("YUI_BACKUP_PASSPHRASE");
        if let Some(f) = file {
            cmd.arg("--passphrase-file").arg(f);
        }
        run(&mut cmd, None)
    };
    let (ok, output) = restore(None);
    assert!(!ok && output.contains("is encrypted"), "{output}");
    assert!(!target.exists(), "written without a passphrase");
    let (ok, output) = restore(Some(&wrong));
    assert!(!ok && output.contains("wrong passphrase"), "{output}");
    assert!(!target.exists(), "written with a wrong passphrase");
    let (ok, output) = restore(Some(&right));
    assert!(ok, "{output}");
    let restored = tree(&target.join("blobs"));
    assert!(
        restored
            .values()
            .any(|b| b.as_slice() == b"the plan, in plain words"),
        "the file did not come back"
    );
    // verify-backup decrypts too, and refuses a wrong passphrase.
    let verify = |file: &Path| {
        let mut cmd = yui(app.data_dir());
        cmd.arg("--database-url")
            .arg(app.core.config.database_url())
            .arg("verify-backup")
            .arg(&archive)
            .arg("--passphrase-file")
            .arg(file)
            .env_remove("YUI_BACKUP_PASSPHRASE");
        run(&mut cmd, None)
    };
    let (ok, output) = verify(&wrong);
    assert!(!ok && output.contains("wrong passphrase"), "{output}");
    let (ok, output) = verify(&right);
    assert!(ok && output.contains("verified"), "{output}");
}
