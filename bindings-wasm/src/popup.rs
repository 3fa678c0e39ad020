//! The Connect Link popup: opened inside the user's click, pointed at the link once it exists,
//! watched until the connection settles or the user closes it.

use std::time::Duration;

use crate::errors::{Failure, Outcome};

/// Window name, so a second click reuses the same popup instead of stacking them.
const NAME: &str = "grantline-connect";
/// Size and chrome of the popup.
const FEATURES: &str = "popup,width=520,height=720";
/// How often to look whether the user closed the popup.
const CLOSED_CHECK: Duration = Duration::from_millis(250);

/// A popup window this page opened.
pub struct Popup {
    window: web_sys::Window,
}

impl Popup {
    /// Opens an empty popup now, synchronously, so the browser counts it as part of the click.
    pub fn open() -> Outcome<Self> {
        let opener = web_sys::window().ok_or(Failure::PopupBlocked)?;
        let window = opener.open_with_url_and_target_and_features("about:blank", NAME, FEATURES).ok().flatten();
        let window = window.ok_or(Failure::PopupBlocked)?;
        if let Some(doc) = window.document() {
            doc.set_title("Connecting…");
        }
        Ok(Self { window })
    }

    /// Sends the popup to `url` (the Connect Link).
    pub fn navigate(&self, url: &str) {
        let _ = self.window.location().set_href(url);
    }

    /// Whether the user (or the page) closed it.
    pub fn is_closed(&self) -> bool {
        self.window.closed().unwrap_or(true)
    }

    /// Closes it if still open.
    pub fn close(&self) {
        if !self.is_closed() {
            let _ = self.window.close();
        }
    }

    /// Resolves once the popup is closed.
    pub async fn closed(&self) {
        while !self.is_closed() {
            sleep(CLOSED_CHECK).await;
        }
    }
}

/// Waits `d` on this page's timer (a Promise that `setTimeout` resolves).
async fn sleep(d: Duration) {
    let ms = d.as_millis() as i32;
    let elapsed = js_sys::Promise::new(&mut |resolve, _| {
        if let Some(window) = web_sys::window() {
            let _ = window.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = wasm_bindgen_futures::JsFuture::from(elapsed).await;
}
