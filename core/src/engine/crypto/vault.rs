//! The token vault: AEAD encryption of credentials at rest, under a keyring.
//!
//! XChaCha20-Poly1305 with a random 24-byte nonce per value; the row id is the associated data,
//! so a ciphertext copied onto another row does not decrypt. The keyring holds one or more keys,
//! each with an id; the first is the current one, which seals every new value. A sealed value
//! names the key that sealed it, so keys can be rotated (`grantline encryption rotate`
//! re-seals every value with the current key; the older keys open values until then).
//!
//! Formats (the first byte is the version):
//! - `2 | id length (1 byte) | key id | nonce (24) | ciphertext`: every value sealed today.
//! - `1 | nonce (24) | ciphertext`: values sealed before keys had ids (one key, no id). They
//!   open with the key named [`DEFAULT_KEY_ID`] if the keyring has one, else with any key that
//!   opens them (an AEAD only opens with its key), and rotation re-seals them.

use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::engine::secrets::random_bytes;
use crate::{Error, Result};

/// Values sealed before keys had ids.
const UNTAGGED: u8 = 1;
/// Values that name their key.
const TAGGED: u8 = 2;
const NONCE_LEN: usize = 24;
/// The longest key id (its length is one byte of every sealed value).
const MAX_KEY_ID_LEN: usize = 64;

/// The id of the key given alone (`--encryption-key`): a keyring of one key with this id.
pub const DEFAULT_KEY_ID: &str = "default";

struct Key {
    id: String,
    cipher: XChaCha20Poly1305,
}

/// Encrypts and decrypts secrets with the broker's keyring (the first key seals).
#[derive(Clone)]
pub struct Vault {
    keys: Arc<Vec<Key>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Key ids are not secret; the keys are never shown.
        write!(f, "Vault(keys: {:?}, ***)", self.key_ids())
    }
}

impl Vault {
    /// A vault from a base64-encoded 32-byte key (what `grantline keygen` prints): a keyring of
    /// that one key, with the id [`DEFAULT_KEY_ID`].
    pub fn from_base64(key: &str) -> Result<Self> {
        Ok(Self { keys: Arc::new(vec![Key { id: DEFAULT_KEY_ID.into(), cipher: cipher("encryption_key", key)? }]) })
    }

    /// A vault from a keyring: comma-separated `id:base64key` entries, the first one current
    /// (`GRANTLINE_ENCRYPTION_KEYS`). Ids are 1 to 64 letters, digits, `.`, `_` or `-`, each
    /// used once. Errors name `encryption_keys` and the entry (`encryption_keys[1]`), never a key.
    pub fn from_keyring(keyring: &str) -> Result<Self> {
        let mut keys: Vec<Key> = Vec::new();
        for (i, entry) in keyring.split(',').map(str::trim).filter(|e| !e.is_empty()).enumerate() {
            let field = format!("encryption_keys[{i}]");
            let (id, key) = entry
                .split_once(':')
                .ok_or_else(|| Error::validation(&field, "must be `id:base64key` (generate a key with `grantline keygen`)"))?;
            let id = id.trim();
            check_key_id(&field, id)?;
            if keys.iter().any(|k| k.id == id) {
                return Err(Error::validation(&field, format!("names the key id `{id}` a second time")));
            }
            keys.push(Key { id: id.to_string(), cipher: cipher(&field, key)? });
        }
        if keys.is_empty() {
            return Err(Error::validation("encryption_keys", "is empty: give at least one `id:base64key` entry"));
        }
        Ok(Self { keys: Arc::new(keys) })
    }

    /// The vault an operator configured: `--encryption-keys` (a keyring) or `--encryption-key`
    /// (one key), never both; `None` when neither is given.
    pub fn configured(key: Option<&str>, keyring: Option<&str>) -> Result<Option<Self>> {
        match (key.filter(|k| !k.trim().is_empty()), keyring.filter(|k| !k.trim().is_empty())) {
            (Some(_), Some(_)) => Err(Error::validation(
                "encryption_keys",
                "give either --encryption-keys (GRANTLINE_ENCRYPTION_KEYS) or --encryption-key (GRANTLINE_ENCRYPTION_KEY), not both: \
                 the single key is the keyring `default:KEY`",
            )),
            (Some(k), None) => Self::from_base64(k).map(Some),
            (None, Some(ring)) => Self::from_keyring(ring).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// A new random key, base64-encoded.
    pub fn generate_key() -> Result<String> {
        Ok(STANDARD.encode(random_bytes(32)?))
    }

    /// The id of the key that seals new values (the keyring's first).
    pub fn current_key_id(&self) -> &str {
        &self.keys[0].id
    }

    /// Every key id of the keyring, current first.
    pub fn key_ids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.id.as_str()).collect()
    }

    /// The bytes every value sealed with the current key begins with: a value that does not
    /// begin with them needs re-sealing (`Store::sealed_values`).
    pub fn current_tag(&self) -> Vec<u8> {
        tag(&self.keys[0].id)
    }

    /// Whether `sealed` was sealed with the current key.
    pub fn is_current(&self, sealed: &[u8]) -> bool {
        sealed.starts_with(&self.current_tag())
    }

    /// Encrypts `plaintext` with the current key, bound to `context` (e.g. the row id).
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>> {
        let key = &self.keys[0];
        let nonce = random_bytes(NONCE_LEN)?;
        let ct = key
            .cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() })
            .map_err(|_| Error::Internal("encryption failed".into()))?;
        let mut out = tag(&key.id);
        out.reserve(NONCE_LEN + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Decrypts what [`Vault::seal`] produced for the same `context`, with whichever key of the
    /// keyring sealed it.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        let aad = context.as_bytes();
        match sealed.first() {
            Some(&TAGGED) => {
                let id_len = *sealed.get(1).ok_or_else(unknown_format)? as usize;
                let body_at = 2 + id_len;
                if sealed.len() < body_at + NONCE_LEN {
                    return Err(unknown_format());
                }
                let id = std::str::from_utf8(&sealed[2..body_at]).map_err(|_| unknown_format())?;
                let key = self.keys.iter().find(|k| k.id == id).ok_or_else(|| {
                    Error::Internal(format!(
                        "stored secret was sealed with the key `{id}`, which is not in the keyring (keys: {})",
                        self.key_ids().join(", ")
                    ))
                })?;
                decrypt(&key.cipher, &sealed[body_at..], aad).ok_or_else(does_not_open)
            }
            Some(&UNTAGGED) if sealed.len() > NONCE_LEN => {
                // Sealed by a broker of one key and no ids: that key is `default`, else any.
                let mut keys: Vec<&Key> = self.keys.iter().collect();
                keys.sort_by_key(|k| k.id != DEFAULT_KEY_ID);
                keys.iter().find_map(|k| decrypt(&k.cipher, &sealed[1..], aad)).ok_or_else(does_not_open)
            }
            _ => Err(unknown_format()),
        }
    }

    /// `sealed` re-sealed with the current key (for the same `context`).
    pub fn reseal(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        self.seal(context, &self.open(context, sealed)?)
    }
}

/// What every value sealed with the key `id` begins with.
fn tag(id: &str) -> Vec<u8> {
    let mut t = Vec::with_capacity(2 + id.len());
    t.push(TAGGED);
    t.push(id.len() as u8);
    t.extend_from_slice(id.as_bytes());
    t
}

/// Opens `nonce | ciphertext`; `None` when it does not open with this key.
fn decrypt(cipher: &XChaCha20Poly1305, body: &[u8], aad: &[u8]) -> Option<Vec<u8>> {
    let (nonce, ct) = body.split_at(NONCE_LEN);
    cipher.decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad }).ok()
}

fn cipher(field: &str, key: &str) -> Result<XChaCha20Poly1305> {
    let bytes = STANDARD
        .decode(key.trim())
        .map_err(|_| Error::validation(field, "must be base64 (generate one with `grantline keygen`)"))?;
    if bytes.len() != 32 {
        return Err(Error::validation(field, format!("must decode to 32 bytes, got {}", bytes.len())));
    }
    Ok(XChaCha20Poly1305::new_from_slice(&bytes).expect("32-byte key"))
}

fn check_key_id(field: &str, id: &str) -> Result<()> {
    let ok = (1..=MAX_KEY_ID_LEN).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(())
    } else {
        Err(Error::validation(field, format!("the key id must be 1 to {MAX_KEY_ID_LEN} letters, digits, `.`, `_` or `-`")))
    }
}

fn unknown_format() -> Error {
    Error::Internal("stored secret has an unknown format".into())
}

fn does_not_open() -> Error {
    Error::Internal("stored secret does not decrypt: wrong encryption key or tampered row".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(entries: &[(&str, &str)]) -> Vault {
        Vault::from_keyring(&entries.iter().map(|(id, k)| format!("{id}:{k}")).collect::<Vec<_>>().join(",")).unwrap()
    }

    /// What a broker before keyrings wrote: version 1, no key id.
    fn seal_untagged(key: &str, context: &str, plaintext: &[u8]) -> Vec<u8> {
        let c = cipher("k", key).unwrap();
        let nonce = random_bytes(NONCE_LEN).unwrap();
        let ct = c.encrypt(XNonce::from_slice(&nonce), Payload { msg: plaintext, aad: context.as_bytes() }).unwrap();
        [&[UNTAGGED][..], &nonce, &ct].concat()
    }

    #[test]
    fn sealed_values_round_trip_and_hide_the_plaintext() {
        let v = Vault::from_base64(&Vault::generate_key().unwrap()).unwrap();
        let sealed = v.seal("ca_1", b"gho_secret_token").unwrap();
        assert!(!sealed.windows(16).any(|w| w == b"gho_secret_token"));
        assert_eq!(v.open("ca_1", &sealed).unwrap(), b"gho_secret_token");
        assert!(sealed.starts_with(&[TAGGED, 7]) && sealed[2..9] == *b"default", "a lone key is the keyring `default`");
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
        let good = Vault::generate_key().unwrap();
        for (bad, at) in [
            (format!("k1:{good},nocolon"), "encryption_keys[1]"),
            (format!("k1:{good},k1:{good}"), "encryption_keys[1]"),
            (format!("bad id:{good}"), "encryption_keys[0]"),
            (format!(":{good}"), "encryption_keys[0]"),
            ("k1:c2hvcnQ=".to_string(), "encryption_keys[0]"),
            (" , ".to_string(), "encryption_keys"),
        ] {
            let err = Vault::from_keyring(&bad).unwrap_err();
            assert!(matches!(&err, Error::Validation { field, .. } if field == at), "{bad}: {err:?}");
            assert!(!err.to_string().contains(&good), "an error never shows a key");
        }
        assert!(Vault::configured(Some(&good), Some(&format!("k:{good}"))).is_err(), "not both");
        assert!(Vault::configured(None, None).unwrap().is_none());
    }

    #[test]
    fn the_first_key_seals_and_every_key_opens_what_it_sealed() {
        let (k1, k2) = (Vault::generate_key().unwrap(), Vault::generate_key().unwrap());
        let old = ring(&[("k1", &k1)]);
        let by_old = old.seal("ca_1", b"tokens").unwrap();
        let rotated = ring(&[("k2", &k2), ("k1", &k1)]);
        assert_eq!(rotated.current_key_id(), "k2");
        assert_eq!(rotated.open("ca_1", &by_old).unwrap(), b"tokens", "an old key still opens its values");
        assert!(!rotated.is_current(&by_old));
        let resealed = rotated.reseal("ca_1", &by_old).unwrap();
        assert!(rotated.is_current(&resealed));
        let only_new = ring(&[("k2", &k2)]);
        assert_eq!(only_new.open("ca_1", &resealed).unwrap(), b"tokens");
        let err = only_new.open("ca_1", &by_old).unwrap_err().to_string();
        assert!(err.contains("`k1`") && !err.contains(&k1), "names the missing key id, never a key: {err}");
        assert!(!format!("{rotated:?}").contains(&k2));
    }

    #[test]
    fn values_sealed_before_key_ids_still_open_and_need_resealing() {
        let (k1, k2) = (Vault::generate_key().unwrap(), Vault::generate_key().unwrap());
        let legacy = seal_untagged(&k1, "ca_1", b"old tokens");
        let single = Vault::from_base64(&k1).unwrap();
        assert_eq!(single.open("ca_1", &legacy).unwrap(), b"old tokens");
        assert!(!single.is_current(&legacy), "untagged values are re-sealed by a rotation");
        assert!(single.open("ca_2", &legacy).is_err());
        // After moving to a keyring, whatever the old key is called now.
        for name in ["default", "old"] {
            let v = ring(&[("new", &k2), (name, &k1)]);
            assert_eq!(v.open("ca_1", &legacy).unwrap(), b"old tokens");
            assert!(v.is_current(&v.reseal("ca_1", &legacy).unwrap()));
        }
        assert!(ring(&[("new", &k2)]).open("ca_1", &legacy).is_err());
    }
}
