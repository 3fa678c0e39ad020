//! The broker's cryptography: the vault that seals credentials, and random ids, tokens and PKCE.

pub mod random;
pub mod vault;
