//! The authority: sessions, connecting accounts, the account state machine, providers, tools and expiry.
//!
//! The broker's routes call these methods and only translate HTTP; every rule lives here.

// Connecting, holding and using users' accounts, by flow.
pub mod accounts;
pub mod connect;
pub mod provider;
pub mod tools;
pub mod crypto;
pub mod mcp_auth;
pub mod sandbox;
pub mod store;
pub mod webhooks;

// The project's own settings and the sessions apps open.
mod auth_configs;
mod client_tokens;
mod mcp_access;
mod mcp_credentials;
pub mod dashboard;
mod origins;
pub mod oauth_server;
pub mod outbound;
mod profile;
mod projects;
pub mod retention;
mod sessions;
pub mod verification;

pub mod clock;
mod metrics;
pub mod notifier;
mod readiness;
mod views;

use std::sync::Arc;
use std::time::Duration;

pub use notifier::{Notifier, WatchKey};
pub use readiness::{Readiness, ReadyCheck};
pub use connect::{CallbackAllowList, CallbackOutcome, CallbackPage, CallbackParams, ConnectForm, FormOutcome, LinkOpen};
pub use crypto::{random as secrets, vault};
pub use dashboard::{DashboardSession, DASHBOARD_SESSION_TTL};
pub use mcp_access::refuse_outside_mcp;
pub use origins::OriginAllowList;
pub use profile::{check_logo, sniff_image, AppBrand, PROJECT_LOGOS_PATH};
pub use projects::{Bootstrap, NewApiKey, DEV_LOOPBACK};
pub use verification::{BindingCookies, VerificationPurpose, VerificationStart};
pub use provider::oauth;
pub use sandbox::Sandbox;
pub use sessions::ToolkitFilter;
pub use tools::{ToolCallOutcome, MAX_TOOLS_PAGE};

use crate::catalog::Catalog;
use crate::Result;
use store::{DueLink, Project, Store, Transition};
use vault::Vault;

/// Path of the OAuth callback on the broker.
pub const CALLBACK_PATH: &str = "/oauth/callback";
/// Path prefix of the toolkit monograms the broker serves.
pub const LOGOS_PATH: &str = "/logos/";
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

/// Who is calling: a project (by API key) or one session of it (by client token or MCP credential).
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    /// The project the credential belongs to.
    pub project: Project,
    /// How much of the project the credential reaches.
    pub scope: Scope,
    /// The API key (`ak_…`) that authenticated the call, if one did: a credential minted with it
    /// (a client token) is revoked with it.
    pub api_key_id: Option<String>,
}

/// The reach of a credential.
#[derive(Debug, Clone, PartialEq)]
pub enum Scope {
    /// An API key: the whole project.
    Project,
    /// A client token: authorize, wait and list toolkits for one session.
    Session {
        /// The token's id (`ct_…`).
        token_id: String,
        /// The one session it acts on.
        session: Box<store::SessionRecord>,
    },
    /// An MCP credential: list and call one session's tools on its MCP endpoint, as its user.
    Mcp {
        /// The credential's id (`mcpc_…`), or the grant's (`mcpg_…`) for an MCP access token.
        credential_id: String,
        /// The one session it acts on.
        session: Box<store::SessionRecord>,
    },
}

/// Why an MCP credential is refused outside its session's MCP endpoint.
pub(crate) const MCP_ONLY: &str =
    "an MCP credential (glmcp_…) or MCP access token (glmat_…) only works on its own session's MCP endpoint (/tool_router/{session_id}/mcp); use an API key here";

impl Principal {
    /// A principal with the whole project's reach (an API key, or an operator at the CLI).
    pub fn project(project: Project) -> Self {
        Self { project, scope: Scope::Project, api_key_id: None }
    }

    /// A principal authenticated by the API key `key_id`: the whole project's reach.
    pub fn api_key(project: Project, key_id: &str) -> Self {
        Self { api_key_id: Some(key_id.to_string()), ..Self::project(project) }
    }

    /// Refuses a session-scoped credential for a project-wide action.
    pub fn require_project(&self) -> Result<()> {
        match self.scope {
            Scope::Project => Ok(()),
            Scope::Session { .. } => {
                Err(crate::Error::Forbidden("a client token can only authorize, wait and list toolkits for its own session".into()))
            }
            Scope::Mcp { .. } => Err(crate::Error::Forbidden(MCP_ONLY.into())),
        }
    }

    /// Refuses a client token for listing and calling a session's tools: those take the project
    /// (an API key) or the session's MCP credential.
    pub(crate) fn require_tools(&self) -> Result<()> {
        match self.scope {
            Scope::Project | Scope::Mcp { .. } => Ok(()),
            Scope::Session { .. } => self.require_project(),
        }
    }

    /// Refuses a session-scoped credential for any session but its own.
    pub(crate) fn check_session(&self, session_id: &str) -> Result<()> {
        match &self.scope {
            Scope::Session { session, .. } if session.id != session_id => {
                Err(crate::Error::Forbidden("this client token belongs to another session".into()))
            }
            Scope::Mcp { session, .. } if session.id != session_id => Err(crate::Error::Forbidden(
                "this MCP credential belongs to another session; it only works on its own session's MCP endpoint".into(),
            )),
            _ => Ok(()),
        }
    }

    /// Refuses a session-scoped credential for an account outside its session's user and toolkits.
    pub(crate) fn check_account(&self, account: &store::AccountRecord) -> Result<()> {
        match &self.scope {
            Scope::Session { session, .. } | Scope::Mcp { session, .. }
                if account.user_id != session.config.user_id
                    || !crate::model::ToolkitsConfig::allows(session.config.toolkits.as_ref(), &account.toolkit) =>
            {
                Err(crate::Error::Forbidden("this session's credential cannot see that connected account".into()))
            }
            _ => Ok(()),
        }
    }
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
    /// Feeds `notifier` from the store's change feed while the engine lives.
    follower: tokio::task::JoinHandle<()>,
    /// `true` once the broker is shutting down: open waits answer at once.
    shutdown: tokio::sync::watch::Sender<bool>,
    /// Wakes the webhook delivery loop (`webhooks/delivery.rs`).
    webhook_wake: Arc<tokio::sync::Notify>,
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.follower.abort();
    }
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
        let sandbox = Sandbox::new(store.clone());
        let notifier = Notifier::default();
        let follower = notifier.follow(store.subscribe_changes());
        let shutdown = tokio::sync::watch::channel(false).0;
        let webhook_wake = Arc::new(tokio::sync::Notify::new());
        Ok(Self { store, vault, catalog, config, notifier, http, sandbox, follower, shutdown, webhook_wake })
    }

    /// Starts shutting down: every open wait (and any begun from now on) answers at once with
    /// what it would answer at its deadline, so its client re-issues it elsewhere.
    pub fn begin_shutdown(&self) {
        self.shutdown.send_replace(true);
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// The toolkit catalog in force.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// A toolkit's logo: its declared URL, else the monogram the broker serves itself.
    pub fn logo_url(&self, def: &crate::catalog::ToolkitDef) -> String {
        def.logo.clone().unwrap_or_else(|| self.config.url(&format!("{LOGOS_PATH}{}.svg", def.slug)))
    }

    /// The dev sandbox provider (only reachable in dev mode).
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Moves every account whose first link ran out to EXPIRED (waking its waiters on every
    /// broker); returns how many. Safe on several brokers at once: each account expires once.
    pub async fn expire_due(&self) -> Result<usize> {
        const BATCH: u32 = 100;
        let mut expired = 0;
        loop {
            let now = clock::now_ms();
            let due: Vec<DueLink> = self.store.due_links(&accounts::transitions::pending(), now, BATCH).await?;
            for link in &due {
                if let Some(account) = self.store.transition(&Transition::expire_link(link, now)).await? {
                    metrics::flow_finished(&account.toolkit, "expired");
                    expired += 1;
                }
            }
            if due.len() < BATCH as usize {
                return Ok(expired);
            }
        }
    }

    /// Runs [`Engine::expire_due`] every `every` until the engine is dropped.
    pub fn spawn_expiry_sweeper(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        self.spawn_sweeper("expiry", every, |engine| async move { engine.expire_due().await })
    }

    /// Runs `sweep` now and then every `every` until the engine is dropped (the task holds it
    /// weakly), logging a failed pass as `{what} sweep failed`.
    pub(crate) fn spawn_sweeper<T, F, Fut>(self: &Arc<Self>, what: &'static str, every: Duration, sweep: F) -> tokio::task::JoinHandle<()>
    where
        F: Fn(Arc<Engine>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = Result<T>> + Send,
    {
        let weak = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            loop {
                tick.tick().await;
                let Some(engine) = weak.upgrade() else { return };
                if let Err(e) = sweep(engine).await {
                    tracing::warn!(error = %e, "{what} sweep failed");
                }
            }
        })
    }
}
