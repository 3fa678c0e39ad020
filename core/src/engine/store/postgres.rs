//! The scale-out store: any number of brokers on one PostgreSQL.
//!
//! Each request is one statement where it can be (CTEs, `RETURNING`), each statement prepared
//! once per pooled connection. A request that must see a lock before it reads (a transition, the
//! first auth config of a toolkit) is one transaction sent in one round trip: `BEGIN`, the
//! statements and `COMMIT` are issued together and tokio-postgres pipelines them.
//!
//! Changes to accounts are announced with `pg_notify` in the transaction that makes them, and
//! come back to every broker (this one included) through [`changes`].

mod changes;
mod migrations;
mod profiles;
mod rows;
mod target;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime};
use tokio::sync::broadcast;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row};

use super::*;
use crate::model::{AccountFilter, AccountOrder, AccountStatus, SessionConfig};
use crate::{Error, Result};
use changes::NOTIFY;
use rows::{
    db, unavailable, ACCOUNT_COLS, API_KEY_COLS, ATTEMPT_COLS, AUTH_CONFIG_COLS, CLIENT_TOKEN_COLS, MCP_CREDENTIAL_COLS, DELIVERY_COLS, EVENT_ACCOUNT_COLS,
    EVENT_COLS, LOG_COLS, PROJECT_COLS, REQUEST_COLS, SANDBOX_COLS, MCP_CLIENT_COLS, MCP_GRANT_COLS, SESSION_COLS, SUBSCRIPTION_COLS,
};
use target::Target;

/// Connections kept per broker.
const POOL_SIZE: usize = 16;
/// How long a request waits for a free connection, or for a new one, before it is refused.
const POOL_WAIT: Duration = Duration::from_secs(10);
/// Changes a slow subscriber may fall behind by before it is told it lagged (and re-reads).
const FEED_CAPACITY: usize = 1024;

/// A [`Store`] on a PostgreSQL database: a pool of connections and one listening connection
/// for the change feed. Cheap to clone; the listener stops when the last clone is dropped.
#[derive(Clone)]
pub struct PostgresStore {
    inner: Arc<Inner>,
}

struct Inner {
    pool: Pool,
    target: Arc<Target>,
    feed: broadcast::Sender<StoreChange>,
    listener: changes::Listener,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user:password@host:port/db?sslmode=…`, or
    /// libpq's `key=value` form): checks that it answers and starts listening for changes. The
    /// schema is made by [`Store::migrate`].
    ///
    /// `sslmode` is read as libpq reads it: `disable` never encrypts; `prefer` (the default)
    /// and `require` encrypt without checking the certificate; `verify-ca` checks its chain and
    /// `verify-full` its chain and host name, against `sslrootcert` (a PEM file) or else
    /// Mozilla's roots.
    pub async fn connect(url: &str) -> Result<Self> {
        let target = Arc::new(Target::parse(url)?);
        let manager = Manager::from_config(
            target.config.clone(),
            target.tls.clone(),
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(POOL_WAIT))
            .create_timeout(Some(POOL_WAIT))
            .recycle_timeout(Some(POOL_WAIT))
            .build()
            .map_err(|e| Error::Internal(format!("database pool: {e}")))?;
        // Fail here, naming the server, rather than at the first request.
        drop(pool.get().await.map_err(|e| pool_error(&target, e))?);
        let (feed, _) = broadcast::channel(FEED_CAPACITY);
        let listener = changes::start(target.clone(), feed.clone())
            .await
            .map_err(|e| unavailable(format!("cannot listen for changes on {}: {e}", target.shown)))?;
        tracing::debug!(database = %target.shown, ssl_mode = ?target.ssl_mode, "connected to PostgreSQL");
        Ok(Self { inner: Arc::new(Inner { pool, target, feed, listener }) })
    }

    /// A pooled connection (also for the store's own tools, e.g. `copy`).
    pub(crate) async fn client(&self) -> Result<Object> {
        self.inner.pool.get().await.map_err(|e| pool_error(&self.inner.target, e))
    }

    /// Runs one statement and returns its rows.
    async fn rows(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let c = self.client().await?;
        let statement = c.prepare_cached(sql).await.map_err(db)?;
        c.query(&statement, params).await.map_err(db)
    }

    /// Runs one statement and returns its row, if any.
    async fn row(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Option<Row>> {
        let c = self.client().await?;
        let statement = c.prepare_cached(sql).await.map_err(db)?;
        c.query_opt(&statement, params).await.map_err(db)
    }

    /// Runs one statement and returns how many rows it wrote.
    async fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let c = self.client().await?;
        let statement = c.prepare_cached(sql).await.map_err(db)?;
        c.execute(&statement, params).await.map_err(db)
    }
}

/// A pool that cannot hand out a connection: the database is down, unreachable or refusing.
fn pool_error(target: &Target, e: PoolError) -> Error {
    let cause = match e {
        PoolError::Backend(e) => e.as_db_error().map_or_else(|| e.to_string(), |d| d.message().to_string()),
        other => other.to_string(),
    };
    unavailable(target.scrub(format!("cannot reach the database {}: {cause}", target.shown)))
}

/// Runs a transaction in one round trip: `BEGIN`, `body`'s statements and `COMMIT` are all sent
/// before any answer is awaited, and a failed statement turns the `COMMIT` into a rollback.
///
/// `body` must send every statement on its first poll (prepared statements, joined in order),
/// and each statement but the last must only read or lock: one refused before it was sent (a
/// parameter that does not encode) would leave the ones before it to be committed.
async fn pipelined<T>(client: &Client, body: impl Future<Output = std::result::Result<T, tokio_postgres::Error>>) -> Result<T> {
    let (_, out, _) = tokio::try_join!(client.batch_execute("BEGIN"), body, client.batch_execute("COMMIT")).map_err(db)?;
    Ok(out)
}

fn json(list: &[String]) -> String {
    serde_json::to_string(list).expect("a list of strings is JSON")
}

fn strings(statuses: &[AccountStatus]) -> Vec<String> {
    statuses.iter().map(|s| s.as_str().to_string()).collect()
}

/// Locks the account a transition is about, so the statement after it (which takes a fresh
/// snapshot) sees the connection request as the previous holder of the lock left it.
const LOCK_ACCOUNT: &str = "SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE";

/// A transition's guard, writes and notification as one statement ($8: keep, set or wipe the
/// credentials; $11: keep, replace or end the request). `updated_at` moves only with the status
/// or the credentials (a fresh link is not a change of the account). A replaced request is upserted on its account id: one row per account, as a delete
/// and an insert would leave it, without two writes to one key in one statement.
fn transition_sql() -> String {
    format!(
        "WITH updated AS ( \
           UPDATE accounts a SET \
             status = CASE WHEN $5::boolean THEN $6::text ELSE a.status END, \
             status_reason = CASE WHEN $5::boolean THEN $7::text ELSE a.status_reason END, \
             credentials_sealed = CASE $8::text WHEN 'set' THEN $9::bytea WHEN 'wipe' THEN NULL ELSE a.credentials_sealed END, \
             updated_at = CASE WHEN $5::boolean OR $8::text <> 'keep' THEN $10::bigint ELSE a.updated_at END, \
             event_seq = a.event_seq + CASE WHEN $21::text IS NULL THEN 0 ELSE 1 END \
           WHERE a.id = $1::text AND a.status = ANY($2::text[]) \
             AND ($3::text IS NULL OR EXISTS \
                  (SELECT 1 FROM connection_requests r WHERE r.account_id = a.id AND r.state = $3::text)) \
             AND ($4::bytea IS NULL OR a.credentials_sealed = $4::bytea) \
           RETURNING a.* \
         ), ended AS ( \
           DELETE FROM connection_requests r USING updated u WHERE r.account_id = u.id AND $11::text = 'end' \
         ), replaced AS ( \
           INSERT INTO connection_requests ({REQUEST_COLS}) \
           SELECT $12::text, $13::text, $14::text, $15::text, $16::bytea, $17::text, $18::bigint, $19::bigint, $20::text \
           FROM updated WHERE $11::text = 'replace' \
           ON CONFLICT (account_id) DO UPDATE SET project_id = EXCLUDED.project_id, link_token = EXCLUDED.link_token, \
             state = EXCLUDED.state, pkce_verifier_sealed = EXCLUDED.pkce_verifier_sealed, \
             callback_url = EXCLUDED.callback_url, expires_at = EXCLUDED.expires_at, \
             consumed_at = EXCLUDED.consumed_at, kind = EXCLUDED.kind \
         ), evented AS ( \
           INSERT INTO webhook_events ({EVENT_COLS}) \
           SELECT $22::text, $21::text, u.event_seq, $10::bigint, {EVENT_ACCOUNT_COLS} FROM updated u WHERE $21::text IS NOT NULL \
         ) \
         SELECT {ACCOUNT_COLS}, {NOTIFY} FROM updated"
    )
}

#[async_trait]
impl Store for PostgresStore {
    async fn migrate(&self) -> Result<()> {
        let mut c = self.client().await?;
        migrations::run(&mut c).await
    }

    async fn insert_project(&self, p: &Project) -> Result<()> {
        let sql = format!("INSERT INTO projects ({PROJECT_COLS}) VALUES ($1, $2, $3, $4, $5)");
        let (urls, origins) = (json(&p.allowed_callback_urls), json(&p.allowed_origins));
        self.execute(&sql, &[&p.id, &p.name, &urls, &origins, &p.created_at]).await.map(drop)
    }

    async fn first_project(&self) -> Result<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLS} FROM projects ORDER BY created_at, id LIMIT 1");
        self.row(&sql, &[]).await?.as_ref().map(rows::project).transpose()
    }

    async fn get_project(&self, id: &str) -> Result<Option<Project>> {
        let sql = format!("SELECT {PROJECT_COLS} FROM projects WHERE id = $1");
        self.row(&sql, &[&id]).await?.as_ref().map(rows::project).transpose()
    }

    async fn set_allowed_callback_urls(&self, project_id: &str, urls: &[String]) -> Result<()> {
        self.execute("UPDATE projects SET allowed_callback_urls = $1 WHERE id = $2", &[&json(urls), &project_id]).await.map(drop)
    }

    async fn set_allowed_origins(&self, project_id: &str, origins: &[String]) -> Result<()> {
        self.execute("UPDATE projects SET allowed_origins = $1 WHERE id = $2", &[&json(origins), &project_id]).await.map(drop)
    }

    async fn all_allowed_origins(&self) -> Result<Vec<String>> {
        let lists = self.rows("SELECT allowed_origins FROM projects ORDER BY created_at, id", &[]).await?;
        let mut all = Vec::new();
        for row in &lists {
            all.extend(rows::origins(row)?);
        }
        Ok(all)
    }

    async fn insert_api_key(&self, k: &ApiKeyRecord) -> Result<()> {
        let sql = format!("INSERT INTO api_keys ({API_KEY_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
        self.execute(&sql, &[&k.id, &k.project_id, &k.name, &k.hash, &k.hint, &k.created_at, &k.revoked_at]).await.map(drop)
    }

    async fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>> {
        let sql = format!("SELECT {API_KEY_COLS} FROM api_keys WHERE hash = $1 AND revoked_at IS NULL");
        self.row(&sql, &[&hash]).await?.as_ref().map(rows::api_key).transpose()
    }

    async fn list_api_keys(&self, project_id: &str) -> Result<Vec<ApiKeyRecord>> {
        let sql = format!("SELECT {API_KEY_COLS} FROM api_keys WHERE project_id = $1 ORDER BY created_at DESC, id");
        self.rows(&sql, &[&project_id]).await?.iter().map(rows::api_key).collect()
    }

    async fn revoke_api_key(&self, project_id: &str, key_id: &str, now: i64) -> Result<bool> {
        // Two statements: the second takes its snapshot after the key's row lock, so a token
        // whose mint held that lock (`insert_client_token`) is committed and seen.
        let mut c = self.client().await?;
        let tx = c.transaction().await.map_err(db)?;
        let key = "UPDATE api_keys SET revoked_at = $1 WHERE project_id = $2 AND id = $3 AND revoked_at IS NULL";
        if tx.execute(key, &[&now, &project_id, &key_id]).await.map_err(db)? != 1 {
            return Ok(false);
        }
        let tokens = "UPDATE client_tokens SET revoked_at = $1 \
                      WHERE project_id = $2 AND revoked_at IS NULL AND (api_key_id = $3 OR api_key_id IS NULL)";
        tx.execute(tokens, &[&now, &project_id, &key_id]).await.map_err(db)?;
        let mcp = "UPDATE mcp_credentials SET revoked_at = $1 WHERE project_id = $2 AND revoked_at IS NULL AND api_key_id = $3";
        tx.execute(mcp, &[&now, &project_id, &key_id]).await.map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn insert_client_token(&self, t: &ClientTokenRecord) -> Result<()> {
        // Born revoked if its minting key was revoked first; `FOR SHARE` orders it with a
        // revocation in flight (see `revoke_api_key`).
        let sql = format!(
            "INSERT INTO client_tokens ({CLIENT_TOKEN_COLS}) \
             SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint, $6::bigint, \
               COALESCE($7::bigint, (SELECT revoked_at FROM api_keys WHERE id = $8::text FOR SHARE)), $8::text"
        );
        let params: [&(dyn ToSql + Sync); 8] =
            [&t.id, &t.project_id, &t.session_id, &t.hash, &t.created_at, &t.expires_at, &t.revoked_at, &t.api_key_id];
        self.execute(&sql, &params).await.map(drop)
    }

    async fn client_token_by_hash(&self, hash: &str) -> Result<Option<ClientTokenRecord>> {
        let sql = format!("SELECT {CLIENT_TOKEN_COLS} FROM client_tokens WHERE hash = $1");
        self.row(&sql, &[&hash]).await?.as_ref().map(rows::client_token).transpose()
    }

    async fn revoke_client_token(&self, project_id: &str, session_id: &str, token_id: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE client_tokens SET revoked_at = $1 \
                   WHERE project_id = $2 AND session_id = $3 AND id = $4 AND revoked_at IS NULL";
        Ok(self.execute(sql, &[&now, &project_id, &session_id, &token_id]).await? == 1)
    }

    async fn insert_mcp_credential(&self, m: &McpCredentialRecord) -> Result<()> {
        // Born revoked if its minting key was revoked first; `FOR SHARE` orders it with a
        // revocation in flight (see `revoke_api_key`).
        let sql = format!(
            "INSERT INTO mcp_credentials ({MCP_CREDENTIAL_COLS}) \
             SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::bigint, $7::bigint, \
               COALESCE($8::bigint, (SELECT revoked_at FROM api_keys WHERE id = $9::text FOR SHARE)), $9::text, $10::bigint"
        );
        let params: [&(dyn ToSql + Sync); 10] = [
            &m.id,
            &m.project_id,
            &m.session_id,
            &m.hash,
            &m.name,
            &m.created_at,
            &m.expires_at,
            &m.revoked_at,
            &m.api_key_id,
            &m.last_used_at,
        ];
        self.execute(&sql, &params).await.map(drop)
    }

    async fn mcp_credential_by_hash(&self, hash: &str) -> Result<Option<McpCredentialRecord>> {
        let sql = format!("SELECT {MCP_CREDENTIAL_COLS} FROM mcp_credentials WHERE hash = $1");
        self.row(&sql, &[&hash]).await?.as_ref().map(rows::mcp_credential).transpose()
    }

    async fn list_mcp_credentials(&self, project_id: &str, session_id: &str) -> Result<Vec<McpCredentialRecord>> {
        let sql = format!(
            "SELECT {MCP_CREDENTIAL_COLS} FROM mcp_credentials WHERE project_id = $1 AND session_id = $2 ORDER BY created_at DESC, id DESC"
        );
        self.rows(&sql, &[&project_id, &session_id]).await?.iter().map(rows::mcp_credential).collect()
    }

    async fn revoke_mcp_credential(&self, project_id: &str, session_id: &str, credential_id: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE mcp_credentials SET revoked_at = $1 \
                   WHERE project_id = $2 AND session_id = $3 AND id = $4 AND revoked_at IS NULL";
        Ok(self.execute(sql, &[&now, &project_id, &session_id, &credential_id]).await? == 1)
    }

    async fn touch_mcp_credential(&self, credential_id: &str, now: i64, since: i64) -> Result<()> {
        let sql = "UPDATE mcp_credentials SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)";
        self.execute(sql, &[&now, &credential_id, &since]).await.map(drop)
    }

    async fn insert_auth_config(&self, a: &AuthConfigRecord) -> Result<()> {
        let sql = format!("INSERT INTO auth_configs ({AUTH_CONFIG_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)");
        let scopes = json(&a.scopes);
        let params: [&(dyn ToSql + Sync); 10] = [
            &a.id,
            &a.project_id,
            &a.toolkit,
            &a.name,
            &a.auth_scheme,
            &a.client_id,
            &a.client_secret_sealed,
            &scopes,
            &a.is_disabled,
            &a.created_at,
        ];
        self.execute(&sql, &params).await.map(drop)
    }

    async fn get_auth_config(&self, project_id: &str, id: &str) -> Result<Option<AuthConfigRecord>> {
        let sql = format!("SELECT {AUTH_CONFIG_COLS} FROM auth_configs WHERE project_id = $1 AND id = $2");
        self.row(&sql, &[&project_id, &id]).await?.as_ref().map(rows::auth_config).transpose()
    }

    async fn insert_first_auth_config(&self, a: &AuthConfigRecord) -> Result<AuthConfigRecord> {
        // First uses of one toolkit in one project queue on this lock (across brokers); the
        // statement after it takes a fresh snapshot, so it sees the config the first one added.
        let lock = "SELECT pg_advisory_xact_lock(hashtextextended($1::text || '/' || $2::text, 0))";
        let sql = format!(
            "WITH existing AS ( \
               SELECT {AUTH_CONFIG_COLS} FROM auth_configs WHERE project_id = $2 AND toolkit = $3 AND NOT is_disabled \
               ORDER BY created_at DESC, id DESC LIMIT 1 \
             ), inserted AS ( \
               INSERT INTO auth_configs ({AUTH_CONFIG_COLS}) \
               SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::text, $7::bytea, $8::text, $9::boolean, $10::bigint \
               WHERE NOT EXISTS (SELECT 1 FROM existing) \
               RETURNING {AUTH_CONFIG_COLS} \
             ) \
             SELECT * FROM existing UNION ALL SELECT * FROM inserted"
        );
        let c = self.client().await?;
        let (lock, statement) =
            tokio::try_join!(c.prepare_cached(lock), c.prepare_cached(&sql)).map_err(db)?;
        let scopes = json(&a.scopes);
        let params: [&(dyn ToSql + Sync); 10] = [
            &a.id,
            &a.project_id,
            &a.toolkit,
            &a.name,
            &a.auth_scheme,
            &a.client_id,
            &a.client_secret_sealed,
            &scopes,
            &a.is_disabled,
            &a.created_at,
        ];
        let lock_params: [&(dyn ToSql + Sync); 2] = [&a.project_id, &a.toolkit];
        let (_, found) =
            pipelined(&c, async { tokio::try_join!(c.execute(&lock, &lock_params), c.query(&statement, &params)) }).await?;
        let row = found.first().ok_or_else(|| Error::Internal("the first auth config was neither found nor added".into()))?;
        rows::auth_config(row)
    }

    async fn default_auth_config(&self, project_id: &str, toolkit: &str) -> Result<Option<AuthConfigRecord>> {
        let sql = format!(
            "SELECT {AUTH_CONFIG_COLS} FROM auth_configs WHERE project_id = $1 AND toolkit = $2 AND NOT is_disabled \
             ORDER BY created_at DESC, id DESC LIMIT 1"
        );
        self.row(&sql, &[&project_id, &toolkit]).await?.as_ref().map(rows::auth_config).transpose()
    }

    async fn list_auth_configs(&self, project_id: &str) -> Result<Vec<AuthConfigRecord>> {
        let sql = format!("SELECT {AUTH_CONFIG_COLS} FROM auth_configs WHERE project_id = $1 ORDER BY created_at DESC, id DESC");
        self.rows(&sql, &[&project_id]).await?.iter().map(rows::auth_config).collect()
    }

    async fn insert_session(&self, s: &SessionRecord) -> Result<()> {
        let sql = format!("INSERT INTO sessions ({SESSION_COLS}) VALUES ($1, $2, $3, $4, $5)");
        let config = serde_json::to_string(&s.config).map_err(|e| Error::Internal(format!("session config: {e}")))?;
        let version = version(s.config.config_version)?;
        self.execute(&sql, &[&s.id, &s.project_id, &config, &version, &s.created_at]).await.map(drop)
    }

    async fn get_session(&self, project_id: &str, id: &str) -> Result<Option<SessionRecord>> {
        let sql = format!("SELECT {SESSION_COLS} FROM sessions WHERE project_id = $1 AND id = $2");
        self.row(&sql, &[&project_id, &id]).await?.as_ref().map(rows::session).transpose()
    }

    async fn update_session_config(&self, project_id: &str, id: &str, expected_version: u32, config: &SessionConfig) -> Result<bool> {
        let json = serde_json::to_string(config).map_err(|e| Error::Internal(format!("session config: {e}")))?;
        let (new, expected) = (version(config.config_version)?, version(expected_version)?);
        let sql = "UPDATE sessions SET config = $1, config_version = $2 \
                   WHERE project_id = $3 AND id = $4 AND config_version = $5";
        Ok(self.execute(sql, &[&json, &new, &project_id, &id, &expected]).await? == 1)
    }

    async fn delete_session(&self, project_id: &str, id: &str) -> Result<bool> {
        let sql = "WITH tokens AS (DELETE FROM client_tokens WHERE project_id = $1 AND session_id = $2), \
                   mcp AS (DELETE FROM mcp_credentials WHERE project_id = $1 AND session_id = $2), \
                   grants AS (DELETE FROM mcp_grants WHERE project_id = $1 AND session_id = $2) \
                   DELETE FROM sessions WHERE project_id = $1 AND id = $2";
        Ok(self.execute(sql, &[&project_id, &id]).await? == 1)
    }

    async fn insert_connection(&self, a: &AccountRecord, r: &ConnectionRequestRecord) -> Result<()> {
        let sql = format!(
            "WITH account AS ( \
               INSERT INTO accounts ({ACCOUNT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
               RETURNING id \
             ) \
             INSERT INTO connection_requests ({REQUEST_COLS}) \
             SELECT id, $14::text, $15::text, $16::text, $17::bytea, $18::text, $19::bigint, $20::bigint, $21::text FROM account"
        );
        if r.account_id != a.id {
            return Err(Error::Internal(format!("the request for {} was stored with the account {}", r.account_id, a.id)));
        }
        let params: [&(dyn ToSql + Sync); 21] = [
            &a.id,
            &a.project_id,
            &a.user_id,
            &a.toolkit,
            &a.auth_config_id,
            &a.auth_scheme,
            &a.alias,
            &a.status.as_str(),
            &a.status_reason,
            &a.is_disabled,
            &a.credentials_sealed,
            &a.created_at,
            &a.updated_at,
            &r.project_id,
            &r.link_token,
            &r.state,
            &r.pkce_verifier_sealed,
            &r.callback_url,
            &r.expires_at,
            &r.consumed_at,
            &r.kind.as_str(),
        ];
        self.execute(&sql, &params).await.map(drop)
    }

    async fn get_account(&self, project_id: &str, id: &str) -> Result<Option<AccountRecord>> {
        let sql = format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE project_id = $1 AND id = $2");
        self.row(&sql, &[&project_id, &id]).await?.as_ref().map(rows::account).transpose()
    }

    async fn list_accounts(&self, project_id: &str, filter: &AccountFilter, offset: u64, limit: u32)
        -> Result<(Vec<AccountRecord>, u64)> {
        if filter.shared_only {
            // Grantline has no shared accounts.
            return Ok((Vec::new(), 0));
        }
        let matching = "FROM accounts WHERE project_id = $1 \
             AND (cardinality($2::text[]) = 0 OR user_id = ANY($2::text[])) \
             AND (cardinality($3::text[]) = 0 OR toolkit = ANY($3::text[])) \
             AND (cardinality($4::text[]) = 0 OR status = ANY($4::text[])) \
             AND (cardinality($5::text[]) = 0 OR id = ANY($5::text[])) \
             AND (cardinality($6::text[]) = 0 OR auth_config_id = ANY($6::text[]))";
        let column = match filter.order_by {
            AccountOrder::CreatedAt => "created_at",
            AccountOrder::UpdatedAt => "updated_at",
        };
        let direction = if filter.ascending { "ASC" } else { "DESC" };
        let count_sql = format!("SELECT count(*) {matching}");
        let page_sql =
            format!("SELECT {ACCOUNT_COLS} {matching} ORDER BY {column} {direction}, id {direction} LIMIT $7 OFFSET $8");
        let statuses = strings(&filter.statuses);
        let (limit, offset) = (i64::from(limit), i64::try_from(offset).unwrap_or(i64::MAX));
        let c = self.client().await?;
        let (count, page) = tokio::try_join!(c.prepare_cached(&count_sql), c.prepare_cached(&page_sql)).map_err(db)?;
        let filters: [&(dyn ToSql + Sync); 6] =
            [&project_id, &filter.user_ids, &filter.toolkit_slugs, &statuses, &filter.ids, &filter.auth_config_ids];
        let mut page_params = filters.to_vec();
        page_params.extend([&limit as &(dyn ToSql + Sync), &offset]);
        // Both sent at once: one round trip.
        let (total, items) = tokio::try_join!(c.query_one(&count, &filters), c.query(&page, &page_params)).map_err(db)?;
        let total: i64 = total.try_get(0).map_err(db)?;
        let items = items.iter().map(rows::account).collect::<Result<Vec<_>>>()?;
        Ok((items, u64::try_from(total).unwrap_or(0)))
    }

    async fn user_accounts(&self, project_id: &str, user_id: &str) -> Result<Vec<AccountRecord>> {
        let sql = format!(
            "SELECT {ACCOUNT_COLS} FROM accounts WHERE project_id = $1 AND user_id = $2 AND NOT is_disabled \
             ORDER BY created_at DESC, id DESC"
        );
        self.rows(&sql, &[&project_id, &user_id]).await?.iter().map(rows::account).collect()
    }

    async fn set_account_disabled(&self, project_id: &str, id: &str, disabled: bool, now: i64) -> Result<bool> {
        let sql = format!(
            "WITH updated AS ( \
               UPDATE accounts SET is_disabled = $1, updated_at = $2 WHERE project_id = $3 AND id = $4 \
               RETURNING project_id, user_id, id \
             ) SELECT {NOTIFY} FROM updated"
        );
        Ok(!self.rows(&sql, &[&disabled, &now, &project_id, &id]).await?.is_empty())
    }

    async fn transition(&self, t: &Transition) -> Result<Option<AccountRecord>> {
        if t.guard.from.is_empty() {
            return Err(Error::Internal("a transition must name the statuses it applies from".into()));
        }
        let (set_status, status, reason) = match &t.status {
            Some((s, reason)) => (true, Some(s.as_str()), reason.as_deref()),
            None => (false, None, None),
        };
        let (credentials_mode, credentials) = match &t.credentials {
            CredentialsChange::Keep => ("keep", None),
            CredentialsChange::Set(sealed) => ("set", Some(sealed.as_slice())),
            CredentialsChange::Wipe => ("wipe", None),
        };
        let (request_mode, r) = match &t.request {
            RequestChange::Keep => ("keep", None),
            RequestChange::Replace(r) => ("replace", Some(r)),
            RequestChange::End => ("end", None),
        };
        if let Some(r) = r.filter(|r| r.account_id != t.account_id) {
            return Err(Error::Internal(format!("a transition of {} carries a request for {}", t.account_id, r.account_id)));
        }
        let from = strings(&t.guard.from);
        let guard_credentials = t.guard.credentials.as_deref();
        let request = (
            r.map(|r| r.account_id.as_str()),
            r.map(|r| r.project_id.as_str()),
            r.map(|r| r.link_token.as_str()),
            r.map(|r| r.state.as_str()),
            r.and_then(|r| r.pkce_verifier_sealed.as_deref()),
            r.and_then(|r| r.callback_url.as_deref()),
            r.map(|r| r.expires_at),
            r.and_then(|r| r.consumed_at),
            r.map(|r| r.kind.as_str()),
        );
        let event_kind = t.event.map(|e| e.as_str());
        let event_id = crate::engine::crypto::random::new_id("ev_")?;
        let params: [&(dyn ToSql + Sync); 22] = [
            &t.account_id,
            &from,
            &t.guard.request_state,
            &guard_credentials,
            &set_status,
            &status,
            &reason,
            &credentials_mode,
            &credentials,
            &t.now,
            &request_mode,
            &request.0,
            &request.1,
            &request.2,
            &request.3,
            &request.4,
            &request.5,
            &request.6,
            &request.7,
            &request.8,
            &event_kind,
            &event_id,
        ];
        let c = self.client().await?;
        let sql = transition_sql();
        let (lock, statement) = tokio::try_join!(c.prepare_cached(LOCK_ACCOUNT), c.prepare_cached(&sql)).map_err(db)?;
        let lock_params: [&(dyn ToSql + Sync); 1] = [&t.account_id];
        let (_, found) =
            pipelined(&c, async { tokio::try_join!(c.execute(&lock, &lock_params), c.query(&statement, &params)) }).await?;
        found.first().map(rows::account).transpose()
    }

    async fn delete_account(&self, project_id: &str, id: &str, now: i64) -> Result<bool> {
        // The connection request goes with it (ON DELETE CASCADE); the `deleted` event stays.
        let sql = format!(
            "WITH deleted AS (DELETE FROM accounts WHERE project_id = $1 AND id = $2 RETURNING *), \
             evented AS (INSERT INTO webhook_events ({EVENT_COLS}) \
               SELECT $3::text, '{deleted}', u.event_seq + 1, $4::bigint, {EVENT_ACCOUNT_COLS} FROM deleted u) \
             SELECT {NOTIFY} FROM deleted",
            deleted = crate::model::AccountEvent::Deleted.as_str()
        );
        let event_id = crate::engine::crypto::random::new_id("ev_")?;
        Ok(!self.rows(&sql, &[&project_id, &id, &event_id, &now]).await?.is_empty())
    }

    async fn request_by_link_token(&self, link_token: &str) -> Result<Option<ConnectionRequestRecord>> {
        let sql = format!("SELECT {REQUEST_COLS} FROM connection_requests WHERE link_token = $1");
        self.row(&sql, &[&link_token]).await?.as_ref().map(rows::request).transpose()
    }

    async fn request_by_account(&self, project_id: &str, account_id: &str) -> Result<Option<ConnectionRequestRecord>> {
        let sql = format!("SELECT {REQUEST_COLS} FROM connection_requests WHERE project_id = $1 AND account_id = $2");
        self.row(&sql, &[&project_id, &account_id]).await?.as_ref().map(rows::request).transpose()
    }

    async fn request_by_state(&self, state: &str) -> Result<Option<ConnectionRequestRecord>> {
        let sql = format!("SELECT {REQUEST_COLS} FROM connection_requests WHERE state = $1");
        self.row(&sql, &[&state]).await?.as_ref().map(rows::request).transpose()
    }

    async fn consume_request(&self, state: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE connection_requests SET consumed_at = $1 \
                   WHERE state = $2 AND consumed_at IS NULL AND expires_at > $1";
        Ok(self.execute(sql, &[&now, &state]).await? == 1)
    }

    async fn live_reconnects(&self, project_id: &str, now: i64) -> Result<Vec<String>> {
        let sql = "SELECT account_id FROM connection_requests \
                   WHERE project_id = $1 AND kind = 'reconnect' AND consumed_at IS NULL AND expires_at > $2 \
                   ORDER BY account_id";
        self.rows(sql, &[&project_id, &now]).await?.iter().map(rows::first_string).collect()
    }

    async fn due_links(&self, statuses: &[AccountStatus], now: i64, limit: u32) -> Result<Vec<DueLink>> {
        let sql = "SELECT r.account_id, r.state FROM connection_requests r JOIN accounts a ON a.id = r.account_id \
                   WHERE a.status = ANY($1) AND r.expires_at <= $2 \
                   ORDER BY r.expires_at, r.account_id LIMIT $3";
        self.rows(sql, &[&strings(statuses), &now, &i64::from(limit)]).await?.iter().map(rows::due_link).collect()
    }

    async fn acquire_lease(&self, name: &str, holder: &str, until: i64, now: i64) -> Result<bool> {
        let sql = "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at \
                   WHERE leases.expires_at <= $4 OR leases.holder = EXCLUDED.holder";
        Ok(self.execute(sql, &[&name, &holder, &until, &now]).await? == 1)
    }

    async fn release_lease(&self, name: &str, holder: &str) -> Result<()> {
        self.execute("DELETE FROM leases WHERE name = $1 AND holder = $2", &[&name, &holder]).await.map(drop)
    }

    async fn sealed_values(&self, column: SealedColumn, tag: &[u8], after: Option<&str>, limit: u32) -> Result<Vec<SealedValue>> {
        let (table, key, value) = (column.table(), column.key_column(), column.column());
        let sql = format!(
            "SELECT {key}, {value} FROM {table} \
             WHERE {value} IS NOT NULL AND substring({value} FROM 1 FOR $1::int) <> $2::bytea AND {key} > $3::text \
             ORDER BY {key} LIMIT $4::bigint"
        );
        let (len, after, limit) = (tag.len() as i32, after.unwrap_or_default(), i64::from(limit));
        let found = self.rows(&sql, &[&len, &tag, &after, &limit]).await?;
        Ok(found.iter().map(|r| SealedValue { key: r.get(0), sealed: r.get(1) }).collect())
    }

    async fn replace_sealed(&self, column: SealedColumn, values: &[Reseal]) -> Result<u64> {
        let (table, key, value) = (column.table(), column.key_column(), column.column());
        // One statement, so one transaction.
        let sql = format!(
            "UPDATE {table} t SET {value} = v.new \
             FROM unnest($1::text[], $2::bytea[], $3::bytea[]) AS v(key, old, new) \
             WHERE t.{key} = v.key AND t.{value} = v.old"
        );
        let keys: Vec<&str> = values.iter().map(|v| v.key.as_str()).collect();
        let old: Vec<&[u8]> = values.iter().map(|v| v.old.as_slice()).collect();
        let new: Vec<&[u8]> = values.iter().map(|v| v.new.as_slice()).collect();
        self.execute(&sql, &[&keys, &old, &new]).await
    }

    fn subscribe_changes(&self) -> broadcast::Receiver<StoreChange> {
        self.inner.feed.subscribe()
    }

    async fn insert_execution_log(&self, l: &ExecutionLogRecord) -> Result<()> {
        let sql = format!("INSERT INTO execution_logs ({LOG_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)");
        self.execute(
            &sql,
            &[
                &l.id,
                &l.project_id,
                &l.session_id,
                &l.user_id,
                &l.account_id,
                &l.toolkit,
                &l.tool_slug,
                &l.successful,
                &l.error_code,
                &l.error_message,
                &l.provider_status,
                &l.duration_ms,
                &l.created_at,
            ],
        )
        .await
        .map(drop)
    }

    async fn get_execution_log(&self, project_id: &str, id: &str) -> Result<Option<ExecutionLogRecord>> {
        let sql = format!("SELECT {LOG_COLS} FROM execution_logs WHERE project_id = $1 AND id = $2");
        self.row(&sql, &[&project_id, &id]).await?.as_ref().map(rows::execution_log).transpose()
    }

    async fn list_execution_logs(&self, project_id: &str, filter: &LogFilter, offset: u64, limit: u32)
        -> Result<(Vec<ExecutionLogRecord>, u64)> {
        let matching = "FROM execution_logs WHERE project_id = $1 \
             AND ($2::text IS NULL OR user_id = $2) AND ($3::text IS NULL OR account_id = $3) AND ($4::text IS NULL OR toolkit = $4)";
        let count_sql = format!("SELECT count(*) {matching}");
        let page_sql = format!("SELECT {LOG_COLS} {matching} ORDER BY created_at DESC, id DESC LIMIT $5 OFFSET $6");
        let (limit, offset) = (i64::from(limit), i64::try_from(offset).unwrap_or(i64::MAX));
        let c = self.client().await?;
        let (count, page) = tokio::try_join!(c.prepare_cached(&count_sql), c.prepare_cached(&page_sql)).map_err(db)?;
        let filters: [&(dyn ToSql + Sync); 4] = [&project_id, &filter.user_id, &filter.account_id, &filter.toolkit];
        let mut page_params = filters.to_vec();
        page_params.extend([&limit as &(dyn ToSql + Sync), &offset]);
        // Both sent at once: one round trip.
        let (total, items) = tokio::try_join!(c.query_one(&count, &filters), c.query(&page, &page_params)).map_err(db)?;
        let total: i64 = total.try_get(0).map_err(db)?;
        let items = items.iter().map(rows::execution_log).collect::<Result<Vec<_>>>()?;
        Ok((items, u64::try_from(total).unwrap_or(0)))
    }

    async fn purge(&self, before: &PurgeBefore) -> Result<Purged> {
        // One statement: one transaction. A purged account's request goes by ON DELETE CASCADE.
        let sql = "WITH gone AS (DELETE FROM accounts WHERE status IN ('FAILED', 'EXPIRED') AND updated_at < $3 RETURNING id), \
             links AS (DELETE FROM connection_requests WHERE (expires_at < $1 OR consumed_at < $1) \
               AND account_id IN (SELECT id FROM accounts WHERE status NOT IN ('INITIATED', 'INITIALIZING')) \
               AND account_id NOT IN (SELECT id FROM gone) RETURNING account_id), \
             flows AS (DELETE FROM user_verifications WHERE expires_at < $1 RETURNING id_hash), \
             tokens AS (DELETE FROM client_tokens WHERE expires_at < $2 OR revoked_at < $2 RETURNING id), \
             mcp AS (DELETE FROM mcp_credentials WHERE expires_at < $6 OR revoked_at < $6 RETURNING id), \
             events AS (DELETE FROM webhook_events WHERE dispatched_at < $4 RETURNING id), \
             deliveries AS (DELETE FROM webhook_deliveries WHERE status <> 'PENDING' AND finished_at < $4 RETURNING id), \
             logs AS (DELETE FROM execution_logs WHERE created_at < $5 RETURNING id), \
             clients AS (DELETE FROM mcp_clients WHERE (kind = 'registered' AND created_at < $7 \
               AND client_id NOT IN (SELECT client_id FROM mcp_grants WHERE expires_at >= $7)) \
               OR (kind = 'metadata_document' AND expires_at < $7) RETURNING client_id), \
             grants AS (DELETE FROM mcp_grants WHERE expires_at < $7 RETURNING hash) \
             SELECT (SELECT count(*) FROM links) + (SELECT count(*) FROM flows), (SELECT count(*) FROM tokens), (SELECT count(*) FROM gone), \
               (SELECT count(*) FROM events) + (SELECT count(*) FROM deliveries), (SELECT count(*) FROM logs), \
               (SELECT count(*) FROM mcp), (SELECT count(*) FROM clients) + (SELECT count(*) FROM grants)";
        let params: [&(dyn ToSql + Sync); 7] =
            [&before.links, &before.client_tokens, &before.accounts, &before.webhooks, &before.logs, &before.mcp_credentials, &before.mcp_logins];
        let row = self.row(sql, &params).await?;
        let count = |i: usize| row.as_ref().map_or(0, |r| r.get::<_, i64>(i) as u64);
        Ok(Purged { links: count(0), client_tokens: count(1), mcp_credentials: count(5), mcp_logins: count(6), accounts: count(2), webhooks: count(3), logs: count(4) })
    }

    fn change_feed_connected(&self) -> Option<bool> {
        Some(self.inner.listener.connected())
    }

    async fn insert_webhook_subscription(&self, w: &WebhookSubscriptionRecord) -> Result<()> {
        let sql = format!("INSERT INTO webhook_subscriptions ({SUBSCRIPTION_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
        let events = json(&w.enabled_events);
        let params: [&(dyn ToSql + Sync); 8] =
            [&w.id, &w.project_id, &w.url, &w.version, &events, &w.secret_sealed, &w.created_at, &w.updated_at];
        self.execute(&sql, &params).await.map(drop)
    }

    async fn get_webhook_subscription(&self, project_id: &str, id: &str) -> Result<Option<WebhookSubscriptionRecord>> {
        let sql = format!("SELECT {SUBSCRIPTION_COLS} FROM webhook_subscriptions WHERE project_id = $1 AND id = $2");
        self.row(&sql, &[&project_id, &id]).await?.as_ref().map(rows::subscription).transpose()
    }

    async fn list_webhook_subscriptions(&self, project_id: &str) -> Result<Vec<WebhookSubscriptionRecord>> {
        let sql = format!("SELECT {SUBSCRIPTION_COLS} FROM webhook_subscriptions WHERE project_id = $1 ORDER BY created_at, id");
        self.rows(&sql, &[&project_id]).await?.iter().map(rows::subscription).collect()
    }

    async fn update_webhook_subscription(&self, w: &WebhookSubscriptionRecord) -> Result<bool> {
        let sql = "UPDATE webhook_subscriptions SET url = $1, version = $2, enabled_events = $3, secret_sealed = $4, updated_at = $5 \
                   WHERE project_id = $6 AND id = $7";
        let events = json(&w.enabled_events);
        let params: [&(dyn ToSql + Sync); 7] = [&w.url, &w.version, &events, &w.secret_sealed, &w.updated_at, &w.project_id, &w.id];
        Ok(self.execute(sql, &params).await? == 1)
    }

    async fn delete_webhook_subscription(&self, project_id: &str, id: &str) -> Result<bool> {
        // Its deliveries and their attempts go by ON DELETE CASCADE.
        Ok(self.execute("DELETE FROM webhook_subscriptions WHERE project_id = $1 AND id = $2", &[&project_id, &id]).await? == 1)
    }

    async fn undispatched_events(&self, limit: u32) -> Result<Vec<WebhookEventRecord>> {
        let sql = format!(
            "SELECT {EVENT_COLS} FROM webhook_events WHERE dispatched_at IS NULL ORDER BY created_at, sequence, id LIMIT $1::bigint"
        );
        self.rows(&sql, &[&i64::from(limit)]).await?.iter().map(rows::event).collect()
    }

    async fn dispatch_events(&self, event_ids: &[String], deliveries: &[NewDelivery], now: i64) -> Result<()> {
        // One statement (one transaction): the deliveries as arrays, unnested.
        let sql = format!(
            "WITH written AS ( \
               INSERT INTO webhook_deliveries ({DELIVERY_COLS}) \
               SELECT d.id, d.project_id, d.subscription_id, d.event_id, d.account_id, d.sequence, d.event_type, d.payload, \
                 d.created_at, 'PENDING', 0, d.created_at \
               FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::bigint[]) \
                 AS d(id, project_id, subscription_id, event_id, account_id, sequence, event_type, payload, created_at) \
               ON CONFLICT (subscription_id, event_id, event_type) DO NOTHING RETURNING 1 \
             ) UPDATE webhook_events SET dispatched_at = $10 WHERE id = ANY($11::text[]) AND dispatched_at IS NULL"
        );
        let col = |f: fn(&NewDelivery) -> String| deliveries.iter().map(f).collect::<Vec<String>>();
        let (ids, projects, subscriptions, events) =
            (col(|d| d.id.clone()), col(|d| d.project_id.clone()), col(|d| d.subscription_id.clone()), col(|d| d.event_id.clone()));
        let (accounts, types, payloads) = (col(|d| d.account_id.clone()), col(|d| d.event_type.clone()), col(|d| d.payload.clone()));
        let sequences: Vec<i64> = deliveries.iter().map(|d| d.sequence as i64).collect();
        let created: Vec<i64> = deliveries.iter().map(|d| d.created_at).collect();
        let params: [&(dyn ToSql + Sync); 11] =
            [&ids, &projects, &subscriptions, &events, &accounts, &sequences, &types, &payloads, &created, &now, &event_ids];
        self.execute(&sql, &params).await.map(drop)
    }

    async fn claim_deliveries(&self, holder: &str, now: i64, until: i64, limit: u32) -> Result<Vec<DeliveryRecord>> {
        // SKIP LOCKED: brokers claiming at once each take different deliveries.
        let sql = format!(
            "WITH due AS ( \
               SELECT d.id FROM webhook_deliveries d \
               WHERE d.status = 'PENDING' AND d.next_attempt_at <= $1 AND (d.lease_until IS NULL OR d.lease_until <= $1) \
                 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.subscription_id = d.subscription_id \
                   AND p.account_id = d.account_id AND p.sequence < d.sequence AND p.status = 'PENDING') \
                 AND NOT EXISTS (SELECT 1 FROM webhook_events e WHERE e.account_id = d.account_id \
                   AND e.sequence < d.sequence AND e.dispatched_at IS NULL) \
               ORDER BY d.next_attempt_at, d.sequence, d.id LIMIT $2::bigint FOR UPDATE SKIP LOCKED \
             ) UPDATE webhook_deliveries w SET lease_holder = $3, lease_until = $4 FROM due WHERE w.id = due.id \
             RETURNING {}",
            DELIVERY_COLS.split(", ").map(|c| format!("w.{c}")).collect::<Vec<_>>().join(", ")
        );
        let found = self.rows(&sql, &[&now, &i64::from(limit), &holder, &until]).await?;
        let mut claimed = found.iter().map(rows::delivery).collect::<Result<Vec<_>>>()?;
        claimed.sort_by(|x, y| (x.next_attempt_at, x.delivery.sequence, &x.delivery.id).cmp(&(y.next_attempt_at, y.delivery.sequence, &y.delivery.id)));
        Ok(claimed)
    }

    async fn finish_attempt(&self, delivery_id: &str, holder: &str, a: &AttemptRecord, next: DeliveryNext) -> Result<bool> {
        let (status, next_at, finished) = next.stored(a.at);
        let status = status.as_str();
        let sql = format!(
            "WITH updated AS ( \
               UPDATE webhook_deliveries SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), finished_at = $3, \
                 attempts = attempts + 1, lease_holder = NULL, lease_until = NULL WHERE id = $4 AND lease_holder = $5 RETURNING id \
             ), recorded AS ( \
               INSERT INTO webhook_attempts (delivery_id, {ATTEMPT_COLS}) SELECT id, $6, $7, $8, $9, $10 FROM updated RETURNING 1 \
             ) SELECT count(*) FROM recorded"
        );
        let (attempt, code, latency) = (a.attempt as i32, a.status_code.map(i32::from), a.latency_ms as i64);
        let params: [&(dyn ToSql + Sync); 10] = [&status, &next_at, &finished, &delivery_id, &holder, &attempt, &a.at, &code, &latency, &a.error];
        let row = self.row(&sql, &params).await?;
        Ok(row.is_some_and(|r| r.get::<_, i64>(0) == 1))
    }

    async fn list_deliveries(&self, project_id: &str, subscription_id: &str, offset: u64, limit: u32)
        -> Result<(Vec<(DeliveryRecord, Vec<AttemptRecord>)>, u64)> {
        let count = "SELECT count(*) FROM webhook_deliveries WHERE project_id = $1 AND subscription_id = $2";
        let total: i64 = self.row(count, &[&project_id, &subscription_id]).await?.map_or(0, |r| r.get(0));
        let sql = format!(
            "SELECT {DELIVERY_COLS} FROM webhook_deliveries WHERE project_id = $1 AND subscription_id = $2 \
             ORDER BY created_at DESC, sequence DESC, id DESC LIMIT $3::bigint OFFSET $4::bigint"
        );
        let (offset, limit) = (offset as i64, i64::from(limit));
        let page = self.rows(&sql, &[&project_id, &subscription_id, &limit, &offset]).await?;
        let page = page.iter().map(rows::delivery).collect::<Result<Vec<_>>>()?;
        let ids: Vec<String> = page.iter().map(|d| d.delivery.id.clone()).collect();
        let sql = format!("SELECT {ATTEMPT_COLS}, delivery_id FROM webhook_attempts WHERE delivery_id = ANY($1) ORDER BY delivery_id, attempt");
        let attempts = self.rows(&sql, &[&ids]).await?;
        let mut out = Vec::with_capacity(page.len());
        for d in page {
            let mine =
                attempts.iter().filter(|r| r.get::<_, String>(5) == d.delivery.id).map(rows::attempt).collect::<Result<Vec<_>>>()?;
            out.push((d, mine));
        }
        Ok((out, total as u64))
    }

    async fn retry_delivery(&self, project_id: &str, subscription_id: &str, delivery_id: &str, now: i64) -> Result<bool> {
        let sql = "UPDATE webhook_deliveries SET status = 'PENDING', next_attempt_at = $1, finished_at = NULL \
                   WHERE project_id = $2 AND subscription_id = $3 AND id = $4";
        Ok(self.execute(sql, &[&now, &project_id, &subscription_id, &delivery_id]).await? == 1)
    }

    async fn account_events(&self, project_id: &str, account_id: &str, limit: u32) -> Result<Vec<WebhookEventRecord>> {
        let sql = format!(
            "SELECT {EVENT_COLS} FROM webhook_events WHERE project_id = $1 AND account_id = $2 ORDER BY sequence DESC LIMIT $3::bigint"
        );
        self.rows(&sql, &[&project_id, &account_id, &i64::from(limit)]).await?.iter().map(rows::event).collect()
    }

    async fn pending_deliveries(&self) -> Result<u64> {
        let row = self.row("SELECT count(*) FROM webhook_deliveries WHERE status = 'PENDING'", &[]).await?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
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
        self.verification_by_hash(id_hash).await
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

    async fn insert_sandbox_grant(&self, g: &SandboxGrant, cap: u32) -> Result<()> {
        // Expired grants go, then (among the live ones of its kind) all but the newest `cap - 1`.
        let sql = format!(
            "WITH expired AS (DELETE FROM sandbox_grants WHERE expires_at <= $8), \
             over_cap AS (DELETE FROM sandbox_grants WHERE hash IN \
               (SELECT hash FROM sandbox_grants WHERE expires_at > $8 AND kind = $2 ORDER BY created_at DESC, hash DESC OFFSET $10)) \
             INSERT INTO sandbox_grants ({SANDBOX_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        );
        let keep = i64::from(cap.saturating_sub(1));
        let params: [&(dyn ToSql + Sync); 10] = [
            &g.hash,
            &g.kind.as_str(),
            &g.family,
            &g.user,
            &g.scope,
            &g.redirect_uri,
            &g.code_challenge,
            &g.created_at,
            &g.expires_at,
            &keep,
        ];
        self.execute(&sql, &params).await.map(drop)
    }

    async fn take_sandbox_grant(&self, kind: SandboxGrantKind, hash: &str, now: i64) -> Result<Option<SandboxGrant>> {
        let sql = format!(
            "DELETE FROM sandbox_grants WHERE hash = $1 AND kind = $2 AND expires_at > $3 RETURNING {SANDBOX_COLS}"
        );
        self.row(&sql, &[&hash, &kind.as_str(), &now]).await?.as_ref().map(rows::sandbox_grant).transpose()
    }

    async fn sandbox_grant(&self, kind: SandboxGrantKind, hash: &str, now: i64) -> Result<Option<SandboxGrant>> {
        let sql = format!("SELECT {SANDBOX_COLS} FROM sandbox_grants WHERE hash = $1 AND kind = $2 AND expires_at > $3");
        self.row(&sql, &[&hash, &kind.as_str(), &now]).await?.as_ref().map(rows::sandbox_grant).transpose()
    }

    async fn revoke_sandbox_family(&self, family: &str) -> Result<u64> {
        self.execute("DELETE FROM sandbox_grants WHERE family = $1", &[&family]).await
    }

    async fn put_mcp_client(&self, m: &McpClientRecord) -> Result<()> {
        let sql = format!(
            "INSERT INTO mcp_clients ({MCP_CLIENT_COLS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (client_id) DO UPDATE \
             SET kind = EXCLUDED.kind, metadata = EXCLUDED.metadata, created_at = EXCLUDED.created_at, expires_at = EXCLUDED.expires_at"
        );
        self.execute(&sql, &[&m.client_id, &m.kind.as_str(), &m.metadata, &m.created_at, &m.expires_at]).await.map(drop)
    }

    async fn mcp_client(&self, client_id: &str) -> Result<Option<McpClientRecord>> {
        let sql = format!("SELECT {MCP_CLIENT_COLS} FROM mcp_clients WHERE client_id = $1");
        self.row(&sql, &[&client_id]).await?.as_ref().map(rows::mcp_client).transpose()
    }

    async fn count_mcp_clients_since(&self, kind: McpClientKind, since: i64) -> Result<u64> {
        let row = self.row("SELECT count(*) FROM mcp_clients WHERE kind = $1 AND created_at >= $2", &[&kind.as_str(), &since]).await?;
        Ok(row.map_or(0, |r| r.get::<_, i64>(0) as u64))
    }

    async fn insert_mcp_grant(&self, g: &McpGrant, cap: u32) -> Result<()> {
        // Expired rows go, then (among the live ones of its kind) all but the newest `cap - 1`.
        let sql = format!(
            "WITH expired AS (DELETE FROM mcp_grants WHERE expires_at <= $13), \
             over_cap AS (DELETE FROM mcp_grants WHERE hash IN \
               (SELECT hash FROM mcp_grants WHERE expires_at > $13 AND kind = $2 ORDER BY created_at DESC, hash DESC OFFSET $16)) \
             INSERT INTO mcp_grants ({MCP_GRANT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        );
        let keep = i64::from(cap.saturating_sub(1));
        let params: [&(dyn ToSql + Sync); 16] = [
            &g.hash,
            &g.kind.as_str(),
            &g.family,
            &g.project_id,
            &g.session_id,
            &g.client_id,
            &g.resource,
            &g.scope,
            &g.redirect_uri,
            &g.code_challenge,
            &g.state,
            &g.csrf_hash,
            &g.created_at,
            &g.expires_at,
            &g.used_at,
            &keep,
        ];
        self.execute(&sql, &params).await.map(drop)
    }

    async fn use_mcp_grant(&self, kind: McpGrantKind, hash: &str, now: i64) -> Result<Option<McpGrant>> {
        // The row as it was before: `used_at` is set by this statement only when it was NULL.
        let sql = format!(
            "UPDATE mcp_grants SET used_at = $3 WHERE hash = $1 AND kind = $2 AND expires_at > $3 AND used_at IS NULL \
             RETURNING {MCP_GRANT_COLS}"
        );
        let found = self.row(&sql, &[&hash, &kind.as_str(), &now]).await?.as_ref().map(rows::mcp_grant).transpose()?;
        Ok(found.map(|g| McpGrant { used_at: None, ..g }))
    }

    async fn mcp_grant(&self, kind: McpGrantKind, hash: &str, now: i64) -> Result<Option<McpGrant>> {
        let sql = format!("SELECT {MCP_GRANT_COLS} FROM mcp_grants WHERE hash = $1 AND kind = $2 AND expires_at > $3");
        self.row(&sql, &[&hash, &kind.as_str(), &now]).await?.as_ref().map(rows::mcp_grant).transpose()
    }

    async fn revoke_mcp_family(&self, family: &str) -> Result<u64> {
        self.execute("DELETE FROM mcp_grants WHERE family = $1", &[&family]).await
    }
}

/// A session config version as the INTEGER column holds it.
fn version(v: u32) -> Result<i32> {
    i32::try_from(v).map_err(|_| Error::Internal(format!("session config version {v} is past the column's range")))
}
