//! The embedded store: one SQLite file in WAL mode. One thread writes, committing whatever
//! writes are pending together (`sqlite/writer.rs`); a few threads read, each on its own
//! read-only connection (`sqlite/readers.rs`). Async callers hand work to those threads over
//! channels and never block the runtime.

mod checkpoints;
mod identity;
mod migrations;
mod profiles;
mod readers;
mod rows;
mod writer;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Params, Row};

use super::*;
use crate::model::{AccountFilter, AccountOrder, AccountStatus};
use crate::{Error, Result};
use checkpoints::Checkpoints;
use readers::Readers;
use rows::*;
use writer::Writer;

/// A [`Store`] on one SQLite file (WAL, foreign keys on, synchronous=NORMAL). Cheap to clone:
/// clones share the threads, which end when the last clone is dropped.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Writer,
    readers: Readers,
    _checkpoints: Checkpoints,
    changes: tokio::sync::broadcast::Sender<StoreChange>,
    file: identity::FileIdentity,
}

/// How many changes a slow subscriber may fall behind before it is told to re-read.
const CHANGE_FEED_CAPACITY: usize = 4096;

/// Prepared statements each connection keeps (the store has about fifty distinct ones).
const STATEMENT_CACHE: usize = 96;

/// Milliseconds a connection waits for a lock another process holds (a `grantline keys …`
/// command beside a running broker) before it reports the database busy.
const BUSY_TIMEOUT_MS: u32 = 5000;

/// Reader threads, for reads that scan (lists): two, so one long scan does not stall the rest.
const READER_THREADS: usize = 2;

/// Connections for point lookups on the caller's thread: one per core (the async runtime's
/// worker threads); a caller finding none free hands its lookup to a reader thread.
fn inline_readers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get()).min(16)
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        create_private(path);
        let writer = Connection::open(path).map_err(db)?;
        // The writer switches the file to WAL before any reader opens it, and leaves checkpoints
        // to their own thread and connection (`sqlite/checkpoints.rs`). WAL with synchronous=NORMAL
        // survives a killed process: see `sqlite/writer.rs`.
        writer
            .execute_batch(&format!(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout={BUSY_TIMEOUT_MS}; \
                 PRAGMA wal_autocheckpoint=0;"
            ))
            .map_err(db)?;
        writer.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        let checkpointer = Connection::open(path).map_err(db)?;
        checkpointer.execute_batch(&format!("PRAGMA busy_timeout={BUSY_TIMEOUT_MS};")).map_err(db)?;
        let reader = || -> rusqlite::Result<Connection> {
            let c = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
            c.execute_batch(&format!("PRAGMA busy_timeout={BUSY_TIMEOUT_MS}; PRAGMA query_only=ON;"))?;
            c.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
            Ok(c)
        };
        let threaded = (0..READER_THREADS).map(|_| reader()).collect::<rusqlite::Result<Vec<_>>>().map_err(db)?;
        let inline = (0..inline_readers()).map(|_| reader()).collect::<rusqlite::Result<Vec<_>>>().map_err(db)?;
        let changes = tokio::sync::broadcast::channel(CHANGE_FEED_CAPACITY).0;
        let thread = |e: std::io::Error| Error::Internal(format!("starting a SQLite thread: {e}"));
        let restart = checkpoints::Restart::default();
        let inner = Inner {
            writer: Writer::spawn(writer, changes.clone(), restart.clone()).map_err(thread)?,
            readers: Readers::spawn(threaded, inline).map_err(thread)?,
            _checkpoints: Checkpoints::spawn(checkpointer, restart).map_err(thread)?,
            changes,
            file: identity::FileIdentity::of(path),
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Runs `f`, a point lookup, at once on this thread (`sqlite/readers.rs`).
    async fn lookup<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.inner.readers.lookup(f).await
    }

    /// Runs `f`, a read that scans, on a reader thread.
    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.inner.readers.read(f).await
    }

    /// Runs `f` on the writer, in the next group commit; answers once it is committed. `f` may
    /// run twice (when a batch-mate fails, `sqlite/writer.rs`): only its last run counts.
    async fn write<T, F>(&self, mut f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        self.inner.writer.write(move |c| f(c).map(|v| (v, None))).await
    }

    /// Like [`SqliteStore::write`], for a write that may change one account: `f` returns the
    /// account's key when it did, and the change feed carries it once the write is committed.
    async fn write_account<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnMut(&Connection) -> rusqlite::Result<(T, Option<AccountKey>)> + Send + 'static,
    {
        self.inner.writer.write(f).await
    }
}

/// Creates the database file, if it does not exist yet, readable and writable by its owner only
/// (0600): it holds sealed credentials and the hashes of every key. SQLite creates the `-wal`
/// and `-shm` files with the database file's mode. A path this cannot create is left to SQLite
/// to report.
fn create_private(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        if !path.as_os_str().to_string_lossy().starts_with(':') {
            let _ = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path);
        }
    }
}

fn db(e: rusqlite::Error) -> Error {
    db_ref(&e)
}

/// The engine's error for a SQLite one (several callers may share one: a failed COMMIT).
fn db_ref(e: &rusqlite::Error) -> Error {
    match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => Error::Conflict(e.to_string()),
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
        {
            Error::Unavailable { message: "the database is busy".into(), retry_after: 1 }
        }
        _ => Error::Internal(format!("sqlite: {e}")),
    }
}

/// Runs a statement that takes no parameters (transaction control), through the statement cache.
fn run_sql(c: &Connection, sql: &str) -> rusqlite::Result<()> {
    c.prepare_cached(sql)?.execute([]).map(drop)
}

/// Runs a statement through the statement cache; how many rows it changed.
fn exec<P: Params>(c: &Connection, sql: &str, params: P) -> rusqlite::Result<usize> {
    c.prepare_cached(sql)?.execute(params)
}

/// The first row of a query (or of a `RETURNING`), if any, through the statement cache.
fn one<T, P: Params>(c: &Connection, sql: &str, params: P, row: impl FnOnce(&Row) -> rusqlite::Result<T>) -> rusqlite::Result<Option<T>> {
    c.prepare_cached(sql)?.query_row(params, row).optional()
}

/// Every row of a query, through the statement cache.
fn all<T, P: Params>(c: &Connection, sql: &str, params: P, row: impl FnMut(&Row) -> rusqlite::Result<T>) -> rusqlite::Result<Vec<T>> {
    c.prepare_cached(sql)?.query_map(params, row)?.collect()
}

/// Writes a connection request row (inside the caller's savepoint).
fn insert_request(c: &Connection, r: &ConnectionRequestRecord) -> rusqlite::Result<()> {
    exec(
        c,
        &format!("INSERT INTO connection_requests ({REQUEST_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)"),
        params![r.account_id, r.project_id, r.link_token, r.state, r.pkce_verifier_sealed, r.callback_url, r.expires_at, r.consumed_at, r.kind.as_str()],
    )
    .map(drop)
}

/// Writes an auth config row.
fn insert_auth_config_row(c: &Connection, a: &AuthConfigRecord) -> rusqlite::Result<()> {
    exec(
        c,
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
    one(
        c,
        &format!(
            "SELECT {AUTH_CONFIG_COLS} FROM auth_configs WHERE project_id = ?1 AND toolkit = ?2 AND is_disabled = 0 \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        ),
        [project_id, toolkit],
        auth_config_row,
    )
}

/// The key the change feed carries for an account.
fn key_of(a: &AccountRecord) -> AccountKey {
    AccountKey { project_id: a.project_id.clone(), user_id: a.user_id.clone(), account_id: a.id.clone() }
}

/// Applies a transition inside the caller's savepoint: the guarded account update first (it
/// decides), then the request change. `None` when the guard failed; nothing was written.
fn apply_transition(c: &Connection, t: &Transition) -> rusqlite::Result<Option<AccountRecord>> {
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
    if t.event.is_some() {
        sets.push("event_seq = event_seq + 1".into());
    }
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
    let sql = format!("UPDATE accounts SET {} WHERE {guard} RETURNING {ACCOUNT_COLS}", sets.join(", "));
    let Some(account) = one(c, &sql, rusqlite::params_from_iter(args), account_row)? else { return Ok(None) };
    match &t.request {
        RequestChange::Keep => {}
        RequestChange::Replace(r) => {
            exec(c, "DELETE FROM connection_requests WHERE account_id = ?1", [&t.account_id])?;
            insert_request(c, r)?;
        }
        RequestChange::End => {
            exec(c, "DELETE FROM connection_requests WHERE account_id = ?1", [&t.account_id])?;
        }
    }
    if let Some(kind) = t.event {
        write_event(c, kind, &t.account_id, t.now)?;
    }
    Ok(Some(account))
}

/// Writes `kind` to the webhook outbox with the account as it is now and its current
/// `event_seq` (the caller has just bumped it), inside the caller's transaction.
fn write_event(c: &Connection, kind: crate::model::AccountEvent, account_id: &str, now: i64) -> rusqlite::Result<()> {
    let id = crate::engine::crypto::random::new_id("ev_").map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    exec(
        c,
        &format!("INSERT INTO webhook_events ({EVENT_COLS}) SELECT ?1, ?2, event_seq, ?3, {EVENT_ACCOUNT_COLS} FROM accounts WHERE id = ?4"),
        params![id, kind.as_str(), now, account_id],
    )
    .map(drop)
}

/// The delivery rows of `ids`, in that order.
fn deliveries_by_id(c: &Connection, ids: &[String]) -> rusqlite::Result<Vec<DeliveryRecord>> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(d) = one(c, &format!("SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE id = ?1"), [id], delivery_row)? {
            out.push(d);
        }
    }
    Ok(out)
}

/// The deliveries due at `?1`, oldest due first, at most `?2`: pending, unleased (or their
/// lease ran out), and first in their account's line: no earlier event of the account still
/// waits to be fanned out, and no earlier delivery of it to the same subscription is pending.
const CLAIMABLE: &str = "SELECT d.id FROM webhook_deliveries d \
     WHERE d.status = 'PENDING' AND d.next_attempt_at <= ?1 AND (d.lease_until IS NULL OR d.lease_until <= ?1) \
       AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.subscription_id = d.subscription_id \
         AND p.account_id = d.account_id AND p.sequence < d.sequence AND p.status = 'PENDING') \
       AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.account_id = d.account_id \
         AND e.sequence < d.sequence AND e.dispatched_at IS NULL) \
     ORDER BY d.next_attempt_at, d.sequence, d.id LIMIT ?2";

/// A list as the JSON text the stores keep.
fn json_text(list: &[String]) -> String {
    serde_json::to_string(list).expect("a list of strings serialises")
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
        self.inner.writer.alone(migrations::migrate).await
    }

    async fn ping(&self) -> Result<()> {
        self.inner.file.check().map_err(|message| Error::Unavailable { message, retry_after: 1 })?;
        self.first_project().await.map(drop)
    }

    async fn insert_project(&self, p: &Project) -> Result<()> {
        let p = p.clone();
        self.write(move |c| {
            exec(
                c,
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
        self.lookup(|c| one(c, &format!("SELECT {PROJECT_COLS} FROM projects ORDER BY created_at, id LIMIT 1"), [], project_row)).await
    }

    async fn get_project(&self, id: &str) -> Result<Option<Project>> {
        let id = id.to_string();
        self.lookup(move |c| one(c, &format!("SELECT {PROJECT_COLS} FROM projects WHERE id = ?1"), [id], project_row)).await
    }

    async fn set_allowed_callback_urls(&self, project_id: &str, urls: &[String]) -> Result<()> {
        let (id, urls) = (project_id.to_string(), serde_json::to_string(urls).unwrap());
        self.write(move |c| exec(c, "UPDATE projects SET allowed_callback_urls = ?1 WHERE id = ?2", params![urls, id]).map(drop)).await
    }

    async fn set_allowed_origins(&self, project_id: &str, origins: &[String]) -> Result<()> {
        let (id, origins) = (project_id.to_string(), serde_json::to_string(origins).unwrap());
        self.write(move |c| exec(c, "UPDATE projects SET allowed_origins = ?1 WHERE id = ?2", params![origins, id]).map(drop)).await
    }

    async fn all_allowed_origins(&self) -> Result<Vec<String>> {
        self.read(|c| Ok(all(c, "SELECT allowed_origins FROM projects", [], |r| json_list(r, 0))?.into_iter().flatten().collect()))
            .await
    }

    async fn project_profile(&self, project_id: &str) -> Result<Option<ProjectProfileRecord>> {
        self.profile_of(project_id).await
    }

    async fn put_project_profile(&self, profile: &ProjectProfileRecord) -> Result<()> {
        self.put_profile(profile).await
    }

    async fn set_project_logo(&self, project_id: &str, logo: Option<&ProjectLogo>, now: i64) -> Result<()> {
        self.put_logo(project_id, logo, now).await
    }

    async fn project_logo(&self, project_id: &str) -> Result<Option<ProjectLogo>> {
        self.logo_of(project_id).await
    }

    async fn insert_user_verification(&self, flow: &UserVerificationRecord) -> Result<()> {
        self.insert_verification(flow).await
    }

    async fn user_verification(&self, id_hash: &str) -> Result<Option<UserVerificationRecord>> {
        self.verification(id_hash).await
    }

    async fn advance_user_verification(
        &self,
        id_hash: &str,
        from: VerificationStatus,
        to: VerificationStatus,
        confirmed_user_id: Option<&str>,
        now: i64,
    ) -> Result<bool> {
        self.advance_verification(id_hash, from, to, confirmed_user_id, now).await
    }

    async fn passed_link_verifications(&self, link_state_hash: &str) -> Result<Vec<UserVerificationRecord>> {
        self.passed_for_link(link_state_hash).await
    }

    async fn insert_client_token(&self, t: &ClientTokenRecord) -> Result<()> {
        let t = t.clone();
        self.write(move |c| {
            exec(
                c,
                // Born revoked if its minting key was revoked first.
                &format!(
                    "INSERT INTO client_tokens ({CLIENT_TOKEN_COLS}) \
                     VALUES (?1,?2,?3,?4,?5,?6,COALESCE(?7, (SELECT revoked_at FROM api_keys WHERE id = ?8)),?8)"
                ),
                params![t.id, t.project_id, t.session_id, t.hash, t.created_at, t.expires_at, t.revoked_at, t.api_key_id],
            )
            .map(drop)
        })
        .await
    }

    async fn client_token_by_hash(&self, hash: &str) -> Result<Option<ClientTokenRecord>> {
        let hash = hash.to_string();
        self.lookup(move |c| one(c, &format!("SELECT {CLIENT_TOKEN_COLS} FROM client_tokens WHERE hash = ?1"), [hash], client_token_row))
            .await
    }

    async fn revoke_client_token(&self, project_id: &str, session_id: &str, token_id: &str, now: i64) -> Result<bool> {
        let (p, s, t) = (project_id.to_string(), session_id.to_string(), token_id.to_string());
        self.write(move |c| {
            exec(
                c,
                "UPDATE client_tokens SET revoked_at = ?1 WHERE project_id = ?2 AND session_id = ?3 AND id = ?4 AND revoked_at IS NULL",
                params![now, p, s, t],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn insert_mcp_credential(&self, m: &McpCredentialRecord) -> Result<()> {
        let m = m.clone();
        self.write(move |c| {
            exec(
                c,
                // Born revoked if its minting key was revoked first.
                &format!(
                    "INSERT INTO mcp_credentials ({MCP_CREDENTIAL_COLS}) \
                     VALUES (?1,?2,?3,?4,?5,?6,?7,COALESCE(?8, (SELECT revoked_at FROM api_keys WHERE id = ?9)),?9,?10)"
                ),
                params![m.id, m.project_id, m.session_id, m.hash, m.name, m.created_at, m.expires_at, m.revoked_at, m.api_key_id, m.last_used_at],
            )
            .map(drop)
        })
        .await
    }

    async fn mcp_credential_by_hash(&self, hash: &str) -> Result<Option<McpCredentialRecord>> {
        let hash = hash.to_string();
        self.lookup(move |c| one(c, &format!("SELECT {MCP_CREDENTIAL_COLS} FROM mcp_credentials WHERE hash = ?1"), [hash], mcp_credential_row))
            .await
    }

    async fn list_mcp_credentials(&self, project_id: &str, session_id: &str) -> Result<Vec<McpCredentialRecord>> {
        let (p, s) = (project_id.to_string(), session_id.to_string());
        self.read(move |c| {
            let sql = format!(
                "SELECT {MCP_CREDENTIAL_COLS} FROM mcp_credentials WHERE project_id = ?1 AND session_id = ?2 ORDER BY created_at DESC, id DESC"
            );
            all(c, &sql, [p, s], mcp_credential_row)
        })
        .await
    }

    async fn revoke_mcp_credential(&self, project_id: &str, session_id: &str, credential_id: &str, now: i64) -> Result<bool> {
        let (p, s, m) = (project_id.to_string(), session_id.to_string(), credential_id.to_string());
        self.write(move |c| {
            exec(
                c,
                "UPDATE mcp_credentials SET revoked_at = ?1 WHERE project_id = ?2 AND session_id = ?3 AND id = ?4 AND revoked_at IS NULL",
                params![now, p, s, m],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn touch_mcp_credential(&self, credential_id: &str, now: i64, since: i64) -> Result<()> {
        let id = credential_id.to_string();
        self.write(move |c| {
            exec(
                c,
                "UPDATE mcp_credentials SET last_used_at = ?1 WHERE id = ?2 AND (last_used_at IS NULL OR last_used_at < ?3)",
                params![now, id, since],
            )
            .map(drop)
        })
        .await
    }

    async fn insert_api_key(&self, k: &ApiKeyRecord) -> Result<()> {
        let k = k.clone();
        self.write(move |c| {
            exec(
                c,
                &format!("INSERT INTO api_keys ({API_KEY_COLS}) VALUES (?1,?2,?3,?4,?5,?6,?7)"),
                params![k.id, k.project_id, k.name, k.hash, k.hint, k.created_at, k.revoked_at],
            )
            .map(drop)
        })
        .await
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>> {
        let hash = hash.to_string();
        self.lookup(move |c| one(c, &format!("SELECT {API_KEY_COLS} FROM api_keys WHERE hash = ?1 AND revoked_at IS NULL"), [hash], key_row))
            .await
    }

    async fn list_api_keys(&self, project_id: &str) -> Result<Vec<ApiKeyRecord>> {
        let id = project_id.to_string();
        self.read(move |c| {
            all(c, &format!("SELECT {API_KEY_COLS} FROM api_keys WHERE project_id = ?1 ORDER BY created_at DESC, id"), [id], key_row)
        })
        .await
    }

    async fn revoke_api_key(&self, project_id: &str, key_id: &str, now: i64) -> Result<bool> {
        let (p, k) = (project_id.to_string(), key_id.to_string());
        self.write(move |c| {
            if exec(c, "UPDATE api_keys SET revoked_at = ?1 WHERE project_id = ?2 AND id = ?3 AND revoked_at IS NULL", params![now, p, k])? != 1 {
                return Ok(false);
            }
            exec(
                c,
                "UPDATE client_tokens SET revoked_at = ?1 \
                 WHERE project_id = ?2 AND revoked_at IS NULL AND (api_key_id = ?3 OR api_key_id IS NULL)",
                params![now, p, k],
            )?;
            exec(
                c,
                "UPDATE mcp_credentials SET revoked_at = ?1 WHERE project_id = ?2 AND revoked_at IS NULL AND api_key_id = ?3",
                params![now, p, k],
            )?;
            Ok(true)
        })
        .await
    }

    async fn insert_auth_config(&self, a: &AuthConfigRecord) -> Result<()> {
        let a = a.clone();
        self.write(move |c| insert_auth_config_row(c, &a)).await
    }

    async fn insert_first_auth_config(&self, a: &AuthConfigRecord) -> Result<AuthConfigRecord> {
        let a = a.clone();
        // On the writer, inside its transaction: the check and the insert are one step.
        self.write(move |c| {
            if let Some(existing) = default_auth_config_in(c, &a.project_id, &a.toolkit)? {
                return Ok(existing);
            }
            insert_auth_config_row(c, &a)?;
            Ok(a.clone())
        })
        .await
    }

    async fn get_auth_config(&self, project_id: &str, id: &str) -> Result<Option<AuthConfigRecord>> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.lookup(move |c| {
            one(c, &format!("SELECT {AUTH_CONFIG_COLS} FROM auth_configs WHERE project_id = ?1 AND id = ?2"), [p, id], auth_config_row)
        })
        .await
    }

    async fn default_auth_config(&self, project_id: &str, toolkit: &str) -> Result<Option<AuthConfigRecord>> {
        let (p, t) = (project_id.to_string(), toolkit.to_string());
        self.lookup(move |c| default_auth_config_in(c, &p, &t)).await
    }

    async fn list_auth_configs(&self, project_id: &str) -> Result<Vec<AuthConfigRecord>> {
        let p = project_id.to_string();
        self.read(move |c| {
            all(c, &format!("SELECT {AUTH_CONFIG_COLS} FROM auth_configs WHERE project_id = ?1 ORDER BY created_at DESC, id DESC"), [p], auth_config_row)
        })
        .await
    }

    async fn insert_session(&self, s: &SessionRecord) -> Result<()> {
        let (id, p, cfg, version, at) =
            (s.id.clone(), s.project_id.clone(), serde_json::to_string(&s.config).unwrap(), s.config.config_version, s.created_at);
        self.write(move |c| {
            exec(
                c,
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
            .lookup(move |c| {
                one(c, "SELECT id, project_id, config, created_at FROM sessions WHERE project_id = ?1 AND id = ?2", [p, id], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, i64>(3)?))
                })
            })
            .await?;
        row.map(|(id, project_id, cfg, created_at)| Ok(SessionRecord { id, project_id, config: decode_config(&cfg)?, created_at }))
            .transpose()
    }

    async fn update_session_config(&self, project_id: &str, id: &str, expected_version: u32, config: &SessionConfig) -> Result<bool> {
        let (p, id) = (project_id.to_string(), id.to_string());
        let json = serde_json::to_string(config).map_err(|e| Error::Internal(format!("session config: {e}")))?;
        let version = config.config_version;
        self.write(move |c| {
            exec(
                c,
                "UPDATE sessions SET config = ?1, config_version = ?5 WHERE project_id = ?2 AND id = ?3 AND config_version = ?4",
                params![json, p, id, expected_version, version],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn delete_session(&self, project_id: &str, id: &str) -> Result<bool> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.write(move |c| {
            exec(c, "DELETE FROM client_tokens WHERE project_id = ?1 AND session_id = ?2", [&p, &id])?;
            exec(c, "DELETE FROM mcp_credentials WHERE project_id = ?1 AND session_id = ?2", [&p, &id])?;
            exec(c, "DELETE FROM mcp_grants WHERE project_id = ?1 AND session_id = ?2", [&p, &id])?;
            Ok(exec(c, "DELETE FROM sessions WHERE project_id = ?1 AND id = ?2", [&p, &id])? == 1)
        })
        .await
    }

    async fn insert_connection(&self, a: &AccountRecord, r: &ConnectionRequestRecord) -> Result<()> {
        let (a, r) = (a.clone(), r.clone());
        self.write(move |c| {
            exec(
                c,
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
            insert_request(c, &r)
        })
        .await
    }

    async fn get_account(&self, project_id: &str, id: &str) -> Result<Option<AccountRecord>> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.lookup(move |c| one(c, &format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE project_id = ?1 AND id = ?2"), [p, id], account_row))
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
        self.read(move |c| {
            // One snapshot: the count and the page agree.
            let tx = c.unchecked_transaction()?;
            let total: u64 = tx.query_row(
                &format!("SELECT COUNT(*) FROM accounts{where_sql}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let mut st = tx.prepare(&format!(
                "SELECT {ACCOUNT_COLS} FROM accounts{where_sql} ORDER BY {column} {direction}, id {direction} LIMIT {limit} OFFSET {offset}"
            ))?;
            let items = st.query_map(rusqlite::params_from_iter(args.iter()), account_row)?.collect::<rusqlite::Result<_>>()?;
            drop(st);
            tx.commit()?;
            Ok((items, total))
        })
        .await
    }

    async fn user_accounts(&self, project_id: &str, user_id: &str) -> Result<Vec<AccountRecord>> {
        let (p, u) = (project_id.to_string(), user_id.to_string());
        self.read(move |c| {
            all(
                c,
                &format!(
                    "SELECT {ACCOUNT_COLS} FROM accounts WHERE project_id = ?1 AND user_id = ?2 AND is_disabled = 0 \
                     ORDER BY created_at DESC, id DESC"
                ),
                [p, u],
                account_row,
            )
        })
        .await
    }

    async fn set_account_disabled(&self, project_id: &str, id: &str, disabled: bool, now: i64) -> Result<bool> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.write_account(move |c| {
            let changed = one(
                c,
                "UPDATE accounts SET is_disabled = ?1, updated_at = ?2 WHERE project_id = ?3 AND id = ?4 RETURNING project_id, user_id, id",
                params![disabled, now, p, id],
                account_key_row,
            )?;
            Ok((changed.is_some(), changed))
        })
        .await
    }

    async fn transition(&self, t: &Transition) -> Result<Option<AccountRecord>> {
        if t.guard.from.is_empty() {
            return Err(Error::Internal("a transition must name the statuses it applies from".into()));
        }
        let t = t.clone();
        self.write_account(move |c| {
            let after = apply_transition(c, &t)?;
            let changed = after.as_ref().map(key_of);
            Ok((after, changed))
        })
        .await
    }

    async fn delete_account(&self, project_id: &str, id: &str, now: i64) -> Result<bool> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.write_account(move |c| {
            if exec(c, "UPDATE accounts SET event_seq = event_seq + 1 WHERE project_id = ?1 AND id = ?2", [&p, &id])? == 1 {
                write_event(c, crate::model::AccountEvent::Deleted, &id, now)?;
            }
            let deleted =
                one(c, "DELETE FROM accounts WHERE project_id = ?1 AND id = ?2 RETURNING project_id, user_id, id", [&p, &id], account_key_row)?;
            Ok((deleted.is_some(), deleted))
        })
        .await
    }

    async fn request_by_link_token(&self, link_token: &str) -> Result<Option<ConnectionRequestRecord>> {
        let t = link_token.to_string();
        self.lookup(move |c| one(c, &format!("SELECT {REQUEST_COLS} FROM connection_requests WHERE link_token = ?1"), [t], request_row))
            .await
    }

    async fn request_by_account(&self, project_id: &str, account_id: &str) -> Result<Option<ConnectionRequestRecord>> {
        let (p, a) = (project_id.to_string(), account_id.to_string());
        self.lookup(move |c| {
            one(c, &format!("SELECT {REQUEST_COLS} FROM connection_requests WHERE project_id = ?1 AND account_id = ?2"), [p, a], request_row)
        })
        .await
    }

    async fn request_by_state(&self, state: &str) -> Result<Option<ConnectionRequestRecord>> {
        let s = state.to_string();
        self.lookup(move |c| one(c, &format!("SELECT {REQUEST_COLS} FROM connection_requests WHERE state = ?1"), [s], request_row)).await
    }

    async fn consume_request(&self, state: &str, now: i64) -> Result<bool> {
        let state = state.to_string();
        self.write(move |c| {
            exec(
                c,
                "UPDATE connection_requests SET consumed_at = ?1 WHERE state = ?2 AND consumed_at IS NULL AND expires_at > ?1",
                params![now, state],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn live_reconnects(&self, project_id: &str, now: i64) -> Result<Vec<String>> {
        let p = project_id.to_string();
        self.read(move |c| {
            all(
                c,
                "SELECT account_id FROM connection_requests \
                 WHERE project_id = ?1 AND kind = 'reconnect' AND consumed_at IS NULL AND expires_at > ?2",
                params![p, now],
                |r| r.get(0),
            )
        })
        .await
    }

    async fn due_links(&self, statuses: &[AccountStatus], now: i64, limit: u32) -> Result<Vec<DueLink>> {
        let statuses: Vec<rusqlite::types::Value> = statuses.iter().map(|s| s.as_str().to_string().into()).collect();
        self.read(move |c| {
            let marks = (0..statuses.len()).map(|i| format!("?{}", i + 3)).collect::<Vec<_>>().join(",");
            let sql = format!(
                "SELECT r.account_id, r.state FROM connection_requests r JOIN accounts a ON a.id = r.account_id \
                 WHERE r.expires_at <= ?1 AND a.status IN ({marks}) ORDER BY r.expires_at, r.account_id LIMIT ?2"
            );
            let mut args: Vec<rusqlite::types::Value> = vec![now.into(), i64::from(limit).into()];
            args.extend(statuses);
            all(c, &sql, rusqlite::params_from_iter(args), |r| Ok(DueLink { account_id: r.get(0)?, state: r.get(1)? }))
        })
        .await
    }

    async fn acquire_lease(&self, name: &str, holder: &str, until: i64, now: i64) -> Result<bool> {
        let (name, holder) = (name.to_string(), holder.to_string());
        self.write(move |c| {
            exec(
                c,
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
        self.write(move |c| exec(c, "DELETE FROM leases WHERE name = ?1 AND holder = ?2", [&name, &holder]).map(drop)).await
    }

    async fn sealed_values(&self, column: SealedColumn, tag: &[u8], after: Option<&str>, limit: u32) -> Result<Vec<SealedValue>> {
        let (tag, after) = (tag.to_vec(), after.unwrap_or_default().to_string());
        let (table, key, value) = (column.table(), column.key_column(), column.column());
        self.read(move |c| {
            all(
                c,
                &format!(
                    "SELECT {key}, {value} FROM {table} \
                     WHERE {value} IS NOT NULL AND substr({value}, 1, ?1) <> ?2 AND {key} > ?3 ORDER BY {key} LIMIT ?4"
                ),
                params![tag.len() as i64, tag, after, i64::from(limit)],
                |r| Ok(SealedValue { key: r.get(0)?, sealed: r.get(1)? }),
            )
        })
        .await
    }

    async fn replace_sealed(&self, column: SealedColumn, values: &[Reseal]) -> Result<u64> {
        let values = values.to_vec();
        let (table, key, value) = (column.table(), column.key_column(), column.column());
        // One write: the whole batch commits together (a savepoint of the writer's transaction).
        self.write(move |c| {
            let sql = format!("UPDATE {table} SET {value} = ?1 WHERE {key} = ?2 AND {value} = ?3");
            let mut replaced = 0;
            for v in &values {
                replaced += exec(c, &sql, params![v.new, v.key, v.old])? as u64;
            }
            Ok(replaced)
        })
        .await
    }

    fn subscribe_changes(&self) -> tokio::sync::broadcast::Receiver<StoreChange> {
        self.inner.changes.subscribe()
    }

    async fn insert_execution_log(&self, l: &ExecutionLogRecord) -> Result<()> {
        let l = l.clone();
        self.write(move |c| {
            exec(
                c,
                &format!("INSERT INTO execution_logs ({LOG_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
                params![
                    l.id,
                    l.project_id,
                    l.session_id,
                    l.user_id,
                    l.account_id,
                    l.toolkit,
                    l.tool_slug,
                    l.successful,
                    l.error_code,
                    l.error_message,
                    l.provider_status,
                    l.duration_ms,
                    l.created_at
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn get_execution_log(&self, project_id: &str, id: &str) -> Result<Option<ExecutionLogRecord>> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.lookup(move |c| one(c, &format!("SELECT {LOG_COLS} FROM execution_logs WHERE project_id = ?1 AND id = ?2"), [p, id], log_row))
            .await
    }

    async fn list_execution_logs(&self, project_id: &str, filter: &LogFilter, offset: u64, limit: u32)
        -> Result<(Vec<ExecutionLogRecord>, u64)> {
        let mut where_sql = String::from(" WHERE project_id = ?");
        let mut args = vec![project_id.to_string()];
        for (column, value) in [("user_id", &filter.user_id), ("account_id", &filter.account_id), ("toolkit", &filter.toolkit)] {
            if let Some(v) = value {
                where_sql.push_str(&format!(" AND {column} = ?"));
                args.push(v.clone());
            }
        }
        self.read(move |c| {
            // One snapshot: the count and the page agree.
            let tx = c.unchecked_transaction()?;
            let total: u64 = tx.query_row(
                &format!("SELECT COUNT(*) FROM execution_logs{where_sql}"),
                rusqlite::params_from_iter(args.iter()),
                |r| r.get(0),
            )?;
            let mut st = tx.prepare(&format!(
                "SELECT {LOG_COLS} FROM execution_logs{where_sql} ORDER BY created_at DESC, id DESC LIMIT {limit} OFFSET {offset}"
            ))?;
            let items = st.query_map(rusqlite::params_from_iter(args.iter()), log_row)?.collect::<rusqlite::Result<_>>()?;
            drop(st);
            tx.commit()?;
            Ok((items, total))
        })
        .await
    }

    async fn purge(&self, before: &PurgeBefore) -> Result<Purged> {
        let b = *before;
        self.write(move |c| {
            let accounts = exec(c, "DELETE FROM accounts WHERE status IN ('FAILED', 'EXPIRED') AND updated_at < ?1", [b.accounts])?;
            let links = exec(
                c,
                "DELETE FROM connection_requests WHERE (expires_at < ?1 OR consumed_at < ?1) \
                 AND account_id IN (SELECT id FROM accounts WHERE status NOT IN ('INITIATED', 'INITIALIZING'))",
                [b.links],
            )? + exec(c, "DELETE FROM user_verifications WHERE expires_at < ?1", [b.links])?;
            let client_tokens = exec(c, "DELETE FROM client_tokens WHERE expires_at < ?1 OR revoked_at < ?1", [b.client_tokens])?;
            let mcp_credentials = exec(c, "DELETE FROM mcp_credentials WHERE expires_at < ?1 OR revoked_at < ?1", [b.mcp_credentials])?;
            let events = exec(c, "DELETE FROM webhook_events WHERE dispatched_at < ?1", [b.webhooks])?;
            let deliveries = exec(c, "DELETE FROM webhook_deliveries WHERE status <> 'PENDING' AND finished_at < ?1", [b.webhooks])?;
            let logs = exec(c, "DELETE FROM execution_logs WHERE created_at < ?1", [b.logs])?;
            let mcp_logins = exec(
                c,
                "DELETE FROM mcp_clients WHERE (kind = 'registered' AND created_at < ?1 \
                   AND client_id NOT IN (SELECT client_id FROM mcp_grants WHERE expires_at >= ?1)) \
                 OR (kind = 'metadata_document' AND expires_at < ?1)",
                [b.mcp_logins],
            )? + exec(c, "DELETE FROM mcp_grants WHERE expires_at < ?1", [b.mcp_logins])?;
            Ok(Purged {
                mcp_logins: mcp_logins as u64,
                links: links as u64,
                client_tokens: client_tokens as u64,
                mcp_credentials: mcp_credentials as u64,
                accounts: accounts as u64,
                webhooks: (events + deliveries) as u64,
                logs: logs as u64,
            })
        })
        .await
    }

    async fn insert_webhook_subscription(&self, w: &WebhookSubscriptionRecord) -> Result<()> {
        let w = w.clone();
        self.write(move |c| {
            exec(
                c,
                &format!("INSERT INTO webhook_subscriptions ({SUBSCRIPTION_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"),
                params![w.id, w.project_id, w.url, w.version, json_text(&w.enabled_events), w.secret_sealed, w.created_at, w.updated_at],
            )
            .map(drop)
        })
        .await
    }

    async fn get_webhook_subscription(&self, project_id: &str, id: &str) -> Result<Option<WebhookSubscriptionRecord>> {
        let (p, id) = (project_id.to_string(), id.to_string());
        self.lookup(move |c| {
            one(c, &format!("SELECT {SUBSCRIPTION_COLS} FROM webhook_subscriptions WHERE project_id = ?1 AND id = ?2"), [p, id], subscription_row)
        })
        .await
    }

    async fn list_webhook_subscriptions(&self, project_id: &str) -> Result<Vec<WebhookSubscriptionRecord>> {
        let p = project_id.to_string();
        self.read(move |c| {
            all(
                c,
                &format!("SELECT {SUBSCRIPTION_COLS} FROM webhook_subscriptions WHERE project_id = ?1 ORDER BY created_at, id"),
                [p],
                subscription_row,
            )
        })
        .await
    }

    async fn update_webhook_subscription(&self, w: &WebhookSubscriptionRecord) -> Result<bool> {
        let w = w.clone();
        self.write(move |c| {
            exec(
                c,
                "UPDATE webhook_subscriptions SET url = ?1, version = ?2, enabled_events = ?3, secret_sealed = ?4, updated_at = ?5 \
                 WHERE project_id = ?6 AND id = ?7",
                params![w.url, w.version, json_text(&w.enabled_events), w.secret_sealed, w.updated_at, w.project_id, w.id],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn delete_webhook_subscription(&self, project_id: &str, id: &str) -> Result<bool> {
        let (p, id) = (project_id.to_string(), id.to_string());
        // Its deliveries and their attempts go by ON DELETE CASCADE.
        self.write(move |c| exec(c, "DELETE FROM webhook_subscriptions WHERE project_id = ?1 AND id = ?2", [&p, &id]).map(|n| n == 1)).await
    }

    async fn undispatched_events(&self, limit: u32) -> Result<Vec<WebhookEventRecord>> {
        self.read(move |c| {
            all(
                c,
                &format!("SELECT {EVENT_COLS} FROM webhook_events WHERE dispatched_at IS NULL ORDER BY created_at, sequence, id LIMIT ?1"),
                [limit],
                event_row,
            )
        })
        .await
    }

    async fn dispatch_events(&self, event_ids: &[String], deliveries: &[NewDelivery], now: i64) -> Result<()> {
        let (ids, deliveries) = (event_ids.to_vec(), deliveries.to_vec());
        self.write(move |c| {
            for d in &deliveries {
                exec(
                    c,
                    &format!(
                        "INSERT INTO webhook_deliveries ({DELIVERY_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 'PENDING', 0, ?9) \
                         ON CONFLICT (subscription_id, event_id, event_type) DO NOTHING"
                    ),
                    params![d.id, d.project_id, d.subscription_id, d.event_id, d.account_id, d.sequence as i64, d.event_type, d.payload, d.created_at],
                )?;
            }
            for id in &ids {
                exec(c, "UPDATE webhook_events SET dispatched_at = ?1 WHERE id = ?2 AND dispatched_at IS NULL", params![now, id])?;
            }
            Ok(())
        })
        .await
    }

    async fn claim_deliveries(&self, holder: &str, now: i64, until: i64, limit: u32) -> Result<Vec<DeliveryRecord>> {
        // Most passes find nothing due: ask a reader first, so they cost the writer nothing.
        let due: Vec<String> = self.read(move |c| all(c, CLAIMABLE, params![now, 1], |r| r.get(0))).await?;
        if due.is_empty() {
            return Ok(vec![]);
        }
        let holder = holder.to_string();
        self.write(move |c| {
            let ids: Vec<String> = all(c, CLAIMABLE, params![now, limit], |r| r.get(0))?;
            for id in &ids {
                exec(c, "UPDATE webhook_deliveries SET lease_holder = ?1, lease_until = ?2 WHERE id = ?3", params![holder, until, id])?;
            }
            deliveries_by_id(c, &ids)
        })
        .await
    }

    async fn finish_attempt(&self, delivery_id: &str, holder: &str, a: &AttemptRecord, next: DeliveryNext) -> Result<bool> {
        let (id, holder, a) = (delivery_id.to_string(), holder.to_string(), a.clone());
        self.write(move |c| {
            let (status, next_at, finished) = next.stored(a.at);
            let status = status.as_str();
            let changed = exec(
                c,
                "UPDATE webhook_deliveries SET status = ?1, next_attempt_at = COALESCE(?2, next_attempt_at), finished_at = ?3, \
                 attempts = attempts + 1, lease_holder = NULL, lease_until = NULL WHERE id = ?4 AND lease_holder = ?5",
                params![status, next_at, finished, id, holder],
            )?;
            if changed == 1 {
                exec(
                    c,
                    &format!("INSERT INTO webhook_attempts (delivery_id, {ATTEMPT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"),
                    params![id, a.attempt, a.at, a.status_code, a.latency_ms as i64, a.error],
                )?;
            }
            Ok(changed == 1)
        })
        .await
    }

    async fn list_deliveries(&self, project_id: &str, subscription_id: &str, offset: u64, limit: u32)
        -> Result<(Vec<(DeliveryRecord, Vec<AttemptRecord>)>, u64)> {
        let (p, s) = (project_id.to_string(), subscription_id.to_string());
        self.read(move |c| {
            let total: i64 = c.query_row(
                "SELECT count(*) FROM webhook_deliveries WHERE project_id = ?1 AND subscription_id = ?2",
                [&p, &s],
                |r| r.get(0),
            )?;
            let page = all(
                c,
                &format!(
                    "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE project_id = ?1 AND subscription_id = ?2 \
                     ORDER BY created_at DESC, sequence DESC, id DESC LIMIT ?3 OFFSET ?4"
                ),
                params![p, s, limit, offset as i64],
                delivery_row,
            )?;
            let mut out = Vec::with_capacity(page.len());
            for d in page {
                let attempts = all(
                    c,
                    &format!("SELECT {ATTEMPT_COLS} FROM webhook_attempts WHERE delivery_id = ?1 ORDER BY attempt"),
                    [&d.delivery.id],
                    attempt_row,
                )?;
                out.push((d, attempts));
            }
            Ok((out, total as u64))
        })
        .await
    }

    async fn retry_delivery(&self, project_id: &str, subscription_id: &str, delivery_id: &str, now: i64) -> Result<bool> {
        let (p, s, id) = (project_id.to_string(), subscription_id.to_string(), delivery_id.to_string());
        self.write(move |c| {
            exec(
                c,
                "UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = ?1, finished_at = NULL \
                 WHERE project_id = ?2 AND subscription_id = ?3 AND id = ?4",
                params![now, p, s, id],
            )
            .map(|n| n == 1)
        })
        .await
    }

    async fn account_events(&self, project_id: &str, account_id: &str, limit: u32) -> Result<Vec<WebhookEventRecord>> {
        let (p, a) = (project_id.to_string(), account_id.to_string());
        self.read(move |c| {
            all(
                c,
                &format!("SELECT {EVENT_COLS} FROM webhook_events WHERE project_id = ?1 AND account_id = ?2 ORDER BY sequence DESC LIMIT ?3"),
                params![p, a, limit],
                event_row,
            )
        })
        .await
    }

    async fn pending_deliveries(&self) -> Result<u64> {
        self.read(|c| c.query_row("SELECT count(*) FROM webhook_deliveries WHERE status = 'PENDING'", [], |r| r.get::<_, i64>(0)))
            .await
            .map(|n| n as u64)
    }

    async fn insert_sandbox_grant(&self, g: &SandboxGrant, cap: u32) -> Result<()> {
        let g = g.clone();
        self.write(move |c| {
            exec(c, "DELETE FROM sandbox_grants WHERE expires_at <= ?1", [g.created_at])?;
            exec(
                c,
                "DELETE FROM sandbox_grants WHERE hash IN (SELECT hash FROM sandbox_grants WHERE kind = ?2 \
                 ORDER BY created_at DESC, hash DESC LIMIT -1 OFFSET ?1)",
                params![cap.saturating_sub(1), g.kind.as_str()],
            )?;
            exec(
                c,
                &format!("INSERT INTO sandbox_grants ({SANDBOX_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"),
                params![g.hash, g.kind.as_str(), g.family, g.user, g.scope, g.redirect_uri, g.code_challenge, g.created_at, g.expires_at],
            )
            .map(drop)
        })
        .await
    }

    async fn take_sandbox_grant(&self, kind: SandboxGrantKind, hash: &str, now: i64) -> Result<Option<SandboxGrant>> {
        let hash = hash.to_string();
        self.write(move |c| {
            one(
                c,
                &format!("DELETE FROM sandbox_grants WHERE hash = ?1 AND kind = ?2 AND expires_at > ?3 RETURNING {SANDBOX_COLS}"),
                params![hash, kind.as_str(), now],
                sandbox_row,
            )
        })
        .await
    }

    async fn sandbox_grant(&self, kind: SandboxGrantKind, hash: &str, now: i64) -> Result<Option<SandboxGrant>> {
        let hash = hash.to_string();
        self.lookup(move |c| {
            one(
                c,
                &format!("SELECT {SANDBOX_COLS} FROM sandbox_grants WHERE hash = ?1 AND kind = ?2 AND expires_at > ?3"),
                params![hash, kind.as_str(), now],
                sandbox_row,
            )
        })
        .await
    }

    async fn revoke_sandbox_family(&self, family: &str) -> Result<u64> {
        let family = family.to_string();
        self.write(move |c| exec(c, "DELETE FROM sandbox_grants WHERE family = ?1", [&family]).map(|n| n as u64)).await
    }

    async fn put_mcp_client(&self, client: &McpClientRecord) -> Result<()> {
        let m = client.clone();
        self.write(move |c| {
            exec(
                c,
                &format!("INSERT OR REPLACE INTO mcp_clients ({MCP_CLIENT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5)"),
                params![m.client_id, m.kind.as_str(), m.metadata, m.created_at, m.expires_at],
            )
            .map(drop)
        })
        .await
    }

    async fn mcp_client(&self, client_id: &str) -> Result<Option<McpClientRecord>> {
        let id = client_id.to_string();
        self.lookup(move |c| one(c, &format!("SELECT {MCP_CLIENT_COLS} FROM mcp_clients WHERE client_id = ?1"), [&id], mcp_client_row))
            .await
    }

    async fn count_mcp_clients_since(&self, kind: McpClientKind, since: i64) -> Result<u64> {
        self.read(move |c| {
            c.query_row("SELECT count(*) FROM mcp_clients WHERE kind = ?1 AND created_at >= ?2", params![kind.as_str(), since], |r| {
                r.get::<_, i64>(0)
            })
        })
        .await
        .map(|n| n as u64)
    }

    async fn insert_mcp_grant(&self, grant: &McpGrant, cap: u32) -> Result<()> {
        let g = grant.clone();
        self.write(move |c| {
            exec(c, "DELETE FROM mcp_grants WHERE expires_at <= ?1", [g.created_at])?;
            exec(
                c,
                "DELETE FROM mcp_grants WHERE hash IN (SELECT hash FROM mcp_grants WHERE kind = ?2 \
                 ORDER BY created_at DESC, hash DESC LIMIT -1 OFFSET ?1)",
                params![cap.saturating_sub(1), g.kind.as_str()],
            )?;
            exec(
                c,
                &format!(
                    "INSERT INTO mcp_grants ({MCP_GRANT_COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
                ),
                params![
                    g.hash,
                    g.kind.as_str(),
                    g.family,
                    g.project_id,
                    g.session_id,
                    g.client_id,
                    g.resource,
                    g.scope,
                    g.redirect_uri,
                    g.code_challenge,
                    g.state,
                    g.csrf_hash,
                    g.created_at,
                    g.expires_at,
                    g.used_at
                ],
            )
            .map(drop)
        })
        .await
    }

    async fn use_mcp_grant(&self, kind: McpGrantKind, hash: &str, now: i64) -> Result<Option<McpGrant>> {
        let hash = hash.to_string();
        self.write(move |c| {
            let found = one(
                c,
                &format!("SELECT {MCP_GRANT_COLS} FROM mcp_grants WHERE hash = ?1 AND kind = ?2 AND expires_at > ?3 AND used_at IS NULL"),
                params![hash, kind.as_str(), now],
                mcp_grant_row,
            )?;
            if found.is_some() {
                exec(c, "UPDATE mcp_grants SET used_at = ?2 WHERE hash = ?1", params![hash, now])?;
            }
            Ok(found)
        })
        .await
    }

    async fn mcp_grant(&self, kind: McpGrantKind, hash: &str, now: i64) -> Result<Option<McpGrant>> {
        let hash = hash.to_string();
        self.lookup(move |c| {
            one(
                c,
                &format!("SELECT {MCP_GRANT_COLS} FROM mcp_grants WHERE hash = ?1 AND kind = ?2 AND expires_at > ?3"),
                params![hash, kind.as_str(), now],
                mcp_grant_row,
            )
        })
        .await
    }

    async fn revoke_mcp_family(&self, family: &str) -> Result<u64> {
        let family = family.to_string();
        self.write(move |c| exec(c, "DELETE FROM mcp_grants WHERE family = ?1", [&family]).map(|n| n as u64)).await
    }
}

#[cfg(test)]
mod tests {
    use super::migrations::{MIGRATIONS, SCHEMA_V1};
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
        let version: usize = store.read(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0))).await.unwrap();
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

    fn connection(id: &str, alias: Option<&str>) -> (AccountRecord, ConnectionRequestRecord) {
        let account = AccountRecord {
            id: id.into(),
            project_id: "pr_1".into(),
            user_id: "u".into(),
            toolkit: "sandbox".into(),
            auth_config_id: "ac_1".into(),
            auth_scheme: "OAUTH2".into(),
            alias: alias.map(Into::into),
            status: AccountStatus::Initiated,
            status_reason: None,
            is_disabled: false,
            credentials_sealed: None,
            created_at: 1,
            updated_at: 1,
        };
        let request = ConnectionRequestRecord {
            account_id: id.into(),
            project_id: "pr_1".into(),
            link_token: format!("ln_{id}"),
            state: format!("st_{id}"),
            pkce_verifier_sealed: None,
            callback_url: None,
            expires_at: i64::MAX,
            consumed_at: None,
            kind: RequestKind::Connect,
        };
        (account, request)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn writes_pending_together_commit_together_and_a_failing_one_fails_alone() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("batch.db")).unwrap();
        store.migrate().await.unwrap();
        store.insert_project(&Project { id: "pr_1".into(), name: "p".into(), allowed_callback_urls: vec![], allowed_origins: vec![], created_at: 1 }).await.unwrap();
        let (first, first_request) = connection("ca_first", Some("work"));
        store.insert_connection(&first, &first_request).await.unwrap();
        let mut feed = store.subscribe_changes();

        // Hold the writer busy so the next writes queue up and land in one batch.
        let (held, release) = std::sync::mpsc::channel::<()>();
        let holder = store.clone();
        let busy = tokio::spawn(async move {
            holder
                .inner
                .writer
                .alone(move |_| {
                    let _ = release.recv();
                    Ok(())
                })
                .await
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let writes = ["ca_a", "ca_dup", "ca_b"].map(|id| {
            let store = store.clone();
            tokio::spawn(async move {
                let (a, r) = connection(id, (id == "ca_dup").then_some("work"));
                let inserted = store.insert_connection(&a, &r).await;
                let deleted = store.delete_account("pr_1", id, 2).await;
                (inserted, deleted)
            })
        });
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        held.send(()).unwrap();
        busy.await.unwrap().unwrap();
        let [a, dup, b] = writes;
        let (a, dup, b) = (a.await.unwrap(), dup.await.unwrap(), b.await.unwrap());
        assert!(a.0.is_ok() && b.0.is_ok(), "batch-mates of a failing write commit: {a:?} {b:?}");
        assert!(matches!(dup.0, Err(Error::Conflict(_))), "the duplicate alias fails alone: {dup:?}");
        assert_eq!((a.1.unwrap(), dup.1.unwrap(), b.1.unwrap()), (true, false, true));
        // Two deletions committed, so two changes; the failed insert and the no-op deletion publish nothing.
        let mut published = vec![];
        while let Ok(StoreChange::Account(k)) = feed.try_recv() {
            published.push(k.account_id);
        }
        published.sort();
        assert_eq!(published, ["ca_a", "ca_b"]);
        assert!(store.get_account("pr_1", "ca_first").await.unwrap().is_some());
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_new_database_and_its_wal_files_are_private_to_their_owner() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("private.db");
        let store = SqliteStore::open(&path).unwrap();
        store.migrate().await.unwrap();
        store.insert_project(&Project { id: "pr_1".into(), name: "p".into(), allowed_callback_urls: vec![], allowed_origins: vec![], created_at: 1 }).await.unwrap();
        for file in ["private.db", "private.db-wal", "private.db-shm"] {
            let mode = std::fs::metadata(dir.path().join(file)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{file} is {mode:o}");
        }
    }

    #[tokio::test]
    async fn a_write_is_readable_as_soon_as_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("ryw.db")).unwrap();
        store.migrate().await.unwrap();
        store.insert_project(&Project { id: "pr_1".into(), name: "p".into(), allowed_callback_urls: vec![], allowed_origins: vec![], created_at: 1 }).await.unwrap();
        for i in 0..200 {
            let (a, r) = connection(&format!("ca_{i}"), None);
            store.insert_connection(&a, &r).await.unwrap();
            assert!(store.get_account("pr_1", &a.id).await.unwrap().is_some(), "a reader sees the committed write");
        }
    }
}
