//! Target `ratchet_sequence`: a stream of sender ratchets and genuine, late, replayed and forged
//! frames against a [`RatchetReceiver`], checked against a model of its steps after every event.

use alloc::vec::Vec;

use super::contract::must;
use super::{Input, Output, suite_at, suite_index};
use crate::ratchet::{RatchetBits, RatchetReceiver, RatchetingSender, SenderKeyId};
use crate::secret::BaseKey;
use crate::{CipherSuite, DecryptError, Encryptor, KeyId};

/// The most events a case runs (each may seal, derive and decrypt).
const MAX_EVENTS: usize = 64;

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
}

/// One input of the `ratchet_sequence` target.
///
/// Format: the suite index, `R - 1` (modulo 8), `max_forward - 1` (modulo 16), the retained
/// steps (modulo 5; limits that do not fit `R` fall back to the defaults), the generation, then
/// two bytes per event: the kind (modulo 5: ratchet, seal, deliver, forge, far KID) and its
/// argument.
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
    /// The key generation.
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
            events.push(match kind % 5 {
                0 => RatchetEvent::Ratchet(n),
                1 => RatchetEvent::Seal(n & 1 != 0),
                2 => RatchetEvent::Deliver(n),
                3 => RatchetEvent::Forge(n),
                _ => RatchetEvent::FarKid(n),
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
            };
            out.u8(kind).u8(n);
        }
        out.finish()
    }
}

/// A frame the sender sealed: its full ratchet step, its bytes, and whether it was accepted.
struct Sealed {
    step: u64,
    frame: Vec<u8>,
    accepted: bool,
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

/// The model: the receiver's full step, and the first step it ever held.
struct Model {
    bits: RatchetBits,
    generation: u64,
    step: u64,
    max_forward: u64,
    retained: u64,
}

impl Model {
    fn kid(&self, step: u64) -> KeyId {
        must(
            SenderKeyId::new(self.generation, step & self.bits.step_mask()).to_key_id(self.bits),
            "kid",
        )
    }

    /// Whether the receiver holds or may derive the key of full step `step`: the current step,
    /// the `retained` steps before it (all passed over since step 0), or up to `max_forward`
    /// ahead. `max_forward + retained < 2^R`, so none of these KIDs alias.
    fn opens(&self, step: u64) -> bool {
        step <= self.step.saturating_add(self.max_forward)
            && step >= self.step.saturating_sub(self.retained)
    }

    /// The state the receiver must be in: its current KID and the retained KIDs, newest first.
    fn expected(&self) -> State {
        let retained = (1..=self.retained)
            .filter_map(|back| self.step.checked_sub(back))
            .map(|step| self.kid(step))
            .collect();
        (
            self.kid(self.step),
            SenderKeyId::new(self.generation, self.step & self.bits.step_mask()),
            retained,
        )
    }
}

/// Fuzzes the ratchet receiver with a stream of events (see [`RatchetCase`]).
///
/// # Panics
///
/// After any event, when the receiver's current KID, step or retained KIDs differ from the
/// model's (the sender's steps it has authenticated, the `retained` before it); when a genuine
/// frame whose step is within reach (current, retained, or at most `max_forward` ahead) is
/// refused or one out of reach is accepted; when any refused frame (forged, replayed, out of
/// reach) changed the receiver; or when a KID the receiver does not recognize is anything but
/// [`DecryptError::UnknownKeyId`] (nothing beyond `max_forward` is tried).
pub fn ratchet_sequence(data: &[u8]) {
    let case = RatchetCase::decode(data);
    let bits = must(RatchetBits::new(case.bits), "bits");
    let generation = u64::from(case.generation) % (bits.max_generation() + 1);
    let base = [0x37; 32];
    let mut sender = must(
        RatchetingSender::new(
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
    let mut model = Model {
        bits,
        generation,
        step: 0,
        max_forward: receiver.max_forward(),
        retained: must(u64::try_from(receiver.retained_steps()), "retained"),
    };
    assert!(
        model.max_forward + model.retained < bits.step_values(),
        "the limits fit R"
    );
    assert_eq!(state(&receiver), model.expected(), "initial state");
    let mut kept: Vec<Sealed> = Vec::new();

    for event in &case.events {
        match *event {
            RatchetEvent::Ratchet(n) => {
                for _ in 0..=(n % 4) {
                    must(sender.ratchet(), "ratchet");
                }
            }
            RatchetEvent::Seal(deliver) => {
                let frame = must(
                    sender.encryptor().encrypt_to_vec(b"md", b"ratchet frame"),
                    "seal",
                );
                kept.push(Sealed {
                    step: sender.ratchet_step(),
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
        }
        assert_eq!(state(&receiver), model.expected(), "after {event:?}");
    }
}

/// Delivers kept frame `index`: accepted exactly when new and within reach.
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
    if sealed.accepted || !model.opens(sealed.step) {
        refused(receiver, model, &mut frame, "replayed or out of reach");
        return;
    }
    let result = receiver
        .decrypt_in_place(b"md", &mut frame)
        .map(|p| p.to_vec());
    assert_eq!(
        result.as_deref(),
        Ok(&b"ratchet frame"[..]),
        "a genuine frame within reach opens (step {}, receiver at {})",
        sealed.step,
        model.step
    );
    sealed.accepted = true;
    model.step = model.step.max(sealed.step);
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
    let unreachable_steps = values - model.max_forward - model.retained - 1;
    let kid = if n & 1 == 1 {
        let other = (model.generation + 1) % (model.bits.max_generation() + 1);
        if other == model.generation {
            return;
        }
        must(
            SenderKeyId::new(other, u64::from(n)).to_key_id(model.bits),
            "kid",
        )
    } else if unreachable_steps == 0 {
        return;
    } else {
        let ahead = model.max_forward + 1 + u64::from(n / 2) % unreachable_steps;
        model.kid(model.step + ahead)
    };
    assert!(!receiver.recognizes(kid), "{kid:?} is out of reach");
    let mut encryptor = must(Encryptor::new(suite, kid, &[0x99; 16]), "encryptor");
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
            events: alloc::vec![
                RatchetEvent::Ratchet(3),
                RatchetEvent::Seal(true),
                RatchetEvent::Deliver(7),
                RatchetEvent::Forge(1),
                RatchetEvent::FarKid(4),
            ],
        };
        assert_eq!(RatchetCase::decode(&case.encode()), case);
    }

    #[test]
    fn smoke() {
        for bits in 1..=8 {
            for kind in 0..5 {
                ratchet_sequence(&[0, bits - 1, 3, 2, 1, 1, 1, 0, 2, 1, 1, kind, 6, 2, 0, 1, 0]);
            }
        }
    }
}
