//! npm's `oidc-provider` as the OAuth peer of the end-to-end tests: starting it, declaring it
//! to a broker as toolkit `oidc`, and playing the user through its login and consent forms.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdout, Command, Stdio};

use grantline_core::engine::store::{SqliteStore, Store};
use grantline_core::engine::vault::Vault;
use grantline_core::{Session, SessionOptions};
use serde_json::{json, Value};

use super::{free_port, Broker, BrokerOptions, Browser, Hop, APP};

/// Where the harness lives.
pub fn harness_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/oidc-provider")
}

/// The `oidc-provider` harness in `tests/oidc-provider`, running as a child process.
pub struct Provider {
    pub child: Child,
    /// Kept open: the harness must never write into a closed pipe.
    _stdout: BufReader<ChildStdout>,
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub userinfo_endpoint: String,
    /// How a broker declares this provider (`grantline serve --providers`).
    pub toolkit_toml: String,
}

impl Provider {
    /// Starts the provider, allowing `redirect_uri`; `env` adds settings such as TOKEN_ENDPOINT_FAIL.
    pub fn start(redirect_uri: &str, env: &[(&str, &str)]) -> Provider {
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
            toolkit_toml: field("toolkit_toml"),
            child,
            _stdout: stdout,
        }
    }

    /// The toolkit declaration in a file for `grantline serve --providers` (in a temporary
    /// folder: keep it until the broker has started).
    pub fn providers_file(&self) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("providers.toml");
        std::fs::write(&path, &self.toolkit_toml).unwrap();
        (dir, path)
    }

    /// Makes the token endpoint answer `status` from now on (0: work again).
    pub async fn fail_token_endpoint(&self, status: u16) {
        let r = reqwest::Client::new().post(format!("{}/_control?token_endpoint_fail={status}", self.issuer)).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 204);
    }

    /// How many times the broker called the token endpoint.
    pub async fn token_requests(&self) -> u64 {
        let stats: Value = reqwest::get(format!("{}/_stats", self.issuer)).await.unwrap().json().await.unwrap();
        stats["token_requests"].as_u64().unwrap()
    }

    /// How many tokens the provider's revocation endpoint revoked.
    pub async fn revocations(&self) -> u64 {
        let stats: Value = reqwest::get(format!("{}/_stats", self.issuer)).await.unwrap().json().await.unwrap();
        stats["revocations"].as_u64().unwrap()
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A broker that knows the provider as toolkit `oidc`, with an auth config for its client.
pub struct World {
    pub provider: Provider,
    pub broker: Broker,
    pub session: Session,
}

pub async fn world(provider_env: &[(&str, &str)]) -> World {
    let opts = SessionOptions { toolkits: vec!["oidc".into()], manage_connections: Some(false), ..Default::default() };
    world_with(provider_env, opts).await
}

/// [`world`] with the session created from `opts`.
pub async fn world_with(provider_env: &[(&str, &str)], opts: SessionOptions) -> World {
    let port = free_port();
    let provider = Provider::start(&format!("http://127.0.0.1:{port}/oauth/callback"), provider_env);
    let (dir, providers) = provider.providers_file();
    let broker = Broker::start(BrokerOptions { dev: false, port: Some(port), providers: Some(providers), ..Default::default() });
    drop(dir);
    add_auth_config(&broker).await;

    let session = broker.client().create("alice", opts).await.unwrap();
    World { provider, broker, session }
}

/// Stores the provider's OAuth client as the broker's auth config for toolkit `oidc`.
pub async fn add_auth_config(broker: &Broker) {
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
}

/// The `action` of the page's form whose action ends with `suffix`, made absolute.
pub fn form_action(page_url: &str, html: &str, suffix: &str) -> String {
    html.split("action=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .find(|a| a.ends_with(suffix))
        .map(|a| url::Url::parse(page_url).unwrap().join(a).unwrap().to_string())
        .unwrap_or_else(|| panic!("no form posting to …{suffix} in {html}"))
}

/// Expects `hop` to be a 200 page and returns its URL and HTML.
pub fn page(hop: Hop, what: &str) -> (String, String) {
    match hop {
        Hop::Page { url, status: 200, body } => (url, body),
        other => panic!("expected the provider's {what} page, got {other:?}"),
    }
}

/// Opens the Connect Link, signs in as `login` and answers consent; returns where the user lands.
pub async fn sign_in(browser: &Browser, redirect_url: &str, login: &str, consent: &str) -> Hop {
    let answered = answer_consent(browser, redirect_url, login, consent).await;
    browser.walk(answered, APP).await
}

/// Opens the Connect Link, signs in and posts the consent form ending with `consent`;
/// returns the provider's answer to that post (a redirect on its way back to the broker).
pub async fn answer_consent(browser: &Browser, redirect_url: &str, login: &str, consent: &str) -> reqwest::Response {
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

/// Signs in and consents at the provider, stopping at the broker's callback: the provider's
/// answer as a URL, not yet delivered (to replay it, or send it many times at once).
pub async fn answer_up_to_callback(browser: &Browser, broker: &Broker, redirect_url: &str) -> String {
    let answered = answer_consent(browser, redirect_url, "alice", "/confirm").await;
    match browser.walk(answered, &broker.url("/oauth/callback")).await {
        Hop::Stopped(url) => url,
        other => panic!("expected the provider to send the user to the broker's callback, got {other:?}"),
    }
}

/// The sealed credentials the broker stored for `account_id`, read from its SQLite file.
pub async fn stored_credentials(broker: &Broker, account_id: &str) -> Option<Vec<u8>> {
    let store = SqliteStore::open(&broker.db_path).unwrap();
    let project = store.first_project().await.unwrap().expect("a project");
    let account = store.get_account(&project.id, account_id).await.unwrap().expect("the account");
    account.credentials_sealed
}

/// Opens the stored credentials with the broker's key and returns the access token.
pub async fn stored_access_token(broker: &Broker, account_id: &str) -> String {
    let sealed = stored_credentials(broker, account_id).await.expect("credentials for an active account");
    let vault = Vault::from_base64(&broker.key).unwrap();
    let tokens: Value = serde_json::from_slice(&vault.open(account_id, &sealed).unwrap()).unwrap();
    tokens["access_token"].as_str().expect("an access token").to_string()
}
