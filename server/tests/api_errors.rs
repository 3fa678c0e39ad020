//! Bad input gets a clear error naming the field, and changes nothing.

mod common;

use common::{Broker, BrokerOptions, APP};
use serde_json::{json, Value};

async fn error_of(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json::<Value>().await.expect("JSON error body"))
}

async fn account_count(broker: &Broker) -> u64 {
    let r: Value = broker.http().get(broker.url("/api/v3.1/connected_accounts")).send().await.unwrap().json().await.unwrap();
    r["total_items"].as_u64().unwrap()
}

/// `POST …/session/{sid}/link` with `body`.
async fn link(broker: &Broker, sid: &str, body: Value) -> reqwest::Response {
    broker.http().post(broker.url(&format!("/api/v3.1/tool_router/session/{sid}/link"))).json(&body).send().await.unwrap()
}

async fn new_session(broker: &Broker) -> String {
    let r: Value = broker
        .http()
        .post(broker.url("/api/v3.1/tool_router/session"))
        .json(&json!({"user_id": "u1", "toolkits": ["sandbox", "github"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["session_id"].as_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_or_wrong_api_key_is_401() {
    let broker = Broker::start(BrokerOptions::default());
    let anon = reqwest::Client::new();
    for key in [None, Some("gl_wrong"), Some("")] {
        let mut rb = anon.post(broker.url("/api/v3.1/tool_router/session")).json(&json!({"user_id": "u"}));
        if let Some(k) = key {
            rb = rb.header("x-api-key", k);
        }
        let (status, body) = error_of(rb.send().await.unwrap()).await;
        assert_eq!(status, 401, "{key:?}");
        assert_eq!(body["error"]["slug"], "UNAUTHORIZED");
    }
    let bad = grantline_core::Client::new(grantline_core::ClientConfig::with_api_key(&broker.base_url, "gl_nope")).unwrap();
    let e = bad.create("u", Default::default()).await.unwrap_err();
    assert_eq!(e.code(), "UNAUTHORIZED");
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_json_and_unknown_fields_are_400_naming_the_field() {
    let broker = Broker::start(BrokerOptions::default());
    let http = broker.http();
    let url = broker.url("/api/v3.1/tool_router/session");
    let cases: Vec<(&str, &str)> = vec![
        (r#"{"user_id": "u", "#, "body"),
        (r#"{"user_id": "u", "toolkitz": ["github"]}"#, "toolkitz"),
        (r#"{"toolkits": ["github"]}"#, "user_id"),
        (r#"{"user_id": 42}"#, "user_id"),
        (r#"{"user_id": "u", "toolkits": "github"}"#, "toolkits"),
        (r#"{"user_id": ""}"#, "user_id"),
        (r#"{"user_id": "u", "manage_connections": "yes"}"#, "manage_connections"),
        (r#"{"user_id": "u", "auth_configs": {"github": "not-an-id"}}"#, "auth_configs.github"),
    ];
    for (body, field) in cases {
        let resp = http.post(&url).header("content-type", "application/json").body(body).send().await.unwrap();
        let (status, err) = error_of(resp).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!((err["error"]["slug"].as_str(), err["error"]["code"].as_u64()), (Some("VALIDATION"), Some(10400)), "{body}");
        assert_eq!(err["error"]["field"], field, "{body}: {err}");
        assert!(err["error"]["message"].as_str().unwrap().contains(field.rsplit('.').next().unwrap()) || field == "body", "{err}");
    }
    let sid = new_session(&broker).await;
    let resp = link(&broker, &sid, json!({"toolkit": "sandbox", "calback_url": "x"})).await;
    let (status, err) = error_of(resp).await;
    assert_eq!((status, err["error"]["field"].as_str()), (400, Some("calback_url")));
    assert_eq!(account_count(&broker).await, 0, "a refused request creates nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_toolkit_is_404_naming_it() {
    let broker = Broker::start(BrokerOptions::default());
    let sid = new_session(&broker).await;
    let resp = link(&broker, &sid, json!({"toolkit": "gitbub"})).await;
    let (status, err) = error_of(resp).await;
    assert_eq!(status, 404);
    assert_eq!(err["error"]["slug"], "NOT_FOUND");
    assert!(err["error"]["message"].as_str().unwrap().contains("gitbub"), "{err}");

    let resp = broker
        .http()
        .post(broker.url("/api/v3.1/tool_router/session"))
        .json(&json!({"user_id": "u", "toolkits": {"enable": ["sandbox", "nosuchkit"]}}))
        .send()
        .await
        .unwrap();
    let (status, err) = error_of(resp).await;
    assert_eq!(status, 404);
    assert!(err["error"]["message"].as_str().unwrap().contains("nosuchkit"));
    assert_eq!(account_count(&broker).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn callback_url_outside_the_allow_list_is_400_and_creates_nothing() {
    let broker = Broker::start(BrokerOptions::default());
    let sid = new_session(&broker).await;
    for bad in ["https://evil.example.net/done", &format!("{APP}/other"), "https://app.example.com.evil.net/done", "javascript:alert(1)"] {
        let resp = link(&broker, &sid, json!({"toolkit": "sandbox", "callback_url": bad})).await;
        let (status, err) = error_of(resp).await;
        assert_eq!(status, 400, "{bad}");
        assert_eq!(err["error"]["field"], "callback_url", "{bad}");
    }
    assert_eq!(account_count(&broker).await, 0);
    let ok = link(&broker, &sid, json!({"toolkit": "sandbox", "callback_url": format!("{APP}/settings/connections?x=1")})).await;
    assert_eq!(ok.status().as_u16(), 201);
    assert_eq!(account_count(&broker).await, 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_toolkit_without_an_auth_config_is_refused_with_how_to_add_one() {
    let broker = Broker::start(BrokerOptions::default());
    let sid = new_session(&broker).await;
    let resp = link(&broker, &sid, json!({"toolkit": "github"})).await;
    let (status, err) = error_of(resp).await;
    assert_eq!((status, err["error"]["field"].as_str()), (400, Some("toolkit")));
    assert!(err["error"]["message"].as_str().unwrap().contains("auth_configs"));

    // Creating one over the API makes github linkable, and the secret is never returned.
    let created = broker
        .http()
        .post(broker.url("/api/v3.1/auth_configs"))
        .json(&json!({"toolkit": {"slug": "github"}, "auth_config": {"type": "use_custom_auth", "auth_scheme": "OAUTH2",
            "credentials": {"client_id": "Iv1.abc", "client_secret": "very-secret-value", "scopes": "repo,user"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201);
    let text = created.text().await.unwrap();
    assert!(!text.contains("very-secret-value"));
    let listed = broker.http().get(broker.url("/api/v3.1/auth_configs")).send().await.unwrap().text().await.unwrap();
    assert!(listed.contains("Iv1.abc") || listed.contains("ac_"));
    assert!(!listed.contains("very-secret-value"));
    assert!(!String::from_utf8_lossy(&broker.db_bytes()).contains("very-secret-value"));

    let created = link(&broker, &sid, json!({"toolkit": "github"})).await;
    assert_eq!(created.status().as_u16(), 201);
    let created: Value = created.json().await.unwrap();
    let to_github = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
        .get(created["redirect_url"].as_str().unwrap()).send().await.unwrap();
    let loc = to_github.headers()["location"].to_str().unwrap();
    assert!(loc.starts_with("https://github.com/login/oauth/authorize?"), "{loc}");
    let q = common::query(loc);
    assert_eq!(q["client_id"], "Iv1.abc");
    assert_eq!(q["scope"].split([',', ' ']).collect::<Vec<_>>(), ["repo", "user"]);
    assert_eq!(q["redirect_uri"], broker.url("/oauth/callback"));
    assert!(q["state"].len() >= 32);

    for (body, field) in [
        (json!({"toolkit": {"slug": "github"}, "auth_config": {"type": "use_custom_auth", "auth_scheme": "OAUTH2", "credentials": {"client_id": "x"}}}), "auth_config.credentials.client_secret"),
        (json!({"toolkit": {"slug": "github"}, "auth_config": {"type": "use_composio_managed_auth", "auth_scheme": "OAUTH2"}}), "auth_config.type"),
    ] {
        let (status, err) = error_of(broker.http().post(broker.url("/api/v3.1/auth_configs")).json(&body).send().await.unwrap()).await;
        assert_eq!((status, err["error"]["field"].as_str()), (400, Some(field)));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn toolkit_pages_cover_the_catalog_exactly_once() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("u", Default::default()).await.unwrap();
    let q = grantline_core::model::ToolkitsQuery { limit: Some(7), ..Default::default() };
    let first = session.toolkits(&q).await.unwrap();
    assert!(first.total_items > 20 && first.items.len() == 7);
    assert_eq!(first.total_pages, first.total_items.div_ceil(7));
    let all = session.all_toolkits(&q).await.unwrap();
    let mut slugs: Vec<_> = all.iter().map(|t| t.slug.clone()).collect();
    assert_eq!(slugs.len() as u64, first.total_items);
    slugs.dedup();
    assert_eq!(slugs.len() as u64, first.total_items, "no toolkit appears on two pages");

    let found = session.toolkits(&grantline_core::model::ToolkitsQuery { search: Some("calendar".into()), ..Default::default() }).await.unwrap();
    assert!(found.items.iter().any(|t| t.slug == "googlecalendar"));
    assert!(found.items.iter().all(|t| t.slug.contains("calendar") || t.name.to_lowercase().contains("calendar") || t.meta.description.to_lowercase().contains("calendar")));
    let picked = session.toolkits(&grantline_core::model::ToolkitsQuery { toolkits: vec!["slack".into(), "github".into()], ..Default::default() }).await.unwrap();
    assert_eq!(picked.total_items, 2);

    let base = broker.url(&format!("/api/v3.1/tool_router/session/{}/toolkits", session.session_id()));
    for (qs, field) in [("limit=0", "limit"), ("limit=abc", "limit"), ("cursor=-1", "cursor"), ("is_connected=maybe", "is_connected"), ("colour=red", "colour")] {
        let (status, err) = error_of(broker.http().get(format!("{base}?{qs}")).send().await.unwrap()).await;
        assert_eq!((status, err["error"]["field"].as_str()), (400, Some(field)), "{qs}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_tool_requests_name_the_field_and_run_nothing() {
    let broker = Broker::start(BrokerOptions::default());
    let sid = new_session(&broker).await;
    let post = |tail: &str, body: Value| {
        broker.http().post(broker.url(&format!("/api/v3.1/tool_router/session/{sid}/{tail}"))).json(&body).send()
    };
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        ("execute", json!({"tool_slg": "X"}), 400, "tool_slg"),
        ("execute", json!({"tool_slug": "GITHUB_CREATE_AN_ISSUE", "arguments": {"owner": "o", "repo": "r"}}), 400, "arguments.title"),
        ("execute", json!({"tool_slug": "GITHUB_CREATE_AN_ISSUE", "arguments": {"owner": "o", "repo": "r", "title": 3}}), 400, "arguments.title"),
        ("execute", json!({"tool_slug": "GMAIL_FETCH_EMAILS"}), 400, "tool_slug"),
        ("search", json!({"queries": [{"use_case": "  "}]}), 400, "queries[0].use_case"),
        ("search", json!({"queries": [{"use_case": "issues"}], "limit": 0}), 400, "limit"),
        ("search", json!({"queries": [{"use_case": "issues"}], "toolkits": ["nope"]}), 404, ""),
        ("proxy_execute", json!({"endpoint": "/user", "method": "GET"}), 400, "toolkit"),
        ("proxy_execute", json!({"endpoint": "/user", "method": "TRACE", "toolkit": "github"}), 400, "method"),
        ("execute_meta", json!({"slug": "COMPOSIO_NOPE"}), 400, "slug"),
        ("execute_meta", json!({"slug": "COMPOSIO_GET_TOOL_SCHEMAS", "arguments": {"tool_slugs": "GITHUB"}}), 400, "arguments.tool_slugs"),
    ];
    for (tail, body, want, field) in cases {
        let (status, err) = error_of(post(tail, body.clone()).await.unwrap()).await;
        assert_eq!(status, want, "{tail} {body}: {err}");
        if !field.is_empty() {
            assert_eq!(err["error"]["field"], field, "{tail} {body}: {err}");
        }
    }
    assert_eq!(account_count(&broker).await, 0, "no call created anything");
}
