//! HTTP: the route table, the request-context middleware, extractors, handlers and template contexts.
//! Handlers are thin: extract → one service call → render or redirect.

pub mod context;
pub mod error_page;
pub mod extract;
pub mod handlers;
pub mod page_cache;
pub mod render;
pub mod routes;
pub mod views;

use crate::assets::Assets;
use crate::services::Core;

/// Shared state of every worker.
#[derive(Clone)]
pub struct AppState {
    /// Services' dependencies.
    pub core: Core,
    /// Embedded static files.
    pub assets: Assets,
    /// Parsed trusted proxy networks.
    pub trusted_proxies: std::sync::Arc<Vec<ipnet::IpNet>>,
    /// One-second cache of public pages.
    pub page_cache: std::sync::Arc<page_cache::PageCache>,
}
