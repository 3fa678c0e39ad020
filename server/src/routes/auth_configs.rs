//! `/api/v3.1/auth_configs`

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use grantline_core::model::{AuthConfigInfo, CreateAuthConfigRequest, CreateAuthConfigResponse};
use serde_json::{json, Value};

use crate::error::ApiResult;
use crate::extract::{ApiJson, Caller};
use crate::AppState;

pub async fn create(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(req): ApiJson<CreateAuthConfigRequest>,
) -> ApiResult<(StatusCode, Json<CreateAuthConfigResponse>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_auth_config(&who, req).await?)))
}

pub async fn list(State(s): State<AppState>, Caller(who): Caller) -> ApiResult<Json<Value>> {
    let items: Vec<AuthConfigInfo> = s.engine.list_auth_configs(&who).await?;
    let n = items.len();
    Ok(Json(json!({"items": items, "next_cursor": null, "total_pages": 1, "current_page": 1, "total_items": n})))
}
