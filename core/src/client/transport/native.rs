//! The native transport: reqwest (rustls), one connection pool per client.

use std::time::Duration;

use super::{Failure, ParsedUrl, Request, Response};

/// A reqwest client; cloning shares its pool.
#[derive(Clone, Debug)]
pub(crate) struct Transport {
    inner: reqwest::Client,
}

impl Transport {
    pub(crate) fn new() -> Result<Self, String> {
        let inner = reqwest::Client::builder()
            .user_agent(concat!("grantline-core/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| chain(&e))?;
        Ok(Self { inner })
    }

    pub(crate) async fn send(&self, request: Request) -> Result<Response, Failure> {
        let method = reqwest::Method::from_bytes(request.method.as_str().as_bytes()).expect("a standard method");
        let mut rb = self.inner.request(method, &request.url).timeout(request.timeout);
        for (name, value) in request.headers {
            rb = rb.header(name, value);
        }
        if let Some(body) = request.body {
            rb = rb.body(body);
        }
        let resp = rb.send().await.map_err(failure)?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await.map_err(failure)?;
        Ok(Response { status, body: body.to_vec() })
    }
}

fn failure(e: reqwest::Error) -> Failure {
    if e.is_timeout() {
        Failure::TimedOut
    } else {
        Failure::Failed(chain(&e))
    }
}

/// Parses `text` with the `url` crate.
pub(crate) fn parse_url(text: &str) -> Result<ParsedUrl, String> {
    let url = url::Url::parse(text).map_err(|e| e.to_string())?;
    Ok(ParsedUrl { scheme: url.scheme().to_string(), origin: url.origin().ascii_serialization(), path: url.path().to_string() })
}

/// Waits `d` on the tokio timer.
pub(crate) async fn sleep(d: Duration) {
    tokio::time::sleep(d).await
}

/// The error and its causes on one line, so a host keeps the whole story.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}
