//! Where the broker's log lines go: stderr, in colour only when stderr is a terminal and
//! `NO_COLOR` is unset (<https://no-color.org>), and held back while the demo prints its
//! story, then written after it, so the story reads uninterrupted and no line is lost.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};

use tracing_subscriber::fmt::MakeWriter;

/// Most bytes held while the demo runs; past it the held lines are written at once.
const MAX_HELD: usize = 4 << 20;

/// The handle on the installed log output.
#[derive(Clone, Default)]
pub struct Logs {
    held: Arc<Mutex<Option<Vec<u8>>>>,
    format: LogFormat,
}

/// Whether log lines may carry colour codes: only for a terminal, and never with `NO_COLOR` set.
pub fn colour_allowed(is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    is_terminal && no_color.is_none_or(|v| v.is_empty())
}

/// How log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines, coloured only on a terminal.
    #[default]
    Text,
    /// One JSON object a line: `timestamp`, `level`, `target`, `message`, the event's fields,
    /// and `span` (the request's, with its `request_id`) when logged while serving a request.
    Json,
}

/// Installs the global subscriber: the filter from `GRANTLINE_LOG` (else `default_filter`),
/// lines to stderr in `format`.
pub fn init(default_filter: &str, format: LogFormat) -> Logs {
    let logs = Logs { format, ..Logs::default() };
    let filter = tracing_subscriber::EnvFilter::try_from_env("GRANTLINE_LOG").unwrap_or_else(|_| default_filter.into());
    match format {
        LogFormat::Text => {
            let ansi = colour_allowed(std::io::stderr().is_terminal(), std::env::var_os("NO_COLOR").as_deref());
            tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(logs.clone()).init();
        }
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .with_env_filter(filter)
            .with_writer(logs.clone())
            .init(),
    }
    logs
}

impl Logs {
    /// The format lines are written in.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// Holds log lines back from now on (until [`Logs::release`]).
    pub fn hold(&self) {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        held.get_or_insert_with(Vec::new);
    }

    /// Writes the held lines, in order, and lets later ones through at once.
    pub fn release(&self) {
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(lines) = held {
            let _ = std::io::stderr().lock().write_all(&lines);
        }
    }
}

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        match held.as_mut() {
            Some(lines) if lines.len() + bytes.len() <= MAX_HELD => {
                lines.extend_from_slice(bytes);
                Ok(bytes.len())
            }
            Some(_) => {
                let lines = held.take().unwrap_or_default();
                let mut err = std::io::stderr().lock();
                err.write_all(&lines)?;
                err.write(bytes)
            }
            None => std::io::stderr().lock().write(bytes),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_for_a_terminal_without_no_color() {
        assert!(colour_allowed(true, None));
        assert!(colour_allowed(true, Some(OsStr::new(""))), "an empty NO_COLOR does not count");
        assert!(!colour_allowed(true, Some(OsStr::new("1"))));
        assert!(!colour_allowed(false, None));
    }

    #[test]
    fn held_lines_are_kept_in_order_until_released() {
        let mut logs = Logs::default();
        logs.hold();
        logs.write_all(b"one\n").unwrap();
        logs.write_all(b"two\n").unwrap();
        assert_eq!(logs.held.lock().unwrap().as_deref(), Some(&b"one\ntwo\n"[..]));
        logs.release();
        assert!(logs.held.lock().unwrap().is_none());
    }
}
