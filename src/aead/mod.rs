//! The AEAD of each suite over in-place buffers (RFC 9605 §4.4.3, §4.4.4, §4.5).
//!
//! Keys are expanded once, when they are installed: AES round keys, the GHASH key and the
//! HMAC inner and outer states. A frame costs one `match` and the cipher; nothing is allocated.

mod ctr_hmac;
mod gcm;

use subtle::ConstantTimeEq;

use crate::header::MAX_HEADER_LEN;
use crate::secret::KeyError;
use crate::secret::SframeKey;
use crate::suite::{CipherSuite, NONCE_LEN};

/// The longest metadata accepted with a frame, in bytes.
///
/// RFC 9605 §4.4.3 authenticates `header || metadata`; AES-GCM needs that as one slice, which
/// is joined on the stack (no allocation per frame), so its length is bounded.
pub const MAX_METADATA_LEN: usize = 1024;

/// The associated data of one frame: the header as received, then the metadata
/// (RFC 9605 §4.4.3 `aad = header + metadata`). Kept in two pieces so the CTR+HMAC suites never
/// copy them; GCM joins them when both are present.
#[derive(Clone, Copy)]
pub(crate) struct Aad<'a> {
    pub(crate) header: &'a [u8],
    pub(crate) metadata: &'a [u8],
}

/// Room for a joined AAD: the longest header and metadata.
pub(crate) const JOINED_AAD_LEN: usize = MAX_HEADER_LEN + MAX_METADATA_LEN;

impl<'a> Aad<'a> {
    pub(crate) fn len(self) -> usize {
        self.header.len() + self.metadata.len()
    }

    /// The AAD as one slice when one of its pieces is empty (every frame without metadata):
    /// nothing to copy.
    pub(crate) fn single(self) -> Option<&'a [u8]> {
        if self.metadata.is_empty() {
            Some(self.header)
        } else if self.header.is_empty() {
            Some(self.metadata)
        } else {
            None
        }
    }

    /// Both pieces joined into `buf`, returning the joined prefix; [`AeadError::TooLong`] when
    /// they do not fit.
    pub(crate) fn join(self, buf: &mut [u8; JOINED_AAD_LEN]) -> Result<&[u8], AeadError> {
        let joined = buf.get_mut(..self.len()).ok_or(AeadError::TooLong)?;
        let (h, m) = joined.split_at_mut(self.header.len());
        h.copy_from_slice(self.header);
        m.copy_from_slice(self.metadata);
        Ok(joined)
    }

    /// Calls `f` with the AAD as one slice, copying into a stack buffer only when both pieces
    /// are non-empty; [`AeadError::TooLong`] when the joined AAD does not fit. (The RustCrypto
    /// arm joins first with [`single`](Self::single) and [`join`](Self::join) instead: one call
    /// site per key size.)
    #[cfg(any(feature = "ring", feature = "aws-lc", feature = "fips"))]
    pub(crate) fn with_contiguous<R>(
        self,
        f: impl FnOnce(&[u8]) -> Result<R, AeadError>,
    ) -> Result<R, AeadError> {
        if let Some(single) = self.single() {
            return f(single);
        }
        let mut buf = [0u8; JOINED_AAD_LEN];
        f(self.join(&mut buf)?)
    }
}

/// Why the raw AEAD refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum AeadError {
    /// Tag mismatch.
    Authentication,
    /// The input exceeds what one nonce may cover (or the joined AAD exceeds the stack buffer).
    TooLong,
}

/// An installed AEAD key of one suite.
#[allow(
    clippy::large_enum_variant,
    reason = "one key per KID, stored inline so the core needs no allocator; which variant is \
              the large one depends on the providers a build enables"
)]
// An explicit one-byte tag: without it, with ring, the variant was found through a niche in a
// 16-byte field, a vector compare of five instructions on every frame where this is two
// (issue #15).
#[repr(u8)]
pub(crate) enum AeadKey {
    CtrHmac128(CtrHmac128),
    Gcm(gcm::Gcm),
    CtrHmac256(CtrHmac256),
}

/// AES-CTR+HMAC through AWS-LC with feature `fips` (every algorithm inside its module), else
/// through RustCrypto (as fast as AWS-LC's here: BENCHMARKS.md).
#[cfg(feature = "fips")]
type CtrHmac128 = ctr_hmac::aws_lc::CtrHmac;
#[cfg(feature = "fips")]
type CtrHmac256 = ctr_hmac::aws_lc::CtrHmac;
#[cfg(not(feature = "fips"))]
type CtrHmac128 = ctr_hmac::CtrHmac<aes::Aes128, sha2::Sha256>;
#[cfg(not(feature = "fips"))]
type CtrHmac256 = ctr_hmac::CtrHmac<aes::Aes256, sha2::Sha512>;

impl AeadKey {
    /// Expands `key`, which the key schedule derived for `suite`: exactly `suite.key_len()`
    /// bytes, so it cannot fail.
    #[expect(
        clippy::expect_used,
        reason = "derive_key_salt fills exactly Nk bytes for the suite, the length from_bytes checks"
    )]
    pub(crate) fn derived(suite: CipherSuite, key: &SframeKey) -> Self {
        Self::from_bytes(suite, key.expose_secret())
            .expect("the key schedule derives Nk bytes for the suite")
    }

    /// Expands raw key bytes.
    ///
    /// # Errors
    ///
    /// [`KeyError::AeadKeyLength`] unless `key` is `suite.key_len()` bytes.
    pub(crate) fn from_bytes(suite: CipherSuite, key: &[u8]) -> Result<Self, KeyError> {
        if key.len() != suite.key_len() {
            return Err(KeyError::AeadKeyLength);
        }
        let tag_len = suite.tag_len();
        let key = match suite {
            CipherSuite::AesCtr128HmacSha256_80
            | CipherSuite::AesCtr128HmacSha256_64
            | CipherSuite::AesCtr128HmacSha256_32 => {
                CtrHmac128::new(key, 16, tag_len).map(Self::CtrHmac128)
            }
            CipherSuite::AesGcm128Sha256 | CipherSuite::AesGcm256Sha512 => {
                gcm::Gcm::new(key).map(Self::Gcm)
            }
            CipherSuite::AesCtr256HmacSha512_80
            | CipherSuite::AesCtr256HmacSha512_64
            | CipherSuite::AesCtr256HmacSha512_32 => {
                CtrHmac256::new(key, 32, tag_len).map(Self::CtrHmac256)
            }
        };
        key.ok_or(KeyError::AeadKeyLength)
    }

    /// The AES-GCM key that the per-frame paths (`Encryptor::encrypt_in_room`,
    /// `ReceiveKey::open_parts`) seal or open a frame of `len` bytes of plaintext with inline;
    /// `None` for the other suites and for the frames another provider takes (with `ring` and
    /// `aws-lc` both on, those from `AWS_LC_FROM` bytes), which go through
    /// [`seal`](Self::seal) and [`open`](Self::open) out of line.
    #[inline]
    pub(crate) fn inline_gcm(&self, len: usize) -> Option<&gcm::Inline> {
        match self {
            Self::Gcm(k) => k.inline_for(len),
            _ => None,
        }
    }

    /// Encrypts `in_out` in place and writes the tag (exactly `Nt` bytes) to `tag`.
    #[cfg_attr(
        feature = "fips",
        expect(
            clippy::match_same_arms,
            reason = "with `fips` both CTR+HMAC variants are AWS-LC's one type"
        )
    )]
    #[inline]
    pub(crate) fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: Aad<'_>,
        in_out: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), AeadError> {
        match self {
            Self::CtrHmac128(k) => k.seal(nonce, aad, in_out, tag),
            Self::Gcm(k) => k.seal(nonce, aad, in_out, tag),
            Self::CtrHmac256(k) => k.seal(nonce, aad, in_out, tag),
        }
    }

    /// Authenticates and decrypts `in_out` in place. On failure no plaintext is left in
    /// `in_out`: it is zeroed (see [`zero_on_failure`]).
    #[cfg_attr(
        feature = "fips",
        expect(
            clippy::match_same_arms,
            reason = "with `fips` both CTR+HMAC variants are AWS-LC's one type"
        )
    )]
    #[inline]
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: Aad<'_>,
        in_out: &mut [u8],
        tag: &[u8],
    ) -> Result<(), AeadError> {
        let result = match self {
            Self::CtrHmac128(k) => k.open(nonce, aad, in_out, tag),
            Self::Gcm(k) => k.open(nonce, aad, in_out, tag),
            Self::CtrHmac256(k) => k.open(nonce, aad, in_out, tag),
        };
        zero_on_failure(result, in_out)
    }
}

/// One contract for every provider: after a failed open the ciphertext bytes are zero. ring
/// cannot check a GCM tag before decrypting and zeroes what it decrypted; the RustCrypto
/// paths check first and leave the ciphertext as it was. Zeroing here makes both the same, so
/// the result never depends on which features a dependency graph happens to enable.
fn zero_on_failure(result: Result<(), AeadError>, in_out: &mut [u8]) -> Result<(), AeadError> {
    if result == Err(AeadError::Authentication) {
        in_out.fill(0);
    }
    result
}

/// Constant-time equality of a computed and a received tag: the time depends on the lengths
/// (public) and on nothing else.
///
/// Eight bytes at a time, the two are combined with exclusive or and the results with or, as
/// the `CRYPTO_memcmp` of `BoringSSL` does, and only the accumulated difference goes through
/// `subtle`'s optimization barrier. `subtle`'s slice comparison puts the barrier on every
/// byte: ~110 instructions for a 10-byte tag, half of what a CTR+HMAC frame cost beyond the
/// raw `ctr` and `hmac` calls (issue #15).
pub(crate) fn tags_equal(computed: &[u8], received: &[u8]) -> bool {
    if computed.len() != received.len() {
        return false;
    }
    let word = |bytes: &[u8]| u64::from_ne_bytes(<[u8; 8]>::try_from(bytes).unwrap_or([0; 8]));
    let mut a = computed.chunks_exact(8);
    let mut b = received.chunks_exact(8);
    let mut diff = 0_u64;
    for (x, y) in a.by_ref().zip(b.by_ref()) {
        diff |= word(x) ^ word(y);
    }
    for (x, y) in a.remainder().iter().zip(b.remainder()) {
        diff |= u64::from(x ^ y);
    }
    diff.ct_eq(&0).into()
}

#[cfg(test)]
mod tests {
    use super::tags_equal;

    #[test]
    fn tags_equal_is_byte_equality_at_every_length() {
        let mut bytes = [0_u8; 41];
        for (i, b) in (0_u8..).zip(bytes.iter_mut()) {
            *b = i.wrapping_mul(37) ^ 0xa5;
        }
        for len in 0..bytes.len() {
            let (a, _) = bytes.split_at(len);
            let copy = bytes;
            assert!(tags_equal(a, &copy[..len]), "len {len}");
            // A difference in any bit of any byte, in the 8-byte words and in the tail.
            for i in 0..len {
                for bit in 0..8 {
                    let mut b = bytes;
                    b[i] ^= 1 << bit;
                    assert!(!tags_equal(a, &b[..len]), "len {len}, byte {i}, bit {bit}");
                    assert!(!tags_equal(&b[..len], a), "len {len}, byte {i}, bit {bit}");
                }
            }
            // Neither a prefix of the tag nor the tag and one byte more.
            if let Some(shorter) = len.checked_sub(1) {
                assert!(!tags_equal(a, &copy[..shorter]), "len {len}");
                assert!(!tags_equal(&copy[..shorter], a), "len {len}");
            }
            assert!(!tags_equal(a, &copy[..=len]), "len {len}");
        }
    }
}
