//! The session API: sender keys and MLS sessions between several participants, rotation,
//! late joiners, the unknown-KID buffer, counters, and forged frames that move nothing.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::as_conversions,
    reason = "test code"
)]

use secure_frame::mls::MlsExporter;
use secure_frame::session::{FrameFormat, ReleasedFrame};
use secure_frame::{
    BaseKey, CipherSuite, DecryptError, EncryptError, KeyError, KeyId, ParticipantId, ProtectError,
    RatchetBits, SenderKeyId, Session, SessionStats, UnprotectError,
};

const SUITE: CipherSuite = CipherSuite::AesCtr128HmacSha256_80;

fn bits() -> RatchetBits {
    RatchetBits::new(4).unwrap()
}

fn key(byte: u8) -> BaseKey {
    BaseKey::new(&[byte; 32]).unwrap()
}

fn copy(key: &BaseKey) -> BaseKey {
    BaseKey::new(key.expose_secret()).unwrap()
}

fn protect(session: &mut Session, text: &[u8]) -> Vec<u8> {
    let mut frame = text.to_vec();
    session.protect(b"meta", &mut frame).unwrap();
    frame
}

fn unprotect(session: &mut Session, frame: &[u8]) -> Result<(u64, Vec<u8>), UnprotectError> {
    let mut buf = frame.to_vec();
    session
        .unprotect(b"meta", &mut buf)
        .map(|u| (u.sender.0, u.plaintext.to_vec()))
}

/// `n` sender-key sessions, each with a key for generation 0, each knowing all others.
fn sender_key_group(n: u8) -> Vec<Session> {
    let mut sessions: Vec<Session> = (0..n)
        .map(|i| {
            let mut s = Session::sender_keys(SUITE, bits());
            s.set_send_key(0, key(i + 1)).unwrap();
            s
        })
        .collect();
    for i in 0..usize::from(n) {
        let (id, base) = {
            let (id, base) = sessions[i].send_key().unwrap();
            (id, copy(base))
        };
        for (j, s) in sessions.iter_mut().enumerate() {
            if i != j {
                s.add_participant(ParticipantId(i as u64), id, copy(&base))
                    .unwrap();
            }
        }
    }
    sessions
}

#[test]
fn sender_keys_every_direction_with_colliding_kids() {
    // Every sender starts at generation 0, step 0: all KIDs are 0 and collide. The session
    // tries each participant that recognizes the KID and attributes the frame correctly.
    let mut group = sender_key_group(3);
    for from in 0..3 {
        let frame = protect(&mut group[from], format!("from {from}").as_bytes());
        for to in (0..3).filter(|&t| t != from) {
            let (sender, text) = unprotect(&mut group[to], &frame).unwrap();
            assert_eq!(sender, from as u64);
            assert_eq!(text, format!("from {from}").as_bytes());
        }
    }
    assert_eq!(group[0].stats().frames_ok, 2);
    assert_eq!(group[0].stats().frames_protected, 1);
    assert_eq!(group[0].stats().authentication_failures, 0);
}

#[test]
fn unprotect_from_restricts_to_one_participant() {
    let mut group = sender_key_group(3);
    let frame = protect(&mut group[1], b"from 1");
    let mut buf = frame.clone();
    let out = group[0]
        .unprotect_from(ParticipantId(1), b"meta", &mut buf)
        .unwrap();
    assert_eq!(out.plaintext, b"from 1");
    let mut buf = frame.clone();
    assert_eq!(
        group[0]
            .unprotect_from(ParticipantId(2), b"meta", &mut buf)
            .err(),
        Some(UnprotectError::Decrypt(DecryptError::Authentication)),
        "participant 2's key is tried and refuses"
    );
    let mut buf = frame;
    assert!(matches!(
        group[0].unprotect_from(ParticipantId(9), b"meta", &mut buf),
        Err(UnprotectError::Decrypt(DecryptError::UnknownKeyId(_)))
    ));
}

#[test]
fn ratchet_rotation_is_followed() {
    let mut group = sender_key_group(2);
    let old = protect(&mut group[0], b"step 0");
    assert_eq!(group[0].ratchet(), Ok(KeyId(1)));
    let new = protect(&mut group[0], b"step 1");
    assert_eq!(unprotect(&mut group[1], &new).unwrap().1, b"step 1");
    assert_eq!(
        unprotect(&mut group[1], &old).unwrap().1,
        b"step 0",
        "late frame"
    );
    assert_eq!(
        group[1]
            .participant(ParticipantId(0))
            .unwrap()
            .sender_key_id(),
        SenderKeyId::new(0, 1)
    );
}

#[test]
fn leave_rotates_to_a_new_generation() {
    let mut group = sender_key_group(3);
    // Participant 2 leaves: 0 starts generation 1 and gives it to 1 only.
    assert!(group[0].remove_participant(ParticipantId(2)));
    assert!(!group[0].remove_participant(ParticipantId(2)));
    assert_eq!(group[0].set_send_key(0, key(50)), Err(KeyError::NotNewer));
    group[0].set_send_key(1, key(51)).unwrap();
    let (id, base) = group[0].send_key().map(|(id, k)| (id, copy(k))).unwrap();
    assert_eq!(id, SenderKeyId::new(1, 0));
    group[1]
        .add_participant(ParticipantId(0), id, base)
        .unwrap();
    let frame = protect(&mut group[0], b"without 2");
    assert_eq!(unprotect(&mut group[1], &frame).unwrap().1, b"without 2");
    assert!(matches!(
        unprotect(&mut group[2], &frame),
        Err(UnprotectError::Decrypt(DecryptError::UnknownKeyId(_)))
    ));
}

#[test]
fn late_joiner_frames_wait_for_the_key() {
    let mut group = sender_key_group(2);
    let mut dave = Session::sender_keys(SUITE, bits());
    dave.set_send_key(3, key(99)).unwrap();
    let early: Vec<Vec<u8>> = (0..3u8).map(|i| protect(&mut dave, &[i])).collect();
    for f in &early {
        assert!(matches!(
            unprotect(&mut group[0], f),
            Err(UnprotectError::Decrypt(DecryptError::UnknownKeyId(_)))
        ));
    }
    assert_eq!(group[0].pending_frames(), 3);
    assert_eq!(group[0].poll_released(), None);
    // Dave's key arrives: the buffered frames are released, in order.
    let (id, base) = dave.send_key().map(|(id, k)| (id, copy(k))).unwrap();
    group[0]
        .add_participant(ParticipantId(3), id, base)
        .unwrap();
    for i in 0..3u8 {
        let released: ReleasedFrame = group[0].poll_released().unwrap();
        assert_eq!(
            (released.sender, released.plaintext),
            (ParticipantId(3), vec![i])
        );
        assert_eq!(released.metadata, b"meta");
    }
    assert_eq!(group[0].poll_released(), None);
    assert_eq!(group[0].pending_frames(), 0);
    let stats = group[0].stats();
    assert_eq!(
        (
            stats.unknown_key_ids,
            stats.buffered,
            stats.released,
            stats.frames_ok
        ),
        (3, 3, 3, 3)
    );
    // Released frames went through the replay window.
    assert_eq!(
        unprotect(&mut group[0], &early[0]),
        Err(UnprotectError::Decrypt(DecryptError::Replay))
    );
}

#[test]
fn the_buffer_is_bounded() {
    let mut alice = Session::sender_keys(SUITE, bits()).with_pending_limits(2, 1 << 20);
    let mut bob = Session::sender_keys(SUITE, bits());
    bob.set_send_key(0, key(2)).unwrap();
    let frames: Vec<Vec<u8>> = (0..5u8).map(|i| protect(&mut bob, &[i; 10])).collect();
    for f in &frames {
        let _ = unprotect(&mut alice, f);
    }
    assert_eq!(alice.pending_frames(), 2);
    assert_eq!(alice.stats().dropped_from_buffer, 3);
    let (id, base) = bob.send_key().map(|(id, k)| (id, copy(k))).unwrap();
    alice.add_participant(ParticipantId(1), id, base).unwrap();
    assert_eq!(
        alice.poll_released().unwrap().plaintext,
        [3; 10],
        "the newest two were kept"
    );
    assert_eq!(alice.poll_released().unwrap().plaintext, [4; 10]);

    // By bytes too, and buffering can be switched off.
    let mut small = Session::sender_keys(SUITE, bits()).with_pending_limits(10, 40);
    for f in &frames {
        let _ = unprotect(&mut small, f);
    }
    assert_eq!(
        small.pending_frames(),
        1,
        "each frame is 10 + 4 + header + tag bytes"
    );
    let mut none = Session::sender_keys(SUITE, bits()).with_pending_limits(0, 0);
    let _ = unprotect(&mut none, &frames[0]);
    assert_eq!(none.pending_frames(), 0);
    small.clear_pending();
    assert_eq!(small.pending_frames(), 0);
}

#[test]
fn counters_and_forged_frames() {
    let mut group = sender_key_group(2);
    let frame = protect(&mut group[0], b"genuine");
    let before = group[1]
        .participant(ParticipantId(0))
        .unwrap()
        .sender_key_id();

    let mut forged = frame.clone();
    *forged.last_mut().unwrap() ^= 1;
    assert_eq!(
        unprotect(&mut group[1], &forged),
        Err(UnprotectError::Decrypt(DecryptError::Authentication))
    );
    // A forged frame claiming a future step of a known sender: tried, refused, nothing moved.
    let mut future = frame.clone();
    future[0] = 0x30 | (future[0] & 0x0f); // KID 3 (step 3), same counter
    assert_eq!(
        unprotect(&mut group[1], &future),
        Err(UnprotectError::Decrypt(DecryptError::Authentication))
    );
    assert_eq!(
        group[1]
            .participant(ParticipantId(0))
            .unwrap()
            .sender_key_id(),
        before
    );
    assert_eq!(unprotect(&mut group[1], &frame).unwrap().1, b"genuine");
    assert_eq!(
        unprotect(&mut group[1], &frame),
        Err(UnprotectError::Decrypt(DecryptError::Replay))
    );
    assert!(
        unprotect(&mut group[1], &[0x90]).is_err(),
        "truncated header"
    );
    assert!(
        unprotect(&mut group[1], &[0x00, 1, 2]).is_err(),
        "shorter than the tag"
    );
    let stats: SessionStats = group[1].stats();
    assert_eq!(stats.frames_ok, 1);
    assert_eq!(stats.authentication_failures, 2);
    assert_eq!(stats.replays, 1);
    assert_eq!(stats.malformed, 2);
    assert_eq!(stats.unknown_key_ids, 0);
}

#[test]
fn protect_needs_a_key_and_keeps_the_plaintext_on_error() {
    let mut s = Session::sender_keys(SUITE, bits());
    let mut frame = b"plain".to_vec();
    assert_eq!(
        s.protect(b"", &mut frame),
        Err(ProtectError::Encrypt(EncryptError::NoSendKey))
    );
    assert_eq!(frame, b"plain");
    assert_eq!(s.ratchet(), Err(KeyError::WrongScheme));
    let mut out = [0u8; 64];
    assert_eq!(
        s.protect_into(b"", b"x", &mut out).err(),
        Some(ProtectError::Encrypt(EncryptError::NoSendKey))
    );
    s.set_send_key(0, key(1)).unwrap();
    let n = s.protect_into(b"", b"x", &mut out).unwrap().len();
    assert_eq!(n, 1 + 1 + SUITE.tag_len());
    assert_eq!(s.format(), FrameFormat::Rfc9605);
    assert_eq!(s.send_key_id(), Some(KeyId(0)));
}

/// A stand-in exporter: the "exporter secret" of an epoch, HKDF'd with the label.
struct EpochExporter(u64);

impl MlsExporter for EpochExporter {
    type Error = ();
    fn export(&self, label: &str, context: &[u8], out: &mut [u8]) -> Result<(), ()> {
        let secret = self.0.to_be_bytes();
        let info = [label.as_bytes(), context].concat();
        hkdf::Hkdf::<sha2::Sha256>::new(None, &secret)
            .expand(&info, out)
            .map_err(|_| ())
    }
}

#[test]
fn mls_sessions_rollover_and_attribution() {
    let mut members: Vec<Session> = (0..3).map(|_| Session::mls(SUITE, 2, 0).unwrap()).collect();
    for epoch in 0..10u64 {
        for (index, m) in members.iter_mut().enumerate() {
            m.install_epoch_from(
                &EpochExporter(epoch),
                epoch,
                3,
                u32::try_from(index).unwrap(),
            )
            .unwrap();
            assert!(m.mls_store().unwrap().live_epochs().count() <= 4);
        }
        for from in 0..3 {
            let frame = protect(&mut members[from], b"mls");
            for to in (0..3).filter(|&t| t != from) {
                assert_eq!(unprotect(&mut members[to], &frame).unwrap().0, from as u64);
            }
            // My own frame is not decryptable by me (encrypt-only KID).
            assert!(matches!(
                unprotect(&mut members[from], &frame),
                Err(UnprotectError::Decrypt(DecryptError::UnknownKeyId(_)))
            ));
            members[from].clear_pending();
        }
    }
    assert_eq!(
        members[0]
            .install_epoch_from(&EpochExporter(3), 3, 3, 0)
            .err(),
        Some(KeyError::NotNewer)
    );
    let frame = protect(&mut members[1], b"who");
    let mut buf = frame.clone();
    assert!(
        members[0]
            .unprotect_from(ParticipantId(1), b"meta", &mut buf)
            .is_ok()
    );
    let mut buf = frame;
    assert!(matches!(
        members[2].unprotect_from(ParticipantId(0), b"meta", &mut buf),
        Err(UnprotectError::Decrypt(DecryptError::UnknownKeyId(_)))
    ));
    assert_eq!(
        members[0].set_send_key(1, key(1)),
        Err(KeyError::WrongScheme)
    );
}

#[test]
fn mls_frames_of_a_future_epoch_wait_for_it() {
    let mut a = Session::mls(SUITE, 4, 0).unwrap();
    let mut b = Session::mls(SUITE, 4, 0).unwrap();
    a.install_epoch_from(&EpochExporter(1), 1, 2, 0).unwrap();
    b.install_epoch_from(&EpochExporter(1), 1, 2, 1).unwrap();
    // A commits epoch 2 and sends before B has processed it.
    a.install_epoch_from(&EpochExporter(2), 2, 2, 0).unwrap();
    let early = protect(&mut a, b"epoch 2");
    assert!(matches!(
        unprotect(&mut b, &early),
        Err(UnprotectError::Decrypt(DecryptError::UnknownKeyId(_)))
    ));
    b.install_epoch_from(&EpochExporter(2), 2, 2, 1).unwrap();
    assert_eq!(b.poll_released().unwrap().plaintext, b"epoch 2");
}

#[test]
fn debug_prints_no_key_bytes() {
    let mut s = Session::sender_keys(SUITE, bits());
    s.set_send_key(0, key(1)).unwrap();
    let text = format!("{s:?}");
    assert!(text.starts_with(
        "Session { suite: AesCtr128HmacSha256_80, format: Rfc9605, scheme: \"sender keys\", send_key_id: Some(KeyId(0)), pending: 0,"
    ), "{text}");
    assert!(!text.contains("[1,"));
}
