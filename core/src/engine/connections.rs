//! The connection state machine: link → provider → callback → ACTIVE/FAILED, expiry and waiting.

use std::time::Duration;

use super::oauth::{self, AuthorizeParams, ExchangeParams};
use super::store::{AccountOutcome, AccountRecord, AuthConfigRecord, ConnectionRequestRecord, RequestKind, SessionRecord};
use super::connect_forms::ConnectForm;
use super::{clock, sandbox, secrets, views, CallbackAllowList, Engine, Principal, LINK_PATH};
use crate::catalog::{AuthKind, OAuth2Def};
use crate::model::{
    check_id, AccountFilter, AccountStatus, ConnectedAccount, LinkRequest, LinkResponse, Page, PageRequest, RefreshAccountRequest,
    RefreshAccountResponse, ToolkitsConfig, ACCOUNT_PREFIX, LINK_PREFIX,
};
use crate::{Error, Result};

/// Longest accepted alias.
const MAX_ALIAS: usize = 100;

/// What opening a Connect Link leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkOpen {
    /// Send the browser to the provider.
    Redirect(url::Url),
    /// Show a page instead (expired, finished, unknown link).
    Page(CallbackPage),
    /// Show the toolkit's connect form (API key, bearer token, user name and password).
    Form(ConnectForm),
}

/// The end of a callback: back to the app, or a broker page.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackOutcome {
    /// Redirect to the app's callback URL (status and account id appended).
    Redirect(url::Url),
    /// Show a broker page.
    Page(CallbackPage),
}

/// The pages the broker shows at the end of (or instead of) a flow.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackPage {
    /// Connected; the window can be closed.
    Connected { toolkit: String },
    /// The provider or the exchange failed.
    Failed { toolkit: String, reason: String },
    /// The link expired before it was completed; nothing changed.
    Expired,
    /// The link or `state` is unknown, or was already used; nothing changed.
    Invalid { reason: String },
}

impl CallbackPage {
    /// The HTTP status the page is served with.
    pub fn http_status(&self) -> u16 {
        match self {
            CallbackPage::Connected { .. } => 200,
            CallbackPage::Failed { .. } => 200,
            CallbackPage::Expired => 410,
            CallbackPage::Invalid { .. } => 400,
        }
    }
}

/// The query a provider sends to the callback.
#[derive(Debug, Clone, Default)]
pub struct CallbackParams {
    /// Our `state`.
    pub state: Option<String>,
    /// The authorization code.
    pub code: Option<String>,
    /// OAuth error code, e.g. `access_denied`.
    pub error: Option<String>,
    /// The provider's description of the error.
    pub error_description: Option<String>,
}

impl Engine {
    /// `POST …/session/{id}/link`: an INITIATED account and its Connect Link.
    pub async fn create_link(&self, who: &Principal, session_id: &str, req: LinkRequest) -> Result<LinkResponse> {
        let session = self.load_session(who, session_id).await?;
        self.create_link_for(who, &session, req).await
    }

    pub(crate) fn check_callback_url(&self, who: &Principal, field: &str, url: &str) -> Result<url::Url> {
        CallbackAllowList::new(&who.project.allowed_callback_urls).check(field, url)
    }

    pub(crate) async fn create_link_for(&self, who: &Principal, session: &SessionRecord, req: LinkRequest) -> Result<LinkResponse> {
        let slug = req.toolkit.trim().to_ascii_lowercase();
        if slug.is_empty() {
            return Err(Error::validation("toolkit", "is required"));
        }
        let def = self.catalog.get(&slug).ok_or_else(|| Error::not_found("toolkit", &slug))?;
        if !ToolkitsConfig::allows(session.config.toolkits.as_ref(), &slug) {
            return Err(Error::validation("toolkit", format!("{slug} is not enabled in this session")));
        }
        if def.auth == AuthKind::None {
            return Err(Error::validation("toolkit", format!("{slug} needs no connection")));
        }
        let callback_url = match req.callback_url.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(cb) => Some(self.check_callback_url(who, "callback_url", cb)?.to_string()),
            None => None,
        };
        let alias = match req.alias.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(a) if a.len() > MAX_ALIAS => return Err(Error::validation("alias", format!("at most {MAX_ALIAS} characters"))),
            Some(a) => Some(a.to_string()),
        };
        let auth_config = self.auth_config_for(who, session, &slug).await?;

        let now = clock::now_ms();
        let account_id = secrets::new_id(ACCOUNT_PREFIX)?;
        let request = self.new_request(def, &who.project.id, &account_id, callback_url, RequestKind::Connect, now)?;
        let account = AccountRecord {
            id: account_id.clone(),
            project_id: who.project.id.clone(),
            user_id: session.config.user_id.clone(),
            toolkit: slug.clone(),
            auth_config_id: auth_config.id.clone(),
            auth_scheme: auth_config.auth_scheme.clone(),
            alias,
            status: AccountStatus::Initiated,
            status_reason: None,
            is_disabled: false,
            credentials_sealed: None,
            created_at: now,
            updated_at: now,
        };
        self.store.insert_connection(&account, &request).await.map_err(|e| match e {
            Error::Conflict(_) => Error::Conflict(format!(
                "alias {:?} is already used by another {slug} account of this user",
                account.alias.as_deref().unwrap_or_default()
            )),
            other => other,
        })?;
        Ok(LinkResponse {
            redirect_url: self.config.url(&format!("{LINK_PATH}{}", request.link_token)),
            link_token: request.link_token,
            connected_account_id: account_id,
        })
    }

    /// A fresh connection request for `account_id`: a new link token, `state` and PKCE
    /// verifier, usable for the configured link lifetime.
    fn new_request(
        &self,
        def: &crate::catalog::ToolkitDef,
        project_id: &str,
        account_id: &str,
        callback_url: Option<String>,
        kind: RequestKind,
        now: i64,
    ) -> Result<ConnectionRequestRecord> {
        // A connect form has no provider round trip: no PKCE; its `state` is never used.
        let pkce_verifier_sealed = if def.oauth2.as_ref().is_some_and(|p| p.pkce) {
            let pkce = secrets::Pkce::generate()?;
            Some(self.vault.seal(account_id, pkce.verifier.as_bytes())?)
        } else {
            None
        };
        Ok(ConnectionRequestRecord {
            account_id: account_id.to_string(),
            project_id: project_id.to_string(),
            link_token: format!("{LINK_PREFIX}{}", secrets::random_token(32)?),
            state: secrets::random_token(43)?,
            pkce_verifier_sealed,
            callback_url,
            expires_at: now + self.config.link_ttl.as_millis() as i64,
            consumed_at: None,
            kind,
        })
    }

    /// `POST /api/v3.1/connected_accounts/{id}/refresh`: a new Connect Link for an existing
    /// account, which keeps its id. An INITIATED account simply gets a fresh link; any other
    /// becomes the subject of a reconnect ([`RequestKind::Reconnect`]): it keeps its status and
    /// credentials until the user completes the new link. Either way the account's older link
    /// stops working.
    pub async fn reconnect_account(&self, who: &Principal, id: &str, req: RefreshAccountRequest) -> Result<RefreshAccountResponse> {
        who.require_project()?;
        check_id("connected_account_id", id, ACCOUNT_PREFIX)?;
        let callback_url = match req.redirect_url.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
            Some(url) => Some(self.check_callback_url(who, "redirect_url", url)?.to_string()),
            None => None,
        };
        // The account's status decides the kind; renewing checks it did not change meanwhile.
        for _ in 0..3 {
            let account = self.account_of(who, id).await?;
            let def = self.catalog.get(&account.toolkit).filter(|d| d.auth != AuthKind::None).ok_or_else(|| {
                Error::validation("connected_account_id", format!("the {} toolkit needs no connection: there is nothing to reconnect", account.toolkit))
            })?;
            let kind = if account.status.is_pending() { RequestKind::Connect } else { RequestKind::Reconnect };
            let request = self.new_request(def, &account.project_id, &account.id, callback_url.clone(), kind, clock::now_ms())?;
            if self.store.renew_request(&request, account.status).await? {
                tracing::info!(account = %account.id, toolkit = %account.toolkit, kind = kind.as_str(), "connect link renewed");
                return Ok(RefreshAccountResponse {
                    id: account.id,
                    redirect_url: self.config.url(&format!("{LINK_PATH}{}", request.link_token)),
                    status: account.status,
                });
            }
        }
        Err(Error::Conflict(format!("connected account {id} kept changing; try again")))
    }

    /// The auth config a link uses: the session's pick, else the project's newest for the toolkit.
    async fn auth_config_for(&self, who: &Principal, session: &SessionRecord, slug: &str) -> Result<AuthConfigRecord> {
        if let Some(id) = session.config.auth_configs.get(slug) {
            return self
                .store
                .get_auth_config(&who.project.id, id)
                .await?
                .ok_or_else(|| Error::not_found("auth config", id));
        }
        if let Some(ac) = self.store.default_auth_config(&who.project.id, slug).await? {
            return Ok(ac);
        }
        if slug == sandbox::SLUG && self.config.dev_mode {
            return self.create_builtin_auth_config(&who.project.id, slug, "Grantline sandbox (dev mode)", Some((sandbox::CLIENT_ID, sandbox::CLIENT_SECRET))).await;
        }
        if let Some(def) = self.catalog.get(slug).filter(|d| d.has_form()) {
            // Keys typed by users need no app credentials: one auth config per toolkit, made on first use.
            return self.create_builtin_auth_config(&who.project.id, slug, &format!("{} (entered by users)", def.name), None).await;
        }
        Err(Error::validation(
            "toolkit",
            format!("{slug} has no auth config in this project: create one with POST /api/v3.1/auth_configs or `grantline auth-configs create --toolkit {slug}`"),
        ))
    }

    /// Whether users can connect `slug` in a session: it needs no connection, the broker makes
    /// its auth config itself (the dev sandbox, connect forms), the session names one, or the
    /// project has an enabled one (`enabled_configs` holds those toolkits' slugs).
    pub(crate) fn can_connect(&self, def: &crate::catalog::ToolkitDef, session: &crate::model::SessionConfig, enabled_configs: &std::collections::HashSet<String>) -> bool {
        def.is_no_auth()
            || def.has_form()
            || (def.slug == sandbox::SLUG && self.config.dev_mode)
            || session.auth_configs.contains_key(&def.slug)
            || enabled_configs.contains(&def.slug)
    }

    /// An auth config the broker makes itself: the sandbox's, or a form toolkit's (no client).
    async fn create_builtin_auth_config(&self, project_id: &str, slug: &str, name: &str, client: Option<(&str, &str)>) -> Result<AuthConfigRecord> {
        let def = self.catalog.get(slug).ok_or_else(|| Error::not_found("toolkit", slug))?;
        let id = secrets::new_id(crate::model::AUTH_CONFIG_PREFIX)?;
        let record = AuthConfigRecord {
            client_secret_sealed: client.map(|(_, secret)| self.vault.seal(&id, secret.as_bytes())).transpose()?,
            id,
            project_id: project_id.to_string(),
            toolkit: slug.into(),
            name: Some(name.into()),
            auth_scheme: def.auth.scheme().into(),
            client_id: client.map(|(id, _)| id.to_string()),
            scopes: def.oauth2.as_ref().map(|o| o.default_scopes.clone()).unwrap_or_default(),
            is_disabled: false,
            created_at: clock::now_ms(),
        };
        self.store.insert_auth_config(&record).await?;
        Ok(record)
    }

    fn provider_of(&self, toolkit: &str) -> Result<&OAuth2Def> {
        self.catalog
            .get(toolkit)
            .and_then(|t| t.oauth2.as_ref())
            .ok_or_else(|| Error::Internal(format!("toolkit {toolkit} is no longer an OAuth2 toolkit in the catalog")))
    }

    /// `GET /link/{token}`: where a Connect Link sends the browser.
    pub async fn open_link(&self, link_token: &str) -> Result<LinkOpen> {
        let invalid = || LinkOpen::Page(CallbackPage::Invalid { reason: "This Connect Link is not valid.".into() });
        if check_id("link_token", link_token, LINK_PREFIX).is_err() {
            return Ok(invalid());
        }
        let Some(req) = self.store.request_by_link_token(link_token).await? else { return Ok(invalid()) };
        let Some(account) = self.current_account(&req.project_id, &req.account_id).await? else { return Ok(invalid()) };
        if let Some(page) = ended_page(&req, &account, clock::now_ms()) {
            return Ok(LinkOpen::Page(page));
        }
        if let Some(def) = self.catalog.get(&account.toolkit).filter(|d| d.has_form()) {
            return Ok(LinkOpen::Form(ConnectForm::new(def, link_token, None)));
        }
        let ac = self
            .store
            .get_auth_config(&req.project_id, &account.auth_config_id)
            .await?
            .ok_or_else(|| Error::Internal("the link's auth config is gone".into()))?;
        let provider = self.provider_of(&account.toolkit)?;
        let challenge = match &req.pkce_verifier_sealed {
            Some(sealed) => Some(secrets::s256(&String::from_utf8_lossy(&self.vault.open(&account.id, sealed)?))),
            None => None,
        };
        let redirect_uri = self.config.redirect_uri();
        let url = oauth::authorization_url(&AuthorizeParams {
            provider,
            client_id: ac.client_id.as_deref().unwrap_or_default(),
            redirect_uri: &redirect_uri,
            scopes: &ac.scopes,
            state: &req.state,
            code_challenge: challenge.as_deref(),
        })?;
        Ok(LinkOpen::Redirect(url))
    }

    /// `GET /oauth/callback`: checks `state`, exchanges the code, stores the tokens, wakes waiters.
    pub async fn complete_callback(&self, params: CallbackParams) -> Result<CallbackOutcome> {
        let invalid = |reason: &str| Ok(CallbackOutcome::Page(CallbackPage::Invalid { reason: reason.into() }));
        let Some(state) = params.state.filter(|s| !s.is_empty()) else {
            return invalid("The sign-in answer has no state; start again from your app.");
        };
        let Some(req) = self.store.request_by_state(&state).await? else {
            return invalid("This sign-in answer does not belong to any pending connection.");
        };
        let Some(account) = self.current_account(&req.project_id, &req.account_id).await? else {
            return invalid("The connection this answer belongs to was deleted.");
        };
        if let Some(page) = ended_page(&req, &account, clock::now_ms()) {
            return Ok(CallbackOutcome::Page(page));
        }
        if !self.store.consume_request(&req.state, clock::now_ms()).await? {
            return invalid("This sign-in answer was already used.");
        }

        let outcome = match (params.error, params.code) {
            (Some(error), _) => Err(match params.error_description {
                Some(d) => format!("{error}: {}", d.chars().take(200).collect::<String>()),
                None => error,
            }),
            (None, Some(code)) if !code.is_empty() => self.exchange(&req, &account, &code).await,
            (None, _) => Err("the provider answered without a code".to_string()),
        };
        self.finish_connection(&req, &account, outcome).await
    }

    /// Ends a consumed connection request: sealed credentials make the account ACTIVE (a first
    /// connection and a reconnect alike); a failure ends as the request's kind says (FAILED, or
    /// the account left as it was). Wakes the account's waiters and says where the user goes next.
    pub(crate) async fn finish_connection(
        &self,
        req: &ConnectionRequestRecord,
        account: &AccountRecord,
        outcome: std::result::Result<Vec<u8>, String>,
    ) -> Result<CallbackOutcome> {
        let now = clock::now_ms();
        let (status, failure, credentials_sealed) = match outcome {
            Ok(sealed) => (Some(AccountStatus::Active), None, Some(sealed)),
            Err(reason) => (req.kind.failure_status(), Some(reason), None),
        };
        if let Some(status) = status {
            let finished = self
                .store
                .finish_account(&AccountOutcome {
                    account_id: account.id.clone(),
                    request_state: req.state.clone(),
                    from: req.kind.applies_from(),
                    status,
                    status_reason: failure.clone(),
                    credentials_sealed,
                    now,
                })
                .await?;
            if !finished {
                // Expired, revoked, deleted or given a newer link while we were at the provider.
                return Ok(CallbackOutcome::Page(self.superseded_page(req).await?));
            }
        }
        // A reconnect that failed changed nothing, but its waiters learn that the link ended.
        self.notifier.account_changed(&account.id);
        let became = status.map_or("unchanged", AccountStatus::as_str);
        tracing::info!(account = %account.id, toolkit = %account.toolkit, kind = req.kind.as_str(), status = became, "connection finished");

        let page = match &failure {
            None => CallbackPage::Connected { toolkit: account.toolkit.clone() },
            Some(r) => CallbackPage::Failed { toolkit: account.toolkit.clone(), reason: r.clone() },
        };
        match &req.callback_url {
            Some(cb) => {
                let mut url = url::Url::parse(cb).map_err(|e| Error::Internal(format!("stored callback_url: {e}")))?;
                url.query_pairs_mut()
                    .append_pair("status", if failure.is_none() { "success" } else { "failed" })
                    .append_pair("connected_account_id", &account.id);
                Ok(CallbackOutcome::Redirect(url))
            }
            None => Ok(CallbackOutcome::Page(page)),
        }
    }

    /// The page for a request whose outcome could not be applied.
    async fn superseded_page(&self, req: &ConnectionRequestRecord) -> Result<CallbackPage> {
        let Some(account) = self.store.get_account(&req.project_id, &req.account_id).await? else {
            return Ok(CallbackPage::Invalid { reason: "The connection this answer belongs to was deleted.".into() });
        };
        let current = self.store.request_by_account(&req.project_id, &req.account_id).await?;
        if current.is_some_and(|c| c.state == req.state) && (req.kind == RequestKind::Reconnect || account.status == AccountStatus::Expired) {
            return Ok(CallbackPage::Expired);
        }
        Ok(CallbackPage::Invalid { reason: "This Connect Link was replaced by a newer one or has ended; nothing changed.".into() })
    }

    /// The auth config an account was connected with, and its opened client secret.
    pub(crate) async fn app_credentials(&self, account: &AccountRecord) -> Result<(AuthConfigRecord, String)> {
        let ac = self
            .store
            .get_auth_config(&account.project_id, &account.auth_config_id)
            .await?
            .ok_or_else(|| Error::Internal("the account's auth config is gone".into()))?;
        let secret = match &ac.client_secret_sealed {
            Some(s) => String::from_utf8(self.vault.open(&ac.id, s)?).map_err(|_| Error::Internal("client secret".into()))?,
            None => String::new(),
        };
        Ok((ac, secret))
    }

    /// Exchanges the code and seals the tokens; `Err` is the account's `status_reason`.
    async fn exchange(&self, req: &ConnectionRequestRecord, account: &AccountRecord, code: &str) -> std::result::Result<Vec<u8>, String> {
        let inner = async {
            let (ac, secret) = self.app_credentials(account).await?;
            let verifier = match &req.pkce_verifier_sealed {
                Some(s) => Some(String::from_utf8(self.vault.open(&account.id, s)?).map_err(|_| Error::Internal("verifier".into()))?),
                None => None,
            };
            let redirect_uri = self.config.redirect_uri();
            let tokens = oauth::exchange_code(
                &self.http,
                &ExchangeParams {
                    provider: self.provider_of(&account.toolkit)?,
                    client_id: ac.client_id.as_deref().unwrap_or_default(),
                    client_secret: &secret,
                    code,
                    redirect_uri: &redirect_uri,
                    code_verifier: verifier.as_deref(),
                },
                clock::now_ms(),
            )
            .await?;
            let json = serde_json::to_vec(&tokens).map_err(|e| Error::Internal(e.to_string()))?;
            self.vault.seal(&account.id, &json)
        };
        inner.await.map_err(|e| match e {
            Error::Provider(reason) => reason,
            other => {
                tracing::error!(account = %account.id, error = %other, "code exchange failed inside the broker");
                "the broker could not store the connection".to_string()
            }
        })
    }

    /// Loads an account, expiring it first if its link ran out.
    pub(crate) async fn current_account(&self, project_id: &str, id: &str) -> Result<Option<AccountRecord>> {
        let mut account = self.store.get_account(project_id, id).await?;
        if account.as_ref().is_some_and(|a| a.status.is_pending()) && self.expire_due().await? > 0 {
            account = self.store.get_account(project_id, id).await?;
        }
        Ok(account)
    }

    async fn account_of(&self, who: &Principal, id: &str) -> Result<AccountRecord> {
        check_id("connected_account_id", id, ACCOUNT_PREFIX)?;
        let account = self.current_account(&who.project.id, id).await?.ok_or_else(|| Error::not_found("connected account", id))?;
        who.check_account(&account)?;
        Ok(account)
    }

    /// `GET /api/v3.1/connected_accounts/{id}`.
    pub async fn get_account(&self, who: &Principal, id: &str) -> Result<ConnectedAccount> {
        self.account_view(&self.account_of(who, id).await?).await
    }

    /// An account as the API shows it, with its auth config's `is_disabled` and whether a
    /// reconnect link is out.
    async fn account_view(&self, a: &AccountRecord) -> Result<ConnectedAccount> {
        let ac = self.store.get_auth_config(&a.project_id, &a.auth_config_id).await?;
        let request = self.store.request_by_account(&a.project_id, &a.id).await?;
        let reconnecting = request.is_some_and(|r| r.is_live_reconnect(clock::now_ms()));
        Ok(views::account(a, ac.is_some_and(|c| c.is_disabled), reconnecting))
    }

    /// `GET /api/v3.1/connected_accounts`.
    pub async fn list_accounts(&self, who: &Principal, filter: &AccountFilter, page: PageRequest) -> Result<Page<ConnectedAccount>> {
        who.require_project()?;
        self.expire_due().await?;
        let (rows, total) = self.store.list_accounts(&who.project.id, filter, page.offset(), page.limit).await?;
        let disabled: std::collections::HashSet<String> =
            self.store.list_auth_configs(&who.project.id).await?.into_iter().filter(|c| c.is_disabled).map(|c| c.id).collect();
        let reconnecting: std::collections::HashSet<String> = self.store.live_reconnects(&who.project.id, clock::now_ms()).await?.into_iter().collect();
        let items = rows.iter().map(|a| views::account(a, disabled.contains(&a.auth_config_id), reconnecting.contains(&a.id))).collect();
        Ok(page.page_of(items, total))
    }

    /// `PATCH /api/v3.1/connected_accounts/{id}/status`.
    pub async fn set_account_enabled(&self, who: &Principal, id: &str, enabled: bool) -> Result<()> {
        who.require_project()?;
        check_id("connected_account_id", id, ACCOUNT_PREFIX)?;
        if !self.store.set_account_disabled(&who.project.id, id, !enabled, clock::now_ms()).await? {
            return Err(Error::not_found("connected account", id));
        }
        self.notifier.account_changed(id);
        Ok(())
    }

    /// `GET /api/v3.1/connected_accounts/{id}/wait`: answers once no link of the account is
    /// pending — it left INITIATED, or its reconnect link was completed, refused or expired —
    /// (woken by the callback, not by polling), or with the account as it is after `timeout`
    /// (capped at `max_wait`; a reconnect still pending then shows as `reconnecting`).
    pub async fn wait_for_account(&self, who: &Principal, id: &str, timeout: Duration) -> Result<ConnectedAccount> {
        let deadline = tokio::time::Instant::now() + timeout.min(self.config.max_wait);
        // Subscribe before reading, so a change between the read and the wait is not missed.
        let mut changes = self.notifier.subscribe();
        loop {
            let account = self.account_of(who, id).await?;
            let request = self.store.request_by_account(&who.project.id, id).await?;
            let reconnecting = request.as_ref().is_some_and(|r| r.is_live_reconnect(clock::now_ms()));
            if !account.status.is_pending() && !reconnecting {
                return self.account_view(&account).await;
            }
            // Wake at the link's expiry too, so an abandoned link answers on time.
            let expiry = request.map(|r| r.expires_at);
            let until = match expiry {
                Some(at) => deadline.min(tokio::time::Instant::now() + Duration::from_millis((at - clock::now_ms()).max(0) as u64 + 5)),
                None => deadline,
            };
            tokio::select! {
                changed = next_change_of(&mut changes, id) => {
                    if !changed { return self.account_view(&account).await; }
                }
                _ = tokio::time::sleep_until(until) => {
                    if tokio::time::Instant::now() >= deadline {
                        return self.account_view(&self.account_of(who, id).await?).await;
                    }
                }
            }
        }
    }
}

/// Resolves true when `id` changed (or changes may have been missed); false if the channel closed.
async fn next_change_of(rx: &mut tokio::sync::broadcast::Receiver<String>, id: &str) -> bool {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match rx.recv().await {
            Ok(changed) if changed == id => return true,
            Ok(_) => continue,
            Err(RecvError::Lagged(_)) => return true,
            Err(RecvError::Closed) => return false,
        }
    }
}

/// The rules of the two kinds of connection request. Success is the same for both: the
/// account becomes ACTIVE with the new credentials.
impl RequestKind {
    /// The statuses the account may be in for the request's outcome to apply: a first
    /// connection only while INITIATED (not once the sweeper expired it); a reconnect whatever
    /// the account became meanwhile (revoking or deleting the account ends the request itself).
    pub(crate) fn applies_from(self) -> Vec<AccountStatus> {
        match self {
            Self::Connect => AccountStatus::ALL.into_iter().filter(|s| s.is_pending()).collect(),
            Self::Reconnect => AccountStatus::ALL.to_vec(),
        }
    }

    /// What a refused or failed attempt makes of the account: FAILED for a first connection;
    /// nothing for a reconnect, which leaves the account as it was (status, reason, credentials).
    /// An abandoned link likewise: the sweeper expires only INITIATED accounts.
    pub(crate) fn failure_status(self) -> Option<AccountStatus> {
        match self {
            Self::Connect => Some(AccountStatus::Failed),
            Self::Reconnect => None,
        }
    }
}

impl ConnectionRequestRecord {
    /// A reconnect link the user can still complete.
    pub(crate) fn is_live_reconnect(&self, now: i64) -> bool {
        self.kind == RequestKind::Reconnect && self.consumed_at.is_none() && self.expires_at > now
    }
}

/// The page for a link or callback that can no longer be used, if it cannot: a first
/// connection's link ends with its account leaving INITIATED; a reconnect's when it is used or
/// expires (its account's status says nothing about it).
pub(crate) fn ended_page(req: &ConnectionRequestRecord, account: &AccountRecord, now: i64) -> Option<CallbackPage> {
    match req.kind {
        RequestKind::Connect => finished_page(account),
        RequestKind::Reconnect if req.expires_at <= now => Some(CallbackPage::Expired),
        RequestKind::Reconnect if req.consumed_at.is_some() => {
            Some(CallbackPage::Invalid { reason: "This Connect Link was already used.".into() })
        }
        RequestKind::Reconnect => None,
    }
}

/// The page for a link or callback whose account is no longer pending.
fn finished_page(account: &AccountRecord) -> Option<CallbackPage> {
    match account.status {
        s if s.is_pending() => None,
        AccountStatus::Expired => Some(CallbackPage::Expired),
        AccountStatus::Active => Some(CallbackPage::Invalid { reason: "This Connect Link was already completed.".into() }),
        _ => Some(CallbackPage::Invalid { reason: "This Connect Link has already ended; start again from your app.".into() }),
    }
}
