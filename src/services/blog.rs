//! The public blog: the public space's posts as anyone reads them (front page, post pages, tags,
//! authors, feed). Writing goes through `room_posts` like in any room, so the blog has the same
//! roles, revisions and approval (承認); this module adds the blog's addresses and tags.

use chrono::NaiveDateTime;
use unicode_normalization::UnicodeNormalization;

use super::Actor;
use super::authz::{RoomAction, authorize_room};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::blog::{self, BlogSummary, PublicFilter};
use crate::models::{now, room, user};

/// Posts per public page.
pub const PAGE_SIZE: i64 = 10;
/// Longest accepted Markdown source, in characters.
pub const MAX_BODY_CHARS: usize = 200_000;
/// Most tags on one post.
pub const MAX_TAGS: usize = 10;

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
        .filter(|c| c.status == "published")
        .map(|row| super::room_posts::CommentView {
            row,
            pending: false,
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

/// The public space's room slug (where the blog is written and managed).
pub fn space_slug(conn: &mut DbConn) -> AppResult<String> {
    Ok(room::public_space(conn)?.slug)
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

/// A public space post's address and tags, checked (room posts elsewhere have neither).
#[derive(Debug, Clone)]
pub struct BlogFields {
    /// The address: as asked for, or made from the title (`-2`, `-3` ... until free).
    pub slug: String,
    /// The tags, `", "`-joined as a revision stores them.
    pub tags: String,
}

/// Checks the address and tags fields of the public space's editor; errors go into `errors`.
/// `post_id` is the post being edited (its own address is not taken).
pub fn check_fields(
    conn: &mut DbConn,
    room_id: i64,
    post_id: Option<i64>,
    title: &str,
    requested_slug: &str,
    tags: &str,
    errors: &mut FieldErrors,
) -> AppResult<BlogFields> {
    let requested = requested_slug.trim();
    let mut slug = if requested.is_empty() {
        slugify(title)
    } else {
        requested.nfkc().collect::<String>().to_lowercase()
    };
    if !requested.is_empty() && !valid_slug(&slug) {
        errors.add("slug", "error.slug_format");
    }
    if slug.is_empty() {
        slug = "post".into();
    }
    if requested.is_empty() {
        // An automatic address never clashes: add -2, -3 ... until free.
        let base = slug.clone();
        let mut n = 2;
        while blog::slug_taken(conn, room_id, &slug, post_id)? {
            slug = format!("{base}-{n}");
            n += 1;
        }
    } else if valid_slug(&slug) && blog::slug_taken(conn, room_id, &slug, post_id)? {
        errors.add("slug", "error.slug_taken");
    }
    let tags = parse_tags(tags);
    if tags.len() > MAX_TAGS
        || tags
            .iter()
            .any(|t| t.chars().count() > 40 || t.chars().any(char::is_control) || t.contains('/'))
    {
        errors.add("tags", "error.tags_format");
    }
    Ok(BlogFields {
        slug,
        tags: tags.join(", "),
    })
}

/// Normalises text for search: NFKC (full-width → half-width, so ＡＢＣ finds abc) and lower case.
pub fn normalize_for_search(s: &str) -> String {
    crate::textsearch::normalize(s)
}

/// Splits a search query into at most five normalised terms.
pub fn search_terms(query: &str) -> Vec<String> {
    normalize_for_search(query)
        .split_whitespace()
        .take(5)
        .map(|t| t.chars().take(50).collect())
        .collect()
}

/// Turns a title into a URL slug, keeping Japanese (any letter or digit) and joining the rest with `-`.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    let mut dash = false;
    for c in title.nfkc().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if dash && !slug.is_empty() {
                slug.push('-');
            }
            dash = false;
            slug.push(c);
        } else {
            dash = true;
        }
        if slug.chars().count() >= 80 {
            break;
        }
    }
    slug
}

fn valid_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.chars().count() <= 100
        && slug.chars().all(|c| c.is_alphanumeric() || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

/// Parses the comma-separated tag field (full-width commas too).
pub fn parse_tags(field: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for raw in field.split([',', '、', '，']) {
        let tag: String = raw.nfkc().collect::<String>().trim().to_owned();
        if !tag.is_empty() && !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_keep_japanese() {
        assert_eq!(
            slugify("こんにちは、世界！ Hello World"),
            "こんにちは-世界-hello-world"
        );
        assert_eq!(slugify("  ＡＢＣ　テスト "), "abc-テスト");
        assert_eq!(slugify("!!!"), "");
        assert!(valid_slug("会議-2026"));
        assert!(!valid_slug("../etc"));
        assert!(!valid_slug("a/b"));
    }

    #[test]
    fn tags_and_terms_normalise() {
        assert_eq!(
            parse_tags("お知らせ、 rust , rust,，イベント"),
            vec!["お知らせ", "rust", "イベント"]
        );
        assert_eq!(search_terms("  会議　ＲＵＳＴ "), vec!["会議", "rust"]);
    }
}
