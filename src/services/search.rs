//! Search across everything the actor may read: the public blog and the posts of every room they can
//! read (visibility, 準備中, parent rooms and archiving all apply, through `rooms::list_visible`).
//! Substring matching on NFKC, lower-cased text finds Japanese words of any length.

use chrono::NaiveDateTime;

use super::Actor;
use super::blog::{PAGE_SIZE, search_terms};
use crate::db::DbConn;
use crate::error::AppResult;
use crate::models::post::{self, PublicFilter};
use crate::models::{now, room_post};

/// Counts stop here; the page then says "1000+".
pub const COUNT_CAP: i64 = 1000;

/// Search looks this many pages deep at most (each page merges two sources).
pub const MAX_PAGE: i64 = 50;

/// One search result.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The page to open.
    pub url: String,
    /// Its title.
    pub title: String,
    /// A plain-text excerpt.
    pub excerpt: String,
    /// The author's display name.
    pub author_name: String,
    /// When it was published.
    pub published: NaiveDateTime,
    /// The room's name, or `None` for the public blog.
    pub room_name: Option<String>,
}

/// A page of results.
#[derive(Debug, Clone)]
pub struct SearchPage {
    /// The results, newest first.
    pub hits: Vec<Hit>,
    /// How many match in all.
    pub total: i64,
    /// The 1-based page.
    pub page: i64,
    /// Whether more follow.
    pub has_next: bool,
}

/// Searches for `query`; page numbers past `MAX_PAGE` are clamped.
pub fn search(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    query: &str,
    page: i64,
) -> AppResult<SearchPage> {
    let terms = search_terms(query);
    let page = page.clamp(1, MAX_PAGE);
    if terms.is_empty() {
        return Ok(SearchPage {
            hits: Vec::new(),
            total: 0,
            page: 1,
            has_next: false,
        });
    }
    let at = now();
    // Enough of each source to fill this page after merging, plus one to know about the next.
    let need = page * PAGE_SIZE + 1;
    let filter = PublicFilter::Search(terms.clone());
    let mut hits: Vec<Hit> = post::list_public(conn, &filter, at, 0, need)?
        .into_iter()
        .map(|p| Hit {
            url: post::public_path(&p.post.slug),
            title: p.post.title,
            excerpt: p.post.excerpt,
            author_name: p.author_name,
            published: p.post.published_at.unwrap_or(p.post.created_at),
            room_name: None,
        })
        .collect();
    let mut total = post::count_public(conn, &filter, at, COUNT_CAP)?;
    let room_ids: Vec<i64> = super::rooms::list_visible(conn, actor)?
        .into_iter()
        .map(|i| i.room.id)
        .collect();
    if !room_ids.is_empty() {
        for h in room_post::search_visible(conn, &room_ids, &terms, at, need)? {
            hits.push(Hit {
                url: format!("/rooms/{}/posts/{}", h.room_slug, h.post.id),
                title: h.revision.title,
                excerpt: h.revision.excerpt,
                author_name: h.author_name,
                published: h.revision.publish_at.unwrap_or(h.revision.created_at),
                room_name: Some(h.room_name),
            });
        }
        total += room_post::count_search_visible(conn, &room_ids, &terms, at, COUNT_CAP)?;
        total = total.min(COUNT_CAP);
    }
    hits.sort_by_key(|h| std::cmp::Reverse(h.published));
    let start = usize::try_from((page - 1) * PAGE_SIZE).unwrap_or(usize::MAX);
    let has_next = hits.len() > start + usize::try_from(PAGE_SIZE).unwrap_or(0);
    let hits = hits
        .into_iter()
        .skip(start)
        .take(usize::try_from(PAGE_SIZE).unwrap_or(0))
        .collect();
    Ok(SearchPage {
        hits,
        total,
        page,
        has_next,
    })
}
