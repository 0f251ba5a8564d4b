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
    app.db(|conn| {
        let at = yui::models::now() - chrono::Duration::seconds(1);
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
    assert!(claimed >= 1);
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
    app.core.mail_wakeup.notify_one();
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
    app.core.mail_wakeup.notify_one();
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
    queue(&app, None, "once@example.test");
    let (first, second) = app.db(|conn| {
        let now = yui::models::now();
        let lease = now + chrono::Duration::seconds(120);
        let first = yui::models::outbox::claim_due(conn, "instance-a", now, lease, 10)?;
        let second = yui::models::outbox::claim_due(conn, "instance-b", now, lease, 10)?;
        Ok((first.len(), second.len()))
    });
    assert!(
        first <= 1 && second == 0,
        "a leased mail is held by one instance: {first} / {second}"
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
