//! Webhooks: subscriptions (Composio's v3.1 `webhook_subscriptions` shapes), the events the
//! broker sends when a connected account changes, and each delivery's attempts (a Grantline
//! extension).

use serde::{Deserialize, Serialize};

/// What happened to a connected account, as a webhook event type.
///
/// Grantline sends its own `grantline.connected_account.*` types, and Composio's
/// `composio.connected_account.expired` for an account that expired (the same event, under the
/// name Composio's SDKs parse).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum AccountEvent {
    /// The first connection completed: the account is ACTIVE.
    #[serde(rename = "grantline.connected_account.active")]
    Active,
    /// The first connection failed (the user denied it, or the provider refused the code).
    #[serde(rename = "grantline.connected_account.failed")]
    Failed,
    /// The account expired: its first link ran out, or the provider refused to refresh its grant.
    #[serde(rename = "grantline.connected_account.expired")]
    Expired,
    /// The app revoked the account.
    #[serde(rename = "grantline.connected_account.revoked")]
    Revoked,
    /// The app deleted the account.
    #[serde(rename = "grantline.connected_account.deleted")]
    Deleted,
    /// The broker refreshed the account's access token.
    #[serde(rename = "grantline.connected_account.token_refreshed")]
    TokenRefreshed,
    /// The user completed a reconnect link: the account is ACTIVE with new credentials.
    #[serde(rename = "grantline.connected_account.reconnected")]
    Reconnected,
    /// Composio's name for an expired account (sent with the same payload as `Expired`).
    #[serde(rename = "composio.connected_account.expired")]
    ComposioExpired,
}

impl AccountEvent {
    /// Every event type, in the order `event_types` lists them.
    pub const ALL: [Self; 8] = [
        Self::ComposioExpired,
        Self::Active,
        Self::Failed,
        Self::Expired,
        Self::Revoked,
        Self::Deleted,
        Self::TokenRefreshed,
        Self::Reconnected,
    ];

    /// The event type's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "grantline.connected_account.active",
            Self::Failed => "grantline.connected_account.failed",
            Self::Expired => "grantline.connected_account.expired",
            Self::Revoked => "grantline.connected_account.revoked",
            Self::Deleted => "grantline.connected_account.deleted",
            Self::TokenRefreshed => "grantline.connected_account.token_refreshed",
            Self::Reconnected => "grantline.connected_account.reconnected",
            Self::ComposioExpired => "composio.connected_account.expired",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|e| e.as_str() == s)
    }

    /// What the event means, as `event_types` describes it.
    pub fn description(self) -> &'static str {
        match self {
            Self::Active => "A connected account's first connection completed: it is ACTIVE.",
            Self::Failed => "A connected account's first connection failed (denied, or refused by the provider).",
            Self::Expired => "A connected account expired: its Connect Link ran out, or the provider refused to refresh it.",
            Self::Revoked => "The app revoked a connected account.",
            Self::Deleted => "The app deleted a connected account.",
            Self::TokenRefreshed => "The broker refreshed a connected account's access token.",
            Self::Reconnected => "The user completed a reconnect link: the account is ACTIVE with new credentials.",
            Self::ComposioExpired => "Composio's name for an expired connected account (the same event as grantline.connected_account.expired).",
        }
    }
}

/// The payload format of a subscription. Grantline sends one format (Composio's V3 envelope:
/// `{id, type, timestamp, data, metadata}`); `V1` and `V2` are refused.
pub const WEBHOOK_VERSION: &str = "V3";

/// A webhook subscription: where the broker sends which events, and the secret it signs them with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookSubscription {
    /// `ws_…`
    #[cfg_attr(feature = "openapi", schema(pattern = r"^ws_[A-Za-z0-9]{1,64}$"))]
    pub id: String,
    /// The receiver's URL.
    pub webhook_url: String,
    /// The payload format: always `V3`.
    pub version: String,
    /// The event types sent to it.
    pub enabled_events: Vec<String>,
    /// The signing secret (`whsec_<base64>`): verify deliveries with it (Standard Webhooks).
    pub secret: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339.
    pub updated_at: String,
}

/// Body of `POST /api/v3.1/webhook_subscriptions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookSubscriptionCreate {
    /// The receiver's URL: https (http only for loopback on a `--dev` broker), at most 2,048
    /// characters, not a private, loopback or link-local address.
    #[cfg_attr(feature = "openapi", schema(max_length = 2048, pattern = "^https?://"))]
    pub webhook_url: String,
    /// The event types to send (at least one; see `GET …/event_types`).
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<AccountEvent>, min_items = 1))]
    pub enabled_events: Vec<String>,
    /// The payload format: `V3` (the default) is the only one Grantline sends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^V3$"))]
    pub version: Option<String>,
}

/// Body of `PATCH /api/v3.1/webhook_subscriptions/{id}`: the fields to change (none: the
/// subscription as it is).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct WebhookSubscriptionUpdate {
    /// A new receiver URL (same rules as on creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(max_length = 2048, pattern = "^https?://"))]
    pub webhook_url: Option<String>,
    /// A new list of event types (at least one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Vec<AccountEvent>>, min_items = 1))]
    pub enabled_events: Option<Vec<String>>,
    /// The payload format: only `V3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^V3$"))]
    pub version: Option<String>,
}

/// One event type, as `GET /api/v3.1/webhook_subscriptions/event_types` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEventType {
    /// The type's name, e.g. `composio.connected_account.expired`.
    pub event_type: String,
    /// What it means.
    pub description: String,
    /// The payload formats it is sent in: `["V3"]`.
    pub supported_versions: Vec<String>,
}

/// The answer of `GET /api/v3.1/webhook_subscriptions/event_types`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookEventTypes {
    /// Every event type.
    pub items: Vec<WebhookEventType>,
}

/// The answer of `POST /api/v3.1/webhook_subscriptions/{id}/rotate_secret`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RotatedWebhookSecret {
    /// The subscription.
    pub id: String,
    /// The new secret: deliveries from now on are signed with it only.
    pub secret: String,
}

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DeliveryStatus {
    /// Not yet accepted by the receiver: the broker will (re)try at `next_attempt_at`.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// The broker gave up after its retry period (a manual retry starts it again).
    Failed,
}

impl DeliveryStatus {
    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Delivered => "DELIVERED",
            Self::Failed => "FAILED",
        }
    }

    /// Parses the stored form.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Failed].into_iter().find(|k| k.as_str() == s)
    }
}

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeliveryAttempt {
    /// 1 for the first attempt.
    pub attempt: u32,
    /// RFC 3339: when it was made.
    pub at: String,
    /// The receiver's HTTP status, when it answered.
    #[serde(default)]
    pub status_code: Option<u16>,
    /// How long the receiver took, in milliseconds.
    pub latency_ms: u64,
    /// Why it failed, when it did (a status is not an error: see `status_code`).
    #[serde(default)]
    pub error: Option<String>,
}

/// One event sent to one subscription, and its attempts (`GET …/{id}/deliveries`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookDelivery {
    /// `msg_…`: the `webhook-id` header and the payload's `id`, the same on every attempt.
    pub id: String,
    /// The event type sent.
    pub event_type: String,
    /// `ev_…`: the event (one event may be sent under two types, e.g. Composio's and Grantline's).
    pub event_id: String,
    /// The account the event is about.
    pub connected_account_id: String,
    /// The account's event sequence number (receivers drop an event older than one they have).
    pub sequence: u64,
    /// Where the delivery is.
    pub status: DeliveryStatus,
    /// RFC 3339: when the next attempt is due (pending only).
    #[serde(default)]
    pub next_attempt_at: Option<String>,
    /// RFC 3339.
    pub created_at: String,
    /// Every attempt so far, oldest first.
    pub attempts: Vec<DeliveryAttempt>,
}
