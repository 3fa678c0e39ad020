//! Tool calls on Composio's v3.1 wire, as its SDKs send them (raw JSON, no Grantline client):
//! `…/execute` runs meta tools too and every answer carries `result_type`; `account` picks an
//! account by id or alias; `…/search` takes `queries` and answers Composio's shape (the same
//! as COMPOSIO_SEARCH_TOOLS); `…/proxy_execute` takes `toolkit_slug`; `…/tools` pages.
//! Fields for what Grantline lacks are refused naming the field.

mod common;

use common::{Broker, BrokerOptions, Browser};
use grantline_core::{AuthorizeOptions, Session, SessionOptions};
use serde_json::{json, Value};

struct World {
    broker: Broker,
    session: Session,
}

async fn world(toolkits: &[&str]) -> World {
    let broker = Broker::start(BrokerOptions::default());
    let options = SessionOptions { toolkits: toolkits.iter().map(|t| t.to_string()).collect(), ..Default::default() };
    let session = broker.client().create("u_composio", options).await.unwrap();
    World { broker, session }
}

impl World {
    async fn post(&self, tail: &str, body: Value) -> (u16, Value) {
        let url = self.broker.url(&format!("/api/v3.1/tool_router/session/{}/{tail}", self.session.session_id()));
        let resp = self.broker.http().post(url).json(&body).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    async fn get(&self, tail: &str) -> (u16, Value) {
        let url = self.broker.url(&format!("/api/v3.1/tool_router/session/{}/{tail}", self.session.session_id()));
        let resp = self.broker.http().get(url).send().await.unwrap();
        (resp.status().as_u16(), resp.json().await.unwrap())
    }

    /// Connects a sandbox account as the sandbox user `user`, under `alias`; its id.
    async fn connect_sandbox(&self, user: &str, alias: Option<&str>) -> String {
        let req = self.session.authorize("sandbox", AuthorizeOptions { alias: alias.map(str::to_string), ..Default::default() }).await.unwrap();
        consent_as(&Browser::new(), req.redirect_url(), user).await;
        req.id().to_string()
    }
}

/// Answers the sandbox consent page of a Connect Link as `user` (the harness's
/// `sandbox_consent` always signs in as octocat).
async fn consent_as(browser: &Browser, redirect_url: &str, user: &str) {
    let http = &browser.http;
    let to_provider = http.get(redirect_url).send().await.unwrap();
    let loc = url::Url::parse(to_provider.headers()["location"].to_str().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = loc.query_pairs().into_owned().collect();
    form.push(("user".into(), user.into()));
    form.push(("decision".into(), "allow".into()));
    let endpoint = format!("{}://{}{}", loc.scheme(), loc.authority(), loc.path());
    let to_callback = http.post(endpoint).form(&form).send().await.unwrap();
    assert_eq!(to_callback.status().as_u16(), 303);
    let callback = to_callback.headers()["location"].to_str().unwrap().to_string();
    let landed = http.get(callback).send().await.unwrap();
    assert!(landed.status().is_success() || landed.status().is_redirection(), "callback answered {}", landed.status());
}

fn field(answer: &Value) -> &str {
    answer["error"]["field"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread")]
async fn execute_runs_meta_tools_like_execute_meta_and_every_answer_has_a_result_type() {
    let w = world(&["sandbox"]).await;

    // What the SDKs' providers send for a model's tool call: a meta slug on …/execute.
    let (status, found) = w
        .post("execute", json!({"tool_slug": "COMPOSIO_SEARCH_TOOLS", "arguments": {"queries": [{"use_case": "who am I in the sandbox"}]},
                                "enable_auto_workbench_offload": true}))
        .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!((found["result_type"].as_str(), found["error"].is_null(), found["successful"].as_bool()), (Some("completed"), true, Some(true)), "{found}");
    assert_eq!(found["data"]["results"][0]["primary_tool_slugs"], json!(["SANDBOX_GET_CURRENT_USER"]), "{found}");
    assert!(found["log_id"].as_str().unwrap().starts_with("log_"));

    // A toolkit tool that cannot run yet: failed, with the next step.
    let (status, tried) = w.post("execute", json!({"tool_slug": "SANDBOX_GET_CURRENT_USER", "arguments": {}, "enable_auto_workbench_offload": true})).await;
    assert_eq!(status, 200, "{tried}");
    assert_eq!((tried["result_type"].as_str(), tried["successful"].as_bool()), (Some("failed"), Some(false)), "{tried}");
    assert!(tried["error"].as_str().unwrap().contains("COMPOSIO_MANAGE_CONNECTIONS"));
    assert!(tried["data"].is_object());

    // The connection tool through both endpoints.
    let (status, managed) = w.post("execute_meta", json!({"slug": "COMPOSIO_MANAGE_CONNECTIONS", "arguments": {"toolkits": ["sandbox"]}})).await;
    assert_eq!((status, managed["result_type"].as_str()), (200, Some("completed")), "{managed}");
    let (status, managed) = w.post("execute", json!({"tool_slug": "COMPOSIO_MANAGE_CONNECTIONS", "arguments": {"toolkits": ["sandbox"]}})).await;
    assert_eq!((status, managed["result_type"].as_str()), (200, Some("completed")), "{managed}");
    let link = managed["data"]["results"]["sandbox"]["redirect_url"].as_str().unwrap().to_string();
    consent_as(&Browser::new(), &link, "ada").await;
    let (_, me) = w.post("execute", json!({"tool_slug": "SANDBOX_GET_CURRENT_USER", "arguments": {}})).await;
    assert_eq!((me["result_type"].as_str(), me["data"]["email"].as_str()), (Some("completed"), Some("ada@sandbox.grantline.test")), "{me}");

    // A meta slug the session does not offer names tool_slug on …/execute and slug on …/execute_meta.
    let (status, bad) = w.post("execute", json!({"tool_slug": "COMPOSIO_REMOTE_WORKBENCH", "arguments": {}})).await;
    assert_eq!((status, field(&bad)), (400, "tool_slug"), "{bad}");
    let (status, bad) = w.post("execute_meta", json!({"slug": "COMPOSIO_REMOTE_WORKBENCH"})).await;
    assert_eq!((status, field(&bad)), (400, "slug"), "{bad}");
    let (status, bad) = w.post("execute", json!({"tool_slug": "COMPOSIO_SEARCH_TOOLS", "arguments": {"queries": ["x"]}, "account": "work"})).await;
    assert_eq!((status, field(&bad)), (400, "account"), "meta tools pick accounts themselves: {bad}");
}

#[tokio::test(flavor = "multi_thread")]
async fn input_requests_and_inline_custom_tools_are_refused_naming_the_field_and_empty_ones_pass() {
    let w = world(&["sandbox"]).await;
    let search = json!({"queries": [{"use_case": "who am I"}]});
    let refused = [
        ("input_responses", json!({"q1": {"action": "accept"}}), "input_responses"),
        ("request_state", json!("rs_1"), "request_state"),
        ("experimental", json!({"custom_tools": [{"slug": "GREP", "name": "grep", "description": "d", "input_schema": {"type": "object", "properties": {}}}]}), "experimental.custom_tools"),
    ];
    for (key, value, named) in refused {
        let mut body = json!({"tool_slug": "COMPOSIO_SEARCH_TOOLS", "arguments": search});
        body[key] = value.clone();
        let (status, bad) = w.post("execute", body).await;
        assert_eq!((status, field(&bad)), (400, named), "execute {key}: {bad}");
        let mut body = json!({"slug": "COMPOSIO_SEARCH_TOOLS", "arguments": search});
        body[key] = value;
        let (status, bad) = w.post("execute_meta", body).await;
        assert_eq!((status, field(&bad)), (400, named), "execute_meta {key}: {bad}");
    }
    let (status, bad) = w.post("search", json!({"queries": [{"use_case": "who am I"}], "experimental": {"custom_toolkits": [{"slug": "x"}]}})).await;
    assert_eq!((status, field(&bad)), (400, "experimental.custom_toolkits"), "{bad}");

    let empty = json!({"tool_slug": "COMPOSIO_SEARCH_TOOLS", "arguments": search, "input_responses": {}, "request_state": null,
                       "experimental": {"custom_tools": [], "custom_toolkits": []}});
    let (status, ok) = w.post("execute", empty).await;
    assert_eq!((status, ok["result_type"].as_str()), (200, Some("completed")), "{ok}");
}

#[tokio::test(flavor = "multi_thread")]
async fn account_runs_a_tool_as_the_account_named_by_id_or_alias() {
    let w = world(&["sandbox"]).await;
    let work = w.connect_sandbox("octocat", Some("work")).await;
    let personal = w.connect_sandbox("hubot", Some("personal")).await;
    let who = |answer: &Value| answer["data"]["sub"].as_str().map(str::to_string);

    let (_, default) = w.post("execute", json!({"tool_slug": "SANDBOX_GET_CURRENT_USER"})).await;
    assert_eq!(who(&default).as_deref(), Some("hubot"), "the newest active account by default: {default}");
    for (account, user) in [("work", "octocat"), (work.as_str(), "octocat"), ("personal", "hubot"), (personal.as_str(), "hubot")] {
        let (status, me) = w.post("execute", json!({"tool_slug": "SANDBOX_GET_CURRENT_USER", "account": account})).await;
        assert_eq!((status, who(&me).as_deref()), (200, Some(user)), "account {account}: {me}");
    }
    let (status, bad) = w.post("execute", json!({"tool_slug": "SANDBOX_GET_CURRENT_USER", "account": "holiday"})).await;
    assert_eq!((status, field(&bad)), (400, "account"), "{bad}");
    let (status, bad) = w.post("execute", json!({"tool_slug": "SANDBOX_GET_CURRENT_USER", "account": "work", "connected_account_id": work})).await;
    assert_eq!((status, field(&bad)), (400, "account"), "{bad}");

    // Inside MULTI_EXECUTE each call may name its account.
    let (_, many) = w
        .post("execute", json!({"tool_slug": "COMPOSIO_MULTI_EXECUTE_TOOL", "arguments": {"tools": [
            {"tool_slug": "SANDBOX_GET_CURRENT_USER", "arguments": {}, "account": "work"},
            {"tool_slug": "SANDBOX_GET_CURRENT_USER", "arguments": {}},
            {"tool_slug": "SANDBOX_GET_CURRENT_USER", "arguments": {}, "account": "holiday"}]}}))
        .await;
    let results = &many["data"]["results"];
    assert_eq!((results[0]["data"]["sub"].as_str(), results[1]["data"]["sub"].as_str()), (Some("octocat"), Some("hubot")), "{many}");
    assert!(results[2]["error"].as_str().unwrap().contains("arguments.tools[2].account"), "{many}");

    // Search lists the accounts the agent may name, the default one marked.
    let (_, found) = w.post("search", json!({"queries": [{"use_case": "who am I"}]})).await;
    let status = &found["toolkit_connection_statuses"][0];
    assert_eq!(status["has_active_connection"], true, "{found}");
    let accounts = status["accounts"].as_array().unwrap();
    let by_alias = |a: &str| accounts.iter().find(|x| x["alias"] == a).unwrap_or_else(|| panic!("{a} in {found}")).clone();
    assert_eq!((by_alias("work")["id"].as_str(), by_alias("work")["is_default"].as_bool()), (Some(work.as_str()), Some(false)));
    assert_eq!((by_alias("personal")["id"].as_str(), by_alias("personal")["is_default"].as_bool()), (Some(personal.as_str()), Some(true)));
}

#[tokio::test(flavor = "multi_thread")]
async fn search_takes_composios_queries_and_answers_its_shape_the_same_as_the_meta_tool() {
    let w = world(&["slack", "github", "sandbox"]).await;
    let body = json!({"queries": [{"use_case": "send a message to the team channel", "known_fields": "channel:general"},
                                  {"use_case": "open an issue in a repository"}],
                      "model": "gpt-4o", "search_strategy": "auto"});
    let (status, found) = w.post("search", body.clone()).await;
    assert_eq!(status, 200, "{found}");
    assert_eq!((found["success"].as_bool(), found["error"].is_null()), (Some(true), true), "{found}");
    let results = found["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!((results[0]["index"].as_u64(), results[0]["use_case"].as_str()), (Some(1), Some("send a message to the team channel")));
    assert_eq!(results[0]["primary_tool_slugs"], json!(["SLACK_SEND_MESSAGE"]), "{found}");
    assert_eq!(results[1]["primary_tool_slugs"], json!(["GITHUB_CREATE_AN_ISSUE"]), "{found}");
    assert_eq!(results[0]["toolkits"][0], "slack");
    for r in results {
        for slug in r["primary_tool_slugs"].as_array().unwrap().iter().chain(r["related_tool_slugs"].as_array().unwrap()) {
            let schema = &found["tool_schemas"][slug.as_str().unwrap()];
            assert_eq!(schema["tool_slug"], *slug, "{found}");
            assert_eq!(schema["input_schema"]["type"], "object");
            assert!(schema["toolkit"].is_string() && schema["description"].is_string());
        }
    }
    let statuses = found["toolkit_connection_statuses"].as_array().unwrap();
    let slack = statuses.iter().find(|s| s["toolkit"] == "slack").expect("slack's status");
    assert_eq!(slack["has_active_connection"], false);
    assert!(slack["description"].as_str().is_some_and(|d| !d.is_empty()));
    assert!(slack["status_message"].as_str().unwrap().contains("COMPOSIO_MANAGE_CONNECTIONS"));
    assert!(found["next_steps_guidance"].as_array().is_some_and(|g| !g.is_empty() && g.iter().all(Value::is_string)));
    assert_eq!((found["session"]["id"].as_str(), found["session"]["generate_id"].as_bool()), (Some(w.session.session_id()), Some(false)));
    assert!(found["session"]["instructions"].is_string());
    assert!(found["time_info"]["current_time_utc"].as_str().unwrap().ends_with('Z'));
    assert!(found["time_info"]["current_time_utc_epoch_seconds"].as_i64().unwrap() > 1_700_000_000);
    assert!(found["time_info"]["message"].is_string());

    // COMPOSIO_SEARCH_TOOLS gives the same answer (its clock aside).
    let (_, meta) = w.post("execute_meta", json!({"slug": "COMPOSIO_SEARCH_TOOLS", "arguments": body})).await;
    for key in ["results", "tool_schemas", "toolkit_connection_statuses", "next_steps_guidance", "session", "success"] {
        assert_eq!(meta["data"][key], found[key], "{key}");
    }

    // Grantline's limit, toolkits filter; refusals name the field.
    let (_, one) = w.post("search", json!({"queries": [{"use_case": "send a message"}], "toolkits": ["slack"], "limit": 1})).await;
    assert_eq!(one["results"][0]["related_tool_slugs"], json!([]), "{one}");
    assert!(one["results"][0]["scores"]["SLACK_SEND_MESSAGE"].as_f64().unwrap() > 0.0, "{one}");
    for (body, named) in [
        (json!({"query": "send a message"}), "query"),
        (json!({"queries": []}), "queries"),
        (json!({"queries": [{"use_case": " "}]}), "queries[0].use_case"),
        (json!({"queries": [{"use_case": "x", "known_fields": "k".repeat(501)}]}), "queries[0].known_fields"),
        (json!({"queries": [{"use_case": "x"}], "search_strategy": "magic"}), "search_strategy"),
        (json!({"queries": [{"use_case": "x"}], "limit": 0}), "limit"),
    ] {
        let (status, bad) = w.post("search", body.clone()).await;
        assert_eq!((status, field(&bad)), (400, named), "{body}: {bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn proxy_execute_takes_toolkit_slug_and_refuses_binary_bodies_and_callers_credentials() {
    let w = world(&["sandbox"]).await;
    w.connect_sandbox("ada", None).await;
    let userinfo = w.broker.url("/sandbox/oauth/userinfo");
    let (status, answer) = w
        .post("proxy_execute", json!({"toolkit_slug": "sandbox", "endpoint": userinfo, "method": "GET",
                                      "parameters": [{"name": "x-trace", "type": "header", "value": "1"}, {"name": "lang", "type": "query", "value": "en"}]}))
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!((answer["status"].as_u64(), answer["data"]["sub"].as_str()), (Some(200), Some("ada")), "{answer}");
    assert!(answer.as_object().unwrap().contains_key("binary_data") && answer["binary_data"].is_null(), "{answer}");
    assert!(answer["headers"].is_object());

    for (key, value) in [
        ("binary_body", json!({"base64": "AAEC", "content_type": "application/octet-stream"})),
        ("custom_connection_data", json!({"authScheme": "OAUTH2", "toolkitSlug": "sandbox", "val": {"access_token": "t"}})),
    ] {
        let mut body = json!({"toolkit_slug": "sandbox", "endpoint": userinfo, "method": "POST"});
        body[key] = value;
        let (status, bad) = w.post("proxy_execute", body).await;
        assert_eq!((status, field(&bad)), (400, key), "{bad}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_tool_list_pages_by_limit_and_cursor() {
    let w = world(&["sandbox"]).await;
    let (status, all) = w.get("tools?limit=500").await;
    assert_eq!(status, 200, "{all}");
    let slugs = |page: &Value| page["items"].as_array().unwrap().iter().map(|t| t["slug"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    let every = slugs(&all);
    assert_eq!(every.len(), 4, "{all}");
    assert!(all["next_cursor"].is_null());

    let (_, first) = w.get("tools?limit=3").await;
    assert_eq!((slugs(&first), first["next_cursor"].as_str()), (every[..3].to_vec(), Some("2")), "{first}");
    assert_eq!((first["total_items"].as_u64(), first["total_pages"].as_u64(), first["current_page"].as_u64()), (Some(4), Some(2), Some(1)));
    let (_, second) = w.get("tools?limit=3&cursor=2").await;
    assert_eq!((slugs(&second), second["next_cursor"].is_null()), (every[3..].to_vec(), true), "{second}");

    for (query, named) in [("tools?limit=501", "limit"), ("tools?cursor=zz", "cursor"), ("tools?page=2", "page")] {
        let (status, bad) = w.get(query).await;
        assert_eq!((status, field(&bad)), (400, named), "{query}: {bad}");
    }
    // The client walks every page.
    let listed: Vec<String> = w.session.tools().await.unwrap().into_iter().map(|t| t.slug).collect();
    assert_eq!(listed, every);
}
