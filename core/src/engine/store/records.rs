//! Rows as the engine reads and writes them.

use crate::model::{AccountEvent, AccountStatus, DeliveryStatus, SessionConfig};

/// A tenant of the broker: its keys, auth configs, sessions and accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    /// `pr_…`
    pub id: String,
    /// Display name.
    pub name: String,
    /// Callback URLs (origin plus optional path prefix) links may return to.
    pub allowed_callback_urls: Vec<String>,
    /// Browser origins that may call the client-token endpoints (CORS).
    pub allowed_origins: Vec<String>,
    /// Unix ms.
    pub created_at: i64,
}

/// An API key, as stored: only its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiKeyRecord {
    /// `ak_…`, safe to show.
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// Label.
    pub name: String,
    /// SHA-256 of the key.
    pub hash: String,
    /// The first characters of the key, to recognise it in listings.
    pub hint: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms, once revoked.
    pub revoked_at: Option<i64>,
}

/// A session-scoped client token, as stored: only its hash.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientTokenRecord {
    /// `ct_…`, safe to show.
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// The one session it acts on.
    pub session_id: String,
    /// SHA-256 of the token.
    pub hash: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms after which it is refused.
    pub expires_at: i64,
    /// Unix ms, once revoked.
    pub revoked_at: Option<i64>,
    /// The API key (`ak_…`) that minted it, revoked with it; `None` for a token minted at the
    /// command line, or before brokers recorded it.
    pub api_key_id: Option<String>,
}

/// A session-scoped MCP credential, as stored: only its hash. It lets an MCP client use one
/// session's MCP endpoint as that session's user, and nothing else.
#[derive(Debug, Clone, PartialEq)]
pub struct McpCredentialRecord {
    /// `mcpc_…`, safe to show.
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// The one session whose MCP endpoint it opens.
    pub session_id: String,
    /// SHA-256 of the secret (`glmcp_…`).
    pub hash: String,
    /// A label the app chose (which client holds it), if any.
    pub name: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms after which it is refused.
    pub expires_at: i64,
    /// Unix ms, once revoked.
    pub revoked_at: Option<i64>,
    /// The API key (`ak_…`) that minted it, revoked with it; `None` when an operator minted it
    /// without a key (then only its own revocation ends it).
    pub api_key_id: Option<String>,
    /// Unix ms of its latest use on the MCP endpoint (recorded at most once a minute).
    pub last_used_at: Option<i64>,
}

/// An OAuth app's credentials for one toolkit.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthConfigRecord {
    /// `ac_…`
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// Toolkit slug.
    pub toolkit: String,
    /// Display name.
    pub name: Option<String>,
    /// `OAUTH2`, …
    pub auth_scheme: String,
    /// OAuth client id (not secret).
    pub client_id: Option<String>,
    /// The client secret, sealed by the vault with the config id as context.
    pub client_secret_sealed: Option<Vec<u8>>,
    /// Scopes to request.
    pub scopes: Vec<String>,
    /// Whether links may use it.
    pub is_disabled: bool,
    /// Unix ms.
    pub created_at: i64,
}

/// A tool-router session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// `trs_…`
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// Normalised configuration.
    pub config: SessionConfig,
    /// Unix ms.
    pub created_at: i64,
}

/// A connected account.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountRecord {
    /// `ca_…`
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// The end user.
    pub user_id: String,
    /// Toolkit slug.
    pub toolkit: String,
    /// Auth config used.
    pub auth_config_id: String,
    /// `OAUTH2`, …
    pub auth_scheme: String,
    /// Name unique per user and toolkit.
    pub alias: Option<String>,
    /// Life-cycle state.
    pub status: AccountStatus,
    /// Why it failed or expired.
    pub status_reason: Option<String>,
    /// Disabled by the app.
    pub is_disabled: bool,
    /// The provider's token response, sealed by the vault with the account id as context.
    pub credentials_sealed: Option<Vec<u8>>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// The pending half of a connection: what the callback needs to finish it.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionRequestRecord {
    /// The account this completes.
    pub account_id: String,
    /// Owning project.
    pub project_id: String,
    /// `ln_…`, the Connect Link's token.
    pub link_token: String,
    /// The OAuth `state`: random, single use.
    pub state: String,
    /// The PKCE verifier, sealed with the account id as context.
    pub pkce_verifier_sealed: Option<Vec<u8>>,
    /// Where to send the user at the end.
    pub callback_url: Option<String>,
    /// Unix ms after which the link is dead.
    pub expires_at: i64,
    /// Unix ms when the callback used the `state`.
    pub consumed_at: Option<i64>,
    /// A first connection, or a reconnect of an account that already left INITIATED.
    pub kind: RequestKind,
}

/// What a connection request is for; the engine's rules for each are on the type
/// (`engine/connections.rs`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestKind {
    /// The account's first connection: the account is INITIATED until the link ends.
    Connect,
    /// A reconnect (`POST …/connected_accounts/{id}/refresh`) of an account that already left
    /// INITIATED: the account keeps its status and credentials until the link succeeds.
    Reconnect,
}

impl RequestKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connect => "connect",
            Self::Reconnect => "reconnect",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Connect, Self::Reconnect].into_iter().find(|k| k.as_str() == s)
    }
}

/// A compare-and-set change of one account, written in one transaction: it applies only if
/// the account still passes `guard`, and then changes its status, credentials and connection
/// request together. The engine states every rule (which statuses may move where, and why:
/// `engine/accounts/transitions.rs`); a store only checks the guard and writes.
///
/// A store publishes every applied transition on its change feed ([`Store::subscribe_changes`]),
/// and writes its `event` to the webhook outbox in the same transaction. (A key
/// rotation re-seals credentials with [`Store::replace_sealed`], compare-and-set on the old
/// bytes, not with a transition: the account itself does not change.)
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    /// The account.
    pub account_id: String,
    /// What the account must be for the change to apply.
    pub guard: Guard,
    /// The new status and its reason (`None` clears it); `None` keeps both.
    pub status: Option<(AccountStatus, Option<String>)>,
    /// What happens to the sealed credentials.
    pub credentials: CredentialsChange,
    /// What happens to the account's connection request.
    pub request: RequestChange,
    /// Unix ms: the account's new `updated_at` when its status or credentials change (a
    /// transition that only replaces or ends the request, or only tells waiters, keeps it).
    pub now: i64,
    /// The event the change is, written to the webhook outbox with the account as it is
    /// afterwards and the account's next sequence number; `None` writes none.
    pub event: Option<AccountEvent>,
}

/// The conditions of a [`Transition`]; all must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Guard {
    /// The statuses the account may be in (never empty).
    pub from: Vec<AccountStatus>,
    /// The account's connection request must be the one with this `state` (not replaced by a
    /// newer link, nor ended by a revocation or a deletion).
    pub request_state: Option<String>,
    /// The account must hold exactly these sealed credentials (nobody changed them meanwhile).
    pub credentials: Option<Vec<u8>>,
}

/// What a [`Transition`] does to an account's sealed credentials.
#[derive(Debug, Clone, PartialEq)]
pub enum CredentialsChange {
    /// Leaves them as they are.
    Keep,
    /// Replaces them.
    Set(Vec<u8>),
    /// Removes them.
    Wipe,
}

/// What a [`Transition`] does to an account's connection request.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestChange {
    /// Leaves it as it is.
    Keep,
    /// Replaces it (a fresh link: the older link token and `state` stop working).
    Replace(ConnectionRequestRecord),
    /// Deletes it (no link issued before can bring the account back).
    End,
}

/// A link whose time ran out: an account in one of the asked statuses whose connection request
/// expired ([`Store::due_links`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueLink {
    /// The account.
    pub account_id: String,
    /// The expired request's `state`, to guard the transition with.
    pub state: String,
}

/// What the change feed carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChange {
    /// An account changed (a transition, a deletion, enabling or disabling).
    Account(AccountKey),
    /// Changes may have been missed (a feed that reconnected): whoever waits re-reads.
    Resync,
}

/// Who an account belongs to: what waiters on an account or on a user match on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AccountKey {
    /// Owning project.
    pub project_id: String,
    /// The end user.
    pub user_id: String,
    /// `ca_…`
    pub account_id: String,
}

/// What the retention sweeper deletes ([`Store::purge`](super::Store::purge)): rows that ended
/// before these times (milliseconds; `i64::MIN` keeps them all).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PurgeBefore {
    /// Connection requests (link tokens) used or expired before this, once their account is no
    /// longer pending (an INITIATED account keeps its link until it is expired); user
    /// verification flows that expired before this.
    pub links: i64,
    /// Client tokens expired or revoked before this.
    pub client_tokens: i64,
    /// MCP credentials expired or revoked before this.
    pub mcp_credentials: i64,
    /// MCP logins: `mcp_grants` rows (pending authorizations, codes, tokens) that expired before
    /// this; clients registered (DCR) before this with no grant row living past it; cached client
    /// metadata documents that went stale before this.
    pub mcp_logins: i64,
    /// `FAILED` and `EXPIRED` accounts last changed before this, with their connection request.
    /// No other status is ever purged.
    pub accounts: i64,
    /// Webhook events fanned out, and deliveries that ended (delivered or failed), before this.
    pub webhooks: i64,
    /// Execution logs written before this.
    pub logs: i64,
}

/// How many rows [`Store::purge`](super::Store::purge) deleted, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Purged {
    /// Connection requests (link tokens) of accounts that stay, and user verification flows.
    pub links: u64,
    /// Client tokens.
    pub client_tokens: u64,
    /// MCP credentials.
    pub mcp_credentials: u64,
    /// MCP grant rows and clients.
    pub mcp_logins: u64,
    /// Accounts (their connection requests went with them).
    pub accounts: u64,
    /// Webhook events and ended deliveries (their attempts went with them).
    pub webhooks: u64,
    /// Execution logs.
    pub logs: u64,
}

/// One tool execution as the broker records it (`GET /api/v3.1/logs/{log_id}`): who ran what,
/// as which account, how it ended and how long it took.
///
/// Deliberately absent: the arguments, the provider's answer and any credential. Arguments and
/// answers may carry the end user's data (mail, documents, messages), so the broker never keeps
/// them; an operator sees that a call happened and how it ended, not what it carried.
#[derive(Debug, Clone, PartialEq)]
pub struct ExecutionLogRecord {
    /// `log_…`, the `log_id` the execution answered with.
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// The session it ran in (`trs_…`).
    pub session_id: String,
    /// The end user it ran for.
    pub user_id: String,
    /// The account that signed it (`ca_…`); `None` for a no-auth toolkit, a meta tool, or a call
    /// that found no usable account.
    pub account_id: Option<String>,
    /// Toolkit slug (`composio` for meta tools).
    pub toolkit: String,
    /// The tool (`GITHUB_GET_THE_AUTHENTICATED_USER`); `None` for a proxied request.
    pub tool_slug: Option<String>,
    /// Whether it succeeded.
    pub successful: bool,
    /// Why not, as a stable code (`PROVIDER_ERROR`, `NOT_CONNECTED`, an error kind's code, …).
    pub error_code: Option<String>,
    /// Why not, in words (bounded; the broker's own failures are never described).
    pub error_message: Option<String>,
    /// The provider's HTTP status, when the provider answered.
    pub provider_status: Option<i32>,
    /// How long the execution took inside the broker, in milliseconds.
    pub duration_ms: i64,
    /// Unix ms.
    pub created_at: i64,
}

/// Which execution logs a listing wants (`None`: any).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogFilter {
    /// Only this end user's.
    pub user_id: Option<String>,
    /// Only those signed by this account.
    pub account_id: Option<String>,
    /// Only this toolkit's.
    pub toolkit: Option<String>,
}

/// What a dev-sandbox grant is: the sandbox provider's authorization codes and tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SandboxGrantKind {
    /// An authorization code: single use, a minute.
    Code,
    /// An access token: an hour.
    AccessToken,
    /// A refresh token: single use (rotated on every refresh), a month.
    RefreshToken,
}

impl SandboxGrantKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Code => "code",
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Code, Self::AccessToken, Self::RefreshToken].into_iter().find(|k| k.as_str() == s)
    }
}

/// A code or token the dev sandbox provider issued, as stored: only its hash. Kept in the
/// store (not in memory) so a restarted broker, or another broker on the same database,
/// honours what an earlier one issued.
#[derive(Debug, Clone, PartialEq)]
pub struct SandboxGrant {
    /// SHA-256 of the code or token.
    pub hash: String,
    /// Code, access token or refresh token.
    pub kind: SandboxGrantKind,
    /// One per user consent: every token issued from it shares it, and revoking one ends all.
    pub family: String,
    /// The sandbox user who consented.
    pub user: String,
    /// The scopes granted.
    pub scope: String,
    /// For codes: the redirect URI the code is bound to.
    pub redirect_uri: Option<String>,
    /// For codes: the PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms after which it is refused.
    pub expires_at: i64,
}

/// How an MCP client came to be known to the broker's authorization server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpClientKind {
    /// Registered with Dynamic Client Registration (RFC 7591): the broker chose its `client_id`.
    Registered,
    /// Described by a Client ID Metadata Document: its `client_id` is the document's URL.
    MetadataDocument,
}

impl McpClientKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registered => "registered",
            Self::MetadataDocument => "metadata_document",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Registered, Self::MetadataDocument].into_iter().find(|k| k.as_str() == s)
    }
}

/// An MCP client of the broker's authorization server (public: it has no secret).
#[derive(Debug, Clone, PartialEq)]
pub struct McpClientRecord {
    /// `mcpcl_…` for a registered client, the document's https URL for a metadata document.
    pub client_id: String,
    /// Registered or described by its document.
    pub kind: McpClientKind,
    /// The client's metadata as the broker accepted it (JSON: `client_name`, `redirect_uris`, …).
    pub metadata: String,
    /// Unix ms: registered, or the document last fetched.
    pub created_at: i64,
    /// A fetched document: Unix ms until which it is used without fetching it again (its
    /// `Cache-Control: max-age`); `None` for a registered client.
    pub expires_at: Option<i64>,
}

/// What an MCP authorization grant row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum McpGrantKind {
    /// An authorization request waiting for the person's consent (keyed by its id's hash).
    Authorization,
    /// An authorization code: single use, a minute.
    Code,
    /// An access token (`glmat_…`).
    AccessToken,
    /// A refresh token (`glmrt_…`): single use, rotated on every refresh.
    RefreshToken,
}

impl McpGrantKind {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Authorization => "authorization",
            Self::Code => "code",
            Self::AccessToken => "access_token",
            Self::RefreshToken => "refresh_token",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Authorization, Self::Code, Self::AccessToken, Self::RefreshToken].into_iter().find(|k| k.as_str() == s)
    }
}

/// One step of an MCP client's authorization, as stored: only the hash of its secret. Every
/// row of one consent shares a `family` (the pending authorization, its code, every access and
/// refresh token issued from it), so a replayed code or refresh token revokes them all.
#[derive(Debug, Clone, PartialEq)]
pub struct McpGrant {
    /// SHA-256 of the authorization id, code or token.
    pub hash: String,
    /// Pending authorization, code, access token or refresh token.
    pub kind: McpGrantKind,
    /// `mcpg_…`, one per authorization request.
    pub family: String,
    /// The session's project.
    pub project_id: String,
    /// The session whose MCP URL is the `resource`.
    pub session_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// The resource indicator (RFC 8707): the session's MCP URL.
    pub resource: String,
    /// The scopes granted.
    pub scope: String,
    /// Authorizations and codes: the redirect URI the client asked with.
    pub redirect_uri: Option<String>,
    /// Authorizations and codes: the PKCE S256 challenge.
    pub code_challenge: Option<String>,
    /// Authorizations: the client's `state`, echoed in the authorization response.
    pub state: Option<String>,
    /// Authorizations: SHA-256 of the consent form's CSRF token.
    pub csrf_hash: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms after which it is refused.
    pub expires_at: i64,
    /// Unix ms when it was used (authorizations, codes, refresh tokens are single use).
    pub used_at: Option<i64>,
}

/// A column that holds values sealed by the vault, and the row key that is their context (the
/// vault's associated data). `grantline encryption rotate` re-seals every one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SealedColumn {
    /// `accounts.credentials_sealed` (context: the account id).
    AccountCredentials,
    /// `auth_configs.client_secret_sealed` (context: the auth config id).
    AuthConfigSecret,
    /// `connection_requests.pkce_verifier_sealed` (context: the account id).
    PkceVerifier,
    /// `webhook_subscriptions.secret_sealed` (context: the subscription id).
    WebhookSecret,
}

impl SealedColumn {
    /// Every sealed column of the schema.
    pub const ALL: [Self; 4] = [Self::AccountCredentials, Self::AuthConfigSecret, Self::PkceVerifier, Self::WebhookSecret];

    /// The table.
    pub fn table(self) -> &'static str {
        match self {
            Self::AccountCredentials => "accounts",
            Self::AuthConfigSecret => "auth_configs",
            Self::PkceVerifier => "connection_requests",
            Self::WebhookSecret => "webhook_subscriptions",
        }
    }

    /// The row's key, which is also the sealed value's context.
    pub fn key_column(self) -> &'static str {
        match self {
            Self::AccountCredentials | Self::AuthConfigSecret | Self::WebhookSecret => "id",
            Self::PkceVerifier => "account_id",
        }
    }

    /// The column holding the sealed value.
    pub fn column(self) -> &'static str {
        match self {
            Self::AccountCredentials => "credentials_sealed",
            Self::AuthConfigSecret => "client_secret_sealed",
            Self::PkceVerifier => "pkce_verifier_sealed",
            Self::WebhookSecret => "secret_sealed",
        }
    }
}

impl std::fmt::Display for SealedColumn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.table(), self.column())
    }
}

/// One sealed value as stored ([`Store::sealed_values`]).
#[derive(Clone, PartialEq, Eq)]
pub struct SealedValue {
    /// The row's key (the value's context).
    pub key: String,
    /// The sealed bytes.
    pub sealed: Vec<u8>,
}

impl std::fmt::Debug for SealedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealedValue({}, {} bytes)", self.key, self.sealed.len())
    }
}

/// A sealed value to replace, compare-and-set ([`Store::replace_sealed`]).
#[derive(Clone, PartialEq, Eq)]
pub struct Reseal {
    /// The row's key.
    pub key: String,
    /// The value as read: the row changes only if it still holds exactly this.
    pub old: Vec<u8>,
    /// The value re-sealed.
    pub new: Vec<u8>,
}

impl std::fmt::Debug for Reseal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Reseal({})", self.key)
    }
}

/// A webhook subscription, as stored: its signing secret sealed by the vault with the
/// subscription id as context (the broker signs with it, so it cannot be a hash).
#[derive(Clone, PartialEq)]
pub struct WebhookSubscriptionRecord {
    /// `ws_…`
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// The receiver's URL (checked by the engine's outbound rules).
    pub url: String,
    /// Payload format (`V3`).
    pub version: String,
    /// Event type names sent to it.
    pub enabled_events: Vec<String>,
    /// The `whsec_…` secret, sealed.
    pub secret_sealed: Vec<u8>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

impl std::fmt::Debug for WebhookSubscriptionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSubscriptionRecord").field("id", &self.id).field("url", &self.url).finish_non_exhaustive()
    }
}

/// An event in the webhook outbox: what happened to an account, with the account as it was
/// right after (its credentials never: `credentials_sealed` is always `None`).
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEventRecord {
    /// `ev_…`
    pub id: String,
    /// What happened.
    pub kind: AccountEvent,
    /// The account's event sequence number: 1, 2, … in the order its events happened.
    pub sequence: u64,
    /// The account as the change left it (for a deletion: as it was).
    pub account: AccountRecord,
    /// Unix ms.
    pub created_at: i64,
}

/// A delivery the fan-out writes: one event sent to one subscription under one type.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDelivery {
    /// `msg_…` (the `webhook-id`).
    pub id: String,
    /// Owning project.
    pub project_id: String,
    /// Where it goes.
    pub subscription_id: String,
    /// The event.
    pub event_id: String,
    /// The account the event is about.
    pub account_id: String,
    /// The event's sequence number for that account.
    pub sequence: u64,
    /// The type it is sent as.
    pub event_type: String,
    /// The JSON body, exactly as signed and sent on every attempt.
    pub payload: String,
    /// Unix ms.
    pub created_at: i64,
}

/// A delivery as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    /// What was written.
    pub delivery: NewDelivery,
    /// Where it is.
    pub status: DeliveryStatus,
    /// Attempts made so far.
    pub attempts: u32,
    /// Unix ms: when the next attempt is due (pending only).
    pub next_attempt_at: i64,
}

/// One attempt's outcome, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// 1 for the first.
    pub attempt: u32,
    /// Unix ms.
    pub at: i64,
    /// The receiver's status, if it answered.
    pub status_code: Option<u16>,
    /// How long it took.
    pub latency_ms: u64,
    /// Why it failed, if it did without a status (bounded, no secret).
    pub error: Option<String>,
}

/// What an attempt makes of its delivery ([`Store::finish_attempt`](super::Store::finish_attempt)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryNext {
    /// The receiver took it.
    Delivered,
    /// Try again at this time (Unix ms).
    RetryAt(i64),
    /// The retry period is over.
    Failed,
}

impl DeliveryNext {
    /// What an attempt at `at` (ms) writes: the delivery's status, its next attempt time
    /// (`None`: unchanged) and its finish time (`None` while pending).
    pub fn stored(self, at: i64) -> (DeliveryStatus, Option<i64>, Option<i64>) {
        match self {
            Self::Delivered => (DeliveryStatus::Delivered, None, Some(at)),
            Self::RetryAt(when) => (DeliveryStatus::Pending, Some(when), None),
            Self::Failed => (DeliveryStatus::Failed, None, Some(at)),
        }
    }
}
