//! The operator dashboard at `/dashboard`: server-rendered HTML with no script and nothing from
//! another origin. An operator signs in with the project's API key; pages list connected
//! accounts (and act on one), auth configs, API keys (hints only), tool executions and webhook
//! subscriptions with their deliveries (and a retry), a session's MCP credentials (and a revoke),
//! and the project's profile and user verification (and a form that changes them).
//!
//! Every rule is the engine's (sessions and CSRF in `engine/dashboard.rs`, each action the same
//! call the REST API makes); these files only read forms and render pages, one file per page.

mod accounts;
mod keys_and_configs;
mod layout;
mod logs;
mod project;
mod session;
mod sessions;
mod sign_in;
mod webhooks;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use grantline_core::engine::EngineConfig;
use grantline_core::Error;

use crate::pages::esc;
use crate::AppState;

/// The dashboard's routes (HTML, outside the REST API and its OpenAPI document).
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(home))
        .route("/dashboard/", get(home))
        .route("/dashboard/style.css", get(layout::stylesheet))
        .route("/dashboard/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/dashboard/sign-out", post(sign_in::sign_out))
        .route("/dashboard/accounts", get(accounts::list))
        .route("/dashboard/accounts/{id}", get(accounts::show))
        .route("/dashboard/accounts/{id}/{action}", post(accounts::act))
        .route("/dashboard/auth-configs", get(keys_and_configs::auth_configs))
        .route("/dashboard/api-keys", get(keys_and_configs::api_keys))
        .route("/dashboard/logs", get(logs::list))
        .route("/dashboard/logs/{id}", get(logs::show))
        .route("/dashboard/webhooks", get(webhooks::list))
        .route("/dashboard/webhooks/{id}", get(webhooks::show))
        .route("/dashboard/webhooks/{id}/deliveries/{delivery_id}/retry", post(webhooks::retry))
        .route("/dashboard/sessions", get(sessions::find))
        .route("/dashboard/sessions/{id}", get(sessions::show))
        .route("/dashboard/sessions/{id}/mcp_credentials/{credential_id}/revoke", post(sessions::revoke))
        .route("/dashboard/project", get(project::show).post(project::update))
}

async fn home(axum::extract::State(s): axum::extract::State<AppState>) -> Response {
    layout::secured(Redirect::to(&s.engine.config().url("/dashboard/accounts")).into_response())
}

/// A dashboard button's POST: checks that it came from this operator's dashboard
/// ([`session::check_button`]), then runs `act` (the engine's call, not started before) and
/// goes back to `back` (a dashboard path, `?done=…` included), or shows why it could not.
pub(crate) async fn press(
    state: &AppState,
    operator: &grantline_core::engine::DashboardSession,
    headers: &axum::http::HeaderMap,
    fields: &[(String, String)],
    back: &str,
    act: impl std::future::Future<Output = Result<(), Error>>,
) -> Response {
    let config = state.engine.config();
    if let Err(e) = session::check_button(state, operator, headers, fields) {
        return error_page(config, &e);
    }
    match act.await {
        Ok(()) => layout::secured(Redirect::to(&config.url(back)).into_response()),
        Err(e) => error_page(config, &e),
    }
}

/// A failure as a dashboard page (the broker's own failures are logged, not described).
pub(crate) fn error_page(config: &EngineConfig, e: &Error) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(code = e.code(), error = %e, "dashboard page failed");
    }
    let message = if status.is_server_error() { "Something went wrong on the broker. Try again later.".to_string() } else { e.to_string() };
    let body = format!(
        r#"<p class="error" role="alert" data-code="{code}">{message}</p><p><a href="{home}">Back to the dashboard</a></p>"#,
        code = esc(e.code()),
        message = esc(&message),
        home = esc(&config.url("/dashboard/accounts")),
    );
    let mut r = layout::html(status, layout::bare(config, "Something went wrong", &body));
    if let Some(secs) = e.retry_after() {
        r.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
    }
    r
}
