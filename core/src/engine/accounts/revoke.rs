//! Ending a connection for good: the provider revokes the grant (RFC 7009) where the toolkit
//! declares a revocation endpoint, then the account is REVOKED with its credentials wiped
//! (`POST …/connected_accounts/{id}/revoke`, and `DELETE …?revoke_on_delete=true`).

use crate::engine::oauth::{self, ClientAuth, TokenError};
use crate::engine::store::{AccountRecord, Transition};
use crate::engine::{clock, Engine, Principal};
use crate::catalog::AuthKind;
use crate::model::{check_id, AccountStatus, DeleteAccountResponse, ACCOUNT_PREFIX, ProviderRevocation, RevokeAccountResponse, RevokedAccountRef};
use crate::{Error, Result};

/// What the provider did with an account's grant.
struct AtProvider {
    revoked_tokens: Vec<String>,
    outcome: ProviderRevocation,
    note: Option<String>,
}

impl Engine {
    /// `POST /api/v3.1/connected_accounts/{id}/revoke`: revokes the grant at the provider, then
    /// marks the account REVOKED and forgets its credentials. A provider that fails leaves the
    /// account as it was (the error says why; retrying is safe).
    pub async fn revoke_account(&self, who: &Principal, id: &str) -> Result<RevokeAccountResponse> {
        who.require_project()?;
        let account = self.account_for_revocation(who, id).await?;
        let done = self.revoke_at_provider(&account).await?;
        // Already REVOKED (a concurrent revocation) is the same outcome.
        self.store.transition(&Transition::revoke(&account.id, clock::now_ms())).await?;
        tracing::info!(account = %account.id, toolkit = %account.toolkit, outcome = ?done.outcome, "connected account revoked");
        Ok(RevokeAccountResponse {
            revoked_tokens: done.revoked_tokens,
            connected_account: RevokedAccountRef { id: account.id, status: AccountStatus::Revoked },
            provider_revocation: done.outcome,
            note: done.note,
        })
    }

    /// `DELETE /api/v3.1/connected_accounts/{id}`: removes the account and its credentials;
    /// with `revoke` the provider revokes the grant first (and a provider failure deletes nothing).
    pub async fn delete_account(&self, who: &Principal, id: &str, revoke: bool) -> Result<DeleteAccountResponse> {
        who.require_project()?;
        let done = match revoke {
            true => Some(self.revoke_at_provider(&self.account_for_revocation(who, id).await?).await?),
            false => {
                check_id("connected_account_id", id, ACCOUNT_PREFIX)?;
                None
            }
        };
        if !self.store.delete_account(&who.project.id, id, crate::engine::clock::now_ms()).await? {
            return Err(Error::not_found("connected account", id));
        }
        Ok(DeleteAccountResponse {
            success: true,
            revoked_tokens: done.as_ref().map(|d| d.revoked_tokens.clone()),
            provider_revocation: done.as_ref().map(|d| d.outcome),
            note: done.and_then(|d| d.note),
        })
    }

    async fn account_for_revocation(&self, who: &Principal, id: &str) -> Result<AccountRecord> {
        check_id("connected_account_id", id, ACCOUNT_PREFIX)?;
        self.store.get_account(&who.project.id, id).await?.ok_or_else(|| Error::not_found("connected account", id))
    }

    /// Asks the provider to revoke the account's refresh token, then its access token (RFC 7009
    /// lets a provider revoke the pair from either; both are tried so none outlives the call).
    async fn revoke_at_provider(&self, account: &AccountRecord) -> Result<AtProvider> {
        let nothing = || AtProvider { revoked_tokens: vec![], outcome: ProviderRevocation::NothingToRevoke, note: None };
        if account.credentials_sealed.is_none() {
            return Ok(nothing());
        }
        let def = self.catalog.get(&account.toolkit);
        let provider = def.filter(|d| d.auth == AuthKind::Oauth2).and_then(|d| d.oauth2.as_ref());
        let Some((provider, url)) = provider.and_then(|p| p.revocation_url.as_deref().map(|u| (p, u))) else {
            let what = match def.map(|d| d.auth) {
                Some(AuthKind::Oauth2) => "declares no token revocation endpoint (RFC 7009)",
                _ => "uses a pasted credential the broker cannot revoke",
            };
            return Ok(AtProvider {
                revoked_tokens: vec![],
                outcome: ProviderRevocation::NotSupported,
                note: Some(format!(
                    "the {} toolkit {what}: the broker deleted its copy of the credential, but the grant stays valid at the provider until the user or the provider ends it",
                    account.toolkit
                )),
            });
        };
        let tokens = self.open_tokens(account)?;
        let (ac, secret) = self.app_credentials(account).await?;
        let client = ClientAuth { provider, client_id: ac.client_id.as_deref().unwrap_or(""), client_secret: &secret };
        let mut revoked = vec![];
        if let Some(refresh) = &tokens.refresh_token {
            oauth::revoke_token(&self.http, &client, url, refresh, "refresh_token").await.map_err(revocation_failed)?;
            revoked.push("refresh_token".to_string());
        }
        match oauth::revoke_token(&self.http, &client, url, &tokens.access_token, "access_token").await {
            Ok(()) => revoked.push("access_token".to_string()),
            // The refresh token's revocation usually ends its access tokens too.
            Err(e) if !revoked.is_empty() => tracing::info!(account = %account.id, reason = e.reason(), "access token not revoked separately"),
            Err(e) => return Err(revocation_failed(e)),
        }
        Ok(AtProvider { revoked_tokens: revoked, outcome: ProviderRevocation::Revoked, note: None })
    }
}

fn revocation_failed(e: TokenError) -> Error {
    Error::Provider(format!("the provider did not revoke the grant, nothing was changed: {}", e.reason()))
}
