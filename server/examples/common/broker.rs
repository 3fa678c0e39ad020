//! A `grantline serve --test` child process (a dev broker on a free loopback port) for the
//! benchmarks and the soak, and the sandbox consent a user's browser gives.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};

/// A `grantline serve --test` child process, killed on drop (and stopped by its closed stdin
/// should this process die first).
pub struct Broker {
    pub child: Child,
    _stdin: ChildStdin,
    pub base: String,
    pub addr: SocketAddr,
    /// The project's API key (`None` when the database already had a project).
    pub api_key: Option<String>,
    pub encryption_key: String,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Broker {
    /// Starts `bin serve --test` on a fresh SQLite file in `dir`, logging at `log` into
    /// `dir/broker.log`, with `extra` flags.
    pub fn start(bin: &Path, dir: &Path, log: &str, extra: &[&str]) -> Broker {
        let db = format!("sqlite://{}", dir.join("bench.db").display());
        let log_file = std::fs::File::create(dir.join("broker.log")).unwrap();
        let mut args = vec!["--database-url", &db];
        args.extend_from_slice(extra);
        Self::spawn(bin, &args, log, log_file)
    }

    /// Starts `bin serve --test ARGS`, its log lines (at `log`) into `log_file`, and reads the
    /// JSON line it prints once it listens.
    pub fn spawn(bin: &Path, args: &[&str], log: &str, log_file: std::fs::File) -> Broker {
        let mut child = Command::new(bin)
            .args(["serve", "--test"])
            .args(args)
            .env("GRANTLINE_LOG", log)
            .env_remove("GRANTLINE_DATABASE_URL")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let stdin = child.stdin.take().unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let started: serde_json::Value =
            serde_json::from_str(&line).unwrap_or_else(|e| panic!("grantline serve --test exited before listening ({e}; see its log)"));
        let base = started["url"].as_str().unwrap().to_string();
        let addr: SocketAddr = base.trim_start_matches("http://").parse().unwrap();
        Broker {
            child,
            _stdin: stdin,
            addr,
            base,
            api_key: started["api_key"].as_str().map(str::to_string),
            encryption_key: started["encryption_key"].as_str().unwrap().to_string(),
        }
    }

    /// The project's API key (a fresh database's).
    pub fn key(&self) -> &str {
        self.api_key.as_deref().expect("a new database prints its first API key")
    }

    /// Resident memory of the broker process, in bytes.
    pub fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("/proc/PID/status");
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .expect("VmRSS");
        kb * 1024
    }
}

/// Opens the link and allows on the sandbox consent page; returns the callback URL (not yet fetched).
pub async fn consent(browser: &reqwest::Client, link: &str) -> String {
    decide(browser, link, "allow").await
}

/// Opens the link and answers the sandbox consent page with `decision` (`allow` or `deny`);
/// returns the callback URL (not yet fetched).
pub async fn decide(browser: &reqwest::Client, link: &str, decision: &str) -> String {
    let to_provider = browser.get(link).send().await.unwrap();
    let authorize = url::Url::parse(to_provider.headers()["location"].to_str().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), decision.into()));
    form.push(("user".into(), "bench".into()));
    let endpoint = format!("{}://{}{}", authorize.scheme(), authorize.authority(), authorize.path());
    let to_callback = browser.post(endpoint).form(&form).send().await.unwrap();
    to_callback.headers()["location"].to_str().unwrap().to_string()
}
