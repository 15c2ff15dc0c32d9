//! The session an application holds: my sender and a receiver per remote participant
//! (RFC 9605 Appendix A's context, with the key management of §5 and the buffering §4.4.4
//! allows). Feature `alloc`.
//!
//! One session type per key scheme, over one receiver core:
//!
//! - [`SenderKeySession`] (§5.1): my [`RatchetSender`], and one [`RatchetReceiver`] per
//!   participant, installed from the keys they distribute
//!   ([`add_participant`](SenderKeySession::add_participant)). Every participant has a KID
//!   space of its own — its [`ParticipantId`] sits in the KID, between the generation and the
//!   ratchet step ([`SenderKeyLayout`]) — so a receiver finds the sender from the KID alone and
//!   never tries two keys on one frame. Rotation: [`ratchet`](SenderKeySession::ratchet),
//!   [`set_send_key`](SenderKeySession::set_send_key).
//! - [`MlsSession`] (§5.2): one [`MlsEpochStore`] for everyone, and my [`Encryptor`] for the
//!   current epoch; rotation is [`install_epoch`](MlsSession::install_epoch) whenever the MLS
//!   group moves on. The participant is the MLS leaf index.
//!
//! Both have the same frame path. [`protect`](Session::protect),
//! [`protect_in_room`](Session::protect_in_room) and [`unprotect`](Session::unprotect) work in
//! place; `unprotect` tells a decrypted frame from one that passed through unauthenticated
//! ([`Unprotected`]). A frame whose KID is not known yet is kept in a bounded buffer and
//! decrypted as soon as its key arrives ([`poll_released`](Session::poll_released)).
//! [`stats`](Session::stats) counts what an application shows, by the W3C error classes.
//!
//! The frame format is [`FrameFormat`]: RFC 9605's whole frame, or the codec-aware container
//! ([`compat`] module) that keeps what today's browser packetizers read in the clear.
//! Both go through the same keys, counters, buffer and statistics.
//!
//! ```
//! use secure_frame::session::{SenderKeyLayout, SenderKeySession, Unprotected};
//! use secure_frame::{BaseKey, CipherSuite, ParticipantId};
//!
//! let suite = CipherSuite::AesGcm128Sha256;
//! let layout = SenderKeyLayout::default();
//! let mut alice = SenderKeySession::new(suite, layout, ParticipantId(0))?;
//! let mut bob = SenderKeySession::new(suite, layout, ParticipantId(1))?;
//!
//! // Alice picks a send key and hands it to Bob over the application's secure channel.
//! alice.set_send_key(0, BaseKey::new(&[7; 16])?)?;
//! let (key, base_key) = alice.send_key().expect("set above");
//! bob.add_participant(ParticipantId(0), key, base_key)?;
//!
//! let mut frame = b"an encoded frame".to_vec();
//! alice.protect(b"", &mut frame)?;
//! match bob.unprotect(b"", &mut frame)? {
//!     Unprotected::Decrypted(opened) => {
//!         assert_eq!(opened.sender, ParticipantId(0));
//!         assert_eq!(opened.plaintext, b"an encoded frame");
//!     }
//!     Unprotected::PassedThrough { .. } => unreachable!("RFC 9605 frames never pass through"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::fmt;

use crate::aead::MAX_METADATA_LEN;
use crate::codec::{self, Codec, Policy};
use crate::compat::{
    self, CompatDecryptError, CompatDecryptor, CompatEncryptError, Opened, PassThrough, Read,
    Refused, SealScratch,
};
use crate::decryptor::{Ciphertext, DecryptError, ErrorKind, KeyLease, ReceiveKeys};
use crate::encryptor::{EncryptError, Encryptor};
use crate::header::{Header, HeaderError, KeyId};
use crate::mls::MlsError;
use crate::mls::{EpochInstalled, MlsEpochStore, MlsExporter, MlsKeyId, MlsKidLayout, MlsLease};
use crate::ratchet::RatchetError;
use crate::ratchet::{
    RatchetBits, RatchetLease, RatchetReceiver, RatchetSender, SenderKeyHolder, SenderKeyId,
};
use crate::replay::ReplayWindow;
use crate::secret::BaseKey;
use crate::suite::CipherSuite;

/// How a media frame becomes an SFrame ciphertext.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FrameFormat {
    /// RFC 9605 §4.2: `header || AEAD(whole frame)`, for SFrame-aware packetization.
    #[default]
    Rfc9605,
    /// The codec-aware container v2 ([`compat`], not RFC 9605) for frames of
    /// this codec: the bytes codec-specific packetizers read stay in the clear, authenticated.
    /// The codec's [`Policy`] is set with [`Session::with_codec_policy`].
    CodecAware(Codec),
}

/// A participant of a session: its index in the session's KID space. In a
/// [`SenderKeySession`] the application assigns them (0, 1, 2, … in join order, say) and maps
/// its own names (SSRC, user id) to them; in an [`MlsSession`] it is the MLS leaf index.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ParticipantId(pub u64);

impl fmt::Display for ParticipantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What an application can show about a session. Every counter only grows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct SessionStats {
    /// Frames encrypted.
    pub frames_protected: u64,
    /// Frames that authenticated and decrypted (including released buffered frames).
    pub frames_ok: u64,
    /// Frames returned unauthenticated because the application opted in (empty frames,
    /// unprotected frames in the codec-aware format).
    pub passed_through: u64,
    /// Errors of the W3C class `authentication`: forged, corrupted, under the wrong key, or
    /// replayed.
    pub authentication_errors: u64,
    /// Of those, frames refused by the anti-replay window.
    pub replays: u64,
    /// Errors of the W3C class `keyID`: frames whose KID no key matched (when they arrived).
    pub key_id_errors: u64,
    /// Errors of the W3C class `syntax`: malformed headers, trailers, lengths.
    pub syntax_errors: u64,
    /// Unknown-KID frames put in the buffer.
    pub buffered: u64,
    /// Buffered frames decrypted once their key arrived.
    pub released: u64,
    /// Buffered frames dropped: evicted for room, or failed when retried.
    pub dropped_from_buffer: u64,
}

impl SessionStats {
    fn count(&mut self, error: UnprotectError) {
        let counter = match error.kind() {
            ErrorKind::Authentication => &mut self.authentication_errors,
            ErrorKind::KeyId => &mut self.key_id_errors,
            ErrorKind::Syntax => &mut self.syntax_errors,
        };
        *counter = counter.saturating_add(1);
        if matches!(error, UnprotectError::Replay(_)) {
            self.replays = self.replays.saturating_add(1);
        }
    }
}

/// A frame [`Session::unprotect`] authenticated and decrypted.
#[derive(Debug, PartialEq, Eq)]
pub struct Decrypted<'f> {
    /// Who sent it (the KID says so; the tag proves it was sealed with that sender's key).
    pub sender: ParticipantId,
    /// The KID it carried.
    pub key_id: KeyId,
    /// The plaintext, a sub-slice of the frame.
    pub plaintext: &'f mut [u8],
}

/// What [`Session::unprotect`] made of a frame: decrypted, or passed through unauthenticated
/// because the application opted in. The two never look alike.
#[derive(Debug, PartialEq, Eq)]
pub enum Unprotected<'f> {
    /// Authenticated and decrypted.
    Decrypted(Decrypted<'f>),
    /// Returned as received, unauthenticated: nothing about it comes from a key holder.
    PassedThrough {
        /// Why it passed.
        reason: PassThrough,
        /// The frame as received.
        frame: &'f mut [u8],
    },
}

impl<'f> Unprotected<'f> {
    /// The decrypted frame, if it was decrypted.
    #[must_use]
    pub fn decrypted(self) -> Option<Decrypted<'f>> {
        match self {
            Self::Decrypted(d) => Some(d),
            Self::PassedThrough { .. } => None,
        }
    }
}

/// A buffered frame decrypted after its key arrived ([`Session::poll_released`]).
#[derive(Clone, PartialEq, Eq)]
pub struct ReleasedFrame {
    /// Who sent it.
    pub sender: ParticipantId,
    /// The KID it carried.
    pub key_id: KeyId,
    /// The metadata it was received with.
    pub metadata: Vec<u8>,
    /// The plaintext.
    pub plaintext: Vec<u8>,
}

impl fmt::Debug for ReleasedFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReleasedFrame")
            .field("sender", &self.sender)
            .field("key_id", &self.key_id)
            .field("len", &self.plaintext.len())
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Key schemes
// ---------------------------------------------------------------------------------------------

mod sealed {
    pub trait Sealed {}
}

/// A session's key scheme: [`SenderKeys`] or [`Mls`]. Sealed; it is the session's receive
/// key store ([`ReceiveKeys`], by participant) and holds my send key.
pub trait KeyScheme: ReceiveKeys<Sender = ParticipantId> + sealed::Sealed + fmt::Debug {
    /// The participant whose KID space `kid` is in, without any key lookup.
    fn sender_of(&self, kid: KeyId) -> Option<ParticipantId>;
    /// My send key, once one is installed.
    fn encryptor(&mut self) -> Option<&mut Encryptor>;
    /// My send key, to read.
    fn encryptor_ref(&self) -> Option<&Encryptor>;
    /// The KID my next frame carries.
    fn send_key_id(&self) -> Option<KeyId>;
    /// Gives receive keys installed from now on `window`.
    fn set_replay_window(&mut self, window: ReplayWindow);
}

/// Where the sender-key KIDs of a [`SenderKeySession`] keep their parts (RFC 9605 §5.1, with the
/// participant added): `KID = ((generation << S) | (participant + 1)) << R | ratchet step`.
///
/// The participant's `S` bits make every participant's KIDs its own, so a receiver finds the
/// sender from the KID alone. The field holds the participant plus one, so that it is never
/// zero: with the default `S = 8`, `R = 8` (255 participants, 2-byte KIDs in generation 0,
/// 3-byte KIDs up to generation 255) KIDs stay short.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SenderKeyLayout {
    ratchet_bits: RatchetBits,
    participant_bits: u8,
}

impl Default for SenderKeyLayout {
    fn default() -> Self {
        Self {
            ratchet_bits: RatchetBits::DEFAULT,
            participant_bits: 8,
        }
    }
}

impl SenderKeyLayout {
    /// `R = ratchet_bits`, `S = participant_bits`.
    ///
    /// # Errors
    ///
    /// [`SessionKeyError::Ratchet`] ([`RatchetError::Bits`]) unless `ratchet_bits` is 1 to 63;
    /// [`SessionKeyError::ParticipantBits`] unless `participant_bits` is at most 31 and `R + S`
    /// at most 62 (leaving a generation bit).
    pub const fn new(ratchet_bits: u8, participant_bits: u8) -> Result<Self, SessionKeyError> {
        let ratchet_bits = match RatchetBits::new(ratchet_bits) {
            Ok(bits) => bits,
            Err(e) => return Err(SessionKeyError::Ratchet(e)),
        };
        if participant_bits > 31 || ratchet_bits.get() + participant_bits > 62 {
            return Err(SessionKeyError::ParticipantBits);
        }
        Ok(Self {
            ratchet_bits,
            participant_bits,
        })
    }

    /// `R`.
    #[must_use]
    pub const fn ratchet_bits(self) -> RatchetBits {
        self.ratchet_bits
    }

    /// `S`.
    #[must_use]
    pub const fn participant_bits(self) -> u8 {
        self.participant_bits
    }

    /// The most participants: `2^S - 1`.
    #[must_use]
    pub const fn max_participants(self) -> u64 {
        (1u64 << self.participant_bits) - 1
    }

    /// The participant whose KID space `kid` is in; `None` for a KID whose participant field
    /// is 0, which no participant sends.
    #[must_use]
    pub const fn participant_of(self, kid: KeyId) -> Option<ParticipantId> {
        let field = (kid.0 >> self.ratchet_bits.get()) & self.max_participants();
        match field.checked_sub(1) {
            Some(participant) => Some(ParticipantId(participant)),
            None => None,
        }
    }

    /// The generation of §5.1 that `participant`'s `generation` is: the two side by side.
    /// `participant` is below [`max_participants`](Self::max_participants) (checked by
    /// [`SenderKeySession::new`]).
    fn ratchet_generation(
        self,
        participant: ParticipantId,
        generation: u64,
    ) -> Result<u64, RatchetError> {
        let max = self.ratchet_bits.max_generation() >> self.participant_bits;
        if generation > max {
            return Err(RatchetError::GenerationOutOfRange);
        }
        Ok(generation << self.participant_bits | (participant.0 + 1))
    }
}

/// The sender-key scheme of a [`SenderKeySession`].
pub struct SenderKeys {
    layout: SenderKeyLayout,
    me: ParticipantId,
    window: ReplayWindow,
    sender: Option<RatchetSender>,
    participants: BTreeMap<ParticipantId, RatchetReceiver>,
}

impl sealed::Sealed for SenderKeys {}

impl fmt::Debug for SenderKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SenderKeys")
            .field("layout", &self.layout)
            .field("me", &self.me)
            .field("participants", &self.participants.len())
            .finish_non_exhaustive()
    }
}

/// The key a session lends for one frame: a participant's key, and who that participant is.
#[derive(Debug)]
pub struct ParticipantLease<L> {
    participant: ParticipantId,
    lease: L,
}

impl<L: KeyLease> KeyLease for ParticipantLease<L> {
    type Sender = ParticipantId;

    fn suite(&self) -> CipherSuite {
        self.lease.suite()
    }

    fn open(self, ciphertext: &mut Ciphertext<'_, '_>) -> Result<ParticipantId, DecryptError> {
        self.lease.open(ciphertext)?;
        Ok(self.participant)
    }

    fn open_frame<'f>(
        self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<(ParticipantId, &'f mut [u8]), DecryptError> {
        let participant = self.participant;
        self.lease
            .open_frame(header, header_len, metadata, frame)
            .map(|(_, plaintext)| (participant, plaintext))
    }
}

impl ReceiveKeys for SenderKeys {
    type Sender = ParticipantId;
    type Lease<'s> = ParticipantLease<RatchetLease<'s>>;

    /// One map lookup by the participant in the KID, then that participant's receiver.
    fn lend(&mut self, kid: KeyId) -> Option<Self::Lease<'_>> {
        let participant = self.layout.participant_of(kid)?;
        let lease = self.participants.get_mut(&participant)?.lend(kid)?;
        Some(ParticipantLease { participant, lease })
    }
}

impl KeyScheme for SenderKeys {
    fn sender_of(&self, kid: KeyId) -> Option<ParticipantId> {
        self.layout.participant_of(kid)
    }

    fn encryptor(&mut self) -> Option<&mut Encryptor> {
        self.sender.as_mut().map(RatchetSender::encryptor)
    }

    fn encryptor_ref(&self) -> Option<&Encryptor> {
        self.sender.as_ref().map(RatchetSender::encryptor_ref)
    }

    fn send_key_id(&self) -> Option<KeyId> {
        self.sender.as_ref().map(RatchetSender::key_id)
    }

    fn set_replay_window(&mut self, window: ReplayWindow) {
        self.window = window;
    }
}

/// The MLS scheme of an [`MlsSession`].
pub struct Mls {
    context: u64,
    sender: Option<(u64, Encryptor)>,
    store: MlsEpochStore,
}

impl sealed::Sealed for Mls {}

impl fmt::Debug for Mls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mls")
            .field("context", &self.context)
            .field("epoch", &self.sender.as_ref().map(|(epoch, _)| *epoch))
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// What [`Mls`] lends: the epoch store's key, the sender as a participant.
#[derive(Debug)]
pub struct MlsParticipantLease<'s>(MlsLease<'s>);

impl KeyLease for MlsParticipantLease<'_> {
    type Sender = ParticipantId;

    fn suite(&self) -> CipherSuite {
        self.0.suite()
    }

    fn open(self, ciphertext: &mut Ciphertext<'_, '_>) -> Result<ParticipantId, DecryptError> {
        let sender: MlsKeyId = self.0.open(ciphertext)?;
        Ok(ParticipantId(u64::from(sender.sender_index)))
    }

    fn open_frame<'f>(
        self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<(ParticipantId, &'f mut [u8]), DecryptError> {
        let (sender, plaintext) = self.0.open_frame(header, header_len, metadata, frame)?;
        Ok((ParticipantId(u64::from(sender.sender_index)), plaintext))
    }
}

impl ReceiveKeys for Mls {
    type Sender = ParticipantId;
    type Lease<'s> = MlsParticipantLease<'s>;

    fn lend(&mut self, kid: KeyId) -> Option<Self::Lease<'_>> {
        self.store.lend(kid).map(MlsParticipantLease)
    }
}

impl KeyScheme for Mls {
    fn sender_of(&self, kid: KeyId) -> Option<ParticipantId> {
        self.store
            .resolve(kid)
            .map(|id| ParticipantId(u64::from(id.sender_index)))
    }

    fn encryptor(&mut self) -> Option<&mut Encryptor> {
        self.sender.as_mut().map(|(_, encryptor)| encryptor)
    }

    fn encryptor_ref(&self) -> Option<&Encryptor> {
        self.sender.as_ref().map(|(_, encryptor)| encryptor)
    }

    fn send_key_id(&self) -> Option<KeyId> {
        self.sender
            .as_ref()
            .map(|(_, encryptor)| encryptor.key_id())
    }

    fn set_replay_window(&mut self, window: ReplayWindow) {
        self.store.set_replay_window(window);
    }
}

/// Only the keys of the participant the transport named.
struct FromParticipant<'k, K> {
    keys: &'k mut K,
    from: Option<ParticipantId>,
}

impl<K: KeyScheme> ReceiveKeys for FromParticipant<'_, K> {
    type Sender = ParticipantId;
    type Lease<'s>
        = K::Lease<'s>
    where
        Self: 's;

    fn lend(&mut self, kid: KeyId) -> Option<K::Lease<'_>> {
        if let Some(from) = self.from {
            if self.keys.sender_of(kid) != Some(from) {
                return None;
            }
        }
        self.keys.lend(kid)
    }
}

// ---------------------------------------------------------------------------------------------
// The session
// ---------------------------------------------------------------------------------------------

/// The codec-aware format's state: the codec rules, the receiver, the sender's buffers.
struct CodecAware {
    codec: Codec,
    policy: Policy,
    receiver: CompatDecryptor,
    scratch: SealScratch,
    sealed: Vec<u8>,
}

#[allow(
    clippy::large_enum_variant,
    reason = "one per session, and the RFC 9605 format is the common one (the lint fires or not \
              with the target's pointer width)"
)]
enum Framing {
    Rfc9605,
    CodecAware(CodecAware),
}

struct Pending {
    /// The participant the transport named, kept for the retry.
    from: Option<ParticipantId>,
    metadata: Vec<u8>,
    frame: Vec<u8>,
}

/// The frames waiting for their key, the frames released since, and the counters: the part of
/// a session that is the same whatever the key scheme.
struct ReceiverCore {
    pending: VecDeque<Pending>,
    pending_bytes: usize,
    max_pending_frames: usize,
    max_pending_bytes: usize,
    released: VecDeque<ReleasedFrame>,
    stats: SessionStats,
}

/// What an application holds for one media stream: my sender, everyone's receivers, the
/// buffer of frames waiting for keys, and the counters. One type per key scheme:
/// [`SenderKeySession`] and [`MlsSession`].
pub struct Session<S: KeyScheme> {
    suite: CipherSuite,
    framing: Framing,
    keys: S,
    core: ReceiverCore,
}

/// A session of sender keys (RFC 9605 §5.1).
pub type SenderKeySession = Session<SenderKeys>;

/// A session of MLS epochs (RFC 9605 §5.2).
pub type MlsSession = Session<Mls>;

impl SenderKeySession {
    /// A sender-key session for participant `me`, whose KIDs are laid out by `layout`. It has
    /// no send key until [`set_send_key`](Self::set_send_key).
    ///
    /// # Errors
    ///
    /// [`SessionKeyError::ParticipantOutOfRange`] unless `me` is below
    /// [`SenderKeyLayout::max_participants`].
    pub fn new(
        suite: CipherSuite,
        layout: SenderKeyLayout,
        me: ParticipantId,
    ) -> Result<Self, SessionKeyError> {
        if me.0 >= layout.max_participants() {
            return Err(SessionKeyError::ParticipantOutOfRange(me));
        }
        Ok(Self::with_keys(
            suite,
            SenderKeys {
                layout,
                me,
                window: ReplayWindow::default(),
                sender: None,
                participants: BTreeMap::new(),
            },
        ))
    }

    /// The KID layout.
    #[must_use]
    pub fn layout(&self) -> SenderKeyLayout {
        self.keys.layout
    }

    /// Sets my send key: `base_key` at `generation`, ratchet step 0. The first call starts
    /// sending; later calls start a new generation (for example after a member left), which
    /// must be higher than the current one so that no KID is reused with a restarted counter.
    /// Distribute the key with [`send_key`](Self::send_key). Returns the new KID.
    ///
    /// # Errors
    ///
    /// [`RatchetError::NotNewer`]; [`RatchetError::GenerationOutOfRange`].
    pub fn set_send_key(
        &mut self,
        generation: u64,
        base_key: BaseKey,
    ) -> Result<KeyId, RatchetError> {
        let keys = &mut self.keys;
        let full = keys.layout.ratchet_generation(keys.me, generation)?;
        if keys.sender.as_ref().is_some_and(|s| full <= s.generation()) {
            return Err(RatchetError::NotNewer);
        }
        let new = RatchetSender::new(self.suite, keys.layout.ratchet_bits, full, base_key)?;
        let kid = new.key_id();
        keys.sender = Some(new);
        Ok(kid)
    }

    /// Ratchets my send key one step (RFC 9605 §5.1), for example when someone joined: they
    /// get the new key and cannot read earlier frames; the others follow by themselves.
    /// Returns the new KID.
    ///
    /// # Errors
    ///
    /// [`RatchetError::NoSendKey`] before [`set_send_key`](Self::set_send_key); as
    /// [`RatchetSender::ratchet`].
    pub fn ratchet(&mut self) -> Result<KeyId, RatchetError> {
        self.keys
            .sender
            .as_mut()
            .ok_or(RatchetError::NoSendKey)?
            .ratchet()
    }

    /// My current sender key and its base key, to distribute to participants (over the
    /// application's secure channel, for example [`agreement`](crate::agreement)'s envelopes).
    #[must_use]
    pub fn send_key(&self) -> Option<(SenderKeyId, &BaseKey)> {
        self.keys
            .sender
            .as_ref()
            .map(|s| (s.sender_key_id(), s.base_key()))
    }

    /// My ratchet sender, to read: its keys change only through
    /// [`set_send_key`](Self::set_send_key) and [`ratchet`](Self::ratchet), which keep every
    /// KID in my KID space (a generation started on the sender itself would move into the
    /// next participant's).
    #[must_use]
    pub fn ratchet_sender(&self) -> Option<&RatchetSender> {
        self.keys.sender.as_ref()
    }

    /// The generation my current send key is in (as given to
    /// [`set_send_key`](Self::set_send_key), without the participant bits).
    #[must_use]
    pub fn send_generation(&self) -> Option<u64> {
        let bits = self.keys.layout.participant_bits;
        self.keys.sender.as_ref().map(|s| s.generation() >> bits)
    }

    /// Installs a key `participant` distributed (what its [`send_key`](Self::send_key) gave):
    /// the first one creates its receiver; later ones (a new generation, or the ratcheted key
    /// given on join) are installed in it. Buffered frames that the key opens are released.
    ///
    /// # Errors
    ///
    /// [`SessionKeyError::OwnParticipant`] when `participant` is me (a key is encrypt-only or
    /// decrypt-only, RFC 9605 §4.4.1); [`SessionKeyError::ForeignKeyId`] when `key` is not in
    /// `participant`'s KID space; [`SessionKeyError::Ratchet`] as [`RatchetReceiver::new`] and
    /// [`RatchetReceiver::install`].
    pub fn add_participant(
        &mut self,
        participant: ParticipantId,
        key: SenderKeyId,
        base_key: &BaseKey,
    ) -> Result<(), SessionKeyError> {
        let base_key = base_key.duplicate();
        let keys = &mut self.keys;
        let bits = keys.layout.ratchet_bits;
        if participant == keys.me {
            return Err(SessionKeyError::OwnParticipant);
        }
        let kid = key.to_key_id(bits)?;
        if keys.layout.participant_of(kid) != Some(participant) {
            return Err(SessionKeyError::ForeignKeyId(kid));
        }
        if let Some(receiver) = keys.participants.get_mut(&participant) {
            receiver.install(key, base_key)?;
        } else {
            let receiver = RatchetReceiver::new(self.suite, bits, key, base_key)?
                .with_replay_window(keys.window);
            keys.participants.insert(participant, receiver);
        }
        self.retry_pending();
        Ok(())
    }

    /// The receiver of `participant`.
    #[must_use]
    pub fn participant(&self, participant: ParticipantId) -> Option<&RatchetReceiver> {
        self.keys.participants.get(&participant)
    }

    /// The participants with a receiver, ascending.
    pub fn participants(&self) -> impl Iterator<Item = ParticipantId> + '_ {
        self.keys.participants.keys().copied()
    }

    /// Removes `participant`'s receiver (its keys are zeroized). Returns whether it existed.
    /// Rotate my own key too ([`set_send_key`](Self::set_send_key) with a fresh key sent to
    /// those who stay): RFC 9605 §7.3.
    pub fn remove_participant(&mut self, participant: ParticipantId) -> bool {
        self.keys.participants.remove(&participant).is_some()
    }
}

impl SenderKeyHolder for SenderKeySession {
    fn suite(&self) -> CipherSuite {
        self.suite
    }

    fn ratchet_bits(&self) -> RatchetBits {
        self.keys.layout.ratchet_bits
    }

    fn current_key(&self) -> Option<(SenderKeyId, &BaseKey)> {
        self.send_key()
    }

    fn ratchet(&mut self) -> Result<KeyId, RatchetError> {
        SenderKeySession::ratchet(self)
    }

    /// [`set_send_key`](SenderKeySession::set_send_key) at the generation after the current
    /// one (0 for the first key).
    fn next_generation(&mut self, base_key: BaseKey) -> Result<KeyId, RatchetError> {
        let generation = match self.send_generation() {
            Some(g) => g.checked_add(1).ok_or(RatchetError::GenerationOutOfRange)?,
            None => 0,
        };
        self.set_send_key(generation, base_key)
    }
}

impl MlsSession {
    /// An MLS session (RFC 9605 §5.2) with `epoch_bits` epoch bits; this member sends with
    /// KID context `context` (0 gives the shortest KIDs). It has no keys until
    /// [`install_epoch`](Self::install_epoch).
    ///
    /// # Errors
    ///
    /// [`MlsError::Bits`] unless `epoch_bits` is 1 to 32.
    pub fn new(suite: CipherSuite, epoch_bits: u8, context: u64) -> Result<Self, MlsError> {
        Ok(Self::with_keys(
            suite,
            Mls {
                context,
                sender: None,
                store: MlsEpochStore::new(suite, epoch_bits)?,
            },
        ))
    }

    /// Moves to MLS `epoch`: installs its base key for receiving (evicting an epoch with the
    /// same low `E` bits, and the oldest beyond the bound) and switches my sending KID to
    /// (`context`, `own_index`, `epoch`), counter 0. Buffered frames of the epoch are released.
    ///
    /// # Errors
    ///
    /// [`MlsError::NotNewer`] unless `epoch` is above the epoch I send in; as
    /// [`MlsEpochStore::install_epoch`] and [`MlsKeyId::to_key_id`]. On error nothing changes.
    pub fn install_epoch(
        &mut self,
        epoch: u64,
        group_size: u32,
        own_index: u32,
        base_key: BaseKey,
    ) -> Result<EpochInstalled, MlsError> {
        let keys = &mut self.keys;
        if keys
            .sender
            .as_ref()
            .is_some_and(|(current, _)| epoch <= *current)
        {
            return Err(MlsError::NotNewer);
        }
        let layout = MlsKidLayout::for_group(keys.store.epoch_bits(), group_size)?;
        let kid = MlsKeyId {
            context: keys.context,
            sender_index: own_index,
            epoch,
        }
        .to_key_id(layout)?;
        let encryptor = Encryptor::new(self.suite, kid, &base_key);
        let installed = keys
            .store
            .install_epoch(epoch, group_size, Some(own_index), base_key)?;
        keys.sender = Some((epoch, encryptor));
        self.retry_pending();
        Ok(installed)
    }

    /// [`install_epoch`](Self::install_epoch) with the base key taken from `exporter`
    /// (`MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`).
    ///
    /// # Errors
    ///
    /// [`MlsError::Exporter`] when the exporter fails; as [`install_epoch`](Self::install_epoch).
    pub fn install_epoch_from<X: MlsExporter + ?Sized>(
        &mut self,
        exporter: &X,
        epoch: u64,
        group_size: u32,
        own_index: u32,
    ) -> Result<EpochInstalled, MlsError> {
        let base_key =
            crate::mls::epoch_base_key(exporter, self.suite).map_err(|_| MlsError::Exporter)?;
        self.install_epoch(epoch, group_size, own_index, base_key)
    }

    /// The MLS epoch store.
    #[must_use]
    pub fn mls_store(&self) -> &MlsEpochStore {
        &self.keys.store
    }
}

impl<S: KeyScheme> Session<S> {
    /// The default bound on buffered frames.
    pub const DEFAULT_MAX_PENDING_FRAMES: usize = 32;
    /// The default bound on buffered bytes.
    pub const DEFAULT_MAX_PENDING_BYTES: usize = 1 << 20;

    fn with_keys(suite: CipherSuite, keys: S) -> Self {
        Self {
            suite,
            framing: Framing::Rfc9605,
            keys,
            core: ReceiverCore {
                pending: VecDeque::new(),
                pending_bytes: 0,
                max_pending_frames: Self::DEFAULT_MAX_PENDING_FRAMES,
                max_pending_bytes: Self::DEFAULT_MAX_PENDING_BYTES,
                released: VecDeque::new(),
                stats: SessionStats::default(),
            },
        }
    }

    /// Sets the frame format. The codec-aware format's receiver accepts 0-byte frames exactly
    /// for the codecs whose senders pass them through ([`CompatDecryptor::for_codec`]).
    #[must_use]
    pub fn with_format(mut self, format: FrameFormat) -> Self {
        self.framing = match format {
            FrameFormat::Rfc9605 => Framing::Rfc9605,
            FrameFormat::CodecAware(codec) => {
                let accept_unprotected = match &self.framing {
                    Framing::CodecAware(c) => c.receiver.accepts_unprotected(),
                    Framing::Rfc9605 => false,
                };
                let policy = match &self.framing {
                    Framing::CodecAware(c) => c.policy.clone(),
                    Framing::Rfc9605 => Policy::default(),
                };
                Framing::CodecAware(CodecAware {
                    codec,
                    receiver: CompatDecryptor::for_codec(codec)
                        .with_max_ranges(policy.max_ranges)
                        .accept_unprotected(accept_unprotected),
                    policy,
                    scratch: SealScratch::default(),
                    sealed: Vec::new(),
                })
            }
        };
        self
    }

    /// Sets the codec rules of the codec-aware format (see [`Policy`]); no effect in RFC 9605
    /// format.
    #[must_use]
    pub fn with_codec_policy(mut self, policy: Policy) -> Self {
        if let Framing::CodecAware(c) = &mut self.framing {
            c.receiver = core::mem::take(&mut c.receiver).with_max_ranges(policy.max_ranges);
            c.policy = policy;
        }
        self
    }

    /// Codec-aware format: whether a frame without the container trailer is returned as
    /// [`Unprotected::PassedThrough`] (for example an SFU-injected frame) instead of refused
    /// with [`UnprotectError::NotProtected`]. Off by default; no effect in RFC 9605 format.
    #[must_use]
    pub fn accept_unprotected(mut self, accept: bool) -> Self {
        if let Framing::CodecAware(c) = &mut self.framing {
            c.receiver = core::mem::take(&mut c.receiver).accept_unprotected(accept);
        }
        self
    }

    /// Codec-aware format: whether 0-byte frames pass through (the default follows the codec,
    /// see [`with_format`](Self::with_format)).
    #[must_use]
    pub fn accept_empty(mut self, accept: bool) -> Self {
        if let Framing::CodecAware(c) = &mut self.framing {
            c.receiver = core::mem::take(&mut c.receiver).accept_empty(accept);
        }
        self
    }

    /// Bounds the buffer of frames waiting for their key. `max_frames = 0` turns buffering
    /// off.
    #[must_use]
    pub fn with_pending_limits(mut self, max_frames: usize, max_bytes: usize) -> Self {
        self.core.max_pending_frames = max_frames;
        self.core.max_pending_bytes = max_bytes;
        self
    }

    /// Gives receive keys installed from now on `window`.
    #[must_use]
    pub fn with_replay_window(mut self, window: ReplayWindow) -> Self {
        self.keys.set_replay_window(window);
        self
    }

    /// The cipher suite.
    #[must_use]
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The frame format.
    #[must_use]
    pub fn format(&self) -> FrameFormat {
        match &self.framing {
            Framing::Rfc9605 => FrameFormat::Rfc9605,
            Framing::CodecAware(c) => FrameFormat::CodecAware(c.codec),
        }
    }

    /// The key scheme: my send key and everyone's receive keys.
    #[must_use]
    pub fn keys(&self) -> &S {
        &self.keys
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> SessionStats {
        self.core.stats
    }

    /// The number of frames waiting for their key.
    #[must_use]
    pub fn pending_frames(&self) -> usize {
        self.core.pending.len()
    }

    /// The bytes of the frames waiting for their key (and their metadata).
    #[must_use]
    pub fn pending_bytes(&self) -> usize {
        self.core.pending_bytes
    }

    /// Drops every frame waiting for its key.
    pub fn clear_pending(&mut self) {
        let core = &mut self.core;
        let dropped = u64::try_from(core.pending.len()).unwrap_or(u64::MAX);
        core.stats.dropped_from_buffer = core.stats.dropped_from_buffer.saturating_add(dropped);
        core.pending.clear();
        core.pending_bytes = 0;
    }

    /// The KID my next frame carries, if I have a send key.
    #[must_use]
    pub fn send_key_id(&self) -> Option<KeyId> {
        self.keys.send_key_id()
    }

    // ---- sending ----

    /// The length of the protected frame for a `plaintext_len`-byte frame in RFC 9605 format
    /// (header, ciphertext, tag), for sizing buffers; `None` before a send key is installed.
    /// In the codec-aware format the trailer depends on the frame (its range map): this is a
    /// lower bound there.
    #[must_use]
    pub fn protected_len(&self, plaintext_len: usize) -> Option<usize> {
        self.keys
            .encryptor_ref()
            .map(|e| e.ciphertext_len(plaintext_len))
    }

    /// My send key's encryptor, for counter control
    /// ([`Encryptor::advance_counter_to`], which only moves forward). Keys change only
    /// through the session, so that every KID stays in my KID space.
    pub fn send_encryptor(&mut self) -> Option<&mut Encryptor> {
        self.keys.encryptor()
    }

    /// Encrypts `frame` in place, growing it to the protected frame.
    ///
    /// In the codec-aware format the payload does not move: the opaque bytes are encrypted
    /// where they lie and the trailer is appended (give `frame` spare capacity for it —
    /// [`compat::MAX_TRAILER_LEN`] covers any — and nothing is allocated). A frame that
    /// normalization rewrites (3-byte start codes, AV1 size fields) is replaced by its
    /// normalized form. In RFC 9605 format the payload moves by the header length;
    /// [`protect_in_room`](Self::protect_in_room) avoids even that.
    ///
    /// # Errors
    ///
    /// [`ProtectError::NoSendKey`] before a send key or epoch is installed; as
    /// [`Encryptor::encrypt_in_place`]; in the codec-aware format, as
    /// [`CompatEncryptor::encrypt`](crate::compat::CompatEncryptor::encrypt). On error `frame`
    /// holds the plaintext.
    pub fn protect(&mut self, metadata: &[u8], frame: &mut Vec<u8>) -> Result<(), ProtectError> {
        let encryptor = self.keys.encryptor().ok_or(ProtectError::NoSendKey)?;
        match &mut self.framing {
            Framing::Rfc9605 => encryptor.encrypt_in_place(metadata, frame)?,
            Framing::CodecAware(c) => c.seal_in_place(encryptor, metadata, frame)?,
        }
        self.protected();
        Ok(())
    }

    /// RFC 9605 format: encrypts in place without moving the payload. `buf` is
    /// `[Encryptor::HEADER_ROOM bytes][plaintext][tag room]`, as for
    /// [`Encryptor::encrypt_in_room`], with at least [`CipherSuite::tag_len`] bytes of tag
    /// room; returns the protected frame, a sub-slice of `buf` that starts inside the header
    /// room.
    ///
    /// # Errors
    ///
    /// [`ProtectError::NoSendKey`]; [`ProtectError::WrongFormat`] in the codec-aware format
    /// (its frames are normalized and grow by a trailer at the end: [`protect`](Self::protect)
    /// is in place there); as [`Encryptor::encrypt_in_room`].
    pub fn protect_in_room<'b>(
        &mut self,
        metadata: &[u8],
        buf: &'b mut [u8],
    ) -> Result<&'b mut [u8], ProtectError> {
        if !matches!(self.framing, Framing::Rfc9605) {
            return Err(ProtectError::WrongFormat);
        }
        let encryptor = self.keys.encryptor().ok_or(ProtectError::NoSendKey)?;
        let protected = encryptor.encrypt_in_room(metadata, buf)?;
        self.protected();
        Ok(protected)
    }

    /// Encrypts `plaintext` into `out`, returning the protected frame (a prefix of `out`).
    ///
    /// # Errors
    ///
    /// As [`protect`](Self::protect), plus [`EncryptError::BufferTooSmall`].
    pub fn protect_into<'o>(
        &mut self,
        metadata: &[u8],
        plaintext: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o [u8], ProtectError> {
        let encryptor = self.keys.encryptor().ok_or(ProtectError::NoSendKey)?;
        let protected = match &mut self.framing {
            Framing::Rfc9605 => encryptor.encrypt(metadata, plaintext, out)?,
            Framing::CodecAware(c) => {
                let sealed = if c.seal(encryptor, metadata, plaintext)? {
                    c.sealed.as_slice()
                } else {
                    plaintext
                };
                let needed = sealed.len();
                let prefix = out
                    .get_mut(..needed)
                    .ok_or(EncryptError::BufferTooSmall { needed })?;
                prefix.copy_from_slice(sealed);
                &*prefix
            }
        };
        self.protected();
        Ok(protected)
    }

    fn protected(&mut self) {
        self.core.stats.frames_protected = self.core.stats.frames_protected.saturating_add(1);
    }

    // ---- receiving ----

    /// Authenticates and decrypts `frame` in place; the KID says whose it is.
    ///
    /// The header (RFC 9605) or trailer (codec-aware) is parsed once; the KID names one
    /// participant, whose key is tried — never more than one. A frame with a KID nobody knows
    /// is copied to the buffer and released by [`poll_released`](Self::poll_released) once its
    /// key arrives.
    ///
    /// # Errors
    ///
    /// [`UnprotectError::UnknownKeyId`] (the frame was buffered if there was room),
    /// [`UnprotectError::Authentication`], [`UnprotectError::Replay`], a malformed header,
    /// trailer or length, and in the codec-aware format a missing trailer or an empty frame
    /// the codec never sends. Each is counted in [`stats`](Self::stats) by its
    /// [`kind`](UnprotectError::kind). On error no receiver state changed.
    pub fn unprotect<'f>(
        &mut self,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<Unprotected<'f>, UnprotectError> {
        self.unprotect_inner(None, metadata, frame)
    }

    /// As [`unprotect`](Self::unprotect), for a frame the transport says came from `sender`
    /// (for example by SSRC): a KID of another participant is
    /// [`UnprotectError::UnknownKeyId`].
    ///
    /// # Errors
    ///
    /// As [`unprotect`](Self::unprotect).
    pub fn unprotect_from<'f>(
        &mut self,
        sender: ParticipantId,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<Unprotected<'f>, UnprotectError> {
        self.unprotect_inner(Some(sender), metadata, frame)
    }

    fn unprotect_inner<'f>(
        &mut self,
        from: Option<ParticipantId>,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<Unprotected<'f>, UnprotectError> {
        let mut keys = FromParticipant {
            keys: &mut self.keys,
            from,
        };
        let result = receive(&mut self.framing, &mut keys, metadata, frame);
        let stats = &mut self.core.stats;
        match result {
            Ok(Unprotected::Decrypted(decrypted)) => {
                stats.frames_ok = stats.frames_ok.saturating_add(1);
                Ok(Unprotected::Decrypted(decrypted))
            }
            Ok(passed) => {
                stats.passed_through = stats.passed_through.saturating_add(1);
                Ok(passed)
            }
            Err((error, frame)) => {
                stats.count(error);
                // A KID of another participant than the transport named is refused, not kept:
                // no later key may release it as theirs.
                if let (UnprotectError::UnknownKeyId(kid), Some(frame)) = (error, frame) {
                    if from.is_none_or(|f| self.keys.sender_of(kid) == Some(f)) {
                        self.core.buffer(from, metadata, frame);
                    }
                }
                Err(error)
            }
        }
    }

    /// Retries every buffered frame after a key arrived.
    fn retry_pending(&mut self) {
        let core = &mut self.core;
        let waiting = core::mem::take(&mut core.pending);
        core.pending_bytes = 0;
        for mut pending in waiting {
            let size = pending.frame.len() + pending.metadata.len();
            let mut keys = FromParticipant {
                keys: &mut self.keys,
                from: pending.from,
            };
            match receive(
                &mut self.framing,
                &mut keys,
                &pending.metadata,
                &mut pending.frame,
            ) {
                Ok(Unprotected::Decrypted(opened)) => {
                    let released = ReleasedFrame {
                        sender: opened.sender,
                        key_id: opened.key_id,
                        metadata: Vec::new(),
                        plaintext: opened.plaintext.to_vec(),
                    };
                    core.released.push_back(ReleasedFrame {
                        metadata: pending.metadata,
                        ..released
                    });
                    core.stats.released = core.stats.released.saturating_add(1);
                    core.stats.frames_ok = core.stats.frames_ok.saturating_add(1);
                }
                Err((UnprotectError::UnknownKeyId(_), _)) => {
                    core.pending_bytes = core.pending_bytes.saturating_add(size);
                    core.pending.push_back(pending);
                }
                Err((error, _)) => {
                    core.stats.count(error);
                    core.stats.dropped_from_buffer =
                        core.stats.dropped_from_buffer.saturating_add(1);
                }
                // Only frames with a trailer and a KID were buffered.
                Ok(Unprotected::PassedThrough { .. }) => {
                    core.stats.dropped_from_buffer =
                        core.stats.dropped_from_buffer.saturating_add(1);
                }
            }
        }
    }

    /// The next buffered frame that its key has since opened, oldest first.
    pub fn poll_released(&mut self) -> Option<ReleasedFrame> {
        self.core.released.pop_front()
    }
}

impl ReceiverCore {
    /// Keeps a copy of an unknown-KID frame, evicting the oldest beyond the bounds.
    fn buffer(&mut self, from: Option<ParticipantId>, metadata: &[u8], frame: &[u8]) {
        let size = frame.len().saturating_add(metadata.len());
        if self.max_pending_frames == 0 || size > self.max_pending_bytes {
            return;
        }
        while self.pending.len() >= self.max_pending_frames
            || self.pending_bytes.saturating_add(size) > self.max_pending_bytes
        {
            let Some(old) = self.pending.pop_front() else {
                break;
            };
            self.pending_bytes = self
                .pending_bytes
                .saturating_sub(old.frame.len() + old.metadata.len());
            self.stats.dropped_from_buffer = self.stats.dropped_from_buffer.saturating_add(1);
        }
        self.pending.push_back(Pending {
            from,
            metadata: metadata.to_vec(),
            frame: frame.to_vec(),
        });
        self.pending_bytes = self.pending_bytes.saturating_add(size);
        self.stats.buffered = self.stats.buffered.saturating_add(1);
    }
}

impl CodecAware {
    /// Plans `frame` and seals it into `self.sealed`. Returns false for a frame that passes
    /// through unchanged (a 0-byte audio, VP8 or VP9 frame).
    fn seal(
        &mut self,
        encryptor: &mut Encryptor,
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<bool, ProtectError> {
        let sealed = compat::plan_and_seal(
            encryptor,
            self.codec,
            &self.policy,
            metadata,
            frame,
            &mut self.sealed,
            &mut self.scratch,
        )?;
        Ok(sealed.is_some())
    }

    /// Plans `frame` and seals it where it lies (the trailer appended). A frame that passes
    /// through stays as it is.
    fn seal_in_place(
        &mut self,
        encryptor: &mut Encryptor,
        metadata: &[u8],
        frame: &mut Vec<u8>,
    ) -> Result<(), ProtectError> {
        compat::plan_and_seal_in_place(
            encryptor,
            self.codec,
            &self.policy,
            metadata,
            frame,
            &mut self.scratch,
        )?;
        Ok(())
    }
}

/// One frame through the session's framing and keys: the header or trailer parsed once, one
/// key lent, the plaintext from that parse. On an unknown KID the frame comes back untouched,
/// for the buffer.
fn receive<'f, K: ReceiveKeys<Sender = ParticipantId>>(
    framing: &mut Framing,
    keys: &mut K,
    metadata: &[u8],
    frame: &'f mut [u8],
) -> Result<Unprotected<'f>, (UnprotectError, Option<&'f [u8]>)> {
    match framing {
        Framing::Rfc9605 => {
            if metadata.len() > MAX_METADATA_LEN {
                return Err((UnprotectError::MetadataTooLong, None));
            }
            let (header, header_len) =
                Header::decode(frame).map_err(|e| (UnprotectError::Header(e), None))?;
            let kid = header.key_id();
            let Some(lease) = keys.lend(kid) else {
                return Err((UnprotectError::UnknownKeyId(kid), Some(frame)));
            };
            let (sender, plaintext) = lease
                .open_frame(header, header_len, metadata, frame)
                .map_err(|e| (UnprotectError::from_decrypt(kid, e), None))?;
            Ok(Unprotected::Decrypted(Decrypted {
                sender,
                key_id: kid,
                plaintext,
            }))
        }
        Framing::CodecAware(c) => {
            let trailer = match c.receiver.read(frame) {
                Ok(Read::Trailer(trailer)) => trailer,
                Ok(Read::PassThrough(reason)) => {
                    return Ok(Unprotected::PassedThrough { reason, frame });
                }
                Err(refused) => return Err((refused.into(), None)),
            };
            let kid = trailer.header().key_id();
            let Some(lease) = keys.lend(kid) else {
                return Err((UnprotectError::UnknownKeyId(kid), Some(frame)));
            };
            c.receiver
                .open_leased(lease, &trailer, metadata, frame)
                .map(unprotected)
                .map_err(|e| (UnprotectError::from_compat(kid, e), None))
        }
    }
}

fn unprotected(opened: Opened<'_, ParticipantId>) -> Unprotected<'_> {
    match opened {
        Opened::Decrypted {
            sender,
            header,
            frame,
        } => Unprotected::Decrypted(Decrypted {
            sender,
            key_id: header.key_id(),
            plaintext: frame,
        }),
        Opened::PassedThrough { reason, frame } => Unprotected::PassedThrough { reason, frame },
    }
}

impl<S: KeyScheme> fmt::Debug for Session<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("suite", &self.suite)
            .field("format", &self.format())
            .field("keys", &self.keys)
            .field("send_key_id", &self.send_key_id())
            .field("pending", &self.core.pending.len())
            .field("stats", &self.core.stats)
            .finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Why a [`SenderKeySession`] refused a layout or a participant's key (the MLS session's key
/// methods return [`MlsError`], the send-key methods [`RatchetError`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum SessionKeyError {
    /// The participant bits `S` must be at most 31, and `R + S` at most 62 (leaving generation
    /// bits).
    #[error("participant bits out of range")]
    ParticipantBits,
    /// A participant index must be below [`SenderKeyLayout::max_participants`].
    #[error("participant {0} out of range")]
    ParticipantOutOfRange(ParticipantId),
    /// A participant cannot be added under my own index: my keys are send-only here (a key is
    /// encrypt-only or decrypt-only, RFC 9605 §4.4.1).
    #[error("my own participant index cannot receive")]
    OwnParticipant,
    /// The key's KID is not in the participant's KID space: it would collide with another
    /// sender's.
    #[error("KID {0} is not in the participant's KID space")]
    ForeignKeyId(KeyId),
    /// The ratchet layer refused the key.
    #[error(transparent)]
    Ratchet(#[from] RatchetError),
}

/// Why a [`Session`] could not protect a frame, in either frame format. On every error nothing
/// is emitted: drop the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProtectError {
    /// No send key or epoch is installed yet.
    #[error("no send key installed")]
    NoSendKey,
    /// [`Session::protect_in_room`] in the codec-aware format.
    #[error("in-room protection needs the RFC 9605 format")]
    WrongFormat,
    /// SFrame encryption failed (counter exhausted, buffer too small, …).
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
    /// Codec-aware format: the codec layer refused the frame, every attempt emulated a start
    /// code, the trailer would be too long, or the counter is exhausted
    /// ([`CompatEncryptError::Encrypt`]; in RFC 9605 format that is [`Self::Encrypt`]).
    #[error(transparent)]
    CodecAware(#[from] CompatEncryptError),
}

/// Why a [`Session`] could not unprotect a frame, in either frame format, with the KID
/// whenever the header was read.
///
/// [`kind`](Self::kind) gives the W3C `SFrameTransformErrorEvent.errorType` and
/// [`key_id`](Self::key_id) its `keyID`; [`is_retryable`](Self::is_retryable) says whether the
/// frame may open later (it was buffered).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum UnprotectError {
    /// The SFrame header is malformed (`syntax`).
    #[error("malformed SFrame header: {0}")]
    Header(HeaderError),
    /// The frame is shorter than its header and tag, or, in the codec-aware format, its
    /// trailer ends before the tag of the key's suite (`syntax`).
    #[error("SFrame frame shorter than its tag (KID {0})")]
    TooShort(KeyId),
    /// RFC 9605 format: the metadata is longer than
    /// [`MAX_METADATA_LEN`] (`syntax`; checked before the frame is
    /// read). The codec-aware format has no such bound.
    #[error("metadata too long")]
    MetadataTooLong,
    /// Codec-aware format: the frame carries no container trailer (`syntax`).
    #[error("frame is not protected")]
    NotProtected,
    /// Codec-aware format: a 0-byte frame of a codec whose senders never send one (`syntax`).
    #[error("empty frame")]
    EmptyFrame,
    /// Codec-aware format: the container trailer is malformed (`syntax`).
    #[error("malformed compat trailer: {0}")]
    Trailer(compat::TrailerError),
    /// Codec-aware format: the range map is malformed (`syntax`).
    #[error("malformed compat range map: {1}")]
    RangeMap(KeyId, codec::RangeMapError),
    /// No key for this KID (`keyID`): the frame was buffered, and is released by
    /// [`Session::poll_released`] if its key arrives.
    #[error("no receive key for KID {0}")]
    UnknownKeyId(KeyId),
    /// The anti-replay window refused the counter (`authentication`).
    #[error("replayed or too old SFrame counter (KID {0})")]
    Replay(KeyId),
    /// The tag did not verify (`authentication`). Deliberately carries no detail beyond the KID,
    /// which is on the wire.
    #[error("SFrame authentication failed (KID {0})")]
    Authentication(KeyId),
}

impl UnprotectError {
    /// The W3C `SFrameTransformErrorEvent.errorType`.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownKeyId(_) => ErrorKind::KeyId,
            Self::Replay(_) | Self::Authentication(_) => ErrorKind::Authentication,
            Self::Header(_)
            | Self::TooShort(_)
            | Self::MetadataTooLong
            | Self::NotProtected
            | Self::EmptyFrame
            | Self::Trailer(_)
            | Self::RangeMap(..) => ErrorKind::Syntax,
        }
    }

    /// The frame's KID: for every `keyID` and `authentication` error, and for the `syntax`
    /// errors found once the KID was known ([`TooShort`](Self::TooShort),
    /// [`RangeMap`](Self::RangeMap)). A malformed trailer ([`Trailer`](Self::Trailer)) is
    /// refused before its header is trusted, and over-long metadata
    /// ([`MetadataTooLong`](Self::MetadataTooLong)) before the frame is read: they have none.
    #[must_use]
    pub const fn key_id(&self) -> Option<KeyId> {
        match self {
            Self::TooShort(kid)
            | Self::RangeMap(kid, _)
            | Self::UnknownKeyId(kid)
            | Self::Replay(kid)
            | Self::Authentication(kid) => Some(*kid),
            Self::Header(_)
            | Self::MetadataTooLong
            | Self::NotProtected
            | Self::EmptyFrame
            | Self::Trailer(_) => None,
        }
    }

    /// Whether the frame may still open: only for an unknown KID, once its key arrives (the
    /// session buffered it). Every other error means drop the frame.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::UnknownKeyId(_))
    }

    /// The RFC 9605 framing's error for the frame of `kid`.
    fn from_decrypt(kid: KeyId, error: DecryptError) -> Self {
        match error {
            DecryptError::Header(e) => Self::Header(e),
            DecryptError::UnknownKeyId(kid) => Self::UnknownKeyId(kid),
            DecryptError::TooShort | DecryptError::BufferTooSmall { .. } => Self::TooShort(kid),
            DecryptError::MetadataTooLong => Self::MetadataTooLong,
            DecryptError::Replay => Self::Replay(kid),
            DecryptError::Authentication => Self::Authentication(kid),
        }
    }

    /// The codec-aware framing's error for the frame of `kid`, once its trailer was read.
    fn from_compat(kid: KeyId, error: CompatDecryptError) -> Self {
        match error {
            CompatDecryptError::NotProtected => Self::NotProtected,
            CompatDecryptError::EmptyFrame => Self::EmptyFrame,
            CompatDecryptError::Trailer(compat::TrailerError::TagTruncated) => Self::TooShort(kid),
            CompatDecryptError::Trailer(e) => Self::Trailer(e),
            CompatDecryptError::Header(e) => Self::Header(e),
            CompatDecryptError::RangeMap(e) => Self::RangeMap(kid, e),
            CompatDecryptError::UnknownKeyId(kid) => Self::UnknownKeyId(kid),
            CompatDecryptError::Replay => Self::Replay(kid),
            CompatDecryptError::Authentication => Self::Authentication(kid),
        }
    }
}

impl From<Refused> for UnprotectError {
    /// The codec-aware framing's refusals before a KID was read.
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Empty => Self::EmptyFrame,
            Refused::NotProtected => Self::NotProtected,
            Refused::Trailer(e) => Self::Trailer(e),
            Refused::Header(e) => Self::Header(e),
        }
    }
}
