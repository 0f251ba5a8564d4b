//! Room invitations.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{room_invitations, rooms};
use crate::db::types::RoomRole;

/// A row of `room_invitations`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = room_invitations)]
pub struct Invitation {
    pub id: i64,
    pub room_id: i64,
    pub email: String,
    #[diesel(deserialize_as = String)]
    pub role: RoomRole,
    pub token_hash: String,
    pub invited_by: i64,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub accepted_by: Option<i64>,
}

/// A new invitation.
#[derive(Debug, Insertable)]
#[diesel(table_name = room_invitations)]
pub struct NewInvitation<'a> {
    pub room_id: i64,
    pub email: &'a str,
    pub role: &'a str,
    pub token_hash: &'a str,
    pub invited_by: i64,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

/// Stores an invitation.
pub fn insert(conn: &mut DbConn, new: &NewInvitation<'_>) -> QueryResult<()> {
    diesel::insert_into(room_invitations::table)
        .values(new)
        .execute(conn)
        .map(drop)
}

/// An invitation by token hash, with its room's slug and name.
pub fn find_by_hash(
    conn: &mut DbConn,
    token_hash: &str,
) -> QueryResult<Option<(Invitation, String, String)>> {
    room_invitations::table
        .inner_join(rooms::table)
        .filter(room_invitations::token_hash.eq(token_hash))
        .select((Invitation::as_select(), rooms::slug, rooms::name))
        .first(conn)
        .optional()
}

/// Claims an open, unexpired invitation for `user_id`; `false` when it was used (or expired)
/// meanwhile. The condition is in the `UPDATE` itself: on PostgreSQL a second accept waits for the
/// first one's row lock and then finds `accepted_at` set, so two parallel accepts give one member.
pub fn accept(conn: &mut DbConn, id: i64, user_id: i64, at: NaiveDateTime) -> QueryResult<bool> {
    diesel::update(
        room_invitations::table
            .find(id)
            .filter(room_invitations::accepted_at.is_null())
            .filter(room_invitations::expires_at.gt(at)),
    )
    .set((
        room_invitations::accepted_at.eq(at),
        room_invitations::accepted_by.eq(user_id),
    ))
    .execute(conn)
    .map(|n| n == 1)
}

/// Open invitations of a room (not accepted, not expired), newest first.
pub fn open_for_room(
    conn: &mut DbConn,
    room_id: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<Invitation>> {
    room_invitations::table
        .filter(room_invitations::room_id.eq(room_id))
        .filter(room_invitations::accepted_at.is_null())
        .filter(room_invitations::expires_at.gt(now))
        .order(room_invitations::id.desc())
        .select(Invitation::as_select())
        .load(conn)
}

/// Whether any invitation is out (not accepted, not expired) in any room.
pub fn any_open(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        room_invitations::table
            .filter(room_invitations::accepted_at.is_null())
            .filter(room_invitations::expires_at.gt(now)),
    ))
    .get_result(conn)
}
