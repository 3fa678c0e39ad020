//! Python keyword arguments into the core's option structs; bad values become `ValidationError`s
//! naming the argument.

use std::time::Duration;

use grantline_core::client::options::{self as rules, Naming, Unit};
use grantline_core::model::{AccountFilter, McpCredentialRequest, ProjectPatch, ProxyRequest, SearchRequest, ToolkitsQuery, WebhookSubscriptionUpdate};
use grantline_core::{AuthorizeOptions, ClientConfig, Error, SessionOptions};
use pyo3::prelude::*;
use serde_json::{Map, Value};

use crate::errors::to_py;
use crate::json;

/// A `ValidationError` naming `field`.
pub(crate) fn invalid(field: &str, message: &str) -> PyErr {
    to_py(Error::validation(field, message))
}

/// `api_key=`, `base_url=` and `timeout=` of the client constructors.
pub fn client_config(api_key: Option<String>, base_url: Option<String>, timeout: Option<f64>) -> PyResult<ClientConfig> {
    let mut config = ClientConfig::from_parts(api_key, base_url).map_err(to_py)?;
    if let Some(t) = timeout {
        config.request_timeout = seconds("timeout", t)?;
    }
    Ok(config)
}

/// A timeout in seconds (Python's convention), by the core's one duration rule.
pub fn seconds(field: &str, value: f64) -> PyResult<Duration> {
    rules::duration(field, value, Unit::Seconds).map_err(to_py)
}

/// A wait's `timeout=` (the core's default when `None`).
pub fn wait_timeout(value: Option<f64>) -> PyResult<Duration> {
    rules::wait_timeout(value, Unit::Seconds).map_err(to_py)
}

/// The keyword arguments given (those not `None`) as the JSON object the core's option rules read.
fn kwargs<'py>(items: &[(&str, Option<&Bound<'py, PyAny>>)]) -> PyResult<Value> {
    let mut map = Map::new();
    for (name, value) in items {
        if let Some(v) = value.filter(|v| !v.is_none()) {
            map.insert(name.to_string(), json::from_py(name, v)?);
        }
    }
    Ok(Value::Object(map))
}

/// The keyword arguments of `create()`, read by the core's rules (`toolkits` and
/// `manage_connections` may be dicts, whose keys are checked there; a value of the wrong type
/// is a `ValidationError` naming it, as in every host).
pub fn session_options(
    toolkits: Option<&Bound<'_, PyAny>>,
    manage_connections: Option<&Bound<'_, PyAny>>,
    auth_configs: Option<&Bound<'_, PyAny>>,
    connected_accounts: Option<&Bound<'_, PyAny>>,
    direct_tools: Option<&Bound<'_, PyAny>>,
) -> PyResult<SessionOptions> {
    let value = kwargs(&[
        ("toolkits", toolkits),
        ("manage_connections", manage_connections),
        ("auth_configs", auth_configs),
        ("connected_accounts", connected_accounts),
        ("direct_tools", direct_tools),
    ])?;
    rules::session_options(Some(&value), Naming::Snake).map_err(to_py)
}

/// The keyword arguments of `authorize()`, read by the core's rules.
pub fn authorize_options(callback_url: Option<String>, alias: Option<String>) -> PyResult<AuthorizeOptions> {
    let value = serde_json::json!({ "callback_url": callback_url, "alias": alias });
    rules::authorize_options(Some(&value), Naming::Snake).map_err(to_py)
}

/// The keyword arguments of `toolkits()` and `all_toolkits()`, read by the core's rules (a
/// `limit` that is not a whole number, 0 or more, is a `ValidationError` naming it).
pub fn toolkits_query(
    toolkits: Option<&Bound<'_, PyAny>>,
    is_connected: Option<&Bound<'_, PyAny>>,
    search: Option<&Bound<'_, PyAny>>,
    limit: Option<&Bound<'_, PyAny>>,
    cursor: Option<&Bound<'_, PyAny>>,
) -> PyResult<ToolkitsQuery> {
    let value = kwargs(&[("toolkits", toolkits), ("is_connected", is_connected), ("search", search), ("limit", limit), ("cursor", cursor)])?;
    rules::toolkits_query(Some(&value), Naming::Snake).map_err(to_py)
}

/// The keywords of `connected_accounts.list()`, read by the core's rules: the filter, the
/// cursor and the page size.
pub fn account_filter(
    user_ids: Option<&Bound<'_, PyAny>>,
    toolkit_slugs: Option<&Bound<'_, PyAny>>,
    statuses: Option<&Bound<'_, PyAny>>,
    cursor: Option<&Bound<'_, PyAny>>,
    limit: Option<&Bound<'_, PyAny>>,
) -> PyResult<(AccountFilter, Option<String>, Option<u32>)> {
    let value = kwargs(&[("user_ids", user_ids), ("toolkit_slugs", toolkit_slugs), ("statuses", statuses), ("cursor", cursor), ("limit", limit)])?;
    rules::account_filter(Some(&value), Naming::Snake).map_err(to_py)
}

/// `cursor=` and `limit=` of a listing, read by the core's rules.
pub fn page_options(cursor: Option<&Bound<'_, PyAny>>, limit: Option<&Bound<'_, PyAny>>) -> PyResult<(Option<String>, Option<u32>)> {
    rules::page_options(Some(&kwargs(&[("cursor", cursor), ("limit", limit)])?), Naming::Snake).map_err(to_py)
}

/// `ttl_seconds=` of `client_token()`, read by the core's rules.
pub fn client_token_ttl(ttl_seconds: Option<&Bound<'_, PyAny>>) -> PyResult<Option<u64>> {
    rules::client_token_ttl(Some(&kwargs(&[("ttl_seconds", ttl_seconds)])?), Naming::Snake).map_err(to_py)
}

/// The keyword arguments of `create_mcp_credential()`, read by the core's rules.
pub fn mcp_credential_request(ttl_seconds: Option<&Bound<'_, PyAny>>, name: Option<&Bound<'_, PyAny>>) -> PyResult<McpCredentialRequest> {
    rules::mcp_credential_request(Some(&kwargs(&[("ttl_seconds", ttl_seconds), ("name", name)])?), Naming::Snake).map_err(to_py)
}

/// The keyword arguments of `webhooks.update()`, read by the core's rules (a `None` is not sent,
/// so the broker keeps what it had).
pub fn webhook_update(webhook_url: Option<String>, enabled_events: Option<Vec<String>>) -> PyResult<WebhookSubscriptionUpdate> {
    let value = serde_json::json!({ "webhook_url": webhook_url, "enabled_events": enabled_events });
    rules::webhook_update(Some(&value), Naming::Snake).map_err(to_py)
}

/// The keyword arguments of `update_project()`, read by the core's rules (`None` clears a value;
/// what is left out is kept).
pub fn project_patch(changes: Option<&Bound<'_, pyo3::types::PyDict>>) -> PyResult<ProjectPatch> {
    let value = Value::Object(json::object_arg("changes", changes.map(|d| d.as_any()))?);
    rules::project_patch(Some(&value), Naming::Snake).map_err(to_py)
}

/// The keyword arguments of `search()`, read by the core's rules.
pub fn search_request(query: String, toolkits: Option<&Bound<'_, PyAny>>, limit: Option<&Bound<'_, PyAny>>) -> PyResult<SearchRequest> {
    let value = kwargs(&[("toolkits", toolkits), ("limit", limit)])?;
    rules::search_request(query, Some(&value), Naming::Snake).map_err(to_py)
}

/// The arguments of `proxy_execute()`, read by the core's rules (`headers` and `query` become
/// the broker's parameters, and a refused one is named back as `headers.<name>`/`query.<name>`).
#[allow(clippy::too_many_arguments)]
pub fn proxy_request(
    endpoint: String,
    method: String,
    toolkit: Option<String>,
    connected_account_id: Option<String>,
    body: Option<&Bound<'_, PyAny>>,
    headers: Option<&Bound<'_, PyAny>>,
    query: Option<&Bound<'_, PyAny>>,
) -> PyResult<ProxyRequest> {
    let mut value = kwargs(&[("body", body), ("headers", headers), ("query", query)])?;
    let map = value.as_object_mut().expect("an object");
    map.insert("endpoint".into(), Value::from(endpoint));
    map.insert("method".into(), Value::from(method));
    if let Some(t) = toolkit {
        map.insert("toolkit".into(), Value::from(t));
    }
    if let Some(c) = connected_account_id {
        map.insert("connected_account_id".into(), Value::from(c));
    }
    rules::proxy_request(Some(&value), Naming::Snake).map_err(to_py)
}
