//! A three-party end-to-end encrypted call over str0m, a few seconds in each way of carrying
//! SFrame, with per-participant statistics; or, with `--soak N`, the long run: N frames per
//! participant through a lossy relay, key rotations, a leave and a rejoin, with the sizes of
//! everything the sessions hold at the start and the end.
//!
//! ```text
//! cargo run -p interop --example call
//! cargo run -p interop --example call -- --soak 100000
//! ```
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "example: a panic is a failed check"
)]

use std::time::{Duration, Instant};

use interop::call::{Call, CallConfig, Mode, rss_kib};
use interop::media::Kind;
use interop::sfu::Impairments;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--soak") {
        let frames = args
            .get(at + 1)
            .map_or(100_000, |n| n.parse().expect("--soak N"));
        soak(frames);
        return;
    }
    for (mode, kinds) in [
        (Mode::CodecAware, vec![Kind::Vp8, Kind::Opus]),
        (Mode::CodecAware, vec![Kind::H264]),
        (Mode::PerFrame, vec![Kind::Vp8, Kind::H264, Kind::Opus]),
        (Mode::PerPacket, vec![Kind::Vp8, Kind::Opus]),
    ] {
        let started = Instant::now();
        let mut call = Call::new(CallConfig {
            mode,
            participants: 3,
            kinds: kinds.clone(),
            impairments: Impairments {
                drop: 0.02,
                reorder: 0.02,
                duplicate: 0.01,
            },
            ..CallConfig::default()
        });
        let first = kinds[0];
        call.run_with(Duration::from_secs(4), |call, n| {
            if n == 10 {
                call.sfu.relay.corrupt_next = Some((2, first));
            }
            if n == 30 {
                call.rotate(0, 100);
            }
        });
        call.settle(Duration::from_secs(1));
        // str0m hands over H.264 access units with packets missing after loss; SFrame refuses
        // them (syntax or authentication), so lossy H.264 shows failures beyond the corrupted
        // frame. VP8 and Opus frames arrive whole or not at all.
        println!(
            "{mode:?} {kinds:?}, 3 participants, 4 s (virtual; {} ms real), 2 % loss, 2 % reordering, 1 % duplicates, one corrupted packet, one key rotation:",
            started.elapsed().as_millis()
        );
        print!("{}", call.report());
        let seen = call.plaintext_seen_by_relay();
        println!(
            "  relay recorded {} payload bytes; 16-byte windows of encrypted plaintext found in them: {seen}",
            call.sfu.relay.recorded.len()
        );
        assert_eq!(seen, 0);
    }
}

/// `total` frames per participant (VP8 at 15 fps and Opus at 50 fps: 20/86 of them video), 5 %
/// loss, 2 % reordering, every participant starting a new generation every `total / 10` frames,
/// participant 2 away from a third to a half of the call.
fn soak(total: u64) {
    let video_ms = Kind::Vp8.frame_ms();
    let audio_ms = Kind::Opus.frame_ms();
    let frames = total * audio_ms / (audio_ms + video_ms);
    let rotate_every = (frames / 10).max(1);
    let started = Instant::now();
    let mut call = Call::new(CallConfig {
        mode: Mode::CodecAware,
        participants: 3,
        kinds: vec![Kind::Vp8, Kind::Opus],
        impairments: Impairments {
            drop: 0.05,
            reorder: 0.02,
            duplicate: 0.0,
        },
        record: false,
        ..CallConfig::default()
    });
    // Warm up one second, then measure the start.
    call.run(Duration::from_secs(1));
    let report = |call: &Call, when: &str| {
        let (rss, peak) = rss_kib();
        println!(
            "{when}: RSS {rss} KiB (peak {peak} KiB), ledger {} entries",
            call.ledger_len()
        );
        for p in &call.participants {
            println!("  p{}: {:?}", p.id, call.footprint(p.id));
        }
    };
    report(&call, "start");
    let (leave, back) = (frames / 3, frames / 2);
    call.run_with(Duration::from_millis(frames * video_ms), |call, n| {
        if n > 0 && n % rotate_every == 0 {
            for i in 0..3 {
                if call.participants[i].active {
                    call.rotate(i, 40);
                }
            }
        }
        if n == leave {
            call.leave(2);
        }
        if n == back {
            call.rejoin(2);
        }
        if n > 0 && n % (rotate_every * 2) == 0 {
            let (rss, _) = rss_kib();
            let sent = call.participants[0].stats.sent;
            println!(
                "  p0 sent {sent} frames: RSS {rss} KiB, {:?}",
                call.footprint(0)
            );
        }
    });
    call.settle(Duration::from_secs(2));
    report(&call, "end");
    print!("{}", call.report());
    println!("{} s real", started.elapsed().as_secs());
    for p in &call.participants {
        assert!(
            p.failures.is_empty(),
            "p{}: {:?}",
            p.id,
            &p.failures[..p.failures.len().min(5)]
        );
        // Only frames p2 had in flight when it left wait for a key that never comes.
        let stranded = call
            .buffered(p.id)
            .iter()
            .filter(|(from, ..)| call.left.contains(from))
            .count();
        assert_eq!(call.footprint(p.id).pending_frames, stranded);
    }
}
