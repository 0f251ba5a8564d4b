//! Every state-changing route refuses a forged or missing CSRF token and a foreign Origin, and
//! changes nothing. The routes come from the route table itself (`web::routes::TABLE`, generated
//! by the same macro that registers them), so a new route fails here until it is walked. Each
//! route is sent, with its own method, to a real object (a room, post, comment, file, folder,
//! upload, notice, safety check, invitation, address, member…), by the client that could really
//! use it: the same request with the right token is sent afterwards and must reach its handler
//! and change something, so a refusal cannot come from a path that leads nowhere.

use diesel::prelude::*;
use yui::db::schema::{
    app_passwords, audit_log, blobs, calendar_feeds, contact_addresses, contact_tokens,
    event_overrides, event_reminders, events, facilities, facility_managers, facility_rooms, files,
    folders, login_failures, notice_recipients, notices, outbox, password_resets, playlist_entries,
    playlists, post_comments, post_revisions, room_invitations, room_join_requests, room_members,
    room_notification_prefs, room_permissions, room_posts, rooms, safety_officers, sessions,
    settings, subsonic_stars, uploads, user_pictures, users,
};

use crate::support::*;

type Time = chrono::NaiveDateTime;
/// login, email, display name, password hash, site role, disabled, language.
type UserRow = (String, String, String, String, String, bool, Option<String>);
/// slug, name, description, visibility, state, join policy, approval, quota, features, archived,
/// comment approval.
type RoomRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    bool,
    i64,
    String,
    bool,
    bool,
);
/// notice, user, answered, answer, condition, proxy, reminded.
type RecipientRow = (
    i64,
    i64,
    Option<Time>,
    Option<String>,
    Option<String>,
    Option<i64>,
    Option<Time>,
);

/// Everything a forged request could change, table by table.
fn snapshot(app: &TestApp) -> Vec<String> {
    app.db(|conn| {
        let mut s = Vec::new();
        people(conn, &mut s)?;
        room_rows(conn, &mut s)?;
        post_rows(conn, &mut s)?;
        cabinet_rows(conn, &mut s)?;
        notice_rows(conn, &mut s)?;
        calendar_rows(conn, &mut s)?;
        Ok(s)
    })
}

/// Accounts, sessions, settings, reset links.
fn people(conn: &mut yui::db::DbConn, s: &mut Vec<String>) -> QueryResult<()> {
    let u: Vec<UserRow> = users::table
        .order(users::id)
        .select((
            users::login,
            users::email,
            users::display_name,
            users::password_hash,
            users::site_role,
            users::disabled,
            users::language,
        ))
        .load(conn)?;
    s.push(format!("users {u:?}"));
    let v: Vec<(Option<i64>, String, String)> = sessions::table
        .order(sessions::id)
        .select((
            sessions::user_id,
            sessions::token_hash,
            sessions::csrf_token,
        ))
        .load(conn)?;
    s.push(format!("sessions {v:?}"));
    let v: Vec<(i64, String, Option<Time>)> = app_passwords::table
        .order(app_passwords::id)
        .select((
            app_passwords::id,
            app_passwords::name,
            app_passwords::revoked_at,
        ))
        .load(conn)?;
    s.push(format!("app_passwords {v:?}"));
    // The Subsonic API's per-member rows (`/rest/` is outside the walk; no web form changes them).
    let v: Vec<(i64, String)> = subsonic_stars::table
        .order((subsonic_stars::user_id, subsonic_stars::item))
        .select((subsonic_stars::user_id, subsonic_stars::item))
        .load(conn)?;
    s.push(format!("subsonic_stars {v:?}"));
    let v: Vec<(i64, String, String)> = playlists::table
        .order(playlists::id)
        .select((playlists::id, playlists::name, playlists::comment))
        .load(conn)?;
    s.push(format!("playlists {v:?}"));
    let v: Vec<(i64, i64, i64)> = playlist_entries::table
        .order((playlist_entries::playlist_id, playlist_entries::position))
        .select((
            playlist_entries::playlist_id,
            playlist_entries::position,
            playlist_entries::file_id,
        ))
        .load(conn)?;
    s.push(format!("playlist_entries {v:?}"));
    // The jobs loop claims the digest's day on its own schedule (its first round after start,
    // `services::notify::send_digests_if_due`), whatever requests come: under load that round
    // could land between two snapshots of a brand-new site and read as a change.
    let v: Vec<(String, String)> = settings::table
        .filter(settings::key.not_like("setup.%"))
        .filter(settings::key.ne("digest.last_day"))
        .order(settings::key)
        .select((settings::key, settings::value))
        .load(conn)?;
    s.push(format!("settings {v:?}"));
    let v: Vec<(i64, Option<chrono::NaiveDateTime>)> = password_resets::table
        .order(password_resets::id)
        .select((password_resets::user_id, password_resets::used_at))
        .load(conn)?;
    s.push(format!("password_resets {v:?}"));
    let v: Vec<(i64, String)> = user_pictures::table
        .order(user_pictures::user_id)
        .select((user_pictures::user_id, user_pictures::blob_sha256))
        .load(conn)?;
    s.push(format!("user_pictures {v:?}"));
    Ok(())
}

/// Rooms, their members, permissions, join requests, mail settings.
fn room_rows(conn: &mut yui::db::DbConn, s: &mut Vec<String>) -> QueryResult<()> {
    let v: Vec<RoomRow> = rooms::table
        .order(rooms::id)
        .select((
            rooms::slug,
            rooms::name,
            rooms::description,
            rooms::visibility,
            rooms::state,
            rooms::join_policy,
            rooms::need_approval,
            rooms::quota_bytes,
            rooms::features,
            rooms::archived,
            rooms::comment_approval,
        ))
        .load(conn)?;
    s.push(format!("rooms {v:?}"));
    let v: Vec<(i64, i64, String)> = room_members::table
        .order((room_members::room_id, room_members::user_id))
        .select((
            room_members::room_id,
            room_members::user_id,
            room_members::role,
        ))
        .load(conn)?;
    s.push(format!("room_members {v:?}"));
    let v: Vec<(i64, String, String, bool)> = room_permissions::table
        .order((room_permissions::room_id, room_permissions::permission))
        .select((
            room_permissions::room_id,
            room_permissions::permission,
            room_permissions::role,
            room_permissions::allowed,
        ))
        .load(conn)?;
    s.push(format!("room_permissions {v:?}"));
    let v: Vec<(i64, i64)> = room_join_requests::table
        .order((room_join_requests::room_id, room_join_requests::user_id))
        .select((room_join_requests::room_id, room_join_requests::user_id))
        .load(conn)?;
    s.push(format!("room_join_requests {v:?}"));
    let v: Vec<(i64, i64, String)> = room_notification_prefs::table
        .order((
            room_notification_prefs::room_id,
            room_notification_prefs::user_id,
        ))
        .select((
            room_notification_prefs::room_id,
            room_notification_prefs::user_id,
            room_notification_prefs::mode,
        ))
        .load(conn)?;
    s.push(format!("room_notification_prefs {v:?}"));
    Ok(())
}

/// Posts, revisions, comments, invitations.
fn post_rows(conn: &mut yui::db::DbConn, s: &mut Vec<String>) -> QueryResult<()> {
    let v: Vec<(i64, Option<i64>, bool)> = room_posts::table
        .order(room_posts::id)
        .select((
            room_posts::id,
            room_posts::live_revision_id,
            room_posts::deleted,
        ))
        .load(conn)?;
    s.push(format!("room_posts {v:?}"));
    let v: Vec<(i64, i64, String, String, String)> = post_revisions::table
        .order(post_revisions::id)
        .select((
            post_revisions::id,
            post_revisions::post_id,
            post_revisions::title,
            post_revisions::status,
            post_revisions::note,
        ))
        .load(conn)?;
    s.push(format!("post_revisions {v:?}"));
    let v: Vec<(i64, i64, String, String)> = post_comments::table
        .order(post_comments::id)
        .select((
            post_comments::id,
            post_comments::post_id,
            post_comments::body_md,
            post_comments::status,
        ))
        .load(conn)?;
    s.push(format!("post_comments {v:?}"));
    let v: Vec<(i64, String, Option<chrono::NaiveDateTime>, Option<i64>)> = room_invitations::table
        .order(room_invitations::id)
        .select((
            room_invitations::id,
            room_invitations::email,
            room_invitations::accepted_at,
            room_invitations::accepted_by,
        ))
        .load(conn)?;
    s.push(format!("room_invitations {v:?}"));
    Ok(())
}

/// Folders, files, uploads, blobs.
fn cabinet_rows(conn: &mut yui::db::DbConn, s: &mut Vec<String>) -> QueryResult<()> {
    let v: Vec<(i64, String, Option<i64>, Option<chrono::NaiveDateTime>)> = folders::table
        .order(folders::id)
        .select((
            folders::id,
            folders::name,
            folders::parent_id,
            folders::deleted_at,
        ))
        .load(conn)?;
    s.push(format!("folders {v:?}"));
    let v: Vec<(i64, String, i64, String, Option<chrono::NaiveDateTime>)> = files::table
        .order(files::id)
        .select((
            files::id,
            files::name,
            files::folder_id,
            files::blob_sha256,
            files::deleted_at,
        ))
        .load(conn)?;
    s.push(format!("files {v:?}"));
    let v: Vec<(String, i64, i64)> = uploads::table
        .order(uploads::id)
        .select((uploads::id, uploads::size, uploads::received))
        .load(conn)?;
    s.push(format!("uploads {v:?}"));
    let v: Vec<String> = blobs::table
        .order(blobs::sha256)
        .select(blobs::sha256)
        .load(conn)?;
    s.push(format!("blobs {v:?}"));
    Ok(())
}

/// Notices, their recipients, officers, addresses, and the counts of mail, audit entries, login failures.
fn notice_rows(conn: &mut yui::db::DbConn, s: &mut Vec<String>) -> QueryResult<()> {
    let v: Vec<(i64, String, Option<chrono::NaiveDateTime>, i64)> = notices::table
        .order(notices::id)
        .select((
            notices::id,
            notices::title,
            notices::closed_at,
            notices::reminders_sent,
        ))
        .load(conn)?;
    s.push(format!("notices {v:?}"));
    let v: Vec<RecipientRow> = notice_recipients::table
        .order((notice_recipients::notice_id, notice_recipients::user_id))
        .select((
            notice_recipients::notice_id,
            notice_recipients::user_id,
            notice_recipients::answered_at,
            notice_recipients::answer,
            notice_recipients::condition,
            notice_recipients::proxy_by,
            notice_recipients::reminded_at,
        ))
        .load(conn)?;
    s.push(format!("notice_recipients {v:?}"));
    let v: Vec<(i64, i64)> = safety_officers::table
        .order((safety_officers::room_id, safety_officers::user_id))
        .select((safety_officers::room_id, safety_officers::user_id))
        .load(conn)?;
    s.push(format!("safety_officers {v:?}"));
    let v: Vec<(i64, String, Option<chrono::NaiveDateTime>)> = contact_addresses::table
        .order(contact_addresses::id)
        .select((
            contact_addresses::id,
            contact_addresses::address,
            contact_addresses::verified_at,
        ))
        .load(conn)?;
    s.push(format!("contact_addresses {v:?}"));
    let v: Vec<(i64, Option<chrono::NaiveDateTime>)> = contact_tokens::table
        .order(contact_tokens::id)
        .select((contact_tokens::id, contact_tokens::used_at))
        .load(conn)?;
    s.push(format!("contact_tokens {v:?}"));
    let counts = (
        outbox::table.count().get_result::<i64>(conn)?,
        audit_log::table.count().get_result::<i64>(conn)?,
        login_failures::table.count().get_result::<i64>(conn)?,
    );
    s.push(format!("outbox/audit_log/login_failures {counts:?}"));
    Ok(())
}

/// Events and feed addresses.
fn calendar_rows(conn: &mut yui::db::DbConn, s: &mut Vec<String>) -> QueryResult<()> {
    let v: Vec<(i64, String, String, i32)> = events::table
        .order(events::id)
        .select((events::id, events::title, events::exdates, events::sequence))
        .load(conn)?;
    s.push(format!("events {v:?}"));
    let v: Vec<(i64, Option<i64>, String)> = events::table
        .order(events::id)
        .select((events::id, events::facility_id, events::booking_state))
        .load(conn)?;
    s.push(format!("bookings {v:?}"));
    let v: Vec<(i64, String, String, bool)> = events::table
        .order(events::id)
        .select((
            events::id,
            events::approval,
            events::approval_note,
            events::ever_published,
        ))
        .load(conn)?;
    s.push(format!("event approval {v:?}"));
    let v: Vec<(i64, String, i32, i32, bool)> = facilities::table
        .order(facilities::id)
        .select((
            facilities::id,
            facilities::name,
            facilities::opens_at,
            facilities::closes_at,
            facilities::needs_approval,
        ))
        .load(conn)?;
    s.push(format!("facilities {v:?}"));
    let v: Vec<(i64, i64)> = facility_rooms::table
        .order(facility_rooms::id)
        .select((facility_rooms::facility_id, facility_rooms::room_id))
        .load(conn)?;
    s.push(format!("facility_rooms {v:?}"));
    let v: Vec<(i64, i64)> = facility_managers::table
        .order(facility_managers::id)
        .select((facility_managers::facility_id, facility_managers::user_id))
        .load(conn)?;
    s.push(format!("facility_managers {v:?}"));
    let v: Vec<(i64, Option<chrono::NaiveDateTime>)> = calendar_feeds::table
        .order(calendar_feeds::id)
        .select((calendar_feeds::id, calendar_feeds::revoked_at))
        .load(conn)?;
    s.push(format!("calendar_feeds {v:?}"));
    let v: Vec<(i64, i64, i32)> = event_reminders::table
        .order(event_reminders::id)
        .select((
            event_reminders::id,
            event_reminders::event_id,
            event_reminders::minutes_before,
        ))
        .load(conn)?;
    s.push(format!("event_reminders {v:?}"));
    let v: Vec<(i64, String)> = event_overrides::table
        .order(event_overrides::id)
        .select((event_overrides::id, event_overrides::title))
        .load(conn)?;
    s.push(format!("event_overrides {v:?}"));
    Ok(())
}

/// Who sends a route's requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// The site admin, manager of both rooms.
    Admin,
    /// A second session of the admin (logging out ends it).
    AdminElsewhere,
    /// `victim`, a 一般 member of `club`.
    Victim,
    /// `leaver`, a member of `club` who may leave it.
    Leaver,
    /// `joiner`, in no room.
    Joiner,
    /// A visitor who is not logged in (a fresh browser for each route, with the pre-session CSRF
    /// cookie of the login page).
    Visitor,
    /// A visitor of a second, brand-new site that has no administrator yet (the only site where
    /// `/setup` does anything).
    FirstVisitor,
}

/// A request body.
#[derive(Debug, Clone)]
enum Body {
    /// `application/x-www-form-urlencoded` (the token in `_csrf`).
    Form(Vec<(&'static str, String)>),
    /// A plain upload form (the token in the query): the field, the file's name, its bytes.
    Multipart(&'static str, &'static str, Vec<u8>),
    /// A resumable upload's chunk (the token in `X-CSRF-Token`).
    Bytes(Vec<u8>),
}

/// One route of the walk: where it goes, who sends it, with what.
#[derive(Debug)]
struct Step {
    path: String,
    who: Who,
    body: Body,
}

/// Real objects for every placeholder of the route table.
#[derive(Debug, Default)]
struct Objects {
    post_draft: i64,
    post_to_delete: i64,
    post_live: i64,
    post_waiting: i64,
    post_waiting_too: i64,
    waiting_revision: i64,
    waiting_revision_too: i64,
    waiting_comment: i64,
    folder: i64,
    file: i64,
    trashed_file: i64,
    upload: String,
    upload_to_cancel: String,
    notice: i64,
    check: i64,
    check_to_close: i64,
    answer_token: String,
    invitation_for_victim: String,
    invitation_for_newcomer: String,
    reset_token: String,
    setup_token: String,
    address: i64,
    verify_token: String,
    email_change_token: String,
    event: i64,
    event_to_delete: i64,
    series: i64,
    event_waiting: i64,
    event_waiting_too: i64,
    app_password: i64,
    reminder: i64,
    facility: i64,
    facility_to_delete: i64,
    booking_to_cancel: i64,
    booking_to_approve: i64,
    booking_to_reject: i64,
}

fn form(fields: &[(&'static str, &str)]) -> Body {
    Body::Form(fields.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
}

/// A room's settings as `club` was made (so saving them changes only what a step means to change).
const CLUB: &[(&str, &str)] = &[
    ("slug", "club"),
    ("description", "説明"),
    ("visibility", "members"),
    ("state", "open"),
    ("default_role", "member"),
    ("join_policy", "request"),
    ("need_approval", "on"),
    ("comment_approval", "on"),
    ("quota_mb", "100"),
    ("feature_blog", "on"),
    ("feature_files", "on"),
    ("feature_calendar", "on"),
];

/// The walk's step for a route, or `None` for a route the walk does not know yet.
fn step_for(method: &str, pattern: &str, o: &Objects) -> Option<Step> {
    auth_step(method, pattern, o)
        .or_else(|| account_step(method, pattern, o))
        .or_else(|| admin_step(method, pattern))
        .or_else(|| room_step(method, pattern, o))
        .or_else(|| post_step(method, pattern, o))
        .or_else(|| cabinet_step(method, pattern, o))
        .or_else(|| notice_step(method, pattern, o))
        .or_else(|| calendar_step(method, pattern, o))
        .or_else(|| facility_step(method, pattern, o))
}

/// Facility reservations: booking, cancelling, approving, rejecting; the admin's facility pages.
fn facility_step(method: &str, pattern: &str, o: &Objects) -> Option<Step> {
    use Who::*;
    let step = |path: String, who: Who, body: Body| Some(Step { path, who, body });
    let facility = |name: &str| {
        form(&[
            ("name", name),
            ("category", "会議室"),
            ("opens", "08:00"),
            ("closes", "18:00"),
            ("day_mo", "on"),
            ("day_tu", "on"),
            ("day_we", "on"),
            ("day_th", "on"),
            ("day_fr", "on"),
            ("all_rooms", "on"),
            ("needs_approval", "on"),
        ])
    };
    match (method, pattern) {
        ("post", "/facilities/{id}/bookings") => step(
            format!("/facilities/{}/bookings", o.facility),
            Victim,
            form(&[
                ("room", "club"),
                ("title", "hacked"),
                ("start_date", "2027-01-08"),
                ("start_time", "10:00"),
                ("end_time", "11:00"),
                ("repeat", "never"),
            ]),
        ),
        ("post", "/facilities/bookings/{id}/cancel") => step(
            format!("/facilities/bookings/{}/cancel", o.booking_to_cancel),
            Victim,
            form(&[]),
        ),
        ("post", "/facilities/bookings/{id}/approve") => step(
            format!("/facilities/bookings/{}/approve", o.booking_to_approve),
            Admin,
            form(&[]),
        ),
        ("post", "/facilities/bookings/{id}/reject") => step(
            format!("/facilities/bookings/{}/reject", o.booking_to_reject),
            Admin,
            form(&[]),
        ),
        ("post", "/admin/facilities") => step(pattern.into(), Admin, facility("hacked")),
        ("post", "/admin/facilities/{id}") => step(
            format!("/admin/facilities/{}", o.facility),
            Admin,
            facility("hacked"),
        ),
        ("post", "/admin/facilities/{id}/delete") => step(
            format!("/admin/facilities/{}/delete", o.facility_to_delete),
            Admin,
            form(&[]),
        ),
        _ => None,
    }
}

/// A room's calendar: events, one date of a series, feed addresses.
fn calendar_step(method: &str, pattern: &str, o: &Objects) -> Option<Step> {
    use Who::*;
    let step = |path: String, who: Who, body: Body| Some(Step { path, who, body });
    let event = |title: &str| {
        form(&[
            ("title", title),
            ("start_date", "2027-01-05"),
            ("start_time", "10:00"),
            ("end_time", "11:00"),
            ("repeat", "never"),
        ])
    };
    match (method, pattern) {
        ("post", "/rooms/{room}/calendar/events") => {
            step(pattern.replace("{room}", "club"), Victim, event("hacked"))
        }
        ("post", "/rooms/{room}/calendar/events/{id}") => step(
            format!("/rooms/club/calendar/events/{}", o.event),
            Admin,
            event("hacked"),
        ),
        ("post", "/rooms/{room}/calendar/events/{id}/delete") => step(
            format!("/rooms/club/calendar/events/{}/delete", o.event_to_delete),
            Admin,
            form(&[]),
        ),
        ("post", "/rooms/{room}/calendar/events/{id}/approve") => step(
            format!("/rooms/club/calendar/events/{}/approve", o.event_waiting),
            Admin,
            form(&[]),
        ),
        ("post", "/rooms/{room}/calendar/events/{id}/send-back") => step(
            format!("/rooms/club/calendar/events/{}/send-back", o.event_waiting_too),
            Admin,
            form(&[("note", "日付を確認してください")]),
        ),
        ("post", "/rooms/{room}/calendar/events/{id}/skip") => step(
            format!("/rooms/club/calendar/events/{}/skip", o.series),
            Admin,
            form(&[("occurrence", "20270112T010000Z")]),
        ),
        ("post", "/rooms/{room}/calendar/events/{id}/reminders") => step(
            format!("/rooms/club/calendar/events/{}/reminders", o.series),
            Victim,
            form(&[("amount", "1"), ("unit", "days")]),
        ),
        ("post", "/rooms/{room}/calendar/events/{id}/reminders/{reminder}/delete") => step(
            format!(
                "/rooms/club/calendar/events/{}/reminders/{}/delete",
                o.event, o.reminder
            ),
            Victim,
            form(&[]),
        ),
        ("post", "/rooms/{room}/calendar/import") => step(
            "/rooms/club/calendar/import".to_owned(),
            Victim,
            Body::Multipart(
                "file",
                "planted.ics",
                b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//x//EN\r\nBEGIN:VEVENT\r\nUID:planted\r\nSUMMARY:planted\r\nDTSTART:20270105T010000Z\r\nDTEND:20270105T020000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n".to_vec(),
            ),
        ),
        ("post", "/rooms/{room}/calendar/feed" | "/rooms/{room}/calendar/feed/revoke") => {
            step(pattern.replace("{room}", "club"), Victim, form(&[]))
        }
        _ => None,
    }
}

/// Logging in and out, first-run setup, password reset.
fn auth_step(method: &str, pattern: &str, o: &Objects) -> Option<Step> {
    use Who::*;
    let step = |path: String, who: Who, body: Body| Some(Step { path, who, body });
    let good = PASSWORD;
    match (method, pattern) {
        ("post", "/login") => step(
            pattern.into(),
            Visitor,
            form(&[("name", "victim"), ("password", good)]),
        ),
        ("post", "/logout") => step(pattern.into(), AdminElsewhere, form(&[])),
        ("post", "/setup") => step(
            pattern.into(),
            FirstVisitor,
            form(&[
                ("token", &o.setup_token),
                ("site_title", "Hacked"),
                ("language", "en"),
                ("login", "evilsetup"),
                ("email", "evil.setup@example.test"),
                ("display_name", "Evil"),
                ("password", good),
                ("password_confirm", good),
            ]),
        ),
        ("post", "/password/reset") => step(
            pattern.into(),
            Visitor,
            form(&[("email", "victim@example.test")]),
        ),
        ("post", "/password/reset/{token}") => step(
            format!("/password/reset/{}", o.reset_token),
            Visitor,
            form(&[
                ("password", "a new secret for victim"),
                ("password_confirm", "a new secret for victim"),
            ]),
        ),
        _ => None,
    }
}

/// One's own profile, password, sessions and addresses.
fn account_step(method: &str, pattern: &str, o: &Objects) -> Option<Step> {
    use Who::*;
    let step = |path: String, who: Who, body: Body| Some(Step { path, who, body });
    let good = PASSWORD;
    match (method, pattern) {
        ("post", "/me") => step(
            pattern.into(),
            Admin,
            form(&[
                ("display_name", "Hacked"),
                ("email", "admin@example.test"),
                ("language", "en"),
            ]),
        ),
        ("post", "/me/password") => step(
            pattern.into(),
            Admin,
            form(&[
                ("current_password", good),
                ("password", "the admin's next secret"),
                ("password_confirm", "the admin's next secret"),
            ]),
        ),
        // Her picture (arranged) is replaced by another below, then removed.
        ("post", "/me/sessions/end" | "/me/picture/delete") => {
            step(pattern.into(), Victim, form(&[]))
        }
        ("post", "/me/picture") => step(
            pattern.into(),
            Victim,
            Body::Multipart("picture", "evil.png", sample_png(32, 32, [0, 0, 0])),
        ),
        ("post", "/me/app-passwords") => step(
            pattern.into(),
            Victim,
            form(&[
                ("name", "evil"),
                ("scope", "dav"),
                ("current_password", good),
            ]),
        ),
        ("post", "/me/app-passwords/{id}/revoke") => step(
            format!("/me/app-passwords/{}/revoke", o.app_password),
            Victim,
            form(&[]),
        ),
        ("post", "/me/addresses") => step(
            pattern.into(),
            Admin,
            form(&[("address", "evil.address@example.test")]),
        ),
        ("post", "/me/addresses/{id}/test") => step(
            format!("/me/addresses/{}/test", o.address),
            Admin,
            form(&[]),
        ),
        ("post", "/me/addresses/{id}/delete") => step(
            format!("/me/addresses/{}/delete", o.address),
            Admin,
            form(&[]),
        ),
        ("post", "/verify/{token}") => {
            step(format!("/verify/{}", o.verify_token), Visitor, form(&[]))
        }
        ("post", "/email/confirm/{token}") => step(
            format!("/email/confirm/{}", o.email_change_token),
            Visitor,
            form(&[]),
        ),
        _ => None,
    }
}

/// The admin panel.
fn admin_step(method: &str, pattern: &str) -> Option<Step> {
    use Who::*;
    let step = |path: String, who: Who, body: Body| Some(Step { path, who, body });
    match (method, pattern) {
        ("post", "/admin/members") => step(
            pattern.into(),
            Admin,
            form(&[
                ("login", "evil"),
                ("email", "evil@example.test"),
                ("display_name", "Evil"),
                ("role", "admin"),
            ]),
        ),
        ("post", "/admin/members/import") => step(
            pattern.into(),
            Admin,
            form(&[(
                "csv",
                "name,login,email,rooms,role\nEvil,evil2,evil2@example.test,club,manager\n",
            )]),
        ),
        ("post", "/admin/members/{login}") => step(
            "/admin/members/bystander".into(),
            Admin,
            form(&[("action", "disable")]),
        ),
        ("post", "/admin/settings") => step(
            pattern.into(),
            Admin,
            form(&[
                ("title", "Hacked"),
                ("tagline", "hacked"),
                ("language", "en"),
                ("timezone", "UTC"),
                ("private_rooms", "on"),
            ]),
        ),
        ("post", "/admin/reachability/test") => step(pattern.into(), Admin, form(&[])),
        ("post", "/admin/backups/schedule") => step(
            pattern.into(),
            Admin,
            form(&[
                ("enabled", "on"),
                ("at", "04:00"),
                ("keep", "3"),
                ("dir", ""),
            ]),
        ),
        ("post", "/admin/rooms") => {
            let mut fields = CLUB.to_vec();
            fields.retain(|(k, _)| *k != "slug");
            fields.extend([("name", "Evil"), ("slug", "evil")]);
            step(pattern.into(), Admin, form(&fields))
        }
        ("post", "/admin/rooms/{room}/archive") => step(
            "/admin/rooms/annex/archive".into(),
            Admin,
            form(&[("archived", "true")]),
        ),
        _ => None,
    }
}

/// Joining, leaving and managing a room.
fn room_step(method: &str, pattern: &str, o: &Objects) -> Option<Step> {
    use Who::*;
    let step = |path: String, who: Who, body: Body| Some(Step { path, who, body });
    let good = PASSWORD;
    match (method, pattern) {
        ("post", "/rooms/{room}/join") => step(
            "/rooms/club/join".into(),
            Joiner,
            form(&[("message", "let me in")]),
        ),
        ("post", "/rooms/{room}/leave") => step("/rooms/club/leave".into(), Leaver, form(&[])),
        ("post", "/rooms/{room}/settings") => {
            let mut fields = CLUB.to_vec();
            fields.push(("name", "Hacked"));
            step("/rooms/club/settings".into(), Admin, form(&fields))
        }
        ("post", "/rooms/{room}/members") => step(
            "/rooms/club/members".into(),
            Admin,
            form(&[("login", "joiner"), ("role", "manager")]),
        ),
        ("post", "/rooms/{room}/members/{login}") => step(
            "/rooms/club/members/victim".into(),
            Admin,
            form(&[("action", "role"), ("role", "manager")]),
        ),
        ("post", "/rooms/{room}/requests/{login}") => step(
            "/rooms/club/requests/asker".into(),
            Admin,
            form(&[("decision", "approve")]),
        ),
        ("post", "/rooms/{room}/invitations") => step(
            "/rooms/club/invitations".into(),
            Admin,
            form(&[("email", "evil@example.test"), ("role", "manager")]),
        ),
        ("post", "/invite/{token}") => step(
            format!("/invite/{}", o.invitation_for_victim),
            Victim,
            form(&[]),
        ),
        ("post", "/invite/{token}/signup") => step(
            format!("/invite/{}/signup", o.invitation_for_newcomer),
            Visitor,
            form(&[
                ("login", "newcomer"),
                ("display_name", "新人"),
                ("password", good),
                ("password_confirm", good),
            ]),
        ),
        ("post", "/rooms/{room}/permissions") => step(
            "/rooms/club/permissions".into(),
            Admin,
            form(&[("cell:publish:editor", "on")]),
        ),
        ("post", "/rooms/{room}/officers/{login}") => step(
            "/rooms/club/officers/victim".into(),
            Admin,
            form(&[("officer", "on")]),
        ),
        _ => None,
    }
}

/// Room posts, approval, comments and mail settings.
fn post_step(method: &str, pattern: &str, o: &Objects) -> Option<Step> {
    use Who::*;
    let step = |path: String, who: Who, body: Body| Some(Step { path, who, body });
    match (method, pattern) {
        ("post", "/rooms/{room}/posts") => step(
            "/rooms/club/posts".into(),
            Admin,
            form(&[("title", "Hacked"), ("body", "x"), ("action", "submit")]),
        ),
        ("post", "/rooms/{room}/posts/{id}") => step(
            format!("/rooms/club/posts/{}", o.post_draft),
            Admin,
            form(&[("title", "Hacked"), ("body", "x"), ("action", "submit")]),
        ),
        ("post", "/rooms/{room}/posts/{id}/approve") => step(
            format!("/rooms/club/posts/{}/approve", o.post_waiting),
            Admin,
            form(&[("revision", &o.waiting_revision.to_string())]),
        ),
        ("post", "/rooms/{room}/posts/{id}/send-back") => step(
            format!("/rooms/club/posts/{}/send-back", o.post_waiting_too),
            Admin,
            form(&[
                ("revision", &o.waiting_revision_too.to_string()),
                ("note", "hacked"),
            ]),
        ),
        ("post", "/rooms/{room}/posts/{id}/delete") => step(
            format!("/rooms/club/posts/{}/delete", o.post_to_delete),
            Admin,
            form(&[("confirmed", "yes")]),
        ),
        ("post", "/rooms/{room}/posts/{id}/comments") => step(
            format!("/rooms/club/posts/{}/comments", o.post_live),
            Victim,
            form(&[("comment", "hacked")]),
        ),
        ("post", "/rooms/{room}/posts/{id}/comments/{comment}/approve") => step(
            format!(
                "/rooms/club/posts/{}/comments/{}/approve",
                o.post_live, o.waiting_comment
            ),
            Admin,
            form(&[]),
        ),
        // After the approval above: the victim changes, then deletes, that same comment of theirs.
        ("post", "/rooms/{room}/posts/{id}/comments/{comment}") => step(
            format!(
                "/rooms/club/posts/{}/comments/{}",
                o.post_live, o.waiting_comment
            ),
            Victim,
            form(&[("comment", "hacked")]),
        ),
        ("post", "/rooms/{room}/posts/{id}/comments/{comment}/delete") => step(
            format!(
                "/rooms/club/posts/{}/comments/{}/delete",
                o.post_live, o.waiting_comment
            ),
            Victim,
            form(&[]),
        ),
        ("post", "/rooms/{room}/notifications") => step(
            "/rooms/club/notifications".into(),
            Victim,
            form(&[("mode", "none")]),
        ),
        _ => None,
    }
}

/// A room's cabinet (plain and resumable uploads, trash, folders).
fn cabinet_step(method: &str, pattern: &str, o: &Objects) -> Option<Step> {
    use Who::*;
    let step = |path: String, who: Who, body: Body| Some(Step { path, who, body });
    match (method, pattern) {
        ("post", "/rooms/{room}/files/trash/{kind}/{id}/restore") => step(
            format!("/rooms/club/files/trash/file/{}/restore", o.trashed_file),
            Admin,
            form(&[]),
        ),
        ("post", "/rooms/{room}/files/folder/{folder}/upload") => step(
            format!("/rooms/club/files/folder/{}/upload", o.folder),
            Victim,
            Body::Multipart("files", "evil.txt", b"evil bytes".to_vec()),
        ),
        ("post", "/rooms/{room}/files/folder/{folder}/mkdir") => step(
            format!("/rooms/club/files/folder/{}/mkdir", o.folder),
            Victim,
            form(&[("name", "hacked")]),
        ),
        ("post", "/rooms/{room}/files/folder/{folder}/uploads") => step(
            format!("/rooms/club/files/folder/{}/uploads", o.folder),
            Victim,
            form(&[("name", "evil.bin"), ("size", "4")]),
        ),
        ("put", "/rooms/{room}/files/uploads/{upload}") => step(
            format!("/rooms/club/files/uploads/{}?offset=0", o.upload),
            Victim,
            Body::Bytes(b"evil".to_vec()),
        ),
        ("post", "/rooms/{room}/files/uploads/{upload}/finish") => step(
            format!("/rooms/club/files/uploads/{}/finish", o.upload),
            Victim,
            form(&[]),
        ),
        ("post", "/rooms/{room}/files/uploads/{upload}/cancel") => step(
            format!("/rooms/club/files/uploads/{}/cancel", o.upload_to_cancel),
            Victim,
            form(&[]),
        ),
        ("post", "/rooms/{room}/files/{kind}/{id}/{op}") => step(
            format!("/rooms/club/files/file/{}/rename", o.file),
            Admin,
            form(&[("name", "hacked.txt")]),
        ),
        _ => None,
    }
}

/// Safety checks and circular notices.
fn notice_step(method: &str, pattern: &str, o: &Objects) -> Option<Step> {
    use Who::*;
    let step = |path: String, who: Who, body: Body| Some(Step { path, who, body });
    match (method, pattern) {
        ("post", "/safety") => step(
            pattern.into(),
            Admin,
            form(&[("scope", "club"), ("title", "Hacked"), ("confirmed", "yes")]),
        ),
        ("post", "/safety/{id}/answer") => step(
            format!("/safety/{}/answer", o.check),
            Victim,
            form(&[("condition", "need_help")]),
        ),
        ("post", "/safety/{id}/proxy/{login}") => step(
            format!("/safety/{}/proxy/victim", o.check),
            Admin,
            form(&[("condition", "injured")]),
        ),
        ("post", "/safety/{id}/remind") => {
            step(format!("/safety/{}/remind", o.check), Admin, form(&[]))
        }
        ("post", "/safety/{id}/close") => step(
            format!("/safety/{}/close", o.check_to_close),
            Admin,
            form(&[("confirmed", "yes")]),
        ),
        ("post", "/a/{token}") => step(
            format!("/a/{}", o.answer_token),
            Visitor,
            form(&[("condition", "safe")]),
        ),
        ("post", "/rooms/{room}/notices") => step(
            "/rooms/club/notices".into(),
            Admin,
            form(&[("title", "Hacked"), ("body", "x")]),
        ),
        ("post", "/notices/{id}/answer") => step(
            format!("/notices/{}/answer", o.notice),
            Victim,
            form(&[("q", "いいえ")]),
        ),
        ("post", "/notices/{id}/remind") => {
            step(format!("/notices/{}/remind", o.notice), Admin, form(&[]))
        }
        ("post", "/notices/{id}/close") => {
            step(format!("/notices/{}/close", o.notice), Admin, form(&[]))
        }
        _ => None,
    }
}

/// Every route of `web::routes::TABLE` that is not a GET.
fn unsafe_routes() -> Vec<(&'static str, &'static str)> {
    yui::web::routes::TABLE
        .iter()
        .copied()
        // HEAD is as safe as GET (the feed answers both). The WebDAV drive (`any`) takes no
        // CSRF token and no cookie: `dav.rs` proves a session cookie opens nothing there. The
        // Subsonic API (`/rest/`) takes its credentials from each request's parameters, never
        // from a cookie, so a forged request has nothing to ride on: `subsonic.rs` proves a
        // signed-in browser's cookie opens nothing there.
        .filter(|(m, p)| *m != "get" && *m != "head" && *m != "any" && !p.starts_with("/rest/"))
        .collect()
}

/// The walk knows every state-changing route of the table, and the table is every route there
/// is: `routes.rs` registers routes only through its macro, and nothing else in `src/` adds any.
#[test]
fn the_walk_covers_every_state_changing_route() {
    let unknown: Vec<_> = unsafe_routes()
        .into_iter()
        .filter(|(m, p)| step_for(m, p, &Objects::default()).is_none())
        .collect();
    assert!(
        unknown.is_empty(),
        "add these routes to csrf.rs's walk, with real objects: {unknown:?}"
    );
    let root = env!("CARGO_MANIFEST_DIR");
    let table = std::fs::read_to_string(format!("{root}/src/web/routes.rs")).unwrap();
    let written: Vec<&str> = table
        .lines()
        .map(str::trim_start)
        .filter(|l| {
            [
                "get ", "post ", "put ", "delete ", "patch ", "head ", "any ",
            ]
            .iter()
            .any(|m| l.starts_with(m))
                && l.contains(" => ")
        })
        .collect();
    assert_eq!(
        written.len(),
        yui::web::routes::TABLE.len(),
        "every route line of routes.rs is in TABLE"
    );
    let mut sources = vec![format!("{root}/src")];
    let mut elsewhere = Vec::new();
    while let Some(dir) = sources.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources.push(path.display().to_string());
            } else if path.extension().is_some_and(|e| e == "rs")
                && !path.ends_with("src/web/routes.rs")
            {
                let text = std::fs::read_to_string(&path).unwrap();
                for needle in [".route(", ".service(", "web::resource(", "web::scope("] {
                    if text.contains(needle) {
                        elsewhere.push(format!("{}: {needle}", path.display()));
                    }
                }
            }
        }
    }
    assert!(
        elsewhere.is_empty(),
        "routes registered outside routes.rs's table escape the CSRF walk: {elsewhere:?}"
    );
    assert!(
        unsafe_routes().iter().any(|(m, _)| *m == "put"),
        "the resumable upload's PUT route is in the table (and walked as PUT)"
    );
}

/// The path part of the first link in a mail that contains `marker`.
fn link_path(app: &TestApp, mail: &Mail, marker: &str) -> String {
    mail.body
        .split_whitespace()
        .find(|w| w.contains(marker))
        .unwrap_or_else(|| panic!("no {marker} link in {mail:?}"))
        .trim_start_matches(&app.base)
        .to_owned()
}

/// The token of the first link in a mail that contains `marker` (`/invite/`, `/a/`…).
fn token_in(app: &TestApp, mail: &Mail, marker: &str) -> String {
    link_path(app, mail, marker)
        .trim_start_matches(marker)
        .to_owned()
}

/// The id at the end of a redirect's location.
fn id_at_end(res: &reqwest::Response) -> i64 {
    let at = location(res);
    at.rsplit('/')
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {at}"))
}

/// The latest waiting revision of a post.
fn waiting_revision(app: &TestApp, post: i64) -> i64 {
    app.db(|conn| {
        Ok(post_revisions::table
            .filter(post_revisions::post_id.eq(post))
            .filter(post_revisions::status.eq("pending"))
            .select(post_revisions::id)
            .first(conn)?)
    })
}

/// POSTs a form as its page would (arranging the site) and asserts it was accepted.
async fn posted(
    app: &TestApp,
    c: &reqwest::Client,
    path: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let res = app.post_form(c, "/me", path, fields).await;
    assert!(
        res.status() == 303 || res.status() == 201,
        "arranging {path}: {}",
        res.status()
    );
    res
}

/// Starts a resumable upload of four bytes in `club` as `c` and returns its id.
async fn new_upload(app: &TestApp, c: &reqwest::Client, name: &str) -> String {
    let res = posted(
        app,
        c,
        "/rooms/club/files/folder/0/uploads",
        &[("name", name), ("size", "4")],
    )
    .await;
    res.json::<serde_json::Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// The clients of the walk.
struct Clients {
    admin: reqwest::Client,
    admin_elsewhere: reqwest::Client,
    victim: reqwest::Client,
    leaver: reqwest::Client,
    joiner: reqwest::Client,
}

impl Clients {
    /// The client of `who`; a visitor gets a fresh browser.
    fn of(&self, app: &TestApp, who: Who) -> reqwest::Client {
        match who {
            Who::Admin => self.admin.clone(),
            Who::AdminElsewhere => self.admin_elsewhere.clone(),
            Who::Victim => self.victim.clone(),
            Who::Leaver => self.leaver.clone(),
            Who::Joiner => self.joiner.clone(),
            Who::Visitor | Who::FirstVisitor => app.client(),
        }
    }
}

/// A site with one of everything the routes act on.
async fn site(app: &TestApp) -> (Clients, Objects) {
    let admin = app.admin_client().await;
    for login in ["victim", "leaver", "joiner", "asker", "bystander"] {
        app.user(login).create();
    }
    app.room("club")
        .fields(CLUB)
        .managed_by("admin")
        .member("victim", "member")
        .member("leaver", "member")
        .create(&admin)
        .await;
    app.room("annex")
        .closed()
        .quota_mb(10)
        .managed_by("admin")
        .create(&admin)
        .await;
    let victim = app.sign_in("victim").await;
    // Another browser of hers, for "log out everywhere else".
    app.sign_in("victim").await;
    let asker = app.sign_in("asker").await;
    posted(app, &asker, "/rooms/club/join", &[("message", "please")]).await;
    let mut o = Objects::default();
    // asker asks to move to a new address; the link mailed there confirms it.
    posted(
        app,
        &asker,
        "/me",
        &[
            ("display_name", "asker"),
            ("email", "asker.new@example.test"),
            ("language", "ja"),
            ("current_password", PASSWORD),
        ],
    )
    .await;
    let mail = app.smtp.wait_for("asker.new@example.test").await;
    o.email_change_token = token_in(app, &mail, "/email/confirm/");
    arrange_posts(app, &admin, &victim, &mut o).await;
    arrange_cabinet(app, &admin, &victim, &mut o).await;
    arrange_mailed_links(app, &admin, &victim, &mut o).await;
    arrange_calendar(app, &admin, &victim, &mut o).await;
    arrange_facilities(app, &admin, &victim, &mut o).await;
    arrange_app_password(app, &victim, &mut o).await;
    let res = upload_picture(app, &victim, "me.png", sample_png(32, 32, [255, 255, 255])).await;
    assert_eq!(res.status(), 303, "the victim's picture");
    app.outbox_drained().await;
    let clients = Clients {
        admin_elsewhere: app.sign_in("admin").await,
        admin,
        victim,
        leaver: app.sign_in("leaver").await,
        joiner: app.sign_in("joiner").await,
    };
    (clients, o)
}

/// Posts in every state the post routes need: drafts, a live post with a waiting comment, two
/// waiting for approval.
async fn arrange_posts(
    app: &TestApp,
    admin: &reqwest::Client,
    victim: &reqwest::Client,
    o: &mut Objects,
) {
    let post = |title: &str| app.post_in("club", title).body("本文");
    o.post_draft = post("下書き").draft(admin).await.id;
    o.post_to_delete = post("消す記事").draft(admin).await.id;
    o.post_live = post("公開中").published(admin).await.id;
    o.post_waiting = post("承認待ち").submit(victim).await.id;
    o.post_waiting_too = post("承認待ち 2").submit(victim).await.id;
    o.waiting_revision = waiting_revision(app, o.post_waiting);
    o.waiting_revision_too = waiting_revision(app, o.post_waiting_too);
    posted(
        app,
        victim,
        &format!("/rooms/club/posts/{}/comments", o.post_live),
        &[("comment", "承認待ちのコメント")],
    )
    .await;
    o.waiting_comment = app.db(|conn| {
        Ok(post_comments::table
            .filter(post_comments::status.ne("published"))
            .select(post_comments::id)
            .first(conn)?)
    });
}

/// Two events and a weekly series in `club`'s calendar, and a feed address of the victim's.
async fn arrange_calendar(
    app: &TestApp,
    admin: &reqwest::Client,
    victim: &reqwest::Client,
    o: &mut Objects,
) {
    let add = async |title: &str, repeat: &str| {
        id_at_end(
            &posted(
                app,
                admin,
                "/rooms/club/calendar/events",
                &[
                    ("title", title),
                    ("start_date", "2027-01-05"),
                    ("start_time", "10:00"),
                    ("end_time", "11:00"),
                    ("repeat", repeat),
                ],
            )
            .await,
        )
    };
    o.event = add("予定", "never").await;
    o.event_to_delete = add("消す予定", "never").await;
    o.series = add("毎週", "weekly").await;
    // Two events waiting for approval (as a member's would in a room with approval).
    o.event_waiting = add("承認待ちの予定", "never").await;
    o.event_waiting_too = add("差し戻す予定", "never").await;
    app.db(|conn| {
        diesel::update(
            events::table.filter(events::id.eq_any([o.event_waiting, o.event_waiting_too])),
        )
        .set(events::approval.eq("pending"))
        .execute(conn)?;
        Ok(())
    });
    let res = app
        .post_form(victim, "/me", "/rooms/club/calendar/feed", &[])
        .await;
    assert_eq!(res.status(), 200, "arranging a feed");
    let res = app
        .post_form(
            victim,
            "/me",
            &format!("/rooms/club/calendar/events/{}/reminders", o.event),
            &[("amount", "2"), ("unit", "hours")],
        )
        .await;
    assert_eq!(res.status(), 303, "arranging a reminder");
    o.reminder = app.db(|conn| {
        Ok(event_reminders::table
            .select(diesel::dsl::max(event_reminders::id))
            .first::<Option<i64>>(conn)?
            .unwrap_or(0))
    });
}

/// Two facilities (bookings need approval) and three pending bookings of the victim's.
async fn arrange_facilities(
    app: &TestApp,
    admin: &reqwest::Client,
    victim: &reqwest::Client,
    o: &mut Objects,
) {
    let last_facility = || {
        app.db(|conn| {
            Ok(facilities::table
                .select(diesel::dsl::max(facilities::id))
                .first::<Option<i64>>(conn)?
                .unwrap_or(0))
        })
    };
    for name in ["会議室", "消す施設"] {
        posted(
            app,
            admin,
            "/admin/facilities",
            &[
                ("name", name),
                ("opens", "08:00"),
                ("closes", "18:00"),
                ("day_mo", "on"),
                ("day_tu", "on"),
                ("day_we", "on"),
                ("day_th", "on"),
                ("day_fr", "on"),
                ("all_rooms", "on"),
                ("needs_approval", "on"),
            ],
        )
        .await;
        if o.facility == 0 {
            o.facility = last_facility();
        } else {
            o.facility_to_delete = last_facility();
        }
    }
    let mut ids = Vec::new();
    for day in ["2027-01-04", "2027-01-05", "2027-01-06"] {
        posted(
            app,
            victim,
            &format!("/facilities/{}/bookings", o.facility),
            &[
                ("room", "club"),
                ("title", "予約"),
                ("start_date", day),
                ("start_time", "10:00"),
                ("end_time", "11:00"),
                ("repeat", "never"),
            ],
        )
        .await;
        ids.push(app.db(|conn| {
            Ok(events::table
                .select(diesel::dsl::max(events::id))
                .first::<Option<i64>>(conn)?
                .unwrap_or(0))
        }));
    }
    (
        o.booking_to_cancel,
        o.booking_to_approve,
        o.booking_to_reject,
    ) = (ids[0], ids[1], ids[2]);
}

/// An app password of the victim's.
async fn arrange_app_password(app: &TestApp, victim: &reqwest::Client, o: &mut Objects) {
    let res = app
        .post_form(
            victim,
            "/me",
            "/me/app-passwords",
            &[
                ("name", "laptop"),
                ("scope", "dav"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "arranging an app password");
    o.app_password = app.db(|conn| {
        Ok(app_passwords::table
            .select(app_passwords::id)
            .order(app_passwords::id.desc())
            .first(conn)?)
    });
}

/// A folder, a file, a file in the trash, two resumable uploads.
async fn arrange_cabinet(
    app: &TestApp,
    admin: &reqwest::Client,
    victim: &reqwest::Client,
    o: &mut Objects,
) {
    o.folder = id_at_end(
        &posted(
            app,
            admin,
            "/rooms/club/files/folder/0/mkdir",
            &[("name", "資料")],
        )
        .await,
    );
    o.file = app.file_in("club", "議事録.txt").upload(admin).await.id;
    o.trashed_file = app.file_in("club", "捨てた.txt").upload(admin).await.id;
    posted(
        app,
        admin,
        &format!("/rooms/club/files/file/{}/delete", o.trashed_file),
        &[],
    )
    .await;
    o.upload = new_upload(app, victim, "a.bin").await;
    o.upload_to_cancel = new_upload(app, victim, "b.bin").await;
}

/// A circular notice, two safety checks, invitations, addresses and a reset link, with the
/// tokens their mails carry.
async fn arrange_mailed_links(
    app: &TestApp,
    admin: &reqwest::Client,
    victim: &reqwest::Client,
    o: &mut Objects,
) {
    o.notice = id_at_end(
        &posted(
            app,
            admin,
            "/rooms/club/notices",
            &[
                ("title", "回覧"),
                ("body", "本文"),
                ("question_kind", "single"),
                ("question", "参加しますか"),
                ("choices", "はい\nいいえ"),
            ],
        )
        .await,
    );
    o.check = id_at_end(
        &posted(
            app,
            admin,
            "/safety",
            &[("scope", "club"), ("title", "一回目"), ("confirmed", "yes")],
        )
        .await,
    );
    o.check_to_close = id_at_end(
        &posted(
            app,
            admin,
            "/safety",
            &[("scope", "club"), ("title", "二回目"), ("confirmed", "yes")],
        )
        .await,
    );
    let mail = app
        .smtp
        .wait_for_subject("victim@example.test", "一回目")
        .await;
    o.answer_token = token_in(app, &mail, "/a/");
    for (email, role) in [
        ("victim@example.test", "member"),
        ("newcomer@example.test", "guest"),
    ] {
        posted(
            app,
            admin,
            "/rooms/annex/invitations",
            &[("email", email), ("role", role)],
        )
        .await;
    }
    let mail = app
        .smtp
        .wait_for_subject("victim@example.test", "annex")
        .await;
    o.invitation_for_victim = token_in(app, &mail, "/invite/");
    let mail = app.smtp.wait_for("newcomer@example.test").await;
    o.invitation_for_newcomer = token_in(app, &mail, "/invite/");
    // The admin's address is tested and removed; victim's is verified from its mail.
    for (c, address) in [
        (admin, "admin.phone@example.test"),
        (victim, "victim.phone@example.test"),
    ] {
        posted(app, c, "/me/addresses", &[("address", address)]).await;
    }
    let address_id = |address: &'static str| {
        app.db(move |conn| {
            Ok(contact_addresses::table
                .filter(contact_addresses::address.eq(address))
                .select(contact_addresses::id)
                .first::<i64>(conn)?)
        })
    };
    o.address = address_id("admin.phone@example.test");
    let victims = address_id("victim.phone@example.test");
    posted(app, victim, &format!("/me/addresses/{victims}/test"), &[]).await;
    let mail = app.smtp.wait_for("victim.phone@example.test").await;
    o.verify_token = token_in(app, &mail, "/verify/");
    let res = app
        .post_form(
            &app.client(),
            "/password/reset",
            "/password/reset",
            &[("email", "bystander@example.test")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let mail = app
        .smtp
        .wait_for_subject("bystander@example.test", "パスワード再設定")
        .await;
    o.reset_token = token_in(app, &mail, "/password/reset/");
}

/// How a request carries (or fails to carry) its CSRF token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    /// The right token, from this site's origin.
    Right,
    /// A made-up token where this kind of request carries it.
    Forged,
    /// No token at all.
    Missing,
    /// A well-formed `X-CSRF-Token` header that is not this session's.
    WrongHeader,
    /// The right token from a page on another site.
    ForeignOrigin,
    /// The right token, sent by a cross-site fetch.
    CrossSite,
    /// The right token from an opaque origin (a sandboxed frame, a `data:` page).
    NullOrigin,
}

const FORGED: &str = "forged-token-forged-token-forged-token-123";

async fn send(
    app: &TestApp,
    c: &reqwest::Client,
    method: &str,
    step: &Step,
    token: Token,
) -> reqwest::Response {
    let right = match step.who {
        Who::Visitor | Who::FirstVisitor => app.csrf(c, "/login").await,
        _ => app.csrf(c, "/me").await,
    };
    let carried = match token {
        Token::Forged => Some(FORGED.to_owned()),
        Token::Missing | Token::WrongHeader => None,
        _ => Some(right),
    };
    let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let mut path = step.path.clone();
    if let (Body::Multipart(..), Some(t)) = (&step.body, &carried) {
        path = format!("{path}?_csrf={t}");
    }
    let mut req = c.request(method, app.url(&path));
    req = match &step.body {
        Body::Form(fields) => {
            let mut all: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            if let Some(t) = &carried {
                all.insert(0, ("_csrf", t));
            }
            req.form(&all)
        }
        Body::Multipart(field, name, bytes) => {
            let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name(*name);
            req.multipart(reqwest::multipart::Form::new().part(*field, part))
        }
        Body::Bytes(bytes) => {
            let req = req
                .header("content-type", "application/octet-stream")
                .body(bytes.clone());
            match &carried {
                Some(t) => req.header("x-csrf-token", t),
                None => req,
            }
        }
    };
    req = match token {
        Token::WrongHeader => req.header("x-csrf-token", "A".repeat(43)),
        Token::ForeignOrigin => req.header("origin", "https://evil.example"),
        Token::CrossSite => req.header("sec-fetch-site", "cross-site"),
        Token::NullOrigin => req.header("origin", "null"),
        _ => req.header("origin", app.base.clone()),
    };
    req.send().await.unwrap()
}

#[actix_web::test]
async fn every_unsafe_route_refuses_forged_csrf_and_changes_nothing() {
    let site_app = TestApp::spawn();
    let (clients, mut objects) = site(&site_app).await;
    let new_site = TestApp::spawn();
    objects.setup_token = new_site
        .setup_token
        .clone()
        .expect("a new site's setup token");
    let mut walked = 0;
    for (method, pattern) in unsafe_routes() {
        let step = step_for(method, pattern, &objects)
            .unwrap_or_else(|| panic!("{method} {pattern} is not in the walk"));
        let app = if step.who == Who::FirstVisitor {
            &new_site
        } else {
            &site_app
        };
        let c = &clients.of(app, step.who);
        // A safety check's personal link is its own credential (no session, no cookie, no token):
        // a page without the link cannot forge it, so only the Origin rules apply there, and an
        // opaque origin is how browsers send its own no-referrer form.
        let answer_link = pattern.starts_with("/a/");
        let forgeries: &[Token] = if answer_link {
            &[Token::ForeignOrigin, Token::CrossSite]
        } else {
            &[
                Token::Forged,
                Token::Missing,
                Token::WrongHeader,
                Token::ForeignOrigin,
                Token::CrossSite,
                Token::NullOrigin,
            ]
        };
        let before = snapshot(app);
        for forgery in forgeries {
            let res = send(app, c, method, &step, *forgery).await;
            assert_eq!(
                res.status(),
                403,
                "{forgery:?} accepted by {method} {} ({:?})",
                step.path,
                step.who
            );
        }
        let after = snapshot(app);
        assert_eq!(
            changed(&before, &after),
            Vec::<String>::new(),
            "a refused {method} {} changed data",
            step.path
        );
        // The same request with the right token reaches its handler and changes something: the
        // refusals above were the CSRF rules', not a path that leads nowhere.
        let res = send(app, c, method, &step, Token::Right).await;
        let status = res.status().as_u16();
        let page = res.text().await.unwrap();
        assert!(
            !matches!(status, 400 | 403 | 404 | 405 | 410) && status < 500,
            "the genuine {method} {} ({:?}) got {status}: {page}",
            step.path,
            step.who
        );
        app.outbox_drained().await;
        let done = snapshot(app);
        assert_ne!(
            changed(&after, &done),
            Vec::<String>::new(),
            "the genuine {method} {} ({:?}, {status}) changed nothing, so its refusal proves nothing",
            step.path,
            step.who
        );
        walked += 1;
    }
    assert_eq!(walked, unsafe_routes().len());
    let app = &site_app;
    // Visitors without the pre-session cookie (a cross-site form's only way in) are refused too.
    let before = snapshot(app);
    for path in ["/login", "/password/reset", "/setup"] {
        let res = app
            .client()
            .post(app.url(path))
            .form(&[("name", "victim"), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "anonymous POST {path} without token");
    }
    assert_eq!(changed(&before, &snapshot(app)), Vec::<String>::new());
}

/// The tables whose rows differ.
fn changed(before: &[String], after: &[String]) -> Vec<String> {
    before
        .iter()
        .zip(after)
        .filter(|(b, a)| b != a)
        .map(|(b, _)| b.split(' ').next().unwrap_or_default().to_owned())
        .collect()
}

#[actix_web::test]
async fn the_right_token_from_this_origin_is_accepted() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let token = app.csrf(&admin, "/admin/settings").await;
    let res = admin
        .post(app.url("/admin/settings"))
        .header("origin", app.base.clone())
        .form(&[
            ("_csrf", token.as_str()),
            ("title", "新しい名前"),
            ("tagline", ""),
            ("language", "ja"),
            ("timezone", "Asia/Tokyo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // The token may also come in the X-CSRF-Token header (what scripts and uploads use).
    let res = admin
        .post(app.url("/admin/settings"))
        .header("x-csrf-token", token.clone())
        .form(&[
            ("title", "ヘッダーで送信"),
            ("tagline", ""),
            ("language", "ja"),
            ("timezone", "Asia/Tokyo"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    let front = admin
        .get(app.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(front.contains("ヘッダーで送信"));
}
