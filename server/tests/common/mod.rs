//! Test harness: a real `grantline serve` process on a free port with a temporary SQLite
//! file, and a cookie-keeping "browser" that follows redirects one hop at a time.
#![allow(dead_code)]

pub mod cluster;
pub mod oidc;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use grantline_core::{Client, ClientConfig};

/// The callback URL origin every test broker allows.
pub const APP: &str = "https://app.example.com";
/// The browser origin every test broker lets use client tokens.
pub const WIDGET_ORIGIN: &str = "https://widget.example.com";

/// How to start a broker.
#[derive(Clone, Debug)]
pub struct BrokerOptions {
    pub dev: bool,
    pub link_ttl_secs: u64,
    pub providers: Option<PathBuf>,
    /// Listen on this port instead of a free one (to know the callback URL in advance).
    pub port: Option<u16>,
    /// A database shared with other brokers (`postgres://…`) instead of a private SQLite file.
    pub database_url: Option<String>,
    /// The URL users' browsers reach the broker at (a load balancer's), if not its own address.
    pub public_url: Option<String>,
    /// `--max-wait-secs`, if not the default.
    pub max_wait_secs: Option<u64>,
    /// `--encryption-keys` (a keyring) instead of the fixed `--encryption-key`.
    pub encryption_keys: Option<String>,
    /// More `grantline serve` arguments (`--rate-limit-client-token 2/s:2`, …).
    pub extra_args: Vec<String>,
    /// Write the broker's stderr (its log lines) to this file instead of the test's stderr.
    pub stderr_to: Option<PathBuf>,
    /// `GRANTLINE_LOG` (default `warn`).
    pub log_filter: Option<String>,
}

impl Default for BrokerOptions {
    fn default() -> Self {
        Self {
            dev: true,
            link_ttl_secs: 600,
            providers: None,
            port: None,
            database_url: None,
            public_url: None,
            max_wait_secs: None,
            encryption_keys: None,
            extra_args: vec![],
            stderr_to: None,
            log_filter: None,
        }
    }
}

/// A running broker process; killed on drop.
pub struct Broker {
    child: Child,
    pub base_url: String,
    pub api_key: String,
    pub db_path: PathBuf,
    pub dir: tempfile::TempDir,
    pub key: String,
    pub opts: BrokerOptions,
}

pub fn encryption_key() -> String {
    // A fixed test key keeps restarts on the same file readable.
    "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=".to_string()
}

impl Broker {
    /// Starts a broker on a fresh temporary database.
    pub fn start(opts: BrokerOptions) -> Broker {
        let dir = tempfile::tempdir().expect("tempdir");
        let db_path = dir.path().join("grantline.db");
        let (child, base_url, key) = spawn(&db_path, &opts, opts.port);
        Broker { child, base_url, api_key: key.expect("a new database prints its first API key"), db_path, dir, key: encryption_key(), opts }
    }

    /// Starts a broker on a database another broker already set up (it prints no new key).
    pub fn join(opts: BrokerOptions, api_key: &str) -> Broker {
        let dir = tempfile::tempdir().expect("tempdir");
        let db_path = dir.path().join("grantline.db");
        let (child, base_url, key) = spawn(&db_path, &opts, opts.port);
        assert!(key.is_none(), "a broker joining a database must not create a new project");
        Broker { child, base_url, api_key: api_key.to_string(), db_path, dir, key: encryption_key(), opts }
    }

    /// The process id (to send it signals).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends SIGTERM and waits for the process to exit; its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let ok = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(ok.success(), "kill -TERM");
        self.child.wait().expect("wait for grantline")
    }

    /// Kills the process at once (SIGKILL), like a crash.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the broker again on the same database and port.
    pub fn restart(&mut self) {
        self.kill();
        let port: u16 = self.base_url.rsplit(':').next().unwrap().parse().unwrap();
        let (child, base_url, key) = spawn(&self.db_path, &self.opts, Some(port));
        assert!(key.is_none(), "a restarted broker must not create a new project");
        self.child = child;
        self.base_url = base_url;
    }

    /// Runs `grantline keys <args>` on this broker's database; what it printed.
    pub fn keys(&self, args: &[&str]) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_grantline"))
            .arg("keys")
            .args(["--database-url", &format!("sqlite://{}", self.db_path.display()), "--encryption-key", &encryption_key()])
            .args(args)
            .env("GRANTLINE_LOG", "warn")
            .output()
            .unwrap();
        assert!(out.status.success(), "grantline keys {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn client(&self) -> Client {
        Client::new(ClientConfig::with_api_key(&self.base_url, &self.api_key)).unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    /// A raw HTTP client with this broker's API key header.
    pub fn http(&self) -> reqwest::Client {
        let mut h = reqwest::header::HeaderMap::new();
        h.insert("x-api-key", self.api_key.parse().unwrap());
        reqwest::Client::builder().default_headers(h).build().unwrap()
    }

    pub fn db_bytes(&self) -> Vec<u8> {
        // Read the main file and the WAL: a secret must be in neither.
        let mut all = std::fs::read(&self.db_path).unwrap_or_default();
        all.extend(std::fs::read(wal(&self.db_path)).unwrap_or_default());
        all
    }
}

fn wal(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push("-wal");
    PathBuf::from(p)
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn(db: &Path, opts: &BrokerOptions, port: Option<u16>) -> (Child, String, Option<String>) {
    let bind = format!("127.0.0.1:{}", port.unwrap_or(0));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_grantline"));
    cmd.arg("serve")
        .args(["--bind", &bind])
        .args(["--database-url", &opts.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", db.display()))])
        .args(["--link-ttl-secs", &opts.link_ttl_secs.to_string()])
        .args(["--allowed-callback-urls", &format!("{APP}/done,{APP}/settings")])
        .args(["--allowed-origins", WIDGET_ORIGIN])
        .env("GRANTLINE_LOG", opts.log_filter.as_deref().unwrap_or("warn"))
        .env_remove("GRANTLINE_DEV")
        .stdout(Stdio::piped())
        .stderr(match &opts.stderr_to {
            Some(path) => Stdio::from(std::fs::OpenOptions::new().create(true).append(true).open(path).expect("stderr file")),
            None => Stdio::inherit(),
        });
    match &opts.encryption_keys {
        Some(ring) => cmd.args(["--encryption-keys", ring]),
        None => cmd.args(["--encryption-key", &encryption_key()]),
    };
    if opts.dev {
        cmd.arg("--dev");
    }
    cmd.args(&opts.extra_args);
    if let Some(p) = &opts.providers {
        cmd.arg("--providers").arg(p);
    }
    if let Some(u) = &opts.public_url {
        cmd.args(["--public-url", u]);
    }
    if let Some(secs) = opts.max_wait_secs {
        cmd.args(["--max-wait-secs", &secs.to_string()]);
    }
    let mut child = cmd.spawn().expect("start grantline serve");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut key = None;
    loop {
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("grantline serve did not start");
        if let Some(k) = line.strip_prefix("GRANTLINE_API_KEY=") {
            key = Some(k.to_string());
        }
        if let Some(rest) = line.strip_prefix("grantline listening on http://") {
            let addr = rest.split_whitespace().next().unwrap();
            return (child, format!("http://{addr}"), key);
        }
    }
}

/// A browser stand-in: keeps cookies, follows one redirect at a time so the test sees each hop.
pub struct Browser {
    pub http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Browser {
            http: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
        }
    }

    /// GETs `url` and follows redirects until one points at `stop_prefix` (returned, not fetched)
    /// or a non-redirect answer arrives (returned as Err with status and body).
    pub async fn follow_until(&self, url: &str, stop_prefix: &str) -> Result<String, (u16, String)> {
        match self.walk(self.http.get(url).send().await.expect("request"), stop_prefix).await {
            Hop::Stopped(url) => Ok(url),
            Hop::Page { status, body, .. } => Err((status, body)),
        }
    }

    /// Follows the redirects of `resp` until `stop_prefix` or a page.
    pub async fn walk(&self, mut resp: reqwest::Response, stop_prefix: &str) -> Hop {
        for _ in 0..20 {
            if !resp.status().is_redirection() {
                let url = resp.url().to_string();
                let status = resp.status().as_u16();
                return Hop::Page { url, status, body: resp.text().await.unwrap_or_default() };
            }
            let loc = resp.headers()["location"].to_str().unwrap().to_string();
            let next = resp.url().join(&loc).unwrap().to_string();
            if next.starts_with(stop_prefix) {
                return Hop::Stopped(next);
            }
            resp = self.http.get(&next).send().await.expect("request");
        }
        panic!("too many redirects");
    }

    /// Opens a Connect Link on a `--dev` broker and answers the sandbox consent page.
    pub async fn sandbox_consent(&self, redirect_url: &str, allow: bool) -> reqwest::Response {
        let consent = self
            .follow_until(redirect_url, "\u{0}")
            .await
            .expect_err("the sandbox shows a consent page");
        assert_eq!(consent.0, 200, "consent page: {}", consent.1);
        // The first hop goes to the sandbox authorize URL; read its query back from the link.
        let to_provider = self.http.get(redirect_url).send().await.unwrap();
        let loc = url::Url::parse(to_provider.headers()["location"].to_str().unwrap()).unwrap();
        let mut form: Vec<(String, String)> = loc.query_pairs().into_owned().collect();
        form.push(("user".into(), "octocat".into()));
        form.push(("decision".into(), if allow { "allow" } else { "deny" }.into()));
        let endpoint = format!("{}://{}{}", loc.scheme(), loc.authority(), loc.path());
        let to_callback = self.http.post(endpoint).form(&form).send().await.unwrap();
        assert_eq!(to_callback.status().as_u16(), 303);
        let callback = to_callback.headers()["location"].to_str().unwrap().to_string();
        self.http.get(callback).send().await.unwrap()
    }
}

/// Where a walk through redirects ended.
#[derive(Debug)]
pub enum Hop {
    /// A redirect pointed at the stop prefix; not fetched.
    Stopped(String),
    /// A page that is not a redirect.
    Page { url: String, status: u16, body: String },
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The query parameters of a URL, as a map.
pub fn query(url: &str) -> std::collections::BTreeMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().into_owned().collect()
}
