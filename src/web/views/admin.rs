//! Contexts for the admin panel.

use serde::Serialize;

use crate::models::audit::AuditEntry;
use crate::models::user::User;
use crate::services::site::SiteSettings;

/// A member row.
#[derive(Debug, Clone, Serialize)]
pub struct MemberItem {
    pub login: String,
    pub display_name: String,
    pub email: String,
    pub role: String,
    pub disabled: bool,
    pub created: String,
}

/// Builds a member row (no password hash ever reaches a template).
pub fn member_item(site: &SiteSettings, u: &User) -> MemberItem {
    MemberItem {
        login: u.login.clone(),
        display_name: u.display_name.clone(),
        email: u.email.clone(),
        role: u.site_role.clone(),
        disabled: u.disabled,
        created: site.local_date(u.created_at),
    }
}

/// An audit row.
#[derive(Debug, Clone, Serialize)]
pub struct AuditItem {
    pub at: String,
    pub actor: String,
    pub action: String,
    pub detail: String,
    pub ip: String,
}

/// Builds an audit row.
pub fn audit_item(site: &SiteSettings, e: &AuditEntry) -> AuditItem {
    AuditItem {
        at: site.local_datetime(e.at),
        actor: e.actor_login.clone().unwrap_or_else(|| "-".into()),
        action: e.action.clone(),
        detail: e.detail.clone(),
        ip: e.ip.clone().unwrap_or_default(),
    }
}
