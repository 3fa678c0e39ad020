//! `/api/v3.1/…/client_token…`: session-scoped tokens for browser widgets.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use grantline_core::model::{ClientToken, ClientTokenRequest, SessionInfo, SuccessResponse};

use crate::error::ApiResult;
use crate::extract::{parse_json, Caller, ClientCaller};
use crate::AppState;

pub async fn create(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ClientToken>)> {
    // An empty body means the defaults.
    let req: ClientTokenRequest = if body.is_empty() { ClientTokenRequest::default() } else { parse_json(&body)? };
    Ok((StatusCode::CREATED, Json(s.engine.create_client_token(&who, &id, req).await?)))
}

pub async fn revoke(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((id, token_id)): Path<(String, String)>,
) -> ApiResult<Json<SuccessResponse>> {
    s.engine.revoke_client_token(&who, &id, &token_id).await?;
    Ok(Json(SuccessResponse { success: true }))
}

pub async fn session(State(s): State<AppState>, ClientCaller(who): ClientCaller) -> ApiResult<Json<SessionInfo>> {
    Ok(Json(s.engine.client_token_session(&who).await?))
}
