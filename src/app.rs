//! Building and starting the application; shared by `yui serve` and the integration tests.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::middleware::{Compress, from_fn};
use actix_web::{App, HttpServer, web};

use crate::assets::Assets;
use crate::config::Config;
use crate::db::Db;
use crate::error::{AppError, FieldErrors};
use crate::mail::Mailer;
use crate::services::{Core, password::Passwords, setup};
use crate::templates::Templates;
use crate::web::middleware::{csrf, errors, flash, headers, public_cache, visitor};
use crate::web::{AppState, routes};

/// Opens the database, migrates it and builds the services' context.
pub fn build_core(config: Config) -> anyhow::Result<Core> {
    std::fs::create_dir_all(&config.data_dir)?;
    let url = config.database_url();
    let mut conn = crate::db::establish(&url)?;
    let upgrade = crate::services::backup::migrate_safely(&config, &mut conn)?;
    drop(conn);
    if upgrade.applied > 0 {
        tracing::info!(
            from = upgrade.from.as_deref().unwrap_or("none"),
            to = %upgrade.to,
            migrations = upgrade.applied,
            "database schema brought up to date"
        );
    }
    let db = Db::connect(&url)?;
    reindex(&db)?;
    let secret = crate::secret::Secret::load_or_create(&config.data_dir)?;
    let storage = crate::storage::Storage::new(&config.data_dir, config.storage.min_free_bytes);
    storage.ensure_dirs()?;
    let swept = storage.sweep_tmp()?;
    if swept > 0 {
        tracing::info!(entries = swept, "removed unfinished uploads from tmp/");
    }
    let assets = Assets::load();
    let templates = Templates::load(&assets)?;
    Ok(Core {
        db,
        config: Arc::new(config),
        passwords: Passwords::new(2)?,
        templates,
        site_cache: Arc::new(crate::services::site::SiteCache::default()),
        music: Arc::new(crate::services::subsonic::LibraryCache::default()),
        storage,
        secret,
        answers: crate::services::answer_queue::AnswerQueue::default(),
    })
}

/// Brings data that migrations cannot compute up to date (the search bigrams, built in Rust).
fn reindex(db: &Db) -> anyhow::Result<()> {
    let changed = db
        .run_sync(true, crate::services::search::reindex_if_outdated)
        .map_err(|e| anyhow::anyhow!("rebuilding the search index: {e}"))?;
    if changed > 0 {
        tracing::info!(rows = changed, "search index rebuilt");
    }
    Ok(())
}

/// A running server.
pub struct Running {
    /// The services' context (tests use it to arrange data).
    pub core: Core,
    /// The address it listens on.
    pub addr: std::net::SocketAddr,
    /// The one-time setup token, when the site has no administrator yet.
    pub setup_token: Option<String>,
    /// Handle to stop the server.
    pub handle: actix_web::dev::ServerHandle,
    /// The server future (spawn or await it).
    pub server: actix_web::dev::Server,
}

/// Builds the server on `listener` and spawns the jobs loop; the caller runs `server`.
pub fn start(core: Core, listener: TcpListener) -> anyhow::Result<Running> {
    let addr = listener.local_addr()?;
    let setup_token = core
        .db
        .run_sync(true, setup::issue_token)
        .map_err(|e| anyhow::anyhow!("setup token: {e}"))?;
    let mailer = Mailer::from_config(&core.config.mail, core.config.mail_dir())?;
    tokio::spawn(crate::jobs::run(core.clone(), mailer));
    let state = AppState {
        assets: Assets::load(),
        trusted_proxies: Arc::new(core.config.trusted_proxy_nets()),
        page_cache: Arc::new(crate::web::page_cache::PageCache::new(
            core.config.server.public_cache,
        )),
        core: core.clone(),
    };
    let max_form = core.config.server.max_form_bytes;
    let workers = core.config.server.workers.unwrap_or_else(|| {
        std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get)
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .app_data(
                web::FormConfig::default()
                    .limit(max_form)
                    .error_handler(|_, _| AppError::Invalid(FieldErrors::default()).into()),
            )
            .app_data(
                web::QueryConfig::default()
                    .error_handler(|_, _| AppError::Invalid(FieldErrors::default()).into()),
            )
            .app_data(web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into()))
            .configure(routes::configure)
            .default_service(web::to(|| async {
                Err::<actix_web::HttpResponse, _>(AppError::NotFound)
            }))
            // The request pipeline (`web::middleware`). actix runs the last `wrap` first, so this
            // reads from the innermost step (just before the handler) out to the first one:
            // 6. CSRF: a state-changing request is refused before its handler (or its body) is read.
            .wrap(from_fn(csrf::check))
            // 5. A flash message is forgotten once a page showed it.
            .wrap(from_fn(flash::clear_shown))
            // 4. Errors from everything inside become pages (keeping the cookies set on the way).
            .wrap(from_fn(errors::error_pages))
            // 3. Anonymous GETs from the page cache: before the rest, so a cached page costs no
            //    more; it sees the finished page (error pages and cookies included) it may keep.
            .wrap(from_fn(public_cache::public_pages))
            // 2. Who is asking: settings, session, navigation facts, language → `ReqCtx`.
            .wrap(from_fn(visitor::resolve_visitor))
            // 1. Security headers on every response, error pages and static files included.
            .wrap(from_fn(headers::security_headers))
            .wrap(Compress::default())
    })
    .workers(workers)
    .disable_signals()
    .listen(listener)?
    .run();
    Ok(Running {
        core,
        addr,
        setup_token,
        handle: server.handle(),
        server,
    })
}
