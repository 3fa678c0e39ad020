//! User verification: the person who approves (an MCP client, or a Connect Link when the project
//! turned `verify_connect_links` on) is the user the flow was started for.
//!
//! The broker sends the browser to the project's user-verification URL with a one-time flow id;
//! the app's backend, where its user is signed in, says who that user is
//! (`POST /api/v3.1/user_verifications/{flow_id}/confirm`); the browser comes back to the broker
//! (`/verify/{flow_id}/return`), which lets the flow go on only when the app confirmed the
//! expected user, in the browser that started the flow (an HttpOnly cookie binds it), before
//! the flow expired, once. A confirmation of anyone else ends the flow, and what it was for.

use crate::engine::connect::{CallbackOutcome, LinkOpen};
use crate::engine::store::{Project, UserVerificationRecord, VerificationStatus};
use crate::engine::{clock, secrets, Engine, Principal};
use crate::model::{check_id, UserVerificationConfirmed, USER_VERIFICATION_PREFIX};
use crate::{Error, Result};

/// How long a flow can be confirmed and finished (never longer than a Connect Link lives).
pub const VERIFICATION_TTL_MS: i64 = 10 * 60 * 1000;
/// How long the browser keeps the binding cookie: the verification, then the provider's sign-in.
pub const BINDING_COOKIE_MAX_AGE_SECS: u64 = 60 * 60;
/// Prefix of binding cookies' names (one cookie per flow, so flows in one browser do not clash).
pub const BINDING_COOKIE_PREFIX: &str = "grantline_uv_";
/// Path of the built-in verifier page of a `--dev` broker.
pub const DEV_VERIFY_PATH: &str = "/dev/verify";
/// Longest user id accepted in a confirmation.
const MAX_USER_ID: usize = 256;
/// What a person sees when the flow was started for someone else.
pub const ANOTHER_USER: &str = "This link was started for another user, so it has ended and nothing was connected or approved. \
     Ask the app for a new link while signed in as yourself.";

/// What a verification is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VerificationPurpose {
    /// Approving an MCP client's authorization request.
    McpAuthorization {
        /// The pending authorization.
        authorization_id: String,
    },
    /// Completing a Connect Link.
    ConnectLink {
        /// The link's account (`ca_…`).
        account_id: String,
    },
}

impl VerificationPurpose {
    fn kind(&self) -> &'static str {
        match self {
            Self::McpAuthorization { .. } => "mcp_authorization",
            Self::ConnectLink { .. } => "connect_link",
        }
    }

    fn subject(&self) -> &str {
        match self {
            Self::McpAuthorization { authorization_id } => authorization_id,
            Self::ConnectLink { account_id } => account_id,
        }
    }

    fn from_record(r: &UserVerificationRecord) -> Result<Self> {
        match r.purpose.as_str() {
            "mcp_authorization" => Ok(Self::McpAuthorization { authorization_id: r.subject.clone() }),
            "connect_link" => Ok(Self::ConnectLink { account_id: r.subject.clone() }),
            other => Err(Error::Internal(format!("stored user verification has an unknown purpose {other:?}"))),
        }
    }
}

/// A started verification: send the browser to `browser_url`, setting the cookie
/// `cookie_name=binding` (HttpOnly, SameSite=Lax) on the way.
#[derive(Clone, PartialEq)]
pub struct VerificationStart {
    /// `uvf_…`, one-time.
    pub flow_id: String,
    /// The project's verification URL (or the `--dev` verifier) with `flow_id` in its query.
    pub browser_url: String,
    /// The value of the HttpOnly cookie that binds the flow to this browser.
    pub binding: String,
    /// The cookie's name ([`binding_cookie_name`]).
    pub cookie_name: String,
}

impl std::fmt::Debug for VerificationStart {
    // The binding is a secret of the browser.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationStart").field("flow_id", &self.flow_id).field("cookie_name", &self.cookie_name).finish()
    }
}

/// The binding cookie's name for a flow.
pub fn binding_cookie_name(flow_id: &str) -> String {
    format!("{BINDING_COOKIE_PREFIX}{}", &secrets::sha256_hex(&format!("cookie:{flow_id}"))[..16])
}

/// The browser's binding cookies (those named [`BINDING_COOKIE_PREFIX`]…), as a `Cookie` header
/// carries them.
#[derive(Clone, Default, PartialEq)]
pub struct BindingCookies(pub Vec<(String, String)>);

impl std::fmt::Debug for BindingCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.iter().map(|(n, _)| n)).finish()
    }
}

impl BindingCookies {
    /// The binding cookies of a `Cookie` header's value.
    pub fn from_header(header: &str) -> Self {
        Self(
            header
                .split(';')
                .filter_map(|pair| pair.trim().split_once('='))
                .filter(|(name, _)| name.starts_with(BINDING_COOKIE_PREFIX))
                .map(|(n, v)| (n.to_string(), v.trim_matches('"').to_string()))
                .collect(),
        )
    }

    /// The value of cookie `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Whether this browser holds the binding of `flow`.
    fn bind(&self, flow: &UserVerificationRecord) -> bool {
        self.get(&flow.cookie_name).is_some_and(|v| secrets::sha256_hex(v) == flow.binding_hash)
    }
}

impl Engine {
    /// Starts a verification that the browser's user is `expected_user_id`, for `purpose`.
    /// `None` when the project has no user-verification URL and the broker is not `--dev` (in
    /// `--dev` the built-in verifier page is used).
    pub async fn begin_user_verification(
        &self,
        project: &Project,
        purpose: VerificationPurpose,
        expected_user_id: &str,
    ) -> Result<Option<VerificationStart>> {
        let link_state_hash = match &purpose {
            VerificationPurpose::ConnectLink { account_id } => {
                let req = self
                    .store
                    .request_by_account(&project.id, account_id)
                    .await?
                    .ok_or_else(|| Error::not_found("connected account", account_id))?;
                Some(secrets::sha256_hex(&req.state))
            }
            VerificationPurpose::McpAuthorization { .. } => None,
        };
        self.begin_verification(project, purpose, expected_user_id, link_state_hash).await
    }

    async fn begin_verification(
        &self,
        project: &Project,
        purpose: VerificationPurpose,
        expected_user_id: &str,
        link_state_hash: Option<String>,
    ) -> Result<Option<VerificationStart>> {
        let profile = self.profile(&project.id).await?;
        let verifier = match profile.user_verification_url {
            // Checked again: a URL a --dev broker stored may not be allowed here.
            Some(u) => crate::engine::profile::check_page_url("user_verification_url", &u, self.config.dev_mode)?,
            None if self.config.dev_mode => self.config.url(DEV_VERIFY_PATH),
            None => return Ok(None),
        };
        let flow_id = format!("{USER_VERIFICATION_PREFIX}{}", secrets::random_token(40)?);
        let binding = secrets::random_token(43)?;
        let cookie_name = binding_cookie_name(&flow_id);
        let now = clock::now_ms();
        self.store
            .insert_user_verification(&UserVerificationRecord {
                id_hash: secrets::sha256_hex(&flow_id),
                project_id: project.id.clone(),
                purpose: purpose.kind().to_string(),
                subject: purpose.subject().to_string(),
                link_state_hash,
                expected_user_id: expected_user_id.to_string(),
                confirmed_user_id: None,
                cookie_name: cookie_name.clone(),
                binding_hash: secrets::sha256_hex(&binding),
                status: VerificationStatus::Pending,
                created_at: now,
                expires_at: now + VERIFICATION_TTL_MS.min(self.config.link_ttl.as_millis() as i64),
                updated_at: now,
            })
            .await?;
        let mut url = url::Url::parse(&verifier).map_err(|e| Error::Internal(format!("verifier URL: {e}")))?;
        url.query_pairs_mut().append_pair("flow_id", &flow_id);
        tracing::info!(project = %project.id, purpose = purpose.kind(), "user verification started");
        Ok(Some(VerificationStart { flow_id, browser_url: url.to_string(), binding, cookie_name }))
    }

    /// The flow `flow_id` names, if it is well formed and exists.
    async fn flow(&self, flow_id: &str) -> Result<UserVerificationRecord> {
        check_id("flow_id", flow_id, USER_VERIFICATION_PREFIX)?;
        self.store.user_verification(&secrets::sha256_hex(flow_id)).await?.ok_or_else(|| Error::not_found("user verification", flow_id))
    }

    /// `POST /api/v3.1/user_verifications/{flow_id}/confirm {user_id}`: records who the app
    /// says the browser's user is. Another user than expected ends the flow at once, and what it
    /// was for (a Connect Link's account is not connected).
    pub async fn confirm_user_verification(&self, who: &Principal, flow_id: &str, user_id: &str) -> Result<UserVerificationConfirmed> {
        who.require_project()?;
        let user_id = user_id.trim();
        if user_id.is_empty() || user_id.len() > MAX_USER_ID {
            return Err(Error::validation("user_id", format!("must be 1 to {MAX_USER_ID} characters")));
        }
        let flow = self.flow(flow_id).await?;
        if flow.project_id != who.project.id {
            return Err(Error::not_found("user verification", flow_id));
        }
        let now = clock::now_ms();
        let matched = user_id == flow.expected_user_id;
        let to = if matched { VerificationStatus::Confirmed } else { VerificationStatus::Mismatched };
        if !self.store.advance_user_verification(&flow.id_hash, VerificationStatus::Pending, to, Some(user_id), now).await? {
            return Err(self.not_pending(flow_id).await);
        }
        if !matched {
            tracing::warn!(project = %flow.project_id, purpose = %flow.purpose, "user verification confirmed another user: the flow ended");
            self.end_for_mismatch(&flow).await?;
        }
        Ok(UserVerificationConfirmed {
            flow_id: flow_id.to_string(),
            redirect_url: self.config.url(&format!("/verify/{flow_id}/return")),
            matched,
            expires_at: clock::rfc3339(flow.expires_at),
        })
    }

    /// Why a flow could not move from PENDING (re-read: it may have moved meanwhile).
    async fn not_pending(&self, flow_id: &str) -> Error {
        match self.flow(flow_id).await {
            Ok(f) if f.expires_at <= clock::now_ms() => {
                Error::Conflict(format!("user verification {flow_id} expired; the app must start the flow again"))
            }
            Ok(_) => Error::Conflict(format!("user verification {flow_id} was already confirmed")),
            Err(e) => e,
        }
    }

    /// Ends what a mismatched flow was for: a Connect Link's request is used up and its account
    /// ends as a failed connection (a reconnect leaves the account as it was); an MCP client's
    /// pending authorization ends with nothing issued.
    async fn end_for_mismatch(&self, flow: &UserVerificationRecord) -> Result<()> {
        let purpose = VerificationPurpose::from_record(flow)?;
        if let VerificationPurpose::McpAuthorization { authorization_id } = &purpose {
            return self.abandon_mcp_authorization(authorization_id).await;
        }
        let (VerificationPurpose::ConnectLink { account_id }, Some(state_hash)) = (purpose, &flow.link_state_hash) else {
            return Ok(());
        };
        let Some(req) = self.store.request_by_account(&flow.project_id, &account_id).await? else { return Ok(()) };
        let Some(account) = self.current_account(&flow.project_id, &account_id).await? else { return Ok(()) };
        if &secrets::sha256_hex(&req.state) != state_hash || !self.store.consume_request(&req.state, clock::now_ms()).await? {
            return Ok(());
        }
        let reason = "user verification failed: the link was opened by another user than the one it was started for".to_string();
        self.finish_connection(&req, &account, Err(reason)).await.map(drop)
    }

    /// The browser came back to the broker: `Ok(purpose)` only when the app confirmed the
    /// expected user, in this browser (`binding`), before the flow expired; once.
    pub async fn finish_user_verification(&self, flow_id: &str, binding: Option<&str>) -> Result<VerificationPurpose> {
        let flow = self.flow(flow_id).await?;
        if binding.is_none_or(|b| secrets::sha256_hex(b) != flow.binding_hash) {
            return Err(Error::Forbidden(
                "This verification was started in another browser (or this browser's cookie is gone). Open the link again from the app, in this browser.".into(),
            ));
        }
        let now = clock::now_ms();
        match flow.status {
            VerificationStatus::Mismatched => return Err(Error::Forbidden(ANOTHER_USER.into())),
            VerificationStatus::Passed => return Err(Error::Conflict("This verification was already used; open the link again from the app.".into())),
            _ if flow.expires_at <= now => {
                return Err(Error::Conflict("This verification expired before it was finished; open the link again from the app.".into()))
            }
            VerificationStatus::Pending => {
                return Err(Error::Conflict("The app has not confirmed who you are yet; go back to the app and try again.".into()))
            }
            VerificationStatus::Confirmed => {}
        }
        if !self.store.advance_user_verification(&flow.id_hash, VerificationStatus::Confirmed, VerificationStatus::Passed, None, now).await? {
            return Err(Error::Conflict("This verification was already used; open the link again from the app.".into()));
        }
        tracing::info!(project = %flow.project_id, purpose = %flow.purpose, "user verification passed");
        VerificationPurpose::from_record(&flow)
    }

    /// How the pages around flow `flow_id` name the app (and the toolkit of a Connect Link's).
    pub async fn verification_brand(&self, flow_id: &str) -> Result<crate::engine::AppBrand> {
        let flow = self.flow(flow_id).await?;
        let project = self.store.get_project(&flow.project_id).await?.ok_or_else(|| Error::not_found("project", &flow.project_id))?;
        match VerificationPurpose::from_record(&flow)? {
            VerificationPurpose::ConnectLink { account_id } => self.brand_for_account(&project, &account_id).await,
            VerificationPurpose::McpAuthorization { .. } => self.brand(&project, None).await,
        }
    }

    /// The project whose flow `flow_id` is (for the pages around a verification).
    pub async fn verification_project(&self, flow_id: &str) -> Result<Project> {
        let flow = self.flow(flow_id).await?;
        self.store.get_project(&flow.project_id).await?.ok_or_else(|| Error::not_found("project", &flow.project_id))
    }

    /// After [`Engine::finish_user_verification`] let a Connect Link's flow through: where the
    /// link goes on (the provider's authorization page, or the connect form).
    pub async fn continue_connect_link(&self, flow_id: &str, cookies: &BindingCookies) -> Result<LinkOpen> {
        let flow = self.flow(flow_id).await?;
        let VerificationPurpose::ConnectLink { account_id } = VerificationPurpose::from_record(&flow)? else {
            return Err(Error::validation("flow_id", "this verification is not for a Connect Link"));
        };
        let req = self
            .store
            .request_by_account(&flow.project_id, &account_id)
            .await?
            .ok_or_else(|| Error::not_found("connected account", &account_id))?;
        self.open_link_with(&req.link_token, cookies).await
    }

    /// Whether a link must be verified before it goes on: the project turned
    /// `verify_connect_links` on.
    pub(crate) async fn link_needs_verification(&self, project_id: &str) -> Result<bool> {
        Ok(self.profile(project_id).await?.verify_connect_links)
    }

    /// Whether this browser passed a verification for the link whose `state` this is.
    pub(crate) async fn link_verified_here(&self, state: &str, cookies: &BindingCookies) -> Result<bool> {
        let passed = self.store.passed_link_verifications(&secrets::sha256_hex(state)).await?;
        Ok(passed.iter().any(|f| cookies.bind(f)))
    }

    /// Starts the verification of a Connect Link, for its account's user.
    pub(crate) async fn begin_link_verification(&self, project_id: &str, account_id: &str, user_id: &str, state: &str) -> Result<LinkOpen> {
        let project = self.store.get_project(project_id).await?.ok_or_else(|| Error::not_found("project", project_id))?;
        let purpose = VerificationPurpose::ConnectLink { account_id: account_id.to_string() };
        match self.begin_verification(&project, purpose, user_id, Some(secrets::sha256_hex(state))).await? {
            Some(start) => Ok(LinkOpen::Verify(start)),
            None => Ok(LinkOpen::Page(crate::engine::CallbackPage::Invalid {
                reason: "This app asks to confirm who you are before connecting, but has no verification page set up. Nothing was connected.".into(),
            })),
        }
    }

    /// The page the OAuth callback or a form submission shows when the link was not verified in
    /// this browser (the link is left as it was).
    pub(crate) fn unverified_outcome() -> CallbackOutcome {
        CallbackOutcome::Page(crate::engine::CallbackPage::Invalid {
            reason: "This app confirms who you are before connecting, and that was not done in this browser. \
                     Open the Connect Link again from the app. Nothing was connected."
                .into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::catalog::Catalog;
    use crate::engine::store::SqliteStore;
    use crate::engine::vault::Vault;
    use crate::engine::EngineConfig;

    async fn engine(dir: &tempfile::TempDir, dev_mode: bool) -> Engine {
        let store = Arc::new(SqliteStore::open(dir.path().join("store.db")).unwrap());
        let config = EngineConfig { dev_mode, ..EngineConfig::new(url::Url::parse("http://127.0.0.1:1").unwrap()) };
        Engine::new(store, Vault::from_base64(&Vault::generate_key().unwrap()).unwrap(), Catalog::builtin(), config).await.unwrap()
    }

    /// What the MCP authorization server does with a verification: begin, the app confirms, the
    /// browser comes back with its binding; only then is the authorization approved.
    #[tokio::test]
    async fn an_mcp_authorization_is_verified_once_for_the_expected_user_in_the_browser_that_began_it() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir, true).await;
        let project = engine.bootstrap(&[], &[]).await.unwrap().project;
        let who = Principal::project(project.clone());
        let purpose = VerificationPurpose::McpAuthorization { authorization_id: "mcpa_1".into() };

        let start = engine.begin_user_verification(&project, purpose.clone(), "alice").await.unwrap().expect("--dev has a verifier");
        assert!(start.browser_url.starts_with(&format!("http://127.0.0.1:1{DEV_VERIFY_PATH}?flow_id=uvf_")), "{}", start.browser_url);
        assert_eq!(start.cookie_name, binding_cookie_name(&start.flow_id));
        assert!(matches!(engine.finish_user_verification(&start.flow_id, Some(&start.binding)).await, Err(Error::Conflict(_))), "not confirmed yet");

        let confirmed = engine.confirm_user_verification(&who, &start.flow_id, "alice").await.unwrap();
        assert!(confirmed.matched);
        assert!(matches!(engine.finish_user_verification(&start.flow_id, None).await, Err(Error::Forbidden(_))));
        assert!(matches!(engine.finish_user_verification(&start.flow_id, Some("another-browser")).await, Err(Error::Forbidden(_))));
        assert_eq!(engine.finish_user_verification(&start.flow_id, Some(&start.binding)).await.unwrap(), purpose);
        assert!(matches!(engine.finish_user_verification(&start.flow_id, Some(&start.binding)).await, Err(Error::Conflict(_))), "single use");

        // Another user: the flow ends, and the browser is told so.
        let other = engine.begin_user_verification(&project, purpose.clone(), "alice").await.unwrap().unwrap();
        assert!(!engine.confirm_user_verification(&who, &other.flow_id, "mallory").await.unwrap().matched);
        match engine.finish_user_verification(&other.flow_id, Some(&other.binding)).await {
            Err(Error::Forbidden(m)) => assert_eq!(m, ANOTHER_USER),
            other => panic!("expected the other-user refusal, got {other:?}"),
        }

        // Another project's key does not see the flow.
        let foreign = Project { id: "pr_foreign".into(), name: "foreign".into(), ..project.clone() };
        engine.store.insert_project(&foreign).await.unwrap();
        let third = engine.begin_user_verification(&project, purpose, "alice").await.unwrap().unwrap();
        assert!(matches!(
            engine.confirm_user_verification(&Principal::project(foreign), &third.flow_id, "alice").await,
            Err(Error::NotFound { .. })
        ));
    }

    #[tokio::test]
    async fn without_a_verifier_outside_dev_there_is_no_verification() {
        let dir = tempfile::tempdir().unwrap();
        let engine = engine(&dir, false).await;
        let project = engine.bootstrap(&[], &[]).await.unwrap().project;
        let purpose = VerificationPurpose::McpAuthorization { authorization_id: "mcpa_1".into() };
        assert_eq!(engine.begin_user_verification(&project, purpose, "alice").await.unwrap(), None);
    }

    #[test]
    fn binding_cookies_are_read_from_the_header_and_never_printed() {
        let c = BindingCookies::from_header("a=1; grantline_uv_0123=s3cret; other=2;grantline_uv_ff=\"x\"");
        assert_eq!(c.get("grantline_uv_0123"), Some("s3cret"));
        assert_eq!(c.get("grantline_uv_ff"), Some("x"));
        assert_eq!(c.get("a"), None);
        assert!(!format!("{c:?}").contains("s3cret"));
        let name = binding_cookie_name("uvf_abc");
        assert!(name.starts_with(BINDING_COOKIE_PREFIX) && name.len() == BINDING_COOKIE_PREFIX.len() + 16);
        assert_ne!(name, binding_cookie_name("uvf_abd"));
    }
}
