//! Broker configuration: flags and `GRANTLINE_*` environment variables, and opening the engine.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use grantline_core::catalog::Catalog;
use grantline_core::engine::store::{PostgresStore, SqliteStore, Store};
use grantline_core::engine::vault::Vault;
use grantline_core::engine::retention::{self, RetentionPolicy};
use grantline_core::engine::webhooks::WebhookConfig;
use grantline_core::engine::{Engine, EngineConfig};
use grantline_core::{Error, Result};

use crate::rate_limit::{parse_limit, RateLimits};
use crate::{HttpLimits, ServerOptions};

/// `--database-url` when none is given (`serve --test` makes a temporary one instead).
pub const DEFAULT_DATABASE_URL: &str = "sqlite://grantline.db";
/// `--bind` when none is given (`serve --test` picks a free loopback port instead).
pub const DEFAULT_BIND: &str = "127.0.0.1:9900";
/// `serve --test`'s address when no `--bind` is given: a free loopback port.
pub const TEST_BIND: &str = "127.0.0.1:0";

/// Where the data lives and how it is protected; shared by `serve` and the admin commands.
#[derive(Args, Debug, Clone)]
pub struct StoreArgs {
    /// Database: a SQLite file path or `sqlite://PATH` (one broker), or a PostgreSQL URL
    /// `postgres://USER:PASSWORD@HOST:PORT/DB?sslmode=verify-full` (any number of brokers).
    /// [default: sqlite://grantline.db; with `serve --test`, a fresh temporary file]
    #[arg(long, env = "GRANTLINE_DATABASE_URL")]
    pub database_url: Option<String>,

    /// Base64 32-byte key that encrypts tokens and client secrets at rest (`grantline keygen`).
    #[arg(long, env = "GRANTLINE_ENCRYPTION_KEY", hide_env_values = true)]
    pub encryption_key: Option<String>,

    /// A keyring instead of --encryption-key: comma-separated `id:base64key` entries, the first
    /// one current (it seals new values; the others only open what they sealed). To rotate, put
    /// a new key first, restart every broker, run `grantline encryption rotate`, then drop the
    /// old key. The lone --encryption-key is the keyring `default:KEY`.
    #[arg(long, env = "GRANTLINE_ENCRYPTION_KEYS", hide_env_values = true)]
    pub encryption_keys: Option<String>,

    /// Dev mode: serves the offline `sandbox` provider and, without --encryption-key,
    /// keeps a generated key in a file next to the (SQLite) database. Never use in production.
    #[arg(long, env = "GRANTLINE_DEV")]
    pub dev: bool,

    /// Extra or overriding toolkit definitions (TOML, same shape as the built-in catalog).
    #[arg(long, env = "GRANTLINE_PROVIDERS")]
    pub providers: Option<PathBuf>,
}

/// `grantline serve` settings.
#[derive(Args, Debug, Clone)]
pub struct ServeConfig {
    /// Address to listen on (port 0 picks a free one). [default: 127.0.0.1:9900; with --test,
    /// a free loopback port]
    #[arg(long, env = "GRANTLINE_BIND")]
    pub bind: Option<String>,

    /// A broker for automated tests, never for users. It listens on a free loopback port unless
    /// --bind is given (a non-loopback address is refused), keeps its data in a fresh temporary
    /// SQLite database removed on exit unless --database-url is given, runs in dev mode unless
    /// --no-dev, encrypts with a generated key unless one is given, and logs warnings only.
    /// Once it listens it prints ONE JSON line on stdout, `{"url", "api_key", "database_url",
    /// "encryption_key"}` (`api_key` is null on a database that already has a project): these
    /// are the throwaway broker's own secrets, printed so the test can use them and restart the
    /// broker on the same data. A broker without --test never prints its key or database URL.
    /// It stops when its stdin closes (so a test runner that dies takes it along) or on SIGTERM.
    #[arg(long, conflicts_with_all = ["demo", "dev_allow_remote"])]
    pub test: bool,

    /// With --test: a broker as in production (no sandbox provider, no loopback callbacks or
    /// origins), for tests of what a production broker refuses.
    #[arg(long, requires = "test", conflicts_with = "dev")]
    pub no_dev: bool,

    /// URL browsers reach the broker at; Connect Links and the OAuth callback use it.
    /// Defaults to http://BIND.
    #[arg(long, env = "GRANTLINE_PUBLIC_URL")]
    pub public_url: Option<String>,

    /// Seconds an INITIATED account waits for its Connect Link before it is EXPIRED.
    #[arg(long, env = "GRANTLINE_LINK_TTL_SECS", default_value_t = 600)]
    pub link_ttl_secs: u64,

    /// Longest single `/wait` long-poll the broker grants, in seconds.
    #[arg(long, env = "GRANTLINE_MAX_WAIT_SECS", default_value_t = 120)]
    pub max_wait_secs: u64,

    /// Callback URLs (origin plus optional path prefix) a new project allows; comma-separated.
    /// Later changes: `grantline project allow-callback URL`.
    #[arg(long, env = "GRANTLINE_ALLOWED_CALLBACK_URLS", value_delimiter = ',')]
    pub allowed_callback_urls: Vec<String>,

    /// Browser origins a new project lets use client tokens (CORS); comma-separated.
    /// Later changes: `grantline project allow-origin ORIGIN`.
    #[arg(long, env = "GRANTLINE_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,

    /// After starting, run the demo flow against this broker and print each step.
    #[arg(long)]
    pub demo: bool,

    /// Let a --dev broker listen on an address other than loopback. A dev broker serves the
    /// sandbox provider and allows loopback callbacks: expose one only on purpose.
    #[arg(long, env = "GRANTLINE_DEV_ALLOW_REMOTE")]
    pub dev_allow_remote: bool,

    /// Rate limit per client token, per broker process: `N/s`, `N/min` or `N/h`, optionally
    /// `:BURST`, or `off`. With N brokers a token gets up to N times this.
    #[arg(long, env = "GRANTLINE_RATE_LIMIT_CLIENT_TOKEN", default_value = crate::rate_limit::DEFAULT_CLIENT_TOKEN)]
    pub rate_limit_client_token: String,

    /// Rate limit per MCP credential on its session's MCP endpoint, per broker process (same
    /// syntax).
    #[arg(long, env = "GRANTLINE_RATE_LIMIT_MCP_CREDENTIAL", default_value = crate::rate_limit::DEFAULT_MCP_CREDENTIAL)]
    pub rate_limit_mcp_credential: String,

    /// Rate limit on opening one Connect Link, per broker process (same syntax).
    #[arg(long, env = "GRANTLINE_RATE_LIMIT_LINK", default_value = crate::rate_limit::DEFAULT_LINK_OPEN)]
    pub rate_limit_link: String,

    /// Rate limit on submitting one Connect Link's form (each a credential check), per broker
    /// process (same syntax).
    #[arg(long, env = "GRANTLINE_RATE_LIMIT_LINK_FORM", default_value = crate::rate_limit::DEFAULT_LINK_FORM)]
    pub rate_limit_link_form: String,

    /// Rate limit per API key, per broker process (same syntax); `off` by default so busy
    /// backends are not capped.
    #[arg(long, env = "GRANTLINE_RATE_LIMIT_API_KEY", default_value = crate::rate_limit::DEFAULT_API_KEY)]
    pub rate_limit_api_key: String,

    /// Rate limit on dashboard sign-in attempts, per broker process, all callers together (same
    /// syntax): each attempt is an API key check.
    #[arg(long, env = "GRANTLINE_RATE_LIMIT_DASHBOARD_SIGN_IN", default_value = crate::rate_limit::DEFAULT_DASHBOARD_SIGN_IN)]
    pub rate_limit_dashboard_sign_in: String,

    /// Days a spent or expired Connect Link is kept before the retention sweeper deletes it
    /// (0: forever).
    #[arg(long, env = "GRANTLINE_RETENTION_LINK_DAYS", default_value_t = retention::DEFAULT_LINK_DAYS)]
    pub retention_link_days: u32,

    /// Days an expired or revoked client token, MCP credential or MCP login is kept (0: forever).
    #[arg(long, env = "GRANTLINE_RETENTION_CLIENT_TOKEN_DAYS", default_value_t = retention::DEFAULT_CLIENT_TOKEN_DAYS)]
    pub retention_client_token_days: u32,

    /// Days a FAILED or EXPIRED account is kept after its last change (0: forever). ACTIVE
    /// accounts are never deleted by the sweeper.
    #[arg(long, env = "GRANTLINE_RETENTION_ACCOUNT_DAYS", default_value_t = retention::DEFAULT_ENDED_ACCOUNT_DAYS)]
    pub retention_account_days: u32,

    /// Days webhook events and ended webhook deliveries (delivered or failed) are kept, with
    /// their attempts (0: forever).
    #[arg(long, env = "GRANTLINE_RETENTION_WEBHOOK_DAYS", default_value_t = retention::DEFAULT_WEBHOOK_DAYS)]
    pub retention_webhook_days: u32,

    /// Seconds a webhook delivery waits after its first failed attempt; each further failure
    /// doubles the wait (up to an hour), less up to half of it at random.
    #[arg(long, env = "GRANTLINE_WEBHOOK_FIRST_RETRY_SECS", default_value_t = 5.0)]
    pub webhook_first_retry_secs: f64,

    /// Hours a webhook delivery keeps being retried after its event before it is marked FAILED
    /// (a manual retry starts it again).
    #[arg(long, env = "GRANTLINE_WEBHOOK_RETRY_HOURS", default_value_t = 24.0)]
    pub webhook_retry_hours: f64,

    /// Seconds a webhook receiver has to answer one attempt.
    #[arg(long, env = "GRANTLINE_WEBHOOK_TIMEOUT_SECS", default_value_t = 10.0)]
    pub webhook_timeout_secs: f64,

    /// Seconds between two webhook delivery passes when nothing wakes the broker sooner.
    #[arg(long, env = "GRANTLINE_WEBHOOK_POLL_SECS", default_value_t = 1.0)]
    pub webhook_poll_secs: f64,

    /// Days a tool execution's log (`GET /api/v3.1/logs/{log_id}`) is kept (0: forever).
    #[arg(long, env = "GRANTLINE_RETENTION_LOG_DAYS", default_value_t = retention::DEFAULT_LOG_DAYS)]
    pub retention_log_days: u32,

    /// Seconds between two retention sweeps (the first runs at start).
    #[arg(long, env = "GRANTLINE_RETENTION_SWEEP_SECS", default_value_t = 3600)]
    pub retention_sweep_secs: u64,

    /// Seconds a client has to send a request's headers (also how long an idle keep-alive
    /// connection stays open).
    #[arg(long, env = "GRANTLINE_HEADER_READ_TIMEOUT_SECS", default_value_t = crate::serve::DEFAULT_HEADER_READ_TIMEOUT_SECS)]
    pub header_read_timeout_secs: u64,

    /// Most connections open at once (open long-polls included); past it new connections wait.
    /// Each takes a file descriptor: the broker raises its open-files limit to the hard limit.
    #[arg(long, env = "GRANTLINE_MAX_CONNECTIONS", default_value_t = crate::serve::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,

    /// Seconds requests in flight get to finish after SIGTERM (or Ctrl-C); open `/wait`
    /// long-polls answer at once with the account's current state.
    #[arg(long, env = "GRANTLINE_SHUTDOWN_GRACE_SECS", default_value_t = 20)]
    pub shutdown_grace_secs: u64,

    /// Also serve `/metrics` here, without credentials (a private network's address, e.g.
    /// 10.0.0.5:9901). On the main address `/metrics` needs the project API key.
    #[arg(long, env = "GRANTLINE_METRICS_BIND")]
    pub metrics_bind: Option<String>,

    #[command(flatten)]
    pub store: StoreArgs,
}

/// An engine opened from configuration, with what the operator should be told.
pub struct OpenedEngine {
    /// The engine.
    pub engine: Arc<Engine>,
    /// Loud notices (dev-mode key, etc.).
    pub notices: Vec<String>,
}

/// Which store a database URL names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL server (the URL as given, password included: never show it).
    Postgres(String),
}

/// The SQLite path of a database URL, or an error naming `database_url` (a PostgreSQL URL
/// included).
pub fn sqlite_path(database_url: &str) -> Result<PathBuf> {
    match Database::parse(database_url)? {
        Database::Sqlite(path) => Ok(path),
        Database::Postgres(_) => Err(Error::validation("database_url", "is a PostgreSQL URL, not a SQLite database")),
    }
}

impl Database {
    /// Reads `--database-url`: `postgres://…` / `postgresql://…`, else a SQLite path (with or
    /// without `sqlite://`); an error names `database_url`.
    pub fn parse(database_url: &str) -> Result<Self> {
        if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
            return Ok(Self::Postgres(database_url.to_string()));
        }
        let path = database_url.strip_prefix("sqlite://").or_else(|| database_url.strip_prefix("sqlite:")).unwrap_or(database_url);
        if path.is_empty() {
            return Err(Error::validation("database_url", "is empty"));
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    /// Opens the store.
    async fn open(&self) -> Result<Arc<dyn Store>> {
        Ok(match self {
            Self::Sqlite(path) => Arc::new(SqliteStore::open(path)?),
            Self::Postgres(url) => Arc::new(PostgresStore::connect(url).await?),
        })
    }
}

impl StoreArgs {
    /// The database URL given, or [`DEFAULT_DATABASE_URL`].
    pub fn database_url(&self) -> &str {
        self.database_url.as_deref().unwrap_or(DEFAULT_DATABASE_URL)
    }

    /// Opens the store, vault and catalog, and the engine over them.
    pub async fn open(&self, engine_config: EngineConfig) -> Result<OpenedEngine> {
        let database = Database::parse(self.database_url())?;
        let mut notices = Vec::new();
        let vault = match (Vault::configured(self.encryption_key.as_deref(), self.encryption_keys.as_deref())?, self.dev, &database) {
            (Some(v), _, _) => v,
            (None, true, Database::Postgres(_)) => {
                return Err(Error::validation(
                    "encryption_key",
                    "is required with a PostgreSQL database, --dev included: dev mode keeps its generated key in a \
                     file beside a SQLite database, and a database server has no such place; every broker on the \
                     database needs the same key (make one with `grantline keygen`)",
                ))
            }
            (None, true, Database::Sqlite(path)) => {
                let (vault, key_file) = dev_vault(path)?;
                notices.push(format!(
                    "DEV MODE: no --encryption-key given; tokens are encrypted with a dev key kept in {}. \
                     Do not use dev mode in production.",
                    key_file.display()
                ));
                vault
            }
            (None, false, _) => {
                return Err(Error::validation(
                    "encryption_key",
                    "is required: set GRANTLINE_ENCRYPTION_KEY (make one with `grantline keygen`), or run with --dev to try Grantline locally",
                ))
            }
        };
        if self.dev {
            notices.push("DEV MODE: the offline `sandbox` provider is served and loopback callback URLs are allowed. Do not expose this broker.".into());
        }
        let mut catalog = Catalog::builtin();
        if let Some(p) = &self.providers {
            let text = std::fs::read_to_string(p)
                .map_err(|e| Error::validation("providers", format!("cannot read {}: {e}", p.display())))?;
            catalog.merge_toml(&text, &p.display().to_string())?;
        }
        let store = database.open().await?;
        let mut cfg = engine_config;
        cfg.dev_mode = self.dev;
        let engine = Arc::new(Engine::new(store, vault, catalog, cfg).await?);
        Ok(OpenedEngine { engine, notices })
    }
}

/// The dev-mode vault: a key generated once and kept beside the database (mode 0600).
fn dev_vault(db: &Path) -> Result<(Vault, PathBuf)> {
    let mut key_file = db.as_os_str().to_owned();
    key_file.push(".devkey");
    let key_file = PathBuf::from(key_file);
    let key = match std::fs::read_to_string(&key_file) {
        Ok(k) => k,
        Err(_) => {
            let k = Vault::generate_key()?;
            write_private(&key_file, &k).map_err(|e| Error::Internal(format!("writing {}: {e}", key_file.display())))?;
            k
        }
    };
    Ok((Vault::from_base64(&key)?, key_file))
}

fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts.open(path)?.write_all(content.as_bytes())
}

/// What `serve --test` made for itself: the temporary directory of its database (removed when
/// this is dropped, as the broker exits) and the values its start-up line reports.
pub struct TestBroker {
    /// The temporary directory, if the broker made its database there.
    pub dir: Option<tempfile::TempDir>,
}

impl ServeConfig {
    /// The address to listen on: `--bind`, else [`TEST_BIND`] with `--test`, else [`DEFAULT_BIND`].
    pub fn bind_address(&self) -> &str {
        self.bind.as_deref().unwrap_or(if self.test { TEST_BIND } else { DEFAULT_BIND })
    }

    /// For `--test`: fills in what the flags left out (dev mode unless `--no-dev`, a generated
    /// encryption key, a database in a fresh temporary directory). Does nothing without `--test`.
    pub fn prepare_test(&mut self) -> Result<TestBroker> {
        if !self.test {
            return Ok(TestBroker { dir: None });
        }
        self.store.dev = !self.no_dev;
        if self.store.encryption_key.is_none() && self.store.encryption_keys.is_none() {
            self.store.encryption_key = Some(Vault::generate_key()?);
        }
        let dir = match self.store.database_url {
            Some(_) => None,
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("grantline-test-")
                    .tempdir()
                    .map_err(|e| Error::Internal(format!("creating a temporary directory: {e}")))?;
                self.store.database_url = Some(format!("sqlite://{}", dir.path().join("grantline.db").display()));
                Some(dir)
            }
        };
        Ok(TestBroker { dir })
    }

    /// Refuses a `--test` broker listening on `addr` unless it is loopback: a test broker prints
    /// its secrets and serves the sandbox provider.
    pub fn check_test_bind(&self, addr: std::net::SocketAddr) -> Result<()> {
        if self.test && !addr.ip().is_loopback() {
            return Err(Error::validation(
                "bind",
                format!(
                    "--test refuses to listen on {addr}, which is not a loopback address: a test broker prints \
                     its API key and encryption key and is for tests on this machine only. Bind 127.0.0.1"
                ),
            ));
        }
        Ok(())
    }

    /// The one line `serve --test` prints once it listens on `addr`.
    pub fn test_line(&self, addr: std::net::SocketAddr, api_key: Option<&str>, metrics: Option<std::net::SocketAddr>) -> String {
        let mut line = serde_json::json!({
            "url": format!("http://{addr}"),
            "api_key": api_key,
            "database_url": self.store.database_url(),
        });
        match (&self.store.encryption_key, &self.store.encryption_keys) {
            (_, Some(ring)) => line["encryption_keys"] = ring.as_str().into(),
            (Some(key), None) => line["encryption_key"] = key.as_str().into(),
            (None, None) => {}
        }
        if let Some(at) = metrics {
            line["metrics_url"] = format!("http://{at}/metrics").into();
        }
        line.to_string()
    }

    /// The engine settings for a broker listening on `addr`.
    pub fn engine_config(&self, addr: std::net::SocketAddr) -> Result<EngineConfig> {
        let public = match &self.public_url {
            Some(u) => url::Url::parse(u).map_err(|e| Error::validation("public_url", e.to_string()))?,
            None => url::Url::parse(&format!("http://{addr}")).map_err(|e| Error::Internal(e.to_string()))?,
        };
        if self.link_ttl_secs == 0 {
            return Err(Error::validation("link_ttl_secs", "must be at least 1"));
        }
        let mut cfg = EngineConfig::new(public);
        cfg.link_ttl = Duration::from_secs(self.link_ttl_secs);
        cfg.max_wait = Duration::from_secs(self.max_wait_secs.max(1));
        Ok(cfg)
    }

    /// Refuses a --dev broker listening on `addr` unless it is loopback or
    /// `--dev-allow-remote` says so.
    pub fn check_dev_bind(&self, addr: std::net::SocketAddr) -> Result<()> {
        if self.store.dev && !self.dev_allow_remote && !addr.ip().is_loopback() {
            return Err(Error::validation(
                "bind",
                format!(
                    "--dev refuses to listen on {addr}, which is not a loopback address: a dev broker serves the \
                     sandbox provider and allows loopback callbacks. Bind 127.0.0.1 (the default), or pass \
                     --dev-allow-remote (GRANTLINE_DEV_ALLOW_REMOTE=1) to expose a dev broker on purpose"
                ),
            ));
        }
        Ok(())
    }

    /// The rate limits, connection limits and timeouts of the HTTP server; errors name the flag.
    pub fn server_options(&self) -> Result<ServerOptions> {
        let rate = |field: &str, value: &str| parse_limit(value).map_err(|e| Error::validation(field, e));
        if self.header_read_timeout_secs == 0 {
            return Err(Error::validation("header_read_timeout_secs", "must be at least 1"));
        }
        if self.max_connections == 0 {
            return Err(Error::validation("max_connections", "must be at least 1"));
        }
        Ok(ServerOptions {
            rate_limits: RateLimits {
                client_token: rate("rate_limit_client_token", &self.rate_limit_client_token)?,
                mcp_credential: rate("rate_limit_mcp_credential", &self.rate_limit_mcp_credential)?,
                link_open: rate("rate_limit_link", &self.rate_limit_link)?,
                link_form: rate("rate_limit_link_form", &self.rate_limit_link_form)?,
                api_key: rate("rate_limit_api_key", &self.rate_limit_api_key)?,
                dashboard_sign_in: rate("rate_limit_dashboard_sign_in", &self.rate_limit_dashboard_sign_in)?,
            },
            http: HttpLimits {
                header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
                max_connections: self.max_connections,
            },
            grace: Some(Duration::from_secs(self.shutdown_grace_secs)),
            metrics_listener: None,
        })
    }

    /// How long ended rows are kept (0 days: forever), and how often the sweeper runs.
    pub fn retention(&self) -> Result<(RetentionPolicy, Duration)> {
        if self.retention_sweep_secs == 0 {
            return Err(Error::validation("retention_sweep_secs", "must be at least 1"));
        }
        let days = |d: u32| (d > 0).then_some(d);
        let policy = RetentionPolicy {
            link_days: days(self.retention_link_days),
            client_token_days: days(self.retention_client_token_days),
            ended_account_days: days(self.retention_account_days),
            webhook_days: days(self.retention_webhook_days),
            log_days: days(self.retention_log_days),
        };
        Ok((policy, Duration::from_secs(self.retention_sweep_secs)))
    }

    /// How webhooks are delivered; errors name the flag.
    pub fn webhooks(&self) -> Result<WebhookConfig> {
        let secs = |field: &str, value: f64, min: f64| {
            if value.is_finite() && value >= min && value <= 1e9 {
                Ok(Duration::from_secs_f64(value))
            } else {
                Err(Error::validation(field, format!("must be a number of at least {min}")))
            }
        };
        Ok(WebhookConfig {
            first_retry: secs("webhook_first_retry_secs", self.webhook_first_retry_secs, 0.01)?,
            retry_for: secs("webhook_retry_hours", self.webhook_retry_hours * 3600.0, 0.001)?,
            attempt_timeout: secs("webhook_timeout_secs", self.webhook_timeout_secs, 0.1)?,
            poll_every: secs("webhook_poll_secs", self.webhook_poll_secs, 0.01)?,
            ..WebhookConfig::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_url_names_its_store() {
        assert_eq!(Database::parse("sqlite://data/g.db").unwrap(), Database::Sqlite("data/g.db".into()));
        assert_eq!(Database::parse("g.db").unwrap(), Database::Sqlite("g.db".into()));
        for url in ["postgres://u:p@db:5432/g", "postgresql://u@db/g?sslmode=verify-full"] {
            assert_eq!(Database::parse(url).unwrap(), Database::Postgres(url.into()));
        }
        assert!(Database::parse("sqlite://").unwrap_err().to_string().contains("database_url"));
        assert_eq!(sqlite_path("sqlite:g.db").unwrap(), PathBuf::from("g.db"));
        assert!(sqlite_path("postgres://u@db/g").is_err());
    }

    fn serve_config(args: &[&str]) -> ServeConfig {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            serve: ServeConfig,
        }
        <Cli as clap::Parser>::try_parse_from(std::iter::once("grantline").chain(args.iter().copied())).unwrap().serve
    }

    #[test]
    fn limits_and_retention_have_documented_defaults_and_errors_name_the_flag() {
        let defaults = serve_config(&[]);
        let options = defaults.server_options().unwrap();
        assert_eq!(options.rate_limits, RateLimits::default());
        assert_eq!(options.rate_limits.api_key, None, "API keys are not limited unless configured");
        assert_eq!((options.http.max_connections, options.http.header_read_timeout), (20_000, Duration::from_secs(30)));
        assert_eq!(defaults.retention().unwrap(), (RetentionPolicy::default(), Duration::from_secs(3600)));

        let set = serve_config(&["--rate-limit-api-key", "100/s:200", "--rate-limit-link-form", "off", "--retention-account-days", "0"]);
        let options = set.server_options().unwrap();
        assert_eq!(options.rate_limits.api_key.map(|r| r.burst), Some(200));
        assert_eq!(options.rate_limits.link_form, None);
        assert_eq!(set.retention().unwrap().0.ended_account_days, None, "0 keeps forever");

        for (flag, value, field) in [
            ("--rate-limit-client-token", "lots", "rate_limit_client_token"),
            ("--rate-limit-mcp-credential", "0/s", "rate_limit_mcp_credential"),
            ("--max-connections", "0", "max_connections"),
            ("--header-read-timeout-secs", "0", "header_read_timeout_secs"),
        ] {
            let err = serve_config(&[flag, value]).server_options().unwrap_err();
            assert!(matches!(&err, Error::Validation { field: f, .. } if f == field), "{err:?}");
        }
    }

    #[test]
    fn dev_mode_refuses_a_non_loopback_address_unless_forced() {
        let remote: std::net::SocketAddr = "0.0.0.0:9900".parse().unwrap();
        let local: std::net::SocketAddr = "127.0.0.1:9900".parse().unwrap();
        let err = serve_config(&["--dev"]).check_dev_bind(remote).unwrap_err();
        assert!(matches!(&err, Error::Validation { field, .. } if field == "bind") && err.to_string().contains("--dev-allow-remote"), "{err}");
        serve_config(&["--dev"]).check_dev_bind(local).unwrap();
        serve_config(&["--dev", "--dev-allow-remote"]).check_dev_bind(remote).unwrap();
        serve_config(&[]).check_dev_bind(remote).unwrap();
    }

    #[test]
    fn a_test_broker_fills_in_what_its_flags_left_out_and_says_it_in_one_line() {
        assert_eq!(serve_config(&[]).bind_address(), DEFAULT_BIND);
        let mut cfg = serve_config(&["--test"]);
        assert_eq!(cfg.bind_address(), TEST_BIND, "a free loopback port");
        let test = cfg.prepare_test().unwrap();
        let dir = test.dir.as_ref().expect("a temporary directory").path().to_path_buf();
        assert!(cfg.store.dev && cfg.store.encryption_key.is_some());
        assert_eq!(cfg.store.database_url(), format!("sqlite://{}", dir.join("grantline.db").display()));
        let line: serde_json::Value =
            serde_json::from_str(&cfg.test_line("127.0.0.1:4000".parse().unwrap(), Some("gl_x"), None)).unwrap();
        assert_eq!(line["url"], "http://127.0.0.1:4000");
        assert_eq!((line["api_key"].as_str(), line["encryption_key"].as_str()), (Some("gl_x"), cfg.store.encryption_key.as_deref()));
        drop(test);
        assert!(!dir.exists(), "the temporary database goes with the broker");

        // What is given is kept; --no-dev is a production-like test broker.
        let mut given = serve_config(&["--test", "--no-dev", "--database-url", "sqlite://x.db", "--encryption-key", "k"]);
        assert!(given.prepare_test().unwrap().dir.is_none());
        assert!(!given.store.dev);
        assert_eq!((given.store.database_url(), given.store.encryption_key.as_deref()), ("sqlite://x.db", Some("k")));
        let line: serde_json::Value = serde_json::from_str(&given.test_line("127.0.0.1:1".parse().unwrap(), None, None)).unwrap();
        assert!(line["api_key"].is_null(), "a database with a project prints no new key");

        let refused = given.check_test_bind("0.0.0.0:9900".parse().unwrap()).unwrap_err();
        assert!(matches!(&refused, Error::Validation { field, .. } if field == "bind"), "{refused:?}");
        assert!(serve_config(&[]).check_test_bind("0.0.0.0:9900".parse().unwrap()).is_ok(), "only --test is held to loopback");
    }

    #[test]
    fn no_dev_and_remote_flags_do_not_mix_with_test() {
        #[derive(clap::Parser, Debug)]
        struct Cli {
            #[command(flatten)]
            serve: ServeConfig,
        }
        let parse = |args: &[&str]| <Cli as clap::Parser>::try_parse_from(std::iter::once("grantline").chain(args.iter().copied()));
        assert!(parse(&["--no-dev"]).is_err(), "--no-dev needs --test");
        assert!(parse(&["--test", "--dev-allow-remote"]).is_err());
        assert!(parse(&["--test", "--demo"]).is_err());
        assert!(parse(&["--test", "--no-dev", "--dev"]).is_err());
    }

    #[tokio::test]
    async fn dev_mode_on_postgresql_needs_an_encryption_key() {
        let args = StoreArgs {
            database_url: Some("postgres://u:secret-pw@127.0.0.1:1/g".into()),
            encryption_key: None,
            encryption_keys: None,
            dev: true,
            providers: None,
        };
        let config = EngineConfig::new(url::Url::parse("http://127.0.0.1:9900").unwrap());
        let Err(err) = args.open(config).await else { panic!("opened without a key") };
        assert!(matches!(&err, Error::Validation { field, .. } if field == "encryption_key"), "{err:?}");
        assert!(!err.to_string().contains("secret-pw"));
    }
}
