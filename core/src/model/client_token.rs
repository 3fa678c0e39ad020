//! Client tokens: short-lived, session-scoped credentials a browser may hold instead of the API key.

use serde::{Deserialize, Serialize};

/// Default lifetime of a client token.
pub const DEFAULT_CLIENT_TOKEN_TTL_SECS: u64 = 15 * 60;
/// Longest lifetime a client token may be given.
pub const MAX_CLIENT_TOKEN_TTL_SECS: u64 = 24 * 60 * 60;

/// Body of `POST /api/v3.1/tool_router/session/{id}/client_token`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ClientTokenRequest {
    /// Lifetime in seconds (default 900, at most 86400).
    #[serde(default, deserialize_with = "crate::model::whole::option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 86400))]
    pub ttl_seconds: Option<u64>,
}

/// A minted client token: hand `token` to the browser; it is shown once.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ClientToken {
    /// `ct_…`, to revoke it by.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^ct_[A-Za-z0-9]{1,64}$"))]
    pub id: String,
    /// The secret (`glct_…`), sent as `Authorization: Bearer`.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^glct_"))]
    pub token: String,
    /// The one session it can act on.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^trs_[A-Za-z0-9]{1,64}$"))]
    pub session_id: String,
    /// RFC 3339 time after which it is refused.
    pub expires_at: String,
}

impl std::fmt::Debug for ClientToken {
    // The token is a credential: never print it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientToken")
            .field("id", &self.id)
            .field("token", &"***")
            .field("session_id", &self.session_id)
            .field("expires_at", &self.expires_at)
            .finish()
    }
}
