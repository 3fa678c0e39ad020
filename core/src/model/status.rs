//! The life cycle of a connected account.

use serde::{Deserialize, Serialize};

/// Where a connected account is in its life: `INITIATED` until the user finishes the
/// Connect Link, then `ACTIVE` or `FAILED`; `EXPIRED` if the link was abandoned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum AccountStatus {
    /// Created but not yet handed to the provider (kept for wire compatibility).
    Initializing,
    /// The Connect Link is out; waiting for the user.
    Initiated,
    /// Connected: credentials stored and usable.
    Active,
    /// The provider or the exchange failed; see `status_reason`.
    Failed,
    /// The link was not completed in time.
    Expired,
    /// Disabled by the app.
    Inactive,
    /// The user or the app revoked the credentials.
    Revoked,
}

impl AccountStatus {
    /// Every status, in wire order.
    pub const ALL: [AccountStatus; 7] = [
        Self::Initializing,
        Self::Initiated,
        Self::Active,
        Self::Failed,
        Self::Expired,
        Self::Inactive,
        Self::Revoked,
    ];

    /// The wire name, e.g. `ACTIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initializing => "INITIALIZING",
            Self::Initiated => "INITIATED",
            Self::Active => "ACTIVE",
            Self::Failed => "FAILED",
            Self::Expired => "EXPIRED",
            Self::Inactive => "INACTIVE",
            Self::Revoked => "REVOKED",
        }
    }

    /// Parses a wire name (case-insensitive).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.as_str().eq_ignore_ascii_case(s))
    }

    /// True while the user may still complete the link.
    pub fn is_pending(self) -> bool {
        matches!(self, Self::Initializing | Self::Initiated)
    }

    /// True for the outcomes a waiter must fail on at once.
    pub fn is_failure(self) -> bool {
        matches!(self, Self::Failed | Self::Expired | Self::Revoked)
    }
}

impl std::fmt::Display for AccountStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
