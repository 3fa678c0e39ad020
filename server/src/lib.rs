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
mod request_id;
pub mod rate_limit;
mod routes;
pub(crate) mod serve;

use std::net::SocketAddr;
use std::sync::Arc;

use grantline_core::engine::Engine;

pub use config::{OpenedEngine, ServeConfig};
pub use error::ApiError;
pub use routes::openapi_document;
pub use serve::HttpLimits;

/// How the broker serves beyond its routes: per-credential rate limits and HTTP limits.
#[derive(Debug, Clone, Default)]
pub struct ServerOptions {
    /// Rate limits per credential (kept per broker process).
    pub rate_limits: rate_limit::RateLimits,
    /// Header read timeout and connection limit.
    pub http: HttpLimits,
}

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
    /// The server task; it ends on `shutdown`.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Serves `engine` on `listener` until `shutdown` resolves, with the default options.
pub fn spawn(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<Running> {
    spawn_with(engine, listener, shutdown, &ServerOptions::default())
}

/// Serves `engine` on `listener` until `shutdown` resolves, with `options`.
pub fn spawn_with(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    options: &ServerOptions,
) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let app = router_with(engine, &options.rate_limits);
    let task = tokio::spawn(serve::serve(listener, app, options.http.clone(), shutdown));
    Ok(Running { addr, task })
}
