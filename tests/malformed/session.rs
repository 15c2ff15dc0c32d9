//! Hostile input through a `Session`, in both frame formats: every `ProtectError` and
//! `UnprotectError` variant. Unprotect rows also check that an error leaves the frame as it was
//! (but for an authentication failure in the RFC 9605 format, which zeroes the ciphertext) and
//! that the failed frames moved no receiver: the genuine frame still opens afterwards.

use secure_frame::codec::{Codec, CodecError, Policy, RangeMapError};
use secure_frame::compat::TrailerError;
use secure_frame::session::FrameFormat;
use secure_frame::{
    BaseKey, CipherSuite, DecryptError, EncryptError, Header, HeaderError, KeyError, KeyId,
    ParticipantId, ProtectError, RatchetBits, SenderKeyId, Session, UnprotectError,
};

use super::{OK, Table, h};

const GCM: CipherSuite = CipherSuite::AesGcm128Sha256;
const ALICE: ParticipantId = ParticipantId(1);
/// Generation 1, step 0 with R = 8.
const KID: KeyId = KeyId(0x100);

fn bits() -> RatchetBits {
    RatchetBits::new(8).unwrap()
}

fn key() -> BaseKey {
    BaseKey::new(b"malformed session key").unwrap()
}

/// Alice's sending session in `format`, at generation `generation`.
fn alice(format: FrameFormat, policy: &Policy, generation: u64) -> Session {
    let mut s = Session::sender_keys(GCM, bits())
        .with_format(format)
        .with_codec_policy(policy.clone());
    s.set_send_key(generation, key()).unwrap();
    s
}

/// Bob's session, holding Alice's generation 1.
fn bob(format: FrameFormat) -> Session {
    let mut s = Session::sender_keys(GCM, bits()).with_format(format);
    s.add_participant(ALICE, SenderKeyId::new(1, 0), key())
        .unwrap();
    s
}

/// Protects a copy of `frame`, asserting that an error left the plaintext in place.
fn protect(session: &mut Session, frame: &[u8]) -> Result<Vec<u8>, ProtectError> {
    let mut buf = frame.to_vec();
    let result = session.protect(b"", &mut buf);
    if let Err(e) = result {
        assert_eq!(buf, frame, "{e:?} left the plaintext in place");
    }
    result.map(|()| buf)
}

/// Unprotects a copy of `frame` and checks the frame half of the failure contract.
fn unprotect(session: &mut Session, frame: &[u8]) -> Result<Vec<u8>, UnprotectError> {
    let mut buf = frame.to_vec();
    let result = session
        .unprotect(b"", &mut buf)
        .map(|u| u.plaintext.to_vec());
    match result {
        Err(UnprotectError::Decrypt(DecryptError::Authentication))
            if session.format() == FrameFormat::Rfc9605 =>
        {
            let (_, header_len) = Header::decode(frame).unwrap();
            let tag_at = frame.len() - GCM.tag_len();
            assert_eq!(buf[..header_len], frame[..header_len], "header intact");
            assert_eq!(buf[tag_at..], frame[tag_at..], "tag intact");
            assert!(
                buf[header_len..tag_at].iter().all(|&b| b == 0),
                "ciphertext zeroed"
            );
        }
        Err(e) => assert_eq!(buf, frame, "{e:?} left the frame byte-identical"),
        Ok(_) => {}
    }
    result
}

fn flip(frame: &[u8], at: usize) -> Vec<u8> {
    let mut f = frame.to_vec();
    f[at] ^= 0x40;
    f
}

pub(super) fn rows(t: &mut Table) {
    protect_rows(t);
    rfc9605_unprotect_rows(t);
    codec_aware_unprotect_rows(t);
}

fn protect_rows(t: &mut Table) {
    use ProtectError as E;
    let d = Policy::default();
    let h264 = FrameFormat::CodecAware(Codec::H264);
    for format in [FrameFormat::Rfc9605, h264] {
        let mut no_key = Session::sender_keys(GCM, bits()).with_format(format);
        t.row(
            format!("session {format:?}: protect before a send key"),
            protect(&mut no_key, &h("00000001 61 e0 fa")),
            Err(E::Encrypt(EncryptError::NoSendKey)),
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
    t.row(
        "session H.264: frame without a start code",
        protect(&mut alice(h264, &d, 1), &h("61 e0 fa")),
        Err(E::Codec(CodecError::NoStartCode { at: 0 })),
    );
    t.row(
        "session H.264: set_send_key to KID 0x010000",
        Session::sender_keys(GCM, bits())
            .with_format(h264)
            .set_send_key(0x100, key()),
        Err(KeyError::KidNotAnnexBSafe(KeyId(0x0001_0000))),
    );
    // A key set before the format changed is checked when a frame is protected.
    let mut late = Session::sender_keys(GCM, bits());
    late.set_send_key(0x100, key()).unwrap();
    let mut late = late.with_format(h264);
    t.row(
        "session H.264: KID 0x010000 set before the format",
        protect(&mut late, &h("00000001 61 e0 fa")),
        Err(E::Key(KeyError::KidNotAnnexBSafe(KeyId(0x0001_0000)))),
    );
    // MLS KIDs come from the epoch: context 0x80000, one sender bit and four epoch bits put
    // KID 0x1000001 (01 00 00 01) on the wire, which an Annex B frame cannot carry.
    let mut mls = Session::mls(GCM, 4, 0x8_0000).unwrap().with_format(h264);
    mls.install_epoch(1, 2, 0, key()).unwrap();
    t.row(
        "session H.264: MLS epoch with KID 0x1000001",
        protect(&mut mls, &h("00000001 61 e0 fa")),
        Err(E::Key(KeyError::KidNotAnnexBSafe(KeyId(0x0100_0001)))),
    );
    t.row(
        "session VP8: KID 0x010000 is fine",
        protect(
            &mut alice(FrameFormat::CodecAware(Codec::Vp8), &d, 0x100),
            &h("31 00 00 aa"),
        ),
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
        Err(E::AnnexBEmulation { attempts: 1 }),
    );

    let mut many = d;
    many.max_ranges = 100_000;
    t.row(
        "session AV1: trailer over 32 KiB",
        protect(
            &mut alice(FrameFormat::CodecAware(Codec::Av1), &many, 1),
            &h("32 01 aa").repeat(20_000),
        ),
        Err(E::TrailerTooLong),
    );
}

fn rfc9605_unprotect_rows(t: &mut Table) {
    use UnprotectError as E;
    let format = FrameFormat::Rfc9605;
    let genuine = protect(&mut alice(format, &Policy::default(), 1), b"hello").unwrap();
    let (header, header_len) = Header::decode(&genuine).unwrap();
    assert_eq!(header.key_id(), KID);
    let mut b = bob(format);
    t.row(
        "session RFC 9605: empty frame",
        unprotect(&mut b, b""),
        Err(E::Decrypt(HeaderError::Truncated.into())),
    );
    t.row(
        "session RFC 9605: KID nobody holds",
        unprotect(&mut b, &h("20 00 00 00 00")),
        Err(E::Decrypt(DecryptError::UnknownKeyId(KeyId(2)))),
    );
    t.row(
        "session RFC 9605: header and a short tag",
        unprotect(&mut b, &genuine[..header_len + GCM.tag_len() - 1]),
        Err(E::Decrypt(DecryptError::TooShort)),
    );
    t.row(
        "session RFC 9605: ciphertext flipped",
        unprotect(&mut b, &flip(&genuine, header_len)),
        Err(E::Decrypt(DecryptError::Authentication)),
    );
    t.row(
        "session RFC 9605: genuine frame",
        unprotect(&mut b, &genuine),
        OK,
    );
    t.row(
        "session RFC 9605: genuine frame replayed",
        unprotect(&mut b, &genuine),
        Err(E::Decrypt(DecryptError::Replay)),
    );
    let mut buf = genuine.clone();
    t.row(
        "session RFC 9605: from a participant who did not send it",
        b.unprotect_from(ParticipantId(2), b"", &mut buf).map(drop),
        Err(E::Decrypt(DecryptError::UnknownKeyId(KID))),
    );
}

fn codec_aware_unprotect_rows(t: &mut Table) {
    use UnprotectError as E;
    let format = FrameFormat::CodecAware(Codec::H264);
    let frame = h("00000001 61 e0 fafafa");
    let genuine = protect(&mut alice(format, &Policy::default(), 1), &frame).unwrap();
    let mut b = bob(format);
    // A trailer for Alice's KID (header 90 0100) with a zero tag and `map`.
    let forged = |map: &str| {
        let mut f = h("00000001 61 e0 fafafa 90 0100");
        f.extend([0; 16]);
        let map = h(map);
        f.extend_from_slice(&map);
        let l = u16::try_from(3 + 16 + map.len() + 4).unwrap();
        f.extend_from_slice(&l.to_be_bytes());
        f.extend([0xfa, 0xfa]);
        f
    };
    let cases: Vec<(&str, Vec<u8>, Result<(), UnprotectError>)> = vec![
        ("no trailer", h("00000001 61 e0 fa"), Err(E::NotProtected)),
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
            h("90 0100 0007 fafa"),
            Err(E::Trailer(TrailerError::TagTruncated)),
        ),
        (
            "non-minimal KID",
            h("80 00 0006 fafa"),
            Err(E::Decrypt(HeaderError::NonMinimalKeyId.into())),
        ),
        (
            "KID nobody holds",
            h("20 0005 fafa"),
            Err(E::Decrypt(DecryptError::UnknownKeyId(KeyId(2)))),
        ),
        (
            "range map truncated",
            forged("80"),
            Err(E::RangeMap(RangeMapError::Truncated)),
        ),
        (
            "range map past the frame",
            forged("00 0a"),
            Err(E::RangeMap(RangeMapError::OutOfBounds)),
        ),
        (
            "range map adjacent",
            forged("00 01 00 01"),
            Err(E::RangeMap(RangeMapError::Adjacent)),
        ),
        (
            "valid range map, forged tag",
            forged("00 06"),
            Err(E::Decrypt(DecryptError::Authentication)),
        ),
        (
            "ciphertext flipped",
            flip(&genuine, 7),
            Err(E::Decrypt(DecryptError::Authentication)),
        ),
        (
            "clear byte flipped",
            flip(&genuine, 5),
            Err(E::Decrypt(DecryptError::Authentication)),
        ),
        ("empty frame passes through", Vec::new(), Ok(())),
        ("genuine frame", genuine.clone(), Ok(())),
        (
            "genuine frame replayed",
            genuine,
            Err(E::Decrypt(DecryptError::Replay)),
        ),
    ];
    for (name, frame, want) in cases {
        t.row(
            format!("session H.264: {name}"),
            unprotect(&mut b, &frame),
            want,
        );
    }
}
