//! Starting a connection: the Connect Link (`authorize`), a fresh link for an existing account
//! (reconnect), the auth config a link uses, and where opening the link sends the browser.

use crate::catalog::{AuthKind, OAuth2Def};
use crate::engine::connect::{ConnectForm, LinkOpen, CallbackPage, ended_page};
use crate::engine::crypto::random as secrets;
use crate::engine::provider::oauth::{self, AuthorizeParams};
use crate::engine::store::{AccountRecord, AuthConfigRecord, ConnectionRequestRecord, RequestKind, SessionRecord, Transition};
use crate::engine::verification::BindingCookies;
use crate::engine::{clock, metrics, sandbox, CallbackAllowList, Engine, Principal, LINK_PATH};
use crate::model::{
    check_id, AccountStatus, LinkRequest, LinkResponse, RefreshAccountRequest, RefreshAccountResponse, ToolkitsConfig, ACCOUNT_PREFIX,
    LINK_PREFIX,
};
use crate::{Error, Result};

/// Longest accepted alias.
const MAX_ALIAS: usize = 100;

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
        metrics::flow_started(&slug, RequestKind::Connect.as_str());
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
        // The account's status decides the kind; renewing checks it did not change meanwhile.
        for _ in 0..3 {
            let account = self.account_of(who, id).await?;
            // Checked once the account is known to exist: a missing account is a 404 whatever the URL.
            let callback_url = match req.redirect_url.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
                Some(url) => Some(self.check_callback_url(who, "redirect_url", url)?.to_string()),
                None => None,
            };
            let def = self.catalog.get(&account.toolkit).filter(|d| d.auth != AuthKind::None).ok_or_else(|| {
                Error::validation("connected_account_id", format!("the {} toolkit needs no connection: there is nothing to reconnect", account.toolkit))
            })?;
            let kind = if account.status.is_pending() { RequestKind::Connect } else { RequestKind::Reconnect };
            let now = clock::now_ms();
            let request = self.new_request(def, &account.project_id, &account.id, callback_url.clone(), kind, now)?;
            let link_token = request.link_token.clone();
            if self.store.transition(&Transition::renew(request, account.status, now)).await?.is_some() {
                tracing::info!(account = %account.id, toolkit = %account.toolkit, kind = kind.as_str(), "connect link renewed");
                metrics::flow_started(&account.toolkit, kind.as_str());
                return Ok(RefreshAccountResponse {
                    id: account.id,
                    redirect_url: self.config.url(&format!("{LINK_PATH}{link_token}")),
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

    /// An auth config the broker makes itself on a toolkit's first use: the sandbox's, or a form
    /// toolkit's (no client).
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
        // Of concurrent first links for the toolkit (on any broker), all end up with one config.
        self.store.insert_first_auth_config(&record).await
    }

    pub(crate) fn provider_of(&self, toolkit: &str) -> Result<&OAuth2Def> {
        self.catalog
            .get(toolkit)
            .and_then(|t| t.oauth2.as_ref())
            .ok_or_else(|| Error::Internal(format!("toolkit {toolkit} is no longer an OAuth2 toolkit in the catalog")))
    }

    /// `GET /link/{token}`: where a Connect Link sends the browser. When the project verifies
    /// its users on Connect Links, a browser that has not passed a verification for this link
    /// (`cookies`) is sent to the verifier first.
    pub async fn open_link(&self, link_token: &str, cookies: &BindingCookies) -> Result<LinkOpen> {
        self.open_link_with(link_token, cookies).await
    }

    pub(crate) async fn open_link_with(&self, link_token: &str, cookies: &BindingCookies) -> Result<LinkOpen> {
        let invalid = || LinkOpen::Page(CallbackPage::Invalid { reason: "This Connect Link is not valid.".into() });
        if check_id("link_token", link_token, LINK_PREFIX).is_err() {
            return Ok(invalid());
        }
        let Some(req) = self.store.request_by_link_token(link_token).await? else { return Ok(invalid()) };
        let Some(account) = self.current_account(&req.project_id, &req.account_id).await? else { return Ok(invalid()) };
        if let Some(page) = ended_page(&req, &account, clock::now_ms()) {
            return Ok(LinkOpen::Page(page));
        }
        if self.link_needs_verification(&req.project_id).await? && !self.link_verified_here(&req.state, cookies).await? {
            return self.begin_link_verification(&req.project_id, &account.id, &account.user_id, &req.state).await;
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

}
