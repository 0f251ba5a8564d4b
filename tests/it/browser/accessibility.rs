//! Accessibility, measured in the real browser (issue #17): axe-core, from the npm registry
//! (`tests/axe`, installed by `npm ci` in `.ci/run`), is injected into the main pages of every role
//! (visitor, member, room manager, site admin) in both languages at a desktop and a phone width;
//! a serious or critical violation fails the test, moderate and minor ones are listed. Then the
//! keyboard alone: the skip link, the login form and the safety answer link.
//!
//! Without axe-core (`npm ci --prefix tests/axe` not run) the axe test is skipped as loudly as a
//! missing chromedriver, and fails under `YUI_REQUIRE_BROWSER` like the other browser tests.

use std::collections::BTreeMap;

use serde::Deserialize;
use thirtyfour::Key;

use super::*;
use crate::support::location;

/// axe-core's browser bundle, as `npm ci` in `tests/axe` installs it.
const AXE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/axe/node_modules/axe-core/axe.min.js"
);

/// The rule sets that run: WCAG 2.0 and 2.1, levels A and AA (JIS X 8341-3), plus axe's best
/// practices (landmarks, headings, empty table headers), which only ever count as moderate or minor.
const TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];

/// A desktop and a phone.
const WIDTHS: [(u32, u32); 2] = [(1280, 900), (390, 844)];

/// Pages whose fields and buttons the test photographs (in Japanese, at both widths), so a person
/// can look at the borders and rings: `(path, screenshot name)`.
const SHOTS: [(&str, &str); 4] = [
    ("/search?q=訓練", "61-search"),
    ("/rooms/kazoku/posts/new", "62-editor"),
    ("/rooms/kazoku/permissions", "63-permissions"),
    ("/admin/settings", "64-settings"),
];

/// axe-core's source, or `None` (after saying so loudly) when it is not installed.
fn axe_source() -> Option<String> {
    match std::fs::read_to_string(AXE) {
        Ok(source) => Some(source),
        Err(e) => {
            assert!(
                std::env::var_os("YUI_REQUIRE_BROWSER").is_none(),
                "YUI_REQUIRE_BROWSER is set but {AXE} cannot be read ({e}); \
                 run `npm ci --prefix tests/axe`"
            );
            eprintln!();
            eprintln!("************************************************************************");
            eprintln!("*** SKIPPED: the axe test needs axe-core: npm ci --prefix tests/axe  ***");
            eprintln!("************************************************************************");
            eprintln!();
            None
        }
    }
}

/// One rule an axe run found broken on a page.
#[derive(Debug, Deserialize)]
struct Violation {
    id: String,
    impact: Option<String>,
    help: String,
    /// How many elements break it.
    count: usize,
    /// The first few of them, as CSS selectors.
    targets: Vec<String>,
}

/// A violation with where it was found.
#[derive(Debug)]
struct Finding {
    page: String,
    violation: Violation,
}

impl Finding {
    fn is_blocking(&self) -> bool {
        matches!(
            self.violation.impact.as_deref(),
            Some("serious" | "critical")
        )
    }
}

/// Injects axe-core into the current page and runs it.
async fn run_axe(driver: &WebDriver, axe: &str) -> WebDriverResult<Vec<Violation>> {
    let loaded: bool = driver
        .execute(
            format!("{axe}\n;return typeof window.axe === 'object';"),
            Vec::<serde_json::Value>::new(),
        )
        .await?
        .convert()?;
    assert!(loaded, "axe-core did not load");
    let ret = driver
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             window.axe.run(document, { runOnly: { type: 'tag', values: arguments[0] }, resultTypes: ['violations'] })\
               .then(r => done(r.violations.map(v => ({ id: v.id, impact: v.impact, help: v.help,\
                 count: v.nodes.length, targets: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }))))\
               .catch(e => done('axe failed: ' + e));",
            vec![serde_json::json!(TAGS)],
        )
        .await?;
    let value = ret.json().clone();
    if let Some(error) = value.as_str() {
        panic!("{error}");
    }
    Ok(serde_json::from_value(value).unwrap())
}

/// Starts a safety drill for everyone as `admin`; returns the check's dashboard path and
/// hanako's personal answer link (from her mail).
async fn start_drill(app: &TestApp, admin: &reqwest::Client) -> (String, String) {
    let res = app
        .post_form(
            admin,
            "/safety/new",
            "/safety",
            &[
                ("scope", "all"),
                ("title", "震度5強 安否確認"),
                ("drill", "on"),
                ("message", "身の安全を確保してから回答してください。"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let mail = app
        .smtp
        .wait_for_subject("hanako@example.test", "安否確認")
        .await;
    let start = mail.body.find("http://").unwrap();
    let link = mail.body[start..].split_whitespace().next().unwrap();
    (location(&res), link.to_owned())
}

/// A field or button whose edge is under 3:1 against what surrounds it (WCAG 1.4.11, which axe
/// does not check): neither its border nor its own background stands out enough.
#[derive(Debug, Deserialize)]
struct FaintField {
    what: String,
    ratio: f64,
}

/// The visible, enabled fields and buttons of the page whose best edge contrast (border against
/// the background around it, or the control's own background against it) is under 3:1.
/// Text-only buttons (no border, no background: `button.link`) read as links and are left out.
async fn faint_fields(driver: &WebDriver) -> WebDriverResult<Vec<FaintField>> {
    driver
        .execute(
            r"const parse = c => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
                const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
                return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 }; };
              const lum = c => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
                return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b); };
              const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
              const around = el => { for (let e = el; e; e = e.parentElement) {
                  const c = parse(getComputedStyle(e).backgroundColor); if (c && c.a > 0) return c; }
                return { r: 255, g: 255, b: 255, a: 1 }; };
              const out = [];
              for (const el of document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), select, textarea, button')) {
                const box = el.getBoundingClientRect();
                if (box.width === 0 || box.height === 0 || el.disabled) continue;
                const s = getComputedStyle(el);
                if (s.visibility === 'hidden') continue;
                const outside = around(el.parentElement);
                const own = parse(s.backgroundColor);
                const border = parse(s.borderTopColor);
                const bordered = parseFloat(s.borderTopWidth) > 0 && s.borderTopStyle !== 'none' && border && border.a > 0;
                const filled = own && own.a > 0;
                if (!bordered && !filled) continue;
                const best = Math.max(bordered ? ratio(border, outside) : 0, filled ? ratio(own, outside) : 0);
                if (best < 3) out.push({ what: el.tagName.toLowerCase()
                    + (el.className ? '.' + String(el.className).trim().split(/\s+/).join('.') : '')
                    + (el.name ? '[name=' + el.name + ']' : ''), ratio: Math.round(best * 100) / 100 });
              }
              return out;",
            Vec::<serde_json::Value>::new(),
        )
        .await?
        .convert()
}

/// The pages one person visits: `(who, login, paths)`.
type Tour = (&'static str, Option<&'static str>, Vec<String>);

/// The address of the newest post on the front page (`/posts/...`).
async fn newest_blog_post(app: &TestApp) -> String {
    let front = app.client().get(app.url("/")).send().await.unwrap();
    let html = front.text().await.unwrap();
    let at = html.find("href=\"/posts/").unwrap() + "href=\"".len();
    html[at..at + html[at..].find('"').unwrap()].to_owned()
}

/// The site's content: the room `kazoku` (managed by taro, hanako a member) with a post and a
/// file, and public posts in both languages. Returns the room post.
async fn fill_site(app: &TestApp, admin: &reqwest::Client) -> crate::support::CreatedPost {
    let taro = app.sign_in("taro").await;
    app.room("kazoku")
        .named("家族の部屋")
        .managed_by("taro")
        .member("hanako", "member")
        .features(&["blog", "files"])
        .create(admin)
        .await;
    app.post_in("public", "防災訓練のお知らせ")
        .body("## 訓練の概要\n\n今年も**全員参加**の防災訓練を行います。")
        .published(admin)
        .await;
    app.post_in("public", "Evacuation drill")
        .body("Everyone meets in front of the **community hall** at ten.")
        .published(admin)
        .await;
    let room_post = app.post_in("kazoku", "週末の予定").published(&taro).await;
    app.file_in("kazoku", "議事録.txt").upload(&taro).await;
    app.file_in("kazoku", "名簿.csv")
        .bytes("氏名,学年\n山田,3年\n")
        .upload(&taro)
        .await;
    let hanako = app.sign_in("hanako").await;
    let res = app
        .post_form(
            &hanako,
            &room_post.path,
            &format!("{}/comments", room_post.path),
            &[("comment", "参加します")],
        )
        .await;
    assert_eq!(res.status(), 303);
    room_post
}

/// The newest file and comment ids of the site: the preview of the CSV file and hanako's comment.
fn newest_file_and_comment(app: &TestApp) -> (i64, i64) {
    use diesel::prelude::*;
    use yui::db::schema::{files, post_comments};
    app.db(|conn| {
        let file = files::table
            .select(files::id)
            .order(files::id.desc())
            .first::<i64>(conn)?;
        let comment = post_comments::table
            .select(post_comments::id)
            .order(post_comments::id.desc())
            .first::<i64>(conn)?;
        Ok((file, comment))
    })
}

/// Everyone's main pages: a visitor's, a member's (`hanako`), a room manager's (`taro`, of
/// `kazoku`) and the site admin's, over a site with posts in both languages, a room post, a file
/// and a safety drill that waits for hanako's answer.
async fn arrange(app: &TestApp) -> Vec<Tour> {
    let admin = app.admin_client().await;
    app.create_user("taro", false);
    app.create_user("hanako", false);
    let room_post = fill_site(app, &admin).await;
    let (csv, comment) = newest_file_and_comment(app);
    let (check, link) = start_drill(app, &admin).await;
    let answer_link = link[link.find("/a/").unwrap()..].to_owned();
    let blog_post = newest_blog_post(app).await;
    let paths = |list: &[&str]| list.iter().map(|&p| p.to_owned()).collect::<Vec<_>>();
    vec![
        (
            "visitor",
            None,
            [
                paths(&[
                    "/",
                    "/search?q=訓練",
                    "/login",
                    "/password/reset",
                    "/rooms",
                    "/authors/admin",
                ]),
                vec![blog_post, answer_link],
            ]
            .concat(),
        ),
        (
            "member",
            Some("hanako"),
            [
                paths(&[
                    "/",
                    "/home",
                    "/rooms",
                    "/rooms/kazoku",
                    "/rooms/kazoku/posts/new",
                    "/rooms/kazoku/files",
                    "/new",
                    "/notices",
                    "/safety",
                    "/me",
                    "/me/addresses",
                    "/people",
                ]),
                vec![
                    room_post.path.clone(),
                    format!("{check}/answer"),
                    format!("/rooms/kazoku/files/preview/{csv}"),
                    format!("{}/comments/{comment}", room_post.path),
                ],
            ]
            .concat(),
        ),
        (
            "manager",
            Some("taro"),
            [
                paths(&[
                    "/rooms/kazoku/members",
                    "/rooms/kazoku/permissions",
                    "/rooms/kazoku/settings",
                    "/rooms/kazoku/notices/new",
                    "/rooms/kazoku/files/trash",
                    "/inbox",
                    "/home",
                ]),
                vec![format!("{}/edit", room_post.path)],
            ]
            .concat(),
        ),
        (
            "admin",
            Some("admin"),
            [
                paths(&[
                    "/admin",
                    "/admin/members",
                    "/admin/members/new",
                    "/admin/rooms",
                    "/admin/rooms/new",
                    "/admin/settings",
                    "/admin/audit",
                    "/admin/reachability",
                    "/safety/new",
                    "/rooms/public/posts/new",
                ]),
                vec![check],
            ]
            .concat(),
        ),
    ]
}

/// Prints what axe found, grouped by rule, and returns the blocking findings.
fn report(findings: &[Finding], runs: usize) -> Vec<&Finding> {
    let mut by_rule: BTreeMap<(&str, &str), Vec<&Finding>> = BTreeMap::new();
    for f in findings {
        let impact = f.violation.impact.as_deref().unwrap_or("unknown");
        by_rule
            .entry((impact, f.violation.id.as_str()))
            .or_default()
            .push(f);
    }
    let mut per_impact: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for f in findings {
        let e = per_impact
            .entry(f.violation.impact.as_deref().unwrap_or("unknown"))
            .or_default();
        e.0 += 1;
        e.1 += f.violation.count;
    }
    eprintln!("axe-core: {runs} page runs (pages × languages × widths)");
    for (impact, (n, nodes)) in &per_impact {
        eprintln!("axe-core: {impact}: {n} violations on {nodes} elements");
    }
    for ((impact, id), list) in &by_rule {
        let first = &list[0];
        eprintln!(
            "axe-core: [{impact}] {id} ({}) on {} runs, e.g. {} at {}",
            first.violation.help,
            list.len(),
            first.page,
            first.violation.targets.join(", ")
        );
    }
    findings.iter().filter(|f| f.is_blocking()).collect()
}

#[actix_web::test]
async fn axe_finds_nothing_serious_on_every_role_s_pages_in_both_languages_and_sizes() {
    if !browser_available() {
        return;
    }
    let Some(axe) = axe_source() else { return };
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let tours = arrange(&app).await;
    let app = &app;
    let axe = &axe;
    let (findings, faint, runs) = driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            let mut findings = Vec::new();
            let mut faint = Vec::new();
            let mut runs = 0;
            for (who, login, paths) in &tours {
                driver.set_window_rect(0, 0, 1280, 900).await?;
                if let Some(login) = login {
                    log_in(driver, app, login).await?;
                }
                for (width, height) in WIDTHS {
                    driver.set_window_rect(0, 0, width, height).await?;
                    for lang in ["ja", "en"] {
                        driver
                            .goto(app.url(&format!("/lang/{lang}?next=/")))
                            .await?;
                        for path in paths {
                            driver.goto(app.url(path)).await?;
                            assert_eq!(
                                count(driver, ".error-page").await?,
                                0,
                                "{who} reaches {path}"
                            );
                            let page = format!("{who} {path} {lang} {width}px");
                            for violation in run_axe(driver, axe).await? {
                                findings.push(Finding {
                                    page: page.clone(),
                                    violation,
                                });
                            }
                            for field in faint_fields(driver).await? {
                                faint.push(format!("{page}: {} at {}:1", field.what, field.ratio));
                            }
                            if let Some(name) = SHOTS.iter().find(|(p, _)| p == path).map(|s| s.1)
                                && lang == "ja"
                            {
                                shot(driver, &format!("{name}-{width}.png")).await?;
                            }
                            runs += 1;
                        }
                    }
                }
                driver.set_window_rect(0, 0, 1280, 900).await?;
                if login.is_some() {
                    log_out(driver).await?;
                }
            }
            Ok::<_, WebDriverError>((findings, faint, runs))
        })
        .await
        .unwrap();
    let blocking = report(&findings, runs);
    eprintln!(
        "fields and buttons under 3:1 against their background: {}",
        faint.len()
    );
    for f in faint.iter().take(20) {
        eprintln!("  {f}");
    }
    assert!(
        blocking.is_empty(),
        "serious or critical accessibility violations:\n{}",
        blocking
            .iter()
            .map(|f| format!(
                "  {} [{}] {}: {}",
                f.page,
                f.violation.impact.as_deref().unwrap_or("?"),
                f.violation.id,
                f.violation.targets.join(", ")
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(faint.is_empty(), "fields or buttons under 3:1: {faint:#?}");
    eprintln!("axe browser test took {:.1?}", started.elapsed());
}

/// Presses `key` on whatever has the focus.
async fn press(driver: &WebDriver, key: Key) -> WebDriverResult<()> {
    driver.action_chain().send_keys(key).perform().await
}

/// What has the focus, as `(selector-ish description, visibly focused)`: its tag, id, classes and
/// value, and whether it matches `:focus-visible` with an outline at least 3px wide.
async fn focused(driver: &WebDriver) -> WebDriverResult<(String, bool)> {
    driver
        .execute(
            "const e = document.activeElement;\
             const s = getComputedStyle(e);\
             const name = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')\
               + (e.className ? '.' + String(e.className).trim().split(/\\s+/).join('.') : '')\
               + (e.value && e.tagName === 'BUTTON' ? '=' + e.value : '');\
             const visible = e.matches(':focus-visible') && s.outlineStyle !== 'none'\
               && parseFloat(s.outlineWidth) >= 3;\
             return [name, visible];",
            Vec::<serde_json::Value>::new(),
        )
        .await?
        .convert()
}

/// Tabs once and checks that the focus lands, visibly, on `expected` (a prefix of `focused`).
async fn tab_to(driver: &WebDriver, expected: &str) -> WebDriverResult<()> {
    press(driver, Key::Tab).await?;
    let (name, visible) = focused(driver).await?;
    assert!(
        name.starts_with(expected),
        "Tab reached {name}, not {expected}"
    );
    assert!(visible, "the focus on {name} is not visible");
    Ok(())
}

#[actix_web::test]
async fn the_keyboard_alone_skips_to_the_content_logs_in_and_answers_a_safety_check() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("hanako", false);
    app.post_in("public", "防災訓練のお知らせ")
        .published(&admin)
        .await;
    let (_, link) = start_drill(&app, &admin).await;
    let app = &app;
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            // 1. The first Tab reaches the skip link, Enter on it takes the focus to the content.
            driver.goto(app.url("/")).await?;
            tab_to(driver, "a.skip-link").await?;
            shot(driver, "51-skip-link-focused.png").await?;
            press(driver, Key::Enter).await?;
            let (name, _) = focused(driver).await?;
            assert!(
                name.starts_with("main#main"),
                "the skip link took the focus to {name}"
            );
            // The next Tab is the first post's link, not the header's search or menu.
            tab_to(driver, "a").await?;
            let in_post: bool = driver
                .execute(
                    "return document.activeElement.closest('main .post-summary') !== null;",
                    Vec::<serde_json::Value>::new(),
                )
                .await?
                .convert()?;
            assert!(
                in_post,
                "after the skip link, Tab goes on inside the content"
            );

            // 2. Login: the name field has the focus, Tab goes to the password, Enter logs in.
            driver.goto(app.url("/login")).await?;
            let (name, visible) = focused(driver).await?;
            assert!(name.starts_with("input#name"), "focus starts in {name}");
            assert!(visible, "the focus in the name field is visible");
            driver.action_chain().send_keys("hanako").perform().await?;
            tab_to(driver, "input#password").await?;
            driver.action_chain().send_keys(PASSWORD).perform().await?;
            shot(driver, "52-login-password-focused.png").await?;
            press(driver, Key::Enter).await?;
            wait_for_path(driver, "away from /login", |p| p != "/login").await?;
            find(driver, "header.site-header a[href='/me']").await?;
            // On a phone the menu scrolls sideways: its focused link's ring must not be cut off.
            driver.set_window_rect(0, 0, 390, 844).await?;
            driver.goto(app.url("/")).await?;
            tab_to(driver, "a.skip-link").await?;
            tab_to(driver, "a.site-title").await?;
            tab_to(driver, "input").await?;
            tab_to(driver, "button").await?;
            tab_to(driver, "a").await?;
            shot(driver, "56-menu-link-focused-phone.png").await?;
            driver.set_window_rect(0, 0, 1280, 900).await?;
            log_out(driver).await?;

            // 3. The answer link on a phone: after the skip link, Tab reaches the three answer
            //    buttons first, each visibly; Enter on one records it.
            driver.set_window_rect(0, 0, 390, 844).await?;
            driver.goto(&link).await?;
            tab_to(driver, "a.skip-link").await?;
            tab_to(driver, "button.big.c-safe").await?;
            shot(driver, "53-answer-safe-focused-phone.png").await?;
            tab_to(driver, "button.big.c-injured").await?;
            tab_to(driver, "button.big.c-need_help").await?;
            shot(driver, "54-answer-need-help-focused-phone.png").await?;
            driver.goto(&link).await?;
            tab_to(driver, "a.skip-link").await?;
            tab_to(driver, "button.big.c-safe").await?;
            press(driver, Key::Enter).await?;
            let done = text_of(driver, "p.done").await?;
            assert!(done.contains("回答を受け付けました"), "{done}");
            assert!(
                find(driver, "button.big.c-safe")
                    .await?
                    .class_name()
                    .await?
                    .unwrap_or_default()
                    .contains("chosen"),
                "Enter answered 無事"
            );
            // The chosen answer and the focus look different: focus the chosen button.
            tab_to(driver, "a.skip-link").await?;
            tab_to(driver, "button.big.c-safe.chosen").await?;
            shot(driver, "55-answer-chosen-and-focused-phone.png").await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("keyboard browser test took {:.1?}", started.elapsed());
}
