//! An app ends a user's connection for good: the provider revokes the grant (RFC 7009), the
//! account is REVOKED and its credentials are gone from the broker.

mod common;

use std::time::Duration;

use common::oidc::{sign_in, stored_credentials, world};
use common::{Broker, BrokerOptions, Browser, APP};
use grantline_core::{AuthorizeOptions, SessionOptions};
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn revoking_an_account_revokes_the_grant_at_the_provider() {
    let w = world(&[]).await;
    let req = w.session.authorize("oidc", AuthorizeOptions { callback_url: Some(format!("{APP}/done")), alias: None }).await.unwrap();
    sign_in(&Browser::new(), req.redirect_url(), "alice", "/confirm").await;
    req.wait_for_connection(Duration::from_secs(30)).await.unwrap();
    assert_eq!(w.provider.revocations().await, 0);

    let resp = w.broker.http().post(w.broker.url(&format!("/api/v3.1/connected_accounts/{}/revoke", req.id()))).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["connected_account"]["status"], "REVOKED");
    assert_eq!(body["provider_revocation"], "revoked");
    assert_eq!(body["revoked_tokens"], serde_json::json!(["refresh_token", "access_token"]));
    assert!(w.provider.revocations().await >= 1, "the provider's revocation endpoint was called");
    assert!(stored_credentials(&w.broker, req.id()).await.is_none(), "the broker forgot the tokens");

    let account = w.broker.client().connected_accounts().get(req.id()).await.unwrap();
    assert_eq!((account.status.as_str(), account.status_reason.as_deref()), ("REVOKED", Some("revoked by the app")));
    let used = w.session.execute("OIDC_GET_CURRENT_USER", Default::default(), None).await.unwrap();
    assert!(!used.successful, "a revoked account signs nothing: {used:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deleting_with_revoke_on_delete_revokes_first_and_says_when_it_cannot() {
    let broker = Broker::start(BrokerOptions::default());
    let session = broker
        .client()
        .create("u", SessionOptions { toolkits: vec!["sandbox".into()], manage_connections: Some(false), ..Default::default() })
        .await
        .unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    Browser::new().sandbox_consent(req.redirect_url(), true).await;
    req.wait_for_connection(Duration::from_secs(30)).await.unwrap();

    let http = broker.http();
    let bad = http.delete(broker.url(&format!("/api/v3.1/connected_accounts/{}?revoke_on_delete=yes", req.id()))).send().await.unwrap();
    assert_eq!(bad.status().as_u16(), 400);
    assert_eq!(bad.json::<Value>().await.unwrap()["error"]["field"], "revoke_on_delete");

    let deleted: Value = http
        .delete(broker.url(&format!("/api/v3.1/connected_accounts/{}?revoke_on_delete=true", req.id())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((deleted["success"].as_bool(), deleted["provider_revocation"].as_str()), (Some(true), Some("revoked")), "{deleted}");
    assert!(broker.client().connected_accounts().get(req.id()).await.is_err(), "deleted");

    // An account that never finished holds no grant: nothing to revoke, and the answer says so.
    let pending = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let revoked: Value =
        http.post(broker.url(&format!("/api/v3.1/connected_accounts/{}/revoke", pending.id()))).send().await.unwrap().json().await.unwrap();
    assert_eq!(revoked["provider_revocation"], "nothing_to_revoke", "{revoked}");
    assert_eq!(revoked["connected_account"]["status"], "REVOKED");
}
