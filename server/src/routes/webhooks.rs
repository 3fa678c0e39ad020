//! `/api/v3.1/webhook_subscriptions…`: where the broker sends signed events when connected
//! accounts change (Composio's API), and each subscription's deliveries (Grantline's).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use grantline_core::model::{
    Page, PageRequest, RotatedWebhookSecret, SuccessResponse, WebhookDelivery, WebhookEventTypes, WebhookSubscription,
    WebhookSubscriptionCreate, WebhookSubscriptionUpdate,
};

use super::openapi::{ListErrors, ResourceErrors};
use crate::error::ApiResult;
use crate::extract::{ApiJson, Caller, QueryParams};
use crate::AppState;

/// Subscribe a receiver to connected-account events; the answer carries its signing secret.
#[utoipa::path(
    post,
    path = "/webhook_subscriptions",
    operation_id = "create_webhook_subscription",
    tag = "webhooks",
    security(("apiKey" = [])),
    request_body = WebhookSubscriptionCreate,
    responses((status = 201, description = "The subscription, with its secret.", body = WebhookSubscription), ListErrors),
)]
pub async fn create(
    State(s): State<AppState>,
    Caller(who): Caller,
    ApiJson(req): ApiJson<WebhookSubscriptionCreate>,
) -> ApiResult<(StatusCode, Json<WebhookSubscription>)> {
    Ok((StatusCode::CREATED, Json(s.engine.create_webhook_subscription(&who, req).await?)))
}

/// List the project's webhook subscriptions, oldest first.
#[utoipa::path(
    get,
    path = "/webhook_subscriptions",
    operation_id = "list_webhook_subscriptions",
    tag = "webhooks",
    security(("apiKey" = [])),
    params(
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page.", pattern = r"^([1-9][0-9]{0,8})?$"),
        ("limit" = Option<u32>, Query, description = "Items per page (default 20).", minimum = 1, maximum = 100),
    ),
    responses((status = 200, description = "One page of subscriptions.", body = Page<WebhookSubscription>), ListErrors),
)]
pub async fn list(State(s): State<AppState>, Caller(who): Caller, q: QueryParams) -> ApiResult<Json<Page<WebhookSubscription>>> {
    q.only(&["cursor", "limit"])?;
    let page = PageRequest::parse(q.get("cursor"), q.get("limit"))?;
    Ok(Json(s.engine.list_webhook_subscriptions(&who, page).await?))
}

/// The event types a subscription can enable.
#[utoipa::path(
    get,
    path = "/webhook_subscriptions/event_types",
    operation_id = "list_webhook_event_types",
    tag = "webhooks",
    security(("apiKey" = [])),
    responses((status = 200, description = "Every event type.", body = WebhookEventTypes), ListErrors),
)]
pub async fn event_types(State(s): State<AppState>, Caller(who): Caller) -> ApiResult<Json<WebhookEventTypes>> {
    who.require_project()?;
    Ok(Json(s.engine.webhook_event_types()))
}

/// Get a webhook subscription.
#[utoipa::path(
    get,
    path = "/webhook_subscriptions/{id}",
    operation_id = "get_webhook_subscription",
    tag = "webhooks",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "The subscription (`ws_…`).", pattern = r"^ws_[A-Za-z0-9]{1,64}$")),
    responses((status = 200, description = "The subscription, with its secret.", body = WebhookSubscription), ResourceErrors),
)]
pub async fn get(State(s): State<AppState>, Caller(who): Caller, Path(id): Path<String>) -> ApiResult<Json<WebhookSubscription>> {
    Ok(Json(s.engine.get_webhook_subscription(&who, &id).await?))
}

/// Change a webhook subscription's URL, events or version.
#[utoipa::path(
    patch,
    path = "/webhook_subscriptions/{id}",
    operation_id = "update_webhook_subscription",
    tag = "webhooks",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "The subscription (`ws_…`).", pattern = r"^ws_[A-Za-z0-9]{1,64}$")),
    request_body = WebhookSubscriptionUpdate,
    responses((status = 200, description = "The subscription as it is now.", body = WebhookSubscription), ResourceErrors),
)]
pub async fn update(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<WebhookSubscriptionUpdate>,
) -> ApiResult<Json<WebhookSubscription>> {
    Ok(Json(s.engine.update_webhook_subscription(&who, &id, req).await?))
}

/// Delete a webhook subscription and its pending deliveries.
#[utoipa::path(
    delete,
    path = "/webhook_subscriptions/{id}",
    operation_id = "delete_webhook_subscription",
    tag = "webhooks",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "The subscription (`ws_…`).", pattern = r"^ws_[A-Za-z0-9]{1,64}$")),
    responses((status = 200, description = "Deleted.", body = SuccessResponse), ResourceErrors),
)]
pub async fn delete(State(s): State<AppState>, Caller(who): Caller, Path(id): Path<String>) -> ApiResult<Json<SuccessResponse>> {
    s.engine.delete_webhook_subscription(&who, &id).await?;
    Ok(Json(SuccessResponse { success: true }))
}

/// Replace a subscription's signing secret: every attempt from now on is signed with the new one only.
#[utoipa::path(
    post,
    path = "/webhook_subscriptions/{id}/rotate_secret",
    operation_id = "rotate_webhook_secret",
    tag = "webhooks",
    security(("apiKey" = [])),
    params(("id" = String, Path, description = "The subscription (`ws_…`).", pattern = r"^ws_[A-Za-z0-9]{1,64}$")),
    responses((status = 200, description = "The new secret.", body = RotatedWebhookSecret), ResourceErrors),
)]
pub async fn rotate_secret(State(s): State<AppState>, Caller(who): Caller, Path(id): Path<String>) -> ApiResult<Json<RotatedWebhookSecret>> {
    Ok(Json(s.engine.rotate_webhook_secret(&who, &id).await?))
}

/// A subscription's deliveries, newest first, each with its attempts (a Grantline extension).
#[utoipa::path(
    get,
    path = "/webhook_subscriptions/{id}/deliveries",
    operation_id = "list_webhook_deliveries",
    tag = "webhooks",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The subscription (`ws_…`).", pattern = r"^ws_[A-Za-z0-9]{1,64}$"),
        ("cursor" = Option<String>, Query, description = "The `next_cursor` of the previous page.", pattern = r"^([1-9][0-9]{0,8})?$"),
        ("limit" = Option<u32>, Query, description = "Items per page (default 20).", minimum = 1, maximum = 100),
    ),
    responses((status = 200, description = "One page of deliveries.", body = Page<WebhookDelivery>), ResourceErrors),
)]
pub async fn deliveries(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    q: QueryParams,
) -> ApiResult<Json<Page<WebhookDelivery>>> {
    q.only(&["cursor", "limit"])?;
    let page = PageRequest::parse(q.get("cursor"), q.get("limit"))?;
    Ok(Json(s.engine.list_webhook_deliveries(&who, &id, page).await?))
}

/// Retry a delivery now (a Grantline extension): it is pending again, whatever it was.
#[utoipa::path(
    post,
    path = "/webhook_subscriptions/{id}/deliveries/{delivery_id}/retry",
    operation_id = "retry_webhook_delivery",
    tag = "webhooks",
    security(("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The subscription (`ws_…`).", pattern = r"^ws_[A-Za-z0-9]{1,64}$"),
        ("delivery_id" = String, Path, description = "The delivery (`msg_…`).", pattern = r"^msg_[A-Za-z0-9]{1,64}$"),
    ),
    responses((status = 200, description = "Scheduled now.", body = SuccessResponse), ResourceErrors),
)]
pub async fn retry(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path((id, delivery_id)): Path<(String, String)>,
) -> ApiResult<Json<SuccessResponse>> {
    s.engine.retry_webhook_delivery(&who, &id, &delivery_id).await?;
    Ok(Json(SuccessResponse { success: true }))
}
