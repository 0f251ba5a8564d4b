//! Changing part of a series over HTTP (issue #12): one occurrence (moved, retitled, deleted), this
//! and the following ones (the old series ends, a new one starts, no date twice), or all; what the
//! grid, the agenda and the feed show after each; and who may do it.

use crate::calendar::{Club, add_event, club, event_count, get, ics_lines, make_feed, sel, unfold};
use crate::support::*;

/// The agenda of a month page as `date time title` lines.
pub(crate) fn agenda(html: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    let mut out = Vec::new();
    let mut date = String::new();
    for el in doc.select(&sel(".cal-agenda dl > *")) {
        let text: String = el.text().collect();
        if el.value().name() == "dt" {
            text[..10].clone_into(&mut date);
        } else {
            let time: String = el
                .select(&sel(".cal-time"))
                .next()
                .map(|t| t.text().collect())
                .unwrap_or_default();
            let title: String = el
                .select(&sel("a"))
                .next()
                .map(|t| t.text().collect())
                .unwrap_or_default();
            out.push(format!("{date} {time} {title}"));
        }
    }
    out
}

/// The items of one day cell of the grid.
fn cell(html: &str, date: &str) -> Vec<String> {
    let doc = scraper::Html::parse_document(html);
    doc.select(&sel(&format!("td[data-date=\"{date}\"] .cal-item")))
        .map(|li| li.text().collect())
        .collect()
}

pub(crate) async fn month(app: &TestApp, c: &reqwest::Client, m: &str) -> String {
    let (status, html) = get(c, app, &format!("/rooms/club/calendar?month={m}")).await;
    assert_eq!(status, 200);
    html
}

/// The unfolded lines of the room's feed.
async fn feed_lines(app: &TestApp, feed: &str) -> Vec<String> {
    let res = app.client().get(app.url(feed)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.bytes().await.unwrap();
    let text = std::str::from_utf8(&body).unwrap();
    let parsed: Result<icalendar::Calendar, _> = text.parse();
    assert!(parsed.is_ok(), "{text}");
    unfold(&ics_lines(&body))
}

fn count(lines: &[String], prefix: &str) -> usize {
    lines.iter().filter(|l| l.starts_with(prefix)).count()
}

fn override_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    app.db(|conn| {
        Ok(yui::db::schema::event_overrides::table
            .count()
            .get_result::<i64>(conn)?)
    })
}

/// A weekly series on Tuesdays at 10:00 (Tokyo) from 2027-01-05; returns its page.
pub(crate) async fn weekly(app: &TestApp, c: &reqwest::Client) -> String {
    let res = add_event(
        app,
        c,
        "club",
        &[
            ("title", "朝練"),
            ("start_date", "2027-01-05"),
            ("repeat", "weekly"),
            ("day_tu", "on"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    location(&res)
}

/// Sends the event form of `page` for one scope.
pub(crate) async fn save(
    app: &TestApp,
    c: &reqwest::Client,
    page: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut all: Vec<(&str, &str)> = vec![
        ("start_time", "10:00"),
        ("end_time", "11:00"),
        ("tz", "Asia/Tokyo"),
    ];
    for (k, v) in fields {
        all.retain(|(key, _)| key != k);
        all.push((k, v));
    }
    app.post_form(c, "/me", page, &all).await
}

pub(crate) async fn delete(
    app: &TestApp,
    c: &reqwest::Client,
    page: &str,
    scope: &str,
    at: &str,
) -> reqwest::Response {
    app.post_form(
        c,
        "/me",
        &format!("{page}/delete"),
        &[("scope", scope), ("at", at)],
    )
    .await
}

/// One occurrence changed alone: it shows at its new time with its new title (also when moved
/// into the next month), never also at its old one; the series row stays one; the feed keeps the
/// rule and adds the occurrence as a VEVENT with the same UID and its RECURRENCE-ID.
#[actix_web::test]
async fn one_occurrence_edited_alone_moves_in_grid_and_feed() {
    let Club { app, hanako, .. } = club().await;
    let page = weekly(&app, &hanako).await;
    let key = "20270112T010000Z";
    let (status, html) = get(&hanako, &app, &format!("{page}?at={key}")).await;
    assert_eq!(status, 200);
    for scope in ["this", "following", "all"] {
        assert!(
            html.contains(&format!("type=\"radio\" name=\"scope\" value=\"{scope}\"")),
            "{html}"
        );
    }
    assert!(html.contains("2027-01-12 10:00"), "{html}");
    let (status, form) = get(&hanako, &app, &format!("{page}/edit?scope=this&at={key}")).await;
    assert_eq!(status, 200);
    assert!(form.contains("name=\"scope\" value=\"this\""), "{form}");
    assert!(form.contains("value=\"2027-01-12\""), "{form}");
    assert!(
        !form.contains("name=\"repeat\""),
        "one date does not repeat"
    );
    let res = save(
        &app,
        &hanako,
        &page,
        &[
            ("title", "特別練習"),
            ("start_date", "2027-01-13"),
            ("start_time", "14:00"),
            ("end_time", "15:00"),
            ("scope", "this"),
            ("at", key),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    // Moved to 2027-02-03, out of January into February.
    let res = save(
        &app,
        &hanako,
        &page,
        &[
            ("title", "朝練(振替)"),
            ("start_date", "2027-02-03"),
            ("scope", "this"),
            ("at", "20270126T010000Z"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let jan = month(&app, &hanako, "2027-01").await;
    assert_eq!(
        agenda(&jan),
        [
            "2027-01-05 10:00–11:00 朝練",
            "2027-01-13 14:00–15:00 特別練習",
            "2027-01-19 10:00–11:00 朝練",
        ]
    );
    assert!(cell(&jan, "2027-01-12").is_empty());
    assert_eq!(cell(&jan, "2027-01-13"), ["14:00 特別練習"]);
    assert!(cell(&jan, "2027-01-26").is_empty());
    // The grid of February starts on January 31: the moved date shows in February's grid only.
    let feb = month(&app, &hanako, "2027-02").await;
    assert_eq!(
        agenda(&feb),
        [
            "2027-02-02 10:00–11:00 朝練",
            "2027-02-03 10:00–11:00 朝練(振替)",
            "2027-02-09 10:00–11:00 朝練",
            "2027-02-16 10:00–11:00 朝練",
            "2027-02-23 10:00–11:00 朝練",
        ]
    );
    assert!(feb.contains(&format!("{page}?at=20270126T010000Z")));
    // The changed occurrence's page shows its own title and when it was planned.
    let (_, one) = get(&hanako, &app, &format!("{page}?at={key}")).await;
    assert!(
        one.contains("特別練習") && one.contains("2027-01-13 14:00"),
        "{one}"
    );
    // Changing it again changes the same override.
    let res = save(
        &app,
        &hanako,
        &page,
        &[
            ("title", "再変更"),
            ("start_date", "2027-01-13"),
            ("scope", "this"),
            ("at", key),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(override_count(&app), 2);
    assert_eq!(event_count(&app), 1, "one row per series, never per date");
    let jan = month(&app, &hanako, "2027-01").await;
    assert_eq!(agenda(&jan)[1], "2027-01-13 10:00–11:00 再変更");
    // The feed: the rule kept, each change a VEVENT of the same UID with its RECURRENCE-ID.
    let feed = make_feed(&app, &hanako, "club").await;
    let lines = feed_lines(&app, &feed).await;
    assert_eq!(count(&lines, "BEGIN:VEVENT"), 3, "{lines:#?}");
    let uids: Vec<&String> = lines.iter().filter(|l| l.starts_with("UID:")).collect();
    assert!(uids.iter().all(|u| *u == uids[0]), "{uids:?}");
    assert_eq!(count(&lines, "RRULE:FREQ=WEEKLY;BYDAY=TU"), 1);
    for l in [
        "RECURRENCE-ID;TZID=Asia/Tokyo:20270112T100000",
        "DTSTART;TZID=Asia/Tokyo:20270113T100000",
        "SUMMARY:再変更",
        "RECURRENCE-ID;TZID=Asia/Tokyo:20270126T100000",
        "DTSTART;TZID=Asia/Tokyo:20270203T100000",
    ] {
        assert!(lines.contains(&l.to_owned()), "{l} in {lines:#?}");
    }
}

/// A deleted occurrence (also a changed one) is gone from the grid, the agenda and the feed (an
/// EXDATE, its override dropped); it cannot be deleted twice, and a date that is no occurrence is 404.
#[actix_web::test]
async fn a_deleted_occurrence_is_gone_from_grid_and_feed() {
    let Club { app, hanako, .. } = club().await;
    let page = weekly(&app, &hanako).await;
    let res = save(
        &app,
        &hanako,
        &page,
        &[
            ("title", "移動"),
            ("start_date", "2027-01-20"),
            ("scope", "this"),
            ("at", "20270119T010000Z"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    for key in ["20270112T010000Z", "20270119T010000Z"] {
        let res = delete(&app, &hanako, &page, "this", key).await;
        assert_eq!(res.status(), 303);
    }
    let jan = month(&app, &hanako, "2027-01").await;
    assert_eq!(
        agenda(&jan),
        ["2027-01-05 10:00–11:00 朝練", "2027-01-26 10:00–11:00 朝練"]
    );
    for d in ["2027-01-12", "2027-01-19", "2027-01-20"] {
        assert!(cell(&jan, d).is_empty(), "{d}");
    }
    assert_eq!(override_count(&app), 0);
    let feed = make_feed(&app, &hanako, "club").await;
    let lines = feed_lines(&app, &feed).await;
    assert_eq!(count(&lines, "BEGIN:VEVENT"), 1, "{lines:#?}");
    assert!(lines.contains(&"EXDATE:20270112T010000Z,20270119T010000Z".to_owned()));
    assert_eq!(count(&lines, "RECURRENCE-ID"), 0);
    // Gone: deleting or opening it again is 404, and so is a day the series never had.
    for key in ["20270112T010000Z", "20270113T010000Z", "garbage"] {
        assert_eq!(
            delete(&app, &hanako, &page, "this", key).await.status(),
            404
        );
        assert_eq!(get(&hanako, &app, &format!("{page}?at={key}")).await.0, 404);
    }
    assert_eq!(
        delete(&app, &hanako, &page, "sideways", "20270105T010000Z")
            .await
            .status(),
        404
    );
}

/// This and the following, on a monthly series on the 31st (months without one are skipped): the
/// old series ends the day before, the new one starts on the date with what is left of the count,
/// and every date appears once; starting the new one on a day the old one still has is refused.
#[actix_web::test]
async fn this_and_following_ends_the_old_series_and_never_duplicates() {
    let Club { app, hanako, .. } = club().await;
    let res = add_event(
        &app,
        &hanako,
        "club",
        &[
            ("title", "月末会議"),
            ("start_date", "2027-01-31"),
            ("repeat", "monthly_date"),
            ("count", "6"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let page = location(&res);
    let key = "20270531T010000Z";
    let (status, form) = get(
        &hanako,
        &app,
        &format!("{page}/edit?scope=following&at={key}"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        form.contains("name=\"count\" type=\"number\" min=\"1\" max=\"1000\" value=\"4\""),
        "{form}"
    );
    assert!(form.contains("value=\"2027-05-31\""));
    // Refused: a new start on January 31 would repeat dates the old series keeps.
    let res = save(
        &app,
        &hanako,
        &page,
        &[
            ("title", "x"),
            ("start_date", "2027-01-31"),
            ("repeat", "monthly_date"),
            ("count", "4"),
            ("scope", "following"),
            ("at", key),
        ],
    )
    .await;
    assert_eq!(res.status(), 422);
    assert_eq!(event_count(&app), 1);
    let res = save(
        &app,
        &hanako,
        &page,
        &[
            ("title", "月末会議(新)"),
            ("start_date", "2027-05-31"),
            ("start_time", "14:00"),
            ("end_time", "15:00"),
            ("repeat", "monthly_date"),
            ("count", "4"),
            ("scope", "following"),
            ("at", key),
        ],
    )
    .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let new_page = location(&res);
    assert_ne!(new_page, page);
    assert_eq!(event_count(&app), 2);
    let mut all = Vec::new();
    for m in 1..=12 {
        all.extend(agenda(&month(&app, &hanako, &format!("2027-{m:02}")).await));
    }
    assert_eq!(
        all,
        [
            "2027-01-31 10:00–11:00 月末会議",
            "2027-03-31 10:00–11:00 月末会議",
            "2027-05-31 14:00–15:00 月末会議(新)",
            "2027-07-31 14:00–15:00 月末会議(新)",
            "2027-08-31 14:00–15:00 月末会議(新)",
            "2027-10-31 14:00–15:00 月末会議(新)",
        ]
    );
    let feed = make_feed(&app, &hanako, "club").await;
    let lines = feed_lines(&app, &feed).await;
    assert!(
        lines.contains(&"RRULE:FREQ=MONTHLY;UNTIL=20270530T145959Z".to_owned()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"RRULE:FREQ=MONTHLY;COUNT=4".to_owned()),
        "{lines:#?}"
    );
    let uids: Vec<&String> = lines.iter().filter(|l| l.starts_with("UID:")).collect();
    assert_eq!(uids.len(), 2);
    assert_ne!(uids[0], uids[1]);
}

/// A split keeps the later skipped and changed dates when they are still dates of the new series;
/// deleting this and the following ends the series the day before, and from its first date
/// deletes it.
#[actix_web::test]
async fn following_keeps_later_changes_and_deleting_following_ends_the_series() {
    let Club { app, hanako, .. } = club().await;
    let page = weekly(&app, &hanako).await;
    assert_eq!(
        delete(&app, &hanako, &page, "this", "20270202T010000Z")
            .await
            .status(),
        303
    );
    let res = save(
        &app,
        &hanako,
        &page,
        &[
            ("title", "特別"),
            ("start_date", "2027-02-09"),
            ("start_time", "09:00"),
            ("end_time", "10:00"),
            ("scope", "this"),
            ("at", "20270209T010000Z"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let res = save(
        &app,
        &hanako,
        &page,
        &[
            ("title", "新しい朝練"),
            ("start_date", "2027-01-19"),
            ("repeat", "weekly"),
            ("day_tu", "on"),
            ("scope", "following"),
            ("at", "20270119T010000Z"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let new_page = location(&res);
    let feb = month(&app, &hanako, "2027-02").await;
    assert_eq!(
        agenda(&feb),
        [
            "2027-02-09 09:00–10:00 特別",
            "2027-02-16 10:00–11:00 新しい朝練",
            "2027-02-23 10:00–11:00 新しい朝練",
        ]
    );
    let jan = month(&app, &hanako, "2027-01").await;
    assert_eq!(
        agenda(&jan),
        [
            "2027-01-05 10:00–11:00 朝練",
            "2027-01-12 10:00–11:00 朝練",
            "2027-01-19 10:00–11:00 新しい朝練",
            "2027-01-26 10:00–11:00 新しい朝練",
        ]
    );
    // Deleting the new series from 2027-02-16 on ends it the day before.
    assert_eq!(
        delete(&app, &hanako, &new_page, "following", "20270216T010000Z")
            .await
            .status(),
        303
    );
    let feb = month(&app, &hanako, "2027-02").await;
    assert_eq!(agenda(&feb), ["2027-02-09 09:00–10:00 特別"]);
    let mar = month(&app, &hanako, "2027-03").await;
    assert!(agenda(&mar).is_empty());
    let feed = make_feed(&app, &hanako, "club").await;
    let lines = feed_lines(&app, &feed).await;
    assert!(
        lines.contains(&"RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20270215T145959Z".to_owned()),
        "{lines:#?}"
    );
    assert!(lines.contains(&"RRULE:FREQ=WEEKLY;BYDAY=TU;UNTIL=20270118T145959Z".to_owned()));
    // This and the following from the first date: the whole series.
    assert_eq!(
        delete(&app, &hanako, &page, "following", "20270105T010000Z")
            .await
            .status(),
        303
    );
    assert_eq!(event_count(&app), 1);
}

/// Only who may edit the event changes its dates: another member (not the author), a guest and a
/// non-member get 404 for every scope; an event id used under another room (where the actor is
/// manager) is 404; nothing changes.
#[actix_web::test]
async fn occurrence_changes_need_edit_rights_and_the_events_own_room() {
    let Club {
        app,
        admin,
        hanako,
        guest,
        taro,
    } = club().await;
    let page = weekly(&app, &admin).await;
    let id = page.rsplit('/').next().unwrap().to_owned();
    app.room("other")
        .features(&["calendar"])
        .managed_by("hanako")
        .create(&admin)
        .await;
    let key = "20270112T010000Z";
    let foreign = format!("/rooms/other/calendar/events/{id}");
    for (c, target) in [
        (&hanako, page.as_str()),
        (&guest, page.as_str()),
        (&taro, page.as_str()),
        (&hanako, foreign.as_str()),
    ] {
        for scope in ["this", "following", "all"] {
            assert_eq!(
                get(c, &app, &format!("{target}/edit?scope={scope}&at={key}"))
                    .await
                    .0,
                404,
                "{target} {scope}"
            );
            let res = save(
                &app,
                c,
                target,
                &[
                    ("title", "乗っ取り"),
                    ("start_date", "2027-01-12"),
                    ("repeat", "weekly"),
                    ("day_tu", "on"),
                    ("scope", scope),
                    ("at", key),
                ],
            )
            .await;
            assert_eq!(res.status(), 404, "{target} {scope}");
            let res = app
                .post_form(
                    c,
                    "/me",
                    &format!("{target}/delete"),
                    &[("scope", scope), ("at", key)],
                )
                .await;
            assert_eq!(res.status(), 404, "{target} {scope}");
        }
    }
    assert_eq!(
        get(&hanako, &app, &format!("{foreign}?at={key}")).await.0,
        404
    );
    assert_eq!(event_count(&app), 1);
    assert_eq!(override_count(&app), 0);
    let jan = month(&app, &admin, "2027-01").await;
    assert_eq!(agenda(&jan).len(), 4);
    assert!(!jan.contains("乗っ取り"));
}
