//! The broker's domain metrics, every name in one place. Recorded through the `metrics` facade:
//! a no-op until the host installs a recorder (the broker renders them at `/metrics`).
//! Labels are bounded: toolkit slugs come from the catalog, outcomes from the lists below.

use std::time::Instant;

/// `grantline_flows_started_total{toolkit, kind}`: Connect Links made (`kind`: connect, reconnect).
pub(crate) fn flow_started(toolkit: &str, kind: &'static str) {
    metrics::counter!("grantline_flows_started_total", "toolkit" => toolkit.to_string(), "kind" => kind).increment(1);
}

/// `grantline_flows_finished_total{toolkit, outcome}`: flows that ended (`outcome`: success,
/// failed, expired).
pub(crate) fn flow_finished(toolkit: &str, outcome: &'static str) {
    metrics::counter!("grantline_flows_finished_total", "toolkit" => toolkit.to_string(), "outcome" => outcome).increment(1);
}

/// `grantline_callback_seconds{toolkit}`: from the provider's callback reaching the broker to
/// the account ACTIVE (the code exchange included).
pub(crate) fn callback_completed(toolkit: &str, started: Instant) {
    metrics::histogram!("grantline_callback_seconds", "toolkit" => toolkit.to_string()).record(started.elapsed().as_secs_f64());
}

/// `grantline_tool_executions_total{toolkit, outcome}` and
/// `grantline_provider_request_seconds{toolkit}`: tool runs (`outcome`: ok, provider_error,
/// not_connected, connection_expired) and how long the provider took.
pub(crate) fn tool_executed(toolkit: &str, outcome: &'static str, provider_started: Option<Instant>) {
    metrics::counter!("grantline_tool_executions_total", "toolkit" => toolkit.to_string(), "outcome" => outcome).increment(1);
    if let Some(started) = provider_started {
        metrics::histogram!("grantline_provider_request_seconds", "toolkit" => toolkit.to_string())
            .record(started.elapsed().as_secs_f64());
    }
}

/// `grantline_proxy_requests_total{toolkit, outcome}` and
/// `grantline_provider_request_seconds{toolkit}`: proxied requests (`…/proxy_execute`; `outcome`:
/// ok, provider_error, connection_expired, provider_unavailable) and how long the provider took.
pub(crate) fn proxy_executed(toolkit: &str, outcome: &'static str, provider_started: Instant) {
    metrics::counter!("grantline_proxy_requests_total", "toolkit" => toolkit.to_string(), "outcome" => outcome).increment(1);
    metrics::histogram!("grantline_provider_request_seconds", "toolkit" => toolkit.to_string())
        .record(provider_started.elapsed().as_secs_f64());
}

/// `grantline_token_refreshes_total{toolkit, outcome}`: refreshes by the lease holder
/// (`outcome`: ok, refused, unavailable).
pub(crate) fn refreshed(toolkit: &str, outcome: &'static str) {
    metrics::counter!("grantline_token_refreshes_total", "toolkit" => toolkit.to_string(), "outcome" => outcome).increment(1);
}

/// `grantline_webhook_attempts_total{outcome}` and `grantline_webhook_attempt_seconds`: webhook
/// delivery attempts (`outcome`: delivered, retry, failed) and how long receivers took.
pub(crate) fn webhook_attempted(outcome: &'static str, latency_ms: u64) {
    metrics::counter!("grantline_webhook_attempts_total", "outcome" => outcome).increment(1);
    metrics::histogram!("grantline_webhook_attempt_seconds").record(latency_ms as f64 / 1000.0);
}

/// `grantline_webhook_backlog`: deliveries pending (every project's), as a broker last counted.
pub(crate) fn webhook_backlog(pending: u64) {
    metrics::gauge!("grantline_webhook_backlog").set(pending as f64);
}

/// One open wait: `grantline_open_waits` (gauge) while it lives, then
/// `grantline_wait_seconds{outcome}` (`outcome`: resolved, timeout, shutdown; cancelled when the
/// client went away or a look failed).
pub(crate) struct OpenWait {
    started: Instant,
    outcome: &'static str,
}

impl OpenWait {
    pub(crate) fn start() -> Self {
        metrics::gauge!("grantline_open_waits").increment(1.0);
        Self { started: Instant::now(), outcome: "cancelled" }
    }

    /// How the wait ended (kept for the histogram when it is dropped).
    pub(crate) fn ended(&mut self, outcome: &'static str) {
        self.outcome = outcome;
    }
}

impl Drop for OpenWait {
    fn drop(&mut self) {
        metrics::gauge!("grantline_open_waits").decrement(1.0);
        metrics::histogram!("grantline_wait_seconds", "outcome" => self.outcome).record(self.started.elapsed().as_secs_f64());
    }
}
