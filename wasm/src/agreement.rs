//! Base keys for a 1:1 call from P-256 ECDH, with a verification code to read out loud — not
//! part of RFC 9605 (key management is the application's, §5): the library's
//! `secure_frame::agreement::pairwise` behind the small shape a page needs.
//!
//! Each side makes a key pair ([`Agreement::from_secret`], fed 32 random bytes), sends its
//! public key (best after a [`commitment`](Agreement::commitment) to it), and
//! [`agree`](Agreement::agree)s with the peer's: both get the same two base keys (one per
//! direction) and the same six-digit code.

use secure_frame::CipherSuite;
use secure_frame::agreement::{KeyPair, PairwiseKeys, PublicKey, Role, agree};

pub use secure_frame::AgreementError;

/// `"initiator"` or `"responder"`: the roles must differ (the caller is usually the
/// initiator); they fix the transcript's order and which key each side sends with.
#[must_use]
pub fn role_by_name(name: &str) -> Option<Role> {
    match name {
        "initiator" => Some(Role::Initiator),
        "responder" => Some(Role::Responder),
        _ => None,
    }
}

/// One side of a pairwise agreement: a P-256 key pair in a role, for one cipher suite.
#[derive(Debug)]
pub struct Agreement {
    pair: KeyPair,
    role: Role,
    suite: CipherSuite,
}

impl Agreement {
    /// The key pair of the private scalar `secret` (32 random bytes, big-endian).
    ///
    /// # Errors
    ///
    /// [`AgreementError::InvalidPrivateKey`] for a scalar that is zero or not below the group
    /// order (for random bytes, about one in 2^32: draw again).
    pub fn from_secret(
        secret: &[u8; 32],
        role: Role,
        suite: CipherSuite,
    ) -> Result<Self, AgreementError> {
        Ok(Self {
            pair: KeyPair::from_secret_bytes(secret)?,
            role,
            suite,
        })
    }

    /// The role.
    #[must_use]
    pub fn role(&self) -> Role {
        self.role
    }

    /// The public key to send to the peer: uncompressed SEC1, 65 bytes.
    #[must_use]
    pub fn public_key(&self) -> &[u8; PublicKey::LEN] {
        self.pair.public_key().as_bytes()
    }

    /// `SHA-256("secure-frame 1.0 P-256 commitment" || public key)`: send it before the public
    /// key, so that a man-in-the-middle cannot pick his keys after seeing both (as ZRTP does).
    #[must_use]
    pub fn commitment(&self) -> [u8; 32] {
        self.pair.public_key().commitment()
    }

    /// Whether `peer_public_key` is a valid key that `commitment` commits to.
    #[must_use]
    pub fn verify_commitment(peer_public_key: &[u8], commitment: &[u8; 32]) -> bool {
        PublicKey::from_sec1_bytes(peer_public_key)
            .is_ok_and(|key| key.matches_commitment(commitment))
    }

    /// ECDH with the peer's public key (SEC1, uncompressed or compressed), then HKDF over the
    /// transcript of both keys, roles and suite: the send and receive base keys and the code.
    ///
    /// # Errors
    ///
    /// [`AgreementError::InvalidPublicKey`] for bytes that are not a P-256 point (or the
    /// identity); [`AgreementError::SameRoleOrKey`] for this side's own key;
    /// [`AgreementError::ZeroSharedSecret`].
    pub fn agree(&self, peer_public_key: &[u8]) -> Result<PairwiseKeys, AgreementError> {
        let peer = PublicKey::from_sec1_bytes(peer_public_key)?;
        agree(&self.pair, self.role, &peer, self.suite)
    }
}
