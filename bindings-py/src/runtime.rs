//! Running the core's futures: blocking (GIL released, Ctrl-C honoured) or as asyncio coroutines.

use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyCFunction;

/// How often a blocking call looks for a pending signal such as Ctrl-C.
const SIGNAL_CHECK: Duration = Duration::from_millis(50);

/// The one tokio runtime every client shares (pyo3-async-runtimes' own).
fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Runs `fut` to completion with the GIL released; a signal handler that raises (Ctrl-C's
/// `KeyboardInterrupt`) ends the wait at once. Other threads run Python meanwhile.
pub fn block_on<F, T>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = PyResult<T>> + Send,
    T: Send,
{
    py.detach(|| {
        runtime().block_on(async {
            tokio::pin!(fut);
            loop {
                tokio::select! {
                    out = &mut fut => return out,
                    _ = tokio::time::sleep(SIGNAL_CHECK) => Python::attach(|py| py.check_signals())?,
                }
            }
        })
    })
}

/// Wraps `fut` as a Python coroutine (`grantline._coroutine.run`) that starts it on the shared
/// runtime when first awaited, so `asyncio.create_task` and `TaskGroup.create_task` accept it
/// and no request goes out before then. Cancelling the awaiting task cancels the asyncio future
/// from `future_into_py`, whose done-callback makes pyo3-async-runtimes drop `fut` (and with it
/// the HTTP request). A coroutine closed without being awaited drops `fut` unstarted.
pub fn awaitable<'py, F, T>(py: Python<'py>, fut: F) -> PyResult<Bound<'py, PyAny>>
where
    F: Future<Output = PyResult<T>> + Send + 'static,
    T: for<'a> IntoPyObject<'a> + Send + 'static,
{
    static RUN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let run = RUN.import(py, "grantline._coroutine", "run")?;
    let fut = Mutex::new(Some(fut));
    let start = PyCFunction::new_closure(py, Some(c"start"), None, move |args, _kwargs| -> PyResult<Py<PyAny>> {
        let py = args.py();
        let fut = fut.lock().unwrap_or_else(|e| e.into_inner()).take();
        let fut = fut.ok_or_else(|| PyRuntimeError::new_err("coroutine already awaited"))?;
        pyo3_async_runtimes::tokio::future_into_py(py, fut).map(Bound::unbind)
    })?;
    run.call1((start,))
}
