//! The session API: sender keys and MLS sessions between several participants, rotation,
//! late joiners, the unknown-KID buffer, counters, and forged frames that move nothing.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::as_conversions,
    reason = "test code"
)]

use secure_frame::mls::MlsExporter;
use secure_frame::session::{FrameFormat, KeyScheme, ReleasedFrame};
use secure_frame::{
    BaseKey, CipherSuite, ErrorKind, KeyId, MlsSession, ParticipantId, ProtectError, RatchetError,
    SenderKeyId, SenderKeyLayout, SenderKeySession, Session, SessionStats, UnprotectError,
};

const SUITE: CipherSuite = CipherSuite::AesCtr128HmacSha256_80;

/// R = 4 ratchet bits, S = 4 participant bits: participant `p` sends generation 0, step 0
/// under KID `(p + 1) << 4`.
fn layout() -> SenderKeyLayout {
    SenderKeyLayout::new(4, 4).unwrap()
}

fn session(me: u64) -> SenderKeySession {
    SenderKeySession::new(SUITE, layout(), ParticipantId(me)).unwrap()
}

fn key(byte: u8) -> BaseKey {
    BaseKey::new(&[byte; 32]).unwrap()
}

fn copy(key: &BaseKey) -> BaseKey {
    BaseKey::new(key.expose_secret()).unwrap()
}

fn protect<S: KeyScheme>(session: &mut Session<S>, text: &[u8]) -> Vec<u8> {
    let mut frame = text.to_vec();
    session.protect(b"meta", &mut frame).unwrap();
    frame
}

fn unprotect<S: KeyScheme>(
    session: &mut Session<S>,
    frame: &[u8],
) -> Result<(u64, Vec<u8>), UnprotectError> {
    let mut buf = frame.to_vec();
    session.unprotect(b"meta", &mut buf).map(|u| {
        let d = u.decrypted().expect("RFC 9605 frames never pass through");
        (d.sender.0, d.plaintext.to_vec())
    })
}

/// `n` sender-key sessions, each with a key for generation 0, each knowing all others.
/// Keyed as the docs tell a user: every participant starts at generation 0.
fn sender_key_group(n: u8) -> Vec<SenderKeySession> {
    let mut sessions: Vec<SenderKeySession> = (0..n)
        .map(|i| {
            let mut s = session(u64::from(i));
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
                s.add_participant(ParticipantId(i as u64), id, &base)
                    .unwrap();
            }
        }
    }
    sessions
}

#[test]
fn sender_keys_every_direction_kids_never_collide() {
    // Every sender starts at generation 0, step 0, yet each has a KID of its own: the KID
    // names the sender, and the frame is attributed from it.
    let mut group = sender_key_group(3);
    let kids: Vec<KeyId> = group.iter().map(|s| s.send_key_id().unwrap()).collect();
    assert_eq!(kids, [KeyId(0x10), KeyId(0x20), KeyId(0x30)]);
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
    assert_eq!(group[0].stats().authentication_errors, 0);
}

#[test]
fn unprotect_from_restricts_to_one_participant() {
    let mut group = sender_key_group(3);
    let frame = protect(&mut group[1], b"from 1");
    let mut buf = frame.clone();
    let out = group[0]
        .unprotect_from(ParticipantId(1), b"meta", &mut buf)
        .unwrap();
    assert_eq!(out.decrypted().unwrap().plaintext, b"from 1");
    let mut buf = frame.clone();
    assert_eq!(
        group[0]
            .unprotect_from(ParticipantId(2), b"meta", &mut buf)
            .err(),
        Some(UnprotectError::UnknownKeyId(KeyId(0x20))),
        "the KID is participant 1's: no key of participant 2 is even tried"
    );
    assert_eq!(buf, frame, "a refused frame is untouched");
    let mut buf = frame;
    assert!(matches!(
        group[0].unprotect_from(ParticipantId(9), b"meta", &mut buf),
        Err(UnprotectError::UnknownKeyId(_))
    ));
}

#[test]
fn ratchet_rotation_is_followed() {
    let mut group = sender_key_group(2);
    let old = protect(&mut group[0], b"step 0");
    assert_eq!(group[0].ratchet(), Ok(KeyId(0x11)), "participant 0, step 1");
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
        SenderKeyId::new(1, 1),
        "participant 0's field (1) in the generation bits, step 1"
    );
}

#[test]
fn leave_rotates_to_a_new_generation() {
    let mut group = sender_key_group(3);
    // Participant 2 leaves: 0 starts generation 1 and gives it to 1 only.
    assert!(group[0].remove_participant(ParticipantId(2)));
    assert!(!group[0].remove_participant(ParticipantId(2)));
    assert_eq!(
        group[0].set_send_key(0, key(50)),
        Err(RatchetError::NotNewer)
    );
    group[0].set_send_key(1, key(51)).unwrap();
    let (id, base) = group[0].send_key().map(|(id, k)| (id, copy(k))).unwrap();
    assert_eq!(
        id,
        SenderKeyId::new(1 << 4 | 1, 0),
        "generation 1 of participant 0"
    );
    group[1]
        .add_participant(ParticipantId(0), id, &base)
        .unwrap();
    let frame = protect(&mut group[0], b"without 2");
    assert_eq!(unprotect(&mut group[1], &frame).unwrap().1, b"without 2");
    assert!(matches!(
        unprotect(&mut group[2], &frame),
        Err(UnprotectError::UnknownKeyId(_))
    ));
}

#[test]
fn late_joiner_frames_wait_for_the_key() {
    let mut group = sender_key_group(2);
    let mut dave = session(3);
    dave.set_send_key(3, key(99)).unwrap();
    let early: Vec<Vec<u8>> = (0..3u8).map(|i| protect(&mut dave, &[i])).collect();
    for f in &early {
        assert!(matches!(
            unprotect(&mut group[0], f),
            Err(UnprotectError::UnknownKeyId(_))
        ));
    }
    assert_eq!(group[0].pending_frames(), 3);
    assert_eq!(group[0].poll_released(), None);
    // Dave's key arrives: the buffered frames are released, in order.
    let (id, base) = dave.send_key().map(|(id, k)| (id, copy(k))).unwrap();
    group[0]
        .add_participant(ParticipantId(3), id, &base)
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
            stats.key_id_errors,
            stats.buffered,
            stats.released,
            stats.frames_ok
        ),
        (3, 3, 3, 3)
    );
    // Released frames went through the replay window.
    assert_eq!(
        unprotect(&mut group[0], &early[0]),
        Err(UnprotectError::Replay(dave.send_key_id().unwrap()))
    );
}

#[test]
fn the_buffer_is_bounded() {
    let mut alice = session(0).with_pending_limits(2, 1 << 20);
    let mut bob = session(1);
    bob.set_send_key(0, key(2)).unwrap();
    let frames: Vec<Vec<u8>> = (0..5u8).map(|i| protect(&mut bob, &[i; 10])).collect();
    for f in &frames {
        let _ = unprotect(&mut alice, f);
    }
    assert_eq!(alice.pending_frames(), 2);
    assert_eq!(alice.stats().dropped_from_buffer, 3);
    let (id, base) = bob.send_key().map(|(id, k)| (id, copy(k))).unwrap();
    alice.add_participant(ParticipantId(1), id, &base).unwrap();
    assert_eq!(
        alice.poll_released().unwrap().plaintext,
        [3; 10],
        "the newest two were kept"
    );
    assert_eq!(alice.poll_released().unwrap().plaintext, [4; 10]);

    // By bytes too, and buffering can be switched off.
    let mut small = session(0).with_pending_limits(10, 40);
    for f in &frames {
        let _ = unprotect(&mut small, f);
    }
    assert_eq!(
        small.pending_frames(),
        1,
        "each frame is 10 + 4 + header + tag bytes"
    );
    let mut none = session(0).with_pending_limits(0, 0);
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
        Err(UnprotectError::Authentication(KeyId(0x10)))
    );
    // A forged frame claiming a future step of a known sender: tried, refused, nothing moved.
    let mut future = frame.clone();
    // KID 0x13 (participant 0, step 3), same counter: config byte 1 KID byte, then the KID
    future[1] = 0x13;
    assert_eq!(
        unprotect(&mut group[1], &future),
        Err(UnprotectError::Authentication(KeyId(0x13)))
    );
    assert_eq!(
        group[1]
            .participant(ParticipantId(0))
            .unwrap()
            .sender_key_id(),
        before
    );
    assert_eq!(unprotect(&mut group[1], &frame).unwrap().1, b"genuine");
    let replay = unprotect(&mut group[1], &frame).unwrap_err();
    assert_eq!(replay, UnprotectError::Replay(KeyId(0x10)));
    assert_eq!(
        (replay.kind(), replay.key_id(), replay.is_retryable()),
        (ErrorKind::Authentication, Some(KeyId(0x10)), false)
    );
    let truncated = unprotect(&mut group[1], &[0x90]).unwrap_err();
    assert_eq!(
        (truncated.kind(), truncated.key_id()),
        (ErrorKind::Syntax, None),
        "truncated header"
    );
    let short = unprotect(&mut group[1], &[0x80, 0x10, 1, 2]).unwrap_err();
    assert_eq!(
        short,
        UnprotectError::TooShort(KeyId(0x10)),
        "shorter than the tag"
    );
    assert_eq!(short.kind().as_str(), "syntax");
    let stats: SessionStats = group[1].stats();
    assert_eq!(stats.frames_ok, 1);
    assert_eq!(stats.authentication_errors, 3, "two forgeries and a replay");
    assert_eq!(stats.replays, 1);
    assert_eq!(stats.syntax_errors, 2);
    assert_eq!(stats.key_id_errors, 0);
}

#[test]
fn protect_needs_a_key_and_keeps_the_plaintext_on_error() {
    let mut s = session(0);
    let mut frame = b"plain".to_vec();
    assert_eq!(s.protect(b"", &mut frame), Err(ProtectError::NoSendKey));
    assert_eq!(frame, b"plain");
    assert_eq!(s.ratchet(), Err(RatchetError::NoSendKey));
    let mut out = [0u8; 64];
    assert_eq!(
        s.protect_into(b"", b"x", &mut out).err(),
        Some(ProtectError::NoSendKey)
    );
    assert_eq!(s.protected_len(1), None);
    s.set_send_key(0, key(1)).unwrap();
    let n = s.protect_into(b"", b"x", &mut out).unwrap().len();
    assert_eq!(
        n,
        2 + 1 + SUITE.tag_len(),
        "header with a 1-byte KID, payload, tag"
    );
    assert_eq!(s.protected_len(1), Some(n));
    // In room: the payload does not move, the header lands in front of it.
    let mut buf = vec![0u8; secure_frame::Encryptor::HEADER_ROOM + 1 + SUITE.tag_len()];
    buf[secure_frame::Encryptor::HEADER_ROOM] = b'x';
    let wire = s.protect_in_room(b"meta", &mut buf).unwrap().to_vec();
    let mut other = session(1);
    let (id, base) = s.send_key().map(|(id, k)| (id, copy(k))).unwrap();
    other.add_participant(ParticipantId(0), id, &base).unwrap();
    assert_eq!(unprotect(&mut other, &wire).unwrap(), (0, b"x".to_vec()));
    assert_eq!(s.format(), FrameFormat::Rfc9605);
    assert_eq!(s.send_key_id(), Some(KeyId(0x10)));
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
    let mut members: Vec<MlsSession> = (0..3)
        .map(|_| MlsSession::new(SUITE, 2, 0).unwrap())
        .collect();
    for epoch in 0..10u64 {
        for (index, m) in members.iter_mut().enumerate() {
            m.install_epoch_from(
                &EpochExporter(epoch),
                epoch,
                3,
                u32::try_from(index).unwrap(),
            )
            .unwrap();
            assert!(m.mls_store().live_epochs().count() <= 4);
        }
        for from in 0..3 {
            let frame = protect(&mut members[from], b"mls");
            for to in (0..3).filter(|&t| t != from) {
                assert_eq!(unprotect(&mut members[to], &frame).unwrap().0, from as u64);
            }
            // My own frame is not decryptable by me (encrypt-only KID).
            assert!(matches!(
                unprotect(&mut members[from], &frame),
                Err(UnprotectError::UnknownKeyId(_))
            ));
            members[from].clear_pending();
        }
    }
    assert_eq!(
        members[0]
            .install_epoch_from(&EpochExporter(3), 3, 3, 0)
            .err(),
        Some(secure_frame::MlsError::NotNewer)
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
        Err(UnprotectError::UnknownKeyId(_))
    ));
}

#[test]
fn mls_frames_of_a_future_epoch_wait_for_it() {
    let mut a = MlsSession::new(SUITE, 4, 0).unwrap();
    let mut b = MlsSession::new(SUITE, 4, 0).unwrap();
    a.install_epoch_from(&EpochExporter(1), 1, 2, 0).unwrap();
    b.install_epoch_from(&EpochExporter(1), 1, 2, 1).unwrap();
    // A commits epoch 2 and sends before B has processed it.
    a.install_epoch_from(&EpochExporter(2), 2, 2, 0).unwrap();
    let early = protect(&mut a, b"epoch 2");
    assert!(matches!(
        unprotect(&mut b, &early),
        Err(UnprotectError::UnknownKeyId(_))
    ));
    b.install_epoch_from(&EpochExporter(2), 2, 2, 1).unwrap();
    assert_eq!(b.poll_released().unwrap().plaintext, b"epoch 2");
}

#[test]
fn debug_prints_no_key_bytes() {
    let mut s = session(0);
    s.set_send_key(0, key(1)).unwrap();
    let text = format!("{s:?}");
    assert!(text.starts_with(
        "Session { suite: AesCtr128HmacSha256_80, format: Rfc9605, keys: SenderKeys { layout: SenderKeyLayout { ratchet_bits: RatchetBits(4), participant_bits: 4 }, me: ParticipantId(0), participants: 0, .. }, send_key_id: Some(KeyId(16)), pending: 0,"
    ), "{text}");
    assert!(!text.contains("[1,"));
}

#[test]
fn a_frame_refused_by_unprotect_from_is_never_released_as_another() {
    let mut carol = session(2);
    carol.set_send_key(0, key(3)).unwrap();
    let frame = protect(&mut carol, b"from carol");
    let mut alice = session(0);
    // The transport says participant 1 sent it, but the KID is participant 2's.
    let mut buf = frame.clone();
    assert_eq!(
        alice.unprotect_from(ParticipantId(1), b"meta", &mut buf),
        Err(UnprotectError::UnknownKeyId(carol.send_key_id().unwrap()))
    );
    assert_eq!(alice.pending_frames(), 0, "not kept");
    // A frame of the named participant whose key is late is kept, and released as theirs.
    let mut buf = frame.clone();
    assert!(
        alice
            .unprotect_from(ParticipantId(2), b"meta", &mut buf)
            .is_err()
    );
    assert_eq!(alice.pending_frames(), 1);
    let (id, base) = carol.send_key().map(|(id, k)| (id, copy(k))).unwrap();
    alice.add_participant(ParticipantId(2), id, &base).unwrap();
    let released = alice.poll_released().unwrap();
    assert_eq!(
        (released.sender, released.plaintext),
        (ParticipantId(2), b"from carol".to_vec())
    );
    assert_eq!(alice.poll_released(), None);
}
