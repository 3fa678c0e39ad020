//! The dev sandbox provider's endpoints (only mounted with `--dev`).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use grantline_core::engine::sandbox::{self, AuthorizeRequest, RevokeRequest, TokenRequest};
use serde::Deserialize;
use serde_json::json;

use crate::extract::QueryParams;
use crate::pages::{esc, layout, private};
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(sandbox::AUTHORIZE_PATH, get(consent_page).post(decide))
        .route(sandbox::TOKEN_PATH, axum::routing::post(token))
        .route(sandbox::USERINFO_PATH, get(userinfo))
        .route(sandbox::REVOKE_PATH, axum::routing::post(revoke))
        .route("/sandbox/logo.svg", get(logo))
}

fn authorize_request(q: &QueryParams) -> AuthorizeRequest {
    AuthorizeRequest::from_query(|k| q.get(k).map(str::to_string))
}

/// The consent page (its URL carries the flow's `state` and PKCE challenge: a private page).
async fn consent_page(State(s): State<AppState>, q: QueryParams) -> Response {
    let r = authorize_request(&q);
    if let Err(e) = s.engine.sandbox().check_authorize(s.engine.config(), &r) {
        return private((StatusCode::BAD_REQUEST, Html(layout("Invalid request", "error", &format!("<p>{}</p>", esc(&e.to_string()))))).into_response());
    }
    let hidden: String = [
        ("response_type", &r.response_type),
        ("client_id", &r.client_id),
        ("redirect_uri", &r.redirect_uri),
        ("state", &r.state),
        ("scope", &r.scope),
        ("code_challenge", &r.code_challenge),
        ("code_challenge_method", &r.code_challenge_method),
    ]
    .iter()
    .map(|(k, v)| format!(r#"<input type="hidden" name="{k}" value="{}">"#, esc(v.as_deref().unwrap_or(""))))
    .collect();
    let body = format!(
        r#"<p class="muted">Grantline Sandbox is a pretend provider for trying the flow offline.</p>
<p>An app asks to read your sandbox profile (<code>{scope}</code>).</p>
<form method="post" action="{action}">{hidden}
<label>Sign in as <input name="user" value="sandbox-user" autocomplete="off"></label>
<div class="row"><button class="primary" name="decision" value="allow" type="submit">Allow</button>
<button name="decision" value="deny" type="submit">Deny</button></div></form>"#,
        scope = esc(r.scope.as_deref().unwrap_or("")),
        action = esc(&s.engine.config().url(sandbox::AUTHORIZE_PATH)),
    );
    private(Html(layout("Sign in to Grantline Sandbox", "consent", &body)).into_response())
}

#[derive(Deserialize)]
struct Decision {
    decision: String,
    #[serde(default)]
    user: String,
    #[serde(flatten)]
    request: AuthorizeRequest,
}

async fn decide(State(s): State<AppState>, Form(d): Form<Decision>) -> Response {
    let sb = s.engine.sandbox();
    let cfg = s.engine.config();
    let result = match d.decision.as_str() {
        "allow" => sb.approve(cfg, &d.request, &d.user).await,
        _ => sb.deny(cfg, &d.request),
    };
    private(match result {
        Ok(url) => Redirect::to(url.as_str()).into_response(),
        Err(e) => (StatusCode::BAD_REQUEST, Html(layout("Invalid request", "error", &format!("<p>{}</p>", esc(&e.to_string()))))).into_response(),
    })
}

async fn token(State(s): State<AppState>, Form(t): Form<TokenRequest>) -> Response {
    match s.engine.sandbox().token(&t).await {
        Ok(body) => Json(body).into_response(),
        Err(e) => oauth_error(e),
    }
}

async fn revoke(State(s): State<AppState>, Form(r): Form<RevokeRequest>) -> Response {
    match s.engine.sandbox().revoke(&r).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => oauth_error(e),
    }
}

fn oauth_error((status, body): sandbox::OAuthError) -> Response {
    (StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), Json(body)).into_response()
}

async fn userinfo(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    match s.engine.sandbox().userinfo(token).await {
        Ok(Some(info)) => Json(info).into_response(),
        Ok(None) => (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_token"}))).into_response(),
        Err(e) => crate::error::ApiError::from(e).into_response(),
    }
}

async fn logo() -> Response {
    let svg = r##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#2358d8"/><path d="M9 17l5 5 9-11" stroke="#fff" stroke-width="3" fill="none"/></svg>"##;
    ([("content-type", "image/svg+xml")], svg).into_response()
}
