//! The member's home (`/home`), where login lands: what waits for them and what is new, each list
//! limited to what they may read.

use diesel::prelude::*;
use yui::db::schema::post_revisions;

use crate::support::*;

async fn page(app: &TestApp, c: &reqwest::Client) -> String {
    let res = c.get(app.url("/home")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.text().await.unwrap()
}

#[actix_web::test]
async fn a_member_s_home_shows_what_waits_for_them_and_what_is_new_in_their_rooms() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let hanako = app.user("hanako").signed_in().await;
    let taro = app.user("taro").signed_in().await;
    app.room("town")
        .named("町内会")
        .with_approval()
        .member("hanako", "member")
        .member("taro", "chief_editor")
        .create(&admin)
        .await;
    app.room("board")
        .named("役員会")
        .closed()
        .create(&admin)
        .await;

    // Hanako's own: a draft, one waiting, one sent back.
    app.post_in("town", "書きかけの記事").draft(&hanako).await;
    app.post_in("town", "承認待ちの記事").submit(&hanako).await;
    let back = app
        .post_in("town", "差し戻された記事")
        .submit(&hanako)
        .await;
    let revision: i64 = {
        let id = back.id;
        app.db(move |conn| {
            Ok(post_revisions::table
                .filter(post_revisions::post_id.eq(id))
                .select(post_revisions::id)
                .first(conn)?)
        })
    };
    let res = app
        .post_form(
            &taro,
            &back.path,
            &format!("{}/send-back", back.path),
            &[
                ("revision", &revision.to_string()),
                ("note", "写真を足してください"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    // New in her room, and something in a room she cannot read.
    app.post_in("town", "町内会だより 12月号")
        .published(&taro)
        .await;
    app.post_in("board", "役員だけの記事")
        .published(&admin)
        .await;
    // A circular notice to the room and a drill for everyone.
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
    let notice = location(&res);
    let res = app
        .post_form(
            &admin,
            "/safety/new",
            "/safety",
            &[
                ("scope", "all"),
                ("title", "訓練 安否確認"),
                ("drill", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let check = location(&res);

    let home = page(&app, &hanako).await;
    assert!(home.contains("訓練 安否確認"), "the check to answer");
    assert!(home.contains(&format!("href=\"{check}/answer\"")));
    assert!(home.contains("未読の回覧板（1 件）") && home.contains("地域清掃のお知らせ"));
    for own in ["書きかけの記事", "承認待ちの記事", "差し戻された記事"] {
        assert!(home.contains(own), "her {own}");
    }
    assert!(
        home.contains("state-sent_back"),
        "sent back, marked as such"
    );
    assert!(home.contains("町内会だより 12月号"), "new in her room");
    assert!(home.contains("町内会") && home.contains("7 日以内の新着 1 件"));
    assert!(
        !home.contains("役員だけの記事") && !home.contains("役員会"),
        "not hers to read"
    );
    assert!(!home.contains("承認を待っています"), "she approves nothing");

    // The chief editor sees what waits for approval, and none of her drafts.
    let home = page(&app, &taro).await;
    assert!(home.contains("1 件の記事が承認を待っています"), "{home}");
    assert!(!home.contains("書きかけの記事") && !home.contains("差し戻された記事"));

    // Answered and read, they leave her home.
    let res = app
        .post_form(
            &hanako,
            &format!("{check}/answer"),
            &format!("{check}/answer"),
            &[("condition", "safe")],
        )
        .await;
    assert!(res.status().is_redirection(), "{}", res.status());
    let res = hanako.get(app.url(&notice)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let home = page(&app, &hanako).await;
    assert!(!home.contains("訓練 安否確認"), "answered");
    assert!(!home.contains("未読の回覧板"), "read");
}

#[actix_web::test]
async fn login_lands_on_the_home_and_visitors_are_asked_to_log_in() {
    let app = TestApp::spawn();
    app.user("hanako").create();
    let visitor = app.client();
    let res = visitor.get(app.url("/home")).send().await.unwrap();
    assert!(res.status().is_redirection());
    assert!(location(&res).starts_with("/login"), "{}", location(&res));
    // The login form, opened from the menu (no `next`), brings a member home.
    let form = visitor
        .get(app.url("/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = visitor
        .post(app.url("/login"))
        .form(&[
            ("_csrf", csrf_from(&form).as_str()),
            ("name", "hanako"),
            ("password", PASSWORD),
            ("next", &next_in(&form)),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/home");
    let home = page(&app, &visitor).await;
    assert!(home.contains("href=\"/home\""), "the menu has a home link");
}

/// The login form's hidden `next`.
fn next_in(page: &str) -> String {
    let at = page
        .find("name=\"next\" value=\"")
        .unwrap_or_else(|| panic!("no next field"))
        + 19;
    page[at..page[at..].find('"').unwrap() + at].to_owned()
}

/// The home lists the coming week's dates of every calendar the member reads, and no other.
#[actix_web::test]
async fn the_home_lists_the_coming_week_s_dates_of_the_member_s_calendars() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let hanako = app.user("hanako").signed_in().await;
    app.room("club")
        .named("写真部")
        .closed()
        .features(&["blog", "calendar"])
        .member("hanako", "member")
        .create(&admin)
        .await;
    app.room("staff")
        .named("職員室")
        .closed()
        .features(&["calendar"])
        .create(&admin)
        .await;
    let tz: chrono_tz::Tz = "Asia/Tokyo".parse().unwrap();
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let day = |n: i64| (today + chrono::Duration::days(n)).to_string();
    for (room, title, date) in [
        ("club", "撮影会", day(1)),
        ("club", "来月の展示", day(40)),
        ("staff", "職員会議", day(1)),
    ] {
        let res = app
            .post_form(
                &admin,
                &format!("/rooms/{room}/calendar"),
                &format!("/rooms/{room}/calendar/events"),
                &[
                    ("title", title),
                    ("start_date", &date),
                    ("start_time", "10:00"),
                    ("end_time", "11:00"),
                    ("repeat", "never"),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "{title}");
    }
    let home = page(&app, &hanako).await;
    assert!(home.contains("撮影会"), "this week in her room");
    assert!(home.contains(&format!("{} 10:00", day(1))), "with its time");
    assert!(!home.contains("来月の展示"), "not this week");
    assert!(!home.contains("職員会議"), "not her room");
}
