//! A member's own time zone (issue #12 item 1): set on `/me` (an IANA zone, or the site's), and
//! every calendar page, the home's coming dates, the facility screens and reminder mails show times
//! on that clock, with the day grid cut at that zone's midnights; an event keeps the zone it was
//! set in; new events are set on their author's clock.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use diesel::prelude::*;
use yui::db::schema::{events, facilities, users};
use yui::services::calendar::reminders;

use crate::calendar::{Club, add_event, club, get, sel};
use crate::support::*;

/// Saves `login`'s profile with this time zone (name and email unchanged).
async fn set_zone(
    app: &TestApp,
    c: &reqwest::Client,
    login: &str,
    zone: &str,
) -> reqwest::Response {
    let email = format!("{login}@example.test");
    let name = format!("{login} さん");
    app.post_form(
        c,
        "/me",
        "/me",
        &[
            ("display_name", name.as_str()),
            ("email", email.as_str()),
            ("timezone", zone),
        ],
    )
    .await
}

fn stored_zone(app: &TestApp, login: &str) -> Option<String> {
    let login = login.to_owned();
    app.db(move |conn| {
        Ok(users::table
            .filter(users::login.eq(login))
            .select(users::timezone)
            .first::<Option<String>>(conn)?)
    })
}

/// The attribute `name` of the first element `selector` matches.
fn attr(html: &str, selector: &str, name: &str) -> String {
    let doc = scraper::Html::parse_document(html);
    doc.select(&sel(selector))
        .next()
        .unwrap_or_else(|| panic!("no {selector}"))
        .value()
        .attr(name)
        .unwrap_or_default()
        .to_owned()
}

/// The items of the month grid's cell for `date`, as `time title`.
fn cell(html: &str, date: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let td = doc
        .select(&sel(&format!("td.cal-day[data-date=\"{date}\"]")))
        .next()
        .unwrap_or_else(|| panic!("no cell {date}"));
    td.select(&sel(".cal-item"))
        .map(|li| li.text().collect::<String>().trim().to_owned())
        .collect()
}

/// The agenda as `date time title` lines.
fn agenda(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let mut out = Vec::new();
    let mut date = String::new();
    for el in doc.select(&sel(".cal-agenda dt, .cal-agenda dd")) {
        if el.value().name() == "dt" {
            el.text().collect::<String>()[..10].clone_into(&mut date);
        } else {
            let time: String = el
                .select(&sel(".cal-time"))
                .next()
                .unwrap()
                .text()
                .collect();
            let title: String = el.select(&sel("a")).next().unwrap().text().collect();
            out.push(format!("{date} {time} {title}"));
        }
    }
    out
}

/// A week page's days with items, as `date: start title, …`.
fn week(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let mut out = Vec::new();
    for day in doc.select(&sel("li.cal-wday")) {
        let items: Vec<String> = day
            .select(&sel(".cal-item"))
            .map(|i| {
                let time: String = i.select(&sel(".cal-time")).next().unwrap().text().collect();
                let title: String = i.select(&sel("a")).next().unwrap().text().collect();
                format!("{} {title}", &time[..5])
            })
            .collect();
        if !items.is_empty() {
            let date = day.value().attr("data-date").unwrap();
            out.push(format!("{date}: {}", items.join(", ")));
        }
    }
    out
}

/// Two events set in Tokyo (10:00 and 07:00 on 2027-01-12): a member who chose Europe/Berlin
/// sees them at 02:00 on the 12th and at 23:00 on the 11th — in the month grid, its agenda, the
/// week view, `/calendar` and the event's page (which says it was set in Asia/Tokyo) — while a
/// member without a zone sees the site's clock, as before.
#[actix_web::test]
async fn a_berlin_and_a_tokyo_member_see_one_event_on_their_own_clocks() {
    let Club {
        app, hanako, guest, ..
    } = club().await;
    assert_eq!(
        set_zone(&app, &hanako, "hanako", "Europe/Berlin")
            .await
            .status(),
        303
    );
    assert_eq!(
        stored_zone(&app, "hanako").as_deref(),
        Some("Europe/Berlin")
    );
    let mut page = String::new();
    for (title, start, end) in [("朝会", "10:00", "11:00"), ("早朝点検", "07:00", "08:00")] {
        let res = add_event(
            &app,
            &hanako,
            "club",
            &[
                ("title", title),
                ("start_date", "2027-01-12"),
                ("start_time", start),
                ("end_time", end),
                ("tz", "Asia/Tokyo"),
            ],
        )
        .await;
        assert_eq!(res.status(), 303, "{title}");
        if title == "朝会" {
            page = location(&res);
        }
    }
    let month = "/rooms/club/calendar?month=2027-01";
    let (_, tokyo) = get(&guest, &app, month).await;
    let (_, berlin) = get(&hanako, &app, month).await;
    assert_eq!(cell(&tokyo, "2027-01-11"), Vec::<String>::new());
    assert_eq!(cell(&tokyo, "2027-01-12"), ["07:00 早朝点検", "10:00 朝会"]);
    assert_eq!(cell(&berlin, "2027-01-11"), ["23:00 早朝点検"]);
    assert_eq!(cell(&berlin, "2027-01-12"), ["02:00 朝会"]);
    assert_eq!(
        agenda(&tokyo),
        [
            "2027-01-12 07:00–08:00 早朝点検",
            "2027-01-12 10:00–11:00 朝会"
        ]
    );
    assert_eq!(
        agenda(&berlin),
        [
            "2027-01-11 23:00–01/12 00:00 早朝点検",
            "2027-01-12 02:00–03:00 朝会"
        ]
    );
    let (_, tokyo) = get(&guest, &app, "/calendar?month=2027-01").await;
    let (_, berlin) = get(&hanako, &app, "/calendar?month=2027-01").await;
    assert_eq!(cell(&tokyo, "2027-01-12"), ["07:00 早朝点検", "10:00 朝会"]);
    assert_eq!(cell(&berlin, "2027-01-11"), ["23:00 早朝点検"]);
    let week_page = "/rooms/club/calendar/week?date=2027-01-12";
    let (_, tokyo) = get(&guest, &app, week_page).await;
    let (_, berlin) = get(&hanako, &app, week_page).await;
    assert_eq!(week(&tokyo), ["2027-01-12: 07:00 早朝点検, 10:00 朝会"]);
    assert_eq!(
        week(&berlin),
        ["2027-01-11: 23:00 早朝点検", "2027-01-12: 02:00 朝会"]
    );
    let (_, berlin) = get(&hanako, &app, "/calendar/week?date=2027-01-12").await;
    assert_eq!(
        week(&berlin),
        ["2027-01-11: 23:00 早朝点検", "2027-01-12: 02:00 朝会"]
    );
    let (_, tokyo) = get(&guest, &app, &page).await;
    let (_, berlin) = get(&hanako, &app, &page).await;
    assert!(tokyo.contains("2027-01-12 10:00 – 11:00"), "{tokyo}");
    assert!(!tokyo.contains("set-in"), "set in the viewer's zone");
    assert!(berlin.contains("2027-01-12 02:00 – 03:00"), "{berlin}");
    assert!(berlin.contains("Europe/Berlin"));
    assert!(
        berlin.contains("Asia/Tokyo で登録：2027-01-12 10:00 – 11:00"),
        "{berlin}"
    );
}

/// The home's coming dates are on the member's clock too: a date early tomorrow in Tokyo is
/// still today (or tonight) in Berlin.
#[actix_web::test]
async fn the_home_lists_coming_dates_on_the_member_s_clock() {
    let Club {
        app, hanako, guest, ..
    } = club().await;
    assert_eq!(
        set_zone(&app, &hanako, "hanako", "Europe/Berlin")
            .await
            .status(),
        303
    );
    let tokyo = chrono_tz::Asia::Tokyo;
    let tomorrow =
        chrono::Utc::now().with_timezone(&tokyo).date_naive() + chrono::Duration::days(1);
    let res = add_event(
        &app,
        &hanako,
        "club",
        &[
            ("title", "早朝点検"),
            ("start_date", &tomorrow.to_string()),
            ("start_time", "07:00"),
            ("end_time", "08:00"),
            ("tz", "Asia/Tokyo"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let start = tokyo
        .from_local_datetime(&tomorrow.and_hms_opt(7, 0, 0).unwrap())
        .unwrap();
    let in_berlin = start
        .with_timezone(&chrono_tz::Europe::Berlin)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    assert_ne!(&in_berlin[..10], tomorrow.to_string(), "the day before");
    let (_, home) = get(&guest, &app, "/home").await;
    assert!(home.contains(&format!("{tomorrow} 07:00")), "{home}");
    let (_, home) = get(&hanako, &app, "/home").await;
    assert!(home.contains(&in_berlin), "{in_berlin}: {home}");
}

/// Europe/Berlin's summer time (last Sundays of March and October): a weekly 10:00 set in Berlin
/// by a Berlin member (the form's zone is the author's) is 18:00 and then 17:00 in Tokyo; a weekly
/// 10:00 set in Tokyo is 03:00 and then 02:00 in Berlin after October's change.
#[actix_web::test]
async fn summer_time_in_berlin_moves_the_other_clock_at_the_right_sunday() {
    let Club {
        app, hanako, guest, ..
    } = club().await;
    assert_eq!(
        set_zone(&app, &hanako, "hanako", "Europe/Berlin")
            .await
            .status(),
        303
    );
    // The new-event form is set on its author's clock.
    let (_, form) = get(
        &hanako,
        &app,
        "/rooms/club/calendar/events/new?date=2027-03-21",
    )
    .await;
    assert_eq!(attr(&form, "input#tz", "value"), "Europe/Berlin");
    // Sent without a zone: the author's.
    let res = add_event(
        &app,
        &hanako,
        "club",
        &[
            ("title", "日曜礼拝"),
            ("start_date", "2027-03-21"),
            ("repeat", "weekly"),
            ("day_su", "on"),
            ("count", "2"),
            ("tz", ""),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = add_event(
        &app,
        &hanako,
        "club",
        &[
            ("title", "日曜当番"),
            ("start_date", "2027-10-24"),
            ("repeat", "weekly"),
            ("day_su", "on"),
            ("count", "2"),
            ("tz", "Asia/Tokyo"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (tz, start): (String, NaiveDateTime) = app.db(|conn| {
        Ok(events::table
            .filter(events::title.eq("日曜礼拝"))
            .select((events::tz, events::starts_at))
            .first(conn)?)
    });
    assert_eq!(tz, "Europe/Berlin");
    assert_eq!(
        start,
        NaiveDate::from_ymd_opt(2027, 3, 21)
            .unwrap()
            .and_hms_opt(9, 0, 0)
            .unwrap(),
        "10:00 CET is 09:00 UTC"
    );
    let (_, tokyo) = get(&guest, &app, "/rooms/club/calendar?month=2027-03").await;
    let (_, berlin) = get(&hanako, &app, "/rooms/club/calendar?month=2027-03").await;
    assert_eq!(cell(&tokyo, "2027-03-21"), ["18:00 日曜礼拝"]);
    assert_eq!(cell(&tokyo, "2027-03-28"), ["17:00 日曜礼拝"]);
    assert_eq!(cell(&berlin, "2027-03-21"), ["10:00 日曜礼拝"]);
    assert_eq!(cell(&berlin, "2027-03-28"), ["10:00 日曜礼拝"]);
    let (_, tokyo) = get(&guest, &app, "/rooms/club/calendar?month=2027-10").await;
    let (_, berlin) = get(&hanako, &app, "/rooms/club/calendar?month=2027-10").await;
    assert_eq!(cell(&tokyo, "2027-10-24"), ["10:00 日曜当番"]);
    assert_eq!(cell(&tokyo, "2027-10-31"), ["10:00 日曜当番"]);
    assert_eq!(cell(&berlin, "2027-10-24"), ["03:00 日曜当番"]);
    assert_eq!(cell(&berlin, "2027-10-31"), ["02:00 日曜当番"]);
}

/// A reminder mail reads on its recipient's clock: 02:00 (Europe/Berlin) for the Berlin member,
/// 10:00 (Asia/Tokyo) for a member without a zone, for the same 10:00 Tokyo event.
#[actix_web::test]
async fn a_reminder_mail_shows_the_recipient_s_time() {
    let Club {
        app, hanako, guest, ..
    } = club().await;
    assert_eq!(
        set_zone(&app, &hanako, "hanako", "Europe/Berlin")
            .await
            .status(),
        303
    );
    let res = add_event(
        &app,
        &hanako,
        "club",
        &[
            ("title", "朝会"),
            ("start_date", "2027-01-05"),
            ("tz", "Asia/Tokyo"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let page = location(&res);
    for c in [&hanako, &guest] {
        let res = app
            .post_form(
                c,
                &page,
                &format!("{page}/reminders"),
                &[("amount", "1"), ("unit", "days")],
            )
            .await;
        assert_eq!(res.status(), 303);
    }
    let at = NaiveDate::from_ymd_opt(2027, 1, 4)
        .unwrap()
        .and_hms_opt(2, 0, 0)
        .unwrap();
    let core = app.core.clone();
    let sent = tokio::task::spawn_blocking(move || reminders::send_due(&core, at).unwrap())
        .await
        .unwrap();
    assert_eq!(sent, 2);
    let berlin = app.mails_to("hanako@example.test", "朝会").await;
    assert_eq!(berlin.len(), 1);
    let text = format!("{}\n{}", berlin[0].subject, berlin[0].body);
    assert!(
        text.contains("2027-01-05 02:00–03:00 (Europe/Berlin)"),
        "{text}"
    );
    let tokyo = app.mails_to("guest@example.test", "朝会").await;
    assert_eq!(tokyo.len(), 1);
    let text = format!("{}\n{}", tokyo[0].subject, tokyo[0].body);
    assert!(
        text.contains("2027-01-05 10:00–11:00 (Asia/Tokyo)"),
        "{text}"
    );
}

/// `/me` offers the zones sorted by area with the site's preselected and named; an unknown zone
/// is refused under the field (422) and nothing of the form is saved; choosing "the site's" stores
/// nothing (NULL).
#[actix_web::test]
async fn an_unknown_zone_is_refused_and_nothing_is_saved() {
    let app = TestApp::spawn();
    let hanako = app.user("hanako").signed_in().await;
    let (_, me) = get(&hanako, &app, "/me").await;
    let doc = scraper::Html::parse_document(&me);
    let selected: Vec<String> = doc
        .select(&sel("select#timezone option[selected]"))
        .map(|o| o.text().collect())
        .collect();
    assert_eq!(selected, ["サイトのタイムゾーン（Asia/Tokyo）"]);
    let europe: Vec<String> = doc
        .select(&sel("select#timezone optgroup[label=Europe] option"))
        .map(|o| o.text().collect())
        .collect();
    assert!(europe.contains(&"Europe/Berlin".to_owned()));
    let mut sorted = europe.clone();
    sorted.sort();
    assert_eq!(europe, sorted);
    for bad in ["Mars/Olympus", "europe/berlin", "US/Eastern", "<script>"] {
        let res = app
            .post_form(
                &hanako,
                "/me",
                "/me",
                &[
                    ("display_name", "新しい名前"),
                    ("email", "hanako@example.test"),
                    ("timezone", bad),
                ],
            )
            .await;
        assert_eq!(res.status(), 422, "{bad}");
        let html = res.text().await.unwrap();
        assert!(html.contains("不明なタイムゾーンです。"), "{html}");
        assert_eq!(stored_zone(&app, "hanako"), None, "{bad}");
    }
    let name: String = app.db(|conn| {
        Ok(users::table
            .filter(users::login.eq("hanako"))
            .select(users::display_name)
            .first(conn)?)
    });
    assert_ne!(name, "新しい名前", "nothing of the form saved");
    assert_eq!(
        set_zone(&app, &hanako, "hanako", "America/New_York")
            .await
            .status(),
        303
    );
    let (_, me) = get(&hanako, &app, "/me").await;
    let doc = scraper::Html::parse_document(&me);
    let selected: Vec<String> = doc
        .select(&sel("select#timezone option[selected]"))
        .map(|o| o.text().collect())
        .collect();
    assert_eq!(selected, ["America/New_York"]);
    assert_eq!(set_zone(&app, &hanako, "hanako", "").await.status(), 303);
    assert_eq!(stored_zone(&app, "hanako"), None);
}

/// The form changes only the session's own account: naming another one in the body changes
/// nothing of it, and without a session nothing is saved at all.
#[actix_web::test]
async fn nobody_sets_another_member_s_zone() {
    let app = TestApp::spawn();
    let hanako = app.user("hanako").signed_in().await;
    let _taro = app.user("taro").signed_in().await;
    let taro_id: i64 = app.db(|conn| {
        Ok(users::table
            .filter(users::login.eq("taro"))
            .select(users::id)
            .first(conn)?)
    });
    let taro_id = taro_id.to_string();
    let res = app
        .post_form(
            &hanako,
            "/me",
            "/me",
            &[
                ("display_name", "hanako さん"),
                ("email", "hanako@example.test"),
                ("timezone", "Europe/Berlin"),
                ("login", "taro"),
                ("user_id", &taro_id),
                ("id", &taro_id),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        stored_zone(&app, "hanako").as_deref(),
        Some("Europe/Berlin")
    );
    assert_eq!(stored_zone(&app, "taro"), None);
    let anonymous = app.client();
    let res = app
        .post_form(
            &anonymous,
            "/login",
            "/me",
            &[
                ("display_name", "taro さん"),
                ("email", "taro@example.test"),
                ("timezone", "Europe/Berlin"),
            ],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(stored_zone(&app, "taro"), None);
}

/// The facility screens show bookings on the viewer's clock and read the booking form's times on
/// it; the opening hours stay the facility's (the site's zone): 02:00–03:00 Berlin is 10:00–11:00
/// in Tokyo and fits 08:00–18:00, 10:00 Berlin (18:00 Tokyo) does not.
#[actix_web::test]
async fn facility_screens_and_bookings_follow_the_viewer_s_clock() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let hanako = app.user("hanako").signed_in().await;
    let jiro = app.user("jiro").signed_in().await;
    app.room("club")
        .closed()
        .features(&["calendar"])
        .member("hanako", "member")
        .member("jiro", "member")
        .create(&admin)
        .await;
    let res = app
        .post_form(
            &admin,
            "/admin/facilities/new",
            "/admin/facilities",
            &[
                ("name", "会議室A"),
                ("opens", "08:00"),
                ("closes", "18:00"),
                ("day_mo", "on"),
                ("day_tu", "on"),
                ("day_we", "on"),
                ("day_th", "on"),
                ("day_fr", "on"),
                ("all_rooms", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let id: i64 = app.db(|conn| {
        Ok(facilities::table
            .select(facilities::id)
            .order(facilities::id.desc())
            .first(conn)?)
    });
    assert_eq!(
        set_zone(&app, &hanako, "hanako", "Europe/Berlin")
            .await
            .status(),
        303
    );
    let page = format!("/facilities/{id}");
    let book = |start: &'static str, end: &'static str| {
        let (app, hanako, page) = (&app, &hanako, page.clone());
        async move {
            app.post_form(
                hanako,
                &page,
                &format!("{page}/bookings"),
                &[
                    ("room", "club"),
                    ("title", "定例会議"),
                    ("start_date", "2027-01-04"),
                    ("start_time", start),
                    ("end_time", end),
                    ("repeat", "never"),
                ],
            )
            .await
        }
    };
    let res = book("10:00", "11:00").await;
    assert_eq!(res.status(), 422, "18:00 in Tokyo: after hours");
    assert_eq!(book("02:00", "03:00").await.status(), 303);
    let start: NaiveDateTime = app.db(|conn| {
        Ok(events::table
            .filter(events::facility_id.is_not_null())
            .select(events::starts_at)
            .first(conn)?)
    });
    assert_eq!(start.to_string(), "2027-01-04 01:00:00");
    let (_, berlin) = get(&hanako, &app, "/facilities?date=2027-01-04").await;
    let (_, tokyo) = get(&jiro, &app, "/facilities?date=2027-01-04").await;
    assert!(berlin.contains("02:00–03:00"), "{berlin}");
    assert!(berlin.contains("zone-note"));
    assert!(tokyo.contains("10:00–11:00"), "{tokyo}");
    assert!(!tokyo.contains("zone-note"));
    let (_, berlin) = get(&hanako, &app, &format!("{page}?date=2027-01-04")).await;
    let doc = scraper::Html::parse_document(&berlin);
    let monday: String = doc
        .select(&sel("li.cal-wday[data-date=\"2027-01-04\"]"))
        .next()
        .unwrap()
        .text()
        .collect();
    assert!(monday.contains("02:00–03:00"), "{monday}");
    // The form's first hour is the facility's opening on the booker's clock: 08:00 Tokyo is
    // 00:00 in Berlin.
    assert_eq!(attr(&berlin, "input#start_time", "value"), "00:00");
    assert_eq!(attr(&berlin, "input#start_date", "value"), "2027-01-04");
}
