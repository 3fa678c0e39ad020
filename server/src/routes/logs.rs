//! `/api/v3.1/logs…`: the executions the broker recorded (tool runs, proxied requests, meta
//! tools), found by the `log_id` each answered with. No arguments or answers are kept.

use axum::extract::{Path, State};
use axum::Json;
use grantline_core::engine::store::LogFilter;
use grantline_core::model::{ExecutionLog, Page, PageRequest};

use super::openapi::{ListErrors, ResourceErrors};
use crate::error::ApiResult;
use crate::extract::{Caller, QueryParams};
use crate::AppState;

/// Get one execution's log.
#[utoipa::path(
    get,
    path = "/logs/{log_id}",
    operation_id = "get_execution_log",
    tag = "logs",
    security(("apiKey" = [])),
    params(("log_id" = String, Path, description = "The `log_id` an execution answered with (`log_…`).", pattern = r"^log_[A-Za-z0-9]{1,64}$")),
    responses((status = 200, description = "Who ran what, how it ended and how long it took (never its arguments or answer).", body = ExecutionLog), ResourceErrors),
)]
pub async fn get(State(s): State<AppState>, Caller(who): Caller, Path(log_id): Path<String>) -> ApiResult<Json<ExecutionLog>> {
    Ok(Json(s.engine.get_execution_log(&who, &log_id).await?))
}

/// List execution logs, newest first.
#[utoipa::path(
    get,
    path = "/logs",
    operation_id = "list_execution_logs",
    tag = "logs",
    security(("apiKey" = [])),
    params(
        ("user_id" = Option<String>, Query, description = "Only this end user's executions."),
        ("account_id" = Option<String>, Query, description = "Only those signed by this connected account (`ca_…`)."),
        ("toolkit" = Option<String>, Query, description = "Only this toolkit's (`composio` for meta tools)."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page.", pattern = r"^([1-9][0-9]{0,8})?$"),
        ("limit" = Option<u32>, Query, description = "Items per page (default 20).", minimum = 1, maximum = 100),
    ),
    responses((status = 200, description = "One page of execution logs.", body = Page<ExecutionLog>), ListErrors),
)]
pub async fn list(State(s): State<AppState>, Caller(who): Caller, q: QueryParams) -> ApiResult<Json<Page<ExecutionLog>>> {
    q.only(&["user_id", "account_id", "toolkit", "cursor", "limit"])?;
    let page = PageRequest::parse(q.get("cursor"), q.get("limit"))?;
    let value = |name: &str| q.get(name).map(str::trim).filter(|v| !v.is_empty()).map(str::to_string);
    let filter = LogFilter { user_id: value("user_id"), account_id: value("account_id"), toolkit: value("toolkit") };
    Ok(Json(s.engine.list_execution_logs(&who, &filter, page).await?))
}
