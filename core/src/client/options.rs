//! The SDKs' options, read once for every host: each binding turns what its caller passed into
//! JSON (keyword arguments, a JS object) and these functions check it and build the client's
//! option structs, so an unknown key, a mistyped value or a bad duration gets the same error in
//! Python, Node and the browser, named in that host's spelling (`manage_connections.callback_url`
//! in Python, `manageConnections.callbackUrl` in JS).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Map, Value};

use super::{AuthorizeOptions, SessionOptions};
use crate::model::{
    AccountFilter, AccountStatus, ProjectPatch, ProxyParamIn, ProxyParameter, ProxyRequest, SearchRequest, ToolkitsQuery, WebhookSubscriptionUpdate,
};
use crate::{Error, Result};

/// How long `wait_for_connection` waits when the caller does not say.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);
/// Page size `all_toolkits` walks the catalog with.
pub const ALL_TOOLKITS_PAGE: u32 = 100;
/// Deepest nesting a value sent as JSON may have (tool arguments, proxy bodies): deeper is
/// refused with [`too_deep`], which also stops a value that contains itself.
pub const MAX_JSON_DEPTH: usize = 64;
/// How long the browser's `connect()` waits for the user by default: the broker's default
/// Connect Link lifetime, so the wait ends when the link would.
pub const CONNECT_WAIT: Duration = Duration::from_secs(600);
/// How long the browser's `completeRedirect()` waits for the broker to confirm the outcome the
/// Connect Link returned with.
pub const CONFIRM_WAIT: Duration = Duration::from_secs(10);

/// The error for a value nested deeper than [`MAX_JSON_DEPTH`] at `field`, the same in every
/// host (Python's and Node's JSON conversions stop there).
pub fn too_deep(field: &str) -> Error {
    Error::validation(field, format!("nests deeper than {MAX_JSON_DEPTH} levels (or contains itself)"))
}

/// How a host spells option names: Python's `snake_case` or JavaScript's `camelCase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Naming {
    /// `callback_url` (Python).
    Snake,
    /// `callbackUrl` (Node, the browser).
    Camel,
}

impl Naming {
    /// `name` (given in snake_case) in this host's spelling.
    pub fn spell(self, name: &str) -> Cow<'_, str> {
        match self {
            Naming::Snake => Cow::Borrowed(name),
            Naming::Camel => {
                let mut out = String::with_capacity(name.len());
                let mut upper = false;
                for c in name.chars() {
                    match (c, upper) {
                        ('_', _) => upper = true,
                        (c, true) => {
                            out.extend(c.to_uppercase());
                            upper = false;
                        }
                        (c, false) => out.push(c),
                    }
                }
                Cow::Owned(out)
            }
        }
    }
}

/// The unit a host gives durations in: Python seconds, JavaScript milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Seconds (Python's `timeout=2.5`).
    Seconds,
    /// Milliseconds (JavaScript's `timeoutMs: 2500`).
    Millis,
}

/// The one duration rule: a finite number, 0 or more, in the host's unit (fractions allowed).
pub fn duration(field: &str, value: f64, unit: Unit) -> Result<Duration> {
    let seconds = match unit {
        Unit::Seconds => value,
        Unit::Millis => value / 1000.0,
    };
    let what = match unit {
        Unit::Seconds => "seconds",
        Unit::Millis => "milliseconds",
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| Error::validation(field, format!("must be a finite number of {what}, 0 or more")))
}

/// The timeout of `wait_for_connection(timeout)` as a host passed it (Python's `timeout`
/// seconds, JavaScript's `timeoutMs` milliseconds): [`DEFAULT_WAIT`] when absent, else by the
/// one duration rule, named in the host's spelling.
pub fn wait_timeout(value: Option<f64>, unit: Unit) -> Result<Duration> {
    let field = match unit {
        Unit::Seconds => "timeout",
        Unit::Millis => "timeoutMs",
    };
    value.map_or(Ok(DEFAULT_WAIT), |v| duration(field, v, unit))
}

/// One options object as the caller passed it, checked against the keys it may have.
pub struct Options<'a> {
    map: Option<&'a Map<String, Value>>,
    /// Its own name in errors (`manage_connections`), empty at the top.
    path: String,
    naming: Naming,
}

impl<'a> Options<'a> {
    /// Reads `value` (`None` or `null`: no options) as an object whose keys are among `allowed`
    /// (given in snake_case), naming the first other key.
    pub fn new(value: Option<&'a Value>, path: &str, naming: Naming, allowed: &[&str]) -> Result<Self> {
        let map = match value {
            None | Some(Value::Null) => None,
            Some(Value::Object(map)) => Some(map),
            Some(_) => return Err(Error::validation(if path.is_empty() { "options" } else { path }, "must be an object")),
        };
        let options = Self { map, path: path.to_string(), naming };
        if let Some(key) = options.keys().find(|k| !allowed.iter().any(|a| naming.spell(a) == **k)) {
            let expected: Vec<_> = allowed.iter().map(|a| naming.spell(a).into_owned()).collect();
            return Err(Error::validation(options.field(key), format!("unknown option; expected one of {}", expected.join(", "))));
        }
        Ok(options)
    }

    fn keys(&self) -> impl Iterator<Item = &String> {
        self.map.into_iter().flat_map(|m| m.keys())
    }

    /// The name of `key` (already in host spelling) in errors.
    fn field(&self, key: &str) -> String {
        match self.path.is_empty() {
            true => key.to_string(),
            false => format!("{}.{key}", self.path),
        }
    }

    /// The value of option `name` (snake_case) and its name in errors; `null` counts as absent.
    fn get(&self, name: &str) -> (Option<&'a Value>, String) {
        let key = self.naming.spell(name);
        let value = self.map.and_then(|m| m.get(key.as_ref())).filter(|v| !v.is_null());
        (value, self.field(&key))
    }

    /// A string option.
    pub fn string(&self, name: &str) -> Result<Option<String>> {
        match self.get(name) {
            (None, _) => Ok(None),
            (Some(Value::String(s)), _) => Ok(Some(s.clone())),
            (Some(_), field) => Err(Error::validation(field, "must be a string")),
        }
    }

    /// A boolean option.
    pub fn bool(&self, name: &str) -> Result<Option<bool>> {
        match self.get(name) {
            (None, _) => Ok(None),
            (Some(Value::Bool(b)), _) => Ok(Some(*b)),
            (Some(_), field) => Err(Error::validation(field, "must be true or false")),
        }
    }

    /// A whole number option, 0 or more, that fits in `u32`.
    pub fn count(&self, name: &str) -> Result<Option<u32>> {
        match self.get(name) {
            (None, _) => Ok(None),
            (Some(v), field) => match v.as_f64() {
                Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64 => Ok(Some(n as u32)),
                _ => Err(Error::validation(field, "must be a whole number, 0 or more")),
            },
        }
    }

    /// A duration option in `unit`.
    pub fn duration(&self, name: &str, unit: Unit) -> Result<Option<Duration>> {
        match self.get(name) {
            (None, _) => Ok(None),
            (Some(v), field) => match v.as_f64() {
                Some(n) => duration(&field, n, unit).map(Some),
                None => Err(Error::validation(field, "must be a number")),
            },
        }
    }

    /// A list-of-strings option (absent: empty).
    pub fn strings(&self, name: &str) -> Result<Vec<String>> {
        match self.get(name) {
            (None, _) => Ok(Vec::new()),
            (Some(Value::Array(items)), field) => items
                .iter()
                .enumerate()
                .map(|(i, v)| v.as_str().map(str::to_string).ok_or_else(|| Error::validation(format!("{field}[{i}]"), "must be a string")))
                .collect(),
            (Some(_), field) => Err(Error::validation(field, "must be a list of strings")),
        }
    }

    /// A string-to-string map option (absent: empty).
    pub fn string_map(&self, name: &str) -> Result<BTreeMap<String, String>> {
        match self.get(name) {
            (None, _) => Ok(BTreeMap::new()),
            (Some(Value::Object(map)), field) => map
                .iter()
                .map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())).ok_or_else(|| Error::validation(format!("{field}.{k}"), "must be a string")))
                .collect(),
            (Some(_), field) => Err(Error::validation(field, "must be an object of strings")),
        }
    }

    /// An options object nested under `name`, with its own allowed keys.
    pub fn nested(&self, name: &str, allowed: &[&str]) -> Result<Options<'a>> {
        let (value, field) = self.get(name);
        Options::new(value, &field, self.naming, allowed)
    }

    /// The raw value of option `name`.
    pub fn value(&self, name: &str) -> Option<&'a Value> {
        self.get(name).0
    }

    /// A string option that `null` clears: absent is `None`, `null` is `Some(None)`.
    pub fn clearable_string(&self, name: &str) -> Result<Option<Option<String>>> {
        let key = self.naming.spell(name);
        match self.map.and_then(|m| m.get(key.as_ref())) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
            Some(_) => Err(Error::validation(self.field(&key), "must be a string, or null to clear it")),
        }
    }
}

/// The options of `create(user_id, …)`.
pub fn session_options(value: Option<&Value>, naming: Naming) -> Result<SessionOptions> {
    let o = Options::new(value, "", naming, &["toolkits", "manage_connections", "auth_configs", "connected_accounts", "direct_tools"])?;
    let mut out = SessionOptions::default();
    match o.value("toolkits") {
        None => {}
        Some(Value::Array(_)) => out.toolkits = o.strings("toolkits")?,
        Some(Value::Object(_)) => {
            let t = o.nested("toolkits", &["enable", "disable"])?;
            out.toolkits = t.strings("enable")?;
            out.disabled_toolkits = t.strings("disable")?;
        }
        Some(_) => return Err(Error::validation(naming.spell("toolkits"), "must be a list of toolkit slugs, or { enable } / { disable }")),
    }
    match o.value("manage_connections") {
        None => {}
        Some(Value::Bool(b)) => out.manage_connections = Some(*b),
        Some(Value::Object(_)) => {
            let m = o.nested("manage_connections", &["enable", "callback_url", "wait_for_connections"])?;
            out.manage_connections = m.bool("enable")?;
            out.manage_connections_callback_url = m.string("callback_url")?;
            out.wait_for_connections = m.bool("wait_for_connections")?;
        }
        Some(_) => return Err(Error::validation(naming.spell("manage_connections"), "must be true, false or an object")),
    }
    out.auth_configs = o.string_map("auth_configs")?;
    out.connected_accounts = o.string_map("connected_accounts")?;
    out.direct_tools = o.strings("direct_tools")?;
    Ok(out)
}

/// The options of `authorize(toolkit, …)`.
pub fn authorize_options(value: Option<&Value>, naming: Naming) -> Result<AuthorizeOptions> {
    let o = Options::new(value, "", naming, &["callback_url", "alias"])?;
    Ok(AuthorizeOptions { callback_url: o.string("callback_url")?, alias: o.string("alias")? })
}

/// The query of `toolkits(…)` and `all_toolkits(…)`.
pub fn toolkits_query(value: Option<&Value>, naming: Naming) -> Result<ToolkitsQuery> {
    let o = Options::new(value, "", naming, &["toolkits", "is_connected", "search", "limit", "cursor"])?;
    Ok(ToolkitsQuery {
        toolkits: o.strings("toolkits")?,
        is_connected: o.bool("is_connected")?,
        search: o.string("search")?,
        limit: o.count("limit")?,
        cursor: o.string("cursor")?,
    })
}

/// The filter of `connected_accounts.list(…)`, with its cursor and limit.
pub fn account_filter(value: Option<&Value>, naming: Naming) -> Result<(AccountFilter, Option<String>, Option<u32>)> {
    let o = Options::new(value, "", naming, &["user_ids", "toolkit_slugs", "statuses", "cursor", "limit"])?;
    let field = naming.spell("statuses");
    let statuses = o
        .strings("statuses")?
        .iter()
        .enumerate()
        .map(|(i, s)| AccountStatus::parse(s).ok_or_else(|| Error::validation(format!("{field}[{i}]"), format!("unknown status {s:?}"))))
        .collect::<Result<Vec<_>>>()?;
    let filter = AccountFilter { user_ids: o.strings("user_ids")?, toolkit_slugs: o.strings("toolkit_slugs")?, statuses, ..Default::default() };
    Ok((filter, o.string("cursor")?, o.count("limit")?))
}

/// The request of `search(query, …)`.
pub fn search_request(query: String, value: Option<&Value>, naming: Naming) -> Result<SearchRequest> {
    let o = Options::new(value, "", naming, &["toolkits", "limit"])?;
    Ok(SearchRequest::use_case(query, o.strings("toolkits")?, o.count("limit")?))
}

/// The lifetime asked of `client_token(…)`.
pub fn client_token_ttl(value: Option<&Value>, naming: Naming) -> Result<Option<u64>> {
    let o = Options::new(value, "", naming, &["ttl_seconds"])?;
    Ok(o.count("ttl_seconds")?.map(u64::from))
}

/// What `create_mcp_credential(…)` asks: its lifetime and label.
pub fn mcp_credential_request(value: Option<&Value>, naming: Naming) -> Result<crate::model::McpCredentialRequest> {
    let o = Options::new(value, "", naming, &["ttl_seconds", "name"])?;
    Ok(crate::model::McpCredentialRequest { ttl_seconds: o.count("ttl_seconds")?.map(u64::from), name: o.string("name")? })
}

/// The account named by `execute(…, {connected_account_id})`.
pub fn execute_account(value: Option<&Value>, naming: Naming) -> Result<Option<String>> {
    Options::new(value, "", naming, &["connected_account_id"])?.string("connected_account_id")
}

/// The callback URL of `connected_accounts.refresh(id, …)`.
pub fn refresh_callback_url(value: Option<&Value>, naming: Naming) -> Result<Option<String>> {
    Options::new(value, "", naming, &["callback_url"])?.string("callback_url")
}

/// The page asked of `webhooks.list(…)` and `webhooks.deliveries(id, …)`: its cursor and limit.
pub fn page_options(value: Option<&Value>, naming: Naming) -> Result<(Option<String>, Option<u32>)> {
    let o = Options::new(value, "", naming, &["cursor", "limit"])?;
    Ok((o.string("cursor")?, o.count("limit")?))
}

/// The change of `webhooks.update(id, …)`: a new receiver URL and/or new event types (the broker
/// checks both).
pub fn webhook_update(value: Option<&Value>, naming: Naming) -> Result<WebhookSubscriptionUpdate> {
    let o = Options::new(value, "", naming, &["webhook_url", "enabled_events"])?;
    let enabled_events = o.value("enabled_events").map(|_| o.strings("enabled_events")).transpose()?;
    Ok(WebhookSubscriptionUpdate { webhook_url: o.string("webhook_url")?, enabled_events, version: None })
}

/// The change of `update_project(…)`: only the options given change; `null` (`None`) clears one.
pub fn project_patch(value: Option<&Value>, naming: Naming) -> Result<ProjectPatch> {
    let o = Options::new(value, "", naming, &["display_name", "support_url", "user_verification_url", "verify_connect_links"])?;
    Ok(ProjectPatch {
        display_name: o.clearable_string("display_name")?,
        support_url: o.clearable_string("support_url")?,
        user_verification_url: o.clearable_string("user_verification_url")?,
        verify_connect_links: o.bool("verify_connect_links")?,
    })
}

/// The request of `proxy_execute(…)`: `headers` and `query` objects become the broker's
/// `parameters` (headers first, each sorted by name), so a refused parameter is named back as
/// `headers.<name>` or `query.<name>` by [`proxy_error`].
pub fn proxy_request(value: Option<&Value>, naming: Naming) -> Result<ProxyRequest> {
    let o = Options::new(value, "", naming, &["endpoint", "method", "toolkit", "connected_account_id", "body", "headers", "query"])?;
    let endpoint = o.string("endpoint")?.ok_or_else(|| Error::validation("endpoint", "is required"))?;
    let mut parameters = Vec::new();
    for (name, location) in [("headers", ProxyParamIn::Header), ("query", ProxyParamIn::Query)] {
        for (name, value) in o.string_map(name)? {
            parameters.push(ProxyParameter { name, value, location });
        }
    }
    Ok(ProxyRequest {
        endpoint,
        method: o.string("method")?.unwrap_or_else(|| "GET".into()),
        toolkit: o.string("toolkit")?,
        connected_account_id: o.string("connected_account_id")?,
        body: o.value("body").cloned(),
        parameters,
        ..Default::default()
    })
}

/// A proxy error as the caller named things: the broker's `parameters[i]…` becomes
/// `headers.<name>` or `query.<name>`.
pub fn proxy_error(e: Error, request: &ProxyRequest) -> Error {
    let Error::Validation { field, message } = e else { return e };
    let named = field
        .strip_prefix("parameters[")
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(i, _)| i.parse::<usize>().ok())
        .and_then(|i| request.parameters.get(i))
        .map(|p| format!("{}.{}", if p.location == ProxyParamIn::Header { "headers" } else { "query" }, p.name));
    Error::Validation { field: named.unwrap_or(field), message }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field(e: Error) -> String {
        match e {
            Error::Validation { field, .. } => field,
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn a_project_change_keeps_what_is_left_out_and_clears_what_is_null() {
        let change = json!({"displayName": "Acme", "supportUrl": null, "verifyConnectLinks": true});
        let patch = project_patch(Some(&change), Naming::Camel).unwrap();
        assert_eq!(
            patch,
            ProjectPatch {
                display_name: Some(Some("Acme".into())),
                support_url: Some(None),
                user_verification_url: None,
                verify_connect_links: Some(true),
            }
        );
        assert_eq!(field(project_patch(Some(&json!({"display_name": 3})), Naming::Snake).unwrap_err()), "display_name");
        assert_eq!(field(project_patch(Some(&json!({"logo": "x.png"})), Naming::Camel).unwrap_err()), "logo");
        assert_eq!(field(project_patch(Some(&json!({"supportUrl": "x"})), Naming::Snake).unwrap_err()), "supportUrl");
    }

    #[test]
    fn an_unknown_key_is_refused_in_the_hosts_spelling_nested_too() {
        let typo = json!({"manageConnections": {"enabel": true}});
        assert_eq!(field(session_options(Some(&typo), Naming::Camel).unwrap_err()), "manageConnections.enabel");
        let typo = json!({"manage_connections": {"callbackUrl": "x"}});
        assert_eq!(field(session_options(Some(&typo), Naming::Snake).unwrap_err()), "manage_connections.callbackUrl");
        assert_eq!(field(authorize_options(Some(&json!({"callback_url": "x"})), Naming::Camel).unwrap_err()), "callback_url");
    }

    #[test]
    fn every_host_reads_the_same_session_options() {
        let py = json!({"toolkits": {"disable": ["slack"]}, "manage_connections": {"callback_url": "https://a/b", "wait_for_connections": true}});
        let js = json!({"toolkits": {"disable": ["slack"]}, "manageConnections": {"callbackUrl": "https://a/b", "waitForConnections": true}});
        let (py, js) = (session_options(Some(&py), Naming::Snake).unwrap(), session_options(Some(&js), Naming::Camel).unwrap());
        assert_eq!(py, js);
        assert_eq!(py.wait_for_connections, Some(true));
        assert_eq!(py.disabled_toolkits, vec!["slack".to_string()]);
    }

    #[test]
    fn mistyped_values_name_their_field() {
        assert_eq!(field(session_options(Some(&json!({"toolkits": ["a", 3]})), Naming::Snake).unwrap_err()), "toolkits[1]");
        assert_eq!(field(toolkits_query(Some(&json!({"isConnected": "yes"})), Naming::Camel).unwrap_err()), "isConnected");
        assert_eq!(field(toolkits_query(Some(&json!({"limit": 1.5})), Naming::Camel).unwrap_err()), "limit");
        assert_eq!(field(account_filter(Some(&json!({"statuses": ["ACTIVE", "nope"]})), Naming::Snake).unwrap_err()), "statuses[1]");
        assert_eq!(field(proxy_request(Some(&json!({"endpoint": "/u", "headers": {"x": 1}})), Naming::Camel).unwrap_err()), "headers.x");
    }

    #[test]
    fn one_duration_rule_fractions_allowed_negatives_and_nan_refused() {
        assert_eq!(duration("timeoutMs", 1.5, Unit::Millis).unwrap(), Duration::from_micros(1500));
        assert_eq!(duration("timeout", 2.5, Unit::Seconds).unwrap(), Duration::from_millis(2500));
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(field(duration("timeout", bad, Unit::Seconds).unwrap_err()), "timeout");
        }
        assert_eq!(wait_timeout(None, Unit::Millis).unwrap(), DEFAULT_WAIT);
        assert_eq!(wait_timeout(Some(1.5), Unit::Millis).unwrap(), Duration::from_micros(1500), "the browser's waitForConnection(1.5) too");
        assert_eq!(field(wait_timeout(Some(-1.0), Unit::Millis).unwrap_err()), "timeoutMs");
        assert_eq!(field(wait_timeout(Some(f64::NAN), Unit::Seconds).unwrap_err()), "timeout");
    }

    #[test]
    fn proxy_parameters_are_named_back_as_the_caller_gave_them() {
        let request = proxy_request(Some(&json!({"endpoint": "/u", "headers": {"Authorization": "x"}, "query": {"q": "1"}})), Naming::Camel).unwrap();
        let refused = Error::validation("parameters[0].name", "the broker signs the request");
        assert_eq!(field(proxy_error(refused, &request)), "headers.Authorization");
        let refused = Error::validation("parameters[1].value", "too long");
        assert_eq!(field(proxy_error(refused, &request)), "query.q");
    }

    #[test]
    fn a_webhook_update_reads_only_what_was_given_and_refuses_other_keys() {
        let js = json!({"enabledEvents": ["grantline.connected_account.deleted"]});
        let change = webhook_update(Some(&js), Naming::Camel).unwrap();
        assert_eq!(change.enabled_events.as_deref(), Some(&["grantline.connected_account.deleted".to_string()][..]));
        assert_eq!(change.webhook_url, None, "an absent key is not sent, so the broker keeps the URL");
        let py = json!({"webhook_url": "https://a/hook"});
        assert_eq!(webhook_update(Some(&py), Naming::Snake).unwrap().enabled_events, None);
        assert_eq!(field(webhook_update(Some(&json!({"webhook_url": "x"})), Naming::Camel).unwrap_err()), "webhook_url");
        assert_eq!(field(webhook_update(Some(&json!({"enabledEvents": "x"})), Naming::Camel).unwrap_err()), "enabledEvents");
        assert_eq!(field(page_options(Some(&json!({"limit": -1})), Naming::Camel).unwrap_err()), "limit");
        assert_eq!(field(page_options(Some(&json!({"cursour": "c"})), Naming::Camel).unwrap_err()), "cursour");
        assert_eq!(page_options(None, Naming::Camel).unwrap(), (None, None));
    }

    #[test]
    fn names_are_spelled_for_each_host() {
        assert_eq!(Naming::Camel.spell("connected_account_id"), "connectedAccountId");
        assert_eq!(Naming::Snake.spell("connected_account_id"), "connected_account_id");
    }
}
