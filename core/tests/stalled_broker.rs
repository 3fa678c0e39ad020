//! A broker that accepts connections and never answers: every request ends at its deadline with
//! a typed error, the same on every host (the browser suite checks the wasm transport).

use std::net::TcpListener;
use std::time::Duration;

use grantline_core::{Client, ClientConfig, Error};

/// A listener that takes every connection and holds it open, silent.
fn stalled_broker() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn);
        }
    });
    base
}

fn client(base: &str) -> Client {
    let config = ClientConfig { request_timeout: Duration::from_millis(200), ..ClientConfig::with_api_key(base, "gl_test") };
    Client::new(config).unwrap()
}

#[tokio::test]
async fn an_unanswered_request_fails_with_a_network_error_at_its_timeout() {
    let err = client(&stalled_broker()).use_session("trs_stalled").await.unwrap_err();
    match err {
        Error::Network(message) => assert_eq!(message, "the broker did not answer within 200 ms"),
        other => panic!("expected a network timeout, got {other:?}"),
    }
}

#[tokio::test]
async fn a_wait_on_an_unanswered_long_poll_ends_at_its_own_deadline() {
    // The long-poll's own budget is its slice plus 15 s of grace; the wait's deadline comes first.
    let accounts = client(&stalled_broker()).connected_accounts();
    let err = accounts.wait_for_connection("ca_stalled", Duration::from_millis(300)).await.unwrap_err();
    assert!(matches!(&err, Error::ConnectionRequestTimeout { id, .. } if id == "ca_stalled"), "{err:?}");
}
