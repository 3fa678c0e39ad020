//! Who an MCP client is: a Client ID Metadata Document (the `client_id` is an https URL the
//! broker fetches, through [`outbound`](crate::engine::outbound): public addresses only, no
//! redirects, a size and a time limit) or a client registered with Dynamic Client Registration
//! (RFC 7591). Both are public clients (`token_endpoint_auth_method: none`): PKCE proves the
//! code's owner, the redirect URI is matched exactly (a loopback one on any port, RFC 8252).

use std::time::Duration;

use serde_json::{json, Map, Value};

use super::*;
use crate::engine::outbound::{self, Reach};
use crate::engine::store::{McpClientKind, McpClientRecord};
use crate::engine::{clock, secrets};

/// The largest metadata document the broker reads.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024;
/// How long fetching a metadata document may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest a fetched metadata document is used without fetching it again, whatever its
/// `Cache-Control: max-age` says.
pub const MAX_CACHE_MS: i64 = 24 * 3600 * 1000;
/// The most redirect URIs a client may have.
pub const MAX_REDIRECT_URIS: usize = 10;
/// The most clients Dynamic Client Registration accepts in an hour (all callers together).
pub const MAX_REGISTRATIONS_PER_HOUR: u64 = 200;
/// The longest `client_name` (and `software_id`, `software_version`), in characters.
pub const MAX_NAME_LEN: usize = 200;

/// Schemes a redirect URI may never use (they run or read something in the browser).
const FORBIDDEN_SCHEMES: &[&str] = &["javascript", "data", "file", "about", "blob", "vbscript", "ftp", "ws", "wss"];

/// A client as the consent page and the flow see it. Its texts are the client's claims:
/// untrusted, escaped where shown.
#[derive(Debug, Clone, PartialEq)]
pub struct McpClient {
    /// `mcpc_…` or the metadata document's URL.
    pub client_id: String,
    /// Registered or described by its document.
    pub kind: McpClientKind,
    /// What the client calls itself.
    pub client_name: Option<String>,
    /// Its home page.
    pub client_uri: Option<String>,
    /// Its logo.
    pub logo_uri: Option<String>,
    /// Where codes may be sent.
    pub redirect_uris: Vec<String>,
}

impl McpClient {
    fn from_record(r: &McpClientRecord) -> Result<Self> {
        let m: Value = serde_json::from_str(&r.metadata).map_err(|e| Error::Internal(format!("stored MCP client metadata: {e}")))?;
        let s = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_string);
        Ok(Self {
            client_id: r.client_id.clone(),
            kind: r.kind,
            client_name: s("client_name"),
            client_uri: s("client_uri"),
            logo_uri: s("logo_uri"),
            redirect_uris: m["redirect_uris"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect(),
        })
    }

    /// The host the client id names (a metadata document's), for the consent page.
    pub fn id_host(&self) -> Option<String> {
        url::Url::parse(&self.client_id).ok().and_then(|u| u.host_str().map(str::to_string))
    }

    /// Whether `uri` is one of the client's redirect URIs: exactly, or a loopback `http` one
    /// with another port (RFC 8252 §7.3: a native app listens on a port it picks each time).
    pub fn allows_redirect(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|r| r == uri || loopback_same_but_port(r, uri))
    }
}

pub(crate) fn is_loopback_host(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

fn loopback_same_but_port(registered: &str, asked: &str) -> bool {
    let (Ok(a), Ok(b)) = (url::Url::parse(registered), url::Url::parse(asked)) else { return false };
    a.scheme() == "http"
        && b.scheme() == "http"
        && is_loopback_host(&a)
        && a.host() == b.host()
        && a.path() == b.path()
        && a.query() == b.query()
        && b.fragment().is_none()
}

/// Checks one redirect URI: https, http to a loopback address, or an app's private-use scheme
/// (`com.example.app:/cb`); never a fragment, credentials or a scheme that runs in the page.
fn check_redirect_uri(field: &str, raw: &str) -> Result<()> {
    let bad = |why: &str| Error::validation(field, why.to_string());
    if raw.len() > outbound::MAX_URL_LEN {
        return Err(bad("is too long"));
    }
    let u = url::Url::parse(raw).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if u.fragment().is_some() {
        return Err(bad("must not have a fragment"));
    }
    if !u.username().is_empty() || u.password().is_some() {
        return Err(bad("must not carry credentials"));
    }
    match u.scheme() {
        "https" if u.host().is_some() => Ok(()),
        "http" if is_loopback_host(&u) => Ok(()),
        "http" | "https" => Err(bad("must be https, or http to a loopback address (127.0.0.1, [::1], localhost)")),
        s if FORBIDDEN_SCHEMES.contains(&s) => Err(bad(&format!("must not use the {s}: scheme"))),
        _ => Ok(()),
    }
}

/// Reads client metadata (a registration request or a metadata document) into what the broker
/// keeps, refusing what it does not implement with the field's name. `Err` is
/// `(field, why)`.
fn accept_metadata(m: &Map<String, Value>) -> std::result::Result<Map<String, Value>, (String, String)> {
    let bad = |f: &str, why: &str| (f.to_string(), why.to_string());
    let mut kept = Map::new();
    let uris = m.get("redirect_uris").and_then(Value::as_array).ok_or_else(|| bad("redirect_uris", "is required: a list of URLs"))?;
    if uris.is_empty() || uris.len() > MAX_REDIRECT_URIS {
        return Err(bad("redirect_uris", &format!("must list 1 to {MAX_REDIRECT_URIS} URLs")));
    }
    for (i, u) in uris.iter().enumerate() {
        let field = format!("redirect_uris[{i}]");
        let s = u.as_str().ok_or_else(|| bad(&field, "must be a string"))?;
        check_redirect_uri(&field, s).map_err(|e| (field.clone(), e.to_string()))?;
    }
    kept.insert("redirect_uris".into(), Value::Array(uris.clone()));
    match m.get("token_endpoint_auth_method").map(|v| v.as_str()) {
        None | Some(Some("none")) => {}
        _ => return Err(bad("token_endpoint_auth_method", "only `none` is supported: MCP clients are public clients using PKCE")),
    }
    kept.insert("token_endpoint_auth_method".into(), json!("none"));
    for (field, allowed, required) in
        [("grant_types", &["authorization_code", "refresh_token"][..], "authorization_code"), ("response_types", &["code"][..], "code")]
    {
        if let Some(v) = m.get(field) {
            let list = v.as_array().ok_or_else(|| bad(field, "must be a list"))?;
            let names: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
            if names.len() != list.len() || names.iter().any(|n| !allowed.contains(n)) || !names.contains(&required) {
                return Err(bad(field, &format!("must include {required} and only {}", allowed.join(", "))));
            }
            kept.insert(field.into(), v.clone());
        }
    }
    if let Some(v) = m.get("scope") {
        let s = v.as_str().ok_or_else(|| bad("scope", "must be a string"))?;
        if s.split_whitespace().any(|x| x != SCOPE) {
            return Err(bad("scope", &format!("the only scope is `{SCOPE}`")));
        }
        kept.insert("scope".into(), v.clone());
    }
    for field in ["jwks", "jwks_uri", "client_secret"] {
        if m.contains_key(field) {
            return Err(bad(field, "is not supported: MCP clients are public clients using PKCE"));
        }
    }
    if let Some(v) = m.get("client_name") {
        let s = v.as_str().ok_or_else(|| bad("client_name", "must be a string"))?;
        if s.chars().count() > MAX_NAME_LEN {
            return Err(bad("client_name", &format!("must be at most {MAX_NAME_LEN} characters")));
        }
        kept.insert("client_name".into(), v.clone());
    }
    for field in ["client_uri", "logo_uri", "tos_uri", "policy_uri"] {
        if let Some(v) = m.get(field) {
            let s = v.as_str().ok_or_else(|| bad(field, "must be a string"))?;
            let ok = s.len() <= outbound::MAX_URL_LEN && url::Url::parse(s).is_ok_and(|u| u.scheme() == "https");
            if !ok {
                return Err(bad(field, "must be an https URL"));
            }
            kept.insert(field.into(), v.clone());
        }
    }
    // Informational; kept as given when they have the right type.
    for field in ["software_id", "software_version", "application_type"] {
        if let Some(v) = m.get(field) {
            let s = v.as_str().ok_or_else(|| bad(field, "must be a string"))?;
            if s.chars().count() > MAX_NAME_LEN {
                return Err(bad(field, &format!("must be at most {MAX_NAME_LEN} characters")));
            }
            kept.insert(field.into(), v.clone());
        }
    }
    Ok(kept)
}

impl Engine {
    /// Dynamic Client Registration (RFC 7591): a public client with the broker's `client_id`,
    /// answered with `201` and the metadata kept; `invalid_client_metadata` /
    /// `invalid_redirect_uri` name the field refused.
    pub async fn register_mcp_client(&self, body: &Value) -> std::result::Result<Value, OAuthError> {
        let m = body.as_object().ok_or_else(|| oauth_error(400, "invalid_client_metadata", "the body must be a JSON object"))?;
        let kept = accept_metadata(m).map_err(|(field, why)| {
            let error = if field.starts_with("redirect_uris") { "invalid_redirect_uri" } else { "invalid_client_metadata" };
            oauth_error(400, error, format!("{field}: {why}"))
        })?;
        let now = clock::now_ms();
        let recent = self.store.count_mcp_clients_since(McpClientKind::Registered, now - 3_600_000).await.map_err(server_error)?;
        if recent >= MAX_REGISTRATIONS_PER_HOUR {
            return Err(oauth_error(429, "temporarily_unavailable", "too many client registrations this hour; try again later"));
        }
        let client_id = secrets::new_id(crate::model::MCP_CLIENT_ID_PREFIX).map_err(server_error)?;
        let metadata = Value::Object(kept);
        let record = McpClientRecord { client_id: client_id.clone(), kind: McpClientKind::Registered, metadata: metadata.to_string(), created_at: now, expires_at: None };
        self.store.put_mcp_client(&record).await.map_err(server_error)?;
        tracing::info!(client_id = %client_id, "MCP client registered");
        let mut answer = metadata;
        answer["client_id"] = json!(client_id);
        answer["client_id_issued_at"] = json!(now / 1000);
        Ok(answer)
    }

    /// The client a `client_id` names: a metadata document fetched now (an https URL; on a
    /// `--dev` broker also http to loopback), or a registered client. Errors name `client_id`
    /// (they are shown on a page: the redirect URI is not trusted yet).
    pub async fn resolve_mcp_client(&self, client_id: &str) -> Result<McpClient> {
        if client_id.starts_with("https://") || client_id.starts_with("http://") {
            // A document fetched before is used while its Cache-Control allows.
            let cached = self.store.mcp_client(client_id).await?.filter(|r| {
                r.kind == McpClientKind::MetadataDocument && r.expires_at.is_some_and(|t| t > clock::now_ms())
            });
            return match cached {
                Some(r) => McpClient::from_record(&r),
                None => self.fetch_client_metadata(client_id).await,
            };
        }
        let record = self.store.mcp_client(client_id).await?.filter(|r| r.kind == McpClientKind::Registered);
        McpClient::from_record(&record.ok_or_else(|| Error::validation("client_id", "unknown client: register it first"))?)
    }

    async fn fetch_client_metadata(&self, client_id: &str) -> Result<McpClient> {
        let reach = Reach::for_dev_mode(self.config.dev_mode);
        let url = outbound::check_url("client_id", client_id, reach)?;
        let bad = |why: String| Error::validation("client_id", why);
        if url.path() == "/" || url.path().split('/').any(|s| s == "." || s == "..") {
            return Err(bad("a client metadata document URL must have a path (and no . or .. segments)".into()));
        }
        let http = outbound::client_as("grantline-mcp-authorization", reach, FETCH_TIMEOUT)?;
        let mut resp = http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| bad(format!("the client metadata document could not be fetched: {}", without_url(&e))))?;
        let fresh_for = resp
            .headers()
            .get(reqwest::header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .map_or(0, cache_lifetime_ms);
        if resp.status() != reqwest::StatusCode::OK {
            return Err(bad(format!("fetching the client metadata document answered {}", resp.status().as_u16())));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| bad(format!("reading the client metadata document: {}", without_url(&e))))? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_DOCUMENT_BYTES {
                return Err(bad(format!("the client metadata document is larger than {MAX_DOCUMENT_BYTES} bytes")));
            }
        }
        let doc: Value = serde_json::from_slice(&body).map_err(|e| bad(format!("the client metadata document is not JSON: {e}")))?;
        let m = doc.as_object().ok_or_else(|| bad("the client metadata document must be a JSON object".into()))?;
        if m.get("client_id").and_then(Value::as_str) != Some(client_id) {
            return Err(bad("the client metadata document's client_id must be its own URL".into()));
        }
        if !m.get("client_name").is_some_and(Value::is_string) {
            return Err(bad("the client metadata document must have a client_name".into()));
        }
        let kept = accept_metadata(m).map_err(|(field, why)| bad(format!("the client metadata document's {field} {why}")))?;
        let now = clock::now_ms();
        let record = McpClientRecord {
            client_id: client_id.to_string(),
            kind: McpClientKind::MetadataDocument,
            metadata: Value::Object(kept).to_string(),
            created_at: now,
            expires_at: Some(now + fresh_for),
        };
        self.store.put_mcp_client(&record).await?;
        McpClient::from_record(&record)
    }
}

/// How long a `Cache-Control` value lets a document be used: its `max-age` (at most
/// [`MAX_CACHE_MS`]), nothing with `no-store`, `no-cache` or no `max-age`.
fn cache_lifetime_ms(header: &str) -> i64 {
    let directives: Vec<String> = header.split(',').map(|d| d.trim().to_ascii_lowercase()).collect();
    if directives.iter().any(|d| d == "no-store" || d == "no-cache") {
        return 0;
    }
    directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age=").and_then(|n| n.trim_matches('"').parse::<i64>().ok()))
        .map_or(0, |secs| secs.clamp(0, MAX_CACHE_MS / 1000) * 1000)
}

/// A fetch error's text without its URL (already known to the caller).
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(u) = e.url() {
        s = s.replace(&format!(" ({u})"), "").replace(u.as_str(), "the document");
    }
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        s.push_str(&format!(": {inner}"));
        source = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(m: Value) -> String {
        accept_metadata(m.as_object().unwrap()).unwrap_err().0
    }

    #[test]
    fn registration_keeps_what_it_implements_and_names_what_it_refuses() {
        let ok = json!({"redirect_uris": ["http://127.0.0.1:3000/cb", "https://app.example/cb", "com.example.app:/cb"],
            "client_name": "Agent", "grant_types": ["authorization_code", "refresh_token"], "token_endpoint_auth_method": "none"});
        assert_eq!(accept_metadata(ok.as_object().unwrap()).unwrap()["client_name"], "Agent");
        assert_eq!(refused(json!({})), "redirect_uris");
        assert_eq!(refused(json!({"redirect_uris": ["http://app.example/cb"]})), "redirect_uris[0]");
        assert_eq!(refused(json!({"redirect_uris": ["https://a.example/cb", "javascript:alert(1)"]})), "redirect_uris[1]");
        assert_eq!(refused(json!({"redirect_uris": ["https://a.example/cb#x"]})), "redirect_uris[0]");
        let base = |k: &str, v: Value| {
            let mut m = json!({"redirect_uris": ["https://a.example/cb"]});
            m[k] = v;
            m
        };
        assert_eq!(refused(base("token_endpoint_auth_method", json!("client_secret_post"))), "token_endpoint_auth_method");
        assert_eq!(refused(base("grant_types", json!(["client_credentials"]))), "grant_types");
        assert_eq!(refused(base("response_types", json!(["token"]))), "response_types");
        assert_eq!(refused(base("jwks_uri", json!("https://a.example/jwks"))), "jwks_uri");
        assert_eq!(refused(base("scope", json!("admin"))), "scope");
        assert_eq!(refused(base("logo_uri", json!("http://a.example/l.png"))), "logo_uri");
    }

    #[test]
    fn a_document_is_cached_as_long_as_its_cache_control_says_and_a_day_at_most() {
        assert_eq!(cache_lifetime_ms("public, max-age=300"), 300_000);
        assert_eq!(cache_lifetime_ms("max-age=999999999"), MAX_CACHE_MS);
        for none in ["no-store", "max-age=300, no-cache", "public", "max-age=soon", "max-age=-5"] {
            assert_eq!(cache_lifetime_ms(none), 0, "{none}");
        }
    }

    #[test]
    fn a_loopback_redirect_may_change_its_port_and_nothing_else() {
        let c = McpClient {
            client_id: "mcpc_1".into(),
            kind: McpClientKind::Registered,
            client_name: None,
            client_uri: None,
            logo_uri: None,
            redirect_uris: vec!["http://127.0.0.1:3000/cb".into(), "https://app.example/cb".into()],
        };
        assert!(c.allows_redirect("http://127.0.0.1:4567/cb"));
        assert!(c.allows_redirect("https://app.example/cb"));
        assert!(!c.allows_redirect("http://127.0.0.1:4567/other"));
        assert!(!c.allows_redirect("http://localhost:3000/cb"));
        assert!(!c.allows_redirect("https://app.example:444/cb"));
        assert!(!c.allows_redirect("https://app.example/cb?x=1"));
    }
}
