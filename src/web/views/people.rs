//! The member directory and profile pages.

use serde::Serialize;

use super::{Layout, Page, path_segment};
use crate::services::people::Profile;
use crate::services::site::SiteSettings;

/// Someone in the directory.
#[derive(Debug, Clone, Serialize)]
pub struct PersonItem {
    pub name: String,
    pub url: String,
}

/// `people/index.html`: the directory.
#[derive(Debug, Clone, Serialize)]
pub struct PeoplePage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The search as typed.
    pub q: String,
    /// Who was found.
    pub people: Vec<PersonItem>,
    /// More were found than listed.
    pub more: bool,
}

impl Page for PeoplePage {
    const TEMPLATE: &'static str = "people/index.html";
}

impl PeoplePage {
    /// The directory for `q`.
    pub fn new(layout: Layout, q: String, people: &[(i64, String)], more: bool) -> Self {
        Self {
            layout,
            q,
            people: people
                .iter()
                .map(|(id, name)| PersonItem {
                    name: name.clone(),
                    url: format!("/people/{id}"),
                })
                .collect(),
            more,
        }
    }
}

/// A room on a profile.
#[derive(Debug, Clone, Serialize)]
pub struct SharedRoom {
    pub name: String,
    pub url: String,
}

/// `people/show.html`: a person's profile.
#[derive(Debug, Clone, Serialize)]
pub struct ProfilePage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// Their display name.
    pub name: String,
    /// The rooms the visitor shares with them.
    pub rooms: Vec<SharedRoom>,
    /// The visitor is a site admin, who sees the last login.
    pub admin_view: bool,
    /// Their last login (empty: never; only filled for site admins).
    pub last_login: String,
    /// The visitor's own profile.
    pub is_me: bool,
}

impl Page for ProfilePage {
    const TEMPLATE: &'static str = "people/show.html";
}

impl ProfilePage {
    /// The page of `p`.
    pub fn new(layout: Layout, site: &SiteSettings, p: &Profile) -> Self {
        Self {
            layout,
            name: p.display_name.clone(),
            rooms: p
                .rooms
                .iter()
                .map(|r| SharedRoom {
                    name: r.name.clone(),
                    url: format!("/rooms/{}", path_segment(&r.slug)),
                })
                .collect(),
            admin_view: p.last_login.is_some(),
            last_login: p
                .last_login
                .flatten()
                .map(|at| site.local_datetime(at))
                .unwrap_or_default(),
            is_me: p.is_me,
        }
    }
}
