//! OAuth 2.0 against a provider: the authorization URL and the code exchange.

use serde::{Deserialize, Serialize};

use crate::catalog::{OAuth2Def, TokenAuth};
use crate::engine::provider::body::{describe_cap, read_capped, BodyError, MAX_OAUTH_ANSWER_BYTES};
use crate::{Error, Result};

/// The OAuth error codes that mean the grant itself is dead, so the account must be connected
/// again: RFC 6749's `invalid_grant`, `invalid_client` and `unauthorized_client`, and the names
/// GitHub (`bad_refresh_token`, `incorrect_client_credentials`) and Slack
/// (`invalid_refresh_token`) give the same answers. Any other failure of a token endpoint (a
/// rate limit, a timeout, a 5xx, a firewall's HTML page) is transient and ends nothing.
pub const DEAD_GRANT_ERRORS: &[&str] =
    &["invalid_grant", "invalid_client", "unauthorized_client", "bad_refresh_token", "incorrect_client_credentials", "invalid_refresh_token"];

/// Seconds a caller is told to wait after a transient token-endpoint failure that named no
/// `Retry-After` of its own.
pub const DEFAULT_RETRY_AFTER_SECS: u64 = 5;

/// The longest wait a provider's `Retry-After` is passed on with (a bigger one is clamped).
pub const MAX_RETRY_AFTER_SECS: u64 = 300;

/// The longest access-token lifetime believed (ten years): a larger `expires_in` is clamped, so
/// no provider value can overflow the expiry time.
pub const MAX_EXPIRES_IN_SECS: i64 = 10 * 365 * 24 * 3600;

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

/// The credentials a successful exchange yields, as sealed in the vault. Its `Debug` prints no
/// token.
#[derive(Clone, Serialize, Deserialize)]
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

impl std::fmt::Debug for TokenSet {
    // Never print tokens: only whether each is there.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenSet")
            .field("access_token", &"<redacted>")
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .field("token_type", &self.token_type)
            .field("scope", &self.scope)
            .field("expires_at", &self.expires_at)
            .field("obtained_at", &self.obtained_at)
            .finish()
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
    /// The provider said the grant is dead ([`DEAD_GRANT_ERRORS`], or an answer without an
    /// access token): retrying will not help.
    Refused(String),
    /// The provider was rate limiting, failing, unreachable or answered something unexpected:
    /// it may work after `retry_after` seconds.
    Unavailable { reason: String, retry_after: u64 },
}

impl TokenError {
    /// The reason, fit for `status_reason` (no secrets).
    pub fn reason(&self) -> &str {
        match self {
            TokenError::Refused(r) | TokenError::Unavailable { reason: r, .. } => r,
        }
    }

    /// A transient failure with the default wait.
    fn unavailable(reason: impl Into<String>) -> Self {
        TokenError::Unavailable { reason: reason.into(), retry_after: DEFAULT_RETRY_AFTER_SECS }
    }
}

/// The wait a provider asked for in `Retry-After` (whole seconds), clamped to
/// 1..=[`MAX_RETRY_AFTER_SECS`]; [`DEFAULT_RETRY_AFTER_SECS`] when it named none (or an HTTP
/// date, which token endpoints do not send in practice).
pub fn retry_after_secs(headers: &reqwest::header::HeaderMap) -> u64 {
    let value = headers.get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok());
    let secs = value.and_then(|v| v.trim().parse::<u64>().ok());
    secs.unwrap_or(DEFAULT_RETRY_AFTER_SECS).clamp(1, MAX_RETRY_AFTER_SECS)
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
        500.. => Err(TokenError::unavailable(format!("revocation endpoint failed (HTTP {status})"))),
        _ => {
            let body = read_capped(resp, MAX_OAUTH_ANSWER_BYTES).await.ok();
            let body: Option<TokenResponse> = body.and_then(|b| serde_json::from_slice(&b).ok());
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
        TokenError::unavailable(format!("{what} {how}"))
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
    let retry_after = retry_after_secs(resp.headers());
    let unavailable = |reason: String| TokenError::Unavailable { reason, retry_after };
    let body = read_capped(resp, MAX_OAUTH_ANSWER_BYTES).await.map_err(|e| match e {
        BodyError::TooLarge => unavailable(format!("token endpoint answered more than {}", describe_cap(MAX_OAUTH_ANSWER_BYTES))),
        BodyError::CutOff => unavailable("token endpoint response was cut off".into()),
    })?;
    let parsed: Option<TokenResponse> = serde_json::from_slice(&body)
        .ok()
        .or_else(|| serde_urlencoded_like(&body));
    let Some(t) = parsed else {
        return Err(unavailable(format!("token endpoint answered HTTP {} with a body that is not a token response", status.as_u16())));
    };
    if !status.is_success() || t.error.is_some() || t.ok == Some(false) {
        // Only an OAuth error code that means the grant is dead ends it (GitHub and Slack send
        // theirs in a 200); a rate limit, a timeout, a 5xx or an unknown answer may pass.
        let code = t.error.as_deref().map(|e| truncate(&clean(e), 60));
        let dead = code.as_deref().is_some_and(|c| DEAD_GRANT_ERRORS.contains(&c));
        let what = match status.as_u16() {
            200..=299 if dead => format!("token endpoint refused the {grant}"),
            200..=299 => "token endpoint answered with an error".to_string(),
            s if dead => format!("token endpoint refused the {grant} (HTTP {s})"),
            s => format!("token endpoint failed (HTTP {s})"),
        };
        let reason = match (code, t.error_description) {
            (Some(code), Some(d)) => format!("{what}: {code}: {}", truncate(&clean(&d), 200)),
            (Some(code), None) => format!("{what}: {code}"),
            (None, _) => what,
        };
        return Err(if dead { TokenError::Refused(reason) } else { unavailable(reason) });
    }
    let access_token = t
        .access_token
        .filter(|a| !a.is_empty())
        .ok_or_else(|| TokenError::Refused("token endpoint answered without an access_token".into()))?;
    let expires_in = t.expires_in.as_ref().and_then(expires_in_secs);
    let scope = t.scope.map(|s| match s {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    });
    Ok(TokenSet {
        access_token,
        refresh_token: t.refresh_token,
        token_type: t.token_type,
        scope,
        expires_at: expires_in.map(|s| now.saturating_add(s.saturating_mul(1000))),
        obtained_at: now,
    })
}

/// A provider's `expires_in` (a number or a numeric string) as whole seconds, clamped to
/// 0..=[`MAX_EXPIRES_IN_SECS`] so no value overflows the expiry time; `None` when it is not a
/// number at all.
fn expires_in_secs(v: &serde_json::Value) -> Option<i64> {
    let secs: f64 = match v {
        serde_json::Value::Number(n) => n.as_f64()?,
        serde_json::Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    if secs.is_nan() {
        return None;
    }
    // `as` saturates a float at the integer's bounds; the clamp does the rest.
    Some((secs as i64).clamp(0, MAX_EXPIRES_IN_SECS))
}

/// Text from a provider without control characters (newlines included), for reasons.
fn clean(s: &str) -> String {
    s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

impl TokenSet {
    /// Whether the access token should be refreshed before use at `now`: past its expiry,
    /// less a margin of a tenth of its lifetime (at most a minute) for the call in flight.
    pub fn needs_refresh(&self, now: i64) -> bool {
        match self.expires_at {
            None => false,
            Some(at) => {
                let margin = (at.saturating_sub(self.obtained_at) / 10).clamp(0, 60_000);
                now >= at.saturating_sub(margin)
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

    /// A one-connection-at-a-time HTTP server on 127.0.0.1 that answers every request with
    /// `head` and then `body_len` bytes of `x` (streamed, so a huge body is never built).
    pub(crate) fn provider_answering(head: &str, body_len: usize) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let head = head.to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut buf = [0u8; 8192];
                let _ = stream.read(&mut buf);
                if stream.write_all(head.as_bytes()).is_err() {
                    continue;
                }
                let chunk = vec![b'x'; 64 * 1024];
                let mut left = body_len;
                while left > 0 {
                    let n = left.min(chunk.len());
                    if stream.write_all(&chunk[..n]).is_err() {
                        break; // the broker stopped reading
                    }
                    left -= n;
                }
            }
        });
        url
    }

    async fn refresh_against(url: &str) -> std::result::Result<TokenSet, TokenError> {
        let mut p = provider(" ");
        p.token_url = format!("{url}/token");
        let client = ClientAuth { provider: &p, client_id: "cid", client_secret: "secret" };
        refresh(&reqwest::Client::new(), &client, "rt", 1_000).await
    }

    fn answer(status: &str, headers: &str, body: &str) -> String {
        format!("HTTP/1.1 {status}\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}", body.len())
    }

    #[tokio::test]
    async fn only_a_dead_grant_is_refused_everything_else_is_transient() {
        let json = "content-type: application/json\r\n";
        let cases = [
            (answer("400 Bad Request", json, r#"{"error":"invalid_grant"}"#), None),
            (answer("401 Unauthorized", json, r#"{"error":"invalid_client"}"#), None),
            (answer("400 Bad Request", json, r#"{"error":"unauthorized_client","error_description":"no"}"#), None),
            (answer("200 OK", json, r#"{"error":"bad_refresh_token"}"#), None),
            (answer("429 Too Many Requests", &format!("{json}retry-after: 7\r\n"), r#"{"error":"rate_limited"}"#), Some(7)),
            (answer("429 Too Many Requests", "retry-after: 99999\r\n", ""), Some(MAX_RETRY_AFTER_SECS)),
            (answer("408 Request Timeout", "", ""), Some(DEFAULT_RETRY_AFTER_SECS)),
            (answer("403 Forbidden", "content-type: text/html\r\n", "<html>blocked by the firewall</html>"), Some(DEFAULT_RETRY_AFTER_SECS)),
            (answer("400 Bad Request", json, r#"{"error":"invalid_request"}"#), Some(DEFAULT_RETRY_AFTER_SECS)),
            (answer("503 Service Unavailable", json, r#"{"error":"temporarily_unavailable"}"#), Some(DEFAULT_RETRY_AFTER_SECS)),
        ];
        for (raw, transient) in cases {
            let url = provider_answering(&raw, 0);
            let got = refresh_against(&url).await.unwrap_err();
            match (transient, &got) {
                (None, TokenError::Refused(_)) => {}
                (Some(want), TokenError::Unavailable { retry_after, .. }) => assert_eq!(*retry_after, want, "{raw}"),
                _ => panic!("{raw} gave {got:?}"),
            }
        }
        let unreachable = refresh_against("http://127.0.0.1:9").await.unwrap_err();
        assert!(matches!(unreachable, TokenError::Unavailable { .. }), "{unreachable:?}");
    }

    #[tokio::test]
    async fn a_huge_token_answer_is_cut_at_the_cap() {
        // No Content-Length: the size shows only while reading; 200 MB are offered.
        let url = provider_answering("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n", 200 << 20);
        let err = refresh_against(&url).await.unwrap_err();
        assert!(matches!(err, TokenError::Unavailable { .. }), "{err:?}");
        assert!(err.reason().contains("more than 64 KiB"), "the error names the cap: {}", err.reason());
        // With a Content-Length over the cap, nothing is read at all.
        let url = provider_answering(&format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", 1 << 30), 0);
        assert!(refresh_against(&url).await.unwrap_err().reason().contains("64 KiB"));
    }

    #[test]
    fn expires_in_is_clamped_so_it_never_overflows() {
        let secs = |v: serde_json::Value| expires_in_secs(&v);
        assert_eq!(secs(serde_json::json!(3600)), Some(3600));
        assert_eq!(secs(serde_json::json!("3600")), Some(3600));
        assert_eq!(secs(serde_json::json!(3600.5)), Some(3600));
        assert_eq!(secs(serde_json::json!(u64::MAX)), Some(MAX_EXPIRES_IN_SECS));
        assert_eq!(secs(serde_json::json!(i64::MAX)), Some(MAX_EXPIRES_IN_SECS));
        assert_eq!(secs(serde_json::json!(1e300)), Some(MAX_EXPIRES_IN_SECS));
        assert_eq!(secs(serde_json::json!("99999999999999999999999999")), Some(MAX_EXPIRES_IN_SECS));
        assert_eq!(secs(serde_json::json!(-5)), Some(0));
        assert_eq!(secs(serde_json::json!("soon")), None);
        // A token that says it lives for ever is not refreshed on every call.
        let now = 1_700_000_000_000;
        let t = TokenSet {
            access_token: "a".into(),
            refresh_token: None,
            token_type: None,
            scope: None,
            expires_at: Some(now + secs(serde_json::json!(i64::MAX)).unwrap() * 1000),
            obtained_at: now,
        };
        assert!(!t.needs_refresh(now + 1_000));
        assert!(!TokenSet { expires_at: Some(i64::MAX), obtained_at: i64::MIN, ..t.clone() }.needs_refresh(now), "no overflow");
        assert!(!format!("{t:?}").contains("\"a\""), "Debug prints no token");
    }

    #[test]
    fn form_encoded_token_answers_are_understood() {
        let t = serde_urlencoded_like(b"access_token=abc&token_type=bearer&scope=repo").unwrap();
        assert_eq!(t.access_token.as_deref(), Some("abc"));
    }
}
