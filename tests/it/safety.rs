//! Safety checks (安否確認) and circular notices (回覧板) over HTTP, with mail read from the SMTP sink
//! and links followed as a phone would.

use diesel::prelude::*;
use yui::db::schema::{notice_recipients, notices, outbox};

use crate::support::*;

/// The personal link in a safety mail.
fn link_in(body: &str) -> String {
    let start = body.find("http://").unwrap();
    body[start..].split_whitespace().next().unwrap().to_owned()
}

fn path_of(link: &str) -> String {
    let after = &link["http://".len()..];
    after[after.find('/').unwrap()..].to_owned()
}

/// Starts a check through the form as `c`, confirming it as the page that asks would; returns the
/// response.
async fn start(app: &TestApp, c: &reqwest::Client, fields: &[(&str, &str)]) -> reqwest::Response {
    let mut confirmed = fields.to_vec();
    confirmed.push(("confirmed", "yes"));
    app.post_form(c, "/safety/new", "/safety", &confirmed).await
}

fn check_id(res: &reqwest::Response) -> i64 {
    location(res)
        .strip_prefix("/safety/")
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("not a check: {}", location(res)))
}

/// `(condition, answered, proxy)` of a member's row.
fn row(app: &TestApp, check: i64, login: &str) -> (Option<String>, bool, bool) {
    let u = app.db(|conn| Ok(yui::models::user::find_by_login(conn, login)?));
    app.db(|conn| {
        let r: (Option<String>, Option<chrono::NaiveDateTime>, Option<i64>) =
            notice_recipients::table
                .find((check, u.id))
                .select((
                    notice_recipients::condition,
                    notice_recipients::answered_at,
                    notice_recipients::proxy_by,
                ))
                .first(conn)?;
        Ok((r.0, r.1.is_some(), r.2.is_some()))
    })
}

#[actix_web::test]
async fn a_drill_for_everyone_is_answered_from_the_mail_link_without_logging_in() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("hanako", false);
    app.create_user("taro", false);
    let res = start(
        &app,
        &admin,
        &[
            ("scope", "all"),
            ("title", "地震 安否確認"),
            ("drill", "on"),
            ("message", "落ち着いて回答してください。"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let id = check_id(&res);
    // Everyone gets a mail with their own link, marked as a drill.
    let mail = app
        .smtp
        .wait_for_subject("hanako@example.test", "地震 安否確認")
        .await;
    assert!(mail.subject.contains("訓練"), "{}", mail.subject);
    let taro_mail = app
        .smtp
        .wait_for_subject("taro@example.test", "地震 安否確認")
        .await;
    let link = link_in(&mail.body);
    assert_ne!(link, link_in(&taro_mail.body), "links are personal");
    let token = path_of(&link).trim_start_matches("/a/").to_owned();
    assert!(token.len() >= 43, "at least 256 bits");
    // The token is never stored, only its hash.
    let stored: Vec<Option<String>> = app.db(|conn| {
        Ok(notice_recipients::table
            .filter(notice_recipients::notice_id.eq(id))
            .select(notice_recipients::token_hash)
            .load(conn)?)
    });
    assert_eq!(stored.len(), 3, "admin, hanako and taro");
    assert!(
        stored
            .iter()
            .all(|h| h.as_deref().is_some_and(|h| h != token.as_str())),
        "every recipient has a hash, none is the link's token"
    );
    // A phone without a session opens it: a tiny page, no script, no referrer.
    let phone = app.client();
    let res = phone.get(&link).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["referrer-policy"], "no-referrer");
    let page = res.text().await.unwrap();
    assert!(!page.contains("<script"), "no JavaScript needed");
    assert!(page.contains("hanako さん"));
    assert!(page.contains("訓練"));
    let css_href = page
        .split("href=\"")
        .find(|s| s.starts_with("/static/"))
        .and_then(|s| s.split('"').next())
        .unwrap()
        .to_owned();
    let css = phone
        .get(app.url(&css_href))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert!(
        page.len() + css.len() <= 15 * 1024,
        "answer page {} + css {} bytes > 15 KB",
        page.len(),
        css.len()
    );
    // One tap on 無事.
    let res = phone
        .post(&link)
        .form(&[("condition", "safe")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("回答を受け付けました"));
    assert_eq!(row(&app, id, "hanako"), (Some("safe".into()), true, false));
    // Answering again updates it.
    let res = phone
        .post(&link)
        .form(&[
            ("condition", "injured"),
            ("place", "shelter"),
            ("comment", "足を少し"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(row(&app, id, "hanako").0.as_deref(), Some("injured"));
    // From another site it is refused, whatever the link.
    for (header, value) in [
        ("origin", "https://evil.example"),
        ("sec-fetch-site", "cross-site"),
    ] {
        let res = phone
            .post(&link)
            .header(header, value)
            .form(&[("condition", "need_help")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 403, "{header}: {value}");
    }
    // A bad answer is refused with the form again and changes nothing.
    let res = phone
        .post(&link)
        .form(&[("condition", "dead")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    assert_eq!(row(&app, id, "hanako").0.as_deref(), Some("injured"));
    // The dashboard counts it, need-help and injured first, drill marked.
    let board = admin
        .get(app.url(&format!("/safety/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(board.contains("訓練"));
    assert!(board.contains("足を少し"));
    let injured_at = board.find("hanako さん").unwrap();
    let unanswered_at = board.find("taro さん").unwrap();
    assert!(
        injured_at < unanswered_at,
        "the injured come before those who have not answered"
    );
    // The notice routes do not close a safety check.
    let res = app
        .post_form(
            &admin,
            &format!("/safety/{id}"),
            &format!("/notices/{id}/close"),
            &[("confirmed", "yes")],
        )
        .await;
    assert_eq!(res.status(), 404);
    let closed: Option<chrono::NaiveDateTime> = app.db(|conn| {
        Ok(notices::table
            .find(id)
            .select(notices::closed_at)
            .first(conn)?)
    });
    assert!(closed.is_none());
    // CSV export, with formulas defused.
    let csv = admin
        .get(app.url(&format!("/safety/{id}/export.csv")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("hanako,injured,shelter,,足を少し"), "{csv}");
    assert!(csv.contains("taro,,"), "{csv}");
}

#[actix_web::test]
async fn bad_and_stale_links_record_nothing_and_say_nothing_about_who_exists() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("hanako", false);
    let first = check_id(&start(&app, &admin, &[("scope", "all"), ("title", "一回目")]).await);
    let mail = app
        .smtp
        .wait_for_subject("hanako@example.test", "一回目")
        .await;
    let link = link_in(&mail.body);
    let token = path_of(&link).trim_start_matches("/a/").to_owned();
    let phone = app.client();
    let not_found = phone.get(app.url("/a/not-a-token")).send().await.unwrap();
    assert_eq!(not_found.status(), 404);
    let unknown_page = not_found.text().await.unwrap();
    for bad in [
        token[..30].to_owned(),
        // The last character changed (to one it is not).
        format!(
            "{}{}",
            &token[..42],
            if token.ends_with('A') { 'B' } else { 'A' }
        ),
        "A".repeat(43),
        format!("{token}/../1"),
    ] {
        for post in [false, true] {
            let url = app.url(&format!("/a/{bad}"));
            let res = if post {
                phone
                    .post(&url)
                    .form(&[("condition", "safe")])
                    .send()
                    .await
                    .unwrap()
            } else {
                phone.get(&url).send().await.unwrap()
            };
            assert_eq!(res.status(), 404, "{bad}");
            let page = res.text().await.unwrap();
            assert!(!page.contains("hanako"), "{bad}: names nobody");
            if !post {
                assert_eq!(page, unknown_page, "every bad link looks the same");
            }
        }
    }
    assert_eq!(row(&app, first, "hanako"), (None, false, false));
    // The link of one check does not answer another.
    let second = check_id(&start(&app, &admin, &[("scope", "all"), ("title", "二回目")]).await);
    phone
        .post(&link)
        .form(&[("condition", "safe")])
        .send()
        .await
        .unwrap();
    assert_eq!(row(&app, first, "hanako").0.as_deref(), Some("safe"));
    assert_eq!(row(&app, second, "hanako"), (None, false, false));
    // After the check is closed the link answers nothing, with a clear page.
    let res = app
        .post_form(
            &admin,
            &format!("/safety/{first}"),
            &format!("/safety/{first}/close"),
            &[("confirmed", "yes")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = phone
        .post(&link)
        .form(&[("condition", "need_help")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 410);
    assert!(res.text().await.unwrap().contains("終了しました"));
    assert_eq!(row(&app, first, "hanako").0.as_deref(), Some("safe"));
    // Someone logged in as another account opening hanako's link answers nothing and sees no name.
    let second_mail = app
        .smtp
        .wait_for_subject("hanako@example.test", "二回目")
        .await;
    let second_link = link_in(&second_mail.body);
    let taro = app.user("taro").signed_in().await;
    let res = taro.get(&second_link).send().await.unwrap();
    assert_eq!(res.status(), 409);
    assert!(!res.text().await.unwrap().contains("hanako"));
    let res = taro
        .post(&second_link)
        .form(&[("condition", "safe")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert_eq!(row(&app, second, "hanako"), (None, false, false));
    // The token appears in no log line and no audit entry.
    let audit: Vec<String> = app.db(|conn| {
        use yui::db::schema::audit_log;
        Ok(audit_log::table.select(audit_log::detail).load(conn)?)
    });
    assert!(audit.iter().all(|d| !d.contains(&token)));
}

/// A site where `officer` is safety officer of room "east" (a member there), `boss` manages
/// "west", and `e1`, `w1` are members of east and west.
async fn two_rooms(app: &TestApp) -> reqwest::Client {
    let admin = app.admin_client().await;
    for login in ["officer", "boss", "e1", "w1"] {
        app.user(login).create();
    }
    app.room("east")
        .named("east 班")
        .managed_by("admin")
        .member("officer", "member")
        .member("e1", "member")
        .officer("officer")
        .create(&admin)
        .await;
    app.room("west")
        .named("west 班")
        .managed_by("boss")
        .member("w1", "member")
        .create(&admin)
        .await;
    admin
}

#[actix_web::test]
async fn officers_start_checks_for_their_room_and_managers_see_only_their_people() {
    let app = TestApp::spawn();
    let admin = two_rooms(&app).await;
    let officer = app.sign_in("officer").await;
    let boss = app.sign_in("boss").await;
    let e1 = app.sign_in("e1").await;
    // A form without a title comes back (422) with its message and the officer's rooms to
    // choose from, and starts nothing.
    let res = start(&app, &officer, &[("scope", "east"), ("title", " ")]).await;
    assert_eq!(res.status(), 422);
    let page = res.text().await.unwrap();
    assert!(page.contains("id=\"err-title\""), "the title's message");
    assert!(
        page.contains("value=\"east\" selected"),
        "east, chosen again"
    );
    assert!(
        !page.contains("value=\"west\""),
        "only rooms the officer may start one for"
    );
    // The officer may start one for east, not for west, not for everyone.
    let res = start(&app, &officer, &[("scope", "east"), ("title", "東 確認")]).await;
    assert_eq!(res.status(), 303);
    let east_check = check_id(&res);
    assert_eq!(
        start(&app, &officer, &[("scope", "west"), ("title", "x")])
            .await
            .status(),
        404
    );
    assert_eq!(
        start(&app, &officer, &[("scope", "all"), ("title", "x")])
            .await
            .status(),
        404
    );
    // A plain member and a manager who is no officer may not start any.
    assert_eq!(
        e1.get(app.url("/safety/new"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    assert_eq!(
        start(&app, &boss, &[("scope", "west"), ("title", "x")])
            .await
            .status(),
        404
    );
    // Only east's members got it.
    app.smtp
        .wait_for_subject("e1@example.test", "東 確認")
        .await;
    assert!(app.mails_to("w1@example.test", "").await.is_empty());
    // A member sees the banner on every page and answers from it.
    let home = e1
        .get(app.url("/rooms"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("safety-banner"), "banner shown");
    assert!(home.contains(&format!("/safety/{east_check}/answer")));
    let res = app
        .post_form(
            &e1,
            &format!("/safety/{east_check}/answer"),
            &format!("/safety/{east_check}/answer"),
            &[("condition", "safe")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let home = e1
        .get(app.url("/rooms"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains("safety-banner"), "banner gone once answered");
    // A member opening the dashboard is sent to their own answer; they never see others'.
    let res = e1
        .get(app.url(&format!("/safety/{east_check}")))
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), format!("/safety/{east_check}/answer"));
    let csv = e1
        .get(app.url(&format!("/safety/{east_check}/export.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 404);
    // West's manager cannot see east's check at all.
    let res = boss
        .get(app.url(&format!("/safety/{east_check}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // A check for everyone: west's manager sees west's people only; the admin sees all.
    let all = check_id(&start(&app, &admin, &[("scope", "all"), ("title", "全体")]).await);
    let board = boss
        .get(app.url(&format!("/safety/{all}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(board.contains("w1 さん"));
    assert!(
        !board.contains("e1 さん"),
        "east's people stay hidden from west's manager"
    );
    let board = admin
        .get(app.url(&format!("/safety/{all}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(board.contains("w1 さん") && board.contains("e1 さん"));
    // A proxy answer by the manager is marked 代理回答; not for people outside their rooms.
    let res = app
        .post_form(
            &boss,
            &format!("/safety/{all}"),
            &format!("/safety/{all}/proxy/w1"),
            &[("condition", "safe"), ("comment", "電話で確認")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(row(&app, all, "w1"), (Some("safe".into()), true, true));
    let res = app
        .post_form(
            &boss,
            &format!("/safety/{all}"),
            &format!("/safety/{all}/proxy/e1"),
            &[("condition", "safe")],
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(row(&app, all, "e1"), (None, false, false));
    let board = boss
        .get(app.url(&format!("/safety/{all}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(board.contains("代理回答"));
    // A drill and a real check never mix: each has its own rows.
    assert_eq!(row(&app, east_check, "e1").0.as_deref(), Some("safe"));
    assert_eq!(row(&app, all, "e1").0, None);
}

/// Being a member of a room one cannot read (準備中, or a sub-room behind a closed parent) hides
/// only that room: `/safety` and the dashboard still work, with the manager's own people.
#[actix_web::test]
async fn an_unreadable_room_does_not_hide_the_safety_pages() {
    let app = TestApp::spawn();
    let admin = two_rooms(&app).await;
    app.room("plans")
        .preparing()
        .member("boss", "member")
        .member("e1", "member")
        .create(&admin)
        .await;
    app.room("secret").closed().create(&admin).await;
    app.room("inner")
        .under("secret")
        .member("boss", "member")
        .member("e1", "member")
        .create(&admin)
        .await;
    let all = check_id(&start(&app, &admin, &[("scope", "all"), ("title", "全体確認")]).await);
    let boss = app.sign_in("boss").await;
    let res = boss.get(app.url("/safety")).send().await.unwrap();
    assert_eq!(res.status(), 200, "the nav link of west's manager works");
    let page = res.text().await.unwrap();
    assert!(
        page.contains(&format!("/safety/{all}\"")),
        "the check is listed"
    );
    let res = boss
        .get(app.url(&format!("/safety/{all}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "and its dashboard opens");
    let board = res.text().await.unwrap();
    assert!(board.contains("w1 さん") && !board.contains("e1 さん"));
    let e1 = app.sign_in("e1").await;
    assert_eq!(
        e1.get(app.url("/safety")).send().await.unwrap().status(),
        200,
        "a plain member's /safety too"
    );
}

/// A safety officer who is removed from a room (or leaves it) stops being its officer: rejoining
/// an open room gives the newcomer's role, not the office back.
#[actix_web::test]
async fn a_removed_officer_who_rejoins_is_no_officer() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.user("kenji").create();
    app.room("plaza").open_to_join().create(&admin).await;
    let kenji = app.sign_in("kenji").await;
    for (who, how) in [("remove", "removed by a manager"), ("leave", "left")] {
        let res = app
            .post_form(&kenji, "/rooms/plaza", "/rooms/plaza/join", &[])
            .await;
        assert_eq!(res.status(), 303, "kenji joins ({how})");
        let res = app
            .post_form(
                &admin,
                "/rooms/plaza/members",
                "/rooms/plaza/officers/kenji",
                &[("officer", "on")],
            )
            .await;
        assert_eq!(res.status(), 303);
        assert_eq!(
            kenji
                .get(app.url("/safety/new"))
                .send()
                .await
                .unwrap()
                .status(),
            200,
            "an officer may start a check"
        );
        let res = if who == "remove" {
            app.post_form(
                &admin,
                "/rooms/plaza/members",
                "/rooms/plaza/members/kenji",
                &[("action", "remove")],
            )
            .await
        } else {
            app.post_form(&kenji, "/rooms/plaza", "/rooms/plaza/leave", &[])
                .await
        };
        assert_eq!(res.status(), 303, "{how}");
        let res = app
            .post_form(&kenji, "/rooms/plaza", "/rooms/plaza/join", &[])
            .await;
        assert_eq!(res.status(), 303, "kenji rejoins the open room");
        assert_eq!(
            kenji
                .get(app.url("/safety/new"))
                .send()
                .await
                .unwrap()
                .status(),
            404,
            "{how}, then rejoined: no officer"
        );
        assert_eq!(
            start(&app, &kenji, &[("scope", "plaza"), ("title", "乗っ取り")])
                .await
                .status(),
            404,
            "{how}, then rejoined: starts no check"
        );
        // Nor does he read the room's answers of a check someone else starts.
        let id = check_id(&start(&app, &admin, &[("scope", "plaza"), ("title", "確認")]).await);
        let res = kenji
            .get(app.url(&format!("/safety/{id}/export.csv")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 404, "{how}: no CSV of everyone's answers");
        let res = app
            .post_form(
                &admin,
                &format!("/safety/{id}"),
                &format!("/safety/{id}/close"),
                &[("confirmed", "yes")],
            )
            .await;
        assert_eq!(res.status(), 303);
        // Out again for the next round.
        let res = app
            .post_form(&kenji, "/rooms/plaza", "/rooms/plaza/leave", &[])
            .await;
        assert_eq!(res.status(), 303);
    }
}

/// The answers of a notice are the room's: its sender keeps them only while in the room. A circular's
/// sender who is removed, and a safety officer who started a check and then lost the room, can no
/// longer see everyone's status, remind, close or export it.
#[actix_web::test]
async fn a_sender_who_lost_the_room_loses_its_answers() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    for login in ["sato", "kenji", "yuki"] {
        app.user(login).create();
    }
    app.room("hall")
        .member("sato", "editor")
        .member("kenji", "member")
        .member("yuki", "member")
        .officer("kenji")
        .create(&admin)
        .await;
    let sato = app.sign_in("sato").await;
    let res = app
        .post_form(
            &sato,
            "/rooms/hall/notices/new",
            "/rooms/hall/notices",
            &[
                ("title", "総会の出欠"),
                ("body", "出欠を教えてください。"),
                ("question_kind", "single"),
                ("question", "出席しますか"),
                ("choices", "出席\n欠席"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let circular = location(&res);
    let kenji = app.sign_in("kenji").await;
    let check = check_id(&start(&app, &kenji, &[("scope", "hall"), ("title", "避難確認")]).await);
    app.smtp
        .wait_for_subject("yuki@example.test", "総会の出欠")
        .await;
    app.smtp
        .wait_for_subject("yuki@example.test", "避難確認")
        .await;
    let check = format!("/safety/{check}");
    // While in the room, each manages their own.
    let page = sato.get(app.url(&circular)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(
        page.text().await.unwrap().contains("yuki さん"),
        "status shown"
    );
    let csv = kenji
        .get(app.url(&format!("{check}/export.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    // Demoted, the sender still manages the circular (a member of the room who sent it).
    let res = app
        .post_form(
            &admin,
            "/rooms/hall/members",
            "/rooms/hall/members/sato",
            &[("action", "role"), ("role", "member")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        sato.get(app.url(&format!("{circular}/export.csv")))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    for login in ["sato", "kenji"] {
        let res = app
            .post_form(
                &admin,
                "/rooms/hall/members",
                &format!("/rooms/hall/members/{login}"),
                &[("action", "remove")],
            )
            .await;
        assert_eq!(res.status(), 303, "{login} removed");
    }
    for (who, base) in [(&sato, &circular), (&kenji, &check)] {
        let res = who.get(app.url(base)).send().await.unwrap();
        if base.starts_with("/safety/") {
            // A recipient of the check is sent to their own answer, as any member is.
            assert_eq!(
                location(&res),
                format!("{base}/answer"),
                "{base}: no dashboard"
            );
        } else {
            assert_eq!(res.status(), 404, "{base}: no status page");
        }
        let csv = who
            .get(app.url(&format!("{base}/export.csv")))
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), 404, "{base}: no CSV");
        for act in ["remind", "close"] {
            let res = app
                .post_form(
                    who,
                    "/notices",
                    &format!("{base}/{act}"),
                    &[("confirmed", "yes")],
                )
                .await;
            assert_eq!(res.status(), 404, "{base}/{act}");
        }
    }
    let closed: Vec<Option<chrono::NaiveDateTime>> =
        app.db(|conn| Ok(notices::table.select(notices::closed_at).load(conn)?));
    assert!(closed.iter().all(Option::is_none), "nothing was closed");
}

#[actix_web::test]
async fn automatic_reminders_reach_only_those_who_have_not_answered_once_per_round() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("hanako", false);
    app.create_user("taro", false);
    let id = check_id(
        &start(
            &app,
            &admin,
            &[
                ("scope", "all"),
                ("title", "再送テスト"),
                ("remind_every", "10"),
                ("remind_max", "2"),
            ],
        )
        .await,
    );
    let first = app
        .smtp
        .wait_for_subject("hanako@example.test", "再送テスト")
        .await;
    let link = link_in(&first.body);
    app.client()
        .post(&link)
        .form(&[("condition", "safe")])
        .send()
        .await
        .unwrap();
    // The round is due: two "processes" race for it; one wins.
    app.db(|conn| {
        diesel::update(notices::table.find(id))
            .set(
                notices::next_remind_at.eq(Some(yui::models::now() - chrono::Duration::minutes(1))),
            )
            .execute(conn)?;
        Ok(())
    });
    let (a, b) = (app.core.clone(), app.core.clone());
    let at = yui::models::now();
    let (x, y) = tokio::join!(
        actix_web::web::block(move || yui::services::notices::send_due_reminders(&a, at)),
        actix_web::web::block(move || yui::services::notices::send_due_reminders(&b, at)),
    );
    let (x, y) = (x.unwrap().unwrap(), y.unwrap().unwrap());
    // admin and taro had not answered; hanako had.
    assert_eq!(x + y, 2, "one round, two mails");
    let reminder = app.smtp.wait_for_subject("taro@example.test", "再送").await;
    assert_eq!(
        link_in(&reminder.body),
        link_in(
            &app.smtp
                .wait_for_subject("taro@example.test", "再送テスト")
                .await
                .body
        ),
        "the reminder carries the same personal link"
    );
    let to_hanako = app.db(|conn| {
        Ok(outbox::table
            .filter(outbox::to_addr.eq("hanako@example.test"))
            .count()
            .get_result::<i64>(conn)?)
    });
    assert_eq!(to_hanako, 1, "no reminder for someone who answered");
    let (sent, next): (i64, Option<chrono::NaiveDateTime>) = app.db(|conn| {
        Ok(notices::table
            .find(id)
            .select((notices::reminders_sent, notices::next_remind_at))
            .first(conn)?)
    });
    assert_eq!(sent, 1);
    assert!(next.is_some(), "one more round to come");
}

#[actix_web::test]
async fn with_the_smtp_server_down_nothing_is_lost_and_sending_resumes() {
    let app = TestApp::spawn_with(Options {
        smtp_down: true,
        ..Options::default()
    });
    let admin = app.admin_client().await;
    for i in 0..5 {
        app.create_user(&format!("m{i}"), false);
    }
    let res = start(&app, &admin, &[("scope", "all"), ("title", "停電中")]).await;
    assert_eq!(res.status(), 303);
    // The sender tries and fails; every mail stays queued.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let attempted: i64 = app.db(|conn| {
            Ok(outbox::table
                .filter(outbox::attempts.gt(0))
                .count()
                .get_result(conn)?)
        });
        if attempted > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the sender never tried"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(app.smtp.mails().is_empty());
    // The server comes back; the backoff is cut short as if its time had come. A round that was
    // failing against the dead server when we cut it short sets its own backoff afterwards, so the
    // cut is repeated until every mail has gone (each must still go exactly once, checked below).
    app.smtp.serve();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.smtp.mails().len() < 6 {
        app.db(|conn| {
            diesel::update(outbox::table.filter(outbox::sent_at.is_null()))
                .set(outbox::next_attempt_at.eq(yui::models::now()))
                .execute(conn)?;
            Ok(())
        });
        app.core.db.mail_wakeup().notify_one();
        assert!(
            std::time::Instant::now() < deadline,
            "sending never resumed: {:?}",
            app.smtp.mails()
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    for i in 0..5 {
        app.smtp
            .wait_for_subject(&format!("m{i}@example.test"), "停電中")
            .await;
    }
    app.smtp
        .wait_for_subject("admin@example.test", "停電中")
        .await;
    app.outbox_drained().await;
    let mails = app.smtp.mails();
    assert_eq!(mails.len(), 6, "each mail once: {mails:?}");
}

#[actix_web::test]
async fn a_circular_notice_is_read_answered_reminded_and_exported() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.user("hanako").create();
    app.user("taro").create();
    app.room("town")
        .named("町内会")
        .managed_by("admin")
        .member("hanako", "member")
        .member("taro", "member")
        .create(&admin)
        .await;
    let hanako = app.sign_in("hanako").await;
    // A 一般 member may not send one.
    let res = hanako
        .get(app.url("/rooms/town/notices/new"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    // Bad input is refused with messages.
    let res = app
        .post_form(
            &admin,
            "/rooms/town/notices/new",
            "/rooms/town/notices",
            &[
                ("title", "清掃"),
                ("question_kind", "single"),
                ("question", "参加?"),
                ("choices", "はい"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    let res = app
        .post_form(
            &admin,
            "/rooms/town/notices/new",
            "/rooms/town/notices",
            &[
                ("title", "地域清掃のお知らせ"),
                ("body", "日曜 9 時に公民館前。"),
                ("question_kind", "single"),
                ("question", "参加しますか"),
                ("choices", "参加\n不参加"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let id: i64 = location(&res)
        .trim_start_matches("/notices/")
        .parse()
        .unwrap();
    let mail = app
        .smtp
        .wait_for_subject("hanako@example.test", "地域清掃のお知らせ")
        .await;
    assert!(mail.body.contains(&format!("/notices/{id}")));
    // The sender sees both unread.
    let status = admin
        .get(app.url(&format!("/notices/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        status.matches("state-pending\">未読").count(),
        2,
        "{status}"
    );
    // Until she reads it, hanako's navigation counts it on every page.
    let home = hanako
        .get(app.url("/rooms"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(home.contains("class=\"count-badge\""), "unread count shown");
    // hanako opens it (read) and answers.
    let page = hanako
        .get(app.url(&format!("/notices/{id}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("参加しますか"));
    let home = hanako
        .get(app.url("/rooms"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!home.contains("class=\"count-badge\""), "read: no count");
    let res = app
        .post_form(
            &hanako,
            &format!("/notices/{id}"),
            &format!("/notices/{id}/answer"),
            &[("q", "参加"), ("user_id", "1")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &hanako,
            &format!("/notices/{id}"),
            &format!("/notices/{id}/answer"),
            &[("q", "たぶん")],
        )
        .await;
    assert_eq!(res.status(), 422);
    // taro cannot answer for someone else, and an outsider sees nothing.
    let outsider = app.user("outsider").signed_in().await;
    assert_eq!(
        outsider
            .get(app.url(&format!("/notices/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    // Remind the one who has not read it: only taro gets a second mail.
    let res = app
        .post_form(
            &admin,
            &format!("/notices/{id}"),
            &format!("/notices/{id}/remind"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    app.smtp.wait_for_subject("taro@example.test", "再送").await;
    assert_eq!(app.mails_to("hanako@example.test", "").await.len(), 1);
    assert_eq!(app.mails_to("taro@example.test", "").await.len(), 2);
    let csv = admin
        .get(app.url(&format!("/notices/{id}/export.csv")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // The safety routes never act on a notice (nor the other way round), even for an admin.
    for op in ["close", "remind"] {
        let res = app
            .post_form(
                &admin,
                &format!("/notices/{id}"),
                &format!("/safety/{id}/{op}"),
                &[("confirmed", "yes")],
            )
            .await;
        assert_eq!(res.status(), 404, "/safety/{id}/{op} on a circular notice");
    }
    assert_eq!(
        admin
            .get(app.url(&format!("/safety/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let hanako_line = csv.lines().find(|l| l.contains(",hanako,")).unwrap();
    assert!(hanako_line.ends_with(",参加"), "{hanako_line}");
    let taro_line = csv.lines().find(|l| l.contains(",taro,")).unwrap();
    assert!(taro_line.ends_with(",,,"), "{taro_line}");
    assert_eq!(
        hanako
            .get(app.url(&format!("/notices/{id}/export.csv")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
}

/// Two senders (as two `yui serve` processes sharing one database) drain the outbox of a check at
/// the same time: everyone gets exactly one mail.
#[actix_web::test]
async fn two_senders_on_one_database_send_each_safety_mail_once() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    for i in 0..40 {
        app.create_user(&format!("p{i}"), false);
    }
    let res = start(&app, &admin, &[("scope", "all"), ("title", "二重送信なし")]).await;
    assert_eq!(res.status(), 303);
    // The app's own jobs loop is one sender; this is a second one with its own lease owner.
    let mailer = yui::mail::Mailer::from_config(
        &yui::config::MailConfig {
            transport: yui::config::MailTransport::Smtp,
            smtp_host: "127.0.0.1".into(),
            smtp_port: app.smtp.port,
            smtp_tls: yui::config::SmtpTls::None,
            ..yui::config::MailConfig::default()
        },
        std::env::temp_dir(),
    )
    .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        yui::jobs::send_due(
            &app.core.db,
            &mailer,
            "Yui <b@example.test>",
            "second-process",
        )
        .await
        .unwrap();
        let pending: i64 = app.db(|conn| {
            Ok(outbox::table
                .filter(outbox::sent_at.is_null())
                .count()
                .get_result(conn)?)
        });
        if pending == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{pending} mails still queued"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    for i in 0..40 {
        app.smtp
            .wait_for_subject(&format!("p{i}@example.test"), "二重送信なし")
            .await;
    }
    let mails = app.smtp.mails();
    for i in 0..40 {
        let to = format!("p{i}@example.test");
        let n = mails.iter().filter(|m| m.to.contains(&to)).count();
        assert_eq!(n, 1, "{to} got {n} mails");
    }
    assert_eq!(mails.len(), 41, "40 members and the admin, once each");
}

/// A safety mail says where it comes from: sent in the site's title (the configured `mail.from` is
/// a bare address) and with the title in its subject, so a family recognises it among their mail.
#[actix_web::test]
async fn a_safety_mail_comes_in_the_site_s_name() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("hanako", false);
    let res = app
        .post_form(
            &admin,
            "/admin/settings",
            "/admin/settings",
            &[
                ("title", "みどり町内会"),
                ("tagline", ""),
                ("language", "ja"),
                ("timezone", "Asia/Tokyo"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = start(
        &app,
        &admin,
        &[
            ("scope", "all"),
            ("title", "地震 安否確認"),
            ("drill", "on"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("hanako@example.test", "地震 安否確認")
        .await;
    assert_eq!(mail.from_name, "みどり町内会");
    assert!(
        mail.subject.starts_with("[みどり町内会] "),
        "{}",
        mail.subject
    );
}

/// A real check mails everyone at once, so the form asks first — naming how many people and which
/// room — and nothing is created or sent until the officer says yes; "edit" brings the form back as
/// typed. A drill starts at once.
#[actix_web::test]
async fn a_real_check_asks_before_it_mails_anyone_and_a_drill_does_not() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    for login in ["hanako", "taro", "jiro"] {
        app.create_user(login, false);
    }
    let notices_and_mail = |app: &TestApp| {
        app.db(|conn| {
            let n: i64 = notices::table.count().get_result(conn)?;
            let m: i64 = outbox::table.count().get_result(conn)?;
            Ok((n, m))
        })
    };
    let fields = [
        ("scope", "all"),
        ("title", "震度6弱 安否確認"),
        ("message", "落ち着いて回答してください"),
    ];
    let res = app
        .post_form(&admin, "/safety/new", "/safety", &fields)
        .await;
    assert_eq!(res.status(), 200, "asks first");
    let page = res.text().await.unwrap();
    assert!(page.contains("震度6弱 安否確認"), "names the check");
    assert!(page.contains("（4 人）"), "says how many get mail: {page}");
    assert!(page.contains("name=\"confirmed\" value=\"yes\""));
    assert!(
        page.contains("value=\"落ち着いて回答してください\""),
        "carries the form"
    );
    assert_eq!(
        notices_and_mail(&app),
        (0, 0),
        "nothing created or sent yet"
    );

    // Back to the form, as typed.
    let mut edit = fields.to_vec();
    edit.push(("confirmed", "edit"));
    let res = app.post_form(&admin, "/safety/new", "/safety", &edit).await;
    assert_eq!(res.status(), 200);
    let page = res.text().await.unwrap();
    assert!(page.contains("value=\"震度6弱 安否確認\""), "title kept");
    assert!(
        !page.contains("name=\"confirmed\" value=\"yes\""),
        "the form, not the question"
    );
    assert_eq!(notices_and_mail(&app), (0, 0));

    // An invalid form is the form with its errors, not a question.
    let res = app
        .post_form(
            &admin,
            "/safety/new",
            "/safety",
            &[("scope", "all"), ("title", "")],
        )
        .await;
    assert_eq!(res.status(), 422);

    // Yes starts it.
    let res = start(&app, &admin, &fields).await;
    assert_eq!(res.status(), 303);
    let (n, m) = notices_and_mail(&app);
    assert_eq!(n, 1);
    assert!(m >= 4, "everyone is mailed: {m}");

    // A drill is started at once.
    let res = app
        .post_form(
            &admin,
            "/safety/new",
            "/safety",
            &[("scope", "all"), ("title", "訓練"), ("drill", "on")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(notices_and_mail(&app).0, 2);
}

/// Closing a check asks first, saying how many have not answered; only yes closes it, and someone
/// who may not close it is not even asked.
#[actix_web::test]
async fn closing_a_check_asks_first_and_only_for_those_who_may_close_it() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let hanako = app.user("hanako").signed_in().await;
    let res = start(
        &app,
        &admin,
        &[("scope", "all"), ("title", "台風 安否確認")],
    )
    .await;
    let id = check_id(&res);
    let closed_at = |app: &TestApp| {
        app.db(|conn| {
            Ok(notices::table
                .find(id)
                .select(notices::closed_at)
                .first::<Option<chrono::NaiveDateTime>>(conn)?)
        })
    };
    let close = format!("/safety/{id}/close");
    let page = format!("/safety/{id}");
    for fields in [&[][..], &[("confirmed", "yes")][..]] {
        let res = app.post_form(&hanako, "/safety", &close, fields).await;
        assert_eq!(
            res.status(),
            404,
            "a recipient does not close it: {fields:?}"
        );
    }
    let res = app.post_form(&admin, &page, &close, &[]).await;
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("台風 安否確認"), "names the check");
    assert!(body.contains("まだ 2 人が回答していません"), "{body}");
    assert!(closed_at(&app).is_none(), "not closed by the question");
    let res = app
        .post_form(&admin, &page, &close, &[("confirmed", "yes")])
        .await;
    assert_eq!(res.status(), 303);
    assert!(closed_at(&app).is_some());
}

/// The sender's own question stands on the answer page next to the big buttons, not folded under
/// 詳しく where nobody opens it.
#[actix_web::test]
async fn the_sender_s_extra_question_is_not_hidden_under_the_details() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("hanako", false);
    let res = start(
        &app,
        &admin,
        &[
            ("scope", "all"),
            ("title", "大雪 安否確認"),
            ("drill", "on"),
            ("extra_kind", "single"),
            ("extra_question", "明日は出勤できますか"),
            ("extra_choices", "できる\nできない"),
        ],
    )
    .await;
    assert_eq!(res.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("hanako@example.test", "大雪 安否確認")
        .await;
    let page = app
        .client()
        .get(link_in(&mail.body))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let question = page
        .find("明日は出勤できますか")
        .expect("the question is on the page");
    let details = page
        .find("<details class=\"more\"")
        .expect("the details are there");
    assert!(
        question < details,
        "the question comes before the folded details"
    );
}

/// A circular's sender ticks recipients by display name (no logins to type or to see); only the
/// ticked members get it; a ticked id that is not a member (a forged form, or someone removed
/// since the page was shown) is refused and nothing goes out.
#[actix_web::test]
async fn a_circular_goes_to_the_members_ticked_by_name_only() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let hanako = app.user("hanako").create();
    let taro = app.user("taro").create();
    let outsider = app.user("saburo").create();
    app.room("town")
        .named("町内会")
        .managed_by("admin")
        .member("hanako", "member")
        .member("taro", "member")
        .create(&admin)
        .await;
    let page = admin
        .get(app.url("/rooms/town/notices/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for u in [&hanako, &taro] {
        assert!(page.contains(&format!("name=\"to_{}\"", u.id)), "{page}");
        assert!(page.contains(&u.display_name));
    }
    assert!(
        !page.contains(&format!("name=\"to_{}\"", outsider.id)),
        "only members are listed"
    );
    let send = |ticked: i64, title: &'static str| {
        let field = format!("to_{ticked}");
        let app = &app;
        let admin = &admin;
        async move {
            app.post_form(
                admin,
                "/rooms/town/notices/new",
                "/rooms/town/notices",
                &[
                    ("title", title),
                    ("question_kind", "none"),
                    (field.as_str(), "on"),
                ],
            )
            .await
        }
    };
    let res = send(outsider.id, "よそ者へ").await;
    assert_eq!(
        res.status(),
        422,
        "someone outside the room cannot be ticked"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("class=\"field-error\""), "{html}");
    let res = send(taro.id, "班長会議").await;
    assert_eq!(res.status(), 303);
    app.smtp
        .wait_for_subject("taro@example.test", "班長会議")
        .await;
    app.outbox_drained().await;
    let to: Vec<String> = app.smtp.mails().iter().flat_map(|m| m.to.clone()).collect();
    assert!(
        !to.iter()
            .any(|t| t.contains("hanako") || t.contains("saburo")),
        "only taro gets it: {to:?}"
    );
}
