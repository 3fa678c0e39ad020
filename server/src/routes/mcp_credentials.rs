//! `/api/v3.1/…/mcp_credentials…`: session-scoped credentials for MCP clients, so none of them
//! holds the project API key. An API key alone may mint, list and revoke them.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use grantline_core::model::{McpCredential, McpCredentialList, McpCredentialRequest, SuccessResponse};

use super::openapi::ResourceErrors;
use crate::error::ApiResult;
use crate::extract::{Caller, OptionalApiJson};
use crate::AppState;

/// Mint an MCP credential: it opens this session's MCP endpoint (as the session's user) and nothing else.
///
/// Give the answer's `mcp.url` and `mcp.headers` (`Authorization: Bearer glmcp_…`) to the MCP
/// client; never the API key. The secret is shown once. It lives `ttl_seconds` (default 30 days,
/// at most 365 days), until revoked, until the API key that minted it is revoked, or until the
/// session is deleted. An empty body means the defaults. Only an API key may mint one: a client
/// token or an MCP credential is refused (403).
#[utoipa::path(
    post,
    path = "/tool_router/session/{id}/mcp_credentials",
    operation_id = "create_mcp_credential",
    tag = "mcp credentials",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
    ),
    request_body(content = Option<McpCredentialRequest>, content_type = "application/json"),
    responses((status = 201, description = "The credential; `secret` (and the header carrying it) is shown once.", body = McpCredential), ResourceErrors),
)]
pub async fn create(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    OptionalApiJson(req): OptionalApiJson<McpCredentialRequest>,
) -> ApiResult<(StatusCode, Json<McpCredential>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_mcp_credential(&who, &id, req).await?)))
}

/// List the session's MCP credentials, newest first, never their secrets.
///
/// Revoked and expired credentials stay listed (with `status`) until the retention sweeper removes them.
#[utoipa::path(
    get,
    path = "/tool_router/session/{id}/mcp_credentials",
    operation_id = "list_mcp_credentials",
    tag = "mcp credentials",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
    ),
    responses((status = 200, description = "The credentials, without secrets.", body = McpCredentialList), ResourceErrors),
)]
pub async fn list(State(s): State<AppState>, Caller(who): Caller, Path(id): Path<String>) -> ApiResult<Json<McpCredentialList>> {
    Ok(Json(s.engine.list_mcp_credentials(&who, &id).await?))
}

/// Revoke an MCP credential: the MCP endpoint refuses it from now on.
#[utoipa::path(
    delete,
    path = "/tool_router/session/{id}/mcp_credentials/{credential_id}",
    operation_id = "revoke_mcp_credential",
    tag = "mcp credentials",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
        ("credential_id" = String, Path, description = "The credential's id (`mcpc_…`).", pattern = r"^mcpc_[A-Za-z0-9]{1,64}$"),
    ),
    responses((status = 200, description = "Revoked.", body = SuccessResponse), ResourceErrors),
)]
pub async fn revoke(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((id, credential_id)): Path<(String, String)>,
) -> ApiResult<Json<SuccessResponse>> {
    s.engine.revoke_mcp_credential(&who, &id, &credential_id).await?;
    Ok(Json(SuccessResponse { success: true }))
}
