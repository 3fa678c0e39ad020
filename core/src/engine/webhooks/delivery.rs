//! Delivering: every broker runs [`Engine::spawn_webhook_deliveries`], which fans out new
//! events, claims due deliveries (a lease each, so one broker makes each attempt), signs and
//! POSTs them, and records each attempt with what comes next: delivered, a retry after an
//! exponential backoff with jitter, or failed once the retry period is over.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;

use super::super::clock;
use super::super::outbound::{self, Reach};
use super::super::store::{AttemptRecord, DeliveryNext, DeliveryRecord, WebhookSubscriptionRecord};
use super::super::{metrics, Engine};
use super::{signing, WebhookConfig};
use crate::engine::crypto::random::{random_bytes, random_token};
use crate::Result;

/// Deliveries one broker attempts at once.
const CLAIM_BATCH: u32 = 16;
/// The most of a receiver's answer the broker reads (the rest is dropped).
const ANSWER_CAP: usize = 64 * 1024;
/// The longest error text kept for an attempt.
const ERROR_CAP: usize = 300;
/// How long the loop lets a burst of account changes settle before one pass handles them all.
const SETTLE: Duration = Duration::from_millis(20);

impl Engine {
    /// Wakes this broker's delivery loop now (a manual retry; new events wake it through the
    /// change feed).
    pub(crate) fn wake_deliveries(&self) {
        self.webhook_wake.notify_one();
    }

    /// Delivers webhooks until the engine is dropped: on every account change this broker
    /// hears of (any broker's), on a manual retry, and every `poll_every`.
    pub fn spawn_webhook_deliveries(self: &Arc<Self>, config: WebhookConfig) -> Result<tokio::task::JoinHandle<()>> {
        let weak = Arc::downgrade(self);
        let holder = format!("broker-{}", random_token(16)?);
        let client = outbound::client(Reach::for_dev_mode(self.config.dev_mode), config.attempt_timeout)?;
        let mut changes = self.store.subscribe_changes();
        let wake = self.webhook_wake.clone();
        Ok(tokio::spawn(async move {
            loop {
                let Some(engine) = weak.upgrade() else { return };
                let more = match engine.deliver_due(&config, &holder, &client).await {
                    Ok(claimed) => claimed == CLAIM_BATCH as usize,
                    Err(e) => {
                        tracing::warn!(error = %e, "webhook delivery pass failed");
                        false
                    }
                };
                drop(engine);
                if more {
                    continue;
                }
                tokio::select! {
                    _ = changes.recv() => {
                        // A burst of changes is one pass: let it settle, then drop what queued.
                        tokio::time::sleep(SETTLE).await;
                        while !matches!(changes.try_recv(), Err(tokio::sync::broadcast::error::TryRecvError::Empty | tokio::sync::broadcast::error::TryRecvError::Closed)) {}
                    }
                    _ = wake.notified() => {}
                    _ = tokio::time::sleep(config.poll_every) => {}
                }
            }
        }))
    }

    /// One pass: fans out new events, then attempts up to a batch of due deliveries at once;
    /// how many it claimed.
    async fn deliver_due(&self, config: &WebhookConfig, holder: &str, client: &reqwest::Client) -> Result<usize> {
        self.fan_out().await?;
        let now = clock::now_ms();
        // Long enough for the attempt to time out and be recorded; a broker that dies holding it
        // delays its delivery by this much at most.
        let lease = config.attempt_timeout + Duration::from_secs(5);
        let claimed = self.store.claim_deliveries(holder, now, now + lease.as_millis() as i64, CLAIM_BATCH).await?;
        let mut subscriptions: HashMap<String, Option<WebhookSubscriptionRecord>> = HashMap::new();
        for d in &claimed {
            if !subscriptions.contains_key(&d.delivery.subscription_id) {
                let found = self.store.get_webhook_subscription(&d.delivery.project_id, &d.delivery.subscription_id).await?;
                subscriptions.insert(d.delivery.subscription_id.clone(), found);
            }
        }
        let attempts = claimed.iter().map(|d| async {
            // A subscription deleted meanwhile took its deliveries with it.
            let Some(subscription) = &subscriptions[&d.delivery.subscription_id] else { return Ok(()) };
            let (attempt, next) = self.attempt(config, client, subscription, d).await;
            metrics::webhook_attempted(match next {
                DeliveryNext::Delivered => "delivered",
                DeliveryNext::RetryAt(_) => "retry",
                DeliveryNext::Failed => "failed",
            }, attempt.latency_ms);
            self.store.finish_attempt(&d.delivery.id, holder, &attempt, next).await.map(drop)
        });
        for outcome in join_all(attempts).await {
            outcome?;
        }
        if !claimed.is_empty() {
            metrics::webhook_backlog(self.store.pending_deliveries().await?);
        }
        Ok(claimed.len())
    }

    /// One attempt: POST the payload, signed, to the receiver; what it answered and what follows.
    async fn attempt(
        &self,
        config: &WebhookConfig,
        client: &reqwest::Client,
        subscription: &WebhookSubscriptionRecord,
        d: &DeliveryRecord,
    ) -> (AttemptRecord, DeliveryNext) {
        let started = Instant::now();
        let at = clock::now_ms();
        let answer = self.post(client, subscription, d, at / 1000).await;
        let latency_ms = started.elapsed().as_millis() as u64;
        let attempt = d.attempts + 1;
        let (status_code, error) = match answer {
            Ok(status) => (Some(status), None),
            Err(why) => (None, Some(why)),
        };
        let next = match status_code {
            Some(s) if (200..300).contains(&s) => DeliveryNext::Delivered,
            _ => after_failure(config, attempt, d.delivery.created_at, at),
        };
        if next != DeliveryNext::Delivered {
            tracing::info!(delivery = %d.delivery.id, subscription = %subscription.id, attempt, status = ?status_code, error = ?error, "webhook attempt failed");
        }
        (AttemptRecord { attempt, at, status_code, latency_ms, error }, next)
    }

    /// Sends one delivery; the receiver's status, or why there is none.
    async fn post(&self, client: &reqwest::Client, subscription: &WebhookSubscriptionRecord, d: &DeliveryRecord, timestamp: i64) -> std::result::Result<u16, String> {
        // The URL was checked when it was set; a broker restarted without --dev checks it again.
        outbound::check_url("webhook_url", &subscription.url, Reach::for_dev_mode(self.config.dev_mode)).map_err(|e| e.to_string())?;
        let secret = self.webhook_secret(subscription).map_err(|_| "the subscription's secret cannot be opened".to_string())?;
        let signature = signing::signature_header(&secret, &d.delivery.id, timestamp, &d.delivery.payload).map_err(|e| e.to_string())?;
        let sent = client
            .post(&subscription.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", &d.delivery.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(d.delivery.payload.clone())
            .send()
            .await;
        let mut answer = sent.map_err(describe)?;
        let status = answer.status().as_u16();
        // Read a bounded part of the answer (so the connection can be reused), ignore the rest.
        let mut read = 0;
        while read < ANSWER_CAP {
            match answer.chunk().await {
                Ok(Some(chunk)) => read += chunk.len(),
                _ => break,
            }
        }
        Ok(status)
    }
}

/// What follows a failed attempt number `attempt` of a delivery whose event happened at
/// `created_at`: a retry after `first_retry · 2^(attempt-1)` (at most `max_backoff`), less up to
/// half of it at random, unless that falls past the retry period: then failed.
fn after_failure(config: &WebhookConfig, attempt: u32, created_at: i64, now: i64) -> DeliveryNext {
    let doubled = config.first_retry.saturating_mul(2u32.saturating_pow(attempt.saturating_sub(1).min(31)));
    let backoff = doubled.min(config.max_backoff).as_millis() as u64;
    let jitter = random_bytes(8).map(|b| u64::from_le_bytes(b.try_into().unwrap_or_default())).unwrap_or(0) % (backoff / 2 + 1);
    let at = now + (backoff - jitter) as i64;
    if at > created_at + config.retry_for.as_millis() as i64 {
        DeliveryNext::Failed
    } else {
        DeliveryNext::RetryAt(at)
    }
}

/// A send error as an attempt records it: what went wrong, without the URL (it may carry the
/// receiver's own token), bounded.
fn describe(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_string();
    let e = e.without_url();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text.chars().take(ERROR_CAP).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_back_off_exponentially_with_jitter_until_the_retry_period_ends() {
        let config = WebhookConfig { first_retry: Duration::from_secs(5), max_backoff: Duration::from_secs(60), retry_for: Duration::from_secs(300), ..WebhookConfig::default() };
        for _ in 0..50 {
            for (attempt, full) in [(1, 5_000), (2, 10_000), (3, 20_000), (5, 60_000), (40, 60_000)] {
                let DeliveryNext::RetryAt(at) = after_failure(&config, attempt, 0, 1_000) else { panic!("attempt {attempt} gave up") };
                let wait = at - 1_000;
                assert!((full / 2..=full).contains(&wait), "attempt {attempt}: waited {wait} ms, full backoff {full}");
            }
        }
        assert_eq!(after_failure(&config, 3, 0, 290_000), DeliveryNext::Failed, "past the retry period");
    }
}
