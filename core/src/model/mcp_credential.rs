//! MCP credentials: session-scoped secrets an MCP client sends as `Authorization: Bearer`, so it
//! never holds the project's API key. One opens one session's MCP endpoint, and nothing else.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Default lifetime of an MCP credential: 30 days.
pub const DEFAULT_MCP_CREDENTIAL_TTL_SECS: u64 = 30 * 24 * 60 * 60;
/// Longest lifetime an MCP credential may be given: 365 days.
pub const MAX_MCP_CREDENTIAL_TTL_SECS: u64 = 365 * 24 * 60 * 60;
/// Longest `name`, in characters.
pub const MAX_MCP_CREDENTIAL_NAME_CHARS: usize = 100;

/// Body of `POST /api/v3.1/tool_router/session/{id}/mcp_credentials`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct McpCredentialRequest {
    /// Lifetime in seconds (default 2592000, 30 days; at most 31536000, 365 days).
    #[serde(default, deserialize_with = "crate::model::whole::option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 31536000))]
    pub ttl_seconds: Option<u64>,
    /// A label to recognise it by in listings (which client holds it), up to 100 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 100))]
    pub name: Option<String>,
}

/// A minted MCP credential: give `mcp.url` and `mcp.headers` to the MCP client; the secret is
/// shown once.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct McpCredential {
    /// `mcpc_…`, to list and revoke it by.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^mcpc_[A-Za-z0-9]{1,64}$"))]
    pub id: String,
    /// The secret (`glmcp_…`), sent as `Authorization: Bearer` to the session's MCP URL only.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^glmcp_"))]
    pub secret: String,
    /// The one session whose MCP endpoint it opens.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^trs_[A-Za-z0-9]{1,64}$"))]
    pub session_id: String,
    /// The label given at minting, if any.
    #[serde(default)]
    pub name: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339 time after which it is refused.
    pub expires_at: String,
    /// What to configure in the MCP client.
    pub mcp: McpClientConfig,
}

/// The MCP URL and the headers that carry the credential.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct McpClientConfig {
    /// Always `http` (streamable HTTP).
    #[serde(rename = "type")]
    pub kind: String,
    /// The session's MCP endpoint.
    pub url: String,
    /// `{"Authorization": "Bearer glmcp_…"}`.
    pub headers: BTreeMap<String, String>,
}

/// An MCP credential as listings show it: never its secret.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct McpCredentialInfo {
    /// `mcpc_…`
    #[cfg_attr(feature = "openapi", schema(pattern = r"^mcpc_[A-Za-z0-9]{1,64}$"))]
    pub id: String,
    /// The one session whose MCP endpoint it opens.
    pub session_id: String,
    /// The label given at minting, if any.
    #[serde(default)]
    pub name: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339 time after which it is refused.
    pub expires_at: String,
    /// RFC 3339, once revoked (it is listed until the retention sweeper removes it).
    #[serde(default)]
    pub revoked_at: Option<String>,
    /// RFC 3339 of its latest use on the MCP endpoint (to the minute), if it was used.
    #[serde(default)]
    pub last_used_at: Option<String>,
    /// `ACTIVE`, `EXPIRED` or `REVOKED`.
    pub status: String,
}

/// `GET …/mcp_credentials`: the session's MCP credentials, newest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct McpCredentialList {
    /// Newest first; revoked and expired ones stay listed until the retention sweeper removes them.
    pub items: Vec<McpCredentialInfo>,
}

impl std::fmt::Debug for McpCredential {
    // The secret is a credential: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpCredential")
            .field("id", &self.id)
            .field("secret", &"***")
            .field("session_id", &self.session_id)
            .field("name", &self.name)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("mcp", &self.mcp)
            .finish()
    }
}

impl std::fmt::Debug for McpClientConfig {
    // The headers carry the secret.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("McpClientConfig").field("type", &self.kind).field("url", &self.url).field("headers", &self.headers.keys()).finish()
    }
}
