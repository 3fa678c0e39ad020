//! The core's host views (`grantline_core::client::views`) as the plain objects a page reads:
//! the views carry the rules and spell their keys in camelCase (the same shapes as the Node
//! SDK); this file only serializes them.

use grantline_core::client::views::{AccountView, PageView, ToolkitView};
use grantline_core::model::{ConnectedAccount, Page, ToolkitItem};
use wasm_bindgen::JsValue;

/// `{ id, userId, toolkit, status, statusReason, alias, isDisabled, isActive, authConfigId,
/// createdAt, updatedAt, reconnecting }`.
pub fn account(a: ConnectedAccount) -> JsValue {
    parse(serde_json::to_string(&AccountView::from(a)))
}

/// `{ items: Toolkit[], nextCursor, totalPages, currentPage, totalItems }`.
pub fn toolkits_page(p: Page<ToolkitItem>) -> JsValue {
    parse(serde_json::to_string(&PageView::<ToolkitView>::from(p)))
}

/// A serialized view as a JS value (through JSON, which the page parses: no serializer of JS
/// values is compiled in).
fn parse(text: serde_json::Result<String>) -> JsValue {
    text.ok().and_then(|t| js_sys::JSON::parse(&t).ok()).unwrap_or(JsValue::NULL)
}
