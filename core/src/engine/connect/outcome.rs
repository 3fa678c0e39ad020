//! How a connection flow ends, for the OAuth callback and the connect form alike: what opening
//! a link leads to, the pages the broker shows, and when a link can no longer be used.

use crate::engine::connect::ConnectForm;
use crate::engine::store::{AccountRecord, ConnectionRequestRecord, RequestKind};
use crate::model::AccountStatus;

/// What opening a Connect Link leads to.
#[derive(Debug, Clone, PartialEq)]
pub enum LinkOpen {
    /// Send the browser to the provider.
    Redirect(url::Url),
    /// Show a page instead (expired, finished, unknown link).
    Page(CallbackPage),
    /// Show the toolkit's connect form (API key, bearer token, user name and password).
    Form(ConnectForm),
    /// Send the browser to the app's verifier first, setting the binding cookie.
    Verify(crate::engine::verification::VerificationStart),
}

/// The end of a callback: back to the app, or a broker page.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackOutcome {
    /// Redirect to the app's callback URL (status and account id appended).
    Redirect(url::Url),
    /// Show a broker page.
    Page(CallbackPage),
}

/// The pages the broker shows at the end of (or instead of) a flow.
#[derive(Debug, Clone, PartialEq)]
pub enum CallbackPage {
    /// Connected; the window can be closed.
    Connected { toolkit: String },
    /// The provider or the exchange failed.
    Failed { toolkit: String, reason: String },
    /// The link expired before it was completed; nothing changed.
    Expired,
    /// The link or `state` is unknown, or was already used; nothing changed.
    Invalid { reason: String },
}

impl CallbackPage {
    /// The HTTP status the page is served with.
    pub fn http_status(&self) -> u16 {
        match self {
            CallbackPage::Connected { .. } => 200,
            CallbackPage::Failed { .. } => 200,
            CallbackPage::Expired => 410,
            CallbackPage::Invalid { .. } => 400,
        }
    }
}

/// The query a provider sends to the callback. Its `Debug` prints neither `state` nor `code`.
#[derive(Clone, Default)]
pub struct CallbackParams {
    /// Our `state`.
    pub state: Option<String>,
    /// The authorization code.
    pub code: Option<String>,
    /// OAuth error code, e.g. `access_denied`.
    pub error: Option<String>,
    /// The provider's description of the error.
    pub error_description: Option<String>,
    /// The browser's user-verification binding cookies.
    pub cookies: crate::engine::verification::BindingCookies,
}

impl std::fmt::Debug for CallbackParams {
    // `state` and the code are secrets until used: only whether each is there.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackParams")
            .field("state", &self.state.as_ref().map(|_| "<redacted>"))
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .field("error", &self.error)
            .field("error_description", &self.error_description)
            .field("cookies", &self.cookies)
            .finish()
    }
}

/// The page for a link or callback that can no longer be used, if it cannot: a first
/// connection's link ends with its account leaving INITIATED; a reconnect's when it is used or
/// expires (its account's status says nothing about it).
pub(crate) fn ended_page(req: &ConnectionRequestRecord, account: &AccountRecord, now: i64) -> Option<CallbackPage> {
    match req.kind {
        RequestKind::Connect => finished_page(account),
        RequestKind::Reconnect if req.expires_at <= now => Some(CallbackPage::Expired),
        RequestKind::Reconnect if req.consumed_at.is_some() => {
            Some(CallbackPage::Invalid { reason: "This Connect Link was already used.".into() })
        }
        RequestKind::Reconnect => None,
    }
}

/// The page for a link or callback whose account is no longer pending.
fn finished_page(account: &AccountRecord) -> Option<CallbackPage> {
    match account.status {
        s if s.is_pending() => None,
        AccountStatus::Expired => Some(CallbackPage::Expired),
        AccountStatus::Active => Some(CallbackPage::Invalid { reason: "This Connect Link was already completed.".into() }),
        _ => Some(CallbackPage::Invalid { reason: "This Connect Link has already ended; start again from your app.".into() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_params_never_print_state_or_code() {
        let p = CallbackParams { state: Some("st4te-secret".into()), code: Some("c0de-secret".into()), ..Default::default() };
        let printed = format!("{p:?}");
        assert!(!printed.contains("st4te-secret") && !printed.contains("c0de-secret"), "{printed}");
    }
}
