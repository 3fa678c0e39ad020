//! Reading the plain option objects a page passes, refusing unknown or mistyped keys by name.

use std::time::Duration;

use grantline_core::model::ToolkitsQuery;
use grantline_core::{AuthorizeOptions, Error, Result};
use wasm_bindgen::{JsCast, JsValue};

/// An options object as passed from JS (`undefined` and `null` mean "no options").
pub struct Options {
    obj: Option<js_sys::Object>,
    what: &'static str,
}

impl Options {
    /// Wraps `value`, checking it is an object whose keys are all in `allowed`.
    pub fn new(value: JsValue, what: &'static str, allowed: &[&str]) -> Result<Self> {
        if value.is_undefined() || value.is_null() {
            return Ok(Self { obj: None, what });
        }
        let obj = value.dyn_into::<js_sys::Object>().map_err(|_| Error::validation(what, "must be an object"))?;
        for key in js_sys::Object::keys(&obj).iter() {
            let key = key.as_string().unwrap_or_default();
            if !allowed.contains(&key.as_str()) {
                return Err(Error::validation(key, format!("unknown option of {what}; expected one of {}", allowed.join(", "))));
            }
        }
        Ok(Self { obj: Some(obj), what })
    }

    fn get(&self, key: &str) -> Option<JsValue> {
        let v = js_sys::Reflect::get(self.obj.as_ref()?, &JsValue::from_str(key)).ok()?;
        (!v.is_undefined() && !v.is_null()).then_some(v)
    }

    /// A string option.
    pub fn string(&self, key: &str) -> Result<Option<String>> {
        self.get(key).map(|v| v.as_string().ok_or_else(|| Error::validation(key, "must be a string"))).transpose()
    }

    /// A required string option.
    pub fn required_string(&self, key: &str) -> Result<String> {
        self.string(key)?.filter(|s| !s.is_empty()).ok_or_else(|| Error::validation(key, format!("is required in {}", self.what)))
    }

    /// A boolean option.
    pub fn bool(&self, key: &str) -> Result<Option<bool>> {
        self.get(key).map(|v| v.as_bool().ok_or_else(|| Error::validation(key, "must be true or false"))).transpose()
    }

    /// A whole, non-negative number option.
    pub fn count(&self, key: &str) -> Result<Option<u64>> {
        self.get(key)
            .map(|v| match v.as_f64() {
                Some(n) if n >= 0.0 && n.fract() == 0.0 && n <= u32::MAX as f64 * 1000.0 => Ok(n as u64),
                _ => Err(Error::validation(key, "must be a whole number, 0 or more")),
            })
            .transpose()
    }

    /// A list-of-strings option.
    pub fn strings(&self, key: &str) -> Result<Vec<String>> {
        let Some(v) = self.get(key) else { return Ok(Vec::new()) };
        let bad = || Error::validation(key, "must be a list of strings");
        let arr = v.dyn_into::<js_sys::Array>().map_err(|_| bad())?;
        arr.iter().map(|x| x.as_string().ok_or_else(bad)).collect()
    }

    /// A duration given in milliseconds under `key`, or `default`.
    pub fn millis(&self, key: &str, default: Duration) -> Result<Duration> {
        Ok(self.count(key)?.map(Duration::from_millis).unwrap_or(default))
    }
}

/// `authorize(toolkit, { callbackUrl, alias })`.
pub fn authorize(value: JsValue) -> Result<AuthorizeOptions> {
    let o = Options::new(value, "authorize options", &["callbackUrl", "alias"])?;
    Ok(AuthorizeOptions { callback_url: o.string("callbackUrl")?, alias: o.string("alias")? })
}

/// `toolkits({ toolkits, isConnected, search, cursor, limit })`.
pub fn toolkits(value: JsValue) -> Result<ToolkitsQuery> {
    let o = Options::new(value, "toolkits options", &["toolkits", "isConnected", "search", "cursor", "limit"])?;
    let limit = o.count("limit")?.map(|l| u32::try_from(l).map_err(|_| Error::validation("limit", "is too large"))).transpose()?;
    Ok(ToolkitsQuery {
        toolkits: o.strings("toolkits")?,
        is_connected: o.bool("isConnected")?,
        search: o.string("search")?,
        cursor: o.string("cursor")?,
        limit,
    })
}
