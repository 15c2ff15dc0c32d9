//! Hostile input through a session, in both frame formats and both key schemes: every
//! `ProtectError` and `UnprotectError` variant, and the `SessionKeyError`, `RatchetError` and
//! `MlsError` refusals of session setup. Unprotect
//! rows also check the failure contract (an error leaves the frame as it was, but for an
//! authentication failure, which zeroes the encrypted bytes: the RFC 9605 ciphertext, the
//! codec-aware opaque bytes), the counters of `SessionStats` (by the W3C class this table gives
//! the error), and record the frame's KID for the `key_id()` check of `malformed.rs`. The genuine
//! frame opening after the hostile ones shows that they moved no receiver.

use secure_frame::codec::{Codec, CodecError, Policy, RangeMapError};
use secure_frame::compat::{CompatEncryptError, PassThrough, TrailerError, read_header};
use secure_frame::session::{
    FrameFormat, KeyScheme, MlsSession, SenderKeyLayout, SenderKeySession, Session, Unprotected,
};
use secure_frame::{
    BaseKey, CipherSuite, Counter, EncryptError, Encryptor, Header, HeaderError, KeyId,
    MAX_METADATA_LEN, MlsError, ParticipantId, ProtectError, RatchetError, SenderKeyId,
    SessionKeyError, UnprotectError,
};

use super::{Error, OK, Table, compat_zeroed, h, w3c_class};

const GCM: CipherSuite = CipherSuite::AesGcm128Sha256;
const ALICE: ParticipantId = ParticipantId(1);
const BOB: ParticipantId = ParticipantId(2);
/// Alice's generation 1, step 0 in the default layout (R = S = 8, the participant field holding
/// the participant plus one): `((1 << 8) | 2) << 8`, on the wire `01 02 00`.
const KID: KeyId = KeyId(0x01_02_00);

fn layout() -> SenderKeyLayout {
    SenderKeyLayout::default()
}

fn key() -> BaseKey {
    BaseKey::new(b"malformed session key").unwrap()
}

/// Alice's sending session in `format`, at generation `generation`.
fn alice(format: FrameFormat, policy: &Policy, generation: u64) -> SenderKeySession {
    let mut s = SenderKeySession::new(GCM, layout(), ALICE)
        .unwrap()
        .with_format(format)
        .with_codec_policy(policy.clone());
    s.set_send_key(generation, key()).unwrap();
    s
}

/// Bob's session, holding Alice's generation 1 as her `send_key` hands it out.
fn bob(format: FrameFormat) -> SenderKeySession {
    let a = alice(FrameFormat::Rfc9605, &Policy::default(), 1);
    let (id, base_key) = a.send_key().unwrap();
    assert_eq!(id.to_key_id(layout().ratchet_bits()), Ok(KID));
    let mut s = SenderKeySession::new(GCM, layout(), BOB)
        .unwrap()
        .with_format(format);
    s.add_participant(ALICE, id, base_key).unwrap();
    s
}

/// Protects a copy of `frame`, asserting that an error left the plaintext in place and counted
/// nothing.
fn protect<S: KeyScheme>(session: &mut Session<S>, frame: &[u8]) -> Result<Vec<u8>, ProtectError> {
    let before = session.stats().frames_protected;
    let mut buf = frame.to_vec();
    let result = session.protect(b"", &mut buf);
    let counted = session.stats().frames_protected - before;
    match result {
        Err(e) => {
            assert_eq!(buf, frame, "{e:?} left the plaintext in place");
            assert_eq!(counted, 0, "{e:?} counted no protected frame");
        }
        Ok(()) => assert_eq!(counted, 1, "a protected frame is counted"),
    }
    result.map(|()| buf)
}

/// What a session returned, copied out of the frame.
#[derive(Debug, PartialEq, Eq)]
enum Got {
    Decrypted(ParticipantId, KeyId, Vec<u8>),
    Passed(PassThrough, Vec<u8>),
}

/// The KID of `frame` if the session's framing can read its header (RFC 9605) or trailer
/// (codec-aware), read here without any key.
fn header_kid(format: FrameFormat, frame: &[u8]) -> Option<KeyId> {
    match format {
        FrameFormat::CodecAware(_) => read_header(frame).ok().map(|h| h.key_id()),
        _ => Header::decode(frame).ok().map(|(h, _)| h.key_id()),
    }
}

/// Unprotects a copy of `frame` with `metadata` (as from `from`, when given), and checks the
/// frame half of the failure contract, the counters and the buffer. Returns the result and the
/// KID of the frame's header, if it can be read.
fn unprotect_as<S: KeyScheme>(
    session: &mut Session<S>,
    from: Option<ParticipantId>,
    metadata: &[u8],
    frame: &[u8],
) -> (Result<Got, UnprotectError>, Option<KeyId>) {
    let format = session.format();
    let kid = header_kid(format, frame);
    let stats = session.stats();
    let pending = session.pending_frames();
    let mut buf = frame.to_vec();
    let result = match from {
        None => session.unprotect(metadata, &mut buf),
        Some(from) => session.unprotect_from(from, metadata, &mut buf),
    }
    .map(|u| match u {
        Unprotected::Decrypted(d) => Got::Decrypted(d.sender, d.key_id, d.plaintext.to_vec()),
        Unprotected::PassedThrough { reason, frame } => Got::Passed(reason, frame.to_vec()),
    });

    let mut want = stats;
    let mut want_pending = pending;
    match &result {
        Ok(Got::Decrypted(sender, key_id, _)) => {
            assert_eq!(Some(*key_id), kid, "the KID the header carries");
            assert_eq!(
                session.keys().sender_of(*key_id),
                Some(*sender),
                "the sender is the one the KID names"
            );
            if let Some(from) = from {
                assert_eq!(*sender, from);
            }
            want.frames_ok += 1;
        }
        Ok(Got::Passed(_, passed)) => {
            assert_eq!(passed, frame, "passed through as received");
            want.passed_through += 1;
        }
        Err(e) => {
            match (e, format) {
                (UnprotectError::Authentication(_), FrameFormat::CodecAware(_)) => {
                    assert_eq!(
                        buf,
                        compat_zeroed(frame, GCM.tag_len()),
                        "opaque bytes zeroed, the rest as received"
                    );
                }
                (UnprotectError::Authentication(_), _) => {
                    let (_, header_len) = Header::decode(frame).unwrap();
                    let tag_at = frame.len() - GCM.tag_len();
                    assert_eq!(buf[..header_len], frame[..header_len], "header intact");
                    assert_eq!(buf[tag_at..], frame[tag_at..], "tag intact");
                    assert!(
                        buf[header_len..tag_at].iter().all(|&b| b == 0),
                        "ciphertext zeroed"
                    );
                }
                _ => assert_eq!(buf, frame, "{e:?} left the frame byte-identical"),
            }
            let variant = Error::Unprotect(*e).variant();
            match w3c_class(&variant) {
                "syntax" => want.syntax_errors += 1,
                "keyID" => {
                    want.key_id_errors += 1;
                    // Kept for later only when the KID is the named participant's: a frame in
                    // another's KID space must never be released as the named one's.
                    let theirs = e.key_id().and_then(|k| session.keys().sender_of(k));
                    if from.is_none_or(|f| theirs == Some(f)) {
                        want.buffered += 1;
                        want_pending += 1;
                    }
                }
                _ => want.authentication_errors += 1,
            }
            if matches!(e, UnprotectError::Replay(_)) {
                want.replays += 1;
            }
        }
    }
    assert_eq!(session.stats(), want, "{result:?}: the counters");
    assert_eq!(
        session.pending_frames(),
        want_pending,
        "{result:?}: the buffer"
    );
    (result, kid)
}

/// [`unprotect_as`] without metadata or a transport sender.
fn unprotect<S: KeyScheme>(
    session: &mut Session<S>,
    frame: &[u8],
) -> (Result<Got, UnprotectError>, Option<KeyId>) {
    unprotect_as(session, None, b"", frame)
}

fn flip(frame: &[u8], at: usize) -> Vec<u8> {
    let mut f = frame.to_vec();
    f[at] ^= 0x40;
    f
}

pub(super) fn rows(t: &mut Table) {
    key_rows(t);
    protect_rows(t);
    rfc9605_unprotect_rows(t);
    mls_unprotect_rows(t);
    codec_aware_unprotect_rows(t);
}

/// Session setup: layouts, participants, generations, epochs.
fn key_rows(t: &mut Table) {
    for (r, s, want) in [
        (0, 8, Err(SessionKeyError::Ratchet(RatchetError::Bits))),
        (64, 0, Err(SessionKeyError::Ratchet(RatchetError::Bits))),
        (8, 32, Err(SessionKeyError::ParticipantBits)),
        (32, 31, Err(SessionKeyError::ParticipantBits)),
        (31, 31, Ok(())),
        (62, 0, Ok(())),
    ] {
        t.row(
            format!("SenderKeyLayout::new(R = {r}, S = {s})"),
            SenderKeyLayout::new(r, s),
            want,
        );
    }
    t.row(
        "SenderKeySession for participant 255 with S = 8",
        SenderKeySession::new(GCM, layout(), ParticipantId(255)),
        Err(SessionKeyError::ParticipantOutOfRange(ParticipantId(255))),
    );
    t.row(
        "SenderKeySession for participant 254 with S = 8",
        SenderKeySession::new(GCM, layout(), ParticipantId(254)),
        OK,
    );
    let mut s = SenderKeySession::new(GCM, layout(), ALICE).unwrap();
    t.row(
        "session: ratchet before a send key",
        s.ratchet(),
        Err(RatchetError::NoSendKey),
    );
    t.row(
        "session: set_send_key generation 2^48 with R = S = 8",
        s.set_send_key(1 << 48, key()),
        Err(RatchetError::GenerationOutOfRange),
    );
    t.row(
        "session: set_send_key generation 2^48 - 1 with R = S = 8",
        s.set_send_key((1 << 48) - 1, key()),
        OK,
    );
    t.row(
        "session: set_send_key after the last generation",
        s.set_send_key(1, key()),
        Err(RatchetError::NotNewer),
    );

    let a = alice(FrameFormat::Rfc9605, &Policy::default(), 1);
    let (alice_id, alice_key) = a.send_key().unwrap();
    let mut b = bob(FrameFormat::Rfc9605);
    t.row(
        "session: add_participant with my own participant",
        b.add_participant(BOB, SenderKeyId::new((1 << 8) | 3, 0), alice_key),
        Err(SessionKeyError::OwnParticipant),
    );
    t.row(
        "session: add_participant, Alice's key as participant 3's",
        b.add_participant(ParticipantId(3), alice_id, alice_key),
        Err(SessionKeyError::ForeignKeyId(KID)),
    );
    t.row(
        "session: add_participant, generation 2^56 with R = 8",
        b.add_participant(ALICE, SenderKeyId::new(1 << 56, 0), alice_key),
        Err(SessionKeyError::Ratchet(RatchetError::GenerationOutOfRange)),
    );
    t.row(
        "session: add_participant, Alice's key again",
        b.add_participant(ALICE, alice_id, alice_key),
        Err(SessionKeyError::Ratchet(RatchetError::DuplicateKeyId(KID))),
    );
    assert_eq!(
        b.participants().collect::<Vec<_>>(),
        [ALICE],
        "no refusal added one"
    );

    for e in [0, 33] {
        t.row(
            format!("MlsSession::new(E = {e})"),
            MlsSession::new(GCM, e, 0),
            Err(MlsError::Bits),
        );
    }
    let mut mls = MlsSession::new(GCM, 4, 0).unwrap();
    t.row(
        "MLS session: group of 0",
        mls.install_epoch(1, 0, 0, key()),
        Err(MlsError::GroupSize),
    );
    t.row(
        "MLS session: own index 2 in a group of 2",
        mls.install_epoch(1, 2, 2, key()),
        Err(MlsError::SenderIndexOutOfRange),
    );
    t.row(
        "MLS session: epoch 1",
        mls.install_epoch(1, 2, 0, key()),
        OK,
    );
    t.row(
        "MLS session: epoch 1 again",
        mls.install_epoch(1, 2, 0, key()),
        Err(MlsError::NotNewer),
    );
}

fn protect_rows(t: &mut Table) {
    use CompatEncryptError as C;
    use ProtectError as E;
    let d = Policy::default();
    let h264 = FrameFormat::CodecAware(Codec::H264);
    let vp8 = FrameFormat::CodecAware(Codec::Vp8);
    for format in [FrameFormat::Rfc9605, h264] {
        let mut no_key = SenderKeySession::new(GCM, layout(), ALICE)
            .unwrap()
            .with_format(format);
        t.row(
            format!("session {format:?}: protect before a send key"),
            protect(&mut no_key, &h("00000001 61 e0 fa")),
            Err(E::NoSendKey),
        );
        t.row(
            format!("session {format:?}: protect_into before a send key"),
            no_key.protect_into(b"", &h("00000001 61 e0 fa"), &mut [0; 256]),
            Err(E::NoSendKey),
        );
        // A twin session says how long the protected frame is.
        let plaintext = h("00000001 61 e0 fafafa");
        let needed = alice(format, &d, 1)
            .protect_into(b"", &plaintext, &mut [0; 256])
            .unwrap()
            .len();
        let mut s = alice(format, &d, 1);
        t.row(
            format!("session {format:?}: output one byte short"),
            s.protect_into(b"", &plaintext, &mut vec![0; needed - 1]),
            Err(E::Encrypt(EncryptError::BufferTooSmall { needed })),
        );
        t.row(
            format!("session {format:?}: output exactly long enough"),
            s.protect_into(b"", &plaintext, &mut vec![0; needed]),
            OK,
        );
    }
    let mut mls = MlsSession::new(GCM, 4, 0).unwrap();
    t.row(
        "session MLS: protect before an epoch",
        protect(&mut mls, b"frame"),
        Err(E::NoSendKey),
    );

    // protect_in_room: RFC 9605 format only.
    let room = Encryptor::HEADER_ROOM + GCM.tag_len();
    let mut no_key = SenderKeySession::new(GCM, layout(), ALICE).unwrap();
    t.row(
        "session RFC 9605: protect_in_room before a send key",
        no_key.protect_in_room(b"", &mut vec![0; room + 4]),
        Err(E::NoSendKey),
    );
    let mut s = alice(FrameFormat::Rfc9605, &d, 1);
    t.row(
        "session RFC 9605: protect_in_room, buffer smaller than the room",
        s.protect_in_room(b"", &mut vec![0; room - 1]),
        Err(E::Encrypt(EncryptError::BufferTooSmall { needed: room })),
    );
    t.row(
        "session RFC 9605: protect_in_room, exactly the room",
        s.protect_in_room(b"", &mut vec![0; room]),
        OK,
    );
    let over = vec![0; MAX_METADATA_LEN + 1];
    t.row(
        "session RFC 9605: protect_in_room, metadata of MAX_METADATA_LEN + 1",
        s.protect_in_room(&over, &mut vec![0; room + 4]),
        Err(E::Encrypt(EncryptError::MetadataTooLong)),
    );
    let mut buf = b"frame".to_vec();
    t.row(
        "session RFC 9605: protect, metadata of MAX_METADATA_LEN + 1",
        s.protect(&over, &mut buf),
        Err(E::Encrypt(EncryptError::MetadataTooLong)),
    );
    assert_eq!(buf, b"frame");
    for format in [h264, vp8] {
        let mut s = alice(format, &d, 1);
        t.row(
            format!("session {format:?}: protect_in_room"),
            s.protect_in_room(b"", &mut vec![0; room + 4]),
            Err(E::WrongFormat),
        );
        let mut no_key = SenderKeySession::new(GCM, layout(), ALICE)
            .unwrap()
            .with_format(format);
        t.row(
            format!("session {format:?}: protect_in_room before a send key"),
            no_key.protect_in_room(b"", &mut vec![0; room + 4]),
            Err(E::WrongFormat),
        );
    }

    // The codec layer, the codec-aware container.
    t.row(
        "session H.264: frame without a start code",
        protect(&mut alice(h264, &d, 1), &h("61 e0 fa")),
        Err(E::CodecAware(C::Codec(CodecError::NoStartCode { at: 0 }))),
    );
    t.row(
        "session H.264: protect an empty frame",
        protect(&mut alice(h264, &d, 1), b""),
        Err(E::CodecAware(C::Codec(CodecError::NoStartCode { at: 0 }))),
    );
    let empty = protect(&mut alice(vp8, &d, 1), b"");
    assert_eq!(empty, Ok(Vec::new()), "an empty VP8 frame stays empty");
    t.row(
        "session VP8: protect an empty frame (it passes through)",
        empty,
        OK,
    );

    // Alice's generation 65 536 is KID 0x0100000200 (01 00 00 02 00), which v1 refused for
    // Annex B: its header is escaped in the trailer, and any KID protects.
    let mut zero_pair = SenderKeySession::new(GCM, layout(), ALICE)
        .unwrap()
        .with_format(h264);
    let kid = zero_pair.set_send_key(1 << 16, key());
    assert_eq!(kid, Ok(KeyId(0x01_00_00_02_00)));
    t.row(
        "session H.264: set_send_key to KID 0x0100000200 (00 00 in the KID)",
        kid,
        OK,
    );
    t.row(
        "session H.264: protect under KID 0x0100000200",
        protect(&mut zero_pair, &h("00000001 61 e0 fa")),
        OK,
    );
    // MLS: context 0x80000, one sender bit and four epoch bits give KID 0x1000001
    // (01 00 00 01 on the wire, 01 00 00 03 01 in the trailer).
    let mut mls = MlsSession::new(GCM, 4, 0x8_0000).unwrap().with_format(h264);
    t.row(
        "session H.264: MLS epoch with KID 0x1000001",
        mls.install_epoch(1, 2, 0, key()).map(|_| ()),
        OK,
    );
    t.row(
        "session H.264: protect under MLS KID 0x1000001",
        protect(&mut mls, &h("00000001 61 e0 fa")),
        OK,
    );

    // As in the compat rows: 64 slices, one attempt per frame, some frame must give up.
    let mut one_attempt = d.clone();
    one_attempt.max_attempts = 1;
    let slices = h(&"00000001 61 e0 fafafafa ".repeat(64));
    let mut s = alice(h264, &one_attempt, 1);
    let first_failure = (0..100)
        .map(|_| protect(&mut s, &slices))
        .find(Result::is_err)
        .unwrap_or(Ok(Vec::new()));
    t.row(
        "session H.264: start code emulation, one attempt",
        first_failure,
        Err(E::CodecAware(C::AnnexBEmulation { attempts: 1 })),
    );

    let mut many = d.clone();
    many.max_ranges = 100_000;
    t.row(
        "session AV1: trailer over 32 KiB",
        protect(
            &mut alice(FrameFormat::CodecAware(Codec::Av1), &many, 1),
            &h("32 01 aa").repeat(20_000),
        ),
        Err(E::CodecAware(C::TrailerTooLong)),
    );

    // The last counter of a send key, in both formats. In the codec-aware format the core's
    // refusal arrives through the container (as `CompatEncryptor::encrypt` reports it).
    for (format, frame, past) in [
        (
            FrameFormat::Rfc9605,
            b"frame".to_vec(),
            E::Encrypt(EncryptError::CounterExhausted),
        ),
        (
            vp8,
            h("31 00 00 aa"),
            E::CodecAware(C::Encrypt(EncryptError::CounterExhausted)),
        ),
    ] {
        let mut s = alice(format, &d, 1);
        s.send_encryptor()
            .unwrap()
            .advance_counter_to(Counter(u64::MAX))
            .unwrap();
        t.row(
            format!("session {format:?}: CTR u64::MAX"),
            protect(&mut s, &frame),
            OK,
        );
        t.row(
            format!("session {format:?}: past CTR u64::MAX"),
            protect(&mut s, &frame),
            Err(past),
        );
    }
}

fn rfc9605_unprotect_rows(t: &mut Table) {
    use UnprotectError as E;
    let format = FrameFormat::Rfc9605;
    let mut a = alice(format, &Policy::default(), 1);
    let genuine = protect(&mut a, b"hello").unwrap();
    let second = protect(&mut a, b"again").unwrap();
    let (header, header_len) = Header::decode(&genuine).unwrap();
    assert_eq!(header.key_id(), KID);
    let mut b = bob(format);
    // Alice's KID space, a generation she has not distributed: ((5 << 8) | 2) << 8.
    let mut later = Header::new(KeyId(0x05_02_00), Counter(0))
        .encode()
        .as_bytes()
        .to_vec();
    later.extend([0; 24]);
    let over = vec![0x6d; MAX_METADATA_LEN + 1];
    let cases: Vec<(&str, Vec<u8>, Result<(), UnprotectError>)> = vec![
        (
            "empty frame",
            Vec::new(),
            Err(E::Header(HeaderError::Truncated)),
        ),
        (
            "KID announced, absent",
            h("80"),
            Err(E::Header(HeaderError::Truncated)),
        ),
        (
            "non-minimal KID",
            h("80 05 00 00"),
            Err(E::Header(HeaderError::NonMinimalKeyId)),
        ),
        (
            "KID nobody holds",
            h("20 00 00 00 00"),
            Err(E::UnknownKeyId(KeyId(2))),
        ),
        (
            "Alice's KID, a generation she did not distribute",
            later,
            Err(E::UnknownKeyId(KeyId(0x05_02_00))),
        ),
        (
            "header and a short tag",
            genuine[..header_len + GCM.tag_len() - 1].to_vec(),
            Err(E::TooShort(KID)),
        ),
        (
            "header only",
            genuine[..header_len].to_vec(),
            Err(E::TooShort(KID)),
        ),
        (
            "ciphertext flipped",
            flip(&genuine, header_len),
            Err(E::Authentication(KID)),
        ),
        (
            "tag flipped",
            flip(&genuine, genuine.len() - 1),
            Err(E::Authentication(KID)),
        ),
        ("genuine frame", genuine.clone(), Ok(())),
        (
            "genuine frame replayed",
            genuine.clone(),
            Err(E::Replay(KID)),
        ),
    ];
    for (name, frame, want) in cases {
        let got = unprotect(&mut b, &frame);
        if name == "genuine frame" {
            assert_eq!(got.0, Ok(Got::Decrypted(ALICE, KID, b"hello".to_vec())));
        }
        t.unprotect_row(format!("session RFC 9605: {name}"), got, want);
    }
    t.unprotect_row(
        "session RFC 9605: metadata of MAX_METADATA_LEN + 1",
        unprotect_as(&mut b, None, &over, &second),
        Err(E::MetadataTooLong),
    );
    t.unprotect_row(
        "session RFC 9605: from a participant who did not send it",
        unprotect_as(&mut b, Some(ParticipantId(3)), b"", &second),
        Err(E::UnknownKeyId(KID)),
    );
    t.unprotect_row(
        "session RFC 9605: from Alice, who sent it",
        unprotect_as(&mut b, Some(ALICE), b"", &second),
        OK,
    );
}

fn mls_unprotect_rows(t: &mut Table) {
    use UnprotectError as E;
    let mut a = MlsSession::new(GCM, 4, 0).unwrap();
    a.install_epoch(1, 2, 0, key()).unwrap();
    let mut b = MlsSession::new(GCM, 4, 0).unwrap();
    b.install_epoch(1, 2, 1, key()).unwrap();
    let genuine = protect(&mut a, b"mls frame").unwrap();
    let second = protect(&mut a, b"second").unwrap();
    let kid = Header::decode(&genuine).unwrap().0.key_id();
    let (got, header_kid) = unprotect(&mut b, &genuine);
    assert_eq!(
        got,
        Ok(Got::Decrypted(ParticipantId(0), kid, b"mls frame".to_vec())),
        "the sender is the MLS leaf index"
    );
    t.unprotect_row("session MLS: genuine frame", (got, header_kid), OK);
    t.unprotect_row(
        "session MLS: genuine frame replayed",
        unprotect(&mut b, &genuine),
        Err(E::Replay(kid)),
    );
    let (_, header_len) = Header::decode(&second).unwrap();
    t.unprotect_row(
        "session MLS: ciphertext flipped",
        unprotect(&mut b, &flip(&second, header_len)),
        Err(E::Authentication(kid)),
    );
    t.unprotect_row(
        "session MLS: the second frame after its forgery",
        unprotect(&mut b, &second),
        OK,
    );
    a.install_epoch(2, 2, 0, key()).unwrap();
    let next_epoch = protect(&mut a, b"epoch 2").unwrap();
    let kid2 = Header::decode(&next_epoch).unwrap().0.key_id();
    t.unprotect_row(
        "session MLS: an epoch not installed yet",
        unprotect(&mut b, &next_epoch),
        Err(E::UnknownKeyId(kid2)),
    );
}

fn codec_aware_unprotect_rows(t: &mut Table) {
    use UnprotectError as E;
    let format = FrameFormat::CodecAware(Codec::H264);
    let frame = h("00000001 61 e0 fafafa");
    let genuine = protect(&mut alice(format, &Policy::default(), 1), &frame).unwrap();
    let header = Header::new(KID, Counter(0)).encode().as_bytes().to_vec();
    let with_trailer = |inner: &[u8], tag_len: usize, map: &[u8]| {
        let mut f = inner.to_vec();
        f.extend_from_slice(&header);
        f.extend(std::iter::repeat_n(0, tag_len));
        f.extend_from_slice(map);
        let l = u16::try_from(header.len() + tag_len + map.len() + 4).unwrap();
        f.extend_from_slice(&l.to_be_bytes());
        f.extend([0xfa, 0xfa]);
        f
    };
    // A trailer for Alice's KID with a zero tag and `map`.
    let forged = |map: &str| with_trailer(&frame, 16, &h(map));
    let over = vec![0x6d; MAX_METADATA_LEN + 1];

    let mut b = bob(format);
    let cases: Vec<(&str, Vec<u8>, Result<(), UnprotectError>)> = vec![
        ("no trailer", h("00000001 61 e0 fa"), Err(E::NotProtected)),
        ("empty frame", Vec::new(), Err(E::EmptyFrame)),
        (
            "L below 5",
            h("0004 fafa"),
            Err(E::Trailer(TrailerError::BadLength)),
        ),
        (
            "magic only",
            h("fafa"),
            Err(E::Trailer(TrailerError::Truncated)),
        ),
        (
            "AV1 flag on an H.264 frame",
            h("10 8005 fafa"),
            Err(E::Trailer(TrailerError::BadWrapper)),
        ),
        (
            "no room for the tag",
            with_trailer(&[], 0, &[]),
            Err(E::TooShort(KID)),
        ),
        (
            "15-byte tag",
            with_trailer(&frame, 15, &[]),
            Err(E::TooShort(KID)),
        ),
        (
            "header 00 00 01 unescaped",
            h("b0 01 00 00 01 0009 fafa"),
            Err(E::Trailer(TrailerError::BadEscape)),
        ),
        (
            "non-minimal KID",
            h("80 00 0006 fafa"),
            Err(E::Header(HeaderError::NonMinimalKeyId)),
        ),
        (
            "truncated header",
            h("19 0005 fafa"),
            Err(E::Header(HeaderError::Truncated)),
        ),
        (
            "KID nobody holds",
            h("20 0005 fafa"),
            Err(E::UnknownKeyId(KeyId(2))),
        ),
        (
            "range map truncated",
            forged("80"),
            Err(E::RangeMap(KID, RangeMapError::Truncated)),
        ),
        (
            "range map past the frame",
            forged("00 0a"),
            Err(E::RangeMap(KID, RangeMapError::OutOfBounds)),
        ),
        (
            "range map adjacent",
            forged("00 01 00 01"),
            Err(E::RangeMap(KID, RangeMapError::Adjacent)),
        ),
        (
            "valid range map, forged tag",
            forged("00 06"),
            Err(E::Authentication(KID)),
        ),
        (
            "no range map, forged tag",
            forged(""),
            Err(E::Authentication(KID)),
        ),
        (
            "ciphertext flipped",
            flip(&genuine, 7),
            Err(E::Authentication(KID)),
        ),
        (
            "clear byte flipped",
            flip(&genuine, 5),
            Err(E::Authentication(KID)),
        ),
        ("genuine frame", genuine.clone(), Ok(())),
        (
            "genuine frame replayed",
            genuine.clone(),
            Err(E::Replay(KID)),
        ),
    ];
    for (name, bytes, want) in cases {
        if name == "genuine frame" {
            // No metadata limit in this format: other metadata fails to authenticate.
            t.unprotect_row(
                "session H.264: other metadata of MAX_METADATA_LEN + 1",
                unprotect_as(&mut b, None, &over, &bytes),
                Err(E::Authentication(KID)),
            );
        }
        let got = unprotect(&mut b, &bytes);
        if name == "genuine frame" {
            assert_eq!(got.0, Ok(Got::Decrypted(ALICE, KID, frame.clone())));
        }
        t.unprotect_row(format!("session H.264: {name}"), got, want);
    }

    // Frames that pass through, when the application or the codec says so.
    let mut opted = bob(format).accept_unprotected(true).accept_empty(true);
    let plain = h("00000001 61 e0 fa");
    let got = unprotect(&mut opted, &plain);
    assert_eq!(got.0, Ok(Got::Passed(PassThrough::Unprotected, plain)));
    t.unprotect_row("session H.264: no trailer, accept_unprotected", got, OK);
    let got = unprotect(&mut opted, b"");
    assert_eq!(got.0, Ok(Got::Passed(PassThrough::Empty, Vec::new())));
    t.unprotect_row("session H.264: empty frame, accept_empty", got, OK);
    let mut vp8 = bob(FrameFormat::CodecAware(Codec::Vp8));
    let got = unprotect(&mut vp8, b"");
    assert_eq!(got.0, Ok(Got::Passed(PassThrough::Empty, Vec::new())));
    t.unprotect_row("session VP8: empty frame passes through", got, OK);
    let mut strict = bob(FrameFormat::CodecAware(Codec::Vp8)).accept_empty(false);
    t.unprotect_row(
        "session VP8: empty frame, accept_empty(false)",
        unprotect(&mut strict, b""),
        Err(E::EmptyFrame),
    );
    t.unprotect_row(
        "session VP8: no trailer",
        unprotect(&mut strict, &h("31 00 00 aa")),
        Err(E::NotProtected),
    );
}
