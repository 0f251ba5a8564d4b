//! Room calendars (issue #12): events and series in a room's calendar (a member's private calendar
//! is their private room's), permissions from `authorize_room` like posts, recurrence kept as a rule
//! and expanded on read within the window a page asks for (`recur`), and secret per-member feed
//! addresses serving RFC 5545 (`ics`).

pub mod approval;
pub mod facilities;
pub mod holidays;
pub mod ics;
pub mod import;
pub mod recur;
pub mod reminders;
pub mod series;

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;

use super::authz::{RoomAction, authorize_room};
use super::rooms::{self, RoomCtx, load_for};
use super::site::SiteSettings;
use super::zones::zone_for;
use super::{Actor, Core, token};
use crate::db::DbConn;
use crate::db::types::{EventId, Feature, Repeat};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::markdown;
/// The event row pages show (named through this service, never through `models`).
pub use crate::models::event::Event;
use crate::models::event::{self, EventFields, Override};
use crate::models::{audit, now, user};
use recur::{Occurrence, Rule, Timing, Window};

/// The most occurrences one page lists; past it the page says the list was cut.
pub const PAGE_LIMIT: usize = 2000;

/// The event form (works without JavaScript: dates and times as `date` / `time` inputs, weekdays
/// as one checkbox each).
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct EventForm {
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub place: String,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    /// `HH:MM` (ignored for all-day events).
    #[serde(default)]
    pub start_time: String,
    /// `YYYY-MM-DD`; empty = the start's day.
    #[serde(default)]
    pub end_date: String,
    /// `HH:MM`; empty = an hour after the start.
    #[serde(default)]
    pub end_time: String,
    /// A checkbox: `on` for an all-day event.
    #[serde(default)]
    pub all_day: Option<String>,
    /// An IANA zone name; empty = the site's.
    #[serde(default)]
    pub tz: String,
    /// `Repeat`'s stored text; empty = never.
    #[serde(default)]
    pub repeat: String,
    /// Every n days/weeks/months/years; empty = 1.
    #[serde(default)]
    pub interval: String,
    /// Weekly: one checkbox per weekday.
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
    /// `YYYY-MM-DD`: the last day it may repeat on.
    #[serde(default)]
    pub until: String,
    /// How many times in all.
    #[serde(default)]
    pub count: String,
    /// Which occurrences of a series the form changes (`series::Scope`: `this`, `following`,
    /// empty = all).
    #[serde(default)]
    pub scope: String,
    /// The occurrence it changes (its original start as `recur::exdate_value` writes it).
    #[serde(default)]
    pub at: String,
}

impl EventForm {
    fn weekdays(&self) -> Vec<Weekday> {
        [
            (&self.day_mo, Weekday::Mon),
            (&self.day_tu, Weekday::Tue),
            (&self.day_we, Weekday::Wed),
            (&self.day_th, Weekday::Thu),
            (&self.day_fr, Weekday::Fri),
            (&self.day_sa, Weekday::Sat),
            (&self.day_su, Weekday::Sun),
        ]
        .into_iter()
        .filter(|(on, _)| on.is_some())
        .map(|(_, d)| d)
        .collect()
    }

    /// A new event's form on `day`: 10:00–11:00 in `tz`, the author's zone
    /// (`zones::zone_for`).
    pub fn on_day(day: NaiveDate, tz: Tz) -> Self {
        Self {
            start_date: day.to_string(),
            start_time: "10:00".into(),
            // Empty: the start's day, whatever start date is chosen (a prefilled end date stayed
            // behind when the start moved, and the form was refused as ending before it starts).
            end_date: String::new(),
            end_time: "11:00".into(),
            tz: tz.name().to_owned(),
            repeat: Repeat::Never.as_str().into(),
            interval: "1".into(),
            ..Self::default()
        }
    }

    /// The form filled from a stored event.
    pub fn from_event(e: &Event) -> Self {
        let tz: Tz = e.tz.parse().unwrap_or(chrono_tz::UTC);
        let (start, end) = local_span(e, tz);
        let rule = Rule::parse(&e.rrule, tz).unwrap_or_else(Rule::never);
        // An all-day event's stored end is the day after its last day.
        let last_day = if e.all_day {
            end.date() - Duration::days(1)
        } else {
            end.date()
        };
        Self {
            title: e.title.clone(),
            description: e.description_md.clone(),
            place: e.place.clone(),
            start_date: start.date().to_string(),
            start_time: start.format("%H:%M").to_string(),
            end_date: last_day.to_string(),
            end_time: end.format("%H:%M").to_string(),
            all_day: e.all_day.then(|| "on".to_owned()),
            tz: e.tz.clone(),
            ..Self::default()
        }
        .with_rule(&rule)
    }

    /// The form with `rule`'s fields (repeat, interval, weekdays, until, count) filled in.
    #[must_use]
    pub fn with_rule(self, rule: &Rule) -> Self {
        let has = |d| rule.weekdays.contains(&d).then(|| "on".to_owned());
        Self {
            repeat: rule.repeat.as_str().into(),
            interval: rule.interval.to_string(),
            day_mo: has(Weekday::Mon),
            day_tu: has(Weekday::Tue),
            day_we: has(Weekday::Wed),
            day_th: has(Weekday::Thu),
            day_fr: has(Weekday::Fri),
            day_sa: has(Weekday::Sat),
            day_su: has(Weekday::Sun),
            until: rule.until.map(|d| d.to_string()).unwrap_or_default(),
            count: rule.count.map(|c| c.to_string()).unwrap_or_default(),
            ..self
        }
    }
}

/// An event's start and end as wall-clock times of its own zone (all-day: the stored dates).
pub fn local_span(e: &Event, tz: Tz) -> (NaiveDateTime, NaiveDateTime) {
    if e.all_day {
        (e.starts_at, e.ends_at)
    } else {
        (
            tz.from_utc_datetime(&e.starts_at).naive_local(),
            tz.from_utc_datetime(&e.ends_at).naive_local(),
        )
    }
}

struct CleanEvent {
    title: String,
    description: String,
    place: String,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    tz: Tz,
    all_day: bool,
    rrule: Option<String>,
    rule: Rule,
}

/// No control characters (a CR or LF in a one-line field is how feeds get broken).
fn one_line(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// A whole number in `1..=max`, or `None` for an empty field (an error for anything else).
fn number(s: &str, field: &'static str, max: u32, e: &mut FieldErrors) -> Option<u32> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    match s.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Some(n),
        _ => {
            e.add(field, "error.number_range");
            None
        }
    }
}

/// The form's days and times as typed: `(start day, last day, start time, end time)`, each `None`
/// (with an error) when it cannot be read.
type TypedTimes = (
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<NaiveTime>,
    Option<NaiveTime>,
);

fn typed_times(form: &EventForm, all_day: bool, e: &mut FieldErrors) -> TypedTimes {
    let time = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").ok();
    let start_date = parse_date(&form.start_date);
    if start_date.is_none() {
        e.add("start_date", "error.date_format");
    }
    let end_date = if form.end_date.trim().is_empty() {
        start_date
    } else {
        let d = parse_date(&form.end_date);
        if d.is_none() {
            e.add("end_date", "error.date_format");
        }
        d
    };
    if all_day {
        return (
            start_date,
            end_date,
            Some(NaiveTime::MIN),
            Some(NaiveTime::MIN),
        );
    }
    let start = time(&form.start_time);
    if start.is_none() {
        e.add("start_time", "error.time_format");
    }
    let end = if form.end_time.trim().is_empty() {
        start.map(|s| s + Duration::hours(1))
    } else {
        time(&form.end_time)
    };
    if end.is_none() {
        e.add("end_time", "error.time_format");
    }
    (start_date, end_date, start, end)
}

/// The recurrence the form asks for (its fields' errors added to `e`).
fn typed_rule(form: &EventForm, e: &mut FieldErrors) -> Rule {
    let repeat = if form.repeat.is_empty() {
        Some(Repeat::Never)
    } else {
        Repeat::parse(&form.repeat)
    };
    let repeat = repeat.unwrap_or_else(|| {
        e.add("repeat", "error.invalid_choice");
        Repeat::Never
    });
    let interval = number(&form.interval, "interval", recur::MAX_INTERVAL, e).unwrap_or(1);
    let count = number(&form.count, "count", recur::MAX_COUNT, e);
    let until = if form.until.trim().is_empty() {
        None
    } else {
        let d = parse_date(&form.until);
        if d.is_none() {
            e.add("until", "error.date_format");
        }
        d
    };
    if until.is_some() && count.is_some() {
        e.add("count", "calendar.until_or_count");
    }
    Rule {
        repeat,
        interval,
        weekdays: form.weekdays(),
        until,
        count,
    }
}

/// Checks an event form; its times are in the form's zone, or in `default_tz` (the author's) when
/// the form names none.
fn validate(form: &EventForm, default_tz: Tz) -> AppResult<CleanEvent> {
    let mut e = FieldErrors::default();
    let title = form.title.trim().to_owned();
    if title.is_empty() || title.chars().count() > 200 || !one_line(&title) {
        e.add("title", "error.title_length");
    }
    let place = form.place.trim().to_owned();
    if place.chars().count() > 200 || !one_line(&place) {
        e.add("place", "error.too_long");
    }
    if form.description.chars().count() > 20_000 {
        e.add("description", "error.too_long");
    }
    let tz: Tz = if form.tz.trim().is_empty() {
        default_tz
    } else if let Ok(tz) = form.tz.trim().parse() {
        tz
    } else {
        e.add("tz", "error.invalid_timezone");
        default_tz
    };
    let all_day = form.all_day.is_some();
    let times = typed_times(form, all_day, &mut e);
    let rule = typed_rule(form, &mut e);
    e.into_result()?;
    let (Some(sd), Some(ed), Some(st), Some(et)) = times else {
        return Err(AppError::Invalid(FieldErrors::default()));
    };
    // A weekly series starts on its first chosen weekday: RFC 5545 counts DTSTART as an
    // occurrence even off the rule, the `rrule` crate does not, so they must never differ.
    let shift = if rule.repeat == Repeat::Weekly {
        (0..7)
            .find(|i| {
                rule.weekdays.is_empty()
                    || rule.weekdays.contains(&(sd + Duration::days(*i)).weekday())
            })
            .unwrap_or(0)
    } else {
        0
    };
    let (sd, ed) = (sd + Duration::days(shift), ed + Duration::days(shift));
    let mut e = FieldErrors::default();
    let (starts_at, ends_at) = if all_day {
        (
            sd.and_time(NaiveTime::MIN),
            (ed + Duration::days(1)).and_time(NaiveTime::MIN),
        )
    } else {
        let utc = |d: NaiveDate, t: NaiveTime| {
            tz.from_local_datetime(&d.and_time(t))
                .earliest()
                .map(|x| x.naive_utc())
        };
        let (Some(s), Some(x)) = (utc(sd, st), utc(ed, et)) else {
            // A wall-clock time that a DST change skips.
            e.add("start_time", "error.time_format");
            return Err(AppError::Invalid(e));
        };
        (s, x)
    };
    let ends_ok = if all_day {
        ends_at > starts_at
    } else {
        ends_at >= starts_at
    };
    if !ends_ok {
        e.add("end_date", "calendar.end_before_start");
    }
    if ends_at - starts_at > Duration::days(366) {
        e.add("end_date", "calendar.too_long");
    }
    if let Some(u) = rule.until
        && u < sd
    {
        e.add("until", "calendar.until_before_start");
    }
    e.into_result()?;
    let rrule_text = rule.to_rrule(sd.and_time(st), tz, all_day);
    Ok(CleanEvent {
        title,
        description: form.description.replace("\r\n", "\n").replace('\r', "\n"),
        place,
        starts_at,
        ends_at,
        tz,
        all_day,
        rrule: rrule_text,
        rule,
    })
}

/// Writes `clean` as new fields, checking the rule expands (the `rrule` crate agrees with it).
fn save_fields(
    conn: &mut DbConn,
    clean: &CleanEvent,
    exdates: &str,
) -> AppResult<EventFieldsOwned> {
    let rrule = clean.rrule.clone().unwrap_or_default();
    let timing = Timing {
        starts_at: clean.starts_at,
        ends_at: clean.ends_at,
        tz: clean.tz,
        all_day: clean.all_day,
        rrule: &rrule,
        exdates,
    };
    let series_ends_at = recur::series_end(&timing, &clean.rule).map_err(|err| {
        tracing::info!(error = %err, "event rule refused");
        let mut e = FieldErrors::default();
        e.add("repeat", "calendar.rule_invalid");
        AppError::Invalid(e)
    })?;
    let _ = conn;
    Ok(EventFieldsOwned {
        title: clean.title.clone(),
        description_md: clean.description.clone(),
        description_html: markdown::render(&clean.description),
        place: clean.place.clone(),
        starts_at: clean.starts_at,
        ends_at: clean.ends_at,
        tz: clean.tz.name().to_owned(),
        all_day: clean.all_day,
        rrule,
        exdates: exdates.to_owned(),
        series_ends_at,
    })
}

struct EventFieldsOwned {
    title: String,
    description_md: String,
    description_html: String,
    place: String,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    tz: String,
    all_day: bool,
    rrule: String,
    exdates: String,
    series_ends_at: Option<NaiveDateTime>,
}

impl EventFieldsOwned {
    fn borrow(&self) -> EventFields<'_> {
        EventFields {
            title: &self.title,
            description_md: &self.description_md,
            description_html: &self.description_html,
            place: &self.place,
            starts_at: self.starts_at,
            ends_at: self.ends_at,
            tz: &self.tz,
            all_day: self.all_day,
            rrule: &self.rrule,
            exdates: &self.exdates,
            series_ends_at: self.series_ends_at,
        }
    }
}

/// The room must have its calendar on (`authz` answered it in the room's capabilities).
fn ensure_calendar(actor: Option<&Actor>, ctx: &RoomCtx) -> AppResult<()> {
    authorize_room(
        actor,
        &ctx.access,
        RoomAction::UseFeature(Feature::Calendar),
    )
}

/// The room whose event form opens: one with a calendar, where the actor may write.
pub fn room_for_new_event(conn: &mut DbConn, actor: &Actor, slug: &str) -> AppResult<RoomCtx> {
    let ctx = load_for(conn, Some(actor), slug, RoomAction::CreateContent)?;
    ensure_calendar(Some(actor), &ctx)?;
    Ok(ctx)
}

/// Creates an event (or series) in a room's calendar; `true` with it when it waits for approval.
pub fn create(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    form: &EventForm,
    site: &SiteSettings,
) -> AppResult<(EventId, bool)> {
    let ctx = room_for_new_event(conn, actor, slug)?;
    let clean = validate(form, zone_for(site, Some(actor)))?;
    let fields = save_fields(conn, &clean, "")?;
    let uid = format!("{}@yui", uuid::Uuid::new_v4());
    let id = event::insert(conn, ctx.room.id, &uid, &fields.borrow(), actor.id, now())?;
    let waiting = approval::after_save(core, conn, actor, &ctx, id, true)?;
    audit::record(
        conn,
        Some(actor.id),
        "event.created",
        &format!("{} #{id}", ctx.room.slug),
        None,
    )?;
    Ok((id, waiting))
}

/// Loads an event the actor may edit: its author, or someone who may edit others' content.
pub fn for_edit(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
) -> AppResult<(RoomCtx, Event)> {
    let ctx = rooms::load(conn, Some(actor), slug)?;
    let ev = event::find_in_room(conn, ctx.room.id, id)?;
    approval::ensure_visible(Some(actor), &ctx, &ev)?;
    authorize_room(
        Some(actor),
        &ctx.access,
        RoomAction::EditContent {
            own: ev.created_by == actor.id,
        },
    )?;
    // A facility reservation changes only through the facility's booking screen, which checks
    // its hours and double bookings (deleting it here just frees the slot).
    if ev.facility_id.is_some() {
        return Err(AppError::Conflict("facility.edit_there"));
    }
    Ok((ctx, ev))
}

/// Changes an event or a whole series (its skipped occurrences stay skipped); `true` when it
/// waits for approval now.
pub fn update(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
    form: &EventForm,
    site: &SiteSettings,
) -> AppResult<bool> {
    let (ctx, ev) = for_edit(conn, actor, slug, id)?;
    let clean = validate(form, zone_for(site, Some(actor)))?;
    // Skipped occurrences belong to the old times; a series moved in time starts afresh.
    let exdates = if clean.starts_at == ev.starts_at && clean.rrule.is_some() {
        ev.exdates.clone()
    } else {
        String::new()
    };
    let fields = save_fields(conn, &clean, &exdates)?;
    event::update(conn, id, &fields.borrow(), now())?;
    let changed = event::find_in_room(conn, ctx.room.id, id)?;
    series::prune_overrides(conn, &changed, clean.starts_at != ev.starts_at)?;
    let waiting = approval::after_save(core, conn, actor, &ctx, id, ev.is_published())?;
    audit::record(
        conn,
        Some(actor.id),
        "event.updated",
        &format!("{} #{id}", ctx.room.slug),
        None,
    )?;
    Ok(waiting)
}

/// Deletes one occurrence of a series (an EXDATE), given its start as `exdate_value` wrote it.
pub fn skip_occurrence(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
    occurrence: &str,
) -> AppResult<()> {
    series::delete_scoped(conn, actor, slug, id, series::Scope::This, occurrence)
}

fn parse_occurrence(s: &str, all_day: bool) -> Option<NaiveDateTime> {
    if all_day {
        NaiveDate::parse_from_str(s, "%Y%m%d")
            .ok()
            .map(|d| d.and_time(NaiveTime::MIN))
    } else {
        NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ").ok()
    }
}

#[track_caller]
fn internal(e: recur::RuleError) -> AppError {
    AppError::Internal(anyhow::anyhow!(e))
}

fn timing(ev: &Event, tz: Tz) -> Timing<'_> {
    Timing {
        starts_at: ev.starts_at,
        ends_at: ev.ends_at,
        tz,
        all_day: ev.all_day,
        rrule: &ev.rrule,
        exdates: &ev.exdates,
    }
}

/// One occurrence on a page: the event and when this occurrence is.
#[derive(Debug, Clone)]
pub struct Scheduled {
    /// Which of the page's rooms (index into its list).
    pub room: usize,
    /// The event or series (a changed occurrence's own title, place and description in it).
    pub event: Event,
    /// This occurrence (UTC, or dates for all-day events).
    pub at: Occurrence,
    /// A series' occurrence: its original start (what names it in links), `None` for an event.
    pub recurrence: Option<NaiveDateTime>,
}

/// The event as a changed occurrence shows it.
fn with_override(ev: &Event, o: &Override) -> Event {
    Event {
        title: o.title.clone(),
        description_md: o.description_md.clone(),
        description_html: o.description_html.clone(),
        place: o.place.clone(),
        ..ev.clone()
    }
}

/// The occurrences of `rooms`' events in `window`, in order, at most `PAGE_LIMIT`; the flag says
/// whether some series or the page were cut short. A changed occurrence shows at its own times
/// (also when it was moved in from outside the window), never also at its original ones.
fn expand(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    rooms: &[&RoomCtx],
    window: &Window,
) -> AppResult<(Vec<Scheduled>, bool)> {
    let ids: Vec<i64> = rooms.iter().map(|c| c.room.id).collect();
    // All-day events hold dates, up to a day off the UTC window either way.
    let (wide_from, wide_to) = (
        window.from - Duration::days(1),
        window.to + Duration::days(1),
    );
    let mut rows = event::in_window(conn, &ids, wide_from, wide_to)?;
    let series: Vec<i64> = rows
        .iter()
        .filter(|e| !e.rrule.is_empty())
        .map(|e| e.id.0)
        .collect();
    // The changed occurrences of what starts in the window (or began up to an event's longest
    // length before it), and those moved into it; their series is read if the window had not.
    let overrides = event::overrides_for_window(
        conn,
        &ids,
        &series,
        wide_from - Duration::days(367),
        wide_from,
        wide_to,
    )?;
    for o in &overrides {
        if rows.iter().all(|e| e.id.0 != o.event_id) {
            rows.push(event::find(conn, o.event_id)?);
        }
    }
    // What waits for approval (or was sent back): only its author and the approvers see it.
    rows.retain(|ev| {
        rooms
            .iter()
            .find(|c| c.room.id == ev.room_id)
            .is_some_and(|c| approval::may_see(actor, c, ev))
    });
    let mut out = Vec::new();
    let mut cut = false;
    for ev in rows {
        let tz: Tz = ev.tz.parse().unwrap_or(chrono_tz::UTC);
        let (list, limited) = recur::occurrences(&timing(&ev, tz), window).map_err(internal)?;
        cut |= limited;
        let room = ids.iter().position(|r| *r == ev.room_id).unwrap_or(0);
        let mine: Vec<&Override> = overrides.iter().filter(|o| o.event_id == ev.id.0).collect();
        let repeats = !ev.rrule.is_empty();
        for at in list {
            if mine.iter().any(|o| o.recurrence_id == at.start) {
                continue;
            }
            out.push(Scheduled {
                room,
                event: ev.clone(),
                at,
                recurrence: repeats.then_some(at.start),
            });
        }
        for o in mine {
            let at = Occurrence {
                start: o.starts_at,
                end: o.ends_at,
            };
            if window.overlaps(&at, ev.all_day) {
                out.push(Scheduled {
                    room,
                    event: with_override(&ev, o),
                    at,
                    recurrence: Some(o.recurrence_id),
                });
            }
        }
    }
    out.sort_by_key(|s| (s.at.start, s.event.id));
    if out.len() > PAGE_LIMIT {
        out.truncate(PAGE_LIMIT);
        cut = true;
    }
    Ok((out, cut))
}

/// The days a month page shows: whole weeks, Sunday first, covering the month.
pub fn grid_days(month: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = month.with_day(1).unwrap_or(month);
    let start = first - Duration::days(i64::from(first.weekday().num_days_from_sunday()));
    let next = if first.month() == 12 {
        NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
    }
    .unwrap_or(first);
    let last = next - Duration::days(1);
    let end = last + Duration::days(i64::from(7 - last.weekday().num_days_from_sunday()));
    (start, end)
}

/// What a calendar page shows: its rooms, the occurrences in its window and what the actor may do.
#[derive(Debug, Clone)]
pub struct CalendarView {
    /// The rooms shown (one for a room's calendar).
    pub rooms: Vec<RoomCtx>,
    /// The zone the page shows times and days in: the viewer's (`zones::zone_for`).
    pub zone: Tz,
    /// The first of the month shown (a week view: the week's Sunday).
    pub month: NaiveDate,
    /// The occurrences in the grid's days, in order.
    pub items: Vec<Scheduled>,
    /// Some series (or the page) had more occurrences than a page lists.
    pub cut: bool,
    /// The actor has a live feed address for this room (room pages only).
    pub has_feed: bool,
    /// Which of `rooms` the page shows (`/calendar`'s room filter; the others are only offered).
    pub selected: Vec<bool>,
}

/// The week (Sunday first) that holds `day`: its first day and the day after its last.
pub fn week_days(day: NaiveDate) -> (NaiveDate, NaiveDate) {
    let from = day - Duration::days(i64::from(day.weekday().num_days_from_sunday()));
    (from, from + Duration::days(7))
}

/// A room's calendar for the week that holds `day` (`month` in the view is the week's Sunday).
pub fn room_week(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    day: NaiveDate,
    site: &SiteSettings,
) -> AppResult<CalendarView> {
    let (from, to) = week_days(day);
    room_days(conn, actor, slug, from, (from, to), site)
}

/// `/calendar/week`: the week that holds `day` across the member's calendars (or those `only`
/// names, as `combined_month`).
pub fn combined_week(
    conn: &mut DbConn,
    actor: &Actor,
    day: NaiveDate,
    site: &SiteSettings,
    only: &[String],
) -> AppResult<CalendarView> {
    let (from, to) = week_days(day);
    combined_days(conn, actor, from, (from, to), site, only)
}

/// A room's calendar for the month of `month` (in the site's zone).
pub fn room_month(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    month: NaiveDate,
    site: &SiteSettings,
) -> AppResult<CalendarView> {
    room_days(conn, actor, slug, month, grid_days(month), site)
}

/// A room's calendar over the days `[from, to)`; `anchor` is the month or week it shows.
fn room_days(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    anchor: NaiveDate,
    (from, to): (NaiveDate, NaiveDate),
    site: &SiteSettings,
) -> AppResult<CalendarView> {
    let month = anchor;
    let ctx = rooms::load(conn, actor, slug)?;
    ensure_calendar(actor, &ctx)?;
    let zone = zone_for(site, actor);
    let window = Window::days(from, to, zone);
    let (items, cut) = expand(conn, actor, &[&ctx], &window)?;
    let has_feed = match actor {
        Some(a) => event::has_live_feed(conn, a.id, ctx.room.id)?,
        None => false,
    };
    Ok(CalendarView {
        rooms: vec![ctx],
        zone,
        month,
        items,
        cut,
        has_feed,
        selected: vec![true],
    })
}

/// `/calendar`: every room the member reads that has a calendar, for the month of `month`; with
/// `only` (room slugs, the filter's checkboxes), just those of them (a slug of a room the member
/// does not read selects nothing).
pub fn combined_month(
    conn: &mut DbConn,
    actor: &Actor,
    month: NaiveDate,
    site: &SiteSettings,
    only: &[String],
) -> AppResult<CalendarView> {
    combined_days(conn, actor, month, grid_days(month), site, only)
}

/// The member's calendars over the days `[from, to)`; `anchor` is the month or week it shows.
fn combined_days(
    conn: &mut DbConn,
    actor: &Actor,
    anchor: NaiveDate,
    (from, to): (NaiveDate, NaiveDate),
    site: &SiteSettings,
    only: &[String],
) -> AppResult<CalendarView> {
    let month = anchor;
    let rooms = calendar_rooms(conn, actor)?;
    let zone = zone_for(site, Some(actor));
    let window = Window::days(from, to, zone);
    let selected: Vec<bool> = rooms
        .iter()
        .map(|c| only.is_empty() || only.contains(&c.room.slug))
        .collect();
    // Indexes of the shown rooms in `rooms`, so each keeps its colour whatever is filtered out.
    let shown: Vec<usize> = (0..rooms.len()).filter(|i| selected[*i]).collect();
    let refs: Vec<&RoomCtx> = shown.iter().map(|i| &rooms[*i]).collect();
    let (mut items, cut) = expand(conn, Some(actor), &refs, &window)?;
    for s in &mut items {
        s.room = shown[s.room];
    }
    Ok(CalendarView {
        rooms,
        zone,
        month,
        items,
        cut,
        has_feed: false,
        selected,
    })
}

/// Every room the member reads that has a calendar.
fn calendar_rooms(conn: &mut DbConn, actor: &Actor) -> AppResult<Vec<RoomCtx>> {
    Ok(rooms::readable_many(conn, actor, |r| !r.archived)?
        .into_iter()
        .filter(|c| ensure_calendar(Some(actor), c).is_ok())
        .collect())
}

/// How many of the next dates the member's home lists.
const UPCOMING_SHOWN: usize = 8;

/// Today's and the coming `days` days' dates across every calendar the member reads (the member's
/// home), the first `UPCOMING_SHOWN` of them.
pub fn upcoming(
    conn: &mut DbConn,
    actor: &Actor,
    site: &SiteSettings,
    days: i64,
) -> AppResult<CalendarView> {
    let rooms = calendar_rooms(conn, actor)?;
    let zone = zone_for(site, Some(actor));
    let today = today(zone);
    let window = Window::days(today, today + Duration::days(days + 1), zone);
    let refs: Vec<&RoomCtx> = rooms.iter().collect();
    let (mut items, cut) = expand(conn, Some(actor), &refs, &window)?;
    // Already over: not "upcoming" (an all-day event of today stays).
    let at = now();
    items.retain(|s| s.event.all_day || s.at.end > at);
    items.truncate(UPCOMING_SHOWN);
    let selected = vec![true; rooms.len()];
    Ok(CalendarView {
        rooms,
        zone,
        month: today,
        items,
        cut,
        has_feed: false,
        selected,
    })
}

/// An event's page: the event, its room, its next occurrences, and what the actor may do.
#[derive(Debug, Clone)]
pub struct EventPage {
    /// The room and access.
    pub ctx: RoomCtx,
    /// The event.
    pub event: Event,
    /// Its author's display name.
    pub author_name: String,
    /// The next occurrences (a series), from today, at most 10: each one's original start (what
    /// names it) and when it is.
    pub upcoming: Vec<(NaiveDateTime, Occurrence)>,
    /// The one occurrence the page is about (`?at=`), with its own fields when it was changed.
    pub occurrence: Option<series::OccurrenceView>,
    /// The actor's reminders of it.
    pub reminders: Vec<event::Reminder>,
    /// Edit it.
    pub can_edit: bool,
    /// Delete it.
    pub can_delete: bool,
    /// The zone the page shows times in: the viewer's (`zones::zone_for`).
    pub zone: Tz,
    /// Approve it or send it back (it waits, and the actor may approve here).
    pub can_approve: bool,
}

/// Loads an event's page, or the page of one of its occurrences (`at`, as `exdate_value` writes
/// its original start).
pub fn show(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    id: EventId,
    at: Option<&str>,
    site: &SiteSettings,
) -> AppResult<EventPage> {
    let ctx = rooms::load(conn, actor, slug)?;
    let ev = event::find_in_room(conn, ctx.room.id, id)?;
    approval::ensure_visible(actor, &ctx, &ev)?;
    let own = actor.is_some_and(|a| a.id == ev.created_by);
    let can_edit = authorize_room(actor, &ctx.access, RoomAction::EditContent { own }).is_ok();
    let can_delete = authorize_room(
        actor,
        &ctx.access,
        RoomAction::DeleteContent {
            own,
            ever_published: ev.ever_published,
        },
    )
    .is_ok();
    let can_approve = ev.approval == event::APPROVAL_PENDING
        && authorize_room(actor, &ctx.access, RoomAction::Publish).is_ok();
    let occurrence = match at {
        Some(key) => Some(series::occurrence_view(conn, &ev, key)?),
        None => None,
    };
    let tz: Tz = ev.tz.parse().unwrap_or(chrono_tz::UTC);
    let zone = zone_for(site, actor);
    let upcoming = if ev.rrule.is_empty() {
        Vec::new()
    } else {
        let today = today(zone);
        let window = Window::days(today, today + Duration::days(3 * 366), zone);
        let (mut list, _) = recur::occurrences(&timing(&ev, tz), &window).map_err(internal)?;
        list.truncate(10);
        let changed = match (list.first(), list.last()) {
            (Some(a), Some(b)) => {
                event::overrides_of(conn, &[ev.id.0], a.start, b.start + Duration::seconds(1))?
            }
            _ => Vec::new(),
        };
        list.into_iter()
            .map(|o| {
                let at = changed
                    .iter()
                    .find(|c| c.recurrence_id == o.start)
                    .map_or(o, |c| Occurrence {
                        start: c.starts_at,
                        end: c.ends_at,
                    });
                (o.start, at)
            })
            .collect()
    };
    let author_name = user::find(conn, ev.created_by)?.display_name;
    let reminders = match actor {
        Some(a) => reminders::mine(conn, a, &ev)?,
        None => Vec::new(),
    };
    Ok(EventPage {
        ctx,
        event: ev,
        author_name,
        upcoming,
        occurrence,
        reminders,
        can_edit,
        can_delete,
        zone,
        can_approve,
    })
}

/// One event (or series) as an `.ics` file, for those who may read it.
pub fn event_ics(
    conn: &mut DbConn,
    actor: Option<&Actor>,
    slug: &str,
    id: EventId,
    base_url: &str,
) -> AppResult<String> {
    let ctx = rooms::load(conn, actor, slug)?;
    let ev = event::find_in_room(conn, ctx.room.id, id)?;
    approval::ensure_visible(actor, &ctx, &ev)?;
    let changed = event::all_overrides(conn, id)?;
    Ok(ics::calendar(
        &ctx.room.name,
        &[ev],
        &changed,
        base_url,
        &ctx.room.slug,
    ))
}

/// Makes a new secret feed address for the actor and a room they read (an older one stops working);
/// returns the token, shown once.
pub fn new_feed(conn: &mut DbConn, actor: &Actor, slug: &str) -> AppResult<String> {
    let ctx = rooms::load(conn, Some(actor), slug)?;
    ensure_calendar(Some(actor), &ctx)?;
    let at = now();
    event::revoke_feeds(conn, actor.id, ctx.room.id, at)?;
    let token = token::new_token();
    event::insert_feed(conn, &token::hash_token(&token), actor.id, ctx.room.id, at)?;
    Ok(token)
}

/// Revokes the actor's feed address for a room.
pub fn revoke_feed(conn: &mut DbConn, actor: &Actor, slug: &str) -> AppResult<()> {
    let ctx = rooms::load(conn, Some(actor), slug)?;
    event::revoke_feeds(conn, actor.id, ctx.room.id, now())?;
    Ok(())
}

/// A feed as served: its text and a validator that changes whenever the calendar does.
#[derive(Debug, Clone)]
pub struct FeedBody {
    /// The `.ics` text.
    pub ics: String,
    /// A strong `ETag` value (quoted).
    pub etag: String,
}

/// The `ETag` of a feed: which feed, how many events and their newest change.
fn feed_etag(feed_id: i64, version: (Option<NaiveDateTime>, i64)) -> String {
    let stamp = version.0.map_or(0, |t| t.and_utc().timestamp_micros());
    format!("\"f{feed_id}-{}-{stamp}\"", version.1)
}

/// The feed a secret address names, for its owner as they are now: a revoked token, a disabled
/// account, or a room (or calendar) they may no longer read answers 404. `if_none_match` lets an
/// unchanged feed be answered without building it (`Ok(None)` with the `ETag`).
pub fn feed(
    conn: &mut DbConn,
    token: &str,
    if_none_match: Option<&str>,
    base_url: &str,
) -> AppResult<(String, Option<FeedBody>)> {
    if !token::looks_like_token(token) {
        return Err(AppError::NotFound);
    }
    let feed = event::live_feed(conn, &token::hash_token(token))?;
    let owner = user::find(conn, feed.user_id)?;
    if owner.disabled {
        return Err(AppError::NotFound);
    }
    let actor = Actor::from(&owner);
    let room = crate::models::room::find(conn, feed.room_id)?;
    let ctx = rooms::readable(conn, Some(&actor), room)?.ok_or(AppError::NotFound)?;
    ensure_calendar(Some(&actor), &ctx)?;
    let etag = feed_etag(feed.id, event::room_version(conn, ctx.room.id)?);
    if if_none_match.is_some_and(|v| v.split(',').any(|t| t.trim() == etag)) {
        return Ok((etag, None));
    }
    let events = event::all_in_room(conn, ctx.room.id)?;
    let changed = event::overrides_in_room(conn, ctx.room.id)?;
    let ics = ics::calendar(&ctx.room.name, &events, &changed, base_url, &ctx.room.slug);
    Ok((etag.clone(), Some(FeedBody { ics, etag })))
}

/// The first of the month of `year`-`month`, when it is a real month in a sane range.
pub fn month_start(year: i32, month: u32) -> Option<NaiveDate> {
    if !(1900..=2200).contains(&year) {
        return None;
    }
    NaiveDate::from_ymd_opt(year, month, 1)
}

/// The first of the current month in `zone` (the viewer's).
pub fn this_month(zone: Tz) -> NaiveDate {
    let today = today(zone);
    today.with_day(1).unwrap_or(today)
}

/// Today in `zone` (the viewer's).
pub fn today(zone: Tz) -> NaiveDate {
    zone.from_utc_datetime(&now()).date_naive()
}
