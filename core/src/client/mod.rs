//! The Rust client of the Grantline REST API: what the Python, Node and browser SDKs wrap.

mod config;
mod http;
pub mod options;
mod redirect;
mod session;
mod transport;
pub mod views;
mod wait;
mod webhooks;

pub use config::{ClientConfig, Credential};
pub use redirect::RedirectOutcome;
pub use views::{AccountView, PageView, RefreshedAccountView, RevokedAccountView, SearchHitView, ToolkitConnectionView, ToolkitView};
pub use session::{AuthorizeOptions, ConnectionRequest, Session, SessionOptions};
pub use wait::{OnCancel, WaitOptions, DEFAULT_POLL_INTERVAL, LONG_POLL_SLICE};
pub use webhooks::Webhooks;

use crate::model::{
    AccountFilter, ConfirmUserRequest, ConnectedAccount, Page, ProjectInfo, ProjectPatch, RefreshAccountRequest, RefreshAccountResponse,
    RevokeAccountResponse, SuccessResponse, UpdateAccountStatusRequest, UserVerificationConfirmed,
};
use crate::Result;
use http::Http;

/// A handle on one Grantline broker, cheap to clone and share between tasks.
#[derive(Clone, Debug)]
pub struct Client {
    http: Http,
}

impl Client {
    /// Builds a client from explicit configuration.
    pub fn new(config: ClientConfig) -> Result<Self> {
        Ok(Self { http: Http::new(config)? })
    }

    /// Builds a client from `GRANTLINE_API_KEY` and `GRANTLINE_BASE_URL` (native only).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn from_env() -> Result<Self> {
        Self::new(ClientConfig::from_env()?)
    }

    /// The broker's base URL, normalised and ending with `/` (`http://127.0.0.1:9900/`).
    pub fn base_url(&self) -> &str {
        self.http.base_url()
    }

    /// Creates a session for `user_id`: `POST /api/v3.1/tool_router/session`.
    pub async fn create(&self, user_id: &str, options: SessionOptions) -> Result<Session> {
        let body = options.into_request(user_id);
        let info = self.http.post_json("/api/v3.1/tool_router/session", &body).await?;
        Ok(Session::new(self.clone(), info))
    }

    /// Opens an existing session by id: `GET /api/v3.1/tool_router/session/{id}`.
    pub async fn use_session(&self, session_id: &str) -> Result<Session> {
        crate::model::check_id("session_id", session_id, crate::model::SESSION_PREFIX)?;
        let info = self.http.get_json(&format!("/api/v3.1/tool_router/session/{session_id}"), &[]).await?;
        Ok(Session::new(self.clone(), info))
    }

    /// The session this client's client token acts on (browser use): `GET /api/v3.1/client_token/session`.
    pub async fn client_token_session(&self) -> Result<Session> {
        let info = self.http.get_json("/api/v3.1/client_token/session", &[]).await?;
        Ok(Session::new(self.clone(), info))
    }

    /// Connected-account operations.
    pub fn connected_accounts(&self) -> ConnectedAccounts {
        ConnectedAccounts { client: self.clone() }
    }

    /// Webhook subscriptions and their deliveries.
    pub fn webhooks(&self) -> Webhooks {
        Webhooks { client: self.clone() }
    }

    /// The project and the profile its pages show: `GET /api/v3.1/project`.
    pub async fn project(&self) -> Result<ProjectInfo> {
        self.http.get_json("/api/v3.1/project", &[]).await
    }

    /// Changes the project's profile (only the fields set; `Some(None)` clears one):
    /// `PATCH /api/v3.1/project`.
    pub async fn update_project(&self, patch: &ProjectPatch) -> Result<ProjectInfo> {
        self.http.patch_json("/api/v3.1/project", patch).await
    }

    /// Removes the project's logo: `DELETE /api/v3.1/project/logo`.
    pub async fn delete_project_logo(&self) -> Result<ProjectInfo> {
        self.http.delete_json("/api/v3.1/project/logo").await
    }

    /// Says who the browser's user is, from the app's verification page (its backend, with the
    /// API key): `POST /api/v3.1/user_verifications/{flow_id}/confirm`. Send the browser to
    /// the answer's `redirect_url`; when `matched` is false the flow has ended.
    pub async fn confirm_user(&self, flow_id: &str, user_id: &str) -> Result<UserVerificationConfirmed> {
        crate::model::check_id("flow_id", flow_id, crate::model::USER_VERIFICATION_PREFIX)?;
        let body = ConfirmUserRequest { user_id: user_id.to_string() };
        self.http.post_json(&format!("/api/v3.1/user_verifications/{flow_id}/confirm"), &body).await
    }

    pub(crate) fn http(&self) -> &Http {
        &self.http
    }
}

/// `GET/DELETE/PATCH /api/v3.1/connected_accounts…`.
#[derive(Clone, Debug)]
pub struct ConnectedAccounts {
    client: Client,
}

impl ConnectedAccounts {
    /// One account by id.
    pub async fn get(&self, id: &str) -> Result<ConnectedAccount> {
        crate::model::check_id("connected_account_id", id, crate::model::ACCOUNT_PREFIX)?;
        self.client.http.get_json(&format!("/api/v3.1/connected_accounts/{id}"), &[]).await
    }

    /// One page of accounts matching `filter`.
    pub async fn list(&self, filter: &AccountFilter, cursor: Option<&str>, limit: Option<u32>) -> Result<Page<ConnectedAccount>> {
        let mut q: Vec<(&str, String)> = Vec::new();
        if !filter.user_ids.is_empty() {
            q.push(("user_ids", filter.user_ids.join(",")));
        }
        if !filter.toolkit_slugs.is_empty() {
            q.push(("toolkit_slugs", filter.toolkit_slugs.join(",")));
        }
        if !filter.statuses.is_empty() {
            let s: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
            q.push(("statuses", s.join(",")));
        }
        if !filter.ids.is_empty() {
            q.push(("connected_account_ids", filter.ids.join(",")));
        }
        if !filter.auth_config_ids.is_empty() {
            q.push(("auth_config_ids", filter.auth_config_ids.join(",")));
        }
        if filter.order_by == crate::model::AccountOrder::UpdatedAt {
            q.push(("order_by", "updated_at".into()));
        }
        if filter.ascending {
            q.push(("order_direction", "asc".into()));
        }
        if filter.shared_only {
            q.push(("account_type", "SHARED".into()));
        }
        if let Some(c) = cursor {
            q.push(("cursor", c.to_string()));
        }
        if let Some(l) = limit {
            q.push(("limit", l.to_string()));
        }
        self.client.http.get_json("/api/v3.1/connected_accounts", &q).await
    }

    /// Deletes an account and its stored credentials.
    pub async fn delete(&self, id: &str) -> Result<()> {
        crate::model::check_id("connected_account_id", id, crate::model::ACCOUNT_PREFIX)?;
        let _: SuccessResponse = self.client.http.delete_json(&format!("/api/v3.1/connected_accounts/{id}")).await?;
        Ok(())
    }

    /// Enables or disables an account.
    pub async fn set_enabled(&self, id: &str, enabled: bool) -> Result<()> {
        crate::model::check_id("connected_account_id", id, crate::model::ACCOUNT_PREFIX)?;
        let _: SuccessResponse = self
            .client
            .http
            .patch_json(&format!("/api/v3.1/connected_accounts/{id}/status"), &UpdateAccountStatusRequest { enabled })
            .await?;
        Ok(())
    }

    /// Reconnects account `id`, which keeps its id: a new Connect Link for the user to open
    /// (`callback_url` is where they land after it, checked against the project's allow-list).
    /// The account keeps its status and credentials until the user completes the link; then
    /// it is ACTIVE with the new credentials. Older links of the account stop working.
    /// [`Self::wait_for_connection`] resolves when the user is done.
    pub async fn refresh(&self, id: &str, callback_url: Option<&str>) -> Result<RefreshAccountResponse> {
        crate::model::check_id("connected_account_id", id, crate::model::ACCOUNT_PREFIX)?;
        let body = RefreshAccountRequest { redirect_url: callback_url.map(str::to_string) };
        self.client.http.post_json(&format!("/api/v3.1/connected_accounts/{id}/refresh"), &body).await
    }

    /// Revokes account `id`'s grant at the provider (RFC 7009, where the toolkit has an
    /// endpoint for it) and marks it REVOKED with its credentials wiped; revoking again is a no-op.
    pub async fn revoke(&self, id: &str) -> Result<RevokeAccountResponse> {
        crate::model::check_id("connected_account_id", id, crate::model::ACCOUNT_PREFIX)?;
        self.client.http.post_json(&format!("/api/v3.1/connected_accounts/{id}/revoke"), &serde_json::json!({})).await
    }

    /// Waits until account `id` leaves INITIATED, or until its reconnect link ([`Self::refresh`])
    /// ends; see [`ConnectionRequest::wait_for_connection`].
    pub async fn wait_for_connection(&self, id: &str, timeout: std::time::Duration) -> Result<ConnectedAccount> {
        crate::model::check_id("connected_account_id", id, crate::model::ACCOUNT_PREFIX)?;
        wait::wait_for_connection(&self.client, id, WaitOptions { timeout, ..WaitOptions::default() }).await
    }

    /// [`Self::wait_for_connection`] with every knob, ended early when `cancel` completes; see
    /// [`ConnectionRequest::wait_with`].
    pub async fn wait_with<E, C>(&self, id: &str, options: WaitOptions, cancel: C) -> std::result::Result<ConnectedAccount, E>
    where
        C: std::future::Future<Output = E>,
        E: From<crate::Error>,
    {
        crate::model::check_id("connected_account_id", id, crate::model::ACCOUNT_PREFIX)?;
        wait::wait_cancellable(&self.client, id, options, cancel).await
    }
}
