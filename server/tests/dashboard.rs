//! The operator dashboard (`/dashboard`) and the execution logs (`/api/v3.1/logs`), against a
//! real `grantline serve`: signing in with the project's key, the session cookie's flags, CSRF
//! and origin checks on every form, a revoked key ending its sessions, actions the REST API
//! sees, and every tool execution found by its `log_id`.

mod common;


use common::{Broker, BrokerOptions, Browser};
use grantline_core::{AuthorizeOptions, Session, SessionOptions};
use serde_json::{json, Value};

/// A browser without redirects that keeps the dashboard cookie it is given.
struct Operator {
    http: reqwest::Client,
    base: String,
    cookie: Option<String>,
}

impl Operator {
    fn new(broker: &Broker) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { http, base: broker.base_url.clone(), cookie: None }
    }

    fn with_cookie(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.cookie {
            Some(c) => rb.header("cookie", format!("grantline_dashboard={c}")),
            None => rb,
        }
    }

    async fn get(&self, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
        let r = self.with_cookie(self.http.get(format!("{}{path}", self.base))).send().await.unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        (status, r.text().await.unwrap(), headers)
    }

    async fn post(&self, path: &str, form: &[(&str, &str)], origin: Option<&str>) -> (u16, String, reqwest::header::HeaderMap) {
        let mut rb = self.with_cookie(self.http.post(format!("{}{path}", self.base))).form(form);
        if let Some(o) = origin {
            rb = rb.header("origin", o);
        }
        let r = rb.send().await.unwrap();
        let (status, headers) = (r.status().as_u16(), r.headers().clone());
        (status, r.text().await.unwrap(), headers)
    }

    /// Signs in with `key`; the `Set-Cookie` header it got.
    async fn sign_in(&mut self, key: &str) -> String {
        let (status, body, headers) = self.post("/dashboard/sign-in", &[("api_key", key)], None).await;
        assert_eq!(status, 303, "{body}");
        assert!(headers["location"].to_str().unwrap().ends_with("/dashboard/accounts"));
        let set = headers["set-cookie"].to_str().unwrap().to_string();
        let value = set.strip_prefix("grantline_dashboard=").unwrap().split(';').next().unwrap();
        self.cookie = Some(value.to_string());
        set
    }

    /// The CSRF token the forms of `path` carry.
    async fn csrf(&self, path: &str) -> String {
        let (status, body, _) = self.get(path).await;
        assert_eq!(status, 200, "{body}");
        let at = body.find(r#"name="csrf_token" value=""#).expect("a form with a CSRF token") + r#"name="csrf_token" value=""#.len();
        body[at..].split('"').next().unwrap().to_string()
    }
}


/// A sandbox account of `user`, connected through the real consent page; its id.
async fn connected(broker: &Broker, user: &str) -> (Session, String) {
    let session = broker
        .client()
        .create(user, SessionOptions { toolkits: vec!["sandbox".into()], ..Default::default() })
        .await
        .unwrap();
    let req = session.authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    let landing = Browser::new().sandbox_consent(req.redirect_url(), true).await;
    assert!(landing.status().is_redirection() || landing.status().is_success());
    let id = req.id().to_string();
    (session, id)
}

async fn account(broker: &Broker, id: &str) -> (u16, Value) {
    let r = broker.http().get(broker.url(&format!("/api/v3.1/connected_accounts/{id}"))).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_takes_the_projects_key_and_sets_a_strict_http_only_cookie() {
    let broker = Broker::start(BrokerOptions::default());
    let mut op = Operator::new(&broker);

    let (status, _, headers) = op.get("/dashboard/accounts").await;
    assert_eq!(status, 303, "signed out: to the sign-in page");
    assert!(headers["location"].to_str().unwrap().ends_with("/dashboard/sign-in"));
    let (status, page, headers) = op.get("/dashboard/sign-in").await;
    assert_eq!(status, 200);
    assert!(page.contains(r#"<label for="api_key">"#) && page.contains(r##"class="skip" href="#main""##), "{page}");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && csp.contains("form-action 'self'"), "{csp}");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["referrer-policy"], "same-origin", "forms are posted with their real Origin");
    assert_eq!(headers["cache-control"], "no-store");

    for bad in ["gl_not_a_key", "   "] {
        let (status, page, headers) = op.post("/dashboard/sign-in", &[("api_key", bad)], None).await;
        assert!(status == 401 || status == 400, "{bad:?}: {status}");
        assert!(headers.get("set-cookie").is_none(), "no session for {bad:?}");
        assert!(page.contains(r#"role="alert""#), "{page}");
    }
    let (status, _, _) = op.post("/dashboard/sign-in", &[("api_key", &broker.api_key), ("extra", "x")], None).await;
    assert_eq!(status, 400, "an unknown form field is refused");
    let (status, _, headers) = op.post("/dashboard/sign-in", &[("api_key", &broker.api_key)], Some("https://evil.example")).await;
    assert_eq!((status, headers.get("set-cookie").is_none()), (403, true), "another origin's sign-in form");

    let set = op.sign_in(&broker.api_key).await;
    assert!(set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/dashboard"), "{set}");
    assert!(!set.contains("Secure"), "the broker is reached over http here: {set}");
    assert!(!set.contains(&broker.api_key), "the cookie never carries the key");
    let (status, page, _) = op.get("/dashboard/accounts").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<h1>Connected accounts</h1>"));
    let (status, page, _) = op.get("/dashboard/api-keys").await;
    assert_eq!(status, 200);
    assert!(page.contains(&broker.api_key[..7]) && !page.contains(&broker.api_key), "hints only, never a key");

    // A tampered cookie is no session.
    op.cookie = Some(format!("{}A", op.cookie.clone().unwrap()));
    assert_eq!(op.get("/dashboard/accounts").await.0, 303);

    // Behind https, the cookie is Secure too.
    let tls = Broker::start(BrokerOptions { public_url: Some("https://broker.example.com".into()), ..Default::default() });
    let set = Operator::new(&tls).sign_in(&tls.api_key).await;
    assert!(set.contains("; Secure"), "{set}");
}

#[tokio::test(flavor = "multi_thread")]
async fn forms_need_their_own_sessions_csrf_token_and_actions_change_what_the_api_sees() {
    let broker = Broker::start(BrokerOptions::default());
    let (_session, id) = connected(&broker, "ada").await;
    let mut op = Operator::new(&broker);
    op.sign_in(&broker.api_key).await;
    let mut other = Operator::new(&broker);
    other.sign_in(&broker.api_key).await;
    let page = format!("/dashboard/accounts/{id}");
    let token = op.csrf(&page).await;
    let others_token = other.csrf(&page).await;
    assert_ne!(token, others_token, "each session has its own token");
    // The account page tells its history: connected, then nothing else yet.
    let (_, shown, _) = op.get(&page).await;
    let history = shown.split("<h2>History</h2>").nth(1).expect("a history section");
    assert!(history.contains("grantline.connected_account.active") && history.contains("ACTIVE"), "{history}");

    let disable = format!("/dashboard/accounts/{id}/disable");
    for (form, origin, why) in [
        (vec![], None, "no token"),
        (vec![("csrf_token", others_token.as_str())], None, "another session's token"),
        (vec![("csrf_token", "0000")], None, "a made-up token"),
        (vec![("csrf_token", token.as_str())], Some("https://evil.example"), "another origin"),
    ] {
        let (status, body, _) = op.post(&disable, &form, origin).await;
        assert_eq!(status, 403, "{why}: {body}");
        assert_eq!(account(&broker, &id).await.1["is_disabled"], json!(false), "{why} changed nothing");
    }
    assert_eq!(op.get(&disable).await.0, 405, "actions are POST only");

    let (status, _, headers) = op.post(&disable, &[("csrf_token", &token)], Some(&broker.base_url)).await;
    assert_eq!(status, 303);
    assert!(headers["location"].to_str().unwrap().ends_with(&format!("{page}?done=disabled")));
    assert_eq!(account(&broker, &id).await.1["is_disabled"], json!(true));
    let (_, shown, _) = op.get(&format!("{page}?done=disabled")).await;
    assert!(shown.contains(r#"<span id="account-use">Disabled</span>"#) && shown.contains("Enable account"), "{shown}");

    op.post(&format!("/dashboard/accounts/{id}/enable"), &[("csrf_token", &token)], None).await;
    assert_eq!(account(&broker, &id).await.1["is_disabled"], json!(false));

    let (status, shown, _) = op.post(&format!("/dashboard/accounts/{id}/link"), &[("csrf_token", &token)], None).await;
    assert_eq!(status, 200, "{shown}");
    assert!(shown.contains(&broker.url("/link/ln_")), "a new Connect Link to send: {shown}");
    assert_eq!(account(&broker, &id).await.1["reconnecting"], json!(true));

    // Searching: by user, toolkit and status.
    let (_, found, _) = op.get("/dashboard/accounts?user_id=ada&toolkit=sandbox&status=ACTIVE").await;
    assert!(found.contains(&id), "{found}");
    let (_, none, _) = op.get("/dashboard/accounts?user_id=grace").await;
    assert!(!none.contains(&id) && none.contains("No connected account matches."));
    assert_eq!(op.get("/dashboard/accounts?colour=red").await.0, 400, "an unknown search field");

    let (status, _, _) = op.post(&format!("/dashboard/accounts/{id}/delete"), &[("csrf_token", &token)], None).await;
    assert_eq!(status, 200);
    assert_eq!(account(&broker, &id).await.0, 404);

    // Signing out clears the cookie.
    let (status, _, headers) = op.post("/dashboard/sign-out", &[("csrf_token", &token)], None).await;
    assert_eq!(status, 303);
    assert!(headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_keys_dashboard_session_stops_working() {
    let broker = Broker::start(BrokerOptions::default());
    let made = broker.keys(&["create", "--name", "ops"]);
    let (ops_id, ops_secret) = made.trim().split_once('\t').unwrap();
    let mut op = Operator::new(&broker);
    op.sign_in(ops_secret).await;
    assert_eq!(op.get("/dashboard/auth-configs").await.0, 200);
    let mut kept = Operator::new(&broker);
    kept.sign_in(&broker.api_key).await;

    broker.keys(&["revoke", ops_id]);

    let (status, _, headers) = op.get("/dashboard/auth-configs").await;
    assert_eq!(status, 303, "the session ended with its key");
    assert!(headers["set-cookie"].to_str().unwrap().contains("Max-Age=0"), "and its cookie is dropped");
    assert_eq!(kept.get("/dashboard/auth-configs").await.0, 200, "another key's session lives on");
}

#[tokio::test(flavor = "multi_thread")]
async fn every_execution_is_found_by_its_log_id_without_its_arguments_or_answer() {
    let broker = Broker::start(BrokerOptions::default());
    let (session, id) = connected(&broker, "ada").await;
    let http = broker.http();
    let at = |tail: &str| broker.url(&format!("/api/v3.1/tool_router/session/{}/{tail}", session.session_id()));
    let ran: Value = http
        .post(at("execute"))
        .json(&json!({"tool_slug": "SANDBOX_GET_CURRENT_USER", "arguments": {}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let proxied: Value = http
        .post(at("proxy_execute"))
        .json(&json!({"toolkit": "sandbox", "endpoint": broker.url("/sandbox/oauth/userinfo"), "method": "GET"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let log = |log_id: &str| {
        let (http, url) = (http.clone(), broker.url(&format!("/api/v3.1/logs/{log_id}")));
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, tool) = log(ran["log_id"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{tool}");
    assert_eq!(
        (&tool["user_id"], &tool["connected_account_id"], &tool["toolkit"], &tool["tool_slug"], &tool["successful"], &tool["provider_status"]),
        (&json!("ada"), &json!(id), &json!("sandbox"), &json!("SANDBOX_GET_CURRENT_USER"), &json!(true), &json!(200)),
        "{tool}"
    );
    assert_eq!(tool["session_id"], json!(session.session_id()));
    assert!(tool.get("data").is_none() && tool.get("arguments").is_none() && !tool.to_string().contains("octocat"), "{tool}");
    let (status, proxy) = log(proxied["log_id"].as_str().expect("a proxied request answers its log_id")).await;
    assert_eq!((status, &proxy["tool_slug"], &proxy["provider_status"]), (200, &Value::Null, &json!(200)), "{proxy}");

    let (status, missing) = log("log_doesnotexist").await;
    assert_eq!((status, &missing["error"]["slug"]), (404, &json!("NOT_FOUND")), "{missing}");
    let (status, bad) = log("nope").await;
    assert_eq!((status, &bad["error"]["field"]), (400, &json!("log_id")), "{bad}");
    let anonymous = reqwest::get(broker.url(&format!("/api/v3.1/logs/{}", ran["log_id"].as_str().unwrap()))).await.unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);

    let list = |q: &str| {
        let (http, url) = (http.clone(), broker.url(&format!("/api/v3.1/logs{q}")));
        async move {
            let r = http.get(url).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let (status, all) = list("?user_id=ada&toolkit=sandbox&limit=10").await;
    assert_eq!((status, all["total_items"].as_u64()), (200, Some(2)), "{all}");
    assert_eq!(all["items"][0]["log_id"], proxied["log_id"], "newest first");
    let (_, by_account) = list(&format!("?account_id={id}")).await;
    assert_eq!(by_account["total_items"], json!(2));
    let (_, nobody) = list("?user_id=grace").await;
    assert_eq!(nobody["total_items"], json!(0));
    let (status, bad) = list("?colour=red").await;
    assert_eq!((status, &bad["error"]["field"]), (400, &json!("colour")), "{bad}");
    let (status, bad) = list("?limit=0").await;
    assert_eq!((status, &bad["error"]["field"]), (400, &json!("limit")), "{bad}");

    // The dashboard shows them too, one page per log.
    let mut op = Operator::new(&broker);
    op.sign_in(&broker.api_key).await;
    let (_, page, _) = op.get("/dashboard/logs?user_id=ada").await;
    assert!(page.contains(ran["log_id"].as_str().unwrap()) && page.contains("SANDBOX_GET_CURRENT_USER"), "{page}");
    let (status, page, _) = op.get(&format!("/dashboard/logs/{}", ran["log_id"].as_str().unwrap())).await;
    assert_eq!(status, 200);
    assert!(page.contains(&id), "{page}");
    assert_eq!(op.get("/dashboard/logs/log_doesnotexist").await.0, 404);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_sees_each_webhook_delivery_and_retries_one() {
    // Retries an hour apart: only the operator's retry makes a second attempt.
    let broker = Broker::start(BrokerOptions { extra_args: vec!["--webhook-first-retry-secs".into(), "3600".into()], ..Default::default() });
    let api = broker.http();
    // A receiver that is not there: every attempt fails to connect.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", dead.local_addr().unwrap());
    drop(dead);
    let created: Value = api
        .post(broker.url("/api/v3.1/webhook_subscriptions"))
        .json(&json!({"webhook_url": url, "enabled_events": ["grantline.connected_account.deleted"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (sub, secret) = (created["id"].as_str().unwrap().to_string(), created["secret"].as_str().unwrap().to_string());
    let options = SessionOptions { toolkits: vec!["sandbox".into()], manage_connections: Some(false), ..Default::default() };
    let link = broker.client().create("wendy", options).await.unwrap().authorize("sandbox", AuthorizeOptions::default()).await.unwrap();
    api.delete(broker.url(&format!("/api/v3.1/connected_accounts/{}", link.id()))).send().await.unwrap();
    let attempts = || async {
        let listed: Value = api.get(broker.url(&format!("/api/v3.1/webhook_subscriptions/{sub}/deliveries"))).send().await.unwrap().json().await.unwrap();
        listed["items"].get(0).map_or(0, |d| d["attempts"].as_array().unwrap().len())
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while attempts().await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "no attempt");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    let mut op = Operator::new(&broker);
    op.sign_in(&broker.api_key).await;
    let (status, list, _) = op.get("/dashboard/webhooks").await;
    assert_eq!(status, 200);
    assert!(list.contains(&sub) && list.contains(&url) && list.contains("grantline.connected_account.deleted"), "{list}");
    let page = format!("/dashboard/webhooks/{sub}");
    let (status, body, _) = op.get(&page).await;
    assert_eq!(status, 200);
    assert!(body.contains("Pending") && body.contains("could not connect") && body.contains(link.id()), "{body}");
    assert!(!body.contains(&secret), "the secret is never on a page");

    let delivery = body.split("<code>msg_").nth(1).unwrap().split('<').next().unwrap();
    let retry = format!("/dashboard/webhooks/{sub}/deliveries/msg_{delivery}/retry");
    let (status, _, _) = op.post(&retry, &[], None).await;
    assert_eq!(status, 403, "no CSRF token, no retry");
    assert_eq!(attempts().await, 1);
    let token = op.csrf(&page).await;
    let (status, _, headers) = op.post(&retry, &[("csrf_token", token.as_str())], None).await;
    assert_eq!(status, 303);
    assert!(headers["location"].to_str().unwrap().ends_with(&format!("{page}?done=msg_{delivery}")));
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    while attempts().await < 2 {
        assert!(tokio::time::Instant::now() < deadline, "the retry made no attempt");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn project(broker: &Broker) -> Value {
    broker.http().get(broker.url("/api/v3.1/project")).send().await.unwrap().json().await.unwrap()
}

/// Posts the project form as a browser on the broker's page does (its origin, its token).
async fn save(op: &Operator, token: &str, name: &str, support: &str, verifier: &str, verify: bool) -> (u16, String, reqwest::header::HeaderMap) {
    let mut form = vec![("csrf_token", token), ("display_name", name), ("support_url", support), ("user_verification_url", verifier)];
    if verify {
        form.push(("verify_connect_links", "on"));
    }
    op.post("/dashboard/project", &form, Some(&op.base)).await
}

#[tokio::test(flavor = "multi_thread")]
async fn the_project_page_shows_the_profile_and_its_form_changes_it_as_patch_does() {
    // Not --dev: there, the built-in page verifies users when the project names none.
    let broker = Broker::start(BrokerOptions { dev: false, ..Default::default() });
    let api = broker.http();
    let mut op = Operator::new(&broker);
    op.sign_in(&broker.api_key).await;

    // Nothing set yet: the operator is told what is missing.
    let (status, page, headers) = op.get("/dashboard/project").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("MCP clients cannot be approved in production until you set one"), "{page}");
    assert!(page.contains(&format!(r#"href="{}/dashboard/project" aria-current="page""#, broker.base_url)), "in the navigation: {page}");
    assert!(page.contains(&format!(r#"href="{}/dashboard/sessions""#, broker.base_url)), "sessions too: {page}");
    assert!(headers["content-security-policy"].to_str().unwrap().contains("img-src 'self'"));

    // What REST sets, the page shows: the logo from the broker's own origin.
    let set = api
        .patch(broker.url("/api/v3.1/project"))
        .json(&json!({"display_name": "Acme", "support_url": "https://acme.example/help", "user_verification_url": "https://acme.example/verify", "verify_connect_links": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status().as_u16(), 200);
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR tiny";
    let logo: Value = api.put(broker.url("/api/v3.1/project/logo")).header("content-type", "image/png").body(png.to_vec()).send().await.unwrap().json().await.unwrap();
    let logo_url = logo["logo_url"].as_str().unwrap().to_string();
    assert!(logo_url.starts_with(&broker.base_url), "{logo_url}");
    let (_, page, _) = op.get("/dashboard/project").await;
    assert!(page.contains(r#"<span id="display-name">Acme</span>"#), "{page}");
    assert!(page.contains("https://acme.example/help") && page.contains("https://acme.example/verify"), "{page}");
    assert!(page.contains(r#"<span id="verify-links">yes</span>"#), "{page}");
    assert!(page.contains(&format!(r#"<img src="{logo_url}""#)), "{page}");
    assert!(!page.contains("MCP clients cannot be approved"), "a verifier is set: no warning");
    assert_eq!(reqwest::get(&logo_url).await.unwrap().bytes().await.unwrap().as_ref(), png, "the broker serves the logo it shows");

    // The form changes it: the API sees the change; an empty field clears its value.
    let token = op.csrf("/dashboard/project").await;
    let (status, body, headers) = save(&op, &token, "Acme Corp", "https://acme.example/support", "https://acme.example/who", false).await;
    assert_eq!(status, 303, "{body}");
    assert!(headers["location"].to_str().unwrap().ends_with("/dashboard/project?done=saved"));
    let now = project(&broker).await;
    assert_eq!(
        (&now["display_name"], &now["support_url"], &now["user_verification_url"], &now["verify_connect_links"]),
        (&json!("Acme Corp"), &json!("https://acme.example/support"), &json!("https://acme.example/who"), &json!(false)),
        "{now}"
    );
    let (_, page, _) = op.get("/dashboard/project?done=saved").await;
    assert!(page.contains("Acme Corp") && page.contains(r#"<span id="verify-links">no</span>"#) && page.contains(r#"role="status""#), "{page}");

    // A bad support URL is refused naming the field, the page keeps what was typed, nothing changes.
    let (status, page, _) = save(&op, &token, "Renamed", "http://acme.example/help", "https://acme.example/who", true).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains(r#"data-field="support_url""#) && page.contains("invalid support_url"), "{page}");
    assert!(page.contains(r#"value="Renamed""#) && page.contains(r#"aria-invalid="true""#), "{page}");
    assert_eq!(project(&broker).await, now, "nothing changed");
    // The engine's own rule: verifying Connect Links needs a verifier, as PATCH says.
    let (status, page, _) = save(&op, &token, "Acme Corp", "", "", true).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains(r#"data-field="user_verification_url""#) && page.contains("turn that off first"), "{page}");
    assert_eq!(project(&broker).await, now, "nothing changed");
    // Without its CSRF token, from another origin, or with a field the form has not: refused.
    let no_token: Vec<(&str, &str)> = vec![("display_name", "Mallory"), ("support_url", ""), ("user_verification_url", "")];
    let (status, _, _) = op.post("/dashboard/project", &no_token, None).await;
    assert_eq!(status, 403, "no CSRF token");
    let (status, _, _) = op.post("/dashboard/project", &[("csrf_token", &token), ("display_name", "Mallory")], Some("https://evil.example")).await;
    assert_eq!(status, 403, "another origin");
    let (status, page, _) = op.post("/dashboard/project", &[("csrf_token", &token), ("colour", "red")], None).await;
    assert_eq!(status, 400, "{page}");
    assert!(page.contains(r#"data-field="colour""#), "{page}");
    assert_eq!(project(&broker).await, now, "nothing changed");

    // Clearing every field through the form clears them; the warning is back.
    let (status, _, _) = save(&op, &token, "", "", "", false).await;
    assert_eq!(status, 303);
    let cleared = project(&broker).await;
    assert_eq!((&cleared["display_name"], &cleared["support_url"], &cleared["user_verification_url"]), (&Value::Null, &Value::Null, &Value::Null), "{cleared}");
    let (_, page, _) = op.get("/dashboard/project").await;
    assert!(page.contains("MCP clients cannot be approved in production until you set one"), "{page}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sessions_page_lists_its_mcp_credentials_without_secrets_and_revokes_one() {
    let broker = Broker::start(BrokerOptions::default());
    let (session, account_id) = connected(&broker, "ada").await;
    let minted = session.create_mcp_credential(grantline_core::model::McpCredentialRequest { ttl_seconds: None, name: Some("Cursor".into()) }).await.unwrap();
    let kept = session.create_mcp_credential(grantline_core::model::McpCredentialRequest { ttl_seconds: None, name: Some("Claude".into()) }).await.unwrap();
    assert!(minted.secret.starts_with("glmcp_"));
    let mcp_url = session.mcp().url.clone();
    let tools_list = |secret: String| {
        let url = mcp_url.clone();
        async move {
            reqwest::Client::new()
                .post(url)
                .header("accept", "application/json, text/event-stream")
                .header("mcp-protocol-version", "2025-06-18")
                .bearer_auth(secret)
                .json(&json!({"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(tools_list(minted.secret.clone()).await, 200);
    // A tool run in the session links the account's page to it.
    let ran = broker
        .http()
        .post(broker.url(&format!("/api/v3.1/tool_router/session/{}/execute", session.session_id())))
        .json(&json!({"tool_slug": "SANDBOX_GET_CURRENT_USER", "arguments": {}}))
        .send()
        .await
        .unwrap();
    assert_eq!(ran.status().as_u16(), 200);

    let mut op = Operator::new(&broker);
    op.sign_in(&broker.api_key).await;
    let page = format!("/dashboard/sessions/{}", session.session_id());
    let (_, account_page, _) = op.get(&format!("/dashboard/accounts/{account_id}")).await;
    assert!(account_page.contains(&format!(r#"href="{}{page}""#, broker.base_url)), "the account links the session it ran in: {account_page}");
    let (status, found, headers) = op.get(&format!("/dashboard/sessions?session_id={}", session.session_id())).await;
    assert_eq!(status, 303, "{found}");
    assert!(headers["location"].to_str().unwrap().ends_with(&page));
    assert_eq!(op.get("/dashboard/sessions?session_id=nope").await.0, 400, "a malformed session id");
    assert_eq!(op.get("/dashboard/sessions/trs_doesnotexist").await.0, 404);

    let (status, shown, _) = op.get(&page).await;
    assert_eq!(status, 200, "{shown}");
    assert!(shown.contains(&minted.id) && shown.contains(&kept.id) && shown.contains("Cursor") && shown.contains("Claude"), "{shown}");
    assert!(shown.contains("ada") && shown.contains("<code>sandbox</code>") && shown.contains(&mcp_url), "user, toolkits and MCP URL: {shown}");
    assert!(!shown.contains(&minted.secret) && !shown.contains(&kept.secret) && !shown.contains("glmcp_"), "never a secret: {shown}");

    let revoke = format!("{page}/mcp_credentials/{}/revoke", minted.id);
    let (status, _, _) = op.post(&revoke, &[], None).await;
    assert_eq!(status, 403, "no CSRF token, no revoke");
    assert_eq!(tools_list(minted.secret.clone()).await, 200, "still works");
    let token = op.csrf(&page).await;
    let (status, _, headers) = op.post(&revoke, &[("csrf_token", token.as_str())], Some(&broker.base_url)).await;
    assert_eq!(status, 303);
    let back = headers["location"].to_str().unwrap().to_string();
    assert!(back.ends_with(&format!("{page}?done={}", minted.id)), "{back}");
    assert_eq!(tools_list(minted.secret.clone()).await, 401, "the MCP endpoint refuses the revoked credential");
    assert_eq!(tools_list(kept.secret.clone()).await, 200, "the other lives on");
    let (_, shown, _) = op.get(&format!("{page}?done={}", minted.id)).await;
    assert!(shown.contains(r#"data-status="REVOKED""#) && shown.contains("is revoked"), "{shown}");
    assert_eq!(shown.matches("Revoke MCP credential").count(), 1, "only the live one has a button: {shown}");
    let (status, _, _) = op.post(&revoke, &[("csrf_token", token.as_str())], None).await;
    assert_eq!(status, 404, "already revoked");
}
