//! The broker's HTTP hardening (issue 16): pages built on the public URL, private page headers,
//! the callback URL's outcome parameters, dev mode's limits, rate limits per credential,
//! the header read timeout and the connection limit.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{query, Broker, BrokerOptions, Browser, APP};
use grantline_core::{AuthorizeOptions, Error, SessionOptions};
use serde_json::Value;

const PUBLIC: &str = "https://apps.example.com/grantline";

/// An API-key toolkit (a connect form) declared with `--providers`.
const KEYS_TOOLKIT: &str = r#"
[[toolkit]]
slug = "acme_keys"
name = "Acme"
description = "Acme's API"
logo = "https://acme.example/logo.png"
auth = "api_key"
api_base_url = "https://api.acme.example"
fields = [{ name = "api_key", label = "API key", secret = true }]
credential = { header = "x-api-key", value = "{api_key}" }
"#;

fn keys_toolkit() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("providers.toml");
    std::fs::write(&path, KEYS_TOOLKIT).unwrap();
    (dir, path)
}

fn sessions(toolkits: &[&str]) -> SessionOptions {
    SessionOptions { toolkits: toolkits.iter().map(|t| t.to_string()).collect(), manage_connections: Some(false), ..Default::default() }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// The `action` of the page's one form.
fn form_action(html: &str) -> String {
    let start = html.find("action=\"").expect("a form") + "action=\"".len();
    html[start..][..html[start..].find('"').unwrap()].replace("&amp;", "&")
}

/// Asserts the headers of a page that carries a link token, a `state` or a form.
fn assert_private(resp: &reqwest::Response) {
    let h = resp.headers();
    assert_eq!(h["x-frame-options"], "DENY", "{h:?}");
    assert_eq!(h["content-security-policy"], "frame-ancestors 'none'");
    assert_eq!(h["referrer-policy"], "no-referrer");
    assert_eq!(h["cache-control"], "no-store");
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_behind_a_path_prefix_post_their_forms_to_the_public_url() {
    let (_dir, providers) = keys_toolkit();
    let broker = Broker::start(BrokerOptions { public_url: Some(PUBLIC.into()), providers: Some(providers), ..Default::default() });
    // The proxy in front strips `/grantline`; the test plays it.
    let local = |public: &str| broker.url(public.strip_prefix(PUBLIC).unwrap_or_else(|| panic!("{public} is not on {PUBLIC}")));
    let session = broker.client().create("u", sessions(&["acme_keys", "sandbox"])).await.unwrap();

    let keys = session.authorize("acme_keys", AuthorizeOptions::default()).await.unwrap();
    assert!(keys.redirect_url().starts_with(&format!("{PUBLIC}/link/ln_")), "{}", keys.redirect_url());
    let page = no_redirects().get(local(keys.redirect_url())).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    assert_private(&page);
    let html = page.text().await.unwrap();
    assert_eq!(form_action(&html), keys.redirect_url(), "the API key is posted to the broker, under its path");

    let sandbox = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let to_consent = no_redirects().get(local(sandbox.redirect_url())).send().await.unwrap();
    assert_eq!(to_consent.status().as_u16(), 303);
    assert_private(&to_consent);
    let consent_url = to_consent.headers()["location"].to_str().unwrap().to_string();
    assert!(consent_url.starts_with(&format!("{PUBLIC}/sandbox/oauth/authorize?")), "{consent_url}");
    let consent = no_redirects().get(local(&consent_url)).send().await.unwrap();
    assert_eq!(consent.status().as_u16(), 200);
    assert_private(&consent);
    assert_eq!(form_action(&consent.text().await.unwrap()), format!("{PUBLIC}/sandbox/oauth/authorize"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_callback_url_carries_only_the_brokers_status_and_account_id() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("u", sessions(&["sandbox"])).await.unwrap();
    let callback = format!("{APP}/done?status=success&connected_account_id=ca_victim&tab=2");
    let req = session.authorize("sandbox", AuthorizeOptions { callback_url: Some(callback), alias: None }).await.unwrap();
    let back = Browser::new().sandbox_consent(req.redirect_url(), false).await;
    assert_eq!(back.status().as_u16(), 303);
    assert_private(&back);
    let landing = back.headers()["location"].to_str().unwrap().to_string();
    let pairs: Vec<(String, String)> = url::Url::parse(&landing).unwrap().query_pairs().into_owned().collect();
    let count = |k: &str| pairs.iter().filter(|(key, _)| key == k).count();
    assert_eq!((count("status"), count("connected_account_id")), (1, 1), "{landing}");
    let q = query(&landing);
    assert_eq!((q["status"].as_str(), q["connected_account_id"].as_str(), q["tab"].as_str()), ("failed", req.id(), "2"));
}

/// Starts `grantline serve` with `args` and returns how it ended, or `None` once it listens.
fn serve_outcome(args: &[&str]) -> Option<String> {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("g.db").display());
    let mut child = Command::new(env!("CARGO_BIN_EXE_grantline"))
        .args(["serve", "--database-url", &db, "--encryption-key", &grantline_core::engine::vault::Vault::generate_key().unwrap()])
        .args(args)
        .env("GRANTLINE_LOG", "warn")
        .env_remove("GRANTLINE_DEV")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = [0u8; 4096];
    loop {
        match stdout.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => out.push_str(&String::from_utf8_lossy(&buf[..n])),
        }
        if out.contains("grantline listening") {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
    }
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    assert!(!child.wait().unwrap().success());
    Some(err)
}

#[test]
fn a_dev_broker_refuses_a_non_loopback_bind_unless_forced() {
    let err = serve_outcome(&["--dev", "--bind", "0.0.0.0:0"]).expect("--dev on 0.0.0.0 must not start");
    assert!(err.contains("--dev-allow-remote") && err.contains("loopback"), "{err}");
    assert!(serve_outcome(&["--dev", "--bind", "0.0.0.0:0", "--dev-allow-remote"]).is_none(), "forced, it starts");
    assert!(serve_outcome(&["--dev", "--bind", "127.0.0.1:0"]).is_none(), "loopback is fine");
    assert!(serve_outcome(&["--bind", "0.0.0.0:0"]).is_none(), "without --dev any address is fine");
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_mode_loopback_entries_end_with_the_dev_process() {
    let (_dir, providers) = keys_toolkit();
    let mut broker = Broker::start(BrokerOptions { providers: Some(providers), ..Default::default() });
    let local_app = AuthorizeOptions { callback_url: Some("http://localhost:3000/cb".into()), alias: None };
    let session = broker.client().create("u", sessions(&["acme_keys"])).await.unwrap();
    session.authorize("acme_keys", local_app.clone()).await.expect("a dev broker allows loopback callbacks");
    let preflight = |broker: &Broker| {
        let url = broker.url("/api/v3.1/client_token/session");
        async move {
            no_redirects()
                .request(reqwest::Method::OPTIONS, url)
                .header("origin", "http://localhost:5173")
                .header("access-control-request-method", "GET")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(preflight(&broker).await, 204);

    broker.opts.dev = false;
    broker.restart();
    let session = broker.client().create("u", sessions(&["acme_keys"])).await.unwrap();
    match session.authorize("acme_keys", local_app).await {
        Err(Error::Validation { field, .. }) => assert_eq!(field, "callback_url"),
        other => panic!("without --dev a loopback callback must be refused, got {other:?}"),
    }
    assert_eq!(preflight(&broker).await, 403, "nor is a loopback origin allowed");
    use grantline_core::engine::store::Store;
    let project = grantline_core::engine::store::SqliteStore::open(&broker.db_path).unwrap().first_project().await.unwrap().unwrap();
    assert!(!project.allowed_callback_urls.iter().chain(&project.allowed_origins).any(|u| u.contains("localhost") || u.contains("127.0.0.1")));
}

/// The status, `Retry-After` and body of an answer.
async fn answer(resp: reqwest::Response) -> (u16, Option<u64>, String) {
    let status = resp.status().as_u16();
    let retry = resp.headers().get("retry-after").map(|v| v.to_str().unwrap().parse().unwrap());
    (status, retry, resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn client_tokens_and_link_forms_are_rate_limited_with_retry_after() {
    let (_dir, providers) = keys_toolkit();
    let limits = ["--rate-limit-client-token", "3/min:3", "--rate-limit-link-form", "2/min:2"].map(String::from).to_vec();
    let broker = Broker::start(BrokerOptions { providers: Some(providers), extra_args: limits, ..Default::default() });
    let session = broker.client().create("u", sessions(&["acme_keys"])).await.unwrap();
    let (mine, other) = (session.client_token(None).await.unwrap().token, session.client_token(None).await.unwrap().token);
    let me = |token: &str| no_redirects().get(broker.url("/api/v3.1/client_token/session")).bearer_auth(token).send();
    for _ in 0..3 {
        assert_eq!(me(&mine).await.unwrap().status().as_u16(), 200);
    }
    let (status, retry, body) = answer(me(&mine).await.unwrap()).await;
    assert_eq!(status, 429, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["slug"], "RATE_LIMITED");
    assert!(retry.is_some_and(|r| r >= 1) && body["error"]["retry_after"] == retry.unwrap(), "{body}");
    assert_eq!(me(&other).await.unwrap().status().as_u16(), 200, "each token has its own bucket");

    let link = session.authorize("acme_keys", AuthorizeOptions::default()).await.unwrap().redirect_url().to_string();
    let submit = || no_redirects().post(&link).form(&[("api_key", " ")]).send();
    for _ in 0..2 {
        assert_eq!(submit().await.unwrap().status().as_u16(), 422, "an empty key, refused by the form");
    }
    let (status, retry, page) = answer(submit().await.unwrap()).await;
    assert_eq!(status, 429, "{page}");
    assert!(retry.is_some_and(|r| r >= 1));
    assert!(page.contains("too many requests"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_keys_are_rate_limited_only_when_configured() {
    let list = |broker: &Broker| broker.http().get(broker.url("/api/v3.1/connected_accounts"));
    let open = Broker::start(BrokerOptions { dev: false, ..Default::default() });
    for _ in 0..50 {
        assert_eq!(list(&open).send().await.unwrap().status().as_u16(), 200, "no limit on API keys by default");
    }
    let limited = Broker::start(BrokerOptions { dev: false, extra_args: vec!["--rate-limit-api-key".into(), "2/min:2".into()], ..Default::default() });
    for _ in 0..2 {
        assert_eq!(list(&limited).send().await.unwrap().status().as_u16(), 200);
    }
    let (status, retry, _) = answer(list(&limited).send().await.unwrap()).await;
    assert_eq!((status, retry.is_some()), (429, true));
}

fn addr(broker: &Broker) -> String {
    broker.base_url.strip_prefix("http://").unwrap().to_string()
}

#[test]
fn a_half_sent_request_is_dropped_after_the_header_read_timeout() {
    let broker = Broker::start(BrokerOptions { dev: false, extra_args: vec!["--header-read-timeout-secs".into(), "1".into()], ..Default::default() });
    let mut conn = TcpStream::connect(addr(&broker)).unwrap();
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").unwrap();
    // Generous: only that the broker closes it, not how fast.
    conn.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut rest = Vec::new();
    match conn.read_to_end(&mut rest) {
        Ok(_) => {}
        Err(e) => assert_ne!(e.kind(), std::io::ErrorKind::WouldBlock, "the broker kept a half-sent request open"),
    }
    assert!(!String::from_utf8_lossy(&rest).contains("200 OK"), "a half request is never answered");
}

fn healthz(conn: &mut TcpStream) -> std::io::Result<String> {
    conn.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")?;
    let mut buf = [0u8; 1024];
    let n = conn.read(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
}

#[test]
fn past_the_connection_limit_new_connections_wait_for_a_free_slot() {
    let broker = Broker::start(BrokerOptions { dev: false, extra_args: vec!["--max-connections".into(), "2".into()], ..Default::default() });
    let mut first = TcpStream::connect(addr(&broker)).unwrap();
    let mut second = TcpStream::connect(addr(&broker)).unwrap();
    assert!(healthz(&mut first).unwrap().contains("200 OK"));
    assert!(healthz(&mut second).unwrap().contains("200 OK"));
    let mut third = TcpStream::connect(addr(&broker)).unwrap();
    third.set_read_timeout(Some(Duration::from_millis(1500))).unwrap();
    let waiting = healthz(&mut third);
    assert!(waiting.as_ref().map_or(true, |r| r.is_empty()), "a third connection was served past a limit of 2: {waiting:?}");
    drop(first);
    third.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut buf = [0u8; 1024];
    let n = third.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("200 OK"), "served once a slot freed");
}

#[test]
fn a_request_refused_before_its_body_arrived_is_answered_with_connection_close() {
    // An MCP client's first request is refused (401, log in first) before the broker reads its
    // body. If the body is still on its way, the connection cannot be reused: the answer must
    // say so, or the client's next request goes out on a socket that is closing.
    let broker = Broker::start(BrokerOptions { dev: false, ..Default::default() });
    let mut conn = TcpStream::connect(addr(&broker)).unwrap();
    conn.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize"}"#;
    let head = format!(
        "POST /tool_router/trs_0123456789abcdef/mcp HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).unwrap();
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(answer.starts_with("http/1.1 401"), "{answer}");
    assert!(answer.contains("\r\nconnection: close\r\n"), "the answer says the connection ends: {answer}");

    // A request whose body was read keeps its connection.
    let mut conn = TcpStream::connect(addr(&broker)).unwrap();
    let body = r#"{"user_id":"alice"}"#;
    let request = format!(
        "POST /api/v3.1/tool_router/session HTTP/1.1\r\nHost: x\r\nx-api-key: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        broker.api_key,
        body.len()
    );
    conn.write_all(request.as_bytes()).unwrap();
    let mut buf = [0u8; 8192];
    let n = conn.read(&mut buf).unwrap();
    let first = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
    assert!(first.starts_with("http/1.1 201") && !first.contains("connection: close"), "{first}");
    assert!(healthz(&mut conn).unwrap().contains("200 OK"), "the same connection serves the next request");
}
