//! `wait_for_connection`, written once for every host: long-poll, with a polling fallback.

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

/// Knobs of a wait; `Default` is a 60 s wait using the long-poll.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// Give up after this long with `ConnectionRequestTimeout`.
    pub timeout: Duration,
    /// Interval of the polling fallback.
    pub poll_interval: Duration,
    /// Use `/wait` when the broker has it (turn off to measure plain polling).
    pub long_poll: bool,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self { timeout: super::options::DEFAULT_WAIT, poll_interval: DEFAULT_POLL_INTERVAL, long_poll: true }
    }
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
