//! One place that turns requests into typed answers or typed errors.

use std::time::Duration;

use serde::{de::DeserializeOwned, Serialize};

use super::config::{ClientConfig, Credential};
use crate::{Error, ErrorBody, Result};

/// reqwest plus the broker's address, credential and error envelope.
#[derive(Clone, Debug)]
pub(crate) struct Http {
    inner: reqwest::Client,
    base: url::Url,
    credential: Option<Credential>,
    request_timeout: Duration,
}

impl Http {
    pub(crate) fn new(config: ClientConfig) -> Result<Self> {
        let base = config.parsed_base_url()?;
        let builder = reqwest::Client::builder();
        #[cfg(not(target_arch = "wasm32"))]
        let builder = builder.user_agent(concat!("grantline-core/", env!("CARGO_PKG_VERSION")));
        let inner = builder.build().map_err(|e| Error::Network(chain(&e)))?;
        Ok(Self { inner, base, credential: config.credential, request_timeout: config.request_timeout })
    }

    pub(crate) fn base_url(&self) -> &url::Url {
        &self.base
    }

    fn url(&self, path: &str) -> Result<url::Url> {
        self.base.join(path.trim_start_matches('/')).map_err(|e| Error::Internal(format!("bad path {path}: {e}")))
    }

    fn request(&self, method: reqwest::Method, path: &str, timeout: Duration) -> Result<reqwest::RequestBuilder> {
        let rb = self.inner.request(method, self.url(path)?).header("accept", "application/json");
        #[cfg(not(target_arch = "wasm32"))]
        let rb = rb.timeout(timeout);
        #[cfg(target_arch = "wasm32")]
        let _ = timeout;
        Ok(match self.auth_header() {
            Some((name, value)) => rb.header(name, value),
            None => rb,
        })
    }

    /// The header that authenticates this client (`x-api-key` or `authorization`), if any.
    pub(crate) fn auth_header(&self) -> Option<(&'static str, String)> {
        match &self.credential {
            Some(Credential::ApiKey(k)) => Some(("x-api-key", k.clone())),
            Some(Credential::ClientToken(t)) => Some(("authorization", format!("Bearer {t}"))),
            None => None,
        }
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str, query: &[(&str, String)]) -> Result<T> {
        self.get_json_within(path, query, self.request_timeout).await
    }

    /// GET with an explicit timeout, for long-polls that outlast ordinary requests.
    pub(crate) async fn get_json_within<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        timeout: Duration,
    ) -> Result<T> {
        let rb = self.request(reqwest::Method::GET, path, timeout)?.query(query);
        send(rb).await
    }

    pub(crate) async fn post_json<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        send(self.request(reqwest::Method::POST, path, self.request_timeout)?.json(body)).await
    }

    pub(crate) async fn patch_json<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        send(self.request(reqwest::Method::PATCH, path, self.request_timeout)?.json(body)).await
    }

    pub(crate) async fn delete_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        send(self.request(reqwest::Method::DELETE, path, self.request_timeout)?).await
    }
}

async fn send<T: DeserializeOwned>(rb: reqwest::RequestBuilder) -> Result<T> {
    let resp = rb.send().await.map_err(|e| Error::Network(chain(&e)))?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| Error::Network(chain(&e)))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes)
            .map_err(|e| Error::Network(format!("the broker answered {status} with an unexpected body: {e}")));
    }
    Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
        Ok(body) => Error::from_body(status.as_u16(), &body),
        Err(_) => match status.as_u16() {
            401 => Error::Unauthorized("the broker refused the credential".into()),
            404 => Error::not_found("route", "the broker has no such endpoint"),
            s => Error::Network(format!("the broker answered HTTP {s} without an error body")),
        },
    })
}

/// The error and its causes on one line, so a host keeps the whole story.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
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
