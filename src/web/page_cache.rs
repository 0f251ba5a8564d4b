//! A one-second micro-cache of public pages for visitors without a session (the front page after an
//! earthquake is read by everyone at once). Keyed by language and URL; only pages that carry no CSRF
//! token, no flash message and set no cookie are kept. Any successful change made through this process
//! empties it, so an author sees their edit at once; another `yui serve` sharing the database serves
//! a stale page for at most `TTL`.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web::Bytes;

/// A cached response.
#[derive(Debug, Clone)]
pub struct CachedPage {
    /// `Content-Type`.
    pub content_type: String,
    /// The weak `ETag`.
    pub etag: String,
    /// The body.
    pub body: Bytes,
}

/// The cache.
#[derive(Debug, Default)]
pub struct PageCache {
    entries: Mutex<HashMap<String, (Instant, CachedPage)>>,
    disabled: bool,
}

impl PageCache {
    /// How long a page is served from memory.
    pub const TTL: Duration = Duration::from_secs(1);
    /// At most this many pages (search URLs are unbounded; a full cache is simply emptied).
    const MAX_ENTRIES: usize = 512;

    /// A cache that keeps pages (`enabled`) or never does (`server.public_cache = false`).
    pub fn new(enabled: bool) -> Self {
        Self {
            entries: Mutex::default(),
            disabled: !enabled,
        }
    }

    /// The cache key of a page.
    pub fn key(lang: &str, path_and_query: &str) -> String {
        format!("{lang}|{path_and_query}")
    }

    /// A fresh cached page.
    pub fn get(&self, key: &str) -> Option<CachedPage> {
        let entries = self.entries.lock().ok()?;
        entries
            .get(key)
            .filter(|(at, _)| at.elapsed() < Self::TTL)
            .map(|(_, page)| page.clone())
    }

    /// Keeps a page.
    pub fn put(&self, key: String, page: CachedPage) {
        if self.disabled {
            return;
        }
        if let Ok(mut entries) = self.entries.lock() {
            if entries.len() >= Self::MAX_ENTRIES {
                entries.clear();
            }
            entries.insert(key, (Instant::now(), page));
        }
    }

    /// Forgets everything (after any change).
    pub fn clear(&self) {
        if let Ok(mut entries) = self.entries.lock() {
            entries.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_expire_and_clear() {
        let cache = PageCache::default();
        let page = CachedPage {
            content_type: "text/html".into(),
            etag: "W/\"x\"".into(),
            body: Bytes::from_static(b"<p>hi</p>"),
        };
        cache.put(PageCache::key("ja", "/"), page);
        assert!(cache.get(&PageCache::key("ja", "/")).is_some());
        assert!(
            cache.get(&PageCache::key("en", "/")).is_none(),
            "languages are kept apart"
        );
        cache.clear();
        assert!(cache.get(&PageCache::key("ja", "/")).is_none());
        let off = PageCache::new(false);
        off.put(
            PageCache::key("ja", "/"),
            CachedPage {
                content_type: String::new(),
                etag: String::new(),
                body: Bytes::new(),
            },
        );
        assert!(
            off.get(&PageCache::key("ja", "/")).is_none(),
            "a disabled cache keeps nothing"
        );
    }
}
