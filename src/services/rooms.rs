//! Rooms: listing what an actor may see, room homes, settings, membership and the permission
//! overrides. Every use case loads the room with the actor's access and calls `authorize_room` first.

use std::collections::HashMap;

use super::Actor;
use super::authz::{
    Action, JoinPolicy, RoomAccess, RoomAction, RoomPermission, RoomRole, Visibility, authorize,
    authorize_room, can_read_room, default_cell,
};
use crate::db::DbConn;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::room::{self, MemberRow, Room, RoomFields};
use crate::models::{audit, now, user};

/// Rooms nest at most this deep (a guard against a cycle in hand-edited data).
const MAX_DEPTH: usize = 8;
/// Default disk quota of a new room.
pub const DEFAULT_QUOTA_MB: i64 = 1024;
/// Features a room can switch on.
pub const FEATURES: [&str; 3] = ["blog", "files", "calendar"];

/// Whether `open` is the stored state of a room that is not 準備中.
fn is_open(room: &Room) -> bool {
    room.state == "open"
}

fn parse_overrides(rows: Vec<(String, String, bool)>) -> Vec<(RoomPermission, RoomRole, bool)> {
    rows.into_iter()
        .filter_map(|(p, r, a)| Some((RoomPermission::parse(&p)?, RoomRole::parse(&r)?, a)))
        .collect()
}

/// A room with the actor's access to it.
#[derive(Debug, Clone)]
pub struct RoomCtx {
    /// The room.
    pub room: Room,
    /// What `authorize_room` needs.
    pub access: RoomAccess,
}

fn access_for(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    room: &Room,
    depth: usize,
) -> AppResult<RoomAccess> {
    let role = match actor {
        Some(a) => room::role_in(conn, room.id, a.id)?
            .as_deref()
            .and_then(RoomRole::parse),
        None => None,
    };
    let parent_readable = match room.parent_id {
        Some(pid) if depth < MAX_DEPTH => {
            let parent = room::find(conn, pid)?;
            let parent_access = access_for(conn, actor, &parent, depth + 1)?;
            !parent.archived && can_read_room(actor, &parent_access)
        }
        Some(_) => false,
        None => true,
    };
    Ok(RoomAccess {
        visibility: Visibility::parse(&room.visibility).unwrap_or(Visibility::Closed),
        open: is_open(room),
        join_policy: JoinPolicy::parse(&room.join_policy).unwrap_or(JoinPolicy::Invite),
        role,
        overrides: parse_overrides(room::overrides(conn, room.id)?),
        parent_readable,
        safety_officer: match actor {
            Some(a) => room::is_safety_officer(conn, room.id, a.id)?,
            None => false,
        },
    })
}

/// Loads a room the actor may read (404 otherwise; archived rooms only for site admins).
pub fn load(conn: &mut DbConn, actor: Option<&Actor>, slug: &str) -> AppResult<RoomCtx> {
    let room = room::find_by_slug(conn, slug)?;
    if room.archived && !actor.is_some_and(|a| a.is_admin) {
        return Err(AppError::NotFound);
    }
    let access = access_for(conn, actor, &room, 0)?;
    authorize_room(actor, &access, RoomAction::Read)?;
    Ok(RoomCtx { room, access })
}

/// Loads a room and checks `action` on it.
pub fn load_for(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    action: RoomAction,
) -> AppResult<RoomCtx> {
    let ctx = load(conn, actor, slug)?;
    authorize_room(actor, &ctx.access, action)?;
    Ok(ctx)
}

/// A room as background work sees it, with no actor: `access.allows` answers the room's matrix
/// (with its overrides) for any role. Nothing is authorised by this; see `member_may_read`.
pub fn for_jobs(conn: &mut DbConn, room_id: i64) -> AppResult<RoomCtx> {
    let room = room::find(conn, room_id)?;
    let access = access_for(conn, None, &room, 0)?;
    Ok(RoomCtx { room, access })
}

/// Whether a member may read the room now (archived rooms, 準備中, parent rooms: everything
/// `load` checks), for deciding who is told about its content.
pub fn member_may_read(conn: &mut DbConn, member: &Actor, room: &Room) -> AppResult<bool> {
    if room.archived && !member.is_admin {
        return Ok(false);
    }
    let access = access_for(conn, Some(member), room, 0)?;
    Ok(authorize_room(Some(member), &access, RoomAction::Read).is_ok())
}

/// A room in a list, with the actor's role in it.
#[derive(Debug, Clone)]
pub struct RoomListItem {
    /// The room.
    pub room: Room,
    /// The actor's role, if a member.
    pub role: Option<RoomRole>,
}

/// Every active room the actor may read, parents before their sub-rooms.
pub fn list_visible(conn: &mut DbConn, actor: Option<&Actor>) -> AppResult<Vec<RoomListItem>> {
    let all = room::list_active(conn)?;
    let roles: HashMap<i64, RoomRole> = match actor {
        Some(a) => room::roles_of(conn, a.id)?
            .into_iter()
            .filter_map(|(id, r)| Some((id, RoomRole::parse(&r)?)))
            .collect(),
        None => HashMap::new(),
    };
    let by_id: HashMap<i64, &Room> = all.iter().map(|r| (r.id, r)).collect();
    let readable = |room: &Room, parent_readable: bool| {
        let access = RoomAccess {
            visibility: Visibility::parse(&room.visibility).unwrap_or(Visibility::Closed),
            open: is_open(room),
            join_policy: JoinPolicy::Invite,
            role: roles.get(&room.id).copied(),
            overrides: Vec::new(),
            parent_readable,
            safety_officer: false,
        };
        can_read_room(actor, &access)
    };
    let mut memo: HashMap<i64, bool> = HashMap::new();
    let mut items = Vec::new();
    for r in &all {
        // Walk up the chain: a room is listed only if every ancestor is readable too.
        let mut chain = vec![r];
        while let Some(pid) = chain.last().and_then(|c| c.parent_id) {
            match by_id.get(&pid) {
                Some(p) if chain.len() < MAX_DEPTH => chain.push(p),
                _ => break,
            }
        }
        let orphaned = chain.last().is_some_and(|top| top.parent_id.is_some());
        let mut ok = !orphaned;
        for room in chain.iter().rev() {
            ok = *memo
                .entry(room.id)
                .or_insert_with(|| ok && readable(room, ok));
        }
        if ok {
            items.push(RoomListItem {
                room: r.clone(),
                role: roles.get(&r.id).copied(),
            });
        }
    }
    Ok(items)
}

/// The room home: the room, its readable sub-rooms and (for its members) its members.
pub struct RoomHome {
    /// The room and access.
    pub ctx: RoomCtx,
    /// Sub-rooms the actor may read.
    pub children: Vec<Room>,
    /// Members (shown to members and site admins only).
    pub members: Vec<MemberRow>,
}

/// Loads a room home.
pub fn home(conn: &mut DbConn, actor: Option<&Actor>, slug: &str) -> AppResult<RoomHome> {
    let ctx = load(conn, actor, slug)?;
    let children = list_visible(conn, actor)?
        .into_iter()
        .filter(|i| i.room.parent_id == Some(ctx.room.id))
        .map(|i| i.room)
        .collect();
    let sees_members = authorize_room(actor, &ctx.access, RoomAction::ListMembers).is_ok();
    let members = if sees_members {
        sorted_members(conn, ctx.room.id)?
    } else {
        Vec::new()
    };
    Ok(RoomHome {
        ctx,
        children,
        members,
    })
}

fn sorted_members(conn: &mut DbConn, room_id: i64) -> AppResult<Vec<MemberRow>> {
    let mut members = room::members(conn, room_id)?;
    members.sort_by_key(|m| std::cmp::Reverse(RoomRole::parse(&m.role)));
    Ok(members)
}

/// The room settings form (create and edit).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct RoomForm {
    pub name: String,
    pub slug: String,
    #[serde(default)]
    pub description: String,
    pub visibility: String,
    pub state: String,
    pub default_role: String,
    pub join_policy: String,
    #[serde(default)]
    pub need_approval: Option<String>,
    /// Comments wait for approval.
    #[serde(default)]
    pub comment_approval: Option<String>,
    pub quota_mb: String,
    #[serde(default)]
    pub feature_blog: Option<String>,
    #[serde(default)]
    pub feature_files: Option<String>,
    #[serde(default)]
    pub feature_calendar: Option<String>,
    /// Only when an admin creates a room: the parent room's slug (empty = top level).
    #[serde(default)]
    pub parent: String,
    /// Only when an admin creates a room: the first manager's login.
    #[serde(default)]
    pub manager: String,
    /// The public space's settings fix its visibility and state (not a form field: the page
    /// sends them as hidden inputs, and `update_room` enforces them anyway).
    #[serde(skip)]
    pub public_space: bool,
}

impl RoomForm {
    /// The form filled from a room.
    pub fn from_room(r: &Room) -> Self {
        let on = |f: &str| {
            r.features
                .split(',')
                .any(|x| x == f)
                .then(|| "on".to_owned())
        };
        Self {
            public_space: r.is_public_space(),
            name: r.name.clone(),
            slug: r.slug.clone(),
            description: r.description.clone(),
            visibility: r.visibility.clone(),
            state: r.state.clone(),
            default_role: r.default_role.clone(),
            join_policy: r.join_policy.clone(),
            need_approval: r.need_approval.then(|| "on".to_owned()),
            comment_approval: r.comment_approval.then(|| "on".to_owned()),
            quota_mb: (r.quota_bytes / (1024 * 1024)).to_string(),
            feature_blog: on("blog"),
            feature_files: on("files"),
            feature_calendar: on("calendar"),
            parent: String::new(),
            manager: String::new(),
        }
    }

    /// Defaults for a new room.
    pub fn new_room() -> Self {
        Self {
            visibility: "members".into(),
            state: "open".into(),
            default_role: "member".into(),
            join_policy: "invite".into(),
            quota_mb: DEFAULT_QUOTA_MB.to_string(),
            feature_blog: Some("on".into()),
            feature_files: Some("on".into()),
            feature_calendar: Some("on".into()),
            ..Self::default()
        }
    }
}

/// Whether a room slug is acceptable: 2–40 of `a-z 0-9 -`, not starting or ending with `-`.
pub fn valid_slug(slug: &str) -> bool {
    (2..=40).contains(&slug.len())
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

struct CleanRoom {
    name: String,
    slug: String,
    description: String,
    visibility: Visibility,
    open: bool,
    default_role: RoomRole,
    join_policy: JoinPolicy,
    need_approval: bool,
    comment_approval: bool,
    quota_bytes: i64,
    features: String,
}

fn validate(conn: &mut DbConn, form: &RoomForm, except: Option<i64>) -> AppResult<CleanRoom> {
    let mut e = FieldErrors::default();
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        e.add("name", "error.title_length");
    }
    let slug = form.slug.trim().to_lowercase();
    if !valid_slug(&slug) {
        e.add("slug", "room.slug_format");
    } else if room::slug_taken(conn, &slug, except)? {
        e.add("slug", "room.slug_taken");
    }
    if form.description.chars().count() > 2000 {
        e.add("description", "error.too_long");
    }
    let visibility = Visibility::parse(&form.visibility);
    if visibility.is_none() {
        e.add("visibility", "error.invalid_choice");
    }
    let open = match form.state.as_str() {
        "open" => true,
        "preparing" => false,
        _ => {
            e.add("state", "error.invalid_choice");
            true
        }
    };
    let default_role = RoomRole::parse(&form.default_role).filter(|r| *r != RoomRole::Manager);
    if default_role.is_none() {
        e.add("default_role", "error.invalid_choice");
    }
    let join_policy = JoinPolicy::parse(&form.join_policy);
    if join_policy.is_none() {
        e.add("join_policy", "error.invalid_choice");
    }
    let quota_mb = form
        .quota_mb
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|q| (1..=10_000_000).contains(q));
    if quota_mb.is_none() {
        e.add("quota_mb", "room.quota_format");
    }
    e.into_result()?;
    let mut features = Vec::new();
    for (name, value) in [
        ("blog", &form.feature_blog),
        ("files", &form.feature_files),
        ("calendar", &form.feature_calendar),
    ] {
        if value.is_some() {
            features.push(name);
        }
    }
    Ok(CleanRoom {
        name,
        slug,
        description: form.description.trim().to_owned(),
        visibility: visibility.unwrap_or(Visibility::Closed),
        open,
        default_role: default_role.unwrap_or(RoomRole::Guest),
        join_policy: join_policy.unwrap_or(JoinPolicy::Invite),
        need_approval: form.need_approval.is_some(),
        comment_approval: form.comment_approval.is_some(),
        quota_bytes: quota_mb.unwrap_or(DEFAULT_QUOTA_MB) * 1024 * 1024,
        features: features.join(","),
    })
}

fn fields(c: &CleanRoom) -> RoomFields<'_> {
    RoomFields {
        slug: &c.slug,
        name: &c.name,
        description: &c.description,
        visibility: c.visibility.as_str(),
        state: if c.open { "open" } else { "preparing" },
        default_role: c.default_role.as_str(),
        join_policy: c.join_policy.as_str(),
        need_approval: c.need_approval,
        comment_approval: c.comment_approval,
        quota_bytes: c.quota_bytes,
        features: &c.features,
        updated_at: now(),
    }
}

/// Creates a room (site admins), optionally under a parent and with a first manager; returns its slug.
pub fn create_room(conn: &mut DbConn, actor: &Actor, form: &RoomForm) -> AppResult<String> {
    authorize(Some(actor), Action::Administer)?;
    let clean = validate(conn, form, None)?;
    let mut e = FieldErrors::default();
    let parent_id = if form.parent.trim().is_empty() {
        None
    } else {
        let parent = room::find_by_slug_opt(conn, form.parent.trim())?;
        if parent.is_none() {
            e.add("parent", "room.unknown_room");
        }
        parent.map(|p| p.id)
    };
    let manager = if form.manager.trim().is_empty() {
        None
    } else {
        let m = user::find_by_login_opt(conn, form.manager.trim())?.filter(|u| !u.disabled);
        if m.is_none() {
            e.add("manager", "room.unknown_login");
        }
        m
    };
    e.into_result()?;
    let at = now();
    let id = room::insert(conn, &fields(&clean), parent_id, at)?;
    if let Some(m) = manager {
        room::set_member(conn, id, m.id, RoomRole::Manager.as_str(), at)?;
    }
    audit::record(conn, Some(actor.id), "room.created", &clean.slug, None)?;
    Ok(clean.slug)
}

/// Saves a room's settings (its managers and site admins); returns the (possibly new) slug.
pub fn update_room(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    form: &RoomForm,
) -> AppResult<String> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Manage)?;
    let mut clean = validate(conn, form, Some(ctx.room.id))?;
    if ctx.room.is_public_space() {
        // The public space is the site's blog: anyone may read it and it always has posts.
        clean.visibility = Visibility::Public;
        clean.open = true;
        if !clean.features.split(',').any(|f| f == "blog") {
            clean.features = if clean.features.is_empty() {
                "blog".to_owned()
            } else {
                format!("blog,{}", clean.features)
            };
        }
    }
    room::update(conn, ctx.room.id, &fields(&clean))?;
    audit::record(conn, Some(actor.id), "room.updated", &clean.slug, None)?;
    Ok(clean.slug)
}

/// Archives or restores a room (site admins).
pub fn set_archived(conn: &mut DbConn, actor: &Actor, slug: &str, archived: bool) -> AppResult<()> {
    authorize(Some(actor), Action::Administer)?;
    let r = room::find_by_slug(conn, slug)?;
    if r.is_public_space() && archived {
        return Err(AppError::Conflict("room.public_space_stays"));
    }
    room::set_archived(conn, r.id, archived)?;
    let action = if archived {
        "room.archived"
    } else {
        "room.restored"
    };
    audit::record(conn, Some(actor.id), action, &r.slug, None)?;
    Ok(())
}

/// Every room for the admin list.
pub fn all_rooms(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<Room>> {
    authorize(Some(actor), Action::Administer)?;
    Ok(room::list_all(conn)?)
}

/// What a join did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JoinOutcome {
    /// The actor is now a member (open rooms).
    Joined,
    /// A request waits for a manager (request rooms); the managers were mailed.
    Requested,
}

fn newcomer_role(room: &Room) -> RoomRole {
    RoomRole::parse(&room.default_role)
        .filter(|r| *r != RoomRole::Manager)
        .unwrap_or(RoomRole::Guest)
}

/// Joins an open room with its default role, or asks to join a room that takes requests.
pub fn join(
    core: &super::Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    message: &str,
) -> AppResult<JoinOutcome> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Join)?;
    if ctx.access.join_policy == JoinPolicy::Open {
        room::set_member(
            conn,
            ctx.room.id,
            actor.id,
            newcomer_role(&ctx.room).as_str(),
            now(),
        )?;
        audit::record(conn, Some(actor.id), "room.joined", &ctx.room.slug, None)?;
        return Ok(JoinOutcome::Joined);
    }
    let message: String = message.trim().chars().take(500).collect();
    if room::request_join(conn, ctx.room.id, actor.id, &message, now())? {
        let who = user::find(conn, actor.id)?;
        let link = format!("{}/rooms/{}/members", core.config.base_url(), ctx.room.slug);
        for manager in room::contacts(conn, ctx.room.id)?
            .into_iter()
            .filter(|m| m.role == RoomRole::Manager.as_str())
        {
            let lang = manager
                .language
                .as_deref()
                .and_then(crate::i18n::Lang::parse)
                .unwrap_or_default();
            let mut c = tera::Context::new();
            c.insert("name", &manager.display_name);
            c.insert("who", &who.display_name);
            c.insert("room", &ctx.room.name);
            c.insert("message", &message);
            c.insert("link", &link);
            super::mail::queue(
                conn,
                &core.templates,
                "join_request",
                lang,
                Some(manager.user_id),
                &manager.email,
                c,
            )?;
        }
        core.mail_wakeup.notify_one();
        audit::record(
            conn,
            Some(actor.id),
            "room.join_requested",
            &ctx.room.slug,
            None,
        )?;
    }
    Ok(JoinOutcome::Requested)
}

/// Whether the actor has a pending request for a room.
pub fn has_pending_request(conn: &mut DbConn, actor: &Actor, room_id: i64) -> AppResult<bool> {
    Ok(room::has_request(conn, room_id, actor.id)?)
}

/// Approves (the requester joins with the room's default role) or declines a join request (managers).
pub fn decide_request(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    login: &str,
    approve: bool,
) -> AppResult<()> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Manage)?;
    let target = user::find_by_login(conn, login)?;
    if room::remove_request(conn, ctx.room.id, target.id)? == 0 {
        return Err(AppError::NotFound);
    }
    if approve {
        room::set_member(
            conn,
            ctx.room.id,
            target.id,
            newcomer_role(&ctx.room).as_str(),
            now(),
        )?;
    }
    let action = if approve {
        "room.request_approved"
    } else {
        "room.request_declined"
    };
    audit::record(
        conn,
        Some(actor.id),
        action,
        &format!("{} {}", ctx.room.slug, target.login),
        None,
    )?;
    Ok(())
}

fn ensure_not_last_manager(conn: &mut DbConn, room_id: i64, role: Option<&str>) -> AppResult<()> {
    if role == Some(RoomRole::Manager.as_str())
        && room::count_with_role(conn, room_id, RoomRole::Manager.as_str())? <= 1
    {
        return Err(AppError::Conflict("room.last_manager"));
    }
    Ok(())
}

/// Leaves a room (the last manager cannot: a room always keeps one).
pub fn leave(conn: &mut DbConn, actor: &Actor, slug: &str) -> AppResult<()> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Leave)?;
    ensure_not_last_manager(conn, ctx.room.id, ctx.access.role.map(RoomRole::as_str))?;
    room::remove_member(conn, ctx.room.id, actor.id)?;
    audit::record(conn, Some(actor.id), "room.left", &ctx.room.slug, None)?;
    Ok(())
}

/// What the members page shows (managers and site admins).
pub struct MembersPage {
    /// The room.
    pub ctx: RoomCtx,
    /// Its members, highest role first.
    pub members: Vec<MemberRow>,
    /// Join requests waiting for a manager.
    pub requests: Vec<room::JoinRequestRow>,
    /// The user ids of its safety officers.
    pub officers: Vec<i64>,
}

/// Loads the members page.
pub fn members_page(conn: &mut DbConn, actor: &Actor, slug: &str) -> AppResult<MembersPage> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Manage)?;
    Ok(MembersPage {
        members: sorted_members(conn, ctx.room.id)?,
        requests: room::requests(conn, ctx.room.id)?,
        officers: room::safety_officers(conn, ctx.room.id)?,
        ctx,
    })
}

/// Adds an account to the room with a role (managers).
pub fn add_member(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    login: &str,
    role: &str,
) -> AppResult<()> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Manage)?;
    let mut e = FieldErrors::default();
    let target = user::find_by_login_opt(conn, login.trim())?.filter(|u| !u.disabled);
    if target.is_none() {
        e.add("login", "room.unknown_login");
    }
    let role = RoomRole::parse(role);
    if role.is_none() {
        e.add("role", "error.invalid_choice");
    }
    e.into_result()?;
    let (Some(target), Some(role)) = (target, role) else {
        return Err(AppError::Invalid(FieldErrors::default()));
    };
    if room::role_in(conn, ctx.room.id, target.id)?.is_some() {
        let mut e = FieldErrors::default();
        e.add("login", "room.already_member");
        return Err(AppError::Invalid(e));
    }
    room::set_member(conn, ctx.room.id, target.id, role.as_str(), now())?;
    audit::record(
        conn,
        Some(actor.id),
        "room.member_added",
        &format!("{} {} {}", ctx.room.slug, target.login, role.as_str()),
        None,
    )?;
    Ok(())
}

/// Changes a member's role or removes them (managers). The last manager keeps their role.
pub fn change_member(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    login: &str,
    new_role: Option<RoomRole>,
) -> AppResult<()> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Manage)?;
    let target = user::find_by_login(conn, login)?;
    let current = room::role_in(conn, ctx.room.id, target.id)?.ok_or(AppError::NotFound)?;
    if new_role != Some(RoomRole::Manager) {
        ensure_not_last_manager(conn, ctx.room.id, Some(&current))?;
    }
    match new_role {
        Some(role) => room::set_member(conn, ctx.room.id, target.id, role.as_str(), now())?,
        None => room::remove_member(conn, ctx.room.id, target.id)?,
    }
    let detail = format!(
        "{} {} {}",
        ctx.room.slug,
        target.login,
        new_role.map_or("removed", RoomRole::as_str)
    );
    audit::record(conn, Some(actor.id), "room.member_changed", &detail, None)?;
    Ok(())
}

/// One adjustable cell of the matrix, for the permissions page.
#[derive(Debug, Clone)]
pub struct Cell {
    /// The permission.
    pub permission: RoomPermission,
    /// The role.
    pub role: RoomRole,
    /// Allowed in this room now.
    pub allowed: bool,
    /// The manager may change it.
    pub adjustable: bool,
}

/// The room's whole matrix (managers).
pub fn permissions_page(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
) -> AppResult<(RoomCtx, Vec<Cell>)> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Manage)?;
    let mut cells = Vec::new();
    for permission in RoomPermission::ALL {
        for role in RoomRole::ALL.iter().rev() {
            cells.push(Cell {
                permission,
                role: *role,
                allowed: ctx.access.allows(*role, permission),
                adjustable: default_cell(*role, permission).1,
            });
        }
    }
    Ok((ctx, cells))
}

/// Saves the adjustable cells from a submitted set of `permission:role` keys that are switched on.
/// Fixed cells cannot be changed, whatever the form says.
pub fn save_permissions(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    on: &[String],
) -> AppResult<()> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Manage)?;
    let mut cells = Vec::new();
    for permission in RoomPermission::ALL {
        for role in RoomRole::ALL {
            let (default, adjustable) = default_cell(role, permission);
            if !adjustable {
                continue;
            }
            let allowed = on
                .iter()
                .any(|k| *k == format!("{}:{}", permission.as_str(), role.as_str()));
            if allowed != default {
                cells.push((permission.as_str(), role.as_str(), allowed));
            }
        }
    }
    room::set_overrides(conn, ctx.room.id, &cells)?;
    audit::record(
        conn,
        Some(actor.id),
        "room.permissions_changed",
        &ctx.room.slug,
        None,
    )?;
    Ok(())
}

/// Whether the approval inbox can hold anything for this person (the navigation's 承認 link): a
/// site admin, or someone `authorize_room` lets publish in at least one room they belong to, with
/// that room's overrides. Only rooms where their role could publish at all are asked.
pub fn may_approve_somewhere(conn: &mut DbConn, actor: &Actor) -> AppResult<bool> {
    if actor.is_admin {
        return Ok(true);
    }
    let roles: Vec<&str> = super::authz::roles_that_may_publish()
        .into_iter()
        .map(RoomRole::as_str)
        .collect();
    for room in room::rooms_with_role(conn, actor.id, &roles)? {
        let access = access_for(conn, Some(actor), &room, 0)?;
        if authorize_room(Some(actor), &access, RoomAction::Publish).is_ok() {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The slug of a member's private room.
pub fn private_slug(user_id: i64) -> String {
    format!("my-{user_id}")
}

/// The actor's private room (マイルーム), created on first use when the site allows private rooms:
/// closed, invite-only, its owner the manager. Returns its slug.
pub fn private_room(
    conn: &mut DbConn,
    actor: &Actor,
    name: &str,
    allowed: bool,
) -> AppResult<String> {
    if !allowed {
        return Err(AppError::NotFound);
    }
    let slug = private_slug(actor.id);
    if room::find_by_slug_opt(conn, &slug)?.is_some() {
        return Ok(slug);
    }
    let at = now();
    let fields = RoomFields {
        slug: &slug,
        name,
        description: "",
        visibility: Visibility::Closed.as_str(),
        state: "open",
        default_role: RoomRole::Guest.as_str(),
        join_policy: JoinPolicy::Invite.as_str(),
        need_approval: false,
        comment_approval: false,
        quota_bytes: DEFAULT_QUOTA_MB * 1024 * 1024,
        features: "blog,files,calendar",
        updated_at: at,
    };
    let id = room::insert(conn, &fields, None, at)?;
    room::set_space(conn, id, room::PRIVATE_SPACE)?;
    room::set_member(conn, id, actor.id, RoomRole::Manager.as_str(), at)?;
    audit::record(conn, Some(actor.id), "room.private_created", &slug, None)?;
    Ok(slug)
}
