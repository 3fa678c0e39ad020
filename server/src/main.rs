//! `grantline`: run the broker and administer its projects, keys and auth configs.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use grantline_core::engine::vault::Vault;
use grantline_core::engine::EngineConfig;
use grantline_core::model::{AuthConfigCredentials, AuthConfigInput, CreateAuthConfigRequest, ScopesInput, ToolkitRef};
use grantline_core::{Error, Result};
use grantline_server::config::{ServeConfig, StoreArgs};
use grantline_server::logging::{LogFormat, Logs};

mod rotate;

/// Grantline: connect your users' third-party accounts to your app or agent.
#[derive(Parser)]
#[command(name = "grantline", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,

    /// Log lines as `text` (coloured only on a terminal) or `json` (one object a line, with the
    /// request's `request_id`).
    #[arg(long, global = true, env = "GRANTLINE_LOG_FORMAT", value_enum, default_value = "text")]
    log_format: LogFormat,
}

#[derive(Subcommand)]
enum Command {
    /// Run the broker (REST API, Connect Link pages, OAuth callback).
    Serve(ServeConfig),
    /// Start a throwaway dev broker in this process and run the whole flow against it.
    Demo,
    /// Print a new random encryption key for GRANTLINE_ENCRYPTION_KEY.
    Keygen,
    /// Manage API keys of the default project.
    Keys {
        #[command(subcommand)]
        action: KeysAction,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Manage OAuth app credentials (auth configs) of the default project.
    AuthConfigs {
        #[command(subcommand)]
        action: AuthConfigsAction,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Show or change the default project's settings.
    Project {
        #[command(subcommand)]
        action: ProjectAction,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Manage the encryption keys of stored secrets.
    Encryption {
        #[command(subcommand)]
        action: EncryptionAction,
    },
    /// Move an installation between databases.
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
}

#[derive(Subcommand)]
enum DbAction {
    /// Copy every table of a SQLite database into an empty PostgreSQL database, check row counts
    /// and that every sealed value opens with the key, and only then commit. The source is left
    /// as it was (migrated to the current schema first, as a broker starting on it would).
    Copy {
        /// The SQLite database (`sqlite://path` or a path).
        #[arg(long)]
        from: String,
        /// The PostgreSQL database (`postgres://user:password@host:5432/db?sslmode=…`).
        #[arg(long)]
        to: String,
        /// The key the source's credentials are sealed with (or GRANTLINE_ENCRYPTION_KEY).
        #[arg(long, env = "GRANTLINE_ENCRYPTION_KEY", hide_env_values = true)]
        encryption_key: Option<String>,
        /// Or the keyring they are sealed with (`id:key,…`, or GRANTLINE_ENCRYPTION_KEYS).
        #[arg(long, env = "GRANTLINE_ENCRYPTION_KEYS", hide_env_values = true)]
        encryption_keys: Option<String>,
    },
}

#[derive(Subcommand)]
enum EncryptionAction {
    /// Re-seal every stored secret (tokens, client secrets, PKCE verifiers) with the keyring's
    /// first key (--encryption-keys NEW_ID:NEW_KEY,OLD_ID:OLD_KEY), in batches, each one
    /// transaction; brokers may keep running (with the same keyring). Safe to interrupt and run
    /// again. Prints "done" once no value sealed with another key remains: the old keys can then
    /// leave the keyring.
    Rotate {
        /// Values re-sealed per transaction.
        #[arg(long, default_value_t = 500)]
        batch_size: u32,
        /// Stop after this many batches (run again to go on).
        #[arg(long)]
        max_batches: Option<u64>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum KeysAction {
    /// Create a key and print it once.
    Create {
        /// A label to recognise the key by.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// List keys (id, hint, state); secrets are never shown.
    List,
    /// Revoke a key by id (ak_…).
    Revoke { id: String },
}

#[derive(Subcommand)]
enum AuthConfigsAction {
    /// Store an OAuth app's credentials for a toolkit.
    Create {
        #[arg(long)]
        toolkit: String,
        #[arg(long)]
        client_id: String,
        /// The client secret (or GRANTLINE_CLIENT_SECRET).
        #[arg(long, env = "GRANTLINE_CLIENT_SECRET", hide_env_values = true)]
        client_secret: String,
        /// Scopes, comma- or space-separated (default: the catalog's).
        #[arg(long)]
        scopes: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// List auth configs (no secrets).
    List,
}

#[derive(Subcommand)]
enum ProjectAction {
    /// Show the project and its allowed callback URLs.
    Show,
    /// Allow callback URLs (origin plus optional path prefix).
    AllowCallback { urls: Vec<String> },
    /// Remove callback URLs from the allow-list.
    DisallowCallback { urls: Vec<String> },
    /// Allow browser origins (e.g. https://app.example.com) to use client tokens (CORS).
    AllowOrigin { origins: Vec<String> },
    /// Remove browser origins from the CORS allow-list.
    DisallowOrigin { origins: Vec<String> },
    /// Change how the project's pages name the app, and its user verification. Only the options
    /// given change; an empty value ('') clears one.
    Set {
        /// The app's name on every page ("Acme wants to use your GitHub account").
        #[arg(long)]
        display_name: Option<String>,
        /// Where people get help (https), shown on every page.
        #[arg(long)]
        support_url: Option<String>,
        /// A PNG, JPEG or WebP file (at most 256 KiB; no SVG) shown on every page.
        #[arg(long, conflicts_with = "remove_logo")]
        logo: Option<std::path::PathBuf>,
        /// Remove the logo.
        #[arg(long)]
        remove_logo: bool,
        /// The app's page (https) that confirms who its user is; the broker appends `?flow_id=uvf_…`.
        #[arg(long)]
        user_verification_url: Option<String>,
        /// Send every Connect Link through user verification first.
        #[arg(long)]
        verify_connect_links: Option<bool>,
    },
}

/// The broker's allocator (why: `server/Cargo.toml`).
#[cfg(all(unix, not(target_env = "musl")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    // The demo prints its own steps; request logs would bury them. A test broker is quiet.
    let default_filter = match &cli.command {
        Command::Demo => "warn",
        Command::Serve(cfg) if cfg.test => "warn",
        _ => "info",
    };
    let logs = grantline_server::logging::init(default_filter, cli.log_format);
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime");
    let result = rt.block_on(run(cli.command, logs));
    // Connections the shutdown grace period gave up on are not waited for.
    rt.shutdown_timeout(Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error [{}]: {e}", e.code());
            ExitCode::FAILURE
        }
    }
}

fn admin_config() -> EngineConfig {
    EngineConfig::new(url::Url::parse("http://127.0.0.1:9900").expect("static URL"))
}

async fn run(command: Command, logs: Logs) -> Result<()> {
    match command {
        Command::Serve(cfg) => serve(cfg, logs).await,
        Command::Demo => demo().await,
        Command::Keygen => {
            println!("{}", Vault::generate_key()?);
            Ok(())
        }
        Command::Db { action: DbAction::Copy { from, to, encryption_key, encryption_keys } } => {
            let from = grantline_server::config::sqlite_path(&from).map_err(|e| match e {
                Error::Validation { message, .. } => Error::validation("from", message),
                other => other,
            })?;
            if !(to.starts_with("postgres://") || to.starts_with("postgresql://")) {
                return Err(Error::validation("to", "must be a postgres:// URL"));
            }
            let vault = Vault::configured(encryption_key.as_deref(), encryption_keys.as_deref())?
                .ok_or_else(|| Error::validation("encryption_key", "is required (or encryption_keys): the key the source's secrets are sealed with"))?;
            let report = grantline_core::engine::store::copy::sqlite_to_postgres(&from, &to, &vault).await?;
            for (table, rows) in &report.tables {
                println!("{table:<24} {rows:>8} rows");
            }
            println!("{} sealed values open with the key; the copy is committed.", report.sealed_values_checked);
            Ok(())
        }
        Command::Encryption { action: EncryptionAction::Rotate { batch_size, max_batches, store } } => {
            let engine = store.open(admin_config()).await?.engine;
            rotate::run(&engine, batch_size, max_batches).await
        }
        Command::Keys { action, store } => {
            let engine = store.open(admin_config()).await?.engine;
            let project = engine.default_project().await?;
            match action {
                KeysAction::Create { name } => {
                    let key = engine.create_api_key(&project.id, &name).await?;
                    println!("{}\t{}", key.record.id, key.secret);
                    eprintln!("Store this key now: it is not shown again.");
                }
                KeysAction::List => {
                    for k in engine.list_api_keys(&project.id).await? {
                        let state = if k.revoked_at.is_some() { "revoked" } else { "active" };
                        println!("{}\t{}…\t{}\t{}", k.id, k.hint, state, k.name);
                    }
                }
                KeysAction::Revoke { id } => {
                    engine.revoke_api_key(&project.id, &id).await?;
                    println!("revoked {id}");
                }
            }
            Ok(())
        }
        Command::AuthConfigs { action, store } => {
            let engine = store.open(admin_config()).await?.engine;
            let who = grantline_core::engine::Principal::project(engine.default_project().await?);
            match action {
                AuthConfigsAction::Create { toolkit, client_id, client_secret, scopes, name } => {
                    let req = CreateAuthConfigRequest {
                        toolkit: ToolkitRef { slug: toolkit },
                        auth_config: AuthConfigInput {
                            kind: "use_custom_auth".into(),
                            auth_scheme: "OAUTH2".into(),
                            credentials: AuthConfigCredentials {
                                client_id: Some(client_id),
                                client_secret: Some(client_secret),
                                scopes: scopes.map(ScopesInput::Text),
                                user_scopes: None,
                            },
                            name,
                        },
                    };
                    let made = engine.create_auth_config(&who, req).await?;
                    println!("{}\t{}\t{}", made.auth_config.id, made.toolkit.slug, made.auth_config.scopes.join(" "));
                }
                AuthConfigsAction::List => {
                    for c in engine.list_auth_configs(&who).await? {
                        println!("{}\t{}\t{}", c.id, c.toolkit.unwrap_or_default(), c.scopes.join(" "));
                    }
                }
            }
            Ok(())
        }
        Command::Project { action, store } => {
            let engine = store.open(admin_config()).await?.engine;
            let project = engine.default_project().await?;
            let who = grantline_core::engine::Principal::project(project.clone());
            let (callbacks, origins) = match action {
                ProjectAction::Show => {
                    println!("project {} ({})", project.id, project.name);
                    print_profile(&engine.get_project_info(&who).await?);
                    (Some(project.allowed_callback_urls), Some(project.allowed_origins))
                }
                ProjectAction::Set { display_name, support_url, logo, remove_logo, user_verification_url, verify_connect_links } => {
                    // '' clears a value.
                    let clearable = |v: Option<String>| v.map(|v| Some(v).filter(|v| !v.trim().is_empty()));
                    let patch = grantline_core::model::ProjectPatch {
                        display_name: clearable(display_name),
                        support_url: clearable(support_url),
                        user_verification_url: clearable(user_verification_url),
                        verify_connect_links,
                    };
                    // Everything is checked before anything is written.
                    let image = match &logo {
                        Some(path) => Some(
                            std::fs::read(path).map_err(|e| Error::validation("logo", format!("cannot read {}: {e}", path.display())))?,
                        ),
                        None => None,
                    };
                    if let Some(bytes) = &image {
                        grantline_core::engine::check_logo(None, bytes)?;
                    }
                    let mut info = engine.update_project(&who, patch).await?;
                    if let Some(bytes) = &image {
                        info = engine.set_project_logo(&who, None, bytes).await?;
                    } else if remove_logo {
                        info = engine.delete_project_logo(&who).await?;
                    }
                    println!("project {} ({})", project.id, project.name);
                    print_profile(&info);
                    (None, None)
                }
                ProjectAction::AllowCallback { urls } => (Some(engine.allow_callback_urls(&project.id, &urls).await?), None),
                ProjectAction::DisallowCallback { urls } => (Some(engine.disallow_callback_urls(&project.id, &urls).await?), None),
                ProjectAction::AllowOrigin { origins } => (None, Some(engine.allow_origins(&project.id, &origins).await?)),
                ProjectAction::DisallowOrigin { origins } => (None, Some(engine.disallow_origins(&project.id, &origins).await?)),
            };
            for (title, list) in [("allowed callback URLs", callbacks), ("allowed origins", origins)] {
                if let Some(list) = list {
                    println!("{title}:");
                    for u in list {
                        println!("  {u}");
                    }
                }
            }
            Ok(())
        }
    }
}

async fn serve(mut cfg: ServeConfig, logs: Logs) -> Result<()> {
    let options = cfg.server_options()?;
    let (retention, sweep_every) = cfg.retention()?;
    let webhooks = cfg.webhooks()?;
    // Dropped (its temporary database removed) when the broker returns.
    let _test = cfg.prepare_test()?;
    let bind = cfg.bind_address().to_string();
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .map_err(|e| Error::validation("bind", format!("cannot listen on {bind}: {e}")))?;
    let addr = listener.local_addr().map_err(|e| Error::Internal(e.to_string()))?;
    cfg.check_test_bind(addr)?;
    cfg.check_dev_bind(addr)?;
    raise_open_files_limit(options.http.max_connections);
    let opened = cfg.store.open(cfg.engine_config(addr)?).await?;
    // A test broker is dev mode on purpose: no banner.
    for n in opened.notices.iter().filter(|_| !cfg.test) {
        tracing::warn!("{n}");
        // A banner for a person at a terminal; JSON logs stay one object a line.
        if logs.format() == LogFormat::Text {
            eprintln!("\n  !!! {n}\n");
        }
    }
    let engine = opened.engine;
    // A dev broker's loopback entries (`DEV_LOOPBACK`) live in its memory only (the engine adds
    // them in dev mode); the project stores only what the operator allowed.
    let boot = engine.bootstrap(&cfg.allowed_callback_urls, &cfg.allowed_origins).await?;
    if let (Some(key), false) = (&boot.created_key, cfg.test) {
        println!("Created project {} and its first API key (shown once, store it now):", boot.project.id);
        println!("GRANTLINE_API_KEY={}", key.secret);
    }
    if !cfg.store.dev {
        warn_stored_dev_entries(&boot.project);
    }
    engine.expire_due().await?;
    let _sweeper = engine.spawn_expiry_sweeper(Duration::from_secs(5));
    let _retention = engine.spawn_retention_sweeper(retention, sweep_every);
    let _webhooks = engine.spawn_webhook_deliveries(webhooks)?;
    let metrics_listener = match &cfg.metrics_bind {
        Some(at) => Some(
            tokio::net::TcpListener::bind(at)
                .await
                .map_err(|e| Error::validation("metrics_bind", format!("cannot listen on {at}: {e}")))?,
        ),
        None => None,
    };
    let options = grantline_server::ServerOptions { metrics_listener, ..options };
    let shutdown = {
        let stdin_closed = cfg.test.then(stdin_closed);
        async move {
            match stdin_closed {
                Some(closed) => tokio::select! { () = shutdown_signal() => {}, _ = closed => tracing::warn!("stdin closed: stopping (a --test broker runs while its stdin stays open)") },
                None => shutdown_signal().await,
            }
        }
    };
    let running = grantline_server::spawn_with(engine.clone(), listener, shutdown, options)
        .map_err(|e| Error::Internal(e.to_string()))?;
    let base = engine.config().public_base_url.as_str().trim_end_matches('/').to_string();
    if cfg.test {
        // One line, the test's to read; nothing else is written to stdout.
        println!("{}", cfg.test_line(running.addr, boot.created_key.as_ref().map(|k| k.secret.as_str()), running.metrics_addr));
    } else {
        if let Some(at) = running.metrics_addr {
            println!("grantline metrics on http://{at}/metrics");
        }
        println!("grantline listening on http://{} (public URL {base})", running.addr);
    }
    if cfg.demo {
        // The story first, uninterrupted; the request lines it caused follow it.
        logs.hold();
        let outcome = grantline_server::demo::run(&engine, &base).await;
        println!();
        logs.release();
        outcome?;
    }
    running.task.await.map_err(|e| Error::Internal(e.to_string()))?.map_err(|e| Error::Internal(e.to_string()))?;
    tracing::info!("stopped");
    Ok(())
}

/// The project's profile, one setting a line.
fn print_profile(info: &grantline_core::model::ProjectInfo) {
    let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    println!("display name:          {}", shown(&info.display_name));
    println!("support URL:           {}", shown(&info.support_url));
    println!("logo:                  {}", shown(&info.logo_url));
    println!("user verification URL: {}", shown(&info.user_verification_url));
    println!("verify connect links:  {}", info.verify_connect_links);
}

/// Older brokers stored the dev loopback entries in the project: say how to remove them.
fn warn_stored_dev_entries(project: &grantline_core::engine::store::Project) {
    let dev = grantline_core::engine::DEV_LOOPBACK;
    let callbacks: Vec<&str> = project.allowed_callback_urls.iter().map(String::as_str).filter(|u| dev.contains(u)).collect();
    let origins: Vec<&str> = project.allowed_origins.iter().map(String::as_str).filter(|u| dev.contains(u)).collect();
    if !callbacks.is_empty() || !origins.is_empty() {
        let mut commands = Vec::new();
        if !callbacks.is_empty() {
            commands.push(format!("`grantline project disallow-callback {}`", callbacks.join(" ")));
        }
        if !origins.is_empty() {
            commands.push(format!("`grantline project disallow-origin {}`", origins.join(" ")));
        }
        let n = format!(
            "the project allows loopback callbacks or origins on any port ({}), as a --dev broker once stored them; \
             if you did not allow them yourself, remove them: {}",
            callbacks.iter().chain(&origins).copied().collect::<Vec<_>>().join(", "),
            commands.join(" and ")
        );
        tracing::warn!("{n}");
        eprintln!("\n  !!! {n}\n");
    }
}

/// Raises the soft open-files limit to the hard one (each connection takes a descriptor), and
/// warns when it stays below what `max_connections` needs.
fn raise_open_files_limit(max_connections: usize) {
    #[cfg(unix)]
    {
        let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        // SAFETY: getrlimit/setrlimit only read and write the struct passed.
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
            return;
        }
        // An unlimited hard limit still stops at the kernel's `nr_open` (1,048,576 by default).
        let target = if lim.rlim_max == libc::RLIM_INFINITY { lim.rlim_max.min(1 << 20) } else { lim.rlim_max };
        if lim.rlim_cur < target {
            let raised = libc::rlimit { rlim_cur: target, rlim_max: lim.rlim_max };
            if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
                lim = raised;
            }
        }
        if (lim.rlim_cur as u64) < max_connections as u64 {
            tracing::warn!(
                open_files = lim.rlim_cur as u64,
                max_connections,
                "the open-files limit is below --max-connections: raise `ulimit -n` (or LimitNOFILE=) or lower --max-connections"
            );
        }
    }
    #[cfg(not(unix))]
    let _ = max_connections;
}

async fn demo() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("grantline-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::Internal(e.to_string()))?;
    let store = StoreArgs {
        database_url: Some(dir.join("demo.db").display().to_string()),
        encryption_key: Some(Vault::generate_key()?),
        encryption_keys: None,
        dev: true,
        providers: None,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| Error::Internal(e.to_string()))?;
    let addr = listener.local_addr().map_err(|e| Error::Internal(e.to_string()))?;
    let engine = store.open(EngineConfig::new(url::Url::parse(&format!("http://{addr}")).expect("url"))).await?.engine;
    engine.bootstrap(&[], &[]).await?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let running = grantline_server::spawn(engine.clone(), listener, async { let _ = rx.await; })
        .map_err(|e| Error::Internal(e.to_string()))?;
    let result = grantline_server::demo::run(&engine, &format!("http://{}", running.addr)).await;
    let _ = tx.send(());
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Resolves when stdin reaches its end (or fails): the test runner that started a `--test`
/// broker closed it, or died. Read on a thread of its own, which the process exit ends.
fn stdin_closed() -> tokio::sync::oneshot::Receiver<()> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        use std::io::Read;
        let mut buf = [0u8; 512];
        let mut stdin = std::io::stdin().lock();
        loop {
            match stdin.read(&mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(());
    });
    rx
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down: open waits answer now, requests in flight finish");
}
