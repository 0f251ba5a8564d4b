//! Rooms: listing what an actor may see, room homes, settings, membership and the permission
//! overrides. Every use case loads the room with the actor's access and calls `authorize_room` first.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

use super::Actor;
use super::authz::{
    Action, JoinPolicy, RoomAccess, RoomAction, RoomCapabilities, RoomPermission, RoomRole,
    Visibility, authorize, authorize_membership_change, authorize_room, can_read_room,
    capabilities, default_cell,
};
use crate::db::DbConn;
use crate::db::types::{Feature, Features, RoomState};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::invitation::{self, Invitation};
use crate::models::nav::NavRow;
use crate::models::room::{self, RoomFields};
/// The rows room pages show (pages name them through this service, never through `models`).
pub use crate::models::room::{JoinRequestRow, MemberRow, Room};
use crate::models::{audit, now, user};

/// Rooms nest at most this deep (a guard against a cycle in hand-edited data).
pub const MAX_DEPTH: usize = 8;
/// Default disk quota of a new room.
pub const DEFAULT_QUOTA_MB: i64 = 1024;
/// Features a room can switch on.
pub const FEATURES: [&str; 3] = ["blog", "files", "calendar"];

/// Whether `open` is the stored state of a room that is not 準備中.
fn is_open(room: &Room) -> bool {
    room.state == RoomState::Open
}

/// A room with the actor's access to it.
#[derive(Debug, Clone)]
pub struct RoomCtx {
    /// The room.
    pub room: Room,
    /// What `authorize_room` needs.
    pub access: RoomAccess,
    /// What the actor may do there (`authz::capabilities`), for the pages that offer it.
    pub can: RoomCapabilities,
}

impl RoomCtx {
    fn new(actor: Option<&Actor>, room: Room, access: RoomAccess) -> Self {
        let can = capabilities(actor, &access);
        Self { room, access, can }
    }
}

fn access_for(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    room: &Room,
    depth: usize,
) -> AppResult<RoomAccess> {
    let role = match actor {
        Some(a) => room::role_in(conn, room.id, a.id)?,
        None => None,
    };
    let parent_readable = match room.parent_id {
        Some(pid) if depth < MAX_DEPTH => {
            let parent = room::find(conn, pid)?;
            let parent_access = access_for(conn, actor, &parent, depth + 1)?;
            can_read_room(actor, &parent_access)
        }
        Some(_) => false,
        None => true,
    };
    let overrides = room::overrides(conn, room.id)?;
    let safety_officer = match actor {
        Some(a) => room::is_safety_officer(conn, room.id, a.id)?,
        None => false,
    };
    Ok(room_access(
        room,
        role,
        overrides,
        parent_readable,
        safety_officer,
    ))
}

/// What `authorize_room` needs of a room, from the facts about the actor there.
fn room_access(
    room: &Room,
    role: Option<RoomRole>,
    overrides: Vec<(RoomPermission, RoomRole, bool)>,
    parent_readable: bool,
    safety_officer: bool,
) -> RoomAccess {
    RoomAccess {
        visibility: room.visibility,
        open: is_open(room),
        join_policy: room.join_policy,
        role,
        overrides,
        parent_readable,
        safety_officer,
        archived: room.archived,
        features: room.features,
    }
}

/// The rooms `wanted` picks (archived ones included, in `list_all`'s order) that the actor may
/// read, each with its access: the same answers as `readable` one by one, from four queries
/// however many rooms there are (walks over a member's rooms once ran three or four per room).
pub fn readable_many(
    conn: &mut DbConn,
    actor: &Actor,
    wanted: impl Fn(&Room) -> bool,
) -> AppResult<Vec<RoomCtx>> {
    let listed = room::list_all(conn)?;
    let candidates: Vec<Room> = listed.iter().filter(|r| wanted(r)).cloned().collect();
    let all: HashMap<i64, Room> = listed.into_iter().map(|r| (r.id, r)).collect();
    let roles: HashMap<i64, RoomRole> = room::roles_of(conn, actor.id)?.into_iter().collect();
    let officer: std::collections::HashSet<i64> =
        room::officer_rooms(conn, actor.id)?.into_iter().collect();
    let overrides = room::all_overrides(conn)?;
    let facts = |room: &Room, overrides: Vec<_>, parent_readable| {
        room_access(
            room,
            roles.get(&room.id).copied(),
            overrides,
            parent_readable,
            officer.contains(&room.id),
        )
    };
    // As `access_for`: a parent counts as readable only if its own parent is, to MAX_DEPTH.
    let parent_readable = |room: &Room| {
        let mut chain = Vec::new();
        let mut at = room.parent_id;
        let mut readable = true;
        while let Some(pid) = at {
            if chain.len() == MAX_DEPTH {
                readable = false;
                break;
            }
            let Some(parent) = all.get(&pid) else {
                readable = false;
                break;
            };
            chain.push(parent);
            at = parent.parent_id;
        }
        for parent in chain.iter().rev() {
            let theirs = overrides.get(&parent.id).cloned().unwrap_or_default();
            readable = readable && can_read_room(Some(actor), &facts(parent, theirs, readable));
        }
        readable
    };
    let mut out = Vec::new();
    for room in candidates {
        let above = parent_readable(&room);
        let own = overrides.get(&room.id).cloned().unwrap_or_default();
        let access = facts(&room, own, above);
        if can_read_room(Some(actor), &access) {
            out.push(RoomCtx::new(Some(actor), room, access));
        }
    }
    Ok(out)
}

/// Loads a room the actor may read (404 otherwise), with what they may do in it.
pub fn load(conn: &mut DbConn, actor: Option<&Actor>, slug: &str) -> AppResult<RoomCtx> {
    let room = room::find_by_slug(conn, slug)?;
    let access = access_for(conn, actor, &room, 0)?;
    authorize_room(actor, &access, RoomAction::Read)?;
    Ok(RoomCtx::new(actor, room, access))
}

/// A room with the actor's access when the actor may read it, `None` when not: for walks over many
/// rooms, where one unreadable room (準備中, behind a parent the actor cannot read, archived) must be
/// skipped, not turn the whole page into a 404.
pub fn readable(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    room: Room,
) -> AppResult<Option<RoomCtx>> {
    let access = access_for(conn, actor, &room, 0)?;
    Ok(can_read_room(actor, &access).then(|| RoomCtx::new(actor, room, access)))
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
    Ok(RoomCtx::new(None, room, access))
}

/// Whether a member may read the room now (archived rooms, 準備中, parent rooms: everything
/// `load` checks), for deciding who is told about its content.
pub fn member_may_read(conn: &mut DbConn, member: &Actor, room: &Room) -> AppResult<bool> {
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
    /// How deep it sits under top-level rooms (0: a top-level room).
    pub depth: usize,
}

/// Every active room the actor may read, parents before their sub-rooms.
pub fn list_visible(conn: &mut DbConn, actor: Option<&Actor>) -> AppResult<Vec<RoomListItem>> {
    let all = room::list_active(conn)?;
    let roles: HashMap<i64, RoomRole> = match actor {
        Some(a) => room::roles_of(conn, a.id)?.into_iter().collect(),
        None => HashMap::new(),
    };
    let by_id: HashMap<i64, &Room> = all.iter().map(|r| (r.id, r)).collect();
    let readable = |room: &Room, parent_readable: bool| {
        let access = RoomAccess {
            visibility: room.visibility,
            open: is_open(room),
            join_policy: JoinPolicy::Invite,
            role: roles.get(&room.id).copied(),
            overrides: Vec::new(),
            parent_readable,
            safety_officer: false,
            archived: room.archived,
            features: Features::NONE,
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
                depth: chain.len() - 1,
            });
        }
    }
    Ok(as_tree(items))
}

/// `items` (in the order rooms are listed: the public space, then by name) rearranged so that
/// every room comes right after its parent, before the parent's next sibling: a list that draws
/// sub-rooms indented then shows each under its own parent.
fn as_tree(items: Vec<RoomListItem>) -> Vec<RoomListItem> {
    let ids: std::collections::HashSet<i64> = items.iter().map(|i| i.room.id).collect();
    let mut children: HashMap<Option<i64>, Vec<RoomListItem>> = HashMap::new();
    for item in items {
        // A listed room's parent is listed too (a room shows only under readable parents).
        let parent = item.room.parent_id.filter(|p| ids.contains(p));
        children.entry(parent).or_default().push(item);
    }
    let mut out = Vec::with_capacity(ids.len());
    let mut stack: Vec<RoomListItem> = children.remove(&None).unwrap_or_default();
    stack.reverse();
    while let Some(item) = stack.pop() {
        if let Some(mut kids) = children.remove(&Some(item.room.id)) {
            kids.reverse();
            stack.extend(kids);
        }
        out.push(item);
    }
    out
}

/// The room home: the room, its readable sub-rooms and (for its members) its members.
pub struct RoomHome {
    /// The room and access.
    pub ctx: RoomCtx,
    /// Sub-rooms the actor may read.
    pub children: Vec<Room>,
    /// Members (shown to members and site admins only).
    pub members: Vec<MemberRow>,
    /// The actor asked to join and waits for a manager.
    pub request_pending: bool,
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
    let request_pending = match actor {
        Some(a) if ctx.can.request => room::has_request(conn, ctx.room.id, a.id)?,
        _ => false,
    };
    Ok(RoomHome {
        ctx,
        children,
        members,
        request_pending,
    })
}

fn sorted_members(conn: &mut DbConn, room_id: i64) -> AppResult<Vec<MemberRow>> {
    let mut members = room::members(conn, room_id)?;
    members.sort_by_key(|m| std::cmp::Reverse(m.role));
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
    /// The quota is shown, not edited: only site admins decide it (not a form field; `update_room`
    /// keeps the room's quota for anyone else, whatever the form says).
    #[serde(skip)]
    pub quota_locked: bool,
}

impl RoomForm {
    /// The form filled from a room and its (parsed) features.
    pub fn from_room(r: &Room, features: Features) -> Self {
        let on = |f| features.has(f).then(|| "on".to_owned());
        Self {
            public_space: r.is_public_space(),
            name: r.name.clone(),
            slug: r.slug.clone(),
            description: r.description.clone(),
            visibility: r.visibility.to_string(),
            state: r.state.to_string(),
            default_role: r.default_role.to_string(),
            join_policy: r.join_policy.to_string(),
            need_approval: r.need_approval.then(|| "on".to_owned()),
            comment_approval: r.comment_approval.then(|| "on".to_owned()),
            quota_mb: (r.quota_bytes / (1024 * 1024)).to_string(),
            feature_blog: on(Feature::Blog),
            feature_files: on(Feature::Files),
            feature_calendar: on(Feature::Calendar),
            parent: String::new(),
            manager: String::new(),
            quota_locked: false,
        }
    }

    /// `typed` (a form sent back to be fixed) with what only the room decides taken from this one
    /// (the public space's fixed fields, the locked quota).
    #[must_use]
    pub fn with_typed(self, typed: RoomForm) -> Self {
        Self {
            public_space: self.public_space,
            quota_locked: self.quota_locked,
            ..typed
        }
    }

    /// Defaults for a new room.
    pub fn new_room() -> Self {
        Self {
            visibility: Visibility::Members.to_string(),
            state: RoomState::Open.to_string(),
            default_role: RoomRole::Member.to_string(),
            join_policy: JoinPolicy::Invite.to_string(),
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
    (2..=40).contains(&slug.chars().count())
        && slug
            .chars()
            .all(|c| (c.is_alphanumeric() && !c.is_uppercase()) || c == '-')
        && !slug.starts_with('-')
        && !slug.ends_with('-')
}

/// An address for a room named `name` when its form left the address empty: made from the name as
/// a post's is (Japanese kept: 「3年2組」 → `3年2組`), `room` when the name gives too little, and
/// `-2`, `-3`, … when it is taken.
fn address_from_name(conn: &mut DbConn, name: &str, except: Option<i64>) -> AppResult<String> {
    let mut base: String = super::post_address::slugify(name)
        .chars()
        .take(36)
        .collect();
    base = base.trim_end_matches('-').to_owned();
    if !valid_slug(&base) || base.starts_with(PRIVATE_PREFIX) {
        "room".clone_into(&mut base);
    }
    let mut slug = base.clone();
    let mut n = 2;
    while room::slug_taken(conn, &slug, except)? {
        slug = format!("{base}-{n}");
        n += 1;
    }
    Ok(slug)
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
    features: Features,
}

/// Checks a settings form. `quota_allowed`: whether the quota field counts (only for those who may
/// set it; for anyone else the caller keeps the room's quota).
fn validate(
    conn: &mut DbConn,
    form: &RoomForm,
    except: Option<i64>,
    quota_allowed: bool,
) -> AppResult<CleanRoom> {
    let mut e = FieldErrors::default();
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        e.add("name", "error.title_length");
    }
    // NFKC, so a full-width 「３年２組」 typed as the address is the same room as 「3年2組」.
    let typed: String = form.slug.trim().nfkc().collect::<String>().to_lowercase();
    let slug = if typed.is_empty() {
        address_from_name(conn, &name, except)?
    } else {
        typed
    };
    let current = match except {
        Some(id) => Some(room::find(conn, id)?.slug),
        None => None,
    };
    if !valid_slug(&slug) {
        e.add("slug", "room.slug_format");
    } else if slug_reserved(&slug, current.as_deref()) {
        e.add("slug", "room.slug_reserved");
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
    let state = RoomState::parse(&form.state);
    if state.is_none() {
        e.add("state", "error.invalid_choice");
    }
    let open = state.is_none_or(|s| s == RoomState::Open);
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
    if quota_mb.is_none() && quota_allowed {
        e.add("quota_mb", "room.quota_format");
    }
    e.into_result()?;
    let mut features = Features::NONE;
    for (feature, value) in [
        (Feature::Blog, &form.feature_blog),
        (Feature::Files, &form.feature_files),
        (Feature::Calendar, &form.feature_calendar),
    ] {
        if value.is_some() {
            features = features.with(feature);
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
        features,
    })
}

fn fields(c: &CleanRoom) -> RoomFields<'_> {
    RoomFields {
        slug: &c.slug,
        name: &c.name,
        description: &c.description,
        visibility: c.visibility.as_str(),
        state: if c.open {
            RoomState::Open.as_str()
        } else {
            RoomState::Preparing.as_str()
        },
        default_role: c.default_role.as_str(),
        join_policy: c.join_policy.as_str(),
        need_approval: c.need_approval,
        comment_approval: c.comment_approval,
        quota_bytes: c.quota_bytes,
        features: c.features.to_string(),
        updated_at: now(),
    }
}

/// An enabled account picked from a list of display names or typed: its login, or a display name
/// exactly one enabled account has.
fn find_person(conn: &mut DbConn, typed: &str) -> AppResult<Option<user::User>> {
    let typed = typed.trim();
    if let Some(u) = user::find_by_login_opt(conn, typed)?.filter(|u| !u.disabled) {
        return Ok(Some(u));
    }
    let mut named = user::find_active_by_display_name(conn, typed)?;
    Ok(if named.len() == 1 { named.pop() } else { None })
}

/// What the admin's new-room form offers to pick from.
pub struct NewRoomChoices {
    /// Rooms a new room may go under, in tree order: `(slug, name, depth)` (private rooms and
    /// archived rooms are not parents).
    pub parents: Vec<(String, String, usize)>,
    /// Enabled accounts' display names, for the first manager.
    pub people: Vec<String>,
}

/// The parents and people the admin's new-room form lists (site admins).
pub fn new_room_choices(conn: &mut DbConn, actor: &Actor) -> AppResult<NewRoomChoices> {
    authorize(Some(actor), Action::Administer)?;
    let parents = list_visible(conn, Some(actor))?
        .into_iter()
        .filter(|i| i.room.owner_id.is_none() && !i.room.archived)
        .map(|i| (i.room.slug, i.room.name, i.depth))
        .collect();
    let people = user::directory(conn)?
        .into_iter()
        .map(|(_, name)| name)
        .collect();
    Ok(NewRoomChoices { parents, people })
}

/// Creates a room (site admins), optionally under a parent and with a first manager; returns its slug.
pub fn create_room(conn: &mut DbConn, actor: &Actor, form: &RoomForm) -> AppResult<String> {
    authorize(Some(actor), Action::Administer)?;
    let quota_allowed = authorize(Some(actor), Action::SetRoomQuota).is_ok();
    let clean = validate(conn, form, None, quota_allowed)?;
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
        let m = find_person(conn, &form.manager)?;
        if m.is_none() {
            e.add("manager", "room.unknown_login");
        }
        m
    };
    e.into_result()?;
    let at = now();
    let id = room::insert(conn, &fields(&clean), parent_id, at)?;
    if let Some(m) = manager {
        room::set_member(conn, id, m.id, RoomRole::Manager, at)?;
    }
    audit::record(conn, Some(actor.id), "room.created", &clean.slug, None)?;
    Ok(clean.slug)
}

/// The settings form of a room (its managers and site admins), filled from the room, with the
/// quota shown but locked for those who may not set it.
pub fn settings_form(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
) -> AppResult<(RoomCtx, RoomForm)> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Manage)?;
    let mut form = RoomForm::from_room(&ctx.room, ctx.access.features);
    form.quota_locked = authorize(Some(actor), Action::SetRoomQuota).is_err();
    Ok((ctx, form))
}

/// Saves a room's settings (its managers and site admins); returns the (possibly new) slug.
pub fn update_room(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    form: &RoomForm,
) -> AppResult<String> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Manage)?;
    let quota_allowed = authorize(Some(actor), Action::SetRoomQuota).is_ok();
    let mut clean = validate(conn, form, Some(ctx.room.id), quota_allowed)?;
    if !quota_allowed {
        clean.quota_bytes = ctx.room.quota_bytes;
    }
    if ctx.room.is_public_space() {
        // The public space is the site's blog: anyone may read it and it always has posts.
        clean.visibility = Visibility::Public;
        clean.open = true;
        clean.features = clean.features.with(Feature::Blog);
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

/// The role a newcomer gets: the room's default, which is never manager (the settings form refuses
/// it; a manager is made only on purpose).
fn newcomer_role(room: &Room) -> RoomRole {
    if room.default_role == RoomRole::Manager {
        RoomRole::Guest
    } else {
        room.default_role
    }
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
        room::set_member(conn, ctx.room.id, actor.id, newcomer_role(&ctx.room), now())?;
        audit::record(conn, Some(actor.id), "room.joined", &ctx.room.slug, None)?;
        return Ok(JoinOutcome::Joined);
    }
    let message: String = message.trim().chars().take(500).collect();
    if room::request_join(conn, ctx.room.id, actor.id, &message, now())? {
        let who = user::find(conn, actor.id)?;
        let link = format!(
            "{}{}",
            core.config.base_url(),
            super::url_path(&format!("/rooms/{}/members", ctx.room.slug))
        );
        let contacts = room::contacts(conn, ctx.room.id)?;
        let roles: Vec<(i64, RoomRole)> = contacts.iter().map(|m| (m.user_id, m.role)).collect();
        let deciders = super::authz::join_request_deciders(&ctx.access, &roles);
        for manager in contacts
            .into_iter()
            .filter(|m| deciders.contains(&m.user_id))
        {
            super::mail::queue(
                core,
                conn,
                &super::mail::Recipient::from(&manager),
                &super::mail::emails::JoinRequest {
                    who: &who.display_name,
                    room: &ctx.room.name,
                    message: &message,
                    link: &link,
                },
            )?;
        }
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
            newcomer_role(&ctx.room),
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

fn ensure_not_last_manager(
    conn: &mut DbConn,
    room_id: i64,
    role: Option<RoomRole>,
) -> AppResult<()> {
    if role == Some(RoomRole::Manager)
        && room::count_with_role(conn, room_id, RoomRole::Manager)? <= 1
    {
        return Err(AppError::Conflict("room.last_manager"));
    }
    Ok(())
}

/// Leaves a room (the last manager cannot: a room always keeps one).
pub fn leave(conn: &mut DbConn, actor: &Actor, slug: &str) -> AppResult<()> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Leave)?;
    authorize_membership_change(ctx.room.owner_id, actor.id, None)?;
    ensure_not_last_manager(conn, ctx.room.id, ctx.access.role)?;
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
    pub requests: Vec<JoinRequestRow>,
    /// The user ids of its safety officers.
    pub officers: Vec<i64>,
    /// Its invitations nobody has used yet.
    pub invitations: Vec<Invitation>,
    /// Display names of the accounts that could be added, to pick by name. Names only: every
    /// member manages their own private room, so a list of logins here would hand any member (or a
    /// stolen session) every account's login name.
    pub candidates: Vec<String>,
}

impl MembersPage {
    /// Whether the account with this login is a member.
    pub fn has_member(&self, login: &str) -> bool {
        self.members.iter().any(|m| m.login == login)
    }
}

/// Loads the members page.
pub fn members_page(conn: &mut DbConn, actor: &Actor, slug: &str) -> AppResult<MembersPage> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::Manage)?;
    let members = sorted_members(conn, ctx.room.id)?;
    let candidates = user::directory(conn)?
        .into_iter()
        .filter(|(login, _)| !members.iter().any(|m| &m.login == login))
        .map(|(_, name)| name)
        .collect();
    Ok(MembersPage {
        candidates,
        members,
        requests: room::requests(conn, ctx.room.id)?,
        officers: room::safety_officers(conn, ctx.room.id)?,
        invitations: invitation::open_for_room(conn, ctx.room.id, now())?,
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
    let target = find_person(conn, login)?;
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
    room::set_member(conn, ctx.room.id, target.id, role, now())?;
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
    authorize_membership_change(ctx.room.owner_id, target.id, new_role)?;
    if new_role != Some(RoomRole::Manager) {
        ensure_not_last_manager(conn, ctx.room.id, Some(current))?;
    }
    match new_role {
        Some(role) => room::set_member(conn, ctx.room.id, target.id, role, now())?,
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
                cells.push((permission, role, allowed));
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

/// Whether the approval inbox can hold anything for this person (the navigation's 承認 link), and
/// how many revisions it holds now: `None` unless they are a site admin (every waiting revision)
/// or someone `authorize_room` lets publish in at least one room they belong to, with that room's
/// overrides and behind parents they may read (the revisions waiting in those rooms, as
/// `room_posts::inbox` lists them). Only rooms where their role could publish at all are asked;
/// `rows` are those rooms with their chains of parents, as `models::nav::rows` loads them with the
/// navigation's other facts (ordered by room, then depth).
pub fn approvals_waiting(actor: &Actor, rows: &[NavRow]) -> AppResult<Option<i64>> {
    if super::authz::is_site_admin(actor) {
        return Ok(Some(rows.first().map_or(0, |row| row.waiting_anywhere)));
    }
    // A stored value this version does not know is an error, as on every other load.
    let access = |row: &NavRow, parent_readable: bool, overrides| -> AppResult<RoomAccess> {
        let (Some(visibility), Some(state), Some(archived)) =
            (row.visibility.clone(), row.state.clone(), row.archived)
        else {
            // A parent link to a room that is not there: nothing below it can be read.
            return Ok(RoomAccess {
                visibility: Visibility::Closed,
                open: false,
                join_policy: JoinPolicy::Invite,
                features: Features::NONE,
                safety_officer: false,
                role: None,
                overrides: Vec::new(),
                parent_readable: false,
                archived: true,
            });
        };
        Ok(RoomAccess {
            visibility: Visibility::try_from(visibility)?,
            open: RoomState::try_from(state)? == RoomState::Open,
            // Neither matters to reading or publishing.
            join_policy: JoinPolicy::Invite,
            features: Features::NONE,
            safety_officer: false,
            role: row.role.clone().map(RoomRole::try_from).transpose()?,
            overrides,
            parent_readable,
            archived,
        })
    };
    let mut waiting = None;
    for chain in rows.chunk_by(|a, b| a.candidate == b.candidate) {
        let Some(top) = chain.last().filter(|r| r.candidate.is_some()) else {
            continue;
        };
        // From the top of the chain down: a room is readable only below a readable parent. A
        // chain that stops at a room with a parent ended at `MAX_DEPTH`, where `access_for` stops.
        let mut parent_readable = top.parent_id.is_none();
        for row in chain[1..].iter().rev() {
            parent_readable =
                can_read_room(Some(actor), &access(row, parent_readable, Vec::new())?);
        }
        let room = &chain[0];
        let role = room.role.clone().map(RoomRole::try_from).transpose()?;
        let overrides = match (role, room.publish_allowed) {
            (Some(role), Some(allowed)) => vec![(RoomPermission::Publish, role, allowed)],
            _ => Vec::new(),
        };
        let waiting_here = room.waiting_here;
        let room = access(room, parent_readable, overrides)?;
        if authorize_room(Some(actor), &room, RoomAction::Publish).is_ok() {
            waiting = Some(waiting.unwrap_or(0) + waiting_here);
        }
    }
    Ok(waiting)
}

/// Addresses that begin with this are reserved for private rooms, so no room can pose as one.
const PRIVATE_PREFIX: &str = "my-";

/// Whether `slug` may be given to a room by its settings or by an admin creating it: any valid
/// address but the private rooms' `my-…` (a room keeps an address it already has).
fn slug_reserved(slug: &str, current: Option<&str>) -> bool {
    slug.starts_with(PRIVATE_PREFIX) && current != Some(slug)
}

/// The actor's private room (マイルーム), created on first use when the site allows private rooms:
/// closed, invite-only, its owner the manager. Found by its owner, never by its address (a room
/// renamed to `my-<id>` once caught its namesake's files). Returns its slug.
pub fn private_room(
    conn: &mut DbConn,
    actor: &Actor,
    name: &str,
    allowed: bool,
) -> AppResult<String> {
    if !allowed {
        return Err(AppError::NotFound);
    }
    user::lock_account(conn, actor.id)?;
    if let Some(mine) = room::private_room_of(conn, actor.id)? {
        return Ok(mine.slug);
    }
    // `my-<id>`, or the next free `my-<id>-<n>` when an older room still has that address.
    let mut slug = format!("{PRIVATE_PREFIX}{}", actor.id);
    let mut n = 2;
    while room::find_by_slug_opt(conn, &slug)?.is_some() {
        slug = format!("{PRIVATE_PREFIX}{}-{n}", actor.id);
        n += 1;
    }
    let at = now();
    let fields = RoomFields {
        slug: &slug,
        name,
        description: "",
        visibility: Visibility::Closed.as_str(),
        state: RoomState::Open.as_str(),
        default_role: RoomRole::Guest.as_str(),
        join_policy: JoinPolicy::Invite.as_str(),
        need_approval: false,
        comment_approval: false,
        quota_bytes: DEFAULT_QUOTA_MB * 1024 * 1024,
        features: Features::EVERY.to_string(),
        updated_at: at,
    };
    let id = room::insert(conn, &fields, None, at)?;
    room::make_private(conn, id, actor.id)?;
    room::set_member(conn, id, actor.id, RoomRole::Manager, at)?;
    audit::record(conn, Some(actor.id), "room.private_created", &slug, None)?;
    Ok(slug)
}
