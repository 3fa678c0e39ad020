//! Connected accounts: one end user's connection to one toolkit.

use serde::{Deserialize, Serialize};

use super::{AccountStatus, ToolkitRef};

/// The auth config an account was made with, as embedded in account answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountAuthConfig {
    /// `ac_…`
    pub id: String,
    /// `OAUTH2`, …
    pub auth_scheme: String,
    /// Always false in Grantline.
    pub is_composio_managed: bool,
    /// Whether the config is disabled.
    #[serde(default)]
    pub is_disabled: bool,
}

/// A connected account as the API returns it; credentials are never included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectedAccount {
    /// `ca_…`
    pub id: String,
    /// The end user it belongs to.
    pub user_id: String,
    /// Which toolkit.
    pub toolkit: ToolkitRef,
    /// Which auth config.
    pub auth_config: AccountAuthConfig,
    /// Where it is in its life cycle.
    pub status: AccountStatus,
    /// Why it is FAILED/EXPIRED/REVOKED, when known.
    #[serde(default)]
    pub status_reason: Option<String>,
    /// Name unique per user and toolkit.
    #[serde(default)]
    pub alias: Option<String>,
    /// Disabled by `PATCH …/status`.
    #[serde(default)]
    pub is_disabled: bool,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// RFC 3339 last change.
    pub updated_at: String,
}

impl ConnectedAccount {
    /// True when the account can be used: ACTIVE and not disabled.
    pub fn is_active(&self) -> bool {
        self.status == AccountStatus::Active && !self.is_disabled
    }
}

/// Body of `PATCH /api/v3.1/connected_accounts/{id}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateAccountStatusRequest {
    /// `false` disables the account, `true` enables it again.
    pub enabled: bool,
}

/// `{success: true}` answers of mutations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SuccessResponse {
    /// Whether it happened.
    pub success: bool,
}

/// Filters of `GET /api/v3.1/connected_accounts`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccountFilter {
    /// Only these end users.
    pub user_ids: Vec<String>,
    /// Only these toolkits.
    pub toolkit_slugs: Vec<String>,
    /// Only these statuses.
    pub statuses: Vec<AccountStatus>,
}
