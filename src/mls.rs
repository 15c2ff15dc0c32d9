//! MLS-based key management (RFC 9605 §5.2).
//!
//! Every member of an MLS group derives the same per-epoch base key from its MLS exporter,
//! and each sender's frames are told apart by the KID:
//!
//! ```text
//! base_key = MLS-Exporter("SFrame 1.0 Base Key", "", AEAD.Nk)
//!
//!  bit 63                        S+E  S+E-1            E  E-1        0
//! +-------------------------------+--------------------+-------------+
//! | context (64 - S - E bits)     | sender index (S)   | epoch (E)   |
//! +-------------------------------+--------------------+-------------+
//! KID = (context << (S + E)) + (sender_index << E) + (epoch % (1 << E))
//! ```
//!
//! `E` is the application's choice (at most `2^E` epochs are live at once); `S` is the
//! smallest value with `group_size <= 2^S`, recomputed as the group changes; `context` lets
//! one sender run several uncoordinated streams. The RFC's Figure 9, with `E = 4` and
//! `S = 6`:
//!
//! ```
//! use secure_frame::mls::{MlsKeyId, MlsKidLayout};
//!
//! let layout = MlsKidLayout::new(4, 6)?;
//! let kid = |epoch, sender_index, context| {
//!     MlsKeyId { context, sender_index, epoch }.to_key_id(layout).map(|k| k.0)
//! };
//! assert_eq!(kid(14, 3, 0)?, 0x3e);
//! assert_eq!(kid(14, 7, 0)?, 0x7e);
//! assert_eq!(kid(14, 20, 0)?, 0x14e);
//! assert_eq!(kid(15, 3, 0)?, 0x3f);
//! assert_eq!(kid(15, 5, 0)?, 0x5f);
//! assert_eq!(kid(16, 2, 2)?, 0x820);
//! assert_eq!(kid(16, 2, 3)?, 0xc20);
//! assert_eq!(kid(17, 33, 0)?, 0x211);
//! assert_eq!(kid(17, 51, 0)?, 0x331);
//! # Ok::<(), secure_frame::MlsError>(())
//! ```
//!
//! [`MlsExporter`] is the bridge to any MLS implementation (the `interop/` crate drives it
//! with openmls); [`epoch_base_key`] calls it with the RFC's label, context and length.
//! [`MlsEpochStore`] (feature `alloc`) is the receive side: a bounded number of live epochs,
//! rollover eviction, and a bounded cache of each epoch's sender keys, filled only by frames
//! that authenticated.

use crate::header::KeyId;
use crate::secret::BaseKey;
use crate::suite::CipherSuite;

/// The exporter label of RFC 9605 §5.2.
pub const BASE_KEY_LABEL: &str = "SFrame 1.0 Base Key";

/// The bit split of an MLS KID (RFC 9605 §5.2): `E` epoch bits and `S` sender-index bits;
/// the context has the remaining `64 - S - E`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MlsKidLayout {
    epoch_bits: u8,
    sender_bits: u8,
}

impl MlsKidLayout {
    /// The largest `E`.
    pub const MAX_EPOCH_BITS: u8 = 32;
    /// The largest `S` (MLS leaf indices are 32-bit; a group of `2^31` is plenty).
    pub const MAX_SENDER_BITS: u8 = 31;

    /// `E = epoch_bits`, `S = sender_bits`. The context keeps at least one bit, so no shift
    /// ever overflows.
    ///
    /// # Errors
    ///
    /// [`MlsError::Bits`] unless `epoch_bits` is 1 to 32 and `sender_bits` 0 to 31.
    pub const fn new(epoch_bits: u8, sender_bits: u8) -> Result<Self, MlsError> {
        if epoch_bits == 0
            || epoch_bits > Self::MAX_EPOCH_BITS
            || sender_bits > Self::MAX_SENDER_BITS
        {
            return Err(MlsError::Bits);
        }
        Ok(Self {
            epoch_bits,
            sender_bits,
        })
    }

    /// `E = epoch_bits` and `S` computed from the group size.
    ///
    /// # Errors
    ///
    /// [`MlsError::Bits`]; [`MlsError::GroupSize`] as [`Self::sender_bits_for`].
    pub fn for_group(epoch_bits: u8, group_size: u32) -> Result<Self, MlsError> {
        Self::new(epoch_bits, Self::sender_bits_for(group_size)?)
    }

    /// The smallest `S` with `group_size <= 2^S` (RFC 9605 §5.2).
    ///
    /// # Errors
    ///
    /// [`MlsError::GroupSize`] unless `group_size` is 1 to `2^31`.
    pub fn sender_bits_for(group_size: u32) -> Result<u8, MlsError> {
        if group_size == 0 || group_size > (1 << Self::MAX_SENDER_BITS) {
            return Err(MlsError::GroupSize);
        }
        // group_size - 1 needs (32 - leading_zeros) bits; that is at most 31 here.
        let bits = u32::BITS - (group_size - 1).leading_zeros();
        u8::try_from(bits).map_err(|_| MlsError::GroupSize)
    }

    /// `E`.
    #[must_use]
    pub const fn epoch_bits(self) -> u8 {
        self.epoch_bits
    }

    /// `S`.
    #[must_use]
    pub const fn sender_bits(self) -> u8 {
        self.sender_bits
    }

    /// `64 - S - E`: the context bits.
    #[must_use]
    pub const fn context_bits(self) -> u8 {
        64 - self.sender_bits - self.epoch_bits
    }

    /// `2^E - 1`.
    #[must_use]
    pub const fn epoch_mask(self) -> u64 {
        (1u64 << self.epoch_bits) - 1
    }

    /// `2^S - 1`.
    #[must_use]
    pub const fn sender_mask(self) -> u64 {
        (1u64 << self.sender_bits) - 1
    }

    /// The largest context value.
    #[must_use]
    pub const fn max_context(self) -> u64 {
        u64::MAX >> (self.sender_bits + self.epoch_bits)
    }
}

/// An MLS KID taken apart (RFC 9605 §5.2).
///
/// Packing reduces `epoch` modulo `2^E`; unpacking gives only those low bits back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct MlsKeyId {
    /// The sender's choice of stream: the high `64 - S - E` bits.
    pub context: u64,
    /// The sender's MLS leaf index: `S` bits.
    pub sender_index: u32,
    /// The MLS epoch (its low `E` bits go in the KID).
    pub epoch: u64,
}

impl MlsKeyId {
    // RFC 9605 §5.2
    // KID = (context << (S + E)) + (sender_index << E) + (epoch % (1 << E))
    /// Packs the KID.
    ///
    /// # Errors
    ///
    /// [`MlsError::SenderIndexOutOfRange`] when the index does not fit in `S` bits;
    /// [`MlsError::ContextOutOfRange`] when the context does not fit in `64 - S - E` bits.
    /// Nothing is silently truncated except the epoch, as the RFC specifies.
    pub fn to_key_id(self, layout: MlsKidLayout) -> Result<KeyId, MlsError> {
        let index = u64::from(self.sender_index);
        if index > layout.sender_mask() {
            return Err(MlsError::SenderIndexOutOfRange);
        }
        if self.context > layout.max_context() {
            return Err(MlsError::ContextOutOfRange);
        }
        let e = layout.epoch_bits;
        let s = layout.sender_bits;
        Ok(KeyId(
            (self.context << (s + e)) | (index << e) | (self.epoch & layout.epoch_mask()),
        ))
    }

    /// Takes a KID apart; `epoch` is the low `E` bits only.
    #[must_use]
    pub fn from_key_id(kid: KeyId, layout: MlsKidLayout) -> Self {
        let e = layout.epoch_bits;
        let s = layout.sender_bits;
        let index = (kid.0 >> e) & layout.sender_mask();
        Self {
            // S + E <= 63: the shift is in range.
            context: kid.0 >> (s + e),
            // At most 31 bits.
            sender_index: u32::try_from(index).unwrap_or(u32::MAX),
            epoch: kid.0 & layout.epoch_mask(),
        }
    }
}

/// An MLS exporter (RFC 9420 §8.5): how this crate asks an MLS implementation for the
/// epoch's SFrame base key.
///
/// `export(label, context, out)` fills `out` with `MLS-Exporter(label, context, out.len())`
/// of the current epoch. The `interop/` crate implements it over openmls's
/// `MlsGroup::export_secret`.
pub trait MlsExporter {
    /// The exporter's own error.
    type Error;

    /// Fills `out` with `MLS-Exporter(label, context, out.len())`.
    ///
    /// # Errors
    ///
    /// Whatever the MLS implementation reports (for example, no active epoch).
    fn export(&self, label: &str, context: &[u8], out: &mut [u8]) -> Result<(), Self::Error>;
}

impl<X: MlsExporter + ?Sized> MlsExporter for &X {
    type Error = X::Error;
    fn export(&self, label: &str, context: &[u8], out: &mut [u8]) -> Result<(), Self::Error> {
        (**self).export(label, context, out)
    }
}

// RFC 9605 §5.2
// sframe_epoch_secret = MLS-Exporter("SFrame 1.0 Base Key", "", AEAD.Nk)
/// The epoch's SFrame base key: `MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`, with `Nk` of
/// the SFrame cipher suite (not of the MLS cipher suite) and an empty context.
///
/// # Errors
///
/// The exporter's error.
pub fn epoch_base_key<X: MlsExporter + ?Sized>(
    exporter: &X,
    suite: CipherSuite,
) -> Result<BaseKey, X::Error> {
    let mut key = BaseKey::zeroed(suite.key_len());
    exporter.export(BASE_KEY_LABEL, b"", key.as_mut_bytes())?;
    Ok(key)
}

/// Why an MLS key operation of RFC 9605 §5.2 was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum MlsError {
    /// The KID bits: `E` must be 1 to 32 and `S` 0 to 31.
    #[error("MLS epoch or sender bits out of range")]
    Bits,
    /// A group size must be at least 1 and at most `2^31`.
    #[error("MLS group size out of range")]
    GroupSize,
    /// A sender index does not fit in `S` bits or is not a member of the group.
    #[error("MLS sender index out of range")]
    SenderIndexOutOfRange,
    /// A KID context does not fit in its `64 - S - E` bits.
    #[error("MLS KID context out of range")]
    ContextOutOfRange,
    /// This epoch is already installed.
    #[error("MLS epoch {0} is already installed")]
    DuplicateEpoch(u64),
    /// An epoch to send in is not newer than the current one: a send key is never
    /// re-installed, which would restart its counter.
    #[error("MLS epoch is not newer than the current one")]
    NotNewer,
    /// A bound (live epochs, cached keys) must be at least 1.
    #[error("capacity out of range")]
    Capacity,
    /// The MLS exporter failed.
    #[error("MLS exporter failed")]
    Exporter,
}

#[cfg(feature = "alloc")]
pub use store::{EpochInstalled, MlsEpochStore, MlsFrame, MlsLease};

#[cfg(feature = "alloc")]
mod store {
    use alloc::vec::Vec;
    use core::fmt;

    use super::MlsError;
    use super::{MlsKeyId, MlsKidLayout};
    use crate::decryptor::{
        Ciphertext, DecryptError, KeyLease, ReceiveKey, ReceiveKeys, open_in_place, open_split,
    };
    use crate::header::{Header, KeyId};
    use crate::replay::ReplayWindow;
    use crate::secret::BaseKey;
    use crate::suite::CipherSuite;

    /// One live epoch.
    struct LiveEpoch {
        epoch: u64,
        layout: MlsKidLayout,
        group_size: u32,
        own_index: Option<u32>,
        base_key: BaseKey,
        /// Receive keys of senders seen in this epoch, each with when it was last used.
        keys: Vec<(ReceiveKey, u64)>,
        /// The replay windows of keys evicted from `keys`, sorted by KID: a key derived again
        /// resumes its window, so eviction never lets an old frame be accepted twice. At most
        /// one entry per sender of the epoch's group that sent an authenticated frame.
        retired: Vec<(KeyId, ReplayWindow)>,
    }

    impl LiveEpoch {
        /// The window a key for `kid` derived now starts with: its retired one, else `fresh`.
        fn window_for(&self, kid: KeyId, fresh: ReplayWindow) -> ReplayWindow {
            self.retired
                .binary_search_by_key(&kid, |(k, _)| *k)
                .ok()
                .and_then(|i| self.retired.get(i))
                .map_or(fresh, |(_, window)| *window)
        }

        /// Opens `ciphertext` under the key of `kid`, derived from the epoch's base key (one
        /// derivation), and caches the key only if the frame authenticates.
        #[cold]
        #[inline(never)]
        fn open_derived(
            &mut self,
            suite: CipherSuite,
            kid: KeyId,
            fresh: ReplayWindow,
            tick: u64,
            cap: usize,
            ciphertext: &mut Ciphertext<'_, '_>,
        ) -> Result<(), DecryptError> {
            let mut key = ReceiveKey::new(suite, kid, &self.base_key)
                .with_replay_window(self.window_for(kid, fresh));
            key.open(ciphertext)?;
            self.cache(key, tick, cap);
            Ok(())
        }

        /// Caches `key`, which just authenticated a frame: its retired window (now inside it)
        /// is dropped, and when the cache is full the least recently used key is evicted and
        /// its window retired.
        fn cache(&mut self, key: ReceiveKey, tick: u64, cap: usize) {
            if let Ok(i) = self
                .retired
                .binary_search_by_key(&key.key_id(), |(k, _)| *k)
            {
                self.retired.remove(i);
            }
            if self.keys.len() >= cap {
                if let Some(lru) = self
                    .keys
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, (_, used))| *used)
                    .map(|(i, _)| i)
                {
                    let (evicted, _) = self.keys.swap_remove(lru);
                    let kid = evicted.key_id();
                    if let Err(i) = self.retired.binary_search_by_key(&kid, |(k, _)| *k) {
                        self.retired.insert(i, (kid, *evicted.replay_window()));
                    }
                }
            }
            self.keys.push((key, tick));
        }
    }

    /// What [`MlsEpochStore::install_epoch`] evicted.
    #[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
    pub struct EpochInstalled {
        /// The live epoch with the same low `E` bits, removed as RFC 9605 §5.2 requires.
        pub rolled_over: Option<u64>,
        /// The oldest live epoch, removed to stay within
        /// [`max_epochs`](MlsEpochStore::max_epochs).
        pub evicted_oldest: Option<u64>,
    }

    /// A frame [`MlsEpochStore::decrypt_in_place`] authenticated.
    #[derive(Debug, PartialEq, Eq)]
    pub struct MlsFrame<'f> {
        /// Who sent it: the full epoch, the sender's leaf index and the context.
        pub sender: MlsKeyId,
        /// The plaintext, a sub-slice of the frame.
        pub plaintext: &'f mut [u8],
    }

    /// The receive side of RFC 9605 §5.2: the live epochs of one MLS group and the sender keys
    /// derived in each.
    ///
    /// - At most [`max_epochs`](Self::max_epochs) epochs are live (never more than `2^E`);
    ///   installing an epoch whose low `E` bits equal a live epoch's removes that epoch first
    ///   ([`evict_rollover`](Self::evict_rollover), the RFC's MUST).
    /// - A frame's KID picks the epoch by its low bits, then the sender by its index (which
    ///   must be a member of that epoch's group, and not this member itself). The sender's key
    ///   is derived from the epoch's base key; it is cached only after a frame authenticated
    ///   under it, and at most [`max_cached_keys`](Self::max_cached_keys) per epoch are kept
    ///   (the least recently used goes first). An evicted key leaves its replay window behind
    ///   (about 40 bytes per sender who sent a frame in the epoch), and a key derived again
    ///   resumes it: eviction never lets a frame be accepted twice. A forged frame costs one
    ///   key derivation and changes nothing.
    pub struct MlsEpochStore {
        suite: CipherSuite,
        epoch_bits: u8,
        max_epochs: usize,
        max_cached_keys: usize,
        window: ReplayWindow,
        epochs: Vec<LiveEpoch>,
        tick: u64,
    }

    impl MlsEpochStore {
        /// The default number of live epochs (lowered to `2^E` for small `E`).
        pub const DEFAULT_MAX_EPOCHS: usize = 4;
        /// The default number of cached sender keys per epoch.
        pub const DEFAULT_MAX_CACHED_KEYS: usize = 64;

        /// An empty store for `suite` with `E = epoch_bits`.
        ///
        /// # Errors
        ///
        /// [`MlsError::Bits`] unless `epoch_bits` is 1 to 32.
        pub fn new(suite: CipherSuite, epoch_bits: u8) -> Result<Self, MlsError> {
            let layout = MlsKidLayout::new(epoch_bits, 0)?;
            let live = usize::try_from(layout.epoch_mask())
                .unwrap_or(usize::MAX)
                .saturating_add(1);
            Ok(Self {
                suite,
                epoch_bits,
                max_epochs: Self::DEFAULT_MAX_EPOCHS.min(live),
                max_cached_keys: Self::DEFAULT_MAX_CACHED_KEYS,
                window: ReplayWindow::default(),
                epochs: Vec::new(),
                tick: 0,
            })
        }

        /// Sets the number of live epochs.
        ///
        /// # Errors
        ///
        /// [`MlsError::Capacity`] unless `max_epochs` is 1 to `2^E`.
        pub fn with_max_epochs(mut self, max_epochs: usize) -> Result<Self, MlsError> {
            let live = 1u64 << self.epoch_bits;
            let requested = u64::try_from(max_epochs).map_err(|_| MlsError::Capacity)?;
            if max_epochs == 0 || requested > live {
                return Err(MlsError::Capacity);
            }
            self.max_epochs = max_epochs;
            Ok(self)
        }

        /// Sets the number of sender keys cached per epoch.
        ///
        /// # Errors
        ///
        /// [`MlsError::Capacity`] when `max_cached_keys` is 0.
        pub fn with_max_cached_keys(mut self, max_cached_keys: usize) -> Result<Self, MlsError> {
            if max_cached_keys == 0 {
                return Err(MlsError::Capacity);
            }
            self.max_cached_keys = max_cached_keys;
            Ok(self)
        }

        /// Gives sender keys `window` (for example [`ReplayWindow::disabled`]).
        #[must_use]
        pub fn with_replay_window(mut self, window: ReplayWindow) -> Self {
            self.set_replay_window(window);
            self
        }

        /// Gives sender keys derived from now on `window` (a key evicted from the cache and
        /// derived again resumes its own window).
        pub fn set_replay_window(&mut self, window: ReplayWindow) {
            self.window = window;
        }

        /// The cipher suite.
        #[must_use]
        pub fn suite(&self) -> CipherSuite {
            self.suite
        }

        /// `E`.
        #[must_use]
        pub fn epoch_bits(&self) -> u8 {
            self.epoch_bits
        }

        /// The bound on live epochs.
        #[must_use]
        pub fn max_epochs(&self) -> usize {
            self.max_epochs
        }

        /// The bound on cached sender keys per epoch.
        #[must_use]
        pub fn max_cached_keys(&self) -> usize {
            self.max_cached_keys
        }

        /// The live epochs, oldest installed first.
        pub fn live_epochs(&self) -> impl Iterator<Item = u64> + '_ {
            self.epochs.iter().map(|e| e.epoch)
        }

        /// The number of sender keys cached for `epoch` (0 when it is not live).
        #[must_use]
        pub fn cached_keys(&self, epoch: u64) -> usize {
            self.epochs
                .iter()
                .find(|e| e.epoch == epoch)
                .map_or(0, |e| e.keys.len())
        }

        fn mask(&self) -> u64 {
            (1u64 << self.epoch_bits) - 1
        }

        /// Installs `epoch` of a group of `group_size` members with its base key (from
        /// [`epoch_base_key`](super::epoch_base_key)). `own_index` is this member's leaf index,
        /// whose KIDs are then refused (a key is encrypt-only or decrypt-only, RFC 9605
        /// §4.4.1).
        ///
        /// First removes a live epoch with the same low `E` bits
        /// ([`evict_rollover`](Self::evict_rollover)), then the oldest one if the store is
        /// full. An epoch that was removed and is installed again starts with fresh replay
        /// windows, so install epochs as the MLS group moves forward, never an old one again
        /// ([`Session::install_epoch`](crate::Session::install_epoch) refuses epochs that are
        /// not newer).
        ///
        /// # Errors
        ///
        /// [`MlsError::DuplicateEpoch`] when `epoch` is live; [`MlsError::GroupSize`];
        /// [`MlsError::SenderIndexOutOfRange`] when `own_index` is not below `group_size`.
        /// On error nothing changes.
        pub fn install_epoch(
            &mut self,
            epoch: u64,
            group_size: u32,
            own_index: Option<u32>,
            base_key: BaseKey,
        ) -> Result<EpochInstalled, MlsError> {
            if self.epochs.iter().any(|e| e.epoch == epoch) {
                return Err(MlsError::DuplicateEpoch(epoch));
            }
            let layout = MlsKidLayout::for_group(self.epoch_bits, group_size)?;
            if own_index.is_some_and(|i| i >= group_size) {
                return Err(MlsError::SenderIndexOutOfRange);
            }
            let rolled_over = self.evict_rollover(epoch);
            let evicted_oldest = if self.epochs.len() >= self.max_epochs {
                let oldest = self.epochs.remove(0);
                Some(oldest.epoch)
            } else {
                None
            };
            self.epochs.push(LiveEpoch {
                epoch,
                layout,
                group_size,
                own_index,
                base_key,
                keys: Vec::new(),
                retired: Vec::new(),
            });
            Ok(EpochInstalled {
                rolled_over,
                evicted_oldest,
            })
        }

        /// Removes the live epoch whose low `E` bits equal those of `epoch` (RFC 9605 §5.2:
        /// "receivers MUST remove an old epoch when a new epoch with the same low-order E
        /// bits appears"). Returns the epoch removed. Called by
        /// [`install_epoch`](Self::install_epoch).
        pub fn evict_rollover(&mut self, epoch: u64) -> Option<u64> {
            let mask = self.mask();
            let position = self
                .epochs
                .iter()
                .position(|e| e.epoch & mask == epoch & mask)?;
            Some(self.epochs.remove(position).epoch)
        }

        /// Removes `epoch`; returns whether it was live.
        pub fn remove_epoch(&mut self, epoch: u64) -> bool {
            let before = self.epochs.len();
            self.epochs.retain(|e| e.epoch != epoch);
            self.epochs.len() != before
        }

        /// Removes every epoch below `epoch`; returns how many.
        pub fn remove_epochs_before(&mut self, epoch: u64) -> usize {
            let before = self.epochs.len();
            self.epochs.retain(|e| e.epoch >= epoch);
            before - self.epochs.len()
        }

        /// Which live epoch and sender a KID names, if any (no key is derived).
        #[must_use]
        pub fn resolve(&self, kid: KeyId) -> Option<MlsKeyId> {
            self.find(kid).map(|(_, id)| id)
        }

        fn find(&self, kid: KeyId) -> Option<(usize, MlsKeyId)> {
            let mask = self.mask();
            let position = self
                .epochs
                .iter()
                .position(|e| e.epoch & mask == kid.0 & mask)?;
            let epoch = self.epochs.get(position)?;
            let mut id = MlsKeyId::from_key_id(kid, epoch.layout);
            if id.sender_index >= epoch.group_size || Some(id.sender_index) == epoch.own_index {
                return None;
            }
            id.epoch = epoch.epoch;
            Some((position, id))
        }

        /// Authenticates and decrypts `frame` in place.
        ///
        /// # Errors
        ///
        /// [`DecryptError::UnknownKeyId`] when no live epoch has the KID's low bits, or the
        /// sender index is not a member (or is this member); otherwise as
        /// [`ReceiveKey::decrypt_in_place`]. On every error the store is unchanged.
        pub fn decrypt_in_place<'f>(
            &mut self,
            metadata: &[u8],
            frame: &'f mut [u8],
        ) -> Result<MlsFrame<'f>, DecryptError> {
            let (sender, plaintext) = open_in_place(self, metadata, frame)?;
            Ok(MlsFrame { sender, plaintext })
        }
    }

    /// The split open for an external AEAD (feature `external-aead`; see
    /// [`external`](crate::external)).
    #[cfg(feature = "external-aead")]
    impl MlsEpochStore {
        /// The first half of opening a frame with an external AEAD: decodes the header, finds
        /// the live epoch and the sender of its KID, takes the sender's cached key or derives
        /// it (one derivation, kept nowhere), and checks the metadata, the length and the
        /// replay window, as [`decrypt_in_place`](Self::decrypt_in_place) does before it
        /// authenticates. Changes nothing: no replay window moves, no key is cached.
        ///
        /// # Errors
        ///
        /// [`DecryptError::Header`]; [`DecryptError::UnknownKeyId`] when no live epoch has the
        /// KID's low bits or the sender index is not a member (or is this member);
        /// [`DecryptError::MetadataTooLong`], [`DecryptError::TooShort`],
        /// [`DecryptError::Replay`]: those of `decrypt_in_place`.
        pub fn begin_open(
            &self,
            metadata: &[u8],
            frame: &[u8],
        ) -> Result<crate::external::OpenRequest, DecryptError> {
            let (header, header_len) = Header::decode(frame)?;
            let kid = header.key_id();
            let unknown = DecryptError::UnknownKeyId(kid);
            let (position, _) = self.find(kid).ok_or(unknown)?;
            let epoch = self.epochs.get(position).ok_or(unknown)?;
            match epoch.keys.iter().find(|(k, _)| k.key_id() == kid) {
                Some((key, _)) => key.begin_open_decoded(header, header_len, metadata, frame),
                None => ReceiveKey::new(self.suite, kid, &epoch.base_key)
                    .with_replay_window(epoch.window_for(kid, self.window))
                    .begin_open_decoded(header, header_len, metadata, frame),
            }
        }

        /// The second half, once the external AEAD verified the frame's tag: finds the KID's
        /// epoch and sender again in the current state (an epoch may have been installed or
        /// removed meanwhile), moves the sender key's replay window and caches the key, as a
        /// frame authenticated by [`decrypt_in_place`](Self::decrypt_in_place) does. Returns
        /// who sent the frame. Never call it for a frame whose tag did not verify.
        ///
        /// # Errors
        ///
        /// [`DecryptError::UnknownKeyId`] when the KID's epoch is gone, or its low bits now
        /// name another epoch (rolled over); [`DecryptError::Replay`] when a frame with the
        /// same counter was committed meanwhile (drop this one). On error nothing changes.
        pub fn commit_open(
            &mut self,
            request: crate::external::OpenRequest,
        ) -> Result<MlsKeyId, DecryptError> {
            let kid = request.key_id();
            let unknown = DecryptError::UnknownKeyId(kid);
            let (position, sender) = self.find(kid).ok_or(unknown)?;
            let (suite, window, cap) = (self.suite, self.window, self.max_cached_keys);
            let tick = self.tick.wrapping_add(1);
            let epoch = self.epochs.get_mut(position).ok_or(unknown)?;
            if let Some((key, used)) = epoch.keys.iter_mut().find(|(k, _)| k.key_id() == kid) {
                key.commit_open(request)?;
                *used = tick;
            } else {
                let mut key = ReceiveKey::new(suite, kid, &epoch.base_key)
                    .with_replay_window(epoch.window_for(kid, window));
                key.commit_open(request)?;
                epoch.cache(key, tick, cap);
            }
            self.tick = tick;
            Ok(sender)
        }

        /// The `sframe_key` of the sender key for `kid` in its live epoch, to key the external
        /// AEAD with (derived from the epoch's base key; nothing is cached). `None` when the
        /// KID names no member of a live epoch. Zeroized on drop.
        #[must_use]
        pub fn aead_key(&self, kid: KeyId) -> Option<crate::secret::SframeKey> {
            let (position, _) = self.find(kid)?;
            let epoch = self.epochs.get(position)?;
            Some(crate::external::aead_key(self.suite, kid, &epoch.base_key))
        }
    }

    /// Which key of an epoch an [`MlsLease`] holds. Small on purpose: a lease is moved several
    /// times per frame, and a derived key held here (1.3 KiB) was copied with it on every frame
    /// (issue #15); it is derived in [`open`](KeyLease::open) instead.
    #[derive(Clone, Copy)]
    enum Lent {
        /// Index into the epoch's cache.
        Cached(usize),
        /// Not cached: derived from the epoch's base key when the frame is opened, and cached
        /// only if it authenticates.
        Derive(KeyId),
    }

    /// The key an [`MlsEpochStore`] lends for one frame ([`ReceiveKeys`]): a cached sender key,
    /// or one derived from the epoch's base key and cached only if the frame authenticates.
    pub struct MlsLease<'s> {
        store: &'s mut MlsEpochStore,
        position: usize,
        sender: MlsKeyId,
        lent: Lent,
    }

    impl KeyLease for MlsLease<'_> {
        type Sender = MlsKeyId;

        fn suite(&self) -> CipherSuite {
            self.store.suite
        }

        fn open(self, ciphertext: &mut Ciphertext<'_, '_>) -> Result<MlsKeyId, DecryptError> {
            let kid = ciphertext.key_id();
            match self.lent {
                Lent::Cached(i) => self
                    .open_cached(i, kid, |key| key.open(ciphertext))
                    .map(|(sender, ())| sender),
                Lent::Derive(kid) => {
                    let store = self.store;
                    let tick = store.tick.wrapping_add(1);
                    let (suite, fresh, cap) = (store.suite, store.window, store.max_cached_keys);
                    let epoch = store
                        .epochs
                        .get_mut(self.position)
                        .ok_or(DecryptError::UnknownKeyId(kid))?;
                    epoch.open_derived(suite, kid, fresh, tick, cap, ciphertext)?;
                    store.tick = tick;
                    Ok(self.sender)
                }
            }
        }

        #[inline]
        fn open_frame<'f>(
            self,
            header: Header,
            header_len: usize,
            metadata: &[u8],
            frame: &'f mut [u8],
        ) -> Result<(MlsKeyId, &'f mut [u8]), DecryptError> {
            let Lent::Cached(i) = self.lent else {
                return open_split(self, header, header_len, metadata, frame);
            };
            // A cached key: the frame opened where it lies.
            self.open_cached(i, header.key_id(), |key| {
                key.open_frame(header, header_len, metadata, frame)
            })
            .map(|(sender, ((), plaintext))| (sender, plaintext))
        }
    }

    impl MlsLease<'_> {
        /// Opens with the `i`th cached key of the lent epoch (`open` is `ReceiveKey::open` or
        /// `open_frame`), and only once it succeeded marks the key used and moves the tick.
        fn open_cached<R>(
            self,
            i: usize,
            kid: KeyId,
            open: impl FnOnce(&mut ReceiveKey) -> Result<R, DecryptError>,
        ) -> Result<(MlsKeyId, R), DecryptError> {
            let store = self.store;
            let tick = store.tick.wrapping_add(1);
            let unknown = DecryptError::UnknownKeyId(kid);
            let epoch = store.epochs.get_mut(self.position).ok_or(unknown)?;
            let (key, used) = epoch.keys.get_mut(i).ok_or(unknown)?;
            let opened = open(key)?;
            *used = tick;
            store.tick = tick;
            Ok((self.sender, opened))
        }
    }

    impl fmt::Debug for MlsLease<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("MlsLease")
                .field("sender", &self.sender)
                .field("cached", &matches!(self.lent, Lent::Cached(_)))
                .finish_non_exhaustive()
        }
    }

    impl ReceiveKeys for MlsEpochStore {
        type Sender = MlsKeyId;
        type Lease<'s> = MlsLease<'s>;

        /// Finds the epoch and sender of `kid`; lends the sender's cached key, or one that
        /// opening the frame derives from the epoch's base key (one derivation, kept only if
        /// the frame authenticates).
        fn lend(&mut self, kid: KeyId) -> Option<MlsLease<'_>> {
            let (position, sender) = self.find(kid)?;
            let epoch = self.epochs.get(position)?;
            let lent = match epoch.keys.iter().position(|(k, _)| k.key_id() == kid) {
                Some(i) => Lent::Cached(i),
                None => Lent::Derive(kid),
            };
            Some(MlsLease {
                store: self,
                position,
                sender,
                lent,
            })
        }
    }

    impl fmt::Debug for MlsEpochStore {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let mut list = f.debug_struct("MlsEpochStore");
            list.field("suite", &self.suite)
                .field("epoch_bits", &self.epoch_bits)
                .field("live_epochs", &self.epochs.len());
            list.finish_non_exhaustive()
        }
    }
}
