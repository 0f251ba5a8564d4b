//! Comments on room posts.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{post_comments, users};
use crate::db::types::CommentStatus;

/// A comment with its author's name.
#[derive(Debug, Clone, Queryable)]
pub struct CommentRow {
    pub id: i64,
    pub author_id: i64,
    pub body_html: String,
    #[diesel(deserialize_as = String)]
    pub status: CommentStatus,
    pub created_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    pub author_name: String,
}

/// A comment's own fields, for changing or deleting it.
#[derive(Debug, Clone, Queryable)]
pub struct CommentSource {
    pub id: i64,
    pub author_id: i64,
    pub body_md: String,
    #[diesel(deserialize_as = String)]
    pub status: CommentStatus,
}

/// Stores a comment.
pub fn insert(
    conn: &mut DbConn,
    post_id: i64,
    author_id: i64,
    body_md: &str,
    body_html: &str,
    status: CommentStatus,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(post_comments::table)
        .values((
            post_comments::post_id.eq(post_id),
            post_comments::author_id.eq(author_id),
            post_comments::body_md.eq(body_md),
            post_comments::body_html.eq(body_html),
            post_comments::status.eq(status.as_str()),
            post_comments::created_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// A post's comments, oldest first.
pub fn for_post(conn: &mut DbConn, post_id: i64) -> QueryResult<Vec<CommentRow>> {
    post_comments::table
        .inner_join(users::table.on(users::id.eq(post_comments::author_id)))
        .filter(post_comments::post_id.eq(post_id))
        .order(post_comments::id.asc())
        .select((
            post_comments::id,
            post_comments::author_id,
            post_comments::body_html,
            post_comments::status,
            post_comments::created_at,
            post_comments::edited_at,
            users::display_name,
        ))
        .load(conn)
}

/// Publishes a waiting comment of a post; returns whether one was changed.
pub fn approve(
    conn: &mut DbConn,
    post_id: i64,
    comment_id: i64,
    decided_by: i64,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        post_comments::table
            .filter(post_comments::id.eq(comment_id))
            .filter(post_comments::post_id.eq(post_id))
            .filter(post_comments::status.eq(CommentStatus::Pending.as_str())),
    )
    .set((
        post_comments::status.eq(CommentStatus::Published.as_str()),
        post_comments::decided_by.eq(decided_by),
        post_comments::decided_at.eq(at),
    ))
    .execute(conn)
    .map(|n| n > 0)
}

/// One comment of a post, if it is that post's.
pub fn find(
    conn: &mut DbConn,
    post_id: i64,
    comment_id: i64,
) -> QueryResult<Option<CommentSource>> {
    post_comments::table
        .filter(post_comments::id.eq(comment_id))
        .filter(post_comments::post_id.eq(post_id))
        .select((
            post_comments::id,
            post_comments::author_id,
            post_comments::body_md,
            post_comments::status,
        ))
        .first(conn)
        .optional()
}

/// Changes a comment's words (and its status, when a change must wait for approval again); only
/// if it is still `expected_md`, so two edits at once cannot silently lose one. Returns whether it
/// changed.
#[expect(
    clippy::too_many_arguments,
    reason = "one row's new fields plus the guard; a struct would only rename them"
)]
pub fn update(
    conn: &mut DbConn,
    post_id: i64,
    comment_id: i64,
    expected_md: &str,
    body_md: &str,
    body_html: &str,
    status: CommentStatus,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        post_comments::table
            .filter(post_comments::id.eq(comment_id))
            .filter(post_comments::post_id.eq(post_id))
            .filter(post_comments::body_md.eq(expected_md)),
    )
    .set((
        post_comments::body_md.eq(body_md),
        post_comments::body_html.eq(body_html),
        post_comments::status.eq(status.as_str()),
        post_comments::edited_at.eq(at),
    ))
    .execute(conn)
    .map(|n| n > 0)
}

/// Deletes a comment of a post; returns whether one was deleted.
pub fn delete(conn: &mut DbConn, post_id: i64, comment_id: i64) -> QueryResult<bool> {
    diesel::delete(
        post_comments::table
            .filter(post_comments::id.eq(comment_id))
            .filter(post_comments::post_id.eq(post_id)),
    )
    .execute(conn)
    .map(|n| n > 0)
}
