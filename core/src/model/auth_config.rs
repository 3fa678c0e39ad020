//! Auth configs: an OAuth app's credentials for one toolkit in one project.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// `{slug}` reference to a toolkit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ToolkitRef {
    /// The toolkit's slug.
    pub slug: String,
}

/// Scopes as a list or as one separated string.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum ScopesInput {
    /// `"repo,user"` or `"repo user"`.
    Text(String),
    /// `["repo", "user"]`.
    List(Vec<String>),
}

impl ScopesInput {
    /// The scopes as a list, splitting text on commas and spaces.
    pub fn into_vec(self) -> Vec<String> {
        match self {
            ScopesInput::Text(s) => s.split([',', ' ']).filter(|p| !p.is_empty()).map(str::to_string).collect(),
            ScopesInput::List(v) => v,
        }
    }
}

/// The OAuth app's credentials, as sent. Its `Debug` prints no client secret.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthConfigCredentials {
    /// OAuth client id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// OAuth client secret (stored encrypted, never returned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Scopes to request; the catalog's defaults when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<ScopesInput>,
    /// Accepted for compatibility; folded into `scopes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_scopes: Option<ScopesInput>,
}

impl std::fmt::Debug for AuthConfigCredentials {
    // Never print the client secret: only whether it is there.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfigCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .field("scopes", &self.scopes)
            .field("user_scopes", &self.user_scopes)
            .finish()
    }
}

/// The `auth_config` object of a create request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuthConfigInput {
    /// Only `use_custom_auth` is supported: Grantline holds no managed apps.
    #[serde(rename = "type")]
    pub kind: String,
    /// `OAUTH2` (API-key schemes arrive with tool execution).
    pub auth_scheme: String,
    /// The app's credentials.
    #[serde(default)]
    pub credentials: AuthConfigCredentials,
    /// A display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// Body of `POST /api/v3.1/auth_configs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateAuthConfigRequest {
    /// The toolkit this config is for.
    pub toolkit: ToolkitRef,
    /// The config itself.
    pub auth_config: AuthConfigInput,
}

/// An auth config as returned (never with its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuthConfigInfo {
    /// `ac_…`
    #[cfg_attr(feature = "openapi", schema(pattern = r"^ac_[A-Za-z0-9]{1,64}$"))]
    pub id: String,
    /// `OAUTH2`, …
    pub auth_scheme: String,
    /// Always false: the credentials are the project's own.
    pub is_composio_managed: bool,
    /// Whether links may use it.
    #[serde(default)]
    pub is_disabled: bool,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The toolkit slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub toolkit: Option<String>,
    /// The scopes links will request.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Extra non-secret settings.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extra: BTreeMap<String, String>,
}

/// Answer of `POST /api/v3.1/auth_configs`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CreateAuthConfigResponse {
    /// The toolkit.
    pub toolkit: ToolkitRef,
    /// The new config.
    pub auth_config: AuthConfigInfo,
}
