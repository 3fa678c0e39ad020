//! The broker at this machine's speed, in one run, against a release `grantline serve` child
//! process on loopback (run it with `scripts/bench-broker.sh`, which builds both and installs
//! `wrk`):
//!
//! 1. `authorize` (POST …/session/{id}/link) req/s and p50/p99 beside `/healthz` req/s, both
//!    driven by `wrk` with the same threads and connections.
//! 2. The broker's RSS with `--waiters` open `/wait` long-polls (one per INITIATED account, each
//!    its own connection, from this separate process), and per waiter.
//! 3. How soon a blocked `/wait` answers after the OAuth callback (p50/p99), measured while all
//!    those waits are open.
//!
//! Flags: `--grantline PATH` (default: `grantline` beside this example's directory),
//! `--waiters N` (10000), `--flows N` (200), `--seconds N` per wrk run (10), `--connections N`
//! for wrk (64), `--threads N` for wrk (2), `--hold N`: keep the waits open N seconds once
//! measured, to look at the broker (its PID is printed; `/proc/PID/smaps`).
//! `BENCH_LOG=warn` runs the broker with that log filter (default `info`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use grantline_core::{AuthorizeOptions, Client, ClientConfig, Session, SessionOptions};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[path = "common/broker.rs"]
mod broker;
use broker::{consent, Broker};

struct Options {
    grantline: PathBuf,
    waiters: usize,
    flows: usize,
    seconds: u32,
    connections: u32,
    threads: u32,
    hold: u64,
}

impl Options {
    fn parse() -> Options {
        let exe = std::env::current_exe().expect("current exe");
        // target/release/examples/bench_broker -> target/release/grantline
        let default_bin = exe.parent().and_then(Path::parent).map(|d| d.join("grantline")).unwrap_or_else(|| "grantline".into());
        let mut o = Options { grantline: default_bin, waiters: 10_000, flows: 200, seconds: 10, connections: 64, threads: 2, hold: 0 };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().unwrap_or_else(|| panic!("{flag} needs a value"));
            let number = || value.parse::<usize>().unwrap_or_else(|_| panic!("{flag}: expected a number, got {value:?}"));
            match flag.as_str() {
                "--grantline" => o.grantline = PathBuf::from(&value),
                "--waiters" => o.waiters = number(),
                "--flows" => o.flows = number(),
                "--seconds" => o.seconds = number() as u32,
                "--connections" => o.connections = number() as u32,
                "--threads" => o.threads = number() as u32,
                "--hold" => o.hold = number() as u64,
                other => panic!("unknown flag {other}"),
            }
        }
        assert!(o.flows <= o.waiters, "--flows cannot exceed --waiters");
        o
    }
}

fn main() {
    let o = Options::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run(o));
}

/// What one wrk run measured.
struct Wrk {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    requests: u64,
}

fn wrk(o: &Options, url: &str, script: Option<&Path>, key: &str, seconds: u32) -> Wrk {
    let mut cmd = Command::new("wrk");
    cmd.args(["-t", &o.threads.to_string(), "-c", &o.connections.to_string(), "-d", &format!("{seconds}s"), "--latency"]);
    if let Some(s) = script {
        cmd.arg("-s").arg(s);
    }
    let out = cmd.arg(url).env("GRANTLINE_API_KEY", key).output().expect("wrk (apt-get install -y wrk)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!text.contains("Non-2xx or 3xx responses"), "the broker refused requests:\n{text}");
    assert!(!text.contains("Socket errors"), "wrk saw socket errors:\n{text}");
    let field = |prefix: &str| text.lines().map(str::trim).find_map(|l| l.strip_prefix(prefix)).map(str::trim);
    let ms = |v: &str| -> f64 {
        let (n, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
        let n: f64 = n.parse().unwrap_or(f64::NAN);
        match unit {
            "us" => n / 1000.0,
            "ms" => n,
            "s" => n * 1000.0,
            "m" => n * 60_000.0,
            _ => f64::NAN,
        }
    };
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    Wrk {
        rate: field("Requests/sec:").and_then(|v| v.parse().ok()).unwrap_or(f64::NAN),
        p50_ms: field("50%").map(ms).unwrap_or(f64::NAN),
        p99_ms: field("99%").map(ms).unwrap_or(f64::NAN),
        requests,
    }
}

/// POSTs the authorize body with the API key; the URL names the session.
const AUTHORIZE_LUA: &str = r#"
wrk.method = "POST"
wrk.body = '{"toolkit":"sandbox"}'
wrk.headers["content-type"] = "application/json"
wrk.headers["x-api-key"] = os.getenv("GRANTLINE_API_KEY")
"#;

async fn run(o: Options) {
    let dir = tempfile::tempdir().unwrap();
    let broker = Broker::start(&o.grantline, dir.path(), &log_level(), &[]);
    let client = Client::new(ClientConfig::with_api_key(&broker.base, broker.key())).unwrap();
    let session = client
        .create("bench-user", SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() })
        .await
        .unwrap();
    let idle_rss = broker.rss();
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    println!("grantline broker benchmark: release `grantline serve --dev` (SQLite WAL file, log level {}), {cores} cores, loopback", log_level());
    println!("  wrk -t{} -c{} -d{}s; broker and clients share the machine\n", o.threads, o.connections, o.seconds);

    // 1. authorize beside /healthz.
    let lua = dir.path().join("authorize.lua");
    std::fs::write(&lua, AUTHORIZE_LUA).unwrap();
    let link_url = format!("{}/api/v3.1/tool_router/session/{}/link", broker.base, session.session_id());
    let health = wrk(&o, &format!("{}/healthz", broker.base), None, broker.key(), o.seconds);
    let _warm = wrk(&o, &link_url, Some(&lua), broker.key(), 2);
    let authorize = wrk(&o, &link_url, Some(&lua), broker.key(), o.seconds);
    let after_wrk_rss = broker.rss();

    // 2. and 3. Open waits, then complete some of their flows.
    let (rss_before, rss_open, wakes, early) = waiters(&o, &broker, &session).await;

    println!("authorize (POST …/link)   {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms   ({} requests)", authorize.rate, authorize.p50_ms, authorize.p99_ms, authorize.requests);
    println!("/healthz                  {:>9.0} req/s   p50 {:>7.2} ms   p99 {:>7.2} ms", health.rate, health.p50_ms, health.p99_ms);
    println!("broker RSS                idle {:.1} MB, after wrk {:.1} MB", mb(idle_rss), mb(after_wrk_rss));
    println!(
        "{} open /wait            RSS {:.1} MB -> {:.1} MB: {:.1} KB per waiter",
        o.waiters,
        mb(rss_before),
        mb(rss_open),
        rss_open.saturating_sub(rss_before) as f64 / o.waiters as f64 / 1024.0
    );
    println!(
        "/wait wake after callback p50 {:>7.2} ms   p99 {:>7.2} ms   max {:>7.2} ms   ({} flows, with all waits open)",
        pct(&wakes, 0.50),
        pct(&wakes, 0.99),
        pct(&wakes, 1.0),
        wakes.len()
    );
    assert_eq!(early, 0, "{early} waits answered before their account changed");
}

/// The broker's log filter: `BENCH_LOG` (default `info`, a broker's default, one line per request).
fn log_level() -> String {
    std::env::var("BENCH_LOG").unwrap_or_else(|_| "info".into())
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn pct(samples: &[Duration], p: f64) -> f64 {
    let mut v: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v.get(((v.len() as f64 - 1.0) * p).round() as usize).copied().unwrap_or(f64::NAN)
}

/// Makes `--waiters` INITIATED accounts, answers consent for `--flows` of them, opens one
/// `/wait` per account, samples the broker's RSS once they are all open, then sends the
/// callbacks one by one. Returns RSS before and with the waits open, the wake latencies and how
/// many other waits answered (none should).
async fn waiters(o: &Options, broker: &Broker, session: &Session) -> (u64, u64, Vec<Duration>, usize) {
    let ids = {
        let next = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..32)
            .map(|_| {
                let (s, next, n) = (session.clone(), next.clone(), o.waiters);
                tokio::spawn(async move {
                    let mut made = vec![];
                    while next.fetch_add(1, Ordering::Relaxed) < n {
                        let r = s.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
                        made.push((r.id().to_string(), r.redirect_url().to_string()));
                    }
                    made
                })
            })
            .collect();
        let mut all = vec![];
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    };
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let mut callbacks = Vec::with_capacity(o.flows);
    for (_, link) in &ids[..o.flows] {
        callbacks.push(consent(&browser, link).await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_before = broker.rss();

    let written = Arc::new(AtomicUsize::new(0));
    let connecting = Arc::new(tokio::sync::Semaphore::new(256));
    let waits: Vec<_> = ids
        .iter()
        .map(|(id, _)| {
            let request = format!(
                "GET /api/v3.1/connected_accounts/{id}/wait?timeout_ms=110000 HTTP/1.1\r\nhost: {}\r\nx-api-key: {}\r\n\r\n",
                broker.addr, broker.key()
            );
            let (addr, written, connecting) = (broker.addr, written.clone(), connecting.clone());
            tokio::spawn(async move {
                let permit = connecting.acquire_owned().await.unwrap();
                let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect (raise ulimit -n)");
                stream.write_all(request.as_bytes()).await.unwrap();
                written.fetch_add(1, Ordering::Relaxed);
                drop(permit);
                let body = read_response(&mut stream).await;
                (Instant::now(), body)
            })
        })
        .collect();
    while written.load(Ordering::Relaxed) < ids.len() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Every request is sent; the broker is open once its RSS stops moving.
    let mut rss_open = broker.rss();
    let settle_until = Instant::now() + Duration::from_secs(20);
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = broker.rss();
        let still = now.abs_diff(rss_open) < 256 * 1024;
        rss_open = rss_open.max(now);
        if still || Instant::now() > settle_until {
            break;
        }
    }

    if o.hold > 0 {
        println!("holding {} open waits on broker PID {} ({}, key {}) for {} s", ids.len(), broker.child.id(), broker.base, broker.key(), o.hold);
        tokio::time::sleep(Duration::from_secs(o.hold)).await;
    }
    let mut sent = Vec::with_capacity(o.flows);
    for cb in &callbacks {
        sent.push(Instant::now());
        let status = browser.get(cb).send().await.unwrap().status();
        assert!(status.is_success(), "callback answered {status}");
    }
    let mut wakes = Vec::with_capacity(o.flows);
    let mut waits = waits.into_iter();
    for s in sent {
        let (at, body) = waits.next().unwrap().await.unwrap();
        assert!(body.contains("\"ACTIVE\""), "a woken wait shows the account ACTIVE: {body}");
        wakes.push(at.saturating_duration_since(s));
    }
    // The rest are still open: none may have answered, and they end here, before the broker.
    let early = waits
        .filter(|w| {
            let answered = w.is_finished();
            w.abort();
            answered
        })
        .count();
    (rss_before, rss_open, wakes, early)
}

/// Reads one HTTP/1.1 response with a Content-Length; returns its status line and body.
async fn read_response(stream: &mut tokio::net::TcpStream) -> String {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 4096];
        let n = stream.read(&mut chunk).await.expect("read");
        assert!(n > 0, "the broker closed a wait without answering");
        buf.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&buf);
        if let Some(end) = text.find("\r\n\r\n") {
            let length: usize = text[..end]
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .expect("content-length");
            if buf.len() >= end + 4 + length {
                return text.into_owned();
            }
        }
    }
}

