//! The shared stories of `tests/scenarios/stories.json`, run through the Rust SDK
//! (`grantline_core::Client`) against a `grantline serve --test` broker. This file interprets the
//! steps (tests/scenarios/README.md lists them); the stories themselves live in the JSON file,
//! and pytest (bindings-py/tests/test_scenarios.py) and `node --test`
//! (bindings-node/test/scenarios.test.js) run the same ones.

mod common;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use common::{query, Broker, BrokerOptions, Browser, Hop, APP};
use grantline_core::model::{AccountFilter, AccountStatus, ConnectedAccount, ProjectInfo, ProjectPatch, SearchRequest, ToolkitsQuery};
use grantline_core::{AuthorizeOptions, Client, ClientConfig, ConnectionRequest, Error, Session, SessionOptions};
use serde_json::{json, Map, Value};

fn stories() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/stories.json");
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// An outcome: the step's result as JSON, or its error as JSON.
type Outcome = Result<Value, Value>;

/// What a story has made so far: named values (JSON) and the SDK objects behind some of them.
struct Story {
    broker: Broker,
    client: Client,
    values: Map<String, Value>,
    sessions: HashMap<String, Session>,
    requests: HashMap<String, ConnectionRequest>,
    background: HashMap<String, (tokio::task::JoinHandle<Outcome>, Instant)>,
}

fn error(e: Error) -> Value {
    let mut out = json!({"code": e.code(), "message": e.to_string()});
    match e {
        Error::Validation { field, .. } => out["field"] = field.into(),
        Error::ConnectionRequestFailed { id, status, reason } => {
            out["connected_account_id"] = id.into();
            out["account_status"] = status.into();
            out["reason"] = reason.into();
        }
        Error::ConnectionRequestTimeout { id, .. } => out["connected_account_id"] = id.into(),
        _ => {}
    }
    out
}

fn account(a: &ConnectedAccount) -> Value {
    json!({"id": a.id, "status": a.status.as_str(), "user_id": a.user_id, "toolkit": a.toolkit.slug,
           "alias": a.alias, "is_disabled": a.is_disabled, "reconnecting": a.reconnecting})
}

fn project(p: &ProjectInfo) -> Value {
    json!({"display_name": p.display_name, "support_url": p.support_url, "user_verification_url": p.user_verification_url,
           "verify_connect_links": p.verify_connect_links})
}

fn string(step: &Value, key: &str) -> Option<String> {
    step.get(key).and_then(Value::as_str).map(str::to_string)
}

fn strings(step: &Value, key: &str) -> Vec<String> {
    step.get(key).and_then(Value::as_array).map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

impl Story {
    /// `$name.path` is a value made earlier; `${name.path}` inside a string is replaced by it.
    fn resolve(&self, v: &Value) -> Value {
        match v {
            Value::String(s) if s.starts_with('$') && !s.starts_with("${") => self.lookup(&s[1..]),
            Value::String(s) => {
                let mut out = String::new();
                let mut rest = s.as_str();
                while let Some(start) = rest.find("${") {
                    let end = start + rest[start..].find('}').expect("an unclosed ${");
                    out.push_str(&rest[..start]);
                    match self.lookup(&rest[start + 2..end]) {
                        Value::String(s) => out.push_str(&s),
                        other => out.push_str(&other.to_string()),
                    }
                    rest = &rest[end + 1..];
                }
                out.push_str(rest);
                Value::String(out)
            }
            Value::Array(items) => Value::Array(items.iter().map(|i| self.resolve(i)).collect()),
            Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (k.clone(), self.resolve(v))).collect()),
            other => other.clone(),
        }
    }

    fn lookup(&self, path: &str) -> Value {
        let mut parts = path.split('.');
        let mut v = self.values.get(parts.next().unwrap()).unwrap_or_else(|| panic!("no value named `{path}` yet")).clone();
        for p in parts {
            v = v.get(p).unwrap_or_else(|| panic!("`{path}`: no `{p}` in {v}")).clone();
        }
        v
    }

    fn session(&self, step: &Value) -> Session {
        let name = string(step, "session").expect("a step on a session names it");
        self.sessions.get(&name).unwrap_or_else(|| panic!("no session named `{name}`")).clone()
    }

    /// Runs one step through the SDK (a step with `background` is started and left running).
    async fn run(&mut self, step: &Value) -> Option<Outcome> {
        let step = &self.resolve(step);
        let verb = step["do"].as_str().expect("every step says what it does");
        if let Some(name) = string(step, "background") {
            if verb != "join" && verb != "still_running" {
                let started = Instant::now();
                let task = self.spawn(verb, step);
                self.background.insert(name, (task, started));
                return None;
            }
        }
        Some(match verb {
            "create_session" => {
                let options = SessionOptions {
                    toolkits: strings(step, "toolkits"),
                    manage_connections: step.get("manage_connections").and_then(Value::as_bool),
                    wait_for_connections: step.get("wait_for_connections").and_then(Value::as_bool),
                    direct_tools: strings(step, "direct_tools"),
                    ..Default::default()
                };
                match self.client.create(step["user_id"].as_str().unwrap(), options).await {
                    Ok(s) => {
                        let out = json!({"session_id": s.session_id(), "user_id": s.user_id(), "mcp_url": s.mcp().url});
                        if let Some(name) = string(step, "as") {
                            self.sessions.insert(name, s);
                        }
                        Ok(out)
                    }
                    Err(e) => Err(error(e)),
                }
            }
            "authorize" => {
                let options = AuthorizeOptions { callback_url: string(step, "callback_url"), alias: string(step, "alias") };
                match self.session(step).authorize(step["toolkit"].as_str().unwrap(), options).await {
                    Ok(r) => {
                        let out = json!({"id": r.id(), "redirect_url": r.redirect_url()});
                        if let Some(name) = string(step, "as") {
                            self.requests.insert(name, r);
                        }
                        Ok(out)
                    }
                    Err(e) => Err(error(e)),
                }
            }
            "get_account" => self.client.connected_accounts().get(step["id"].as_str().unwrap()).await.map(|a| account(&a)).map_err(error),
            "list_accounts" => {
                let statuses = strings(step, "statuses").iter().map(|s| serde_json::from_value::<AccountStatus>(json!(s)).unwrap()).collect();
                let filter = AccountFilter { user_ids: strings(step, "user_ids"), statuses, ..Default::default() };
                match self.client.connected_accounts().list(&filter, None, None).await {
                    Ok(page) => Ok(json!({"ids": page.items.iter().map(|a| a.id.clone()).collect::<Vec<_>>(), "total_items": page.total_items})),
                    Err(e) => Err(error(e)),
                }
            }
            "refresh_account" => match self.client.connected_accounts().refresh(step["id"].as_str().unwrap(), step.get("callback_url").and_then(Value::as_str)).await {
                Ok(r) => Ok(json!({"id": r.id, "status": r.status.as_str(), "redirect_url": r.redirect_url})),
                Err(e) => Err(error(e)),
            },
            "revoke_account" => match self.client.connected_accounts().revoke(step["id"].as_str().unwrap()).await {
                Ok(r) => {
                    let mut tokens = r.revoked_tokens.clone();
                    tokens.sort();
                    Ok(json!({"id": r.connected_account.id, "status": r.connected_account.status.as_str(),
                              "provider_revocation": r.provider_revocation, "revoked_tokens": tokens, "note": r.note}))
                }
                Err(e) => Err(error(e)),
            },
            "update_project" => {
                let patch: ProjectPatch = serde_json::from_value(step["changes"].clone()).expect("the changes a ProjectPatch holds");
                self.client.update_project(&patch).await.map(|p| project(&p)).map_err(error)
            }
            "project" => self.client.project().await.map(|p| project(&p)).map_err(error),
            "confirm_user" => match self.client.confirm_user(step["flow_id"].as_str().unwrap(), step["user_id"].as_str().unwrap()).await {
                Ok(c) => Ok(json!({"matched": c.matched, "flow_id": c.flow_id, "redirect_url": c.redirect_url})),
                Err(e) => Err(error(e)),
            },
            "delete_account" => self.client.connected_accounts().delete(step["id"].as_str().unwrap()).await.map(|()| json!({})).map_err(error),
            "list_toolkits" => {
                let q = ToolkitsQuery { is_connected: step.get("is_connected").and_then(Value::as_bool), ..Default::default() };
                match self.session(step).toolkits(&q).await {
                    Ok(page) => Ok(json!({"items": page.items.iter().map(|t| json!({
                        "slug": t.slug, "is_connected": t.is_connected(),
                        "connected_account_id": t.connected_account.as_ref().map(|a| a.id.clone()),
                    })).collect::<Vec<_>>()})),
                    Err(e) => Err(error(e)),
                }
            }
            "search" => {
                let limit = step.get("limit").and_then(Value::as_u64).map(|l| u32::try_from(l).unwrap());
                let request = SearchRequest::use_case(step["query"].as_str().unwrap(), strings(step, "toolkits"), limit);
                match self.session(step).search(&request).await {
                    Ok(hits) => Ok(json!({"hits": hits.iter().map(|h| json!({"slug": h.slug, "toolkit": h.toolkit, "is_connected": h.is_connected})).collect::<Vec<_>>()})),
                    Err(e) => Err(error(e)),
                }
            }
            "list_tools" => self.session(step).tools().await.map(|t| json!({"slugs": t.iter().map(|t| t.slug.clone()).collect::<Vec<_>>()})).map_err(error),
            "client_token" => {
                let ttl = step.get("ttl_seconds").and_then(Value::as_u64);
                self.session(step).client_token(ttl).await.map(|t| json!({"id": t.id, "token": t.token, "session_id": t.session_id, "expires_at": t.expires_at})).map_err(error)
            }
            "revoke_client_token" => self.session(step).revoke_client_token(step["id"].as_str().unwrap()).await.map(|()| json!({})).map_err(error),
            "open_link" => Ok(open_link(step["url"].as_str().unwrap(), string(step, "decision").as_deref()).await),
            "as_page" => Ok(self.as_page(step).await),
            "sleep" => {
                tokio::time::sleep(Duration::from_millis(step["ms"].as_u64().unwrap())).await;
                Ok(json!({}))
            }
            "still_running" => {
                let name = string(step, "background").unwrap();
                tokio::time::sleep(Duration::from_millis(step["for_ms"].as_u64().unwrap_or(0))).await;
                let (task, _) = &self.background[&name];
                assert!(!task.is_finished(), "`{name}` is still running");
                Ok(json!({}))
            }
            "join" => {
                let name = string(step, "background").unwrap();
                let (task, _) = self.background.remove(&name).unwrap_or_else(|| panic!("nothing runs as `{name}`"));
                task.await.unwrap()
            }
            _ => self.spawn(verb, step).await.unwrap(),
        })
    }

    /// The steps that can run in the background: waits and tool calls.
    fn spawn(&self, verb: &str, step: &Value) -> tokio::task::JoinHandle<Outcome> {
        let step = step.clone();
        match verb {
            "wait_for_connection" => {
                let name = string(&step, "request").expect("a wait names its request");
                let request = self.requests.get(&name).unwrap_or_else(|| panic!("no request named `{name}`")).clone();
                let timeout = Duration::from_millis(step["timeout_ms"].as_u64().unwrap());
                tokio::spawn(async move { request.wait_for_connection(timeout).await.map(|a| account(&a)).map_err(error) })
            }
            "wait_for_account" => {
                let accounts = self.client.connected_accounts();
                let timeout = Duration::from_millis(step["timeout_ms"].as_u64().unwrap());
                tokio::spawn(async move { accounts.wait_for_connection(step["id"].as_str().unwrap(), timeout).await.map(|a| account(&a)).map_err(error) })
            }
            "execute_meta" | "execute" => {
                let session = self.session(&step);
                let verb = verb.to_string();
                tokio::spawn(async move {
                    let tool = step["tool"].as_str().unwrap();
                    let arguments = step.get("arguments").and_then(Value::as_object).cloned().unwrap_or_default();
                    if verb == "execute" {
                        let account = step.get("connected_account_id").and_then(Value::as_str).map(str::to_string);
                        session.execute(tool, arguments, account).await.map(|r| serde_json::to_value(r).unwrap()).map_err(error)
                    } else {
                        session.execute_meta(tool, arguments).await.map(|r| serde_json::to_value(r).unwrap()).map_err(error)
                    }
                })
            }
            other => panic!("unknown step `{other}`"),
        }
    }

    /// What a browser page holding a client token gets from the broker.
    async fn as_page(&self, step: &Value) -> Value {
        let http = reqwest::Client::new();
        let mut req = http
            .request(step["method"].as_str().unwrap().parse().unwrap(), self.broker.url(step["path"].as_str().unwrap()))
            .bearer_auth(step["token"].as_str().unwrap());
        if let Some(body) = step.get("body") {
            req = req.json(body);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        json!({"status": status, "body": serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text))})
    }
}

/// The user's browser opens a Connect Link and, with a `decision`, answers the sandbox
/// provider's consent page: where it lands (the app's callback URL) or the page it shows.
async fn open_link(url: &str, decision: Option<&str>) -> Value {
    let browser = Browser::new();
    let first = browser.http.get(url).send().await.unwrap();
    let resp = match decision {
        None => first,
        Some(decision) => {
            assert!(first.status().is_redirection(), "the link sends the browser to the provider, not {}", first.status());
            let authorize = url::Url::parse(first.headers()["location"].to_str().unwrap()).unwrap();
            let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
            form.push(("user".into(), "octocat".into()));
            form.push(("decision".into(), decision.into()));
            let endpoint = format!("{}://{}{}", authorize.scheme(), authorize.authority(), authorize.path());
            browser.http.post(endpoint).form(&form).send().await.unwrap()
        }
    };
    match browser.walk(resp, APP).await {
        Hop::Stopped(landed) => json!({"landed": landed, "query": query(&landed)}),
        Hop::Page { status, body, .. } => json!({"status": status, "body": body}),
    }
}

/// Whether `actual` matches `expected`: objects by the keys given, lists item by item, and the
/// matchers `$prefix`, `$contains`, `$contains_all`, `$lacks`, `$absent`.
fn check(actual: Option<&Value>, expected: &Value, at: &str) -> Result<(), String> {
    let fail = || Err(format!("{at}: expected {expected}, got {}", actual.map_or("nothing".into(), Value::to_string)));
    if let Some(m) = expected.as_object().filter(|m| m.keys().any(|k| k.starts_with('$'))) {
        let (matcher, arg) = m.iter().next().unwrap();
        let text = actual.and_then(Value::as_str).unwrap_or_default();
        let ok = match matcher.as_str() {
            "$absent" => actual.is_none_or(Value::is_null),
            "$prefix" => actual.is_some_and(Value::is_string) && text.starts_with(arg.as_str().unwrap()),
            "$contains" => actual.is_some_and(Value::is_string) && text.contains(arg.as_str().unwrap()),
            "$contains_all" => actual.is_some_and(Value::is_string) && arg.as_array().unwrap().iter().all(|a| text.contains(a.as_str().unwrap())),
            "$lacks" => actual.and_then(Value::as_array).is_some_and(|items| !items.contains(arg)),
            other => panic!("unknown matcher `{other}`"),
        };
        return if ok { Ok(()) } else { fail() };
    }
    match (expected, actual) {
        (Value::Object(want), Some(Value::Object(got))) => {
            want.iter().try_for_each(|(k, v)| check(got.get(k), v, &format!("{at}.{k}")))
        }
        (Value::Array(want), Some(Value::Array(got))) if want.len() == got.len() => {
            want.iter().zip(got).enumerate().try_for_each(|(i, (w, g))| check(Some(g), w, &format!("{at}[{i}]")))
        }
        (want, Some(got)) if want == got => Ok(()),
        _ => fail(),
    }
}

/// A story on a fresh broker started as `story["broker"]` says.
fn start_story(story: &Value) -> Story {
    let opts = &story["broker"];
    let broker = Broker::start(BrokerOptions {
        link_ttl_secs: opts.get("link_ttl_secs").and_then(Value::as_u64).unwrap_or(600),
        max_wait_secs: opts.get("max_wait_secs").and_then(Value::as_u64),
        ..Default::default()
    });
    let mut values = Map::new();
    values.insert("APP".into(), APP.into());
    values.insert("BROKER".into(), broker.base_url.clone().into());
    Story { client: broker.client(), broker, values, sessions: HashMap::new(), requests: HashMap::new(), background: HashMap::new() }
}

async fn run_story(story: &Value) -> Result<(), String> {
    let mut s = start_story(story);
    run_steps(&mut s, story["steps"].as_array().unwrap()).await
}

/// Runs `steps` on the story `s`, checking each one's expectations.
async fn run_steps(s: &mut Story, steps: &[Value]) -> Result<(), String> {
    for (i, step) in steps.iter().enumerate() {
        let at = format!("step {} ({})", i + 1, step["do"].as_str().unwrap_or("?"));
        let started = Instant::now();
        let joined_at = string(step, "background").filter(|_| step["do"] == "join").map(|_| Instant::now());
        let Some(outcome) = s.run(step).await else { continue };
        let took = joined_at.unwrap_or(started).elapsed();
        if let Some(limit) = step.get("took_less_than_ms").and_then(Value::as_u64) {
            if took >= Duration::from_millis(limit) {
                return Err(format!("{at}: took {took:?}, expected less than {limit} ms"));
            }
        }
        match (outcome, step.get("expect_error")) {
            (Ok(value), None) => {
                if let Some(expected) = step.get("expect") {
                    check(Some(&value), &s.resolve(expected), &at)?;
                }
                if let Some(name) = string(step, "as") {
                    s.values.insert(name, value);
                }
            }
            (Err(e), Some(expected)) => check(Some(&e), &s.resolve(expected), &format!("{at} error"))?,
            (Ok(value), Some(expected)) => return Err(format!("{at}: expected the error {expected}, got {value}")),
            (Err(e), None) => return Err(format!("{at}: failed with {e}")),
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread")]
async fn every_shared_story_holds_through_the_rust_sdk() {
    let stories = stories();
    assert!(stories.len() >= 8, "the shared stories");
    let mut failures = Vec::new();
    for story in &stories {
        let name = story["name"].as_str().unwrap();
        match run_story(story).await {
            Ok(()) => println!("ok: {name}"),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{} of {} stories failed:\n{}", failures.len(), stories.len(), failures.join("\n"));
}

const HOST: &str = "rust";

/// The case's call through the Rust SDK. A case the data gives to Rust must be expressible with
/// its typed API: anything else is a failure of the data, not a skip.
async fn bad_call(s: &Story, case: &Value) -> Result<Value, Error> {
    let options = case.get("options").cloned().unwrap_or(json!({}));
    let options = options.as_object().unwrap();
    let option = |name: &str| options.get(name).map(|v| v.as_str().unwrap_or_else(|| panic!("{case}: Rust takes `{name}` as a string")).to_string());
    let only = |names: &[&str]| {
        for k in options.keys() {
            assert!(names.contains(&k.as_str()), "{case}: the Rust SDK has no option `{k}`: list the case's hosts without rust");
        }
    };
    match case["do"].as_str().unwrap() {
        "create_session" => {
            only(&["toolkits"]);
            let options = SessionOptions { toolkits: strings(&json!(options), "toolkits"), ..Default::default() };
            s.client.create(case["user_id"].as_str().unwrap(), options).await.map(|_| json!({}))
        }
        "use_session" => s.client.use_session(case["session_id"].as_str().unwrap()).await.map(|_| json!({})),
        "get_account" => s.client.connected_accounts().get(case["id"].as_str().unwrap()).await.map(|_| json!({})),
        "authorize" => {
            only(&["callback_url", "alias"]);
            let options = AuthorizeOptions { callback_url: option("callback_url"), alias: option("alias") };
            s.session(case).authorize(case["toolkit"].as_str().unwrap(), options).await.map(|_| json!({}))
        }
        "execute" | "execute_meta" => {
            only(&[]);
            let arguments = case["arguments"].as_object().unwrap_or_else(|| panic!("{case}: Rust's arguments are an object")).clone();
            let (session, tool) = (s.session(case), case["tool"].as_str().unwrap());
            if case["do"] == "execute" {
                session.execute(tool, arguments, None).await.map(|_| json!({}))
            } else {
                session.execute_meta(tool, arguments).await.map(|_| json!({}))
            }
        }
        "new_client" => {
            let key = case["api_key"].as_str().map(str::to_string);
            if key.is_none() {
                assert!(std::env::var_os("GRANTLINE_API_KEY").is_none(), "run without GRANTLINE_API_KEY set");
            }
            let client = Client::new(ClientConfig::from_parts(key, Some(s.broker.base_url.clone()))?)?;
            client.create("u", SessionOptions::default()).await.map(|_| json!({}))
        }
        other => panic!("{case}: the Rust runner cannot express `{other}`: list the case's hosts without rust"),
    }
}

/// What the case's error must hold: its code (VALIDATION when it names a field) and the field
/// (Rust spells arguments as the data does).
fn expected_error(case: &Value) -> Value {
    let mut out = json!({"code": case.get("code").cloned().unwrap_or(json!("VALIDATION"))});
    for key in ["field", "message"] {
        if let Some(v) = case.get(key) {
            out[key] = v.clone();
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn every_bad_argument_is_refused_by_name_through_the_rust_sdk() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/bad_arguments.json");
    let matrix: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let mut s = start_story(&matrix);
    run_steps(&mut s, matrix["setup"].as_array().unwrap()).await.unwrap();
    let unchanged = &matrix["unchanged"];
    let before = s.run(unchanged).await.unwrap().unwrap();
    let (mut failures, mut ran) = (Vec::new(), 0);
    for case in matrix["cases"].as_array().unwrap() {
        let hosts = case.get("hosts").and_then(Value::as_array);
        if hosts.is_some_and(|h| !h.contains(&json!(HOST))) {
            continue;
        }
        ran += 1;
        let name = case["name"].as_str().unwrap();
        let outcome = match bad_call(&s, case).await {
            Ok(_) => Err(format!("{name}: expected an error, the call succeeded")),
            Err(e) => check(Some(&error(e)), &expected_error(case), &format!("{name}: error")),
        };
        let after = s.run(unchanged).await.unwrap().unwrap();
        match outcome.and_then(|()| check(Some(&after), &before, &format!("{name}: changes nothing"))) {
            Ok(()) => println!("ok: {name}"),
            Err(e) => failures.push(e),
        }
    }
    assert!(ran >= 6, "the matrix ran {ran} cases through Rust");
    assert!(failures.is_empty(), "{} of {ran} cases failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn a_broken_expectation_fails() {
    let got = json!({"status": "ACTIVE", "items": [{"slug": "sandbox"}], "text": "link expired"});
    assert!(check(Some(&got), &json!({"status": "ACTIVE", "items": [{"slug": "sandbox"}]}), "x").is_ok());
    for wrong in [
        json!({"status": "FAILED"}),
        json!({"items": []}),
        json!({"items": [{"slug": "github"}]}),
        json!({"text": {"$contains": "revoked"}}),
        json!({"missing": {"$prefix": "a"}}),
        json!({"status": {"$absent": true}}),
    ] {
        assert!(check(Some(&got), &wrong, "x").is_err(), "{wrong} must not match {got}");
    }
}
