//! Webhooks: signed messages to the app's receivers when a connected account changes.
//!
//! - The outbox: every account transition that is an event (`Transition::event`) writes it in
//!   the same transaction, with the account as the change left it and the account's next
//!   sequence number (`store`). Nothing acknowledged is lost when a broker dies.
//! - Fan-out (`events.rs`): each event becomes one delivery per subscription that enabled its
//!   type (an expiry goes out under Grantline's and Composio's names), with its payload fixed.
//! - Delivery (`delivery.rs`): every broker claims due deliveries (each attempt made by one
//!   broker: leases, `FOR UPDATE SKIP LOCKED` on PostgreSQL), signs them (`signing.rs`),
//!   POSTs them and retries failures with exponential backoff and jitter for the retry period,
//!   then marks them failed. An account's deliveries go in sequence order; other accounts' do
//!   not wait for them.
//! - Subscriptions and the deliveries listing (`subscriptions.rs`): Composio's v3.1 API, and
//!   Grantline's `…/deliveries` and manual retry.

mod delivery;
mod events;
pub mod signing;
mod subscriptions;

use std::time::Duration;

pub use subscriptions::MAX_SUBSCRIPTIONS;

/// How the broker delivers webhooks; see `grantline serve --help` for how each is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookConfig {
    /// The wait after a first failed attempt; each further failure doubles it (up to
    /// [`WebhookConfig::max_backoff`]), with jitter.
    pub first_retry: Duration,
    /// The longest wait between attempts.
    pub max_backoff: Duration,
    /// How long after its event a delivery keeps being retried before it is marked failed.
    pub retry_for: Duration,
    /// How long a receiver may take to answer one attempt.
    pub attempt_timeout: Duration,
    /// How often each broker looks for due deliveries when nothing wakes it.
    pub poll_every: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            first_retry: Duration::from_secs(5),
            max_backoff: Duration::from_secs(3600),
            retry_for: Duration::from_secs(24 * 3600),
            attempt_timeout: Duration::from_secs(10),
            poll_every: Duration::from_secs(1),
        }
    }
}
