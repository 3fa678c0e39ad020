//! JS values as JSON: option objects (read by the core's option rules), tool arguments and
//! proxy bodies. Anything JSON cannot carry is a `ValidationError` naming the field, and so is a
//! value nested deeper than the core's `MAX_JSON_DEPTH` (which also stops one that contains
//! itself), rather than a crash.

use grantline_core::client::options::{too_deep, MAX_JSON_DEPTH};
use grantline_core::Error;
use napi::bindgen_prelude::*;
use napi::JsValue;
use serde_json::{Map, Number, Value};

/// `value` as JSON; `field` names it in the error (a function, a symbol, a cycle, …).
pub fn value(field: &str, value: Unknown) -> std::result::Result<Value, Error> {
    convert(field, value, 0)
}

/// An options argument as JSON (`undefined` and `null`: no options); its keys are named as
/// they are (`body.f`), the way the core's option rules name them.
pub fn options(value: Option<Unknown>) -> std::result::Result<Option<Value>, Error> {
    let converted = value.map(|v| convert("", v, 0)).transpose().map_err(|e| match e {
        Error::Validation { field, message } if field.is_empty() => Error::Validation { field: "options".into(), message },
        other => other,
    })?;
    Ok(converted.filter(|v| !v.is_null()))
}

/// `value` as a JSON object (absent means `{}`), naming the first bad key as `field.key`.
pub fn object(field: &str, value: Option<Unknown>) -> std::result::Result<Map<String, Value>, Error> {
    match value.map(|v| self::value(field, v)).transpose()? {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(Error::validation(field, "must be an object, e.g. { owner: 'octocat' }")),
    }
}

fn convert(field: &str, v: Unknown, depth: usize) -> std::result::Result<Value, Error> {
    if depth > MAX_JSON_DEPTH {
        return Err(too_deep(field));
    }
    let bad = |e: napi::Error| Error::validation(field, format!("cannot be sent as JSON: {}", e.reason));
    // SAFETY (each `cast`): the value's JS type was checked just before.
    Ok(match v.get_type().map_err(bad)? {
        ValueType::Undefined | ValueType::Null => Value::Null,
        ValueType::Boolean => Value::Bool(unsafe { v.cast::<bool>() }.map_err(bad)?),
        ValueType::String => Value::String(unsafe { v.cast::<String>() }.map_err(bad)?),
        ValueType::Number => number(field, unsafe { v.cast::<f64>() }.map_err(bad)?)?,
        ValueType::Object if v.is_array().map_err(bad)? => {
            let array = unsafe { v.cast::<Array>() }.map_err(bad)?;
            let mut out = Vec::with_capacity(array.len() as usize);
            for i in 0..array.len() {
                let item: Unknown = array.get(i).map_err(bad)?.ok_or_else(|| Error::validation(format!("{field}[{i}]"), "is missing"))?;
                out.push(convert(&format!("{field}[{i}]"), item, depth + 1)?);
            }
            Value::Array(out)
        }
        ValueType::Object => {
            let obj = unsafe { v.cast::<Object>() }.map_err(bad)?;
            let mut out = Map::new();
            for key in Object::keys(&obj).map_err(bad)? {
                let name = if field.is_empty() { key.clone() } else { format!("{field}.{key}") };
                let item: Unknown = obj.get_named_property(&key).map_err(|e| Error::validation(&name, e.reason.clone()))?;
                // Like JSON.stringify: a key set to undefined is left out.
                if item.get_type().map_err(|e| Error::validation(&name, e.reason.clone()))? != ValueType::Undefined {
                    out.insert(key, convert(&name, item, depth + 1)?);
                }
            }
            Value::Object(out)
        }
        other => return Err(Error::validation(field, format!("cannot be sent as JSON (a {})", type_name(other)))),
    })
}

/// A JS number as JSON: whole numbers as integers (`5`, not `5.0`), others as they are.
fn number(field: &str, n: f64) -> std::result::Result<Value, Error> {
    if n.fract() == 0.0 && n.abs() < 9_007_199_254_740_992.0 {
        return Ok(Value::Number(Number::from(n as i64)));
    }
    Number::from_f64(n).map(Value::Number).ok_or_else(|| Error::validation(field, "must be a finite number"))
}

fn type_name(t: ValueType) -> &'static str {
    match t {
        ValueType::Function => "function",
        ValueType::Symbol => "symbol",
        ValueType::BigInt => "bigint",
        ValueType::External => "native object",
        _ => "value JSON cannot carry",
    }
}
