//! The core's typed errors as the exceptions of `grantline.errors`.

use grantline_core::{Error, BASE_CLASS};
use pyo3::prelude::*;
use pyo3::types::PyDict;

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let module = py.import("grantline.errors")?;
    // A kind `errors.py` lacks a class for still arrives as a GrantlineError with its `.code`.
    let cls = module.getattr(e.class_name()).or_else(|_| module.getattr(BASE_CLASS))?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("code", e.code())?;
    kwargs.set_item("status", e.http_status())?;
    let exc = cls.call((e.to_string(),), Some(&kwargs))?;
    // The kind's structured fields, named as on the wire (`field`, `connected_account_id`,
    // `account_status`, `status_reason`, `resource`, `id`, `retry_after`).
    for (name, value) in e.fields() {
        if name != "code" && name != "status" {
            exc.setattr(name.as_str(), crate::json::to_py(py, &value)?)?;
        }
    }
    Ok(PyErr::from_value(exc))
}

/// Converts a core error into the matching `grantline.errors` exception.
pub fn to_py(e: Error) -> PyErr {
    Python::attach(|py| build(py, &e).unwrap_or_else(|import_failed| import_failed))
}

/// `Result` of the core, as a `PyResult`.
pub trait IntoPy<T> {
    /// Maps the error side to a Python exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for grantline_core::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}
