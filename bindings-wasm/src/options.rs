//! The plain option objects a page passes, read by the core's option rules
//! (`grantline_core::client::options`), the same rules as in Python and Node: unknown or
//! mistyped keys are refused by name, durations follow the one duration rule.

use grantline_core::client::options::{self as rules, Naming};
use grantline_core::model::ToolkitsQuery;
use grantline_core::{AuthorizeOptions, Error, Result};
use serde_json::Value;
use wasm_bindgen::JsValue;

pub use rules::{Options, Unit};

/// A JS options value as JSON (`undefined` and `null`: no options). What JSON cannot carry is
/// left out as `JSON.stringify` does; a value that contains itself is refused.
pub fn json(value: JsValue) -> Result<Option<Value>> {
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let text = js_sys::JSON::stringify(&value).map_err(|_| Error::validation("options", "cannot be read as JSON (does it contain itself?)"))?;
    let text = text.as_string().unwrap_or_default();
    serde_json::from_str(&text).map(Some).map_err(|e| Error::validation("options", e.to_string()))
}

/// Reads `value` as an options object whose keys (snake_case, spelled in camelCase for JS) are
/// among `allowed`.
pub fn read<'a>(value: &'a Option<Value>, allowed: &[&str]) -> Result<Options<'a>> {
    Options::new(value.as_ref(), "", Naming::Camel, allowed)
}

/// `authorize(toolkit, { callbackUrl, alias })`.
pub fn authorize(value: JsValue) -> Result<AuthorizeOptions> {
    rules::authorize_options(json(value)?.as_ref(), Naming::Camel)
}

/// `toolkits({ toolkits, isConnected, search, cursor, limit })`.
pub fn toolkits(value: JsValue) -> Result<ToolkitsQuery> {
    rules::toolkits_query(json(value)?.as_ref(), Naming::Camel)
}
