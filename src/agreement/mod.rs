//! Key agreement for SFrame base keys — not part of RFC 9605, which leaves key management to
//! the application (§5, §9.2).
//!
//! Feature `agreement`. Two ways to get base keys without an MLS stack:
//!
//! - **1:1 calls** ([`pairwise`]): each side has a P-256 key pair ([`KeyPair`]); ECDH, then
//!   HKDF-SHA256 bound to a transcript of both public keys (in a fixed order by [`Role`]), the
//!   roles, the SFrame cipher suite and a protocol label, gives one base key per direction.
//!   Both sides also get a six-digit [`VerificationCode`] to compare out loud: a
//!   man-in-the-middle, who must run one agreement with each side, makes the two codes differ.
//! - **Groups** ([`group`]): each sender seals its current base key to each member's public
//!   key with HPKE (RFC 9180: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-128-GCM, in `Auth`
//!   mode with the sender's key pair), bound to the sender's identity, KID and generation. A
//!   member who leaves is cut off by a new generation sealed only to those who stay; a member
//!   who joins gets a ratcheted key and cannot read what came before.
//!
//! The elliptic-curve arithmetic, ECDH, HKDF and HPKE are RustCrypto's `p256`, `hkdf`,
//! `sha2` and the `hpke` crate: nothing here is hand-rolled. Randomness comes in as
//! `&mut impl CryptoRng` ([`rand_core`] 0.10, the version `p256` and `hpke` use); with the
//! `getrandom` feature, [`os_rng`] supplies the operating system's generator. Private keys are
//! zeroized on drop and never printed.

pub mod group;
pub mod pairwise;

use core::fmt;

use p256::elliptic_curve::Generate;
use p256::elliptic_curve::sec1::ToSec1Point;
use rand_core::CryptoRng;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ratchet::RatchetError;

pub use group::{
    Envelope, GroupKeys, GroupSender, MemberEnvelope, OpenedSenderKey, open_sender_key,
    seal_sender_key,
};
pub use pairwise::{PairwiseKeys, Role, VerificationCode, agree};
pub use rand_core;

#[cfg(feature = "getrandom")]
pub use crate::os_rng;

/// A P-256 public key: a valid curve point, never the identity.
#[derive(Clone, PartialEq, Eq)]
pub struct PublicKey {
    point: p256::PublicKey,
    encoded: [u8; PublicKey::LEN],
}

impl PublicKey {
    /// The length of the uncompressed SEC1 encoding: `0x04 || x || y`.
    pub const LEN: usize = 65;

    fn from_point(point: p256::PublicKey) -> Self {
        let mut encoded = [0; Self::LEN];
        let sec1 = point.as_affine().to_sec1_point(false);
        for (e, b) in encoded.iter_mut().zip(sec1.as_bytes()) {
            *e = *b;
        }
        Self { point, encoded }
    }

    /// Decodes a SEC1 point (uncompressed or compressed). The decoder rejects anything that is
    /// not a point on the curve, and the identity.
    ///
    /// # Errors
    ///
    /// [`AgreementError::InvalidPublicKey`].
    pub fn from_sec1_bytes(bytes: &[u8]) -> Result<Self, AgreementError> {
        p256::PublicKey::from_sec1_bytes(bytes)
            .map(Self::from_point)
            .map_err(|_| AgreementError::InvalidPublicKey)
    }

    /// The uncompressed SEC1 encoding, 65 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; Self::LEN] {
        &self.encoded
    }

    /// A commitment to this key: `SHA-256("secure-frame 1.0 P-256 commitment" || key)`.
    ///
    /// A six-digit code only resists a man-in-the-middle who cannot choose his keys after
    /// seeing both real ones. Send the commitment first, the key after the peer's key arrived,
    /// and check it with [`matches_commitment`](Self::matches_commitment) (as ZRTP does).
    #[must_use]
    pub fn commitment(&self) -> [u8; 32] {
        Sha256::new()
            .chain_update(COMMITMENT_LABEL)
            .chain_update(self.encoded)
            .finalize()
            .into()
    }

    /// Whether `commitment` is this key's [`commitment`](Self::commitment) (constant time).
    #[must_use]
    pub fn matches_commitment(&self, commitment: &[u8; 32]) -> bool {
        self.commitment().ct_eq(commitment).into()
    }

    pub(crate) fn point(&self) -> &p256::PublicKey {
        &self.point
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PublicKey(")?;
        for b in &self.encoded {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// `"secure-frame 1.0 P-256 commitment"`.
const COMMITMENT_LABEL: &[u8] = b"secure-frame 1.0 P-256 commitment";

/// A P-256 key pair. The private scalar is zeroized on drop; `Debug` prints only the public
/// key. Not `Clone`.
pub struct KeyPair {
    secret: p256::SecretKey,
    public: PublicKey,
}

impl KeyPair {
    /// A new random key pair.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self::from_secret(p256::SecretKey::generate_from_rng(rng))
    }

    /// The key pair of a stored private scalar (32 bytes, big-endian), for example a
    /// long-term identity key.
    ///
    /// # Errors
    ///
    /// [`AgreementError::InvalidPrivateKey`] when the scalar is zero or not below the group
    /// order.
    pub fn from_secret_bytes(bytes: &[u8; 32]) -> Result<Self, AgreementError> {
        p256::SecretKey::from_slice(bytes)
            .map(Self::from_secret)
            .map_err(|_| AgreementError::InvalidPrivateKey)
    }

    fn from_secret(secret: p256::SecretKey) -> Self {
        let public = PublicKey::from_point(secret.public_key());
        Self { secret, public }
    }

    /// The private scalar, 32 bytes big-endian, zeroized when the returned value is dropped;
    /// for storing an identity key. Named for what it does.
    #[must_use]
    pub fn expose_secret_bytes(&self) -> zeroize::Zeroizing<[u8; 32]> {
        zeroize::Zeroizing::new(self.secret.to_bytes().into())
    }

    /// The public key.
    #[must_use]
    pub fn public_key(&self) -> &PublicKey {
        &self.public
    }

    pub(crate) fn secret(&self) -> &p256::SecretKey {
        &self.secret
    }
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyPair")
            .field("public", &self.public)
            .finish_non_exhaustive()
    }
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
    /// The sender-key layer refused: no send key yet, a generation out of range, or a key the
    /// receiver already has.
    #[error("sender key refused: {0}")]
    Ratchet(#[from] RatchetError),
    /// The envelope's key is not newer than the one installed (a replayed envelope).
    #[error("sender-key envelope is not newer than the installed key")]
    Stale,
    /// The envelope's cipher suite or ratchet bits differ from the receiver it is installed
    /// into.
    #[error("sender key for another cipher suite or ratchet layout")]
    SuiteMismatch,
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
