//! The account state machine: every change of an account's status, credentials or connection
//! request is one of these compare-and-set transitions, with the reason a user reads.

use crate::engine::store::{
    AccountRecord, ConnectionRequestRecord, CredentialsChange, DueLink, Guard, RequestChange, RequestKind, Transition,
};
use crate::model::{AccountEvent, AccountStatus};

/// Why an account whose first link was never completed is EXPIRED.
pub(crate) const LINK_EXPIRED: &str = "the Connect Link was not completed in time";
/// Why an account the app revoked is REVOKED.
pub(crate) const REVOKED_BY_APP: &str = "revoked by the app";

impl Transition {
    /// A connection's outcome: sealed credentials make the account ACTIVE (a first connection and
    /// a reconnect alike); a failure makes a first connection FAILED with `reason` and leaves a
    /// reconnected account as it was (the change only tells its waiters that the link ended).
    /// Applies only while `req` is still the account's request, from the statuses its kind allows.
    pub(crate) fn finish(req: &ConnectionRequestRecord, outcome: Result<Vec<u8>, String>, now: i64) -> Self {
        let (status, credentials, event) = match outcome {
            Ok(sealed) => (Some((AccountStatus::Active, None)), CredentialsChange::Set(sealed), Some(req.kind.success_event())),
            Err(reason) => {
                let status = req.kind.failure_status();
                (status.map(|s| (s, Some(reason))), CredentialsChange::Keep, status.map(|_| AccountEvent::Failed))
            }
        };
        Self {
            account_id: req.account_id.clone(),
            guard: Guard { from: req.kind.applies_from(), request_state: Some(req.state.clone()), credentials: None },
            status,
            credentials,
            request: RequestChange::Keep,
            now,
            event,
        }
    }

    /// A first link that ran out: EXPIRED, if the account is still pending on that very link.
    pub(crate) fn expire_link(link: &DueLink, now: i64) -> Self {
        Self {
            account_id: link.account_id.clone(),
            guard: Guard { from: pending(), request_state: Some(link.state.clone()), credentials: None },
            status: Some((AccountStatus::Expired, Some(LINK_EXPIRED.into()))),
            credentials: CredentialsChange::Keep,
            request: RequestChange::Keep,
            now,
            event: Some(AccountEvent::Expired),
        }
    }

    /// A token refresh: new credentials, if the account is still ACTIVE with the ones it
    /// refreshed (not reconnected or ended meanwhile).
    pub(crate) fn refreshed(account: &AccountRecord, sealed: Vec<u8>, now: i64) -> Self {
        Self {
            account_id: account.id.clone(),
            guard: Guard { from: vec![AccountStatus::Active], request_state: None, credentials: account.credentials_sealed.clone() },
            status: None,
            credentials: CredentialsChange::Set(sealed),
            request: RequestChange::Keep,
            now,
            event: Some(AccountEvent::TokenRefreshed),
        }
    }

    /// A grant the provider refused to refresh: EXPIRED with `reason`, under the same guard as
    /// [`Transition::refreshed`].
    pub(crate) fn refresh_refused(account: &AccountRecord, reason: &str, now: i64) -> Self {
        Self {
            status: Some((AccountStatus::Expired, Some(reason.to_string()))),
            credentials: CredentialsChange::Keep,
            event: Some(AccountEvent::Expired),
            ..Self::refreshed(account, Vec::new(), now)
        }
    }

    /// The app revoked the account: REVOKED, credentials wiped, its request ended (no link issued
    /// before can bring it back). Applies from any status but REVOKED.
    pub(crate) fn revoke(account_id: &str, now: i64) -> Self {
        Self {
            account_id: account_id.to_string(),
            guard: Guard {
                from: AccountStatus::ALL.into_iter().filter(|s| *s != AccountStatus::Revoked).collect(),
                request_state: None,
                credentials: None,
            },
            status: Some((AccountStatus::Revoked, Some(REVOKED_BY_APP.into()))),
            credentials: CredentialsChange::Wipe,
            request: RequestChange::End,
            now,
            event: Some(AccountEvent::Revoked),
        }
    }

    /// A fresh link for an account still in `status` (the older link stops working).
    pub(crate) fn renew(request: ConnectionRequestRecord, status: AccountStatus, now: i64) -> Self {
        Self {
            account_id: request.account_id.clone(),
            guard: Guard { from: vec![status], request_state: None, credentials: None },
            status: None,
            credentials: CredentialsChange::Keep,
            request: RequestChange::Replace(request),
            now,
            event: None,
        }
    }
}

/// The statuses of an account waiting for its first link.
pub(crate) fn pending() -> Vec<AccountStatus> {
    AccountStatus::ALL.into_iter().filter(|s| s.is_pending()).collect()
}

/// The rules of the two kinds of connection request. Success is the same for both: the
/// account becomes ACTIVE with the new credentials.
impl RequestKind {
    /// The statuses the account may be in for the request's outcome to apply: a first
    /// connection only while INITIATED (not once the sweeper expired it); a reconnect whatever
    /// the account became meanwhile (revoking or deleting the account ends the request itself).
    pub(crate) fn applies_from(self) -> Vec<AccountStatus> {
        match self {
            Self::Connect => pending(),
            Self::Reconnect => AccountStatus::ALL.to_vec(),
        }
    }

    /// The webhook event a successful outcome is: a first connection made the account ACTIVE;
    /// a reconnect gave it new credentials.
    pub(crate) fn success_event(self) -> AccountEvent {
        match self {
            Self::Connect => AccountEvent::Active,
            Self::Reconnect => AccountEvent::Reconnected,
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

#[cfg(test)]
mod tests {
    //! The state machine's rules, applied by a real store.
    use super::*;
    use crate::engine::store::{Project, SqliteStore, Store};

    fn account() -> AccountRecord {
        AccountRecord {
            id: "ca_1".into(),
            project_id: "pr_1".into(),
            user_id: "u".into(),
            toolkit: "sandbox".into(),
            auth_config_id: "ac_1".into(),
            auth_scheme: "OAUTH2".into(),
            alias: None,
            status: AccountStatus::Initiated,
            status_reason: None,
            is_disabled: false,
            credentials_sealed: None,
            created_at: 1,
            updated_at: 1,
        }
    }

    fn request(state: &str, kind: RequestKind, expires_at: i64) -> ConnectionRequestRecord {
        ConnectionRequestRecord {
            account_id: "ca_1".into(),
            project_id: "pr_1".into(),
            link_token: format!("ln_{state}"),
            state: state.into(),
            pkce_verifier_sealed: None,
            callback_url: None,
            expires_at,
            consumed_at: None,
            kind,
        }
    }

    /// A store holding project `pr_1` and its account `ca_1` (INITIATED, link `s0` until 100).
    async fn store_with_account() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("t.db")).unwrap();
        store.migrate().await.unwrap();
        let project = Project { id: "pr_1".into(), name: "p".into(), allowed_callback_urls: vec![], allowed_origins: vec![], created_at: 1 };
        store.insert_project(&project).await.unwrap();
        store.insert_connection(&account(), &request("s0", RequestKind::Connect, 100)).await.unwrap();
        (dir, store)
    }

    async fn finish(store: &SqliteStore, state: &str, kind: RequestKind, sealed: &[u8]) -> bool {
        store.transition(&Transition::finish(&request(state, kind, 100), Ok(sealed.to_vec()), 50)).await.unwrap().is_some()
    }

    async fn now(store: &SqliteStore) -> AccountRecord {
        store.get_account("pr_1", "ca_1").await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn a_renewed_link_replaces_the_older_one_and_its_outcome_no_longer_applies() {
        let (_dir, store) = store_with_account().await;
        // The callback of `s0` consumed it and is at the provider when a fresh link replaces it.
        assert!(store.consume_request("s0", 10).await.unwrap());
        let renew = |status| Transition::renew(request("s1", RequestKind::Connect, 200), status, 20);
        assert!(store.transition(&renew(AccountStatus::Active)).await.unwrap().is_none(), "status CAS");
        assert!(store.transition(&renew(AccountStatus::Initiated)).await.unwrap().is_some());
        assert!(store.request_by_state("s0").await.unwrap().is_none(), "the older state is unknown");
        assert!(store.request_by_link_token("ln_s0").await.unwrap().is_none(), "the older link is unknown");
        assert!(!finish(&store, "s0", RequestKind::Connect, b"old").await, "a late outcome of s0 changes nothing");
        assert_eq!(now(&store).await.status, AccountStatus::Initiated);
        assert!(finish(&store, "s1", RequestKind::Connect, b"new").await);
        let a = now(&store).await;
        assert_eq!((a.status, a.credentials_sealed.as_deref()), (AccountStatus::Active, Some(&b"new"[..])));
        assert!(!finish(&store, "s1", RequestKind::Connect, b"again").await, "an ACTIVE account is no longer pending");
    }

    #[tokio::test]
    async fn an_abandoned_first_link_expires_once_and_a_late_callback_then_changes_nothing() {
        let (_dir, store) = store_with_account().await;
        let due = store.due_links(&pending(), 100, 10).await.unwrap();
        assert_eq!(due, vec![DueLink { account_id: "ca_1".into(), state: "s0".into() }]);
        let expired = store.transition(&Transition::expire_link(&due[0], 100)).await.unwrap().unwrap();
        assert_eq!((expired.status, expired.status_reason.as_deref()), (AccountStatus::Expired, Some(LINK_EXPIRED)));
        assert!(store.transition(&Transition::expire_link(&due[0], 101)).await.unwrap().is_none(), "once");
        assert!(!finish(&store, "s0", RequestKind::Connect, b"late").await);
        assert!(store.due_links(&pending(), 1_000, 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_reconnecting_account_is_not_expired_and_its_link_dies_on_time() {
        let (_dir, store) = store_with_account().await;
        assert!(store.consume_request("s0", 10).await.unwrap());
        assert!(finish(&store, "s0", RequestKind::Connect, b"first").await);
        let renewed = Transition::renew(request("r1", RequestKind::Reconnect, 100), AccountStatus::Active, 20);
        assert!(store.transition(&renewed).await.unwrap().is_some());
        assert_eq!(store.live_reconnects("pr_1", 99).await.unwrap(), vec!["ca_1".to_string()]);
        assert!(store.due_links(&pending(), 1_000, 10).await.unwrap().is_empty(), "the sweeper leaves a reconnecting ACTIVE account alone");
        assert!(store.live_reconnects("pr_1", 100).await.unwrap().is_empty());
        assert!(!store.consume_request("r1", 100).await.unwrap(), "an expired link cannot be used");
        assert!(store.consume_request("r1", 99).await.unwrap());
        assert!(!store.consume_request("r1", 99).await.unwrap(), "nor used twice");
        let failed = Transition::finish(&request("r1", RequestKind::Reconnect, 100), Err("denied".into()), 60);
        let after = store.transition(&failed).await.unwrap().expect("a failed reconnect still ends its link");
        assert_eq!((after.status, after.credentials_sealed.as_deref()), (AccountStatus::Active, Some(&b"first"[..])), "and changes nothing else");
    }

    #[tokio::test]
    async fn revoking_or_deleting_ends_a_pending_reconnect() {
        let (_dir, store) = store_with_account().await;
        let renew = |state, status| Transition::renew(request(state, RequestKind::Reconnect, 100), status, 5);
        assert!(store.transition(&renew("r1", AccountStatus::Initiated)).await.unwrap().is_some());
        assert!(store.consume_request("r1", 10).await.unwrap());
        let revoked = store.transition(&Transition::revoke("ca_1", 20)).await.unwrap().unwrap();
        assert_eq!((revoked.status, revoked.credentials_sealed), (AccountStatus::Revoked, None));
        assert!(store.transition(&Transition::revoke("ca_1", 21)).await.unwrap().is_none(), "revoking twice changes nothing");
        assert!(!finish(&store, "r1", RequestKind::Reconnect, b"late").await, "a revocation wins over an outcome in flight");
        assert_eq!(now(&store).await.status, AccountStatus::Revoked);

        assert!(store.transition(&renew("r2", AccountStatus::Revoked)).await.unwrap().is_some());
        assert!(store.consume_request("r2", 10).await.unwrap());
        assert!(store.delete_account("pr_1", "ca_1", 30).await.unwrap());
        assert!(!finish(&store, "r2", RequestKind::Reconnect, b"late").await, "a deleted account stays deleted");
        assert!(store.transition(&renew("r3", AccountStatus::Revoked)).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_token_refresh_does_not_overwrite_a_reconnect() {
        let (_dir, store) = store_with_account().await;
        assert!(store.consume_request("s0", 10).await.unwrap());
        assert!(finish(&store, "s0", RequestKind::Connect, b"first").await);
        let before_reconnect = now(&store).await;
        let renewed = Transition::renew(request("r1", RequestKind::Reconnect, 100), AccountStatus::Active, 20);
        assert!(store.transition(&renewed).await.unwrap().is_some());
        assert!(store.consume_request("r1", 10).await.unwrap());
        assert!(finish(&store, "r1", RequestKind::Reconnect, b"reconnected").await);
        // A token refresh that started from the first credentials comes back afterwards.
        assert!(store.transition(&Transition::refreshed(&before_reconnect, b"refreshed-first".to_vec(), 60)).await.unwrap().is_none());
        assert!(store.transition(&Transition::refresh_refused(&before_reconnect, "refused", 60)).await.unwrap().is_none());
        let a = now(&store).await;
        assert_eq!((a.status, a.credentials_sealed.as_deref()), (AccountStatus::Active, Some(&b"reconnected"[..])));
        let refreshed = store.transition(&Transition::refreshed(&a, b"refreshed".to_vec(), 60)).await.unwrap().unwrap();
        assert_eq!(refreshed.credentials_sealed.as_deref(), Some(&b"refreshed"[..]));
        let ended = store.transition(&Transition::refresh_refused(&refreshed, "invalid_grant", 70)).await.unwrap().unwrap();
        assert_eq!((ended.status, ended.status_reason.as_deref()), (AccountStatus::Expired, Some("invalid_grant")));
    }
}
