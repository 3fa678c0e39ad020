//! `/api/v3.1/tool_router/session…`

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use grantline_core::engine::ToolkitFilter;
use grantline_core::model::{
    CreateSessionRequest, DeleteSessionResponse, UpdateSessionRequest, ExecuteMetaRequest, ExecuteMetaResponse, ExecuteRequest, ExecuteResponse, LinkRequest, LinkResponse,
    Page, PageRequest, ProxyRequest, ProxyResponse, SearchRequest, SearchResponse, SessionInfo, ToolInfo, ToolkitItem,
};

use super::openapi::{ChangeErrors, ProviderErrors, ResourceErrors};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Caller, ClientCaller, QueryParams};
use crate::AppState;

/// Create a session for one end user.
#[utoipa::path(
    post,
    path = "/tool_router/session",
    operation_id = "create_session",
    tag = "sessions",
    security(("apiKey" = [])),
    request_body = CreateSessionRequest,
    responses((status = 201, description = "The new session.", body = SessionInfo), ResourceErrors),
)]
pub async fn create(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(req): ApiJson<CreateSessionRequest>,
) -> ApiResult<(StatusCode, Json<SessionInfo>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_session(&who, req).await?)))
}

/// Get a session.
#[utoipa::path(
    get,
    path = "/tool_router/session/{id}",
    operation_id = "get_session",
    tag = "sessions",
    security(("apiKey" = []), ("clientToken" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
    ),
    responses((status = 200, description = "The session.", body = SessionInfo), ResourceErrors),
)]
pub async fn get(State(s): State<AppState>, ClientCaller(who): ClientCaller, Path(id): Path<String>) -> ApiResult<Json<SessionInfo>> {
    Ok(Json(s.engine.get_session(&who, &id).await?))
}

/// Update a session's config (optimistic concurrency with `expected_config_version`).
/// 
/// The fields given replace the session's; the others stay. A session changed since `expected_config_version` answers 409.
#[utoipa::path(
    patch,
    path = "/tool_router/session/{id}",
    operation_id = "update_session",
    tag = "sessions",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
    ),
    request_body = UpdateSessionRequest,
    responses((status = 200, description = "The updated session.", body = SessionInfo), ChangeErrors),
)]
pub async fn update(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateSessionRequest>,
) -> ApiResult<Json<SessionInfo>> {
    Ok(Json(s.engine.update_session(&who, &id, req).await?))
}

/// Delete a session and its client tokens (the user's accounts stay).
#[utoipa::path(
    delete,
    path = "/tool_router/session/{id}",
    operation_id = "delete_session",
    tag = "sessions",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
    ),
    responses((status = 200, description = "Deleted.", body = DeleteSessionResponse), ResourceErrors),
)]
pub async fn delete(State(s): State<AppState>, Caller(who): Caller, Path(id): Path<String>) -> ApiResult<Json<DeleteSessionResponse>> {
    Ok(Json(s.engine.delete_session(&who, &id).await?))
}

/// Start connecting a toolkit: an INITIATED account and its Connect Link.
#[utoipa::path(
    post,
    path = "/tool_router/session/{id}/link",
    operation_id = "create_link",
    tag = "sessions",
    security(("apiKey" = []), ("clientToken" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
    ),
    request_body = LinkRequest,
    responses((status = 201, description = "The Connect Link and the INITIATED account it completes.", body = LinkResponse), ChangeErrors),
)]
pub async fn link(
    State(s): State<AppState>,
    ClientCaller(who): ClientCaller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<LinkRequest>,
) -> ApiResult<(StatusCode, Json<LinkResponse>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_link(&who, &id, req).await?)))
}

/// The session's toolkits with the user's connection state.
#[utoipa::path(
    get,
    path = "/tool_router/session/{id}/toolkits",
    operation_id = "list_session_toolkits",
    tag = "sessions",
    security(("apiKey" = []), ("clientToken" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page.", pattern = r"^([1-9][0-9]{0,8})?$"),
        ("limit" = Option<u32>, Query, description = "Items per page (default 20).", minimum = 1, maximum = 100),
        ("toolkits" = Option<Vec<String>>, Query, description = "Only these toolkit slugs (repeated, or comma-separated)."),
        ("is_connected" = Option<bool>, Query, description = "Only connected (`true`) or unconnected (`false`) toolkits."),
        ("search" = Option<String>, Query, description = "Case-insensitive text in slug, name or description."),
    ),
    responses((status = 200, description = "One page of toolkits.", body = Page<ToolkitItem>), ResourceErrors),
)]
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

/// The session's meta tools, then its direct tools, one page.
#[utoipa::path(
    get,
    path = "/tool_router/session/{id}/tools",
    operation_id = "list_session_tools",
    tag = "tools",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page.", pattern = r"^([1-9][0-9]{0,8})?$"),
        ("limit" = Option<u32>, Query, description = "Items per page (default 20).", minimum = 1, maximum = 500),
    ),
    responses((status = 200, description = "One page of tools.", body = Page<ToolInfo>), ResourceErrors),
)]
pub async fn tools(State(s): State<AppState>, Caller(who): Caller, Path(id): Path<String>, q: QueryParams) -> ApiResult<Json<Page<ToolInfo>>> {
    q.only(&["cursor", "limit"])?;
    let page = PageRequest::parse_up_to(q.get("cursor"), q.get("limit"), grantline_core::engine::MAX_TOOLS_PAGE)?;
    Ok(Json(s.engine.session_tools(&who, &id, page).await?))
}

/// Run a meta tool (COMPOSIO_MANAGE_CONNECTIONS, _SEARCH_TOOLS, _GET_TOOL_SCHEMAS, _MULTI_EXECUTE_TOOL, _WAIT_FOR_CONNECTIONS).
#[utoipa::path(
    post,
    path = "/tool_router/session/{id}/execute_meta",
    operation_id = "execute_meta_tool",
    tag = "tools",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
    ),
    request_body = ExecuteMetaRequest,
    responses((status = 200, description = "What the tool gave.", body = ExecuteMetaResponse), ProviderErrors),
)]
pub async fn execute_meta(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ExecuteMetaRequest>,
) -> ApiResult<Json<ExecuteMetaResponse>> {
    Ok(Json(s.engine.execute_meta(&who, &id, req).await?))
}

/// Run a toolkit tool, or a meta tool (COMPOSIO_…), as the session's user.
/// 
/// The user's connected account signs the call (an expired OAuth token is refreshed first). A toolkit that is not connected answers successful=false with data.next_step naming COMPOSIO_MANAGE_CONNECTIONS.
#[utoipa::path(
    post,
    path = "/tool_router/session/{id}/execute",
    operation_id = "execute_tool",
    tag = "tools",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
    ),
    request_body = ExecuteRequest,
    responses((status = 200, description = "What running the tool gave.", body = ExecuteResponse), ProviderErrors),
)]
pub async fn execute(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ExecuteRequest>,
) -> ApiResult<Json<ExecuteResponse>> {
    Ok(Json(s.engine.execute_tool(&who, &id, req).await?))
}

/// Rank the session's tools for one or more use cases (BM25); the same answer as COMPOSIO_SEARCH_TOOLS.
#[utoipa::path(
    post,
    path = "/tool_router/session/{id}/search",
    operation_id = "search_tools",
    tag = "tools",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
    ),
    request_body = SearchRequest,
    responses((status = 200, description = "The tools found per use case.", body = SearchResponse), ResourceErrors),
)]
pub async fn search(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SearchRequest>,
) -> ApiResult<Json<SearchResponse>> {
    Ok(Json(s.engine.search_tools(&who, &id, req).await?))
}

/// An authenticated request to a provider's API as the session's user.
/// 
/// `endpoint` is a path under the toolkit's API base URL, or an absolute URL on the same host; credentials are never sent elsewhere.
#[utoipa::path(
    post,
    path = "/tool_router/session/{id}/proxy_execute",
    operation_id = "proxy_execute",
    tag = "tools",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
    ),
    request_body = ProxyRequest,
    responses((status = 200, description = "The provider's answer.", body = ProxyResponse), ProviderErrors),
)]
pub async fn proxy_execute(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ProxyRequest>,
) -> ApiResult<Json<ProxyResponse>> {
    Ok(Json(s.engine.proxy_execute(&who, &id, req).await?))
}
