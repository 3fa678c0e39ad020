//! Who may use a session's MCP endpoint: one rule, so the broker's MCP route only translates.
//!
//! - `x-api-key`: the project API key (Composio's SDK sends it), any session of the project;
//! - `Authorization: Bearer glmcp_…`: this session's MCP credential, unexpired and unrevoked
//!   (revoking the API key that minted it revoked it in the same transaction);
//! - `Authorization: Bearer glmat_…`: an access token from MCP authorization (`mcp_auth/`),
//!   granted for this session's MCP URL (RFC 8707 `resource`);
//! - any other bearer: refused.

use super::mcp_auth::{ACCESS_PREFIX, REFRESH_PREFIX};
use super::{clock, secrets, Engine, Principal, Scope, MCP_ONLY};
use crate::model::{check_id, CLIENT_TOKEN_PREFIX, MCP_CREDENTIAL_PREFIX, SESSION_PREFIX};
use crate::{Error, Result};

/// A credential's use is recorded at most once per this many ms.
const TOUCH_EVERY_MS: i64 = 60_000;

/// Refuses an MCP credential offered anywhere but its session's MCP endpoint (the REST API's
/// extractors call it on every bearer and API key they are given).
pub fn refuse_outside_mcp(credential: &str) -> Result<()> {
    if [MCP_CREDENTIAL_PREFIX, ACCESS_PREFIX, REFRESH_PREFIX].iter().any(|p| credential.starts_with(p)) {
        return Err(Error::Forbidden(MCP_ONLY.into()));
    }
    Ok(())
}

impl Engine {
    /// Authenticates a request to session `session_id`'s MCP endpoint by its `x-api-key` or its
    /// bearer, and checks the session exists for the caller: the principal the tools run as.
    pub async fn authenticate_mcp(&self, session_id: &str, api_key: Option<&str>, bearer: Option<&str>) -> Result<Principal> {
        check_id("session_id", session_id, SESSION_PREFIX)?;
        let who = match (api_key, bearer) {
            (Some(key), _) if key.starts_with(MCP_CREDENTIAL_PREFIX) => {
                return Err(Error::Unauthorized("send an MCP credential as Authorization: Bearer glmcp_…, not as x-api-key".into()))
            }
            (Some(key), _) => self.authenticate(Some(key)).await?,
            (None, Some(token)) if token.starts_with(MCP_CREDENTIAL_PREFIX) => self.authenticate_mcp_credential(session_id, token).await?,
            (None, Some(token)) if token.starts_with(ACCESS_PREFIX) => self.authenticate_mcp_access_token(token, session_id).await?,
            (None, Some(token)) if token.starts_with(CLIENT_TOKEN_PREFIX) => {
                return Err(Error::Forbidden(
                    "a client token (glct_…) cannot use the MCP endpoint; mint an MCP credential for the session \
                     (POST /api/v3.1/tool_router/session/{id}/mcp_credentials)"
                        .into(),
                ))
            }
            (None, Some(_)) => return Err(Error::Unauthorized("unknown bearer token for this MCP endpoint".into())),
            (None, None) => {
                return Err(Error::Unauthorized(
                    "log in (MCP authorization), or send Authorization: Bearer glmcp_… (an MCP credential for this session) or x-api-key".into(),
                ))
            }
        };
        // The session exists (for the project; the credential's was loaded just now).
        if matches!(who.scope, Scope::Project) {
            self.load_session(&who, session_id).await?;
        }
        Ok(who)
    }

    /// Resolves an MCP credential to a principal scoped to its session, refused on any other
    /// session's endpoint.
    async fn authenticate_mcp_credential(&self, session_id: &str, secret: &str) -> Result<Principal> {
        let record = self
            .store
            .mcp_credential_by_hash(&secrets::sha256_hex(secret))
            .await?
            .ok_or_else(|| Error::Unauthorized("unknown MCP credential".into()))?;
        let now = clock::now_ms();
        if record.revoked_at.is_some() {
            return Err(Error::Unauthorized("this MCP credential was revoked".into()));
        }
        if record.expires_at <= now {
            return Err(Error::Unauthorized("this MCP credential has expired; ask the app for a new one".into()));
        }
        if record.session_id != session_id {
            return Err(Error::Forbidden(
                "this MCP credential belongs to another session; it only works on its own session's MCP endpoint".into(),
            ));
        }
        let project = self
            .store
            .get_project(&record.project_id)
            .await?
            .ok_or_else(|| Error::Unauthorized("the credential's project no longer exists".into()))?;
        let session = self
            .store
            .get_session(&project.id, &record.session_id)
            .await?
            .ok_or_else(|| Error::Unauthorized("the credential's session no longer exists".into()))?;
        if record.last_used_at.is_none_or(|t| t < now - TOUCH_EVERY_MS) {
            // Bookkeeping only: a failed write must not refuse the request.
            if let Err(e) = self.store.touch_mcp_credential(&record.id, now, now - TOUCH_EVERY_MS).await {
                tracing::warn!(credential_id = %record.id, error = %e, "could not record an MCP credential's use");
            }
        }
        let project = self.in_force(project);
        Ok(Principal { project, scope: Scope::Mcp { credential_id: record.id, session: Box::new(session) }, api_key_id: None })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::catalog::Catalog;
    use crate::engine::store::SqliteStore;
    use crate::engine::vault::Vault;
    use crate::engine::EngineConfig;
    use crate::model::{CreateSessionRequest, ExecuteRequest, McpCredentialRequest, PageRequest};

    fn forbidden<T: std::fmt::Debug>(r: Result<T>) -> String {
        match r {
            Err(Error::Forbidden(m)) => m,
            other => panic!("expected Forbidden, got {other:?}"),
        }
    }

    /// An MCP credential's principal reaches its own session's tools, and nothing project-wide
    /// even if a route forgot to refuse it: the engine's rules hold on their own.
    #[tokio::test]
    async fn an_mcp_principal_reaches_its_sessions_tools_and_nothing_project_wide() {
        let dir = tempfile::tempdir().unwrap();
        let store = Arc::new(SqliteStore::open(dir.path().join("store.db")).unwrap());
        let config = EngineConfig::new(url::Url::parse("http://127.0.0.1:1").unwrap());
        let engine = Engine::new(store, Vault::from_base64(&Vault::generate_key().unwrap()).unwrap(), Catalog::builtin(), config)
            .await
            .unwrap();
        let boot = engine.bootstrap(&[], &[]).await.unwrap();
        let key = boot.created_key.unwrap();
        let backend = Principal::api_key(boot.project, &key.record.id);
        let session = |user: &str| CreateSessionRequest { user_id: user.into(), ..Default::default() };
        let alice = engine.create_session(&backend, session("alice")).await.unwrap().session_id;
        let bob = engine.create_session(&backend, session("bob")).await.unwrap().session_id;
        let secret = engine.create_mcp_credential(&backend, &alice, McpCredentialRequest::default()).await.unwrap().secret;

        let mcp = engine.authenticate_mcp(&alice, None, Some(&secret)).await.unwrap();
        assert!(matches!(&mcp.scope, Scope::Mcp { session, .. } if session.id == alice));
        assert_eq!(mcp.api_key_id, None, "it mints nothing");
        assert!(!engine.session_tool_list(&mcp, &alice).await.unwrap().is_empty());
        assert!(forbidden(engine.session_tool_list(&mcp, &bob).await).contains("another session"));
        assert!(forbidden(engine.authenticate_mcp(&bob, None, Some(&secret)).await).contains("another session"));

        for refused in [
            forbidden(engine.create_session(&mcp, session("mallory")).await),
            forbidden(engine.list_accounts(&mcp, &Default::default(), PageRequest { page: 1, limit: 10 }).await),
            forbidden(engine.create_mcp_credential(&mcp, &alice, McpCredentialRequest::default()).await),
            forbidden(engine.list_mcp_credentials(&mcp, &alice).await),
            forbidden(engine.execute_tool(&mcp, &alice, ExecuteRequest { tool_slug: "SANDBOX_GET_CURRENT_USER".into(), ..Default::default() }).await),
        ] {
            assert_eq!(refused, MCP_ONLY);
        }
        // As an API key, or as a client token, it is refused with the same reason.
        assert_eq!(forbidden(engine.authenticate(Some(&secret)).await), MCP_ONLY);
        assert_eq!(forbidden(engine.authenticate_client_token(&secret, None).await), MCP_ONLY);
        assert!(matches!(engine.authenticate_mcp(&alice, Some(&secret), None).await, Err(Error::Unauthorized(_))));
        assert!(matches!(engine.authenticate_mcp(&alice, None, Some("glat_other")).await, Err(Error::Unauthorized(_))));
    }
}
