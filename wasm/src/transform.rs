//! What an encoded-transform worker does to each frame, in plain Rust (not RFC 9605: how a
//! browser transform applies it). The wasm-bindgen classes are a thin layer over these two
//! types, which the host tests drive directly.

use secure_frame::codec::{Codec, Policy};
use secure_frame::compat::{
    CompatDecryptError, CompatDecryptor, CompatEncryptError, CompatEncryptor,
};
use secure_frame::external::{OpenRequest, SealRequest, aead_key};
use secure_frame::mls::{EpochInstalled, MlsEpochStore, MlsKeyId, MlsKidLayout};
use secure_frame::{
    BaseKey, CipherSuite, DecryptError, Decryptor, EncryptError, Encryptor, ErrorKind, KeyError,
    KeyId, MlsError, RatchetBits, RatchetError, RatchetReceiver, RatchetSender, ReceiveKeys,
    SenderKeyId, SframeKey, open_in_place,
};
use subtle::ConstantTimeEq;

/// Why a key could not be installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyChangeError {
    /// The base key.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The §5.1 ratchet refused the KID (a step that is not 0 for a sender, an older
    /// generation for a receiver, …).
    #[error(transparent)]
    Ratchet(#[from] RatchetError),
    /// The §5.2 MLS layer refused the epoch (not newer, a sender index outside the group, …).
    #[error(transparent)]
    Mls(#[from] MlsError),
    /// An MLS epoch's base key must be `Nk` bytes, the length of
    /// `MLS-Exporter("SFrame 1.0 Base Key", "", Nk)` for the SFrame cipher suite.
    #[error("an MLS epoch base key must be Nk bytes long for the cipher suite")]
    EpochKeyLength,
    /// A key by KID on an MLS transform, or an epoch on one without the MLS option.
    #[error("this key operation does not match the transform's key mode (the mls option)")]
    WrongMode,
}

/// The base key of an MLS epoch: exactly `Nk` bytes (RFC 9605 §5.2).
fn epoch_key(suite: CipherSuite, base_key: &[u8]) -> Result<BaseKey, KeyChangeError> {
    if base_key.len() != suite.key_len() {
        return Err(KeyChangeError::EpochKeyLength);
    }
    Ok(BaseKey::new(base_key)?)
}

/// How a sender in an MLS group names its frames (RFC 9605 §5.2).
#[derive(Clone, Copy, Debug)]
struct MlsSend {
    epoch_bits: u8,
    context: u64,
    /// The epoch frames are sent in, once one is set.
    epoch: Option<u64>,
}

/// Whether the suite's AEAD is AES-GCM with a 128-bit tag, which WebCrypto's `AES-GCM`
/// computes, so that [`Sender::begin_seal`] and [`Receiver::begin_open`] can hand it out.
#[must_use]
pub fn external_aead_supported(suite: CipherSuite) -> bool {
    suite.enc_key_len().is_none()
}

/// The `sframe_key` for `kid` under `base_key` (RFC 9605 §4.4.2): what an external AEAD is
/// keyed with, once per key.
///
/// # Errors
///
/// [`KeyError::BaseKeyLength`].
pub fn external_aead_key(
    suite: CipherSuite,
    kid: KeyId,
    base_key: &[u8],
) -> Result<SframeKey, KeyError> {
    Ok(aead_key(suite, kid, &BaseKey::new(base_key)?))
}

/// How frames are laid out on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Format {
    /// RFC 9605 over the whole frame: what native SFrame sends. Survives the browser's
    /// packetizers for VP9 and Opus only, and for every codec with raw packetization.
    #[default]
    Rfc,
    /// The library's codec-aware container (`secure_frame::compat`): the bytes a packetizer
    /// reads stay clear, so VP8, H.264 and AV1 survive the default packetizers.
    Codec,
}

impl Format {
    /// `"rfc"` or `"codec"`.
    #[must_use]
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "rfc" => Some(Self::Rfc),
            "codec" => Some(Self::Codec),
            _ => None,
        }
    }

    /// The name [`parse`](Self::parse) reads.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Rfc => "rfc",
            Self::Codec => "codec",
        }
    }
}

/// The cipher suite for a W3C `SFrameCipherSuite` name (`"AES_128_GCM_SHA256_128"`, …).
#[must_use]
pub fn suite_by_name(name: &str) -> Option<CipherSuite> {
    CipherSuite::ALL.iter().copied().find(|s| s.name() == name)
}

/// Why a frame was not sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// No encryption key has been set.
    #[error("no encryption key set")]
    NoKey,
    /// Codec-aware mode needs a codec the library knows (the frame's `mimeType`).
    #[error("codec-aware mode does not know this mimeType")]
    UnknownCodec,
    /// The RFC 9605 core refused.
    #[error(transparent)]
    Encrypt(#[from] EncryptError),
    /// The codec-aware container refused.
    #[error(transparent)]
    Compat(#[from] CompatEncryptError),
}

enum SendKey {
    Rfc(Encryptor),
    Codec(CompatEncryptor),
}

/// The sending side: one active key, as the W3C encrypter (`setEncryptionKey` replaces it).
pub struct Sender {
    suite: CipherSuite,
    format: Format,
    key: Option<SendKey>,
    /// The base key of `key` (no ratchet): set again under the same KID, it keeps the counter.
    base_key: Option<BaseKey>,
    ratchet: Option<(RatchetBits, Option<RatchetSender>)>,
    mls: Option<MlsSend>,
    buf: Vec<u8>,
    frames: u64,
    /// Moves whenever the send key changes (see [`key_version`](Sender::key_version)).
    key_version: u64,
}

impl core::fmt::Debug for Sender {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Sender")
            .field("suite", &self.suite)
            .field("format", &self.format)
            .field("key_id", &self.key_id())
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl Sender {
    /// A sender with no key yet.
    #[must_use]
    pub fn new(suite: CipherSuite, format: Format) -> Self {
        Self {
            suite,
            format,
            key: None,
            base_key: None,
            ratchet: None,
            mls: None,
            buf: Vec::new(),
            frames: 0,
            key_version: 0,
        }
    }

    /// Sends with the RFC 9605 §5.1 sender-key ratchet, `bits` low KID bits for the step:
    /// [`set_key`](Self::set_key) takes the KID of a generation at step 0, and
    /// [`ratchet`](Self::ratchet) moves one step forward.
    #[must_use]
    pub fn with_ratchet(mut self, bits: RatchetBits) -> Self {
        self.ratchet = Some((bits, None));
        self
    }

    /// Whether the §5.1 ratchet is on.
    #[must_use]
    pub fn ratchets(&self) -> bool {
        self.ratchet.is_some()
    }

    /// Sends as a member of an MLS group (RFC 9605 §5.2) with `epoch_bits` epoch bits and KID
    /// context `context`: keys come from [`set_epoch`](Self::set_epoch), not
    /// [`set_key`](Self::set_key).
    ///
    /// # Errors
    ///
    /// [`MlsError::Bits`] unless `epoch_bits` is 1 to 32.
    pub fn with_mls(mut self, epoch_bits: u8, context: u64) -> Result<Self, MlsError> {
        MlsKidLayout::new(epoch_bits, 0)?;
        self.mls = Some(MlsSend {
            epoch_bits,
            context,
            epoch: None,
        });
        Ok(self)
    }

    /// Whether the MLS option is on.
    #[must_use]
    pub fn uses_mls(&self) -> bool {
        self.mls.is_some()
    }

    // RFC 9605 §5.2
    // KID = (context << (S + E)) + (sender_index << E) + (epoch % (1 << E))
    /// Moves to MLS `epoch` of a group of `group_size` members, in which this member is leaf
    /// `sender_index`: `base_key` is the epoch's `MLS-Exporter("SFrame 1.0 Base Key", "",
    /// Nk)`. Every following frame is sent under the KID of (context, `sender_index`,
    /// `epoch`), counter 0; returns that KID.
    ///
    /// # Errors
    ///
    /// [`KeyChangeError::WrongMode`] without the MLS option;
    /// [`KeyChangeError::EpochKeyLength`]; [`MlsError::NotNewer`] unless `epoch` is above the
    /// epoch sent in so far (a send key is never installed twice, which would restart its
    /// counter); [`MlsError::GroupSize`], [`MlsError::SenderIndexOutOfRange`] (also when the
    /// index is not below `group_size`), [`MlsError::ContextOutOfRange`]. On error nothing
    /// changes.
    pub fn set_epoch(
        &mut self,
        epoch: u64,
        group_size: u32,
        sender_index: u32,
        base_key: &[u8],
    ) -> Result<KeyId, KeyChangeError> {
        let Some(mls) = &mut self.mls else {
            return Err(KeyChangeError::WrongMode);
        };
        let base_key = epoch_key(self.suite, base_key)?;
        if mls.epoch.is_some_and(|current| epoch <= current) {
            return Err(MlsError::NotNewer.into());
        }
        if sender_index >= group_size {
            return Err(MlsError::SenderIndexOutOfRange.into());
        }
        let layout = MlsKidLayout::for_group(mls.epoch_bits, group_size)?;
        let kid = MlsKeyId {
            context: mls.context,
            sender_index,
            epoch,
        }
        .to_key_id(layout)?;
        mls.epoch = Some(epoch);
        self.key = Some(SendKey::Rfc(Encryptor::new(self.suite, kid, &base_key)));
        self.base_key = Some(base_key);
        self.key_version = self.key_version.wrapping_add(1);
        Ok(kid)
    }

    /// The MLS epoch frames are sent in, once [`set_epoch`](Self::set_epoch) set one.
    #[must_use]
    pub fn epoch(&self) -> Option<u64> {
        self.mls.and_then(|m| m.epoch)
    }

    /// Makes `base_key` under `kid` the key every following frame is sent with.
    ///
    /// # Errors
    ///
    /// [`KeyError::BaseKeyLength`] for an empty or over-long key; with the ratchet,
    /// [`RatchetError::GenerationOutOfRange`] and, for a KID whose step is not 0,
    /// [`RatchetError::NotNewer`]; with the MLS option [`KeyChangeError::WrongMode`]. The
    /// previous key stays.
    ///
    /// The key already in use set again under its KID changes nothing: its counter goes on
    /// (a new encryptor would start at 0 again and reuse nonces).
    pub fn set_key(&mut self, kid: KeyId, base_key: &[u8]) -> Result<(), KeyChangeError> {
        if self.mls.is_some() {
            return Err(KeyChangeError::WrongMode);
        }
        let base_key = BaseKey::new(base_key)?;
        if let Some((bits, sender)) = &mut self.ratchet {
            let id = SenderKeyId::from_key_id(kid, *bits);
            if id.ratchet_step != 0 {
                return Err(RatchetError::NotNewer.into());
            }
            let next = RatchetSender::new(self.suite, *bits, id.generation, base_key)?;
            self.key = Some(SendKey::Rfc(Encryptor::new(
                self.suite,
                kid,
                next.base_key(),
            )));
            *sender = Some(next);
            self.key_version = self.key_version.wrapping_add(1);
            return Ok(());
        }
        let same = self.key_id() == Some(kid)
            && self
                .base_key
                .as_ref()
                .is_some_and(|old| bool::from(old.expose_secret().ct_eq(base_key.expose_secret())));
        if same {
            return Ok(());
        }
        let encryptor = Encryptor::new(self.suite, kid, &base_key);
        self.key = Some(SendKey::Rfc(encryptor));
        self.base_key = Some(base_key);
        self.key_version = self.key_version.wrapping_add(1);
        Ok(())
    }

    /// Ratchets the send key one step forward (RFC 9605 §5.1); returns the new KID. Receivers
    /// follow on their own.
    ///
    /// # Errors
    ///
    /// [`RatchetError::NoSendKey`] without the ratchet or a key, [`RatchetError::Exhausted`].
    pub fn ratchet(&mut self) -> Result<KeyId, RatchetError> {
        let Some((_, Some(sender))) = &mut self.ratchet else {
            return Err(RatchetError::NoSendKey);
        };
        let kid = sender.ratchet()?;
        self.key = Some(SendKey::Rfc(Encryptor::new(
            self.suite,
            kid,
            sender.base_key(),
        )));
        self.key_version = self.key_version.wrapping_add(1);
        Ok(kid)
    }

    /// The KID frames are sent under, if a key is set.
    #[must_use]
    pub fn key_id(&self) -> Option<KeyId> {
        match self.key.as_ref()? {
            SendKey::Rfc(e) => Some(e.key_id()),
            SendKey::Codec(c) => Some(c.encryptor().key_id()),
        }
    }

    /// Frames protected so far.
    #[must_use]
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// The wire format.
    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    /// A counter that moves whenever the send key changes: a new key set, a ratchet step, a new
    /// MLS epoch. An external AEAD's key ([`current_aead_key`](Self::current_aead_key)) is good
    /// only while it has not moved since the key was taken: the KID alone does not tell (an MLS
    /// epoch with the same low bits, a wrapped ratchet step or a new key set under the same KID
    /// are other keys under the same KID).
    #[must_use]
    pub fn key_version(&self) -> u64 {
        self.key_version
    }

    /// The `sframe_key` of the KID frames are sent under now, for an external AEAD (RFC format
    /// only): with the ratchet the current step's, with the MLS option the current epoch's.
    /// It changes with every [`set_key`](Self::set_key), [`ratchet`](Self::ratchet) and
    /// [`set_epoch`](Self::set_epoch), which move [`key_version`](Self::key_version): take it
    /// again after each.
    #[must_use]
    pub fn current_aead_key(&self) -> Option<(KeyId, SframeKey)> {
        if self.format != Format::Rfc {
            return None;
        }
        let kid = self.key_id()?;
        let base_key = match &self.ratchet {
            Some((_, sender)) => sender.as_ref()?.base_key(),
            None => self.base_key.as_ref()?,
        };
        Some((kid, aead_key(self.suite, kid, base_key)))
    }

    /// The first half of sending a frame through an external AEAD (RFC format only): reserves
    /// the next counter and gives the header and nonce. The frame is `header ‖ AES-GCM(key,
    /// nonce, aad = header, plaintext)`. A reserved counter is used up whether or not the frame
    /// is sealed.
    ///
    /// # Errors
    ///
    /// [`SendError::NoKey`] (also in codec-aware mode, which has no external path) and
    /// [`SendError::Encrypt`].
    pub fn begin_seal(&mut self) -> Result<SealRequest, SendError> {
        match (&mut self.key, self.format) {
            (Some(SendKey::Rfc(encryptor)), Format::Rfc) => {
                let request = encryptor.begin_seal(&[])?;
                self.frames += 1;
                Ok(request)
            }
            _ => Err(SendError::NoKey),
        }
    }

    /// Protects one frame whose metadata says `mime_type`; returns the wire frame, valid until
    /// the next call.
    ///
    /// # Errors
    ///
    /// [`SendError`]: drop the frame.
    pub fn protect(&mut self, mime_type: &str, frame: &[u8]) -> Result<&[u8], SendError> {
        let key = self.key.take().ok_or(SendError::NoKey)?;
        let (key, result) = match self.format {
            Format::Rfc => {
                let mut encryptor = match key {
                    SendKey::Rfc(e) => e,
                    SendKey::Codec(c) => c.into_encryptor(),
                };
                let room = Encryptor::HEADER_ROOM;
                self.buf.clear();
                self.buf.resize(room + frame.len() + encryptor.tag_len(), 0);
                let result = match self.buf.get_mut(room..room + frame.len()) {
                    Some(payload) => {
                        payload.copy_from_slice(frame);
                        encryptor
                            .encrypt_in_room(&[], &mut self.buf)
                            .map(|wire| wire.len())
                            .map_err(SendError::from)
                    }
                    None => Err(SendError::NoKey),
                };
                (SendKey::Rfc(encryptor), result)
            }
            Format::Codec => match Codec::from_mime(mime_type) {
                None => (key, Err(SendError::UnknownCodec)),
                Some(codec) => {
                    let mut compat = match key {
                        SendKey::Codec(c) if c.codec() == codec => c,
                        SendKey::Codec(c) => {
                            CompatEncryptor::new(c.into_encryptor(), codec, Policy::default())
                        }
                        SendKey::Rfc(e) => CompatEncryptor::new(e, codec, Policy::default()),
                    };
                    self.buf.clear();
                    self.buf.extend_from_slice(frame);
                    let result = compat
                        .encrypt_in_place(&[], &mut self.buf)
                        .map(|_| self.buf.len())
                        .map_err(SendError::from);
                    (SendKey::Codec(compat), result)
                }
            },
        };
        self.key = Some(key);
        let len = result?;
        self.frames += 1;
        let start = self.buf.len() - len;
        Ok(self.buf.get(start..).unwrap_or_default())
    }
}

/// Why a received frame was dropped, as the W3C error event reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Failure {
    /// `errorType`.
    pub kind: ErrorKind,
    /// The parsed KID, for [`ErrorKind::KeyId`].
    pub key_id: Option<KeyId>,
    /// An `authentication` error that is a replayed or too old counter, not a failed tag
    /// (beyond the W3C error types: a browser that hands a transform a frame twice).
    pub replay: bool,
}

impl From<DecryptError> for Failure {
    fn from(e: DecryptError) -> Self {
        Self {
            kind: e.kind(),
            key_id: match e {
                DecryptError::UnknownKeyId(kid) => Some(kid),
                _ => None,
            },
            replay: e == DecryptError::Replay,
        }
    }
}

impl From<CompatDecryptError> for Failure {
    fn from(e: CompatDecryptError) -> Self {
        Self {
            kind: e.kind(),
            key_id: match e {
                CompatDecryptError::UnknownKeyId(kid) => Some(kid),
                _ => None,
            },
            replay: e == CompatDecryptError::Replay,
        }
    }
}

/// Frames decrypted and dropped, by W3C error type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Authenticated and decrypted.
    pub decrypted: u64,
    /// Dropped as `syntax`.
    pub syntax: u64,
    /// Dropped as `keyID`.
    pub key_id: u64,
    /// Dropped as `authentication`.
    pub authentication: u64,
    /// Of those, replayed or too old counters.
    pub replay: u64,
}

/// The live epochs of an MLS group, and the newest epoch that is gone.
struct MlsReceive {
    store: MlsEpochStore,
    /// The newest epoch removed or evicted: an epoch at or below it is not installed again
    /// (its replay windows are gone, so its frames could be replayed).
    removed: Option<u64>,
}

/// The receiving side: any number of keys by KID, as the W3C decrypter.
pub struct Receiver {
    keys: Decryptor,
    /// The base key installed under each KID (no ratchet), sorted by KID: a key added again
    /// under its KID is recognized and keeps its replay window.
    base_keys: Vec<(KeyId, BaseKey)>,
    ratchet: Option<(RatchetBits, Option<RatchetReceiver>)>,
    mls: Option<MlsReceive>,
    format: Format,
    compat: CompatDecryptor,
    compat_codec: Option<Codec>,
    counts: Counts,
    /// Moves whenever the keys held under the ratchet or the MLS option change (see
    /// [`key_version`](Receiver::key_version)).
    key_version: u64,
}

impl core::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Receiver")
            .field("keys", &self.keys)
            .field("format", &self.format)
            .field("counts", &self.counts)
            .finish_non_exhaustive()
    }
}

impl Receiver {
    /// A receiver with no keys.
    #[must_use]
    pub fn new(suite: CipherSuite, format: Format) -> Self {
        Self {
            keys: Decryptor::new(suite),
            base_keys: Vec::new(),
            ratchet: None,
            mls: None,
            format,
            compat: CompatDecryptor::new(),
            compat_codec: None,
            counts: Counts::default(),
            key_version: 0,
        }
    }

    /// Receives from one sender that uses the RFC 9605 §5.1 ratchet with `bits` step bits:
    /// [`add_key`](Self::add_key) installs the sender's key (a later generation replaces
    /// it), and frames of the following steps are followed without any key message.
    #[must_use]
    pub fn with_ratchet(mut self, bits: RatchetBits) -> Self {
        self.ratchet = Some((bits, None));
        self
    }

    /// Whether the §5.1 ratchet is on.
    #[must_use]
    pub fn ratchets(&self) -> bool {
        self.ratchet.is_some()
    }

    /// Receives from the members of an MLS group (RFC 9605 §5.2) with `epoch_bits` epoch bits,
    /// at most `max_epochs` epochs live at once (the library's default when `None`): keys come
    /// from [`add_epoch`](Self::add_epoch), not [`add_key`](Self::add_key).
    ///
    /// # Errors
    ///
    /// [`MlsError::Bits`] unless `epoch_bits` is 1 to 32; [`MlsError::Capacity`] unless
    /// `max_epochs` is 1 to `2^E`.
    pub fn with_mls(mut self, epoch_bits: u8, max_epochs: Option<usize>) -> Result<Self, MlsError> {
        let mut store = MlsEpochStore::new(self.keys.suite(), epoch_bits)?;
        if let Some(max) = max_epochs {
            store = store.with_max_epochs(max)?;
        }
        self.mls = Some(MlsReceive {
            store,
            removed: None,
        });
        Ok(self)
    }

    /// Whether the MLS option is on.
    #[must_use]
    pub fn uses_mls(&self) -> bool {
        self.mls.is_some()
    }

    /// Installs MLS `epoch` of a group of `group_size` members, `base_key` being its
    /// `MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`; every member's frames in it decrypt,
    /// except those of `own_index` (this member's leaf, if it sends too: a key is encrypt-only
    /// or decrypt-only). Several epochs are live at once; an epoch with the same low `E` bits
    /// as a live one replaces it, and beyond the bound the oldest goes (what was evicted is
    /// returned).
    ///
    /// # Errors
    ///
    /// [`KeyChangeError::WrongMode`] without the MLS option;
    /// [`KeyChangeError::EpochKeyLength`]; [`MlsError::DuplicateEpoch`] for a live epoch;
    /// [`MlsError::NotNewer`] for an epoch at or below one removed or evicted before;
    /// [`MlsError::GroupSize`], [`MlsError::SenderIndexOutOfRange`]. On error nothing changes.
    pub fn add_epoch(
        &mut self,
        epoch: u64,
        group_size: u32,
        own_index: Option<u32>,
        base_key: &[u8],
    ) -> Result<EpochInstalled, KeyChangeError> {
        let Some(mls) = &mut self.mls else {
            return Err(KeyChangeError::WrongMode);
        };
        let base_key = epoch_key(self.keys.suite(), base_key)?;
        if mls.removed.is_some_and(|gone| epoch <= gone) {
            return Err(MlsError::NotNewer.into());
        }
        let installed = mls
            .store
            .install_epoch(epoch, group_size, own_index, base_key)?;
        for gone in [installed.rolled_over, installed.evicted_oldest]
            .into_iter()
            .flatten()
        {
            mls.removed = Some(mls.removed.map_or(gone, |r| r.max(gone)));
        }
        self.key_changed();
        Ok(installed)
    }

    /// Removes MLS `epoch`: its frames become `keyID` errors. Whether it was live.
    pub fn remove_epoch(&mut self, epoch: u64) -> bool {
        let Some(mls) = &mut self.mls else {
            return false;
        };
        let live = mls.store.remove_epoch(epoch);
        if live {
            mls.removed = Some(mls.removed.map_or(epoch, |r| r.max(epoch)));
            self.key_changed();
        }
        live
    }

    /// The live MLS epochs, oldest installed first (none without the MLS option).
    #[must_use]
    pub fn live_epochs(&self) -> Vec<u64> {
        self.mls
            .as_ref()
            .map(|m| m.store.live_epochs().collect())
            .unwrap_or_default()
    }

    /// Installs `base_key` under `kid`, replacing a key already under that KID (the W3C
    /// `addDecryptionKey`). With the ratchet: the sender's key at `kid` (its generation and
    /// step), a newer generation or step replacing the current one.
    ///
    /// The replay window: the same key added again under its KID changes nothing, so the
    /// frames it already accepted stay refused. A different key starts with a fresh window:
    /// no frame seen under the old key authenticates under the new one, and a sender that
    /// changes keys starts its counter again. (A key that was replaced and comes back later
    /// starts afresh too: the library's `Decryptor` has no way to keep the window of a key it
    /// no longer holds.)
    ///
    /// # Errors
    ///
    /// [`KeyError::BaseKeyLength`]; with the ratchet the [`RatchetError`] of
    /// [`RatchetReceiver::install`]; with the MLS option [`KeyChangeError::WrongMode`]. The
    /// previous key for `kid`, if any, stays.
    pub fn add_key(&mut self, kid: KeyId, base_key: &[u8]) -> Result<(), KeyChangeError> {
        if self.mls.is_some() {
            return Err(KeyChangeError::WrongMode);
        }
        let base_key = BaseKey::new(base_key)?;
        if let Some((bits, receiver)) = &mut self.ratchet {
            let id = SenderKeyId::from_key_id(kid, *bits);
            match receiver {
                Some(r) => r.install(id, base_key)?,
                None => {
                    *receiver = Some(RatchetReceiver::new(
                        self.keys.suite(),
                        *bits,
                        id,
                        base_key,
                    )?);
                }
            }
            self.key_changed();
            return Ok(());
        }
        let slot = self.base_keys.binary_search_by_key(&kid, |(k, _)| *k);
        if let Ok(i) = slot {
            let same = self.base_keys.get(i).is_some_and(|(_, old)| {
                bool::from(old.expose_secret().ct_eq(base_key.expose_secret()))
            });
            if same && self.keys.contains_key(kid) {
                return Ok(());
            }
        }
        self.keys.remove_key(kid);
        self.keys.add_key(kid, &base_key)?;
        match slot {
            Ok(i) => {
                if let Some(entry) = self.base_keys.get_mut(i) {
                    entry.1 = base_key;
                }
            }
            Err(i) => self.base_keys.insert(i, (kid, base_key)),
        }
        Ok(())
    }

    /// Removes the key for `kid`; whether there was one (with the ratchet: the sender's
    /// current KID removes the sender).
    pub fn remove_key(&mut self, kid: KeyId) -> bool {
        if self.mls.is_some() {
            return false;
        }
        if let Some((_, receiver)) = &mut self.ratchet {
            let current = receiver.as_ref().is_some_and(|r| r.key_id() == kid);
            if current {
                *receiver = None;
                self.key_changed();
            }
            return current;
        }
        if let Ok(i) = self.base_keys.binary_search_by_key(&kid, |(k, _)| *k) {
            self.base_keys.remove(i);
        }
        self.keys.remove_key(kid).is_some()
    }

    /// Whether a key for `kid` is installed (with the ratchet: recognized; with the MLS
    /// option: a member of a live epoch).
    #[must_use]
    pub fn has_key(&self, kid: KeyId) -> bool {
        if let Some(mls) = &self.mls {
            return mls.store.resolve(kid).is_some();
        }
        match &self.ratchet {
            Some((_, receiver)) => receiver.as_ref().is_some_and(|r| r.recognizes(kid)),
            None => self.keys.contains_key(kid),
        }
    }

    /// The counts so far.
    #[must_use]
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// The wire format.
    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    /// A counter that moves whenever the keys held under the ratchet or the MLS option change
    /// — a key or an epoch installed or removed, the ratchet moved forward by a frame — so an
    /// external AEAD's keys, imported by KID, must be dropped and taken again
    /// ([`aead_key`](Self::aead_key)): a KID may now name another key (an MLS epoch rolled
    /// over, a 4-bit ratchet step wrapped). Without either option it never moves: a key under
    /// a KID changes only through [`add_key`](Self::add_key) and
    /// [`remove_key`](Self::remove_key).
    #[must_use]
    pub fn key_version(&self) -> u64 {
        self.key_version
    }

    fn key_changed(&mut self) {
        self.key_version = self.key_version.wrapping_add(1);
    }

    /// The current KID of the ratchet receiver, if there is one.
    fn ratchet_key_id(&self) -> Option<KeyId> {
        match &self.ratchet {
            Some((_, Some(receiver))) => Some(receiver.key_id()),
            _ => None,
        }
    }

    /// The `sframe_key` for `kid`, to key an external AEAD with: of the installed key, the
    /// ratchet's current or a kept older step (or a candidate a few steps ahead), or the
    /// sender's key in a live MLS epoch. `None` when no key opens frames of `kid`.
    #[must_use]
    pub fn aead_key(&self, kid: KeyId) -> Option<SframeKey> {
        if let Some(mls) = &self.mls {
            return mls.store.aead_key(kid);
        }
        match &self.ratchet {
            Some((_, receiver)) => receiver.as_ref()?.aead_key(kid),
            None => self.keys.aead_key(kid),
        }
    }

    /// The first half of opening a frame with an external AEAD (RFC format): header read, key
    /// found (with the ratchet, a KID a few steps ahead tried under its candidate key; with the
    /// MLS option, the sender's key in its epoch), replay window checked, nothing committed.
    /// A failure is counted.
    ///
    /// # Errors
    ///
    /// The [`Failure`] to report; the frame must be dropped (or held, for `keyID`).
    pub fn begin_open(&mut self, frame: &[u8]) -> Result<OpenRequest, Failure> {
        let result = match (&self.mls, &self.ratchet) {
            (Some(mls), _) => mls.store.begin_open(&[], frame),
            (None, Some((_, Some(receiver)))) => receiver.begin_open(&[], frame),
            _ => self.keys.begin_open(&[], frame),
        }
        .map_err(Failure::from);
        if let Err(failure) = result {
            self.count(Err(failure));
        }
        result
    }

    /// The second half, after the external AEAD verified the tag: checks the request against
    /// the keys held now and commits the replay window (with the ratchet, moves forward to a
    /// step ahead; with the MLS option, caches the sender key). Counts the frame.
    ///
    /// # Errors
    ///
    /// A replay (another frame with this counter was committed meanwhile), or `keyID` when the
    /// request's key is gone: drop the frame.
    pub fn commit_open(&mut self, request: OpenRequest) -> Result<(), Failure> {
        let before = self.ratchet_key_id();
        let result = match (&mut self.mls, &mut self.ratchet) {
            (Some(mls), _) => mls.store.commit_open(request).map(|_| ()),
            (None, Some((_, Some(receiver)))) => receiver.commit_open(request),
            _ => self.keys.commit_open(request),
        }
        .map_err(Failure::from);
        if self.ratchet_key_id() != before {
            self.key_changed();
        }
        self.count(result);
        result
    }

    /// Counts a frame whose tag the external AEAD refused.
    pub fn external_authentication_failed(&mut self) {
        self.count(Err(Failure {
            kind: ErrorKind::Authentication,
            key_id: None,
            replay: false,
        }));
    }

    fn count(&mut self, result: Result<(), Failure>) {
        match result {
            Ok(()) => self.counts.decrypted += 1,
            Err(f) => match f.kind {
                ErrorKind::KeyId => self.counts.key_id += 1,
                ErrorKind::Authentication => {
                    self.counts.authentication += 1;
                    self.counts.replay += u64::from(f.replay);
                }
                ErrorKind::Syntax => self.counts.syntax += 1,
            },
        }
    }

    /// Authenticates and decrypts one frame in place; returns the plaintext, a sub-slice of
    /// `frame`.
    ///
    /// # Errors
    ///
    /// The [`Failure`] to report; the frame must be dropped.
    pub fn unprotect<'f>(
        &mut self,
        mime_type: &str,
        frame: &'f mut [u8],
    ) -> Result<&'f [u8], Failure> {
        if self.format == Format::Codec {
            let codec = Codec::from_mime(mime_type);
            if codec != self.compat_codec {
                self.compat = codec.map_or_else(CompatDecryptor::new, CompatDecryptor::for_codec);
                self.compat_codec = codec;
            }
        }
        let before = self.ratchet_key_id();
        let result = match (&mut self.mls, &mut self.ratchet) {
            (Some(mls), _) => open(self.format, &mut self.compat, &mut mls.store, frame),
            (None, Some((_, Some(receiver)))) => {
                open(self.format, &mut self.compat, receiver, frame)
            }
            // No sender key yet: the empty store reports the frame's KID.
            _ => open(self.format, &mut self.compat, &mut self.keys, frame),
        };
        if self.ratchet_key_id() != before {
            self.key_changed();
        }
        self.count(result.as_ref().map(|_| ()).map_err(|f| *f));
        result
    }
}

/// One frame through any key store, in either format.
fn open<'f, K: ReceiveKeys + ?Sized>(
    format: Format,
    compat: &mut CompatDecryptor,
    keys: &mut K,
    frame: &'f mut [u8],
) -> Result<&'f [u8], Failure> {
    match format {
        Format::Rfc => open_in_place(keys, &[], frame)
            .map(|(_, plain)| &*plain)
            .map_err(Failure::from),
        Format::Codec => compat
            .decrypt_in_place(keys, &[], frame)
            .map(|opened| &*opened.into_frame())
            .map_err(Failure::from),
    }
}
