//! The session MCP endpoint: streamable HTTP (rmcp) at `/tool_router/{id}/mcp`. An MCP client
//! sends the session's MCP credential (`Authorization: Bearer glmcp_…`, what `session.mcp.headers`
//! says to send) or the access token it got by logging in (MCP authorization, `engine/mcp_auth/`;
//! a request without a credential is answered `401` with the `WWW-Authenticate` challenge that
//! starts the login); a backend may send the project API key in `x-api-key` (Composio's SDK does).
//! Who may use which session is the engine's rule (`Engine::authenticate_mcp`). `tools/list`
//! gives the session's meta tools and direct tools; `tools/call` runs them through the engine.
//!
//! The transport is stateless: every request carries its credential and session in the
//! URL, so any broker process answers any request and a restart loses nothing.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use grantline_core::engine::{Engine, Principal, Scope};
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, ErrorData, Implementation, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig,
};
use rmcp::service::{RequestContext, RoleServer};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::ServerHandler;

use crate::error::ApiError;
#[allow(unused_imports)] // named by the OpenAPI entry
use grantline_core::ErrorBody;
use crate::AppState;

/// The rmcp service every session's endpoint shares.
pub type McpService = StreamableHttpService<SessionTools, NeverSessionManager>;

/// Who is calling which session, put on the request by [`endpoint`] for the handler.
#[derive(Clone)]
struct McpCaller {
    who: Principal,
    session_id: String,
}

/// The MCP server of one request: the engine, reached through the caller on the request.
pub struct SessionTools {
    engine: Arc<Engine>,
}

/// Builds the shared service. Hosts are checked against the broker's public URL (and
/// loopback), so a DNS-rebinding page cannot drive a local broker.
pub fn service(engine: Arc<Engine>) -> McpService {
    let public = &engine.config().public_base_url;
    let mut hosts = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    if let Some(h) = public.host_str() {
        hosts.push(h.to_string());
        if let Some(p) = public.port() {
            hosts.push(format!("{h}:{p}"));
        }
    }
    let config = StreamableHttpServerConfig::default()
        .with_allowed_hosts(hosts)
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None);
    StreamableHttpService::new(move || Ok(SessionTools { engine: engine.clone() }), Arc::new(NeverSessionManager::default()), config)
}

/// The session's MCP endpoint (streamable HTTP, stateless, JSON responses).
///
/// JSON-RPC 2.0 per the Model Context Protocol: initialize, tools/list (the session's meta tools and
/// direct tools), tools/call. Authenticate with this session's MCP credential
/// (`Authorization: Bearer glmcp_…`, minted by POST …/session/{id}/mcp_credentials; what
/// session.mcp.headers holds in the SDKs), with an MCP client's access token from MCP
/// authorization (`Authorization: Bearer glmat_…`), or with x-api-key from a backend. Without a
/// credential the answer is 401 with `WWW-Authenticate: Bearer resource_metadata=…`, where an MCP
/// client starts logging in. POST only: the transport is stateless, so there is no GET stream and
/// no session to DELETE (any other method is 405 with `Allow: POST`).
#[utoipa::path(
    post,
    path = "/tool_router/{id}/mcp",
    operation_id = "mcp",
    tag = "mcp",
    security(("mcpCredential" = []), ("mcpAccessToken" = []), ("apiKey" = [])),
    params(
        ("id" = String, Path, description = "The session (`trs_…`).", pattern = r"^trs_[A-Za-z0-9]{1,64}$"),
        ("accept" = String, Header, description = "Must accept both `application/json` and `text/event-stream`."),
    ),
    request_body(content = Object, content_type = "application/json", description = "A JSON-RPC 2.0 request or notification."),
    responses(
        (status = 200, description = "The JSON-RPC response (a JSON-RPC error included).", content_type = "application/json", body = Object),
        (status = 202, description = "A notification or response was accepted."),
        (status = 400, description = "Not a JSON-RPC message, or a malformed session id (`VALIDATION` envelope or text).", body = ErrorBody),
        (status = 401, description = "`UNAUTHORIZED`: no credential, or an unknown, expired or revoked one, or an access token granted for another session. `WWW-Authenticate` names the session's Protected Resource Metadata (RFC 9728), with `error=\"invalid_token\"` for a bad token.", body = ErrorBody, headers(("WWW-Authenticate" = String))),
        (status = 403, description = "`FORBIDDEN`: another session's MCP credential, or a client token; or a Host header that is not the broker's (DNS rebinding guard).", body = ErrorBody),
        (status = 404, description = "`NOT_FOUND`: no such session, or an unknown JSON-RPC method.", body = ErrorBody),
        (status = 406, description = "The Accept header does not take both JSON and an event stream.", content_type = "text/plain", body = String),
        (status = 415, description = "The body is not `application/json`.", content_type = "text/plain", body = String),
        (status = 429, description = "`RATE_LIMITED`: the MCP credential's (or API key's) rate limit; retry after `Retry-After` seconds.", body = ErrorBody, headers(("Retry-After" = u64))),
        (status = 500, description = "`INTERNAL`.", body = ErrorBody),
        (status = 503, description = "`UNAVAILABLE`: retry after `Retry-After` seconds.", body = ErrorBody, headers(("Retry-After" = u64))),
    ),
)]
pub async fn endpoint(State(s): State<AppState>, Path(session_id): Path<String>, mut req: Request) -> Response {
    let (key, bearer) = credentials(req.headers());
    let sent_token = bearer.is_some();
    let who = match s.engine.authenticate_mcp(&session_id, key.as_deref(), bearer.as_deref()).await {
        Ok(who) => who,
        Err(e) => return challenged(&s, &session_id, sent_token, e),
    };
    if let Err(e) = rate_limit(&s, &who) {
        return ApiError(e).into_response();
    }
    req.extensions_mut().insert(McpCaller { who, session_id });
    s.mcp.handle(req).await.map(axum::body::Body::new).into_response()
}

/// Takes one request from the caller's rate limit: its MCP credential's, or its API key's (when
/// one is set), as the REST API does.
fn rate_limit(s: &AppState, who: &Principal) -> Result<(), grantline_core::Error> {
    match (&who.scope, &who.api_key_id) {
        (Scope::Mcp { credential_id, .. }, _) => s.limits.mcp_credential.check(credential_id),
        (_, Some(key_id)) => s.limits.api_key.check(key_id),
        _ => Ok(()),
    }
}

/// The request's `x-api-key` and bearer token, if any.
fn credentials(headers: &axum::http::HeaderMap) -> (Option<String>, Option<String>) {
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|v| !v.is_empty());
    let bearer = header("authorization")
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_string())
        .filter(|t| !t.is_empty());
    (header("x-api-key").map(str::to_string), bearer)
}

/// A refused MCP request. A `401` names where the Protected Resource Metadata is
/// (`WWW-Authenticate: Bearer resource_metadata=…`, RFC 9728 §5.1), so an MCP client can start
/// logging in; a bad token adds `error="invalid_token"`.
fn challenged(s: &AppState, session_id: &str, sent_token: bool, e: grantline_core::Error) -> Response {
    use grantline_core::engine::mcp_auth::{metadata, resource_url, session_of_resource};
    let config = s.engine.config();
    let why = match &e {
        grantline_core::Error::Unauthorized(why) => why.clone(),
        _ => return ApiError(e).into_response(),
    };
    let mut response = ApiError(e).into_response();
    if session_of_resource(config, &resource_url(config, session_id)).is_some() {
        let bad = sent_token.then_some(why.as_str());
        if let Ok(v) = axum::http::HeaderValue::from_str(&metadata::challenge(config, session_id, bad)) {
            response.headers_mut().insert(axum::http::header::WWW_AUTHENTICATE, v);
        }
    }
    response
}

fn caller(ctx: &RequestContext<RoleServer>) -> Result<McpCaller, ErrorData> {
    ctx.extensions
        .get::<axum::http::request::Parts>()
        .and_then(|p| p.extensions.get::<McpCaller>())
        .cloned()
        .ok_or_else(|| ErrorData::internal_error("the MCP request reached the handler without a caller", None))
}

impl ServerHandler for SessionTools {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("grantline", env!("CARGO_PKG_VERSION")))
            .with_instructions(
                "Tools for acting in the user's connected accounts. Find tools with COMPOSIO_SEARCH_TOOLS, run them with \
                 COMPOSIO_MULTI_EXECUTE_TOOL; when a toolkit is not connected, call COMPOSIO_MANAGE_CONNECTIONS and show \
                 the user the redirect_url.",
            )
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        ctx: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        let c = caller(&ctx)?;
        let list = self.engine.session_tool_list(&c.who, &c.session_id).await.map_err(|e| ErrorData::internal_error(crate::error::logged_message(&e), None))?;
        let tools = list
            .into_iter()
            .map(|t| {
                let schema = match t.input_parameters {
                    serde_json::Value::Object(o) => o,
                    _ => serde_json::Map::new(),
                };
                rmcp::model::Tool::new(t.slug, t.description, Arc::new(schema))
            })
            .collect();
        Ok(ListToolsResult::with_all_items(tools))
    }

    async fn call_tool(&self, request: CallToolRequestParams, ctx: RequestContext<RoleServer>) -> Result<CallToolResponse, ErrorData> {
        let c = caller(&ctx)?;
        let arguments = request.arguments.unwrap_or_default();
        // A tool's failure is an answer the model reads (isError), not a protocol error.
        let result = match self.engine.call_session_tool(&c.who, &c.session_id, &request.name, arguments).await {
            Ok(out) if out.is_error => CallToolResult::error(vec![ContentBlock::text(out.output.to_string())]),
            Ok(out) => CallToolResult::success(vec![ContentBlock::text(out.output.to_string())]),
            Err(e) => CallToolResult::error(vec![ContentBlock::text(format!("{} ({})", crate::error::logged_message(&e), e.code()))]),
        };
        Ok(result.into())
    }
}
