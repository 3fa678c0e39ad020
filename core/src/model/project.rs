//! The project's public profile (how the broker's pages name the app) and user verification.

use serde::{Deserialize, Deserializer, Serialize};

/// Longest display name, in characters.
pub const MAX_DISPLAY_NAME: usize = 80;
/// Largest logo accepted, in bytes.
pub const MAX_LOGO_BYTES: usize = 256 * 1024;
/// The logo types the broker accepts and serves (no SVG: it can carry script).
pub const LOGO_CONTENT_TYPES: [&str; 3] = ["image/png", "image/jpeg", "image/webp"];

/// `GET /api/v3.1/project`: the project and the profile its pages show.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProjectInfo {
    /// `pr_…`
    pub id: String,
    /// The project's name (pages use it when there is no display name).
    pub name: String,
    /// The app's name as people see it on every page ("Acme wants to use your GitHub account").
    pub display_name: Option<String>,
    /// Where people get help (shown on every page), https.
    pub support_url: Option<String>,
    /// The logo's URL on the broker, when one is set.
    pub logo_url: Option<String>,
    /// The app's page that confirms who the browser's user is (`?flow_id=uvf_…` is appended), https.
    pub user_verification_url: Option<String>,
    /// Whether a Connect Link sends the person to the verification URL before the provider.
    pub verify_connect_links: bool,
}

/// `PATCH /api/v3.1/project`: only the fields present change; `null` clears one.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ProjectPatch {
    /// 1 to 80 characters; `null` clears it.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = Option<String>, min_length = 1, max_length = 80, pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$")
    )]
    pub display_name: Option<Option<String>>,
    /// An https URL (http on loopback in a `--dev` broker); `null` clears it.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 2048, pattern = "^https?://"))]
    pub support_url: Option<Option<String>>,
    /// An https URL (http on loopback in a `--dev` broker); `null` clears it. The broker appends
    /// `flow_id=uvf_…` to its query.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, max_length = 2048, pattern = "^https?://"))]
    pub user_verification_url: Option<Option<String>>,
    /// `true` sends every Connect Link through user verification first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verify_connect_links: Option<bool>,
}

/// A field that is present (`Some`), possibly `null` (`Some(None)`); absent is `None` (serde's default).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Body of `POST /api/v3.1/user_verifications/{flow_id}/confirm`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ConfirmUserRequest {
    /// Who the app says the browser's user is (its own user id, as sessions name it).
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256, pattern = r"\S"))]
    pub user_id: String,
}

/// The answer of a confirmation: send the browser to `redirect_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserVerificationConfirmed {
    /// The flow (`uvf_…`).
    pub flow_id: String,
    /// Where the app sends the browser back to, on the broker.
    pub redirect_url: String,
    /// Whether `user_id` was the user the flow was started for. When it was not, the flow (and
    /// the Connect Link or authorization it was for) has ended: nothing will be connected.
    pub matched: bool,
    /// RFC 3339 time after which the flow can no longer be finished.
    pub expires_at: String,
}
