//! The manual-auth flow over real HTTP against a `--dev` broker and its sandbox provider, where
//! the Rust side goes beyond the shared stories (tests/scenarios/stories.json, run by
//! scenarios.rs): sealed tokens in the file, forged and replayed callbacks, a late callback on an
//! expired link, account filters, reopening a session, logos.

mod common;

use std::time::Duration;

use common::{query, Broker, BrokerOptions, Browser};
use grantline_core::model::{AccountFilter, AccountStatus, ToolkitsQuery};
use grantline_core::{AuthorizeOptions, Error, SessionOptions};

fn sandbox_only() -> SessionOptions {
    SessionOptions { toolkits: vec!["sandbox".into()], manage_connections: Some(false), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connected_account_s_tokens_are_sealed_in_the_database() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("user_123", sandbox_only()).await.unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    Browser::new().sandbox_consent(req.redirect_url(), true).await;
    assert_eq!(req.wait_for_connection(Duration::from_secs(30)).await.unwrap().status, AccountStatus::Active);
    let db = broker.db_bytes();
    assert!(!contains(&db, b"sbx_at_"), "an access token is stored in plaintext");
    assert!(!contains(&db, b"sbx_rt_"), "a refresh token is stored in plaintext");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_forged_or_replayed_state_changes_nothing() {
    let broker = Broker::start(BrokerOptions::default());
    let gl = broker.client();
    let session = gl.create("u", sandbox_only()).await.unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();

    let browser = Browser::new();
    let forged = browser.http.get(broker.url("/oauth/callback?state=forged&code=abc")).send().await.unwrap();
    assert_eq!(forged.status().as_u16(), 400);
    assert_eq!(gl.connected_accounts().get(req.id()).await.unwrap().status, AccountStatus::Initiated);

    // Complete once, keeping the callback URL the provider sent.
    let to_provider = browser.http.get(req.redirect_url()).send().await.unwrap();
    let authorize = url::Url::parse(to_provider.headers()["location"].to_str().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "allow".into()));
    form.push(("user".into(), "octocat".into()));
    let to_cb = browser.http.post(broker.url("/sandbox/oauth/authorize")).form(&form).send().await.unwrap();
    let callback = to_cb.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(browser.http.get(&callback).send().await.unwrap().status().as_u16(), 200);
    let done = gl.connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(done.status, AccountStatus::Active);

    let replay = browser.http.get(&callback).send().await.unwrap();
    assert_eq!(replay.status().as_u16(), 400);
    let after = gl.connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(after, done, "a replayed callback must not touch the account");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_abandoned_link_expires_and_a_late_callback_changes_nothing() {
    let broker = Broker::start(BrokerOptions { link_ttl_secs: 1, ..Default::default() });
    let gl = broker.client();
    let session = gl.create("u", sandbox_only()).await.unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let browser = Browser::new();
    let to_provider = browser.http.get(req.redirect_url()).send().await.unwrap();
    let state = query(to_provider.headers()["location"].to_str().unwrap())["state"].clone();

    // The waiter is woken by the expiry itself, well before its own 30 s timeout.
    match req.wait_for_connection(Duration::from_secs(30)).await {
        Err(Error::ConnectionRequestFailed { status, .. }) => assert_eq!(status, "EXPIRED"),
        other => panic!("expected EXPIRED, got {other:?}"),
    }
    let expired = gl.connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(expired.status, AccountStatus::Expired);

    let late = browser.http.get(broker.url(&format!("/oauth/callback?state={state}&code=late"))).send().await.unwrap();
    assert_eq!(late.status().as_u16(), 410);
    assert!(late.text().await.unwrap().contains("expired"));
    let reopened = browser.http.get(req.redirect_url()).send().await.unwrap();
    assert_eq!(reopened.status().as_u16(), 410);
    assert_eq!(gl.connected_accounts().get(req.id()).await.unwrap(), expired);
}

#[tokio::test(flavor = "multi_thread")]
async fn several_accounts_per_user_with_unique_aliases_and_the_newest_active_one_reported() {
    let broker = Broker::start(BrokerOptions::default());
    let gl = broker.client();
    let session = gl.create("u", sandbox_only()).await.unwrap();
    let browser = Browser::new();
    let work = session.authorize("sandbox", AuthorizeOptions { alias: Some("work".into()), ..Default::default() }).await.unwrap();
    browser.sandbox_consent(work.redirect_url(), true).await;
    let personal = session.authorize("sandbox", AuthorizeOptions { alias: Some("personal".into()), ..Default::default() }).await.unwrap();
    browser.sandbox_consent(personal.redirect_url(), true).await;

    let dup = session.authorize("sandbox", AuthorizeOptions { alias: Some("work".into()), ..Default::default() }).await;
    assert!(matches!(dup, Err(Error::Conflict(ref m)) if m.contains("work")), "{dup:?}");

    // An unfinished newer link does not hide the newest ACTIVE account.
    session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let items = session.toolkits(&ToolkitsQuery::default()).await.unwrap().items;
    assert_eq!(items[0].connected_account.as_ref().unwrap().id, personal.id());

    let filter = AccountFilter { statuses: vec![AccountStatus::Active], ..Default::default() };
    let active = gl.connected_accounts().list(&filter, None, None).await.unwrap();
    assert_eq!(active.total_items, 2);
    assert_eq!(gl.connected_accounts().list(&AccountFilter::default(), None, None).await.unwrap().total_items, 3);
    let ids = |page: grantline_core::model::Page<grantline_core::model::ConnectedAccount>| page.items.into_iter().map(|a| a.id).collect::<Vec<_>>();
    let only_work = AccountFilter { ids: vec![work.id().into()], ..Default::default() };
    assert_eq!(ids(gl.connected_accounts().list(&only_work, None, None).await.unwrap()), vec![work.id().to_string()]);
    let oldest_first = AccountFilter { ascending: true, ..Default::default() };
    assert_eq!(ids(gl.connected_accounts().list(&oldest_first, None, None).await.unwrap())[0], work.id());
    let shared = AccountFilter { shared_only: true, ..Default::default() };
    assert_eq!(gl.connected_accounts().list(&shared, None, None).await.unwrap().total_items, 0, "no account is shared");

    gl.connected_accounts().delete(personal.id()).await.unwrap();
    let items = session.toolkits(&ToolkitsQuery::default()).await.unwrap().items;
    assert_eq!(items[0].connected_account.as_ref().unwrap().id, work.id());
    assert!(matches!(gl.connected_accounts().get(personal.id()).await, Err(Error::NotFound { .. })));

    gl.connected_accounts().set_enabled(work.id(), false).await.unwrap();
    assert!(gl.connected_accounts().get(work.id()).await.unwrap().is_disabled);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_can_be_reopened_by_id() {
    let broker = Broker::start(BrokerOptions::default());
    let gl = broker.client();
    let s = gl.create("u", sandbox_only()).await.unwrap();
    let again = gl.use_session(s.session_id()).await.unwrap();
    assert_eq!(again.info(), s.info());
    assert!(matches!(gl.use_session("trs_doesnotexist").await, Err(Error::NotFound { .. })));
}

#[tokio::test(flavor = "multi_thread")]
async fn toolkit_logos_are_served_by_the_broker_itself() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("u", SessionOptions::default()).await.unwrap();
    let page = session.toolkits(&ToolkitsQuery { limit: Some(100), ..Default::default() }).await.unwrap();
    assert!(page.items.len() > 20);
    for t in &page.items {
        assert!(t.meta.logo.starts_with(&broker.base_url), "{} sends browsers to {}", t.slug, t.meta.logo);
    }
    let github = page.items.iter().find(|t| t.slug == "github").unwrap();
    let svg = reqwest::get(&github.meta.logo).await.unwrap();
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains(">G</text>"));
    assert_eq!(reqwest::get(broker.url("/logos/nosuchkit.svg")).await.unwrap().status().as_u16(), 404);
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
