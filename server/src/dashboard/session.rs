//! Who is signed in: the session cookie (sealed by the engine, `engine/dashboard.rs`), its flags,
//! and the checks every form post passes (its session's CSRF token, and the broker's own
//! `Origin` when the browser sends one).

use axum::extract::FromRequestParts;
use axum::http::header::{ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use grantline_core::engine::{DashboardSession, EngineConfig, DASHBOARD_SESSION_TTL};
use grantline_core::Error;

use crate::AppState;

/// The session cookie's name.
pub const COOKIE_NAME: &str = "grantline_dashboard";

/// The signed-in operator of a dashboard request, and the cookie value that carries the session.
pub struct Operator(pub DashboardSession);

impl FromRequestParts<AppState> for Operator {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let Some(cookie) = cookie(&parts.headers) else { return Err(to_sign_in(state.engine.config())) };
        match state.engine.dashboard_session(&cookie).await {
            Ok(session) => Ok(Operator(session)),
            // Signed out, expired or revoked: sign in again, and drop the dead cookie.
            Err(Error::Unauthorized(_)) => {
                let mut r = to_sign_in(state.engine.config());
                r.headers_mut().append(SET_COOKIE, clear_cookie(state.engine.config()));
                Err(r)
            }
            Err(e) => Err(super::error_page(state.engine.config(), &e)),
        }
    }
}

/// The session cookie's value in a request, if any.
fn cookie(headers: &HeaderMap) -> Option<String> {
    crate::cookies::get(headers, COOKIE_NAME)
}

/// The cookie's path: the dashboard under the public URL's path.
fn cookie_path(config: &EngineConfig) -> String {
    format!("{}/dashboard", config.public_base_url.path().trim_end_matches('/'))
}

/// The flags every form of the cookie carries: HTTP only, same site only, the dashboard's path,
/// and `Secure` when browsers reach the broker over https.
fn flags(config: &EngineConfig) -> String {
    crate::cookies::attributes(config, &cookie_path(config), "Strict")
}

/// `Set-Cookie` for a session just opened.
pub fn set_cookie(config: &EngineConfig, value: &str) -> HeaderValue {
    let v = format!("{COOKIE_NAME}={value}; {}; Max-Age={}", flags(config), DASHBOARD_SESSION_TTL.as_secs());
    HeaderValue::from_str(&v).expect("a sealed value is base64url")
}

/// `Set-Cookie` that ends the session in this browser.
pub fn clear_cookie(config: &EngineConfig) -> HeaderValue {
    HeaderValue::from_str(&format!("{COOKIE_NAME}=; {}; Max-Age=0", flags(config))).expect("ascii")
}

/// A redirect (303) to the sign-in page.
pub fn to_sign_in(config: &EngineConfig) -> Response {
    super::layout::secured(Redirect::to(&config.url("/dashboard/sign-in")).into_response())
}

/// Refuses a form post from another origin than the broker's public one (when the browser names
/// it; `Origin: null` is refused too).
pub fn check_origin(config: &EngineConfig, headers: &HeaderMap) -> Result<(), Error> {
    let Some(origin) = headers.get(ORIGIN) else { return Ok(()) };
    let expected = config.public_base_url.origin().ascii_serialization();
    if origin.to_str().is_ok_and(|o| o == expected) {
        Ok(())
    } else {
        Err(Error::Forbidden(format!("this form must be posted from {expected}")))
    }
}

/// The checks of every signed-in form post: its origin, and its session's CSRF token.
pub fn check_form(state: &AppState, session: &DashboardSession, headers: &HeaderMap, fields: &[(String, String)]) -> Result<(), Error> {
    check_origin(state.engine.config(), headers)?;
    let token = fields.iter().find(|(k, _)| k == "csrf_token").map(|(_, v)| v.as_str());
    state.engine.check_dashboard_csrf(session, token)
}

/// [`check_form`] for a button's form, which carries its CSRF token and nothing else.
pub fn check_button(state: &AppState, session: &DashboardSession, headers: &HeaderMap, fields: &[(String, String)]) -> Result<(), Error> {
    check_form(state, session, headers, fields)?;
    match fields.iter().find(|(k, _)| k != "csrf_token") {
        Some((k, _)) => Err(Error::validation(k.clone(), "unknown form field; expected csrf_token")),
        None => Ok(()),
    }
}
