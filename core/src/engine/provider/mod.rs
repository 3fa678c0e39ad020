//! Talking to providers: OAuth 2.0 (authorization URL, code exchange, refresh, revocation) and a
//! connected account's credentials at call time.

pub(crate) mod credentials;
pub mod oauth;
