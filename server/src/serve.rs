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

use std::future::Future;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Serves `app` on `listener` until `shutdown` resolves, then stops accepting, lets each open
/// connection finish its request in flight (then close), and returns once they all closed or
/// `grace` ran out, whichever comes first.
pub(crate) async fn serve(
    listener: TcpListener,
    app: axum::Router,
    shutdown: impl Future<Output = ()>,
    grace: Duration,
) -> std::io::Result<()> {
    // `stop` tells connections to shut down gracefully; `open` counts them (its receivers).
    let (stop, stopping) = watch::channel(false);
    let (open, connection) = watch::channel(());
    tokio::pin!(shutdown);
    loop {
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
        tokio::spawn(async move {
            let conn = http1::Builder::new().serve_connection(TokioIo::new(socket), service).with_upgrades();
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
