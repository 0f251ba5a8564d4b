//! Search across everything the actor may read: the posts of every room they can read, the public
//! space (the blog) included (visibility, 準備中, parent rooms and archiving all apply, through
//! `rooms::list_visible`).
//! Substring matching on NFKC, lower-cased text finds Japanese words of any length; how it stays
//! fast with 100,000 posts is in `models::search`.

use chrono::NaiveDateTime;

use super::Actor;
use super::blog::PAGE_SIZE;
use crate::db::DbConn;
use crate::error::AppResult;
use crate::models::{blog, now, room_post, setting};
use crate::textsearch::Term;

/// Search shows at most this many pages (the newest `MAX_PAGE * PAGE_SIZE` results): reading
/// deeper costs a common word about a thousand posts per page on the 2-core budget machine
/// (page 50 took 236 ms p99 on SQLite, 338 ms on PostgreSQL), and people add a word instead.
pub const MAX_PAGE: i64 = 10;

/// Counts stop here, one page set past what can be shown; the page then says "100+" and asks for
/// another word. (Counting to 1,000 read a thousand wide rows on PostgreSQL: 6 ms of every search.)
pub const COUNT_CAP: i64 = MAX_PAGE * PAGE_SIZE;

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
    /// The room's name, or `None` for the public space (the blog).
    pub room_name: Option<String>,
    /// The language of the title and excerpt.
    pub lang: crate::i18n::Lang,
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
    let terms: Vec<Term> = terms.iter().map(|t| Term::new(t)).collect();
    let at = now();
    // Enough to fill this page, plus one to know about the next.
    let need = page * PAGE_SIZE + 1;
    // The public space is one of the rooms: anyone may read it.
    let room_ids: Vec<i64> = super::rooms::list_visible(conn, actor)?
        .into_iter()
        .map(|i| i.room.id)
        .collect();
    let found = room_post::search(conn, &room_ids, &terms, at, need, COUNT_CAP)?;
    // The ids come newest first; only this page's posts are read (page 10 read 101 whole
    // revisions to show ten).
    let page_size = usize::try_from(PAGE_SIZE).unwrap_or(0);
    let start = usize::try_from((page - 1) * PAGE_SIZE).unwrap_or(usize::MAX);
    let has_next = page < MAX_PAGE && found.ids.len() > start.saturating_add(page_size);
    let shown: Vec<i64> = found
        .ids
        .iter()
        .skip(start)
        .take(page_size)
        .copied()
        .collect();
    let hits: Vec<Hit> = room_post::hits_by_ids(conn, &shown)?
        .into_iter()
        .map(|h| {
            let public = h.room_space == crate::db::types::Space::Public.as_str();
            Hit {
                url: match h.post.slug.as_deref() {
                    Some(slug) if public => blog::public_path(slug),
                    _ => format!("/rooms/{}/posts/{}", h.room_slug, h.post.id),
                },
                lang: h.revision.lang,
                title: h.revision.title,
                excerpt: h.revision.excerpt,
                author_name: h.author_name,
                published: h.revision.publish_at.unwrap_or(h.revision.created_at),
                room_name: (!public).then_some(h.room_name),
            }
        })
        .collect();
    let total = found.total.min(COUNT_CAP);
    Ok(SearchPage {
        hits,
        total,
        page,
        has_next,
    })
}

/// The setting that records which `textsearch::GRAMS_VERSION` every stored row has.
const GRAMS_VERSION_KEY: &str = "search.grams_version";

/// Rebuilds the stored bigrams when they were written in an older format (a migration that changes
/// the format forgets the version); run after migrations, in one transaction. Returns how many rows
/// changed. Idempotent: two processes starting together only do the work twice.
pub fn reindex_if_outdated(conn: &mut DbConn) -> AppResult<usize> {
    let current = crate::textsearch::GRAMS_VERSION;
    if setting::get(conn, GRAMS_VERSION_KEY)?.as_deref() == Some(current) {
        return Ok(0);
    }
    let changed = room_post::rebuild_grams(conn)?;
    setting::set(conn, GRAMS_VERSION_KEY, current)?;
    Ok(changed)
}
/// Splits a search query into at most five normalised terms (NFKC, so ＡＢＣ finds abc; lower case).
pub fn search_terms(query: &str) -> Vec<String> {
    crate::textsearch::normalize(query)
        .split_whitespace()
        .take(5)
        .map(|t| t.chars().take(50).collect())
        .collect()
}
