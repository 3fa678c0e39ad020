//! Execution logs: one entry per tool execution, proxied request or meta tool call, found by
//! the `log_id` the execution answered with.

use serde::{Deserialize, Serialize};

/// Prefix of execution log ids.
pub const LOG_PREFIX: &str = "log_";

/// One execution as `GET /api/v3.1/logs/{log_id}` shows it: who ran what, as which account, how
/// it ended and how long it took. It never holds the arguments, the provider's answer or any
/// credential (they may carry the end user's data).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionLog {
    /// `log_…`
    pub log_id: String,
    /// The session it ran in (`trs_…`).
    pub session_id: String,
    /// The end user it ran for.
    pub user_id: String,
    /// The account that signed it (`ca_…`); absent for a no-auth toolkit, a meta tool, or a call
    /// that found no usable account.
    #[serde(default)]
    pub connected_account_id: Option<String>,
    /// Toolkit slug (`composio` for meta tools).
    pub toolkit: String,
    /// The tool; absent for a proxied request (`…/proxy_execute`).
    #[serde(default)]
    pub tool_slug: Option<String>,
    /// Whether it succeeded.
    pub successful: bool,
    /// Why not, when it did not.
    #[serde(default)]
    pub error: Option<ExecutionError>,
    /// The provider's HTTP status, when the provider answered.
    #[serde(default)]
    pub provider_status: Option<u16>,
    /// How long the execution took inside the broker, in milliseconds.
    pub duration_ms: u64,
    /// RFC 3339 time it was recorded.
    pub created_at: String,
}

/// Why an execution failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ExecutionError {
    /// A stable code: `PROVIDER_ERROR` (the provider refused), `NOT_CONNECTED`,
    /// `CONNECTION_EXPIRED`, or an error kind's code (`PROVIDER_UNAVAILABLE`, `INTERNAL`, …).
    pub code: String,
    /// What the caller was told (the broker's own failures are not described).
    pub message: String,
}
