//! `TestApp`: the real application on `127.0.0.1:0` over a temporary data directory, with a real
//! in-process SMTP server catching its mail. With `YUI_TEST_DATABASE_URL=postgres://…` every test gets
//! a fresh PostgreSQL database instead of SQLite. What tests arrange on it (accounts, rooms, posts,
//! files) comes from the builders in `builders.rs`.

#![allow(
    dead_code,
    reason = "each test module uses a different part of the harness"
)]

use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::Connection;
use diesel::connection::SimpleConnection;
use yui::config::{Config, MailTransport, SmtpTls};
use yui::services::Core;

mod builders;
mod pictures;
pub use builders::*;
pub use pictures::*;

/// One mail as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: Vec<String>,
    /// The From header's display name (empty when it has none).
    pub from_name: String,
    pub subject: String,
    pub body: String,
}

#[derive(Clone, Default)]
struct SinkHandler {
    mails: Arc<Mutex<Vec<Mail>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for SinkHandler {
    /// Refuses (550, a permanent error) every recipient whose address contains "bounce", so tests
    /// can make a mail bounce.
    fn rcpt(&mut self, to: &str) -> mailin_embedded::Response {
        if to.contains("bounce") {
            mailin_embedded::response::NO_MAILBOX
        } else {
            mailin_embedded::response::OK
        }
    }
    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> mailin_embedded::Response {
        let parsed = mail_parser::MessageParser::default().parse(&self.data);
        let (subject, body, from_name) = parsed.map_or_else(
            || {
                (
                    String::new(),
                    String::from_utf8_lossy(&self.data).into_owned(),
                    String::new(),
                )
            },
            |m| {
                (
                    m.subject().unwrap_or_default().to_owned(),
                    m.body_text(0)
                        .map(std::borrow::Cow::into_owned)
                        .unwrap_or_default(),
                    m.from()
                        .and_then(|f| f.first())
                        .and_then(|a| a.name())
                        .unwrap_or_default()
                        .to_owned(),
                )
            },
        );
        self.mails.lock().unwrap().push(Mail {
            to: self.to.clone(),
            from_name,
            subject,
            body,
        });
        mailin_embedded::response::OK
    }
}

/// A real SMTP server on `127.0.0.1:0` (mailin-embedded; it has no shutdown, so one per test). It
/// refuses recipients whose address contains "bounce".
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
}

impl SmtpSink {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let sink = Self {
            port: listener.local_addr().unwrap().port(),
            mails: Arc::default(),
        };
        sink.serve_on(listener);
        sink
    }

    /// A sink whose server is not running yet (the SMTP server is "down" until `serve`): its port
    /// is picked now, so the app can be configured with it.
    pub fn down() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self {
            port,
            mails: Arc::default(),
        }
    }

    /// Starts the server of a sink made with `down`.
    pub fn serve(&self) {
        self.serve_on(TcpListener::bind(("127.0.0.1", self.port)).unwrap());
    }

    fn serve_on(&self, listener: TcpListener) {
        let handler = SinkHandler {
            mails: self.mails.clone(),
            ..SinkHandler::default()
        };
        let mut server = mailin_embedded::Server::new(handler);
        server.with_name("sink.test").with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) for a mail to `to` whose subject contains `subject`.
    pub async fn wait_for_subject(&self, to: &str, subject: &str) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let found = self
                .mails()
                .into_iter()
                .find(|m| m.to.iter().any(|t| t == to) && m.subject.contains(subject));
            if let Some(m) = found {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "no mail to {to} about {subject:?}; got {:?}",
                self.mails()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits (up to 10 s) for a mail to `to` and returns it.
    pub async fn wait_for(&self, to: &str) -> Mail {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(m) = self
                .mails()
                .into_iter()
                .rev()
                .find(|m| m.to.iter().any(|t| t == to))
            {
                return m;
            }
            assert!(
                Instant::now() < deadline,
                "no mail to {to} arrived; got {:?}",
                self.mails()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A fresh PostgreSQL database for one test, dropped afterwards.
pub struct PgDatabase {
    admin_url: String,
    name: String,
}

impl PgDatabase {
    pub fn create(admin_url: &str) -> (Self, String) {
        let name = format!("yui_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::pg::PgConnection::establish(admin_url).unwrap();
        conn.batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        let mut url = url::Url::parse(admin_url).unwrap();
        url.set_path(&format!("/{name}"));
        (
            Self {
                admin_url: admin_url.to_owned(),
                name,
            },
            url.to_string(),
        )
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = diesel::pg::PgConnection::establish(&self.admin_url) {
            let _ = conn.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Options for `TestApp::spawn_with`.
#[derive(Default)]
pub struct Options {
    /// Override `server.base_url` (default: the real `http://127.0.0.1:<port>`).
    pub base_url: Option<String>,
    /// Trusted proxies.
    pub trusted_proxies: Vec<String>,
    /// Largest form body.
    pub max_form_bytes: Option<usize>,
    /// Free disk space the cabinet keeps (default 0: tests never run out).
    pub min_free_bytes: Option<u64>,
    /// Start with the SMTP server down (`app.smtp.serve()` brings it up).
    pub smtp_down: bool,
    /// Load this fixture (`tests/fixtures/schema-<version>`, without `.sqlite.sql` / `.pg.sql`)
    /// into the fresh database before the app starts and migrates it, as an upgrade would.
    pub fixture: Option<String>,
    /// Restore this archive (`yui backup`) into the fresh data directory and database before
    /// the app starts, as `yui restore` would.
    pub restore_from: Option<std::path::PathBuf>,
    /// Make the data directory inside this directory (a small disk) instead of the system's
    /// temporary directory.
    pub data_dir_in: Option<std::path::PathBuf>,
}

pub struct TestApp {
    pub core: Core,
    pub base: String,
    pub setup_token: Option<String>,
    pub smtp: SmtpSink,
    dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

pub const PASSWORD: &str = "correct horse battery";

/// A second app sharing a `TestApp`'s data directory and database (`TestApp::spawn_sibling`).
pub struct Sibling {
    pub core: Core,
    pub base: String,
}

impl Sibling {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

impl TestApp {
    pub fn spawn() -> Self {
        Self::spawn_with(Options::default())
    }

    pub fn spawn_with(opts: Options) -> Self {
        let dir = match &opts.data_dir_in {
            Some(parent) => tempfile::tempdir_in(parent),
            None => tempfile::tempdir(),
        }
        .unwrap();
        let smtp = if opts.smtp_down {
            SmtpSink::down()
        } else {
            SmtpSink::start()
        };
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (pg, db_url) = scratch_database(dir.path());
        if let Some(name) = &opts.fixture {
            load_fixture(name, &db_url, dir.path());
        }
        if let Some(archive) = &opts.restore_from {
            yui::services::backup::restore_archive(
                &yui::services::backup::RestoreOptions {
                    archive: archive.clone(),
                    data_dir: dir.path().to_path_buf(),
                    database_url: pg.as_ref().map(|_| db_url.clone()),
                    force: false,
                    database_only: false,
                    passphrase: None,
                },
                &mut |_| {},
            )
            .unwrap();
        }
        let mut config = Config::load(dir.path(), None, []).unwrap();
        config.database.url = Some(db_url);
        config.server.bind = format!("127.0.0.1:{port}");
        config.server.base_url = Some(
            opts.base_url
                .unwrap_or_else(|| format!("http://127.0.0.1:{port}")),
        );
        config.server.trusted_proxies = opts.trusted_proxies;
        config.server.workers = Some(1);
        if let Some(max) = opts.max_form_bytes {
            config.server.max_form_bytes = max;
        }
        config.storage.min_free_bytes = opts.min_free_bytes.unwrap_or(0);
        config.mail.transport = MailTransport::Smtp;
        config.mail.smtp_host = "127.0.0.1".into();
        config.mail.smtp_port = smtp.port;
        config.mail.smtp_tls = SmtpTls::None;
        // A bare address, as configured by default: mail goes out in the site's title.
        config.mail.from = "yui@example.test".into();
        let core = yui::app::build_core(config).unwrap();
        let running = yui::app::start(core, listener).unwrap();
        actix_web::rt::spawn(running.server);
        Self {
            core: running.core,
            base: format!("http://127.0.0.1:{port}"),
            setup_token: running.setup_token,
            smtp,
            dir,
            _pg: pg,
        }
    }

    /// A second real app over this one's data directory and database, as a second `yui serve`
    /// process would be (its own pool, its own in-memory state, its own port; the same base URL,
    /// as behind one proxy). Sessions live in the database, so a logged-in client works on both.
    pub fn spawn_sibling(&self) -> Sibling {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let mut config = (*self.core.config).clone();
        config.server.bind = format!("127.0.0.1:{port}");
        let core = yui::app::build_core(config).unwrap();
        let running = yui::app::start(core, listener).unwrap();
        actix_web::rt::spawn(running.server);
        Sibling {
            core: running.core,
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    /// The data directory (blobs, tmp, uploads).
    pub fn data_dir(&self) -> &std::path::Path {
        self.dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// A browser-like client: keeps cookies, does not follow redirects (tests assert them).
    #[expect(
        clippy::unused_self,
        reason = "a method so tests read `app.client()` next to `app.url()`"
    )]
    pub fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            // The server closes a keep-alive connection after 5 s idle; a client that reuses one
            // just then gets "connection closed before message completed" (browsers retry, reqwest
            // does not). Dropping idle connections well before that keeps slow steps of a test
            // (hashing megabytes in a debug build on a loaded CI machine) from meeting that race.
            .pool_idle_timeout(Duration::from_secs(1))
            .build()
            .unwrap()
    }

    /// Creates an account directly through the services.
    pub fn create_user(&self, login: &str, admin: bool) -> yui::models::user::User {
        let hash = yui::services::password::hash_now(PASSWORD).unwrap();
        let account = yui::services::account::NewAccount {
            login: login.to_owned(),
            email: format!("{login}@example.test"),
            display_name: format!("{login} さん"),
            role: if admin {
                yui::models::user::SiteRole::Admin
            } else {
                yui::models::user::SiteRole::Member
            },
            language: None,
        };
        self.core
            .db
            .run_sync(true, |conn| {
                yui::services::account::insert_account(conn, &account, &hash)
            })
            .unwrap()
    }

    /// Logs `client` in (GET the form for its token, POST it) and asserts success.
    pub async fn login(&self, client: &reqwest::Client, login: &str, password: &str) {
        let res = self.try_login(client, login, password).await;
        assert_eq!(res.status(), 303, "login of {login} failed");
    }

    pub async fn try_login(
        &self,
        client: &reqwest::Client,
        login: &str,
        password: &str,
    ) -> reqwest::Response {
        let page = client
            .get(self.url("/login"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let token = csrf_from(&page);
        client
            .post(self.url("/login"))
            .form(&[
                ("_csrf", token.as_str()),
                ("name", login),
                ("password", password),
                ("next", "/"),
            ])
            .send()
            .await
            .unwrap()
    }

    /// An admin logged in on a fresh client.
    pub async fn admin_client(&self) -> reqwest::Client {
        self.user("admin").admin().signed_in().await
    }

    /// GETs a page and returns its CSRF token.
    pub async fn csrf(&self, client: &reqwest::Client, path: &str) -> String {
        let page = client
            .get(self.url(path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        csrf_from(&page)
    }

    /// POSTs a form with the page's CSRF token (taken from `token_page`).
    pub async fn post_form(
        &self,
        client: &reqwest::Client,
        token_page: &str,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let token = self.csrf(client, token_page).await;
        let mut all: Vec<(&str, &str)> = vec![("_csrf", token.as_str())];
        all.extend_from_slice(fields);
        client.post(self.url(path)).form(&all).send().await.unwrap()
    }

    /// Waits (up to 10 s) until the outbox holds no mail that is due and neither sent nor failed
    /// for good, waking the sender meanwhile: every mail queued so far has then reached the SMTP
    /// sink (the sink keeps a mail before it answers, and the sender marks it sent after that).
    /// Call it before asserting that something was *not* sent, instead of sleeping.
    pub async fn outbox_drained(&self) {
        use diesel::prelude::*;
        use yui::db::schema::outbox;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let waiting: Vec<(String, String)> = self.db(|conn| {
                Ok(outbox::table
                    .filter(outbox::sent_at.is_null())
                    .filter(outbox::failed_at.is_null())
                    .filter(outbox::next_attempt_at.le(yui::models::now()))
                    .select((outbox::to_addr, outbox::subject))
                    .load(conn)?)
            });
            if waiting.is_empty() {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the outbox did not drain: {waiting:?}"
            );
            self.core.db.mail_wakeup().notify_one();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The mails the SMTP sink received for `to` whose subject contains `subject`, once the outbox
    /// has drained (so a mail still queued cannot be missed).
    pub async fn mails_to(&self, to: &str, subject: &str) -> Vec<Mail> {
        self.outbox_drained().await;
        self.smtp
            .mails()
            .into_iter()
            .filter(|m| m.to.iter().any(|t| t == to) && m.subject.contains(subject))
            .collect()
    }

    /// Runs a closure on a database connection (arranging or inspecting state).
    pub fn db<R>(
        &self,
        f: impl FnOnce(&mut yui::db::DbConn) -> Result<R, yui::error::AppError>,
    ) -> R {
        self.core.db.run_sync(true, f).unwrap()
    }
}

/// A fresh database for a test on the suite's backend: `yui.db` in `dir`, or with
/// `YUI_TEST_DATABASE_URL` a new PostgreSQL database (dropped with the returned guard).
pub fn scratch_database(dir: &std::path::Path) -> (Option<PgDatabase>, String) {
    match std::env::var("YUI_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => {
            let (db, url) = PgDatabase::create(&url);
            (Some(db), url)
        }
        _ => (None, format!("sqlite://{}", dir.join("yui.db").display())),
    }
}

/// Loads an upgrade fixture (made by `tests/fixtures/make`) as the older Yui left its site: its
/// SQL into the database at `url`, the demo's files (`tests/fixtures/blobs`, shared by every
/// fixture: blobs are named by their content) into `data_dir/blobs`.
pub fn load_fixture(name: &str, url: &str, data_dir: &std::path::Path) {
    let blobs = std::path::PathBuf::from(format!(
        "{}/tests/fixtures/blobs",
        env!("CARGO_MANIFEST_DIR")
    ));
    let mut stack = vec![blobs.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let to = data_dir.join("blobs").join(p.strip_prefix(&blobs).unwrap());
            if p.is_dir() {
                std::fs::create_dir_all(&to).unwrap();
                stack.push(p);
            } else {
                std::fs::copy(&p, &to).unwrap();
            }
        }
    }
    load_fixture_sql(name, url);
}

/// Loads an upgrade fixture's SQL into the database at `url`.
fn load_fixture_sql(name: &str, url: &str) {
    let backend = if url.starts_with("sqlite://") {
        "sqlite"
    } else {
        "pg"
    };
    let path = format!(
        "{}/tests/fixtures/{name}.{backend}.sql",
        env!("CARGO_MANIFEST_DIR")
    );
    let sql = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    match url.strip_prefix("sqlite://") {
        Some(file) => diesel::sqlite::SqliteConnection::establish(file)
            .unwrap()
            .batch_execute(&sql),
        None => diesel::pg::PgConnection::establish(url)
            .unwrap()
            .batch_execute(&sql),
    }
    .unwrap_or_else(|e| panic!("loading {path}: {e}"));
}

/// The value of the first `_csrf` hidden field in a page.
pub fn csrf_from(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let Some(at) = html.find(marker) else {
        panic!("no CSRF field in page: {html}");
    };
    let start = at + marker.len();
    let end = html[start..].find('"').unwrap() + start;
    html[start..end].to_owned()
}

/// The Location header of a redirect.
pub fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default()
}
