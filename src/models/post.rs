//! Blog posts and their tags.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::like_escape;
use crate::db::DbConn;
use crate::db::schema::{post_tags, posts, tags, users};

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
    /// Posts whose search text contains every one of these (already normalised) terms.
    Search(Vec<String>),
}

/// Published posts (newest first) for `filter`, from `offset`, at most `limit`.
pub fn list_public(
    conn: &mut DbConn,
    filter: &PublicFilter,
    now: NaiveDateTime,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<PostWithAuthor>> {
    let rows = public_query(conn.backend(), filter, now)
        .order((posts::published_at.desc(), posts::id.desc()))
        .offset(offset)
        .limit(limit)
        .select((PostSummary::as_select(), users::login, users::display_name))
        .load::<(PostSummary, String, String)>(conn)?;
    Ok(rows.into_iter().map(with_author).collect())
}

/// How many published posts match `filter` (search shows it; plain lists do not count).
/// At most `cap` are counted (search says "1000+" rather than touch every match of a common word).
pub fn count_public(
    conn: &mut DbConn,
    filter: &PublicFilter,
    now: NaiveDateTime,
    cap: i64,
) -> QueryResult<i64> {
    let backend = conn.backend();
    let ids: Vec<i64> = public_query(backend, filter, now)
        .select(posts::id)
        .limit(cap)
        .load(conn)?;
    Ok(i64::try_from(ids.len()).unwrap_or(cap))
}

/// The boxed query behind every public list.
type PublicQuery<'a> = diesel::dsl::IntoBoxed<
    'a,
    diesel::dsl::InnerJoin<posts::table, users::table>,
    crate::db::MultiBackend,
>;

fn public_query(
    backend: crate::db::Backend,
    filter: &PublicFilter,
    now: NaiveDateTime,
) -> PublicQuery<'static> {
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
        PublicFilter::Search(terms) => {
            for term in terms {
                // The index narrows the candidates; LIKE keeps the match exact (and serves
                // one-character terms, which have no bigram).
                for phrase in crate::textsearch::phrases(term) {
                    q = q.filter(super::gram_match(backend, "posts", "post_grams", phrase));
                }
                q = q.filter(
                    posts::search_text
                        .like(format!("%{}%", like_escape(term)))
                        .escape('\\'),
                );
            }
        }
    }
    q
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
