//! The core's typed errors as instances of the JS classes in `errors.js`.

use std::cell::RefCell;

use grantline_core::{Error, BASE_CLASS};
use napi::bindgen_prelude::*;
use napi_derive::napi;
use serde_json::json;

thread_local! {
    // The classes `index.js` registers; only ever touched on the JS thread.
    static CLASSES: RefCell<Option<ObjectRef<false>>> = const { RefCell::new(None) };
}

/// Called once by `index.js` with `{ GrantlineError, NotFoundError, … }`.
#[napi]
pub fn register_error_classes(classes: Object) -> Result<()> {
    let r = classes.create_ref::<false>()?;
    CLASSES.with(|c| *c.borrow_mut() = Some(r));
    Ok(())
}

/// What went wrong, as the JS side shows it.
pub enum Failure {
    /// A core error.
    Core(Error),
    /// The caller's `AbortSignal` fired.
    Aborted,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Core(e)
    }
}

/// The class name, message and fields of the JS error for `f`.
fn describe(f: &Failure) -> (&'static str, String, serde_json::Value) {
    match f {
        Failure::Aborted => ("AbortError", "the wait was aborted".into(), json!({"code": "ABORTED"})),
        Failure::Core(e) => (e.class_name(), e.to_string(), e.js_details()),
    }
}

type ErrorClass<'a> = Function<'a, FnArgs<(String, Unknown<'a>)>, Unknown<'a>>;

/// Builds the JS error object for `f` (on the JS thread) and wraps it so napi throws it as is:
/// an instance of its class, else of GrantlineError (a kind `errors.js` lacks), else (no classes
/// registered: `native.js` used alone) a plain `Error` named after the class; `.code` and the
/// kind's fields are kept in every case.
pub fn to_js(env: &Env, f: Failure) -> napi::Error {
    let (class, message, details) = describe(&f);
    let built = (|| -> Result<napi::Error> {
        let classes = CLASSES.with(|c| c.borrow().as_ref().map(|r| r.get_value(env))).transpose()?;
        let ctor = classes.and_then(|classes| {
            classes.get_named_property::<ErrorClass>(class).or_else(|_| classes.get_named_property::<ErrorClass>(BASE_CLASS)).ok()
        });
        let js_details = env.to_js_value(&details)?;
        if let Some(ctor) = ctor {
            return Ok(napi::Error::from(ctor.new_instance((message.clone(), js_details).into())?));
        }
        let mut plain = env.create_error(napi::Error::new(Status::GenericFailure, message.clone()))?;
        plain.set_named_property("name", class)?;
        if let serde_json::Value::Object(fields) = &details {
            for (name, value) in fields {
                plain.set_named_property(name, env.to_js_value(value)?)?;
            }
        }
        Ok(napi::Error::from(plain.to_unknown()))
    })();
    built.unwrap_or_else(|e| e)
}
