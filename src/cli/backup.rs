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
}

/// Options of `restore`.
#[derive(Debug, clap::Args)]
pub struct RestoreArgs {
    /// The archive written by `yui backup`.
    pub archive: PathBuf,
    /// Restore into a data directory (or database) that is not empty.
    #[arg(long)]
    pub force: bool,
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
    let mut conn = open_site(config)?;
    let bar = bar(
        "{spinner} {msg} {bar:30} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta})",
    )?;
    let summary = backup::write_backup(
        &mut conn,
        &config.data_dir,
        config_file,
        &to,
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
    let outcome = verify_in(&args.archive, &work.0);
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

fn verify_in(archive: &Path, work: &Path) -> anyhow::Result<String> {
    let data = work.join("data");
    let bar = bar("{spinner} {msg} {binary_bytes} ({binary_bytes_per_sec})")?;
    let summary = backup::restore_archive(
        &backup::RestoreOptions {
            archive: archive.to_path_buf(),
            data_dir: data.clone(),
            database_url: None,
            force: false,
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
    let mut config = Config::load(&data, None, std::iter::empty())?;
    // The trial copy must never mail anyone: its outbox goes to files in the work directory.
    config.mail.transport = MailTransport::Dir;
    config.server.bind = "127.0.0.1:0".into();
    config.server.base_url = None;
    config.server.workers = Some(1);
    let manifest = summary.manifest.clone();
    actix_web::rt::System::new().block_on(async move {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let core = crate::app::build_core(config)?;
        let running = crate::app::start(core, listener)?;
        let addr = running.addr;
        let handle = running.handle.clone();
        let server = actix_web::rt::spawn(running.server);
        let result = async {
            for path in ["/healthz", "/", "/login"] {
                let status = tokio::task::spawn_blocking(move || http_status(addr, path)).await??;
                if status != 200 {
                    anyhow::bail!("the restored site answered {status} to GET {path}");
                }
            }
            say(&format!(
                "  the restored site serves on {addr} (/healthz, /, /login: 200)"
            ));
            Ok::<_, anyhow::Error>(())
        }
        .await;
        handle.stop(true).await;
        let _ = server.await;
        result
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
    let shas: Vec<S> =
        diesel::sql_query("SELECT DISTINCT blob_sha256 AS s FROM files").load(conn)?;
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

/// The status code of a plain HTTP/1.1 GET (no client library in the binary for this one probe).
fn http_status(addr: std::net::SocketAddr, path: &str) -> anyhow::Result<u16> {
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head)?;
    let line = std::str::from_utf8(&head)?;
    line.get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("not an HTTP answer: {line:?}"))
}
