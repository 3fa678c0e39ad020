//! The authorization endpoint and the consent decision. Until the client and its redirect URI
//! check out, an error is a page (the broker must not send the browser anywhere it cannot
//! vouch for); after, it goes back to the client as `error=…` with `state` and `iss`
//! (RFC 9207), like every authorization response.
//!
//! The pending authorization is a stored row (any broker can show or decide it). Its consent
//! form carries a CSRF token whose hash is in that row, and the same token in an HttpOnly
//! cookie: a decision needs both, so another site cannot post one.


pub use crate::engine::oauth_server::AuthorizeRequest;
use super::clients::McpClient;
use super::*;
use crate::engine::store::{McpGrant, McpGrantKind};
use crate::engine::{clock, secrets};
use crate::model::ToolkitsConfig;

/// Why a consent form finds nothing to decide.
const DECIDED: &str = "this authorization was already decided or has expired; start again from the app";

/// The longest `state` an authorization request may carry, in bytes (it is echoed back).
pub const MAX_STATE_LEN: usize = 1024;
/// A PKCE S256 challenge: the base64url (no padding) of a SHA-256 digest.
const S256_CHALLENGE_LEN: usize = 43;

/// What the authorization endpoint does next.
#[derive(Debug)]
pub enum AuthorizeStep {
    /// Ask the person.
    Consent(Box<Consent>),
    /// Send the browser back to the client with an error.
    Redirect(url::Url),
}

/// What the consent page shows and posts back.
#[derive(Debug)]
pub struct Consent {
    /// `mcpa_…`: names the pending authorization (the form posts it back).
    pub authorization_id: String,
    /// The CSRF token: in the form and in an HttpOnly cookie.
    pub csrf: String,
    /// The client asking.
    pub client: McpClient,
    /// The app whose session it is, as every page names it (display name, logo, support URL).
    pub brand: crate::engine::AppBrand,
    /// The session's user.
    pub user_id: String,
    /// The session.
    pub session_id: String,
    /// What the client will be able to do, one line each.
    pub abilities: Vec<String>,
    /// Where the browser goes after the decision: the redirect URI's host (or its scheme, for
    /// an app's private-use scheme), shown on the page.
    pub redirect_host: String,
    /// The redirect URI is on this computer (`127.0.0.1`, `[::1]`, `localhost`): any program
    /// here could claim a client's name, so the page warns.
    pub redirect_loopback: bool,
}

/// An authorization waiting for its decision, as a verification step sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingMcpAuthorization {
    /// The session's project.
    pub project_id: String,
    /// The session the client asks for.
    pub session_id: String,
    /// The session's user: the one person who may approve.
    pub user_id: String,
    /// The client asking.
    pub client_id: String,
    /// Unix ms after which the authorization is gone (the verification must end before).
    pub expires_at: i64,
}

fn s256_challenge(c: &str) -> bool {
    c.len() == S256_CHALLENGE_LEN && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The redirect URI with the authorization response's parameters.
fn respond(redirect_uri: &str, pairs: &[(&str, &str)], state: Option<&str>, iss: &str) -> Result<url::Url> {
    let mut url = url::Url::parse(redirect_uri).map_err(|e| Error::Internal(format!("stored redirect_uri: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(s) = state {
            q.append_pair("state", s);
        }
        q.append_pair("iss", iss);
    }
    Ok(url)
}

fn ids_hash(authorization_id: &str) -> String {
    secrets::sha256_hex(authorization_id)
}

impl Engine {
    /// The authorization endpoint: checks the request and stores it pending the person's
    /// consent, or says where to send the browser with an error. `Err` is a page.
    pub async fn begin_mcp_authorization(&self, r: &AuthorizeRequest) -> Result<AuthorizeStep> {
        let client_id = r.client_id.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| Error::validation("client_id", "is required"))?;
        let client = self.resolve_mcp_client(client_id).await?;
        let redirect_uri =
            r.redirect_uri.as_deref().filter(|c| !c.is_empty()).ok_or_else(|| Error::validation("redirect_uri", "is required"))?;
        if !client.allows_redirect(redirect_uri) {
            return Err(Error::validation("redirect_uri", "is not one of the client's redirect URIs"));
        }
        let iss = issuer(&self.config);
        let state = r.state.as_deref().filter(|s| s.len() <= MAX_STATE_LEN);
        let error = |code: &str, why: &str| respond(redirect_uri, &[("error", code), ("error_description", why)], state, &iss).map(AuthorizeStep::Redirect);
        if r.state.as_deref().is_some_and(|s| s.len() > MAX_STATE_LEN) {
            return error("invalid_request", &format!("state must be at most {MAX_STATE_LEN} bytes"));
        }
        if r.response_type.as_deref() != Some("code") {
            return error("unsupported_response_type", "response_type must be code");
        }
        let challenge = r.code_challenge.as_deref().unwrap_or("");
        if r.code_challenge_method.as_deref() != Some("S256") || !s256_challenge(challenge) {
            return error("invalid_request", "PKCE is required: code_challenge_method=S256 and a 43-character code_challenge");
        }
        let Some(resource) = r.resource.as_deref().filter(|s| !s.is_empty()) else {
            return error("invalid_target", "resource is required: the session's MCP URL");
        };
        let Some(session_id) = session_of_resource(&self.config, resource) else {
            return error("invalid_target", "resource must be a session MCP URL of this broker");
        };
        let (project, session) = match self.mcp_session(&session_id).await {
            Ok(found) => found,
            Err(Error::NotFound { .. }) => return error("invalid_target", "resource names no session"),
            Err(e) => return Err(e),
        };
        if r.scope.as_deref().unwrap_or("").split_whitespace().any(|s| s != SCOPE) {
            return error("invalid_scope", &format!("the only scope is {SCOPE}"));
        }
        let authorization_id = format!("mcpa_{}", secrets::random_token(32)?);
        let csrf = secrets::random_token(32)?;
        let now = clock::now_ms();
        let pending = McpGrant {
            hash: ids_hash(&authorization_id),
            kind: McpGrantKind::Authorization,
            family: secrets::new_id("mcpg_")?,
            project_id: project.id.clone(),
            session_id: session.id.clone(),
            client_id: client.client_id.clone(),
            resource: resource_url(&self.config, &session.id),
            scope: SCOPE.to_string(),
            redirect_uri: Some(redirect_uri.to_string()),
            code_challenge: Some(challenge.to_string()),
            state: r.state.clone(),
            csrf_hash: Some(secrets::sha256_hex(&csrf)),
            created_at: now,
            expires_at: now + AUTHORIZATION_TTL_MS,
            used_at: None,
        };
        self.store.insert_mcp_grant(&pending, MAX_PENDING).await?;
        let target = url::Url::parse(redirect_uri).map_err(|e| Error::Internal(format!("checked redirect_uri: {e}")))?;
        Ok(AuthorizeStep::Consent(Box::new(Consent {
            redirect_host: target.host_str().map_or_else(|| format!("{}:", target.scheme()), str::to_string),
            redirect_loopback: super::clients::is_loopback_host(&target),
            authorization_id,
            csrf,
            abilities: self.mcp_abilities(&session.config),
            brand: self.brand(&project, None).await?,
            user_id: session.config.user_id.clone(),
            session_id: session.id,
            client,
        })))
    }

    /// What a token for this session lets a client do, for the consent page.
    fn mcp_abilities(&self, config: &crate::model::SessionConfig) -> Vec<String> {
        let name = |slug: &String| self.catalog.get(slug).map_or_else(|| slug.clone(), |d| d.name.clone());
        let toolkits = match &config.toolkits {
            None => "every toolkit the app offers".to_string(),
            Some(ToolkitsConfig::Enabled { enabled }) => enabled.iter().map(name).collect::<Vec<_>>().join(", "),
            Some(ToolkitsConfig::Disabled { disabled }) => {
                format!("every toolkit the app offers except {}", disabled.iter().map(name).collect::<Vec<_>>().join(", "))
            }
        };
        let mut lines = vec![
            format!("find and run tools in your connected accounts of: {toolkits}"),
            "see which of those accounts are connected".to_string(),
        ];
        if config.manage_connections.enabled {
            lines.push("ask you to connect more accounts (you approve each one)".to_string());
        }
        lines
    }

    /// Checks a consent form's CSRF token against its cookie and the pending authorization;
    /// decides nothing.
    pub async fn check_mcp_consent(&self, authorization_id: &str, form_csrf: &str, cookie_csrf: Option<&str>) -> Result<()> {
        let pending = self.undecided(authorization_id).await?;
        let same = cookie_csrf.is_some_and(|c| secrets::constant_time_eq(c.as_bytes(), form_csrf.as_bytes()));
        if !same || pending.csrf_hash.as_deref() != Some(secrets::sha256_hex(form_csrf).as_str()) {
            return Err(Error::Forbidden("the consent form did not come from this browser's consent page".into()));
        }
        Ok(())
    }

    /// A pending authorization, undecided and unexpired: whose session it is for (what a user
    /// verification step between Approve and [`Engine::complete_mcp_authorization`] checks).
    pub async fn pending_mcp_authorization(&self, authorization_id: &str) -> Result<PendingMcpAuthorization> {
        let pending = self.undecided(authorization_id).await?;
        let (_, session) = self.mcp_session(&pending.session_id).await?;
        Ok(PendingMcpAuthorization {
            project_id: pending.project_id,
            session_id: pending.session_id,
            user_id: session.config.user_id,
            client_id: pending.client_id,
            expires_at: pending.expires_at,
        })
    }

    /// The person approved: no code yet. First the project's app must confirm that this
    /// browser's user is the session's user (user verification): the answer is where to send
    /// the browser, and the verifier's return ([`Engine::finish_user_verification`]) leads to
    /// [`Engine::complete_mcp_authorization`]. A project with no verification page (and not a
    /// `--dev` broker) cannot approve MCP clients: anyone holding a session's URL could
    /// otherwise act as its user.
    pub async fn approve_mcp_authorization(&self, authorization_id: &str) -> Result<crate::engine::VerificationStart> {
        let pending = self.pending_mcp_authorization(authorization_id).await?;
        let project = self
            .store
            .get_project(&pending.project_id)
            .await?
            .ok_or_else(|| Error::not_found("project", &pending.project_id))?;
        let purpose = crate::engine::VerificationPurpose::McpAuthorization { authorization_id: authorization_id.to_string() };
        match self.begin_user_verification(&project, purpose, &pending.user_id).await? {
            Some(start) => Ok(start),
            None => {
                // Nothing can be approved: end the authorization now rather than at its expiry.
                self.abandon_mcp_authorization(authorization_id).await?;
                Err(Error::Forbidden(format!(
                    "{} has not set a user-verification page, so MCP clients cannot be approved for its users yet \
                     (its operator sets one with `grantline project set --user-verification-url …`)",
                    self.brand(&project, None).await?.app_name
                )))
            }
        }
    }

    /// Ends a pending authorization with nothing issued (its user verification failed): the
    /// client's later token request finds no code. Already decided or expired: nothing to do.
    pub(crate) async fn abandon_mcp_authorization(&self, authorization_id: &str) -> Result<()> {
        self.end_pending(authorization_id).await.map(drop)
    }

    /// Uses up a pending authorization and revokes its family, issuing nothing: the pending
    /// authorization, or `None` when it was already decided or expired.
    async fn end_pending(&self, authorization_id: &str) -> Result<Option<McpGrant>> {
        let Some(pending) = self.store.use_mcp_grant(McpGrantKind::Authorization, &ids_hash(authorization_id), clock::now_ms()).await?
        else {
            return Ok(None);
        };
        self.store.revoke_mcp_family(&pending.family).await?;
        Ok(Some(pending))
    }

    /// The person approved and was verified as the session's user: issues the code and returns
    /// the client's redirect URI with `code`, `state` and `iss`. The pending authorization is
    /// used up, whatever the outcome.
    pub async fn complete_mcp_authorization(&self, authorization_id: &str) -> Result<url::Url> {
        let now = clock::now_ms();
        let pending = self.take_pending(authorization_id, now).await?;
        self.mcp_session(&pending.session_id).await?;
        let code = format!("glmac_{}", secrets::random_token(40)?);
        let grant = McpGrant {
            hash: secrets::sha256_hex(&code),
            kind: McpGrantKind::Code,
            state: None,
            csrf_hash: None,
            created_at: now,
            expires_at: now + CODE_TTL_MS,
            used_at: None,
            ..pending.clone()
        };
        self.store.insert_mcp_grant(&grant, MAX_PENDING).await?;
        tracing::info!(client_id = %pending.client_id, session_id = %pending.session_id, "MCP client authorized");
        respond(pending.redirect_uri.as_deref().unwrap_or_default(), &[("code", &code)], pending.state.as_deref(), &issuer(&self.config))
    }

    /// The person denied: the client's redirect URI with `error=access_denied`, `state`, `iss`.
    pub async fn deny_mcp_authorization(&self, authorization_id: &str) -> Result<url::Url> {
        let pending = self.end_pending(authorization_id).await?.ok_or_else(|| Error::validation("authorization_id", DECIDED))?;
        respond(
            pending.redirect_uri.as_deref().unwrap_or_default(),
            &[("error", "access_denied"), ("error_description", "The user denied access.")],
            pending.state.as_deref(),
            &issuer(&self.config),
        )
    }

    /// A pending authorization no one has decided yet, unexpired.
    async fn undecided(&self, authorization_id: &str) -> Result<McpGrant> {
        self.store
            .mcp_grant(McpGrantKind::Authorization, &ids_hash(authorization_id), clock::now_ms())
            .await?
            .filter(|g| g.used_at.is_none())
            .ok_or_else(|| Error::validation("authorization_id", DECIDED))
    }

    async fn take_pending(&self, authorization_id: &str, now: i64) -> Result<McpGrant> {
        self.store
            .use_mcp_grant(McpGrantKind::Authorization, &ids_hash(authorization_id), now)
            .await?
            .ok_or_else(|| Error::validation("authorization_id", DECIDED))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[tokio::test]
    async fn a_consent_is_decided_once_with_its_csrf_token_and_names_who_may_approve() {
        let dir = tempfile::tempdir().unwrap();
        let (engine, session) = super::super::test_engine(&dir).await;
        let client = engine
            .register_mcp_client(&json!({"client_name": "Agent", "redirect_uris": ["http://127.0.0.1:5000/cb"]}))
            .await
            .unwrap();
        let r = AuthorizeRequest {
            response_type: Some("code".into()),
            client_id: client["client_id"].as_str().map(str::to_string),
            redirect_uri: Some("http://127.0.0.1:6000/cb".into()),
            state: Some("st".into()),
            scope: None,
            code_challenge: Some(secrets::s256(&"v".repeat(43))),
            code_challenge_method: Some("S256".into()),
            resource: Some(resource_url(engine.config(), &session.id)),
        };
        let AuthorizeStep::Consent(consent) = engine.begin_mcp_authorization(&r).await.unwrap() else { panic!("a consent page") };
        assert_eq!((consent.user_id.as_str(), consent.client.client_name.as_deref()), ("ada", Some("Agent")));
        assert_eq!((consent.redirect_host.as_str(), consent.redirect_loopback), ("127.0.0.1", true));
        let pending = engine.pending_mcp_authorization(&consent.authorization_id).await.unwrap();
        assert_eq!((pending.user_id.as_str(), pending.session_id.as_str()), ("ada", session.id.as_str()));

        let id = &consent.authorization_id;
        for (form, cookie) in [(consent.csrf.as_str(), None), (consent.csrf.as_str(), Some("other")), ("other", Some("other"))] {
            assert!(matches!(engine.check_mcp_consent(id, form, cookie).await, Err(Error::Forbidden(_))), "{form} {cookie:?}");
        }
        engine.check_mcp_consent(id, &consent.csrf, Some(&consent.csrf)).await.unwrap();
        let back = engine.complete_mcp_authorization(id).await.unwrap();
        assert!(back.as_str().starts_with("http://127.0.0.1:6000/cb?code=glmac_"), "a loopback port may differ: {back}");
        assert!(back.as_str().ends_with("&state=st&iss=http%3A%2F%2F127.0.0.1%3A1"), "{back}");
        assert!(engine.complete_mcp_authorization(id).await.is_err(), "decided once");
        assert!(engine.deny_mcp_authorization(id).await.is_err());
        assert!(engine.pending_mcp_authorization(id).await.is_err());
    }
}
