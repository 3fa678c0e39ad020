//! MCP authorization: the broker as the OAuth 2.1 authorization server of its session MCP
//! endpoints, per the MCP specification's authorization chapter (2025-11-25). A person pastes
//! a session's MCP URL into an MCP client; the client discovers the metadata
//! ([`metadata`]), identifies itself by a Client ID Metadata Document or registers
//! ([`clients`]), sends the person to the consent page ([`authorize`]) and exchanges the code
//! for tokens bound to that one session's URL ([`token`]).
//!
//! Everything the server issues is stored hashed in `mcp_grants`, one family per consent, so
//! any broker on the database continues a flow another began, and a replayed code or refresh
//! token revokes its whole family.

pub mod authorize;
pub mod clients;
pub mod metadata;
pub mod token;


pub use super::oauth_server::OAuthError;
pub(crate) use super::oauth_server::oauth_error;
use super::{Engine, EngineConfig};
use crate::{Error, Result};

/// Path of the authorization endpoint (GET: the consent page).
pub const AUTHORIZE_PATH: &str = "/mcp/oauth/authorize";
/// Path the consent form posts its decision to.
pub const CONSENT_PATH: &str = "/mcp/oauth/consent";
/// Path of the token endpoint.
pub const TOKEN_PATH: &str = "/mcp/oauth/token";
/// Path of Dynamic Client Registration (RFC 7591).
pub const REGISTER_PATH: &str = "/mcp/oauth/register";
/// Path of token revocation (RFC 7009).
pub const REVOKE_PATH: &str = "/mcp/oauth/revoke";
/// The one scope: use the session's MCP endpoint as its user.
pub const SCOPE: &str = "mcp";
/// Prefix of access tokens.
pub const ACCESS_PREFIX: &str = "glmat_";
/// Prefix of refresh tokens.
pub const REFRESH_PREFIX: &str = "glmrt_";
/// How long a person has to approve (or deny) on the consent page.
pub const AUTHORIZATION_TTL_MS: i64 = 10 * 60_000;
/// How long an authorization code may wait for its exchange.
pub const CODE_TTL_MS: i64 = 60_000;
/// How long an access token works.
pub const ACCESS_TTL_S: i64 = 3600;
/// How long an unused refresh token works (each refresh rotates it).
pub const REFRESH_TTL_S: i64 = 30 * 24 * 3600;
/// The most pending authorizations (and, separately, unredeemed codes) kept; past it the oldest go.
pub const MAX_PENDING: u32 = 10_000;
/// The most live tokens of a kind kept; past it the oldest go.
pub const MAX_TOKENS: u32 = 200_000;

pub(crate) fn server_error(e: Error) -> OAuthError {
    if e.http_status() >= 500 {
        tracing::error!(error = %e, "MCP authorization: store failed");
        return oauth_error(500, "server_error", "the authorization server could not reach its store");
    }
    oauth_error(e.http_status(), "invalid_request", e.to_string())
}

/// The issuer identifier (RFC 8414): the broker's public URL without a trailing slash.
pub fn issuer(config: &EngineConfig) -> String {
    config.public_base_url.as_str().trim_end_matches('/').to_string()
}

/// The MCP URL (the resource, RFC 8707) of a session.
pub fn resource_url(config: &EngineConfig, session_id: &str) -> String {
    config.url(&format!("/tool_router/{session_id}/mcp"))
}

/// A resource indicator in canonical form (RFC 8707 §2: lowercase scheme and host, no default
/// port); `None` when it is not an absolute URL or has a fragment.
pub fn canonical_resource(resource: &str) -> Option<String> {
    let u = url::Url::parse(resource).ok()?;
    (u.fragment().is_none() && u.has_host()).then(|| u.to_string())
}

/// The session a resource indicator names, if it is exactly one session MCP URL of this broker
/// (compared in canonical form).
pub fn session_of_resource(config: &EngineConfig, resource: &str) -> Option<String> {
    let resource = canonical_resource(resource)?;
    let rest = resource.strip_prefix(&config.url("/tool_router/"))?;
    let id = rest.strip_suffix("/mcp")?;
    let ok = id.starts_with("trs_") && id.len() <= 68 && id[4..].bytes().all(|b| b.is_ascii_alphanumeric()) && id.len() > 4;
    ok.then(|| id.to_string())
}

impl Engine {
    /// The session behind a resource indicator, in the installation's project; `NOT_FOUND`
    /// when there is none.
    async fn mcp_session(&self, session_id: &str) -> Result<(super::store::Project, super::store::SessionRecord)> {
        let project = self.default_project().await?;
        let session = self
            .store
            .get_session(&project.id, session_id)
            .await?
            .ok_or_else(|| Error::not_found("session", session_id))?;
        Ok((project, session))
    }
}

/// An engine on a temporary SQLite file with one project and one session of user `ada`.
#[cfg(test)]
pub(crate) async fn test_engine(dir: &tempfile::TempDir) -> (Engine, super::store::SessionRecord) {
    use std::sync::Arc;
    let store = Arc::new(super::store::SqliteStore::open(dir.path().join("store.db")).unwrap());
    let config = EngineConfig::new(url::Url::parse("http://127.0.0.1:1").unwrap());
    let vault = super::vault::Vault::from_base64(&super::vault::Vault::generate_key().unwrap()).unwrap();
    let engine = Engine::new(store, vault, crate::catalog::Catalog::builtin(), config).await.unwrap();
    let project = engine.bootstrap(&[], &[]).await.unwrap().project;
    let req = serde_json::from_value(serde_json::json!({"user_id": "ada"})).unwrap();
    let info = engine.create_session(&super::Principal::project(project.clone()), req).await.unwrap();
    let session = engine.store.get_session(&project.id, &info.session_id).await.unwrap().unwrap();
    (engine, session)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resource_is_exactly_one_session_url() {
        let c = EngineConfig::new(url::Url::parse("https://b.example/gl/").unwrap());
        assert_eq!(issuer(&c), "https://b.example/gl");
        assert_eq!(resource_url(&c, "trs_1"), "https://b.example/gl/tool_router/trs_1/mcp");
        assert_eq!(session_of_resource(&c, "https://b.example/gl/tool_router/trs_abc/mcp").as_deref(), Some("trs_abc"));
        assert_eq!(session_of_resource(&c, "HTTPS://B.Example:443/gl/tool_router/trs_abc/mcp").as_deref(), Some("trs_abc"));
        for bad in [
            "https://b.example/tool_router/trs_abc/mcp",
            "https://b.example/gl/tool_router/trs_abc/mcp/",
            "https://b.example/gl/tool_router/trs_/mcp",
            "https://b.example/gl/tool_router/trs_a/b/mcp",
            "https://other.example/gl/tool_router/trs_abc/mcp",
            "https://b.example/gl/tool_router/ac_abc/mcp",
            "https://b.example/gl/tool_router/trs_abc/mcp#x",
            "https://b.example/gl/tool_router/trs_abc/mcp?x=1",
        ] {
            assert_eq!(session_of_resource(&c, bad), None, "{bad}");
        }
    }
}
