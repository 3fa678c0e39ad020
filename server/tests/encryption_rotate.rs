//! Rotating the encryption key on a broker's SQLite file: `grantline encryption rotate` re-seals
//! every stored secret with the keyring's new key, can stop after a batch and go on when run
//! again, and the old key is needed by no one afterwards.

mod common;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use common::{Broker, BrokerOptions, Browser};
use grantline_core::engine::store::{SealedColumn, SqliteStore, Store};
use grantline_core::engine::vault::Vault;
use grantline_core::model::AccountStatus;
use grantline_core::{AuthorizeOptions, SessionOptions};

const NEW_KEY: &str = "bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleSE=";

fn rotate(db: &std::path::Path, keyring: &str, extra: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_grantline"))
        .args(["encryption", "rotate", "--database-url", &format!("sqlite://{}", db.display()), "--encryption-keys", keyring])
        .args(extra)
        .env("GRANTLINE_LOG", "warn")
        .output()
        .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "rotate failed: {said}");
    let keys = keyring.split(',').filter_map(|entry| entry.split_once(':')).map(|(_, key)| key);
    assert!(keys.clone().all(|key| !said.contains(key)), "a key was printed: {said}");
    said
}

/// How many of the file's sealed values open with `vault`, of how many.
async fn opening(db: &std::path::Path, vault: &Vault) -> (usize, usize) {
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(db).unwrap());
    let (mut open, mut all) = (0, 0);
    for column in SealedColumn::ALL {
        // No value begins with 0xff: every value is listed.
        for v in store.sealed_values(column, &[0xff], None, 10_000).await.unwrap() {
            all += 1;
            open += usize::from(vault.open(&v.key, &v.sealed).is_ok());
        }
    }
    (open, all)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotation_reseals_every_secret_resumes_when_stopped_and_leaves_the_old_key_unneeded() {
    let mut broker = Broker::start(BrokerOptions::default());
    let gl = broker.client();
    let session = gl.create("ada", SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() }).await.unwrap();
    let mut active = vec![];
    for i in 0..4 {
        let link = session.authorize("sandbox", AuthorizeOptions { alias: Some(format!("a{i}")), ..Default::default() }).await.unwrap();
        Browser::new().sandbox_consent(link.redirect_url(), true).await;
        active.push(link.id().to_string());
    }
    // A link left open across the rotation: its PKCE verifier is sealed too.
    let pending = session.authorize("sandbox", AuthorizeOptions { alias: Some("pending".into()), ..Default::default() }).await.unwrap();
    broker.kill();

    let old_only = Vault::from_base64(&broker.key).unwrap();
    let new_only = Vault::from_keyring(&format!("new:{NEW_KEY}")).unwrap();
    let (opened, total) = opening(&broker.db_path, &old_only).await;
    assert!(total >= 1 + 4 + 5, "an auth config's secret, 4 accounts' tokens, 5 verifiers: {total}");
    assert_eq!(opened, total);
    assert_eq!(opening(&broker.db_path, &new_only).await.0, 0);

    // The keyring: the new key first, the old one (the lone key is `default`) until the end.
    let ring = format!("new:{NEW_KEY},default:{}", broker.key);
    let stopped = rotate(&broker.db_path, &ring, &["--batch-size", "2", "--max-batches", "1"]);
    println!("{stopped}");
    assert!(stopped.contains("stopped after 1 batches"), "{stopped}");
    assert_eq!(opening(&broker.db_path, &new_only).await.0, 2, "one batch of two");

    // Mid-rotation, a broker with the keyring uses values sealed with either key.
    broker.opts.encryption_keys = Some(ring.clone());
    broker.restart();
    let gl = broker.client();
    let session = gl.use_session(session.session_id()).await.unwrap();
    for id in &active {
        let me = session.execute("SANDBOX_GET_CURRENT_USER", Default::default(), Some(id.clone())).await.unwrap();
        assert!(me.successful, "{id} mid-rotation: {me:?}");
    }
    broker.kill();

    let done = rotate(&broker.db_path, &ring, &["--batch-size", "2"]);
    println!("{done}");
    assert!(done.lines().last().unwrap().starts_with("done: "), "{done}");
    let (opened, total_after) = opening(&broker.db_path, &new_only).await;
    assert_eq!((opened, total_after), (total_after, total_after), "every value opens with the new key alone");
    assert!(total_after >= total, "nothing lost");
    assert_eq!(opening(&broker.db_path, &old_only).await.0, 0, "the old key opens nothing any more");
    let again = rotate(&broker.db_path, &ring, &[]);
    assert!(again.contains("done: 0 values re-sealed"), "{again}");

    // The old key leaves: tokens, the client secret and the open link's verifier all still work.
    broker.opts.encryption_keys = Some(format!("new:{NEW_KEY}"));
    broker.restart();
    let gl = broker.client();
    let session = gl.use_session(session.session_id()).await.unwrap();
    for id in &active {
        let me = session.execute("SANDBOX_GET_CURRENT_USER", Default::default(), Some(id.clone())).await.unwrap();
        assert!(me.successful, "{id} after rotation: {me:?}");
    }
    Browser::new().sandbox_consent(pending.redirect_url(), true).await;
    let account = gl.connected_accounts().wait_for_connection(pending.id(), Duration::from_secs(10)).await.unwrap();
    assert_eq!(account.status, AccountStatus::Active);
}

#[cfg(unix)]
#[test]
fn a_brokers_database_files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt;
    let broker = Broker::start(BrokerOptions::default());
    for suffix in ["", "-wal", "-shm"] {
        let mut path = broker.db_path.as_os_str().to_owned();
        path.push(suffix);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "grantline.db{suffix} is {mode:o}");
    }
}
