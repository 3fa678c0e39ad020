//! The end-to-end flow against the dev sandbox, printed step by step: what a newcomer
//! sees first, and what the README's first command shows.

use std::sync::Arc;
use std::time::{Duration, Instant};

use grantline_core::engine::{sandbox, Engine};
use grantline_core::model::ToolkitsQuery;
use grantline_core::{AuthorizeOptions, Client, ClientConfig, Error, Result, SessionOptions};

/// Runs the whole manual-auth flow against the broker at `base_url`, using a temporary
/// API key minted by `engine` (revoked at the end), and prints each step.
pub async fn run(engine: &Arc<Engine>, base_url: &str) -> Result<()> {
    let project = engine.default_project().await?;
    let key = engine.create_api_key(&project.id, "demo (revoked after the run)").await?;
    let outcome = flow(base_url, &key.secret).await;
    engine.revoke_api_key(&project.id, &key.record.id).await?;
    outcome
}

async fn flow(base_url: &str, api_key: &str) -> Result<()> {
    let t0 = Instant::now();
    let step = |n: u32, what: &str| println!("  [{:>5} ms] {n}. {what}", t0.elapsed().as_millis());
    println!("\nGrantline demo: connecting a user's sandbox account through the Connect Link\n");

    let client = Client::new(ClientConfig::with_api_key(base_url, api_key))?;
    let session = client
        .create("demo-user", SessionOptions { toolkits: vec![sandbox::SLUG.into()], manage_connections: Some(false), ..Default::default() })
        .await?;
    step(1, &format!("session created: {} for user demo-user", session.session_id()));

    let req = session.authorize(sandbox::SLUG, AuthorizeOptions::default()).await?;
    step(2, &format!("authorize(sandbox): account {} is INITIATED; Connect Link {}", req.id(), req.redirect_url()));

    let waiter = {
        let req = req.clone();
        tokio::spawn(async move { req.wait_for_connection(Duration::from_secs(60)).await })
    };
    step(3, "wait_for_connection() is blocked on the broker's long-poll");

    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Network(e.to_string()))?;
    let consent_url = location(&browser, req.redirect_url()).await?;
    step(4, "the user opens the link; the broker redirects to the provider's consent page (state + PKCE S256)");

    let consent = url::Url::parse(&consent_url).map_err(|e| Error::Internal(e.to_string()))?;
    let mut form: Vec<(String, String)> = consent.query_pairs().into_owned().collect();
    form.push(("user".into(), "demo-user".into()));
    form.push(("decision".into(), "allow".into()));
    let resp = browser
        .post(format!("{}://{}{}", consent.scheme(), consent.authority(), consent.path()))
        .form(&form)
        .send()
        .await
        .map_err(|e| Error::Network(e.to_string()))?;
    let callback = header_location(&resp)?;
    step(5, "the user clicks Allow; the provider redirects to the broker's /oauth/callback with a code");

    let page = browser.get(&callback).send().await.map_err(|e| Error::Network(e.to_string()))?;
    step(6, &format!("the broker exchanged the code, stored the tokens encrypted, and answered HTTP {}", page.status().as_u16()));

    let account = waiter.await.map_err(|e| Error::Internal(e.to_string()))??;
    step(7, &format!("wait_for_connection() resolved: {} is {}", account.id, account.status));

    let items = session.toolkits(&ToolkitsQuery { is_connected: Some(true), ..Default::default() }).await?.items;
    for t in &items {
        step(8, &format!("toolkits(is_connected=true): {} connected as {}", t.slug, t.connected_account.as_ref().map(|a| a.id.as_str()).unwrap_or("-")));
    }
    let me = session.execute("SANDBOX_GET_CURRENT_USER", Default::default(), None).await?;
    step(9, &format!("execute(SANDBOX_GET_CURRENT_USER) with the stored token: successful={}, {}", me.successful, me.data));
    println!("\nThe flow works. Open {} for the API description.\n", format_args!("{base_url}/openapi.json"));
    Ok(())
}

async fn location(browser: &reqwest::Client, url: &str) -> Result<String> {
    let resp = browser.get(url).send().await.map_err(|e| Error::Network(e.to_string()))?;
    header_location(&resp)
}

fn header_location(resp: &reqwest::Response) -> Result<String> {
    resp.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| Error::Internal(format!("expected a redirect, got HTTP {}", resp.status().as_u16())))
}
