//! CORS for the endpoints a browser widget reaches with a client token, and for no others.
//!
//! Only origins some project allows get CORS headers; the client token's own project is
//! checked again when the token is authenticated. `x-api-key` is never an allowed header,
//! so a page cannot send a project API key cross-origin.

use axum::extract::{Request, State};
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;
use crate::AppState;

/// Headers a page may send: the client token and a JSON body.
const ALLOW_HEADERS: &str = "authorization, content-type";
/// Methods a page may use.
const ALLOW_METHODS: &str = "GET, POST";
/// How long a browser may cache a preflight answer, in seconds.
const MAX_AGE: &str = "600";

/// Answers preflights and adds `Access-Control-Allow-Origin` for allowed origins.
pub async fn layer(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let Some(origin) = req.headers().get(ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_string) else {
        return next.run(req).await;
    };
    let allowed = match s.engine.origin_allowed_anywhere(&origin).await {
        Ok(a) => a,
        Err(e) => return ApiError(e).into_response(),
    };
    let preflight = req.method() == Method::OPTIONS && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        if !allowed {
            // No CORS headers: the browser refuses the real request.
            return (StatusCode::FORBIDDEN, [(VARY, HeaderValue::from_static("origin"))]).into_response();
        }
        let mut resp = StatusCode::NO_CONTENT.into_response();
        let h = resp.headers_mut();
        allow(h, &origin);
        h.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOW_METHODS));
        h.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
        h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
        return resp;
    }
    let mut resp = next.run(req).await;
    if allowed {
        allow(resp.headers_mut(), &origin);
    } else {
        resp.headers_mut().append(VARY, HeaderValue::from_static("origin"));
    }
    resp
}

fn allow(h: &mut HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.append(VARY, HeaderValue::from_static("origin"));
}
