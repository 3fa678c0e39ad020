//! `/api/v3.1/tool_router/session…`

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use grantline_core::engine::ToolkitFilter;
use grantline_core::model::{
    CreateSessionRequest, DeleteSessionResponse, UpdateSessionRequest, ExecuteMetaRequest, ExecuteMetaResponse, ExecuteRequest, ExecuteResponse, LinkRequest, LinkResponse,
    Page, PageRequest, ProxyRequest, ProxyResponse, SearchRequest, SearchResponse, SessionInfo, ToolInfo, ToolkitItem,
};

use crate::error::ApiResult;
use crate::extract::{ApiJson, Caller, ClientCaller, QueryParams};
use crate::AppState;

pub async fn create(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(req): ApiJson<CreateSessionRequest>,
) -> ApiResult<(StatusCode, Json<SessionInfo>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_session(&who, req).await?)))
}

pub async fn get(State(s): State<AppState>, ClientCaller(who): ClientCaller, Path(id): Path<String>) -> ApiResult<Json<SessionInfo>> {
    Ok(Json(s.engine.get_session(&who, &id).await?))
}

pub async fn update(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateSessionRequest>,
) -> ApiResult<Json<SessionInfo>> {
    Ok(Json(s.engine.update_session(&who, &id, req).await?))
}

pub async fn delete(State(s): State<AppState>, Caller(who): Caller, Path(id): Path<String>) -> ApiResult<Json<DeleteSessionResponse>> {
    Ok(Json(s.engine.delete_session(&who, &id).await?))
}

pub async fn link(
    State(s): State<AppState>,
    ClientCaller(who): ClientCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<LinkRequest>,
) -> ApiResult<(StatusCode, Json<LinkResponse>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_link(&who, &id, req).await?)))
}

pub async fn toolkits(
    State(s): State<AppState>,
    ClientCaller(who): ClientCaller,
    Path(id): Path<String>,
    q: QueryParams,
) -> ApiResult<Json<Page<ToolkitItem>>> {
    q.only(&["cursor", "limit", "toolkits", "toolkits[]", "is_connected", "search"])?;
    let page = PageRequest::parse(q.get("cursor"), q.get("limit"))?;
    let filter = ToolkitFilter {
        toolkits: q.list("toolkits"),
        is_connected: q.bool("is_connected")?,
        search: q.get("search").map(str::to_string),
    };
    Ok(Json(s.engine.session_toolkits(&who, &id, filter, page).await?))
}

pub async fn tools(State(s): State<AppState>, Caller(who): Caller, Path(id): Path<String>, q: QueryParams) -> ApiResult<Json<Page<ToolInfo>>> {
    q.only(&["cursor", "limit"])?;
    let page = PageRequest::parse_up_to(q.get("cursor"), q.get("limit"), grantline_core::engine::MAX_TOOLS_PAGE)?;
    Ok(Json(s.engine.session_tools(&who, &id, page).await?))
}

pub async fn execute_meta(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ExecuteMetaRequest>,
) -> ApiResult<Json<ExecuteMetaResponse>> {
    Ok(Json(s.engine.execute_meta(&who, &id, req).await?))
}

pub async fn execute(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ExecuteRequest>,
) -> ApiResult<Json<ExecuteResponse>> {
    Ok(Json(s.engine.execute_tool(&who, &id, req).await?))
}

pub async fn search(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SearchRequest>,
) -> ApiResult<Json<SearchResponse>> {
    Ok(Json(s.engine.search_tools(&who, &id, req).await?))
}

pub async fn proxy_execute(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ProxyRequest>,
) -> ApiResult<Json<ProxyResponse>> {
    Ok(Json(s.engine.proxy_execute(&who, &id, req).await?))
}
