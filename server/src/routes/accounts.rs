//! `/api/v3.1/connected_accounts…`

use std::time::Duration;

use axum::extract::{Path, State};
use axum::Json;
use grantline_core::model::{
    AccountFilter, AccountOrder, AccountStatus, ConnectedAccount, DeleteAccountResponse, Page, PageRequest, RefreshAccountRequest,
    RefreshAccountResponse, RevokeAccountResponse, SuccessResponse, UpdateAccountStatusRequest,
};
use grantline_core::Error;

use super::openapi::{ChangeErrors, ListErrors, ProviderErrors, ResourceErrors};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Caller, ClientCaller, OptionalApiJson, QueryParams};
use crate::AppState;

// The account list's query values, as the OpenAPI document names them ([`list`] parses them).
/// The time a list of accounts is ordered by.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, non_camel_case_types)]
pub(crate) enum AccountOrderBy {
    created_at,
    updated_at,
}

/// Oldest or newest first.
#[derive(utoipa::ToSchema)]
#[allow(dead_code, non_camel_case_types)]
pub(crate) enum OrderDirection {
    asc,
    desc,
}

/// Composio's account types; every Grantline account is `PRIVATE`.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub(crate) enum AccountType {
    PRIVATE,
    SHARED,
    ALL,
}

/// Get a connected account.
#[utoipa::path(
    get,
    path = "/connected_accounts/{id}",
    operation_id = "get_connected_account",
    tag = "connected accounts",
    security(("apiKey" = []), ("clientToken" = [])),
    params(
        ("id" = String, Path, description = "The connected account (`ca_…`).", pattern = r"^ca_[A-Za-z0-9]{1,64}$"),
    ),
    responses((status = 200, description = "The account (never its credentials).", body = ConnectedAccount), ResourceErrors),
)]
pub async fn get(State(s): State<AppState>, ClientCaller(who): ClientCaller, Path(id): Path<String>) -> ApiResult<Json<ConnectedAccount>> {
    Ok(Json(s.engine.get_account(&who, &id).await?))
}

/// List connected accounts.
#[utoipa::path(
    get,
    path = "/connected_accounts",
    operation_id = "list_connected_accounts",
    tag = "connected accounts",
    security(("apiKey" = [])),
    params(
        ("user_ids" = Option<Vec<String>>, Query, description = "Only these end users (repeated, or comma-separated; also `user_ids[]`)."),
        ("toolkit_slugs" = Option<Vec<String>>, Query, description = "Only these toolkits."),
        ("statuses" = Option<Vec<AccountStatus>>, Query, description = "Only these statuses."),
        ("connected_account_ids" = Option<Vec<String>>, Query, description = "Only these accounts (`ca_…`)."),
        ("auth_config_ids" = Option<Vec<String>>, Query, description = "Only accounts made with these auth configs (`ac_…`)."),
        ("order_by" = Option<AccountOrderBy>, Query, description = "Which time orders the list (default `created_at`)."),
        ("order_direction" = Option<OrderDirection>, Query, description = "`desc` (newest first, the default) or `asc`."),
        ("account_type" = Option<AccountType>, Query, description = "Every Grantline account is its user's own (`PRIVATE`): `SHARED` lists none."),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page.", pattern = r"^([1-9][0-9]{0,8})?$"),
        ("limit" = Option<u32>, Query, description = "Items per page (default 20).", minimum = 1, maximum = 100),
    ),
    responses((status = 200, description = "One page of accounts.", body = Page<ConnectedAccount>), ListErrors),
)]
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

/// Delete a connected account and its credentials; with revoke_on_delete=true the provider revokes the grant first.
#[utoipa::path(
    delete,
    path = "/connected_accounts/{id}",
    operation_id = "delete_connected_account",
    tag = "connected accounts",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The connected account (`ca_…`).", pattern = r"^ca_[A-Za-z0-9]{1,64}$"),
        ("revoke_on_delete" = Option<bool>, Query, description = "Revoke the grant at the provider first (default false)."),
    ),
    responses((status = 200, description = "Deleted.", body = DeleteAccountResponse), ProviderErrors),
)]
pub async fn delete(State(s): State<AppState>, Caller(who): Caller, Path(id): Path<String>, q: QueryParams) -> ApiResult<Json<DeleteAccountResponse>> {
    q.only(&["revoke_on_delete"])?;
    let revoke = q.bool("revoke_on_delete")?.unwrap_or(false);
    Ok(Json(s.engine.delete_account(&who, &id, revoke).await?))
}

/// Revoke the grant at the provider (RFC 7009) and mark the account REVOKED, wiping its credentials.
#[utoipa::path(
    post,
    path = "/connected_accounts/{id}/revoke",
    operation_id = "revoke_connected_account",
    tag = "connected accounts",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The connected account (`ca_…`).", pattern = r"^ca_[A-Za-z0-9]{1,64}$"),
    ),
    responses((status = 200, description = "Revoked.", body = RevokeAccountResponse), ProviderErrors),
)]
pub async fn revoke(State(s): State<AppState>, Caller(who): Caller, Path(id): Path<String>) -> ApiResult<Json<RevokeAccountResponse>> {
    Ok(Json(s.engine.revoke_account(&who, &id).await?))
}

/// Reconnect the account under the same id: a new Connect Link.
/// 
/// The account keeps its status and credentials until the user completes it (then it is ACTIVE with the new credentials); a refused or expired link leaves it as it was; older links of the account stop working. An INITIATED account simply gets a fresh link. Project API key only. `redirect_url` comes in the JSON body (Composio's Python SDK) or the query (its Node SDK); the body may be absent.
#[utoipa::path(
    post,
    path = "/connected_accounts/{id}/refresh",
    operation_id = "refresh_connected_account",
    tag = "connected accounts",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The connected account (`ca_…`).", pattern = r"^ca_[A-Za-z0-9]{1,64}$"),
        ("redirect_url" = Option<String>, Query, format = "uri", description = "Where the user lands afterwards (as in the body; both must agree)."),
    ),
    request_body(content = Option<RefreshAccountRequest>, content_type = "application/json"),
    responses((status = 200, description = "The new Connect Link.", body = RefreshAccountResponse), ChangeErrors),
)]
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

/// Enable or disable an account.
#[utoipa::path(
    patch,
    path = "/connected_accounts/{id}/status",
    operation_id = "set_connected_account_status",
    tag = "connected accounts",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The connected account (`ca_…`).", pattern = r"^ca_[A-Za-z0-9]{1,64}$"),
    ),
    request_body = UpdateAccountStatusRequest,
    responses((status = 200, description = "Done.", body = SuccessResponse), ResourceErrors),
)]
pub async fn set_status(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<UpdateAccountStatusRequest>,
) -> ApiResult<Json<SuccessResponse>> {
    s.engine.set_account_enabled(&who, &id, req.enabled).await?;
    Ok(Json(SuccessResponse { success: true }))
}

/// Grantline extension: long-poll until the account leaves INITIATED.
/// 
/// Answers the moment the status changes, or with the still-INITIATED account after `timeout_ms`. `timeout_ms` defaults to 30000 and is capped by the broker's `--max-wait-secs` (default 120 s).
#[utoipa::path(
    get,
    path = "/connected_accounts/{id}/wait",
    operation_id = "wait_for_connected_account",
    tag = "connected accounts",
    security(("apiKey" = []), ("clientToken" = [])),
    params(
        ("id" = String, Path, description = "The connected account (`ca_…`).", pattern = r"^ca_[A-Za-z0-9]{1,64}$"),
        ("timeout_ms" = Option<u64>, Query, description = "How long to wait, in milliseconds (default 30000, capped by `--max-wait-secs`).", minimum = 0, maximum = 86400000),
    ),
    responses((status = 200, description = "The account: no longer INITIATED, or still INITIATED when the wait ran out.", body = ConnectedAccount), ResourceErrors),
)]
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
