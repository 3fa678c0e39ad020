//! Sessions as Composio's SDKs shape them: the config they read, the settings they send
//! (implemented, refused naming the field, or documented no-ops), update with optimistic
//! concurrency, and delete.

mod common;

use common::{Broker, BrokerOptions};
use serde_json::{json, Value};

async fn send(broker: &Broker, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut rb = broker.http().request(method, broker.url(path));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

async fn create(broker: &Broker, body: Value) -> (u16, Value) {
    send(broker, reqwest::Method::POST, "/api/v3.1/tool_router/session", Some(body)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_answers_the_config_composios_sdks_read() {
    let broker = Broker::start(BrokerOptions::default());
    let (status, s) = create(&broker, json!({"user_id": "u", "toolkits": {"enable": ["sandbox"]}, "manage_connections": {"enable": true}})).await;
    assert_eq!(status, 201, "{s}");
    let c = &s["config"];
    assert_eq!(c["preload"], json!({"tools": []}));
    assert_eq!((c["search"]["enable"].as_bool(), c["execute"]["enable_multi_execute"].as_bool()), (Some(true), Some(true)));
    assert_eq!((c["instant"].as_bool(), c["workbench"]["enable"].as_bool()), (Some(false), Some(false)));
    assert_eq!(s["config_version"], 1);
    assert_eq!(s["mcp"]["type"], "http");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_direct_tools_preset_lists_toolkit_tools_and_no_search() {
    let broker = Broker::start(BrokerOptions::default());
    // What `session_preset="direct_tools"` sends.
    let (status, s) = create(
        &broker,
        json!({"user_id": "u", "toolkits": {"enable": ["sandbox"]}, "manage_connections": {"enable": false},
               "workbench": {"enable": false}, "preload": {"tools": "all"}, "search": {"enable": false},
               "execute": {"enable_multi_execute": false}}),
    )
    .await;
    assert_eq!(status, 201, "{s}");
    assert_eq!(s["tool_router_tools"], json!(["SANDBOX_GET_CURRENT_USER"]));
    assert_eq!(s["config"]["preload"]["tools"], "all");
    let id = s["session_id"].as_str().unwrap();
    let (_, tools) = send(&broker, reqwest::Method::GET, &format!("/api/v3.1/tool_router/session/{id}/tools"), None).await;
    let slugs: Vec<&str> = tools["items"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["SANDBOX_GET_CURRENT_USER"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn settings_asking_for_what_grantline_lacks_are_refused_naming_the_field() {
    let broker = Broker::start(BrokerOptions::default());
    let cases = [
        (json!({"toolkits": {"enable": ["sandbox"], "require_approval": ["sandbox"]}}), "toolkits.require_approval"),
        (json!({"tools": {"sandbox": {"enable": ["SANDBOX_GET_CURRENT_USER"]}}}), "tools"),
        (json!({"tags": ["readOnlyHint"]}), "tags"),
        (json!({"workbench": {"enable": true}}), "workbench.enable"),
        (json!({"multi_account": {"enable": true, "require_explicit_selection": true}}), "multi_account.require_explicit_selection"),
        (json!({"instant": {"return_instant_charge": true}}), "instant"),
        (json!({"experimental": {"custom_tools": [{"slug": "X"}]}}), "experimental.custom_tools"),
        (json!({"manage_connections": {"enable_connection_removal": true}}), "manage_connections.enable_connection_removal"),
        (json!({"toolkitz": ["sandbox"]}), "toolkitz"),
    ];
    for (extra, field) in cases {
        let mut body = json!({"user_id": "u"});
        body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        let (status, err) = create(&broker, body).await;
        assert_eq!((status, err["error"]["field"].as_str()), (400, Some(field)), "{err}");
    }
    // Knobs of things Grantline does not have are accepted and change nothing.
    let (status, s) = create(
        &broker,
        json!({"user_id": "u", "workbench": {"enable": false, "auto_offload_threshold": 1000}, "instant": false,
               "premium_usage": false, "experimental": {"assistive_prompt_config": {"user_timezone": "UTC"}}}),
    )
    .await;
    assert_eq!(status, 201, "{s}");
    let (_, list) = send(&broker, reqwest::Method::GET, "/api/v3.1/connected_accounts", None).await;
    assert_eq!(list["total_items"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_changes_what_it_names_and_a_stale_version_changes_nothing() {
    let broker = Broker::start(BrokerOptions::default());
    let (_, s) = create(&broker, json!({"user_id": "u", "toolkits": ["sandbox"]})).await;
    let path = format!("/api/v3.1/tool_router/session/{}", s["session_id"].as_str().unwrap());
    assert!(s["tool_router_tools"].as_array().unwrap().contains(&json!("COMPOSIO_MANAGE_CONNECTIONS")));

    let (status, u) = send(&broker, reqwest::Method::PATCH, &path, Some(json!({"manage_connections": false, "expected_config_version": 1}))).await;
    assert_eq!(status, 200, "{u}");
    assert_eq!(u["config_version"], 2);
    assert!(!u["tool_router_tools"].as_array().unwrap().contains(&json!("COMPOSIO_MANAGE_CONNECTIONS")));
    assert_eq!(u["config"]["toolkits"], json!({"enabled": ["sandbox"]}), "what the update did not name stays");

    let (status, err) = send(&broker, reqwest::Method::PATCH, &path, Some(json!({"manage_connections": true, "expected_config_version": 1}))).await;
    assert_eq!((status, err["error"]["slug"].as_str()), (409, Some("CONFLICT")));
    let (status, err) = send(&broker, reqwest::Method::PATCH, &path, Some(json!({"toolkits": ["nosuchkit"]}))).await;
    assert_eq!(status, 404, "{err}");
    let (_, now) = send(&broker, reqwest::Method::GET, &path, None).await;
    assert_eq!((now["config_version"].as_u64(), now["config"]["manage_connections"]["enabled"].as_bool()), (Some(2), Some(false)));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_session_is_gone() {
    let broker = Broker::start(BrokerOptions::default());
    let (_, s) = create(&broker, json!({"user_id": "u"})).await;
    let id = s["session_id"].as_str().unwrap();
    let path = format!("/api/v3.1/tool_router/session/{id}");
    let (status, d) = send(&broker, reqwest::Method::DELETE, &path, None).await;
    assert_eq!((status, d), (200, json!({"session_id": id, "deleted": true})));
    assert_eq!(send(&broker, reqwest::Method::GET, &path, None).await.0, 404);
    assert_eq!(send(&broker, reqwest::Method::DELETE, &path, None).await.0, 404);
}
