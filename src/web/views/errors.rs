//! The error page.

use serde::Serialize;

use super::{Layout, Page};

/// `errors/error.html`: what went wrong, in the site layout.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The HTTP status.
    pub status: u16,
    /// The title's translation key.
    pub title_key: &'static str,
    /// The message's translation key.
    pub message_key: &'static str,
    /// The id under which an internal error was logged.
    pub incident: Option<String>,
    /// What was wrong with the input, one translation key per problem (a form sent without its
    /// page, a file name too long), so the page says more than "bad request".
    pub details: Vec<&'static str>,
    /// The page the request came from (same site only), to go back to.
    pub back: Option<String>,
}

impl Page for ErrorPage {
    const TEMPLATE: &'static str = "errors/error.html";
}
