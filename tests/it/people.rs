//! The member directory (名簿) and profile pages: only people one shares a room with, found by
//! display name; never a login; site admins see everyone and their last login.

use crate::support::*;

async fn page(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap_or_default())
}

#[actix_web::test]
async fn the_directory_lists_only_people_who_share_a_room() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let hanako = app.user("hanako").create();
    let taro = app.user("taro").create();
    let jiro = app.user("jiro").create();
    app.room("town")
        .named("町内会")
        .managed_by("admin")
        .member("hanako", "member")
        .member("taro", "member")
        .create(&admin)
        .await;
    app.room("club")
        .named("囲碁クラブ")
        .managed_by("jiro")
        .create(&admin)
        .await;
    let as_hanako = app.sign_in("hanako").await;

    let (status, html) = page(&as_hanako, &app, "/people").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("href=\"/people/{}\"", taro.id)),
        "{html}"
    );
    assert!(
        !html.contains(&format!("/people/{}\"", jiro.id)),
        "jiro shares no room with her"
    );
    let (_, html) = page(&as_hanako, &app, "/people?q=tar").await;
    assert!(html.contains(&format!("/people/{}\"", taro.id)));
    assert!(
        !html.contains(&format!("/people/{}\"", hanako.id)),
        "the search narrows"
    );
    let (status, html) = page(&as_hanako, &app, "/people?q=%25").await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("href=\"/people/"),
        "a % is a character, not a wildcard"
    );

    // Profiles: a room-mate's shows the shared room; a stranger's does not exist for her.
    let (status, html) = page(&as_hanako, &app, &format!("/people/{}", taro.id)).await;
    assert_eq!(status, 200);
    assert!(html.contains("町内会") && !html.contains("囲碁クラブ"));
    assert!(
        !html.contains("最終ログイン"),
        "only admins see last logins"
    );
    assert_eq!(
        page(&as_hanako, &app, &format!("/people/{}", jiro.id))
            .await
            .0,
        404
    );
    assert_eq!(page(&as_hanako, &app, "/people/999999").await.0, 404);
    assert_eq!(
        page(&as_hanako, &app, &format!("/people/{}", hanako.id))
            .await
            .0,
        200
    );
    // Anonymous visitors are sent to log in.
    let res = app.client().get(app.url("/people")).send().await.unwrap();
    assert!(location(&res).starts_with("/login"));
    // The admin sees everyone, with the last login.
    let (status, html) = page(&admin, &app, &format!("/people/{}", jiro.id)).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("囲碁クラブ") && html.contains("最終ログイン"),
        "{html}"
    );
    // Removed from the room, taro is a stranger again.
    let res = app
        .post_form(
            &admin,
            "/rooms/town/members",
            "/rooms/town/members/taro",
            &[("action", "remove")],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        page(&as_hanako, &app, &format!("/people/{}", taro.id))
            .await
            .0,
        404
    );
}
