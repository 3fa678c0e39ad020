//! The schema, as steps in order; `PRAGMA user_version` records how many have run. A step never
//! changes once released (add a new one).

use rusqlite::Connection;

/// Schema changes in order; `PRAGMA user_version` records how many have run.
pub(super) const MIGRATIONS: &[&str] = &[SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6, SCHEMA_V7, SCHEMA_V8, SCHEMA_V9, SCHEMA_V10, SCHEMA_MCP_CREDENTIALS, SCHEMA_MCP_AUTHORIZATION, SCHEMA_PROFILE_AND_VERIFICATION];

/// The first schema.
pub(super) const SCHEMA_V1: &str = r#"
CREATE TABLE IF NOT EXISTS projects (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    allowed_callback_urls TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    name TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE TABLE IF NOT EXISTS auth_configs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    toolkit TEXT NOT NULL,
    name TEXT,
    auth_scheme TEXT NOT NULL,
    client_id TEXT,
    client_secret_sealed BLOB,
    scopes TEXT NOT NULL,
    is_disabled INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS auth_configs_toolkit ON auth_configs(project_id, toolkit, created_at);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    config TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    user_id TEXT NOT NULL,
    toolkit TEXT NOT NULL,
    auth_config_id TEXT NOT NULL,
    auth_scheme TEXT NOT NULL,
    alias TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    is_disabled INTEGER NOT NULL DEFAULT 0,
    credentials_sealed BLOB,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS accounts_user ON accounts(project_id, user_id, toolkit, created_at);
CREATE UNIQUE INDEX IF NOT EXISTS accounts_alias ON accounts(project_id, user_id, toolkit, alias) WHERE alias IS NOT NULL;
CREATE TABLE IF NOT EXISTS connection_requests (
    account_id TEXT PRIMARY KEY REFERENCES accounts(id) ON DELETE CASCADE,
    project_id TEXT NOT NULL,
    link_token TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL UNIQUE,
    pkce_verifier_sealed BLOB,
    callback_url TEXT,
    expires_at INTEGER NOT NULL,
    consumed_at INTEGER
);
CREATE INDEX IF NOT EXISTS connection_requests_expiry ON connection_requests(expires_at);
"#;

/// Client tokens and the projects' allowed browser origins.
const SCHEMA_V2: &str = r#"
ALTER TABLE projects ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';
CREATE TABLE client_tokens (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    session_id TEXT NOT NULL REFERENCES sessions(id),
    hash TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX client_tokens_session ON client_tokens(project_id, session_id);
"#;

/// The dev sandbox provider's codes and tokens (hashed), so they outlive a restart.
const SCHEMA_V3: &str = r#"
CREATE TABLE sandbox_grants (
    hash TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    family TEXT NOT NULL,
    user_name TEXT NOT NULL,
    scope TEXT NOT NULL,
    redirect_uri TEXT,
    code_challenge TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX sandbox_grants_expiry ON sandbox_grants(expires_at);
CREATE INDEX sandbox_grants_age ON sandbox_grants(created_at, hash);
CREATE INDEX sandbox_grants_family ON sandbox_grants(family);
"#;

/// Reconnects (`…/connected_accounts/{id}/refresh`): a connection request says what it is for.
const SCHEMA_V4: &str = r#"
ALTER TABLE connection_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'connect';
"#;

/// Leases (one token refresh per account at a time, across processes) and the index the
/// sweeper's `due_links` reads.
const SCHEMA_V5: &str = r#"
CREATE TABLE leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
"#;

/// A session's config version as a column (the compare-and-set of `update_session_config`
/// checks it), as PostgreSQL has it: both stores have the same tables and columns, so
/// `grantline db copy` moves every column as it is.
const SCHEMA_V6: &str = r#"
ALTER TABLE sessions ADD COLUMN config_version INTEGER NOT NULL DEFAULT 1;
UPDATE sessions SET config_version = COALESCE(json_extract(config, '$.config_version'), 1);
"#;

/// Which API key minted each client token, so revoking the key revokes its tokens (tokens minted
/// before this step have none: revoking any key of their project revokes them).
const SCHEMA_V7: &str = r#"
ALTER TABLE client_tokens ADD COLUMN api_key_id TEXT;
CREATE INDEX client_tokens_api_key ON client_tokens(api_key_id);
"#;

/// What the retention sweeper looks up: ended accounts by age, dead client tokens.
const SCHEMA_V8: &str = r#"
CREATE INDEX accounts_ended ON accounts(status, updated_at);
CREATE INDEX client_tokens_expiry ON client_tokens(expires_at);
"#;

/// Webhooks: subscriptions, the outbox of account events (written with the change that causes
/// each, numbered per account), deliveries and their attempts.
const SCHEMA_V9: &str = r#"
ALTER TABLE accounts ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;
CREATE TABLE webhook_subscriptions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    url TEXT NOT NULL,
    version TEXT NOT NULL,
    enabled_events TEXT NOT NULL,
    secret_sealed BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX webhook_subscriptions_project ON webhook_subscriptions(project_id, created_at);
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    dispatched_at INTEGER,
    account_id TEXT NOT NULL,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    toolkit TEXT NOT NULL,
    auth_config_id TEXT NOT NULL,
    auth_scheme TEXT NOT NULL,
    alias TEXT,
    status TEXT NOT NULL,
    status_reason TEXT,
    is_disabled INTEGER NOT NULL,
    account_created_at INTEGER NOT NULL,
    account_updated_at INTEGER NOT NULL
);
CREATE INDEX webhook_events_undispatched ON webhook_events(dispatched_at, created_at);
CREATE INDEX webhook_events_account ON webhook_events(account_id, sequence);
CREATE TABLE webhook_deliveries (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL,
    subscription_id TEXT NOT NULL REFERENCES webhook_subscriptions(id) ON DELETE CASCADE,
    event_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_holder TEXT,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    UNIQUE (subscription_id, event_id, event_type)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_account ON webhook_deliveries(subscription_id, account_id, sequence);
CREATE INDEX webhook_deliveries_listing ON webhook_deliveries(subscription_id, created_at);
CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
    attempt INTEGER NOT NULL,
    at INTEGER NOT NULL,
    status_code INTEGER,
    latency_ms INTEGER NOT NULL,
    error TEXT,
    PRIMARY KEY (delivery_id, attempt)
);
"#;

/// Execution logs (`GET /api/v3.1/logs/{log_id}`, the dashboard): who ran what and how it
/// ended, never arguments, answers or credentials.
const SCHEMA_V10: &str = r#"
CREATE TABLE execution_logs (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    session_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    account_id TEXT,
    toolkit TEXT NOT NULL,
    tool_slug TEXT,
    successful INTEGER NOT NULL,
    error_code TEXT,
    error_message TEXT,
    provider_status INTEGER,
    duration_ms INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX execution_logs_project ON execution_logs(project_id, created_at, id);
CREATE INDEX execution_logs_user ON execution_logs(project_id, user_id, created_at);
CREATE INDEX execution_logs_age ON execution_logs(created_at);
"#;

/// Session-scoped MCP credentials (hashed): an MCP client's key to one session's MCP endpoint.
const SCHEMA_MCP_CREDENTIALS: &str = r#"
CREATE TABLE mcp_credentials (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects(id),
    session_id TEXT NOT NULL REFERENCES sessions(id),
    hash TEXT NOT NULL UNIQUE,
    name TEXT,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER,
    api_key_id TEXT,
    last_used_at INTEGER
);
CREATE INDEX mcp_credentials_session ON mcp_credentials(project_id, session_id, created_at);
CREATE INDEX mcp_credentials_api_key ON mcp_credentials(api_key_id);
CREATE INDEX mcp_credentials_expiry ON mcp_credentials(expires_at);
"#;

/// MCP authorization (the broker as an OAuth authorization server for MCP clients): the clients
/// it knows, and its pending authorizations, codes and tokens (hashed), one family per consent.
const SCHEMA_MCP_AUTHORIZATION: &str = r#"
CREATE TABLE mcp_clients (
    client_id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    metadata TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER
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
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
);
CREATE INDEX mcp_grants_expiry ON mcp_grants(expires_at);
CREATE INDEX mcp_grants_age ON mcp_grants(kind, created_at, hash);
CREATE INDEX mcp_grants_family ON mcp_grants(family);
"#;

/// The project's profile (the name, logo and support URL its pages show; where it verifies its
/// users) and user verification flows (ids and browser bindings stored hashed).
const SCHEMA_PROFILE_AND_VERIFICATION: &str = r#"
CREATE TABLE project_profiles (
    project_id TEXT PRIMARY KEY REFERENCES projects(id),
    display_name TEXT,
    support_url TEXT,
    user_verification_url TEXT,
    verify_connect_links INTEGER NOT NULL DEFAULT 0,
    logo_content_type TEXT,
    logo_sha256 TEXT,
    logo BLOB,
    updated_at INTEGER NOT NULL
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
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX user_verifications_link ON user_verifications(link_state_hash);
CREATE INDEX user_verifications_age ON user_verifications(expires_at);
"#;

/// Runs the steps not yet run. Each step and its version bump commit together: a killed
/// migration leaves the schema it started from.
pub(super) fn migrate(c: &mut Connection) -> rusqlite::Result<()> {
    let done: usize = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, step) in MIGRATIONS.iter().enumerate().skip(done) {
        let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(step)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
    }
    Ok(())
}
