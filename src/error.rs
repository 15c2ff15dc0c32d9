//! Errors, one small enum per operation.
//!
//! Every variant is `Copy` and says nothing an attacker can use: an authentication failure is a
//! bare variant, and no variant carries key bytes or plaintext. The KID in
//! [`DecryptError::UnknownKeyId`] is visible on the wire anyway (RFC 9605 §7.1).

use crate::header::KeyId;

/// A malformed SFrame header (RFC 9605 §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The input ends before the config byte or before the KID or CTR bytes it announces.
    #[error("SFrame header truncated")]
    Truncated,
    /// The KID is not encoded in the minimum number of bytes (an extended field holding a value
    /// below 8, or a leading zero byte). RFC 9605 §4.3 requires the minimal form.
    #[error("SFrame header KID is not minimally encoded")]
    NonMinimalKeyId,
    /// The CTR is not encoded in the minimum number of bytes.
    #[error("SFrame header CTR is not minimally encoded")]
    NonMinimalCounter,
}

/// Why a frame could not be encrypted. On every error the encryptor's counter is unchanged,
/// except that [`EncryptError::CounterExhausted`] is permanent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptError {
    /// Every counter value of this key has been used; the key can never encrypt again
    /// (RFC 9605 §4.4.3, §9.1). Install a new key.
    #[error("SFrame counter exhausted for this key")]
    CounterExhausted,
    /// The output buffer is smaller than the SFrame ciphertext.
    #[error("output buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes the ciphertext needs.
        needed: usize,
    },
    /// The metadata is longer than [`MAX_METADATA_LEN`](crate::MAX_METADATA_LEN).
    #[error("metadata too long")]
    MetadataTooLong,
    /// The plaintext is longer than the cipher suite can encrypt under one nonce.
    #[error("frame too long for the cipher suite")]
    FrameTooLong,
    /// The counter cannot move backwards: the requested value was already used or passed.
    #[error("counter would move backwards")]
    CounterReuse,
}

/// Why a frame could not be decrypted. On every error the receiver's state is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The SFrame header is malformed.
    #[error("malformed SFrame header: {0}")]
    Header(#[from] HeaderError),
    /// No receive key is installed for this KID. RFC 9605 §4.4.4 allows keeping the frame and
    /// retrying once the key arrives: the frame is unchanged.
    #[error("no receive key for KID {0}")]
    UnknownKeyId(KeyId),
    /// The frame is shorter than the header plus the suite's tag.
    #[error("SFrame ciphertext shorter than its tag")]
    TooShort,
    /// The metadata is longer than [`MAX_METADATA_LEN`](crate::MAX_METADATA_LEN).
    #[error("metadata too long")]
    MetadataTooLong,
    /// The output buffer is smaller than the plaintext.
    #[error("output buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes the plaintext needs.
        needed: usize,
    },
    /// The anti-replay window rejected the counter: it was already accepted, or it is older than
    /// the window (RFC 9605 §7.4, §9.3).
    #[error("replayed or too old SFrame counter")]
    Replay,
    /// Authentication failed. Deliberately carries no detail.
    #[error("SFrame authentication failed")]
    Authentication,
}

/// Why a key could not be installed.
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
