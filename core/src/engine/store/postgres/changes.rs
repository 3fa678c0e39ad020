//! The change feed over `LISTEN/NOTIFY`: one dedicated connection (outside the pool) listens on
//! [`CHANNEL`] and forwards every notification, this broker's own included (that is the only
//! path: nothing is published in-process), to the store's broadcast channel. When the
//! connection drops it reconnects with a backoff capped at a second and, once listening again,
//! sends [`StoreChange::Resync`]: what was missed meanwhile is re-read, not lost.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures_util::{Stream, StreamExt};
use serde::Deserialize;
use tokio::sync::{broadcast, oneshot};
use tokio_postgres::{AsyncMessage, Client};

use super::target::Target;
use crate::engine::store::{AccountKey, StoreChange};

/// The notification channel; the payload is [`Payload`] as JSON.
pub(super) const CHANNEL: &str = "grantline_changes";

/// The SQL expression of a notification about the account row in scope (`project_id`,
/// `user_id`, `id`), for a statement's select list.
pub(super) const NOTIFY: &str = "pg_notify('grantline_changes', \
     json_build_object('project_id', project_id, 'user_id', user_id, 'account_id', id)::text)";

/// Longest pause between two reconnection attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// What a notification carries.
#[derive(Deserialize)]
struct Payload {
    project_id: String,
    user_id: String,
    account_id: String,
}

/// The running listener; dropping it (with the store) ends its task and closes its connection.
pub(super) struct Listener {
    _stop: oneshot::Sender<()>,
    /// Whether `LISTEN` is in force now (readiness).
    connected: Arc<AtomicBool>,
}

impl Listener {
    /// Whether the listening connection is up now.
    pub(super) fn connected(&self) -> bool {
        self.connected.load(Ordering::Relaxed)
    }
}

/// Starts listening and returns once `LISTEN` is in force, so a subscriber from now on misses
/// nothing; fails if the first connection cannot be made.
pub(super) async fn start(target: Arc<Target>, feed: broadcast::Sender<StoreChange>) -> Result<Listener, String> {
    let listening = listen(&target, &feed).await?;
    let (stop, stopped) = oneshot::channel();
    let connected = Arc::new(AtomicBool::new(true));
    tokio::spawn(follow(target, feed, listening, stopped, connected.clone()));
    Ok(Listener { _stop: stop, connected })
}

type Messages = Pin<Box<dyn Stream<Item = Result<AsyncMessage, tokio_postgres::Error>> + Send>>;

/// A connection that is listening: its client (dropping it would close the connection) and
/// what the server sends it.
struct Listening {
    _client: Client,
    messages: Messages,
}

/// Opens the listener's connection and runs `LISTEN` on it.
async fn listen(target: &Target, feed: &broadcast::Sender<StoreChange>) -> Result<Listening, String> {
    let (client, mut connection) =
        target.listener_config.connect(target.tls.clone()).await.map_err(|e| target.scrub(e.to_string()))?;
    let mut messages: Messages = Box::pin(futures_util::stream::poll_fn(move |cx| connection.poll_message(cx)));
    {
        // The connection only moves while polled: drive it while LISTEN is under way.
        let sql = format!("LISTEN {CHANNEL}");
        let listening = client.batch_execute(&sql);
        tokio::pin!(listening);
        loop {
            tokio::select! {
                done = &mut listening => {
                    done.map_err(|e| target.scrub(e.to_string()))?;
                    break;
                }
                message = messages.next() => match message {
                    Some(Ok(m)) => forward(feed, m),
                    Some(Err(e)) => return Err(target.scrub(e.to_string())),
                    None => return Err("the connection closed".into()),
                },
            }
        }
    }
    Ok(Listening { _client: client, messages })
}

/// Forwards notifications until `stop` fires (the store was dropped), reconnecting whenever the
/// connection is lost.
async fn follow(
    target: Arc<Target>,
    feed: broadcast::Sender<StoreChange>,
    mut listening: Listening,
    mut stop: oneshot::Receiver<()>,
    connected: Arc<AtomicBool>,
) {
    loop {
        let why = loop {
            tokio::select! {
                _ = &mut stop => return,
                message = listening.messages.next() => match message {
                    Some(Ok(m)) => forward(&feed, m),
                    Some(Err(e)) => break target.scrub(e.to_string()),
                    None => break "the connection closed".to_string(),
                },
            }
        };
        connected.store(false, Ordering::Relaxed);
        tracing::warn!(database = %target.shown, "the change feed lost its connection ({why}); reconnecting");
        drop(listening);
        let mut backoff = Duration::from_millis(50);
        listening = loop {
            tokio::select! {
                _ = &mut stop => return,
                attempt = listen(&target, &feed) => match attempt {
                    Ok(l) => break l,
                    Err(e) => tracing::warn!(database = %target.shown, "the change feed cannot listen yet: {e}"),
                },
            }
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        };
        connected.store(true, Ordering::Relaxed);
        tracing::info!(database = %target.shown, "the change feed is listening again");
        // No receiver is fine: nobody is waiting.
        let _ = feed.send(StoreChange::Resync);
    }
}

/// Turns a notification into a change; an unreadable one makes everyone re-read.
fn forward(feed: &broadcast::Sender<StoreChange>, message: AsyncMessage) {
    let AsyncMessage::Notification(n) = message else { return };
    if n.channel() != CHANNEL {
        return;
    }
    let change = match serde_json::from_str::<Payload>(n.payload()) {
        Ok(p) => StoreChange::Account(AccountKey { project_id: p.project_id, user_id: p.user_id, account_id: p.account_id }),
        Err(e) => {
            tracing::warn!("unreadable {CHANNEL} notification ({e}); waiters re-read");
            StoreChange::Resync
        }
    };
    let _ = feed.send(change);
}
