//! The asyncio client: `AsyncGrantline` and friends, the same methods as coroutines running on
//! one shared tokio runtime.

use std::collections::BTreeMap;

use grantline_core as core;
use pyo3::prelude::*;

use crate::errors::IntoPy;
use crate::runtime::awaitable;
use crate::tools::{ExecuteMetaResult, ExecuteResult, ProxyResult, SearchHit, Tool};
use crate::types::{
    AccountsPage, ClientToken, ConnectedAccount, Mcp, McpCredential, McpCredentialInfo, RefreshedAccount, RevokedAccount, RotatedWebhookSecret, Toolkit, ToolkitsPage,
    ProjectInfo, UserVerification, WebhookDeliveriesPage, WebhookEventType, WebhookSubscription, WebhookSubscriptionsPage,
};
use crate::{json, options};

/// The asyncio twin of ``Grantline``: every call is a coroutine.
#[pyclass(module = "grantline", frozen)]
pub struct AsyncGrantline {
    client: core::Client,
}

#[pymethods]
impl AsyncGrantline {
    #[new]
    #[pyo3(signature = (api_key=None, base_url=None, *, timeout=None))]
    fn new(api_key: Option<String>, base_url: Option<String>, timeout: Option<f64>) -> PyResult<Self> {
        let config = options::client_config(api_key, base_url, timeout)?;
        Ok(Self { client: core::Client::new(config).py()? })
    }

    /// Creates a session for one end user.
    #[pyo3(signature = (user_id, *, toolkits=None, manage_connections=None, auth_configs=None, connected_accounts=None, direct_tools=None))]
    fn create<'py>(
        &self,
        py: Python<'py>,
        user_id: String,
        toolkits: Option<&Bound<'py, PyAny>>,
        manage_connections: Option<&Bound<'py, PyAny>>,
        auth_configs: Option<BTreeMap<String, String>>,
        connected_accounts: Option<BTreeMap<String, String>>,
        direct_tools: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = options::session_options(toolkits, manage_connections, auth_configs, connected_accounts, direct_tools)?;
        let client = self.client.clone();
        awaitable(py, async move { client.create(&user_id, opts).await.py().map(AsyncSession::from) })
    }

    /// Opens an existing session by its id (``trs_…``).
    #[pyo3(name = "use")]
    fn use_session<'py>(&self, py: Python<'py>, session_id: String) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move { client.use_session(&session_id).await.py().map(AsyncSession::from) })
    }

    /// The project and the profile its pages show.
    fn project<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move { client.project().await.py().map(ProjectInfo::from) })
    }

    /// Changes the project's profile (what is left out is kept; ``None`` clears a value).
    #[pyo3(signature = (**changes))]
    fn update_project<'py>(&self, py: Python<'py>, changes: Option<&Bound<'py, pyo3::types::PyDict>>) -> PyResult<Bound<'py, PyAny>> {
        let (client, patch) = (self.client.clone(), options::project_patch(changes)?);
        awaitable(py, async move { client.update_project(&patch).await.py().map(ProjectInfo::from) })
    }

    /// Says who the browser's user is, from the app's verification page (its backend).
    fn confirm_user<'py>(&self, py: Python<'py>, flow_id: String, user_id: String) -> PyResult<Bound<'py, PyAny>> {
        let client = self.client.clone();
        awaitable(py, async move { client.confirm_user(&flow_id, &user_id).await.py().map(UserVerification::from) })
    }

    /// Connected-account operations.
    #[getter]
    fn connected_accounts(&self) -> AsyncConnectedAccounts {
        AsyncConnectedAccounts { inner: self.client.connected_accounts() }
    }

    /// Webhook subscriptions and their deliveries.
    #[getter]
    fn webhooks(&self) -> AsyncWebhooks {
        AsyncWebhooks { inner: self.client.webhooks() }
    }

    /// The broker's base URL.
    #[getter]
    fn base_url(&self) -> String {
        self.client.base_url().to_string()
    }

    fn __repr__(&self) -> String {
        format!("AsyncGrantline(base_url={:?})", self.client.base_url())
    }
}

/// The asyncio twin of ``Session``.
#[pyclass(module = "grantline", frozen)]
pub struct AsyncSession {
    inner: core::Session,
}

impl From<core::Session> for AsyncSession {
    fn from(inner: core::Session) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl AsyncSession {
    /// The session id (``trs_…``).
    #[getter]
    fn session_id(&self) -> &str {
        self.inner.session_id()
    }

    /// The end user the session belongs to.
    #[getter]
    fn user_id(&self) -> &str {
        self.inner.user_id()
    }

    /// Where an MCP client reaches this session's tools.
    #[getter]
    fn mcp(&self) -> Mcp {
        Mcp::new(&self.inner, false)
    }

    /// Starts connecting ``toolkit``.
    #[pyo3(signature = (toolkit, *, callback_url=None, alias=None))]
    fn authorize<'py>(&self, py: Python<'py>, toolkit: String, callback_url: Option<String>, alias: Option<String>) -> PyResult<Bound<'py, PyAny>> {
        let (session, opts) = (self.inner.clone(), options::authorize_options(callback_url, alias));
        awaitable(py, async move { session.authorize(&toolkit, opts).await.py().map(AsyncConnectionRequest::from) })
    }

    /// One page of the session's toolkits with the user's connection state.
    #[pyo3(signature = (*, toolkits=None, is_connected=None, search=None, limit=None, cursor=None))]
    fn toolkits<'py>(
        &self,
        py: Python<'py>,
        toolkits: Option<Vec<String>>,
        is_connected: Option<bool>,
        search: Option<String>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (session, q) = (self.inner.clone(), options::toolkits_query(toolkits, is_connected, search, limit, cursor));
        awaitable(py, async move { session.toolkits(&q).await.py().map(ToolkitsPage::from) })
    }

    /// Every matching toolkit, walking all pages.
    #[pyo3(signature = (*, toolkits=None, is_connected=None, search=None))]
    fn all_toolkits<'py>(&self, py: Python<'py>, toolkits: Option<Vec<String>>, is_connected: Option<bool>, search: Option<String>) -> PyResult<Bound<'py, PyAny>> {
        let (session, q) = (self.inner.clone(), options::toolkits_query(toolkits, is_connected, search, None, None));
        awaitable(py, async move { Ok(session.all_toolkits(&q).await.py()?.into_iter().map(Toolkit::from).collect::<Vec<_>>()) })
    }

    /// The session's meta tools.
    fn tools<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let session = self.inner.clone();
        awaitable(py, async move { Ok(session.tools().await.py()?.into_iter().map(Tool::from).collect::<Vec<_>>()) })
    }

    /// Runs a meta tool, e.g. ``COMPOSIO_MANAGE_CONNECTIONS``.
    #[pyo3(signature = (slug, arguments=None))]
    fn execute_meta<'py>(&self, py: Python<'py>, slug: String, arguments: Option<&Bound<'py, PyAny>>) -> PyResult<Bound<'py, PyAny>> {
        let (session, args) = (self.inner.clone(), json::object_arg("arguments", arguments)?);
        awaitable(py, async move { session.execute_meta(&slug, args).await.py().map(ExecuteMetaResult::from) })
    }

    /// Runs a toolkit tool as the session's user; not connected is ``successful=False``, not an exception.
    #[pyo3(signature = (tool_slug, arguments=None, *, connected_account_id=None))]
    fn execute<'py>(
        &self,
        py: Python<'py>,
        tool_slug: String,
        arguments: Option<&Bound<'py, PyAny>>,
        connected_account_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (session, args) = (self.inner.clone(), json::object_arg("arguments", arguments)?);
        awaitable(py, async move { session.execute(&tool_slug, args, connected_account_id).await.py().map(ExecuteResult::from) })
    }

    /// The session's toolkit tools ranked for a use case in words, best first.
    #[pyo3(signature = (query, *, toolkits=None, limit=None))]
    fn search<'py>(&self, py: Python<'py>, query: String, toolkits: Option<Vec<String>>, limit: Option<u32>) -> PyResult<Bound<'py, PyAny>> {
        let (session, req) = (self.inner.clone(), options::search_request(query, toolkits, limit));
        awaitable(py, async move { Ok(session.search(&req).await.py()?.into_iter().map(SearchHit::from).collect::<Vec<_>>()) })
    }

    /// Sends a request to a toolkit's API signed with the user's account.
    // A literal default, so the runtime signature shows `method='GET'` (stubtest compares it).
    #[pyo3(signature = (endpoint, method="GET", *, toolkit=None, connected_account_id=None, body=None, headers=None, query=None))]
    #[allow(clippy::too_many_arguments)]
    fn proxy_execute<'py>(
        &self,
        py: Python<'py>,
        endpoint: String,
        method: &str,
        toolkit: Option<String>,
        connected_account_id: Option<String>,
        body: Option<&Bound<'py, PyAny>>,
        headers: Option<&Bound<'py, PyAny>>,
        query: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let req = options::proxy_request(endpoint, method.to_string(), toolkit, connected_account_id, body, headers, query)?;
        let session = self.inner.clone();
        awaitable(py, async move { session.proxy_execute(&req).await.map_err(|e| grantline_core::client::options::proxy_error(e, &req)).py().map(ProxyResult::from) })
    }

    /// Mints a short-lived token for a browser widget (default 900 s): it can only authorize,
    /// wait and list toolkits in this session. Give its ``token`` to the page, never the API key.
    #[pyo3(signature = (ttl_seconds=None))]
    fn client_token<'py>(&self, py: Python<'py>, ttl_seconds: Option<u64>) -> PyResult<Bound<'py, PyAny>> {
        let session = self.inner.clone();
        awaitable(py, async move { Ok(ClientToken::from(session.client_token(ttl_seconds).await.py()?)) })
    }

    /// Revokes one of this session's client tokens by id (``ct_…``).
    fn revoke_client_token<'py>(&self, py: Python<'py>, token_id: String) -> PyResult<Bound<'py, PyAny>> {
        let session = self.inner.clone();
        awaitable(py, async move { session.revoke_client_token(&token_id).await.py() })
    }

    /// Headers for an MCP client (``Authorization: Bearer glmcp_…``): a credential for this
    /// session's MCP endpoint only, minted on first use and kept (``mcp.headers`` gives them
    /// too once minted).
    fn mcp_headers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let session = self.inner.clone();
        awaitable(py, async move { session.mcp_headers().await.py() })
    }

    /// Mints a credential for this session's MCP endpoint (default 30 days, at most 365).
    #[pyo3(signature = (*, ttl_seconds=None, name=None))]
    fn create_mcp_credential<'py>(&self, py: Python<'py>, ttl_seconds: Option<u64>, name: Option<String>) -> PyResult<Bound<'py, PyAny>> {
        let session = self.inner.clone();
        let request = core::model::McpCredentialRequest { ttl_seconds, name };
        awaitable(py, async move { Ok(McpCredential::from(session.create_mcp_credential(request).await.py()?)) })
    }

    /// This session's MCP credentials, newest first, without their secrets.
    fn mcp_credentials<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let session = self.inner.clone();
        awaitable(py, async move {
            Ok(session.mcp_credentials().await.py()?.into_iter().map(McpCredentialInfo::from).collect::<Vec<_>>())
        })
    }

    /// Revokes one of this session's MCP credentials by id (``mcpc_…``).
    fn revoke_mcp_credential<'py>(&self, py: Python<'py>, credential_id: String) -> PyResult<Bound<'py, PyAny>> {
        let session = self.inner.clone();
        awaitable(py, async move { session.revoke_mcp_credential(&credential_id).await.py() })
    }

    fn __repr__(&self) -> String {
        format!("AsyncSession(session_id={:?}, user_id={:?})", self.inner.session_id(), self.inner.user_id())
    }
}

/// The asyncio twin of ``ConnectionRequest``.
#[pyclass(module = "grantline", frozen)]
pub struct AsyncConnectionRequest {
    inner: core::ConnectionRequest,
}

impl From<core::ConnectionRequest> for AsyncConnectionRequest {
    fn from(inner: core::ConnectionRequest) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl AsyncConnectionRequest {
    /// The connected account id (``ca_…``).
    #[getter]
    fn id(&self) -> &str {
        self.inner.id()
    }

    /// The Connect Link to open in the user's browser.
    #[getter]
    fn redirect_url(&self) -> &str {
        self.inner.redirect_url()
    }

    /// Resolves with the account once ACTIVE; raises like the blocking version.
    #[pyo3(signature = (timeout=None))]
    fn wait_for_connection<'py>(&self, py: Python<'py>, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let (req, timeout) = (self.inner.clone(), options::wait_timeout(timeout)?);
        awaitable(py, async move { req.wait_for_connection(timeout).await.py().map(ConnectedAccount::from) })
    }

    fn __repr__(&self) -> String {
        format!("AsyncConnectionRequest(id={:?})", self.inner.id())
    }
}

/// The asyncio twin of ``ConnectedAccounts``.
#[pyclass(module = "grantline", frozen)]
pub struct AsyncConnectedAccounts {
    inner: core::client::ConnectedAccounts,
}

#[pymethods]
impl AsyncConnectedAccounts {
    /// The account ``id``.
    fn get<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        let accounts = self.inner.clone();
        awaitable(py, async move { accounts.get(&id).await.py().map(ConnectedAccount::from) })
    }

    /// One page of accounts, filtered.
    #[pyo3(signature = (*, user_ids=None, toolkit_slugs=None, statuses=None, cursor=None, limit=None))]
    fn list<'py>(
        &self,
        py: Python<'py>,
        user_ids: Option<Vec<String>>,
        toolkit_slugs: Option<Vec<String>>,
        statuses: Option<Vec<String>>,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (accounts, filter) = (self.inner.clone(), options::account_filter(user_ids, toolkit_slugs, statuses)?);
        awaitable(py, async move { accounts.list(&filter, cursor.as_deref(), limit).await.py().map(AccountsPage::from) })
    }

    /// Deletes the account ``id``.
    fn delete<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        let accounts = self.inner.clone();
        awaitable(py, async move { accounts.delete(&id).await.py() })
    }

    /// Enables the account ``id``.
    fn enable<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        let accounts = self.inner.clone();
        awaitable(py, async move { accounts.set_enabled(&id, true).await.py() })
    }

    /// Disables the account ``id``.
    fn disable<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        let accounts = self.inner.clone();
        awaitable(py, async move { accounts.set_enabled(&id, false).await.py() })
    }

    /// Reconnects the account ``id`` under the same id: a new Connect Link (see ``ConnectedAccounts.refresh``).
    #[pyo3(signature = (id, callback_url=None))]
    fn refresh<'py>(&self, py: Python<'py>, id: String, callback_url: Option<String>) -> PyResult<Bound<'py, PyAny>> {
        let accounts = self.inner.clone();
        awaitable(py, async move { accounts.refresh(&id, callback_url.as_deref()).await.py().map(RefreshedAccount::from) })
    }

    /// Revokes the account ``id`` at the provider and marks it REVOKED.
    fn revoke<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        let accounts = self.inner.clone();
        awaitable(py, async move { accounts.revoke(&id).await.py().map(RevokedAccount::from) })
    }

    /// Resolves once account ``id`` is ACTIVE (or its reconnect link ends).
    #[pyo3(signature = (id, timeout=None))]
    fn wait_for_connection<'py>(&self, py: Python<'py>, id: String, timeout: Option<f64>) -> PyResult<Bound<'py, PyAny>> {
        let (accounts, timeout) = (self.inner.clone(), options::wait_timeout(timeout)?);
        awaitable(py, async move { accounts.wait_for_connection(&id, timeout).await.py().map(ConnectedAccount::from) })
    }
}

/// The asyncio twin of ``Webhooks``.
#[pyclass(module = "grantline", frozen)]
pub struct AsyncWebhooks {
    inner: core::client::Webhooks,
}

#[pymethods]
impl AsyncWebhooks {
    /// Subscribes ``webhook_url`` to ``enabled_events``; the answer carries the ``secret``.
    fn create<'py>(&self, py: Python<'py>, webhook_url: String, enabled_events: Vec<String>) -> PyResult<Bound<'py, PyAny>> {
        let webhooks = self.inner.clone();
        awaitable(py, async move { webhooks.create(&webhook_url, &enabled_events).await.py().map(WebhookSubscription::from) })
    }

    /// One page of the project's subscriptions, oldest first.
    #[pyo3(signature = (*, cursor=None, limit=None))]
    fn list<'py>(&self, py: Python<'py>, cursor: Option<String>, limit: Option<u32>) -> PyResult<Bound<'py, PyAny>> {
        let webhooks = self.inner.clone();
        awaitable(py, async move { webhooks.list(cursor.as_deref(), limit).await.py().map(WebhookSubscriptionsPage::from) })
    }

    /// The subscription ``id``.
    fn get<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        let webhooks = self.inner.clone();
        awaitable(py, async move { webhooks.get(&id).await.py().map(WebhookSubscription::from) })
    }

    /// Changes the receiver URL and/or the event types of subscription ``id``.
    #[pyo3(signature = (id, *, webhook_url=None, enabled_events=None))]
    fn update<'py>(&self, py: Python<'py>, id: String, webhook_url: Option<String>, enabled_events: Option<Vec<String>>) -> PyResult<Bound<'py, PyAny>> {
        let (webhooks, change) = (self.inner.clone(), options::webhook_update(webhook_url, enabled_events)?);
        awaitable(py, async move { webhooks.update(&id, &change).await.py().map(WebhookSubscription::from) })
    }

    /// Deletes subscription ``id`` and its pending deliveries.
    fn delete<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        let webhooks = self.inner.clone();
        awaitable(py, async move { webhooks.delete(&id).await.py() })
    }

    /// A new secret for subscription ``id``.
    fn rotate_secret<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        let webhooks = self.inner.clone();
        awaitable(py, async move { webhooks.rotate_secret(&id).await.py().map(RotatedWebhookSecret::from) })
    }

    /// Every event type a subscription can enable.
    fn event_types<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let webhooks = self.inner.clone();
        awaitable(py, async move { Ok(webhooks.event_types().await.py()?.items.into_iter().map(WebhookEventType::from).collect::<Vec<_>>()) })
    }

    /// One page of subscription ``id``'s deliveries, newest first.
    #[pyo3(signature = (id, *, cursor=None, limit=None))]
    fn deliveries<'py>(&self, py: Python<'py>, id: String, cursor: Option<String>, limit: Option<u32>) -> PyResult<Bound<'py, PyAny>> {
        let webhooks = self.inner.clone();
        awaitable(py, async move { webhooks.deliveries(&id, cursor.as_deref(), limit).await.py().map(WebhookDeliveriesPage::from) })
    }

    /// Sends delivery ``delivery_id`` of subscription ``id`` again now.
    fn retry<'py>(&self, py: Python<'py>, id: String, delivery_id: String) -> PyResult<Bound<'py, PyAny>> {
        let webhooks = self.inner.clone();
        awaitable(py, async move { webhooks.retry(&id, &delivery_id).await.py() })
    }
}
