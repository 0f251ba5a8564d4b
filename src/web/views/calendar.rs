//! Calendar pages: a month grid (weeks as rows, Sunday first, multi-day events as bars across
//! their days, "+N more"), an agenda list of the same month, the combined `/calendar`, an event's
//! page and its form. Times are shown in the site's zone.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

use super::rooms::{RoomItem, room_item};
use super::{Errors, Layout, Page};
use crate::services::calendar::recur::{Occurrence, exdate_value};
use crate::services::calendar::{self, CalendarView, Event, EventForm, EventPage, Scheduled};
use crate::services::rooms::RoomCtx;
use crate::services::site::SiteSettings;

/// How many items a day cell lists before "+N more".
pub const CELL_ITEMS: usize = 3;
/// How many colours rooms take turns with (`cal-c0` … in the stylesheet).
pub const COLOURS: usize = 8;

/// An occurrence in a day cell.
#[derive(Debug, Clone, Serialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a template context: each flag is one way the cell draws the item"
)]
pub struct CellItem {
    pub title: String,
    pub url: String,
    /// `10:00`, or empty for all-day events and the later days of a multi-day one.
    pub time: String,
    /// The room's colour (`cal-c{n}`).
    pub colour: usize,
    /// A bar across days: it began before this day.
    pub continues_before: bool,
    /// A bar across days: it goes on after this day.
    pub continues_after: bool,
    pub all_day: bool,
    pub room_name: String,
    /// Waiting for approval or sent back: only its author and the approvers see it.
    pub waiting: bool,
}

/// One day of the grid.
#[derive(Debug, Clone, Serialize)]
pub struct DayCell {
    /// `YYYY-MM-DD`.
    pub date: String,
    pub day: u32,
    /// Sunday = 0.
    pub weekday: u32,
    /// Inside the month shown (not a spill-over day of the first or last week).
    pub in_month: bool,
    pub today: bool,
    /// The day's holiday: a Japanese national one (`services::calendar::holidays`), the site's own.
    pub holiday: Option<String>,
    pub items: Vec<CellItem>,
    /// How many more than the cell lists.
    pub more: usize,
    /// The new-event form on this day (for those who may add events in a room's calendar).
    pub new_url: Option<String>,
}

/// A week row.
#[derive(Debug, Clone, Serialize)]
pub struct Week {
    pub days: Vec<DayCell>,
}

/// A day of the agenda list with its items.
#[derive(Debug, Clone, Serialize)]
pub struct AgendaDay {
    pub date: String,
    pub weekday: u32,
    pub items: Vec<AgendaItem>,
}

/// An occurrence in the agenda list.
#[derive(Debug, Clone, Serialize)]
pub struct AgendaItem {
    pub title: String,
    pub url: String,
    /// `10:00–11:00`, empty for all-day.
    pub time: String,
    pub place: String,
    pub colour: usize,
    pub room_name: String,
    pub recurring: bool,
    /// Waiting for approval or sent back: only its author and the approvers see it.
    pub waiting: bool,
}

/// A room in the combined calendar's legend, with its filter checkbox.
#[derive(Debug, Clone, Serialize)]
pub struct Legend {
    pub name: String,
    pub url: String,
    pub colour: usize,
    /// The room's slug (the checkbox's value).
    pub slug: String,
    /// Shown (checked).
    pub checked: bool,
}

/// The feed box of a room's calendar.
#[derive(Debug, Clone, Serialize)]
pub struct FeedBox {
    /// The member has a live feed address (it was shown once, when made).
    pub active: bool,
}

/// `calendar/month.html`: a room's month, or `/calendar` (every room the member reads).
#[derive(Debug, Clone, Serialize)]
pub struct MonthPage {
    #[serde(flatten)]
    pub layout: Layout,
    /// The room, on a room's calendar.
    pub room: Option<RoomItem>,
    /// `2027-01`.
    pub month: String,
    pub year: i32,
    pub month_number: u32,
    pub prev_url: String,
    pub next_url: String,
    pub today_url: String,
    pub weeks: Vec<Week>,
    pub agenda: Vec<AgendaDay>,
    /// Some series had more occurrences than a page lists.
    pub cut: bool,
    /// The new-event form (who may add events here).
    pub new_url: Option<String>,
    /// The rooms and their colours (combined calendar).
    pub legend: Vec<Legend>,
    /// The feed box (members of a room's calendar).
    pub feed: Option<FeedBox>,
    /// The week view (this week in this month, else the month's first week).
    pub week_url: String,
}

impl Page for MonthPage {
    const TEMPLATE: &'static str = "calendar/month.html";
}

pub(super) fn event_url(slug: &str, e: &Event) -> String {
    format!("/rooms/{slug}/calendar/events/{}", e.id)
}

/// The page of one scheduled item: an occurrence of a series has its own (`?at=`).
pub(super) fn occurrence_url(slug: &str, s: &Scheduled) -> String {
    match s.recurrence {
        Some(r) => format!(
            "{}?at={}",
            event_url(slug, &s.event),
            exdate_value(r, s.event.all_day)
        ),
        None => event_url(slug, &s.event),
    }
}

/// The local days an occurrence covers (all-day: its dates; timed: its start's day to the day its
/// last minute falls on).
fn local_days(at: &Occurrence, all_day: bool, tz: Tz) -> (NaiveDateTime, NaiveDate, NaiveDate) {
    if all_day {
        let last = (at.end - Duration::days(1)).date().max(at.start.date());
        (at.start, at.start.date(), last)
    } else {
        let start = tz.from_utc_datetime(&at.start).naive_local();
        let end = tz.from_utc_datetime(&at.end).naive_local();
        let last = if end > start {
            (end - Duration::seconds(1)).date()
        } else {
            start.date()
        };
        (start, start.date(), last)
    }
}

fn month_path(base: &str, d: NaiveDate) -> String {
    format!("{base}?month={}", d.format("%Y-%m"))
}

fn shift_month(d: NaiveDate, by: i32) -> NaiveDate {
    let index = d.year() * 12 + i32::try_from(d.month0()).unwrap_or(0) + by;
    NaiveDate::from_ymd_opt(
        index.div_euclid(12),
        u32::try_from(index.rem_euclid(12)).unwrap_or(0) + 1,
        1,
    )
    .unwrap_or(d)
}

/// The empty cells of the grid of `month` (whole weeks), each with its new-event link when `may_add`.
fn day_cells(
    site: &SiteSettings,
    month: NaiveDate,
    today: NaiveDate,
    may_add: Option<&RoomCtx>,
) -> Vec<DayCell> {
    let (from, to) = calendar::grid_days(month);
    let days = usize::try_from((to - from).num_days()).unwrap_or(0);
    (0..days)
        .map(|i| {
            let d = from + Duration::days(i64::try_from(i).unwrap_or(0));
            DayCell {
                date: d.to_string(),
                day: d.day(),
                weekday: d.weekday().num_days_from_sunday(),
                in_month: d.month() == month.month(),
                today: d == today,
                holiday: site.holiday(d),
                items: Vec::new(),
                more: 0,
                new_url: may_add
                    .map(|c| format!("/rooms/{}/calendar/events/new?date={d}", c.room.slug)),
            }
        })
        .collect()
}

impl MonthPage {
    /// The page of `view`; `base` is the calendar's own path (`/rooms/x/calendar`, `/calendar`).
    pub fn new(
        layout: Layout,
        site: &SiteSettings,
        view: &CalendarView,
        base: &str,
        room_page: bool,
    ) -> Self {
        let logged_in = layout.user.is_some();
        let tz = view.zone;
        let today = tz.from_utc_datetime(&crate::models::now()).date_naive();
        let (from, _) = calendar::grid_days(view.month);
        let room = view.rooms.first().filter(|_| room_page);
        let may_add = room.filter(|c| c.can.schedule);
        let colour = |i: usize| i % COLOURS;
        // Day cells, and for each occurrence the cells it covers.
        let mut cells = day_cells(site, view.month, today, may_add);
        let mut agenda: Vec<AgendaDay> = Vec::new();
        for s in &view.items {
            let ctx: &RoomCtx = &view.rooms[s.room];
            let e = &s.event;
            let url = occurrence_url(&ctx.room.slug, s);
            let (start, first, last) = local_days(&s.at, e.all_day, tz);
            for (i, cell) in cells.iter_mut().enumerate() {
                let d = from + Duration::days(i64::try_from(i).unwrap_or(0));
                if d < first || d > last {
                    continue;
                }
                if cell.items.len() >= CELL_ITEMS {
                    cell.more += 1;
                    continue;
                }
                cell.items.push(CellItem {
                    title: e.title.clone(),
                    url: url.clone(),
                    time: if e.all_day || d != first {
                        String::new()
                    } else {
                        start.format("%H:%M").to_string()
                    },
                    colour: colour(s.room),
                    continues_before: d > first,
                    continues_after: d < last,
                    all_day: e.all_day,
                    room_name: ctx.room.name.clone(),
                    waiting: !e.is_published(),
                });
            }
            // The agenda lists the month's own days only.
            if first.month() == view.month.month() && first.year() == view.month.year() {
                let date = first.to_string();
                if agenda.last().is_none_or(|a| a.date != date) {
                    agenda.push(AgendaDay {
                        date,
                        weekday: first.weekday().num_days_from_sunday(),
                        items: Vec::new(),
                    });
                }
                if let Some(day) = agenda.last_mut() {
                    day.items.push(agenda_item(s, ctx, &url, tz));
                }
            }
        }
        let weeks = cells.chunks(7).map(|w| Week { days: w.to_vec() }).collect();
        let filter = filter_query(view);
        let legend = legend(view, room_page);
        Self {
            layout,
            room: room.map(|c| room_item(&c.room, c.access.role)),
            month: view.month.format("%Y-%m").to_string(),
            year: view.month.year(),
            month_number: view.month.month(),
            prev_url: month_path(base, shift_month(view.month, -1)) + &filter,
            next_url: month_path(base, shift_month(view.month, 1)) + &filter,
            today_url: if filter.is_empty() {
                base.to_owned()
            } else {
                format!("{base}?{}", filter.trim_start_matches('&'))
            },
            weeks,
            agenda,
            cut: view.cut,
            new_url: may_add.map(|c| format!("/rooms/{}/calendar/events/new", c.room.slug)),
            legend,
            // Anyone logged in who reads the calendar may subscribe to it.
            feed: room.filter(|_| logged_in).map(|_| FeedBox {
                active: view.has_feed,
            }),
            week_url: {
                let day =
                    if today.year() == view.month.year() && today.month() == view.month.month() {
                        today
                    } else {
                        view.month
                    };
                format!("{base}/week?date={day}{filter}")
            },
        }
    }
}

/// The rooms of the combined calendar with their colours and filter checkboxes (none on a room's
/// own calendar).
fn legend(view: &CalendarView, room_page: bool) -> Vec<Legend> {
    if room_page {
        return Vec::new();
    }
    view.rooms
        .iter()
        .enumerate()
        .map(|(i, c)| Legend {
            name: c.room.name.clone(),
            url: format!("/rooms/{}/calendar", c.room.slug),
            colour: i % COLOURS,
            slug: c.room.slug.clone(),
            checked: view.selected.get(i).copied().unwrap_or(true),
        })
        .collect()
}

/// The query the month links add to keep `/calendar`'s room filter (`&room=a&room=b`), empty
/// when every room is shown.
fn filter_query(view: &CalendarView) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    if view.selected.iter().all(|s| *s) {
        return out;
    }
    for (c, _) in view.rooms.iter().zip(&view.selected).filter(|(_, s)| **s) {
        let slug = crate::services::url_path(&c.room.slug);
        let _ = write!(out, "&room={}", slug.trim_start_matches('/'));
    }
    out
}

fn agenda_item(s: &Scheduled, ctx: &RoomCtx, url: &str, tz: Tz) -> AgendaItem {
    let e = &s.event;
    let time = if e.all_day {
        String::new()
    } else {
        let a = tz.from_utc_datetime(&s.at.start);
        let b = tz.from_utc_datetime(&s.at.end);
        if a.date_naive() == b.date_naive() {
            format!("{}–{}", a.format("%H:%M"), b.format("%H:%M"))
        } else {
            format!("{}–{}", a.format("%H:%M"), b.format("%m/%d %H:%M"))
        }
    };
    AgendaItem {
        title: e.title.clone(),
        url: url.to_owned(),
        time,
        place: e.place.clone(),
        colour: s.room % COLOURS,
        room_name: ctx.room.name.clone(),
        recurring: !e.rrule.is_empty(),
        waiting: !e.is_published(),
    }
}

/// An occurrence on the event page, with its "delete this one" value.
#[derive(Debug, Clone, Serialize)]
pub struct UpcomingItem {
    pub when: String,
    /// The occurrence as the skip form sends it.
    pub key: String,
    /// Its own page (edit or delete it, this and the following ones, or all).
    pub url: String,
}

/// One of the member's reminders of an event.
#[derive(Debug, Clone, Serialize)]
pub struct ReminderItem {
    pub id: i64,
    pub amount: i32,
    /// `minutes`, `hours` or `days`.
    pub unit: &'static str,
}

/// The one occurrence an event page is about (`?at=`).
#[derive(Debug, Clone, Serialize)]
pub struct OccurrenceBox {
    /// Its original start as the forms send it.
    pub key: String,
    /// When it was planned (shown when it was moved).
    pub planned: String,
    /// It was changed alone.
    pub changed: bool,
}

/// `calendar/event.html`.
#[derive(Debug, Clone, Serialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "a template context: each flag is one thing the page shows or offers"
)]
pub struct EventShowPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub room: RoomItem,
    pub id: i64,
    pub title: String,
    /// Sanitised at save time by `markdown::render`.
    pub description_html: String,
    pub place: String,
    /// When, on the viewer's clock.
    pub when: String,
    /// The viewer's zone.
    pub tz: String,
    /// The event's own zone and its time there, when that is not the viewer's.
    pub set_in: Option<SetIn>,
    pub all_day: bool,
    pub recurring: bool,
    /// The rule as stored (`FREQ=WEEKLY;BYDAY=MO`).
    pub rule: String,
    pub repeat: String,
    pub author_name: String,
    pub upcoming: Vec<UpcomingItem>,
    /// The occurrence the page is about, for a series' occurrence page.
    pub occurrence: Option<OccurrenceBox>,
    /// The member's reminders (logged-in readers may add them).
    pub reminders: Vec<ReminderItem>,
    pub can_remind: bool,
    pub can_edit: bool,
    pub can_delete: bool,
    /// The month of the event in the calendar.
    pub calendar_url: String,
    /// A facility booking's facility page (it changes only there).
    pub facility_url: Option<String>,
    /// A facility booking waiting for approval (仮予約).
    pub booking_pending: bool,
    /// `published`, `pending` (承認待ち) or `sent_back` (差し戻し).
    pub approval: String,
    /// The approver's note when sent back.
    pub approval_note: String,
    /// The actor may approve it or send it back here.
    pub can_approve: bool,
}

/// The zone an event was set in and when it is there.
#[derive(Debug, Clone, Serialize)]
pub struct SetIn {
    pub zone: String,
    pub when: String,
}

impl Page for EventShowPage {
    const TEMPLATE: &'static str = "calendar/event.html";
}

pub(super) fn when(e: &Event, at: &Occurrence, tz: Tz) -> String {
    if e.all_day {
        let last = (at.end - Duration::days(1)).date().max(at.start.date());
        if last == at.start.date() {
            at.start.date().to_string()
        } else {
            format!("{} – {}", at.start.date(), last)
        }
    } else {
        let a = tz.from_utc_datetime(&at.start);
        let b = tz.from_utc_datetime(&at.end);
        if a.date_naive() == b.date_naive() {
            format!("{} – {}", a.format("%Y-%m-%d %H:%M"), b.format("%H:%M"))
        } else {
            format!(
                "{} – {}",
                a.format("%Y-%m-%d %H:%M"),
                b.format("%Y-%m-%d %H:%M")
            )
        }
    }
}

impl EventShowPage {
    /// The page of `p`.
    pub fn new(layout: Layout, p: &EventPage) -> Self {
        let e = &p.event;
        let tz = p.zone;
        let first = p.occurrence.as_ref().map_or(
            Occurrence {
                start: e.starts_at,
                end: e.ends_at,
            },
            |o| o.at,
        );
        let changed = p.occurrence.as_ref().and_then(|o| o.changed.as_ref());
        let base_url = event_url(&p.ctx.room.slug, e);
        let can_remind = layout.user.is_some();
        let event_tz: Tz = e.tz.parse().unwrap_or(chrono_tz::UTC);
        let rule = calendar::recur::Rule::parse(&e.rrule, event_tz);
        let month = if e.all_day {
            first.start.date()
        } else {
            tz.from_utc_datetime(&first.start).date_naive()
        };
        Self {
            layout,
            room: room_item(&p.ctx.room, p.ctx.access.role),
            id: e.id.0,
            title: changed.map_or_else(|| e.title.clone(), |c| c.title.clone()),
            description_html: changed.map_or_else(
                || e.description_html.clone(),
                |c| c.description_html.clone(),
            ),
            place: changed.map_or_else(|| e.place.clone(), |c| c.place.clone()),
            when: when(e, &first, tz),
            reminders: p
                .reminders
                .iter()
                .map(|r| {
                    let (amount, unit) = calendar::reminders::lead(r.minutes_before);
                    ReminderItem {
                        id: r.id,
                        amount,
                        unit,
                    }
                })
                .collect(),
            can_remind,
            occurrence: p.occurrence.as_ref().map(|o| OccurrenceBox {
                key: exdate_value(o.recurrence_id, e.all_day),
                planned: when(
                    e,
                    &Occurrence {
                        start: o.recurrence_id,
                        end: o.recurrence_id + (e.ends_at - e.starts_at),
                    },
                    tz,
                ),
                changed: o.changed.is_some(),
            }),
            tz: tz.name().to_owned(),
            // Set on another clock: say which, and when it is there.
            set_in: (!e.all_day && event_tz != tz).then(|| SetIn {
                zone: event_tz.name().to_owned(),
                when: when(e, &first, event_tz),
            }),
            all_day: e.all_day,
            recurring: !e.rrule.is_empty(),
            rule: e.rrule.clone(),
            repeat: rule
                .map(|r| r.repeat.as_str().to_owned())
                .unwrap_or_default(),
            author_name: p.author_name.clone(),
            upcoming: p
                .upcoming
                .iter()
                .map(|(r, o)| {
                    let key = exdate_value(*r, e.all_day);
                    UpcomingItem {
                        when: when(e, o, tz),
                        url: format!("{base_url}?at={key}"),
                        key,
                    }
                })
                .collect(),
            can_edit: p.can_edit && p.event.facility_id.is_none(),
            facility_url: p.event.facility_id.map(|f| format!("/facilities/{f}")),
            booking_pending: p.event.booking_state == calendar::facilities::PENDING,
            can_delete: p.can_delete,
            approval: e.approval.clone(),
            approval_note: e.approval_note.clone(),
            can_approve: p.can_approve,
            calendar_url: format!(
                "/rooms/{}/calendar?month={}",
                p.ctx.room.slug,
                month.format("%Y-%m")
            ),
        }
    }
}

/// `calendar/event_form.html`: a new event or an event's edit form.
#[derive(Debug, Clone, Serialize)]
pub struct EventFormPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub room: RoomItem,
    /// The event being edited (`None`: a new one).
    pub id: Option<i64>,
    pub form: EventFormView,
    pub errors: Errors,
    /// The choices of "repeats".
    pub repeats: Vec<&'static str>,
}

impl Page for EventFormPage {
    const TEMPLATE: &'static str = "calendar/event_form.html";
}

/// A weekday checkbox of the form.
#[derive(Debug, Clone, Serialize)]
pub struct DayBox {
    /// `mo`, `tu`, …
    pub key: &'static str,
    pub checked: bool,
}

/// The form's values.
#[derive(Debug, Clone, Serialize)]
pub struct EventFormView {
    pub title: String,
    pub description: String,
    pub place: String,
    pub start_date: String,
    pub start_time: String,
    pub end_date: String,
    pub end_time: String,
    pub all_day: bool,
    pub tz: String,
    pub repeat: String,
    pub interval: String,
    /// The weekday checkboxes, Monday first.
    pub days: Vec<DayBox>,
    pub until: String,
    pub count: String,
    /// `this`, `following`, or empty (the whole series or a single event).
    pub scope: String,
    /// The occurrence the form changes (with `scope`).
    pub at: String,
}

impl From<&EventForm> for EventFormView {
    fn from(f: &EventForm) -> Self {
        Self {
            title: f.title.clone(),
            description: f.description.clone(),
            place: f.place.clone(),
            start_date: f.start_date.clone(),
            start_time: f.start_time.clone(),
            end_date: f.end_date.clone(),
            end_time: f.end_time.clone(),
            all_day: f.all_day.is_some(),
            tz: f.tz.clone(),
            repeat: f.repeat.clone(),
            interval: f.interval.clone(),
            days: vec![
                DayBox {
                    key: "mo",
                    checked: f.day_mo.is_some(),
                },
                DayBox {
                    key: "tu",
                    checked: f.day_tu.is_some(),
                },
                DayBox {
                    key: "we",
                    checked: f.day_we.is_some(),
                },
                DayBox {
                    key: "th",
                    checked: f.day_th.is_some(),
                },
                DayBox {
                    key: "fr",
                    checked: f.day_fr.is_some(),
                },
                DayBox {
                    key: "sa",
                    checked: f.day_sa.is_some(),
                },
                DayBox {
                    key: "su",
                    checked: f.day_su.is_some(),
                },
            ],
            until: f.until.clone(),
            count: f.count.clone(),
            scope: f.scope.clone(),
            at: f.at.clone(),
        }
    }
}

impl EventFormPage {
    /// The form page of `id` (or a new event) in `ctx`'s room.
    pub fn new(
        layout: Layout,
        ctx: &RoomCtx,
        id: Option<i64>,
        form: &EventForm,
        errors: Errors,
    ) -> Self {
        Self {
            layout,
            room: room_item(&ctx.room, ctx.access.role),
            id,
            form: form.into(),
            errors,
            repeats: crate::db::types::Repeat::ALL
                .iter()
                .map(|r| r.as_str())
                .collect(),
        }
    }

    /// The form's own path.
    pub fn path(slug: &str, id: Option<i64>) -> String {
        match id {
            Some(id) => format!("/rooms/{slug}/calendar/events/{id}/edit"),
            None => format!("/rooms/{slug}/calendar/events/new"),
        }
    }
}

/// `calendar/feed.html`: a new feed address, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct FeedPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub room: RoomItem,
    /// The address to subscribe to.
    pub url: String,
}

impl Page for FeedPage {
    const TEMPLATE: &'static str = "calendar/feed.html";
}

/// One occurrence in a day of the week view.
#[derive(Debug, Clone, Serialize)]
pub struct WeekItem {
    pub title: String,
    pub url: String,
    /// `10:00–11:00`; empty for all-day events and the later days of a multi-day one.
    pub time: String,
    pub place: String,
    pub colour: usize,
    pub room_name: String,
    pub all_day: bool,
    /// It began on an earlier day.
    pub continues_before: bool,
    /// Waiting for approval or sent back: only its author and the approvers see it.
    pub waiting: bool,
}

/// A day of the week view.
#[derive(Debug, Clone, Serialize)]
pub struct WeekDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Sunday = 0.
    pub weekday: u32,
    pub today: bool,
    pub holiday: Option<String>,
    pub items: Vec<WeekItem>,
    /// The new-event form on this day (who may add events in a room's calendar).
    pub new_url: Option<String>,
}

/// `calendar/week.html`: a room's week, or the member's (`/calendar/week`), a day per row (fits a
/// phone; no JavaScript).
#[derive(Debug, Clone, Serialize)]
pub struct WeekPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub room: Option<RoomItem>,
    /// The week's Sunday and Saturday.
    pub first: String,
    pub last: String,
    pub prev_url: String,
    pub next_url: String,
    pub today_url: String,
    /// The month view of the week's Sunday.
    pub month_url: String,
    pub days: Vec<WeekDay>,
    pub cut: bool,
    pub legend: Vec<Legend>,
    /// Where the filter form goes (`/calendar/week`) and the day it keeps.
    pub filter_action: String,
    pub new_url: Option<String>,
}

impl Page for WeekPage {
    const TEMPLATE: &'static str = "calendar/week.html";
}

impl WeekPage {
    /// The page of `view` (a week: `view.month` is its Sunday); `base` is the calendar's own path
    /// (`/rooms/x/calendar`, `/calendar`).
    pub fn new(
        layout: Layout,
        site: &SiteSettings,
        view: &CalendarView,
        base: &str,
        room_page: bool,
    ) -> Self {
        let tz = view.zone;
        let today = tz.from_utc_datetime(&crate::models::now()).date_naive();
        let first = view.month;
        let room = view.rooms.first().filter(|_| room_page);
        let may_add = room.filter(|c| c.can.schedule);
        let mut days: Vec<WeekDay> = (0..7)
            .map(|i| {
                let d = first + Duration::days(i);
                WeekDay {
                    date: d.to_string(),
                    weekday: d.weekday().num_days_from_sunday(),
                    today: d == today,
                    holiday: site.holiday(d),
                    items: Vec::new(),
                    new_url: may_add
                        .map(|c| format!("/rooms/{}/calendar/events/new?date={d}", c.room.slug)),
                }
            })
            .collect();
        for s in &view.items {
            let ctx: &RoomCtx = &view.rooms[s.room];
            let e = &s.event;
            let url = occurrence_url(&ctx.room.slug, s);
            let (_, from, last) = local_days(&s.at, e.all_day, tz);
            let agenda = agenda_item(s, ctx, &url, tz);
            for (i, day) in days.iter_mut().enumerate() {
                let d = first + Duration::days(i64::try_from(i).unwrap_or(0));
                if d < from || d > last {
                    continue;
                }
                day.items.push(WeekItem {
                    title: agenda.title.clone(),
                    url: url.clone(),
                    time: if d == from {
                        agenda.time.clone()
                    } else {
                        String::new()
                    },
                    place: agenda.place.clone(),
                    colour: agenda.colour,
                    room_name: agenda.room_name.clone(),
                    all_day: e.all_day,
                    continues_before: d > from,
                    waiting: agenda.waiting,
                });
            }
        }
        let filter = filter_query(view);
        let week = |d: NaiveDate| format!("{base}/week?date={d}{filter}");
        Self {
            layout,
            room: room.map(|c| room_item(&c.room, c.access.role)),
            first: first.to_string(),
            last: (first + Duration::days(6)).to_string(),
            prev_url: week(first - Duration::days(7)),
            next_url: week(first + Duration::days(7)),
            today_url: week(today),
            month_url: month_path(base, first) + &filter,
            days,
            cut: view.cut,
            legend: legend(view, room_page),
            filter_action: format!("{base}/week"),
            new_url: may_add.map(|c| format!("/rooms/{}/calendar/events/new", c.room.slug)),
        }
    }
}

/// `calendar/import.html`: what an `.ics` import did, or every reason it did nothing.
#[derive(Debug, Clone, Serialize)]
pub struct ImportPage {
    /// The site layout.
    #[serde(flatten)]
    pub layout: Layout,
    /// The room.
    pub room: RoomItem,
    /// Events added.
    pub added: usize,
    /// Events the room already had.
    pub skipped: usize,
    /// The added events wait for approval.
    pub waiting: bool,
    /// Why nothing was imported (empty when it was).
    pub problems: Vec<ImportProblem>,
}

/// One reason an import was refused.
#[derive(Debug, Clone, Serialize)]
pub struct ImportProblem {
    /// The event's place in the file (0: the file itself).
    pub number: usize,
    /// Its title.
    pub title: String,
    /// An i18n key.
    pub message: &'static str,
}

/// A waiting event in the approvals inbox.
#[derive(Debug, Clone, Serialize)]
pub struct InboxEvent {
    pub id: i64,
    pub title: String,
    pub when: String,
    pub place: String,
    pub url: String,
    pub room_slug: String,
    pub room_name: String,
    pub author_name: String,
    /// When it was saved.
    pub date: String,
    pub recurring: bool,
}

/// Builds an inbox row of a waiting event.
pub fn inbox_event(site: &SiteSettings, w: &calendar::approval::WaitingEvent) -> InboxEvent {
    let e = &w.event;
    InboxEvent {
        id: e.id.0,
        title: e.title.clone(),
        when: when(
            e,
            &Occurrence {
                start: e.starts_at,
                end: e.ends_at,
            },
            site.timezone,
        ),
        place: e.place.clone(),
        url: event_url(&w.room_slug, e),
        room_slug: w.room_slug.clone(),
        room_name: w.room_name.clone(),
        author_name: w.author_name.clone(),
        date: site.local_datetime(e.updated_at),
        recurring: !e.rrule.is_empty(),
    }
}

impl Page for ImportPage {
    const TEMPLATE: &'static str = "calendar/import.html";
}

impl ImportPage {
    /// The page for `outcome` in `ctx`'s room.
    pub fn new(layout: Layout, ctx: &RoomCtx, outcome: &calendar::import::Imported) -> Self {
        let (added, skipped, waiting, problems) = match outcome {
            calendar::import::Imported::Done {
                added,
                skipped,
                waiting,
            } => (*added, *skipped, *waiting, Vec::new()),
            calendar::import::Imported::Refused(problems) => (
                0,
                0,
                false,
                problems
                    .iter()
                    .map(|p| ImportProblem {
                        number: p.number,
                        title: p.title.clone(),
                        message: p.message,
                    })
                    .collect(),
            ),
        };
        Self {
            layout,
            room: room_item(&ctx.room, None),
            added,
            skipped,
            waiting,
            problems,
        }
    }
}
