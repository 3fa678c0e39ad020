//! Waiting for accounts: the one wait primitive behind `/wait` and
//! `COMPOSIO_WAIT_FOR_CONNECTIONS`, woken by the store's change feed, not by polling.

use std::time::Duration;

use crate::engine::metrics::OpenWait;
use crate::engine::notifier::WatchKey;
use crate::engine::{clock, Engine, Principal};
use crate::model::ConnectedAccount;
use crate::Result;

/// What one look at the awaited state found.
pub(crate) enum Look<T> {
    /// The wait is over.
    Done(T),
    /// Not yet: the answer should time run out now, and when to look again even if nothing
    /// changes (a link's expiry, unix ms), so an abandoned link answers on time.
    NotYet {
        /// The answer at the deadline.
        answer: T,
        /// Unix ms.
        look_again_at: Option<i64>,
    },
}

impl Engine {
    /// The one wait primitive: looks, and while the look says "not yet", sleeps until `key`
    /// changes (on any broker sharing the store), the look's own wake-up time, or `timeout`
    /// (the caller caps it), then looks again. Once the broker is shutting down
    /// ([`Engine::begin_shutdown`]) it answers at once with a last look, so the client re-issues
    /// its wait on a broker that stays.
    pub(crate) async fn wait_until<T, F, Fut>(&self, key: WatchKey, timeout: Duration, mut look: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<Look<T>>>,
    {
        let deadline = tokio::time::Instant::now() + timeout;
        // Watch before the first look, so a change between the look and the sleep is not missed.
        let mut watch = self.notifier.watch(key);
        let mut stopping = self.shutdown.subscribe();
        let mut open = OpenWait::start();
        loop {
            let shutting_down = *stopping.borrow_and_update();
            // Each look is boxed and nothing of it is kept while sleeping (not even its answer: at
            // the deadline a last look answers), so an open wait holds only the watch and the
            // timer: thousands of them wait at once.
            let look_again_at = match Box::pin(look()).await? {
                Look::Done(answer) => {
                    open.ended("resolved");
                    return Ok(answer);
                }
                Look::NotYet { answer, .. } if shutting_down => {
                    open.ended("shutdown");
                    return Ok(answer);
                }
                Look::NotYet { answer, .. } if tokio::time::Instant::now() >= deadline => {
                    open.ended("timeout");
                    return Ok(answer);
                }
                Look::NotYet { look_again_at, .. } => look_again_at,
            };
            let now = tokio::time::Instant::now();
            let until = match look_again_at {
                Some(at) => deadline.min(now + Duration::from_millis((at - clock::now_ms()).max(0) as u64 + 5)),
                None => deadline,
            };
            tokio::select! {
                _ = watch.changed() => {}
                _ = tokio::time::sleep_until(until) => {}
                // The engine (and so the sender) outlives `&self`: this only fires on shutdown.
                _ = stopping.changed() => {}
            }
        }
    }

    /// `GET /api/v3.1/connected_accounts/{id}/wait`: answers once no link of the account is
    /// pending — it left INITIATED, or its reconnect link was completed, refused or expired —
    /// or with the account as it is after `timeout` (capped at `max_wait`; a reconnect still
    /// pending then shows as `reconnecting`).
    pub async fn wait_for_account(&self, who: &Principal, id: &str, timeout: Duration) -> Result<ConnectedAccount> {
        let look = || async {
            let account = self.account_of(who, id).await?;
            let request = self.store.request_by_account(&who.project.id, id).await?;
            let reconnecting = request.as_ref().is_some_and(|r| r.is_live_reconnect(clock::now_ms()));
            Ok(if !account.status.is_pending() && !reconnecting {
                Look::Done(account)
            } else {
                Look::NotYet { answer: account, look_again_at: request.map(|r| r.expires_at) }
            })
        };
        let account = self.wait_until(WatchKey::Account(id.to_string()), timeout.min(self.config.max_wait), look).await?;
        self.account_view(&account).await
    }
}
