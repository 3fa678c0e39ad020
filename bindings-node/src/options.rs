//! JS option objects into the core's option structs.

use std::collections::HashMap;
use std::time::Duration;

use grantline_core::model::{
    AccountFilter, AccountStatus, ProxyParamIn, ProxyParameter, ProxyRequest as CoreProxyRequest, SearchRequest, ToolkitsQuery as CoreToolkitsQuery,
};
use grantline_core::{AuthorizeOptions as CoreAuthorizeOptions, ClientConfig, Error, SessionOptions};
use napi::bindgen_prelude::{Either, Unknown};
use napi_derive::napi;

use crate::json;

/// Options of `new Grantline(...)`.
#[napi(object)]
pub struct GrantlineOptions {
    /// Project API key; defaults to `GRANTLINE_API_KEY`.
    pub api_key: Option<String>,
    /// Broker URL; defaults to `GRANTLINE_BASE_URL`, then `http://127.0.0.1:9900`.
    pub base_url: Option<String>,
    /// Timeout of one ordinary request, in milliseconds.
    pub timeout_ms: Option<f64>,
}

/// `{ enable: [...] }` or `{ disable: [...] }`.
#[napi(object)]
pub struct ToolkitsFilter {
    /// Only these toolkits.
    pub enable: Option<Vec<String>>,
    /// All toolkits but these.
    pub disable: Option<Vec<String>>,
}

/// `{ enable, callbackUrl }` of `manageConnections`.
#[napi(object)]
pub struct ManageConnectionsOptions {
    /// Offer the in-chat connection tool.
    pub enable: Option<bool>,
    /// Where users land after connecting in chat.
    pub callback_url: Option<String>,
}

/// Options of `gl.create(userId, options)`.
#[napi(object)]
pub struct CreateSessionOptions {
    /// Toolkit slugs, or `{ enable }` / `{ disable }`.
    pub toolkits: Option<Either<Vec<String>, ToolkitsFilter>>,
    /// Offer `COMPOSIO_MANAGE_CONNECTIONS` (default true), or `{ enable, callbackUrl }`.
    pub manage_connections: Option<Either<bool, ManageConnectionsOptions>>,
    /// Also offer `COMPOSIO_WAIT_FOR_CONNECTIONS`, so an agent can wait in chat (default false).
    pub wait_for_connections: Option<bool>,
    /// Auth config id per toolkit.
    pub auth_configs: Option<HashMap<String, String>>,
    /// Connected account id per toolkit.
    pub connected_accounts: Option<HashMap<String, String>>,
    /// Toolkit tools listed directly beside the meta tools (tools(), MCP), e.g. `['GITHUB_CREATE_AN_ISSUE']`.
    pub direct_tools: Option<Vec<String>>,
}

/// Options of `session.authorize(toolkit, options)`.
#[napi(object)]
pub struct AuthorizeOptions {
    /// Where the user lands afterwards (on the project's allow-list).
    pub callback_url: Option<String>,
    /// Name for the account, unique per user and toolkit.
    pub alias: Option<String>,
}

/// Options of `connectedAccounts.refresh(id, options)`.
#[napi(object)]
pub struct RefreshOptions {
    /// Where the user lands after the new link (on the project's allow-list).
    pub callback_url: Option<String>,
}

/// Options of `session.clientToken(options)`.
#[napi(object)]
pub struct ClientTokenOptions {
    /// Lifetime in seconds (default 900, at most 86400).
    pub ttl_seconds: Option<u32>,
}

/// Options of `session.execute(toolSlug, args, options)`.
#[napi(object)]
pub struct ExecuteOptions {
    /// Run as this account (`ca_…`) instead of the session's pick for the toolkit.
    pub connected_account_id: Option<String>,
}

/// Options of `session.search(query, options)`.
#[napi(object)]
pub struct SearchOptions {
    /// Only tools of these toolkits.
    pub toolkits: Option<Vec<String>>,
    /// At most this many hits (default 10).
    pub limit: Option<u32>,
}

/// The request of `session.proxyExecute(request)`: one call to a provider's API, signed by the broker.
#[napi(object)]
pub struct ProxyRequest<'a> {
    /// Path under the toolkit's API base URL (e.g. `/user`), or an absolute URL on that host.
    pub endpoint: String,
    /// `GET` (default), `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: Option<String>,
    /// The toolkit whose account signs the request (or give `connectedAccountId`).
    pub toolkit: Option<String>,
    /// The account (`ca_…`) that signs the request.
    pub connected_account_id: Option<String>,
    /// JSON body.
    #[napi(ts_type = "unknown")]
    pub body: Option<Unknown<'a>>,
    /// Extra request headers (the broker sets `authorization` itself).
    pub headers: Option<HashMap<String, String>>,
    /// Query-string parameters.
    pub query: Option<HashMap<String, String>>,
}

/// Query of `session.toolkits(query)`.
#[napi(object)]
pub struct ToolkitsQuery {
    /// Only these slugs.
    pub toolkits: Option<Vec<String>>,
    /// Only connected (`true`) or unconnected (`false`) ones.
    pub is_connected: Option<bool>,
    /// Text in slug, name or description.
    pub search: Option<String>,
    /// Items per page (1–100, default 20).
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// Filter of `connectedAccounts.list(filter)`.
#[napi(object)]
pub struct AccountsFilter {
    /// Only these end users.
    pub user_ids: Option<Vec<String>>,
    /// Only these toolkits.
    pub toolkit_slugs: Option<Vec<String>>,
    /// Only these statuses (`ACTIVE`, …).
    pub statuses: Option<Vec<String>>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page.
    pub limit: Option<u32>,
}

/// Milliseconds (JS's convention) as a `Duration`, naming `field` when invalid.
pub fn millis(field: &str, ms: f64) -> Result<Duration, Error> {
    Duration::try_from_secs_f64(ms / 1000.0).map_err(|_| Error::validation(field, "must be a finite number of milliseconds, 0 or more"))
}

/// The client config of `new Grantline(options)`.
pub fn client_config(o: Option<GrantlineOptions>) -> Result<ClientConfig, Error> {
    let o = o.unwrap_or(GrantlineOptions { api_key: None, base_url: None, timeout_ms: None });
    let mut config = ClientConfig::from_parts(o.api_key, o.base_url)?;
    if let Some(ms) = o.timeout_ms {
        config.request_timeout = millis("timeoutMs", ms)?;
    }
    Ok(config)
}

/// The core's session options.
pub fn session_options(o: Option<CreateSessionOptions>) -> SessionOptions {
    let mut out = SessionOptions::default();
    let Some(o) = o else { return out };
    match o.toolkits {
        Some(Either::A(list)) => out.toolkits = list,
        Some(Either::B(f)) => {
            out.toolkits = f.enable.unwrap_or_default();
            out.disabled_toolkits = f.disable.unwrap_or_default();
        }
        None => {}
    }
    match o.manage_connections {
        Some(Either::A(b)) => out.manage_connections = Some(b),
        Some(Either::B(m)) => {
            out.manage_connections = m.enable;
            out.manage_connections_callback_url = m.callback_url;
        }
        None => {}
    }
    out.wait_for_connections = o.wait_for_connections;
    out.auth_configs = o.auth_configs.unwrap_or_default().into_iter().collect();
    out.connected_accounts = o.connected_accounts.unwrap_or_default().into_iter().collect();
    out.direct_tools = o.direct_tools.unwrap_or_default();
    out
}

/// The core's authorize options.
pub fn authorize_options(o: Option<AuthorizeOptions>) -> CoreAuthorizeOptions {
    o.map(|o| CoreAuthorizeOptions { callback_url: o.callback_url, alias: o.alias }).unwrap_or_default()
}

/// The core's toolkits query.
pub fn toolkits_query(q: Option<ToolkitsQuery>) -> CoreToolkitsQuery {
    q.map(|q| CoreToolkitsQuery {
        cursor: q.cursor,
        limit: q.limit,
        toolkits: q.toolkits.unwrap_or_default(),
        is_connected: q.is_connected,
        search: q.search,
    })
    .unwrap_or_default()
}

/// The core's search request.
pub fn search_request(query: String, o: Option<SearchOptions>) -> SearchRequest {
    let (toolkits, limit) = o.map(|o| (o.toolkits.unwrap_or_default(), o.limit)).unwrap_or_default();
    SearchRequest::use_case(query, toolkits, limit)
}

/// The core's proxy request: `headers` first, then `query`, as `parameters`.
pub fn proxy_request(r: ProxyRequest) -> Result<CoreProxyRequest, Error> {
    let body = r.body.map(|b| json::value("body", b)).transpose()?;
    let params = |m: Option<HashMap<String, String>>, location| {
        let mut v: Vec<_> = m.unwrap_or_default().into_iter().collect();
        v.sort();
        v.into_iter().map(move |(name, value)| ProxyParameter { name, value, location })
    };
    let parameters = params(r.headers, ProxyParamIn::Header).chain(params(r.query, ProxyParamIn::Query)).collect();
    Ok(CoreProxyRequest {
        endpoint: r.endpoint,
        method: r.method.unwrap_or_else(|| "GET".into()),
        toolkit: r.toolkit,
        connected_account_id: r.connected_account_id,
        body,
        parameters,
        ..Default::default()
    })
}

/// A proxy error as the JS caller named things: the broker's `parameters[i]…` becomes
/// `headers.<name>` or `query.<name>`.
pub fn proxy_error(e: Error, request: &CoreProxyRequest) -> Error {
    let Error::Validation { field, message } = e else { return e };
    let named = field
        .strip_prefix("parameters[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(i, _)| i.parse::<usize>().ok())
        .and_then(|i| request.parameters.get(i))
        .map(|p| format!("{}.{}", if p.location == ProxyParamIn::Header { "headers" } else { "query" }, p.name));
    Error::Validation { field: named.unwrap_or(field), message }
}

/// The core's account filter, cursor and limit.
pub fn account_filter(f: Option<AccountsFilter>) -> Result<(AccountFilter, Option<String>, Option<u32>), Error> {
    let Some(f) = f else { return Ok((AccountFilter::default(), None, None)) };
    let statuses = f
        .statuses
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, s)| AccountStatus::parse(s).ok_or_else(|| Error::validation(format!("statuses[{i}]"), format!("unknown status {s:?}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let filter = AccountFilter { user_ids: f.user_ids.unwrap_or_default(), toolkit_slugs: f.toolkit_slugs.unwrap_or_default(), statuses, ..Default::default() };
    Ok((filter, f.cursor, f.limit))
}
