//! The token endpoint (authorization code with PKCE, refresh with rotation), revocation
//! (RFC 7009), and checking an access token on the MCP endpoint.
//!
//! Codes and refresh tokens are single use and stay recorded as used until they expire: one
//! presented again means someone holds a copy, so the whole family (every token of that
//! consent) is revoked. Every token is bound to the resource (one session's MCP URL) it was
//! granted for.

use serde_json::{json, Value};

use super::*;
use crate::engine::store::{McpGrant, McpGrantKind};
pub use crate::engine::oauth_server::{RevokeRequest, TokenRequest};
use crate::engine::{clock, secrets, Principal, Scope};

fn invalid_grant(why: &str) -> OAuthError {
    oauth_error(400, "invalid_grant", why)
}

/// A PKCE verifier as RFC 7636 §4.1 defines it.
fn verifier_ok(v: &str) -> bool {
    (43..=128).contains(&v.len()) && v.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

impl Engine {
    /// The token endpoint: a token response, or an OAuth error (RFC 6749 §5.2).
    pub async fn mcp_token(&self, t: &TokenRequest) -> std::result::Result<Value, OAuthError> {
        if t.client_secret.is_some() {
            return Err(oauth_error(401, "invalid_client", "MCP clients are public clients: send no client_secret"));
        }
        let client_id = t.client_id.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| oauth_error(400, "invalid_request", "client_id is required"))?;
        if t.scope.as_deref().unwrap_or("").split_whitespace().any(|s| s != SCOPE) {
            return Err(oauth_error(400, "invalid_scope", format!("the only scope is {SCOPE}")));
        }
        let now = clock::now_ms();
        let grant = match t.grant_type.as_deref() {
            Some("authorization_code") => {
                let code = t.code.as_deref().ok_or_else(|| oauth_error(400, "invalid_request", "code is required"))?;
                let grant = self.use_once(McpGrantKind::Code, code, now, "authorization code").await?;
                if grant.client_id != client_id {
                    return Err(invalid_grant("the code was issued to another client"));
                }
                if t.redirect_uri != grant.redirect_uri {
                    return Err(invalid_grant("redirect_uri does not match the authorization request"));
                }
                if t.resource.as_deref().and_then(canonical_resource).as_deref() != Some(grant.resource.as_str()) {
                    return Err(oauth_error(400, "invalid_target", "resource must be the session MCP URL the code was granted for"));
                }
                let verifier = t.code_verifier.as_deref().unwrap_or("");
                if !verifier_ok(verifier) || Some(secrets::s256(verifier)) != grant.code_challenge {
                    return Err(invalid_grant("PKCE verification failed (code_verifier)"));
                }
                grant
            }
            Some("refresh_token") => {
                let token = t.refresh_token.as_deref().ok_or_else(|| oauth_error(400, "invalid_request", "refresh_token is required"))?;
                let grant = self.use_once(McpGrantKind::RefreshToken, token, now, "refresh token").await?;
                if grant.client_id != client_id {
                    return Err(invalid_grant("the refresh token was issued to another client"));
                }
                if t.resource.as_deref().is_some_and(|r| canonical_resource(r).as_deref() != Some(grant.resource.as_str())) {
                    return Err(oauth_error(400, "invalid_target", "resource must be the session MCP URL the token was granted for"));
                }
                grant
            }
            Some(_) => return Err(oauth_error(400, "unsupported_grant_type", "use authorization_code or refresh_token")),
            None => return Err(oauth_error(400, "invalid_request", "grant_type is required")),
        };
        match self.mcp_session(&grant.session_id).await {
            Ok(_) => {}
            Err(Error::NotFound { .. }) => {
                self.store.revoke_mcp_family(&grant.family).await.map_err(server_error)?;
                return Err(invalid_grant("the session was deleted"));
            }
            Err(e) => return Err(server_error(e)),
        }
        let access = self.issue_token(McpGrantKind::AccessToken, &grant, now, ACCESS_TTL_S * 1000).await.map_err(server_error)?;
        let refresh = self.issue_token(McpGrantKind::RefreshToken, &grant, now, REFRESH_TTL_S * 1000).await.map_err(server_error)?;
        Ok(json!({"access_token": access, "token_type": "Bearer", "expires_in": ACCESS_TTL_S, "refresh_token": refresh, "scope": grant.scope}))
    }

    /// Uses a code or refresh token once. Presented again (or after its family was revoked),
    /// it is refused, and a replay revokes the family.
    async fn use_once(&self, kind: McpGrantKind, secret: &str, now: i64, what: &str) -> std::result::Result<McpGrant, OAuthError> {
        let hash = secrets::sha256_hex(secret);
        if let Some(g) = self.store.use_mcp_grant(kind, &hash, now).await.map_err(server_error)? {
            return Ok(g);
        }
        if let Some(used) = self.store.mcp_grant(kind, &hash, now).await.map_err(server_error)? {
            self.store.revoke_mcp_family(&used.family).await.map_err(server_error)?;
            tracing::warn!(client_id = %used.client_id, session_id = %used.session_id, "MCP {what} replayed: its grant is revoked");
            return Err(invalid_grant(&format!("this {what} was already used: every token of its grant is revoked")));
        }
        Err(invalid_grant(&format!("unknown, expired or revoked {what}")))
    }

    async fn issue_token(&self, kind: McpGrantKind, from: &McpGrant, now: i64, ttl_ms: i64) -> Result<String> {
        let prefix = if kind == McpGrantKind::AccessToken { ACCESS_PREFIX } else { REFRESH_PREFIX };
        let secret = format!("{prefix}{}", secrets::random_token(40)?);
        let row = McpGrant {
            hash: secrets::sha256_hex(&secret),
            kind,
            redirect_uri: None,
            code_challenge: None,
            state: None,
            csrf_hash: None,
            created_at: now,
            expires_at: now + ttl_ms,
            used_at: None,
            ..from.clone()
        };
        self.store.insert_mcp_grant(&row, MAX_TOKENS).await?;
        Ok(secret)
    }

    /// Revocation (RFC 7009): revoking an access or refresh token ends its whole grant. An
    /// unknown token, or another client's, is not an error (and changes nothing).
    pub async fn revoke_mcp_token(&self, r: &RevokeRequest) -> std::result::Result<(), OAuthError> {
        let token = r.token.as_deref().filter(|t| !t.is_empty()).ok_or_else(|| oauth_error(400, "invalid_request", "token is required"))?;
        let client_id = r.client_id.as_deref().ok_or_else(|| oauth_error(400, "invalid_request", "client_id is required"))?;
        if r.client_secret.is_some() {
            return Err(oauth_error(401, "invalid_client", "MCP clients are public clients: send no client_secret"));
        }
        let hash = secrets::sha256_hex(token);
        for kind in [McpGrantKind::RefreshToken, McpGrantKind::AccessToken] {
            if let Some(g) = self.store.mcp_grant(kind, &hash, clock::now_ms()).await.map_err(server_error)? {
                if g.client_id == client_id {
                    self.store.revoke_mcp_family(&g.family).await.map_err(server_error)?;
                }
            }
        }
        Ok(())
    }

    /// Checks an MCP access token (`glmat_…`) presented on `session_id`'s MCP endpoint: it must
    /// be live and granted for exactly that session's MCP URL, and the session must still
    /// exist. `UNAUTHORIZED` otherwise (the endpoint answers it with `invalid_token`).
    pub async fn authenticate_mcp_access_token(&self, token: &str, session_id: &str) -> Result<Principal> {
        let grant = self
            .store
            .mcp_grant(McpGrantKind::AccessToken, &secrets::sha256_hex(token), clock::now_ms())
            .await?
            .ok_or_else(|| Error::Unauthorized("unknown, expired or revoked access token".into()))?;
        if grant.session_id != session_id || grant.resource != resource_url(&self.config, session_id) {
            return Err(Error::Unauthorized("this access token was granted for another session's MCP URL".into()));
        }
        let project = self
            .store
            .get_project(&grant.project_id)
            .await?
            .ok_or_else(|| Error::Unauthorized("the token's project no longer exists".into()))?;
        let session = self
            .store
            .get_session(&project.id, session_id)
            .await?
            .ok_or_else(|| Error::Unauthorized("the token's session was deleted".into()))?;
        // Session-scoped like an MCP credential: the grant (one per consent) is the credential.
        let scope = Scope::Mcp { credential_id: grant.family, session: Box::new(session) };
        Ok(Principal { project: self.in_force(project), scope, api_key_id: None })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An engine with one session, and a grant row for it as the token endpoint writes them.
    async fn engine_with_session(dir: &tempfile::TempDir) -> (Engine, McpGrant) {
        let (engine, session) = super::super::test_engine(dir).await;
        let now = clock::now_ms();
        let grant = McpGrant {
            hash: String::new(),
            kind: McpGrantKind::AccessToken,
            family: "mcpg_1".into(),
            project_id: session.project_id.clone(),
            resource: resource_url(engine.config(), &session.id),
            session_id: session.id,
            client_id: "mcpcl_1".into(),
            scope: SCOPE.into(),
            redirect_uri: None,
            code_challenge: None,
            state: None,
            csrf_hash: None,
            created_at: now - 10_000,
            expires_at: now + 60_000,
            used_at: None,
        };
        (engine, grant)
    }

    async fn put(engine: &Engine, grant: &McpGrant, kind: McpGrantKind, secret: &str, expires_at: i64) {
        let row = McpGrant { hash: secrets::sha256_hex(secret), kind, expires_at, ..grant.clone() };
        engine.store.insert_mcp_grant(&row, MAX_TOKENS).await.unwrap();
    }

    #[tokio::test]
    async fn expired_tokens_and_codes_are_refused_and_issue_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, grant) = engine_with_session(&dir).await;
        let now = clock::now_ms();
        put(&engine, &grant, McpGrantKind::AccessToken, "glmat_live", now + 60_000).await;
        put(&engine, &grant, McpGrantKind::AccessToken, "glmat_dead", now - 1).await;
        assert!(engine.authenticate_mcp_access_token("glmat_live", &grant.session_id).await.is_ok());
        let refused = engine.authenticate_mcp_access_token("glmat_dead", &grant.session_id).await.unwrap_err();
        assert!(matches!(&refused, Error::Unauthorized(m) if m.contains("expired")), "{refused}");

        put(&engine, &grant, McpGrantKind::RefreshToken, "glmrt_dead", now - 1).await;
        let t = TokenRequest {
            grant_type: Some("refresh_token".into()),
            refresh_token: Some("glmrt_dead".into()),
            client_id: Some("mcpc_1".into()),
            ..Default::default()
        };
        assert_eq!(engine.mcp_token(&t).await.unwrap_err().1["error"], "invalid_grant");

        let code_grant = McpGrant { redirect_uri: Some("http://127.0.0.1:9/cb".into()), code_challenge: Some(secrets::s256(&"v".repeat(43))), ..grant.clone() };
        put(&engine, &code_grant, McpGrantKind::Code, "glmac_dead", now - 1).await;
        let t = TokenRequest {
            grant_type: Some("authorization_code".into()),
            code: Some("glmac_dead".into()),
            redirect_uri: Some("http://127.0.0.1:9/cb".into()),
            client_id: Some("mcpc_1".into()),
            code_verifier: Some("v".repeat(43)),
            resource: Some(grant.resource.clone()),
            ..Default::default()
        };
        assert_eq!(engine.mcp_token(&t).await.unwrap_err().1["error"], "invalid_grant");
        assert!(engine.authenticate_mcp_access_token("glmat_live", &grant.session_id).await.is_ok(), "a dead code revokes nothing");
    }
}
