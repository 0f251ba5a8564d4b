//! Statements written as SQL text (what diesel's query builder cannot say, such as a recursive
//! `WITH`) that still stay prepared between runs.
//!
//! `diesel::sql_query` marks itself unsafe to cache, so diesel compiles its text afresh on every
//! run: for the navigation query, which every member page runs, that was two thirds of all fresh
//! statement compilation on a room page (#16, `perf` and callgrind). The text here is a constant
//! of the program, never built from input, so keeping it prepared is safe; diesel keys its cache by
//! the text and the bind types, so a constant text stays one entry.

use diesel::backend::Backend as DieselBackend;
use diesel::deserialize::QueryableByName;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, BoxedSqlQuery, Query, QueryFragment, QueryId, SqlQuery};
use diesel::sql_types::{BigInt, Text};
use diesel::sqlite::Sqlite;
use diesel::{QueryResult, RunQueryDsl};

use super::DbConn;

/// One bound value of a text query.
#[derive(Debug, Clone, Copy)]
pub enum Bind<'a> {
    /// An integer (`BIGINT`).
    Int(i64),
    /// A text value.
    Text(&'a str),
}

/// Runs `sql` — written with PostgreSQL's `$n` placeholders, which SQLite reads as `?n` — with
/// `binds` for `$1`, `$2`, … and loads its rows, keeping the statement prepared on the connection.
/// `sql` must be a constant of the program (or one of a few fixed variants): every distinct text
/// stays in the connection's statement cache.
pub fn load<U>(conn: &mut DbConn, sql: &str, binds: &[Bind<'_>]) -> QueryResult<Vec<U>>
where
    U: QueryableByName<Sqlite> + QueryableByName<Pg> + 'static,
{
    match conn {
        DbConn::Sqlite(c) => {
            let sql = sql.replace('$', "?");
            Cacheable(bound::<Sqlite>(&sql, binds)).load(c)
        }
        DbConn::Pg(c) => Cacheable(bound::<Pg>(sql, binds)).load(c),
    }
}

/// `sql` with its binds, for one backend.
fn bound<'f, DB>(sql: &str, binds: &[Bind<'f>]) -> BoxedSqlQuery<'f, DB, SqlQuery>
where
    DB: DieselBackend + diesel::sql_types::HasSqlType<BigInt> + diesel::sql_types::HasSqlType<Text>,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    str: diesel::serialize::ToSql<Text, DB>,
{
    binds.iter().fold(
        diesel::sql_query(sql).into_boxed::<DB>(),
        |query, bind| match *bind {
            Bind::Int(value) => query.bind::<BigInt, _>(value),
            Bind::Text(value) => query.bind::<Text, _>(value),
        },
    )
}

/// A text query that tells diesel it may keep the statement prepared (see the module's comment).
struct Cacheable<Q>(Q);

impl<DB: DieselBackend, Q: QueryFragment<DB>> QueryFragment<DB> for Cacheable<Q> {
    fn walk_ast<'b>(&'b self, pass: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        self.0.walk_ast(pass)
    }

    // The one difference from the wrapped `sql_query`: its text is a constant of the program.
    fn is_safe_to_cache_prepared(&self, _backend: &DB) -> QueryResult<bool> {
        Ok(true)
    }
}

impl<Q> QueryId for Cacheable<Q> {
    type QueryId = ();
    // No static id: diesel then keys the cache by the SQL text and the bind types.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q: Query> Query for Cacheable<Q> {
    type SqlType = Q::SqlType;
}

impl<Conn, Q> RunQueryDsl<Conn> for Cacheable<Q> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    #[derive(diesel::QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        n: i64,
        #[diesel(sql_type = Text)]
        s: String,
    }

    /// Counts the statements the connection compiles and how many of them it keeps in its cache.
    fn counting(conn: &mut DbConn) -> (Arc<AtomicU64>, Arc<AtomicU64>) {
        use diesel::connection::InstrumentationEvent;
        let (started, cached) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
        let (s, c) = (Arc::clone(&started), Arc::clone(&cached));
        let count = move |event: InstrumentationEvent<'_>| match event {
            InstrumentationEvent::StartQuery { .. } => {
                s.fetch_add(1, Ordering::Relaxed);
            }
            InstrumentationEvent::CacheQuery { .. } => {
                c.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        };
        match conn {
            DbConn::Sqlite(c) => diesel::Connection::set_instrumentation(c, count),
            DbConn::Pg(c) => diesel::Connection::set_instrumentation(c, count),
        }
        (started, cached)
    }

    #[test]
    fn a_text_query_binds_by_number_and_is_prepared_once() {
        let mut conn = super::super::establish("sqlite://:memory:").expect("sqlite");
        let (started, cached) = counting(&mut conn);
        let sql = "SELECT $1 + $1 AS n, $2 || '!' AS s";
        for i in 1..=3 {
            let rows: Vec<Row> = load(&mut conn, sql, &[Bind::Int(i), Bind::Text("yui")]).unwrap();
            assert_eq!((rows[0].n, rows[0].s.as_str()), (2 * i, "yui!"));
        }
        assert_eq!(started.load(Ordering::Relaxed), 3);
        // Compiled and cached once, then reused: diesel's `sql_query` would have compiled it three
        // times and cached it never.
        assert_eq!(cached.load(Ordering::Relaxed), 1);
    }
}
