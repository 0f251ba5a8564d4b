//! Room calendars over HTTP: events and series in the month grid and agenda, who may see and add
//! them, recurrence edge cases, and the secret iCalendar feeds (RFC 5545 text, tokens, `ETag`).

use icalendar::Component;

use crate::support::*;

pub(crate) struct Club {
    pub(crate) app: TestApp,
    pub(crate) admin: reqwest::Client,
    pub(crate) hanako: reqwest::Client,
    pub(crate) guest: reqwest::Client,
    pub(crate) taro: reqwest::Client,
}

/// A closed room "club" with its calendar on, managed by `manager`, with `hanako` as a member
/// (一般), `guest` as a guest; `taro` is logged in but not a member.
pub(crate) async fn club() -> Club {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.user("manager").create();
    let hanako = app.user("hanako").signed_in().await;
    let guest = app.user("guest").signed_in().await;
    let taro = app.user("taro").signed_in().await;
    app.room("club")
        .closed()
        .features(&["blog", "calendar"])
        .managed_by("manager")
        .member("hanako", "member")
        .member("guest", "guest")
        .create(&admin)
        .await;
    Club {
        app,
        admin,
        hanako,
        guest,
        taro,
    }
}

pub(crate) async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// Sends the new-event form of `room` with these fields (on top of a one-hour event).
pub(crate) async fn add_event(
    app: &TestApp,
    c: &reqwest::Client,
    room: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all: Vec<(&str, &str)> = vec![
        ("start_time", "10:00"),
        ("end_time", "11:00"),
        ("repeat", "never"),
    ];
    for (k, v) in fields {
        all.retain(|(key, _)| key != k);
        all.push((k, v));
    }
    app.post_form(
        c,
        &format!("/rooms/{room}/calendar"),
        &format!("/rooms/{room}/calendar/events"),
        &all,
    )
    .await
}

pub(crate) fn event_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    app.db(|conn| {
        Ok(yui::db::schema::events::table
            .count()
            .get_result::<i64>(conn)?)
    })
}

pub(crate) fn sel(s: &str) -> scraper::Selector {
    scraper::Selector::parse(s).unwrap()
}

/// The titles of the agenda's items for a month page.
fn agenda_dates(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    doc.select(&sel(".cal-agenda dt"))
        .map(|d| d.text().collect::<String>()[..10].to_owned())
        .collect()
}

/// A member adds a weekly event; it shows in every week row of the month grid (spill-over days
/// included), four times in January's agenda, in `/calendar`, and on its own page.
#[actix_web::test]
async fn a_weekly_event_shows_in_every_week_of_the_month_grid() {
    let Club { app, hanako, .. } = club().await;
    let res = add_event(
        &app,
        &hanako,
        "club",
        &[
            ("title", "朝練"),
            ("start_date", "2026-12-01"),
            ("end_date", "2026-12-01"),
            ("repeat", "weekly"),
            ("day_tu", "on"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let event_page = location(&res);
    let (status, html) = get(&hanako, &app, "/rooms/club/calendar?month=2027-01").await;
    assert_eq!(status, 200);
    let doc = scraper::Html::parse_document(&html);
    let weeks: Vec<_> = doc.select(&sel("tr.cal-week")).collect();
    assert_eq!(weeks.len(), 6, "January 2027 spans six Sunday-first weeks");
    for (i, week) in weeks.iter().enumerate() {
        let tuesday = week.select(&sel("td.wd2")).next().unwrap();
        let titles: Vec<String> = tuesday
            .select(&sel(".cal-item"))
            .map(|li| li.text().collect())
            .collect();
        assert_eq!(titles, ["10:00 朝練"], "week {i}");
        let others = week.select(&sel(".cal-item")).count();
        assert_eq!(others, 1, "only on Tuesdays, week {i}");
    }
    assert_eq!(
        agenda_dates(&html),
        ["2027-01-05", "2027-01-12", "2027-01-19", "2027-01-26"]
    );
    // National holidays are marked: 元日 and 成人の日 (the second Monday).
    let holidays: Vec<(String, String)> = doc
        .select(&sel("td.holiday"))
        .map(|td| {
            let date = td.value().attr("data-date").unwrap().to_owned();
            let name = td
                .select(&sel(".cal-holiday"))
                .next()
                .unwrap()
                .text()
                .collect();
            (date, name)
        })
        .collect();
    assert_eq!(
        holidays,
        [
            ("2027-01-01".to_owned(), "元日".to_owned()),
            ("2027-01-11".to_owned(), "成人の日".to_owned())
        ]
    );
    let (status, mine) = get(&hanako, &app, "/calendar?month=2027-01").await;
    assert_eq!(status, 200);
    assert_eq!(agenda_dates(&mine).len(), 4);
    assert!(mine.contains("href=\"/rooms/club/calendar\""), "legend");
    let (status, page) = get(&hanako, &app, &event_page).await;
    assert_eq!(status, 200);
    assert!(page.contains("FREQ=WEEKLY;BYDAY=TU"), "{page}");
    // The event alone as a file: the rule kept, not expanded.
    let res = hanako
        .get(app.url(&format!("{event_page}/event.ics")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let one = unfold(&ics_lines(&res.bytes().await.unwrap()));
    assert_eq!(one.iter().filter(|l| *l == "BEGIN:VEVENT").count(), 1);
    assert!(
        one.contains(&"RRULE:FREQ=WEEKLY;BYDAY=TU".to_owned()),
        "{one:#?}"
    );
    // The room page links to its calendar; the month links go both ways.
    let (_, room) = get(&hanako, &app, "/rooms/club").await;
    assert!(room.contains("href=\"/rooms/club/calendar\""));
    assert!(html.contains("href=\"/rooms/club/calendar?month=2026-12\""));
    assert!(html.contains("href=\"/rooms/club/calendar?month=2027-02\""));
    // Deleting one date leaves the others; deleting the series leaves none.
    let id = event_page.rsplit('/').next().unwrap().to_owned();
    let res = app
        .post_form(
            &hanako,
            &event_page,
            &format!("{event_page}/skip"),
            &[("occurrence", "20270112T010000Z")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = get(&hanako, &app, "/rooms/club/calendar?month=2027-01").await;
    assert_eq!(
        agenda_dates(&html),
        ["2027-01-05", "2027-01-19", "2027-01-26"]
    );
    let res = app
        .post_form(
            &hanako,
            &event_page,
            &format!("/rooms/club/calendar/events/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(event_count(&app), 0);
}

/// Who may see and add events follows the room: a non-member of a closed room gets 404 for
/// everything, a guest reads but cannot add, and a room without the calendar has none.
#[actix_web::test]
async fn outsiders_get_404_and_guests_cannot_add_events() {
    let Club {
        app,
        admin,
        hanako,
        guest,
        taro,
    } = club().await;
    let res = add_event(
        &app,
        &hanako,
        "club",
        &[("title", "会議"), ("start_date", "2027-01-05")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let event_page = location(&res);
    let ics = format!("{event_page}/event.ics");
    for path in [
        "/rooms/club/calendar",
        event_page.as_str(),
        ics.as_str(),
        "/rooms/club/calendar/events/new",
    ] {
        assert_eq!(get(&taro, &app, path).await.0, 404, "{path}");
    }
    let (_, mine) = get(&taro, &app, "/calendar?month=2027-01").await;
    assert!(!mine.contains("会議"));
    // The guest reads the calendar and the event, and is offered no way to add or change one.
    let (status, html) = get(&guest, &app, "/rooms/club/calendar?month=2027-01").await;
    assert_eq!(status, 200);
    assert!(html.contains("会議"));
    assert!(!html.contains("/calendar/events/new"));
    assert_eq!(get(&guest, &app, &event_page).await.0, 200);
    assert_eq!(
        get(&guest, &app, "/rooms/club/calendar/events/new").await.0,
        404
    );
    assert_eq!(
        get(&guest, &app, &format!("{event_page}/edit")).await.0,
        404
    );
    for c in [&guest, &taro] {
        let token = app.csrf(c, "/me").await;
        let res = c
            .post(app.url("/rooms/club/calendar/events"))
            .form(&[
                ("_csrf", token.as_str()),
                ("title", "x"),
                ("start_date", "2027-01-06"),
                ("start_time", "10:00"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404);
    }
    assert_eq!(event_count(&app), 1);
    // Hanako (一般) may not change another member's event.
    let res = add_event(
        &app,
        &admin,
        "club",
        &[("title", "admin's"), ("start_date", "2027-01-07")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let other = location(&res);
    assert_eq!(get(&hanako, &app, &format!("{other}/edit")).await.0, 404);
    assert_eq!(
        get(&hanako, &app, &format!("{event_page}/edit")).await.0,
        200
    );
    // A room without the calendar has none.
    app.room("plain").create(&admin).await;
    assert_eq!(get(&admin, &app, "/rooms/plain/calendar").await.0, 404);
    let (_, room) = get(&admin, &app, "/rooms/plain").await;
    assert!(!room.contains("/rooms/plain/calendar"));
}

/// Month ends, leap days and "5th Friday" through the form and the agenda: January 31 monthly
/// skips February, February 29 yearly waits for leap years, the 5th Friday skips months without one.
#[actix_web::test]
async fn recurrence_edge_cases_follow_rfc_5545() {
    let Club { app, hanako, .. } = club().await;
    for (title, date, repeat) in [
        ("月末", "2027-01-31", "monthly_date"),
        ("閏日", "2028-02-29", "yearly"),
        ("第5金曜", "2027-01-29", "monthly_weekday"),
    ] {
        let res = add_event(
            &app,
            &hanako,
            "club",
            &[("title", title), ("start_date", date), ("repeat", repeat)],
        )
        .await;
        assert_eq!(res.status(), 303, "{title}");
    }
    let agenda = async |month: &str| {
        let (status, html) = get(
            &hanako,
            &app,
            &format!("/rooms/club/calendar?month={month}"),
        )
        .await;
        assert_eq!(status, 200);
        agenda_dates(&html)
    };
    assert_eq!(agenda("2027-01").await, ["2027-01-29", "2027-01-31"]);
    assert!(agenda("2027-02").await.is_empty(), "no 31st, no 5th Friday");
    assert_eq!(agenda("2027-03").await, ["2027-03-31"]);
    assert_eq!(
        agenda("2027-04").await,
        ["2027-04-30"],
        "5th Friday of April"
    );
    assert_eq!(agenda("2029-02").await, Vec::<String>::new());
    assert_eq!(agenda("2028-02").await, ["2028-02-29"]);
    // A weekly series typed to start on a day it does not repeat on starts on its first day.
    let res = add_event(
        &app,
        &hanako,
        "club",
        &[
            ("title", "水曜から火木"),
            ("start_date", "2030-05-01"),
            ("repeat", "weekly"),
            ("day_tu", "on"),
            ("day_th", "on"),
            ("count", "3"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        agenda("2030-05").await,
        ["2030-05-02", "2030-05-07", "2030-05-09", "2030-05-31"],
        "three times, then only the 31st of the monthly series"
    );
    assert_eq!(agenda("2032-02").await, ["2032-02-29"]);
    // A month that is no month is 404, not an error.
    assert_eq!(
        get(&hanako, &app, "/rooms/club/calendar?month=2027-13")
            .await
            .0,
        404
    );
    // Bad input comes back as the form with its errors.
    for fields in [
        vec![
            ("title", "x"),
            ("start_date", "2027-01-05"),
            ("end_date", "2027-01-04"),
        ],
        vec![
            ("title", "x"),
            ("start_date", "2027-01-05"),
            ("tz", "Mars/Olympus"),
        ],
        vec![("title", "x\r\nBEGIN:VEVENT"), ("start_date", "2027-01-05")],
        vec![
            ("title", "x"),
            ("start_date", "2027-01-05"),
            ("repeat", "daily"),
            ("count", "100000"),
        ],
        vec![
            ("title", "x"),
            ("start_date", "2027-01-05"),
            ("repeat", "hourly"),
        ],
    ] {
        let res = add_event(&app, &hanako, "club", &fields).await;
        assert_eq!(res.status(), 422, "{fields:?}");
    }
    assert_eq!(event_count(&app), 4);
}

/// The raw lines of an `.ics` body: every line ends in CRLF, none is longer than 75 octets, and
/// none splits a UTF-8 character (each line is valid UTF-8 on its own).
pub(crate) fn ics_lines(body: &[u8]) -> Vec<String> {
    assert!(body.ends_with(b"\r\n"));
    let text = &body[..body.len() - 2];
    let mut lines = Vec::new();
    let mut rest = text;
    loop {
        let at = rest.windows(2).position(|w| w == b"\r\n");
        let (line, next) = match at {
            Some(i) => (&rest[..i], Some(&rest[i + 2..])),
            None => (rest, None),
        };
        assert!(
            line.len() <= 75,
            "{} octets: {:?}",
            line.len(),
            String::from_utf8_lossy(line)
        );
        assert!(
            !line.contains(&b'\n') && !line.contains(&b'\r'),
            "bare line break"
        );
        let s = std::str::from_utf8(line)
            .unwrap_or_else(|e| panic!("a fold split a UTF-8 character: {e}"));
        lines.push(s.to_owned());
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
    lines
}

/// Unfolds RFC 5545 lines (a line starting with a space continues the one before).
pub(crate) fn unfold(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in lines {
        match l.strip_prefix(' ') {
            Some(cont) => out.last_mut().unwrap().push_str(cont),
            None => out.push(l.clone()),
        }
    }
    out
}

/// Makes a feed address for `c` in `room` and returns its path.
pub(crate) async fn make_feed(app: &TestApp, c: &reqwest::Client, room: &str) -> String {
    let res = app
        .post_form(
            c,
            &format!("/rooms/{room}/calendar"),
            &format!("/rooms/{room}/calendar/feed"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.unwrap();
    let start = html.find("/ical/").unwrap();
    let end = html[start..].find(".ics").unwrap() + start + 4;
    html[start..end].to_owned()
}

/// The feed is RFC 5545: CRLF, folded at 75 octets on character boundaries, titles, places and
/// descriptions escaped (commas, semicolons, backslashes, line breaks: an injected
/// `BEGIN:VEVENT` stays text), stable UIDs, DTSTAMP, the rule kept (not expanded), a VTIMEZONE;
/// an unchanged feed answers 304 to its `ETag`, and HEAD works.
#[actix_web::test]
async fn the_feed_escapes_folds_and_keeps_rules() {
    let Club { app, hanako, .. } = club().await;
    let tricky = r"Meeting, room 3; bring \ pens BEGIN:VEVENT";
    let long = "長い日本語の題名が七十五オクテットを超えても文字の途中で折り返さないこと";
    for (title, fields) in [
        (
            tricky,
            vec![
                ("place", "A; B, C"),
                ("description", "line one\r\nBEGIN:VEVENT\r\nEND:VCALENDAR"),
            ],
        ),
        (
            long,
            vec![
                ("repeat", "weekly"),
                ("day_tu", "on"),
                ("day_th", "on"),
                ("until", "2027-03-31"),
            ],
        ),
    ] {
        let mut all = vec![("title", title), ("start_date", "2027-01-05")];
        all.extend(fields);
        let res = add_event(&app, &hanako, "club", &all).await;
        assert_eq!(res.status(), 303, "{title}");
    }
    let feed = make_feed(&app, &hanako, "club").await;
    let anon = app.client();
    let res = anon.get(app.url(&feed)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(
        res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/calendar")
    );
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let body = res.bytes().await.unwrap();
    let raw = ics_lines(&body);
    assert!(
        raw.iter().any(|l| l.starts_with(' ')),
        "the long title is folded"
    );
    let lines = unfold(&raw);
    let count = |p: &str| lines.iter().filter(|l| l.starts_with(p)).count();
    assert_eq!(count("BEGIN:VEVENT"), 2, "{lines:#?}");
    assert_eq!(count("END:VEVENT"), 2);
    assert_eq!(count("BEGIN:VCALENDAR"), 1);
    assert_eq!(count("DTSTAMP:"), 2);
    assert_eq!(count("UID:"), 2);
    assert_eq!(count("BEGIN:VTIMEZONE"), 1);
    assert_eq!(count("VERSION:2.0"), 1);
    assert_eq!(count("PRODID:-//Yui//Calendar//JA"), 1);
    assert!(
        lines.contains(&r"SUMMARY:Meeting\, room 3\; bring \\ pens BEGIN:VEVENT".to_owned()),
        "{lines:#?}"
    );
    assert!(lines.contains(&r"LOCATION:A\; B\, C".to_owned()));
    assert!(lines.contains(&r"DESCRIPTION:line one\nBEGIN:VEVENT\nEND:VCALENDAR".to_owned()));
    assert!(lines.contains(&format!("SUMMARY:{long}")));
    assert!(
        lines.contains(&"RRULE:FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20270331T145959Z".to_owned()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"DTSTART;TZID=Asia/Tokyo:20270105T100000".to_owned()),
        "{lines:#?}"
    );
    // Parsed back by the crate's own parser: two events, the title as typed.
    let text = std::str::from_utf8(&body).unwrap();
    let parsed: icalendar::Calendar = text.parse().unwrap();
    let titles: Vec<&str> = parsed.events().filter_map(|e| e.get_summary()).collect();
    assert!(
        titles.contains(&tricky) && titles.contains(&long),
        "{titles:?}"
    );
    // Stable: the same UIDs next time; 304 to the ETag; HEAD answers without a body.
    let again = anon
        .get(app.url(&feed))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let uids = |b: &[u8]| -> Vec<String> {
        unfold(&ics_lines(b))
            .into_iter()
            .filter(|l| l.starts_with("UID:"))
            .collect()
    };
    assert_eq!(uids(&body), uids(&again));
    let res = anon
        .get(app.url(&feed))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    let res = anon.head(app.url(&feed)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.bytes().await.unwrap().is_empty());
    // A change makes a new ETag.
    let res = add_event(
        &app,
        &hanako,
        "club",
        &[("title", "追加"), ("start_date", "2027-02-01")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = anon
        .get(app.url(&feed))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

/// A feed address serves its own room only, and stops working when revoked, replaced, or when its
/// owner may no longer read the room; made-up tokens are 404.
#[actix_web::test]
async fn revoked_replaced_and_foreign_feed_tokens_are_404() {
    let Club {
        app, admin, hanako, ..
    } = club().await;
    app.room("other")
        .closed()
        .features(&["calendar"])
        .managed_by("manager")
        .member("hanako", "member")
        .create(&admin)
        .await;
    let res = add_event(
        &app,
        &hanako,
        "club",
        &[("title", "クラブの予定"), ("start_date", "2027-01-05")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = add_event(
        &app,
        &hanako,
        "other",
        &[("title", "別の部屋"), ("start_date", "2027-01-05")],
    )
    .await;
    assert_eq!(res.status(), 303);
    let anon = app.client();
    let club_feed = make_feed(&app, &hanako, "club").await;
    let body = anon
        .get(app.url(&club_feed))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains("クラブの予定") && !body.contains("別の部屋"));
    // Replaced: the old address is dead, the new one works.
    let newer = make_feed(&app, &hanako, "club").await;
    assert_ne!(newer, club_feed);
    assert_eq!(
        anon.get(app.url(&club_feed)).send().await.unwrap().status(),
        404
    );
    assert_eq!(
        anon.get(app.url(&newer)).send().await.unwrap().status(),
        200
    );
    // Revoked.
    let res = app
        .post_form(
            &hanako,
            "/rooms/club/calendar",
            "/rooms/club/calendar/feed/revoke",
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        anon.get(app.url(&newer)).send().await.unwrap().status(),
        404
    );
    // Its owner removed from the room: the other room's feed dies with her membership.
    let other_feed = make_feed(&app, &hanako, "other").await;
    assert_eq!(
        anon.get(app.url(&other_feed))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let res = app
        .post_form(
            &admin,
            "/rooms/other/members",
            "/rooms/other/members/hanako",
            &[("action", "remove")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        anon.get(app.url(&other_feed))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    for made_up in [
        "/ical/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA.ics",
        "/ical/short.ics",
        "/ical/..%2F..%2Fetc.ics",
    ] {
        assert_eq!(
            anon.get(app.url(made_up)).send().await.unwrap().status(),
            404,
            "{made_up}"
        );
    }
}
