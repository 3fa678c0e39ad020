//! Wakes long-poll waiters the moment an account changes, without a sleep loop.

use tokio::sync::broadcast;

/// Broadcasts the ids of accounts whose status changed.
///
/// One process wakes its own waiters through this channel; a store shared by
/// several processes (PostgreSQL) feeds remote changes into the same channel.
#[derive(Clone, Debug)]
pub struct Notifier {
    tx: broadcast::Sender<String>,
}

impl Default for Notifier {
    fn default() -> Self {
        Self { tx: broadcast::channel(1024).0 }
    }
}

impl Notifier {
    /// Tells every waiter that `account_id` changed.
    pub fn account_changed(&self, account_id: &str) {
        // No receiver is fine: nobody is waiting.
        let _ = self.tx.send(account_id.to_string());
    }

    /// A receiver of changes; subscribe before reading the status, so no change is missed.
    pub fn subscribe(&self) -> broadcast::Receiver<String> {
        self.tx.subscribe()
    }
}
