//! The browser's credential: an app backend mints a client token for one session, and a page
//! uses it there and for nothing else (the Rust client in client-token mode, as the browser
//! package uses it). CORS answers only the project's allowed origins, only on those endpoints.
//! A page connecting its user, and revoked or expired tokens, are shared stories
//! (tests/scenarios/stories.json, run by scenarios.rs).

mod common;

use std::time::Duration;

use common::{Broker, BrokerOptions, WIDGET_ORIGIN};
use grantline_core::model::AccountStatus;
use grantline_core::{AuthorizeOptions, Client, ClientConfig, Error, SessionOptions};

fn sandbox_only() -> SessionOptions {
    SessionOptions { toolkits: vec!["sandbox".into()], manage_connections: Some(false), ..Default::default() }
}

fn browser_client(broker: &Broker, token: &str) -> Client {
    Client::new(ClientConfig::with_client_token(&broker.base_url, token)).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_token_reaches_its_own_session_and_nothing_else() {
    let broker = Broker::start(BrokerOptions::default());
    let backend = broker.client();
    let mine = backend.create("alice", sandbox_only()).await.unwrap();
    let theirs = backend.create("bob", sandbox_only()).await.unwrap();
    let bobs_account = theirs.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let token = mine.client_token(Some(600)).await.unwrap().token;
    let page = browser_client(&broker, &token);

    let forbidden = |r: Result<_, Error>, what: &str| match r {
        Err(Error::Forbidden(_)) => {}
        other => panic!("{what}: expected Forbidden, got {other:?}"),
    };
    forbidden(page.use_session(theirs.session_id()).await.map(drop), "another session");
    forbidden(page.connected_accounts().get(bobs_account.id()).await.map(drop), "another user's account");
    forbidden(page.connected_accounts().wait_for_connection(bobs_account.id(), Duration::from_secs(1)).await.map(drop), "waiting on it");
    forbidden(page.create("mallory", sandbox_only()).await.map(drop), "creating a session");
    forbidden(page.connected_accounts().list(&Default::default(), None, None).await.map(drop), "listing accounts");
    forbidden(page.connected_accounts().delete(bobs_account.id()).await, "deleting an account");
    let own = page.use_session(mine.session_id()).await.unwrap();
    forbidden(own.client_token(None).await.map(drop), "minting more tokens");
    forbidden(own.tools().await.map(drop), "listing tools");
    // Bob's link is untouched.
    assert_eq!(backend.connected_accounts().get(bobs_account.id()).await.unwrap().status, AccountStatus::Initiated);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_token_requests_name_the_field_and_mint_nothing() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("user_bad", sandbox_only()).await.unwrap();
    let url = broker.url(&format!("/api/v3.1/tool_router/session/{}/client_token", session.session_id()));
    for (body, field) in [
        (r#"{"ttl_seconds": 0}"#, "ttl_seconds"),
        (r#"{"ttl_seconds": 86401}"#, "ttl_seconds"),
        (r#"{"ttl_seconds": "soon"}"#, "ttl_seconds"),
        (r#"{"ttl": 60}"#, "ttl"),
    ] {
        let resp = broker.http().post(&url).header("content-type", "application/json").body(body).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{body}");
        let err: serde_json::Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
    }
    assert_eq!(stored_token_ids(&broker), 0, "a refused request must not store a token");
    // An empty body takes the defaults: 15 minutes.
    let resp = broker.http().post(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    assert_eq!(stored_token_ids(&broker), 1);
}

/// How many client token ids (`ct_` and 20 letters or digits) the database file holds.
fn stored_token_ids(broker: &Broker) -> usize {
    let db = broker.db_bytes();
    let mut seen = std::collections::BTreeSet::new();
    for (i, w) in db.windows(3).enumerate() {
        if w == b"ct_" && (i == 0 || !db[i - 1].is_ascii_alphanumeric()) {
            let id: Vec<u8> = db[i + 3..].iter().take(20).take_while(|b| b.is_ascii_alphanumeric()).copied().collect();
            if id.len() == 20 {
                seen.insert(id);
            }
        }
    }
    seen.len()
}

#[tokio::test(flavor = "multi_thread")]
async fn cors_answers_allowed_origins_on_client_endpoints_only() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("user_cors", sandbox_only()).await.unwrap();
    let token = session.client_token(None).await.unwrap().token;
    let http = reqwest::Client::new();
    let link = broker.url(&format!("/api/v3.1/tool_router/session/{}/link", session.session_id()));
    let preflight = |url: String, origin: &'static str, method: &'static str| {
        http.request(reqwest::Method::OPTIONS, url)
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "authorization,content-type")
            .send()
    };

    let ok = preflight(link.clone(), WIDGET_ORIGIN, "POST").await.unwrap();
    assert_eq!(ok.status().as_u16(), 204);
    assert_eq!(ok.headers()["access-control-allow-origin"], WIDGET_ORIGIN);
    let allowed_headers = ok.headers()["access-control-allow-headers"].to_str().unwrap().to_string();
    assert!(allowed_headers.contains("authorization"));
    assert!(!allowed_headers.contains("x-api-key"), "a page must not be able to send the API key");

    let evil = preflight(link.clone(), "https://evil.example.com", "POST").await.unwrap();
    assert!(evil.headers().get("access-control-allow-origin").is_none());

    // Backend-only endpoints never answer CORS, whatever the origin.
    let backend_only = preflight(broker.url("/api/v3.1/tool_router/session"), WIDGET_ORIGIN, "POST").await.unwrap();
    assert!(backend_only.headers().get("access-control-allow-origin").is_none());

    // The real request carries the header back for an allowed origin…
    let toolkits = broker.url(&format!("/api/v3.1/tool_router/session/{}/toolkits", session.session_id()));
    let resp = http.get(&toolkits).bearer_auth(&token).header("origin", WIDGET_ORIGIN).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["access-control-allow-origin"], WIDGET_ORIGIN);
    // …and the broker itself refuses a token used from an origin the project does not allow.
    let resp = http.get(&toolkits).bearer_auth(&token).header("origin", "https://evil.example.com").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 403);
    assert!(resp.headers().get("access-control-allow-origin").is_none());
}
