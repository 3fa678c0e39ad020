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
    /// The server task; it ends on `shutdown`.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Serves `engine` on `listener` until `shutdown` resolves.
pub fn spawn(
    engine: Arc<Engine>,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<Running> {
    let addr = listener.local_addr()?;
    let app = router(engine);
    let task = tokio::spawn(serve::serve(listener, app, shutdown));
    Ok(Running { addr, task })
}
