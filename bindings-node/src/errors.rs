//! The core's typed errors as instances of the JS classes in `errors.js`.

use std::cell::RefCell;

use grantline_core::Error;
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

/// Builds the JS error object for `f` (on the JS thread) and wraps it so napi throws it as is.
pub fn to_js(env: &Env, f: Failure) -> napi::Error {
    let (class, message, details) = describe(&f);
    let built = (|| -> Result<napi::Error> {
        let classes = CLASSES.with(|c| c.borrow().as_ref().map(|r| r.get_value(env))).transpose()?;
        let Some(classes) = classes else { return Ok(napi::Error::new(Status::GenericFailure, message.clone())) };
        let ctor: Function<FnArgs<(String, Unknown)>, Unknown> = classes.get_named_property(class)?;
        let details = env.to_js_value(&details)?;
        let instance = ctor.new_instance((message.clone(), details).into())?;
        Ok(napi::Error::from(instance))
    })();
    built.unwrap_or_else(|e| e)
}
