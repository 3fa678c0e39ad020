//! The embedded store: one SQLite file in WAL mode.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::*;
use crate::model::{AccountFilter, AccountOrder, AccountStatus};
use crate::{Error, Result};

/// Schema changes in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4];

/// The first schema.
const SCHEMA_V1: &str = r#"
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

/// A [`Store`] on one SQLite file (WAL, foreign keys on, synchronous=NORMAL).
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let conn = Connection::open(path.as_ref()).map_err(db)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
        )
        .map_err(db)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `f` on the connection off the async runtime's worker threads.
    async fn with<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = conn.lock().map_err(|_| Error::Internal("sqlite connection poisoned".into()))?;
            f(&mut guard).map_err(db)
        })
        .await
        .map_err(|e| Error::Internal(format!("store task: {e}")))?
    }
}

fn db(e: rusqlite::Error) -> Error {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
            Error::Conflict(e.to_string())
        }
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
        {
            Error::Unavailable { message: "the database is busy".into(), retry_after: 1 }
        }
        _ => Error::Internal(format!("sqlite: {e}")),
    }
}

fn json_list(text: String) -> Vec<String> {
    serde_json::from_str(&text).unwrap_or_default()
}

fn status_of(text: String) -> AccountStatus {
    AccountStatus::parse(&text).unwrap_or(AccountStatus::Failed)
}

const PROJECT_COLS: &str = "id, name, allowed_callback_urls, allowed_origins, created_at";

fn project_row(r: &Row) -> rusqlite::Result<Project> {
    Ok(Project {
        id: r.get(0)?,
        name: r.get(1)?,
        allowed_callback_urls: json_list(r.get(2)?),
        allowed_origins: json_list(r.get(3)?),
        created_at: r.get(4)?,
    })
}

const CLIENT_TOKEN_COLS: &str = "id, project_id, session_id, hash, created_at, expires_at, revoked_at";

fn client_token_row(r: &Row) -> rusqlite::Result<ClientTokenRecord> {
    Ok(ClientTokenRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        session_id: r.get(2)?,
        hash: r.get(3)?,
        created_at: r.get(4)?,
        expires_at: r.get(5)?,
        revoked_at: r.get(6)?,
    })
}

fn key_row(r: &Row) -> rusqlite::Result<ApiKeyRecord> {
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

const AUTH_CONFIG_COLS: &str =
    "id, project_id, toolkit, name, auth_scheme, client_id, client_secret_sealed, scopes, is_disabled, created_at";

fn auth_config_row(r: &Row) -> rusqlite::Result<AuthConfigRecord> {
    Ok(AuthConfigRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        toolkit: r.get(2)?,
        name: r.get(3)?,
        auth_scheme: r.get(4)?,
        client_id: r.get(5)?,
        client_secret_sealed: r.get(6)?,
        scopes: json_list(r.get(7)?),
        is_disabled: r.get(8)?,
        created_at: r.get(9)?,
    })
}

const ACCOUNT_COLS: &str = "id, project_id, user_id, toolkit, auth_config_id, auth_scheme, alias, status, status_reason, \
     is_disabled, credentials_sealed, created_at, updated_at";

fn account_row(r: &Row) -> rusqlite::Result<AccountRecord> {
    Ok(AccountRecord {
        id: r.get(0)?,
        project_id: r.get(1)?,
        user_id: r.get(2)?,
        toolkit: r.get(3)?,
        auth_config_id: r.get(4)?,
        auth_scheme: r.get(5)?,
        alias: r.get(6)?,
        status: status_of(r.get(7)?),
        status_reason: r.get(8)?,
        is_disabled: r.get(9)?,
        credentials_sealed: r.get(10)?,
        created_at: r.get(11)?,
        updated_at: r.get(12)?,
    })
}

const REQUEST_COLS: &str =
    "account_id, project_id, link_token, state, pkce_verifier_sealed, callback_url, expires_at, consumed_at, kind";

fn request_row(r: &Row) -> rusqlite::Result<ConnectionRequestRecord> {
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
            RequestKind::parse(&kind).ok_or_else(|| {
                rusqlite::Error::FromSqlConversionFailure(8, rusqlite::types::Type::Text, format!("unknown request kind {kind:?}").into())
            })?
        },
    })
}

const SANDBOX_COLS: &str = "hash, kind, family, user_name, scope, redirect_uri, code_challenge, created_at, expires_at";

fn sandbox_row(r: &Row) -> rusqlite::Result<SandboxGrant> {
    let kind: String = r.get(1)?;
    Ok(SandboxGrant {
        hash: r.get(0)?,
        kind: SandboxGrantKind::parse(&kind).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, format!("unknown sandbox grant kind {kind:?}").into())
        })?,
        family: r.get(2)?,
        user: r.get(3)?,
        scope: r.get(4)?,
        redirect_uri: r.get(5)?,
        code_challenge: r.get(6)?,
        created_at: r.get(7)?,
        expires_at: r.get(8)?,
    })
}

/// Writes a connection request row (inside the caller's transaction).
fn insert_request(c: &Connection, r: &ConnectionRequestRecord) -> rusqlite::Result<()> {
    c.execute(
        &format!("INSERT INTO connection_requests ({REQUEST_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"),
        params![r.account_id, r.project_id, r.link_token, r.state, r.pkce_verifier_sealed, r.callback_url, r.expires_at, r.consumed_at, r.kind.as_str()],
    )
    .map(drop)
}

/// Appends `AND column IN (?, ?, …)` for a non-empty filter list.
fn push_in(sql: &mut String, args: &mut Vec<String>, column: &str, values: &[String]) {
    if values.is_empty() {
        return;
    }
    sql.push_str(&format!(" AND {column} IN ({})", vec!["?"; values.len()].join(",")));
    args.extend(values.iter().cloned());
}

#[async_trait]
impl Store for SqliteStore {
    async fn migrate(&self) -> Result<()> {
        self.with(|c| {
            // Each step and its version bump commit together: a killed migration leaves the old schema.
            let done: usize = c.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            for (i, step) in MIGRATIONS.iter().enumerate().skip(done) {
                let tx = c.transaction()?;
                tx.execute_batch(step)?;
                tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
                tx.commit()?;
            }
            Ok(())
        })
        .await
    }

    async fn insert_project(&self, p: &Project) -> Result<()> {
        let p = p.clone();
        self.with(move |c| {
            c.execute(
                &format!("INSERT INTO projects ({PROJECT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
                params![
                    p.id,
                    p.name,
                    serde_json::to_string(&p.allowed_callback_urls).unwrap(),
                    serde_json::to_string(&p.allowed_origins).unwrap(),
                    p.created_at
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn first_project(&self) -> Result<Option<Project>> {
        self.with(|c| {
            c.query_row(&format!("SELECT {PROJECT_COLS} FROM projects ORDER BY created_at, id LIMIT 1"), [], project_row)
                .optional()
        })
        .await
    }

    async fn get_project(&self, id: &str) -> Result<Option<Project>> {
        let id = id.to_string();
        self.with(move |c| {
            c.query_row(&format!("SELECT {PROJECT_COLS} FROM projects WHERE id = ?1"), [id], project_row).optional()
        })
        .await
    }

    async fn set_allowed_callback_urls(&self, project_id: &str, urls: &[String]) -> Result<()> {
        let (id, urls) = (project_id.to_string(), serde_json::to_string(urls).unwrap());
        self.with(move |c| c.execute("UPDATE projects SET allowed_callback_urls = ?1 WHERE id = ?2", params![urls, id]).map(drop))
            .await
    }

    async fn set_allowed_origins(&self, project_id: &str, origins: &[String]) -> Result<()> {
        let (id, origins) = (project_id.to_string(), serde_json::to_string(origins).unwrap());
        self.with(move |c| c.execute("UPDATE projects SET allowed_origins = ?1 WHERE id = ?2", params![origins, id]).map(drop))
            .await
    }

    async fn all_allowed_origins(&self) -> Result<Vec<String>> {
        self.with(|c| {
            let mut st = c.prepare("SELECT allowed_origins FROM projects")?;
            let lists = st.query_map([], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(lists.into_iter().flat_map(json_list).collect())
        })
        .await
    }

    async fn insert_client_token(&self, t: &ClientTokenRecord) -> Result<()> {
        let t = t.clone();
        self.with(move |c| {
            c.execute(
                &format!("INSERT INTO client_tokens ({CLIENT_TOKEN_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7)"),
                params![t.id, t.project_id, t.session_id, t.hash, t.created_at, t.expires_at, t.revoked_at],
            )
            .map(drop)
        })
        .await
    }

    async fn client_token_by_hash(&self, hash: &str) -> Result<Option<ClientTokenRecord>> {
        let hash = hash.to_string();
        self.with(move |c| {
            c.query_row(&format!("SELECT {CLIENT_TOKEN_COLS} FROM client_tokens WHERE hash = ?1"), [hash], client_token_row)
                .optional()
        })
        .await
    }

    async fn revoke_client_token(&self, project_id: &str, session_id: &str, token_id: &str, now: i64) -> Result<bool> {
        let (p, s, t) = (project_id.to_string(), session_id.to_string(), token_id.to_string());
        self.with(move |c| {
            c.execute(
                "UPDATE client_tokens SET revoked_at = ?1 WHERE project_id = ?2 AND session_id = ?3 AND id = ?4 AND revoked_at IS NULL",
                params![now, p, s, t],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn insert_api_key(&self, k: &ApiKeyRecord) -> Result<()> {
        let k = k.clone();
        self.with(move |c| {
            c.execute(
                "INSERT INTO api_keys (id, project_id, name, hash, hint, created_at, revoked_at) VALUES (?1,?2,?3,?4,?5,?6,?7)",
                params![k.id, k.project_id, k.name, k.hash, k.hint, k.created_at, k.revoked_at],
            )
            .map(drop)
        })
        .await
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>> {
        let hash = hash.to_string();
        self.with(move |c| {
            c.query_row(
                "SELECT id, project_id, name, hash, hint, created_at, revoked_at FROM api_keys WHERE hash = ?1 AND revoked_at IS NULL",
                [hash],
                key_row,
            )
            .optional()
        })
        .await
    }

    async fn list_api_keys(&self, project_id: &str) -> Result<Vec<ApiKeyRecord>> {
        let id = project_id.to_string();
        self.with(move |c| {
            let mut st = c.prepare(
                "SELECT id, project_id, name, hash, hint, created_at, revoked_at FROM api_keys WHERE project_id = ?1 ORDER BY created_at DESC, id",
            )?;
            let rows = st.query_map([id], key_row)?.collect();
            rows
        })
        .await
    }

    async fn revoke_api_key(&self, project_id: &str, key_id: &str, now: i64) -> Result<bool> {
        let (p, k) = (project_id.to_string(), key_id.to_string());
        self.with(move |c| {
            c.execute(
                "UPDATE api_keys SET revoked_at = ?1 WHERE project_id = ?2 AND id = ?3 AND revoked_at IS NULL",
                params![now, p, k],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn insert_auth_config(&self, a: &AuthConfigRecord) -> Result<()> {
        let a = a.clone();
        self.with(move |c| {
            c.execute(
                &format!("INSERT INTO auth_configs ({AUTH_CONFIG_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)"),
                params![
                    a.id,
                    a.project_id,
                    a.toolkit,
                    a.name,
                    a.auth_scheme,
                    a.client_id,
                    a.client_secret_sealed,
                    serde_json::to_string(&a.scopes).unwrap(),
                    a.is_disabled,
                    a.created_at
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn get_auth_config(&self, project_id: &str, id: &str) -> Result<Option<AuthConfigRecord>> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {AUTH_CONFIG_COLS} FROM auth_configs WHERE project_id = ?1 AND id = ?2"),
                [p, id],
                auth_config_row,
            )
            .optional()
        })
        .await
    }

    async fn default_auth_config(&self, project_id: &str, toolkit: &str) -> Result<Option<AuthConfigRecord>> {
        let (p, t) = (project_id.to_string(), toolkit.to_string());
        self.with(move |c| {
            c.query_row(
                &format!(
                    "SELECT {AUTH_CONFIG_COLS} FROM auth_configs WHERE project_id = ?1 AND toolkit = ?2 AND is_disabled = 0 \
                     ORDER BY created_at DESC, rowid DESC LIMIT 1"
                ),
                [p, t],
                auth_config_row,
            )
            .optional()
        })
        .await
    }

    async fn list_auth_configs(&self, project_id: &str) -> Result<Vec<AuthConfigRecord>> {
        let p = project_id.to_string();
        self.with(move |c| {
            let mut st = c.prepare(&format!(
                "SELECT {AUTH_CONFIG_COLS} FROM auth_configs WHERE project_id = ?1 ORDER BY created_at DESC, rowid DESC"
            ))?;
            let rows = st.query_map([p], auth_config_row)?.collect();
            rows
        })
        .await
    }

    async fn insert_session(&self, s: &SessionRecord) -> Result<()> {
        let (id, p, cfg, at) = (s.id.clone(), s.project_id.clone(), serde_json::to_string(&s.config).unwrap(), s.created_at);
        self.with(move |c| {
            c.execute("INSERT INTO sessions (id, project_id, config, created_at) VALUES (?1,?2,?3,?4)", params![id, p, cfg, at])
                .map(drop)
        })
        .await
    }

    async fn get_session(&self, project_id: &str, id: &str) -> Result<Option<SessionRecord>> {
        let (p, id) = (project_id.to_string(), id.to_string());
        let row = self
            .with(move |c| {
                c.query_row(
                    "SELECT id, project_id, config, created_at FROM sessions WHERE project_id = ?1 AND id = ?2",
                    [p, id],
                    |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?)),
                )
                .optional()
            })
            .await?;
        row.map(|(id, project_id, cfg, created_at)| Ok(SessionRecord { id, project_id, config: decode_config(&cfg)?, created_at }))
            .transpose()
    }

    async fn update_session_config(&self, project_id: &str, id: &str, expected_version: u32, config: &SessionConfig) -> Result<bool> {
        let (p, id) = (project_id.to_string(), id.to_string());
        let json = serde_json::to_string(config).map_err(|e| Error::Internal(format!("session config: {e}")))?;
        self.with(move |c| {
            c.execute(
                "UPDATE sessions SET config = ?1 WHERE project_id = ?2 AND id = ?3 \
                 AND COALESCE(json_extract(config, '$.config_version'), 1) = ?4",
                params![json, p, id, expected_version],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn delete_session(&self, project_id: &str, id: &str) -> Result<bool> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM client_tokens WHERE project_id = ?1 AND session_id = ?2", [&p, &id])?;
            let n = tx.execute("DELETE FROM sessions WHERE project_id = ?1 AND id = ?2", [&p, &id])?;
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn insert_connection(&self, a: &AccountRecord, r: &ConnectionRequestRecord) -> Result<()> {
        let (a, r) = (a.clone(), r.clone());
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute(
                &format!("INSERT INTO accounts ({ACCOUNT_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)"),
                params![
                    a.id,
                    a.project_id,
                    a.user_id,
                    a.toolkit,
                    a.auth_config_id,
                    a.auth_scheme,
                    a.alias,
                    a.status.as_str(),
                    a.status_reason,
                    a.is_disabled,
                    a.credentials_sealed,
                    a.created_at,
                    a.updated_at
                ],
            )?;
            insert_request(&tx, &r)?;
            tx.commit()
        })
        .await
    }

    async fn get_account(&self, project_id: &str, id: &str) -> Result<Option<AccountRecord>> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.with(move |c| {
            c.query_row(&format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE project_id = ?1 AND id = ?2"), [p, id], account_row)
                .optional()
        })
        .await
    }

    async fn list_accounts(
        &self,
        project_id: &str,
        filter: &AccountFilter,
        offset: u64,
        limit: u32,
    ) -> Result<(Vec<AccountRecord>, u64)> {
        let mut where_sql = String::from(" WHERE project_id = ?");
        let mut args = vec![project_id.to_string()];
        push_in(&mut where_sql, &mut args, "user_id", &filter.user_ids);
        push_in(&mut where_sql, &mut args, "toolkit", &filter.toolkit_slugs);
        let statuses: Vec<String> = filter.statuses.iter().map(|s| s.as_str().to_string()).collect();
        push_in(&mut where_sql, &mut args, "status", &statuses);
        push_in(&mut where_sql, &mut args, "id", &filter.ids);
        push_in(&mut where_sql, &mut args, "auth_config_id", &filter.auth_config_ids);
        if filter.shared_only {
            where_sql.push_str(" AND 0");
        }
        let column = match filter.order_by {
            AccountOrder::CreatedAt => "created_at",
            AccountOrder::UpdatedAt => "updated_at",
        };
        let direction = if filter.ascending { "ASC" } else { "DESC" };
        self.with(move |c| {
            let total: u64 = c.query_row(
                &format!("SELECT COUNT(*) FROM accounts{where_sql}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let mut st = c.prepare(&format!(
                "SELECT {ACCOUNT_COLS} FROM accounts{where_sql} ORDER BY {column} {direction}, id {direction} LIMIT {limit} OFFSET {offset}"
            ))?;
            let items = st.query_map(rusqlite::params_from_iter(args.iter()), account_row)?.collect::<rusqlite::Result<_>>()?;
            Ok((items, total))
        })
        .await
    }

    async fn user_accounts(&self, project_id: &str, user_id: &str) -> Result<Vec<AccountRecord>> {
        let (p, u) = (project_id.to_string(), user_id.to_string());
        self.with(move |c| {
            let mut st = c.prepare(&format!(
                "SELECT {ACCOUNT_COLS} FROM accounts WHERE project_id = ?1 AND user_id = ?2 AND is_disabled = 0 \
                 ORDER BY created_at DESC, rowid DESC"
            ))?;
            let rows = st.query_map([p, u], account_row)?.collect();
            rows
        })
        .await
    }

    async fn set_account_disabled(&self, project_id: &str, id: &str, disabled: bool, now: i64) -> Result<bool> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.with(move |c| {
            c.execute(
                "UPDATE accounts SET is_disabled = ?1, updated_at = ?2 WHERE project_id = ?3 AND id = ?4",
                params![disabled, now, p, id],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn replace_credentials(&self, account_id: &str, expected: &[u8], sealed: &[u8], now: i64) -> Result<bool> {
        let (id, expected, sealed) = (account_id.to_string(), expected.to_vec(), sealed.to_vec());
        self.with(move |c| {
            c.execute(
                "UPDATE accounts SET credentials_sealed = ?1, updated_at = ?2 WHERE id = ?3 AND status = 'ACTIVE' AND credentials_sealed = ?4",
                params![sealed, now, id, expected],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn end_account(&self, account_id: &str, expected: &[u8], status: AccountStatus, reason: &str, now: i64) -> Result<bool> {
        let (id, expected, reason) = (account_id.to_string(), expected.to_vec(), reason.to_string());
        self.with(move |c| {
            c.execute(
                "UPDATE accounts SET status = ?1, status_reason = ?2, updated_at = ?3 \
                 WHERE id = ?4 AND status = 'ACTIVE' AND credentials_sealed = ?5",
                params![status.as_str(), reason, now, id, expected],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn revoke_account(&self, account_id: &str, reason: &str, now: i64) -> Result<bool> {
        let (id, reason) = (account_id.to_string(), reason.to_string());
        self.with(move |c| {
            let tx = c.transaction()?;
            let n = tx.execute(
                "UPDATE accounts SET status = 'REVOKED', status_reason = ?1, credentials_sealed = NULL, updated_at = ?2 \
                 WHERE id = ?3 AND status != 'REVOKED'",
                params![reason, now, id],
            )?;
            tx.execute("DELETE FROM connection_requests WHERE account_id = ?1", [&id])?;
            tx.commit()?;
            Ok(n == 1)
        })
        .await
    }

    async fn delete_account(&self, project_id: &str, id: &str) -> Result<bool> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.with(move |c| c.execute("DELETE FROM accounts WHERE project_id = ?1 AND id = ?2", [p, id]).map(|n| n == 1)).await
    }

    async fn request_by_link_token(&self, link_token: &str) -> Result<Option<ConnectionRequestRecord>> {
        let t = link_token.to_string();
        self.with(move |c| {
            c.query_row(&format!("SELECT {REQUEST_COLS} FROM connection_requests WHERE link_token = ?1"), [t], request_row)
                .optional()
        })
        .await
    }

    async fn request_by_account(&self, project_id: &str, account_id: &str) -> Result<Option<ConnectionRequestRecord>> {
        let (p, a) = (project_id.to_string(), account_id.to_string());
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {REQUEST_COLS} FROM connection_requests WHERE project_id = ?1 AND account_id = ?2"),
                [p, a],
                request_row,
            )
            .optional()
        })
        .await
    }

    async fn request_by_state(&self, state: &str) -> Result<Option<ConnectionRequestRecord>> {
        let s = state.to_string();
        self.with(move |c| {
            c.query_row(&format!("SELECT {REQUEST_COLS} FROM connection_requests WHERE state = ?1"), [s], request_row)
                .optional()
        })
        .await
    }

    async fn renew_request(&self, r: &ConnectionRequestRecord, expected: AccountStatus) -> Result<bool> {
        let r = r.clone();
        self.with(move |c| {
            let tx = c.transaction()?;
            let status: Option<String> = tx
                .query_row("SELECT status FROM accounts WHERE project_id = ?1 AND id = ?2", [&r.project_id, &r.account_id], |row| row.get(0))
                .optional()?;
            if status.as_deref() != Some(expected.as_str()) {
                return Ok(false);
            }
            tx.execute("DELETE FROM connection_requests WHERE account_id = ?1", [&r.account_id])?;
            insert_request(&tx, &r)?;
            tx.commit()?;
            Ok(true)
        })
        .await
    }

    async fn consume_request(&self, state: &str, now: i64) -> Result<bool> {
        let state = state.to_string();
        self.with(move |c| {
            c.execute(
                "UPDATE connection_requests SET consumed_at = ?1 WHERE state = ?2 AND consumed_at IS NULL AND expires_at > ?1",
                params![now, state],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn finish_account(&self, o: &AccountOutcome) -> Result<bool> {
        let o = o.clone();
        let from: Vec<String> = o.from.iter().map(|s| s.as_str().to_string()).collect();
        self.with(move |c| {
            let statuses = (0..from.len()).map(|i| format!("?{}", i + 7)).collect::<Vec<_>>().join(",");
            let mut args: Vec<rusqlite::types::Value> = vec![
                o.status.as_str().to_string().into(),
                o.status_reason.into(),
                o.credentials_sealed.into(),
                o.now.into(),
                o.account_id.into(),
                o.request_state.into(),
            ];
            args.extend(from.into_iter().map(Into::into));
            c.execute(
                &format!(
                    "UPDATE accounts SET status = ?1, status_reason = ?2, credentials_sealed = COALESCE(?3, credentials_sealed), \
                     updated_at = ?4 WHERE id = ?5 AND status IN ({statuses}) \
                     AND EXISTS (SELECT 1 FROM connection_requests r WHERE r.account_id = accounts.id AND r.state = ?6)"
                ),
                rusqlite::params_from_iter(args),
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn live_reconnects(&self, project_id: &str, now: i64) -> Result<Vec<String>> {
        let p = project_id.to_string();
        self.with(move |c| {
            let mut st = c.prepare(
                "SELECT account_id FROM connection_requests \
                 WHERE project_id = ?1 AND kind = 'reconnect' AND consumed_at IS NULL AND expires_at > ?2",
            )?;
            let ids = st.query_map(params![p, now], |r| r.get(0))?.collect();
            ids
        })
        .await
    }

    async fn expire_due(&self, now: i64) -> Result<Vec<String>> {
        self.with(move |c| {
            let mut st = c.prepare(
                "UPDATE accounts SET status = 'EXPIRED', status_reason = 'the Connect Link was not completed in time', \
                 updated_at = ?1 WHERE status IN ('INITIATED', 'INITIALIZING') AND id IN \
                 (SELECT account_id FROM connection_requests WHERE expires_at <= ?1) RETURNING id",
            )?;
            let ids = st.query_map([now], |r| r.get(0))?.collect();
            ids
        })
        .await
    }

    async fn insert_sandbox_grant(&self, g: &SandboxGrant, cap: u32) -> Result<()> {
        let g = g.clone();
        self.with(move |c| {
            let tx = c.transaction()?;
            tx.execute("DELETE FROM sandbox_grants WHERE expires_at <= ?1", [g.created_at])?;
            tx.execute(
                "DELETE FROM sandbox_grants WHERE hash IN (SELECT hash FROM sandbox_grants \
                 ORDER BY created_at DESC, hash DESC LIMIT -1 OFFSET ?1)",
                [cap.saturating_sub(1)],
            )?;
            tx.execute(
                &format!("INSERT INTO sandbox_grants ({SANDBOX_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![g.hash, g.kind.as_str(), g.family, g.user, g.scope, g.redirect_uri, g.code_challenge, g.created_at, g.expires_at],
            )?;
            tx.commit()
        })
        .await
    }

    async fn take_sandbox_grant(&self, kind: SandboxGrantKind, hash: &str, now: i64) -> Result<Option<SandboxGrant>> {
        let hash = hash.to_string();
        self.with(move |c| {
            c.query_row(
                &format!("DELETE FROM sandbox_grants WHERE hash = ?1 AND kind = ?2 AND expires_at > ?3 RETURNING {SANDBOX_COLS}"),
                params![hash, kind.as_str(), now],
                sandbox_row,
            )
            .optional()
        })
        .await
    }

    async fn sandbox_grant(&self, kind: SandboxGrantKind, hash: &str, now: i64) -> Result<Option<SandboxGrant>> {
        let hash = hash.to_string();
        self.with(move |c| {
            c.query_row(
                &format!("SELECT {SANDBOX_COLS} FROM sandbox_grants WHERE hash = ?1 AND kind = ?2 AND expires_at > ?3"),
                params![hash, kind.as_str(), now],
                sandbox_row,
            )
            .optional()
        })
        .await
    }

    async fn revoke_sandbox_family(&self, family: &str) -> Result<u64> {
        let family = family.to_string();
        self.with(move |c| c.execute("DELETE FROM sandbox_grants WHERE family = ?1", [family]).map(|n| n as u64)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_first_schema_database_upgrades_in_place_and_keeps_its_rows() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.db");
        {
            // What a broker of the first schema left behind: user_version 0, no origins, no tokens.
            let c = Connection::open(&path).unwrap();
            c.execute_batch(SCHEMA_V1).unwrap();
            c.execute(
                "INSERT INTO projects (id, name, allowed_callback_urls, created_at) VALUES ('pr_old', 'default', '[\"https://a.test\"]', 1)",
                [],
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        store.migrate().await.unwrap();
        store.migrate().await.expect("migrating twice is a no-op");
        let p = store.get_project("pr_old").await.unwrap().unwrap();
        assert_eq!(p.allowed_callback_urls, vec!["https://a.test".to_string()]);
        assert!(p.allowed_origins.is_empty());
        store.set_allowed_origins("pr_old", &["https://w.test".into()]).await.unwrap();
        assert_eq!(store.all_allowed_origins().await.unwrap(), vec!["https://w.test".to_string()]);
        let version: usize = store.with(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0))).await.unwrap();
        assert_eq!(version, MIGRATIONS.len());
    }

    fn account(status: AccountStatus) -> AccountRecord {
        AccountRecord {
            id: "ca_1".into(),
            project_id: "pr_1".into(),
            user_id: "u".into(),
            toolkit: "sandbox".into(),
            auth_config_id: "ac_1".into(),
            auth_scheme: "OAUTH2".into(),
            alias: None,
            status,
            status_reason: None,
            is_disabled: false,
            credentials_sealed: None,
            created_at: 1,
            updated_at: 1,
        }
    }

    fn request(state: &str, kind: RequestKind, expires_at: i64) -> ConnectionRequestRecord {
        ConnectionRequestRecord {
            account_id: "ca_1".into(),
            project_id: "pr_1".into(),
            link_token: format!("ln_{state}"),
            state: state.into(),
            pkce_verifier_sealed: None,
            callback_url: None,
            expires_at,
            consumed_at: None,
            kind,
        }
    }

    fn outcome(state: &str, from: &[AccountStatus], sealed: &[u8]) -> AccountOutcome {
        AccountOutcome {
            account_id: "ca_1".into(),
            request_state: state.into(),
            from: from.to_vec(),
            status: AccountStatus::Active,
            status_reason: None,
            credentials_sealed: Some(sealed.to_vec()),
            now: 50,
        }
    }

    /// A store holding project `pr_1` and its account `ca_1` (INITIATED, link `s0` until 100).
    async fn store_with_account() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        store.migrate().await.unwrap();
        let project = Project { id: "pr_1".into(), name: "p".into(), allowed_callback_urls: vec![], allowed_origins: vec![], created_at: 1 };
        store.insert_project(&project).await.unwrap();
        store.insert_connection(&account(AccountStatus::Initiated), &request("s0", RequestKind::Connect, 100)).await.unwrap();
        (dir, store)
    }

    #[tokio::test]
    async fn a_renewed_request_replaces_the_older_one_and_its_outcome_no_longer_applies() {
        let (_dir, store) = store_with_account().await;
        let pending = [AccountStatus::Initiated, AccountStatus::Initializing];
        // The callback of `s0` consumed it and is at the provider when a fresh link replaces it.
        assert!(store.consume_request("s0", 10).await.unwrap());
        assert!(!store.renew_request(&request("s1", RequestKind::Connect, 200), AccountStatus::Active).await.unwrap(), "status CAS");
        assert!(store.renew_request(&request("s1", RequestKind::Connect, 200), AccountStatus::Initiated).await.unwrap());
        assert!(store.request_by_state("s0").await.unwrap().is_none(), "the older state is unknown");
        assert!(store.request_by_link_token("ln_s0").await.unwrap().is_none(), "the older link is unknown");
        assert!(!store.finish_account(&outcome("s0", &pending, b"old")).await.unwrap(), "a late outcome of s0 changes nothing");
        assert_eq!(store.get_account("pr_1", "ca_1").await.unwrap().unwrap().status, AccountStatus::Initiated);
        assert!(store.finish_account(&outcome("s1", &pending, b"new")).await.unwrap());
        let a = store.get_account("pr_1", "ca_1").await.unwrap().unwrap();
        assert_eq!((a.status, a.credentials_sealed.as_deref()), (AccountStatus::Active, Some(&b"new"[..])));
        assert!(!store.finish_account(&outcome("s1", &pending, b"again")).await.unwrap(), "an ACTIVE account is no longer pending");
    }

    #[tokio::test]
    async fn a_reconnecting_account_is_not_expired_and_its_link_dies_on_time() {
        let (_dir, store) = store_with_account().await;
        assert!(store.consume_request("s0", 10).await.unwrap());
        assert!(store.finish_account(&outcome("s0", &[AccountStatus::Initiated], b"first")).await.unwrap());
        assert!(store.renew_request(&request("r1", RequestKind::Reconnect, 100), AccountStatus::Active).await.unwrap());
        assert_eq!(store.live_reconnects("pr_1", 99).await.unwrap(), vec!["ca_1".to_string()]);
        assert!(store.expire_due(1_000).await.unwrap().is_empty(), "the sweeper leaves a reconnecting ACTIVE account alone");
        assert_eq!(store.get_account("pr_1", "ca_1").await.unwrap().unwrap().status, AccountStatus::Active);
        assert!(store.live_reconnects("pr_1", 100).await.unwrap().is_empty());
        assert!(!store.consume_request("r1", 100).await.unwrap(), "an expired link cannot be used");
        assert!(store.consume_request("r1", 99).await.unwrap());
        assert!(!store.consume_request("r1", 99).await.unwrap(), "nor used twice");
    }

    #[tokio::test]
    async fn revoking_or_deleting_ends_a_pending_reconnect() {
        let (_dir, store) = store_with_account().await;
        let any = AccountStatus::ALL;
        assert!(store.renew_request(&request("r1", RequestKind::Reconnect, 100), AccountStatus::Initiated).await.unwrap());
        assert!(store.consume_request("r1", 10).await.unwrap());
        assert!(store.revoke_account("ca_1", "revoked by the app", 20).await.unwrap());
        assert!(!store.finish_account(&outcome("r1", &any, b"late")).await.unwrap(), "a revocation wins over an outcome in flight");
        assert_eq!(store.get_account("pr_1", "ca_1").await.unwrap().unwrap().status, AccountStatus::Revoked);

        assert!(store.renew_request(&request("r2", RequestKind::Reconnect, 100), AccountStatus::Revoked).await.unwrap());
        assert!(store.consume_request("r2", 10).await.unwrap());
        assert!(store.delete_account("pr_1", "ca_1").await.unwrap());
        assert!(!store.finish_account(&outcome("r2", &any, b"late")).await.unwrap(), "a deleted account stays deleted");
        assert!(!store.renew_request(&request("r3", RequestKind::Reconnect, 100), AccountStatus::Revoked).await.unwrap());
    }

    #[tokio::test]
    async fn a_token_refresh_does_not_overwrite_a_reconnect() {
        let (_dir, store) = store_with_account().await;
        assert!(store.consume_request("s0", 10).await.unwrap());
        assert!(store.finish_account(&outcome("s0", &[AccountStatus::Initiated], b"first")).await.unwrap());
        assert!(store.renew_request(&request("r1", RequestKind::Reconnect, 100), AccountStatus::Active).await.unwrap());
        assert!(store.consume_request("r1", 10).await.unwrap());
        assert!(store.finish_account(&outcome("r1", &AccountStatus::ALL, b"reconnected")).await.unwrap());
        // A token refresh that started from the first credentials comes back afterwards.
        assert!(!store.replace_credentials("ca_1", b"first", b"refreshed-first", 60).await.unwrap());
        assert!(!store.end_account("ca_1", b"first", AccountStatus::Expired, "refused", 60).await.unwrap());
        let a = store.get_account("pr_1", "ca_1").await.unwrap().unwrap();
        assert_eq!((a.status, a.credentials_sealed.as_deref()), (AccountStatus::Active, Some(&b"reconnected"[..])));
        assert!(store.replace_credentials("ca_1", b"reconnected", b"refreshed", 60).await.unwrap());
    }

    #[tokio::test]
    async fn requests_stored_before_reconnects_existed_are_first_connections() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v3.db");
        {
            let c = Connection::open(&path).unwrap();
            for step in &MIGRATIONS[..3] {
                c.execute_batch(step).unwrap();
            }
            c.execute_batch("PRAGMA user_version = 3").unwrap();
            c.execute_batch(
                "INSERT INTO projects (id, name, created_at) VALUES ('pr_1', 'p', 1); \
                 INSERT INTO accounts (id, project_id, user_id, toolkit, auth_config_id, auth_scheme, status, created_at, updated_at) \
                 VALUES ('ca_1', 'pr_1', 'u', 'sandbox', 'ac_1', 'OAUTH2', 'INITIATED', 1, 1); \
                 INSERT INTO connection_requests (account_id, project_id, link_token, state, expires_at) VALUES ('ca_1', 'pr_1', 'ln_a', 's_a', 100);",
            )
            .unwrap();
        }
        let store = SqliteStore::open(&path).unwrap();
        store.migrate().await.unwrap();
        assert_eq!(store.request_by_state("s_a").await.unwrap().unwrap().kind, RequestKind::Connect);
    }
}
