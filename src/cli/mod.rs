//! The command line: `yui [serve] | migrate | user … | check | demo`.

mod demo;
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
    /// Bring the database schema up to date.
    Migrate,
    /// Manage accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Check the configuration, the database and the data directory.
    Check,
    /// Fill an empty site with sample content in Japanese and English.
    Demo(demo::DemoArgs),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let mut config = Config::load(&cli.data_dir, cli.config.as_deref(), std::env::vars())?;
    if let Some(url) = cli.database_url {
        config.database.url = Some(url);
    }
    init_tracing();
    match cli
        .command
        .unwrap_or(Command::Serve(serve::ServeArgs::default()))
    {
        Command::Serve(args) => serve::run(args, config),
        Command::Migrate => migrate(&config),
        Command::User(cmd) => user::run(cmd, &config),
        Command::Check => check(&config),
        Command::Demo(args) => demo::run(&args, config),
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

fn migrate(config: &Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)?;
    let mut conn = crate::db::establish(&config.database_url())?;
    let n = crate::db::migrate::run(&mut conn)?;
    say(&format!("migrations applied: {n}"));
    let changed = diesel::Connection::transaction(&mut conn, |conn| {
        crate::services::search::reindex_if_outdated(conn)
    })
    .map_err(|e| anyhow::anyhow!("rebuilding the search index: {e}"))?;
    if changed > 0 {
        say(&format!("search index rebuilt: {changed} rows"));
    }
    Ok(())
}

fn check(config: &Config) -> anyhow::Result<()> {
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_valid() {
        super::Cli::command().debug_assert();
    }
}
