//! The member's own pages: the profile (`/me`) and the link that confirms a new email.

use serde::Serialize;

use super::{Errors, Layout, Page};
use crate::services::account::ProfileForm;

/// `account/me.html`: profile, password and sessions.
#[derive(Debug, Clone, Serialize)]
pub struct ProfilePage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The profile form's values.
    pub form: ProfileFormView,
    /// The member's login name (not editable).
    pub login: String,
    /// The site lets members have a private room (the page links to it).
    pub private_rooms: bool,
    /// Field errors of the profile or the password form.
    pub errors: Errors,
}

impl Page for ProfilePage {
    const TEMPLATE: &'static str = "account/me.html";
}

/// The profile form's values (never the password).
#[derive(Debug, Clone, Serialize)]
pub struct ProfileFormView {
    pub display_name: String,
    pub email: String,
    pub language: String,
}

impl From<&ProfileForm> for ProfileFormView {
    fn from(f: &ProfileForm) -> Self {
        Self {
            display_name: f.display_name.clone(),
            email: f.email.clone(),
            language: f.language.clone(),
        }
    }
}

/// `account/email_confirm.html`: which address a link makes the account's email, or why it cannot.
#[derive(Debug, Clone, Serialize)]
pub struct EmailConfirmPage {
    /// The site layout (with the form token: the link works without a login).
    #[serde(flatten)]
    pub layout: Layout,
    /// The link's token (the form posts back to it).
    pub token: String,
    /// The change was made.
    pub done: bool,
    /// The new address.
    pub address: String,
    /// Why the link cannot be used (a translation key).
    pub problem: Option<&'static str>,
}

impl Page for EmailConfirmPage {
    const TEMPLATE: &'static str = "account/email_confirm.html";
}
