//! `yui serve`: migrate, print the first-run URL if needed, serve until Ctrl-C / SIGTERM.

use std::net::TcpListener;

use crate::config::Config;

/// Options of `serve`.
#[derive(Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (default from the config: 127.0.0.1:8080).
    #[arg(long)]
    pub bind: Option<String>,
    /// Apply new migrations at start without taking a backup first (same as
    /// `[upgrade] backup = false`).
    #[arg(long)]
    pub no_backup: bool,
}

/// Runs the server.
pub fn run(args: ServeArgs, mut config: Config) -> anyhow::Result<()> {
    if let Some(bind) = args.bind {
        config.server.bind = bind;
    }
    if args.no_backup {
        config.upgrade.backup = false;
    }
    actix_web::rt::System::new().block_on(async move {
        let listener = TcpListener::bind(&config.server.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.server.bind))?;
        let core = crate::app::build_core(config)?;
        let running = crate::app::start(core, listener)?;
        let base = running.core.config.base_url();
        super::say(&format!(
            "Yui is running at {base}/ (listening on {})",
            running.addr
        ));
        if let Some(token) = &running.setup_token {
            super::say(
                "This site has no administrator yet. Open this one-time link to create one:",
            );
            super::say(&format!("  {base}/setup?token={token}"));
        }
        let handle = running.handle.clone();
        let server = actix_web::rt::spawn(running.server);
        shutdown_signal().await;
        tracing::info!("shutting down");
        handle.stop(true).await;
        let _ = server.await;
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = ctrl_c.await;
            return;
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}
