//! Accounts under attack (issue #10): login limits under parallel requests, what the audit log
//! keeps of a failed login, invitations bound to the invited address, `/me` after a stolen session,
//! weak passwords on every path, `X-Forwarded-For` behind proxies.

use diesel::prelude::*;
use futures_util::future::join_all;
use yui::db::schema::{audit_log, login_failures};
use yui::services::auth::{ACCOUNT_FAILURE_LIMIT, IP_FAILURE_LIMIT};

use crate::support::Mail;
use crate::support::*;

/// `n` browsers, each with its own pre-session cookie and the form token of the login page.
async fn login_browsers(app: &TestApp, n: usize) -> Vec<(reqwest::Client, String)> {
    let mut out = Vec::new();
    for _ in 0..n {
        let c = app.client();
        let token = app.csrf(&c, "/login").await;
        out.push((c, token));
    }
    out
}

fn count_statuses(statuses: &[u16], wanted: u16) -> i64 {
    i64::try_from(statuses.iter().filter(|s| **s == wanted).count()).unwrap()
}

#[actix_web::test]
async fn parallel_wrong_passwords_from_one_network_stop_at_its_limit() {
    let app = TestApp::spawn();
    app.create_user("hanako", false);
    let browsers = login_browsers(&app, 8).await;
    let before = app.core.passwords.verification_count();
    let url = app.url("/login");
    let statuses: Vec<u16> = join_all((0..200).map(|i| {
        let (c, token) = &browsers[i % browsers.len()];
        let req = c.post(&url).form(&[
            ("_csrf", token.as_str()),
            ("name", "hanako"),
            ("password", "a wrong guess"),
        ]);
        async move { req.send().await.unwrap().status().as_u16() }
    }))
    .await;
    let evaluated = count_statuses(&statuses, 422);
    let limited = count_statuses(&statuses, 429);
    assert_eq!(evaluated + limited, 200, "{statuses:?}");
    assert_eq!(
        evaluated, IP_FAILURE_LIMIT,
        "exactly the network's limit of guesses was evaluated"
    );
    let verified = app.core.passwords.verification_count() - before;
    assert_eq!(verified, u64::try_from(IP_FAILURE_LIMIT).unwrap());
    let counted = app.db(|conn| Ok(login_failures::table.count().get_result::<i64>(conn)?));
    assert_eq!(counted, IP_FAILURE_LIMIT);
    // The right password is refused too once the limit is reached.
    let res = app.try_login(&app.client(), "hanako", PASSWORD).await;
    assert_eq!(res.status(), 429);
}

#[actix_web::test]
async fn parallel_wrong_passwords_from_many_networks_stop_at_the_account_limit() {
    let app = TestApp::spawn_with(Options {
        trusted_proxies: vec!["127.0.0.1".into()],
        ..Options::default()
    });
    app.create_user("hanako", false);
    let browsers = login_browsers(&app, 8).await;
    let before = app.core.passwords.verification_count();
    let url = app.url("/login");
    let statuses: Vec<u16> = join_all((0..160).map(|i| {
        let (c, token) = &browsers[i % browsers.len()];
        // A distributed guess: every request from another client behind the proxy.
        let req = c
            .post(&url)
            .header("x-forwarded-for", format!("198.51.{}.{}", i / 200, i % 200))
            .form(&[
                ("_csrf", token.as_str()),
                ("name", "hanako"),
                ("password", "a wrong guess"),
            ]);
        async move { req.send().await.unwrap().status().as_u16() }
    }))
    .await;
    let evaluated = count_statuses(&statuses, 422);
    assert_eq!(
        evaluated + count_statuses(&statuses, 429),
        160,
        "{statuses:?}"
    );
    assert_eq!(evaluated, ACCOUNT_FAILURE_LIMIT);
    let verified = app.core.passwords.verification_count() - before;
    assert_eq!(verified, u64::try_from(ACCOUNT_FAILURE_LIMIT).unwrap());
}

#[actix_web::test]
async fn a_failed_login_never_writes_the_typed_name_into_the_audit_log() {
    let app = TestApp::spawn();
    let hanako = app.create_user("hanako", false);
    // Someone types their password into the name field, then the right name with a typo.
    let typed = "tea at the old station";
    let res = app.try_login(&app.client(), typed, "x").await;
    assert_eq!(res.status(), 422);
    let res = app
        .try_login(&app.client(), "hanako", "tea at the old statio")
        .await;
    assert_eq!(res.status(), 422);
    let everything: Vec<String> = app.db(|conn| {
        Ok(audit_log::table
            .select(audit_log::detail)
            .load::<String>(conn)?)
    });
    assert!(
        everything.iter().all(|d| !d.contains("tea at the")),
        "{everything:?}"
    );
    // Nor does the login-limit counter keep it (it counts a hash of the name).
    let keys: Vec<String> = app.db(|conn| {
        Ok(login_failures::table
            .select(login_failures::account_key)
            .load(conn)?)
    });
    assert_eq!(keys.len(), 2);
    assert!(keys.iter().all(|k| !k.contains("tea at the")), "{keys:?}");
    let rows: Vec<(Option<i64>, String, String)> = app.db(|conn| {
        Ok(audit_log::table
            .filter(audit_log::action.eq("login.failed"))
            .order(audit_log::id.asc())
            .select((audit_log::actor_id, audit_log::action, audit_log::detail))
            .load(conn)?)
    });
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0].0, None, "an unknown name is recorded as nobody");
    assert_eq!(
        rows[1].0,
        Some(hanako.id),
        "a known name is recorded as its account"
    );
    let admin = app.admin_client().await;
    let page = admin
        .get(app.url("/admin/audit"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("login.failed") || page.contains("ログイン"));
    assert!(!page.contains("tea at the"));
}

/// A closed, invite-only room `family` managed by hanako; taro belongs to no room.
async fn family(app: &TestApp) -> (reqwest::Client, reqwest::Client) {
    let admin = app.admin_client().await;
    app.user("hanako").create();
    app.user("taro").create();
    app.room("family")
        .named("家族の部屋")
        .described("説明")
        .closed()
        .managed_by("hanako")
        .create(&admin)
        .await;
    (app.sign_in("hanako").await, app.sign_in("taro").await)
}

/// Hanako invites `email` into `family` as `role`; returns the link's path.
async fn invite(app: &TestApp, hanako: &reqwest::Client, email: &str, role: &str) -> String {
    let res = app
        .post_form(
            hanako,
            "/rooms/family/members",
            "/rooms/family/invitations",
            &[("email", email), ("role", role)],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mail = app.smtp.wait_for(email).await;
    let link = mail
        .body
        .split_whitespace()
        .find(|w| w.contains("/invite/"))
        .unwrap_or_else(|| panic!("no invitation link in {}", mail.body))
        .to_owned();
    link.trim_start_matches(&app.base).to_owned()
}

fn role_in_family(app: &TestApp, login: &str) -> Option<String> {
    app.db(|conn| {
        let room = yui::models::room::find_by_slug(conn, "family")?;
        let u = yui::models::user::find_by_login(conn, login)?;
        Ok(yui::models::room::role_in(conn, room.id, u.id)?.map(|r| r.as_str().to_owned()))
    })
}

#[actix_web::test]
async fn an_invitation_works_only_for_an_account_that_owns_the_invited_address() {
    let app = TestApp::spawn();
    let (hanako, taro) = family(&app).await;
    let path = invite(&app, &hanako, "newbie@example.test", "manager").await;

    // The link reached taro (forwarded, leaked): the page says it is for another address, and
    // does not say which.
    let page = taro.get(app.url(&path)).send().await.unwrap();
    let html = page.text().await.unwrap();
    assert!(html.contains("この招待は、いまログインしているアカウントのものではない"));
    assert!(
        !html.contains("newbie@example.test"),
        "the address stays hidden"
    );
    let token = app.csrf(&taro, "/me").await;
    let res = taro
        .post(app.url(&path))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("ログインしているアカウントのものではない")
    );
    assert_eq!(role_in_family(&app, "taro"), None, "nothing changed");

    // An added address counts only once a link mailed to it was opened.
    let res = app
        .post_form(
            &taro,
            "/me/addresses",
            "/me/addresses",
            &[("address", "newbie@example.test")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app.post_form(&taro, &path, &path, &[]).await;
    assert_eq!(res.status(), 409, "an unverified address proves nothing");
    assert_eq!(role_in_family(&app, "taro"), None);
    let id: i64 = app.db(|conn| {
        use yui::db::schema::contact_addresses;
        Ok(contact_addresses::table
            .filter(contact_addresses::address.eq("newbie@example.test"))
            .select(contact_addresses::id)
            .first(conn)?)
    });
    let res = app
        .post_form(
            &taro,
            "/me/addresses",
            &format!("/me/addresses/{id}/test"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("newbie@example.test", "確認")
        .await;
    let verify = mail
        .body
        .split_whitespace()
        .find(|w| w.contains("/verify/"))
        .unwrap()
        .trim_start_matches(&app.base)
        .to_owned();
    let res = app.post_form(&taro, &verify, &verify, &[]).await;
    assert!(res.status().is_success() || res.status() == 303);

    let page = taro
        .get(app.url(&path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("ルームに参加"), "now it is taro's to accept");
    let res = app.post_form(&taro, &path, &path, &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(role_in_family(&app, "taro").as_deref(), Some("manager"));
}

#[actix_web::test]
async fn two_parallel_accepts_of_one_invitation_make_one_member() {
    let app = TestApp::spawn();
    let (hanako, _) = family(&app).await;
    // Two accounts own the invited address: ayumi's email, and a verified added address of kenji.
    let hash = yui::services::password::hash_now(PASSWORD).unwrap();
    for (login, email) in [
        ("ayumi", "shared@example.test"),
        ("kenji", "kenji@example.test"),
    ] {
        let account = yui::services::account::NewAccount {
            login: login.into(),
            email: email.into(),
            display_name: login.into(),
            role: yui::models::user::SiteRole::Member,
            language: None,
        };
        app.db(|conn| yui::services::account::insert_account(conn, &account, &hash));
    }
    app.db(|conn| {
        let kenji = yui::models::user::find_by_login(conn, "kenji")?;
        yui::services::reachability::verify_without_mail(conn, kenji.id, "shared@example.test")
    });
    let path = invite(&app, &hanako, "shared@example.test", "editor").await;
    let mut browsers = Vec::new();
    for login in ["ayumi", "kenji", "ayumi", "kenji", "ayumi", "kenji"] {
        let c = app.sign_in(login).await;
        let page = c
            .get(app.url(&path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("ルームに参加"), "{login} may accept");
        let token = csrf_from(&page);
        browsers.push((c, token));
    }
    let url = app.url(&path);
    let statuses: Vec<u16> = join_all(browsers.iter().map(|(c, token)| {
        let req = c.post(&url).form(&[("_csrf", token.as_str())]);
        async move { req.send().await.unwrap().status().as_u16() }
    }))
    .await;
    assert_eq!(count_statuses(&statuses, 303), 1, "{statuses:?}");
    assert_eq!(count_statuses(&statuses, 409), 5, "{statuses:?}");
    let members = [role_in_family(&app, "ayumi"), role_in_family(&app, "kenji")];
    assert_eq!(
        members.iter().flatten().count(),
        1,
        "exactly one membership: {members:?}"
    );
}

/// The first link in a mail whose path starts with `prefix`, as a path.
fn path_in(app: &TestApp, mail: &Mail, prefix: &str) -> String {
    mail.body
        .split_whitespace()
        .find(|w| w.starts_with(&app.url(prefix)))
        .unwrap_or_else(|| panic!("no {prefix} link in {}", mail.body))
        .trim_start_matches(&app.base)
        .to_owned()
}

fn email_of(app: &TestApp, login: &str) -> String {
    app.db(|conn| Ok(yui::models::user::find_by_login(conn, login)?.email))
}

fn failures_of(app: &TestApp, user_id: i64) -> i64 {
    app.db(|conn| {
        Ok(login_failures::table
            .filter(login_failures::account_key.eq(format!("u:{user_id}")))
            .count()
            .get_result(conn)?)
    })
}

/// Asks for a password reset for `email` and returns the link's path.
async fn reset_link(app: &TestApp, email: &str) -> String {
    let c = app.client();
    let res = app
        .post_form(
            &c,
            "/password/reset",
            "/password/reset",
            &[("email", email)],
        )
        .await;
    assert_eq!(res.status(), 200);
    let mail = app
        .smtp
        .wait_for_subject(email, "パスワード再設定のご案内")
        .await;
    path_in(app, &mail, "/password/reset/")
}

#[actix_web::test]
async fn a_stolen_session_cannot_change_the_email_without_the_password() {
    let app = TestApp::spawn();
    let hanako = app.create_user("hanako", false);
    let thief = app.sign_in("hanako").await;
    let change = |password: &'static str| {
        vec![
            ("display_name", "hanako さん"),
            ("email", "thief@evil.test"),
            ("language", ""),
            ("current_password", password),
        ]
    };
    let res = app.post_form(&thief, "/me", "/me", &change("")).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("メールアドレスを変えるには、いまのパスワードを入力してください。")
    );
    let res = app
        .post_form(&thief, "/me", "/me", &change("a wrong guess"))
        .await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("現在のパスワードが違います。")
    );
    assert_eq!(
        failures_of(&app, hanako.id),
        1,
        "it counts as a failed login"
    );
    let res = app
        .post_form(
            &thief,
            "/me",
            "/me/password",
            &[
                ("current_password", "another wrong guess"),
                ("password", "the thief's own passphrase"),
                ("password_confirm", "the thief's own passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), 422);
    assert_eq!(failures_of(&app, hanako.id), 2);
    assert_eq!(email_of(&app, "hanako"), "hanako@example.test");
    // The guesses from /me meet the login limits like the login form's.
    app.db(|conn| {
        let at = yui::models::now();
        for _ in 0..IP_FAILURE_LIMIT {
            yui::models::login_failure::record(conn, "127.0.0.1", "n:someone", at)?;
        }
        Ok(())
    });
    let res = app
        .post_form(&thief, "/me", "/me", &change("yet another guess"))
        .await;
    assert_eq!(res.status(), 429);
    assert_eq!(email_of(&app, "hanako"), "hanako@example.test");
}

/// `/me` says an address belongs to another account only to someone who gave the password: a
/// stolen session cannot use it to learn who has an account here.
#[actix_web::test]
async fn a_stolen_session_cannot_ask_which_addresses_have_accounts() {
    let app = TestApp::spawn();
    app.create_user("hanako", false);
    app.create_user("taro", false);
    let c = app.sign_in("hanako").await;
    let change = |password: &'static str| {
        vec![
            ("display_name", "hanako さん"),
            ("email", "taro@example.test"),
            ("language", ""),
            ("current_password", password),
        ]
    };
    let taken = "このメールアドレスはほかのアカウントで使われています。";
    for guess in ["", "a wrong guess"] {
        let res = app.post_form(&c, "/me", "/me", &change(guess)).await;
        assert_eq!(res.status(), 422);
        assert!(!res.text().await.unwrap().contains(taken), "{guess:?}");
    }
    let res = app.post_form(&c, "/me", "/me", &change(PASSWORD)).await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text().await.unwrap().contains(taken),
        "the owner is told"
    );
    assert_eq!(email_of(&app, "hanako"), "hanako@example.test");
}

#[actix_web::test]
async fn a_new_email_takes_effect_only_through_the_link_sent_to_it() {
    let app = TestApp::spawn();
    app.create_user("hanako", false);
    app.create_user("taro", false);
    let phone = app.sign_in("hanako").await;
    let laptop = app.sign_in("hanako").await;
    let old_reset = reset_link(&app, "hanako@example.test").await;

    let res = app
        .post_form(
            &laptop,
            "/me",
            "/me",
            &[
                ("display_name", "花子"),
                ("email", "hanako.new@example.test"),
                ("language", ""),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(
        email_of(&app, "hanako"),
        "hanako@example.test",
        "nothing changes before the new address answers"
    );
    let page = laptop
        .get(app.url("/me"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("新しいアドレスに確認のリンクを送りました"));
    assert!(page.contains("花子"), "the name saved at once");
    assert_eq!(
        phone.get(app.url("/me")).send().await.unwrap().status(),
        303,
        "other sessions ended"
    );
    // The old address is told, with the new one.
    let notice = app
        .smtp
        .wait_for_subject("hanako@example.test", "メールアドレス変更の申し込み")
        .await;
    assert!(
        notice.body.contains("hanako.new@example.test"),
        "{}",
        notice.body
    );
    assert!(notice.body.contains(&app.url("/password/reset")));
    // Reset links sent before died.
    let res = app.client().get(app.url(&old_reset)).send().await.unwrap();
    assert_eq!(res.status(), 410);

    let mail = app
        .smtp
        .wait_for_subject("hanako.new@example.test", "新しいメールアドレスの確認")
        .await;
    let path = path_in(&app, &mail, "/email/confirm/");
    let token = path.rsplit('/').next().unwrap().to_owned();
    assert!(token.len() >= 22, "at least 128 bits");
    let (stored, details): (Vec<String>, Vec<String>) = app.db(|conn| {
        use yui::db::schema::email_changes;
        Ok((
            email_changes::table
                .select(email_changes::token_hash)
                .load(conn)?,
            audit_log::table.select(audit_log::detail).load(conn)?,
        ))
    });
    assert!(stored.iter().all(|h| *h != token), "only a hash is stored");
    assert!(details.iter().all(|d| !d.contains(&token)), "never logged");

    // Someone else's session cannot use it.
    let taro = app.sign_in("taro").await;
    let res = app.post_form(&taro, &path, &path, &[]).await;
    assert_eq!(res.status(), 409);
    assert_eq!(email_of(&app, "hanako"), "hanako@example.test");

    // The new mailbox's owner confirms it, from a phone's browser without a session.
    let mailbox = app.client();
    let page = mailbox.get(app.url(&path)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(page.headers()["referrer-policy"], "same-origin");
    assert_eq!(
        email_of(&app, "hanako"),
        "hanako@example.test",
        "opening the link changes nothing"
    );
    let res = app.post_form(&mailbox, &path, &path, &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(email_of(&app, "hanako"), "hanako.new@example.test");
    assert_eq!(
        laptop.get(app.url("/me")).send().await.unwrap().status(),
        200,
        "the session that asked stays"
    );
    let again = app.post_form(&app.client(), "/login", &path, &[]).await;
    assert_eq!(again.status(), 410, "single use");
    let res = app.client().get(app.url(&old_reset)).send().await.unwrap();
    assert_eq!(res.status(), 410);
    // The new address receives the next reset mail, the old one nothing more.
    reset_link(&app, "hanako.new@example.test").await;
}

#[actix_web::test]
async fn changing_the_password_tells_the_owner_and_kills_links_and_pending_changes() {
    let app = TestApp::spawn();
    let c = app.user("hanako").signed_in().await;
    let res = app
        .post_form(
            &c,
            "/me",
            "/me",
            &[
                ("display_name", "hanako さん"),
                ("email", "elsewhere@example.test"),
                ("language", ""),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let confirm = app
        .smtp
        .wait_for_subject("elsewhere@example.test", "新しいメールアドレスの確認")
        .await;
    let confirm = path_in(&app, &confirm, "/email/confirm/");
    let old_reset = reset_link(&app, "hanako@example.test").await;
    let res = app
        .post_form(
            &c,
            "/me",
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("password", "tea at the old station"),
                ("password_confirm", "tea at the old station"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("hanako@example.test", "パスワードが変更されました")
        .await;
    assert!(mail.body.contains(&app.url("/password/reset")));
    let res = app.client().get(app.url(&old_reset)).send().await.unwrap();
    assert_eq!(res.status(), 410, "reset links died");
    let res = app.post_form(&app.client(), "/login", &confirm, &[]).await;
    assert_eq!(res.status(), 410, "the pending email change died");
    assert_eq!(email_of(&app, "hanako"), "hanako@example.test");
}

#[actix_web::test]
async fn behind_proxies_the_client_is_the_right_most_untrusted_hop_of_every_header_line() {
    let app = TestApp::spawn_with(Options {
        trusted_proxies: vec!["127.0.0.1".into(), "10.0.0.0/8".into()],
        ..Options::default()
    });
    app.create_user("hanako", false);
    let c = app.client();
    let token = app.csrf(&c, "/login").await;
    // The client forged the first hop; a proxy that writes ports added the second; an inner
    // proxy sent its own line.
    let res = c
        .post(app.url("/login"))
        .header("x-forwarded-for", "6.6.6.6, 198.51.100.7:51234")
        .header("x-forwarded-for", "10.1.2.3:443")
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "hanako"),
            ("password", "a wrong guess"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let (keys, ips): (Vec<String>, Vec<Option<String>>) = app.db(|conn| {
        Ok((
            login_failures::table
                .select(login_failures::ip_key)
                .load(conn)?,
            audit_log::table
                .filter(audit_log::action.eq("login.failed"))
                .select(audit_log::ip)
                .load(conn)?,
        ))
    });
    assert_eq!(keys, ["198.51.100.7"]);
    assert_eq!(ips, [Some("198.51.100.7".to_owned())]);
}

const WEAK: &str = "推測されやすいため使えません";

async fn assert_weak(res: reqwest::Response, what: &str) {
    assert_eq!(res.status(), 422, "{what}");
    let body = res.text().await.unwrap();
    assert!(body.contains(WEAK), "{what}: no weak-password message");
}

#[actix_web::test]
async fn weak_passwords_are_refused_on_every_path_that_sets_one() {
    let app = TestApp::spawn();
    // First-run setup.
    let setup = app.setup_token.clone().unwrap();
    let c = app.client();
    let page = c
        .get(app.url(&format!("/setup?token={setup}")))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let csrf = csrf_from(&page);
    let setup_with = |password: &'static str| {
        vec![
            ("_csrf", csrf.clone()),
            ("token", setup.clone()),
            ("site_title", "結".to_owned()),
            ("language", "ja".to_owned()),
            ("login", "hanako".to_owned()),
            ("email", "hanako.yamada@example.test".to_owned()),
            ("display_name", "山田 花子".to_owned()),
            ("password", password.to_owned()),
            ("password_confirm", password.to_owned()),
        ]
    };
    for weak in ["password1", "hanako2026", "Yamada1985!"] {
        let res = c
            .post(app.url("/setup"))
            .form(&setup_with(weak))
            .send()
            .await
            .unwrap();
        assert_weak(res, &format!("setup {weak}")).await;
    }
    let res = c
        .post(app.url("/setup"))
        .form(&setup_with(PASSWORD))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);

    // An administrator creating a member with a password.
    let res = app
        .post_form(
            &c,
            "/admin/members/new",
            "/admin/members",
            &[
                ("login", "sachiko"),
                ("email", "sachiko@example.test"),
                ("display_name", "幸子"),
                ("role", "member"),
                ("password", "sachiko123"),
            ],
        )
        .await;
    assert_weak(res, "admin").await;

    // /me.
    let res = app
        .post_form(
            &c,
            "/me",
            "/me/password",
            &[
                ("current_password", PASSWORD),
                ("password", "iloveyou2"),
                ("password_confirm", "iloveyou2"),
            ],
        )
        .await;
    assert_weak(res, "/me").await;

    // A reset link.
    let path = reset_link(&app, "hanako.yamada@example.test").await;
    let res = app
        .post_form(
            &app.client(),
            &path,
            &path,
            &[
                ("password", "Hanako2026!"),
                ("password_confirm", "Hanako2026!"),
            ],
        )
        .await;
    assert_weak(res, "reset").await;

    // An invitation that creates an account (the invited address counts as the owner's).
    app.room("family")
        .named("家族の部屋")
        .described("説明")
        .closed()
        .managed_by("hanako")
        .create(&c)
        .await;
    let path = invite(&app, &c, "kenta.suzuki@example.test", "member").await;
    let newbie = app.client();
    for weak in ["qwerty123", "suzuki2026"] {
        let res = app
            .post_form(
                &newbie,
                &path,
                &format!("{path}/signup"),
                &[
                    ("login", "kenta"),
                    ("display_name", "健太"),
                    ("password", weak),
                    ("password_confirm", weak),
                ],
            )
            .await;
        assert_weak(res, &format!("invitation {weak}")).await;
    }
    // Nothing was created on the way.
    let logins: Vec<String> = app.db(|conn| {
        use yui::db::schema::users;
        Ok(users::table.select(users::login).load(conn)?)
    });
    assert_eq!(logins, ["hanako"]);
}

#[test]
fn the_command_line_refuses_weak_passwords_too() {
    use crate::cli::{run, yui};
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = run(
        yui(dir.path()).args([
            "user",
            "create",
            "hanako",
            "--email",
            "hanako@example.test",
            "--password-stdin",
        ]),
        Some("hanako2026\n"),
    );
    assert!(!ok && out.contains("too easy to guess"), "{out}");
    let (ok, out) = run(
        yui(dir.path()).args([
            "user",
            "create",
            "hanako",
            "--email",
            "hanako@example.test",
            "--password-stdin",
        ]),
        Some("tea at the old station\n"),
    );
    assert!(ok, "{out}");
    let (ok, out) = run(
        yui(dir.path()).args(["user", "reset-password", "hanako", "--password-stdin"]),
        Some("password1\n"),
    );
    assert!(!ok && out.contains("too easy to guess"), "{out}");
    let (ok, out) = run(
        yui(dir.path()).args(["demo", "--password", "password1", "--posts", "1"]),
        None,
    );
    assert!(!ok && out.contains("too easy to guess"), "{out}");
}

#[actix_web::test]
async fn an_account_made_through_an_invitation_gets_the_invited_address() {
    let app = TestApp::spawn();
    let (hanako, _) = family(&app).await;
    let path = invite(&app, &hanako, "kenta@example.test", "editor").await;
    let visitor = app.client();
    let res = app
        .post_form(
            &visitor,
            &path,
            &format!("{path}/signup"),
            &[
                ("login", "kenta"),
                ("display_name", "健太"),
                // Not a field of the form: whatever is sent, the account gets the invited address.
                ("email", "someone.else@example.test"),
                ("password", "tea at the old station"),
                ("password_confirm", "tea at the old station"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(email_of(&app, "kenta"), "kenta@example.test");
    assert_eq!(role_in_family(&app, "kenta").as_deref(), Some("editor"));
    let statuses = app.db(|conn| {
        let u = yui::models::user::find_by_login(conn, "kenta")?;
        let actor = yui::services::Actor::from(&u);
        yui::services::reachability::list_own(conn, &actor)
    });
    assert_eq!(statuses.len(), 1);
    assert_eq!(
        statuses[0].status,
        yui::services::reachability::AddressStatus::Verified,
        "the link proved the mailbox"
    );
}

#[actix_web::test]
async fn an_expired_email_link_changes_nothing() {
    let app = TestApp::spawn();
    let c = app.user("hanako").signed_in().await;
    let res = app
        .post_form(
            &c,
            "/me",
            "/me",
            &[
                ("display_name", "hanako さん"),
                ("email", "later@example.test"),
                ("language", ""),
                ("current_password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("later@example.test", "新しいメールアドレスの確認")
        .await;
    let path = path_in(&app, &mail, "/email/confirm/");
    app.db(|conn| {
        use yui::db::schema::email_changes;
        diesel::update(email_changes::table)
            .set(email_changes::expires_at.eq(yui::models::now() - chrono::Duration::minutes(1)))
            .execute(conn)?;
        Ok(())
    });
    let res = app.client().get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 410);
    assert!(res.text().await.unwrap().contains("有効期限"));
    let res = app.post_form(&app.client(), "/login", &path, &[]).await;
    assert_eq!(res.status(), 410);
    assert_eq!(email_of(&app, "hanako"), "hanako@example.test");
}
