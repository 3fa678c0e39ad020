//! Toolkits as a session lists them, with their connection state.

use serde::{Deserialize, Serialize};

use super::AccountStatus;

/// Display data of a toolkit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToolkitMeta {
    /// One sentence on what it gives an agent.
    pub description: String,
    /// Logo URL.
    pub logo: String,
}

/// The auth config of a toolkit item's connected account.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToolkitAuthConfig {
    /// `ac_…`
    #[cfg_attr(feature = "openapi", schema(pattern = r"^ac_[A-Za-z0-9]{1,64}$"))]
    pub id: String,
    /// `OAUTH2`, …
    pub auth_scheme: String,
    /// Always false in Grantline.
    pub is_composio_managed: bool,
}

/// The account a toolkit item reports: the most recent ACTIVE one, else the most recent one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToolkitAccount {
    /// `ca_…`
    #[cfg_attr(feature = "openapi", schema(pattern = r"^ca_[A-Za-z0-9]{1,64}$"))]
    pub id: String,
    /// Its status.
    pub status: AccountStatus,
    /// The end user.
    pub user_id: String,
    /// RFC 3339 creation time.
    pub created_at: String,
    /// Its auth config.
    pub auth_config: ToolkitAuthConfig,
}

impl ToolkitAccount {
    /// True when this account is ACTIVE.
    pub fn is_active(&self) -> bool {
        self.status == AccountStatus::Active
    }
}

/// One toolkit in `GET …/session/{id}/toolkits`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ToolkitItem {
    /// e.g. `github`.
    pub slug: String,
    /// e.g. `GitHub`.
    pub name: String,
    /// Description and logo.
    pub meta: ToolkitMeta,
    /// True when no connection is needed.
    pub is_no_auth: bool,
    /// Whether the session enables it.
    pub enabled: bool,
    /// Auth schemes the broker itself provides credentials for (e.g. the dev sandbox).
    #[serde(default)]
    pub composio_managed_auth_schemes: Vec<String>,
    /// The user's account for it, if any.
    #[serde(default)]
    pub connected_account: Option<ToolkitAccount>,
}

impl ToolkitItem {
    /// True when the user has an ACTIVE account for this toolkit.
    pub fn is_connected(&self) -> bool {
        self.connected_account.as_ref().is_some_and(ToolkitAccount::is_active)
    }
}

/// Query of `GET …/session/{id}/toolkits`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolkitsQuery {
    /// Page cursor from a previous `next_cursor`.
    pub cursor: Option<String>,
    /// Items per page (1..=100, default 20).
    pub limit: Option<u32>,
    /// Only these slugs.
    pub toolkits: Vec<String>,
    /// Only connected (`true`) or unconnected (`false`) ones.
    pub is_connected: Option<bool>,
    /// Case-insensitive text in slug, name or description.
    pub search: Option<String>,
}

impl ToolkitsQuery {
    /// The query as URL parameters.
    pub fn to_params(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        if let Some(c) = &self.cursor {
            p.push(("cursor", c.clone()));
        }
        if let Some(l) = self.limit {
            p.push(("limit", l.to_string()));
        }
        if !self.toolkits.is_empty() {
            p.push(("toolkits", self.toolkits.join(",")));
        }
        if let Some(c) = self.is_connected {
            p.push(("is_connected", c.to_string()));
        }
        if let Some(s) = &self.search {
            p.push(("search", s.clone()));
        }
        p
    }
}
