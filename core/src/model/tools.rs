//! Tools: the meta tools an agent calls in chat, and running toolkit tools for a session.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[cfg(feature = "openapi")]
use super::EmptyValue;

/// Slug of the in-chat connection tool.
pub const MANAGE_CONNECTIONS: &str = "COMPOSIO_MANAGE_CONNECTIONS";
/// Slug of the tool that finds tools for a use case.
pub const SEARCH_TOOLS: &str = "COMPOSIO_SEARCH_TOOLS";
/// Slug of the tool that gives tools' input schemas.
pub const GET_TOOL_SCHEMAS: &str = "COMPOSIO_GET_TOOL_SCHEMAS";
/// Slug of the tool that runs toolkit tools.
pub const MULTI_EXECUTE_TOOL: &str = "COMPOSIO_MULTI_EXECUTE_TOOL";
/// Slug of the tool that waits for the user to finish Connect Links.
pub const WAIT_FOR_CONNECTIONS: &str = "COMPOSIO_WAIT_FOR_CONNECTIONS";

/// One tool in `GET …/session/{id}/tools`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToolInfo {
    /// e.g. `COMPOSIO_MANAGE_CONNECTIONS`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What the tool does, for the model.
    pub description: String,
    /// JSON Schema of the arguments.
    pub input_parameters: serde_json::Value,
    /// True: meta tools need no connection.
    pub no_auth: bool,
    /// The toolkit the tool belongs to.
    pub toolkit: ToolInfoToolkit,
}

/// The toolkit of a [`ToolInfo`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToolInfoToolkit {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
}

/// Composio's `result_type`: whether a tool run completed or failed. Grantline never answers
/// `input_required` (it asks the user nothing) or `blocked` (it has no hooks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ResultType {
    /// The tool ran and answered; `error` is null.
    Completed,
    /// The tool did not succeed; `error` says why.
    Failed,
}

/// Body of `POST …/session/{id}/execute_meta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExecuteMetaRequest {
    /// Which meta tool.
    pub slug: String,
    /// Its arguments.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub arguments: serde_json::Map<String, serde_json::Value>,
    /// Composio: the user's answers to an `input_required` result. Grantline never asks,
    /// so only empty is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = EmptyValue))]
    pub input_responses: Option<Value>,
    /// Composio: the `request_state` of an `input_required` result; only empty is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = EmptyValue))]
    pub request_state: Option<Value>,
    /// Composio: inline custom tools and toolkits; only empty is accepted (an empty value, or
    /// an object of empty values such as `{"custom_tools": []}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::model::no_custom_tools))]
    pub experimental: Option<Value>,
}

/// Answer of `POST …/session/{id}/execute_meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecuteMetaResponse {
    /// The tool's output (an object).
    pub data: serde_json::Value,
    /// An error for the model, when the tool failed.
    pub error: Option<String>,
    /// Identifies this execution in logs.
    pub log_id: String,
    /// `completed`, or `failed` when `error` is set.
    pub result_type: ResultType,
}

/// Body of `POST …/session/{id}/execute`: run one tool (a toolkit tool, or a meta tool
/// `COMPOSIO_…`) as the session's user.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExecuteRequest {
    /// e.g. `GITHUB_CREATE_AN_ISSUE` or `COMPOSIO_SEARCH_TOOLS`.
    pub tool_slug: String,
    /// Its arguments.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub arguments: Map<String, Value>,
    /// Composio: run as this account of the user, by id (`ca_…`) or alias.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Run as this account (`ca_…`) instead of the session's choice (Grantline; like `account`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_account_id: Option<String>,
    /// Composio: may answer a workbench preview of a large result. Grantline has no
    /// workbench and always answers inline, so this is a documented no-op.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_auto_workbench_offload: Option<bool>,
    /// Composio: the user's answers to an `input_required` result; only empty is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = EmptyValue))]
    pub input_responses: Option<Value>,
    /// Composio: the `request_state` of an `input_required` result; only empty is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = EmptyValue))]
    pub request_state: Option<Value>,
    /// Composio: inline custom tools and toolkits; only empty is accepted (an empty value, or
    /// an object of empty values such as `{"custom_tools": []}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::model::no_custom_tools))]
    pub experimental: Option<Value>,
}

/// What running a tool gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecuteResponse {
    /// The provider's answer (always a JSON object: an array answer is `{"items": […]}`, a
    /// text one `{"text": "…"}`, an empty one `{}`), or what the agent needs to connect first.
    pub data: Value,
    /// Why it did not succeed, for the model.
    pub error: Option<String>,
    /// True when the tool ran and succeeded (a toolkit tool: the provider answered 2xx);
    /// false exactly when `error` is set.
    pub successful: bool,
    /// Identifies this execution in logs.
    pub log_id: String,
    /// `completed` when successful, else `failed`.
    pub result_type: ResultType,
}

/// One use case of a search.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// The task in plain words (at most 1024 characters).
    #[cfg_attr(feature = "openapi", schema(max_length = 1024))]
    pub use_case: String,
    /// Composio: hints such as `channel_name:general,user_email:a@b.example` (at most 500
    /// characters). Grantline ranks on them together with the use case: their words match
    /// parameter names and descriptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 500))]
    pub known_fields: Option<String>,
}

/// Body of `POST …/session/{id}/search` (Composio's), which is also what
/// `COMPOSIO_SEARCH_TOOLS` takes: find the session's tools for one or more use cases.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// One entry per task (1 to 20).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 20))]
    pub queries: Vec<SearchQuery>,
    /// Only tools of these toolkits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub toolkits: Vec<String>,
    /// Grantline: at most this many tools per use case (1 to 100, default 5).
    #[serde(default, deserialize_with = "crate::model::whole::option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 100))]
    pub limit: Option<u32>,
    /// Composio: a model hint for planning. Grantline ranks with BM25 and plans nothing: a
    /// documented no-op.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Composio: `auto` or `tool_search`. Grantline has one strategy (BM25 over the
    /// session's tools): either value is accepted and changes nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search_strategy: Option<String>,
    /// Composio: inline custom tools and toolkits; only empty is accepted (an empty value, or
    /// an object of empty values such as `{"custom_tools": []}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = crate::model::no_custom_tools))]
    pub experimental: Option<Value>,
}

impl SearchRequest {
    /// A search for one use case.
    pub fn use_case(query: impl Into<String>, toolkits: Vec<String>, limit: Option<u32>) -> Self {
        Self { queries: vec![SearchQuery { use_case: query.into(), known_fields: None }], toolkits, limit, ..Default::default() }
    }
}

/// The tools found for one use case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResult {
    /// 1-based position of the query in the request.
    pub index: u32,
    /// The use case as asked.
    #[cfg_attr(feature = "openapi", schema(max_length = 1024))]
    pub use_case: String,
    /// The best tool (empty when nothing matched).
    pub primary_tool_slugs: Vec<String>,
    /// The next best, best first.
    pub related_tool_slugs: Vec<String>,
    /// The toolkits of those tools.
    pub toolkits: Vec<String>,
    /// Grantline: each tool's relevance (BM25; higher is better).
    #[serde(default)]
    pub scores: BTreeMap<String, f64>,
}

/// A found tool's schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchToolSchema {
    /// e.g. `GITHUB_CREATE_AN_ISSUE`.
    pub tool_slug: String,
    /// Its toolkit's slug.
    pub toolkit: String,
    /// Grantline: the tool's display name.
    #[serde(default)]
    pub name: String,
    /// What the tool does.
    pub description: String,
    /// JSON Schema of its arguments.
    pub input_schema: Value,
    /// Always true: the full input schema is included.
    #[serde(rename = "hasFullSchema", default)]
    pub has_full_schema: bool,
}

/// An account the agent may name with `account` (`ca_…` or its alias).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchStatusAccount {
    /// `ca_…`
    #[cfg_attr(feature = "openapi", schema(pattern = r"^ca_[A-Za-z0-9]{1,64}$"))]
    pub id: String,
    /// The user's name for it.
    pub alias: Option<String>,
    /// `active`.
    pub status: String,
    /// True for the one tools use when no account is named.
    pub is_default: bool,
    /// When it was connected (RFC 3339).
    pub created_at: String,
    /// Always `PRIVATE`: an account belongs to its user.
    pub account_type: String,
}

/// Whether the user can run a found toolkit's tools now, and what to do if not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToolkitConnectionStatus {
    /// Toolkit slug.
    pub toolkit: String,
    /// What the toolkit is.
    pub description: String,
    /// True when a tool of it would run now (an active account, or no auth needed).
    pub has_active_connection: bool,
    /// The next step, for the model.
    pub status_message: String,
    /// The user's active accounts of the toolkit (absent when none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<SearchStatusAccount>,
}

/// Composio's session block of a search answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchSession {
    /// The session id (`trs_…`).
    #[cfg_attr(feature = "openapi", schema(pattern = r"^trs_[A-Za-z0-9]{1,64}$"))]
    pub id: String,
    /// Always false: the session is the one in the URL.
    pub generate_id: bool,
    /// For the model.
    pub instructions: String,
}

/// The broker's clock, for tasks that mention dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TimeInfo {
    /// RFC 3339, UTC.
    pub current_time_utc: String,
    /// Unix seconds.
    pub current_time_utc_epoch_seconds: i64,
    /// For the model.
    pub message: String,
}

/// Answer of `POST …/session/{id}/search`, and the output of `COMPOSIO_SEARCH_TOOLS`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchResponse {
    /// True: a bad query is a 400, never a partial answer.
    pub success: bool,
    /// Always null (see `success`).
    pub error: Option<String>,
    /// One per query, in request order.
    pub results: Vec<SearchResult>,
    /// Every found tool once, by slug.
    pub tool_schemas: BTreeMap<String, SearchToolSchema>,
    /// One per toolkit of a found tool.
    pub toolkit_connection_statuses: Vec<ToolkitConnectionStatus>,
    /// What to do next, step by step.
    pub next_steps_guidance: Vec<String>,
    /// The session.
    pub session: SearchSession,
    /// The broker's time.
    pub time_info: TimeInfo,
}

impl SearchResponse {
    /// The found tools, best first per query and in query order, each once.
    pub fn hits(&self) -> Vec<SearchHit> {
        let mut out: Vec<SearchHit> = Vec::new();
        for r in &self.results {
            for slug in r.primary_tool_slugs.iter().chain(&r.related_tool_slugs) {
                let Some(s) = self.tool_schemas.get(slug) else { continue };
                if out.iter().any(|h| &h.slug == slug) {
                    continue;
                }
                out.push(SearchHit {
                    slug: slug.clone(),
                    name: s.name.clone(),
                    description: s.description.clone(),
                    toolkit: s.toolkit.clone(),
                    input_parameters: s.input_schema.clone(),
                    score: r.scores.get(slug).copied().unwrap_or(0.0),
                    is_connected: self.toolkit_connection_statuses.iter().any(|c| c.toolkit == s.toolkit && c.has_active_connection),
                });
            }
        }
        out
    }
}

/// One found tool, as the SDKs' `search` gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    /// e.g. `GITHUB_CREATE_AN_ISSUE`.
    pub slug: String,
    /// Display name.
    pub name: String,
    /// What the tool does.
    pub description: String,
    /// Its toolkit's slug.
    pub toolkit: String,
    /// JSON Schema of its arguments.
    pub input_parameters: Value,
    /// Relevance (BM25); higher is better.
    pub score: f64,
    /// Whether the session's user can run it now (active account, or no auth needed).
    pub is_connected: bool,
}

/// Where a proxy parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProxyParamIn {
    /// A request header.
    Header,
    /// A query-string parameter.
    Query,
}

/// A header or query parameter of a proxied request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProxyParameter {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// Header or query (Composio calls it `type`).
    #[serde(rename = "in", alias = "type")]
    pub location: ProxyParamIn,
}

/// Body of `POST …/session/{id}/proxy_execute`: an authenticated request to a provider's API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProxyRequest {
    /// Path under the toolkit's API base URL, or an absolute URL on the same host.
    pub endpoint: String,
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    #[cfg_attr(feature = "openapi", schema(value_type = String, pattern = r"^(GET|POST|PUT|PATCH|DELETE)$"))]
    pub method: String,
    /// The toolkit whose account signs the request (or give `connected_account_id`);
    /// Composio calls it `toolkit_slug`.
    #[serde(default, alias = "toolkit_slug", skip_serializing_if = "Option::is_none")]
    pub toolkit: Option<String>,
    /// The account that signs the request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_account_id: Option<String>,
    /// JSON body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// Extra headers and query parameters.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parameters: Vec<ProxyParameter>,
    /// Composio: a binary body by URL or base64. Only empty is accepted: Grantline sends JSON
    /// bodies only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = EmptyValue))]
    pub binary_body: Option<Value>,
    /// Composio: a credential from the caller to sign with. Only empty is accepted: the
    /// broker signs only with the accounts it holds for the session's user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = EmptyValue))]
    pub custom_connection_data: Option<Value>,
}

/// Answer of `POST …/session/{id}/proxy_execute`: the provider's answer as it came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProxyResponse {
    /// The provider's HTTP status.
    pub status: u16,
    /// Its body (JSON, or the text in a string).
    pub data: Value,
    /// Its response headers (credentials never included).
    pub headers: BTreeMap<String, String>,
    /// Composio's link to a binary answer: always null (Grantline stores no files; the answer is in `data`).
    #[serde(default)]
    pub binary_data: Option<Value>,
    /// Grantline: identifies this request in the execution logs (`GET /api/v3.1/logs/{log_id}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_id: Option<String>,
}
