//! Storage behind the engine: a trait, so SQLite (embedded) and PostgreSQL (scale-out)
//! are interchangeable without touching the engine.

#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
mod profiles;
mod records;
mod sqlite;
#[cfg(feature = "postgres")]
pub mod copy;
#[cfg(feature = "postgres")]
mod postgres;

pub use profiles::*;
pub use records::*;
pub use sqlite::SqliteStore;
#[cfg(feature = "postgres")]
pub use postgres::PostgresStore;

use async_trait::async_trait;

use crate::model::{AccountFilter, AccountStatus, SessionConfig};
use crate::Result;

/// Everything the engine persists. Implementations must make each method atomic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Creates or upgrades the schema.
    async fn migrate(&self) -> Result<()>;

    /// Readiness (`/readyz`): a cheap query proving the database answers now; the error says
    /// why not. A store may check more (SQLite: that its file is still the one it opened).
    async fn ping(&self) -> Result<()> {
        self.first_project().await.map(drop)
    }

    /// Readiness of the change feed: whether it is connected to the database now, or `None` for
    /// a feed that cannot be cut off (in-process).
    fn change_feed_connected(&self) -> Option<bool> {
        None
    }

    /// Adds a project.
    async fn insert_project(&self, project: &Project) -> Result<()>;
    /// The oldest project, if any (the default one).
    async fn first_project(&self) -> Result<Option<Project>>;
    /// A project by id.
    async fn get_project(&self, id: &str) -> Result<Option<Project>>;
    /// Replaces a project's callback URL allow-list.
    async fn set_allowed_callback_urls(&self, project_id: &str, urls: &[String]) -> Result<()>;
    /// Replaces a project's allowed browser origins.
    async fn set_allowed_origins(&self, project_id: &str, origins: &[String]) -> Result<()>;
    /// Every project's allowed origins together (CORS preflights carry no credential).
    async fn all_allowed_origins(&self) -> Result<Vec<String>>;

    /// A project's profile (logo type and digest included, not its bytes), if one was ever set.
    async fn project_profile(&self, project_id: &str) -> Result<Option<ProjectProfileRecord>>;
    /// Writes a project's profile fields (all but the logo, which stays as it is).
    async fn put_project_profile(&self, profile: &ProjectProfileRecord) -> Result<()>;
    /// Replaces (`Some`) or removes (`None`) a project's logo.
    async fn set_project_logo(&self, project_id: &str, logo: Option<&ProjectLogo>, now: i64) -> Result<()>;
    /// A project's logo, bytes included, if it has one.
    async fn project_logo(&self, project_id: &str) -> Result<Option<ProjectLogo>>;

    /// Adds a user verification flow.
    async fn insert_user_verification(&self, flow: &UserVerificationRecord) -> Result<()>;
    /// The flow whose id hashes to `id_hash`.
    async fn user_verification(&self, id_hash: &str) -> Result<Option<UserVerificationRecord>>;
    /// Moves a flow from `from` to `to` if it is still at `from` and unexpired at `now`,
    /// recording `confirmed_user_id` when given; false otherwise (nothing changes). Of two
    /// concurrent moves from one status, exactly one succeeds.
    async fn advance_user_verification(
        &self,
        id_hash: &str,
        from: VerificationStatus,
        to: VerificationStatus,
        confirmed_user_id: Option<&str>,
        now: i64,
    ) -> Result<bool>;
    /// The PASSED flows that let the Connect Link whose `state` hashes to `link_state_hash`
    /// through, newest first.
    async fn passed_link_verifications(&self, link_state_hash: &str) -> Result<Vec<UserVerificationRecord>>;

    /// Adds an API key (hashed).
    async fn insert_api_key(&self, key: &ApiKeyRecord) -> Result<()>;
    /// The unrevoked key with this hash.
    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>>;
    /// A project's keys, newest first (revoked ones included).
    async fn list_api_keys(&self, project_id: &str) -> Result<Vec<ApiKeyRecord>>;
    /// Revokes a key and, in the same transaction, every unrevoked client token it minted and
    /// every one of the project's tokens with no minter recorded (minted before brokers recorded
    /// it), and every unrevoked MCP credential it minted; false when there was no such unrevoked
    /// key (then nothing changes).
    async fn revoke_api_key(&self, project_id: &str, key_id: &str, now: i64) -> Result<bool>;

    /// Adds a client token (hashed). A token whose minting key is revoked by the time it is
    /// written is stored revoked (a revocation racing the mint still ends it).
    async fn insert_client_token(&self, token: &ClientTokenRecord) -> Result<()>;
    /// The client token with this hash, revoked or expired ones included.
    async fn client_token_by_hash(&self, hash: &str) -> Result<Option<ClientTokenRecord>>;
    /// Revokes a session's client token; false when there was no such unrevoked token.
    async fn revoke_client_token(&self, project_id: &str, session_id: &str, token_id: &str, now: i64) -> Result<bool>;

    /// Adds an MCP credential (hashed). One whose minting key is revoked by the time it is
    /// written is stored revoked (a revocation racing the mint still ends it).
    async fn insert_mcp_credential(&self, credential: &McpCredentialRecord) -> Result<()>;
    /// The MCP credential with this hash, revoked or expired ones included.
    async fn mcp_credential_by_hash(&self, hash: &str) -> Result<Option<McpCredentialRecord>>;
    /// A session's MCP credentials, newest first (revoked and expired ones included).
    async fn list_mcp_credentials(&self, project_id: &str, session_id: &str) -> Result<Vec<McpCredentialRecord>>;
    /// Revokes a session's MCP credential; false when there was no such unrevoked credential.
    async fn revoke_mcp_credential(&self, project_id: &str, session_id: &str, credential_id: &str, now: i64) -> Result<bool>;
    /// Records that a credential was used at `now`, unless a use at or after `since` is already
    /// recorded (so a busy client writes at most once a minute).
    async fn touch_mcp_credential(&self, credential_id: &str, now: i64, since: i64) -> Result<()>;

    /// Adds an auth config.
    async fn insert_auth_config(&self, config: &AuthConfigRecord) -> Result<()>;
    /// An auth config by id, within a project.
    async fn get_auth_config(&self, project_id: &str, id: &str) -> Result<Option<AuthConfigRecord>>;
    /// Adds `config` unless the project already has an enabled auth config for its toolkit, and
    /// returns the one in force: of concurrent first uses of a toolkit, all get one config.
    async fn insert_first_auth_config(&self, config: &AuthConfigRecord) -> Result<AuthConfigRecord>;
    /// The newest enabled auth config for a toolkit.
    async fn default_auth_config(&self, project_id: &str, toolkit: &str) -> Result<Option<AuthConfigRecord>>;
    /// All of a project's auth configs, newest first.
    async fn list_auth_configs(&self, project_id: &str) -> Result<Vec<AuthConfigRecord>>;

    /// Adds a session.
    async fn insert_session(&self, session: &SessionRecord) -> Result<()>;
    /// A session by id, within a project.
    async fn get_session(&self, project_id: &str, id: &str) -> Result<Option<SessionRecord>>;
    /// Replaces a session's config if it is still at `expected_version`; false otherwise.
    async fn update_session_config(&self, project_id: &str, id: &str, expected_version: u32, config: &SessionConfig) -> Result<bool>;
    /// Deletes a session, its client tokens, its MCP credentials and its MCP logins (every
    /// `mcp_grants` row for it: pending authorizations, codes, tokens); false when there was none.
    async fn delete_session(&self, project_id: &str, id: &str) -> Result<bool>;

    /// Adds an INITIATED account and its connection request together.
    async fn insert_connection(&self, account: &AccountRecord, request: &ConnectionRequestRecord) -> Result<()>;
    /// An account by id, within a project.
    async fn get_account(&self, project_id: &str, id: &str) -> Result<Option<AccountRecord>>;
    /// Accounts matching `filter`, newest first, and the total count.
    async fn list_accounts(&self, project_id: &str, filter: &AccountFilter, offset: u64, limit: u32)
        -> Result<(Vec<AccountRecord>, u64)>;
    /// All enabled accounts of one user, newest first.
    async fn user_accounts(&self, project_id: &str, user_id: &str) -> Result<Vec<AccountRecord>>;
    /// Enables or disables an account (published on the change feed); false when there is no
    /// such account.
    async fn set_account_disabled(&self, project_id: &str, id: &str, disabled: bool, now: i64) -> Result<bool>;
    /// Applies `transition` if its guard holds, returning the account as it is afterwards;
    /// `None` when the guard failed (or there is no such account) and nothing changed.
    async fn transition(&self, transition: &Transition) -> Result<Option<AccountRecord>>;
    /// Deletes an account and its connection request (published on the change feed), writing a
    /// `deleted` event to the webhook outbox (the account as it was, its next sequence number,
    /// time `now`) in the same transaction; false when there was none.
    async fn delete_account(&self, project_id: &str, id: &str, now: i64) -> Result<bool>;

    /// The connection request behind a Connect Link token.
    async fn request_by_link_token(&self, link_token: &str) -> Result<Option<ConnectionRequestRecord>>;
    /// The connection request of an account.
    async fn request_by_account(&self, project_id: &str, account_id: &str) -> Result<Option<ConnectionRequestRecord>>;
    /// The connection request an OAuth `state` belongs to.
    async fn request_by_state(&self, state: &str) -> Result<Option<ConnectionRequestRecord>>;
    /// Marks the request with this `state` used if it is unused and unexpired at `now`; false
    /// otherwise (a replay, or a link that expired or was replaced).
    async fn consume_request(&self, state: &str, now: i64) -> Result<bool>;
    /// The accounts of a project with an unused, unexpired reconnect link at `now`.
    async fn live_reconnects(&self, project_id: &str, now: i64) -> Result<Vec<String>>;
    /// Up to `limit` accounts in one of `statuses` whose connection request expired at or
    /// before `now`, oldest link first.
    async fn due_links(&self, statuses: &[AccountStatus], now: i64, limit: u32) -> Result<Vec<DueLink>>;

    /// Takes the lease `name` for `holder` until `until` if it is free, expired at `now`, or
    /// already `holder`'s; false when someone else holds it. A dead holder blocks no one
    /// past its lease's expiry.
    async fn acquire_lease(&self, name: &str, holder: &str, until: i64, now: i64) -> Result<bool>;
    /// Gives the lease `name` back if `holder` still holds it.
    async fn release_lease(&self, name: &str, holder: &str) -> Result<()>;

    /// Up to `limit` values of `column` that do not begin with `tag` (sealed with another key
    /// than the one `tag` names, or before values named their key), ordered by row key, keys
    /// after `after` only. Nulls are not values.
    async fn sealed_values(&self, column: SealedColumn, tag: &[u8], after: Option<&str>, limit: u32) -> Result<Vec<SealedValue>>;
    /// Replaces, in one transaction, each value of `column` that is still exactly `old` with
    /// `new`; how many were replaced. A value changed meanwhile (a token refresh) is left as
    /// it is. Publishes nothing: what the values say does not change.
    async fn replace_sealed(&self, column: SealedColumn, values: &[Reseal]) -> Result<u64>;

    /// A receiver of every change to accounts, by any process sharing the store, from now on.
    /// Subscribe before reading what you wait on, so no change falls between the two.
    fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<StoreChange>;

    /// Records one tool execution (never its arguments, answer or credentials).
    async fn insert_execution_log(&self, log: &ExecutionLogRecord) -> Result<()>;
    /// An execution log by id, within a project.
    async fn get_execution_log(&self, project_id: &str, id: &str) -> Result<Option<ExecutionLogRecord>>;
    /// A project's execution logs matching `filter`, newest first, and the total count.
    async fn list_execution_logs(&self, project_id: &str, filter: &LogFilter, offset: u64, limit: u32)
        -> Result<(Vec<ExecutionLogRecord>, u64)>;

    /// Deletes what ended before the times in `before` (the retention sweeper), in one
    /// transaction: spent or expired links of accounts no longer pending, expired or revoked
    /// client tokens and MCP credentials, MCP logins that ended (expired grant rows, registered
    /// clients with nothing left, stale metadata documents), `FAILED`/`EXPIRED` accounts, old
    /// execution logs. `ACTIVE` (or any other) accounts stay.
    async fn purge(&self, before: &PurgeBefore) -> Result<Purged>;

    /// Adds a webhook subscription.
    async fn insert_webhook_subscription(&self, subscription: &WebhookSubscriptionRecord) -> Result<()>;
    /// A webhook subscription by id, within a project.
    async fn get_webhook_subscription(&self, project_id: &str, id: &str) -> Result<Option<WebhookSubscriptionRecord>>;
    /// A project's webhook subscriptions, oldest first.
    async fn list_webhook_subscriptions(&self, project_id: &str) -> Result<Vec<WebhookSubscriptionRecord>>;
    /// Replaces a subscription's URL, version, events, secret and `updated_at`; false when
    /// there is no such subscription in its project.
    async fn update_webhook_subscription(&self, subscription: &WebhookSubscriptionRecord) -> Result<bool>;
    /// Deletes a subscription and its deliveries; false when there was none.
    async fn delete_webhook_subscription(&self, project_id: &str, id: &str) -> Result<bool>;

    /// Up to `limit` outbox events not yet fanned out, oldest first (every project's).
    async fn undispatched_events(&self, limit: u32) -> Result<Vec<WebhookEventRecord>>;
    /// In one transaction: writes `deliveries` (one already written for the same subscription,
    /// event and type is left as it is, so two brokers fanning out the same events write each
    /// once) and marks `event_ids` fanned out at `now`.
    async fn dispatch_events(&self, event_ids: &[String], deliveries: &[NewDelivery], now: i64) -> Result<()>;
    /// Leases up to `limit` pending deliveries due at `now` to `holder` until `until`, each to
    /// one holder at a time (a lease that ran out can be taken again). A delivery is not due
    /// while an earlier event of its account is not yet fanned out or an earlier delivery of
    /// its account to its subscription is pending: each account's events go in sequence order.
    async fn claim_deliveries(&self, holder: &str, now: i64, until: i64, limit: u32) -> Result<Vec<DeliveryRecord>>;
    /// Records `attempt` of a delivery `holder` leased and applies `next`, releasing the
    /// lease; false (nothing recorded) when `holder` no longer holds it.
    async fn finish_attempt(&self, delivery_id: &str, holder: &str, attempt: &AttemptRecord, next: DeliveryNext) -> Result<bool>;
    /// A subscription's deliveries, newest first, each with its attempts (oldest first), and
    /// the total count.
    async fn list_deliveries(&self, project_id: &str, subscription_id: &str, offset: u64, limit: u32)
        -> Result<(Vec<(DeliveryRecord, Vec<AttemptRecord>)>, u64)>;
    /// Makes a delivery pending and due at `now` again (a manual retry); false when there is
    /// no such delivery of that subscription in the project.
    async fn retry_delivery(&self, project_id: &str, subscription_id: &str, delivery_id: &str, now: i64) -> Result<bool>;
    /// An account's most recent outbox events, newest first (its history, while the retention
    /// sweeper keeps them).
    async fn account_events(&self, project_id: &str, account_id: &str, limit: u32) -> Result<Vec<WebhookEventRecord>>;
    /// How many deliveries are pending, every project's (the backlog metric).
    async fn pending_deliveries(&self) -> Result<u64>;

    /// Adds a dev-sandbox grant. In the same transaction, drops expired grants and, past
    /// `cap` live ones of the grant's kind, the oldest of that kind, so the table stays bounded
    /// whatever clients do (and a flood of unredeemed codes cannot push out live tokens).
    async fn insert_sandbox_grant(&self, grant: &SandboxGrant, cap: u32) -> Result<()>;
    /// Removes and returns the unexpired grant of `kind` with this hash (codes and refresh
    /// tokens are single use: of two concurrent takes, exactly one gets it).
    async fn take_sandbox_grant(&self, kind: SandboxGrantKind, hash: &str, now: i64) -> Result<Option<SandboxGrant>>;
    /// The unexpired grant of `kind` with this hash, left in place.
    async fn sandbox_grant(&self, kind: SandboxGrantKind, hash: &str, now: i64) -> Result<Option<SandboxGrant>>;
    /// Deletes every grant of a family (a revocation); returns how many.
    async fn revoke_sandbox_family(&self, family: &str) -> Result<u64>;

    /// Adds an MCP client, or replaces the one with the same `client_id` (a metadata document
    /// fetched again).
    async fn put_mcp_client(&self, client: &McpClientRecord) -> Result<()>;
    /// An MCP client by `client_id`.
    async fn mcp_client(&self, client_id: &str) -> Result<Option<McpClientRecord>>;
    /// How many clients of `kind` were added (or fetched again) at `since` or later.
    async fn count_mcp_clients_since(&self, kind: McpClientKind, since: i64) -> Result<u64>;
    /// Adds an MCP grant row. In the same transaction, drops expired rows and, past `cap` live
    /// rows of the grant's kind, the oldest of that kind.
    async fn insert_mcp_grant(&self, grant: &McpGrant, cap: u32) -> Result<()>;
    /// Marks the unexpired, unused row of `kind` with this hash used at `now` and returns it as
    /// it was before; `None` when there is none (of two concurrent uses, exactly one gets it).
    async fn use_mcp_grant(&self, kind: McpGrantKind, hash: &str, now: i64) -> Result<Option<McpGrant>>;
    /// The unexpired row of `kind` with this hash, used or not, left as it is.
    async fn mcp_grant(&self, kind: McpGrantKind, hash: &str, now: i64) -> Result<Option<McpGrant>>;
    /// Deletes every row of a family (a revocation, or a replayed code or refresh token);
    /// returns how many.
    async fn revoke_mcp_family(&self, family: &str) -> Result<u64>;
}

/// Decodes a session's stored configuration.
pub(crate) fn decode_config(json: &str) -> Result<SessionConfig> {
    serde_json::from_str(json).map_err(|e| crate::Error::Internal(format!("stored session config: {e}")))
}
