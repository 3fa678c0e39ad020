//! The project's allow-list of callback URLs: no open redirects.

use crate::{Error, Result};

/// Longest callback URL taken: browsers and proxies refuse much longer redirects anyway.
pub const MAX_CALLBACK_URL: usize = 4096;

/// Entries are origins with an optional path prefix (`https://app.example.com/auth/`).
/// An entry without an explicit port matches any port on that host.
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
        let port_ok = match e.port() {
            Some(p) => u.port_or_known_default() == Some(p),
            None => true,
        };
        let prefix = e.path();
        let path_ok = prefix == "/" || u.path() == prefix.trim_end_matches('/') || u.path().starts_with(&format!("{}/", prefix.trim_end_matches('/')));
        e.scheme() == u.scheme() && e.host_str() == u.host_str() && port_ok && path_ok
    }
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
        ] {
            let e = a.check("callback_url", bad).unwrap_err();
            assert!(matches!(e, Error::Validation { ref field, .. } if field == "callback_url"), "{bad}");
        }
    }
}
