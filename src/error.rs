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
    /// No send key is installed yet (a session before its first key or epoch).
    #[error("no send key installed")]
    NoSendKey,
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
    /// The ratchet step bits `R` of RFC 9605 §5.1 must be 1 to 63.
    #[error("ratchet bits out of range")]
    RatchetBits,
    /// A key generation does not fit in the `64 - R` high bits of the KID (RFC 9605 §5.1).
    #[error("key generation out of range")]
    GenerationOutOfRange,
    /// The ratchet step counter of a sender reached `u64::MAX`.
    #[error("ratchet steps exhausted")]
    RatchetExhausted,
    /// A ratchet receiver's catch-up distance plus its retained steps must be at least 1 and
    /// less than `2^R`, so that every ratchet-step value means exactly one step.
    #[error("ratchet catch-up or retention out of range")]
    RatchetWindow,
    /// The MLS KID bits of RFC 9605 §5.2: `E` must be 1 to 32 and `S` 0 to 31.
    #[error("MLS epoch or sender bits out of range")]
    MlsBits,
    /// An MLS group size must be at least 1 and at most `2^31`.
    #[error("MLS group size out of range")]
    GroupSize,
    /// An MLS sender index does not fit in `S` bits or is not a member of the group.
    #[error("MLS sender index out of range")]
    SenderIndexOutOfRange,
    /// An MLS KID context does not fit in its `64 - S - E` bits.
    #[error("MLS KID context out of range")]
    ContextOutOfRange,
    /// This MLS epoch is already installed.
    #[error("MLS epoch {0} is already installed")]
    DuplicateEpoch(u64),
    /// An MLS epoch (or sender-key generation) is not newer than the current one: a send key is
    /// never re-installed, which would restart its counter.
    #[error("epoch or generation is not newer than the current one")]
    NotNewer,
    /// The MLS exporter failed.
    #[error("MLS exporter failed")]
    Exporter,
    /// A bound (live epochs, cached keys, buffered frames) must be at least 1.
    #[error("capacity out of range")]
    Capacity,
    /// The session's key scheme does not support this operation (a sender-key operation on an
    /// MLS session, or the reverse).
    #[error("operation does not match the session's key scheme")]
    WrongScheme,
    /// The codec-aware (compat) mode of an Annex B codec (H.264, H.265) refuses this KID: its
    /// big-endian encoding contains `00 00`, which sits in every trailer and, followed by the
    /// counter, could look like a start code for many frames in a row (not part of RFC 9605; see
    /// the `compat` module).
    #[error("KID {0} contains 00 00 and cannot be used with an Annex B codec in compat mode")]
    KidNotAnnexBSafe(KeyId),
}

/// Why a key agreement or sender-key envelope operation failed (not RFC 9605: the
/// `agreement` module, feature `agreement`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum AgreementError {
    /// The bytes are not a valid, non-identity P-256 point in SEC1 encoding.
    #[error("invalid P-256 public key")]
    InvalidPublicKey,
    /// The bytes are not a valid P-256 private scalar (zero or not below the group order).
    #[error("invalid P-256 private key")]
    InvalidPrivateKey,
    /// The ECDH shared secret is all zeros.
    #[error("all-zero ECDH shared secret")]
    ZeroSharedSecret,
    /// Both sides claim the same role, or the same public key.
    #[error("both sides of a pairwise agreement have the same role or key")]
    SameRoleOrKey,
    /// A sender identity must be 1 to 255 bytes.
    #[error("sender identity length out of range")]
    SenderIdLength,
    /// The envelope is malformed.
    #[error("malformed sender-key envelope: {0}")]
    Envelope(#[from] EnvelopeError),
    /// The envelope names another sender than the one expected.
    #[error("sender-key envelope from an unexpected sender")]
    WrongSender,
    /// The envelope did not authenticate: not sealed to this key, not sealed by the expected
    /// sender, or altered. Deliberately carries no detail.
    #[error("sender-key envelope did not open")]
    Open,
    /// HPKE could not seal (an internal failure of the HPKE implementation).
    #[error("sender-key envelope could not be sealed")]
    Seal,
    /// A key inside the envelope or to be sealed is invalid.
    #[error("invalid key: {0}")]
    Key(#[from] KeyError),
    /// The envelope's key is not newer than the one installed (a replayed envelope).
    #[error("sender-key envelope is not newer than the installed key")]
    Stale,
    /// No member with this identity is known.
    #[error("unknown group member")]
    UnknownMember,
}

/// Why a sender-key envelope could not be parsed (the layout is documented in the
/// `agreement::group` module, feature `agreement`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum EnvelopeError {
    /// The input ends inside a field.
    #[error("envelope truncated")]
    Truncated,
    /// The version byte is not one this build reads.
    #[error("unsupported envelope version {0}")]
    Version(u8),
    /// The cipher suite is not one this build implements.
    #[error("unsupported cipher suite 0x{0:04x}")]
    CipherSuite(u16),
    /// The ratchet bits are not 1 to 63.
    #[error("ratchet bits out of range")]
    RatchetBits,
    /// The sender identity is empty.
    #[error("empty sender identity")]
    SenderId,
    /// The encapsulated key is not a valid P-256 point.
    #[error("invalid encapsulated key")]
    EncapsulatedKey,
    /// The sealed key is shorter than the AEAD tag, empty, or longer than a base key.
    #[error("sealed key length out of range")]
    SealedKeyLength,
    /// Bytes follow the last field.
    #[error("trailing bytes after the envelope")]
    TrailingBytes,
}

/// Why a frame could not be protected in the codec-aware (compat) mode (not part of RFC 9605).
///
/// On every error nothing is emitted: the frame must be dropped, never sent in the clear and
/// never protected under another codec's rules.
#[cfg(feature = "alloc")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompatEncryptError {
    /// The frame does not parse as the codec ([`codec::plan`](crate::codec::plan) refused it).
    #[error("frame refused by the codec layer: {0}")]
    Codec(#[from] crate::codec::CodecError),
    /// The SFrame core refused: [`EncryptError::CounterExhausted`] (permanent for this key) or
    /// [`EncryptError::FrameTooLong`].
    #[error("SFrame encryption failed: {0}")]
    Encrypt(#[from] EncryptError),
    /// Every one of `attempts` counters gave an H.264/H.265 frame whose ciphertext or trailer
    /// emulates a start code (`00 00 00`, `00 00 01`, `00 00 02` or `00 00 03`). The counters
    /// tried are used up.
    #[error("start code emulation after {attempts} attempts")]
    AnnexBEmulation {
        /// How many counters were tried.
        attempts: u8,
    },
    /// The trailer would be longer than [`MAX_TRAILER_LEN`](crate::compat::MAX_TRAILER_LEN)
    /// bytes (a range map of thousands of ranges).
    #[error("compat trailer too long")]
    TrailerTooLong,
}

/// What is wrong with the trailer of a received compat frame: the `syntax` errors of the W3C
/// `SFrameTransformErrorEvent` (not part of RFC 9605).
#[cfg(feature = "alloc")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum TrailerError {
    /// The frame ends in the magic but has no room for the length field before it.
    #[error("compat trailer truncated")]
    Truncated,
    /// The length field `L` is below the smallest trailer (5 bytes) or larger than the frame.
    #[error("compat trailer length out of range")]
    BadLength,
    /// `L` announces the AV1 metadata OBU wrapper, but it is not `0x2A`, a minimal size that
    /// matches `L`, and the private `metadata_type`.
    #[error("malformed AV1 metadata OBU around the compat trailer")]
    BadWrapper,
    /// The trailer ends before the tag of the key's cipher suite does.
    #[error("compat trailer shorter than the tag")]
    TagTruncated,
}

/// Why a compat frame could not be decrypted (not part of RFC 9605). On every error the frame is
/// byte-identical and the receive key's state (its replay window) is unchanged.
///
/// For the W3C `SFrameTransformErrorEvent`: [`Trailer`](Self::Trailer),
/// [`Header`](Self::Header) and [`RangeMap`](Self::RangeMap) are `syntax`;
/// [`UnknownKeyId`](Self::UnknownKeyId) is `keyID`; [`Authentication`](Self::Authentication) and
/// [`Replay`](Self::Replay) are `authentication`. [`NotProtected`](Self::NotProtected) is the
/// application's call (`syntax` when plaintext is not allowed).
#[cfg(feature = "alloc")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CompatDecryptError {
    /// The frame does not end in the compat magic, and unprotected frames are not accepted.
    #[error("frame is not protected")]
    NotProtected,
    /// The trailer is malformed.
    #[error("malformed compat trailer: {0}")]
    Trailer(#[from] TrailerError),
    /// The SFrame header inside the trailer is malformed.
    #[error("malformed SFrame header: {0}")]
    Header(#[from] HeaderError),
    /// The range map is malformed or does not fit the frame.
    #[error("malformed range map: {0}")]
    RangeMap(#[from] crate::codec::RangeMapError),
    /// No receive key is installed for this KID; the frame is unchanged and may be retried once
    /// the key arrives (RFC 9605 §4.4.4).
    #[error("no receive key for KID {0}")]
    UnknownKeyId(KeyId),
    /// The anti-replay window rejected the counter.
    #[error("replayed or too old SFrame counter")]
    Replay,
    /// Authentication failed. Deliberately carries no detail.
    #[error("SFrame authentication failed")]
    Authentication,
}

/// Why a [`Session`](crate::session::Session) could not protect a frame, in either frame
/// format.
#[cfg(feature = "alloc")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtectError {
    /// SFrame encryption failed (no send key yet, counter exhausted, buffer too small, …).
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
    /// Codec-aware format: the frame is not a valid frame of the session's codec.
    #[error("frame refused by the codec layer: {0}")]
    Codec(#[from] crate::codec::CodecError),
    /// Codec-aware format, H.264/H.265: every attempt emulated a start code; the frame is
    /// dropped.
    #[error("start code emulation after {attempts} attempts")]
    AnnexBEmulation {
        /// Attempts made.
        attempts: u8,
    },
    /// Codec-aware format: the trailer would exceed its 15-bit length field.
    #[error("compat trailer too long")]
    TrailerTooLong,
    /// The current send key cannot protect frames in this format (an Annex B codec and a KID
    /// whose encoding contains `00 00`): ratchet or start a new generation.
    #[error(transparent)]
    Key(#[from] KeyError),
}

#[cfg(feature = "alloc")]
impl From<CompatEncryptError> for ProtectError {
    fn from(error: CompatEncryptError) -> Self {
        match error {
            CompatEncryptError::Codec(e) => Self::Codec(e),
            CompatEncryptError::Encrypt(e) => Self::Encrypt(e),
            CompatEncryptError::AnnexBEmulation { attempts } => Self::AnnexBEmulation { attempts },
            CompatEncryptError::TrailerTooLong => Self::TrailerTooLong,
        }
    }
}

/// Why a [`Session`](crate::session::Session) could not unprotect a frame, in either frame
/// format. An unknown KID, a replay and an authentication failure are the same
/// [`DecryptError`] values in both formats.
#[cfg(feature = "alloc")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnprotectError {
    /// The SFrame layer refused the frame.
    #[error(transparent)]
    Decrypt(#[from] DecryptError),
    /// Codec-aware format: the frame carries no container trailer (an unprotected frame).
    #[error("frame is not protected")]
    NotProtected,
    /// Codec-aware format: the container trailer is malformed.
    #[error("malformed compat trailer: {0}")]
    Trailer(TrailerError),
    /// Codec-aware format: the range map is malformed.
    #[error("malformed compat range map: {0}")]
    RangeMap(crate::codec::RangeMapError),
}

#[cfg(feature = "alloc")]
impl From<CompatDecryptError> for UnprotectError {
    fn from(error: CompatDecryptError) -> Self {
        match error {
            CompatDecryptError::NotProtected => Self::NotProtected,
            CompatDecryptError::Trailer(e) => Self::Trailer(e),
            CompatDecryptError::RangeMap(e) => Self::RangeMap(e),
            CompatDecryptError::Header(e) => Self::Decrypt(DecryptError::Header(e)),
            CompatDecryptError::UnknownKeyId(kid) => Self::Decrypt(DecryptError::UnknownKeyId(kid)),
            CompatDecryptError::Replay => Self::Decrypt(DecryptError::Replay),
            CompatDecryptError::Authentication => Self::Decrypt(DecryptError::Authentication),
        }
    }
}
