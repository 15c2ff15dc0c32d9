//! Secret key material: fixed arrays, zeroized on drop, never printed.

use core::fmt;

use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::header::KeyId;
use crate::suite::{CipherSuite, MAX_HASH_LEN, MAX_KEY_LEN, NONCE_LEN};

/// A base key (RFC 9605 §4.4.1): the secret an application provisions for one KID, from
/// which the SFrame key and salt are derived.
///
/// Zeroized on drop; `Debug` prints only the length. Not `Clone`: a base key is used to encrypt
/// by one sender only (§4.4.1).
pub struct BaseKey {
    bytes: [u8; BaseKey::MAX_LEN],
    len: u8,
}

impl BaseKey {
    /// The longest base key accepted, in bytes.
    pub const MAX_LEN: usize = 128;

    /// A fresh random base key for `suite`: `Nh` bytes (32 or 64), the length of the key
    /// schedule's hash, from `rng`.
    #[must_use]
    pub fn generate<R: rand_core::CryptoRng + ?Sized>(suite: CipherSuite, rng: &mut R) -> Self {
        let mut key = Self::zeroed(suite.hash_len());
        rng.fill_bytes(key.as_mut_bytes());
        key
    }

    /// [`generate`](Self::generate) from the operating system's generator (feature
    /// `getrandom`) or, with feature `fips`, from AWS-LC's DRBG inside its FIPS module.
    ///
    /// # Panics
    ///
    /// As [`os_rng`](crate::os_rng), if the operating system cannot supply randomness (with
    /// `fips`: if the module's DRBG fails).
    #[cfg(any(feature = "getrandom", feature = "fips"))]
    #[must_use]
    pub fn random(suite: CipherSuite) -> Self {
        #[cfg(feature = "fips")]
        {
            let mut key = Self::zeroed(suite.hash_len());
            #[expect(
                clippy::expect_used,
                reason = "no key can be made without randomness, as with os_rng"
            )]
            aws_lc_rs::rand::fill(key.as_mut_bytes()).expect("AWS-LC's DRBG failed");
            key
        }
        #[cfg(not(feature = "fips"))]
        Self::generate(suite, &mut crate::os_rng())
    }

    /// Copies `bytes` into a new base key.
    ///
    /// # Errors
    ///
    /// [`KeyError::BaseKeyLength`] when `bytes` is empty or longer than [`Self::MAX_LEN`].
    pub fn new(bytes: &[u8]) -> Result<Self, KeyError> {
        let len = u8::try_from(bytes.len()).map_err(|_| KeyError::BaseKeyLength)?;
        if bytes.is_empty() || bytes.len() > Self::MAX_LEN {
            return Err(KeyError::BaseKeyLength);
        }
        let mut key = Self {
            bytes: [0; Self::MAX_LEN],
            len,
        };
        key.bytes
            .get_mut(..bytes.len())
            .ok_or(KeyError::BaseKeyLength)?
            .copy_from_slice(bytes);
        Ok(key)
    }

    /// The key bytes. Named for what it does: the caller now holds a copy of a secret.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// The key length in bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// Always false: a base key has at least one byte.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// A zeroed key of `len` bytes (at most [`Self::MAX_LEN`]), to be filled through
    /// [`as_mut_bytes`](Self::as_mut_bytes) by a KDF or an exporter.
    pub(crate) fn zeroed(len: usize) -> Self {
        Self {
            bytes: [0; Self::MAX_LEN],
            len: u8::try_from(len.min(Self::MAX_LEN)).unwrap_or(0),
        }
    }

    /// The key bytes, writable.
    pub(crate) fn as_mut_bytes(&mut self) -> &mut [u8] {
        self.bytes
            .get_mut(..usize::from(self.len))
            .unwrap_or(&mut [])
    }

    /// A second copy, for internal use where a key must be kept and handed on (a session
    /// installs the key a participant distributed).
    #[cfg(feature = "alloc")]
    pub(crate) fn duplicate(&self) -> Self {
        Self {
            bytes: self.bytes,
            len: self.len,
        }
    }
}

impl TryFrom<&[u8]> for BaseKey {
    type Error = KeyError;

    /// As [`BaseKey::new`].
    fn try_from(bytes: &[u8]) -> Result<Self, KeyError> {
        Self::new(bytes)
    }
}

impl Drop for BaseKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for BaseKey {}

impl fmt::Debug for BaseKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BaseKey")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// `sframe_key` (RFC 9605 §4.4.2): the AEAD key derived for one KID and suite.
pub struct SframeKey {
    bytes: [u8; MAX_KEY_LEN],
    len: u8,
}

impl SframeKey {
    pub(crate) fn zeroed(len: usize) -> Self {
        Self {
            bytes: [0; MAX_KEY_LEN],
            len: u8::try_from(len.min(MAX_KEY_LEN)).unwrap_or(0),
        }
    }

    pub(crate) fn as_mut(&mut self) -> &mut [u8] {
        self.bytes
            .get_mut(..usize::from(self.len))
            .unwrap_or(&mut [])
    }

    /// The key bytes.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }

    /// A second copy, for a receive key that hands its key to an external AEAD.
    #[cfg(feature = "external-aead")]
    pub(crate) fn duplicate(&self) -> Self {
        Self {
            bytes: self.bytes,
            len: self.len,
        }
    }
}

impl Drop for SframeKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for SframeKey {}

impl fmt::Debug for SframeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SframeKey")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// `sframe_salt` (RFC 9605 §4.4.2): `XORed` with the counter to form each nonce.
pub struct SframeSalt {
    bytes: [u8; NONCE_LEN],
}

impl SframeSalt {
    pub(crate) fn zeroed() -> Self {
        Self {
            bytes: [0; NONCE_LEN],
        }
    }

    pub(crate) fn as_mut(&mut self) -> &mut [u8; NONCE_LEN] {
        &mut self.bytes
    }

    /// The salt bytes.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8; NONCE_LEN] {
        &self.bytes
    }

    /// RFC 9605 §4.4.3, with erratum 8321 (the counter is encoded big-endian in Nn bytes):
    /// ```text
    /// ctr = encode_big_endian(CTR, AEAD.Nn)
    /// nonce = xor(sframe_salt, ctr)
    /// ```
    #[must_use]
    #[inline]
    pub fn nonce(&self, ctr: u64) -> [u8; NONCE_LEN] {
        let mut nonce = self.bytes;
        // The low 8 bytes XORed as one big-endian word: a load, `bswap`, `xor` and a store,
        // where the byte-wise loop this replaces compiled to ~30 instructions of byte shuffles
        // in some callers (issue #15, with aws-lc-rs). `Some` always: 8 <= NONCE_LEN.
        if let Some((_, low)) = nonce.split_last_chunk_mut::<8>() {
            *low = (u64::from_be_bytes(*low) ^ ctr).to_be_bytes();
        }
        nonce
    }
}

impl Drop for SframeSalt {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for SframeSalt {}

impl fmt::Debug for SframeSalt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SframeSalt { .. }")
    }
}

/// `sframe_secret` (RFC 9605 §4.4.2): the HKDF pseudorandom key, `Nh` bytes.
pub struct SframeSecret {
    bytes: [u8; MAX_HASH_LEN],
    len: u8,
}

impl SframeSecret {
    #[cfg(feature = "hazmat")]
    pub(crate) fn from_slice(bytes: &[u8]) -> Self {
        let mut secret = Self {
            bytes: [0; MAX_HASH_LEN],
            len: u8::try_from(bytes.len().min(MAX_HASH_LEN)).unwrap_or(0),
        };
        for (d, s) in secret.bytes.iter_mut().zip(bytes) {
            *d = *s;
        }
        secret
    }

    /// The secret bytes.
    #[must_use]
    pub fn expose_secret(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl Drop for SframeSecret {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl ZeroizeOnDrop for SframeSecret {}

impl fmt::Debug for SframeSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SframeSecret")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

/// Why a key or a core setting was refused: base and AEAD key lengths, cipher suites, KIDs of
/// a key store, replay windows. The layers above have their own:
/// [`RatchetError`](crate::RatchetError) (RFC 9605 §5.1), [`MlsError`](crate::MlsError)
/// (§5.2), [`SessionKeyError`](crate::SessionKeyError).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// A base key must be 1 to [`BaseKey::MAX_LEN`](crate::BaseKey::MAX_LEN) bytes long.
    #[error("base key length out of range")]
    BaseKeyLength,
    /// A raw AEAD key does not have the suite's length `Nk`.
    #[error("AEAD key length does not match the cipher suite")]
    AeadKeyLength,
    /// A key with this KID is already installed; a KID maps to exactly one base key
    /// (RFC 9605 §4.4.1).
    #[error("a key with KID {0} is already installed")]
    DuplicateKeyId(KeyId),
    /// The cipher suite identifier is not one this build implements.
    #[error("unsupported cipher suite 0x{0:04x}")]
    UnsupportedCipherSuite(u16),
    /// A replay window must be 1 to 128 counters wide.
    #[error("replay window width out of range")]
    ReplayWindowWidth,
}
