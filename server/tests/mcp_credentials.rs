//! The session-scoped MCP credential: an app mints one for a session and hands the MCP client the
//! session's URL and `Authorization: Bearer glmcp_…`, never the API key. The credential lists and
//! calls that session's tools as its user, and is refused everywhere else: another session's MCP
//! URL, every REST endpoint, minting. It ends when it expires, is revoked, or the API key that
//! minted it is revoked; it is stored hashed and never listed with its secret.

mod common;

use std::time::Duration;

use common::oidc::{sign_in, world_with};
use common::{Broker, BrokerOptions, Browser};
use grantline_core::model::{AccountStatus, McpCredentialRequest, MANAGE_CONNECTIONS};
use grantline_core::{Client, ClientConfig, Session, SessionOptions};
use serde_json::{json, Value};

const MCP_ONLY: &str = "only works on its own session's MCP endpoint";

fn chat() -> SessionOptions {
    SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() }
}

/// What an MCP client does: one JSON-RPC request with only the headers it was given.
async fn mcp(url: &str, headers: &[(&str, &str)], method: &str, params: Value) -> (u16, Value) {
    let mut req = reqwest::Client::new()
        .post(url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}));
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

async fn list_tools(url: &str, secret: &str) -> (u16, Value) {
    mcp(url, &[("authorization", &format!("Bearer {secret}"))], "tools/list", json!({})).await
}

fn tool_names(answer: &Value) -> Vec<String> {
    answer["result"]["tools"].as_array().unwrap_or(&vec![]).iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
}

fn message(answer: &Value) -> String {
    answer["error"]["message"].as_str().unwrap_or_default().to_string()
}

async fn mint(session: &Session, ttl_seconds: Option<u64>) -> grantline_core::model::McpCredential {
    session.create_mcp_credential(McpCredentialRequest { ttl_seconds, name: Some("Cursor".into()) }).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_mcp_client_with_the_session_credential_connects_the_sessions_user_without_the_api_key() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("alice", chat()).await.unwrap();

    // What the SDK hands to the MCP client: the URL and one header, not the API key.
    let headers = session.mcp_headers().await.unwrap();
    assert_eq!(headers.keys().collect::<Vec<_>>(), ["Authorization"], "{:?}", headers.keys());
    let auth = headers["Authorization"].clone();
    assert!(auth.starts_with("Bearer glmcp_"));
    assert!(!auth.contains(&broker.api_key));
    assert_eq!(session.mcp_headers().await.unwrap()["Authorization"], auth, "minted once, then kept");
    assert_eq!(session.mcp_credentials().await.unwrap().len(), 1);

    let url = session.mcp().url.clone();
    let init = json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
    let (status, hello) = mcp(&url, &[("authorization", &auth)], "initialize", init).await;
    assert_eq!(status, 200, "{hello}");
    assert_eq!(hello["result"]["serverInfo"]["name"], "grantline");
    let (status, tools) = mcp(&url, &[("authorization", &auth)], "tools/list", json!({})).await;
    assert_eq!(status, 200, "{tools}");
    assert!(tool_names(&tools).contains(&MANAGE_CONNECTIONS.to_string()), "{tools}");

    // The agent connects the sandbox in chat: the account is the session's user's.
    let args = json!({"name": MANAGE_CONNECTIONS, "arguments": {"toolkits": ["sandbox"]}});
    let (status, called) = mcp(&url, &[("authorization", &auth)], "tools/call", args).await;
    assert_eq!(status, 200, "{called}");
    let out: Value = serde_json::from_str(called["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    let link = &out["results"]["sandbox"];
    assert_eq!(link["status"], "initiated", "{out}");
    Browser::new().sandbox_consent(link["redirect_url"].as_str().unwrap(), true).await;
    let account = broker.client().connected_accounts().get(link["connected_account_id"].as_str().unwrap()).await.unwrap();
    assert_eq!((account.status, account.user_id.as_str()), (AccountStatus::Active, "alice"));

    let listed = session.mcp_credentials().await.unwrap();
    assert!(listed[0].last_used_at.is_some(), "its use is recorded: {listed:?}");
    // The meta tool it ran is in the execution logs, as the session's user's.
    let logs: Value = broker.http().get(broker.url("/api/v3.1/logs?user_id=alice")).send().await.unwrap().json().await.unwrap();
    let slugs: Vec<&str> = logs["items"].as_array().unwrap().iter().filter_map(|l| l["tool_slug"].as_str()).collect();
    assert!(slugs.contains(&MANAGE_CONNECTIONS), "{logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_credential_is_refused_on_another_sessions_mcp_url_and_on_every_rest_endpoint() {
    let broker = Broker::start(BrokerOptions::default());
    let backend = broker.client();
    let mine = backend.create("alice", chat()).await.unwrap();
    let theirs = backend.create("bob", chat()).await.unwrap();
    let secret = mint(&mine, None).await.secret;

    let (status, body) = list_tools(&theirs.mcp().url, &secret).await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("belongs to another session"), "{body}");
    let (status, _) = list_tools(&mine.mcp().url.replace(mine.session_id(), "trs_doesnotexist"), &secret).await;
    assert_eq!(status, 403, "a made-up session is another session too");

    // Every kind of REST endpoint, with the credential as a bearer and as an API key.
    let session_path = format!("/api/v3.1/tool_router/session/{}", mine.session_id());
    let endpoints = [
        ("GET", session_path.clone()),
        ("POST", format!("{session_path}/link")),
        ("GET", format!("{session_path}/tools")),
        ("POST", format!("{session_path}/execute")),
        ("POST", format!("{session_path}/mcp_credentials")),
        ("GET", format!("{session_path}/mcp_credentials")),
        ("DELETE", format!("{session_path}/mcp_credentials/mcpc_whatever")),
        ("GET", "/api/v3.1/client_token/session".to_string()),
        ("GET", "/api/v3.1/connected_accounts".to_string()),
        ("POST", "/api/v3.1/tool_router/session".to_string()),
    ];
    let http = reqwest::Client::new();
    for (method, path) in &endpoints {
        for (header, value) in [("authorization", format!("Bearer {secret}")), ("x-api-key", secret.clone())] {
            let req = http.request(method.parse().unwrap(), broker.url(path)).header(header, &value);
            let req = if *method == "POST" { req.json(&json!({"toolkit": "sandbox", "user_id": "mallory"})) } else { req };
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap();
            assert_eq!(status, 403, "{method} {path} with {header}: {body}");
            assert!(message(&body).contains(MCP_ONLY), "{method} {path} with {header}: {body}");
        }
    }
    let mallory = grantline_core::model::AccountFilter { user_ids: vec!["mallory".into()], ..Default::default() };
    assert_eq!(backend.connected_accounts().list(&mallory, None, None).await.unwrap().items.len(), 0, "nothing was created");
    assert_eq!(backend.connected_accounts().list(&Default::default(), None, None).await.unwrap().items.len(), 0, "no link was started");

    // The MCP endpoint takes the credential as a bearer only, and takes no client token.
    let (status, body) = mcp(&mine.mcp().url, &[("x-api-key", &secret)], "tools/list", json!({})).await;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("Authorization: Bearer"), "{body}");
    let client_token = mine.client_token(None).await.unwrap().token;
    let (status, body) = list_tools(&mine.mcp().url, &client_token).await;
    assert_eq!(status, 403, "{body}");
    assert!(message(&body).contains("client token"), "{body}");
    let (status, _) = list_tools(&mine.mcp().url, "glmcp_madeup").await;
    assert_eq!(status, 401);
    let (status, _) = mcp(&mine.mcp().url, &[], "tools/list", json!({})).await;
    assert_eq!(status, 401);

    // A client token cannot mint, list or revoke MCP credentials either.
    let page = Client::new(ClientConfig::with_client_token(&broker.base_url, &client_token)).unwrap();
    let revoke = format!("{session_path}/mcp_credentials/{}", mine.mcp_credentials().await.unwrap()[0].id);
    for (method, path) in [("POST", format!("{session_path}/mcp_credentials")), ("GET", format!("{session_path}/mcp_credentials")), ("DELETE", revoke)] {
        let resp = http.request(method.parse().unwrap(), broker.url(&path)).bearer_auth(&client_token).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 403, "{method} {path}");
        let body: Value = resp.json().await.unwrap();
        assert!(message(&body).contains("client token"), "{body}");
    }
    drop(page);
    let left = mine.mcp_credentials().await.unwrap();
    assert_eq!((left.len(), left[0].status.as_str()), (1, "ACTIVE"), "nothing was minted or revoked");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_or_revoked_credential_is_refused_and_listings_never_show_a_secret() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("alice", chat()).await.unwrap();
    let url = session.mcp().url.clone();
    let short = mint(&session, Some(1)).await;
    let revoked = mint(&session, None).await;
    let live = mint(&session, None).await;
    for c in [&short, &revoked, &live] {
        assert_eq!(list_tools(&url, &c.secret).await.0, 200, "works at first");
    }
    assert!(!format!("{live:?}").contains(&live.secret), "Debug must not print the secret");

    session.revoke_mcp_credential(&revoked.id).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let (status, body) = list_tools(&url, &short.secret).await;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("expired"), "{body}");
    let (status, body) = list_tools(&url, &revoked.secret).await;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("revoked"), "{body}");
    assert_eq!(list_tools(&url, &live.secret).await.0, 200, "the others live on");

    let again = session.revoke_mcp_credential(&revoked.id).await.unwrap_err();
    assert_eq!(again.code(), "NOT_FOUND", "{again:?}");

    let raw = broker
        .http()
        .get(broker.url(&format!("/api/v3.1/tool_router/session/{}/mcp_credentials", session.session_id())))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    for c in [&short, &revoked, &live] {
        assert!(!raw.contains(&c.secret), "a listing never shows a secret: {raw}");
    }
    assert!(!raw.contains("glmcp_") && !raw.contains("\"secret\""), "{raw}");
    let listed: Value = serde_json::from_str(&raw).unwrap();
    // Minted within one millisecond, so compared by id rather than by order.
    let statuses: std::collections::BTreeMap<&str, (&str, &str)> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), (i["status"].as_str().unwrap(), i["name"].as_str().unwrap())))
        .collect();
    let expected = [(live.id.as_str(), ("ACTIVE", "Cursor")), (revoked.id.as_str(), ("REVOKED", "Cursor")), (short.id.as_str(), ("EXPIRED", "Cursor"))];
    assert_eq!(statuses, expected.into_iter().collect());
}

#[tokio::test(flavor = "multi_thread")]
async fn revoking_the_api_key_that_minted_a_credential_ends_it() {
    let broker = Broker::start(BrokerOptions::default());
    let made = broker.keys(&["create", "--name", "leaky"]);
    let (leaky_id, leaky_secret) = made.trim().split_once('\t').unwrap();
    let leaky = Client::new(ClientConfig::with_api_key(&broker.base_url, leaky_secret)).unwrap();
    let by_leaky_session = leaky.create("u1", chat()).await.unwrap();
    let by_leaky = mint(&by_leaky_session, None).await;
    let by_kept_session = broker.client().create("u2", chat()).await.unwrap();
    let by_kept = mint(&by_kept_session, None).await;
    assert_eq!(list_tools(&by_leaky_session.mcp().url, &by_leaky.secret).await.0, 200);

    broker.keys(&["revoke", leaky_id]);

    let (status, body) = list_tools(&by_leaky_session.mcp().url, &by_leaky.secret).await;
    assert_eq!(status, 401, "{body}");
    assert!(message(&body).contains("revoked"), "{body}");
    assert_eq!(list_tools(&by_kept_session.mcp().url, &by_kept.secret).await.0, 200, "another key's credential lives on");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_mint_names_the_field_and_mints_nothing_and_secrets_are_stored_hashed() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("alice", chat()).await.unwrap();
    let url = broker.url(&format!("/api/v3.1/tool_router/session/{}/mcp_credentials", session.session_id()));
    for (body, field) in [
        (json!({"ttl_seconds": 0}), "ttl_seconds"),
        (json!({"ttl_seconds": 31_536_001}), "ttl_seconds"),
        (json!({"ttl_seconds": "a day"}), "ttl_seconds"),
        (json!({"ttl_seconds": 1.5}), "ttl_seconds"),
        (json!({"scope": "everything"}), "scope"),
        (json!({"name": "x".repeat(101)}), "name"),
    ] {
        let resp = broker.http().post(&url).json(&body).send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 400, "{body}");
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(answer["error"]["field"], field, "{body}: {answer}");
    }
    assert!(session.mcp_credentials().await.unwrap().is_empty(), "nothing was minted");

    // An empty body means the defaults: 30 days.
    let resp = broker.http().post(&url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 201);
    let minted: Value = resp.json().await.unwrap();
    let secret = minted["secret"].as_str().unwrap();
    assert_eq!(minted["mcp"]["url"], session.mcp().url.as_str());
    assert_eq!(minted["mcp"]["headers"]["Authorization"], format!("Bearer {secret}"));
    let created = time_of(&minted["created_at"]);
    assert_eq!(time_of(&minted["expires_at"]) - created, 30 * 86_400);

    let db = broker.db_bytes();
    assert!(!db.windows(secret.len()).any(|w| w == secret.as_bytes()), "the secret must not be stored");
    assert!(!db.windows(6).any(|w| w == b"glmcp_"), "nor any secret of its kind");

    // Deleting the session deletes its credentials.
    let deleted = broker.http().delete(broker.url(&format!("/api/v3.1/tool_router/session/{}", session.session_id()))).send().await.unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
    let (status, body) = list_tools(&session.mcp().url, secret).await;
    assert_eq!(status, 401, "{body}");
}

/// The broker's RFC 3339 (`2026-12-07T18:00:00.000Z`) to unix seconds.
fn time_of(v: &Value) -> i64 {
    let s = v.as_str().unwrap();
    let n = |r: std::ops::Range<usize>| s[r].parse::<i64>().unwrap();
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    days * 86_400 + n(11..13) * 3_600 + n(14..16) * 60 + n(17..19)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_direct_tool_called_with_the_credential_runs_as_the_user_and_is_logged() {
    let opts = SessionOptions { toolkits: vec!["oidc".into()], direct_tools: vec!["OIDC_GET_CURRENT_USER".into()], ..Default::default() };
    let w = world_with(&[], opts).await;
    let url = w.session.mcp().url.clone();
    let auth = w.session.mcp_headers().await.unwrap()["Authorization"].clone();
    let call = |name: &'static str, arguments: Value| {
        let (url, auth) = (url.clone(), auth.clone());
        async move { mcp(&url, &[("authorization", &auth)], "tools/call", json!({"name": name, "arguments": arguments})).await }
    };
    let (_, managed) = call(MANAGE_CONNECTIONS, json!({"toolkits": ["oidc"]})).await;
    let out: Value = serde_json::from_str(managed["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    sign_in(&Browser::new(), out["results"]["oidc"]["redirect_url"].as_str().unwrap(), "alice", "/confirm").await;

    let (status, ran) = call("OIDC_GET_CURRENT_USER", json!({})).await;
    assert_eq!(status, 200);
    assert_ne!(ran["result"]["isError"], true, "{ran}");
    let out: Value = serde_json::from_str(ran["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(out["data"]["sub"], "alice");
    let log_id = out["log_id"].as_str().unwrap();
    let log: Value = w.broker.http().get(w.broker.url(&format!("/api/v3.1/logs/{log_id}"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(log["user_id"], "alice", "{log}");
    assert_eq!(log["session_id"], w.session.session_id(), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_busy_credential_is_rate_limited_on_its_own() {
    let broker = Broker::start(BrokerOptions { extra_args: vec!["--rate-limit-mcp-credential".into(), "1/h:2".into()], ..Default::default() });
    let session = broker.client().create("alice", chat()).await.unwrap();
    let (busy, calm) = (mint(&session, None).await, mint(&session, None).await);
    for _ in 0..2 {
        assert_eq!(list_tools(&session.mcp().url, &busy.secret).await.0, 200);
    }
    let resp = reqwest::Client::new()
        .post(&session.mcp().url)
        .bearer_auth(&busy.secret)
        .header("accept", "application/json, text/event-stream")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 429);
    assert!(resp.headers().get("retry-after").is_some());
    assert_eq!(list_tools(&session.mcp().url, &calm.secret).await.0, 200, "another credential has its own bucket");
}
