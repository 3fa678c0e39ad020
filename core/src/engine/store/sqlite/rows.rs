//! Rows as SQLite holds them, read into records; a row this store did not write fails loudly,
//! naming its column.

use rusqlite::Row;

use crate::engine::store::*;
use crate::model::AccountStatus;

/// A conversion failure naming the column, for a row this store did not write.
pub(super) fn corrupt(column: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.into())
}

/// A JSON list of strings in column `i`; anything else is a corrupt row.
pub(super) fn json_list(r: &Row, i: usize) -> rusqlite::Result<Vec<String>> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text).map_err(|e| corrupt(i, format!("not a JSON list of strings: {e}")))
}

/// An account status in column `i`; an unknown one is a corrupt row.
pub(super) fn status_at(r: &Row, i: usize) -> rusqlite::Result<AccountStatus> {
    let text: String = r.get(i)?;
    AccountStatus::parse(&text).ok_or_else(|| corrupt(i, format!("unknown account status {text:?}")))
}

pub(super) const PROJECT_COLS: &str = "id, name, allowed_callback_urls, allowed_origins, created_at";

pub(super) fn project_row(r: &Row) -> rusqlite::Result<Project> {
    Ok(Project {
        id: r.get(0)?,
        name: r.get(1)?,
        allowed_callback_urls: json_list(r, 2)?,
        allowed_origins: json_list(r, 3)?,
        created_at: r.get(4)?,
    })
}

pub(super) const CLIENT_TOKEN_COLS: &str = "id, project_id, session_id, hash, created_at, expires_at, revoked_at, api_key_id";

pub(super) fn client_token_row(r: &Row) -> rusqlite::Result<ClientTokenRecord> {
    Ok(ClientTokenRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        session_id: r.get(2)?,
        hash: r.get(3)?,
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        revoked_at: r.get(6)?,
        api_key_id: r.get(7)?,
    })
}

pub(super) const MCP_CREDENTIAL_COLS: &str =
    "id, project_id, session_id, hash, name, created_at, expires_at, revoked_at, api_key_id, last_used_at";

pub(super) fn mcp_credential_row(r: &Row) -> rusqlite::Result<McpCredentialRecord> {
    Ok(McpCredentialRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        session_id: r.get(2)?,
        hash: r.get(3)?,
        name: r.get(4)?,
        created_at: r.get(5)?,
        expires_at: r.get(6)?,
        revoked_at: r.get(7)?,
        api_key_id: r.get(8)?,
        last_used_at: r.get(9)?,
    })
}

pub(super) fn key_row(r: &Row) -> rusqlite::Result<ApiKeyRecord> {
    Ok(ApiKeyRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        name: r.get(2)?,
        hash: r.get(3)?,
        hint: r.get(4)?,
        created_at: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

pub(super) const AUTH_CONFIG_COLS: &str =
    "id, project_id, toolkit, name, auth_scheme, client_id, client_secret_sealed, scopes, is_disabled, created_at";

pub(super) fn auth_config_row(r: &Row) -> rusqlite::Result<AuthConfigRecord> {
    Ok(AuthConfigRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        toolkit: r.get(2)?,
        name: r.get(3)?,
        auth_scheme: r.get(4)?,
        client_id: r.get(5)?,
        client_secret_sealed: r.get(6)?,
        scopes: json_list(r, 7)?,
        is_disabled: r.get(8)?,
        created_at: r.get(9)?,
    })
}

pub(super) const ACCOUNT_COLS: &str = "id, project_id, user_id, toolkit, auth_config_id, auth_scheme, alias, status, status_reason, \
     is_disabled, credentials_sealed, created_at, updated_at";

pub(super) fn account_row(r: &Row) -> rusqlite::Result<AccountRecord> {
    Ok(AccountRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        user_id: r.get(2)?,
        toolkit: r.get(3)?,
        auth_config_id: r.get(4)?,
        auth_scheme: r.get(5)?,
        alias: r.get(6)?,
        status: status_at(r, 7)?,
        status_reason: r.get(8)?,
        is_disabled: r.get(9)?,
        credentials_sealed: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

pub(super) const REQUEST_COLS: &str =
    "account_id, project_id, link_token, state, pkce_verifier_sealed, callback_url, expires_at, consumed_at, kind";

pub(super) fn request_row(r: &Row) -> rusqlite::Result<ConnectionRequestRecord> {
    Ok(ConnectionRequestRecord {
        account_id: r.get(0)?,
        project_id: r.get(1)?,
        link_token: r.get(2)?,
        state: r.get(3)?,
        pkce_verifier_sealed: r.get(4)?,
        callback_url: r.get(5)?,
        expires_at: r.get(6)?,
        consumed_at: r.get(7)?,
        kind: {
            let kind: String = r.get(8)?;
            RequestKind::parse(&kind).ok_or_else(|| corrupt(8, format!("unknown request kind {kind:?}")))?
        },
    })
}

pub(super) const SANDBOX_COLS: &str = "hash, kind, family, user_name, scope, redirect_uri, code_challenge, created_at, expires_at";

pub(super) fn sandbox_row(r: &Row) -> rusqlite::Result<SandboxGrant> {
    let kind: String = r.get(1)?;
    Ok(SandboxGrant {
        hash: r.get(0)?,
        kind: SandboxGrantKind::parse(&kind).ok_or_else(|| corrupt(1, format!("unknown sandbox grant kind {kind:?}")))?,
        family: r.get(2)?,
        user: r.get(3)?,
        scope: r.get(4)?,
        redirect_uri: r.get(5)?,
        code_challenge: r.get(6)?,
        created_at: r.get(7)?,
        expires_at: r.get(8)?,
    })
}

pub(super) const API_KEY_COLS: &str = "id, project_id, name, hash, hint, created_at, revoked_at";

/// `(project_id, user_id, id)` of an account, as `RETURNING` gives them.
pub(super) fn account_key_row(r: &Row) -> rusqlite::Result<AccountKey> {
    Ok(AccountKey { project_id: r.get(0)?, user_id: r.get(1)?, account_id: r.get(2)? })
}

pub(super) const SUBSCRIPTION_COLS: &str = "id, project_id, url, version, enabled_events, secret_sealed, created_at, updated_at";

pub(super) fn subscription_row(r: &Row) -> rusqlite::Result<WebhookSubscriptionRecord> {
    Ok(WebhookSubscriptionRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        url: r.get(2)?,
        version: r.get(3)?,
        enabled_events: json_list(r, 4)?,
        secret_sealed: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

/// The outbox event's columns; the account's own follow in [`EVENT_ACCOUNT_COLS`]'s order.
pub(super) const EVENT_COLS: &str = "id, kind, sequence, created_at, account_id, project_id, user_id, toolkit, auth_config_id, \
     auth_scheme, alias, status, status_reason, is_disabled, account_created_at, account_updated_at";
/// What an event copies from its account row (after `id, kind, sequence, created_at`).
pub(super) const EVENT_ACCOUNT_COLS: &str =
    "id, project_id, user_id, toolkit, auth_config_id, auth_scheme, alias, status, status_reason, is_disabled, created_at, updated_at";

pub(super) fn event_row(r: &Row) -> rusqlite::Result<WebhookEventRecord> {
    let kind: String = r.get(1)?;
    Ok(WebhookEventRecord {
        id: r.get(0)?,
        kind: crate::model::AccountEvent::parse(&kind).ok_or_else(|| corrupt(1, format!("unknown event kind {kind:?}")))?,
        sequence: r.get::<_, i64>(2)? as u64,
        created_at: r.get(3)?,
        account: AccountRecord {
            id: r.get(4)?,
            project_id: r.get(5)?,
            user_id: r.get(6)?,
            toolkit: r.get(7)?,
            auth_config_id: r.get(8)?,
            auth_scheme: r.get(9)?,
            alias: r.get(10)?,
            status: status_at(r, 11)?,
            status_reason: r.get(12)?,
            is_disabled: r.get(13)?,
            credentials_sealed: None,
            created_at: r.get(14)?,
            updated_at: r.get(15)?,
        },
    })
}

pub(super) const DELIVERY_COLS: &str =
    "id, project_id, subscription_id, event_id, account_id, sequence, event_type, payload, created_at, status, attempts, next_attempt_at";

pub(super) fn delivery_row(r: &Row) -> rusqlite::Result<DeliveryRecord> {
    let status: String = r.get(9)?;
    Ok(DeliveryRecord {
        delivery: NewDelivery {
            id: r.get(0)?,
            project_id: r.get(1)?,
            subscription_id: r.get(2)?,
            event_id: r.get(3)?,
            account_id: r.get(4)?,
            sequence: r.get::<_, i64>(5)? as u64,
            event_type: r.get(6)?,
            payload: r.get(7)?,
            created_at: r.get(8)?,
        },
        status: crate::model::DeliveryStatus::parse(&status).ok_or_else(|| corrupt(9, format!("unknown delivery status {status:?}")))?,
        attempts: r.get(10)?,
        next_attempt_at: r.get(11)?,
    })
}

pub(super) const ATTEMPT_COLS: &str = "attempt, at, status_code, latency_ms, error";

pub(super) fn attempt_row(r: &Row) -> rusqlite::Result<AttemptRecord> {
    Ok(AttemptRecord {
        attempt: r.get(0)?,
        at: r.get(1)?,
        status_code: r.get(2)?,
        latency_ms: r.get::<_, i64>(3)? as u64,
        error: r.get(4)?,
    })
}

pub(super) const LOG_COLS: &str = "id, project_id, session_id, user_id, account_id, toolkit, tool_slug, successful, error_code, \
     error_message, provider_status, duration_ms, created_at";

pub(super) fn log_row(r: &Row) -> rusqlite::Result<ExecutionLogRecord> {
    Ok(ExecutionLogRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        session_id: r.get(2)?,
        user_id: r.get(3)?,
        account_id: r.get(4)?,
        toolkit: r.get(5)?,
        tool_slug: r.get(6)?,
        successful: r.get(7)?,
        error_code: r.get(8)?,
        error_message: r.get(9)?,
        provider_status: r.get(10)?,
        duration_ms: r.get(11)?,
        created_at: r.get(12)?,
    })
}

pub(super) const MCP_CLIENT_COLS: &str = "client_id, kind, metadata, created_at, expires_at";

pub(super) fn mcp_client_row(r: &Row) -> rusqlite::Result<McpClientRecord> {
    let kind: String = r.get(1)?;
    Ok(McpClientRecord {
        client_id: r.get(0)?,
        kind: McpClientKind::parse(&kind).ok_or_else(|| corrupt(1, format!("unknown MCP client kind {kind:?}")))?,
        metadata: r.get(2)?,
        created_at: r.get(3)?,
        expires_at: r.get(4)?,
    })
}

pub(super) const MCP_GRANT_COLS: &str = "hash, kind, family, project_id, session_id, client_id, resource, scope, redirect_uri, \
     code_challenge, state, csrf_hash, created_at, expires_at, used_at";

pub(super) fn mcp_grant_row(r: &Row) -> rusqlite::Result<McpGrant> {
    let kind: String = r.get(1)?;
    Ok(McpGrant {
        hash: r.get(0)?,
        kind: McpGrantKind::parse(&kind).ok_or_else(|| corrupt(1, format!("unknown MCP grant kind {kind:?}")))?,
        family: r.get(2)?,
        project_id: r.get(3)?,
        session_id: r.get(4)?,
        client_id: r.get(5)?,
        resource: r.get(6)?,
        scope: r.get(7)?,
        redirect_uri: r.get(8)?,
        code_challenge: r.get(9)?,
        state: r.get(10)?,
        csrf_hash: r.get(11)?,
        created_at: r.get(12)?,
        expires_at: r.get(13)?,
        used_at: r.get(14)?,
    })
}
