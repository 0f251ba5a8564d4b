//! `/calendar`'s room filter (checkboxes, no JavaScript) and the week view (issue #12 item 3).

use crate::calendar::{Club, add_event, club, get, sel};

/// The titles in a page's agenda.
fn titles(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    doc.select(&sel(".cal-agenda dd a"))
        .map(|a| a.text().collect())
        .collect()
}

/// The filter's checkboxes as `(slug, checked)`.
fn boxes(html: &str) -> Vec<(String, bool)> {
    let doc = scraper::Html::parse_document(html);
    doc.select(&sel("form.cal-filter input[name=room]"))
        .map(|i| {
            (
                i.value().attr("value").unwrap().to_owned(),
                i.value().attr("checked").is_some(),
            )
        })
        .collect()
}

/// A member of two rooms sees both calendars in `/calendar`, one checkbox each; checking one
/// shows only its events, the month links keep the choice, and a room the member does not read
/// named in the query shows nothing of it.
#[actix_web::test]
async fn the_combined_calendar_filters_rooms_by_checkbox() {
    let Club {
        app, admin, hanako, ..
    } = club().await;
    app.room("other")
        .features(&["calendar"])
        .managed_by("hanako")
        .create(&admin)
        .await;
    app.room("secret")
        .closed()
        .features(&["calendar"])
        .managed_by("manager")
        .create(&admin)
        .await;
    for (room, title, c) in [
        ("club", "部活", &hanako),
        ("other", "委員会", &hanako),
        ("secret", "秘密", &admin),
    ] {
        let res = add_event(
            &app,
            c,
            room,
            &[("title", title), ("start_date", "2027-01-12")],
        )
        .await;
        assert_eq!(res.status(), 303, "{room}");
    }
    let (status, all) = get(&hanako, &app, "/calendar?month=2027-01").await;
    assert_eq!(status, 200);
    assert_eq!(titles(&all), ["部活", "委員会"]);
    let mut b = boxes(&all);
    b.sort();
    assert_eq!(b, [("club".to_owned(), true), ("other".to_owned(), true)]);
    let (_, only) = get(&hanako, &app, "/calendar?month=2027-01&room=other").await;
    assert_eq!(titles(&only), ["委員会"]);
    let mut b = boxes(&only);
    b.sort();
    assert_eq!(b, [("club".to_owned(), false), ("other".to_owned(), true)]);
    assert!(
        only.contains("href=\"/calendar?month=2027-02&amp;room=other\""),
        "{only}"
    );
    let (_, secret) = get(&hanako, &app, "/calendar?month=2027-01&room=secret").await;
    assert!(titles(&secret).is_empty());
    assert!(!secret.contains("秘密"));
    let (status, _) = get(&hanako, &app, "/calendar?month=2027-01&room=..%2F..").await;
    assert_eq!(status, 200);
}

/// The items of each day of a week page, as `date: time title` lines.
fn week(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let mut out = Vec::new();
    for day in doc.select(&sel("li.cal-wday")) {
        let date = day.value().attr("data-date").unwrap();
        let items: Vec<String> = day
            .select(&sel(".cal-item"))
            .map(|i| {
                let time: String = i.select(&sel(".cal-time")).next().unwrap().text().collect();
                let title: String = i.select(&sel("a")).next().unwrap().text().collect();
                format!("{time} {title}")
            })
            .collect();
        out.push(format!("{date}: {}", items.join(", ")));
    }
    out
}

/// The week view lists the seven days of the week (Sunday first) with each date's items: a series'
/// date links to its own page, a multi-day event shows on each of its days; weeks link both ways
/// and to the month; `/calendar/week` combines the member's rooms; a bad date or an outsider is 404.
#[actix_web::test]
async fn the_week_view_lists_each_day_of_the_week() {
    let Club {
        app, hanako, taro, ..
    } = club().await;
    let page = crate::calendar_series::weekly(&app, &hanako).await;
    let res = add_event(
        &app,
        &hanako,
        "club",
        &[
            ("title", "合宿"),
            ("start_date", "2027-01-14"),
            ("end_date", "2027-01-16"),
            ("all_day", "on"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let (status, html) = get(&hanako, &app, "/rooms/club/calendar/week?date=2027-01-13").await;
    assert_eq!(status, 200);
    assert_eq!(
        week(&html),
        [
            "2027-01-10: ",
            "2027-01-11: ",
            "2027-01-12: 10:00–11:00 朝練",
            "2027-01-13: ",
            "2027-01-14: 終日 合宿",
            "2027-01-15: 終日 合宿",
            "2027-01-16: 終日 合宿",
        ]
    );
    assert!(html.contains(&format!("href=\"{page}?at=20270112T010000Z\"")));
    for link in [
        "/rooms/club/calendar/week?date=2027-01-03",
        "/rooms/club/calendar/week?date=2027-01-17",
        "/rooms/club/calendar?month=2027-01",
    ] {
        assert!(html.contains(&format!("href=\"{link}\"")), "{link}");
    }
    let (_, month) = get(&hanako, &app, "/rooms/club/calendar?month=2027-01").await;
    assert!(month.contains("href=\"/rooms/club/calendar/week?date=2027-01-01\""));
    let (status, mine) = get(&hanako, &app, "/calendar/week?date=2027-01-12").await;
    assert_eq!(status, 200);
    assert_eq!(week(&mine)[2], "2027-01-12: 10:00–11:00 朝練");
    for bad in ["2027-13-01", "yesterday", "0001-01-01"] {
        let path = format!("/rooms/club/calendar/week?date={bad}");
        assert_eq!(get(&hanako, &app, &path).await.0, 404, "{bad}");
    }
    assert_eq!(
        get(&taro, &app, "/rooms/club/calendar/week?date=2027-01-13")
            .await
            .0,
        404
    );
    let (_, theirs) = get(&taro, &app, "/calendar/week?date=2027-01-12").await;
    assert!(!theirs.contains("朝練"));
}
