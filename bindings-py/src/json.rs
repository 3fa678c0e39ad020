//! JSON values between the core (`serde_json`) and Python (dict, list, str, int, float, bool,
//! None). Python input that is not JSON raises a `ValidationError` naming the exact spot, e.g.
//! `arguments.items[2]`.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::{Map, Number, Value};

use crate::options::invalid;

/// Deeper than this is a cycle or a mistake, not tool arguments; it also bounds the recursion
/// (the core's limit, the same in every host).
const MAX_DEPTH: usize = grantline_core::client::options::MAX_JSON_DEPTH;

/// A JSON value as the Python object it reads as.
pub fn to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => PyFloat::new(py, n.as_f64().unwrap_or(f64::NAN)).into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => PyList::new(py, items.iter().map(|v| to_py(py, v)).collect::<PyResult<Vec<_>>>()?)?.into_any(),
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

/// A Python object as JSON; `field` names it in errors.
pub fn from_py(field: &str, obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    from_py_at(field, obj, 0)
}

/// A keyword argument that must be a JSON object (a dict with string keys); `None` is `{}`.
pub fn object_arg(field: &str, obj: Option<&Bound<'_, PyAny>>) -> PyResult<Map<String, Value>> {
    match obj.filter(|o| !o.is_none()) {
        None => Ok(Map::new()),
        Some(o) if o.cast::<PyDict>().is_err() => Err(invalid(field, &format!("expected a dict, got {}", type_name(o)))),
        Some(o) => match from_py(field, o)? {
            Value::Object(map) => Ok(map),
            _ => unreachable!("a dict converts to an object"),
        },
    }
}

fn from_py_at(field: &str, obj: &Bound<'_, PyAny>, depth: usize) -> PyResult<Value> {
    if depth > MAX_DEPTH {
        return Err(crate::errors::to_py(grantline_core::client::options::too_deep(field)));
    }
    if obj.is_none() {
        return Ok(Value::Null);
    }
    // bool before int: Python's bool is an int.
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.cast::<PyInt>().is_ok() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(i.into());
        }
        return obj.extract::<u64>().map(Value::from).map_err(|_| invalid(field, "integer out of JSON's 64-bit range"));
    }
    if let Ok(f) = obj.cast::<PyFloat>() {
        return Number::from_f64(f.value()).map(Value::Number).ok_or_else(|| invalid(field, "NaN and infinity are not JSON"));
    }
    if obj.cast::<PyString>().is_ok() {
        return obj.extract::<String>().map(Value::String);
    }
    if let Ok(dict) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in dict.iter() {
            let key: String = k.extract().map_err(|_| invalid(field, &format!("keys must be strings, got {}", type_name(&k))))?;
            let value = from_py_at(&format!("{field}.{key}"), &v, depth + 1)?;
            map.insert(key, value);
        }
        return Ok(Value::Object(map));
    }
    if obj.cast::<PyList>().is_ok() || obj.cast::<PyTuple>().is_ok() {
        let items = obj.try_iter()?.enumerate().map(|(i, item)| from_py_at(&format!("{field}[{i}]"), &item?, depth + 1));
        return items.collect::<PyResult<Vec<_>>>().map(Value::Array);
    }
    Err(invalid(field, &format!("{} is not JSON", type_name(obj))))
}

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "object".into())
}
