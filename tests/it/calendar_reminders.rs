//! Reminders by mail before events (issue #12): asked for on the event's page, queued through the
//! outbox by the jobs loop's round (`calendar::reminders::send_due`), once per reminder and
//! occurrence however many rounds run at once, never for a deleted date, at the new time of a
//! moved one; only the member's own, only for calendars they read.

use chrono::NaiveDateTime;
use yui::services::calendar::reminders;

use crate::calendar::{Club, club, get};
use crate::calendar_series::{delete, save, weekly};
use crate::support::*;

fn dt(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

/// Two rounds at once (as two `yui serve` processes would run them), both having read what is
/// due before either queued anything: how many mails they queued together.
async fn two_rounds(app: &TestApp, at: &str) -> usize {
    let at = dt(at);
    let due = app.db(|conn| reminders::due(conn, at));
    let rounds: Vec<_> = (0..2)
        .map(|_| {
            let (core, due) = (app.core.clone(), due.clone());
            tokio::task::spawn_blocking(move || {
                reminders::queue_due(&core, &due, at).unwrap_or_else(|e| panic!("round: {e}"))
            })
        })
        .collect();
    let mut total = 0;
    for r in rounds {
        total += r.await.unwrap();
    }
    total
}

fn claims(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    app.db(|conn| {
        Ok(yui::db::schema::event_reminder_sends::table
            .count()
            .get_result::<i64>(conn)?)
    })
}

/// A weekly series with "1 day before": each date is reminded once, by one of two rounds running
/// at the same time and never again; a deleted date is not reminded, a moved one at its new time
/// with its own title; the mail reaches the SMTP sink with the date's time and link.
#[actix_web::test]
async fn each_occurrence_is_reminded_once_even_when_two_rounds_race() {
    let Club { app, hanako, .. } = club().await;
    let page = weekly(&app, &hanako).await;
    let res = app
        .post_form(
            &hanako,
            &page,
            &format!("{page}/reminders"),
            &[("amount", "1"), ("unit", "days")],
        )
        .await;
    assert_eq!(res.status(), 303);
    // The same one again is kept once.
    let res = app
        .post_form(
            &hanako,
            &page,
            &format!("{page}/reminders"),
            &[("amount", "24"), ("unit", "hours")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = get(&hanako, &app, &page).await;
    assert_eq!(html.matches("/reminders/").count(), 1, "{html}");
    // Not due yet: the first date (2027-01-05 10:00 Tokyo = 01:00 UTC) is more than a day away.
    assert_eq!(two_rounds(&app, "2027-01-04 00:59").await, 0);
    assert_eq!(two_rounds(&app, "2027-01-04 02:00").await, 1);
    assert_eq!(
        two_rounds(&app, "2027-01-04 09:00").await,
        0,
        "sent already"
    );
    let mails = app.mails_to("hanako@example.test", "朝練").await;
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].subject.contains("2027-01-05 10:00"),
        "{}",
        mails[0].subject
    );
    assert!(
        mails[0]
            .body
            .contains(&format!("{page}?at=20270105T010000Z")),
        "{}",
        mails[0].body
    );
    // The next week's date, once.
    assert_eq!(two_rounds(&app, "2027-01-11 02:00").await, 1);
    // 2027-01-19 deleted: no reminder. 2027-01-26 moved to the 27th: reminded a day before that.
    assert_eq!(
        delete(&app, &hanako, &page, "this", "20270119T010000Z")
            .await
            .status(),
        303
    );
    let res = save(
        &app,
        &hanako,
        &page,
        &[
            ("title", "振替練習"),
            ("start_date", "2027-01-27"),
            ("scope", "this"),
            ("at", "20270126T010000Z"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    assert_eq!(two_rounds(&app, "2027-01-18 02:00").await, 0);
    assert_eq!(two_rounds(&app, "2027-01-25 02:00").await, 0);
    assert_eq!(two_rounds(&app, "2027-01-26 02:00").await, 1);
    let moved = app.mails_to("hanako@example.test", "振替練習").await;
    assert_eq!(moved.len(), 1);
    assert!(
        moved[0].subject.contains("2027-01-27 10:00"),
        "{}",
        moved[0].subject
    );
    assert_eq!(claims(&app), 3);
    assert_eq!(app.mails_to("hanako@example.test", "").await.len(), 3);
    // Stopped: nothing more.
    let (_, html) = get(&hanako, &app, &page).await;
    let at = html.find("/reminders/").unwrap();
    let id: String = html[at + 11..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let res = app
        .post_form(
            &hanako,
            &page,
            &format!("{page}/reminders/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(two_rounds(&app, "2027-02-01 02:00").await, 0);
}

/// Only readers of the calendar may ask for reminders, only of events of that room, and only
/// their own may be stopped: a non-member, another room's path and another member's reminder are
/// 404; a lead over 28 days is refused; a member who leaves the room gets no more reminders.
#[actix_web::test]
async fn reminders_are_the_members_own_and_follow_the_room() {
    let Club {
        app,
        admin,
        hanako,
        guest,
        taro,
    } = club().await;
    let page = weekly(&app, &hanako).await;
    let id = page.rsplit('/').next().unwrap().to_owned();
    app.room("other")
        .features(&["calendar"])
        .managed_by("taro")
        .create(&admin)
        .await;
    let add = |c: &reqwest::Client, path: String| {
        let c = c.clone();
        let app = &app;
        async move {
            app.post_form(&c, "/me", &path, &[("amount", "1"), ("unit", "days")])
                .await
                .status()
        }
    };
    assert_eq!(add(&taro, format!("{page}/reminders")).await, 404);
    assert_eq!(
        add(
            &taro,
            format!("/rooms/other/calendar/events/{id}/reminders")
        )
        .await,
        404
    );
    // The guest reads the calendar: may be reminded.
    assert_eq!(add(&guest, format!("{page}/reminders")).await, 303);
    assert_eq!(add(&hanako, format!("{page}/reminders")).await, 303);
    let res = app
        .post_form(
            &hanako,
            "/me",
            &format!("{page}/reminders"),
            &[("amount", "29"), ("unit", "days")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let (_, html) = get(&hanako, &app, &page).await;
    assert_eq!(html.matches("/reminders/").count(), 1, "29 days refused");
    // Hanako's reminder: the guest and taro cannot stop it.
    let at = html.find("/reminders/").unwrap();
    let rid: String = html[at + 11..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    for c in [&guest, &taro] {
        let res = app
            .post_form(c, "/me", &format!("{page}/reminders/{rid}/delete"), &[])
            .await;
        assert_eq!(res.status(), 404);
    }
    // The guest leaves (is removed): only hanako is reminded.
    app.db(|conn| {
        use diesel::prelude::*;
        use yui::db::schema::{room_members, users};
        let guest_id: i64 = users::table
            .filter(users::login.eq("guest"))
            .select(users::id)
            .first(conn)?;
        diesel::delete(room_members::table.filter(room_members::user_id.eq(guest_id)))
            .execute(conn)?;
        Ok(())
    });
    assert_eq!(two_rounds(&app, "2027-01-04 02:00").await, 1);
    assert_eq!(app.mails_to("guest@example.test", "").await.len(), 0);
    assert_eq!(app.mails_to("hanako@example.test", "朝練").await.len(), 1);
}
