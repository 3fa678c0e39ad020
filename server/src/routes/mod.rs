//! The route table. Each file holds the handlers of one resource.

mod accounts;
mod auth_configs;
mod client_tokens;
mod connect;
mod logos;
mod openapi;
mod sandbox;
mod sessions;

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{delete, get, patch, post};
use axum::Router;

use crate::AppState;

pub(crate) fn router(state: AppState) -> Router {
    let dev = state.engine.config().dev_mode;
    // What a browser widget may call with a session's client token: these alone answer CORS.
    let client_api = Router::new()
        .route("/tool_router/session/{id}", get(sessions::get).patch(sessions::update).delete(sessions::delete))
        .route("/tool_router/session/{id}/link", post(sessions::link))
        .route("/tool_router/session/{id}/toolkits", get(sessions::toolkits))
        .route("/connected_accounts/{id}", get(accounts::get))
        .route("/connected_accounts/{id}/wait", get(accounts::wait))
        .route("/client_token/session", get(client_tokens::session))
        .layer(axum::middleware::from_fn_with_state(state.clone(), crate::cors::layer));
    let api = Router::new()
        .route("/tool_router/session", post(sessions::create))
        .route("/tool_router/session/{id}/tools", get(sessions::tools))
        .route("/tool_router/session/{id}/execute_meta", post(sessions::execute_meta))
        .route("/tool_router/session/{id}/execute", post(sessions::execute))
        .route("/tool_router/session/{id}/search", post(sessions::search))
        .route("/tool_router/session/{id}/proxy_execute", post(sessions::proxy_execute))
        .route("/tool_router/session/{id}/client_token", post(client_tokens::create))
        .route("/tool_router/session/{id}/client_token/{token_id}", delete(client_tokens::revoke))
        .route("/connected_accounts", get(accounts::list))
        .route("/connected_accounts/{id}", delete(accounts::delete))
        .route("/connected_accounts/{id}/revoke", post(accounts::revoke))
        .route("/connected_accounts/{id}/refresh", post(accounts::refresh))
        .route("/connected_accounts/{id}/status", patch(accounts::set_status))
        .route("/auth_configs", post(auth_configs::create).get(auth_configs::list))
        .merge(client_api);
    let mut app = Router::new()
        .nest("/api/v3.1", api)
        .route("/tool_router/{id}/mcp", axum::routing::any(crate::mcp::endpoint))
        .route("/link/{token}", get(connect::open_link).post(connect::submit_form))
        .route(grantline_core::engine::CALLBACK_PATH, get(connect::callback))
        .route("/openapi.json", get(openapi::document))
        .route("/logos/{file}", get(logos::logo))
        .route("/healthz", get(|| async { "ok" }));
    if dev {
        app = app.merge(sandbox::router());
    }
    app.fallback(|| async { crate::ApiError(grantline_core::Error::not_found("route", "no such endpoint")) })
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// Logs method, route template and status; never the query string (it carries `state` and `code`).
async fn log_request(req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().clone();
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string()).unwrap_or_else(|| "-".into());
    let resp = next.run(req).await;
    tracing::info!(%method, route, status = resp.status().as_u16(), ms = started.elapsed().as_millis() as u64, "request");
    resp
}
