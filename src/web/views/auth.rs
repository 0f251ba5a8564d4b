//! The pages of logging in, the first run's setup and password reset.

use serde::Serialize;

use super::{Errors, Layout, Page};
use crate::services::auth::ResetProblem;
use crate::services::setup::SetupForm;

/// `auth/login.html`.
#[derive(Debug, Clone, Serialize)]
pub struct LoginPage {
    /// The site layout (with the form token).
    #[serde(flatten)]
    pub layout: Layout,
    /// The name typed last time.
    pub name: String,
    /// Where to go after logging in (a same-site path).
    pub next: String,
    /// Field errors.
    pub errors: Errors,
}

impl Page for LoginPage {
    const TEMPLATE: &'static str = "auth/login.html";
}

/// `setup/setup.html`: the first administrator and the site's name.
#[derive(Debug, Clone, Serialize)]
pub struct SetupPage {
    /// The site layout (with the form token).
    #[serde(flatten)]
    pub layout: Layout,
    /// The form's values (never the passwords).
    pub form: SetupFormView,
    /// Field errors.
    pub errors: Errors,
}

impl Page for SetupPage {
    const TEMPLATE: &'static str = "setup/setup.html";
}

/// The setup form's values as the page shows them again.
#[derive(Debug, Clone, Serialize)]
pub struct SetupFormView {
    pub token: String,
    pub site_title: String,
    pub language: String,
    pub login: String,
    pub email: String,
    pub display_name: String,
}

impl From<&SetupForm> for SetupFormView {
    fn from(f: &SetupForm) -> Self {
        Self {
            token: f.token.clone(),
            site_title: f.site_title.clone(),
            language: f.language.clone(),
            login: f.login.clone(),
            email: f.email.clone(),
            display_name: f.display_name.clone(),
        }
    }
}

/// `auth/reset_request.html`: asking for a reset link, and the answer that one was sent.
#[derive(Debug, Clone, Serialize)]
pub struct ResetRequestPage {
    /// The site layout (with the form token).
    #[serde(flatten)]
    pub layout: Layout,
    /// The request was sent (the same answer whether or not the address is known).
    pub sent: bool,
}

impl Page for ResetRequestPage {
    const TEMPLATE: &'static str = "auth/reset_request.html";
}

/// `auth/reset_form.html`: the new password, or why the link cannot be used.
#[derive(Debug, Clone, Serialize)]
pub struct ResetFormPage {
    /// The site layout (with the form token).
    #[serde(flatten)]
    pub layout: Layout,
    /// Why the link cannot be used (a translation key).
    pub problem: Option<&'static str>,
    /// Field errors.
    pub errors: Errors,
}

impl Page for ResetFormPage {
    const TEMPLATE: &'static str = "auth/reset_form.html";
}

/// The translation key that says why a reset link cannot be used.
pub fn reset_problem_key(p: ResetProblem) -> &'static str {
    match p {
        ResetProblem::Unknown => "reset.link_invalid",
        ResetProblem::Expired => "reset.link_expired",
        ResetProblem::Used => "reset.link_used",
    }
}
