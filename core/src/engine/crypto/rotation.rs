//! Rotating the encryption key: every value the vault sealed, re-sealed with the keyring's
//! current key (`grantline encryption rotate`).
//!
//! A rotation walks each sealed column in batches of rows; a batch is read, re-sealed and
//! written back in one transaction, each value compare-and-set on the bytes read, so a value a
//! broker changed meanwhile (a token refresh, a reconnect) is never overwritten and nothing is
//! lost. An account's tokens are re-sealed only while the rotation holds the account's refresh
//! lease, so a refresh in flight cannot find its compare-and-set broken by the rotation and drop
//! the provider's new tokens: such accounts are skipped and taken in the next pass. Passes repeat
//! until one finds nothing sealed with another key: then the rotation is done and the old keys
//! can leave the keyring. Interrupted, it loses nothing; run again, it goes on from what is left.

use std::time::Duration;

use futures_util::future::join_all;

use crate::engine::store::{Reseal, SealedColumn, SealedValue};
use crate::engine::{clock, secrets, Engine};
use crate::{Error, Result};

/// The lease a token refresh of an account holds (named as `provider/credentials.rs` names it).
fn refresh_lease(account_id: &str) -> String {
    format!("refresh:{account_id}")
}

/// How long the rotation holds an account's refresh lease (it gives it back after its batch's
/// write; a killed rotation blocks refreshes no longer than this).
const LEASE_MS: i64 = 30_000;

/// Passes after which values still sealed with another key mean a broker keeps sealing with it.
const MAX_PASSES: u32 = 20;

/// What one batch did (passed to the progress callback).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationBatch {
    /// The column the batch was read from.
    pub column: SealedColumn,
    /// The pass (from 1): a pass walks every column once.
    pub pass: u32,
    /// Values re-sealed by this batch.
    pub resealed: u64,
    /// Values left for the next pass: changed since they were read, or their account was
    /// being refreshed.
    pub skipped: u64,
    /// Values re-sealed so far, this batch included.
    pub total_resealed: u64,
}

/// How a rotation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotationReport {
    /// The key every value is now sealed with.
    pub current_key_id: String,
    /// Values re-sealed.
    pub resealed: u64,
    /// Batches written.
    pub batches: u64,
    /// Whether no value sealed with another key remains (false when stopped by `max_batches`).
    pub done: bool,
}

impl Engine {
    /// The ids of the keyring's keys, the current one first (never the keys).
    pub fn encryption_key_ids(&self) -> Vec<String> {
        self.vault.key_ids().into_iter().map(String::from).collect()
    }

    /// Re-seals every sealed value with the current key, `batch_size` rows a transaction,
    /// calling `on_batch` after each batch; stops early (not done) after `max_batches` batches.
    /// Values sealed with a key missing from the keyring stop the rotation with an error naming
    /// the row (nothing of that batch is written).
    pub async fn rotate_encryption_key(
        &self,
        batch_size: u32,
        max_batches: Option<u64>,
        mut on_batch: impl FnMut(&RotationBatch),
    ) -> Result<RotationReport> {
        if batch_size == 0 {
            return Err(Error::validation("batch_size", "must be at least 1"));
        }
        let tag = self.vault.current_tag();
        let mut report = RotationReport { current_key_id: self.vault.current_key_id().to_string(), resealed: 0, batches: 0, done: false };
        for pass in 1..=MAX_PASSES {
            let (mut found_in_pass, mut skipped_in_pass) = (0u64, 0u64);
            for column in SealedColumn::ALL {
                let mut after: Option<String> = None;
                loop {
                    if max_batches.is_some_and(|max| report.batches >= max) {
                        return Ok(report);
                    }
                    let found = self.store.sealed_values(column, &tag, after.as_deref(), batch_size).await?;
                    let Some(last) = found.last() else { break };
                    after = Some(last.key.clone());
                    found_in_pass += found.len() as u64;
                    let resealed = self.reseal_batch(column, &found).await?;
                    let skipped = found.len() as u64 - resealed;
                    skipped_in_pass += skipped;
                    report.resealed += resealed;
                    report.batches += 1;
                    on_batch(&RotationBatch { column, pass, resealed, skipped, total_resealed: report.resealed });
                    if found.len() < batch_size as usize {
                        break;
                    }
                }
            }
            if found_in_pass == 0 {
                report.done = true;
                return Ok(report);
            }
            if skipped_in_pass > 0 {
                // Refreshes in flight: give them a moment to finish.
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        Err(Error::Conflict(format!(
            "after {MAX_PASSES} passes, values sealed with another key than `{}` keep appearing: give every broker the new \
             keyring (the new key first), restart them, then run the rotation again",
            report.current_key_id
        )))
    }

    /// Re-seals one batch; how many values were replaced.
    async fn reseal_batch(&self, column: SealedColumn, found: &[SealedValue]) -> Result<u64> {
        let mut reseals = Vec::with_capacity(found.len());
        for v in found {
            let new = self.vault.reseal(&v.key, &v.sealed).map_err(|e| {
                Error::validation("encryption_keys", format!("{column} of {} cannot be re-sealed: {e}; add the key that sealed it to the keyring", v.key))
            })?;
            reseals.push(Reseal { key: v.key.clone(), old: v.sealed.clone(), new });
        }
        if column != SealedColumn::AccountCredentials {
            return self.store.replace_sealed(column, &reseals).await;
        }
        // Tokens: only those of accounts whose refresh lease this rotation holds.
        let holder = format!("rotation-{}", secrets::random_token(12)?);
        let now = clock::now_ms();
        let leases: Vec<String> = reseals.iter().map(|r| refresh_lease(&r.key)).collect();
        let taken = join_all(leases.iter().map(|l| self.store.acquire_lease(l, &holder, now + LEASE_MS, now))).await;
        let mut held = Vec::with_capacity(reseals.len());
        let mut failure = None;
        for (r, t) in reseals.into_iter().zip(taken) {
            match t {
                Ok(true) => held.push(r),
                Ok(false) => {}
                Err(e) => failure = Some(e),
            }
        }
        let written = match failure {
            Some(e) => Err(e),
            None => self.store.replace_sealed(column, &held).await,
        };
        let leases: Vec<String> = held.iter().map(|r| refresh_lease(&r.key)).collect();
        for (r, released) in held.iter().zip(join_all(leases.iter().map(|l| self.store.release_lease(l, &holder))).await) {
            if let Err(e) = released {
                tracing::warn!(account = %r.key, error = %e, "refresh lease not released; it expires on its own");
            }
        }
        written
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::catalog::Catalog;
    use crate::engine::store::{AccountRecord, AuthConfigRecord, ConnectionRequestRecord, Project, RequestKind, SqliteStore, Store};
    use crate::engine::vault::Vault;
    use crate::engine::EngineConfig;
    use crate::model::AccountStatus;

    const ACCOUNTS: usize = 7;

    /// A store holding what a broker sealed with `old`: auth configs' secrets, accounts' tokens
    /// (one from before key ids) and their links' PKCE verifiers.
    async fn store_sealed_with(dir: &tempfile::TempDir, old: &Vault) -> Arc<dyn Store> {
        let store: Arc<dyn Store> = Arc::new(SqliteStore::open(dir.path().join("r.db")).unwrap());
        store.migrate().await.unwrap();
        store.insert_project(&Project { id: "pr_1".into(), name: "p".into(), allowed_callback_urls: vec![], allowed_origins: vec![], created_at: 1 }).await.unwrap();
        for i in 0..3 {
            let id = format!("ac_{i}");
            let config = AuthConfigRecord {
                client_secret_sealed: Some(old.seal(&id, format!("secret {i}").as_bytes()).unwrap()),
                id,
                project_id: "pr_1".into(),
                toolkit: format!("t{i}"),
                name: None,
                auth_scheme: "OAUTH2".into(),
                client_id: Some("c".into()),
                scopes: vec![],
                is_disabled: false,
                created_at: i,
            };
            store.insert_auth_config(&config).await.unwrap();
        }
        for i in 0..ACCOUNTS {
            let id = format!("ca_{i}");
            let account = AccountRecord {
                credentials_sealed: Some(old.seal(&id, format!("tokens {i}").as_bytes()).unwrap()),
                id: id.clone(),
                project_id: "pr_1".into(),
                user_id: "u".into(),
                toolkit: "t0".into(),
                auth_config_id: "ac_0".into(),
                auth_scheme: "OAUTH2".into(),
                alias: None,
                status: AccountStatus::Active,
                status_reason: None,
                is_disabled: false,
                created_at: 1,
                updated_at: 1,
            };
            let request = ConnectionRequestRecord {
                pkce_verifier_sealed: Some(old.seal(&id, format!("verifier {i}").as_bytes()).unwrap()),
                account_id: id.clone(),
                project_id: "pr_1".into(),
                link_token: format!("ln_{i}"),
                state: format!("st_{i}"),
                callback_url: None,
                expires_at: i64::MAX,
                consumed_at: None,
                kind: RequestKind::Connect,
            };
            store.insert_connection(&account, &request).await.unwrap();
        }
        store
    }

    /// Every sealed value, opened with `vault` (panics naming one that does not open).
    async fn open_all(store: &Arc<dyn Store>, vault: &Vault) -> Vec<String> {
        let mut plain = vec![];
        for column in SealedColumn::ALL {
            // No value begins with 0xff: this lists them all.
            for v in store.sealed_values(column, &[0xff], None, 1000).await.unwrap() {
                let opened = vault.open(&v.key, &v.sealed).unwrap_or_else(|e| panic!("{column} of {}: {e}", v.key));
                plain.push(String::from_utf8(opened).unwrap());
            }
        }
        plain.sort();
        plain
    }

    async fn engine(store: Arc<dyn Store>, vault: Vault) -> Engine {
        Engine::new(store, vault, Catalog::builtin(), EngineConfig::new(url::Url::parse("http://127.0.0.1:1").unwrap())).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_interrupted_rotation_resumes_and_every_value_then_opens_with_the_new_key_alone() {
        let (k1, k2) = (Vault::generate_key().unwrap(), Vault::generate_key().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let old = Vault::from_base64(&k1).unwrap();
        let store = store_sealed_with(&dir, &old).await;
        let before = open_all(&store, &old).await;
        assert_eq!(before.len(), 3 + 2 * ACCOUNTS);
        let new_only = Vault::from_keyring(&format!("k2:{k2}")).unwrap();
        assert!(store.sealed_values(SealedColumn::AccountCredentials, &[0xff], None, 1).await.map(|v| new_only.open(&v[0].key, &v[0].sealed).is_err()).unwrap());

        let ring = Vault::from_keyring(&format!("k2:{k2},default:{k1}")).unwrap();
        let engine = engine(store.clone(), ring.clone()).await;
        // Stopped after one batch (as a killed rotation would be, its batch committed or not).
        let mut seen = vec![];
        let first = engine.rotate_encryption_key(3, Some(1), |b| seen.push(b.clone())).await.unwrap();
        assert_eq!((first.done, first.batches, first.resealed), (false, 1, 3));
        assert_eq!(seen[0].column, SealedColumn::AccountCredentials);
        assert_eq!(open_all(&store, &ring).await, before, "the old key still opens what is left");
        assert!(open_all_with(&store, &new_only).await < before.len(), "not done yet");

        let rest = engine.rotate_encryption_key(3, None, |_| {}).await.unwrap();
        assert!(rest.done);
        assert_eq!(rest.resealed, (before.len() - 3) as u64, "the rest, once each");
        assert_eq!(open_all(&store, &new_only).await, before, "everything opens with the new key alone");
        let again = engine.rotate_encryption_key(3, None, |_| {}).await.unwrap();
        assert_eq!((again.done, again.resealed), (true, 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_account_being_refreshed_is_left_until_its_refresh_ends() {
        let (k1, k2) = (Vault::generate_key().unwrap(), Vault::generate_key().unwrap());
        let dir = tempfile::tempdir().unwrap();
        let old = Vault::from_base64(&k1).unwrap();
        let store = store_sealed_with(&dir, &old).await;
        let ring = Vault::from_keyring(&format!("k2:{k2},default:{k1}")).unwrap();
        let engine = engine(store.clone(), ring.clone()).await;
        // A refresh of ca_3 is at the provider (its lease held for 1.5 s).
        let now = clock::now_ms();
        assert!(store.acquire_lease(&refresh_lease("ca_3"), "refresher", now + 1500, now).await.unwrap());
        let mut skipped = 0;
        let report = engine.rotate_encryption_key(100, None, |b| skipped += b.skipped).await.unwrap();
        assert!(report.done);
        assert!(skipped >= 1, "ca_3 waited for a later pass (one every 0.5 s while its refresh holds the lease)");
        assert_eq!(open_all_with(&store, &Vault::from_keyring(&format!("k2:{k2}")).unwrap()).await, 3 + 2 * ACCOUNTS);
    }

    #[tokio::test]
    async fn a_value_no_key_opens_stops_the_rotation_naming_its_row() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_sealed_with(&dir, &Vault::from_base64(&Vault::generate_key().unwrap()).unwrap()).await;
        let stranger = Vault::from_keyring(&format!("k2:{}", Vault::generate_key().unwrap())).unwrap();
        let err = engine(store, stranger).await.rotate_encryption_key(10, None, |_| {}).await.unwrap_err();
        assert!(matches!(&err, Error::Validation { field, message } if field == "encryption_keys" && message.contains("accounts.credentials_sealed of ca_0")), "{err:?}");
    }

    #[tokio::test]
    async fn every_sealed_column_of_the_schema_is_one_a_rotation_walks() {
        let dir = tempfile::tempdir().unwrap();
        SqliteStore::open(dir.path().join("s.db")).unwrap().migrate().await.unwrap();
        let c = rusqlite::Connection::open(dir.path().join("s.db")).unwrap();
        let mut in_schema = vec![];
        let tables: Vec<String> = c
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        for table in tables {
            let columns: Vec<String> =
                c.prepare(&format!("PRAGMA table_info({table})")).unwrap().query_map([], |r| r.get(1)).unwrap().collect::<rusqlite::Result<_>>().unwrap();
            in_schema.extend(columns.into_iter().filter(|c| c.ends_with("_sealed")).map(|c| format!("{table}.{c}")));
        }
        in_schema.sort();
        let mut walked: Vec<String> = SealedColumn::ALL.iter().map(|c| c.to_string()).collect();
        walked.sort();
        assert_eq!(in_schema, walked, "a new sealed column goes in SealedColumn::ALL, or a rotation leaves it under the old key");
    }

    /// How many sealed values `vault` opens.
    async fn open_all_with(store: &Arc<dyn Store>, vault: &Vault) -> usize {
        let mut n = 0;
        for column in SealedColumn::ALL {
            for v in store.sealed_values(column, &[0xff], None, 1000).await.unwrap() {
                n += usize::from(vault.open(&v.key, &v.sealed).is_ok());
            }
        }
        n
    }
}
