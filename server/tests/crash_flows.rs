//! `kill -9` of a SQLite broker with 300 Connect Link flows in flight at a real provider
//! (npm's `oidc-provider`): every flow whose callback the broker answered is ACTIVE after the
//! restart, every other one can be retried with a new link of the same account, and no account
//! is left in a state the rules do not allow.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::oidc::{form_action, sign_in, world};
use common::{Browser, Hop, APP};
use grantline_core::engine::store::{SqliteStore, Store};
use grantline_core::engine::vault::Vault;
use grantline_core::model::{AccountFilter, AccountStatus};
use grantline_core::AuthorizeOptions;
use tokio::sync::Semaphore;

const FLOWS: usize = 300;
/// Callbacks in flight at once.
const PARALLEL: usize = 32;
/// The broker is killed once this many callbacks were answered.
const KILL_AFTER: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_9_with_300_flows_in_flight_loses_no_answered_flow_and_the_rest_can_be_retried() {
    let started = Instant::now();
    let mut w = world(&[]).await;
    let gl = w.broker.client();
    let callback_prefix = w.broker.url("/oauth/callback");

    // 300 links, then 300 users at once (PARALLEL at a time) signing in at the provider and
    // coming back to the broker's callback; the broker dies once KILL_AFTER callbacks answered.
    let mut links = Vec::with_capacity(FLOWS);
    for _ in 0..FLOWS {
        let options = AuthorizeOptions { callback_url: Some(format!("{APP}/done")), alias: None };
        links.push(w.session.authorize("oidc", options).await.unwrap());
    }
    let created_in = started.elapsed();
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let answered = Arc::new(Mutex::new(Vec::new()));
    let (done, sent) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let gate = Arc::new(Semaphore::new(PARALLEL));
    let mut flows = Vec::with_capacity(FLOWS);
    for link in &links {
        let (id, redirect_url) = (link.id().to_string(), link.redirect_url().to_string());
        let (http, answered, done, sent) = (http.clone(), answered.clone(), done.clone(), sent.clone());
        let (gate, callback_prefix) = (gate.clone(), callback_prefix.clone());
        flows.push(tokio::spawn(async move {
            let _slot = gate.acquire().await.unwrap();
            let browser = Browser::new();
            // The Connect Link is on the broker: a dead broker ends the flow here.
            let Ok(first) = browser.http.get(&redirect_url).send().await else { return };
            let Hop::Page { url, status: 200, body } = browser.walk(first, APP).await else { return };
            let Ok(posted) = browser.http.post(form_action(&url, &body, "/login")).form(&[("login", "alice"), ("password", "secret")]).send().await else { return };
            let Hop::Page { url, status: 200, body } = browser.walk(posted, APP).await else { return };
            let Ok(consented) = browser.http.post(form_action(&url, &body, "/confirm")).send().await else { return };
            let Hop::Stopped(callback) = browser.walk(consented, &callback_prefix).await else { return };
            sent.fetch_add(1, Ordering::SeqCst);
            if let Ok(r) = http.get(&callback).send().await {
                let location = r.headers().get("location").and_then(|l| l.to_str().ok()).unwrap_or_default().to_string();
                answered.lock().unwrap().push((id, r.status().as_u16(), location));
                done.fetch_add(1, Ordering::SeqCst);
            }
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while done.load(Ordering::SeqCst) < KILL_AFTER {
        assert!(Instant::now() < deadline, "the broker answered too few callbacks");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    w.broker.kill(); // SIGKILL, with flows at the provider and callbacks mid-exchange
    for f in flows {
        f.await.unwrap();
    }
    let cut_off = sent.load(Ordering::SeqCst) - done.load(Ordering::SeqCst);
    let answered = answered.lock().unwrap().clone();
    for (id, status, location) in &answered {
        assert!(*status == 303 || *status == 302, "{id}: {status}");
        assert!(location.starts_with(&format!("{APP}/done?")) && location.contains("status=success"), "{id}: sent to {location}");
    }

    // What the file holds, read before any broker touches it again.
    let store = SqliteStore::open(&w.broker.db_path).unwrap();
    let project = store.first_project().await.unwrap().unwrap();
    let vault = Vault::from_base64(&w.broker.key).unwrap();
    let (mut active, mut initiated) = (vec![], vec![]);
    for link in &links {
        let id = &link.id().to_string();
        let account = store.get_account(&project.id, id).await.unwrap().unwrap_or_else(|| panic!("{id} is gone"));
        let request = store.request_by_account(&project.id, id).await.unwrap();
        match account.status {
            AccountStatus::Active => {
                let sealed = account.credentials_sealed.as_ref().unwrap_or_else(|| panic!("{id} is ACTIVE without tokens"));
                let tokens: serde_json::Value = serde_json::from_slice(&vault.open(id, sealed).unwrap()).unwrap();
                assert!(tokens["access_token"].is_string(), "{id}: ACTIVE with tokens that open");
                active.push(id.clone());
            }
            AccountStatus::Initiated => {
                assert!(account.credentials_sealed.is_none(), "{id}: INITIATED with tokens");
                assert!(request.is_some(), "{id}: INITIATED without its link");
                initiated.push(id.clone());
            }
            other => panic!(
                "{id} is {other:?} ({:?}) after a crash; answered: {:?}",
                account.status_reason,
                answered.iter().find(|(a, ..)| a == id)
            ),
        }
    }
    drop(store);
    let answered_ids: Vec<&String> = answered.iter().map(|(id, ..)| id).collect();
    for id in &answered_ids {
        assert!(active.contains(id), "{id}: its callback was answered, so it is ACTIVE");
    }

    // After the restart every other flow is retried: a new link for the same account works.
    let (_providers_dir, providers) = w.provider.providers_file();
    w.broker.opts.providers = Some(providers);
    w.broker.restart();
    let retry = Arc::new(Semaphore::new(PARALLEL));
    let mut retries = vec![];
    for id in initiated.clone() {
        let (gl, retry) = (gl.clone(), retry.clone());
        retries.push(tokio::spawn(async move {
            let _slot = retry.acquire().await.unwrap();
            let fresh = gl.connected_accounts().refresh(&id, Some(&format!("{APP}/done"))).await.unwrap();
            let hop = sign_in(&Browser::new(), &fresh.redirect_url, "alice", "/confirm").await;
            assert!(matches!(&hop, Hop::Stopped(back) if back.contains("status=success")), "{id}: the retried flow succeeds: {hop:?}");
            let account = gl.connected_accounts().wait_for_connection(&id, Duration::from_secs(20)).await.unwrap();
            assert_eq!(account.status, AccountStatus::Active, "{id}");
        }));
    }
    for r in retries {
        r.await.unwrap();
    }
    let only_active = AccountFilter { statuses: vec![AccountStatus::Active], ..Default::default() };
    let active_now = gl.connected_accounts().list(&only_active, None, Some(1)).await.unwrap().total_items as usize;
    figure(&format!(
        "kill -9 with {FLOWS} flows in flight: {} callbacks answered before the kill (all ACTIVE after restart), \
         {cut_off} callbacks sent but never answered, {} more ACTIVE (committed, answer lost), {} INITIATED and retried with a new link (all ACTIVE); \
         {active_now} ACTIVE of {FLOWS}; links made in {} ms, whole test {} ms",
        answered.len(),
        active.len() - answered.len(),
        initiated.len(),
        created_in.as_millis(),
        started.elapsed().as_millis()
    ));
    assert_eq!(active_now, FLOWS);
}

/// Prints a figure of the run where CI's log shows it, even when the test passes (`cargo test`
/// captures `println!`, not writes to the process's stderr).
fn figure(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}
