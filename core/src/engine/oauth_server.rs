//! What an OAuth 2.0 authorization server inside the broker reads and answers: the
//! authorization request, the token and revocation forms (RFC 6749, 7636, 7009, 8707), and error
//! answers. Two servers share them — the dev `sandbox` provider and MCP authorization
//! (`mcp_auth/`) — and each states its own rules about every field, refusing what it does not
//! implement.

use serde::Deserialize;
use serde_json::{json, Value};

/// An OAuth error answer: HTTP status and `{error, error_description}` (RFC 6749 §5.2).
pub type OAuthError = (u16, Value);

pub(crate) fn oauth_error(status: u16, error: &str, description: impl Into<String>) -> OAuthError {
    (status, json!({"error": error, "error_description": description.into()}))
}

/// The query of an authorization endpoint.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams), into_params(parameter_in = Query))]
pub struct AuthorizeRequest {
    /// Must be `code`.
    pub response_type: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// One of the client's redirect URIs.
    pub redirect_uri: Option<String>,
    /// Echoed back.
    pub state: Option<String>,
    /// Requested scopes.
    pub scope: Option<String>,
    /// PKCE challenge (required by both servers).
    pub code_challenge: Option<String>,
    /// Must be `S256`.
    pub code_challenge_method: Option<String>,
    /// The resource indicator (RFC 8707).
    pub resource: Option<String>,
}

impl AuthorizeRequest {
    /// The request from a query's parameters (`get` answers one parameter's value).
    pub fn from_query(get: impl Fn(&str) -> Option<String>) -> Self {
        Self {
            response_type: get("response_type"),
            client_id: get("client_id"),
            redirect_uri: get("redirect_uri"),
            state: get("state"),
            scope: get("scope"),
            code_challenge: get("code_challenge"),
            code_challenge_method: get("code_challenge_method"),
            resource: get("resource"),
        }
    }
}

/// The form of a token endpoint. Its `Debug` prints no code, secret, verifier or token.
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenRequest {
    /// `authorization_code` or `refresh_token`.
    pub grant_type: Option<String>,
    /// The code.
    pub code: Option<String>,
    /// Same as at the authorization endpoint.
    pub redirect_uri: Option<String>,
    /// The client.
    pub client_id: Option<String>,
    /// The client's secret (confidential clients only).
    pub client_secret: Option<String>,
    /// PKCE verifier.
    pub code_verifier: Option<String>,
    /// For `refresh_token` grants.
    pub refresh_token: Option<String>,
    /// The resource indicator (RFC 8707).
    pub resource: Option<String>,
    /// Requested scopes.
    pub scope: Option<String>,
}

impl std::fmt::Debug for TokenRequest {
    // Only whether each secret is there.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("code", &hidden(&self.code))
            .field("redirect_uri", &self.redirect_uri)
            .field("client_id", &self.client_id)
            .field("client_secret", &hidden(&self.client_secret))
            .field("code_verifier", &hidden(&self.code_verifier))
            .field("refresh_token", &hidden(&self.refresh_token))
            .field("resource", &self.resource)
            .field("scope", &self.scope)
            .finish()
    }
}

/// The form of a revocation endpoint (RFC 7009). Its `Debug` prints no token or secret.
#[derive(Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokeRequest {
    /// The access or refresh token to revoke.
    pub token: Option<String>,
    /// A hint (RFC 7009 §2.1); either kind is looked up anyway.
    pub token_type_hint: Option<String>,
    /// The client the token was issued to.
    pub client_id: Option<String>,
    /// The client's secret (confidential clients only).
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for RevokeRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("RevokeRequest")
            .field("token", &hidden(&self.token))
            .field("token_type_hint", &self.token_type_hint)
            .field("client_id", &self.client_id)
            .field("client_secret", &hidden(&self.client_secret))
            .finish()
    }
}
