//! Identifier prefixes, so an id says what it names (`trs_…` is a session).

/// Prefix of tool-router session ids.
pub const SESSION_PREFIX: &str = "trs_";
/// Prefix of connected account ids.
pub const ACCOUNT_PREFIX: &str = "ca_";
/// Prefix of auth config ids.
pub const AUTH_CONFIG_PREFIX: &str = "ac_";
/// Prefix of Connect Link tokens.
pub const LINK_PREFIX: &str = "ln_";
/// Prefix of project ids.
pub const PROJECT_PREFIX: &str = "pr_";
/// Prefix of API key ids (not the key itself).
pub const API_KEY_ID_PREFIX: &str = "ak_";
/// Prefix of the API key secret handed to users.
pub const API_KEY_PREFIX: &str = "gl_";
/// Prefix of client token ids (not the token itself).
pub const CLIENT_TOKEN_ID_PREFIX: &str = "ct_";
/// Prefix of the session-scoped client token secret a browser holds.
pub const CLIENT_TOKEN_PREFIX: &str = "glct_";
/// Prefix of MCP credential ids (not the secret itself).
pub const MCP_CREDENTIAL_ID_PREFIX: &str = "mcpc_";
/// Prefix of the session-scoped MCP credential secret an MCP client sends as `Authorization: Bearer`.
pub const MCP_CREDENTIAL_PREFIX: &str = "glmcp_";
/// Prefix of the ids the broker gives MCP clients it registers (RFC 7591).
pub const MCP_CLIENT_ID_PREFIX: &str = "mcpcl_";

/// Prefix of webhook subscription ids.
pub const WEBHOOK_SUBSCRIPTION_PREFIX: &str = "ws_";
/// Prefix of webhook messages (deliveries): the `webhook-id` header.
pub const WEBHOOK_MESSAGE_PREFIX: &str = "msg_";

/// Checks that `id` looks like an id with `prefix`, naming `field` when it does not.
pub fn check_id(field: &str, id: &str, prefix: &str) -> crate::Result<()> {
    let rest = id.strip_prefix(prefix).unwrap_or("");
    if rest.is_empty() || rest.len() > 64 || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(crate::Error::validation(field, format!("expected an id starting with `{prefix}`")));
    }
    Ok(())
}

/// Prefix of user verification flow ids (one-time, stored hashed).
pub const USER_VERIFICATION_PREFIX: &str = "uvf_";
