//! Use cases, one module per feature. Each use case is one function that checks permission first and
//! runs in one transaction; nothing here knows actix.

pub mod account;
pub mod admin;
pub mod answer_queue;
pub mod auth;
pub mod authz;
pub mod blog;
pub mod files;
pub mod import;
pub mod invitations;
pub mod mail;
pub mod notices;
pub mod notify;
pub mod password;
pub mod reachability;
pub mod room_posts;
pub mod rooms;
pub mod safety;
pub mod search;
pub mod setup;
pub mod site;
pub mod token;

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
    /// Wakes the mail sender when a service has queued mail.
    pub mail_wakeup: Arc<tokio::sync::Notify>,
    /// Site settings cached for public pages.
    pub site_cache: Arc<site::SiteCache>,
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
}

impl From<&crate::models::user::User> for Actor {
    fn from(u: &crate::models::user::User) -> Self {
        Self {
            id: u.id,
            is_admin: u.is_admin(),
        }
    }
}
