//! A room calendar as RFC 5545 text, written by the `icalendar` crate (CRLF line ends, 75-octet
//! folding on character boundaries, TEXT escaping): series keep their RRULE and EXDATE (clients
//! expand them), times carry their zone with a VTIMEZONE, every event a stable UID and DTSTAMP.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike};
use chrono_tz::Tz;
use icalendar::{Calendar, CalendarDateTime, Component, EventLike, Property};

use crate::models::event::{Event, Override};

/// How often subscribers should look again (RFC 7986 `REFRESH-INTERVAL`, `X-PUBLISHED-TTL`).
const REFRESH: &str = "PT1H";

/// One-line text for a TEXT value: line breaks as LF (the crate escapes LF as `\n`, not CR), other
/// control characters dropped, so nothing can end the line early.
fn text(s: &str) -> String {
    s.replace("\r\n", "\n")
        .replace('\r', "\n")
        .chars()
        .filter(|c| *c == '\n' || !c.is_control())
        .collect()
}

/// RFC 5545 TEXT escaping, for the one property the crate does not know to be TEXT.
fn escape(s: &str) -> String {
    text(s)
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace(';', "\\;")
        .replace('\n', "\\n")
}

/// What one VEVENT says besides the event's own UID, zone and rule.
struct Body<'a> {
    title: &'a str,
    description: &'a str,
    place: &'a str,
    starts_at: NaiveDateTime,
    ends_at: NaiveDateTime,
    stamp: NaiveDateTime,
}

/// A VEVENT of `e` with `b`'s fields and times (stored as in `events`: UTC, or dates).
fn vevent(e: &Event, b: &Body<'_>, tz: Tz, url: &str) -> icalendar::Event {
    let mut v = icalendar::Event::new();
    v.uid(&e.uid)
        .timestamp(b.stamp.and_utc())
        .summary(&text(b.title))
        .sequence(u32::try_from(e.sequence).unwrap_or(0))
        .add_property("URL", url);
    if !b.description.is_empty() {
        v.description(&text(b.description));
    }
    if !b.place.is_empty() {
        v.location(&text(b.place));
    }
    // A facility booking waiting for approval (仮予約) is tentative until a manager approves it.
    if e.booking_state == super::facilities::PENDING {
        v.status(icalendar::EventStatus::Tentative);
    }
    if e.all_day {
        v.starts(b.starts_at.date()).ends(b.ends_at.date());
    } else {
        v.starts(zoned(b.starts_at, tz)).ends(zoned(b.ends_at, tz));
    }
    v
}

/// A UTC instant as a date-time of zone `tz` (`TZID=`), as DTSTART and RECURRENCE-ID carry it.
fn zoned(utc: NaiveDateTime, tz: Tz) -> CalendarDateTime {
    CalendarDateTime::WithTimezone {
        date_time: tz.from_utc_datetime(&utc).naive_local(),
        tzid: tz.name().to_owned(),
    }
}

/// The calendar of a room: `events` with `base_url` links to their pages, and after each series
/// its changed occurrences (`changed`: same UID, their RECURRENCE-ID, their own fields and times).
pub fn calendar(
    room_name: &str,
    events: &[Event],
    changed: &[Override],
    base_url: &str,
    slug: &str,
) -> String {
    let mut cal = Calendar::empty();
    cal.append_property(Property::new("VERSION", "2.0"));
    cal.append_property(Property::new("PRODID", "-//Yui//Calendar//JA"));
    cal.append_property(Property::new("CALSCALE", "GREGORIAN"));
    cal.append_property(Property::new("X-WR-CALNAME", escape(room_name)));
    cal.append_property(Property::new("NAME", text(room_name)));
    cal.append_property(
        Property::new("REFRESH-INTERVAL", REFRESH)
            .add_parameter("VALUE", "DURATION")
            .done(),
    );
    cal.append_property(Property::new("X-PUBLISHED-TTL", REFRESH));
    let mut zones: Vec<Tz> = Vec::new();
    for e in events {
        let tz: Tz = e.tz.parse().unwrap_or(chrono_tz::UTC);
        let url = format!(
            "{}/rooms/{}/calendar/events/{}",
            base_url.trim_end_matches('/'),
            crate::services::url_path(slug).trim_start_matches('/'),
            e.id
        );
        let mut v = vevent(
            e,
            &Body {
                title: &e.title,
                description: &e.description_md,
                place: &e.place,
                starts_at: e.starts_at,
                ends_at: e.ends_at,
                stamp: e.updated_at,
            },
            tz,
            &url,
        );
        if !e.all_day && !zones.contains(&tz) {
            zones.push(tz);
        }
        if !e.rrule.is_empty() {
            v.add_property("RRULE", &e.rrule);
        }
        if !e.exdates.is_empty() {
            let mut p = Property::new("EXDATE", &e.exdates);
            if e.all_day {
                p.add_parameter("VALUE", "DATE");
            }
            v.append_property(p);
        }
        cal.push(v.done());
        for o in changed.iter().filter(|o| o.event_id == e.id.0) {
            let key = super::recur::exdate_value(o.recurrence_id, e.all_day);
            let mut v = vevent(
                e,
                &Body {
                    title: &o.title,
                    description: &o.description_md,
                    place: &o.place,
                    starts_at: o.starts_at,
                    ends_at: o.ends_at,
                    stamp: o.updated_at.max(e.updated_at),
                },
                tz,
                &format!("{url}?at={key}"),
            );
            if e.all_day {
                v.recurrence_id(o.recurrence_id.date());
            } else {
                v.recurrence_id(zoned(o.recurrence_id, tz));
            }
            cal.push(v.done());
        }
    }
    let mut out = cal.done().to_string();
    // VTIMEZONE goes before the events; the crate has no builder for it, so its text is parsed by
    // the crate's own parser first (a malformed one would fail the tests, not a subscriber).
    let zones: String = zones.iter().map(|tz| vtimezone(*tz)).collect();
    if let Some(at) = out.find("BEGIN:VEVENT") {
        out.insert_str(at, &zones);
    } else if let Some(at) = out.find("END:VCALENDAR") {
        out.insert_str(at, &zones);
    }
    out
}

/// `+HHMM` / `-HHMM`.
fn offset(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.abs();
    format!("{sign}{:02}{:02}", s / 3600, (s % 3600) / 60)
}

fn offset_at(tz: Tz, utc: NaiveDateTime) -> i32 {
    tz.offset_from_utc_datetime(&utc).fix().local_minus_utc()
}

/// One DST change of a year: its UTC instant and the offsets before and after.
struct Change {
    utc: NaiveDateTime,
    before: i32,
    after: i32,
}

/// The offset changes of `tz` in `year` (none for zones without DST).
fn changes(tz: Tz, year: i32) -> Vec<Change> {
    let Some(start) = NaiveDate::from_ymd_opt(year, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0))
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut at = start;
    let mut current = offset_at(tz, at);
    while at.year() == year {
        let next = at + Duration::hours(1);
        let o = offset_at(tz, next);
        if o != current {
            // Find the minute of the change within this hour.
            let mut m = at;
            while offset_at(tz, m) == current {
                m += Duration::minutes(1);
            }
            out.push(Change {
                utc: m,
                before: current,
                after: o,
            });
            current = o;
        }
        at = next;
    }
    out
}

/// A VTIMEZONE for `tz`: a fixed offset for zones without DST (Asia/Tokyo), else a STANDARD and a
/// DAYLIGHT observance repeating yearly on the weekday rule of this year's changes ("last Sunday
/// of March"), which is how the zones that have DST define it today.
fn vtimezone(tz: Tz) -> String {
    let year = crate::models::now().year();
    let mut lines = vec!["BEGIN:VTIMEZONE".to_owned(), format!("TZID:{}", tz.name())];
    let found = changes(tz, year);
    if found.len() == 2 {
        for c in &found {
            let kind = if c.after > c.before {
                "DAYLIGHT"
            } else {
                "STANDARD"
            };
            let local = c.utc + Duration::seconds(i64::from(c.before));
            let date = local.date();
            let days_in_month = (28..=31)
                .rev()
                .find(|d| NaiveDate::from_ymd_opt(date.year(), date.month(), *d).is_some())
                .unwrap_or(28);
            let last = date.day() + 7 > days_in_month;
            let n = (date.day() - 1) / 7 + 1;
            let nth = if last { "-1".to_owned() } else { n.to_string() };
            // The rule's first onset, in 1970 (RFC 5545: DTSTART is the first one).
            let onset = if last {
                (22..=31)
                    .rev()
                    .filter_map(|d| NaiveDate::from_ymd_opt(1970, date.month(), d))
                    .find(|d| d.weekday() == date.weekday())
            } else {
                NaiveDate::from_weekday_of_month_opt(
                    1970,
                    date.month(),
                    date.weekday(),
                    u8::try_from(n).unwrap_or(1),
                )
            }
            .unwrap_or(date);
            lines.push(format!("BEGIN:{kind}"));
            lines.push(format!(
                "DTSTART:{}T{:02}{:02}00",
                onset.format("%Y%m%d"),
                local.hour(),
                local.minute()
            ));
            lines.push(format!(
                "RRULE:FREQ=YEARLY;BYMONTH={};BYDAY={nth}{}",
                date.month(),
                super::recur::ical_weekday(date.weekday())
            ));
            lines.push(format!("TZOFFSETFROM:{}", offset(c.before)));
            lines.push(format!("TZOFFSETTO:{}", offset(c.after)));
            lines.push(format!("END:{kind}"));
        }
    } else {
        let now = crate::models::now();
        let o = offset(offset_at(tz, now));
        lines.extend([
            "BEGIN:STANDARD".to_owned(),
            "DTSTART:19700101T000000".to_owned(),
            format!("TZOFFSETFROM:{o}"),
            format!("TZOFFSETTO:{o}"),
            "END:STANDARD".to_owned(),
        ]);
    }
    lines.push("END:VTIMEZONE".to_owned());
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn berlin_has_daylight_and_standard_on_last_sundays() {
        let z = vtimezone(chrono_tz::Europe::Berlin);
        assert!(z.contains("RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU"), "{z}");
        assert!(z.contains("RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU"), "{z}");
        assert!(z.contains("TZOFFSETTO:+0200"), "{z}");
        // 1970's last Sundays of March and October.
        assert!(z.contains("DTSTART:19700329T020000"), "{z}");
        assert!(z.contains("DTSTART:19701025T030000"), "{z}");
        let tokyo = vtimezone(chrono_tz::Asia::Tokyo);
        assert!(tokyo.contains("TZOFFSETTO:+0900"), "{tokyo}");
        let parsed: Result<Calendar, _> =
            format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{z}END:VCALENDAR\r\n").parse();
        assert!(parsed.is_ok());
    }
}
