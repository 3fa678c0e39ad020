//! End to end against an OAuth provider no one here wrote: npm's `oidc-provider`, started on
//! 127.0.0.1 by the test and declared to the broker as a custom provider. The test plays the
//! user's browser through the provider's own login and consent forms.

mod common;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::time::Duration;

use common::{free_port, query, Broker, BrokerOptions, Browser, Hop, APP};
use grantline_core::engine::store::{SqliteStore, Store};
use grantline_core::engine::vault::Vault;
use grantline_core::model::AccountStatus;
use grantline_core::{AuthorizeOptions, Error, Session, SessionOptions};
use serde_json::{json, Value};

/// Where the harness lives.
fn harness_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/oidc-provider")
}

/// The `oidc-provider` harness in `tests/oidc-provider`, running as a child process.
struct Provider {
    child: Child,
    /// Kept open: the harness must never write into a closed pipe.
    _stdout: BufReader<ChildStdout>,
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    userinfo_endpoint: String,
}

impl Provider {
    /// Starts the provider, allowing `redirect_uri`; `env` adds settings such as TOKEN_ENDPOINT_FAIL.
    fn start(redirect_uri: &str, env: &[(&str, &str)]) -> Provider {
        let dir = harness_dir();
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "run `npm ci` in tests/oidc-provider first (scripts/test.sh does it)"
        );
        let mut child = Command::new("node")
            .arg("server.mjs")
            .current_dir(&dir)
            .env("REDIRECT_URIS", redirect_uri)
            .env("CLIENT_ID", "grantline-e2e")
            .env("CLIENT_SECRET", "e2e-client-secret")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start node tests/oidc-provider/server.mjs");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).expect("provider output");
        let meta: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("provider printed {line:?}: {e}"));
        let field = |k: &str| meta[k].as_str().unwrap_or_else(|| panic!("no {k} in {meta}")).to_string();
        Provider {
            issuer: field("issuer"),
            authorization_endpoint: field("authorization_endpoint"),
            token_endpoint: field("token_endpoint"),
            userinfo_endpoint: field("userinfo_endpoint"),
            child,
            _stdout: stdout,
        }
    }

    /// `tests/oidc-provider/grantline-toolkit.toml` with this run's endpoints filled in.
    fn toolkit_toml(&self) -> String {
        std::fs::read_to_string(harness_dir().join("grantline-toolkit.toml"))
            .unwrap()
            .replace("@AUTHORIZATION_ENDPOINT@", &self.authorization_endpoint)
            .replace("@TOKEN_ENDPOINT@", &self.token_endpoint)
            .replace("@USERINFO_ENDPOINT@", &self.userinfo_endpoint)
    }

    /// How many times the broker called the token endpoint.
    async fn token_requests(&self) -> u64 {
        let stats: Value = reqwest::get(format!("{}/_stats", self.issuer)).await.unwrap().json().await.unwrap();
        stats["token_requests"].as_u64().unwrap()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A broker that knows the provider as toolkit `oidc`, with an auth config for its client.
struct World {
    provider: Provider,
    broker: Broker,
    session: Session,
}

async fn world(provider_env: &[(&str, &str)]) -> World {
    let port = free_port();
    let provider = Provider::start(&format!("http://127.0.0.1:{port}/oauth/callback"), provider_env);
    let dir = tempfile::tempdir().unwrap();
    let providers = dir.path().join("providers.toml");
    std::fs::write(&providers, provider.toolkit_toml()).unwrap();
    let broker = Broker::start(BrokerOptions { dev: false, port: Some(port), providers: Some(providers), ..Default::default() });
    drop(dir);

    let created = broker
        .http()
        .post(broker.url("/api/v3.1/auth_configs"))
        .json(&json!({"toolkit": {"slug": "oidc"}, "auth_config": {"type": "use_custom_auth", "auth_scheme": "OAUTH2",
            "credentials": {"client_id": "grantline-e2e", "client_secret": "e2e-client-secret",
                            "scopes": "openid,email,profile,offline_access"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status().as_u16(), 201, "{}", created.text().await.unwrap());

    let opts = SessionOptions { toolkits: vec!["oidc".into()], manage_connections: Some(false), ..Default::default() };
    let session = broker.client().create("alice", opts).await.unwrap();
    World { provider, broker, session }
}

/// The `action` of the page's form whose action ends with `suffix`, made absolute.
fn form_action(page_url: &str, html: &str, suffix: &str) -> String {
    html.split("action=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|a| a.ends_with(suffix))
        .map(|a| url::Url::parse(page_url).unwrap().join(a).unwrap().to_string())
        .unwrap_or_else(|| panic!("no form posting to …{suffix} in {html}"))
}

/// Expects `hop` to be a 200 page and returns its URL and HTML.
fn page(hop: Hop, what: &str) -> (String, String) {
    match hop {
        Hop::Page { url, status: 200, body } => (url, body),
        other => panic!("expected the provider's {what} page, got {other:?}"),
    }
}

/// Opens the Connect Link, signs in as `login` and answers consent; returns where the user lands.
async fn sign_in(browser: &Browser, redirect_url: &str, login: &str, consent: &str) -> Hop {
    let answered = answer_consent(browser, redirect_url, login, consent).await;
    browser.walk(answered, APP).await
}

/// Opens the Connect Link, signs in and posts the consent form ending with `consent`;
/// returns the provider's answer to that post (a redirect on its way back to the broker).
async fn answer_consent(browser: &Browser, redirect_url: &str, login: &str, consent: &str) -> reqwest::Response {
    let first = browser.http.get(redirect_url).send().await.unwrap();
    let (url, html) = page(browser.walk(first, APP).await, "login");
    let posted = browser
        .http
        .post(form_action(&url, &html, "/login"))
        .form(&[("login", login), ("password", "secret")])
        .send()
        .await
        .unwrap();
    let (url, html) = page(browser.walk(posted, APP).await, "consent");
    browser.http.post(form_action(&url, &html, consent)).send().await.unwrap()
}

fn landed(hop: Hop) -> std::collections::BTreeMap<String, String> {
    match hop {
        Hop::Stopped(url) => {
            assert!(url.starts_with(&format!("{APP}/done?")), "{url}");
            query(&url)
        }
        other => panic!("expected a redirect back to the app, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn user_signs_in_at_a_real_provider_and_the_waiting_app_gets_an_active_account() {
    let w = world(&[]).await;
    let req = w
        .session
        .authorize("oidc", AuthorizeOptions { callback_url: Some(format!("{APP}/done?tab=2")), alias: None })
        .await
        .unwrap();

    // The app blocks on the account before the user even opens the link.
    let waiter = tokio::spawn({
        let req = req.clone();
        async move { req.wait_for_connection(Duration::from_secs(60)).await }
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished());

    // The provider sees a PKCE S256 challenge and a long random state.
    let to_provider = Browser::new().http.get(req.redirect_url()).send().await.unwrap();
    let authorize = to_provider.headers()["location"].to_str().unwrap().to_string();
    assert!(authorize.starts_with(&w.provider.authorization_endpoint), "{authorize}");
    let q = query(&authorize);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["scope"], "openid email profile offline_access");
    assert!(q["state"].len() >= 32);

    let browser = Browser::new();
    let back = landed(sign_in(&browser, req.redirect_url(), "alice", "/confirm").await);
    assert_eq!(back["status"], "success");
    assert_eq!(back["connected_account_id"], req.id());
    assert_eq!(back["tab"], "2", "the callback URL's own parameters are kept");

    let account = waiter.await.unwrap().expect("the blocked waiter returns after the callback");
    assert_eq!(account.status, AccountStatus::Active);
    assert_eq!(account.id, req.id());
    assert_eq!(w.provider.token_requests().await, 1);

    // The stored token is the provider's real one: it opens the userinfo endpoint...
    let access_token = stored_access_token(&w.broker, req.id()).await;
    let me: Value = reqwest::Client::new()
        .get(&w.provider.userinfo_endpoint)
        .bearer_auth(&access_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["sub"], "alice", "{me}");
    // ...and it is nowhere in the database file in plaintext.
    assert!(access_token.len() >= 16);
    let db = w.broker.db_bytes();
    assert!(!db.windows(access_token.len()).any(|win| win == access_token.as_bytes()), "access token stored in plaintext");
    assert!(!String::from_utf8_lossy(&db).contains("e2e-client-secret"), "client secret stored in plaintext");
}

#[tokio::test(flavor = "multi_thread")]
async fn replaying_the_providers_answer_changes_nothing_and_spends_no_second_code() {
    let w = world(&[]).await;
    let req = w.session.authorize("oidc", AuthorizeOptions::default()).await.unwrap();
    let browser = Browser::new();
    // Stop at the broker's callback to keep the provider's answer for a replay.
    let answered = answer_consent(&browser, req.redirect_url(), "alice", "/confirm").await;
    let callback = match browser.walk(answered, &w.broker.url("/oauth/callback")).await {
        Hop::Stopped(url) => url,
        other => panic!("expected the provider to send the user to the broker's callback, got {other:?}"),
    };
    let done = browser.http.get(&callback).send().await.unwrap();
    assert_eq!(done.status().as_u16(), 200, "no callback_url: the user sees the connected page");
    let active = w.broker.client().connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(active.status, AccountStatus::Active);

    let replay = Browser::new().http.get(&callback).send().await.unwrap();
    assert_eq!(replay.status().as_u16(), 400);
    let html = replay.text().await.unwrap();
    assert!(html.contains("already"), "{html}");
    let after = w.broker.client().connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(after.status, AccountStatus::Active);
    assert_eq!(after.updated_at, active.updated_at, "a replay changes nothing");
    assert_eq!(w.provider.token_requests().await, 1, "a replayed code is never sent to the provider again");
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_consent_fails_the_account_and_tells_the_app() {
    let w = world(&[]).await;
    let req = w
        .session
        .authorize("oidc", AuthorizeOptions { callback_url: Some(format!("{APP}/done")), alias: None })
        .await
        .unwrap();
    let back = landed(sign_in(&Browser::new(), req.redirect_url(), "alice", "/abort").await);
    assert_eq!(back["status"], "failed");
    assert_eq!(back["connected_account_id"], req.id());

    match req.wait_for_connection(Duration::from_secs(10)).await {
        Err(Error::ConnectionRequestFailed { id, status, reason }) => {
            assert_eq!(id, req.id());
            assert_eq!(status, "FAILED");
            assert!(reason.as_deref().unwrap_or_default().contains("access_denied"), "{reason:?}");
        }
        other => panic!("expected ConnectionRequestFailed, got {other:?}"),
    }
    assert_eq!(w.provider.token_requests().await, 0, "nothing is exchanged after a denial");
    let stored = w.broker.client().connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(stored.status, AccountStatus::Failed);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_token_endpoint_fails_the_account_with_the_providers_status() {
    let w = world(&[("TOKEN_ENDPOINT_FAIL", "500")]).await;
    let req = w
        .session
        .authorize("oidc", AuthorizeOptions { callback_url: Some(format!("{APP}/done")), alias: None })
        .await
        .unwrap();
    let back = landed(sign_in(&Browser::new(), req.redirect_url(), "alice", "/confirm").await);
    assert_eq!(back["status"], "failed");
    assert_eq!(w.provider.token_requests().await, 1);

    let account = w.broker.client().connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(account.status, AccountStatus::Failed);
    let reason = account.status_reason.unwrap_or_default();
    assert!(reason.contains("HTTP 500") && reason.contains("server_error"), "the reason names the provider's answer: {reason}");
    assert!(stored_credentials(&w.broker, req.id()).await.is_none(), "no credentials are kept for a failed account");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_token_endpoint_fails_the_account() {
    let mut w = world(&[]).await;
    let req = w.session.authorize("oidc", AuthorizeOptions::default()).await.unwrap();
    let browser = Browser::new();
    let answered = answer_consent(&browser, req.redirect_url(), "alice", "/confirm").await;
    let Hop::Stopped(callback) = browser.walk(answered, &w.broker.url("/oauth/callback")).await else {
        panic!("expected the provider to send the user to the broker's callback");
    };
    // The provider goes away between consent and the code exchange.
    let _ = w.provider.child.kill();
    let _ = w.provider.child.wait();

    let page = browser.http.get(&callback).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("data-outcome=\"failed\""));
    let account = w.broker.client().connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(account.status, AccountStatus::Failed);
    assert_eq!(account.status_reason.as_deref(), Some("token endpoint could not be reached"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_test_provider_enforces_pkce_so_the_flows_above_prove_the_broker_sends_it() {
    let redirect_uri = "http://127.0.0.1:9/cb";
    let provider = Provider::start(redirect_uri, &[]);
    let mut authorize = url::Url::parse(&provider.authorization_endpoint).unwrap();
    authorize
        .query_pairs_mut()
        .append_pair("client_id", "grantline-e2e")
        .append_pair("response_type", "code")
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid")
        .append_pair("state", "s1");
    let browser = Browser::new();
    let hop = browser.walk(browser.http.get(authorize.as_str()).send().await.unwrap(), redirect_uri).await;
    let Hop::Stopped(back) = hop else { panic!("expected an error redirect, got {hop:?}") };
    let q = query(&back);
    assert_eq!(q["error"], "invalid_request", "{back}");
    assert!(q["error_description"].contains("PKCE"), "{back}");
}

/// The sealed credentials the broker stored for `account_id`, read from its SQLite file.
async fn stored_credentials(broker: &Broker, account_id: &str) -> Option<Vec<u8>> {
    let store = SqliteStore::open(&broker.db_path).unwrap();
    let project = store.first_project().await.unwrap().expect("a project");
    let account = store.get_account(&project.id, account_id).await.unwrap().expect("the account");
    account.credentials_sealed
}

/// Opens the stored credentials with the broker's key and returns the access token.
async fn stored_access_token(broker: &Broker, account_id: &str) -> String {
    let sealed = stored_credentials(broker, account_id).await.expect("credentials for an active account");
    let vault = Vault::from_base64(&broker.key).unwrap();
    let tokens: Value = serde_json::from_slice(&vault.open(account_id, &sealed).unwrap()).unwrap();
    tokens["access_token"].as_str().expect("an access token").to_string()
}
