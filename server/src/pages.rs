//! The few HTML pages the broker shows people: link outcomes and the sandbox consent.
//!
//! Every URL a page names is absolute, built from the public URL (`--public-url`), so a broker
//! behind a path prefix (`https://apps.example.com/grantline`) posts its forms to itself.

use axum::http::header::{CACHE_CONTROL, REFERRER_POLICY, X_FRAME_OPTIONS};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use grantline_core::engine::verification::{ANOTHER_USER, BINDING_COOKIE_MAX_AGE_SECS, DEV_VERIFY_PATH};
use grantline_core::engine::{AppBrand, CallbackPage, ConnectForm, EngineConfig, VerificationStart, LINK_PATH};
use grantline_core::Error;

/// Marks a response that carries (or was reached with) a link token, a `state`, a code or a
/// form as private: never framed (clickjacking), never cached, and never named in a `Referer`.
pub fn private(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(HeaderName::from_static("content-security-policy"), HeaderValue::from_static("frame-ancestors 'none'"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Escapes text for HTML.
pub fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

/// A whole page around `body`, with a `data-outcome` the tests and widgets can read.
pub fn layout(title: &str, outcome: &str, body: &str) -> String {
    branded(title, outcome, None, body)
}

/// A page a person sees during a connection or a verification: it names the app that asks
/// ("Acme wants to use your GitHub account"), with its logo and support link when set, so a
/// person can tell a real request from a phishing one. Every value is escaped.
pub fn branded(title: &str, outcome: &str, brand: Option<&AppBrand>, body: &str) -> String {
    let (asks, support) = match brand {
        Some(b) => (
            format!(
                r#"<div class="asks">{logo}<p data-app="{name}"><strong>{headline}</strong></p></div>"#,
                logo = brand_logo(b),
                name = esc(&b.app_name),
                headline = esc(&b.headline())
            ),
            brand_support(b),
        ),
        None => (String::new(), String::new()),
    };
    page_html(title, outcome, &format!("{asks}{body}{support}"))
}

/// The app's logo, when it has one (escaped).
pub fn brand_logo(b: &AppBrand) -> String {
    b.logo_url
        .as_deref()
        .map(|u| format!(r#"<img class="logo" src="{}" alt="{} logo" width="48" height="48">"#, esc(u), esc(&b.app_name)))
        .unwrap_or_default()
}

/// The link to the app's support page, when it has one (escaped).
pub fn brand_support(b: &AppBrand) -> String {
    b.support_url
        .as_deref()
        .map(|u| format!(r#"<p class="support muted">Questions? <a href="{}" rel="noopener noreferrer">Contact {} support</a></p>"#, esc(u), esc(&b.app_name)))
        .unwrap_or_default()
}

fn page_html(title: &str, outcome: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>{title} · Grantline</title>
<style>
body{{font-family:system-ui,sans-serif;background:#f6f7f9;margin:0;display:grid;place-items:center;min-height:100vh;color:#1d2330}}
main{{background:#fff;border-radius:12px;box-shadow:0 2px 12px #0001;padding:2rem 2.5rem;max-width:28rem}}
h1{{font-size:1.3rem;margin-top:0}} .muted{{color:#5b6472}} button{{font-size:1rem;padding:.55rem 1.1rem;border-radius:8px;border:1px solid #c9ced6;background:#fff;cursor:pointer}}
button.primary{{background:#2358d8;color:#fff;border-color:#2358d8}} input{{font-size:1rem;padding:.45rem;border:1px solid #c9ced6;border-radius:6px;width:100%;box-sizing:border-box}}
.row{{display:flex;gap:.6rem;margin-top:1.2rem}} label{{display:block;margin-top:.9rem}} .error{{color:#b3261e}}
.asks{{display:flex;gap:.8rem;align-items:center;margin-bottom:1rem}} .asks p{{margin:0}} .logo{{border-radius:8px;object-fit:contain}} .support{{margin-top:1.4rem;font-size:.9rem}}
</style></head>
<body><main data-outcome="{outcome}">
<h1>{title}</h1>
{body}
</main></body></html>"#,
        title = esc(title),
    )
}

/// Renders a link or callback outcome, naming the app when it is known.
pub fn callback_page(page: &CallbackPage, brand: Option<&AppBrand>) -> Response {
    let layout = |title: &str, outcome: &str, body: &str| branded(title, outcome, brand, body);
    let status = StatusCode::from_u16(page.http_status()).unwrap_or(StatusCode::OK);
    let html = match page {
        CallbackPage::Connected { toolkit } => {
            let toolkit = brand.and_then(|b| b.toolkit_name.as_deref()).unwrap_or(toolkit);
            let to = brand.map(|b| format!(" to {}", esc(&b.app_name))).unwrap_or_default();
            layout("Connected", "connected", &format!("<p>Your {} account is connected{to} — you can close this window.</p>", esc(toolkit)))
        }
        CallbackPage::Failed { toolkit, reason } => {
            let toolkit = brand.and_then(|b| b.toolkit_name.as_deref()).unwrap_or(toolkit);
            layout(
                "Connection failed",
                "failed",
                &format!("<p>Connecting {} did not work.</p><p class=\"muted\">{}</p><p>Go back to the app and try again.</p>", esc(toolkit), esc(reason)),
            )
        }
        CallbackPage::Expired => layout(
            "This link has expired",
            "expired",
            "<p>This Connect Link was not completed in time, so nothing was connected.</p><p>Go back to the app and start again.</p>",
        ),
        CallbackPage::Invalid { reason } => layout("This link cannot be used", "invalid", &format!("<p>{}</p>", esc(reason))),
    };
    (status, Html(html)).into_response()
}

/// The form of an API-key, bearer or basic toolkit's Connect Link; it posts to the link's
/// absolute URL on the broker's public URL.
pub fn connect_form(config: &EngineConfig, form: &ConnectForm, brand: Option<&AppBrand>, status: StatusCode) -> Response {
    let error = form.error.as_deref().map(|e| format!(r#"<p class="error" role="alert">{}</p>"#, esc(e))).unwrap_or_default();
    let fields: String = form
        .fields
        .iter()
        .map(|f| {
            let (kind, value) = if f.secret {
                ("password", String::new())
            } else {
                ("text", form.kept.get(&f.name).map(|v| esc(v)).unwrap_or_default())
            };
            format!(
                r#"<label>{label}<input type="{kind}" name="{name}" value="{value}" required autocomplete="off" spellcheck="false"></label>"#,
                label = esc(&f.label),
                name = esc(&f.name),
            )
        })
        .collect();
    let body = format!(
        r#"<p class="muted">What you enter is sent to {name} only to check it, and stored encrypted.</p>{error}
<form method="post" action="{action}">{fields}
<div class="row"><button class="primary" type="submit">Connect</button></div></form>"#,
        name = esc(&form.toolkit_name),
        action = esc(&config.url(&format!("{LINK_PATH}{}", form.link_token))),
    );
    (status, Html(branded(&format!("Connect {}", form.toolkit_name), "form", brand, &body))).into_response()
}

/// An unexpected error, as a page (no internals beyond the error's own message).
pub fn error_page(e: &Error) -> Response {
    error_page_for(e, None)
}

/// [`error_page`], naming the app when it is known. A refusal meant for the person (a
/// verification that failed) is shown as its own words.
pub fn error_page_for(e: &Error, brand: Option<&AppBrand>) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status.is_server_error() {
        tracing::error!(code = e.code(), error = %e, "page failed");
    }
    let msg = match e {
        _ if status.is_server_error() => "Something went wrong on the broker. Try again later.".to_string(),
        Error::Forbidden(m) | Error::Conflict(m) => m.clone(),
        _ => e.to_string(),
    };
    let mut response = (status, Html(branded("Something went wrong", "error", brand, &format!("<p>{}</p>", esc(&msg))))).into_response();
    if let Some(secs) = e.retry_after() {
        response.headers_mut().insert(axum::http::header::RETRY_AFTER, secs.into());
    }
    response
}

/// Sends the browser to the app's verifier, setting the flow's binding cookie (HttpOnly,
/// SameSite=Lax so it comes back on the verifier's and the provider's top-level redirects,
/// Secure on an https broker, scoped to the broker's path).
pub fn verification_redirect(config: &EngineConfig, start: &VerificationStart) -> Response {
    let cookie = format!(
        "{}={}; Max-Age={BINDING_COOKIE_MAX_AGE_SECS}; {}",
        start.cookie_name,
        start.binding,
        crate::cookies::attributes(config, config.public_base_url.path(), "Lax")
    );
    let mut response = axum::response::Redirect::to(&start.browser_url).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(axum::http::header::SET_COOKIE, v);
    }
    response
}

/// The built-in verifier of a `--dev` broker: the person types who they are, which confirms
/// the flow as that user (a stand-in for the app's own page, where its user is signed in).
pub fn dev_verifier(config: &EngineConfig, flow_id: &str, brand: Option<&AppBrand>) -> Response {
    let body = format!(
        r#"<p class="muted">This is a <code>--dev</code> broker's stand-in for the app's own verification page, where its user is signed in.</p>
<form method="post" action="{action}"><input type="hidden" name="flow_id" value="{flow_id}">
<label>You are the app's user <input name="user_id" required autocomplete="off" spellcheck="false"></label>
<div class="row"><button class="primary" type="submit">Confirm</button></div></form>"#,
        action = esc(&config.url(DEV_VERIFY_PATH)),
        flow_id = esc(flow_id),
    );
    Html(branded("Confirm who you are", "verify", brand, &body)).into_response()
}

/// The page shown when a verification ended without letting the flow go on.
pub fn verification_failed(e: &Error, brand: Option<&AppBrand>) -> Response {
    let another = matches!(e, Error::Forbidden(m) if m == ANOTHER_USER);
    if another {
        let body = format!("<p role=\"alert\" class=\"error\">{}</p>", esc(ANOTHER_USER));
        return (StatusCode::FORBIDDEN, Html(branded("This link was started for another user", "another-user", brand, &body))).into_response();
    }
    error_page_for(e, brand)
}
