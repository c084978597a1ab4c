//! The installation's key: 32 random bytes kept in the data directory, never in the
//! database. The keys that seal stored secrets (and, later, sign session tokens) are
//! derived from it, each for its purpose, so a copy of the database alone reveals no
//! secret.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// How a sealed secret begins: the scheme, so another can follow without ambiguity.
const SEALED_PREFIX: &str = "v1:";
const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeyringError {
    #[error("the installation key must be 32 bytes, not {0}")]
    KeyLength(usize),
    #[error("a sealed secret does not open with this installation's key (another data directory's, or damaged)")]
    Unsealable,
}

/// The installation's key. Its bytes stay out of logs and debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct InstallationKey([u8; 32]);

impl std::fmt::Debug for InstallationKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InstallationKey(..)")
    }
}

impl InstallationKey {
    /// A new random key (a new installation, or a test's).
    pub fn generate() -> InstallationKey {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        InstallationKey(bytes)
    }

    /// The key as kept in its file.
    pub fn from_bytes(bytes: &[u8]) -> Result<InstallationKey, KeyringError> {
        Ok(InstallationKey(bytes.try_into().map_err(|_| KeyringError::KeyLength(bytes.len()))?))
    }

    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The key for one purpose: HMAC-SHA256 of the purpose's name under the master key.
    fn derive(&self, purpose: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes a key of any length");
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// The key that signs session tokens (HS256 JWTs).
    pub fn jwt_key(&self) -> [u8; 32] {
        self.derive("jwt")
    }

    /// Seals `secret` (AES-256-GCM, a fresh random nonce each time) for storing.
    pub fn seal(&self, secret: &str) -> String {
        let cipher = Aes256Gcm::new(&self.derive("seal").into());
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = cipher
            .encrypt(Nonce::from_slice(&nonce), secret.as_bytes())
            .expect("AES-GCM encrypts any message shorter than 64 GiB");
        let mut bytes = nonce.to_vec();
        bytes.extend(sealed);
        format!("{SEALED_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(bytes))
    }

    /// The secret `sealed` holds, if this key sealed it and it is intact.
    pub fn open(&self, sealed: &str) -> Result<String, KeyringError> {
        let encoded = sealed.strip_prefix(SEALED_PREFIX).ok_or(KeyringError::Unsealable)?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| KeyringError::Unsealable)?;
        if bytes.len() < NONCE_LEN {
            return Err(KeyringError::Unsealable);
        }
        let (nonce, sealed) = bytes.split_at(NONCE_LEN);
        let cipher = Aes256Gcm::new(&self.derive("seal").into());
        let plain = cipher.decrypt(Nonce::from_slice(nonce), sealed).map_err(|_| KeyringError::Unsealable)?;
        String::from_utf8(plain).map_err(|_| KeyringError::Unsealable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_with_its_key_only() {
        let key = InstallationKey::generate();
        let sealed = key.seal("s3cret");
        assert!(sealed.starts_with("v1:") && !sealed.contains("s3cret"));
        assert_ne!(key.seal("s3cret"), sealed, "a fresh nonce each time");
        assert_eq!(key.open(&sealed).unwrap(), "s3cret");
        assert_eq!(InstallationKey::generate().open(&sealed), Err(KeyringError::Unsealable));
        let mut damaged = sealed.clone();
        damaged.replace_range(10..11, if &sealed[10..11] == "A" { "B" } else { "A" });
        assert_eq!(key.open(&damaged), Err(KeyringError::Unsealable));
        assert_eq!(key.open("plain"), Err(KeyringError::Unsealable));
        assert_eq!(key.open("v1:AAAA"), Err(KeyringError::Unsealable));
    }

    #[test]
    fn keys_round_trip_and_stay_out_of_debug_output() {
        let key = InstallationKey::generate();
        assert_eq!(InstallationKey::from_bytes(&key.to_bytes()).unwrap(), key);
        assert_eq!(InstallationKey::from_bytes(&[0; 5]), Err(KeyringError::KeyLength(5)));
        assert_eq!(format!("{key:?}"), "InstallationKey(..)");
    }
}
