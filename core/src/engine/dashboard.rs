//! The operator dashboard's sessions: signing in with a project API key opens a session carried
//! by a cookie whose value the broker seals with its vault. Every broker shares the keyring, so
//! any broker opens it, and no table is needed. The sealed value holds the key's id, its hash and
//! an expiry; every request re-checks that the key is still unrevoked, so revoking the key ends
//! its dashboard sessions on every broker at once.
//!
//! Forms carry a CSRF token derived from the cookie (a hash of it, so it says nothing about the
//! cookie and differs for every session); a POST whose token is not its session's is refused.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use super::{clock, secrets, Engine, Principal};
use crate::{Error, Result};

/// How long a dashboard session lasts after signing in.
pub const DASHBOARD_SESSION_TTL: Duration = Duration::from_secs(12 * 3600);

/// The vault context of a session cookie: a value sealed for anything else does not open as one.
const COOKIE_CONTEXT: &str = "grantline dashboard session";

/// What the cookie carries, sealed.
#[derive(Serialize, Deserialize)]
struct Sealed {
    /// The API key's id (`ak_…`).
    k: String,
    /// The API key's hash, as stored.
    h: String,
    /// Unix ms after which the session is over.
    e: i64,
}

/// A signed-in operator.
#[derive(Debug, Clone)]
pub struct DashboardSession {
    /// The project, as its API key reaches it.
    pub principal: Principal,
    /// Unix ms when the session ends.
    pub expires_at: i64,
    /// The token every form of this session must carry.
    pub csrf_token: String,
}

impl Engine {
    /// Signs in with a project API key: the cookie value that carries the session, and the
    /// session. An unknown or revoked key is `Unauthorized` (nothing is said about which).
    pub async fn dashboard_sign_in(&self, api_key: &str) -> Result<(String, DashboardSession)> {
        let api_key = api_key.trim();
        if api_key.is_empty() {
            return Err(Error::validation("api_key", "enter the project's API key"));
        }
        let principal = self.authenticate(Some(api_key)).await?;
        let key_id = principal.api_key_id.clone().ok_or_else(|| Error::Internal("an API key principal without its key".into()))?;
        let expires_at = clock::now_ms().saturating_add(DASHBOARD_SESSION_TTL.as_millis() as i64);
        let sealed = Sealed { k: key_id, h: secrets::sha256_hex(api_key), e: expires_at };
        let json = serde_json::to_vec(&sealed).map_err(|e| Error::Internal(format!("dashboard session: {e}")))?;
        let cookie = URL_SAFE_NO_PAD.encode(self.vault.seal(COOKIE_CONTEXT, &json)?);
        let session = DashboardSession { principal, expires_at, csrf_token: csrf_token(&cookie) };
        Ok((cookie, session))
    }

    /// The session a cookie value carries, if it opens, has not expired, and its API key is
    /// still unrevoked; `Unauthorized` otherwise.
    pub async fn dashboard_session(&self, cookie: &str) -> Result<DashboardSession> {
        let signed_out = || Error::Unauthorized("sign in to the dashboard".into());
        let sealed = URL_SAFE_NO_PAD.decode(cookie.trim()).map_err(|_| signed_out())?;
        let json = self.vault.open(COOKIE_CONTEXT, &sealed).map_err(|_| signed_out())?;
        let s: Sealed = serde_json::from_slice(&json).map_err(|_| signed_out())?;
        if s.e <= clock::now_ms() {
            return Err(Error::Unauthorized("the dashboard session ended; sign in again".into()));
        }
        let key = self
            .store
            .api_key_by_hash(&s.h)
            .await?
            .filter(|k| k.id == s.k)
            .ok_or_else(|| Error::Unauthorized("the API key of this dashboard session was revoked; sign in again".into()))?;
        let project = self.store.get_project(&key.project_id).await?.ok_or_else(signed_out)?;
        Ok(DashboardSession { principal: Principal::api_key(self.in_force(project), &key.id), expires_at: s.e, csrf_token: csrf_token(cookie) })
    }

    /// Refuses a form whose CSRF token is not `session`'s (`Forbidden`, naming the field).
    pub fn check_dashboard_csrf(&self, session: &DashboardSession, token: Option<&str>) -> Result<()> {
        match token {
            Some(t) if secrets::constant_time_eq(t.as_bytes(), session.csrf_token.as_bytes()) => Ok(()),
            _ => Err(Error::Forbidden("csrf_token: the form is not from this dashboard session; reload the page and try again".into())),
        }
    }
}

/// The CSRF token of the session `cookie` carries.
fn csrf_token(cookie: &str) -> String {
    let digest = secrets::sha256_hex(&format!("grantline dashboard csrf\n{cookie}"));
    digest[..32].to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::catalog::Catalog;
    use crate::engine::store::SqliteStore;
    use crate::engine::vault::Vault;
    use crate::engine::EngineConfig;

    async fn engine(dir: &tempfile::TempDir, key: &str) -> Engine {
        let store = Arc::new(SqliteStore::open(dir.path().join("store.db")).unwrap());
        let config = EngineConfig::new(url::Url::parse("http://127.0.0.1:1").unwrap());
        Engine::new(store, Vault::from_base64(key).unwrap(), Catalog::builtin(), config).await.unwrap()
    }

    fn unauthorized<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Err(Error::Unauthorized(m)) => m,
            other => panic!("expected Unauthorized, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_session_lasts_until_its_expiry_its_key_is_revoked_or_its_cookie_is_tampered_with() {
        let dir = tempfile::tempdir().unwrap();
        let key = Vault::generate_key().unwrap();
        let engine = engine(&dir, &key).await;
        let boot = engine.bootstrap(&[], &[]).await.unwrap();
        let api_key = boot.created_key.unwrap();

        let (cookie, opened) = engine.dashboard_sign_in(&api_key.secret).await.unwrap();
        assert!(!cookie.contains(&api_key.secret) && !cookie.contains(&api_key.record.hash), "the cookie is sealed");
        let session = engine.dashboard_session(&cookie).await.unwrap();
        assert_eq!(session.principal.api_key_id.as_deref(), Some(api_key.record.id.as_str()));
        assert_eq!((session.csrf_token.as_str(), session.expires_at), (opened.csrf_token.as_str(), opened.expires_at));
        engine.check_dashboard_csrf(&session, Some(&session.csrf_token)).unwrap();

        // Another session of the same key has another CSRF token; neither passes for the other.
        let (other_cookie, other) = engine.dashboard_sign_in(&api_key.secret).await.unwrap();
        assert_ne!(other_cookie, cookie, "each sign-in seals afresh");
        for token in [Some(other.csrf_token.as_str()), Some(""), None] {
            assert!(matches!(engine.check_dashboard_csrf(&session, token), Err(Error::Forbidden(_))), "{token:?}");
        }

        // Ended, or sealed for something else, or by another keyring: no session.
        let sealed = |s: &Sealed, context: &str| {
            URL_SAFE_NO_PAD.encode(engine.vault.seal(context, &serde_json::to_vec(s).unwrap()).unwrap())
        };
        let ended = Sealed { k: api_key.record.id.clone(), h: api_key.record.hash.clone(), e: clock::now_ms() - 1 };
        assert!(unauthorized(engine.dashboard_session(&sealed(&ended, COOKIE_CONTEXT)).await).contains("ended"));
        let live = Sealed { e: clock::now_ms() + 60_000, ..ended };
        unauthorized(engine.dashboard_session(&sealed(&live, "another context")).await);
        let wrong_id = Sealed { k: "ak_other".into(), ..live };
        unauthorized(engine.dashboard_session(&sealed(&wrong_id, COOKIE_CONTEXT)).await);
        for garbage in ["", "not base64 !", "AAAA"] {
            unauthorized(engine.dashboard_session(garbage).await);
        }
        let elsewhere = tempfile::tempdir().unwrap();
        let stranger = self::engine(&elsewhere, &Vault::generate_key().unwrap()).await;
        unauthorized(stranger.dashboard_session(&cookie).await);

        // Revoking the key ends every session it opened.
        engine.revoke_api_key(&api_key.record.project_id, &api_key.record.id).await.unwrap();
        assert!(unauthorized(engine.dashboard_session(&cookie).await).contains("revoked"));
        unauthorized(engine.dashboard_sign_in(&api_key.secret).await);
        assert!(matches!(engine.dashboard_sign_in("  ").await, Err(Error::Validation { ref field, .. }) if field == "api_key"));
    }
}

/// One change in an account's history (the dashboard's account page).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountChange {
    /// The event's type (`grantline.connected_account.active`, …).
    pub event: &'static str,
    /// RFC 3339.
    pub at: String,
    /// The account's status right after it.
    pub status: crate::model::AccountStatus,
    /// Why, when the change says.
    pub status_reason: Option<String>,
    /// The account's event sequence number.
    pub sequence: u64,
}

/// How many changes an account page shows.
const HISTORY: u32 = 50;

impl Engine {
    /// Account `id`'s recent changes, newest first: every event it had, as long as the retention
    /// sweeper keeps them (`--retention-webhook-days`).
    pub async fn account_history(&self, who: &Principal, id: &str) -> Result<Vec<AccountChange>> {
        who.require_project()?;
        crate::model::check_id("connected_account_id", id, crate::model::ACCOUNT_PREFIX)?;
        let events = self.store.account_events(&who.project.id, id, HISTORY).await?;
        Ok(events
            .into_iter()
            .map(|e| AccountChange {
                event: e.kind.as_str(),
                at: super::clock::rfc3339(e.created_at),
                status: e.account.status,
                status_reason: e.account.status_reason,
                sequence: e.sequence,
            })
            .collect())
    }
}
