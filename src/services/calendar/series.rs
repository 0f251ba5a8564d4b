//! Changing or deleting part of a series (issue #12): one occurrence (an override row, or an
//! EXDATE when deleted), this and the following ones (the old series ends before the occurrence's
//! day and a new series starts, so no occurrence is ever in both), or all of them.

use chrono::{Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;

use super::recur::{self, Occurrence, Timing, Window};
use super::{
    Event, EventForm, for_edit, internal, local_span, parse_occurrence, save_fields, timing,
    validate,
};
use crate::db::DbConn;
use crate::db::types::EventId;
use crate::error::{AppError, AppResult, FieldErrors};
use crate::markdown;
use crate::models::event::{self, Override, OverrideFields};
use crate::models::{audit, now};
use crate::services::authz::{RoomAction, authorize_room};
use crate::services::rooms::{self, RoomCtx};
use crate::services::site::SiteSettings;
use crate::services::zones::zone_for;
use crate::services::{Actor, Core};

/// Which occurrences of a series an edit or a deletion applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The one occurrence.
    This,
    /// The occurrence and every later one.
    Following,
    /// The whole series (and a single event).
    All,
}

impl Scope {
    /// The form's value (`this`, `following`, `all`; empty = all); anything else is `None`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "this" => Some(Self::This),
            "following" => Some(Self::Following),
            "all" | "" => Some(Self::All),
            _ => None,
        }
    }

    /// The form's value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::This => "this",
            Self::Following => "following",
            Self::All => "all",
        }
    }
}

/// The zone an event repeats in.
fn zone(ev: &Event) -> Tz {
    ev.tz.parse().unwrap_or(chrono_tz::UTC)
}

/// The occurrence of a series that `key` names (its original start as `exdate_value` writes it);
/// `NotFound` unless the series really has it (a skipped one is gone).
pub fn occurrence_of(ev: &Event, key: &str) -> AppResult<NaiveDateTime> {
    if ev.rrule.is_empty() {
        return Err(AppError::NotFound);
    }
    let at = parse_occurrence(key, ev.all_day).ok_or(AppError::NotFound)?;
    if recur::is_occurrence(&timing(ev, zone(ev)), at).map_err(internal)? {
        Ok(at)
    } else {
        Err(AppError::NotFound)
    }
}

/// One occurrence of a series as its page shows it.
#[derive(Debug, Clone)]
pub struct OccurrenceView {
    /// Its original start (the RECURRENCE-ID).
    pub recurrence_id: NaiveDateTime,
    /// When it is (changed or not).
    pub at: Occurrence,
    /// Its own fields, when it was changed alone.
    pub changed: Option<Override>,
}

/// Loads the occurrence `key` of a series.
pub fn occurrence_view(conn: &mut DbConn, ev: &Event, key: &str) -> AppResult<OccurrenceView> {
    let recurrence_id = occurrence_of(ev, key)?;
    let changed = event::find_override(conn, ev.id, recurrence_id)?;
    let at = changed.as_ref().map_or(
        Occurrence {
            start: recurrence_id,
            end: recurrence_id + (ev.ends_at - ev.starts_at),
        },
        |o| Occurrence {
            start: o.starts_at,
            end: o.ends_at,
        },
    );
    Ok(OccurrenceView {
        recurrence_id,
        at,
        changed,
    })
}

/// The local day of an instant of `ev` (all-day events hold dates).
fn local_date(ev: &Event, tz: Tz, at: NaiveDateTime) -> NaiveDate {
    if ev.all_day {
        at.date()
    } else {
        tz.from_utc_datetime(&at).date_naive()
    }
}

/// How many occurrences of a series come before `at` (what `COUNT` already used up; skipped ones
/// count too, as in RFC 5545).
fn count_before(ev: &Event, at: NaiveDateTime) -> AppResult<u32> {
    let tz = zone(ev);
    let t = Timing {
        exdates: "",
        ..timing(ev, tz)
    };
    let n = recur::count_before(&t, at).map_err(internal)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

/// The edit form of an event for `scope` (at occurrence `key`): all = the series as it is; this =
/// the occurrence's own fields and times; following = the series from the occurrence's day on (a
/// counted series with what is left of its count). Following from the first occurrence is all.
pub fn edit_form(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
    scope: Scope,
    key: &str,
) -> AppResult<(RoomCtx, EventForm)> {
    let (ctx, ev) = for_edit(conn, actor, slug, id)?;
    let mut form = EventForm::from_event(&ev);
    if scope == Scope::All {
        return Ok((ctx, form));
    }
    let tz = zone(&ev);
    let view = occurrence_view(conn, &ev, key)?;
    if scope == Scope::Following && view.recurrence_id == ev.starts_at {
        return Ok((ctx, form));
    }
    scope.as_str().clone_into(&mut form.scope);
    key.clone_into(&mut form.at);
    let local = |utc: NaiveDateTime| {
        if ev.all_day {
            utc
        } else {
            tz.from_utc_datetime(&utc).naive_local()
        }
    };
    let (start, end) = if scope == Scope::This {
        (local(view.at.start), local(view.at.end))
    } else {
        let (s, e) = local_span(&ev, tz);
        let shift = local_date(&ev, tz, view.recurrence_id) - s.date();
        (s + shift, e + shift)
    };

    let last_day = if ev.all_day {
        (end - Duration::days(1)).date().max(start.date())
    } else {
        end.date()
    };
    form.start_date = start.date().to_string();
    form.start_time = start.format("%H:%M").to_string();
    form.end_date = last_day.to_string();
    form.end_time = end.format("%H:%M").to_string();
    if scope == Scope::This {
        if let Some(o) = &view.changed {
            form.title.clone_from(&o.title);
            form.description.clone_from(&o.description_md);
            form.place.clone_from(&o.place);
        }
        form.repeat = crate::db::types::Repeat::Never.as_str().into();
    } else if let Ok(count) = form.count.parse::<u32>() {
        let used = count_before(&ev, view.recurrence_id)?;
        form.count = count.saturating_sub(used).max(1).to_string();
    }
    Ok((ctx, form))
}

/// Saves the event form with its scope: the whole series, one occurrence, or this and the
/// following ones. Returns the event to show next (the new series after a split) and whether it
/// waits for approval now (any change by someone whose saves wait puts what it changed back to
/// waiting, see `approval`).
pub fn update_scoped(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
    form: &EventForm,
    site: &SiteSettings,
) -> AppResult<(EventId, bool)> {
    match Scope::parse(&form.scope).ok_or(AppError::NotFound)? {
        Scope::All => super::update(core, conn, actor, slug, id, form, site).map(|w| (id, w)),
        Scope::This => edit_one(core, conn, actor, slug, id, form, site).map(|w| (id, w)),
        Scope::Following => split(core, conn, actor, slug, id, form, site),
    }
}

fn edit_one(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
    form: &EventForm,
    site: &SiteSettings,
) -> AppResult<bool> {
    let (ctx, ev) = for_edit(conn, actor, slug, id)?;
    let recurrence_id = occurrence_of(&ev, &form.at)?;
    // One occurrence never repeats on its own: its rule fields are not read.
    let one = EventForm {
        repeat: String::new(),
        interval: String::new(),
        until: String::new(),
        count: String::new(),
        ..form.clone()
    };
    let clean = validate(&one, zone_for(site, Some(actor)))?;
    if clean.all_day != ev.all_day {
        let mut e = FieldErrors::default();
        e.add("all_day", "calendar.occurrence_all_day");
        return Err(AppError::Invalid(e));
    }
    let html = markdown::render(&clean.description);
    let at = now();
    event::save_override(
        conn,
        id,
        recurrence_id,
        &OverrideFields {
            title: &clean.title,
            description_md: &clean.description,
            description_html: &html,
            place: &clean.place,
            starts_at: clean.starts_at,
            ends_at: clean.ends_at,
        },
        at,
    )?;
    event::touch(conn, id, at)?;
    let waiting = super::approval::after_save(core, conn, actor, &ctx, id, ev.is_published())?;
    audit::record(
        conn,
        Some(actor.id),
        "event.occurrence_updated",
        &format!("{} #{id}", ctx.room.slug),
        None,
    )?;
    Ok(waiting)
}

/// A series ended before one of its occurrences: its new rule, the skipped dates it keeps, those
/// from the occurrence on, and its new end.
struct Cut {
    rrule: String,
    kept: Vec<String>,
    later: Vec<String>,
    series_ends_at: NaiveDateTime,
}

/// Ends `ev` before the day of its occurrence `at`: `UNTIL` = the day before (a DATE for all-day
/// events, that day's last second in UTC for timed ones), `COUNT` dropped. Every occurrence of a
/// series has the same wall-clock time, so nothing on that day or later is left in it.
fn cut_before(ev: &Event, at: NaiveDateTime) -> Cut {
    let tz = zone(ev);
    let last_day = local_date(ev, tz, at) - Duration::days(1);
    let last_start = if ev.all_day {
        last_day.and_time(chrono::NaiveTime::MIN)
    } else {
        recur::until_utc(last_day, tz)
    };
    let until = if ev.all_day {
        last_day.format("%Y%m%d").to_string()
    } else {
        last_start.format("%Y%m%dT%H%M%SZ").to_string()
    };
    let mut parts: Vec<String> = ev
        .rrule
        .split(';')
        .filter(|p| !p.starts_with("UNTIL=") && !p.starts_with("COUNT="))
        .map(str::to_owned)
        .collect();
    parts.push(format!("UNTIL={until}"));
    let (kept, later) = ev
        .exdates
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .partition(|s| parse_occurrence(s, ev.all_day).is_none_or(|d| d < at));
    Cut {
        rrule: parts.join(";"),
        kept,
        later,
        series_ends_at: last_start + (ev.ends_at - ev.starts_at),
    }
}

/// This and the following occurrences: the old series ends before the occurrence's day, and the
/// form becomes a new series (with a new UID) that keeps the skipped and changed occurrences that
/// are still occurrences of it. The new series may not start on a day the old one still has an
/// occurrence, so no occurrence is ever shown twice.
fn split(
    core: &Core,
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
    form: &EventForm,
    site: &SiteSettings,
) -> AppResult<(EventId, bool)> {
    let (ctx, ev) = for_edit(conn, actor, slug, id)?;
    let at = occurrence_of(&ev, &form.at)?;
    if at == ev.starts_at {
        return super::update(core, conn, actor, slug, id, form, site).map(|w| (id, w));
    }
    let clean = validate(form, zone_for(site, Some(actor)))?;
    let tz = zone(&ev);
    let day = local_date(&ev, tz, at);
    let new_day = if clean.all_day {
        clean.starts_at.date()
    } else {
        clean.tz.from_utc_datetime(&clean.starts_at).date_naive()
    };
    if new_day < day {
        let window = Window::days(new_day, day, tz);
        let (left, _) = recur::occurrences(&timing(&ev, tz), &window).map_err(internal)?;
        if !left.is_empty() || day - new_day > Duration::days(366) {
            let mut e = FieldErrors::default();
            e.add("start_date", "calendar.following_overlaps");
            return Err(AppError::Invalid(e));
        }
    }
    let cut = cut_before(&ev, at);
    let stamp = now();
    event::set_rule(
        conn,
        id,
        &cut.rrule,
        &cut.kept.join(","),
        Some(cut.series_ends_at),
        stamp,
    )?;
    // The new series: skipped dates and changed occurrences that are still its occurrences.
    let rrule = clean.rrule.clone().unwrap_or_default();
    let new_timing = Timing {
        starts_at: clean.starts_at,
        ends_at: clean.ends_at,
        tz: clean.tz,
        all_day: clean.all_day,
        rrule: &rrule,
        exdates: "",
    };
    let still = |d: NaiveDateTime| recur::is_occurrence(&new_timing, d).map_err(internal);
    let mut exdates = Vec::new();
    for s in cut.later {
        if let Some(d) = parse_occurrence(&s, clean.all_day)
            && still(d)?
        {
            exdates.push(s);
        }
    }
    let fields = save_fields(conn, &clean, &exdates.join(","))?;
    let uid = format!("{}@yui", uuid::Uuid::new_v4());
    let new_id = event::insert(
        conn,
        ev.room_id,
        &uid,
        &fields.borrow(),
        ev.created_by,
        stamp,
    )?;
    event::copy_reminders(conn, id, new_id, stamp)?;
    for o in event::all_overrides(conn, id)? {
        if o.recurrence_id < at {
            continue;
        }
        if !rrule.is_empty() && still(o.recurrence_id)? {
            event::move_override(conn, o.id, new_id)?;
        } else {
            event::delete_override(conn, o.id)?;
        }
    }
    // Both halves changed: where saves wait, both wait. The new half was shown as part of the
    // old series, so it keeps what deleting the old one needs.
    if ev.ever_published {
        event::set_ever_published(conn, new_id)?;
    }
    super::approval::after_save(core, conn, actor, &ctx, id, ev.is_published())?;
    let waiting = super::approval::after_save(core, conn, actor, &ctx, new_id, ev.is_published())?;
    audit::record(
        conn,
        Some(actor.id),
        "event.split",
        &format!("{} #{id} #{new_id}", ctx.room.slug),
        None,
    )?;
    Ok((new_id, waiting))
}

/// After the whole series changed: a series moved in time (or no longer repeating) loses its
/// changed occurrences; otherwise it keeps those that are still its occurrences.
pub(super) fn prune_overrides(conn: &mut DbConn, ev: &Event, moved: bool) -> AppResult<()> {
    let t = timing(ev, zone(ev));
    for o in event::all_overrides(conn, ev.id)? {
        let keep = !moved
            && !ev.rrule.is_empty()
            && recur::is_occurrence(&t, o.recurrence_id).map_err(internal)?;
        if !keep {
            event::delete_override(conn, o.id)?;
        }
    }
    Ok(())
}

/// Loads an event the actor may delete (its author, or who may edit others' content).
fn for_delete(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
) -> AppResult<(RoomCtx, Event)> {
    let ctx = rooms::load(conn, Some(actor), slug)?;
    let ev = event::find_in_room(conn, ctx.room.id, id)?;
    super::approval::ensure_visible(Some(actor), &ctx, &ev)?;
    authorize_room(
        Some(actor),
        &ctx.access,
        RoomAction::DeleteContent {
            own: ev.created_by == actor.id,
            ever_published: ev.ever_published,
        },
    )?;
    Ok((ctx, ev))
}

/// Deletes one occurrence (an EXDATE; its changed fields go), this and the following ones (the
/// series ends before it), or the whole event. One that readers have seen (`ever_published`)
/// needs publish rights, as posts do (NetCommons' rule).
pub fn delete_scoped(
    conn: &mut DbConn,
    actor: &Actor,
    slug: &str,
    id: EventId,
    scope: Scope,
    key: &str,
) -> AppResult<()> {
    let (ctx, ev) = for_delete(conn, actor, slug, id)?;
    let at = match scope {
        Scope::All => None,
        _ => Some(occurrence_of(&ev, key)?),
    };
    let stamp = now();
    let what = match (scope, at) {
        (Scope::This, Some(at)) => {
            let mut exdates: Vec<&str> = ev.exdates.split(',').filter(|s| !s.is_empty()).collect();
            let value = recur::exdate_value(at, ev.all_day);
            if !exdates.contains(&value.as_str()) {
                exdates.push(&value);
            }
            if let Some(o) = event::find_override(conn, id, at)? {
                event::delete_override(conn, o.id)?;
            }
            event::set_exdates(conn, id, &exdates.join(","), stamp)?;
            "event.occurrence_deleted"
        }
        (Scope::Following, Some(at)) if at != ev.starts_at => {
            let cut = cut_before(&ev, at);
            event::set_rule(
                conn,
                id,
                &cut.rrule,
                &cut.kept.join(","),
                Some(cut.series_ends_at),
                stamp,
            )?;
            for o in event::all_overrides(conn, id)? {
                if o.recurrence_id >= at {
                    event::delete_override(conn, o.id)?;
                }
            }
            "event.following_deleted"
        }
        _ => {
            event::delete(conn, id)?;
            "event.deleted"
        }
    };
    audit::record(
        conn,
        Some(actor.id),
        what,
        &format!("{} #{id}", ctx.room.slug),
        None,
    )?;
    Ok(())
}
