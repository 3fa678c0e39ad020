//! Read-only Python views of what a session's tools are and what running them gave.
//! JSON fields (`data`, `input_parameters`) are kept as JSON and become Python objects when read.

use std::collections::BTreeMap;

use grantline_core::client::views::SearchHitView;
use grantline_core::model;
use pyo3::prelude::*;
use serde_json::Value;

use crate::json;

/// `True`/`False` as Python spells them, for reprs.
fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// An optional string as Python would show it: `None` or the quoted text.
fn py_opt(s: &Option<String>) -> String {
    s.as_ref().map_or_else(|| "None".to_string(), |s| format!("{s:?}"))
}

/// A meta tool of the session, e.g. `COMPOSIO_MANAGE_CONNECTIONS`.
#[pyclass(module = "grantline", frozen)]
#[derive(Clone)]
pub struct Tool {
    slug: String,
    name: String,
    description: String,
    input_parameters: Value,
}

impl From<model::ToolInfo> for Tool {
    fn from(t: model::ToolInfo) -> Self {
        Self { slug: t.slug, name: t.name, description: t.description, input_parameters: t.input_parameters }
    }
}

#[pymethods]
impl Tool {
    /// e.g. `COMPOSIO_MANAGE_CONNECTIONS`.
    #[getter]
    fn slug(&self) -> &str {
        &self.slug
    }

    /// Display name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// What the tool does, for the model.
    #[getter]
    fn description(&self) -> &str {
        &self.description
    }

    /// JSON Schema of the arguments, as a dict.
    #[getter]
    fn input_parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &self.input_parameters)
    }

    fn __repr__(&self) -> String {
        format!("Tool(slug={:?})", self.slug)
    }
}

/// What running a toolkit tool gave (``Session.execute``).
#[pyclass(module = "grantline", frozen)]
#[derive(Clone)]
pub struct ExecuteResult {
    data: Value,
    error: Option<String>,
    successful: bool,
    log_id: String,
}

impl From<model::ExecuteResponse> for ExecuteResult {
    fn from(r: model::ExecuteResponse) -> Self {
        Self { data: r.data, error: r.error, successful: r.successful, log_id: r.log_id }
    }
}

#[pymethods]
impl ExecuteResult {
    /// The provider's answer; when the toolkit is not connected, ``status`` and the ``next_step`` to take.
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &self.data)
    }

    /// Why it did not succeed, worded for the model; ``None`` on success.
    #[getter]
    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// True when the provider answered 2xx.
    #[getter]
    fn successful(&self) -> bool {
        self.successful
    }

    /// Identifies this execution in the broker's logs.
    #[getter]
    fn log_id(&self) -> &str {
        &self.log_id
    }

    fn __repr__(&self) -> String {
        format!("ExecuteResult(successful={}, error={}, log_id={:?})", py_bool(self.successful), py_opt(&self.error), self.log_id)
    }
}

/// What running a meta tool gave (``Session.execute_meta``).
#[pyclass(module = "grantline", frozen)]
#[derive(Clone)]
pub struct ExecuteMetaResult {
    data: Value,
    error: Option<String>,
    log_id: String,
}

impl From<model::ExecuteMetaResponse> for ExecuteMetaResult {
    fn from(r: model::ExecuteMetaResponse) -> Self {
        Self { data: r.data, error: r.error, log_id: r.log_id }
    }
}

#[pymethods]
impl ExecuteMetaResult {
    /// The tool's output, e.g. ``data["results"]["github"]["redirect_url"]``.
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &self.data)
    }

    /// An error worded for the model, when the tool failed.
    #[getter]
    fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// Identifies this execution in the broker's logs.
    #[getter]
    fn log_id(&self) -> &str {
        &self.log_id
    }

    fn __repr__(&self) -> String {
        format!("ExecuteMetaResult(error={}, log_id={:?})", py_opt(&self.error), self.log_id)
    }
}

/// A toolkit tool ranked for a use case (``Session.search``).
#[pyclass(module = "grantline", frozen)]
#[derive(Clone)]
pub struct SearchHit {
    slug: String,
    name: String,
    description: String,
    toolkit: String,
    input_parameters: Value,
    score: f64,
    is_connected: bool,
}

impl From<model::SearchHit> for SearchHit {
    fn from(h: model::SearchHit) -> Self {
        let v = SearchHitView::from(h);
        Self {
            slug: v.slug,
            name: v.name,
            description: v.description,
            toolkit: v.toolkit,
            input_parameters: v.input_parameters,
            score: v.score,
            is_connected: v.is_connected,
        }
    }
}

#[pymethods]
impl SearchHit {
    /// e.g. `GITHUB_CREATE_AN_ISSUE`; pass it to ``Session.execute``.
    #[getter]
    fn slug(&self) -> &str {
        &self.slug
    }

    /// Display name.
    #[getter]
    fn name(&self) -> &str {
        &self.name
    }

    /// What the tool does, for the model.
    #[getter]
    fn description(&self) -> &str {
        &self.description
    }

    /// The slug of the tool's toolkit, e.g. `github`.
    #[getter]
    fn toolkit(&self) -> &str {
        &self.toolkit
    }

    /// JSON Schema of the arguments, as a dict.
    #[getter]
    fn input_parameters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &self.input_parameters)
    }

    /// Relevance (BM25); higher is better.
    #[getter]
    fn score(&self) -> f64 {
        self.score
    }

    /// True when the user can run it now: an active account for its toolkit, or a toolkit that
    /// needs no connection.
    #[getter]
    fn is_connected(&self) -> bool {
        self.is_connected
    }

    fn __repr__(&self) -> String {
        format!("SearchHit(slug={:?}, score={:.3}, is_connected={})", self.slug, self.score, py_bool(self.is_connected))
    }
}

/// A provider's answer to a proxied request (``Session.proxy_execute``), as it came.
#[pyclass(module = "grantline", frozen)]
#[derive(Clone)]
pub struct ProxyResult {
    status: u16,
    data: Value,
    headers: BTreeMap<String, String>,
}

impl From<model::ProxyResponse> for ProxyResult {
    fn from(r: model::ProxyResponse) -> Self {
        Self { status: r.status, data: r.data, headers: r.headers }
    }
}

#[pymethods]
impl ProxyResult {
    /// The provider's HTTP status.
    #[getter]
    fn status(&self) -> u16 {
        self.status
    }

    /// The provider's body: parsed JSON, or the text as a str.
    #[getter]
    fn data<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        json::to_py(py, &self.data)
    }

    /// The provider's response headers (the broker strips credentials).
    #[getter]
    fn headers(&self) -> BTreeMap<String, String> {
        self.headers.clone()
    }

    fn __repr__(&self) -> String {
        format!("ProxyResult(status={})", self.status)
    }
}
