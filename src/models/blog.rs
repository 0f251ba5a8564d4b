//! The public space's posts as the public blog reads them: addresses (`/posts/{slug}`), tags and
//! the public lists. The posts themselves are room posts (`room_post`), with revisions and 承認.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{post_revisions, room_post_tags, room_posts, users};
use crate::i18n::Lang;

/// What a public list shows of a post: no Markdown, HTML or search text, which lists never need
/// (loading the bodies of eleven posts for every front page costs a third of its throughput).
#[derive(Debug, Clone, Queryable)]
pub struct BlogSummary {
    pub id: i64,
    pub slug: Option<String>,
    pub author_id: i64,
    pub published_at: Option<NaiveDateTime>,
    /// When the live revision went live (published or approved).
    pub live_since: Option<NaiveDateTime>,
    pub title: String,
    pub excerpt: String,
    pub author_login: String,
    pub author_name: String,
    /// The language of the title and excerpt.
    #[diesel(deserialize_as = String)]
    pub lang: Lang,
}

impl BlogSummary {
    /// When what readers see of the post last changed: its live version went live, or its
    /// publication began. Not `room_posts.updated_at`, which a draft or an edit still waiting for
    /// approval moves too.
    pub fn updated(&self) -> NaiveDateTime {
        self.live_since
            .into_iter()
            .chain(self.published_at)
            .max()
            .unwrap_or_default()
    }
}

/// Which visible posts a public list shows.
#[derive(Debug, Clone)]
pub enum PublicFilter {
    /// Every visible post.
    All,
    /// Posts whose live revision has this tag.
    Tag(String),
    /// Posts by this author id.
    Author(i64),
}

/// Live posts of the room, visible at `now`, joined with their live revision and author.
type LiveJoin = diesel::dsl::InnerJoinOn<
    diesel::dsl::InnerJoinOn<
        room_posts::table,
        post_revisions::table,
        diesel::dsl::Eq<room_posts::live_revision_id, diesel::dsl::Nullable<post_revisions::id>>,
    >,
    users::table,
    diesel::dsl::Eq<users::id, room_posts::author_id>,
>;

fn visible(
    room_id: i64,
    now: NaiveDateTime,
) -> diesel::dsl::IntoBoxed<'static, LiveJoin, crate::db::MultiBackend> {
    room_posts::table
        .inner_join(
            post_revisions::table
                .on(room_posts::live_revision_id.eq(post_revisions::id.nullable())),
        )
        .inner_join(users::table.on(users::id.eq(room_posts::author_id)))
        .filter(room_posts::room_id.eq(room_id))
        .filter(room_posts::deleted.eq(false))
        .filter(room_posts::published_at.le(now))
        .filter(
            room_posts::publish_until
                .is_null()
                .or(room_posts::publish_until.gt(now)),
        )
        .into_boxed()
}

type SummaryColumns = (
    room_posts::id,
    room_posts::slug,
    room_posts::author_id,
    room_posts::published_at,
    post_revisions::decided_at,
    post_revisions::title,
    post_revisions::excerpt,
    users::login,
    users::display_name,
    post_revisions::lang,
);

const SUMMARY: SummaryColumns = (
    room_posts::id,
    room_posts::slug,
    room_posts::author_id,
    room_posts::published_at,
    post_revisions::decided_at,
    post_revisions::title,
    post_revisions::excerpt,
    users::login,
    users::display_name,
    post_revisions::lang,
);

/// Visible posts of the public space (newest first) for `filter`, from `offset`, at most `limit`.
/// Two steps: the ids come from one index walk that reads no rows (deep pages skip index entries,
/// not joined rows), then the page's rows are read by id.
pub fn list_public(
    conn: &mut DbConn,
    room_id: i64,
    filter: &PublicFilter,
    now: NaiveDateTime,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<BlogSummary>> {
    let ids: Vec<i64> = match filter {
        PublicFilter::All | PublicFilter::Author(_) => {
            let mut q = room_posts::table
                .filter(room_posts::room_id.eq(room_id))
                .filter(room_posts::deleted.eq(false))
                .filter(room_posts::published_at.le(now))
                .filter(
                    room_posts::publish_until
                        .is_null()
                        .or(room_posts::publish_until.gt(now)),
                )
                .into_boxed();
            if let PublicFilter::Author(id) = filter {
                q = q.filter(room_posts::author_id.eq(*id));
            }
            q.order((room_posts::published_at.desc(), room_posts::id.desc()))
                .offset(offset)
                .limit(limit)
                .select(room_posts::id)
                .load(conn)?
        }
        // One walk of the tag's index newest first: the room and publishing window are copied
        // into it, and a deleted post has no tag rows.
        PublicFilter::Tag(name) => room_post_tags::table
            .filter(room_post_tags::room_id.eq(room_id))
            .filter(room_post_tags::tag.eq(name.clone()))
            .filter(room_post_tags::published_at.le(now))
            .filter(
                room_post_tags::publish_until
                    .is_null()
                    .or(room_post_tags::publish_until.gt(now)),
            )
            .order((
                room_post_tags::published_at.desc(),
                room_post_tags::post_id.desc(),
            ))
            .offset(offset)
            .limit(limit)
            .select(room_post_tags::post_id)
            .load(conn)?,
    };
    // By id only: with the visibility conditions too, SQLite walks the room's index instead.
    let rows: Vec<BlogSummary> = room_posts::table
        .inner_join(
            post_revisions::table
                .on(room_posts::live_revision_id.eq(post_revisions::id.nullable())),
        )
        .inner_join(users::table.on(users::id.eq(room_posts::author_id)))
        .filter(room_posts::id.eq_any(&ids))
        .select(SUMMARY)
        .load(conn)?;
    let mut by_id: HashMap<i64, BlogSummary> = rows.into_iter().map(|r| (r.id, r)).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// A visible post by its address, with its sanitised HTML.
pub fn find_public_by_slug(
    conn: &mut DbConn,
    room_id: i64,
    slug: &str,
    now: NaiveDateTime,
) -> QueryResult<(BlogSummary, String)> {
    visible(room_id, now)
        .filter(room_posts::slug.eq(slug))
        .select((SUMMARY, post_revisions::body_html))
        .first(conn)
}

/// The live HTML of several posts, keyed by id (for the feed).
pub fn bodies_for(conn: &mut DbConn, post_ids: &[i64]) -> QueryResult<HashMap<i64, String>> {
    Ok(room_posts::table
        .inner_join(
            post_revisions::table
                .on(room_posts::live_revision_id.eq(post_revisions::id.nullable())),
        )
        .filter(room_posts::id.eq_any(post_ids))
        .select((room_posts::id, post_revisions::body_html))
        .load::<(i64, String)>(conn)?
        .into_iter()
        .collect())
}

/// Whether a slug is used in the room by a post other than `except` (deleted ones too: their
/// address stays taken, so an old link never leads to a different post).
pub fn slug_taken(
    conn: &mut DbConn,
    room_id: i64,
    slug: &str,
    except: Option<i64>,
) -> QueryResult<bool> {
    let mut q = room_posts::table
        .filter(room_posts::room_id.eq(room_id))
        .filter(room_posts::slug.eq(slug))
        .into_boxed();
    if let Some(id) = except {
        q = q.filter(room_posts::id.ne(id));
    }
    q.select(room_posts::id)
        .first::<i64>(conn)
        .optional()
        .map(|o| o.is_some())
}

/// Gives a post its address.
pub fn set_slug(conn: &mut DbConn, post_id: i64, slug: &str) -> QueryResult<()> {
    diesel::update(room_posts::table.find(post_id))
        .set(room_posts::slug.eq(slug))
        .execute(conn)
        .map(drop)
}

/// Splits a revision's stored tag text (`"a, b"`).
pub fn split_tags(stored: &str) -> Vec<String> {
    stored
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The publishing window a post's tag rows carry.
#[derive(Debug, Clone, Copy)]
pub struct LiveWindow {
    pub room_id: i64,
    pub published_at: NaiveDateTime,
    pub publish_until: Option<NaiveDateTime>,
}

/// Replaces the live tags of a post with those of its newly live revision (`stored`), visible in
/// `window`.
pub fn set_live_tags(
    conn: &mut DbConn,
    post_id: i64,
    stored: &str,
    window: LiveWindow,
) -> QueryResult<()> {
    remove_tags(conn, post_id)?;
    // One row at a time: the multi-backend connection has no batch insert (at most ten tags).
    for tag in split_tags(stored) {
        diesel::insert_into(room_post_tags::table)
            .values((
                room_post_tags::post_id.eq(post_id),
                room_post_tags::tag.eq(tag),
                room_post_tags::room_id.eq(window.room_id),
                room_post_tags::published_at.eq(window.published_at),
                room_post_tags::publish_until.eq(window.publish_until),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes a post's tags from the tag pages (a deleted post).
pub fn remove_tags(conn: &mut DbConn, post_id: i64) -> QueryResult<()> {
    diesel::delete(room_post_tags::table.filter(room_post_tags::post_id.eq(post_id)))
        .execute(conn)
        .map(drop)
}

/// Live tag names of several posts at once, keyed by post id (sorted by name).
pub fn tags_for(conn: &mut DbConn, post_ids: &[i64]) -> QueryResult<HashMap<i64, Vec<String>>> {
    let rows = room_post_tags::table
        .filter(room_post_tags::post_id.eq_any(post_ids))
        .order(room_post_tags::tag.asc())
        .select((room_post_tags::post_id, room_post_tags::tag))
        .load::<(i64, String)>(conn)?;
    let mut map: HashMap<i64, Vec<String>> = HashMap::new();
    for (post_id, name) in rows {
        map.entry(post_id).or_default().push(name);
    }
    Ok(map)
}

/// How many posts the room has (deleted ones included).
pub fn count_posts(conn: &mut DbConn, room_id: i64) -> QueryResult<i64> {
    room_posts::table
        .filter(room_posts::room_id.eq(room_id))
        .count()
        .get_result(conn)
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
