//! Python keyword arguments into the core's option structs; bad values become `ValidationError`s
//! naming the argument.

use std::collections::BTreeMap;
use std::time::Duration;

use grantline_core::model::{AccountFilter, AccountStatus, ProxyParamIn, ProxyParameter, ProxyRequest, SearchRequest, ToolkitsQuery};
use grantline_core::{AuthorizeOptions, ClientConfig, Error, SessionOptions};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};

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

/// A timeout in seconds (Python's convention) as a `Duration`.
pub fn seconds(field: &str, value: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| invalid(field, "must be a finite number of seconds, 0 or more"))
}

/// `toolkits=`: a list of slugs, or `{"enable": [...]}` / `{"disable": [...]}`.
fn toolkits_arg(value: &Bound<'_, PyAny>, options: &mut SessionOptions) -> PyResult<()> {
    let Ok(dict) = value.cast::<PyDict>() else {
        options.toolkits = value.extract().map_err(|_| invalid("toolkits", "expected a list of toolkit slugs"))?;
        return Ok(());
    };
    for (key, list) in dict.iter() {
        let key: String = key.extract().map_err(|_| invalid("toolkits", "keys must be \"enable\" or \"disable\""))?;
        let field = format!("toolkits.{key}");
        let slugs: Vec<String> = list.extract().map_err(|_| invalid(&field, "expected a list of toolkit slugs"))?;
        match key.as_str() {
            "enable" => options.toolkits = slugs,
            "disable" => options.disabled_toolkits = slugs,
            _ => return Err(invalid(&field, "unknown key; use \"enable\" or \"disable\"")),
        }
    }
    Ok(())
}

/// `manage_connections=`: a bool, or `{"enable": bool, "callback_url": str, "wait_for_connections": bool}`.
fn manage_connections_arg(value: &Bound<'_, PyAny>, options: &mut SessionOptions) -> PyResult<()> {
    if let Ok(b) = value.cast::<PyBool>() {
        options.manage_connections = Some(b.is_true());
        return Ok(());
    }
    let dict = value.cast::<PyDict>().map_err(|_| invalid("manage_connections", "expected a bool or a dict"))?;
    for (key, v) in dict.iter() {
        let key: String = key.extract().map_err(|_| invalid("manage_connections", "keys must be strings"))?;
        let field = format!("manage_connections.{key}");
        match key.as_str() {
            "enable" => options.manage_connections = Some(v.extract().map_err(|_| invalid(&field, "expected a bool"))?),
            "callback_url" => {
                options.manage_connections_callback_url = Some(v.extract().map_err(|_| invalid(&field, "expected a string"))?)
            }
            "wait_for_connections" => options.wait_for_connections = Some(v.extract().map_err(|_| invalid(&field, "expected a bool"))?),
            _ => return Err(invalid(&field, "unknown key; use \"enable\", \"callback_url\" or \"wait_for_connections\"")),
        }
    }
    Ok(())
}

/// The keyword arguments of `create()`.
pub fn session_options(
    toolkits: Option<&Bound<'_, PyAny>>,
    manage_connections: Option<&Bound<'_, PyAny>>,
    auth_configs: Option<BTreeMap<String, String>>,
    connected_accounts: Option<BTreeMap<String, String>>,
    direct_tools: Option<Vec<String>>,
) -> PyResult<SessionOptions> {
    let mut options = SessionOptions::default();
    if let Some(t) = toolkits.filter(|t| !t.is_none()) {
        toolkits_arg(t, &mut options)?;
    }
    if let Some(m) = manage_connections.filter(|m| !m.is_none()) {
        manage_connections_arg(m, &mut options)?;
    }
    options.auth_configs = auth_configs.unwrap_or_default();
    options.connected_accounts = connected_accounts.unwrap_or_default();
    options.direct_tools = direct_tools.unwrap_or_default();
    Ok(options)
}

/// The keyword arguments of `authorize()`.
pub fn authorize_options(callback_url: Option<String>, alias: Option<String>) -> AuthorizeOptions {
    AuthorizeOptions { callback_url, alias }
}

/// The keyword arguments of `toolkits()`.
pub fn toolkits_query(
    toolkits: Option<Vec<String>>,
    is_connected: Option<bool>,
    search: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
) -> ToolkitsQuery {
    ToolkitsQuery { cursor, limit, toolkits: toolkits.unwrap_or_default(), is_connected, search }
}

/// The filter keywords of `connected_accounts.list()`.
pub fn account_filter(
    user_ids: Option<Vec<String>>,
    toolkit_slugs: Option<Vec<String>>,
    statuses: Option<Vec<String>>,
) -> PyResult<AccountFilter> {
    let statuses = statuses
        .unwrap_or_default()
        .iter()
        .enumerate()
        .map(|(i, s)| AccountStatus::parse(s).ok_or_else(|| invalid(&format!("statuses[{i}]"), &format!("unknown status {s:?}"))))
        .collect::<PyResult<Vec<_>>>()?;
    Ok(AccountFilter { user_ids: user_ids.unwrap_or_default(), toolkit_slugs: toolkit_slugs.unwrap_or_default(), statuses, ..Default::default() })
}

/// The keyword arguments of `search()`.
pub fn search_request(query: String, toolkits: Option<Vec<String>>, limit: Option<u32>) -> SearchRequest {
    SearchRequest::use_case(query, toolkits.unwrap_or_default(), limit)
}

/// `headers=` or `query=` of `proxy_execute()`: a dict of strings, as proxy parameters.
fn proxy_params(field: &str, value: Option<&Bound<'_, PyAny>>, location: ProxyParamIn, out: &mut Vec<ProxyParameter>) -> PyResult<()> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(());
    };
    let dict = value.cast::<PyDict>().map_err(|_| invalid(field, "expected a dict of strings"))?;
    for (name, v) in dict.iter() {
        let name: String = name.extract().map_err(|_| invalid(field, "names must be strings"))?;
        let value: String = v.extract().map_err(|_| invalid(&format!("{field}.{name}"), "expected a string"))?;
        out.push(ProxyParameter { name, value, location });
    }
    Ok(())
}

/// The arguments of `proxy_execute()`.
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
    let body = body.filter(|b| !b.is_none()).map(|b| json::from_py("body", b)).transpose()?;
    let mut parameters = Vec::new();
    proxy_params("headers", headers, ProxyParamIn::Header, &mut parameters)?;
    proxy_params("query", query, ProxyParamIn::Query, &mut parameters)?;
    Ok(ProxyRequest { endpoint, method, toolkit, connected_account_id, body, parameters, ..Default::default() })
}
