//! The schema, as numbered steps recorded in `grantline_schema_migrations`. Brokers starting
//! together take one advisory lock, so the steps run once; each run is one transaction, so a
//! killed migration leaves the schema it started from.

use deadpool_postgres::Object;

use super::rows::db;
use crate::{Error, Result};

/// The steps, in order; a step never changes once released (add a new one).
const MIGRATIONS: &[(i32, &str)] = &[(1, SCHEMA_V1), (2, SCHEMA_V2), (3, SCHEMA_V3), (4, SCHEMA_V4), (5, SCHEMA_V5), (6, SCHEMA_MCP_CREDENTIALS), (7, SCHEMA_MCP_AUTHORIZATION), (8, SCHEMA_PROFILE_AND_VERIFICATION)];

/// SQLite's tables and indexes, in PostgreSQL's types (BIGINT unix ms, BYTEA sealed values,
/// BOOLEAN flags, TEXT holding JSON lists), plus `sessions.config_version` (the column the
/// config's compare-and-set checks) and `leases`.
const SCHEMA_V1: &str = r#"
CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    allowed_callback_urls TEXT NOT NULL DEFAULT '[]',
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL
);
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_project ON api_keys(project_id, created_at);
CREATE TABLE auth_configs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    toolkit TEXT NOT NULL,
    name TEXT,
    auth_scheme TEXT NOT NULL,
    client_id TEXT,
    client_secret_sealed BYTEA,
    scopes TEXT NOT NULL,
    is_disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX auth_configs_toolkit ON auth_configs(project_id, toolkit, created_at);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    config TEXT NOT NULL,
    config_version INTEGER NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    user_id TEXT NOT NULL,
    toolkit TEXT NOT NULL,
    auth_config_id TEXT NOT NULL,
    auth_scheme TEXT NOT NULL,
    alias TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    is_disabled BOOLEAN NOT NULL DEFAULT FALSE,
    credentials_sealed BYTEA,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX accounts_user ON accounts(project_id, user_id, toolkit, created_at);
CREATE UNIQUE INDEX accounts_alias ON accounts(project_id, user_id, toolkit, alias) WHERE alias IS NOT NULL;
CREATE TABLE connection_requests (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL,
    link_token TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL UNIQUE,
    pkce_verifier_sealed BYTEA,
    callback_url TEXT,
    expires_at BIGINT NOT NULL,
    consumed_at BIGINT,
    kind TEXT NOT NULL DEFAULT 'connect'
);
CREATE INDEX connection_requests_expiry ON connection_requests(expires_at);
CREATE INDEX connection_requests_project ON connection_requests(project_id, kind);
CREATE TABLE client_tokens (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    session_id TEXT NOT NULL REFERENCES sessions(id),
    hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX client_tokens_session ON client_tokens(project_id, session_id);
CREATE TABLE sandbox_grants (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    family TEXT NOT NULL,
    user_name TEXT NOT NULL,
    scope TEXT NOT NULL,
    redirect_uri TEXT,
    code_challenge TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sandbox_grants_expiry ON sandbox_grants(expires_at);
CREATE INDEX sandbox_grants_age ON sandbox_grants(created_at, hash);
CREATE INDEX sandbox_grants_family ON sandbox_grants(family);
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
"#;

/// Which API key minted each client token (as SQLite's seventh step).
const SCHEMA_V2: &str = r#"
ALTER TABLE client_tokens ADD COLUMN api_key_id TEXT;
CREATE INDEX client_tokens_api_key ON client_tokens(api_key_id);
"#;

/// What the retention sweeper looks up (as SQLite's eighth step).
const SCHEMA_V3: &str = r#"
CREATE INDEX accounts_ended ON accounts(status, updated_at);
CREATE INDEX client_tokens_expiry ON client_tokens(expires_at);
"#;

/// Webhooks (as SQLite's ninth step).
const SCHEMA_V4: &str = r#"
ALTER TABLE accounts ADD COLUMN event_seq BIGINT NOT NULL DEFAULT 0;
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    url TEXT NOT NULL,
    version TEXT NOT NULL,
    enabled_events TEXT NOT NULL,
    secret_sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_subscriptions_project ON webhook_subscriptions(project_id, created_at);
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    dispatched_at BIGINT,
    account_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    toolkit TEXT NOT NULL,
    auth_config_id TEXT NOT NULL,
    auth_scheme TEXT NOT NULL,
    alias TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    is_disabled BOOLEAN NOT NULL,
    account_created_at BIGINT NOT NULL,
    account_updated_at BIGINT NOT NULL
);
CREATE INDEX webhook_events_undispatched ON webhook_events(dispatched_at, created_at);
CREATE INDEX webhook_events_account ON webhook_events(account_id, sequence);
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    sequence BIGINT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_holder TEXT,
    lease_until BIGINT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    UNIQUE (subscription_id, event_id, event_type)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_account ON webhook_deliveries(subscription_id, account_id, sequence);
CREATE INDEX webhook_deliveries_listing ON webhook_deliveries(subscription_id, created_at);
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    at BIGINT NOT NULL,
    status_code INTEGER,
    latency_ms BIGINT NOT NULL,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
"#;

/// Execution logs (as SQLite's tenth step).
const SCHEMA_V5: &str = r#"
CREATE TABLE execution_logs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    session_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    account_id TEXT,
    toolkit TEXT NOT NULL,
    tool_slug TEXT,
    successful BOOLEAN NOT NULL,
    error_code TEXT,
    error_message TEXT,
    provider_status INTEGER,
    duration_ms BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX execution_logs_project ON execution_logs(project_id, created_at, id);
CREATE INDEX execution_logs_user ON execution_logs(project_id, user_id, created_at);
CREATE INDEX execution_logs_age ON execution_logs(created_at);
"#;

/// Session-scoped MCP credentials (as SQLite's step of the same name).
const SCHEMA_MCP_CREDENTIALS: &str = r#"
CREATE TABLE mcp_credentials (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    session_id TEXT NOT NULL REFERENCES sessions(id),
    hash TEXT NOT NULL UNIQUE,
    name TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT,
    api_key_id TEXT,
    last_used_at BIGINT
);
CREATE INDEX mcp_credentials_session ON mcp_credentials(project_id, session_id, created_at);
CREATE INDEX mcp_credentials_api_key ON mcp_credentials(api_key_id);
CREATE INDEX mcp_credentials_expiry ON mcp_credentials(expires_at);
"#;

/// MCP authorization (as SQLite's step of the same name).
const SCHEMA_MCP_AUTHORIZATION: &str = r#"
CREATE TABLE mcp_clients (
    client_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT
);
CREATE INDEX mcp_clients_age ON mcp_clients(kind, created_at);
CREATE TABLE mcp_grants (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    family TEXT NOT NULL,
    project_id TEXT NOT NULL,
    session_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    resource TEXT NOT NULL,
    scope TEXT NOT NULL,
    redirect_uri TEXT,
    code_challenge TEXT,
    state TEXT,
    csrf_hash TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX mcp_grants_expiry ON mcp_grants(expires_at);
CREATE INDEX mcp_grants_age ON mcp_grants(kind, created_at, hash);
CREATE INDEX mcp_grants_family ON mcp_grants(family);
"#;

/// SQLite's step 11: the project's profile and user verification flows.
const SCHEMA_PROFILE_AND_VERIFICATION: &str = r#"
CREATE TABLE project_profiles (
    project_id TEXT PRIMARY KEY REFERENCES projects(id),
    display_name TEXT,
    support_url TEXT,
    user_verification_url TEXT,
    verify_connect_links BOOLEAN NOT NULL DEFAULT FALSE,
    logo_content_type TEXT,
    logo_sha256 TEXT,
    logo BYTEA,
    updated_at BIGINT NOT NULL
);
CREATE TABLE user_verifications (
    id_hash TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    purpose TEXT NOT NULL,
    subject TEXT NOT NULL,
    link_state_hash TEXT,
    expected_user_id TEXT NOT NULL,
    confirmed_user_id TEXT,
    cookie_name TEXT NOT NULL,
    binding_hash TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX user_verifications_link ON user_verifications(link_state_hash);
CREATE INDEX user_verifications_age ON user_verifications(expires_at);
"#;

/// Brings the schema up to the newest step.
pub(super) async fn run(client: &mut Object) -> Result<()> {
    let tx = client.transaction().await.map_err(db)?;
    // Held until COMMIT; brokers starting together queue here and find the work done.
    tx.execute("SELECT pg_advisory_xact_lock(hashtextextended('grantline_schema_migrations', 0))", &[]).await.map_err(db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS grantline_schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)",
    )
    .await
    .map_err(db)?;
    let done: Vec<i32> = tx
        .query("SELECT version FROM grantline_schema_migrations", &[])
        .await
        .map_err(db)?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let newest = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if let Some(ahead) = done.iter().copied().filter(|v| *v > newest).max() {
        return Err(Error::Internal(format!(
            "the database schema is at version {ahead}, newer than this broker knows ({newest}): upgrade the broker"
        )));
    }
    for (version, step) in MIGRATIONS.iter().filter(|(v, _)| !done.contains(v)) {
        tx.batch_execute(step).await.map_err(db)?;
        tx.execute(
            "INSERT INTO grantline_schema_migrations (version, applied_at) \
             VALUES ($1, (extract(epoch FROM clock_timestamp()) * 1000)::bigint)",
            &[version],
        )
        .await
        .map_err(db)?;
    }
    tx.commit().await.map_err(db)
}
