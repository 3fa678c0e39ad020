//! User verification: the app's backend confirms who the browser's user is
//! (`/api/v3.1/user_verifications/{flow_id}/confirm`), the browser comes back
//! (`/verify/{flow_id}/return`), and a `--dev` broker's built-in verifier page (`/dev/verify`).

use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use grantline_core::engine::verification::DEV_VERIFY_PATH;
use grantline_core::engine::{Principal, VerificationPurpose};
use grantline_core::model::{ConfirmUserRequest, UserVerificationConfirmed};
use serde::Deserialize;

use super::connect::{binding_cookies, link_answer};
use super::openapi::ChangeErrors;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Caller, QueryParams};
use crate::{pages, AppState};

/// Confirm who the browser's user is: the app's backend calls this from its verification page, with its API key.
///
/// When `user_id` is the user the flow was started for, send the browser to `redirect_url`.
/// When it is not, the flow ends at once, and what it was for with it (a Connect Link's account
/// is not connected, an MCP client is not approved): `matched` is `false`.
#[utoipa::path(
    post,
    path = "/user_verifications/{flow_id}/confirm",
    operation_id = "confirm_user_verification",
    tag = "user verification",
    security(("apiKey" = [])),
    params(("flow_id" = String, Path, description = "The flow id the broker put in the verification URL's `flow_id` (`uvf_…`).", pattern = r"^uvf_[A-Za-z0-9]{1,64}$")),
    request_body(content = ConfirmUserRequest, content_type = "application/json"),
    responses(
        (status = 200, description = "Recorded; send the browser to `redirect_url`.", body = UserVerificationConfirmed),
        ChangeErrors,
    ),
)]
pub async fn confirm(
    State(s): State<AppState>,
    Caller(who): Caller,
    Path(flow_id): Path<String>,
    ApiJson(req): ApiJson<ConfirmUserRequest>,
) -> ApiResult<Json<UserVerificationConfirmed>> {
    Ok(Json(s.engine.confirm_user_verification(&who, &flow_id, &req.user_id).await?))
}

/// Where the app sends the browser back after confirming: the flow goes on (a Connect Link to the provider or its form; an MCP client's login back to the client with its code).
#[utoipa::path(
    get,
    path = "/verify/{flow_id}/return",
    operation_id = "user_verification_return",
    tag = "user verification",
    security(()),
    params(("flow_id" = String, Path, description = "The flow (`uvf_…`).", pattern = r"^uvf_[A-Za-z0-9]{1,64}$")),
    responses(
        (status = 200, description = "A page: the connect form.", content_type = "text/html", body = String),
        (status = 303, description = "On to the provider's consent page, or (an MCP client's login) back to the client with its code.", headers(("Location" = String, description = "Where the browser goes next."))),
        (status = 400, description = "A malformed flow id (a page).", content_type = "text/html", body = String),
        (status = 403, description = "Another user was confirmed, or this is not the browser that started the flow (a page).", content_type = "text/html", body = String),
        (status = 404, description = "No such flow (a page).", content_type = "text/html", body = String),
        (status = 409, description = "The flow was already used, expired, or is not confirmed yet (a page).", content_type = "text/html", body = String),
        (status = 410, description = "The link expired (a page).", content_type = "text/html", body = String),
        (status = 500, description = "The broker failed (a page).", content_type = "text/html", body = String),
        (status = 503, description = "The broker is briefly unavailable (a page).", content_type = "text/html", body = String),
    ),
)]
pub async fn finish(State(s): State<AppState>, Path(flow_id): Path<String>, headers: HeaderMap) -> Response {
    let cookies = binding_cookies(&headers);
    let cookie = grantline_core::engine::verification::binding_cookie_name(&flow_id);
    let brand = s.engine.verification_brand(&flow_id).await.ok();
    pages::private(match s.engine.finish_user_verification(&flow_id, cookies.get(&cookie)).await {
        Ok(VerificationPurpose::ConnectLink { .. }) => link_answer(&s, s.engine.continue_connect_link(&flow_id, &cookies).await, brand.as_ref()),
        // The person approved an MCP client and the app confirmed them: the code, back to the client.
        Ok(VerificationPurpose::McpAuthorization { authorization_id }) => match s.engine.complete_mcp_authorization(&authorization_id).await {
            Ok(url) => Redirect::to(url.as_str()).into_response(),
            Err(e) => pages::verification_failed(&e, brand.as_ref()),
        },
        Err(e) => pages::verification_failed(&e, brand.as_ref()),
    })
}

/// The `--dev` verifier's routes (only mounted with `--dev`).
pub(crate) fn dev_router() -> Router<AppState> {
    Router::new().route(DEV_VERIFY_PATH, get(dev_page).post(dev_confirm))
}

/// The built-in verifier page: what the app's own page would be.
async fn dev_page(State(s): State<AppState>, q: QueryParams) -> Response {
    let flow_id = q.get("flow_id").unwrap_or_default().to_string();
    pages::private(match s.engine.verification_brand(&flow_id).await {
        Ok(brand) => pages::dev_verifier(s.engine.config(), &flow_id, Some(&brand)),
        Err(e) => pages::error_page(&e),
    })
}

#[derive(Deserialize)]
struct DevConfirm {
    flow_id: String,
    user_id: String,
}

/// Confirms the flow as the user the person typed, as the app's backend would, and sends the
/// browser back to the broker.
async fn dev_confirm(State(s): State<AppState>, Form(f): Form<DevConfirm>) -> Response {
    let confirmed = async {
        let project = s.engine.verification_project(&f.flow_id).await?;
        s.engine.confirm_user_verification(&Principal::project(project), &f.flow_id, &f.user_id).await
    };
    pages::private(match confirmed.await {
        Ok(c) => Redirect::to(&c.redirect_url).into_response(),
        Err(e) => pages::error_page(&e),
    })
}
