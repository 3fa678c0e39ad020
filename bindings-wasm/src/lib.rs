//! `@grantline/web`: Grantline for the browser. A page holds a session's short-lived client
//! token (minted by the app's backend; never the project API key) and uses it to show the
//! session's toolkits and to connect them: in a popup from the user's click, or by sending
//! the whole page through the Connect Link and back.
//!
//! Everything that is a rule lives in `grantline-core`; this crate converts names, option
//! objects, errors and futures for JavaScript.

mod errors;
mod options;
mod popup;
mod views;

use std::time::Duration;

use grantline_core::client::{OnCancel, WaitOptions};
use grantline_core::{Client, ClientConfig, Error, RedirectOutcome, Session};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

pub use errors::register_error_classes;
use errors::{Failure, Outcome};
use options::Unit;
use popup::Popup;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = r#"
/** Options of `GrantlineWeb.init`. */
export interface InitOptions {
  /** The broker's URL, e.g. `https://grantline.example.com`. */
  baseUrl: string;
  /** A client token the app's backend minted for this session (`glct_…`). Never the API key. */
  clientToken: string;
}
/** Options of `authorize`. */
export interface AuthorizeOptions {
  /** Where the Connect Link returns the user; must be on the project's allowed callback URLs. */
  callbackUrl?: string;
  /** A name for the account, unique per user and toolkit. */
  alias?: string;
}
/** Options of `connect`. */
export interface ConnectOptions extends AuthorizeOptions {
  /** Give up after this many milliseconds (default 600000). */
  timeoutMs?: number;
  /** Send the whole page through the Connect Link instead of a popup; resolves `null` as it leaves.
   *  The callback page then calls `completeRedirect()`. `callbackUrl` defaults to this page. */
  redirect?: boolean;
}
/** Options of `completeRedirect`. */
export interface CompleteRedirectOptions {
  /** The URL to read (default: this page's). */
  url?: string;
  /** How long to wait for the broker to confirm, in milliseconds (default 10000). */
  timeoutMs?: number;
}
/** Filters of `toolkits`. */
export interface ToolkitsOptions {
  toolkits?: string[];
  isConnected?: boolean;
  search?: string;
  cursor?: string;
  limit?: number;
}
/** A user's connection to one toolkit. Credentials are never included. */
export interface ConnectedAccount {
  id: string;
  userId: string;
  toolkit: string;
  status: 'INITIALIZING' | 'INITIATED' | 'ACTIVE' | 'FAILED' | 'EXPIRED' | 'INACTIVE' | 'REVOKED';
  statusReason: string | null;
  alias: string | null;
  isDisabled: boolean;
  isActive: boolean;
  authConfigId: string;
  createdAt: string;
  updatedAt: string;
  /** True while a reconnect link is out; the account keeps its status meanwhile. */
  reconnecting: boolean;
}
/** The account a toolkit of the session is connected with. */
export interface ToolkitConnection {
  isActive: boolean;
  connectedAccountId: string;
  status: string;
  authConfigId: string;
  authScheme: string;
}
/** One toolkit of the session and the user's connection to it. */
export interface Toolkit {
  slug: string;
  name: string;
  description: string;
  logo: string;
  isNoAuth: boolean;
  enabled: boolean;
  isConnected: boolean;
  connection: ToolkitConnection | null;
}
/** One page of toolkits. */
export interface ToolkitsPage {
  items: Toolkit[];
  nextCursor: string | null;
  totalPages: number;
  currentPage: number;
  totalItems: number;
}
"#;

/// A page's handle on one session, authenticated by that session's client token.
#[wasm_bindgen]
pub struct GrantlineWeb {
    client: Client,
    session: Session,
}

#[wasm_bindgen]
impl GrantlineWeb {
    /// Connects to the broker with a client token and loads the session it belongs to.
    #[wasm_bindgen(unchecked_return_type = "Promise<GrantlineWeb>")]
    pub fn init(#[wasm_bindgen(unchecked_param_type = "InitOptions")] options: JsValue) -> js_sys::Promise {
        promise(async move {
            let value = options::json(options)?;
            let o = options::read(&value, &["base_url", "client_token"])?;
            let required = |name: &str, key: &str| -> grantline_core::Result<String> {
                o.string(name)?.filter(|s| !s.is_empty()).ok_or_else(|| Error::validation(key, "is required in init options"))
            };
            let config = ClientConfig::with_client_token(required("base_url", "baseUrl")?, required("client_token", "clientToken")?);
            let client = Client::new(config)?;
            let session = client.client_token_session().await?;
            Ok(GrantlineWeb { client, session }.into())
        })
    }

    /// The session's id (`trs_…`).
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.session.session_id().to_string()
    }

    /// The end user the session is for.
    #[wasm_bindgen(getter, js_name = userId)]
    pub fn user_id(&self) -> String {
        self.session.user_id().to_string()
    }

    /// Starts connecting `toolkit`: an INITIATED account and its Connect Link, to open yourself.
    #[wasm_bindgen(unchecked_return_type = "Promise<ConnectionRequest>")]
    pub fn authorize(
        &self,
        toolkit: String,
        #[wasm_bindgen(unchecked_param_type = "AuthorizeOptions")] options: Option<js_sys::Object>,
    ) -> js_sys::Promise {
        let session = self.session.clone();
        promise(async move {
            let req = session.authorize(&toolkit, options::authorize(given(options))?).await?;
            Ok(ConnectionRequest { inner: req }.into())
        })
    }

    /// Connects `toolkit` in a popup opened now (call it from a click handler), resolving
    /// with the ACTIVE account; rejects with a typed error on failure, expiry, a closed
    /// popup or the timeout. With `{ redirect: true }` the whole page goes instead.
    #[wasm_bindgen(unchecked_return_type = "Promise<ConnectedAccount | null>")]
    pub fn connect(
        &self,
        toolkit: String,
        #[wasm_bindgen(unchecked_param_type = "ConnectOptions")] options: Option<js_sys::Object>,
    ) -> js_sys::Promise {
        // Everything synchronous happens before the first await, inside the click's activation.
        let parsed = match ConnectOptions::parse(given(options)) {
            Ok(p) => p,
            Err(e) => return js_sys::Promise::reject(&Failure::Core(e).into()),
        };
        let session = self.session.clone();
        if parsed.redirect {
            return promise(async move { connect_by_redirect(session, toolkit, parsed).await });
        }
        let popup = match Popup::open() {
            Ok(p) => p,
            Err(f) => return js_sys::Promise::reject(&f.into()),
        };
        promise(async move { connect_in_popup(session, toolkit, parsed, popup).await })
    }

    /// On the page a Connect Link returned to: confirms the outcome with the broker, removes
    /// the broker's parameters from the address bar, and resolves with the ACTIVE account
    /// (rejects if it failed); `null` when the page was not reached from a Connect Link.
    #[wasm_bindgen(js_name = completeRedirect, unchecked_return_type = "Promise<ConnectedAccount | null>")]
    pub fn complete_redirect(
        &self,
        #[wasm_bindgen(unchecked_param_type = "CompleteRedirectOptions")] options: Option<js_sys::Object>,
    ) -> js_sys::Promise {
        let client = self.client.clone();
        promise(async move {
            let value = options::json(given(options))?;
            let o = options::read(&value, &["url", "timeout_ms"])?;
            let timeout = o.duration("timeout_ms", Unit::Millis)?.unwrap_or(grantline_core::client::options::CONFIRM_WAIT);
            let given_url = o.string("url")?;
            let reads_this_page = given_url.is_none();
            let here = given_url.or_else(current_url).unwrap_or_default();
            let Some(outcome) = RedirectOutcome::from_url(&here) else { return Ok(JsValue::NULL) };
            if reads_this_page {
                replace_url(&RedirectOutcome::strip_from(&here));
            }
            let account = client.connected_accounts().wait_for_connection(&outcome.connected_account_id, timeout).await?;
            Ok(views::account(account))
        })
    }

    /// One page of the session's toolkits with the user's connection to each.
    #[wasm_bindgen(unchecked_return_type = "Promise<ToolkitsPage>")]
    pub fn toolkits(&self, #[wasm_bindgen(unchecked_param_type = "ToolkitsOptions")] options: Option<js_sys::Object>) -> js_sys::Promise {
        let session = self.session.clone();
        promise(async move {
            let page = session.toolkits(&options::toolkits(given(options))?).await?;
            Ok(views::toolkits_page(page))
        })
    }
}

/// A started connection: its Connect Link and the account it will complete.
#[wasm_bindgen]
pub struct ConnectionRequest {
    inner: grantline_core::ConnectionRequest,
}

#[wasm_bindgen]
impl ConnectionRequest {
    /// The connected account's id (`ca_…`), INITIATED until the user finishes.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.inner.id().to_string()
    }

    /// The Connect Link to send the user to.
    #[wasm_bindgen(getter, js_name = redirectUrl)]
    pub fn redirect_url(&self) -> String {
        self.inner.redirect_url().to_string()
    }

    /// Resolves with the account once ACTIVE; rejects at once on FAILED/EXPIRED/REVOKED, or
    /// with `ConnectionRequestTimeoutError` after `timeoutMs` (default 60000).
    #[wasm_bindgen(js_name = waitForConnection, unchecked_return_type = "Promise<ConnectedAccount>")]
    pub fn wait_for_connection(&self, #[wasm_bindgen(js_name = timeoutMs)] timeout_ms: Option<f64>) -> js_sys::Promise {
        let req = self.inner.clone();
        promise(async move {
            let timeout = grantline_core::client::options::wait_timeout(timeout_ms, Unit::Millis)?;
            let account = req.wait_for_connection(timeout).await?;
            Ok(views::account(account))
        })
    }
}

/// `connect()`'s options, checked before anything happens.
struct ConnectOptions {
    authorize: grantline_core::AuthorizeOptions,
    timeout: Duration,
    redirect: bool,
}

impl ConnectOptions {
    fn parse(value: JsValue) -> grantline_core::Result<Self> {
        let value = options::json(value)?;
        let o = options::read(&value, &["callback_url", "alias", "timeout_ms", "redirect"])?;
        Ok(Self {
            authorize: grantline_core::AuthorizeOptions { callback_url: o.string("callback_url")?, alias: o.string("alias")? },
            timeout: o.duration("timeout_ms", Unit::Millis)?.unwrap_or(grantline_core::client::options::CONNECT_WAIT),
            redirect: o.bool("redirect")?.unwrap_or(false),
        })
    }
}

async fn connect_in_popup(session: Session, toolkit: String, o: ConnectOptions, popup: Popup) -> Outcome<JsValue> {
    let req = match session.authorize(&toolkit, o.authorize).await {
        Ok(r) => r,
        Err(e) => {
            popup.close();
            return Err(e.into());
        }
    };
    popup.navigate(req.redirect_url());
    // Closing the popup cancels the wait, after the core's last look (the link may have finished
    // just before): `PopupClosedError` only when the account is still pending.
    let closed = async {
        popup.closed().await;
        Failure::PopupClosed { connected_account_id: req.id().to_string() }
    };
    let wait = WaitOptions { timeout: o.timeout, on_cancel: OnCancel::LookOnce, ..WaitOptions::default() };
    let settled = req.wait_with(wait, closed).await;
    popup.close();
    Ok(views::account(settled?))
}

async fn connect_by_redirect(session: Session, toolkit: String, mut o: ConnectOptions) -> Outcome<JsValue> {
    if o.authorize.callback_url.is_none() {
        o.authorize.callback_url = current_url().map(|u| RedirectOutcome::strip_from(&u));
    }
    let req = session.authorize(&toolkit, o.authorize).await?;
    let window = web_sys::window().ok_or_else(|| Error::Internal("no window to redirect".into()))?;
    window.location().assign(req.redirect_url()).map_err(|_| Error::Internal("the page refused to navigate".into()))?;
    Ok(JsValue::NULL)
}

/// An optional options argument as the value the option readers check.
fn given(options: Option<js_sys::Object>) -> JsValue {
    options.map(JsValue::from).unwrap_or(JsValue::UNDEFINED)
}

fn current_url() -> Option<String> {
    web_sys::window()?.location().href().ok()
}

fn replace_url(url: &str) {
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(url));
    }
}

/// Runs `f` as a JS Promise, turning failures into the typed JS errors.
fn promise(f: impl std::future::Future<Output = Outcome<JsValue>> + 'static) -> js_sys::Promise {
    future_to_promise(async move { f.await.map_err(JsValue::from) })
}
