//! The Grantline broker: axum routes over `grantline_core::engine`, the Connect Link
//! pages, the OAuth callback, the dev sandbox provider, and the CLI's building blocks.
//!
//! No business rule lives here: handlers parse, call the engine, and render.

mod access_log;
pub mod config;
mod cookies;
mod cors;
mod dashboard;
pub mod demo;
mod error;
mod extract;
pub mod logging;
mod mcp;
mod pages;
mod request_id;
pub mod rate_limit;
mod routes;
pub(crate) mod serve;
mod telemetry;
mod unread_body;

use std::net::SocketAddr;
use std::sync::Arc;

use grantline_core::engine::Engine;

pub use config::{OpenedEngine, ServeConfig};
pub use error::ApiError;
pub use routes::openapi_document;
pub use serve::HttpLimits;

/// How the broker serves beyond its routes: per-credential rate limits, HTTP limits, the
/// shutdown grace period and an unauthenticated metrics listener.
#[derive(Debug, Default)]
pub struct ServerOptions {
    /// Rate limits per credential (kept per broker process).
    pub rate_limits: rate_limit::RateLimits,
    /// Header read timeout and connection limit.
    pub http: HttpLimits,
    /// How long requests in flight may take to finish after shutdown begins
    /// ([`DEFAULT_SHUTDOWN_GRACE`] if `None`).
    pub grace: Option<std::time::Duration>,
    /// A listener that serves `/metrics` alone, without credentials (a private network's).
    pub metrics_listener: Option<tokio::net::TcpListener>,
}

/// Default of [`ServerOptions::grace`] (`--shutdown-grace-secs`).
pub const DEFAULT_SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// The MCP transport every session's endpoint shares (behind an `Arc`: the state is cloned
    /// for every request, and a bare service clone costs a cancellation token's lock).
    mcp: Arc<mcp::McpService>,
    /// The rate limiters of this process.
    limits: Arc<rate_limit::Limiters>,
}

/// The whole HTTP surface as an axum router, with the default rate limits.
pub fn router(engine: Arc<Engine>) -> axum::Router {
    router_with(engine, &rate_limit::RateLimits::default())
}

/// The whole HTTP surface as an axum router, with these rate limits.
pub fn router_with(engine: Arc<Engine>, limits: &rate_limit::RateLimits) -> axum::Router {
    let limits = Arc::new(rate_limit::Limiters::new(*limits));
    routes::router(AppState { mcp: Arc::new(mcp::service(engine.clone())), engine, limits })
}

/// A broker listening on a socket.
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Where `/metrics` is served without credentials (`--metrics-bind`), if anywhere.
    pub metrics_addr: Option<SocketAddr>,
    /// The server task; it ends on `shutdown`, once open requests finished (or the grace period
    /// ran out).
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Serves `engine` on `listener` until `shutdown` resolves, with the default options.
pub fn spawn(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<Running> {
    spawn_with(engine, listener, shutdown, ServerOptions::default())
}

/// Serves `engine` on `listener` until `shutdown` resolves, with `options`; then the engine
/// answers every open wait at once with the account's current state (its client re-issues it on
/// another broker), no new connection is accepted, and requests in flight get `options.grace`
/// to finish.
pub fn spawn_with(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    options: ServerOptions,
) -> std::io::Result<Running> {
    telemetry::install();
    let addr = listener.local_addr()?;
    let grace = options.grace.unwrap_or(DEFAULT_SHUTDOWN_GRACE);
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let metrics_addr = match options.metrics_listener {
        Some(l) => {
            let at = l.local_addr()?;
            let app = axum::Router::new()
                .route("/metrics", axum::routing::get(routes::ops::metrics_text))
                .layer(access_log::AccessLog);
            tokio::spawn(serve::serve(l, app, HttpLimits::default(), stopped(stopping.clone()), grace));
            Some(at)
        }
        None => None,
    };
    let app = router_with(engine.clone(), &options.rate_limits);
    let http = options.http;
    let task = tokio::spawn(async move {
        let shutdown = async move {
            shutdown.await;
            engine.begin_shutdown();
            let _ = stop.send(true);
        };
        serve::serve(listener, app, http, shutdown, grace).await
    });
    drop(stopping);
    Ok(Running { addr, metrics_addr, task })
}
