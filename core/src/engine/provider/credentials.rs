//! A connected account's credentials at call time: opened from the vault, refreshed when an
//! OAuth token has expired (one refresh at a time per account), and turned into the headers
//! a provider call carries.

use std::collections::BTreeMap;
use std::time::Duration;

use base64::Engine as _;

use crate::engine::oauth::{self, ClientAuth, TokenError, TokenSet};
use crate::engine::notifier::WatchKey;
use crate::engine::store::{AccountRecord, AuthConfigRecord, Transition};
use crate::engine::{clock, metrics, secrets, Engine};
use crate::catalog::{AuthKind, ToolkitDef};
use crate::model::AccountStatus;
use crate::{Error, Result};

/// A refresh forced by the provider refusing a token (a 401) is not made again within this
/// many milliseconds of the account's last refresh (or connection): an API that answers 401
/// to a fresh token gets its answer back instead of a storm of refresh grants.
pub(crate) const MIN_FORCED_REFRESH_INTERVAL_MS: i64 = 5_000;

/// The values a user typed into a connect form, as sealed in the vault.
pub(crate) type FormValues = BTreeMap<String, String>;

/// Headers that authenticate calls as one account.
pub(crate) struct AuthHeaders(pub Vec<(String, String)>);

impl std::fmt::Debug for AuthHeaders {
    // Never print credentials.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuthHeaders({} headers)", self.0.len())
    }
}

impl Engine {
    /// The headers for a call as `account`. An OAuth token that has expired (or that the
    /// provider just refused, `force_refresh`) is refreshed first.
    pub(crate) async fn auth_headers(&self, def: &ToolkitDef, account: &AccountRecord, force_refresh: bool) -> Result<AuthHeaders> {
        match def.auth {
            AuthKind::None => Ok(AuthHeaders(vec![])),
            AuthKind::Oauth2 => {
                let tokens = self.open_tokens(account)?;
                let tokens = if force_refresh || tokens.needs_refresh(clock::now_ms()) {
                    self.refresh_account(def, account, &tokens).await?
                } else {
                    tokens
                };
                Ok(AuthHeaders(vec![("authorization".into(), format!("Bearer {}", tokens.access_token))]))
            }
            AuthKind::ApiKey | AuthKind::Bearer | AuthKind::Basic => {
                let values = self.open_form_values(account)?;
                form_headers(def, &values).map(AuthHeaders)
            }
        }
    }

    /// The headers for retrying a call as `account` after the provider refused its token (a
    /// 401): the token is refreshed first, unless the account's tokens were obtained less than
    /// [`MIN_FORCED_REFRESH_INTERVAL_MS`] ago (then `None`: the provider's answer stands).
    pub(crate) async fn refreshed_auth_headers(&self, def: &ToolkitDef, account: &AccountRecord) -> Result<Option<AuthHeaders>> {
        if def.auth != AuthKind::Oauth2 {
            return Ok(None);
        }
        let tokens = self.open_tokens(account)?;
        if !forced_refresh_allowed(&tokens, clock::now_ms()) {
            tracing::info!(account = %account.id, toolkit = %def.slug, "provider refused a fresh token; not refreshing again so soon");
            return Ok(None);
        }
        self.auth_headers(def, account, true).await.map(Some)
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

    pub(crate) fn open_tokens(&self, account: &AccountRecord) -> Result<TokenSet> {
        let sealed = account.credentials_sealed.as_ref().ok_or_else(|| Error::Internal(format!("{} has no credentials", account.id)))?;
        serde_json::from_slice(&self.vault.open(&account.id, sealed)?).map_err(|e| Error::Internal(format!("stored tokens: {e}")))
    }

    pub(crate) fn open_form_values(&self, account: &AccountRecord) -> Result<FormValues> {
        let sealed = account.credentials_sealed.as_ref().ok_or_else(|| Error::Internal(format!("{} has no credentials", account.id)))?;
        serde_json::from_slice(&self.vault.open(&account.id, sealed)?).map_err(|e| Error::Internal(format!("stored form values: {e}")))
    }

    /// Refreshes `account`'s tokens once however many calls ask at the same time, on however
    /// many brokers: the caller that takes the account's refresh lease (in the store, with an
    /// expiry, so a dead holder blocks no one for long) refreshes; the others wait for the new
    /// tokens to appear (woken by the change feed, with a short poll should the holder die).
    async fn refresh_account(&self, def: &ToolkitDef, account: &AccountRecord, seen: &TokenSet) -> Result<TokenSet> {
        let lease = format!("refresh:{}", account.id);
        let holder = secrets::random_token(16)?;
        let lease_ms = (self.config.provider_timeout + Duration::from_secs(5)).as_millis() as i64;
        let give_up = tokio::time::Instant::now() + Duration::from_millis(lease_ms as u64) + Duration::from_secs(1);
        let mut watch = self.notifier.watch(WatchKey::Account(account.id.clone()));
        loop {
            let now = clock::now_ms();
            let held = self.store.acquire_lease(&lease, &holder, now + lease_ms, now).await?;
            // Read after taking the lease: a holder that just finished has stored its tokens.
            let current = self.active_account(def, account).await?;
            let tokens = self.open_tokens(&current)?;
            if tokens.access_token != seen.access_token {
                if held {
                    self.store.release_lease(&lease, &holder).await?;
                }
                return Ok(tokens); // refreshed by another call meanwhile
            }
            if held {
                let result = self.refresh_holding_lease(def, &current, &tokens).await;
                if let Err(e) = self.store.release_lease(&lease, &holder).await {
                    tracing::warn!(account = %account.id, error = %e, "refresh lease not released; it expires on its own");
                }
                return result;
            }
            if tokio::time::Instant::now() >= give_up {
                return Err(Error::Unavailable { message: "a token refresh of this account is taking too long; try again".into(), retry_after: 1 });
            }
            tokio::select! {
                _ = watch.changed() => {}
                _ = tokio::time::sleep(Duration::from_millis(250)) => {}
            }
        }
    }

    /// The refresh itself, by the holder of the account's refresh lease: one token request, then
    /// the new tokens stored unless the account changed meanwhile (a reconnect, an end).
    async fn refresh_holding_lease(&self, def: &ToolkitDef, current: &AccountRecord, tokens: &TokenSet) -> Result<TokenSet> {
        let Some(refresh_token) = tokens.refresh_token.clone() else {
            return Err(self.end_with(def, current, "the access token expired and the provider issued no refresh token").await);
        };
        let (ac, secret) = self.app_credentials(current).await?;
        let provider = def.oauth2.as_ref().ok_or_else(|| Error::Internal(format!("{} is not OAuth2", def.slug)))?;
        let client = ClientAuth { provider, client_id: ac.client_id.as_deref().unwrap_or_default(), client_secret: &secret };
        match oauth::refresh(&self.http, &client, &refresh_token, clock::now_ms()).await {
            Ok(fresh) => {
                metrics::refreshed(&def.slug, "ok");
                let json = serde_json::to_vec(&fresh).map_err(|e| Error::Internal(e.to_string()))?;
                let sealed = self.vault.seal(&current.id, &json)?;
                if self.store.transition(&Transition::refreshed(current, sealed, clock::now_ms())).await?.is_none() {
                    // Reconnected meanwhile (its tokens are newer than ours), or no longer ACTIVE.
                    return self.open_tokens(&self.active_account(def, current).await?);
                }
                tracing::info!(account = %current.id, toolkit = %def.slug, "access token refreshed");
                Ok(fresh)
            }
            Err(TokenError::Refused(reason)) => {
                metrics::refreshed(&def.slug, "refused");
                Err(self.end_with(def, current, &format!("token refresh failed: {reason}")).await)
            }
            Err(TokenError::Unavailable { reason, retry_after }) => {
                metrics::refreshed(&def.slug, "unavailable");
                // Transient: the account stays ACTIVE with its tokens, and the call fails fast.
                tracing::warn!(account = %current.id, toolkit = %def.slug, reason, retry_after, "token refresh could not be done now");
                Err(Error::ProviderUnavailable {
                    message: format!("{} could not refresh the access token now ({reason}); the account is unchanged", def.name),
                    retry_after,
                })
            }
        }
    }

    /// `account` as stored now, if it is ACTIVE.
    async fn active_account(&self, def: &ToolkitDef, account: &AccountRecord) -> Result<AccountRecord> {
        self.store
            .get_account(&account.project_id, &account.id)
            .await?
            .filter(|a| a.status == AccountStatus::Active)
            .ok_or_else(|| not_active(def, account))
    }

    /// Marks an ACTIVE account EXPIRED with `reason` unless its credentials changed meanwhile
    /// (a reconnect), wakes its waiters, and returns the error the call answers with.
    async fn end_with(&self, def: &ToolkitDef, account: &AccountRecord, reason: &str) -> Error {
        match self.store.transition(&Transition::refresh_refused(account, reason, clock::now_ms())).await {
            Ok(None) => Error::Provider(format!("{reason}; the account changed meanwhile (reconnected or ended), try again")),
            Ok(Some(_)) => {
                tracing::warn!(account = %account.id, toolkit = %def.slug, reason, "connected account expired");
                Error::ConnectionRequestFailed { id: account.id.clone(), status: "EXPIRED".into(), reason: Some(reason.to_string()) }
            }
            Err(e) => e,
        }
    }
}

/// Whether a refresh forced by a 401 may run at `now`: the tokens in hand were obtained (by a
/// connection or a refresh) at least [`MIN_FORCED_REFRESH_INTERVAL_MS`] ago.
fn forced_refresh_allowed(tokens: &TokenSet, now: i64) -> bool {
    now.saturating_sub(tokens.obtained_at) >= MIN_FORCED_REFRESH_INTERVAL_MS
}

fn not_active(def: &ToolkitDef, account: &AccountRecord) -> Error {
    Error::ConnectionRequestFailed {
        id: account.id.clone(),
        status: "INACTIVE".into(),
        reason: Some(format!("the {} account is no longer active", def.slug)),
    }
}

/// The headers a pasted credential is sent in.
pub(crate) fn form_headers(def: &ToolkitDef, values: &FormValues) -> Result<Vec<(String, String)>> {
    if let Some(c) = &def.credential {
        let mut value = c.value.clone();
        for (k, v) in values {
            value = value.replace(&format!("{{{k}}}"), v);
        }
        return Ok(vec![(c.header.to_ascii_lowercase(), value)]);
    }
    let field = |name: &str| values.get(name).cloned().ok_or_else(|| Error::Internal(format!("stored form lacks {name}")));
    match def.auth {
        AuthKind::Basic => {
            let pair = format!("{}:{}", field("username")?, field("password")?);
            Ok(vec![("authorization".into(), format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(pair)))])
        }
        _ => {
            let secret = def
                .fields
                .iter()
                .flatten()
                .find(|f| f.secret)
                .ok_or_else(|| Error::Internal(format!("{} declares no secret field", def.slug)))?;
            Ok(vec![("authorization".into(), format!("Bearer {}", field(&secret.name)?))])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn values(pairs: &[(&str, &str)]) -> FormValues {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn pasted_credentials_go_where_each_scheme_expects() {
        let c = Catalog::builtin();
        let openai = form_headers(c.get("openai").unwrap(), &values(&[("api_key", "sk-1")])).unwrap();
        assert_eq!(openai, vec![("authorization".to_string(), "Bearer sk-1".to_string())]);
        let stripe = form_headers(c.get("stripe").unwrap(), &values(&[("token", "sk_test_2")])).unwrap();
        assert_eq!(stripe[0].1, "Bearer sk_test_2");
        let jenkins = form_headers(c.get("jenkins").unwrap(), &values(&[("base_url", "https://ci"), ("username", "ada"), ("password", "p:w")])).unwrap();
        assert_eq!(jenkins[0].1, format!("Basic {}", base64::engine::general_purpose::STANDARD.encode("ada:p:w")));
        let mut custom = c.get("openai").unwrap().clone();
        custom.credential = Some(crate::catalog::CredentialDef { header: "X-Api-Key".into(), value: "{api_key}".into() });
        assert_eq!(form_headers(&custom, &values(&[("api_key", "k")])).unwrap(), vec![("x-api-key".to_string(), "k".to_string())]);
    }

    #[test]
    fn a_forced_refresh_waits_a_few_seconds_after_the_last_one() {
        let t = TokenSet { access_token: "a".into(), refresh_token: None, token_type: None, scope: None, expires_at: None, obtained_at: 10_000 };
        assert!(!forced_refresh_allowed(&t, 10_000));
        assert!(!forced_refresh_allowed(&t, 10_000 + MIN_FORCED_REFRESH_INTERVAL_MS - 1));
        assert!(forced_refresh_allowed(&t, 10_000 + MIN_FORCED_REFRESH_INTERVAL_MS));
        assert!(forced_refresh_allowed(&TokenSet { obtained_at: i64::MIN, ..t.clone() }, i64::MAX), "no overflow");
        assert!(!format!("{t:?}").contains("\"a\""), "Debug prints no token: {t:?}");
    }

    #[test]
    fn auth_headers_never_print_their_values() {
        let h = AuthHeaders(vec![("authorization".into(), "Bearer secret-token".into())]);
        assert!(!format!("{h:?}").contains("secret-token"));
    }
}
