//! Revoking an API key revokes the client tokens it minted: a leaked backend key cannot leave
//! browser credentials behind it. Tokens another key minted keep working.

mod common;


use common::{Broker, BrokerOptions};
use grantline_core::{Client, ClientConfig, Error, SessionOptions};


#[tokio::test(flavor = "multi_thread")]
async fn revoking_an_api_key_revokes_the_client_tokens_it_minted() {
    let broker = Broker::start(BrokerOptions::default());
    // A second backend key, made at the command line: `ak_…<TAB>gl_…`.
    let made = broker.keys(&["create", "--name", "leaky"]);
    let (leaky_id, leaky_secret) = made.trim().split_once('\t').unwrap();
    let leaky = Client::new(ClientConfig::with_api_key(&broker.base_url, leaky_secret)).unwrap();
    let kept = broker.client();

    let options = || SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() };
    let by_leaky = leaky.create("u1", options()).await.unwrap().client_token(Some(3600)).await.unwrap();
    let by_kept = kept.create("u2", options()).await.unwrap().client_token(Some(3600)).await.unwrap();
    let page = |token: &str| Client::new(ClientConfig::with_client_token(&broker.base_url, token)).unwrap();
    page(&by_leaky.token).client_token_session().await.expect("works before the revocation");

    broker.keys(&["revoke", leaky_id]);

    let refused = page(&by_leaky.token).client_token_session().await.unwrap_err();
    assert!(matches!(&refused, Error::Unauthorized(m) if m.contains("revoked")), "{refused:?}");
    assert!(leaky.create("u3", options()).await.is_err(), "the key itself is refused");
    page(&by_kept.token).client_token_session().await.expect("another key's token lives on");
}
