//! Tools: the meta tools an agent calls in chat, and running toolkit tools for a session.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

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
pub struct ToolInfoToolkit {
    /// Slug.
    pub slug: String,
    /// Name.
    pub name: String,
}

/// Body of `POST …/session/{id}/execute_meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecuteMetaRequest {
    /// Which meta tool.
    pub slug: String,
    /// Its arguments.
    #[serde(default)]
    pub arguments: serde_json::Map<String, serde_json::Value>,
}

/// Answer of `POST …/session/{id}/execute_meta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecuteMetaResponse {
    /// The tool's output.
    pub data: serde_json::Value,
    /// An error for the model, when the tool failed.
    pub error: Option<String>,
    /// Identifies this execution in logs.
    pub log_id: String,
}

/// Body of `POST …/session/{id}/execute`: run one toolkit tool as the session's user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExecuteRequest {
    /// e.g. `GITHUB_CREATE_AN_ISSUE`.
    pub tool_slug: String,
    /// Its arguments.
    #[serde(default)]
    pub arguments: Map<String, Value>,
    /// Run as this account instead of the session's choice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_account_id: Option<String>,
}

/// What running a tool gave.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecuteResponse {
    /// The provider's answer (JSON), or what the agent needs to connect first.
    pub data: Value,
    /// Why it did not succeed, for the model.
    pub error: Option<String>,
    /// True when the provider answered 2xx.
    pub successful: bool,
    /// Identifies this execution in logs.
    pub log_id: String,
}

/// Body of `POST …/session/{id}/search`: find the session's tools for a use case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchRequest {
    /// What the agent wants to do, in words.
    pub query: String,
    /// Only tools of these toolkits.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub toolkits: Vec<String>,
    /// At most this many (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u32>,
}

/// One ranked tool of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchHit {
    /// The tool, with its schema.
    #[serde(flatten)]
    pub tool: ToolInfo,
    /// Relevance (BM25); higher is better.
    pub score: f64,
    /// Whether the session's user has an active account for the tool's toolkit.
    pub is_connected: bool,
}

/// Answer of `POST …/session/{id}/search`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResponse {
    /// Best first.
    pub items: Vec<SearchHit>,
}

/// Where a proxy parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProxyParamIn {
    /// A request header.
    Header,
    /// A query-string parameter.
    Query,
}

/// A header or query parameter of a proxied request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyParameter {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// Header or query.
    #[serde(rename = "in", alias = "type")]
    pub location: ProxyParamIn,
}

/// Body of `POST …/session/{id}/proxy_execute`: an authenticated request to a provider's API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyRequest {
    /// Path under the toolkit's API base URL, or an absolute URL on the same host.
    pub endpoint: String,
    /// `GET`, `POST`, `PUT`, `PATCH` or `DELETE`.
    pub method: String,
    /// The toolkit whose account signs the request (or give `connected_account_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
}

/// Answer of `POST …/session/{id}/proxy_execute`: the provider's answer as it came.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProxyResponse {
    /// The provider's HTTP status.
    pub status: u16,
    /// Its body (JSON, or the text in a string).
    pub data: Value,
    /// Its response headers (credentials never included).
    pub headers: std::collections::BTreeMap<String, String>,
}
