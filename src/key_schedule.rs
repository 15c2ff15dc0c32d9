//! SFrame key schedule (RFC 9605 §4.4.2) and the sender-key ratchet step (§5.1).

use crate::header::KeyId;
use crate::kdf::Prk;
use crate::secret::{BaseKey, SframeKey, SframeSalt};
use crate::suite::CipherSuite;

/// `"SFrame 1.0 Secret key "`: 22 bytes, with the trailing space.
pub(crate) const KEY_LABEL: &[u8] = b"SFrame 1.0 Secret key ";
/// `"SFrame 1.0 Secret salt "`: 23 bytes, with the trailing space.
pub(crate) const SALT_LABEL: &[u8] = b"SFrame 1.0 Secret salt ";
/// `"SFrame 1.0 Ratchet"` (RFC 9605 §5.1): 18 bytes, no suffix.
pub(crate) const RATCHET_LABEL: &[u8] = b"SFrame 1.0 Ratchet";

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
/// Derives the AEAD key and salt of one KID.
pub(crate) fn derive_key_salt(
    suite: CipherSuite,
    kid: KeyId,
    base_key: &[u8],
) -> (SframeKey, SframeSalt) {
    let prk = Prk::extract(suite.hash(), &[], base_key);
    let (kid_be, suite_be) = label_suffix(kid, suite);
    let mut key = SframeKey::zeroed(suite.key_len());
    prk.expand(&[KEY_LABEL, &kid_be, &suite_be], key.as_mut());
    let mut salt = SframeSalt::zeroed();
    prk.expand(&[SALT_LABEL, &kid_be, &suite_be], salt.as_mut());
    (key, salt)
}

/// `sframe_secret = HKDF-Extract("", base_key)`, which only the test vectors show.
#[cfg(feature = "hazmat")]
pub(crate) fn sframe_secret(suite: CipherSuite, base_key: &[u8]) -> crate::secret::SframeSecret {
    let mut bytes = [0; 64];
    let len = crate::kdf::extract_bytes(suite.hash(), base_key, &mut bytes);
    let secret = crate::secret::SframeSecret::from_slice(bytes.get(..len).unwrap_or_default());
    zeroize::Zeroize::zeroize(&mut bytes);
    secret
}

// RFC 9605 §5.1
// base_key[i+1] = HKDF-Expand(HKDF-Extract("", base_key[i]), "SFrame 1.0 Ratchet", CipherSuite.Nh)
/// One step of the sender-key ratchet.
#[must_use]
pub(crate) fn ratchet(suite: CipherSuite, base_key: &BaseKey) -> BaseKey {
    let prk = Prk::extract(suite.hash(), &[], base_key.expose_secret());
    // Nh (32 or 64 bytes) is a valid base key length, and the new key is filled in place: no
    // path returns the old key or a copy on the stack.
    let mut next = BaseKey::zeroed(suite.hash_len());
    prk.expand(&[RATCHET_LABEL], next.as_mut_bytes());
    next
}
