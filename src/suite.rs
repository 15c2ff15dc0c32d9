//! SFrame cipher suites (RFC 9605 §4.5, §8.1).

use core::fmt;

use crate::secret::KeyError;

/// An SFrame cipher suite (RFC 9605 §4.5, Table 2 of §8.1).
///
/// Every suite of the IANA SFrame registry is implemented: the five of RFC 9605 and suites 6–8
/// (AES-256-CTR-HMAC-SHA512, draft-barnes-sframe-iana-256-06). The AES-CTR+HMAC suites with
/// 64- and 32-bit tags
/// (`_64`, `_32`) trade forgery resistance for bytes: an attacker succeeds with probability
/// `attempts / 2^(8 * tag_len)` (RFC 9605 §7.5). Prefer [`CipherSuite::AesGcm128Sha256`] or
/// [`CipherSuite::AesCtr128HmacSha256_80`] unless every byte counts and the channel is
/// hop-by-hop protected and rate-limited.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CipherSuite {
    /// `AES_128_CTR_HMAC_SHA256_80` (0x0001): AES-128-CTR + HMAC-SHA-256, 10-byte tag.
    AesCtr128HmacSha256_80,
    /// `AES_128_CTR_HMAC_SHA256_64` (0x0002): AES-128-CTR + HMAC-SHA-256, 8-byte tag.
    AesCtr128HmacSha256_64,
    /// `AES_128_CTR_HMAC_SHA256_32` (0x0003): AES-128-CTR + HMAC-SHA-256, 4-byte tag.
    AesCtr128HmacSha256_32,
    /// `AES_128_GCM_SHA256_128` (0x0004): AES-128-GCM, 16-byte tag.
    AesGcm128Sha256,
    /// `AES_256_GCM_SHA512_128` (0x0005): AES-256-GCM, 16-byte tag, HKDF-SHA-512.
    AesGcm256Sha512,
    /// `AES_256_CTR_HMAC_SHA512_80` (0x0006): AES-256-CTR + HMAC-SHA-512, 10-byte tag. In the
    /// IANA SFrame registry (Recommended), specified by draft-barnes-sframe-iana-256-06, not by
    /// RFC 9605 itself.
    AesCtr256HmacSha512_80,
    /// `AES_256_CTR_HMAC_SHA512_64` (0x0007): as above, 8-byte tag (IANA registry,
    /// draft-barnes-sframe-iana-256-06).
    AesCtr256HmacSha512_64,
    /// `AES_256_CTR_HMAC_SHA512_32` (0x0008): as above, 4-byte tag (IANA registry,
    /// draft-barnes-sframe-iana-256-06).
    AesCtr256HmacSha512_32,
}

/// The hash function of a suite's HKDF (and, for the CTR suites, its HMAC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha512,
}

impl CipherSuite {
    /// Every suite this build implements, in code point order.
    pub const ALL: &'static [Self] = &[
        Self::AesCtr128HmacSha256_80,
        Self::AesCtr128HmacSha256_64,
        Self::AesCtr128HmacSha256_32,
        Self::AesGcm128Sha256,
        Self::AesGcm256Sha512,
        Self::AesCtr256HmacSha512_80,
        Self::AesCtr256HmacSha512_64,
        Self::AesCtr256HmacSha512_32,
    ];

    /// The IANA code point (RFC 9605 §8.1).
    #[must_use]
    pub const fn id(self) -> u16 {
        match self {
            Self::AesCtr128HmacSha256_80 => 0x0001,
            Self::AesCtr128HmacSha256_64 => 0x0002,
            Self::AesCtr128HmacSha256_32 => 0x0003,
            Self::AesGcm128Sha256 => 0x0004,
            Self::AesGcm256Sha512 => 0x0005,
            Self::AesCtr256HmacSha512_80 => 0x0006,
            Self::AesCtr256HmacSha512_64 => 0x0007,
            Self::AesCtr256HmacSha512_32 => 0x0008,
        }
    }

    /// The suite with IANA code point `id`.
    ///
    /// # Errors
    ///
    /// [`KeyError::UnsupportedCipherSuite`] for reserved, unassigned or not-built code points.
    pub fn from_id(id: u16) -> Result<Self, KeyError> {
        Self::ALL
            .iter()
            .copied()
            .find(|s| s.id() == id)
            .ok_or(KeyError::UnsupportedCipherSuite(id))
    }

    /// The registered name, e.g. `AES_128_GCM_SHA256_128`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::AesCtr128HmacSha256_80 => "AES_128_CTR_HMAC_SHA256_80",
            Self::AesCtr128HmacSha256_64 => "AES_128_CTR_HMAC_SHA256_64",
            Self::AesCtr128HmacSha256_32 => "AES_128_CTR_HMAC_SHA256_32",
            Self::AesGcm128Sha256 => "AES_128_GCM_SHA256_128",
            Self::AesGcm256Sha512 => "AES_256_GCM_SHA512_128",
            Self::AesCtr256HmacSha512_80 => "AES_256_CTR_HMAC_SHA512_80",
            Self::AesCtr256HmacSha512_64 => "AES_256_CTR_HMAC_SHA512_64",
            Self::AesCtr256HmacSha512_32 => "AES_256_CTR_HMAC_SHA512_32",
        }
    }

    /// `Nh`: the output length of the suite's hash, in bytes.
    #[doc(alias = "Nh")]
    #[must_use]
    pub const fn hash_len(self) -> usize {
        match self.hash() {
            Hash::Sha256 => 32,
            Hash::Sha512 => 64,
        }
    }

    /// `Nk`: the AEAD key length in bytes (for the CTR suites, encryption plus authentication
    /// key).
    #[doc(alias = "Nk")]
    #[must_use]
    pub const fn key_len(self) -> usize {
        match self {
            Self::AesCtr128HmacSha256_80
            | Self::AesCtr128HmacSha256_64
            | Self::AesCtr128HmacSha256_32 => 48,
            Self::AesGcm128Sha256 => 16,
            Self::AesGcm256Sha512 => 32,
            Self::AesCtr256HmacSha512_80
            | Self::AesCtr256HmacSha512_64
            | Self::AesCtr256HmacSha512_32 => 96,
        }
    }

    /// `Nka`: for the AES-CTR+HMAC suites, the length of the AES key inside the AEAD key.
    #[doc(alias = "Nka")]
    #[must_use]
    pub const fn enc_key_len(self) -> Option<usize> {
        match self {
            Self::AesCtr128HmacSha256_80
            | Self::AesCtr128HmacSha256_64
            | Self::AesCtr128HmacSha256_32 => Some(16),
            Self::AesGcm128Sha256 | Self::AesGcm256Sha512 => None,
            Self::AesCtr256HmacSha512_80
            | Self::AesCtr256HmacSha512_64
            | Self::AesCtr256HmacSha512_32 => Some(32),
        }
    }

    /// `Nn`: the nonce length in bytes (12 for every suite).
    #[doc(alias = "Nn")]
    #[must_use]
    pub const fn nonce_len(self) -> usize {
        NONCE_LEN
    }

    /// `Nt`: the authentication tag length in bytes.
    #[doc(alias = "Nt")]
    #[must_use]
    pub const fn tag_len(self) -> usize {
        // A u8 widens losslessly on every target.
        #[expect(clippy::as_conversions, reason = "u8 to usize is lossless; const fn")]
        {
            self.tag_len_u8() as usize
        }
    }

    /// [`tag_len`](Self::tag_len) as a byte (every `Nt` is at most 16).
    pub(crate) const fn tag_len_u8(self) -> u8 {
        match self {
            Self::AesCtr128HmacSha256_80 | Self::AesCtr256HmacSha512_80 => 10,
            Self::AesCtr128HmacSha256_64 | Self::AesCtr256HmacSha512_64 => 8,
            Self::AesCtr128HmacSha256_32 | Self::AesCtr256HmacSha512_32 => 4,
            Self::AesGcm128Sha256 | Self::AesGcm256Sha512 => 16,
        }
    }

    pub(crate) const fn hash(self) -> Hash {
        match self {
            Self::AesCtr128HmacSha256_80
            | Self::AesCtr128HmacSha256_64
            | Self::AesCtr128HmacSha256_32
            | Self::AesGcm128Sha256 => Hash::Sha256,
            Self::AesGcm256Sha512
            | Self::AesCtr256HmacSha512_80
            | Self::AesCtr256HmacSha512_64
            | Self::AesCtr256HmacSha512_32 => Hash::Sha512,
        }
    }
}

impl fmt::Display for CipherSuite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl TryFrom<u16> for CipherSuite {
    type Error = KeyError;
    fn try_from(id: u16) -> Result<Self, KeyError> {
        Self::from_id(id)
    }
}

impl From<CipherSuite> for u16 {
    fn from(suite: CipherSuite) -> u16 {
        suite.id()
    }
}

/// `Nn` of every suite.
pub(crate) const NONCE_LEN: usize = 12;
/// The largest `Nk` of any suite.
pub(crate) const MAX_KEY_LEN: usize = 96;
/// The largest `Nh` of any suite.
pub(crate) const MAX_HASH_LEN: usize = 64;
/// The largest `Nt` of any suite.
pub const MAX_TAG_LEN: usize = 16;
