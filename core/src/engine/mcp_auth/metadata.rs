//! Discovery: Protected Resource Metadata (RFC 9728) for each session's MCP URL, Authorization
//! Server Metadata (RFC 8414, also served as OpenID discovery), and the `WWW-Authenticate`
//! challenge that points an MCP client at them.
//!
//! A broker behind a path prefix (`--public-url https://host/P`) answers at the path-inserted
//! locations (`/.well-known/oauth-protected-resource/P/tool_router/{id}/mcp`,
//! `/.well-known/oauth-authorization-server/P`) as well as at the ones a proxy that strips the
//! prefix forwards.

use serde_json::{json, Value};

use super::*;
use crate::engine::EngineConfig;

/// Well-known prefix of Protected Resource Metadata.
pub const PRM_PREFIX: &str = "/.well-known/oauth-protected-resource";
/// Well-known prefix of Authorization Server Metadata.
pub const ASM_PREFIX: &str = "/.well-known/oauth-authorization-server";
/// Well-known prefix of OpenID discovery.
pub const OPENID_PREFIX: &str = "/.well-known/openid-configuration";

/// The public URL's path without its trailing slash (`""` at the root, `/P` under a prefix).
fn public_path(config: &EngineConfig) -> &str {
    config.public_base_url.path().trim_end_matches('/')
}

/// Where a session's Protected Resource Metadata is, as the challenge names it: the resource's
/// path inserted after the well-known prefix, on the resource's origin (RFC 9728 §3.1).
pub fn protected_resource_metadata_url(config: &EngineConfig, session_id: &str) -> String {
    let u = &config.public_base_url;
    let origin = u.origin().ascii_serialization();
    format!("{origin}{PRM_PREFIX}{}/tool_router/{session_id}/mcp", public_path(config))
}

/// The `WWW-Authenticate` value of a refused MCP request: where the metadata is, and, for a bad
/// token (as opposed to none), `error="invalid_token"`.
pub fn challenge(config: &EngineConfig, session_id: &str, bad_token: Option<&str>) -> String {
    let mut v = format!(
        r#"Bearer resource_metadata="{}", scope="{SCOPE}""#,
        protected_resource_metadata_url(config, session_id)
    );
    if let Some(why) = bad_token {
        let why: String = why.chars().filter(|c| *c != '"' && *c != '\\' && !c.is_control()).collect();
        v.push_str(&format!(r#", error="invalid_token", error_description="{why}""#));
    }
    v
}

/// The session a well-known Protected Resource Metadata path (after its prefix) is for:
/// `/tool_router/{id}/mcp`, or the same under the public URL's path.
pub fn session_of_metadata_path(config: &EngineConfig, tail: &str) -> Option<String> {
    let prefix = public_path(config);
    let rest = if !prefix.is_empty() && tail.starts_with(&format!("{prefix}/")) { &tail[prefix.len()..] } else { tail };
    let id = rest.strip_prefix("/tool_router/")?.strip_suffix("/mcp")?;
    session_of_resource(config, &resource_url(config, id))
}

/// Whether a well-known Authorization Server Metadata path (after its prefix) names this
/// issuer: empty (root, or a proxy stripped the prefix) or the public URL's path.
pub fn is_issuer_path(config: &EngineConfig, tail: &str) -> bool {
    let tail = tail.trim_end_matches('/');
    tail.is_empty() || tail == public_path(config)
}

/// Authorization Server Metadata (RFC 8414) of the broker.
pub fn authorization_server(config: &EngineConfig) -> Value {
    json!({
        "issuer": issuer(config),
        "authorization_endpoint": config.url(AUTHORIZE_PATH),
        "token_endpoint": config.url(TOKEN_PATH),
        "registration_endpoint": config.url(REGISTER_PATH),
        "revocation_endpoint": config.url(REVOKE_PATH),
        "scopes_supported": [SCOPE],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none"],
        "revocation_endpoint_auth_methods_supported": ["none"],
        "code_challenge_methods_supported": ["S256"],
        "client_id_metadata_document_supported": true,
        "authorization_response_iss_parameter_supported": true,
    })
}

impl Engine {
    /// Protected Resource Metadata (RFC 9728) of the session a well-known path names;
    /// `NOT_FOUND` for no such session.
    pub async fn mcp_protected_resource_metadata(&self, tail: &str) -> Result<Value> {
        let session_id =
            session_of_metadata_path(&self.config, tail).ok_or_else(|| Error::not_found("protected resource", tail))?;
        self.mcp_session(&session_id).await?;
        Ok(json!({
            "resource": resource_url(&self.config, &session_id),
            "authorization_servers": [issuer(&self.config)],
            "bearer_methods_supported": ["header"],
            "scopes_supported": [SCOPE],
            "resource_name": format!("Grantline session {session_id}"),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_found_at_path_inserted_locations() {
        let c = EngineConfig::new(url::Url::parse("https://b.example/gl").unwrap());
        assert_eq!(
            protected_resource_metadata_url(&c, "trs_1"),
            "https://b.example/.well-known/oauth-protected-resource/gl/tool_router/trs_1/mcp"
        );
        assert_eq!(session_of_metadata_path(&c, "/gl/tool_router/trs_1/mcp").as_deref(), Some("trs_1"));
        assert_eq!(session_of_metadata_path(&c, "/tool_router/trs_1/mcp").as_deref(), Some("trs_1"));
        assert_eq!(session_of_metadata_path(&c, "/other/tool_router/trs_1/mcp"), None);
        assert!(is_issuer_path(&c, "") && is_issuer_path(&c, "/gl") && !is_issuer_path(&c, "/other"));
        let root = EngineConfig::new(url::Url::parse("http://127.0.0.1:9/").unwrap());
        assert_eq!(
            protected_resource_metadata_url(&root, "trs_1"),
            "http://127.0.0.1:9/.well-known/oauth-protected-resource/tool_router/trs_1/mcp"
        );
        assert_eq!(authorization_server(&root)["issuer"], "http://127.0.0.1:9");
        assert!(challenge(&root, "trs_1", Some("expired \"x\"")).ends_with(r#"error="invalid_token", error_description="expired x""#));
    }
}
