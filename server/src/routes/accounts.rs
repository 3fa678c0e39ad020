//! `/api/v3.1/connected_accounts…`

use std::time::Duration;

use axum::extract::{Path, State};
use axum::Json;
use grantline_core::model::{
    AccountFilter, AccountOrder, AccountStatus, ConnectedAccount, DeleteAccountResponse, Page, PageRequest, RefreshAccountRequest,
    RefreshAccountResponse, RevokeAccountResponse, SuccessResponse, UpdateAccountStatusRequest,
};
use grantline_core::Error;

use crate::error::ApiResult;
use crate::extract::{ApiJson, Caller, ClientCaller, OptionalApiJson, QueryParams};
use crate::AppState;

pub async fn get(State(s): State<AppState>, ClientCaller(who): ClientCaller, Path(id): Path<String>) -> ApiResult<Json<ConnectedAccount>> {
    Ok(Json(s.engine.get_account(&who, &id).await?))
}

pub async fn list(State(s): State<AppState>, Caller(who): Caller, q: QueryParams) -> ApiResult<Json<Page<ConnectedAccount>>> {
    q.only(&[
        "user_ids", "user_ids[]", "toolkit_slugs", "toolkit_slugs[]", "statuses", "statuses[]", "connected_account_ids",
        "connected_account_ids[]", "auth_config_ids", "auth_config_ids[]", "order_by", "order_direction", "account_type", "cursor", "limit",
    ])?;
    let page = PageRequest::parse(q.get("cursor"), q.get("limit"))?;
    let statuses = q
        .list("statuses")
        .iter()
        .map(|s| AccountStatus::parse(s).ok_or_else(|| Error::validation("statuses", format!("unknown status {s:?}"))))
        .collect::<Result<_, _>>()?;
    let order_by = match q.get("order_by") {
        None | Some("created_at") => AccountOrder::CreatedAt,
        Some("updated_at") => AccountOrder::UpdatedAt,
        Some(other) => return Err(Error::validation("order_by", format!("expected created_at or updated_at, got {other:?}")).into()),
    };
    let ascending = match q.get("order_direction") {
        None | Some("desc") => false,
        Some("asc") => true,
        Some(other) => return Err(Error::validation("order_direction", format!("expected asc or desc, got {other:?}")).into()),
    };
    // Every Grantline account belongs to its one user: none is SHARED.
    let shared_only = match q.get("account_type") {
        None | Some("PRIVATE") | Some("ALL") => false,
        Some("SHARED") => true,
        Some(other) => return Err(Error::validation("account_type", format!("expected PRIVATE, SHARED or ALL, got {other:?}")).into()),
    };
    let filter = AccountFilter {
        user_ids: q.list("user_ids"),
        toolkit_slugs: q.list("toolkit_slugs"),
        statuses,
        ids: q.list("connected_account_ids"),
        auth_config_ids: q.list("auth_config_ids"),
        order_by,
        ascending,
        shared_only,
    };
    Ok(Json(s.engine.list_accounts(&who, &filter, page).await?))
}

/// `?revoke_on_delete=true` revokes the grant at the provider first.
pub async fn delete(State(s): State<AppState>, Caller(who): Caller, Path(id): Path<String>, q: QueryParams) -> ApiResult<Json<DeleteAccountResponse>> {
    q.only(&["revoke_on_delete"])?;
    let revoke = q.bool("revoke_on_delete")?.unwrap_or(false);
    Ok(Json(s.engine.delete_account(&who, &id, revoke).await?))
}

pub async fn revoke(State(s): State<AppState>, Caller(who): Caller, Path(id): Path<String>) -> ApiResult<Json<RevokeAccountResponse>> {
    Ok(Json(s.engine.revoke_account(&who, &id).await?))
}

/// A new Connect Link for the account, which keeps its id. `redirect_url` comes in the JSON body
/// (Composio's Python SDK) or the query (its Node SDK); the body may be absent.
pub async fn refresh(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    q: QueryParams,
    OptionalApiJson(mut req): OptionalApiJson<RefreshAccountRequest>,
) -> ApiResult<Json<RefreshAccountResponse>> {
    q.only(&["redirect_url"])?;
    match (q.get("redirect_url").filter(|u| !u.is_empty()), req.redirect_url.as_deref()) {
        (Some(query), Some(body)) if query != body => {
            return Err(Error::validation("redirect_url", "given in the query and in the body with different values").into())
        }
        (Some(query), _) => req.redirect_url = Some(query.to_string()),
        (None, _) => {}
    }
    Ok(Json(s.engine.reconnect_account(&who, &id, req).await?))
}

pub async fn set_status(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateAccountStatusRequest>,
) -> ApiResult<Json<SuccessResponse>> {
    s.engine.set_account_enabled(&who, &id, req.enabled).await?;
    Ok(Json(SuccessResponse { success: true }))
}

/// Long-poll: `timeout_ms` defaults to 30 s and is capped by `--max-wait-secs`.
pub async fn wait(
    State(s): State<AppState>,
    ClientCaller(who): ClientCaller,
    Path(id): Path<String>,
    q: QueryParams,
) -> ApiResult<Json<ConnectedAccount>> {
    q.only(&["timeout_ms"])?;
    let ms = match q.get("timeout_ms") {
        None => 30_000,
        Some(v) => v.parse::<u64>().map_err(|_| Error::validation("timeout_ms", "expected a whole number of milliseconds"))?,
    };
    Ok(Json(s.engine.wait_for_account(&who, &id, Duration::from_millis(ms)).await?))
}
