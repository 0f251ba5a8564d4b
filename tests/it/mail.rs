//! The outbox: mail survives an SMTP outage, retries with backoff, never goes to disabled accounts.

use diesel::prelude::*;
use yui::config::{MailConfig, MailTransport, SmtpTls};
use yui::db::schema::outbox;
use yui::mail::Mailer;

use crate::support::*;

fn smtp_to(port: u16) -> Mailer {
    let config = MailConfig {
        transport: MailTransport::Smtp,
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        smtp_tls: SmtpTls::None,
        ..MailConfig::default()
    };
    Mailer::from_config(&config, std::env::temp_dir()).unwrap()
}

fn queue(app: &TestApp, user_id: Option<i64>, to: &str) {
    queue_due_at(
        app,
        user_id,
        to,
        yui::models::now() - chrono::Duration::seconds(1),
    );
}

/// Queues a mail that falls due at `at`.
fn queue_due_at(app: &TestApp, user_id: Option<i64>, to: &str, at: chrono::NaiveDateTime) {
    app.db(|conn| {
        yui::models::outbox::enqueue(
            conn,
            &yui::models::outbox::NewMail {
                user_id,
                to_addr: to,
                subject: "件名",
                body_text: "本文",
                created_at: at,
                next_attempt_at: at,
            },
        )?;
        Ok(())
    });
}

#[actix_web::test]
async fn mail_queued_while_smtp_is_down_is_sent_when_it_is_back() {
    let app = TestApp::spawn();
    // A port nothing listens on: the SMTP server is down.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = smtp_to(closed);
    // Queue directly, without waking the app's own sender, and drive the sender by hand.
    queue(&app, None, "someone@example.test");
    let claimed = yui::jobs::send_due(&app.core.db, &down, "Yui <yui@example.test>", "test-owner")
        .await
        .unwrap();
    assert_eq!(claimed, 1);
    let (attempts, failed, error, next): (
        i32,
        Option<chrono::NaiveDateTime>,
        Option<String>,
        chrono::NaiveDateTime,
    ) = app.db(|conn| {
        Ok(outbox::table
            .filter(outbox::to_addr.eq("someone@example.test"))
            .select((
                outbox::attempts,
                outbox::failed_at,
                outbox::last_error,
                outbox::next_attempt_at,
            ))
            .first(conn)?)
    });
    assert_eq!(attempts, 1);
    assert!(failed.is_none(), "a connection failure is temporary");
    assert!(error.is_some());
    assert!(next > yui::models::now(), "retried later, with backoff");
    // The server is back; the retry time comes.
    app.db(|conn| {
        diesel::update(outbox::table)
            .set(outbox::next_attempt_at.eq(yui::models::now() - chrono::Duration::seconds(1)))
            .execute(conn)?;
        Ok(())
    });
    app.core.db.mail_wakeup().notify_one();
    let mail = app.smtp.wait_for("someone@example.test").await;
    assert_eq!(mail.subject, "件名");
    assert_eq!(mail.body.trim(), "本文");
}

#[actix_web::test]
async fn mail_to_a_disabled_account_is_never_sent() {
    let app = TestApp::spawn();
    let u = app.create_user("taro", false);
    app.db(|conn| Ok(yui::models::user::set_disabled(conn, u.id, true)?));
    queue(&app, Some(u.id), "taro@example.test");
    queue(&app, None, "marker@example.test");
    app.core.db.mail_wakeup().notify_one();
    app.smtp.wait_for("marker@example.test").await;
    let (failed, error): (Option<chrono::NaiveDateTime>, Option<String>) = app.db(|conn| {
        Ok(outbox::table
            .filter(outbox::to_addr.eq("taro@example.test"))
            .select((outbox::failed_at, outbox::last_error))
            .first(conn)?)
    });
    assert!(failed.is_some());
    assert!(error.unwrap().contains("disabled"));
    assert!(
        app.smtp
            .mails()
            .iter()
            .all(|m| !m.to.contains(&"taro@example.test".to_owned()))
    );
}

#[actix_web::test]
async fn a_claimed_mail_is_not_claimed_again_by_another_sender() {
    let app = TestApp::spawn();
    // Due in an hour: the app's own sender (on the real clock) leaves it alone, and the two
    // instances below claim as if that hour had passed.
    let due = yui::models::now() + chrono::Duration::hours(1);
    queue_due_at(&app, None, "once@example.test", due);
    let at = due + chrono::Duration::minutes(1);
    let lease = at + chrono::Duration::seconds(120);
    let claim = |owner: &'static str, at, lease| {
        app.db(move |conn| {
            Ok(yui::models::outbox::claim_due(conn, owner, at, lease, 10)?
                .into_iter()
                .map(|m| (m.to_addr, m.lease_owner))
                .collect::<Vec<_>>())
        })
    };
    let held = vec![(
        "once@example.test".to_owned(),
        Some("instance-a".to_owned()),
    )];
    assert_eq!(
        claim("instance-a", at, lease),
        held,
        "the first instance holds it"
    );
    assert!(
        claim("instance-b", at, lease).is_empty(),
        "a leased mail is not claimed by another instance"
    );
    assert!(
        claim("instance-b", lease, lease).is_empty(),
        "not while the lease lasts"
    );
    // Its sender died: once the lease has run out, another instance takes it over.
    let after = lease + chrono::Duration::seconds(1);
    assert_eq!(
        claim("instance-b", after, after + chrono::Duration::seconds(120)),
        vec![(
            "once@example.test".to_owned(),
            Some("instance-b".to_owned())
        )]
    );
}

#[actix_web::test]
async fn the_dir_mailer_writes_eml_files() {
    let dir = tempfile::tempdir().unwrap();
    let mailer = Mailer::from_config(&MailConfig::default(), dir.path().join("mail")).unwrap();
    mailer
        .send(
            "Yui <yui@localhost>",
            "a@example.test",
            "こんにちは",
            "本文です",
        )
        .await
        .unwrap();
    let files: Vec<_> = std::fs::read_dir(dir.path().join("mail"))
        .unwrap()
        .collect();
    assert_eq!(files.len(), 1);
    let text = std::fs::read_to_string(files[0].as_ref().unwrap().path()).unwrap();
    assert!(text.contains("To: a@example.test"));
}

/// Waits (polling every millisecond, so the figure is not rounded up to `wait_for`'s 50 ms) until
/// the sink holds more than `before` mails about `subject`; returns how long that took from `t0`.
async fn arrived_after(
    app: &TestApp,
    before: usize,
    subject: &str,
    t0: std::time::Instant,
) -> std::time::Duration {
    let about = |app: &TestApp| {
        app.smtp
            .mails()
            .iter()
            .filter(|m| m.subject.contains(subject))
            .count()
    };
    while about(app) <= before {
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(15),
            "no mail about {subject:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    t0.elapsed()
}

/// The mail sender is woken once the transaction that queued a mail has committed. Woken inside
/// it (as it was), the sender looked before the commit, found nothing and slept until its next
/// 5-second poll, so an approval's mail arrived seconds late (always on PostgreSQL). Each round
/// starts right after the sender went back to sleep, the worst moment for a wake-up that comes too
/// early. Prints the delays (`cargo test --test it mail::mail_leaves -- --nocapture`).
#[actix_web::test]
async fn mail_leaves_right_after_the_action_commits() {
    const ROUNDS: usize = 4;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    for login in ["manager", "member"] {
        app.create_user(login, false);
    }
    let fields = [
        ("name", "council"),
        ("slug", "council"),
        ("visibility", "members"),
        ("state", "open"),
        ("default_role", "member"),
        ("join_policy", "invite"),
        ("quota_mb", "100"),
        ("feature_blog", "on"),
        ("manager", "manager"),
        ("need_approval", "on"),
    ];
    let res = app
        .post_form(&admin, "/admin/rooms/new", "/admin/rooms", &fields)
        .await;
    assert_eq!(res.status(), 303);
    let manager = app.client();
    app.login(&manager, "manager", PASSWORD).await;
    let member = app.client();
    app.login(&member, "member", PASSWORD).await;
    let members = "/rooms/council/members";
    let res = app
        .post_form(
            &manager,
            members,
            members,
            &[("login", "member"), ("role", "member")],
        )
        .await;
    assert_eq!(res.status(), 303);

    let mut approvals = Vec::new();
    for round in 0..ROUNDS {
        let title = format!("報告 {round}");
        let res = app
            .post_form(
                &member,
                "/rooms/council/posts/new",
                "/rooms/council/posts",
                &[("title", &title), ("body", "本文"), ("action", "submit")],
            )
            .await;
        assert_eq!(res.status(), 303);
        let post = location(&res);
        let inbox = manager
            .get(app.url("/inbox"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let revision = crate::room_posts::revision_in(&inbox);
        let token = csrf_from(&inbox);
        app.outbox_drained().await;
        let before = app
            .mails_to("member@example.test", "公開されました")
            .await
            .len();
        let t0 = std::time::Instant::now();
        let res = manager
            .post(app.url(&format!("{post}/approve")))
            .form(&[("_csrf", token.as_str()), ("revision", &revision)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        approvals.push(arrived_after(&app, before, "公開されました", t0).await);
    }

    let mut checks = Vec::new();
    for round in 0..ROUNDS {
        let title = format!("安否確認 {round}");
        let token = app.csrf(&admin, "/safety/new").await;
        app.outbox_drained().await;
        let t0 = std::time::Instant::now();
        let res = admin
            .post(app.url("/safety"))
            .form(&[
                ("_csrf", token.as_str()),
                ("scope", "all"),
                ("title", title.as_str()),
                ("drill", "on"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 303);
        checks.push(arrived_after(&app, 0, &title, t0).await);
    }
    app.outbox_drained().await;
    let ms = |d: &[std::time::Duration]| {
        d.iter()
            .map(|d| d.as_millis().to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    eprintln!(
        "delay from action to mail at the SMTP sink (ms): approval [{}] safety check [{}]",
        ms(&approvals),
        ms(&checks)
    );
    for d in approvals.iter().chain(&checks) {
        assert!(
            *d < std::time::Duration::from_secs(2),
            "a mail waited for the sender's poll: {d:?}"
        );
    }
}
