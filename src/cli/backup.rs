//! `yui backup`, `yui restore` and `yui verify-backup`: progress bars on a terminal, a summary,
//! and a non-zero exit on any problem. The work is in `services::backup`.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use diesel::connection::SimpleConnection;

use crate::config::{Config, MailTransport};
use crate::services::backup::{self, Progress};

use super::say;

/// Options of `backup`.
#[derive(Debug, clap::Args)]
pub struct BackupArgs {
    /// Where to write the archive (default: `backups/` in the data directory). A mounted USB
    /// disk or NAS share keeps it away from the disk it protects.
    #[arg(long)]
    pub to: Option<PathBuf>,
    /// Encrypt the archive with a passphrase (age; `….tar.zst.age`), read from the
    /// `YUI_BACKUP_PASSPHRASE` environment variable or `--passphrase-file` (never prompted for).
    #[arg(long)]
    pub encrypt: bool,
    /// A file holding the passphrase (its first line).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
}

/// Options of `restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The archive written by `yui backup`.
    pub archive: PathBuf,
    /// Restore into a data directory (or database) that is not empty.
    #[arg(long)]
    pub force: bool,
    /// A file holding an encrypted archive's passphrase (else `YUI_BACKUP_PASSPHRASE`).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
}

/// Options of `verify-backup`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The archive written by `yui backup`.
    pub archive: PathBuf,
    /// Where to restore the trial copy (default: the system's temporary directory); it is removed
    /// afterwards.
    #[arg(long)]
    pub work_dir: Option<PathBuf>,
    /// A file holding an encrypted archive's passphrase (else `YUI_BACKUP_PASSPHRASE`).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
}

/// Options of `migrate-db`.
#[derive(Debug, clap::Args)]
pub struct MigrateDbArgs {
    /// The database to copy the site into (`postgres://user@host/db` or `sqlite:///path/yui.db`).
    #[arg(long)]
    pub to: String,
    /// Replace a target database that is not empty.
    #[arg(long)]
    pub force: bool,
}

/// The backup passphrase: the first line of `file`, else `YUI_BACKUP_PASSPHRASE`, else none.
/// Never prompted for (cron and CI have no terminal).
fn passphrase(file: Option<&Path>) -> anyhow::Result<Option<backup::Passphrase>> {
    if let Some(file) = file {
        let text = std::fs::read_to_string(file)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", file.display()))?;
        let first = text.lines().next().unwrap_or("");
        return backup::Passphrase::new(first).map(Some);
    }
    match std::env::var("YUI_BACKUP_PASSPHRASE") {
        Ok(text) if !text.is_empty() => backup::Passphrase::new(&text).map(Some),
        _ => Ok(None),
    }
}

/// A progress bar on a terminal, nothing otherwise (logs and cron mails stay clean).
fn bar(template: &str) -> anyhow::Result<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return Ok(indicatif::ProgressBar::hidden());
    }
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(template).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    Ok(bar)
}

fn progress_to(bar: &indicatif::ProgressBar) -> impl FnMut(Progress) + '_ {
    move |p| match p {
        Progress::Rows(n) => bar.set_message(format!("{n} rows")),
        Progress::BlobsStart(total) => {
            bar.set_length(total);
            bar.set_position(0);
        }
        Progress::BlobBytes(n) => bar.inc(n),
    }
}

/// Opens the site's database for a command that runs beside `yui serve`.
fn open_site(config: &Config) -> anyhow::Result<crate::db::DbConn> {
    let mut conn = crate::db::establish(&config.database_url())?;
    if let crate::db::DbConn::Sqlite(c) = &mut conn {
        c.batch_execute("PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;")?;
    }
    Ok(conn)
}

/// `yui backup`.
pub fn run_backup(
    args: &BackupArgs,
    config: &Config,
    config_file: Option<&Path>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let to = args
        .to
        .clone()
        .unwrap_or_else(|| config.data_dir.join("backups"));
    let passphrase = if args.encrypt {
        Some(passphrase(args.passphrase_file.as_deref())?.ok_or_else(|| {
            anyhow::anyhow!(
                "--encrypt needs a passphrase: set YUI_BACKUP_PASSPHRASE or pass --passphrase-file FILE"
            )
        })?)
    } else {
        None
    };
    let mut conn = open_site(config)?;
    let bar = bar(
        "{spinner} {msg} {bar:30} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta})",
    )?;
    let summary = backup::write_backup_with(
        &mut conn,
        &backup::BackupOptions {
            data_dir: &config.data_dir,
            config_file: config_file.or(config.source.as_deref()),
            to_dir: &to,
            name_prefix: "yui-backup",
            blobs: true,
            passphrase: passphrase.as_ref(),
        },
        &mut progress_to(&bar),
    )?;
    bar.finish_and_clear();
    say(&format!("backup written: {}", summary.path.display()));
    say(&format!(
        "  {} bytes; {} tables, {} rows; {} blobs ({} bytes); schema {}; {:.1} s",
        summary.bytes,
        summary.tables,
        summary.rows,
        summary.blobs,
        summary.blob_bytes,
        summary.schema_version,
        started.elapsed().as_secs_f64()
    ));
    let record = backup::BackupRecord {
        at: chrono::Utc::now(),
        path: summary.path.display().to_string(),
        bytes: summary.bytes,
    };
    crate::db::in_transaction(&mut conn, true, |conn| backup::record_backup(conn, &record))
        .map_err(|e| {
            anyhow::anyhow!(
                "the backup is complete, but recording it for the admin panel failed: {e}"
            )
        })?;
    say(
        "  a backup counts once it has been restored: `yui verify-backup` does that in a temporary directory",
    );
    Ok(())
}

/// `yui restore`.
pub fn run_restore(
    args: &RestoreArgs,
    data_dir: &Path,
    database_url: Option<String>,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let bar = bar("{spinner} {msg} {binary_bytes} ({binary_bytes_per_sec})")?;
    let opts = backup::RestoreOptions {
        archive: args.archive.clone(),
        data_dir: data_dir.to_path_buf(),
        database_url,
        force: args.force,
        database_only: false,
        passphrase: passphrase(args.passphrase_file.as_deref())?,
    };
    let summary = backup::restore_archive(&opts, &mut progress_to(&bar))?;
    bar.finish_and_clear();
    say(&format!(
        "restored {} (Yui {}, schema {}, taken {} from {})",
        args.archive.display(),
        summary.manifest.yui_version,
        summary.manifest.schema_version,
        summary.manifest.created_at,
        summary.manifest.source_backend
    ));
    say(&format!(
        "  into {} ({}): {} rows, {} blobs, {} migrations applied after loading; {:.1} s",
        data_dir.display(),
        redact(&summary.database_url),
        summary.rows,
        summary.blobs,
        summary.migrations_after,
        started.elapsed().as_secs_f64()
    ));
    say(&format!(
        "  start it with: yui serve --data-dir {}",
        data_dir.display()
    ));
    Ok(())
}

/// A database URL without its password, for output.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Removes the trial copy when verification ends, however it ends.
struct WorkDir(PathBuf);

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `yui verify-backup`: restore into a temporary directory, start the app there, check it.
pub fn run_verify(args: &VerifyArgs, config: &Config) -> anyhow::Result<()> {
    let started = Instant::now();
    let base = args.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    let work = WorkDir(base.join(format!(
        "yui-verify-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    )));
    let outcome = passphrase(args.passphrase_file.as_deref())
        .and_then(|p| verify_in(&args.archive, &work.0, p));
    drop(work);
    let (ok, detail) = match &outcome {
        Ok(detail) => (true, detail.clone()),
        Err(e) => (false, format!("{e:#}")),
    };
    let record = backup::VerifyRecord {
        at: chrono::Utc::now(),
        path: args.archive.display().to_string(),
        ok,
        detail: detail.clone(),
    };
    let recorded = open_site(config).and_then(|mut conn| {
        crate::db::in_transaction(&mut conn, true, |conn| backup::record_verify(conn, &record))
            .map_err(|e| anyhow::anyhow!("{e}"))
    });
    if let Err(e) = recorded {
        say(&format!("  (not recorded for the admin panel: {e:#})"));
    }
    let detail = outcome?;
    say(&format!(
        "verified {}: {detail}; {:.1} s",
        args.archive.display(),
        started.elapsed().as_secs_f64()
    ));
    Ok(())
}

fn verify_in(
    archive: &Path,
    work: &Path,
    passphrase: Option<backup::Passphrase>,
) -> anyhow::Result<String> {
    let data = work.join("data");
    let bar = bar("{spinner} {msg} {binary_bytes} ({binary_bytes_per_sec})")?;
    let summary = backup::restore_archive(
        &backup::RestoreOptions {
            archive: archive.to_path_buf(),
            data_dir: data.clone(),
            database_url: None,
            force: false,
            database_only: false,
            passphrase,
        },
        &mut progress_to(&bar),
    )?;
    bar.finish_and_clear();
    say(&format!(
        "  restored into {}: {} rows, {} blobs",
        data.display(),
        summary.rows,
        summary.blobs
    ));
    // Counted before the app starts (starting writes settings of its own).
    let storage = crate::storage::Storage::new(&data, 0);
    let mut conn = crate::db::establish(&summary.database_url)?;
    let counts = count_and_hash(&mut conn, &storage).map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(conn);
    let probe = make_probe(&summary.database_url)?;
    let mut config = Config::load(&data, None, std::iter::empty())?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    // The trial copy must never mail anyone: its outbox goes to files in the work directory.
    config.mail.transport = MailTransport::Dir;
    config.server.bind = addr.to_string();
    config.server.base_url = Some(format!("http://{addr}"));
    config.server.workers = Some(1);
    let manifest = summary.manifest.clone();
    actix_web::rt::System::new().block_on(async move {
        let core = crate::app::build_core(config)?;
        let running = crate::app::start(core, listener)?;
        let handle = running.handle.clone();
        let server = actix_web::rt::spawn(running.server);
        let result = tokio::task::spawn_blocking(move || probe_site(addr, &probe)).await;
        handle.stop(true).await;
        let _ = server.await;
        let downloads = result??;
        say(&format!(
            "  the restored site serves on {addr}: /healthz, /, a probe account logged in, /rooms, {downloads} file downloads match their SHA-256"
        ));
        Ok::<_, anyhow::Error>(())
    })?;
    let (rows, blobs, bytes) = counts;
    let mut problems = Vec::new();
    for table in &manifest.tables {
        let found = rows
            .iter()
            .find(|(t, _)| *t == table.name)
            .map_or(0, |(_, n)| *n);
        let mark = if found == table.rows || summary.migrations_after > 0 {
            ""
        } else {
            "  MISMATCH"
        };
        say(&format!("  {:<24} {:>9} rows{mark}", table.name, found));
        if !mark.is_empty() {
            problems.push(format!(
                "{}: {} rows restored, {} in the archive",
                table.name, found, table.rows
            ));
        }
    }
    say(&format!(
        "  blobs: {blobs} re-hashed ({bytes} bytes), all match"
    ));
    if !problems.is_empty() {
        anyhow::bail!("row counts differ: {}", problems.join("; "));
    }
    Ok(format!(
        "{} rows in {} tables, {blobs} blobs ({bytes} bytes); the restored site served",
        summary.rows,
        manifest.tables.len()
    ))
}

type Counts = (Vec<(String, u64)>, u64, u64);

/// Counts every table's rows and re-hashes every blob a file refers to in the restored copy.
fn count_and_hash(
    conn: &mut crate::db::DbConn,
    storage: &crate::storage::Storage,
) -> Result<Counts, crate::error::AppError> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    #[derive(diesel::QueryableByName)]
    struct S {
        #[diesel(sql_type = diesel::sql_types::Text)]
        s: String,
    }
    let mut rows = Vec::new();
    for table in backup::TABLES {
        let n: Vec<N> =
            diesel::sql_query(format!("SELECT COUNT(*) AS n FROM \"{table}\"")).load(conn)?;
        rows.push((
            (*table).to_owned(),
            n.first().map_or(0, |n| u64::try_from(n.n).unwrap_or(0)),
        ));
    }
    let shas: Vec<S> = diesel::sql_query(
        "SELECT DISTINCT blob_sha256 AS s FROM files \
         UNION SELECT blob_sha256 AS s FROM user_pictures",
    )
    .load(conn)?;
    let mut bytes = 0;
    for sha in &shas {
        let path = storage.blob_path(&sha.s);
        let got = crate::storage::hash_file(&path)
            .map_err(|e| crate::error::AppError::Internal(e.into()))?;
        if got != sha.s {
            return Err(crate::error::AppError::Internal(anyhow::anyhow!(
                "restored blob {} hashes to {got}",
                sha.s
            )));
        }
        bytes += std::fs::metadata(&path).map_or(0, |m| m.len());
    }
    Ok((rows, shas.len() as u64, bytes))
}

/// The probe: an admin account made in the restored copy, and files to download through it.
struct Probe {
    login: String,
    password: String,
    /// `(download path, SHA-256)` of up to 20 files outside private rooms.
    files: Vec<(String, String)>,
}

/// Makes the probe account in the restored database and picks the files it downloads.
fn make_probe(url: &str) -> anyhow::Result<Probe> {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct F {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        sha: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        slug: String,
    }
    let mut conn = crate::db::establish(url)?;
    let password = format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    );
    let hash = crate::services::password::hash_throwaway(&password)?;
    let account = crate::services::account::NewAccount {
        login: "verify_probe".into(),
        email: "verify-probe@example.invalid".into(),
        display_name: "verify-backup".into(),
        role: crate::models::user::SiteRole::Admin,
        language: None,
    };
    crate::db::in_transaction(&mut conn, true, |conn| {
        // The copy's jobs loop must not take the site's daily backup into its directory.
        backup::disable_schedule(conn)?;
        crate::services::account::insert_account(conn, &account, &hash)
    })
    .map_err(|e| anyhow::anyhow!("making the probe account: {e}"))?;
    let files: Vec<F> = diesel::sql_query(
        "SELECT f.id AS id, f.name AS name, f.blob_sha256 AS sha, r.slug AS slug \
         FROM files f JOIN rooms r ON r.id = f.room_id \
         WHERE f.deleted_at IS NULL AND r.space <> 'private' ORDER BY f.id LIMIT 20",
    )
    .load(&mut conn)?;
    let enc = |s: &str| {
        percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    Ok(Probe {
        login: account.login,
        password,
        files: files
            .into_iter()
            .map(|f| {
                (
                    format!(
                        "/rooms/{}/files/file/{}/{}",
                        enc(&f.slug),
                        f.id,
                        enc(&f.name)
                    ),
                    f.sha,
                )
            })
            .collect(),
    })
}

/// Checks the running copy over HTTP: it serves, the probe logs in, opens rooms and downloads
/// files whose bytes match their SHA-256. Returns how many files it downloaded.
fn probe_site(addr: std::net::SocketAddr, probe: &Probe) -> anyhow::Result<usize> {
    let mut jar: Vec<(String, String)> = Vec::new();
    for path in ["/healthz", "/"] {
        let r = http(addr, "GET", path, &jar, None)?;
        if r.status != 200 {
            anyhow::bail!("the restored site answered {} to GET {path}", r.status);
        }
    }
    let page = http(addr, "GET", "/login", &jar, None)?;
    page.keep_cookies(&mut jar);
    let html = String::from_utf8_lossy(&page.body);
    let marker = "name=\"_csrf\" value=\"";
    let csrf = html
        .find(marker)
        .map(|i| &html[i + marker.len()..])
        .and_then(|rest| rest.split('"').next())
        .ok_or_else(|| anyhow::anyhow!("the restored login page has no form token"))?
        .to_owned();
    let form = serde_urlencoded::to_string([
        ("_csrf", csrf.as_str()),
        ("name", probe.login.as_str()),
        ("password", probe.password.as_str()),
        ("next", "/"),
    ])?;
    let login = http(addr, "POST", "/login", &jar, Some(&form))?;
    if login.status != 303 {
        anyhow::bail!(
            "the probe account could not log in to the restored site ({})",
            login.status
        );
    }
    login.keep_cookies(&mut jar);
    let rooms = http(addr, "GET", "/rooms", &jar, None)?;
    if rooms.status != 200 {
        anyhow::bail!("the restored site answered {} to GET /rooms", rooms.status);
    }
    for (path, sha) in &probe.files {
        let r = http(addr, "GET", path, &jar, None)?;
        let got = backup::sha256_of(&r.body);
        if r.status != 200 || got != *sha {
            anyhow::bail!(
                "downloading {path} from the restored site: {} and SHA-256 {got}, expected {sha}",
                r.status
            );
        }
    }
    Ok(probe.files.len())
}

/// An HTTP response as read by `http`.
struct HttpAnswer {
    status: u16,
    set_cookies: Vec<(String, String)>,
    body: Vec<u8>,
}

impl HttpAnswer {
    fn keep_cookies(&self, jar: &mut Vec<(String, String)>) {
        for (name, value) in &self.set_cookies {
            jar.retain(|(n, _)| n != name);
            jar.push((name.clone(), value.clone()));
        }
    }
}

/// One plain HTTP/1.1 request (`Connection: close`; no client library in the binary for this one
/// probe): cookies from `jar`, a form body if any.
fn http(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    jar: &[(String, String)],
    form: Option<&str>,
) -> anyhow::Result<HttpAnswer> {
    use std::fmt::Write as _;
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(std::time::Duration::from_mins(1)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if !jar.is_empty() {
        let cookies: Vec<String> = jar.iter().map(|(n, v)| format!("{n}={v}")).collect();
        let _ = write!(req, "Cookie: {}\r\n", cookies.join("; "));
    }
    if let Some(body) = form {
        let _ = write!(
            req,
            "Origin: http://{addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
    } else {
        req.push_str("\r\n");
    }
    stream.write_all(req.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("not an HTTP answer from {path}"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.get(9..12))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("not an HTTP answer from {path}"))?;
    let mut set_cookies = Vec::new();
    let mut chunked = false;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        if name == "set-cookie"
            && let Some((n, v)) = value.split(';').next().and_then(|c| c.split_once('='))
        {
            set_cookies.push((n.to_owned(), v.to_owned()));
        }
        if name == "transfer-encoding" && value.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
    }
    let body = &raw[split + 4..];
    let body = if chunked {
        dechunk(body)?
    } else {
        body.to_vec()
    };
    Ok(HttpAnswer {
        status,
        set_cookies,
        body,
    })
}

/// Decodes a chunked body.
fn dechunk(mut rest: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or_else(|| anyhow::anyhow!("a broken chunked answer"))?;
        let size_text = std::str::from_utf8(&rest[..end])?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
        rest = &rest[end + 2..];
        if size == 0 {
            return Ok(out);
        }
        if rest.len() < size + 2 {
            anyhow::bail!("a truncated chunked answer");
        }
        out.extend_from_slice(&rest[..size]);
        rest = &rest[size + 2..];
    }
}

/// `yui migrate-db --to URL`: copy the database, print rows per table and the blob references of
/// both sides, exit non-zero on any difference.
pub fn run_migrate_db(args: &MigrateDbArgs, config: &Config) -> anyhow::Result<()> {
    let started = Instant::now();
    let source_url = config.database_url();
    crate::db::Backend::from_url(&args.to)?;
    say(&format!(
        "copying the site's database {} to {} (stop `yui serve` first: what it writes after the copy starts is not copied)",
        redact(&source_url),
        redact(&args.to)
    ));
    let mut source = open_site(config)?;
    let bar = bar("{spinner} {msg} {binary_bytes} ({binary_bytes_per_sec})")?;
    let report = backup::migrate_db(
        &mut source,
        &backup::CopyOptions {
            data_dir: config.data_dir.clone(),
            source_url,
            target_url: args.to.clone(),
            force: args.force,
        },
        &mut progress_to(&bar),
    )?;
    bar.finish_and_clear();
    say(&format!(
        "  {:<24} {:>9} {:>9}",
        "table", "source", "target"
    ));
    for t in &report.tables {
        let mark = if t.source == t.target {
            ""
        } else {
            "  MISMATCH"
        };
        say(&format!(
            "  {:<24} {:>9} {:>9}{mark}",
            t.table, t.source, t.target
        ));
    }
    say(&format!(
        "  blob references: {} in the source, {} in the target ({}); {} missing from {}",
        report.blob_refs.0,
        report.blob_refs.1,
        if report.blob_refs_digest.0 == report.blob_refs_digest.1 {
            "the same set"
        } else {
            "DIFFERENT sets"
        },
        report.blobs_missing.len(),
        config.data_dir.join("blobs").display()
    ));
    let problems = report.problems();
    if !problems.is_empty() {
        anyhow::bail!("the copy differs from the site: {}", problems.join("; "));
    }
    let rows: u64 = report.tables.iter().map(|t| t.source).sum();
    say(&format!(
        "copied {rows} rows in {} tables (schema {}); every count and blob reference matches; {:.1} s",
        report.tables.len(),
        report.schema_version,
        started.elapsed().as_secs_f64()
    ));
    say(&format!(
        "  the old database is left as it was. To run the site on the copy, set [database] url = \"{}\" in yui.toml (or pass --database-url) and start yui serve",
        redact(&args.to)
    ));
    Ok(())
}
