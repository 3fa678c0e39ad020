//! A newcomer's first hour with `grantline serve --dev`: the demo reads as one story, and
//! restarting the broker keeps the sandbox accounts they connected.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Broker, BrokerOptions, Browser};
use grantline_core::{AuthorizeOptions, SessionOptions};

#[test]
fn the_demo_reads_as_one_story_and_writes_no_colour_codes_to_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let out_path = dir.path().join("serve.out");
    let out = std::fs::File::create(&out_path).unwrap();
    // What `scripts/serve.sh > serve.out 2>&1` does: stdout and stderr into one file, no terminal.
    let mut child = Command::new(env!("CARGO_BIN_EXE_grantline"))
        .args(["serve", "--dev", "--demo", "--bind", "127.0.0.1:0"])
        .args(["--database-url", &format!("sqlite://{}", dir.path().join("grantline.db").display())])
        .env_remove("GRANTLINE_LOG")
        .env_remove("NO_COLOR")
        .stdout(Stdio::from(out.try_clone().unwrap()))
        .stderr(Stdio::from(out))
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let text = loop {
        let mut text = String::new();
        std::fs::File::open(&out_path).unwrap().read_to_string(&mut text).unwrap();
        // The request lines the demo caused are written once the story is over.
        if text.contains("9. execute(") && text.lines().skip_while(|l| !l.contains("9. execute(")).any(|l| l.contains("INFO")) {
            break text;
        }
        assert!(Instant::now() < deadline, "the demo did not finish:\n{text}");
        assert!(child.try_wait().unwrap().is_none(), "the broker exited:\n{text}");
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = child.kill();
    let _ = child.wait();

    assert!(!text.contains('\u{1b}'), "colour codes written to a file:\n{text}");
    let story: Vec<&str> = text
        .lines()
        .skip_while(|l| !l.starts_with("Grantline demo:"))
        .take_while(|l| !l.contains("9. execute("))
        .filter(|l| !l.trim().is_empty())
        .collect();
    assert_eq!(story.len(), 9, "the title and steps 1-8, nothing in between:\n{text}");
    for (n, line) in story[1..].iter().enumerate() {
        assert!(line.contains(&format!("] {}. ", n + 1)), "step {} out of place: {line:?}\n{text}", n + 1);
    }
}

#[tokio::test]
async fn a_restarted_dev_broker_keeps_its_sandbox_accounts_working() {
    let mut broker = Broker::start(BrokerOptions::default());
    let session = broker
        .client()
        .create("newcomer", SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() })
        .await
        .unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    Browser::new().sandbox_consent(req.redirect_url(), true).await;
    req.wait_for_connection(Duration::from_secs(30)).await.unwrap();

    broker.restart();

    let session = broker.client().use_session(session.session_id()).await.unwrap();
    let me = session.execute("SANDBOX_GET_CURRENT_USER", Default::default(), None).await.unwrap();
    assert!(me.successful, "the token issued before the restart still works: {me:?}");
    assert_eq!(me.data["sub"], "octocat");
    let account = broker.client().connected_accounts().get(req.id()).await.unwrap();
    assert_eq!(account.status.as_str(), "ACTIVE");
}
