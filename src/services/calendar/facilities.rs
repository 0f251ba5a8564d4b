//! Facility reservations (施設予約, issue #12 item 5): facilities with categories, bookable hours and
//! days, the rooms that may book them and optional approval by their managers. A reservation is an
//! event of the booking room's calendar that names its facility, so it is in that calendar and its
//! feeds without a second calendar. Double bookings are refused inside the booking's write
//! transaction, against the expanded occurrences of every reservation of the facility, recurring
//! ones included; the facility's row is locked first (PostgreSQL), so two bookings at once are
//! checked one after the other.

use std::collections::{HashMap, HashSet};

use chrono::{
    Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Weekday,
};
use chrono_tz::Tz;

use super::recur::{self, Occurrence, Window};
use super::{EventForm, save_fields, timing, validate};
use crate::db::DbConn;
use crate::db::types::{EventId, Repeat};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::event::{self, Event};
use crate::models::facility::{self, Facility, FacilityFields};
use crate::models::{audit, now, room, user};
use crate::services::Actor;
use crate::services::authz::{FacilityAction, FacilityFacts, authorize_facility};
use crate::services::rooms::{self, RoomCtx};
use crate::services::site::SiteSettings;
use crate::services::zones::zone_for;

/// A recurring booking may span at most this long (first start to last end).
pub const MAX_SERIES_DAYS: i64 = 366;

/// What a reservation waits in or is.
pub const CONFIRMED: &str = "confirmed";
/// A reservation waiting for a manager's approval (仮予約); it blocks its slot all the same.
pub const PENDING: &str = "pending";

const WEEKDAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "mo"),
    (Weekday::Tue, "tu"),
    (Weekday::Wed, "we"),
    (Weekday::Thu, "th"),
    (Weekday::Fri, "fr"),
    (Weekday::Sat, "sa"),
    (Weekday::Sun, "su"),
];

/// The bit of a weekday in `facilities.weekdays` (Monday = 1 … Sunday = 64).
pub fn weekday_bit(d: Weekday) -> i32 {
    1 << d.num_days_from_monday()
}

/// `HH:MM` of minutes after midnight (1440 is `24:00`).
pub fn hhmm(minutes: i32) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The admin's facility form.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct FacilityForm {
    pub name: String,
    #[serde(default)]
    pub category: String,
    #[serde(default)]
    pub description: String,
    /// `HH:MM`.
    pub opens: String,
    /// `HH:MM` (`24:00` allowed).
    pub closes: String,
    #[serde(default)]
    pub day_mo: Option<String>,
    #[serde(default)]
    pub day_tu: Option<String>,
    #[serde(default)]
    pub day_we: Option<String>,
    #[serde(default)]
    pub day_th: Option<String>,
    #[serde(default)]
    pub day_fr: Option<String>,
    #[serde(default)]
    pub day_sa: Option<String>,
    #[serde(default)]
    pub day_su: Option<String>,
    /// A checkbox: every room may book.
    #[serde(default)]
    pub all_rooms: Option<String>,
    /// Room addresses (slugs), separated by spaces, commas or lines (with `all_rooms` off).
    #[serde(default)]
    pub rooms: String,
    /// A checkbox: bookings wait for a manager's approval.
    #[serde(default)]
    pub needs_approval: Option<String>,
    /// Managers' login names, separated by spaces, commas or lines.
    #[serde(default)]
    pub managers: String,
}

impl FacilityForm {
    fn days(&self) -> [&Option<String>; 7] {
        [
            &self.day_mo,
            &self.day_tu,
            &self.day_we,
            &self.day_th,
            &self.day_fr,
            &self.day_sa,
            &self.day_su,
        ]
    }

    /// A new facility's form: weekdays, 09:00–18:00, every room.
    pub fn blank() -> Self {
        let on = || Some("on".to_owned());
        Self {
            opens: "09:00".into(),
            closes: "18:00".into(),
            day_mo: on(),
            day_tu: on(),
            day_we: on(),
            day_th: on(),
            day_fr: on(),
            all_rooms: on(),
            ..Self::default()
        }
    }

    /// The weekday checkboxes: `(key, checked)`, Monday first.
    pub fn day_boxes(&self) -> Vec<(&'static str, bool)> {
        WEEKDAYS
            .iter()
            .zip(self.days())
            .map(|((_, key), on)| (*key, on.is_some()))
            .collect()
    }
}

fn words(s: &str) -> Vec<String> {
    s.split(|c: char| c == ',' || c == '、' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

fn minutes_of(s: &str) -> Option<i32> {
    let s = s.trim();
    if s == "24:00" {
        return Some(1440);
    }
    NaiveTime::parse_from_str(s, "%H:%M")
        .ok()
        .and_then(|t| i32::try_from(t.hour() * 60 + t.minute()).ok())
}

/// A checked facility form: its fields, the rooms' and managers' ids.
struct CleanFacility {
    name: String,
    category: String,
    description: String,
    opens_at: i32,
    closes_at: i32,
    weekdays: i32,
    all_rooms: bool,
    needs_approval: bool,
    rooms: Vec<i64>,
    managers: Vec<i64>,
}

fn validate_facility(conn: &mut DbConn, form: &FacilityForm) -> AppResult<CleanFacility> {
    let mut e = FieldErrors::default();
    let name = form.name.trim().to_owned();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        e.add("name", "error.title_length");
    }
    let category = form.category.trim().to_owned();
    if category.chars().count() > 100 || category.chars().any(char::is_control) {
        e.add("category", "error.too_long");
    }
    if form.description.chars().count() > 5000 {
        e.add("description", "error.too_long");
    }
    let opens = minutes_of(&form.opens);
    let closes = minutes_of(&form.closes);
    if opens.is_none() {
        e.add("opens", "error.time_format");
    }
    if closes.is_none() {
        e.add("closes", "error.time_format");
    }
    if let (Some(o), Some(c)) = (opens, closes)
        && c <= o
    {
        e.add("closes", "facility.closes_before_opens");
    }
    let weekdays = WEEKDAYS
        .iter()
        .zip(form.days())
        .filter(|(_, on)| on.is_some())
        .fold(0, |acc, ((d, _), _)| acc | weekday_bit(*d));
    if weekdays == 0 {
        e.add("weekdays", "facility.no_weekdays");
    }
    let all_rooms = form.all_rooms.is_some();
    let mut room_ids = Vec::new();
    if !all_rooms {
        for slug in words(&form.rooms) {
            match room::find_by_slug_opt(conn, &slug)? {
                Some(r) => room_ids.push(r.id),
                None => e.add("rooms", "facility.unknown_room"),
            }
        }
        if room_ids.is_empty() && e.get("rooms").is_none() {
            e.add("rooms", "facility.no_rooms");
        }
    }
    let mut managers = Vec::new();
    for login in words(&form.managers) {
        match user::find_by_login_opt(conn, &login)? {
            Some(u) => managers.push(u.id),
            None => e.add("managers", "facility.unknown_login"),
        }
    }
    let needs_approval = form.needs_approval.is_some();
    e.into_result()?;
    room_ids.sort_unstable();
    room_ids.dedup();
    managers.sort_unstable();
    managers.dedup();
    Ok(CleanFacility {
        name,
        category,
        description: form.description.replace("\r\n", "\n"),
        opens_at: opens.unwrap_or(0),
        closes_at: closes.unwrap_or(1440),
        weekdays,
        all_rooms,
        needs_approval,
        rooms: room_ids,
        managers,
    })
}

impl CleanFacility {
    fn fields(&self) -> FacilityFields<'_> {
        FacilityFields {
            name: &self.name,
            category: &self.category,
            description: &self.description,
            opens_at: self.opens_at,
            closes_at: self.closes_at,
            weekdays: self.weekdays,
            all_rooms: self.all_rooms,
            needs_approval: self.needs_approval,
        }
    }
}

fn ensure_admin(actor: &Actor) -> AppResult<()> {
    authorize_facility(
        Some(actor),
        None,
        FacilityFacts::default(),
        FacilityAction::Manage,
    )
}

/// Creates a facility (site admins).
pub fn create_facility(conn: &mut DbConn, actor: &Actor, form: &FacilityForm) -> AppResult<i64> {
    ensure_admin(actor)?;
    let clean = validate_facility(conn, form)?;
    let id = facility::insert(conn, &clean.fields(), now())?;
    facility::set_rooms_and_managers(conn, id, &clean.rooms, &clean.managers)?;
    audit::record(conn, Some(actor.id), "facility.created", &clean.name, None)?;
    Ok(id)
}

/// Changes a facility (site admins). Existing reservations stay as they are.
pub fn update_facility(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    form: &FacilityForm,
) -> AppResult<()> {
    ensure_admin(actor)?;
    facility::find(conn, id)?;
    let clean = validate_facility(conn, form)?;
    facility::update(conn, id, &clean.fields(), now())?;
    facility::set_rooms_and_managers(conn, id, &clean.rooms, &clean.managers)?;
    audit::record(conn, Some(actor.id), "facility.updated", &clean.name, None)?;
    Ok(())
}

/// Deletes a facility (site admins); its reservations stay in their calendars as plain events.
pub fn delete_facility(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<()> {
    ensure_admin(actor)?;
    let f = facility::find(conn, id)?;
    facility::delete(conn, id)?;
    audit::record(conn, Some(actor.id), "facility.deleted", &f.name, None)?;
    Ok(())
}

/// Every facility, for the admin's list (site admins).
pub fn admin_list(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<Facility>> {
    ensure_admin(actor)?;
    Ok(facility::list(conn)?)
}

/// A facility's edit form, filled (site admins).
pub fn edit_form(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<FacilityForm> {
    ensure_admin(actor)?;
    let f = facility::find(conn, id)?;
    let rooms = facility::rooms_of(conn, id)?;
    let managers = facility::managers_of(conn, id)?;
    let day = |d: Weekday| (f.weekdays & weekday_bit(d) != 0).then(|| "on".to_owned());
    Ok(FacilityForm {
        name: f.name,
        category: f.category,
        description: f.description,
        opens: hhmm(f.opens_at),
        closes: hhmm(f.closes_at),
        day_mo: day(Weekday::Mon),
        day_tu: day(Weekday::Tue),
        day_we: day(Weekday::Wed),
        day_th: day(Weekday::Thu),
        day_fr: day(Weekday::Fri),
        day_sa: day(Weekday::Sat),
        day_su: day(Weekday::Sun),
        all_rooms: f.all_rooms.then(|| "on".to_owned()),
        rooms: rooms
            .into_iter()
            .map(|(_, s)| s)
            .collect::<Vec<_>>()
            .join(" "),
        needs_approval: f.needs_approval.then(|| "on".to_owned()),
        managers: managers
            .into_iter()
            .map(|(_, l)| l)
            .collect::<Vec<_>>()
            .join(" "),
    })
}

/// The booking form (no JavaScript: a date, two times, the event form's repetition fields).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct BookingForm {
    /// The booking room's address.
    #[serde(default)]
    pub room: String,
    pub title: String,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// `HH:MM`.
    pub start_time: String,
    /// `HH:MM`.
    pub end_time: String,
    #[serde(default)]
    pub repeat: String,
    #[serde(default)]
    pub interval: String,
    #[serde(default)]
    pub day_mo: Option<String>,
    #[serde(default)]
    pub day_tu: Option<String>,
    #[serde(default)]
    pub day_we: Option<String>,
    #[serde(default)]
    pub day_th: Option<String>,
    #[serde(default)]
    pub day_fr: Option<String>,
    #[serde(default)]
    pub day_sa: Option<String>,
    #[serde(default)]
    pub day_su: Option<String>,
    #[serde(default)]
    pub until: String,
    #[serde(default)]
    pub count: String,
}

/// The zones a facility page shows times in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Zones {
    /// The viewer's (`zones::zone_for`): bookings' times and the booking form's.
    pub viewer: Tz,
    /// The site's, where the facilities stand: their opening hours.
    pub site: Tz,
}

impl Zones {
    /// The zones of a page for a viewer whose zone is `viewer`.
    pub fn of(site: &SiteSettings, viewer: Tz) -> Self {
        Self {
            viewer,
            site: site.timezone,
        }
    }

    /// `minutes` after midnight of `day` at the facility (the site's zone), on the viewer's clock.
    fn facility_time(self, day: NaiveDate, minutes: i32) -> NaiveDateTime {
        let local = day.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minutes));
        self.site
            .from_local_datetime(&local)
            .earliest()
            .map_or(local, |t| t.with_timezone(&self.viewer).naive_local())
    }
}

impl BookingForm {
    /// A new booking on `day`, within the facility's hours (its first hour), on the viewer's clock.
    pub fn on_day(day: NaiveDate, f: &Facility, zones: Zones) -> Self {
        let start = zones.facility_time(day, f.opens_at);
        let end = zones.facility_time(day, (f.opens_at + 60).min(f.closes_at));
        Self {
            start_date: start.date().to_string(),
            start_time: start.format("%H:%M").to_string(),
            end_time: end.format("%H:%M").to_string(),
            repeat: Repeat::Never.as_str().into(),
            interval: "1".into(),
            ..Self::default()
        }
    }

    /// The event form it amounts to (on one day, its times in `zone`: the booker's).
    fn event_form(&self, zone: Tz, place: &str) -> EventForm {
        EventForm {
            title: self.title.clone(),
            place: place.to_owned(),
            start_date: self.start_date.clone(),
            start_time: self.start_time.clone(),
            end_date: String::new(),
            end_time: self.end_time.clone(),
            tz: zone.name().to_owned(),
            repeat: self.repeat.clone(),
            interval: self.interval.clone(),
            day_mo: self.day_mo.clone(),
            day_tu: self.day_tu.clone(),
            day_we: self.day_we.clone(),
            day_th: self.day_th.clone(),
            day_fr: self.day_fr.clone(),
            day_sa: self.day_sa.clone(),
            day_su: self.day_su.clone(),
            until: self.until.clone(),
            count: self.count.clone(),
            ..EventForm::default()
        }
    }

    /// The weekday checkboxes: `(key, checked)`, Monday first.
    pub fn day_boxes(&self) -> Vec<(&'static str, bool)> {
        let days = [
            &self.day_mo,
            &self.day_tu,
            &self.day_we,
            &self.day_th,
            &self.day_fr,
            &self.day_sa,
            &self.day_su,
        ];
        WEEKDAYS
            .iter()
            .zip(days)
            .map(|((_, key), on)| (*key, on.is_some()))
            .collect()
    }
}

/// The booking that holds a slot someone asked for, as the refusal names it.
#[derive(Debug, Clone)]
pub struct Taken {
    /// Its title (empty when the asker may not read its room).
    pub title: String,
    /// Its room's name (empty when the asker may not read it).
    pub room: String,
    /// When the overlapping occurrence is, in the asker's zone.
    pub start: NaiveDateTime,
    /// Its end, in the asker's zone.
    pub end: NaiveDateTime,
}

/// What a booking attempt comes to.
#[derive(Debug)]
pub enum Booked {
    /// Booked (confirmed or pending): the new event.
    Done {
        /// The event.
        id: EventId,
        /// It waits for a manager (仮予約).
        pending: bool,
    },
    /// The form has errors (422).
    Invalid(FieldErrors),
    /// The slot is taken (409).
    Taken(Taken),
}

/// Each occurrence must lie in the facility's hours on one of its days (in the site's zone).
fn check_hours(f: &Facility, list: &[Occurrence], tz: Tz, e: &mut FieldErrors) {
    for o in list {
        let start = tz.from_utc_datetime(&o.start).naive_local();
        let end = tz.from_utc_datetime(&o.end).naive_local();
        if f.weekdays & weekday_bit(start.weekday()) == 0 {
            e.add("start_date", "facility.closed_day");
            return;
        }
        let minutes = |t: NaiveDateTime| i32::try_from(t.hour() * 60 + t.minute()).unwrap_or(0);
        let end_minutes = if end.date() == start.date() {
            minutes(end)
        } else if end.date() == start.date() + Duration::days(1) && minutes(end) == 0 {
            1440
        } else {
            i32::MAX
        };
        if minutes(start) < f.opens_at || end_minutes > f.closes_at {
            e.add("start_time", "facility.outside_hours");
            return;
        }
    }
}

/// The facts of the rules for `actor`, facility `f` and (when booking for it) `room_id`.
fn facts(
    conn: &mut DbConn,
    actor: &Actor,
    f: &Facility,
    room_id: Option<i64>,
    booker: bool,
) -> AppResult<FacilityFacts> {
    let room_allowed = match room_id {
        Some(r) if !f.all_rooms => facility::rooms_of(conn, f.id)?
            .iter()
            .any(|(id, _)| *id == r),
        Some(_) => true,
        None => false,
    };
    Ok(FacilityFacts {
        manager: facility::is_manager(conn, f.id, actor.id)?,
        room_allowed,
        booker,
    })
}

/// Books facility `facility_id` for the room the form names. Runs inside the caller's write
/// transaction: the facility's row is locked first, then every reservation of the facility that
/// may overlap is expanded over the new booking's span and compared with each of its occurrences.
pub fn book(
    conn: &mut DbConn,
    actor: &Actor,
    facility_id: i64,
    form: &BookingForm,
    site: &SiteSettings,
) -> AppResult<Booked> {
    let f = facility::lock(conn, facility_id)?;
    let slug = form.room.trim();
    let Some(room_row) = (if rooms::valid_slug(slug) {
        room::find_by_slug_opt(conn, slug)?
    } else {
        None
    }) else {
        let mut e = FieldErrors::default();
        e.add("room", "facility.choose_room");
        return Ok(Booked::Invalid(e));
    };
    let ctx = rooms::readable(conn, Some(actor), room_row)?.ok_or(AppError::NotFound)?;
    let facts = facts(conn, actor, &f, Some(ctx.room.id), false)?;
    authorize_facility(Some(actor), Some(&ctx.access), facts, FacilityAction::Book)?;
    // The booker types times on their own clock; the facility's hours stay in the site's zone,
    // where it stands (`check_hours`).
    let zone = zone_for(site, Some(actor));
    let clean = match validate(&form.event_form(zone, &f.name), zone) {
        Ok(c) => c,
        Err(AppError::Invalid(e)) => return Ok(Booked::Invalid(e)),
        Err(e) => return Err(e),
    };
    let mut e = FieldErrors::default();
    if clean.ends_at <= clean.starts_at {
        e.add("end_time", "calendar.end_before_start");
        return Ok(Booked::Invalid(e));
    }
    let fields = match save_fields(conn, &clean, "") {
        Ok(x) => x,
        Err(AppError::Invalid(e)) => return Ok(Booked::Invalid(e)),
        Err(e) => return Err(e),
    };
    // The span the new booking covers: a series must end within a year.
    let Some(last_end) = fields.series_ends_at else {
        e.add("until", "facility.series_endless");
        return Ok(Booked::Invalid(e));
    };
    if last_end - clean.starts_at > Duration::days(MAX_SERIES_DAYS) {
        e.add("until", "facility.series_too_long");
        return Ok(Booked::Invalid(e));
    }
    let window = Window {
        from: clean.starts_at,
        to: last_end,
        from_date: clean.starts_at.date(),
        to_date: last_end.date() + Duration::days(1),
    };
    let t = recur::Timing {
        starts_at: clean.starts_at,
        ends_at: clean.ends_at,
        tz: clean.tz,
        all_day: false,
        rrule: &fields.rrule,
        exdates: "",
    };
    let (mine, cut) = recur::occurrences(&t, &window).map_err(super::internal)?;
    if cut {
        e.add("count", "facility.too_many");
        return Ok(Booked::Invalid(e));
    }
    check_hours(&f, &mine, site.timezone, &mut e);
    if !e.is_empty() {
        return Ok(Booked::Invalid(e));
    }
    if let Some(taken) = first_overlap(conn, actor, &f, &mine, &window, zone)? {
        return Ok(Booked::Taken(taken));
    }
    let pending = f.needs_approval && !facts.manager && !actor.is_admin;
    let uid = format!("{}@yui", uuid::Uuid::new_v4());
    let id = event::insert(conn, ctx.room.id, &uid, &fields.borrow(), actor.id, now())?;
    facility::mark_booking(conn, id.0, f.id, if pending { PENDING } else { CONFIRMED })?;
    audit::record(
        conn,
        Some(actor.id),
        "facility.booked",
        &format!("{} #{id} {}", f.name, ctx.room.slug),
        None,
    )?;
    Ok(Booked::Done { id, pending })
}

/// The first occurrence of an existing reservation of `f` that overlaps one of `mine`.
fn first_overlap(
    conn: &mut DbConn,
    actor: &Actor,
    f: &Facility,
    mine: &[Occurrence],
    window: &Window,
    zone: Tz,
) -> AppResult<Option<Taken>> {
    let existing = facility::bookings_in_window(conn, Some(f.id), window.from, window.to)?;
    let mut found: Option<(Occurrence, Event)> = None;
    for ev in existing {
        let tz: Tz = ev.tz.parse().unwrap_or(chrono_tz::UTC);
        // Every reservation has at most `WINDOW_LIMIT` occurrences (longer ones are refused), so
        // this list is never cut short.
        let (theirs, _) = recur::occurrences(&timing(&ev, tz), window).map_err(super::internal)?;
        let hit = theirs
            .iter()
            .find(|o| mine.iter().any(|m| m.start < o.end && o.start < m.end));
        if let Some(o) = hit
            && found.as_ref().is_none_or(|(f, _)| o.start < f.start)
        {
            found = Some((*o, ev));
        }
    }
    let Some((o, ev)) = found else {
        return Ok(None);
    };
    let room_row = room::find(conn, ev.room_id)?;
    let readable = rooms::readable(conn, Some(actor), room_row)?;
    let (title, room) = match readable {
        Some(ctx) => (ev.title, ctx.room.name),
        None => (String::new(), String::new()),
    };
    Ok(Some(Taken {
        title,
        room,
        start: zone.from_utc_datetime(&o.start).naive_local(),
        end: zone.from_utc_datetime(&o.end).naive_local(),
    }))
}

/// A reservation and what the actor may do with it.
fn booking_facts(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
) -> AppResult<(Event, Facility, Option<RoomCtx>, FacilityFacts)> {
    let ev = facility::find_booking(conn, id)?;
    let f = facility::find(conn, ev.facility_id.unwrap_or_default())?;
    let room_row = room::find(conn, ev.room_id)?;
    let ctx = rooms::readable(conn, Some(actor), room_row)?;
    let facts = facts(conn, actor, &f, None, ev.created_by == actor.id)?;
    Ok((ev, f, ctx, facts))
}

/// Cancels a reservation (every date of a series): its booker while still able to write in the
/// room, the facility's managers, site admins. Returns the facility's id.
pub fn cancel(conn: &mut DbConn, actor: &Actor, id: i64) -> AppResult<i64> {
    let (ev, f, ctx, facts) = booking_facts(conn, actor, id)?;
    authorize_facility(
        Some(actor),
        ctx.as_ref().map(|c| &c.access),
        facts,
        FacilityAction::Cancel,
    )?;
    event::delete(conn, ev.id)?;
    audit::record(
        conn,
        Some(actor.id),
        "facility.cancelled",
        &format!("{} #{}", f.name, ev.id),
        None,
    )?;
    Ok(f.id)
}

/// Approves (`approve`) or rejects a pending reservation: the facility's managers and site admins.
/// A rejected one is removed. Returns the facility's id.
pub fn decide(conn: &mut DbConn, actor: &Actor, id: i64, approve: bool) -> AppResult<i64> {
    let (ev, f, _, facts) = booking_facts(conn, actor, id)?;
    authorize_facility(Some(actor), None, facts, FacilityAction::Approve)?;
    if ev.booking_state != PENDING {
        return Err(AppError::Conflict("facility.not_pending"));
    }
    if approve {
        facility::confirm_booking(conn, ev.id.0, now())?;
    } else {
        event::delete(conn, ev.id)?;
    }
    audit::record(
        conn,
        Some(actor.id),
        if approve {
            "facility.approved"
        } else {
            "facility.rejected"
        },
        &format!("{} #{}", f.name, ev.id),
        None,
    )?;
    Ok(f.id)
}

/// One occurrence of a reservation on a page.
#[derive(Debug, Clone)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts about one booking and what the viewer may do with it"
)]
pub struct Slot {
    /// The reservation's event id.
    pub event_id: i64,
    /// Its facility.
    pub facility_id: i64,
    /// Start and end in the viewer's zone.
    pub start: NaiveDateTime,
    pub end: NaiveDateTime,
    /// Its title and room (`None` when the viewer may not read the room: shown as "booked").
    pub title: Option<String>,
    pub room: Option<(String, String)>,
    /// Waiting for approval (仮予約).
    pub pending: bool,
    /// A recurring reservation.
    pub recurring: bool,
    /// The viewer may cancel it / approve or reject it.
    pub can_cancel: bool,
    pub can_decide: bool,
}

/// Expands `rows` over `window` into slots for `actor` (`readable`: the room ids they read,
/// `managed`: the facilities they manage).
fn expand_slots(
    actor: &Actor,
    rows: Vec<Event>,
    window: &Window,
    zone: Tz,
    readable: &HashMap<i64, RoomCtx>,
    managed: &HashSet<i64>,
) -> AppResult<Vec<Slot>> {
    let mut out = Vec::new();
    for ev in rows {
        let tz: Tz = ev.tz.parse().unwrap_or(chrono_tz::UTC);
        let (list, _) = recur::occurrences(&timing(&ev, tz), window).map_err(super::internal)?;
        let fid = ev.facility_id.unwrap_or_default();
        let ctx = readable.get(&ev.room_id);
        let facts = FacilityFacts {
            manager: managed.contains(&fid),
            room_allowed: true,
            booker: ev.created_by == actor.id,
        };
        let can_cancel = authorize_facility(
            Some(actor),
            ctx.map(|c| &c.access),
            facts,
            FacilityAction::Cancel,
        )
        .is_ok();
        let can_decide = ev.booking_state == PENDING
            && authorize_facility(Some(actor), None, facts, FacilityAction::Approve).is_ok();
        for o in list {
            out.push(Slot {
                event_id: ev.id.0,
                facility_id: fid,
                start: zone.from_utc_datetime(&o.start).naive_local(),
                end: zone.from_utc_datetime(&o.end).naive_local(),
                title: ctx.map(|_| ev.title.clone()),
                room: ctx.map(|c| (c.room.name.clone(), c.room.slug.clone())),
                pending: ev.booking_state == PENDING,
                recurring: !ev.rrule.is_empty(),
                can_cancel,
                can_decide,
            });
        }
    }
    out.sort_by_key(|s| (s.start, s.event_id));
    Ok(out)
}

/// The rooms the actor reads, by id (one fixed set of statements, however many rooms there are).
fn readable_rooms(conn: &mut DbConn, actor: &Actor) -> AppResult<HashMap<i64, RoomCtx>> {
    Ok(rooms::readable_many(conn, actor, |r| !r.archived)?
        .into_iter()
        .map(|c| (c.room.id, c))
        .collect())
}

/// `/facilities`: every facility by category, with each one's reservations on `day`.
#[derive(Debug, Clone)]
pub struct DayView {
    /// The zones the page shows times in.
    pub zones: Zones,
    /// The day shown.
    pub day: NaiveDate,
    /// The facilities, by category and name.
    pub facilities: Vec<Facility>,
    /// The day's occurrences of every facility's reservations.
    pub slots: Vec<Slot>,
    /// Pending reservations the actor may decide on.
    pub waiting: usize,
}

/// The day view: a fixed number of statements whatever the number of rooms or facilities (the
/// facilities, the day's reservations of all of them, the actor's rooms and managed facilities).
pub fn day_view(
    conn: &mut DbConn,
    actor: &Actor,
    day: NaiveDate,
    site: &SiteSettings,
) -> AppResult<DayView> {
    authorize_facility(
        Some(actor),
        None,
        FacilityFacts::default(),
        FacilityAction::View,
    )?;
    let facilities = facility::list(conn)?;
    let zone = zone_for(site, Some(actor));
    let window = Window::days(day, day + Duration::days(1), zone);
    let rows = facility::bookings_in_window(conn, None, window.from, window.to)?;
    let readable = readable_rooms(conn, actor)?;
    let managed: HashSet<i64> = facility::managed_by(conn, actor.id)?.into_iter().collect();
    let slots = expand_slots(actor, rows, &window, zone, &readable, &managed)?;
    let waiting = if actor.is_admin {
        facility::pending_of(conn, &facilities.iter().map(|f| f.id).collect::<Vec<_>>())?.len()
    } else {
        facility::pending_of(conn, &managed.iter().copied().collect::<Vec<_>>())?.len()
    };
    Ok(DayView {
        zones: Zones::of(site, zone),
        day,
        facilities,
        slots,
        waiting,
    })
}

/// `/facilities/{id}`: a facility, its week, the rooms the actor may book it for.
#[derive(Debug, Clone)]
pub struct FacilityView {
    /// The zones the page shows times in.
    pub zones: Zones,
    /// The facility.
    pub facility: Facility,
    /// The rooms that may book it (empty: every room).
    pub rooms: Vec<String>,
    /// Its managers' logins.
    pub managers: Vec<String>,
    /// The week's Monday.
    pub week: NaiveDate,
    /// The week's occurrences.
    pub slots: Vec<Slot>,
    /// The actor's rooms they may book it for: `(slug, name)`.
    pub bookable: Vec<(String, String)>,
    /// Pending reservations (any date) the actor may decide on.
    pub waiting: Vec<Slot>,
}

/// A facility's page for the week that holds `day` (Monday first).
pub fn facility_view(
    conn: &mut DbConn,
    actor: &Actor,
    id: i64,
    day: NaiveDate,
    site: &SiteSettings,
) -> AppResult<FacilityView> {
    authorize_facility(
        Some(actor),
        None,
        FacilityFacts::default(),
        FacilityAction::View,
    )?;
    let f = facility::find(conn, id)?;
    let week = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
    let zone = zone_for(site, Some(actor));
    let window = Window::days(week, week + Duration::days(7), zone);
    let rows = facility::bookings_in_window(conn, Some(id), window.from, window.to)?;
    let readable = readable_rooms(conn, actor)?;
    let managed: HashSet<i64> = facility::managed_by(conn, actor.id)?.into_iter().collect();
    let slots = expand_slots(actor, rows, &window, zone, &readable, &managed)?;
    let allowed = facility::rooms_of(conn, id)?;
    let is_manager = managed.contains(&id);
    let mut bookable: Vec<(String, String)> = readable
        .values()
        .filter(|c| {
            let facts = FacilityFacts {
                manager: is_manager,
                room_allowed: f.all_rooms || allowed.iter().any(|(r, _)| *r == c.room.id),
                booker: false,
            };
            authorize_facility(Some(actor), Some(&c.access), facts, FacilityAction::Book).is_ok()
        })
        .map(|c| (c.room.slug.clone(), c.room.name.clone()))
        .collect();
    bookable.sort();
    let waiting = if is_manager || actor.is_admin {
        let pending = facility::pending_of(conn, &[id])?;
        let today = zone.from_utc_datetime(&now()).date_naive();
        let far = Window::days(
            today - Duration::days(1),
            today + Duration::days(MAX_SERIES_DAYS * 2),
            zone,
        );
        let mut list = expand_slots(actor, pending, &far, zone, &readable, &managed)?;
        // One line per reservation (its first coming date).
        let mut seen = HashSet::new();
        list.retain(|s| seen.insert(s.event_id));
        list
    } else {
        Vec::new()
    };
    Ok(FacilityView {
        zones: Zones::of(site, zone),
        rooms: if f.all_rooms {
            Vec::new()
        } else {
            allowed.into_iter().map(|(_, s)| s).collect()
        },
        managers: facility::managers_of(conn, id)?
            .into_iter()
            .map(|(_, l)| l)
            .collect(),
        facility: f,
        week,
        slots,
        bookable,
        waiting,
    })
}
