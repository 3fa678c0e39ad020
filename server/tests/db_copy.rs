//! Moving up: an installation on SQLite is copied into PostgreSQL with `grantline db copy`, and a
//! broker on PostgreSQL carries on with everything — keys, sessions, accounts in every status,
//! and credentials that still work.

mod common;

use std::process::Command;
use std::time::Duration;

use common::cluster::{fresh_database, postgres_url};
use common::{Broker, BrokerOptions, Browser};
use grantline_core::model::{AccountFilter, AccountStatus};
use grantline_core::{AuthorizeOptions, SessionOptions};

fn copy(from: &std::path::Path, to: &str, key: &str) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_grantline"))
        .args(["db", "copy", "--from", &format!("sqlite://{}", from.display()), "--to", to, "--encryption-key", key])
        .env("GRANTLINE_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_installation_moves_from_sqlite_to_postgres_with_every_account_and_working_credentials() {
    let Some(pg) = postgres_url("db_copy::sqlite_to_postgres") else { return };
    let mut lite = Broker::start(BrokerOptions { link_ttl_secs: 2, ..Default::default() });
    let gl = lite.client();
    let session = gl.create("ada", SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() }).await.unwrap();
    let link = |alias: &str| {
        let (session, alias) = (session.clone(), alias.to_string());
        async move { session.authorize("sandbox", AuthorizeOptions { alias: Some(alias), ..Default::default() }).await.unwrap() }
    };
    // ACTIVE, REVOKED, FAILED (denied), INACTIVE (disabled) and, left alone, INITIATED → EXPIRED.
    let active = link("active").await;
    Browser::new().sandbox_consent(active.redirect_url(), true).await;
    let revoked = link("revoked").await;
    Browser::new().sandbox_consent(revoked.redirect_url(), true).await;
    gl.connected_accounts().revoke(revoked.id()).await.unwrap();
    let failed = link("failed").await;
    Browser::new().sandbox_consent(failed.redirect_url(), false).await;
    let disabled = link("disabled").await;
    Browser::new().sandbox_consent(disabled.redirect_url(), true).await;
    gl.connected_accounts().set_enabled(disabled.id(), false).await.unwrap();
    let expired = link("expired").await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let before = gl.connected_accounts().list(&AccountFilter::default(), None, None).await.unwrap();
    let statuses: Vec<AccountStatus> = before.items.iter().map(|a| a.status).collect();
    for s in [AccountStatus::Active, AccountStatus::Revoked, AccountStatus::Failed, AccountStatus::Expired] {
        assert!(statuses.contains(&s), "{s:?} in {statuses:?}");
    }
    let mcp_credential = session.create_mcp_credential(Default::default()).await.unwrap();
    lite.kill();

    // A wrong key copies nothing.
    let target = fresh_database(&pg);
    let wrong = copy(&lite.db_path, &target, "MTExMTExMTExMTExMTExMTExMTExMTExMTExMTExMTE=");
    assert!(!wrong.status.success());
    let said = String::from_utf8_lossy(&wrong.stderr);
    assert!(said.contains("encryption_key") && said.contains("nothing was copied"), "{said}");

    let done = copy(&lite.db_path, &target, &lite.key);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    let printed = String::from_utf8_lossy(&done.stdout);
    assert!(printed.contains("accounts") && printed.contains("sealed values open with the key"), "{printed}");
    let again = copy(&lite.db_path, &target, &lite.key);
    assert!(!again.status.success(), "a second copy into a database that holds rows is refused");

    // A broker on PostgreSQL picks up where the SQLite one stopped, with the same API key.
    let pg_broker = Broker::join(BrokerOptions { database_url: Some(target), encryption_key: Some(lite.key.clone()), ..Default::default() }, &lite.api_key);
    let after = pg_broker.client().connected_accounts().list(&AccountFilter::default(), None, None).await.unwrap();
    assert_eq!(after.items, before.items, "every account as it was");
    let on_pg = pg_broker.client().use_session(session.session_id()).await.unwrap();
    let used = on_pg.execute("SANDBOX_GET_CURRENT_USER", Default::default(), Some(active.id().to_string())).await.unwrap();
    assert!(used.successful, "the copied credential works: {used:?}");
    assert_eq!(pg_broker.client().connected_accounts().get(expired.id()).await.unwrap().status, AccountStatus::Expired);
    // An MCP client's credential (stored hashed) still opens its session's MCP endpoint.
    let listed = reqwest::Client::new()
        .post(pg_broker.url(&format!("/tool_router/{}/mcp", session.session_id())))
        .bearer_auth(&mcp_credential.secret)
        .header("accept", "application/json, text/event-stream")
        .json(&serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(listed.status().as_u16(), 200, "the copied MCP credential works");
}
