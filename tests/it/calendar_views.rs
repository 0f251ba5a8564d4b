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
