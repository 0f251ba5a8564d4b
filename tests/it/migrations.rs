//! Both migration trees match, up → down → up leaves the same schema, and the hand-written
//! `src/db/schema.rs` matches what the migrations make, on the backend the suite runs on.

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
    let err = yui::db::migrate::run(&mut conn).unwrap_err().to_string();
    let newest = yui::db::migrate::known_versions(&conn)
        .unwrap()
        .into_iter()
        .max()
        .unwrap();
    // The message names the database's version and the newest this binary knows.
    for needle in [
        "newer Yui",
        "29990101000000",
        newest.as_str(),
        "Nothing was changed",
    ] {
        assert!(err.contains(needle), "{needle:?} missing: {err}");
    }
    // `yui migrate` and `yui serve` refuse it too, take no backup and apply nothing.
    let url = app.core.config.database_url();
    for args in [&["migrate"][..], &["serve", "--bind", "127.0.0.1:0"][..]] {
        let (ok, out) = crate::cli::run(
            crate::cli::yui(app.data_dir())
                .args(["--database-url", url.as_str()])
                .args(args),
            None,
        );
        assert!(!ok, "{args:?}: {out}");
        assert!(
            out.contains("29990101000000") && out.contains(newest.as_str()),
            "{args:?}: {out}"
        );
    }
    assert!(!app.data_dir().join("backups").exists());
    let status_rows: Vec<Version> =
        diesel::sql_query("SELECT version FROM __diesel_schema_migrations ORDER BY version")
            .load(&mut conn)
            .unwrap();
    assert_eq!(
        status_rows.last().map(|v| v.version.as_str()),
        Some("29990101000000")
    );
}

#[derive(diesel::QueryableByName)]
struct Version {
    #[diesel(sql_type = Text)]
    version: String,
}

/// A column as `schema.rs` declares it, or as a migrated database reports it: its SQL type is
/// named as in `schema.rs` (`BigInt`, `Integer`, `Text`, `Bool`, `Timestamp`, `Binary`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Column {
    name: String,
    sql_type: String,
    nullable: bool,
}

impl std::fmt::Display for Column {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.nullable {
            write!(f, "{} -> Nullable<{}>", self.name, self.sql_type)
        } else {
            write!(f, "{} -> {}", self.name, self.sql_type)
        }
    }
}

/// Table name → its columns in order.
type Tables = std::collections::BTreeMap<String, Vec<Column>>;

/// The tables `src/db/schema.rs` declares, read from its text. It is written by hand in
/// `diesel print-schema`'s shape (`diesel::table! { name (key) { column -> Type, … } }`, with `///`
/// comments), and diesel keeps nothing of it to ask at run time; a line of any other shape inside a
/// table (an attribute such as `#[sql_name]`) fails here, so this reader is taught before it
/// could misread one.
fn declared_tables() -> Tables {
    let text = include_str!("../../src/db/schema.rs");
    let mut tables = Tables::new();
    let mut lines = text.lines().map(str::trim);
    while let Some(line) = lines.next() {
        if line != "diesel::table! {" {
            continue;
        }
        let header = lines.next().unwrap();
        let table = header.split([' ', '(']).next().unwrap().to_owned();
        assert!(header.ends_with('{'), "schema.rs: a table header: {header}");
        let mut columns = Vec::new();
        for line in lines.by_ref() {
            if line == "}" {
                break;
            }
            if line.starts_with("///") {
                continue;
            }
            let (name, ty) = line
                .strip_suffix(',')
                .and_then(|l| l.split_once(" -> "))
                .unwrap_or_else(|| panic!("schema.rs, table {table}: cannot read {line:?}"));
            let (ty, nullable) = match ty.strip_prefix("Nullable<") {
                Some(inner) => (inner.strip_suffix('>').unwrap(), true),
                None => (ty, false),
            };
            assert!(
                ["BigInt", "Integer", "Text", "Bool", "Timestamp", "Binary"].contains(&ty),
                "schema.rs, {table}.{name}: {ty} is not one of the portable types"
            );
            columns.push(Column {
                name: name.to_owned(),
                sql_type: ty.to_owned(),
                nullable,
            });
        }
        assert!(
            !columns.is_empty(),
            "schema.rs: no columns read for {table}"
        );
        assert!(
            tables.insert(table.clone(), columns).is_none(),
            "schema.rs declares {table} twice"
        );
    }
    tables
}

#[derive(diesel::QueryableByName)]
struct DbColumn {
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    column_name: String,
    #[diesel(sql_type = Text)]
    sql_type: String,
    /// SQLite: `notnull` of `PRAGMA table_info`; PostgreSQL: 1 when `is_nullable` is `NO`.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    not_null: i32,
    /// SQLite: the column's place in the primary key (0: not in it); PostgreSQL: 0.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    pk: i32,
}

/// The full-text index SQLite keeps for search (FTS5, made by migration 000008, remade by 000009,
/// filled by triggers): `revision_grams` and its shadow tables (`revision_grams_data`, `_idx`, `_docsize`,
/// `_config`). It is an index, not data: the app reads it with SQL written for SQLite only
/// (`models::search`), so it has no place in the portable `schema.rs`.
fn sqlite_search_index(table: &str) -> bool {
    table == "revision_grams" || table.starts_with("revision_grams_")
}

/// PostgreSQL's stored `tsvector` for search (`post_revisions.grams_tsv`, generated from `grams`
/// by migration 000009): like SQLite's FTS5 table, an index read with PostgreSQL-only SQL, and a
/// type `schema.rs` cannot name portably, so it is deliberately left out of `schema.rs`.
const PG_ONLY_COLUMNS: &[(&str, &str)] = &[("post_revisions", "grams_tsv")];

/// The tables a migrated database holds (diesel's own bookkeeping table left out), with their
/// columns in order and their types named as `schema.rs` names them. SQLite has one integer type,
/// so there both `BigInt` and `Integer` read as `BigInt|Integer`.
fn migrated_tables(conn: &mut yui::db::DbConn) -> Tables {
    let sql = match conn {
        yui::db::DbConn::Sqlite(_) => {
            "SELECT m.name AS table_name, p.name AS column_name, upper(p.type) AS sql_type, \
             p.\"notnull\" AS not_null, p.pk AS pk \
             FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' \
             AND m.name != '__diesel_schema_migrations' ORDER BY m.name, p.cid"
        }
        yui::db::DbConn::Pg(_) => {
            "SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, \
             c.data_type::text AS sql_type, CASE WHEN c.is_nullable = 'NO' THEN 1 ELSE 0 END AS not_null, \
             0 AS pk FROM information_schema.columns c JOIN information_schema.tables t \
             ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
             WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
             AND c.table_name != '__diesel_schema_migrations' ORDER BY c.table_name, c.ordinal_position"
        }
    };
    let sqlite = matches!(conn, yui::db::DbConn::Sqlite(_));
    let rows = diesel::sql_query(sql).load::<DbColumn>(conn).unwrap();
    let mut tables = Tables::new();
    for row in &rows {
        if sqlite && sqlite_search_index(&row.table_name) {
            continue;
        }
        if !sqlite && PG_ONLY_COLUMNS.contains(&(row.table_name.as_str(), row.column_name.as_str()))
        {
            continue;
        }
        // SQLite lets an `INTEGER PRIMARY KEY` (the rowid) be declared without NOT NULL, yet it
        // is never NULL; any other column is nullable unless declared NOT NULL.
        let rowid = sqlite
            && row.pk == 1
            && row.sql_type == "INTEGER"
            && rows
                .iter()
                .filter(|r| r.table_name == row.table_name && r.pk > 0)
                .count()
                == 1;
        let sql_type = match (sqlite, row.sql_type.as_str()) {
            (true, "INTEGER" | "BIGINT") => "BigInt|Integer",
            (false, "bigint") => "BigInt",
            (false, "integer") => "Integer",
            (true, "TEXT") | (false, "text") => "Text",
            (true, "BOOLEAN") | (false, "boolean") => "Bool",
            (true, "TIMESTAMP") | (false, "timestamp without time zone") => "Timestamp",
            (true, "BLOB") | (false, "bytea") => "Binary",
            (_, other) => other,
        };
        tables
            .entry(row.table_name.clone())
            .or_default()
            .push(Column {
                name: row.column_name.clone(),
                sql_type: sql_type.to_owned(),
                nullable: row.not_null == 0 && !rowid,
            });
    }
    tables
}

/// How one table's columns in `schema.rs` differ from the database's, one line per difference.
fn column_differences(table: &str, declared: &[Column], found: &[Column]) -> Vec<String> {
    let by_name = |columns: &[Column], name: &str| columns.iter().find(|c| c.name == name).cloned();
    let mut out = Vec::new();
    for c in found {
        match by_name(declared, &c.name) {
            None => out.push(format!(
                "{table}: the database has `{c}`, schema.rs lacks it"
            )),
            Some(d) if d != *c => out.push(format!(
                "{table}: schema.rs says `{d}`, the database has `{c}`"
            )),
            Some(_) => {}
        }
    }
    for d in declared {
        if by_name(found, &d.name).is_none() {
            out.push(format!(
                "{table}: schema.rs has `{d}`, the database does not"
            ));
        }
    }
    let names = |columns: &[Column]| columns.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
    if out.is_empty() && declared != found {
        // Diesel selects a table's columns in schema.rs's order and reads them back by position.
        out.push(format!(
            "{table}: the columns are in another order: schema.rs {:?}, the database {:?}",
            names(declared),
            names(found)
        ));
    }
    out
}

/// `schema.rs` is written by hand: a column added by a migration and forgotten there (or a type or
/// NULL that differs) would only show as a runtime error in whichever query first touches it, on
/// one backend. Here every table of `schema.rs` must match the migrated database column by column,
/// in order, and every migrated table must be in `schema.rs` (except the search indexes above).
#[actix_web::test]
async fn schema_rs_matches_the_migrated_database() {
    let app = TestApp::spawn();
    let mut conn = yui::db::establish(&app.core.config.database_url()).unwrap();
    let backend = match conn {
        yui::db::DbConn::Sqlite(_) => "SQLite",
        yui::db::DbConn::Pg(_) => "PostgreSQL",
    };
    let sqlite = backend == "SQLite";
    let migrated = migrated_tables(&mut conn);
    let mut declared = declared_tables();
    if sqlite {
        for column in declared.values_mut().flatten() {
            if column.sql_type == "BigInt" || column.sql_type == "Integer" {
                "BigInt|Integer".clone_into(&mut column.sql_type);
            }
        }
    }
    let mut problems = Vec::new();
    for (table, columns) in &declared {
        match migrated.get(table) {
            None => problems.push(format!("{table}: in schema.rs, not in the database")),
            Some(found) => problems.extend(column_differences(table, columns, found)),
        }
    }
    for table in migrated.keys() {
        if !declared.contains_key(table) {
            problems.push(format!("{table}: in the database, missing from schema.rs"));
        }
    }
    assert!(
        problems.is_empty(),
        "schema.rs disagrees with the migrated {backend} database:\n{}",
        problems.join("\n")
    );
    assert!(
        declared.len() > 20 && declared["rooms"].len() > 15,
        "schema.rs was read: {declared:?}"
    );
}
