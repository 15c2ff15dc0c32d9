//! Target `compat_open`: the compat container's receiver ([`CompatDecryptor`]) on arbitrary
//! bytes and on mutated genuine frames, and the range map decoder on its own.

use secure_frame::codec::{ClearRanges, Plan, RangeMapError, plan};
use secure_frame::compat::{CompatDecryptError, CompatDecryptor, CompatEncryptor};
use secure_frame::{CipherSuite, Counter, Decryptor, Encryptor, KeyId, ReceiveKey, ReplayWindow};

use crate::contract::{self, must, must_base_key};
use crate::{Input, Output, codec_policy};

/// The base key of the receiver's GCM key (KID 1), which the genuine frames are sealed under.
const GCM_KEY: [u8; 16] = [0x5a; 16];
/// The base key of the receiver's 32-bit-tag key (KID 7, window off).
const SHORT_TAG_KEY: [u8; 16] = [0xa5; 16];

/// One input of the `compat_open` target.
///
/// Format: a control byte (bits 0–3 and 7: the codec and policy of the genuine frame as
/// [`codec_policy`] reads them with bits 4–6 cleared; bit 4 genuine; bit 5 accept unprotected;
/// bit 6 `max_ranges` 2 instead of the default), the counter of the genuine frame (`u16`), the
/// mutation (`u16` position and `u8` XOR mask; mask 0 is none; position past the end truncates
/// that many bytes from the frame's end, modulo its length), the metadata length (one byte),
/// the metadata, and the body: everything else. Without bit 4 the body is the frame given to the
/// receiver as it is; with it the body is a frame of the codec that [`CompatEncryptor`] seals.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompatCase {
    /// The control byte.
    pub control: u8,
    /// The counter of the genuine frame.
    pub ctr: u16,
    /// Where the mutation applies.
    pub position: u16,
    /// The XOR mask (0: no mutation).
    pub mask: u8,
    /// The application metadata.
    pub metadata: Vec<u8>,
    /// The frame, sealed first when the control byte says genuine.
    pub body: Vec<u8>,
}

impl CompatCase {
    /// Reads a case; every byte string is one.
    #[must_use]
    pub fn decode(data: &[u8]) -> Self {
        let mut input = Input::new(data);
        let control = input.u8();
        let ctr = input.u16();
        let position = input.u16();
        let mask = input.u8();
        let metadata_len = usize::from(input.u8());
        let metadata = input.bytes(metadata_len).to_vec();
        Self {
            control,
            ctr,
            position,
            mask,
            metadata,
            body: input.rest().to_vec(),
        }
    }

    /// The bytes that [`decode`](Self::decode) reads as this case (metadata up to 255 bytes).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        Output::new()
            .u8(self.control)
            .u16(self.ctr)
            .u16(self.position)
            .u8(self.mask)
            .u8(u8::try_from(self.metadata.len()).unwrap_or(u8::MAX))
            .bytes(&self.metadata)
            .bytes(&self.body)
            .finish()
    }
}

fn receiver() -> Decryptor {
    let mut store = Decryptor::new(CipherSuite::AesGcm128Sha256);
    must(store.add_key(KeyId(1), &must_base_key(&GCM_KEY)), "gcm key");
    let short = ReceiveKey::new(
        CipherSuite::AesCtr128HmacSha256_32,
        KeyId(7),
        &must_base_key(&SHORT_TAG_KEY),
    );
    must(
        store.insert(short.with_replay_window(ReplayWindow::disabled())),
        "insert",
    );
    store
}

/// Applies the mutation: XOR at `position` when it is inside the frame, else cut
/// `position - len` (modulo the length) bytes from the end.
fn mutate(frame: &mut Vec<u8>, position: u16, mask: u8) {
    let position = usize::from(position);
    if mask == 0 || frame.is_empty() {
        return;
    }
    if let Some(byte) = frame.get_mut(position) {
        *byte ^= mask;
    } else {
        let cut = (position - frame.len()) % frame.len() + 1;
        frame.truncate(frame.len() - cut);
    }
}

/// The genuine frame of `case` (sealed, then mutated), the sender's normalized frame, and
/// whether the mutation left the frame as sealed and its range map within `max_ranges`; `None`
/// when the sender refuses the body.
fn seal(case: &CompatCase, max_ranges: usize) -> Option<(Vec<u8>, Vec<u8>, bool)> {
    let (codec, policy) = codec_policy(case.control & 0x8f);
    let mut encryptor = Encryptor::new(
        CipherSuite::AesGcm128Sha256,
        KeyId(1),
        &must_base_key(&GCM_KEY),
    );
    must(
        encryptor.advance_counter_to(Counter(u64::from(case.ctr))),
        "advance",
    );
    let mut sender = CompatEncryptor::new(encryptor, codec, policy.clone());
    let mut wire = sender.encrypt_to_vec(&case.metadata, &case.body).ok()?;
    let (normalized, ranges) = match must(plan(codec, &case.body, &policy), "planned again") {
        Plan::PassThrough => (Vec::new(), 0),
        Plan::Protect(p) => (p.frame().to_vec(), p.clear().len()),
    };
    let clean = (case.mask == 0 || wire.is_empty()) && ranges <= max_ranges;
    mutate(&mut wire, case.position, case.mask);
    Some((wire, normalized, clean))
}

/// Fuzzes the compat receiver (see [`CompatCase`] for the format).
///
/// # Panics
///
/// When [`CompatDecryptor::decrypt_in_place`] panics; when an error leaves the buffer changed
/// or a replay window moved; when a success returns anything but a prefix of the buffer, moves
/// anything but the frame's own window (or anything at all for a frame that passed through);
/// when a genuine, unmutated frame is refused, opens to anything but the sender's normalized
/// frame, or is accepted a second time (unless its map holds more ranges than the receiver
/// takes); when a mutated genuine frame is accepted other than as
/// an unprotected pass-through; and when [`ClearRanges::decode_map`] accepts bytes its
/// re-encoding does not reproduce.
pub fn compat_open(data: &[u8]) {
    let case = CompatCase::decode(data);
    decode_map_canonical(&case);
    let genuine = case.control & 0x10 != 0;
    let mut decryptor = CompatDecryptor::new()
        .accept_empty(true)
        .accept_unprotected(case.control & 0x20 != 0);
    if case.control & 0x40 != 0 {
        decryptor = decryptor.with_max_ranges(2);
    }
    let mut store = receiver();

    let (frame, expected) = if genuine {
        let Some((wire, normalized, clean)) = seal(&case, decryptor.max_ranges()) else {
            return;
        };
        (wire, Some((normalized, clean)))
    } else {
        (case.body.clone(), None)
    };

    let before = contract::snapshot(&store);
    let mut buf = frame.clone();
    let addr = buf.as_ptr().addr();
    let result = decryptor
        .decrypt_in_place(&mut store, &case.metadata, &mut buf)
        .map(|opened| {
            let located = contract::locate(addr, frame.len(), opened.frame());
            (located, opened.frame().to_vec(), opened.header())
        });
    let after = contract::snapshot(&store);
    let opened = match result {
        Err(e) => {
            let zeroed = |(&now, &was): (&u8, &u8)| now == was || now == 0;
            let auth = e == CompatDecryptError::Authentication;
            assert!(
                buf == frame || auth && buf.iter().zip(&frame).all(zeroed),
                "{e:?}"
            );
            assert_eq!(after, before, "{e:?} moved no replay window");
            if let Some((_, true)) = &expected {
                unreachable!("a genuine frame was refused: {e:?}");
            }
            if let Some((_, false)) = &expected {
                // Refused as a forgery, or (unmutated) for holding too many ranges.
                assert!(
                    case.mask != 0
                        || e == CompatDecryptError::RangeMap(RangeMapError::TooManyRanges),
                    "a genuine frame was refused: {e:?}"
                );
            }
            return;
        }
        Ok(opened) => opened,
    };
    let (located, plaintext, header) = opened;
    assert_eq!(
        located.map(|(offset, _)| offset),
        Some(0),
        "the opened frame is a prefix of the buffer"
    );
    assert_eq!(buf.len(), frame.len(), "the buffer keeps its length");
    if let Some(header) = header {
        assert_eq!(
            after,
            contract::accepted(&before, header.key_id(), header.counter()),
            "only the frame's window moved"
        );
        assert!(
            buf.get(plaintext.len()..) == frame.get(plaintext.len()..),
            "the trailer is left as it was"
        );
    } else {
        assert_eq!(after, before, "a pass-through moved nothing");
        assert!(buf == frame, "a pass-through is the frame unchanged");
        assert_eq!(plaintext, frame, "a pass-through is the whole frame");
    }
    match expected {
        Some((normalized, true)) => {
            assert_eq!(
                plaintext, normalized,
                "a genuine frame opens to the sender's frame"
            );
            if header.is_some() {
                let mut again = frame.clone();
                let replay = decryptor
                    .decrypt_in_place(&mut store, &case.metadata, &mut again)
                    .map(|o| o.header());
                assert_eq!(
                    replay.err(),
                    Some(CompatDecryptError::Replay),
                    "replay refused"
                );
                assert!(again == frame, "a replay left the frame unchanged");
                assert_eq!(contract::snapshot(&store), after, "a replay moved nothing");
            }
        }
        Some((_, false)) => assert!(
            header.is_none(),
            "a mutated genuine frame was accepted (AES-GCM-128 forgery)"
        ),
        None => {}
    }
}

/// The body as a range map: `frame_len` from the counter field, `max_ranges` from the mask.
/// An accepted map re-encodes to exactly the bytes read, within the frame and the limit.
fn decode_map_canonical(case: &CompatCase) {
    let frame_len = usize::from(case.ctr);
    let max_ranges = usize::from(case.mask);
    let Ok(clear) = ClearRanges::decode_map(&case.body, frame_len, max_ranges) else {
        return;
    };
    let mut map = Vec::new();
    clear.encode_map(&mut map);
    assert_eq!(map, case.body, "an accepted range map is canonical");
    assert!(clear.end() <= frame_len, "ranges within the frame");
    assert!(clear.len() <= max_ranges, "at most max_ranges ranges");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_format_round_trips() {
        let case = CompatCase {
            control: 0x97,
            ctr: 0x1234,
            position: 9,
            mask: 0x80,
            metadata: b"md".to_vec(),
            body: vec![0, 0, 0, 1, 0x61, 0xe0, 0xfa],
        };
        assert_eq!(CompatCase::decode(&case.encode()), case);
    }

    #[test]
    fn smoke() {
        for control in 0..=u8::MAX {
            let frame = [0, 0, 0, 1, 0x61, 0xe0, 0xfa, 0xfa, 0xfa];
            for (position, mask) in [(0, 0), (4, 1), (12, 0x80), (200, 3)] {
                compat_open(
                    &CompatCase {
                        control,
                        ctr: 3,
                        position,
                        mask,
                        metadata: vec![],
                        body: frame.to_vec(),
                    }
                    .encode(),
                );
            }
        }
    }
}
