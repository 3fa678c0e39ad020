//! Rate limits per credential: a token bucket per client token, MCP credential, link token
//! (opening it, and submitting its form) and, when configured, API key.
//!
//! The buckets live in this broker process's memory: with N brokers behind a load balancer a
//! credential gets up to N times the configured rate. They are not in the store on purpose (a
//! write per request would cost more than what it protects). A refused request answers
//! `429 RATE_LIMITED` with `Retry-After`.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Instant;

use grantline_core::Error;

/// Default rate of a client token: 10 requests a second, bursts of 30.
pub const DEFAULT_CLIENT_TOKEN: &str = "10/s:30";
/// Default rate of an MCP credential: 10 requests a second, bursts of 30 (an agent's tool calls).
pub const DEFAULT_MCP_CREDENTIAL: &str = "10/s:30";
/// Default rate of opening one Connect Link: 30 a minute, bursts of 10.
pub const DEFAULT_LINK_OPEN: &str = "30/min:10";
/// Default rate of submitting one Connect Link's form (each is a credential check): 5 a minute.
pub const DEFAULT_LINK_FORM: &str = "5/min:5";
/// Default rate of an API key: unlimited (`off`), so busy backends and benchmarks are not capped.
pub const DEFAULT_API_KEY: &str = "off";
/// Default rate of dashboard sign-in attempts (all callers of one broker together): 10 a
/// minute, bursts of 10.
pub const DEFAULT_DASHBOARD_SIGN_IN: &str = "10/min:10";
/// The key of the one bucket dashboard sign-ins share (a sign-in has no credential yet to key on).
pub const SIGN_IN_BUCKET: &str = "dashboard";
/// The most credentials one limiter tracks; past it, buckets that are full again are dropped
/// first (they hold nothing), then a tenth of the others.
pub const MAX_TRACKED: usize = 100_000;

/// A rate: `per_second` tokens refill a bucket of `burst`. Written `N/s`, `N/min` or `N/h`,
/// optionally `:BURST` (default: N, at least 1), or `off`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    /// Refill, in requests per second.
    pub per_second: f64,
    /// Bucket size: how many requests may come at once.
    pub burst: u32,
}

impl FromStr for Rate {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("{s:?} is not a rate: write N/s, N/min or N/h, optionally :BURST (e.g. 10/s:30), or off");
        let (rate, burst) = match s.trim().split_once(':') {
            Some((r, b)) => (r, Some(b.trim().parse::<u32>().map_err(|_| bad())?)),
            None => (s.trim(), None),
        };
        let (n, unit) = rate.split_once('/').ok_or_else(bad)?;
        let n: u32 = n.trim().parse().map_err(|_| bad())?;
        let seconds = match unit.trim() {
            "s" | "sec" | "second" => 1.0,
            "m" | "min" | "minute" => 60.0,
            "h" | "hour" => 3600.0,
            _ => return Err(bad()),
        };
        let burst = burst.unwrap_or(n);
        if n == 0 || burst == 0 {
            return Err(format!("{s:?}: the rate and the burst must be at least 1 (use `off` for no limit)"));
        }
        Ok(Rate { per_second: f64::from(n) / seconds, burst })
    }
}

/// Parses a rate flag: `off` (no limit) or a [`Rate`].
pub fn parse_limit(s: &str) -> Result<Option<Rate>, String> {
    if s.trim().eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    s.parse().map(Some)
}

/// The rates of each kind of credential (`None`: not limited).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimits {
    /// Requests with one client token.
    pub client_token: Option<Rate>,
    /// Requests with one MCP credential.
    pub mcp_credential: Option<Rate>,
    /// Openings of one Connect Link.
    pub link_open: Option<Rate>,
    /// Form submissions to one Connect Link.
    pub link_form: Option<Rate>,
    /// Requests with one API key.
    pub api_key: Option<Rate>,
    /// Dashboard sign-in attempts.
    pub dashboard_sign_in: Option<Rate>,
}

impl Default for RateLimits {
    fn default() -> Self {
        let rate = |s: &str| parse_limit(s).expect("default rates parse");
        Self {
            client_token: rate(DEFAULT_CLIENT_TOKEN),
            mcp_credential: rate(DEFAULT_MCP_CREDENTIAL),
            link_open: rate(DEFAULT_LINK_OPEN),
            link_form: rate(DEFAULT_LINK_FORM),
            api_key: rate(DEFAULT_API_KEY),
            dashboard_sign_in: rate(DEFAULT_DASHBOARD_SIGN_IN),
        }
    }
}

/// Every limiter of a broker process.
pub struct Limiters {
    /// Per client token id (`ct_…`).
    pub client_token: Limiter,
    /// Per MCP credential id (`mcpc_…`).
    pub mcp_credential: Limiter,
    /// Per link token, opening.
    pub link_open: Limiter,
    /// Per link token, form submissions.
    pub link_form: Limiter,
    /// Per API key id (`ak_…`).
    pub api_key: Limiter,
    /// Dashboard sign-in attempts ([`SIGN_IN_BUCKET`]).
    pub dashboard_sign_in: Limiter,
}

impl Limiters {
    /// Limiters with these rates.
    pub fn new(limits: RateLimits) -> Self {
        Self {
            client_token: Limiter::new("client token", limits.client_token),
            mcp_credential: Limiter::new("MCP credential", limits.mcp_credential),
            link_open: Limiter::new("Connect Link", limits.link_open),
            link_form: Limiter::new("Connect Link form", limits.link_form),
            api_key: Limiter::new("API key", limits.api_key),
            dashboard_sign_in: Limiter::new("dashboard sign-in form", limits.dashboard_sign_in),
        }
    }
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

/// A token bucket per key, at one rate, over a bounded map.
pub struct Limiter {
    what: &'static str,
    rate: Option<Rate>,
    buckets: Mutex<HashMap<String, Bucket>>,
}

impl Limiter {
    /// A limiter of `what` (named in its error) at `rate` (`None`: never refuses).
    pub fn new(what: &'static str, rate: Option<Rate>) -> Self {
        Self { what, rate, buckets: Mutex::new(HashMap::new()) }
    }

    /// Whether this limiter limits anything (callers may skip deriving a key when not).
    pub fn enabled(&self) -> bool {
        self.rate.is_some()
    }

    /// Takes one request from `key`'s bucket, or refuses with `RATE_LIMITED` and the seconds
    /// until the next request would be taken.
    pub fn check(&self, key: &str) -> Result<(), Error> {
        self.check_at(key, Instant::now())
    }

    fn check_at(&self, key: &str, now: Instant) -> Result<(), Error> {
        let Some(rate) = self.rate else { return Ok(()) };
        let burst = f64::from(rate.burst);
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if !buckets.contains_key(key) && buckets.len() >= MAX_TRACKED {
            // A bucket that refilled to the brim says nothing a new one would not.
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate.per_second < burst);
            if buckets.len() >= MAX_TRACKED {
                // Still full of busy credentials: drop a tenth at once, so the next newcomers
                // do not each pay for a scan.
                let victims: Vec<String> = buckets.keys().take(MAX_TRACKED / 10).cloned().collect();
                for k in victims {
                    buckets.remove(&k);
                }
            }
        }
        let b = buckets.entry(key.to_string()).or_insert(Bucket { tokens: burst, at: now });
        b.tokens = (b.tokens + now.duration_since(b.at).as_secs_f64() * rate.per_second).min(burst);
        b.at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            return Ok(());
        }
        let retry_after = ((1.0 - b.tokens) / rate.per_second).ceil().max(1.0) as u64;
        Err(Error::RateLimited { message: format!("too many requests with this {}; slow down", self.what), retry_after })
    }

    #[cfg(test)]
    fn tracked(&self) -> usize {
        self.buckets.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn rates_parse_with_units_bursts_and_off() {
        assert_eq!("10/s:30".parse::<Rate>().unwrap(), Rate { per_second: 10.0, burst: 30 });
        assert_eq!("6/min".parse::<Rate>().unwrap(), Rate { per_second: 0.1, burst: 6 });
        assert_eq!(parse_limit("off").unwrap(), None);
        for bad in ["", "10", "10/day", "0/s", "5/s:0", "x/s", "-1/s"] {
            assert!(bad.parse::<Rate>().is_err(), "{bad}");
        }
        let d = RateLimits::default();
        assert!(d.client_token.is_some() && d.link_open.is_some() && d.link_form.is_some() && d.api_key.is_none());
    }

    #[test]
    fn a_bucket_allows_its_burst_then_refuses_with_retry_after_and_refills() {
        let l = Limiter::new("client token", Some(Rate { per_second: 0.5, burst: 3 }));
        let t0 = Instant::now();
        for _ in 0..3 {
            l.check_at("ct_a", t0).unwrap();
        }
        let e = l.check_at("ct_a", t0).unwrap_err();
        assert_eq!((e.code(), e.http_status(), e.retry_after()), ("RATE_LIMITED", 429, Some(2)));
        l.check_at("ct_b", t0).expect("another credential has its own bucket");
        l.check_at("ct_a", t0 + Duration::from_secs(2)).expect("refilled one");
        assert!(l.check_at("ct_a", t0 + Duration::from_secs(2)).is_err());
    }

    #[test]
    fn no_rate_never_refuses_and_tracks_nothing() {
        let l = Limiter::new("API key", None);
        for _ in 0..1000 {
            l.check("k").unwrap();
        }
        assert_eq!(l.tracked(), 0);
    }

    #[test]
    fn the_map_stays_bounded() {
        let l = Limiter::new("Connect Link", Some(Rate { per_second: 1.0, burst: 2 }));
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED + 10 {
            l.check_at(&format!("ln_{i}"), t0).unwrap();
        }
        assert!(l.tracked() <= MAX_TRACKED);
    }
}
