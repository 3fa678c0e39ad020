//! Reading and listing connected accounts, and enabling or disabling them.

use crate::engine::{clock, views, Engine, Principal};
use crate::engine::store::{AccountRecord, ConnectionRequestRecord, DueLink, Transition};
use crate::model::{check_id, AccountFilter, ConnectedAccount, Page, PageRequest, ACCOUNT_PREFIX};
use crate::{Error, Result};

impl Engine {
    /// Loads an account, expiring it first if its link ran out.
    pub(crate) async fn current_account(&self, project_id: &str, id: &str) -> Result<Option<AccountRecord>> {
        let Some(account) = self.store.get_account(project_id, id).await? else { return Ok(None) };
        if !account.status.is_pending() {
            return Ok(Some(account));
        }
        let request = self.store.request_by_account(project_id, id).await?;
        self.expire_if_due(account, request.as_ref()).await.map(Some)
    }

    /// A pending account whose link ran out, made EXPIRED now rather than at the sweeper's next
    /// round; any other account as it is.
    pub(crate) async fn expire_if_due(&self, account: AccountRecord, request: Option<&ConnectionRequestRecord>) -> Result<AccountRecord> {
        let now = clock::now_ms();
        let Some(r) = request.filter(|r| account.status.is_pending() && r.expires_at <= now) else { return Ok(account) };
        let link = DueLink { account_id: account.id.clone(), state: r.state.clone() };
        match self.store.transition(&Transition::expire_link(&link, now)).await? {
            Some(expired) => Ok(expired),
            // Another broker or call moved it first: read what it became.
            None => Ok(self.store.get_account(&account.project_id, &account.id).await?.unwrap_or(account)),
        }
    }

    pub(crate) async fn account_of(&self, who: &Principal, id: &str) -> Result<AccountRecord> {
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
    pub(crate) async fn account_view(&self, a: &AccountRecord) -> Result<ConnectedAccount> {
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
        Ok(())
    }

}
