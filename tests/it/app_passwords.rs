//! App passwords on `/me` (issue #14): made with the current password, shown once, stored as a
//! keyed hash, listed with their last use, revocable; the only credential drive and music clients
//! accept, counted against the login limits when wrong.

use diesel::prelude::*;
use yui::db::schema::{app_passwords, login_failures};
use yui::db::types::AppPasswordScope;
use yui::services::app_passwords::{ClientCredentials, Refused, authenticate};
use yui::services::auth::IP_FAILURE_LIMIT;

use crate::support::*;

/// Makes an app password on `/me` as `c` and returns its secret (read from the page).
pub async fn make_app_password(app: &TestApp, c: &reqwest::Client, name: &str) -> String {
    let res = app
        .post_form(
            c,
            "/me",
            "/me/app-passwords",
            &[
                ("name", name),
                ("scope", "dav"),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 200, "making app password {name}");
    let page = res.text().await.unwrap();
    secret_in(&page).unwrap_or_else(|| panic!("no secret on the page: {page}"))
}

fn secret_in(page: &str) -> Option<String> {
    let marker = "id=\"new-app-password\">";
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('<')? + start;
    Some(page[start..end].to_owned())
}

fn creds(login: &str, password: &str) -> ClientCredentials {
    ClientCredentials {
        login: login.to_owned(),
        password: password.to_owned(),
        ip_key: "203.0.113.9".to_owned(),
        client: "rclone/v1.60".to_owned(),
    }
}

async fn check(app: &TestApp, login: &str, password: &str) -> Result<String, Refused> {
    authenticate(&app.core, creds(login, password), AppPasswordScope::Dav)
        .await
        .unwrap()
        .map(|u| u.login)
}

fn failures(app: &TestApp) -> i64 {
    app.db(|conn| Ok(login_failures::table.count().get_result(conn)?))
}

#[actix_web::test]
async fn app_password_is_shown_once_stored_keyed_and_listed() {
    let app = TestApp::spawn();
    let hanako = app.user("hanako").signed_in().await;
    let secret = make_app_password(&app, &hanako, "ノートPC").await;
    assert_eq!(secret.len(), 43, "{secret}");
    let page = hanako
        .get(app.url("/me"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("ノートPC"), "listed");
    assert!(!page.contains(&secret), "never shown again");
    let stored: Vec<String> = app.db(|conn| {
        Ok(app_passwords::table
            .select(app_passwords::secret_hash)
            .load(conn)?)
    });
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], secret);
    assert_ne!(
        stored[0],
        yui::services::token::hash_token(&secret),
        "keyed: a plain SHA-256 of the secret is not what is kept"
    );
    assert_eq!(check(&app, "hanako", &secret).await, Ok("hanako".into()));
    let page = hanako
        .get(app.url("/me"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("rclone/v1.60"), "last client listed");
}

#[actix_web::test]
async fn making_an_app_password_needs_the_current_password() {
    let app = TestApp::spawn();
    let hanako = app.user("hanako").signed_in().await;
    for typed in ["", "a stolen session does not know it"] {
        let res = app
            .post_form(
                &hanako,
                "/me",
                "/me/app-passwords",
                &[
                    ("name", "thief"),
                    ("scope", "dav"),
                    ("current_password", typed),
                ],
            )
            .await;
        assert_eq!(res.status(), 422, "{typed:?}");
        assert!(secret_in(&res.text().await.unwrap()).is_none());
    }
    let made: i64 = app.db(|conn| Ok(app_passwords::table.count().get_result(conn)?));
    assert_eq!(made, 0);
    assert_eq!(
        failures(&app),
        1,
        "the wrong password counts as a failed login"
    );
}

#[actix_web::test]
async fn only_a_live_app_password_of_its_own_account_opens_the_drive() {
    let app = TestApp::spawn();
    let hanako = app.user("hanako").signed_in().await;
    app.user("taro").create();
    let secret = make_app_password(&app, &hanako, "phone").await;
    assert_eq!(check(&app, "hanako", &secret).await, Ok("hanako".into()));
    assert_eq!(
        check(&app, "hanako", PASSWORD).await,
        Err(Refused::Wrong),
        "the login password never works"
    );
    assert_eq!(check(&app, "taro", &secret).await, Err(Refused::Wrong));
    assert_eq!(check(&app, "nobody", &secret).await, Err(Refused::Wrong));
    assert_eq!(failures(&app), 3, "each failure counts like a failed login");
    // Revoked: refused at once.
    let id: i64 = app.db(|conn| Ok(app_passwords::table.select(app_passwords::id).first(conn)?));
    let path = format!("/me/app-passwords/{id}/revoke");
    let res = app.post_form(&hanako, "/me", &path, &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(check(&app, "hanako", &secret).await, Err(Refused::Wrong));
}

#[actix_web::test]
async fn another_members_app_password_cannot_be_revoked() {
    let app = TestApp::spawn();
    let hanako = app.user("hanako").signed_in().await;
    let taro = app.user("taro").signed_in().await;
    let secret = make_app_password(&app, &hanako, "phone").await;
    let id: i64 = app.db(|conn| Ok(app_passwords::table.select(app_passwords::id).first(conn)?));
    let path = format!("/me/app-passwords/{id}/revoke");
    let res = app.post_form(&taro, "/me", &path, &[]).await;
    assert_eq!(res.status(), 404);
    assert_eq!(check(&app, "hanako", &secret).await, Ok("hanako".into()));
}

#[actix_web::test]
async fn app_password_failures_share_the_login_limits() {
    let app = TestApp::spawn();
    let hanako = app.user("hanako").signed_in().await;
    let secret = make_app_password(&app, &hanako, "phone").await;
    for _ in 0..IP_FAILURE_LIMIT {
        assert_eq!(
            check(&app, "hanako", "wrong-guess").await,
            Err(Refused::Wrong)
        );
    }
    assert_eq!(
        check(&app, "hanako", &secret).await,
        Err(Refused::Limited),
        "the network is limited now, even with the right app password"
    );
}
