//! The process's metrics recorder: installed once, rendered in the Prometheus text format at
//! `/metrics` (on the API with the project key, and without credentials on `--metrics-bind`).
//! The core records its domain metrics through the same `metrics` facade.

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

/// Histogram buckets, in seconds: from a cached lookup to the longest `/wait`.
const BUCKETS: &[f64] = &[0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0];

/// The recorder's handle, installing the recorder on first use. `None` when another recorder
/// was installed first (a host embedding the broker).
pub(crate) fn handle() -> Option<&'static PrometheusHandle> {
    static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().set_buckets(BUCKETS).expect("buckets are not empty").build_recorder();
            let handle = recorder.handle();
            match metrics::set_global_recorder(recorder) {
                Ok(()) => Some(handle),
                Err(_) => {
                    tracing::warn!("another metrics recorder is installed: /metrics stays empty");
                    None
                }
            }
        })
        .as_ref()
}

/// Installs the recorder and keeps its histograms drained (the exporter's upkeep) while the
/// runtime lives, so they stay small however rarely `/metrics` is scraped.
pub(crate) fn install() {
    static UPKEEP: OnceLock<()> = OnceLock::new();
    if let Some(handle) = handle() {
        UPKEEP.get_or_init(|| {
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(Duration::from_secs(5));
                loop {
                    tick.tick().await;
                    handle.run_upkeep();
                }
            });
        });
    }
}

/// The metrics as Prometheus text.
pub(crate) fn render() -> String {
    handle().map(|h| h.render()).unwrap_or_default()
}
