//! Yui's iCalendar feed read by an independent implementation (issue #12, "Tests and numbers"):
//! Python's `icalendar` and `recurring-ical-events` expand the room's feed, and for every month the
//! occurrences they find (in Tokyo time) equal the ones Yui's own month page lists. The series
//! cover what calendars get wrong: two weekdays with a count, one date moved and one deleted, "2nd
//! Tuesday" split into "this and following", the 31st (short months skipped), the 5th Friday,
//! Feb 29, a weekly meeting kept in Europe/Berlin across its DST change, every third day until a
//! date, and a title with a comma, a semicolon and a backslash.
//!
//! Needs `python3` with both packages (`.ci/run` installs them into a virtualenv and sets
//! `YUI_PYICAL_PYTHON`); without them the test says so and passes, unless `YUI_REQUIRE_PYICAL=1`
//! (set by CI), when it fails.

use std::path::PathBuf;
use std::process::Command;

use crate::calendar::{Club, add_event, club, make_feed};
use crate::calendar_series::{agenda, delete, month, save};
use crate::support::*;

/// Expands the feed in `argv[1]` over `[argv[2], argv[3])` and prints each occurrence as the
/// month page's agenda writes it: `date start–end title` in Tokyo, or `date 終日 title`.
const EXPAND: &str = r#"
import datetime, sys, zoneinfo
import icalendar, recurring_ical_events
cal = icalendar.Calendar.from_ical(open(sys.argv[1], "rb").read())
tokyo = zoneinfo.ZoneInfo("Asia/Tokyo")
start = datetime.date.fromisoformat(sys.argv[2])
end = datetime.date.fromisoformat(sys.argv[3])
for ev in recurring_ical_events.of(cal).between(start, end):
    s, e = ev["DTSTART"].dt, ev["DTEND"].dt
    title = str(ev["SUMMARY"])
    if isinstance(s, datetime.datetime):
        s, e = s.astimezone(tokyo), e.astimezone(tokyo)
        print(f"{s:%Y-%m-%d} {s:%H:%M}\u2013{e:%H:%M} {title}")
    else:
        print(f"{s:%Y-%m-%d} 終日 {title}")
"#;

/// The Python that has both packages, if any.
fn python() -> Option<PathBuf> {
    let python = std::env::var_os("YUI_PYICAL_PYTHON")
        .map_or_else(|| PathBuf::from("python3"), PathBuf::from);
    let ok = Command::new(&python)
        .args(["-c", "import icalendar, recurring_ical_events"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Some(python);
    }
    assert!(
        std::env::var_os("YUI_REQUIRE_PYICAL").is_none(),
        "YUI_REQUIRE_PYICAL is set but {} cannot import icalendar and recurring_ical_events",
        python.display()
    );
    eprintln!("skipped: python3 with icalendar and recurring-ical-events is not installed");
    None
}

async fn event(app: &TestApp, c: &reqwest::Client, fields: &[(&str, &str)]) -> String {
    let res = add_event(app, c, "club", fields).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    location(&res)
}

#[actix_web::test]
async fn python_icalendar_expands_the_feed_to_the_occurrences_yui_shows() {
    let Some(python) = python() else {
        return;
    };
    let Club { app, hanako, .. } = club().await;
    let app = &app;
    let hanako = &hanako;
    // Tuesdays and Thursdays, fifteen times; one date moved, one deleted.
    let practice = event(
        app,
        hanako,
        &[
            ("title", "朝練"),
            ("start_date", "2027-01-05"),
            ("start_time", "07:30"),
            ("end_time", "08:30"),
            ("repeat", "weekly"),
            ("day_tu", "on"),
            ("day_th", "on"),
            ("count", "15"),
        ],
    )
    .await;
    let res = save(
        app,
        hanako,
        &practice,
        &[
            ("title", "朝練(振替)"),
            ("start_date", "2027-01-15"),
            ("start_time", "16:00"),
            ("end_time", "17:00"),
            ("scope", "this"),
            ("at", "20270113T223000Z"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let res = delete(app, hanako, &practice, "this", "20270118T223000Z").await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    // The 2nd Tuesday all year, moved to 18:00 from June on.
    let board = event(
        app,
        hanako,
        &[
            ("title", "役員会"),
            ("start_date", "2027-01-12"),
            ("start_time", "19:00"),
            ("end_time", "20:30"),
            ("repeat", "monthly_weekday"),
            ("until", "2027-12-31"),
        ],
    )
    .await;
    let res = save(
        app,
        hanako,
        &board,
        &[
            ("title", "役員会"),
            ("start_date", "2027-06-08"),
            ("start_time", "18:00"),
            ("end_time", "19:30"),
            ("repeat", "monthly_weekday"),
            ("until", "2027-12-31"),
            ("scope", "following"),
            ("at", "20270608T100000Z"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    for fields in [
        vec![
            ("title", "月末締め"),
            ("start_date", "2027-01-31"),
            ("all_day", "on"),
            ("repeat", "monthly_date"),
            ("count", "8"),
        ],
        vec![
            ("title", "第5金曜の集い"),
            ("start_date", "2027-01-29"),
            ("repeat", "monthly_weekday"),
            ("until", "2027-12-31"),
        ],
        vec![
            ("title", "うるう日"),
            ("start_date", "2028-02-29"),
            ("all_day", "on"),
            ("repeat", "yearly"),
        ],
        vec![
            ("title", "ベルリン定例"),
            ("start_date", "2027-03-08"),
            ("start_time", "09:00"),
            ("end_time", "10:00"),
            ("tz", "Europe/Berlin"),
            ("repeat", "weekly"),
            ("day_mo", "on"),
            ("count", "8"),
        ],
        vec![
            ("title", r"清掃, 点検; 確認\済"),
            ("start_date", "2027-01-02"),
            ("repeat", "daily"),
            ("interval", "3"),
            ("until", "2027-02-10"),
        ],
    ] {
        event(app, hanako, &fields).await;
    }

    let feed = make_feed(app, hanako, "club").await;
    let res = app.client().get(app.url(&feed)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let dir = tempfile::tempdir().unwrap();
    let ics = dir.path().join("club.ics");
    std::fs::write(&ics, res.bytes().await.unwrap()).unwrap();
    let script = dir.path().join("expand.py");
    std::fs::write(&script, EXPAND).unwrap();

    let mut compared = 0;
    for (y, m) in (1..=12)
        .map(|m| (2027, m))
        .chain((1..=3).map(|m| (2028, m)))
    {
        let first = format!("{y}-{m:02}-01");
        let next = if m == 12 {
            format!("{}-01-01", y + 1)
        } else {
            format!("{y}-{:02}-01", m + 1)
        };
        let out = Command::new(&python)
            .arg(&script)
            .arg(&ics)
            .args([&first, &next])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut theirs: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let prefix = &first[..8];
        let mut ours: Vec<String> = agenda(&month(app, hanako, &first[..7]).await)
            .into_iter()
            .filter(|line| line.starts_with(prefix))
            .collect();
        theirs.sort();
        ours.sort();
        assert_eq!(ours, theirs, "{}", &first[..7]);
        compared += ours.len();
    }
    // Every series reached the comparison (15 - 1 practices, 12 board meetings, 8 ends of month,
    // the 5th Fridays, Feb 29, 8 Berlin Mondays, every third day to Feb 10).
    eprintln!("{compared} occurrences compared with Python's icalendar");
    assert!(compared > 60, "{compared} occurrences compared");
}
