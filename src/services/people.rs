//! The member directory (名簿) and profile pages: who one shares a room with, found by display
//! name, and the rooms one shares with them. Site admins see everyone (and each account's last
//! login); nobody sees a login name here.

use chrono::NaiveDateTime;

use super::Actor;
use super::authz::{Action, authorize, authorize_profile};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::models::room::{self, Room};
use crate::models::user;

/// How many people the directory lists at most (a search narrows it).
pub const DIRECTORY_LIMIT: i64 = 200;

/// The directory: `(user id, display name)` of the people whose name contains `q`, and whether
/// there were more than it lists.
pub fn directory(
    conn: &mut DbConn,
    actor: &Actor,
    q: &str,
) -> AppResult<(Vec<(i64, String)>, bool)> {
    authorize(Some(actor), Action::ListPeople)?;
    let viewer = (!actor.is_admin).then_some(actor.id);
    let q: String = q.trim().chars().take(80).collect();
    let mut people = user::people(conn, viewer, &q, DIRECTORY_LIMIT + 1)?;
    let more = people.len() > usize::try_from(DIRECTORY_LIMIT).unwrap_or(usize::MAX);
    people.truncate(usize::try_from(DIRECTORY_LIMIT).unwrap_or(usize::MAX));
    Ok((people, more))
}

/// A profile page.
pub struct Profile {
    /// The person's display name.
    pub display_name: String,
    /// The rooms the actor shares with them (all of theirs for a site admin).
    pub rooms: Vec<Room>,
    /// Their last login (`None` inside: never), for site admins only.
    pub last_login: Option<Option<NaiveDateTime>>,
    /// It is the actor's own.
    pub is_me: bool,
}

/// A person's profile: 404 unless the actor may see it (`authz::authorize_profile`).
pub fn profile(conn: &mut DbConn, actor: &Actor, person_id: i64) -> AppResult<Profile> {
    let person = user::find_opt(conn, person_id)?
        .filter(|u| !u.disabled)
        .ok_or(AppError::NotFound)?;
    let rooms = room::shared_rooms(conn, person.id, (!actor.is_admin).then_some(actor.id))?;
    authorize_profile(Some(actor), person.id, !rooms.is_empty())?;
    Ok(Profile {
        display_name: person.display_name,
        rooms,
        last_login: actor.is_admin.then_some(person.last_login_at),
        is_me: person.id == actor.id,
    })
}
