//! Rooms, their members and their permission overrides.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{
    room_join_requests, room_members, room_permissions, rooms, safety_officers, users,
};
use crate::db::types::{
    Features, JoinPolicy, RoomPermission, RoomRole, RoomState, SiteRole, Space, Visibility,
};
use crate::models::decode;

/// A row of `rooms`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = rooms)]
pub struct Room {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub slug: String,
    pub name: String,
    pub description: String,
    #[diesel(deserialize_as = String)]
    pub visibility: Visibility,
    #[diesel(deserialize_as = String)]
    pub state: RoomState,
    #[diesel(deserialize_as = String)]
    pub default_role: RoomRole,
    #[diesel(deserialize_as = String)]
    pub join_policy: JoinPolicy,
    pub need_approval: bool,
    pub quota_bytes: i64,
    #[diesel(deserialize_as = String)]
    pub features: Features,
    pub archived: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub comment_approval: bool,
    /// The public space, a community room or a private room.
    #[diesel(deserialize_as = String)]
    pub space: Space,
    /// The owner of a private room: how it is found (never by its address).
    pub owner_id: Option<i64>,
}

impl Room {
    /// Whether this room is the public space, whose blog is the site's blog.
    pub fn is_public_space(&self) -> bool {
        self.space == Space::Public
    }
}

/// The public space (made by a migration; there is exactly one).
pub fn public_space(conn: &mut DbConn) -> QueryResult<Room> {
    rooms::table
        .filter(rooms::space.eq(Space::Public.as_str()))
        .select(Room::as_select())
        .first(conn)
}

/// The private room of `owner_id`, if they have one.
pub fn private_room_of(conn: &mut DbConn, owner_id: i64) -> QueryResult<Option<Room>> {
    rooms::table
        .filter(rooms::space.eq(Space::Private.as_str()))
        .filter(rooms::owner_id.eq(owner_id))
        .select(Room::as_select())
        .first(conn)
        .optional()
}

/// Makes a room `owner_id`'s private room.
pub fn make_private(conn: &mut DbConn, id: i64, owner_id: i64) -> QueryResult<()> {
    diesel::update(rooms::table.find(id))
        .set((
            rooms::space.eq(Space::Private.as_str()),
            rooms::owner_id.eq(Some(owner_id)),
        ))
        .execute(conn)
        .map(drop)
}

/// The settings of a room, as written by create and update.
#[derive(Debug, Insertable, AsChangeset)]
#[diesel(table_name = rooms)]
pub struct RoomFields<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub visibility: &'a str,
    pub state: &'a str,
    pub default_role: &'a str,
    pub join_policy: &'a str,
    pub need_approval: bool,
    pub quota_bytes: i64,
    /// `Features` as stored text.
    pub features: String,
    pub comment_approval: bool,
    pub updated_at: NaiveDateTime,
}

/// Inserts a room and returns its id.
pub fn insert(
    conn: &mut DbConn,
    fields: &RoomFields<'_>,
    parent_id: Option<i64>,
    created_at: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(rooms::table)
        .values((
            fields,
            rooms::parent_id.eq(parent_id),
            rooms::created_at.eq(created_at),
        ))
        .execute(conn)?;
    rooms::table
        .filter(rooms::slug.eq(fields.slug))
        .select(rooms::id)
        .first(conn)
}

/// Saves a room's settings.
pub fn update(conn: &mut DbConn, id: i64, fields: &RoomFields<'_>) -> QueryResult<()> {
    diesel::update(rooms::table.find(id))
        .set(fields)
        .execute(conn)
        .map(drop)
}

/// Archives or restores a room (archived rooms disappear from lists; nothing is deleted).
pub fn set_archived(conn: &mut DbConn, id: i64, archived: bool) -> QueryResult<()> {
    diesel::update(rooms::table.find(id))
        .set(rooms::archived.eq(archived))
        .execute(conn)
        .map(drop)
}

/// A room by slug (archived ones too; callers decide).
pub fn find_by_slug(conn: &mut DbConn, slug: &str) -> QueryResult<Room> {
    rooms::table
        .filter(rooms::slug.eq(slug))
        .select(Room::as_select())
        .first(conn)
}

/// A room by slug, `None` if there is none (other errors stay errors).
pub fn find_by_slug_opt(conn: &mut DbConn, slug: &str) -> QueryResult<Option<Room>> {
    find_by_slug(conn, slug).optional()
}

/// A room by id.
pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Room> {
    rooms::table.find(id).select(Room::as_select()).first(conn)
}

/// Whether a slug is taken.
pub fn slug_taken(conn: &mut DbConn, slug: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut q = rooms::table.filter(rooms::slug.eq(slug)).into_boxed();
    if let Some(id) = except {
        q = q.filter(rooms::id.ne(id));
    }
    q.select(rooms::id)
        .first::<i64>(conn)
        .optional()
        .map(|o| o.is_some())
}

/// Every room that is not archived, by name (the caller filters by what the actor may read).
pub fn list_active(conn: &mut DbConn) -> QueryResult<Vec<Room>> {
    rooms::table
        .filter(rooms::archived.eq(false))
        // The public space first, then by name.
        .order((rooms::space.ne(Space::Public.as_str()), rooms::name.asc()))
        .select(Room::as_select())
        .load(conn)
}

/// Every room, archived ones included (admin list).
pub fn list_all(conn: &mut DbConn) -> QueryResult<Vec<Room>> {
    rooms::table
        .order((
            rooms::archived.asc(),
            rooms::space.ne(Space::Public.as_str()),
            rooms::name.asc(),
        ))
        .select(Room::as_select())
        .load(conn)
}

/// The actor's role in every room they belong to: `(room_id, role)`.
pub fn roles_of(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<(i64, RoomRole)>> {
    let rows: Vec<(i64, String)> = room_members::table
        .filter(room_members::user_id.eq(user_id))
        .select((room_members::room_id, room_members::role))
        .load(conn)?;
    rows.into_iter()
        .map(|(id, role)| Ok((id, decode(role)?)))
        .collect()
}

/// A user's role in one room.
pub fn role_in(conn: &mut DbConn, room_id: i64, user_id: i64) -> QueryResult<Option<RoomRole>> {
    let role: Option<String> = room_members::table
        .find((room_id, user_id))
        .select(room_members::role)
        .first(conn)
        .optional()?;
    role.map(decode).transpose()
}

/// A member of a room, for lists.
#[derive(Debug, Clone, Queryable)]
pub struct MemberRow {
    pub user_id: i64,
    pub login: String,
    pub display_name: String,
    #[diesel(deserialize_as = String)]
    pub role: RoomRole,
    pub joined_at: NaiveDateTime,
}

/// The members of a room, highest role first (role text sorts arbitrarily, so callers re-sort).
pub fn members(conn: &mut DbConn, room_id: i64) -> QueryResult<Vec<MemberRow>> {
    room_members::table
        .inner_join(users::table)
        .filter(room_members::room_id.eq(room_id))
        .filter(users::disabled.eq(false))
        .order(users::display_name.asc())
        .select((
            users::id,
            users::login,
            users::display_name,
            room_members::role,
            room_members::joined_at,
        ))
        .load(conn)
}

/// Counts a room's members with a role.
pub fn count_with_role(conn: &mut DbConn, room_id: i64, role: RoomRole) -> QueryResult<i64> {
    room_members::table
        .filter(room_members::room_id.eq(room_id))
        .filter(room_members::role.eq(role.as_str()))
        .count()
        .get_result(conn)
}

/// Adds a member or changes their role.
pub fn set_member(
    conn: &mut DbConn,
    room_id: i64,
    user_id: i64,
    role: RoomRole,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let updated = diesel::update(room_members::table.find((room_id, user_id)))
        .set(room_members::role.eq(role.as_str()))
        .execute(conn)?;
    if updated == 0 {
        diesel::insert_into(room_members::table)
            .values((
                room_members::room_id.eq(room_id),
                room_members::user_id.eq(user_id),
                room_members::role.eq(role.as_str()),
                room_members::joined_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Removes a member.
pub fn remove_member(conn: &mut DbConn, room_id: i64, user_id: i64) -> QueryResult<()> {
    diesel::delete(room_members::table.find((room_id, user_id)))
        .execute(conn)
        .map(drop)
}

/// The room's overrides of adjustable cells: `(permission, role, allowed)` as stored text.
pub fn overrides(
    conn: &mut DbConn,
    room_id: i64,
) -> QueryResult<Vec<(RoomPermission, RoomRole, bool)>> {
    let rows: Vec<(String, String, bool)> = room_permissions::table
        .filter(room_permissions::room_id.eq(room_id))
        .order((room_permissions::permission, room_permissions::role))
        .select((
            room_permissions::permission,
            room_permissions::role,
            room_permissions::allowed,
        ))
        .load(conn)?;
    rows.into_iter()
        .map(|(p, r, a)| Ok((decode(p)?, decode(r)?, a)))
        .collect()
}

/// A room's overrides of adjustable cells: `(permission, role, allowed)`.
pub type Overrides = Vec<(RoomPermission, RoomRole, bool)>;

/// Every room's overrides, by room (walks over many rooms read them once).
pub fn all_overrides(conn: &mut DbConn) -> QueryResult<HashMap<i64, Overrides>> {
    let rows: Vec<(i64, String, String, bool)> = room_permissions::table
        .order((
            room_permissions::room_id,
            room_permissions::permission,
            room_permissions::role,
        ))
        .select((
            room_permissions::room_id,
            room_permissions::permission,
            room_permissions::role,
            room_permissions::allowed,
        ))
        .load(conn)?;
    let mut out: HashMap<i64, Vec<_>> = HashMap::new();
    for (room_id, p, r, a) in rows {
        out.entry(room_id)
            .or_default()
            .push((decode(p)?, decode(r)?, a));
    }
    Ok(out)
}

/// Replaces the room's overrides.
pub fn set_overrides(
    conn: &mut DbConn,
    room_id: i64,
    cells: &[(RoomPermission, RoomRole, bool)],
) -> QueryResult<()> {
    diesel::delete(room_permissions::table.filter(room_permissions::room_id.eq(room_id)))
        .execute(conn)?;
    for (permission, role, allowed) in cells {
        diesel::insert_into(room_permissions::table)
            .values((
                room_permissions::room_id.eq(room_id),
                room_permissions::permission.eq(permission.as_str()),
                room_permissions::role.eq(role.as_str()),
                room_permissions::allowed.eq(*allowed),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// A pending join request, for the members page.
#[derive(Debug, Clone, Queryable)]
pub struct JoinRequestRow {
    pub user_id: i64,
    pub login: String,
    pub display_name: String,
    pub message: String,
    pub created_at: NaiveDateTime,
}

/// Records a join request (asking twice keeps the first).
pub fn request_join(
    conn: &mut DbConn,
    room_id: i64,
    user_id: i64,
    message: &str,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    if has_request(conn, room_id, user_id)? {
        return Ok(false);
    }
    diesel::insert_into(room_join_requests::table)
        .values((
            room_join_requests::room_id.eq(room_id),
            room_join_requests::user_id.eq(user_id),
            room_join_requests::message.eq(message),
            room_join_requests::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(true)
}

/// Whether a user has asked to join a room.
pub fn has_request(conn: &mut DbConn, room_id: i64, user_id: i64) -> QueryResult<bool> {
    room_join_requests::table
        .find((room_id, user_id))
        .select(room_join_requests::user_id)
        .first::<i64>(conn)
        .optional()
        .map(|o| o.is_some())
}

/// Pending requests of a room, oldest first.
pub fn requests(conn: &mut DbConn, room_id: i64) -> QueryResult<Vec<JoinRequestRow>> {
    room_join_requests::table
        .inner_join(users::table)
        .filter(room_join_requests::room_id.eq(room_id))
        .filter(users::disabled.eq(false))
        .order(room_join_requests::created_at.asc())
        .select((
            users::id,
            users::login,
            users::display_name,
            room_join_requests::message,
            room_join_requests::created_at,
        ))
        .load(conn)
}

/// Removes a request (approved or declined).
pub fn remove_request(conn: &mut DbConn, room_id: i64, user_id: i64) -> QueryResult<usize> {
    diesel::delete(room_join_requests::table.find((room_id, user_id))).execute(conn)
}

/// A member to notify, with their role.
#[derive(Debug, Clone, Queryable)]
pub struct MemberContact {
    pub user_id: i64,
    pub email: String,
    pub display_name: String,
    pub language: Option<String>,
    #[diesel(deserialize_as = String)]
    pub role: RoomRole,
    /// The account's site role (a site administrator reads every room).
    #[diesel(deserialize_as = String)]
    pub site_role: SiteRole,
}

/// Every enabled member of a room with how to reach them.
pub fn contacts(conn: &mut DbConn, room_id: i64) -> QueryResult<Vec<MemberContact>> {
    room_members::table
        .inner_join(users::table)
        .filter(room_members::room_id.eq(room_id))
        .filter(users::disabled.eq(false))
        .select((
            users::id,
            users::email,
            users::display_name,
            users::language,
            room_members::role,
            users::site_role,
        ))
        .load(conn)
}

/// Whether `user_id` is one of the room's safety officers.
pub fn is_safety_officer(conn: &mut DbConn, room_id: i64, user_id: i64) -> QueryResult<bool> {
    safety_officers::table
        .find((room_id, user_id))
        .select(safety_officers::user_id)
        .first::<i64>(conn)
        .optional()
        .map(|o| o.is_some())
}

/// Makes a member a safety officer of the room, or stops it.
pub fn set_safety_officer(
    conn: &mut DbConn,
    room_id: i64,
    user_id: i64,
    on: bool,
) -> QueryResult<()> {
    diesel::delete(safety_officers::table.find((room_id, user_id))).execute(conn)?;
    if on {
        diesel::insert_into(safety_officers::table)
            .values((
                safety_officers::room_id.eq(room_id),
                safety_officers::user_id.eq(user_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The ids of the room's safety officers.
pub fn safety_officers(conn: &mut DbConn, room_id: i64) -> QueryResult<Vec<i64>> {
    safety_officers::table
        .filter(safety_officers::room_id.eq(room_id))
        .select(safety_officers::user_id)
        .load(conn)
}

/// The rooms in which `user_id` is a safety officer.
pub fn officer_rooms(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<i64>> {
    safety_officers::table
        .filter(safety_officers::user_id.eq(user_id))
        .select(safety_officers::room_id)
        .load(conn)
}

/// Rooms (not archived) that `person` is a member of and, when `viewer` is given, `viewer` too;
/// by name.
pub fn shared_rooms(conn: &mut DbConn, person: i64, viewer: Option<i64>) -> QueryResult<Vec<Room>> {
    let of = |user: i64| {
        room_members::table
            .filter(room_members::user_id.eq(user))
            .select(room_members::room_id)
    };
    let mut query = rooms::table
        .filter(rooms::archived.eq(false))
        .filter(rooms::id.eq_any(of(person)))
        .order(rooms::name.asc())
        .select(Room::as_select())
        .into_boxed();
    if let Some(v) = viewer {
        query = query.filter(rooms::id.eq_any(of(v)));
    }
    query.load(conn)
}
