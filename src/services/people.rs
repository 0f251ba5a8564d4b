//! The member directory (名簿) and profile pages: who one shares a room with, found by display
//! name, and the rooms one shares with them. Site admins see everyone (and each account's last
//! login); nobody sees a login name here.

use chrono::NaiveDateTime;

use super::Actor;
use super::authz::{Action, authorize, authorize_profile};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::models::room::{self, Room};
use crate::models::{picture, user};

/// How many people the directory lists at most (a search narrows it).
pub const DIRECTORY_LIMIT: i64 = 200;

/// Someone in the directory.
#[derive(Debug, Clone)]
pub struct Person {
    /// The account.
    pub id: i64,
    /// Their display name.
    pub name: String,
    /// Their picture's SHA-256, if they have one.
    pub picture: Option<String>,
}

/// The directory: the people whose name contains `q`, and whether there were more than it lists.
pub fn directory(conn: &mut DbConn, actor: &Actor, q: &str) -> AppResult<(Vec<Person>, bool)> {
    authorize(Some(actor), Action::ListPeople)?;
    let viewer = (!actor.is_admin).then_some(actor.id);
    let q: String = q.trim().chars().take(80).collect();
    let mut people = user::people(conn, viewer, &q, DIRECTORY_LIMIT + 1)?;
    let more = people.len() > usize::try_from(DIRECTORY_LIMIT).unwrap_or(usize::MAX);
    people.truncate(usize::try_from(DIRECTORY_LIMIT).unwrap_or(usize::MAX));
    let ids: Vec<i64> = people.iter().map(|(id, _)| *id).collect();
    let pictures: std::collections::HashMap<i64, String> =
        picture::of_users(conn, &ids)?.into_iter().collect();
    let people = people
        .into_iter()
        .map(|(id, name)| Person {
            picture: pictures.get(&id).cloned(),
            id,
            name,
        })
        .collect();
    Ok((people, more))
}

/// A profile page.
pub struct Profile {
    /// The person's account.
    pub id: i64,
    /// Their picture's SHA-256, if they have one.
    pub picture: Option<String>,
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
        id: person.id,
        picture: picture::find(conn, person.id)?,
        display_name: person.display_name,
        rooms,
        last_login: actor.is_admin.then_some(person.last_login_at),
        is_me: person.id == actor.id,
    })
}
