//! Scale-out benchmark, in one run (`scripts/bench-scale-out.sh` builds it and starts a private
//! PostgreSQL): release `grantline serve --dev` processes on loopback, one client process.
//!
//! 1. `authorize` (POST …/session/{id}/link) req/s and p50/p99 on SQLite (1 broker), PostgreSQL
//!    (1 broker) and PostgreSQL (3 brokers, the client going round-robin over them), the same
//!    concurrency and duration for each.
//! 2. `/wait` wake latency after the OAuth callback (p50/p99) on 3 brokers sharing PostgreSQL:
//!    with the waiter on the broker that takes the callback, and on another broker.
//!
//! Env: `GRANTLINE_BENCH_POSTGRES_URL` (a server it may create databases on). Flags:
//! `--grantline PATH`, `--seconds N` per authorize run (10), `--concurrency N` (32), `--flows N` (100).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use grantline_core::{AuthorizeOptions, Client, ClientConfig, Session, SessionOptions};

#[path = "common/broker.rs"]
mod broker;
use broker::Broker;

struct Options {
    grantline: PathBuf,
    seconds: u64,
    concurrency: usize,
    flows: usize,
}

fn options() -> Options {
    let exe = std::env::current_exe().expect("current exe");
    let grantline = exe.parent().and_then(Path::parent).map(|d| d.join("grantline")).unwrap_or_else(|| "grantline".into());
    let mut o = Options { grantline, seconds: 10, concurrency: 32, flows: 100 };
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        let number = || value.parse::<usize>().unwrap_or_else(|_| panic!("{flag}: expected a number, got {value:?}"));
        match flag.as_str() {
            "--grantline" => o.grantline = PathBuf::from(&value),
            "--seconds" => o.seconds = number() as u64,
            "--concurrency" => o.concurrency = number(),
            "--flows" => o.flows = number(),
            other => panic!("unknown flag {other}"),
        }
    }
    o
}

/// `grantline serve --test ARGS` on `database_url` (the first broker generates the encryption
/// key, the others are given it), its log into `log`.
fn start(bin: &Path, database_url: &str, public_url: Option<&str>, key: Option<&str>, log: &Path) -> Broker {
    let mut args = vec!["--database-url", database_url];
    if let Some(u) = public_url {
        args.extend(["--public-url", u]);
    }
    if let Some(k) = key {
        args.extend(["--encryption-key", k]);
    }
    Broker::spawn(bin, &args, "warn", std::fs::File::create(log).unwrap())
}

/// `n` brokers on `database_url`; the first one's address is everyone's public URL.
fn cluster(o: &Options, database_url: &str, n: usize, dir: &Path) -> (Vec<Broker>, String) {
    let first = start(&o.grantline, database_url, None, None, &dir.join("broker-0.log"));
    let key = first.key().to_string();
    let public = first.base.clone();
    let sealing = first.encryption_key.clone();
    let mut nodes = vec![first];
    for i in 1..n {
        nodes.push(start(&o.grantline, database_url, Some(&public), Some(&sealing), &dir.join(format!("broker-{i}.log"))));
    }
    (nodes, key)
}

fn fresh_database(server: &str, name: &str) -> String {
    let out = Command::new("psql").args([server, "-qc", &format!("CREATE DATABASE {name}")]).output().expect("psql");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut url = url::Url::parse(server).unwrap();
    url.set_path(&format!("/{name}"));
    url.to_string()
}

fn pct(samples: &mut [Duration], p: f64) -> f64 {
    samples.sort();
    samples.get(((samples.len() as f64 - 1.0) * p).round() as usize).map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
}

/// Authorize for `seconds` from `concurrency` tasks, round-robin over the brokers' sessions.
async fn authorize_load(o: &Options, sessions: &[Session]) -> (f64, Vec<Duration>) {
    let next = Arc::new(AtomicUsize::new(0));
    let until = Instant::now() + Duration::from_secs(o.seconds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..o.concurrency)
        .map(|_| {
            let (sessions, next) = (sessions.to_vec(), next.clone());
            tokio::spawn(async move {
                let mut lat = Vec::new();
                while Instant::now() < until {
                    let s = &sessions[next.fetch_add(1, Ordering::Relaxed) % sessions.len()];
                    let t = Instant::now();
                    s.authorize("sandbox", AuthorizeOptions::default()).await.expect("authorize");
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
    (all.len() as f64 / started.elapsed().as_secs_f64(), all)
}

async fn sessions_on(nodes: &[Broker], key: &str) -> Vec<Session> {
    let first = Client::new(ClientConfig::with_api_key(&nodes[0].base, key)).unwrap();
    let opts = SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() };
    let created = first.create("bench-user", opts).await.unwrap();
    let mut out = vec![];
    for n in nodes {
        let c = Client::new(ClientConfig::with_api_key(&n.base, key)).unwrap();
        out.push(c.use_session(created.session_id()).await.unwrap());
    }
    out
}

/// Consents to a sandbox link up to the callback, returning the callback URL (not fetched).
async fn consent(browser: &reqwest::Client, link: &str) -> String {
    let to_provider = browser.get(link).send().await.unwrap();
    let to = url::Url::parse(to_provider.headers()["location"].to_str().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = to.query_pairs().into_owned().collect();
    form.extend([("user".into(), "bench".into()), ("decision".into(), "allow".into())]);
    let endpoint = format!("{}://{}{}", to.scheme(), to.authority(), to.path());
    let to_callback = browser.post(endpoint).form(&form).send().await.unwrap();
    to_callback.headers()["location"].to_str().unwrap().to_string()
}

/// For `flows` flows: a waiter blocked on `waiter_node`, the callback sent to node 0 (the public
/// URL); the time from sending the callback until the waiter answered.
async fn wake(o: &Options, sessions: &[Session], nodes: &[Broker], key: &str, waiter_node: usize) -> Vec<Duration> {
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let waiter = Client::new(ClientConfig::with_api_key(&nodes[waiter_node].base, key)).unwrap();
    let mut out = Vec::with_capacity(o.flows);
    for _ in 0..o.flows {
        let req = sessions[0].authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
        let callback = consent(&browser, req.redirect_url()).await;
        let (w, id) = (waiter.clone(), req.id().to_string());
        let (tx, rx) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            w.connected_accounts().wait_for_connection(&id, Duration::from_secs(30)).await.unwrap();
            let _ = tx.send(Instant::now());
        });
        tokio::time::sleep(Duration::from_millis(20)).await; // the wait is open
        let sent = Instant::now();
        browser.get(&callback).send().await.unwrap();
        out.push(rx.await.unwrap().duration_since(sent));
    }
    out
}

#[tokio::main]
async fn main() {
    let o = options();
    let server = std::env::var("GRANTLINE_BENCH_POSTGRES_URL").expect("GRANTLINE_BENCH_POSTGRES_URL (scripts/bench-scale-out.sh sets it)");
    let dir = tempfile::tempdir().unwrap();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("grantline scale-out benchmark: release brokers and this client on one machine ({cores} cores), loopback");
    println!("authorize: {} concurrent callers for {} s each\n", o.concurrency, o.seconds);

    let configs: [(&str, String, usize); 3] = [
        ("SQLite, 1 broker", format!("sqlite://{}", dir.path().join("bench.db").display()), 1),
        ("PostgreSQL, 1 broker", fresh_database(&server, "grantline_bench_one"), 1),
        ("PostgreSQL, 3 brokers", fresh_database(&server, "grantline_bench_three"), 3),
    ];
    let mut three = None;
    for (name, url, n) in configs {
        let (nodes, key) = cluster(&o, &url, n, dir.path());
        let sessions = sessions_on(&nodes, &key).await;
        let (rate, mut lat) = authorize_load(&o, &sessions).await;
        println!(
            "authorize  {name:<22} {rate:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} requests)",
            pct(&mut lat, 0.5),
            pct(&mut lat, 0.99),
            lat.len()
        );
        if n == 3 {
            three = Some((nodes, key, sessions));
        }
    }
    let (nodes, key, sessions) = three.unwrap();
    println!("\n/wait wake after the callback, 3 brokers on PostgreSQL, {} flows each:", o.flows);
    for (label, waiter_node) in [("waiter on the callback's broker", 0), ("waiter on another broker", 1)] {
        let mut w = wake(&o, &sessions, &nodes, &key, waiter_node).await;
        println!("  {label:<34} p50 {:>6.2} ms   p99 {:>6.2} ms", pct(&mut w, 0.5), pct(&mut w, 0.99));
    }
}
