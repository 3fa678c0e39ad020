//! The project's allow-list of callback URLs: no open redirects.

use crate::{Error, Result};

/// Longest callback URL taken: browsers and proxies refuse much longer redirects anyway.
pub const MAX_CALLBACK_URL: usize = 4096;

/// Entries are origins with an optional path prefix (`https://app.example.com/auth/`).
/// An entry without an explicit port matches the scheme's default port only (443, 80), except
/// a loopback entry (`http://localhost`, `http://127.0.0.1`), which matches any port, as for
/// allowed origins: a local dev server's port changes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CallbackAllowList<'a> {
    entries: &'a [String],
}

impl<'a> CallbackAllowList<'a> {
    /// An allow-list over `entries`.
    pub fn new(entries: &'a [String]) -> Self {
        Self { entries }
    }

    /// Checks an allow-list entry's own shape, naming `field`.
    pub fn check_entry(field: &str, entry: &str) -> Result<url::Url> {
        let u = url::Url::parse(entry).map_err(|e| Error::validation(field, format!("{entry:?} is not a URL ({e})")))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(Error::validation(field, format!("{entry:?} must be an http(s) URL with a host")));
        }
        if u.query().is_some() || u.fragment().is_some() {
            return Err(Error::validation(field, format!("{entry:?} must not have a query or fragment")));
        }
        Ok(u)
    }

    /// Parses `callback_url` and checks it against the list, naming `field` when refused.
    pub fn check(&self, field: &str, callback_url: &str) -> Result<url::Url> {
        if callback_url.len() > MAX_CALLBACK_URL {
            return Err(Error::validation(field, format!("longer than {MAX_CALLBACK_URL} bytes")));
        }
        let u = url::Url::parse(callback_url).map_err(|e| Error::validation(field, format!("not a URL ({e})")))?;
        if !matches!(u.scheme(), "http" | "https") {
            return Err(Error::validation(field, "must be an http or https URL"));
        }
        if u.username() != "" || u.password().is_some() {
            return Err(Error::validation(field, "must not carry credentials"));
        }
        if self.entries.iter().any(|e| Self::matches(e, &u)) {
            return Ok(u);
        }
        Err(Error::validation(
            field,
            format!(
                "{} is not on the project's allowed callback URLs; add it with `grantline project allow-callback {}`",
                callback_url,
                u.origin().ascii_serialization()
            ),
        ))
    }

    fn matches(entry: &str, u: &url::Url) -> bool {
        let Ok(e) = url::Url::parse(entry) else { return false };
        // `url` drops a default port (`:443` on https), so `port()` is `None` for both.
        let port_ok = match e.port() {
            Some(p) => u.port_or_known_default() == Some(p),
            None if crate::engine::origins::is_loopback(&e) => true,
            None => u.port().is_none(),
        };
        let prefix = e.path();
        let path_ok = prefix == "/" || u.path() == prefix.trim_end_matches('/') || u.path().starts_with(&format!("{}/", prefix.trim_end_matches('/')));
        e.scheme() == u.scheme() && e.host_str() == u.host_str() && port_ok && path_ok
    }
}

/// The app's callback URL with the flow's outcome appended: `status` (`success` or `failed`)
/// and `connected_account_id`. The URL's own parameters are kept, except its own `status` and
/// `connected_account_id`, which are removed first so the app reads only the broker's.
pub(crate) fn with_outcome(callback_url: &str, success: bool, account_id: &str) -> Result<url::Url> {
    const OURS: [&str; 2] = ["status", "connected_account_id"];
    let mut url = url::Url::parse(callback_url).map_err(|e| Error::Internal(format!("stored callback_url: {e}")))?;
    let kept: Vec<(String, String)> = url.query_pairs().filter(|(k, _)| !OURS.contains(&k.as_ref())).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    url.set_query(None);
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in &kept {
            q.append_pair(k, v);
        }
        q.append_pair("status", if success { "success" } else { "failed" }).append_pair("connected_account_id", account_id);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Vec<String> {
        vec!["https://app.example.com/auth".into(), "http://localhost".into(), "https://exact.test:8443/".into()]
    }

    #[test]
    fn allows_listed_origins_and_path_prefixes() {
        let l = list();
        let a = CallbackAllowList::new(&l);
        for ok in ["https://app.example.com/auth", "https://app.example.com/auth/done?tab=2", "http://localhost:3000/x", "https://exact.test:8443/cb"] {
            assert!(a.check("callback_url", ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn refuses_lookalikes_and_names_the_field() {
        let l = list();
        let a = CallbackAllowList::new(&l);
        for bad in [
            "https://app.example.com/authx",
            "https://app.example.com.evil.test/auth",
            "http://app.example.com/auth",
            "http://localhost.evil.test/",
            "https://exact.test/cb",
            "javascript:alert(1)",
            "https://user:pw@app.example.com/auth",
            "https://app.example.com:8443/auth",
            "https://app.example.com:80/auth",
        ] {
            let e = a.check("callback_url", bad).unwrap_err();
            assert!(matches!(e, Error::Validation { ref field, .. } if field == "callback_url"), "{bad}");
        }
    }

    #[test]
    fn a_portless_entry_matches_the_default_port_only_unless_it_is_loopback() {
        // (entry, callback URL, allowed)
        let table = [
            ("https://app.example.com", "https://app.example.com/cb", true),
            ("https://app.example.com", "https://app.example.com:443/cb", true),
            ("https://app.example.com", "https://app.example.com:8443/cb", false),
            ("http://app.example.com", "http://app.example.com:80/cb", true),
            ("http://app.example.com", "http://app.example.com:8080/cb", false),
            ("https://app.example.com:8443", "https://app.example.com:8443/cb", true),
            ("https://app.example.com:8443", "https://app.example.com/cb", false),
            ("https://app.example.com:443", "https://app.example.com/cb", true),
            ("http://localhost", "http://localhost:3000/cb", true),
            ("http://127.0.0.1", "http://127.0.0.1:5173/cb", true),
            ("http://[::1]", "http://[::1]:8080/cb", true),
            ("http://localhost:3000", "http://localhost:3001/cb", false),
            ("http://localhost", "https://localhost:3000/cb", false),
        ];
        for (entry, url, allowed) in table {
            let entries = vec![entry.to_string()];
            assert_eq!(CallbackAllowList::new(&entries).check("callback_url", url).is_ok(), allowed, "{entry} vs {url}");
        }
    }

    #[test]
    fn the_outcome_replaces_the_callers_own_status_and_account_id() {
        let url = with_outcome("https://app.example.com/done?status=success&tab=2&connected_account_id=ca_victim&status=x", false, "ca_1").unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let want = [("tab", "2"), ("status", "failed"), ("connected_account_id", "ca_1")];
        assert_eq!(pairs, want.map(|(k, v)| (k.to_string(), v.to_string())));
        let plain = with_outcome("https://app.example.com/done", true, "ca_2").unwrap();
        assert_eq!(plain.as_str(), "https://app.example.com/done?status=success&connected_account_id=ca_2");
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        fn allowed(entry: String, url: &str) -> bool {
            let entries = vec![entry];
            CallbackAllowList::new(&entries).check("callback_url", url).is_ok()
        }

        proptest! {
            #[test]
            fn a_portless_entry_allows_the_default_port_only(host in "[a-z]{1,12}\\.(com|test|example)", port in 1u16..) {
                let url = format!("https://{host}:{port}/cb");
                prop_assert_eq!(allowed(format!("https://{host}"), &url), port == 443);
                prop_assert_eq!(allowed(format!("http://{host}"), &format!("http://{host}:{port}/cb")), port == 80);
            }

            #[test]
            fn a_loopback_entry_allows_every_port(port in 1u16.., host in prop::sample::select(vec!["localhost", "127.0.0.1", "[::1]"])) {
                let (entry, url) = (format!("http://{host}"), format!("http://{host}:{port}/cb"));
                prop_assert!(allowed(entry, &url), "{}", url);
            }

            #[test]
            fn an_entry_with_a_port_allows_that_port_only(p in 1u16.., q in 1u16..) {
                prop_assert_eq!(allowed(format!("https://app.example.com:{p}"), &format!("https://app.example.com:{q}/cb")), p == q);
            }

            #[test]
            fn a_path_entry_is_a_prefix_of_whole_segments(prefix in "[a-z]{1,8}", suffix in "[a-z/]{0,8}") {
                let url = format!("https://app.example.com/{prefix}{suffix}");
                prop_assert_eq!(allowed(format!("https://app.example.com/{prefix}"), &url), suffix.is_empty() || suffix.starts_with('/'));
            }

            #[test]
            fn no_other_host_scheme_or_credentials_pass(host in "[a-z]{1,12}", evil in "[a-z]{1,12}") {
                let entry = format!("https://{host}.test");
                for url in [
                    format!("https://{host}.test.{evil}.example/cb"),
                    format!("https://{evil}{host}.test/cb"),
                    format!("http://{host}.test/cb"),
                    format!("https://{evil}:pw@{host}.test/cb"),
                ] {
                    prop_assert!(!allowed(entry.clone(), &url), "{}", url);
                }
            }

            #[test]
            fn the_outcome_is_appended_once_and_the_rest_is_kept(pairs in prop::collection::vec((prop::sample::select(vec!["status", "connected_account_id", "tab", "x"]), "[ -~]{0,8}"), 0..6), success: bool) {
                let mut cb = url::Url::parse("https://app.example.com/done").unwrap();
                for (k, v) in &pairs {
                    cb.query_pairs_mut().append_pair(k, v);
                }
                let out = with_outcome(cb.as_str(), success, "ca_1").unwrap();
                let got: Vec<(String, String)> = out.query_pairs().into_owned().collect();
                let kept: Vec<(String, String)> = pairs.iter().filter(|(k, _)| *k != "status" && *k != "connected_account_id").map(|(k, v)| (k.to_string(), v.to_string())).collect();
                prop_assert_eq!(&got[..kept.len()], &kept[..]);
                prop_assert_eq!(&got[kept.len()..], &[("status".to_string(), if success { "success" } else { "failed" }.to_string()), ("connected_account_id".to_string(), "ca_1".to_string())][..]);
            }
        }
    }
}
