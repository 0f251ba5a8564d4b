//! The real `yui` binary: account commands, `check`, `demo`, and `serve` (first-run link, health,
//! clean shutdown on SIGTERM).

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use yui::db::schema::{events, facilities, post_revisions, room_posts, rooms, users};

/// What the demo accounts get: it must pass the password rule for every one of them.
const DEMO_PASSWORD: &str = "tea at the old station";

pub(crate) fn yui(data: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yui"));
    c.arg("--data-dir")
        .arg(data)
        .env_remove("YUI_DATABASE_URL")
        .env_remove("YUI_CONFIG");
    c
}

pub(crate) fn run(cmd: &mut Command, stdin: Option<&str>) -> (bool, String) {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    } else {
        drop(child.stdin.take());
    }
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn open(data: &std::path::Path) -> yui::db::DbConn {
    yui::db::establish(&format!("sqlite://{}", data.join("yui.db").display())).unwrap()
}

#[test]
fn account_commands_create_reset_and_disable() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = run(
        yui(dir.path()).args([
            "user",
            "create",
            "boss",
            "--email",
            "boss@example.test",
            "--admin",
            "--password-stdin",
        ]),
        Some("a long enough password\n"),
    );
    assert!(ok, "{out}");
    assert!(out.contains("created boss (admin)"), "{out}");
    let (ok, out) = run(
        yui(dir.path()).args(["user", "create", "boss", "--email", "other@example.test"]),
        None,
    );
    assert!(
        !ok && out.contains("login_taken"),
        "a taken login is refused: {out}"
    );
    let (ok, out) = run(
        yui(dir.path()).args([
            "user",
            "create",
            "weak",
            "--email",
            "w@example.test",
            "--password-stdin",
        ]),
        Some("short\n"),
    );
    assert!(!ok && out.contains("at least 8"), "{out}");
    let (ok, out) = run(
        yui(dir.path()).args(["user", "reset-password", "boss"]),
        None,
    );
    assert!(ok, "{out}");
    let generated = out
        .lines()
        .find_map(|l| l.strip_prefix("password: "))
        .expect("a generated password is printed")
        .to_owned();
    let hash: String = users::table
        .filter(users::login.eq("boss"))
        .select(users::password_hash)
        .first(&mut open(dir.path()))
        .unwrap();
    assert!(yui::services::password::verify_now(&generated, &hash));
    let (ok, out) = run(yui(dir.path()).args(["user", "disable", "boss"]), None);
    assert!(ok, "{out}");
    let disabled: bool = users::table
        .filter(users::login.eq("boss"))
        .select(users::disabled)
        .first(&mut open(dir.path()))
        .unwrap();
    assert!(disabled);
    let (ok, out) = run(yui(dir.path()).args(["user", "disable", "ghost"]), None);
    assert!(!ok && out.contains("not found"), "{out}");
}

/// The demo's facilities have bookings, one of them waiting for approval.
fn assert_demo_facilities(conn: &mut yui::db::DbConn) {
    let n: i64 = facilities::table.count().get_result(conn).unwrap();
    assert_eq!(n, 3);
    let states: Vec<String> = events::table
        .filter(events::facility_id.is_not_null())
        .select(events::booking_state)
        .load(conn)
        .unwrap();
    assert_eq!(states.len(), 4, "{states:?}");
    assert!(states.contains(&"pending".to_owned()), "{states:?}");
}

/// The demo manager may start a drill in every room, and every cabinet has sample files.
fn assert_demo_rooms_ready(conn: &mut yui::db::DbConn) {
    let manager: i64 = users::table
        .filter(users::login.eq("manager"))
        .select(users::id)
        .first(conn)
        .unwrap();
    let rooms: i64 = rooms::table.count().get_result(conn).unwrap();
    let officer_of = yui::models::room::officer_rooms(conn, manager).unwrap();
    assert_eq!(officer_of.len(), usize::try_from(rooms).unwrap());
    let music: i64 = yui::db::schema::files::table
        .filter(yui::db::schema::files::content_type.like("audio/%"))
        .filter(yui::db::schema::files::title.is_not_null())
        .count()
        .get_result(conn)
        .unwrap();
    let demo_rooms: i64 = rooms::table
        .filter(rooms::space.ne("public"))
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(
        music,
        3 * demo_rooms,
        "a tagged music folder in each demo room (the public space starts empty)"
    );
}

/// Every demo member is reachable at once: the account email verified, and `member` has a verified
/// phone address beside it.
fn assert_demo_members_reachable(conn: &mut yui::db::DbConn) {
    let ids: Vec<(String, i64)> = users::table
        .select((users::login, users::id))
        .load(conn)
        .unwrap();
    for (login, id) in &ids {
        let addrs = yui::services::reachability::safety_addresses(conn, *id).unwrap();
        let expected = if login == "member" {
            vec![
                format!("{login}@example.com"),
                "member.phone@example.com".to_owned(),
            ]
        } else {
            vec![format!("{login}@example.com")]
        };
        assert_eq!(addrs, expected);
    }
    let unverified: i64 = users::table
        .left_join(
            yui::db::schema::contact_addresses::table.on(
                yui::db::schema::contact_addresses::user_id
                    .eq(users::id)
                    .and(yui::db::schema::contact_addresses::verified_at.is_not_null()),
            ),
        )
        .filter(yui::db::schema::contact_addresses::id.is_null())
        .count()
        .get_result(conn)
        .unwrap();
    assert_eq!(unverified, 0, "every demo account has a verified address");
}

#[test]
fn check_and_demo_fill_an_empty_site() {
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = run(yui(dir.path()).arg("check"), None);
    assert!(
        ok && out.contains("writable: yes") && out.contains("Sqlite"),
        "{out}"
    );
    let (ok, out) = run(
        yui(dir.path()).args(["demo", "--password", DEMO_PASSWORD, "--posts", "30"]),
        None,
    );
    assert!(ok, "{out}");
    let mut conn = open(dir.path());
    // The sample blog is the public space's: 30 posts, live, each with a public address.
    let blog = room_posts::table
        .inner_join(rooms::table)
        .inner_join(
            post_revisions::table
                .on(room_posts::live_revision_id.eq(post_revisions::id.nullable())),
        )
        .filter(rooms::space.eq("public"))
        .filter(room_posts::slug.is_not_null());
    let n: i64 = blog.count().get_result(&mut conn).unwrap();
    assert_eq!(n, 30);
    let japanese: i64 = blog
        .filter(post_revisions::title.like("%回）"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert!(japanese > 10, "mostly Japanese sample posts");
    let logins: Vec<String> = users::table
        .order(users::login)
        .select(users::login)
        .load(&mut conn)
        .unwrap();
    assert_eq!(
        logins,
        [
            "admin", "chief", "editor", "guest", "hanako", "manager", "member", "outsider"
        ]
    );
    let rooms: Vec<(String, String, String)> = rooms::table
        .order(rooms::slug)
        .select((rooms::slug, rooms::visibility, rooms::state))
        .load(&mut conn)
        .unwrap();
    for vis in ["public", "members", "closed"] {
        assert!(
            rooms.iter().any(|(_, v, _)| v == vis),
            "a {vis} room: {rooms:?}"
        );
    }
    assert!(
        rooms.iter().any(|(_, _, s)| s == "preparing"),
        "a room under preparation"
    );
    let outsider_rooms: i64 = yui::db::schema::room_members::table
        .inner_join(users::table)
        .filter(users::login.eq("outsider"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(outsider_rooms, 0);
    let managers: i64 = yui::db::schema::room_members::table
        .filter(yui::db::schema::room_members::role.eq("manager"))
        .count()
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(
        managers,
        i64::try_from(rooms.len()).unwrap(),
        "every room has its manager"
    );
    let statuses: Vec<String> = post_revisions::table
        .select(post_revisions::status)
        .load(&mut conn)
        .unwrap();
    assert!(
        statuses.iter().filter(|s| *s == "published").count() >= 4,
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&"pending".to_owned()),
        "one waits in the chief editor's inbox"
    );
    assert!(
        statuses.contains(&"sent_back".to_owned()),
        "one was sent back with a note"
    );
    assert_demo_members_reachable(&mut conn);
    assert_demo_rooms_ready(&mut conn);
    assert_demo_facilities(&mut conn);
    let (ok, out) = run(
        yui(dir.path()).args(["demo", "--password", DEMO_PASSWORD]),
        None,
    );
    assert!(!ok && out.contains("only fills an empty site"), "{out}");
    let (ok, out) = run(
        yui(dir.path()).args(["--database-url", "mysql://x", "check"]),
        None,
    );
    assert!(!ok && out.contains("unsupported database URL"), "{out}");
}

#[test]
fn serve_prints_the_setup_link_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = yui(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first
        .rsplit("listening on ")
        .next()
        .unwrap()
        .trim_end_matches(')')
        .to_owned();
    let _ = lines.next();
    let link = lines.next().unwrap().unwrap();
    assert!(link.trim().contains("/setup?token="), "{link}");
    let token = link.rsplit("token=").next().unwrap().trim().to_owned();
    assert!(token.len() >= 43);

    let deadline = Instant::now() + Duration::from_secs(10);
    let health = loop {
        if let Ok(mut s) = std::net::TcpStream::connect(&addr) {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .unwrap();
            let mut buf = String::new();
            std::io::Read::read_to_string(&mut s, &mut buf).unwrap();
            break buf;
        }
        assert!(Instant::now() < deadline, "server did not answer");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(
        !health.to_lowercase().contains("\nserver:"),
        "no version banner"
    );

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(15);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "serve did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "clean exit on SIGTERM: {exit:?}");
}

/// An event row as `demo_fills_calendars_for_the_benchmark` reads it: room, start, end, all-day,
/// RRULE, EXDATE, facility, approval.
type Row = (
    i64,
    chrono::NaiveDateTime,
    chrono::NaiveDateTime,
    bool,
    String,
    String,
    Option<i64>,
    String,
);

/// `demo --rooms --events --facilities` (#12's benchmark data) makes what it says, on the suite's
/// backend: closed calendar rooms managed by `manager` with `member` in exactly 30 of them; the
/// events round-robin over the rooms, a quarter of them series of every kind (daily, weekly,
/// monthly by date and by weekday, yearly; until, count and endless), some with a skipped or a
/// changed occurrence, all-day and multi-day events, over the two years around today; the
/// facilities, each with its 60 reservations (a quarter of them weekly series), none refused.
#[test]
fn demo_fills_calendars_for_the_benchmark() {
    let dir = tempfile::tempdir().unwrap();
    let (_pg, url) = crate::support::scratch_database(dir.path());
    let (ok, out) = run(
        yui(dir.path())
            .args(["--database-url", &url, "demo", "--password", DEMO_PASSWORD])
            .args(["--posts", "1", "--events", "40"]),
        None,
    );
    assert!(!ok && out.contains("give --rooms too"), "{out}");
    let (ok, out) = run(
        yui(dir.path())
            .args(["--database-url", &url, "demo", "--password", DEMO_PASSWORD])
            .args([
                "--posts",
                "1",
                "--rooms",
                "31",
                "--events",
                "160",
                "--facilities",
                "2",
            ]),
        None,
    );
    assert!(ok, "{out}");
    assert!(
        out.contains(
            "calendar rooms: 31, events: 160 (40 series), facilities: 2 with 120 reservations"
        ),
        "{out}"
    );
    let mut conn = yui::db::establish(&url).unwrap();
    let ids = assert_bench_rooms(&mut conn);
    assert_bench_events(&mut conn, &ids);
}

/// The 31 calendar rooms: closed, with a calendar, `manager` manages each, `member` is in 30.
fn assert_bench_rooms(conn: &mut yui::db::DbConn) -> Vec<i64> {
    use yui::db::schema::room_members;
    let bench: Vec<(i64, String, String, String)> = rooms::table
        .filter(rooms::slug.like("cal-%"))
        .order(rooms::slug)
        .select((rooms::id, rooms::slug, rooms::visibility, rooms::features))
        .load(conn)
        .unwrap();
    assert_eq!(bench.len(), 31);
    assert_eq!(
        (bench[0].1.as_str(), bench[30].1.as_str()),
        ("cal-001", "cal-031")
    );
    assert!(
        bench
            .iter()
            .all(|(_, _, v, f)| v == "closed" && f.contains("calendar")),
        "{bench:?}"
    );
    let ids: Vec<i64> = bench.iter().map(|r| r.0).collect();
    let roles = |login: &str, conn: &mut yui::db::DbConn| -> Vec<(String, String)> {
        room_members::table
            .inner_join(users::table)
            .inner_join(rooms::table)
            .filter(users::login.eq(login))
            .filter(room_members::room_id.eq_any(&ids))
            .order(rooms::slug)
            .select((rooms::slug, room_members::role))
            .load(conn)
            .unwrap()
    };
    let member = roles("member", conn);
    assert_eq!(member.len(), 30, "member belongs to 30 of them");
    assert!(
        member.iter().all(|(s, r)| r == "member" && s != "cal-031"),
        "{member:?}"
    );
    let manager = roles("manager", conn);
    assert!(
        manager.len() == 31 && manager.iter().all(|(_, r)| r == "manager"),
        "{manager:?}"
    );
    ids
}

/// The events of the calendar rooms (see `demo_fills_calendars_for_the_benchmark`).
fn assert_bench_events(conn: &mut yui::db::DbConn, ids: &[i64]) {
    use yui::db::schema::event_overrides;

    let rows: Vec<Row> = events::table
        .filter(events::room_id.eq_any(ids))
        .select((
            events::room_id,
            events::starts_at,
            events::ends_at,
            events::all_day,
            events::rrule,
            events::exdates,
            events::facility_id,
            events::approval,
        ))
        .load(conn)
        .unwrap();
    let (bookings, plain): (Vec<&Row>, Vec<&Row>) = rows.iter().partition(|r| r.6.is_some());
    assert_eq!(plain.len(), 160);
    assert!(
        plain.iter().all(|r| r.7 == "published"),
        "the manager publishes directly"
    );
    let per_room = |room: i64| plain.iter().filter(|r| r.0 == room).count();
    assert!(
        ids.iter().all(|r| (5..=6).contains(&per_room(*r))),
        "round-robin over the rooms"
    );
    let series: Vec<&str> = plain
        .iter()
        .map(|r| r.4.as_str())
        .filter(|r| !r.is_empty())
        .collect();
    assert_eq!(series.len(), 40, "a quarter are series");
    let has = |f: &dyn Fn(&str) -> bool| series.iter().any(|r| f(r));
    for (what, found) in [
        ("daily", has(&|r| r.starts_with("FREQ=DAILY"))),
        (
            "weekly on two days",
            has(&|r| r.starts_with("FREQ=WEEKLY;BYDAY=") && r.contains(',')),
        ),
        ("every other week", has(&|r| r.contains("INTERVAL=2"))),
        (
            "monthly by date",
            has(&|r| r.starts_with("FREQ=MONTHLY") && !r.contains("BYDAY")),
        ),
        (
            "monthly by weekday",
            has(&|r| r.starts_with("FREQ=MONTHLY;BYDAY=")),
        ),
        ("yearly", has(&|r| r.starts_with("FREQ=YEARLY"))),
        ("until", has(&|r| r.contains("UNTIL="))),
        ("count", has(&|r| r.contains("COUNT="))),
        (
            "never ending",
            has(&|r| !r.contains("UNTIL=") && !r.contains("COUNT=")),
        ),
    ] {
        assert!(found, "a {what} series: {series:?}");
    }
    assert!(
        plain.iter().any(|r| !r.5.is_empty()),
        "a skipped occurrence"
    );
    let changed: i64 = event_overrides::table
        .inner_join(events::table)
        .filter(events::room_id.eq_any(ids))
        .count()
        .get_result(conn)
        .unwrap();
    assert!(changed >= 1, "a changed occurrence");
    let day = chrono::Duration::days(1);
    assert!(
        plain.iter().any(|r| r.3 && r.2 - r.1 == day),
        "an all-day event"
    );
    assert!(
        plain.iter().any(|r| r.3 && r.2 - r.1 > day),
        "a multi-day all-day event"
    );
    assert!(
        plain.iter().any(|r| !r.3 && r.2 - r.1 > day / 2),
        "a timed event over two days"
    );
    let now = chrono::Utc::now().naive_utc();
    let (first, last) = (
        plain.iter().map(|r| r.1).min().unwrap(),
        plain.iter().map(|r| r.1).max().unwrap(),
    );
    assert!(
        first < now - day * 300 && last > now + day * 300 && last < now + day * 400,
        "over the two years around today: {first} .. {last}"
    );

    assert_bench_bookings(conn, &bookings);
}

/// The reservations of the two facilities: 60 each, 15 of them weekly series.
fn assert_bench_bookings(conn: &mut yui::db::DbConn, bookings: &[&Row]) {
    let facility_ids: Vec<i64> = facilities::table
        .filter(facilities::name.like("%1").or(facilities::name.like("%2")))
        .select(facilities::id)
        .load(conn)
        .unwrap();
    assert_eq!(facility_ids.len(), 2, "{facility_ids:?}");
    assert_eq!(bookings.len(), 120);
    for f in &facility_ids {
        let mine: Vec<&&Row> = bookings.iter().filter(|r| r.6 == Some(*f)).collect();
        assert_eq!(mine.len(), 60);
        assert_eq!(
            mine.iter()
                .filter(|r| r.4.starts_with("FREQ=WEEKLY"))
                .count(),
            15
        );
    }
}
