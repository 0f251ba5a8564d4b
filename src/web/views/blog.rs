//! Contexts for the public blog and the post editor.

use serde::Serialize;

use super::path_segment;
use crate::models::post::{Post, PostWithAuthor};
use crate::services::site::SiteSettings;

/// A tag link.
#[derive(Debug, Clone, Serialize)]
pub struct TagLink {
    /// The tag's name.
    pub name: String,
    /// `/tags/...`.
    pub url: String,
}

/// A post in a list or on its page.
#[derive(Debug, Clone, Serialize)]
pub struct PostItem {
    pub id: i64,
    pub title: String,
    pub url: String,
    pub excerpt: String,
    /// Sanitised at save time by `markdown::render`; the only HTML a template marks safe.
    pub body_html: String,
    pub author_name: String,
    pub author_url: String,
    pub date: String,
    pub datetime: String,
    pub status: String,
    pub tags: Vec<TagLink>,
}

/// Builds the tag links.
pub fn tag_links(tags: &[String]) -> Vec<TagLink> {
    tags.iter()
        .map(|t| TagLink {
            name: t.clone(),
            url: format!("/tags/{}", path_segment(t)),
        })
        .collect()
}

/// Builds a post item.
pub fn post_item(
    site: &SiteSettings,
    p: &PostWithAuthor,
    tags: &[String],
    with_body: bool,
) -> PostItem {
    let published = p.post.published_at.unwrap_or(p.post.created_at);
    PostItem {
        id: p.post.id,
        title: p.post.title.clone(),
        url: post_url(&p.post.slug),
        excerpt: p.post.excerpt.clone(),
        body_html: if with_body {
            p.body_html.clone().unwrap_or_default()
        } else {
            String::new()
        },
        author_name: p.author_name.clone(),
        author_url: format!("/authors/{}", path_segment(&p.author_login)),
        date: site.local_date(published),
        datetime: published.and_utc().to_rfc3339(),
        status: p.post.status.clone(),
        tags: tag_links(tags),
    }
}

/// The public URL path of a post.
pub fn post_url(slug: &str) -> String {
    crate::models::post::public_path(slug)
}

/// The editor form's values.
#[derive(Debug, Clone, Serialize, Default)]
pub struct PostFormView {
    pub title: String,
    pub slug: String,
    pub body: String,
    pub tags: String,
    pub status: String,
    pub published_at: String,
}

impl PostFormView {
    /// The form filled from a saved post.
    pub fn from_post(site: &SiteSettings, p: &Post, tags: &[String]) -> Self {
        Self {
            title: p.title.clone(),
            slug: p.slug.clone(),
            body: p.body_md.clone(),
            tags: tags.join(", "),
            status: p.status.clone(),
            published_at: p
                .published_at
                .map(|t| site.local_input(t))
                .unwrap_or_default(),
        }
    }

    /// The form as submitted.
    pub fn from_form(f: &crate::services::blog::PostForm) -> Self {
        Self {
            title: f.title.clone(),
            slug: f.slug.clone(),
            body: f.body.clone(),
            tags: f.tags.clone(),
            status: f.status.clone(),
            published_at: f.published_at.clone(),
        }
    }
}

/// A search result.
#[derive(Debug, Clone, Serialize)]
pub struct HitView {
    pub url: String,
    pub title: String,
    pub excerpt: String,
    pub author_name: String,
    pub date: String,
    /// The room it is in, or `None` for the public blog.
    pub room_name: Option<String>,
}

/// Builds a search result view.
pub fn hit_view(site: &SiteSettings, h: &crate::services::search::Hit) -> HitView {
    HitView {
        url: h.url.clone(),
        title: h.title.clone(),
        excerpt: h.excerpt.clone(),
        author_name: h.author_name.clone(),
        date: site.local_date(h.published),
        room_name: h.room_name.clone(),
    }
}
