//! Upgrades: databases that earlier versions wrote (`tests/fixtures/schema-<version>.*.sql`, demo
//! sites made by `tests/fixtures/make` with that version's binary, with the demo's files from
//! `tests/fixtures/blobs`) are migrated by this version on the backend the suite runs on, after a
//! backup of the site as it was; the site works on them: the rows are all there, people log in,
//! files download, rooms, posts, notices and search answer, and new writes succeed. The backup
//! taken before the upgrade restores (and upgrades) too. A failed backup migrates nothing; a
//! database from a newer Yui is refused (`migrations.rs`).

use std::io::Read;
use std::path::{Path, PathBuf};

use diesel::RunQueryDsl;
use diesel::sql_types::{BigInt, Text};

use crate::cli::{run, yui};
use crate::support::*;

/// Tables whose rows an upgrade must keep one for one (nothing the app does at start changes them).
const KEPT: &[&str] = &[
    "users",
    "rooms",
    "room_members",
    "room_posts",
    "post_revisions",
    "post_comments",
    "folders",
    "files",
    "blobs",
    "notices",
    "notice_recipients",
    "contact_addresses",
    "events",
    "facilities",
    "facility_managers",
    "app_passwords",
    "user_pictures",
];

/// Rows a fixture of a schema at least this new must hold (the demo makes them), so the upgrade
/// from it is tested with data in the newer tables and columns: `(what, schema version, SQL
/// counting them)`.
const NEWER: &[(&str, &str, &str)] = &[
    (
        "events",
        "20261207000025",
        "SELECT COUNT(*) AS n FROM events",
    ),
    (
        "facilities",
        "20261207000070",
        "SELECT COUNT(*) AS n FROM facilities",
    ),
    (
        "facility bookings",
        "20261207000070",
        "SELECT COUNT(*) AS n FROM events WHERE facility_id IS NOT NULL",
    ),
    (
        "bookings waiting for approval",
        "20261207000070",
        "SELECT COUNT(*) AS n FROM events WHERE booking_state = 'pending'",
    ),
    (
        "app passwords",
        "20261207000030",
        "SELECT COUNT(*) AS n FROM app_passwords",
    ),
    (
        "sealed (music) app passwords",
        "20261207000081",
        "SELECT COUNT(*) AS n FROM app_passwords WHERE secret_sealed IS NOT NULL",
    ),
    (
        "profile pictures",
        "20261207000100",
        "SELECT COUNT(*) AS n FROM user_pictures",
    ),
    (
        "members' own time zones",
        "20261207000110",
        "SELECT COUNT(*) AS n FROM users WHERE timezone IS NOT NULL",
    ),
    (
        "events waiting for approval",
        "20261207000120",
        "SELECT COUNT(*) AS n FROM events WHERE approval = 'pending'",
    ),
];

/// The counts of `NEWER` that a fixture of `version` must hold, as `(what, count)`.
fn newer_rows(conn: &mut yui::db::DbConn, version: &str) -> Vec<(&'static str, i64)> {
    NEWER
        .iter()
        .filter(|(_, since, _)| version >= *since)
        .map(|(what, _, sql)| {
            let rows: Vec<Count> = diesel::sql_query(*sql)
                .load(conn)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            (*what, rows[0].n)
        })
        .collect()
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn count(conn: &mut yui::db::DbConn, table: &str) -> u64 {
    let rows: Vec<Count> = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM \"{table}\""))
        .load(conn)
        .unwrap_or_else(|e| panic!("{table}: {e}"));
    u64::try_from(rows[0].n).unwrap()
}

/// The archives in `dir` whose names start with `prefix`.
fn archives(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(prefix) && n.ends_with(".tar.zst"))
        })
        .collect();
    found.sort();
    found
}

/// The manifest of an archive, as JSON.
fn manifest_of(archive: &Path) -> serde_json::Value {
    let mut tar =
        tar::Archive::new(zstd::Decoder::new(std::fs::File::open(archive).unwrap()).unwrap());
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.path().unwrap().to_str() == Some("manifest.json") {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            return serde_json::from_str(&text).unwrap();
        }
    }
    panic!("{}: no manifest", archive.display());
}

/// The rows per table a manifest lists.
fn manifest_rows(manifest: &serde_json::Value, table: &str) -> u64 {
    manifest["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == table)
        .and_then(|t| t["rows"].as_u64())
        .unwrap_or_else(|| panic!("no table {table} in the manifest"))
}

#[derive(diesel::QueryableByName)]
struct TownFile {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sha: String,
}

/// Logs in as the demo's manager and downloads every file of the town room, comparing each
/// one's SHA-256 with its blob's name; returns how many it downloaded.
async fn town_files_download(app: &TestApp, what: &str) -> usize {
    let files: Vec<TownFile> = app.db(|conn| {
        Ok(diesel::sql_query(
            "SELECT f.id AS id, f.name AS name, f.blob_sha256 AS sha FROM files f \
             JOIN rooms r ON r.id = f.room_id WHERE r.slug = 'town' AND f.deleted_at IS NULL ORDER BY f.id",
        )
        .load(conn)?)
    });
    assert!(!files.is_empty(), "{what}: the town room has no files");
    let manager = app.client();
    app.login(&manager, "manager", FIXTURE_PASSWORD).await;
    for f in &files {
        let name =
            percent_encoding::utf8_percent_encode(&f.name, percent_encoding::NON_ALPHANUMERIC);
        let res = manager
            .get(app.url(&format!("/rooms/town/files/file/{}/{name}", f.id)))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{what}: {}", f.name);
        let bytes = res.bytes().await.unwrap();
        assert_eq!(
            yui::services::backup::sha256_of(&bytes),
            f.sha,
            "{what}: {} downloads other bytes",
            f.name
        );
    }
    files.len()
}

/// The pages of the features a newer fixture has data for answer with it (as the demo's manager).
async fn assert_newer_pages(app: &TestApp, manager: &reqwest::Client, what: &str) {
    let me = manager
        .get(app.url("/me"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        me.contains("ノートパソコンのドライブ"),
        "{what}: app passwords lost"
    );
    let facilities = manager.get(app.url("/facilities")).send().await.unwrap();
    assert_eq!(facilities.status(), 200, "{what}: /facilities");
    let own: i64 = app.db(|conn| {
        use diesel::prelude::*;
        use yui::db::schema::users;
        Ok(users::table
            .filter(users::login.eq("manager"))
            .select(users::id)
            .first(conn)?)
    });
    let res = manager
        .get(app.url(&format!("/people/{own}/picture")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{what}: the manager's own picture");
    assert_eq!(res.headers()["content-type"], "image/jpeg", "{what}");
    let bytes = res.bytes().await.unwrap();
    assert_eq!(
        image_sha(&bytes),
        picture_blob(app, own),
        "{what}: the picture's bytes"
    );
}

fn image_sha(bytes: &[u8]) -> String {
    yui::services::backup::sha256_of(bytes)
}

/// The blob a member's picture names.
fn picture_blob(app: &TestApp, user: i64) -> String {
    app.db(move |conn| {
        use diesel::prelude::*;
        use yui::db::schema::user_pictures;
        Ok(user_pictures::table
            .find(user)
            .select(user_pictures::blob_sha256)
            .first(conn)?)
    })
}

/// The password `tests/fixtures/make` gives the demo accounts.
const FIXTURE_PASSWORD: &str = "fixture-demo-password-2026";

/// The newest schema this binary knows (on the suite's backend).
fn newest_schema() -> String {
    let backend = match std::env::var("YUI_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => yui::db::Backend::Postgres,
        _ => yui::db::Backend::Sqlite,
    };
    yui::db::migrate::known_versions_of(backend)
        .unwrap()
        .into_iter()
        .max()
        .unwrap()
}

/// The fixtures of a schema older than this binary's: an upgrade has migrations to run on them.
fn older_fixtures() -> Vec<String> {
    let newest = newest_schema();
    let older: Vec<String> = fixtures()
        .into_iter()
        .filter(|n| n.strip_prefix("schema-").unwrap() < newest.as_str())
        .collect();
    assert!(!older.is_empty(), "no fixture older than {newest}");
    older
}

/// Every fixture's name (`schema-<version>`), oldest first.
fn fixtures() -> Vec<String> {
    let dir = format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_suffix(".sqlite.sql").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

#[derive(diesel::QueryableByName)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

#[actix_web::test]
async fn every_earlier_schema_upgrades_and_the_site_works_on_it() {
    let names = fixtures();
    assert!(!names.is_empty(), "no upgrade fixtures in tests/fixtures");
    for name in names {
        let app = TestApp::spawn_with(Options {
            fixture: Some(name.clone()),
            ..Options::default()
        });
        // The migrations ran to the newest this binary knows.
        let pending = app.db(|conn| {
            let known = yui::db::migrate::known_versions(conn)?;
            let applied: Vec<Line> =
                diesel::sql_query("SELECT version AS line FROM __diesel_schema_migrations")
                    .load(conn)?;
            Ok(known
                .into_iter()
                .filter(|v| !applied.iter().any(|a| &a.line == v))
                .collect::<Vec<_>>())
        });
        assert!(pending.is_empty(), "{name}: not migrated: {pending:?}");
        // Before migrating, the site as it was went into a backup, which lost no row. A fixture of
        // this binary's own schema had nothing to migrate, hence no such backup: one made now
        // stands in for it below.
        let version = name.strip_prefix("schema-").unwrap();
        let taken = archives(
            &app.data_dir().join("backups"),
            &format!("yui-pre-upgrade-{version}-"),
        );
        let taken = if version < newest_schema().as_str() {
            assert_eq!(taken.len(), 1, "{name}: the backup before the upgrade");
            taken
        } else {
            assert!(taken.is_empty(), "{name}: a backup with nothing to migrate");
            let mut conn = yui::db::establish(&app.core.config.database_url()).unwrap();
            let to = app.data_dir().join("by-hand");
            let summary = yui::services::backup::write_backup(
                &mut conn,
                app.data_dir(),
                None,
                &to,
                &mut |_| {},
            )
            .unwrap();
            vec![summary.path]
        };
        let manifest = manifest_of(&taken[0]);
        assert_eq!(manifest["schema_version"], version, "{name}");
        // The newer tables and columns came with their rows, also through the backup's restore.
        let newer = app.db(|conn| Ok(newer_rows(conn, version)));
        for (what, n) in &newer {
            assert!(
                *n > 0,
                "{name}: no {what} in the fixture or lost in the upgrade"
            );
        }
        for table in KEPT {
            if !manifest["tables"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == *table)
            {
                // A table of a later schema than the fixture's.
                continue;
            }
            let before = manifest_rows(&manifest, table);
            let after = app.db(|conn| Ok(count(conn, table)));
            assert!(
                before > 0 || !["users", "rooms", "room_posts", "files"].contains(table),
                "{name}: {table} empty in the fixture"
            );
            assert_eq!(after, before, "{name}: rows of {table} after the upgrade");
        }
        // Every file still downloads with its bytes.
        town_files_download(&app, &name).await;
        // The backup taken before the upgrade restores into a fresh site (which migrates it).
        let restored = TestApp::spawn_with(Options {
            restore_from: Some(taken[0].clone()),
            ..Options::default()
        });
        for table in KEPT {
            if !manifest["tables"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t["name"] == *table)
            {
                continue;
            }
            let n = restored.db(|conn| Ok(count(conn, table)));
            assert_eq!(
                n,
                manifest_rows(&manifest, table),
                "{name}: restored {table}"
            );
        }
        assert_eq!(
            restored.db(|conn| Ok(newer_rows(conn, version))),
            newer,
            "{name}: restored"
        );
        town_files_download(&restored, &format!("{name}, restored")).await;
        if app.core.db.backend() == yui::db::Backend::Sqlite {
            let check = app.db(|conn| {
                let integrity: Vec<Line> =
                    diesel::sql_query("SELECT integrity_check AS line FROM pragma_integrity_check")
                        .load(conn)?;
                let broken: Vec<Line> =
                    diesel::sql_query("SELECT \"table\" AS line FROM pragma_foreign_key_check")
                        .load(conn)?;
                Ok((integrity, broken))
            });
            assert_eq!(check.0.len(), 1, "{name}");
            assert_eq!(check.0[0].line, "ok", "{name}");
            assert!(check.1.is_empty(), "{name}: foreign keys broken");
        }
        // The demo's people log in with what they had, and their pages answer.
        let manager = app.client();
        app.login(&manager, "manager", FIXTURE_PASSWORD).await;
        for path in [
            "/",
            "/rooms",
            "/rooms/town",
            "/rooms/staff",
            "/rooms/town/files",
            "/rooms/town/members",
            "/notices",
            "/safety",
            "/new",
            "/me",
        ] {
            let res = manager.get(app.url(path)).send().await.unwrap();
            assert_eq!(res.status(), 200, "{name}: {path}");
        }
        // The search index came along (SQLite rebuilds its FTS tables from their content).
        let found = manager
            .get(app.url("/search?q=町内会だより"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(found.contains("町内会だより 11月号"), "{name}: search lost");
        // The post waiting for the chief editor still waits in their inbox.
        let chief = app.client();
        app.login(&chief, "chief", FIXTURE_PASSWORD).await;
        let inbox = chief
            .get(app.url("/inbox"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(inbox.contains("研修会の報告"), "{name}: inbox lost");
        if version >= "20261207000120" {
            // What the newer features left: the event waiting for approval waits on, the
            // manager's app passwords are listed, a profile picture downloads, bookings show.
            assert!(
                inbox.contains("研修旅行の下見"),
                "{name}: waiting event lost"
            );
            assert_newer_pages(&app, &manager, &name).await;
            let restored_manager = restored.client();
            restored
                .login(&restored_manager, "manager", FIXTURE_PASSWORD)
                .await;
            assert_newer_pages(&restored, &restored_manager, &format!("{name}, restored")).await;
        }
        // New writes work on the old data (ids continue after the fixture's rows).
        let res = app
            .post_form(
                &manager,
                "/rooms/town/posts/new",
                "/rooms/town/posts",
                &[
                    ("title", "更新後の最初の記事"),
                    ("body", "アップグレードのあとも書けます。"),
                    ("action", "submit"),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "{name}: writing after the upgrade");
        let town = manager
            .get(app.url("/rooms/town"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(town.contains("更新後の最初の記事"), "{name}");
    }
}

/// Loads the newest fixture into a scratch site on the suite's backend: `(dir, pg guard, url)`.
fn fixture_site(name: &str) -> (tempfile::TempDir, Option<PgDatabase>, String) {
    let dir = tempfile::tempdir().unwrap();
    let (pg, url) = scratch_database(dir.path());
    load_fixture(name, &url, dir.path());
    (dir, pg, url)
}

fn pending(url: &str) -> Vec<String> {
    let mut conn = yui::db::establish(url).unwrap();
    yui::db::migrate::status(&mut conn).unwrap().pending
}

/// A blob of the fixture's files (removing it makes the backup before the upgrade fail).
fn some_blob(dir: &Path) -> PathBuf {
    let sha = "0b94e4df94754b22227ec82faa8056ebe847d9b5998efbb4a8080c6ff5ef510d";
    dir.join("blobs")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(sha)
}

#[actix_web::test]
async fn an_upgrade_whose_backup_fails_migrates_nothing_and_says_why() {
    let names = older_fixtures();
    let newest = names.last().unwrap();
    let (dir, _pg, url) = fixture_site(newest);
    let blob = some_blob(dir.path());
    let bytes = std::fs::read(&blob).unwrap();
    std::fs::remove_file(&blob).unwrap();
    let before = pending(&url);
    assert!(!before.is_empty());
    // `yui migrate`: refused, with why and what to do.
    let (ok, out) = run(
        yui(dir.path()).args(["--database-url", &url, "migrate"]),
        None,
    );
    assert!(!ok, "{out}");
    for needle in [
        "Nothing was migrated",
        "--no-backup",
        "0b94e4df",
        "backs the site up",
    ] {
        assert!(out.contains(needle), "{needle:?} missing: {out}");
    }
    assert_eq!(pending(&url), before, "a migration ran");
    // `yui serve` (the same start as the app's): refused too, nothing migrated, no archive left.
    let mut config = yui::config::Config::load(dir.path(), None, []).unwrap();
    config.database.url = Some(url.clone());
    let err = yui::app::build_core(config.clone()).err().unwrap();
    assert!(
        format!("{err:#}").contains("Nothing was migrated"),
        "{err:#}"
    );
    assert_eq!(pending(&url), before, "a migration ran");
    let backups = dir.path().join("backups");
    let left: Vec<_> = std::fs::read_dir(&backups)
        .map(|d| d.map(|e| e.unwrap().file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "a failed backup left {left:?}");
    // With the blob back, the backup goes where `[upgrade] backup_dir` says, then it migrates.
    std::fs::write(&blob, &bytes).unwrap();
    let elsewhere = dir.path().join("usb");
    let (ok, out) = run(
        yui(dir.path())
            .env("YUI_UPGRADE__BACKUP_DIR", &elsewhere)
            .args(["--database-url", &url, "migrate"]),
        None,
    );
    assert!(ok, "{out}");
    assert!(out.contains("backup before the upgrade:"), "{out}");
    assert_eq!(archives(&elsewhere, "yui-pre-upgrade-").len(), 1, "{out}");
    assert!(pending(&url).is_empty());
    // Nothing pending: no backup.
    let (ok, out) = run(
        yui(dir.path())
            .env("YUI_UPGRADE__BACKUP_DIR", &elsewhere)
            .args(["--database-url", &url, "migrate"]),
        None,
    );
    assert!(ok && out.contains("migrations applied: 0"), "{out}");
    assert_eq!(archives(&elsewhere, "yui-pre-upgrade-").len(), 1, "{out}");

    // The opt-out migrates without a backup, and says so.
    let (dir, _pg, url) = fixture_site(&names[0]);
    std::fs::remove_file(some_blob(dir.path())).unwrap();
    let (ok, out) = run(
        yui(dir.path()).args(["--database-url", &url, "migrate", "--no-backup"]),
        None,
    );
    assert!(ok, "{out}");
    assert!(out.contains("no backup was taken"), "{out}");
    assert!(pending(&url).is_empty());
    assert!(archives(&dir.path().join("backups"), "").is_empty());
}

/// The backup before an upgrade goes to the daily backup's directory when the admin set one (and
/// `[upgrade] backup_dir` is not set), and restores with the files.
#[actix_web::test]
async fn the_backup_before_an_upgrade_goes_to_the_daily_backups_directory() {
    let names = older_fixtures();
    let (dir, _pg, url) = fixture_site(names.last().unwrap());
    let usb = dir.path().join("usb-disk");
    let schedule = serde_json::json!({
        "enabled": false, "at": "03:00", "keep": 7, "dir": usb.to_str().unwrap()
    })
    .to_string();
    let mut conn = yui::db::establish(&url).unwrap();
    diesel::sql_query(format!(
        "INSERT INTO settings (key, value) VALUES ('backup.schedule', '{schedule}')"
    ))
    .execute(&mut conn)
    .unwrap();
    drop(conn);
    let (ok, out) = run(
        yui(dir.path()).args(["--database-url", &url, "migrate"]),
        None,
    );
    assert!(ok, "{out}");
    let taken = archives(&usb, "yui-pre-upgrade-");
    assert_eq!(taken.len(), 1, "{out}");
    assert!(archives(&dir.path().join("backups"), "").is_empty());
    assert!(pending(&url).is_empty());
    // It restores (into the suite's backend) with its files, and the restored site upgrades.
    let restored = TestApp::spawn_with(Options {
        restore_from: Some(taken[0].clone()),
        ..Options::default()
    });
    town_files_download(&restored, "restored").await;
}
