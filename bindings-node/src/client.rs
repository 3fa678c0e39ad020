//! The JS classes: `Grantline`, `Session`, `ConnectionRequest`, `ConnectedAccounts`, `Webhooks`.
//! Every method returns a Promise settled on the JS thread; errors become `errors.js` classes.

use std::future::Future;
use std::collections::HashMap;
use std::sync::Arc;

use grantline_core as core;
use napi::bindgen_prelude::*;
use napi_derive::napi;

use crate::errors::{to_js, Failure};
use crate::json;
use crate::options;
use grantline_core::client::options::{self as rules, Naming::Camel, Unit};
use crate::types::{
    AccountsPage, ClientToken, ConnectedAccount, ProjectInfo, UserVerification, ExecuteResult, Mcp, McpCredential, McpCredentialInfo, MetaResult, ProxyResult, RefreshedAccount, RevokedAccount,
    RotatedWebhookSecret, SearchHit, Tool, Toolkit, ToolkitsPage, WebhookDeliveriesPage, WebhookEventType, WebhookSubscription,
    WebhookSubscriptionsPage,
};

/// Runs `fut` on the tokio runtime; resolves with `convert(value)` or rejects with the JS error.
fn promise<'env, T, V, F>(env: &'env Env, fut: F, convert: impl FnOnce(T) -> V + 'static) -> Result<PromiseRaw<'env, V>>
where
    F: Future<Output = std::result::Result<T, Failure>> + Send + 'static,
    T: Send + 'static,
    V: ToNapiValue,
{
    env.spawn_future_with_callback(async move { Ok(fut.await) }, move |env, out| match out {
        Ok(v) => Ok(convert(v)),
        Err(f) => Err(to_js(env, f)),
    })
}

/// A core result as a `Failure` result.
fn core<T>(r: core::Result<T>) -> std::result::Result<T, Failure> {
    r.map_err(Failure::Core)
}

/// A client of one Grantline broker, authenticated with a project API key.
#[napi]
pub struct Grantline {
    client: core::Client,
}

#[napi]
impl Grantline {
    /// `apiKey` and `baseUrl` default to `GRANTLINE_API_KEY` and `GRANTLINE_BASE_URL`.
    #[napi(constructor, ts_args_type = "options?: GrantlineOptions | null")]
    pub fn new(env: Env, options: Option<Unknown>) -> Result<Self> {
        let made = options::client_config(options).and_then(core::Client::new);
        made.map(|client| Self { client }).map_err(|e| to_js(&env, Failure::Core(e)))
    }

    /// Creates a session for one end user.
    #[napi(ts_args_type = "userId: string, options?: CreateSessionOptions | null", ts_return_type = "Promise<Session>")]
    pub fn create<'env>(&self, env: &'env Env, user_id: String, options: Option<Unknown>) -> Result<PromiseRaw<'env, Session>> {
        let (client, opts) = (self.client.clone(), json::options(options).and_then(|o| rules::session_options(o.as_ref(), Camel)));
        promise(env, async move { core(client.create(&user_id, core(opts)?).await) }, Session::from)
    }

    /// Opens an existing session by its id (`trs_…`).
    #[napi(js_name = "use", ts_return_type = "Promise<Session>")]
    pub fn use_session<'env>(&self, env: &'env Env, session_id: String) -> Result<PromiseRaw<'env, Session>> {
        let client = self.client.clone();
        promise(env, async move { core(client.use_session(&session_id).await) }, Session::from)
    }

    /// The project and the profile its pages show.
    #[napi(ts_return_type = "Promise<ProjectInfo>")]
    pub fn project<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ProjectInfo>> {
        let client = self.client.clone();
        promise(env, async move { core(client.project().await) }, ProjectInfo::from)
    }

    /// Changes the project's profile: what is left out is kept; `null` clears a value.
    #[napi(ts_args_type = "change: ProjectChange", ts_return_type = "Promise<ProjectInfo>")]
    pub fn update_project<'env>(&self, env: &'env Env, change: Unknown) -> Result<PromiseRaw<'env, ProjectInfo>> {
        let (client, patch) = (self.client.clone(), json::options(Some(change)).and_then(|c| rules::project_patch(c.as_ref(), Camel)));
        promise(env, async move { core(client.update_project(&core(patch)?).await) }, ProjectInfo::from)
    }

    /// Says who the browser's user is, from the app's verification page (its backend): the
    /// broker sent the browser there with `?flow_id=uvf_…`. Send the browser to the answer's
    /// `redirectUrl`; when `matched` is false the flow has ended.
    #[napi(ts_return_type = "Promise<UserVerification>")]
    pub fn confirm_user<'env>(&self, env: &'env Env, flow_id: String, user_id: String) -> Result<PromiseRaw<'env, UserVerification>> {
        let client = self.client.clone();
        promise(env, async move { core(client.confirm_user(&flow_id, &user_id).await) }, UserVerification::from)
    }

    /// Connected-account operations.
    #[napi(getter)]
    pub fn connected_accounts(&self) -> ConnectedAccounts {
        ConnectedAccounts { inner: self.client.connected_accounts() }
    }

    /// Webhook subscriptions (create, list, get, update, delete, rotateSecret, eventTypes) and
    /// their deliveries (deliveries, retry).
    #[napi(getter)]
    pub fn webhooks(&self) -> Webhooks {
        Webhooks { inner: self.client.webhooks() }
    }

    /// The broker's base URL.
    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.client.base_url().to_string()
    }

    /// What `JSON.stringify` shows: the base URL, never the key.
    #[napi(js_name = "toJSON", ts_return_type = "{ baseUrl: string }")]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "baseUrl": self.client.base_url() })
    }
}

/// One end user's session: authorize toolkits, list them, run their tools, reach the MCP endpoint.
#[napi]
pub struct Session {
    inner: core::Session,
}

impl From<core::Session> for Session {
    fn from(inner: core::Session) -> Self {
        Self { inner }
    }
}

#[napi]
impl Session {
    /// The session id (`trs_…`).
    #[napi(getter)]
    pub fn session_id(&self) -> String {
        self.inner.session_id().to_string()
    }

    /// The end user the session belongs to.
    #[napi(getter)]
    pub fn user_id(&self) -> String {
        self.inner.user_id().to_string()
    }

    /// Where an MCP client reaches this session's tools.
    #[napi(getter)]
    pub fn mcp(&self) -> Mcp {
        let info = self.inner.mcp();
        let headers = self.inner.cached_mcp_headers().map(|h| h.into_iter().collect());
        Mcp { kind: info.kind.clone(), url: info.url.clone(), headers }
    }

    /// Starts connecting `toolkit`; show `redirectUrl` of the result to the user.
    #[napi(ts_args_type = "toolkit: string, options?: AuthorizeOptions | null", ts_return_type = "Promise<ConnectionRequest>")]
    pub fn authorize<'env>(&self, env: &'env Env, toolkit: String, options: Option<Unknown>) -> Result<PromiseRaw<'env, ConnectionRequest>> {
        let (session, opts) = (self.inner.clone(), json::options(options).and_then(|o| rules::authorize_options(o.as_ref(), Camel)));
        promise(env, async move { core(session.authorize(&toolkit, core(opts)?).await) }, ConnectionRequest::from)
    }

    /// One page of the session's toolkits with the user's connection state.
    #[napi(ts_args_type = "query?: ToolkitsQuery | null", ts_return_type = "Promise<ToolkitsPage>")]
    pub fn toolkits<'env>(&self, env: &'env Env, query: Option<Unknown>) -> Result<PromiseRaw<'env, ToolkitsPage>> {
        let (session, q) = (self.inner.clone(), json::options(query).and_then(|q| rules::toolkits_query(q.as_ref(), Camel)));
        promise(env, async move { core(session.toolkits(&core(q)?).await) }, ToolkitsPage::from)
    }

    /// Every matching toolkit, walking all pages.
    #[napi(ts_args_type = "query?: ToolkitsQuery | null", ts_return_type = "Promise<Toolkit[]>")]
    pub fn all_toolkits<'env>(&self, env: &'env Env, query: Option<Unknown>) -> Result<PromiseRaw<'env, Vec<Toolkit>>> {
        let (session, q) = (self.inner.clone(), json::options(query).and_then(|q| rules::toolkits_query(q.as_ref(), Camel)));
        promise(env, async move { core(session.all_toolkits(&core(q)?).await) }, |items| items.into_iter().map(Toolkit::from).collect())
    }

    /// The session's meta tools.
    #[napi(ts_return_type = "Promise<Tool[]>")]
    pub fn tools<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Vec<Tool>>> {
        let session = self.inner.clone();
        promise(env, async move { core(session.tools().await) }, |tools| tools.into_iter().map(Tool::from).collect())
    }

    /// Runs a meta tool, e.g. `COMPOSIO_MANAGE_CONNECTIONS` with `{ toolkits: ['github'] }`.
    #[napi(ts_args_type = "slug: string, args?: Record<string, unknown> | null", ts_return_type = "Promise<MetaResult>")]
    pub fn execute_meta<'env>(&self, env: &'env Env, slug: String, arguments: Option<Unknown>) -> Result<PromiseRaw<'env, MetaResult>> {
        let (session, args) = (self.inner.clone(), json::object("arguments", arguments));
        promise(env, async move { core(session.execute_meta(&slug, core(args)?).await) }, MetaResult::from)
    }

    /// Runs a toolkit tool as the session's user, e.g. `GITHUB_CREATE_AN_ISSUE`. A toolkit the
    /// user has not connected resolves with `successful: false` and the next step in `data`.
    #[napi(
        ts_args_type = "toolSlug: string, args?: Record<string, unknown> | null, options?: ExecuteOptions | null",
        ts_return_type = "Promise<ExecuteResult>"
    )]
    pub fn execute<'env>(
        &self,
        env: &'env Env,
        tool_slug: String,
        arguments: Option<Unknown>,
        options: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, ExecuteResult>> {
        let (session, args) = (self.inner.clone(), json::object("arguments", arguments));
        let account = json::options(options).and_then(|o| rules::execute_account(o.as_ref(), Camel));
        promise(env, async move { core(session.execute(&tool_slug, core(args)?, core(account)?).await) }, ExecuteResult::from)
    }

    /// The session's toolkit tools ranked for a use case in words, best first.
    #[napi(ts_args_type = "query: string, options?: SearchOptions | null", ts_return_type = "Promise<SearchHit[]>")]
    pub fn search<'env>(&self, env: &'env Env, query: String, options: Option<Unknown>) -> Result<PromiseRaw<'env, Vec<SearchHit>>> {
        let (session, request) = (self.inner.clone(), json::options(options).and_then(|o| rules::search_request(query, o.as_ref(), Camel)));
        promise(env, async move { core(session.search(&core(request)?).await) }, |hits| hits.into_iter().map(SearchHit::from).collect())
    }

    /// A request to a provider's API as the session's user; the broker adds the credential.
    #[napi(ts_args_type = "request: ProxyRequest", ts_return_type = "Promise<ProxyResult>")]
    pub fn proxy_execute<'env>(&self, env: &'env Env, request: Unknown) -> Result<PromiseRaw<'env, ProxyResult>> {
        let (session, parsed) = (self.inner.clone(), json::options(Some(request)).and_then(|r| rules::proxy_request(r.as_ref(), Camel)));
        let fut = async move {
            let request = core(parsed)?;
            core(session.proxy_execute(&request).await.map_err(|e| rules::proxy_error(e, &request)))
        };
        promise(env, fut, ProxyResult::from)
    }

    /// Mints a short-lived token for a browser widget: it can only authorize, wait and list
    /// toolkits in this session. Pass its `token` to the page, never the API key.
    #[napi(ts_args_type = "options?: ClientTokenOptions | null", ts_return_type = "Promise<ClientToken>")]
    pub fn client_token<'env>(&self, env: &'env Env, options: Option<Unknown>) -> Result<PromiseRaw<'env, ClientToken>> {
        let session = self.inner.clone();
        let ttl = json::options(options).and_then(|o| rules::client_token_ttl(o.as_ref(), Camel));
        promise(env, async move { core(session.client_token(core(ttl)?).await) }, ClientToken::from)
    }

    /// Revokes one of this session's client tokens by id (`ct_…`).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn revoke_client_token<'env>(&self, env: &'env Env, id: String) -> Result<PromiseRaw<'env, ()>> {
        let session = self.inner.clone();
        promise(env, async move { core(session.revoke_client_token(&id).await) }, |()| ())
    }

    /// Headers for an MCP client (`{ Authorization: 'Bearer glmcp_…' }`): a credential for this
    /// session's MCP endpoint only (never the API key), minted on first use and kept by this
    /// session object (`session.mcp.headers` has them from then on).
    #[napi(ts_return_type = "Promise<Record<string, string>>")]
    pub fn mcp_headers<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, HashMap<String, String>>> {
        let session = self.inner.clone();
        promise(env, async move { core(session.mcp_headers().await) }, |h| h.into_iter().collect())
    }

    /// Mints a credential for this session's MCP endpoint (default 30 days, at most 365): give
    /// its `url` and `headers` to an MCP client, never the API key.
    #[napi(ts_args_type = "options?: McpCredentialOptions | null", ts_return_type = "Promise<McpCredential>")]
    pub fn create_mcp_credential<'env>(&self, env: &'env Env, options: Option<Unknown>) -> Result<PromiseRaw<'env, McpCredential>> {
        let session = self.inner.clone();
        let request = json::options(options).and_then(|o| rules::mcp_credential_request(o.as_ref(), Camel));
        promise(env, async move { core(session.create_mcp_credential(core(request)?).await) }, McpCredential::from)
    }

    /// This session's MCP credentials, newest first, without their secrets.
    #[napi(ts_return_type = "Promise<McpCredentialInfo[]>")]
    pub fn mcp_credentials<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Vec<McpCredentialInfo>>> {
        let session = self.inner.clone();
        promise(env, async move { core(session.mcp_credentials().await) }, |l| l.into_iter().map(McpCredentialInfo::from).collect())
    }

    /// Revokes one of this session's MCP credentials by id (`mcpc_…`).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn revoke_mcp_credential<'env>(&self, env: &'env Env, id: String) -> Result<PromiseRaw<'env, ()>> {
        let session = self.inner.clone();
        promise(env, async move { core(session.revoke_mcp_credential(&id).await) }, |()| ())
    }

    /// What `JSON.stringify` shows (the MCP headers, which carry a credential, are left out).
    #[napi(js_name = "toJSON", ts_return_type = "{ sessionId: string; userId: string; mcp: { type: string; url: string } }")]
    pub fn to_json(&self) -> serde_json::Value {
        let mcp = self.inner.mcp();
        serde_json::json!({ "sessionId": self.inner.session_id(), "userId": self.inner.user_id(), "mcp": { "type": mcp.kind, "url": mcp.url } })
    }
}

/// A started connection: the link to show, and the account it completes.
#[napi]
pub struct ConnectionRequest {
    inner: core::ConnectionRequest,
}

impl From<core::ConnectionRequest> for ConnectionRequest {
    fn from(inner: core::ConnectionRequest) -> Self {
        Self { inner }
    }
}

/// `EventTarget.prototype.addEventListener(type, listener, options)`.
type AddEventListener<'a> = Function<'a, FnArgs<(&'a str, Function<'a, (), ()>, Object<'a>)>, ()>;

/// What ends a wait when the caller's `AbortSignal` fires: the core's cancel, ending with
/// `AbortError` at once (the default `OnCancel::Stop`: no last look at the broker).
type Abort = std::pin::Pin<Box<dyn Future<Output = Failure> + Send>>;

/// Runs the core's cancellable wait that `wait` builds, with `signal` (an `AbortSignal`) as its
/// cancel. A signal that has already fired ends it before any request.
fn abortable_wait<'env, F>(env: &'env Env, signal: Option<Object>, wait: impl FnOnce(Abort) -> F) -> Result<PromiseRaw<'env, ConnectedAccount>>
where
    F: Future<Output = std::result::Result<core::model::ConnectedAccount, Failure>> + Send + 'static,
{
    let aborted = Arc::new(tokio::sync::Notify::new());
    if let Some(signal) = signal {
        if signal.get_named_property::<bool>("aborted")? {
            aborted.notify_one();
        } else {
            let notify = aborted.clone();
            let on_abort = env.create_function_from_closure("onAbort", move |_| {
                notify.notify_one();
                Ok(())
            })?;
            let add: AddEventListener = signal.get_named_property("addEventListener")?;
            let mut once = Object::new(env)?;
            once.set("once", true)?;
            add.apply(signal, FnArgs::from(("abort", on_abort, once)))?;
        }
    }
    let abort: Abort = Box::pin(async move {
        aborted.notified().await;
        Failure::Aborted
    });
    promise(env, wait(abort), ConnectedAccount::from)
}

/// A wait of `timeout` by the core's defaults, that the caller's `AbortSignal` may cancel.
fn wait_options(timeout: std::time::Duration) -> core::client::WaitOptions {
    core::client::WaitOptions { timeout, ..Default::default() }
}

/// `{ signal }` of the wait methods.
fn signal_of(options: Option<Object>) -> Result<Option<Object>> {
    match options {
        Some(o) => o.get_named_property::<Option<Object>>("signal"),
        None => Ok(None),
    }
}

#[napi]
impl ConnectionRequest {
    /// The connected account id (`ca_…`), INITIATED until the user finishes.
    #[napi(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    /// The Connect Link to open in the user's browser.
    #[napi(getter)]
    pub fn redirect_url(&self) -> String {
        self.inner.redirect_url().to_string()
    }

    /// Resolves with the account once ACTIVE; rejects at once on FAILED/EXPIRED/REVOKED,
    /// after `timeoutMs` (default 60000), or when `options.signal` aborts.
    #[napi(ts_args_type = "timeoutMs?: number, options?: { signal?: AbortSignal }", ts_return_type = "Promise<ConnectedAccount>")]
    pub fn wait_for_connection<'env>(&self, env: &'env Env, timeout_ms: Option<f64>, options: Option<Object>) -> Result<PromiseRaw<'env, ConnectedAccount>> {
        let timeout = rules::wait_timeout(timeout_ms, Unit::Millis).map_err(|e| to_js(env, Failure::Core(e)))?;
        let req = self.inner.clone();
        abortable_wait(env, signal_of(options)?, move |abort| async move { req.wait_with(wait_options(timeout), abort).await })
    }

    /// What `JSON.stringify` shows.
    #[napi(js_name = "toJSON", ts_return_type = "{ id: string; redirectUrl: string }")]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({ "id": self.inner.id(), "redirectUrl": self.inner.redirect_url() })
    }
}

/// The project's connected accounts.
#[napi]
pub struct ConnectedAccounts {
    inner: core::client::ConnectedAccounts,
}

#[napi]
impl ConnectedAccounts {
    /// The account `id`; rejects with `NotFoundError` when there is none.
    #[napi(ts_return_type = "Promise<ConnectedAccount>")]
    pub fn get<'env>(&self, env: &'env Env, id: String) -> Result<PromiseRaw<'env, ConnectedAccount>> {
        let accounts = self.inner.clone();
        promise(env, async move { core(accounts.get(&id).await) }, ConnectedAccount::from)
    }

    /// One page of accounts, filtered.
    #[napi(ts_args_type = "filter?: AccountsFilter | null", ts_return_type = "Promise<AccountsPage>")]
    pub fn list<'env>(&self, env: &'env Env, filter: Option<Unknown>) -> Result<PromiseRaw<'env, AccountsPage>> {
        let accounts = self.inner.clone();
        let parsed = json::options(filter).and_then(|f| rules::account_filter(f.as_ref(), Camel));
        promise(
            env,
            async move {
                let (filter, cursor, limit) = core(parsed)?;
                core(accounts.list(&filter, cursor.as_deref(), limit).await)
            },
            AccountsPage::from,
        )
    }

    /// Deletes the account `id` and its stored credentials.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete<'env>(&self, env: &'env Env, id: String) -> Result<PromiseRaw<'env, ()>> {
        let accounts = self.inner.clone();
        promise(env, async move { core(accounts.delete(&id).await) }, |()| ())
    }

    /// Enables the account `id`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn enable<'env>(&self, env: &'env Env, id: String) -> Result<PromiseRaw<'env, ()>> {
        let accounts = self.inner.clone();
        promise(env, async move { core(accounts.set_enabled(&id, true).await) }, |()| ())
    }

    /// Disables the account `id` (kept, but not used).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn disable<'env>(&self, env: &'env Env, id: String) -> Result<PromiseRaw<'env, ()>> {
        let accounts = self.inner.clone();
        promise(env, async move { core(accounts.set_enabled(&id, false).await) }, |()| ())
    }

    /// Reconnects the account `id` under the same id: `redirectUrl` of the answer is a new
    /// Connect Link for the user. The account keeps its status and credentials until the user
    /// completes it, then it is ACTIVE with the new ones; older links stop working. Follow it
    /// with `waitForConnection(id)`.
    #[napi(ts_args_type = "id: string, options?: RefreshOptions | null", ts_return_type = "Promise<RefreshedAccount>")]
    pub fn refresh<'env>(&self, env: &'env Env, id: String, options: Option<Unknown>) -> Result<PromiseRaw<'env, RefreshedAccount>> {
        let accounts = self.inner.clone();
        let callback_url = json::options(options).and_then(|o| rules::refresh_callback_url(o.as_ref(), Camel));
        promise(env, async move { core(accounts.refresh(&id, core(callback_url)?.as_deref()).await) }, RefreshedAccount::from)
    }

    /// Revokes the account `id`'s grant at the provider where it can, then marks it REVOKED
    /// and wipes its credentials; revoking again is harmless.
    #[napi(ts_return_type = "Promise<RevokedAccount>")]
    pub fn revoke<'env>(&self, env: &'env Env, id: String) -> Result<PromiseRaw<'env, RevokedAccount>> {
        let accounts = self.inner.clone();
        promise(env, async move { core(accounts.revoke(&id).await) }, RevokedAccount::from)
    }

    /// Resolves once account `id` is ACTIVE (or its reconnect link ends), like `ConnectionRequest.waitForConnection`.
    #[napi(ts_args_type = "id: string, timeoutMs?: number, options?: { signal?: AbortSignal }", ts_return_type = "Promise<ConnectedAccount>")]
    pub fn wait_for_connection<'env>(&self, env: &'env Env, id: String, timeout_ms: Option<f64>, options: Option<Object>) -> Result<PromiseRaw<'env, ConnectedAccount>> {
        let timeout = rules::wait_timeout(timeout_ms, Unit::Millis).map_err(|e| to_js(env, Failure::Core(e)))?;
        let accounts = self.inner.clone();
        abortable_wait(env, signal_of(options)?, move |abort| async move { accounts.wait_with(&id, wait_options(timeout), abort).await })
    }
}

/// The project's webhook subscriptions: where the broker sends signed events when connected
/// accounts change, and what it sent to each.
#[napi]
pub struct Webhooks {
    inner: core::client::Webhooks,
}

#[napi]
impl Webhooks {
    /// Subscribes `webhookUrl` to `enabledEvents` (see `eventTypes()`); the answer carries the
    /// `secret` to verify deliveries with.
    #[napi(ts_return_type = "Promise<WebhookSubscription>")]
    pub fn create<'env>(&self, env: &'env Env, webhook_url: String, enabled_events: Vec<String>) -> Result<PromiseRaw<'env, WebhookSubscription>> {
        let webhooks = self.inner.clone();
        promise(env, async move { core(webhooks.create(&webhook_url, &enabled_events).await) }, WebhookSubscription::from)
    }

    /// One page of the project's subscriptions, oldest first.
    #[napi(ts_args_type = "options?: PageOptions | null", ts_return_type = "Promise<WebhookSubscriptionsPage>")]
    pub fn list<'env>(&self, env: &'env Env, options: Option<Unknown>) -> Result<PromiseRaw<'env, WebhookSubscriptionsPage>> {
        let (webhooks, page) = (self.inner.clone(), json::options(options).and_then(|o| rules::page_options(o.as_ref(), Camel)));
        let fut = async move {
            let (cursor, limit) = core(page)?;
            core(webhooks.list(cursor.as_deref(), limit).await)
        };
        promise(env, fut, WebhookSubscriptionsPage::from)
    }

    /// The subscription `id`; rejects with `NotFoundError` when there is none.
    #[napi(ts_return_type = "Promise<WebhookSubscription>")]
    pub fn get<'env>(&self, env: &'env Env, id: String) -> Result<PromiseRaw<'env, WebhookSubscription>> {
        let webhooks = self.inner.clone();
        promise(env, async move { core(webhooks.get(&id).await) }, WebhookSubscription::from)
    }

    /// Changes the receiver URL and/or the event types of subscription `id`.
    #[napi(ts_args_type = "id: string, change: WebhookUpdate", ts_return_type = "Promise<WebhookSubscription>")]
    pub fn update<'env>(&self, env: &'env Env, id: String, change: Unknown) -> Result<PromiseRaw<'env, WebhookSubscription>> {
        let (webhooks, change) = (self.inner.clone(), json::options(Some(change)).and_then(|c| rules::webhook_update(c.as_ref(), Camel)));
        promise(env, async move { core(webhooks.update(&id, &core(change)?).await) }, WebhookSubscription::from)
    }

    /// Deletes subscription `id` and its pending deliveries.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn delete<'env>(&self, env: &'env Env, id: String) -> Result<PromiseRaw<'env, ()>> {
        let webhooks = self.inner.clone();
        promise(env, async move { core(webhooks.delete(&id).await) }, |()| ())
    }

    /// A new secret for subscription `id`; every attempt from now on is signed with it only.
    #[napi(ts_return_type = "Promise<RotatedWebhookSecret>")]
    pub fn rotate_secret<'env>(&self, env: &'env Env, id: String) -> Result<PromiseRaw<'env, RotatedWebhookSecret>> {
        let webhooks = self.inner.clone();
        promise(env, async move { core(webhooks.rotate_secret(&id).await) }, RotatedWebhookSecret::from)
    }

    /// Every event type a subscription can enable.
    #[napi(ts_return_type = "Promise<WebhookEventType[]>")]
    pub fn event_types<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, Vec<WebhookEventType>>> {
        let webhooks = self.inner.clone();
        promise(env, async move { core(webhooks.event_types().await) }, |types| types.items.into_iter().map(WebhookEventType::from).collect())
    }

    /// One page of subscription `id`'s deliveries, newest first, each with its attempts.
    #[napi(ts_args_type = "id: string, options?: PageOptions | null", ts_return_type = "Promise<WebhookDeliveriesPage>")]
    pub fn deliveries<'env>(&self, env: &'env Env, id: String, options: Option<Unknown>) -> Result<PromiseRaw<'env, WebhookDeliveriesPage>> {
        let (webhooks, page) = (self.inner.clone(), json::options(options).and_then(|o| rules::page_options(o.as_ref(), Camel)));
        let fut = async move {
            let (cursor, limit) = core(page)?;
            core(webhooks.deliveries(&id, cursor.as_deref(), limit).await)
        };
        promise(env, fut, WebhookDeliveriesPage::from)
    }

    /// Sends delivery `deliveryId` (`msg_…`) of subscription `id` again now, whatever became of it.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn retry<'env>(&self, env: &'env Env, id: String, delivery_id: String) -> Result<PromiseRaw<'env, ()>> {
        let webhooks = self.inner.clone();
        promise(env, async move { core(webhooks.retry(&id, &delivery_id).await) }, |()| ())
    }
}
