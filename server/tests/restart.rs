//! Nothing is lost when the broker is killed mid-flow.

mod common;

use std::time::Duration;

use common::{Broker, BrokerOptions, Browser};
use grantline_core::model::AccountStatus;
use grantline_core::{AuthorizeOptions, SessionOptions};

#[tokio::test(flavor = "multi_thread")]
async fn a_link_started_before_a_crash_completes_after_restart() {
    let mut broker = Broker::start(BrokerOptions::default());
    let session = broker
        .client()
        .create("u", SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() })
        .await
        .unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();

    broker.restart(); // SIGKILL, then start on the same file and port

    let page = Browser::new().sandbox_consent(req.redirect_url(), true).await;
    assert_eq!(page.status().as_u16(), 200);
    let gl = broker.client();
    let account = gl.connected_accounts().wait_for_connection(req.id(), Duration::from_secs(10)).await.unwrap();
    assert_eq!(account.status, AccountStatus::Active);
    // The session made before the crash is still there too.
    assert_eq!(gl.use_session(session.session_id()).await.unwrap().session_id(), session.session_id());
}
