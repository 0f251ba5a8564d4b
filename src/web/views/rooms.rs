//! Contexts for rooms.

use serde::Serialize;

use crate::models::room::{JoinRequestRow, MemberRow, Room};
use crate::services::authz::RoomRole;
use crate::services::rooms::{Cell, RoomForm};
use crate::services::site::SiteSettings;

/// A room in a list or on its page.
#[derive(Debug, Clone, Serialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a template context: each flag is one independent badge"
)]
pub struct RoomItem {
    pub slug: String,
    pub name: String,
    pub url: String,
    pub visibility: String,
    pub preparing: bool,
    pub archived: bool,
    pub join_policy: String,
    pub need_approval: bool,
    pub nested: bool,
    /// The actor's role (stored text), if a member.
    pub role: Option<String>,
    /// The site's public space (its blog is the front page; it is never archived).
    pub public_space: bool,
}

/// Builds a room item.
pub fn room_item(r: &Room, role: Option<RoomRole>) -> RoomItem {
    RoomItem {
        slug: r.slug.clone(),
        name: r.name.clone(),
        url: format!("/rooms/{}", r.slug),
        visibility: r.visibility.clone(),
        preparing: r.state != "open",
        archived: r.archived,
        join_policy: r.join_policy.clone(),
        need_approval: r.need_approval,
        nested: r.parent_id.is_some(),
        role: role.map(|x| x.as_str().to_owned()),
        public_space: r.is_public_space(),
    }
}

/// A member row.
#[derive(Debug, Clone, Serialize)]
pub struct MemberItem {
    pub login: String,
    pub display_name: String,
    pub role: String,
}

/// Builds member rows.
pub fn member_items(rows: &[MemberRow]) -> Vec<MemberItem> {
    rows.iter()
        .map(|m| MemberItem {
            login: m.login.clone(),
            display_name: m.display_name.clone(),
            role: m.role.clone(),
        })
        .collect()
}

/// Role names (stored text), highest first; `with_manager` false for "default role" choices.
pub fn role_names(with_manager: bool) -> Vec<&'static str> {
    RoomRole::ALL
        .iter()
        .rev()
        .filter(|r| with_manager || **r != RoomRole::Manager)
        .map(|r| r.as_str())
        .collect()
}

/// The settings form's values.
#[derive(Debug, Clone, Serialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a template context: each flag is one checkbox"
)]
pub struct RoomFormView {
    pub name: String,
    pub slug: String,
    pub description: String,
    pub visibility: String,
    pub state: String,
    pub default_role: String,
    pub join_policy: String,
    pub need_approval: bool,
    pub comment_approval: bool,
    pub quota_mb: String,
    pub feature_blog: bool,
    pub feature_files: bool,
    pub feature_calendar: bool,
    pub parent: String,
    pub manager: String,
    pub public_space: bool,
}

/// Builds the form view.
pub fn room_form_view(f: &RoomForm) -> RoomFormView {
    RoomFormView {
        name: f.name.clone(),
        slug: f.slug.clone(),
        description: f.description.clone(),
        visibility: f.visibility.clone(),
        state: f.state.clone(),
        default_role: f.default_role.clone(),
        join_policy: f.join_policy.clone(),
        need_approval: f.need_approval.is_some(),
        comment_approval: f.comment_approval.is_some(),
        quota_mb: f.quota_mb.clone(),
        feature_blog: f.feature_blog.is_some(),
        feature_files: f.feature_files.is_some(),
        feature_calendar: f.feature_calendar.is_some(),
        parent: f.parent.clone(),
        manager: f.manager.clone(),
        public_space: f.public_space,
    }
}

/// One row of the permissions page: a permission and its cells, highest role first.
#[derive(Debug, Clone, Serialize)]
pub struct PermissionRow {
    pub permission: String,
    pub cells: Vec<CellView>,
}

/// One cell.
#[derive(Debug, Clone, Serialize)]
pub struct CellView {
    pub key: String,
    pub role: String,
    pub allowed: bool,
    pub adjustable: bool,
}

/// Groups cells by permission.
pub fn cells_view(cells: &[Cell]) -> Vec<PermissionRow> {
    let mut rows: Vec<PermissionRow> = Vec::new();
    for c in cells {
        let p = c.permission.as_str().to_owned();
        if rows.last().is_none_or(|r| r.permission != p) {
            rows.push(PermissionRow {
                permission: p.clone(),
                cells: Vec::new(),
            });
        }
        if let Some(row) = rows.last_mut() {
            row.cells.push(CellView {
                key: format!("cell:{p}:{}", c.role.as_str()),
                role: c.role.as_str().to_owned(),
                allowed: c.allowed,
                adjustable: c.adjustable,
            });
        }
    }
    rows
}

/// A pending join request.
#[derive(Debug, Clone, Serialize)]
pub struct RequestItem {
    pub login: String,
    pub display_name: String,
    pub message: String,
    pub date: String,
}

/// Builds request rows.
pub fn request_items(site: &SiteSettings, rows: &[JoinRequestRow]) -> Vec<RequestItem> {
    rows.iter()
        .map(|r| RequestItem {
            login: r.login.clone(),
            display_name: r.display_name.clone(),
            message: r.message.clone(),
            date: site.local_datetime(r.created_at),
        })
        .collect()
}

/// An open invitation.
#[derive(Debug, Clone, Serialize)]
pub struct InvitationItem {
    pub email: String,
    pub role: String,
    pub expires: String,
}

/// Builds invitation rows.
pub fn invitation_items(
    site: &SiteSettings,
    rows: &[crate::models::invitation::Invitation],
) -> Vec<InvitationItem> {
    rows.iter()
        .map(|i| InvitationItem {
            email: i.email.clone(),
            role: i.role.clone(),
            expires: site.local_datetime(i.expires_at),
        })
        .collect()
}
