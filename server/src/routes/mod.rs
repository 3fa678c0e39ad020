//! The route table. Each file holds the handlers of one resource.

pub(crate) mod accounts;
mod auth_configs;
mod client_tokens;
mod connect;
mod logos;
mod mcp_credentials;
mod logs;
mod mcp_auth;
mod openapi;
mod project;
pub(crate) mod ops;
mod sandbox;
mod sessions;
mod verification;
mod webhooks;

use axum::Router;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub use openapi::render;

/// The generated OpenAPI document, as `server/src/openapi.json` holds it.
pub fn openapi_document() -> String {
    render(&openapi::generated())
}

/// Every documented route with its OpenAPI entry. With a state, the CORS layer is on the routes a
/// browser widget may call; without one (to generate the document) no layer is added.
pub(crate) fn documented(state: Option<&AppState>) -> OpenApiRouter<AppState> {
    // What a browser widget may call with a session's client token: these alone answer CORS.
    let mut client_api = OpenApiRouter::new()
        .routes(routes!(sessions::get, sessions::update, sessions::delete))
        .routes(routes!(sessions::link))
        .routes(routes!(sessions::toolkits))
        .routes(routes!(accounts::get))
        .routes(routes!(accounts::wait))
        .routes(routes!(client_tokens::session));
    if let Some(state) = state {
        client_api = client_api.layer(crate::cors::Cors::new(state.clone()));
    }
    let api = OpenApiRouter::new()
        .routes(routes!(sessions::create))
        .routes(routes!(sessions::tools))
        .routes(routes!(sessions::execute_meta))
        .routes(routes!(sessions::execute))
        .routes(routes!(sessions::search))
        .routes(routes!(sessions::proxy_execute))
        .routes(routes!(client_tokens::create))
        .routes(routes!(client_tokens::revoke))
        .routes(routes!(mcp_credentials::create, mcp_credentials::list))
        .routes(routes!(mcp_credentials::revoke))
        .routes(routes!(accounts::list))
        .routes(routes!(accounts::delete))
        .routes(routes!(accounts::revoke))
        .routes(routes!(accounts::refresh))
        .routes(routes!(accounts::set_status))
        .routes(routes!(auth_configs::create, auth_configs::list))
        .routes(routes!(webhooks::create, webhooks::list))
        .routes(routes!(webhooks::event_types))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::retry))
        .routes(routes!(logs::list))
        .routes(routes!(logs::get))
        .routes(routes!(project::get, project::update))
        .routes(routes!(project::set_logo, project::delete_logo))
        .routes(routes!(verification::confirm))
        .merge(client_api);
    OpenApiRouter::with_openapi(openapi::Frame::openapi())
        .nest("/api/v3.1", api)
        .routes(routes!(crate::mcp::endpoint))
        .routes(routes!(connect::open_link, connect::submit_form))
        .routes(routes!(connect::callback))
        .routes(routes!(openapi::document))
        .routes(routes!(logos::logo))
        .routes(routes!(project::logo))
        .routes(routes!(verification::finish))
        .merge(mcp_auth::documented())
        .routes(routes!(ops::health))
        .routes(routes!(ops::ready))
        .routes(routes!(ops::metrics))
}

pub(crate) fn router(state: AppState) -> Router<()> {
    let dev = state.engine.config().dev_mode;
    let mut app: Router<AppState> = documented(Some(&state)).into();
    if dev {
        app = app.merge(sandbox::router()).merge(verification::dev_router());
    }
    app = app.merge(mcp_auth::router());
    app = app.merge(crate::dashboard::router());
    app.fallback(|| async { crate::ApiError(grantline_core::Error::not_found("route", "no such endpoint")) })
        .layer(crate::request_id::RequestIds)
        .layer(crate::access_log::AccessLog)
        .layer(crate::unread_body::CloseOnUnreadBody)
        .with_state(state)
}
