//! Contexts for the public blog and the post editor.

use serde::Serialize;

use super::path_segment;
use crate::services::blog::BlogPost;
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
pub fn post_item(site: &SiteSettings, p: &BlogPost) -> PostItem {
    let s = &p.summary;
    let published = s.published_at.unwrap_or_else(|| s.updated());
    PostItem {
        id: s.id,
        title: s.title.clone(),
        url: post_url(s.slug.as_deref().unwrap_or_default()),
        excerpt: s.excerpt.clone(),
        body_html: p.body_html.clone().unwrap_or_default(),
        author_name: s.author_name.clone(),
        author_url: format!("/authors/{}", path_segment(&s.author_login)),
        date: site.local_date(published),
        datetime: published.and_utc().to_rfc3339(),
        tags: tag_links(&p.tags),
    }
}

/// The public URL path of a post.
pub fn post_url(slug: &str) -> String {
    crate::models::blog::public_path(slug)
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
