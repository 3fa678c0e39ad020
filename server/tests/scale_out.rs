//! Many brokers, one PostgreSQL: a team runs three `grantline serve` processes behind a load
//! balancer, and they behave as one broker — wake-ups, expiry and token refresh cross nodes,
//! and killing a node loses nothing acknowledged.

mod common;

use std::time::{Duration, Instant};

use common::cluster::{postgres_url, Cluster};
use common::oidc::Provider;
use common::{BrokerOptions, Browser};
use grantline_core::model::{AccountFilter, AccountStatus};
use grantline_core::{AuthorizeOptions, SessionOptions};
use serde_json::json;

fn sandbox_only() -> SessionOptions {
    SessionOptions { toolkits: vec!["sandbox".into()], manage_connections: Some(false), ..Default::default() }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wait_on_one_broker_answers_when_the_user_finishes_the_link_through_another() {
    let Some(pg) = postgres_url("scale_out::wait_across_brokers") else { return };
    let c = Cluster::start(&pg, 3, BrokerOptions::default()).await;
    let (a, b) = (c.nodes[0].client(), c.nodes[1].client());

    // The app authorizes on A; its backend waits on B; the user's browser lands on C.
    let opts = SessionOptions { toolkits: vec!["sandbox".into()], wait_for_connections: Some(true), ..Default::default() };
    let session = a.create("ada", opts).await.unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    assert!(req.redirect_url().starts_with(&c.balancer.url), "links use the public URL: {}", req.redirect_url());
    let id = req.id().to_string();
    let waiter = tokio::spawn({
        let b = b.clone();
        let id = id.clone();
        async move { b.connected_accounts().wait_for_connection(&id, Duration::from_secs(30)).await }
    });
    // And an agent on B waits with the meta tool, for the user's own accounts.
    let on_b = b.use_session(session.session_id()).await.unwrap();
    let agent = tokio::spawn(async move {
        let args = json!({"toolkits": ["sandbox"], "timeout_seconds": 30}).as_object().unwrap().clone();
        on_b.execute_meta("COMPOSIO_WAIT_FOR_CONNECTIONS", args).await
    });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!waiter.is_finished(), "the wait does not answer before the user does: {:?}", waiter.await);
    assert!(!agent.is_finished(), "nor does the agent's: {:?}", agent.await);

    let answered = Browser::new().sandbox_consent(&c.via(2, req.redirect_url()), true).await;
    let finished = Instant::now();
    assert!(answered.status().is_success(), "the callback page: {}", answered.status());
    let account = waiter.await.unwrap().unwrap();
    let woke = finished.elapsed();
    assert_eq!(account.status, AccountStatus::Active);
    let meta = agent.await.unwrap().unwrap();
    assert_eq!(meta.data["results"]["sandbox"]["status"], "active", "{:?}", meta.data);
    assert_eq!(meta.data["timed_out"], false);
    eprintln!("cross-broker wake: /wait on B answered {woke:?} after the callback's answer");
    assert!(woke < Duration::from_secs(5), "woken by the change feed, not by its 30 s timeout ({woke:?})");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_abandoned_link_expires_once_and_every_broker_s_waiters_learn_it() {
    let Some(pg) = postgres_url("scale_out::expiry_across_brokers") else { return };
    let c = Cluster::start(&pg, 3, BrokerOptions { link_ttl_secs: 1, ..Default::default() }).await;
    let session = c.nodes[0].client().create("ada", sandbox_only()).await.unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let started = Instant::now();
    let waiters: Vec<_> = c
        .nodes
        .iter()
        .map(|n| {
            let (client, id) = (n.client(), req.id().to_string());
            tokio::spawn(async move { client.connected_accounts().wait_for_connection(&id, Duration::from_secs(30)).await })
        })
        .collect();
    for w in waiters {
        // The SDK's wait raises on EXPIRED; either way the account says EXPIRED.
        let _ = w.await.unwrap();
    }
    assert!(started.elapsed() < Duration::from_secs(10), "every waiter answered at the link's expiry, not at its timeout");
    for n in &c.nodes {
        let a = n.client().connected_accounts().get(req.id()).await.unwrap();
        assert_eq!(a.status, AccountStatus::Expired, "as node {} sees it", n.base_url);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_a_broker_mid_flight_loses_no_flow_whose_callback_was_answered() {
    let Some(pg) = postgres_url("scale_out::kill_a_broker") else { return };
    const FLOWS: usize = 100;
    let mut c = Cluster::start(&pg, 3, BrokerOptions::default()).await;
    let session = c.nodes[0].client().create("ada", sandbox_only()).await.unwrap();
    let mut links = Vec::new();
    for i in 0..FLOWS {
        let on = c.nodes[i % 3].client().use_session(session.session_id()).await.unwrap();
        links.push(on.authorize("sandbox", AuthorizeOptions { alias: Some(format!("flow-{i}")), ..Default::default() }).await.unwrap());
    }
    // The users finish their links through the load balancer while node C dies.
    let flows: Vec<_> = links
        .iter()
        .map(|req| {
            let url = req.redirect_url().to_string();
            tokio::spawn(async move {
                let browser = Browser::new();
                let done = tokio::time::timeout(Duration::from_secs(20), async {
                    let resp = browser.http.get(&url).send().await.ok()?;
                    let to = url::Url::parse(resp.headers().get("location")?.to_str().ok()?).ok()?;
                    let mut form: Vec<(String, String)> = to.query_pairs().into_owned().collect();
                    form.extend([("user".to_string(), "octocat".to_string()), ("decision".to_string(), "allow".to_string())]);
                    let endpoint = format!("{}://{}{}", to.scheme(), to.authority(), to.path());
                    let cb = browser.http.post(endpoint).form(&form).send().await.ok()?;
                    let callback = cb.headers().get("location")?.to_str().ok()?.to_string();
                    let answer = browser.http.get(callback).send().await.ok()?;
                    // The broker told the user "connected" (not "failed": the code exchange may
                    // fail when the provider it talks to, here the sandbox of the dying broker, dies).
                    Some(answer.text().await.ok()?.contains("account is connected"))
                })
                .await;
                matches!(done, Ok(Some(true)))
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(30)).await;
    c.nodes[2].kill();
    let mut answered = Vec::new();
    for f in flows {
        answered.push(f.await.unwrap());
    }

    let gl = c.nodes[0].client();
    let mut retried = 0;
    for (req, ok) in links.iter().zip(&answered) {
        let a = gl.connected_accounts().get(req.id()).await.unwrap();
        if *ok {
            assert_eq!(a.status, AccountStatus::Active, "{} was answered, so it is ACTIVE", req.id());
            continue;
        }
        // Not told "connected": the user tries again, through a live broker, and it works.
        assert!(
            matches!(a.status, AccountStatus::Initiated | AccountStatus::Active | AccountStatus::Failed),
            "{}: {:?}",
            req.id(),
            a.status
        );
        retried += 1;
        let again = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
        Browser::new().sandbox_consent(&c.via(0, again.redirect_url()), true).await;
        assert_eq!(again.wait_for_connection(Duration::from_secs(20)).await.unwrap().status, AccountStatus::Active);
    }
    eprintln!("kill -9 mid-flight: {} of {FLOWS} callbacks answered, {retried} retried", answered.iter().filter(|a| **a).count());
    // No account is half-written: every ACTIVE one works with its stored credentials.
    let all = gl.connected_accounts().list(&AccountFilter::default(), None, Some(100)).await.unwrap();
    for a in all.items.iter().filter(|a| a.status == AccountStatus::Active) {
        let r = session.execute("SANDBOX_GET_CURRENT_USER", Default::default(), Some(a.id.clone())).await.unwrap();
        assert!(r.successful, "{}: {r:?}", a.id);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expired_token_is_refreshed_once_however_many_brokers_need_it() {
    let Some(pg) = postgres_url("scale_out::refresh_once") else { return };
    // The load balancer's address must be known before the provider starts (its redirect URI).
    let balancer_port = common::free_port();
    let provider = Provider::start(&format!("http://127.0.0.1:{balancer_port}/oauth/callback"), &[("ACCESS_TOKEN_TTL", "2")]);
    let (_dir, providers) = provider.providers_file();
    let opts = BrokerOptions { dev: false, providers: Some(providers), ..Default::default() };
    let c = Cluster::start_at(&pg, 2, opts, balancer_port).await;
    let gl = c.nodes[0].client();
    common::oidc::add_auth_config(&c.nodes[0]).await;
    let opts = SessionOptions { toolkits: vec!["oidc".into()], manage_connections: Some(false), ..Default::default() };
    let session = gl.create("alice", opts).await.unwrap();
    let req = session.authorize("oidc", AuthorizeOptions::default()).await.unwrap();
    common::oidc::sign_in(&Browser::new(), req.redirect_url(), "alice", "/confirm").await;
    req.wait_for_connection(Duration::from_secs(30)).await.unwrap();

    tokio::time::sleep(Duration::from_secs(3)).await; // the access token has expired
    let before = provider.token_requests().await;
    let calls: Vec<_> = (0..10)
        .map(|i| {
            let client = c.nodes[i % 2].client();
            let sid = session.session_id().to_string();
            tokio::spawn(async move {
                let s = client.use_session(&sid).await.unwrap();
                s.execute("OIDC_GET_CURRENT_USER", Default::default(), None).await.unwrap()
            })
        })
        .collect();
    for call in calls {
        let r = call.await.unwrap();
        assert!(r.successful, "{r:?}");
        assert_eq!(r.data["sub"], "alice");
    }
    assert_eq!(provider.token_requests().await - before, 1, "one refresh for ten calls on two brokers");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dashboard_session_opened_on_one_broker_works_on_every_broker() {
    let Some(pg) = postgres_url("scale_out::dashboard_across_brokers") else { return };
    let c = Cluster::start(&pg, 3, BrokerOptions::default()).await;
    let session = c.nodes[0].client().create("ada", sandbox_only()).await.unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let landed = Browser::new().sandbox_consent(req.redirect_url(), true).await.status();
    assert!(landed.is_success() || landed.is_redirection(), "{landed}");
    let id = req.id().to_string();

    // Signed in on A (no table: the cookie carries the sealed session)…
    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let signed_in = http.post(c.nodes[0].url("/dashboard/sign-in")).form(&[("api_key", &c.api_key)]).send().await.unwrap();
    assert_eq!(signed_in.status().as_u16(), 303);
    let set = signed_in.headers()["set-cookie"].to_str().unwrap();
    let cookie = set.split(';').next().unwrap().to_string();
    // …B shows the account and its form's token, and C takes the form.
    let page = http.get(c.nodes[1].url(&format!("/dashboard/accounts/{id}"))).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(page.status().as_u16(), 200);
    let html = page.text().await.unwrap();
    let at = html.find(r#"name="csrf_token" value=""#).unwrap() + r#"name="csrf_token" value=""#.len();
    let token = html[at..].split('"').next().unwrap();
    let disabled = http
        .post(c.nodes[2].url(&format!("/dashboard/accounts/{id}/disable")))
        .header("cookie", &cookie)
        .form(&[("csrf_token", token)])
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status().as_u16(), 303);
    let seen: serde_json::Value = c.nodes[0]
        .http()
        .get(c.nodes[0].url(&format!("/api/v3.1/connected_accounts/{id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["is_disabled"], json!(true), "{seen}");
}
