//! Low-level doors for test vectors and audits (feature `hazmat`).
//!
//! These expose intermediate secrets of the key schedule and the raw AEAD of each suite. Using
//! them to encrypt media bypasses every guarantee of [`Encryptor`](crate::Encryptor): nothing
//! here stops a nonce from being reused.

use crate::aead::{Aad, AeadKey};
use crate::decryptor::DecryptError;
use crate::encryptor::EncryptError;
use crate::header::KeyId;
use crate::key_schedule;
use crate::secret::KeyError;
use crate::secret::{BaseKey, SframeKey, SframeSalt, SframeSecret};
use crate::suite::{CipherSuite, NONCE_LEN};

/// `sframe_secret`, `sframe_key` and `sframe_salt` for `kid` (RFC 9605 §4.4.2).
#[must_use]
pub fn derive_key_salt(
    suite: CipherSuite,
    kid: KeyId,
    base_key: &BaseKey,
) -> (SframeSecret, SframeKey, SframeSalt) {
    let (key, salt) = key_schedule::derive_key_salt(suite, kid, base_key.expose_secret());
    let secret = key_schedule::sframe_secret(suite, base_key.expose_secret());
    (secret, key, salt)
}

/// The 32-byte `sframe_key` label: `"SFrame 1.0 Secret key " || KID (8 bytes) || suite (2)`.
#[must_use]
pub fn key_label(kid: KeyId, suite: CipherSuite) -> [u8; 32] {
    key_schedule::key_label(kid, suite)
}

/// The 33-byte `sframe_salt` label: `"SFrame 1.0 Secret salt " || KID (8 bytes) || suite (2)`.
#[must_use]
pub fn salt_label(kid: KeyId, suite: CipherSuite) -> [u8; 33] {
    key_schedule::salt_label(kid, suite)
}

/// One step of the sender-key ratchet (RFC 9605 §5.1).
#[must_use]
pub fn ratchet(suite: CipherSuite, base_key: &BaseKey) -> BaseKey {
    key_schedule::ratchet(suite, base_key)
}

/// The raw AEAD of a suite (RFC 9605 §4.5), keyed with an `sframe_key`.
pub struct RawAead {
    key: AeadKey,
    tag_len: usize,
}

impl core::fmt::Debug for RawAead {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RawAead").finish_non_exhaustive()
    }
}

impl RawAead {
    /// Expands `key` (`Nk` bytes).
    ///
    /// # Errors
    ///
    /// [`KeyError::AeadKeyLength`] when `key` is not `suite.key_len()` bytes.
    pub fn new(suite: CipherSuite, key: &[u8]) -> Result<Self, KeyError> {
        Ok(Self {
            key: AeadKey::from_bytes(suite, key)?,
            tag_len: suite.tag_len(),
        })
    }

    /// `AEAD.Encrypt`: encrypts `in_out` in place and writes the `Nt`-byte tag to `tag`.
    ///
    /// # Errors
    ///
    /// [`EncryptError::BufferTooSmall`] when `tag` is not `Nt` bytes;
    /// [`EncryptError::FrameTooLong`].
    pub fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), EncryptError> {
        if tag.len() != self.tag_len {
            return Err(EncryptError::BufferTooSmall {
                needed: self.tag_len,
            });
        }
        let aad = Aad {
            header: aad,
            metadata: &[],
        };
        self.key
            .seal(nonce, aad, in_out, tag)
            .map_err(|_| EncryptError::FrameTooLong)
    }

    /// `AEAD.Decrypt`: authenticates and decrypts `in_out` in place.
    ///
    /// # Errors
    ///
    /// [`DecryptError::Authentication`]; `in_out` is then zeroed.
    pub fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: &[u8],
        in_out: &mut [u8],
        tag: &[u8],
    ) -> Result<(), DecryptError> {
        let aad = Aad {
            header: aad,
            metadata: &[],
        };
        self.key
            .open(nonce, aad, in_out, tag)
            .map_err(|_| DecryptError::Authentication)
    }
}
