//! Sender keys and the ratchet (RFC 9605 §5.1).
//!
//! Each sender owns a base key and tells it to the others over a channel SFrame does not
//! provide. The KID carries a key generation (a fresh base key, for example after someone
//! left) and a ratchet step (the base key hashed forward, for example after someone joined):
//!
//! ```text
//!  bit 63                                   R  R-1                    0
//! +---------------------------------------------+-----------------------+
//! |     key generation (64 - R bits)            | ratchet step (R bits) |
//! +---------------------------------------------+-----------------------+
//! KID = (key_generation << R) + (ratchet_step % (1 << R))
//! ```
//!
//! `R` is the application's choice, known to every receiver ([`RatchetBits`], 1 to 63 here:
//! no shift ever overflows). The ratchet step itself is RFC-exact, label as written and output
//! `Nh` bytes:
//!
//! ```text
//! base_key[i+1] = HKDF-Expand(HKDF-Extract("", base_key[i]), "SFrame 1.0 Ratchet", CipherSuite.Nh)
//! ```
//!
//! - [`RatchetSender`] owns the base key, the generation, the step and the
//!   [`Encryptor`]; it ratchets or starts a new generation on demand.
//! - [`RatchetReceiver`] follows one sender: forward within a configured distance, keeping a
//!   bounded number of older steps for late frames, and moving only after a frame
//!   authenticated under the new step. A forged frame with a far-future step costs at most
//!   the configured number of ratchet steps and changes nothing.
//!
//! Neither needs an allocator.

use core::fmt;

use subtle::ConstantTimeEq;

use crate::decryptor::{
    Ciphertext, DecryptError, KeyLease, ReceiveKey, ReceiveKeys, open_in_place, open_split,
};
use crate::encryptor::Encryptor;
use crate::header::{Header, KeyId};
use crate::key_schedule::ratchet;
use crate::replay::ReplayWindow;
use crate::secret::BaseKey;
use crate::suite::CipherSuite;

/// `R` of RFC 9605 §5.1: how many low KID bits carry the ratchet step. 1 to 63.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RatchetBits(u8);

impl RatchetBits {
    /// The smallest `R`.
    pub const MIN: u8 = 1;
    /// The largest `R`: at least one bit is left for the generation.
    pub const MAX: u8 = 63;
    /// `R = 8`: 256 ratchet steps before the step bits wrap, one KID byte for them.
    pub const DEFAULT: Self = Self(8);

    /// `R = bits`.
    ///
    /// # Errors
    ///
    /// [`RatchetError::Bits`] unless `bits` is 1 to 63.
    pub const fn new(bits: u8) -> Result<Self, RatchetError> {
        if bits < Self::MIN || bits > Self::MAX {
            return Err(RatchetError::Bits);
        }
        Ok(Self(bits))
    }

    /// `R`.
    #[must_use]
    pub const fn get(self) -> u8 {
        self.0
    }

    /// `2^R`: how many ratchet-step values the KID can tell apart.
    #[must_use]
    pub const fn step_values(self) -> u64 {
        1u64 << self.0
    }

    /// `2^R - 1`: the mask of the ratchet-step bits.
    #[must_use]
    pub const fn step_mask(self) -> u64 {
        self.step_values() - 1
    }

    /// `2^(64-R) - 1`: the largest key generation.
    #[must_use]
    pub const fn max_generation(self) -> u64 {
        u64::MAX >> self.0
    }
}

/// A sender-key KID taken apart (RFC 9605 §5.1): the key generation and the ratchet step.
///
/// `ratchet_step` is what the KID carries, the step modulo `2^R`.
///
/// ```
/// use secure_frame::{KeyId, RatchetBits, SenderKeyId};
///
/// let r = RatchetBits::new(8)?;
/// let kid = SenderKeyId::new(3, 0x1_05).to_key_id(r)?; // step 0x105 % 256 = 5
/// assert_eq!(kid, KeyId(0x305));
/// assert_eq!(SenderKeyId::from_key_id(kid, r), SenderKeyId::new(3, 5));
/// # Ok::<(), secure_frame::RatchetError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SenderKeyId {
    /// The key generation: the high `64 - R` bits.
    pub generation: u64,
    /// The ratchet step: the low `R` bits (reduced modulo `2^R` when packed).
    pub ratchet_step: u64,
}

impl SenderKeyId {
    /// A generation and a ratchet step.
    #[must_use]
    pub const fn new(generation: u64, ratchet_step: u64) -> Self {
        Self {
            generation,
            ratchet_step,
        }
    }

    // RFC 9605 §5.1
    // KID = (key_generation << R) + (ratchet_step % (1 << R))
    /// Packs the KID.
    ///
    /// # Errors
    ///
    /// [`RatchetError::GenerationOutOfRange`] when the generation does not fit in `64 - R` bits
    /// (it is never silently truncated).
    pub const fn to_key_id(self, bits: RatchetBits) -> Result<KeyId, RatchetError> {
        if self.generation > bits.max_generation() {
            return Err(RatchetError::GenerationOutOfRange);
        }
        Ok(KeyId(
            (self.generation << bits.get()) | (self.ratchet_step & bits.step_mask()),
        ))
    }

    /// Takes a KID apart.
    #[must_use]
    pub const fn from_key_id(kid: KeyId, bits: RatchetBits) -> Self {
        Self {
            generation: kid.0 >> bits.get(),
            ratchet_step: kid.0 & bits.step_mask(),
        }
    }
}

/// A sender's own key (RFC 9605 §5.1): base key, generation, ratchet step and the
/// [`Encryptor`] of the current KID.
///
/// [`ratchet`](Self::ratchet) hashes the base key forward (a new KID whose counter restarts
/// at 0: safe, because the key differs); [`new_generation`](Self::new_generation) installs a
/// fresh base key. Not `Clone`: one sender, one counter. Needs no allocator.
pub struct RatchetSender {
    bits: RatchetBits,
    generation: u64,
    /// The full step count within the generation; the KID carries it modulo `2^R`.
    step: u64,
    base_key: BaseKey,
    encryptor: Encryptor,
}

impl RatchetSender {
    /// A sender at `generation`, ratchet step 0, with `base_key`.
    ///
    /// # Errors
    ///
    /// [`RatchetError::GenerationOutOfRange`] when `generation` does not fit in `64 - R` bits.
    pub fn new(
        suite: CipherSuite,
        bits: RatchetBits,
        generation: u64,
        base_key: BaseKey,
    ) -> Result<Self, RatchetError> {
        let kid = SenderKeyId::new(generation, 0).to_key_id(bits)?;
        let encryptor = Encryptor::new(suite, kid, &base_key);
        Ok(Self {
            bits,
            generation,
            step: 0,
            base_key,
            encryptor,
        })
    }

    /// The cipher suite.
    #[must_use]
    pub fn suite(&self) -> CipherSuite {
        self.encryptor.suite()
    }

    /// `R`.
    #[must_use]
    pub fn ratchet_bits(&self) -> RatchetBits {
        self.bits
    }

    /// The current key generation.
    #[must_use]
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// How many times the current generation has been ratcheted (not reduced modulo `2^R`).
    #[must_use]
    pub fn ratchet_step(&self) -> u64 {
        self.step
    }

    /// The current KID, taken apart.
    #[must_use]
    pub fn sender_key_id(&self) -> SenderKeyId {
        SenderKeyId::from_key_id(self.key_id(), self.bits)
    }

    /// The KID frames carry now.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.encryptor.key_id()
    }

    /// The base key of the current step: what a new receiver needs, with
    /// [`sender_key_id`](Self::sender_key_id), to follow this sender from here on. It cannot
    /// compute any earlier step.
    #[must_use]
    pub fn base_key(&self) -> &BaseKey {
        &self.base_key
    }

    /// The encryptor of the current KID, to read (the session's `protected_len`).
    #[cfg(feature = "alloc")]
    pub(crate) fn encryptor_ref(&self) -> &Encryptor {
        &self.encryptor
    }

    /// The `sframe_key` of the current KID, to key an external AEAD with for
    /// [`encryptor`](Self::encryptor)'s `begin_seal` (feature `external-aead`; see
    /// [`external`](crate::external)). It changes with every [`ratchet`](Self::ratchet) and
    /// [`new_generation`](Self::new_generation): take it again after each. Zeroized on drop.
    #[cfg(feature = "external-aead")]
    #[must_use]
    pub fn aead_key(&self) -> crate::secret::SframeKey {
        crate::external::aead_key(self.suite(), self.key_id(), &self.base_key)
    }

    /// The encryptor of the current KID.
    pub fn encryptor(&mut self) -> &mut Encryptor {
        &mut self.encryptor
    }

    /// Hashes the base key one step forward (RFC 9605 §5.1) and switches to the new KID, with
    /// its counter at 0. Returns the new KID.
    ///
    /// # Errors
    ///
    /// [`RatchetError::Exhausted`] after `u64::MAX` steps. On error nothing changes.
    pub fn ratchet(&mut self) -> Result<KeyId, RatchetError> {
        let step = self.step.checked_add(1).ok_or(RatchetError::Exhausted)?;
        let next = ratchet(self.suite(), &self.base_key);
        let kid = SenderKeyId::new(self.generation, step).to_key_id(self.bits)?;
        self.encryptor = Encryptor::new(self.suite(), kid, &next);
        self.base_key = next;
        self.step = step;
        Ok(kid)
    }

    /// Starts the next key generation with a fresh `base_key`, ratchet step 0. Returns the new
    /// KID.
    ///
    /// # Errors
    ///
    /// [`RatchetError::GenerationOutOfRange`] when the generation would not fit in `64 - R` bits.
    /// On error nothing changes.
    pub fn new_generation(&mut self, base_key: BaseKey) -> Result<KeyId, RatchetError> {
        let generation = self
            .generation
            .checked_add(1)
            .ok_or(RatchetError::GenerationOutOfRange)?;
        let kid = SenderKeyId::new(generation, 0).to_key_id(self.bits)?;
        self.encryptor = Encryptor::new(self.suite(), kid, &base_key);
        self.base_key = base_key;
        self.generation = generation;
        self.step = 0;
        Ok(kid)
    }
}

impl fmt::Debug for RatchetSender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RatchetSender")
            .field("bits", &self.bits.get())
            .field("generation", &self.generation)
            .field("step", &self.step)
            .field("encryptor", &self.encryptor)
            .finish_non_exhaustive()
    }
}

/// The one holder of a sender's key and counter (RFC 9605 §5.1), as key distribution sees it:
/// its current key, to seal to receivers, and the two ways to move it on. Implemented by
/// [`RatchetSender`] and by [`SenderKeySession`](crate::SenderKeySession), so that the
/// group envelopes of [`agreement`](crate::agreement) seal the key of the very encryptor that
/// sends the frames: never a second encryptor for one key (a nonce reused).
pub trait SenderKeyHolder {
    /// The cipher suite.
    fn suite(&self) -> CipherSuite;
    /// `R`.
    fn ratchet_bits(&self) -> RatchetBits;
    /// The current sender key and its base key, once there is one.
    fn current_key(&self) -> Option<(SenderKeyId, &BaseKey)>;
    /// Ratchets one step; returns the new KID.
    ///
    /// # Errors
    ///
    /// [`RatchetError::NoSendKey`] before the first key; as [`RatchetSender::ratchet`].
    fn ratchet(&mut self) -> Result<KeyId, RatchetError>;
    /// Starts the next generation with `base_key` (the first one, if there is no key yet);
    /// returns the new KID.
    ///
    /// # Errors
    ///
    /// As [`RatchetSender::new_generation`].
    fn next_generation(&mut self, base_key: BaseKey) -> Result<KeyId, RatchetError>;
}

impl SenderKeyHolder for RatchetSender {
    fn suite(&self) -> CipherSuite {
        RatchetSender::suite(self)
    }

    fn ratchet_bits(&self) -> RatchetBits {
        self.bits
    }

    fn current_key(&self) -> Option<(SenderKeyId, &BaseKey)> {
        Some((self.sender_key_id(), &self.base_key))
    }

    fn ratchet(&mut self) -> Result<KeyId, RatchetError> {
        RatchetSender::ratchet(self)
    }

    fn next_generation(&mut self, base_key: BaseKey) -> Result<KeyId, RatchetError> {
        self.new_generation(base_key)
    }
}

/// The most older keys a [`RatchetReceiver`] keeps.
pub const MAX_RETAINED_STEPS: usize = 4;

/// The receive side of one sender's keys (RFC 9605 §5.1).
///
/// Holds the sender's current generation and step (base key and receive key), and up to
/// [`retained_steps`](Self::retained_steps) older keys for late frames. A frame whose KID is
/// a step ahead within [`max_forward`](Self::max_forward) is tried under a key ratcheted
/// forward; only if it authenticates does the receiver move there, keeping the keys it passed
/// as older steps. Older keys beyond the bound are dropped (zeroized).
///
/// Every ratchet-step value means one step: retained steps, the current step and the forward
/// window together span fewer than `2^R` values, so a KID is never ambiguous.
pub struct RatchetReceiver {
    bits: RatchetBits,
    max_forward: u64,
    retained_cap: usize,
    window: ReplayWindow,
    generation: u64,
    /// The current ratchet step modulo `2^R`.
    step: u64,
    base_key: BaseKey,
    current: ReceiveKey,
    /// Older keys, newest first.
    retained: [Option<ReceiveKey>; MAX_RETAINED_STEPS],
}

impl RatchetReceiver {
    /// The default catch-up distance (lowered to fit small `R`).
    pub const DEFAULT_MAX_FORWARD: u64 = 16;
    /// The default number of older steps kept (lowered to fit small `R`).
    pub const DEFAULT_RETAINED_STEPS: usize = 2;
    /// How far ahead within its generation [`install`](Self::install) follows a key: 4096
    /// ratchet steps, one HKDF each (a few milliseconds).
    pub const MAX_INSTALL_STEPS: u64 = 4096;

    /// A receiver of a sender now at `key` with `base_key`: the base key of that generation
    /// and step (what [`RatchetSender::base_key`] gives). A late joiner starts wherever the
    /// sender is.
    ///
    /// # Errors
    ///
    /// [`RatchetError::GenerationOutOfRange`] when the generation does not fit in `64 - R` bits.
    pub fn new(
        suite: CipherSuite,
        bits: RatchetBits,
        key: SenderKeyId,
        base_key: BaseKey,
    ) -> Result<Self, RatchetError> {
        let kid = key.to_key_id(bits)?;
        let current = ReceiveKey::new(suite, kid, &base_key);
        // 2^R - 1 values besides the current one; R = 1 leaves one, for catching up.
        let spare = bits.step_mask();
        let retained_cap = usize::try_from(spare / 2)
            .unwrap_or(usize::MAX)
            .min(Self::DEFAULT_RETAINED_STEPS);
        let retained_u64 = u64::try_from(retained_cap).unwrap_or(0);
        let max_forward = Self::DEFAULT_MAX_FORWARD.min(spare - retained_u64);
        Ok(Self {
            bits,
            max_forward,
            retained_cap,
            window: ReplayWindow::default(),
            generation: key.generation,
            step: key.ratchet_step & bits.step_mask(),
            base_key,
            current,
            retained: [None, None, None, None],
        })
    }

    /// Sets how many steps ahead a frame may be and how many older steps are kept.
    ///
    /// # Errors
    ///
    /// [`RatchetError::Window`] unless `max_forward >= 1`,
    /// `retained_steps <= MAX_RETAINED_STEPS` and `max_forward + retained_steps < 2^R`.
    pub fn with_limits(
        mut self,
        max_forward: u64,
        retained_steps: usize,
    ) -> Result<Self, RatchetError> {
        let retained = u64::try_from(retained_steps).map_err(|_| RatchetError::Window)?;
        let span = max_forward
            .checked_add(retained)
            .ok_or(RatchetError::Window)?;
        if max_forward == 0 || retained_steps > MAX_RETAINED_STEPS || span > self.bits.step_mask() {
            return Err(RatchetError::Window);
        }
        self.max_forward = max_forward;
        self.retained_cap = retained_steps;
        for slot in self.retained.iter_mut().skip(retained_steps) {
            *slot = None;
        }
        Ok(self)
    }

    /// Gives keys installed from now on `window` (the current key keeps its own).
    #[must_use]
    pub fn with_replay_window(mut self, window: ReplayWindow) -> Self {
        self.window = window;
        self.current = self.current.with_replay_window(window);
        self
    }

    /// `R`.
    #[must_use]
    pub fn ratchet_bits(&self) -> RatchetBits {
        self.bits
    }

    /// The cipher suite.
    #[must_use]
    pub fn suite(&self) -> CipherSuite {
        self.current.suite()
    }

    /// How many ratchet steps ahead of the current one a frame may be.
    #[must_use]
    pub fn max_forward(&self) -> u64 {
        self.max_forward
    }

    /// How many older steps are kept for late frames.
    #[must_use]
    pub fn retained_steps(&self) -> usize {
        self.retained_cap
    }

    /// The current KID.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.current.key_id()
    }

    /// The current KID, taken apart (the step modulo `2^R`).
    #[must_use]
    pub fn sender_key_id(&self) -> SenderKeyId {
        SenderKeyId::new(self.generation, self.step)
    }

    /// The KIDs of the older keys still kept, newest first.
    pub fn retained_key_ids(&self) -> impl Iterator<Item = KeyId> + '_ {
        self.retained.iter().flatten().map(ReceiveKey::key_id)
    }

    /// Whether a frame with `kid` would be tried: the current key, a kept older key, or a step
    /// ahead within [`max_forward`](Self::max_forward).
    #[must_use]
    pub fn recognizes(&self, kid: KeyId) -> bool {
        kid == self.key_id()
            || self.retained_key_ids().any(|k| k == kid)
            || self.forward_distance(kid).is_some()
    }

    /// How many steps ahead `kid` is, if it is within the catch-up distance.
    fn forward_distance(&self, kid: KeyId) -> Option<u64> {
        let id = SenderKeyId::from_key_id(kid, self.bits);
        if id.generation != self.generation {
            return None;
        }
        let distance = id.ratchet_step.wrapping_sub(self.step) & self.bits.step_mask();
        (1..=self.max_forward)
            .contains(&distance)
            .then_some(distance)
    }

    /// Installs a key the sender distributed (a new generation, or its ratcheted key sent on
    /// join): the current key becomes an older one. The key arrives over the application's
    /// authenticated channel, so it is installed at once, but only if it is ahead of the
    /// current one: a key message delivered twice, or replayed, must not move the receiver
    /// back to a key whose frames it has already accepted (with a fresh replay window, they
    /// would be accepted again).
    ///
    /// A newer generation is ahead. Within the current generation step numbers wrap modulo
    /// `2^R` and cannot tell an old step from a new one, so the key itself decides: it is ahead
    /// when ratcheting the current base key forward to its step, at most
    /// [`MAX_INSTALL_STEPS`](Self::MAX_INSTALL_STEPS) steps, gives exactly it (compared in
    /// constant time). An older key is never on that path.
    ///
    /// # Errors
    ///
    /// [`RatchetError::GenerationOutOfRange`]; [`RatchetError::DuplicateKeyId`] when `key` is the
    /// current KID; [`RatchetError::NotNewer`] for an older generation, or a key of the current
    /// generation that is not the current key ratcheted forward (an older step, another key,
    /// or more than `MAX_INSTALL_STEPS` ahead: start a new generation instead). On error
    /// nothing changes.
    pub fn install(&mut self, key: SenderKeyId, base_key: BaseKey) -> Result<(), RatchetError> {
        let kid = key.to_key_id(self.bits)?;
        if kid == self.key_id() {
            return Err(RatchetError::DuplicateKeyId(kid));
        }
        let ahead = match key.generation.cmp(&self.generation) {
            core::cmp::Ordering::Greater => true,
            core::cmp::Ordering::Equal => self.leads_to(key.ratchet_step, &base_key),
            core::cmp::Ordering::Less => false,
        };
        if !ahead {
            return Err(RatchetError::NotNewer);
        }
        let receive = ReceiveKey::new(self.suite(), kid, &base_key).with_replay_window(self.window);
        let old = core::mem::replace(&mut self.current, receive);
        self.retain(old);
        self.generation = key.generation;
        self.step = key.ratchet_step & self.bits.step_mask();
        self.base_key = base_key;
        Ok(())
    }

    /// Whether ratcheting the current base key forward to `step` (modulo `2^R`, at most
    /// [`MAX_INSTALL_STEPS`](Self::MAX_INSTALL_STEPS) steps) gives `base_key`.
    fn leads_to(&self, step: u64, base_key: &BaseKey) -> bool {
        let distance = step.wrapping_sub(self.step) & self.bits.step_mask();
        if distance == 0 || distance > Self::MAX_INSTALL_STEPS {
            return false;
        }
        let next = self.base_key_ahead(distance);
        bool::from(next.expose_secret().ct_eq(base_key.expose_secret()))
    }

    /// The current base key ratcheted `distance` (at least 1) steps forward.
    fn base_key_ahead(&self, distance: u64) -> BaseKey {
        let suite = self.suite();
        let mut next = ratchet(suite, &self.base_key);
        for _ in 1..distance {
            next = ratchet(suite, &next);
        }
        next
    }

    /// Pushes `key` as the newest older key, dropping the oldest beyond the bound.
    fn retain(&mut self, key: ReceiveKey) {
        if self.retained_cap == 0 {
            return;
        }
        self.retained.rotate_right(1);
        if let Some(first) = self.retained.first_mut() {
            *first = Some(key);
        }
        for slot in self.retained.iter_mut().skip(self.retained_cap) {
            *slot = None;
        }
    }

    /// Authenticates and decrypts `frame` in place, returning the plaintext as a sub-slice.
    ///
    /// A frame under the current or a kept older key is decrypted directly. A frame up to
    /// [`max_forward`](Self::max_forward) steps ahead is tried under the ratcheted key; if it
    /// authenticates, the receiver moves to that step (the steps passed over are kept as older
    /// keys, within the bound). Anything else is [`DecryptError::UnknownKeyId`], with no work.
    ///
    /// # Errors
    ///
    /// As [`ReceiveKey::decrypt_in_place`]; [`DecryptError::UnknownKeyId`] for a KID of another
    /// generation or out of reach. On every error the receiver's state is unchanged.
    pub fn decrypt_in_place<'f>(
        &mut self,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<&'f mut [u8], DecryptError> {
        open_in_place(self, metadata, frame).map(|((), plaintext)| plaintext)
    }

    /// Moves to the key `distance` steps ahead, `key` with `base_key`, after a frame under it
    /// authenticated: keeps the steps passed over that fit in the bound.
    fn commit_catch_up(&mut self, distance: u64, key: ReceiveKey, base_key: BaseKey) {
        let suite = self.suite();
        let keep_from = distance.saturating_sub(u64::try_from(self.retained_cap).unwrap_or(0));
        let mut passed = ratchet(suite, &self.base_key);
        let current = core::mem::replace(&mut self.current, key);
        self.retain(current);
        for i in 1..distance {
            if i >= keep_from.max(1) {
                let step = self.step.wrapping_add(i) & self.bits.step_mask();
                let passed_kid = SenderKeyId::new(self.generation, step).to_key_id(self.bits);
                if let Ok(kid) = passed_kid {
                    let key = ReceiveKey::new(suite, kid, &passed);
                    self.retain(key.with_replay_window(self.window));
                }
            }
            passed = ratchet(suite, &passed);
        }
        self.step = self.step.wrapping_add(distance) & self.bits.step_mask();
        self.base_key = base_key;
    }
}

/// The split open for an external AEAD (feature `external-aead`; see
/// [`external`](crate::external)).
#[cfg(feature = "external-aead")]
impl RatchetReceiver {
    /// The current key or a kept older key for `kid`.
    fn held(&self, kid: KeyId) -> Option<&ReceiveKey> {
        if kid == self.current.key_id() {
            return Some(&self.current);
        }
        self.retained.iter().flatten().find(|k| k.key_id() == kid)
    }

    /// As [`held`](Self::held), to commit.
    fn held_mut(&mut self, kid: KeyId) -> Option<&mut ReceiveKey> {
        if kid == self.current.key_id() {
            return Some(&mut self.current);
        }
        self.retained
            .iter_mut()
            .flatten()
            .find(|k| k.key_id() == kid)
    }

    /// The candidate key for `kid`, `distance` steps ahead, and its base key: what
    /// [`lend`](ReceiveKeys::lend) derives (at most `max_forward` ratchet steps, one key
    /// derivation).
    fn candidate(&self, kid: KeyId, distance: u64) -> (ReceiveKey, BaseKey) {
        let base_key = self.base_key_ahead(distance);
        let key = ReceiveKey::new(self.suite(), kid, &base_key).with_replay_window(self.window);
        (key, base_key)
    }

    /// The first half of opening a frame with an external AEAD: decodes the header, finds the
    /// key for its KID — the current key, a kept older key, or the candidate a few steps
    /// ahead, with the bounded work of [`decrypt_in_place`](Self::decrypt_in_place) — and
    /// checks the metadata, the length and the replay window, as `decrypt_in_place` does before
    /// it authenticates. Changes nothing: no replay window moves, the receiver does not
    /// ratchet.
    ///
    /// # Errors
    ///
    /// [`DecryptError::Header`]; [`DecryptError::UnknownKeyId`] for a KID of another
    /// generation or out of reach; [`DecryptError::MetadataTooLong`],
    /// [`DecryptError::TooShort`], [`DecryptError::Replay`]: those of `decrypt_in_place`.
    pub fn begin_open(
        &self,
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<crate::external::OpenRequest, DecryptError> {
        let (header, header_len) = Header::decode(frame)?;
        let kid = header.key_id();
        if let Some(key) = self.held(kid) {
            return key.begin_open_decoded(header, header_len, metadata, frame);
        }
        let distance = self
            .forward_distance(kid)
            .ok_or(DecryptError::UnknownKeyId(kid))?;
        let (key, _base_key) = self.candidate(kid, distance);
        key.begin_open_decoded(header, header_len, metadata, frame)
    }

    /// The second half, once the external AEAD verified the frame's tag: looks the KID up
    /// again in the current state (another frame may have been committed meanwhile, and the
    /// receiver may have moved) and moves that key's replay window; for a KID still ahead,
    /// ratchets forward to it exactly as a frame authenticated by
    /// [`decrypt_in_place`](Self::decrypt_in_place) does. Never call it for a frame whose tag
    /// did not verify.
    ///
    /// # Errors
    ///
    /// [`DecryptError::UnknownKeyId`] when the KID is out of reach now (the receiver moved past
    /// it, or installed a new generation), or names another key than the request was made
    /// for; [`DecryptError::Replay`] when a frame with the same counter was committed
    /// meanwhile (drop this one). On error nothing changes.
    pub fn commit_open(
        &mut self,
        request: crate::external::OpenRequest,
    ) -> Result<(), DecryptError> {
        let kid = request.key_id();
        if let Some(key) = self.held_mut(kid) {
            return key.commit_open(request);
        }
        let distance = self
            .forward_distance(kid)
            .ok_or(DecryptError::UnknownKeyId(kid))?;
        let (mut key, base_key) = self.candidate(kid, distance);
        key.commit_open(request)?;
        self.commit_catch_up(distance, key, base_key);
        Ok(())
    }

    /// The `sframe_key` for `kid`, to key the external AEAD with: of the current key, a kept
    /// older key, or (bounded work, as [`begin_open`](Self::begin_open)) the candidate a few
    /// steps ahead. `None` for a KID this receiver would not try. Zeroized on drop.
    #[must_use]
    pub fn aead_key(&self, kid: KeyId) -> Option<crate::secret::SframeKey> {
        if let Some(key) = self.held(kid) {
            return Some(key.aead_key());
        }
        let distance = self.forward_distance(kid)?;
        let base_key = self.base_key_ahead(distance);
        Some(crate::external::aead_key(self.suite(), kid, &base_key))
    }
}

/// Which of a [`RatchetReceiver`]'s keys a [`RatchetLease`] holds. Small on purpose: a lease
/// is moved several times per frame, and a candidate key held here (1.3 KiB) was copied with it
/// on every frame (issue #15); the candidate is derived in [`open`](KeyLease::open) instead.
#[derive(Clone, Copy)]
enum Lent {
    Current,
    Retained(usize),
    /// The candidate `distance` steps ahead: derived when the frame is opened, installed only
    /// if it authenticates, dropped (zeroized) otherwise.
    Ahead {
        distance: u64,
        kid: KeyId,
    },
}

/// The key a [`RatchetReceiver`] lends for one frame ([`ReceiveKeys`]): its current key, a
/// kept older key, or a candidate a few steps ahead that it moves to only if the frame
/// authenticates.
pub struct RatchetLease<'s> {
    receiver: &'s mut RatchetReceiver,
    lent: Lent,
}

impl KeyLease for RatchetLease<'_> {
    type Sender = ();

    fn suite(&self) -> CipherSuite {
        self.receiver.suite()
    }

    fn open(self, ciphertext: &mut Ciphertext<'_, '_>) -> Result<(), DecryptError> {
        let receiver = self.receiver;
        match self.lent {
            Lent::Current => receiver.current.open(ciphertext),
            Lent::Retained(i) => receiver
                .retained
                .get_mut(i)
                .and_then(Option::as_mut)
                .ok_or(DecryptError::UnknownKeyId(ciphertext.key_id()))?
                .open(ciphertext),
            Lent::Ahead { distance, kid } => receiver.open_ahead(distance, kid, ciphertext),
        }
    }

    #[inline]
    fn open_frame<'f>(
        self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<((), &'f mut [u8]), DecryptError> {
        match self.lent {
            // The frame opened where it lies; the rest through a `Ciphertext`, as `open`.
            Lent::Current => self
                .receiver
                .current
                .open_frame(header, header_len, metadata, frame),
            Lent::Retained(_) | Lent::Ahead { .. } => {
                open_split(self, header, header_len, metadata, frame)
            }
        }
    }
}

impl RatchetReceiver {
    /// Opens `ciphertext` under the candidate key `distance` steps ahead (bounded work: at most
    /// [`max_forward`](Self::max_forward) ratchet steps and one key derivation), and moves to
    /// it only if the frame authenticates.
    #[cold]
    #[inline(never)]
    fn open_ahead(
        &mut self,
        distance: u64,
        kid: KeyId,
        ciphertext: &mut Ciphertext<'_, '_>,
    ) -> Result<(), DecryptError> {
        let base_key = self.base_key_ahead(distance);
        let mut key = ReceiveKey::new(self.suite(), kid, &base_key).with_replay_window(self.window);
        // A forgery fails here; `key` and `base_key` are dropped (zeroized) and no state moved.
        key.open(ciphertext)?;
        self.commit_catch_up(distance, key, base_key);
        Ok(())
    }
}

impl fmt::Debug for RatchetLease<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lent = match &self.lent {
            Lent::Current => "current",
            Lent::Retained(_) => "retained",
            Lent::Ahead { .. } => "ahead",
        };
        f.debug_struct("RatchetLease")
            .field("lent", &lent)
            .finish_non_exhaustive()
    }
}

impl ReceiveKeys for RatchetReceiver {
    type Sender = ();
    type Lease<'s> = RatchetLease<'s>;

    /// The current key, a kept older key, or a candidate for a KID a few steps ahead, which
    /// opening the frame derives (bounded work: at most
    /// [`max_forward`](RatchetReceiver::max_forward) ratchet steps and one key derivation).
    fn lend(&mut self, kid: KeyId) -> Option<RatchetLease<'_>> {
        let lent = if kid == self.current.key_id() {
            Lent::Current
        } else if let Some(i) = self
            .retained
            .iter()
            .position(|k| k.as_ref().is_some_and(|k| k.key_id() == kid))
        {
            Lent::Retained(i)
        } else {
            let distance = self.forward_distance(kid)?;
            Lent::Ahead { distance, kid }
        };
        Some(RatchetLease {
            receiver: self,
            lent,
        })
    }
}

impl fmt::Debug for RatchetReceiver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RatchetReceiver")
            .field("bits", &self.bits.get())
            .field("generation", &self.generation)
            .field("step", &self.step)
            .field("max_forward", &self.max_forward)
            .field("retained", &self.retained.iter().flatten().count())
            .finish_non_exhaustive()
    }
}

/// Why a sender-key operation of RFC 9605 §5.1 was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum RatchetError {
    /// The ratchet step bits `R` must be 1 to 63.
    #[error("ratchet bits out of range")]
    Bits,
    /// A key generation does not fit in the `64 - R` high bits of the KID.
    #[error("key generation out of range")]
    GenerationOutOfRange,
    /// The ratchet step counter of a sender reached `u64::MAX`.
    #[error("ratchet steps exhausted")]
    Exhausted,
    /// A receiver's catch-up distance plus its retained steps must be at least 1 and less than
    /// `2^R`, so that every ratchet-step value means exactly one step.
    #[error("ratchet catch-up or retention out of range")]
    Window,
    /// This KID is the receiver's current one: a KID maps to exactly one base key
    /// (RFC 9605 §4.4.1).
    #[error("a key with KID {0} is already installed")]
    DuplicateKeyId(KeyId),
    /// A generation (or a key within the current generation) is not newer than the current
    /// one: a key is never installed again, which would restart its counter or rewind a
    /// receiver.
    #[error("generation is not newer than the current one")]
    NotNewer,
    /// No send key is installed yet: there is nothing to ratchet or to distribute.
    #[error("no send key installed")]
    NoSendKey,
}
