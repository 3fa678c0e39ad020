//! Plain-data JS objects for the core's wire types (camelCase; `JSON.stringify` shows them).
//! Where a view is a rule (accounts, toolkits, search hits, pages) it is the core's
//! (`grantline_core::client::views`), copied field by field.

use std::collections::HashMap;

use grantline_core::client::views::{AccountView, PageView, RefreshedAccountView, RevokedAccountView, SearchHitView, ToolkitConnectionView, ToolkitView};
use grantline_core::model;
use napi_derive::napi;

/// A user's connection to one toolkit.
#[napi(object)]
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
    /// True when ACTIVE and not disabled.
    pub is_active: bool,
    /// The auth config it was made with (`ac_…`).
    pub auth_config_id: String,
    /// ISO 8601 creation time.
    pub created_at: String,
    /// ISO 8601 time of the last change.
    pub updated_at: String,
    /// True while a reconnect link (`refresh`) is out; the account keeps its status meanwhile.
    pub reconnecting: bool,
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
            is_active: v.is_active,
            auth_config_id: v.auth_config_id,
            created_at: v.created_at,
            updated_at: v.updated_at,
            reconnecting: v.reconnecting,
        }
    }
}

/// A reconnect under way (`connectedAccounts.refresh`): the account keeps its id.
#[napi(object)]
pub struct RefreshedAccount {
    /// `ca_…`, the same account.
    pub id: String,
    /// The new Connect Link to open in the user's browser.
    pub redirect_url: String,
    /// The account's status now; it keeps it until the user completes the link.
    pub status: String,
}

impl From<model::RefreshAccountResponse> for RefreshedAccount {
    fn from(r: model::RefreshAccountResponse) -> Self {
        let v = RefreshedAccountView::from(r);
        Self { id: v.id, redirect_url: v.redirect_url, status: v.status }
    }
}

/// What `connectedAccounts.revoke` did: the account is REVOKED and its credentials are gone.
#[napi(object)]
pub struct RevokedAccount {
    /// `ca_…`
    pub id: String,
    /// `REVOKED`.
    pub status: String,
    /// The tokens the provider revoked on this call (`refresh_token`, `access_token`).
    pub revoked_tokens: Vec<String>,
    /// `revoked`, `not_supported` (only the broker's copy is gone) or `nothing_to_revoke`.
    #[napi(ts_type = "'revoked' | 'not_supported' | 'nothing_to_revoke'")]
    pub provider_revocation: String,
    /// What the app should know when the provider could not revoke the grant.
    pub note: Option<String>,
}

impl From<model::RevokeAccountResponse> for RevokedAccount {
    fn from(r: model::RevokeAccountResponse) -> Self {
        let v = RevokedAccountView::from(r);
        Self { id: v.id, status: v.status, revoked_tokens: v.revoked_tokens, provider_revocation: v.provider_revocation, note: v.note }
    }
}

/// The project and the profile every page a person sees shows (its name, logo and support URL),
/// and its user verification.
#[napi(object)]
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

/// The answer of `confirmUser`: send the browser to `redirectUrl`. When `matched` is false, the
/// user was not the one the flow was started for, and the flow has ended.
#[napi(object)]
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

/// The user's most recent account for a toolkit.
#[napi(object)]
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

/// A toolkit of the session and whether the user has connected it.
#[napi(object)]
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
    /// True when the user has an ACTIVE account for it.
    pub is_connected: bool,
    /// The user's account for it.
    pub connection: Option<ToolkitConnection>,
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
            is_connected: v.is_connected,
            connection: v.connection.map(ToolkitConnection::from),
        }
    }
}

/// A page count as the `number` a page object carries (a count past `u32::MAX` reads as the
/// largest one rather than wrapping).
fn count(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Declares a page object: the items of one page and where the next one starts. A page is only
/// ever given to JS, never read back (its items may be class instances, such as subscriptions).
macro_rules! page_object {
    ($(#[$doc:meta])* $name:ident of $item:ident from $wire:ty) => {
        $(#[$doc])*
        #[napi(object, object_from_js = false)]
        pub struct $name {
            /// The items on this page.
            pub items: Vec<$item>,
            /// Pass as `cursor` for the next page; absent on the last one.
            pub next_cursor: Option<String>,
            /// Number of pages.
            pub total_pages: u32,
            /// 1-based number of this page.
            pub current_page: u32,
            /// Number of items across all pages.
            pub total_items: u32,
        }

        impl From<model::Page<$wire>> for $name {
            fn from(p: model::Page<$wire>) -> Self {
                let v = PageView::<$item>::from(p);
                Self {
                    items: v.items,
                    next_cursor: v.next_cursor,
                    total_pages: count(v.total_pages),
                    current_page: count(v.current_page),
                    total_items: count(v.total_items),
                }
            }
        }
    };
}

page_object!(
    /// One page of connected accounts.
    AccountsPage of ConnectedAccount from model::ConnectedAccount
);

page_object!(
    /// One page of a session's toolkits.
    ToolkitsPage of Toolkit from model::ToolkitItem
);

/// Where an MCP client reaches the session's tools.
#[napi(object)]
pub struct Mcp {
    /// Transport: always `http` (streamable HTTP).
    #[napi(js_name = "type")]
    pub kind: String,
    /// The endpoint URL.
    pub url: String,
    /// `{ Authorization: 'Bearer glmcp_…' }`, a credential for this session's MCP endpoint only,
    /// once `await session.mcpHeaders()` minted it; `undefined` before.
    pub headers: Option<HashMap<String, String>>,
}

/// A minted MCP credential: give `url` and `headers` to an MCP client (never the API key). Neither
/// `console.log` nor `JSON.stringify` shows the secret; read `.secret` or `.headers` where you
/// pass them on.
#[napi]
pub struct McpCredential {
    inner: model::McpCredential,
}

#[napi]
impl McpCredential {
    /// `mcpc_…`, to revoke it by.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id.clone()
    }

    /// The secret (`glmcp_…`): it opens this session's MCP endpoint and nothing else.
    #[napi(getter)]
    pub fn secret(&self) -> String {
        self.inner.secret.clone()
    }

    /// The one session it opens.
    #[napi(getter)]
    pub fn session_id(&self) -> String {
        self.inner.session_id.clone()
    }

    /// The label given at minting.
    #[napi(getter)]
    pub fn name(&self) -> Option<String> {
        self.inner.name.clone()
    }

    /// RFC 3339.
    #[napi(getter)]
    pub fn created_at(&self) -> String {
        self.inner.created_at.clone()
    }

    /// RFC 3339 time after which the broker refuses it.
    #[napi(getter)]
    pub fn expires_at(&self) -> String {
        self.inner.expires_at.clone()
    }

    /// The session's MCP endpoint.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.inner.mcp.url.clone()
    }

    /// `{ Authorization: 'Bearer glmcp_…' }`.
    #[napi(getter)]
    pub fn headers(&self) -> HashMap<String, String> {
        self.inner.mcp.headers.clone().into_iter().collect()
    }

    /// What `JSON.stringify` and `console.log` show: everything but the secret.
    #[napi(
        js_name = "toJSON",
        ts_return_type = "{ id: string; sessionId: string; name: string | null; createdAt: string; expiresAt: string; url: string; secret: '[hidden]' }"
    )]
    pub fn to_json(&self) -> serde_json::Value {
        let c = &self.inner;
        serde_json::json!({ "id": c.id, "sessionId": c.session_id, "name": c.name, "createdAt": c.created_at, "expiresAt": c.expires_at, "url": c.mcp.url, "secret": "[hidden]" })
    }
}

impl From<model::McpCredential> for McpCredential {
    fn from(inner: model::McpCredential) -> Self {
        Self { inner }
    }
}

/// An MCP credential as listings show it (never its secret).
#[napi(object)]
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

/// A client token for a browser widget: hand `token` to the page (it is a secret). Neither
/// `console.log` nor `JSON.stringify` shows the token; read `.token` where you pass it on.
#[napi]
pub struct ClientToken {
    inner: model::ClientToken,
}

#[napi]
impl ClientToken {
    /// `ct_…`, to revoke it by.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id.clone()
    }

    /// The secret (`glct_…`) the page passes to `GrantlineWeb.init`.
    #[napi(getter)]
    pub fn token(&self) -> String {
        self.inner.token.clone()
    }

    /// The one session it can act on.
    #[napi(getter)]
    pub fn session_id(&self) -> String {
        self.inner.session_id.clone()
    }

    /// RFC 3339 time after which the broker refuses it.
    #[napi(getter)]
    pub fn expires_at(&self) -> String {
        self.inner.expires_at.clone()
    }

    /// What `JSON.stringify` and `console.log` show: everything but the token.
    #[napi(js_name = "toJSON", ts_return_type = "{ id: string; sessionId: string; expiresAt: string; token: '[hidden]' }")]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "id": self.inner.id, "sessionId": self.inner.session_id, "expiresAt": self.inner.expires_at, "token": "[hidden]" })
    }
}

impl From<model::ClientToken> for ClientToken {
    fn from(inner: model::ClientToken) -> Self {
        Self { inner }
    }
}

/// A meta tool of the session, e.g. `COMPOSIO_MANAGE_CONNECTIONS`.
#[napi(object)]
pub struct Tool {
    /// e.g. `COMPOSIO_MANAGE_CONNECTIONS`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// JSON Schema of the arguments.
    pub input_parameters: serde_json::Value,
}

impl From<model::ToolInfo> for Tool {
    fn from(t: model::ToolInfo) -> Self {
        Self { slug: t.slug, name: t.name, description: t.description, input_parameters: t.input_parameters }
    }
}

/// What running a toolkit tool gave. A toolkit the user has not connected is not an error:
/// `successful` is false and `data.next_step` says which meta tool to call.
#[napi(object)]
pub struct ExecuteResult {
    /// The provider's answer (parsed JSON), or what the agent needs to connect first.
    pub data: serde_json::Value,
    /// Why it did not succeed, for the model.
    pub error: Option<String>,
    /// True when the provider answered 2xx.
    pub successful: bool,
    /// Identifies this execution in the broker's logs (`log_…`).
    pub log_id: String,
}

impl From<model::ExecuteResponse> for ExecuteResult {
    fn from(r: model::ExecuteResponse) -> Self {
        Self { data: r.data, error: r.error, successful: r.successful, log_id: r.log_id }
    }
}

/// What running a meta tool gave.
#[napi(object)]
pub struct MetaResult {
    /// The tool's output, e.g. `results.<toolkit>.redirect_url` of `COMPOSIO_MANAGE_CONNECTIONS`.
    pub data: serde_json::Value,
    /// An error for the model, when the tool failed.
    pub error: Option<String>,
    /// Identifies this execution in the broker's logs (`log_…`).
    pub log_id: String,
}

impl From<model::ExecuteMetaResponse> for MetaResult {
    fn from(r: model::ExecuteMetaResponse) -> Self {
        Self { data: r.data, error: r.error, log_id: r.log_id }
    }
}

/// One tool found by `session.search`, best first.
#[napi(object)]
pub struct SearchHit {
    /// e.g. `GITHUB_CREATE_AN_ISSUE`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// The slug of the tool's toolkit, e.g. `github`.
    pub toolkit: String,
    /// JSON Schema of the arguments.
    pub input_parameters: serde_json::Value,
    /// Relevance (BM25); higher is better.
    pub score: f64,
    /// True when the user can run it now: an active account for its toolkit, or a toolkit that
    /// needs no connection.
    pub is_connected: bool,
}

impl From<model::SearchHit> for SearchHit {
    fn from(h: model::SearchHit) -> Self {
        let v = SearchHitView::from(h);
        Self {
            slug: v.slug,
            name: v.name,
            description: v.description,
            toolkit: v.toolkit,
            input_parameters: v.input_parameters,
            score: v.score,
            is_connected: v.is_connected,
        }
    }
}

/// The provider's answer to `session.proxyExecute`, as it came.
#[napi(object)]
pub struct ProxyResult {
    /// The provider's HTTP status.
    pub status: u32,
    /// Its body: parsed JSON, or the text as a string.
    pub data: serde_json::Value,
    /// Its response headers (credentials never included).
    pub headers: HashMap<String, String>,
}

impl From<model::ProxyResponse> for ProxyResult {
    fn from(r: model::ProxyResponse) -> Self {
        Self { status: u32::from(r.status), data: r.data, headers: r.headers.into_iter().collect() }
    }
}

/// A webhook subscription: where the broker sends which events, and the secret it signs them
/// with (Standard Webhooks). Neither `console.log` nor `JSON.stringify` shows the secret; read
/// `.secret` where you verify deliveries.
#[napi]
pub struct WebhookSubscription {
    inner: model::WebhookSubscription,
}

#[napi]
impl WebhookSubscription {
    /// `ws_…`
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id.clone()
    }

    /// The receiver's URL.
    #[napi(getter)]
    pub fn webhook_url(&self) -> String {
        self.inner.webhook_url.clone()
    }

    /// The payload format: always `V3`.
    #[napi(getter)]
    pub fn version(&self) -> String {
        self.inner.version.clone()
    }

    /// The event types sent to it.
    #[napi(getter)]
    pub fn enabled_events(&self) -> Vec<String> {
        self.inner.enabled_events.clone()
    }

    /// The signing secret (`whsec_…`): verify deliveries with it.
    #[napi(getter)]
    pub fn secret(&self) -> String {
        self.inner.secret.clone()
    }

    /// ISO 8601 creation time.
    #[napi(getter)]
    pub fn created_at(&self) -> String {
        self.inner.created_at.clone()
    }

    /// ISO 8601 time of the last change.
    #[napi(getter)]
    pub fn updated_at(&self) -> String {
        self.inner.updated_at.clone()
    }

    /// What `JSON.stringify` and `console.log` show: everything but the secret.
    #[napi(
        js_name = "toJSON",
        ts_return_type = "{ id: string; webhookUrl: string; version: string; enabledEvents: string[]; createdAt: string; updatedAt: string; secret: '[hidden]' }"
    )]
    pub fn to_json(&self) -> serde_json::Value {
        let s = &self.inner;
        serde_json::json!({
            "id": s.id, "webhookUrl": s.webhook_url, "version": s.version, "enabledEvents": s.enabled_events,
            "createdAt": s.created_at, "updatedAt": s.updated_at, "secret": "[hidden]",
        })
    }
}

impl From<model::WebhookSubscription> for WebhookSubscription {
    fn from(inner: model::WebhookSubscription) -> Self {
        Self { inner }
    }
}

page_object!(
    /// One page of webhook subscriptions.
    WebhookSubscriptionsPage of WebhookSubscription from model::WebhookSubscription
);

/// What `webhooks.rotateSecret` gave: the new secret, the only one deliveries are signed with
/// from now on. Neither `console.log` nor `JSON.stringify` shows it.
#[napi]
pub struct RotatedWebhookSecret {
    inner: model::RotatedWebhookSecret,
}

#[napi]
impl RotatedWebhookSecret {
    /// `ws_…`, the subscription.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id.clone()
    }

    /// The new signing secret (`whsec_…`).
    #[napi(getter)]
    pub fn secret(&self) -> String {
        self.inner.secret.clone()
    }

    /// What `JSON.stringify` and `console.log` show: the id, not the secret.
    #[napi(js_name = "toJSON", ts_return_type = "{ id: string; secret: '[hidden]' }")]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "id": self.inner.id, "secret": "[hidden]" })
    }
}

impl From<model::RotatedWebhookSecret> for RotatedWebhookSecret {
    fn from(inner: model::RotatedWebhookSecret) -> Self {
        Self { inner }
    }
}

/// An event type a subscription can enable.
#[napi(object)]
pub struct WebhookEventType {
    /// e.g. `grantline.connected_account.deleted`.
    pub event_type: String,
    /// What it means.
    pub description: String,
    /// The payload formats it is sent in: `['V3']`.
    pub supported_versions: Vec<String>,
}

impl From<model::WebhookEventType> for WebhookEventType {
    fn from(t: model::WebhookEventType) -> Self {
        Self { event_type: t.event_type, description: t.description, supported_versions: t.supported_versions }
    }
}

/// One attempt of a webhook delivery.
#[napi(object)]
pub struct DeliveryAttempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// ISO 8601: when it was made.
    pub at: String,
    /// The receiver's HTTP status, when it answered.
    pub status_code: Option<u32>,
    /// How long the receiver took, in milliseconds.
    pub latency_ms: i64,
    /// Why it failed, when it did (a status is not an error: see `statusCode`).
    pub error: Option<String>,
}

impl From<model::DeliveryAttempt> for DeliveryAttempt {
    fn from(a: model::DeliveryAttempt) -> Self {
        Self { attempt: a.attempt, at: a.at, status_code: a.status_code.map(u32::from), latency_ms: a.latency_ms as i64, error: a.error }
    }
}

/// One event sent to one subscription, and its attempts.
#[napi(object)]
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
    pub sequence: i64,
    /// Where the delivery is.
    #[napi(ts_type = "'PENDING' | 'DELIVERED' | 'FAILED'")]
    pub status: String,
    /// ISO 8601: when the next attempt is due (pending only).
    pub next_attempt_at: Option<String>,
    /// ISO 8601 creation time.
    pub created_at: String,
    /// Every attempt so far, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}

impl From<model::WebhookDelivery> for WebhookDelivery {
    fn from(d: model::WebhookDelivery) -> Self {
        Self {
            id: d.id,
            event_type: d.event_type,
            event_id: d.event_id,
            connected_account_id: d.connected_account_id,
            sequence: d.sequence as i64,
            status: d.status.as_str().to_string(),
            next_attempt_at: d.next_attempt_at,
            created_at: d.created_at,
            attempts: d.attempts.into_iter().map(DeliveryAttempt::from).collect(),
        }
    }
}

page_object!(
    /// One page of a subscription's deliveries, newest first.
    WebhookDeliveriesPage of WebhookDelivery from model::WebhookDelivery
);
