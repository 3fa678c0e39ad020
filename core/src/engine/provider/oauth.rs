//! OAuth 2.0 against a provider: the authorization URL and the code exchange.

use serde::{Deserialize, Serialize};

use crate::catalog::{OAuth2Def, TokenAuth};
use crate::{Error, Result};

/// What goes into one authorization URL.
pub struct AuthorizeParams<'a> {
    /// The provider.
    pub provider: &'a OAuth2Def,
    /// The app's client id.
    pub client_id: &'a str,
    /// The broker's callback.
    pub redirect_uri: &'a str,
    /// Scopes to request.
    pub scopes: &'a [String],
    /// Single-use `state`.
    pub state: &'a str,
    /// PKCE S256 challenge, when the provider takes one.
    pub code_challenge: Option<&'a str>,
}

/// The provider URL the Connect Link sends the user to.
pub fn authorization_url(p: &AuthorizeParams<'_>) -> Result<url::Url> {
    let mut url = url::Url::parse(&p.provider.authorization_url)
        .map_err(|e| Error::Internal(format!("authorization_url of the provider: {e}")))?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code");
        q.append_pair("client_id", p.client_id);
        q.append_pair("redirect_uri", p.redirect_uri);
        if !p.scopes.is_empty() {
            q.append_pair("scope", &p.scopes.join(&p.provider.scope_separator));
        }
        q.append_pair("state", p.state);
        if let Some(c) = p.code_challenge {
            q.append_pair("code_challenge", c);
            q.append_pair("code_challenge_method", "S256");
        }
        for (k, v) in p.provider.extra_authorize_params.iter().flatten() {
            q.append_pair(k, v);
        }
    }
    Ok(url)
}

/// The credentials a successful exchange yields, as sealed in the vault.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenSet {
    /// The access token.
    pub access_token: String,
    /// The refresh token, when issued.
    #[serde(default)]
    pub refresh_token: Option<String>,
    /// Usually `Bearer`.
    #[serde(default)]
    pub token_type: Option<String>,
    /// Granted scopes, as the provider wrote them.
    #[serde(default)]
    pub scope: Option<String>,
    /// Unix ms when the access token expires, when the provider said.
    #[serde(default)]
    pub expires_at: Option<i64>,
    /// Unix ms when it was obtained.
    pub obtained_at: i64,
}

impl std::fmt::Display for TokenSet {
    // Never print tokens.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenSet(type={:?}, scope={:?}, expires_at={:?})", self.token_type, self.scope, self.expires_at)
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: Option<String>,
    refresh_token: Option<String>,
    token_type: Option<String>,
    scope: Option<serde_json::Value>,
    expires_in: Option<serde_json::Value>,
    error: Option<String>,
    error_description: Option<String>,
    ok: Option<bool>,
}

/// What one code exchange needs.
pub struct ExchangeParams<'a> {
    /// The provider.
    pub provider: &'a OAuth2Def,
    /// The app's client id.
    pub client_id: &'a str,
    /// The app's client secret.
    pub client_secret: &'a str,
    /// The code from the callback.
    pub code: &'a str,
    /// The same redirect URI as in the authorization URL.
    pub redirect_uri: &'a str,
    /// The PKCE verifier, when a challenge was sent.
    pub code_verifier: Option<&'a str>,
}

/// Exchanges an authorization code for tokens. Errors are `Provider` with a reason
/// fit for `status_reason` (the provider's error code and description, no secrets).
pub async fn exchange_code(http: &reqwest::Client, p: &ExchangeParams<'_>, now: i64) -> Result<TokenSet> {
    let mut form: Vec<(&str, &str)> =
        vec![("grant_type", "authorization_code"), ("code", p.code), ("redirect_uri", p.redirect_uri)];
    if let Some(v) = p.code_verifier {
        form.push(("code_verifier", v));
    }
    let client = ClientAuth { provider: p.provider, client_id: p.client_id, client_secret: p.client_secret };
    token_request(http, &client, form, "code", now).await.map_err(|e| Error::Provider(e.reason().to_string()))
}

/// The app's client at a provider's token endpoint.
pub struct ClientAuth<'a> {
    /// The provider.
    pub provider: &'a OAuth2Def,
    /// The app's client id.
    pub client_id: &'a str,
    /// The app's client secret.
    pub client_secret: &'a str,
}

/// Why a token request gave no tokens.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenError {
    /// The provider said no (a 4xx, or an error in a 200): retrying will not help.
    Refused(String),
    /// The provider failed or could not be reached: it may work later.
    Unavailable(String),
}

impl TokenError {
    /// The reason, fit for `status_reason` (no secrets).
    pub fn reason(&self) -> &str {
        match self {
            TokenError::Refused(r) | TokenError::Unavailable(r) => r,
        }
    }
}

/// Trades a refresh token for a new access token. A provider that sends no new refresh
/// token keeps the old one valid, so the old one is carried over.
pub async fn refresh(http: &reqwest::Client, client: &ClientAuth<'_>, refresh_token: &str, now: i64) -> std::result::Result<TokenSet, TokenError> {
    let form = vec![("grant_type", "refresh_token"), ("refresh_token", refresh_token)];
    let mut tokens = token_request(http, client, form, "refresh token", now).await?;
    if tokens.refresh_token.is_none() {
        tokens.refresh_token = Some(refresh_token.to_string());
    }
    Ok(tokens)
}

/// Revokes `token` at the provider's RFC 7009 endpoint, authenticating as at its token
/// endpoint. The provider answers 200 for a token it no longer knows, so success means the
/// grant is gone.
pub async fn revoke_token(
    http: &reqwest::Client,
    c: &ClientAuth<'_>,
    revocation_url: &str,
    token: &str,
    hint: &str,
) -> std::result::Result<(), TokenError> {
    let form = vec![("token", token), ("token_type_hint", hint)];
    let resp = client_post(http, c, revocation_url, form, "revocation endpoint").await?;
    let status = resp.status().as_u16();
    match status {
        200..=299 => Ok(()),
        500.. => Err(TokenError::Unavailable(format!("revocation endpoint failed (HTTP {status})"))),
        _ => {
            let body: Option<TokenResponse> = resp.bytes().await.ok().and_then(|b| serde_json::from_slice(&b).ok());
            let code = body.and_then(|b| b.error).map(|e| format!(": {}", truncate(&e, 60))).unwrap_or_default();
            Err(TokenError::Refused(format!("revocation endpoint refused the token (HTTP {status}){code}")))
        }
    }
}

/// POSTs `form` to one of the provider's endpoints, authenticated as the app the way the
/// provider wants it (form fields or HTTP Basic); `what` names the endpoint in reasons.
async fn client_post(
    http: &reqwest::Client,
    c: &ClientAuth<'_>,
    url: &str,
    mut form: Vec<(&str, &str)>,
    what: &str,
) -> std::result::Result<reqwest::Response, TokenError> {
    let mut rb = http.post(url).header("accept", "application/json");
    match c.provider.token_auth {
        TokenAuth::Post => {
            form.push(("client_id", c.client_id));
            form.push(("client_secret", c.client_secret));
        }
        TokenAuth::Basic => {
            form.push(("client_id", c.client_id));
            rb = rb.basic_auth(form_encode(c.client_id), Some(form_encode(c.client_secret)));
        }
    }
    rb.form(&form).send().await.map_err(|e| {
        let how = if e.is_timeout() { "timed out" } else { "could not be reached" };
        TokenError::Unavailable(format!("{what} {how}"))
    })
}

/// One request to the token endpoint; `grant` names what was presented, for reasons.
async fn token_request(
    http: &reqwest::Client,
    c: &ClientAuth<'_>,
    form: Vec<(&str, &str)>,
    grant: &str,
    now: i64,
) -> std::result::Result<TokenSet, TokenError> {
    let resp = client_post(http, c, &c.provider.token_url, form, "token endpoint").await?;
    let status = resp.status();
    let body = resp.bytes().await.map_err(|_| TokenError::Unavailable("token endpoint response was cut off".into()))?;
    let parsed: Option<TokenResponse> = serde_json::from_slice(&body)
        .ok()
        .or_else(|| serde_urlencoded_like(&body));
    let Some(t) = parsed else {
        return Err(TokenError::Unavailable(format!("token endpoint answered HTTP {} with a body that is not a token response", status.as_u16())));
    };
    if !status.is_success() || t.error.is_some() || t.ok == Some(false) {
        // A 5xx is the provider failing; a 4xx (or a 200 carrying an error, as GitHub and
        // Slack answer) is the provider refusing what was presented.
        let (what, refused) = match status.as_u16() {
            500.. => (format!("token endpoint failed (HTTP {})", status.as_u16()), false),
            400.. => (format!("token endpoint refused the {grant} (HTTP {})", status.as_u16()), true),
            _ => (format!("token endpoint refused the {grant}"), true),
        };
        let reason = match (t.error, t.error_description) {
            (Some(code), Some(d)) => format!("{what}: {code}: {}", truncate(&d, 200)),
            (Some(code), None) => format!("{what}: {code}"),
            (None, _) => what,
        };
        return Err(if refused { TokenError::Refused(reason) } else { TokenError::Unavailable(reason) });
    }
    let access_token = t
        .access_token
        .filter(|a| !a.is_empty())
        .ok_or_else(|| TokenError::Refused("token endpoint answered without an access_token".into()))?;
    let expires_in = t.expires_in.and_then(|v| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())));
    let scope = t.scope.map(|s| match s {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    });
    Ok(TokenSet {
        access_token,
        refresh_token: t.refresh_token,
        token_type: t.token_type,
        scope,
        expires_at: expires_in.map(|s| now + s * 1000),
        obtained_at: now,
    })
}

impl TokenSet {
    /// Whether the access token should be refreshed before use at `now`: past its expiry,
    /// less a margin of a tenth of its lifetime (at most a minute) for the call in flight.
    pub fn needs_refresh(&self, now: i64) -> bool {
        match self.expires_at {
            None => false,
            Some(at) => {
                let margin = ((at - self.obtained_at) / 10).clamp(0, 60_000);
                now >= at - margin
            }
        }
    }
}

/// RFC 6749 §2.3.1: client credentials are form-encoded before HTTP Basic.
fn form_encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Some providers (GitHub without `Accept`) answer `application/x-www-form-urlencoded`.
fn serde_urlencoded_like(body: &[u8]) -> Option<TokenResponse> {
    let text = std::str::from_utf8(body).ok()?;
    if !text.contains('=') {
        return None;
    }
    let map: serde_json::Map<String, serde_json::Value> = url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), serde_json::Value::String(v.into_owned())))
        .collect();
    serde_json::from_value(serde_json::Value::Object(map)).ok()
}

fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn provider(sep: &str) -> OAuth2Def {
        OAuth2Def {
            authorization_url: "https://idp.test/authorize?tenant=a".into(),
            token_url: "https://idp.test/token".into(),
            userinfo_url: None,
            revocation_url: None,
            scope_separator: sep.into(),
            default_scopes: vec![],
            pkce: true,
            token_auth: TokenAuth::Post,
            extra_authorize_params: Some(BTreeMap::from([("access_type".to_string(), "offline".to_string())])),
        }
    }

    #[test]
    fn authorization_url_carries_state_pkce_scopes_and_keeps_existing_query() {
        let p = provider(",");
        let scopes = vec!["repo".to_string(), "user".to_string()];
        let url = authorization_url(&AuthorizeParams {
            provider: &p,
            client_id: "cid",
            redirect_uri: "http://127.0.0.1:9900/oauth/callback",
            scopes: &scopes,
            state: "st4te",
            code_challenge: Some("chal"),
        })
        .unwrap();
        let q: BTreeMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(q["tenant"], "a");
        assert_eq!(q["scope"], "repo,user");
        assert_eq!(q["state"], "st4te");
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["redirect_uri"], "http://127.0.0.1:9900/oauth/callback");
        assert_eq!(q["access_type"], "offline");
    }

    #[test]
    fn a_token_is_refreshed_a_little_before_it_expires() {
        let t = TokenSet { access_token: "a".into(), refresh_token: None, token_type: None, scope: None, expires_at: Some(11_000), obtained_at: 1_000 };
        assert!(!t.needs_refresh(9_000));
        assert!(t.needs_refresh(10_000), "a tenth of the lifetime is kept as margin");
        assert!(t.needs_refresh(12_000));
        assert!(!TokenSet { expires_at: None, ..t }.needs_refresh(i64::MAX), "no expiry, no refresh");
    }

    #[test]
    fn form_encoded_token_answers_are_understood() {
        let t = serde_urlencoded_like(b"access_token=abc&token_type=bearer&scope=repo").unwrap();
        assert_eq!(t.access_token.as_deref(), Some("abc"));
    }
}
