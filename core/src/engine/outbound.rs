//! Where the broker may send requests that a user of the API chose the address of (webhook
//! receivers; later, MCP client metadata documents): public internet addresses only. Private,
//! loopback, link-local, shared, documentation and other special-purpose ranges are refused,
//! both when the URL names an address and when a name resolves to one (checked on every
//! connection by [`PublicResolver`], so a name that later resolves elsewhere — DNS rebinding —
//! is refused too). A `--dev` broker also reaches loopback, as it accepts loopback callbacks.
//!
//! Addresses the operator configures (providers in the catalog, the database) are not checked:
//! the operator chose them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use crate::{Error, Result};

/// The longest URL the API accepts for an outbound address.
pub const MAX_URL_LEN: usize = 2048;

/// Which addresses outbound requests may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Public addresses only.
    Public,
    /// Public addresses and loopback (a `--dev` broker).
    PublicAndLoopback,
}

impl Reach {
    /// The reach of a broker in `dev_mode` or not.
    pub fn for_dev_mode(dev_mode: bool) -> Self {
        if dev_mode {
            Self::PublicAndLoopback
        } else {
            Self::Public
        }
    }

    /// Whether a request may go to `ip`.
    pub fn allows(self, ip: IpAddr) -> bool {
        is_public(ip) || (self == Self::PublicAndLoopback && ip.to_canonical().is_loopback())
    }
}

/// Checks a URL a user gave for the broker to call, naming `field` when it is refused: `https`
/// (or `http` to loopback where `reach` allows loopback), no credentials, no fragment, and a
/// host that is a name or an address `reach` allows. Names are checked when they are resolved.
pub fn check_url(field: &str, raw: &str, reach: Reach) -> Result<url::Url> {
    let bad = |why: &str| Error::validation(field, why.to_string());
    if raw.is_empty() {
        return Err(bad("must be a URL"));
    }
    if raw.len() > MAX_URL_LEN {
        return Err(bad(&format!("must be at most {MAX_URL_LEN} characters")));
    }
    let url = url::Url::parse(raw).map_err(|e| bad(&format!("is not a URL: {e}")))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry credentials (user:password@)"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a fragment (#…)"));
    }
    let loopback_host = match url.host() {
        Some(url::Host::Domain(d)) => is_localhost_name(d),
        Some(url::Host::Ipv4(ip)) => check_ip(field, IpAddr::V4(ip), reach)?,
        Some(url::Host::Ipv6(ip)) => check_ip(field, IpAddr::V6(ip), reach)?,
        None => return Err(bad("must have a host")),
    };
    if loopback_host && reach == Reach::Public {
        return Err(bad("must not be a loopback address (allowed only on a --dev broker)"));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback_host => Ok(url),
        "http" => Err(bad("must be https (http is allowed only for loopback on a --dev broker)")),
        other => Err(bad(&format!("must be https, not {other}:"))),
    }
}

/// Whether `ip` may be reached; `Ok(true)` for an allowed loopback address.
fn check_ip(field: &str, ip: IpAddr, reach: Reach) -> Result<bool> {
    if ip.to_canonical().is_loopback() {
        return Ok(true);
    }
    if !reach.allows(ip) {
        return Err(Error::validation(field, format!("must not be a private, link-local or reserved address ({ip})")));
    }
    Ok(false)
}

fn is_localhost_name(d: &str) -> bool {
    let d = d.trim_end_matches('.').to_ascii_lowercase();
    d == "localhost" || d.ends_with(".localhost")
}

/// Whether `ip` is a global unicast address: not private, loopback, link-local, shared
/// (CGNAT), documentation, benchmarking, multicast, unspecified or otherwise reserved (IPv4
/// within IPv6, mapped or NAT64, is judged as IPv4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (RFC 6598)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240) // reserved
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        // NAT64: the IPv4 address it carries decides.
        let [a, b] = s[6].to_be_bytes();
        let [c, d] = s[7].to_be_bytes();
        return is_public_v4(Ipv4Addr::new(a, b, c, d));
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || s[0] == 0x0100 && s[1..4] == [0, 0, 0]) // discard-only
}

/// A resolver for outbound clients that drops every address `reach` does not allow, and fails
/// when none is left: a connection can never be made to a private address a name points at.
#[derive(Debug, Clone, Copy)]
pub struct PublicResolver {
    reach: Reach,
}

impl PublicResolver {
    /// A resolver allowing `reach`.
    pub fn new(reach: Reach) -> Arc<Self> {
        Arc::new(Self { reach })
    }
}

impl reqwest::dns::Resolve for PublicResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let reach = self.reach;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = found.iter().copied().filter(|a| reach.allows(a.ip())).collect();
            if allowed.is_empty() {
                let why = if found.is_empty() { "no address".to_string() } else { "only private or reserved addresses".to_string() };
                return Err(format!("{host} resolves to {why}: refused").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// An HTTP client for addresses users chose: [`PublicResolver`], no redirects, `timeout`
/// (webhook deliveries).
pub fn client(reach: Reach, timeout: std::time::Duration) -> Result<reqwest::Client> {
    client_as("grantline-webhooks", reach, timeout)
}

/// [`client`] sending `User-Agent: {product}/{version}`.
pub fn client_as(product: &str, reach: Reach, timeout: std::time::Duration) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(PublicResolver::new(reach))
        .user_agent(format!("{product}/{}", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Internal(format!("http client: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_global_addresses_are_public() {
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8", "64:ff9b::808:808"] {
            assert!(is_public(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "10.0.0.1", "172.16.0.1", "192.168.1.1", "127.0.0.1", "169.254.169.254", "0.0.0.0", "100.64.0.1", "192.0.0.8",
            "198.18.0.1", "224.0.0.1", "240.0.0.1", "255.255.255.255", "192.0.2.1", "::1", "::", "fc00::1", "fd12::1",
            "fe80::1", "ff02::1", "2001:db8::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1", "64:ff9b::a00:1", "100::1",
        ] {
            assert!(!is_public(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn receiver_urls_must_be_https_to_a_public_host() {
        let ok = |u: &str, r| check_url("webhook_url", u, r).map(|u| u.to_string());
        assert!(ok("https://hooks.example.com/in", Reach::Public).is_ok());
        assert!(ok("https://8.8.8.8/in", Reach::Public).is_ok());
        assert!(ok("http://127.0.0.1:9000/in", Reach::PublicAndLoopback).is_ok());
        assert!(ok("http://localhost:9000/in", Reach::PublicAndLoopback).is_ok());
        for (url, why, reach) in [
            ("", "must be a URL", Reach::Public),
            ("hooks.example.com", "is not a URL", Reach::Public),
            ("http://hooks.example.com/in", "must be https", Reach::Public),
            ("http://hooks.example.com/in", "must be https", Reach::PublicAndLoopback),
            ("ftp://hooks.example.com/in", "must be https, not ftp", Reach::Public),
            ("https://user:pw@hooks.example.com/", "credentials", Reach::Public),
            ("https://hooks.example.com/#x", "fragment", Reach::Public),
            ("https://127.0.0.1/in", "loopback", Reach::Public),
            ("https://localhost/in", "loopback", Reach::Public),
            ("https://10.1.2.3/in", "private", Reach::Public),
            ("https://10.1.2.3/in", "private", Reach::PublicAndLoopback),
            ("https://169.254.169.254/latest", "private", Reach::PublicAndLoopback),
            ("https://[fd00::1]/in", "private", Reach::Public),
            ("https://[::ffff:192.168.0.1]/in", "private", Reach::Public),
        ] {
            let e = check_url("webhook_url", url, reach).unwrap_err();
            assert_eq!(e.code(), "VALIDATION", "{url}");
            assert!(e.to_string().contains(why), "{url}: {e}");
            assert!(e.to_string().contains("webhook_url"), "{url}: {e}");
        }
        let long = format!("https://hooks.example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(check_url("webhook_url", &long, Reach::Public).unwrap_err().to_string().contains("at most 2048"));
    }
}
