//! End to end against an OAuth provider no one here wrote: npm's `oidc-provider`, started on
//! 127.0.0.1 by the test and declared to the broker as a custom provider. The test plays the
//! user's browser through the provider's own login and consent forms.

mod common;

use std::time::Duration;

use common::oidc::{answer_consent, answer_up_to_callback, sign_in, stored_access_token, stored_credentials, world, Provider};
use common::{query, Browser, Hop, APP};
use grantline_core::model::AccountStatus;
use grantline_core::{AuthorizeOptions, Error};
use serde_json::Value;

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
    let callback = answer_up_to_callback(&browser, &w.broker, req.redirect_url()).await;
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

