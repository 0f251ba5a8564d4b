//! Recurrence rules: the few shapes the event form offers (daily, weekly on chosen days, monthly by
//! date or by "2nd Tuesday", yearly; until a date or a count), written as an RFC 5545 RRULE and
//! expanded on read by the `rrule` crate within the window asked, with a cap on how many
//! occurrences one window may produce.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Weekday};
use chrono_tz::Tz;

use crate::db::types::Repeat;

/// The most occurrences a series may have when it counts them (`COUNT`).
pub const MAX_COUNT: u32 = 1000;
/// The largest interval (every n days, weeks, months, years).
pub const MAX_INTERVAL: u32 = 99;
/// The most occurrences one series yields in one window; a window asking for more is cut short
/// (and says so), so no rule can make a page expand without end.
pub const WINDOW_LIMIT: u16 = 500;

/// A recurrence as the form edits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// How it repeats.
    pub repeat: Repeat,
    /// Every `interval` days, weeks, months or years (1 = every).
    pub interval: u32,
    /// The weekdays of a weekly rule (empty: the start's weekday).
    pub weekdays: Vec<Weekday>,
    /// The last day an occurrence may start on (in the event's zone), inclusive.
    pub until: Option<NaiveDate>,
    /// How many occurrences in all.
    pub count: Option<u32>,
}

/// The two-letter iCalendar weekday.
pub fn ical_weekday(d: Weekday) -> &'static str {
    match d {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

fn parse_weekday(s: &str) -> Option<Weekday> {
    [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ]
    .into_iter()
    .find(|d| ical_weekday(*d) == s)
}

/// Which weekday of its month a date is (1st..5th).
pub fn nth_of_month(date: NaiveDate) -> u32 {
    (date.day() - 1) / 7 + 1
}

/// The end of `until` (its last second) in `tz`, in UTC: what `UNTIL` says for a timed event.
pub fn until_utc(until: NaiveDate, tz: Tz) -> NaiveDateTime {
    let local = until.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN));
    tz.from_local_datetime(&local)
        .latest()
        .map_or(local, |t| t.naive_utc())
}

impl Rule {
    /// A single event.
    pub fn never() -> Self {
        Self {
            repeat: Repeat::Never,
            interval: 1,
            weekdays: Vec::new(),
            until: None,
            count: None,
        }
    }

    /// The RRULE value (without `RRULE:`) for an event starting at `start_local` (in `tz`), or
    /// `None` for a single event. `UNTIL` is a DATE for all-day events and a UTC date-time for
    /// timed ones, as RFC 5545 §3.3.10 requires of a DTSTART with a TZID.
    pub fn to_rrule(&self, start_local: NaiveDateTime, tz: Tz, all_day: bool) -> Option<String> {
        let date = start_local.date();
        let mut parts = vec![match self.repeat {
            Repeat::Never => return None,
            Repeat::Daily => "FREQ=DAILY".to_owned(),
            Repeat::Weekly => "FREQ=WEEKLY".to_owned(),
            Repeat::MonthlyByDate | Repeat::MonthlyByWeekday => "FREQ=MONTHLY".to_owned(),
            Repeat::Yearly => "FREQ=YEARLY".to_owned(),
        }];
        if self.interval > 1 {
            parts.push(format!("INTERVAL={}", self.interval));
        }
        match self.repeat {
            Repeat::Weekly => {
                let mut days = self.weekdays.clone();
                if days.is_empty() {
                    days.push(date.weekday());
                }
                days.sort_by_key(Weekday::num_days_from_monday);
                days.dedup();
                let days: Vec<&str> = days.into_iter().map(ical_weekday).collect();
                parts.push(format!("BYDAY={}", days.join(",")));
            }
            Repeat::MonthlyByWeekday => parts.push(format!(
                "BYDAY={}{}",
                nth_of_month(date),
                ical_weekday(date.weekday())
            )),
            _ => {}
        }
        if let Some(until) = self.until {
            if all_day {
                parts.push(format!("UNTIL={}", until.format("%Y%m%d")));
            } else {
                parts.push(format!(
                    "UNTIL={}",
                    until_utc(until, tz).format("%Y%m%dT%H%M%SZ")
                ));
            }
        } else if let Some(count) = self.count {
            parts.push(format!("COUNT={count}"));
        }
        Some(parts.join(";"))
    }

    /// Reads back a stored RRULE written by `to_rrule` (anything else: `None`).
    pub fn parse(stored: &str, tz: Tz) -> Option<Self> {
        if stored.is_empty() {
            return Some(Self::never());
        }
        let mut rule = Self::never();
        let mut monthly = false;
        let mut by_nth = false;
        for part in stored.split(';') {
            let (key, value) = part.split_once('=')?;
            match key {
                "FREQ" => {
                    rule.repeat = match value {
                        "DAILY" => Repeat::Daily,
                        "WEEKLY" => Repeat::Weekly,
                        "MONTHLY" => {
                            monthly = true;
                            Repeat::MonthlyByDate
                        }
                        "YEARLY" => Repeat::Yearly,
                        _ => return None,
                    }
                }
                "INTERVAL" => rule.interval = value.parse().ok()?,
                "COUNT" => rule.count = Some(value.parse().ok()?),
                "BYDAY" => {
                    for d in value.split(',') {
                        let name = d.trim_start_matches(|c: char| c.is_ascii_digit() || c == '-');
                        if name.len() == d.len() {
                            rule.weekdays.push(parse_weekday(name)?);
                        } else {
                            by_nth = true;
                        }
                    }
                }
                "UNTIL" => {
                    rule.until = Some(if value.len() == 8 {
                        NaiveDate::parse_from_str(value, "%Y%m%d").ok()?
                    } else {
                        let utc = NaiveDateTime::parse_from_str(value, "%Y%m%dT%H%M%SZ").ok()?;
                        tz.from_utc_datetime(&utc).date_naive()
                    });
                }
                _ => return None,
            }
        }
        if monthly && by_nth {
            rule.repeat = Repeat::MonthlyByWeekday;
        }
        Some(rule)
    }
}

/// The times of an event or series, as stored.
#[derive(Debug, Clone)]
pub struct Timing<'a> {
    /// UTC (all-day: the first day at 00:00).
    pub starts_at: NaiveDateTime,
    /// UTC (all-day: the day after the last at 00:00).
    pub ends_at: NaiveDateTime,
    /// The zone the rule repeats in.
    pub tz: Tz,
    /// An all-day event (dates, not instants).
    pub all_day: bool,
    /// The stored RRULE value, empty for a single event.
    pub rrule: &'a str,
    /// The stored EXDATE list (comma-separated).
    pub exdates: &'a str,
}

/// The window a page asks for: `[from, to)` in UTC for timed events, and the same span as local
/// dates for all-day events (which are dates, not instants).
#[derive(Debug, Clone, Copy)]
pub struct Window {
    /// UTC start.
    pub from: NaiveDateTime,
    /// UTC end (exclusive).
    pub to: NaiveDateTime,
    /// First day (all-day events).
    pub from_date: NaiveDate,
    /// Day after the last (all-day events).
    pub to_date: NaiveDate,
}

impl Window {
    /// The days `[from_date, to_date)` of zone `tz`.
    pub fn days(from_date: NaiveDate, to_date: NaiveDate, tz: Tz) -> Self {
        let utc = |d: NaiveDate| {
            tz.from_local_datetime(&d.and_time(NaiveTime::MIN))
                .earliest()
                .map_or(d.and_time(NaiveTime::MIN), |t| t.naive_utc())
        };
        Self {
            from: utc(from_date),
            to: utc(to_date),
            from_date,
            to_date,
        }
    }
}

impl Window {
    /// Whether an occurrence (UTC, or dates for all-day events) overlaps the window.
    pub fn overlaps(&self, o: &Occurrence, all_day: bool) -> bool {
        if all_day {
            o.start < self.to_date.and_time(NaiveTime::MIN)
                && o.end > self.from_date.and_time(NaiveTime::MIN)
        } else {
            o.start < self.to && o.end > self.from
        }
    }
}

/// Whether a series has an occurrence starting exactly at `at` (UTC, or the date at 00:00 for
/// all-day events): only a real occurrence may be skipped, changed or split at.
pub fn is_occurrence(t: &Timing<'_>, at: NaiveDateTime) -> Result<bool, RuleError> {
    let day = at.date();
    let window = Window::days(
        day - Duration::days(1),
        day + Duration::days(2),
        chrono_tz::UTC,
    );
    let (list, _) = occurrences(t, &window)?;
    Ok(list.iter().any(|o| o.start == at))
}

/// One occurrence: its start and end, UTC for timed events, dates at 00:00 for all-day ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    /// Start.
    pub start: NaiveDateTime,
    /// End (exclusive).
    pub end: NaiveDateTime,
}

/// Why a rule cannot be expanded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("recurrence rule: {0}")]
pub struct RuleError(pub String);

/// The EXDATE value of an occurrence starting at `start` (UTC, or a date for all-day events).
pub fn exdate_value(start: NaiveDateTime, all_day: bool) -> String {
    if all_day {
        start.format("%Y%m%d").to_string()
    } else {
        start.format("%Y%m%dT%H%M%SZ").to_string()
    }
}

fn parse_exdate(s: &str) -> Option<NaiveDateTime> {
    if s.len() == 8 {
        NaiveDate::parse_from_str(s, "%Y%m%d")
            .ok()
            .map(|d| d.and_time(NaiveTime::MIN))
    } else {
        NaiveDateTime::parse_from_str(s, "%Y%m%dT%H%M%SZ").ok()
    }
}

/// The `rrule` crate's set for a series: DTSTART in the event's zone (timed) or UTC (all-day, whose
/// dates float), `UNTIL` rewritten to the UTC date-time the crate requires of both.
fn rrule_set(t: &Timing<'_>) -> Result<rrule::RRuleSet, RuleError> {
    let err = |e: &dyn std::fmt::Display| RuleError(e.to_string());
    let (zone, start) = if t.all_day {
        (
            rrule::Tz::UTC,
            rrule::Tz::UTC.from_utc_datetime(&t.starts_at),
        )
    } else {
        let zone = rrule::Tz::Tz(t.tz);
        (zone, zone.from_utc_datetime(&t.starts_at))
    };
    let rule = t
        .rrule
        .split(';')
        .map(|part| match part.strip_prefix("UNTIL=") {
            Some(date) if date.len() == 8 => format!("UNTIL={date}T235959Z"),
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";");
    let rule: rrule::RRule<rrule::Unvalidated> = rule.parse().map_err(|e| err(&e))?;
    let mut set = rule.build(start).map_err(|e| err(&e))?;
    for ex in t.exdates.split(',').filter(|s| !s.is_empty()) {
        let at = parse_exdate(ex).ok_or_else(|| RuleError(format!("EXDATE {ex}")))?;
        set = set.exdate(zone.from_utc_datetime(&at));
    }
    Ok(set)
}

/// The occurrences of an event that overlap `window`, at most `WINDOW_LIMIT` of them; the flag says
/// whether the series had more there (the page says so instead of expanding without end).
pub fn occurrences(t: &Timing<'_>, window: &Window) -> Result<(Vec<Occurrence>, bool), RuleError> {
    let length = t.ends_at - t.starts_at;
    let (from, to) = if t.all_day {
        (
            window.from_date.and_time(NaiveTime::MIN),
            window.to_date.and_time(NaiveTime::MIN),
        )
    } else {
        (window.from, window.to)
    };
    let overlaps = |o: &Occurrence| o.start < to && o.end > from;
    if t.rrule.is_empty() {
        let only = Occurrence {
            start: t.starts_at,
            end: t.ends_at,
        };
        return Ok((overlaps(&only).then_some(only).into_iter().collect(), false));
    }
    let restart = skip_ahead(t, from - length);
    let shifted = restart.as_ref().map(|r| Timing {
        starts_at: r.starts_at,
        ends_at: r.starts_at + length,
        rrule: r.rrule.as_deref().unwrap_or(t.rrule),
        ..t.clone()
    });
    let set = rrule_set(shifted.as_ref().unwrap_or(t))?;
    // Starting after `from - length` catches the occurrences that began before the window and
    // still run into it; `before` is inclusive, so one second less keeps `to` exclusive.
    let after = rrule::Tz::UTC.from_utc_datetime(&(from - length + Duration::seconds(1)));
    let before = rrule::Tz::UTC.from_utc_datetime(&(to - Duration::seconds(1)));
    let result = set.after(after).before(before).all(WINDOW_LIMIT);
    let list = result
        .dates
        .into_iter()
        .map(|d| {
            let start = d.naive_utc();
            Occurrence {
                start,
                end: start + length,
            }
        })
        .filter(overlaps)
        .collect();
    Ok((list, result.limited))
}

/// A series restarted nearer a window (`skip_ahead`): its new first start and, for one repeating
/// by months or years, its rule with the day (and month) its old start implied spelled out.
struct Restart {
    starts_at: NaiveDateTime,
    rrule: Option<String>,
}

/// A series that does not count its occurrences, restarted a whole number of its periods later,
/// just before `from` (in the event's wall-clock time, so DST keeps its hour): the same occurrences
/// from there on, without walking years of the past on every page, so what a page costs does not
/// grow with the age of the series it shows (one that ended restarts on its last period at the
/// latest). A daily or weekly series restarts on one of its days; a monthly or yearly one on the
/// 1st of a month of its own, its rule then naming the day of the month (`BYMONTHDAY`, and the month
/// for a yearly one) that its first start implied: the `rrule` crate lists a start that is not on
/// the rule's days as no occurrence, so months without that day (the 31st, Feb 29, a 5th Friday)
/// are skipped as before. `None` when there is nothing to skip, or the rule counts.
fn skip_ahead(t: &Timing<'_>, from: NaiveDateTime) -> Option<Restart> {
    let rule = Rule::parse(t.rrule, t.tz)?;
    if rule.count.is_some() {
        return None;
    }
    let step = i64::from(rule.interval.max(1));
    let local = |utc: NaiveDateTime| {
        if t.all_day {
            utc
        } else {
            t.tz.from_utc_datetime(&utc).naive_local()
        }
    };
    let start = local(t.starts_at);
    let (new_local, rewritten) = match rule.repeat {
        Repeat::Never => return None,
        Repeat::Daily | Repeat::Weekly => {
            let period = step * if rule.repeat == Repeat::Daily { 1 } else { 7 };
            let mut periods = (local(from) - start).num_days() / period - 1;
            // Never past its last day: the `rrule` crate refuses a DTSTART after UNTIL.
            if let Some(until) = rule.until {
                periods = periods.min((until - start.date()).num_days() / period);
            }
            if periods < 1 {
                return None;
            }
            (start + Duration::days(periods * period), None)
        }
        Repeat::MonthlyByDate | Repeat::MonthlyByWeekday | Repeat::Yearly => {
            let period = step * if rule.repeat == Repeat::Yearly { 12 } else { 1 };
            let month = |d: NaiveDate| i64::from(d.year()) * 12 + i64::from(d.month0());
            let first = month(start.date());
            let mut periods = (month(local(from).date()) - first) / period - 1;
            if let Some(until) = rule.until {
                periods = periods.min((month(until) - first) / period);
            }
            if periods < 1 {
                return None;
            }
            let m = first + periods * period;
            let day = NaiveDate::from_ymd_opt(
                i32::try_from(m.div_euclid(12)).ok()?,
                u32::try_from(m.rem_euclid(12)).ok()? + 1,
                1,
            )?;
            let implied = match rule.repeat {
                Repeat::MonthlyByDate => format!(";BYMONTHDAY={}", start.day()),
                Repeat::Yearly => format!(";BYMONTH={};BYMONTHDAY={}", start.month(), start.day()),
                // `BYDAY=2TU` names its day already.
                _ => String::new(),
            };
            (
                day.and_time(start.time()),
                Some(format!("{}{implied}", t.rrule)),
            )
        }
    };
    let starts_at = if t.all_day {
        new_local
    } else {
        t.tz.from_local_datetime(&new_local).earliest()?.naive_utc()
    };
    Some(Restart {
        starts_at,
        rrule: rewritten,
    })
}

/// How many occurrences a series has that start before `at` (at most `MAX_COUNT`; what a counted
/// series has used up).
pub fn count_before(t: &Timing<'_>, at: NaiveDateTime) -> Result<usize, RuleError> {
    let before = rrule::Tz::UTC.from_utc_datetime(&(at - Duration::seconds(1)));
    let all = rrule_set(t)?
        .before(before)
        .all(u16::try_from(MAX_COUNT).unwrap_or(u16::MAX));
    Ok(all.dates.len())
}

/// When the last occurrence of a series ends (`None`: it never ends), for the window index.
pub fn series_end(t: &Timing<'_>, rule: &Rule) -> Result<Option<NaiveDateTime>, RuleError> {
    let length = t.ends_at - t.starts_at;
    if rule.repeat == Repeat::Never {
        return Ok(Some(t.ends_at));
    }
    if let Some(until) = rule.until {
        let last_start = if t.all_day {
            until.and_time(NaiveTime::MIN)
        } else {
            until_utc(until, t.tz)
        };
        return Ok(Some(last_start + length));
    }
    if rule.count.is_some() {
        let all = rrule_set(t)?.all(u16::try_from(MAX_COUNT).unwrap_or(u16::MAX));
        return Ok(all.dates.last().map(|d| d.naive_utc() + length));
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
    }

    fn starts(r: &Rule, start_local: &str, tz: Tz, from: &str, to: &str) -> Vec<String> {
        let local = dt(start_local);
        let utc = tz.from_local_datetime(&local).unwrap().naive_utc();
        let rrule = r.to_rrule(local, tz, false).unwrap_or_default();
        let t = Timing {
            starts_at: utc,
            ends_at: utc + Duration::hours(1),
            tz,
            all_day: false,
            rrule: &rrule,
            exdates: "",
        };
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let (list, limited) = occurrences(&t, &Window::days(d(from), d(to), tz)).unwrap();
        assert!(!limited);
        list.iter()
            .map(|o| {
                tz.from_utc_datetime(&o.start)
                    .format("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .collect()
    }

    fn rule(repeat: Repeat) -> Rule {
        Rule {
            repeat,
            ..Rule::never()
        }
    }

    #[test]
    fn monthly_on_the_31st_skips_short_months() {
        let got = starts(
            &rule(Repeat::MonthlyByDate),
            "2027-01-31 10:00",
            chrono_tz::Asia::Tokyo,
            "2027-01-01",
            "2027-09-01",
        );
        assert_eq!(
            got,
            [
                "2027-01-31 10:00",
                "2027-03-31 10:00",
                "2027-05-31 10:00",
                "2027-07-31 10:00",
                "2027-08-31 10:00"
            ]
        );
    }

    #[test]
    fn yearly_on_february_29_waits_for_leap_years() {
        let got = starts(
            &rule(Repeat::Yearly),
            "2028-02-29 09:00",
            chrono_tz::Asia::Tokyo,
            "2028-01-01",
            "2037-01-01",
        );
        assert_eq!(
            got,
            ["2028-02-29 09:00", "2032-02-29 09:00", "2036-02-29 09:00"]
        );
    }

    #[test]
    fn the_fifth_friday_only_in_months_that_have_one() {
        // 2027-01-29 is the fifth Friday of January 2027.
        let r = rule(Repeat::MonthlyByWeekday);
        assert_eq!(
            r.to_rrule(dt("2027-01-29 18:00"), chrono_tz::Asia::Tokyo, false)
                .unwrap(),
            "FREQ=MONTHLY;BYDAY=5FR"
        );
        let got = starts(
            &r,
            "2027-01-29 18:00",
            chrono_tz::Asia::Tokyo,
            "2027-01-01",
            "2028-01-01",
        );
        assert_eq!(
            got,
            [
                "2027-01-29 18:00",
                "2027-04-30 18:00",
                "2027-07-30 18:00",
                "2027-10-29 18:00",
                "2027-12-31 18:00"
            ]
        );
    }

    #[test]
    fn weekly_keeps_local_time_across_dst() {
        let r = Rule {
            weekdays: vec![Weekday::Mon],
            ..rule(Repeat::Weekly)
        };
        let got = starts(
            &r,
            "2027-03-22 09:00",
            chrono_tz::Europe::Berlin,
            "2027-03-22",
            "2027-04-06",
        );
        assert_eq!(
            got,
            ["2027-03-22 09:00", "2027-03-29 09:00", "2027-04-05 09:00"]
        );
    }

    #[test]
    fn until_in_another_zone_and_round_trip() {
        let r = Rule {
            until: NaiveDate::from_ymd_opt(2027, 1, 10),
            ..rule(Repeat::Daily)
        };
        let tz = chrono_tz::America::New_York;
        let s = r.to_rrule(dt("2027-01-08 23:30"), tz, false).unwrap();
        assert_eq!(s, "FREQ=DAILY;UNTIL=20270111T045959Z");
        assert_eq!(Rule::parse(&s, tz).unwrap(), r);
        let got = starts(&r, "2027-01-08 23:30", tz, "2027-01-01", "2027-02-01");
        assert_eq!(
            got,
            ["2027-01-08 23:30", "2027-01-09 23:30", "2027-01-10 23:30"]
        );
    }

    /// The occurrences of `t` overlapping `window`, the slow way: the whole series from its start.
    fn walked(t: &Timing<'_>, window: &Window) -> Vec<Occurrence> {
        let length = t.ends_at - t.starts_at;
        rrule_set(t)
            .unwrap()
            .all(5000)
            .dates
            .into_iter()
            .map(|x| Occurrence {
                start: x.naive_utc(),
                end: x.naive_utc() + length,
            })
            .filter(|o| window.overlaps(o, t.all_day))
            .collect()
    }

    /// `(all-day, start, RRULE, EXDATE, window from, to)` of `skipping_ahead_keeps_every_occurrence`.
    const SKIP_CASES: &[(bool, &str, &str, &str, &str, &str)] = &[
        (
            false,
            "2020-01-07 09:00",
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH",
            "",
            "2027-03-01",
            "2027-04-12",
        ),
        (
            false,
            "2020-01-07 09:00",
            "FREQ=DAILY;INTERVAL=3",
            "",
            "2027-03-01",
            "2027-04-12",
        ),
        (
            true,
            "2020-01-07 00:00",
            "FREQ=DAILY",
            "20270330",
            "2027-03-01",
            "2027-04-12",
        ),
        (
            false,
            "2020-01-31 09:00",
            "FREQ=MONTHLY",
            "",
            "2027-01-20",
            "2027-06-12",
        ),
        (
            false,
            "2020-01-31 09:00",
            "FREQ=MONTHLY;INTERVAL=5",
            "",
            "2026-01-20",
            "2028-06-12",
        ),
        (
            false,
            "2020-01-31 02:30",
            "FREQ=MONTHLY;BYDAY=5FR",
            "",
            "2027-01-01",
            "2027-12-31",
        ),
        (
            false,
            "2020-02-11 18:00",
            "FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU",
            "20270309T170000Z",
            "2027-01-01",
            "2027-06-30",
        ),
        (
            true,
            "2020-03-29 00:00",
            "FREQ=MONTHLY;BYDAY=5SU",
            "",
            "2027-01-01",
            "2027-12-31",
        ),
        (
            false,
            "2020-03-15 10:00",
            "FREQ=YEARLY",
            "",
            "2027-03-01",
            "2027-04-12",
        ),
        (
            false,
            "2020-03-15 10:00",
            "FREQ=YEARLY;INTERVAL=3",
            "",
            "2029-01-01",
            "2032-12-31",
        ),
        (
            true,
            "2020-02-29 00:00",
            "FREQ=YEARLY",
            "",
            "2026-01-01",
            "2028-12-31",
        ),
    ];

    /// Restarting a long-running series near the window changes none of its occurrences (Berlin,
    /// across DST): every other Tuesday and Thursday, every third day, daily all-day with a skipped
    /// date, monthly on the 31st (short months skipped) also every fifth month, on the 5th Friday
    /// (months without one skipped), every other month on the 2nd Tuesday with a skipped date,
    /// yearly, every third year, and on Feb 29 (leap years only).
    #[test]
    fn skipping_ahead_keeps_every_occurrence() {
        let tz = chrono_tz::Europe::Berlin;
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        for &(all_day, start, rrule, exdates, from, to) in SKIP_CASES {
            let starts_at = if all_day {
                dt(start)
            } else {
                tz.from_local_datetime(&dt(start)).unwrap().naive_utc()
            };
            let t = Timing {
                starts_at,
                ends_at: starts_at + Duration::hours(if all_day { 24 } else { 1 }),
                tz,
                all_day,
                rrule,
                exdates,
            };
            let window = Window::days(d(from), d(to), tz);
            let (fast, _) = occurrences(&t, &window).unwrap();
            assert!(skip_ahead(&t, window.from).is_some(), "{rrule}");
            let slow = walked(&t, &window);
            assert!(!slow.is_empty(), "{rrule}");
            assert_eq!(fast, slow, "{rrule}");
        }
    }

    /// What a page costs does not grow with the age of the series on it: an endless series of every
    /// kind begun in 1990 is restarted within two of its periods before a window in 2060, never
    /// walked from its start.
    #[test]
    fn every_endless_series_restarts_just_before_the_window() {
        let tz = chrono_tz::Asia::Tokyo;
        let from = dt("2060-06-10 00:00");
        for (rrule, days) in [
            ("FREQ=DAILY", 2),
            ("FREQ=WEEKLY;BYDAY=MO", 14),
            ("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,WE", 28),
            ("FREQ=MONTHLY", 62),
            ("FREQ=MONTHLY;BYDAY=2TU", 62),
            ("FREQ=MONTHLY;INTERVAL=3", 3 * 62),
            ("FREQ=YEARLY", 2 * 366),
        ] {
            let starts_at = dt("1990-01-09 01:00");
            let t = Timing {
                starts_at,
                ends_at: starts_at + Duration::hours(1),
                tz,
                all_day: false,
                rrule,
                exdates: "",
            };
            let restart = skip_ahead(&t, from).expect(rrule);
            assert!(
                restart.starts_at <= from && from - restart.starts_at <= Duration::days(days),
                "{rrule}: restarted at {}",
                restart.starts_at
            );
        }
    }

    /// A series that ended (`UNTIL`) long before the window is never restarted past its end: the
    /// `rrule` crate refuses a DTSTART after UNTIL, and the event page of an old term's weekly
    /// lesson (its coming dates: none) answered 500. Restarting stays within the series, and each
    /// window finds what walking the whole series finds.
    #[test]
    fn skipping_ahead_never_passes_the_end_of_the_series() {
        let tz = chrono_tz::Asia::Tokyo;
        let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        for (all_day, rrule) in [
            (false, "FREQ=WEEKLY;BYDAY=WE;UNTIL=20260605T145959Z"),
            (false, "FREQ=DAILY;INTERVAL=2;UNTIL=20260605T145959Z"),
            (true, "FREQ=DAILY;UNTIL=20260605"),
            (false, "FREQ=MONTHLY;BYDAY=1WE;UNTIL=20260605T145959Z"),
            (false, "FREQ=MONTHLY;UNTIL=20260605T145959Z"),
            (true, "FREQ=YEARLY;UNTIL=20280107"),
        ] {
            let starts_at = dt("2026-01-07 00:00");
            let t = Timing {
                starts_at,
                ends_at: starts_at + Duration::hours(1),
                tz,
                all_day,
                rrule,
                exdates: "",
            };
            // Long after its end, around it, and (yearly) around its last occurrence.
            for (from, to) in [
                ("2030-12-01", "2031-01-01"),
                ("2026-05-01", "2026-07-01"),
                ("2027-12-20", "2028-02-01"),
            ] {
                let window = Window::days(d(from), d(to), tz);
                let (fast, _) = occurrences(&t, &window).unwrap_or_else(|e| panic!("{rrule}: {e}"));
                assert_eq!(fast, walked(&t, &window), "{rrule} in {from}..{to}");
            }
        }
    }

    #[test]
    fn a_daily_rule_is_cut_at_the_window_limit() {
        let tz = chrono_tz::Asia::Tokyo;
        let t = Timing {
            starts_at: dt("2027-01-01 00:00"),
            ends_at: dt("2027-01-01 01:00"),
            tz,
            all_day: false,
            rrule: "FREQ=DAILY",
            exdates: "",
        };
        let d = |y| NaiveDate::from_ymd_opt(y, 1, 1).unwrap();
        let (list, limited) = occurrences(&t, &Window::days(d(2027), d(2030), tz)).unwrap();
        assert!(limited);
        assert_eq!(list.len(), usize::from(WINDOW_LIMIT));
    }

    #[test]
    fn exdates_skip_occurrences_and_all_day_until_is_a_date() {
        let r = Rule {
            until: NaiveDate::from_ymd_opt(2027, 1, 5),
            ..rule(Repeat::Daily)
        };
        let s = r
            .to_rrule(dt("2027-01-01 00:00"), chrono_tz::Asia::Tokyo, true)
            .unwrap();
        assert_eq!(s, "FREQ=DAILY;UNTIL=20270105");
        let t = Timing {
            starts_at: dt("2027-01-01 00:00"),
            ends_at: dt("2027-01-02 00:00"),
            tz: chrono_tz::Asia::Tokyo,
            all_day: true,
            rrule: &s,
            exdates: "20270103",
        };
        let d = |m, day| NaiveDate::from_ymd_opt(2027, m, day).unwrap();
        let (list, _) =
            occurrences(&t, &Window::days(d(1, 1), d(2, 1), chrono_tz::Asia::Tokyo)).unwrap();
        let days: Vec<String> = list
            .iter()
            .map(|o| o.start.format("%d").to_string())
            .collect();
        assert_eq!(days, ["01", "02", "04", "05"]);
        assert_eq!(series_end(&t, &r).unwrap(), Some(dt("2027-01-06 00:00")));
    }
}
