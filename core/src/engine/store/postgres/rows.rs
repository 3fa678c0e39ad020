//! Rows as PostgreSQL returns them, read into records: every column checked, nothing coerced (a
//! value this broker cannot read is an error naming its column), and the driver's errors mapped
//! onto [`Error`].

use tokio_postgres::error::SqlState;
use tokio_postgres::types::FromSql;
use tokio_postgres::Row;

use super::super::*;
use crate::model::AccountStatus;
use crate::{Error, Result};

pub(super) const PROJECT_COLS: &str = "id, name, allowed_callback_urls, allowed_origins, created_at";
pub(super) const API_KEY_COLS: &str = "id, project_id, name, hash, hint, created_at, revoked_at";
pub(super) const CLIENT_TOKEN_COLS: &str = "id, project_id, session_id, hash, created_at, expires_at, revoked_at, api_key_id";
pub(super) const MCP_CREDENTIAL_COLS: &str =
    "id, project_id, session_id, hash, name, created_at, expires_at, revoked_at, api_key_id, last_used_at";
pub(super) const AUTH_CONFIG_COLS: &str =
    "id, project_id, toolkit, name, auth_scheme, client_id, client_secret_sealed, scopes, is_disabled, created_at";
pub(super) const SESSION_COLS: &str = "id, project_id, config, config_version, created_at";
pub(super) const ACCOUNT_COLS: &str = "id, project_id, user_id, toolkit, auth_config_id, auth_scheme, alias, status, \
     status_reason, is_disabled, credentials_sealed, created_at, updated_at";
pub(super) const REQUEST_COLS: &str =
    "account_id, project_id, link_token, state, pkce_verifier_sealed, callback_url, expires_at, consumed_at, kind";
pub(super) const SANDBOX_COLS: &str =
    "hash, kind, family, user_name, scope, redirect_uri, code_challenge, created_at, expires_at";
pub(super) const MCP_CLIENT_COLS: &str = "client_id, kind, metadata, created_at, expires_at";
pub(super) const MCP_GRANT_COLS: &str = "hash, kind, family, project_id, session_id, client_id, resource, scope, redirect_uri, \
     code_challenge, state, csrf_hash, created_at, expires_at, used_at";
pub(super) const LOG_COLS: &str = "id, project_id, session_id, user_id, account_id, toolkit, tool_slug, successful, error_code, \
     error_message, provider_status, duration_ms, created_at";

/// The driver's error as the engine's: a duplicate is a conflict, a lost or refused connection
/// is worth a retry, anything else is a fault. Only the server's message and SQLSTATE are kept:
/// its DETAIL can quote row values (hashes, tokens).
pub(super) fn db(e: tokio_postgres::Error) -> Error {
    if let Some(d) = e.as_db_error() {
        let code = d.code();
        if *code == SqlState::UNIQUE_VIOLATION {
            return Error::Conflict(d.message().to_string());
        }
        let transient = code.code().starts_with("08")
            || [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
                SqlState::TOO_MANY_CONNECTIONS,
                SqlState::T_R_SERIALIZATION_FAILURE,
                SqlState::T_R_DEADLOCK_DETECTED,
                SqlState::READ_ONLY_SQL_TRANSACTION,
            ]
            .contains(code);
        if transient {
            return unavailable(format!("{} (SQLSTATE {})", d.message(), code.code()));
        }
        return Error::Internal(format!("postgres: {} (SQLSTATE {})", d.message(), code.code()));
    }
    let io = std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>());
    if e.is_closed() || io {
        return unavailable(format!("the database connection failed: {e}"));
    }
    Error::Internal(format!("postgres: {e}"))
}

/// A database that cannot answer now.
pub(super) fn unavailable(message: String) -> Error {
    Error::Unavailable { message, retry_after: 1 }
}

/// Column `i` of `row`, read as `T`; `table` names it in the error.
fn get<'a, T: FromSql<'a>>(row: &'a Row, i: usize, table: &str) -> Result<T> {
    row.try_get(i).map_err(|e| Error::Internal(format!("stored {table}.{}: {e}", row.columns()[i].name())))
}

/// A JSON list of strings (kept as TEXT, as in SQLite).
fn json_list(row: &Row, i: usize, table: &str) -> Result<Vec<String>> {
    let text: String = get(row, i, table)?;
    serde_json::from_str(&text)
        .map_err(|e| Error::Internal(format!("stored {table}.{} is not a JSON list of strings: {e}", row.columns()[i].name())))
}

/// A named value of a closed set (`parse` returns `None` for a value this broker does not know).
fn known<T>(row: &Row, i: usize, table: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T> {
    let text: String = get(row, i, table)?;
    parse(&text).ok_or_else(|| Error::Internal(format!("stored {table}.{} has an unknown value {text:?}", row.columns()[i].name())))
}

pub(super) fn project(r: &Row) -> Result<Project> {
    const T: &str = "projects";
    Ok(Project {
        id: get(r, 0, T)?,
        name: get(r, 1, T)?,
        allowed_callback_urls: json_list(r, 2, T)?,
        allowed_origins: json_list(r, 3, T)?,
        created_at: get(r, 4, T)?,
    })
}

/// The `allowed_origins` list alone.
pub(super) fn origins(r: &Row) -> Result<Vec<String>> {
    json_list(r, 0, "projects")
}

pub(super) fn api_key(r: &Row) -> Result<ApiKeyRecord> {
    const T: &str = "api_keys";
    Ok(ApiKeyRecord {
        id: get(r, 0, T)?,
        project_id: get(r, 1, T)?,
        name: get(r, 2, T)?,
        hash: get(r, 3, T)?,
        hint: get(r, 4, T)?,
        created_at: get(r, 5, T)?,
        revoked_at: get(r, 6, T)?,
    })
}

pub(super) fn client_token(r: &Row) -> Result<ClientTokenRecord> {
    const T: &str = "client_tokens";
    Ok(ClientTokenRecord {
        id: get(r, 0, T)?,
        project_id: get(r, 1, T)?,
        session_id: get(r, 2, T)?,
        hash: get(r, 3, T)?,
        created_at: get(r, 4, T)?,
        expires_at: get(r, 5, T)?,
        revoked_at: get(r, 6, T)?,
        api_key_id: get(r, 7, T)?,
    })
}

pub(super) fn mcp_credential(r: &Row) -> Result<McpCredentialRecord> {
    const T: &str = "mcp_credentials";
    Ok(McpCredentialRecord {
        id: get(r, 0, T)?,
        project_id: get(r, 1, T)?,
        session_id: get(r, 2, T)?,
        hash: get(r, 3, T)?,
        name: get(r, 4, T)?,
        created_at: get(r, 5, T)?,
        expires_at: get(r, 6, T)?,
        revoked_at: get(r, 7, T)?,
        api_key_id: get(r, 8, T)?,
        last_used_at: get(r, 9, T)?,
    })
}

pub(super) fn auth_config(r: &Row) -> Result<AuthConfigRecord> {
    const T: &str = "auth_configs";
    Ok(AuthConfigRecord {
        id: get(r, 0, T)?,
        project_id: get(r, 1, T)?,
        toolkit: get(r, 2, T)?,
        name: get(r, 3, T)?,
        auth_scheme: get(r, 4, T)?,
        client_id: get(r, 5, T)?,
        client_secret_sealed: get(r, 6, T)?,
        scopes: json_list(r, 7, T)?,
        is_disabled: get(r, 8, T)?,
        created_at: get(r, 9, T)?,
    })
}

/// A session; the `config_version` column (what the compare-and-set checks) is authoritative.
pub(super) fn session(r: &Row) -> Result<SessionRecord> {
    const T: &str = "sessions";
    let json: String = get(r, 2, T)?;
    let mut config = decode_config(&json)?;
    let version: i32 = get(r, 3, T)?;
    config.config_version =
        u32::try_from(version).map_err(|_| Error::Internal(format!("stored sessions.config_version is {version}")))?;
    Ok(SessionRecord { id: get(r, 0, T)?, project_id: get(r, 1, T)?, config, created_at: get(r, 4, T)? })
}

pub(super) fn account(r: &Row) -> Result<AccountRecord> {
    const T: &str = "accounts";
    Ok(AccountRecord {
        id: get(r, 0, T)?,
        project_id: get(r, 1, T)?,
        user_id: get(r, 2, T)?,
        toolkit: get(r, 3, T)?,
        auth_config_id: get(r, 4, T)?,
        auth_scheme: get(r, 5, T)?,
        alias: get(r, 6, T)?,
        status: known(r, 7, T, AccountStatus::parse)?,
        status_reason: get(r, 8, T)?,
        is_disabled: get(r, 9, T)?,
        credentials_sealed: get(r, 10, T)?,
        created_at: get(r, 11, T)?,
        updated_at: get(r, 12, T)?,
    })
}

pub(super) fn request(r: &Row) -> Result<ConnectionRequestRecord> {
    const T: &str = "connection_requests";
    Ok(ConnectionRequestRecord {
        account_id: get(r, 0, T)?,
        project_id: get(r, 1, T)?,
        link_token: get(r, 2, T)?,
        state: get(r, 3, T)?,
        pkce_verifier_sealed: get(r, 4, T)?,
        callback_url: get(r, 5, T)?,
        expires_at: get(r, 6, T)?,
        consumed_at: get(r, 7, T)?,
        kind: known(r, 8, T, RequestKind::parse)?,
    })
}

pub(super) fn due_link(r: &Row) -> Result<DueLink> {
    const T: &str = "connection_requests";
    Ok(DueLink { account_id: get(r, 0, T)?, state: get(r, 1, T)? })
}

pub(super) fn sandbox_grant(r: &Row) -> Result<SandboxGrant> {
    const T: &str = "sandbox_grants";
    Ok(SandboxGrant {
        hash: get(r, 0, T)?,
        kind: known(r, 1, T, SandboxGrantKind::parse)?,
        family: get(r, 2, T)?,
        user: get(r, 3, T)?,
        scope: get(r, 4, T)?,
        redirect_uri: get(r, 5, T)?,
        code_challenge: get(r, 6, T)?,
        created_at: get(r, 7, T)?,
        expires_at: get(r, 8, T)?,
    })
}

pub(super) fn mcp_client(r: &Row) -> Result<McpClientRecord> {
    const T: &str = "mcp_clients";
    Ok(McpClientRecord {
        client_id: get(r, 0, T)?,
        kind: known(r, 1, T, McpClientKind::parse)?,
        metadata: get(r, 2, T)?,
        created_at: get(r, 3, T)?,
        expires_at: get(r, 4, T)?,
    })
}

pub(super) fn mcp_grant(r: &Row) -> Result<McpGrant> {
    const T: &str = "mcp_grants";
    Ok(McpGrant {
        hash: get(r, 0, T)?,
        kind: known(r, 1, T, McpGrantKind::parse)?,
        family: get(r, 2, T)?,
        project_id: get(r, 3, T)?,
        session_id: get(r, 4, T)?,
        client_id: get(r, 5, T)?,
        resource: get(r, 6, T)?,
        scope: get(r, 7, T)?,
        redirect_uri: get(r, 8, T)?,
        code_challenge: get(r, 9, T)?,
        state: get(r, 10, T)?,
        csrf_hash: get(r, 11, T)?,
        created_at: get(r, 12, T)?,
        expires_at: get(r, 13, T)?,
        used_at: get(r, 14, T)?,
    })
}

pub(super) fn execution_log(r: &Row) -> Result<ExecutionLogRecord> {
    const T: &str = "execution_logs";
    Ok(ExecutionLogRecord {
        id: get(r, 0, T)?,
        project_id: get(r, 1, T)?,
        session_id: get(r, 2, T)?,
        user_id: get(r, 3, T)?,
        account_id: get(r, 4, T)?,
        toolkit: get(r, 5, T)?,
        tool_slug: get(r, 6, T)?,
        successful: get(r, 7, T)?,
        error_code: get(r, 8, T)?,
        error_message: get(r, 9, T)?,
        provider_status: get(r, 10, T)?,
        duration_ms: get(r, 11, T)?,
        created_at: get(r, 12, T)?,
    })
}

/// Column 0 as a string (ids).
pub(super) fn first_string(r: &Row) -> Result<String> {
    get(r, 0, "connection_requests")
}

pub(super) const SUBSCRIPTION_COLS: &str = "id, project_id, url, version, enabled_events, secret_sealed, created_at, updated_at";
/// The outbox event's columns; the account's own are copied in [`EVENT_ACCOUNT_COLS`]'s order.
pub(super) const EVENT_COLS: &str = "id, kind, sequence, created_at, account_id, project_id, user_id, toolkit, auth_config_id, \
     auth_scheme, alias, status, status_reason, is_disabled, account_created_at, account_updated_at";
/// What an event copies from its account row (after `id, kind, sequence, created_at`).
pub(super) const EVENT_ACCOUNT_COLS: &str = "u.id, u.project_id, u.user_id, u.toolkit, u.auth_config_id, u.auth_scheme, u.alias, \
     u.status, u.status_reason, u.is_disabled, u.created_at, u.updated_at";
pub(super) const DELIVERY_COLS: &str =
    "id, project_id, subscription_id, event_id, account_id, sequence, event_type, payload, created_at, status, attempts, next_attempt_at";
pub(super) const ATTEMPT_COLS: &str = "attempt, at, status_code, latency_ms, error";

pub(super) fn subscription(r: &Row) -> Result<WebhookSubscriptionRecord> {
    const T: &str = "webhook_subscriptions";
    Ok(WebhookSubscriptionRecord {
        id: get(r, 0, T)?,
        project_id: get(r, 1, T)?,
        url: get(r, 2, T)?,
        version: get(r, 3, T)?,
        enabled_events: json_list(r, 4, T)?,
        secret_sealed: get(r, 5, T)?,
        created_at: get(r, 6, T)?,
        updated_at: get(r, 7, T)?,
    })
}

pub(super) fn event(r: &Row) -> Result<WebhookEventRecord> {
    const T: &str = "webhook_events";
    Ok(WebhookEventRecord {
        id: get(r, 0, T)?,
        kind: known(r, 1, T, crate::model::AccountEvent::parse)?,
        sequence: get::<i64>(r, 2, T)? as u64,
        created_at: get(r, 3, T)?,
        account: AccountRecord {
            id: get(r, 4, T)?,
            project_id: get(r, 5, T)?,
            user_id: get(r, 6, T)?,
            toolkit: get(r, 7, T)?,
            auth_config_id: get(r, 8, T)?,
            auth_scheme: get(r, 9, T)?,
            alias: get(r, 10, T)?,
            status: known(r, 11, T, AccountStatus::parse)?,
            status_reason: get(r, 12, T)?,
            is_disabled: get(r, 13, T)?,
            credentials_sealed: None,
            created_at: get(r, 14, T)?,
            updated_at: get(r, 15, T)?,
        },
    })
}

pub(super) fn delivery(r: &Row) -> Result<DeliveryRecord> {
    const T: &str = "webhook_deliveries";
    Ok(DeliveryRecord {
        delivery: NewDelivery {
            id: get(r, 0, T)?,
            project_id: get(r, 1, T)?,
            subscription_id: get(r, 2, T)?,
            event_id: get(r, 3, T)?,
            account_id: get(r, 4, T)?,
            sequence: get::<i64>(r, 5, T)? as u64,
            event_type: get(r, 6, T)?,
            payload: get(r, 7, T)?,
            created_at: get(r, 8, T)?,
        },
        status: known(r, 9, T, crate::model::DeliveryStatus::parse)?,
        attempts: get::<i32>(r, 10, T)? as u32,
        next_attempt_at: get(r, 11, T)?,
    })
}

pub(super) fn attempt(r: &Row) -> Result<AttemptRecord> {
    const T: &str = "webhook_attempts";
    Ok(AttemptRecord {
        attempt: get::<i32>(r, 0, T)? as u32,
        at: get(r, 1, T)?,
        status_code: get::<Option<i32>>(r, 2, T)?.map(|s| s as u16),
        latency_ms: get::<i64>(r, 3, T)? as u64,
        error: get(r, 4, T)?,
    })
}
