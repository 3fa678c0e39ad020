//! A `grantline serve --dev` child process for the benchmarks and the soak, and the sandbox
//! consent a user's browser gives.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// A `grantline serve` child process, killed on drop.
pub struct Broker {
    pub child: Child,
    pub base: String,
    pub addr: SocketAddr,
    pub key: String,
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Broker {
    /// Starts `bin serve --dev` on a fresh SQLite file in `dir`, logging at `log` into
    /// `dir/broker.log`, with `extra` flags.
    pub fn start(bin: &Path, dir: &Path, log: &str, extra: &[&str]) -> Broker {
        let log_file = std::fs::File::create(dir.join("broker.log")).unwrap();
        let mut child = Command::new(bin)
            .args(["serve", "--dev", "--bind", "127.0.0.1:0"])
            .arg("--database-url")
            .arg(format!("sqlite://{}", dir.join("bench.db").display()))
            .args(extra)
            .env("GRANTLINE_LOG", log)
            .env_remove("GRANTLINE_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(log_file)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut key = None;
        for line in BufReader::new(child.stdout.take().unwrap()).lines().map_while(Result::ok) {
            if let Some(k) = line.strip_prefix("GRANTLINE_API_KEY=") {
                key = Some(k.to_string());
            }
            if let Some(rest) = line.strip_prefix("grantline listening on http://") {
                let addr: SocketAddr = rest.split_whitespace().next().unwrap().parse().unwrap();
                let key = key.expect("a new database prints its first API key");
                return Broker { child, base: format!("http://{addr}"), addr, key };
            }
        }
        panic!("grantline serve exited before listening (see {})", dir.join("broker.log").display());
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
