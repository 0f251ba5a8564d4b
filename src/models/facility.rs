//! Facilities rooms may book (施設予約): meeting rooms and equipment, which rooms may book them,
//! who manages them, and the reservations (events of the booking room that name the facility).

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{events, facilities, facility_managers, facility_rooms, rooms, users};
use crate::models::event::Event;

/// A row of `facilities`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = facilities)]
pub struct Facility {
    pub id: i64,
    pub name: String,
    pub category: String,
    pub description: String,
    /// Minutes after midnight (site zone) from which it may be booked.
    pub opens_at: i32,
    /// Minutes after midnight (site zone) until which it may be booked (1440: midnight).
    pub closes_at: i32,
    /// Bookable weekdays as bits, Monday = 1 … Sunday = 64.
    pub weekdays: i32,
    pub all_rooms: bool,
    pub needs_approval: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What the admin's facility form sets.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = facilities)]
pub struct FacilityFields<'a> {
    pub name: &'a str,
    pub category: &'a str,
    pub description: &'a str,
    pub opens_at: i32,
    pub closes_at: i32,
    pub weekdays: i32,
    pub all_rooms: bool,
    pub needs_approval: bool,
}

/// Every facility, by category and name.
pub fn list(conn: &mut DbConn) -> QueryResult<Vec<Facility>> {
    facilities::table
        .order((
            facilities::category.asc(),
            facilities::name.asc(),
            facilities::id.asc(),
        ))
        .select(Facility::as_select())
        .load(conn)
}

/// One facility.
pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Facility> {
    facilities::table
        .find(id)
        .select(Facility::as_select())
        .first(conn)
}

/// One facility, its row locked until the transaction ends (PostgreSQL `SELECT … FOR UPDATE`), so
/// two bookings of one facility run one after the other: under READ COMMITTED both would read
/// "no overlap" and both insert. SQLite has no row locks and needs none: a write transaction
/// there is `BEGIN IMMEDIATE`, which already holds the database's one write lock.
pub fn lock(conn: &mut DbConn, id: i64) -> QueryResult<Facility> {
    match conn {
        DbConn::Pg(c) => facilities::table
            .find(id)
            .select(Facility::as_select())
            .for_update()
            .first(c),
        DbConn::Sqlite(_) => find(conn, id),
    }
}

/// Inserts a facility; returns its id.
pub fn insert(
    conn: &mut DbConn,
    fields: &FacilityFields<'_>,
    at: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(facilities::table)
        .values((
            fields,
            facilities::created_at.eq(at),
            facilities::updated_at.eq(at),
        ))
        .returning(facilities::id)
        .get_result(conn)
}

/// Changes a facility.
pub fn update(
    conn: &mut DbConn,
    id: i64,
    fields: &FacilityFields<'_>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(facilities::table.find(id))
        .set((fields, facilities::updated_at.eq(at)))
        .execute(conn)
        .map(drop)
}

/// Deletes a facility. Its reservations stay in their rooms' calendars as ordinary events.
pub fn delete(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::update(events::table.filter(events::facility_id.eq(id)))
        .set((
            events::facility_id.eq(None::<i64>),
            events::booking_state.eq(""),
        ))
        .execute(conn)?;
    diesel::delete(facility_rooms::table.filter(facility_rooms::facility_id.eq(id)))
        .execute(conn)?;
    diesel::delete(facility_managers::table.filter(facility_managers::facility_id.eq(id)))
        .execute(conn)?;
    diesel::delete(facilities::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Replaces the rooms that may book a facility and its managers.
pub fn set_rooms_and_managers(
    conn: &mut DbConn,
    id: i64,
    room_ids: &[i64],
    manager_ids: &[i64],
) -> QueryResult<()> {
    diesel::delete(facility_rooms::table.filter(facility_rooms::facility_id.eq(id)))
        .execute(conn)?;
    diesel::delete(facility_managers::table.filter(facility_managers::facility_id.eq(id)))
        .execute(conn)?;
    // One row at a time: the multi-backend connection has no batch insert.
    for r in room_ids {
        diesel::insert_into(facility_rooms::table)
            .values((
                facility_rooms::facility_id.eq(id),
                facility_rooms::room_id.eq(*r),
            ))
            .execute(conn)?;
    }
    for u in manager_ids {
        diesel::insert_into(facility_managers::table)
            .values((
                facility_managers::facility_id.eq(id),
                facility_managers::user_id.eq(*u),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The rooms a facility takes bookings from (when not every room): `(id, slug)`.
pub fn rooms_of(conn: &mut DbConn, id: i64) -> QueryResult<Vec<(i64, String)>> {
    facility_rooms::table
        .inner_join(rooms::table)
        .filter(facility_rooms::facility_id.eq(id))
        .order(rooms::slug.asc())
        .select((rooms::id, rooms::slug))
        .load(conn)
}

/// A facility's managers: `(id, login)`.
pub fn managers_of(conn: &mut DbConn, id: i64) -> QueryResult<Vec<(i64, String)>> {
    facility_managers::table
        .inner_join(users::table)
        .filter(facility_managers::facility_id.eq(id))
        .order(users::login.asc())
        .select((users::id, users::login))
        .load(conn)
}

/// Whether `user_id` manages facility `id`.
pub fn is_manager(conn: &mut DbConn, id: i64, user_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        facility_managers::table
            .filter(facility_managers::facility_id.eq(id))
            .filter(facility_managers::user_id.eq(user_id)),
    ))
    .get_result(conn)
}

/// The facilities `user_id` manages.
pub fn managed_by(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<i64>> {
    facility_managers::table
        .filter(facility_managers::user_id.eq(user_id))
        .select(facility_managers::facility_id)
        .load(conn)
}

/// The reservations of `facility` (every facility with `None`) that may have an occurrence in
/// `[from, to)` (one statement, whatever the number of facilities or rooms; reservations always
/// end, so `series_ends_at` is set).
pub fn bookings_in_window(
    conn: &mut DbConn,
    facility: Option<i64>,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Event>> {
    let mut q = events::table
        .filter(events::facility_id.is_not_null())
        .filter(events::series_ends_at.gt(from))
        .filter(events::starts_at.lt(to))
        .select(Event::as_select())
        .into_boxed();
    if let Some(f) = facility {
        q = q.filter(events::facility_id.eq(f));
    }
    q.order((events::starts_at.asc(), events::id.asc()))
        .load(conn)
}

/// A reservation (an event that names a facility).
pub fn find_booking(conn: &mut DbConn, id: i64) -> QueryResult<Event> {
    events::table
        .filter(events::id.eq(id))
        .filter(events::facility_id.is_not_null())
        .select(Event::as_select())
        .first(conn)
}

/// Marks a reservation approved (a new `updated_at`, so feeds' `ETag`s change).
pub fn confirm_booking(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(events::table.find(id))
        .set((
            events::booking_state.eq("confirmed"),
            events::updated_at.eq(at),
            events::sequence.eq(events::sequence + 1),
        ))
        .execute(conn)
        .map(drop)
}

/// Names a new event as a reservation of `facility`.
pub fn mark_booking(
    conn: &mut DbConn,
    event_id: i64,
    facility: i64,
    state: &str,
) -> QueryResult<()> {
    diesel::update(events::table.find(event_id))
        .set((
            events::facility_id.eq(Some(facility)),
            events::booking_state.eq(state),
        ))
        .execute(conn)
        .map(drop)
}

/// The pending reservations of these facilities.
pub fn pending_of(conn: &mut DbConn, facility_ids: &[i64]) -> QueryResult<Vec<Event>> {
    events::table
        .filter(events::facility_id.eq_any(facility_ids))
        .filter(events::booking_state.eq("pending"))
        .order(events::starts_at.asc())
        .select(Event::as_select())
        .load(conn)
}

/// `(id, name, slug)` of these rooms.
pub fn room_names(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<(i64, String, String)>> {
    rooms::table
        .filter(rooms::id.eq_any(ids))
        .select((rooms::id, rooms::name, rooms::slug))
        .load(conn)
}
