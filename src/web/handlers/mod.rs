//! Request handlers, one module per area. Each: extractors → one service call → render or redirect.

pub mod account;
pub mod admin;
pub mod assets;
pub mod auth;
pub mod calendar;
pub mod dav;
pub mod facilities;
pub mod files;
pub mod home;
pub mod invitations;
pub mod notices;
pub mod people;
pub mod public;
pub mod reachability;
pub mod room_posts;
pub mod rooms;
pub mod safety;
pub mod subsonic;

/// The answer of a confirmation page (`views::ConfirmPage`): `confirmed=yes` when the person
/// pressed its button; absent on the first request, which shows the page.
#[derive(Debug, Default, serde::Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    pub confirmed: Option<String>,
}

impl ConfirmForm {
    /// Whether the action was confirmed.
    pub fn is_yes(&self) -> bool {
        self.confirmed.as_deref() == Some("yes")
    }
}
