//! The Grantline broker: axum routes over `grantline_core::engine`, the Connect Link
//! pages, the OAuth callback, the dev sandbox provider, and the CLI's building blocks.
//!
//! No business rule lives here: handlers parse, call the engine, and render.

mod access_log;
pub mod config;
mod cors;
pub mod demo;
mod error;
mod extract;
pub mod logging;
mod mcp;
mod pages;
mod routes;
mod serve;
mod telemetry;

use std::net::SocketAddr;
use std::sync::Arc;

use grantline_core::engine::Engine;

pub use config::{OpenedEngine, ServeConfig};
pub use error::ApiError;
pub use routes::openapi_document;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    /// The engine.
    pub engine: Arc<Engine>,
    /// The MCP transport every session's endpoint shares (behind an `Arc`: the state is cloned
    /// for every request, and a bare service clone costs a cancellation token's lock).
    mcp: Arc<mcp::McpService>,
}

/// The whole HTTP surface as an axum router.
pub fn router(engine: Arc<Engine>) -> axum::Router {
    routes::router(AppState { mcp: Arc::new(mcp::service(engine.clone())), engine })
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

/// How to serve, beyond the engine and the socket.
#[derive(Default)]
pub struct ServeOptions {
    /// How long requests in flight may take to finish after shutdown begins (20 s if `None`).
    pub grace: Option<std::time::Duration>,
    /// A listener that serves `/metrics` alone, without credentials (a private network's).
    pub metrics_listener: Option<tokio::net::TcpListener>,
}

/// Default of [`ServeOptions::grace`] (`--shutdown-grace-secs`).
pub const DEFAULT_SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(20);

/// Serves `engine` on `listener` until `shutdown` resolves.
pub fn spawn(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<Running> {
    spawn_with(engine, listener, shutdown, ServeOptions::default())
}

/// Serves `engine` on `listener` until `shutdown` resolves; then the engine answers every open
/// wait at once with the account's current state (its client re-issues it on another broker),
/// no new connection is accepted, and requests in flight get `options.grace` to finish.
pub fn spawn_with(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    options: ServeOptions,
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
            tokio::spawn(serve::serve(l, app, stopped(stopping.clone()), grace));
            Some(at)
        }
        None => None,
    };
    let app = router(engine.clone());
    let task = tokio::spawn(async move {
        let shutdown = async move {
            shutdown.await;
            engine.begin_shutdown();
            let _ = stop.send(true);
        };
        serve::serve(listener, app, shutdown, grace).await
    });
    drop(stopping);
    Ok(Running { addr, metrics_addr, task })
}
