//! Broker benchmarks on loopback with a real SQLite file (run: `cargo bench -p grantline-server`).
//!
//! 1. `authorize` (POST …/link) throughput and p50/p99 latency.
//! 2. How fast a waiter learns the outcome after the OAuth callback: the long-poll `/wait`
//!    beside a client polling every second, over the same number of flows in one run.
//! 3. Tool execution (POST …/execute of the sandbox's who-am-I tool: account lookup, vault
//!    open, the provider call on loopback) and tool search (BM25 over the catalog).

use std::sync::Arc;
use std::time::{Duration, Instant};

use grantline_core::client::WaitOptions;
use grantline_core::engine::vault::Vault;
use grantline_core::engine::{Engine, EngineConfig};
use grantline_core::{AuthorizeOptions, Client, ClientConfig, ConnectionRequest, Session, SessionOptions};
use grantline_server::config::StoreArgs;

const AUTHORIZE_REQUESTS: usize = 2000;
const AUTHORIZE_CONCURRENCY: usize = 16;
const FLOWS: usize = 200;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    rt.block_on(run());
}

async fn run() {
    let dir = tempfile::tempdir().unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let store = StoreArgs {
        database_url: dir.path().join("bench.db").display().to_string(),
        encryption_key: Some(Vault::generate_key().unwrap()),
        encryption_keys: None,
        dev: true,
        providers: None,
    };
    let engine: Arc<Engine> =
        store.open(EngineConfig::new(url::Url::parse(&format!("http://{addr}")).unwrap())).await.unwrap().engine;
    let key = engine.bootstrap(&[], &[]).await.unwrap().created_key.unwrap().secret;
    let base = format!("http://{addr}");
    grantline_server::spawn(engine, listener, std::future::pending()).unwrap();
    let client = Client::new(ClientConfig::with_api_key(&base, &key)).unwrap();
    let session = client
        .create("bench-user", SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() })
        .await
        .unwrap();

    println!("grantline broker benchmarks (loopback, SQLite WAL file, {} cores)", std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1));
    authorize_throughput(&session).await;
    let long_poll = wake_latency(&session, WaitOptions { timeout: Duration::from_secs(60), ..Default::default() }).await;
    let polling = wake_latency(
        &session,
        WaitOptions { timeout: Duration::from_secs(60), poll_interval: Duration::from_secs(1), long_poll: false, ..Default::default() },
    )
    .await;
    println!("\nwait resolution after the callback, {FLOWS} flows each:");
    report("  long-poll /wait     ", &long_poll);
    report("  polling every 1 s   ", &polling);
    // A user with one connected account, as tools usually see them.
    let tools_session = client
        .create("bench-tools-user", SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() })
        .await
        .unwrap();
    let req = tools_session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    browser.get(consent(&browser, req.redirect_url()).await).send().await.unwrap();
    req.wait_for_connection(Duration::from_secs(10)).await.unwrap();
    execute_throughput(&tools_session).await;
    search_latency(&tools_session).await;
}

const EXECUTE_REQUESTS: usize = 2000;
const SEARCHES: usize = 1000;

async fn execute_throughput(session: &Session) {
    throughput(session, "execute (POST …/execute, SANDBOX_GET_CURRENT_USER)", "calls/s", EXECUTE_REQUESTS, |s| async move {
        let r = s.execute("SANDBOX_GET_CURRENT_USER", Default::default(), None).await.unwrap();
        assert!(r.successful, "{r:?}");
    })
    .await;
}

async fn search_latency(session: &Session) {
    let queries = ["open a bug report issue", "send a message to the team channel", "find unread emails from alice", "who am i"];
    let mut lat = Vec::with_capacity(SEARCHES);
    for i in 0..SEARCHES {
        let q = grantline_core::model::SearchRequest::use_case(queries[i % queries.len()], vec![], Some(5));
        let t = Instant::now();
        session.search(&q).await.unwrap();
        lat.push(t.elapsed());
    }
    println!("
search (POST …/search, BM25 over the session's tools), {SEARCHES} sequential queries:");
    report("  latency             ", &lat);
}

async fn authorize_throughput(session: &Session) {
    throughput(session, "authorize (POST …/link)", "req/s", AUTHORIZE_REQUESTS, |s| async move {
        s.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    })
    .await;
}

/// Runs `total` calls of `call` from `AUTHORIZE_CONCURRENCY` tasks and prints the rate and latency.
async fn throughput<F, Fut>(session: &Session, what: &str, unit: &str, total: usize, call: F)
where
    F: Fn(Session) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let per_task = total / AUTHORIZE_CONCURRENCY;
    let tasks: Vec<_> = (0..AUTHORIZE_CONCURRENCY)
        .map(|_| {
            let (s, call) = (session.clone(), call.clone());
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(per_task);
                for _ in 0..per_task {
                    let t = Instant::now();
                    call(s.clone()).await;
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let secs = started.elapsed().as_secs_f64();
    println!("\n{what}: {} calls, concurrency {AUTHORIZE_CONCURRENCY}: {:.0} {unit}", all.len(), all.len() as f64 / secs);
    report("  latency             ", &all);
}

/// Runs `FLOWS` complete flows with a waiter already blocked, and returns for each the time
/// from sending the provider's redirect to the broker's callback until the waiter resolved.
async fn wake_latency(session: &Session, options: WaitOptions) -> Vec<Duration> {
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut pending: Vec<(ConnectionRequest, String)> = Vec::with_capacity(FLOWS);
    for _ in 0..FLOWS {
        let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
        pending.push((req.clone(), consent(&browser, req.redirect_url()).await));
    }
    // Every waiter is blocked before any callback arrives.
    let waiters: Vec<_> = pending
        .iter()
        .map(|(req, _)| {
            let req = req.clone();
            tokio::spawn(async move {
                req.wait_with(options, std::future::pending::<grantline_core::Error>()).await.unwrap();
                Instant::now()
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut sent = Vec::with_capacity(FLOWS);
    for (_, callback) in &pending {
        sent.push(Instant::now());
        assert!(browser.get(callback).send().await.unwrap().status().is_success());
    }
    let mut out = Vec::with_capacity(FLOWS);
    for (w, s) in waiters.into_iter().zip(sent) {
        out.push(w.await.unwrap().saturating_duration_since(s));
    }
    out
}

/// Opens the link and allows on the sandbox consent page; returns the callback URL (not yet fetched).
async fn consent(browser: &reqwest::Client, link: &str) -> String {
    let to_provider = browser.get(link).send().await.unwrap();
    let authorize = url::Url::parse(to_provider.headers()["location"].to_str().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "allow".into()));
    form.push(("user".into(), "bench".into()));
    let endpoint = format!("{}://{}{}", authorize.scheme(), authorize.authority(), authorize.path());
    let to_callback = browser.post(endpoint).form(&form).send().await.unwrap();
    to_callback.headers()["location"].to_str().unwrap().to_string()
}

fn report(label: &str, samples: &[Duration]) {
    let mut v: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let pct = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    println!("{label} p50 {:>8.2} ms   p99 {:>8.2} ms   max {:>8.2} ms", pct(0.50), pct(0.99), v[v.len() - 1]);
}
