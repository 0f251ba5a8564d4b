//! `yui demo --rooms N --events N --facilities N`: a calendar big enough to measure (#12's
//! benchmark, `bench/calendar`), made through the services like everything else the demo writes,
//! 1,000 events per transaction.
//!
//! - `--rooms`: closed rooms `cal-001`, `cal-002`, … with a calendar, managed by `manager`; the demo
//!   `member` belongs to the first `MEMBER_ROOMS` of them (so `/calendar` combines that many).
//! - `--events`: events spread over the rooms round-robin and over the two years around today: a
//!   quarter of them series of every kind the form offers (daily, weekly on one or two days,
//!   monthly by date and by "2nd Tuesday", yearly; until a date, a count, or never ending), some
//!   with a skipped and some with a changed occurrence; the rest single events, among them all-day,
//!   multi-day all-day and multi-day timed ones.
//! - `--facilities`: facilities every room may book, open every day 08:00–21:00 (every fifth one
//!   needs `hanako`'s approval), each with `BOOKINGS_PER_FACILITY` reservations by the rooms, one
//!   or more every day from a month ago on, a quarter of them weekly series of four.

use chrono::{Datelike, Duration, NaiveDate, Weekday};
use indicatif::{ProgressBar, ProgressStyle};

use super::{JA_SENTENCES, JA_TOPICS, Seq};
use crate::db::types::{EventId, Repeat};
use crate::error::AppError;
use crate::services::Core;
use crate::services::account::actor_by_login;
use crate::services::authz::RoomRole;
use crate::services::calendar::facilities::{self, Booked, BookingForm, FacilityForm};
use crate::services::calendar::recur::{self, Timing, Window};
use crate::services::calendar::series::{self, Scope};
use crate::services::calendar::{self, EventForm};
use crate::services::rooms::{self, RoomForm};
use crate::services::site::SiteSettings;

/// How many of the calendar rooms the demo `member` belongs to.
pub const MEMBER_ROOMS: usize = 30;
/// Reservations per facility.
pub const BOOKINGS_PER_FACILITY: usize = 60;
/// Events per transaction.
const CHUNK: usize = 1000;

/// The address of calendar room `n` (0-based).
pub fn room_slug(n: usize) -> String {
    format!("cal-{:03}", n + 1)
}

/// What `fill` made (`yui demo` prints it).
#[derive(Debug, Default, Clone, Copy)]
pub struct Filled {
    /// Events and series (reservations not counted).
    pub events: usize,
    /// Of them, series.
    pub series: usize,
    /// Reservations.
    pub bookings: usize,
}

/// Makes the rooms, their events and the facilities with their reservations.
pub fn fill(
    core: &Core,
    rooms: usize,
    events: usize,
    facilities: usize,
) -> Result<Filled, AppError> {
    make_rooms(core, rooms)?;
    let mut filled = write_events(core, rooms, events)?;
    filled.bookings = make_facilities(core, rooms, facilities)?;
    Ok(filled)
}

fn bar(len: usize, msg: &'static str) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(msg);
    bar
}

/// The calendar rooms: closed (only their members read them), `manager` manages each, `member`
/// is a member of the first `MEMBER_ROOMS`.
fn make_rooms(core: &Core, count: usize) -> Result<(), AppError> {
    core.db.run_sync(true, |conn| {
        let admin = actor_by_login(conn, "admin")?;
        for n in 0..count {
            let on = Some("on".to_owned());
            let form = RoomForm {
                name: format!("{}年{}組", n / 10 + 1, n % 10 + 1),
                slug: room_slug(n),
                description: "ベンチマーク用のカレンダーのルームです。".to_owned(),
                visibility: "closed".to_owned(),
                state: "open".to_owned(),
                default_role: RoomRole::Member.to_string(),
                join_policy: "invite".to_owned(),
                need_approval: None,
                comment_approval: None,
                quota_mb: "1024".to_owned(),
                feature_blog: on.clone(),
                feature_files: None,
                feature_calendar: on,
                parent: String::new(),
                manager: "manager".to_owned(),
                public_space: false,
                quota_locked: false,
            };
            let slug = rooms::create_room(conn, &admin, &form)?;
            if n < MEMBER_ROOMS {
                rooms::add_member(conn, &admin, &slug, "member", RoomRole::Member.as_str())?;
            }
        }
        Ok(())
    })
}

const PLACES: &[&str] = &[
    "",
    "会議室A",
    "体育館",
    "音楽室",
    "図書室",
    "公民館",
    "校庭",
    "オンライン",
];

const WEEKDAYS: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// The form with these weekdays ticked.
fn with_days(form: EventForm, days: &[Weekday]) -> EventForm {
    let on = |d| days.contains(&d).then(|| "on".to_owned());
    EventForm {
        day_mo: on(Weekday::Mon),
        day_tu: on(Weekday::Tue),
        day_we: on(Weekday::Wed),
        day_th: on(Weekday::Thu),
        day_fr: on(Weekday::Fri),
        day_sa: on(Weekday::Sat),
        day_su: on(Weekday::Sun),
        ..form
    }
}

fn small(seq: &mut Seq, n: u64) -> i64 {
    i64::try_from(seq.next() % n).unwrap_or(0)
}

/// The `i`th event's form: a series when `i` is a multiple of 4 (its kind from `i / 4`), else a
/// single event (every tenth all-day, some of them over several days, every twentieth a timed
/// event over two days).
fn event_form(seq: &mut Seq, i: usize, today: NaiveDate, tz: &str) -> EventForm {
    let day = today + Duration::days(small(seq, 730) - 365);
    let start_min = 8 * 60 + 30 * small(seq, 22);
    let length = 30 * (1 + small(seq, 6));
    let clock = |m: i64| format!("{:02}:{:02}", m / 60 % 24, m % 60);
    let title = format!("{}（{}）", seq.pick(JA_TOPICS), i + 1);
    let timed = EventForm {
        title,
        description: format!("{} {}", seq.pick(JA_SENTENCES), seq.pick(JA_SENTENCES)),
        place: seq.pick(PLACES).to_owned(),
        start_date: day.to_string(),
        start_time: clock(start_min),
        end_date: String::new(),
        end_time: clock((start_min + length).min(23 * 60 + 30)),
        tz: tz.to_owned(),
        repeat: Repeat::Never.as_str().into(),
        interval: "1".into(),
        ..EventForm::default()
    };
    let all_day = |last: NaiveDate, form: EventForm| EventForm {
        all_day: Some("on".to_owned()),
        start_time: String::new(),
        end_time: String::new(),
        end_date: last.to_string(),
        ..form
    };
    if !i.is_multiple_of(4) {
        return match i % 20 {
            1 => all_day(day, timed),
            5 => all_day(day + Duration::days(1 + small(seq, 3)), timed),
            10 => EventForm {
                end_date: (day + Duration::days(1)).to_string(),
                ..timed
            },
            _ => timed,
        };
    }
    let repeat = |r: Repeat, form: EventForm| EventForm {
        repeat: r.as_str().into(),
        ..form
    };
    // A weekday (Monday to Friday), and the one two days later for two-day lessons.
    let d = usize::try_from(small(seq, 5)).unwrap_or(0);
    let weekday = WEEKDAYS[d];
    let weekly = with_days(repeat(Repeat::Weekly, timed.clone()), &[weekday]);
    match (i / 4) % 10 {
        // A term's lessons: weekly on one or two days until a date.
        0 | 1 => EventForm {
            until: (day + Duration::weeks(8 + small(seq, 18))).to_string(),
            ..weekly
        },
        2 => EventForm {
            until: (day + Duration::weeks(4 + small(seq, 10))).to_string(),
            ..with_days(weekly, &[weekday, WEEKDAYS[(d + 2) % 5]])
        },
        // Morning assembly every other week, never ending.
        3 => EventForm {
            interval: "2".into(),
            ..weekly
        },
        // A camp or exam week: daily, counted.
        4 => EventForm {
            count: (3 + small(seq, 8)).to_string(),
            ..repeat(Repeat::Daily, timed)
        },
        // Daily until a date, as an all-day reminder.
        5 => EventForm {
            until: (day + Duration::days(7 + small(seq, 14))).to_string(),
            ..repeat(Repeat::Daily, all_day(day, timed))
        },
        6 => EventForm {
            count: (6 + small(seq, 7)).to_string(),
            ..repeat(Repeat::MonthlyByDate, timed)
        },
        7 => EventForm {
            until: (day + Duration::days(365)).to_string(),
            ..repeat(Repeat::MonthlyByWeekday, timed)
        },
        // The "2nd Tuesday" meeting that never ends.
        8 => repeat(Repeat::MonthlyByWeekday, timed),
        // Anniversaries: yearly, all day, never ending.
        _ => repeat(Repeat::Yearly, all_day(day, timed)),
    }
}

/// The start of a series' `n`th occurrence (0-based), as an occurrence's links name it.
fn occurrence_key(
    conn: &mut crate::db::DbConn,
    actor: &crate::services::Actor,
    slug: &str,
    id: EventId,
    n: usize,
    site: &SiteSettings,
) -> Result<Option<String>, AppError> {
    let ev = calendar::show(conn, Some(actor), slug, id, None, site)?.event;
    let tz = ev.tz.parse().unwrap_or(chrono_tz::UTC);
    let timing = Timing {
        starts_at: ev.starts_at,
        ends_at: ev.ends_at,
        tz,
        all_day: ev.all_day,
        rrule: &ev.rrule,
        exdates: &ev.exdates,
    };
    let first = ev.starts_at.date();
    let window = Window::days(first, first + Duration::days(400), chrono_tz::UTC);
    let (list, _) =
        recur::occurrences(&timing, &window).map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
    Ok(list
        .get(n)
        .map(|o| recur::exdate_value(o.start, ev.all_day)))
}

/// Gives every eighth series an exception: a skipped second occurrence (EXDATE), or a third one
/// moved an hour later under its own title (an override).
fn add_exception(
    core: &Core,
    conn: &mut crate::db::DbConn,
    actor: &crate::services::Actor,
    slug: &str,
    id: EventId,
    skip: bool,
    site: &SiteSettings,
) -> Result<(), AppError> {
    let Some(key) = occurrence_key(conn, actor, slug, id, if skip { 1 } else { 2 }, site)? else {
        return Ok(());
    };
    if skip {
        return calendar::skip_occurrence(conn, actor, slug, id, &key);
    }
    let (_, form) = series::edit_form(conn, actor, slug, id, Scope::This, &key)?;
    let later = |t: &str| {
        chrono::NaiveTime::parse_from_str(t, "%H:%M")
            .map(|t| (t + Duration::hours(1)).format("%H:%M").to_string())
            .unwrap_or_default()
    };
    // Series start by 18:30 and last at most three hours: an hour later stays on the same day.
    let form = if form.all_day.is_some() {
        form
    } else {
        EventForm {
            start_time: later(&form.start_time),
            end_time: later(&form.end_time),
            ..form
        }
    };
    let form = EventForm {
        title: format!("{}（変更）", form.title),
        ..form
    };
    series::update_scoped(core, conn, actor, slug, id, &form, site).map(drop)
}

/// Writes the events, `CHUNK` per transaction, as `manager` (who publishes directly).
fn write_events(core: &Core, rooms: usize, count: usize) -> Result<Filled, AppError> {
    let mut filled = Filled::default();
    if count == 0 {
        return Ok(filled);
    }
    let site = SiteSettings::default();
    let today = calendar::today(site.timezone);
    let tz = site.timezone.name();
    let mut seq = Seq(0x5851_F42D_4C95_7F2D);
    let bar = bar(count, "filling the calendars");
    for start in (0..count).step_by(CHUNK) {
        let end = (start + CHUNK).min(count);
        let forms: Vec<(usize, EventForm)> = (start..end)
            .map(|i| (i, event_form(&mut seq, i, today, tz)))
            .collect();
        core.db.run_sync(true, |conn| {
            let manager = actor_by_login(conn, "manager")?;
            for (i, form) in &forms {
                let slug = room_slug(i % rooms);
                let (id, _) = calendar::create(core, conn, &manager, &slug, form, &site)?;
                if i.is_multiple_of(4) {
                    filled.series += 1;
                    // Every eighth series: one skipped, the next one changed.
                    match (i / 4) % 16 {
                        0 => add_exception(core, conn, &manager, &slug, id, true, &site)?,
                        8 => add_exception(core, conn, &manager, &slug, id, false, &site)?,
                        _ => {}
                    }
                }
                filled.events += 1;
            }
            Ok(())
        })?;
        bar.set_position(end as u64);
    }
    bar.finish_with_message("calendars filled");
    Ok(filled)
}

const FACILITY_KINDS: &[&str] = &["会議室", "特別教室", "体育施設", "備品"];

/// The facilities and their reservations: facility `f`'s `k`th one is on day `k` (from a month
/// ago), at `08:00 + 2h × (k mod 6)` for 90 minutes; every fourth is a weekly series of four. None
/// is ever refused: a series' later dates (`k + 7a`, `a` ≤ 3) meet the single of that day at
/// another hour (`(k + a) mod 6`), and two series share a date and an hour only `7 × 12` days apart.
fn make_facilities(core: &Core, rooms: usize, count: usize) -> Result<usize, AppError> {
    if count == 0 || rooms == 0 {
        return Ok(0);
    }
    let site = SiteSettings::default();
    let today = calendar::today(site.timezone);
    let day0 = today - Duration::days(30);
    let on = || Some("on".to_owned());
    let bar = bar(count * BOOKINGS_PER_FACILITY, "booking the facilities");
    let mut booked = 0;
    for f in 0..count {
        core.db.run_sync(true, |conn| {
            let admin = actor_by_login(conn, "admin")?;
            let manager = actor_by_login(conn, "manager")?;
            let approval = f % 5 == 4;
            let form = FacilityForm {
                name: format!("{}{}", FACILITY_KINDS[f % FACILITY_KINDS.len()], f + 1),
                category: FACILITY_KINDS[f % FACILITY_KINDS.len()].to_owned(),
                description: "ベンチマーク用の施設です。".to_owned(),
                opens: "08:00".to_owned(),
                closes: "21:00".to_owned(),
                day_mo: on(),
                day_tu: on(),
                day_we: on(),
                day_th: on(),
                day_fr: on(),
                day_sa: on(),
                day_su: on(),
                all_rooms: on(),
                rooms: String::new(),
                needs_approval: approval.then(on).flatten(),
                managers: if approval {
                    "hanako".into()
                } else {
                    String::new()
                },
            };
            let id = facilities::create_facility(conn, &admin, &form)?;
            for k in 0..BOOKINGS_PER_FACILITY {
                let day = day0 + Duration::days(i64::try_from(k).unwrap_or(0));
                let hour = 8 + 2 * (k % 6);
                let series = k.is_multiple_of(4);
                let form = BookingForm {
                    room: room_slug((f * BOOKINGS_PER_FACILITY + k) % rooms),
                    title: format!("{}（予約{}）", JA_TOPICS[k % JA_TOPICS.len()], k + 1),
                    start_date: day.to_string(),
                    start_time: format!("{hour:02}:00"),
                    end_time: format!("{:02}:30", hour + 1),
                    repeat: if series {
                        Repeat::Weekly.as_str().into()
                    } else {
                        Repeat::Never.as_str().into()
                    },
                    count: if series { "4".into() } else { String::new() },
                    ..BookingForm::default()
                };
                let form = with_weekday(form, day.weekday(), series);
                match facilities::book(conn, &manager, id, &form, &site)? {
                    Booked::Done { .. } => booked += 1,
                    Booked::Invalid(e) => return Err(AppError::Invalid(e)),
                    Booked::Taken(_) => return Err(AppError::Conflict("error.conflict")),
                }
            }
            Ok(())
        })?;
        bar.set_position(((f + 1) * BOOKINGS_PER_FACILITY) as u64);
    }
    bar.finish_with_message("facilities booked");
    Ok(booked)
}

/// A weekly booking's weekday box (the booking form's, as the event form's).
fn with_weekday(form: BookingForm, d: Weekday, series: bool) -> BookingForm {
    if !series {
        return form;
    }
    let on = |x| (d == x).then(|| "on".to_owned());
    BookingForm {
        day_mo: on(Weekday::Mon),
        day_tu: on(Weekday::Tue),
        day_we: on(Weekday::Wed),
        day_th: on(Weekday::Thu),
        day_fr: on(Weekday::Fri),
        day_sa: on(Weekday::Sat),
        day_su: on(Weekday::Sun),
        ..form
    }
}
