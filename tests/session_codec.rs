//! The session in the codec-aware format: the same keys, counters, buffer and statistics as
//! whole-frame SFrame, over the compat container, on real encoder output.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

mod common;

use secure_frame::codec::{self, Codec, Plan, Policy};
use secure_frame::session::{FrameFormat, ParticipantId};
use secure_frame::{
    BaseKey, CipherSuite, DecryptError, KeyError, KeyId, ProtectError, RatchetBits, SenderKeyId,
    Session, UnprotectError,
};

fn key(byte: u8) -> BaseKey {
    BaseKey::new(&[byte; 16]).unwrap()
}

/// Alice sends, Bob receives, both in `format`.
fn pair(suite: CipherSuite, format: FrameFormat) -> (Session, Session) {
    let bits = RatchetBits::new(8).unwrap();
    let mut alice = Session::sender_keys(suite, bits).with_format(format);
    alice.set_send_key(1, key(0xa1)).unwrap();
    let mut bob = Session::sender_keys(suite, bits).with_format(format);
    bob.add_participant(ParticipantId(7), SenderKeyId::new(1, 0), key(0xa1))
        .unwrap();
    (alice, bob)
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
                let opened = bob.unprotect(b"rtp", &mut wire).unwrap();
                assert_eq!(opened.sender, ParticipantId(7));
                assert_eq!(
                    opened.plaintext,
                    normalized(codec, frame),
                    "{} #{i}",
                    clip.file
                );
                let opened = bob.unprotect(b"rtp", &mut out[..into_len]).unwrap();
                assert_eq!(opened.plaintext, normalized(codec, frame));
            }
            let stats = bob.stats();
            assert_eq!(
                stats.frames_ok,
                2 * u64::try_from(clip.frames.len()).unwrap()
            );
            assert_eq!(stats.authentication_failures + stats.malformed, 0);
        }
    }
}

#[test]
fn a_frame_before_its_key_is_buffered_and_released() {
    let format = FrameFormat::CodecAware(Codec::Vp8);
    let bits = RatchetBits::new(8).unwrap();
    let mut alice = Session::sender_keys(CipherSuite::AesGcm128Sha256, bits).with_format(format);
    alice.set_send_key(3, key(1)).unwrap();
    let mut bob = Session::sender_keys(CipherSuite::AesGcm128Sha256, bits).with_format(format);
    // a VP8 delta frame: P bit set in the first byte
    let frame = vec![0x31, 0x22, 0x33, 0x44, 0x55];
    let mut wire = frame.clone();
    alice.protect(b"", &mut wire).unwrap();
    let kept = wire.clone();
    assert_eq!(
        bob.unprotect(b"", &mut wire).unwrap_err(),
        UnprotectError::Decrypt(DecryptError::UnknownKeyId(KeyId(3 << 8)))
    );
    assert_eq!(wire, kept, "an unknown KID leaves the frame as it was");
    assert_eq!(bob.pending_frames(), 1);
    bob.add_participant(ParticipantId(1), SenderKeyId::new(3, 0), key(1))
        .unwrap();
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
        UnprotectError::Decrypt(DecryptError::Authentication)
    );
    // the genuine frame still opens: the forgery moved nothing
    let mut genuine = wire.clone();
    assert_eq!(bob.unprotect(b"", &mut genuine).unwrap().plaintext, frame);
    let mut again = wire.clone();
    assert_eq!(
        bob.unprotect(b"", &mut again).unwrap_err(),
        UnprotectError::Decrypt(DecryptError::Replay)
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
            stats.authentication_failures,
            stats.replays,
            stats.malformed
        ),
        (1, 1, 1, 1)
    );

    // opting in lets unprotected frames through unchanged
    let (_, bob) = pair(CipherSuite::AesGcm128Sha256, FrameFormat::CodecAware(codec));
    let mut bob = bob.accept_unprotected(true);
    let mut plain = unprotected.clone();
    assert_eq!(
        bob.unprotect(b"", &mut plain).unwrap().plaintext,
        unprotected
    );
}

#[test]
fn annex_b_refuses_kids_with_two_zero_bytes() {
    let bits = RatchetBits::new(8).unwrap();
    let suite = CipherSuite::AesGcm128Sha256;
    // generation 0x100, step 0: KID 0x010000
    let mut h264 =
        Session::sender_keys(suite, bits).with_format(FrameFormat::CodecAware(Codec::H264));
    assert_eq!(
        h264.set_send_key(0x100, key(2)),
        Err(KeyError::KidNotAnnexBSafe(KeyId(0x0001_0000)))
    );
    assert_eq!(h264.send_key_id(), None, "nothing installed");
    let mut vp8 =
        Session::sender_keys(suite, bits).with_format(FrameFormat::CodecAware(Codec::Vp8));
    assert_eq!(vp8.set_send_key(0x100, key(2)), Ok(KeyId(0x0001_0000)));

    // a key set before the format switched (or a ratchet step wrapping round to such a KID):
    // protect refuses until the next step
    let mut rfc = Session::sender_keys(suite, bits);
    assert_eq!(rfc.set_send_key(0x100, key(3)), Ok(KeyId(0x0001_0000)));
    let mut h264 = rfc.with_format(FrameFormat::CodecAware(Codec::H264));
    let mut frame = hex::decode("0000000161e0fafafa").unwrap();
    assert_eq!(
        h264.protect(b"", &mut frame),
        Err(ProtectError::Key(KeyError::KidNotAnnexBSafe(KeyId(
            0x0001_0000
        ))))
    );
    assert_eq!(
        frame,
        hex::decode("0000000161e0fafafa").unwrap(),
        "plaintext kept"
    );
    assert_eq!(h264.ratchet(), Ok(KeyId(0x0001_0001)));
    h264.protect(b"", &mut frame).unwrap();
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
        Err(ProtectError::Codec(_))
    ));
    assert_eq!(garbage, kept);
    assert_eq!(alice.stats().frames_protected, 0);
}
