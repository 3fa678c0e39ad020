//! A bounded soak: mixed traffic at a fixed rate against a release `grantline serve --dev`
//! child process on loopback (run it with `scripts/soak.sh`), printing the broker's memory and
//! the error count every minute, then totals. Each flow is one of:
//!
//! - connect (6 in 10): authorize, the user allows on the sandbox consent page, the callback,
//!   `wait_for_connection` until ACTIVE, then a tool call (`SANDBOX_GET_CURRENT_USER`);
//! - denied (1 in 10): the user refuses; the wait fails with FAILED;
//! - abandoned (1 in 10): a link nobody opens, which the broker expires after `--link-ttl-secs`;
//! - reconnect (1 in 10): a fresh link for an ACTIVE account (`connected_accounts.refresh`),
//!   completed, and waited for;
//! - reads (1 in 10): the session's toolkits and a page of accounts.
//!
//! Flags: `--grantline PATH`, `--minutes N` (10), `--rate N` flows a second (20),
//! `--link-ttl-secs N` (30). An error is any flow that did not end as it should.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use grantline_core::model::{AccountFilter, AccountStatus, ToolkitsQuery};
use grantline_core::{AuthorizeOptions, Client, ClientConfig, Session, SessionOptions};
use tokio::sync::Mutex;

#[path = "common/broker.rs"]
mod broker;
use broker::{consent, decide, Broker};

struct Options {
    grantline: PathBuf,
    minutes: u64,
    rate: u64,
    link_ttl_secs: u64,
}

impl Options {
    fn parse() -> Self {
        let exe = std::env::current_exe().unwrap();
        let mut o = Options { grantline: exe.parent().unwrap().parent().unwrap().join("grantline"), minutes: 10, rate: 20, link_ttl_secs: 30 };
        let mut args = std::env::args().skip(1);
        while let Some(flag) = args.next() {
            let value = args.next().unwrap_or_else(|| panic!("{flag} needs a value"));
            let number = || value.parse::<u64>().unwrap_or_else(|_| panic!("{flag} takes a number"));
            match flag.as_str() {
                "--grantline" => o.grantline = PathBuf::from(&value),
                "--minutes" => o.minutes = number(),
                "--rate" => o.rate = number().max(1),
                "--link-ttl-secs" => o.link_ttl_secs = number(),
                other => panic!("unknown flag {other}"),
            }
        }
        o
    }
}

/// What the run counted.
#[derive(Default)]
struct Counts {
    flows: AtomicU64,
    errors: AtomicU64,
    connected: AtomicU64,
    denied: AtomicU64,
    abandoned: AtomicU64,
    reconnected: AtomicU64,
    tool_calls: AtomicU64,
}

fn main() {
    let o = Options::parse();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(run(o));
}

async fn run(o: Options) {
    let dir = tempfile::tempdir().unwrap();
    let ttl = o.link_ttl_secs.to_string();
    let broker = Broker::start(&o.grantline, dir.path(), "warn", &["--link-ttl-secs", &ttl, "--rate-limit-link", "off"]);
    let client = Client::new(ClientConfig::with_api_key(&broker.base, broker.key())).unwrap();
    let session = client.create("soak-user", SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() }).await.unwrap();
    let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let counts = Arc::new(Counts::default());
    let active: Arc<Mutex<Vec<String>>> = Arc::default();
    let abandoned: Arc<Mutex<Vec<String>>> = Arc::default();

    println!(
        "grantline soak: {} minutes at {} flows/s against a release `grantline serve --dev` (SQLite), links expire after {} s",
        o.minutes, o.rate, o.link_ttl_secs
    );
    println!("{:>6} {:>9} {:>7} {:>10}", "minute", "flows", "errors", "RSS MB");
    let started = Instant::now();
    let end = started + Duration::from_secs(o.minutes * 60);
    let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / o.rate));
    let mut next_report = started + Duration::from_secs(60);
    let mut tasks = tokio::task::JoinSet::new();
    let mut i: u64 = 0;
    while Instant::now() < end {
        tick.tick().await;
        let (session, browser, task_counts, active, abandoned) = (session.clone(), browser.clone(), counts.clone(), active.clone(), abandoned.clone());
        let client = client.clone();
        tasks.spawn(async move {
            let counts = task_counts;
            let ok = flow(i % 10, &client, &session, &browser, &counts, &active, &abandoned).await;
            counts.flows.fetch_add(1, Ordering::Relaxed);
            if let Err(e) = ok {
                if counts.errors.fetch_add(1, Ordering::Relaxed) < 5 {
                    eprintln!("flow {i}: {e}");
                }
            }
        });
        i += 1;
        while tasks.try_join_next().is_some() {}
        if Instant::now() >= next_report {
            report(&broker, &counts, started);
            next_report += Duration::from_secs(60);
        }
    }
    while tasks.join_next().await.is_some() {}
    report(&broker, &counts, started);

    // Every abandoned link expires within its lifetime (plus the expiry sweep's pass).
    tokio::time::sleep(Duration::from_secs(o.link_ttl_secs + 10)).await;
    let mut not_expired = 0;
    for id in abandoned.lock().await.iter() {
        match client.connected_accounts().get(id).await {
            Ok(a) if a.status == AccountStatus::Expired => {}
            _ => not_expired += 1,
        }
    }
    let c = &counts;
    let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
    println!(
        "totals: {} flows in {:.0} s, {} errors; {} connected (+{} tool calls), {} denied, {} reconnected, {} abandoned ({} not EXPIRED after their lifetime)",
        n(&c.flows),
        started.elapsed().as_secs_f64(),
        n(&c.errors),
        n(&c.connected),
        n(&c.tool_calls),
        n(&c.denied),
        n(&c.reconnected),
        n(&c.abandoned),
        not_expired
    );
    println!("broker RSS at the end: {:.1} MB", broker.rss() as f64 / 1048576.0);
}

fn report(broker: &Broker, counts: &Counts, started: Instant) {
    println!(
        "{:>6.1} {:>9} {:>7} {:>10.1}",
        started.elapsed().as_secs_f64() / 60.0,
        counts.flows.load(Ordering::Relaxed),
        counts.errors.load(Ordering::Relaxed),
        broker.rss() as f64 / 1048576.0
    );
}

type Outcome = Result<(), String>;

async fn flow(
    kind: u64,
    client: &Client,
    session: &Session,
    browser: &reqwest::Client,
    counts: &Counts,
    active: &Mutex<Vec<String>>,
    abandoned: &Mutex<Vec<String>>,
) -> Outcome {
    fn e(what: &'static str) -> impl Fn(grantline_core::Error) -> String {
        move |err| format!("{what}: {err}")
    }
    match kind {
        0..=5 => {
            let req = session.authorize("sandbox", AuthorizeOptions::default()).await.map_err(e("authorize"))?;
            let callback = consent(browser, req.redirect_url()).await;
            browser.get(&callback).send().await.map_err(|err| format!("callback: {err}"))?;
            let account = req.wait_for_connection(Duration::from_secs(30)).await.map_err(e("wait"))?;
            counts.connected.fetch_add(1, Ordering::Relaxed);
            active.lock().await.push(account.id.clone());
            let run = session.execute("SANDBOX_GET_CURRENT_USER", Default::default(), Some(account.id)).await.map_err(e("execute"))?;
            counts.tool_calls.fetch_add(1, Ordering::Relaxed);
            run.successful.then_some(()).ok_or_else(|| format!("the tool call failed: {:?}", run.error))
        }
        6 => {
            let req = session.authorize("sandbox", AuthorizeOptions::default()).await.map_err(e("authorize"))?;
            let callback = decide(browser, req.redirect_url(), "deny").await;
            browser.get(&callback).send().await.map_err(|err| format!("callback: {err}"))?;
            match req.wait_for_connection(Duration::from_secs(30)).await {
                Err(grantline_core::Error::ConnectionRequestFailed { .. }) => {
                    counts.denied.fetch_add(1, Ordering::Relaxed);
                    Ok(())
                }
                other => Err(format!("a denied flow ended as {other:?}")),
            }
        }
        7 => {
            let req = session.authorize("sandbox", AuthorizeOptions::default()).await.map_err(e("authorize"))?;
            counts.abandoned.fetch_add(1, Ordering::Relaxed);
            abandoned.lock().await.push(req.id().to_string());
            Ok(())
        }
        8 => {
            let Some(id) = active.lock().await.last().cloned() else { return Ok(()) };
            let fresh = client.connected_accounts().refresh(&id, None).await.map_err(e("refresh"))?;
            let callback = consent(browser, &fresh.redirect_url).await;
            browser.get(&callback).send().await.map_err(|err| format!("callback: {err}"))?;
            let account = client.connected_accounts().wait_for_connection(&id, Duration::from_secs(30)).await.map_err(e("wait"))?;
            if account.status != AccountStatus::Active {
                return Err(format!("a reconnected account is {:?}", account.status));
            }
            counts.reconnected.fetch_add(1, Ordering::Relaxed);
            Ok(())
        }
        _ => {
            session.toolkits(&ToolkitsQuery::default()).await.map_err(e("toolkits"))?;
            client.connected_accounts().list(&AccountFilter::default(), None, Some(20)).await.map_err(e("list"))?;
            Ok(())
        }
    }
}
