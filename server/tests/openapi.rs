//! The OpenAPI document is generated from the routes (`utoipa-axum`), served as is, and
//! committed as `server/src/openapi.json` for reviewers: the committed file must equal it.
//!
//! After changing a route or a wire type, re-bless the file with
//! `GRANTLINE_BLESS=1 cargo test -p grantline-server --test openapi`.

mod common;

use common::{Broker, BrokerOptions};

const COMMITTED: &str = "src/openapi.json";

#[test]
fn the_committed_document_is_the_generated_one() {
    let generated = grantline_server::openapi_document();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMMITTED);
    if std::env::var_os("GRANTLINE_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "server/{COMMITTED} is stale: run `GRANTLINE_BLESS=1 cargo test -p grantline-server --test openapi` and commit it"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_broker_serves_the_generated_document_and_every_path_answers() {
    let broker = Broker::start(BrokerOptions { dev: false, ..Default::default() });
    let served = reqwest::get(broker.url("/openapi.json")).await.unwrap().text().await.unwrap();
    assert_eq!(served, grantline_server::openapi_document());
    let doc: serde_json::Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    assert!(paths.len() >= 20);
    // Every documented API path is routed (401 without a key, not 404).
    for p in paths.keys().filter(|p| p.starts_with("/api/")) {
        let concrete = p.replace("{id}", "trs_x").replace("{token_id}", "ct_x");
        let status = reqwest::get(broker.url(&concrete)).await.unwrap().status().as_u16();
        assert_ne!(status, 404, "{p}");
    }
    // An undocumented method is refused with the methods that are documented.
    let client = reqwest::Client::new();
    let trace = client.request(reqwest::Method::TRACE, broker.url("/tool_router/trs_x/mcp")).send().await.unwrap();
    assert_eq!(trace.status().as_u16(), 405);
    assert_eq!(trace.headers()["allow"], "POST");
}
