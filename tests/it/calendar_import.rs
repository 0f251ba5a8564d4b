//! Importing an `.ics` file into a room's calendar (issue #12 item 4): all or nothing with a report
//! naming each event's problem, the same file twice adds nothing, and only those who may add
//! events to the room may import.

use crate::calendar::{Club, club, get, make_feed};
use crate::calendar_series::{agenda, month};
use crate::support::*;

/// A calendar as Google exports one: CRLF, a VTIMEZONE, a weekly series with a date excluded, an
/// all-day day, a UTC time, escaped commas and a folded line.
const GOOD: &str = "BEGIN:VCALENDAR\r\n\
VERSION:2.0\r\n\
PRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n\
X-WR-TIMEZONE:Asia/Tokyo\r\n\
BEGIN:VTIMEZONE\r\n\
TZID:Asia/Tokyo\r\n\
BEGIN:STANDARD\r\n\
TZOFFSETFROM:+0900\r\n\
TZOFFSETTO:+0900\r\n\
TZNAME:JST\r\n\
DTSTART:19700101T000000\r\n\
END:STANDARD\r\n\
END:VTIMEZONE\r\n\
BEGIN:VEVENT\r\n\
DTSTART;TZID=Asia/Tokyo:20270105T073000\r\n\
DTEND;TZID=Asia/Tokyo:20270105T083000\r\n\
RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=4\r\n\
EXDATE;TZID=Asia/Tokyo:20270112T073000\r\n\
UID:practice-1@google.com\r\n\
SUMMARY:朝練\\, 体育館\r\n\
LOCATION:第一体育館\r\n\
DESCRIPTION:持ち物: 上履き\\nタオル\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\n\
DTSTART;VALUE=DATE:20270120\r\n\
DTEND;VALUE=DATE:20270121\r\n\
UID:closed-1@google.com\r\n\
SUMMARY:臨時休校\r\n\
END:VEVENT\r\n\
BEGIN:VEVENT\r\n\
DTSTART:20270127T100000Z\r\n\
DTEND:20270127T113000Z\r\n\
UID:meeting-1@google.com\r\n\
SUMMARY:保護者会（オンライン）とても長い題名が七十五オクテットを超えて折り返され\r\n \
る場合\r\n\
END:VEVENT\r\n\
END:VCALENDAR\r\n";

async fn import(app: &TestApp, c: &reqwest::Client, room: &str, ics: &[u8]) -> (u16, String) {
    let token = app.csrf(c, &format!("/rooms/{room}/calendar")).await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(ics.to_vec()).file_name("calendar.ics"),
    );
    let res = c
        .post(app.url(&format!("/rooms/{room}/calendar/import?_csrf={token}")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn event_count(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    app.db(|conn| {
        Ok(yui::db::schema::events::table
            .count()
            .get_result::<i64>(conn)?)
    })
}

#[actix_web::test]
async fn a_calendar_file_is_imported_whole_once_and_shows_in_the_month() {
    let Club {
        app,
        hanako,
        guest,
        taro,
        ..
    } = club().await;
    let (status, page) = get(&hanako, &app, "/rooms/club/calendar").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("/rooms/club/calendar/import?_csrf="),
        "the form"
    );

    let (status, page) = import(&app, &hanako, "club", GOOD.as_bytes()).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("3 件の予定を取り込みました。"), "{page}");
    let jan = month(&app, &hanako, "2027-01").await;
    assert_eq!(
        agenda(&jan),
        [
            "2027-01-05 07:30–08:30 朝練, 体育館",
            "2027-01-19 07:30–08:30 朝練, 体育館",
            "2027-01-20 終日 臨時休校",
            "2027-01-26 07:30–08:30 朝練, 体育館",
            "2027-01-27 19:00–20:30 保護者会（オンライン）とても長い題名が七十五オクテットを超えて折り返される場合",
        ],
        "the 12th excluded, UTC shown in Tokyo, the folded title whole"
    );
    assert_eq!(event_count(&app), 3);

    // The same file again: nothing new.
    let (status, page) = import(&app, &hanako, "club", GOOD.as_bytes()).await;
    assert_eq!(status, 200);
    assert!(
        page.contains("0 件の予定を取り込みました。") && page.contains("3 件はすでに"),
        "{page}"
    );
    assert_eq!(event_count(&app), 3);

    // Who may not add events may not import: a guest, someone outside the closed room.
    for (who, c) in [("guest", &guest), ("taro", &taro)] {
        let (status, _) = import(&app, c, "club", GOOD.as_bytes()).await;
        assert!(matches!(status, 403 | 404), "{who}: {status}");
    }
    assert_eq!(event_count(&app), 3);
}

/// One good event and four bad ones: nothing is imported and the page names each bad one.
#[actix_web::test]
async fn a_file_with_any_bad_event_imports_nothing_and_says_why() {
    let Club { app, hanako, .. } = club().await;
    let event =
        |uid: &str, body: &str| format!("BEGIN:VEVENT\r\nUID:{uid}\r\n{body}END:VEVENT\r\n");
    let ics = [
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n".to_owned(),
        event("ok", "SUMMARY:よい予定\r\nDTSTART:20270105T010000Z\r\nDTEND:20270105T020000Z\r\n"),
        event(
            "rule",
            "SUMMARY:毎月1日と15日\r\nDTSTART:20270101T010000Z\r\nDTEND:20270101T020000Z\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=1,15\r\n",
        ),
        event(
            "zone",
            "SUMMARY:火星時間\r\nDTSTART;TZID=Mars/Olympus:20270105T100000\r\nDTEND;TZID=Mars/Olympus:20270105T110000\r\n",
        ),
        event(
            "backwards",
            "SUMMARY:逆さま\r\nDTSTART:20270105T100000Z\r\nDTEND:20270105T090000Z\r\n",
        ),
        event("nostart", "SUMMARY:いつ？\r\n"),
        "END:VCALENDAR\r\n".to_owned(),
    ]
    .concat();
    let (status, page) = import(&app, &hanako, "club", ics.as_bytes()).await;
    assert_eq!(status, 422, "{page}");
    for expected in [
        "何も取り込みませんでした",
        "2 件目の予定 「毎月1日と15日」: この繰り返し方は",
        "3 件目の予定 「火星時間」: タイムゾーンが分かりません。",
        "4 件目の予定 「逆さま」:",
        "5 件目の予定 「いつ？」: 開始日時（DTSTART）がありません。",
    ] {
        assert!(page.contains(expected), "{expected}\n{page}");
    }
    assert!(
        !page.contains("1 件目の予定"),
        "the good one is not a problem"
    );
    assert_eq!(event_count(&app), 0, "not even the good one");

    for (bytes, reason) in [
        (
            b"hello, not a calendar".to_vec(),
            "iCalendar（.ics）ファイルとして読めません。",
        ),
        (
            b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n".to_vec(),
            "ファイルに予定（VEVENT）がありません。",
        ),
        (vec![b'A'; 1024 * 1024 + 10], "ファイルが大きすぎます"),
        (
            vec![0xff, 0xfe, 0x00],
            "iCalendar（.ics）ファイルとして読めません。",
        ),
    ] {
        let (status, page) = import(&app, &hanako, "club", &bytes).await;
        assert_eq!(status, 422, "{reason}");
        assert!(page.contains(reason), "{reason}\n{page}");
    }
    assert_eq!(event_count(&app), 0);
}

/// Yui's own feed of one room imports into another as the same dates (what a member does when a
/// group moves to a new room).
#[actix_web::test]
async fn a_room_s_feed_imports_into_another_room_as_the_same_dates() {
    let Club {
        app, admin, hanako, ..
    } = club().await;
    app.room("club2")
        .closed()
        .features(&["blog", "calendar"])
        .managed_by("manager")
        .member("hanako", "member")
        .create(&admin)
        .await;
    let (status, _) = import(&app, &hanako, "club", GOOD.as_bytes()).await;
    assert_eq!(status, 200);
    let feed = make_feed(&app, &hanako, "club").await;
    let ics = app
        .client()
        .get(app.url(&feed))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let (status, page) = import(&app, &hanako, "club2", &ics).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("3 件の予定を取り込みました。"), "{page}");
    let (_, club2) = get(&hanako, &app, "/rooms/club2/calendar?month=2027-01").await;
    assert_eq!(
        agenda(&club2),
        agenda(&month(&app, &hanako, "2027-01").await)
    );
}

/// The same file sent four times at once: its events are there once. On SQLite the imports queue
/// (the later ones skip what the first added); on PostgreSQL a later one may meet the first's
/// `UID`s at the unique index and is refused whole (409), never half-written.
#[actix_web::test]
async fn the_same_file_imported_four_times_at_once_is_there_once() {
    let Club { app, hanako, .. } = club().await;
    let (a, b, c, d) = tokio::join!(
        import(&app, &hanako, "club", GOOD.as_bytes()),
        import(&app, &hanako, "club", GOOD.as_bytes()),
        import(&app, &hanako, "club", GOOD.as_bytes()),
        import(&app, &hanako, "club", GOOD.as_bytes()),
    );
    let answers = [a, b, c, d];
    for (status, page) in &answers {
        assert!(matches!(status, 200 | 409), "{status}: {page}");
    }
    let added: Vec<&String> = answers
        .iter()
        .filter(|(s, p)| *s == 200 && p.contains("3 件の予定を取り込みました。"))
        .map(|(_, p)| p)
        .collect();
    assert_eq!(added.len(), 1, "exactly one import added the events");
    assert_eq!(event_count(&app), 3);
}
