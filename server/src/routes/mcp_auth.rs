//! MCP authorization's HTTP surface: the well-known metadata documents, client registration,
//! the authorization endpoint and its consent page, the token and revocation endpoints. Every
//! rule is the engine's (`engine/mcp_auth/`); this file only turns HTTP into those calls.
//!
//! The OAuth endpoints answer OAuth's own error shape (`{error, error_description}`, RFC 6749
//! §5.2), not the REST API's envelope: MCP clients read that.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, PRAGMA, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use grantline_core::engine::mcp_auth::authorize::{AuthorizeRequest, AuthorizeStep, Consent};
use grantline_core::engine::mcp_auth::metadata::{self, ASM_PREFIX, OPENID_PREFIX, PRM_PREFIX};
use grantline_core::engine::mcp_auth::token::{RevokeRequest, TokenRequest};
use grantline_core::engine::mcp_auth::{self as mcp_auth, OAuthError};
use grantline_core::engine::EngineConfig;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::extract::QueryParams;
use crate::pages::{self, error_page, esc, layout, private};
use crate::AppState;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{PRM_PREFIX}/{{*tail}}"), get(protected_resource).options(preflight))
        .route(ASM_PREFIX, get(authorization_server_root).options(preflight))
        .route(&format!("{ASM_PREFIX}/{{*tail}}"), get(authorization_server).options(preflight))
        .route(OPENID_PREFIX, get(authorization_server_root).options(preflight))
        .route(&format!("{OPENID_PREFIX}/{{*tail}}"), get(authorization_server).options(preflight))
        .route(mcp_auth::REGISTER_PATH, post(register).options(preflight))
        .route(mcp_auth::AUTHORIZE_PATH, get(authorize))
        .route(mcp_auth::CONSENT_PATH, post(decide))
        .route(mcp_auth::TOKEN_PATH, post(token).options(preflight))
        .route(mcp_auth::REVOKE_PATH, post(revoke).options(preflight))
}

/// CORS preflight of the endpoints a browser-based MCP client calls (metadata, registration,
/// token, revocation): any origin, no cookies (they take none).
async fn preflight() -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    let h = r.headers_mut();
    h.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    h.insert("access-control-allow-methods", HeaderValue::from_static("GET, POST"));
    h.insert("access-control-allow-headers", HeaderValue::from_static("content-type, mcp-protocol-version"));
    h.insert("access-control-max-age", HeaderValue::from_static("600"));
    r
}

/// Metadata documents are public and read by browser-based clients too.
fn public_json(body: Value) -> Response {
    let mut r = Json(body).into_response();
    r.headers_mut().insert("access-control-allow-origin", HeaderValue::from_static("*"));
    r
}

fn oauth_error((status, body): OAuthError) -> Response {
    no_store((StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST), Json(body)).into_response())
}

fn no_store(mut r: Response) -> Response {
    r.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r.headers_mut().insert(PRAGMA, HeaderValue::from_static("no-cache"));
    r.headers_mut().insert("access-control-allow-origin", HeaderValue::from_static("*"));
    r
}

async fn protected_resource(State(s): State<AppState>, Path(tail): Path<String>) -> Response {
    match s.engine.mcp_protected_resource_metadata(&format!("/{tail}")).await {
        Ok(body) => public_json(body),
        Err(e) => crate::ApiError(e).into_response(),
    }
}

async fn authorization_server_root(State(s): State<AppState>) -> Response {
    public_json(metadata::authorization_server(s.engine.config()))
}

async fn authorization_server(State(s): State<AppState>, Path(tail): Path<String>) -> Response {
    let config = s.engine.config();
    if !metadata::is_issuer_path(config, &format!("/{tail}")) {
        return crate::ApiError(grantline_core::Error::not_found("authorization server", format!("/{tail}"))).into_response();
    }
    public_json(metadata::authorization_server(config))
}

/// A form-encoded body as a typed request; a parameter given twice is refused (RFC 6749 §3.1).
fn form<T: DeserializeOwned>(body: &[u8]) -> Result<T, OAuthError> {
    let mut fields = BTreeMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if fields.insert(k.to_string(), Value::String(v.into_owned())).is_some() {
            return Err((400, serde_json::json!({"error": "invalid_request", "error_description": format!("{k} is given more than once")})));
        }
    }
    serde_json::from_value(Value::Object(fields.into_iter().collect()))
        .map_err(|e| (400, serde_json::json!({"error": "invalid_request", "error_description": e.to_string()})))
}

async fn register(State(s): State<AppState>, body: Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return oauth_error((400, serde_json::json!({"error": "invalid_client_metadata", "error_description": format!("the body is not JSON: {e}")}))),
    };
    match s.engine.register_mcp_client(&body).await {
        Ok(client) => no_store((StatusCode::CREATED, Json(client)).into_response()),
        Err(e) => oauth_error(e),
    }
}

async fn token(State(s): State<AppState>, body: Bytes) -> Response {
    let t: TokenRequest = match form(&body) {
        Ok(t) => t,
        Err(e) => return oauth_error(e),
    };
    match s.engine.mcp_token(&t).await {
        Ok(body) => no_store(Json(body).into_response()),
        Err(e) => oauth_error(e),
    }
}

async fn revoke(State(s): State<AppState>, body: Bytes) -> Response {
    let r: RevokeRequest = match form(&body) {
        Ok(r) => r,
        Err(e) => return oauth_error(e),
    };
    match s.engine.revoke_mcp_token(&r).await {
        Ok(()) => no_store(StatusCode::OK.into_response()),
        Err(e) => oauth_error(e),
    }
}

/// The consent cookie's name: one per pending authorization, so two consent pages open in one
/// browser do not overwrite each other's.
fn cookie_name(authorization_id: &str) -> String {
    let tag: String = authorization_id.trim_start_matches("mcpa_").chars().filter(char::is_ascii_alphanumeric).take(12).collect();
    format!("grantline_mcp_consent_{tag}")
}

fn cookie_flags(config: &EngineConfig) -> String {
    let secure = if config.public_base_url.scheme() == "https" { "; Secure" } else { "" };
    format!("Path={}/mcp/oauth; HttpOnly; SameSite=Strict{secure}", config.public_base_url.path().trim_end_matches('/'))
}

async fn authorize(State(s): State<AppState>, q: QueryParams) -> Response {
    let r = AuthorizeRequest::from_query(|k| q.get(k).map(str::to_string));
    private(match s.engine.begin_mcp_authorization(&r).await {
        Ok(AuthorizeStep::Redirect(url)) => Redirect::to(url.as_str()).into_response(),
        Ok(AuthorizeStep::Consent(c)) => consent_page(s.engine.config(), &c),
        Err(e) => error_page(&e),
    })
}

fn consent_page(config: &EngineConfig, c: &Consent) -> Response {
    let client = &c.client;
    let name = client.client_name.as_deref().unwrap_or("An MCP client");
    let from = match (client.id_host(), client.kind) {
        (Some(host), _) => format!(r#"<p class="muted">Its identity is published by <strong>{}</strong>.</p>"#, esc(&host)),
        (None, _) => r#"<p class="muted">This client registered itself with the broker; its name is not verified.</p>"#.to_string(),
    };
    let site = client
        .client_uri
        .as_deref()
        .map(|u| format!(r#"<p class="muted">Its website says: <code>{}</code></p>"#, esc(u)))
        .unwrap_or_default();
    let logo = client
        .logo_uri
        .as_deref()
        .map(|u| format!(r#"<img src="{}" alt="" width="40" height="40" referrerpolicy="no-referrer">"#, esc(u)))
        .unwrap_or_default();
    let app_logo = c
        .brand
        .logo_url
        .as_deref()
        .map(|u| format!(r#"<img class="logo" src="{}" alt="{} logo" width="48" height="48">"#, esc(u), esc(&c.brand.app_name)))
        .unwrap_or_default();
    let support = c
        .brand
        .support_url
        .as_deref()
        .map(|u| format!(r#"<p class="support muted">Questions? <a href="{}" rel="noopener noreferrer">Contact {} support</a></p>"#, esc(u), esc(&c.brand.app_name)))
        .unwrap_or_default();
    let abilities: String = c.abilities.iter().map(|a| format!("<li>{}</li>", esc(a))).collect();
    let body = format!(
        r#"{app_logo}{logo}<p><strong>{name}</strong> asks to act as <strong>{user}</strong> in <strong>{app}</strong>.</p>{from}{site}
<p>If you allow it, it will be able to:</p><ul>{abilities}</ul>
<p class="muted">After you decide, your browser goes to <strong>{target}</strong>.</p>{local}
<p class="muted">Only allow it if you started this from an MCP client you trust. Session <code>{session}</code>.</p>
<form method="post" action="{action}">
<input type="hidden" name="authorization_id" value="{id}"><input type="hidden" name="csrf" value="{csrf}">
<div class="row"><button class="primary" name="decision" value="approve" type="submit">Approve</button>
<button name="decision" value="deny" type="submit">Deny</button></div></form>
<p class="muted">Approving takes you to {app} to confirm it is you.</p>{support}"#,
        name = esc(name),
        app = esc(&c.brand.app_name),
        user = esc(&c.user_id),
        session = esc(&c.session_id),
        target = esc(&c.redirect_host),
        local = if c.redirect_loopback {
            r#"<p class="error">The answer goes to a program on this computer. Any program here can use this client's name: approve only if you started this login yourself, just now.</p>"#
        } else {
            ""
        },
        action = esc(&config.url(mcp_auth::CONSENT_PATH)),
        id = esc(&c.authorization_id),
        csrf = esc(&c.csrf),
    );
    let mut r = Html(layout(&format!("Allow {name}?"), "consent", &body)).into_response();
    let cookie = format!("{}={}; {}; Max-Age={}", cookie_name(&c.authorization_id), c.csrf, cookie_flags(config), mcp_auth::AUTHORIZATION_TTL_MS / 1000);
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    r
}

#[derive(serde::Deserialize)]
struct Decision {
    authorization_id: String,
    csrf: String,
    decision: String,
}

/// The consent form's decision. Approve goes through the app's user verification (the code is
/// issued when the browser comes back verified, `routes/verification.rs`); Deny answers the client.
async fn decide(State(s): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let d: Decision = match form(&body) {
        Ok(d) => d,
        Err((_, e)) => {
            let why = e["error_description"].as_str().unwrap_or("bad form").to_string();
            return private(error_page(&grantline_core::Error::validation("form", why)));
        }
    };
    let name = cookie_name(&d.authorization_id);
    let cookie = crate::cookies::get(&headers, &name);
    if let Err(e) = s.engine.check_mcp_consent(&d.authorization_id, &d.csrf, cookie.as_deref()).await {
        return private(error_page(&e));
    }
    let outcome = match d.decision.as_str() {
        // Approving sends the browser to the app's verifier first: no code until the app
        // confirms this person is the session's user.
        "approve" => s.engine.approve_mcp_authorization(&d.authorization_id).await.map(|start| pages::verification_redirect(s.engine.config(), &start)),
        "deny" => s.engine.deny_mcp_authorization(&d.authorization_id).await.map(|url| Redirect::to(url.as_str()).into_response()),
        _ => Err(grantline_core::Error::validation("decision", "must be approve or deny")),
    };
    let mut r = outcome.unwrap_or_else(|e| error_page(&e));
    if let Ok(v) = HeaderValue::from_str(&format!("{name}=; {}; Max-Age=0", cookie_flags(s.engine.config()))) {
        r.headers_mut().append(SET_COOKIE, v);
    }
    private(r)
}
