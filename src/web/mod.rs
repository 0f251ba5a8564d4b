//! HTTP: the route table, the middleware pipeline, extractors, handlers and the pages they render.
//! Handlers are thin: extract → one service call → build the page → render or redirect.

pub mod client_ip;
pub mod context;
pub mod cookies;
pub mod error_page;
pub mod extract;
pub mod flash;
pub mod handlers;
pub mod lang;
pub mod middleware;
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
