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

/// The holidays a month grid or week view marks: `(date, name)`.
fn marked_holidays(html: &str) -> Vec<(String, String)> {
    let doc = scraper::Html::parse_document(html);
    doc.select(&sel(".holiday"))
        .map(|day| {
            let date = day.value().attr("data-date").unwrap_or("").to_owned();
            let name = day
                .select(&sel(".cal-holiday"))
                .next()
                .map(|n| n.text().collect())
                .unwrap_or_default();
            (date, name)
        })
        .collect()
}

/// The admin adds the site's own days (創立記念日) in the settings; the calendars mark them beside
/// the Cabinet Office's national holidays (both names on a day that is both). A malformed line
/// is refused under the field and nothing changes; a member cannot change them.
#[actix_web::test]
async fn the_admin_adds_the_site_s_own_holidays_beside_the_national_ones() {
    let Club {
        app, admin, hanako, ..
    } = club().await;
    let settings = async |holidays: &str| {
        app.post_form(
            &admin,
            "/admin/settings",
            "/admin/settings",
            &[
                ("title", "結の学校"),
                ("tagline", ""),
                ("language", "ja"),
                ("timezone", "Asia/Tokyo"),
                ("holidays", holidays),
            ],
        )
        .await
    };
    let res = settings("2027-05-10 創立記念日\r\n\r\n2027-01-01 開校記念式典\r\n").await;
    assert_eq!(res.status(), 303);
    let (_, may) = get(&hanako, &app, "/rooms/club/calendar?month=2027-05").await;
    assert_eq!(
        marked_holidays(&may),
        [
            ("2027-04-29".to_owned(), "昭和の日".to_owned()),
            ("2027-05-03".to_owned(), "憲法記念日".to_owned()),
            ("2027-05-04".to_owned(), "みどりの日".to_owned()),
            ("2027-05-05".to_owned(), "こどもの日".to_owned()),
            ("2027-05-10".to_owned(), "創立記念日".to_owned()),
        ]
    );
    let (_, week) = get(&hanako, &app, "/calendar/week?date=2027-01-01").await;
    assert!(
        marked_holidays(&week)
            .contains(&("2027-01-01".to_owned(), "元日 · 開校記念式典".to_owned())),
        "{:?}",
        marked_holidays(&week)
    );
    // The form shows them back in date order.
    let (_, form) = get(&admin, &app, "/admin/settings").await;
    assert!(form.contains(">2027-01-01 開校記念式典\n2027-05-10 創立記念日</textarea>"));

    for bad in [
        "2027-13-01 十三月",
        "創立記念日",
        "2027-06-01",
        &format!("2027-06-01 {}", "長".repeat(41)),
    ] {
        let res = settings(bad).await;
        assert_eq!(res.status(), 422, "{bad}");
        assert!(res.text().await.unwrap().contains("1行に1日"), "{bad}");
    }
    let (_, may) = get(&hanako, &app, "/rooms/club/calendar?month=2027-05").await;
    assert_eq!(
        marked_holidays(&may).len(),
        5,
        "a refused list changes nothing"
    );

    let res = app
        .post_form(
            &hanako,
            "/rooms/club/calendar",
            "/admin/settings",
            &[
                ("title", "乗っ取り"),
                ("language", "ja"),
                ("timezone", "UTC"),
                ("holidays", "2027-05-11 休み"),
            ],
        )
        .await;
    assert!(
        matches!(res.status().as_u16(), 403 | 404),
        "{}",
        res.status()
    );
    let (_, may) = get(&hanako, &app, "/rooms/club/calendar?month=2027-05").await;
    assert!(!may.contains("休み"));
}
