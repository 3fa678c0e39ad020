//! Client tokens: the app's backend mints one per session for the browser, which never sees the API key.

use std::time::Duration;

use super::store::ClientTokenRecord;
use super::{clock, secrets, Engine, OriginAllowList, Principal, Scope};
use crate::model::{
    check_id, ClientToken, ClientTokenRequest, SessionInfo, CLIENT_TOKEN_ID_PREFIX, CLIENT_TOKEN_PREFIX,
    DEFAULT_CLIENT_TOKEN_TTL_SECS, MAX_CLIENT_TOKEN_TTL_SECS,
};
use crate::{Error, Result};

impl Engine {
    /// `POST …/session/{id}/client_token`: a token for this session only, shown once.
    pub async fn create_client_token(&self, who: &Principal, session_id: &str, req: ClientTokenRequest) -> Result<ClientToken> {
        who.require_project()?;
        let ttl = match req.ttl_seconds {
            None => DEFAULT_CLIENT_TOKEN_TTL_SECS,
            Some(t) if (1..=MAX_CLIENT_TOKEN_TTL_SECS).contains(&t) => t,
            Some(_) => return Err(Error::validation("ttl_seconds", format!("must be 1 to {MAX_CLIENT_TOKEN_TTL_SECS} seconds"))),
        };
        let session = self.load_session(who, session_id).await?;
        let token = format!("{CLIENT_TOKEN_PREFIX}{}", secrets::random_token(40)?);
        let now = clock::now_ms();
        let record = ClientTokenRecord {
            id: secrets::new_id(CLIENT_TOKEN_ID_PREFIX)?,
            project_id: who.project.id.clone(),
            session_id: session.id,
            hash: secrets::sha256_hex(&token),
            created_at: now,
            expires_at: now + Duration::from_secs(ttl).as_millis() as i64,
            revoked_at: None,
            api_key_id: who.api_key_id.clone(),
        };
        self.store.insert_client_token(&record).await?;
        Ok(ClientToken {
            id: record.id,
            token,
            session_id: record.session_id,
            expires_at: clock::rfc3339(record.expires_at),
        })
    }

    /// `DELETE …/session/{id}/client_token/{token_id}`: the token is refused from now on.
    pub async fn revoke_client_token(&self, who: &Principal, session_id: &str, token_id: &str) -> Result<()> {
        who.require_project()?;
        let session = self.load_session(who, session_id).await?;
        check_id("token_id", token_id, CLIENT_TOKEN_ID_PREFIX)?;
        if self.store.revoke_client_token(&who.project.id, &session.id, token_id, clock::now_ms()).await? {
            Ok(())
        } else {
            Err(Error::not_found("client token", token_id))
        }
    }

    /// Resolves a bearer client token to a principal scoped to its session. A request that
    /// names an `origin` (a browser's) must come from one of the project's allowed origins.
    pub async fn authenticate_client_token(&self, token: &str, origin: Option<&str>) -> Result<Principal> {
        super::refuse_outside_mcp(token)?;
        let record = self
            .store
            .client_token_by_hash(&secrets::sha256_hex(token))
            .await?
            .ok_or_else(|| Error::Unauthorized("unknown client token".into()))?;
        if record.revoked_at.is_some() {
            return Err(Error::Unauthorized("this client token was revoked".into()));
        }
        if record.expires_at <= clock::now_ms() {
            return Err(Error::Unauthorized("this client token has expired; ask the app's backend for a new one".into()));
        }
        let project = self
            .store
            .get_project(&record.project_id)
            .await?
            .ok_or_else(|| Error::Unauthorized("the token's project no longer exists".into()))?;
        let project = self.in_force(project);
        if let Some(origin) = origin {
            if !OriginAllowList::new(&project.allowed_origins).allows(origin) {
                return Err(Error::Forbidden(format!(
                    "origin {origin} is not allowed to use client tokens; add it with `grantline project allow-origin {origin}`"
                )));
            }
        }
        let session = self
            .store
            .get_session(&project.id, &record.session_id)
            .await?
            .ok_or_else(|| Error::Unauthorized("the token's session no longer exists".into()))?;
        Ok(Principal { project, scope: Scope::Session { token_id: record.id, session: Box::new(session) }, api_key_id: None })
    }

    /// `GET /api/v3.1/client_token/session`: the session a client token acts on.
    pub async fn client_token_session(&self, who: &Principal) -> Result<SessionInfo> {
        match &who.scope {
            // Authentication already loaded the session: no second read.
            Scope::Session { session, .. } => Ok(self.session_info(session)),
            Scope::Mcp { .. } => Err(Error::Forbidden(super::MCP_ONLY.into())),
            Scope::Project => Err(Error::Unauthorized("this operation takes a client token (Authorization: Bearer glct_…); an API key has no session of its own".into())),
        }
    }

    /// Whether a CORS preflight from `origin` may be answered: some project allows it.
    pub async fn origin_allowed_anywhere(&self, origin: &str) -> Result<bool> {
        let mut all = self.store.all_allowed_origins().await?;
        if self.config.dev_mode {
            all.extend(super::projects::DEV_LOOPBACK.map(String::from));
        }
        Ok(OriginAllowList::new(&all).allows(origin))
    }
}
