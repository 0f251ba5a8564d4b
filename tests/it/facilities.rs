//! Facility reservations (施設予約) over HTTP: a booking is an event of the booking room's calendar
//! and feed; double bookings (single and recurring, also sent at once) are refused with the
//! conflicting date; bookable hours and days; who may book, approve and cancel.

use diesel::prelude::*;
use yui::db::schema::{events, facilities};

use crate::calendar::{get, make_feed};
use crate::support::*;

struct Site {
    app: TestApp,
    admin: reqwest::Client,
    /// A member (一般) of `club`.
    hanako: reqwest::Client,
    /// Another member of `club`.
    jiro: reqwest::Client,
    /// A guest of `club`.
    guest: reqwest::Client,
    /// `club`'s manager.
    manager: reqwest::Client,
    /// A member of `other` only (a room the facility does not take).
    taro: reqwest::Client,
    /// The facility's manager (in no room).
    kanri: reqwest::Client,
}

/// Rooms `club` (closed; hanako, jiro, guest) and `other` (closed; taro), both with calendars, and a
/// facility 会議室A bookable by `club` only, weekdays 08:00–18:00, managed by `kanri`.
async fn site(needs_approval: bool) -> (Site, i64) {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let manager = app.user("manager").signed_in().await;
    let hanako = app.user("hanako").signed_in().await;
    let jiro = app.user("jiro").signed_in().await;
    let guest = app.user("guest").signed_in().await;
    let taro = app.user("taro").signed_in().await;
    let kanri = app.user("kanri").signed_in().await;
    app.room("club")
        .closed()
        .features(&["blog", "calendar"])
        .managed_by("manager")
        .member("hanako", "member")
        .member("jiro", "member")
        .member("guest", "guest")
        .create(&admin)
        .await;
    app.room("other")
        .closed()
        .features(&["calendar"])
        .managed_by("manager")
        .member("taro", "member")
        .create(&admin)
        .await;
    let mut fields = vec![
        ("name", "会議室A"),
        ("category", "会議室"),
        ("opens", "08:00"),
        ("closes", "18:00"),
        ("day_mo", "on"),
        ("day_tu", "on"),
        ("day_we", "on"),
        ("day_th", "on"),
        ("day_fr", "on"),
        ("rooms", "club"),
        ("managers", "kanri"),
    ];
    if needs_approval {
        fields.push(("needs_approval", "on"));
    }
    let res = app
        .post_form(
            &admin,
            "/admin/facilities/new",
            "/admin/facilities",
            &fields,
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let id = app.db(|conn| {
        Ok(facilities::table
            .select(facilities::id)
            .order(facilities::id.desc())
            .first::<i64>(conn)?)
    });
    (
        Site {
            app,
            admin,
            hanako,
            jiro,
            guest,
            manager,
            taro,
            kanri,
        },
        id,
    )
}

/// Books facility `id` with these fields on top of a one-hour booking for `club` on Monday
/// 2027-01-04, 10:00–11:00.
async fn book(
    app: &TestApp,
    c: &reqwest::Client,
    id: i64,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all: Vec<(&str, &str)> = vec![
        ("room", "club"),
        ("title", "定例会議"),
        ("start_date", "2027-01-04"),
        ("start_time", "10:00"),
        ("end_time", "11:00"),
        ("repeat", "never"),
    ];
    for (k, v) in fields {
        all.retain(|(key, _)| key != k);
        all.push((k, v));
    }
    let page = format!("/facilities/{id}");
    app.post_form(c, &page, &format!("{page}/bookings"), &all)
        .await
}

fn bookings(app: &TestApp) -> Vec<(i64, String, String)> {
    app.db(|conn| {
        Ok(events::table
            .filter(events::facility_id.is_not_null())
            .order(events::id)
            .select((events::id, events::title, events::booking_state))
            .load(conn)?)
    })
}

/// A booking is an event of the booking room: in its month grid, its `.ics` feed (with the
/// facility as LOCATION), the facilities' day view and the facility's week.
#[actix_web::test]
async fn a_booking_shows_in_the_room_calendar_and_its_feed() {
    let (s, id) = site(false).await;
    let res = book(&s.app, &s.hanako, id, &[("title", "定例会議")]).await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let (status, html) = get(&s.hanako, &s.app, "/rooms/club/calendar?month=2027-01").await;
    assert_eq!(status, 200);
    assert!(html.contains("定例会議"), "{html}");
    let feed = make_feed(&s.app, &s.hanako, "club").await;
    let ics = reqwest::get(s.app.url(&feed))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(ics.contains("SUMMARY:定例会議"), "{ics}");
    assert!(ics.contains("LOCATION:会議室A"), "{ics}");
    assert!(ics.contains("DTSTART"), "{ics}");
    let (status, html) = get(&s.hanako, &s.app, "/facilities?date=2027-01-04").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("会議室A") && html.contains("10:00–11:00"),
        "{html}"
    );
    assert!(html.contains("定例会議"), "{html}");
    // Someone who cannot read `club` sees that the slot is taken, not what or by whom.
    let (_, html) = get(&s.taro, &s.app, "/facilities?date=2027-01-04").await;
    assert!(html.contains("10:00–11:00"), "{html}");
    assert!(!html.contains("定例会議"), "{html}");
    let (status, html) = get(
        &s.hanako,
        &s.app,
        &format!("/facilities/{id}?date=2027-01-06"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        html.contains("定例会議"),
        "the week of 2027-01-06 holds Monday 01-04: {html}"
    );
    // The calendar's own edit form does not change a booking behind the facility's back.
    let event = bookings(&s.app)[0].0;
    let res = s
        .hanako
        .get(
            s.app
                .url(&format!("/rooms/club/calendar/events/{event}/edit")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
}

/// Overlapping a booking (a single one, or any date of a series) is refused with 409 and the
/// conflicting date and time; touching it end to start is fine.
#[actix_web::test]
async fn double_bookings_are_refused_naming_the_conflicting_date() {
    let (s, id) = site(false).await;
    assert_eq!(book(&s.app, &s.hanako, id, &[]).await.status(), 303);
    let res = book(
        &s.app,
        &s.jiro,
        id,
        &[("start_time", "10:30"), ("end_time", "11:30")],
    )
    .await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("2027-01-04 10:00–11:00") && html.contains("定例会議"),
        "{html}"
    );
    let res = book(
        &s.app,
        &s.jiro,
        id,
        &[("start_time", "11:00"), ("end_time", "12:00")],
    )
    .await;
    assert_eq!(res.status(), 303, "end to start is no overlap");
    // A weekly series from 2026-12-07 whose fifth Monday meets the single booking.
    let weekly = [
        ("start_date", "2026-12-07"),
        ("start_time", "09:30"),
        ("end_time", "10:15"),
        ("repeat", "weekly"),
        ("day_mo", "on"),
        ("count", "10"),
    ];
    let res = book(&s.app, &s.jiro, id, &weekly).await;
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(html.contains("2027-01-04 10:00–11:00"), "{html}");
    // The same series an hour earlier fits; then a single booking on one of its dates does not.
    let earlier = [("start_time", "08:30"), ("end_time", "09:30")];
    let mut fields = weekly.to_vec();
    fields.extend_from_slice(&earlier);
    assert_eq!(book(&s.app, &s.jiro, id, &fields).await.status(), 303);
    let res = book(
        &s.app,
        &s.hanako,
        id,
        &[
            ("start_date", "2027-01-25"),
            ("start_time", "09:00"),
            ("end_time", "09:45"),
        ],
    )
    .await;
    assert_eq!(res.status(), 409);
    assert!(res.text().await.unwrap().contains("2027-01-25 08:30–09:30"));
    assert_eq!(bookings(&s.app).len(), 3);
}

/// Outside the bookable hours or days, a series that never ends or runs past a year: 422 with the
/// message under the field, nothing booked.
#[actix_web::test]
async fn bookings_outside_hours_days_or_a_year_are_refused_under_the_field() {
    let (s, id) = site(false).await;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (
            &[("start_time", "07:00"), ("end_time", "09:00")],
            "start_time",
        ),
        (
            &[("start_time", "17:30"), ("end_time", "18:30")],
            "start_time",
        ),
        (&[("start_date", "2027-01-09")], "start_date"),
        (&[("repeat", "weekly"), ("day_mo", "on")], "until"),
        (&[("repeat", "daily"), ("until", "2028-06-01")], "until"),
    ];
    for (fields, field) in cases {
        let res = book(&s.app, &s.hanako, id, fields).await;
        assert_eq!(res.status(), 422, "{fields:?}");
        let html = res.text().await.unwrap();
        let doc = scraper::Html::parse_document(&html);
        let under = format!("p.field-error#err-{field}");
        let found = doc
            .select(&scraper::Selector::parse(&under).unwrap())
            .next()
            .map(|e| e.text().collect::<String>());
        assert!(
            found.is_some_and(|m| !m.trim().is_empty()),
            "{fields:?}: no message under {field}"
        );
    }
    assert!(bookings(&s.app).is_empty());
}

/// A member of a room the facility does not take gets 403 (and the form offers only rooms one may
/// book for); a room one cannot read is 404; a guest never books.
#[actix_web::test]
async fn only_members_of_allowed_rooms_may_book() {
    let (s, id) = site(false).await;
    let res = book(&s.app, &s.taro, id, &[("room", "other")]).await;
    assert_eq!(res.status(), 403);
    let res = book(&s.app, &s.taro, id, &[("room", "club")]).await;
    assert_eq!(res.status(), 404);
    let res = book(&s.app, &s.guest, id, &[]).await;
    assert_eq!(res.status(), 403);
    assert!(bookings(&s.app).is_empty());
    let (_, html) = get(&s.taro, &s.app, &format!("/facilities/{id}")).await;
    assert!(!html.contains("name=\"room\""), "{html}");
    let (_, html) = get(&s.guest, &s.app, &format!("/facilities/{id}")).await;
    assert!(!html.contains("name=\"room\""), "{html}");
    let (_, html) = get(&s.hanako, &s.app, &format!("/facilities/{id}")).await;
    assert!(html.contains("<option value=\"club\""), "{html}");
    assert!(!html.contains("<option value=\"other\""), "{html}");
    // Not logged in: the login page.
    let anon = s.app.client();
    let res = anon.get(s.app.url("/facilities")).send().await.unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    // Nobody but a site admin manages facilities.
    let res = s
        .manager
        .get(s.app.url("/admin/facilities"))
        .send()
        .await
        .unwrap();
    assert_ne!(res.status(), 200);
    let _ = &s.admin;
}

/// With approval on, a booking waits (仮予約) and still holds its slot; the facility's manager
/// approves or rejects it; its booker cannot approve it.
#[actix_web::test]
async fn a_manager_approves_or_rejects_pending_bookings() {
    let (s, id) = site(true).await;
    let res = book(&s.app, &s.hanako, id, &[]).await;
    assert_eq!(res.status(), 303);
    let list = bookings(&s.app);
    assert_eq!(list[0].2, "pending");
    let (_, html) = get(&s.hanako, &s.app, "/facilities?date=2027-01-04").await;
    assert!(
        html.contains("仮予約") || html.contains("Pending"),
        "{html}"
    );
    assert_eq!(book(&s.app, &s.jiro, id, &[]).await.status(), 409);
    // Tentative in the room's feed until approved; its event page leads to the facility.
    let feed = s.app.url(&make_feed(&s.app, &s.hanako, "club").await);
    let ics = reqwest::get(&feed).await.unwrap().text().await.unwrap();
    assert!(ics.contains("STATUS:TENTATIVE"), "{ics}");
    let (_, html) = get(
        &s.hanako,
        &s.app,
        &format!("/rooms/club/calendar/events/{}", list[0].0),
    )
    .await;
    assert!(
        html.contains(&format!("href=\"/facilities/{id}\"")),
        "{html}"
    );
    assert!(
        !html.contains("/edit\""),
        "no calendar edit for a booking: {html}"
    );
    let page = format!("/facilities/{id}");
    let approve = format!("/facilities/bookings/{}/approve", list[0].0);
    let res = s.app.post_form(&s.hanako, &page, &approve, &[]).await;
    assert_eq!(res.status(), 403);
    let (_, html) = get(&s.kanri, &s.app, &page).await;
    assert!(html.contains(&approve), "{html}");
    let res = s.app.post_form(&s.kanri, &page, &approve, &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(bookings(&s.app)[0].2, "confirmed");
    let ics = reqwest::get(&feed).await.unwrap().text().await.unwrap();
    assert!(!ics.contains("STATUS:TENTATIVE"), "{ics}");
    let res = s.app.post_form(&s.kanri, &page, &approve, &[]).await;
    assert_eq!(res.status(), 409, "approved already");
    // Another one rejected: gone, the slot free again.
    let res = book(&s.app, &s.jiro, id, &[("start_date", "2027-01-05")]).await;
    assert_eq!(res.status(), 303);
    let second = bookings(&s.app)[1].0;
    let res = s
        .app
        .post_form(
            &s.kanri,
            &page,
            &format!("/facilities/bookings/{second}/reject"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(bookings(&s.app).len(), 1);
    assert_eq!(
        book(&s.app, &s.hanako, id, &[("start_date", "2027-01-05")])
            .await
            .status(),
        303
    );
}

/// Its booker and the facility's manager cancel a booking; another member of the room cannot,
/// someone outside the room does not even see it, and a booker removed from the room no longer can.
#[actix_web::test]
async fn only_the_booker_or_a_manager_cancels() {
    let (s, id) = site(false).await;
    assert_eq!(book(&s.app, &s.hanako, id, &[]).await.status(), 303);
    let first = bookings(&s.app)[0].0;
    let page = format!("/facilities/{id}");
    let cancel = |e: i64| format!("/facilities/bookings/{e}/cancel");
    assert_eq!(
        s.app
            .post_form(&s.jiro, &page, &cancel(first), &[])
            .await
            .status(),
        403
    );
    assert_eq!(
        s.app
            .post_form(&s.taro, &page, &cancel(first), &[])
            .await
            .status(),
        404
    );
    assert_eq!(bookings(&s.app).len(), 1);
    // Removed from the room, hanako cannot cancel what she booked there.
    let res = s
        .app
        .post_form(
            &s.manager,
            "/rooms/club/members",
            "/rooms/club/members/hanako",
            &[("action", "remove")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        s.app
            .post_form(&s.hanako, &page, &cancel(first), &[])
            .await
            .status(),
        404
    );
    assert_eq!(
        s.app
            .post_form(&s.kanri, &page, &cancel(first), &[])
            .await
            .status(),
        303
    );
    assert!(bookings(&s.app).is_empty());
    // jiro cancels his own.
    assert_eq!(book(&s.app, &s.jiro, id, &[]).await.status(), 303);
    let second = bookings(&s.app)[0].0;
    assert_eq!(
        s.app
            .post_form(&s.jiro, &page, &cancel(second), &[])
            .await
            .status(),
        303
    );
    assert!(bookings(&s.app).is_empty());
}

/// Many requests for one slot at once (and a weekly series against a single booking on one of
/// its dates, sent together): exactly one wins, the others get 409. On PostgreSQL this needs the
/// facility's row lock; on SQLite the write transaction's `BEGIN IMMEDIATE`.
#[actix_web::test]
async fn parallel_bookings_of_one_slot_let_exactly_one_win() {
    let (s, id) = site(false).await;
    let page = format!("/facilities/{id}");
    let target = s.app.url(&format!("{page}/bookings"));
    let mut tabs = Vec::new();
    for _ in 0..4 {
        for login in ["hanako", "jiro"] {
            let c = s.app.sign_in(login).await;
            let token = s.app.csrf(&c, &page).await;
            tabs.push((c, token));
        }
    }
    let sends = tabs.iter().map(|(c, token)| {
        c.post(&target)
            .form(&[
                ("_csrf", token.as_str()),
                ("room", "club"),
                ("title", "同時"),
                ("start_date", "2027-01-04"),
                ("start_time", "10:00"),
                ("end_time", "11:00"),
            ])
            .send()
    });
    let statuses: Vec<u16> = futures_util::future::join_all(sends)
        .await
        .into_iter()
        .map(|r| r.unwrap().status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 303).count(),
        1,
        "{statuses:?}"
    );
    assert!(
        statuses.iter().all(|s| *s == 303 || *s == 409),
        "{statuses:?}"
    );
    assert_eq!(bookings(&s.app).len(), 1);
    // A series and a single booking on its third date, a few rounds of both at once.
    for (round, day) in ["2027-02-15", "2027-03-15", "2027-04-19"]
        .iter()
        .enumerate()
    {
        let start = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap()
            - chrono::Duration::days(14);
        let start = start.to_string();
        let (a, ta) = &tabs[0];
        let (b, tb) = &tabs[1];
        let series = a
            .post(&target)
            .form(&[
                ("_csrf", ta.as_str()),
                ("room", "club"),
                ("title", "毎週"),
                ("start_date", start.as_str()),
                ("start_time", "13:00"),
                ("end_time", "14:00"),
                ("repeat", "weekly"),
                ("day_mo", "on"),
                ("count", "3"),
            ])
            .send();
        let single = b
            .post(&target)
            .form(&[
                ("_csrf", tb.as_str()),
                ("room", "club"),
                ("title", "単発"),
                ("start_date", day),
                ("start_time", "13:30"),
                ("end_time", "14:30"),
            ])
            .send();
        let (x, y) = futures_util::future::join(series, single).await;
        let both = [x.unwrap().status().as_u16(), y.unwrap().status().as_u16()];
        let mut sorted = both;
        sorted.sort_unstable();
        assert_eq!(sorted, [303, 409], "round {round}: {both:?}");
    }
    assert_eq!(bookings(&s.app).len(), 4);
    let _ = (&s.admin, &s.kanri, &s.guest, &s.taro, &s.manager);
}

/// The statements one GET of `path` runs (the fewest of three tries, as `query_budget`).
async fn statements(app: &TestApp, c: &reqwest::Client, path: &str) -> u64 {
    let mut fewest = u64::MAX;
    for _ in 0..3 {
        let before = app.core.db.statements();
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        res.bytes().await.unwrap();
        fewest = fewest.min(app.core.db.statements() - before);
    }
    fewest
}

/// The booking screens run a fixed number of statements, however many rooms the member is in
/// and however many rooms booked (NetCommons took 23 minutes with 126 rooms): never one per room.
#[actix_web::test]
async fn the_booking_screens_run_a_fixed_number_of_statements_however_many_rooms() {
    let (s, id) = site(false).await;
    assert_eq!(book(&s.app, &s.hanako, id, &[]).await.status(), 303);
    let week = format!("/facilities/{id}?date=2027-01-04");
    let day = "/facilities?date=2027-01-04";
    let small = (
        statements(&s.app, &s.hanako, day).await,
        statements(&s.app, &s.hanako, &week).await,
    );
    // Twenty more rooms hanako is in, every one allowed to book, each with a booking that week.
    let mut slugs = vec!["club".to_owned()];
    for r in 0..20 {
        let slug = format!("room{r}");
        s.app
            .room(&slug)
            .closed()
            .features(&["calendar"])
            .managed_by("manager")
            .member("hanako", "member")
            .create(&s.admin)
            .await;
        slugs.push(slug);
    }
    let edit = format!("/admin/facilities/{id}/edit");
    let rooms = slugs.join(" ");
    let res = s
        .app
        .post_form(
            &s.admin,
            &edit,
            &format!("/admin/facilities/{id}"),
            &[
                ("name", "会議室A"),
                ("category", "会議室"),
                ("opens", "08:00"),
                ("closes", "18:00"),
                ("day_mo", "on"),
                ("day_tu", "on"),
                ("day_we", "on"),
                ("day_th", "on"),
                ("day_fr", "on"),
                ("rooms", rooms.as_str()),
                ("managers", "kanri"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    for (r, slug) in slugs.iter().enumerate().skip(1) {
        let start = format!("{:02}:00", 8 + r % 10);
        let end = format!("{:02}:30", 8 + r % 10);
        let date = format!("2027-01-{:02}", 5 + r / 10);
        let res = book(
            &s.app,
            &s.hanako,
            id,
            &[
                ("room", slug.as_str()),
                ("start_date", date.as_str()),
                ("start_time", start.as_str()),
                ("end_time", end.as_str()),
            ],
        )
        .await;
        assert_eq!(res.status(), 303, "{slug} {date} {start}");
    }
    let big = (
        statements(&s.app, &s.hanako, day).await,
        statements(&s.app, &s.hanako, &week).await,
    );
    eprintln!("statements (day view, week view): 1 room {small:?} → 21 rooms {big:?}");
    assert_eq!(small, big);
    let (_, html) = get(&s.hanako, &s.app, &week).await;
    assert_eq!(html.matches("<option value=\"room").count(), 20);
}
