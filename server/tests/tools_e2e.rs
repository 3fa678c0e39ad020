//! The in-chat story against a real OAuth provider (npm `oidc-provider`, whose userinfo
//! endpoint is the "API"): an agent tries a tool, gets a Connect Link from
//! COMPOSIO_MANAGE_CONNECTIONS, the user signs in, and the retry returns the user's profile.
//! Then token refresh: one refresh for concurrent calls, and a refused refresh ends the account.

mod common;

use std::time::Duration;

use common::oidc::{sign_in, stored_access_token, world_with};
use common::Browser;
use grantline_core::model::{
    AccountStatus, ProxyParamIn, ProxyParameter, ProxyRequest, SearchRequest, MANAGE_CONNECTIONS, MULTI_EXECUTE_TOOL,
    SEARCH_TOOLS, WAIT_FOR_CONNECTIONS,
};
use grantline_core::{Error, SessionOptions};
use serde_json::{json, Map, Value};

fn args(v: Value) -> Map<String, Value> {
    v.as_object().expect("an object").clone()
}

fn chat_session() -> SessionOptions {
    SessionOptions { toolkits: vec!["oidc".into()], wait_for_connections: Some(true), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_agent_gets_a_connect_link_in_chat_and_its_retry_reads_the_users_profile() {
    let w = world_with(&[], chat_session()).await;
    let s = &w.session;

    // The agent looks for a tool that fits the user's request.
    let found = s.execute_meta(SEARCH_TOOLS, args(json!({"queries": [{"use_case": "who am I: my profile and email"}]}))).await.unwrap();
    assert_eq!(found.data["results"][0]["primary_tool_slugs"], json!(["OIDC_GET_CURRENT_USER"]), "{}", found.data);
    assert_eq!(found.data["toolkit_connection_statuses"][0]["toolkit"], "oidc", "{}", found.data);
    assert_eq!(found.data["toolkit_connection_statuses"][0]["has_active_connection"], false);
    assert_eq!(found.data["tool_schemas"]["OIDC_GET_CURRENT_USER"]["input_schema"]["type"], "object");

    // It tries the tool: not connected, and the answer says what to call.
    let first = s.execute("OIDC_GET_CURRENT_USER", Map::new(), None).await.unwrap();
    assert!(!first.successful);
    assert_eq!(first.data["status"], "not_connected");
    assert_eq!(first.data["next_step"]["tool"], MANAGE_CONNECTIONS);
    assert!(first.error.as_deref().unwrap().contains(MANAGE_CONNECTIONS), "{:?}", first.error);

    // It calls the meta tool with those arguments and shows the link in chat.
    let next = args(first.data["next_step"]["arguments"].clone());
    let managed = s.execute_meta(MANAGE_CONNECTIONS, next).await.unwrap();
    let oidc = &managed.data["results"]["oidc"];
    assert_eq!(oidc["status"], "initiated", "{}", managed.data);
    let link = oidc["redirect_url"].as_str().unwrap().to_string();
    assert!(oidc["instruction"].as_str().unwrap().contains(&link));

    // While the user signs in, the agent waits with the wait tool.
    let waiting = tokio::spawn({
        let s = s.clone();
        async move { s.execute_meta(WAIT_FOR_CONNECTIONS, args(json!({"toolkits": ["oidc"], "timeout_seconds": 60}))).await }
    });
    sign_in(&Browser::new(), &link, "alice", "/confirm").await;
    let waited = waiting.await.unwrap().unwrap();
    assert_eq!(waited.data["results"]["oidc"]["status"], "active", "{}", waited.data);

    // The retry, as Composio-shaped agents do it, returns the user's own profile.
    let retried = s
        .execute_meta(MULTI_EXECUTE_TOOL, args(json!({"tools": [{"tool_slug": "OIDC_GET_CURRENT_USER", "arguments": {}}], "thought": "retry"})))
        .await
        .unwrap();
    let result = &retried.data["results"][0];
    assert_eq!(result["successful"], true, "{}", retried.data);
    assert_eq!(result["data"]["sub"], "alice");
    assert_eq!(result["data"]["email"], "alice@example.test");

    // The same call through the REST execute and through the proxy.
    let direct = s.execute("oidc_get_current_user", Map::new(), None).await.unwrap();
    assert!(direct.successful && direct.error.is_none());
    assert_eq!(direct.data["sub"], "alice");
    let proxied = s
        .proxy_execute(&ProxyRequest {
            endpoint: "/me".into(),
            method: "GET".into(),
            toolkit: Some("oidc".into()),
            connected_account_id: None,
            body: None,
            parameters: vec![ProxyParameter { name: "x-trace".into(), value: "1".into(), location: ProxyParamIn::Header }],
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(proxied.status, 200);
    assert_eq!(proxied.data["sub"], "alice");

    // Search now says the toolkit is connected.
    let hits = s.search(&SearchRequest::use_case("current user profile", vec![], Some(3))).await.unwrap();
    assert_eq!(hits[0].slug, "OIDC_GET_CURRENT_USER");
    assert!(hits[0].is_connected);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_tool_calls_name_the_field_and_credentials_never_leave_the_providers_host() {
    let w = world_with(&[], chat_session()).await;
    let s = &w.session;
    let code = |e: Error| (e.code().to_string(), e.to_string());

    let (c, m) = code(s.execute("OIDC_NOPE", Map::new(), None).await.unwrap_err());
    assert_eq!(c, "NOT_FOUND", "{m}");
    let (c, m) = code(s.execute("OIDC_GET_CURRENT_USER", args(json!({"colour": "red"})), None).await.unwrap_err());
    assert!(c == "VALIDATION" && m.contains("arguments.colour"), "{m}");
    let (c, m) = code(s.execute("GITHUB_GET_THE_AUTHENTICATED_USER", Map::new(), None).await.unwrap_err());
    assert!(c == "VALIDATION" && m.contains("not enabled"), "a tool outside the session's toolkits: {m}");
    let (c, m) = code(s.execute_meta(MULTI_EXECUTE_TOOL, args(json!({"tools": []}))).await.unwrap_err());
    assert!(c == "VALIDATION" && m.contains("arguments.tools"), "{m}");
    let (c, m) = code(s.execute_meta(SEARCH_TOOLS, args(json!({"queries": [{"use_case": "x"}], "limit": 3}))).await.unwrap_err());
    assert!(c == "VALIDATION" && m.contains("arguments.limit"), "{m}");

    // Connect, then try to send the user's token to another host.
    let managed = s.execute_meta(MANAGE_CONNECTIONS, args(json!({"toolkits": ["oidc"]}))).await.unwrap();
    sign_in(&Browser::new(), managed.data["results"]["oidc"]["redirect_url"].as_str().unwrap(), "alice", "/confirm").await;
    let elsewhere = ProxyRequest {
        endpoint: "http://127.0.0.2:9/steal".into(),
        method: "GET".into(),
        toolkit: Some("oidc".into()),
        connected_account_id: None,
        body: None,
        parameters: vec![],
        ..Default::default()
    };
    let (c, m) = code(s.proxy_execute(&elsewhere).await.unwrap_err());
    assert!(c == "VALIDATION" && m.contains("endpoint"), "{m}");
    let header = ProxyRequest {
        endpoint: "/me".into(),
        parameters: vec![ProxyParameter { name: "Authorization".into(), value: "Bearer x".into(), location: ProxyParamIn::Header }],
        ..elsewhere
    };
    let (c, m) = code(s.proxy_execute(&header).await.unwrap_err());
    assert!(c == "VALIDATION" && m.contains("parameters[0].name"), "{m}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_manage_connections_the_tool_is_gone_and_the_agent_is_told_to_ask_the_app() {
    let opts = SessionOptions { toolkits: vec!["oidc".into()], manage_connections: Some(false), ..Default::default() };
    let w = world_with(&[], opts).await;
    let s = &w.session;
    let slugs: Vec<String> = s.tools().await.unwrap().into_iter().map(|t| t.slug).collect();
    assert!(!slugs.contains(&MANAGE_CONNECTIONS.to_string()), "{slugs:?}");
    assert!(slugs.contains(&SEARCH_TOOLS.to_string()) && slugs.contains(&MULTI_EXECUTE_TOOL.to_string()));
    assert!(!slugs.contains(&WAIT_FOR_CONNECTIONS.to_string()), "off unless asked for");
    assert!(!s.info().tool_router_tools.contains(&MANAGE_CONNECTIONS.to_string()));

    match s.execute_meta(MANAGE_CONNECTIONS, args(json!({"toolkits": ["oidc"]}))).await {
        Err(Error::Validation { field, message }) => {
            assert_eq!(field, "slug");
            assert!(message.contains("manage_connections: false"), "{message}");
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    let r = s.execute("OIDC_GET_CURRENT_USER", Map::new(), None).await.unwrap();
    assert!(!r.successful);
    assert_eq!(r.data["next_step"], Value::Null);
    assert!(r.error.unwrap().contains("Ask the user to connect"));
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_calls_after_expiry_refresh_once_and_a_refused_refresh_ends_the_account() {
    let w = world_with(&[("ACCESS_TOKEN_TTL", "2")], chat_session()).await;
    let s = &w.session;
    let managed = s.execute_meta(MANAGE_CONNECTIONS, args(json!({"toolkits": ["oidc"]}))).await.unwrap();
    let account_id = managed.data["results"]["oidc"]["connected_account_id"].as_str().unwrap().to_string();
    sign_in(&Browser::new(), managed.data["results"]["oidc"]["redirect_url"].as_str().unwrap(), "alice", "/confirm").await;
    assert_eq!(w.provider.token_requests().await, 1, "the code exchange");
    let first_token = stored_access_token(&w.broker, &account_id).await;

    // The two-second token expires; two calls arrive together.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (a, b) = tokio::join!(
        s.execute("OIDC_GET_CURRENT_USER", Map::new(), None),
        s.execute("OIDC_GET_CURRENT_USER", Map::new(), None)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.successful && b.successful, "{a:?} {b:?}");
    assert_eq!(a.data["sub"], "alice");
    assert_eq!(w.provider.token_requests().await, 2, "exactly one refresh for both calls");
    let refreshed = stored_access_token(&w.broker, &account_id).await;
    assert_ne!(refreshed, first_token, "the refreshed token is stored");
    let db = w.broker.db_bytes();
    assert!(!db.windows(refreshed.len()).any(|win| win == refreshed.as_bytes()), "the refreshed token is sealed");

    // Later the provider refuses the refresh token: the account ends, with the reason.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    w.provider.fail_token_endpoint(400).await;
    let r = s.execute("OIDC_GET_CURRENT_USER", Map::new(), None).await.unwrap();
    assert!(!r.successful);
    assert_eq!(r.data["status"], "connection_expired", "{}", r.data);
    assert_eq!(r.data["next_step"]["tool"], MANAGE_CONNECTIONS);
    let account = w.broker.client().connected_accounts().get(&account_id).await.unwrap();
    assert_eq!(account.status, AccountStatus::Expired);
    let reason = account.status_reason.unwrap_or_default();
    assert!(reason.contains("token refresh failed") && reason.contains("invalid_grant"), "{reason}");

    // The operator sees it in /metrics: one refresh done, one refused; the tool runs by outcome.
    let metrics = w.broker.http().get(w.broker.url("/metrics")).send().await.unwrap().text().await.unwrap();
    for line in [
        r#"grantline_token_refreshes_total{toolkit="oidc",outcome="ok"} 1"#,
        r#"grantline_token_refreshes_total{toolkit="oidc",outcome="refused"} 1"#,
        r#"grantline_tool_executions_total{toolkit="oidc",outcome="ok"} 2"#,
        r#"grantline_tool_executions_total{toolkit="oidc",outcome="connection_expired"} 1"#,
        r#"grantline_provider_request_seconds_count{toolkit="oidc"} 3"#,
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line} not in:\n{metrics}");
    }

    // The agent reconnects in chat: a fresh link, not the dead account.
    w.provider.fail_token_endpoint(0).await;
    let again = s.execute_meta(MANAGE_CONNECTIONS, args(json!({"toolkits": ["oidc"]}))).await.unwrap();
    assert_eq!(again.data["results"]["oidc"]["status"], "initiated");
    assert_ne!(again.data["results"]["oidc"]["connected_account_id"], account_id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_mcp_endpoint_needs_the_api_key_and_a_real_session() {
    let w = world_with(&[], chat_session()).await;
    let url = w.session.mcp().url.clone();
    assert!(url.ends_with(&format!("/tool_router/{}/mcp", w.session.session_id())));
    let init = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}});
    let post = |client: reqwest::Client, url: String| {
        let init = init.clone();
        async move {
            client.post(url).header("accept", "application/json, text/event-stream").json(&init).send().await.unwrap()
        }
    };
    let anonymous = post(reqwest::Client::new(), url.clone()).await;
    assert_eq!(anonymous.status().as_u16(), 401);
    let other = post(w.broker.http(), url.replace(w.session.session_id(), "trs_doesnotexist")).await;
    assert_eq!(other.status().as_u16(), 404);
    let ok = post(w.broker.http(), url).await;
    assert_eq!(ok.status().as_u16(), 200);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["result"]["serverInfo"]["name"], "grantline", "{body}");
}

/// One JSON-RPC request to the session's MCP endpoint (stateless: each stands alone).
async fn mcp_call(w: &common::oidc::World, id: u64, method: &str, params: Value) -> Value {
    let resp = w
        .broker
        .http()
        .post(&w.session.mcp().url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .json(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200, "{method}");
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn direct_tools_are_listed_beside_the_meta_tools_and_called_over_mcp() {
    let opts = SessionOptions { toolkits: vec!["oidc".into()], direct_tools: vec!["oidc_get_current_user".into()], ..Default::default() };
    let w = world_with(&[], opts).await;
    assert!(w.session.info().tool_router_tools.contains(&"OIDC_GET_CURRENT_USER".to_string()));
    let listed: Vec<String> = w.session.tools().await.unwrap().into_iter().map(|t| t.slug).collect();
    assert_eq!(listed.last().map(String::as_str), Some("OIDC_GET_CURRENT_USER"), "{listed:?}");

    let init = json!({"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}});
    mcp_call(&w, 1, "initialize", init).await;
    let tools = mcp_call(&w, 2, "tools/list", json!({})).await;
    let names: Vec<&str> = tools["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"OIDC_GET_CURRENT_USER") && names.contains(&MANAGE_CONNECTIONS), "{tools}");

    // Not connected: an error result the model reads, naming the next step.
    let first = mcp_call(&w, 3, "tools/call", json!({"name": "OIDC_GET_CURRENT_USER", "arguments": {}})).await;
    assert_eq!(first["result"]["isError"], true, "{first}");
    assert!(first["result"]["content"][0]["text"].as_str().unwrap().contains(MANAGE_CONNECTIONS));

    let managed = mcp_call(&w, 4, "tools/call", json!({"name": MANAGE_CONNECTIONS, "arguments": {"toolkits": ["oidc"]}})).await;
    let out: Value = serde_json::from_str(managed["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    sign_in(&Browser::new(), out["results"]["oidc"]["redirect_url"].as_str().unwrap(), "alice", "/confirm").await;

    let again = mcp_call(&w, 5, "tools/call", json!({"name": "OIDC_GET_CURRENT_USER", "arguments": {}})).await;
    assert_ne!(again["result"]["isError"], true, "{again}");
    let out: Value = serde_json::from_str(again["result"]["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(out["data"]["sub"], "alice");

    // A direct tool must belong to a toolkit the session enables.
    let bad = w
        .broker
        .http()
        .post(w.broker.url("/api/v3.1/tool_router/session"))
        .json(&json!({"user_id": "alice", "toolkits": ["oidc"], "direct_tools": ["GITHUB_CREATE_AN_ISSUE"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"]["field"], "direct_tools[0]");
}
