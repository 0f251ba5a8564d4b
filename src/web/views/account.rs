//! The member's own pages: the profile (`/me`) and the link that confirms a new email.

use serde::Serialize;

use super::{Errors, Layout, Page};
use crate::services::account::ProfileForm;
use crate::services::app_passwords::AppPasswordItem;
use crate::services::site::SiteSettings;

/// `account/me.html`: profile, password and sessions.
#[derive(Debug, Clone, Serialize)]
pub struct ProfilePage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The member's profile picture's address, if they have one.
    pub picture: Option<String>,
    /// The placeholder's letter (no picture).
    pub initial: String,
    /// The largest picture upload, in MB.
    pub picture_max_mb: usize,
    /// The profile form's values.
    pub form: ProfileFormView,
    /// The member's login name (not editable).
    pub login: String,
    /// The site lets members have a private room (the page links to it).
    pub private_rooms: bool,
    /// Field errors of the profile, password or app-password form.
    pub errors: Errors,
    /// The member's app passwords.
    pub app_passwords: Vec<AppPasswordRow>,
    /// The app password just made: shown on this page once, never again.
    pub new_app_password: Option<NewAppPasswordView>,
    /// The name typed into the app-password form (kept when it is refused).
    pub app_name: String,
    /// The WebDAV address to type into a client (`<base_url>/dav/`).
    pub dav_url: String,
    /// The Subsonic server address to type into a music app (`<base_url>`; apps add `/rest/`).
    pub subsonic_url: String,
    /// The site's time zone (what "the site's zone" means, preselected for a member without one).
    pub site_zone: String,
    /// The time zones one may choose, by area.
    pub zone_groups: Vec<ZoneGroupView>,
}

/// One area's zones in the time-zone list.
#[derive(Debug, Clone, Serialize)]
pub struct ZoneGroupView {
    pub area: &'static str,
    pub zones: Vec<&'static str>,
}

impl ZoneGroupView {
    /// Every area's zones, as `zones::groups` lists them.
    pub fn all() -> Vec<Self> {
        crate::services::zones::groups()
            .into_iter()
            .map(|g| Self {
                area: g.area,
                zones: g.zones,
            })
            .collect()
    }
}

/// One app password in the list on `/me`.
#[derive(Debug, Clone, Serialize)]
pub struct AppPasswordRow {
    pub id: i64,
    pub name: String,
    pub scope: &'static str,
    pub created: String,
    pub last_used: Option<String>,
    pub last_client: Option<String>,
    pub revoked: Option<String>,
}

impl AppPasswordRow {
    /// The rows of the list, times in the site's zone.
    pub fn list(items: Vec<AppPasswordItem>, site: &SiteSettings) -> Vec<Self> {
        items
            .into_iter()
            .map(|p| Self {
                id: p.id,
                name: p.name,
                scope: p.scope.as_str(),
                created: site.local_datetime(p.created_at),
                last_used: p.last_used_at.map(|t| site.local_datetime(t)),
                last_client: p.last_client,
                revoked: p.revoked_at.map(|t| site.local_datetime(t)),
            })
            .collect()
    }
}

/// A new app password, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct NewAppPasswordView {
    pub name: String,
    pub secret: String,
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
    /// An IANA zone name; empty: the site's.
    pub timezone: String,
}

impl From<&ProfileForm> for ProfileFormView {
    fn from(f: &ProfileForm) -> Self {
        Self {
            display_name: f.display_name.clone(),
            email: f.email.clone(),
            language: f.language.clone(),
            timezone: f.timezone.clone(),
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
