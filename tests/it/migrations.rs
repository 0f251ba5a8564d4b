//! Both migration trees match, and up → down → up leaves the same schema.

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use crate::support::*;

#[test]
fn both_migration_trees_have_the_same_names() {
    let names = |backend: &str| {
        let mut v: Vec<String> = std::fs::read_dir(format!(
            "{}/migrations/{backend}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
        v.sort();
        v
    };
    let sqlite = names("sqlite");
    assert!(!sqlite.is_empty());
    // Diesel knows a migration by the part of its name before the first `_`: two with the same
    // version would count as one, and the second would never run.
    let mut versions: Vec<&str> = sqlite
        .iter()
        .map(|n| n.split('_').next().unwrap())
        .collect();
    versions.dedup();
    assert_eq!(
        versions.len(),
        sqlite.len(),
        "two migrations share a version: {sqlite:?}"
    );
    assert_eq!(sqlite, names("postgres"));
    for name in &sqlite {
        for backend in ["sqlite", "postgres"] {
            for file in ["up.sql", "down.sql"] {
                let p = format!(
                    "{}/migrations/{backend}/{name}/{file}",
                    env!("CARGO_MANIFEST_DIR")
                );
                assert!(std::path::Path::new(&p).exists(), "{p} missing");
            }
        }
    }
}

#[derive(diesel::QueryableByName, Debug, PartialEq)]
struct Line {
    #[diesel(sql_type = Text)]
    line: String,
}

fn schema_dump(conn: &mut yui::db::DbConn) -> Vec<String> {
    let sql = match conn {
        yui::db::DbConn::Sqlite(_) => {
            "SELECT type || ' ' || name || ': ' || COALESCE(sql, '') AS line FROM sqlite_master \
             WHERE name NOT LIKE 'sqlite_%' AND name != '__diesel_schema_migrations' ORDER BY type, name"
        }
        yui::db::DbConn::Pg(_) => {
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || COALESCE(column_default, '') AS line \
             FROM information_schema.columns WHERE table_schema = 'public' AND table_name != '__diesel_schema_migrations' \
             UNION ALL SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public' \
             AND tablename != '__diesel_schema_migrations' ORDER BY 1"
        }
    };
    diesel::sql_query(sql)
        .load::<Line>(conn)
        .unwrap()
        .into_iter()
        .map(|l| l.line)
        .collect()
}

#[actix_web::test]
async fn up_down_up_leaves_the_same_schema() {
    let app = TestApp::spawn();
    let url = app.core.config.database_url();
    let mut conn = yui::db::establish(&url).unwrap();
    let first = schema_dump(&mut conn);
    assert!(
        first.iter().any(|l| l.contains("posts")),
        "schema dump sees the tables: {first:?}"
    );
    yui::db::migrate::revert_all(&mut conn).unwrap();
    let empty = schema_dump(&mut conn);
    assert!(
        empty.is_empty(),
        "down.sql leaves nothing behind: {empty:?}"
    );
    yui::db::migrate::run(&mut conn).unwrap();
    assert_eq!(schema_dump(&mut conn), first);
}

#[actix_web::test]
async fn a_database_from_a_newer_yui_is_refused() {
    let app = TestApp::spawn();
    let mut conn = yui::db::establish(&app.core.config.database_url()).unwrap();
    diesel::sql_query("INSERT INTO __diesel_schema_migrations (version) VALUES ('29990101000000')")
        .execute(&mut conn)
        .unwrap();
    let err = yui::db::migrate::run(&mut conn).unwrap_err();
    assert!(err.to_string().contains("newer Yui"), "{err}");
}
