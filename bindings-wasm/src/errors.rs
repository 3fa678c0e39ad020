//! Failures as instances of the JS classes in `errors.js`, each with a stable `code`.

use std::cell::RefCell;

use grantline_core::{Error, BASE_CLASS};
use serde_json::json;
use wasm_bindgen::prelude::*;

thread_local! {
    // The classes `index.js` registers: `{ GrantlineError, NotFoundError, … }`.
    static CLASSES: RefCell<Option<js_sys::Object>> = const { RefCell::new(None) };
}

/// Called once by `index.js` with the error classes of `errors.js`.
#[wasm_bindgen(js_name = registerErrorClasses)]
pub fn register_error_classes(classes: js_sys::Object) {
    CLASSES.with(|c| *c.borrow_mut() = Some(classes));
}

/// What went wrong, as the page sees it.
#[derive(Debug)]
pub enum Failure {
    /// A core error (validation, broker, connection outcome, timeout, …).
    Core(Error),
    /// The browser refused to open the Connect Link popup.
    PopupBlocked,
    /// The user closed the popup before the connection finished.
    PopupClosed {
        /// The account that stayed unfinished.
        connected_account_id: String,
    },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

impl Failure {
    /// The class name, message and extra fields of the JS error.
    fn describe(&self) -> (&'static str, String, serde_json::Value) {
        match self {
            Failure::Core(e) => (e.class_name(), e.to_string(), e.js_details()),
            Failure::PopupBlocked => (
                "PopupBlockedError",
                "the browser blocked the Connect Link popup; call connect() from a click handler, or use { redirect: true }".into(),
                json!({"code": "POPUP_BLOCKED"}),
            ),
            Failure::PopupClosed { connected_account_id } => (
                "PopupClosedError",
                "the Connect Link popup was closed before the connection finished".into(),
                json!({"code": "POPUP_CLOSED", "connectedAccountId": connected_account_id}),
            ),
        }
    }
}

impl From<Failure> for JsValue {
    fn from(f: Failure) -> JsValue {
        let (class, message, details) = f.describe();
        let details = js_sys::JSON::parse(&details.to_string()).unwrap_or(JsValue::UNDEFINED);
        // Its class, else GrantlineError (a kind `errors.js` lacks), else a plain Error below.
        let ctor = CLASSES.with(|c| {
            let classes = c.borrow();
            let lookup = |name: &str| {
                let found = js_sys::Reflect::get(classes.as_ref()?, &JsValue::from_str(name)).ok()?;
                found.dyn_into::<js_sys::Function>().ok()
            };
            lookup(class).or_else(|| lookup(BASE_CLASS))
        });
        if let Some(ctor) = ctor {
            let args = js_sys::Array::of2(&JsValue::from_str(&message), &details);
            if let Ok(err) = js_sys::Reflect::construct(&ctor, &args) {
                return err;
            }
        }
        // Not registered (the raw wasm module used directly): a plain Error with the same fields.
        let err = js_sys::Error::new(&message);
        err.set_name(class);
        if let Ok(obj) = details.dyn_into::<js_sys::Object>() {
            js_sys::Object::assign(&err, &obj);
        }
        err.into()
    }
}

/// Result of the binding's internals; converted to a JS rejection at the boundary.
pub type Outcome<T> = std::result::Result<T, Failure>;
