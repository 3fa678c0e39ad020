//! A broker killed with `kill -9` while it commits keeps every write it acknowledged: the
//! SQLite store answers a write only after its group's COMMIT, and a committed WAL frame is in
//! the kernel's hands even if the process dies the next instant.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{Broker, BrokerOptions};
use grantline_core::engine::store::{SqliteStore, Store};
use grantline_core::{AuthorizeOptions, SessionOptions};

/// Links made before the kill (the writers keep going while it lands).
const ACKNOWLEDGED_BEFORE_KILL: usize = 300;
/// Clients writing at once, so the store commits them in groups.
const WRITERS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_write_survives_kill_9() {
    let mut broker = Broker::start(BrokerOptions::default());
    let session = broker
        .client()
        .create("crash-user", SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() })
        .await
        .unwrap();

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let writers: Vec<_> = (0..WRITERS)
        .map(|_| {
            let (session, acknowledged) = (session.clone(), acknowledged.clone());
            tokio::spawn(async move {
                // Until the broker dies under it: an answer is an acknowledged write.
                while let Ok(link) = session.authorize("sandbox", AuthorizeOptions::default()).await {
                    acknowledged.lock().unwrap().push(link.id().to_string());
                }
            })
        })
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while acknowledged.lock().unwrap().len() < ACKNOWLEDGED_BEFORE_KILL {
        assert!(tokio::time::Instant::now() < deadline, "the broker made too few links");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    broker.kill(); // SIGKILL, with writes in flight
    for w in writers {
        w.await.unwrap();
    }

    let ids = acknowledged.lock().unwrap().clone();
    let store = SqliteStore::open(&broker.db_path).unwrap();
    let project = store.first_project().await.unwrap().expect("the project");
    let mut lost = vec![];
    for id in &ids {
        let account = store.get_account(&project.id, id).await.unwrap();
        let request = store.request_by_account(&project.id, id).await.unwrap();
        if account.is_none() || request.is_none() {
            lost.push(id.clone());
        }
    }
    assert!(lost.is_empty(), "{} of {} acknowledged links were lost: {lost:?}", lost.len(), ids.len());
}
