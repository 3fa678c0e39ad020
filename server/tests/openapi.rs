//! The served OpenAPI document describes every route the broker serves.

mod common;

use common::{Broker, BrokerOptions};

#[tokio::test(flavor = "multi_thread")]
async fn openapi_document_names_every_api_route() {
    let broker = Broker::start(BrokerOptions { dev: false, ..Default::default() });
    let doc: serde_json::Value = reqwest::get(broker.url("/openapi.json")).await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    let routes = include_str!("../src/routes/mod.rs");
    let mut seen = 0;
    for line in routes.lines().filter(|l| l.trim_start().starts_with(".route(\"")) {
        let path = line.split('"').nth(1).unwrap();
        let full = if path.starts_with("/tool_router/session") || path.starts_with("/connected_accounts") || path.starts_with("/auth_configs") || path.starts_with("/client_token") {
            format!("/api/v3.1{path}")
        } else {
            path.to_string()
        };
        assert!(paths.contains_key(&full), "{full} is served but not in /openapi.json");
        seen += 1;
    }
    assert!(seen >= 12);
    // Every documented API path answers (401 without a key, not 404).
    for p in paths.keys().filter(|p| p.starts_with("/api/")) {
        let concrete = p.replace("{id}", "trs_x").replace("{token_id}", "ct_x");
        let status = reqwest::get(broker.url(&concrete)).await.unwrap().status().as_u16();
        assert_ne!(status, 404, "{p}");
    }
}
