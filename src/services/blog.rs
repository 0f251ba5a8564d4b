//! The public blog: the public space's posts as anyone reads them (front page, post pages, tags,
//! authors, feed). Writing goes through `room_posts` like in any room, so the blog has the same
//! roles, revisions and approval (承認); this module adds the blog's addresses and tags.

use chrono::NaiveDateTime;

use super::Actor;
use super::authz::{RoomAction, authorize_room};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
/// The public URL path of a post (`/posts/{slug}`, percent-encoded).
pub use crate::models::blog::public_path;
use crate::models::blog::{self, BlogSummary, PublicFilter};
use crate::models::{now, room, user};

/// Posts per public page.
pub const PAGE_SIZE: i64 = 10;
/// Longest accepted Markdown source, in characters (kept here for the notices that share it).
pub use crate::markdown::MAX_BODY_CHARS;

/// A public post with its tags and, on its own page and in the feed, its HTML.
#[derive(Debug, Clone)]
pub struct BlogPost {
    /// What lists show.
    pub summary: BlogSummary,
    /// Its live tags.
    pub tags: Vec<String>,
    /// The sanitised body, loaded only for the post page and the feed.
    pub body_html: Option<String>,
}

/// A page of posts with their tags.
#[derive(Debug, Clone)]
pub struct PostPage {
    /// The posts, newest first.
    pub posts: Vec<BlogPost>,
    /// The 1-based page number.
    pub page: i64,
    /// Whether an older page follows.
    pub has_next: bool,
}

/// One page of public posts for a filter. One row more than a page is read to know whether a next
/// page exists, so lists never count the whole table.
pub fn public_page(conn: &mut DbConn, filter: &PublicFilter, page: i64) -> AppResult<PostPage> {
    let page = page.max(1);
    let space = room::public_space(conn)?;
    let limit = usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    let mut rows = blog::list_public(
        conn,
        space.id,
        filter,
        now(),
        (page - 1) * PAGE_SIZE,
        PAGE_SIZE + 1,
    )?;
    let has_next = rows.len() > limit;
    rows.truncate(limit);
    let ids: Vec<i64> = rows.iter().map(|p| p.id).collect();
    let mut tags = blog::tags_for(conn, &ids)?;
    let posts = rows
        .into_iter()
        .map(|summary| BlogPost {
            tags: tags.remove(&summary.id).unwrap_or_default(),
            summary,
            body_html: None,
        })
        .collect();
    Ok(PostPage {
        posts,
        page,
        has_next,
    })
}

/// What the front page shows.
#[derive(Debug, Clone)]
pub enum FrontPage {
    /// The site has no administrator yet: the page that says how to make one.
    FirstRun,
    /// The newest public posts.
    Posts(PostPage),
}

/// The front page (`page` of the newest posts). `setup_known_done` skips asking whether the site
/// still needs its first administrator (once it had one, it always has).
pub fn front_page(conn: &mut DbConn, setup_known_done: bool, page: i64) -> AppResult<FrontPage> {
    if !setup_known_done && super::setup::needed(conn)? {
        return Ok(FrontPage::FirstRun);
    }
    let posts = public_page(conn, &PublicFilter::All, page)?;
    // Past the last page there is nothing to show: not "no posts yet" (which reads as a broken
    // site), but a page that does not exist.
    if posts.posts.is_empty() && posts.page > 1 {
        return Err(AppError::NotFound);
    }
    Ok(FrontPage::Posts(posts))
}

/// A public post page.
#[derive(Debug, Clone)]
pub struct PublicPost {
    /// The post with its tags and HTML.
    pub post: BlogPost,
    /// Its published comments, oldest first (waiting ones are shown on its room page only).
    pub comments: Vec<super::room_posts::CommentView>,
    /// Its page in the public space, for those who may edit or approve it.
    pub manage_url: Option<String>,
    /// Where the actor can write a comment (its room page), if they may.
    pub comment_url: Option<String>,
}

/// A public post page by address; 404 unless anyone may read it now.
pub fn public_post(conn: &mut DbConn, actor: Option<&Actor>, slug: &str) -> AppResult<PublicPost> {
    let space = room::public_space(conn)?;
    let (summary, body_html) = blog::find_public_by_slug(conn, space.id, slug, now())?;
    let tags = blog::tags_for(conn, &[summary.id])?
        .remove(&summary.id)
        .unwrap_or_default();
    let comments = crate::models::comment::for_post(conn, summary.id)?
        .into_iter()
        .filter(|c| c.status == crate::db::types::CommentStatus::Published)
        .map(|row| super::room_posts::CommentView {
            row,
            pending: false,
            // The public page is the same for everyone (and cached): changes start from the
            // post's room page.
            changeable: false,
        })
        .collect();
    let room_url = format!("/rooms/{}/posts/{}", space.slug, summary.id);
    let (manage_url, comment_url) = match actor {
        Some(a) => {
            let ctx = super::rooms::load(conn, Some(a), &space.slug)?;
            let own = summary.author_id == a.id;
            let may = |action| authorize_room(Some(a), &ctx.access, action).is_ok();
            (
                (may(RoomAction::EditContent { own }) || may(RoomAction::Publish))
                    .then(|| room_url.clone()),
                may(RoomAction::Comment).then(|| format!("{room_url}#comments-title")),
            )
        }
        None => (None, None),
    };
    Ok(PublicPost {
        post: BlogPost {
            summary,
            tags,
            body_html: Some(body_html),
        },
        comments,
        manage_url,
        comment_url,
    })
}

/// How many posts the public space holds (any state).
pub fn post_count(conn: &mut DbConn) -> AppResult<i64> {
    let space = room::public_space(conn)?;
    Ok(blog::count_posts(conn, space.id)?)
}

/// The public space's room slug (where the blog is written and managed).
pub fn space_slug(conn: &mut DbConn) -> AppResult<String> {
    Ok(room::public_space(conn)?.slug)
}

/// A tag's page of public posts (404 for a tag no public post carries).
pub fn tag_page(conn: &mut DbConn, tag: &str, page: i64) -> AppResult<PostPage> {
    let posts = public_page(conn, &PublicFilter::Tag(tag.to_owned()), page)?;
    if posts.posts.is_empty() && posts.page == 1 {
        return Err(AppError::NotFound);
    }
    Ok(posts)
}

/// The author page: the author's display name and a page of their public posts.
pub fn author_page(conn: &mut DbConn, login: &str, page: i64) -> AppResult<(String, PostPage)> {
    let u = user::find_by_login(conn, login)?;
    let posts = public_page(conn, &PublicFilter::Author(u.id), page)?;
    if posts.posts.is_empty() && posts.page == 1 {
        // Authors without public posts do not get a page (members are not listed publicly).
        return Err(AppError::NotFound);
    }
    Ok((u.display_name, posts))
}

/// The newest public posts for the feed, and when the newest of them last changed (the feed's
/// `<updated>`: older posts are not in the feed, so their edits do not change it).
pub fn feed_posts(conn: &mut DbConn) -> AppResult<(PostPage, Option<NaiveDateTime>)> {
    let mut page = public_page(conn, &PublicFilter::All, 1)?;
    let ids: Vec<i64> = page.posts.iter().map(|p| p.summary.id).collect();
    let mut bodies = blog::bodies_for(conn, &ids)?;
    for p in &mut page.posts {
        p.body_html = bodies.remove(&p.summary.id);
    }
    let updated = page.posts.iter().map(|p| p.summary.updated()).max();
    Ok((page, updated))
}
