//! Whole numbers in request bodies. JSON has one number type, and JSON Schema's `integer` is a
//! number without a fractional part, so `576.0` is an integer on the wire: every integer field
//! a request takes accepts it (as Stripe's and GitHub's APIs do), and refuses `576.5`.

use serde::de::{Error, Unexpected, Visitor};
use serde::{Deserialize, Deserializer};

/// A non-negative whole number, written `576` or `576.0`.
struct Whole(u64);

impl<'de> Deserialize<'de> for Whole {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Whole;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a non-negative whole number")
            }
            fn visit_u64<E: Error>(self, n: u64) -> Result<Whole, E> {
                Ok(Whole(n))
            }
            fn visit_i64<E: Error>(self, n: i64) -> Result<Whole, E> {
                u64::try_from(n).map(Whole).map_err(|_| E::invalid_value(Unexpected::Signed(n), &self))
            }
            fn visit_f64<E: Error>(self, n: f64) -> Result<Whole, E> {
                // 2^64 is the first float past u64::MAX.
                if n.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&n) {
                    Ok(Whole(n as u64))
                } else {
                    Err(E::invalid_value(Unexpected::Float(n), &self))
                }
            }
        }
        d.deserialize_any(V)
    }
}

/// `#[serde(default, deserialize_with = "whole::option")]` for an optional integer field.
pub(crate) fn option<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<u64>,
{
    match Option::<Whole>::deserialize(d)? {
        None => Ok(None),
        Some(Whole(n)) => T::try_from(n).map(Some).map_err(|_| D::Error::invalid_value(Unexpected::Unsigned(n), &"a smaller whole number")),
    }
}

#[cfg(test)]
mod tests {
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default, deserialize_with = "super::option")]
        n: Option<u32>,
    }

    fn n(json: &str) -> Result<Option<u32>, serde_json::Error> {
        serde_json::from_str::<Body>(json).map(|b| b.n)
    }

    #[test]
    fn whole_floats_are_integers_and_fractions_are_refused() {
        assert_eq!(n(r#"{"n": 576}"#).unwrap(), Some(576));
        assert_eq!(n(r#"{"n": 576.0}"#).unwrap(), Some(576));
        assert_eq!(n(r#"{"n": null}"#).unwrap(), None);
        assert_eq!(n("{}").unwrap(), None);
        for bad in [r#"{"n": 576.5}"#, r#"{"n": -1}"#, r#"{"n": "5"}"#, r#"{"n": 4294967296}"#, r#"{"n": 1e300}"#] {
            assert!(n(bad).is_err(), "{bad}");
        }
    }
}
