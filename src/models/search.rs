//! The search strategy shared by the public blog and room posts. Results are exact (every term is a
//! substring of the normalised text) and newest first, and two ways of finding them are combined so
//! that neither common nor rare words read a whole table:
//!
//! 1. **Walk**: read readable posts newest first in growing steps (one index range) and check each
//!    step's texts with `LIKE` (one query by primary key). A common word fills a page after a few
//!    hundred rows.
//! 2. **Index**: a rare word would make the walk read everything; the bigram index (`textsearch`)
//!    lists the few posts that hold it instead. A probe of the index says up front when a word is
//!    rare (`rare_in_index`); otherwise the walk gives up after a budget.
//!
//! The count above the results comes from the index and stops at a cap (a common word's count
//! needs the cap's worth of index hits, not a pass over the table). Terms without any letter or
//! digit ("++") have no index: the walk then goes on until the page is full, and the count is a
//! `LIKE` scan.

use std::collections::HashSet;

use chrono::NaiveDateTime;
use diesel::QueryResult;

use crate::db::DbConn;
use crate::textsearch::Term;

/// The first step of a walk; each next step doubles, up to `MAX_STEP`.
const FIRST_STEP: i64 = 64;
/// The largest step of a walk (also bounds the ids bound into one query).
const MAX_STEP: i64 = 512;

/// Where a post stands in the newest-first order: `(published_at, id)`.
pub type Stamp = (NaiveDateTime, i64);

/// What a search found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Found {
    /// Post ids, newest first, at most as many as were asked for.
    pub ids: Vec<i64>,
    /// How many match in all, at most the cap asked for.
    pub total: i64,
}

/// A post read by a walk.
#[derive(Debug, Clone, Copy)]
pub struct WalkRow {
    /// The post.
    pub id: i64,
    /// The row whose text is checked (the post itself, or its live revision).
    pub doc: i64,
    /// Its place in the order.
    pub stamp: Stamp,
    /// Whether the searcher may read it (rooms are checked here, not in SQL, so that the walk's
    /// query has one obvious index: the newest-first one).
    pub readable: bool,
}

/// One searchable set of posts (the blog, or the rooms a visitor may read) with the terms asked.
pub trait Corpus {
    /// The table holding the texts and their `grams` (PostgreSQL indexes it).
    const TABLE: &'static str;
    /// SQLite's FTS5 table over the texts.
    const FTS_TABLE: &'static str;

    /// The search terms.
    fn terms(&self) -> &[Term];

    /// The next `n` posts visible now, newest first, after `after`.
    fn newest(&self, conn: &mut DbConn, after: Option<Stamp>, n: i64) -> QueryResult<Vec<WalkRow>>;

    /// Which of `docs` have text containing every term (`LIKE`).
    fn containing(&self, conn: &mut DbConn, docs: &[i64]) -> QueryResult<HashSet<i64>>;

    /// Through the index: how many readable posts match, counting up to `cap`.
    fn indexed_count(&self, conn: &mut DbConn, cap: i64) -> QueryResult<i64>;

    /// Through the index: the newest `want` readable posts that match.
    fn indexed_newest(&self, conn: &mut DbConn, want: i64) -> QueryResult<Vec<i64>>;

    /// Without the index (no term has a letter or digit): how many readable posts match, counting
    /// up to `cap`.
    fn scanned_count(&self, conn: &mut DbConn, cap: i64) -> QueryResult<i64>;
}

/// How a walk ended.
enum Walked {
    /// The posts ended: these are all the hits.
    Exhausted(Vec<i64>),
    /// At least the wanted number of hits, newest first (there may be more).
    Enough(Vec<i64>),
    /// The budget ran out first: the word is rare; ask the index.
    GaveUp,
}

/// Searches `corpus`: the newest `want` matching post ids, and how many match (up to `cap`).
pub fn run(conn: &mut DbConn, corpus: &impl Corpus, want: i64, cap: i64) -> QueryResult<Found> {
    let terms = corpus.terms();
    if terms.is_empty() {
        return Ok(Found::default());
    }
    let index = terms.iter().any(Term::indexed);
    // A word in one post of 64 fills the page within the walk's budget; a word with fewer index
    // matches than that costs less through the index.
    let budget = (want * 64).max(1024);
    let walked = if index && rare_in_index(conn, corpus, budget)? {
        Walked::GaveUp
    } else {
        walk(conn, corpus, want, index.then_some(budget))?
    };
    let want_len = usize::try_from(want).unwrap_or(0);
    Ok(match walked {
        Walked::Exhausted(mut hits) => {
            let total = i64::try_from(hits.len()).unwrap_or(cap).min(cap);
            hits.truncate(want_len);
            Found { ids: hits, total }
        }
        Walked::Enough(mut hits) => {
            let counted = if index {
                corpus.indexed_count(conn, cap)?
            } else {
                corpus.scanned_count(conn, cap)?
            };
            let walked = i64::try_from(hits.len()).unwrap_or(cap);
            hits.truncate(want_len);
            Found {
                ids: hits,
                total: counted.max(walked).min(cap),
            }
        }
        Walked::GaveUp => Found {
            ids: corpus.indexed_newest(conn, want)?,
            total: corpus.indexed_count(conn, cap)?,
        },
    })
}

/// How many matches PostgreSQL's probe reads: each costs a heap visit there, so it only spots the
/// rarest words (for which a walk would read its whole budget for nothing).
const PG_PROBE: i64 = 64;

/// Whether the index already tells that the terms are rare enough that reading their matches costs
/// less than a walk: fewer than `budget` texts match in all (readable or not) on SQLite, whose
/// FTS5 answers without touching rows; fewer than `PG_PROBE` on PostgreSQL.
fn rare_in_index<C: Corpus>(conn: &mut DbConn, corpus: &C, budget: i64) -> QueryResult<bool> {
    use diesel::RunQueryDsl;
    use diesel::sql_types::{BigInt, Text};
    let (sql, query, limit) = match conn.backend() {
        crate::db::Backend::Sqlite => (
            format!(
                "SELECT count(*) AS n FROM (SELECT 1 FROM {t} WHERE {t} MATCH ? LIMIT ?) s",
                t = C::FTS_TABLE
            ),
            fts_query(corpus.terms()),
            budget,
        ),
        crate::db::Backend::Postgres => (
            format!(
                "SELECT count(*) AS n FROM (SELECT 1 FROM {t} \
                 WHERE {t}.grams_tsv @@ to_tsquery('simple', $1) LIMIT $2) s",
                t = C::TABLE
            ),
            tsquery_text(corpus.terms()),
            PG_PROBE,
        ),
    };
    let n = diesel::sql_query(sql)
        .bind::<Text, _>(query)
        .bind::<BigInt, _>(limit)
        .get_result::<Count>(conn)?
        .n;
    Ok(n < limit)
}

/// Walks readable posts newest first, in growing steps, until `want` hits, the end of the posts,
/// or `budget` rows read.
fn walk(
    conn: &mut DbConn,
    corpus: &impl Corpus,
    want: i64,
    budget: Option<i64>,
) -> QueryResult<Walked> {
    let want = usize::try_from(want).unwrap_or(0);
    let mut hits: Vec<i64> = Vec::new();
    let mut after = None;
    let mut step = FIRST_STEP;
    let mut read: i64 = 0;
    loop {
        let rows = corpus.newest(conn, after, step)?;
        let ended = i64::try_from(rows.len()).unwrap_or(i64::MAX) < step;
        read += step;
        if let Some(last) = rows.last() {
            after = Some(last.stamp);
        }
        let docs: Vec<i64> = rows.iter().filter(|r| r.readable).map(|r| r.doc).collect();
        if !docs.is_empty() {
            let ok = corpus.containing(conn, &docs)?;
            hits.extend(
                rows.iter()
                    .filter(|r| r.readable && ok.contains(&r.doc))
                    .map(|r| r.id),
            );
        }
        if ended {
            return Ok(Walked::Exhausted(hits));
        }
        if hits.len() >= want {
            return Ok(Walked::Enough(hits));
        }
        if budget.is_some_and(|b| read >= b) {
            return Ok(Walked::GaveUp);
        }
        step = (step * 2).min(MAX_STEP);
    }
}

/// The FTS5 query for SQLite: every phrase and prefix of every term (tokens are letters and
/// digits: never a quote).
pub fn fts_query(terms: &[Term]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for t in terms {
        parts.extend(t.phrases.iter().map(|p| format!("\"{p}\"")));
        parts.extend(t.prefixes.iter().map(|c| format!("\"{c}\"*")));
    }
    parts.join(" AND ")
}

/// The text for PostgreSQL's `to_tsquery`: every bigram and prefix of every term, all required.
/// Positions are not asked, so the GIN index answers without reading any row's tsvector (LIKE then
/// keeps the match exact). Tokens are letters and digits: never a quote or backslash.
pub fn tsquery_text(terms: &[Term]) -> String {
    let mut parts: Vec<String> = Vec::new();
    for t in terms {
        for p in &t.phrases {
            parts.extend(p.split(' ').map(|gram| format!("'{gram}'")));
        }
        parts.extend(t.prefixes.iter().map(|c| format!("'{c}':*")));
    }
    parts.join(" & ")
}

/// PostgreSQL: `table`'s stored tsvector (`grams_tsv`, GIN-indexed; PostgreSQL only, so not in the
/// portable schema) holds every token of `text` (from `tsquery_text`). `text` is bound, never
/// spliced into the SQL.
pub fn tsquery_match(
    table: &'static str,
    text: String,
) -> diesel::expression::SqlLiteral<
    diesel::sql_types::Bool,
    diesel::expression::UncheckedBind<
        diesel::expression::SqlLiteral<diesel::sql_types::Bool>,
        diesel::internal::derives::as_expression::Bound<diesel::sql_types::Text, String>,
    >,
> {
    use diesel::dsl::sql;
    use diesel::sql_types::{Bool, Text};
    sql::<Bool>(&format!("{table}.grams_tsv @@ to_tsquery('simple', "))
        .bind::<Text, _>(text)
        .sql(")")
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

#[derive(diesel::QueryableByName)]
struct IdRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    id: i64,
}

/// SQLite: an index search written as SQL, because the FTS5 table is not in the portable schema
/// and the join order must be fixed (the FTS5 table drives; see the callers). `from` is a
/// `FROM … WHERE …` whose parameters are ?1 the FTS5 query, ?2 now, ?3 `ids_json`, ?4 the LIKE
/// patterns of the terms the index does not settle (`like_patterns_json`), ?5 a limit. Every
/// value is bound; nothing from the request is spliced into the SQL.
pub struct SqliteIndexed {
    /// The `FROM … WHERE …` part.
    pub from: &'static str,
    /// ?3: a JSON array of ids (the readable rooms), or `[]`.
    pub ids_json: String,
}

impl SqliteIndexed {
    /// How many rows match, up to `cap`.
    pub fn count(
        &self,
        conn: &mut DbConn,
        terms: &[Term],
        now: NaiveDateTime,
        cap: i64,
    ) -> QueryResult<i64> {
        use diesel::RunQueryDsl;
        use diesel::sql_types::{BigInt, Text, Timestamp};
        diesel::sql_query(format!(
            "SELECT count(*) AS n FROM (SELECT 1 {} LIMIT ?5)",
            self.from
        ))
        .bind::<Text, _>(fts_query(terms))
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(&self.ids_json)
        .bind::<Text, _>(like_patterns_json(terms))
        .bind::<BigInt, _>(cap)
        .get_result::<Count>(conn)
        .map(|c| c.n)
    }

    /// The ids of the newest `want` rows.
    pub fn newest(
        &self,
        conn: &mut DbConn,
        terms: &[Term],
        now: NaiveDateTime,
        want: i64,
    ) -> QueryResult<Vec<i64>> {
        use diesel::RunQueryDsl;
        use diesel::sql_types::{BigInt, Text, Timestamp};
        Ok(diesel::sql_query(format!(
            "SELECT p.id AS id {} \
             ORDER BY p.published_at DESC, p.id DESC LIMIT ?5",
            self.from
        ))
        .bind::<Text, _>(fts_query(terms))
        .bind::<Timestamp, _>(now)
        .bind::<Text, _>(&self.ids_json)
        .bind::<Text, _>(like_patterns_json(terms))
        .bind::<BigInt, _>(want)
        .load::<IdRow>(conn)?
        .into_iter()
        .map(|r| r.id)
        .collect())
    }
}

/// A JSON array of ids.
pub fn ids_json(ids: &[i64]) -> String {
    serde_json::Value::from(ids.to_vec()).to_string()
}

/// A JSON array of `LIKE` patterns (escaped, `ESCAPE '\'`) for the terms whose index match is not
/// already exact.
pub fn like_patterns_json(terms: &[Term]) -> String {
    let patterns: Vec<String> = terms
        .iter()
        .filter(|t| !t.index_is_exact)
        .map(|t| format!("%{}%", super::like_escape(&t.text)))
        .collect();
    serde_json::Value::from(patterns).to_string()
}

/// Whether some term needs the `LIKE` check after the index.
pub fn needs_like(terms: &[Term]) -> bool {
    terms.iter().any(|t| !t.index_is_exact)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_queries_hold_every_phrase() {
        let terms = [
            Term::new("防災訓練"),
            Term::new("東"),
            Term::new("rust・会議"),
        ];
        assert_eq!(
            fts_query(&terms),
            "\"防災 災訓 訓練\" AND \"東\"* AND \"ru us st\" AND \"会議\""
        );
        assert_eq!(
            tsquery_text(&terms),
            "'防災' & '災訓' & '訓練' & '東':* & 'ru' & 'us' & 'st' & '会議'"
        );
    }
}
