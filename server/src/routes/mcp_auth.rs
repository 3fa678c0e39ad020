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
use axum::routing::{get, options};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
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

/// The documented endpoints of MCP authorization (with their CORS preflights).
pub(crate) fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(authorization_server_root))
        .routes(routes!(openid_configuration))
        .routes(routes!(register))
        .routes(routes!(authorize))
        .routes(routes!(decide))
        .routes(routes!(token))
        .routes(routes!(revoke))
        .route(ASM_PREFIX, options(preflight))
        .route(OPENID_PREFIX, options(preflight))
        .route(mcp_auth::REGISTER_PATH, options(preflight))
        .route(mcp_auth::TOKEN_PATH, options(preflight))
        .route(mcp_auth::REVOKE_PATH, options(preflight))
}

/// The metadata at the locations derived from a resource's or an issuer's path (RFC 9728 §3.1,
/// RFC 8414 §3.1): any path, so their pattern is not one OpenAPI path.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(&format!("{PRM_PREFIX}/{{*tail}}"), get(protected_resource).options(preflight))
        .route(&format!("{ASM_PREFIX}/{{*tail}}"), get(authorization_server).options(preflight))
        .route(&format!("{OPENID_PREFIX}/{{*tail}}"), get(authorization_server).options(preflight))
}

/// An OAuth error answer (RFC 6749 §5.2).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // the document's shape of `OAuthError`'s body
pub(crate) struct OAuthErrorBody {
    /// The error code (`invalid_request`, `invalid_grant`, …).
    error: String,
    /// What was wrong, for a developer.
    error_description: String,
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

/// Authorization Server Metadata (RFC 8414) of the broker's MCP authorization: its endpoints, PKCE `S256` only, public clients, Client ID Metadata Documents, `iss` in authorization responses.
///
/// Also at the path-inserted location of an issuer with a path (`/.well-known/oauth-authorization-server/{path}`) and as OpenID discovery.
#[utoipa::path(
    get,
    path = "/.well-known/oauth-authorization-server",
    operation_id = "mcp_authorization_server_metadata",
    tag = "mcp authorization",
    security(()),
    responses((status = 200, description = "The metadata (RFC 8414 §2).", body = Object)),
)]
async fn authorization_server_root(State(s): State<AppState>) -> Response {
    public_json(metadata::authorization_server(s.engine.config()))
}

/// The same metadata at the OpenID discovery location the MCP specification lists (OpenID Connect Discovery 1.0).
#[utoipa::path(
    get,
    path = "/.well-known/openid-configuration",
    operation_id = "mcp_openid_configuration",
    tag = "mcp authorization",
    security(()),
    responses((status = 200, description = "The metadata.", body = Object)),
)]
async fn openid_configuration(state: State<AppState>) -> Response {
    authorization_server_root(state).await
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

/// Dynamic Client Registration (RFC 7591) of an MCP client: a public client (`token_endpoint_auth_method: none`) with its redirect URIs. What is not implemented (a client secret, other grant types) is refused naming the field.
#[utoipa::path(
    post,
    path = "/mcp/oauth/register",
    operation_id = "mcp_register_client",
    tag = "mcp authorization",
    security(()),
    request_body(content = Object, content_type = "application/json", description = "Client metadata (RFC 7591 §2): `redirect_uris` (required), `client_name`, `client_uri`, `logo_uri`, `grant_types`, `response_types`, `token_endpoint_auth_method` (`none`), `scope`."),
    responses(
        (status = 201, description = "Registered: the client's metadata with its `client_id` (`mcpcl_…`).", body = Object),
        (status = 400, description = "`invalid_client_metadata` or `invalid_redirect_uri`, naming the field.", body = OAuthErrorBody),
        (status = 429, description = "`temporarily_unavailable`: too many registrations this hour.", body = OAuthErrorBody),
        (status = 500, description = "`server_error`.", body = OAuthErrorBody),
    ),
)]
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

/// The token endpoint of MCP authorization: an authorization code (with its PKCE verifier, redirect URI and `resource`) or a refresh token (rotated on every use) for an access token bound to one session's MCP URL.
#[utoipa::path(
    post,
    path = "/mcp/oauth/token",
    operation_id = "mcp_token",
    tag = "mcp authorization",
    security(()),
    request_body(content = TokenRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "`access_token` (`glmat_…`), `token_type` `Bearer`, `expires_in`, `refresh_token` (`glmrt_…`), `scope`. `Cache-Control: no-store`.", body = Object),
        (status = 400, description = "`invalid_request`, `invalid_grant` (a replayed code or refresh token also revokes the login), `invalid_target` (`resource`), `invalid_scope` or `unsupported_grant_type`.", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`.", body = OAuthErrorBody),
        (status = 500, description = "`server_error`.", body = OAuthErrorBody),
    ),
)]
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

/// Token revocation (RFC 7009): revoking an access or refresh token ends every token of that login. An unknown token is not an error.
#[utoipa::path(
    post,
    path = "/mcp/oauth/revoke",
    operation_id = "mcp_revoke",
    tag = "mcp authorization",
    security(()),
    request_body(content = RevokeRequest, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked (or nothing to revoke)."),
        (status = 400, description = "`invalid_request`: no `token` or `client_id`.", body = OAuthErrorBody),
        (status = 401, description = "`invalid_client`.", body = OAuthErrorBody),
        (status = 500, description = "`server_error`.", body = OAuthErrorBody),
    ),
)]
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
    let path = format!("{}/mcp/oauth", config.public_base_url.path().trim_end_matches('/'));
    crate::cookies::attributes(config, &path, "Strict")
}

/// The authorization endpoint of MCP authorization (a browser page): checks the request and shows the consent page that names the client, the app, the session's user and what the client will be able to do.
#[utoipa::path(
    get,
    path = "/mcp/oauth/authorize",
    operation_id = "mcp_authorize",
    tag = "mcp authorization",
    security(()),
    params(AuthorizeRequest),
    responses(
        (status = 200, description = "The consent page.", content_type = "text/html", body = String),
        (status = 303, description = "Back to the client's redirect URI with `error`, `state` and `iss` (once the redirect URI is trusted).", headers(("Location" = String))),
        (status = 400, description = "A request that cannot be answered at its redirect URI (a page).", content_type = "text/html", body = String),
        (status = 404, description = "No such session (a page).", content_type = "text/html", body = String),
        (status = 500, description = "The broker failed (a page).", content_type = "text/html", body = String),
        (status = 503, description = "The broker is briefly unavailable (a page).", content_type = "text/html", body = String),
    ),
)]
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
        app_logo = pages::brand_logo(&c.brand),
        support = pages::brand_support(&c.brand),
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
/// The consent page's decision (a browser form, with the page's CSRF token in the form and its HttpOnly cookie). Approve goes to the app's user verification first; Deny goes back to the client with `access_denied`.
#[utoipa::path(
    post,
    path = "/mcp/oauth/consent",
    operation_id = "mcp_consent",
    tag = "mcp authorization",
    security(()),
    request_body(content = BTreeMap<String, String>, content_type = "application/x-www-form-urlencoded", description = "`authorization_id`, `csrf`, `decision` (`approve` or `deny`)."),
    responses(
        (status = 303, description = "To the app's verification page (approve) or back to the client (deny).", headers(("Location" = String))),
        (status = 400, description = "A malformed form, or an authorization already decided or expired (a page).", content_type = "text/html", body = String),
        (status = 403, description = "The form did not come from this browser's consent page, or the project cannot approve MCP clients (a page).", content_type = "text/html", body = String),
        (status = 404, description = "The session is gone (a page).", content_type = "text/html", body = String),
        (status = 500, description = "The broker failed (a page).", content_type = "text/html", body = String),
        (status = 503, description = "The broker is briefly unavailable (a page).", content_type = "text/html", body = String),
    ),
)]
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
