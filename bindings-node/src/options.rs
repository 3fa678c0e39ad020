//! The TypeScript shapes of the option objects the JS methods take. The methods receive them
//! as plain JS values and hand them, as JSON, to the core's option rules
//! (`grantline_core::client::options`), which check every key and type for all hosts alike; these
//! structs only declare the shapes in `native.d.ts` for editors and `tsc`.
#![allow(dead_code)]

use std::collections::HashMap;

use grantline_core::client::options::{Naming, Options, Unit};
use grantline_core::{ClientConfig, Error};
use napi::bindgen_prelude::{Either, Unknown};
use napi_derive::napi;

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

/// `{ enable, callbackUrl, waitForConnections }` of `manageConnections`.
#[napi(object)]
pub struct ManageConnectionsOptions {
    /// Offer the in-chat connection tool.
    pub enable: Option<bool>,
    /// Where users land after connecting in chat.
    pub callback_url: Option<String>,
    /// Also offer `COMPOSIO_WAIT_FOR_CONNECTIONS`, so an agent can wait in chat (default false).
    pub wait_for_connections: Option<bool>,
}

/// Options of `gl.create(userId, options)`.
#[napi(object)]
pub struct CreateSessionOptions {
    /// Toolkit slugs, or `{ enable }` / `{ disable }`.
    pub toolkits: Option<Either<Vec<String>, ToolkitsFilter>>,
    /// Offer `COMPOSIO_MANAGE_CONNECTIONS` (default true), or `{ enable, callbackUrl, waitForConnections }`.
    pub manage_connections: Option<Either<bool, ManageConnectionsOptions>>,
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

/// Options of `session.createMcpCredential(options)`.
#[napi(object)]
pub struct McpCredentialOptions {
    /// Lifetime in seconds (default 2592000, 30 days; at most 31536000, 365 days).
    pub ttl_seconds: Option<u32>,
    /// A label to recognise it by in listings (which client holds it), up to 100 characters.
    pub name: Option<String>,
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

/// Options of `webhooks.list(options)` and `webhooks.deliveries(id, options)`.
#[napi(object)]
pub struct PageOptions {
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
    /// Items per page.
    pub limit: Option<u32>,
}

/// The change of `webhooks.update(id, change)`: what is left out is kept.
#[napi(object)]
pub struct WebhookUpdate {
    /// A new receiver URL (https; http only for loopback on a `--dev` broker).
    pub webhook_url: Option<String>,
    /// A new list of event types (at least one; see `webhooks.eventTypes()`).
    pub enabled_events: Option<Vec<String>>,
}

/// The change of `updateProject(change)`: what is left out is kept; `null` clears a value.
#[napi(object)]
pub struct ProjectChange {
    /// The app's name on every page (1 to 80 characters).
    #[napi(ts_type = "string | null")]
    pub display_name: Option<String>,
    /// Where people get help (https).
    #[napi(ts_type = "string | null")]
    pub support_url: Option<String>,
    /// The app's page that confirms who its user is (https).
    #[napi(ts_type = "string | null")]
    pub user_verification_url: Option<String>,
    /// Send every Connect Link through user verification first.
    pub verify_connect_links: Option<bool>,
}

/// The client config of `new Grantline({ apiKey, baseUrl, timeoutMs })`.
pub fn client_config(value: Option<Unknown>) -> Result<ClientConfig, Error> {
    let value = crate::json::options(value)?;
    let o = Options::new(value.as_ref(), "", Naming::Camel, &["api_key", "base_url", "timeout_ms"])?;
    let mut config = ClientConfig::from_parts(o.string("api_key")?, o.string("base_url")?)?;
    if let Some(timeout) = o.duration("timeout_ms", Unit::Millis)? {
        config.request_timeout = timeout;
    }
    Ok(config)
}
