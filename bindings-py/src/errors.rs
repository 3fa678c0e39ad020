//! The core's typed errors as the exceptions of `grantline.errors`.

use grantline_core::Error;
use pyo3::prelude::*;
use pyo3::types::PyDict;

fn build(py: Python<'_>, e: &Error) -> PyResult<PyErr> {
    let cls = py.import("grantline.errors")?.getattr(e.class_name())?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("code", e.code())?;
    kwargs.set_item("status", e.http_status())?;
    let exc = cls.call((e.to_string(),), Some(&kwargs))?;
    match e {
        Error::Validation { field, .. } => exc.setattr("field", field)?,
        Error::ConnectionRequestFailed { id, status, reason } => {
            exc.setattr("connected_account_id", id)?;
            exc.setattr("status", status)?;
            exc.setattr("status_reason", reason)?;
        }
        Error::ConnectionRequestTimeout { id, .. } => exc.setattr("connected_account_id", id)?,
        _ => {}
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
