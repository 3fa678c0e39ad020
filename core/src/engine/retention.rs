//! Retention: what the broker deletes once it has ended long enough ago, on a timer.
//!
//! Spent and expired Connect Links (their `state`, PKCE verifier and callback URL) and expired or
//! revoked client tokens and MCP credentials go after days; `FAILED` and `EXPIRED` accounts after months; `ACTIVE`
//! accounts (and `REVOKED`, `INACTIVE` or pending ones) never; webhook events, ended deliveries
//! and execution logs after a month. Every broker on a database may run the sweep: a purge is
//! one transaction and deleting twice deletes nothing.

use std::sync::Arc;
use std::time::Duration;

use super::store::{PurgeBefore, Purged};
use super::{clock, Engine};
use crate::Result;

/// Default days a spent or expired Connect Link is kept.
pub const DEFAULT_LINK_DAYS: u32 = 7;
/// Default days an expired or revoked client token is kept.
pub const DEFAULT_CLIENT_TOKEN_DAYS: u32 = 7;
/// Default days a `FAILED` or `EXPIRED` account is kept after its last change.
pub const DEFAULT_ENDED_ACCOUNT_DAYS: u32 = 90;
/// Default days webhook events (once fanned out) and ended deliveries are kept.
pub const DEFAULT_WEBHOOK_DAYS: u32 = 30;

/// Default days an execution log (`GET /api/v3.1/logs/{log_id}`) is kept.
pub const DEFAULT_LOG_DAYS: u32 = 30;

/// How long ended rows are kept, in days (`None`: forever).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPolicy {
    /// Spent or expired Connect Links.
    pub link_days: Option<u32>,
    /// Expired or revoked session credentials: client tokens and MCP credentials.
    pub client_token_days: Option<u32>,
    /// `FAILED` and `EXPIRED` accounts.
    pub ended_account_days: Option<u32>,
    /// Webhook events fanned out, and deliveries delivered or failed.
    pub webhook_days: Option<u32>,
    /// Execution logs.
    pub log_days: Option<u32>,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        Self {
            link_days: Some(DEFAULT_LINK_DAYS),
            client_token_days: Some(DEFAULT_CLIENT_TOKEN_DAYS),
            ended_account_days: Some(DEFAULT_ENDED_ACCOUNT_DAYS),
            webhook_days: Some(DEFAULT_WEBHOOK_DAYS),
            log_days: Some(DEFAULT_LOG_DAYS),
        }
    }
}

impl RetentionPolicy {
    /// The cut-off times at `now` (ms).
    pub fn before(&self, now: i64) -> PurgeBefore {
        let cut = |days: Option<u32>| days.map_or(i64::MIN, |d| now.saturating_sub(i64::from(d) * 86_400_000));
        PurgeBefore {
            links: cut(self.link_days),
            client_tokens: cut(self.client_token_days),
            mcp_credentials: cut(self.client_token_days),
            mcp_logins: cut(self.client_token_days),
            accounts: cut(self.ended_account_days),
            webhooks: cut(self.webhook_days),
            logs: cut(self.log_days),
        }
    }
}

impl Engine {
    /// Deletes what `policy` no longer keeps, as of now.
    pub async fn purge_ended(&self, policy: &RetentionPolicy) -> Result<Purged> {
        let purged = self.store.purge(&policy.before(clock::now_ms())).await?;
        if purged != Purged::default() {
            tracing::info!(
                links = purged.links,
                client_tokens = purged.client_tokens,
                mcp_credentials = purged.mcp_credentials,
                mcp_logins = purged.mcp_logins,
                accounts = purged.accounts,
                webhooks = purged.webhooks,
                logs = purged.logs,
                "retention sweep"
            );
        }
        Ok(purged)
    }

    /// Runs [`Engine::purge_ended`] now and then every `every` until the engine is dropped.
    pub fn spawn_retention_sweeper(self: &Arc<Self>, policy: RetentionPolicy, every: Duration) -> tokio::task::JoinHandle<()> {
        self.spawn_sweeper("retention", every, move |engine| async move { engine.purge_ended(&policy).await })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_offs_are_days_before_now_or_never() {
        let day = 86_400_000;
        let p = RetentionPolicy { link_days: Some(7), client_token_days: Some(1), ended_account_days: None, webhook_days: Some(2), log_days: Some(3) };
        let expected = PurgeBefore { links: 93 * day, client_tokens: 99 * day, mcp_credentials: 99 * day, mcp_logins: 99 * day, accounts: i64::MIN, webhooks: 98 * day, logs: 97 * day };
        assert_eq!(p.before(100 * day), expected);
        let d = RetentionPolicy::default().before(100 * day);
        assert_eq!((d.links, d.client_tokens, d.accounts, d.webhooks, d.logs), (93 * day, 93 * day, 10 * day, 70 * day, 70 * day));
    }
}
