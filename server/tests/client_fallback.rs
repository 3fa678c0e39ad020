//! The Rust client against a broker that has no `/wait` long-poll: it falls back to polling.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use grantline_core::client::WaitOptions;
use grantline_core::{Client, ClientConfig, Error};
use serde_json::{json, Value};

/// A minimal Composio-like server: the account turns ACTIVE on the third read; no `/wait`.
async fn start(final_status: &'static str) -> (String, Arc<AtomicUsize>) {
    let reads = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route(
            "/api/v3.1/connected_accounts/{id}",
            get(move |State(reads): State<Arc<AtomicUsize>>, Path(id): Path<String>| async move {
                let n = reads.fetch_add(1, Ordering::SeqCst);
                let status = if n >= 2 { final_status } else { "INITIATED" };
                Json::<Value>(json!({
                    "id": id, "user_id": "u", "toolkit": {"slug": "github"},
                    "auth_config": {"id": "ac_1", "auth_scheme": "OAUTH2", "is_composio_managed": false},
                    "status": status, "status_reason": null, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"
                }))
            }),
        )
        .with_state(reads.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), reads)
}

fn opts(timeout_ms: u64) -> WaitOptions {
    WaitOptions { timeout: Duration::from_millis(timeout_ms), poll_interval: Duration::from_millis(50), ..WaitOptions::default() }
}

#[tokio::test]
async fn without_a_wait_endpoint_the_client_polls_until_active() {
    let (base, reads) = start("ACTIVE").await;
    let client = Client::new(ClientConfig::with_api_key(base, "k")).unwrap();
    let account = client.connected_accounts().wait_with("ca_abc", opts(10_000), std::future::pending::<Error>()).await.unwrap();
    assert_eq!(account.status.as_str(), "ACTIVE");
    assert_eq!(reads.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn polling_fails_at_once_on_failed() {
    let (base, _) = start("FAILED").await;
    let client = Client::new(ClientConfig::with_api_key(base, "k")).unwrap();
    let err = client.connected_accounts().wait_with("ca_abc", opts(10_000), std::future::pending::<Error>()).await.unwrap_err();
    assert_eq!(err.code(), "CONNECTION_REQUEST_FAILED");
}

#[tokio::test]
async fn polling_times_out_with_the_timeout_error() {
    let (base, _) = start("ACTIVE").await;
    let client = Client::new(ClientConfig::with_api_key(base, "k")).unwrap();
    let slow = WaitOptions { timeout: Duration::from_millis(120), poll_interval: Duration::from_secs(1), ..WaitOptions::default() };
    assert!(matches!(client.connected_accounts().wait_with("ca_abc", slow, std::future::pending::<Error>()).await, Err(Error::ConnectionRequestTimeout { .. })));
}
