//! User verification over real HTTP against a `--dev` broker and its sandbox provider: a project
//! that verifies its users on Connect Links sends the person to its verifier before the
//! provider; the app confirms who the browser's user is; only the expected user, in the browser
//! that started the flow, gets through, once. And the project's profile: pages name the app.

mod common;

use std::time::Duration;

use common::{Broker, BrokerOptions, Browser, Hop};
use grantline_core::model::{AccountStatus, ProjectPatch};
use grantline_core::{AuthorizeOptions, ConnectionRequest, Error, SessionOptions};

fn sandbox_only() -> SessionOptions {
    SessionOptions { toolkits: vec!["sandbox".into()], manage_connections: Some(false), ..Default::default() }
}

/// The app's own verification page (the browser stops there; the test plays the app).
const VERIFIER: &str = "https://app.example.com/verify";

/// A dev broker whose project calls itself Acme and verifies Connect Links at [`VERIFIER`].
async fn verifying_broker(opts: BrokerOptions) -> Broker {
    let broker = Broker::start(opts);
    broker
        .client()
        .update_project(&ProjectPatch {
            display_name: Some(Some("Acme".into())),
            user_verification_url: Some(Some(VERIFIER.into())),
            verify_connect_links: Some(true),
            ..Default::default()
        })
        .await
        .unwrap();
    broker
}

/// A Connect Link for `user` to the sandbox.
async fn link_for(broker: &Broker, user: &str) -> ConnectionRequest {
    let session = broker.client().create(user, sandbox_only()).await.unwrap();
    session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap()
}

/// Opens the link in `browser`: it is sent to the app's verifier; the flow id it carries.
async fn open_to_verifier(browser: &Browser, link: &str) -> String {
    let at_verifier = browser.follow_until(link, VERIFIER).await.expect("the link goes to the app's verifier first");
    let flow_id = common::query(&at_verifier).remove("flow_id").expect("the verifier URL carries flow_id");
    assert!(flow_id.starts_with("uvf_"), "{flow_id}");
    flow_id
}

/// Follows `url` in `browser` up to the sandbox's consent page; its URL.
async fn to_provider(browser: &Browser, broker: &Broker, url: &str) -> Hop {
    browser.walk(browser.http.get(url).send().await.unwrap(), &broker.url("/sandbox/oauth/authorize")).await
}

/// Consents on the sandbox at `authorize_url` in `browser` and follows back to the broker's callback.
async fn consent(browser: &Browser, authorize_url: &str) -> reqwest::Response {
    let loc = url::Url::parse(authorize_url).unwrap();
    let mut form: Vec<(String, String)> = loc.query_pairs().into_owned().collect();
    form.push(("user".into(), "octocat".into()));
    form.push(("decision".into(), "allow".into()));
    let endpoint = format!("{}://{}{}", loc.scheme(), loc.authority(), loc.path());
    let to_callback = browser.http.post(endpoint).form(&form).send().await.unwrap();
    assert_eq!(to_callback.status().as_u16(), 303);
    let callback = to_callback.headers()["location"].to_str().unwrap().to_string();
    browser.http.get(callback).send().await.unwrap()
}

fn stopped(hop: Hop) -> String {
    match hop {
        Hop::Stopped(url) => url,
        Hop::Page { status, body, .. } => panic!("expected a redirect onwards, got {status}: {body}"),
    }
}

fn page(hop: Hop) -> (u16, String) {
    match hop {
        Hop::Page { status, body, .. } => (status, body),
        Hop::Stopped(url) => panic!("expected a page, was sent on to {url}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_app_confirms_its_user_and_the_link_completes() {
    let broker = verifying_broker(BrokerOptions::default()).await;
    let gl = broker.client();
    let req = link_for(&broker, "alice").await;
    let browser = Browser::new();

    // The link sends the browser to the app's page, and binds the flow to this browser.
    let first = browser.http.get(req.redirect_url()).send().await.unwrap();
    assert_eq!(first.status().as_u16(), 303);
    let cookie = first.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("grantline_uv_") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
    let at_verifier = first.headers()["location"].to_str().unwrap().to_string();
    assert!(at_verifier.starts_with(&format!("{VERIFIER}?flow_id=uvf_")), "{at_verifier}");
    let flow_id = common::query(&at_verifier)["flow_id"].clone();

    // The app's backend, where alice is signed in, says so.
    let confirmed = gl.confirm_user(&flow_id, "alice").await.unwrap();
    assert!(confirmed.matched);
    assert_eq!(confirmed.redirect_url, broker.url(&format!("/verify/{flow_id}/return")));

    // Back on the broker, the link goes on to the provider, and completes.
    let authorize = stopped(to_provider(&browser, &broker, &confirmed.redirect_url).await);
    let done = consent(&browser, &authorize).await;
    assert_eq!(done.status().as_u16(), 200);
    let html = done.text().await.unwrap();
    assert!(html.contains("data-outcome=\"connected\"") && html.contains("Acme wants to use your Grantline Sandbox account"), "{html}");
    assert_eq!(req.wait_for_connection(Duration::from_secs(5)).await.unwrap().status, AccountStatus::Active);

    // The flow is single use.
    let again = browser.http.get(&confirmed.redirect_url).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 409);
    assert!(again.text().await.unwrap().contains("already used"));
    assert!(matches!(gl.confirm_user(&flow_id, "alice").await, Err(Error::Conflict(_))));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dev_broker_verifies_with_its_built_in_page_when_the_project_has_no_verifier() {
    let broker = Broker::start(BrokerOptions::default());
    let gl = broker.client();
    let info = gl.update_project(&ProjectPatch { verify_connect_links: Some(true), ..Default::default() }).await.unwrap();
    assert!(info.verify_connect_links && info.user_verification_url.is_none());
    let req = link_for(&broker, "alice").await;
    let browser = Browser::new();

    let (status, html) = page(browser.walk(browser.http.get(req.redirect_url()).send().await.unwrap(), "\u{0}").await);
    assert_eq!(status, 200);
    assert!(html.contains("data-outcome=\"verify\"") && html.contains("default wants to use your Grantline Sandbox account"), "{html}");
    let flow_id = html.split("name=\"flow_id\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

    // The person says who they are; the page confirms it as the app would.
    let back = browser.http.post(broker.url("/dev/verify")).form(&[("flow_id", flow_id.as_str()), ("user_id", "alice")]).send().await.unwrap();
    assert_eq!(back.status().as_u16(), 303);
    let authorize = stopped(browser.walk(back, &broker.url("/sandbox/oauth/authorize")).await);
    assert_eq!(consent(&browser, &authorize).await.status().as_u16(), 200);
    assert_eq!(req.wait_for_connection(Duration::from_secs(5)).await.unwrap().status, AccountStatus::Active);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_link_opened_by_another_user_ends_and_connects_nothing() {
    let broker = verifying_broker(BrokerOptions::default()).await;
    let gl = broker.client();
    // Mallory starts a link for herself and sends it to Bob, who is signed in to the app as bob.
    let req = link_for(&broker, "mallory").await;
    let bob = Browser::new();
    let flow_id = open_to_verifier(&bob, req.redirect_url()).await;

    let confirmed = gl.confirm_user(&flow_id, "bob").await.unwrap();
    assert!(!confirmed.matched, "the app is told the flow ended");

    let (status, html) = page(to_provider(&bob, &broker, &confirmed.redirect_url).await);
    assert_eq!(status, 403);
    assert!(html.contains("data-outcome=\"another-user\"") && html.contains("This link was started for another user"), "{html}");

    // The account never becomes ACTIVE and the link is over: nothing reaches the provider.
    let account = gl.connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(account.status, AccountStatus::Failed, "{account:?}");
    assert!(matches!(req.wait_for_connection(Duration::from_secs(2)).await, Err(Error::ConnectionRequestFailed { .. })));
    let (status, html) = page(to_provider(&bob, &broker, req.redirect_url()).await);
    assert!(status >= 400 && html.contains("already ended"), "{status}: {html}");
    // A second confirmation changes nothing.
    assert!(matches!(gl.confirm_user(&flow_id, "mallory").await, Err(Error::Conflict(_))));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_confirmed_flow_goes_on_only_in_the_browser_that_started_it() {
    let broker = verifying_broker(BrokerOptions::default()).await;
    let gl = broker.client();
    let req = link_for(&broker, "alice").await;
    let alice = Browser::new();
    let flow_id = open_to_verifier(&alice, req.redirect_url()).await;
    let confirmed = gl.confirm_user(&flow_id, "alice").await.unwrap();

    // The return URL replayed in another browser (no binding cookie) is refused, and burns nothing.
    let other = Browser::new();
    let (status, html) = page(to_provider(&other, &broker, &confirmed.redirect_url).await);
    assert_eq!(status, 403);
    assert!(html.contains("another browser"), "{html}");

    // Alice's browser goes on to the provider; handing that provider URL to someone else does
    // not connect their account to alice: the callback needs alice's browser too.
    let authorize = stopped(to_provider(&alice, &broker, &confirmed.redirect_url).await);
    let elsewhere = consent(&other, &authorize).await;
    assert_eq!(elsewhere.status().as_u16(), 400);
    assert!(elsewhere.text().await.unwrap().contains("not done in this browser"));
    assert_eq!(gl.connected_accounts().get(req.id()).await.unwrap().status, AccountStatus::Initiated);

    // In alice's own browser the same provider step completes.
    assert_eq!(consent(&alice, &authorize).await.status().as_u16(), 200);
    assert_eq!(req.wait_for_connection(Duration::from_secs(5)).await.unwrap().status, AccountStatus::Active);
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_expired_and_foreign_flows_are_refused() {
    let broker = verifying_broker(BrokerOptions { link_ttl_secs: 2, ..Default::default() }).await;
    let gl = broker.client();

    assert!(matches!(gl.confirm_user("uvf_nosuchflow", "alice").await, Err(Error::NotFound { .. })));
    assert!(matches!(gl.confirm_user("not-a-flow", "alice").await, Err(Error::Validation { ref field, .. }) if field == "flow_id"));

    let req = link_for(&broker, "alice").await;
    let browser = Browser::new();
    let flow_id = open_to_verifier(&browser, req.redirect_url()).await;
    // Empty user ids are refused naming the field, and change nothing.
    assert!(matches!(gl.confirm_user(&flow_id, " ").await, Err(Error::Validation { ref field, .. }) if field == "user_id"));

    // Another project's key does not see the flow.
    let other_key = second_project_key(&broker);
    let other = grantline_core::Client::new(grantline_core::ClientConfig::with_api_key(&broker.base_url, &other_key)).unwrap();
    assert!(matches!(other.confirm_user(&flow_id, "alice").await, Err(Error::NotFound { .. })));
    let raw = reqwest::Client::new()
        .post(broker.url(&format!("/api/v3.1/user_verifications/{flow_id}/confirm")))
        .header("x-api-key", &other_key)
        .json(&serde_json::json!({"user_id": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status().as_u16(), 404);

    // A flow lives no longer than its link: past it, the app's confirmation is refused.
    tokio::time::sleep(Duration::from_millis(2_300)).await;
    match gl.confirm_user(&flow_id, "alice").await {
        Err(Error::Conflict(m)) => assert!(m.contains("expired"), "{m}"),
        other => panic!("expected an expired flow, got {other:?}"),
    }
    let (status, _) = page(to_provider(&browser, &broker, &broker.url(&format!("/verify/{flow_id}/return"))).await);
    assert_eq!(status, 409);
}

/// Adds a second project with an API key straight into the broker's database (the broker has no
/// API for more projects); the key.
fn second_project_key(broker: &Broker) -> String {
    let key = "gl_secondprojectkey0000000000000000000000";
    let db = rusqlite::Connection::open(&broker.db_path).unwrap();
    db.busy_timeout(Duration::from_secs(5)).unwrap();
    db.execute("INSERT INTO projects (id, name, allowed_callback_urls, allowed_origins, created_at) VALUES ('pr_second', 'second', '[]', '[]', 9999999999999)", [])
        .unwrap();
    db.execute(
        "INSERT INTO api_keys (id, project_id, name, hash, hint, created_at) VALUES ('ak_second', 'pr_second', 'second', ?1, 'gl_seco', 1)",
        [grantline_core::engine::secrets::sha256_hex(key)],
    )
    .unwrap();
    key.to_string()
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00,
    0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63,
    0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01, 0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60,
    0x82,
];

#[tokio::test(flavor = "multi_thread")]
async fn the_project_profile_names_the_app_on_its_pages() {
    let broker = Broker::start(BrokerOptions::default());
    let http = broker.http();
    let gl = broker.client();

    let info = gl.project().await.unwrap();
    assert_eq!((info.name.as_str(), info.display_name.as_deref(), info.verify_connect_links), ("default", None, false));

    // Bad input is refused naming the field, and changes nothing.
    let refused = |body: serde_json::Value| {
        let http = http.clone();
        let url = broker.url("/api/v3.1/project");
        async move {
            let r = http.patch(url).json(&body).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 400, "{body}");
            r.json::<serde_json::Value>().await.unwrap()["error"]["message"].as_str().unwrap().to_string()
        }
    };
    assert!(refused(serde_json::json!({"colour": "red"})).await.contains("colour"));
    assert!(refused(serde_json::json!({"support_url": "http://acme.test/help"})).await.contains("support_url"));
    assert!(refused(serde_json::json!({"display_name": "Acme", "user_verification_url": "ftp://acme.test"})).await.contains("user_verification_url"));
    assert!(refused(serde_json::json!({"display_name": "x".repeat(81)})).await.contains("display_name"));
    assert_eq!(gl.project().await.unwrap(), info);

    let set = gl
        .update_project(&ProjectPatch {
            display_name: Some(Some("Acme <Corp>".into())),
            support_url: Some(Some("https://acme.test/help?a=1&b=2".into())),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(set.display_name.as_deref(), Some("Acme <Corp>"));

    // The logo: only PNG, JPEG or WebP, checked by its bytes, capped in size.
    let put = |ct: &'static str, body: Vec<u8>| http.put(broker.url("/api/v3.1/project/logo")).header("content-type", ct).body(body).send();
    let svg = put("image/svg+xml", b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>".to_vec()).await.unwrap();
    assert_eq!(svg.status().as_u16(), 400);
    let err: serde_json::Value = svg.json().await.unwrap();
    assert!(err["error"]["message"].as_str().unwrap().contains("logo") && err["error"]["message"].as_str().unwrap().contains("SVG"), "{err}");
    let disguised = put("image/png", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec()).await.unwrap();
    assert_eq!(disguised.status().as_u16(), 400);
    let mut huge = PNG.to_vec();
    huge.resize(grantline_core::model::MAX_LOGO_BYTES + 1, 0);
    let oversized = put("image/png", huge).await.unwrap();
    assert_eq!(oversized.status().as_u16(), 400);
    assert!(oversized.text().await.unwrap().contains("logo"));
    assert_eq!(gl.project().await.unwrap().logo_url, None);

    let ok = put("image/png", PNG.to_vec()).await.unwrap();
    assert_eq!(ok.status().as_u16(), 200);
    let logo_url = ok.json::<grantline_core::model::ProjectInfo>().await.unwrap().logo_url.unwrap();
    assert!(logo_url.starts_with(&broker.url("/project-logos/pr_")) && logo_url.ends_with(".png"), "{logo_url}");
    let served = reqwest::get(&logo_url).await.unwrap();
    assert_eq!(served.status().as_u16(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.headers()["x-content-type-options"], "nosniff");
    assert!(served.headers()["cache-control"].to_str().unwrap().contains("max-age=31536000"));
    assert_eq!(served.bytes().await.unwrap().as_ref(), PNG);

    // Every page of a link names the app, escaped, with its logo and support link.
    let req = link_for(&broker, "alice").await;
    let hop = Browser::new().sandbox_consent(req.redirect_url(), true).await;
    let html = hop.text().await.unwrap();
    assert!(html.contains("Acme &lt;Corp&gt; wants to use your Grantline Sandbox account"), "{html}");
    assert!(!html.contains("Acme <Corp>"), "the name is escaped");
    assert!(html.contains(&format!("src=\"{logo_url}\"")), "{html}");
    assert!(html.contains("href=\"https://acme.test/help?a=1&amp;b=2\""), "{html}");

    // Removing the logo and clearing a field with null.
    let http2 = broker.http();
    let deleted = http2.delete(broker.url("/api/v3.1/project/logo")).send().await.unwrap();
    assert_eq!(deleted.status().as_u16(), 200);
    assert_eq!(reqwest::get(&logo_url).await.unwrap().status().as_u16(), 404);
    let cleared = http2.patch(broker.url("/api/v3.1/project")).json(&serde_json::json!({"support_url": null})).send().await.unwrap();
    let cleared: grantline_core::model::ProjectInfo = cleared.json().await.unwrap();
    assert_eq!((cleared.support_url, cleared.display_name.as_deref(), cleared.logo_url), (None, Some("Acme <Corp>"), None));

    // A client token (one session's) cannot read or change the project.
    let session = gl.create("alice", sandbox_only()).await.unwrap();
    let token = session.client_token(None).await.unwrap();
    let as_widget = reqwest::Client::new().get(broker.url("/api/v3.1/project")).bearer_auth(&token.token).send().await.unwrap();
    assert!(matches!(as_widget.status().as_u16(), 401 | 403), "{}", as_widget.status());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cli_sets_and_shows_the_profile() {
    let mut broker = Broker::start(BrokerOptions { dev: false, ..Default::default() });
    broker.kill();
    let dir = tempfile::tempdir().unwrap();
    let logo = dir.path().join("logo.png");
    std::fs::write(&logo, PNG).unwrap();
    let svg = dir.path().join("logo.svg");
    std::fs::write(&svg, "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();

    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_grantline"))
            .arg("project")
            .args(["--database-url", &format!("sqlite://{}", broker.db_path.display()), "--encryption-key", &broker.key])
            .args(args)
            .env("GRANTLINE_LOG", "warn")
            .output()
            .unwrap()
    };
    let set = run(&[
        "set",
        "--display-name",
        "Acme",
        "--support-url",
        "https://acme.test/help",
        "--user-verification-url",
        "https://acme.test/verify",
        "--verify-connect-links",
        "true",
        "--logo",
        logo.to_str().unwrap(),
    ]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    let shown = String::from_utf8(run(&["show"]).stdout).unwrap();
    for expected in ["display name:          Acme", "support URL:           https://acme.test/help", "verify connect links:  true", "/project-logos/pr_"] {
        assert!(shown.contains(expected), "{expected:?} in {shown}");
    }
    // A bad logo or URL is refused naming it, and nothing changes.
    let bad = run(&["set", "--display-name", "Evil", "--logo", svg.to_str().unwrap()]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("logo"), "{}", String::from_utf8_lossy(&bad.stderr));
    let bad = run(&["set", "--support-url", "http://acme.test"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("support_url"));
    let bad = run(&["set", "--user-verification-url", ""]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("user_verification_url"), "verification is on: its page stays");
    assert!(String::from_utf8(run(&["show"]).stdout).unwrap().contains("display name:          Acme\n"));
    // '' clears a value; --remove-logo the logo.
    assert!(run(&["set", "--support-url", "", "--remove-logo"]).status.success());
    let shown = String::from_utf8(run(&["show"]).stdout).unwrap();
    assert!(shown.contains("support URL:           -") && shown.contains("logo:                  -"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_connect_form_is_shown_after_verification_and_taken_only_from_that_browser() {
    let dir = tempfile::tempdir().unwrap();
    let providers = dir.path().join("providers.toml");
    std::fs::write(
        &providers,
        r#"
[[toolkit]]
slug = "keyed"
name = "Keyed"
description = "An API reached with a key the user pastes"
auth = "api_key"
api_base_url = "https://api.keyed.test"
fields = [{ name = "api_key", label = "API key", secret = true }]
credential = { header = "x-api-key", value = "{api_key}" }
"#,
    )
    .unwrap();
    let broker = verifying_broker(BrokerOptions { providers: Some(providers), ..Default::default() }).await;
    let gl = broker.client();
    let session = gl.create("alice", SessionOptions { toolkits: vec!["keyed".into()], manage_connections: Some(false), ..Default::default() }).await.unwrap();
    let req = session.authorize("keyed", AuthorizeOptions::default()).await.unwrap();
    let alice = Browser::new();
    let flow_id = open_to_verifier(&alice, req.redirect_url()).await;
    let confirmed = gl.confirm_user(&flow_id, "alice").await.unwrap();

    let (status, html) = page(to_provider(&alice, &broker, &confirmed.redirect_url).await);
    assert_eq!(status, 200);
    assert!(html.contains("data-outcome=\"form\"") && html.contains("Acme wants to use your Keyed account"), "{html}");

    // The form posted from another browser is refused, and the link stays usable.
    let form = [("api_key", "k-123")];
    let elsewhere = Browser::new().http.post(req.redirect_url()).form(&form).send().await.unwrap();
    assert_eq!(elsewhere.status().as_u16(), 400);
    assert!(elsewhere.text().await.unwrap().contains("not done in this browser"));
    assert_eq!(gl.connected_accounts().get(req.id()).await.unwrap().status, AccountStatus::Initiated);

    let done = alice.http.post(req.redirect_url()).form(&form).send().await.unwrap();
    assert_eq!(done.status().as_u16(), 200);
    assert!(done.text().await.unwrap().contains("data-outcome=\"connected\""));
    assert_eq!(req.wait_for_connection(Duration::from_secs(5)).await.unwrap().status, AccountStatus::Active);
}
