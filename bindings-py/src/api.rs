//! The client classes, each declared once for both hosts' styles (see `twins.rs`):
//! `Grantline`, `Session`, `ConnectionRequest`, `ConnectedAccounts` and `Webhooks` block (the GIL
//! released, Ctrl-C interrupts); `AsyncGrantline`, `AsyncSession`, … return coroutines.

use std::collections::BTreeMap;

use grantline_core as core;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use pyo3::PyClass;

use crate::errors::IntoPy;
use crate::tools::{ExecuteMetaResult, ExecuteResult, ProxyResult, SearchHit, Tool};
use crate::twins::{list, twins};
use crate::types::{
    AccountsPage, ClientToken, ConnectedAccount, Mcp, McpCredential, McpCredentialInfo, ProjectInfo, RefreshedAccount, RevokedAccount, RotatedWebhookSecret,
    Toolkit, ToolkitsPage, UserVerification, WebhookDeliveriesPage, WebhookEventType, WebhookSubscription, WebhookSubscriptionsPage,
};
use crate::{json, options};

twins! {
    /// A client of one Grantline broker, authenticated with a project API key.
    ///
    /// ``api_key`` and ``base_url`` default to ``GRANTLINE_API_KEY`` and ``GRANTLINE_BASE_URL``
    /// (then ``http://127.0.0.1:9900``); ``timeout`` bounds each ordinary request, in seconds.
    pub struct Grantline;
    /// The asyncio twin of ``Grantline``: every call is a coroutine.
    pub struct AsyncGrantline;
    wraps client: core::Client;

    both {
        #[new]
        #[pyo3(signature = (api_key=None, base_url=None, *, timeout=None))]
        fn new(api_key: Option<String>, base_url: Option<String>, timeout: Option<f64>) -> PyResult<Self> {
            let config = options::client_config(api_key, base_url, timeout)?;
            Ok(Self::from(core::Client::new(config).py()?))
        }

        /// The broker's base URL.
        #[getter]
        fn base_url(&self) -> String {
            self.client.base_url().to_string()
        }

        fn __repr__(&self) -> String {
            format!("{}(base_url={:?})", Self::NAME, self.client.base_url())
        }
    }

    getters {
        /// Connected-account operations (get, list, delete, enable, disable, refresh, revoke, wait).
        fn connected_accounts(&self) -> ConnectedAccounts | AsyncConnectedAccounts {
            self.client.connected_accounts()
        }

        /// Webhook subscriptions (create, list, get, update, delete, rotate_secret, event_types) and
        /// their deliveries (deliveries, retry).
        fn webhooks(&self) -> Webhooks | AsyncWebhooks {
            self.client.webhooks()
        }
    }

    calls {
        /// Creates a session for one end user.
        #[pyo3(signature = (user_id, *, toolkits=None, manage_connections=None, auth_configs=None, connected_accounts=None, direct_tools=None))]
        fn create(
            &self,
            user_id: String,
            toolkits: Option<&Bound<'py, PyAny>>,
            manage_connections: Option<&Bound<'py, PyAny>>,
            auth_configs: Option<&Bound<'py, PyAny>>,
            connected_accounts: Option<&Bound<'py, PyAny>>,
            direct_tools: Option<&Bound<'py, PyAny>>,
        ) -> Session | AsyncSession {
            let opts = options::session_options(toolkits, manage_connections, auth_configs, connected_accounts, direct_tools)?;
            let client = self.client.clone();
            async move { client.create(&user_id, opts).await.py() }
        }

        /// Opens an existing session by its id (``trs_…``).
        #[pyo3(name = "use")]
        fn use_session(&self, session_id: String) -> Session | AsyncSession {
            let client = self.client.clone();
            async move { client.use_session(&session_id).await.py() }
        }

        /// The project and the profile its pages show.
        fn project(&self) -> ProjectInfo {
            let client = self.client.clone();
            async move { client.project().await.py() }
        }

        /// Changes the project's profile: ``display_name``, ``support_url``,
        /// ``user_verification_url``, ``verify_connect_links``. What is left out is kept; ``None``
        /// clears a value.
        #[pyo3(signature = (**changes))]
        fn update_project(&self, changes: Option<&Bound<'py, PyDict>>) -> ProjectInfo {
            let (client, patch) = (self.client.clone(), options::project_patch(changes)?);
            async move { client.update_project(&patch).await.py() }
        }

        /// Says who the browser's user is, from the app's verification page (its backend): the
        /// broker sent the browser there with ``?flow_id=uvf_…``. Send the browser to the answer's
        /// ``redirect_url``; when ``matched`` is false the flow has ended.
        fn confirm_user(&self, flow_id: String, user_id: String) -> UserVerification {
            let client = self.client.clone();
            async move { client.confirm_user(&flow_id, &user_id).await.py() }
        }
    }
}

twins! {
    /// One end user's session: authorize toolkits, list them, reach the MCP endpoint.
    pub struct Session;
    /// The asyncio twin of ``Session``.
    pub struct AsyncSession;
    wraps inner: core::Session;

    both {
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

        fn __repr__(&self) -> String {
            format!("{}(session_id={:?}, user_id={:?})", Self::NAME, self.inner.session_id(), self.inner.user_id())
        }
    }

    // `mcp.headers` of a blocking session mints the credential when read; an asyncio session
    // cannot wait in a getter, so it mints with `await session.mcp_headers()` first.
    blocking {
        /// Where an MCP client reaches this session's tools.
        #[getter]
        fn mcp(&self) -> Mcp {
            Mcp::new(&self.inner, true)
        }
    }

    asyncio {
        /// Where an MCP client reaches this session's tools.
        #[getter]
        fn mcp(&self) -> Mcp {
            Mcp::new(&self.inner, false)
        }
    }

    calls {
        /// Starts connecting ``toolkit``; show ``redirect_url`` of the result to the user.
        #[pyo3(signature = (toolkit, *, callback_url=None, alias=None))]
        fn authorize(&self, toolkit: String, callback_url: Option<String>, alias: Option<String>) -> ConnectionRequest | AsyncConnectionRequest {
            let (session, opts) = (self.inner.clone(), options::authorize_options(callback_url, alias)?);
            async move { session.authorize(&toolkit, opts).await.py() }
        }

        /// One page of the session's toolkits with the user's connection state.
        #[pyo3(signature = (*, toolkits=None, is_connected=None, search=None, limit=None, cursor=None))]
        fn toolkits(
            &self,
            toolkits: Option<&Bound<'py, PyAny>>,
            is_connected: Option<&Bound<'py, PyAny>>,
            search: Option<&Bound<'py, PyAny>>,
            limit: Option<&Bound<'py, PyAny>>,
            cursor: Option<&Bound<'py, PyAny>>,
        ) -> ToolkitsPage {
            let (session, q) = (self.inner.clone(), options::toolkits_query(toolkits, is_connected, search, limit, cursor)?);
            async move { session.toolkits(&q).await.py() }
        }

        /// Every matching toolkit, walking all pages.
        #[pyo3(signature = (*, toolkits=None, is_connected=None, search=None))]
        fn all_toolkits(&self, toolkits: Option<&Bound<'py, PyAny>>, is_connected: Option<&Bound<'py, PyAny>>, search: Option<&Bound<'py, PyAny>>) -> Vec<Toolkit> {
            let (session, q) = (self.inner.clone(), options::toolkits_query(toolkits, is_connected, search, None, None)?);
            async move { session.all_toolkits(&q).await.py().map(list) }
        }

        /// The session's meta tools.
        fn tools(&self) -> Vec<Tool> {
            let session = self.inner.clone();
            async move { session.tools().await.py().map(list) }
        }

        /// Runs a meta tool, e.g. ``COMPOSIO_MANAGE_CONNECTIONS`` with ``{"toolkits": ["github"]}``.
        #[pyo3(signature = (slug, arguments=None))]
        fn execute_meta(&self, slug: String, arguments: Option<&Bound<'py, PyAny>>) -> ExecuteMetaResult {
            let (session, args) = (self.inner.clone(), json::object_arg("arguments", arguments)?);
            async move { session.execute_meta(&slug, args).await.py() }
        }

        /// Runs a toolkit tool as the session's user. A toolkit that is not connected answers
        /// ``successful=False`` with the next step in ``data``; it does not raise.
        #[pyo3(signature = (tool_slug, arguments=None, *, connected_account_id=None))]
        fn execute(&self, tool_slug: String, arguments: Option<&Bound<'py, PyAny>>, connected_account_id: Option<String>) -> ExecuteResult {
            let (session, args) = (self.inner.clone(), json::object_arg("arguments", arguments)?);
            async move { session.execute(&tool_slug, args, connected_account_id).await.py() }
        }

        /// The session's toolkit tools ranked for a use case in words, best first.
        #[pyo3(signature = (query, *, toolkits=None, limit=None))]
        fn search(&self, query: String, toolkits: Option<&Bound<'py, PyAny>>, limit: Option<&Bound<'py, PyAny>>) -> Vec<SearchHit> {
            let (session, req) = (self.inner.clone(), options::search_request(query, toolkits, limit)?);
            async move { session.search(&req).await.py().map(list) }
        }

        /// Sends a request to a toolkit's API signed with the user's account; ``endpoint`` is a
        /// path under the API's base URL. Any status comes back as a result, not an exception.
        // A literal default, so the runtime signature shows `method='GET'` (stubtest compares it).
        #[pyo3(signature = (endpoint, method="GET", *, toolkit=None, connected_account_id=None, body=None, headers=None, query=None))]
        fn proxy_execute(
            &self,
            endpoint: String,
            method: &str,
            toolkit: Option<String>,
            connected_account_id: Option<String>,
            body: Option<&Bound<'py, PyAny>>,
            headers: Option<&Bound<'py, PyAny>>,
            query: Option<&Bound<'py, PyAny>>,
        ) -> ProxyResult {
            let req = options::proxy_request(endpoint, method.to_string(), toolkit, connected_account_id, body, headers, query)?;
            let session = self.inner.clone();
            async move { session.proxy_execute(&req).await.map_err(|e| core::client::options::proxy_error(e, &req)).py() }
        }

        /// Mints a short-lived token for a browser widget (default 900 s): it can only authorize,
        /// wait and list toolkits in this session. Give its ``token`` to the page, never the API key.
        #[pyo3(signature = (ttl_seconds=None))]
        fn client_token(&self, ttl_seconds: Option<&Bound<'py, PyAny>>) -> ClientToken {
            let (session, ttl_seconds) = (self.inner.clone(), options::client_token_ttl(ttl_seconds)?);
            async move { session.client_token(ttl_seconds).await.py() }
        }

        /// Revokes one of this session's client tokens by id (``ct_…``).
        fn revoke_client_token(&self, token_id: String) -> () {
            let session = self.inner.clone();
            async move { session.revoke_client_token(&token_id).await.py() }
        }

        /// Headers for an MCP client (``Authorization: Bearer glmcp_…``): a credential for this
        /// session's MCP endpoint only, minted on first use and kept; ``mcp.headers`` gives the
        /// same ones (on an ``AsyncSession``, once this has minted them).
        fn mcp_headers(&self) -> BTreeMap<String, String> {
            let session = self.inner.clone();
            async move { session.mcp_headers().await.py() }
        }

        /// Mints a credential for this session's MCP endpoint (default 30 days, at most 365).
        /// Give its ``url`` and ``headers`` to the MCP client, never the API key.
        #[pyo3(signature = (*, ttl_seconds=None, name=None))]
        fn create_mcp_credential(&self, ttl_seconds: Option<&Bound<'py, PyAny>>, name: Option<&Bound<'py, PyAny>>) -> McpCredential {
            let (session, request) = (self.inner.clone(), options::mcp_credential_request(ttl_seconds, name)?);
            async move { session.create_mcp_credential(request).await.py() }
        }

        /// This session's MCP credentials, newest first, without their secrets.
        fn mcp_credentials(&self) -> Vec<McpCredentialInfo> {
            let session = self.inner.clone();
            async move { session.mcp_credentials().await.py().map(list) }
        }

        /// Revokes one of this session's MCP credentials by id (``mcpc_…``).
        fn revoke_mcp_credential(&self, credential_id: String) -> () {
            let session = self.inner.clone();
            async move { session.revoke_mcp_credential(&credential_id).await.py() }
        }
    }
}

twins! {
    /// A started connection: the link to show, and the account it completes.
    pub struct ConnectionRequest;
    /// The asyncio twin of ``ConnectionRequest``.
    pub struct AsyncConnectionRequest;
    wraps inner: core::ConnectionRequest;

    both {
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

        // The link carries a single-use token: it is not shown.
        fn __repr__(&self) -> String {
            format!("{}(id={:?})", Self::NAME, self.inner.id())
        }
    }

    calls {
        /// Waits until the account is ACTIVE and returns it. Raises
        /// ``ConnectionRequestFailedError`` at once on FAILED/EXPIRED/REVOKED and
        /// ``ConnectionRequestTimeoutError`` after ``timeout`` seconds (default 60).
        #[pyo3(signature = (timeout=None))]
        fn wait_for_connection(&self, timeout: Option<f64>) -> ConnectedAccount {
            let (req, timeout) = (self.inner.clone(), options::wait_timeout(timeout)?);
            async move { req.wait_for_connection(timeout).await.py() }
        }
    }
}

twins! {
    /// The project's connected accounts.
    pub struct ConnectedAccounts;
    /// The asyncio twin of ``ConnectedAccounts``.
    pub struct AsyncConnectedAccounts;
    wraps inner: core::client::ConnectedAccounts;

    calls {
        /// The account ``id``; raises ``NotFoundError`` when there is none.
        fn get(&self, id: String) -> ConnectedAccount {
            let accounts = self.inner.clone();
            async move { accounts.get(&id).await.py() }
        }

        /// One page of accounts, filtered.
        #[pyo3(signature = (*, user_ids=None, toolkit_slugs=None, statuses=None, cursor=None, limit=None))]
        fn list(
            &self,
            user_ids: Option<&Bound<'py, PyAny>>,
            toolkit_slugs: Option<&Bound<'py, PyAny>>,
            statuses: Option<&Bound<'py, PyAny>>,
            cursor: Option<&Bound<'py, PyAny>>,
            limit: Option<&Bound<'py, PyAny>>,
        ) -> AccountsPage {
            let accounts = self.inner.clone();
            let (filter, cursor, limit) = options::account_filter(user_ids, toolkit_slugs, statuses, cursor, limit)?;
            async move { accounts.list(&filter, cursor.as_deref(), limit).await.py() }
        }

        /// Deletes the account ``id`` and its stored credentials.
        fn delete(&self, id: String) -> () {
            let accounts = self.inner.clone();
            async move { accounts.delete(&id).await.py() }
        }

        /// Enables the account ``id``.
        fn enable(&self, id: String) -> () {
            let accounts = self.inner.clone();
            async move { accounts.set_enabled(&id, true).await.py() }
        }

        /// Disables the account ``id`` (it stays stored but is not used).
        fn disable(&self, id: String) -> () {
            let accounts = self.inner.clone();
            async move { accounts.set_enabled(&id, false).await.py() }
        }

        /// Reconnects the account ``id`` under the same id: ``redirect_url`` of the answer is a new
        /// Connect Link for the user (``callback_url``: where they land after it, on the project's
        /// allow-list). The account keeps its status and credentials until the user completes the
        /// link, then it is ACTIVE with the new ones; older links stop working. Follow it with
        /// ``wait_for_connection(id)``.
        #[pyo3(signature = (id, callback_url=None))]
        fn refresh(&self, id: String, callback_url: Option<String>) -> RefreshedAccount {
            let accounts = self.inner.clone();
            async move { accounts.refresh(&id, callback_url.as_deref()).await.py() }
        }

        /// Revokes the account ``id``'s grant at the provider where it can, then marks it REVOKED
        /// and wipes its credentials; revoking again is harmless.
        fn revoke(&self, id: String) -> RevokedAccount {
            let accounts = self.inner.clone();
            async move { accounts.revoke(&id).await.py() }
        }

        /// Waits until account ``id`` is ACTIVE (or its reconnect link ends), like
        /// ``ConnectionRequest.wait_for_connection``.
        #[pyo3(signature = (id, timeout=None))]
        fn wait_for_connection(&self, id: String, timeout: Option<f64>) -> ConnectedAccount {
            let (accounts, timeout) = (self.inner.clone(), options::wait_timeout(timeout)?);
            async move { accounts.wait_for_connection(&id, timeout).await.py() }
        }
    }
}

twins! {
    /// The project's webhook subscriptions: where the broker sends signed events when connected
    /// accounts change, and what it sent to each.
    pub struct Webhooks;
    /// The asyncio twin of ``Webhooks``.
    pub struct AsyncWebhooks;
    wraps inner: core::client::Webhooks;

    calls {
        /// Subscribes ``webhook_url`` to ``enabled_events`` (see ``event_types()``); the answer
        /// carries the ``secret`` to verify deliveries with.
        fn create(&self, webhook_url: String, enabled_events: Vec<String>) -> WebhookSubscription {
            let webhooks = self.inner.clone();
            async move { webhooks.create(&webhook_url, &enabled_events).await.py() }
        }

        /// One page of the project's subscriptions, oldest first.
        #[pyo3(signature = (*, cursor=None, limit=None))]
        fn list(&self, cursor: Option<&Bound<'py, PyAny>>, limit: Option<&Bound<'py, PyAny>>) -> WebhookSubscriptionsPage {
            let (webhooks, (cursor, limit)) = (self.inner.clone(), options::page_options(cursor, limit)?);
            async move { webhooks.list(cursor.as_deref(), limit).await.py() }
        }

        /// The subscription ``id``; raises ``NotFoundError`` when there is none.
        fn get(&self, id: String) -> WebhookSubscription {
            let webhooks = self.inner.clone();
            async move { webhooks.get(&id).await.py() }
        }

        /// Changes the receiver URL and/or the event types of subscription ``id``.
        #[pyo3(signature = (id, *, webhook_url=None, enabled_events=None))]
        fn update(&self, id: String, webhook_url: Option<String>, enabled_events: Option<Vec<String>>) -> WebhookSubscription {
            let (webhooks, change) = (self.inner.clone(), options::webhook_update(webhook_url, enabled_events)?);
            async move { webhooks.update(&id, &change).await.py() }
        }

        /// Deletes subscription ``id`` and its pending deliveries.
        fn delete(&self, id: String) -> () {
            let webhooks = self.inner.clone();
            async move { webhooks.delete(&id).await.py() }
        }

        /// A new secret for subscription ``id``; every attempt from now on is signed with it only.
        fn rotate_secret(&self, id: String) -> RotatedWebhookSecret {
            let webhooks = self.inner.clone();
            async move { webhooks.rotate_secret(&id).await.py() }
        }

        /// Every event type a subscription can enable.
        fn event_types(&self) -> Vec<WebhookEventType> {
            let webhooks = self.inner.clone();
            async move { webhooks.event_types().await.py().map(|types| list(types.items)) }
        }

        /// One page of subscription ``id``'s deliveries, newest first, each with its attempts.
        #[pyo3(signature = (id, *, cursor=None, limit=None))]
        fn deliveries(&self, id: String, cursor: Option<&Bound<'py, PyAny>>, limit: Option<&Bound<'py, PyAny>>) -> WebhookDeliveriesPage {
            let (webhooks, (cursor, limit)) = (self.inner.clone(), options::page_options(cursor, limit)?);
            async move { webhooks.deliveries(&id, cursor.as_deref(), limit).await.py() }
        }

        /// Sends delivery ``delivery_id`` (``msg_…``) of subscription ``id`` again now, whatever became of it.
        fn retry(&self, id: String, delivery_id: String) -> () {
            let webhooks = self.inner.clone();
            async move { webhooks.retry(&id, &delivery_id).await.py() }
        }
    }
}
