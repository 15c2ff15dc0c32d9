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

/// An MLS epoch's `MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`, here made up.
fn epoch_secret(epoch: u64) -> [u8; 16] {
    let mut key = [0x40; 16];
    key[..8].copy_from_slice(&epoch.to_be_bytes());
    key
}

/// RFC 9605 §5.2 with E = 4: the wasm-side sender (leaf 2 of 4) and a native member (leaf 0,
/// the library's `MlsSession`) read each other's frames, and the decrypter keeps several
/// epochs live, refuses its own leaf and reports a removed epoch as `keyID`.
#[test]
fn mls_epochs_interoperate_with_the_library() {
    use secure_frame::MlsSession;
    use secure_frame::mls::{MlsEpochStore, MlsKeyId, MlsKidLayout};
    use secure_frame::{BaseKey, Unprotected};

    const E: u8 = 4;
    let mut sender = Sender::new(GCM, Format::Rfc).with_mls(E, 0).unwrap();
    let mut receiver = Receiver::new(GCM, Format::Rfc).with_mls(E, None).unwrap();
    let mut native = MlsSession::new(GCM, E, 0).unwrap();
    let mut store = MlsEpochStore::new(GCM, E).unwrap();

    for epoch in [7u64, 8] {
        let secret = epoch_secret(epoch);
        let kid = sender.set_epoch(epoch, 4, 2, &secret).unwrap();
        // S = 2 for a group of 4: KID = (2 << 4) | (epoch % 16).
        let layout = MlsKidLayout::for_group(E, 4).unwrap();
        assert_eq!(
            kid,
            MlsKeyId {
                context: 0,
                sender_index: 2,
                epoch
            }
            .to_key_id(layout)
            .unwrap()
        );
        receiver.add_epoch(epoch, 4, Some(2), &secret).unwrap();
        native
            .install_epoch(epoch, 4, 0, BaseKey::new(&secret).unwrap())
            .unwrap();
        store
            .install_epoch(epoch, 4, None, BaseKey::new(&secret).unwrap())
            .unwrap();

        // wasm → native: the session and the bare store.
        let wire = sender
            .protect("video/VP9", b"from leaf 2")
            .unwrap()
            .to_vec();
        let mut copy = wire.clone();
        match native.unprotect(&[], &mut copy).unwrap() {
            Unprotected::Decrypted(d) => {
                assert_eq!(d.key_id, kid);
                assert_eq!(&d.plaintext[..], b"from leaf 2");
            }
            Unprotected::PassedThrough { .. } => panic!("passed through"),
        }
        let mut copy = wire.clone();
        let opened = store.decrypt_in_place(&[], &mut copy).unwrap();
        assert_eq!(
            (opened.sender.sender_index, opened.sender.epoch),
            (2, epoch)
        );
        assert_eq!(&opened.plaintext[..], b"from leaf 2");

        // native → wasm.
        let mut frame = b"from leaf 0".to_vec();
        native.protect(&[], &mut frame).unwrap();
        assert_eq!(
            receiver.unprotect("video/VP9", &mut frame).unwrap(),
            b"from leaf 0"
        );
        // My own leaf's KID is not a key this decrypter has (encrypt-only).
        let mut mine = wire.clone();
        let failure = receiver.unprotect("video/VP9", &mut mine).unwrap_err();
        assert_eq!(
            (failure.kind, failure.key_id),
            (ErrorKind::KeyId, Some(kid))
        );
    }
    assert_eq!(receiver.live_epochs(), vec![7, 8]);

    // A frame of epoch 7 still decrypts while 8 is live; after removing 7 it is a keyID error.
    let mut old = MlsSession::new(GCM, E, 0).unwrap();
    old.install_epoch(7, 4, 1, BaseKey::new(&epoch_secret(7)).unwrap())
        .unwrap();
    let mut late = b"late epoch 7 frame".to_vec();
    old.protect(&[], &mut late).unwrap();
    assert!(receiver.unprotect("video/VP9", &mut late.clone()).is_ok());
    let mut again = b"second late frame".to_vec();
    old.protect(&[], &mut again).unwrap();
    assert!(receiver.remove_epoch(7));
    assert!(!receiver.remove_epoch(7));
    let failure = receiver.unprotect("video/VP9", &mut again).unwrap_err();
    assert_eq!(failure.kind, ErrorKind::KeyId);
    assert_eq!(failure.key_id, old.send_key_id());
    assert!(!receiver.has_key(old.send_key_id().unwrap()));
    // A removed epoch is not installed again (its replay windows are gone).
    assert!(receiver.add_epoch(7, 4, Some(2), &epoch_secret(7)).is_err());
    assert_eq!(receiver.live_epochs(), vec![8]);
}

/// The MLS option's refusals: keys by KID, an epoch that is not newer, a sender index outside
/// the group, a key that is not `Nk` bytes, and epochs on a transform without the option.
#[test]
fn mls_refusals() {
    use secure_frame_wasm::transform::KeyChangeError;
    let mut sender = Sender::new(GCM, Format::Rfc).with_mls(8, 0).unwrap();
    assert_eq!(
        sender.set_key(KeyId(1), &KEY),
        Err(KeyChangeError::WrongMode)
    );
    assert_eq!(
        sender.set_epoch(1, 4, 1, &[1; 32]),
        Err(KeyChangeError::EpochKeyLength)
    );
    assert!(sender.set_epoch(1, 4, 4, &[1; 16]).is_err());
    assert_eq!(sender.epoch(), None);
    sender.set_epoch(2, 4, 1, &[1; 16]).unwrap();
    assert!(sender.set_epoch(2, 4, 1, &[1; 16]).is_err());
    assert!(sender.set_epoch(1, 4, 1, &[1; 16]).is_err());
    assert_eq!(sender.epoch(), Some(2));
    assert!(Sender::new(GCM, Format::Rfc).with_mls(0, 0).is_err());

    let mut receiver = Receiver::new(GCM, Format::Rfc).with_mls(8, None).unwrap();
    assert_eq!(
        receiver.add_key(KeyId(1), &KEY),
        Err(KeyChangeError::WrongMode)
    );
    receiver.add_epoch(2, 4, None, &[1; 16]).unwrap();
    assert!(receiver.add_epoch(2, 4, None, &[1; 16]).is_err());
    assert!(
        Receiver::new(GCM, Format::Rfc)
            .with_mls(2, Some(5))
            .is_err()
    );

    let mut plain = Sender::new(GCM, Format::Rfc);
    assert_eq!(
        plain.set_epoch(1, 4, 1, &[1; 16]),
        Err(KeyChangeError::WrongMode)
    );
    let mut plain = Receiver::new(GCM, Format::Rfc);
    assert_eq!(
        plain.add_epoch(1, 4, None, &[1; 16]).map(|_| ()),
        Err(KeyChangeError::WrongMode)
    );
}

/// The MLS option in the codec-aware format: the rolled-over epoch (same low E bits) goes.
#[test]
fn mls_epochs_in_the_codec_aware_format_roll_over() {
    let mut sender = Sender::new(GCM, Format::Codec).with_mls(1, 0).unwrap();
    let mut receiver = Receiver::new(GCM, Format::Codec).with_mls(1, None).unwrap();
    for epoch in 1..=4u64 {
        sender.set_epoch(epoch, 2, 1, &epoch_secret(epoch)).unwrap();
        let installed = receiver
            .add_epoch(epoch, 2, Some(0), &epoch_secret(epoch))
            .unwrap();
        // E = 1: epoch n evicts epoch n - 2.
        assert_eq!(installed.rolled_over, (epoch >= 3).then(|| epoch - 2));
        let mut wire = sender.protect("video/H264", &H264).unwrap().to_vec();
        assert_eq!(
            receiver.unprotect("video/H264", &mut wire).unwrap(),
            &H264[..]
        );
    }
    assert_eq!(receiver.live_epochs(), vec![3, 4]);
}

/// `mlsBaseKeyLength` in sframe.js gives the library's Nk for every suite.
#[test]
fn the_js_nk_table_is_the_libraries() {
    let js = include_str!("../js/sframe.js");
    let table = CipherSuite::ALL
        .iter()
        .map(|s| format!("{}: {}", s.id(), s.key_len()))
        .collect::<Vec<_>>()
        .join(", ");
    assert!(js.contains(&format!("{{ {table} }}")), "{table}");
}

/// The copies of base keys the sender and receiver keep (to recognize a key set again) never
/// show in `Debug`: the exact text.
#[test]
fn debug_shows_no_key_bytes() {
    let secret = [0xab; 16];
    let mut sender = Sender::new(GCM, Format::Rfc);
    sender.set_key(KeyId(1), &secret).unwrap();
    assert_eq!(
        format!("{sender:?}"),
        "Sender { suite: AesGcm128Sha256, format: Rfc, key_id: Some(KeyId(1)), frames: 0, .. }"
    );
    let mut receiver = Receiver::new(GCM, Format::Rfc);
    receiver.add_key(KeyId(1), &secret).unwrap();
    let counts = "Counts { decrypted: 0, syntax: 0, key_id: 0, authentication: 0, replay: 0 }";
    assert_eq!(
        format!("{receiver:?}"),
        format!(
            "Receiver {{ keys: Decryptor {{ suite: AesGcm128Sha256, keys: 1, .. }}, format: Rfc, counts: {counts}, .. }}"
        )
    );
    let mut mls = Receiver::new(GCM, Format::Rfc).with_mls(4, None).unwrap();
    mls.add_epoch(1, 2, None, &secret).unwrap();
    assert_eq!(
        format!("{mls:?}"),
        format!(
            "Receiver {{ keys: Decryptor {{ suite: AesGcm128Sha256, keys: 0, .. }}, format: Rfc, counts: {counts}, .. }}"
        )
    );
}

/// Seals `plain` as the worker's Sealer does on the WebCrypto path, with the raw AEAD in
/// WebCrypto's place: `None` (the wasm path) when the sender's key changed since `imported`
/// was taken (its `key_version`).
fn seal_external(
    sender: &mut Sender,
    imported: &mut Option<(u64, KeyId, Vec<u8>)>,
    plain: &[u8],
) -> Option<Vec<u8>> {
    use secure_frame::hazmat::RawAead;
    let (kid, key) = match imported {
        Some((version, kid, key)) if *version == sender.key_version() => (*kid, key.clone()),
        _ => {
            // The import for the next frames; this one takes the wasm path.
            let (kid, key) = sender.current_aead_key().unwrap();
            *imported = Some((sender.key_version(), kid, key.expose_secret().to_vec()));
            return None;
        }
    };
    let request = sender.begin_seal().unwrap();
    assert_eq!(request.key_id(), kid, "never a frame under another key");
    let aead = RawAead::new(GCM, &key).unwrap();
    let mut body = plain.to_vec();
    let mut tag = [0; 16];
    aead.seal(request.nonce(), request.header(), &mut body, &mut tag)
        .unwrap();
    Some([request.header(), &body, &tag].concat())
}

/// Opens `wire` as the Opener does on the WebCrypto path: `Ok(None)` for a tag the external
/// AEAD refused (counted, nothing committed).
fn open_external(receiver: &mut Receiver, wire: &[u8]) -> Result<Option<Vec<u8>>, Failure> {
    use secure_frame::hazmat::RawAead;
    let request = receiver.begin_open(wire)?;
    let key = receiver.aead_key(request.key_id()).unwrap();
    let aead = RawAead::new(GCM, key.expose_secret()).unwrap();
    let (header, sealed) = request.split(wire);
    let (body, tag) = sealed.split_at(sealed.len() - 16);
    let mut plain = body.to_vec();
    if aead.open(request.nonce(), header, &mut plain, tag).is_err() {
        receiver.external_authentication_failed();
        return Ok(None);
    }
    receiver.commit_open(request)?;
    Ok(Some(plain))
}

/// The hybrid with the §5.1 ratchet: after each ratchet step the sender's external key is
/// taken again (the step's first frame goes through wasm), the receiver opens frames a step
/// ahead through the split open and moves forward only on commit; `key_version` moves with it.
#[test]
fn the_ratchet_option_takes_the_external_path() {
    let bits = RatchetBits::new(8).unwrap();
    let mut sender = Sender::new(GCM, Format::Rfc).with_ratchet(bits);
    sender.set_key(KeyId(0x200), &KEY).unwrap();
    let mut receiver = Receiver::new(GCM, Format::Rfc).with_ratchet(bits);
    receiver.add_key(KeyId(0x200), &KEY).unwrap();
    let mut imported = None;
    let (mut external_seals, mut external_opens) = (0, 0);
    for step in 0..4u64 {
        if step > 0 {
            sender.ratchet().unwrap();
        }
        for i in 0..4u8 {
            let plain = [i; 2000];
            let version = receiver.key_version();
            if let Some(wire) = seal_external(&mut sender, &mut imported, &plain) {
                external_seals += 1;
                assert_eq!(
                    open_external(&mut receiver, &wire).unwrap().as_deref(),
                    Some(&plain[..])
                );
                external_opens += 1;
                // A replay of it is refused.
                assert!(receiver.begin_open(&wire).unwrap_err().replay);
            } else {
                let mut wire = sender.protect("video/VP9", &plain).unwrap().to_vec();
                assert_eq!(receiver.unprotect("video/VP9", &mut wire).unwrap(), &plain);
            }
            // The receiver moved to the step on the step's first frame, and only then.
            assert_eq!(receiver.key_version() != version, step > 0 && i == 0);
        }
    }
    assert_eq!((external_seals, external_opens), (12, 12));
    assert_eq!(receiver.counts().decrypted, 16);

    // A frame two steps ahead, sealed externally and forged: nothing moves; the genuine one
    // opens through the split path and moves the receiver.
    sender.ratchet().unwrap();
    sender.ratchet().unwrap();
    assert!(seal_external(&mut sender, &mut imported, b"switch").is_none());
    let wire = seal_external(&mut sender, &mut imported, &[9; 1500]).unwrap();
    let mut forged = wire.clone();
    *forged.last_mut().unwrap() ^= 1;
    let version = receiver.key_version();
    let failed = receiver.counts().authentication;
    assert_eq!(open_external(&mut receiver, &forged), Ok(None));
    assert_eq!(receiver.key_version(), version);
    assert_eq!(receiver.counts().authentication, failed + 1);
    assert_eq!(
        open_external(&mut receiver, &wire).unwrap().as_deref(),
        Some(&[9; 1500][..])
    );
    assert_ne!(receiver.key_version(), version);
    assert!(receiver.aead_key(sender.key_id().unwrap()).is_some());
}

/// The hybrid with MLS epochs (E = 4): the sender's external key follows `set_epoch`, the
/// receiver's `aead_key` gives each sender's key in its live epoch, and a request begun before
/// an epoch rolled over its low bits is not committed after.
#[test]
fn the_mls_option_takes_the_external_path() {
    const E: u8 = 4;
    let mut sender = Sender::new(GCM, Format::Rfc).with_mls(E, 0).unwrap();
    let mut receiver = Receiver::new(GCM, Format::Rfc)
        .with_mls(E, Some(2))
        .unwrap();
    let mut imported = None;
    let mut external = 0;
    for epoch in [7u64, 8] {
        let secret = epoch_secret(epoch);
        let version = receiver.key_version();
        receiver.add_epoch(epoch, 4, Some(0), &secret).unwrap();
        assert_ne!(receiver.key_version(), version);
        sender.set_epoch(epoch, 4, 2, &secret).unwrap();
        for i in 0..3u8 {
            let plain = [i; 4000];
            if let Some(wire) = seal_external(&mut sender, &mut imported, &plain) {
                external += 1;
                assert_eq!(
                    open_external(&mut receiver, &wire).unwrap().as_deref(),
                    Some(&plain[..])
                );
            } else {
                let mut wire = sender.protect("video/VP9", &plain).unwrap().to_vec();
                assert_eq!(receiver.unprotect("video/VP9", &mut wire).unwrap(), &plain);
            }
        }
    }
    assert_eq!(external, 4);
    assert_eq!(receiver.counts().decrypted, 6);

    // Epoch 8's frame, begun; epoch 24 (same low 4 bits) replaces epoch 8 before the commit.
    let wire = seal_external(&mut sender, &mut imported, &[1; 1000]).unwrap();
    let request = receiver.begin_open(&wire).unwrap();
    receiver
        .add_epoch(24, 4, Some(0), &epoch_secret(24))
        .unwrap();
    let failure = receiver.commit_open(request).unwrap_err();
    assert_eq!(failure.kind, ErrorKind::KeyId);
    // Epoch 24's frames under the same KID take its key.
    sender.set_epoch(24, 4, 2, &epoch_secret(24)).unwrap();
    assert!(seal_external(&mut sender, &mut imported, b"switch").is_none());
    let wire = seal_external(&mut sender, &mut imported, &[2; 1000]).unwrap();
    assert_eq!(
        open_external(&mut receiver, &wire).unwrap().as_deref(),
        Some(&[2; 1000][..])
    );
    // This member's own leaf has no key to hand out.
    let own = secure_frame::mls::MlsKeyId {
        context: 0,
        sender_index: 0,
        epoch: 24,
    }
    .to_key_id(secure_frame::mls::MlsKidLayout::for_group(E, 4).unwrap())
    .unwrap();
    assert!(receiver.aead_key(own).is_none());
}
