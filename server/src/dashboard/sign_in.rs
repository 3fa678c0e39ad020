//! Signing in with the project's API key, and out.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use grantline_core::engine::EngineConfig;
use grantline_core::Error;

use super::layout;
use super::session::{self, Operator};
use crate::pages::esc;
use crate::rate_limit::SIGN_IN_BUCKET;
use crate::AppState;

/// The sign-in form.
pub async fn form(State(s): State<AppState>) -> Response {
    layout::html(StatusCode::OK, page(s.engine.config(), None))
}

fn page(config: &EngineConfig, error: Option<&str>) -> String {
    let error = error.map(|e| format!(r#"<p class="error" role="alert" id="sign-in-error">{}</p>"#, esc(e))).unwrap_or_default();
    let described = if error.is_empty() { "" } else { r#" aria-describedby="sign-in-error""# };
    let body = format!(
        r#"<div class="signin">{error}
<form method="post" action="{action}">
<label for="api_key">Project API key</label>
<input id="api_key" name="api_key" type="password" required autocomplete="off" spellcheck="false"{described}>
<p class="muted">The key stays on the broker: the session cookie carries only a sealed reference to it, for 12 hours.</p>
<button class="primary" type="submit">Sign in</button>
</form></div>"#,
        action = esc(&config.url("/dashboard/sign-in")),
    );
    layout::bare(config, "Sign in to the dashboard", &body)
}

/// Checks the key (rate limited), opens a session and sets its cookie.
pub async fn submit(State(s): State<AppState>, headers: HeaderMap, Form(fields): Form<Vec<(String, String)>>) -> Response {
    let config = s.engine.config();
    if let Err(e) = session::check_origin(config, &headers) {
        return super::error_page(config, &e);
    }
    if let Some((k, _)) = fields.iter().find(|(k, _)| k != "api_key") {
        return super::error_page(config, &Error::validation(k.clone(), "unknown form field; expected api_key"));
    }
    if let Err(e) = s.limits.dashboard_sign_in.check(SIGN_IN_BUCKET) {
        return super::error_page(config, &e);
    }
    let key = fields.iter().find(|(k, _)| k == "api_key").map(|(_, v)| v.as_str()).unwrap_or_default();
    match s.engine.dashboard_sign_in(key).await {
        Ok((cookie, _)) => {
            let mut r = layout::secured(Redirect::to(&config.url("/dashboard/accounts")).into_response());
            r.headers_mut().insert(SET_COOKIE, session::set_cookie(config, &cookie));
            r
        }
        Err(Error::Unauthorized(_)) => layout::html(StatusCode::UNAUTHORIZED, page(config, Some("That API key is unknown or revoked."))),
        Err(e @ Error::Validation { .. }) => layout::html(StatusCode::BAD_REQUEST, page(config, Some(&e.to_string()))),
        Err(e) => super::error_page(config, &e),
    }
}

/// Ends the session in this browser.
pub async fn sign_out(State(s): State<AppState>, Operator(op): Operator, headers: HeaderMap, Form(fields): Form<Vec<(String, String)>>) -> Response {
    let config = s.engine.config();
    if let Err(e) = session::check_form(&s, &op, &headers, &fields) {
        return super::error_page(config, &e);
    }
    let mut r = session::to_sign_in(config);
    r.headers_mut().insert(SET_COOKIE, session::clear_cookie(config));
    r
}
