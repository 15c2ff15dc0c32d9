//! Pairwise base keys for 1:1 calls: P-256 ECDH and HKDF-SHA256 over a transcript — not part
//! of RFC 9605.
//!
//! ```text
//! transcript      = "secure-frame 1.0 P-256 pairwise"
//!                   || suite (u16, big-endian)
//!                   || 0x01 || initiator public key (65 bytes, uncompressed SEC1)
//!                   || 0x02 || responder public key (65 bytes, uncompressed SEC1)
//! transcript_hash = SHA-256(transcript)
//! shared          = x-coordinate of ECDH(my private key, peer public key)   (32 bytes, not all zero)
//! prk             = HKDF-Extract(salt = transcript_hash, IKM = shared)
//! initiator → responder base key = HKDF-Expand(prk, "secure-frame 1.0 initiator to responder", Nh)
//! responder → initiator base key = HKDF-Expand(prk, "secure-frame 1.0 responder to initiator", Nh)
//! code            = big-endian u64 of SHA-256("secure-frame 1.0 verification code" || transcript_hash)[0..8]
//!                   mod 1 000 000, shown as six digits
//! ```
//!
//! `Nh` is the hash length of the SFrame cipher suite (32 or 64), so the base key is as long as
//! a ratchet step's (RFC 9605 §5.1). The hash throughout is SHA-256, whatever the suite.

use core::fmt;

use hkdf::Hkdf;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AgreementError;
use super::{KeyPair, PublicKey};
use crate::secret::BaseKey;
use crate::suite::CipherSuite;

/// `"secure-frame 1.0 P-256 pairwise"`: the transcript's first bytes.
pub const TRANSCRIPT_LABEL: &[u8] = b"secure-frame 1.0 P-256 pairwise";
/// The HKDF label of the initiator's sending key.
pub const INITIATOR_LABEL: &[u8] = b"secure-frame 1.0 initiator to responder";
/// The HKDF label of the responder's sending key.
pub const RESPONDER_LABEL: &[u8] = b"secure-frame 1.0 responder to initiator";
/// The hash prefix of the verification code.
pub const CODE_LABEL: &[u8] = b"secure-frame 1.0 verification code";

/// Which side of a 1:1 agreement this is. The two sides must take different roles (for
/// example, the caller is the initiator); the roles fix the transcript's order and which base
/// key each side sends with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The side that started the call.
    Initiator,
    /// The side that answered.
    Responder,
}

impl Role {
    /// The other role.
    #[must_use]
    pub const fn peer(self) -> Self {
        match self {
            Self::Initiator => Self::Responder,
            Self::Responder => Self::Initiator,
        }
    }
}

/// Six decimal digits both sides compute from the transcript and read to each other.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct VerificationCode(u32);

impl VerificationCode {
    /// The code as a number below 1 000 000.
    #[must_use]
    pub const fn value(self) -> u32 {
        self.0
    }
}

impl fmt::Display for VerificationCode {
    /// Six digits, zero-padded: `042917`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:06}", self.0)
    }
}

impl fmt::Debug for VerificationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerificationCode({self})")
    }
}

/// The result of [`agree`]: a base key per direction, and what the people compare.
pub struct PairwiseKeys {
    send: BaseKey,
    receive: BaseKey,
    transcript_hash: [u8; 32],
    code: VerificationCode,
}

impl PairwiseKeys {
    /// The base key this side encrypts with (the peer's `receive`).
    #[must_use]
    pub fn send(&self) -> &BaseKey {
        &self.send
    }

    /// The base key this side decrypts with (the peer's `send`).
    #[must_use]
    pub fn receive(&self) -> &BaseKey {
        &self.receive
    }

    /// Both base keys, send first.
    #[must_use]
    pub fn into_keys(self) -> (BaseKey, BaseKey) {
        (self.send, self.receive)
    }

    /// `SHA-256(transcript)`: equal on both sides exactly when they saw the same two public
    /// keys in the same roles with the same suite.
    #[must_use]
    pub fn transcript_hash(&self) -> &[u8; 32] {
        &self.transcript_hash
    }

    /// The code to compare out loud.
    #[must_use]
    pub fn verification_code(&self) -> VerificationCode {
        self.code
    }
}

impl fmt::Debug for PairwiseKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PairwiseKeys")
            .field("verification_code", &self.code)
            .finish_non_exhaustive()
    }
}

/// `SHA-256` of the transcript, and the verification code derived from it.
fn transcript(
    suite: CipherSuite,
    initiator: &PublicKey,
    responder: &PublicKey,
) -> ([u8; 32], VerificationCode) {
    let hash: [u8; 32] = Sha256::new()
        .chain_update(TRANSCRIPT_LABEL)
        .chain_update(suite.id().to_be_bytes())
        .chain_update([0x01])
        .chain_update(initiator.as_bytes())
        .chain_update([0x02])
        .chain_update(responder.as_bytes())
        .finalize()
        .into();
    let digest = Sha256::new()
        .chain_update(CODE_LABEL)
        .chain_update(hash)
        .finalize();
    let mut first = [0u8; 8];
    for (f, d) in first.iter_mut().zip(digest.iter()) {
        *f = *d;
    }
    let code = u64::from_be_bytes(first) % 1_000_000;
    (
        hash,
        VerificationCode(u32::try_from(code).unwrap_or_default()),
    )
}

/// Agrees on a base key per direction with `peer`, this side taking `role`.
///
/// Both sides call it with their own key pair and the other's public key, and opposite roles;
/// each gets `send` equal to the other's `receive`, the same transcript hash and the same
/// verification code. Install `send` in an [`Encryptor`](crate::Encryptor) (or a
/// [`RatchetSender`](crate::RatchetSender)) and `receive` in a receiver.
///
/// # Errors
///
/// [`AgreementError::SameRoleOrKey`] when `peer` is this side's own key;
/// [`AgreementError::ZeroSharedSecret`] when the ECDH output is all zeros (checked in constant
/// time). Invalid points cannot get here: [`PublicKey`] only holds valid ones.
pub fn agree(
    me: &KeyPair,
    role: Role,
    peer: &PublicKey,
    suite: CipherSuite,
) -> Result<PairwiseKeys, AgreementError> {
    if me.public_key() == peer {
        return Err(AgreementError::SameRoleOrKey);
    }
    let shared = me.secret().diffie_hellman(peer.point());
    let raw = shared.raw_secret_bytes();
    if bool::from(raw.as_slice().ct_eq(&[0u8; 32])) {
        return Err(AgreementError::ZeroSharedSecret);
    }
    let (initiator, responder) = match role {
        Role::Initiator => (me.public_key(), peer),
        Role::Responder => (peer, me.public_key()),
    };
    let (transcript_hash, code) = transcript(suite, initiator, responder);
    let hkdf = Hkdf::<Sha256>::new(Some(&transcript_hash), raw.as_slice());
    let mut i2r = BaseKey::zeroed(suite.hash_len());
    let mut r2i = BaseKey::zeroed(suite.hash_len());
    // Nh is at most 64 bytes, far below HKDF-SHA256's 8160.
    hkdf.expand(INITIATOR_LABEL, i2r.as_mut_bytes())
        .map_err(|_| AgreementError::ZeroSharedSecret)?;
    hkdf.expand(RESPONDER_LABEL, r2i.as_mut_bytes())
        .map_err(|_| AgreementError::ZeroSharedSecret)?;
    let (send, receive) = match role {
        Role::Initiator => (i2r, r2i),
        Role::Responder => (r2i, i2r),
    };
    Ok(PairwiseKeys {
        send,
        receive,
        transcript_hash,
        code,
    })
}
