//! Nested request objects read only from JSON objects. serde's derive reads a struct from an
//! array too (`[true]` as `{"enable": true}`), and inside a flattened body no deserializer
//! wrapper can stop it; so the fields that hold a settings struct say it themselves.

use serde::de::{DeserializeOwned, Error};
use serde::{Deserialize, Deserializer};

/// `#[serde(default, deserialize_with = "object::option")]`: null or an object, nothing else.
pub(crate) fn option<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::Null => Ok(None),
        v @ serde_json::Value::Object(_) => serde_json::from_value(v).map(Some).map_err(D::Error::custom),
        _ => Err(D::Error::custom("expected an object")),
    }
}
