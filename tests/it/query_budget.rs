//! A query budget per page (the N+1 guard): the SQL statements each main page runs, counted by the
//! pool's instrumentation (`Db::statements`, transaction statements included), stay at a small
//! fixed number that does not grow with the number of rooms, posts, members or files.

use crate::support::*;

/// The statements one GET of `path` runs, as the fewest of three tries: the jobs loop's rounds
/// (every few seconds) and the settings cache may add their own now and then, never to three
/// requests in a row.
async fn statements(app: &TestApp, c: &reqwest::Client, path: &str) -> u64 {
    let mut fewest = u64::MAX;
    for _ in 0..3 {
        let before = app.core.db.statements();
        let res = c.get(app.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        res.bytes().await.unwrap();
        fewest = fewest.min(app.core.db.statements() - before);
    }
    fewest
}

/// The pages a member and a manager open most, with the most statements each may run: today's
/// counts (transaction statements included), so a change that adds one says so here. #16 (member
/// page speed) is expected to lower them.
const BUDGETS: &[(&str, &str, u64)] = &[
    ("member", "/", 12),
    ("member", "/rooms", 10),
    ("member", "/rooms/room0", 19),
    ("member", "POST", 17),
    ("member", "/new", 11),
    // +1: the coming dates read the changed occurrences of their series (one statement, #12).
    ("member", "/home", 29),
    ("member", "/rooms/room0/files", 18),
    ("member", "/notices", 10),
    ("member", "/safety", 17),
    // +1: the calendar events waiting for approval (one statement, #12; the navigation's count
    // stays in its one statement).
    ("manager", "/inbox", 14),
    ("manager", "/rooms/room0/members", 17),
    ("manager", "/safety/CHECK", 16),
    ("admin", "/admin/members", 10),
];

/// Adds `rooms` rooms (room0 first) with `posts` posts each, `people` more members and `files` files
/// in room0, a circular and an open safety check; returns the first post's page and the check's.
struct Site {
    post: String,
    check: String,
}

async fn grow(
    app: &TestApp,
    admin: &reqwest::Client,
    from: usize,
    rooms: usize,
    posts: usize,
    people: usize,
) -> Option<Site> {
    let manager = app.sign_in("manager").await;
    let member = app.sign_in("member").await;
    let mut first_post = None;
    for r in from..rooms {
        let slug = format!("room{r}");
        let mut room = app
            .room(&slug)
            .features(&["blog", "files"])
            .with_approval()
            .managed_by("manager")
            .member("member", "member");
        for p in 0..people {
            let login = format!("p{r}x{p}");
            app.create_user(&login, false);
            room = room.member(&login, "member");
        }
        room.create(admin).await;
        for n in 0..posts {
            let post = app
                .post_in(&slug, &format!("記事 {r}-{n}"))
                .published(&manager)
                .await;
            first_post.get_or_insert(post.path);
        }
        for n in 0..posts {
            app.file_in(&slug, &format!("資料{n}.txt"))
                .upload(&manager)
                .await;
        }
        // Waiting for approval, so the inbox has rows from every room.
        app.post_in(&slug, &format!("承認待ち {r}"))
            .submit(&member)
            .await;
        let res = app
            .post_form(
                &manager,
                &format!("/rooms/{slug}/notices/new"),
                &format!("/rooms/{slug}/notices"),
                &[
                    ("title", &format!("回覧 {r}")),
                    ("body", "本文"),
                    ("to", ""),
                    ("question_kind", "none"),
                ],
            )
            .await;
        assert_eq!(res.status(), 303, "circular in {slug}");
    }
    let res = app
        .post_form(
            admin,
            "/safety/new",
            "/safety",
            &[
                ("scope", "all"),
                ("title", "地震"),
                ("drill", "on"),
                ("message", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    // The mail just queued is sent before anything is counted (the sender's statements would count).
    app.outbox_drained().await;
    Some(Site {
        post: first_post?,
        check: location(&res),
    })
}

#[actix_web::test]
async fn each_main_page_runs_a_fixed_number_of_statements_however_big_the_site() {
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("manager", false);
    app.create_user("member", false);
    let small = grow(&app, &admin, 0, 1, 1, 1).await.unwrap();
    let clients = [
        ("member", app.sign_in("member").await),
        ("manager", app.sign_in("manager").await),
        ("admin", admin.clone()),
    ];
    let client = |who: &str| &clients.iter().find(|(w, _)| *w == who).unwrap().1;
    let path = |p: &str, site: &Site| {
        p.replace("POST", &site.post)
            .replace("/safety/CHECK", &site.check)
    };
    let mut counts = Vec::new();
    for (who, page, _) in BUDGETS {
        counts.push(statements(&app, client(who), &path(page, &small)).await);
    }
    let over: Vec<String> = BUDGETS
        .iter()
        .zip(&counts)
        .filter(|((_, _, budget), n)| *n > budget)
        .map(|((who, page, budget), n)| format!("{page} as {who}: {n} statements, budget {budget}"))
        .collect();
    assert!(
        over.is_empty(),
        "over budget:\n  {}\n(all: {counts:?})",
        over.join("\n  ")
    );
    // Ten times the rooms, posts, members and files: the same count on every page.
    let big = grow(&app, &admin, 1, 6, 5, 4).await.unwrap();
    let mut report = Vec::new();
    let mut grew = Vec::new();
    for ((who, page, _), small_n) in BUDGETS.iter().zip(&counts) {
        let n = statements(&app, client(who), &path(page, &big)).await;
        report.push(format!("{page} as {who}: {small_n} → {n}"));
        if n != *small_n {
            grew.push(format!("{page} as {who}: {small_n} → {n}"));
        }
    }
    eprintln!(
        "statements per page (small site → big site):\n  {}",
        report.join("\n  ")
    );
    assert!(
        grew.is_empty(),
        "grew with the site:\n  {}",
        grew.join("\n  ")
    );
}

/// A read costs its own statements and, on SQLite, the BEGIN and COMMIT of its one snapshot. On
/// PostgreSQL, where READ COMMITTED gives every statement its own snapshot even inside a
/// transaction, a read runs without one: BEGIN and COMMIT would only be two more round trips (#16).
#[actix_web::test]
async fn a_read_wraps_its_statements_in_a_transaction_only_where_that_buys_a_snapshot() {
    use diesel::RunQueryDsl;
    let app = TestApp::spawn();
    let db = &app.core.db;
    let mut fewest = u64::MAX;
    // The fewest of three: the jobs loop may run statements of its own meanwhile.
    for _ in 0..3 {
        let before = db.statements();
        db.read(|c| {
            diesel::sql_query("SELECT 1").execute(c)?;
            diesel::sql_query("SELECT 2").execute(c)?;
            Ok(())
        })
        .await
        .unwrap();
        fewest = fewest.min(db.statements() - before);
    }
    let expected = match db.backend() {
        // BEGIN, the two statements, COMMIT.
        yui::db::Backend::Sqlite => 4,
        // The pool's check of the connection it hands out (`SELECT 1`), then the two statements.
        yui::db::Backend::Postgres => 3,
    };
    assert_eq!(fewest, expected, "{:?}", db.backend());
}
