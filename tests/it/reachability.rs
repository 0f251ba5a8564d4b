//! Reachability: members register up to three addresses, verify each by a mailed link (from a phone,
//! without logging in), bounces are recorded from the outbox, admins see everyone's status and test
//! everyone before a drill, and `safety_addresses` says where safety mail goes.

use diesel::prelude::*;
use yui::db::schema::{contact_addresses, contact_tokens, outbox};
use yui::services::Actor;
use yui::services::reachability::{self, safety_addresses};

use crate::support::*;

const TEST_SUBJECT: &str = "テストメール";

async fn member(app: &TestApp, login: &str) -> (reqwest::Client, yui::models::user::User) {
    let u = app.user(login).create();
    (app.sign_in(login).await, u)
}

async fn text(client: &reqwest::Client, url: String) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

/// `(address, status)` of a member's addresses, the account email first.
fn statuses(app: &TestApp, user_id: i64) -> Vec<(String, &'static str)> {
    let actor = Actor {
        id: user_id,
        is_admin: false,
        tz: None,
    };
    app.db(|conn| reachability::list_own(conn, &actor))
        .into_iter()
        .map(|a| (a.address, a.status.as_str()))
        .collect()
}

/// The id of an added address, as used in `/me/addresses/{id}/…`.
fn extra_id(app: &TestApp, user_id: i64, address: &str) -> i64 {
    app.db(|conn| {
        Ok(contact_addresses::table
            .filter(contact_addresses::user_id.eq(user_id))
            .filter(contact_addresses::address.eq(address))
            .select(contact_addresses::id)
            .first(conn)?)
    })
}

/// The path of the verification link in a test mail.
fn link_path(app: &TestApp, mail: &Mail) -> String {
    let link = mail
        .body
        .split_whitespace()
        .find(|w| w.contains("/verify/"))
        .unwrap_or_else(|| panic!("no link in {mail:?}"));
    link.trim_start_matches(&app.base).to_owned()
}

async fn add(app: &TestApp, c: &reqwest::Client, address: &str) -> reqwest::Response {
    app.post_form(c, "/me/addresses", "/me/addresses", &[("address", address)])
        .await
}

async fn send_test(app: &TestApp, c: &reqwest::Client, id: &str) -> reqwest::Response {
    app.post_form(c, "/me/addresses", &format!("/me/addresses/{id}/test"), &[])
        .await
}

/// Waits until the outbox is done with every mail to `to` (sent or failed).
async fn outbox_done(app: &TestApp, to: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let open: i64 = app.db(|conn| {
            Ok(outbox::table
                .filter(outbox::to_addr.eq(to))
                .filter(outbox::sent_at.is_null())
                .filter(outbox::failed_at.is_null())
                .count()
                .get_result(conn)?)
        });
        if open == 0 {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "mail to {to} still queued"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_member_registers_up_to_three_addresses_and_a_fourth_is_refused() {
    let app = TestApp::spawn();
    let (c, u) = member(&app, "taro").await;
    let me = text(&c, app.url("/me")).await;
    assert!(
        me.contains("href=\"/me/addresses\""),
        "reachable from the profile page"
    );
    let page = text(&c, app.url("/me/addresses")).await;
    assert!(page.contains("taro@example.test") && page.contains("未確認"));
    assert!(
        page.contains(r#"<form method="post" action="/me/addresses" class="form">"#),
        "a plain form, no JavaScript needed"
    );
    // The account email (in any case) is already on the list.
    let res = add(&app, &c, "TARO@example.test").await;
    assert_eq!(res.status(), 422);
    assert!(res.text().await.unwrap().contains("すでに登録されています"));
    let res = add(&app, &c, "not an address").await;
    assert_eq!(res.status(), 422);
    for address in ["taro.phone@carrier.test", "taro@work.test"] {
        let res = add(&app, &c, address).await;
        assert_eq!(res.status(), 303, "{address}");
        assert_eq!(location(&res), "/me/addresses");
    }
    assert_eq!(
        statuses(&app, u.id),
        [
            ("taro@example.test".to_owned(), "unverified"),
            ("taro.phone@carrier.test".to_owned(), "unverified"),
            ("taro@work.test".to_owned(), "unverified"),
        ]
    );
    let res = add(&app, &c, "taro@home.test").await;
    assert_eq!(res.status(), 422);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("アカウントのメールアドレスを含めて 3 つまで"),
        "a clear message: {html}"
    );
    assert_eq!(statuses(&app, u.id).len(), 3, "nothing was added");
    // Removing one makes room again.
    let id = extra_id(&app, u.id, "taro@work.test");
    let res = app
        .post_form(
            &c,
            "/me/addresses",
            &format!("/me/addresses/{id}/delete"),
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    assert_eq!(add(&app, &c, "taro@home.test").await.status(), 303);
    // The same page in English.
    c.get(app.url("/lang/en")).send().await.unwrap();
    let page = text(&c, app.url("/me/addresses")).await;
    assert!(page.contains("Mail addresses for emergencies") && page.contains("Not verified"));
    let res = add(&app, &c, "taro@fourth.test").await;
    assert_eq!(res.status(), 422);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("up to 3 addresses in all")
    );
}

#[actix_web::test]
async fn the_test_mail_arrives_and_its_link_verifies_the_address_from_a_logged_out_phone() {
    let app = TestApp::spawn();
    let (c, u) = member(&app, "taro").await;
    assert_eq!(add(&app, &c, "taro.phone@carrier.test").await.status(), 303);
    let id = extra_id(&app, u.id, "taro.phone@carrier.test");
    let res = send_test(&app, &c, &id.to_string()).await;
    assert_eq!(res.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("taro.phone@carrier.test", TEST_SUBJECT)
        .await;
    assert!(mail.body.contains("taro.phone@carrier.test"));
    assert!(mail.body.contains("7 日間"));
    let path = link_path(&app, &mail);
    // Only the token's hash is stored.
    let token = path.trim_start_matches("/verify/").to_owned();
    assert!(token.len() >= 22, "at least 128 bits");
    let stored: Vec<String> = app.db(|conn| {
        Ok(contact_tokens::table
            .select(contact_tokens::token_hash)
            .load(conn)?)
    });
    assert!(!stored.contains(&token));
    // A phone's mail app: a fresh browser, not logged in. GET changes nothing.
    let phone = app.client();
    let res = phone.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers().get("referrer-policy").unwrap(),
        "same-origin",
        "the token never leaks in a Referer to another site"
    );
    let html = res.text().await.unwrap();
    assert!(html.contains("taro.phone@carrier.test") && html.contains("このアドレスを確認する"));
    assert_eq!(statuses(&app, u.id)[1].1, "unverified");
    let res = app.post_form(&phone, &path, &path, &[]).await;
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("を確認しました"));
    assert_eq!(
        statuses(&app, u.id),
        [
            ("taro@example.test".to_owned(), "unverified"),
            ("taro.phone@carrier.test".to_owned(), "verified"),
        ]
    );
    let page = text(&c, app.url("/me/addresses")).await;
    assert!(page.contains("確認済み"));
    // Replayed: refused, with a clear page.
    let res = app.post_form(&phone, "/login", &path, &[]).await;
    assert_eq!(res.status(), 410);
    assert!(res.text().await.unwrap().contains("すでに使われています"));
    let res = phone.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 410);
    // The account's own email is verified the same way, here by its owner while logged in.
    assert_eq!(send_test(&app, &c, "account").await.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("taro@example.test", TEST_SUBJECT)
        .await;
    let path = link_path(&app, &mail);
    let res = app.post_form(&c, &path, &path, &[]).await;
    assert_eq!(res.status(), 303);
    assert_eq!(location(&res), "/me/addresses");
    assert_eq!(statuses(&app, u.id)[0].1, "verified");
    assert_eq!(
        app.db(|conn| Ok(safety_addresses(conn, u.id)?)),
        ["taro@example.test", "taro.phone@carrier.test"]
    );
}

#[actix_web::test]
async fn another_members_link_or_address_does_nothing() {
    let app = TestApp::spawn();
    let (a, ua) = member(&app, "taro").await;
    let (b, ub) = member(&app, "hanako").await;
    assert_eq!(add(&app, &a, "taro.phone@carrier.test").await.status(), 303);
    let id = extra_id(&app, ua.id, "taro.phone@carrier.test");
    assert_eq!(send_test(&app, &a, &id.to_string()).await.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("taro.phone@carrier.test", TEST_SUBJECT)
        .await;
    let path = link_path(&app, &mail);
    // Hanako, logged in, opens Taro's link: a clear page, no button, nothing recorded.
    let res = b.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 409);
    let html = res.text().await.unwrap();
    assert!(html.contains("別のアカウントあて"), "{html}");
    assert!(!html.contains("このアドレスを確認する"));
    let res = app.post_form(&b, "/me/addresses", &path, &[]).await;
    assert_eq!(res.status(), 409);
    assert_eq!(statuses(&app, ua.id)[1].1, "unverified");
    assert_eq!(
        statuses(&app, ub.id),
        [("hanako@example.test".to_owned(), "unverified")]
    );
    // Nor can she test or remove Taro's address by its id.
    for action in ["test", "delete"] {
        let res = app
            .post_form(
                &b,
                "/me/addresses",
                &format!("/me/addresses/{id}/{action}"),
                &[],
            )
            .await;
        assert_eq!(res.status(), 404, "{action}");
    }
    assert_eq!(statuses(&app, ua.id).len(), 2);
    // A guessed or truncated token: a clear page, nothing about who exists.
    let anon = app.client();
    for bad in [
        format!("/verify/{}", "A".repeat(43)),
        path[..path.len() - 5].to_owned(),
    ] {
        let res = anon.get(app.url(&bad)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{bad}");
        let html = res.text().await.unwrap();
        assert!(html.contains("このリンクは無効です") && !html.contains("taro"));
    }
    // Logged out, the link still works (it proves the mailbox).
    let res = app.post_form(&anon, &path, &path, &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(statuses(&app, ua.id)[1].1, "verified");
}

#[actix_web::test]
async fn an_expired_link_is_refused() {
    let app = TestApp::spawn();
    let (c, u) = member(&app, "taro").await;
    assert_eq!(send_test(&app, &c, "account").await.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("taro@example.test", TEST_SUBJECT)
        .await;
    let path = link_path(&app, &mail);
    app.db(|conn| {
        diesel::update(contact_tokens::table)
            .set(contact_tokens::expires_at.eq(yui::models::now() - chrono::Duration::minutes(1)))
            .execute(conn)?;
        Ok(())
    });
    let anon = app.client();
    let res = anon.get(app.url(&path)).send().await.unwrap();
    assert_eq!(res.status(), 410);
    assert!(res.text().await.unwrap().contains("有効期限"));
    let res = app.post_form(&anon, "/login", &path, &[]).await;
    assert_eq!(res.status(), 410);
    assert_eq!(statuses(&app, u.id)[0].1, "unverified");
}

#[actix_web::test]
async fn test_mails_are_limited_per_hour() {
    let app = TestApp::spawn();
    let (c, _) = member(&app, "taro").await;
    for _ in 0..reachability::TESTS_PER_HOUR {
        assert_eq!(send_test(&app, &c, "account").await.status(), 303);
    }
    let res = send_test(&app, &c, "account").await;
    assert_eq!(res.status(), 429);
    assert!(
        res.text()
            .await
            .unwrap()
            .contains("テストメールが多すぎます")
    );
    outbox_done(&app, "taro@example.test").await;
}

#[actix_web::test]
async fn a_refused_recipient_marks_the_address_bouncing_until_mail_gets_through() {
    let app = TestApp::spawn();
    let (c, u) = member(&app, "taro").await;
    // Verified once; then the carrier starts refusing it.
    app.db(|conn| reachability::verify_without_mail(conn, u.id, "taro.bounce@carrier.test"));
    let id = extra_id(&app, u.id, "taro.bounce@carrier.test");
    assert_eq!(
        app.db(|conn| Ok(safety_addresses(conn, u.id)?)),
        ["taro@example.test", "taro.bounce@carrier.test"]
    );
    assert_eq!(send_test(&app, &c, &id.to_string()).await.status(), 303);
    outbox_done(&app, "taro.bounce@carrier.test").await;
    let (failed, error): (Option<chrono::NaiveDateTime>, Option<String>) = app.db(|conn| {
        Ok(outbox::table
            .filter(outbox::to_addr.eq("taro.bounce@carrier.test"))
            .select((outbox::failed_at, outbox::last_error))
            .first(conn)?)
    });
    assert!(failed.is_some(), "a 550 is permanent: {error:?}");
    let (bouncing, bounce_error): (Option<chrono::NaiveDateTime>, Option<String>) =
        app.db(|conn| {
            Ok(contact_addresses::table
                .find(id)
                .select((
                    contact_addresses::bouncing_at,
                    contact_addresses::bounce_error,
                ))
                .first(conn)?)
        });
    assert!(bouncing.is_some());
    assert!(bounce_error.unwrap().contains("550"));
    assert_eq!(statuses(&app, u.id)[1].1, "bouncing");
    let page = text(&c, app.url("/me/addresses")).await;
    assert!(page.contains("不達") && page.contains("550"));
    assert_eq!(
        app.db(|conn| Ok(safety_addresses(conn, u.id)?)),
        ["taro@example.test"],
        "a bouncing address gets no safety mail"
    );
    // The account email bounces too (marked though it never had a status row).
    app.db(|conn| {
        Ok(reachability::record_bounce(
            conn,
            "Taro@Example.test",
            "550 mailbox unavailable",
            yui::models::now(),
        )?)
    });
    assert_eq!(statuses(&app, u.id)[0].1, "bouncing");
    assert_eq!(
        app.db(|conn| Ok(safety_addresses(conn, u.id)?)),
        ["taro@example.test"],
        "never an empty list: the account email even though it bounces"
    );
    // A later mail that gets through clears it.
    assert_eq!(send_test(&app, &c, "account").await.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("taro@example.test", TEST_SUBJECT)
        .await;
    outbox_done(&app, "taro@example.test").await;
    assert_eq!(statuses(&app, u.id)[0].1, "unverified");
    // Verifying again clears it as well.
    app.db(|conn| {
        Ok(reachability::record_bounce(
            conn,
            "taro@example.test",
            "550",
            yui::models::now(),
        )?)
    });
    let path = link_path(&app, &mail);
    let res = app.post_form(&app.client(), &path, &path, &[]).await;
    assert_eq!(res.status(), 200);
    assert_eq!(statuses(&app, u.id)[0].1, "verified");
}

#[actix_web::test]
async fn safety_addresses_follow_verification_bounces_and_case() {
    let app = TestApp::spawn();
    let u = app.create_user("taro", false);
    let get = |app: &TestApp| app.db(|conn| Ok(safety_addresses(conn, u.id)?));
    let bounce = |app: &TestApp, addr: &str| {
        app.db(|conn| {
            Ok(reachability::record_bounce(
                conn,
                addr,
                "550",
                yui::models::now(),
            )?)
        });
    };
    let actor = Actor {
        id: u.id,
        is_admin: false,
        tz: None,
    };
    // Only the account email, not verified: still where mail goes.
    assert_eq!(get(&app), ["taro@example.test"]);
    // Unverified added addresses are not used; verified ones are.
    let core = app.core.clone();
    app.db(move |conn| reachability::add_address(&core, conn, &actor, "taro@work.test"));
    assert_eq!(get(&app), ["taro@example.test"]);
    app.db(|conn| reachability::verify_without_mail(conn, u.id, "Taro.Phone@Carrier.test"));
    assert_eq!(get(&app), ["taro@example.test", "Taro.Phone@Carrier.test"]);
    // A bouncing added address is left out; a bouncing account email too, while another works.
    bounce(&app, "taro.phone@carrier.test");
    assert_eq!(get(&app), ["taro@example.test"]);
    app.db(|conn| reachability::verify_without_mail(conn, u.id, "taro.phone@carrier.test"));
    bounce(&app, "taro@example.test");
    assert_eq!(get(&app), ["Taro.Phone@Carrier.test"]);
    // Everything bouncing: the account email anyway, never an empty list.
    bounce(&app, "taro.phone@carrier.test");
    assert_eq!(get(&app), ["taro@example.test"]);
    // The account email changed to the verified phone address (other case): listed once.
    app.db(|conn| reachability::verify_without_mail(conn, u.id, "taro.phone@carrier.test"));
    app.db(|conn| {
        Ok(yui::models::user::set_email(
            conn,
            u.id,
            "TARO.PHONE@carrier.test",
        )?)
    });
    assert_eq!(get(&app), ["TARO.PHONE@carrier.test"]);
    // Its status is that address's: verified. The old account email is no longer listed.
    let listed = statuses(&app, u.id);
    assert_eq!(
        listed,
        [
            ("TARO.PHONE@carrier.test".to_owned(), "verified"),
            ("taro@work.test".to_owned(), "unverified"),
        ]
    );
}

#[actix_web::test]
async fn the_admin_sees_each_members_status_and_tests_everyone() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let taro = app.create_user("taro", false);
    let hanako = app.create_user("hanako", false);
    let jiro = app.create_user("jiro", false);
    let gone = app.create_user("gone", false);
    app.db(|conn| {
        reachability::verify_without_mail(conn, taro.id, "taro@example.test")?;
        reachability::verify_without_mail(conn, taro.id, "taro.phone@carrier.test")?;
        reachability::record_bounce(
            conn,
            "hanako@example.test",
            "550 no such user",
            yui::models::now(),
        )?;
        yui::models::user::set_disabled(conn, gone.id, true)?;
        Ok(())
    });
    let page = text(&admin, app.url("/admin/reachability")).await;
    assert!(
        page.contains("href=\"/admin/reachability\" aria-current=\"page\""),
        "in the admin nav"
    );
    let row = |login: &str| {
        let start = page
            .find(&format!("id=\"member-{login}\""))
            .unwrap_or_else(|| panic!("no row for {login}"));
        let end = page[start..].find("</tr>").unwrap() + start;
        page[start..end].to_owned()
    };
    let t = row("taro");
    assert!(t.contains("taro@example.test") && t.contains("taro.phone@carrier.test"));
    assert_eq!(t.matches("reach-verified").count(), 2, "{t}");
    let h = row("hanako");
    assert!(
        h.contains("reach-bouncing") && h.contains("550 no such user"),
        "{h}"
    );
    assert!(row("jiro").contains("reach-unverified"));
    assert!(
        !page.contains("member-gone"),
        "disabled accounts are not listed"
    );
    // Members and visitors do not see it.
    let (m, _) = member(&app, "member1").await;
    assert_eq!(
        m.get(app.url("/admin/reachability"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let res = app
        .post_form(&m, "/me", "/admin/reachability/test", &[])
        .await;
    assert_eq!(res.status(), 404);
    let anon = app.client();
    let res = anon
        .get(app.url("/admin/reachability"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303);
    // Before a drill: one mail per address of every active member.
    let before: i64 = app.db(|conn| Ok(outbox::table.count().get_result(conn)?));
    let res = app
        .post_form(
            &admin,
            "/admin/reachability",
            "/admin/reachability/test",
            &[],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mut queued: Vec<String> = app.db(|conn| {
        Ok(outbox::table
            .filter(outbox::subject.like(format!("%{TEST_SUBJECT}%")))
            .select(outbox::to_addr)
            .load(conn)?)
    });
    queued.sort();
    assert_eq!(
        queued,
        [
            "admin@example.test",
            "hanako@example.test",
            "jiro@example.test",
            "member1@example.test",
            "taro.phone@carrier.test",
            "taro@example.test",
        ]
    );
    let after: i64 = app.db(|conn| Ok(outbox::table.count().get_result(conn)?));
    assert_eq!(after - before, 6);
    let mail = app
        .smtp
        .wait_for_subject("taro.phone@carrier.test", TEST_SUBJECT)
        .await;
    assert!(mail.body.contains("訓練"), "says why it came");
    // Each mail's link verifies its address.
    let mail = app
        .smtp
        .wait_for_subject("jiro@example.test", TEST_SUBJECT)
        .await;
    let path = link_path(&app, &mail);
    assert_eq!(
        app.post_form(&app.client(), &path, &path, &[])
            .await
            .status(),
        200
    );
    assert_eq!(statuses(&app, jiro.id)[0].1, "verified");
    for to in &queued {
        outbox_done(&app, to).await;
    }
    // Hanako's address took the test mail, so it is no longer bouncing.
    assert_eq!(statuses(&app, hanako.id)[0].1, "unverified");
}

/// An address added to an account (it will receive the member's safety links once confirmed, and
/// may accept invitations) is announced to the account's own email, so an owner whose session was
/// stolen hears of it.
#[actix_web::test]
async fn the_account_email_hears_of_an_added_address() {
    let app = TestApp::spawn();
    let (c, _) = member(&app, "taro").await;
    assert_eq!(add(&app, &c, "thief@elsewhere.test").await.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("taro@example.test", "連絡先のアドレスが追加されました")
        .await;
    assert!(mail.body.contains("thief@elsewhere.test"), "{}", mail.body);
    assert!(mail.body.contains(&app.url("/me/addresses")));
    assert!(mail.body.contains(&app.url("/password/reset")));
    outbox_done(&app, "taro@example.test").await;
    assert!(
        app.smtp
            .mails()
            .iter()
            .all(|m| !m.to.contains(&"thief@elsewhere.test".to_owned())),
        "nothing goes to the new address until it asks for its test mail"
    );
}
