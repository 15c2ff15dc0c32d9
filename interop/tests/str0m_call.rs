//! End-to-end encrypted calls over str0m (sans-IO WebRTC) on loopback UDP, through an SFU
//! that drops, reorders, duplicates and corrupts packets and records what it forwarded.
//!
//! Part 1, the codec-aware format through str0m's own packetizers (`Writer::write` in,
//! `MediaData` out): two peers keyed by P-256 ECDH, three by HPKE-sealed sender keys, with key
//! rotation, a leave and a rejoin. Part 2, RFC 9605 frames in SFrame's RTP payload format
//! (`secure_frame::rtp`) over str0m's RTP-level API with `a=sframe`, per frame and per packet.
//! Every frame that arrives decrypts to what was sent; only the corrupted frames fail, with
//! authentication errors; the relay never saw a slice of encrypted plaintext.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    reason = "test code"
)]

use std::collections::HashSet;
use std::time::Duration;

use interop::call::{Call, CallConfig, Failure, Mode};
use interop::media::Kind;
use interop::sfu::{Corrupted, Impairments};
use secure_frame::ErrorKind;
use secure_frame::codec::Policy;

const LOSSY: Impairments = Impairments {
    drop: 0.03,
    reorder: 0.03,
    duplicate: 0.02,
};

/// The invariants of every call: failures are exactly authentication failures of corrupted
/// frames (all of them when `exact`), nothing is left in the unknown-KID buffers, the relay saw
/// no plaintext.
fn check(call: &Call, exact: bool) {
    print!("{}", call.report());
    let corrupted: HashSet<Corrupted> = call.sfu.relay.corrupted.iter().copied().collect();
    for p in &call.participants {
        for f in &p.failures {
            assert_eq!(
                f.error.kind(),
                ErrorKind::Authentication,
                "p{}: {f:?}",
                p.id
            );
            let c = Corrupted {
                from: f.from,
                to: p.id,
                kind: f.kind,
                timestamp: f.timestamp,
            };
            assert!(corrupted.contains(&c), "p{}: {f:?} was not corrupted", p.id);
        }
        // Frames of a participant that left, in flight when the others removed its keys, wait
        // in the buffer for a key that never comes (until evicted): the session cannot know.
        let stranded = call
            .buffered(p.id)
            .iter()
            .filter(|(from, ..)| call.left.contains(from))
            .count();
        let fp = call.footprint(p.id);
        assert_eq!(
            fp.pending_frames,
            stranded,
            "p{}: frames left in the buffer: {:?}",
            p.id,
            call.buffered(p.id)
        );
    }
    if exact {
        for c in &corrupted {
            let failed: Vec<&Failure> = call.participants[c.to]
                .failures
                .iter()
                .filter(|f| f.from == c.from && f.kind == c.kind && f.timestamp == c.timestamp)
                .collect();
            assert_eq!(failed.len(), 1, "corrupted {c:?} failed once");
        }
    }
    if call.config.record {
        assert_eq!(
            call.plaintext_seen_by_relay(),
            0,
            "plaintext in the relay's recording"
        );
    }
}

fn total_sent_by_others(call: &Call, r: usize) -> u64 {
    call.participants
        .iter()
        .filter(|p| p.id != r)
        .map(|p| p.stats.sent)
        .sum()
}

#[test]
fn codec_aware_two_peers_clean_with_one_corrupted_frame_per_stream() {
    let mut call = Call::new(CallConfig::default());
    call.run_with(Duration::from_secs(3), |call, n| {
        if n == 20 {
            call.sfu.relay.corrupt_next = Some((0, Kind::Vp8));
        }
        if n == 25 {
            call.sfu.relay.corrupt_next = Some((1, Kind::Opus));
        }
    });
    call.settle(Duration::from_secs(1));
    check(&call, true);
    assert_eq!(call.sfu.relay.corrupted.len(), 2);
    for p in &call.participants {
        let others = total_sent_by_others(&call, p.id);
        assert_eq!(p.stats.received, others, "p{}: every frame arrived", p.id);
        assert_eq!(
            p.stats.decrypted + 1,
            others,
            "p{}: all but the corrupted one",
            p.id
        );
    }
}

#[test]
fn codec_aware_two_peers_lossy_with_key_rotation() {
    let mut call = Call::new(CallConfig {
        impairments: LOSSY,
        seed: 7,
        ..CallConfig::default()
    });
    call.run_with(Duration::from_secs(6), |call, n| {
        if n == 30 {
            call.rotate(0, 200);
        }
        if n == 50 {
            call.rotate(1, 0);
            call.sfu.relay.corrupt_next = Some((0, Kind::Vp8));
        }
    });
    call.settle(Duration::from_secs(1));
    check(&call, false);
    let relay = &call.sfu.relay;
    assert!(relay.dropped > 0 && relay.reordered > 0 && relay.duplicated > 0);
    for p in &call.participants {
        // A lost packet costs at most its own frame (str0m retransmits some).
        let others = total_sent_by_others(&call, p.id);
        assert!(p.stats.received + relay.dropped >= others, "p{}", p.id);
        assert_eq!(
            p.stats.decrypted + p.failures.len() as u64,
            p.stats.received,
            "p{}: every frame that arrived decrypted or was corrupted",
            p.id
        );
    }
    // p1 got frames under p0's new key before the key: buffered, then released.
    assert!(call.participants[1].stats.released > 0);
}

#[test]
fn codec_aware_h264() {
    let mut call = Call::new(CallConfig {
        kinds: vec![Kind::H264],
        ..CallConfig::default()
    });
    call.run_with(Duration::from_secs(2), |call, n| {
        if n == 12 {
            call.sfu.relay.corrupt_next = Some((1, Kind::H264));
        }
    });
    call.settle(Duration::from_secs(1));
    check(&call, true);
    for p in &call.participants {
        assert_eq!(p.stats.received, total_sent_by_others(&call, p.id));
    }
}

/// The clip's access units start with an access unit delimiter (x264 `aud=1`), as
/// `codec_aware_h264` sends them. str0m's H.264 packetizer drops AUDs; the codec-aware format
/// drops them in normalization by default, so every frame decrypts (checked in
/// `codec_aware_h264`). Kept (`Policy::keep_access_unit_delimiters`), the AUD is clear and
/// authenticated, so every frame fails authentication behind str0m: the reason for the default.
#[test]
fn codec_aware_h264_aud_is_dropped_by_default_and_fails_when_kept() {
    let frames = Kind::H264.frames();
    let with_aud = frames
        .iter()
        .filter(|f| f.starts_with(&[0, 0, 0, 1]) && f.get(4).is_some_and(|h| h & 0x1f == 9))
        .count();
    assert_eq!(
        with_aud,
        frames.len(),
        "every access unit of the clip opens with an AUD"
    );

    let mut policy = Policy::default();
    policy.keep_access_unit_delimiters = true;
    let mut call = Call::new(CallConfig {
        kinds: vec![Kind::H264],
        policy,
        record: false,
        ..CallConfig::default()
    });
    call.run(Duration::from_secs(1));
    call.settle(Duration::from_millis(500));
    print!("{}", call.report());
    for p in &call.participants {
        assert!(p.stats.received > 0);
        assert_eq!(p.stats.decrypted, 0);
        assert_eq!(p.failures.len() as u64, p.stats.received);
        assert!(
            p.failures
                .iter()
                .all(|f| f.error.kind() == ErrorKind::Authentication),
            "{:?}",
            p.failures
        );
    }
}

#[test]
fn codec_aware_three_peers_rotation_leave_rejoin() {
    let mut call = Call::new(CallConfig {
        participants: 3,
        impairments: LOSSY,
        seed: 3,
        ..CallConfig::default()
    });
    call.run_with(Duration::from_secs(8), |call, n| match n {
        20 => call.rotate(1, 100),
        40 => call.leave(2),
        70 => call.rejoin(2),
        90 => call.sfu.relay.corrupt_next = Some((2, Kind::Vp8)),
        _ => {}
    });
    call.settle(Duration::from_secs(1));
    check(&call, false);
    for p in &call.participants {
        assert!(p.stats.decrypted > 100, "p{}", p.id);
        // Received: decrypted, corrupted, or stranded (sent by p2 as it left).
        assert_eq!(
            p.stats.decrypted + p.failures.len() as u64 + call.buffered(p.id).len() as u64,
            p.stats.received,
            "p{}",
            p.id
        );
    }
}

fn rtp_call(mode: Mode, kinds: Vec<Kind>, impairments: Impairments) -> Call {
    let first = kinds[0];
    let exact = impairments.drop < f64::EPSILON;
    let mut call = Call::new(CallConfig {
        mode,
        kinds,
        impairments,
        seed: 11,
        ..CallConfig::default()
    });
    call.run_with(Duration::from_secs(4), |call, n| {
        if n == 15 {
            call.sfu.relay.corrupt_next = Some((0, first));
        }
        if n == 30 {
            call.rotate(1, 150);
        }
    });
    call.settle(Duration::from_secs(1));
    check(&call, exact);
    for p in &call.participants {
        assert!(p.stats.decrypted > 0);
        if exact {
            // Per packet, a corrupted packet costs its frame: it never reaches the codec.
            let lost = if mode == Mode::PerPacket {
                p.failures.len() as u64
            } else {
                0
            };
            assert_eq!(
                p.stats.received + lost,
                total_sent_by_others(&call, p.id),
                "p{}",
                p.id
            );
        }
    }
    call
}

#[test]
fn rfc_per_frame_over_rtp_clean() {
    rtp_call(
        Mode::PerFrame,
        vec![Kind::Vp8, Kind::H264, Kind::Opus],
        Impairments::default(),
    );
}

#[test]
fn rfc_per_frame_over_rtp_lossy() {
    let call = rtp_call(Mode::PerFrame, vec![Kind::Vp8, Kind::Opus], LOSSY);
    let errors: u64 = call
        .participants
        .iter()
        .flat_map(|p| p.stats.depacketize_errors.values())
        .sum();
    assert!(errors > 0, "the depacketizer gave up on some groups");
}

#[test]
fn rfc_per_packet_over_rtp_clean() {
    rtp_call(
        Mode::PerPacket,
        vec![Kind::Vp8, Kind::Opus],
        Impairments::default(),
    );
}

#[test]
fn rfc_per_packet_over_rtp_lossy() {
    rtp_call(Mode::PerPacket, vec![Kind::Vp8, Kind::Opus], LOSSY);
}
