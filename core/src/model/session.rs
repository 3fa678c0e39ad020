//! Tool-router sessions: one end user's view of toolkits and connections.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[cfg(feature = "openapi")]
use super::EmptyValue;

/// Which toolkits a session exposes: a list (allowlist), `{enable: [...]}` or `{disable: [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged, deny_unknown_fields)]
pub enum ToolkitsInput {
    /// A bare list means "only these".
    List(Vec<String>),
    /// `{enable: [...]}`: only these.
    Enable {
        /// Slugs to allow.
        enable: Vec<String>,
        /// Composio's approval gate: only empty is accepted until Grantline has an approval flow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(max_items = 0))]
        require_approval: Option<Vec<String>>,
    },
    /// `{disable: [...]}`: all but these.
    Disable {
        /// Slugs to hide.
        disable: Vec<String>,
        /// Composio's approval gate: only empty is accepted until Grantline has an approval flow.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[cfg_attr(feature = "openapi", schema(max_items = 0))]
        require_approval: Option<Vec<String>>,
    },
}

// By hand rather than `untagged`: an untagged enum would take `[["a"]]` as `{enable: ["a"]}`
// (serde reads a struct from an array) and ignore a `disable` given beside `enable`.
impl<'de> Deserialize<'de> for ToolkitsInput {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Selection {
            enable: Option<Vec<String>>,
            disable: Option<Vec<String>>,
            require_approval: Option<Vec<String>>,
        }
        match serde_json::Value::deserialize(d)? {
            v @ serde_json::Value::Array(_) => serde_json::from_value(v).map(ToolkitsInput::List).map_err(D::Error::custom),
            v @ serde_json::Value::Object(_) => {
                let s: Selection = serde_json::from_value(v).map_err(D::Error::custom)?;
                match (s.enable, s.disable) {
                    (Some(enable), None) => Ok(ToolkitsInput::Enable { enable, require_approval: s.require_approval }),
                    (None, Some(disable)) => Ok(ToolkitsInput::Disable { disable, require_approval: s.require_approval }),
                    (Some(_), Some(_)) => Err(D::Error::custom("give enable or disable, not both")),
                    (None, None) => Err(D::Error::custom("expected {\"enable\": [slugs]} or {\"disable\": [slugs]}")),
                }
            }
            _ => Err(D::Error::custom("expected a list of toolkit slugs, {\"enable\": [...]} or {\"disable\": [...]}")),
        }
    }
}

/// `manage_connections` as sent: a bool or `{enable, callback_url, enable_wait_for_connections}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum ManageConnectionsInput {
    /// `true` / `false`.
    Flag(bool),
    /// The object form.
    Options(ManageConnectionsOptions),
}

// By hand rather than `untagged`, which would read `[null, null]` as the object form.
impl<'de> Deserialize<'de> for ManageConnectionsInput {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        match serde_json::Value::deserialize(d)? {
            serde_json::Value::Bool(b) => Ok(ManageConnectionsInput::Flag(b)),
            v @ serde_json::Value::Object(_) => serde_json::from_value(v).map(ManageConnectionsInput::Options).map_err(D::Error::custom),
            _ => Err(D::Error::custom("expected true, false or {\"enable\", \"callback_url\", \"enable_wait_for_connections\"}")),
        }
    }
}

/// The object form of `manage_connections`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ManageConnectionsOptions {
    /// Whether the in-chat `COMPOSIO_MANAGE_CONNECTIONS` tool is offered (default true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable: Option<bool>,
    /// Where the user lands after finishing a link started in chat.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = "uri"))]
    pub callback_url: Option<String>,
    /// Whether `COMPOSIO_WAIT_FOR_CONNECTIONS` is offered (default false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_wait_for_connections: Option<bool>,
    /// Whether agents may remove connections: only `false` (agents never can in Grantline).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::only_false))]
    pub enable_connection_removal: Option<bool>,
}

/// `connected_accounts` pins: one id or a list of ids per toolkit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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

/// Body of `POST /api/v3.1/tool_router/session`. Unknown fields land in
/// `settings.unknown` and are refused by the engine, naming the first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateSessionRequest {
    /// The end user this session acts for (your own user id).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256, pattern = r"\S"))]
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
    /// `["GITHUB_CREATE_AN_ISSUE"]`: Grantline's name for `preload.tools`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub direct_tools: Vec<String>,
    /// The other session settings Composio's SDKs send (shared with `PATCH`).
    #[serde(flatten)]
    pub settings: SessionSettings,
}

/// Settings a create (`POST`) and an update (`PATCH`) both take. Each one is implemented,
/// refused with a 400 naming it, or (for knobs of things Grantline does not have) a
/// documented no-op: see the README's compatibility table.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionSettings {
    /// `{tools: [slugs] | "all"}`: toolkit tools listed beside the meta tools.
    #[serde(default, deserialize_with = "super::object::option", skip_serializing_if = "Option::is_none")]
    pub preload: Option<PreloadInput>,
    /// `{enable}`: whether `COMPOSIO_SEARCH_TOOLS` (and `…/search`) is offered.
    #[serde(default, deserialize_with = "super::object::option", skip_serializing_if = "Option::is_none")]
    pub search: Option<SearchSetting>,
    /// `{enable_multi_execute}`: whether `COMPOSIO_MULTI_EXECUTE_TOOL` is offered.
    #[serde(default, deserialize_with = "super::object::option", skip_serializing_if = "Option::is_none")]
    pub execute: Option<ExecuteSetting>,
    /// Composio's code sandbox: Grantline has none, so only `enable: false` is accepted;
    /// its tuning knobs are no-ops.
    #[serde(default, deserialize_with = "super::object::option", skip_serializing_if = "Option::is_none")]
    pub workbench: Option<WorkbenchSetting>,
    /// Per-tool selection: only empty is accepted (select toolkits, or preload tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = EmptyValue))]
    pub tools: Option<serde_json::Value>,
    /// Tool-hint tags: only empty is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = EmptyValue))]
    pub tags: Option<serde_json::Value>,
    /// Multi-account policy: Grantline always allows several accounts per toolkit and uses the
    /// newest active one unless pinned; only `{enable: true}` (what it does) is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::multi_account_schema))]
    pub multi_account: Option<serde_json::Value>,
    /// Composio's paid instant accounts: only `false` is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::only_false))]
    pub instant: Option<serde_json::Value>,
    /// `{enable}`: `…/proxy_execute` is always on; `enable: false` is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::proxy_execute_schema))]
    pub proxy_execute: Option<serde_json::Value>,
    /// Premium tools: Grantline has none, so only `false` is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::only_false))]
    pub premium_usage: Option<serde_json::Value>,
    /// Execution hooks: only empty is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = EmptyValue))]
    pub hooks: Option<serde_json::Value>,
    /// Composio's experimental options: `assistive_prompt_config` and
    /// `no_elicitation_support_fallback` are no-ops (Grantline writes no assistive prompt and
    /// never elicits); custom tools and saved session configs are refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::session_experimental))]
    pub experimental: Option<serde_json::Map<String, serde_json::Value>>,
    /// Fields no version of the API has: refused, naming the first.
    #[serde(flatten, skip_serializing_if = "BTreeMap::is_empty")]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub unknown: BTreeMap<String, serde_json::Value>,
}

/// `preload` as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct PreloadInput {
    /// Tool slugs, or `"all"` (every tool of the session's toolkits).
    pub tools: PreloadTools,
}

/// The tools of a `preload`. (Its schema is written by hand: the derive cannot say that the
/// string is `"all"`.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PreloadTools {
    /// These tools.
    List(Vec<String>),
    /// `"all"`.
    All(String),
}

/// `search` as sent and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SearchSetting {
    /// Whether tool search is offered (default true).
    #[serde(default = "yes")]
    pub enable: bool,
}

/// `execute` as sent and stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ExecuteSetting {
    /// Whether several tools may run in one call (default true).
    #[serde(default = "yes")]
    pub enable_multi_execute: bool,
}

/// `workbench` as sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WorkbenchSetting {
    /// Whether the sandbox is on: only `false` is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = schemas::only_false))]
    pub enable: Option<bool>,
    /// No-op knobs of a sandbox Grantline does not have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_proxy_execution: Option<serde_json::Value>,
    /// No-op.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_execution_enabled: Option<serde_json::Value>,
    /// No-op.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_execution_enabled: Option<serde_json::Value>,
    /// No-op.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_offload_threshold: Option<serde_json::Value>,
    /// No-op.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sandbox_size: Option<serde_json::Value>,
}

fn yes() -> bool {
    true
}

/// Body of `PATCH /api/v3.1/tool_router/session/{id}`: the fields given replace the session's;
/// the others stay. With `expected_config_version`, a session changed meanwhile answers 409.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UpdateSessionRequest {
    /// The version the caller last read (optimistic concurrency).
    #[serde(default, deserialize_with = "crate::model::whole::option", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1))]
    pub expected_config_version: Option<u32>,
    /// New toolkit selection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkits: Option<ToolkitsInput>,
    /// New in-chat connection management.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manage_connections: Option<ManageConnectionsInput>,
    /// New auth config overrides (replace the old ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_configs: Option<BTreeMap<String, String>>,
    /// New connected account pins (replace the old ones).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_accounts: Option<BTreeMap<String, AccountIdsInput>>,
    /// New direct tools (Grantline's name for `preload.tools`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direct_tools: Option<Vec<String>>,
    /// The shared settings.
    #[serde(flatten)]
    pub settings: SessionSettings,
}

/// Answer of `DELETE /api/v3.1/tool_router/session/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteSessionResponse {
    /// The session that was deleted.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^trs_[A-Za-z0-9]{1,64}$"))]
    pub session_id: String,
    /// Always true.
    pub deleted: bool,
}

/// The toolkit selection of a session, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Toolkit tools offered directly beside the meta tools (`preload.tools` on the wire).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub direct_tools: Vec<String>,
    /// `preload.tools` was `"all"`: `direct_tools` holds every tool of the session's toolkits
    /// (worked out again on every update), and the config says `"all"`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub preload_all: bool,
    /// Whether tool search is offered.
    #[serde(default = "SearchSetting::on")]
    pub search: SearchSetting,
    /// Whether several tools may run in one call.
    #[serde(default = "ExecuteSetting::on")]
    pub execute: ExecuteSetting,
    /// Incremented by every `PATCH`.
    #[serde(default = "one")]
    pub config_version: u32,
}

impl SearchSetting {
    /// Search offered (the default).
    pub fn on() -> Self {
        Self { enable: true }
    }
}

impl ExecuteSetting {
    /// Multi-execute offered (the default).
    pub fn on() -> Self {
        Self { enable_multi_execute: true }
    }
}

/// A session's configuration as the API shows it: the stored one, plus the fields Composio's
/// SDKs read whose value is fixed in Grantline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionConfigView {
    /// What the session was created (and patched) with.
    #[serde(flatten)]
    pub config: SessionConfig,
    /// The direct tools, in Composio's shape.
    pub preload: PreloadView,
    /// No instant accounts: always `false`.
    pub instant: bool,
    /// No code sandbox: always `{enable: false}`.
    pub workbench: WorkbenchView,
}

/// `config.preload`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PreloadView {
    /// The tools listed beside the meta tools, or `"all"`.
    pub tools: PreloadTools,
}

/// `config.workbench`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WorkbenchView {
    /// Always false.
    pub enable: bool,
}

/// The session's MCP endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct McpInfo {
    /// Always `http` (streamable HTTP).
    #[serde(rename = "type")]
    pub kind: String,
    /// The endpoint URL.
    pub url: String,
}

/// A session as the broker returns it (`201` on create, `200` on get).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionInfo {
    /// `trs_…`
    #[cfg_attr(feature = "openapi", schema(pattern = r"^trs_[A-Za-z0-9]{1,64}$"))]
    pub session_id: String,
    /// Where MCP clients connect.
    pub mcp: McpInfo,
    /// Slugs of the meta tools this session offers.
    pub tool_router_tools: Vec<String>,
    /// The normalised configuration.
    pub config: SessionConfigView,
    /// Incremented by every `PATCH`.
    #[serde(default = "one")]
    pub config_version: u32,
}

fn one() -> u32 {
    1
}

/// Body of `POST …/session/{id}/link`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct LinkRequest {
    /// The toolkit to connect, e.g. `github`.
    pub toolkit: String,
    /// Where to send the user afterwards; must be on the project's allow-list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = "uri"))]
    pub callback_url: Option<String>,
    /// A name for this account, unique per user and toolkit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// Answer of `POST …/session/{id}/link`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LinkResponse {
    /// `ln_…`, the Connect Link's token.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^ln_[A-Za-z0-9]{1,64}$"))]
    pub link_token: String,
    /// The Connect Link to open in the user's browser.
    pub redirect_url: String,
    /// The `INITIATED` account this link completes.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^ca_[A-Za-z0-9]{1,64}$"))]
    pub connected_account_id: String,
}

/// The schemas of the settings whose accepted values no Rust type states.
#[cfg(feature = "openapi")]
mod schemas {
    use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::RefOr;
    use utoipa::ToSchema;

    fn typed(ty: Type) -> ObjectBuilder {
        ObjectBuilder::new().schema_type(ty)
    }

    fn nullable_object() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(SchemaType::from_iter([Type::Object, Type::Null])).additional_properties(Some(utoipa::openapi::schema::AdditionalProperties::<Schema>::FreeForm(false)))
    }

    impl utoipa::PartialSchema for super::PreloadTools {
        fn schema() -> RefOr<Schema> {
            utoipa::openapi::schema::OneOfBuilder::new()
                .description(Some("The tools of a `preload`: these tool slugs, or `\"all\"` (every tool of the session's toolkits)."))
                .item(utoipa::openapi::schema::ArrayBuilder::new().items(typed(Type::String)))
                .item(typed(Type::String).enum_values(Some(["all"])))
                .into()
        }
    }

    impl ToSchema for super::PreloadTools {}

    /// `instant`, `premium_usage`, `manage_connections.enable_connection_removal`: only `false` (or null).
    pub fn only_false() -> Schema {
        ObjectBuilder::new()
            .schema_type(SchemaType::from_iter([Type::Boolean, Type::Null]))
            .enum_values(Some([serde_json::Value::Bool(false), serde_json::Value::Null]))
            .into()
    }

    /// `multi_account`: only what Grantline does.
    pub fn multi_account_schema() -> Schema {
        nullable_object()
            .property("enable", typed(Type::Boolean).enum_values(Some([true])))
            .property("require_explicit_selection", typed(Type::Boolean).enum_values(Some([false])))
            .into()
    }

    /// `proxy_execute`: `…/proxy_execute` is always on.
    pub fn proxy_execute_schema() -> Schema {
        nullable_object().property("enable", typed(Type::Boolean).enum_values(Some([true]))).into()
    }

    /// `experimental` of a session: the no-op knobs, and custom tools only when empty.
    pub fn session_experimental() -> Schema {
        let empty = || RefOr::Ref(utoipa::openapi::Ref::from_schema_name(super::EmptyValue::name()));
        nullable_object()
            .property("assistive_prompt_config", ObjectBuilder::new().schema_type(SchemaType::AnyValue))
            .property("no_elicitation_support_fallback", ObjectBuilder::new().schema_type(SchemaType::AnyValue))
            .property("custom_tools", empty())
            .property("custom_toolkits", empty())
            .into()
    }
}
