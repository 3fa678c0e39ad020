//! The manual-auth story over real HTTP against a `--dev` broker and its sandbox provider:
//! create a session, authorize, the user consents, wait, list toolkits.

mod common;

use std::time::Duration;

use common::{query, Broker, BrokerOptions, Browser, APP};
use grantline_core::model::{AccountFilter, AccountStatus, ToolkitsQuery};
use grantline_core::{AuthorizeOptions, Error, SessionOptions};

fn sandbox_only() -> SessionOptions {
    SessionOptions { toolkits: vec!["sandbox".into()], manage_connections: Some(false), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn user_connects_and_a_blocked_waiter_wakes_with_the_active_account() {
    let broker = Broker::start(BrokerOptions::default());
    let gl = broker.client();
    let session = gl.create("user_123", sandbox_only()).await.unwrap();
    assert!(session.session_id().starts_with("trs_"));
    assert!(session.mcp().url.contains(session.session_id()));

    let req = session
        .authorize("sandbox", AuthorizeOptions { callback_url: Some(format!("{APP}/done?tab=2")), alias: None })
        .await
        .unwrap();
    assert!(req.redirect_url().starts_with(&broker.url("/link/ln_")));
    let pending = gl.connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(pending.status, AccountStatus::Initiated);

    // The app waits before the user has even opened the link.
    let waiter = tokio::spawn({
        let req = req.clone();
        async move { req.wait_for_connection(Duration::from_secs(30)).await }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!waiter.is_finished(), "the waiter must block while the account is INITIATED");

    let back_to_app = Browser::new().sandbox_consent(req.redirect_url(), true).await;
    assert_eq!(back_to_app.status().as_u16(), 303);
    let landing = back_to_app.headers()["location"].to_str().unwrap().to_string();
    assert!(landing.starts_with(&format!("{APP}/done?")), "{landing}");
    let q = query(&landing);
    assert_eq!(q["tab"], "2", "the callback URL's own parameters are kept");
    assert_eq!(q["status"], "success");
    assert_eq!(q["connected_account_id"], req.id());

    let account = waiter.await.unwrap().unwrap();
    assert_eq!(account.status, AccountStatus::Active);
    assert_eq!(account.id, req.id());
    assert_eq!(account.user_id, "user_123");
    assert_eq!(account.toolkit.slug, "sandbox");

    let page = session.toolkits(&ToolkitsQuery { is_connected: Some(true), ..Default::default() }).await.unwrap();
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].connected_account.as_ref().unwrap().id, req.id());
    assert!(page.items[0].is_connected());

    // The sandbox's access token is sealed: it never appears in the database file.
    let listed = gl.connected_accounts().list(&AccountFilter { user_ids: vec!["user_123".into()], ..Default::default() }, None, None).await.unwrap();
    assert_eq!(listed.total_items, 1);
    let db = broker.db_bytes();
    assert!(!contains(&db, b"sbx_at_"), "an access token is stored in plaintext");
    assert!(!contains(&db, b"sbx_rt_"), "a refresh token is stored in plaintext");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_callback_url_the_user_sees_a_connected_page() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("u", sandbox_only()).await.unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let page = Browser::new().sandbox_consent(req.redirect_url(), true).await;
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("data-outcome=\"connected\"") && html.contains("close this window"), "{html}");
    assert_eq!(req.wait_for_connection(Duration::from_secs(5)).await.unwrap().status, AccountStatus::Active);
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_consent_fails_the_account_and_the_waiter_at_once() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("u", sandbox_only()).await.unwrap();
    let req = session
        .authorize("sandbox", AuthorizeOptions { callback_url: Some(format!("{APP}/done")), alias: None })
        .await
        .unwrap();
    let waiter = tokio::spawn({
        let req = req.clone();
        async move { req.wait_for_connection(Duration::from_secs(60)).await }
    });
    let back = Browser::new().sandbox_consent(req.redirect_url(), false).await;
    let q = query(back.headers()["location"].to_str().unwrap());
    assert_eq!(q["status"], "failed");
    assert_eq!(q["connected_account_id"], req.id());

    let started = std::time::Instant::now();
    match waiter.await.unwrap() {
        Err(Error::ConnectionRequestFailed { status, reason, .. }) => {
            assert_eq!(status, "FAILED");
            assert!(reason.unwrap().contains("access_denied"));
        }
        other => panic!("expected ConnectionRequestFailed, got {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(30), "the waiter failed at once, not at its timeout");
    let account = broker.client().connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(account.status, AccountStatus::Failed);
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
async fn wait_for_connection_times_out_with_its_own_error() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker.client().create("u", sandbox_only()).await.unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    match req.wait_for_connection(Duration::from_millis(1200)).await {
        Err(e @ Error::ConnectionRequestTimeout { .. }) => assert_eq!(e.code(), "CONNECTION_REQUEST_TIMEOUT"),
        other => panic!("expected a timeout, got {other:?}"),
    }
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
async fn in_chat_manage_connections_returns_a_link_then_reports_active() {
    let broker = Broker::start(BrokerOptions::default());
    let gl = broker.client();
    let session = gl.create("u", SessionOptions { toolkits: vec!["sandbox".into(), "github".into()], ..Default::default() }).await.unwrap();
    let tools = session.tools().await.unwrap();
    assert_eq!(
        tools.iter().map(|t| t.slug.as_str()).collect::<Vec<_>>(),
        ["COMPOSIO_MANAGE_CONNECTIONS", "COMPOSIO_SEARCH_TOOLS", "COMPOSIO_GET_TOOL_SCHEMAS", "COMPOSIO_MULTI_EXECUTE_TOOL"]
    );

    let args = |v: serde_json::Value| v.as_object().unwrap().clone();
    let out = session.execute_meta("COMPOSIO_MANAGE_CONNECTIONS", args(serde_json::json!({"toolkits": ["sandbox"]}))).await.unwrap();
    let r = &out.data["results"]["sandbox"];
    assert_eq!(r["status"], "initiated");
    let link = r["redirect_url"].as_str().unwrap().to_string();
    Browser::new().sandbox_consent(&link, true).await;

    let again = session.execute_meta("COMPOSIO_MANAGE_CONNECTIONS", args(serde_json::json!({"toolkits": ["sandbox"]}))).await.unwrap();
    assert_eq!(again.data["results"]["sandbox"]["status"], "active");
    // The sandbox's who-am-I tool now runs as the user who consented.
    let me = session.execute("SANDBOX_GET_CURRENT_USER", Default::default(), None).await.unwrap();
    assert!(me.successful, "{me:?}");
    assert_eq!(me.data["sub"], "octocat");
    // github has no auth config in this project: the tool says so instead of failing the call.
    let gh = session.execute_meta("COMPOSIO_MANAGE_CONNECTIONS", args(serde_json::json!({"toolkits": ["github"]}))).await.unwrap();
    assert_eq!(gh.data["results"]["github"]["status"], "failed");
    assert!(gh.data["results"]["github"]["error"].as_str().unwrap().contains("auth config"));

    let off = gl.create("u", SessionOptions { manage_connections: Some(false), ..Default::default() }).await.unwrap();
    let off_tools: Vec<String> = off.tools().await.unwrap().into_iter().map(|t| t.slug).collect();
    assert!(!off_tools.contains(&"COMPOSIO_MANAGE_CONNECTIONS".to_string()), "{off_tools:?}");
    assert!(!off.info().tool_router_tools.contains(&"COMPOSIO_MANAGE_CONNECTIONS".to_string()));
    let refused = off.execute_meta("COMPOSIO_MANAGE_CONNECTIONS", args(serde_json::json!({"toolkits": ["sandbox"]}))).await;
    assert!(matches!(refused, Err(Error::Validation { ref field, .. }) if field == "slug"), "{refused:?}");
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
