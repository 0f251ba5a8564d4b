//! Real-browser test: headless Chromium driven through `chromedriver` (thirtyfour), against the real app.
//!
//! Needs Debian's `chromium` and `chromium-driver`. Without them the test is skipped loudly, unless
//! `YUI_REQUIRE_BROWSER` is set, in which case it fails. Screenshots go to `<target>/screenshots/`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thirtyfour::components::SelectElement;
use thirtyfour::prelude::*;

use crate::support::{PASSWORD, TestApp, csrf_from, location};

mod accessibility;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
/// Upper bound of every wait for the browser or the app.
const TIMEOUT: Duration = Duration::from_secs(15);
const POLL: Duration = Duration::from_millis(100);

const SITE_TITLE: &str = "結の掲示板";
const ADMIN_NAME: &str = "結 管理者";
const POST_TITLE: &str = "防災訓練のお知らせ";
const POST_BODY: &str = "## 訓練の概要\n\n今年も**全員参加**の防災訓練を行います。\n\n- 日時: 9月1日 10時\n- 集合: 公民館前\n- 持ち物: 水筒\n";

/// A `chromedriver` child process on a free local port, killed on drop.
struct ChromeDriver {
    child: Child,
    port: u16,
}

impl ChromeDriver {
    /// Starts chromedriver and waits until it answers `/status`.
    async fn start() -> std::io::Result<Self> {
        // A free port: bind one, then let it go for chromedriver.
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()?;
        let driver = Self { child, port };
        let status = format!("{}/status", driver.url());
        let client = reqwest::Client::new();
        let deadline = Instant::now() + TIMEOUT;
        loop {
            if let Ok(res) = client.get(&status).send().await
                && res.status().is_success()
            {
                return Ok(driver);
            }
            if Instant::now() >= deadline {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("chromedriver did not answer on port {port} within {TIMEOUT:?}"),
                ));
            }
            tokio::time::sleep(POLL).await;
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Whether the browser test can run here; `false` means skip (after saying so loudly).
fn browser_available() -> bool {
    if Path::new(CHROMEDRIVER).exists() && Path::new(CHROMIUM).exists() {
        return true;
    }
    assert!(
        std::env::var_os("YUI_REQUIRE_BROWSER").is_none(),
        "YUI_REQUIRE_BROWSER is set but {CHROMEDRIVER} or {CHROMIUM} is missing; \
         apt-get install chromium chromium-driver"
    );
    eprintln!();
    eprintln!("************************************************************************");
    eprintln!("*** SKIPPED: browser test needs chromium-driver;                     ***");
    eprintln!("*** apt-get install chromium chromium-driver                         ***");
    eprintln!("************************************************************************");
    eprintln!();
    false
}

fn capabilities(profile: &Path) -> WebDriverResult<Capabilities> {
    let mut caps = DesiredCapabilities::chrome();
    caps.set_binary(CHROMIUM)?;
    for arg in [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,900",
        // The player test presses play once; headless Chromium has no one to make a gesture.
        "--autoplay-policy=no-user-gesture-required",
    ] {
        caps.add_arg(arg)?;
    }
    caps.add_arg(&format!("--user-data-dir={}", profile.display()))?;
    // Exercise the site's primary (Japanese) UI, whatever the host's locale.
    // Downloads land in the profile's `downloads/`, without asking.
    caps.add_experimental_option(
        "prefs",
        serde_json::json!({
            "intl.accept_languages": "ja,en",
            "download.default_directory": profile.join("downloads"),
            "download.prompt_for_download": false,
        }),
    )?;
    Ok(caps.into())
}

/// Starts chromedriver and a headless Chromium with a fresh profile. Keep the first two alive
/// until the browser has quit (`run_and_quit`).
async fn launch() -> (ChromeDriver, tempfile::TempDir, WebDriver) {
    let chromedriver = ChromeDriver::start()
        .await
        .unwrap_or_else(|e| panic!("cannot run {CHROMEDRIVER}: {e}"));
    let profile = tempfile::tempdir().unwrap();
    let driver = WebDriver::new(chromedriver.url(), capabilities(profile.path()).unwrap())
        .await
        .unwrap();
    (chromedriver, profile, driver)
}

/// `<target>/screenshots/`, created if missing.
fn screenshot_dir() -> std::io::Result<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Saves a screenshot of the whole page: the window is made as tall as the page for the shot (a
/// `WebDriver` screenshot only covers the viewport), then put back. Sizes come from `WebDriver`'s
/// window rect: headless Chromium reports `window.outerWidth` as at least 500px, which would widen
/// a phone-sized window.
async fn shot(driver: &WebDriver, name: &str) -> WebDriverResult<()> {
    let path = screenshot_dir()?.join(name);
    let rect = driver.get_window_rect().await?;
    let width = u32::try_from(rect.width).unwrap();
    let height = u32::try_from(rect.height).unwrap();
    let (page, inner): (u32, u32) = driver
        .execute(
            "return [document.documentElement.scrollHeight, window.innerHeight];",
            Vec::<serde_json::Value>::new(),
        )
        .await?
        .convert()?;
    let tall = page + height.saturating_sub(inner);
    let resize = tall > height;
    if resize {
        driver.set_window_rect(rect.x, rect.y, width, tall).await?;
    }
    driver.screenshot(&path).await?;
    if resize {
        driver
            .set_window_rect(rect.x, rect.y, width, height)
            .await?;
    }
    eprintln!("screenshot: {}", path.display());
    Ok(())
}

/// The first element matching `css`, waiting for it up to `TIMEOUT`.
async fn find(driver: &WebDriver, css: &str) -> WebDriverResult<WebElement> {
    driver.query(By::Css(css)).wait(TIMEOUT, POLL).first().await
}

/// Replaces the value of the input `#id`.
async fn fill(driver: &WebDriver, id: &str, text: &str) -> WebDriverResult<()> {
    let input = driver.query(By::Id(id)).wait(TIMEOUT, POLL).first().await?;
    input.clear().await?;
    input.send_keys(text).await?;
    Ok(())
}

async fn select(driver: &WebDriver, id: &str, value: &str) -> WebDriverResult<()> {
    let el = driver.query(By::Id(id)).wait(TIMEOUT, POLL).first().await?;
    SelectElement::new(&el).await?.select_by_value(value).await
}

/// Waits until the browser's current path satisfies `ok`, and returns the URL.
async fn wait_for_path(
    driver: &WebDriver,
    what: &str,
    ok: impl Fn(&str) -> bool,
) -> WebDriverResult<url::Url> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let url = driver.current_url().await?;
        if ok(url.path()) {
            return Ok(url);
        }
        assert!(
            Instant::now() < deadline,
            "expected to reach {what}, still at {url}"
        );
        tokio::time::sleep(POLL).await;
    }
}

/// Clicks the first element matching `css` and waits until the page it was on has gone (the click
/// navigated), so that the next wait looks at the new page even when its URL is the same.
async fn click_away(driver: &WebDriver, css: &str) -> WebDriverResult<()> {
    let el = find(driver, css).await?;
    el.click().await?;
    el.wait_until().wait(TIMEOUT, POLL).stale().await
}

/// Logs `login` in through the login form.
async fn log_in(driver: &WebDriver, app: &TestApp, login: &str) -> WebDriverResult<()> {
    driver.goto(app.url("/login")).await?;
    fill(driver, "name", login).await?;
    fill(driver, "password", PASSWORD).await?;
    click_away(driver, "form[action='/login'] button[type=submit]").await?;
    wait_for_path(driver, "away from /login", |p| p != "/login").await?;
    let me = find(driver, "header.site-header a[href='/me']")
        .await?
        .text()
        .await?;
    assert_eq!(me, format!("{login} さん"), "logged in as {login}");
    Ok(())
}

/// Logs out with the header's button.
async fn log_out(driver: &WebDriver) -> WebDriverResult<()> {
    click_away(driver, "form[action='/logout'] button[type=submit]").await?;
    find(driver, "header.site-header a[href='/login']").await?;
    Ok(())
}

/// The text of the first element matching `css`.
async fn text_of(driver: &WebDriver, css: &str) -> WebDriverResult<String> {
    find(driver, css).await?.text().await
}

/// How many elements match `css` right now.
async fn count(driver: &WebDriver, css: &str) -> WebDriverResult<usize> {
    Ok(driver.find_all(By::Css(css)).await?.len())
}

/// Fails unless the page fits the window's width (no sideways scrolling).
async fn assert_fits_width(driver: &WebDriver, what: &str) -> WebDriverResult<()> {
    let (scroll, inner): (u32, u32) = driver
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            Vec::<serde_json::Value>::new(),
        )
        .await?
        .convert()?;
    assert!(
        scroll <= inner,
        "{what} scrolls sideways: {scroll}px content in {inner}px"
    );
    Ok(())
}

/// The `href` of the first `<link>` inside an Atom `<entry>`.
fn first_entry_link(feed: &str) -> Option<String> {
    let entry = &feed[feed.find("<entry")?..];
    let link = &entry[entry.find("<link")?..];
    let link = &link[..link.find('>')?];
    let start = link.find("href=\"")? + "href=\"".len();
    let end = link[start..].find('"')? + start;
    Some(link[start..end].replace("&amp;", "&"))
}

#[actix_web::test]
async fn first_run_setup_login_write_post_shows_on_front_page_and_feed() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let app = &app;
    // Quits the browser even when a step fails or panics (the panic resumes afterwards).
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            let setup_token = app
                .setup_token
                .clone()
                .expect("a fresh app prints a setup token");

            // 1. A fresh install shows the first-run page instead of a blog.
            driver.goto(app.url("/")).await?;
            find(driver, "section.first-run").await?;
            assert!(
                driver
                    .find_all(By::Css("article.post-summary"))
                    .await?
                    .is_empty(),
                "a fresh install lists no posts"
            );
            shot(driver, "01-first-run.png").await?;

            // 2. The setup form with the console's token creates the first admin and logs them in.
            driver
                .goto(app.url(&format!("/setup?token={setup_token}")))
                .await?;
            fill(driver, "site_title", SITE_TITLE).await?;
            select(driver, "language", "ja").await?;
            fill(driver, "login", "admin").await?;
            fill(driver, "email", "admin@example.test").await?;
            fill(driver, "display_name", ADMIN_NAME).await?;
            fill(driver, "password", PASSWORD).await?;
            fill(driver, "password_confirm", PASSWORD).await?;
            shot(driver, "02-setup.png").await?;
            find(driver, "form[action='/setup'] button[type=submit]")
                .await?
                .click()
                .await?;
            wait_for_path(driver, "/admin", |p| p.starts_with("/admin")).await?;
            find(driver, "form[action='/logout']").await?;
            let header = find(driver, "header.site-header").await?.text().await?;
            assert!(
                header.contains(SITE_TITLE),
                "site title in header: {header}"
            );
            assert!(
                header.contains(ADMIN_NAME),
                "logged-in admin's name in header: {header}"
            );

            // 3. Log out from the header, then log in again.
            find(driver, "form[action='/logout'] button[type=submit]")
                .await?
                .click()
                .await?;
            wait_for_path(driver, "/", |p| p == "/").await?;
            find(driver, "header a[href='/login']")
                .await?
                .click()
                .await?;
            wait_for_path(driver, "/login", |p| p == "/login").await?;
            assert!(
                driver
                    .find_all(By::Css("form[action='/logout']"))
                    .await?
                    .is_empty(),
                "logged out"
            );
            fill(driver, "name", "admin").await?;
            fill(driver, "password", PASSWORD).await?;
            shot(driver, "03-login.png").await?;
            find(driver, "form[action='/login'] button[type=submit]")
                .await?
                .click()
                .await?;
            wait_for_path(driver, "away from /login", |p| p != "/login").await?;
            find(driver, "form[action='/logout']").await?;

            // 4. Write a post in the public space (the header's 記事を書く link), preview it,
            //    publish it.
            find(driver, "header a[href='/admin/posts/new']")
                .await?
                .click()
                .await?;
            wait_for_path(driver, "the public space's editor", |p| {
                p == "/rooms/public/posts/new"
            })
            .await?;
            fill(driver, "title", POST_TITLE).await?;
            fill(driver, "body", POST_BODY).await?;
            fill(driver, "tags", "お知らせ, 防災").await?;
            find(driver, "button[name=action][value=preview]")
                .await?
                .click()
                .await?;
            let strong = find(driver, "section.preview .post-body strong").await?;
            assert_eq!(strong.text().await?, "全員参加");
            let preview = find(driver, "section.preview .post-body").await?;
            assert_eq!(
                preview.find(By::Css("h2")).await?.text().await?,
                "訓練の概要"
            );
            assert_eq!(preview.find_all(By::Css("li")).await?.len(), 3);
            // The preview keeps what was typed.
            assert_eq!(
                find(driver, "#title").await?.value().await?.as_deref(),
                Some(POST_TITLE)
            );
            assert_eq!(
                find(driver, "#tags").await?.value().await?.as_deref(),
                Some("お知らせ, 防災")
            );
            shot(driver, "04-preview.png").await?;
            find(driver, "button[name=action][value=submit]")
                .await?
                .click()
                .await?;
            wait_for_path(driver, "the post's room page", |p| {
                p.starts_with("/rooms/public/posts/")
            })
            .await?;
            find(driver, ".flash").await?;

            // 5. The post is on the front page, and its page renders the Markdown.
            driver.goto(app.url("/")).await?;
            let link = driver
                .query(By::Css("article.post-summary h2 a"))
                .with_text(POST_TITLE)
                .wait(TIMEOUT, POLL)
                .first()
                .await?;
            let summary = find(driver, "article.post-summary").await?.text().await?;
            assert!(
                summary.contains(ADMIN_NAME),
                "author on the summary: {summary}"
            );
            assert!(summary.contains("#防災"), "tag on the summary: {summary}");
            shot(driver, "05-front-page.png").await?;
            link.click().await?;
            let post_url =
                wait_for_path(driver, "the post page", |p| p.starts_with("/posts/")).await?;
            assert_eq!(
                find(driver, "article.post h1").await?.text().await?,
                POST_TITLE
            );
            assert_eq!(
                find(driver, "article.post .post-body h2")
                    .await?
                    .text()
                    .await?,
                "訓練の概要"
            );
            assert_eq!(
                find(driver, "article.post .post-body strong")
                    .await?
                    .text()
                    .await?,
                "全員参加"
            );
            assert_eq!(
                driver
                    .find_all(By::Css("article.post .post-body li"))
                    .await?
                    .len(),
                3
            );
            assert_eq!(
                driver
                    .find_all(By::Css("article.post ul.tags li"))
                    .await?
                    .len(),
                2
            );
            assert!(driver.title().await?.contains(POST_TITLE));
            shot(driver, "06-post.png").await?;
            // Its author manages it from the public space, where the blog lives like a room's posts.
            find(
                driver,
                "article.post p.meta a[href^='/rooms/public/posts/']",
            )
            .await?
            .click()
            .await?;
            wait_for_path(driver, "the post in the public space", |p| {
                p.starts_with("/rooms/public/posts/")
            })
            .await?;
            find(driver, "article.post a[href^='/posts/']").await?;
            driver.goto(app.url("/rooms/public")).await?;
            driver
                .query(By::Css("main a"))
                .with_text(POST_TITLE)
                .wait(TIMEOUT, POLL)
                .first()
                .await?;
            shot(driver, "08-public-space.png").await?;

            // 6. The Atom feed has the post with an absolute link to that same page.
            let res = reqwest::get(app.url("/feed.atom")).await.unwrap();
            assert_eq!(res.status(), 200);
            let content_type = res.headers()["content-type"].to_str().unwrap().to_owned();
            assert!(
                content_type.starts_with("application/atom+xml"),
                "{content_type}"
            );
            let feed = res.text().await.unwrap();
            assert!(feed.contains(POST_TITLE), "title in feed: {feed}");
            assert!(feed.contains(SITE_TITLE), "site title in feed: {feed}");
            let href =
                first_entry_link(&feed).unwrap_or_else(|| panic!("no entry link in feed: {feed}"));
            assert!(
                href.starts_with(&format!("{}/posts/", app.base)),
                "absolute entry link: {href}"
            );
            assert_eq!(
                url::Url::parse(&href).unwrap(),
                post_url,
                "feed link is the post page"
            );

            // 7. Phone-sized: the front page fits the screen without sideways scrolling.
            driver.set_window_rect(0, 0, 390, 844).await?;
            driver.goto(app.url("/")).await?;
            find(driver, "article.post-summary").await?;
            let widths = driver
                .execute(
                    "return [document.documentElement.scrollWidth, window.innerWidth];",
                    Vec::<serde_json::Value>::new(),
                )
                .await?;
            let (scroll, inner): (u32, u32) = widths.convert()?;
            shot(driver, "07-phone-front.png").await?;
            assert!(inner <= 400, "window resized to phone width, got {inner}px");
            assert!(
                scroll <= inner,
                "front page scrolls sideways on a phone: {scroll}px content in {inner}px"
            );
            // Every menu link is on screen (they wrap rather than scroll out of sight), and the
            // header stays compact: title and search, then an admin's nine links in three rows.
            assert_menu_on_screen(driver, "the front page on a phone").await?;
            let rows = driver
                .execute(
                    "const h = document.querySelector('header.site-header'); \
                     const tops = [...h.querySelectorAll('.site-nav > *')].map(e => e.offsetTop); \
                     return [Math.round(h.getBoundingClientRect().height), new Set(tops).size];",
                    Vec::<serde_json::Value>::new(),
                )
                .await?;
            let (height, link_rows): (u32, usize) = rows.convert()?;
            assert!(link_rows <= 3, "the header's links take {link_rows} rows");
            assert!(
                height <= 180,
                "the header is at most four rows on a phone, got {height}px"
            );
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

/// A members-only room "council" with approval on, managed by `manager`, where `chief` is chief
/// editor and `member` a member: arranged over HTTP, as in `room_posts.rs`.
async fn council(app: &TestApp) {
    let admin = app.admin_client().await;
    for login in ["manager", "chief", "member"] {
        app.user(login).create();
    }
    app.room("council")
        .with_approval()
        .managed_by("manager")
        .member("chief", "chief_editor")
        .member("member", "member")
        .create(&admin)
        .await;
}

/// The id in `/rooms/council/posts/{id}`.
fn council_post_id(path: &str) -> Option<i64> {
    path.strip_prefix("/rooms/council/posts/")?.parse().ok()
}

/// Writes a post in "council" through the room page's link and submits it for approval; returns
/// the post's id.
async fn submit_council_post(
    driver: &WebDriver,
    app: &TestApp,
    title: &str,
    body: &str,
) -> WebDriverResult<i64> {
    driver.goto(app.url("/rooms/council")).await?;
    click_away(driver, "a[href='/rooms/council/posts/new']").await?;
    wait_for_path(driver, "the new post form", |p| {
        p == "/rooms/council/posts/new"
    })
    .await?;
    fill(driver, "title", title).await?;
    fill(driver, "body", body).await?;
    click_away(driver, "button[name=action][value=submit]").await?;
    let url = wait_for_path(driver, "the new post's page", |p| {
        council_post_id(p).is_some()
    })
    .await?;
    Ok(council_post_id(url.path()).unwrap())
}

#[actix_web::test]
async fn member_post_is_approved_from_the_inbox_and_a_sent_back_post_shows_its_note() {
    const TITLE: &str = "防災訓練の報告";
    const BODY: &str =
        "9月1日の訓練には**42名**が参加しました。\n\n消火器の使い方を確認しました。\n";
    const SECOND: &str = "二つ目";
    const NOTE: &str = "日付を確認してください";
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    council(&app).await;
    let app = &app;
    // Quits the browser even when a step fails or panics (the panic resumes afterwards).
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;

            // 1. A member writes a post; with approval on it waits, and the author sees so.
            log_in(driver, app, "member").await?;
            let first = submit_council_post(driver, app, TITLE, BODY).await?;
            find(driver, ".flash").await?;
            let badge = text_of(driver, "section.revision .badge.state-pending").await?;
            assert_eq!(badge, "承認待ち");
            assert_eq!(text_of(driver, "section.revision h2").await?, TITLE);
            assert_eq!(
                text_of(driver, "section.revision .post-body strong").await?,
                "42名"
            );
            assert_eq!(
                count(driver, ".decision").await?,
                0,
                "a member cannot decide on their own post"
            );
            shot(driver, "11-member-pending.png").await?;
            log_out(driver).await?;

            // 2. The chief editor finds it in the inbox and approves it there.
            log_in(driver, app, "chief").await?;
            driver.goto(app.url("/inbox")).await?;
            let item = driver
                .query(By::Css("article.inbox-item h2 a"))
                .with_text(TITLE)
                .wait(TIMEOUT, POLL)
                .first()
                .await?;
            assert_eq!(
                item.attr("href").await?,
                Some(format!("/rooms/council/posts/{first}"))
            );
            assert_eq!(count(driver, "article.inbox-item").await?, 1);
            shot(driver, "12-inbox.png").await?;
            click_away(
                driver,
                "article.inbox-item form[action$='/approve'] button[type=submit]",
            )
            .await?;
            wait_for_path(driver, "/inbox", |p| p == "/inbox").await?;
            find(driver, ".flash").await?;
            find(driver, "main p.empty").await?;
            assert_eq!(
                count(driver, "article.inbox-item").await?,
                0,
                "nothing left to decide"
            );
            log_out(driver).await?;

            // 3. The member finds it published on the room page.
            log_in(driver, app, "member").await?;
            driver.goto(app.url("/rooms/council")).await?;
            let link = driver
                .query(By::Css("article.post-summary h3 a"))
                .with_text(TITLE)
                .wait(TIMEOUT, POLL)
                .first()
                .await?;
            link.click().await?;
            link.wait_until().wait(TIMEOUT, POLL).stale().await?;
            wait_for_path(driver, "the published post", |p| {
                council_post_id(p) == Some(first)
            })
            .await?;
            assert_eq!(text_of(driver, "article.post h1").await?, TITLE);
            assert_eq!(
                text_of(driver, "article.post .post-body strong").await?,
                "42名"
            );
            assert_eq!(
                count(driver, ".state-pending").await?,
                0,
                "no pending badge once approved"
            );
            assert_eq!(count(driver, "section.revision").await?, 0);
            shot(driver, "13-published.png").await?;

            // 4. A second post is sent back by the chief editor with a note.
            let second = submit_council_post(driver, app, SECOND, "内容は後で書きます。").await?;
            find(driver, ".badge.state-pending").await?;
            log_out(driver).await?;
            log_in(driver, app, "chief").await?;
            driver.goto(app.url("/inbox")).await?;
            let item = driver
                .query(By::Css("article.inbox-item h2 a"))
                .with_text(SECOND)
                .wait(TIMEOUT, POLL)
                .first()
                .await?;
            item.click().await?;
            item.wait_until().wait(TIMEOUT, POLL).stale().await?;
            wait_for_path(driver, "the pending post", |p| {
                council_post_id(p) == Some(second)
            })
            .await?;
            let note = find(driver, "form.send-back textarea[name=note]").await?;
            note.send_keys(NOTE).await?;
            click_away(driver, "form.send-back button[type=submit]").await?;
            wait_for_path(driver, "the sent-back post", |p| {
                council_post_id(p) == Some(second)
            })
            .await?;
            find(driver, ".flash").await?;
            find(driver, "section.revision .badge.state-sent_back").await?;
            log_out(driver).await?;

            // 5. On a phone, the author sees the note on the post and on its edit form.
            driver.set_window_rect(0, 0, 430, 932).await?;
            log_in(driver, app, "member").await?;
            driver
                .goto(app.url(&format!("/rooms/council/posts/{second}")))
                .await?;
            assert_eq!(
                text_of(driver, "section.revision .badge.state-sent_back").await?,
                "差し戻し"
            );
            assert_eq!(
                text_of(driver, "section.revision .notice.error .request-message").await?,
                NOTE
            );
            assert_eq!(text_of(driver, "section.revision h2").await?, SECOND);
            assert_eq!(count(driver, ".state-pending").await?, 0);
            assert_fits_width(driver, "the sent-back post on a phone").await?;
            shot(driver, "14-sent-back.png").await?;
            driver
                .goto(app.url(&format!("/rooms/council/posts/{second}/edit")))
                .await?;
            assert_eq!(
                text_of(driver, ".notice.error .request-message").await?,
                NOTE
            );
            assert_eq!(
                find(driver, "#title").await?.value().await?.as_deref(),
                Some(SECOND),
                "the edit starts from the sent-back version"
            );
            assert_fits_width(driver, "the edit form on a phone").await?;
            shot(driver, "15-sent-back-edit.png").await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

/// A closed room "cab" with files on, managed by `manager`, where `member` is a 一般 member.
async fn cabinet_room(app: &TestApp) {
    let admin = app.admin_client().await;
    for login in ["manager", "member"] {
        app.user(login).create();
    }
    app.room("cab")
        .named("資料室")
        .closed()
        .features(&["files"])
        .managed_by("manager")
        .member("member", "member")
        .create(&admin)
        .await;
}

/// Waits until `dir` holds a finished download named `name` and returns its bytes.
async fn downloaded(dir: &Path, name: &str) -> Vec<u8> {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let path = dir.join(name);
        if path.exists() && !dir.join(format!("{name}.crdownload")).exists() {
            return std::fs::read(path).unwrap();
        }
        assert!(
            Instant::now() < deadline,
            "{name} was not downloaded to {}",
            dir.display()
        );
        tokio::time::sleep(POLL).await;
    }
}

#[actix_web::test]
async fn member_uploads_with_progress_downloads_and_plays_music() {
    const DOC: &str = "議事録 11月.txt";
    const SONG: &str = "01 朝の歌.wav";
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, profile, driver) = launch().await;
    let downloads = profile.path().join("downloads");
    let app = TestApp::spawn();
    cabinet_room(&app).await;
    // Files as a person would pick them: a 6 MB document (several chunks) and a tagged song.
    let picked = tempfile::tempdir().unwrap();
    let doc: Vec<u8> = "第1回 定例会 議事録。出席 12 名。\n"
        .repeat(150_000)
        .into_bytes();
    std::fs::write(picked.path().join(DOC), &doc).unwrap();
    let wav = yui::sample_audio::tone_wav(
        440.0,
        4,
        yui::sample_audio::ToneTags {
            title: "朝の歌",
            artist: "結 合唱団",
            album: "デモ曲集",
            track: 1,
        },
    );
    std::fs::write(picked.path().join(SONG), &wav).unwrap();
    let app = &app;
    let (doc, downloads, picked_dir) = (&doc, &downloads, picked.path());
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;

            // 1. From the room page to its cabinet; upload both files with the JS uploader.
            log_in(driver, app, "member").await?;
            driver.goto(app.url("/rooms/cab")).await?;
            click_away(driver, "a[href='/rooms/cab/files']").await?;
            wait_for_path(driver, "the cabinet", |p| p == "/rooms/cab/files").await?;
            let input = find(driver, "#upload-form input[type=file]").await?;
            let paths = format!(
                "{}\n{}",
                picked_dir.join(DOC).display(),
                picked_dir.join(SONG).display()
            );
            input.send_keys(paths).await?;
            find(driver, "#upload-form button[type=submit]").await?.click().await?;
            // Each file gets a row with a progress bar that fills and says it is done.
            driver
                .query(By::Css("#upload-progress li.done"))
                .wait(TIMEOUT, POLL)
                .all_from_selector_required()
                .await?;
            let deadline = Instant::now() + TIMEOUT;
            while count(driver, "#upload-progress li.done").await? < 2 {
                assert!(Instant::now() < deadline, "both uploads finish");
                tokio::time::sleep(POLL).await;
            }
            assert_eq!(count(driver, "#upload-progress progress").await?, 2);
            let full: bool = driver
                .execute(
                    "return [...document.querySelectorAll('#upload-progress progress')].every(p => p.value === p.max);",
                    Vec::<serde_json::Value>::new(),
                )
                .await?
                .convert()?;
            assert!(full, "every bar is full");
            shot(driver, "21-upload-progress.png").await?;
            // The page reloads and lists both, with the uploader.
            driver
                .query(By::Css("table.files td a"))
                .with_text(DOC)
                .wait(TIMEOUT, POLL)
                .first()
                .await?;
            assert!(text_of(driver, "table.files").await?.contains("member さん"));

            // 2. The player: tags shown, press a track and it plays.
            assert_eq!(text_of(driver, "#now-playing").await?, "朝の歌 — 結 合唱団");
            find(driver, "#playlist a[data-track='0']").await?.click().await?;
            let deadline = Instant::now() + TIMEOUT;
            loop {
                let (paused, time): (bool, f64) = driver
                    .execute(
                        "const a = document.getElementById('audio'); return [a.paused, a.currentTime];",
                        Vec::<serde_json::Value>::new(),
                    )
                    .await?
                    .convert()?;
                if !paused && time > 0.2 {
                    break;
                }
                assert!(Instant::now() < deadline, "the track did not start (paused {paused}, at {time}s)");
                tokio::time::sleep(POLL).await;
            }
            shot(driver, "22-player.png").await?;

            // 3. Download the document: the same bytes arrive under its Japanese name.
            let row = driver
                .query(By::XPath(format!("//tr[td/a[contains(., '{DOC}')]]//a[@download]")))
                .wait(TIMEOUT, POLL)
                .first()
                .await?;
            row.click().await?;
            assert_eq!(downloaded(downloads, DOC).await.as_slice(), doc.as_slice());

            // 4. On a phone the cabinet fits the screen.
            driver.set_window_rect(0, 0, 430, 932).await?;
            driver.goto(app.url("/rooms/cab/files")).await?;
            find(driver, "#player").await?;
            assert_fits_width(driver, "the cabinet on a phone").await?;
            shot(driver, "23-cabinet-phone.png").await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

#[actix_web::test]
async fn a_member_answers_a_drill_from_the_mail_link_on_a_phone_and_the_dashboard_shows_it() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    app.create_user("admin", true);
    for login in ["hanako", "taro"] {
        app.create_user(login, false);
    }
    let app = &app;
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            // 1. The admin starts a drill from the form.
            log_in(driver, app, "admin").await?;
            driver.goto(app.url("/safety")).await?;
            click_away(driver, "a[href='/safety/new']").await?;
            select(driver, "scope", "all").await?;
            find(driver, "input[name=drill]").await?.click().await?;
            fill(driver, "title", "震度5強 安否確認（訓練）").await?;
            fill(
                driver,
                "message",
                "身の安全を確保してから回答してください。",
            )
            .await?;
            shot(driver, "31-safety-new.png").await?;
            click_away(driver, "form[action='/safety'] button[type=submit]").await?;
            let url = wait_for_path(driver, "the dashboard", |p| {
                p.strip_prefix("/safety/")
                    .is_some_and(|id| id.parse::<i64>().is_ok())
            })
            .await?;
            let dashboard = url.path().to_owned();
            log_out(driver).await?;

            // 2. hanako's phone opens the link from her mail (no login) and taps 無事.
            let mail = app
                .smtp
                .wait_for_subject("hanako@example.test", "安否確認")
                .await;
            let start = mail.body.find("http://").unwrap();
            let link = mail.body[start..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
            driver.set_window_rect(0, 0, 390, 844).await?;
            driver.goto(&link).await?;
            assert!(text_of(driver, "p.drill").await?.contains("訓練"));
            assert_eq!(
                text_of(driver, "p.who").await?,
                "hanako さん さんとして回答"
            );
            assert_fits_width(driver, "the answer page on a phone").await?;
            shot(driver, "32-answer-link-phone.png").await?;
            click_away(driver, "button.big.c-safe").await?;
            let done = text_of(driver, "p.done").await?;
            assert!(done.contains("回答を受け付けました"), "{done}");
            assert!(
                find(driver, "button.big.c-safe")
                    .await?
                    .class_name()
                    .await?
                    .unwrap_or_default()
                    .contains("chosen"),
                "the chosen answer is shown"
            );
            shot(driver, "33-answer-recorded-phone.png").await?;

            // 3. The dashboard shows it: one safe, the others not yet.
            driver.set_window_rect(0, 0, 1280, 900).await?;
            log_in(driver, app, "admin").await?;
            driver.goto(app.url(&dashboard)).await?;
            find(driver, ".count.c-safe .n").await?;
            assert_eq!(live_text(driver, ".count.c-safe .n").await?, "1");
            assert_eq!(live_text(driver, ".count.c-none .n").await?, "2");
            let row = live_text(driver, "tr.row-safe").await?;
            assert!(row.contains("hanako さん"), "{row}");
            shot(driver, "34-safety-dashboard.png").await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

/// The column header above a checkbox of the permissions page, as the browser lays the table out.
async fn header_above(driver: &WebDriver, name: &str) -> WebDriverResult<String> {
    driver
        .execute(
            "const box = document.querySelector(`input[name='${arguments[0]}']`);\
             const cell = box.closest('td');\
             const column = Array.from(cell.parentElement.children).indexOf(cell);\
             return cell.closest('table').querySelector('thead tr').children[column].textContent.trim();",
            vec![serde_json::Value::String(name.to_owned())],
        )
        .await?
        .convert()
}

/// What a room manager and a member meet after issue #10: the permission matrix reads the right
/// way round, the quota is the site admin's (shown, not editable), and a new email address takes
/// effect only through the link mailed to it, after the current password.
#[actix_web::test]
async fn a_manager_sees_the_matrix_the_right_way_round_and_a_new_address_is_confirmed_by_mail() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.create_user("hanako", false);
    let res = app
        .post_form(
            &admin,
            "/admin/rooms/new",
            "/admin/rooms",
            &[
                ("name", "家族の部屋"),
                ("slug", "kazoku"),
                ("visibility", "closed"),
                ("state", "open"),
                ("default_role", "member"),
                ("join_policy", "invite"),
                ("quota_mb", "100"),
                ("feature_blog", "on"),
                ("feature_files", "on"),
                ("manager", "hanako"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let app = &app;
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            driver.set_window_rect(0, 0, 1280, 900).await?;
            log_in(driver, app, "hanako").await?;
            // 1. Every checkbox sits under the role it changes.
            driver.goto(app.url("/rooms/kazoku/permissions")).await?;
            for (name, role) in [
                ("cell:create:member", "一般"),
                ("cell:edit_others:editor", "編集者"),
                ("cell:publish:chief_editor", "編集長"),
                ("cell:publish:editor", "編集者"),
            ] {
                assert_eq!(header_above(driver, name).await?, role, "{name}");
            }
            shot(driver, "41-permissions-matrix.png").await?;
            // 2. The quota is shown to the manager, read-only.
            driver.goto(app.url("/rooms/kazoku/settings")).await?;
            let quota = find(driver, "#quota_mb").await?;
            assert_eq!(quota.attr("readonly").await?.as_deref(), Some("true"));
            assert!(
                text_of(driver, "#quota_hint")
                    .await?
                    .contains("サイト管理者")
            );
            shot(driver, "42-room-settings-quota.png").await?;
            // 3. A new email needs the current password, then the link mailed to it.
            driver.goto(app.url("/me")).await?;
            fill(driver, "email", "hanako@newhome.test").await?;
            click_away(driver, "form[action='/me'] button[type=submit]").await?;
            assert!(
                text_of(driver, "form[action='/me']")
                    .await?
                    .contains("いまのパスワードを入力してください")
            );
            fill(driver, "email", "hanako@newhome.test").await?;
            fill(driver, "profile_current_password", PASSWORD).await?;
            click_away(driver, "form[action='/me'] button[type=submit]").await?;
            wait_for_path(driver, "/me", |p| p == "/me").await?;
            shot(driver, "43-email-change-sent.png").await?;
            assert_eq!(
                find(driver, "#email").await?.value().await?.as_deref(),
                Some("hanako@example.test"),
                "nothing changes before the link is opened"
            );
            let mail = app.smtp.wait_for("hanako@newhome.test").await;
            let start = mail.body.find("http://").unwrap();
            let link = mail.body[start..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
            app.smtp
                .wait_for_subject("hanako@example.test", "メールアドレス")
                .await;
            driver.goto(&link).await?;
            shot(driver, "44-email-change-confirm.png").await?;
            click_away(
                driver,
                "form[action^='/email/confirm/'] button[type=submit]",
            )
            .await?;
            find(driver, "p.notice[role=status]").await?;
            shot(driver, "45-email-change-done.png").await?;
            driver.goto(app.url("/me")).await?;
            assert_eq!(
                find(driver, "#email").await?.value().await?.as_deref(),
                Some("hanako@newhome.test")
            );
            // 4. A forgotten password is reset from the link mailed to the new address (its page
            //    keeps the token from other sites, and its form is still accepted).
            log_out(driver).await?;
            driver.goto(app.url("/password/reset")).await?;
            fill(driver, "email", "hanako@newhome.test").await?;
            click_away(driver, "form[action='/password/reset'] button[type=submit]").await?;
            let mail = app
                .smtp
                .wait_for_subject("hanako@newhome.test", "パスワード")
                .await;
            let start = mail.body.find("http://").unwrap();
            let link = mail.body[start..]
                .split_whitespace()
                .next()
                .unwrap()
                .to_owned();
            driver.goto(&link).await?;
            let fresh = "a river stone under the old bridge";
            fill(driver, "password", fresh).await?;
            fill(driver, "password_confirm", fresh).await?;
            click_away(driver, "form.form button[type=submit]").await?;
            shot(driver, "46-password-reset-done.png").await?;
            wait_for_path(driver, "away from the reset link", |p| {
                !p.starts_with("/password/reset/")
            })
            .await?;
            driver.goto(app.url("/login")).await?;
            fill(driver, "name", "hanako").await?;
            fill(driver, "password", fresh).await?;
            click_away(driver, "form[action='/login'] button[type=submit]").await?;
            find(driver, "header.site-header a[href='/me']").await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("trust browser flow took {:?}", started.elapsed());
}

/// Every menu link is on screen, without sideways scrolling, on the pages a member opens.
async fn assert_menu_on_screen(driver: &WebDriver, what: &str) -> WebDriverResult<()> {
    let off: Vec<String> = driver
        .execute(
            "return [...document.querySelectorAll('header .site-nav a, header .site-nav button')] \
               .filter(e => { const r = e.getBoundingClientRect(); \
                 return r.width === 0 || r.left < 0 || r.right > window.innerWidth; }) \
               .map(e => e.textContent.trim());",
            Vec::<serde_json::Value>::new(),
        )
        .await?
        .convert()?;
    assert!(off.is_empty(), "{what}: menu items off screen: {off:?}");
    assert_fits_width(driver, what).await
}

#[actix_web::test]
async fn a_member_lands_on_a_home_that_works_on_a_phone_and_reaches_every_menu_item() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let hanako = app.user("hanako").signed_in().await;
    app.room("town")
        .named("3年2組 保護者会")
        .features(&["blog", "files"])
        .member("hanako", "editor")
        .create(&admin)
        .await;
    app.post_in("town", "12月の学級だより")
        .published(&admin)
        .await;
    app.post_in("town", "書きかけ：冬休みの予定")
        .draft(&hanako)
        .await;
    let res = app
        .post_form(
            &admin,
            "/rooms/town/notices/new",
            "/rooms/town/notices",
            &[
                ("title", "懇談会の出欠"),
                ("body", "12 日 15 時から。"),
                ("question_kind", "single"),
                ("question", "出席しますか"),
                ("choices", "出席\n欠席"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let res = app
        .post_form(
            &admin,
            "/safety/new",
            "/safety",
            &[
                ("scope", "all"),
                ("title", "避難訓練 安否確認"),
                ("drill", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let app = &app;
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            driver.set_window_rect(0, 0, 390, 844).await?;
            log_in(driver, app, "hanako").await?;
            wait_for_path(driver, "home after login", |p| p == "/home").await?;
            let page = text_of(driver, "main").await?;
            for what in [
                "避難訓練 安否確認",
                "懇談会の出欠",
                "書きかけ：冬休みの予定",
                "12月の学級だより",
                "3年2組 保護者会",
            ] {
                assert!(page.contains(what), "home shows {what}: {page}");
            }
            assert_menu_on_screen(driver, "/home on a phone").await?;
            shot(driver, "50-home-phone.png").await?;
            for path in [
                "/rooms",
                "/rooms/town",
                "/rooms/town/files",
                "/notices",
                "/safety",
                "/new",
                "/me",
            ] {
                driver.goto(app.url(path)).await?;
                find(driver, "main").await?;
                assert_menu_on_screen(driver, &format!("{path} on a phone")).await?;
            }
            shot(driver, "51-files-phone.png").await?;
            driver.set_window_rect(0, 0, 1280, 900).await?;
            driver.goto(app.url("/home")).await?;
            find(driver, "main h1").await?;
            shot(driver, "52-home-wide.png").await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

#[actix_web::test]
async fn an_upload_batch_with_one_file_over_the_quota_says_why_and_keeps_the_others() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.user("member").create();
    app.room("cab")
        .named("資料室")
        .features(&["files"])
        .quota_mb(1)
        .member("member", "member")
        .create(&admin)
        .await;
    let picked = tempfile::tempdir().unwrap();
    std::fs::write(
        picked.path().join("議事録.txt"),
        "12 月の議事録\n".repeat(50),
    )
    .unwrap();
    std::fs::write(picked.path().join("動画.bin"), vec![7u8; 2 * 1024 * 1024]).unwrap();
    let app = &app;
    let picked_dir = picked.path();
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            log_in(driver, app, "member").await?;
            driver.goto(app.url("/rooms/cab/files")).await?;
            let input = find(driver, "#upload-form input[type=file]").await?;
            input
                .send_keys(format!(
                    "{}\n{}",
                    picked_dir.join("議事録.txt").display(),
                    picked_dir.join("動画.bin").display()
                ))
                .await?;
            find(driver, "#upload-form button[type=submit]")
                .await?
                .click()
                .await?;
            let summary = find(driver, "#upload-progress li.upload-summary").await?;
            assert!(
                summary
                    .text()
                    .await?
                    .contains("保存できなかったファイルがあります")
            );
            let failed = text_of(driver, "#upload-progress li.failed").await?;
            assert!(failed.contains("動画.bin"), "{failed}");
            assert!(failed.contains("残り容量"), "says why: {failed}");
            assert!(!failed.contains("再開"), "no advice to resume: {failed}");
            let saved = find(driver, "#upload-progress li.done a").await?;
            assert_eq!(saved.text().await?, "議事録.txt");
            let href = saved.attr("href").await?.unwrap_or_default();
            assert!(href.starts_with("/rooms/cab/files/file/"), "{href}");
            shot(driver, "53-upload-partial.png").await?;
            // The folder, shown again, has the one that fitted.
            click_away(driver, "#upload-progress li.upload-summary a").await?;
            driver
                .query(By::Css("table.files td a"))
                .with_text("議事録.txt")
                .wait(TIMEOUT, POLL)
                .first()
                .await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

/// Texts of table headers, buttons and badges that the browser broke over more than one line.
async fn wrapped_words(driver: &WebDriver) -> WebDriverResult<Vec<String>> {
    driver
        .execute(
            "return [...document.querySelectorAll('main table th, main table button, main table .button, main table .badge')] \
               .filter(e => { const r = document.createRange(); r.selectNodeContents(e); \
                 return new Set([...r.getClientRects()].filter(x => x.width > 1).map(x => Math.round(x.top))).size > 1; }) \
               .map(e => e.textContent.trim());",
            Vec::<serde_json::Value>::new(),
        )
        .await?
        .convert()
}

#[actix_web::test]
async fn tables_use_the_width_and_never_break_a_word() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    for login in ["hanako", "taro", "jiro"] {
        app.user(login).create();
    }
    app.room("cab")
        .named("資料室")
        .features(&["files"])
        .member("hanako", "member")
        .member("taro", "editor")
        .member("jiro", "chief_editor")
        .create(&admin)
        .await;
    let res = app
        .upload_form(
            &admin,
            "cab",
            0,
            &[(
                "令和7年度 学年だより 12月号 最終版.pdf",
                b"%PDF-1.4".to_vec(),
            )],
        )
        .await;
    assert_eq!(res.status(), 303);
    let app = &app;
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            log_in(driver, app, "admin").await?;
            for (path, name) in [
                ("/rooms/cab/members", "54-members-wide.png"),
                ("/rooms/cab/files", "55-files-wide.png"),
                ("/admin/members", "56-admin-members-wide.png"),
                ("/rooms/cab/permissions", "57-permissions-wide.png"),
            ] {
                driver.goto(app.url(path)).await?;
                find(driver, "main table").await?;
                let wrapped = wrapped_words(driver).await?;
                assert!(wrapped.is_empty(), "{path}: broken over lines: {wrapped:?}");
                let width: u32 = driver
                    .execute(
                        "return Math.round(document.querySelector('main').getBoundingClientRect().width);",
                        Vec::<serde_json::Value>::new(),
                    )
                    .await?
                    .convert()?;
                assert!(width > 1000, "{path}: the table has {width}px of 1280");
                shot(driver, name).await?;
            }
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

/// The text of the first element matching `css`, read in one script step: the live dashboard
/// replaces its elements while a test looks, so a found element may be gone when its text is asked.
async fn live_text(driver: &WebDriver, css: &str) -> WebDriverResult<String> {
    driver
        .execute(
            "const e = document.querySelector(arguments[0]); return e ? e.textContent.trim() : '';",
            vec![serde_json::Value::String(css.to_owned())],
        )
        .await?
        .convert()
}

#[actix_web::test]
async fn the_safety_dashboard_updates_itself_while_it_is_open() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.user("hanako").create();
    app.user("taro").create();
    let res = app
        .post_form(
            &admin,
            "/safety/new",
            "/safety",
            &[
                ("scope", "all"),
                ("title", "地震 安否確認（訓練）"),
                ("drill", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303);
    let dashboard = location(&res);
    let mail = app
        .smtp
        .wait_for_subject("hanako@example.test", "安否確認")
        .await;
    let start = mail.body.find("http://").unwrap();
    let link = mail.body[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let app = &app;
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            log_in(driver, app, "admin").await?;
            driver.goto(app.url(&dashboard)).await?;
            find(driver, ".count.c-safe .n").await?;
            assert_eq!(live_text(driver, ".count.c-safe .n").await?, "0");
            // A mark the page would lose if it were reloaded.
            driver
                .execute(
                    "window.notReloaded = true;",
                    Vec::<serde_json::Value>::new(),
                )
                .await?;
            // Hanako answers from her phone while the officer watches.
            let phone = reqwest::Client::new();
            let page = phone.get(&link).send().await.unwrap().text().await.unwrap();
            let res = phone
                .post(&link)
                .form(&[("_csrf", csrf_from(&page).as_str()), ("condition", "safe")])
                .send()
                .await
                .unwrap();
            assert!(res.status().is_success() || res.status().is_redirection());
            let deadline = Instant::now() + Duration::from_secs(30);
            while live_text(driver, ".count.c-safe .n").await? != "1" {
                assert!(
                    Instant::now() < deadline,
                    "the dashboard showed the answer by itself"
                );
                tokio::time::sleep(POLL).await;
            }
            let kept: bool = driver
                .execute(
                    "return window.notReloaded === true;",
                    Vec::<serde_json::Value>::new(),
                )
                .await?
                .convert()?;
            assert!(kept, "updated in place, not reloaded");
            assert!(live_text(driver, "tr.row-safe").await?.contains("hanako"));
            shot(driver, "58-dashboard-live.png").await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

#[actix_web::test]
async fn a_weekly_event_made_in_the_form_shows_on_every_week_of_the_month_grid() {
    use chrono::Datelike;
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.user("manager").create();
    app.room("club")
        .named("写真部")
        .features(&["blog", "calendar"])
        .member("manager", "manager")
        .create(&admin)
        .await;
    // Next month's first Tuesday, in the site's zone.
    let tz: chrono_tz::Tz = "Asia/Tokyo".parse().unwrap();
    let today = chrono::Utc::now().with_timezone(&tz).date_naive();
    let next = if today.month() == 12 {
        chrono::NaiveDate::from_ymd_opt(today.year() + 1, 1, 1)
    } else {
        chrono::NaiveDate::from_ymd_opt(today.year(), today.month() + 1, 1)
    }
    .unwrap();
    let first_tuesday = (0..7)
        .map(|n| next + chrono::Duration::days(n))
        .find(|d| d.weekday() == chrono::Weekday::Tue)
        .unwrap();
    let (_, grid_end) = yui::services::calendar::grid_days(next);
    let tuesdays = (0..6)
        .map(|w| first_tuesday + chrono::Duration::weeks(w))
        .take_while(|d| *d <= grid_end)
        .count();
    let month = format!("/rooms/club/calendar?month={}", next.format("%Y-%m"));
    let app = &app;
    let (first, month) = (first_tuesday.to_string(), &month);
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            log_in(driver, app, "manager").await?;
            driver
                .goto(app.url("/rooms/club/calendar/events/new"))
                .await?;
            fill(driver, "title", "定例ミーティング").await?;
            fill(driver, "place", "部室").await?;
            driver
                .execute(
                    "document.getElementById('start_date').value = arguments[0]; \
                     document.getElementById('start_time').value = '16:00'; \
                     document.getElementById('end_time').value = '17:00';",
                    vec![serde_json::Value::String(first.clone())],
                )
                .await?;
            select(driver, "repeat", "weekly").await?;
            shot(driver, "59-event-form.png").await?;
            click_away(driver, "main form button[type=submit].primary").await?;
            wait_for_path(driver, "the event page", |p| {
                p.contains("/calendar/events/")
            })
            .await?;
            for (width, name) in [
                (1280, "60-month-grid-wide.png"),
                (390, "61-month-grid-phone.png"),
            ] {
                driver.set_window_rect(0, 0, width, 900).await?;
                driver.goto(app.url(month)).await?;
                find(driver, ".cal-grid").await?;
                let shown: usize = driver
                    .execute(
                        "return [...document.querySelectorAll('.cal-grid .cal-item a')] \
                           .filter(a => a.textContent.includes('定例ミーティング')).length;",
                        Vec::<serde_json::Value>::new(),
                    )
                    .await?
                    .convert()?;
                assert_eq!(shown, tuesdays, "one a week on the grid at {width}px");
                assert_fits_width(driver, &format!("the month grid at {width}px")).await?;
                shot(driver, name).await?;
            }
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

/// On a phone, a member opens a CSV file saved by Japanese Excel (`Shift_JIS`) from the cabinet and
/// reads it as a table, then changes the words of their own comment from the post page (no
/// JavaScript involved), and finds it marked as edited.
#[actix_web::test]
async fn a_member_reads_a_csv_in_the_page_and_changes_their_comment_on_a_phone() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let hanako = app.user("hanako").signed_in().await;
    app.room("town")
        .named("3年2組 保護者会")
        .features(&["blog", "files"])
        .member("hanako", "member")
        .create(&admin)
        .await;
    let rows = (1..=40)
        .map(|i| {
            format!("{i},保護者{i},3年2組,\"連絡事項: 欠席の場合は前日までにお知らせください\"\n")
        })
        .collect::<Vec<_>>()
        .concat();
    let text = format!("番号,氏名,学級,メモ\n{rows}");
    let (csv, _, _) = encoding_rs::SHIFT_JIS.encode(&text);
    app.file_in("town", "連絡網.csv")
        .bytes(csv.into_owned())
        .upload(&hanako)
        .await;
    let post = app
        .post_in("town", "12月の学級だより")
        .published(&admin)
        .await;
    let res = app
        .post_form(
            &hanako,
            &post.path,
            &format!("{}/comments", post.path),
            &[("comment", "参加しまう")],
        )
        .await;
    assert_eq!(res.status(), 303);
    let app = &app;
    let post_path = post.path.as_str();
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            driver.set_window_rect(0, 0, 390, 844).await?;
            log_in(driver, app, "hanako").await?;
            driver.goto(app.url("/rooms/town/files")).await?;
            driver
                .query(By::Css("table.files td a"))
                .with_text("連絡網.csv")
                .wait(TIMEOUT, POLL)
                .first()
                .await?
                .click()
                .await?;
            let head = text_of(driver, "table.file-table thead").await?;
            assert!(head.contains("氏名") && head.contains("メモ"), "{head}");
            assert_eq!(count(driver, "table.file-table tbody tr").await?, 40);
            assert!(text_of(driver, "p.meta").await?.contains("Shift_JIS"));
            assert_fits_width(driver, "the CSV preview").await?;
            shot(driver, "70-csv-preview-390.png").await?;
            // The comment: a typo, fixed from the post page.
            driver.goto(app.url(post_path)).await?;
            click_away(driver, "article.comment a[href*='/comments/']").await?;
            let area = find(driver, "textarea#comment").await?;
            assert_eq!(area.prop("value").await?.as_deref(), Some("参加しまう"));
            area.clear().await?;
            area.send_keys("参加します").await?;
            shot(driver, "71-comment-edit-390.png").await?;
            click_away(driver, "form.form button.primary").await?;
            assert_eq!(text_of(driver, ".flash").await?, "コメントを変更しました。");
            let comment = text_of(driver, "article.comment").await?;
            assert!(
                comment.contains("参加します") && comment.contains("編集済み"),
                "{comment}"
            );
            assert_fits_width(driver, "the post page").await?;
            shot(driver, "72-comment-edited-390.png").await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

/// Whether every `<img>` in the post body has loaded real pixels, and how many there are.
async fn loaded_images(driver: &WebDriver) -> WebDriverResult<(usize, usize)> {
    driver
        .execute(
            "var imgs = Array.from(document.querySelectorAll('.post-body img'));\
             return [imgs.length, imgs.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length];",
            Vec::<serde_json::Value>::new(),
        )
        .await?
        .convert()
}

/// Images in a post on a phone: one uploaded from the editor (the script inserts its Markdown at
/// the cursor), one picked from the cabinet with the picker (the server inserts it, keeping what
/// was typed); the published post shows both, scaled to the screen.
#[actix_web::test]
async fn a_member_puts_two_photos_into_a_post_on_a_phone() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let hanako = app.user("hanako").signed_in().await;
    app.room("town")
        .named("3年2組 保護者会")
        .features(&["blog", "files"])
        .member("hanako", "member")
        .create(&admin)
        .await;
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/images");
    let flowers = std::fs::read(fixtures.join("花壇.png")).unwrap();
    let picked = app
        .file_in("town", "花壇.png")
        .bytes(flowers)
        .upload(&hanako)
        .await;
    let photo = fixtures.join("運動会.png");
    let app = &app;
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            driver.set_window_rect(0, 0, 390, 844).await?;
            log_in(driver, app, "hanako").await?;
            driver.goto(app.url("/rooms/town/posts/new")).await?;
            fill(driver, "title", "運動会のようす").await?;
            fill(driver, "body", "晴れました。").await?;
            // The upload field appears only with the script; choosing a file uploads and inserts it.
            find(driver, "#image_file")
                .await?
                .send_keys(photo.to_string_lossy())
                .await?;
            let area = find(driver, "textarea#body").await?;
            let deadline = Instant::now() + TIMEOUT;
            let body = loop {
                let value = area.prop("value").await?.unwrap_or_default();
                if value.contains("![運動会](") {
                    break value;
                }
                assert!(Instant::now() < deadline, "not inserted: {value}");
                tokio::time::sleep(POLL).await;
            };
            assert!(
                body.starts_with("晴れました。\n\n![運動会](/rooms/town/files/file/"),
                "{body}"
            );
            assert!(
                text_of(driver, ".image-status")
                    .await?
                    .contains("運動会.png")
            );
            shot(driver, "73-editor-image-uploaded-390.png").await?;
            // The picker: the server adds the chosen image and keeps the rest.
            select(driver, "image", &picked.id.to_string()).await?;
            click_away(driver, "button[value=insert_image]").await?;
            let body = find(driver, "textarea#body")
                .await?
                .prop("value")
                .await?
                .unwrap_or_default();
            assert!(
                body.contains("![運動会](")
                    && body.trim_end().ends_with(".png)")
                    && body.contains("![花壇]("),
                "{body}"
            );
            assert_eq!(
                find(driver, "#title")
                    .await?
                    .prop("value")
                    .await?
                    .as_deref(),
                Some("運動会のようす")
            );
            click_away(driver, "form.editor button.primary").await?;
            find(driver, ".post-body img").await?;
            let deadline = Instant::now() + TIMEOUT;
            loop {
                let (all, loaded) = loaded_images(driver).await?;
                if all == 2 && loaded == 2 {
                    break;
                }
                assert!(Instant::now() < deadline, "{loaded} of {all} images loaded");
                tokio::time::sleep(POLL).await;
            }
            assert_fits_width(driver, "a post with two photos").await?;
            shot(driver, "74-post-with-photos-390.png").await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

/// Sets the value of the input `#id` as a date or time picker would (their typed formats follow
/// the browser's locale; the value they submit does not).
async fn set_value(driver: &WebDriver, id: &str, value: &str) -> WebDriverResult<()> {
    find(driver, &format!("#{id}")).await?;
    driver
        .execute(
            "document.getElementById(arguments[0]).value = arguments[1];",
            vec![serde_json::json!(id), serde_json::json!(value)],
        )
        .await?;
    Ok(())
}

/// 施設予約 on a phone: from the calendar to the facility's week, a booking made in the form shows
/// in the week and in the room's month grid; a second booking overlapping it is refused with the
/// first one named, and nothing is booked twice. The week at 1280 px too.
#[actix_web::test]
async fn a_member_books_a_meeting_room_on_a_phone_and_a_clash_is_refused() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    app.user("hanako").create();
    app.room("town")
        .named("3年2組 保護者会")
        .features(&["blog", "calendar"])
        .member("hanako", "member")
        .create(&admin)
        .await;
    let res = app
        .post_form(
            &admin,
            "/admin/facilities/new",
            "/admin/facilities",
            &[
                ("name", "会議室A"),
                ("category", "会議室"),
                ("opens", "08:00"),
                ("closes", "18:00"),
                ("day_mo", "on"),
                ("day_tu", "on"),
                ("day_we", "on"),
                ("day_th", "on"),
                ("day_fr", "on"),
                ("all_rooms", "on"),
            ],
        )
        .await;
    assert_eq!(res.status(), 303, "{}", res.text().await.unwrap());
    let app = &app;
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            driver.set_window_rect(0, 0, 390, 844).await?;
            log_in(driver, app, "hanako").await?;
            driver.goto(app.url("/calendar")).await?;
            click_away(driver, "a[href='/facilities']").await?;
            driver.goto(app.url("/facilities?date=2027-01-12")).await?;
            assert_fits_width(driver, "the facilities' day").await?;
            click_away(driver, "main a[href^='/facilities/']").await?;
            let book = async |title: &str, from: &str, to: &str| {
                fill(driver, "title", title).await?;
                set_value(driver, "start_date", "2027-01-12").await?;
                set_value(driver, "start_time", from).await?;
                set_value(driver, "end_time", to).await?;
                click_away(driver, "#book button.primary").await
            };
            book("学年会議", "10:00", "11:00").await?;
            assert_eq!(text_of(driver, ".flash").await?, "施設を予約しました。");
            let day = text_of(driver, "li.cal-wday[data-date='2027-01-12']").await?;
            assert!(day.contains("10:00") && day.contains("学年会議"), "{day}");
            assert_fits_width(driver, "the facility's week").await?;
            shot(driver, "75-facility-booked-390.png").await?;
            // Ten-thirty clashes with the meeting: refused, the meeting named.
            book("保護者面談", "10:30", "11:30").await?;
            let taken = text_of(driver, "#taken").await?;
            assert!(
                taken.contains("学年会議") && taken.contains("10:00"),
                "{taken}"
            );
            assert_eq!(
                find(driver, "#title")
                    .await?
                    .prop("value")
                    .await?
                    .as_deref(),
                Some("保護者面談"),
                "what was typed stays"
            );
            shot(driver, "76-facility-clash-390.png").await?;
            // The booking is an event of the room's calendar.
            driver
                .goto(app.url("/rooms/town/calendar?month=2027-01"))
                .await?;
            let cell = text_of(driver, "td[data-date='2027-01-12']").await?;
            assert!(
                cell.contains("学年会議") && !cell.contains("保護者面談"),
                "{cell}"
            );
            driver.set_window_rect(0, 0, 1280, 900).await?;
            driver.goto(app.url("/facilities?date=2027-01-12")).await?;
            shot(driver, "77-facilities-day-1280.png").await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

/// 承認 for calendar events: an editor adds an event in a room with approval, sees it marked as
/// waiting, a member of the room does not see it; the chief editor approves it from `/inbox`, and
/// the member finds it in the month grid (screenshots 78-80).
#[actix_web::test]
async fn an_editor_s_event_waits_and_the_chief_editor_approves_it_from_the_inbox() {
    const TITLE: &str = "保護者会";
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    for login in ["manager", "chief", "editor", "member"] {
        app.user(login).create();
    }
    app.room("council")
        .named("PTA役員会")
        .features(&["blog", "calendar"])
        .with_approval()
        .managed_by("manager")
        .member("chief", "chief_editor")
        .member("editor", "editor")
        .member("member", "member")
        .create(&admin)
        .await;
    let tz: chrono_tz::Tz = "Asia/Tokyo".parse().unwrap();
    let day = (chrono::Utc::now().with_timezone(&tz).date_naive() + chrono::Duration::days(2))
        .to_string();
    let month = format!("/rooms/council/calendar?month={}", &day[..7]);
    let (app, day, month) = (&app, &day, &month);
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            driver.set_window_rect(0, 0, 1280, 900).await?;

            // 1. The editor adds an event: it waits, and its page says so.
            log_in(driver, app, "editor").await?;
            driver
                .goto(app.url("/rooms/council/calendar/events/new"))
                .await?;
            fill(driver, "title", TITLE).await?;
            fill(driver, "place", "多目的室").await?;
            set_value(driver, "start_date", day).await?;
            set_value(driver, "start_time", "19:00").await?;
            set_value(driver, "end_time", "20:30").await?;
            click_away(driver, "main form button[type=submit].primary").await?;
            let url = wait_for_path(driver, "the event page", |p| {
                p.starts_with("/rooms/council/calendar/events/")
            })
            .await?;
            let page = url.path().to_owned();
            find(driver, ".flash").await?;
            assert_eq!(
                text_of(driver, "article.event h1 .badge").await?,
                "承認待ち"
            );
            assert_eq!(
                count(driver, ".decision").await?,
                0,
                "the author cannot approve"
            );
            shot(driver, "78-event-waiting.png").await?;
            log_out(driver).await?;

            // 2. A member of the room does not see it.
            log_in(driver, app, "member").await?;
            driver.goto(app.url(month)).await?;
            find(driver, ".cal-grid").await?;
            assert_eq!(
                count(driver, &format!(".cal-grid a[href='{page}']")).await?,
                0
            );
            log_out(driver).await?;

            // 3. The chief editor approves it from the inbox.
            log_in(driver, app, "chief").await?;
            driver.goto(app.url("/inbox")).await?;
            let item = driver
                .query(By::Css("article.inbox-item h3 a"))
                .with_text(TITLE)
                .wait(TIMEOUT, POLL)
                .first()
                .await?;
            assert_eq!(item.attr("href").await?, Some(page.clone()));
            shot(driver, "79-inbox-event.png").await?;
            click_away(
                driver,
                "article.inbox-item form[action$='/approve'] button[type=submit]",
            )
            .await?;
            wait_for_path(driver, "/inbox", |p| p == "/inbox").await?;
            find(driver, ".flash").await?;
            find(driver, "main p.empty").await?;
            log_out(driver).await?;

            // 4. The member finds it in the month grid.
            log_in(driver, app, "member").await?;
            driver.goto(app.url(month)).await?;
            find(driver, ".cal-grid").await?;
            assert_eq!(
                count(driver, &format!(".cal-grid a[href='{page}']")).await?,
                1
            );
            assert_eq!(count(driver, ".cal-grid .badge.waiting").await?, 0);
            shot(driver, "80-event-approved-grid.png").await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}

/// Whether the `<img>` matching `css` has loaded real pixels.
async fn image_loaded(driver: &WebDriver, css: &str) -> WebDriverResult<bool> {
    driver
        .execute(
            "var i = document.querySelector(arguments[0]); return !!(i && i.complete && i.naturalWidth > 0);",
            vec![serde_json::json!(css)],
        )
        .await?
        .convert()
}

/// Waits until the `<img>` matching `css` has loaded.
async fn wait_for_image(driver: &WebDriver, css: &str) -> WebDriverResult<()> {
    let deadline = Instant::now() + TIMEOUT;
    while !image_loaded(driver, css).await? {
        assert!(Instant::now() < deadline, "{css} did not load");
        tokio::time::sleep(POLL).await;
    }
    Ok(())
}

/// Profile pictures (issue #15): on a phone, a member chooses a photo on `/me` with the plain
/// form; it shows there and in the header; at 1280 px the member directory and her profile show
/// it, and a member without one has the placeholder with their initial.
#[actix_web::test]
async fn a_member_uploads_a_profile_picture_on_a_phone_and_it_shows_in_the_directory() {
    if !browser_available() {
        return;
    }
    let started = Instant::now();
    let (_chromedriver, _profile, driver) = launch().await;
    let app = TestApp::spawn();
    let admin = app.admin_client().await;
    let hanako = app.user("hanako").create();
    app.user("taro").create();
    app.room("town")
        .named("3年2組 保護者会")
        .member("hanako", "member")
        .member("taro", "member")
        .create(&admin)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("IMG_0001.jpg");
    std::fs::write(&photo, crate::support::jpeg_with_gps(900, 600, 1)).unwrap();
    let app = &app;
    driver
        .run_and_quit(|driver| async move {
            let driver = &driver;
            driver.set_window_rect(0, 0, 390, 844).await?;
            log_in(driver, app, "hanako").await?;
            driver.goto(app.url("/me")).await?;
            assert_eq!(count(driver, "header .me-link .avatar-none").await?, 1);
            find(driver, "#picture-file")
                .await?
                .send_keys(photo.to_string_lossy())
                .await?;
            click_away(driver, "#picture button.primary").await?;
            wait_for_path(driver, "/me", |p| p == "/me").await?;
            assert!(
                text_of(driver, ".flash")
                    .await?
                    .contains("プロフィール写真")
            );
            wait_for_image(driver, "#picture img.avatar").await?;
            wait_for_image(driver, "header .me-link img.avatar").await?;
            assert_eq!(
                find(driver, "#picture img.avatar")
                    .await?
                    .attr("alt")
                    .await?
                    .as_deref(),
                Some("あなたのプロフィール写真")
            );
            assert_fits_width(driver, "/me with a picture").await?;
            shot(driver, "81-me-picture-390.png").await?;

            driver.set_window_rect(0, 0, 1280, 900).await?;
            driver.goto(app.url("/people")).await?;
            let hers = format!(".people-list a[href='/people/{}'] img.avatar", hanako.id);
            wait_for_image(driver, &hers).await?;
            assert_eq!(
                count(driver, ".people-list .avatar-none").await?,
                1,
                "taro's placeholder"
            );
            assert_fits_width(driver, "the directory").await?;
            shot(driver, "82-people-directory-1280.png").await?;
            driver
                .goto(app.url(&format!("/people/{}", hanako.id)))
                .await?;
            wait_for_image(driver, ".profile-head img.avatar").await?;
            shot(driver, "83-profile-picture-1280.png").await?;
            Ok::<_, WebDriverError>(())
        })
        .await
        .unwrap();
    eprintln!("browser test took {:.1?}", started.elapsed());
}
