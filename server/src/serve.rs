//! Serving the router on a socket: HTTP/1.1 on hyper's own connection builder, one task per
//! connection, with graceful shutdown.
//!
//! Not `axum::serve`, for what an open long-poll (`/wait`) keeps while it waits:
//! - it sniffs each connection's protocol first (hyper-util's `auto::Builder`) and hands hyper
//!   those first bytes apart from the rest, so hyper's 8 KB read buffer is always grown (and
//!   copied) to 16 KB before the request is whole;
//! - serving the `Router` itself rebuilds its route table for every connection (about 18 KB).
//!
//! Here the router is cloned (an `Arc`) per connection and hyper reads the request in one go.
//!
//! Limits ([`HttpLimits`]): a client must send a request's headers within the header read
//! timeout (a half-sent request, or an idle keep-alive connection, is closed after it), and
//! past the connection limit the broker stops accepting until a connection closes (the kernel's
//! backlog holds the rest).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{watch, Semaphore};

/// Default time a client has to send a request's headers, in seconds.
pub const DEFAULT_HEADER_READ_TIMEOUT_SECS: u64 = 30;
/// Default most open connections, well above the 10,000 open long-polls the broker is built to
/// hold. Each takes a file descriptor: the broker raises its soft open-files limit to the hard
/// one at start, and warns when that is below this.
pub const DEFAULT_MAX_CONNECTIONS: usize = 20_000;

/// HTTP limits of the server.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// Time a client has to send a request's headers (also how long an idle keep-alive
    /// connection stays open).
    pub header_read_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
}

impl Default for HttpLimits {
    fn default() -> Self {
        Self { header_read_timeout: Duration::from_secs(DEFAULT_HEADER_READ_TIMEOUT_SECS), max_connections: DEFAULT_MAX_CONNECTIONS }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting, lets each open
/// connection finish its request in flight (then close), and returns once they all closed or
/// `grace` ran out, whichever comes first.
pub(crate) async fn serve(
    listener: TcpListener,
    app: axum::Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    // `stop` tells connections to shut down gracefully; `open` counts them (its receivers).
    let (stop, stopping) = watch::channel(false);
    let (open, connection) = watch::channel(());
    let slots = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let mut builder = http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        // A free slot first: at the limit, new connections wait in the kernel's backlog.
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let socket = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((socket, _)) => socket,
                Err(e) => {
                    // Out of file descriptors, or the like: wait rather than spin.
                    tracing::error!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(app.clone());
        let (mut stopping, open) = (stopping.clone(), connection.clone());
        let builder = builder.clone();
        tokio::spawn(async move {
            let conn = builder.serve_connection(TokioIo::new(socket), service).with_upgrades();
            tokio::pin!(conn);
            loop {
                tokio::select! {
                    result = conn.as_mut() => {
                        if let Err(e) = result {
                            tracing::trace!(error = %e, "connection ended with an error");
                        }
                        break;
                    }
                    changed = stopping.changed() => match changed {
                        Ok(()) => conn.as_mut().graceful_shutdown(),
                        // The server is gone: let the connection run out.
                        Err(_) => std::future::pending().await,
                    },
                }
            }
            drop(open);
            drop(slot);
        });
    }
    drop(listener);
    drop(connection);
    let _ = stop.send(true);
    if tokio::time::timeout(grace, open.closed()).await.is_err() {
        tracing::warn!(
            connections = open.receiver_count(),
            grace_secs = grace.as_secs(),
            "connections still open when the shutdown grace period ran out; closing them"
        );
    }
    Ok(())
}
