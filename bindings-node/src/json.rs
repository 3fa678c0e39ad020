//! JS values as the JSON the broker takes (tool arguments, proxy bodies), naming the field
//! of anything JSON cannot carry, so bad input is a `ValidationError` and not a bare napi error.

use grantline_core::Error;
use napi::bindgen_prelude::*;
use napi::JsValue;
use serde_json::{Map, Value};

/// `value` as JSON; `field` names it in the error (a function, a symbol, a cycle, …).
pub fn value(field: &str, value: Unknown) -> std::result::Result<Value, Error> {
    // SAFETY: `Value::from_napi_value` checks the JS type of every node itself.
    unsafe { value.cast::<Value>() }.map_err(|e| Error::validation(field, format!("cannot be sent as JSON: {}", e.reason)))
}

/// `value` as a JSON object (absent means `{}`), naming the first bad key as `field.key`.
pub fn object(field: &str, value: Option<Unknown>) -> std::result::Result<Map<String, Value>, Error> {
    let Some(v) = value else { return Ok(Map::new()) };
    let not_object = || Error::validation(field, "must be an object, e.g. { owner: 'octocat' }");
    let is_plain = v.get_type().map_err(|_| not_object())? == ValueType::Object && !v.is_array().map_err(|_| not_object())?;
    if !is_plain {
        return Err(not_object());
    }
    // SAFETY: checked above that it is a (non-array) object.
    let obj = unsafe { v.cast::<Object>() }.map_err(|_| not_object())?;
    let keys = Object::keys(&obj).map_err(|_| not_object())?;
    let mut out = Map::new();
    for key in keys {
        let name = format!("{field}.{key}");
        let item: Unknown = obj.get_named_property(&key).map_err(|e| Error::validation(&name, e.reason.clone()))?;
        // Like JSON.stringify: a key set to undefined is left out.
        if item.get_type().map_err(|e| Error::validation(&name, e.reason.clone()))? != ValueType::Undefined {
            out.insert(key, self::value(&name, item)?);
        }
    }
    Ok(out)
}
