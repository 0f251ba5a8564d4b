//! Facility reservations (施設予約): the day view of every facility, a facility's week with its
//! booking form, and the admin's list and form of facilities.

use chrono::{Datelike, Duration, NaiveDate};
use serde::Serialize;

use super::{Errors, Layout, Page};
use crate::models::facility::Facility;
use crate::services::calendar::facilities::{
    BookingForm, DayView, FacilityForm, FacilityView, Slot, Taken, Zones, hhmm, weekday_bit,
};

/// For a viewer whose zone is not the site's: the zone the page's times are in, and the
/// site's, where the opening hours are read.
#[derive(Debug, Clone, Serialize)]
pub struct ZoneNote {
    pub zone: &'static str,
    pub site_zone: &'static str,
}

impl ZoneNote {
    fn of(z: Zones) -> Option<Self> {
        (z.viewer != z.site).then(|| Self {
            zone: z.viewer.name(),
            site_zone: z.site.name(),
        })
    }
}

/// One booking's date on a page.
#[derive(Debug, Clone, Serialize)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent facts about one booking and what the viewer may do with it"
)]
pub struct SlotItem {
    pub event_id: i64,
    /// `HH:MM–HH:MM`.
    pub time: String,
    /// `None`: the viewer may not read its room (shown as "booked").
    pub title: Option<String>,
    pub room_name: Option<String>,
    /// The event's page in its room's calendar.
    pub url: Option<String>,
    pub pending: bool,
    pub recurring: bool,
    pub can_cancel: bool,
    pub can_decide: bool,
    /// `YYYY-MM-DD` (the facility page's waiting list).
    pub date: String,
}

fn slot_item(s: &Slot) -> SlotItem {
    SlotItem {
        event_id: s.event_id,
        time: format!("{}–{}", s.start.format("%H:%M"), s.end.format("%H:%M")),
        title: s.title.clone(),
        room_name: s.room.as_ref().map(|r| r.0.clone()),
        url: s
            .room
            .as_ref()
            .map(|r| format!("/rooms/{}/calendar/events/{}", r.1, s.event_id)),
        pending: s.pending,
        recurring: s.recurring,
        can_cancel: s.can_cancel,
        can_decide: s.can_decide,
        date: s.start.date().to_string(),
    }
}

/// A facility in a list.
#[derive(Debug, Clone, Serialize)]
pub struct FacilityRow {
    pub id: i64,
    pub name: String,
    pub category: String,
    /// `09:00–18:00`.
    pub hours: String,
    /// The bookable weekdays' keys (`mo`, `tu`, …).
    pub days: Vec<&'static str>,
    pub needs_approval: bool,
    /// The day's bookings (the day view).
    pub slots: Vec<SlotItem>,
    /// Closed on the day shown.
    pub closed: bool,
}

const DAY_KEYS: [(chrono::Weekday, &str); 7] = [
    (chrono::Weekday::Mon, "mo"),
    (chrono::Weekday::Tue, "tu"),
    (chrono::Weekday::Wed, "we"),
    (chrono::Weekday::Thu, "th"),
    (chrono::Weekday::Fri, "fr"),
    (chrono::Weekday::Sat, "sa"),
    (chrono::Weekday::Sun, "su"),
];

fn facility_row(f: &Facility, day: Option<NaiveDate>) -> FacilityRow {
    FacilityRow {
        id: f.id,
        name: f.name.clone(),
        category: f.category.clone(),
        hours: format!("{}–{}", hhmm(f.opens_at), hhmm(f.closes_at)),
        days: DAY_KEYS
            .iter()
            .filter(|(d, _)| f.weekdays & weekday_bit(*d) != 0)
            .map(|(_, k)| *k)
            .collect(),
        needs_approval: f.needs_approval,
        slots: Vec::new(),
        closed: day.is_some_and(|d| f.weekdays & weekday_bit(d.weekday()) == 0),
    }
}

/// Facilities of one category.
#[derive(Debug, Clone, Serialize)]
pub struct CategoryGroup {
    /// Empty: no category.
    pub name: String,
    pub facilities: Vec<FacilityRow>,
}

/// `facilities/index.html`: every facility by category, with the bookings of one day.
#[derive(Debug, Clone, Serialize)]
pub struct FacilitiesPage {
    #[serde(flatten)]
    pub layout: Layout,
    /// `YYYY-MM-DD`.
    pub date: String,
    pub weekday: u32,
    pub prev_date: String,
    pub next_date: String,
    pub groups: Vec<CategoryGroup>,
    /// Pending bookings the viewer may decide on.
    pub waiting: usize,
    /// The viewer is a site admin (a link to manage facilities).
    pub is_admin: bool,
    /// Times on another clock than the site's.
    pub zone_note: Option<ZoneNote>,
}

impl Page for FacilitiesPage {
    const TEMPLATE: &'static str = "facilities/index.html";
}

impl FacilitiesPage {
    /// The day view's page.
    pub fn new(layout: Layout, v: &DayView, is_admin: bool) -> Self {
        let mut groups: Vec<CategoryGroup> = Vec::new();
        for f in &v.facilities {
            let mut row = facility_row(f, Some(v.day));
            row.slots = v
                .slots
                .iter()
                .filter(|s| s.facility_id == f.id)
                .map(slot_item)
                .collect();
            match groups.last_mut() {
                Some(g) if g.name == f.category => g.facilities.push(row),
                _ => groups.push(CategoryGroup {
                    name: f.category.clone(),
                    facilities: vec![row],
                }),
            }
        }
        Self {
            layout,
            date: v.day.to_string(),
            weekday: v.day.weekday().num_days_from_sunday(),
            prev_date: (v.day - Duration::days(1)).to_string(),
            next_date: (v.day + Duration::days(1)).to_string(),
            groups,
            waiting: v.waiting,
            is_admin,
            zone_note: ZoneNote::of(v.zones),
        }
    }
}

/// A day of a facility's week.
#[derive(Debug, Clone, Serialize)]
pub struct WeekDay {
    pub date: String,
    /// 0 = Sunday (as the calendar's `wd` keys).
    pub weekday: u32,
    pub closed: bool,
    pub slots: Vec<SlotItem>,
}

/// A weekday checkbox.
#[derive(Debug, Clone, Serialize)]
pub struct DayBox {
    pub key: &'static str,
    pub checked: bool,
}

fn boxes(list: Vec<(&'static str, bool)>) -> Vec<DayBox> {
    list.into_iter()
        .map(|(key, checked)| DayBox { key, checked })
        .collect()
}

/// The booking form's values.
#[derive(Debug, Clone, Serialize)]
pub struct BookingFormView {
    pub room: String,
    pub title: String,
    pub start_date: String,
    pub start_time: String,
    pub end_time: String,
    pub repeat: String,
    pub interval: String,
    pub days: Vec<DayBox>,
    pub until: String,
    pub count: String,
}

impl From<&BookingForm> for BookingFormView {
    fn from(f: &BookingForm) -> Self {
        Self {
            room: f.room.clone(),
            title: f.title.clone(),
            start_date: f.start_date.clone(),
            start_time: f.start_time.clone(),
            end_time: f.end_time.clone(),
            repeat: f.repeat.clone(),
            interval: f.interval.clone(),
            days: boxes(f.day_boxes()),
            until: f.until.clone(),
            count: f.count.clone(),
        }
    }
}

/// The booking that holds the slot asked for.
#[derive(Debug, Clone, Serialize)]
pub struct TakenView {
    pub date: String,
    pub time: String,
    /// Empty when the viewer may not read its room.
    pub title: String,
    pub room: String,
}

impl From<&Taken> for TakenView {
    fn from(t: &Taken) -> Self {
        Self {
            date: t.start.date().to_string(),
            time: format!("{}–{}", t.start.format("%H:%M"), t.end.format("%H:%M")),
            title: t.title.clone(),
            room: t.room.clone(),
        }
    }
}

/// A room one may book for.
#[derive(Debug, Clone, Serialize)]
pub struct RoomChoice {
    pub slug: String,
    pub name: String,
}

/// `facilities/show.html`: a facility, its week, the booking form.
#[derive(Debug, Clone, Serialize)]
pub struct FacilityPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub facility: FacilityRow,
    pub description: String,
    /// Rooms that may book it (empty: every room).
    pub rooms: Vec<String>,
    pub managers: Vec<String>,
    /// The week's Monday and Sunday.
    pub first: String,
    pub last: String,
    pub prev_week: String,
    pub next_week: String,
    pub days: Vec<WeekDay>,
    /// Rooms the viewer may book for (no form without one).
    pub choices: Vec<RoomChoice>,
    pub form: BookingFormView,
    pub errors: Errors,
    /// The refused booking's conflict.
    pub taken: Option<TakenView>,
    pub repeats: Vec<&'static str>,
    /// Pending bookings the viewer may decide on.
    pub waiting: Vec<SlotItem>,
    /// Times on another clock than the site's.
    pub zone_note: Option<ZoneNote>,
}

impl Page for FacilityPage {
    const TEMPLATE: &'static str = "facilities/show.html";
}

impl FacilityPage {
    /// The page of `v`, its form filled with `form`.
    pub fn new(
        layout: Layout,
        v: &FacilityView,
        form: &BookingForm,
        errors: Errors,
        taken: Option<&Taken>,
    ) -> Self {
        let days = (0..7)
            .map(|i| {
                let d = v.week + Duration::days(i);
                WeekDay {
                    date: d.to_string(),
                    weekday: d.weekday().num_days_from_sunday(),
                    closed: v.facility.weekdays & weekday_bit(d.weekday()) == 0,
                    slots: v
                        .slots
                        .iter()
                        .filter(|s| s.start.date() == d)
                        .map(slot_item)
                        .collect(),
                }
            })
            .collect();
        Self {
            layout,
            facility: facility_row(&v.facility, None),
            description: v.facility.description.clone(),
            rooms: v.rooms.clone(),
            managers: v.managers.clone(),
            first: v.week.to_string(),
            last: (v.week + Duration::days(6)).to_string(),
            prev_week: (v.week - Duration::days(7)).to_string(),
            next_week: (v.week + Duration::days(7)).to_string(),
            days,
            choices: v
                .bookable
                .iter()
                .map(|(slug, name)| RoomChoice {
                    slug: slug.clone(),
                    name: name.clone(),
                })
                .collect(),
            form: form.into(),
            errors,
            taken: taken.map(TakenView::from),
            repeats: crate::db::types::Repeat::ALL
                .iter()
                .map(|r| r.as_str())
                .collect(),
            waiting: v.waiting.iter().map(slot_item).collect(),
            zone_note: ZoneNote::of(v.zones),
        }
    }
}

/// `admin/facilities.html`: every facility, with links to edit them.
#[derive(Debug, Clone, Serialize)]
pub struct AdminFacilitiesPage {
    #[serde(flatten)]
    pub layout: Layout,
    pub facilities: Vec<FacilityRow>,
}

impl Page for AdminFacilitiesPage {
    const TEMPLATE: &'static str = "admin/facilities.html";
}

impl AdminFacilitiesPage {
    /// The list page.
    pub fn new(layout: Layout, list: &[Facility]) -> Self {
        Self {
            layout,
            facilities: list.iter().map(|f| facility_row(f, None)).collect(),
        }
    }
}

/// The facility form's values.
#[derive(Debug, Clone, Serialize)]
pub struct FacilityFormView {
    pub name: String,
    pub category: String,
    pub description: String,
    pub opens: String,
    pub closes: String,
    pub days: Vec<DayBox>,
    pub all_rooms: bool,
    pub rooms: String,
    pub needs_approval: bool,
    pub managers: String,
}

/// `admin/facility_form.html`: a new facility, or a facility's edit form (with its delete button).
#[derive(Debug, Clone, Serialize)]
pub struct FacilityFormPage {
    #[serde(flatten)]
    pub layout: Layout,
    /// `None`: a new one.
    pub id: Option<i64>,
    pub form: FacilityFormView,
    pub errors: Errors,
}

impl Page for FacilityFormPage {
    const TEMPLATE: &'static str = "admin/facility_form.html";
}

impl FacilityFormPage {
    /// The form page.
    pub fn new(layout: Layout, id: Option<i64>, f: &FacilityForm, errors: Errors) -> Self {
        Self {
            layout,
            id,
            form: FacilityFormView {
                name: f.name.clone(),
                category: f.category.clone(),
                description: f.description.clone(),
                opens: f.opens.clone(),
                closes: f.closes.clone(),
                days: boxes(f.day_boxes()),
                all_rooms: f.all_rooms.is_some(),
                rooms: f.rooms.clone(),
                needs_approval: f.needs_approval.is_some(),
                managers: f.managers.clone(),
            },
            errors,
        }
    }

    /// The form's own path.
    pub fn path(id: Option<i64>) -> String {
        match id {
            Some(id) => format!("/admin/facilities/{id}/edit"),
            None => "/admin/facilities/new".to_owned(),
        }
    }
}
