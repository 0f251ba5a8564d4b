//! Calendar events in a room with approval (承認, issue #12 item 1): who publishes at once and whose
//! events wait, what readers see of a waiting event (nothing: month grid, agenda, week, feed,
//! `/calendar`, `/home`, its page), approving from `/inbox` and sending back with a note, that only
//! the room's own approvers decide, that two approvers at once make one decision, and deletion of
//! what readers were shown.

use crate::calendar::{add_event, get, make_feed};
use crate::support::*;

struct School {
    app: TestApp,
    admin: reqwest::Client,
    manager: reqwest::Client,
    chief: reqwest::Client,
    editor: reqwest::Client,
    member: reqwest::Client,
    guest: reqwest::Client,
    /// The chief editor of another room with approval (`annex`), a plain member of `council`.
    other: reqwest::Client,
}

/// `council`: a closed room with approval, its calendar on, one member of each role; `annex`: a
/// room with approval whose chief editor is `other` (a plain member of `council`); `square`: the
/// same roles as `council` but no approval.
async fn school() -> School {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let manager = app.user("manager").signed_in().await;
    let chief = app.user("chief").signed_in().await;
    let editor = app.user("editor").signed_in().await;
    let member = app.user("member").signed_in().await;
    let guest = app.user("guest").signed_in().await;
    let other = app.user("other").signed_in().await;
    let roles = |slug| {
        app.room(slug)
            .closed()
            .features(&["blog", "calendar"])
            .managed_by("manager")
            .member("chief", "chief_editor")
            .member("editor", "editor")
            .member("member", "member")
            .member("guest", "guest")
    };
    roles("council")
        .with_approval()
        .member("other", "member")
        .create(&admin)
        .await;
    roles("square").create(&admin).await;
    app.room("annex")
        .closed()
        .features(&["calendar"])
        .with_approval()
        .managed_by("manager")
        .member("other", "chief_editor")
        .create(&admin)
        .await;
    School {
        app,
        admin,
        manager,
        chief,
        editor,
        member,
        guest,
        other,
    }
}

fn tomorrow() -> String {
    let tz: chrono_tz::Tz = "Asia/Tokyo".parse().unwrap();
    (chrono::Utc::now().with_timezone(&tz).date_naive() + chrono::Duration::days(1)).to_string()
}

/// Sends the new-event form of `room` for a one-hour event on `date`.
async fn add(
    app: &TestApp,
    c: &reqwest::Client,
    room: &str,
    title: &str,
    date: &str,
) -> reqwest::Response {
    add_event(app, c, room, &[("title", title), ("start_date", date)]).await
}

/// Adds an event and answers its page.
async fn added(app: &TestApp, c: &reqwest::Client, room: &str, title: &str, date: &str) -> String {
    let res = add(app, c, room, title, date).await;
    assert_eq!(res.status(), 303, "{title}");
    location(&res)
}

/// The approval state of the event whose page is `page`.
fn state_of(app: &TestApp, page: &str) -> (String, String, bool) {
    use diesel::prelude::*;
    use yui::db::schema::events;
    let id: i64 = page.rsplit('/').next().unwrap().parse().unwrap();
    app.db(|conn| {
        Ok(events::table
            .find(id)
            .select((
                events::approval,
                events::approval_note,
                events::ever_published,
            ))
            .first(conn)?)
    })
}

async fn decide(
    app: &TestApp,
    c: &reqwest::Client,
    page: &str,
    what: &str,
    note: &str,
) -> reqwest::Response {
    app.post_form(
        c,
        "/inbox",
        &format!("{page}/{what}"),
        &[("note", note), ("back", "inbox")],
    )
    .await
}

/// Who publishes at once and whose events wait, in a room with approval and in one without; who
/// may approve (the room's manager and chief editor, a site admin) and who may not (404).
#[actix_web::test]
async fn who_publishes_events_and_who_waits_and_who_approves() {
    let s = school().await;
    let day = tomorrow();
    let cases: [(&str, &reqwest::Client, &str); 6] = [
        ("admin", &s.admin, "published"),
        ("manager", &s.manager, "published"),
        ("chief", &s.chief, "published"),
        ("editor", &s.editor, "pending"),
        ("member", &s.member, "pending"),
        ("other", &s.other, "pending"),
    ];
    for (who, c, state) in cases {
        let page = added(&s.app, c, "council", &format!("{who}の予定"), &day).await;
        let (approval, _, ever) = state_of(&s.app, &page);
        assert_eq!(approval, state, "{who} in council");
        assert_eq!(ever, state == "published", "{who}: shown under approval");
        // Without approval everyone who may write publishes.
        if who != "other" && who != "admin" {
            let page = added(&s.app, c, "square", &format!("{who}の広場"), &day).await;
            assert_eq!(state_of(&s.app, &page).0, "published", "{who} in square");
        }
    }
    assert_eq!(
        add(&s.app, &s.guest, "council", "ゲスト", &day)
            .await
            .status(),
        404,
        "guests add nothing"
    );
    // Deciding: only those who may publish in the room.
    for (who, c, expected) in [
        ("guest", &s.guest, 404),
        ("member", &s.member, 404),
        ("editor", &s.editor, 404),
        ("other", &s.other, 404),
        ("chief", &s.chief, 303),
        ("manager", &s.manager, 303),
        ("admin", &s.admin, 303),
    ] {
        let page = added(&s.app, &s.member, "council", &format!("{who}が判断"), &day).await;
        let res = decide(&s.app, c, &page, "approve", "").await;
        assert_eq!(res.status(), expected, "{who} approves");
        let page = added(
            &s.app,
            &s.editor,
            "council",
            &format!("{who}が差し戻し"),
            &day,
        )
        .await;
        let res = decide(&s.app, c, &page, "send-back", "理由").await;
        assert_eq!(res.status(), expected, "{who} sends back");
    }
    s.app.outbox_drained().await;
}

/// A waiting event shows to nobody but its author and the approvers: not in the month grid, the
/// agenda, the week, the feed, `/calendar`, `/home` or its page (404, also as `.ics`) for a
/// reader; the author and the chief editor see it marked 承認待ち. Approved from `/inbox`, it is
/// everywhere, and its author is told by mail.
#[actix_web::test]
async fn a_waiting_event_shows_only_to_its_author_and_approvers_until_approved() {
    let s = school().await;
    let app = &s.app;
    let day = tomorrow();
    let month = format!("?month={}", &day[..7]);
    let feed = make_feed(app, &s.guest, "council").await;
    let page = added(app, &s.editor, "council", "保護者会", &day).await;
    let flash = get(&s.editor, app, &page).await.1;
    assert!(
        flash.contains("あなたと承認者だけ"),
        "the author is told it waits"
    );
    let views = [
        format!("/rooms/council/calendar{month}"),
        format!("/rooms/council/calendar/week?date={day}"),
        format!("/calendar{month}"),
        format!("/calendar/week?date={day}"),
        "/home".to_owned(),
    ];
    let sees = async |c: &reqwest::Client| {
        let mut seen = Vec::new();
        for v in &views {
            let (status, html) = get(c, app, v).await;
            assert_eq!(status, 200, "{v}");
            seen.push(html.contains("保護者会"));
        }
        seen
    };
    let feed_has = async || {
        let body = reqwest::get(app.url(&feed))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        body.contains("保護者会")
    };
    for reader in [&s.guest, &s.member] {
        assert_eq!(sees(reader).await, [false; 5], "a reader sees nothing");
        assert_eq!(get(reader, app, &page).await.0, 404);
        assert_eq!(get(reader, app, &format!("{page}/event.ics")).await.0, 404);
        let res = app
            .post_form(
                reader,
                "/home",
                &format!("{page}/reminders"),
                &[("amount", "1"), ("unit", "days")],
            )
            .await;
        assert_eq!(res.status(), 404, "no reminder of what one cannot see");
    }
    assert!(!feed_has().await, "feeds carry what readers see");
    for approver_or_author in [&s.editor, &s.chief, &s.manager, &s.admin] {
        assert_eq!(sees(approver_or_author).await, [true; 5]);
        let (status, html) = get(approver_or_author, app, &page).await;
        assert_eq!(status, 200);
        assert!(html.contains("承認待ち"));
    }
    let (_, grid) = get(&s.editor, app, &views[0]).await;
    assert!(grid.contains("badge waiting"), "marked in the grid");
    // The approvers are asked by mail (manager and chief editor, not the author, not a member).
    let mail = app
        .smtp
        .wait_for_subject("chief@example.test", "承認待ちの予定")
        .await;
    assert!(mail.body.contains("保護者会") && mail.body.contains(&app.url("/inbox")));
    app.smtp
        .wait_for_subject("manager@example.test", "承認待ちの予定")
        .await;
    for silent in [
        "editor@example.test",
        "member@example.test",
        "guest@example.test",
    ] {
        assert!(
            app.mails_to(silent, "承認待ち").await.is_empty(),
            "{silent}"
        );
    }
    // The navigation counts it; the inbox lists it with its buttons (no JavaScript needed).
    let badge = "aria-label=\"承認待ち 1 件\"";
    assert!(get(&s.chief, app, "/rooms").await.1.contains(badge));
    assert!(get(&s.admin, app, "/rooms").await.1.contains(badge));
    assert!(
        !get(&s.member, app, "/rooms")
            .await
            .1
            .contains("href=\"/inbox\"")
    );
    assert!(!get(&s.other, app, "/inbox").await.1.contains("保護者会"));
    let (_, inbox) = get(&s.chief, app, "/inbox").await;
    assert!(inbox.contains("保護者会") && inbox.contains(&format!("{page}/approve")));
    let res = decide(app, &s.chief, &page, "approve", "").await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/inbox");
    assert!(!get(&s.chief, app, "/rooms").await.1.contains(badge));
    for reader in [&s.guest, &s.member] {
        assert_eq!(sees(reader).await, [true; 5], "everywhere once approved");
        let (status, html) = get(reader, app, &page).await;
        assert_eq!(status, 200);
        assert!(!html.contains("承認待ち"));
    }
    assert!(feed_has().await);
    let mail = app
        .smtp
        .wait_for_subject("editor@example.test", "承認されました")
        .await;
    assert!(mail.body.contains("保護者会") && mail.body.contains(&app.url(&page)));
    // Decided: a second approval is refused and changes nothing.
    assert_eq!(
        decide(app, &s.manager, &page, "approve", "").await.status(),
        409
    );
    assert_eq!(
        state_of(app, &page),
        ("published".into(), String::new(), true)
    );
}

/// Sent back with a note, the event stays hidden from readers; its author sees the note on its
/// page and by mail; a note is required. Editing it sends it for approval again; editing an
/// approved event by someone whose saves wait puts it back to waiting too.
#[actix_web::test]
async fn a_sent_back_event_shows_its_note_to_its_author_and_waits_again_when_edited() {
    let s = school().await;
    let app = &s.app;
    let day = tomorrow();
    let page = added(app, &s.member, "council", "清掃活動", &day).await;
    let res = decide(app, &s.chief, &page, "send-back", "  ").await;
    assert_eq!(res.status(), 303);
    assert_eq!(state_of(app, &page).0, "pending", "no note, no decision");
    let res = decide(app, &s.chief, &page, "send-back", "場所を書いてください").await;
    assert_eq!(res.status(), 303);
    assert_eq!(state_of(app, &page).0, "sent_back");
    assert_eq!(
        get(&s.guest, app, &page).await.0,
        404,
        "still not for readers"
    );
    let (status, html) = get(&s.member, app, &page).await;
    assert_eq!(status, 200);
    assert!(html.contains("差し戻し") && html.contains("場所を書いてください"));
    assert!(!get(&s.chief, app, "/inbox").await.1.contains("清掃活動"));
    let mail = app
        .smtp
        .wait_for_subject("member@example.test", "差し戻されました")
        .await;
    assert!(mail.body.contains("場所を書いてください"));
    // The author edits it: it waits again and is back in the inbox.
    let res = app
        .post_form(
            &s.member,
            &page,
            &page,
            &[
                ("title", "清掃活動"),
                ("place", "校庭"),
                ("start_date", &day),
                ("start_time", "10:00"),
                ("end_time", "11:00"),
                ("repeat", "never"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        state_of(app, &page),
        ("pending".into(), String::new(), false)
    );
    assert!(get(&s.chief, app, "/inbox").await.1.contains("清掃活動"));
    assert_eq!(
        decide(app, &s.chief, &page, "approve", "").await.status(),
        303
    );
    assert_eq!(get(&s.guest, app, &page).await.0, 200);
    // An editor changes the approved event (editors edit others' events): it waits again, hidden
    // from readers until approved, and readers have seen it, so only an approver deletes it.
    let res = app
        .post_form(
            &s.editor,
            &page,
            &page,
            &[
                ("title", "清掃活動（雨天中止）"),
                ("start_date", &day),
                ("start_time", "10:00"),
                ("end_time", "11:00"),
                ("repeat", "never"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        state_of(app, &page),
        ("pending".into(), String::new(), true)
    );
    assert_eq!(get(&s.guest, app, &page).await.0, 404);
    for c in [&s.member, &s.editor] {
        let res = app
            .post_form(c, &page, &format!("{page}/delete"), &[])
            .await;
        assert_eq!(
            res.status(),
            404,
            "shown once: deleting needs publish rights"
        );
    }
    let res = app
        .post_form(&s.chief, &page, &format!("{page}/delete"), &[])
        .await;
    assert_eq!(res.status(), 303);
    // Never shown to readers: its author deletes it.
    let never = added(app, &s.member, "council", "取り消す予定", &day).await;
    let res = app
        .post_form(&s.member, &never, &format!("{never}/delete"), &[])
        .await;
    assert_eq!(res.status(), 303);
    app.outbox_drained().await;
}

/// Only the room's own approvers decide: the chief editor of another room gets 404 with the
/// event's id under either room's address, and nothing changes.
#[actix_web::test]
async fn an_approver_of_another_room_cannot_decide_by_a_forged_id() {
    let s = school().await;
    let app = &s.app;
    let page = added(app, &s.member, "council", "職員会議", &tomorrow()).await;
    let id = page.rsplit('/').next().unwrap().to_owned();
    for target in [
        format!("/rooms/council/calendar/events/{id}"),
        format!("/rooms/annex/calendar/events/{id}"),
    ] {
        for what in ["approve", "send-back"] {
            let res = decide(app, &s.other, &target, what, "だめ").await;
            assert_eq!(res.status(), 404, "{target} {what}");
        }
    }
    assert_eq!(state_of(app, &page).0, "pending");
    // The annex's own approver decides the annex's events.
    let annex = added(app, &s.admin, "annex", "別室の予定", &tomorrow()).await;
    assert_eq!(state_of(app, &annex).0, "published");
    app.outbox_drained().await;
}

/// Two approvers approving the same event at once: one approval, one mail to the author, one audit
/// record; the other is told it was decided already (409). On PostgreSQL the second update waits
/// for the first and then finds nothing waiting.
#[actix_web::test]
async fn two_approvers_at_once_make_one_approval_and_one_mail() {
    use diesel::prelude::*;
    use yui::db::schema::audit_log;
    let s = school().await;
    let app = &s.app;
    for round in 0..3 {
        let title = format!("同時承認{round}");
        let page = added(app, &s.member, "council", &title, &tomorrow()).await;
        let path = format!("{page}/approve");
        let (ta, tb) = (
            app.csrf(&s.chief, "/inbox").await,
            app.csrf(&s.manager, "/inbox").await,
        );
        let send = |c: &reqwest::Client, token: String| {
            c.post(app.url(&path))
                .form(&[("_csrf", token), ("back", "inbox".to_owned())])
                .send()
        };
        let (a, b) = tokio::join!(send(&s.chief, ta), send(&s.manager, tb));
        let mut codes = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
        codes.sort_unstable();
        assert_eq!(codes, [303, 409], "{title}");
        let mails = app.mails_to("member@example.test", &title).await;
        assert_eq!(
            mails
                .iter()
                .filter(|m| m.subject.contains("承認されました"))
                .count(),
            1,
            "{title}"
        );
        assert_eq!(state_of(app, &page).0, "published");
    }
    let approvals: i64 = app.db(|conn| {
        Ok(audit_log::table
            .filter(audit_log::action.eq("event.approved"))
            .count()
            .get_result(conn)?)
    });
    assert_eq!(approvals, 3);
}

/// A waiting event reminds nobody (its author may set a reminder; it is due once approved).
#[actix_web::test]
async fn a_waiting_event_reminds_nobody_until_approved() {
    let s = school().await;
    let app = &s.app;
    let page = added(app, &s.member, "council", "遠足", "2027-01-05").await;
    let res = app
        .post_form(
            &s.member,
            &page,
            &format!("{page}/reminders"),
            &[("amount", "1"), ("unit", "days")],
        )
        .await;
    assert_eq!(res.status(), 303, "the author sees it and may set one");
    // 2027-01-05 10:00 Tokyo = 01:00 UTC; a day before is due at 2027-01-04 02:00 UTC.
    let at = chrono::NaiveDateTime::parse_from_str("2027-01-04 02:00", "%Y-%m-%d %H:%M").unwrap();
    let due = || app.db(|conn| Ok(yui::services::calendar::reminders::due(conn, at)?.len()));
    assert_eq!(due(), 0, "waiting: nothing due");
    assert_eq!(
        decide(app, &s.chief, &page, "approve", "").await.status(),
        303
    );
    assert_eq!(due(), 1, "approved: due");
    app.outbox_drained().await;
}
