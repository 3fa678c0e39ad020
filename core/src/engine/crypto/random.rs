//! Random tokens, key hashing and PKCE.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// `n` random bytes from the OS.
pub fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    getrandom::getrandom(&mut buf).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(buf)
}

const ALPHABET: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// A random alphanumeric string of `len` characters (about 5.95 bits each).
pub fn random_token(len: usize) -> Result<String> {
    // Rejection sampling keeps every character equally likely.
    let mut out = String::with_capacity(len);
    while out.len() < len {
        for b in random_bytes(len * 2)? {
            if (b as usize) < 248 && out.len() < len {
                out.push(ALPHABET[b as usize % 62] as char);
            }
        }
    }
    Ok(out)
}

/// A new id such as `ca_…` with 20 random characters.
pub fn new_id(prefix: &str) -> Result<String> {
    Ok(format!("{prefix}{}", random_token(20)?))
}

/// Hex SHA-256, how API keys and client tokens are stored.
pub fn sha256_hex(data: &str) -> String {
    sha256_bytes_hex(data.as_bytes())
}

/// Hex SHA-256 of bytes (a logo's digest, part of its URL).
pub fn sha256_bytes_hex(data: &[u8]) -> String {
    Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect()
}

/// A PKCE pair: the verifier kept secret, and its S256 challenge sent to the provider.
pub struct Pkce {
    /// 43+ characters of base64url randomness (RFC 7636 §4.1).
    pub verifier: String,
    /// BASE64URL(SHA256(verifier)).
    pub challenge: String,
}

impl Pkce {
    /// A fresh pair.
    pub fn generate() -> Result<Self> {
        let verifier = URL_SAFE_NO_PAD.encode(random_bytes(32)?);
        Ok(Self { challenge: s256(&verifier), verifier })
    }
}

/// The S256 challenge of `verifier`.
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// Compares secrets without leaking where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc7636_example() {
        // RFC 7636, Appendix B.
        assert_eq!(s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let p = Pkce::generate().unwrap();
        assert!(p.verifier.len() >= 43);
        assert_eq!(s256(&p.verifier), p.challenge);
    }

    #[test]
    fn tokens_are_random_and_alphanumeric() {
        let a = random_token(32).unwrap();
        let b = random_token(32).unwrap();
        assert_ne!(a, b);
        assert!(a.len() == 32 && a.bytes().all(|c| c.is_ascii_alphanumeric()));
        assert!(new_id("ca_").unwrap().starts_with("ca_"));
    }
}
