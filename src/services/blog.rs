//! The public blog: reading (lists, tags, authors, search) and writing (create, edit, delete, preview).

use chrono::NaiveDateTime;
use unicode_normalization::UnicodeNormalization;

use super::Actor;
use super::authz::{Action, authorize};
use super::site::SiteSettings;
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::markdown;
use crate::models::post::{self, Post, PostFields, PostStatus, PostWithAuthor, PublicFilter};
use crate::models::{audit, now, user};

/// Posts per public page.
pub const PAGE_SIZE: i64 = 10;
/// Longest accepted Markdown source, in characters.
pub const MAX_BODY_CHARS: usize = 200_000;
/// Most tags on one post.
pub const MAX_TAGS: usize = 10;

/// A page of posts with their tags.
#[derive(Debug, Clone)]
pub struct PostPage {
    /// The posts, newest first.
    pub posts: Vec<(PostWithAuthor, Vec<String>)>,
    /// The 1-based page number.
    pub page: i64,
    /// Whether an older page follows.
    pub has_next: bool,
}

/// One page of public posts for a filter. One row more than a page is read to know whether a next
/// page exists, so lists never count the whole table.
pub fn public_page(conn: &mut DbConn, filter: &PublicFilter, page: i64) -> AppResult<PostPage> {
    let page = page.max(1);
    let mut rows = post::list_public(conn, filter, now(), (page - 1) * PAGE_SIZE, PAGE_SIZE + 1)?;
    let has_next = rows.len() > usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX);
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(usize::MAX));
    let ids: Vec<i64> = rows.iter().map(|p| p.post.id).collect();
    let mut tags = post::tags_for(conn, &ids)?;
    let posts = rows
        .into_iter()
        .map(|p| {
            let t = tags.remove(&p.post.id).unwrap_or_default();
            (p, t)
        })
        .collect();
    Ok(PostPage {
        posts,
        page,
        has_next,
    })
}

/// A public post by slug with its tags.
pub fn public_post(conn: &mut DbConn, slug: &str) -> AppResult<(PostWithAuthor, Vec<String>)> {
    let p = post::find_public_by_slug(conn, slug, now())?;
    let tags = post::tags_for(conn, &[p.post.id])?
        .remove(&p.post.id)
        .unwrap_or_default();
    Ok((p, tags))
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

/// The post editor form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct PostForm {
    pub title: String,
    #[serde(default)]
    pub slug: String,
    pub body: String,
    #[serde(default)]
    pub tags: String,
    pub status: String,
    /// `datetime-local` in the site's time zone; empty = now when publishing.
    #[serde(default)]
    pub published_at: String,
}

/// What a validated form turns into.
struct CleanPost {
    title: String,
    slug: String,
    tags: Vec<String>,
    status: PostStatus,
    published_at: Option<NaiveDateTime>,
}

fn validate(
    conn: &mut DbConn,
    form: &PostForm,
    id: Option<i64>,
    site: &SiteSettings,
) -> AppResult<CleanPost> {
    let mut errors = FieldErrors::default();
    let title = form.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 || title.chars().any(char::is_control) {
        errors.add("title", "error.title_length");
    }
    if form.body.chars().count() > MAX_BODY_CHARS {
        errors.add("body", "error.too_long");
    }
    let requested = form.slug.trim();
    let mut slug = if requested.is_empty() {
        slugify(&title)
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
        // An automatic slug never clashes: add -2, -3 ... until free.
        let base = slug.clone();
        let mut n = 2;
        while post::slug_taken(conn, &slug, id)? {
            slug = format!("{base}-{n}");
            n += 1;
        }
    } else if valid_slug(&slug) && post::slug_taken(conn, &slug, id)? {
        errors.add("slug", "error.slug_taken");
    }
    let tags = parse_tags(&form.tags);
    if tags.len() > MAX_TAGS
        || tags
            .iter()
            .any(|t| t.chars().count() > 40 || t.chars().any(char::is_control) || t.contains('/'))
    {
        errors.add("tags", "error.tags_format");
    }
    let status = PostStatus::parse(&form.status);
    if status.is_none() {
        errors.add("status", "error.invalid_choice");
    }
    let published_at = if form.published_at.trim().is_empty() {
        None
    } else {
        let parsed = site.parse_local_input(form.published_at.trim());
        if parsed.is_none() {
            errors.add("published_at", "error.date_format");
        }
        parsed
    };
    errors.into_result()?;
    let status = status.unwrap_or(PostStatus::Draft);
    let published_at = match (status, published_at) {
        (PostStatus::Published, None) => Some(now()),
        (_, p) => p,
    };
    Ok(CleanPost {
        title,
        slug,
        tags,
        status,
        published_at,
    })
}

/// Creates (`id` = `None`) or saves a post; returns its id and slug.
pub fn save_post(
    conn: &mut DbConn,
    actor: &Actor,
    id: Option<i64>,
    form: &PostForm,
    site: &SiteSettings,
) -> AppResult<(i64, String)> {
    authorize(Some(actor), Action::WriteBlog)?;
    if let Some(id) = id {
        post::find(conn, id)?;
    }
    let clean = validate(conn, form, id, site)?;
    let body_html = markdown::render(&form.body);
    let excerpt = markdown::excerpt(&form.body, 160);
    let search_text = normalize_for_search(&format!(
        "{} {} {}",
        clean.title,
        markdown::plain_text(&form.body),
        clean.tags.join(" ")
    ));
    let at = now();
    let fields = PostFields {
        title: &clean.title,
        slug: &clean.slug,
        body_md: &form.body,
        body_html: &body_html,
        excerpt: &excerpt,
        search_text: &search_text,
        grams: &crate::textsearch::bigrams(&search_text),
        status: clean.status.as_str(),
        published_at: clean.published_at,
        updated_at: at,
    };
    let id = if let Some(id) = id {
        post::update(conn, id, &fields)?;
        audit::record(conn, Some(actor.id), "post.updated", &clean.slug, None)?;
        id
    } else {
        let id = post::insert(conn, actor.id, &fields, at)?;
        audit::record(conn, Some(actor.id), "post.created", &clean.slug, None)?;
        id
    };
    post::set_tags(conn, id, &clean.tags)?;
    Ok((id, clean.slug))
}

/// Renders the editor's preview (no saving).
pub fn preview(actor: &Actor, body: &str) -> AppResult<String> {
    authorize(Some(actor), Action::WriteBlog)?;
    Ok(markdown::render(body))
}

/// A post for the editor.
pub fn post_for_edit(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<(Post, Vec<String>)> {
    authorize(Some(actor), Action::WriteBlog)?;
    let p = post::find(conn, id)?;
    let tags = post::tags_for(conn, &[id])?.remove(&id).unwrap_or_default();
    Ok((p, tags))
}

/// The editors' list of every post.
pub fn all_posts(
    conn: &mut DbConn,
    actor: &Actor,
    page: i64,
) -> AppResult<(Vec<PostWithAuthor>, i64)> {
    authorize(Some(actor), Action::WriteBlog)?;
    Ok(post::list_all(conn, (page.max(1) - 1) * 50, 50)?)
}

/// Deletes a post.
pub fn delete_post(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<()> {
    authorize(Some(actor), Action::WriteBlog)?;
    let p = post::find(conn, id)?;
    post::delete(conn, id)?;
    audit::record(conn, Some(actor.id), "post.deleted", &p.slug, None)?;
    Ok(())
}

/// The newest public posts for the feed, and when the newest of them last changed (the feed's
/// `<updated>`: older posts are not in the feed, so their edits do not change it).
pub fn feed_posts(conn: &mut DbConn) -> AppResult<(PostPage, Option<NaiveDateTime>)> {
    let mut page = public_page(conn, &PublicFilter::All, 1)?;
    let ids: Vec<i64> = page.posts.iter().map(|(p, _)| p.post.id).collect();
    let mut bodies = post::bodies_for(conn, &ids)?;
    for (p, _) in &mut page.posts {
        p.body_html = bodies.remove(&p.post.id);
    }
    let updated = page.posts.iter().map(|(p, _)| p.post.updated_at).max();
    Ok((page, updated))
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
