//! The session an application holds: my sender and a receiver per remote participant
//! (RFC 9605 Appendix A's context, with the key management of §5 and the buffering §4.4.4
//! allows). Feature `alloc`.
//!
//! A [`Session`] is one of two key schemes:
//!
//! - **Sender keys** (§5.1, [`Session::sender_keys`]): my [`RatchetingSender`], and one
//!   [`RatchetReceiver`] per participant, installed from the keys they distribute
//!   ([`add_participant`](Session::add_participant)). Rotation:
//!   [`ratchet`](Session::ratchet), [`set_send_key`](Session::set_send_key).
//! - **MLS** (§5.2, [`Session::mls`]): one [`MlsEpochStore`] for everyone, and my
//!   [`Encryptor`] for the current epoch; rotation is
//!   [`install_epoch`](Session::install_epoch) whenever the MLS group moves on.
//!
//! [`protect`](Session::protect) and [`unprotect`](Session::unprotect) work in place. A frame
//! whose KID is not known yet is kept in a bounded buffer and decrypted as soon as its key
//! arrives ([`poll_released`](Session::poll_released)). [`stats`](Session::stats) counts what
//! an application shows: frames decrypted, authentication failures, replays, unknown KIDs.
//!
//! The frame format is [`FrameFormat`]: RFC 9605's whole frame, or the codec-aware container
//! ([`compat`] module) that keeps what today's browser packetizers read in the clear.
//! Both go through the same keys, counters, buffer and statistics.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec::Vec;
use core::fmt;

use crate::codec::{self, Codec, Plan, Policy};
use crate::compat::{self, CompatDecryptor, CompatKeys, SealScratch};
use crate::decryptor::ReceiveKey;
use crate::encryptor::Encryptor;
use crate::error::{
    CompatDecryptError, DecryptError, EncryptError, KeyError, ProtectError, UnprotectError,
};
use crate::header::{Header, KeyId};
use crate::mls::{EpochInstalled, MlsEpochStore, MlsExporter, MlsKeyId, MlsKidLayout};
use crate::ratchet::{RatchetBits, RatchetReceiver, RatchetingSender, SenderKeyId};
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
    /// The codec-aware container v1 ([`compat`], not RFC 9605) for frames of
    /// this codec: the bytes codec-specific packetizers read stay in the clear, authenticated.
    /// The codec's [`Policy`] is set with [`Session::with_codec_policy`].
    CodecAware(Codec),
}

/// The application's name for a remote participant: an SSRC, a user id, or (in MLS sessions)
/// the MLS leaf index.
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
    /// Frames that failed authentication: forged, corrupted or under the wrong key.
    pub authentication_failures: u64,
    /// Frames refused by the anti-replay window.
    pub replays: u64,
    /// Frames whose KID no key matched (when they arrived).
    pub unknown_key_ids: u64,
    /// Frames whose header or length was malformed.
    pub malformed: u64,
    /// Unknown-KID frames put in the buffer.
    pub buffered: u64,
    /// Buffered frames decrypted once their key arrived.
    pub released: u64,
    /// Buffered frames dropped: evicted for room, or failed when retried.
    pub dropped_from_buffer: u64,
}

impl SessionStats {
    fn count(&mut self, error: UnprotectError) {
        let counter = match error {
            UnprotectError::Decrypt(DecryptError::Authentication) => {
                &mut self.authentication_failures
            }
            UnprotectError::Decrypt(DecryptError::Replay) => &mut self.replays,
            UnprotectError::Decrypt(DecryptError::UnknownKeyId(_)) => &mut self.unknown_key_ids,
            _ => &mut self.malformed,
        };
        *counter = counter.saturating_add(1);
    }
}

/// A frame [`Session::unprotect`] authenticated.
#[derive(Debug, PartialEq, Eq)]
pub struct Unprotected<'f> {
    /// Who sent it.
    pub sender: ParticipantId,
    /// The KID it carried.
    pub key_id: KeyId,
    /// The plaintext, a sub-slice of the frame.
    pub plaintext: &'f mut [u8],
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

struct Pending {
    metadata: Vec<u8>,
    frame: Vec<u8>,
}

enum Scheme {
    SenderKeys {
        bits: RatchetBits,
        sender: Option<RatchetingSender>,
        receivers: BTreeMap<ParticipantId, RatchetReceiver>,
    },
    Mls {
        context: u64,
        sender: Option<(u64, Encryptor)>,
        store: MlsEpochStore,
    },
}

/// What an application holds for one media stream: my sender, everyone's receivers, the
/// buffer of frames waiting for keys, and the counters.
pub struct Session {
    suite: CipherSuite,
    format: FrameFormat,
    /// Codec-aware format: the codec rules, the receiver's options, reusable sender buffers.
    policy: Policy,
    compat: CompatDecryptor,
    seal_scratch: SealScratch,
    sealed: Vec<u8>,
    window: ReplayWindow,
    scheme: Scheme,
    pending: VecDeque<Pending>,
    pending_bytes: usize,
    max_pending_frames: usize,
    max_pending_bytes: usize,
    released: VecDeque<ReleasedFrame>,
    stats: SessionStats,
}

impl Session {
    /// The default bound on buffered frames.
    pub const DEFAULT_MAX_PENDING_FRAMES: usize = 32;
    /// The default bound on buffered bytes.
    pub const DEFAULT_MAX_PENDING_BYTES: usize = 1 << 20;

    fn with_scheme(suite: CipherSuite, scheme: Scheme) -> Self {
        Self {
            suite,
            format: FrameFormat::default(),
            policy: Policy::default(),
            compat: CompatDecryptor::new(),
            seal_scratch: SealScratch::default(),
            sealed: Vec::new(),
            window: ReplayWindow::default(),
            scheme,
            pending: VecDeque::new(),
            pending_bytes: 0,
            max_pending_frames: Self::DEFAULT_MAX_PENDING_FRAMES,
            max_pending_bytes: Self::DEFAULT_MAX_PENDING_BYTES,
            released: VecDeque::new(),
            stats: SessionStats::default(),
        }
    }

    /// A sender-key session (RFC 9605 §5.1) whose KIDs carry `bits` ratchet-step bits. It has
    /// no send key until [`set_send_key`](Self::set_send_key).
    #[must_use]
    pub fn sender_keys(suite: CipherSuite, bits: RatchetBits) -> Self {
        Self::with_scheme(
            suite,
            Scheme::SenderKeys {
                bits,
                sender: None,
                receivers: BTreeMap::new(),
            },
        )
    }

    /// An MLS session (RFC 9605 §5.2) with `epoch_bits` epoch bits; this member sends with
    /// KID context `context` (0 gives the shortest KIDs). It has no keys until
    /// [`install_epoch`](Self::install_epoch).
    ///
    /// # Errors
    ///
    /// [`KeyError::MlsBits`] unless `epoch_bits` is 1 to 32.
    pub fn mls(suite: CipherSuite, epoch_bits: u8, context: u64) -> Result<Self, KeyError> {
        Ok(Self::with_scheme(
            suite,
            Scheme::Mls {
                context,
                sender: None,
                store: MlsEpochStore::new(suite, epoch_bits)?,
            },
        ))
    }

    /// Sets the frame format.
    #[must_use]
    pub fn with_format(mut self, format: FrameFormat) -> Self {
        self.format = format;
        self
    }

    /// Sets the codec rules of the codec-aware format (see [`Policy`]).
    #[must_use]
    pub fn with_codec_policy(mut self, policy: Policy) -> Self {
        self.policy = policy;
        self
    }

    /// Codec-aware format: whether a frame without the container trailer is returned as it is
    /// (for example an SFU-injected frame) instead of refused with
    /// [`UnprotectError::NotProtected`]. Off by default.
    #[must_use]
    pub fn accept_unprotected(mut self, accept: bool) -> Self {
        self.compat = self.compat.accept_unprotected(accept);
        self
    }

    /// Bounds the buffer of frames waiting for their key. `max_frames = 0` turns buffering
    /// off.
    #[must_use]
    pub fn with_pending_limits(mut self, max_frames: usize, max_bytes: usize) -> Self {
        self.max_pending_frames = max_frames;
        self.max_pending_bytes = max_bytes;
        self
    }

    /// Gives receive keys installed from now on `window`.
    #[must_use]
    pub fn with_replay_window(mut self, window: ReplayWindow) -> Self {
        self.window = window;
        if let Scheme::Mls { store, .. } = &mut self.scheme {
            store.set_replay_window(window);
        }
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
        self.format
    }

    /// The counters.
    #[must_use]
    pub fn stats(&self) -> SessionStats {
        self.stats
    }

    /// The number of frames waiting for their key.
    #[must_use]
    pub fn pending_frames(&self) -> usize {
        self.pending.len()
    }

    /// Drops every frame waiting for its key.
    pub fn clear_pending(&mut self) {
        let dropped = u64::try_from(self.pending.len()).unwrap_or(u64::MAX);
        self.stats.dropped_from_buffer = self.stats.dropped_from_buffer.saturating_add(dropped);
        self.pending.clear();
        self.pending_bytes = 0;
    }

    /// The KID my next frame carries, if I have a send key.
    #[must_use]
    pub fn send_key_id(&self) -> Option<KeyId> {
        match &self.scheme {
            Scheme::SenderKeys { sender, .. } => sender.as_ref().map(RatchetingSender::key_id),
            Scheme::Mls { sender, .. } => sender.as_ref().map(|(_, e)| e.key_id()),
        }
    }

    // ---- sender keys (§5.1) ----

    /// Sets my send key: `base_key` at `generation`, ratchet step 0. The first call starts
    /// sending; later calls start a new generation (for example after a member left), which
    /// must be higher than the current one so that no KID is reused with a restarted counter.
    /// Distribute the key with [`send_key`](Self::send_key). Returns the new KID.
    ///
    /// # Errors
    ///
    /// [`KeyError::WrongScheme`] in an MLS session; [`KeyError::NotNewer`];
    /// [`KeyError::GenerationOutOfRange`]; [`KeyError::KidNotAnnexBSafe`] in the codec-aware
    /// format with H.264 or H.265 when the new KID's encoding contains `00 00`.
    pub fn set_send_key(&mut self, generation: u64, base_key: BaseKey) -> Result<KeyId, KeyError> {
        let (suite, format) = (self.suite, self.format);
        let Scheme::SenderKeys { bits, sender, .. } = &mut self.scheme else {
            return Err(KeyError::WrongScheme);
        };
        if sender
            .as_ref()
            .is_some_and(|s| generation <= s.generation())
        {
            return Err(KeyError::NotNewer);
        }
        let new = RatchetingSender::new(suite, *bits, generation, base_key)?;
        let kid = new.key_id();
        check_send_kid(format, kid)?;
        *sender = Some(new);
        Ok(kid)
    }

    /// Ratchets my send key one step (RFC 9605 §5.1), for example when someone joined: they
    /// get the new key and cannot read earlier frames; the others follow by themselves.
    /// Returns the new KID. A step only sets the low `R` bits of the generation's first KID, so
    /// it never adds a `00 00` that H.264 and H.265 refuse in the codec-aware format.
    ///
    /// # Errors
    ///
    /// [`KeyError::WrongScheme`] in an MLS session or before [`set_send_key`](Self::set_send_key);
    /// as [`RatchetingSender::ratchet`].
    pub fn ratchet(&mut self) -> Result<KeyId, KeyError> {
        match &mut self.scheme {
            Scheme::SenderKeys {
                sender: Some(sender),
                ..
            } => sender.ratchet(),
            _ => Err(KeyError::WrongScheme),
        }
    }

    /// My current sender key and its base key, to distribute to participants (over the
    /// application's secure channel, for example [`agreement`](crate::agreement)'s envelopes).
    #[must_use]
    pub fn send_key(&self) -> Option<(SenderKeyId, &BaseKey)> {
        match &self.scheme {
            Scheme::SenderKeys {
                sender: Some(sender),
                ..
            } => Some((sender.sender_key_id(), sender.base_key())),
            _ => None,
        }
    }

    /// My ratcheting sender, in a sender-key session.
    pub fn ratcheting_sender(&mut self) -> Option<&mut RatchetingSender> {
        match &mut self.scheme {
            Scheme::SenderKeys { sender, .. } => sender.as_mut(),
            Scheme::Mls { .. } => None,
        }
    }

    /// Installs a key `participant` distributed: the first one creates its receiver; later ones
    /// (a new generation, or the ratcheted key given on join) are installed in it. Buffered
    /// frames that the key opens are released.
    ///
    /// # Errors
    ///
    /// [`KeyError::WrongScheme`] in an MLS session; as [`RatchetReceiver::new`] and
    /// [`RatchetReceiver::install`].
    pub fn add_participant(
        &mut self,
        participant: ParticipantId,
        key: SenderKeyId,
        base_key: BaseKey,
    ) -> Result<(), KeyError> {
        let (suite, window) = (self.suite, self.window);
        let Scheme::SenderKeys {
            bits, receivers, ..
        } = &mut self.scheme
        else {
            return Err(KeyError::WrongScheme);
        };
        if let Some(receiver) = receivers.get_mut(&participant) {
            receiver.install(key, base_key)?;
        } else {
            let receiver =
                RatchetReceiver::new(suite, *bits, key, base_key)?.with_replay_window(window);
            receivers.insert(participant, receiver);
        }
        self.retry_pending();
        Ok(())
    }

    /// The receiver of `participant`, to read or tune (for example
    /// [`RatchetReceiver::with_limits`] through a rebuilt receiver).
    #[must_use]
    pub fn participant(&self, participant: ParticipantId) -> Option<&RatchetReceiver> {
        match &self.scheme {
            Scheme::SenderKeys { receivers, .. } => receivers.get(&participant),
            Scheme::Mls { .. } => None,
        }
    }

    /// Removes `participant`'s receiver (its keys are zeroized). Returns whether it existed.
    /// Rotate my own key too ([`set_send_key`](Self::set_send_key) with a fresh key sent to
    /// those who stay): RFC 9605 §7.3.
    pub fn remove_participant(&mut self, participant: ParticipantId) -> bool {
        match &mut self.scheme {
            Scheme::SenderKeys { receivers, .. } => receivers.remove(&participant).is_some(),
            Scheme::Mls { .. } => false,
        }
    }

    // ---- MLS (§5.2) ----

    /// Moves to MLS `epoch`: installs its base key for receiving (evicting an epoch with the
    /// same low `E` bits, and the oldest beyond the bound) and switches my sending KID to
    /// (`context`, `own_index`, `epoch`), counter 0. Buffered frames of the epoch are released.
    ///
    /// # Errors
    ///
    /// [`KeyError::WrongScheme`] in a sender-key session; [`KeyError::NotNewer`] unless `epoch`
    /// is above the epoch I send in; as [`MlsEpochStore::install_epoch`] and
    /// [`MlsKeyId::to_key_id`]. On error nothing changes.
    pub fn install_epoch(
        &mut self,
        epoch: u64,
        group_size: u32,
        own_index: u32,
        base_key: BaseKey,
    ) -> Result<EpochInstalled, KeyError> {
        let suite = self.suite;
        let Scheme::Mls {
            context,
            sender,
            store,
        } = &mut self.scheme
        else {
            return Err(KeyError::WrongScheme);
        };
        if sender
            .as_ref()
            .is_some_and(|(current, _)| epoch <= *current)
        {
            return Err(KeyError::NotNewer);
        }
        let layout = MlsKidLayout::for_group(store.epoch_bits(), group_size)?;
        let kid = MlsKeyId {
            context: *context,
            sender_index: own_index,
            epoch,
        }
        .to_key_id(layout)?;
        let encryptor = Encryptor::new(suite, kid, base_key.expose_secret())?;
        let installed = store.install_epoch(epoch, group_size, Some(own_index), base_key)?;
        *sender = Some((epoch, encryptor));
        self.retry_pending();
        Ok(installed)
    }

    /// [`install_epoch`](Self::install_epoch) with the base key taken from `exporter`
    /// (`MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`).
    ///
    /// # Errors
    ///
    /// [`KeyError::Exporter`] when the exporter fails; as [`install_epoch`](Self::install_epoch).
    pub fn install_epoch_from<X: MlsExporter + ?Sized>(
        &mut self,
        exporter: &X,
        epoch: u64,
        group_size: u32,
        own_index: u32,
    ) -> Result<EpochInstalled, KeyError> {
        let base_key =
            crate::mls::epoch_base_key(exporter, self.suite).map_err(|_| KeyError::Exporter)?;
        self.install_epoch(epoch, group_size, own_index, base_key)
    }

    /// The MLS epoch store, in an MLS session.
    #[must_use]
    pub fn mls_store(&self) -> Option<&MlsEpochStore> {
        match &self.scheme {
            Scheme::Mls { store, .. } => Some(store),
            Scheme::SenderKeys { .. } => None,
        }
    }

    // ---- frames ----

    fn encryptor(&mut self) -> Result<&mut Encryptor, EncryptError> {
        Self::scheme_encryptor(&mut self.scheme)
    }

    fn scheme_encryptor(scheme: &mut Scheme) -> Result<&mut Encryptor, EncryptError> {
        match scheme {
            Scheme::SenderKeys {
                sender: Some(sender),
                ..
            } => Ok(sender.encryptor()),
            Scheme::Mls {
                sender: Some((_, encryptor)),
                ..
            } => Ok(encryptor),
            _ => Err(EncryptError::NoSendKey),
        }
    }

    fn protected(&mut self) {
        self.stats.frames_protected = self.stats.frames_protected.saturating_add(1);
    }

    /// Encrypts `frame` in place, growing it to the protected frame.
    ///
    /// # Errors
    ///
    /// [`EncryptError::NoSendKey`] before a send key or epoch is installed; as
    /// [`Encryptor::encrypt_in_place`]; in the codec-aware format, a frame the codec layer
    /// refuses, start-code emulation on every attempt, or a KID the codec cannot carry. On
    /// error `frame` holds the plaintext.
    pub fn protect(&mut self, metadata: &[u8], frame: &mut Vec<u8>) -> Result<(), ProtectError> {
        match self.format {
            FrameFormat::Rfc9605 => self.encryptor()?.encrypt_in_place(metadata, frame)?,
            FrameFormat::CodecAware(codec) => {
                if self.seal_codec_aware(codec, metadata, frame)? {
                    core::mem::swap(frame, &mut self.sealed);
                }
            }
        }
        self.protected();
        Ok(())
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
        let protected = match self.format {
            FrameFormat::Rfc9605 => self.encryptor()?.encrypt(metadata, plaintext, out)?,
            FrameFormat::CodecAware(codec) => {
                let sealed = if self.seal_codec_aware(codec, metadata, plaintext)? {
                    self.sealed.as_slice()
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

    /// The codec-aware sender: plans `frame` and seals it into `self.sealed`. Returns false for
    /// a frame that passes through unchanged (a 0-byte audio frame).
    fn seal_codec_aware(
        &mut self,
        codec: Codec,
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<bool, ProtectError> {
        let encryptor = Self::scheme_encryptor(&mut self.scheme)?;
        compat::check_key_id(codec, encryptor.key_id())?;
        match codec::plan(codec, frame, &self.policy)? {
            Plan::PassThrough => Ok(false),
            Plan::Protect(plan) => {
                compat::seal_planned(
                    encryptor,
                    &plan,
                    self.policy.max_attempts,
                    metadata,
                    &mut self.sealed,
                    &mut self.seal_scratch,
                )?;
                Ok(true)
            }
        }
    }

    /// Authenticates and decrypts `frame` in place; the KID says whose it is.
    ///
    /// In a sender-key session the participants whose receivers recognize the KID are tried
    /// (nearly always one; KIDs of different senders can collide, and then each is tried on a
    /// copy until one authenticates). A frame with a KID nobody knows is copied to the buffer
    /// and released by [`poll_released`](Self::poll_released) once its key arrives.
    ///
    /// # Errors
    ///
    /// [`DecryptError::UnknownKeyId`] (the frame was buffered if there was room),
    /// [`DecryptError::Authentication`], [`DecryptError::Replay`], a malformed header or
    /// length, and in the codec-aware format a missing or malformed container trailer. Each is
    /// counted in [`stats`](Self::stats). On error no receiver state changed.
    pub fn unprotect<'f>(
        &mut self,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<Unprotected<'f>, UnprotectError> {
        self.unprotect_inner(None, metadata, frame)
    }

    /// As [`unprotect`](Self::unprotect), for a frame the transport says came from `sender`
    /// (for example by SSRC): only that participant's keys are tried. In an MLS session the
    /// KID's sender index must be `sender`.
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
        let kid = match self.frame_key_id(frame) {
            Ok(Some(kid)) => kid,
            // A codec-aware frame that passes through as it is.
            Ok(None) => {
                return Ok(Unprotected {
                    sender: from.unwrap_or_default(),
                    key_id: KeyId(0),
                    plaintext: frame,
                });
            }
            Err(error) => {
                self.stats.count(error);
                return Err(error);
            }
        };
        if !self.knows(from, kid) {
            let error = UnprotectError::Decrypt(DecryptError::UnknownKeyId(kid));
            self.stats.count(error);
            self.buffer(metadata, frame);
            return Err(error);
        }
        match self.open_any(from, metadata, frame) {
            Ok(opened) => {
                self.stats.frames_ok = self.stats.frames_ok.saturating_add(1);
                Ok(opened)
            }
            Err(error) => {
                self.stats.count(error);
                Err(error)
            }
        }
    }

    /// The KID of a received frame, read where the format puts the header; `None` for a
    /// codec-aware frame that passes through: empty (DTX audio), or without the trailer when
    /// the application accepts unprotected frames.
    fn frame_key_id(&self, frame: &[u8]) -> Result<Option<KeyId>, UnprotectError> {
        match self.format {
            FrameFormat::Rfc9605 => Ok(Some(
                Header::decode(frame)
                    .map_err(DecryptError::from)?
                    .0
                    .key_id(),
            )),
            FrameFormat::CodecAware(_) if frame.is_empty() => Ok(None),
            FrameFormat::CodecAware(_) => match compat::read_header(frame) {
                Ok(header) => Ok(Some(header.key_id())),
                Err(CompatDecryptError::NotProtected) if self.compat.accepts_unprotected() => {
                    Ok(None)
                }
                Err(e) => Err(e.into()),
            },
        }
    }

    /// Key lookup and decryption of one frame in the session's format.
    fn open_any<'f>(
        &mut self,
        from: Option<ParticipantId>,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<Unprotected<'f>, UnprotectError> {
        match self.format {
            FrameFormat::Rfc9605 => Ok(self.open(from, metadata, frame)?),
            FrameFormat::CodecAware(_) => {
                let mut keys = SchemeKeys {
                    scheme: &mut self.scheme,
                    suite: self.suite,
                    from,
                    opened_by: None,
                };
                let opened = self.compat.open(&mut keys, metadata, frame)?;
                let sender = keys.opened_by.unwrap_or_default();
                let key_id = opened.header().map_or(KeyId(0), |h| h.key_id());
                Ok(Unprotected {
                    sender,
                    key_id,
                    plaintext: opened.into_frame(),
                })
            }
        }
    }

    /// Whether some key would be tried for `kid` (from `from`, if given).
    fn knows(&self, from: Option<ParticipantId>, kid: KeyId) -> bool {
        match &self.scheme {
            Scheme::SenderKeys { receivers, .. } => receivers
                .iter()
                .any(|(id, r)| from.is_none_or(|f| f == *id) && r.recognizes(kid)),
            Scheme::Mls { store, .. } => store
                .resolve(kid)
                .is_some_and(|id| from.is_none_or(|f| f.0 == u64::from(id.sender_index))),
        }
    }

    /// The key lookup and decryption of one frame, whole-frame format.
    fn open<'f>(
        &mut self,
        from: Option<ParticipantId>,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<Unprotected<'f>, DecryptError> {
        let (header, _) = Header::decode(frame)?;
        let kid = header.key_id();
        match &mut self.scheme {
            Scheme::SenderKeys { receivers, .. } => {
                let (sender, len) = try_senders(receivers, from, kid, frame, |receiver, buf| {
                    receiver
                        .decrypt_in_place(metadata, buf)
                        .map(|plaintext| plaintext.len())
                })?;
                // The plaintext sits between the header and the tag.
                let (_, header_len) = Header::decode(frame)?;
                let plaintext = frame
                    .get_mut(header_len..header_len + len)
                    .ok_or(DecryptError::TooShort)?;
                Ok(Unprotected {
                    sender,
                    key_id: kid,
                    plaintext,
                })
            }
            Scheme::Mls { store, .. } => {
                let named = store.resolve(kid).map(|id| u64::from(id.sender_index));
                if from.is_some_and(|f| named != Some(f.0)) {
                    return Err(DecryptError::UnknownKeyId(kid));
                }
                let opened = store.decrypt_in_place(metadata, frame)?;
                Ok(Unprotected {
                    sender: ParticipantId(u64::from(opened.sender.sender_index)),
                    key_id: kid,
                    plaintext: opened.plaintext,
                })
            }
        }
    }

    /// Keeps a copy of an unknown-KID frame, evicting the oldest beyond the bounds.
    fn buffer(&mut self, metadata: &[u8], frame: &[u8]) {
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
            metadata: metadata.to_vec(),
            frame: frame.to_vec(),
        });
        self.pending_bytes = self.pending_bytes.saturating_add(size);
        self.stats.buffered = self.stats.buffered.saturating_add(1);
    }

    /// Retries every buffered frame after a key arrived.
    fn retry_pending(&mut self) {
        let waiting = core::mem::take(&mut self.pending);
        self.pending_bytes = 0;
        for mut pending in waiting {
            let size = pending.frame.len() + pending.metadata.len();
            match self.open_any(None, &pending.metadata, &mut pending.frame) {
                Ok(opened) => {
                    let released = ReleasedFrame {
                        sender: opened.sender,
                        key_id: opened.key_id,
                        metadata: Vec::new(),
                        plaintext: opened.plaintext.to_vec(),
                    };
                    self.released.push_back(ReleasedFrame {
                        metadata: pending.metadata,
                        ..released
                    });
                    self.stats.released = self.stats.released.saturating_add(1);
                    self.stats.frames_ok = self.stats.frames_ok.saturating_add(1);
                }
                Err(UnprotectError::Decrypt(DecryptError::UnknownKeyId(_))) => {
                    self.pending_bytes = self.pending_bytes.saturating_add(size);
                    self.pending.push_back(pending);
                }
                Err(error) => {
                    self.stats.count(error);
                    self.stats.dropped_from_buffer =
                        self.stats.dropped_from_buffer.saturating_add(1);
                }
            }
        }
    }

    /// The next buffered frame that its key has since opened, oldest first.
    pub fn poll_released(&mut self) -> Option<ReleasedFrame> {
        self.released.pop_front()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = match &self.scheme {
            Scheme::SenderKeys { receivers, .. } => ("sender keys", receivers.len()),
            Scheme::Mls { store, .. } => ("MLS", store.live_epochs().count()),
        };
        f.debug_struct("Session")
            .field("suite", &self.suite)
            .field("format", &self.format)
            .field("scheme", &scheme.0)
            .field("send_key_id", &self.send_key_id())
            .field("pending", &self.pending.len())
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Tries `open` with each participant (or only `from`) whose receiver recognizes `kid`: the
/// last candidate (nearly always the only one) on `buf` itself, the others on a copy, since a
/// failed attempt may clear its input. On success `buf` holds what the opening candidate left
/// in it. Nothing is allocated unless KIDs of several senders collide.
fn try_senders<R>(
    receivers: &mut BTreeMap<ParticipantId, RatchetReceiver>,
    from: Option<ParticipantId>,
    kid: KeyId,
    buf: &mut [u8],
    mut open: impl FnMut(&mut RatchetReceiver, &mut [u8]) -> Result<R, DecryptError>,
) -> Result<(ParticipantId, R), DecryptError> {
    let tried = |id: &ParticipantId, r: &RatchetReceiver| {
        from.is_none_or(|f| f == *id) && r.recognizes(kid)
    };
    let count = receivers.iter().filter(|(id, r)| tried(id, r)).count();
    let mut last = DecryptError::UnknownKeyId(kid);
    let mut seen = 0;
    for (&id, receiver) in receivers.iter_mut() {
        if !tried(&id, receiver) {
            continue;
        }
        seen += 1;
        if seen == count {
            return open(receiver, buf).map(|opened| (id, opened));
        }
        let mut copy = buf.to_vec();
        match open(receiver, &mut copy) {
            Ok(opened) => {
                buf.copy_from_slice(&copy);
                return Ok((id, opened));
            }
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// In the codec-aware format with an Annex B codec, a KID whose encoding contains `00 00` is
/// refused: it could make every start-code retry fail (see [`compat::check_key_id`]).
fn check_send_kid(format: FrameFormat, kid: KeyId) -> Result<(), KeyError> {
    match format {
        FrameFormat::CodecAware(codec) => compat::check_key_id(codec, kid),
        FrameFormat::Rfc9605 => Ok(()),
    }
}

/// The session's keys seen by the codec-aware receiver: the same lookup, catch-up and
/// commit-on-success as whole frames, applied to the container's opaque bytes.
struct SchemeKeys<'s> {
    scheme: &'s mut Scheme,
    suite: CipherSuite,
    from: Option<ParticipantId>,
    /// Who opened the frame, once one did.
    opened_by: Option<ParticipantId>,
}

impl CompatKeys for SchemeKeys<'_> {
    fn tag_len(&self, kid: KeyId) -> Option<usize> {
        let known = match &*self.scheme {
            Scheme::SenderKeys { receivers, .. } => receivers
                .iter()
                .any(|(id, r)| self.from.is_none_or(|f| f == *id) && r.recognizes(kid)),
            Scheme::Mls { store, .. } => store
                .resolve(kid)
                .is_some_and(|id| self.from.is_none_or(|f| f.0 == u64::from(id.sender_index))),
        };
        known.then(|| self.suite.tag_len())
    }

    fn open_opaque(
        &mut self,
        header: Header,
        aad: &[u8],
        ciphertext: &mut [u8],
        tag: &[u8],
    ) -> Result<(), DecryptError> {
        let kid = header.key_id();
        let open = |key: &mut ReceiveKey, ciphertext: &mut [u8]| {
            key.open_detached(header.counter(), aad, ciphertext, tag)
        };
        match &mut *self.scheme {
            Scheme::SenderKeys { receivers, .. } => {
                let (sender, ()) = try_senders(receivers, self.from, kid, ciphertext, |r, buf| {
                    r.open_with(kid, |key| open(key, buf))
                })?;
                self.opened_by = Some(sender);
                Ok(())
            }
            Scheme::Mls { store, .. } => {
                let named = store.resolve(kid).map(|id| u64::from(id.sender_index));
                if self.from.is_some_and(|f| named != Some(f.0)) {
                    return Err(DecryptError::UnknownKeyId(kid));
                }
                let (sender, ()) = store.open_with(kid, |key| open(key, ciphertext))?;
                self.opened_by = Some(ParticipantId(u64::from(sender.sender_index)));
                Ok(())
            }
        }
    }
}
