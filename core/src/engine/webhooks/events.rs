//! Fan-out: which deliveries an outbox event makes, and the payload each carries.

use std::collections::HashMap;

use serde_json::json;

use super::super::clock::rfc3339;
use super::super::store::{NewDelivery, WebhookEventRecord, WebhookSubscriptionRecord};
use super::super::{views, Engine};
use crate::engine::crypto::random::new_id;
use crate::model::AccountEvent;
use crate::Result;

/// How many outbox events one fan-out pass takes.
const FAN_OUT_BATCH: u32 = 200;

/// The types an event is sent as: its own, and for an expiry also Composio's name for it.
pub(crate) fn sent_as(kind: AccountEvent) -> &'static [AccountEvent] {
    match kind {
        AccountEvent::Expired => &[AccountEvent::Expired, AccountEvent::ComposioExpired],
        AccountEvent::Active => &[AccountEvent::Active],
        AccountEvent::Failed => &[AccountEvent::Failed],
        AccountEvent::Revoked => &[AccountEvent::Revoked],
        AccountEvent::Deleted => &[AccountEvent::Deleted],
        AccountEvent::TokenRefreshed => &[AccountEvent::TokenRefreshed],
        AccountEvent::Reconnected => &[AccountEvent::Reconnected],
        AccountEvent::ComposioExpired => &[AccountEvent::ComposioExpired],
    }
}

impl Engine {
    /// Turns outbox events into deliveries until none is left; how many events it took. Safe
    /// on several brokers at once: a delivery already written is not written again.
    pub(super) async fn fan_out(&self) -> Result<usize> {
        let mut taken = 0;
        loop {
            let events = self.store.undispatched_events(FAN_OUT_BATCH).await?;
            if events.is_empty() {
                return Ok(taken);
            }
            let mut subscriptions: HashMap<String, Vec<WebhookSubscriptionRecord>> = HashMap::new();
            let mut config_disabled: HashMap<(String, String), bool> = HashMap::new();
            let mut deliveries = vec![];
            for event in &events {
                let project = &event.account.project_id;
                if !subscriptions.contains_key(project) {
                    subscriptions.insert(project.clone(), self.store.list_webhook_subscriptions(project).await?);
                }
                let key = (project.clone(), event.account.auth_config_id.clone());
                if !config_disabled.contains_key(&key) {
                    let config = self.store.get_auth_config(project, &event.account.auth_config_id).await?;
                    config_disabled.insert(key.clone(), config.is_some_and(|c| c.is_disabled));
                }
                for subscription in &subscriptions[project] {
                    for kind in sent_as(event.kind) {
                        if subscription.enabled_events.iter().any(|e| e == kind.as_str()) {
                            deliveries.push(delivery(event, subscription, *kind, config_disabled[&key])?);
                        }
                    }
                }
            }
            let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
            self.store.dispatch_events(&ids, &deliveries, super::super::clock::now_ms()).await?;
            taken += events.len();
            if events.len() < FAN_OUT_BATCH as usize {
                return Ok(taken);
            }
        }
    }
}

/// One event for one subscription as one type, with its payload: Composio's V3 envelope
/// (`id`, `type`, `timestamp`, `data`, `metadata`), `data` being the account as
/// `GET /api/v3.1/connected_accounts/{id}` showed it right after the change (never a
/// credential) plus its `sequence` number, and `event_id` naming the event (the same for both
/// names of an expiry).
fn delivery(event: &WebhookEventRecord, subscription: &WebhookSubscriptionRecord, kind: AccountEvent, config_disabled: bool) -> Result<NewDelivery> {
    let id = new_id("msg_")?;
    let mut data = serde_json::to_value(views::account(&event.account, config_disabled, false))
        .map_err(|e| crate::Error::Internal(format!("an account view: {e}")))?;
    data["sequence"] = json!(event.sequence);
    let payload = json!({
        "id": id,
        "event_id": event.id,
        "type": kind.as_str(),
        "timestamp": rfc3339(event.created_at),
        "data": data,
        // Grantline has no organisations: a project is the tenant, under both names.
        "metadata": { "project_id": event.account.project_id, "org_id": event.account.project_id },
    });
    Ok(NewDelivery {
        id,
        project_id: event.account.project_id.clone(),
        subscription_id: subscription.id.clone(),
        event_id: event.id.clone(),
        account_id: event.account.id.clone(),
        sequence: event.sequence,
        event_type: kind.as_str().to_string(),
        payload: payload.to_string(),
        created_at: event.created_at,
    })
}
