//! Target `rtp_depacketize`: the SFrame RTP depacketizer (draft-ietf-avtcore-rtp-sframe §5.2,
//! `secure_frame::rtp`, not RFC 9605) against arbitrary packets, and against a genuine frame's
//! fragments delivered in any order with duplicates.

use std::collections::BTreeSet;

use secure_frame::rtp::{
    DepacketizeError, Depacketizer, DepacketizerLimits, Packetizer, PayloadOrigin, RtpPacket,
};

use crate::Input;

const LIMITS: DepacketizerLimits = DepacketizerLimits {
    reorder_window: 16,
    max_packets_per_frame: 8,
    max_frame_len: 200,
    max_buffered_bytes: 300,
};

/// Fuzzes [`Depacketizer`].
///
/// The input is read as: a count of arbitrary packets (each a sequence-number step, payload
/// type and timestamp choices, a marker bit and a payload of up to 63 bytes), then a genuine
/// frame (its length, payload size, origin and an order of its fragments with duplicates).
///
/// # Panics
///
/// When the depacketizer holds more than its byte bound after a push, emits a group larger
/// than its bounds or with an empty ciphertext, or keeps bytes after `flush`; when the genuine
/// frame's fragments, in any order and duplicated, do not reassemble to the frame exactly once
/// with only `Duplicate` refusals; or when anything is left after it.
pub fn rtp_depacketize(data: &[u8]) {
    let mut input = Input::new(data);
    let mut rx = Depacketizer::new(LIMITS);
    let mut seq: u16 = input.u16();
    for _ in 0..(input.u8() % 64) {
        seq = seq.wrapping_add(u16::from(input.u8() % 8)).wrapping_sub(2);
        let choice = input.u8();
        let len = usize::from(input.u8() % 64);
        let payload = input.bytes(len);
        let _ = rx.push(RtpPacket {
            sequence_number: seq,
            payload_type: 96 + (choice & 1),
            timestamp: u32::from(choice >> 1 & 3),
            marker: choice & 0x80 != 0,
            payload,
        });
        assert!(rx.held_bytes() <= LIMITS.max_buffered_bytes, "byte bound");
        check_output(&mut rx);
    }
    rx.flush();
    check_output(&mut rx);
    assert_eq!(
        (rx.held_packets(), rx.held_bytes()),
        (0, 0),
        "flush empties"
    );

    // A genuine frame, far from the arbitrary packets' sequence numbers.
    let len = 1 + usize::from(input.u8() % 200);
    let max_payload = 2 + usize::from(input.u8() % 60);
    let origin = if input.u8() & 1 == 0 {
        PayloadOrigin::Raw
    } else {
        PayloadOrigin::Packetized
    };
    let frame: Vec<u8> = (0..len)
        .map(|i| u8::try_from(i % 251).unwrap_or(0))
        .collect();
    let Ok(packetizer) = Packetizer::new(max_payload) else {
        return;
    };
    let Ok(fragments) = packetizer.fragments(&frame, origin) else {
        return;
    };
    let payloads: Vec<Vec<u8>> = fragments.map(|f| f.to_payload()).collect();
    if payloads.len() > LIMITS.max_packets_per_frame {
        return;
    }
    let start = seq.wrapping_add(1000);
    let mut order: Vec<usize> = (0..payloads.len()).collect();
    for i in (1..order.len()).rev() {
        order.swap(i, usize::from(input.u8()) % (i + 1));
    }
    let duplicates = usize::from(input.u8() % 4);
    for _ in 0..duplicates {
        order.push(usize::from(input.u8()) % payloads.len());
    }
    let mut rx = Depacketizer::new(LIMITS);
    let mut pushed = BTreeSet::new();
    let mut frames = Vec::new();
    for i in order {
        let Some(payload) = payloads.get(i) else {
            continue;
        };
        let offset = u16::try_from(i).unwrap_or(0);
        let result = rx.push(RtpPacket {
            sequence_number: start.wrapping_add(offset),
            payload_type: 96,
            timestamp: 7,
            marker: i + 1 == payloads.len(),
            payload,
        });
        if pushed.insert(i) {
            assert_eq!(result, Ok(()), "fresh fragment {i}");
        } else {
            assert_eq!(
                result,
                Err(DepacketizeError::Duplicate),
                "duplicate fragment {i}"
            );
        }
        while let Some(out) = rx.poll() {
            frames.push(out);
        }
    }
    assert_eq!(frames.len(), 1, "one frame: {frames:?}");
    let group = frames.pop().and_then(Result::ok);
    assert!(group.is_some(), "the frame reassembles");
    let Some(group) = group else { return };
    assert_eq!(group.data, frame);
    assert_eq!(group.origin, origin);
    assert_eq!(group.packets, payloads.len());
    assert_eq!(group.first_sequence_number, start);
    assert!(group.marker);
    rx.flush();
    assert!(rx.poll().is_none(), "nothing left");
}

fn check_output(rx: &mut Depacketizer) {
    while let Some(out) = rx.poll() {
        if let Ok(group) = out {
            assert!(!group.data.is_empty() || group.packets >= 1);
            assert!(group.data.len() <= LIMITS.max_frame_len, "frame bound");
            assert!(
                group.packets <= LIMITS.max_packets_per_frame,
                "packet bound"
            );
        }
    }
}
