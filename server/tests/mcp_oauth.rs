//! MCP authorization, as an MCP client meets it with nothing but a session's MCP URL:
//! discovery from the `401`, registration (DCR, or a Client ID Metadata Document), the consent
//! page, the code exchange with PKCE and `resource`, refresh with rotation, revocation — and
//! every way it must refuse, each checked to have issued nothing.

mod common;

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{Broker, BrokerOptions};
use grantline_core::engine::secrets;
use serde_json::{json, Value};

const VERIFIER: &str = "a-pkce-verifier-that-is-long-enough-for-the-rules-of-rfc-7636";
const REDIRECT: &str = "http://127.0.0.1:33418/callback";

async fn new_session(broker: &Broker, user: &str) -> (String, String) {
    // A dev broker's sessions offer its offline sandbox toolkit; others every toolkit.
    let body = if broker.opts.dev { json!({"user_id": user, "toolkits": {"enable": ["sandbox"]}}) } else { json!({"user_id": user}) };
    let resp = broker
        .http()
        .post(broker.url("/api/v3.1/tool_router/session"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let s: Value = resp.json().await.unwrap();
    (s["session_id"].as_str().unwrap().to_string(), s["mcp"]["url"].as_str().unwrap().to_string())
}

fn plain() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn register(broker: &Broker, name: &str) -> String {
    let resp = plain()
        .post(broker.url("/mcp/oauth/register"))
        .json(&json!({"client_name": name, "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
                      "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    body["client_id"].as_str().unwrap().to_string()
}

/// The query of an authorization request that should succeed; tests remove or change pieces.
fn authorize_query(client_id: &str, resource: &str) -> Vec<(String, String)> {
    [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("state", "st-1"),
        ("scope", "mcp"),
        ("code_challenge", &secrets::s256(VERIFIER)),
        ("code_challenge_method", "S256"),
        ("resource", resource),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn without(mut q: Vec<(String, String)>, key: &str) -> Vec<(String, String)> {
    q.retain(|(k, _)| k != key);
    q
}

fn with(q: Vec<(String, String)>, key: &str, value: &str) -> Vec<(String, String)> {
    let mut q = without(q, key);
    q.push((key.into(), value.into()));
    q
}

fn query_of(location: &str) -> HashMap<String, String> {
    url::Url::parse(location).unwrap().query_pairs().into_owned().collect()
}

fn hidden(html: &str, name: &str) -> String {
    let marker = format!(r#"name="{name}" value=""#);
    let start = html.find(&marker).unwrap_or_else(|| panic!("no {name} in {html}")) + marker.len();
    html[start..].split('"').next().unwrap().to_string()
}

/// A person in a browser: opens the authorization URL, and approves or denies on the page.
struct Person {
    browser: common::Browser,
}

impl Person {
    fn new() -> Self {
        Self { browser: common::Browser::new() }
    }

    async fn open(&self, broker: &Broker, q: &[(String, String)]) -> reqwest::Response {
        self.browser.http.get(broker.url("/mcp/oauth/authorize")).query(q).send().await.unwrap()
    }

    /// Opens the consent page and clicks `decision`; the redirect's query.
    async fn decide(&self, broker: &Broker, q: &[(String, String)], decision: &str) -> HashMap<String, String> {
        let page = self.open(broker, q).await;
        assert_eq!(page.status(), 200);
        let html = page.text().await.unwrap();
        let form = [("authorization_id", hidden(&html, "authorization_id")), ("csrf", hidden(&html, "csrf")), ("decision", decision.into())];
        let resp = self.browser.http.post(broker.url("/mcp/oauth/consent")).form(&form).send().await.unwrap();
        assert_eq!(resp.status(), 303, "{}", resp.text().await.unwrap());
        let mut location = resp.headers()["location"].to_str().unwrap().to_string();
        if decision == "approve" {
            // No code yet: the app's verifier (a --dev broker's own) must confirm who this is.
            let user = between(&html, "asks to act as <strong>", "</strong>");
            location = self.verified_as(broker, &location, &user).await.headers()["location"].to_str().unwrap().to_string();
        }
        assert!(location.starts_with("http://127.0.0.1:33418/callback?"), "{location}");
        query_of(&location)
    }

    /// Plays the app: its backend confirms that the person its verification page (`verifier`,
    /// with `flow_id`) sees is `user_id`, and the browser goes back to the broker. The broker's answer.
    async fn verified_as(&self, broker: &Broker, verifier: &str, user_id: &str) -> reqwest::Response {
        let flow_id = query_of(verifier)["flow_id"].clone();
        let confirmed = broker
            .http()
            .post(broker.url(&format!("/api/v3.1/user_verifications/{flow_id}/confirm")))
            .json(&json!({"user_id": user_id}))
            .send()
            .await
            .unwrap();
        assert_eq!(confirmed.status(), 200);
        let back: Value = confirmed.json().await.unwrap();
        self.browser.http.get(back["redirect_url"].as_str().unwrap()).send().await.unwrap()
    }

    async fn code(&self, broker: &Broker, client_id: &str, resource: &str) -> String {
        let answer = self.decide(broker, &authorize_query(client_id, resource), "approve").await;
        assert_eq!((answer["state"].as_str(), answer["iss"].as_str()), ("st-1", broker.base_url.as_str()));
        answer["code"].clone()
    }
}

async fn token(broker: &Broker, form: &[(&str, &str)]) -> (u16, Value) {
    let resp = plain().post(broker.url("/mcp/oauth/token")).form(form).send().await.unwrap();
    let status = resp.status().as_u16();
    assert_eq!(resp.headers().get("cache-control").map(|v| v.to_str().unwrap()), Some("no-store"));
    (status, resp.json().await.unwrap())
}

async fn exchange(broker: &Broker, client_id: &str, code: &str, resource: &str) -> (u16, Value) {
    token(
        broker,
        &[("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT), ("client_id", client_id),
          ("code_verifier", VERIFIER), ("resource", resource)],
    )
    .await
}

async fn refresh(broker: &Broker, client_id: &str, refresh_token: &str) -> (u16, Value) {
    token(broker, &[("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", client_id)]).await
}

fn issued_nothing(answer: &(u16, Value), error: &str) {
    assert_eq!(answer.0, 400, "{}", answer.1);
    assert_eq!(answer.1["error"], error, "{}", answer.1);
    assert!(answer.1.get("access_token").is_none() && answer.1.get("refresh_token").is_none());
}

/// Calls `initialize` on an MCP URL with a bearer token: the status and `WWW-Authenticate`.
async fn mcp_status(mcp_url: &str, bearer: Option<&str>) -> (u16, String) {
    let mut rb = plain()
        .post(mcp_url)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}));
    if let Some(t) = bearer {
        rb = rb.bearer_auth(t);
    }
    let resp = rb.send().await.unwrap();
    let challenge = resp.headers().get("www-authenticate").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
    (resp.status().as_u16(), challenge)
}

async fn tool_names(mcp_url: &str, access: &str) -> Vec<String> {
    let resp = plain()
        .post(mcp_url)
        .bearer_auth(access)
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-11-25")
        .json(&json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = resp.json().await.unwrap();
    body["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_string()).collect()
}

async fn get_json(url: &str) -> (u16, Value) {
    let resp = plain().get(url).send().await.unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_with_only_the_session_url_is_walked_through_a_login() {
    let broker = Broker::start(BrokerOptions::default());
    let (session, mcp_url) = new_session(&broker, "ada").await;

    // No credential: a 401 that says where the metadata is.
    let (status, challenge) = mcp_status(&mcp_url, None).await;
    let prm_url = broker.url(&format!("/.well-known/oauth-protected-resource/tool_router/{session}/mcp"));
    assert_eq!(status, 401);
    assert!(challenge.starts_with(&format!(r#"Bearer resource_metadata="{prm_url}""#)), "{challenge}");
    assert!(!challenge.contains("invalid_token"), "no token, no token error: {challenge}");

    let (_, prm) = get_json(&prm_url).await;
    assert_eq!(prm["resource"], mcp_url);
    assert_eq!(prm["authorization_servers"], json!([broker.base_url]));
    assert_eq!(prm["bearer_methods_supported"], json!(["header"]));
    assert_eq!(prm["scopes_supported"], json!(["mcp"]));
    for path in ["/.well-known/oauth-authorization-server", "/.well-known/openid-configuration"] {
        let (status, asm) = get_json(&broker.url(path)).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(asm["issuer"], broker.base_url);
        assert_eq!(asm["code_challenge_methods_supported"], json!(["S256"]));
        assert_eq!(asm["client_id_metadata_document_supported"], true);
        assert_eq!(asm["authorization_response_iss_parameter_supported"], true);
        assert_eq!(asm["token_endpoint_auth_methods_supported"], json!(["none"]));
        assert_eq!(asm["registration_endpoint"], broker.url("/mcp/oauth/register"));
        assert_eq!(asm["revocation_endpoint"], broker.url("/mcp/oauth/revoke"));
        assert_eq!(asm["grant_types_supported"], json!(["authorization_code", "refresh_token"]));
    }

    let client_id = register(&broker, "Agent <b>X</b>").await;
    let person = Person::new();
    let page = person.open(&broker, &authorize_query(&client_id, &mcp_url)).await;
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Agent &lt;b&gt;X&lt;/b&gt;") && !html.contains("<b>X</b>"), "the client's name is escaped");
    assert!(html.contains("<strong>ada</strong>"), "the page names the session's user");
    assert!(html.contains("Grantline Sandbox"), "the page names what the client may reach");
    assert!(html.contains("goes to <strong>127.0.0.1</strong>") && html.contains("a program on this computer"), "where the answer goes");

    // A decision posted without the consent cookie (from another site) changes nothing.
    let form = [("authorization_id", hidden(&html, "authorization_id")), ("csrf", hidden(&html, "csrf")), ("decision", "approve".to_string())];
    let forged = plain().post(broker.url("/mcp/oauth/consent")).form(&form).send().await.unwrap();
    assert_eq!(forged.status(), 403);

    // The person approves in their browser, the app's verifier confirms they are ada, and the
    // browser goes back to the client with code, state and iss.
    let approved = person.browser.http.post(broker.url("/mcp/oauth/consent")).form(&form).send().await.unwrap();
    assert_eq!(approved.status(), 303);
    let verifier = approved.headers()["location"].to_str().unwrap().to_string();
    let back = person.verified_as(&broker, &verifier, "ada").await;
    assert_eq!(back.status(), 303);
    let answer = query_of(back.headers()["location"].to_str().unwrap());
    assert_eq!((answer["state"].as_str(), answer["iss"].as_str()), ("st-1", broker.base_url.as_str()));
    let code = answer["code"].clone();
    assert!(code.starts_with("glmac_"));
    // The same consent form posted again decides nothing more.
    let again = person.browser.http.post(broker.url("/mcp/oauth/consent")).form(&form).send().await.unwrap();
    assert!(again.status().is_client_error(), "{}", again.status());
    // A client that sends a secret is not one of these public clients.
    let secret = token(&broker, &[("grant_type", "authorization_code"), ("code", &code), ("client_id", &client_id), ("client_secret", "s")]).await;
    assert_eq!((secret.0, secret.1["error"].as_str()), (401, Some("invalid_client")));
    let (status, tokens) = exchange(&broker, &client_id, &code, &mcp_url).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    let refresh_token = tokens["refresh_token"].as_str().unwrap();
    assert!(access.starts_with("glmat_") && refresh_token.starts_with("glmrt_"));
    assert_eq!((tokens["token_type"].as_str(), tokens["expires_in"].as_i64()), (Some("Bearer"), Some(3600)));

    assert_eq!(mcp_status(&mcp_url, Some(access)).await.0, 200);
    assert!(tool_names(&mcp_url, access).await.contains(&"COMPOSIO_MANAGE_CONNECTIONS".to_string()));

    // Refresh rotates; revoking the new refresh token ends every token of the grant.
    let (status, rotated) = refresh(&broker, &client_id, refresh_token).await;
    assert_eq!(status, 200, "{rotated}");
    let access2 = rotated["access_token"].as_str().unwrap();
    assert_eq!(mcp_status(&mcp_url, Some(access2)).await.0, 200);
    let revoked = plain()
        .post(broker.url("/mcp/oauth/revoke"))
        .form(&[("token", rotated["refresh_token"].as_str().unwrap()), ("client_id", &client_id)])
        .send()
        .await
        .unwrap();
    assert_eq!(revoked.status(), 200);
    for t in [access, access2] {
        let (status, challenge) = mcp_status(&mcp_url, Some(t)).await;
        assert_eq!(status, 401);
        assert!(challenge.contains(r#"error="invalid_token""#) && challenge.contains("resource_metadata="), "{challenge}");
    }
    issued_nothing(&refresh(&broker, &client_id, rotated["refresh_token"].as_str().unwrap()).await, "invalid_grant");

    // Denying sends the client access_denied, with state and iss.
    let denied = Person::new().decide(&broker, &authorize_query(&client_id, &mcp_url), "deny").await;
    assert_eq!(
        (denied["error"].as_str(), denied["state"].as_str(), denied["iss"].as_str(), denied.get("code")),
        ("access_denied", "st-1", broker.base_url.as_str(), None)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_works_only_on_the_session_url_it_was_granted_for_and_dies_with_the_session() {
    let broker = Broker::start(BrokerOptions::default());
    let (_, url_a) = new_session(&broker, "ada").await;
    let (b, url_b) = new_session(&broker, "bob").await;
    let client_id = register(&broker, "Agent").await;
    let code = Person::new().code(&broker, &client_id, &url_a).await;
    let (_, tokens) = exchange(&broker, &client_id, &code, &url_a).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(mcp_status(&url_a, Some(access)).await.0, 200);
    let (status, challenge) = mcp_status(&url_b, Some(access)).await;
    assert_eq!(status, 401, "a token for session A on session B's URL");
    assert!(challenge.contains("invalid_token") && challenge.contains(&format!("/tool_router/{b}/mcp")), "{challenge}");
    // Nor is it a credential anywhere else: the REST API refuses it.
    let rest = plain().get(broker.url(&format!("/api/v3.1/tool_router/session/{b}"))).bearer_auth(access).send().await.unwrap();
    assert_eq!(rest.status(), 403, "refused, naming where it works");
    assert!(rest.text().await.unwrap().contains("only works on its own session's MCP endpoint"));

    // Deleting the session ends its tokens, and its refresh token issues nothing more.
    let id_a = url_a.split('/').rev().nth(1).unwrap();
    let deleted = broker.http().delete(broker.url(&format!("/api/v3.1/tool_router/session/{id_a}"))).send().await.unwrap();
    assert_eq!(deleted.status(), 200);
    assert_eq!(mcp_status(&url_a, Some(access)).await.0, 401);
    issued_nothing(&refresh(&broker, &client_id, tokens["refresh_token"].as_str().unwrap()).await, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_without_pkce_s256_or_a_session_resource_issue_nothing() {
    let broker = Broker::start(BrokerOptions::default());
    let (session, mcp_url) = new_session(&broker, "ada").await;
    let (_, other_url) = new_session(&broker, "bob").await;
    let client_id = register(&broker, "Agent").await;
    let person = Person::new();
    let q = authorize_query(&client_id, &mcp_url);

    // At the authorization endpoint: back to the client with an error, state and iss; no code.
    for (query, error) in [
        (without(q.clone(), "code_challenge"), "invalid_request"),
        (with(with(q.clone(), "code_challenge_method", "plain"), "code_challenge", VERIFIER), "invalid_request"),
        (without(q.clone(), "code_challenge_method"), "invalid_request"),
        (without(q.clone(), "resource"), "invalid_target"),
        (with(q.clone(), "resource", &broker.url("/tool_router/trs_nosuchsession/mcp")), "invalid_target"),
        (with(q.clone(), "resource", &broker.url(&format!("/tool_router/{session}"))), "invalid_target"),
        (with(q.clone(), "response_type", "token"), "unsupported_response_type"),
        (with(q.clone(), "scope", "admin"), "invalid_scope"),
    ] {
        let resp = person.open(&broker, &query).await;
        assert_eq!(resp.status(), 303, "{error}");
        let answer = query_of(resp.headers()["location"].to_str().unwrap());
        assert_eq!(answer["error"], error);
        assert_eq!((answer["state"].as_str(), answer["iss"].as_str()), ("st-1", broker.base_url.as_str()));
        assert!(!answer.contains_key("code"));
    }
    // Before the redirect URI is trusted: a page, never a redirect.
    for (query, field) in [
        (with(q.clone(), "redirect_uri", "https://evil.example/cb"), "redirect_uri"),
        (without(q.clone(), "redirect_uri"), "redirect_uri"),
        (with(q.clone(), "client_id", "mcpcl_unknown"), "client_id"),
        (without(q.clone(), "client_id"), "client_id"),
    ] {
        let resp = person.open(&broker, &query).await;
        assert_eq!(resp.status(), 400, "{field}");
        assert!(resp.text().await.unwrap().contains(field));
    }

    // At the token endpoint: each try spends a fresh code and gets no token.
    let code = person.code(&broker, &client_id, &mcp_url).await;
    issued_nothing(&exchange(&broker, &client_id, &code, &other_url).await, "invalid_target");
    let code = person.code(&broker, &client_id, &mcp_url).await;
    let no_resource = token(&broker, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT),
        ("client_id", &client_id), ("code_verifier", VERIFIER)]).await;
    issued_nothing(&no_resource, "invalid_target");
    let code = person.code(&broker, &client_id, &mcp_url).await;
    let no_verifier = token(&broker, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT),
        ("client_id", &client_id), ("resource", &mcp_url)]).await;
    issued_nothing(&no_verifier, "invalid_grant");
    let code = person.code(&broker, &client_id, &mcp_url).await;
    let wrong_verifier = token(&broker, &[("grant_type", "authorization_code"), ("code", &code), ("redirect_uri", REDIRECT),
        ("client_id", &client_id), ("resource", &mcp_url), ("code_verifier", &"x".repeat(50))]).await;
    issued_nothing(&wrong_verifier, "invalid_grant");
    let code = person.code(&broker, &client_id, &mcp_url).await;
    let other_client = register(&broker, "Other").await;
    issued_nothing(&exchange(&broker, &other_client, &code, &mcp_url).await, "invalid_grant");
    // A spent code stays spent, even with everything right.
    issued_nothing(&exchange(&broker, &client_id, &code, &mcp_url).await, "invalid_grant");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replayed_code_or_rotated_refresh_token_revokes_the_whole_grant() {
    let broker = Broker::start(BrokerOptions::default());
    let (_, mcp_url) = new_session(&broker, "ada").await;
    let client_id = register(&broker, "Agent").await;
    let person = Person::new();

    let code = person.code(&broker, &client_id, &mcp_url).await;
    let (_, first) = exchange(&broker, &client_id, &code, &mcp_url).await;
    let access = first["access_token"].as_str().unwrap();
    assert_eq!(mcp_status(&mcp_url, Some(access)).await.0, 200);
    issued_nothing(&exchange(&broker, &client_id, &code, &mcp_url).await, "invalid_grant");
    assert_eq!(mcp_status(&mcp_url, Some(access)).await.0, 401, "the replay revoked what the code issued");
    issued_nothing(&refresh(&broker, &client_id, first["refresh_token"].as_str().unwrap()).await, "invalid_grant");

    let code = person.code(&broker, &client_id, &mcp_url).await;
    let (_, tokens) = exchange(&broker, &client_id, &code, &mcp_url).await;
    let r1 = tokens["refresh_token"].as_str().unwrap();
    let (status, rotated) = refresh(&broker, &client_id, r1).await;
    assert_eq!(status, 200);
    let (a2, r2) = (rotated["access_token"].as_str().unwrap(), rotated["refresh_token"].as_str().unwrap());
    assert_eq!(mcp_status(&mcp_url, Some(a2)).await.0, 200);
    issued_nothing(&refresh(&broker, &client_id, r1).await, "invalid_grant");
    for t in [tokens["access_token"].as_str().unwrap(), a2] {
        assert_eq!(mcp_status(&mcp_url, Some(t)).await.0, 401, "the whole grant is revoked");
    }
    issued_nothing(&refresh(&broker, &client_id, r2).await, "invalid_grant");
    assert_eq!(mcp_status(&mcp_url, Some("glmat_made-up")).await.0, 401);
}

#[tokio::test(flavor = "multi_thread")]
async fn registration_refuses_what_it_does_not_implement_naming_the_field() {
    let broker = Broker::start(BrokerOptions::default());
    for (body, error, field) in [
        (json!({"redirect_uris": ["https://a.example/cb"], "token_endpoint_auth_method": "client_secret_basic"}), "invalid_client_metadata", "token_endpoint_auth_method"),
        (json!({"redirect_uris": ["http://a.example/cb"]}), "invalid_redirect_uri", "redirect_uris[0]"),
        (json!({}), "invalid_redirect_uri", "redirect_uris"),
        (json!({"redirect_uris": ["https://a.example/cb"], "grant_types": ["client_credentials"]}), "invalid_client_metadata", "grant_types"),
        (json!({"redirect_uris": ["https://a.example/cb"], "jwks_uri": "https://a.example/jwks"}), "invalid_client_metadata", "jwks_uri"),
    ] {
        let resp = plain().post(broker.url("/mcp/oauth/register")).json(&body).send().await.unwrap();
        assert_eq!(resp.status(), 400);
        let answer: Value = resp.json().await.unwrap();
        assert_eq!(answer["error"], error, "{answer}");
        assert!(answer["error_description"].as_str().unwrap().starts_with(&format!("{field}:")), "{answer}");
    }
}

/// Serves one client metadata document on 127.0.0.1, counting the connections it accepts.
async fn serve_document(doc: impl Fn(&str) -> Value + Send + Sync + 'static) -> (String, Arc<AtomicUsize>) {
    serve_document_with(doc, "no-store").await
}

/// [`serve_document`] with this `Cache-Control`.
async fn serve_document_with(doc: impl Fn(&str) -> Value + Send + Sync + 'static, cache_control: &'static str) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let (url, count) = (format!("{base}/client.json"), hits.clone());
    let body = doc(&url).to_string();
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        loop {
            let (mut sock, _) = listener.accept().await.unwrap();
            count.fetch_add(1, Ordering::SeqCst);
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = sock.read(&mut buf).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncache-control: {cache_control}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = sock.write_all(head.as_bytes()).await;
                let _ = sock.write_all(body.as_bytes()).await;
            });
        }
    });
    (url, hits)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_identified_by_its_metadata_document_logs_in() {
    let broker = Broker::start(BrokerOptions::default());
    let (_, mcp_url) = new_session(&broker, "ada").await;
    let (client_id, hits) = serve_document(|url| {
        json!({"client_id": url, "client_name": "Doc Agent", "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "none",
               "client_uri": "https://agent.example"})
    })
    .await;
    let person = Person::new();
    let html = person.open(&broker, &authorize_query(&client_id, &mcp_url)).await.text().await.unwrap();
    assert!(html.contains("Doc Agent") && html.contains("published by <strong>127.0.0.1</strong>"), "{html}");
    assert!(hits.load(Ordering::SeqCst) >= 1, "the broker fetched the document");
    let code = person.code(&broker, &client_id, &mcp_url).await;
    let (status, tokens) = exchange(&broker, &client_id, &code, &mcp_url).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(mcp_status(&mcp_url, Some(tokens["access_token"].as_str().unwrap())).await.0, 200);
    assert_eq!(hits.load(Ordering::SeqCst), 2, "a no-store document is fetched at each authorization request");

    // A document that may be cached is fetched once while it is fresh.
    let (cached_id, cached_hits) = serve_document_with(
        |url| json!({"client_id": url, "client_name": "Cached Agent", "redirect_uris": [REDIRECT]}),
        "public, max-age=300",
    )
    .await;
    for _ in 0..2 {
        let code = person.code(&broker, &cached_id, &mcp_url).await;
        assert_eq!(exchange(&broker, &cached_id, &code, &mcp_url).await.0, 200);
    }
    assert_eq!(cached_hits.load(Ordering::SeqCst), 1);

    // A document whose client_id is not its own URL is refused on a page.
    let (liar, _) = serve_document(|_| json!({"client_id": "https://someone-else.example/c.json", "redirect_uris": [REDIRECT]})).await;
    let resp = person.open(&broker, &authorize_query(&liar, &mcp_url)).await;
    assert_eq!(resp.status(), 400);
    assert!(resp.text().await.unwrap().contains("must be its own URL"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_production_broker_never_fetches_a_metadata_document_from_a_private_address() {
    let broker = Broker::start(BrokerOptions { dev: false, ..Default::default() });
    let (_, mcp_url) = new_session(&broker, "ada").await;
    let (doc_url, hits) = serve_document(|url| json!({"client_id": url, "redirect_uris": [REDIRECT]})).await;
    let port = doc_url.split(':').nth(2).unwrap().split('/').next().unwrap().to_string();
    let person = Person::new();
    for client_id in [
        doc_url.clone(),
        doc_url.replace("http://", "https://"),
        format!("https://localhost:{port}/client.json"),
        "https://10.0.0.7/client.json".to_string(),
        "https://169.254.169.254/latest/meta-data".to_string(),
        "https://[::1]/client.json".to_string(),
    ] {
        let resp = person.open(&broker, &authorize_query(&client_id, &mcp_url)).await;
        assert_eq!(resp.status(), 400, "{client_id}");
        let page = resp.text().await.unwrap();
        assert!(page.contains("client_id") && (page.contains("loopback") || page.contains("private")), "{client_id}: {page}");
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no request was made");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_public_url_with_a_path_serves_path_inserted_metadata() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let public = format!("http://127.0.0.1:{port}/gl");
    let broker = Broker::start(BrokerOptions { port: Some(port), public_url: Some(public.clone()), ..Default::default() });
    let (session, mcp_url) = new_session(&broker, "ada").await;
    assert_eq!(mcp_url, format!("{public}/tool_router/{session}/mcp"));

    // The broker itself answers on its own paths (a proxy strips /gl before it).
    let (status, challenge) = mcp_status(&broker.url(&format!("/tool_router/{session}/mcp")), None).await;
    let prm_url = format!("http://127.0.0.1:{port}/.well-known/oauth-protected-resource/gl/tool_router/{session}/mcp");
    assert_eq!(status, 401);
    assert!(challenge.contains(&format!(r#"resource_metadata="{prm_url}""#)), "{challenge}");
    for url in [prm_url.clone(), broker.url(&format!("/.well-known/oauth-protected-resource/tool_router/{session}/mcp"))] {
        let (status, prm) = get_json(&url).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!((prm["resource"].as_str(), prm["authorization_servers"][0].as_str()), (Some(mcp_url.as_str()), Some(public.as_str())));
    }
    for path in [
        "/.well-known/oauth-authorization-server/gl",
        "/.well-known/openid-configuration/gl",
        "/.well-known/openid-configuration",
        "/.well-known/oauth-authorization-server",
    ] {
        let (status, asm) = get_json(&broker.url(path)).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(asm["issuer"], public);
        assert_eq!(asm["token_endpoint"], format!("{public}/mcp/oauth/token"));
    }
    assert_eq!(get_json(&broker.url("/.well-known/oauth-authorization-server/other")).await.0, 404);
    assert_eq!(get_json(&broker.url("/.well-known/oauth-protected-resource/other/tool_router/{session}/mcp")).await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_login_begun_on_one_broker_is_finished_and_used_on_the_others() {
    let Some(pg) = common::cluster::postgres_url("mcp_oauth::across_brokers") else { return };
    let c = common::cluster::Cluster::start(&pg, 3, BrokerOptions::default()).await;
    let (a, b, third) = (&c.nodes[0], &c.nodes[1], &c.nodes[2]);
    let (_, mcp_url) = new_session(a, "ada").await;
    let client_id = register(b, "Agent").await;

    // The consent page from one broker, the decision taken by another (same browser, same cookie).
    let person = Person::new();
    let html = person.open(third, &authorize_query(&client_id, &mcp_url)).await.text().await.unwrap();
    let form = [("authorization_id", hidden(&html, "authorization_id")), ("csrf", hidden(&html, "csrf")), ("decision", "approve".to_string())];
    let approved = person.browser.http.post(a.url("/mcp/oauth/consent")).form(&form).send().await.unwrap();
    assert_eq!(approved.status(), 303);
    // The app confirms the user through another broker; the browser comes back through the balancer.
    let verifier = approved.headers()["location"].to_str().unwrap().to_string();
    let back = person.verified_as(b, &verifier, "ada").await;
    assert_eq!(back.status(), 303);
    let answer = query_of(back.headers()["location"].to_str().unwrap());
    assert_eq!(answer["iss"], c.balancer.url, "every broker is one issuer, at the public URL");

    let (status, tokens) = exchange(b, &client_id, &answer["code"], &mcp_url).await;
    assert_eq!(status, 200, "{tokens}");
    let access = tokens["access_token"].as_str().unwrap();
    for i in 0..3 {
        assert_eq!(mcp_status(&c.via(i, &mcp_url), Some(access)).await.0, 200, "broker {i}");
    }
    // A refresh token rotated on one broker and replayed on another revokes the login everywhere.
    let r1 = tokens["refresh_token"].as_str().unwrap();
    let (status, _) = refresh(a, &client_id, r1).await;
    assert_eq!(status, 200);
    issued_nothing(&refresh(third, &client_id, r1).await, "invalid_grant");
    for i in 0..3 {
        assert_eq!(mcp_status(&c.via(i, &mcp_url), Some(access)).await.0, 401, "broker {i}");
    }
}

fn between(html: &str, start: &str, end: &str) -> String {
    let from = html.find(start).unwrap_or_else(|| panic!("no {start} in {html}")) + start.len();
    html[from..].split(end).next().unwrap().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn approving_issues_nothing_until_the_app_confirms_the_sessions_user() {
    let broker = Broker::start(BrokerOptions::default());
    let (_, mcp_url) = new_session(&broker, "ada").await;
    let client_id = register(&broker, "Agent").await;

    // Someone who is not ada approves: the app's verifier sees mallory, and the login ends.
    let person = Person::new();
    let html = person.open(&broker, &authorize_query(&client_id, &mcp_url)).await.text().await.unwrap();
    let form = [("authorization_id", hidden(&html, "authorization_id")), ("csrf", hidden(&html, "csrf")), ("decision", "approve".into())];
    let approved = person.browser.http.post(broker.url("/mcp/oauth/consent")).form(&form).send().await.unwrap();
    assert_eq!(approved.status(), 303);
    let verifier = approved.headers()["location"].to_str().unwrap().to_string();
    assert!(verifier.contains("/dev/verify?flow_id=uvf_"), "approving goes to the verifier first: {verifier}");
    let back = person.verified_as(&broker, &verifier, "mallory").await;
    assert_eq!(back.status(), 403);
    assert!(back.headers().get("location").is_none(), "no code goes to the client");
    assert!(back.text().await.unwrap().contains("another user"));
    // The consent form cannot be used again, and no token can be had.
    let again = person.browser.http.post(broker.url("/mcp/oauth/consent")).form(&form).send().await.unwrap();
    assert_ne!(again.status(), 303);

    // Verified in one browser, returned in another: refused, nothing issued.
    let (person, thief) = (Person::new(), Person::new());
    let html = person.open(&broker, &authorize_query(&client_id, &mcp_url)).await.text().await.unwrap();
    let form = [("authorization_id", hidden(&html, "authorization_id")), ("csrf", hidden(&html, "csrf")), ("decision", "approve".into())];
    let approved = person.browser.http.post(broker.url("/mcp/oauth/consent")).form(&form).send().await.unwrap();
    let verifier = approved.headers()["location"].to_str().unwrap().to_string();
    let back = thief.verified_as(&broker, &verifier, "ada").await;
    assert_eq!(back.status(), 403);
    assert!(back.headers().get("location").is_none());

    // A production broker whose project has no verification page cannot approve MCP clients.
    let prod = Broker::start(BrokerOptions { dev: false, ..Default::default() });
    let (_, prod_url) = new_session(&prod, "ada").await;
    let prod_client = register(&prod, "Agent").await;
    let person = Person::new();
    let html = person.open(&prod, &authorize_query(&prod_client, &prod_url)).await.text().await.unwrap();
    let form = [("authorization_id", hidden(&html, "authorization_id")), ("csrf", hidden(&html, "csrf")), ("decision", "approve".into())];
    let refused = person.browser.http.post(prod.url("/mcp/oauth/consent")).form(&form).send().await.unwrap();
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("user-verification page"));
}
