//! Database access: one connection type over SQLite and PostgreSQL, the pool, and the only entry points
//! (`Db::read` / `Db::write`) that run a closure inside one transaction and wake the mail sender
//! once a transaction that queued mail has committed. Writes (and PostgreSQL reads) run on the
//! blocking pool; SQLite reads run right where they are asked, on the thread's own read-only
//! connection (`Db::read` says why).

pub mod migrate;
pub mod schema;
pub mod text_query;
pub mod types;

use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use diesel::connection::{
    AnsiTransactionManager, InstrumentationEvent, SimpleConnection, TransactionManager,
};
use diesel::pg::PgConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::sqlite::SqliteConnection;

use crate::error::AppError;

/// A connection to either backend; every model function takes `&mut DbConn`.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    /// The embedded default.
    Sqlite(SqliteConnection),
    /// The scale-out backend.
    Pg(PgConnection),
}

/// Which backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// `sqlite://path` or a path ending in `.db`.
    Sqlite,
    /// `postgres://` or `postgresql://`.
    Postgres,
}

impl Backend {
    /// Picks the backend from the URL scheme, refusing anything that does not look like a database URL
    /// (so a typo never silently creates a new SQLite file somewhere).
    pub fn from_url(url: &str) -> Result<Self, anyhow::Error> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else if url.starts_with("sqlite://") {
            Ok(Self::Sqlite)
        } else {
            anyhow::bail!(
                "unsupported database URL (use sqlite:///path/to/yui.db or postgres://user@host/db)"
            )
        }
    }
}

impl DbConn {
    /// Which backend this connection talks to (for the rare SQL that differs).
    pub fn backend(&self) -> Backend {
        match self {
            Self::Sqlite(_) => Backend::Sqlite,
            Self::Pg(_) => Backend::Postgres,
        }
    }
}

/// The path part of a `sqlite://` URL, as SQLite wants it.
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://").unwrap_or(url)
}

/// Opens one connection (used by the pool, migrations and the CLI).
pub fn establish(url: &str) -> Result<DbConn, anyhow::Error> {
    use diesel::Connection;
    Ok(match Backend::from_url(url)? {
        Backend::Sqlite => DbConn::Sqlite(SqliteConnection::establish(sqlite_path(url))?),
        Backend::Postgres => DbConn::Pg(PgConnection::establish(url)?),
    })
}

/// Per-connection SQLite settings. `journal_mode=WAL` is deliberately absent: it is persistent and set
/// once at migrate time, because eight pool connections racing to switch it fail with `database is locked`.
/// Every connection also counts the statements it runs into the pool's counter
/// (`Db::statements`), which the query-budget tests read.
#[derive(Debug)]
struct ConnectionSetup {
    statements: Arc<AtomicU64>,
    /// A thread's SQLite reader (`Db::read`): `query_only`, so it can never write.
    read_only: bool,
}

impl CustomizeConnection<DbConn, diesel::r2d2::Error> for ConnectionSetup {
    fn on_acquire(&self, conn: &mut DbConn) -> Result<(), diesel::r2d2::Error> {
        self.prepare(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

impl ConnectionSetup {
    /// The settings every connection gets, pooled or a thread's reader.
    fn prepare(&self, conn: &mut DbConn) -> Result<(), diesel::result::Error> {
        let statements = Arc::clone(&self.statements);
        let count = move |event: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::StartQuery { query, .. } = event {
                statements.fetch_add(1, Ordering::Relaxed);
                // `YUI_LOG=yui::sql=trace`: every statement's text, to see what a page runs.
                tracing::trace!(target: "yui::sql", "{query}");
            }
        };
        if let DbConn::Sqlite(c) = conn {
            // synchronous=FULL: an acknowledged write (a safety answer) must survive a power cut.
            // cache_size=-4000 (4 MB per connection): the OS page cache holds the rest, and the
            // process stays within its 40 MB RSS budget (16 MB per connection measured 68 MB).
            c.batch_execute(
                "PRAGMA busy_timeout=5000; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; \
                 PRAGMA cache_size=-4000; PRAGMA temp_store=MEMORY;",
            )?;
            if self.read_only {
                c.batch_execute("PRAGMA query_only=ON;")?;
            }
        }
        // After the settings above, so only the use cases' statements are counted.
        match conn {
            DbConn::Sqlite(c) => diesel::Connection::set_instrumentation(c, count),
            DbConn::Pg(c) => diesel::Connection::set_instrumentation(c, count),
        }
        Ok(())
    }
}

thread_local! {
    /// Whether the transaction running on this thread queued mail (`mail_queued`). A use case's
    /// closure runs on the thread that begins and commits its transaction, so a flag per thread
    /// is a flag per transaction.
    static MAIL_QUEUED: Cell<bool> = const { Cell::new(false) };
}

/// Notes that the transaction running on this thread queued mail (`services::mail` calls it): the
/// `Db` running that transaction wakes the mail sender once it has committed. Woken earlier, the
/// sender looked before the commit, found nothing and slept until its next poll (5 s).
pub fn mail_queued() {
    MAIL_QUEUED.set(true);
}

thread_local! {
    /// SQLite: this thread's read-only connection to each database it has read (`Db::read`), by
    /// `Db::id`. Taken out while a read runs, so a read started from inside another one (never
    /// done today) opens a second one instead of failing.
    static READERS: RefCell<Vec<(u64, DbConn)>> = const { RefCell::new(Vec::new()) };
}

/// How many databases' readers a thread keeps (tests open many databases on one thread; a server
/// has one).
const READERS_PER_THREAD: usize = 4;

/// Numbers the `Db`s of this process, so a thread's reader is never used for another database.
static NEXT_DB_ID: AtomicU64 = AtomicU64::new(1);

/// The pool plus the backend it talks to.
#[derive(Clone)]
pub struct Db {
    pool: Pool<ConnectionManager<DbConn>>,
    backend: Backend,
    mail_wakeup: Arc<tokio::sync::Notify>,
    statements: Arc<AtomicU64>,
    /// Write transactions this process has ended (`writes`).
    writes: Arc<AtomicU64>,
    /// This pool's number among the process's (`READERS`).
    id: u64,
    /// The URL, for a thread's SQLite reader.
    url: Arc<str>,
}

impl Db {
    /// Builds the pool (SQLite: 4 connections, enough for 2 cores since writers serialise anyway;
    /// PostgreSQL: 16).
    pub fn connect(url: &str) -> Result<Self, anyhow::Error> {
        let backend = Backend::from_url(url)?;
        let (max, manager_url) = match backend {
            Backend::Sqlite => (4, url.to_owned()),
            Backend::Postgres => (16, url.to_owned()),
        };
        let statements = Arc::new(AtomicU64::new(0));
        let pool = Pool::builder()
            .max_size(max)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .connection_customizer(Box::new(ConnectionSetup {
                statements: Arc::clone(&statements),
                read_only: false,
            }))
            .build(ConnectionManager::<DbConn>::new(manager_url))?;
        Ok(Self {
            pool,
            backend,
            mail_wakeup: Arc::new(tokio::sync::Notify::new()),
            statements,
            writes: Arc::new(AtomicU64::new(0)),
            id: NEXT_DB_ID.fetch_add(1, Ordering::Relaxed),
            url: url.into(),
        })
    }

    /// Which backend this pool talks to.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// How many SQL statements this pool's connections have run so far (transaction statements
    /// included): the query-budget tests read it before and after a request.
    pub fn statements(&self) -> u64 {
        self.statements.load(Ordering::Relaxed)
    }

    /// How many write transactions this process has ended so far, counted after each commit or
    /// rollback: an in-memory cache that notes it before loading is stale once it moved (this
    /// process changed something since). Other processes' writes are not counted here.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Acquire)
    }

    /// What the mail sender waits on: notified after every committed transaction that queued
    /// mail (`mail_queued`). Notifying it by hand makes the sender look at once (tests).
    pub fn mail_wakeup(&self) -> &tokio::sync::Notify {
        &self.mail_wakeup
    }

    /// Runs a read-only use case: on SQLite inside one (deferred) transaction, so it sees one
    /// snapshot; on PostgreSQL without one (see `Mode::Statements`).
    ///
    /// On SQLite it runs here and now, on this thread's own read-only connection: a read of a
    /// local file in WAL mode never waits for a writer and takes microseconds, far less than
    /// handing it to the blocking pool and back (a thread wake-up each way, and under load a queue
    /// of threads waiting for the pool's few connections: futex wake/wait dominated the profile of
    /// a member page, #16). The connection is `query_only`, so a use case that writes through
    /// `read` fails loudly instead of waiting for the write lock on an async worker. PostgreSQL
    /// reads wait on the network and go to the blocking pool; so do reads that may take long
    /// whatever the backend (`read_long`).
    pub async fn read<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        match self.backend {
            Backend::Sqlite => self.read_here(f),
            Backend::Postgres => self.run(Mode::Statements, f).await,
        }
    }

    /// Runs a read-only use case that may take long (a whole music library, an export) on the
    /// blocking pool, whatever the backend, so it never holds up the async worker's other requests.
    pub async fn read_long<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        self.run(Mode::Read, f).await
    }

    /// A SQLite read on this thread's reader (opened on first use), in one transaction.
    fn read_here<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<R, AppError>,
    {
        let mine = READERS.with_borrow_mut(|readers| {
            let at = readers.iter().position(|(id, _)| *id == self.id)?;
            Some(readers.swap_remove(at).1)
        });
        let mut conn = match mine {
            Some(conn) => conn,
            None => self.open_reader()?,
        };
        let result = in_transaction(&mut conn, false, f);
        // A connection whose transaction could not be closed is not used again.
        if !<DbConn as diesel::Connection>::TransactionManager::is_broken_transaction_manager(
            &mut conn,
        ) {
            READERS.with_borrow_mut(|readers| {
                if readers.len() >= READERS_PER_THREAD {
                    readers.remove(0);
                }
                readers.push((self.id, conn));
            });
        }
        result
    }

    /// A new read-only SQLite connection with the pool's settings.
    fn open_reader(&self) -> Result<DbConn, AppError> {
        let mut conn = establish(&self.url).map_err(|e| AppError::Unavailable(e.to_string()))?;
        let setup = ConnectionSetup {
            statements: Arc::clone(&self.statements),
            read_only: true,
        };
        setup.prepare(&mut conn)?;
        Ok(conn)
    }

    /// Runs a use case that writes, inside one transaction that takes SQLite's write lock up front
    /// (`BEGIN IMMEDIATE`): a deferred transaction that upgrades its lock fails with `database is locked`
    /// under load, even with `busy_timeout`.
    pub async fn write<F, R>(&self, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        self.run(Mode::Write, f).await
    }

    async fn run<F, R>(&self, mode: Mode, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<R, AppError> + Send + 'static,
        R: Send + 'static,
    {
        let db = self.clone();
        let span = tracing::Span::current();
        tokio::task::spawn_blocking(move || {
            let _entered = span.enter();
            db.run_on_pool(mode, f)
        })
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("database task failed: {e}")))?
    }

    /// Runs a closure synchronously on a pooled connection (CLI and background jobs already off the async workers).
    pub fn run_sync<F, R>(&self, immediate: bool, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<R, AppError>,
    {
        self.run_on_pool(if immediate { Mode::Write } else { Mode::Read }, f)
    }

    fn run_on_pool<F, R>(&self, mode: Mode, f: F) -> Result<R, AppError>
    where
        F: FnOnce(&mut DbConn) -> Result<R, AppError>,
    {
        let mut conn = self
            .pool
            .get()
            .map_err(|e| AppError::Unavailable(e.to_string()))?;
        // Saved and restored, so a transaction run from inside another one's closure (never done
        // today) would leave the outer one's flag as it was.
        let outer = MAIL_QUEUED.replace(false);
        let result = match mode {
            Mode::Write => in_transaction(&mut conn, true, f),
            Mode::Read => in_transaction(&mut conn, false, f),
            Mode::Statements => f(&mut conn),
        };
        if matches!(mode, Mode::Write) {
            self.writes.fetch_add(1, Ordering::AcqRel);
        }
        if MAIL_QUEUED.replace(outer) && result.is_ok() {
            self.mail_wakeup.notify_one();
        }
        result
    }
}

/// How a use case runs on a pooled connection.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// One transaction holding SQLite's write lock from its BEGIN (`BEGIN IMMEDIATE`).
    Write,
    /// One deferred transaction: on SQLite, one snapshot for all its statements.
    Read,
    /// No transaction: each statement on its own. For PostgreSQL reads only: at READ COMMITTED a
    /// transaction gives each statement its own snapshot anyway, so BEGIN and COMMIT bought
    /// nothing but two round trips per read (four on every member page, #16). A use case that
    /// writes through `read` is still caught: the test suite runs on SQLite, whose readers are
    /// `query_only`.
    Statements,
}

/// Runs `f` in one transaction; `immediate` takes SQLite's write lock at BEGIN.
pub fn in_transaction<F, R>(conn: &mut DbConn, immediate: bool, f: F) -> Result<R, AppError>
where
    F: FnOnce(&mut DbConn) -> Result<R, AppError>,
{
    // The MultiConnection's transaction state lives in the inner connection, so beginning on the inner
    // connection and committing through the enum is one and the same transaction.
    match conn {
        DbConn::Sqlite(c) if immediate => {
            AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE")?;
        }
        DbConn::Sqlite(c) => AnsiTransactionManager::begin_transaction(c)?,
        DbConn::Pg(c) => AnsiTransactionManager::begin_transaction(c)?,
    }
    match f(conn) {
        Ok(value) => {
            <DbConn as diesel::Connection>::TransactionManager::commit_transaction(conn)?;
            Ok(value)
        }
        Err(e) => {
            // A failed rollback leaves the connection broken; r2d2 then discards it.
            if let Err(rollback) =
                <DbConn as diesel::Connection>::TransactionManager::rollback_transaction(conn)
            {
                tracing::warn!(error = %rollback, "rollback failed");
            }
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;

    use super::Db;

    /// The bundled SQLite is built with the flags `.cargo/config.toml` gives it (#16). Without
    /// `ENABLE_QPSG` SQLite compiles a cached statement again on every run that binds a LIMIT (all of
    /// diesel's `.first()` and paging); without `DEFAULT_MEMSTATUS=0` every allocation takes one
    /// global mutex. A build that lost the setting (a different way of building, an overriding
    /// `LIBSQLITE3_FLAGS`) fails here rather than quietly slowing every member page.
    #[test]
    fn the_bundled_sqlite_has_the_flags_the_build_config_sets() {
        #[derive(diesel::QueryableByName)]
        struct CompileOption {
            #[diesel(sql_type = diesel::sql_types::Text)]
            compile_options: String,
        }
        let mut conn = super::establish("sqlite://:memory:").unwrap();
        let options: Vec<String> = diesel::RunQueryDsl::load::<CompileOption>(
            diesel::sql_query("PRAGMA compile_options"),
            &mut conn,
        )
        .unwrap()
        .into_iter()
        .map(|o| o.compile_options)
        .collect();
        for wanted in ["ENABLE_QPSG", "DEFAULT_MEMSTATUS=0"] {
            assert!(
                options.iter().any(|o| o == wanted),
                "{wanted} missing from {options:?}"
            );
        }
    }

    /// A SQLite read runs on the thread's own `query_only` connection: a use case that writes
    /// through `Db::read` fails instead of taking the write lock on an async worker, and a read
    /// right after a write sees it (the reader keeps no snapshot between reads).
    #[tokio::test]
    async fn sqlite_reads_cannot_write_and_see_the_latest_write() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.db").display());
        let db = Db::connect(&url).unwrap();
        let count = |db: &Db| {
            let db = db.clone();
            async move {
                db.read(|c| {
                    #[derive(diesel::QueryableByName)]
                    struct N {
                        #[diesel(sql_type = diesel::sql_types::BigInt)]
                        n: i64,
                    }
                    let rows: Vec<N> = diesel::RunQueryDsl::load(
                        diesel::sql_query("SELECT COUNT(*) AS n FROM t"),
                        c,
                    )?;
                    Ok(rows.first().map_or(0, |r| r.n))
                })
                .await
            }
        };
        db.write(|c| Ok(c.batch_execute("CREATE TABLE t (x INTEGER)")?))
            .await
            .unwrap();
        assert_eq!(count(&db).await.unwrap(), 0);
        let refused = db
            .read(|c| Ok(c.batch_execute("INSERT INTO t VALUES (1)")?))
            .await;
        assert!(
            matches!(&refused, Err(e) if format!("{e:?}").contains("readonly")),
            "{refused:?}"
        );
        assert_eq!(
            count(&db).await.unwrap(),
            0,
            "the refused write left nothing"
        );
        db.write(|c| Ok(c.batch_execute("INSERT INTO t VALUES (2)")?))
            .await
            .unwrap();
        assert_eq!(
            count(&db).await.unwrap(),
            1,
            "the reader sees the write at once"
        );
    }
}
