//! Importing an `.ics` file into a room's calendar (issue #12 item 4): all or nothing. Every event
//! of the file is read and checked as the event form checks what a person types, before anything
//! is written; one problem anywhere and nothing is imported, with a report naming each event and
//! what is wrong with it. An event whose `UID` this room already has is skipped, so importing the
//! same file twice adds nothing. Read with the `icalendar` crate's parser.

use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use icalendar::{CalendarComponent, CalendarDateTime, Component, DatePerhapsTime, EventLike};

use super::recur::{self, Rule};
use super::{EventForm, room_for_new_event, save_fields, validate};
use crate::db::DbConn;
use crate::error::{AppError, AppResult};
use crate::models::{audit, event, now};
use crate::services::rooms::RoomCtx;
use crate::services::site::SiteSettings;
use crate::services::zones::zone_for;
use crate::services::{Actor, Core};

/// The largest file the import reads.
pub const MAX_BYTES: usize = 1024 * 1024;
/// The most events one file may hold.
pub const MAX_EVENTS: usize = 1000;

/// One problem of the file: which event (its title as the file names it, empty for the file as a
/// whole) and what is wrong, as an i18n key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The event's position in the file (1 = the first), 0 for the file.
    pub number: usize,
    /// Its `SUMMARY`.
    pub title: String,
    /// An i18n key.
    pub message: &'static str,
}

/// What an import did, or why it did nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    /// Every event was imported (`added`) or already in the room (`skipped`).
    Done {
        added: usize,
        skipped: usize,
        /// The added events wait for approval (the importer's saves wait in this room).
        waiting: bool,
    },
    /// Nothing was imported.
    Refused(Vec<Problem>),
}

/// An event of the file, read as the form would have it.
struct Candidate {
    uid: Option<String>,
    form: EventForm,
    /// `EXDATE` values, as the stored list writes them.
    exdates: Vec<NaiveDateTime>,
}

fn problem(number: usize, title: &str, message: &'static str) -> Problem {
    Problem {
        number,
        title: title.to_owned(),
        message,
    }
}

/// A `DTSTART`/`DTEND`/`EXDATE` as a wall-clock time in `tz` (a `DATE`: `None` for the time).
fn local(value: &DatePerhapsTime, tz: Tz) -> Option<(NaiveDate, Option<NaiveDateTime>)> {
    match value {
        DatePerhapsTime::Date(d) => Some((*d, None)),
        DatePerhapsTime::DateTime(dt) => {
            let local = match dt {
                CalendarDateTime::Floating(t) => *t,
                CalendarDateTime::Utc(t) => tz.from_utc_datetime(&t.naive_utc()).naive_local(),
                CalendarDateTime::WithTimezone { date_time, tzid } => {
                    let zone: Tz = tzid.parse().ok()?;
                    let utc = zone.from_local_datetime(date_time).earliest()?.naive_utc();
                    tz.from_utc_datetime(&utc).naive_local()
                }
            };
            Some((local.date(), Some(local)))
        }
    }
}

/// The zone an event repeats in: its start's `TZID`, else `default_tz` (the importer's: a
/// floating time is the wall clock of whoever reads it).
fn zone_of(start: &DatePerhapsTime, default_tz: Tz) -> Result<Tz, &'static str> {
    match start {
        DatePerhapsTime::DateTime(CalendarDateTime::WithTimezone { tzid, .. }) => {
            tzid.parse().map_err(|_| "calendar.import_unknown_zone")
        }
        _ => Ok(default_tz),
    }
}

/// An RRULE's parts in a comparable form: sorted, `BYDAY`'s days sorted, `INTERVAL=1` dropped (the
/// default) and `UNTIL` only present or not (its instant is written per zone).
fn rule_shape(rule: &str) -> Vec<String> {
    let mut parts: Vec<String> = rule
        .split(';')
        .filter(|p| !p.is_empty() && *p != "INTERVAL=1")
        .map(|p| match p.split_once('=') {
            Some(("UNTIL", _)) => "UNTIL".to_owned(),
            Some(("BYDAY", days)) => {
                let mut days: Vec<&str> = days.split(',').collect();
                days.sort_unstable();
                format!("BYDAY={}", days.join(","))
            }
            _ => p.to_owned(),
        })
        .collect();
    parts.sort();
    parts
}

/// Reads one `VEVENT` into the form's fields.
fn candidate(ev: &icalendar::Event, default_tz: Tz) -> Result<Candidate, &'static str> {
    if ev.get_recurrence_id().is_some() {
        return Err("calendar.import_changed_occurrence");
    }
    let start = ev.get_start().ok_or("calendar.import_no_start")?;
    let tz = zone_of(&start, default_tz)?;
    let (start_day, start_time) = local(&start, tz).ok_or("calendar.import_unknown_zone")?;
    let all_day = start_time.is_none();
    let (end_day, end_time) = match ev.get_end() {
        Some(end) => {
            let (day, time) = local(&end, tz).ok_or("calendar.import_unknown_zone")?;
            // An all-day event's DTEND is the day after its last.
            (
                if all_day {
                    day - Duration::days(1)
                } else {
                    day
                },
                time,
            )
        }
        None if all_day => (start_day, None),
        None => (start_day, start_time),
    };
    let mut form = EventForm {
        title: ev.get_summary().unwrap_or_default().to_owned(),
        description: ev.get_description().unwrap_or_default().to_owned(),
        place: ev.get_location().unwrap_or_default().to_owned(),
        start_date: start_day.to_string(),
        end_date: end_day.to_string(),
        tz: tz.name().to_owned(),
        all_day: all_day.then(|| "on".to_owned()),
        ..EventForm::default()
    };
    if let (Some(s), Some(e)) = (start_time, end_time) {
        form.start_time = s.format("%H:%M").to_string();
        form.end_time = e.format("%H:%M").to_string();
    }
    if let Some(text) = ev.property_value("RRULE") {
        let mut rule = Rule::parse(text.trim(), tz).ok_or("calendar.import_rule")?;
        let mut theirs = text.trim().to_owned();
        if rule.repeat == crate::db::types::Repeat::Weekly && rule.weekdays.is_empty() {
            // Weekly without days: the start's weekday (RFC 5545), which the form ticks.
            use chrono::Datelike;
            let day = start_day.weekday();
            rule.weekdays.push(day);
            theirs = format!("{theirs};BYDAY={}", recur::ical_weekday(day));
        }
        form = form.with_rule(&rule);
        // Only the shapes the form offers: the rule it understood must say what the file says
        // (a "1st and 3rd Monday" or "every Tuesday of the month" would otherwise change meaning).
        let start = start_day.and_time(start_time.map_or(chrono::NaiveTime::MIN, |t| t.time()));
        let written = rule.to_rrule(start, tz, all_day).unwrap_or_default();
        if rule_shape(&written) != rule_shape(&theirs) {
            return Err("calendar.import_rule");
        }
    }
    let mut exdates = Vec::new();
    let listed = ev
        .properties()
        .get("EXDATE")
        .into_iter()
        .chain(ev.multi_properties().get("EXDATE").into_iter().flatten());
    for property in listed {
        let zone = property
            .params()
            .get("TZID")
            .map(|p| p.value().parse::<Tz>())
            .transpose()
            .map_err(|_| "calendar.import_unknown_zone")?
            .unwrap_or(tz);
        for value in property.value().split(',') {
            let value = value.trim();
            let at = if value.len() == 8 {
                NaiveDate::parse_from_str(value, "%Y%m%d")
                    .ok()
                    .map(|d| d.and_time(chrono::NaiveTime::MIN))
            } else if let Some(utc) = value.strip_suffix('Z') {
                NaiveDateTime::parse_from_str(utc, "%Y%m%dT%H%M%S").ok()
            } else {
                NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%S")
                    .ok()
                    .and_then(|t| zone.from_local_datetime(&t).earliest())
                    .map(|t| t.naive_utc())
            };
            exdates.push(at.ok_or("calendar.import_bad_exdate")?);
        }
    }
    Ok(Candidate {
        uid: ev.get_uid().map(str::to_owned),
        form,
        exdates,
    })
}

/// Imports the `.ics` text into the room `slug`'s calendar, all or nothing (see the module);
/// answers the room with what happened.
pub fn import(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    text: &str,
    site: &SiteSettings,
) -> AppResult<(RoomCtx, Imported)> {
    let ctx = room_for_new_event(conn, actor, slug)?;
    let outcome = import_into(core, conn, actor, &ctx, text, site)?;
    Ok((ctx, outcome))
}

fn import_into(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &RoomCtx,
    text: &str,
    site: &SiteSettings,
) -> AppResult<Imported> {
    if text.len() > MAX_BYTES {
        return Ok(Imported::Refused(vec![problem(
            0,
            "",
            "calendar.import_too_large",
        )]));
    }
    let calendar: icalendar::Calendar = match text.parse() {
        Ok(c) => c,
        Err(_) => {
            return Ok(Imported::Refused(vec![problem(
                0,
                "",
                "calendar.import_unreadable",
            )]));
        }
    };
    let events: Vec<&icalendar::Event> = calendar
        .components
        .iter()
        .filter_map(|c| match c {
            CalendarComponent::Event(e) => Some(e),
            _ => None,
        })
        .collect();
    if events.is_empty() {
        return Ok(Imported::Refused(vec![problem(
            0,
            "",
            "calendar.import_empty",
        )]));
    }
    if events.len() > MAX_EVENTS {
        return Ok(Imported::Refused(vec![problem(
            0,
            "",
            "calendar.import_too_many",
        )]));
    }
    let zone = zone_for(site, Some(actor));
    // Check everything first; write nothing unless all of it is right.
    let mut problems = Vec::new();
    let mut ready = Vec::new();
    for (i, ev) in events.iter().enumerate() {
        let number = i + 1;
        let title = ev.get_summary().unwrap_or_default();
        let c = match candidate(ev, zone) {
            Ok(c) => c,
            Err(message) => {
                problems.push(problem(number, title, message));
                continue;
            }
        };
        let clean = match validate(&c.form, zone) {
            Ok(clean) => clean,
            Err(AppError::Invalid(errors)) => {
                for e in &errors.0 {
                    problems.push(problem(number, title, e.message));
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        let exdates = c
            .exdates
            .iter()
            .map(|at| recur::exdate_value(*at, clean.all_day))
            .collect::<Vec<_>>()
            .join(",");
        match save_fields(conn, &clean, &exdates) {
            Ok(fields) => ready.push((c.uid, fields)),
            Err(AppError::Invalid(_)) => {
                problems.push(problem(number, title, "calendar.rule_invalid"));
            }
            Err(e) => return Err(e),
        }
    }
    if !problems.is_empty() {
        return Ok(Imported::Refused(problems));
    }
    write_all(core, conn, actor, ctx, ready)
}

/// Writes events that were all checked: a `UID` this room already has is skipped; one another
/// room has gets a new one.
fn write_all(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    ctx: &RoomCtx,
    ready: Vec<(Option<String>, super::EventFieldsOwned)>,
) -> AppResult<Imported> {
    let (mut added, mut skipped) = (0, 0);
    let at = now();
    // Imported events wait as typed ones do; the approvers get one mail for the whole file.
    let waiting = super::approval::waits(actor, ctx);
    let mut first_title = None;
    for (uid, fields) in ready {
        let uid = match uid {
            Some(uid) if !uid.is_empty() && uid.len() <= 255 => {
                match event::room_of_uid(conn, &uid)? {
                    Some(room) if room == ctx.room.id => {
                        skipped += 1;
                        continue;
                    }
                    // Another room's event has it: this one gets a name of its own.
                    Some(_) => format!("{}@yui", uuid::Uuid::new_v4()),
                    None => uid,
                }
            }
            _ => format!("{}@yui", uuid::Uuid::new_v4()),
        };
        let id = event::insert(conn, ctx.room.id, &uid, &fields.borrow(), actor.id, at)?;
        if waiting {
            event::set_waiting(conn, id, at)?;
        } else if ctx.room.need_approval {
            event::set_published(conn, id, true, at)?;
        }
        first_title.get_or_insert(fields.title);
        added += 1;
    }
    if waiting && let Some(title) = first_title {
        let title = if added > 1 {
            format!("{title} (+{})", added - 1)
        } else {
            title
        };
        super::approval::notify_approvers(core, conn, ctx, actor, &title)?;
    }
    audit::record(
        conn,
        Some(actor.id),
        "event.imported",
        &format!("{} +{added} ={skipped}", ctx.room.slug),
        None,
    )?;
    Ok(Imported::Done {
        added,
        skipped,
        waiting: waiting && added > 0,
    })
}
