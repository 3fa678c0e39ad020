//! The browser transport: the page's own `fetch`, cut off by an `AbortController` when the
//! deadline passes (a `setTimeout`) or when the request's future is dropped (a `connect()` that
//! settled another way). No HTTP stack is compiled in: the browser already has one.

use std::time::Duration;

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{prelude::*, JsCast};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, RequestInit};

use super::{Failure, ParsedUrl, Request, Response};

#[wasm_bindgen]
extern "C" {
    // The globals themselves rather than `Window`'s methods: they exist in workers too.
    #[wasm_bindgen(catch, js_name = fetch)]
    fn fetch_with_init(url: &str, init: &RequestInit) -> Result<Promise, JsValue>;
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(handler: &Function, ms: i32) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// Nothing to hold: every request is one `fetch` of the page.
#[derive(Clone, Debug)]
pub(crate) struct Transport;

impl Transport {
    pub(crate) fn new() -> Result<Self, String> {
        Ok(Self)
    }

    pub(crate) async fn send(&self, request: Request) -> Result<Response, Failure> {
        let controller = AbortController::new().map_err(failed)?;
        let headers = Object::new();
        for (name, value) in &request.headers {
            Reflect::set(&headers, &JsValue::from_str(name), &JsValue::from_str(value)).map_err(failed)?;
        }
        let init = RequestInit::new();
        init.set_method(request.method.as_str());
        init.set_headers(&headers);
        if let Some(body) = &request.body {
            init.set_body(&JsValue::from_str(body));
        }
        init.set_signal(Some(&controller.signal()));
        let guard = Deadline::start(&controller, request.timeout)?;
        let exchange = async {
            let resp: web_sys::Response = JsFuture::from(fetch_with_init(&request.url, &init)?).await?.unchecked_into();
            let text = JsFuture::from(resp.text()?).await?;
            Ok::<_, JsValue>(Response { status: resp.status(), body: text.as_string().unwrap_or_default().into_bytes() })
        };
        let outcome = exchange.await;
        // Only the timer can have aborted it while it was awaited (a drop aborts it afterwards).
        let timed_out = controller.signal().aborted();
        drop(guard);
        match outcome {
            Ok(response) => Ok(response),
            Err(_) if timed_out => Err(Failure::TimedOut),
            Err(e) => Err(failed(e)),
        }
    }
}

/// The timer that aborts a request at its deadline; dropping it (the request answered, or its
/// future was dropped) clears the timer and aborts whatever is still in flight.
struct Deadline {
    controller: AbortController,
    timer: JsValue,
}

impl Deadline {
    fn start(controller: &AbortController, timeout: Duration) -> Result<Self, Failure> {
        let abort: Function = Reflect::get(controller, &JsValue::from_str("abort")).map_err(failed)?.unchecked_into();
        let timer = set_timeout(&abort.bind0(controller), millis(timeout));
        Ok(Self { controller: controller.clone(), timer })
    }
}

impl Drop for Deadline {
    fn drop(&mut self) {
        clear_timeout(&self.timer);
        self.controller.abort();
    }
}

/// `setTimeout`'s delay: larger than 2^31-1 ms would fire at once, so it is capped (24.8 days).
fn millis(d: Duration) -> i32 {
    d.as_millis().min(i32::MAX as u128) as i32
}

/// A thrown JS value as a failure: an `Error`'s own message, else the value as text.
fn failed(e: JsValue) -> Failure {
    let text = match e.dyn_ref::<js_sys::Error>() {
        Some(err) => format!("{}: {}", String::from(err.name()), String::from(err.message())),
        None => e.as_string().unwrap_or_else(|| "the request failed".to_string()),
    };
    Failure::Failed(text)
}

/// Parses `text` with the browser's `URL`.
pub(crate) fn parse_url(text: &str) -> Result<ParsedUrl, String> {
    let url = web_sys::Url::new(text).map_err(|e| match failed(e) {
        Failure::Failed(why) => why,
        Failure::TimedOut => String::new(),
    })?;
    Ok(ParsedUrl { scheme: url.protocol().trim_end_matches(':').to_string(), origin: url.origin(), path: url.pathname() })
}

/// Waits `d` on the page's timer.
pub(crate) async fn sleep(d: Duration) {
    let ms = millis(d);
    let _ = JsFuture::from(Promise::new(&mut |resolve, _| {
        set_timeout(&resolve, ms);
    }))
    .await;
}
