//! The embedded store: one SQLite file in WAL mode.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::*;
use crate::model::{AccountFilter, AccountOrder, AccountStatus};
use crate::{Error, Result};

/// Schema changes in order; `PRAGMA user_version` records how many have run.
const MIGRATIONS: &[&str] = &[SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, SCHEMA_V5, SCHEMA_V6];

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

/// A [`Store`] on one SQLite file (WAL, foreign keys on, synchronous=NORMAL).
#[derive(Clone)]
pub struct SqliteStore {
    conn: Arc<Mutex<Connection>>,
    changes: tokio::sync::broadcast::Sender<StoreChange>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let conn = Connection::open(path.as_ref()).map_err(db)?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=5000;",
        )
        .map_err(db)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)), changes: tokio::sync::broadcast::channel(CHANGE_FEED_CAPACITY).0 })
    }

    /// Tells the change feed that an account changed (after its transaction committed); says
    /// whether there was one.
    fn publish(&self, changed: Option<AccountKey>) -> bool {
        let Some(key) = changed else { return false };
        // No subscriber is fine: nobody is waiting.
        let _ = self.changes.send(StoreChange::Account(key));
        true
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

/// How many changes a slow subscriber may fall behind before it is told to re-read.
const CHANGE_FEED_CAPACITY: usize = 4096;

/// A conversion failure naming the column, for a row this store did not write.
fn corrupt(column: usize, what: String) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, what.into())
}

/// A JSON list of strings in column `i`; anything else is a corrupt row.
fn json_list(r: &Row, i: usize) -> rusqlite::Result<Vec<String>> {
    let text: String = r.get(i)?;
    serde_json::from_str(&text).map_err(|e| corrupt(i, format!("not a JSON list of strings: {e}")))
}

/// An account status in column `i`; an unknown one is a corrupt row.
fn status_at(r: &Row, i: usize) -> rusqlite::Result<AccountStatus> {
    let text: String = r.get(i)?;
    AccountStatus::parse(&text).ok_or_else(|| corrupt(i, format!("unknown account status {text:?}")))
}

const PROJECT_COLS: &str = "id, name, allowed_callback_urls, allowed_origins, created_at";

fn project_row(r: &Row) -> rusqlite::Result<Project> {
    Ok(Project {
        id: r.get(0)?,
        name: r.get(1)?,
        allowed_callback_urls: json_list(r, 2)?,
        allowed_origins: json_list(r, 3)?,
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
        scopes: json_list(r, 7)?,
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
        status: status_at(r, 7)?,
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
            RequestKind::parse(&kind).ok_or_else(|| corrupt(8, format!("unknown request kind {kind:?}")))?
        },
    })
}

const SANDBOX_COLS: &str = "hash, kind, family, user_name, scope, redirect_uri, code_challenge, created_at, expires_at";

fn sandbox_row(r: &Row) -> rusqlite::Result<SandboxGrant> {
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

/// Writes a connection request row (inside the caller's transaction).
fn insert_request(c: &Connection, r: &ConnectionRequestRecord) -> rusqlite::Result<()> {
    c.execute(
        &format!("INSERT INTO connection_requests ({REQUEST_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"),
        params![r.account_id, r.project_id, r.link_token, r.state, r.pkce_verifier_sealed, r.callback_url, r.expires_at, r.consumed_at, r.kind.as_str()],
    )
    .map(drop)
}

/// Writes an auth config row (inside the caller's transaction, if any).
fn insert_auth_config_row(c: &Connection, a: &AuthConfigRecord) -> rusqlite::Result<()> {
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
}

/// The newest enabled auth config of a project's toolkit.
fn default_auth_config_in(c: &Connection, project_id: &str, toolkit: &str) -> rusqlite::Result<Option<AuthConfigRecord>> {
    c.query_row(
        &format!(
            "SELECT {AUTH_CONFIG_COLS} FROM auth_configs WHERE project_id = ?1 AND toolkit = ?2 AND is_disabled = 0 \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ),
        [project_id, toolkit],
        auth_config_row,
    )
    .optional()
}

/// `(project_id, user_id, id)` of an account, as `RETURNING` gives them.
fn key_row_of_account(r: &Row) -> rusqlite::Result<AccountKey> {
    Ok(AccountKey { project_id: r.get(0)?, user_id: r.get(1)?, account_id: r.get(2)? })
}

/// Applies a transition inside the caller's transaction: the guarded account update first (it
/// decides), then the request change. `None` when the guard failed; nothing was written.
fn apply_transition(tx: &Connection, t: &Transition) -> rusqlite::Result<Option<AccountRecord>> {
    use rusqlite::types::Value;
    let mut sets = vec![];
    let mut args: Vec<Value> = vec![t.now.into(), t.account_id.clone().into()];
    let arg = |args: &mut Vec<Value>, v: Value| {
        args.push(v);
        format!("?{}", args.len())
    };
    if let Some((status, reason)) = &t.status {
        let s = arg(&mut args, status.as_str().to_string().into());
        let r = arg(&mut args, reason.clone().into());
        sets.push(format!("status = {s}, status_reason = {r}"));
    }
    match &t.credentials {
        CredentialsChange::Keep => {}
        CredentialsChange::Set(sealed) => {
            let v = arg(&mut args, sealed.clone().into());
            sets.push(format!("credentials_sealed = {v}"));
        }
        CredentialsChange::Wipe => sets.push("credentials_sealed = NULL".into()),
    }
    // `updated_at` says when the account itself last changed: its status or its credentials.
    sets.push(if sets.is_empty() { "updated_at = updated_at".into() } else { "updated_at = ?1".into() });
    let from = t.guard.from.iter().map(|s| arg(&mut args, s.as_str().to_string().into())).collect::<Vec<_>>().join(",");
    let mut guard = format!("id = ?2 AND status IN ({from})");
    if let Some(state) = &t.guard.request_state {
        let v = arg(&mut args, state.clone().into());
        guard.push_str(&format!(" AND EXISTS (SELECT 1 FROM connection_requests r WHERE r.account_id = accounts.id AND r.state = {v})"));
    }
    if let Some(expected) = &t.guard.credentials {
        let v = arg(&mut args, expected.clone().into());
        guard.push_str(&format!(" AND credentials_sealed = {v}"));
    }
    let account = tx
        .query_row(
            &format!("UPDATE accounts SET {} WHERE {guard} RETURNING {ACCOUNT_COLS}", sets.join(", ")),
            rusqlite::params_from_iter(args),
            account_row,
        )
        .optional()?;
    let Some(account) = account else { return Ok(None) };
    match &t.request {
        RequestChange::Keep => {}
        RequestChange::Replace(r) => {
            tx.execute("DELETE FROM connection_requests WHERE account_id = ?1", [&t.account_id])?;
            insert_request(tx, r)?;
        }
        RequestChange::End => {
            tx.execute("DELETE FROM connection_requests WHERE account_id = ?1", [&t.account_id])?;
        }
    }
    Ok(Some(account))
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
            let lists = st.query_map([], |r| json_list(r, 0))?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(lists.into_iter().flatten().collect())
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
        self.with(move |c| insert_auth_config_row(c, &a)).await
    }

    async fn insert_first_auth_config(&self, a: &AuthConfigRecord) -> Result<AuthConfigRecord> {
        let a = a.clone();
        self.with(move |c| {
            // One writer at a time (the transaction is IMMEDIATE): the check and the insert are one step.
            let tx = c.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            if let Some(existing) = default_auth_config_in(&tx, &a.project_id, &a.toolkit)? {
                return Ok(existing);
            }
            insert_auth_config_row(&tx, &a)?;
            tx.commit()?;
            Ok(a)
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
        self.with(move |c| default_auth_config_in(c, &p, &t)).await
    }

    async fn list_auth_configs(&self, project_id: &str) -> Result<Vec<AuthConfigRecord>> {
        let p = project_id.to_string();
        self.with(move |c| {
            let mut st = c.prepare(&format!(
                "SELECT {AUTH_CONFIG_COLS} FROM auth_configs WHERE project_id = ?1 ORDER BY created_at DESC, id DESC"
            ))?;
            let rows = st.query_map([p], auth_config_row)?.collect();
            rows
        })
        .await
    }

    async fn insert_session(&self, s: &SessionRecord) -> Result<()> {
        let (id, p, cfg, version, at) =
            (s.id.clone(), s.project_id.clone(), serde_json::to_string(&s.config).unwrap(), s.config.config_version, s.created_at);
        self.with(move |c| {
            c.execute(
                "INSERT INTO sessions (id, project_id, config, config_version, created_at) VALUES (?1,?2,?3,?4,?5)",
                params![id, p, cfg, version, at],
            )
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
        let version = config.config_version;
        self.with(move |c| {
            c.execute(
                "UPDATE sessions SET config = ?1, config_version = ?5 WHERE project_id = ?2 AND id = ?3 AND config_version = ?4",
                params![json, p, id, expected_version, version],
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
                 ORDER BY created_at DESC, id DESC"
            ))?;
            let rows = st.query_map([p, u], account_row)?.collect();
            rows
        })
        .await
    }

    async fn set_account_disabled(&self, project_id: &str, id: &str, disabled: bool, now: i64) -> Result<bool> {
        let (p, id) = (project_id.to_string(), id.to_string());
        let changed = self
            .with(move |c| {
                c.query_row(
                    "UPDATE accounts SET is_disabled = ?1, updated_at = ?2 WHERE project_id = ?3 AND id = ?4 \
                     RETURNING project_id, user_id, id",
                    params![disabled, now, p, id],
                    key_row_of_account,
                )
                .optional()
            })
            .await?;
        Ok(self.publish(changed))
    }

    async fn transition(&self, t: &Transition) -> Result<Option<AccountRecord>> {
        if t.guard.from.is_empty() {
            return Err(Error::Internal("a transition must name the statuses it applies from".into()));
        }
        let t = t.clone();
        let after = self
            .with(move |c| {
                let tx = c.transaction()?;
                let Some(account) = apply_transition(&tx, &t)? else { return Ok(None) };
                tx.commit()?;
                Ok(Some(account))
            })
            .await?;
        if let Some(a) = &after {
            self.publish(Some(AccountKey { project_id: a.project_id.clone(), user_id: a.user_id.clone(), account_id: a.id.clone() }));
        }
        Ok(after)
    }

    async fn delete_account(&self, project_id: &str, id: &str) -> Result<bool> {
        let (p, id) = (project_id.to_string(), id.to_string());
        let deleted = self
            .with(move |c| {
                c.query_row(
                    "DELETE FROM accounts WHERE project_id = ?1 AND id = ?2 RETURNING project_id, user_id, id",
                    [p, id],
                    key_row_of_account,
                )
                .optional()
            })
            .await?;
        Ok(self.publish(deleted))
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

    async fn due_links(&self, statuses: &[AccountStatus], now: i64, limit: u32) -> Result<Vec<DueLink>> {
        let statuses: Vec<rusqlite::types::Value> = statuses.iter().map(|s| s.as_str().to_string().into()).collect();
        self.with(move |c| {
            let marks = (0..statuses.len()).map(|i| format!("?{}", i + 3)).collect::<Vec<_>>().join(",");
            let mut st = c.prepare(&format!(
                "SELECT r.account_id, r.state FROM connection_requests r JOIN accounts a ON a.id = r.account_id \
                 WHERE r.expires_at <= ?1 AND a.status IN ({marks}) ORDER BY r.expires_at, r.account_id LIMIT ?2"
            ))?;
            let mut args: Vec<rusqlite::types::Value> = vec![now.into(), i64::from(limit).into()];
            args.extend(statuses);
            let due = st
                .query_map(rusqlite::params_from_iter(args), |r| Ok(DueLink { account_id: r.get(0)?, state: r.get(1)? }))?
                .collect();
            due
        })
        .await
    }

    async fn acquire_lease(&self, name: &str, holder: &str, until: i64, now: i64) -> Result<bool> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.with(move |c| {
            c.execute(
                "INSERT INTO leases (name, holder, expires_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                 WHERE leases.expires_at <= ?4 OR leases.holder = excluded.holder",
                params![name, holder, until, now],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.with(move |c| c.execute("DELETE FROM leases WHERE name = ?1 AND holder = ?2", [name, holder]).map(drop)).await
    }

    fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<StoreChange> {
        self.changes.subscribe()
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
