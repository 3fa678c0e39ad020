//! One `state`, 1,000 callbacks at once (a user's browser retrying, a replaying attacker, a
//! proxy fanning out): the broker exchanges the provider's code exactly once, one callback
//! succeeds and every other is refused, and the account ends ACTIVE once.

mod common;

use std::collections::BTreeMap;
use std::time::Instant;

use common::oidc::{answer_up_to_callback, world};
use common::Browser;
use grantline_core::model::AccountStatus;
use grantline_core::AuthorizeOptions;

const CALLBACKS: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_callbacks_with_one_state_exchange_the_code_once() {
    let w = world(&[]).await;
    let req = w.session.authorize("oidc", AuthorizeOptions::default()).await.unwrap();
    let browser = Browser::new();
    // The provider's answer, stopped at the broker's callback: the URL every request repeats.
    let callback = answer_up_to_callback(&browser, &w.broker, req.redirect_url()).await;
    assert_eq!(w.provider.token_requests().await, 0);

    // Loopback only, one connection per callback, all sent at once.
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).pool_max_idle_per_host(0).build().unwrap();
    let gate = std::sync::Arc::new(tokio::sync::Barrier::new(CALLBACKS));
    let started = Instant::now();
    let tasks: Vec<_> = (0..CALLBACKS)
        .map(|_| {
            let (http, callback, gate) = (http.clone(), callback.clone(), gate.clone());
            tokio::spawn(async move {
                gate.wait().await;
                let r = http.get(&callback).send().await.expect("the broker answers every callback");
                let status = r.status().as_u16();
                (status, r.text().await.unwrap_or_default())
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(CALLBACKS);
    for t in tasks {
        answers.push(t.await);
    }
    let elapsed = started.elapsed();
    let mut by_status: BTreeMap<u16, usize> = BTreeMap::new();
    for a in &answers {
        *by_status.entry(a.as_ref().unwrap().0).or_default() += 1;
    }
    let exchanges = w.provider.token_requests().await;
    let succeeded = by_status.get(&200).copied().unwrap_or(0);
    figure(&format!(
        "{CALLBACKS} callbacks with one state: {exchanges} code exchange, {succeeded} succeeded, {} refused (by status: {by_status:?}) in {} ms",
        CALLBACKS - succeeded,
        elapsed.as_millis()
    ));
    assert_eq!(exchanges, 1, "exactly one code exchange at the provider");
    assert_eq!(succeeded, 1, "one callback succeeds: {by_status:?}");
    for (status, body) in answers.iter().map(|a| a.as_ref().unwrap()).filter(|(s, _)| *s != 200) {
        assert!((400..500).contains(status), "the others are refused, never a fault: {status} {body}");
    }
    let account = w.broker.client().connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(account.status, AccountStatus::Active);
    assert!(elapsed.as_secs() < 30, "took {elapsed:?}");
}

/// Prints a figure of the run where CI's log shows it, even when the test passes (`cargo test`
/// captures `println!`, not writes to the process's stderr).
fn figure(line: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{line}");
}
