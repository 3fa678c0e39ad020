//! Python keyword arguments into the core's option structs; bad values become `ValidationError`s
//! naming the argument.

use std::collections::BTreeMap;
use std::time::Duration;

use grantline_core::model::{AccountFilter, AccountStatus, ToolkitsQuery};
use grantline_core::{AuthorizeOptions, ClientConfig, Error, SessionOptions};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict};

use crate::errors::to_py;

/// A `ValidationError` naming `field`.
fn invalid(field: &str, message: &str) -> PyErr {
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

/// `manage_connections=`: a bool, or `{"enable": bool, "callback_url": str}`.
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
            _ => return Err(invalid(&field, "unknown key; use \"enable\" or \"callback_url\"")),
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
    Ok(AccountFilter { user_ids: user_ids.unwrap_or_default(), toolkit_slugs: toolkit_slugs.unwrap_or_default(), statuses })
}
