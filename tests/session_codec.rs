//! The session in the codec-aware format: the same keys, counters, buffer and statistics as
//! whole-frame SFrame, over the compat container, on real encoder output.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

mod common;

use secure_frame::codec::{self, Codec, Plan, Policy};
use secure_frame::compat::{CompatEncryptError, PassThrough};
use secure_frame::session::{FrameFormat, ParticipantId, Unprotected};
use secure_frame::{
    BaseKey, CipherSuite, KeyId, ProtectError, SenderKeyLayout, SenderKeySession, UnprotectError,
};

fn key(byte: u8) -> BaseKey {
    BaseKey::new(&[byte; 16]).unwrap()
}

fn session(suite: CipherSuite, me: u64, format: FrameFormat) -> SenderKeySession {
    SenderKeySession::new(suite, SenderKeyLayout::default(), ParticipantId(me))
        .unwrap()
        .with_format(format)
}

/// Hands `from`'s current send key to `to`.
fn introduce(from: &SenderKeySession, from_id: u64, to: &mut SenderKeySession) {
    let (id, base) = from.send_key().unwrap();
    to.add_participant(ParticipantId(from_id), id, base)
        .unwrap();
}

/// Alice (participant 7) sends, Bob (participant 0) receives, both in `format`.
fn pair(suite: CipherSuite, format: FrameFormat) -> (SenderKeySession, SenderKeySession) {
    let mut alice = session(suite, 7, format);
    alice.set_send_key(1, key(0xa1)).unwrap();
    let mut bob = session(suite, 0, format);
    introduce(&alice, 7, &mut bob);
    (alice, bob)
}

fn plaintext(opened: Unprotected<'_>) -> (ParticipantId, &mut [u8]) {
    let d = opened.decrypted().expect("decrypted, not passed through");
    (d.sender, d.plaintext)
}

fn normalized(codec: Codec, frame: &[u8]) -> Vec<u8> {
    match codec::plan(codec, frame, &Policy::default()).unwrap() {
        Plan::PassThrough => frame.to_vec(),
        Plan::Protect(plan) => plan.frame().to_vec(),
    }
}

#[test]
fn every_frame_of_every_clip_round_trips_through_sessions() {
    for clip in common::media::load_all() {
        let codec = Codec::from_mime(clip.mime).unwrap();
        for suite in [
            CipherSuite::AesGcm128Sha256,
            CipherSuite::AesCtr128HmacSha256_80,
        ] {
            let (mut alice, mut bob) = pair(suite, FrameFormat::CodecAware(codec));
            for (i, frame) in clip.frames.iter().enumerate() {
                let mut wire = frame.clone();
                alice.protect(b"rtp", &mut wire).unwrap();
                // protect_into gives the same kind of frame into a caller's buffer
                let mut out = vec![0; wire.len() + 64];
                let into_len = alice.protect_into(b"rtp", frame, &mut out).unwrap().len();
                let (sender, opened) = plaintext(bob.unprotect(b"rtp", &mut wire).unwrap());
                assert_eq!(sender, ParticipantId(7));
                assert_eq!(opened, normalized(codec, frame), "{} #{i}", clip.file);
                let (_, opened) = plaintext(bob.unprotect(b"rtp", &mut out[..into_len]).unwrap());
                assert_eq!(opened, normalized(codec, frame));
            }
            let stats = bob.stats();
            assert_eq!(
                stats.frames_ok,
                2 * u64::try_from(clip.frames.len()).unwrap()
            );
            assert_eq!(stats.authentication_errors + stats.syntax_errors, 0);
        }
    }
}

#[test]
fn a_frame_before_its_key_is_buffered_and_released() {
    let format = FrameFormat::CodecAware(Codec::Vp8);
    let mut alice = session(CipherSuite::AesGcm128Sha256, 1, format);
    alice.set_send_key(3, key(1)).unwrap();
    let mut bob = session(CipherSuite::AesGcm128Sha256, 0, format);
    // a VP8 delta frame: P bit set in the first byte
    let frame = vec![0x31, 0x22, 0x33, 0x44, 0x55];
    let mut wire = frame.clone();
    alice.protect(b"", &mut wire).unwrap();
    let kept = wire.clone();
    assert_eq!(
        bob.unprotect(b"", &mut wire).unwrap_err(),
        UnprotectError::UnknownKeyId(KeyId((3 << 8 | 2) << 8))
    );
    assert_eq!(wire, kept, "an unknown KID leaves the frame as it was");
    assert_eq!(bob.pending_frames(), 1);
    introduce(&alice, 1, &mut bob);
    let released = bob.poll_released().unwrap();
    assert_eq!(released.plaintext, frame);
    assert_eq!(released.sender, ParticipantId(1));
}

#[test]
fn forgeries_and_unprotected_frames_are_refused_and_counted() {
    let codec = Codec::H264;
    let (mut alice, mut bob) = pair(CipherSuite::AesGcm128Sha256, FrameFormat::CodecAware(codec));
    let frame = hex::decode("0000000161e0fafafa").unwrap();
    let mut wire = frame.clone();
    alice.protect(b"", &mut wire).unwrap();

    // a clear byte changed: the range map and every clear byte are authenticated
    let mut forged = wire.clone();
    forged[4] ^= 0x40;
    assert_eq!(
        bob.unprotect(b"", &mut forged).unwrap_err(),
        UnprotectError::Authentication(alice.send_key_id().unwrap())
    );
    // the genuine frame still opens: the forgery moved nothing
    let mut genuine = wire.clone();
    assert_eq!(
        plaintext(bob.unprotect(b"", &mut genuine).unwrap()).1,
        frame
    );
    let mut again = wire.clone();
    assert_eq!(
        bob.unprotect(b"", &mut again).unwrap_err(),
        UnprotectError::Replay(alice.send_key_id().unwrap())
    );

    // (`frame` itself ends in FA FA, the container's magic: use one that does not)
    let unprotected = hex::decode("0000000161e0abcdef").unwrap();
    let mut plain = unprotected.clone();
    assert_eq!(
        bob.unprotect(b"", &mut plain).unwrap_err(),
        UnprotectError::NotProtected
    );
    let stats = bob.stats();
    assert_eq!(
        (
            stats.frames_ok,
            stats.authentication_errors,
            stats.replays,
            stats.syntax_errors
        ),
        (1, 2, 1, 1)
    );
    // An empty frame: H.264 senders never send one, so it is refused, not passed through.
    assert_eq!(
        bob.unprotect(b"", &mut []).unwrap_err(),
        UnprotectError::EmptyFrame
    );

    // opting in lets unprotected frames through unchanged
    let (_, bob) = pair(CipherSuite::AesGcm128Sha256, FrameFormat::CodecAware(codec));
    let mut bob = bob.accept_unprotected(true);
    let mut plain = unprotected.clone();
    match bob.unprotect(b"", &mut plain).unwrap() {
        Unprotected::PassedThrough { reason, frame } => {
            assert_eq!(reason, PassThrough::Unprotected);
            assert_eq!(frame, unprotected);
        }
        Unprotected::Decrypted(_) => panic!("an unprotected frame is never 'decrypted'"),
    }
    assert_eq!(bob.stats().passed_through, 1);
}

#[test]
fn empty_frames_pass_only_for_codecs_that_send_them() {
    for (codec, passes) in [
        (Codec::Opus, true),
        (Codec::Vp8, true),
        (Codec::Vp9, true),
        (Codec::Av1, false),
        (Codec::H264, false),
        (Codec::H265, false),
    ] {
        let (mut alice, mut bob) =
            pair(CipherSuite::AesGcm128Sha256, FrameFormat::CodecAware(codec));
        let mut frame = Vec::new();
        let sent = alice.protect(b"", &mut frame);
        assert_eq!(sent.is_ok(), passes, "{codec:?}: the sender's view");
        match bob.unprotect(b"", &mut []) {
            Ok(Unprotected::PassedThrough { reason, frame }) => {
                assert!(passes, "{codec:?}");
                assert_eq!((reason, frame.len()), (PassThrough::Empty, 0));
            }
            Ok(Unprotected::Decrypted(_)) => panic!("{codec:?}: an empty frame decrypted"),
            Err(e) => {
                assert!(!passes, "{codec:?}: {e}");
                assert_eq!(e, UnprotectError::EmptyFrame);
            }
        }
        // The application can opt in for the others.
        let mut lenient = bob.accept_empty(true);
        assert!(matches!(
            lenient.unprotect(b"", &mut []),
            Ok(Unprotected::PassedThrough {
                reason: PassThrough::Empty,
                ..
            })
        ));
    }
}

#[test]
fn annex_b_sessions_use_every_generation() {
    // Generations whose KIDs hold 00 00 (v1 refused them for H.264 and H.265): generation
    // 0x10000 of participant 0 is KID 01 00 00 01 00, escaped in the trailer. Every frame of
    // the H.264 and H.265 clips goes through, before and after a ratchet step.
    let suite = CipherSuite::AesGcm128Sha256;
    for file in ["h264-main.h264", "h265.h265"] {
        let clip = common::media::load(file);
        let codec = Codec::from_mime(clip.mime).unwrap();
        let format = FrameFormat::CodecAware(codec);
        for generation in [0x1_0000, 0x1_0001, 0x100_0000, 0x100_0000_0000] {
            let mut alice = session(suite, 0, format);
            let kid = alice.set_send_key(generation, key(2)).unwrap();
            assert_eq!(
                kid.0 >> 16,
                generation,
                "generation above participant and step"
            );
            let mut bob = session(suite, 1, format);
            introduce(&alice, 0, &mut bob);
            for step in 0..2 {
                for frame in &clip.frames {
                    let mut wire = frame.clone();
                    alice.protect(b"", &mut wire).unwrap();
                    let (sender, opened) = plaintext(bob.unprotect(b"", &mut wire).unwrap());
                    assert_eq!(sender, ParticipantId(0));
                    assert_eq!(opened, normalized(codec, frame), "{file}, step {step}");
                }
                alice.ratchet().unwrap();
            }
        }
    }
}

#[test]
fn a_frame_the_codec_refuses_is_never_sent() {
    let (mut alice, _) = pair(
        CipherSuite::AesGcm128Sha256,
        FrameFormat::CodecAware(Codec::H264),
    );
    let mut garbage = vec![0xff, 0x00, 0x00, 0x00, 0x01, 0x61, 0xe0, 0xfa];
    let kept = garbage.clone();
    assert!(matches!(
        alice.protect(b"", &mut garbage),
        Err(ProtectError::CodecAware(CompatEncryptError::Codec(_)))
    ));
    assert_eq!(garbage, kept);
    assert_eq!(alice.stats().frames_protected, 0);
}
