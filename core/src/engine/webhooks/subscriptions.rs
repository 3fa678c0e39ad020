//! Webhook subscriptions (Composio's v3.1 `webhook_subscriptions` API) and each one's
//! deliveries (a Grantline extension): every rule of what a subscription may be.

use super::super::clock::{self, rfc3339};
use super::super::outbound::{self, Reach};
use super::super::store::{AttemptRecord, DeliveryRecord, WebhookSubscriptionRecord};
use super::super::{Engine, Principal};
use super::signing;
use crate::engine::crypto::random::new_id;
use crate::model::{
    check_id, AccountEvent, DeliveryAttempt, DeliveryStatus, Page, PageRequest, RotatedWebhookSecret, WebhookDelivery,
    WebhookEventType, WebhookEventTypes, WebhookSubscription, WebhookSubscriptionCreate, WebhookSubscriptionUpdate,
    WEBHOOK_MESSAGE_PREFIX, WEBHOOK_SUBSCRIPTION_PREFIX, WEBHOOK_VERSION,
};
use crate::{Error, Result};

/// The most subscriptions a project may have.
pub const MAX_SUBSCRIPTIONS: usize = 100;

impl Engine {
    /// `POST /api/v3.1/webhook_subscriptions`.
    pub async fn create_webhook_subscription(&self, who: &Principal, req: WebhookSubscriptionCreate) -> Result<WebhookSubscription> {
        who.require_project()?;
        let url = self.check_receiver(&req.webhook_url)?;
        let enabled_events = check_events(&req.enabled_events)?;
        let version = check_version(req.version.as_deref())?;
        if self.store.list_webhook_subscriptions(&who.project.id).await?.len() >= MAX_SUBSCRIPTIONS {
            return Err(Error::validation("webhook_url", format!("a project has at most {MAX_SUBSCRIPTIONS} webhook subscriptions")));
        }
        let id = new_id(WEBHOOK_SUBSCRIPTION_PREFIX)?;
        let secret = signing::new_secret()?;
        let now = clock::now_ms();
        let record = WebhookSubscriptionRecord {
            secret_sealed: self.vault.seal(&id, secret.as_bytes())?,
            id,
            project_id: who.project.id.clone(),
            url,
            version,
            enabled_events,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_webhook_subscription(&record).await?;
        // The host only: a receiver's path or query may carry its own token.
        let host = url::Url::parse(&record.url).ok().and_then(|u| u.host_str().map(str::to_string)).unwrap_or_default();
        tracing::info!(subscription = %record.id, host = %host, "webhook subscription created");
        self.subscription_view(&record)
    }

    /// `GET /api/v3.1/webhook_subscriptions`: oldest first.
    pub async fn list_webhook_subscriptions(&self, who: &Principal, page: PageRequest) -> Result<Page<WebhookSubscription>> {
        who.require_project()?;
        let all = self.store.list_webhook_subscriptions(&who.project.id).await?;
        let total = all.len() as u64;
        let items = all.iter().skip(page.offset() as usize).take(page.limit as usize).map(|w| self.subscription_view(w)).collect::<Result<_>>()?;
        Ok(page.page_of(items, total))
    }

    /// `GET /api/v3.1/webhook_subscriptions/{id}`.
    pub async fn get_webhook_subscription(&self, who: &Principal, id: &str) -> Result<WebhookSubscription> {
        self.subscription_view(&self.subscription(who, id).await?)
    }

    /// `PATCH /api/v3.1/webhook_subscriptions/{id}`: changes the fields given (none: nothing).
    pub async fn update_webhook_subscription(&self, who: &Principal, id: &str, req: WebhookSubscriptionUpdate) -> Result<WebhookSubscription> {
        let mut record = self.subscription(who, id).await?;
        if req == WebhookSubscriptionUpdate::default() {
            return self.subscription_view(&record);
        }
        if let Some(url) = &req.webhook_url {
            record.url = self.check_receiver(url)?;
        }
        if let Some(events) = &req.enabled_events {
            record.enabled_events = check_events(events)?;
        }
        if let Some(version) = &req.version {
            record.version = check_version(Some(version))?;
        }
        record.updated_at = clock::now_ms();
        if !self.store.update_webhook_subscription(&record).await? {
            return Err(Error::not_found("webhook subscription", id));
        }
        self.subscription_view(&record)
    }

    /// `DELETE /api/v3.1/webhook_subscriptions/{id}`: its pending deliveries are dropped.
    pub async fn delete_webhook_subscription(&self, who: &Principal, id: &str) -> Result<()> {
        who.require_project()?;
        check_id("id", id, WEBHOOK_SUBSCRIPTION_PREFIX)?;
        if !self.store.delete_webhook_subscription(&who.project.id, id).await? {
            return Err(Error::not_found("webhook subscription", id));
        }
        Ok(())
    }

    /// `POST /api/v3.1/webhook_subscriptions/{id}/rotate_secret`: a new secret; every attempt
    /// from now on (retries of older deliveries included) is signed with it only.
    pub async fn rotate_webhook_secret(&self, who: &Principal, id: &str) -> Result<RotatedWebhookSecret> {
        let mut record = self.subscription(who, id).await?;
        let secret = signing::new_secret()?;
        record.secret_sealed = self.vault.seal(&record.id, secret.as_bytes())?;
        record.updated_at = clock::now_ms();
        if !self.store.update_webhook_subscription(&record).await? {
            return Err(Error::not_found("webhook subscription", id));
        }
        tracing::info!(subscription = %record.id, "webhook secret rotated");
        Ok(RotatedWebhookSecret { id: record.id, secret })
    }

    /// `GET /api/v3.1/webhook_subscriptions/event_types`.
    pub fn webhook_event_types(&self) -> WebhookEventTypes {
        let items = AccountEvent::ALL
            .iter()
            .map(|e| WebhookEventType {
                event_type: e.as_str().to_string(),
                description: e.description().to_string(),
                supported_versions: vec![WEBHOOK_VERSION.to_string()],
            })
            .collect();
        WebhookEventTypes { items }
    }

    /// `GET /api/v3.1/webhook_subscriptions/{id}/deliveries` (Grantline): newest first.
    pub async fn list_webhook_deliveries(&self, who: &Principal, id: &str, page: PageRequest) -> Result<Page<WebhookDelivery>> {
        let subscription = self.subscription(who, id).await?;
        let (rows, total) = self.store.list_deliveries(&who.project.id, &subscription.id, page.offset(), page.limit).await?;
        Ok(page.page_of(rows.iter().map(|(d, attempts)| delivery_view(d, attempts)).collect(), total))
    }

    /// `POST /api/v3.1/webhook_subscriptions/{id}/deliveries/{delivery_id}/retry` (Grantline): the
    /// delivery is pending again and due now (a failed one gets a new retry period's worth of
    /// attempts from its count so far).
    pub async fn retry_webhook_delivery(&self, who: &Principal, id: &str, delivery_id: &str) -> Result<()> {
        let subscription = self.subscription(who, id).await?;
        check_id("delivery_id", delivery_id, WEBHOOK_MESSAGE_PREFIX)?;
        if !self.store.retry_delivery(&who.project.id, &subscription.id, delivery_id, clock::now_ms()).await? {
            return Err(Error::not_found("webhook delivery", delivery_id));
        }
        self.wake_deliveries();
        Ok(())
    }

    /// A subscription of the caller's project, or not found.
    async fn subscription(&self, who: &Principal, id: &str) -> Result<WebhookSubscriptionRecord> {
        who.require_project()?;
        check_id("id", id, WEBHOOK_SUBSCRIPTION_PREFIX)?;
        self.store.get_webhook_subscription(&who.project.id, id).await?.ok_or_else(|| Error::not_found("webhook subscription", id))
    }

    /// The receiver URL rules: public https (loopback too on a `--dev` broker).
    fn check_receiver(&self, url: &str) -> Result<String> {
        outbound::check_url("webhook_url", url, Reach::for_dev_mode(self.config.dev_mode)).map(|_| url.to_string())
    }

    /// The secret of a subscription, opened.
    pub(super) fn webhook_secret(&self, record: &WebhookSubscriptionRecord) -> Result<String> {
        String::from_utf8(self.vault.open(&record.id, &record.secret_sealed)?).map_err(|_| Error::Internal("a webhook secret".into()))
    }

    fn subscription_view(&self, w: &WebhookSubscriptionRecord) -> Result<WebhookSubscription> {
        Ok(WebhookSubscription {
            id: w.id.clone(),
            webhook_url: w.url.clone(),
            version: w.version.clone(),
            enabled_events: w.enabled_events.clone(),
            secret: self.webhook_secret(w)?,
            created_at: rfc3339(w.created_at),
            updated_at: rfc3339(w.updated_at),
        })
    }
}

/// Known event types, at least one, each once (in the order given).
fn check_events(events: &[String]) -> Result<Vec<String>> {
    if events.is_empty() {
        return Err(Error::validation("enabled_events", "give at least one event type (see GET /api/v3.1/webhook_subscriptions/event_types)"));
    }
    let mut out: Vec<String> = vec![];
    for (i, e) in events.iter().enumerate() {
        if AccountEvent::parse(e).is_none() {
            let known = AccountEvent::ALL.map(|k| k.as_str()).join(", ");
            return Err(Error::validation(format!("enabled_events[{i}]"), format!("unknown event type {e:?}; known: {known}")));
        }
        if !out.contains(e) {
            out.push(e.clone());
        }
    }
    Ok(out)
}

/// `V3`, the only payload format Grantline sends (the default).
fn check_version(version: Option<&str>) -> Result<String> {
    match version {
        None => Ok(WEBHOOK_VERSION.to_string()),
        Some(v) if v == WEBHOOK_VERSION => Ok(v.to_string()),
        Some(other) => Err(Error::validation("version", format!("Grantline sends {WEBHOOK_VERSION} payloads only, not {other:?}"))),
    }
}

fn delivery_view(d: &DeliveryRecord, attempts: &[AttemptRecord]) -> WebhookDelivery {
    WebhookDelivery {
        id: d.delivery.id.clone(),
        event_type: d.delivery.event_type.clone(),
        event_id: d.delivery.event_id.clone(),
        connected_account_id: d.delivery.account_id.clone(),
        sequence: d.delivery.sequence,
        status: d.status,
        next_attempt_at: (d.status == DeliveryStatus::Pending).then(|| rfc3339(d.next_attempt_at)),
        created_at: rfc3339(d.delivery.created_at),
        attempts: attempts
            .iter()
            .map(|a| DeliveryAttempt { attempt: a.attempt, at: rfc3339(a.at), status_code: a.status_code, latency_ms: a.latency_ms, error: a.error.clone() })
            .collect(),
    }
}
