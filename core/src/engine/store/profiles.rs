//! Rows of the project profile (its pages' name, logo and support URL) and of user
//! verification flows.

/// How a project names itself on the broker's pages, and where it verifies its users.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectProfileRecord {
    /// The project (`pr_…`).
    pub project_id: String,
    /// The app's name on pages.
    pub display_name: Option<String>,
    /// Where people get help.
    pub support_url: Option<String>,
    /// The app's page that confirms who the browser's user is.
    pub user_verification_url: Option<String>,
    /// Whether Connect Links go through user verification first.
    pub verify_connect_links: bool,
    /// The logo's type and digest, when there is one (its bytes are read apart: [`ProjectLogo`]).
    pub logo: Option<LogoRef>,
    /// Unix ms.
    pub updated_at: i64,
}

/// What names a stored logo: its type and the SHA-256 of its bytes (part of its URL, so a
/// new logo is a new URL and the old one can be cached for long).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoRef {
    /// `image/png`, `image/jpeg` or `image/webp`.
    pub content_type: String,
    /// Hex SHA-256 of the bytes.
    pub sha256: String,
}

/// A project's logo, bytes included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectLogo {
    /// Type and digest.
    pub meta: LogoRef,
    /// The image.
    pub data: Vec<u8>,
}

/// Where a user verification flow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationStatus {
    /// Started; the app has not confirmed anyone yet.
    Pending,
    /// The app confirmed the expected user; waiting for the browser to come back.
    Confirmed,
    /// The app confirmed another user: the flow ended, and what it was for with it.
    Mismatched,
    /// The browser came back after a matching confirmation: the flow's purpose may go on.
    Passed,
}

impl VerificationStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Confirmed => "CONFIRMED",
            Self::Mismatched => "MISMATCHED",
            Self::Passed => "PASSED",
        }
    }

    /// Reads the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Confirmed, Self::Mismatched, Self::Passed].into_iter().find(|v| v.as_str() == s)
    }
}

/// One user verification flow. Its id (`uvf_…`) is stored only as a hash, and the browser
/// binding (the value of an HttpOnly cookie) too.
#[derive(Debug, Clone, PartialEq)]
pub struct UserVerificationRecord {
    /// SHA-256 of the flow id.
    pub id_hash: String,
    /// The project whose user is verified.
    pub project_id: String,
    /// What the flow is for: `connect_link` or `mcp_authorization`.
    pub purpose: String,
    /// The thing it is for: an account id (`ca_…`) or an MCP authorization id.
    pub subject: String,
    /// For a Connect Link: SHA-256 of the connection request's `state` it lets through, so a
    /// newer link of the same account needs its own verification.
    pub link_state_hash: Option<String>,
    /// The user the flow was started for.
    pub expected_user_id: String,
    /// Who the app confirmed, once it did.
    pub confirmed_user_id: Option<String>,
    /// The name of the browser's binding cookie.
    pub cookie_name: String,
    /// SHA-256 of the binding cookie's value.
    pub binding_hash: String,
    /// Where it stands.
    pub status: VerificationStatus,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms after which it can be neither confirmed nor finished.
    pub expires_at: i64,
    /// Unix ms of its last change.
    pub updated_at: i64,
}
