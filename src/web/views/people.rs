//! The member directory and profile pages.

use serde::Serialize;

use super::{Layout, Page, path_segment};
use crate::services::people::{Person, Profile};
use crate::services::site::SiteSettings;

/// The address of person `id`'s picture whose blob is `sha256`: a new picture is a new address,
/// so browsers may keep one for a day without asking again.
pub fn picture_url(id: i64, sha256: &str) -> String {
    let version = sha256.get(..16).unwrap_or(sha256);
    format!("/people/{id}/picture?v={version}")
}

/// The first letter of a name, shown in the placeholder of someone without a picture.
pub fn initial(name: &str) -> String {
    name.trim()
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default()
}

/// Someone in the directory.
#[derive(Debug, Clone, Serialize)]
pub struct PersonItem {
    pub name: String,
    pub url: String,
    /// Their picture's address, if they have one.
    pub picture: Option<String>,
    /// The placeholder's letter.
    pub initial: String,
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
    pub fn new(layout: Layout, q: String, people: &[Person], more: bool) -> Self {
        Self {
            layout,
            q,
            people: people
                .iter()
                .map(|p| PersonItem {
                    name: p.name.clone(),
                    url: format!("/people/{}", p.id),
                    picture: p.picture.as_deref().map(|sha| picture_url(p.id, sha)),
                    initial: initial(&p.name),
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
    /// Their picture's address, if they have one.
    pub picture: Option<String>,
    /// The placeholder's letter.
    pub initial: String,
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
            picture: p.picture.as_deref().map(|sha| picture_url(p.id, sha)),
            initial: initial(&p.display_name),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initials_and_picture_addresses() {
        assert_eq!(initial(" 山田 花子"), "山");
        assert_eq!(initial("taro"), "T");
        assert_eq!(initial(""), "");
        assert_eq!(
            picture_url(7, &"ab".repeat(32)),
            "/people/7/picture?v=abababababababab"
        );
    }
}
