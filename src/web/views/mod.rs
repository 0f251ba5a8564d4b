//! Template contexts: what templates may see, built from rows (never the rows themselves, so hashes
//! and other internals cannot leak into a page).

pub mod admin;
pub mod blog;
pub mod feed;
pub mod files;
pub mod notices;
pub mod reachability;
pub mod room_posts;
pub mod rooms;
pub mod safety;

/// Pagination links for a list page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Pager {
    /// The current page.
    pub page: i64,
    /// Link to the previous page, if any.
    pub prev: Option<String>,
    /// Link to the next page, if any.
    pub next: Option<String>,
}

impl Pager {
    /// Builds the pager; `base` is the list URL with any query already on it (or none).
    pub fn new(base: &str, page: i64, has_next: bool) -> Self {
        let sep = if base.contains('?') { '&' } else { '?' };
        let link = |p: i64| {
            if p == 1 {
                base.to_owned()
            } else {
                format!("{base}{sep}page={p}")
            }
        };
        Self {
            page,
            prev: (page > 1).then(|| link(page - 1)),
            next: has_next.then(|| link(page + 1)),
        }
    }
}

/// Percent-encodes one URL path segment (tags and slugs may be Japanese or contain spaces).
pub fn path_segment(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}
