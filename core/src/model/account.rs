//! Connected accounts: one end user's connection to one toolkit.

use serde::{Deserialize, Serialize};

use super::{AccountStatus, ToolkitRef};

/// The auth config an account was made with, as embedded in account answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountAuthConfig {
    /// `ac_…`
    #[cfg_attr(feature = "openapi", schema(pattern = r"^ac_[A-Za-z0-9]{1,64}$"))]
    pub id: String,
    /// `OAUTH2`, …
    pub auth_scheme: String,
    /// Always false: a self-hosted broker's auth configs are the project's own.
    pub is_composio_managed: bool,
    /// Whether the auth config is disabled (new links cannot use it).
    #[serde(default)]
    pub is_disabled: bool,
}

/// A connected account as the API returns it; credentials are never included.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConnectedAccount {
    /// `ca_…`
    #[cfg_attr(feature = "openapi", schema(pattern = r"^ca_[A-Za-z0-9]{1,64}$"))]
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
    /// Composio's deprecated credential bag: always empty, the broker never hands out credentials.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub data: serde_json::Map<String, serde_json::Value>,
    /// Composio's initialisation parameters: always empty (Grantline toolkits take none).
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub params: serde_json::Map<String, serde_json::Value>,
    /// The connection's state as Composio shapes it, without any credential: the scheme and status.
    #[serde(default)]
    pub state: AccountState,
    /// A Grantline field, sent only when true: a reconnect link (`…/refresh`) is out and the
    /// user has not finished it yet; meanwhile the account keeps its status and credentials.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reconnecting: bool,
}

/// A credential-free `state`: `{"authScheme": "OAUTH2", "val": {"status": "ACTIVE"}}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountState {
    /// `OAUTH2`, `API_KEY`, …
    #[serde(rename = "authScheme", default)]
    pub auth_scheme: String,
    /// The status, and nothing else.
    #[serde(default)]
    pub val: AccountStateVal,
}

/// The `val` of an [`AccountState`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccountStateVal {
    /// The account's status.
    #[serde(default)]
    pub status: String,
}

impl ConnectedAccount {
    /// True when the account can be used: ACTIVE and not disabled.
    pub fn is_active(&self) -> bool {
        self.status == AccountStatus::Active && !self.is_disabled
    }
}

/// Body of `PATCH /api/v3.1/connected_accounts/{id}/status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct UpdateAccountStatusRequest {
    /// `false` disables the account, `true` enables it again.
    pub enabled: bool,
}

/// Body of `POST /api/v3.1/connected_accounts/{id}/refresh` (Composio sends `redirect_url` in
/// the body or the query).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RefreshAccountRequest {
    /// Where the user lands after finishing the new link (the app's callback URL; it must be on
    /// the project's allow-list, like `callback_url` of `…/link`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = "uri"))]
    pub redirect_url: Option<String>,
}

/// Answer of `POST /api/v3.1/connected_accounts/{id}/refresh` (Composio's shape).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RefreshAccountResponse {
    /// The account, which keeps its id (`ca_…`).
    #[cfg_attr(feature = "openapi", schema(pattern = r"^ca_[A-Za-z0-9]{1,64}$"))]
    pub id: String,
    /// The new Connect Link to open in the user's browser.
    pub redirect_url: String,
    /// The account's current status: it keeps it until the user completes the new link.
    pub status: AccountStatus,
}

/// `{success: true}` answers of mutations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
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
    /// Only these accounts (`ca_…`).
    pub ids: Vec<String>,
    /// Only accounts made with these auth configs (`ac_…`).
    pub auth_config_ids: Vec<String>,
    /// Which time orders the list (newest first unless `ascending`).
    pub order_by: AccountOrder,
    /// Oldest first instead of newest first.
    pub ascending: bool,
    /// Only shared accounts: Grantline has none (every account is its user's own), so the
    /// list is empty; Composio's `account_type=SHARED`.
    pub shared_only: bool,
}

/// The time a list of accounts is ordered by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccountOrder {
    /// When the account was created (the default).
    #[default]
    CreatedAt,
    /// When it last changed.
    UpdatedAt,
}

/// What the provider was asked to revoke, and whether it could be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ProviderRevocation {
    /// The provider's RFC 7009 endpoint revoked the grant.
    Revoked,
    /// The toolkit has no revocation endpoint (or pasted keys): only the broker's copy is gone.
    NotSupported,
    /// The account held no credential (never connected, or already revoked).
    NothingToRevoke,
}

impl ProviderRevocation {
    /// The wire name (`revoked`, `not_supported`, `nothing_to_revoke`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Revoked => "revoked",
            Self::NotSupported => "not_supported",
            Self::NothingToRevoke => "nothing_to_revoke",
        }
    }
}

/// The account after a revocation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokedAccountRef {
    /// `ca_…`
    #[cfg_attr(feature = "openapi", schema(pattern = r"^ca_[A-Za-z0-9]{1,64}$"))]
    pub id: String,
    /// REVOKED.
    pub status: AccountStatus,
}

/// Answer of `POST /api/v3.1/connected_accounts/{id}/revoke` (Composio's shape, plus what the
/// provider could do).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RevokeAccountResponse {
    /// Tokens revoked at the provider on this call (`refresh_token`, `access_token`).
    pub revoked_tokens: Vec<String>,
    /// The account, now REVOKED.
    pub connected_account: RevokedAccountRef,
    /// Whether the provider revoked the grant (a Grantline field).
    pub provider_revocation: ProviderRevocation,
    /// What the app should know when the provider could not revoke (a Grantline field).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Answer of `DELETE /api/v3.1/connected_accounts/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteAccountResponse {
    /// Whether it happened.
    pub success: bool,
    /// With `revoke_on_delete=true`: the tokens revoked at the provider before the delete.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_tokens: Option<Vec<String>>,
    /// With `revoke_on_delete=true`: whether the provider revoked the grant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider_revocation: Option<ProviderRevocation>,
    /// What the app should know when the provider could not revoke.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}
