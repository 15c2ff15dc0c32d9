//! The worker's per-frame core on the host: both formats, the W3C error classes, the §5.1
//! ratchet option.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failure")]

use secure_frame::{CipherSuite, ErrorKind, KeyId, RatchetBits};
use secure_frame_wasm::transform::{Failure, Format, Receiver, Sender};

const KEY: [u8; 16] = [7; 16];
const GCM: CipherSuite = CipherSuite::AesGcm128Sha256;
const H264: [u8; 12] = [0, 0, 0, 1, 0x65, 0x88, 0x84, 0x21, 0x42, 0x63, 0x84, 0xa5];

fn pair(format: Format) -> (Sender, Receiver) {
    let mut sender = Sender::new(GCM, format);
    sender.set_key(KeyId(1), &KEY).unwrap();
    let mut receiver = Receiver::new(GCM, format);
    receiver.add_key(KeyId(1), &KEY).unwrap();
    (sender, receiver)
}

#[test]
fn both_formats_round_trip() {
    for (format, mime, frame) in [
        (Format::Rfc, "video/VP9", &b"a VP9 frame"[..]),
        (Format::Rfc, "audio/opus", &b"opus"[..]),
        (Format::Codec, "video/H264", &H264[..]),
        (Format::Codec, "audio/opus", &b"opus"[..]),
    ] {
        let (mut sender, mut receiver) = pair(format);
        let mut wire = sender.protect(mime, frame).unwrap().to_vec();
        assert_ne!(&wire[..], frame);
        assert_eq!(
            receiver.unprotect(mime, &mut wire).unwrap(),
            frame,
            "{format:?} {mime}"
        );
        assert_eq!(receiver.counts().decrypted, 1);
        assert_eq!(sender.frames(), 1);
    }
}

#[test]
fn errors_are_the_w3c_classes() {
    let (mut sender, _) = pair(Format::Rfc);
    let wire = sender.protect("video/VP9", b"frame").unwrap().to_vec();

    let mut wrong = Receiver::new(GCM, Format::Rfc);
    wrong.add_key(KeyId(1), &[8; 16]).unwrap();
    let failure = wrong.unprotect("video/VP9", &mut wire.clone()).unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Authentication);
    assert!(!failure.replay);

    let mut missing = Receiver::new(GCM, Format::Rfc);
    missing.add_key(KeyId(2), &KEY).unwrap();
    let failure = missing
        .unprotect("video/VP9", &mut wire.clone())
        .unwrap_err();
    assert_eq!(
        failure,
        Failure {
            kind: ErrorKind::KeyId,
            key_id: Some(KeyId(1)),
            replay: false
        }
    );

    let mut garbage = [0xff, 1, 2, 3, 4, 5, 0, 0];
    let failure = missing.unprotect("video/VP9", &mut garbage).unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Syntax);

    let mut right = Receiver::new(GCM, Format::Rfc);
    right.add_key(KeyId(1), &KEY).unwrap();
    right.unprotect("video/VP9", &mut wire.clone()).unwrap();
    let failure = right.unprotect("video/VP9", &mut wire.clone()).unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Authentication);
    assert!(failure.replay);
    let counts = right.counts();
    assert_eq!(
        (counts.decrypted, counts.authentication, counts.replay),
        (1, 1, 1)
    );
}

#[test]
fn a_receiver_key_is_replaced_and_removed() {
    let (mut sender, mut receiver) = pair(Format::Rfc);
    receiver.add_key(KeyId(1), &[9; 16]).unwrap();
    let mut wire = sender.protect("video/VP9", b"frame").unwrap().to_vec();
    assert!(receiver.unprotect("video/VP9", &mut wire).is_err());
    assert!(receiver.remove_key(KeyId(1)));
    assert!(!receiver.has_key(KeyId(1)));
}

#[test]
fn the_ratchet_option_is_followed_without_key_messages() {
    let bits = RatchetBits::new(8).unwrap();
    for format in [Format::Rfc, Format::Codec] {
        let mut sender = Sender::new(GCM, format).with_ratchet(bits);
        // A KID that is not step 0 of a generation is refused.
        assert!(sender.set_key(KeyId(0x101), &KEY).is_err());
        sender.set_key(KeyId(0x100), &KEY).unwrap();
        let mut receiver = Receiver::new(GCM, format).with_ratchet(bits);
        receiver.add_key(KeyId(0x100), &KEY).unwrap();
        let mime = if format == Format::Rfc {
            "video/VP9"
        } else {
            "video/H264"
        };
        for step in 0..5u64 {
            if step > 0 {
                assert_eq!(sender.ratchet().unwrap(), KeyId(0x100 + step));
            }
            let mut wire = sender.protect(mime, &H264).unwrap().to_vec();
            assert_eq!(
                receiver.unprotect(mime, &mut wire).unwrap(),
                &H264[..],
                "{format:?} step {step}"
            );
        }
        assert!(receiver.has_key(KeyId(0x104)));
        assert_eq!(receiver.counts().decrypted, 5);
    }
}

/// W3C `addDecryptionKey` on a KID that has a key replaces it: frames under the new key
/// decrypt (from counter 0 again), frames under the old key fail as `authentication`, and the
/// same key added again keeps its replay window.
#[test]
fn add_decryption_key_on_an_existing_kid_replaces_the_key() {
    let (mut old_sender, mut receiver) = pair(Format::Rfc);
    for _ in 0..3 {
        let mut wire = old_sender.protect("video/VP9", b"old").unwrap().to_vec();
        assert_eq!(receiver.unprotect("video/VP9", &mut wire).unwrap(), b"old");
    }

    let new_key = [9; 16];
    receiver.add_key(KeyId(1), &new_key).unwrap();
    assert!(receiver.has_key(KeyId(1)));
    let mut new_sender = Sender::new(GCM, Format::Rfc);
    new_sender.set_key(KeyId(1), &new_key).unwrap();
    let first = new_sender.protect("video/VP9", b"new").unwrap().to_vec();
    assert_eq!(
        receiver.unprotect("video/VP9", &mut first.clone()).unwrap(),
        b"new"
    );

    let mut old = old_sender.protect("video/VP9", b"old").unwrap().to_vec();
    let failure = receiver.unprotect("video/VP9", &mut old).unwrap_err();
    assert_eq!(failure.kind, ErrorKind::Authentication);
    assert!(
        !failure.replay,
        "an old-key frame fails its tag, it is no replay"
    );

    // The same key again: nothing changes, the frame already accepted stays a replay.
    receiver.add_key(KeyId(1), &new_key).unwrap();
    let failure = receiver
        .unprotect("video/VP9", &mut first.clone())
        .unwrap_err();
    assert_eq!(
        (failure.kind, failure.replay),
        (ErrorKind::Authentication, true)
    );
    let mut second = new_sender.protect("video/VP9", b"new 2").unwrap().to_vec();
    assert_eq!(
        receiver.unprotect("video/VP9", &mut second).unwrap(),
        b"new 2"
    );

    // Removed, then added again: a fresh key as far as the receiver knows.
    assert!(receiver.remove_key(KeyId(1)));
    assert!(!receiver.has_key(KeyId(1)));
    receiver.add_key(KeyId(1), &KEY).unwrap();
    let mut wire = old_sender.protect("video/VP9", b"back").unwrap().to_vec();
    assert_eq!(receiver.unprotect("video/VP9", &mut wire).unwrap(), b"back");
    let counts = receiver.counts();
    assert_eq!(
        (counts.decrypted, counts.authentication, counts.replay),
        (6, 2, 1)
    );
}

/// `setEncryptionKey` with the key already in use, under its KID, keeps the counter going: a
/// fresh encryptor would send counter 0 again under the same key (a reused nonce), which the
/// receiver would drop as a replay.
#[test]
fn set_encryption_key_again_keeps_the_counter() {
    let (mut sender, mut receiver) = pair(Format::Rfc);
    let mut wire = sender.protect("video/VP9", b"one").unwrap().to_vec();
    receiver.unprotect("video/VP9", &mut wire).unwrap();
    sender.set_key(KeyId(1), &KEY).unwrap();
    let mut wire = sender.protect("video/VP9", b"two").unwrap().to_vec();
    assert_eq!(receiver.unprotect("video/VP9", &mut wire).unwrap(), b"two");
    // A different key under the same KID is a new key: its counter starts again.
    sender.set_key(KeyId(1), &[9; 16]).unwrap();
    receiver.add_key(KeyId(1), &[9; 16]).unwrap();
    let mut wire = sender.protect("video/VP9", b"three").unwrap().to_vec();
    assert_eq!(
        receiver.unprotect("video/VP9", &mut wire).unwrap(),
        b"three"
    );
    assert_eq!(receiver.counts().replay, 0);
}
