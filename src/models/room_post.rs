//! Room posts and their revisions.

use std::collections::{HashMap, HashSet};

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::search::{self, Corpus, Found, Stamp, WalkRow};
use super::{last_insert_id, like_escape};
use crate::db::DbConn;
use crate::db::schema::{post_revisions, room_posts, rooms, users};
use crate::db::types::RevisionStatus;
use crate::i18n::Lang;
use crate::textsearch::Term;

/// A row of `room_posts`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = room_posts)]
pub struct RoomPost {
    pub id: i64,
    pub room_id: i64,
    pub author_id: i64,
    pub live_revision_id: Option<i64>,
    pub published_at: Option<NaiveDateTime>,
    pub publish_until: Option<NaiveDateTime>,
    pub ever_published: bool,
    pub deleted: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// When its first publication was announced to the room (new-post mail); `None` until then.
    pub notified_at: Option<NaiveDateTime>,
    /// The public space's address of the post (`/posts/{slug}`); `None` in other rooms.
    pub slug: Option<String>,
}

/// A row of `post_revisions`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = post_revisions)]
pub struct Revision {
    pub id: i64,
    pub post_id: i64,
    pub editor_id: i64,
    pub title: String,
    pub body_md: String,
    pub body_html: String,
    pub excerpt: String,
    pub search_text: String,
    #[diesel(deserialize_as = String)]
    pub status: RevisionStatus,
    pub note: String,
    pub publish_at: Option<NaiveDateTime>,
    pub publish_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub decided_by: Option<i64>,
    pub decided_at: Option<NaiveDateTime>,
    /// The revision's tags, `", "`-separated (the public space).
    pub tags: String,
    /// The language its title and body are written in.
    #[diesel(deserialize_as = String)]
    pub lang: Lang,
}

/// A new revision.
#[derive(Debug, Insertable)]
#[diesel(table_name = post_revisions)]
pub struct NewRevision<'a> {
    pub post_id: i64,
    pub editor_id: i64,
    pub title: &'a str,
    pub body_md: &'a str,
    pub body_html: &'a str,
    pub excerpt: &'a str,
    pub search_text: &'a str,
    /// `textsearch::bigrams` of the search text, for the index.
    pub grams: &'a str,
    /// A `RevisionStatus` as stored text.
    pub status: &'a str,
    pub publish_at: Option<NaiveDateTime>,
    pub publish_until: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    /// `", "`-separated tags (empty outside the public space).
    pub tags: &'a str,
    /// The language code of the title and body (`Lang::code`).
    pub lang: &'a str,
}

/// Inserts a post shell and returns its id.
pub fn insert_post(
    conn: &mut DbConn,
    room_id: i64,
    author_id: i64,
    at: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(room_posts::table)
        .values((
            room_posts::room_id.eq(room_id),
            room_posts::author_id.eq(author_id),
            room_posts::created_at.eq(at),
            room_posts::updated_at.eq(at),
        ))
        .execute(conn)?;
    last_insert_id(conn)
}

/// Inserts a revision and returns its id.
pub fn insert_revision(conn: &mut DbConn, new: &NewRevision<'_>) -> QueryResult<i64> {
    diesel::insert_into(post_revisions::table)
        .values(new)
        .execute(conn)?;
    diesel::update(room_posts::table.find(new.post_id))
        .set(room_posts::updated_at.eq(new.created_at))
        .execute(conn)?;
    last_insert_id(conn)
}

/// A live post of a room (not deleted).
pub fn find_post(conn: &mut DbConn, room_id: i64, post_id: i64) -> QueryResult<RoomPost> {
    room_posts::table
        .filter(room_posts::id.eq(post_id))
        .filter(room_posts::room_id.eq(room_id))
        .filter(room_posts::deleted.eq(false))
        .select(RoomPost::as_select())
        .first(conn)
}

/// A post by id, in whichever room, deleted or not.
pub fn find_any(conn: &mut DbConn, post_id: i64) -> QueryResult<RoomPost> {
    room_posts::table
        .find(post_id)
        .select(RoomPost::as_select())
        .first(conn)
}

/// Claims the announcement of a post's first publication: true for exactly one caller, however
/// many processes try (the UPDATE only matches while `notified_at` is NULL; on PostgreSQL a second
/// transaction waits for the first and then matches nothing). The caller queues the mail in the
/// same transaction.
pub fn claim_notice(conn: &mut DbConn, post_id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        room_posts::table
            .find(post_id)
            .filter(room_posts::notified_at.is_null()),
    )
    .set(room_posts::notified_at.eq(at))
    .execute(conn)
    .map(|n| n == 1)
}

/// Posts whose publication is due to be announced: live since `at` or earlier and not announced
/// yet (scheduled posts whose `publish_at` has passed), oldest first, at most `limit`.
pub fn due_notices(conn: &mut DbConn, at: NaiveDateTime, limit: i64) -> QueryResult<Vec<i64>> {
    room_posts::table
        .filter(room_posts::notified_at.is_null())
        .filter(room_posts::published_at.le(at))
        .order((room_posts::published_at.asc(), room_posts::id.asc()))
        .limit(limit)
        .select(room_posts::id)
        .load(conn)
}

/// A revision by id.
pub fn revision(conn: &mut DbConn, id: i64) -> QueryResult<Revision> {
    post_revisions::table
        .find(id)
        .select(Revision::as_select())
        .first(conn)
}

/// The newest revision of a post.
pub fn latest_revision(conn: &mut DbConn, post_id: i64) -> QueryResult<Revision> {
    post_revisions::table
        .filter(post_revisions::post_id.eq(post_id))
        .order(post_revisions::id.desc())
        .select(Revision::as_select())
        .first(conn)
}

/// Makes a revision the live one: it becomes `published`, the previous live revision `superseded`.
pub fn make_live(
    conn: &mut DbConn,
    post: &RoomPost,
    revision_id: i64,
    decided_by: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    if let Some(old) = post.live_revision_id.filter(|old| *old != revision_id) {
        diesel::update(post_revisions::table.find(old))
            .set(post_revisions::status.eq(RevisionStatus::Superseded.as_str()))
            .execute(conn)?;
    }
    diesel::update(post_revisions::table.find(revision_id))
        .set((
            post_revisions::status.eq(RevisionStatus::Published.as_str()),
            post_revisions::decided_by.eq(decided_by),
            post_revisions::decided_at.eq(at),
        ))
        .execute(conn)?;
    // Approved without a chosen start: it is public from the moment of approval.
    diesel::update(
        post_revisions::table
            .find(revision_id)
            .filter(post_revisions::publish_at.is_null()),
    )
    .set(post_revisions::publish_at.eq(at))
    .execute(conn)?;
    let (from, until, tags): (Option<NaiveDateTime>, Option<NaiveDateTime>, String) =
        post_revisions::table
            .find(revision_id)
            .select((
                post_revisions::publish_at,
                post_revisions::publish_until,
                post_revisions::tags,
            ))
            .first(conn)?;
    super::blog::set_live_tags(
        conn,
        post.id,
        &tags,
        super::blog::LiveWindow {
            room_id: post.room_id,
            // Set above when it was empty.
            published_at: from.unwrap_or(at),
            publish_until: until,
        },
    )?;
    diesel::update(room_posts::table.find(post.id))
        .set((
            room_posts::live_revision_id.eq(revision_id),
            room_posts::published_at.eq(from),
            room_posts::publish_until.eq(until),
            room_posts::ever_published.eq(true),
            room_posts::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Retires a post's drafts and waiting revisions older than `keep` (a newer save replaces them).
pub fn supersede_unpublished(conn: &mut DbConn, post_id: i64, keep: i64) -> QueryResult<()> {
    diesel::update(
        post_revisions::table
            .filter(post_revisions::post_id.eq(post_id))
            .filter(post_revisions::id.ne(keep))
            .filter(post_revisions::status.eq_any([
                RevisionStatus::Draft.as_str(),
                RevisionStatus::Pending.as_str(),
            ])),
    )
    .set(post_revisions::status.eq(RevisionStatus::Superseded.as_str()))
    .execute(conn)
    .map(drop)
}

/// Sends a waiting revision back with a note.
pub fn send_back(
    conn: &mut DbConn,
    revision_id: i64,
    note: &str,
    decided_by: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(post_revisions::table.find(revision_id))
        .set((
            post_revisions::status.eq(RevisionStatus::SentBack.as_str()),
            post_revisions::note.eq(note),
            post_revisions::decided_by.eq(decided_by),
            post_revisions::decided_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Marks a post deleted (its revisions stay for the record; it leaves the tag pages).
pub fn mark_deleted(conn: &mut DbConn, post_id: i64, at: NaiveDateTime) -> QueryResult<()> {
    super::blog::remove_tags(conn, post_id)?;
    diesel::update(room_posts::table.find(post_id))
        .set((room_posts::deleted.eq(true), room_posts::updated_at.eq(at)))
        .execute(conn)
        .map(drop)
}

/// A post as readers see it: the live revision and the author's name.
#[derive(Debug, Clone)]
pub struct LivePost {
    pub post: RoomPost,
    pub revision: Revision,
    pub author_name: String,
}

impl LivePost {
    /// When what readers see of the post last changed: its live revision went live, or its
    /// publication began (`room_posts.updated_at` also moves for drafts and waiting edits).
    pub fn live_since(&self) -> NaiveDateTime {
        self.revision
            .decided_at
            .into_iter()
            .chain(self.revision.publish_at)
            .max()
            .unwrap_or(self.post.updated_at)
    }
}

/// The room's posts whose live revision is visible at `now` (within `publish_at`..`publish_until`),
/// newest first.
pub fn visible_in_room(
    conn: &mut DbConn,
    room_id: i64,
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<LivePost>> {
    visible_in_rooms(conn, &[room_id], now, limit)
}

/// An author's posts in a room with their newest revision (to show drafts, waiting and sent-back ones).
pub fn authors_latest(
    conn: &mut DbConn,
    room_id: i64,
    author_id: i64,
) -> QueryResult<Vec<(RoomPost, Revision)>> {
    let posts: Vec<RoomPost> = room_posts::table
        .filter(room_posts::room_id.eq(room_id))
        .filter(room_posts::author_id.eq(author_id))
        .filter(room_posts::deleted.eq(false))
        .order(room_posts::updated_at.desc())
        .limit(50)
        .select(RoomPost::as_select())
        .load(conn)?;
    let ids: Vec<i64> = posts.iter().map(|p| p.id).collect();
    let mut latest: HashMap<i64, Revision> = HashMap::new();
    for r in post_revisions::table
        .filter(post_revisions::post_id.eq_any(&ids))
        .order(post_revisions::id.asc())
        .select(Revision::as_select())
        .load::<Revision>(conn)?
    {
        latest.insert(r.post_id, r);
    }
    Ok(posts
        .into_iter()
        .filter_map(|p| latest.remove(&p.id).map(|r| (p, r)))
        .collect())
}

/// An author's posts that are not finished, across rooms: each post's newest revision when it is a
/// draft, waits for approval or was sent back, newest first (the member's home lists them).
pub fn unfinished_by(
    conn: &mut DbConn,
    author_id: i64,
    limit: i64,
) -> QueryResult<Vec<(RoomPost, Revision)>> {
    let unfinished = [
        RevisionStatus::Draft.as_str(),
        RevisionStatus::Pending.as_str(),
        RevisionStatus::SentBack.as_str(),
    ];
    let rows: Vec<(RoomPost, Revision)> = post_revisions::table
        .inner_join(room_posts::table.on(room_posts::id.eq(post_revisions::post_id)))
        .filter(post_revisions::editor_id.eq(author_id))
        .filter(post_revisions::status.eq_any(unfinished))
        .filter(room_posts::deleted.eq(false))
        .order(post_revisions::id.desc())
        .limit(limit * 2)
        .select((RoomPost::as_select(), Revision::as_select()))
        .load(conn)?;
    // The newest revision of each post only (a sent-back one may sit under a newer draft).
    let mut seen = HashSet::new();
    Ok(rows
        .into_iter()
        .filter(|(p, _)| seen.insert(p.id))
        .take(usize::try_from(limit).unwrap_or(0))
        .collect())
}

/// How many posts each of `room_ids` published in `since..=now` (rooms with none are absent).
pub fn published_counts(
    conn: &mut DbConn,
    room_ids: &[i64],
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<Vec<(i64, i64)>> {
    room_posts::table
        .filter(room_posts::room_id.eq_any(room_ids))
        .filter(room_posts::deleted.eq(false))
        .filter(room_posts::live_revision_id.is_not_null())
        .filter(room_posts::published_at.gt(since))
        .filter(room_posts::published_at.le(now))
        .group_by(room_posts::room_id)
        .select((room_posts::room_id, diesel::dsl::count_star()))
        .load(conn)
}

/// A waiting revision for the approval inbox.
#[derive(Debug, Clone, Queryable)]
pub struct PendingRow {
    pub revision_id: i64,
    pub post_id: i64,
    pub title: String,
    pub excerpt: String,
    pub created_at: NaiveDateTime,
    pub room_id: i64,
    pub room_slug: String,
    pub room_name: String,
    pub editor_name: String,
}

/// Every waiting revision of posts that are not deleted, oldest first (the caller keeps those the
/// actor may approve).
pub fn pending(conn: &mut DbConn) -> QueryResult<Vec<PendingRow>> {
    post_revisions::table
        .inner_join(room_posts::table)
        .inner_join(rooms::table.on(rooms::id.eq(room_posts::room_id)))
        .inner_join(users::table.on(users::id.eq(post_revisions::editor_id)))
        .filter(post_revisions::status.eq(RevisionStatus::Pending.as_str()))
        .filter(room_posts::deleted.eq(false))
        .filter(rooms::archived.eq(false))
        .order(post_revisions::id.asc())
        .select((
            post_revisions::id,
            post_revisions::post_id,
            post_revisions::title,
            post_revisions::excerpt,
            post_revisions::created_at,
            rooms::id,
            rooms::slug,
            rooms::name,
            users::display_name,
        ))
        .load(conn)
}

/// A room post found by search.
#[derive(Debug, Clone)]
pub struct RoomHit {
    pub post: RoomPost,
    pub revision: Revision,
    pub room_slug: String,
    /// The room's kind of space (`room::PUBLIC_SPACE` posts have a public address).
    pub room_space: String,
    pub room_name: String,
    pub author_name: String,
}

/// What the search walk reads of a post: `(id, room_id, live_revision_id, published_at)`.
type LiveRow = (i64, i64, Option<i64>, Option<NaiveDateTime>);

/// SQLite's index search over room posts (see `search::SqliteIndexed`): the FTS5 table drives
/// (`CROSS JOIN` fixes the order), each match is looked up by `room_posts_live`, and `+` keeps the
/// other conditions off the indexes: given the chance, the planner prefers walking a whole room.
const SQLITE_FROM: &str = "FROM revision_grams f \
    CROSS JOIN room_posts p ON p.live_revision_id = f.rowid \
    WHERE revision_grams MATCH ?1 AND +p.deleted = 0 AND +p.published_at <= ?2 \
    AND (+p.publish_until IS NULL OR +p.publish_until > ?2) \
    AND +p.room_id IN (SELECT value FROM json_each(?3))";

/// The same, with `LIKE` for terms whose index match is not exact (several words, punctuation).
const SQLITE_FROM_LIKE: &str = "FROM revision_grams f \
    CROSS JOIN room_posts p ON p.live_revision_id = f.rowid \
    CROSS JOIN post_revisions r ON r.id = f.rowid \
    WHERE revision_grams MATCH ?1 AND +p.deleted = 0 AND +p.published_at <= ?2 \
    AND (+p.publish_until IS NULL OR +p.publish_until > ?2) \
    AND +p.room_id IN (SELECT value FROM json_each(?3)) \
    AND NOT EXISTS (SELECT 1 FROM json_each(?4) t WHERE r.search_text NOT LIKE t.value ESCAPE '\\')";

/// Live posts joined with their live revision.
type LiveRevisionJoin = diesel::dsl::InnerJoinOn<
    room_posts::table,
    post_revisions::table,
    diesel::dsl::Eq<room_posts::live_revision_id, diesel::dsl::Nullable<post_revisions::id>>,
>;

/// The live posts of the rooms a visitor may read, searched for some terms (`models::search`).
pub struct RoomSearch<'a> {
    room_ids: &'a [i64],
    rooms: HashSet<i64>,
    terms: &'a [Term],
    now: NaiveDateTime,
}

impl<'a> RoomSearch<'a> {
    /// Posts visible at `now` in `room_ids`.
    pub fn new(room_ids: &'a [i64], terms: &'a [Term], now: NaiveDateTime) -> Self {
        Self {
            room_ids,
            rooms: room_ids.iter().copied().collect(),
            terms,
            now,
        }
    }

    /// The live, visible posts with every term in the rooms given.
    fn matching(&self) -> diesel::dsl::IntoBoxed<'a, LiveRevisionJoin, crate::db::MultiBackend> {
        let mut q = room_posts::table
            .inner_join(
                post_revisions::table
                    .on(room_posts::live_revision_id.eq(post_revisions::id.nullable())),
            )
            .filter(room_posts::room_id.eq_any(self.room_ids))
            .filter(room_posts::deleted.eq(false))
            .filter(room_posts::published_at.le(self.now))
            .filter(
                room_posts::publish_until
                    .is_null()
                    .or(room_posts::publish_until.gt(self.now)),
            )
            .into_boxed();
        for term in self.terms {
            q = q.filter(
                post_revisions::search_text
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
            ids_json: search::ids_json(self.room_ids),
        }
    }

    /// PostgreSQL: `matching` narrowed by the GIN index, asked for every bigram (no positions, so
    /// no recheck that recomputes a tsvector per row); the planner streams until any limit.
    fn pg_indexed(&self) -> diesel::dsl::IntoBoxed<'a, LiveRevisionJoin, crate::db::MultiBackend> {
        self.matching().filter(search::tsquery_match(
            "post_revisions",
            search::tsquery_text(self.terms),
        ))
    }
}

impl Corpus for RoomSearch<'_> {
    const TABLE: &'static str = "post_revisions";
    const FTS_TABLE: &'static str = "revision_grams";

    fn terms(&self) -> &[Term] {
        self.terms
    }

    /// Live posts of every room, newest first; those outside the readable rooms are marked so. No
    /// room filter in SQL: the newest-first index (`room_posts_time`) is then the only choice.
    fn newest(&self, conn: &mut DbConn, after: Option<Stamp>, n: i64) -> QueryResult<Vec<WalkRow>> {
        let mut q = room_posts::table
            .filter(room_posts::deleted.eq(false))
            .filter(
                room_posts::publish_until
                    .is_null()
                    .or(room_posts::publish_until.gt(self.now)),
            )
            .into_boxed();
        q = match after {
            None => q.filter(room_posts::published_at.le(self.now)),
            Some((at, id)) => q
                .filter(room_posts::published_at.le(at))
                .filter(room_posts::published_at.lt(at).or(room_posts::id.lt(id))),
        };
        let rows: Vec<LiveRow> = q
            .order((room_posts::published_at.desc(), room_posts::id.desc()))
            .limit(n)
            .select((
                room_posts::id,
                room_posts::room_id,
                room_posts::live_revision_id,
                room_posts::published_at,
            ))
            .load(conn)?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, room, live, at)| {
                Some(WalkRow {
                    id,
                    doc: live?,
                    stamp: (at?, id),
                    readable: self.rooms.contains(&room),
                })
            })
            .collect())
    }

    fn containing(&self, conn: &mut DbConn, docs: &[i64]) -> QueryResult<HashSet<i64>> {
        let mut q = post_revisions::table
            .filter(post_revisions::id.eq_any(docs))
            .into_boxed();
        for term in self.terms {
            q = q.filter(
                post_revisions::search_text
                    .like(format!("%{}%", like_escape(&term.text)))
                    .escape('\\'),
            );
        }
        Ok(q.select(post_revisions::id)
            .load::<i64>(conn)?
            .into_iter()
            .collect())
    }

    fn indexed_count(&self, conn: &mut DbConn, cap: i64) -> QueryResult<i64> {
        match conn.backend() {
            crate::db::Backend::Sqlite => self.sqlite().count(conn, self.terms, self.now, cap),
            crate::db::Backend::Postgres => self
                .pg_indexed()
                .limit(cap)
                .select(room_posts::id)
                .load::<i64>(conn)
                .map(|ids| i64::try_from(ids.len()).unwrap_or(cap)),
        }
    }

    fn indexed_newest(&self, conn: &mut DbConn, want: i64) -> QueryResult<Vec<i64>> {
        match conn.backend() {
            crate::db::Backend::Sqlite => self.sqlite().newest(conn, self.terms, self.now, want),
            crate::db::Backend::Postgres => self
                .pg_indexed()
                .order((room_posts::published_at.desc(), room_posts::id.desc()))
                .limit(want)
                .select(room_posts::id)
                .load(conn),
        }
    }

    fn scanned_count(&self, conn: &mut DbConn, cap: i64) -> QueryResult<i64> {
        self.matching()
            .limit(cap)
            .select(room_posts::id)
            .load::<i64>(conn)
            .map(|ids| i64::try_from(ids.len()).unwrap_or(cap))
    }
}

/// Searches the live, visible posts of `room_ids` for text holding every term: the newest `want`
/// post ids and how many match (up to `cap`). Exact, newest first; see `models::search`.
pub fn search(
    conn: &mut DbConn,
    room_ids: &[i64],
    terms: &[Term],
    now: NaiveDateTime,
    want: i64,
    cap: i64,
) -> QueryResult<Found> {
    if room_ids.is_empty() {
        return Ok(Found::default());
    }
    search::run(conn, &RoomSearch::new(room_ids, terms, now), want, cap)
}

/// Search hits by post id, in the order given, with their live revision, room and author.
pub fn hits_by_ids(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<RoomHit>> {
    let rows: Vec<(RoomPost, Revision, String, String, String, String)> = room_posts::table
        .inner_join(
            post_revisions::table
                .on(room_posts::live_revision_id.eq(post_revisions::id.nullable())),
        )
        .inner_join(rooms::table)
        .inner_join(users::table.on(users::id.eq(room_posts::author_id)))
        .filter(room_posts::id.eq_any(ids))
        .select((
            RoomPost::as_select(),
            Revision::as_select(),
            rooms::slug,
            rooms::space,
            rooms::name,
            users::display_name,
        ))
        .load(conn)?;
    let mut by_id: HashMap<i64, RoomHit> = rows
        .into_iter()
        .map(
            |(post, revision, room_slug, room_space, room_name, author_name)| {
                (
                    post.id,
                    RoomHit {
                        post,
                        revision,
                        room_slug,
                        room_space,
                        room_name,
                        author_name,
                    },
                )
            },
        )
        .collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// The title of a post's live revision.
pub fn live_title(conn: &mut DbConn, post_id: i64) -> QueryResult<Option<String>> {
    room_posts::table
        .inner_join(
            post_revisions::table
                .on(room_posts::live_revision_id.eq(post_revisions::id.nullable())),
        )
        .filter(room_posts::id.eq(post_id))
        .select(post_revisions::title)
        .first(conn)
        .optional()
}

/// The newest visible posts across several rooms.
pub fn visible_in_rooms(
    conn: &mut DbConn,
    room_ids: &[i64],
    now: NaiveDateTime,
    limit: i64,
) -> QueryResult<Vec<LivePost>> {
    room_posts::table
        .inner_join(
            post_revisions::table
                .on(room_posts::live_revision_id.eq(post_revisions::id.nullable())),
        )
        .inner_join(users::table.on(users::id.eq(room_posts::author_id)))
        .filter(room_posts::room_id.eq_any(room_ids))
        .filter(room_posts::deleted.eq(false))
        .filter(room_posts::published_at.le(now))
        .filter(
            room_posts::publish_until
                .is_null()
                .or(room_posts::publish_until.gt(now)),
        )
        .order((room_posts::published_at.desc(), room_posts::id.desc()))
        .limit(limit)
        .select((
            RoomPost::as_select(),
            Revision::as_select(),
            users::display_name,
        ))
        .load::<(RoomPost, Revision, String)>(conn)
        .map(|rows| {
            rows.into_iter()
                .map(|(post, revision, author_name)| LivePost {
                    post,
                    revision,
                    author_name,
                })
                .collect()
        })
}

/// Recomputes every revision's `grams` from its search text with `textsearch::bigrams` (after the
/// format changed); returns how many rows changed.
pub fn rebuild_grams(conn: &mut DbConn) -> QueryResult<usize> {
    let mut changed = 0;
    let mut after = 0_i64;
    loop {
        let rows: Vec<(i64, String, String)> = post_revisions::table
            .filter(post_revisions::id.gt(after))
            .order(post_revisions::id.asc())
            .limit(500)
            .select((
                post_revisions::id,
                post_revisions::search_text,
                post_revisions::grams,
            ))
            .load(conn)?;
        let Some(last) = rows.last() else {
            return Ok(changed);
        };
        after = last.0;
        for (id, text, grams) in rows {
            let fresh = crate::textsearch::bigrams(&text);
            if fresh != grams {
                diesel::update(post_revisions::table.find(id))
                    .set(post_revisions::grams.eq(fresh))
                    .execute(conn)?;
                changed += 1;
            }
        }
    }
}
