//! Signatures of webhook deliveries, per Standard Webhooks: `webhook-id`, `webhook-timestamp`
//! and `webhook-signature` = `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
//!
//! Two verifiers exist for one `whsec_…` secret: the `standardwebhooks` libraries key the HMAC
//! with the secret's base64-decoded bytes; Composio's SDKs (`verify_webhook`) key it with the
//! secret string's UTF-8 bytes. Each delivery carries both signatures, space-separated (the
//! scheme allows several), so both verifiers accept it.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::engine::crypto::random::random_bytes;
use crate::{Error, Result};

/// What every secret starts with.
pub const SECRET_PREFIX: &str = "whsec_";
/// Random bytes in a secret (Standard Webhooks asks for 24 to 64).
const SECRET_BYTES: usize = 32;

/// A new `whsec_<base64>` secret.
pub fn new_secret() -> Result<String> {
    Ok(format!("{SECRET_PREFIX}{}", STANDARD.encode(random_bytes(SECRET_BYTES)?)))
}

/// The `webhook-signature` header for `body` sent as message `id` at `timestamp` (Unix
/// seconds): the Standard Webhooks signature, then the one Composio's SDKs check.
pub fn signature_header(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String> {
    let encoded = secret.strip_prefix(SECRET_PREFIX).ok_or_else(|| Error::Internal("a webhook secret without its prefix".into()))?;
    let decoded = STANDARD.decode(encoded).map_err(|e| Error::Internal(format!("a webhook secret that is not base64: {e}")))?;
    let content = format!("{id}.{timestamp}.{body}");
    Ok(format!("v1,{} v1,{}", sign(&decoded, &content), sign(secret.as_bytes(), &content)))
}

fn sign(key: &[u8], content: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(content.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification (its `whsec_` secret, id, timestamp
    /// and body) gives its published signature.
    #[test]
    fn the_standard_signature_is_the_specifications_example() {
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = r#"{"test": 2432232314}"#;
        let header = signature_header(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        let mut parts = header.split(' ');
        assert_eq!(parts.next(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
        let composio = parts.next().unwrap();
        assert_eq!(composio, format!("v1,{}", sign(secret.as_bytes(), &format!("msg_p5jXN8AQM9LWM0D4loKWxJek.1614265330.{body}"))));
        assert_ne!(composio, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(parts.next(), None);
    }

    #[test]
    fn secrets_are_prefixed_random_base64() {
        let (a, b) = (new_secret().unwrap(), new_secret().unwrap());
        assert_ne!(a, b);
        assert_eq!(STANDARD.decode(a.strip_prefix(SECRET_PREFIX).unwrap()).unwrap().len(), SECRET_BYTES);
    }
}
