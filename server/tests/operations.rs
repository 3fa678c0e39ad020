//! What an operator relies on, against a real `grantline serve` process: `/healthz` and
//! `/readyz`, `/metrics` in the Prometheus text format, JSON logs with a request id and no
//! secret, and a graceful shutdown on SIGTERM that answers every open `/wait`.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{free_port, Broker, BrokerOptions, Browser, APP};
use grantline_core::model::AccountStatus;
use grantline_core::{AuthorizeOptions, SessionOptions};
use serde_json::Value;

fn sandbox_only() -> SessionOptions {
    SessionOptions { toolkits: vec!["sandbox".into()], manage_connections: Some(false), ..Default::default() }
}

async fn readyz(broker: &Broker) -> (u16, Value) {
    let resp = reqwest::get(broker.url("/readyz")).await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_says_ready_and_names_the_database_while_its_file_is_gone() {
    let broker = Broker::start(BrokerOptions::default());
    assert_eq!(reqwest::get(broker.url("/healthz")).await.unwrap().text().await.unwrap(), "ok");
    let (status, body) = readyz(&broker).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    for check in ["database", "migrations", "change_feed"] {
        assert_eq!(body["checks"][check], "ok", "{body}");
    }

    // The file moved away (an operator's mistake, a restore gone wrong): the broker's open
    // connections would go on answering from a file nobody will find again.
    let moved = broker.dir.path().join("moved.db");
    std::fs::rename(&broker.db_path, &moved).unwrap();
    let (status, body) = readyz(&broker).await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not_ready");
    let why = body["checks"]["database"].as_str().unwrap();
    assert!(why.contains("grantline.db") && why.contains("deleted"), "{body}");
    assert_eq!(body["checks"]["change_feed"], "ok", "only the database is at fault: {body}");
    // Liveness is not readiness: the process still answers.
    assert_eq!(reqwest::get(broker.url("/healthz")).await.unwrap().status().as_u16(), 200);

    // Another file in its place is no better.
    std::fs::write(&broker.db_path, b"").unwrap();
    let (status, body) = readyz(&broker).await;
    assert_eq!(status, 503, "{body}");
    assert!(body["checks"]["database"].as_str().unwrap().contains("replaced"), "{body}");

    // The file back where it was: ready again.
    std::fs::rename(&moved, &broker.db_path).unwrap();
    let (status, body) = readyz(&broker).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_answers_every_open_wait_with_its_current_state_then_exits_0() {
    const WAITS: usize = 200;
    let mut broker = Broker::start(BrokerOptions {
        extra_args: vec!["--shutdown-grace-secs".into(), "20".into()],
        ..Default::default()
    });
    let session = broker.client().create("u_shutdown", sandbox_only()).await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..WAITS {
        ids.push(session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap().id().to_string());
    }
    // One connection per wait, as many clients would hold.
    let http = broker.http();
    let waits: Vec<_> = ids
        .iter()
        .map(|id| {
            let req = http.get(broker.url(&format!("/api/v3.1/connected_accounts/{id}/wait?timeout_ms=110000")));
            tokio::spawn(async move {
                let resp = req.send().await.expect("the wait is answered, not cut off");
                let status = resp.status().as_u16();
                (status, resp.json::<Value>().await.expect("a JSON answer"))
            })
        })
        .collect();
    // Every wait is open (the broker's own gauge says so) before the signal.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let m = scrape(&broker, &http).await;
        if value(&m, "grantline_open_waits", &[]) == Some(WAITS as f64) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the waits never all opened: {:?}", value(&m, "grantline_open_waits", &[]));
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let started = std::time::Instant::now();
    let exit = tokio::task::spawn_blocking(move || {
        let status = broker.terminate();
        (status, broker)
    });
    for (i, w) in waits.into_iter().enumerate() {
        let (status, body) = w.await.unwrap();
        assert_eq!(status, 200, "wait {i}: {body}");
        assert_eq!(body["status"], "INITIATED", "wait {i} answers with the account as it is: {body}");
        assert_eq!(body["id"], ids[i].as_str());
    }
    let (status, _broker) = exit.await.unwrap();
    assert_eq!(status.code(), Some(0), "a graceful shutdown exits 0: {status:?}");
    // Answered at once, not when the 110 s waits (or the 20 s grace) ran out.
    assert!(started.elapsed() < Duration::from_secs(20), "shutdown took {:?}", started.elapsed());
}

// ---------------------------------------------------------------------------------------------
// Metrics

/// One sample of the text format: name, labels, value.
type Sample = (String, BTreeMap<String, String>, f64);

/// Parses the Prometheus text exposition format (0.0.4): `# HELP`/`# TYPE` lines, then
/// `name{label="value",…} value` lines; label values unescaped.
fn parse_prometheus(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        if let Some(comment) = line.strip_prefix('#') {
            let words: Vec<&str> = comment.split_whitespace().collect();
            assert!(matches!(words.first(), Some(&"HELP") | Some(&"TYPE")), "unknown comment: {line}");
            if words[0] == "TYPE" {
                assert!(
                    matches!(words.get(2), Some(&"counter" | &"gauge" | &"histogram" | &"summary" | &"untyped")),
                    "bad TYPE: {line}"
                );
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).expect("a sample line");
        let name = &line[..name_end];
        assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'), "bad name: {line}");
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(mut r) = rest.strip_prefix('{') {
            loop {
                r = r.trim_start_matches(',');
                if let Some(after) = r.strip_prefix('}') {
                    rest = after;
                    break;
                }
                let (key, after) = r.split_once("=\"").unwrap_or_else(|| panic!("a quoted label value: {line}"));
                let mut val = String::new();
                let mut chars = after.char_indices();
                let close = loop {
                    match chars.next().unwrap_or_else(|| panic!("an unclosed label value: {line}")) {
                        (i, '"') => break i,
                        (_, '\\') => match chars.next().expect("an escape").1 {
                            'n' => val.push('\n'),
                            c => val.push(c),
                        },
                        (_, c) => val.push(c),
                    }
                };
                labels.insert(key.to_string(), val);
                r = &after[close + 1..];
                assert!(r.starts_with(',') || r.starts_with('}'), "labels separated by commas: {line}");
            }
        }
        let value = rest.split_whitespace().next().expect("a value");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value in {line}")),
        };
        out.push((name.to_string(), labels, value));
    }
    out
}

/// The value of the sample named `name` whose labels include `labels`, summed over the others.
fn value(samples: &[Sample], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let matching: Vec<f64> = samples
        .iter()
        .filter(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v)))
        .map(|(_, _, v)| *v)
        .collect();
    (!matching.is_empty()).then(|| matching.iter().sum())
}

async fn scrape(broker: &Broker, http: &reqwest::Client) -> Vec<Sample> {
    let resp = http.get(broker.url("/metrics")).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/plain; version=0.0.4"));
    parse_prometheus(&resp.text().await.unwrap())
}

#[test]
fn the_test_parser_reads_the_text_format() {
    let s = parse_prometheus(
        "# HELP x_total X.\n# TYPE x_total counter\nx_total{a=\"1\",b=\"q\\\"uote\"} 3\ny 2.5\nh_bucket{le=\"+Inf\"} 4\n",
    );
    assert_eq!(s.len(), 3);
    assert_eq!(s[0].1["b"], "q\"uote");
    assert_eq!(value(&s, "x_total", &[("a", "1")]), Some(3.0));
    assert_eq!(value(&s, "y", &[]), Some(2.5));
    assert_eq!(value(&s, "h_bucket", &[("le", "+Inf")]), Some(4.0));
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_a_scripted_flow_and_answer_only_to_the_api_key() {
    let metrics_port = free_port();
    let broker = Broker::start(BrokerOptions {
        extra_args: vec!["--metrics-bind".into(), format!("127.0.0.1:{metrics_port}")],
        ..Default::default()
    });
    let gl = broker.client();
    let session = gl.create("u_metrics", sandbox_only()).await.unwrap();
    let ok = session.authorize("sandbox", AuthorizeOptions { callback_url: Some(format!("{APP}/done")), alias: None }).await.unwrap();
    let denied = session.authorize("sandbox", AuthorizeOptions { callback_url: Some(format!("{APP}/done")), alias: None }).await.unwrap();
    let waiter = tokio::spawn({
        let ok = ok.clone();
        async move { ok.wait_for_connection(Duration::from_secs(30)).await }
    });
    let landing = Browser::new().sandbox_consent(ok.redirect_url(), true).await;
    assert_eq!(landing.status().as_u16(), 303);
    assert_eq!(waiter.await.unwrap().unwrap().status, AccountStatus::Active);
    assert_eq!(Browser::new().sandbox_consent(denied.redirect_url(), false).await.status().as_u16(), 303);
    // A tool of a toolkit the user has not connected: the agent is told to connect first.
    let tools = gl
        .create("u_metrics", SessionOptions { toolkits: vec!["github".into()], manage_connections: Some(false), ..Default::default() })
        .await
        .unwrap();
    tools.execute("GITHUB_GET_THE_AUTHENTICATED_USER", Default::default(), None).await.unwrap();

    // Without the key: 401, and nothing of the metrics.
    let anonymous = reqwest::get(broker.url("/metrics")).await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);
    assert!(!anonymous.text().await.unwrap().contains("grantline_"));
    let wrong = reqwest::Client::new().get(broker.url("/metrics")).header("x-api-key", "gl_wrong").send().await.unwrap();
    assert_eq!(wrong.status().as_u16(), 401);

    let m = scrape(&broker, &broker.http()).await;
    let get = |name: &str, labels: &[(&str, &str)]| value(&m, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?}"));
    assert_eq!(get("grantline_flows_started_total", &[("toolkit", "sandbox"), ("kind", "connect")]), 2.0);
    assert_eq!(get("grantline_flows_finished_total", &[("toolkit", "sandbox"), ("outcome", "success")]), 1.0);
    assert_eq!(get("grantline_flows_finished_total", &[("toolkit", "sandbox"), ("outcome", "failed")]), 1.0);
    assert_eq!(get("grantline_callback_seconds_count", &[("toolkit", "sandbox")]), 1.0);
    assert_eq!(get("grantline_tool_executions_total", &[("toolkit", "github"), ("outcome", "not_connected")]), 1.0);
    assert_eq!(get("grantline_open_waits", &[]), 0.0);
    assert!(get("grantline_wait_seconds_count", &[("outcome", "resolved")]) >= 1.0);
    // HTTP requests by route template (never the ids in the path), method and status.
    assert_eq!(get("grantline_http_requests_total", &[("route", "/api/v3.1/tool_router/session"), ("method", "POST"), ("status", "201")]), 2.0);
    assert_eq!(get("grantline_http_requests_total", &[("route", "/api/v3.1/tool_router/session/{id}/link"), ("status", "201")]), 2.0);
    assert_eq!(get("grantline_http_requests_total", &[("route", "/metrics"), ("status", "401")]), 2.0);
    assert_eq!(get("grantline_http_request_duration_seconds_count", &[("route", "/oauth/callback"), ("method", "GET")]), 2.0);
    assert_eq!(get("grantline_http_request_duration_seconds_bucket", &[("route", "/oauth/callback"), ("le", "+Inf")]), 2.0);
    assert!(!m.iter().any(|(_, l, _)| l.values().any(|v| v.contains("ca_") || v.contains("ln_"))), "an id in a label");

    // The private listener: the same text, no credentials.
    let private = reqwest::get(format!("http://127.0.0.1:{metrics_port}/metrics")).await.unwrap();
    assert_eq!(private.status().as_u16(), 200);
    let p = parse_prometheus(&private.text().await.unwrap());
    assert_eq!(value(&p, "grantline_flows_started_total", &[("toolkit", "sandbox")]), Some(2.0));
    // It serves nothing else.
    let other = reqwest::get(format!("http://127.0.0.1:{metrics_port}/api/v3.1/connected_accounts")).await.unwrap();
    assert_eq!(other.status().as_u16(), 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn proxied_requests_are_counted_by_toolkit_and_outcome_with_the_providers_latency() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("u_proxy", sandbox_only()).await.unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions { callback_url: Some(format!("{APP}/done")), alias: None }).await.unwrap();
    assert_eq!(Browser::new().sandbox_consent(req.redirect_url(), true).await.status().as_u16(), 303);
    let proxy = |endpoint: String| {
        let (http, url) = (broker.http(), broker.url(&format!("/api/v3.1/tool_router/session/{}/proxy_execute", session.session_id())));
        async move {
            let r = http.post(url).json(&serde_json::json!({"toolkit": "sandbox", "endpoint": endpoint, "method": "GET"})).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200);
            r.json::<Value>().await.unwrap()["status"].as_u64().unwrap()
        }
    };
    assert_eq!(proxy(broker.url("/sandbox/oauth/userinfo")).await, 200);
    assert_eq!(proxy(broker.url("/sandbox/oauth/userinfo")).await, 200);
    assert_eq!(proxy(broker.url("/sandbox/no-such-endpoint")).await, 404, "the provider's refusal, passed on");

    let m = scrape(&broker, &broker.http()).await;
    let get = |name: &str, labels: &[(&str, &str)]| value(&m, name, labels).unwrap_or_else(|| panic!("no {name} {labels:?}"));
    assert_eq!(get("grantline_proxy_requests_total", &[("toolkit", "sandbox"), ("outcome", "ok")]), 2.0);
    assert_eq!(get("grantline_proxy_requests_total", &[("toolkit", "sandbox"), ("outcome", "provider_error")]), 1.0);
    assert_eq!(get("grantline_provider_request_seconds_count", &[("toolkit", "sandbox")]), 3.0, "each request's latency");
    assert_eq!(value(&m, "grantline_tool_executions_total", &[("toolkit", "sandbox")]), None, "a proxied request is not a tool run");
}

// ---------------------------------------------------------------------------------------------
// Logs

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_carry_a_request_id_on_every_request_line_and_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let log_file = dir.path().join("broker.log");
    let mut broker = Broker::start(BrokerOptions {
        extra_args: vec!["--log-format".into(), "json".into()],
        stderr_to: Some(log_file.clone()),
        // As chatty as an operator would make it.
        log_filter: Some("info,grantline_server=trace,grantline_core=trace".into()),
        ..Default::default()
    });
    let gl = broker.client();
    let mut secrets: Vec<String> = vec![broker.api_key.clone(), broker.key.clone()];

    let session = gl.create("u_logs", sandbox_only()).await.unwrap();
    let token = broker
        .http()
        .post(broker.url(&format!("/api/v3.1/tool_router/session/{}/client_token", session.session_id())))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(token.status().as_u16(), 201);
    let token: Value = token.json().await.unwrap();
    let client_token = token["token"].as_str().unwrap().to_string();
    secrets.push(client_token.clone());
    // The widget uses it.
    let seen = reqwest::Client::new()
        .get(broker.url(&format!("/api/v3.1/tool_router/session/{}", session.session_id())))
        .bearer_auth(&client_token)
        .send()
        .await
        .unwrap();
    assert_eq!(seen.status().as_u16(), 200);

    let req = session.authorize("sandbox", AuthorizeOptions { callback_url: Some(format!("{APP}/done")), alias: None }).await.unwrap();
    let link_token = req.redirect_url().rsplit('/').next().unwrap().to_string();
    assert!(link_token.starts_with("ln_"));
    secrets.push(link_token);
    // The hops the browser makes carry the `state`, the code and the PKCE challenge.
    let browser = Browser::new();
    let to_provider = browser.http.get(req.redirect_url()).send().await.unwrap();
    let authorize = url::Url::parse(to_provider.headers()["location"].to_str().unwrap()).unwrap();
    for (k, v) in authorize.query_pairs() {
        if k == "state" || k == "code_challenge" {
            secrets.push(v.to_string());
        }
    }
    let landing = browser.sandbox_consent(req.redirect_url(), true).await;
    assert_eq!(landing.status().as_u16(), 303);
    assert_eq!(req.wait_for_connection(Duration::from_secs(10)).await.unwrap().status, AccountStatus::Active);
    // A request with a caller's id keeps it; a hostile one is replaced.
    let given = broker.http().get(broker.url("/readyz")).header("x-request-id", "trace-abc-123").send().await.unwrap();
    assert_eq!(given.headers()["x-request-id"], "trace-abc-123");
    let hostile = broker.http().get(broker.url("/readyz")).header("x-request-id", "a\"b c").send().await.unwrap();
    assert!(hostile.headers()["x-request-id"].to_str().unwrap().starts_with("req_"));
    // Failed credentials are logged as failures, not as the key tried.
    let bad_key = "gl_this-key-is-wrong-0123456789";
    secrets.push(bad_key.into());
    let refused = reqwest::Client::new().get(broker.url("/api/v3.1/connected_accounts")).header("x-api-key", bad_key).send().await.unwrap();
    assert_eq!(refused.status().as_u16(), 401);
    gl.connected_accounts().delete(req.id()).await.unwrap();

    let status = broker.terminate();
    assert_eq!(status.code(), Some(0));
    let logs = std::fs::read_to_string(&log_file).unwrap();
    let lines: Vec<&str> = logs.lines().filter(|l| !l.trim().is_empty()).collect();
    let mut request_lines = 0;
    let mut ids = std::collections::HashSet::new();
    for line in &lines {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(v["timestamp"].is_string() && v["level"].is_string(), "{line}");
        if v["message"] == "request" {
            request_lines += 1;
            let id = v["span"]["request_id"].as_str().unwrap_or_else(|| panic!("a request line without request_id: {line}"));
            ids.insert(id.to_string());
            assert!(v["route"].is_string() && v["status"].is_number(), "{line}");
        }
        if let Some(span) = v.get("span") {
            assert!(span["request_id"].is_string(), "a line inside a request without its id: {line}");
        }
    }
    assert!(request_lines >= 10, "{request_lines} request lines:\n{logs}");
    assert!(ids.len() >= request_lines - 1, "request ids are unique per request");
    assert!(ids.contains("trace-abc-123"));
    // Engine lines logged while serving a request carry its id too.
    assert!(
        lines.iter().any(|l| l.contains("connection finished") && l.contains("request_id")),
        "the flow's own line carries the callback's request id:\n{logs}"
    );
    for secret in &secrets {
        assert!(!logs.contains(secret.as_str()), "a secret ({}…) is in the logs", &secret[..secret.len().min(6)]);
    }
    for prefix in ["sbx_at_", "sbx_rt_"] {
        assert!(!logs.contains(prefix), "{prefix} appears in the logs");
    }
}

// ---------------------------------------------------------------------------------------------
// Readiness on PostgreSQL

/// A TCP relay on 127.0.0.1 to `to` that can cut every connection it carries and refuse new
/// ones (the database server "going away"), then carry them again.
struct Relay {
    port: u16,
    up: std::sync::Arc<std::sync::atomic::AtomicBool>,
    conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Relay {
    async fn start(to: String) -> Relay {
        use std::sync::atomic::Ordering;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let conns: std::sync::Arc<std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>> = Default::default();
        let (up2, conns2) = (up.clone(), conns.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut inbound, _)) = listener.accept().await else { return };
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is closed at once
                }
                let to = to.clone();
                conns2.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(&to).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Relay { port, up, conns, task }
    }

    fn cut(&self) {
        self.up.store(false, std::sync::atomic::Ordering::SeqCst);
        for c in self.conns.lock().unwrap().drain(..) {
            c.abort();
        }
    }

    fn restore(&self) {
        self.up.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
        self.task.abort();
    }
}

/// Polls `/readyz` until its answer satisfies `done` (the change feed reconnects with a backoff).
async fn readyz_until(broker: &Broker, what: &str, done: impl Fn(u16, &Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = readyz(broker).await;
        if done(status, &body) {
            return body;
        }
        assert!(tokio::time::Instant::now() < deadline, "/readyz never said {what}: {status} {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_on_postgresql_names_the_database_and_the_change_feed_while_the_server_is_unreachable() {
    let Some(server) = common::cluster::postgres_url("readyz_on_postgresql") else { return };
    let database = common::cluster::fresh_database(&server);
    let mut via = url::Url::parse(&database).unwrap();
    let real = format!("{}:{}", via.host_str().unwrap(), via.port().unwrap_or(5432));
    let relay = Relay::start(real).await;
    via.set_host(Some("127.0.0.1")).unwrap();
    via.set_port(Some(relay.port)).unwrap();
    let broker = tokio::task::spawn_blocking(move || Broker::start(BrokerOptions { database_url: Some(via.to_string()), ..Default::default() }))
        .await
        .unwrap();
    let body = readyz_until(&broker, "ready", |status, _| status == 200).await;
    assert_eq!(body["checks"]["change_feed"], "ok", "{body}");

    relay.cut();
    let body = readyz_until(&broker, "both down", |status, b| {
        status == 503 && b["checks"]["database"] != "ok" && b["checks"]["change_feed"] != "ok"
    })
    .await;
    assert!(body["checks"]["change_feed"].as_str().unwrap().contains("reconnecting"), "{body}");
    assert!(!body.to_string().contains(&server), "the database URL (its password) is not shown: {body}");

    relay.restore();
    let body = readyz_until(&broker, "ready again", |status, _| status == 200).await;
    assert_eq!(body["status"], "ready", "{body}");
}
