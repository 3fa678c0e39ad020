//! `grantline serve --test`, the one broker every test suite starts (Rust, pytest, `node --test`,
//! the browser tests): one JSON line on stdout with its URL and throwaway secrets, a temporary
//! database it removes, and it stops when its stdin closes or on SIGTERM.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Broker, BrokerOptions, TestLine};
use grantline_core::{Client, ClientConfig, SessionOptions};

/// `grantline serve --test ARGS`, with stdin and stdout piped.
fn serve_test(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_grantline"))
        .args(["serve", "--test"])
        .args(args)
        .env_remove("GRANTLINE_LOG")
        .env_remove("GRANTLINE_DEV")
        .env_remove("GRANTLINE_DATABASE_URL")
        .env_remove("GRANTLINE_BIND")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn exits_within(child: &mut Child, timeout: Duration) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + timeout;
    while std::time::Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_broker_prints_one_line_that_works_and_stops_when_its_stdin_closes() {
    let mut child = serve_test(&[]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let line: TestLine = serde_json::from_str(&first).unwrap_or_else(|e| panic!("{first:?}: {e}"));
    assert!(line.url.starts_with("http://127.0.0.1:") && !line.url.ends_with(":9900"), "a free loopback port: {}", line.url);
    let api_key = line.api_key.clone().expect("a fresh database has a first API key");
    assert!(api_key.starts_with("gl_"), "{api_key}");
    grantline_core::engine::vault::Vault::from_base64(line.encryption_key.as_deref().unwrap()).expect("a usable key");
    let db = std::path::PathBuf::from(line.database_url.strip_prefix("sqlite://").expect("a temporary SQLite database"));
    assert!(db.exists(), "{}", db.display());

    // The key works, and it is a dev broker: the sandbox toolkit is there.
    let client = Client::new(ClientConfig::with_api_key(&line.url, &api_key)).unwrap();
    let session = client.create("u", SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() }).await.unwrap();
    session.authorize("sandbox", Default::default()).await.unwrap();

    drop(child.stdin.take());
    let status = exits_within(&mut child, Duration::from_secs(10)).expect("the broker stops when its stdin closes");
    assert!(status.success(), "{status:?}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).unwrap();
    assert_eq!(rest, "", "one line, nothing more, on stdout");
    assert!(!db.parent().unwrap().exists(), "the temporary database is removed: {}", db.display());
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(!stderr.contains("DEV MODE") && !stderr.contains(" INFO "), "quiet: {stderr}");
}

#[test]
fn a_test_broker_refuses_a_non_loopback_address() {
    let mut child = serve_test(&["--bind", "0.0.0.0:0"]);
    let status = exits_within(&mut child, Duration::from_secs(10)).expect("it exits");
    assert!(!status.success());
    let out = child.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("invalid bind") && said.contains("loopback"), "{said}");
    assert!(out.stdout.is_empty(), "no line, no secret: {:?}", String::from_utf8_lossy(&out.stdout));

    let conflicting = Command::new(env!("CARGO_BIN_EXE_grantline")).args(["serve", "--test", "--dev-allow-remote"]).output().unwrap();
    assert!(!conflicting.status.success(), "--dev-allow-remote has no place on a test broker");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_test_broker_restarts_on_its_database_with_its_key_and_stops_on_sigterm() {
    // The harness passes --database-url back in (and, on restart, --encryption-key).
    let mut broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("u", SessionOptions::default()).await.unwrap();
    broker.restart();
    let again = broker.client().use_session(session.session_id()).await.unwrap();
    assert_eq!(again.session_id(), session.session_id(), "the same data, the same API key");
    assert!(broker.terminate().success(), "SIGTERM stops it cleanly");

    // A production-like test broker (--no-dev) has no sandbox.
    let prod = Broker::start(BrokerOptions { dev: false, ..Default::default() });
    let refused = prod.client().create("u", SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() }).await;
    assert!(refused.is_err(), "{refused:?}");

    let mut closing = Broker::start(BrokerOptions::default());
    closing.close_stdin();
    assert!(closing.wait_exit(Duration::from_secs(10)).is_some_and(|s| s.success()));
}
