//! Upgrades: databases that earlier versions wrote (`tests/fixtures/schema-<version>.*.sql`, demo
//! sites made by `tests/fixtures/make` with that version's binary) are migrated by this version on
//! the backend the suite runs on, and the site works on them: people log in, rooms, posts, files,
//! notices and search answer, and new writes succeed.

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use crate::support::*;

/// The password `tests/fixtures/make` gives the demo accounts.
const FIXTURE_PASSWORD: &str = "fixture-demo-password-2026";

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
