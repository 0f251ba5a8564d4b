//! Japanese national holidays (国民の祝日). The Cabinet Office's list (`syukujitsu.csv`, beside this
//! file) is the source for every year it covers: it names the one-off days no rule can know (即位礼
//! 正殿の儀, the Olympic moves of 2020–2021). For the years after its last, the days are computed
//! from the Act on National Holidays as amended up to 2021 (Happy Monday days, the equinox formula,
//! 振替休日 and 国民の休日), up to 2099; a test checks that these rules give exactly the list's days
//! for every year from 2000 to its last, so the years beyond it follow the same law. Days an admin
//! adds for the site (創立記念日, 臨時休業) live in the database (`models::calendar`'s holidays).
//!
//! The list: 「国民の祝日」について, 内閣府 (Cabinet Office, Government of Japan),
//! <https://www8.cao.go.jp/chosei/shukujitsu/gaiyou.html>, `syukujitsu.csv` as published with the
//! days up to 2027, converted once from `Shift_JIS` to UTF-8 and otherwise unchanged. Used under the
//! Government of Japan Standard Terms of Use (compatible with CC BY 4.0), which ask for this
//! attribution. To update it: download the new file and run
//! `iconv -f SHIFT_JIS -t UTF-8 syukujitsu.csv | tr -d '\r'` over the one here.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// The first and last years this module knows.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2099;

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The `n`th Monday of a month.
fn nth_monday(y: i32, m: u32, n: u8) -> Option<NaiveDate> {
    NaiveDate::from_weekday_of_month_opt(y, m, Weekday::Mon, n)
}

/// 春分日 / 秋分日 by the usual formula (valid 1980–2099).
fn equinox(y: i32, base: f64) -> u32 {
    let d = f64::from(y - 1980);
    let day = base + 0.242_194 * d - (d / 4.0).floor();
    // Between 19 and 24 for every year in range, so the cast cannot truncate.
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        reason = "a day of March or September, 19..=24 for 1980..=2099"
    )]
    let day = day.floor() as u32;
    day
}

/// The holidays the law names for year `y`, before substitute and in-between days.
fn named(y: i32) -> Vec<(NaiveDate, &'static str)> {
    let mut out: Vec<(Option<NaiveDate>, &'static str)> = vec![
        (date(y, 1, 1), "元日"),
        (nth_monday(y, 1, 2), "成人の日"),
        (date(y, 2, 11), "建国記念の日"),
        (date(y, 3, equinox(y, 20.8431)), "春分の日"),
        (date(y, 5, 3), "憲法記念日"),
        (date(y, 5, 5), "こどもの日"),
        (date(y, 9, equinox(y, 23.2488)), "秋分の日"),
        (date(y, 11, 3), "文化の日"),
        (date(y, 11, 23), "勤労感謝の日"),
    ];
    if y <= 2018 {
        out.push((date(y, 12, 23), "天皇誕生日"));
    } else if y >= 2020 {
        out.push((date(y, 2, 23), "天皇誕生日"));
    }
    if y >= 2007 {
        out.push((date(y, 4, 29), "昭和の日"));
        out.push((date(y, 5, 4), "みどりの日"));
    } else {
        out.push((date(y, 4, 29), "みどりの日"));
    }
    // 海の日, 山の日, スポーツの日 moved for the Tokyo Olympics in 2020 and 2021.
    let (sea, mountain, sports) = match y {
        2020 => (date(y, 7, 23), date(y, 8, 10), date(y, 7, 24)),
        2021 => (date(y, 7, 22), date(y, 8, 8), date(y, 7, 23)),
        _ => (
            if y >= 2003 {
                nth_monday(y, 7, 3)
            } else {
                date(y, 7, 20)
            },
            if y >= 2016 { date(y, 8, 11) } else { None },
            nth_monday(y, 10, 2),
        ),
    };
    out.push((sea, "海の日"));
    out.push((mountain, "山の日"));
    out.push((
        sports,
        if y >= 2020 {
            "スポーツの日"
        } else {
            "体育の日"
        },
    ));
    out.push((
        if y >= 2003 {
            nth_monday(y, 9, 3)
        } else {
            date(y, 9, 15)
        },
        "敬老の日",
    ));
    if y == 2019 {
        out.push((date(y, 5, 1), "休日（祝日扱い）"));
        out.push((date(y, 10, 22), "休日（祝日扱い）"));
    }
    let mut days: Vec<(NaiveDate, &'static str)> = out
        .into_iter()
        .filter_map(|(d, n)| d.map(|d| (d, n)))
        .collect();
    days.sort();
    days
}

/// Every holiday of year `y`, in order: the named ones, 振替休日 (a holiday on a Sunday moves to
/// the next day that is not one; before 2007 only to Monday) and 国民の休日 (a weekday between two
/// holidays), both written 休日.
fn of_year(y: i32) -> Vec<(NaiveDate, &'static str)> {
    if !YEARS.contains(&y) {
        return Vec::new();
    }
    let mut days = named(y);
    let is_holiday = |days: &[(NaiveDate, &str)], d: NaiveDate| days.iter().any(|(h, _)| *h == d);
    let mut extra = Vec::new();
    for (d, _) in &days {
        if d.weekday() == Weekday::Sun {
            let mut next = *d + Duration::days(1);
            if y >= 2007 {
                while is_holiday(&days, next) {
                    next += Duration::days(1);
                }
            }
            if !is_holiday(&days, next) {
                extra.push((next, "休日"));
            }
        }
    }
    for (d, _) in &days {
        let between = *d + Duration::days(2);
        let middle = *d + Duration::days(1);
        if is_holiday(&days, between)
            && !is_holiday(&days, middle)
            && middle.weekday() != Weekday::Sun
            && !extra.iter().any(|(e, _)| *e == middle)
        {
            extra.push((middle, "休日"));
        }
    }
    days.extend(extra);
    days.sort();
    days
}

/// The Cabinet Office's list, as shipped.
const LIST_CSV: &str = include_str!("syukujitsu.csv");

/// The list by day (its header skipped; a line that does not parse would be a broken file, which
/// the tests read in full).
static LIST: LazyLock<BTreeMap<NaiveDate, &'static str>> = LazyLock::new(|| {
    LIST_CSV
        .lines()
        .skip(1)
        .filter_map(|line| {
            let (day, name) = line.split_once(',')?;
            Some((NaiveDate::parse_from_str(day, "%Y/%m/%d").ok()?, name))
        })
        .collect()
});

/// The last year the list covers (the rules take over after it).
fn list_last_year() -> i32 {
    LIST.last_key_value().map_or(0, |(day, _)| day.year())
}

/// The holiday on `day`, if it is one: from the list where it covers the year, else by the rules.
pub fn name(day: NaiveDate) -> Option<&'static str> {
    if day.year() <= list_last_year() {
        return LIST.get(&day).copied();
    }
    of_year(day.year())
        .into_iter()
        .find(|(d, _)| *d == day)
        .map(|(_, n)| n)
}

/// Every holiday of year `y` as `name` tells them.
pub fn in_year(y: i32) -> Vec<(NaiveDate, &'static str)> {
    if y <= list_last_year() {
        let from = NaiveDate::from_ymd_opt(y, 1, 1);
        let to = NaiveDate::from_ymd_opt(y, 12, 31);
        let (Some(from), Some(to)) = (from, to) else {
            return Vec::new();
        };
        return LIST.range(from..=to).map(|(d, n)| (*d, *n)).collect();
    }
    of_year(y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(y: i32) -> Vec<String> {
        of_year(y)
            .into_iter()
            .map(|(d, n)| format!("{} {n}", d.format("%m-%d")))
            .collect()
    }

    /// The rules alone, against the Cabinet Office's published lists for 2019 (the accession
    /// year) and 2026.
    #[test]
    fn the_rules_give_the_published_lists() {
        assert_eq!(
            list(2019),
            [
                "01-01 元日",
                "01-14 成人の日",
                "02-11 建国記念の日",
                "03-21 春分の日",
                "04-29 昭和の日",
                "04-30 休日",
                "05-01 休日（祝日扱い）",
                "05-02 休日",
                "05-03 憲法記念日",
                "05-04 みどりの日",
                "05-05 こどもの日",
                "05-06 休日",
                "07-15 海の日",
                "08-11 山の日",
                "08-12 休日",
                "09-16 敬老の日",
                "09-23 秋分の日",
                "10-14 体育の日",
                "10-22 休日（祝日扱い）",
                "11-03 文化の日",
                "11-04 休日",
                "11-23 勤労感謝の日",
            ]
        );
        assert_eq!(
            list(2026),
            [
                "01-01 元日",
                "01-12 成人の日",
                "02-11 建国記念の日",
                "02-23 天皇誕生日",
                "03-20 春分の日",
                "04-29 昭和の日",
                "05-03 憲法記念日",
                "05-04 みどりの日",
                "05-05 こどもの日",
                "05-06 休日",
                "07-20 海の日",
                "08-11 山の日",
                "09-21 敬老の日",
                "09-22 休日",
                "09-23 秋分の日",
                "10-12 スポーツの日",
                "11-03 文化の日",
                "11-23 勤労感謝の日",
            ]
        );
        assert_eq!(
            name(NaiveDate::from_ymd_opt(2020, 7, 24).unwrap()),
            Some("スポーツの日")
        );
        assert_eq!(
            name(NaiveDate::from_ymd_opt(2024, 2, 12).unwrap()),
            Some("休日")
        );
        assert!(of_year(1999).is_empty());
    }

    /// The shipped list parses in full, starts in 1955 and reaches at least 2027.
    #[test]
    fn the_cabinet_office_list_is_read_in_full() {
        let lines = LIST_CSV.lines().count() - 1;
        assert_eq!(LIST.len(), lines, "every line is a day");
        assert_eq!(LIST.first_key_value().map(|(d, _)| d.year()), Some(1955));
        assert!(list_last_year() >= 2027);
        assert_eq!(
            name(NaiveDate::from_ymd_opt(1959, 4, 10).unwrap()),
            Some("結婚の儀"),
            "a day only the list knows"
        );
        assert_eq!(
            name(NaiveDate::from_ymd_opt(2027, 3, 22).unwrap()),
            Some("休日")
        );
        assert_eq!(name(NaiveDate::from_ymd_opt(2027, 3, 23).unwrap()), None);
    }

    /// The law's rules give exactly the list's days and names for every year from 2000 to the
    /// list's last, so the years after it (computed) follow the same law.
    #[test]
    fn the_rules_agree_with_the_cabinet_office_list() {
        for y in 2000..=list_last_year() {
            let listed = in_year(y);
            let mut computed = of_year(y);
            // The only name the rules cannot know: the day that became スポーツの日 was written
            // with both names in 2019.
            for (d, n) in &mut computed {
                if *d == NaiveDate::from_ymd_opt(2019, 10, 14).unwrap() {
                    *n = "体育の日（スポーツの日）";
                }
            }
            assert_eq!(computed, listed, "{y}");
        }
        // After the list, the rules take over.
        let y = list_last_year() + 1;
        assert_eq!(in_year(y), of_year(y));
        assert!(!in_year(2099).is_empty());
    }
}
