//! The RTP payload format for SFrame (draft-ietf-avtcore-rtp-sframe-02, feature `rtp`): the
//! draft's per-SSRC vectors, the descriptor, per-frame and per-packet round trips, and every
//! depacketizer refusal.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::type_complexity,
    reason = "test code"
)]

use secure_frame::rtp::{
    DepacketizeError, Depacketizer, DepacketizerLimits, Descriptor, Packetizer, PayloadOrigin,
    RtpPacket, SframePacketGroup, stream_base_key, stream_ratchet_receiver, stream_ratchet_sender,
};
use secure_frame::{BaseKey, CipherSuite, Encryptor, RatchetBits};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/test-vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn hex_of(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap()).unwrap()
}

#[test]
fn per_ssrc_vectors() {
    let v = load("drafts/draft-ietf-avtcore-rtp-sframe-per-ssrc.json");
    let mut checked = 0;
    for case in v["sframe_per_ssrc_key_derivation"].as_array().unwrap() {
        let id = u16::try_from(case["cipher_suite"].as_u64().unwrap()).unwrap();
        // Suites 6-8 only with `draft-iana-256`.
        let Ok(suite) = CipherSuite::from_id(id) else {
            continue;
        };
        let base = BaseKey::new(&hex_of(case, "base_key")).unwrap();
        for (ssrc, key) in [("ssrc_a", "stream_key_a"), ("ssrc_b", "stream_key_b")] {
            let ssrc = u32::try_from(case[ssrc].as_u64().unwrap()).unwrap();
            let derived = stream_base_key(suite, &base, ssrc);
            assert_eq!(
                derived.expose_secret(),
                hex_of(case, key),
                "suite {id} ssrc {ssrc}"
            );
            assert_eq!(derived.len(), suite.hash_len());
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} suites checked");
}

/// Draft §8: every stream of a sender carries the same KIDs with different keys, and each
/// stream's ratchet works on its own key.
#[test]
fn per_ssrc_ratchets_share_kids_not_keys() {
    let suite = CipherSuite::AesGcm128Sha256;
    let bits = RatchetBits::new(4).unwrap();
    let base = BaseKey::new(&[9; 32]).unwrap();
    let mut a = stream_ratchet_sender(suite, bits, 3, &base, 0x1111).unwrap();
    let mut b = stream_ratchet_sender(suite, bits, 3, &base, 0x2222).unwrap();
    assert_eq!(a.key_id(), b.key_id());
    assert_ne!(a.base_key().expose_secret(), b.base_key().expose_secret());
    let key_a = a.sender_key_id();
    let mut rx_a = stream_ratchet_receiver(suite, bits, key_a, &base, 0x1111).unwrap();
    let mut rx_b = stream_ratchet_receiver(suite, bits, key_a, &base, 0x2222).unwrap();
    a.ratchet().unwrap();
    b.ratchet().unwrap();
    assert_eq!(a.key_id(), b.key_id());
    let frame_a = a.encryptor().encrypt_to_vec(b"", b"stream a").unwrap();
    let frame_b = b.encryptor().encrypt_to_vec(b"", b"stream b").unwrap();
    let mut fa = frame_a.clone();
    assert_eq!(rx_a.decrypt_in_place(b"", &mut fa).unwrap(), b"stream a");
    let mut fb = frame_b.clone();
    assert_eq!(rx_b.decrypt_in_place(b"", &mut fb).unwrap(), b"stream b");
    // Crossed streams do not open.
    let mut crossed = frame_a.clone();
    assert!(rx_b.decrypt_in_place(b"", &mut crossed).is_err());
    assert_eq!(crossed, frame_a);
}

#[test]
fn descriptor_bits() {
    for b in 0..=u8::MAX {
        let d = Descriptor::from_byte(b);
        assert_eq!(d.to_byte(), b & 0xe0, "reserved bits ignored");
        assert_eq!(d.start, b & 0x80 != 0);
        assert_eq!(d.end, b & 0x40 != 0);
        assert_eq!(d.origin == PayloadOrigin::Packetized, b & 0x20 != 0);
    }
}

fn packets(data: &[u8], max: usize, origin: PayloadOrigin, seq0: u16) -> Vec<(u16, Vec<u8>)> {
    let p = Packetizer::new(max).unwrap();
    let frags = p.fragments(data, origin).unwrap();
    assert_eq!(frags.len(), p.packet_count(data.len()));
    frags
        .enumerate()
        .map(|(i, f)| {
            assert!(f.payload_len() <= max);
            let mut buf = vec![0; f.payload_len()];
            assert_eq!(f.write_to(&mut buf).unwrap(), buf.len());
            assert_eq!(buf, f.to_payload());
            (seq0.wrapping_add(u16::try_from(i).unwrap()), buf)
        })
        .collect()
}

fn push(rx: &mut Depacketizer, seq: u16, payload: &[u8]) -> Result<(), DepacketizeError> {
    push_with(rx, seq, 96, 1000, payload)
}

fn push_with(
    rx: &mut Depacketizer,
    seq: u16,
    pt: u8,
    ts: u32,
    payload: &[u8],
) -> Result<(), DepacketizeError> {
    rx.push(RtpPacket {
        sequence_number: seq,
        payload_type: pt,
        timestamp: ts,
        marker: payload
            .first()
            .is_some_and(|&d| Descriptor::from_byte(d).end),
        payload,
    })
}

fn drain(rx: &mut Depacketizer) -> Vec<Result<SframePacketGroup, DepacketizeError>> {
    core::iter::from_fn(|| rx.poll()).collect()
}

#[test]
fn fragments_carry_s_e_t() {
    let data: Vec<u8> = (0..=255).cycle().take(2500).collect();
    let pk = packets(&data, 1001, PayloadOrigin::Raw, 7);
    let bytes: Vec<u8> = pk.iter().map(|(_, p)| p[0]).collect();
    assert_eq!(bytes, [0x80, 0x00, 0x40]);
    let pk = packets(&data[..10], 1001, PayloadOrigin::Packetized, 7);
    assert_eq!(pk[0].1[0], 0xe0);
    assert!(Packetizer::new(1).is_err());
    assert!(
        Packetizer::new(2)
            .unwrap()
            .fragments(&[], PayloadOrigin::Raw)
            .is_err()
    );
}

#[test]
fn reassembles_in_any_order_across_the_wrap() {
    let frames: Vec<Vec<u8>> = (0..6u8)
        .map(|i| vec![i; 700 + usize::from(i) * 900])
        .collect();
    let mut all = Vec::new();
    let mut seq = 65_530u16;
    for f in &frames {
        let pk = packets(f, 500, PayloadOrigin::Raw, seq);
        seq = seq.wrapping_add(u16::try_from(pk.len()).unwrap());
        all.extend(pk);
    }
    // Reversed: every frame completes when its first packet arrives.
    let mut rx = Depacketizer::default();
    for (s, p) in all.iter().rev() {
        push(&mut rx, *s, p).unwrap();
    }
    let mut got: Vec<Vec<u8>> = drain(&mut rx)
        .into_iter()
        .map(|r| r.unwrap().data)
        .collect();
    got.reverse();
    assert_eq!(got, frames);
    assert_eq!(rx.held_packets(), 0);
    assert_eq!(rx.held_bytes(), 0);
    // Duplicates of used packets are refused.
    assert_eq!(
        push(&mut rx, all[0].0, &all[0].1),
        Err(DepacketizeError::Duplicate)
    );
}

#[test]
fn a_lost_packet_costs_only_its_frame() {
    let a = packets(&[1; 1200], 500, PayloadOrigin::Raw, 10); // 10, 11, 12
    let b = packets(&[2; 1200], 500, PayloadOrigin::Raw, 13); // 13, 14, 15
    let mut rx = Depacketizer::new(DepacketizerLimits {
        reorder_window: 8,
        ..DepacketizerLimits::default()
    });
    for (s, p) in a.iter().chain(&b).filter(|(s, _)| *s != 11) {
        push(&mut rx, *s, p).unwrap();
    }
    let out = drain(&mut rx);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].as_ref().unwrap().data, [2; 1200]);
    assert_eq!(rx.held_packets(), 2);
    // A later packet pushes 10 out of the window, and 12 with it: one group, one gap.
    let c = packets(&[3; 10], 500, PayloadOrigin::Raw, 20);
    push(&mut rx, c[0].0, &c[0].1).unwrap();
    assert_eq!(
        drain(&mut rx),
        [
            Ok(SframePacketGroup {
                payload_type: 96,
                timestamp: 1000,
                marker: true,
                origin: PayloadOrigin::Raw,
                first_sequence_number: 20,
                packets: 1,
                data: vec![3; 10],
            }),
            Err(DepacketizeError::Gap),
        ]
    );
    assert_eq!(rx.held_packets(), 0);
    assert_eq!(push(&mut rx, 11, &a[1].1), Err(DepacketizeError::TooOld));
}

#[test]
fn every_refusal() {
    let three = packets(&[5; 30], 11, PayloadOrigin::Raw, 100); // 100, 101, 102
    let limits = DepacketizerLimits {
        reorder_window: 8,
        max_packets_per_frame: 4,
        max_frame_len: 40,
        max_buffered_bytes: 100,
    };

    let mut rx = Depacketizer::new(limits);
    assert_eq!(push(&mut rx, 1, &[]), Err(DepacketizeError::EmptyPayload));
    push(&mut rx, 100, &three[0].1).unwrap();
    assert_eq!(
        push(&mut rx, 100, &three[0].1),
        Err(DepacketizeError::Duplicate)
    );

    // Missing S: the first packet lost; missing E: the last one lost.
    for (lost, error) in [
        (100, DepacketizeError::MissingStart),
        (102, DepacketizeError::MissingEnd),
    ] {
        let mut rx = Depacketizer::new(limits);
        for (s, p) in three.iter().filter(|(s, _)| *s != lost) {
            push(&mut rx, *s, p).unwrap();
        }
        rx.flush();
        assert_eq!(drain(&mut rx), [Err(error)]);
    }

    // Mixed T bits, payload types, timestamps.
    let mut mixed_t = three.clone();
    mixed_t[1].1[0] |= 0x20;
    let cases: [(&[(u16, Vec<u8>)], u8, DepacketizeError); 2] = [
        (&mixed_t, 96, DepacketizeError::MixedOrigin),
        (&three, 97, DepacketizeError::MixedPayloadType),
    ];
    for (pk, pt, error) in cases {
        let mut rx = Depacketizer::new(limits);
        for (i, (s, p)) in pk.iter().enumerate() {
            push_with(&mut rx, *s, if i == 1 { pt } else { 96 }, 1000, p).unwrap();
        }
        assert_eq!(drain(&mut rx), [Err(error)]);
    }
    let mut rx = Depacketizer::new(limits);
    for (i, (s, p)) in three.iter().enumerate() {
        push_with(&mut rx, *s, 96, if i == 2 { 1 } else { 1000 }, p).unwrap();
    }
    assert_eq!(drain(&mut rx), [Err(DepacketizeError::MixedTimestamp)]);

    // Oversize: 50 bytes > 40.
    let five = packets(&[6; 50], 11, PayloadOrigin::Raw, 200);
    let mut rx = Depacketizer::new(limits);
    for (s, p) in &five {
        push(&mut rx, *s, p).unwrap();
    }
    rx.flush();
    let out = drain(&mut rx);
    assert!(
        out.iter().all(|r| r == &Err(DepacketizeError::Oversize)),
        "{out:?}"
    );
    assert!(!out.is_empty());

    // Overflow: more than 100 bytes held.
    let mut rx = Depacketizer::new(limits);
    for s in 0..12u16 {
        push(&mut rx, s, &[0x80; 21]).unwrap();
    }
    assert!(drain(&mut rx).contains(&Err(DepacketizeError::Overflow)));
    assert!(rx.held_bytes() <= 100);
}

/// Per-frame mode: encrypt once, fragment; per-packet mode: encrypt each codec payload.
#[test]
fn per_frame_and_per_packet_round_trips() {
    let suite = CipherSuite::AesGcm128Sha256;
    let base = BaseKey::new(&[3; 16]).unwrap();
    let ssrc_key = stream_base_key(suite, &base, 0xdead_beef);
    let mut tx = Encryptor::new(suite, secure_frame::KeyId(7), &ssrc_key);
    let mut rx = secure_frame::Decryptor::new(suite);
    rx.add_key(secure_frame::KeyId(7), &ssrc_key).unwrap();
    let frame: Vec<u8> = (0..5000u32)
        .map(|i| u8::try_from(i % 251).unwrap())
        .collect();
    let packetizer = Packetizer::new(1200).unwrap();

    let ct = tx.encrypt_to_vec(b"", &frame).unwrap();
    let mut dp = Depacketizer::default();
    for (s, p) in packets(&ct, packetizer.max_payload(), PayloadOrigin::Raw, 1) {
        push(&mut dp, s, &p).unwrap();
    }
    let mut got = dp.poll().unwrap().unwrap();
    assert_eq!(got.origin, PayloadOrigin::Raw);
    assert_eq!(rx.decrypt_in_place(b"", &mut got.data).unwrap(), frame);

    // Per packet: the codec packetizer's payloads, sized for the SFrame overhead.
    let overhead = Descriptor::LEN + tx.ciphertext_len(0) + 8; // headroom: the header grows with CTR
    for (seq, chunk) in (50..).zip(frame.chunks(1200 - overhead)) {
        let ct = tx.encrypt_to_vec(b"", chunk).unwrap();
        let pk = packets(&ct, 1200, PayloadOrigin::Packetized, seq);
        assert_eq!(pk.len(), 1, "one SFrame packet per codec packet");
        push(&mut dp, pk[0].0, &pk[0].1).unwrap();
        let mut got = dp.poll().unwrap().unwrap();
        assert_eq!(got.origin, PayloadOrigin::Packetized);
        assert_eq!(rx.decrypt_in_place(b"", &mut got.data).unwrap(), chunk);
    }
}
