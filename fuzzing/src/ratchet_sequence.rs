//! Target `ratchet_sequence`: a stream of sender ratchets, new generations, key installs and
//! genuine, late, replayed and forged frames against a [`RatchetReceiver`], checked against a
//! model of its keys after every event.

use secure_frame::ratchet::{RatchetBits, RatchetReceiver, RatchetSender, SenderKeyId};
use secure_frame::{BaseKey, CipherSuite, DecryptError, Encryptor, KeyId, RatchetError};

use crate::contract::{must, must_base_key};
use crate::{Input, Output, suite_at, suite_index};

/// The most events a case runs (each may seal, derive and decrypt).
const MAX_EVENTS: usize = 64;

/// How many event kinds there are (the kind byte is read modulo this).
const EVENT_KINDS: u8 = 9;

/// One event of a [`RatchetCase`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RatchetEvent {
    /// The sender ratchets `1 + n % 4` steps.
    Ratchet(u8),
    /// The sender seals a frame at its current step; delivered at once when `true`, else kept
    /// for a later [`RatchetEvent::Deliver`].
    Seal(bool),
    /// Delivers (again) the kept frame `n % len`: late, reordered or replayed.
    Deliver(u8),
    /// Delivers the kept frame `n % len` (or a fresh one) with a bit of its tag flipped.
    Forge(u8),
    /// Delivers a frame under a KID the receiver does not recognize: `n` steps past the last
    /// step it would try, or (odd `n`) another generation.
    FarKid(u8),
    /// The sender starts its next generation with a fresh base key made from `n`.
    NewGeneration(u8),
    /// The application installs the sender's current key into the receiver (a key sent on
    /// join, possibly many steps ahead): its step as `sender_key_id` gives it (even `n`) or
    /// unreduced (odd `n`).
    InstallSender(u8),
    /// The application installs a key the sender held earlier (a key message delivered again or
    /// replayed): the `(n >> 1) % len`-th newest of every key the sender has held, in order
    /// (0 is its current key), the step reduced (even `n`) or not (odd `n`).
    InstallRecorded(u8),
    /// The application installs a base key the sender never had, under an arbitrary KID near
    /// the receiver's: bits 0–1 pick the generation (the receiver's, the next, the previous —
    /// wrapping below 0 —, or the largest that fits, one more when bit 7 is set), bit 2 a
    /// distance ahead of the receiver's step (0 or `2^(R-1)`), and bits 3–6 an offset from it,
    /// -8 to 7 (the step is passed unreduced).
    InstallArbitrary(u8),
}

/// One input of the `ratchet_sequence` target.
///
/// Format: the suite index, `R - 1` (modulo 8), `max_forward - 1` (modulo 16), the retained
/// steps (modulo 5; limits that do not fit `R` fall back to the defaults), the generation
/// (`0xf8` to `0xff` stand for the eight largest generations that fit `64 - R` bits, so that
/// `new_generation` can run out), then two bytes per event: the kind (modulo 9: ratchet, seal,
/// deliver, forge, far KID, new generation, install the sender's key, install a recorded key,
/// install an arbitrary key) and its argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RatchetCase {
    /// The suite.
    pub suite: CipherSuite,
    /// `R`, 1 to 8.
    pub bits: u8,
    /// The requested catch-up distance, 1 to 16.
    pub max_forward: u8,
    /// The requested retained steps, 0 to 4.
    pub retained: u8,
    /// The key generation (`0xf8` to `0xff`: the largest ones).
    pub generation: u8,
    /// The events; at most 64 are run.
    pub events: Vec<RatchetEvent>,
}

impl RatchetCase {
    /// Reads a case; every byte string is one.
    #[must_use]
    pub fn decode(data: &[u8]) -> Self {
        let mut input = Input::new(data);
        let suite = suite_at(input.u8());
        let bits = input.u8() % 8 + 1;
        let max_forward = input.u8() % 16 + 1;
        let retained = input.u8() % 5;
        let generation = input.u8();
        let mut events = Vec::new();
        while !input.is_empty() && events.len() < MAX_EVENTS {
            let kind = input.u8();
            let n = input.u8();
            events.push(match kind % EVENT_KINDS {
                0 => RatchetEvent::Ratchet(n),
                1 => RatchetEvent::Seal(n & 1 != 0),
                2 => RatchetEvent::Deliver(n),
                3 => RatchetEvent::Forge(n),
                4 => RatchetEvent::FarKid(n),
                5 => RatchetEvent::NewGeneration(n),
                6 => RatchetEvent::InstallSender(n),
                7 => RatchetEvent::InstallRecorded(n),
                _ => RatchetEvent::InstallArbitrary(n),
            });
        }
        Self {
            suite,
            bits,
            max_forward,
            retained,
            generation,
            events,
        }
    }

    /// The bytes that [`decode`](Self::decode) reads as this case.
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Output::new();
        out.u8(suite_index(self.suite))
            .u8(self.bits.wrapping_sub(1))
            .u8(self.max_forward.wrapping_sub(1))
            .u8(self.retained)
            .u8(self.generation);
        for event in &self.events {
            let (kind, n) = match *event {
                RatchetEvent::Ratchet(n) => (0, n),
                RatchetEvent::Seal(deliver) => (1, u8::from(deliver)),
                RatchetEvent::Deliver(n) => (2, n),
                RatchetEvent::Forge(n) => (3, n),
                RatchetEvent::FarKid(n) => (4, n),
                RatchetEvent::NewGeneration(n) => (5, n),
                RatchetEvent::InstallSender(n) => (6, n),
                RatchetEvent::InstallRecorded(n) => (7, n),
                RatchetEvent::InstallArbitrary(n) => (8, n),
            };
            out.u8(kind).u8(n);
        }
        out.finish()
    }
}

/// The case's generation byte as a generation: itself, or for `0xf8..=0xff` one of the eight
/// largest that fit `64 - R` bits.
fn first_generation(byte: u8, bits: RatchetBits) -> u64 {
    let max = bits.max_generation();
    match byte.checked_sub(0xf8) {
        Some(below) => max - u64::from(7 - below),
        None => u64::from(byte) % (max + 1),
    }
}

/// What a receive key opens: the sender's key of a generation at a full step (not reduced
/// modulo `2^R`), or a base key the sender never had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Material {
    Sender { generation: u64, step: u64 },
    Foreign,
}

impl Material {
    /// The key `distance` ratchet steps on.
    fn ahead(self, distance: u64) -> Self {
        match self {
            Self::Sender { generation, step } => Self::Sender {
                generation,
                step: step + distance,
            },
            Self::Foreign => Self::Foreign,
        }
    }
}

/// A frame the sender sealed: its KID, the key it was sealed under, its bytes, and whether the
/// receiver ever accepted it.
struct Sealed {
    kid: KeyId,
    material: Material,
    frame: Vec<u8>,
    accepted: bool,
}

/// A key the sender held: what a key message would carry, kept to be installed again.
struct Recorded {
    generation: u64,
    /// The full step.
    step: u64,
    base_key: Vec<u8>,
}

impl Recorded {
    fn of(sender: &RatchetSender) -> Self {
        Self {
            generation: sender.generation(),
            step: sender.ratchet_step(),
            base_key: sender.base_key().expose_secret().to_vec(),
        }
    }
}

/// What a frame can move in the receiver.
type State = (KeyId, SenderKeyId, Vec<KeyId>);

fn state(receiver: &RatchetReceiver) -> State {
    (
        receiver.key_id(),
        receiver.sender_key_id(),
        receiver.retained_key_ids().collect(),
    )
}

/// One key the model says the receiver holds: its KID (taken apart, step modulo `2^R`), what
/// it opens, and the kept frames its replay window has accepted.
#[derive(Debug)]
struct ModelKey {
    id: SenderKeyId,
    kid: KeyId,
    material: Material,
    accepted: Vec<usize>,
}

/// The model of the receiver: its current key and its retained keys, newest first.
struct Model {
    bits: RatchetBits,
    max_forward: u64,
    retained_cap: usize,
    current: ModelKey,
    retained: Vec<ModelKey>,
    /// The newest of the sender's keys the receiver has held: (generation, full step).
    newest: (u64, u64),
}

impl Model {
    fn key(&self, generation: u64, step: u64, material: Material) -> ModelKey {
        let id = SenderKeyId::new(generation, step & self.bits.step_mask());
        ModelKey {
            id,
            kid: must(id.to_key_id(self.bits), "kid"),
            material,
            accepted: Vec::new(),
        }
    }

    /// The KID `ahead` steps past the current one.
    fn kid_ahead(&self, ahead: u64) -> KeyId {
        let id = self.current.id;
        must(
            SenderKeyId::new(id.generation, id.ratchet_step.wrapping_add(ahead))
                .to_key_id(self.bits),
            "kid",
        )
    }

    /// The key the receiver looks `kid` up in: the current one, else the newest retained one.
    fn find(&self, kid: KeyId) -> Option<&ModelKey> {
        core::iter::once(&self.current)
            .chain(&self.retained)
            .find(|k| k.kid == kid)
    }

    fn find_mut(&mut self, kid: KeyId) -> Option<&mut ModelKey> {
        core::iter::once(&mut self.current)
            .chain(&mut self.retained)
            .find(|k| k.kid == kid)
    }

    /// How many steps ahead of the current one `kid` is, when it is within `max_forward` in the
    /// current generation.
    fn forward(&self, kid: KeyId) -> Option<u64> {
        let id = SenderKeyId::from_key_id(kid, self.bits);
        let distance =
            id.ratchet_step.wrapping_sub(self.current.id.ratchet_step) & self.bits.step_mask();
        (id.generation == self.current.id.generation && (1..=self.max_forward).contains(&distance))
            .then_some(distance)
    }

    /// Makes `key` current; the current key becomes the newest retained one, and only the
    /// `retained_cap` newest are kept.
    fn advance(&mut self, key: ModelKey) {
        if let Material::Sender { generation, step } = key.material {
            self.newest = self.newest.max((generation, step));
        }
        let old = core::mem::replace(&mut self.current, key);
        self.retained.insert(0, old);
        self.retained.truncate(self.retained_cap);
    }

    /// `RatchetReceiver::install`'s documented verdict: the generation must fit; the current KID
    /// is `DuplicateKeyId`; a newer generation is accepted, an older one is `NotNewer`; within
    /// the current generation the key is accepted only if it is the current key ratcheted
    /// forward by the step distance modulo `2^R` (at most `MAX_INSTALL_STEPS`), else
    /// `NotNewer`. A foreign key is never on a sender's path, nor a sender key on a foreign one.
    fn install_verdict(&self, key: SenderKeyId, material: Material) -> Result<(), RatchetError> {
        if key.generation > self.bits.max_generation() {
            return Err(RatchetError::GenerationOutOfRange);
        }
        let kid = must(key.to_key_id(self.bits), "kid");
        if kid == self.current.kid {
            return Err(RatchetError::DuplicateKeyId(kid));
        }
        let current = self.current.id;
        let distance = key.ratchet_step.wrapping_sub(current.ratchet_step) & self.bits.step_mask();
        let on_path = matches!(self.current.material, Material::Sender { .. })
            && (1..=RatchetReceiver::MAX_INSTALL_STEPS).contains(&distance)
            && self.current.material.ahead(distance) == material;
        let ahead = key.generation > current.generation
            || (key.generation == current.generation && on_path);
        if !ahead {
            return Err(RatchetError::NotNewer);
        }
        Ok(())
    }

    /// The state the receiver must be in: its current KID and the retained KIDs, newest first.
    fn expected(&self) -> State {
        (
            self.current.kid,
            self.current.id,
            self.retained.iter().map(|k| k.kid).collect(),
        )
    }
}

/// Fuzzes the ratchet receiver with a stream of events (see [`RatchetCase`]).
///
/// # Panics
///
/// After any event, when the receiver's current KID, step or retained KIDs differ from the
/// model's (each move, by a frame or an install, makes the previous current key the newest
/// retained one and keeps at most `retained`; a frame's catch-up passes through every step up
/// to its own); when a genuine frame is refused though the receiver holds its key (current or
/// retained, whose replay window has not accepted it) or can derive it (at most `max_forward`
/// steps ahead of its current key), or is accepted otherwise; when any refused frame (forged,
/// replayed, out of reach, under a foreign key) changed the receiver; when a KID the receiver
/// does not recognize is anything but [`DecryptError::UnknownKeyId`] (nothing beyond
/// `max_forward` is tried); when `install` returns anything but the documented verdict (Ok,
/// `DuplicateKeyId`, `NotNewer`, `GenerationOutOfRange`) or a refused install changed the
/// receiver; when `new_generation` fails other than past the largest generation or its failure
/// changed the sender; when an accepted install moves the receiver to a sender key no newer
/// than one it held; or when a frame the receiver accepted once opens again.
pub fn ratchet_sequence(data: &[u8]) {
    let case = RatchetCase::decode(data);
    let (mut sender, mut receiver, mut model) = start(&case);
    let mut kept: Vec<Sealed> = Vec::new();
    let mut recorded = vec![Recorded::of(&sender)];

    for event in &case.events {
        match *event {
            RatchetEvent::Ratchet(n) => {
                for _ in 0..=(n % 4) {
                    must(sender.ratchet(), "ratchet");
                    recorded.push(Recorded::of(&sender));
                }
            }
            RatchetEvent::Seal(deliver) => {
                let frame = must(
                    sender.encryptor().encrypt_to_vec(b"md", b"ratchet frame"),
                    "seal",
                );
                kept.push(Sealed {
                    kid: sender.key_id(),
                    material: Material::Sender {
                        generation: sender.generation(),
                        step: sender.ratchet_step(),
                    },
                    frame,
                    accepted: false,
                });
                if deliver {
                    let last = kept.len() - 1;
                    deliver_kept(&mut receiver, &mut model, &mut kept, last);
                }
            }
            RatchetEvent::Deliver(n) => {
                if !kept.is_empty() {
                    let index = usize::from(n) % kept.len();
                    deliver_kept(&mut receiver, &mut model, &mut kept, index);
                }
            }
            RatchetEvent::Forge(n) => {
                let mut frame = if kept.is_empty() {
                    must(sender.encryptor().encrypt_to_vec(b"md", b"forged"), "seal")
                } else {
                    kept.get(usize::from(n) % kept.len())
                        .map(|s| s.frame.clone())
                        .unwrap_or_default()
                };
                if let Some(last) = frame.last_mut() {
                    *last ^= 1 << (n % 8);
                }
                refused(&mut receiver, &model, &mut frame, "forged");
            }
            RatchetEvent::FarKid(n) => far_kid(&mut receiver, &model, case.suite, n),
            RatchetEvent::NewGeneration(n) => {
                if new_generation(&mut sender, n) {
                    recorded.push(Recorded::of(&sender));
                }
            }
            RatchetEvent::InstallSender(n) => {
                let key = Recorded::of(&sender);
                install_recorded(&mut receiver, &mut model, &key, n & 1 == 1);
            }
            RatchetEvent::InstallRecorded(n) => {
                let newest = usize::from(n >> 1) % recorded.len();
                if let Some(key) = recorded.iter().rev().nth(newest) {
                    install_recorded(&mut receiver, &mut model, key, n & 1 == 1);
                }
            }
            RatchetEvent::InstallArbitrary(n) => install_arbitrary(&mut receiver, &mut model, n),
        }
        assert_eq!(state(&receiver), model.expected(), "after {event:?}");
    }
}

/// The sender at the case's generation, step 0; a receiver that joined there, with the case's
/// limits when they fit `R`; and the model of that receiver.
fn start(case: &RatchetCase) -> (RatchetSender, RatchetReceiver, Model) {
    let bits = must(RatchetBits::new(case.bits), "bits");
    let generation = first_generation(case.generation, bits);
    let base = [0x37; 32];
    let sender = must(
        RatchetSender::new(
            case.suite,
            bits,
            generation,
            must(BaseKey::new(&base), "base key"),
        ),
        "sender",
    );
    let mut receiver = must(
        RatchetReceiver::new(
            case.suite,
            bits,
            sender.sender_key_id(),
            must(BaseKey::new(&base), "base key"),
        ),
        "receiver",
    );
    if let Ok(limited) = RatchetReceiver::new(
        case.suite,
        bits,
        sender.sender_key_id(),
        must(BaseKey::new(&base), "base key"),
    )
    .and_then(|r| r.with_limits(u64::from(case.max_forward), usize::from(case.retained)))
    {
        receiver = limited;
    }
    let model = Model {
        bits,
        max_forward: receiver.max_forward(),
        retained_cap: receiver.retained_steps(),
        current: ModelKey {
            id: SenderKeyId::new(generation, 0),
            kid: sender.key_id(),
            material: Material::Sender {
                generation,
                step: 0,
            },
            accepted: Vec::new(),
        },
        retained: Vec::new(),
        newest: (generation, 0),
    };
    assert!(
        model.max_forward + must(u64::try_from(model.retained_cap), "retained")
            < bits.step_values(),
        "the limits fit R"
    );
    assert_eq!(state(&receiver), model.expected(), "initial state");
    (sender, receiver, model)
}

/// Delivers kept frame `index`: accepted exactly when the receiver holds its key (and that
/// key's window has not accepted it) or derives it within `max_forward`.
fn deliver_kept(
    receiver: &mut RatchetReceiver,
    model: &mut Model,
    kept: &mut [Sealed],
    index: usize,
) {
    let Some(sealed) = kept.get_mut(index) else {
        return;
    };
    let mut frame = sealed.frame.clone();
    let (opens, catch_up) = match model.find(sealed.kid) {
        Some(key) => (
            key.material == sealed.material && !key.accepted.contains(&index),
            None,
        ),
        None => match model.forward(sealed.kid) {
            Some(distance) => (
                model.current.material.ahead(distance) == sealed.material,
                Some(distance),
            ),
            None => (false, None),
        },
    };
    if !opens {
        refused(
            receiver,
            model,
            &mut frame,
            "replayed, unreachable or foreign",
        );
        return;
    }
    assert!(
        !sealed.accepted,
        "the model opens a frame it accepted before"
    );
    let result = receiver
        .decrypt_in_place(b"md", &mut frame)
        .map(|p| p.to_vec());
    assert_eq!(
        result.as_deref(),
        Ok(&b"ratchet frame"[..]),
        "a genuine frame within reach opens ({:?} under {:?}, receiver at {:?})",
        sealed.material,
        sealed.kid,
        model.current.id,
    );
    sealed.accepted = true;
    match catch_up {
        None => {
            if let Some(key) = model.find_mut(sealed.kid) {
                key.accepted.push(index);
            }
        }
        Some(distance) => {
            let (generation, step) = (model.current.id.generation, model.current.id.ratchet_step);
            let material = model.current.material;
            for passed in 1..distance {
                let key = model.key(generation, step + passed, material.ahead(passed));
                model.advance(key);
            }
            let mut key = model.key(generation, step + distance, sealed.material);
            key.accepted.push(index);
            model.advance(key);
        }
    }
}

/// Asserts that `frame` is refused and changed nothing.
fn refused(receiver: &mut RatchetReceiver, model: &Model, frame: &mut [u8], what: &str) {
    let before = state(receiver);
    let result = receiver.decrypt_in_place(b"md", frame).map(|p| p.to_vec());
    assert!(result.is_err(), "{what} frame accepted");
    assert_eq!(
        state(receiver),
        before,
        "a {what} frame changed the receiver"
    );
    assert_eq!(before, model.expected(), "model");
}

/// A frame under a KID out of reach: refused as unknown without being tried.
fn far_kid(receiver: &mut RatchetReceiver, model: &Model, suite: CipherSuite, n: u8) {
    let values = model.bits.step_values();
    let retained = must(u64::try_from(model.retained_cap), "retained");
    let unreachable_steps = values - model.max_forward - retained - 1;
    let generation = model.current.id.generation;
    let kid = if n & 1 == 1 {
        let other = (generation + 1) % (model.bits.max_generation() + 1);
        if other == generation {
            return;
        }
        must(
            SenderKeyId::new(other, u64::from(n)).to_key_id(model.bits),
            "kid",
        )
    } else if unreachable_steps == 0 {
        return;
    } else {
        model.kid_ahead(model.max_forward + 1 + u64::from(n / 2) % unreachable_steps)
    };
    if model.find(kid).is_some() {
        // After installs, a retained key can be of any step or an older generation.
        return;
    }
    assert!(!receiver.recognizes(kid), "{kid:?} is out of reach");
    let mut encryptor = Encryptor::new(suite, kid, &must_base_key(&[0x99; 16]));
    let mut frame = must(encryptor.encrypt_to_vec(b"md", b"far"), "seal");
    let before = state(receiver);
    let result = receiver
        .decrypt_in_place(b"md", &mut frame)
        .map(|p| p.to_vec());
    assert_eq!(result, Err(DecryptError::UnknownKeyId(kid)), "not tried");
    assert_eq!(
        state(receiver),
        before,
        "an unknown KID changed the receiver"
    );
}

/// The sender's next generation, with a base key made from `n`; refused past the largest
/// generation, changing nothing. Returns whether it moved.
fn new_generation(sender: &mut RatchetSender, n: u8) -> bool {
    let before = (sender.key_id(), sender.generation(), sender.ratchet_step());
    let mut base = [n; 32];
    if let Some(first) = base.first_mut() {
        // Never a foreign key's first byte (see `install_arbitrary`).
        *first = 0x6e;
    }
    let result = sender.new_generation(must(BaseKey::new(&base), "base key"));
    if before.1 == sender.ratchet_bits().max_generation() {
        assert_eq!(
            result,
            Err(RatchetError::GenerationOutOfRange),
            "past the last"
        );
        assert_eq!(
            (sender.key_id(), sender.generation(), sender.ratchet_step()),
            before,
            "a refused new generation changed the sender"
        );
        return false;
    }
    let kid = must(result, "new generation");
    assert_eq!(
        (kid, sender.generation(), sender.ratchet_step()),
        (
            must(
                SenderKeyId::new(before.1 + 1, 0).to_key_id(sender.ratchet_bits()),
                "kid"
            ),
            before.1 + 1,
            0
        ),
        "the next generation at step 0"
    );
    true
}

/// Installs a key the sender held, its step reduced modulo `2^R` or not.
fn install_recorded(
    receiver: &mut RatchetReceiver,
    model: &mut Model,
    key: &Recorded,
    unreduced: bool,
) {
    let step = if unreduced {
        key.step
    } else {
        key.step & model.bits.step_mask()
    };
    let material = Material::Sender {
        generation: key.generation,
        step: key.step,
    };
    install(
        receiver,
        model,
        SenderKeyId::new(key.generation, step),
        &key.base_key,
        material,
    );
}

/// Installs a foreign base key (one the sender never had: 16 bytes starting `0xf0`) under a
/// KID near the receiver's (see [`RatchetEvent::InstallArbitrary`]).
fn install_arbitrary(receiver: &mut RatchetReceiver, model: &mut Model, n: u8) {
    let current = model.current.id;
    let generation = match n & 3 {
        0 => current.generation,
        1 => current.generation.wrapping_add(1),
        2 => current.generation.wrapping_sub(1),
        _ => model.bits.max_generation() + u64::from(n >> 7),
    };
    let base = if n & 4 == 0 {
        0
    } else {
        model.bits.step_values() / 2
    };
    let offset = u64::from((n >> 3) & 0xf).wrapping_sub(8);
    let step = current.ratchet_step.wrapping_add(base).wrapping_add(offset);
    let mut foreign = [n; 16];
    if let Some(first) = foreign.first_mut() {
        *first = 0xf0;
    }
    install(
        receiver,
        model,
        SenderKeyId::new(generation, step),
        &foreign,
        Material::Foreign,
    );
}

/// Installs `base_key` as `id`: the result is the model's verdict; a refusal changes nothing,
/// an accepted key becomes current with a fresh window.
fn install(
    receiver: &mut RatchetReceiver,
    model: &mut Model,
    id: SenderKeyId,
    base_key: &[u8],
    material: Material,
) {
    let before = state(receiver);
    let verdict = model.install_verdict(id, material);
    let result = receiver.install(id, must(BaseKey::new(base_key), "base key"));
    assert_eq!(result, verdict, "install {id:?} ({material:?})");
    if result.is_err() {
        assert_eq!(
            state(receiver),
            before,
            "a refused install changed the receiver"
        );
        return;
    }
    if let Material::Sender { generation, step } = material {
        assert!(
            (generation, step) > model.newest,
            "an install moved the receiver back to {material:?}"
        );
    }
    let key = model.key(id.generation, id.ratchet_step, material);
    model.advance(key);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_format_round_trips() {
        let case = RatchetCase {
            suite: CipherSuite::AesGcm256Sha512,
            bits: 3,
            max_forward: 4,
            retained: 2,
            generation: 9,
            events: vec![
                RatchetEvent::Ratchet(3),
                RatchetEvent::Seal(true),
                RatchetEvent::Deliver(7),
                RatchetEvent::Forge(1),
                RatchetEvent::FarKid(4),
                RatchetEvent::NewGeneration(5),
                RatchetEvent::InstallSender(1),
                RatchetEvent::InstallRecorded(6),
                RatchetEvent::InstallArbitrary(0xff),
            ],
        };
        assert_eq!(RatchetCase::decode(&case.encode()), case);
    }

    #[test]
    fn largest_generations() {
        let r8 = must(RatchetBits::new(8), "bits");
        assert_eq!(first_generation(3, r8), 3);
        assert_eq!(first_generation(0xf7, r8), 0xf7);
        assert_eq!(first_generation(0xf8, r8), r8.max_generation() - 7);
        assert_eq!(first_generation(0xff, r8), r8.max_generation());
    }

    #[test]
    fn smoke() {
        for bits in 1..=8 {
            for kind in 0..EVENT_KINDS {
                for generation in [1, 0xff] {
                    ratchet_sequence(&[
                        0,
                        bits - 1,
                        3,
                        2,
                        generation,
                        1,
                        1,
                        0,
                        2,
                        1,
                        1,
                        kind,
                        6,
                        2,
                        0,
                        1,
                        0,
                        kind,
                        0x85,
                        7,
                        2,
                        2,
                        1,
                    ]);
                }
            }
        }
    }
}
