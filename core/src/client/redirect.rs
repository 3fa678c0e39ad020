//! The end of a Connect Link that returned to the app's callback URL, read from that URL.

use crate::model::ACCOUNT_PREFIX;

/// Query parameter the broker adds to a callback URL: `success` or `failed`.
pub const STATUS_PARAM: &str = "status";
/// Query parameter the broker adds to a callback URL: the account the link completed.
pub const ACCOUNT_PARAM: &str = "connected_account_id";

/// What a callback URL says about the connection that led to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectOutcome {
    /// The account (`ca_…`); confirm its status with the broker before trusting it.
    pub connected_account_id: String,
    /// Whether the broker reported success.
    pub succeeded: bool,
}

impl RedirectOutcome {
    /// Reads the broker's parameters from `url`; `None` when it carries none (an ordinary page load).
    pub fn from_url(url: &str) -> Option<Self> {
        let url = url::Url::parse(url).ok()?;
        let mut status = None;
        let mut id = None;
        for (k, v) in url.query_pairs() {
            match k.as_ref() {
                STATUS_PARAM => status = Some(v.into_owned()),
                ACCOUNT_PARAM => id = Some(v.into_owned()),
                _ => {}
            }
        }
        let id = id.filter(|i| crate::model::check_id(ACCOUNT_PARAM, i, ACCOUNT_PREFIX).is_ok())?;
        Some(Self { connected_account_id: id, succeeded: status.as_deref() == Some("success") })
    }

    /// `url` without the broker's parameters, to put back in the address bar.
    pub fn strip_from(url: &str) -> String {
        let Ok(mut u) = url::Url::parse(url) else { return url.to_string() };
        let kept: Vec<(String, String)> =
            u.query_pairs().filter(|(k, _)| k != STATUS_PARAM && k != ACCOUNT_PARAM).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        if kept.is_empty() {
            u.set_query(None);
        } else {
            u.query_pairs_mut().clear().extend_pairs(kept);
        }
        u.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_brokers_parameters_and_keeps_the_apps_own() {
        let url = "https://app.test/settings?tab=2&status=success&connected_account_id=ca_abc123";
        let o = RedirectOutcome::from_url(url).unwrap();
        assert_eq!(o, RedirectOutcome { connected_account_id: "ca_abc123".into(), succeeded: true });
        assert_eq!(RedirectOutcome::strip_from(url), "https://app.test/settings?tab=2");
        let failed = RedirectOutcome::from_url("https://app.test/?status=failed&connected_account_id=ca_x1").unwrap();
        assert!(!failed.succeeded);
        assert_eq!(RedirectOutcome::strip_from("https://app.test/?status=failed&connected_account_id=ca_x1"), "https://app.test/");
    }

    #[test]
    fn ignores_pages_without_them_or_with_a_malformed_id() {
        assert_eq!(RedirectOutcome::from_url("https://app.test/settings?tab=2"), None);
        assert_eq!(RedirectOutcome::from_url("https://app.test/?status=success&connected_account_id=<script>"), None);
        assert_eq!(RedirectOutcome::from_url("not a url"), None);
    }
}
