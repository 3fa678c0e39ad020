//! `/api/v3.1/webhook_subscriptions…`: the app's webhook receivers, and what was sent to each.

use super::Client;
use crate::model::{
    check_id, Page, RotatedWebhookSecret, SuccessResponse, WebhookDelivery, WebhookEventTypes, WebhookSubscription,
    WebhookSubscriptionCreate, WebhookSubscriptionUpdate, WEBHOOK_MESSAGE_PREFIX, WEBHOOK_SUBSCRIPTION_PREFIX,
};
use crate::Result;

/// Webhook subscriptions: where the broker sends signed events when connected accounts change.
#[derive(Clone, Debug)]
pub struct Webhooks {
    pub(super) client: Client,
}

impl Webhooks {
    /// Subscribes `webhook_url` to `enabled_events` (see [`Self::event_types`]); the answer
    /// carries the `whsec_…` secret to verify deliveries with (Standard Webhooks).
    pub async fn create(&self, webhook_url: &str, enabled_events: &[String]) -> Result<WebhookSubscription> {
        let body = WebhookSubscriptionCreate { webhook_url: webhook_url.to_string(), enabled_events: enabled_events.to_vec(), version: None };
        self.client.http().post_json("/api/v3.1/webhook_subscriptions", &body).await
    }

    /// One page of the project's subscriptions, oldest first.
    pub async fn list(&self, cursor: Option<&str>, limit: Option<u32>) -> Result<Page<WebhookSubscription>> {
        self.client.http().get_json("/api/v3.1/webhook_subscriptions", &page_query(cursor, limit)).await
    }

    /// The subscription `id`.
    pub async fn get(&self, id: &str) -> Result<WebhookSubscription> {
        check_id("id", id, WEBHOOK_SUBSCRIPTION_PREFIX)?;
        self.client.http().get_json(&format!("/api/v3.1/webhook_subscriptions/{id}"), &[]).await
    }

    /// Changes the URL and/or the events of subscription `id`.
    pub async fn update(&self, id: &str, change: &WebhookSubscriptionUpdate) -> Result<WebhookSubscription> {
        check_id("id", id, WEBHOOK_SUBSCRIPTION_PREFIX)?;
        self.client.http().patch_json(&format!("/api/v3.1/webhook_subscriptions/{id}"), change).await
    }

    /// Deletes subscription `id` and its pending deliveries.
    pub async fn delete(&self, id: &str) -> Result<()> {
        check_id("id", id, WEBHOOK_SUBSCRIPTION_PREFIX)?;
        let _: SuccessResponse = self.client.http().delete_json(&format!("/api/v3.1/webhook_subscriptions/{id}")).await?;
        Ok(())
    }

    /// A new secret for subscription `id`; every attempt from now on is signed with it only.
    pub async fn rotate_secret(&self, id: &str) -> Result<RotatedWebhookSecret> {
        check_id("id", id, WEBHOOK_SUBSCRIPTION_PREFIX)?;
        self.client.http().post_json(&format!("/api/v3.1/webhook_subscriptions/{id}/rotate_secret"), &serde_json::json!({})).await
    }

    /// Every event type a subscription can enable.
    pub async fn event_types(&self) -> Result<WebhookEventTypes> {
        self.client.http().get_json("/api/v3.1/webhook_subscriptions/event_types", &[]).await
    }

    /// One page of subscription `id`'s deliveries, newest first, each with its attempts
    /// (status codes, latency, errors) and, while pending, when the next attempt is due.
    pub async fn deliveries(&self, id: &str, cursor: Option<&str>, limit: Option<u32>) -> Result<Page<WebhookDelivery>> {
        check_id("id", id, WEBHOOK_SUBSCRIPTION_PREFIX)?;
        self.client.http().get_json(&format!("/api/v3.1/webhook_subscriptions/{id}/deliveries"), &page_query(cursor, limit)).await
    }

    /// Sends delivery `delivery_id` (`msg_…`) of subscription `id` again now, whatever became of it.
    pub async fn retry(&self, id: &str, delivery_id: &str) -> Result<()> {
        check_id("id", id, WEBHOOK_SUBSCRIPTION_PREFIX)?;
        check_id("delivery_id", delivery_id, WEBHOOK_MESSAGE_PREFIX)?;
        let path = format!("/api/v3.1/webhook_subscriptions/{id}/deliveries/{delivery_id}/retry");
        let _: SuccessResponse = self.client.http().post_json(&path, &serde_json::json!({})).await?;
        Ok(())
    }
}

fn page_query(cursor: Option<&str>, limit: Option<u32>) -> Vec<(&'static str, String)> {
    let mut q = vec![];
    if let Some(c) = cursor {
        q.push(("cursor", c.to_string()));
    }
    if let Some(l) = limit {
        q.push(("limit", l.to_string()));
    }
    q
}
