//! The contract of [`Store`], as stories every implementation must pass: one suite, run by
//! SQLite's tests below and by any other store's (PostgreSQL's) on a fresh database per case.
//!
//! [`run`] runs every case and names the ones that failed; each case is also a `pub async fn`
//! (listed in [`CASES`]), so a store's tests may run them one by one.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::{join_all, BoxFuture};
use tokio::sync::{broadcast, Barrier};

use super::*;
use crate::model::{
    AccountEvent, DeliveryStatus, AccountFilter, AccountOrder, AccountStatus, ExecuteSetting, ManageConnectionsConfig, SearchSetting, SessionConfig,
    ToolkitsConfig,
};
use crate::Error;

/// One case of the suite: its name and its story.
pub struct Case {
    /// The function's name, printed as it runs.
    pub name: &'static str,
    /// The story, on a fresh store.
    pub run: fn(Arc<dyn Store>) -> BoxFuture<'static, ()>,
}

/// Runs every case of the suite, each on a store `fresh` makes (empty; each case migrates it
/// first, so an already migrated store is fine too), printing each case's name as it goes;
/// panics at the end naming every case that failed. Needs a Tokio runtime; the races race
/// best on a multi-threaded one.
pub async fn run<S, F, Fut>(fresh: F)
where
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
    S: Store,
{
    let mut failed = Vec::new();
    for case in CASES {
        println!("store conformance: {}", case.name);
        let store: Arc<dyn Store> = Arc::new(fresh().await);
        // On a task of its own, so a failed case is reported and the next one still runs.
        if let Err(e) = tokio::spawn((case.run)(store)).await {
            let why = match e.try_into_panic() {
                Ok(payload) => payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".into()),
                Err(e) => e.to_string(),
            };
            println!("store conformance: {} FAILED: {why}", case.name);
            failed.push(format!("{}: {why}", case.name));
        }
    }
    assert!(failed.is_empty(), "{} store conformance case(s) failed:\n{}", failed.len(), failed.join("\n"));
}

/// Lists the cases once: [`CASES`] for [`run`], and one SQLite test each.
macro_rules! cases {
    ($($name:ident),* $(,)?) => {
        /// Every case, in the order [`run`] runs them.
        pub const CASES: &[Case] = &[$(Case { name: stringify!($name), run: |store| Box::pin($name(store)) }),*];

        /// The reference implementation, one test per case, each on its own temporary file.
        #[cfg(test)]
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = super::SqliteStore::open(dir.path().join("store.db")).unwrap();
                    super::$name(std::sync::Arc::new(store)).await;
                }
            )*
        }
    };
}

cases! {
    a_fresh_store_is_ready,
    a_fresh_store_has_no_project_and_keeps_what_it_is_given,
    api_keys_are_found_by_hash_until_revoked,
    a_client_token_is_revoked_once,
    revoking_an_api_key_revokes_the_client_tokens_it_minted,
    values_sealed_with_another_key_are_listed_and_replaced_compare_and_set,
    the_default_auth_config_is_the_newest_enabled_one,
    the_first_auth_config_of_a_toolkit_is_kept,
    a_session_config_changes_only_from_the_version_read,
    deleting_a_session_deletes_its_client_tokens,
    an_mcp_credential_is_listed_used_and_revoked_once,
    revoking_an_api_key_revokes_the_mcp_credentials_it_minted,
    deleting_a_session_deletes_its_mcp_credentials,
    a_connection_stores_the_account_and_its_link_together,
    an_alias_names_one_account_per_user_and_toolkit,
    accounts_are_listed_filtered_ordered_and_paged,
    a_users_accounts_skip_disabled_ones,
    a_transition_applies_only_while_its_guard_holds,
    a_transition_keeps_sets_or_wipes_credentials,
    a_transition_replaces_or_ends_the_connection_request,
    due_links_are_expired_links_of_the_asked_statuses_oldest_first,
    a_state_is_consumed_once_and_never_after_expiry,
    live_reconnects_are_unused_unexpired_reconnect_links,
    a_sandbox_grant_is_taken_once_and_the_table_stays_bounded,
    mcp_clients_are_kept_replaced_and_counted,
    an_mcp_grant_is_used_once_revoked_by_family_and_bounded,
    purging_drops_ended_mcp_logins_and_clients_with_nothing_left,
    purging_deletes_what_ended_long_ago_and_never_a_live_account,
    execution_logs_are_read_within_their_project_listed_newest_first_and_purged_by_age,
    a_lease_has_one_holder_until_it_expires,
    the_change_feed_carries_every_account_change_and_nothing_else,
    racing_callbacks_finish_an_account_once,
    racing_callbacks_consume_a_state_once,
    an_expiry_racing_a_callback_leaves_one_outcome,
    racing_first_uses_of_a_toolkit_share_one_auth_config,
    racing_token_requests_take_a_code_once,
    racing_workers_get_a_lease_once,
    a_transition_writes_its_event_to_the_outbox_in_the_same_transaction,
    webhook_subscriptions_are_kept_per_project,
    events_fan_out_once_and_each_accounts_deliveries_go_in_sequence,
    racing_brokers_claim_each_delivery_once,
    a_project_profile_and_its_logo_are_kept_apart_and_per_project,
    a_user_verification_moves_once_from_each_status_and_never_after_expiry,
    racing_confirmations_of_a_user_verification_apply_once,
}

// ---------------------------------------------------------------------------------------------
// Fixtures

const PROJECT: &str = "pr_app";
const OTHER_PROJECT: &str = "pr_other";
const PENDING: &[AccountStatus] = &[AccountStatus::Initializing, AccountStatus::Initiated];

/// Migrates the store and adds [`PROJECT`] and [`OTHER_PROJECT`].
async fn two_projects(store: &Arc<dyn Store>) {
    store.migrate().await.expect("migrate");
    for (id, created_at) in [(PROJECT, 1), (OTHER_PROJECT, 2)] {
        store.insert_project(&project(id, created_at)).await.unwrap();
    }
}

fn project(id: &str, created_at: i64) -> Project {
    Project {
        id: id.into(),
        name: format!("{id} name"),
        allowed_callback_urls: vec![],
        allowed_origins: vec![],
        created_at,
    }
}

/// An INITIATED account of [`PROJECT`], made with the toolkit's `ac_{toolkit}` auth config.
fn account(id: &str, user: &str, toolkit: &str, created_at: i64) -> AccountRecord {
    AccountRecord {
        id: id.into(),
        project_id: PROJECT.into(),
        user_id: user.into(),
        toolkit: toolkit.into(),
        auth_config_id: format!("ac_{toolkit}"),
        auth_scheme: "OAUTH2".into(),
        alias: None,
        status: AccountStatus::Initiated,
        status_reason: None,
        is_disabled: false,
        credentials_sealed: None,
        created_at,
        updated_at: created_at,
    }
}

/// A first-connection link for `account` with OAuth `state` (its token is `ln_{state}`).
fn link(account: &AccountRecord, state: &str, expires_at: i64) -> ConnectionRequestRecord {
    ConnectionRequestRecord {
        account_id: account.id.clone(),
        project_id: account.project_id.clone(),
        link_token: format!("ln_{state}"),
        state: state.into(),
        pkce_verifier_sealed: Some(format!("verifier of {state}").into_bytes()),
        callback_url: Some("https://app.test/done".into()),
        expires_at,
        consumed_at: None,
        kind: RequestKind::Connect,
    }
}

/// Adds `account` with a link `state` that dies at `expires_at`.
async fn connect(store: &Arc<dyn Store>, account: &AccountRecord, state: &str, expires_at: i64) {
    store.insert_connection(account, &link(account, state, expires_at)).await.unwrap();
}

/// A transition of `account_id` from `from` that changes nothing (tests say what it changes).
fn transition(account_id: &str, from: &[AccountStatus], now: i64) -> Transition {
    Transition {
        account_id: account_id.into(),
        guard: Guard { from: from.to_vec(), ..Guard::default() },
        status: None,
        credentials: CredentialsChange::Keep,
        request: RequestChange::Keep,
        now,
        event: None,
    }
}

/// What a successful OAuth callback of the link `state` writes.
fn callback(account_id: &str, state: &str, credentials: &[u8], now: i64) -> Transition {
    Transition {
        guard: Guard { request_state: Some(state.into()), ..transition(account_id, PENDING, now).guard },
        status: Some((AccountStatus::Active, None)),
        credentials: CredentialsChange::Set(credentials.to_vec()),
        event: Some(AccountEvent::Active),
        ..transition(account_id, PENDING, now)
    }
}

/// What the sweeper writes for a link `state` that ran out.
fn expiry(account_id: &str, state: &str, now: i64) -> Transition {
    Transition {
        guard: Guard { request_state: Some(state.into()), ..transition(account_id, PENDING, now).guard },
        status: Some((AccountStatus::Expired, Some("the Connect Link was not completed in time".into()))),
        event: Some(AccountEvent::Expired),
        ..transition(account_id, PENDING, now)
    }
}

async fn get(store: &Arc<dyn Store>, id: &str) -> AccountRecord {
    store.get_account(PROJECT, id).await.unwrap().unwrap_or_else(|| panic!("account {id} is gone"))
}

fn ids(accounts: &[AccountRecord]) -> Vec<&str> {
    accounts.iter().map(|a| a.id.as_str()).collect()
}

fn auth_config(id: &str, toolkit: &str, created_at: i64) -> AuthConfigRecord {
    AuthConfigRecord {
        id: id.into(),
        project_id: PROJECT.into(),
        toolkit: toolkit.into(),
        name: Some(format!("{toolkit} app")),
        auth_scheme: "OAUTH2".into(),
        client_id: Some(format!("client of {id}")),
        client_secret_sealed: Some(format!("secret of {id}").into_bytes()),
        scopes: vec!["repo".into(), "read:user".into()],
        is_disabled: false,
        created_at,
    }
}

fn session_config(user: &str) -> SessionConfig {
    SessionConfig {
        user_id: user.into(),
        toolkits: Some(ToolkitsConfig::Enabled { enabled: vec!["github".into(), "slack".into()] }),
        manage_connections: ManageConnectionsConfig {
            callback_url: Some("https://app.test/cb".into()),
            ..Default::default()
        },
        auth_configs: [("github".to_string(), "ac_github".to_string())].into(),
        connected_accounts: [("github".to_string(), vec!["ca_1".to_string()])].into(),
        direct_tools: vec!["GITHUB_GET_REPO".into()],
        preload_all: false,
        search: SearchSetting::on(),
        execute: ExecuteSetting { enable_multi_execute: false },
        config_version: 1,
    }
}

fn session(id: &str, user: &str) -> SessionRecord {
    SessionRecord { id: id.into(), project_id: PROJECT.into(), config: session_config(user), created_at: 10 }
}

fn client_token(id: &str, session_id: &str) -> ClientTokenRecord {
    ClientTokenRecord {
        id: id.into(),
        project_id: PROJECT.into(),
        session_id: session_id.into(),
        hash: format!("hash of {id}"),
        created_at: 10,
        expires_at: 10_000,
        revoked_at: None,
        api_key_id: None,
    }
}

fn mcp_credential(id: &str, session_id: &str, created_at: i64) -> McpCredentialRecord {
    McpCredentialRecord {
        id: id.into(),
        project_id: PROJECT.into(),
        session_id: session_id.into(),
        hash: format!("hash of {id}"),
        name: Some(format!("{id} in Cursor")),
        created_at,
        expires_at: 10_000,
        revoked_at: None,
        api_key_id: None,
        last_used_at: None,
    }
}

fn grant(hash: &str, kind: SandboxGrantKind, family: &str, created_at: i64, expires_at: i64) -> SandboxGrant {
    SandboxGrant {
        hash: hash.into(),
        kind,
        family: family.into(),
        user: "sandbox-user".into(),
        scope: "read write".into(),
        redirect_uri: Some("https://broker.test/callback".into()),
        code_challenge: Some("challenge".into()),
        created_at,
        expires_at,
    }
}

/// Runs `n` contenders at once (released together from a barrier) and returns what each got.
async fn race<T, F, Fut>(n: usize, contender: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let start = Arc::new(Barrier::new(n));
    let tasks = (0..n).map(|i| {
        let (start, attempt) = (start.clone(), contender(i));
        tokio::spawn(async move {
            start.wait().await;
            attempt.await
        })
    });
    join_all(tasks).await.into_iter().map(|r| r.expect("a contender panicked")).collect()
}

const CONTENDERS: usize = 20;

/// The next account change on the feed (a `Resync` is skipped: it promises nothing).
async fn next_change(feed: &mut broadcast::Receiver<StoreChange>, after: &str) -> AccountKey {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), feed.recv()).await {
            Err(_) => panic!("nothing on the change feed 5 s after {after}"),
            Ok(Ok(StoreChange::Account(key))) => return key,
            Ok(Ok(StoreChange::Resync)) => continue,
            Ok(Err(e)) => panic!("change feed after {after}: {e}"),
        }
    }
}

/// Checks that no account change arrives for a while.
async fn no_change(feed: &mut broadcast::Receiver<StoreChange>, after: &str) {
    loop {
        match tokio::time::timeout(Duration::from_millis(300), feed.recv()).await {
            Err(_) => return,
            Ok(Ok(StoreChange::Account(key))) => panic!("{after} published {key:?}"),
            Ok(Ok(StoreChange::Resync)) => continue,
            Ok(Err(e)) => panic!("change feed after {after}: {e}"),
        }
    }
}

fn key(project_id: &str, user_id: &str, account_id: &str) -> AccountKey {
    AccountKey { project_id: project_id.into(), user_id: user_id.into(), account_id: account_id.into() }
}

// ---------------------------------------------------------------------------------------------
// Projects, keys, tokens, auth configs, sessions

/// A migrated store answers its readiness query (`/readyz`) and its change feed is connected.
pub async fn a_fresh_store_is_ready(store: Arc<dyn Store>) {
    store.migrate().await.expect("migrate");
    store.ping().await.expect("a fresh store answers its readiness query");
    assert_ne!(store.change_feed_connected(), Some(false), "a fresh store's change feed is connected");
}

/// A broker starts on an empty store, makes its default project, and later a second one.
pub async fn a_fresh_store_has_no_project_and_keeps_what_it_is_given(store: Arc<dyn Store>) {
    store.migrate().await.expect("migrate");
    assert_eq!(store.first_project().await.unwrap(), None);
    assert!(store.all_allowed_origins().await.unwrap().is_empty());

    // Added newest first: the default project is the oldest, not the first written.
    let newer = project("pr_newer", 20);
    let older = Project { allowed_callback_urls: vec!["https://a.test".into()], ..project("pr_older", 10) };
    store.insert_project(&newer).await.unwrap();
    store.insert_project(&older).await.unwrap();
    assert_eq!(store.first_project().await.unwrap(), Some(older.clone()));
    assert_eq!(store.get_project("pr_newer").await.unwrap(), Some(newer));
    assert_eq!(store.get_project("pr_nobody").await.unwrap(), None);

    let urls = vec!["https://b.test/cb".to_string(), "https://c.test".to_string()];
    store.set_allowed_callback_urls("pr_older", &urls).await.unwrap();
    store.set_allowed_origins("pr_older", &["https://w.test".into()]).await.unwrap();
    store.set_allowed_origins("pr_newer", &["https://x.test".into(), "https://y.test".into()]).await.unwrap();
    let p = store.get_project("pr_older").await.unwrap().unwrap();
    assert_eq!((p.allowed_callback_urls, p.allowed_origins), (urls, vec!["https://w.test".to_string()]));
    let mut origins = store.all_allowed_origins().await.unwrap();
    origins.sort();
    assert_eq!(origins, ["https://w.test", "https://x.test", "https://y.test"]);

    // Replacing, not appending.
    store.set_allowed_origins("pr_newer", &[]).await.unwrap();
    assert_eq!(store.all_allowed_origins().await.unwrap(), ["https://w.test"]);
}

/// The app creates two API keys, signs in with each, and revokes one.
pub async fn api_keys_are_found_by_hash_until_revoked(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let key = |id: &str, created_at| ApiKeyRecord {
        id: id.into(),
        project_id: PROJECT.into(),
        name: format!("{id} label"),
        hash: format!("hash of {id}"),
        hint: "gl_live_ab".into(),
        created_at,
        revoked_at: None,
    };
    let (old, new) = (key("ak_old", 10), key("ak_new", 20));
    store.insert_api_key(&old).await.unwrap();
    store.insert_api_key(&new).await.unwrap();
    assert_eq!(store.api_key_by_hash("hash of ak_old").await.unwrap(), Some(old.clone()));
    assert_eq!(store.list_api_keys(PROJECT).await.unwrap(), [new.clone(), old.clone()], "newest first");
    assert!(store.list_api_keys(OTHER_PROJECT).await.unwrap().is_empty());

    assert!(!store.revoke_api_key(OTHER_PROJECT, "ak_old", 30).await.unwrap(), "another project cannot revoke it");
    assert!(store.revoke_api_key(PROJECT, "ak_old", 30).await.unwrap());
    assert!(!store.revoke_api_key(PROJECT, "ak_old", 40).await.unwrap(), "revoked once");
    assert!(!store.revoke_api_key(PROJECT, "ak_nobody", 40).await.unwrap());
    assert_eq!(store.api_key_by_hash("hash of ak_old").await.unwrap(), None, "a revoked key signs no one in");
    assert_eq!(store.api_key_by_hash("hash of ak_new").await.unwrap(), Some(new.clone()));
    let revoked = ApiKeyRecord { revoked_at: Some(30), ..old };
    assert_eq!(store.list_api_keys(PROJECT).await.unwrap(), [new, revoked], "revoked keys stay listed");
}

/// A browser gets a session's client token; the app revokes it.
pub async fn a_client_token_is_revoked_once(store: Arc<dyn Store>) {
    two_projects(&store).await;
    store.insert_session(&session("trs_1", "u1")).await.unwrap();
    let token = client_token("ct_1", "trs_1");
    store.insert_client_token(&token).await.unwrap();
    assert_eq!(store.client_token_by_hash("hash of ct_1").await.unwrap(), Some(token.clone()));
    assert_eq!(store.client_token_by_hash("hash of nothing").await.unwrap(), None);

    assert!(!store.revoke_client_token(PROJECT, "trs_other", "ct_1", 20).await.unwrap(), "not through another session");
    assert!(!store.revoke_client_token(OTHER_PROJECT, "trs_1", "ct_1", 20).await.unwrap(), "nor another project");
    assert!(store.revoke_client_token(PROJECT, "trs_1", "ct_1", 20).await.unwrap());
    assert!(!store.revoke_client_token(PROJECT, "trs_1", "ct_1", 30).await.unwrap(), "revoked once");
    // Still found, so the broker can say "revoked" rather than "unknown".
    assert_eq!(
        store.client_token_by_hash("hash of ct_1").await.unwrap(),
        Some(ClientTokenRecord { revoked_at: Some(20), ..token })
    );
}

/// A backend mints client tokens with two API keys, then one key leaks and is revoked: the
/// tokens it minted (and those whose minter was never recorded) die with it, the other key's
/// live on, and a token minted by the key after its revocation is born revoked.
pub async fn revoking_an_api_key_revokes_the_client_tokens_it_minted(store: Arc<dyn Store>) {
    two_projects(&store).await;
    store.insert_session(&session("trs_1", "u1")).await.unwrap();
    for id in ["ak_leaked", "ak_kept"] {
        let key = ApiKeyRecord {
            id: id.into(),
            project_id: PROJECT.into(),
            name: id.into(),
            hash: format!("hash of {id}"),
            hint: "gl_ab".into(),
            created_at: 1,
            revoked_at: None,
        };
        store.insert_api_key(&key).await.unwrap();
    }
    let minted = |id: &str, key: Option<&str>| ClientTokenRecord { api_key_id: key.map(Into::into), ..client_token(id, "trs_1") };
    let tokens = [minted("ct_leaked_1", Some("ak_leaked")), minted("ct_leaked_2", Some("ak_leaked")), minted("ct_kept", Some("ak_kept")), minted("ct_unknown", None)];
    for t in &tokens {
        store.insert_client_token(t).await.unwrap();
    }
    assert_eq!(store.client_token_by_hash("hash of ct_kept").await.unwrap().unwrap().api_key_id.as_deref(), Some("ak_kept"));
    assert!(store.revoke_api_key(PROJECT, "ak_leaked", 50).await.unwrap());
    for (id, revoked) in [("ct_leaked_1", Some(50)), ("ct_leaked_2", Some(50)), ("ct_kept", None), ("ct_unknown", Some(50))] {
        let t = store.client_token_by_hash(&format!("hash of {id}")).await.unwrap().unwrap();
        assert_eq!(t.revoked_at, revoked, "{id}");
    }
    store.insert_client_token(&minted("ct_late", Some("ak_leaked"))).await.unwrap();
    assert_eq!(store.client_token_by_hash("hash of ct_late").await.unwrap().unwrap().revoked_at, Some(50), "born revoked");
    assert!(!store.revoke_api_key(PROJECT, "ak_leaked", 60).await.unwrap(), "revoked once");
    assert_eq!(store.client_token_by_hash("hash of ct_leaked_1").await.unwrap().unwrap().revoked_at, Some(50), "kept its time");
}

/// A key rotation: the values of every sealed column that another key sealed are listed a page
/// at a time and replaced, each only if it still holds what was read.
pub async fn values_sealed_with_another_key_are_listed_and_replaced_compare_and_set(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let (current, old) = (b"\x02\x03new".to_vec(), b"\x02\x03old".to_vec());
    let with = |tag: &[u8], what: &str| [tag, what.as_bytes()].concat();
    for (i, toolkit) in ["github", "slack", "linear"].into_iter().enumerate() {
        let tag = if toolkit == "slack" { &current } else { &old };
        let config = AuthConfigRecord { client_secret_sealed: Some(with(tag, toolkit)), ..auth_config(&format!("ac_{toolkit}"), toolkit, i as i64) };
        store.insert_auth_config(&config).await.unwrap();
    }
    store.insert_auth_config(&AuthConfigRecord { client_secret_sealed: None, ..auth_config("ac_none", "notion", 9) }).await.unwrap();
    for (id, credentials) in [("ca_1", Some(with(&old, "t1"))), ("ca_2", Some(with(&current, "t2"))), ("ca_3", Some(b"\x01legacy".to_vec())), ("ca_4", None)] {
        let a = AccountRecord { credentials_sealed: credentials, ..account(id, "u1", "github", 1) };
        let request = ConnectionRequestRecord { pkce_verifier_sealed: Some(with(&old, id)), ..link(&a, &format!("st_{id}"), 1_000) };
        store.insert_connection(&a, &request).await.unwrap();
    }

    let keys = |values: &[SealedValue]| values.iter().map(|v| v.key.clone()).collect::<Vec<_>>();
    let accounts = store.sealed_values(SealedColumn::AccountCredentials, &current, None, 10).await.unwrap();
    assert_eq!(keys(&accounts), ["ca_1", "ca_3"], "another key's and untagged values; nulls are not values");
    assert_eq!(accounts[0].sealed, with(&old, "t1"));
    let first = store.sealed_values(SealedColumn::AuthConfigSecret, &current, None, 1).await.unwrap();
    assert_eq!(keys(&first), ["ac_github"], "a page at a time, by key");
    let next = store.sealed_values(SealedColumn::AuthConfigSecret, &current, Some("ac_github"), 1).await.unwrap();
    assert_eq!(keys(&next), ["ac_linear"]);
    assert!(store.sealed_values(SealedColumn::AuthConfigSecret, &current, Some("ac_linear"), 1).await.unwrap().is_empty());
    assert_eq!(store.sealed_values(SealedColumn::PkceVerifier, &current, None, 10).await.unwrap().len(), 4);

    // ca_3 changed after it was read (a token refresh): its replacement is refused, alone.
    store.transition(&Transition { credentials: CredentialsChange::Set(with(&current, "refreshed")), ..transition("ca_3", PENDING, 5) }).await.unwrap().unwrap();
    let reseal = |v: &SealedValue| Reseal { key: v.key.clone(), old: v.sealed.clone(), new: with(&current, &format!("re {}", v.key)) };
    let replaced = store.replace_sealed(SealedColumn::AccountCredentials, &accounts.iter().map(reseal).collect::<Vec<_>>()).await.unwrap();
    assert_eq!(replaced, 1);
    assert_eq!(get(&store, "ca_1").await.credentials_sealed, Some(with(&current, "re ca_1")));
    assert_eq!(get(&store, "ca_3").await.credentials_sealed, Some(with(&current, "refreshed")), "a newer value is never overwritten");
    assert!(store.sealed_values(SealedColumn::AccountCredentials, &current, None, 10).await.unwrap().is_empty());

    let secrets = store.sealed_values(SealedColumn::AuthConfigSecret, &current, None, 10).await.unwrap();
    assert_eq!(store.replace_sealed(SealedColumn::AuthConfigSecret, &secrets.iter().map(reseal).collect::<Vec<_>>()).await.unwrap(), 2);
    assert_eq!(store.get_auth_config(PROJECT, "ac_linear").await.unwrap().unwrap().client_secret_sealed, Some(with(&current, "re ac_linear")));
    let verifiers = store.sealed_values(SealedColumn::PkceVerifier, &current, None, 10).await.unwrap();
    assert_eq!(store.replace_sealed(SealedColumn::PkceVerifier, &verifiers.iter().map(reseal).collect::<Vec<_>>()).await.unwrap(), 4);
    assert_eq!(store.request_by_state("st_ca_2").await.unwrap().unwrap().pkce_verifier_sealed, Some(with(&current, "re ca_2")));
    for column in SealedColumn::ALL {
        assert!(store.sealed_values(column, &current, None, 10).await.unwrap().is_empty(), "{column}");
    }
    assert_eq!(store.replace_sealed(SealedColumn::PkceVerifier, &[]).await.unwrap(), 0);
}

/// The app registers GitHub apps over time and disables the newest; links use the newest
/// enabled one.
pub async fn the_default_auth_config_is_the_newest_enabled_one(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let first = auth_config("ac_first", "github", 10);
    let second = AuthConfigRecord {
        client_secret_sealed: None,
        scopes: vec![],
        name: None,
        ..auth_config("ac_second", "github", 20)
    };
    let disabled = AuthConfigRecord { is_disabled: true, ..auth_config("ac_disabled", "github", 30) };
    let slack = auth_config("ac_slack", "slack", 40);
    for config in [&first, &second, &disabled, &slack] {
        store.insert_auth_config(config).await.unwrap();
    }
    assert_eq!(store.get_auth_config(PROJECT, "ac_first").await.unwrap(), Some(first.clone()));
    assert_eq!(store.get_auth_config(PROJECT, "ac_second").await.unwrap(), Some(second.clone()));
    assert_eq!(store.get_auth_config(OTHER_PROJECT, "ac_first").await.unwrap(), None, "not across projects");

    assert_eq!(
        store.default_auth_config(PROJECT, "github").await.unwrap(),
        Some(second),
        "the disabled one is skipped"
    );
    assert_eq!(store.default_auth_config(PROJECT, "gitlab").await.unwrap(), None);
    assert_eq!(store.default_auth_config(OTHER_PROJECT, "github").await.unwrap(), None);
    let listed = store.list_auth_configs(PROJECT).await.unwrap();
    assert_eq!(
        listed.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
        ["ac_slack", "ac_disabled", "ac_second", "ac_first"]
    );
    assert!(store.list_auth_configs(OTHER_PROJECT).await.unwrap().is_empty());
}

/// A link for a toolkit without an auth config makes one; the next link finds it.
pub async fn the_first_auth_config_of_a_toolkit_is_kept(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let made = auth_config("ac_made", "github", 10);
    assert_eq!(store.insert_first_auth_config(&made).await.unwrap(), made);
    let later = auth_config("ac_later", "github", 20);
    assert_eq!(store.insert_first_auth_config(&later).await.unwrap(), made, "the one in force is kept");
    assert_eq!(store.get_auth_config(PROJECT, "ac_later").await.unwrap(), None, "and nothing else added");

    // A disabled config is not in force: the first use after it makes a new one.
    let disabled = AuthConfigRecord { is_disabled: true, ..auth_config("ac_disabled", "slack", 30) };
    store.insert_auth_config(&disabled).await.unwrap();
    let slack = auth_config("ac_slack", "slack", 40);
    assert_eq!(store.insert_first_auth_config(&slack).await.unwrap(), slack);
    assert_eq!(store.default_auth_config(PROJECT, "slack").await.unwrap(), Some(slack));

    // Per project: another project's first GitHub use gets its own.
    let theirs = AuthConfigRecord { project_id: OTHER_PROJECT.into(), ..auth_config("ac_theirs", "github", 50) };
    assert_eq!(store.insert_first_auth_config(&theirs).await.unwrap(), theirs);
}

/// Two editors read a session at version 1 and both save: the second save is refused.
pub async fn a_session_config_changes_only_from_the_version_read(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let created = session("trs_1", "u1");
    store.insert_session(&created).await.unwrap();
    assert_eq!(store.get_session(PROJECT, "trs_1").await.unwrap(), Some(created.clone()), "the config round-trips");
    assert_eq!(store.get_session(OTHER_PROJECT, "trs_1").await.unwrap(), None);

    let first_edit =
        SessionConfig { toolkits: None, direct_tools: vec![], config_version: 2, ..created.config.clone() };
    let second_edit = SessionConfig {
        preload_all: true,
        search: SearchSetting { enable: false },
        config_version: 2,
        ..created.config.clone()
    };
    assert!(store.update_session_config(PROJECT, "trs_1", 1, &first_edit).await.unwrap());
    assert!(!store.update_session_config(PROJECT, "trs_1", 1, &second_edit).await.unwrap(), "read at 1, now at 2");
    assert_eq!(store.get_session(PROJECT, "trs_1").await.unwrap().unwrap().config, first_edit);

    let third = SessionConfig { config_version: 3, ..second_edit };
    assert!(store.update_session_config(PROJECT, "trs_1", 2, &third).await.unwrap(), "re-read at 2, saved");
    assert_eq!(
        store.get_session(PROJECT, "trs_1").await.unwrap(),
        Some(SessionRecord { config: third.clone(), ..created })
    );
    assert!(!store.update_session_config(OTHER_PROJECT, "trs_1", 3, &third).await.unwrap(), "not across projects");
    assert!(!store.update_session_config(PROJECT, "trs_nobody", 1, &third).await.unwrap());
}

/// The app deletes a session; the browser's token for it stops existing.
pub async fn deleting_a_session_deletes_its_client_tokens(store: Arc<dyn Store>) {
    two_projects(&store).await;
    store.insert_session(&session("trs_1", "u1")).await.unwrap();
    store.insert_session(&session("trs_2", "u2")).await.unwrap();
    store.insert_client_token(&client_token("ct_1", "trs_1")).await.unwrap();
    store.insert_client_token(&client_token("ct_2", "trs_2")).await.unwrap();

    assert!(!store.delete_session(OTHER_PROJECT, "trs_1").await.unwrap(), "not across projects");
    assert!(store.delete_session(PROJECT, "trs_1").await.unwrap());
    assert_eq!(store.get_session(PROJECT, "trs_1").await.unwrap(), None);
    assert_eq!(store.client_token_by_hash("hash of ct_1").await.unwrap(), None);
    assert!(!store.delete_session(PROJECT, "trs_1").await.unwrap(), "deleted once");
    assert!(store.get_session(PROJECT, "trs_2").await.unwrap().is_some(), "the other session stays");
    assert!(store.client_token_by_hash("hash of ct_2").await.unwrap().is_some(), "with its token");
}

/// An app mints MCP credentials for a session's MCP clients: each is found by its hash, listed
/// with its session's (newest first, never another session's or project's), records its use at
/// most once a minute, and is revoked once, through its own session and project only.
pub async fn an_mcp_credential_is_listed_used_and_revoked_once(store: Arc<dyn Store>) {
    two_projects(&store).await;
    store.insert_session(&session("trs_1", "u1")).await.unwrap();
    store.insert_session(&session("trs_2", "u2")).await.unwrap();
    let (old, new, other) = (mcp_credential("mcpc_old", "trs_1", 10), mcp_credential("mcpc_new", "trs_1", 20), mcp_credential("mcpc_other", "trs_2", 30));
    let unnamed = McpCredentialRecord { name: None, ..old.clone() };
    for m in [&unnamed, &new, &other] {
        store.insert_mcp_credential(m).await.unwrap();
    }
    assert_eq!(store.mcp_credential_by_hash("hash of mcpc_old").await.unwrap(), Some(unnamed.clone()));
    assert_eq!(store.mcp_credential_by_hash("hash of nothing").await.unwrap(), None);
    assert_eq!(store.list_mcp_credentials(PROJECT, "trs_1").await.unwrap(), [new.clone(), unnamed.clone()], "newest first");
    assert_eq!(store.list_mcp_credentials(OTHER_PROJECT, "trs_1").await.unwrap(), [], "not across projects");
    assert!(store.insert_mcp_credential(&McpCredentialRecord { id: "mcpc_dup".into(), ..new.clone() }).await.is_err(), "a hash is unique");

    store.touch_mcp_credential("mcpc_new", 1_000, 1_000 - 60_000).await.unwrap();
    store.touch_mcp_credential("mcpc_new", 1_030, 1_030 - 60_000).await.unwrap();
    let used = store.mcp_credential_by_hash("hash of mcpc_new").await.unwrap().unwrap();
    assert_eq!(used.last_used_at, Some(1_000), "a use within the minute writes nothing");
    store.touch_mcp_credential("mcpc_new", 61_001, 1_001).await.unwrap();
    assert_eq!(store.mcp_credential_by_hash("hash of mcpc_new").await.unwrap().unwrap().last_used_at, Some(61_001));

    assert!(!store.revoke_mcp_credential(PROJECT, "trs_2", "mcpc_old", 40).await.unwrap(), "not through another session");
    assert!(!store.revoke_mcp_credential(OTHER_PROJECT, "trs_1", "mcpc_old", 40).await.unwrap(), "nor another project");
    assert!(store.revoke_mcp_credential(PROJECT, "trs_1", "mcpc_old", 40).await.unwrap());
    assert!(!store.revoke_mcp_credential(PROJECT, "trs_1", "mcpc_old", 50).await.unwrap(), "revoked once");
    // Still found, so the broker can say "revoked" rather than "unknown".
    assert_eq!(store.mcp_credential_by_hash("hash of mcpc_old").await.unwrap(), Some(McpCredentialRecord { revoked_at: Some(40), ..unnamed }));
    assert_eq!(store.mcp_credential_by_hash("hash of mcpc_other").await.unwrap().unwrap().revoked_at, None, "the other session's stays");
}

/// A backend mints MCP credentials with two API keys; one key leaks and is revoked: the
/// credentials it minted die with it in the same transaction, the other key's and an
/// operator's (no key) live on, and one the key mints after its revocation is born revoked.
pub async fn revoking_an_api_key_revokes_the_mcp_credentials_it_minted(store: Arc<dyn Store>) {
    two_projects(&store).await;
    store.insert_session(&session("trs_1", "u1")).await.unwrap();
    for id in ["ak_leaked", "ak_kept"] {
        let key = ApiKeyRecord {
            id: id.into(),
            project_id: PROJECT.into(),
            name: id.into(),
            hash: format!("hash of {id}"),
            hint: "gl_ab".into(),
            created_at: 1,
            revoked_at: None,
        };
        store.insert_api_key(&key).await.unwrap();
    }
    let minted = |id: &str, key: Option<&str>| McpCredentialRecord { api_key_id: key.map(Into::into), ..mcp_credential(id, "trs_1", 10) };
    for m in [minted("mcpc_leaked_1", Some("ak_leaked")), minted("mcpc_leaked_2", Some("ak_leaked")), minted("mcpc_kept", Some("ak_kept")), minted("mcpc_operator", None)] {
        store.insert_mcp_credential(&m).await.unwrap();
    }
    assert!(store.revoke_api_key(PROJECT, "ak_leaked", 50).await.unwrap());
    for (id, revoked) in [("mcpc_leaked_1", Some(50)), ("mcpc_leaked_2", Some(50)), ("mcpc_kept", None), ("mcpc_operator", None)] {
        let m = store.mcp_credential_by_hash(&format!("hash of {id}")).await.unwrap().unwrap();
        assert_eq!(m.revoked_at, revoked, "{id}");
    }
    store.insert_mcp_credential(&minted("mcpc_late", Some("ak_leaked"))).await.unwrap();
    assert_eq!(store.mcp_credential_by_hash("hash of mcpc_late").await.unwrap().unwrap().revoked_at, Some(50), "born revoked");
    assert!(!store.revoke_api_key(PROJECT, "ak_leaked", 60).await.unwrap(), "revoked once");
    assert_eq!(store.mcp_credential_by_hash("hash of mcpc_leaked_1").await.unwrap().unwrap().revoked_at, Some(50), "kept its time");
}

/// The app deletes a session; the MCP credentials and MCP logins for it stop existing, another
/// session's stay.
pub async fn deleting_a_session_deletes_its_mcp_credentials(store: Arc<dyn Store>) {
    two_projects(&store).await;
    store.insert_session(&session("trs_1", "u1")).await.unwrap();
    store.insert_session(&session("trs_2", "u2")).await.unwrap();
    store.insert_mcp_credential(&mcp_credential("mcpc_1", "trs_1", 10)).await.unwrap();
    store.insert_mcp_credential(&mcp_credential("mcpc_2", "trs_2", 10)).await.unwrap();
    // An MCP client's login to each session: its tokens go with the session too.
    for session in ["trs_1", "trs_2"] {
        let login = McpGrant { project_id: PROJECT.into(), session_id: session.into(), ..mcp_grant(&format!("at {session}"), McpGrantKind::AccessToken, session, 10, i64::MAX) };
        store.insert_mcp_grant(&login, 100).await.unwrap();
    }
    assert!(store.delete_session(PROJECT, "trs_1").await.unwrap());
    assert_eq!(store.mcp_grant(McpGrantKind::AccessToken, "at trs_1", 20).await.unwrap(), None, "the session's MCP login is gone");
    assert!(store.mcp_grant(McpGrantKind::AccessToken, "at trs_2", 20).await.unwrap().is_some(), "the other session's stays");
    assert_eq!(store.mcp_credential_by_hash("hash of mcpc_1").await.unwrap(), None);
    assert_eq!(store.list_mcp_credentials(PROJECT, "trs_1").await.unwrap(), []);
    assert!(store.mcp_credential_by_hash("hash of mcpc_2").await.unwrap().is_some(), "the other session's stays");
}

// ---------------------------------------------------------------------------------------------
// Accounts

/// A user starts connecting GitHub: the account and its Connect Link are found every way.
pub async fn a_connection_stores_the_account_and_its_link_together(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let ca = AccountRecord { alias: Some("work".into()), ..account("ca_1", "u1", "github", 10) };
    let request = link(&ca, "s1", 1_000);
    store.insert_connection(&ca, &request).await.unwrap();

    assert_eq!(store.get_account(PROJECT, "ca_1").await.unwrap(), Some(ca.clone()));
    assert_eq!(store.get_account(OTHER_PROJECT, "ca_1").await.unwrap(), None, "not across projects");
    assert_eq!(store.request_by_account(PROJECT, "ca_1").await.unwrap(), Some(request.clone()));
    assert_eq!(store.request_by_account(OTHER_PROJECT, "ca_1").await.unwrap(), None);
    assert_eq!(store.request_by_state("s1").await.unwrap(), Some(request.clone()));
    assert_eq!(store.request_by_link_token("ln_s1").await.unwrap(), Some(request));
    assert_eq!(store.request_by_state("s_nobody").await.unwrap(), None);
    assert_eq!(store.request_by_link_token("ln_nobody").await.unwrap(), None);

    // A reconnect link keeps its kind.
    let other = account("ca_2", "u1", "slack", 20);
    let reconnect = ConnectionRequestRecord {
        kind: RequestKind::Reconnect,
        pkce_verifier_sealed: None,
        callback_url: None,
        ..link(&other, "s2", 1_000)
    };
    store.insert_connection(&other, &reconnect).await.unwrap();
    assert_eq!(store.request_by_state("s2").await.unwrap(), Some(reconnect));

    // Deleting the account deletes its link.
    assert!(!store.delete_account(OTHER_PROJECT, "ca_1", 90).await.unwrap(), "not across projects");
    assert!(store.delete_account(PROJECT, "ca_1", 90).await.unwrap());
    assert!(!store.delete_account(PROJECT, "ca_1", 90).await.unwrap(), "deleted once");
    assert_eq!(store.get_account(PROJECT, "ca_1").await.unwrap(), None);
    assert_eq!(store.request_by_state("s1").await.unwrap(), None);
    assert_eq!(store.request_by_link_token("ln_s1").await.unwrap(), None);
}

/// A user names their GitHub account "work"; a second "work" GitHub account is refused, while
/// the name is free for Slack and for other users.
pub async fn an_alias_names_one_account_per_user_and_toolkit(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let work = |id: &str, user: &str, toolkit: &str| AccountRecord {
        alias: Some("work".into()),
        ..account(id, user, toolkit, 10)
    };
    connect(&store, &work("ca_1", "u1", "github"), "s1", 1_000).await;

    let twin = work("ca_2", "u1", "github");
    let refused = store.insert_connection(&twin, &link(&twin, "s2", 1_000)).await;
    assert!(matches!(refused, Err(Error::Conflict(_))), "a second alias is a conflict, got {refused:?}");
    assert_eq!(store.get_account(PROJECT, "ca_2").await.unwrap(), None);
    assert_eq!(store.request_by_state("s2").await.unwrap(), None, "nor is its link left behind");

    connect(&store, &work("ca_3", "u1", "slack"), "s3", 1_000).await;
    connect(&store, &work("ca_4", "u2", "github"), "s4", 1_000).await;
    let theirs = AccountRecord { project_id: OTHER_PROJECT.into(), ..work("ca_5", "u1", "github") };
    connect(&store, &theirs, "s5", 1_000).await;
    // Accounts without an alias are many.
    connect(&store, &account("ca_6", "u1", "github", 20), "s6", 1_000).await;
    connect(&store, &account("ca_7", "u1", "github", 30), "s7", 1_000).await;
    assert_eq!(store.user_accounts(PROJECT, "u1").await.unwrap().len(), 4);
}

/// The app's dashboard lists accounts by user, toolkit, status, id and auth config, page by page.
pub async fn accounts_are_listed_filtered_ordered_and_paged(store: Arc<dyn Store>) {
    two_projects(&store).await;
    connect(&store, &account("ca_1", "u1", "github", 10), "s1", 1_000).await;
    connect(&store, &account("ca_2", "u1", "slack", 20), "s2", 1_000).await;
    connect(&store, &account("ca_3", "u2", "github", 30), "s3", 1_000).await;
    connect(
        &store,
        &AccountRecord { auth_config_id: "ac_custom".into(), ..account("ca_4", "u1", "github", 40) },
        "s4",
        1_000,
    )
    .await;
    let theirs = AccountRecord { project_id: OTHER_PROJECT.into(), ..account("ca_theirs", "u1", "github", 50) };
    connect(&store, &theirs, "s5", 1_000).await;
    // Changed later, in another order than created: ca_1 at 100, ca_3 at 60.
    assert!(store.transition(&callback("ca_1", "s1", b"token", 100)).await.unwrap().is_some());
    assert!(store.set_account_disabled(PROJECT, "ca_3", true, 60).await.unwrap());

    let list = |filter: AccountFilter, offset, limit| {
        let store = store.clone();
        async move {
            let (items, total) = store.list_accounts(PROJECT, &filter, offset, limit).await.unwrap();
            (items.iter().map(|a| a.id.clone()).collect::<Vec<_>>(), total)
        }
    };
    let all = AccountFilter::default();
    assert_eq!(
        list(all.clone(), 0, 10).await,
        (vec!["ca_4".into(), "ca_3".into(), "ca_2".into(), "ca_1".into()], 4),
        "newest first, disabled ones too"
    );
    let oldest_first = AccountFilter { ascending: true, ..all.clone() };
    assert_eq!(list(oldest_first, 0, 10).await.0, ["ca_1", "ca_2", "ca_3", "ca_4"]);
    let by_update = AccountFilter { order_by: AccountOrder::UpdatedAt, ..all.clone() };
    assert_eq!(list(by_update, 0, 10).await.0, ["ca_1", "ca_3", "ca_4", "ca_2"]);

    let filter = |f: fn(&mut AccountFilter)| {
        let mut filter = AccountFilter::default();
        f(&mut filter);
        filter
    };
    assert_eq!(
        list(filter(|f| f.user_ids = vec!["u1".into()]), 0, 10).await,
        (vec!["ca_4".into(), "ca_2".into(), "ca_1".into()], 3)
    );
    assert_eq!(list(filter(|f| f.toolkit_slugs = vec!["github".into()]), 0, 10).await.0, ["ca_4", "ca_3", "ca_1"]);
    assert_eq!(list(filter(|f| f.statuses = vec![AccountStatus::Active]), 0, 10).await.0, ["ca_1"]);
    assert_eq!(
        list(filter(|f| f.ids = vec!["ca_2".into(), "ca_3".into(), "ca_theirs".into()]), 0, 10).await.0,
        ["ca_3", "ca_2"]
    );
    assert_eq!(list(filter(|f| f.auth_config_ids = vec!["ac_custom".into()]), 0, 10).await.0, ["ca_4"]);
    // Values of one filter widen it; filters narrow each other.
    assert_eq!(list(filter(|f| f.statuses = vec![AccountStatus::Active, AccountStatus::Initiated]), 0, 10).await.1, 4);
    let github_of_u1 = filter(|f| {
        f.user_ids = vec!["u1".into()];
        f.toolkit_slugs = vec!["github".into()];
    });
    assert_eq!(list(github_of_u1, 0, 10).await.0, ["ca_4", "ca_1"]);
    assert_eq!(list(filter(|f| f.shared_only = true), 0, 10).await, (vec![], 0), "Grantline has no shared accounts");

    // Pages: the total counts every match, whatever the page.
    assert_eq!(list(all.clone(), 1, 2).await, (vec!["ca_3".into(), "ca_2".into()], 4));
    assert_eq!(list(all.clone(), 3, 2).await, (vec!["ca_1".into()], 4));
    assert_eq!(list(all, 4, 2).await, (vec![], 4));
}

/// A user's tools see their enabled accounts; the app disables one and enables it again.
pub async fn a_users_accounts_skip_disabled_ones(store: Arc<dyn Store>) {
    two_projects(&store).await;
    connect(&store, &account("ca_1", "u1", "github", 10), "s1", 1_000).await;
    connect(&store, &account("ca_2", "u1", "slack", 20), "s2", 1_000).await;
    connect(&store, &account("ca_3", "u2", "github", 30), "s3", 1_000).await;
    connect(&store, &account("ca_4", "u1", "gmail", 40), "s4", 1_000).await;
    connect(
        &store,
        &AccountRecord { project_id: OTHER_PROJECT.into(), ..account("ca_5", "u1", "github", 50) },
        "s5",
        1_000,
    )
    .await;
    assert_eq!(
        ids(&store.user_accounts(PROJECT, "u1").await.unwrap()),
        ["ca_4", "ca_2", "ca_1"],
        "newest first, this project's"
    );

    assert!(store.set_account_disabled(PROJECT, "ca_2", true, 60).await.unwrap());
    assert_eq!(ids(&store.user_accounts(PROJECT, "u1").await.unwrap()), ["ca_4", "ca_1"]);
    let disabled = get(&store, "ca_2").await;
    assert_eq!((disabled.is_disabled, disabled.updated_at, disabled.status), (true, 60, AccountStatus::Initiated));

    assert!(store.set_account_disabled(PROJECT, "ca_2", false, 70).await.unwrap());
    assert_eq!(ids(&store.user_accounts(PROJECT, "u1").await.unwrap()), ["ca_4", "ca_2", "ca_1"]);
    assert!(!get(&store, "ca_2").await.is_disabled);

    assert!(!store.set_account_disabled(PROJECT, "ca_nobody", true, 80).await.unwrap());
    assert!(!store.set_account_disabled(OTHER_PROJECT, "ca_1", true, 80).await.unwrap(), "not across projects");
    assert!(!get(&store, "ca_1").await.is_disabled);
}

// ---------------------------------------------------------------------------------------------
// Transitions

/// A callback finishes a connection only while the account is pending on the callback's own
/// link; a token refresh only while nobody changed the credentials it started from.
pub async fn a_transition_applies_only_while_its_guard_holds(store: Arc<dyn Store>) {
    two_projects(&store).await;
    connect(&store, &account("ca_1", "u1", "github", 10), "s1", 1_000).await;
    let before = get(&store, "ca_1").await;
    let request = store.request_by_account(PROJECT, "ca_1").await.unwrap();

    let refused = [
        (
            "another status",
            Transition {
                guard: Guard { from: vec![AccountStatus::Active], ..Guard::default() },
                ..callback("ca_1", "s1", b"v1", 50)
            },
        ),
        ("another link", callback("ca_1", "s_other", b"v1", 50)),
        (
            "other credentials",
            Transition {
                guard: Guard { credentials: Some(b"v0".to_vec()), ..callback("ca_1", "s1", b"v1", 50).guard },
                ..callback("ca_1", "s1", b"v1", 50)
            },
        ),
        ("no such account", callback("ca_nobody", "s1", b"v1", 50)),
    ];
    for (why, t) in refused {
        let t = Transition { request: RequestChange::End, ..t };
        assert_eq!(store.transition(&t).await.unwrap(), None, "{why}");
        assert_eq!(get(&store, "ca_1").await, before, "{why}: the account is untouched");
        assert_eq!(store.request_by_account(PROJECT, "ca_1").await.unwrap(), request, "{why}: and so is its link");
    }

    let after = store.transition(&callback("ca_1", "s1", b"v1", 50)).await.unwrap().expect("the guard holds");
    let expected = AccountRecord {
        status: AccountStatus::Active,
        credentials_sealed: Some(b"v1".to_vec()),
        updated_at: 50,
        ..before
    };
    assert_eq!(after, expected, "the row as it is afterwards");
    assert_eq!(get(&store, "ca_1").await, expected);
    assert_eq!(
        store.transition(&callback("ca_1", "s1", b"v1", 60)).await.unwrap(),
        None,
        "an ACTIVE account is pending no more"
    );

    // A refresh that started from v0 comes back after v1 arrived: refused. From v1: applied.
    let refresh = |from: &[u8], to: &[u8]| Transition {
        guard: Guard { credentials: Some(from.to_vec()), ..transition("ca_1", &[AccountStatus::Active], 70).guard },
        credentials: CredentialsChange::Set(to.to_vec()),
        ..transition("ca_1", &[AccountStatus::Active], 70)
    };
    assert_eq!(store.transition(&refresh(b"v0", b"v0-refreshed")).await.unwrap(), None);
    assert_eq!(get(&store, "ca_1").await, expected);
    let refreshed = store.transition(&refresh(b"v1", b"v2")).await.unwrap().expect("credentials unchanged meanwhile");
    assert_eq!((refreshed.credentials_sealed.as_deref(), refreshed.updated_at), (Some(&b"v2"[..]), 70));
}

/// Credentials arrive with a callback, survive a status change, rotate on refresh, and are wiped
/// on revocation; a status change without a reason clears the old reason.
pub async fn a_transition_keeps_sets_or_wipes_credentials(store: Arc<dyn Store>) {
    two_projects(&store).await;
    connect(&store, &account("ca_1", "u1", "github", 10), "s1", 1_000).await;
    let ca = store.transition(&callback("ca_1", "s1", b"v1", 20)).await.unwrap().unwrap();
    assert_eq!(ca.credentials_sealed.as_deref(), Some(&b"v1"[..]));
    let active = [AccountStatus::Active];

    // A refused refresh: EXPIRED with a reason, credentials kept.
    let refused = Transition {
        status: Some((AccountStatus::Expired, Some("refresh refused".into()))),
        ..transition("ca_1", &active, 30)
    };
    let ca = store.transition(&refused).await.unwrap().unwrap();
    assert_eq!(
        (ca.status, ca.status_reason.as_deref(), ca.credentials_sealed.as_deref()),
        (AccountStatus::Expired, Some("refresh refused"), Some(&b"v1"[..]))
    );

    // New credentials without a status: the status and its reason stay.
    let rotated = Transition {
        credentials: CredentialsChange::Set(b"v2".to_vec()),
        ..transition("ca_1", &[AccountStatus::Expired], 40)
    };
    let ca = store.transition(&rotated).await.unwrap().unwrap();
    assert_eq!(
        (ca.status, ca.status_reason.as_deref(), ca.credentials_sealed.as_deref()),
        (AccountStatus::Expired, Some("refresh refused"), Some(&b"v2"[..]))
    );

    // Back to ACTIVE with no reason: the old reason is cleared.
    let revived =
        Transition { status: Some((AccountStatus::Active, None)), ..transition("ca_1", &[AccountStatus::Expired], 50) };
    let ca = store.transition(&revived).await.unwrap().unwrap();
    assert_eq!(
        (ca.status, ca.status_reason, ca.credentials_sealed.as_deref()),
        (AccountStatus::Active, None, Some(&b"v2"[..]))
    );

    // Revoked: the credentials are gone.
    let revoked = Transition {
        status: Some((AccountStatus::Revoked, Some("revoked by the app".into()))),
        credentials: CredentialsChange::Wipe,
        ..transition("ca_1", &active, 60)
    };
    let ca = store.transition(&revoked).await.unwrap().unwrap();
    assert_eq!((ca.status, ca.credentials_sealed.clone(), ca.updated_at), (AccountStatus::Revoked, None, 60));
    assert_eq!(get(&store, "ca_1").await, ca);
}

/// A fresh link replaces the old one (whose callback then finds nothing); a revocation ends the
/// link; a reconnect after it issues a new one.
pub async fn a_transition_replaces_or_ends_the_connection_request(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let ca = account("ca_1", "u1", "github", 10);
    connect(&store, &ca, "s1", 1_000).await;
    // The callback of s1 is at the provider when the user asks for a fresh link.
    assert!(store.consume_request("s1", 20).await.unwrap());
    let fresh = link(&ca, "s2", 2_000);
    let renewed = Transition { request: RequestChange::Replace(fresh.clone()), ..transition("ca_1", PENDING, 30) };
    // `updated_at` says when the account itself (status, credentials) last changed: not a link.
    assert_eq!(store.transition(&renewed).await.unwrap(), Some(ca.clone()), "the account as it was");
    assert_eq!(store.request_by_account(PROJECT, "ca_1").await.unwrap(), Some(fresh.clone()), "the fresh link, unused");
    assert_eq!(store.request_by_state("s2").await.unwrap(), Some(fresh.clone()));
    assert_eq!(store.request_by_link_token("ln_s2").await.unwrap(), Some(fresh));
    assert_eq!(store.request_by_state("s1").await.unwrap(), None, "the old state is unknown");
    assert_eq!(store.request_by_link_token("ln_s1").await.unwrap(), None, "the old link is unknown");
    assert!(!store.consume_request("s1", 40).await.unwrap());
    assert_eq!(
        store.transition(&callback("ca_1", "s1", b"late", 40)).await.unwrap(),
        None,
        "the old callback lands nowhere"
    );

    // A failed guard installs no link.
    let wrong = Transition {
        request: RequestChange::Replace(link(&ca, "s_wrong", 2_000)),
        ..transition("ca_1", &[AccountStatus::Failed], 50)
    };
    assert_eq!(store.transition(&wrong).await.unwrap(), None);
    assert_eq!(store.request_by_state("s_wrong").await.unwrap(), None);
    assert_eq!(store.request_by_account(PROJECT, "ca_1").await.unwrap().map(|r| r.state), Some("s2".into()));

    // Revoked while s2's callback is in flight: the link ends and the callback lands nowhere.
    assert!(store.consume_request("s2", 60).await.unwrap());
    let revoked = Transition {
        status: Some((AccountStatus::Revoked, Some("revoked by the app".into()))),
        credentials: CredentialsChange::Wipe,
        request: RequestChange::End,
        ..transition("ca_1", &AccountStatus::ALL, 70)
    };
    assert_eq!(store.transition(&revoked).await.unwrap().map(|a| a.status), Some(AccountStatus::Revoked));
    assert_eq!(store.request_by_account(PROJECT, "ca_1").await.unwrap(), None);
    assert_eq!(store.request_by_state("s2").await.unwrap(), None);
    assert_eq!(store.request_by_link_token("ln_s2").await.unwrap(), None);
    let late = Transition {
        guard: Guard { from: AccountStatus::ALL.to_vec(), ..callback("ca_1", "s2", b"late", 80).guard },
        ..callback("ca_1", "s2", b"late", 80)
    };
    assert_eq!(store.transition(&late).await.unwrap(), None);
    assert_eq!(get(&store, "ca_1").await.status, AccountStatus::Revoked);

    // A reconnect of the revoked account issues a new link.
    let reconnect = ConnectionRequestRecord { kind: RequestKind::Reconnect, ..link(&ca, "s3", 3_000) };
    let reissued = Transition {
        request: RequestChange::Replace(reconnect.clone()),
        ..transition("ca_1", &[AccountStatus::Revoked], 90)
    };
    assert!(store.transition(&reissued).await.unwrap().is_some());
    assert_eq!(store.request_by_account(PROJECT, "ca_1").await.unwrap(), Some(reconnect));
}

/// The sweeper asks which links ran out, for the statuses it handles, a batch at a time.
pub async fn due_links_are_expired_links_of_the_asked_statuses_oldest_first(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let due = |store: &Arc<dyn Store>, statuses: &'static [AccountStatus], now, limit| {
        let store = store.clone();
        async move {
            let links = store.due_links(statuses, now, limit).await.unwrap();
            links.into_iter().map(|d| (d.account_id, d.state)).collect::<Vec<_>>()
        }
    };
    let pair = |a: &str, s: &str| (a.to_string(), s.to_string());
    connect(&store, &account("ca_late", "u1", "github", 10), "s_late", 100).await;
    connect(&store, &account("ca_early", "u1", "slack", 20), "s_early", 50).await;
    connect(&store, &account("ca_now", "u1", "gmail", 30), "s_now", 150).await;
    connect(&store, &account("ca_future", "u1", "notion", 40), "s_future", 151).await;
    let theirs = AccountRecord { project_id: OTHER_PROJECT.into(), ..account("ca_theirs", "u2", "github", 50) };
    connect(&store, &theirs, "s_theirs", 120).await;
    // An ACTIVE account reconnecting, its link dead at 60.
    connect(&store, &account("ca_active", "u2", "slack", 60), "s_first", 1_000).await;
    assert!(store.transition(&callback("ca_active", "s_first", b"v1", 70)).await.unwrap().is_some());
    let ca_active = get(&store, "ca_active").await;
    let reconnect = ConnectionRequestRecord { kind: RequestKind::Reconnect, ..link(&ca_active, "s_reconnect", 60) };
    assert!(store
        .transition(&Transition {
            request: RequestChange::Replace(reconnect),
            ..transition("ca_active", &[AccountStatus::Active], 80)
        })
        .await
        .unwrap()
        .is_some());

    let expected_pending = vec![
        pair("ca_early", "s_early"),
        pair("ca_late", "s_late"),
        pair("ca_theirs", "s_theirs"),
        pair("ca_now", "s_now"),
    ];
    assert_eq!(due(&store, PENDING, 150, 10).await, expected_pending, "oldest link first, expiring at `now` included");
    assert_eq!(due(&store, PENDING, 150, 2).await, expected_pending[..2], "a batch at a time");
    assert_eq!(due(&store, &[AccountStatus::Active], 150, 10).await, [pair("ca_active", "s_reconnect")]);
    assert!(due(&store, &[AccountStatus::Failed], 150, 10).await.is_empty());
    assert!(due(&store, PENDING, 49, 10).await.is_empty(), "nothing has run out yet");

    // The user asked for a fresh link: not due any more. Revoked: no link, nothing due.
    let fresh = link(&get(&store, "ca_early").await, "s_fresh", 500);
    assert!(store
        .transition(&Transition { request: RequestChange::Replace(fresh), ..transition("ca_early", PENDING, 90) })
        .await
        .unwrap()
        .is_some());
    assert!(store
        .transition(&Transition { request: RequestChange::End, ..transition("ca_late", PENDING, 90) })
        .await
        .unwrap()
        .is_some());
    assert_eq!(due(&store, PENDING, 150, 10).await, [pair("ca_theirs", "s_theirs"), pair("ca_now", "s_now")]);

    // The sweeper expires what it was given; those are due no more.
    for (account_id, state) in due(&store, PENDING, 150, 10).await {
        assert!(store.transition(&expiry(&account_id, &state, 150)).await.unwrap().is_some());
    }
    assert!(due(&store, PENDING, 150, 10).await.is_empty());
}

/// The provider redirects back with a `state`: the first callback uses it, a replay does not,
/// and nor does a callback after the link died.
pub async fn a_state_is_consumed_once_and_never_after_expiry(store: Arc<dyn Store>) {
    two_projects(&store).await;
    connect(&store, &account("ca_1", "u1", "github", 10), "s1", 100).await;
    connect(&store, &account("ca_2", "u1", "slack", 20), "s2", 100).await;

    // At its expiry a link is the sweeper's, never also the callback's.
    assert!(!store.consume_request("s1", 100).await.unwrap(), "dead at its expiry");
    assert_eq!(store.due_links(PENDING, 100, 10).await.unwrap().len(), 2);
    assert_eq!(store.request_by_state("s1").await.unwrap().unwrap().consumed_at, None);
    assert!(store.consume_request("s1", 99).await.unwrap());
    assert_eq!(store.request_by_state("s1").await.unwrap().unwrap().consumed_at, Some(99));
    assert!(!store.consume_request("s1", 99).await.unwrap(), "a replay");
    assert!(!store.consume_request("s_nobody", 50).await.unwrap());
    assert_eq!(store.request_by_state("s2").await.unwrap().unwrap().consumed_at, None, "the other link is untouched");
}

/// The dashboard shows which accounts have a reconnect link out.
pub async fn live_reconnects_are_unused_unexpired_reconnect_links(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let reconnecting = |store: &Arc<dyn Store>, account: AccountRecord, state: &'static str| {
        let store = store.clone();
        async move {
            connect(&store, &account, &format!("first of {state}"), 1_000).await;
            let reconnect = ConnectionRequestRecord { kind: RequestKind::Reconnect, ..link(&account, state, 100) };
            let renew =
                Transition { request: RequestChange::Replace(reconnect), ..transition(&account.id, PENDING, 20) };
            assert!(store.transition(&renew).await.unwrap().is_some());
        }
    };
    reconnecting(&store, account("ca_live", "u1", "github", 10), "r_live").await;
    reconnecting(&store, account("ca_used", "u1", "slack", 10), "r_used").await;
    reconnecting(
        &store,
        AccountRecord { project_id: OTHER_PROJECT.into(), ..account("ca_theirs", "u1", "github", 10) },
        "r_theirs",
    )
    .await;
    connect(&store, &account("ca_first", "u1", "gmail", 10), "s_first", 100).await;
    assert!(store.consume_request("r_used", 30).await.unwrap());

    assert_eq!(
        store.live_reconnects(PROJECT, 99).await.unwrap(),
        ["ca_live"],
        "not used, not a first link, not another project's"
    );
    assert_eq!(store.live_reconnects(OTHER_PROJECT, 99).await.unwrap(), ["ca_theirs"]);
    assert!(store.live_reconnects(PROJECT, 100).await.unwrap().is_empty(), "dead at its expiry");
}

// ---------------------------------------------------------------------------------------------
// Retention

/// The retention sweeper's purge: spent or expired links of settled accounts, dead client
/// tokens and old `FAILED`/`EXPIRED` accounts go; `ACTIVE`, `REVOKED` and pending accounts, a
/// pending account's link, and whatever ended after the cut-off stay.
pub async fn purging_deletes_what_ended_long_ago_and_never_a_live_account(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let end = |id: &'static str, status: AccountStatus, now: i64| Transition {
        status: Some((status, Some("ended".into()))),
        ..transition(id, &[AccountStatus::Initiated, AccountStatus::Active], now)
    };
    connect(&store, &account("ca_active", "u1", "github", 10), "s_active", 1_000).await;
    assert!(store.transition(&callback("ca_active", "s_active", b"v1", 20)).await.unwrap().is_some());
    for (id, state) in [("ca_failed_old", "s_fo"), ("ca_failed_new", "s_fn"), ("ca_expired_old", "s_eo"), ("ca_revoked", "s_rv"), ("ca_pending", "s_pe")] {
        connect(&store, &account(id, "u1", "slack", 10), state, 50).await;
    }
    for (id, status, now) in [
        ("ca_failed_old", AccountStatus::Failed, 60),
        ("ca_failed_new", AccountStatus::Failed, 5_000),
        ("ca_expired_old", AccountStatus::Expired, 60),
        ("ca_revoked", AccountStatus::Revoked, 60),
    ] {
        assert!(store.transition(&end(id, status, now)).await.unwrap().is_some(), "{id}");
    }
    store.insert_session(&session("s1", "u1")).await.unwrap();
    for (id, expires_at) in [("ct_expired", 100), ("ct_revoked", 10_000), ("ct_live", 10_000)] {
        store.insert_client_token(&ClientTokenRecord { expires_at, ..client_token(id, "s1") }).await.unwrap();
    }
    assert!(store.revoke_client_token(PROJECT, "s1", "ct_revoked", 100).await.unwrap());
    for (id, expires_at) in [("mcpc_expired", 100), ("mcpc_revoked", 10_000), ("mcpc_live", 10_000)] {
        store.insert_mcp_credential(&McpCredentialRecord { expires_at, ..mcp_credential(id, "s1", 10) }).await.unwrap();
    }
    assert!(store.revoke_mcp_credential(PROJECT, "s1", "mcpc_revoked", 100).await.unwrap());

    let nothing = PurgeBefore { links: i64::MIN, client_tokens: i64::MIN, mcp_credentials: i64::MIN, mcp_logins: i64::MIN, accounts: i64::MIN, webhooks: i64::MIN, logs: i64::MIN };
    assert_eq!(store.purge(&nothing).await.unwrap(), Purged::default(), "nothing ended before the dawn of time");
    let ended = PurgeBefore { links: 2_000, client_tokens: 2_000, mcp_credentials: 2_000, accounts: 2_000, ..nothing };
    let purged = store.purge(&ended).await.unwrap();
    assert_eq!(purged, Purged { links: 3, client_tokens: 2, mcp_credentials: 2, accounts: 2, ..Purged::default() });

    for gone in ["ca_failed_old", "ca_expired_old"] {
        assert!(store.get_account(PROJECT, gone).await.unwrap().is_none(), "{gone}");
        assert!(store.request_by_account(PROJECT, gone).await.unwrap().is_none(), "{gone}'s link went with it");
    }
    for (kept, status) in [
        ("ca_active", AccountStatus::Active),
        ("ca_failed_new", AccountStatus::Failed),
        ("ca_revoked", AccountStatus::Revoked),
        ("ca_pending", AccountStatus::Initiated),
    ] {
        assert_eq!(get(&store, kept).await.status, status, "{kept}");
    }
    for (id, has_link) in [("ca_active", false), ("ca_failed_new", false), ("ca_revoked", false), ("ca_pending", true)] {
        assert_eq!(store.request_by_account(PROJECT, id).await.unwrap().is_some(), has_link, "{id}'s link");
    }
    assert!(store.request_by_link_token("ln_s_active").await.unwrap().is_none(), "a spent link token is gone");
    for (id, kept) in [("ct_expired", false), ("ct_revoked", false), ("ct_live", true)] {
        assert_eq!(store.client_token_by_hash(&format!("hash of {id}")).await.unwrap().is_some(), kept, "{id}");
    }
    for (id, kept) in [("mcpc_expired", false), ("mcpc_revoked", false), ("mcpc_live", true)] {
        assert_eq!(store.mcp_credential_by_hash(&format!("hash of {id}")).await.unwrap().is_some(), kept, "{id}");
    }
    assert_eq!(store.purge(&ended).await.unwrap(), Purged::default(), "once");
}

fn execution_log(id: &str, project_id: &str, user: &str, toolkit: &str, created_at: i64) -> ExecutionLogRecord {
    ExecutionLogRecord {
        id: id.into(),
        project_id: project_id.into(),
        session_id: "trs_1".into(),
        user_id: user.into(),
        account_id: Some(format!("ca_{user}_{toolkit}")),
        toolkit: toolkit.into(),
        tool_slug: Some(format!("{}_DO", toolkit.to_uppercase())),
        successful: true,
        error_code: None,
        error_message: None,
        provider_status: Some(200),
        duration_ms: 12,
        created_at,
    }
}

/// Execution logs: each read back whole within its project only, listed newest first by user,
/// account or toolkit with a count, and deleted by the retention sweeper once old enough.
pub async fn execution_logs_are_read_within_their_project_listed_newest_first_and_purged_by_age(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let failed = ExecutionLogRecord {
        successful: false,
        error_code: Some("PROVIDER_ERROR".into()),
        error_message: Some("GitHub answered HTTP 404".into()),
        provider_status: Some(404),
        account_id: None,
        tool_slug: None,
        ..execution_log("log_b", PROJECT, "u1", "github", 200)
    };
    let logs = [
        execution_log("log_a", PROJECT, "u1", "github", 100),
        failed.clone(),
        execution_log("log_c", PROJECT, "u2", "slack", 300),
        execution_log("log_d", PROJECT, "u1", "slack", 300),
        execution_log("log_x", OTHER_PROJECT, "u1", "github", 400),
    ];
    for l in &logs {
        store.insert_execution_log(l).await.unwrap();
    }
    assert!(store.insert_execution_log(&logs[0]).await.is_err(), "a log id is written once");
    assert_eq!(store.get_execution_log(PROJECT, "log_b").await.unwrap(), Some(failed), "read back whole");
    assert_eq!(store.get_execution_log(PROJECT, "log_x").await.unwrap(), None, "another project's log is not found");
    assert_eq!(store.get_execution_log(PROJECT, "log_zz").await.unwrap(), None);

    let list = |filter: LogFilter, offset: u64, limit: u32| {
        let store = store.clone();
        async move {
            let (items, total) = store.list_execution_logs(PROJECT, &filter, offset, limit).await.unwrap();
            (items.into_iter().map(|l| l.id).collect::<Vec<_>>(), total)
        }
    };
    let v = |ids: &[&str]| ids.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(list(LogFilter::default(), 0, 10).await, (v(&["log_d", "log_c", "log_b", "log_a"]), 4), "newest first, ties by id");
    assert_eq!(list(LogFilter::default(), 1, 2).await, (v(&["log_c", "log_b"]), 4), "paged");
    let u1 = LogFilter { user_id: Some("u1".into()), ..LogFilter::default() };
    assert_eq!(list(u1.clone(), 0, 10).await, (v(&["log_d", "log_b", "log_a"]), 3));
    let u1_github = LogFilter { toolkit: Some("github".into()), ..u1 };
    assert_eq!(list(u1_github, 0, 10).await, (v(&["log_b", "log_a"]), 2));
    let account = LogFilter { account_id: Some("ca_u2_slack".into()), ..LogFilter::default() };
    assert_eq!(list(account, 0, 10).await, (v(&["log_c"]), 1));

    let keep_rest = PurgeBefore { links: i64::MIN, client_tokens: i64::MIN, mcp_credentials: i64::MIN, mcp_logins: i64::MIN, accounts: i64::MIN, webhooks: i64::MIN, logs: 250 };
    assert_eq!(store.purge(&keep_rest).await.unwrap(), Purged { logs: 2, ..Purged::default() });
    assert_eq!(list(LogFilter::default(), 0, 10).await, (v(&["log_d", "log_c"]), 2));
    assert!(store.get_execution_log(OTHER_PROJECT, "log_x").await.unwrap().is_some(), "newer than the cut-off");
    assert_eq!(store.purge(&keep_rest).await.unwrap(), Purged::default(), "once");
}

// ---------------------------------------------------------------------------------------------
// MCP authorization

/// The retention sweep drops MCP logins that ended long ago: expired grant rows, clients
/// registered long ago with no grant left that outlives the cut-off, stale cached documents; a
/// client with a live refresh token, and a fresh document, stay.
pub async fn purging_drops_ended_mcp_logins_and_clients_with_nothing_left(store: Arc<dyn Store>) {
    store.migrate().await.expect("migrate");
    let client = |id: &str, kind, at: i64, expires_at| McpClientRecord { client_id: id.into(), kind, metadata: "{}".into(), created_at: at, expires_at };
    store.put_mcp_client(&client("mcpcl_idle", McpClientKind::Registered, 10, None)).await.unwrap();
    store.put_mcp_client(&client("mcpcl_busy", McpClientKind::Registered, 10, None)).await.unwrap();
    store.put_mcp_client(&client("mcpcl_new", McpClientKind::Registered, 5_000, None)).await.unwrap();
    store.put_mcp_client(&client("https://old.example/c.json", McpClientKind::MetadataDocument, 10, Some(100))).await.unwrap();
    store.put_mcp_client(&client("https://fresh.example/c.json", McpClientKind::MetadataDocument, 10, Some(9_000))).await.unwrap();
    let row = |hash: &str, kind, client: &str, expires_at| McpGrant { client_id: client.into(), ..mcp_grant(hash, kind, hash, 10, expires_at) };
    store.insert_mcp_grant(&row("old code", McpGrantKind::Code, "mcpcl_idle", 500), 100).await.unwrap();
    store.insert_mcp_grant(&row("live refresh", McpGrantKind::RefreshToken, "mcpcl_busy", 90_000), 100).await.unwrap();

    let nothing = PurgeBefore { links: i64::MIN, client_tokens: i64::MIN, mcp_credentials: i64::MIN, mcp_logins: i64::MIN, accounts: i64::MIN, webhooks: i64::MIN, logs: i64::MIN };
    assert_eq!(store.purge(&nothing).await.unwrap(), Purged::default(), "nothing is due");
    let purged = store.purge(&PurgeBefore { mcp_logins: 1_000, ..nothing }).await.unwrap();
    // The idle client, the stale document and the expired code.
    assert_eq!(purged, Purged { mcp_logins: 3, ..Purged::default() });
    assert_eq!(store.mcp_client("mcpcl_idle").await.unwrap(), None);
    assert_eq!(store.mcp_client("https://old.example/c.json").await.unwrap(), None);
    for kept in ["mcpcl_busy", "mcpcl_new", "https://fresh.example/c.json"] {
        assert!(store.mcp_client(kept).await.unwrap().is_some(), "{kept} stays");
    }
    assert!(store.mcp_grant(McpGrantKind::RefreshToken, "live refresh", 1_000).await.unwrap().is_some());
}

/// Registered clients and fetched metadata documents are kept by `client_id`; fetching a
/// document again replaces it; registrations are counted by age (the rate limit).
pub async fn mcp_clients_are_kept_replaced_and_counted(store: Arc<dyn Store>) {
    store.migrate().await.expect("migrate");
    let client = |id: &str, kind, at| {
        let expires_at = (kind == McpClientKind::MetadataDocument).then_some(at + 60_000);
        McpClientRecord { client_id: id.into(), kind, metadata: format!(r#"{{"at":{at}}}"#), created_at: at, expires_at }
    };
    assert_eq!(store.mcp_client("mcpcl_1").await.unwrap(), None);
    store.put_mcp_client(&client("mcpcl_1", McpClientKind::Registered, 10)).await.unwrap();
    store.put_mcp_client(&client("mcpcl_2", McpClientKind::Registered, 20)).await.unwrap();
    let doc = "https://client.example/meta.json";
    store.put_mcp_client(&client(doc, McpClientKind::MetadataDocument, 15)).await.unwrap();
    store.put_mcp_client(&client(doc, McpClientKind::MetadataDocument, 30)).await.unwrap();
    assert_eq!(store.mcp_client("mcpcl_1").await.unwrap(), Some(client("mcpcl_1", McpClientKind::Registered, 10)));
    assert_eq!(store.mcp_client(doc).await.unwrap(), Some(client(doc, McpClientKind::MetadataDocument, 30)), "fetched again");
    assert_eq!(store.count_mcp_clients_since(McpClientKind::Registered, 0).await.unwrap(), 2);
    assert_eq!(store.count_mcp_clients_since(McpClientKind::Registered, 20).await.unwrap(), 1);
    assert_eq!(store.count_mcp_clients_since(McpClientKind::MetadataDocument, 0).await.unwrap(), 1);
}

fn mcp_grant(hash: &str, kind: McpGrantKind, family: &str, created_at: i64, expires_at: i64) -> McpGrant {
    McpGrant {
        hash: hash.into(),
        kind,
        family: family.into(),
        project_id: "pr_1".into(),
        session_id: "trs_1".into(),
        client_id: "mcpcl_1".into(),
        resource: "https://broker.example/tool_router/trs_1/mcp".into(),
        scope: "mcp".into(),
        redirect_uri: Some("http://127.0.0.1:5000/cb".into()),
        code_challenge: Some("c".repeat(43)),
        state: Some("st".into()),
        csrf_hash: Some("csrf".into()),
        created_at,
        expires_at,
        used_at: None,
    }
}

/// A pending authorization, a code or a refresh token is used once (of two racing uses, one
/// wins) and stays visible as used until it expires, so a replay is recognised; revoking a
/// family ends every row of it; dead rows go and each kind is bounded.
pub async fn an_mcp_grant_is_used_once_revoked_by_family_and_bounded(store: Arc<dyn Store>) {
    use McpGrantKind::{AccessToken, Code, RefreshToken};
    store.migrate().await.expect("migrate");
    let code = mcp_grant("h_code", Code, "fam_1", 10, 100);
    store.insert_mcp_grant(&code, 10).await.unwrap();
    assert_eq!(store.mcp_grant(Code, "h_code", 50).await.unwrap(), Some(code.clone()), "looking leaves it");
    assert_eq!(store.use_mcp_grant(AccessToken, "h_code", 50).await.unwrap(), None, "a code is no access token");
    let (a, b) = tokio::join!(store.use_mcp_grant(Code, "h_code", 50), store.use_mcp_grant(Code, "h_code", 50));
    let won: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(won, vec![code.clone()], "one of two racing uses gets it, as it was before");
    assert_eq!(store.use_mcp_grant(Code, "h_code", 51).await.unwrap(), None, "single use");
    assert_eq!(store.mcp_grant(Code, "h_code", 52).await.unwrap().and_then(|g| g.used_at), Some(50), "a used code stays, marked");
    assert_eq!(store.mcp_grant(Code, "h_code", 100).await.unwrap(), None, "dead at its expiry");

    let refresh = mcp_grant("h_rt", RefreshToken, "fam_1", 20, 1_000);
    let access = mcp_grant("h_at", AccessToken, "fam_1", 20, 1_000);
    let other = mcp_grant("h_other", AccessToken, "fam_2", 20, 1_000);
    for g in [&refresh, &access, &other] {
        store.insert_mcp_grant(g, 10).await.unwrap();
    }
    assert_eq!(store.revoke_mcp_family("fam_1").await.unwrap(), 3, "the code, the access and the refresh token");
    assert_eq!(store.mcp_grant(AccessToken, "h_at", 30).await.unwrap(), None);
    assert_eq!(store.use_mcp_grant(RefreshToken, "h_rt", 30).await.unwrap(), None);
    assert_eq!(store.mcp_grant(AccessToken, "h_other", 30).await.unwrap(), Some(other), "another family stays");

    // Past a cap of two access tokens the oldest goes; inserting at 2_000 drops the dead ones.
    for (i, hash) in ["h_a", "h_b", "h_c"].into_iter().enumerate() {
        store.insert_mcp_grant(&mcp_grant(hash, AccessToken, "fam_3", 2_000 + i as i64, 10_000), 2).await.unwrap();
    }
    let live = |hash| {
        let store = store.clone();
        async move { store.mcp_grant(AccessToken, hash, 2_500).await.unwrap().is_some() }
    };
    assert_eq!((live("h_a").await, live("h_b").await, live("h_c").await), (false, true, true));
    assert_eq!(store.mcp_grant(AccessToken, "h_other", 999).await.unwrap(), None, "expired rows were pruned");
}

// ---------------------------------------------------------------------------------------------
// Sandbox grants and leases

/// The sandbox provider issues codes and tokens; each code works once, old and dead ones are
/// dropped, and revoking one token ends its family.
pub async fn a_sandbox_grant_is_taken_once_and_the_table_stays_bounded(store: Arc<dyn Store>) {
    use SandboxGrantKind::{AccessToken, Code, RefreshToken};
    store.migrate().await.expect("migrate");
    let code = grant("h_code", Code, "fam_1", 10, 100);
    store.insert_sandbox_grant(&code, 10).await.unwrap();
    assert_eq!(store.sandbox_grant(Code, "h_code", 50).await.unwrap(), Some(code.clone()), "looking leaves it");
    assert_eq!(store.take_sandbox_grant(AccessToken, "h_code", 50).await.unwrap(), None, "a code is no access token");
    assert_eq!(store.take_sandbox_grant(Code, "h_code", 50).await.unwrap(), Some(code));
    assert_eq!(store.take_sandbox_grant(Code, "h_code", 50).await.unwrap(), None, "single use");
    assert_eq!(store.sandbox_grant(Code, "h_code", 50).await.unwrap(), None);

    let dying = grant("h_dying", RefreshToken, "fam_1", 20, 100);
    store.insert_sandbox_grant(&dying, 10).await.unwrap();
    assert_eq!(store.sandbox_grant(RefreshToken, "h_dying", 101).await.unwrap(), None, "dead after its expiry");
    assert_eq!(store.take_sandbox_grant(RefreshToken, "h_dying", 101).await.unwrap(), None);
    assert!(store.sandbox_grant(RefreshToken, "h_dying", 99).await.unwrap().is_some());

    // Inserting at 110 drops what was dead by then, even if asked about with an earlier clock.
    for (i, hash) in ["h_a", "h_b", "h_c"].into_iter().enumerate() {
        store.insert_sandbox_grant(&grant(hash, AccessToken, "fam_2", 110 + i as i64, 10_000), 3).await.unwrap();
    }
    assert_eq!(store.sandbox_grant(RefreshToken, "h_dying", 99).await.unwrap(), None, "pruned once expired");
    for hash in ["h_a", "h_b", "h_c"] {
        assert!(
            store.sandbox_grant(AccessToken, hash, 200).await.unwrap().is_some(),
            "{hash}: three fit a cap of three"
        );
    }
    // A fourth past a cap of three: the oldest goes.
    store.insert_sandbox_grant(&grant("h_d", AccessToken, "fam_3", 120, 10_000), 3).await.unwrap();
    let live = |hash| {
        let store = store.clone();
        async move { store.sandbox_grant(AccessToken, hash, 200).await.unwrap().is_some() }
    };
    assert_eq!((live("h_a").await, live("h_b").await, live("h_c").await, live("h_d").await), (false, true, true, true));

    // The cap is per kind: a flood of unredeemed codes pushes out old codes, never live tokens.
    for i in 0..5 {
        store.insert_sandbox_grant(&grant(&format!("h_flood_{i}"), Code, "fam_flood", 130 + i, 10_000), 3).await.unwrap();
    }
    assert_eq!((live("h_b").await, live("h_c").await, live("h_d").await), (true, true, true), "codes do not evict tokens");
    assert!(store.sandbox_grant(Code, "h_flood_0", 200).await.unwrap().is_none(), "the oldest codes went");
    assert!(store.sandbox_grant(Code, "h_flood_4", 200).await.unwrap().is_some());

    assert_eq!(store.revoke_sandbox_family("fam_2").await.unwrap(), 2);
    assert_eq!((live("h_b").await, live("h_c").await, live("h_d").await), (false, false, true), "one family only");
    assert_eq!(store.revoke_sandbox_family("fam_2").await.unwrap(), 0);
}

/// Two brokers share a database; one sweeps at a time, and a dead one blocks no one for long.
pub async fn a_lease_has_one_holder_until_it_expires(store: Arc<dyn Store>) {
    store.migrate().await.expect("migrate");
    assert!(store.acquire_lease("sweeper", "broker-a", 100, 0).await.unwrap());
    assert!(!store.acquire_lease("sweeper", "broker-b", 150, 50).await.unwrap(), "a holds it");
    assert!(store.acquire_lease("mailer", "broker-b", 150, 50).await.unwrap(), "another lease is another matter");
    assert!(store.acquire_lease("sweeper", "broker-a", 200, 90).await.unwrap(), "a renews");
    assert!(!store.acquire_lease("sweeper", "broker-b", 250, 150).await.unwrap(), "renewed until 200");

    // broker-a dies without a word; after 200 broker-b takes over.
    assert!(store.acquire_lease("sweeper", "broker-b", 300, 201).await.unwrap());
    assert!(!store.acquire_lease("sweeper", "broker-a", 300, 210).await.unwrap(), "a's old lease is over");
    store.release_lease("sweeper", "broker-a").await.unwrap();
    assert!(!store.acquire_lease("sweeper", "broker-c", 300, 220).await.unwrap(), "a cannot give back b's lease");

    // broker-b shuts down and gives it back: c needs not wait for 300.
    store.release_lease("sweeper", "broker-b").await.unwrap();
    assert!(store.acquire_lease("sweeper", "broker-c", 400, 230).await.unwrap());
    store.release_lease("nothing", "broker-c").await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// Change feed

/// A waiter subscribes and hears of every change to accounts, with whose account it is; a
/// refused transition says nothing.
pub async fn the_change_feed_carries_every_account_change_and_nothing_else(store: Arc<dyn Store>) {
    two_projects(&store).await;
    connect(&store, &account("ca_1", "u1", "github", 10), "s1", 1_000).await;
    let theirs = AccountRecord { project_id: OTHER_PROJECT.into(), ..account("ca_2", "u2", "slack", 20) };
    connect(&store, &theirs, "s2", 1_000).await;
    let mut feed = store.subscribe_changes();

    assert!(store.transition(&callback("ca_1", "s1", b"v1", 30)).await.unwrap().is_some());
    assert_eq!(next_change(&mut feed, "a callback").await, key(PROJECT, "u1", "ca_1"));
    assert_eq!(store.transition(&callback("ca_1", "s1", b"v1", 40)).await.unwrap(), None);
    no_change(&mut feed, "a refused transition").await;

    assert!(store.transition(&callback("ca_2", "s2", b"v1", 50)).await.unwrap().is_some());
    assert_eq!(next_change(&mut feed, "another project's callback").await, key(OTHER_PROJECT, "u2", "ca_2"));

    assert!(store.set_account_disabled(PROJECT, "ca_1", true, 60).await.unwrap());
    assert_eq!(next_change(&mut feed, "disabling").await, key(PROJECT, "u1", "ca_1"));
    assert!(store.set_account_disabled(PROJECT, "ca_1", false, 70).await.unwrap());
    assert_eq!(next_change(&mut feed, "enabling").await, key(PROJECT, "u1", "ca_1"));

    assert!(store.delete_account(PROJECT, "ca_1", 90).await.unwrap());
    assert_eq!(next_change(&mut feed, "a deletion").await, key(PROJECT, "u1", "ca_1"));
    assert_eq!(store.transition(&transition("ca_1", &AccountStatus::ALL, 80)).await.unwrap(), None);
    no_change(&mut feed, "a transition of a deleted account").await;
}

// ---------------------------------------------------------------------------------------------
// Races

/// The provider's redirect arrives many times at once (a double click, several brokers): one
/// callback finishes the account, the others find it finished.
pub async fn racing_callbacks_finish_an_account_once(store: Arc<dyn Store>) {
    two_projects(&store).await;
    connect(&store, &account("ca_1", "u1", "github", 10), "s1", 1_000).await;
    let results = race(CONTENDERS, |i| {
        let store = store.clone();
        async move { store.transition(&callback("ca_1", "s1", format!("token {i}").as_bytes(), 50)).await.unwrap() }
    })
    .await;
    let winners: Vec<&AccountRecord> = results.iter().flatten().collect();
    assert_eq!(winners.len(), 1, "exactly one callback applies");
    assert_eq!(get(&store, "ca_1").await, *winners[0], "and the account holds what it wrote");
}

/// Many callbacks present one `state` at once: exactly one may use it.
pub async fn racing_callbacks_consume_a_state_once(store: Arc<dyn Store>) {
    two_projects(&store).await;
    connect(&store, &account("ca_1", "u1", "github", 10), "s1", 1_000).await;
    let results = race(CONTENDERS, |_| {
        let store = store.clone();
        async move { store.consume_request("s1", 50).await.unwrap() }
    })
    .await;
    assert_eq!(results.iter().filter(|used| **used).count(), 1);
}

/// The sweeper expires links that ran out while their users' callbacks land: per account,
/// exactly one of the two wins, and the account shows the winner's outcome.
pub async fn an_expiry_racing_a_callback_leaves_one_outcome(store: Arc<dyn Store>) {
    two_projects(&store).await;
    const ACCOUNTS: usize = CONTENDERS / 2;
    for i in 0..ACCOUNTS {
        connect(&store, &account(&format!("ca_{i}"), "u1", "github", i as i64), &format!("s_{i}"), 100).await;
    }
    let due = store.due_links(PENDING, 100, ACCOUNTS as u32).await.unwrap();
    assert_eq!(due.len(), ACCOUNTS);
    let results = race(2 * ACCOUNTS, |i| {
        let (store, link) = (store.clone(), due[i / 2].clone());
        async move {
            let t = if i % 2 == 0 {
                expiry(&link.account_id, &link.state, 100)
            } else {
                callback(&link.account_id, &link.state, b"token", 100)
            };
            (link.account_id, i % 2 == 0, store.transition(&t).await.unwrap())
        }
    })
    .await;
    for i in 0..ACCOUNTS {
        let id = format!("ca_{i}");
        let outcomes: Vec<_> = results.iter().filter(|(a, _, row)| *a == id && row.is_some()).collect();
        assert_eq!(outcomes.len(), 1, "{id}: exactly one of expiry and callback applies");
        let (_, expired, row) = outcomes[0];
        let now = get(&store, &id).await;
        assert_eq!(Some(&now), row.as_ref(), "{id}: the account is as the winner left it");
        let expected =
            if *expired { (AccountStatus::Expired, None) } else { (AccountStatus::Active, Some(b"token".to_vec())) };
        assert_eq!((now.status, now.credentials_sealed), expected, "{id}");
    }
}

/// A project's first links for a toolkit all start at once: they all use one auth config.
pub async fn racing_first_uses_of_a_toolkit_share_one_auth_config(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let results = race(CONTENDERS, |i| {
        let store = store.clone();
        async move { store.insert_first_auth_config(&auth_config(&format!("ac_{i}"), "github", 10)).await.unwrap() }
    })
    .await;
    let in_force = &results[0];
    assert!(results.iter().all(|c| c == in_force), "every link got the same config");
    assert_eq!(store.list_auth_configs(PROJECT).await.unwrap(), std::slice::from_ref(in_force), "and only it was stored");
}

/// A sandbox code is exchanged by many token requests at once: one gets the tokens.
pub async fn racing_token_requests_take_a_code_once(store: Arc<dyn Store>) {
    store.migrate().await.expect("migrate");
    store.insert_sandbox_grant(&grant("h_code", SandboxGrantKind::Code, "fam_1", 10, 100), 100).await.unwrap();
    let results = race(CONTENDERS, |_| {
        let store = store.clone();
        async move { store.take_sandbox_grant(SandboxGrantKind::Code, "h_code", 50).await.unwrap() }
    })
    .await;
    assert_eq!(results.iter().flatten().count(), 1);
}

/// Many brokers start at once and all try to become the sweeper: one does.
pub async fn racing_workers_get_a_lease_once(store: Arc<dyn Store>) {
    store.migrate().await.expect("migrate");
    let results = race(CONTENDERS, |i| {
        let store = store.clone();
        async move { store.acquire_lease("sweeper", &format!("broker-{i}"), 100, 0).await.unwrap() }
    })
    .await;
    let winners: Vec<usize> = (0..CONTENDERS).filter(|i| results[*i]).collect();
    assert_eq!(winners.len(), 1, "one holder, got {winners:?}");
    assert!(
        store.acquire_lease("sweeper", &format!("broker-{}", winners[0]), 150, 50).await.unwrap(),
        "the winner holds it"
    );
    assert!(!store.acquire_lease("sweeper", "broker-late", 150, 50).await.unwrap());
}


// ---------------------------------------------------------------------------------------------
// Webhooks: the outbox, subscriptions, fan-out and delivery

fn subscription(id: &str, project: &str, created_at: i64) -> WebhookSubscriptionRecord {
    WebhookSubscriptionRecord {
        id: id.into(),
        project_id: project.into(),
        url: format!("https://hooks.test/{id}"),
        version: "V3".into(),
        enabled_events: vec![AccountEvent::Active.as_str().into()],
        secret_sealed: format!("sealed secret of {id}").into_bytes(),
        created_at,
        updated_at: created_at,
    }
}

fn delivery(id: &str, subscription: &str, event: &WebhookEventRecord, event_type: AccountEvent) -> NewDelivery {
    NewDelivery {
        id: id.into(),
        project_id: event.account.project_id.clone(),
        subscription_id: subscription.into(),
        event_id: event.id.clone(),
        account_id: event.account.id.clone(),
        sequence: event.sequence,
        event_type: event_type.as_str().into(),
        payload: format!("{{\"id\":\"{id}\"}}"),
        created_at: event.created_at,
    }
}

fn attempt_at(attempt: u32, at: i64, status_code: Option<u16>) -> AttemptRecord {
    AttemptRecord { attempt, at, status_code, latency_ms: 7, error: status_code.is_none().then(|| "connection refused".into()) }
}

fn claimed_ids(claimed: &[DeliveryRecord]) -> Vec<&str> {
    claimed.iter().map(|d| d.delivery.id.as_str()).collect()
}

/// An account connects, then is deleted: each change that is an event writes it, with the
/// account as it was and numbered 1, 2, …; a refused transition or one that is no event writes
/// nothing, and no event ever carries credentials.
pub async fn a_transition_writes_its_event_to_the_outbox_in_the_same_transaction(store: Arc<dyn Store>) {
    two_projects(&store).await;
    connect(&store, &account("ca_1", "u1", "github", 10), "s1", 1_000).await;
    assert!(store.undispatched_events(10).await.unwrap().is_empty(), "a link is not an event");

    assert!(store.transition(&callback("ca_1", "s_other", b"v1", 20)).await.unwrap().is_none());
    assert!(store.undispatched_events(10).await.unwrap().is_empty(), "a refused transition writes no event");
    assert!(store.transition(&callback("ca_1", "s1", b"v1", 20)).await.unwrap().is_some());
    assert!(store.transition(&transition("ca_1", &[AccountStatus::Active], 25)).await.unwrap().is_some());

    let events = store.undispatched_events(10).await.unwrap();
    assert_eq!(events.len(), 1, "a transition that is no event writes none: {events:?}");
    let active = &events[0];
    assert_eq!((active.kind, active.sequence, active.created_at), (AccountEvent::Active, 1, 20));
    assert!(active.id.starts_with("ev_"), "{}", active.id);
    assert_eq!(active.account, AccountRecord { credentials_sealed: None, ..get(&store, "ca_1").await }, "the account as it is, without credentials");

    assert!(store.delete_account(PROJECT, "ca_1", 30).await.unwrap());
    let events = store.undispatched_events(10).await.unwrap();
    assert_eq!(events.iter().map(|e| (e.kind, e.sequence)).collect::<Vec<_>>(), [(AccountEvent::Active, 1), (AccountEvent::Deleted, 2)]);
    assert_eq!((events[1].account.status, events[1].created_at), (AccountStatus::Active, 30), "the account as it was");
    assert!(!store.delete_account(PROJECT, "ca_1", 31).await.unwrap());
    assert_eq!(store.undispatched_events(10).await.unwrap().len(), 2, "deleting nothing writes no event");
    assert_eq!(store.undispatched_events(1).await.unwrap().len(), 1, "limit");

    // The account's history: newest first, within its project, fanned out or not.
    let history = store.account_events(PROJECT, "ca_1", 10).await.unwrap();
    assert_eq!(history.iter().map(|e| (e.kind, e.sequence)).collect::<Vec<_>>(), [(AccountEvent::Deleted, 2), (AccountEvent::Active, 1)]);
    store.dispatch_events(&[history[1].id.clone()], &[], 40).await.unwrap();
    assert_eq!(store.account_events(PROJECT, "ca_1", 1).await.unwrap(), history[..1].to_vec(), "limit");
    assert_eq!(store.account_events(PROJECT, "ca_1", 10).await.unwrap(), history, "fanned out or not");
    assert!(store.account_events(OTHER_PROJECT, "ca_1", 10).await.unwrap().is_empty(), "not across projects");
}

/// An app keeps two receivers; another project sees neither.
pub async fn webhook_subscriptions_are_kept_per_project(store: Arc<dyn Store>) {
    two_projects(&store).await;
    let first = subscription("ws_1", PROJECT, 10);
    store.insert_webhook_subscription(&first).await.unwrap();
    store.insert_webhook_subscription(&subscription("ws_2", PROJECT, 20)).await.unwrap();
    assert_eq!(store.get_webhook_subscription(PROJECT, "ws_1").await.unwrap(), Some(first.clone()));
    assert_eq!(store.get_webhook_subscription(OTHER_PROJECT, "ws_1").await.unwrap(), None);
    let listed = store.list_webhook_subscriptions(PROJECT).await.unwrap();
    assert_eq!(listed.iter().map(|w| w.id.as_str()).collect::<Vec<_>>(), ["ws_1", "ws_2"], "oldest first");
    assert!(store.list_webhook_subscriptions(OTHER_PROJECT).await.unwrap().is_empty());

    let changed = WebhookSubscriptionRecord {
        url: "https://hooks.test/new".into(),
        enabled_events: vec![AccountEvent::ComposioExpired.as_str().into(), AccountEvent::Revoked.as_str().into()],
        secret_sealed: b"rotated".to_vec(),
        updated_at: 30,
        ..first.clone()
    };
    assert!(store.update_webhook_subscription(&changed).await.unwrap());
    assert_eq!(store.get_webhook_subscription(PROJECT, "ws_1").await.unwrap(), Some(changed.clone()));
    assert!(!store.update_webhook_subscription(&WebhookSubscriptionRecord { project_id: OTHER_PROJECT.into(), ..changed }).await.unwrap());

    assert!(!store.delete_webhook_subscription(OTHER_PROJECT, "ws_1").await.unwrap(), "not across projects");
    assert!(store.delete_webhook_subscription(PROJECT, "ws_1").await.unwrap());
    assert!(!store.delete_webhook_subscription(PROJECT, "ws_1").await.unwrap(), "once");
    assert_eq!(store.get_webhook_subscription(PROJECT, "ws_1").await.unwrap(), None);
}

/// Two accounts' events reach one receiver. Fanning out twice writes each delivery once; an
/// account's second event waits for its first (pending, retried, leased), while the other
/// account's goes; attempts are recorded under the lease; the listing shows them; a manual
/// retry makes a failed delivery pending; old ended rows are purged.
pub async fn events_fan_out_once_and_each_accounts_deliveries_go_in_sequence(store: Arc<dyn Store>) {
    two_projects(&store).await;
    store.insert_webhook_subscription(&subscription("ws_1", PROJECT, 5)).await.unwrap();
    for (id, state, now) in [("ca_a", "sa", 20), ("ca_b", "sb", 21)] {
        connect(&store, &account(id, "u1", "github", 10), state, 1_000).await;
        assert!(store.transition(&callback(id, state, b"v1", now)).await.unwrap().is_some());
    }
    let revoke_a = Transition {
        status: Some((AccountStatus::Revoked, None)),
        event: Some(AccountEvent::Revoked),
        ..transition("ca_a", &[AccountStatus::Active], 30)
    };
    assert!(store.transition(&revoke_a).await.unwrap().is_some());
    let events = store.undispatched_events(10).await.unwrap();
    let (a1, b1, a2) = (&events[0], &events[1], &events[2]);
    assert_eq!([(a1.account.id.as_str(), a1.sequence), (b1.account.id.as_str(), b1.sequence), (a2.account.id.as_str(), a2.sequence)], [("ca_a", 1), ("ca_b", 1), ("ca_a", 2)]);

    // The account's second event is fanned out first: nothing of it goes while its first waits.
    store.dispatch_events(&[a2.id.clone()], &[delivery("msg_a2", "ws_1", a2, AccountEvent::Revoked)], 40).await.unwrap();
    assert!(store.claim_deliveries("broker-1", 40, 100, 10).await.unwrap().is_empty(), "ca_a's first event is not fanned out yet");
    let all = [delivery("msg_a1", "ws_1", a1, AccountEvent::Active), delivery("msg_b1", "ws_1", b1, AccountEvent::Active)];
    store.dispatch_events(&[a1.id.clone(), b1.id.clone()], &all, 41).await.unwrap();
    let again = [delivery("msg_a1_dup", "ws_1", a1, AccountEvent::Active)];
    store.dispatch_events(&[a1.id.clone()], &again, 42).await.unwrap();
    assert!(store.undispatched_events(10).await.unwrap().is_empty(), "every event is fanned out");
    assert_eq!(store.pending_deliveries().await.unwrap(), 3, "the second fan-out of a1 wrote nothing");

    let claimed = store.claim_deliveries("broker-1", 50, 100, 10).await.unwrap();
    assert_eq!(claimed_ids(&claimed), ["msg_a1", "msg_b1"], "a2 waits for a1");
    assert_eq!((claimed[0].status, claimed[0].attempts, claimed[0].delivery.payload.as_str()), (DeliveryStatus::Pending, 0, "{\"id\":\"msg_a1\"}"));
    assert!(store.claim_deliveries("broker-2", 60, 200, 10).await.unwrap().is_empty(), "leased until 100");

    // a1's receiver fails: a1 is retried later, a2 still waits; b1 is delivered.
    assert!(!store.finish_attempt("msg_a1", "broker-2", &attempt_at(1, 70, Some(500)), DeliveryNext::RetryAt(500)).await.unwrap(), "not broker-2's lease");
    assert!(store.finish_attempt("msg_a1", "broker-1", &attempt_at(1, 70, Some(500)), DeliveryNext::RetryAt(500)).await.unwrap());
    assert!(store.finish_attempt("msg_b1", "broker-1", &attempt_at(1, 70, Some(204)), DeliveryNext::Delivered).await.unwrap());
    assert!(!store.finish_attempt("msg_b1", "broker-1", &attempt_at(2, 71, Some(204)), DeliveryNext::Delivered).await.unwrap(), "the lease is released");
    assert!(store.claim_deliveries("broker-1", 200, 300, 10).await.unwrap().is_empty(), "a1 is not due before 500, and a2 waits for it");

    // A broker that claims and dies: its lease runs out and another broker takes the delivery.
    assert_eq!(claimed_ids(&store.claim_deliveries("broker-1", 500, 600, 10).await.unwrap()), ["msg_a1"]);
    assert_eq!(claimed_ids(&store.claim_deliveries("broker-2", 600, 700, 10).await.unwrap()), ["msg_a1"], "after the lease");
    assert!(store.finish_attempt("msg_a1", "broker-2", &attempt_at(2, 610, None), DeliveryNext::Failed).await.unwrap());
    let claimed = store.claim_deliveries("broker-2", 620, 700, 10).await.unwrap();
    assert_eq!(claimed_ids(&claimed), ["msg_a2"], "a failed delivery no longer holds the line");
    assert!(store.finish_attempt("msg_a2", "broker-2", &attempt_at(1, 630, Some(200)), DeliveryNext::Delivered).await.unwrap());
    assert_eq!(store.pending_deliveries().await.unwrap(), 0);

    let (page, total) = store.list_deliveries(PROJECT, "ws_1", 0, 10).await.unwrap();
    assert_eq!(total, 3);
    let shown: Vec<(&str, DeliveryStatus, Vec<(u32, Option<u16>)>)> = page
        .iter()
        .map(|(d, attempts)| (d.delivery.id.as_str(), d.status, attempts.iter().map(|a| (a.attempt, a.status_code)).collect()))
        .collect();
    assert_eq!(
        shown,
        [
            ("msg_a2", DeliveryStatus::Delivered, vec![(1, Some(200))]),
            ("msg_b1", DeliveryStatus::Delivered, vec![(1, Some(204))]),
            ("msg_a1", DeliveryStatus::Failed, vec![(1, Some(500)), (2, None)]),
        ],
        "newest first, attempts oldest first"
    );
    assert_eq!(page[2].1[1], attempt_at(2, 610, None));
    assert_eq!(store.list_deliveries(PROJECT, "ws_1", 2, 10).await.unwrap().0.len(), 1, "offset");
    assert_eq!(store.list_deliveries(OTHER_PROJECT, "ws_1", 0, 10).await.unwrap(), (vec![], 0));

    assert!(!store.retry_delivery(OTHER_PROJECT, "ws_1", "msg_a1", 700).await.unwrap());
    assert!(store.retry_delivery(PROJECT, "ws_1", "msg_a1", 700).await.unwrap());
    let retried = store.claim_deliveries("broker-1", 700, 800, 10).await.unwrap();
    assert_eq!((claimed_ids(&retried), retried[0].attempts), (vec!["msg_a1"], 2), "a manual retry keeps the count");
    assert!(store.finish_attempt("msg_a1", "broker-1", &attempt_at(3, 710, Some(200)), DeliveryNext::Delivered).await.unwrap());

    // Retention: ended deliveries and fanned-out events go; deleting the subscription takes the rest.
    let before = |webhooks| PurgeBefore { links: i64::MIN, client_tokens: i64::MIN, mcp_credentials: i64::MIN, mcp_logins: i64::MIN, accounts: i64::MIN, webhooks, logs: i64::MIN };
    assert_eq!(store.purge(&before(41)).await.unwrap().webhooks, 1, "a2's event, fanned out at 40");
    assert_eq!(store.purge(&before(10_000)).await.unwrap().webhooks, 2 + 3);
    assert_eq!(store.list_deliveries(PROJECT, "ws_1", 0, 10).await.unwrap().1, 0);
    connect(&store, &account("ca_c", "u1", "github", 10), "sc", 1_000).await;
    assert!(store.transition(&callback("ca_c", "sc", b"v1", 20)).await.unwrap().is_some());
    let c1 = store.undispatched_events(10).await.unwrap().remove(0);
    store.dispatch_events(&[c1.id.clone()], &[delivery("msg_c1", "ws_1", &c1, AccountEvent::Active)], 50).await.unwrap();
    assert!(store.delete_webhook_subscription(PROJECT, "ws_1").await.unwrap());
    assert_eq!(store.pending_deliveries().await.unwrap(), 0, "its deliveries went with it");
}

/// Several brokers claim at once: each delivery is leased to exactly one of them.
pub async fn racing_brokers_claim_each_delivery_once(store: Arc<dyn Store>) {
    two_projects(&store).await;
    store.insert_webhook_subscription(&subscription("ws_1", PROJECT, 5)).await.unwrap();
    let mut deliveries = vec![];
    for i in 0..20 {
        let (id, state) = (format!("ca_{i}"), format!("s{i}"));
        connect(&store, &account(&id, "u1", "github", 10), &state, 1_000).await;
        assert!(store.transition(&callback(&id, &state, b"v1", 20)).await.unwrap().is_some());
    }
    let events = store.undispatched_events(100).await.unwrap();
    for (i, e) in events.iter().enumerate() {
        deliveries.push(delivery(&format!("msg_{i}"), "ws_1", e, AccountEvent::Active));
    }
    let ids: Vec<String> = events.iter().map(|e| e.id.clone()).collect();
    store.dispatch_events(&ids, &deliveries, 30).await.unwrap();
    let results = race(CONTENDERS, |i| {
        let store = store.clone();
        async move { store.claim_deliveries(&format!("broker-{i}"), 40, 100, 5).await.unwrap() }
    })
    .await;
    let mut all: Vec<String> = results.iter().flatten().map(|d| d.delivery.id.clone()).collect();
    let claimed = all.len();
    all.sort();
    all.dedup();
    assert_eq!(all.len(), claimed, "a delivery claimed twice");
    assert_eq!(claimed, 20.min(5 * CONTENDERS), "every delivery is claimed by someone");
}

// ---------------------------------------------------------------------------------------------
// The project profile and user verification

/// The app names itself, sets a logo, changes its name (the logo stays), and removes the logo
/// (the name stays); the other project sees none of it.
pub async fn a_project_profile_and_its_logo_are_kept_apart_and_per_project(store: Arc<dyn Store>) {
    two_projects(&store).await;
    assert_eq!(store.project_profile(PROJECT).await.unwrap(), None);
    assert_eq!(store.project_logo(PROJECT).await.unwrap(), None);

    let profile = ProjectProfileRecord {
        project_id: PROJECT.into(),
        display_name: Some("Acme".into()),
        support_url: Some("https://acme.test/help".into()),
        user_verification_url: Some("https://acme.test/verify".into()),
        verify_connect_links: true,
        logo: None,
        updated_at: 10,
    };
    store.put_project_profile(&profile).await.unwrap();
    assert_eq!(store.project_profile(PROJECT).await.unwrap(), Some(profile.clone()));

    let png = ProjectLogo { meta: LogoRef { content_type: "image/png".into(), sha256: "ab12".into() }, data: vec![0x89, b'P', b'N', b'G', 0, 1, 2] };
    store.set_project_logo(PROJECT, Some(&png), 20).await.unwrap();
    assert_eq!(store.project_logo(PROJECT).await.unwrap(), Some(png.clone()));
    let with_logo = store.project_profile(PROJECT).await.unwrap().unwrap();
    assert_eq!((with_logo.logo, with_logo.display_name.as_deref()), (Some(png.meta.clone()), Some("Acme")));

    // Writing the fields leaves the logo; clearing a field stores NULL.
    let renamed = ProjectProfileRecord { display_name: None, verify_connect_links: false, updated_at: 30, ..profile.clone() };
    store.put_project_profile(&renamed).await.unwrap();
    let read = store.project_profile(PROJECT).await.unwrap().unwrap();
    assert_eq!(read, ProjectProfileRecord { logo: Some(png.meta.clone()), ..renamed.clone() });

    // A logo alone makes a profile for a project that had none.
    store.set_project_logo(OTHER_PROJECT, Some(&png), 40).await.unwrap();
    let other = store.project_profile(OTHER_PROJECT).await.unwrap().unwrap();
    assert_eq!((other.display_name, other.verify_connect_links, other.logo), (None, false, Some(png.meta.clone())));

    store.set_project_logo(PROJECT, None, 50).await.unwrap();
    assert_eq!(store.project_logo(PROJECT).await.unwrap(), None);
    assert_eq!(store.project_profile(PROJECT).await.unwrap().unwrap().support_url.as_deref(), Some("https://acme.test/help"));
    assert_eq!(store.project_logo(OTHER_PROJECT).await.unwrap(), Some(png));
}

fn verification(id_hash: &str, link_state_hash: Option<&str>, expires_at: i64) -> UserVerificationRecord {
    UserVerificationRecord {
        id_hash: id_hash.into(),
        project_id: PROJECT.into(),
        purpose: "connect_link".into(),
        subject: "ca_1".into(),
        link_state_hash: link_state_hash.map(str::to_string),
        expected_user_id: "alice".into(),
        confirmed_user_id: None,
        cookie_name: format!("cookie_{id_hash}"),
        binding_hash: format!("binding of {id_hash}"),
        status: VerificationStatus::Pending,
        created_at: 1,
        expires_at,
        updated_at: 1,
    }
}

/// A flow is confirmed once, passed once, and neither after it expired; only PASSED flows let a
/// link through.
pub async fn a_user_verification_moves_once_from_each_status_and_never_after_expiry(store: Arc<dyn Store>) {
    use VerificationStatus::*;
    two_projects(&store).await;
    let flow = verification("h1", Some("state-1"), 1_000);
    store.insert_user_verification(&flow).await.unwrap();
    assert_eq!(store.user_verification("h1").await.unwrap(), Some(flow.clone()));
    assert_eq!(store.user_verification("h-nobody").await.unwrap(), None);
    assert!(store.passed_link_verifications("state-1").await.unwrap().is_empty());

    assert!(!store.advance_user_verification("h1", Confirmed, Passed, None, 10).await.unwrap(), "not confirmed yet");
    assert!(store.advance_user_verification("h1", Pending, Confirmed, Some("alice"), 10).await.unwrap());
    assert!(!store.advance_user_verification("h1", Pending, Mismatched, Some("mallory"), 11).await.unwrap(), "confirmed once");
    let confirmed = store.user_verification("h1").await.unwrap().unwrap();
    assert_eq!((confirmed.status, confirmed.confirmed_user_id.as_deref(), confirmed.updated_at), (Confirmed, Some("alice"), 10));
    assert!(store.advance_user_verification("h1", Confirmed, Passed, None, 20).await.unwrap());
    assert!(!store.advance_user_verification("h1", Confirmed, Passed, None, 21).await.unwrap(), "passed once");
    let passed = store.user_verification("h1").await.unwrap().unwrap();
    assert_eq!((passed.status, passed.confirmed_user_id.as_deref()), (Passed, Some("alice")), "the confirmed user is kept");
    assert_eq!(store.passed_link_verifications("state-1").await.unwrap(), vec![passed]);
    assert!(store.passed_link_verifications("state-2").await.unwrap().is_empty());

    // An expired flow moves no more.
    store.insert_user_verification(&verification("h2", Some("state-2"), 100)).await.unwrap();
    assert!(!store.advance_user_verification("h2", Pending, Confirmed, Some("alice"), 100).await.unwrap());
    assert_eq!(store.user_verification("h2").await.unwrap().unwrap().status, Pending);
    // A mismatch is a status of its own, and lets nothing through.
    store.insert_user_verification(&verification("h3", Some("state-3"), 1_000)).await.unwrap();
    assert!(store.advance_user_verification("h3", Pending, Mismatched, Some("mallory"), 10).await.unwrap());
    assert!(store.passed_link_verifications("state-3").await.unwrap().is_empty());
    // The id is unique.
    assert!(matches!(store.insert_user_verification(&verification("h1", None, 1_000)).await, Err(crate::Error::Conflict(_))));

    // The retention sweeper drops flows that expired before its links' horizon, and only those.
    let before = PurgeBefore { links: 500, client_tokens: 0, mcp_credentials: 0, mcp_logins: 0, accounts: 0, webhooks: 0, logs: 0 };
    assert_eq!(store.purge(&before).await.unwrap().links, 1);
    assert_eq!(store.user_verification("h2").await.unwrap(), None);
    assert!(store.user_verification("h1").await.unwrap().is_some() && store.user_verification("h3").await.unwrap().is_some());
}

/// Two confirmations of one flow race (the right user and another): exactly one applies.
pub async fn racing_confirmations_of_a_user_verification_apply_once(store: Arc<dyn Store>) {
    two_projects(&store).await;
    store.insert_user_verification(&verification("h1", Some("s"), i64::MAX)).await.unwrap();
    let wins = race(8, |i| {
        let store = store.clone();
        async move {
            let (to, who) = if i % 2 == 0 { (VerificationStatus::Confirmed, "alice") } else { (VerificationStatus::Mismatched, "mallory") };
            store.advance_user_verification("h1", VerificationStatus::Pending, to, Some(who), 5).await.unwrap()
        }
    })
    .await;
    assert_eq!(wins.iter().filter(|w| **w).count(), 1);
    let flow = store.user_verification("h1").await.unwrap().unwrap();
    let expected = if flow.status == VerificationStatus::Confirmed { "alice" } else { "mallory" };
    assert_eq!(flow.confirmed_user_id.as_deref(), Some(expected));
}
