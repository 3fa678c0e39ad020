//! MCP credentials: the app's backend mints one per MCP client of a session, so no MCP client
//! ever holds the project API key. Listed without their secret, revoked one by one, revoked with
//! the API key that minted them, deleted with their session.

use std::collections::BTreeMap;
use std::time::Duration;

use super::store::McpCredentialRecord;
use super::{clock, secrets, Engine, Principal};
use crate::model::{
    check_id, McpClientConfig, McpCredential, McpCredentialInfo, McpCredentialList, McpCredentialRequest,
    DEFAULT_MCP_CREDENTIAL_TTL_SECS, MAX_MCP_CREDENTIAL_NAME_CHARS, MAX_MCP_CREDENTIAL_TTL_SECS, MCP_CREDENTIAL_ID_PREFIX,
    MCP_CREDENTIAL_PREFIX,
};
use crate::{Error, Result};

impl Engine {
    /// `POST …/session/{id}/mcp_credentials`: a credential for this session's MCP endpoint only,
    /// its secret shown once. Only an API key may mint one.
    pub async fn create_mcp_credential(&self, who: &Principal, session_id: &str, req: McpCredentialRequest) -> Result<McpCredential> {
        who.require_project()?;
        let ttl = match req.ttl_seconds {
            None => DEFAULT_MCP_CREDENTIAL_TTL_SECS,
            Some(t) if (1..=MAX_MCP_CREDENTIAL_TTL_SECS).contains(&t) => t,
            Some(_) => {
                return Err(Error::validation(
                    "ttl_seconds",
                    format!("must be 1 to {MAX_MCP_CREDENTIAL_TTL_SECS} seconds (365 days); leave it out for 30 days"),
                ))
            }
        };
        let name = match req.name.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(n) if n.chars().count() > MAX_MCP_CREDENTIAL_NAME_CHARS || n.chars().any(char::is_control) => {
                return Err(Error::validation("name", format!("at most {MAX_MCP_CREDENTIAL_NAME_CHARS} characters, no control characters")))
            }
            Some(n) => Some(n.to_string()),
        };
        let session = self.load_session(who, session_id).await?;
        let secret = format!("{MCP_CREDENTIAL_PREFIX}{}", secrets::random_token(40)?);
        let now = clock::now_ms();
        let record = McpCredentialRecord {
            id: secrets::new_id(MCP_CREDENTIAL_ID_PREFIX)?,
            project_id: who.project.id.clone(),
            session_id: session.id,
            hash: secrets::sha256_hex(&secret),
            name,
            created_at: now,
            expires_at: now + Duration::from_secs(ttl).as_millis() as i64,
            revoked_at: None,
            api_key_id: who.api_key_id.clone(),
            last_used_at: None,
        };
        self.store.insert_mcp_credential(&record).await?;
        tracing::info!(credential_id = %record.id, session_id = %record.session_id, "MCP credential minted");
        let headers = BTreeMap::from([("Authorization".to_string(), format!("Bearer {secret}"))]);
        Ok(McpCredential {
            mcp: McpClientConfig { kind: "http".into(), url: self.mcp_url(&record.session_id), headers },
            id: record.id,
            secret,
            session_id: record.session_id,
            name: record.name,
            created_at: clock::rfc3339(record.created_at),
            expires_at: clock::rfc3339(record.expires_at),
        })
    }

    /// `GET …/session/{id}/mcp_credentials`: the session's credentials, newest first, never a secret.
    pub async fn list_mcp_credentials(&self, who: &Principal, session_id: &str) -> Result<McpCredentialList> {
        who.require_project()?;
        let session = self.load_session(who, session_id).await?;
        let now = clock::now_ms();
        let items = self
            .store
            .list_mcp_credentials(&who.project.id, &session.id)
            .await?
            .into_iter()
            .map(|r| McpCredentialInfo {
                status: match (r.revoked_at, r.expires_at <= now) {
                    (Some(_), _) => "REVOKED",
                    (None, true) => "EXPIRED",
                    (None, false) => "ACTIVE",
                }
                .into(),
                id: r.id,
                session_id: r.session_id,
                name: r.name,
                created_at: clock::rfc3339(r.created_at),
                expires_at: clock::rfc3339(r.expires_at),
                revoked_at: r.revoked_at.map(clock::rfc3339),
                last_used_at: r.last_used_at.map(clock::rfc3339),
            })
            .collect();
        Ok(McpCredentialList { items })
    }

    /// `DELETE …/session/{id}/mcp_credentials/{credential_id}`: refused from now on.
    pub async fn revoke_mcp_credential(&self, who: &Principal, session_id: &str, credential_id: &str) -> Result<()> {
        who.require_project()?;
        let session = self.load_session(who, session_id).await?;
        check_id("credential_id", credential_id, MCP_CREDENTIAL_ID_PREFIX)?;
        if self.store.revoke_mcp_credential(&who.project.id, &session.id, credential_id, clock::now_ms()).await? {
            tracing::info!(credential_id, session_id = %session.id, "MCP credential revoked");
            Ok(())
        } else {
            Err(Error::not_found("MCP credential", credential_id))
        }
    }

    /// The MCP endpoint of a session.
    pub(crate) fn mcp_url(&self, session_id: &str) -> String {
        self.config.url(&format!("/tool_router/{session_id}/mcp"))
    }
}
