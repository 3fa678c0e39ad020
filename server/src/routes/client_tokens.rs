//! `/api/v3.1/…/client_token…`: session-scoped tokens for browser widgets.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use grantline_core::model::{ClientToken, ClientTokenRequest, SessionInfo, SuccessResponse};

use super::openapi::ResourceErrors;
use crate::error::ApiResult;
use crate::extract::{parse_json, Caller, ClientTokenCaller};
use crate::AppState;

/// Mint a short-lived client token that can only authorize, wait and list toolkits in this session (for a browser widget).
/// 
/// An empty body means the defaults.
#[utoipa::path(
    post,
    path = "/tool_router/session/{id}/client_token",
    operation_id = "create_client_token",
    tag = "client tokens",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
    ),
    request_body(content = Option<ClientTokenRequest>, content_type = "application/json"),
    responses((status = 201, description = "The token; `token` is shown once.", body = ClientToken), ResourceErrors),
)]
pub async fn create(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ClientToken>)> {
    // An empty body (or `null`) means the defaults.
    let req: ClientTokenRequest =
        if body.is_empty() { ClientTokenRequest::default() } else { parse_json::<Option<ClientTokenRequest>>(&body)?.unwrap_or_default() };
    Ok((StatusCode::CREATED, Json(s.engine.create_client_token(&who, &id, req).await?)))
}

/// Revoke a client token.
#[utoipa::path(
    delete,
    path = "/tool_router/session/{id}/client_token/{token_id}",
    operation_id = "revoke_client_token",
    tag = "client tokens",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
        ("token_id" = String, Path, description = "The client token's id (`ct_…`).", pattern = r"^ct_[A-Za-z0-9]{1,64}$"),
    ),
    responses((status = 200, description = "Revoked.", body = SuccessResponse), ResourceErrors),
)]
pub async fn revoke(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((id, token_id)): Path<(String, String)>,
) -> ApiResult<Json<SuccessResponse>> {
    s.engine.revoke_client_token(&who, &id, &token_id).await?;
    Ok(Json(SuccessResponse { success: true }))
}

/// The session the calling client token acts on.
#[utoipa::path(
    get,
    path = "/client_token/session",
    operation_id = "client_token_session",
    tag = "client tokens",
    security(("clientToken" = [])),
    responses((status = 200, description = "The session. Only a client token is accepted: without one (an API key alone included) the answer is 401.", body = SessionInfo), ResourceErrors),
)]
pub async fn session(State(s): State<AppState>, ClientTokenCaller(who): ClientTokenCaller) -> ApiResult<Json<SessionInfo>> {
    Ok(Json(s.engine.client_token_session(&who).await?))
}
