//! The token vault: AEAD encryption of credentials at rest.
//!
//! XChaCha20-Poly1305 with a random 24-byte nonce per value; the row id is the
//! associated data, so a ciphertext copied onto another row does not decrypt.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::engine::secrets::random_bytes;
use crate::{Error, Result};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 24;

/// Encrypts and decrypts secrets with the broker's key.
#[derive(Clone)]
pub struct Vault {
    cipher: XChaCha20Poly1305,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(***)")
    }
}

impl Vault {
    /// A vault from a base64-encoded 32-byte key (what `grantline keygen` prints).
    pub fn from_base64(key: &str) -> Result<Self> {
        let bytes = STANDARD
            .decode(key.trim())
            .map_err(|_| Error::validation("encryption_key", "must be base64 (generate one with `grantline keygen`)"))?;
        if bytes.len() != 32 {
            return Err(Error::validation("encryption_key", format!("must decode to 32 bytes, got {}", bytes.len())));
        }
        Ok(Self { cipher: XChaCha20Poly1305::new_from_slice(&bytes).expect("32-byte key") })
    }

    /// A new random key, base64-encoded.
    pub fn generate_key() -> Result<String> {
        Ok(STANDARD.encode(random_bytes(32)?))
    }

    /// Encrypts `plaintext`, bound to `context` (e.g. the row id).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        let nonce = random_bytes(NONCE_LEN)?;
        let ct = self
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .map_err(|_| Error::Internal("encryption failed".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts what [`Vault::seal`] produced for the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != VERSION {
            return Err(Error::Internal("stored secret has an unknown format".into()));
        }
        let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: context.as_bytes() })
            .map_err(|_| Error::Internal("stored secret does not decrypt: wrong encryption key or tampered row".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_round_trip_and_hide_the_plaintext() {
        let v = Vault::from_base64(&Vault::generate_key().unwrap()).unwrap();
        let sealed = v.seal("ca_1", b"gho_secret_token").unwrap();
        assert!(!sealed.windows(16).any(|w| w == b"gho_secret_token"));
        assert_eq!(v.open("ca_1", &sealed).unwrap(), b"gho_secret_token");
    }

    #[test]
    fn a_value_moved_to_another_row_or_key_does_not_open() {
        let v = Vault::from_base64(&Vault::generate_key().unwrap()).unwrap();
        let sealed = v.seal("ca_1", b"x").unwrap();
        assert!(v.open("ca_2", &sealed).is_err());
        let other = Vault::from_base64(&Vault::generate_key().unwrap()).unwrap();
        assert!(other.open("ca_1", &sealed).is_err());
    }

    #[test]
    fn bad_keys_name_the_field() {
        for bad in ["not base64!", "c2hvcnQ="] {
            assert!(matches!(Vault::from_base64(bad), Err(Error::Validation { ref field, .. }) if field == "encryption_key"));
        }
    }
}
