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
    pub author_name: String,
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
