//! Tool-router sessions: one end user's view of toolkits and connections.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Which toolkits a session exposes: a list (allowlist), `{enable: [...]}` or `{disable: [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolkitsInput {
    /// A bare list means "only these".
    List(Vec<String>),
    /// `{enable: [...]}`: only these.
    Enable {
        /// Slugs to allow.
        enable: Vec<String>,
    },
    /// `{disable: [...]}`: all but these.
    Disable {
        /// Slugs to hide.
        disable: Vec<String>,
    },
}

/// `manage_connections` as sent: a bool or `{enable, callback_url, enable_wait_for_connections}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ManageConnectionsInput {
    /// `true` / `false`.
    Flag(bool),
    /// The object form.
    Options(ManageConnectionsOptions),
}

/// The object form of `manage_connections`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ManageConnectionsOptions {
    /// Whether the in-chat `COMPOSIO_MANAGE_CONNECTIONS` tool is offered (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// Where the user lands after finishing a link started in chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Whether `COMPOSIO_WAIT_FOR_CONNECTIONS` is offered (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_wait_for_connections: Option<bool>,
}

/// `connected_accounts` pins: one id or a list of ids per toolkit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum AccountIdsInput {
    /// A single connected account id.
    One(String),
    /// Several connected account ids.
    Many(Vec<String>),
}

impl AccountIdsInput {
    /// The ids as a list.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            AccountIdsInput::One(id) => vec![id],
            AccountIdsInput::Many(ids) => ids,
        }
    }
}

/// Body of `POST /api/v3.1/tool_router/session`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CreateSessionRequest {
    /// The end user this session acts for (your own user id).
    pub user_id: String,
    /// Which toolkits the session exposes (default: all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkits: Option<ToolkitsInput>,
    /// In-chat connection management (default: enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_connections: Option<ManageConnectionsInput>,
    /// Auth config to use per toolkit, overriding the project default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub auth_configs: BTreeMap<String, String>,
    /// Connected accounts to use per toolkit, overriding the most recent active one.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub connected_accounts: BTreeMap<String, AccountIdsInput>,
    /// Toolkit tools offered directly beside the meta tools (tools list, MCP), e.g.
    /// `["GITHUB_CREATE_AN_ISSUE"]` (a Grantline extension).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub direct_tools: Vec<String>,
}

/// The toolkit selection of a session, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolkitsConfig {
    /// Only these toolkits.
    Enabled {
        /// Allowed slugs, in the order given.
        enabled: Vec<String>,
    },
    /// Every toolkit but these.
    Disabled {
        /// Hidden slugs.
        disabled: Vec<String>,
    },
}

impl ToolkitsConfig {
    /// True when `slug` is visible in the session (`None` config = all toolkits).
    pub fn allows(config: Option<&Self>, slug: &str) -> bool {
        match config {
            None => true,
            Some(ToolkitsConfig::Enabled { enabled }) => enabled.iter().any(|s| s == slug),
            Some(ToolkitsConfig::Disabled { disabled }) => !disabled.iter().any(|s| s == slug),
        }
    }
}

/// `manage_connections` as stored and echoed in `config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManageConnectionsConfig {
    /// Whether the meta tool is offered.
    pub enabled: bool,
    /// Callback URL for links started in chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// Whether the wait meta tool is offered.
    #[serde(default)]
    pub enable_wait_for_connections: bool,
}

impl Default for ManageConnectionsConfig {
    fn default() -> Self {
        Self { enabled: true, callback_url: None, enable_wait_for_connections: false }
    }
}

/// A session's configuration, as echoed in `config`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionConfig {
    /// The end user.
    pub user_id: String,
    /// Toolkit selection; absent means all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkits: Option<ToolkitsConfig>,
    /// In-chat connection management.
    pub manage_connections: ManageConnectionsConfig,
    /// Auth config overrides per toolkit.
    #[serde(default)]
    pub auth_configs: BTreeMap<String, String>,
    /// Connected account pins per toolkit.
    #[serde(default)]
    pub connected_accounts: BTreeMap<String, Vec<String>>,
    /// Toolkit tools offered directly beside the meta tools.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub direct_tools: Vec<String>,
}

/// The session's MCP endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpInfo {
    /// Always `http` (streamable HTTP).
    #[serde(rename = "type")]
    pub kind: String,
    /// The endpoint URL.
    pub url: String,
}

/// A session as the broker returns it (`201` on create, `200` on get).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// `trs_…`
    pub session_id: String,
    /// Where MCP clients connect.
    pub mcp: McpInfo,
    /// Slugs of the meta tools this session offers.
    pub tool_router_tools: Vec<String>,
    /// The normalised configuration.
    pub config: SessionConfig,
    /// Incremented on every config change (always 1 for now).
    #[serde(default = "one")]
    pub config_version: u32,
}

fn one() -> u32 {
    1
}

/// Body of `POST …/session/{id}/link`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// The toolkit to connect, e.g. `github`.
    pub toolkit: String,
    /// Where to send the user afterwards; must be on the project's allow-list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    /// A name for this account, unique per user and toolkit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// Answer of `POST …/session/{id}/link`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LinkResponse {
    /// `ln_…`, the Connect Link's token.
    pub link_token: String,
    /// The Connect Link to open in the user's browser.
    pub redirect_url: String,
    /// The `INITIATED` account this link completes.
    pub connected_account_id: String,
}
