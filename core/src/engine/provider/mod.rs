//! Talking to providers: OAuth 2.0 (authorization URL, code exchange, refresh, revocation), a
//! connected account's credentials at call time, and reading answers under a size cap.

pub(crate) mod body;
pub(crate) mod credentials;
pub mod oauth;
