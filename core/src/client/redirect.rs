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
        let (_, query, _) = split(url);
        let mut status = None;
        let mut id = None;
        for (k, v) in query?.split('&').map(pair) {
            match k.as_str() {
                STATUS_PARAM => status = Some(v),
                ACCOUNT_PARAM => id = Some(v),
                _ => {}
            }
        }
        let id = id.filter(|i| crate::model::check_id(ACCOUNT_PARAM, i, ACCOUNT_PREFIX).is_ok())?;
        Some(Self { connected_account_id: id, succeeded: status.as_deref() == Some("success") })
    }

    /// `url` without the broker's parameters, to put back in the address bar; the page's own
    /// parameters are kept as they were written.
    pub fn strip_from(url: &str) -> String {
        let (head, Some(query), fragment) = split(url) else { return url.to_string() };
        let kept: Vec<&str> = query
            .split('&')
            .filter(|p| !p.is_empty() && !matches!(pair(p).0.as_str(), STATUS_PARAM | ACCOUNT_PARAM))
            .collect();
        let mut out = head.to_string();
        if !kept.is_empty() {
            out.push('?');
            out.push_str(&kept.join("&"));
        }
        if let Some(f) = fragment {
            out.push('#');
            out.push_str(f);
        }
        out
    }
}

/// `url` as what precedes its query, its query and its fragment (without `?` and `#`).
fn split(url: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, fragment) = match url.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (url, None),
    };
    match rest.split_once('?') {
        Some((head, query)) => (head, Some(query), fragment),
        None => (rest, None, fragment),
    }
}

/// One `name=value` of a query, decoded as a form (`+` is a space, `%XX` a byte).
fn pair(text: &str) -> (String, String) {
    let (k, v) = text.split_once('=').unwrap_or((text, ""));
    (decode(k), decode(v))
}

fn decode(text: &str) -> String {
    let hex = |c: Option<&u8>| c.and_then(|c| (*c as char).to_digit(16));
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
                continue;
            }
            (b'+', ..) => out.push(b' '),
            (b, ..) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
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
    fn decodes_the_query_as_a_form_and_keeps_the_rest_of_the_url_as_written() {
        let url = "https://app.test/p?q=a+b%2Fc&connected_account_id=ca_%61bc&status=success&empty#frag?x";
        assert_eq!(RedirectOutcome::from_url(url).unwrap().connected_account_id, "ca_abc");
        assert_eq!(RedirectOutcome::strip_from(url), "https://app.test/p?q=a+b%2Fc&empty#frag?x");
        assert_eq!(RedirectOutcome::strip_from("https://app.test/p?status=success#top"), "https://app.test/p#top");
        assert_eq!(decode("100%25 %zz%4"), "100% %zz%4");
    }

    #[test]
    fn ignores_pages_without_them_or_with_a_malformed_id() {
        assert_eq!(RedirectOutcome::from_url("https://app.test/settings?tab=2"), None);
        assert_eq!(RedirectOutcome::from_url("https://app.test/?status=success&connected_account_id=<script>"), None);
        assert_eq!(RedirectOutcome::from_url("not a url"), None);
    }
}
