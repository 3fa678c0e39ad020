//! Webhooks, as an app that subscribes to them sees them: a local receiver gets every event of
//! its users' accounts, signed, in each account's order, even when it was down for a while or a
//! broker was killed; on PostgreSQL each attempt is made by one broker; receivers must be public
//! outside dev mode; a rotated secret signs what is sent from then on.
//!
//! (The signatures are checked here with the broker's own signer, so a header that does not
//! match its body and id fails; `tests/composio/python/test_webhooks.py` checks them with the
//! `standardwebhooks` library and Composio's SDK, which share no code with it.)

mod common;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::cluster::{postgres_url, Cluster};
use common::{Broker, BrokerOptions, Browser};
use grantline_core::engine::webhooks::signing::signature_header;
use grantline_core::model::AccountStatus;
use grantline_core::{AuthorizeOptions, SessionOptions};
use serde_json::{json, Value};

/// Every event type Grantline sends under its own name.
const GRANTLINE_EVENTS: [&str; 7] = [
    "grantline.connected_account.active",
    "grantline.connected_account.failed",
    "grantline.connected_account.expired",
    "grantline.connected_account.revoked",
    "grantline.connected_account.deleted",
    "grantline.connected_account.token_refreshed",
    "grantline.connected_account.reconnected",
];

/// A delivery as the receiver got it.
#[derive(Debug, Clone)]
struct Got {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
    /// What the receiver answered.
    status: u16,
}

impl Got {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }

    /// Whether the signature header carries the signature of this body made with `secret`.
    fn signed_with(&self, secret: &str) -> bool {
        let expected = signature_header(secret, &self.id, self.timestamp.parse().unwrap(), &self.body).unwrap();
        self.signature == expected
    }
}

/// An app's webhook endpoint on 127.0.0.1: records every POST to `/hook` and answers with the
/// status it is set to (503 while "down"); `/moved` answers a redirect to `/hook`.
struct Receiver {
    url: String,
    got: Arc<Mutex<Vec<Got>>>,
    status: Arc<AtomicU16>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(status: u16) -> Receiver {
        let got = Arc::new(Mutex::new(Vec::new()));
        let status = Arc::new(AtomicU16::new(status));
        let (g, s) = (got.clone(), status.clone());
        let app = axum::Router::new()
            .route(
                "/hook",
                post(move |headers: HeaderMap, body: String| {
                    let (g, s) = (g.clone(), s.clone());
                    async move {
                        let h = |n: &str| headers.get(n).map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
                        let status = s.load(Ordering::SeqCst);
                        let got = Got { id: h("webhook-id"), timestamp: h("webhook-timestamp"), signature: h("webhook-signature"), body, status };
                        g.lock().unwrap().push(got);
                        StatusCode::from_u16(status).unwrap()
                    }
                }),
            )
            .route("/moved", post(|| async { (StatusCode::TEMPORARY_REDIRECT, [("location", "/hook")]) }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr: SocketAddr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { url: format!("http://{addr}/hook"), got, status, server }
    }

    fn set_status(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn got(&self) -> Vec<Got> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `done` holds of what it got, or fails after 30 s saying what it got.
    async fn wait_for(&self, what: &str, done: impl Fn(&[Got]) -> bool) -> Vec<Got> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.got();
            if done(&got) {
                return got;
            }
            assert!(tokio::time::Instant::now() < deadline, "{what}: the receiver got {:#?}", got.iter().map(|g| g.json()).collect::<Vec<_>>());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// A dev broker that retries failed deliveries after a fifth of a second.
fn quick_retries() -> BrokerOptions {
    let args = ["--webhook-first-retry-secs", "0.2", "--webhook-poll-secs", "0.1", "--webhook-timeout-secs", "2"];
    BrokerOptions { extra_args: args.map(String::from).to_vec(), ..Default::default() }
}

/// `POST /api/v3.1/webhook_subscriptions`; the status and answer.
async fn create_subscription(broker: &Broker, body: Value) -> (u16, Value) {
    let resp = broker.http().post(broker.url("/api/v3.1/webhook_subscriptions")).json(&body).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

/// Subscribes `url` to `events`: the subscription's id and secret.
async fn subscribe(broker: &Broker, url: &str, events: &[&str]) -> (String, String) {
    let (status, sub) = create_subscription(broker, json!({"webhook_url": url, "enabled_events": events})).await;
    assert_eq!(status, 201, "{sub}");
    (sub["id"].as_str().unwrap().to_string(), sub["secret"].as_str().unwrap().to_string())
}

/// A new INITIATED account of `user` (a Connect Link, not opened); its id.
async fn initiated(broker: &Broker, user: &str) -> String {
    let options = SessionOptions { toolkits: vec!["sandbox".into()], manage_connections: Some(false), ..Default::default() };
    let session = broker.client().create(user, options).await.unwrap();
    session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap().id().to_string()
}

/// Revokes, then deletes, an account: two events (sequence 1 and 2).
async fn revoke_then_delete(broker: &Broker, id: &str) {
    let http = broker.http();
    let revoked = http.post(broker.url(&format!("/api/v3.1/connected_accounts/{id}/revoke"))).send().await.unwrap();
    assert_eq!(revoked.status().as_u16(), 200);
    let deleted = http.delete(broker.url(&format!("/api/v3.1/connected_accounts/{id}"))).send().await.unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
}

/// What each account's accepted events were, in the order they arrived: (type, sequence).
fn by_account(got: &[Got]) -> BTreeMap<String, Vec<(String, u64)>> {
    let mut out: BTreeMap<String, Vec<(String, u64)>> = BTreeMap::new();
    for g in got {
        let v = g.json();
        let account = v["data"]["id"].as_str().unwrap().to_string();
        out.entry(account).or_default().push((v["type"].as_str().unwrap().to_string(), v["data"]["sequence"].as_u64().unwrap()));
    }
    out
}

/// A deliveries listing of a subscription.
async fn deliveries(broker: &Broker, subscription: &str) -> Value {
    let url = broker.url(&format!("/api/v3.1/webhook_subscriptions/{subscription}/deliveries?limit=100"));
    let resp = broker.http().get(url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    resp.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_was_down_gets_every_event_signed_and_in_each_accounts_order() {
    let broker = Broker::start(quick_retries());
    let receiver = Receiver::start(503).await;
    let (subscription, secret) = subscribe(&broker, &receiver.url, &GRANTLINE_EVENTS).await;

    // While the receiver is down: alice connects, then the app revokes and deletes her
    // account; bob denies the provider's consent; carol's link is left alone.
    let options = SessionOptions { toolkits: vec!["sandbox".into()], manage_connections: Some(false), ..Default::default() };
    let alice = broker.client().create("alice", options.clone()).await.unwrap();
    let link = alice.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    Browser::new().sandbox_consent(link.redirect_url(), true).await;
    assert_eq!(link.wait_for_connection(Duration::from_secs(30)).await.unwrap().status, AccountStatus::Active);
    revoke_then_delete(&broker, link.id()).await;
    let bob = broker.client().create("bob", options).await.unwrap();
    let denied = bob.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    Browser::new().sandbox_consent(denied.redirect_url(), false).await;
    initiated(&broker, "carol").await;

    // The broker keeps trying: the listing shows the failed attempts and the next one.
    receiver.wait_for("retries while down", |got| got.len() >= 4).await;
    let listed = deliveries(&broker, &subscription).await;
    let first = listed["items"].as_array().unwrap().iter().find(|d| d["connected_account_id"] == link.id() && d["sequence"] == 1).unwrap();
    assert_eq!(first["status"], "PENDING", "{first}");
    assert_eq!(first["attempts"][0]["status_code"], 503, "{first}");
    assert!(first["next_attempt_at"].is_string(), "{first}");

    receiver.set_status(204);
    let got = receiver.wait_for("every event once the receiver is up", |got| {
        accepted(got).len() == 4
    }).await;
    let accepted = accepted(&got);
    let alice_id = link.id().to_string();
    let bob_id = denied.id().to_string();
    assert_eq!(
        by_account(&accepted),
        BTreeMap::from([
            (alice_id.clone(), vec![
                ("grantline.connected_account.active".into(), 1),
                ("grantline.connected_account.revoked".into(), 2),
                ("grantline.connected_account.deleted".into(), 3),
            ]),
            (bob_id, vec![("grantline.connected_account.failed".into(), 1)]),
        ]),
        "each account's events, in order, and no event for a link nobody opened"
    );
    // Every attempt of a message is the same message, signed for its body.
    for g in &got {
        assert!(g.id.starts_with("msg_") && g.signed_with(&secret), "{g:?}");
        let v = g.json();
        assert_eq!(v["id"], g.id.as_str());
        let sent_at: i64 = g.timestamp.parse().unwrap();
        assert!((sent_at - chrono_now()).abs() < 120, "webhook-timestamp is the send time in seconds");
    }
    let active = accepted.iter().find(|g| g.json()["type"] == "grantline.connected_account.active").unwrap().json();
    assert_eq!(active["data"]["status"], "ACTIVE");
    assert_eq!(active["data"]["user_id"], "alice");
    assert_eq!(active["data"]["toolkit"]["slug"], "sandbox");
    assert_eq!(active["metadata"]["project_id"], active["metadata"]["org_id"]);
    assert!(active["event_id"].as_str().unwrap().starts_with("ev_"));
    for g in &accepted {
        let body = g.body.to_lowercase();
        assert!(!body.contains("access_token") && !body.contains("refresh_token"), "no credential in {}", g.body);
    }

    // The listing says what happened to each delivery.
    let listed = deliveries(&broker, &subscription).await;
    let items = listed["items"].as_array().unwrap();
    assert_eq!(listed["total_items"], 4);
    let attempts = |d: &Value| d["attempts"].as_array().unwrap().len();
    for d in items {
        assert_eq!(d["status"], "DELIVERED", "{d}");
        // The first event of each account was retried; alice's later ones waited for it and
        // were sent once, after it.
        match d["sequence"].as_u64() {
            Some(1) => assert!(attempts(d) >= 2, "{d}"),
            _ => assert_eq!(attempts(d), 1, "{d}"),
        }
    }
    let last = items[0]["attempts"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["status_code"], 204);
    assert!(last["latency_ms"].is_u64());

    // A manual retry sends the delivery again, as the same message.
    let again = items[0]["id"].as_str().unwrap();
    let retried = broker
        .http()
        .post(broker.url(&format!("/api/v3.1/webhook_subscriptions/{subscription}/deliveries/{again}/retry")))
        .send()
        .await
        .unwrap();
    assert_eq!(retried.status().as_u16(), 200);
    let n = receiver.got().iter().filter(|g| g.id == again).count();
    receiver.wait_for("the manual retry", |got| got.iter().filter(|g| g.id == again).count() == n + 1).await;
}

/// The messages the receiver accepted (answered 2xx), in the order it accepted them, each once.
fn accepted(got: &[Got]) -> Vec<Got> {
    let mut seen = std::collections::BTreeSet::new();
    got.iter().filter(|g| (200..300).contains(&g.status) && seen.insert(g.id.clone())).cloned().collect()
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_written_before_a_kill_9_are_delivered_after_the_restart() {
    let mut broker = Broker::start(quick_retries());
    let receiver = Receiver::start(503).await;
    subscribe(&broker, &receiver.url, &["grantline.connected_account.revoked", "grantline.connected_account.deleted"]).await;
    let mut accounts = vec![];
    for i in 0..5 {
        let id = initiated(&broker, &format!("user-{i}")).await;
        revoke_then_delete(&broker, &id).await;
        accounts.push(id);
    }
    receiver.wait_for("a first attempt", |got| !got.is_empty()).await;
    broker.kill();
    receiver.set_status(200);
    broker.restart();
    let got = receiver.wait_for("every event after the restart", |got| by_account(&accepted(got)).values().map(Vec::len).sum::<usize>() == 10).await;
    let seen = by_account(&accepted(&got));
    for id in &accounts {
        assert_eq!(
            seen[id],
            [("grantline.connected_account.revoked".to_string(), 1), ("grantline.connected_account.deleted".to_string(), 2)],
            "{id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn brokers_sharing_postgresql_make_each_attempt_once() {
    let Some(server) = postgres_url("brokers_sharing_postgresql_make_each_attempt_once") else { return };
    let cluster = Cluster::start(&server, 3, quick_retries()).await;
    let receiver = Receiver::start(200).await;
    subscribe(&cluster.nodes[0], &receiver.url, &["grantline.connected_account.revoked", "grantline.connected_account.deleted"]).await;
    // Events are made through every broker; every broker delivers.
    for i in 0..30 {
        let node = &cluster.nodes[i % cluster.nodes.len()];
        let id = initiated(node, &format!("user-{i}")).await;
        revoke_then_delete(node, &id).await;
    }
    receiver.wait_for("60 deliveries", |got| got.len() >= 60).await;
    tokio::time::sleep(Duration::from_secs(2)).await; // anything sent twice would arrive by now
    let got = receiver.got();
    let mut ids: Vec<&str> = got.iter().map(|g| g.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (60, 60), "each delivery attempted exactly once");
    for (account, events) in by_account(&got) {
        assert_eq!(events.iter().map(|e| e.1).collect::<Vec<_>>(), [1, 2], "{account} in order");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receivers_must_be_public_https_outside_dev_mode_and_redirects_are_not_followed() {
    let production = Broker::start(BrokerOptions { dev: false, ..Default::default() });
    for url in ["http://127.0.0.1:9/hook", "https://127.0.0.1/hook", "https://localhost/hook", "https://10.0.0.7/hook", "https://169.254.169.254/latest", "http://hooks.example.com/in"] {
        let (status, body) = create_subscription(&production, json!({"webhook_url": url, "enabled_events": ["composio.connected_account.expired"]})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (400, Some("webhook_url")), "{url}: {body}");
    }
    let (status, created) = create_subscription(&production, json!({"webhook_url": "https://hooks.example.com/in", "enabled_events": ["composio.connected_account.expired"]})).await;
    assert_eq!(status, 201, "{created}");
    assert!(created["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(created["version"], "V3");

    // Bad input names the field and changes nothing.
    for (body, field) in [
        (json!({"webhook_url": "https://hooks.example.com/in", "enabled_events": []}), "enabled_events"),
        (json!({"webhook_url": "https://hooks.example.com/in", "enabled_events": ["composio.trigger.message"]}), "enabled_events[0]"),
        (json!({"webhook_url": "https://hooks.example.com/in", "enabled_events": ["grantline.connected_account.active"], "version": "V2"}), "version"),
        (json!({"webhook_url": "https://hooks.example.com/in", "enabled_events": ["grantline.connected_account.active"], "secret": "mine"}), "secret"),
    ] {
        let (status, answer) = create_subscription(&production, body.clone()).await;
        assert_eq!((status, answer["error"]["field"].as_str()), (400, Some(field)), "{body}: {answer}");
    }
    let listed: Value = production.http().get(production.url("/api/v3.1/webhook_subscriptions")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["total_items"], 1, "{listed}");

    // A dev broker reaches loopback, never a private address; a redirect is a failed attempt.
    let dev = Broker::start(BrokerOptions { extra_args: vec!["--webhook-first-retry-secs".into(), "60".into()], ..Default::default() });
    let (status, body) = create_subscription(&dev, json!({"webhook_url": "https://10.0.0.7/hook", "enabled_events": ["grantline.connected_account.deleted"]})).await;
    assert_eq!((status, body["error"]["field"].as_str()), (400, Some("webhook_url")), "{body}");
    let receiver = Receiver::start(200).await;
    let moved = receiver.url.replace("/hook", "/moved");
    let (subscription, _) = subscribe(&dev, &moved, &["grantline.connected_account.deleted"]).await;
    let id = initiated(&dev, "dora").await;
    let deleted = dev.http().delete(dev.url(&format!("/api/v3.1/connected_accounts/{id}"))).send().await.unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let attempt = loop {
        let listed = deliveries(&dev, &subscription).await;
        if let Some(a) = listed["items"].get(0).and_then(|d| d["attempts"].get(0)) {
            break a.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no attempt: {listed}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(attempt["status_code"], 307, "{attempt}");
    assert!(receiver.got().is_empty(), "the redirect was not followed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_rotation_deliveries_are_signed_with_the_new_secret_only() {
    let broker = Broker::start(quick_retries());
    let receiver = Receiver::start(200).await;
    let (subscription, old) = subscribe(&broker, &receiver.url, &["grantline.connected_account.deleted"]).await;

    let first = initiated(&broker, "erin").await;
    broker.http().delete(broker.url(&format!("/api/v3.1/connected_accounts/{first}"))).send().await.unwrap();
    let got = receiver.wait_for("the first event", |got| got.len() == 1).await;
    assert!(got[0].signed_with(&old));

    // Through the Rust client (what the Python and Node SDKs wrap).
    let webhooks = broker.client().webhooks();
    let rotated = webhooks.rotate_secret(&subscription).await.unwrap();
    let new = rotated.secret.clone();
    assert_eq!(rotated.id, subscription);
    assert_ne!(new, old);
    assert_eq!(webhooks.get(&subscription).await.unwrap().secret, new);
    assert_eq!(webhooks.list(None, None).await.unwrap().items.len(), 1);
    let types = webhooks.event_types().await.unwrap();
    assert!(types.items.iter().any(|t| t.event_type == "composio.connected_account.expired" && t.supported_versions == ["V3"]));

    let second = initiated(&broker, "erin").await;
    broker.http().delete(broker.url(&format!("/api/v3.1/connected_accounts/{second}"))).send().await.unwrap();
    let got = receiver.wait_for("the second event", |got| got.len() == 2).await;
    assert!(got[1].signed_with(&new), "signed with the new secret");
    let old_signature = signature_header(&old, &got[1].id, got[1].timestamp.parse().unwrap(), &got[1].body).unwrap();
    for part in old_signature.split(' ') {
        assert!(!got[1].signature.split(' ').any(|p| p == part), "the old secret's signature is not sent");
    }
    let delivered = webhooks.deliveries(&subscription, None, Some(1)).await.unwrap();
    assert_eq!((delivered.total_items, delivered.items[0].id.as_str()), (2, got[1].id.as_str()), "newest first");
    assert_eq!(delivered.items[0].attempts[0].status_code, Some(200));
    webhooks.delete(&subscription).await.unwrap();
    assert_eq!(webhooks.get(&subscription).await.unwrap_err().code(), "NOT_FOUND");
}
