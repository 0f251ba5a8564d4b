//! Reminders by mail (issue #12): a member who reads a calendar asks to be reminded N minutes,
//! hours or days before an event, each of its occurrences for a series. The jobs loop (`send_due`)
//! queues each reminder of each occurrence once, across processes: the claim row (unique on the
//! reminder and the occurrence's original start) is inserted in the transaction that queues the
//! mail through the outbox. Deleted occurrences get none; a changed one is reminded at its new time.

use chrono::{Duration, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use super::recur::{self, Window};
use super::{Event, ensure_calendar, internal, timing};
use crate::db::DbConn;
use crate::db::types::EventId;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::models::event::{self, Override, Reminder};
use crate::models::{now, room, user};
use crate::services::mail::{self, Recipient, emails::EventReminder};
use crate::services::{Actor, Core, rooms, site};

/// The longest lead a reminder may have.
pub const MAX_DAYS: i32 = 28;
const MAX_MINUTES: i32 = MAX_DAYS * 24 * 60;

/// The reminder form: how many of which unit before.
#[derive(Debug, Clone, Default, serde::Deserialize)]
pub struct ReminderForm {
    /// A whole number (0: when it starts).
    pub amount: String,
    /// `minutes`, `hours` or `days`.
    pub unit: String,
}

impl ReminderForm {
    fn minutes(&self) -> Option<i32> {
        let n: i32 = self.amount.trim().parse().ok()?;
        let per = match self.unit.as_str() {
            "minutes" => 1,
            "hours" => 60,
            "days" => 24 * 60,
            _ => return None,
        };
        let m = n.checked_mul(per)?;
        (0..=MAX_MINUTES).contains(&m).then_some(m)
    }
}

/// A lead as the page shows it: `(amount, unit)` in the largest whole unit.
pub fn lead(minutes: i32) -> (i32, &'static str) {
    if minutes > 0 && minutes % (24 * 60) == 0 {
        (minutes / (24 * 60), "days")
    } else if minutes > 0 && minutes % 60 == 0 {
        (minutes / 60, "hours")
    } else {
        (minutes, "minutes")
    }
}

/// The event of a calendar the actor reads (who may read it may be reminded of it).
fn readable_event(conn: &mut DbConn, actor: &Actor, slug: &str, id: EventId) -> AppResult<Event> {
    let ctx = rooms::load(conn, Some(actor), slug)?;
    let ev = event::find_in_room(conn, ctx.room.id, id)?;
    super::approval::ensure_visible(Some(actor), &ctx, &ev)?;
    Ok(ev)
}

/// Adds a reminder of the event for the actor (one they already have is kept as it is).
pub fn add(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
    form: &ReminderForm,
) -> AppResult<()> {
    let ev = readable_event(conn, actor, slug, id)?;
    let Some(minutes) = form.minutes() else {
        let mut e = FieldErrors::default();
        e.add("amount", "calendar.reminder_invalid");
        return Err(AppError::Invalid(e));
    };
    event::add_reminder(conn, ev.id, actor.id, minutes, now())?;
    Ok(())
}

/// Removes one of the actor's reminders of the event (another's, or another event's: 404).
pub fn remove(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
    reminder_id: i64,
) -> AppResult<()> {
    let ev = readable_event(conn, actor, slug, id)?;
    event::delete_reminder(conn, reminder_id, ev.id, actor.id)?;
    Ok(())
}

/// The actor's reminders of an event.
pub fn mine(conn: &mut DbConn, actor: &Actor, ev: &Event) -> AppResult<Vec<Reminder>> {
    Ok(event::reminders_of(conn, ev.id, actor.id)?)
}

/// One occurrence a reminder is due for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// The reminder.
    pub reminder_id: i64,
    /// The occurrence's original start (what the claim is unique on).
    pub occurrence: NaiveDateTime,
}

/// The instant an occurrence starts (all-day events: midnight of their day in their zone).
fn instant(ev: &Event, tz: Tz, start: NaiveDateTime) -> NaiveDateTime {
    if ev.all_day {
        tz.from_local_datetime(&start)
            .earliest()
            .map_or(start, |t| t.naive_utc())
    } else {
        start
    }
}

/// The occurrences of `ev` that `r` is due for at `at`: they start after `at` and at most its lead
/// later, and their reminder time came after the reminder was made (a new reminder does not send
/// a burst for times already past). Changed occurrences count at their new time, deleted ones not.
fn due_for(conn: &mut DbConn, ev: &Event, r: &Reminder, at: NaiveDateTime) -> AppResult<Vec<Due>> {
    let tz: Tz = ev.tz.parse().unwrap_or(chrono_tz::UTC);
    let lead = Duration::minutes(i64::from(r.minutes_before));
    let window = Window::days(
        at.date() - Duration::days(1),
        (at + lead).date() + Duration::days(2),
        chrono_tz::UTC,
    );
    let (list, _) = recur::occurrences(&timing(ev, tz), &window).map_err(internal)?;
    let changed: Vec<Override> = if ev.rrule.is_empty() {
        Vec::new()
    } else {
        event::all_overrides(conn, ev.id)?
    };
    let mut starts: Vec<(NaiveDateTime, NaiveDateTime)> = list
        .iter()
        .filter(|o| changed.iter().all(|c| c.recurrence_id != o.start))
        .map(|o| (o.start, o.start))
        .collect();
    starts.extend(changed.iter().map(|c| (c.recurrence_id, c.starts_at)));
    Ok(starts
        .into_iter()
        .filter(|(_, start)| {
            let s = instant(ev, tz, *start);
            s > at && s - lead <= at && s - lead >= r.created_at
        })
        .map(|(occurrence, _)| Due {
            reminder_id: r.id,
            occurrence,
        })
        .collect())
}

/// What is due at `at`, read without locking anything.
pub fn due(conn: &mut DbConn, at: NaiveDateTime) -> AppResult<Vec<Due>> {
    let rows = event::reminder_candidates(
        conn,
        at - Duration::days(1),
        at + Duration::days(i64::from(MAX_DAYS) + 1),
    )?;
    let mut out = Vec::new();
    for (r, ev) in &rows {
        out.extend(due_for(conn, ev, r, at)?);
    }
    // Already queued (a due reminder stays due until its date starts): not claimed again every
    // round. A claim is made after its reminder time, which is at most `MAX_DAYS` before `at`.
    if !out.is_empty() {
        let ids: Vec<i64> = rows.iter().map(|(r, _)| r.id).collect();
        let done = event::claimed_since(conn, &ids, at - Duration::days(i64::from(MAX_DAYS) + 1))?;
        out.retain(|d| !done.contains(&(d.reminder_id, d.occurrence)));
    }
    Ok(out)
}

/// Queues every reminder mail due at `at` (the jobs loop, every few seconds); returns how many
/// mails it queued. Each one is claimed in the transaction that queues it, so two processes (or
/// two rounds) never queue the same reminder of the same occurrence twice.
pub fn send_due(core: &Core, at: NaiveDateTime) -> AppResult<usize> {
    let due = core.db.run_sync(false, |conn| due(conn, at))?;
    queue_due(core, &due, at)
}

/// Queues the mails of `due` (read earlier, perhaps by another process too), each in its own
/// transaction with its claim; returns how many this call queued.
pub fn queue_due(core: &Core, due: &[Due], at: NaiveDateTime) -> AppResult<usize> {
    let mut sent = 0;
    for d in due {
        sent += core
            .db
            .run_sync(true, |conn| queue_one(core, conn, *d, at))?;
    }
    Ok(sent)
}

/// Claims one due reminder and queues its mail, when its owner may still read the calendar.
fn queue_one(core: &Core, conn: &mut DbConn, d: Due, at: NaiveDateTime) -> AppResult<usize> {
    let Some(r) = event::find_reminder(conn, d.reminder_id)? else {
        return Ok(0);
    };
    if !event::claim_reminder(conn, r.id, d.occurrence, at)? {
        return Ok(0);
    }
    let owner = user::find(conn, r.user_id)?;
    if owner.disabled {
        return Ok(0);
    }
    let actor = Actor::from(&owner);
    let ev = event::find(conn, r.event_id)?;
    let room = room::find(conn, ev.room_id)?;
    let Some(ctx) = rooms::readable(conn, Some(&actor), room)? else {
        return Ok(0);
    };
    if ensure_calendar(Some(&actor), &ctx).is_err() {
        return Ok(0);
    }
    let changed = if ev.rrule.is_empty() {
        None
    } else {
        event::find_override(conn, ev.id, d.occurrence)?
    };
    let (start, end) = changed.as_ref().map_or(
        (d.occurrence, d.occurrence + (ev.ends_at - ev.starts_at)),
        |c| (c.starts_at, c.ends_at),
    );
    // The mail reads in its recipient's zone, like their calendar pages.
    let zone = crate::services::zones::zone_for(&site::load(conn)?, Some(&actor));
    let mut link = format!(
        "{}/rooms/{}/calendar/events/{}",
        core.config.base_url().trim_end_matches('/'),
        crate::services::url_path(&ctx.room.slug).trim_start_matches('/'),
        ev.id
    );
    if !ev.rrule.is_empty() {
        link.push_str("?at=");
        link.push_str(&recur::exdate_value(d.occurrence, ev.all_day));
    }
    let title = changed
        .as_ref()
        .map_or(ev.title.as_str(), |c| c.title.as_str());
    let place = changed
        .as_ref()
        .map_or(ev.place.as_str(), |c| c.place.as_str());
    mail::queue(
        core,
        conn,
        &Recipient::from(&owner),
        &EventReminder {
            title,
            when: &when_text(ev.all_day, start, end, zone),
            place,
            room: &ctx.room.name,
            link: &link,
        },
    )?;
    Ok(1)
}

/// When an occurrence is, for a mail: `2027-01-05 10:00–11:00 (Asia/Tokyo)`, or its dates.
fn when_text(all_day: bool, start: NaiveDateTime, end: NaiveDateTime, tz: Tz) -> String {
    if all_day {
        let last = (end - Duration::days(1)).date().max(start.date());
        if last == start.date() {
            start.date().to_string()
        } else {
            format!("{} – {}", start.date(), last)
        }
    } else {
        let a = tz.from_utc_datetime(&start);
        let b = tz.from_utc_datetime(&end);
        let to = if a.date_naive() == b.date_naive() {
            b.format("%H:%M").to_string()
        } else {
            b.format("%Y-%m-%d %H:%M").to_string()
        };
        format!("{}–{to} ({})", a.format("%Y-%m-%d %H:%M"), tz.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leads_read_back_in_their_largest_unit_and_are_capped() {
        let f = |amount: &str, unit: &str| {
            ReminderForm {
                amount: amount.into(),
                unit: unit.into(),
            }
            .minutes()
        };
        assert_eq!(f("15", "minutes"), Some(15));
        assert_eq!(f("2", "hours"), Some(120));
        assert_eq!(f("28", "days"), Some(MAX_MINUTES));
        assert_eq!(f("29", "days"), None);
        assert_eq!(f("-1", "minutes"), None);
        assert_eq!(f("1", "weeks"), None);
        assert_eq!(f("99999999", "days"), None);
        assert_eq!(lead(1440), (1, "days"));
        assert_eq!(lead(90), (90, "minutes"));
        assert_eq!(lead(120), (2, "hours"));
        assert_eq!(lead(0), (0, "minutes"));
    }
}
