//! The project's allowed browser origins: who gets CORS headers on the client-token endpoints.

use crate::{Error, Result};

/// Entries are origins (`https://app.example.com`, `http://127.0.0.1:5173`) and match exactly,
/// except that a loopback entry without a port (`http://localhost`) matches any port.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OriginAllowList<'a> {
    entries: &'a [String],
}

impl<'a> OriginAllowList<'a> {
    /// An allow-list over `entries`.
    pub fn new(entries: &'a [String]) -> Self {
        Self { entries }
    }

    /// Checks an entry's shape, naming `field`, and returns it normalised (`scheme://host[:port]`).
    pub fn check_entry(field: &str, entry: &str) -> Result<String> {
        let entry = entry.trim();
        let u = url::Url::parse(entry).map_err(|e| Error::validation(field, format!("{entry:?} is not an origin ({e})")))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(Error::validation(field, format!("{entry:?} must be an http(s) origin, e.g. https://app.example.com")));
        }
        if u.path() != "/" || u.query().is_some() || u.fragment().is_some() || !u.username().is_empty() || u.password().is_some() {
            return Err(Error::validation(field, format!("{entry:?} must be an origin only: scheme, host and port, no path")));
        }
        Ok(u.origin().ascii_serialization())
    }

    /// Whether a browser's `Origin` header value is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        let Ok(u) = url::Url::parse(origin) else { return false };
        if !matches!(u.scheme(), "http" | "https") || u.path() != "/" {
            return false;
        }
        self.entries.iter().any(|e| Self::matches(e, &u))
    }

    fn matches(entry: &str, u: &url::Url) -> bool {
        let Ok(e) = url::Url::parse(entry) else { return false };
        if e.scheme() != u.scheme() || e.host() != u.host() {
            return false;
        }
        match e.port() {
            Some(p) => u.port_or_known_default() == Some(p),
            None if is_loopback(&e) => true,
            None => u.port().is_none(),
        }
    }
}

/// Whether a URL's host is loopback (`localhost`, `127.0.0.0/8`, `::1`).
pub(crate) fn is_loopback(u: &url::Url) -> bool {
    match u.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Vec<String> {
        vec!["https://app.example.com".into(), "http://localhost".into(), "http://127.0.0.1:5173".into()]
    }

    #[test]
    fn allows_exact_origins_and_any_port_on_a_portless_loopback_entry() {
        let l = list();
        let a = OriginAllowList::new(&l);
        for ok in ["https://app.example.com", "https://app.example.com:443", "http://localhost:3000", "http://127.0.0.1:5173"] {
            assert!(a.allows(ok), "{ok}");
        }
    }

    #[test]
    fn refuses_other_ports_schemes_hosts_and_opaque_origins() {
        let l = list();
        let a = OriginAllowList::new(&l);
        for bad in [
            "https://app.example.com:8443",
            "http://app.example.com",
            "https://app.example.com.evil.test",
            "http://127.0.0.1:5174",
            "http://localhost.evil.test",
            "null",
            "",
        ] {
            assert!(!a.allows(bad), "{bad}");
        }
    }

    #[test]
    fn entries_must_be_bare_origins_and_are_normalised() {
        assert_eq!(OriginAllowList::check_entry("origin", "https://App.Example.com/").unwrap(), "https://app.example.com");
        for bad in ["app.example.com", "https://app.example.com/path", "https://x.test?q=1", "ftp://x.test", "https://u:p@x.test"] {
            let e = OriginAllowList::check_entry("origin", bad).unwrap_err();
            assert!(matches!(e, Error::Validation { ref field, .. } if field == "origin"), "{bad}");
        }
    }
}
