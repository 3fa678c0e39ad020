//! The seam between the client's rules and the platform that carries its requests: reqwest on
//! native hosts (`native.rs`), the browser's `fetch` on wasm32 (`fetch.rs`), selected at compile
//! time. A transport only moves bytes and keeps the deadline it is given; what a status or a
//! body means is decided once, in `http.rs`.

use std::time::Duration;

#[cfg(not(target_arch = "wasm32"))]
mod native;
#[cfg(not(target_arch = "wasm32"))]
pub(crate) use native::{parse_url, sleep, Transport};

#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
pub(crate) use fetch::{parse_url, sleep, Transport};

/// The methods the REST API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Method {
    Get,
    Post,
    Patch,
    Delete,
}

impl Method {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One request, ready to send: the URL is complete (query included), the body is JSON text.
#[derive(Debug)]
pub(crate) struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<String>,
    /// The whole exchange, answer body included, ends by then.
    pub timeout: Duration,
}

/// What the broker answered. Its headers are not kept: every answer the client reads, errors
/// included, is in the JSON body.
#[derive(Debug)]
pub(crate) struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why no answer arrived.
#[derive(Debug)]
pub(crate) enum Failure {
    /// The deadline passed first; the request was abandoned.
    TimedOut,
    /// The request could not be sent or its answer not read (the cause, on one line).
    Failed(String),
}

/// A URL as the platform parses it (WHATWG rules on both: the `url` crate, the browser's `URL`).
#[derive(Debug)]
pub(crate) struct ParsedUrl {
    /// `http`, `https`, … (no colon).
    pub scheme: String,
    /// `scheme://host[:port]`, the default port left out.
    pub origin: String,
    /// The path, starting with `/` for http(s).
    pub path: String,
}
