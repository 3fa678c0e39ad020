//! `PostgresStore` on a real server: `GRANTLINE_TEST_POSTGRES_URL` names one the tests may
//! create databases on (each test works in a fresh database of its own). Without it every test
//! says SKIPPED and passes, unless `GRANTLINE_REQUIRE_POSTGRES=1` (CI), where it fails.
//!
//! ```text
//! pg_virtualenv -- sh -c 'GRANTLINE_TEST_POSTGRES_URL=postgres://$PGUSER:$PGPASSWORD@$PGHOST:${PGPORT:-5432}/postgres \
//!     cargo test -p grantline-core --features postgres,conformance --test postgres_store'
//! ```
#![cfg(feature = "postgres")]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use grantline_core::engine::store::*;
use grantline_core::model::AccountStatus;
use grantline_core::Error;
use tokio::sync::broadcast;
use tokio_postgres::NoTls;

/// The test server's URL, or `None` (after a loud line) when none is configured.
fn server() -> Option<String> {
    match std::env::var("GRANTLINE_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("GRANTLINE_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "GRANTLINE_REQUIRE_POSTGRES=1 but GRANTLINE_TEST_POSTGRES_URL is not set"
            );
            eprintln!("SKIPPED: PostgreSQL store tests: set GRANTLINE_TEST_POSTGRES_URL=postgres://user:password@host:port/db");
            None
        }
    }
}

/// A database made for one test, dropped by [`TestDb::drop_now`] (a failed test leaves it for
/// a look).
struct TestDb {
    admin: String,
    name: String,
    url: String,
}

static DATABASES: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    async fn new(admin: &str) -> Self {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis();
        let name = format!("grantline_t_{}_{stamp}_{}", std::process::id(), DATABASES.fetch_add(1, Ordering::SeqCst));
        sql(admin, &format!("CREATE DATABASE {name}")).await;
        let mut url = url::Url::parse(admin).expect("GRANTLINE_TEST_POSTGRES_URL is a postgres:// URL");
        url.set_path(&format!("/{name}"));
        Self { admin: admin.to_string(), name, url: url.to_string() }
    }

    async fn store(&self) -> PostgresStore {
        PostgresStore::connect(&self.url).await.expect("connect")
    }

    async fn drop_now(self) {
        sql(&self.admin, &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)).await;
    }
}

/// Runs `statements` on `url` over a plain connection of the test's own.
async fn sql(url: &str, statements: &str) -> Vec<tokio_postgres::SimpleQueryMessage> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await.expect("connect to the test server");
    let driver = tokio::spawn(connection);
    let out = client.simple_query(statements).await.unwrap_or_else(|e| panic!("{statements}: {e}"));
    drop(client);
    let _ = driver.await;
    out
}

/// The first column of the first row `query` returns.
async fn scalar(url: &str, query: &str) -> Option<String> {
    sql(url, query).await.into_iter().find_map(|m| match m {
        tokio_postgres::SimpleQueryMessage::Row(r) => Some(r.get(0).map(str::to_string)),
        _ => None,
    })?
}

fn project(id: &str) -> Project {
    Project { id: id.into(), name: "app".into(), allowed_callback_urls: vec!["https://app.test".into()], allowed_origins: vec![], created_at: 1 }
}

fn account(id: &str, user: &str) -> AccountRecord {
    AccountRecord {
        id: id.into(),
        project_id: "pr_1".into(),
        user_id: user.into(),
        toolkit: "github".into(),
        auth_config_id: "ac_1".into(),
        auth_scheme: "OAUTH2".into(),
        alias: None,
        status: AccountStatus::Initiated,
        status_reason: None,
        is_disabled: false,
        credentials_sealed: None,
        created_at: 10,
        updated_at: 10,
    }
}

fn link(account_id: &str, state: &str) -> ConnectionRequestRecord {
    ConnectionRequestRecord {
        account_id: account_id.into(),
        project_id: "pr_1".into(),
        link_token: format!("ln_{state}"),
        state: state.into(),
        pkce_verifier_sealed: Some(b"verifier".to_vec()),
        callback_url: None,
        expires_at: 1_000,
        consumed_at: None,
        kind: RequestKind::Connect,
    }
}

fn callback(account_id: &str, state: &str, token: &[u8]) -> Transition {
    Transition {
        account_id: account_id.into(),
        guard: Guard {
            from: vec![AccountStatus::Initializing, AccountStatus::Initiated],
            request_state: Some(state.into()),
            credentials: None,
        },
        status: Some((AccountStatus::Active, None)),
        credentials: CredentialsChange::Set(token.to_vec()),
        request: RequestChange::Keep,
        now: 50,
        event: Some(grantline_core::model::AccountEvent::Active),
    }
}

/// A migrated store in a fresh database holding project `pr_1` and its INITIATED `ca_1`
/// (link `s0`).
async fn with_account(admin: &str) -> (TestDb, PostgresStore) {
    let db = TestDb::new(admin).await;
    let store = db.store().await;
    store.migrate().await.unwrap();
    store.insert_project(&project("pr_1")).await.unwrap();
    store.insert_connection(&account("ca_1", "ada"), &link("ca_1", "s0")).await.unwrap();
    (db, store)
}

async fn next_account_change(feed: &mut broadcast::Receiver<StoreChange>) -> AccountKey {
    loop {
        match tokio::time::timeout(Duration::from_secs(5), feed.recv()).await.expect("a change within 5 s") {
            Ok(StoreChange::Account(key)) => return key,
            Ok(StoreChange::Resync) => continue,
            Err(e) => panic!("change feed: {e}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn brokers_starting_together_migrate_once_and_migrating_again_changes_nothing() {
    let Some(admin) = server() else { return };
    let db = TestDb::new(&admin).await;
    let stores = futures_util::future::join_all((0..4).map(|_| db.store())).await;
    let runs = futures_util::future::join_all(stores.iter().map(|s| s.migrate())).await;
    assert!(runs.iter().all(Result::is_ok), "{runs:?}");
    stores[0].migrate().await.expect("migrating twice is a no-op");
    // Each step ran once: as many rows as steps, numbered from 1.
    let once = "SELECT (count(*) = max(version) AND count(DISTINCT version) = count(*))::text FROM grantline_schema_migrations";
    assert_eq!(scalar(&db.url, once).await.as_deref(), Some("true"));

    stores[1].insert_project(&project("pr_1")).await.unwrap();
    assert_eq!(stores[2].get_project("pr_1").await.unwrap(), Some(project("pr_1")));
    assert_eq!(stores[3].first_project().await.unwrap().map(|p| p.id), Some("pr_1".into()));
    let dup = stores[0].insert_project(&project("pr_1")).await.unwrap_err();
    assert!(matches!(dup, Error::Conflict(_)), "a duplicate is a conflict: {dup:?}");
    drop(stores);
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_transition_applies_while_its_guard_holds_and_is_announced_to_every_broker() {
    let Some(admin) = server() else { return };
    let (db, store) = with_account(&admin).await;
    let other_broker = db.store().await;
    let mut feed = other_broker.subscribe_changes();
    let mut own_feed = store.subscribe_changes();

    assert_eq!(store.transition(&callback("ca_1", "s_other", b"t")).await.unwrap(), None, "another link's state");
    let done = store.transition(&callback("ca_1", "s0", b"token")).await.unwrap().expect("the guard holds");
    assert_eq!((done.status, done.credentials_sealed.as_deref(), done.updated_at), (AccountStatus::Active, Some(&b"token"[..]), 50));
    let expected = AccountKey { project_id: "pr_1".into(), user_id: "ada".into(), account_id: "ca_1".into() };
    assert_eq!(next_account_change(&mut feed).await, expected, "the other broker hears of it");
    assert_eq!(next_account_change(&mut own_feed).await, expected, "and so does this one, through LISTEN");
    assert_eq!(store.transition(&callback("ca_1", "s0", b"again")).await.unwrap(), None, "no longer pending");

    // Credentials guard and a replaced request.
    let refresh = |expected: &[u8], new: &[u8]| Transition {
        account_id: "ca_1".into(),
        guard: Guard { from: vec![AccountStatus::Active], request_state: None, credentials: Some(expected.to_vec()) },
        status: None,
        credentials: CredentialsChange::Set(new.to_vec()),
        request: RequestChange::Replace(ConnectionRequestRecord { kind: RequestKind::Reconnect, ..link("ca_1", "s1") }),
        now: 60,
        event: Some(grantline_core::model::AccountEvent::TokenRefreshed),
    };
    assert_eq!(store.transition(&refresh(b"stale", b"x")).await.unwrap(), None);
    assert!(store.transition(&refresh(b"token", b"token2")).await.unwrap().is_some());
    assert!(store.request_by_state("s0").await.unwrap().is_none(), "the older link is gone");
    assert_eq!(store.request_by_state("s1").await.unwrap().unwrap().kind, RequestKind::Reconnect);

    assert!(other_broker.set_account_disabled("pr_1", "ca_1", true, 70).await.unwrap());
    assert_eq!(next_account_change(&mut feed).await, expected, "disabling is announced");
    assert!(other_broker.delete_account("pr_1", "ca_1", 80).await.unwrap());
    assert_eq!(next_account_change(&mut feed).await, expected, "deleting is announced");
    assert!(store.request_by_state("s1").await.unwrap().is_none(), "the request went with the account");
    drop((store, other_broker));
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lease_is_refused_to_another_holder_until_it_expires() {
    let Some(admin) = server() else { return };
    let db = TestDb::new(&admin).await;
    let (a, b) = (db.store().await, db.store().await);
    a.migrate().await.unwrap();
    assert!(a.acquire_lease("refresh:ca_1", "broker-a", 100, 0).await.unwrap());
    assert!(!b.acquire_lease("refresh:ca_1", "broker-b", 150, 50).await.unwrap(), "held by a");
    assert!(a.acquire_lease("refresh:ca_1", "broker-a", 200, 60).await.unwrap(), "a renews its own");
    assert!(!b.acquire_lease("refresh:ca_1", "broker-b", 250, 199).await.unwrap());
    assert!(b.acquire_lease("refresh:ca_1", "broker-b", 300, 200).await.unwrap(), "a dead holder blocks no one past expiry");
    a.release_lease("refresh:ca_1", "broker-a").await.unwrap();
    assert!(!a.acquire_lease("refresh:ca_1", "broker-a", 300, 210).await.unwrap(), "a gave back nothing it held");
    b.release_lease("refresh:ca_1", "broker-b").await.unwrap();
    assert!(a.acquire_lease("refresh:ca_1", "broker-a", 300, 210).await.unwrap());
    drop((a, b));
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_lost_listener_reconnects_and_tells_waiters_to_re_read() {
    let Some(admin) = server() else { return };
    let (db, store) = with_account(&admin).await;
    let mut feed = store.subscribe_changes();
    let killed = scalar(
        &db.url,
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE application_name = 'grantline-listener' AND datname = current_database()",
    )
    .await;
    assert_eq!(killed.as_deref(), Some("1"), "one listener per store");
    let resync = tokio::time::timeout(Duration::from_secs(10), feed.recv()).await.expect("a resync within 10 s");
    assert_eq!(resync.unwrap(), StoreChange::Resync);
    // And it listens again.
    store.transition(&callback("ca_1", "s0", b"token")).await.unwrap().expect("applies");
    assert_eq!(next_account_change(&mut feed).await.account_id, "ca_1");

    // Dropping the store ends its listener.
    drop(store);
    let mut gone = false;
    for _ in 0..50 {
        let left = scalar(
            &db.url,
            "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'grantline%' AND datname = current_database()",
        )
        .await;
        if left.as_deref() == Some("0") {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "a dropped store leaves no connection behind");
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_row_this_broker_cannot_read_is_an_error_naming_its_column() {
    let Some(admin) = server() else { return };
    let (db, store) = with_account(&admin).await;
    sql(&db.url, "UPDATE accounts SET status = 'HALF_CONNECTED' WHERE id = 'ca_1'").await;
    let err = store.get_account("pr_1", "ca_1").await.unwrap_err();
    assert!(matches!(&err, Error::Internal(m) if m.contains("accounts.status") && m.contains("HALF_CONNECTED")), "{err:?}");
    sql(&db.url, "UPDATE projects SET allowed_origins = 'not json' WHERE id = 'pr_1'").await;
    let err = store.get_project("pr_1").await.unwrap_err();
    assert!(matches!(&err, Error::Internal(m) if m.contains("projects.allowed_origins")), "{err:?}");
    sql(&db.url, "UPDATE connection_requests SET kind = 'teleport'").await;
    let err = store.request_by_state("s0").await.unwrap_err();
    assert!(matches!(&err, Error::Internal(m) if m.contains("connection_requests.kind")), "{err:?}");
    drop(store);
    db.drop_now().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_refused_connection_is_unavailable_and_never_shows_the_password() {
    let Some(admin) = server() else { return };
    let mut url = url::Url::parse(&admin).unwrap();
    url.set_password(Some("wrong-horse-battery")).unwrap();
    let err = PostgresStore::connect(url.as_str()).await.err().expect("a wrong password is refused");
    assert!(matches!(err, Error::Unavailable { retry_after: 1, .. }), "{err:?}");
    assert!(!err.to_string().contains("wrong-horse-battery"), "{err}");
    let err = PostgresStore::connect("postgres://u:wrong-horse-battery@127.0.0.1:1/db?sslmode=disable").await.err().unwrap();
    assert!(matches!(err, Error::Unavailable { .. }) && !err.to_string().contains("wrong-horse-battery"), "{err}");
}

/// TLS as libpq does it, when the test server speaks TLS (Debian's clusters do, with a
/// self-signed certificate): `require` encrypts without checking it, `verify-full` refuses it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn require_encrypts_and_verify_full_checks_the_certificate() {
    let Some(admin) = server() else { return };
    if scalar(&admin, "SHOW ssl").await.as_deref() != Some("on") {
        eprintln!("SKIPPED: TLS checks: the test server has ssl = off");
        return;
    }
    let db = TestDb::new(&admin).await;
    let with = |mode: &str| {
        let mut u = url::Url::parse(&db.url).unwrap();
        u.query_pairs_mut().append_pair("sslmode", mode);
        u.to_string()
    };
    let store = PostgresStore::connect(&with("require")).await.expect("require accepts a self-signed certificate");
    store.migrate().await.unwrap();
    let encrypted = scalar(
        &db.url,
        "SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
         WHERE s.ssl AND a.application_name LIKE 'grantline%' AND a.datname = current_database()",
    )
    .await;
    assert!(encrypted.as_deref().is_some_and(|n| n != "0"), "the store's connections use TLS: {encrypted:?}");
    let err = PostgresStore::connect(&with("verify-full")).await.err().expect("verify-full refuses an unknown issuer");
    assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    drop(store);

    // With the server's own (self-signed) certificate as the root, when the test can read it:
    // verify-ca accepts it under any host name, verify-full only under the one it names.
    let cert = scalar(&admin, "SHOW ssl_cert_file").await.unwrap_or_default();
    let names_localhost = std::fs::read_to_string(&cert).is_ok() && url::Url::parse(&db.url).unwrap().host_str() == Some("localhost");
    if names_localhost {
        let at = |host: &str, mode: &str| {
            let mut u = url::Url::parse(&db.url).unwrap();
            u.set_host(Some(host)).unwrap();
            u.query_pairs_mut().append_pair("sslmode", mode).append_pair("sslrootcert", &cert);
            u.to_string()
        };
        PostgresStore::connect(&at("localhost", "verify-full")).await.expect("verify-full: the right root and name");
        PostgresStore::connect(&at("127.0.0.1", "verify-ca")).await.expect("verify-ca: the right root, any name");
        PostgresStore::connect(&at("127.0.0.1", "require")).await.expect("require with a root: verify-ca");
        let err = PostgresStore::connect(&at("127.0.0.1", "verify-full")).await.err().expect("verify-full: a name the certificate lacks");
        assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
    } else {
        eprintln!("SKIPPED: verify-ca/verify-full with sslrootcert: {cert:?} is not readable here or the server is not `localhost`");
    }
    db.drop_now().await;
}

/// A fresh link (the status kept) races the callback of the link it replaces: the callback
/// applies only if it came first. (Under READ COMMITTED the state guard would otherwise be
/// re-checked against the snapshot taken before the fresh link committed.)
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_callback_racing_a_fresh_link_never_lands_on_the_fresh_one() {
    let Some(admin) = server() else { return };
    let db = TestDb::new(&admin).await;
    let store = db.store().await;
    store.migrate().await.unwrap();
    store.insert_project(&project("pr_1")).await.unwrap();
    const ACCOUNTS: usize = 40;
    for i in 0..ACCOUNTS {
        store.insert_connection(&account(&format!("ca_{i}"), "ada"), &link(&format!("ca_{i}"), &format!("old_{i}"))).await.unwrap();
    }
    let tasks = (0..2 * ACCOUNTS).map(|n| {
        let store = store.clone();
        let (i, renew) = (n / 2, n % 2 == 0);
        tokio::spawn(async move {
            let id = format!("ca_{i}");
            let t = if renew {
                Transition {
                    guard: Guard { from: vec![AccountStatus::Initiated], request_state: None, credentials: None },
                    status: None,
                    credentials: CredentialsChange::Keep,
                    request: RequestChange::Replace(link(&id, &format!("new_{i}"))),
                    ..callback(&id, "", b"")
                }
            } else {
                callback(&id, &format!("old_{i}"), b"token")
            };
            store.transition(&t).await.unwrap().is_some()
        })
    });
    let applied: Vec<bool> = futures_util::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
    for i in 0..ACCOUNTS {
        let (renewed, called_back) = (applied[2 * i], applied[2 * i + 1]);
        let a = store.get_account("pr_1", &format!("ca_{i}")).await.unwrap().unwrap();
        let state = store.request_by_account("pr_1", &a.id).await.unwrap().unwrap().state;
        match (renewed, called_back) {
            (true, false) => assert_eq!((a.status, state), (AccountStatus::Initiated, format!("new_{i}"))),
            (false, true) => assert_eq!((a.status, state), (AccountStatus::Active, format!("old_{i}"))),
            both => panic!("ca_{i}: renewed and called back = {both:?}, the account {:?} with link {state}", a.status),
        }
    }
    drop(store);
    db.drop_now().await;
}

/// The store contract every store passes, each case on a fresh database.
#[cfg(feature = "conformance")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_passes_the_store_conformance_suite() {
    let Some(admin) = server() else { return };
    let made = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let fresh = || {
        let (admin, made) = (admin.clone(), made.clone());
        async move {
            let db = TestDb::new(&admin).await;
            let store = db.store().await;
            made.lock().unwrap().push(db);
            store
        }
    };
    grantline_core::engine::store::conformance::run(fresh).await;
    let made = std::mem::take(&mut *made.lock().unwrap());
    for db in made {
        db.drop_now().await;
    }
}
