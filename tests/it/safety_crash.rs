//! Issue #5: the real `yui serve` is killed (`kill -9`) in the middle of many safety answers sent
//! through personal links; every answer that got a 2xx must be in the database afterwards. Always
//! SQLite (a temporary data directory), whatever `YUI_TEST_DATABASE_URL` says: it is the backend
//! whose durability the server itself is responsible for (`synchronous=FULL`).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use yui::db::schema::notice_recipients;

use crate::support::{PASSWORD, csrf_from, location};

/// Members answering.
const MEMBERS: usize = 600;
/// Answers in flight at once.
const CONCURRENCY: usize = 32;
/// The server is killed once this many answers were acknowledged.
const KILL_AFTER: usize = 150;

fn yui(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_yui"));
    c.arg("--data-dir")
        .arg(data)
        .env_remove("YUI_DATABASE_URL")
        .env_remove("YUI_CONFIG")
        .env("YUI_LOG", "warn");
    c
}

fn open(data: &Path) -> yui::db::DbConn {
    yui::db::establish(&format!("sqlite://{}", data.join("yui.db").display())).unwrap()
}

/// Starts `serve` on a free port; returns the child and its base URL.
fn serve(data: &Path) -> (Child, String) {
    let mut child = yui(data)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .stdin(Stdio::null())
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
    // The rest of stdout is drained so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    (child, format!("http://{addr}"))
}

/// Waits (bounded) for a killed child, so its files are closed before the database is opened.
fn reap(child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "the server did not die");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The condition a member answers: all three, spread over the members, so a stored answer can
/// be told from the one sent.
fn condition_of(user_id: i64) -> &'static str {
    ["safe", "injured", "need_help"][usize::try_from(user_id % 3).unwrap()]
}

#[actix_web::test]
async fn every_acknowledged_answer_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    let mut create = yui(data)
        .args([
            "user",
            "create",
            "admin",
            "--email",
            "admin@example.test",
            "--admin",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    std::io::Write::write_all(
        &mut create.stdin.take().unwrap(),
        format!("{PASSWORD}\n").as_bytes(),
    )
    .unwrap();
    assert!(create.wait().unwrap().success());
    // Members straight into the database, in one transaction (nobody logs in as them).
    yui::db::in_transaction(&mut open(data), true, |conn| {
        for i in 0..MEMBERS {
            let account = yui::services::account::NewAccount {
                login: format!("m{i:04}"),
                email: format!("m{i:04}@example.test"),
                display_name: format!("m{i:04}"),
                role: yui::models::user::SiteRole::Member,
                language: None,
            };
            yui::services::account::insert_account(conn, &account, "x")?;
        }
        Ok(())
    })
    .unwrap();

    let (mut server, base) = serve(data);
    let admin = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        // Never reuse a connection the server's 5 s keep-alive may be closing (see crash.rs).
        .pool_idle_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let page = admin
        .get(format!("{base}/login"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = admin
        .post(format!("{base}/login"))
        .form(&[
            ("_csrf", csrf_from(&page).as_str()),
            ("name", "admin"),
            ("password", PASSWORD),
            ("next", "/"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "admin login");
    let page = admin
        .get(format!("{base}/safety/new"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let res = admin
        .post(format!("{base}/safety"))
        .form(&[
            ("_csrf", csrf_from(&page).as_str()),
            ("scope", "all"),
            ("title", "地震 安否確認"),
            ("confirmed", "yes"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 303, "check started");
    let check: i64 = location(&res)
        .strip_prefix("/safety/")
        .unwrap()
        .parse()
        .unwrap();

    // Each recipient's personal link, computed as the server does (HMAC of the server secret).
    let secret = yui::secret::Secret::load_or_create(data).unwrap();
    let users: Vec<i64> = notice_recipients::table
        .filter(notice_recipients::notice_id.eq(check))
        .order(notice_recipients::user_id)
        .select(notice_recipients::user_id)
        .load(&mut open(data))
        .unwrap();
    assert_eq!(users.len(), MEMBERS + 1, "the members and the admin");
    let jobs: Vec<(i64, String)> = users
        .into_iter()
        .map(|u| (u, secret.token_for(&format!("answer:{check}:{u}"))))
        .collect();

    // Answers from CONCURRENCY workers; the first worker to see KILL_AFTER acknowledgements kills
    // the server with SIGKILL while the others' requests are in flight.
    let phone = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let next = Arc::new(AtomicUsize::new(0));
    let acked_count = Arc::new(AtomicUsize::new(0));
    let jobs = Arc::new(jobs);
    let pid = server.id();
    let mut workers = Vec::new();
    for _ in 0..CONCURRENCY {
        let (phone, next, acked_count, jobs, base) = (
            phone.clone(),
            next.clone(),
            acked_count.clone(),
            jobs.clone(),
            base.clone(),
        );
        workers.push(actix_web::rt::spawn(async move {
            let mut acked = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                let Some((user, token)) = jobs.get(i) else {
                    break;
                };
                let sent = phone
                    .post(format!("{base}/a/{token}"))
                    .form(&[("condition", condition_of(*user))])
                    .send()
                    .await;
                match sent {
                    Ok(res) if res.status() == 200 => {
                        // The status line is the acknowledgement; the body may be cut off.
                        acked.push(*user);
                        if acked_count.fetch_add(1, Ordering::SeqCst) + 1 == KILL_AFTER {
                            let killed = Command::new("kill")
                                .args(["-KILL", &pid.to_string()])
                                .status()
                                .unwrap();
                            assert!(killed.success());
                        }
                    }
                    Ok(res) => panic!("answer of user {user} refused: {}", res.status()),
                    // Connection refused or reset: the server is gone; not acknowledged.
                    Err(_) => {}
                }
            }
            acked
        }));
    }
    let mut acked = Vec::new();
    for w in workers {
        acked.extend(w.await.unwrap());
    }
    reap(&mut server);
    assert!(
        acked.len() >= KILL_AFTER && acked.len() < MEMBERS,
        "the kill came in the middle: {} of {} acknowledged",
        acked.len(),
        MEMBERS + 1
    );

    // Every acknowledged answer is stored, with the condition that was sent.
    let stored: Vec<(i64, Option<String>, Option<chrono::NaiveDateTime>)> =
        notice_recipients::table
            .filter(notice_recipients::notice_id.eq(check))
            .select((
                notice_recipients::user_id,
                notice_recipients::condition,
                notice_recipients::answered_at,
            ))
            .load(&mut open(data))
            .unwrap();
    let lost: Vec<i64> = acked
        .iter()
        .copied()
        .filter(|u| {
            !stored.iter().any(|(id, condition, at)| {
                id == u && at.is_some() && condition.as_deref() == Some(condition_of(*u))
            })
        })
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged answers lost: {lost:?}",
        lost.len()
    );

    // The server starts again on the same data and still takes answers.
    let (mut again, base) = serve(data);
    let (user, token) = jobs.last().unwrap();
    let res = phone
        .post(format!("{base}/a/{token}"))
        .form(&[("condition", condition_of(*user))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    again.kill().unwrap();
    reap(&mut again);
}
