//! Target `receiver_sequence`: a stream of frames against a multi-KID receiver and a model of
//! its replay windows.

use std::collections::BTreeSet;

use secure_frame::{CipherSuite, Counter, DecryptError, Decryptor, Header, KeyId, ReplayWindow};

use crate::contract::{self, Oracle, must, must_base_key};
use crate::{Input, Output, suite_at};

/// The KIDs of the installed keys; slot 3 is a KID with no key.
const KIDS: [KeyId; 4] = [KeyId(1), KeyId(0x1234), KeyId(u64::MAX), KeyId(9)];
const BASE_KEYS: [&[u8]; 3] = [&[0x51; 16], &[0x52; 16], &[0x53; 16]];
const METADATA: &[u8] = b"seq";
const FORGED_METADATA: &[u8] = b"seQ";
/// Longer streams add little but time per input.
const MAX_EVENTS: usize = 512;

/// How an event picks its counter, relative to the highest one its KID has accepted (0 if none).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CtrChoice {
    /// `highest + n`.
    Forward(u8),
    /// `highest - n` (0 at the bottom).
    Backward(u8),
    /// This counter.
    Absolute(u64),
}

impl CtrChoice {
    /// One byte: `0x00..=0x7f` forward, `0x80..=0xfe` backward by `b - 0x80`, `0xff` followed
    /// by an absolute big-endian `u64`.
    pub(super) fn read(input: &mut Input<'_>) -> Self {
        match input.u8() {
            0xff => Self::Absolute(input.u64()),
            b @ 0x80.. => Self::Backward(b - 0x80),
            b => Self::Forward(b),
        }
    }

    /// What [`read`](Self::read) reads as this choice (`Forward` up to `0x7f`, `Backward` up
    /// to `0x7e`).
    pub(super) fn write(self, out: &mut Output) {
        match self {
            Self::Forward(n) => out.u8(n),
            Self::Backward(n) => out.u8(0x80 | n),
            Self::Absolute(ctr) => out.u8(0xff).u64(ctr),
        };
    }

    /// The counter this choice names, relative to `highest`.
    pub(super) fn counter(self, highest: u64) -> u64 {
        match self {
            Self::Forward(n) => highest.saturating_add(u64::from(n)),
            Self::Backward(n) => highest.saturating_sub(u64::from(n)),
            Self::Absolute(ctr) => ctr,
        }
    }
}

/// One frame of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Event {
    /// 0–2: the installed keys' KIDs; 3: a KID with no key.
    pub slot: u8,
    /// The counter.
    pub ctr: CtrChoice,
    /// Flip a bit of the tag (or, with `forge_metadata`, give other metadata).
    pub forged: bool,
    /// Forge through the metadata rather than the tag.
    pub forge_metadata: bool,
    /// Receive with [`Decryptor::decrypt_to_vec`] rather than [`Decryptor::decrypt_in_place`].
    pub to_vec: bool,
}

/// One input of the `receiver_sequence` target.
///
/// Format: the window (one byte: 0 disabled, else `(b - 1) % 128 + 1` counters), the suite of
/// the first key (an index into [`CipherSuite::ALL`]; the others take the next ones), then
/// events to the end: a flags byte (bits 0–1 slot, bit 2 forged, bit 3 forge the metadata,
/// bit 4 `to_vec`) and a counter byte (`0x00..=0x7f` forward, `0x80..=0xfe` backward by
/// `b - 0x80`, `0xff` followed by an absolute big-endian `u64`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceCase {
    /// The replay window width of every key; 0 disables replay protection.
    pub window: u32,
    /// The suite index of the first key.
    pub suite: u8,
    /// The frames, in arrival order.
    pub events: Vec<Event>,
}

impl SequenceCase {
    /// Reads a case; every byte string is one.
    #[must_use]
    pub fn decode(data: &[u8]) -> Self {
        let mut input = Input::new(data);
        let window = match input.u8() {
            0 => 0,
            b => u32::from((b - 1) % 128) + 1,
        };
        let suite = input.u8();
        let mut events = Vec::new();
        while !input.is_empty() && events.len() < MAX_EVENTS {
            let flags = input.u8();
            let ctr = CtrChoice::read(&mut input);
            events.push(Event {
                slot: flags & 0x03,
                ctr,
                forged: flags & 0x04 != 0,
                forge_metadata: flags & 0x08 != 0,
                to_vec: flags & 0x10 != 0,
            });
        }
        Self {
            window,
            suite,
            events,
        }
    }

    /// The bytes that [`decode`](Self::decode) reads as this case (window 0 to 128, at most
    /// 512 events, `Forward` up to `0x7f`, `Backward` up to `0x7e`).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Output::new();
        out.u8(u8::try_from(self.window).unwrap_or(0))
            .u8(self.suite);
        for e in &self.events {
            let flags = (e.slot & 0x03)
                | if e.forged { 0x04 } else { 0 }
                | if e.forge_metadata { 0x08 } else { 0 }
                | if e.to_vec { 0x10 } else { 0 };
            out.u8(flags);
            e.ctr.write(&mut out);
        }
        out.finish()
    }
}

/// The replay window of one KID as a set: what a window of `width` must do, stated without a
/// bitmap. `epoch_sequence` models each cached sender key's window with it too.
#[derive(Clone, Debug, Default)]
pub(super) struct WindowModel {
    accepted: BTreeSet<u64>,
    highest: Option<u64>,
}

impl WindowModel {
    /// Whether a genuine frame with `ctr` must be accepted.
    pub(super) fn accepts(&self, width: u32, ctr: u64) -> bool {
        if width == 0 {
            return true;
        }
        let too_old = self
            .highest
            .is_some_and(|top| ctr < top && top - ctr >= u64::from(width));
        !self.accepted.contains(&ctr) && !too_old
    }

    /// Records `ctr` as accepted (nothing, with the window off).
    pub(super) fn accept(&mut self, width: u32, ctr: u64) {
        if width > 0 {
            self.accepted.insert(ctr);
            self.highest = self.highest.max(Some(ctr));
        }
    }

    /// The highest counter accepted, if any.
    pub(super) fn highest(&self) -> Option<u64> {
        self.highest
    }
}

/// Fuzzes a receiver with a stream of frames (see [`SequenceCase`] for the format).
///
/// # Panics
///
/// When any frame's result differs from the model's (genuine: accepted unless already accepted
/// or older than the window; forged: [`DecryptError::Replay`] where a genuine frame would be,
/// else [`DecryptError::Authentication`]; unknown KID: [`DecryptError::UnknownKeyId`]), when the
/// receiver's state moved on an error or other than by accepting the frame's counter, when a
/// frame breaks the failure contract, or when after any step a window's highest counter or its
/// verdict on the counters around its edges disagrees with the model.
pub fn receiver_sequence(data: &[u8]) {
    let case = SequenceCase::decode(data);
    let window = if case.window == 0 {
        ReplayWindow::disabled()
    } else {
        must(ReplayWindow::new(case.window), "window")
    };
    let mut suites = [CipherSuite::AesGcm128Sha256; 3];
    let mut oracles = Vec::new();
    let mut store = Decryptor::with_replay_window(CipherSuite::AesGcm128Sha256, window);
    for (i, (kid, base_key)) in KIDS.iter().zip(BASE_KEYS).enumerate() {
        let suite = suite_at(case.suite.wrapping_add(u8::try_from(i).unwrap_or(0)));
        if let Some(s) = suites.get_mut(i) {
            *s = suite;
        }
        let key = secure_frame::ReceiveKey::new(suite, *kid, &must_base_key(base_key));
        must(store.insert(key.with_replay_window(window)), "insert");
        oracles.push(Oracle::new(suite, *kid, base_key));
    }
    let mut models: [WindowModel; 3] = Default::default();

    for event in &case.events {
        let slot = usize::from(event.slot);
        let kid = KIDS.get(slot).copied().unwrap_or(KeyId(9));
        let highest = models.get(slot).and_then(|m| m.highest).unwrap_or(0);
        let ctr = event.ctr.counter(highest);
        // A frame for a KID with no key is sealed with slot 0's key: it is refused by KID.
        let oracle = must(oracles.get(slot).or(oracles.first()).ok_or(()), "oracle");
        let tag_len = suites.get(slot).map_or(16, |s| s.tag_len());
        let mut frame = oracle.seal(Header::new(kid, Counter(ctr)), METADATA, &ctr.to_be_bytes());
        let mut metadata = METADATA;
        if event.forged && event.forge_metadata {
            metadata = FORGED_METADATA;
        } else if event.forged {
            if let Some(last) = frame.last_mut() {
                *last ^= 1;
            }
        }

        let expected = match models.get(slot) {
            None => Err(DecryptError::UnknownKeyId(kid)),
            Some(model) if !model.accepts(case.window, ctr) => Err(DecryptError::Replay),
            Some(_) if event.forged => Err(DecryptError::Authentication),
            Some(_) => Ok(ctr.to_be_bytes().to_vec()),
        };
        let before = contract::snapshot(&store);
        let result = if event.to_vec {
            store.decrypt_to_vec(metadata, &frame)
        } else {
            contract::in_place(&frame, tag_len, |buf| store.decrypt_in_place(metadata, buf))
        };
        assert_eq!(
            result, expected,
            "{event:?} at CTR {ctr}, window {}",
            case.window
        );
        let after = contract::snapshot(&store);
        if result.is_ok() {
            assert_eq!(
                after,
                contract::accepted(&before, kid, Counter(ctr)),
                "accepting moved only the frame's window"
            );
            if let Some(model) = models.get_mut(slot) {
                model.accept(case.window, ctr);
            }
        } else {
            assert_eq!(after, before, "{result:?} moved receiver state");
        }
        for (slot_kid, model) in KIDS.iter().zip(&models) {
            check_window(&store, *slot_kid, model, case.window, ctr);
        }
    }
}

/// The window of `kid` agrees with its model on the highest counter and on the counters around
/// the window's edges and the last event's counter.
fn check_window(store: &Decryptor, kid: KeyId, model: &WindowModel, width: u32, ctr: u64) {
    let window = *must(store.get(kid).ok_or(()), "installed").replay_window();
    assert_eq!(window.highest(), model.highest, "highest counter of {kid}");
    let top = model.highest.unwrap_or(0);
    let w = u64::from(width);
    let probes = [
        Some(ctr),
        Some(top),
        top.checked_add(1),
        top.checked_sub(1),
        top.checked_sub(w),
        top.checked_sub(w.saturating_sub(1)),
        ctr.checked_add(1),
        ctr.checked_sub(1),
    ];
    for probe in probes.into_iter().flatten() {
        assert_eq!(
            window.check(probe).is_ok(),
            model.accepts(width, probe),
            "{kid} window {width} highest {top}: verdict on {probe}"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_format_round_trips() {
        let case = SequenceCase {
            window: 128,
            suite: 3,
            events: vec![
                Event {
                    slot: 3,
                    ctr: CtrChoice::Absolute(u64::MAX),
                    forged: true,
                    forge_metadata: true,
                    to_vec: true,
                },
                Event {
                    slot: 0,
                    ctr: CtrChoice::Backward(0x7e),
                    forged: false,
                    forge_metadata: false,
                    to_vec: false,
                },
                Event {
                    slot: 2,
                    ctr: CtrChoice::Forward(0x7f),
                    forged: true,
                    forge_metadata: false,
                    to_vec: false,
                },
            ],
        };
        assert_eq!(SequenceCase::decode(&case.encode()), case);
    }

    #[test]
    fn smoke() {
        // Accept 5, replay it, go back past a 4-wide window, forge, and the unknown KID.
        let stream = [
            0x04, 0, 0x00, 5, 0x00, 0, 0x00, 0x84, 0x00, 0x83, 0x04, 1, 0x08, 2, 0x03, 0,
        ];
        receiver_sequence(&stream);
        receiver_sequence(&[
            0, 1, 0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x12, 0,
        ]);
    }
}
