//! The authority: sessions, the connection state machine, OAuth2, the vault and expiry.
//!
//! The broker's routes call these methods and only translate HTTP; every rule lives here.

mod auth_configs;
mod callback_urls;
pub mod clock;
mod connections;
pub mod notifier;
pub mod oauth;
mod projects;
pub mod sandbox;
pub mod secrets;
mod sessions;
pub mod store;
pub mod vault;
mod views;

use std::sync::Arc;
use std::time::Duration;

pub use callback_urls::CallbackAllowList;
pub use connections::{CallbackOutcome, CallbackPage, CallbackParams, LinkOpen};
pub use sessions::ToolkitFilter;
pub use projects::{Bootstrap, NewApiKey};
pub use sandbox::Sandbox;

use crate::catalog::Catalog;
use crate::Result;
use notifier::Notifier;
use store::{Project, Store};
use vault::Vault;

/// Path of the OAuth callback on the broker.
pub const CALLBACK_PATH: &str = "/oauth/callback";
/// Path prefix of Connect Link pages on the broker.
pub const LINK_PATH: &str = "/link/";

/// Engine settings; see `grantline serve --help` for how each is set.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// The URL users' browsers reach the broker at (links and the OAuth callback use it).
    pub public_base_url: url::Url,
    /// How long an INITIATED account waits for its link to be completed.
    pub link_ttl: Duration,
    /// Longest single `/wait` the broker grants.
    pub max_wait: Duration,
    /// Timeout of requests to providers' token endpoints.
    pub provider_timeout: Duration,
    /// Dev mode: serves the `sandbox` toolkit, allows an ephemeral key.
    pub dev_mode: bool,
}

impl EngineConfig {
    /// Defaults for a broker at `public_base_url`.
    pub fn new(public_base_url: url::Url) -> Self {
        Self {
            public_base_url,
            link_ttl: Duration::from_secs(600),
            max_wait: Duration::from_secs(120),
            provider_timeout: Duration::from_secs(15),
            dev_mode: false,
        }
    }

    /// An absolute URL on the broker for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.public_base_url.as_str().trim_end_matches('/'), path)
    }

    /// The OAuth redirect URI registered with providers.
    pub fn redirect_uri(&self) -> String {
        self.url(CALLBACK_PATH)
    }
}

/// Who is calling: resolved from an API key.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The project the key belongs to.
    pub project: Project,
}

/// The engine. Cheap to share behind an `Arc`.
pub struct Engine {
    store: Arc<dyn Store>,
    vault: Vault,
    catalog: Catalog,
    config: EngineConfig,
    notifier: Notifier,
    http: reqwest::Client,
    sandbox: Sandbox,
}

impl Engine {
    /// Builds an engine over `store` (migrating it) with the given vault, catalog and settings.
    pub async fn new(store: Arc<dyn Store>, vault: Vault, mut catalog: Catalog, config: EngineConfig) -> Result<Self> {
        store.migrate().await?;
        if config.dev_mode {
            catalog.insert(sandbox::toolkit(&config))?;
        }
        let http = reqwest::Client::builder()
            .timeout(config.provider_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("grantline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| crate::Error::Internal(format!("http client: {e}")))?;
        Ok(Self { store, vault, catalog, config, notifier: Notifier::default(), http, sandbox: Sandbox::default() })
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The toolkit catalog in force.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The dev sandbox provider (only reachable in dev mode).
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Moves abandoned links to EXPIRED and wakes their waiters; returns how many.
    pub async fn expire_due(&self) -> Result<usize> {
        let ids = self.store.expire_due(clock::now_ms()).await?;
        for id in &ids {
            self.notifier.account_changed(id);
        }
        Ok(ids.len())
    }

    /// Runs [`Engine::expire_due`] every `every` until the engine is dropped.
    pub fn spawn_expiry_sweeper(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(engine) = weak.upgrade() else { return };
                if let Err(e) = engine.expire_due().await {
                    tracing::warn!(error = %e, "expiry sweep failed");
                }
            }
        })
    }
}
