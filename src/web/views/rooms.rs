//! The rooms' pages: the list, a room's home, its settings, members and permissions, the admin's
//! list of rooms, and an invitation link.

use serde::Serialize;

use super::room_posts::{RoomPostItem, live_item, own_item};
use super::{Errors, Layout, Page};
use crate::services::authz::RoomRole;
use crate::services::invitations::InviteCheck;
use crate::services::room_posts::RoomHomePage;
use crate::services::rooms::{Cell, MembersPage, RoomCtx, RoomForm, RoomListItem};
use crate::services::rooms::{JoinRequestRow, MemberRow, NewRoomChoices, Room};
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
    /// How deep it is drawn in a list of rooms (0: top level).
    pub depth: usize,
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
        visibility: r.visibility.to_string(),
        preparing: r.state != crate::db::types::RoomState::Open,
        archived: r.archived,
        join_policy: r.join_policy.to_string(),
        need_approval: r.need_approval,
        nested: r.parent_id.is_some(),
        depth: usize::from(r.parent_id.is_some()),
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
    /// Their profile page (名簿).
    pub profile_url: String,
}

/// Builds member rows.
pub fn member_items(rows: &[MemberRow]) -> Vec<MemberItem> {
    rows.iter()
        .map(|m| MemberItem {
            login: m.login.clone(),
            display_name: m.display_name.clone(),
            role: m.role.to_string(),
            profile_url: format!("/people/{}", m.user_id),
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
    pub quota_locked: bool,
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
        quota_locked: f.quota_locked,
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

/// The permissions page's table: the column headers and the rows, in one order.
#[derive(Debug, Clone, Serialize)]
pub struct PermissionTable {
    /// The roles of the columns, as the cells of every row run (highest role first).
    pub roles: Vec<String>,
    /// One row per permission.
    pub rows: Vec<PermissionRow>,
}

/// Groups cells by permission. The column headers are taken from the cells themselves, so a header
/// always names the role its checkboxes change (they once ran in opposite orders: a manager who
/// unticked what read 編集長 changed what 一般 members may do).
pub fn cells_view(cells: &[Cell]) -> PermissionTable {
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
    let roles = rows
        .first()
        .map(|r| r.cells.iter().map(|c| c.role.clone()).collect())
        .unwrap_or_default();
    PermissionTable { roles, rows }
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
    rows: &[crate::services::invitations::Invitation],
) -> Vec<InvitationItem> {
    rows.iter()
        .map(|i| InvitationItem {
            email: i.email.clone(),
            role: i.role.to_string(),
            expires: site.local_datetime(i.expires_at),
        })
        .collect()
}

/// `rooms/index.html`: the rooms the visitor may see.
#[derive(Debug, Clone, Serialize)]
pub struct RoomsPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The rooms, parents before their sub-rooms.
    pub rooms: Vec<RoomItem>,
}

impl Page for RoomsPage {
    const TEMPLATE: &'static str = "rooms/index.html";
}

impl RoomsPage {
    /// The list of `rooms`.
    pub fn new(layout: Layout, rooms: &[RoomListItem]) -> Self {
        Self {
            layout,
            rooms: rooms
                .iter()
                .map(|i| RoomItem {
                    // Deeper rooms are drawn at the third step (the stylesheet has three).
                    depth: i.depth.min(3),
                    ..room_item(&i.room, i.role)
                })
                .collect(),
        }
    }
}

/// `rooms/show.html`: a room's home. The `can_*` flags copy the room's capabilities.
#[derive(Debug, Clone, Serialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a template context: each flag is one button the page may offer"
)]
pub struct RoomPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The room.
    pub room: RoomItem,
    /// Its description.
    pub description: String,
    /// Sub-rooms the visitor may read.
    pub children: Vec<RoomItem>,
    /// Its members (for members and site admins).
    pub members: Vec<MemberItem>,
    /// Settings, members and permissions.
    pub can_manage: bool,
    /// Join at once.
    pub can_join: bool,
    /// Ask to join (and no request waits yet).
    pub can_request: bool,
    /// The visitor's request waits for a manager.
    pub request_pending: bool,
    /// Only an invitation lets the visitor in.
    pub invite_only: bool,
    /// Leave.
    pub can_leave: bool,
    /// The member's new-post mail mode (members only).
    pub notify_mode: Option<String>,
    /// Send a circular notice.
    pub can_send_notice: bool,
    /// The room has a file cabinet.
    pub files_enabled: bool,
    /// The room has a calendar (the calendar link).
    pub calendar_enabled: bool,
    /// Write a post.
    pub can_create: bool,
    /// What readers see now, newest first.
    pub posts: Vec<RoomPostItem>,
    /// The visitor's own posts that readers do not see (yet).
    pub my_posts: Vec<RoomPostItem>,
}

impl Page for RoomPage {
    const TEMPLATE: &'static str = "rooms/show.html";
}

impl RoomPage {
    /// The home of `p.home`'s room.
    pub fn new(layout: Layout, site: &SiteSettings, p: &RoomHomePage) -> Self {
        let ctx = &p.home.ctx;
        let (can, slug) = (ctx.can, &ctx.room.slug);
        Self {
            layout,
            room: room_item(&ctx.room, ctx.access.role),
            description: ctx.room.description.clone(),
            children: p.home.children.iter().map(|r| room_item(r, None)).collect(),
            members: member_items(&p.home.members),
            can_manage: can.manage,
            can_join: can.join,
            can_request: can.request && !p.home.request_pending,
            request_pending: p.home.request_pending,
            invite_only: can.invite_only,
            can_leave: can.leave,
            notify_mode: p.notify_mode.map(|m| m.to_string()),
            can_send_notice: can.send_notice,
            files_enabled: can.files,
            calendar_enabled: can.calendar,
            can_create: can.post,
            posts: p
                .posts
                .visible
                .iter()
                .map(|x| live_item(site, slug, x))
                .collect(),
            my_posts: p
                .posts
                .mine
                .iter()
                .map(|(post, r)| own_item(site, slug, post.id, r))
                .collect(),
        }
    }
}

/// `rooms/settings.html`: a room's settings, or a new room (site admins).
#[derive(Debug, Clone, Serialize)]
pub struct RoomSettingsPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// Where the form goes.
    pub action: String,
    /// A new room (the admin's form, with parent and first manager).
    pub creating: bool,
    /// The form's values.
    pub form: RoomFormView,
    /// The roles a newcomer may get.
    pub roles: Vec<&'static str>,
    /// A new room's possible parents, in tree order (empty when editing).
    pub parents: Vec<ParentChoice>,
    /// Display names to pick the first manager from (empty when editing).
    pub people: Vec<String>,
    /// Field errors.
    pub errors: Errors,
}

/// A room a new room may go under.
#[derive(Debug, Clone, Serialize)]
pub struct ParentChoice {
    pub slug: String,
    pub name: String,
    /// Ideographic spaces, one per level it sits below the top (a `<select>` cannot be styled).
    pub indent: String,
    pub selected: bool,
}

impl Page for RoomSettingsPage {
    const TEMPLATE: &'static str = "rooms/settings.html";
}

impl RoomSettingsPage {
    /// The settings form at `action` (`/admin/rooms` makes a new room).
    pub fn new(layout: Layout, action: String, form: &RoomForm, errors: Errors) -> Self {
        Self {
            layout,
            creating: action == "/admin/rooms",
            action,
            form: room_form_view(form),
            roles: role_names(false),
            parents: Vec::new(),
            people: Vec::new(),
            errors,
        }
    }

    /// The new-room form's lists to pick the parent and the first manager from.
    #[must_use]
    pub fn with_choices(mut self, choices: &NewRoomChoices, form: &RoomForm) -> Self {
        let chosen = form.parent.trim();
        self.parents = choices
            .parents
            .iter()
            .map(|(slug, name, depth)| ParentChoice {
                slug: slug.clone(),
                name: name.clone(),
                indent: "\u{3000}".repeat(*depth),
                selected: slug == chosen,
            })
            .collect();
        self.people.clone_from(&choices.people);
        self
    }
}

/// `rooms/members.html`: members, requests, officers and invitations (managers).
#[derive(Debug, Clone, Serialize)]
pub struct RoomMembersPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The room.
    pub room: RoomItem,
    /// Its members, highest role first.
    pub members: Vec<MemberItem>,
    /// The logins of its safety officers.
    pub officers: Vec<String>,
    /// Join requests waiting.
    pub requests: Vec<RequestItem>,
    /// Open invitations.
    pub invitations: Vec<InvitationItem>,
    /// The room roles.
    pub roles: Vec<&'static str>,
    /// The manager's own login.
    pub me: String,
    /// Field errors of the add-member or invite form.
    pub errors: Errors,
    /// Display names of people who could be added, to pick by name.
    pub candidates: Vec<String>,
}

impl Page for RoomMembersPage {
    const TEMPLATE: &'static str = "rooms/members.html";
}

impl RoomMembersPage {
    /// The members page of `p`, seen by `me`.
    pub fn new(
        layout: Layout,
        site: &SiteSettings,
        p: &MembersPage,
        me: String,
        errors: Errors,
    ) -> Self {
        Self {
            layout,
            room: room_item(&p.ctx.room, p.ctx.access.role),
            members: member_items(&p.members),
            officers: p
                .members
                .iter()
                .filter(|m| p.officers.contains(&m.user_id))
                .map(|m| m.login.clone())
                .collect(),
            requests: request_items(site, &p.requests),
            invitations: invitation_items(site, &p.invitations),
            roles: role_names(true),
            me,
            errors,
            candidates: p.candidates.clone(),
        }
    }
}

/// `rooms/permissions.html`: the room's permission matrix, its adjustable cells as checkboxes.
#[derive(Debug, Clone, Serialize)]
pub struct PermissionsPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The room.
    pub room: RoomItem,
    /// The matrix.
    pub table: PermissionTable,
}

impl Page for PermissionsPage {
    const TEMPLATE: &'static str = "rooms/permissions.html";
}

impl PermissionsPage {
    /// The matrix of `ctx`'s room.
    pub fn new(layout: Layout, ctx: &RoomCtx, cells: &[Cell]) -> Self {
        Self {
            layout,
            room: room_item(&ctx.room, ctx.access.role),
            table: cells_view(cells),
        }
    }
}

/// `admin/rooms.html`: every room, for archiving and restoring.
#[derive(Debug, Clone, Serialize)]
pub struct AdminRoomsPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The rooms.
    pub rooms: Vec<RoomItem>,
}

impl Page for AdminRoomsPage {
    const TEMPLATE: &'static str = "admin/rooms.html";
}

/// `rooms/invite.html`: what an invitation link offers (join, log in first, or a new account).
#[derive(Debug, Clone, Serialize)]
pub struct InvitePage {
    /// The site layout (with the form token: the link works without a login).
    #[serde(flatten)]
    pub layout: Layout,
    /// The link's token.
    pub token: String,
    /// Why the link cannot be used (a translation key).
    pub problem: Option<&'static str>,
    /// The room's name.
    pub room_name: String,
    /// The role it gives.
    pub role: String,
    /// The invited address.
    pub email: String,
    /// An account has that address (log in to accept).
    pub account_exists: bool,
    /// The signup form's values.
    pub form: SignupView,
    /// Field errors of the signup form.
    pub errors: Errors,
}

impl Page for InvitePage {
    const TEMPLATE: &'static str = "rooms/invite.html";
}

/// The signup form's values (never the passwords).
#[derive(Debug, Clone, Default, Serialize)]
pub struct SignupView {
    pub login: String,
    pub display_name: String,
}

impl InvitePage {
    /// The page of the link `token` as `check` found it, for a visitor logged in or not.
    pub fn new(
        layout: Layout,
        logged_in: bool,
        token: String,
        check: &InviteCheck,
        form: SignupView,
        errors: Errors,
    ) -> Self {
        let open = match check {
            // Logged in as an account that does not own the invited address: say so, without
            // saying which address was invited (the link may have reached the wrong person).
            InviteCheck::Open {
                for_actor: false, ..
            } if logged_in => Err("invite.other_address"),
            InviteCheck::Open {
                invitation,
                room_name,
                account_exists,
                ..
            } => Ok((room_name, invitation, *account_exists)),
            InviteCheck::Invalid => Err("invite.invalid"),
            InviteCheck::Expired => Err("invite.expired"),
            InviteCheck::Used => Err("invite.used"),
        };
        let (problem, room_name, role, email, account_exists) = match open {
            Ok((room, invitation, exists)) => (
                None,
                room.clone(),
                invitation.role.to_string(),
                invitation.email.clone(),
                exists,
            ),
            Err(key) => (
                Some(key),
                String::new(),
                String::new(),
                String::new(),
                false,
            ),
        };
        Self {
            layout,
            token,
            problem,
            room_name,
            role,
            email,
            account_exists,
            form,
            errors,
        }
    }
}
