//! The blocking client: `Grantline`, `Session`, `ConnectionRequest`, `ConnectedAccounts`, `Webhooks`.
//! Each call releases the GIL while the core works, and Ctrl-C interrupts it.

use std::collections::BTreeMap;

use grantline_core as core;
use pyo3::prelude::*;

use crate::errors::IntoPy;
use crate::runtime::block_on;
use crate::tools::{ExecuteMetaResult, ExecuteResult, ProxyResult, SearchHit, Tool};
use crate::types::{
    AccountsPage, ClientToken, ConnectedAccount, Mcp, McpCredential, McpCredentialInfo, RefreshedAccount, RevokedAccount, RotatedWebhookSecret, Toolkit, ToolkitsPage,
    ProjectInfo, UserVerification, WebhookDeliveriesPage, WebhookEventType, WebhookSubscription, WebhookSubscriptionsPage,
};
use crate::{json, options};

/// A client of one Grantline broker, authenticated with a project API key.
///
/// ``api_key`` and ``base_url`` default to ``GRANTLINE_API_KEY`` and ``GRANTLINE_BASE_URL``
/// (then ``http://127.0.0.1:9900``); ``timeout`` bounds each ordinary request, in seconds.
#[pyclass(module = "grantline", frozen)]
pub struct Grantline {
    client: core::Client,
}

#[pymethods]
impl Grantline {
    #[new]
    #[pyo3(signature = (api_key=None, base_url=None, *, timeout=None))]
    fn new(api_key: Option<String>, base_url: Option<String>, timeout: Option<f64>) -> PyResult<Self> {
        let config = options::client_config(api_key, base_url, timeout)?;
        Ok(Self { client: core::Client::new(config).py()? })
    }

    /// Creates a session for one end user.
    #[pyo3(signature = (user_id, *, toolkits=None, manage_connections=None, auth_configs=None, connected_accounts=None, direct_tools=None))]
    fn create(
        &self,
        py: Python<'_>,
        user_id: String,
        toolkits: Option<&Bound<'_, PyAny>>,
        manage_connections: Option<&Bound<'_, PyAny>>,
        auth_configs: Option<BTreeMap<String, String>>,
        connected_accounts: Option<BTreeMap<String, String>>,
        direct_tools: Option<Vec<String>>,
    ) -> PyResult<Session> {
        let opts = options::session_options(toolkits, manage_connections, auth_configs, connected_accounts, direct_tools)?;
        let client = self.client.clone();
        block_on(py, async move { client.create(&user_id, opts).await.py() }).map(Session::from)
    }

    /// Opens an existing session by its id (``trs_…``).
    #[pyo3(name = "use")]
    fn use_session(&self, py: Python<'_>, session_id: String) -> PyResult<Session> {
        let client = self.client.clone();
        block_on(py, async move { client.use_session(&session_id).await.py() }).map(Session::from)
    }

    /// The project and the profile its pages show.
    fn project(&self, py: Python<'_>) -> PyResult<ProjectInfo> {
        let client = self.client.clone();
        block_on(py, async move { client.project().await.py() }).map(ProjectInfo::from)
    }

    /// Changes the project's profile: ``display_name``, ``support_url``,
    /// ``user_verification_url``, ``verify_connect_links``. What is left out is kept; ``None``
    /// clears a value.
    #[pyo3(signature = (**changes))]
    fn update_project(&self, py: Python<'_>, changes: Option<&Bound<'_, pyo3::types::PyDict>>) -> PyResult<ProjectInfo> {
        let (client, patch) = (self.client.clone(), options::project_patch(changes)?);
        block_on(py, async move { client.update_project(&patch).await.py() }).map(ProjectInfo::from)
    }

    /// Says who the browser's user is, from the app's verification page (its backend): the
    /// broker sent the browser there with ``?flow_id=uvf_…``. Send the browser to the answer's
    /// ``redirect_url``; when ``matched`` is false the flow has ended.
    fn confirm_user(&self, py: Python<'_>, flow_id: String, user_id: String) -> PyResult<UserVerification> {
        let client = self.client.clone();
        block_on(py, async move { client.confirm_user(&flow_id, &user_id).await.py() }).map(UserVerification::from)
    }

    /// Connected-account operations (get, list, delete, enable, disable, wait).
    #[getter]
    fn connected_accounts(&self) -> ConnectedAccounts {
        ConnectedAccounts { inner: self.client.connected_accounts() }
    }

    /// Webhook subscriptions (create, list, get, update, delete, rotate_secret, event_types) and
    /// their deliveries (deliveries, retry).
    #[getter]
    fn webhooks(&self) -> Webhooks {
        Webhooks { inner: self.client.webhooks() }
    }

    /// The broker's base URL.
    #[getter]
    fn base_url(&self) -> String {
        self.client.base_url().to_string()
    }

    fn __repr__(&self) -> String {
        format!("Grantline(base_url={:?})", self.client.base_url())
    }
}

/// One end user's session: authorize toolkits, list them, reach the MCP endpoint.
#[pyclass(module = "grantline", frozen)]
pub struct Session {
    inner: core::Session,
}

impl From<core::Session> for Session {
    fn from(inner: core::Session) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl Session {
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
        Mcp::new(&self.inner, true)
    }

    /// Starts connecting ``toolkit``; show ``redirect_url`` of the result to the user.
    #[pyo3(signature = (toolkit, *, callback_url=None, alias=None))]
    fn authorize(&self, py: Python<'_>, toolkit: String, callback_url: Option<String>, alias: Option<String>) -> PyResult<ConnectionRequest> {
        let (session, opts) = (self.inner.clone(), options::authorize_options(callback_url, alias));
        block_on(py, async move { session.authorize(&toolkit, opts).await.py() }).map(ConnectionRequest::from)
    }

    /// One page of the session's toolkits with the user's connection state.
    #[pyo3(signature = (*, toolkits=None, is_connected=None, search=None, limit=None, cursor=None))]
    fn toolkits(
        &self,
        py: Python<'_>,
        toolkits: Option<Vec<String>>,
        is_connected: Option<bool>,
        search: Option<String>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> PyResult<ToolkitsPage> {
        let (session, q) = (self.inner.clone(), options::toolkits_query(toolkits, is_connected, search, limit, cursor));
        block_on(py, async move { session.toolkits(&q).await.py() }).map(ToolkitsPage::from)
    }

    /// Every matching toolkit, walking all pages.
    #[pyo3(signature = (*, toolkits=None, is_connected=None, search=None))]
    fn all_toolkits(&self, py: Python<'_>, toolkits: Option<Vec<String>>, is_connected: Option<bool>, search: Option<String>) -> PyResult<Vec<Toolkit>> {
        let (session, q) = (self.inner.clone(), options::toolkits_query(toolkits, is_connected, search, None, None));
        let items = block_on(py, async move { session.all_toolkits(&q).await.py() })?;
        Ok(items.into_iter().map(Toolkit::from).collect())
    }

    /// The session's meta tools.
    fn tools(&self, py: Python<'_>) -> PyResult<Vec<Tool>> {
        let session = self.inner.clone();
        let tools = block_on(py, async move { session.tools().await.py() })?;
        Ok(tools.into_iter().map(Tool::from).collect())
    }

    /// Runs a meta tool, e.g. ``COMPOSIO_MANAGE_CONNECTIONS`` with ``{"toolkits": ["github"]}``.
    #[pyo3(signature = (slug, arguments=None))]
    fn execute_meta(&self, py: Python<'_>, slug: String, arguments: Option<&Bound<'_, PyAny>>) -> PyResult<ExecuteMetaResult> {
        let (session, args) = (self.inner.clone(), json::object_arg("arguments", arguments)?);
        block_on(py, async move { session.execute_meta(&slug, args).await.py() }).map(ExecuteMetaResult::from)
    }

    /// Runs a toolkit tool as the session's user. A toolkit that is not connected answers
    /// ``successful=False`` with the next step in ``data``; it does not raise.
    #[pyo3(signature = (tool_slug, arguments=None, *, connected_account_id=None))]
    fn execute(
        &self,
        py: Python<'_>,
        tool_slug: String,
        arguments: Option<&Bound<'_, PyAny>>,
        connected_account_id: Option<String>,
    ) -> PyResult<ExecuteResult> {
        let (session, args) = (self.inner.clone(), json::object_arg("arguments", arguments)?);
        block_on(py, async move { session.execute(&tool_slug, args, connected_account_id).await.py() }).map(ExecuteResult::from)
    }

    /// The session's toolkit tools ranked for a use case in words, best first.
    #[pyo3(signature = (query, *, toolkits=None, limit=None))]
    fn search(&self, py: Python<'_>, query: String, toolkits: Option<Vec<String>>, limit: Option<u32>) -> PyResult<Vec<SearchHit>> {
        let (session, req) = (self.inner.clone(), options::search_request(query, toolkits, limit));
        let hits = block_on(py, async move { session.search(&req).await.py() })?;
        Ok(hits.into_iter().map(SearchHit::from).collect())
    }

    /// Sends a request to a toolkit's API signed with the user's account; ``endpoint`` is a
    /// path under the API's base URL. Any status comes back as a result, not an exception.
    // A literal default, so the runtime signature shows `method='GET'` (stubtest compares it).
    #[pyo3(signature = (endpoint, method="GET", *, toolkit=None, connected_account_id=None, body=None, headers=None, query=None))]
    #[allow(clippy::too_many_arguments)]
    fn proxy_execute(
        &self,
        py: Python<'_>,
        endpoint: String,
        method: &str,
        toolkit: Option<String>,
        connected_account_id: Option<String>,
        body: Option<&Bound<'_, PyAny>>,
        headers: Option<&Bound<'_, PyAny>>,
        query: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ProxyResult> {
        let req = options::proxy_request(endpoint, method.to_string(), toolkit, connected_account_id, body, headers, query)?;
        let session = self.inner.clone();
        block_on(py, async move { session.proxy_execute(&req).await.map_err(|e| grantline_core::client::options::proxy_error(e, &req)).py() }).map(ProxyResult::from)
    }

    /// Mints a short-lived token for a browser widget (default 900 s): it can only authorize,
    /// wait and list toolkits in this session. Give its ``token`` to the page, never the API key.
    #[pyo3(signature = (ttl_seconds=None))]
    fn client_token(&self, py: Python<'_>, ttl_seconds: Option<u64>) -> PyResult<ClientToken> {
        let session = self.inner.clone();
        block_on(py, async move { session.client_token(ttl_seconds).await.py() }).map(ClientToken::from)
    }

    /// Revokes one of this session's client tokens by id (``ct_…``).
    fn revoke_client_token(&self, py: Python<'_>, token_id: String) -> PyResult<()> {
        let session = self.inner.clone();
        block_on(py, async move { session.revoke_client_token(&token_id).await.py() })
    }

    /// Headers for an MCP client (``Authorization: Bearer glmcp_…``): a credential for this
    /// session's MCP endpoint only, minted on first use and kept (the same as ``mcp.headers``).
    fn mcp_headers(&self, py: Python<'_>) -> PyResult<BTreeMap<String, String>> {
        let session = self.inner.clone();
        block_on(py, async move { session.mcp_headers().await.py() })
    }

    /// Mints a credential for this session's MCP endpoint (default 30 days, at most 365).
    /// Give its ``url`` and ``headers`` to the MCP client, never the API key.
    #[pyo3(signature = (*, ttl_seconds=None, name=None))]
    fn create_mcp_credential(&self, py: Python<'_>, ttl_seconds: Option<u64>, name: Option<String>) -> PyResult<McpCredential> {
        let session = self.inner.clone();
        let request = core::model::McpCredentialRequest { ttl_seconds, name };
        block_on(py, async move { session.create_mcp_credential(request).await.py() }).map(McpCredential::from)
    }

    /// This session's MCP credentials, newest first, without their secrets.
    fn mcp_credentials(&self, py: Python<'_>) -> PyResult<Vec<McpCredentialInfo>> {
        let session = self.inner.clone();
        let list = block_on(py, async move { session.mcp_credentials().await.py() })?;
        Ok(list.into_iter().map(McpCredentialInfo::from).collect())
    }

    /// Revokes one of this session's MCP credentials by id (``mcpc_…``).
    fn revoke_mcp_credential(&self, py: Python<'_>, credential_id: String) -> PyResult<()> {
        let session = self.inner.clone();
        block_on(py, async move { session.revoke_mcp_credential(&credential_id).await.py() })
    }

    fn __repr__(&self) -> String {
        format!("Session(session_id={:?}, user_id={:?})", self.inner.session_id(), self.inner.user_id())
    }
}

/// A started connection: the link to show, and the account it completes.
#[pyclass(module = "grantline", frozen)]
pub struct ConnectionRequest {
    inner: core::ConnectionRequest,
}

impl From<core::ConnectionRequest> for ConnectionRequest {
    fn from(inner: core::ConnectionRequest) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl ConnectionRequest {
    /// The connected account id (``ca_…``), INITIATED until the user finishes.
    #[getter]
    fn id(&self) -> &str {
        self.inner.id()
    }

    /// The Connect Link to open in the user's browser.
    #[getter]
    fn redirect_url(&self) -> &str {
        self.inner.redirect_url()
    }

    /// Blocks until the account is ACTIVE and returns it. Raises
    /// ``ConnectionRequestFailedError`` at once on FAILED/EXPIRED/REVOKED and
    /// ``ConnectionRequestTimeoutError`` after ``timeout`` seconds (default 60).
    #[pyo3(signature = (timeout=None))]
    fn wait_for_connection(&self, py: Python<'_>, timeout: Option<f64>) -> PyResult<ConnectedAccount> {
        let (req, timeout) = (self.inner.clone(), options::wait_timeout(timeout)?);
        block_on(py, async move { req.wait_for_connection(timeout).await.py() }).map(ConnectedAccount::from)
    }

    fn __repr__(&self) -> String {
        // The link carries a single-use token: it is not shown.
        format!("ConnectionRequest(id={:?})", self.inner.id())
    }
}

/// The project's connected accounts.
#[pyclass(module = "grantline", frozen)]
pub struct ConnectedAccounts {
    inner: core::client::ConnectedAccounts,
}

#[pymethods]
impl ConnectedAccounts {
    /// The account ``id``; raises ``NotFoundError`` when there is none.
    fn get(&self, py: Python<'_>, id: String) -> PyResult<ConnectedAccount> {
        let accounts = self.inner.clone();
        block_on(py, async move { accounts.get(&id).await.py() }).map(ConnectedAccount::from)
    }

    /// One page of accounts, filtered.
    #[pyo3(signature = (*, user_ids=None, toolkit_slugs=None, statuses=None, cursor=None, limit=None))]
    fn list(
        &self,
        py: Python<'_>,
        user_ids: Option<Vec<String>>,
        toolkit_slugs: Option<Vec<String>>,
        statuses: Option<Vec<String>>,
        cursor: Option<String>,
        limit: Option<u32>,
    ) -> PyResult<AccountsPage> {
        let (accounts, filter) = (self.inner.clone(), options::account_filter(user_ids, toolkit_slugs, statuses)?);
        block_on(py, async move { accounts.list(&filter, cursor.as_deref(), limit).await.py() }).map(AccountsPage::from)
    }

    /// Deletes the account ``id`` and its stored credentials.
    fn delete(&self, py: Python<'_>, id: String) -> PyResult<()> {
        let accounts = self.inner.clone();
        block_on(py, async move { accounts.delete(&id).await.py() })
    }

    /// Enables the account ``id``.
    fn enable(&self, py: Python<'_>, id: String) -> PyResult<()> {
        let accounts = self.inner.clone();
        block_on(py, async move { accounts.set_enabled(&id, true).await.py() })
    }

    /// Disables the account ``id`` (it stays stored but is not used).
    fn disable(&self, py: Python<'_>, id: String) -> PyResult<()> {
        let accounts = self.inner.clone();
        block_on(py, async move { accounts.set_enabled(&id, false).await.py() })
    }

    /// Reconnects the account ``id`` under the same id: ``redirect_url`` of the answer is a new
    /// Connect Link for the user (``callback_url``: where they land after it, on the project's
    /// allow-list). The account keeps its status and credentials until the user completes the
    /// link, then it is ACTIVE with the new ones; older links stop working. Follow it with
    /// ``wait_for_connection(id)``.
    #[pyo3(signature = (id, callback_url=None))]
    fn refresh(&self, py: Python<'_>, id: String, callback_url: Option<String>) -> PyResult<RefreshedAccount> {
        let accounts = self.inner.clone();
        block_on(py, async move { accounts.refresh(&id, callback_url.as_deref()).await.py() }).map(RefreshedAccount::from)
    }

    /// Revokes the account ``id``'s grant at the provider where it can, then marks it REVOKED
    /// and wipes its credentials; revoking again is harmless.
    fn revoke(&self, py: Python<'_>, id: String) -> PyResult<RevokedAccount> {
        let accounts = self.inner.clone();
        block_on(py, async move { accounts.revoke(&id).await.py() }).map(RevokedAccount::from)
    }

    /// Blocks until account ``id`` is ACTIVE (or its reconnect link ends), like
    /// ``ConnectionRequest.wait_for_connection``.
    #[pyo3(signature = (id, timeout=None))]
    fn wait_for_connection(&self, py: Python<'_>, id: String, timeout: Option<f64>) -> PyResult<ConnectedAccount> {
        let (accounts, timeout) = (self.inner.clone(), options::wait_timeout(timeout)?);
        block_on(py, async move { accounts.wait_for_connection(&id, timeout).await.py() }).map(ConnectedAccount::from)
    }
}

/// The project's webhook subscriptions: where the broker sends signed events when connected
/// accounts change, and what it sent to each.
#[pyclass(module = "grantline", frozen)]
pub struct Webhooks {
    inner: core::client::Webhooks,
}

#[pymethods]
impl Webhooks {
    /// Subscribes ``webhook_url`` to ``enabled_events`` (see ``event_types()``); the answer
    /// carries the ``secret`` to verify deliveries with.
    fn create(&self, py: Python<'_>, webhook_url: String, enabled_events: Vec<String>) -> PyResult<WebhookSubscription> {
        let webhooks = self.inner.clone();
        block_on(py, async move { webhooks.create(&webhook_url, &enabled_events).await.py() }).map(WebhookSubscription::from)
    }

    /// One page of the project's subscriptions, oldest first.
    #[pyo3(signature = (*, cursor=None, limit=None))]
    fn list(&self, py: Python<'_>, cursor: Option<String>, limit: Option<u32>) -> PyResult<WebhookSubscriptionsPage> {
        let webhooks = self.inner.clone();
        block_on(py, async move { webhooks.list(cursor.as_deref(), limit).await.py() }).map(WebhookSubscriptionsPage::from)
    }

    /// The subscription ``id``; raises ``NotFoundError`` when there is none.
    fn get(&self, py: Python<'_>, id: String) -> PyResult<WebhookSubscription> {
        let webhooks = self.inner.clone();
        block_on(py, async move { webhooks.get(&id).await.py() }).map(WebhookSubscription::from)
    }

    /// Changes the receiver URL and/or the event types of subscription ``id``.
    #[pyo3(signature = (id, *, webhook_url=None, enabled_events=None))]
    fn update(&self, py: Python<'_>, id: String, webhook_url: Option<String>, enabled_events: Option<Vec<String>>) -> PyResult<WebhookSubscription> {
        let (webhooks, change) = (self.inner.clone(), options::webhook_update(webhook_url, enabled_events)?);
        block_on(py, async move { webhooks.update(&id, &change).await.py() }).map(WebhookSubscription::from)
    }

    /// Deletes subscription ``id`` and its pending deliveries.
    fn delete(&self, py: Python<'_>, id: String) -> PyResult<()> {
        let webhooks = self.inner.clone();
        block_on(py, async move { webhooks.delete(&id).await.py() })
    }

    /// A new secret for subscription ``id``; every attempt from now on is signed with it only.
    fn rotate_secret(&self, py: Python<'_>, id: String) -> PyResult<RotatedWebhookSecret> {
        let webhooks = self.inner.clone();
        block_on(py, async move { webhooks.rotate_secret(&id).await.py() }).map(RotatedWebhookSecret::from)
    }

    /// Every event type a subscription can enable.
    fn event_types(&self, py: Python<'_>) -> PyResult<Vec<WebhookEventType>> {
        let webhooks = self.inner.clone();
        let types = block_on(py, async move { webhooks.event_types().await.py() })?;
        Ok(types.items.into_iter().map(WebhookEventType::from).collect())
    }

    /// One page of subscription ``id``'s deliveries, newest first, each with its attempts.
    #[pyo3(signature = (id, *, cursor=None, limit=None))]
    fn deliveries(&self, py: Python<'_>, id: String, cursor: Option<String>, limit: Option<u32>) -> PyResult<WebhookDeliveriesPage> {
        let webhooks = self.inner.clone();
        block_on(py, async move { webhooks.deliveries(&id, cursor.as_deref(), limit).await.py() }).map(WebhookDeliveriesPage::from)
    }

    /// Sends delivery ``delivery_id`` (``msg_…``) of subscription ``id`` again now, whatever became of it.
    fn retry(&self, py: Python<'_>, id: String, delivery_id: String) -> PyResult<()> {
        let webhooks = self.inner.clone();
        block_on(py, async move { webhooks.retry(&id, &delivery_id).await.py() })
    }
}
