//! Contexts for room posts and the approval inbox.

use serde::Serialize;

use crate::models::room_post::{LivePost, PendingRow, Revision};
use crate::services::site::SiteSettings;

/// A revision as a page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct RevisionView {
    pub id: i64,
    pub title: String,
    /// Sanitised at save time by `markdown::render`.
    pub body_html: String,
    pub status: String,
    pub note: String,
    pub date: String,
    pub publish_until: Option<String>,
}

/// Builds a revision view.
pub fn revision_view(site: &SiteSettings, r: &Revision) -> RevisionView {
    RevisionView {
        id: r.id,
        title: r.title.clone(),
        body_html: r.body_html.clone(),
        status: r.status.clone(),
        note: r.note.clone(),
        date: site.local_datetime(r.publish_at.unwrap_or(r.created_at)),
        publish_until: r.publish_until.map(|t| site.local_datetime(t)),
    }
}

/// A post in a room's list.
#[derive(Debug, Clone, Serialize)]
pub struct RoomPostItem {
    pub url: String,
    pub title: String,
    pub excerpt: String,
    pub author_name: String,
    pub date: String,
    pub status: String,
    /// The room, on lists that span rooms (新着).
    pub room_name: Option<String>,
}

/// Builds a list item for a visible post.
pub fn live_item(site: &SiteSettings, slug: &str, p: &LivePost) -> RoomPostItem {
    RoomPostItem {
        url: format!("/rooms/{slug}/posts/{}", p.post.id),
        title: p.revision.title.clone(),
        excerpt: p.revision.excerpt.clone(),
        author_name: p.author_name.clone(),
        date: site.local_date(p.revision.publish_at.unwrap_or(p.revision.created_at)),
        status: p.revision.status.clone(),
        room_name: None,
    }
}

/// Builds a list item for one of the actor's own posts.
pub fn own_item(site: &SiteSettings, slug: &str, post_id: i64, r: &Revision) -> RoomPostItem {
    RoomPostItem {
        url: format!("/rooms/{slug}/posts/{post_id}"),
        title: r.title.clone(),
        excerpt: r.excerpt.clone(),
        author_name: String::new(),
        date: site.local_datetime(r.created_at),
        status: r.status.clone(),
        room_name: None,
    }
}

/// A waiting revision in the inbox.
#[derive(Debug, Clone, Serialize)]
pub struct InboxItem {
    pub revision: i64,
    pub post_id: i64,
    pub title: String,
    pub excerpt: String,
    pub url: String,
    pub room_slug: String,
    pub room_name: String,
    pub editor_name: String,
    pub date: String,
}

/// Builds an inbox row.
pub fn inbox_item(site: &SiteSettings, r: &PendingRow) -> InboxItem {
    InboxItem {
        revision: r.revision_id,
        post_id: r.post_id,
        title: r.title.clone(),
        excerpt: r.excerpt.clone(),
        url: format!("/rooms/{}/posts/{}", r.room_slug, r.post_id),
        room_slug: r.room_slug.clone(),
        room_name: r.room_name.clone(),
        editor_name: r.editor_name.clone(),
        date: site.local_datetime(r.created_at),
    }
}

/// A comment on the post page.
#[derive(Debug, Clone, Serialize)]
pub struct CommentItem {
    pub id: i64,
    pub author_name: String,
    /// Sanitised at save time by `markdown::render`.
    pub body_html: String,
    pub date: String,
    pub pending: bool,
}

/// Builds a comment view.
pub fn comment_view(
    site: &SiteSettings,
    c: &crate::services::room_posts::CommentView,
) -> CommentItem {
    CommentItem {
        id: c.row.id,
        author_name: c.row.author_name.clone(),
        body_html: c.row.body_html.clone(),
        date: site.local_datetime(c.row.created_at),
        pending: c.pending,
    }
}
