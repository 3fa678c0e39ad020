//! An app reconnects a user's account (`POST …/connected_accounts/{id}/refresh`): the account
//! keeps its id, its status and its credentials while the new link is out; completing the link
//! makes the same account ACTIVE with the new credentials; refusing it, or leaving it to expire,
//! leaves the account exactly as it was; older links of the account stop working.

mod common;

use std::time::Duration;

use common::oidc::{sign_in, stored_access_token, stored_credentials, world};
use common::{query, Broker, BrokerOptions, Browser, Hop, APP};
use grantline_core::engine::vault::Vault;
use grantline_core::model::{AccountFilter, AccountStatus};
use grantline_core::{AuthorizeOptions, Error, Session, SessionOptions};
use serde_json::{json, Value};

fn sandbox_only() -> SessionOptions {
    SessionOptions { toolkits: vec!["sandbox".into()], manage_connections: Some(false), ..Default::default() }
}

/// A session of `user` with an ACTIVE sandbox account.
async fn connected_sandbox(broker: &Broker, user: &str) -> (Session, String) {
    let session = broker.client().create(user, sandbox_only()).await.unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    Browser::new().sandbox_consent(req.redirect_url(), true).await;
    assert_eq!(req.wait_for_connection(Duration::from_secs(30)).await.unwrap().status, AccountStatus::Active);
    (session, req.id().to_string())
}

/// `POST …/refresh` with `body` (and `query`), as Composio's SDKs send it.
async fn refresh_raw(broker: &Broker, id: &str, query: &str, body: Option<Value>) -> (u16, Value) {
    let mut rb = broker.http().post(broker.url(&format!("/api/v3.1/connected_accounts/{id}/refresh{query}")));
    if let Some(b) = body {
        rb = rb.json(&b);
    }
    let resp = rb.send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

async fn tool_works(session: &Session, slug: &str) -> bool {
    session.execute(slug, Default::default(), None).await.unwrap().successful
}

/// Opens a sandbox Connect Link and consents, but holds the provider's answer back: returns
/// the callback URL (with its `state` and code) the browser would load next.
async fn consent_held_back(browser: &Browser, broker: &Broker, link: &str) -> String {
    let to_provider = browser.http.get(link).send().await.unwrap();
    assert_eq!(to_provider.status().as_u16(), 303, "the link leads on to the provider");
    let authorize = url::Url::parse(to_provider.headers()["location"].to_str().unwrap()).unwrap();
    let mut form: Vec<(String, String)> = authorize.query_pairs().into_owned().collect();
    form.push(("decision".into(), "allow".into()));
    form.push(("user".into(), "octocat".into()));
    let to_cb = browser.http.post(broker.url("/sandbox/oauth/authorize")).form(&form).send().await.unwrap();
    to_cb.headers()["location"].to_str().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reconnect_keeps_the_account_working_until_the_new_link_completes_then_replaces_its_credentials() {
    let broker = Broker::start(BrokerOptions::default());
    let gl = broker.client();
    let (session, id) = connected_sandbox(&broker, "u").await;
    let first_token = stored_access_token(&broker, &id).await;

    // Composio's Python SDK sends `{}`: the answer is Composio's shape, the account as it is.
    let (status, older) = refresh_raw(&broker, &id, "", Some(json!({}))).await;
    assert_eq!(status, 200, "{older}");
    let keys: Vec<&str> = older.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["id", "redirect_url", "status"]);
    assert_eq!((older["id"].as_str(), older["status"].as_str()), (Some(id.as_str()), Some("ACTIVE")));
    let older_link = older["redirect_url"].as_str().unwrap().to_string();
    assert!(older_link.starts_with(&broker.url("/link/ln_")), "{older_link}");

    // The user starts the older link and consents, but the answer arrives late (held back here).
    let late_browser = Browser::new();
    let late_callback = consent_held_back(&late_browser, &broker, &older_link).await;

    // A newer refresh (the Rust client) replaces it.
    let newer = gl.connected_accounts().refresh(&id, Some(&format!("{APP}/done?again=1"))).await.unwrap();
    assert_eq!((newer.id.as_str(), newer.status), (id.as_str(), AccountStatus::Active));
    assert_ne!(newer.redirect_url, older_link);

    // While the new link is out: same status, same credentials, the tool still works.
    let pending = gl.connected_accounts().get(&id).await.unwrap();
    assert_eq!((pending.status, pending.reconnecting), (AccountStatus::Active, true));
    assert!(tool_works(&session, "SANDBOX_GET_CURRENT_USER").await);
    assert_eq!(stored_access_token(&broker, &id).await, first_token);

    // The older link and its late answer are refused, and change nothing.
    let reopened = Browser::new().http.get(&older_link).send().await.unwrap();
    assert_eq!(reopened.status().as_u16(), 400, "the older link no longer leads to the provider");
    let late = late_browser.http.get(&late_callback).send().await.unwrap();
    assert_eq!(late.status().as_u16(), 400, "the older link's state is refused");
    assert_eq!(gl.connected_accounts().get(&id).await.unwrap(), pending);
    assert_eq!(stored_access_token(&broker, &id).await, first_token);

    // The user completes the new link: back to the app, same id, ACTIVE, new credentials.
    let back = Browser::new().sandbox_consent(&newer.redirect_url, true).await;
    assert_eq!(back.status().as_u16(), 303);
    let landing = back.headers()["location"].to_str().unwrap().to_string();
    assert!(landing.starts_with(&format!("{APP}/done?")), "{landing}");
    let q = query(&landing);
    assert_eq!((q["again"].as_str(), q["status"].as_str(), q["connected_account_id"].as_str()), ("1", "success", id.as_str()));
    let done = gl.connected_accounts().get(&id).await.unwrap();
    assert_eq!((done.id.as_str(), done.status, done.reconnecting), (id.as_str(), AccountStatus::Active, false));
    assert_ne!(stored_access_token(&broker, &id).await, first_token, "the new link's tokens replaced the old ones");
    assert!(tool_works(&session, "SANDBOX_GET_CURRENT_USER").await);
    let listed = gl.connected_accounts().list(&AccountFilter { user_ids: vec!["u".into()], ..Default::default() }, None, None).await.unwrap();
    assert_eq!(listed.items.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), [id.as_str()], "no second account");

    // The new link is spent.
    assert_eq!(Browser::new().http.get(&newer.redirect_url).send().await.unwrap().status().as_u16(), 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reconnect_through_a_real_provider_signs_in_anew() {
    let w = world(&[]).await;
    let gl = w.broker.client();
    let req = w.session.authorize("oidc", AuthorizeOptions::default()).await.unwrap();
    sign_in(&Browser::new(), req.redirect_url(), "alice", "/confirm").await;
    req.wait_for_connection(Duration::from_secs(30)).await.unwrap();
    let alice_token = stored_access_token(&w.broker, req.id()).await;
    let who = |s: &Session| {
        let s = s.clone();
        async move { s.execute("OIDC_GET_CURRENT_USER", Default::default(), None).await.unwrap().data["sub"].clone() }
    };
    assert_eq!(who(&w.session).await, "alice");

    let older = gl.connected_accounts().refresh(req.id(), None).await.unwrap();
    let newer = gl.connected_accounts().refresh(req.id(), Some(&format!("{APP}/done"))).await.unwrap();
    assert_eq!(who(&w.session).await, "alice", "the account works while the link is out");
    let reopened = Browser::new().http.get(&older.redirect_url).send().await.unwrap();
    assert_eq!(reopened.status().as_u16(), 400, "the older link no longer leads to the provider");

    // A waiter blocked on the account resolves when the user completes the new link.
    let waiter = {
        let gl = gl.clone();
        let id = req.id().to_string();
        tokio::spawn(async move { gl.connected_accounts().wait_for_connection(&id, Duration::from_secs(60)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "the wait lasts while the reconnect link is out");
    match sign_in(&Browser::new(), &newer.redirect_url, "bob", "/confirm").await {
        Hop::Stopped(url) => assert_eq!(query(&url)["status"], "success"),
        other => panic!("expected the way back to the app, got {other:?}"),
    }
    let account = waiter.await.unwrap().unwrap();
    assert_eq!((account.id.as_str(), account.status), (req.id(), AccountStatus::Active));
    assert_ne!(stored_access_token(&w.broker, req.id()).await, alice_token);
    assert_eq!(who(&w.session).await, "bob", "the new grant is the one used");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_reconnect_leaves_the_account_exactly_as_it_was() {
    let w = world(&[]).await;
    let gl = w.broker.client();
    let req = w.session.authorize("oidc", AuthorizeOptions::default()).await.unwrap();
    sign_in(&Browser::new(), req.redirect_url(), "alice", "/confirm").await;
    req.wait_for_connection(Duration::from_secs(30)).await.unwrap();
    let before = gl.connected_accounts().get(req.id()).await.unwrap();
    let sealed = stored_credentials(&w.broker, req.id()).await;

    let refreshed = gl.connected_accounts().refresh(req.id(), Some(&format!("{APP}/done"))).await.unwrap();
    match sign_in(&Browser::new(), &refreshed.redirect_url, "alice", "/abort").await {
        Hop::Stopped(url) => assert_eq!((query(&url)["status"].as_str(), query(&url)["connected_account_id"].as_str()), ("failed", req.id())),
        other => panic!("expected the way back to the app, got {other:?}"),
    }
    let after = gl.connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(after, before, "status, reason and times are untouched");
    assert_eq!(stored_credentials(&w.broker, req.id()).await, sealed, "the credentials are untouched");
    let used = w.session.execute("OIDC_GET_CURRENT_USER", Default::default(), None).await.unwrap();
    assert_eq!(used.data["sub"], "alice", "{used:?}");
    // A waiter is not held: the reconnect is over, the account is as it was.
    let waited = gl.connected_accounts().wait_for_connection(req.id(), Duration::from_secs(5)).await.unwrap();
    assert_eq!(waited, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reconnect_link_left_to_expire_leaves_the_account_as_it_was() {
    let broker = Broker::start(BrokerOptions { link_ttl_secs: 1, ..Default::default() });
    let gl = broker.client();
    let (session, id) = connected_sandbox(&broker, "u").await;
    let before = gl.connected_accounts().get(&id).await.unwrap();
    let sealed = stored_credentials(&broker, &id).await;

    let refreshed = gl.connected_accounts().refresh(&id, None).await.unwrap();
    let browser = Browser::new();
    let late_callback = consent_held_back(&browser, &broker, &refreshed.redirect_url).await;
    // The wait ends at the link's expiry (not at its own timeout) with the account unchanged.
    let waited = gl.connected_accounts().wait_for_connection(&id, Duration::from_secs(30)).await.unwrap();
    assert_eq!(waited, before);

    // The sweep (run by listing) does not expire it, the link is dead, a late answer changes nothing.
    let listed = gl.connected_accounts().list(&AccountFilter::default(), None, None).await.unwrap();
    assert_eq!(listed.items, vec![before.clone()]);
    assert_eq!(browser.http.get(&refreshed.redirect_url).send().await.unwrap().status().as_u16(), 410);
    assert_eq!(browser.http.get(&late_callback).send().await.unwrap().status().as_u16(), 410);
    assert_eq!(gl.connected_accounts().get(&id).await.unwrap(), before);
    assert_eq!(stored_credentials(&broker, &id).await, sealed);
    assert!(tool_works(&session, "SANDBOX_GET_CURRENT_USER").await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_account_comes_back_under_the_same_id() {
    let broker = Broker::start(BrokerOptions::default());
    let gl = broker.client();
    let (session, id) = connected_sandbox(&broker, "u").await;
    let revoked = gl.connected_accounts().revoke(&id).await.unwrap();
    assert_eq!(revoked.connected_account.status, AccountStatus::Revoked);
    assert!(!tool_works(&session, "SANDBOX_GET_CURRENT_USER").await);

    let refreshed = gl.connected_accounts().refresh(&id, None).await.unwrap();
    assert_eq!(refreshed.status, AccountStatus::Revoked, "it stays REVOKED while the link is out");
    // A waiter does not fail on the REVOKED status while the reconnect is pending.
    let waiter = {
        let gl = gl.clone();
        let id = id.clone();
        tokio::spawn(async move { gl.connected_accounts().wait_for_connection(&id, Duration::from_secs(60)).await })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished());
    let page = Browser::new().sandbox_consent(&refreshed.redirect_url, true).await;
    assert_eq!(page.status().as_u16(), 200, "no redirect_url: the broker's connected page");
    let account = waiter.await.unwrap().unwrap();
    assert_eq!((account.id.as_str(), account.status, account.status_reason), (id.as_str(), AccountStatus::Active, None));
    assert!(tool_works(&session, "SANDBOX_GET_CURRENT_USER").await);

    // Revoking ends a pending reconnect: its link cannot bring the account back.
    let pending = gl.connected_accounts().refresh(&id, None).await.unwrap();
    gl.connected_accounts().revoke(&id).await.unwrap();
    assert_eq!(Browser::new().http.get(&pending.redirect_url).send().await.unwrap().status().as_u16(), 400);
    assert_eq!(gl.connected_accounts().get(&id).await.unwrap().status, AccountStatus::Revoked);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_initiated_account_gets_a_fresh_link() {
    let broker = Broker::start(BrokerOptions::default());
    let gl = broker.client();
    let session = gl.create("u", sandbox_only()).await.unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let refreshed = gl.connected_accounts().refresh(req.id(), None).await.unwrap();
    assert_eq!((refreshed.id.as_str(), refreshed.status), (req.id(), AccountStatus::Initiated));
    assert_eq!(Browser::new().http.get(req.redirect_url()).send().await.unwrap().status().as_u16(), 400, "the first link is replaced");
    Browser::new().sandbox_consent(&refreshed.redirect_url, true).await;
    assert_eq!(req.wait_for_connection(Duration::from_secs(30)).await.unwrap().status, AccountStatus::Active);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_refresh_requests_name_the_field_and_change_nothing() {
    let broker = Broker::start(BrokerOptions::default());
    let gl = broker.client();
    let (session, id) = connected_sandbox(&broker, "u").await;
    let pending = gl.connected_accounts().refresh(&id, None).await.unwrap();
    let before = gl.connected_accounts().get(&id).await.unwrap();

    let field = |v: &Value| v["error"]["field"].as_str().unwrap_or_default().to_string();
    let (status, body) = refresh_raw(&broker, &id, "", Some(json!({"redirect_url": "https://evil.example.net/done"}))).await;
    assert_eq!((status, field(&body)), (400, "redirect_url".to_string()), "{body}");
    let (status, body) = refresh_raw(&broker, &id, "?redirect_url=https%3A%2F%2Fevil.example.net%2F", None).await;
    assert_eq!((status, field(&body)), (400, "redirect_url".to_string()), "the query form (Composio's Node SDK): {body}");
    let (status, body) = refresh_raw(&broker, &id, "", Some(json!({"redirect_url": format!("{APP}/done"), "validate_credentials": true}))).await;
    assert_eq!((status, field(&body)), (400, "validate_credentials".to_string()), "{body}");
    let (status, body) = refresh_raw(&broker, &id, "?colour=red", None).await;
    assert_eq!((status, field(&body)), (400, "colour".to_string()), "{body}");
    let (status, body) = refresh_raw(&broker, "ca_missing", "", None).await;
    assert_eq!(status, 404, "{body}");

    // A client token (a browser) may not reconnect accounts.
    let token = session.client_token(None).await.unwrap();
    let as_browser = reqwest::Client::new()
        .post(broker.url(&format!("/api/v3.1/connected_accounts/{id}/refresh")))
        .bearer_auth(&token.token)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(as_browser.status().as_u16(), 403);

    // None of it touched the account or its pending link.
    assert_eq!(gl.connected_accounts().get(&id).await.unwrap(), before);
    Browser::new().sandbox_consent(&pending.redirect_url, true).await;
    assert_eq!(gl.connected_accounts().get(&id).await.unwrap().reconnecting, false);

    // The query form of `redirect_url` (Composio's Node SDK) is honoured.
    let url = format!("{APP}/settings");
    let (status, body) = refresh_raw(&broker, &id, &format!("?redirect_url={}", urlencode(&url)), Some(json!({}))).await;
    assert_eq!(status, 200, "{body}");
    let back = Browser::new().sandbox_consent(body["redirect_url"].as_str().unwrap(), true).await;
    assert!(back.headers()["location"].to_str().unwrap().starts_with(&format!("{url}?status=success")));
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

const KEYS_TOOLKIT: &str = r#"
[[toolkit]]
slug = "acme_keys"
name = "Acme (API key)"
description = "Acme's API with a personal key"
logo = "https://acme.example/logo.png"
auth = "api_key"
api_base_url = "https://api.acme.example"
fields = [{ name = "api_key", label = "API key", secret = true }]
credential = { header = "x-api-key", value = "{api_key}" }
"#;

const KEYS_TOOLKIT_NOW_NO_AUTH: &str = r#"
[[toolkit]]
slug = "acme_keys"
name = "Acme (open)"
description = "Acme's API, now open"
logo = "https://acme.example/logo.png"
auth = "none"
api_base_url = "https://api.acme.example"
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_connect_form_toolkit_reconnects_when_the_form_is_submitted() {
    let dir = tempfile::tempdir().unwrap();
    let providers = dir.path().join("providers.toml");
    std::fs::write(&providers, KEYS_TOOLKIT).unwrap();
    let mut broker = Broker::start(BrokerOptions { dev: false, providers: Some(providers.clone()), ..Default::default() });
    let gl = broker.client();
    let opts = SessionOptions { toolkits: vec!["acme_keys".into()], manage_connections: Some(false), ..Default::default() };
    let session = gl.create("u", opts).await.unwrap();
    let req = session.authorize("acme_keys", AuthorizeOptions::default()).await.unwrap();
    let submit = |link: String, key: &'static str| async move {
        reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap().post(link).form(&[("api_key", key)]).send().await.unwrap()
    };
    assert_eq!(submit(req.redirect_url().to_string(), "sk-first").await.status().as_u16(), 200);
    let stored_key = |broker: &Broker, id: String| {
        let (path, key) = (broker.db_path.clone(), broker.key.clone());
        async move {
            let store = grantline_core::engine::store::SqliteStore::open(&path).unwrap();
            use grantline_core::engine::store::Store;
            let project = store.first_project().await.unwrap().unwrap();
            let account = store.get_account(&project.id, &id).await.unwrap().unwrap();
            let values: Value = serde_json::from_slice(&Vault::from_base64(&key).unwrap().open(&id, &account.credentials_sealed.unwrap()).unwrap()).unwrap();
            values["api_key"].as_str().unwrap().to_string()
        }
    };
    assert_eq!(stored_key(&broker, req.id().into()).await, "sk-first");

    // Reconnecting shows the form again; an empty submission is refused and changes nothing.
    let refreshed = gl.connected_accounts().refresh(req.id(), None).await.unwrap();
    assert_eq!(refreshed.status, AccountStatus::Active);
    let form = reqwest::get(&refreshed.redirect_url).await.unwrap();
    assert_eq!(form.status().as_u16(), 200);
    assert!(form.text().await.unwrap().contains("API key"), "the connect form");
    assert_eq!(submit(refreshed.redirect_url.clone(), " ").await.status().as_u16(), 422);
    assert_eq!(stored_key(&broker, req.id().into()).await, "sk-first");
    assert_eq!(submit(refreshed.redirect_url.clone(), "sk-second").await.status().as_u16(), 200);
    let account = gl.connected_accounts().get(req.id()).await.unwrap();
    assert_eq!((account.status, account.reconnecting), (AccountStatus::Active, false));
    assert_eq!(stored_key(&broker, req.id().into()).await, "sk-second", "the same account holds the new key");
    assert_eq!(submit(refreshed.redirect_url.clone(), "sk-third").await.status().as_u16(), 400, "the link is spent");

    // A toolkit that needs no connection (here: redeclared so) has nothing to reconnect.
    std::fs::write(&providers, KEYS_TOOLKIT_NOW_NO_AUTH).unwrap();
    broker.restart();
    let (status, body) = refresh_raw(&broker, req.id(), "", None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["field"], "connected_account_id", "{body}");
    assert!(body["error"]["message"].as_str().unwrap().contains("needs no connection"), "{body}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wait_for_connection_on_a_reconnecting_account_times_out_with_its_own_error() {
    let broker = Broker::start(BrokerOptions::default());
    let gl = broker.client();
    let (_, id) = connected_sandbox(&broker, "u").await;
    gl.connected_accounts().refresh(&id, None).await.unwrap();
    match gl.connected_accounts().wait_for_connection(&id, Duration::from_millis(1200)).await {
        Err(e @ Error::ConnectionRequestTimeout { .. }) => assert_eq!(e.code(), "CONNECTION_REQUEST_TIMEOUT"),
        other => panic!("expected a timeout while the reconnect link is out, got {other:?}"),
    }
}
