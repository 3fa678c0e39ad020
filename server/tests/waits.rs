//! Waiting for a user's connections from an agent (`COMPOSIO_WAIT_FOR_CONNECTIONS`): the wait
//! wakes for the user's own accounts only, answers the moment the user finishes, and says so
//! when the broker's longest wait cut the caller's timeout short.

mod common;

use std::time::{Duration, Instant};

use common::{Broker, BrokerOptions, Browser};
use grantline_core::{AuthorizeOptions, Session, SessionOptions};
use serde_json::{json, Value};

async fn session(broker: &Broker, user: &str) -> Session {
    let opts = SessionOptions { toolkits: vec!["sandbox".into()], wait_for_connections: Some(true), ..Default::default() };
    broker.client().create(user, opts).await.unwrap()
}

async fn wait_for_connections(session: &Session, timeout_seconds: u64) -> Value {
    let args = json!({"toolkits": ["sandbox"], "timeout_seconds": timeout_seconds}).as_object().unwrap().clone();
    session.execute_meta("COMPOSIO_WAIT_FOR_CONNECTIONS", args).await.unwrap().data
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_s_wait_answers_when_its_user_connects_not_when_someone_else_does() {
    let broker = Broker::start(BrokerOptions::default());
    let (ada, bob) = (session(&broker, "ada").await, session(&broker, "bob").await);
    let ada_link = ada.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let bob_link = bob.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let waiting = tokio::spawn({
        let ada = ada.clone();
        async move { wait_for_connections(&ada, 30).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    Browser::new().sandbox_consent(bob_link.redirect_url(), true).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "bob connecting does not end ada's wait");

    Browser::new().sandbox_consent(ada_link.redirect_url(), true).await;
    let answered = Instant::now();
    let data = waiting.await.unwrap();
    assert!(answered.elapsed() < Duration::from_secs(2), "woken at once, not by a poll ({:?})", answered.elapsed());
    assert_eq!(data["results"]["sandbox"]["status"], "active", "{data}");
    assert_eq!(data["results"]["sandbox"]["connected_account_id"], ada_link.id());
    assert_eq!(data["timed_out"], false);
    assert!(data.get("timeout_shortened").is_none(), "{data}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_longer_than_the_broker_allows_says_it_was_cut_short() {
    let broker = Broker::start(BrokerOptions { max_wait_secs: Some(1), ..Default::default() });
    let ada = session(&broker, "ada").await;
    ada.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let started = Instant::now();
    let data = wait_for_connections(&ada, 30).await;
    assert!(started.elapsed() < Duration::from_secs(5), "the broker's 1 s, not the 30 s asked");
    assert_eq!(data["results"]["sandbox"]["status"], "initiated", "{data}");
    assert_eq!((data["timed_out"].as_bool(), data["timeout_shortened"].as_bool()), (Some(true), Some(true)), "{data}");
    assert_eq!(data["waited_at_most_seconds"], 1);
    let summary = data["summary"].as_str().unwrap();
    assert!(summary.contains("at most 1 s") && summary.contains("not the 30 s asked"), "{summary}");
}
