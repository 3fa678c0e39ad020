//! Sessions and connection requests, as a user of the SDK holds them.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::{wait, Client, WaitOptions};
use crate::model::{
    ClientToken, ClientTokenRequest, ConnectedAccount, CreateSessionRequest, LinkRequest, LinkResponse, ManageConnectionsInput, ManageConnectionsOptions,
    ExecuteRequest, ExecuteResponse, McpCredential, McpCredentialInfo, McpCredentialList, McpCredentialRequest, McpInfo, Page, ProxyRequest, ProxyResponse, SearchHit, SearchRequest, SearchResponse,
    SessionInfo, ToolInfo, ToolkitItem, ToolkitsInput, ToolkitsQuery,
};
use crate::Result;

/// Options of [`Client::create`]; `Default` means all toolkits, in-chat management on.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionOptions {
    /// Only these toolkits (empty = all, unless `disabled_toolkits` is set).
    pub toolkits: Vec<String>,
    /// All toolkits but these.
    pub disabled_toolkits: Vec<String>,
    /// Offer the in-chat connection tool (default true).
    pub manage_connections: Option<bool>,
    /// Callback URL for links started in chat.
    pub manage_connections_callback_url: Option<String>,
    /// Also offer `COMPOSIO_WAIT_FOR_CONNECTIONS` (default false).
    pub wait_for_connections: Option<bool>,
    /// Auth config per toolkit.
    pub auth_configs: BTreeMap<String, String>,
    /// Connected account per toolkit.
    pub connected_accounts: BTreeMap<String, String>,
    /// Toolkit tools offered directly beside the meta tools (tools list, MCP).
    pub direct_tools: Vec<String>,
}

impl SessionOptions {
    pub(crate) fn into_request(self, user_id: &str) -> CreateSessionRequest {
        let toolkits = if !self.toolkits.is_empty() {
            Some(ToolkitsInput::Enable { enable: self.toolkits, require_approval: None })
        } else if !self.disabled_toolkits.is_empty() {
            Some(ToolkitsInput::Disable { disable: self.disabled_toolkits, require_approval: None })
        } else {
            None
        };
        let manage_connections = match (self.manage_connections, self.manage_connections_callback_url, self.wait_for_connections) {
            (None, None, None) => None,
            (enable, callback_url, enable_wait_for_connections) => Some(ManageConnectionsInput::Options(ManageConnectionsOptions {
                enable,
                callback_url,
                enable_wait_for_connections,
                enable_connection_removal: None,
            })),
        };
        CreateSessionRequest {
            user_id: user_id.to_string(),
            toolkits,
            manage_connections,
            auth_configs: self.auth_configs,
            connected_accounts: self
                .connected_accounts
                .into_iter()
                .map(|(k, v)| (k, crate::model::AccountIdsInput::One(v)))
                .collect(),
            direct_tools: self.direct_tools,
            settings: Default::default(),
        }
    }
}

/// Options of [`Session::authorize`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuthorizeOptions {
    /// Where the user lands afterwards (must be on the project's allow-list).
    pub callback_url: Option<String>,
    /// Name for the account, unique per user and toolkit.
    pub alias: Option<String>,
}

/// One end user's session on the broker.
#[derive(Clone, Debug)]
pub struct Session {
    client: Client,
    info: SessionInfo,
    /// The MCP credential [`Session::mcp_headers`] minted, shared by this session's clones.
    mcp_credential: Arc<Mutex<Option<McpCredential>>>,
}

impl Session {
    pub(crate) fn new(client: Client, info: SessionInfo) -> Self {
        Self { client, info, mcp_credential: Arc::default() }
    }

    /// `trs_…`
    pub fn session_id(&self) -> &str {
        &self.info.session_id
    }

    /// The end user.
    pub fn user_id(&self) -> &str {
        &self.info.config.config.user_id
    }

    /// The session's MCP endpoint.
    pub fn mcp(&self) -> &McpInfo {
        &self.info.mcp
    }

    /// Headers an MCP client sends to [`Self::mcp`]'s URL: `Authorization: Bearer glmcp_…`, a
    /// credential for this session's MCP endpoint only (never the API key). Minted on first use
    /// (default lifetime, 30 days) and kept in this session object; later calls reuse it.
    pub async fn mcp_headers(&self) -> Result<BTreeMap<String, String>> {
        Ok(self.mcp_credential().await?.mcp.headers)
    }

    /// The MCP credential [`Self::mcp_headers`] uses: minted on first use, then kept.
    pub async fn mcp_credential(&self) -> Result<McpCredential> {
        if let Some(c) = self.cached_mcp_credential() {
            return Ok(c);
        }
        let minted = self.create_mcp_credential(McpCredentialRequest::default()).await?;
        let kept = {
            let mut cached = self.mcp_credential.lock().unwrap_or_else(|e| e.into_inner());
            cached.get_or_insert_with(|| minted.clone()).clone()
        };
        if kept.id != minted.id {
            // A concurrent first use minted one too: keep one, revoke the spare.
            let _ = self.revoke_mcp_credential(&minted.id).await;
        }
        Ok(kept)
    }

    /// The headers of the MCP credential this session object already holds, if it minted one
    /// (for hosts that cannot wait in a property).
    pub fn cached_mcp_headers(&self) -> Option<BTreeMap<String, String>> {
        self.cached_mcp_credential().map(|c| c.mcp.headers)
    }

    fn cached_mcp_credential(&self) -> Option<McpCredential> {
        self.mcp_credential.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Mints a credential for this session's MCP endpoint (`POST …/mcp_credentials`): hand its
    /// `mcp.url` and `mcp.headers` to an MCP client. Its secret is shown once.
    pub async fn create_mcp_credential(&self, request: McpCredentialRequest) -> Result<McpCredential> {
        self.client.http().post_json(&self.path("mcp_credentials"), &request).await
    }

    /// This session's MCP credentials, newest first, without their secrets.
    pub async fn mcp_credentials(&self) -> Result<Vec<McpCredentialInfo>> {
        let list: McpCredentialList = self.client.http().get_json(&self.path("mcp_credentials"), &[]).await?;
        Ok(list.items)
    }

    /// Revokes one of this session's MCP credentials by its id (`mcpc_…`): the MCP endpoint
    /// refuses it from now on. Revoking the one [`Self::mcp_headers`] holds forgets it, so the
    /// next call mints a new one.
    pub async fn revoke_mcp_credential(&self, credential_id: &str) -> Result<()> {
        crate::model::check_id("credential_id", credential_id, crate::model::MCP_CREDENTIAL_ID_PREFIX)?;
        let _: crate::model::SuccessResponse =
            self.client.http().delete_json(&self.path(&format!("mcp_credentials/{credential_id}"))).await?;
        let mut cached = self.mcp_credential.lock().unwrap_or_else(|e| e.into_inner());
        if cached.as_ref().is_some_and(|c| c.id == credential_id) {
            *cached = None;
        }
        Ok(())
    }

    /// Everything the broker said about this session.
    pub fn info(&self) -> &SessionInfo {
        &self.info
    }

    fn path(&self, tail: &str) -> String {
        format!("/api/v3.1/tool_router/session/{}/{tail}", self.info.session_id)
    }

    /// Starts connecting `toolkit`: creates an INITIATED account and its Connect Link.
    pub async fn authorize(&self, toolkit: &str, options: AuthorizeOptions) -> Result<ConnectionRequest> {
        let body = LinkRequest { toolkit: toolkit.to_string(), callback_url: options.callback_url, alias: options.alias };
        let link: LinkResponse = self.client.http().post_json(&self.path("link"), &body).await?;
        Ok(ConnectionRequest { client: self.client.clone(), link })
    }

    /// One page of the session's toolkits with their connection state.
    pub async fn toolkits(&self, query: &ToolkitsQuery) -> Result<Page<ToolkitItem>> {
        self.client.http().get_json(&self.path("toolkits"), &query.to_params()).await
    }

    /// Every toolkit matching `query`, walking all pages ([`super::options::ALL_TOOLKITS_PAGE`]
    /// toolkits a page unless `query` says).
    pub async fn all_toolkits(&self, query: &ToolkitsQuery) -> Result<Vec<ToolkitItem>> {
        let mut q = query.clone();
        q.limit.get_or_insert(super::options::ALL_TOOLKITS_PAGE);
        let mut out = Vec::new();
        loop {
            let page = self.toolkits(&q).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => q.cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Mints a token for a browser widget: it can only authorize, wait and list toolkits in
    /// this session, for `ttl_seconds` (default 900). Hand its `token` to the page, never the API key.
    pub async fn client_token(&self, ttl_seconds: Option<u64>) -> Result<ClientToken> {
        self.client.http().post_json(&self.path("client_token"), &ClientTokenRequest { ttl_seconds }).await
    }

    /// Revokes a client token of this session by its id (`ct_…`); the broker refuses it from now on.
    pub async fn revoke_client_token(&self, token_id: &str) -> Result<()> {
        crate::model::check_id("token_id", token_id, crate::model::CLIENT_TOKEN_ID_PREFIX)?;
        let _: crate::model::SuccessResponse = self.client.http().delete_json(&self.path(&format!("client_token/{token_id}"))).await?;
        Ok(())
    }

    /// The session's tools (meta tools, then direct tools), every page.
    pub async fn tools(&self) -> Result<Vec<ToolInfo>> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut params = vec![("limit", "500".to_string())];
            params.extend(cursor.take().map(|c| ("cursor", c)));
            let page: Page<ToolInfo> = self.client.http().get_json(&self.path("tools"), &params).await?;
            out.extend(page.items);
            match page.next_cursor {
                Some(c) => cursor = Some(c),
                None => return Ok(out),
            }
        }
    }

    /// Runs a meta tool, e.g. `COMPOSIO_MANAGE_CONNECTIONS`.
    pub async fn execute_meta(
        &self,
        slug: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
    ) -> Result<crate::model::ExecuteMetaResponse> {
        let body = crate::model::ExecuteMetaRequest { slug: slug.to_string(), arguments, ..Default::default() };
        self.client.http().post_json(&self.path("execute_meta"), &body).await
    }

    /// Runs a toolkit tool as the session's user, e.g. `GITHUB_CREATE_AN_ISSUE`. A toolkit
    /// that is not connected answers `successful: false` with the next step in `data`.
    pub async fn execute(
        &self,
        tool_slug: &str,
        arguments: serde_json::Map<String, serde_json::Value>,
        connected_account_id: Option<String>,
    ) -> Result<ExecuteResponse> {
        let body = ExecuteRequest { tool_slug: tool_slug.to_string(), arguments, connected_account_id, ..Default::default() };
        self.client.http().post_json(&self.path("execute"), &body).await
    }

    /// The session's toolkit tools ranked for the request's use cases, best first (see
    /// [`SearchRequest::use_case`]); [`Self::search_answer`] gives the whole answer.
    pub async fn search(&self, request: &SearchRequest) -> Result<Vec<SearchHit>> {
        Ok(self.search_answer(request).await?.hits())
    }

    /// The broker's search answer (Composio's shape: results, tool schemas, connection
    /// statuses, next steps). With one use case, a refused use case is named `query`.
    pub async fn search_answer(&self, request: &SearchRequest) -> Result<SearchResponse> {
        let r = self.client.http().post_json(&self.path("search"), request).await;
        r.map_err(|e| match e {
            crate::Error::Validation { field, message } if field == "queries[0].use_case" && request.queries.len() == 1 => {
                crate::Error::Validation { field: "query".into(), message }
            }
            e => e,
        })
    }

    /// An authenticated request to a provider's API as the session's user.
    pub async fn proxy_execute(&self, request: &ProxyRequest) -> Result<ProxyResponse> {
        self.client.http().post_json(&self.path("proxy_execute"), request).await
    }
}

/// A started connection: the Connect Link to show and the account it will complete.
#[derive(Clone, Debug)]
pub struct ConnectionRequest {
    client: Client,
    link: LinkResponse,
}

impl ConnectionRequest {
    /// The connected account id (`ca_…`), INITIATED until the user finishes.
    pub fn id(&self) -> &str {
        &self.link.connected_account_id
    }

    /// The Connect Link to open in the user's browser.
    pub fn redirect_url(&self) -> &str {
        &self.link.redirect_url
    }

    /// The link's token (`ln_…`).
    pub fn link_token(&self) -> &str {
        &self.link.link_token
    }

    /// Resolves with the account once ACTIVE; fails at once on FAILED/EXPIRED/REVOKED,
    /// or with `ConnectionRequestTimeout` after `timeout`.
    pub async fn wait_for_connection(&self, timeout: Duration) -> Result<ConnectedAccount> {
        wait::wait_for_connection(&self.client, self.id(), WaitOptions { timeout, ..WaitOptions::default() }).await
    }

    /// [`Self::wait_for_connection`] with every knob, ended early when `cancel` (any future)
    /// completes first: the request in flight is dropped, and the wait ends with `cancel`'s output
    /// as its error (the host's own: Node's `AbortError`, the browser's `PopupClosedError`). With
    /// [`OnCancel::LookOnce`](super::OnCancel::LookOnce) it first asks the broker once more
    /// without waiting, and ends with the account if the user finished just before the cancel.
    /// A cancel that has already completed sends no request but that last look. Pass
    /// `std::future::pending()` for a wait nothing cancels.
    pub async fn wait_with<E, C>(&self, options: WaitOptions, cancel: C) -> std::result::Result<ConnectedAccount, E>
    where
        C: std::future::Future<Output = E>,
        E: From<crate::Error>,
    {
        wait::wait_cancellable(&self.client, self.id(), options, cancel).await
    }
}
