//! One place that turns requests into typed answers or typed errors, on every platform: the
//! URL, headers and body are built here, a transport (`transport/`) carries them, and its
//! answer, failure or timeout is mapped here.

use std::time::Duration;

use serde::{de::DeserializeOwned, Serialize};

use super::config::{ClientConfig, Credential};
use super::transport::{Failure, Method, Request, Transport};
use crate::{Error, ErrorBody, Result};

/// The transport plus the broker's address, credential, timeout and error envelope.
#[derive(Clone, Debug)]
pub(crate) struct Http {
    transport: Transport,
    /// Always ends with `/`; API paths are appended to it.
    base: String,
    credential: Option<Credential>,
    request_timeout: Duration,
}

impl Http {
    pub(crate) fn new(config: ClientConfig) -> Result<Self> {
        let base = config.parsed_base_url()?;
        let transport = Transport::new().map_err(Error::Network)?;
        Ok(Self { transport, base, credential: config.credential, request_timeout: config.request_timeout })
    }

    pub(crate) fn base_url(&self) -> &str {
        &self.base
    }

    /// The timeout of one ordinary request.
    pub(crate) fn request_timeout(&self) -> Duration {
        self.request_timeout
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
        self.get_json_within(path, query, self.request_timeout).await?.ok_or_else(|| timed_out(self.request_timeout))
    }

    /// GET with its own timeout (a long-poll outlasts ordinary requests; a wait ends at its
    /// deadline); `None` when no answer came within it.
    pub(crate) async fn get_json_within<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, String)],
        timeout: Duration,
    ) -> Result<Option<T>> {
        self.send(Method::Get, path, query, None, timeout).await
    }

    pub(crate) async fn post_json<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send_json(Method::Post, path, Some(json(body)?)).await
    }

    pub(crate) async fn patch_json<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T> {
        self.send_json(Method::Patch, path, Some(json(body)?)).await
    }

    pub(crate) async fn delete_json<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.send_json(Method::Delete, path, None).await
    }

    async fn send_json<T: DeserializeOwned>(&self, method: Method, path: &str, body: Option<String>) -> Result<T> {
        let timeout = self.request_timeout;
        self.send(method, path, &[], body, timeout).await?.ok_or_else(|| timed_out(timeout))
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<String>,
        timeout: Duration,
    ) -> Result<Option<T>> {
        let mut headers = vec![("accept", "application/json".to_string())];
        if body.is_some() {
            headers.push(("content-type", "application/json".to_string()));
        }
        headers.extend(self.auth_header());
        let request = Request { method, url: self.url(path, query), headers, body, timeout };
        match self.transport.send(request).await {
            Ok(resp) => read(resp.status, &resp.body).map(Some),
            Err(Failure::TimedOut) => Ok(None),
            Err(Failure::Failed(why)) => Err(Error::Network(why)),
        }
    }

    /// `base` + `path` + the form-encoded query (what `application/x-www-form-urlencoded` does).
    fn url(&self, path: &str, query: &[(&str, String)]) -> String {
        let mut url = format!("{}{}", self.base, path.trim_start_matches('/'));
        for (i, (name, value)) in query.iter().enumerate() {
            url.push(if i == 0 { '?' } else { '&' });
            encode_into(&mut url, name);
            url.push('=');
            encode_into(&mut url, value);
        }
        url
    }
}

/// The error of a request that got no answer within `timeout`.
pub(crate) fn timed_out(timeout: Duration) -> Error {
    Error::Network(format!("the broker did not answer within {} ms", timeout.as_millis()))
}

fn json<B: Serialize>(body: &B) -> Result<String> {
    serde_json::to_string(body).map_err(|e| Error::Internal(format!("request body: {e}")))
}

/// The broker's answer as `T`, or its error envelope as the typed error.
fn read<T: DeserializeOwned>(status: u16, bytes: &[u8]) -> Result<T> {
    if (200..300).contains(&status) {
        return serde_json::from_slice(bytes)
            .map_err(|e| Error::Network(format!("the broker answered {status} with an unexpected body: {e}")));
    }
    Err(match serde_json::from_slice::<ErrorBody>(bytes) {
        Ok(body) => Error::from_body(status, &body),
        Err(_) => match status {
            401 => Error::Unauthorized("the broker refused the credential".into()),
            404 => Error::not_found("route", "the broker has no such endpoint"),
            s => Error::Network(format!("the broker answered HTTP {s} without an error body")),
        },
    })
}

/// Appends `text` form-urlencoded: ASCII letters, digits and `*-._` as they are, space as `+`,
/// every other byte of its UTF-8 as `%XX`.
fn encode_into(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in text.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn http(base: &str) -> Http {
        Http::new(ClientConfig::with_api_key(base, "k")).unwrap()
    }

    #[test]
    fn urls_are_the_base_the_path_and_the_form_encoded_query() {
        let h = http("http://127.0.0.1:9900");
        assert_eq!(h.base_url(), "http://127.0.0.1:9900/");
        assert_eq!(h.url("/api/v3.1/x", &[]), "http://127.0.0.1:9900/api/v3.1/x");
        let q = [("user_ids", "ada,bo".to_string()), ("search", "a b&c=d/é".to_string())];
        assert_eq!(h.url("/api/v3.1/x", &q), "http://127.0.0.1:9900/api/v3.1/x?user_ids=ada%2Cbo&search=a+b%26c%3Dd%2F%C3%A9");
        let mut reference = String::new();
        for (i, (k, v)) in q.iter().enumerate() {
            reference.push_str(if i == 0 { "?" } else { "&" });
            reference.extend(url::form_urlencoded::byte_serialize(k.as_bytes()));
            reference.push('=');
            reference.extend(url::form_urlencoded::byte_serialize(v.as_bytes()));
        }
        assert!(h.url("/api/v3.1/x", &q).ends_with(&reference), "the same encoding as the url crate's");
        assert_eq!(http("https://gl.example.com/prefix?x=1#f").url("api", &[]), "https://gl.example.com/prefix/api");
    }

    #[test]
    fn answers_become_values_or_typed_errors() {
        assert_eq!(read::<serde_json::Value>(200, br#"{"a":1}"#).unwrap(), serde_json::json!({"a": 1}));
        assert!(matches!(read::<serde_json::Value>(200, b"<html>"), Err(Error::Network(_))));
        assert!(matches!(read::<serde_json::Value>(401, b""), Err(Error::Unauthorized(_))));
        assert!(matches!(read::<serde_json::Value>(404, b""), Err(Error::NotFound { .. })));
        assert!(matches!(read::<serde_json::Value>(502, b"bad gateway"), Err(Error::Network(_))));
    }
}
