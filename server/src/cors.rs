//! CORS for the endpoints a browser widget reaches with a client token, and for no others.
//!
//! Only origins some project allows get CORS headers; the client token's own project is
//! checked again when the token is authenticated. `x-api-key` is never an allowed header,
//! so a page cannot send a project API key cross-origin.
//!
//! A tower layer rather than `middleware::from_fn`: a request without `Origin` (a backend's) goes
//! straight through, with no boxed future kept for as long as it runs (a long-poll waits long).

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::extract::Request;
use axum::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use tower::{Layer, Service};

use crate::error::ApiError;
use crate::AppState;

/// Headers a page may send: the client token and a JSON body.
const ALLOW_HEADERS: &str = "authorization, content-type";
/// Methods a page may use.
const ALLOW_METHODS: &str = "GET, POST";
/// How long a browser may cache a preflight answer, in seconds.
const MAX_AGE: &str = "600";

/// Answers preflights and adds `Access-Control-Allow-Origin` for allowed origins.
#[derive(Clone)]
pub struct Cors {
    state: AppState,
}

impl Cors {
    /// The layer, checking origins against every project's allow-list.
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl<S> Layer<S> for Cors {
    type Service = CorsService<S>;

    fn layer(&self, inner: S) -> CorsService<S> {
        CorsService { inner, state: self.state.clone() }
    }
}

/// A service behind the CORS check.
#[derive(Clone)]
pub struct CorsService<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for CorsService<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + Unpin + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = CorsFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        match req.headers().get(ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_string) {
            None => CorsFuture::Direct(self.inner.call(req)),
            Some(origin) => {
                // The clone is ready for another call; this one takes the ready service.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                CorsFuture::Browser(Box::pin(browser(self.state.clone(), inner, req, origin)))
            }
        }
    }
}

/// The response of a [`CorsService`].
pub enum CorsFuture<F> {
    /// No `Origin`: the inner response as it is.
    Direct(F),
    /// A browser's request, checked (boxed: the check reads the store).
    Browser(Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>),
}

impl<F: Future<Output = Result<Response, Infallible>> + Unpin> Future for CorsFuture<F> {
    type Output = Result<Response, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.get_mut() {
            CorsFuture::Direct(f) => Pin::new(f).poll(cx),
            CorsFuture::Browser(f) => f.as_mut().poll(cx),
        }
    }
}

/// A request from a page at `origin`: a preflight is answered here; any other goes to `inner`.
async fn browser<S>(s: AppState, mut inner: S, req: Request, origin: String) -> Result<Response, Infallible>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    let allowed = match s.engine.origin_allowed_anywhere(&origin).await {
        Ok(a) => a,
        Err(e) => return Ok(ApiError(e).into_response()),
    };
    let preflight = req.method() == Method::OPTIONS && req.headers().contains_key(ACCESS_CONTROL_REQUEST_METHOD);
    if preflight {
        if !allowed {
            // No CORS headers: the browser refuses the real request.
            return Ok((StatusCode::FORBIDDEN, [(VARY, HeaderValue::from_static("origin"))]).into_response());
        }
        let mut resp = StatusCode::NO_CONTENT.into_response();
        let h = resp.headers_mut();
        allow(h, &origin);
        h.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(ALLOW_METHODS));
        h.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static(ALLOW_HEADERS));
        h.insert(ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static(MAX_AGE));
        return Ok(resp);
    }
    let mut resp = inner.call(req).await?;
    if allowed {
        allow(resp.headers_mut(), &origin);
    } else {
        resp.headers_mut().append(VARY, HeaderValue::from_static("origin"));
    }
    Ok(resp)
}

fn allow(h: &mut HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        h.insert(ACCESS_CONTROL_ALLOW_ORIGIN, v);
    }
    h.append(VARY, HeaderValue::from_static("origin"));
}
