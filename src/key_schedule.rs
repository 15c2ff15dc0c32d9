//! SFrame key schedule (RFC 9605 §4.4.2) and the sender-key ratchet step (§5.1).

use hkdf::Hkdf;
use sha2::{Sha256, Sha512};

use crate::header::KeyId;
use crate::secret::{BaseKey, SframeKey, SframeSalt, SframeSecret};
use crate::suite::{CipherSuite, Hash};

/// `"SFrame 1.0 Secret key "`: 22 bytes, with the trailing space.
pub(crate) const KEY_LABEL: &[u8] = b"SFrame 1.0 Secret key ";
/// `"SFrame 1.0 Secret salt "`: 23 bytes, with the trailing space.
pub(crate) const SALT_LABEL: &[u8] = b"SFrame 1.0 Secret salt ";
/// `"SFrame 1.0 Ratchet"` (RFC 9605 §5.1): 18 bytes, no suffix.
pub(crate) const RATCHET_LABEL: &[u8] = b"SFrame 1.0 Ratchet";

/// The HKDF of one suite, after extract.
enum Prk {
    Sha256(Hkdf<Sha256>),
    Sha512(Hkdf<Sha512>),
}

impl Prk {
    /// `HKDF-Extract("", ikm)` with the suite's hash.
    fn extract(suite: CipherSuite, ikm: &[u8]) -> (Self, SframeSecret) {
        match suite.hash() {
            Hash::Sha256 => {
                let (prk, hkdf) = Hkdf::<Sha256>::extract(None, ikm);
                (Self::Sha256(hkdf), SframeSecret::from_slice(&prk))
            }
            Hash::Sha512 => {
                let (prk, hkdf) = Hkdf::<Sha512>::extract(None, ikm);
                (Self::Sha512(hkdf), SframeSecret::from_slice(&prk))
            }
        }
    }

    /// `HKDF-Expand(prk, info[0] || info[1] || ..., okm.len())`. The lengths used here
    /// (Nk, Nn, Nh) are all far below 255 * Nh, so expansion cannot fail.
    fn expand(&self, info: &[&[u8]], okm: &mut [u8]) {
        let result = match self {
            Self::Sha256(h) => h.expand_multi_info(info, okm),
            Self::Sha512(h) => h.expand_multi_info(info, okm),
        };
        debug_assert!(result.is_ok(), "HKDF output length is bounded by the suite");
    }
}

/// The key-and-salt label suffix: KID as 8 bytes and the suite as 2 bytes, both big-endian.
fn label_suffix(kid: KeyId, suite: CipherSuite) -> ([u8; 8], [u8; 2]) {
    (kid.0.to_be_bytes(), suite.id().to_be_bytes())
}

#[cfg(feature = "hazmat")]
/// The full `sframe_key` label (32 bytes).
pub(crate) fn key_label(kid: KeyId, suite: CipherSuite) -> [u8; 32] {
    concat_label(KEY_LABEL, kid, suite)
}

#[cfg(feature = "hazmat")]
/// The full `sframe_salt` label (33 bytes).
pub(crate) fn salt_label(kid: KeyId, suite: CipherSuite) -> [u8; 33] {
    concat_label(SALT_LABEL, kid, suite)
}

#[cfg(feature = "hazmat")]
fn concat_label<const N: usize>(prefix: &[u8], kid: KeyId, suite: CipherSuite) -> [u8; N] {
    let (kid_be, suite_be) = label_suffix(kid, suite);
    let mut out = [0; N];
    for (o, b) in out
        .iter_mut()
        .zip(prefix.iter().chain(&kid_be).chain(&suite_be))
    {
        *o = *b;
    }
    out
}

// RFC 9605 §4.4.2
// def derive_key_salt(KID, base_key):
//   sframe_secret = HKDF-Extract("", base_key)
//   sframe_key_label = "SFrame 1.0 Secret key " + KID + cipher_suite
//   sframe_key = HKDF-Expand(sframe_secret, sframe_key_label, AEAD.Nk)
//   sframe_salt_label = "SFrame 1.0 Secret salt " + KID + cipher_suite
//   sframe_salt = HKDF-Expand(sframe_secret, sframe_salt_label, AEAD.Nn)
//   return sframe_key, sframe_salt
/// Derives the AEAD key and salt of one KID. Also returns `sframe_secret` for test vectors.
pub(crate) fn derive_key_salt(
    suite: CipherSuite,
    kid: KeyId,
    base_key: &[u8],
) -> (SframeKey, SframeSalt, SframeSecret) {
    let (prk, secret) = Prk::extract(suite, base_key);
    let (kid_be, suite_be) = label_suffix(kid, suite);
    let mut key = SframeKey::zeroed(suite.key_len());
    prk.expand(&[KEY_LABEL, &kid_be, &suite_be], key.as_mut());
    let mut salt = SframeSalt::zeroed();
    prk.expand(&[SALT_LABEL, &kid_be, &suite_be], salt.as_mut());
    (key, salt, secret)
}

// RFC 9605 §5.1
// base_key[i+1] = HKDF-Expand(HKDF-Extract("", base_key[i]), "SFrame 1.0 Ratchet", CipherSuite.Nh)
/// One step of the sender-key ratchet.
#[must_use]
pub(crate) fn ratchet(suite: CipherSuite, base_key: &BaseKey) -> BaseKey {
    let (prk, _) = Prk::extract(suite, base_key.expose_secret());
    // Nh (32 or 64 bytes) is a valid base key length, and the new key is filled in place: no
    // path returns the old key or a copy on the stack.
    let mut next = BaseKey::zeroed(suite.hash_len());
    prk.expand(&[RATCHET_LABEL], next.as_mut_bytes());
    next
}
