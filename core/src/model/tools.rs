//! Meta tools: what an agent calls to manage connections in chat.

use serde::{Deserialize, Serialize};

/// Slug of the in-chat connection tool.
pub const MANAGE_CONNECTIONS: &str = "COMPOSIO_MANAGE_CONNECTIONS";

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
