//! The schema of Composio's request fields for features Grantline lacks (answers to input
//! requests, inline custom tools, a caller's credential, …): each is accepted only when it asks
//! for nothing, and the OpenAPI document says exactly which values those are.

/// Whether a value asks for nothing: null, `""`, `[]` or `{}`. The one rule behind every field
/// that accepts only an empty value ([`EmptyValue`] in the OpenAPI document).
pub fn is_empty_value(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => true,
        serde_json::Value::String(s) => s.is_empty(),
        serde_json::Value::Array(a) => a.is_empty(),
        serde_json::Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

/// OpenAPI schema of a value that asks for nothing: null, `""`, `[]` or `{}` (see [`is_empty_value`]).
#[cfg(feature = "openapi")]
pub struct EmptyValue;

#[cfg(feature = "openapi")]
mod schemas {
    use utoipa::openapi::schema::{AnyOfBuilder, ArrayBuilder, ObjectBuilder, Schema, Type};
    use utoipa::openapi::RefOr;
    use utoipa::{PartialSchema, ToSchema};

    use super::EmptyValue;

    impl PartialSchema for EmptyValue {
        fn schema() -> RefOr<Schema> {
            AnyOfBuilder::new()
                .description(Some("Only a value that asks for nothing: null, \"\", [] or {}."))
                .item(ObjectBuilder::new().schema_type(Type::Null))
                .item(ObjectBuilder::new().schema_type(Type::String).max_length(Some(0)))
                .item(ArrayBuilder::new().max_items(Some(0)))
                .item(ObjectBuilder::new().schema_type(Type::Object).max_properties(Some(0)))
                .into()
        }
    }

    impl ToSchema for EmptyValue {}

    /// `experimental` of a tool run or search: an empty value, or an object of empty values.
    pub fn no_custom_tools() -> Schema {
        let empty = || RefOr::Ref(utoipa::openapi::Ref::from_schema_name(EmptyValue::name()));
        Schema::AnyOf(
            AnyOfBuilder::new()
                .item(empty())
                .item(ObjectBuilder::new().schema_type(Type::Object).additional_properties(Some(empty())))
                .build(),
        )
    }
}

#[cfg(feature = "openapi")]
pub(crate) use schemas::no_custom_tools;
