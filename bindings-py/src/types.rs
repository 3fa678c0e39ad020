//! Read-only Python views of the core's wire types. Where a view is a rule (accounts, toolkits,
//! pages) it is the core's (`grantline_core::client::views`), copied field by field.

use std::collections::BTreeMap;

use grantline_core::client::views::{AccountView, PageView, RefreshedAccountView, RevokedAccountView, ToolkitConnectionView, ToolkitView};
use grantline_core::model;
use pyo3::prelude::*;
use crate::errors::IntoPy;

/// Declares a page class: the items of one page and where the next one starts.
macro_rules! page_class {
    ($(#[$doc:meta])* $name:ident of $item:ident from $wire:ty) => {
        $(#[$doc])*
        #[pyclass(module = "grantline", frozen, get_all)]
        #[derive(Clone)]
        pub struct $name {
            /// The items on this page.
            pub items: Vec<$item>,
            /// Pass as `cursor` for the next page; `None` on the last one.
            pub next_cursor: Option<String>,
            /// Number of pages.
            pub total_pages: u64,
            /// 1-based number of this page.
            pub current_page: u64,
            /// Number of items across all pages.
            pub total_items: u64,
        }

        #[pymethods]
        impl $name {
            fn __repr__(&self) -> String {
                format!(
                    "{}(items={}, current_page={}, total_pages={}, total_items={})",
                    stringify!($name), self.items.len(), self.current_page, self.total_pages, self.total_items
                )
            }
        }

        impl From<model::Page<$wire>> for $name {
            fn from(p: model::Page<$wire>) -> Self {
                let v = PageView::<$item>::from(p);
                Self { items: v.items, next_cursor: v.next_cursor, total_pages: v.total_pages, current_page: v.current_page, total_items: v.total_items }
            }
        }
    };
}

/// A user's connection to one toolkit.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct ConnectedAccount {
    /// `ca_…`
    pub id: String,
    /// The end user it belongs to.
    pub user_id: String,
    /// The toolkit's slug, e.g. `github`.
    pub toolkit: String,
    /// `INITIATED`, `ACTIVE`, `FAILED`, `EXPIRED`, `REVOKED` or `INACTIVE`.
    pub status: String,
    /// Why it is FAILED or EXPIRED.
    pub status_reason: Option<String>,
    /// The name given at authorize time.
    pub alias: Option<String>,
    /// Disabled by the app.
    pub is_disabled: bool,
    /// The auth config it was made with (`ac_…`).
    pub auth_config_id: String,
    /// True when ACTIVE and not disabled.
    pub is_active: bool,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
    /// True while a reconnect link (``refresh``) is out; the account keeps its status meanwhile.
    pub reconnecting: bool,
}

#[pymethods]
impl ConnectedAccount {
    fn __repr__(&self) -> String {
        format!("ConnectedAccount(id={:?}, user_id={:?}, toolkit={:?}, status={:?})", self.id, self.user_id, self.toolkit, self.status)
    }
}

impl From<model::ConnectedAccount> for ConnectedAccount {
    fn from(a: model::ConnectedAccount) -> Self {
        let v = AccountView::from(a);
        Self {
            id: v.id,
            user_id: v.user_id,
            toolkit: v.toolkit,
            status: v.status,
            status_reason: v.status_reason,
            alias: v.alias,
            is_disabled: v.is_disabled,
            auth_config_id: v.auth_config_id,
            is_active: v.is_active,
            created_at: v.created_at,
            updated_at: v.updated_at,
            reconnecting: v.reconnecting,
        }
    }
}

/// A reconnect under way (``connected_accounts.refresh``): the account keeps its id.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct RefreshedAccount {
    /// `ca_…`, the same account.
    pub id: String,
    /// The new Connect Link to open in the user's browser.
    pub redirect_url: String,
    /// The account's status now; it keeps it until the user completes the link.
    pub status: String,
}

#[pymethods]
impl RefreshedAccount {
    fn __repr__(&self) -> String {
        format!("RefreshedAccount(id={:?}, status={:?})", self.id, self.status)
    }
}

impl From<model::RefreshAccountResponse> for RefreshedAccount {
    fn from(r: model::RefreshAccountResponse) -> Self {
        let v = RefreshedAccountView::from(r);
        Self { id: v.id, redirect_url: v.redirect_url, status: v.status }
    }
}

/// What ``connected_accounts.revoke`` did: the account is REVOKED and its credentials are gone.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct RevokedAccount {
    /// `ca_…`
    pub id: String,
    /// `REVOKED`.
    pub status: String,
    /// The tokens the provider revoked on this call (`refresh_token`, `access_token`).
    pub revoked_tokens: Vec<String>,
    /// `revoked`, `not_supported` (only the broker's copy is gone) or `nothing_to_revoke`.
    pub provider_revocation: String,
    /// What the app should know when the provider could not revoke the grant.
    pub note: Option<String>,
}

#[pymethods]
impl RevokedAccount {
    fn __repr__(&self) -> String {
        format!("RevokedAccount(id={:?}, provider_revocation={:?})", self.id, self.provider_revocation)
    }
}

impl From<model::RevokeAccountResponse> for RevokedAccount {
    fn from(r: model::RevokeAccountResponse) -> Self {
        let v = RevokedAccountView::from(r);
        Self { id: v.id, status: v.status, revoked_tokens: v.revoked_tokens, provider_revocation: v.provider_revocation, note: v.note }
    }
}

page_class!(
    /// One page of connected accounts.
    AccountsPage of ConnectedAccount from model::ConnectedAccount
);

/// The user's most recent account for a toolkit, as `Session.toolkits()` reports it.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct ToolkitConnection {
    /// True when that account is ACTIVE.
    pub is_active: bool,
    /// `ca_…`
    pub connected_account_id: String,
    /// The account's status.
    pub status: String,
    /// The auth config it uses (`ac_…`).
    pub auth_config_id: String,
    /// `OAUTH2`, `API_KEY`, …
    pub auth_scheme: String,
}

#[pymethods]
impl ToolkitConnection {
    fn __repr__(&self) -> String {
        format!("ToolkitConnection(connected_account_id={:?}, status={:?})", self.connected_account_id, self.status)
    }
}

/// A toolkit of the session and whether the user has connected it.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct Toolkit {
    /// e.g. `github`.
    pub slug: String,
    /// e.g. `GitHub`.
    pub name: String,
    /// What it gives an agent.
    pub description: String,
    /// Logo URL.
    pub logo: String,
    /// True when nothing needs connecting.
    pub is_no_auth: bool,
    /// Whether the session enables it.
    pub enabled: bool,
    /// The user's account for it, or `None`.
    pub connection: Option<ToolkitConnection>,
    /// True when the user has an ACTIVE account for it.
    pub is_connected: bool,
}

#[pymethods]
impl Toolkit {
    fn __repr__(&self) -> String {
        format!("Toolkit(slug={:?}, is_connected={})", self.slug, if self.is_connected { "True" } else { "False" })
    }
}

impl From<ToolkitConnectionView> for ToolkitConnection {
    fn from(c: ToolkitConnectionView) -> Self {
        Self {
            is_active: c.is_active,
            connected_account_id: c.connected_account_id,
            status: c.status,
            auth_config_id: c.auth_config_id,
            auth_scheme: c.auth_scheme,
        }
    }
}

impl From<model::ToolkitItem> for Toolkit {
    fn from(t: model::ToolkitItem) -> Self {
        let v = ToolkitView::from(t);
        Self {
            slug: v.slug,
            name: v.name,
            description: v.description,
            logo: v.logo,
            is_no_auth: v.is_no_auth,
            enabled: v.enabled,
            connection: v.connection.map(ToolkitConnection::from),
            is_connected: v.is_connected,
        }
    }
}

page_class!(
    /// One page of a session's toolkits.
    ToolkitsPage of Toolkit from model::ToolkitItem
);

/// Where an MCP client reaches the session's tools.
#[pyclass(module = "grantline", frozen)]
#[derive(Clone)]
pub struct Mcp {
    kind: String,
    url: String,
    session: grantline_core::Session,
    /// Whether `headers` may wait for the broker (the blocking client) or must not (asyncio).
    blocking: bool,
}

impl Mcp {
    pub fn new(session: &grantline_core::Session, blocking: bool) -> Self {
        let info = session.mcp();
        Self { kind: info.kind.clone(), url: info.url.clone(), session: session.clone(), blocking }
    }
}

#[pymethods]
impl Mcp {
    /// Transport: always `http` (streamable HTTP).
    #[getter(r#type)]
    fn kind(&self) -> &str {
        &self.kind
    }

    /// The endpoint URL.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// Headers to send with every MCP request: ``Authorization: Bearer glmcp_…``, a credential
    /// for this session's MCP endpoint only (never the API key), minted on first use and kept by
    /// the session object. The asyncio client mints it with ``await session.mcp_headers()``.
    #[getter]
    fn headers(&self, py: Python<'_>) -> PyResult<BTreeMap<String, String>> {
        if let Some(headers) = self.session.cached_mcp_headers() {
            return Ok(headers);
        }
        if !self.blocking {
            return Err(pyo3::exceptions::PyRuntimeError::new_err(
                "an AsyncSession mints its MCP credential over the network: use `await session.mcp_headers()`",
            ));
        }
        let session = self.session.clone();
        crate::runtime::block_on(py, async move { session.mcp_headers().await.py() })
    }

    fn __repr__(&self) -> String {
        // The headers are credentials (and reading them may mint one): never shown.
        format!("Mcp(type={:?}, url={:?})", self.kind, self.url)
    }
}

/// A minted MCP credential: give ``url`` and ``headers`` to an MCP client; ``secret`` is shown once.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct McpCredential {
    /// `mcpc_…`, to revoke it by.
    pub id: String,
    /// The secret (`glmcp_…`): it opens this session's MCP endpoint and nothing else.
    pub secret: String,
    /// The one session it opens.
    pub session_id: String,
    /// The label given at minting.
    pub name: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339 time after which the broker refuses it.
    pub expires_at: String,
    /// The session's MCP endpoint.
    pub url: String,
    /// `{"Authorization": "Bearer glmcp_…"}`.
    pub headers: BTreeMap<String, String>,
}

impl From<model::McpCredential> for McpCredential {
    fn from(c: model::McpCredential) -> Self {
        Self {
            id: c.id,
            secret: c.secret,
            session_id: c.session_id,
            name: c.name,
            created_at: c.created_at,
            expires_at: c.expires_at,
            url: c.mcp.url,
            headers: c.mcp.headers,
        }
    }
}

#[pymethods]
impl McpCredential {
    fn __repr__(&self) -> String {
        // Never the secret: reprs end up in logs.
        format!("McpCredential(id={:?}, session_id={:?}, expires_at={:?})", self.id, self.session_id, self.expires_at)
    }
}

/// An MCP credential as listings show it (never its secret).
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct McpCredentialInfo {
    /// `mcpc_…`
    pub id: String,
    /// The one session it opens.
    pub session_id: String,
    /// The label given at minting.
    pub name: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339 time after which the broker refuses it.
    pub expires_at: String,
    /// RFC 3339, once revoked.
    pub revoked_at: Option<String>,
    /// RFC 3339 of its latest use (to the minute).
    pub last_used_at: Option<String>,
    /// `ACTIVE`, `EXPIRED` or `REVOKED`.
    pub status: String,
}

impl From<model::McpCredentialInfo> for McpCredentialInfo {
    fn from(c: model::McpCredentialInfo) -> Self {
        Self {
            id: c.id,
            session_id: c.session_id,
            name: c.name,
            created_at: c.created_at,
            expires_at: c.expires_at,
            revoked_at: c.revoked_at,
            last_used_at: c.last_used_at,
            status: c.status,
        }
    }
}

#[pymethods]
impl McpCredentialInfo {
    fn __repr__(&self) -> String {
        format!("McpCredentialInfo(id={:?}, status={:?}, expires_at={:?})", self.id, self.status, self.expires_at)
    }
}

/// A client token for a browser widget: pass ``token`` to the page (``GrantlineWeb.init``); it is a secret.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct ClientToken {
    /// `ct_…`, to revoke it by.
    pub id: String,
    /// The secret (`glct_…`); it can only authorize, wait and list toolkits in its session.
    pub token: String,
    /// The one session it acts on.
    pub session_id: String,
    /// RFC 3339 time after which the broker refuses it.
    pub expires_at: String,
}

impl From<model::ClientToken> for ClientToken {
    fn from(t: model::ClientToken) -> Self {
        Self { id: t.id, token: t.token, session_id: t.session_id, expires_at: t.expires_at }
    }
}

#[pymethods]
impl ClientToken {
    fn __repr__(&self) -> String {
        // Never the token itself: reprs end up in logs.
        format!("ClientToken(id={:?}, session_id={:?}, expires_at={:?})", self.id, self.session_id, self.expires_at)
    }
}

/// The project and the profile every page a person sees shows (its name, logo and support
/// URL), and its user verification.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct ProjectInfo {
    /// `pr_…`
    pub id: String,
    /// The project's name (pages use it when there is no display name).
    pub name: String,
    /// The app's name on every page.
    pub display_name: Option<String>,
    /// Where people get help.
    pub support_url: Option<String>,
    /// The logo's URL on the broker.
    pub logo_url: Option<String>,
    /// The app's page that confirms who its user is.
    pub user_verification_url: Option<String>,
    /// Whether Connect Links go through user verification first.
    pub verify_connect_links: bool,
}

impl From<model::ProjectInfo> for ProjectInfo {
    fn from(p: model::ProjectInfo) -> Self {
        Self {
            id: p.id,
            name: p.name,
            display_name: p.display_name,
            support_url: p.support_url,
            logo_url: p.logo_url,
            user_verification_url: p.user_verification_url,
            verify_connect_links: p.verify_connect_links,
        }
    }
}

#[pymethods]
impl ProjectInfo {
    fn __repr__(&self) -> String {
        format!("ProjectInfo(id={:?}, display_name={:?})", self.id, self.display_name)
    }
}

/// The answer of ``confirm_user``: send the browser to ``redirect_url``. When ``matched`` is
/// false, the user was not the one the flow was started for, and the flow has ended.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct UserVerification {
    /// The flow (`uvf_…`).
    pub flow_id: String,
    /// Where to send the browser back to, on the broker.
    pub redirect_url: String,
    /// Whether the user confirmed is the one the flow was started for.
    pub matched: bool,
    /// RFC 3339 time after which the flow can no longer be finished.
    pub expires_at: String,
}

impl From<model::UserVerificationConfirmed> for UserVerification {
    fn from(c: model::UserVerificationConfirmed) -> Self {
        Self { flow_id: c.flow_id, redirect_url: c.redirect_url, matched: c.matched, expires_at: c.expires_at }
    }
}

#[pymethods]
impl UserVerification {
    fn __repr__(&self) -> String {
        format!("UserVerification(flow_id={:?}, matched={})", self.flow_id, self.matched)
    }
}

/// A webhook subscription: where the broker sends which events, and the secret it signs them
/// with (Standard Webhooks). ``secret`` is a secret: its repr never shows it.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct WebhookSubscription {
    /// `ws_…`
    pub id: String,
    /// The receiver's URL.
    pub webhook_url: String,
    /// The payload format: always `V3`.
    pub version: String,
    /// The event types sent to it.
    pub enabled_events: Vec<String>,
    /// The signing secret (`whsec_…`): verify deliveries with it.
    pub secret: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
}

#[pymethods]
impl WebhookSubscription {
    fn __repr__(&self) -> String {
        // Never the secret: reprs end up in logs.
        format!("WebhookSubscription(id={:?}, webhook_url={:?}, enabled_events={:?})", self.id, self.webhook_url, self.enabled_events)
    }
}

impl From<model::WebhookSubscription> for WebhookSubscription {
    fn from(s: model::WebhookSubscription) -> Self {
        Self {
            id: s.id,
            webhook_url: s.webhook_url,
            version: s.version,
            enabled_events: s.enabled_events,
            secret: s.secret,
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

page_class!(
    /// One page of webhook subscriptions.
    WebhookSubscriptionsPage of WebhookSubscription from model::WebhookSubscription
);

/// What ``webhooks.rotate_secret`` gave: the new secret, the only one deliveries are signed with from now on.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct RotatedWebhookSecret {
    /// `ws_…`, the subscription.
    pub id: String,
    /// The new signing secret (`whsec_…`).
    pub secret: String,
}

#[pymethods]
impl RotatedWebhookSecret {
    fn __repr__(&self) -> String {
        format!("RotatedWebhookSecret(id={:?})", self.id)
    }
}

impl From<model::RotatedWebhookSecret> for RotatedWebhookSecret {
    fn from(r: model::RotatedWebhookSecret) -> Self {
        Self { id: r.id, secret: r.secret }
    }
}

/// An event type a subscription can enable.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct WebhookEventType {
    /// e.g. `grantline.connected_account.deleted`.
    pub event_type: String,
    /// What it means.
    pub description: String,
    /// The payload formats it is sent in: `["V3"]`.
    pub supported_versions: Vec<String>,
}

#[pymethods]
impl WebhookEventType {
    fn __repr__(&self) -> String {
        format!("WebhookEventType(event_type={:?})", self.event_type)
    }
}

impl From<model::WebhookEventType> for WebhookEventType {
    fn from(t: model::WebhookEventType) -> Self {
        Self { event_type: t.event_type, description: t.description, supported_versions: t.supported_versions }
    }
}

/// One attempt of a webhook delivery.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct DeliveryAttempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// RFC 3339: when it was made.
    pub at: String,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u16>,
    /// How long the receiver took, in milliseconds.
    pub latency_ms: u64,
    /// Why it failed, when it did (a status is not an error: see ``status_code``).
    pub error: Option<String>,
}

#[pymethods]
impl DeliveryAttempt {
    fn __repr__(&self) -> String {
        let status = self.status_code.map_or("None".to_string(), |s| s.to_string());
        format!("DeliveryAttempt(attempt={}, status_code={status}, latency_ms={})", self.attempt, self.latency_ms)
    }
}

impl From<model::DeliveryAttempt> for DeliveryAttempt {
    fn from(a: model::DeliveryAttempt) -> Self {
        Self { attempt: a.attempt, at: a.at, status_code: a.status_code, latency_ms: a.latency_ms, error: a.error }
    }
}

/// One event sent to one subscription, and its attempts.
#[pyclass(module = "grantline", frozen, get_all)]
#[derive(Clone)]
pub struct WebhookDelivery {
    /// `msg_…`: the `webhook-id` header and the payload's `id`, the same on every attempt.
    pub id: String,
    /// The event type sent.
    pub event_type: String,
    /// `ev_…`: the event (one event may be sent under two types).
    pub event_id: String,
    /// The account the event is about (`ca_…`).
    pub connected_account_id: String,
    /// The account's event sequence number (drop an event older than one you have).
    pub sequence: u64,
    /// `PENDING`, `DELIVERED` or `FAILED`.
    pub status: String,
    /// RFC 3339: when the next attempt is due (pending only).
    pub next_attempt_at: Option<String>,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// Every attempt so far, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}

#[pymethods]
impl WebhookDelivery {
    fn __repr__(&self) -> String {
        format!("WebhookDelivery(id={:?}, event_type={:?}, status={:?}, attempts={})", self.id, self.event_type, self.status, self.attempts.len())
    }
}

impl From<model::WebhookDelivery> for WebhookDelivery {
    fn from(d: model::WebhookDelivery) -> Self {
        Self {
            id: d.id,
            event_type: d.event_type,
            event_id: d.event_id,
            connected_account_id: d.connected_account_id,
            sequence: d.sequence,
            status: d.status.as_str().to_string(),
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            attempts: d.attempts.into_iter().map(DeliveryAttempt::from).collect(),
        }
    }
}

page_class!(
    /// One page of a subscription's deliveries, newest first.
    WebhookDeliveriesPage of WebhookDelivery from model::WebhookDelivery
);
