//! The broker's cryptography: the vault that seals credentials (and rotating its key), and
//! random ids, tokens and PKCE.

pub mod random;
pub mod rotation;
pub mod vault;
