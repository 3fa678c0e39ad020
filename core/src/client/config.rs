//! How a client finds and authenticates to the broker.

use std::time::Duration;

use crate::{Error, Result};

/// Default broker address, where `grantline serve` listens.
pub const DEFAULT_BASE_URL: &str = "http://127.0.0.1:9900";

/// What the client authenticates with.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// A project API key, sent as `x-api-key` (server-side use only).
    ApiKey(String),
    /// A session-scoped client token, sent as `Authorization: Bearer` (browser use).
    ClientToken(String),
}

impl std::fmt::Debug for Credential {
    // Never print the secret itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credential::ApiKey(_) => f.write_str("ApiKey(***)"),
            Credential::ClientToken(_) => f.write_str("ClientToken(***)"),
        }
    }
}

/// Client settings; `Default` points at a local broker with no credential.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The broker's base URL, e.g. `http://127.0.0.1:9900`.
    pub base_url: String,
    /// The credential to send.
    pub credential: Option<Credential>,
    /// Timeout of one ordinary request (long-polls get their own, longer one).
    pub request_timeout: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self { base_url: DEFAULT_BASE_URL.to_string(), credential: None, request_timeout: Duration::from_secs(30) }
    }
}

impl ClientConfig {
    /// A config for `base_url` with a project API key.
    pub fn with_api_key(base_url: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self { base_url: base_url.into(), credential: Some(Credential::ApiKey(api_key.into())), ..Self::default() }
    }

    /// A config for `base_url` with a session's client token (what a browser holds).
    pub fn with_client_token(base_url: impl Into<String>, token: impl Into<String>) -> Self {
        Self { base_url: base_url.into(), credential: Some(Credential::ClientToken(token.into())), ..Self::default() }
    }

    /// Reads `GRANTLINE_API_KEY` (required) and `GRANTLINE_BASE_URL` (optional).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_env() -> Result<Self> {
        Self::from_parts(None, None)
    }

    /// Explicit values win over `GRANTLINE_API_KEY` / `GRANTLINE_BASE_URL`; the key is required.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_parts(api_key: Option<String>, base_url: Option<String>) -> Result<Self> {
        let key = api_key
            .or_else(|| std::env::var("GRANTLINE_API_KEY").ok())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| Error::validation("api_key", "pass api_key or set GRANTLINE_API_KEY"))?;
        let base = base_url
            .or_else(|| std::env::var("GRANTLINE_BASE_URL").ok())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| DEFAULT_BASE_URL.to_string());
        Ok(Self::with_api_key(base, key))
    }

    /// Parses and checks `base_url`: an http(s) URL, returned as origin and path ending in `/`
    /// (API paths are appended to it; a query or fragment in it means nothing and is dropped).
    pub(crate) fn parsed_base_url(&self) -> Result<String> {
        let url = super::transport::parse_url(&self.base_url)
            .map_err(|e| Error::validation("base_url", format!("not a URL ({e})")))?;
        if !matches!(url.scheme.as_str(), "http" | "https") {
            return Err(Error::validation("base_url", "must be http or https"));
        }
        let slash = if url.path.ends_with('/') { "" } else { "/" };
        Ok(format!("{}{}{}", url.origin, url.path, slash))
    }
}
