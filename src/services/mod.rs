//! Use cases, one module per feature. Each use case is one function that checks permission first and
//! runs in one transaction; nothing here knows actix.

pub mod account;
pub mod admin;
pub mod answer_queue;
pub mod app_passwords;
pub mod auth;
pub mod authz;
pub mod backup;
pub mod blog;
pub mod calendar;
pub mod circulars;
pub mod dav;
pub mod files;
pub mod form;
pub mod home;
pub mod import;
pub mod invitations;
pub mod mail;
pub mod nav;
pub mod new_posts;
pub mod notices;
pub mod password;
pub mod people;
pub mod pictures;
pub mod post_address;
pub mod reachability;
pub mod room_posts;
pub mod rooms;
pub mod safety;
pub mod search;
pub mod setup;
pub mod site;
pub mod subsonic;
pub mod token;
pub mod wordpress;
pub mod zones;

use std::sync::Arc;

use crate::config::Config;
use crate::db::Db;
use crate::templates::Templates;

/// What every use case needs: the database, the configuration, password hashing and templates (for mail).
#[derive(Clone)]
pub struct Core {
    /// The database pool.
    pub db: Db,
    /// The configuration, read once at startup.
    pub config: Arc<Config>,
    /// Password hashing on the blocking pool, with bounded concurrency.
    pub passwords: password::Passwords,
    /// Compiled templates (pages and mail).
    pub templates: Templates,
    /// Site settings cached for public pages.
    pub site_cache: Arc<site::SiteCache>,
    /// Music libraries kept for a moment (`subsonic::LibraryCache`).
    pub music: Arc<subsonic::LibraryCache>,
    /// The blob store of room cabinets.
    pub storage: crate::storage::Storage,
    /// The server secret (personal answer links).
    pub secret: crate::secret::Secret,
    /// Answers through personal links waiting for their group commit.
    pub answers: answer_queue::AnswerQueue,
}

/// The acting person as services see it.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The account id.
    pub id: i64,
    /// Whether the account is a site administrator.
    pub is_admin: bool,
    /// The person's own time zone (`/me`); `None`: the site's (`SiteSettings::zone_for`).
    pub tz: Option<chrono_tz::Tz>,
}

impl From<&crate::models::user::User> for Actor {
    fn from(u: &crate::models::user::User) -> Self {
        Self {
            id: u.id,
            is_admin: u.is_admin(),
            // A stored name this build's zone database does not know (`/me` accepts only known
            // ones; a later tzdata could drop an alias) falls back to the site's zone rather than
            // failing every page the member opens.
            tz: u.timezone.as_deref().and_then(|z| z.parse().ok()),
        }
    }
}

/// What in a path must be escaped to put it in a URL outside HTML: everything but visible ASCII
/// (room addresses and post addresses may be Japanese).
const URL_PATH_ESCAPES: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'<')
    .add(b'>')
    .add(b'`');

/// A site path (`/rooms/3年2組/posts/7`) as an ASCII URL path (`/rooms/3%E5%B9%B4…`), for a
/// `Location` header or a link in a mail, where a raw non-ASCII byte is not allowed or not
/// recognised as part of the link. `%` is left alone, so an already escaped path stays as it is.
pub fn url_path(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, URL_PATH_ESCAPES).to_string()
}
