//! The core's wire types as the plain camelCase objects a page reads (the same shapes as the Node SDK).

use grantline_core::model::{ConnectedAccount, Page, ToolkitItem};
use serde_json::{json, Value};
use wasm_bindgen::JsValue;

/// A JSON value as a JS value.
pub fn to_js(v: &Value) -> JsValue {
    js_sys::JSON::parse(&v.to_string()).unwrap_or(JsValue::NULL)
}

/// `{ id, userId, toolkit, status, statusReason, alias, isDisabled, isActive, authConfigId, createdAt, updatedAt }`.
pub fn account(a: &ConnectedAccount) -> Value {
    json!({
        "id": a.id,
        "userId": a.user_id,
        "toolkit": a.toolkit.slug,
        "status": a.status.as_str(),
        "statusReason": a.status_reason,
        "alias": a.alias,
        "isDisabled": a.is_disabled,
        "isActive": a.is_active(),
        "authConfigId": a.auth_config.id,
        "createdAt": a.created_at,
        "updatedAt": a.updated_at,
    })
}

/// `{ slug, name, description, logo, isNoAuth, enabled, isConnected, connection }`.
pub fn toolkit(t: &ToolkitItem) -> Value {
    json!({
        "slug": t.slug,
        "name": t.name,
        "description": t.meta.description,
        "logo": t.meta.logo,
        "isNoAuth": t.is_no_auth,
        "enabled": t.enabled,
        "isConnected": t.is_connected(),
        "connection": t.connected_account.as_ref().map(|a| json!({
            "isActive": a.is_active(),
            "connectedAccountId": a.id,
            "status": a.status.as_str(),
            "authConfigId": a.auth_config.id,
            "authScheme": a.auth_config.auth_scheme,
        })),
    })
}

/// `{ items, nextCursor, totalPages, currentPage, totalItems }`.
pub fn toolkits_page(p: &Page<ToolkitItem>) -> Value {
    json!({
        "items": p.items.iter().map(toolkit).collect::<Vec<_>>(),
        "nextCursor": p.next_cursor,
        "totalPages": p.total_pages,
        "currentPage": p.current_page,
        "totalItems": p.total_items,
    })
}
