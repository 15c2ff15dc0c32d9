//! Sender keys for groups, distributed with HPKE (RFC 9180) — not part of RFC 9605.
//!
//! Each sender seals its current base key to each member's P-256 public key in an
//! [`Envelope`]. HPKE runs in `Auth` mode (the sender's own key pair authenticates it) with
//! DHKEM(P-256, HKDF-SHA256), HKDF-SHA256 and AES-128-GCM, through the `hpke` crate.
//!
//! # Envelope layout (version 1)
//!
//! ```text
//! offset   size  field
//! 0        1     version = 0x01
//! 1        2     SFrame cipher suite (u16, big-endian)
//! 3        1     R, the ratchet bits (1..=63)
//! 4        8     KID (u64, big-endian) = generation << R | ratchet step
//! 12       1     n, the sender identity length (1..=255)
//! 13       n     sender identity (the application's name for the sender)
//! 13+n     65    HPKE encapsulated key (uncompressed SEC1 P-256 point)
//! 78+n     2     m, the sealed key length (u16, big-endian; 17..=144)
//! 80+n     m     HPKE ciphertext of the base key, with its 16-byte tag
//! ```
//!
//! Nothing follows. The header (bytes `0..13+n`) is bound twice: HPKE's `info` is
//! `"secure-frame 1.0 sender key" || header || generation (u64, big-endian)` and its `aad`
//! is the header. So an envelope opens only for the sender identity, KID, generation, `R` and
//! suite it was sealed for, and only from the sender's key pair: it cannot be replayed as
//! another sender's, another KID's or another generation's key. Replaying the same envelope
//! is caught by the receiver ([`OpenedSenderKey::install_into`] refuses keys that are not
//! newer).

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use core::fmt;

use hpke::aead::AesGcm128;
use hpke::kdf::HkdfSha256;
use hpke::kem::DhP256HkdfSha256;
use hpke::{Deserializable, OpModeR, OpModeS, Serializable};
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::{AgreementError, EnvelopeError};
use super::{KeyPair, PublicKey};
use crate::header::KeyId;
use crate::ratchet::RatchetError;
use crate::ratchet::{RatchetBits, RatchetReceiver, RatchetSender, SenderKeyHolder, SenderKeyId};
use crate::secret::BaseKey;
use crate::suite::CipherSuite;

type Kem = DhP256HkdfSha256;

/// The envelope version this build writes and reads.
pub const ENVELOPE_VERSION: u8 = 1;
/// The HPKE `info` prefix.
pub const INFO_LABEL: &[u8] = b"secure-frame 1.0 sender key";
/// The AES-128-GCM tag length.
const TAG_LEN: usize = 16;
/// Fixed bytes before the sender identity.
const FIXED_HEAD: usize = 13;

/// A parsed sender-key envelope, borrowing its fields from the bytes (see the module docs for
/// the layout). Parsing checks the layout only; [`open_sender_key`] authenticates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Envelope<'a> {
    /// The SFrame cipher suite of the sealed key.
    pub suite: CipherSuite,
    /// `R` of the sender's KIDs.
    pub ratchet_bits: RatchetBits,
    /// The KID the sealed key is for.
    pub key_id: KeyId,
    /// The sender's identity.
    pub sender_id: &'a [u8],
    /// The HPKE encapsulated key.
    pub encapsulated_key: &'a [u8],
    /// The HPKE ciphertext and tag.
    pub sealed: &'a [u8],
    /// `bytes[0..13+n]`, bound into HPKE.
    header: &'a [u8],
}

/// A borrowed cursor over the envelope bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, len: usize) -> Result<&'a [u8], EnvelopeError> {
        let (head, rest) = self
            .0
            .split_at_checked(len)
            .ok_or(EnvelopeError::Truncated)?;
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], EnvelopeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

impl<'a> Envelope<'a> {
    /// Parses an envelope.
    ///
    /// # Errors
    ///
    /// [`EnvelopeError`]: truncated input, an unknown version or suite, `R` out of range, an
    /// empty sender identity, an encapsulated key that is not a P-256 point, a sealed key of
    /// impossible length, or trailing bytes.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, EnvelopeError> {
        let mut r = Reader(bytes);
        let [version] = r.array()?;
        if version != ENVELOPE_VERSION {
            return Err(EnvelopeError::Version(version));
        }
        let suite_id = u16::from_be_bytes(r.array()?);
        let suite =
            CipherSuite::from_id(suite_id).map_err(|_| EnvelopeError::CipherSuite(suite_id))?;
        let [bits] = r.array()?;
        let ratchet_bits = RatchetBits::new(bits).map_err(|_| EnvelopeError::RatchetBits)?;
        let key_id = KeyId(u64::from_be_bytes(r.array()?));
        let [id_len] = r.array()?;
        if id_len == 0 {
            return Err(EnvelopeError::SenderId);
        }
        let sender_id = r.take(usize::from(id_len))?;
        let header = bytes
            .get(..FIXED_HEAD + usize::from(id_len))
            .ok_or(EnvelopeError::Truncated)?;
        let encapsulated_key = r.take(PublicKey::LEN)?;
        PublicKey::from_sec1_bytes(encapsulated_key).map_err(|_| EnvelopeError::EncapsulatedKey)?;
        let sealed_len = usize::from(u16::from_be_bytes(r.array()?));
        if !(TAG_LEN + 1..=TAG_LEN + BaseKey::MAX_LEN).contains(&sealed_len) {
            return Err(EnvelopeError::SealedKeyLength);
        }
        let sealed = r.take(sealed_len)?;
        if !r.0.is_empty() {
            return Err(EnvelopeError::TrailingBytes);
        }
        Ok(Self {
            suite,
            ratchet_bits,
            key_id,
            sender_id,
            encapsulated_key,
            sealed,
            header,
        })
    }

    /// The key generation and ratchet step of [`key_id`](Self::key_id).
    #[must_use]
    pub fn sender_key_id(&self) -> SenderKeyId {
        SenderKeyId::from_key_id(self.key_id, self.ratchet_bits)
    }
}

/// The envelope header: bytes `0..13+n`.
fn header(
    suite: CipherSuite,
    bits: RatchetBits,
    kid: KeyId,
    sender_id: &[u8],
) -> Result<Vec<u8>, AgreementError> {
    let id_len = u8::try_from(sender_id.len()).map_err(|_| AgreementError::SenderIdLength)?;
    if id_len == 0 {
        return Err(AgreementError::SenderIdLength);
    }
    let mut out = Vec::with_capacity(FIXED_HEAD + sender_id.len() + PublicKey::LEN + 2 + 160);
    out.push(ENVELOPE_VERSION);
    out.extend_from_slice(&suite.id().to_be_bytes());
    out.push(bits.get());
    out.extend_from_slice(&kid.0.to_be_bytes());
    out.push(id_len);
    out.extend_from_slice(sender_id);
    Ok(out)
}

/// HPKE `info`: the label, the header, the generation.
fn info(header: &[u8], generation: u64) -> Vec<u8> {
    let mut info = Vec::with_capacity(INFO_LABEL.len() + header.len() + 8);
    info.extend_from_slice(INFO_LABEL);
    info.extend_from_slice(header);
    info.extend_from_slice(&generation.to_be_bytes());
    info
}

fn hpke_private(key: &KeyPair) -> Result<<Kem as hpke::Kem>::PrivateKey, AgreementError> {
    let bytes = key.expose_secret_bytes();
    <Kem as hpke::Kem>::PrivateKey::from_bytes(bytes.as_slice())
        .map_err(|_| AgreementError::InvalidPrivateKey)
}

fn hpke_public(key: &PublicKey) -> Result<<Kem as hpke::Kem>::PublicKey, AgreementError> {
    <Kem as hpke::Kem>::PublicKey::from_bytes(key.as_bytes())
        .map_err(|_| AgreementError::InvalidPublicKey)
}

/// Seals `base_key` — the sender's key for `key` (generation and step) — to `recipient`, as
/// the sender `sender` named `sender_id`.
///
/// # Errors
///
/// [`AgreementError::SenderIdLength`] unless `sender_id` is 1 to 255 bytes;
/// [`AgreementError::Ratchet`] when the generation does not fit `R`; [`AgreementError::Seal`] if
/// HPKE fails.
#[expect(
    clippy::too_many_arguments,
    reason = "every field of the envelope is an input"
)]
pub fn seal_sender_key<R: CryptoRng>(
    rng: &mut R,
    sender: &KeyPair,
    sender_id: &[u8],
    recipient: &PublicKey,
    suite: CipherSuite,
    bits: RatchetBits,
    key: SenderKeyId,
    base_key: &BaseKey,
) -> Result<Vec<u8>, AgreementError> {
    let kid = key.to_key_id(bits)?;
    let mut out = header(suite, bits, kid, sender_id)?;
    let info = info(&out, key.generation);
    let mode = OpModeS::Auth((hpke_private(sender)?, sender.public_key_hpke()?));
    let (encapsulated, sealed) = hpke::single_shot_seal_with_rng::<AesGcm128, HkdfSha256, Kem>(
        &mode,
        &hpke_public(recipient)?,
        &info,
        base_key.expose_secret(),
        &out,
        rng,
    )
    .map_err(|_| AgreementError::Seal)?;
    let sealed_len = u16::try_from(sealed.len()).map_err(|_| AgreementError::Seal)?;
    out.extend_from_slice(&encapsulated.to_bytes());
    out.extend_from_slice(&sealed_len.to_be_bytes());
    out.extend_from_slice(&sealed);
    Ok(out)
}

impl KeyPair {
    fn public_key_hpke(&self) -> Result<<Kem as hpke::Kem>::PublicKey, AgreementError> {
        hpke_public(self.public_key())
    }
}

/// A sender key taken out of an envelope.
pub struct OpenedSenderKey {
    /// The SFrame cipher suite.
    pub suite: CipherSuite,
    /// `R` of the sender's KIDs.
    pub ratchet_bits: RatchetBits,
    /// The generation and ratchet step the key is for.
    pub key_id: SenderKeyId,
    /// The sender's base key at that generation and step.
    pub base_key: BaseKey,
}

impl OpenedSenderKey {
    /// A receiver that follows the sender from this key on.
    ///
    /// # Errors
    ///
    /// As [`RatchetReceiver::new`].
    pub fn into_receiver(self) -> Result<RatchetReceiver, RatchetError> {
        RatchetReceiver::new(self.suite, self.ratchet_bits, self.key_id, self.base_key)
    }

    /// Installs the key of a new generation in the sender's existing receiver.
    ///
    /// Only a generation newer than the receiver's is accepted. Within a generation a receiver
    /// follows the sender's ratchet from the frames themselves, and a member who joins builds a
    /// fresh receiver with [`into_receiver`](Self::into_receiver); so an envelope of the
    /// receiver's own or an older generation can only be a replay. (Ratchet steps are carried
    /// modulo `2^R`, so an older step of the same generation could not even be told apart from a
    /// newer one.)
    ///
    /// # Errors
    ///
    /// [`AgreementError::Stale`] unless the key's generation is newer than the receiver's;
    /// [`AgreementError::SuiteMismatch`] when the suite or `R` differ from the receiver's.
    pub fn install_into(self, receiver: &mut RatchetReceiver) -> Result<(), AgreementError> {
        if self.suite != receiver.suite() || self.ratchet_bits != receiver.ratchet_bits() {
            return Err(AgreementError::SuiteMismatch);
        }
        if self.key_id.generation <= receiver.sender_key_id().generation {
            return Err(AgreementError::Stale);
        }
        receiver.install(self.key_id, self.base_key)?;
        Ok(())
    }
}

impl fmt::Debug for OpenedSenderKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedSenderKey")
            .field("suite", &self.suite)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// Opens an envelope sealed to `recipient` by the sender with public key `sender` and identity
/// `sender_id`.
///
/// # Errors
///
/// [`AgreementError::Envelope`] when the bytes are malformed; [`AgreementError::WrongSender`]
/// when the envelope names another identity; [`AgreementError::Open`] when it does not
/// authenticate (another recipient, another sender key, or altered bytes).
pub fn open_sender_key(
    recipient: &KeyPair,
    sender: &PublicKey,
    sender_id: &[u8],
    envelope: &[u8],
) -> Result<OpenedSenderKey, AgreementError> {
    let parsed = Envelope::parse(envelope)?;
    if parsed.sender_id != sender_id {
        return Err(AgreementError::WrongSender);
    }
    let key_id = parsed.sender_key_id();
    let info = info(parsed.header, key_id.generation);
    let encapsulated = <Kem as hpke::Kem>::EncappedKey::from_bytes(parsed.encapsulated_key)
        .map_err(|_| EnvelopeError::EncapsulatedKey)?;
    let mode = OpModeR::Auth(hpke_public(sender)?);
    let opened = Zeroizing::new(
        hpke::single_shot_open::<AesGcm128, HkdfSha256, Kem>(
            &mode,
            &hpke_private(recipient)?,
            &encapsulated,
            &info,
            parsed.sealed,
            parsed.header,
        )
        .map_err(|_| AgreementError::Open)?,
    );
    Ok(OpenedSenderKey {
        suite: parsed.suite,
        ratchet_bits: parsed.ratchet_bits,
        key_id,
        // The parser bounds the sealed length to 17..=144, so the key is 1 to 128 bytes, which
        // `BaseKey::new` accepts; should it not, the envelope is refused as malformed.
        base_key: BaseKey::new(&opened).map_err(|_| EnvelopeError::SealedKeyLength)?,
    })
}

/// An envelope for one member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberEnvelope {
    /// The member's identity.
    pub member_id: Vec<u8>,
    /// The sealed key, for that member only.
    pub envelope: Vec<u8>,
}

/// The key distribution of one sender in a group with sender keys: its identity key pair and
/// name, and the members it seals its keys to. It holds no key itself: every call is given the
/// [`SenderKeyHolder`] that sends the frames — a [`SenderKeySession`](crate::SenderKeySession)
/// or a bare [`RatchetSender`] — and seals *that* key, so one key has exactly one
/// counter-owning encryptor.
///
/// - [`add_member`](Self::add_member) ratchets (the joiner cannot read earlier frames) and seals
///   the new key to the joiner only; the others follow the ratchet by themselves.
/// - [`remove_member`](Self::remove_member) starts a new generation from fresh randomness and
///   seals it to every remaining member only: the one who left cannot decrypt from then on.
///
/// ```
/// # #[cfg(feature = "getrandom")] {
/// use secure_frame::agreement::{GroupKeys, KeyPair, open_sender_key, os_rng};
/// use secure_frame::{CipherSuite, ParticipantId, SenderKeyLayout, SenderKeySession};
///
/// let suite = CipherSuite::AesGcm128Sha256;
/// let mut rng = os_rng();
/// // Alice (participant 0) sends; her sender key is her session's.
/// let mut alice = SenderKeySession::new(suite, SenderKeyLayout::default(), ParticipantId(0))?;
/// let mut alice_keys = GroupKeys::new(KeyPair::generate(&mut rng), b"alice")?;
/// // Bob (participant 1) joins: Alice's key reaches him sealed to his public key.
/// let bob_pair = KeyPair::generate(&mut rng);
/// let mut bob = SenderKeySession::new(suite, SenderKeyLayout::default(), ParticipantId(1))?;
/// let envelope =
///     alice_keys.add_member(&mut rng, &mut alice, b"bob", bob_pair.public_key().clone())?;
/// let opened =
///     open_sender_key(&bob_pair, alice_keys.identity().public_key(), b"alice", &envelope)?;
/// bob.add_participant(ParticipantId(0), opened.key_id, &opened.base_key)?;
///
/// let mut frame = b"hello bob".to_vec();
/// alice.protect(b"", &mut frame)?;
/// let opened = bob.unprotect(b"", &mut frame)?.decrypted().ok_or("not decrypted")?;
/// assert_eq!((opened.sender, &*opened.plaintext), (ParticipantId(0), &b"hello bob"[..]));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct GroupKeys {
    identity: KeyPair,
    sender_id: Vec<u8>,
    members: BTreeMap<Vec<u8>, PublicKey>,
}

impl GroupKeys {
    /// The key distribution of the sender named `sender_id`, with no members yet.
    ///
    /// # Errors
    ///
    /// [`AgreementError::SenderIdLength`] unless `sender_id` is 1 to 255 bytes.
    pub fn new(identity: KeyPair, sender_id: &[u8]) -> Result<Self, AgreementError> {
        if sender_id.is_empty() || sender_id.len() > usize::from(u8::MAX) {
            return Err(AgreementError::SenderIdLength);
        }
        Ok(Self {
            identity,
            sender_id: sender_id.to_vec(),
            members: BTreeMap::new(),
        })
    }

    /// This sender's identity key pair.
    #[must_use]
    pub fn identity(&self) -> &KeyPair {
        &self.identity
    }

    /// This sender's identity.
    #[must_use]
    pub fn sender_id(&self) -> &[u8] {
        &self.sender_id
    }

    /// The members' identities, in order.
    pub fn members(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.members.keys().map(Vec::as_slice)
    }

    fn seal_current<R: CryptoRng, H: SenderKeyHolder + ?Sized>(
        &self,
        rng: &mut R,
        holder: &H,
        recipient: &PublicKey,
    ) -> Result<Vec<u8>, AgreementError> {
        let (key, base_key) = holder
            .current_key()
            .ok_or(AgreementError::Ratchet(RatchetError::NoSendKey))?;
        seal_sender_key(
            rng,
            &self.identity,
            &self.sender_id,
            recipient,
            holder.suite(),
            holder.ratchet_bits(),
            key,
            base_key,
        )
    }

    /// Seals the holder's current key to every member.
    ///
    /// # Errors
    ///
    /// [`AgreementError::Ratchet`] (`NoSendKey`) when the holder has no key yet; as
    /// [`seal_sender_key`].
    pub fn seal_to_all<R: CryptoRng, H: SenderKeyHolder + ?Sized>(
        &self,
        rng: &mut R,
        holder: &H,
    ) -> Result<Vec<MemberEnvelope>, AgreementError> {
        self.members
            .iter()
            .map(|(id, public)| {
                Ok(MemberEnvelope {
                    member_id: id.clone(),
                    envelope: self.seal_current(rng, holder, public)?,
                })
            })
            .collect()
    }

    /// Adds a member: ratchets the holder (a holder without a key yet gets a fresh random one),
    /// so the joiner cannot decrypt earlier frames, and returns the new key sealed to the
    /// joiner. The other members follow the ratchet by themselves. Adding a known member again
    /// just re-seals the current key to its (new) public key.
    ///
    /// # Errors
    ///
    /// As [`SenderKeyHolder::ratchet`] and [`seal_sender_key`]. On error the member is not
    /// added (the holder may have ratcheted).
    pub fn add_member<R: CryptoRng, H: SenderKeyHolder + ?Sized>(
        &mut self,
        rng: &mut R,
        holder: &mut H,
        member_id: &[u8],
        public: PublicKey,
    ) -> Result<Vec<u8>, AgreementError> {
        if holder.current_key().is_none() {
            holder.next_generation(random_base_key(rng, holder.suite()))?;
        } else if !self.members.contains_key(member_id) {
            holder.ratchet()?;
        }
        let envelope = self.seal_current(rng, holder, &public)?;
        self.members.insert(member_id.to_vec(), public);
        Ok(envelope)
    }

    /// Removes a member: starts the holder's next generation from fresh randomness and returns
    /// it sealed to each remaining member.
    ///
    /// # Errors
    ///
    /// [`AgreementError::UnknownMember`]; as [`SenderKeyHolder::next_generation`] and
    /// [`seal_sender_key`]. On error the member is still in the group.
    pub fn remove_member<R: CryptoRng, H: SenderKeyHolder + ?Sized>(
        &mut self,
        rng: &mut R,
        holder: &mut H,
        member_id: &[u8],
    ) -> Result<Vec<MemberEnvelope>, AgreementError> {
        let public = self
            .members
            .remove(member_id)
            .ok_or(AgreementError::UnknownMember)?;
        let fresh = random_base_key(rng, holder.suite());
        if let Err(e) = holder.next_generation(fresh) {
            self.members.insert(member_id.to_vec(), public);
            return Err(e.into());
        }
        self.seal_to_all(rng, holder)
    }
}

impl fmt::Debug for GroupKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupKeys")
            .field("members", &self.members.len())
            .finish_non_exhaustive()
    }
}

/// A sender in a group with sender keys that holds its own [`RatchetSender`]:
/// [`GroupKeys`] and the sender together, for applications that do not use a
/// [`SenderKeySession`](crate::SenderKeySession) (with one, use [`GroupKeys`] on the session).
pub struct GroupSender {
    keys: GroupKeys,
    sender: RatchetSender,
}

impl GroupSender {
    /// A sender named `sender_id` with a fresh random base key at generation 0.
    ///
    /// # Errors
    ///
    /// [`AgreementError::SenderIdLength`] unless `sender_id` is 1 to 255 bytes.
    pub fn new<R: CryptoRng>(
        rng: &mut R,
        identity: KeyPair,
        sender_id: &[u8],
        suite: CipherSuite,
        bits: RatchetBits,
    ) -> Result<Self, AgreementError> {
        let keys = GroupKeys::new(identity, sender_id)?;
        let sender = RatchetSender::new(suite, bits, 0, random_base_key(rng, suite))?;
        Ok(Self { keys, sender })
    }

    /// This sender's identity key pair.
    #[must_use]
    pub fn identity(&self) -> &KeyPair {
        self.keys.identity()
    }

    /// This sender's identity.
    #[must_use]
    pub fn sender_id(&self) -> &[u8] {
        self.keys.sender_id()
    }

    /// The ratcheting sender that encrypts the frames.
    pub fn sender(&mut self) -> &mut RatchetSender {
        &mut self.sender
    }

    /// The members' identities, in order.
    pub fn members(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.keys.members()
    }

    /// Seals the current key to every member.
    ///
    /// # Errors
    ///
    /// As [`seal_sender_key`].
    pub fn seal_to_all<R: CryptoRng>(
        &self,
        rng: &mut R,
    ) -> Result<Vec<MemberEnvelope>, AgreementError> {
        self.keys.seal_to_all(rng, &self.sender)
    }

    /// As [`GroupKeys::add_member`].
    ///
    /// # Errors
    ///
    /// As [`RatchetSender::ratchet`] and [`seal_sender_key`].
    pub fn add_member<R: CryptoRng>(
        &mut self,
        rng: &mut R,
        member_id: &[u8],
        public: PublicKey,
    ) -> Result<Vec<u8>, AgreementError> {
        self.keys
            .add_member(rng, &mut self.sender, member_id, public)
    }

    /// As [`GroupKeys::remove_member`].
    ///
    /// # Errors
    ///
    /// [`AgreementError::UnknownMember`]; as [`RatchetSender::new_generation`] and
    /// [`seal_sender_key`]. On error the member is still in the group.
    pub fn remove_member<R: CryptoRng>(
        &mut self,
        rng: &mut R,
        member_id: &[u8],
    ) -> Result<Vec<MemberEnvelope>, AgreementError> {
        self.keys.remove_member(rng, &mut self.sender, member_id)
    }
}

impl fmt::Debug for GroupSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupSender")
            .field("sender", &self.sender)
            .field("members", &self.keys.members.len())
            .finish_non_exhaustive()
    }
}

/// `Nh` random bytes.
fn random_base_key<R: CryptoRng>(rng: &mut R, suite: CipherSuite) -> BaseKey {
    BaseKey::generate(suite, rng)
}
