//! The public blog's pages: post lists, a post, search, and the first-run page a new site shows.

use serde::Serialize;

use super::room_posts::{CommentItem, comment_view};
use super::{Layout, Page, Pager, path_segment};
use crate::services::blog::{BlogPost, PostPage, PublicPost};
use crate::services::search::{COUNT_CAP, SearchPage};
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
    /// The language of the title, excerpt and body (the template marks it where it is not the
    /// page's).
    pub lang: &'static str,
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
        lang: s.lang.code(),
    }
}

/// The public URL path of a post.
pub fn post_url(slug: &str) -> String {
    crate::services::blog::public_path(slug)
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
    /// The language of the title and excerpt.
    pub lang: &'static str,
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
        lang: h.lang.code(),
    }
}

/// `blog/index.html`: a page of public posts (the front page, a tag, an author).
#[derive(Debug, Clone, Serialize)]
pub struct PostListPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The list's heading (none on the front page).
    pub heading: Option<String>,
    /// The posts, newest first.
    pub posts: Vec<PostItem>,
    /// Links to newer and older pages.
    pub pager: Pager,
}

impl Page for PostListPage {
    const TEMPLATE: &'static str = "blog/index.html";
}

impl PostListPage {
    /// The list at `base` (the pager's links) with `heading`.
    pub fn new(
        layout: Layout,
        site: &SiteSettings,
        heading: Option<String>,
        base: &str,
        page: &PostPage,
    ) -> Self {
        Self {
            layout,
            heading,
            posts: page.posts.iter().map(|p| post_item(site, p)).collect(),
            pager: Pager::new(base, page.page, page.has_next),
        }
    }
}

/// `blog/post.html`: a public post with its published comments.
#[derive(Debug, Clone, Serialize)]
pub struct BlogPostPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The post.
    pub post: PostItem,
    /// Its page in the public space, for those who may edit or approve it.
    pub manage_url: Option<String>,
    /// Where the visitor may write a comment.
    pub comment_url: Option<String>,
    /// Published comments, oldest first.
    pub comments: Vec<CommentItem>,
}

impl Page for BlogPostPage {
    const TEMPLATE: &'static str = "blog/post.html";
}

impl BlogPostPage {
    /// The page of `p`; `layout` is made for the post's own address (`post_url`).
    pub fn new(layout: Layout, site: &SiteSettings, p: &PublicPost) -> Self {
        Self {
            layout,
            post: post_item(site, &p.post),
            manage_url: p.manage_url.clone(),
            comment_url: p.comment_url.clone(),
            comments: p.comments.iter().map(|c| comment_view(site, c)).collect(),
        }
    }
}

/// `blog/search.html`: the search form and a page of results.
#[derive(Debug, Clone, Serialize)]
pub struct SearchResultsPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// What was asked.
    pub q: String,
    /// How many match: a number, or `100+` past the cap.
    pub total: String,
    /// The count reached the cap (the page asks for another word).
    pub capped: bool,
    /// How many results search shows at most.
    pub shown: i64,
    /// This page's results.
    pub hits: Vec<HitView>,
    /// Links to newer and older results.
    pub pager: Pager,
}

impl Page for SearchResultsPage {
    const TEMPLATE: &'static str = "blog/search.html";
}

impl SearchResultsPage {
    /// The results of `q`.
    pub fn new(layout: Layout, site: &SiteSettings, q: String, found: &SearchPage) -> Self {
        let capped = found.total >= COUNT_CAP;
        let base = format!(
            "/search?q={}",
            url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
        );
        Self {
            layout,
            total: if capped {
                format!("{COUNT_CAP}+")
            } else {
                found.total.to_string()
            },
            capped,
            shown: COUNT_CAP,
            hits: found.hits.iter().map(|h| hit_view(site, h)).collect(),
            pager: Pager::new(&base, found.page, found.has_next),
            q,
        }
    }
}

/// `setup/first_run.html`: a site without an administrator yet explains how to make one.
#[derive(Debug, Clone, Serialize)]
pub struct FirstRunPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The visitor came with a setup link that is not (or no longer) valid.
    pub invalid_token: bool,
}

impl Page for FirstRunPage {
    const TEMPLATE: &'static str = "setup/first_run.html";
}
