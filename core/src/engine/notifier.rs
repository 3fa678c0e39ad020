//! Wakes waiters the moment what they wait on changes, without a sleep loop: fed by the store's
//! change feed (this broker's changes and, on a shared database, every other broker's), keyed by
//! account and by user, so a change wakes only the waiters it concerns.
//!
//! A waiter costs one small entry per key (shared by every waiter on the key) and a receiver;
//! nothing is queued per waiter, so a burst of changes never grows with the number of waiters.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::{broadcast, watch};

use crate::engine::store::StoreChange;

/// What a waiter waits on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WatchKey {
    /// One account.
    Account(String),
    /// Every account of one user of a project.
    User {
        /// The project.
        project_id: String,
        /// The end user.
        user_id: String,
    },
}

/// The registry of waiters. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct Notifier {
    keys: Arc<Mutex<HashMap<WatchKey, watch::Sender<u64>>>>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("keys", &self.keys()).finish()
    }
}

impl Notifier {
    /// Starts watching `key`. Watch before reading what you wait on: a change after this call
    /// and before [`Watch::changed`] is not missed.
    pub fn watch(&self, key: WatchKey) -> Watch {
        let mut keys = self.keys.lock().expect("notifier");
        let rx = keys.entry(key.clone()).or_insert_with(|| watch::channel(0).0).subscribe();
        Watch { key, rx: Some(rx), notifier: self.clone() }
    }

    /// Wakes the waiters a change concerns: the account's and its user's, or everyone's when
    /// changes may have been missed.
    pub fn changed(&self, change: &StoreChange) {
        let keys = self.keys.lock().expect("notifier");
        let wake = |key: &WatchKey| {
            if let Some(tx) = keys.get(key) {
                tx.send_modify(|n| *n = n.wrapping_add(1));
            }
        };
        match change {
            StoreChange::Account(a) => {
                wake(&WatchKey::Account(a.account_id.clone()));
                wake(&WatchKey::User { project_id: a.project_id.clone(), user_id: a.user_id.clone() });
            }
            StoreChange::Resync => keys.values().for_each(|tx| tx.send_modify(|n| *n = n.wrapping_add(1))),
        }
    }

    /// How many keys have at least one waiter.
    pub fn keys(&self) -> usize {
        self.keys.lock().expect("notifier").len()
    }

    /// Feeds the waiters from a store's change feed until the feed closes (the store is gone).
    /// A subscriber that fell behind lost changes: everyone re-reads.
    pub fn follow(&self, mut feed: broadcast::Receiver<StoreChange>) -> tokio::task::JoinHandle<()> {
        let notifier = self.clone();
        tokio::spawn(async move {
            loop {
                match feed.recv().await {
                    Ok(change) => notifier.changed(&change),
                    Err(broadcast::error::RecvError::Lagged(_)) => notifier.changed(&StoreChange::Resync),
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        })
    }
}

/// One waiter's interest in a key; dropping it forgets the key once no one else waits on it.
pub struct Watch {
    key: WatchKey,
    rx: Option<watch::Receiver<u64>>,
    notifier: Notifier,
}

impl Watch {
    /// Resolves when the key changed since the watch began or since the last call.
    pub async fn changed(&mut self) {
        let rx = self.rx.as_mut().expect("a live watch has a receiver");
        // The sender lives in the registry while this receiver does, so this cannot fail.
        let _ = rx.changed().await;
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        let mut keys = self.notifier.keys.lock().expect("notifier");
        drop(self.rx.take());
        if keys.get(&self.key).is_some_and(|tx| tx.receiver_count() == 0) {
            keys.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::store::AccountKey;
    use std::time::Duration;

    fn change(account: &str, user: &str) -> StoreChange {
        StoreChange::Account(AccountKey { project_id: "pr".into(), user_id: user.into(), account_id: account.into() })
    }

    async fn woken(w: &mut Watch) -> bool {
        tokio::time::timeout(Duration::from_millis(50), w.changed()).await.is_ok()
    }

    #[tokio::test]
    async fn a_change_wakes_the_waiters_on_its_account_and_its_user_only() {
        let n = Notifier::default();
        let mut mine = n.watch(WatchKey::Account("ca_1".into()));
        let mut other = n.watch(WatchKey::Account("ca_2".into()));
        let mut user = n.watch(WatchKey::User { project_id: "pr".into(), user_id: "ada".into() });
        n.changed(&change("ca_1", "ada"));
        assert!(woken(&mut mine).await, "a change before the wait is not missed");
        assert!(woken(&mut user).await);
        assert!(!woken(&mut other).await);
        n.changed(&StoreChange::Resync);
        assert!(woken(&mut other).await, "a resync wakes everyone");
    }

    #[tokio::test]
    async fn keys_are_forgotten_when_their_last_waiter_leaves() {
        let n = Notifier::default();
        let a = n.watch(WatchKey::Account("ca_1".into()));
        let b = n.watch(WatchKey::Account("ca_1".into()));
        assert_eq!(n.keys(), 1);
        drop(a);
        assert_eq!(n.keys(), 1);
        drop(b);
        assert_eq!(n.keys(), 0);
    }
}
