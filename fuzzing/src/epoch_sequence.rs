//! Target `epoch_sequence`: epochs installed and removed, and frames (genuine for live or dead
//! epochs and senders, replayed, mutated, arbitrary) given to an [`MlsEpochStore`], checked
//! against a model of its live epochs, sender-key caches and replay windows after every step.

use secure_frame::mls::{EpochInstalled, MlsEpochStore, MlsKeyId, MlsKidLayout};
use secure_frame::{
    BaseKey, CipherSuite, Counter, DecryptError, Encryptor, Header, KeyId, MlsError, ReplayWindow,
};

use crate::contract::{self, Oracle, must, must_base_key};
use crate::sequence::{CtrChoice, WindowModel};
use crate::{Input, Output, suite_at, suite_index};

/// The most operations a case runs (each may seal, derive and decrypt).
const MAX_OPS: usize = 64;
const METADATA: &[u8] = b"epoch";
const OTHER_METADATA: &[u8] = b"Epoch";
/// How far below the anchor a [`EpochChoice::Near`] epoch may lie.
const NEAR_BELOW: u64 = 8;
/// The base key of a sealer for an epoch that was never installed.
const STRANGER_KEY: [u8; 16] = [0xee; 16];

/// Which epoch an operation names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EpochChoice {
    /// `anchor + n - 8` (wrapping), where the anchor is the epoch installed last (0 at first).
    Near(u8),
    /// The live epoch `n % len` (oldest installed first), or the anchor when none is live.
    Live(u8),
    /// This epoch.
    Absolute(u64),
}

impl EpochChoice {
    /// One byte: `0xff` followed by an absolute big-endian `u64`, `0xfe` followed by a live
    /// epoch's index, else `Near`.
    fn read(input: &mut Input<'_>) -> Self {
        match input.u8() {
            0xff => Self::Absolute(input.u64()),
            0xfe => Self::Live(input.u8()),
            b => Self::Near(b),
        }
    }

    /// What [`read`](Self::read) reads as this choice (`Near` up to `0xfd`).
    fn write(self, out: &mut Output) {
        match self {
            Self::Near(n) => out.u8(n),
            Self::Live(n) => out.u8(0xfe).u8(n),
            Self::Absolute(epoch) => out.u8(0xff).u64(epoch),
        };
    }
}

/// The KID of a frame: a sender in an epoch the store held at some point (live or not), or in
/// an epoch it never held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sealer {
    /// Installed epoch `n % (installs + 1)`, in install order; `installs` names an epoch never
    /// installed (the one after the anchor, a group of 4, a key no install has).
    pub epoch: u8,
    /// The sender's leaf index, masked to `S` bits of that epoch's group (it may be the
    /// receiver's own index, or not a member).
    pub sender: u8,
    /// The KID's context, masked to the bits `S` and `E` leave.
    pub context: u8,
}

impl Sealer {
    fn read(input: &mut Input<'_>) -> Self {
        Self {
            epoch: input.u8(),
            sender: input.u8(),
            context: input.u8(),
        }
    }

    fn write(self, out: &mut Output) {
        out.u8(self.epoch).u8(self.sender).u8(self.context);
    }
}

/// One operation of an [`EpochCase`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EpochOp {
    /// [`MlsEpochStore::install_epoch`] with group size `g % 17` (`0xfd`: `2^31`, `0xfe`:
    /// `2^31 + 1`, `0xff`: `u32::MAX`), own index `o % 32` (`0xff`: none), and a base key made
    /// of the epoch and `key` (installing an epoch again with the same `key` gives the same
    /// base key).
    Install {
        /// The epoch.
        epoch: EpochChoice,
        /// The group size byte.
        group_size: u8,
        /// The own index byte.
        own_index: u8,
        /// The base key byte.
        key: u8,
    },
    /// [`MlsEpochStore::evict_rollover`].
    EvictRollover(EpochChoice),
    /// [`MlsEpochStore::remove_epoch`].
    Remove(EpochChoice),
    /// [`MlsEpochStore::remove_epochs_before`].
    RemoveBefore(EpochChoice),
    /// [`MlsEpochStore::resolve`] of the KID a [`EpochOp::Seal`] with this sealer would carry.
    Resolve(Sealer),
    /// [`MlsEpochStore::resolve`] of any KID.
    ResolveKid(u64),
    /// Seals a frame with an [`Encryptor`] for the sealer's KID and base key, at a counter
    /// relative to the highest the store accepted under that KID (else the last one sealed);
    /// delivered at once when `deliver`, and kept.
    Seal {
        /// Whose frame.
        sealer: Sealer,
        /// Its counter.
        ctr: CtrChoice,
        /// Deliver it now.
        deliver: bool,
    },
    /// Delivers (again) kept frame `n % len`: late, reordered or replayed; with other metadata
    /// (a forgery) when `other_metadata`.
    Deliver {
        /// Which kept frame.
        frame: u8,
        /// Deliver it with other metadata.
        other_metadata: bool,
    },
    /// Delivers kept frame `n % len` with `mask` XOR-ed into byte `position % len`, or (mask
    /// 0) cut to its first `position % len` bytes.
    Mutate {
        /// Which kept frame.
        frame: u8,
        /// Where.
        position: u8,
        /// The XOR mask; 0 cuts.
        mask: u8,
    },
    /// Delivers these bytes.
    Raw(Vec<u8>),
    /// [`MlsEpochStore::set_replay_window`], the byte read as [`EpochCase::window`] reads it.
    SetWindow(u8),
}

/// One input of the `epoch_sequence` target.
///
/// Format: the suite index, `E - 1` (modulo 32), the requested `max_epochs` (modulo 9) and
/// `max_cached_keys` (modulo 5) (a refused limit leaves the default), the replay window byte
/// (0: the default, 1: disabled, else `(b - 2) % 128 + 1` counters), then operations to the
/// end: a kind byte (modulo 11, in the order of [`EpochOp`]'s variants) and its fields, epochs
/// and counters as [`EpochChoice`] and [`CtrChoice`] read them, a sealer as three bytes, a
/// raw frame as a length byte and the bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EpochCase {
    /// The suite.
    pub suite: CipherSuite,
    /// `E`, 1 to 32.
    pub epoch_bits: u8,
    /// The requested bound on live epochs, 0 to 8.
    pub max_epochs: u8,
    /// The requested bound on cached keys per epoch, 0 to 4.
    pub max_cached_keys: u8,
    /// The replay window byte.
    pub window: u8,
    /// The operations; at most 64 are run.
    pub ops: Vec<EpochOp>,
}

impl EpochCase {
    /// Reads a case; every byte string is one.
    #[must_use]
    pub fn decode(data: &[u8]) -> Self {
        let mut input = Input::new(data);
        let suite = suite_at(input.u8());
        let epoch_bits = input.u8() % 32 + 1;
        let max_epochs = input.u8() % 9;
        let max_cached_keys = input.u8() % 5;
        let window = input.u8();
        let mut ops = Vec::new();
        while !input.is_empty() && ops.len() < MAX_OPS {
            ops.push(match input.u8() % 11 {
                0 => EpochOp::Install {
                    epoch: EpochChoice::read(&mut input),
                    group_size: input.u8(),
                    own_index: input.u8(),
                    key: input.u8(),
                },
                1 => EpochOp::EvictRollover(EpochChoice::read(&mut input)),
                2 => EpochOp::Remove(EpochChoice::read(&mut input)),
                3 => EpochOp::RemoveBefore(EpochChoice::read(&mut input)),
                4 => EpochOp::Resolve(Sealer::read(&mut input)),
                5 => EpochOp::ResolveKid(input.u64()),
                6 => EpochOp::Seal {
                    sealer: Sealer::read(&mut input),
                    ctr: CtrChoice::read(&mut input),
                    deliver: input.u8() & 1 != 0,
                },
                7 => EpochOp::Deliver {
                    frame: input.u8(),
                    other_metadata: input.u8() & 1 != 0,
                },
                8 => EpochOp::Mutate {
                    frame: input.u8(),
                    position: input.u8(),
                    mask: input.u8(),
                },
                9 => {
                    let len = usize::from(input.u8());
                    EpochOp::Raw(input.bytes(len).to_vec())
                }
                _ => EpochOp::SetWindow(input.u8()),
            });
        }
        Self {
            suite,
            epoch_bits,
            max_epochs,
            max_cached_keys,
            window,
            ops,
        }
    }

    /// The bytes that [`decode`](Self::decode) reads as this case (within the ranges each
    /// field documents; raw frames up to 255 bytes).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Output::new();
        out.u8(suite_index(self.suite))
            .u8(self.epoch_bits.wrapping_sub(1))
            .u8(self.max_epochs)
            .u8(self.max_cached_keys)
            .u8(self.window);
        for op in &self.ops {
            match op {
                EpochOp::Install {
                    epoch,
                    group_size,
                    own_index,
                    key,
                } => {
                    epoch.write(out.u8(0));
                    out.u8(*group_size).u8(*own_index).u8(*key);
                }
                EpochOp::EvictRollover(epoch) => epoch.write(out.u8(1)),
                EpochOp::Remove(epoch) => epoch.write(out.u8(2)),
                EpochOp::RemoveBefore(epoch) => epoch.write(out.u8(3)),
                EpochOp::Resolve(sealer) => sealer.write(out.u8(4)),
                EpochOp::ResolveKid(kid) => {
                    out.u8(5).u64(*kid);
                }
                EpochOp::Seal {
                    sealer,
                    ctr,
                    deliver,
                } => {
                    sealer.write(out.u8(6));
                    ctr.write(&mut out);
                    out.u8(u8::from(*deliver));
                }
                EpochOp::Deliver {
                    frame,
                    other_metadata,
                } => {
                    out.u8(7).u8(*frame).u8(u8::from(*other_metadata));
                }
                EpochOp::Mutate {
                    frame,
                    position,
                    mask,
                } => {
                    out.u8(8).u8(*frame).u8(*position).u8(*mask);
                }
                EpochOp::Raw(bytes) => {
                    out.u8(9)
                        .u8(u8::try_from(bytes.len()).unwrap_or(u8::MAX))
                        .bytes(bytes);
                }
                EpochOp::SetWindow(window) => {
                    out.u8(10).u8(*window);
                }
            }
        }
        out.finish()
    }
}

/// The window a window byte names (`None`: the store's default, 128 counters) and its width.
fn window_of(b: u8) -> (Option<ReplayWindow>, u32) {
    match b {
        0 => (None, ReplayWindow::MAX_WIDTH),
        1 => (Some(ReplayWindow::disabled()), 0),
        b => {
            let width = u32::from((b - 2) % 128) + 1;
            (Some(must(ReplayWindow::new(width), "window")), width)
        }
    }
}

fn group_size_of(b: u8) -> u32 {
    match b {
        0xfd => 1 << 31,
        0xfe => (1 << 31) + 1,
        0xff => u32::MAX,
        b => u32::from(b % 17),
    }
}

fn own_index_of(b: u8) -> Option<u32> {
    (b != 0xff).then_some(u32::from(b % 32))
}

/// The base key of `epoch` installed with key byte `k`.
fn install_key(epoch: u64, k: u8) -> [u8; 16] {
    let mut key = [k; 16];
    for (slot, byte) in key.iter_mut().zip(epoch.to_be_bytes()) {
        *slot = byte;
    }
    key
}

/// The smallest `S` with `group_size <= 2^S` (RFC 9605 §5.2), counted rather than computed.
fn sender_bits(group_size: u32) -> u32 {
    let mut s = 0;
    while (1u64 << s) < u64::from(group_size) {
        s += 1;
    }
    s
}

/// An epoch the store was given: what a sender in it seals with.
#[derive(Clone, Copy, Debug)]
struct Installed {
    epoch: u64,
    group_size: u32,
    base_key: [u8; 16],
}

/// A frame the harness sealed, with the base key and KID it was sealed under.
struct Kept {
    frame: Vec<u8>,
    base_key: [u8; 16],
}

/// A sender key the model holds in an epoch's cache.
struct ModelKey {
    kid: KeyId,
    width: u32,
    window: WindowModel,
    used: u64,
}

/// A live epoch of the model.
struct ModelEpoch {
    epoch: u64,
    group_size: u32,
    own_index: Option<u32>,
    sender_bits: u32,
    base_key: [u8; 16],
    keys: Vec<ModelKey>,
    /// Keys evicted from `keys`, kept for their windows (`used` no longer matters).
    retired: Vec<ModelKey>,
}

/// What the store's docs promise, stated over plain lists.
struct Model {
    suite: CipherSuite,
    epoch_bits: u32,
    max_epochs: usize,
    max_cached_keys: usize,
    /// The window width of keys derived from now on (0: disabled).
    width: u32,
    /// Oldest installed first.
    epochs: Vec<ModelEpoch>,
    /// Successful decryptions so far: the store's clock for least recently used.
    tick: u64,
}

/// What a frame must do, and why.
struct Prediction {
    result: Result<(Vec<u8>, MlsKeyId), DecryptError>,
    /// The epoch position, KID and counter to commit on success.
    commit: Option<(usize, KeyId, u64)>,
    /// The base key of the live epoch the KID names, when the frame got as far as the AEAD.
    tried_key: Option<[u8; 16]>,
}

impl Model {
    fn mask(&self) -> u64 {
        (1u64 << self.epoch_bits) - 1
    }

    fn live(&self) -> Vec<u64> {
        self.epochs.iter().map(|e| e.epoch).collect()
    }

    fn cached(&self) -> Vec<usize> {
        self.epochs.iter().map(|e| e.keys.len()).collect()
    }

    fn pick(&self, choice: EpochChoice, anchor: u64) -> u64 {
        match choice {
            EpochChoice::Near(n) => anchor.wrapping_add(u64::from(n)).wrapping_sub(NEAR_BELOW),
            EpochChoice::Live(n) => {
                let len = self.epochs.len().max(1);
                self.epochs
                    .get(usize::from(n) % len)
                    .map_or(anchor, |e| e.epoch)
            }
            EpochChoice::Absolute(epoch) => epoch,
        }
    }

    fn evict_rollover(&mut self, epoch: u64) -> Option<u64> {
        let mask = self.mask();
        let position = self
            .epochs
            .iter()
            .position(|e| e.epoch & mask == epoch & mask)?;
        Some(self.epochs.remove(position).epoch)
    }

    /// `install_epoch`: refusals in the documented order, then the rollover, then the oldest.
    fn install(
        &mut self,
        epoch: u64,
        group_size: u32,
        own_index: Option<u32>,
        base_key: [u8; 16],
    ) -> Result<EpochInstalled, MlsError> {
        if self.epochs.iter().any(|e| e.epoch == epoch) {
            return Err(MlsError::DuplicateEpoch(epoch));
        }
        if group_size == 0 || group_size > 1 << 31 {
            return Err(MlsError::GroupSize);
        }
        if own_index.is_some_and(|i| i >= group_size) {
            return Err(MlsError::SenderIndexOutOfRange);
        }
        let rolled_over = self.evict_rollover(epoch);
        let evicted_oldest = if self.epochs.len() >= self.max_epochs && !self.epochs.is_empty() {
            Some(self.epochs.remove(0).epoch)
        } else {
            None
        };
        self.epochs.push(ModelEpoch {
            epoch,
            group_size,
            own_index,
            sender_bits: sender_bits(group_size),
            base_key,
            keys: Vec::new(),
            retired: Vec::new(),
        });
        Ok(EpochInstalled {
            rolled_over,
            evicted_oldest,
        })
    }

    /// The live epoch (position) and sender a KID names: its low `E` bits pick the epoch, the
    /// next `S` bits of that epoch's group the sender, who must be a member and not this one.
    fn resolve(&self, kid: KeyId) -> Option<(usize, MlsKeyId)> {
        let mask = self.mask();
        let position = self
            .epochs
            .iter()
            .position(|e| e.epoch & mask == kid.0 & mask)?;
        let epoch = self.epochs.get(position)?;
        let above = kid.0 >> self.epoch_bits;
        let sender = u32::try_from(above & ((1u64 << epoch.sender_bits) - 1)).ok()?;
        if sender >= epoch.group_size || epoch.own_index == Some(sender) {
            return None;
        }
        Some((
            position,
            MlsKeyId {
                context: above >> epoch.sender_bits,
                sender_index: sender,
                epoch: epoch.epoch,
            },
        ))
    }

    /// The result `decrypt_in_place` must give, in the order the checks are documented: header,
    /// KID, length, replay (by the window of the cached key, or of the evicted one a derived key
    /// resumes), authentication (by an AEAD rebuilt from the live epoch's base key).
    fn predict(&self, metadata: &[u8], frame: &[u8]) -> Prediction {
        let refuse = |e| Prediction {
            result: Err(e),
            commit: None,
            tried_key: None,
        };
        let (header, header_len) = match Header::decode(frame) {
            Ok(decoded) => decoded,
            Err(e) => return refuse(DecryptError::Header(e)),
        };
        let (kid, ctr) = (header.key_id(), header.counter().0);
        let Some((position, sender)) = self.resolve(kid) else {
            return refuse(DecryptError::UnknownKeyId(kid));
        };
        if frame.len() < header_len + self.suite.tag_len() {
            return refuse(DecryptError::TooShort);
        }
        let Some(epoch) = self.epochs.get(position) else {
            return refuse(DecryptError::UnknownKeyId(kid));
        };
        if let Some(key) = epoch
            .keys
            .iter()
            .chain(&epoch.retired)
            .find(|k| k.kid == kid)
        {
            if !key.window.accepts(key.width, ctr) {
                return refuse(DecryptError::Replay);
            }
        }
        let oracle = Oracle::new(self.suite, kid, &epoch.base_key);
        Prediction {
            result: oracle
                .open(metadata, frame)
                .map(|plaintext| (plaintext, sender))
                .ok_or(DecryptError::Authentication),
            commit: Some((position, kid, ctr)),
            tried_key: Some(epoch.base_key),
        }
    }

    /// A frame authenticated: its key is cached (or its use recorded) and its window accepts
    /// the counter. A key derived anew resumes its evicted window, or else gets the current
    /// one, and evicts the least recently used key when the epoch's cache is full (whose
    /// window is kept).
    fn commit(&mut self, position: usize, kid: KeyId, ctr: u64) {
        self.tick += 1;
        let (tick, width, cap) = (self.tick, self.width, self.max_cached_keys);
        let Some(epoch) = self.epochs.get_mut(position) else {
            return;
        };
        if let Some(key) = epoch.keys.iter_mut().find(|k| k.kid == kid) {
            key.window.accept(key.width, ctr);
            key.used = tick;
            return;
        }
        let mut key = match epoch.retired.iter().position(|k| k.kid == kid) {
            Some(i) => epoch.retired.remove(i),
            None => ModelKey {
                kid,
                width,
                window: WindowModel::default(),
                used: tick,
            },
        };
        if epoch.keys.len() >= cap {
            if let Some(lru) = epoch
                .keys
                .iter()
                .enumerate()
                .min_by_key(|(_, k)| k.used)
                .map(|(i, _)| i)
            {
                epoch.retired.push(epoch.keys.remove(lru));
            }
        }
        key.window.accept(key.width, ctr);
        key.used = tick;
        epoch.keys.push(key);
    }

    /// The highest counter the store accepted under `kid`, if it holds that key.
    fn highest(&self, kid: KeyId) -> Option<u64> {
        let (position, _) = self.resolve(kid)?;
        let epoch = self.epochs.get(position)?;
        epoch
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .and_then(|k| k.window.highest())
    }
}

/// What the store shows of its state: the live epochs, oldest first, and each one's number of
/// cached sender keys. (The replay windows are not visible; the model's verdicts on later
/// frames check them.)
type Observed = (Vec<u64>, Vec<usize>);

fn observe(store: &MlsEpochStore) -> Observed {
    let live: Vec<u64> = store.live_epochs().collect();
    let cached = live.iter().map(|e| store.cached_keys(*e)).collect();
    (live, cached)
}

/// Everything the harness tracks besides the store and the model.
struct Harness {
    store: MlsEpochStore,
    model: Model,
    /// Every epoch installed, in order (live or not).
    installed: Vec<Installed>,
    kept: Vec<Kept>,
    /// The epoch installed last.
    anchor: u64,
    /// The counter sealed last.
    last_ctr: u64,
}

/// Fuzzes the MLS epoch store with a sequence of operations (see [`EpochCase`]).
///
/// # Panics
///
/// When a limit is refused or accepted other than documented (`max_epochs` 1 to `2^E`,
/// `max_cached_keys` at least 1); when an install, a removal or a resolve differs from the
/// model (duplicate epoch, group size and own index refused in that order; the epoch with the
/// same low `E` bits rolled over, then the oldest evicted at `max_epochs`); when a frame's
/// result differs from the model's (it opens exactly when its KID's low bits name a live epoch
/// whose group has that sender, not this member, the counter is new to that sender's cached
/// window, and it authenticates under the live epoch's base key; otherwise the first documented
/// refusal); when a frame breaks the failure contract; when any refusal changed the live epochs
/// or the cached key counts; or when after any step the live epochs (more than `max_epochs`,
/// two with the same low bits), cached key counts or resolved KIDs differ from the model's.
pub fn epoch_sequence(data: &[u8]) {
    let case = EpochCase::decode(data);
    let mut harness = Harness::new(&case);
    harness.check("setup");
    for op in &case.ops {
        harness.run(op);
        harness.check(op);
    }
}

impl Harness {
    fn new(case: &EpochCase) -> Self {
        let e = case.epoch_bits;
        let new = || must(MlsEpochStore::new(case.suite, e), "store");
        let live = 1u64 << e;
        let default_epochs = must(usize::try_from(live.min(4)), "default");
        let mut max_epochs = default_epochs;
        let mut store = match new().with_max_epochs(usize::from(case.max_epochs)) {
            Ok(store) => {
                assert!(
                    case.max_epochs != 0 && u64::from(case.max_epochs) <= live,
                    "max_epochs {} accepted with E = {e}",
                    case.max_epochs
                );
                max_epochs = usize::from(case.max_epochs);
                store
            }
            Err(err) => {
                assert_eq!(err, MlsError::Capacity, "max_epochs refusal");
                assert!(
                    case.max_epochs == 0 || u64::from(case.max_epochs) > live,
                    "max_epochs {} refused with E = {e}",
                    case.max_epochs
                );
                new()
            }
        };
        let mut max_cached_keys = MlsEpochStore::DEFAULT_MAX_CACHED_KEYS;
        if case.max_cached_keys == 0 {
            assert_eq!(
                new().with_max_cached_keys(0).err(),
                Some(MlsError::Capacity),
                "no cache refused"
            );
        } else {
            max_cached_keys = usize::from(case.max_cached_keys);
            store = must(store.with_max_cached_keys(max_cached_keys), "cache bound");
        }
        let (window, width) = window_of(case.window);
        if let Some(window) = window {
            store = store.with_replay_window(window);
        }
        assert_eq!(
            (store.suite(), store.epoch_bits()),
            (case.suite, e),
            "suite and E"
        );
        assert_eq!(
            (store.max_epochs(), store.max_cached_keys()),
            (max_epochs, max_cached_keys),
            "limits"
        );
        Self {
            store,
            model: Model {
                suite: case.suite,
                epoch_bits: u32::from(e),
                max_epochs,
                max_cached_keys,
                width,
                epochs: Vec::new(),
                tick: 0,
            },
            installed: Vec::new(),
            kept: Vec::new(),
            anchor: 0,
            last_ctr: 0,
        }
    }

    fn run(&mut self, op: &EpochOp) {
        match op {
            EpochOp::Install {
                epoch,
                group_size,
                own_index,
                key,
            } => self.install(*epoch, *group_size, *own_index, *key),
            EpochOp::EvictRollover(epoch) => {
                let epoch = self.model.pick(*epoch, self.anchor);
                let expected = self.model.evict_rollover(epoch);
                assert_eq!(self.store.evict_rollover(epoch), expected, "{op:?}");
            }
            EpochOp::Remove(epoch) => {
                let epoch = self.model.pick(*epoch, self.anchor);
                let before = self.model.epochs.len();
                self.model.epochs.retain(|e| e.epoch != epoch);
                let expected = self.model.epochs.len() != before;
                assert_eq!(self.store.remove_epoch(epoch), expected, "{op:?}");
            }
            EpochOp::RemoveBefore(epoch) => {
                let epoch = self.model.pick(*epoch, self.anchor);
                let before = self.model.epochs.len();
                self.model.epochs.retain(|e| e.epoch >= epoch);
                let expected = before - self.model.epochs.len();
                assert_eq!(self.store.remove_epochs_before(epoch), expected, "{op:?}");
            }
            EpochOp::Resolve(sealer) => {
                let (kid, _) = self.sealing(*sealer);
                self.check_resolve(kid);
            }
            EpochOp::ResolveKid(kid) => self.check_resolve(KeyId(*kid)),
            EpochOp::Seal {
                sealer,
                ctr,
                deliver,
            } => self.seal(*sealer, *ctr, *deliver),
            EpochOp::Deliver {
                frame,
                other_metadata,
            } => {
                let Some(kept) = self.kept_frame(*frame) else {
                    return;
                };
                let (frame, base_key) = (kept.frame.clone(), kept.base_key);
                if *other_metadata {
                    self.deliver(OTHER_METADATA, &frame, None);
                } else {
                    self.deliver(METADATA, &frame, Some(base_key));
                }
            }
            EpochOp::Mutate {
                frame,
                position,
                mask,
            } => {
                let Some(kept) = self.kept_frame(*frame) else {
                    return;
                };
                let mut frame = kept.frame.clone();
                let at = usize::from(*position) % frame.len().max(1);
                if *mask == 0 {
                    frame.truncate(at);
                } else if let Some(byte) = frame.get_mut(at) {
                    *byte ^= mask;
                }
                self.deliver(METADATA, &frame, None);
            }
            EpochOp::Raw(frame) => self.deliver(METADATA, frame, None),
            EpochOp::SetWindow(b) => {
                let (window, width) = window_of(*b);
                self.store.set_replay_window(window.unwrap_or_default());
                self.model.width = width;
            }
        }
    }

    fn install(&mut self, epoch: EpochChoice, group_size: u8, own_index: u8, key: u8) {
        let epoch = self.model.pick(epoch, self.anchor);
        let (group_size, own_index) = (group_size_of(group_size), own_index_of(own_index));
        let base_key = install_key(epoch, key);
        let expected = self.model.install(epoch, group_size, own_index, base_key);
        let before = observe(&self.store);
        let result = self.store.install_epoch(
            epoch,
            group_size,
            own_index,
            must(BaseKey::new(&base_key), "base key"),
        );
        assert_eq!(
            result, expected,
            "install {epoch}, group {group_size}, own {own_index:?}"
        );
        if result.is_ok() {
            self.installed.push(Installed {
                epoch,
                group_size,
                base_key,
            });
            self.anchor = epoch;
        } else {
            assert_eq!(observe(&self.store), before, "a refused install changed");
        }
    }

    fn seal(&mut self, sealer: Sealer, ctr: CtrChoice, deliver: bool) {
        let (kid, base_key) = self.sealing(sealer);
        let ctr = ctr.counter(self.model.highest(kid).unwrap_or(self.last_ctr));
        self.last_ctr = ctr;
        let mut encryptor = Encryptor::new(self.model.suite, kid, &must_base_key(&base_key));
        must(encryptor.advance_counter_to(Counter(ctr)), "counter");
        let frame = must(
            encryptor.encrypt_to_vec(METADATA, &ctr.to_be_bytes()),
            "seal",
        );
        if deliver {
            self.deliver(METADATA, &frame, Some(base_key));
        }
        self.kept.push(Kept { frame, base_key });
    }

    fn kept_frame(&self, n: u8) -> Option<&Kept> {
        self.kept.get(usize::from(n) % self.kept.len().max(1))
    }

    /// The KID and base key a sender of `sealer`'s epoch seals with.
    fn sealing(&self, sealer: Sealer) -> (KeyId, [u8; 16]) {
        let index = usize::from(sealer.epoch) % (self.installed.len() + 1);
        let Installed {
            epoch,
            group_size,
            base_key,
        } = self.installed.get(index).copied().unwrap_or(Installed {
            epoch: self.anchor.wrapping_add(1),
            group_size: 4,
            base_key: STRANGER_KEY,
        });
        let e = must(u8::try_from(self.model.epoch_bits), "E");
        let layout = must(MlsKidLayout::for_group(e, group_size), "layout");
        let sender_mask = must(u32::try_from(layout.sender_mask()), "S");
        let id = MlsKeyId {
            context: u64::from(sealer.context) & layout.max_context(),
            sender_index: u32::from(sealer.sender) & sender_mask,
            epoch,
        };
        (must(id.to_key_id(layout), "kid"), base_key)
    }

    fn check_resolve(&self, kid: KeyId) {
        assert_eq!(
            self.store.resolve(kid),
            self.model.resolve(kid).map(|(_, id)| id),
            "resolve {kid:?}"
        );
    }

    /// Delivers `frame` and checks the result, the failure contract and the state against the
    /// model. `genuine` is the base key the frame was sealed with, when it arrives unaltered.
    fn deliver(&mut self, metadata: &[u8], frame: &[u8], genuine: Option<[u8; 16]>) {
        let prediction = self.model.predict(metadata, frame);
        if let (Some(sealed_with), Some(tried)) = (genuine, prediction.tried_key) {
            assert_eq!(
                prediction.result.is_ok(),
                sealed_with == tried,
                "an unaltered genuine frame authenticates exactly under the base key it was \
                 sealed with (a 32-bit tag matches by chance once in 2^32)"
            );
        }
        let before = observe(&self.store);
        let mut sender = None;
        let store = &mut self.store;
        let result = contract::in_place(frame, self.model.suite.tag_len(), |buf| {
            store.decrypt_in_place(metadata, buf).map(|opened| {
                sender = Some(opened.sender);
                opened.plaintext
            })
        });
        let result = result.map(|plaintext| (plaintext, must(sender.ok_or(()), "sender")));
        assert_eq!(
            result, prediction.result,
            "frame {frame:02x?} with metadata {metadata:02x?}"
        );
        match (result, prediction.commit) {
            (Ok(_), Some((position, kid, ctr))) => self.model.commit(position, kid, ctr),
            _ => assert_eq!(observe(&self.store), before, "a refused frame changed"),
        }
    }

    /// After every step: the store shows the model's live epochs and cached key counts within
    /// their bounds, and resolves the KIDs around each live epoch's group as the model does.
    fn check(&self, after: impl core::fmt::Debug) {
        let (live, cached) = observe(&self.store);
        assert_eq!(live, self.model.live(), "live epochs after {after:?}");
        assert_eq!(cached, self.model.cached(), "cached keys after {after:?}");
        assert!(live.len() <= self.model.max_epochs, "more than max_epochs");
        let mask = self.model.mask();
        for (i, a) in live.iter().enumerate() {
            for b in live.iter().skip(i + 1) {
                assert_ne!(
                    a & mask,
                    b & mask,
                    "two live epochs with the same low E bits"
                );
            }
        }
        assert!(
            cached.iter().all(|n| *n <= self.model.max_cached_keys),
            "more than max_cached_keys"
        );
        for epoch in &self.model.epochs {
            let senders = [
                Some(0),
                epoch.own_index,
                epoch.group_size.checked_sub(1),
                Some(epoch.group_size),
            ];
            for sender in senders.into_iter().flatten() {
                let above = u64::from(sender) << self.model.epoch_bits;
                self.check_resolve(KeyId(above | (epoch.epoch & mask)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_format_round_trips() {
        let case = EpochCase {
            suite: CipherSuite::AesGcm256Sha512,
            epoch_bits: 32,
            max_epochs: 8,
            max_cached_keys: 4,
            window: 0xff,
            ops: vec![
                EpochOp::Install {
                    epoch: EpochChoice::Absolute(u64::MAX),
                    group_size: 0xfd,
                    own_index: 0xff,
                    key: 7,
                },
                EpochOp::EvictRollover(EpochChoice::Live(3)),
                EpochOp::Remove(EpochChoice::Near(0xfd)),
                EpochOp::RemoveBefore(EpochChoice::Near(0)),
                EpochOp::Resolve(Sealer {
                    epoch: 1,
                    sender: 2,
                    context: 3,
                }),
                EpochOp::ResolveKid(0x0123_4567_89ab_cdef),
                EpochOp::Seal {
                    sealer: Sealer {
                        epoch: 0,
                        sender: 0xff,
                        context: 0,
                    },
                    ctr: CtrChoice::Absolute(9),
                    deliver: true,
                },
                EpochOp::Deliver {
                    frame: 4,
                    other_metadata: true,
                },
                EpochOp::Mutate {
                    frame: 1,
                    position: 2,
                    mask: 0,
                },
                EpochOp::Raw(vec![1, 2, 3]),
                EpochOp::SetWindow(1),
            ],
        };
        assert_eq!(EpochCase::decode(&case.encode()), case);
    }

    #[test]
    fn sender_bits_counts_like_the_layout() {
        for size in [1, 2, 3, 4, 5, 64, 65, 1 << 31] {
            assert_eq!(
                Ok(must(u8::try_from(sender_bits(size)), "bits")),
                MlsKidLayout::sender_bits_for(size)
            );
        }
    }

    #[test]
    fn smoke() {
        epoch_sequence(&[]);
        // E = 2, two epochs, one cached key, window 4: install 0 and 1, a frame from sender 1 of
        // epoch 1 (delivered, again, forged), install 5 (rolls 1 over), the frame again.
        let mut case = vec![0, 1, 2, 1, 5];
        case.extend_from_slice(&[0, 8, 4, 0, 1, 0, 9, 4, 0, 1]);
        case.extend_from_slice(&[6, 1, 1, 0, 3, 1, 7, 0, 0, 7, 0, 1, 8, 0, 30, 0]);
        case.extend_from_slice(&[0, 12, 4, 0xff, 2, 7, 0, 0]);
        epoch_sequence(&case);
    }
}
