//! Blog posts and their tags.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::like_escape;
use super::search::{self, Corpus, Found, Stamp, WalkRow};
use crate::db::DbConn;
use crate::db::schema::{post_tags, posts, tags, users};
use crate::textsearch::Term;

/// A row of `posts`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = posts)]
pub struct Post {
    pub id: i64,
    pub author_id: i64,
    pub title: String,
    pub slug: String,
    pub body_md: String,
    pub body_html: String,
    pub excerpt: String,
    pub search_text: String,
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// Whether a post is a draft or published.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostStatus {
    /// Only editors see it.
    Draft,
    /// Public from `published_at` on.
    Published,
}

impl PostStatus {
    /// The stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Published => "published",
        }
    }

    /// Parses the stored (or submitted) text.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(Self::Draft),
            "published" => Some(Self::Published),
            _ => None,
        }
    }
}

/// The columns a list shows: no Markdown, HTML or search text, which lists never need (loading the
/// bodies of eleven posts for every front page cost a third of its throughput).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = posts)]
pub struct PostSummary {
    pub id: i64,
    pub author_id: i64,
    pub title: String,
    pub slug: String,
    pub excerpt: String,
    pub status: String,
    pub published_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// A post summary with its author's names and, where shown, its HTML.
#[derive(Debug, Clone)]
pub struct PostWithAuthor {
    pub post: PostSummary,
    pub author_login: String,
    pub author_name: String,
    /// The sanitised body, loaded only for the post page and the feed.
    pub body_html: Option<String>,
}

/// Fields written when a post is created or saved.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = posts, treat_none_as_null = true)]
pub struct PostFields<'a> {
    pub title: &'a str,
    pub slug: &'a str,
    pub body_md: &'a str,
    pub body_html: &'a str,
    pub excerpt: &'a str,
    pub search_text: &'a str,
    /// `textsearch::bigrams` of the search text, for the index.
    pub grams: &'a str,
    pub status: &'a str,
    pub published_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// Which published posts a public list shows.
#[derive(Debug, Clone)]
pub enum PublicFilter {
    /// Every published post.
    All,
    /// Posts with this tag name.
    Tag(String),
    /// Posts by this author id.
    Author(i64),
}

/// Published posts (newest first) for `filter`, from `offset`, at most `limit`.
pub fn list_public(
    conn: &mut DbConn,
    filter: &PublicFilter,
    now: NaiveDateTime,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<PostWithAuthor>> {
    let rows = public_query(filter, now)
        .order((posts::published_at.desc(), posts::id.desc()))
        .offset(offset)
        .limit(limit)
        .select((PostSummary::as_select(), users::login, users::display_name))
        .load::<(PostSummary, String, String)>(conn)?;
    Ok(rows.into_iter().map(with_author).collect())
}

/// The boxed query behind every public list.
type PublicQuery<'a> = diesel::dsl::IntoBoxed<
    'a,
    diesel::dsl::InnerJoin<posts::table, users::table>,
    crate::db::MultiBackend,
>;

fn public_query(filter: &PublicFilter, now: NaiveDateTime) -> PublicQuery<'static> {
    let mut q = posts::table
        .inner_join(users::table)
        .filter(posts::status.eq(PostStatus::Published.as_str()))
        .filter(posts::published_at.le(now))
        .into_boxed();
    match filter {
        PublicFilter::All => {}
        PublicFilter::Tag(name) => {
            let ids = post_tags::table
                .inner_join(tags::table)
                .filter(tags::name.eq(name.clone()))
                .select(post_tags::post_id);
            q = q.filter(posts::id.eq_any(ids));
        }
        PublicFilter::Author(id) => q = q.filter(posts::author_id.eq(*id)),
    }
    q
}

/// SQLite's index search over the blog (see `room_post::SQLITE_FROM`): the FTS5 table drives, each
/// match is read by primary key, `+` keeps status and date off `posts_public`.
const SQLITE_FROM: &str = "FROM post_grams f CROSS JOIN posts p ON p.id = f.rowid \
    WHERE post_grams MATCH ?1 AND +p.status = 'published' AND +p.published_at <= ?2";

/// The same, with `LIKE` for terms whose index match is not exact.
const SQLITE_FROM_LIKE: &str = "FROM post_grams f CROSS JOIN posts p ON p.id = f.rowid \
    WHERE post_grams MATCH ?1 AND +p.status = 'published' AND +p.published_at <= ?2 \
    AND NOT EXISTS (SELECT 1 FROM json_each(?4) t WHERE p.search_text NOT LIKE t.value ESCAPE '\\')";

/// The published blog posts, searched for some terms (`models::search`).
pub struct BlogSearch<'a> {
    terms: &'a [Term],
    now: NaiveDateTime,
}

impl<'a> BlogSearch<'a> {
    /// Posts published by `now`.
    pub fn new(terms: &'a [Term], now: NaiveDateTime) -> Self {
        Self { terms, now }
    }

    /// Published posts with every term.
    fn matching(&self) -> diesel::dsl::IntoBoxed<'static, posts::table, crate::db::MultiBackend> {
        let mut q = posts::table
            .filter(posts::status.eq(PostStatus::Published.as_str()))
            .filter(posts::published_at.le(self.now))
            .into_boxed();
        for term in self.terms {
            q = q.filter(
                posts::search_text
                    .like(format!("%{}%", like_escape(&term.text)))
                    .escape('\\'),
            );
        }
        q
    }

    fn sqlite(&self) -> search::SqliteIndexed {
        search::SqliteIndexed {
            from: if search::needs_like(self.terms) {
                SQLITE_FROM_LIKE
            } else {
                SQLITE_FROM
            },
            ids_json: "[]".to_owned(),
        }
    }

    /// PostgreSQL: `matching` narrowed by the GIN index (see `room_post::RoomSearch`).
    fn pg_indexed(&self) -> diesel::dsl::IntoBoxed<'static, posts::table, crate::db::MultiBackend> {
        self.matching().filter(search::tsquery_match(
            "posts",
            search::tsquery_text(self.terms),
        ))
    }
}

impl Corpus for BlogSearch<'_> {
    const TABLE: &'static str = "posts";
    const FTS_TABLE: &'static str = "post_grams";

    fn terms(&self) -> &[Term] {
        self.terms
    }

    fn newest(&self, conn: &mut DbConn, after: Option<Stamp>, n: i64) -> QueryResult<Vec<WalkRow>> {
        let mut q = posts::table
            .filter(posts::status.eq(PostStatus::Published.as_str()))
            .into_boxed();
        q = match after {
            None => q.filter(posts::published_at.le(self.now)),
            Some((at, id)) => q
                .filter(posts::published_at.le(at))
                .filter(posts::published_at.lt(at).or(posts::id.lt(id))),
        };
        let rows: Vec<(i64, Option<NaiveDateTime>)> = q
            .order((posts::published_at.desc(), posts::id.desc()))
            .limit(n)
            .select((posts::id, posts::published_at))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, at)| {
                Some(WalkRow {
                    id,
                    doc: id,
                    stamp: (at?, id),
                    readable: true,
                })
            })
            .collect())
    }

    fn containing(&self, conn: &mut DbConn, docs: &[i64]) -> QueryResult<HashSet<i64>> {
        let mut q = posts::table.filter(posts::id.eq_any(docs)).into_boxed();
        for term in self.terms {
            q = q.filter(
                posts::search_text
                    .like(format!("%{}%", like_escape(&term.text)))
                    .escape('\\'),
            );
        }
        Ok(q.select(posts::id).load::<i64>(conn)?.into_iter().collect())
    }

    fn indexed_count(&self, conn: &mut DbConn, cap: i64) -> QueryResult<i64> {
        match conn.backend() {
            crate::db::Backend::Sqlite => self.sqlite().count(conn, self.terms, self.now, cap),
            crate::db::Backend::Postgres => self
                .pg_indexed()
                .limit(cap)
                .select(posts::id)
                .load::<i64>(conn)
                .map(|ids| i64::try_from(ids.len()).unwrap_or(cap)),
        }
    }

    fn indexed_newest(&self, conn: &mut DbConn, want: i64) -> QueryResult<Vec<i64>> {
        match conn.backend() {
            crate::db::Backend::Sqlite => self.sqlite().newest(conn, self.terms, self.now, want),
            crate::db::Backend::Postgres => self
                .pg_indexed()
                .order((posts::published_at.desc(), posts::id.desc()))
                .limit(want)
                .select(posts::id)
                .load(conn),
        }
    }

    fn scanned_count(&self, conn: &mut DbConn, cap: i64) -> QueryResult<i64> {
        self.matching()
            .limit(cap)
            .select(posts::id)
            .load::<i64>(conn)
            .map(|ids| i64::try_from(ids.len()).unwrap_or(cap))
    }
}

/// Searches published posts for text holding every term: the newest `want` ids and how many match
/// (up to `cap`). Exact, newest first; see `models::search`.
pub fn search(
    conn: &mut DbConn,
    terms: &[Term],
    now: NaiveDateTime,
    want: i64,
    cap: i64,
) -> QueryResult<Found> {
    search::run(conn, &BlogSearch::new(terms, now), want, cap)
}

/// Published posts by id, in the order given, with their authors.
pub fn summaries_by_ids(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<PostWithAuthor>> {
    let rows = posts::table
        .inner_join(users::table)
        .filter(posts::id.eq_any(ids))
        .select((PostSummary::as_select(), users::login, users::display_name))
        .load::<(PostSummary, String, String)>(conn)?;
    let mut by_id: HashMap<i64, PostWithAuthor> =
        rows.into_iter().map(|r| (r.0.id, with_author(r))).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

fn with_author((post, author_login, author_name): (PostSummary, String, String)) -> PostWithAuthor {
    PostWithAuthor {
        post,
        author_login,
        author_name,
        body_html: None,
    }
}

/// A published, visible post by slug.
pub fn find_public_by_slug(
    conn: &mut DbConn,
    slug: &str,
    now: NaiveDateTime,
) -> QueryResult<PostWithAuthor> {
    posts::table
        .inner_join(users::table)
        .filter(posts::slug.eq(slug))
        .filter(posts::status.eq(PostStatus::Published.as_str()))
        .filter(posts::published_at.le(now))
        .select((
            PostSummary::as_select(),
            posts::body_html,
            users::login,
            users::display_name,
        ))
        .first::<(PostSummary, String, String, String)>(conn)
        .map(
            |(post, body_html, author_login, author_name)| PostWithAuthor {
                post,
                author_login,
                author_name,
                body_html: Some(body_html),
            },
        )
}

/// The HTML bodies of several posts, keyed by id (for the feed).
pub fn bodies_for(conn: &mut DbConn, post_ids: &[i64]) -> QueryResult<HashMap<i64, String>> {
    Ok(posts::table
        .filter(posts::id.eq_any(post_ids))
        .select((posts::id, posts::body_html))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

/// The public URL path of a post (its slug percent-encoded: Japanese slugs are common).
pub fn public_path(slug: &str) -> String {
    format!(
        "/posts/{}",
        url::form_urlencoded::byte_serialize(slug.as_bytes())
            .collect::<String>()
            .replace('+', "%20")
    )
}

/// Any post by id (for editors).
pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Post> {
    posts::table.find(id).select(Post::as_select()).first(conn)
}

/// Every post, newest first, for the editors' list.
pub fn list_all(
    conn: &mut DbConn,
    offset: i64,
    limit: i64,
) -> QueryResult<(Vec<PostWithAuthor>, i64)> {
    let total = posts::table.count().get_result(conn)?;
    let rows = posts::table
        .inner_join(users::table)
        .order(posts::id.desc())
        .offset(offset)
        .limit(limit)
        .select((PostSummary::as_select(), users::login, users::display_name))
        .load::<(PostSummary, String, String)>(conn)?;
    Ok((rows.into_iter().map(with_author).collect(), total))
}

/// Whether a slug is used by a post other than `except`.
pub fn slug_taken(conn: &mut DbConn, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut q = posts::table.filter(posts::slug.eq(slug)).into_boxed();
    if let Some(id) = except {
        q = q.filter(posts::id.ne(id));
    }
    q.select(posts::id)
        .first::<i64>(conn)
        .optional()
        .map(|o| o.is_some())
}

/// Inserts a post and returns its id.
pub fn insert(
    conn: &mut DbConn,
    author_id: i64,
    fields: &PostFields<'_>,
    created_at: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(posts::table)
        .values((
            fields,
            posts::author_id.eq(author_id),
            posts::created_at.eq(created_at),
        ))
        .execute(conn)?;
    posts::table
        .filter(posts::slug.eq(fields.slug))
        .select(posts::id)
        .first(conn)
}

/// Saves a post.
pub fn update(conn: &mut DbConn, id: i64, fields: &PostFields<'_>) -> QueryResult<()> {
    diesel::update(posts::table.find(id))
        .set(fields)
        .execute(conn)
        .map(drop)
}

/// Deletes a post (its tag links go with it).
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(post_tags::table.filter(post_tags::post_id.eq(id))).execute(conn)?;
    diesel::delete(posts::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Replaces a post's tags with `names` (creating tags as needed).
pub fn set_tags(conn: &mut DbConn, post_id: i64, names: &[String]) -> QueryResult<()> {
    diesel::delete(post_tags::table.filter(post_tags::post_id.eq(post_id))).execute(conn)?;
    for name in names {
        let existing = tags::table
            .filter(tags::name.eq(name))
            .select(tags::id)
            .first::<i64>(conn)
            .optional()?;
        let tag_id = if let Some(id) = existing {
            id
        } else {
            diesel::insert_into(tags::table)
                .values(tags::name.eq(name))
                .execute(conn)?;
            tags::table
                .filter(tags::name.eq(name))
                .select(tags::id)
                .first(conn)?
        };
        diesel::insert_into(post_tags::table)
            .values((post_tags::post_id.eq(post_id), post_tags::tag_id.eq(tag_id)))
            .execute(conn)?;
    }
    Ok(())
}

/// Tag names of several posts at once, keyed by post id (sorted by name).
pub fn tags_for(conn: &mut DbConn, post_ids: &[i64]) -> QueryResult<HashMap<i64, Vec<String>>> {
    let rows = post_tags::table
        .inner_join(tags::table)
        .filter(post_tags::post_id.eq_any(post_ids))
        .order(tags::name.asc())
        .select((post_tags::post_id, tags::name))
        .load::<(i64, String)>(conn)?;
    let mut map: HashMap<i64, Vec<String>> = HashMap::new();
    for (post_id, name) in rows {
        map.entry(post_id).or_default().push(name);
    }
    Ok(map)
}

/// Counts all posts.
pub fn count(conn: &mut DbConn) -> QueryResult<i64> {
    posts::table.count().get_result(conn)
}

/// Recomputes every post's `grams` from its search text with `textsearch::bigrams` (after the
/// format changed); returns how many rows changed.
pub fn rebuild_grams(conn: &mut DbConn) -> QueryResult<usize> {
    let mut changed = 0;
    let mut after = 0_i64;
    loop {
        let rows: Vec<(i64, String, String)> = posts::table
            .filter(posts::id.gt(after))
            .order(posts::id.asc())
            .limit(500)
            .select((posts::id, posts::search_text, posts::grams))
            .load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(changed);
        };
        after = last.0;
        for (id, text, grams) in rows {
            let fresh = crate::textsearch::bigrams(&text);
            if fresh != grams {
                diesel::update(posts::table.find(id))
                    .set(posts::grams.eq(fresh))
                    .execute(conn)?;
                changed += 1;
            }
        }
    }
}
