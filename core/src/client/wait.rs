//! `wait_for_connection`, written once for every host: long-poll, with a polling fallback, and
//! cancellable by any future (Node's `AbortSignal`, the browser's popup being closed).

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use web_time::Instant;

use super::{transport, Client};
use crate::model::{AccountStatus, ConnectedAccount};
use crate::{Error, Result};

/// How often the fallback polls a broker that has no `/wait` endpoint.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Longest single long-poll the client asks for; it re-issues until its own deadline.
pub const LONG_POLL_SLICE: Duration = Duration::from_secs(25);
/// Extra time a long-poll request may take beyond what it asked the broker to wait.
const LONG_POLL_GRACE: Duration = Duration::from_secs(15);

/// Knobs of a wait; `Default` is a 60 s wait using the long-poll, that a cancel ends at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// Give up after this long with `ConnectionRequestTimeout`.
    pub timeout: Duration,
    /// Interval of the polling fallback.
    pub poll_interval: Duration,
    /// Use `/wait` when the broker has it (turn off to measure plain polling).
    pub long_poll: bool,
    /// What the wait does when its cancel completes first (see `wait_with`).
    pub on_cancel: OnCancel,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self { timeout: super::options::DEFAULT_WAIT, poll_interval: DEFAULT_POLL_INTERVAL, long_poll: true, on_cancel: OnCancel::Stop }
    }
}

/// What a wait does when the future that cancels it completes first. Either way the request in
/// flight is dropped (aborted) first; the wait's own timeout and the account's failures end it
/// as they would without a cancel.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnCancel {
    /// End at once with the cancel's error: the caller gave up and wants no answer (Node's
    /// `AbortSignal` rejects with its `AbortError` without asking the broker again).
    #[default]
    Stop,
    /// Ask the broker once more, without waiting, before ending: the user may have finished the
    /// link just before the cancel (the browser's popup, closed by the page that completed the
    /// connection, or by the user right after). An ACTIVE account is then the answer, a failed
    /// one the failure; only an account still pending ends with the cancel's error (the
    /// browser's `PopupClosedError`).
    LookOnce,
}

/// Waits until account `id` leaves INITIATED (or its reconnect link ends) or `options.timeout`
/// passes. No request outlives the deadline: one the broker has not answered by then is
/// abandoned and the wait ends with `ConnectionRequestTimeout`, as if the broker had said
/// INITIATED. A wait of zero asks once, with the request's own time.
pub(crate) async fn wait_for_connection(client: &Client, id: &str, options: WaitOptions) -> Result<ConnectedAccount> {
    let started = Instant::now();
    let deadline = started + options.timeout;
    let mut long_poll = options.long_poll;
    let budget = |own: Duration| {
        let remaining = deadline.saturating_duration_since(Instant::now());
        if options.timeout.is_zero() || own <= remaining {
            Budget { time: own, to_deadline: false }
        } else {
            Budget { time: remaining, to_deadline: true }
        }
    };
    let ordinary = client.http().request_timeout();
    let timed_out = || Error::ConnectionRequestTimeout { id: id.to_string(), waited_ms: started.elapsed().as_millis() as u64 };
    loop {
        let remaining = deadline.saturating_duration_since(Instant::now());
        let (asked, within) = if long_poll {
            let slice = remaining.min(LONG_POLL_SLICE);
            let within = budget(slice + LONG_POLL_GRACE);
            match long_poll_once(client, id, slice, within.time).await {
                Err(Error::NotFound { .. }) => {
                    // Either the account is unknown or the broker lacks `/wait`: ask plainly.
                    long_poll = false;
                    let within = budget(ordinary);
                    (get_once(client, id, within.time).await?, within)
                }
                other => (other?, within),
            }
        } else {
            let within = budget(ordinary);
            (get_once(client, id, within.time).await?, within)
        };
        match asked {
            Some(account) => {
                if let Some(done) = settle(account)? {
                    return Ok(done);
                }
            }
            None if within.to_deadline => return Err(timed_out()),
            None => return Err(super::http::timed_out(within.time)),
        }
        let remaining = deadline.saturating_duration_since(Instant::now());
        if remaining.is_zero() {
            return Err(timed_out());
        }
        if !long_poll {
            transport::sleep(options.poll_interval.min(remaining)).await;
        }
    }
}

/// [`wait_for_connection`], ended early when `cancel` completes: then the request in flight is
/// dropped and, as `options.on_cancel` says, the wait ends with `cancel`'s output as its error,
/// or after one more look at the account. `cancel` is polled first, so one that has already
/// completed ends the wait before any request (or goes straight to the last look).
pub(crate) async fn wait_cancellable<E, C>(client: &Client, id: &str, options: WaitOptions, cancel: C) -> std::result::Result<ConnectedAccount, E>
where
    C: Future<Output = E>,
    E: From<Error>,
{
    let cancelled = match first(cancel, wait_for_connection(client, id, options)).await {
        First::Right(settled) => return settled.map_err(E::from),
        First::Left(cancelled) => cancelled,
    };
    match options.on_cancel {
        OnCancel::Stop => Err(cancelled),
        OnCancel::LookOnce => match wait_for_connection(client, id, WaitOptions { timeout: Duration::ZERO, ..options }).await {
            Err(Error::ConnectionRequestTimeout { .. }) => Err(cancelled),
            looked => looked.map_err(E::from),
        },
    }
}

/// Which of two futures finished first.
enum First<A, B> {
    Left(A),
    Right(B),
}

/// Runs `a` and `b` together until one finishes (`a` is polled first); the other is dropped.
async fn first<A: Future, B: Future>(a: A, b: B) -> First<A::Output, B::Output> {
    let (mut a, mut b) = (pin!(a), pin!(b));
    poll_fn(|cx| {
        if let Poll::Ready(x) = a.as_mut().poll(cx) {
            return Poll::Ready(First::Left(x));
        }
        if let Poll::Ready(y) = b.as_mut().poll(cx) {
            return Poll::Ready(First::Right(y));
        }
        Poll::Pending
    })
    .await
}

/// How long one request of a wait may take, and whether that is what is left of the wait.
#[derive(Clone, Copy)]
struct Budget {
    time: Duration,
    to_deadline: bool,
}

/// `GET …/wait`: the broker answers when the account changes or after `slice`.
async fn long_poll_once(client: &Client, id: &str, slice: Duration, within: Duration) -> Result<Option<ConnectedAccount>> {
    let query = [("timeout_ms", slice.as_millis().to_string())];
    client.http().get_json_within(&format!("/api/v3.1/connected_accounts/{id}/wait"), &query, within).await
}

/// `GET /connected_accounts/{id}`: the account as it is now.
async fn get_once(client: &Client, id: &str, within: Duration) -> Result<Option<ConnectedAccount>> {
    client.http().get_json_within(&format!("/api/v3.1/connected_accounts/{id}"), &[], within).await
}

/// `Some` when the wait is over with success, an error when it is over with failure. While a
/// reconnect link is out the account keeps its old status, so the wait goes on.
fn settle(account: ConnectedAccount) -> Result<Option<ConnectedAccount>> {
    if account.reconnecting {
        return Ok(None);
    }
    match account.status {
        AccountStatus::Active => Ok(Some(account)),
        s if s.is_failure() || s == AccountStatus::Inactive => Err(Error::ConnectionRequestFailed {
            id: account.id,
            status: s.as_str().to_string(),
            reason: account.status_reason,
        }),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    //! Cancelling a wait against a broker that answers like the real one but whose long-poll
    //! never wakes early (its change feed is late): only a new look sees a change.

    use std::io::{ErrorKind, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::client::ClientConfig;

    /// A host's error: its own cancel error, or the core's.
    #[derive(Debug)]
    enum Host {
        /// The host's cancel (an `AbortError`, a `PopupClosedError`).
        Cancelled,
        Core(Error),
    }

    impl From<Error> for Host {
        fn from(e: Error) -> Self {
            Host::Core(e)
        }
    }

    /// The fake broker: the account's status, the requests it got, and how many of them the
    /// client dropped before the answer.
    #[derive(Clone)]
    struct Broker {
        client: Client,
        status: Arc<Mutex<&'static str>>,
        asked: Arc<Mutex<Vec<String>>>,
        dropped: Arc<AtomicUsize>,
    }

    impl Broker {
        fn start(status: &'static str) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            let base = format!("http://{}", listener.local_addr().unwrap());
            let broker = Broker {
                client: Client::new(ClientConfig::with_api_key(base, "k")).unwrap(),
                status: Arc::new(Mutex::new(status)),
                asked: Arc::default(),
                dropped: Arc::default(),
            };
            let b = broker.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let b = b.clone();
                    std::thread::spawn(move || b.answer(stream));
                }
            });
            broker
        }

        fn set(&self, status: &'static str) {
            *self.status.lock().unwrap() = status;
        }

        fn asked(&self) -> Vec<String> {
            self.asked.lock().unwrap().clone()
        }

        /// Waits (a little) until the client has dropped `n` requests.
        async fn dropped(&self, n: usize) -> bool {
            let until = Instant::now() + Duration::from_secs(2);
            while self.dropped.load(Ordering::SeqCst) < n && Instant::now() < until {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            self.dropped.load(Ordering::SeqCst) == n
        }

        fn answer(&self, mut stream: TcpStream) {
            let (mut head, mut chunk) = (Vec::new(), [0u8; 2048]);
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut chunk) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&chunk[..n]),
                }
            }
            let target = String::from_utf8_lossy(&head).split_whitespace().nth(1).unwrap_or_default().to_string();
            self.asked.lock().unwrap().push(target.clone());
            let status = *self.status.lock().unwrap();
            if target.contains("/wait?timeout_ms=") && !target.ends_with("=0") && status == "INITIATED" {
                // A long-poll that does not wake: held until the client goes away.
                stream.set_read_timeout(Some(Duration::from_millis(10))).unwrap();
                loop {
                    match stream.read(&mut chunk) {
                        Ok(0) => break,
                        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => continue,
                        _ => break,
                    }
                }
                self.dropped.fetch_add(1, Ordering::SeqCst);
                return;
            }
            let body = serde_json::json!({
                "id": "ca_1", "user_id": "ada", "toolkit": {"slug": "github"},
                "auth_config": {"id": "ac_1", "auth_scheme": "OAUTH2", "is_composio_managed": false},
                "status": status, "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            })
            .to_string();
            let _ = write!(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
        }

        async fn wait(&self, on_cancel: OnCancel, cancel: impl Future<Output = Host>) -> std::result::Result<ConnectedAccount, Host> {
            let options = WaitOptions { timeout: Duration::from_secs(30), on_cancel, ..WaitOptions::default() };
            self.client.connected_accounts().wait_with("ca_1", options, cancel).await
        }
    }

    /// A cancel `after` from now; `then` runs just before it completes.
    async fn cancel_after(after: Duration, then: impl FnOnce()) -> Host {
        tokio::time::sleep(after).await;
        then();
        Host::Cancelled
    }

    #[tokio::test]
    async fn an_abort_ends_the_wait_at_once_with_the_hosts_error_and_drops_its_request() {
        let broker = Broker::start("INITIATED");
        let started = Instant::now();
        let waited = broker.wait(OnCancel::Stop, cancel_after(Duration::from_millis(150), || ())).await;
        assert!(matches!(waited, Err(Host::Cancelled)), "{waited:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "not the 30 s wait");
        assert!(broker.dropped(1).await, "the long-poll in flight was dropped");
        assert_eq!(broker.asked().len(), 1, "no look after an abort: {:?}", broker.asked());
    }

    #[tokio::test]
    async fn an_abort_that_already_happened_asks_nothing() {
        let broker = Broker::start("ACTIVE");
        let waited = broker.wait(OnCancel::Stop, std::future::ready(Host::Cancelled)).await;
        assert!(matches!(waited, Err(Host::Cancelled)), "{waited:?}");
        assert!(broker.asked().is_empty());
    }

    #[tokio::test]
    async fn a_popup_closed_just_after_the_link_finished_ends_with_the_account() {
        let broker = Broker::start("INITIATED");
        let b = broker.clone();
        let waited = broker.wait(OnCancel::LookOnce, cancel_after(Duration::from_millis(150), move || b.set("ACTIVE"))).await;
        assert_eq!(waited.unwrap().status, AccountStatus::Active);
        assert!(broker.dropped(1).await);
        let asked = broker.asked();
        assert_eq!(asked.len(), 2, "the long-poll, then one look: {asked:?}");
        assert!(asked[1].ends_with("/wait?timeout_ms=0"), "the look does not wait: {asked:?}");
    }

    #[tokio::test]
    async fn a_popup_closed_before_the_link_finished_ends_with_the_hosts_error() {
        let broker = Broker::start("INITIATED");
        let waited = broker.wait(OnCancel::LookOnce, cancel_after(Duration::from_millis(150), || ())).await;
        assert!(matches!(waited, Err(Host::Cancelled)), "{waited:?}");
        assert_eq!(broker.asked().len(), 2);
    }

    #[tokio::test]
    async fn a_popup_closed_after_the_link_failed_ends_with_the_failure() {
        let broker = Broker::start("INITIATED");
        let b = broker.clone();
        let waited = broker.wait(OnCancel::LookOnce, cancel_after(Duration::from_millis(150), move || b.set("FAILED"))).await;
        assert!(matches!(waited, Err(Host::Core(Error::ConnectionRequestFailed { ref status, .. })) if status == "FAILED"), "{waited:?}");
    }

    #[tokio::test]
    async fn a_wait_that_settles_or_times_out_first_is_not_cancelled() {
        let broker = Broker::start("ACTIVE");
        let waited = broker.wait(OnCancel::Stop, cancel_after(Duration::from_secs(30), || ())).await;
        assert_eq!(waited.unwrap().status, AccountStatus::Active);

        let broker = Broker::start("INITIATED");
        let short = WaitOptions { timeout: Duration::from_millis(200), on_cancel: OnCancel::LookOnce, ..WaitOptions::default() };
        let waited = broker.client.connected_accounts().wait_with("ca_1", short, cancel_after(Duration::from_secs(30), || ())).await;
        assert!(matches!(waited, Err(Host::Core(Error::ConnectionRequestTimeout { .. }))), "{waited:?}");
    }
}
