//! Calendar events (one row per event or series) and the secret feed addresses of room calendars.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{
    calendar_feeds, event_overrides, event_reminder_sends, event_reminders, events,
};
use crate::db::types::EventId;

/// A row of `events`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = events)]
pub struct Event {
    pub id: EventId,
    pub room_id: i64,
    pub uid: String,
    pub title: String,
    pub description_md: String,
    pub description_html: String,
    pub place: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub tz: String,
    pub all_day: bool,
    pub rrule: String,
    pub exdates: String,
    pub series_ends_at: Option<NaiveDateTime>,
    pub sequence: i32,
    pub created_by: i64,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// A reservation's facility (施設予約), `None` for an ordinary event.
    pub facility_id: Option<i64>,
    /// `confirmed` or `pending` for a reservation, empty otherwise.
    pub booking_state: String,
    /// `published`, `pending` (承認待ち) or `sent_back` (差し戻し): see `APPROVAL_*`.
    pub approval: String,
    /// The approver's note when it was sent back.
    pub approval_note: String,
    /// Readers were shown it in a room with approval (deleting it then needs publish rights).
    pub ever_published: bool,
}

/// An event every reader of its room sees.
pub const APPROVAL_PUBLISHED: &str = "published";
/// An event waiting for approval (承認待ち): its author and the room's approvers see it.
pub const APPROVAL_PENDING: &str = "pending";
/// An event an approver sent back (差し戻し) with a note: its author and the approvers see it.
pub const APPROVAL_SENT_BACK: &str = "sent_back";

impl Event {
    /// Whether every reader of its room sees it.
    pub fn is_published(&self) -> bool {
        self.approval == APPROVAL_PUBLISHED
    }
}

/// What an event's form sets (insert and update alike).
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = events)]
pub struct EventFields<'a> {
    pub title: &'a str,
    pub description_md: &'a str,
    pub description_html: &'a str,
    pub place: &'a str,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub tz: &'a str,
    pub all_day: bool,
    pub rrule: &'a str,
    pub exdates: &'a str,
    #[diesel(treat_none_as_null = true)]
    pub series_ends_at: Option<NaiveDateTime>,
}

/// The room of the event with this `UID`, if any (an import skips what the room already has).
pub fn room_of_uid(conn: &mut DbConn, uid: &str) -> QueryResult<Option<i64>> {
    events::table
        .filter(events::uid.eq(uid))
        .select(events::room_id)
        .first(conn)
        .optional()
}

/// Inserts an event; returns its id.
pub fn insert(
    conn: &mut DbConn,
    room_id: i64,
    uid: &str,
    fields: &EventFields<'_>,
    created_by: i64,
    at: NaiveDateTime,
) -> QueryResult<EventId> {
    diesel::insert_into(events::table)
        .values((
            fields,
            events::room_id.eq(room_id),
            events::uid.eq(uid),
            events::created_by.eq(created_by),
            events::created_at.eq(at),
            events::updated_at.eq(at),
        ))
        .execute(conn)?;
    events::table
        .filter(events::uid.eq(uid))
        .select(events::id)
        .first::<i64>(conn)
        .map(EventId)
}

/// Changes an event (a new `SEQUENCE` for calendars that already have it).
pub fn update(
    conn: &mut DbConn,
    id: EventId,
    fields: &EventFields<'_>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(events::table.find(id.0))
        .set((
            fields,
            events::sequence.eq(events::sequence + 1),
            events::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Sets a series' skipped occurrences.
pub fn set_exdates(
    conn: &mut DbConn,
    id: EventId,
    exdates: &str,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(events::table.find(id.0))
        .set((
            events::exdates.eq(exdates),
            events::sequence.eq(events::sequence + 1),
            events::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Deletes an event or a whole series (with its changed occurrences).
pub fn delete(conn: &mut DbConn, id: EventId) -> QueryResult<()> {
    delete_reminders_of(conn, id)?;
    diesel::delete(event_overrides::table.filter(event_overrides::event_id.eq(id.0)))
        .execute(conn)?;
    diesel::delete(events::table.find(id.0))
        .execute(conn)
        .map(drop)
}

/// An event of a room (`NotFound` when it is another room's).
pub fn find_in_room(conn: &mut DbConn, room_id: i64, id: EventId) -> QueryResult<Event> {
    events::table
        .filter(events::id.eq(id.0))
        .filter(events::room_id.eq(room_id))
        .select(Event::as_select())
        .first(conn)
}

/// The events and series of `rooms` that may have an occurrence in `[from, to)`: they start before
/// `to` and end (their last occurrence) after `from`, or never end. Bounds are UTC; callers widen
/// them by a day for all-day events, whose times are dates. Two index ranges per room
/// (`events_room_end`): what ends after `from`, and the series that never end; a room's past is
/// never read, however long it is.
pub fn in_window(
    conn: &mut DbConn,
    rooms: &[i64],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Event>> {
    let mut rows: Vec<Event> = events::table
        .filter(events::room_id.eq_any(rooms))
        .filter(events::series_ends_at.gt(from))
        .filter(events::starts_at.lt(to))
        .select(Event::as_select())
        .load(conn)?;
    rows.extend(
        events::table
            .filter(events::room_id.eq_any(rooms))
            .filter(events::series_ends_at.is_null())
            .filter(events::starts_at.lt(to))
            .select(Event::as_select())
            .load::<Event>(conn)?,
    );
    rows.sort_by_key(|e| (e.starts_at, e.id));
    Ok(rows)
}

/// Every event of a room, for its feed.
pub fn all_in_room(conn: &mut DbConn, room_id: i64) -> QueryResult<Vec<Event>> {
    events::table
        .filter(events::room_id.eq(room_id))
        // A phone's calendar cannot mark what waits for approval: feeds carry what readers see.
        .filter(events::approval.eq(APPROVAL_PUBLISHED))
        .order((events::starts_at.asc(), events::id.asc()))
        .select(Event::as_select())
        .load(conn)
}

/// When a room's calendar last changed (its newest event change and how many events it has), for
/// the feed's `ETag`: a deletion changes the count.
pub fn room_version(conn: &mut DbConn, room_id: i64) -> QueryResult<(Option<NaiveDateTime>, i64)> {
    events::table
        .filter(events::room_id.eq(room_id))
        .select((
            diesel::dsl::max(events::updated_at),
            diesel::dsl::count_star(),
        ))
        .first(conn)
}

/// Puts an event (back) into the approvals inbox: waiting (承認待ち), its old note gone; a new
/// `SEQUENCE` and change time, so feeds' `ETag`s move when it leaves them.
pub fn set_waiting(conn: &mut DbConn, id: EventId, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(events::table.find(id.0))
        .set((
            events::approval.eq(APPROVAL_PENDING),
            events::approval_note.eq(""),
            events::sequence.eq(events::sequence + 1),
            events::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// Shows an event to readers (saved by someone whose saves need no approval): it leaves the
/// inbox, and with `under_approval` (the room asks for approval) it counts as published from now
/// on, so deleting it needs publish rights.
pub fn set_published(
    conn: &mut DbConn,
    id: EventId,
    under_approval: bool,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let row = events::table.find(id.0);
    let shown = (
        events::approval.eq(APPROVAL_PUBLISHED),
        events::approval_note.eq(""),
        events::sequence.eq(events::sequence + 1),
        events::updated_at.eq(at),
    );
    if under_approval {
        diesel::update(row)
            .set((shown, events::ever_published.eq(true)))
            .execute(conn)
            .map(drop)
    } else {
        diesel::update(row.filter(events::approval.ne(APPROVAL_PUBLISHED)))
            .set(shown)
            .execute(conn)
            .map(drop)
    }
}

/// Marks an event as shown to readers under approval (the new half of a split series that was).
pub fn set_ever_published(conn: &mut DbConn, id: EventId) -> QueryResult<()> {
    diesel::update(events::table.find(id.0))
        .set(events::ever_published.eq(true))
        .execute(conn)
        .map(drop)
}

/// Decides a waiting event: publishes it (`note` = `None`) or sends it back with a note. Only a
/// row still waiting changes, in one statement, so of two approvers deciding at once exactly one
/// gets `true` (PostgreSQL makes the second wait for the first and then finds nothing waiting).
pub fn decide(
    conn: &mut DbConn,
    id: EventId,
    note: Option<&str>,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let waiting = events::table
        .find(id.0)
        .filter(events::approval.eq(APPROVAL_PENDING));
    let changed = match note {
        None => diesel::update(waiting)
            .set((
                events::approval.eq(APPROVAL_PUBLISHED),
                events::approval_note.eq(""),
                events::ever_published.eq(true),
                events::sequence.eq(events::sequence + 1),
                events::updated_at.eq(at),
            ))
            .execute(conn)?,
        Some(note) => diesel::update(waiting)
            .set((
                events::approval.eq(APPROVAL_SENT_BACK),
                events::approval_note.eq(note),
                events::updated_at.eq(at),
            ))
            .execute(conn)?,
    };
    Ok(changed == 1)
}

/// An event waiting for approval, as the approvals inbox lists it.
#[derive(Debug, Clone, Queryable)]
pub struct WaitingEvent {
    pub event: Event,
    pub room_slug: String,
    pub room_name: String,
    pub author_name: String,
}

/// Every event waiting for approval in a room that is not archived, oldest change first.
pub fn waiting(conn: &mut DbConn) -> QueryResult<Vec<WaitingEvent>> {
    use crate::db::schema::{rooms, users};
    events::table
        .inner_join(rooms::table.on(rooms::id.eq(events::room_id)))
        .inner_join(users::table.on(users::id.eq(events::created_by)))
        .filter(events::approval.eq(APPROVAL_PENDING))
        .filter(rooms::archived.eq(false))
        .order((events::updated_at.asc(), events::id.asc()))
        .select((
            Event::as_select(),
            rooms::slug,
            rooms::name,
            users::display_name,
        ))
        .load(conn)
}

/// A row of `calendar_feeds`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = calendar_feeds)]
pub struct Feed {
    pub id: i64,
    pub token_hash: String,
    pub user_id: i64,
    pub room_id: i64,
    pub created_at: NaiveDateTime,
    pub revoked_at: Option<NaiveDateTime>,
}

/// Records a feed address (its token's hash).
pub fn insert_feed(
    conn: &mut DbConn,
    token_hash: &str,
    user_id: i64,
    room_id: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(calendar_feeds::table)
        .values((
            calendar_feeds::token_hash.eq(token_hash),
            calendar_feeds::user_id.eq(user_id),
            calendar_feeds::room_id.eq(room_id),
            calendar_feeds::created_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// The live (not revoked) feed a token names.
pub fn live_feed(conn: &mut DbConn, token_hash: &str) -> QueryResult<Feed> {
    calendar_feeds::table
        .filter(calendar_feeds::token_hash.eq(token_hash))
        .filter(calendar_feeds::revoked_at.is_null())
        .select(Feed::as_select())
        .first(conn)
}

/// Whether a member has a live feed address for a room.
pub fn has_live_feed(conn: &mut DbConn, user_id: i64, room_id: i64) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        calendar_feeds::table
            .filter(calendar_feeds::user_id.eq(user_id))
            .filter(calendar_feeds::room_id.eq(room_id))
            .filter(calendar_feeds::revoked_at.is_null()),
    ))
    .get_result(conn)
}

/// Revokes a member's live feed addresses for a room.
pub fn revoke_feeds(
    conn: &mut DbConn,
    user_id: i64,
    room_id: i64,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(
        calendar_feeds::table
            .filter(calendar_feeds::user_id.eq(user_id))
            .filter(calendar_feeds::room_id.eq(room_id))
            .filter(calendar_feeds::revoked_at.is_null()),
    )
    .set(calendar_feeds::revoked_at.eq(Some(at)))
    .execute(conn)
    .map(drop)
}

/// A row of `event_overrides`: one changed occurrence of a series.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = event_overrides)]
pub struct Override {
    pub id: i64,
    pub event_id: i64,
    pub recurrence_id: NaiveDateTime,
    pub title: String,
    pub description_md: String,
    pub description_html: String,
    pub place: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What an occurrence's form sets.
#[derive(Debug, Clone, Insertable, AsChangeset)]
#[diesel(table_name = event_overrides)]
pub struct OverrideFields<'a> {
    pub title: &'a str,
    pub description_md: &'a str,
    pub description_html: &'a str,
    pub place: &'a str,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
}

/// Sets the fields of the occurrence of `event_id` that started at `recurrence_id` (a new override,
/// or the one it has).
pub fn save_override(
    conn: &mut DbConn,
    event_id: EventId,
    recurrence_id: NaiveDateTime,
    fields: &OverrideFields<'_>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let changed = diesel::update(
        event_overrides::table
            .filter(event_overrides::event_id.eq(event_id.0))
            .filter(event_overrides::recurrence_id.eq(recurrence_id)),
    )
    .set((fields, event_overrides::updated_at.eq(at)))
    .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(event_overrides::table)
            .values((
                fields,
                event_overrides::event_id.eq(event_id.0),
                event_overrides::recurrence_id.eq(recurrence_id),
                event_overrides::created_at.eq(at),
                event_overrides::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The override of one occurrence, if it has one.
pub fn find_override(
    conn: &mut DbConn,
    event_id: EventId,
    recurrence_id: NaiveDateTime,
) -> QueryResult<Option<Override>> {
    event_overrides::table
        .filter(event_overrides::event_id.eq(event_id.0))
        .filter(event_overrides::recurrence_id.eq(recurrence_id))
        .select(Override::as_select())
        .first(conn)
        .optional()
}

/// The overrides of `events` whose original occurrence started in `[from, to)`.
pub fn overrides_of(
    conn: &mut DbConn,
    events: &[i64],
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Override>> {
    event_overrides::table
        .filter(event_overrides::event_id.eq_any(events))
        .filter(event_overrides::recurrence_id.ge(from))
        .filter(event_overrides::recurrence_id.lt(to))
        .select(Override::as_select())
        .load(conn)
}

/// The overrides a window of `rooms` needs, in one statement: those of `series` whose original
/// occurrence started in `[replaced_from, to)` (they replace it, wherever they moved), and those of
/// any series of the rooms whose own times overlap `[from, to)` (moved in from outside it).
pub fn overrides_for_window(
    conn: &mut DbConn,
    rooms: &[i64],
    series: &[i64],
    replaced_from: NaiveDateTime,
    from: NaiveDateTime,
    to: NaiveDateTime,
) -> QueryResult<Vec<Override>> {
    event_overrides::table
        .inner_join(events::table)
        .filter(events::room_id.eq_any(rooms))
        .filter(
            event_overrides::event_id
                .eq_any(series)
                .and(event_overrides::recurrence_id.ge(replaced_from))
                .and(event_overrides::recurrence_id.lt(to))
                .or(event_overrides::starts_at
                    .lt(to)
                    .and(event_overrides::ends_at.gt(from))),
        )
        .select(Override::as_select())
        .load(conn)
}

/// Every override of a series, in order of the occurrences they replace.
pub fn all_overrides(conn: &mut DbConn, event_id: EventId) -> QueryResult<Vec<Override>> {
    event_overrides::table
        .filter(event_overrides::event_id.eq(event_id.0))
        .order(event_overrides::recurrence_id.asc())
        .select(Override::as_select())
        .load(conn)
}

/// Every override of a room's series, for its feed.
pub fn overrides_in_room(conn: &mut DbConn, room_id: i64) -> QueryResult<Vec<Override>> {
    event_overrides::table
        .inner_join(events::table)
        .filter(events::room_id.eq(room_id))
        .filter(events::approval.eq(APPROVAL_PUBLISHED))
        .order((
            event_overrides::event_id.asc(),
            event_overrides::recurrence_id.asc(),
        ))
        .select(Override::as_select())
        .load(conn)
}

/// Removes one override.
pub fn delete_override(conn: &mut DbConn, id: i64) -> QueryResult<()> {
    diesel::delete(event_overrides::table.find(id))
        .execute(conn)
        .map(drop)
}

/// Hands an override to another series (this-and-following: the new series takes it).
pub fn move_override(conn: &mut DbConn, id: i64, to: EventId) -> QueryResult<()> {
    diesel::update(event_overrides::table.find(id))
        .set(event_overrides::event_id.eq(to.0))
        .execute(conn)
        .map(drop)
}

/// Sets a series' rule, skipped occurrences and end (this-and-following ends a series early).
pub fn set_rule(
    conn: &mut DbConn,
    id: EventId,
    rrule: &str,
    exdates: &str,
    series_ends_at: Option<NaiveDateTime>,
    at: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(events::table.find(id.0))
        .set((
            events::rrule.eq(rrule),
            events::exdates.eq(exdates),
            events::series_ends_at.eq(series_ends_at),
            events::sequence.eq(events::sequence + 1),
            events::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// A new `SEQUENCE` and change time for a series whose occurrence changed (so feeds' `ETag`s move).
pub fn touch(conn: &mut DbConn, id: EventId, at: NaiveDateTime) -> QueryResult<()> {
    diesel::update(events::table.find(id.0))
        .set((
            events::sequence.eq(events::sequence + 1),
            events::updated_at.eq(at),
        ))
        .execute(conn)
        .map(drop)
}

/// An event by id.
pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Event> {
    events::table
        .find(id)
        .select(Event::as_select())
        .first(conn)
}

/// A row of `event_reminders`.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = event_reminders)]
pub struct Reminder {
    pub id: i64,
    pub event_id: i64,
    pub user_id: i64,
    pub minutes_before: i32,
    pub created_at: NaiveDateTime,
}

/// Adds a member's reminder to an event (`false`: they already have that one).
pub fn add_reminder(
    conn: &mut DbConn,
    event_id: EventId,
    user_id: i64,
    minutes_before: i32,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    let exists: bool = diesel::select(diesel::dsl::exists(
        event_reminders::table
            .filter(event_reminders::event_id.eq(event_id.0))
            .filter(event_reminders::user_id.eq(user_id))
            .filter(event_reminders::minutes_before.eq(minutes_before)),
    ))
    .get_result(conn)?;
    if exists {
        return Ok(false);
    }
    diesel::insert_into(event_reminders::table)
        .values((
            event_reminders::event_id.eq(event_id.0),
            event_reminders::user_id.eq(user_id),
            event_reminders::minutes_before.eq(minutes_before),
            event_reminders::created_at.eq(at),
        ))
        .execute(conn)
        .map(|_| true)
}

/// A member's reminders of an event, soonest last.
pub fn reminders_of(
    conn: &mut DbConn,
    event_id: EventId,
    user_id: i64,
) -> QueryResult<Vec<Reminder>> {
    event_reminders::table
        .filter(event_reminders::event_id.eq(event_id.0))
        .filter(event_reminders::user_id.eq(user_id))
        .order(event_reminders::minutes_before.desc())
        .select(Reminder::as_select())
        .load(conn)
}

/// A reminder by id (`None` when it is gone).
pub fn find_reminder(conn: &mut DbConn, id: i64) -> QueryResult<Option<Reminder>> {
    event_reminders::table
        .find(id)
        .select(Reminder::as_select())
        .first(conn)
        .optional()
}

/// Removes a member's reminder of an event (`NotFound` when it is not theirs or not this event's).
pub fn delete_reminder(
    conn: &mut DbConn,
    id: i64,
    event_id: EventId,
    user_id: i64,
) -> QueryResult<()> {
    let mine = event_reminders::table
        .find(id)
        .filter(event_reminders::event_id.eq(event_id.0))
        .filter(event_reminders::user_id.eq(user_id));
    let found: bool = diesel::select(diesel::dsl::exists(mine)).get_result(conn)?;
    if !found {
        return Err(diesel::result::Error::NotFound);
    }
    // What it sent goes first (its rows refer to it).
    diesel::delete(event_reminder_sends::table.filter(event_reminder_sends::reminder_id.eq(id)))
        .execute(conn)?;
    diesel::delete(mine).execute(conn).map(drop)
}

/// Removes every reminder of an event (with what they sent), before the event goes.
pub fn delete_reminders_of(conn: &mut DbConn, event_id: EventId) -> QueryResult<()> {
    let ids = event_reminders::table
        .filter(event_reminders::event_id.eq(event_id.0))
        .select(event_reminders::id);
    diesel::delete(
        event_reminder_sends::table.filter(event_reminder_sends::reminder_id.eq_any(ids)),
    )
    .execute(conn)?;
    diesel::delete(event_reminders::table.filter(event_reminders::event_id.eq(event_id.0)))
        .execute(conn)
        .map(drop)
}

/// Gives a new series the reminders of the series it continues (this-and-following).
pub fn copy_reminders(
    conn: &mut DbConn,
    from: EventId,
    to: EventId,
    at: NaiveDateTime,
) -> QueryResult<()> {
    let rows: Vec<Reminder> = event_reminders::table
        .filter(event_reminders::event_id.eq(from.0))
        .select(Reminder::as_select())
        .load(conn)?;
    for r in rows {
        add_reminder(conn, to, r.user_id, r.minutes_before, at)?;
    }
    Ok(())
}

/// The reminders whose event may have an occurrence starting in `(at, until]`: it has not ended
/// by `at` and starts (its first occurrence) before `until`. Bounds are UTC, widened by a day for
/// all-day events by the caller.
pub fn reminder_candidates(
    conn: &mut DbConn,
    at: NaiveDateTime,
    until: NaiveDateTime,
) -> QueryResult<Vec<(Reminder, Event)>> {
    event_reminders::table
        .inner_join(events::table)
        .filter(
            events::series_ends_at
                .is_null()
                .or(events::series_ends_at.gt(at)),
        )
        .filter(events::starts_at.le(until))
        // An event waiting for approval (or sent back) reminds nobody until it is approved.
        .filter(events::approval.eq(APPROVAL_PUBLISHED))
        .order(event_reminders::id.asc())
        .select((Reminder::as_select(), Event::as_select()))
        .load(conn)
}

/// Claims one reminder of one occurrence: inserts its row in a savepoint of the caller's
/// transaction (the one that queues the mail). `false` when another process (or an earlier round)
/// has it already: the unique key refuses the second insert, on both backends, also when two
/// transactions race (PostgreSQL makes the second wait for the first and then refuses it).
pub fn claim_reminder(
    conn: &mut DbConn,
    reminder_id: i64,
    occurrence_start: NaiveDateTime,
    at: NaiveDateTime,
) -> QueryResult<bool> {
    use diesel::result::{DatabaseErrorKind, Error};
    let inserted = conn.transaction(|c| {
        diesel::insert_into(event_reminder_sends::table)
            .values((
                event_reminder_sends::reminder_id.eq(reminder_id),
                event_reminder_sends::occurrence_start.eq(occurrence_start),
                event_reminder_sends::sent_at.eq(at),
            ))
            .execute(c)
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The occurrences `reminders` were queued for since `since` (what a round need not claim again).
pub fn claimed_since(
    conn: &mut DbConn,
    reminders: &[i64],
    since: NaiveDateTime,
) -> QueryResult<Vec<(i64, NaiveDateTime)>> {
    event_reminder_sends::table
        .filter(event_reminder_sends::reminder_id.eq_any(reminders))
        .filter(event_reminder_sends::sent_at.ge(since))
        .select((
            event_reminder_sends::reminder_id,
            event_reminder_sends::occurrence_start,
        ))
        .load(conn)
}
