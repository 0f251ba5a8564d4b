//! The command line: `yui [serve] | migrate | user … | check | demo | backup | restore | verify-backup |
//! migrate-db | import wordpress`.

mod backup;
mod demo;
mod import;
mod serve;
mod user;

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::Config;

/// Yui (結): a self-hosted blog + groupware.
#[derive(Debug, Parser)]
#[command(name = "yui", version, about)]
pub struct Cli {
    /// The data directory (database, files, mail drop, backups).
    #[arg(long, global = true, env = "YUI_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// A configuration file (default: `yui.toml` in the data directory, if present).
    #[arg(long, global = true, env = "YUI_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL (`sqlite:///path/yui.db` or `postgres://user@host/db`).
    #[arg(long, global = true, env = "YUI_DATABASE_URL")]
    pub database_url: Option<String>,
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the site (the default).
    Serve(serve::ServeArgs),
    /// Bring the database schema up to date (after a backup, when there is something to migrate).
    Migrate(MigrateArgs),
    /// Manage accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Check the configuration, the database and the data directory.
    Check(CheckArgs),
    /// Fill an empty site with sample content in Japanese and English.
    Demo(demo::DemoArgs),
    /// Write one archive (database, files, config, secret.key) while the site runs.
    Backup(backup::BackupArgs),
    /// Restore an archive into an empty data directory (and database).
    Restore(backup::RestoreArgs),
    /// Restore an archive into a temporary directory, start the site there and check it.
    VerifyBackup(backup::VerifyArgs),
    /// Copy the site's whole database to another one (SQLite ⇄ PostgreSQL) and compare them.
    MigrateDb(backup::MigrateDbArgs),
    /// Bring in content from another system (`yui import wordpress export.xml`).
    #[command(subcommand)]
    Import(import::ImportCommand),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    if let Some(Command::Restore(args)) = &cli.command {
        // The target is not a site yet: no configuration of its own is read.
        init_tracing();
        return backup::run_restore(args, &cli.data_dir, cli.database_url.clone());
    }
    let mut config = Config::load(&cli.data_dir, cli.config.as_deref(), std::env::vars())?;
    let config_file = cli.config.clone();
    if let Some(url) = cli.database_url {
        config.database.url = Some(url);
    }
    init_tracing();
    match cli
        .command
        .unwrap_or(Command::Serve(serve::ServeArgs::default()))
    {
        Command::Serve(args) => serve::run(args, config),
        Command::Migrate(args) => {
            if args.no_backup {
                config.upgrade.backup = false;
            }
            migrate(&config)
        }
        Command::User(cmd) => user::run(cmd, &config),
        Command::Check(args) => check(&config, &args),
        Command::Demo(args) => demo::run(&args, config),
        Command::Backup(args) => backup::run_backup(&args, &config, config_file.as_deref()),
        Command::Restore(args) => {
            backup::run_restore(&args, &config.data_dir, config.database.url.clone())
        }
        Command::VerifyBackup(args) => backup::run_verify(&args, &config),
        Command::MigrateDb(args) => backup::run_migrate_db(&args, &config),
        Command::Import(cmd) => import::run(cmd, config),
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("YUI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,actix_server=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// Prints a line to standard output (the CLI's own output, not logging).
pub(crate) fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
}

/// Options of `yui migrate`.
#[derive(Debug, Default, clap::Args)]
pub struct MigrateArgs {
    /// Apply new migrations without taking a backup first (same as `[upgrade] backup = false`).
    #[arg(long)]
    pub no_backup: bool,
}

fn migrate(config: &Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let mut conn = crate::db::establish(&config.database_url())?;
    let upgrade = crate::services::backup::migrate_safely(config, &mut conn)?;
    if let Some(backup) = &upgrade.backup {
        say(&format!(
            "backup before the upgrade: {} ({} bytes, schema {})",
            backup.path.display(),
            backup.bytes,
            backup.schema_version
        ));
    }
    if upgrade.skipped_backup {
        say("no backup was taken before the upgrade (turned off)");
    }
    say(&format!(
        "migrations applied: {} (schema {} -> {})",
        upgrade.applied,
        upgrade.from.as_deref().unwrap_or("none"),
        upgrade.to
    ));
    let changed = diesel::Connection::transaction(&mut conn, |conn| {
        crate::services::search::reindex_if_outdated(conn)
    })
    .map_err(|e| anyhow::anyhow!("rebuilding the search index: {e}"))?;
    if changed > 0 {
        say(&format!("search index rebuilt: {changed} rows"));
    }
    Ok(())
}

/// Options of `yui check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// Also re-hash every blob under `blobs/`, quarantine any whose bytes do not match its name,
    /// and list the blobs files refer to that are missing (exits non-zero if any).
    #[arg(long)]
    pub blobs: bool,
}

fn check(config: &Config, args: &CheckArgs) -> anyhow::Result<()> {
    say(&format!("data directory: {}", config.data_dir.display()));
    std::fs::create_dir_all(&config.data_dir)?;
    let probe = config.data_dir.join(".write-test");
    std::fs::write(&probe, b"ok")?;
    std::fs::remove_file(&probe)?;
    say("  writable: yes");
    let url = config.database_url();
    let mut conn = crate::db::establish(&url)?;
    say(&format!(
        "database: {:?} (connected)",
        crate::db::Backend::from_url(&url)?
    ));
    let known = crate::db::migrate::known_versions(&conn)?;
    let pending = {
        use diesel_migrations::MigrationHarness;
        match &mut conn {
            crate::db::DbConn::Sqlite(c) => c
                .pending_migrations(crate::db::migrate::SQLITE)
                .map(|v| v.len()),
            crate::db::DbConn::Pg(c) => c
                .pending_migrations(crate::db::migrate::POSTGRES)
                .map(|v| v.len()),
        }
        .map_err(|e| anyhow::anyhow!("{e}"))?
    };
    say(&format!(
        "  migrations: {} known, {pending} pending",
        known.len()
    ));
    say(&format!("base_url: {}", config.base_url()));
    say(&format!("mail: {:?}", config.mail.transport));
    if args.blobs {
        check_blobs(config, &mut conn)?;
    }
    Ok(())
}

/// `yui check --blobs`: the scrub, with a progress bar (on a terminal) and a summary.
fn check_blobs(config: &Config, conn: &mut crate::db::DbConn) -> anyhow::Result<()> {
    let storage = crate::storage::Storage::new(&config.data_dir, 0);
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{spinner} blobs {bar:30} {binary_bytes}/{binary_total_bytes} ({binary_bytes_per_sec}, {eta})",
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let report = crate::services::files::scrub_blobs(
        &storage,
        conn,
        |_, bytes| bar.set_length(bytes),
        |n| bar.inc(n),
    )
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    bar.finish_and_clear();
    say(&format!(
        "blobs: {} checked ({} bytes)",
        report.checked, report.bytes
    ));
    for (name, to) in &report.quarantined {
        say(&format!(
            "  DAMAGED {name}: its bytes do not match its name; moved to {}",
            to.display()
        ));
    }
    for name in &report.missing {
        say(&format!(
            "  MISSING {name}: files refer to it but it is not on disk"
        ));
    }
    say(&format!(
        "  damaged: {}, missing: {}",
        report.quarantined.len(),
        report.missing.len()
    ));
    if report.is_clean() {
        return Ok(());
    }
    say(
        "  files whose blob is damaged or missing answer an error on download until someone \
         uploads the same bytes again, which writes the blob anew",
    );
    anyhow::bail!(
        "the blob store has {} damaged and {} missing blobs",
        report.quarantined.len(),
        report.missing.len()
    )
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        super::Cli::command().debug_assert();
    }
}
