//! Hostile input for the codec-aware compat container: every `TrailerError`,
//! `CompatDecryptError` and `CompatEncryptError` variant. Receive rows also check the container's
//! failure contract: on every error no replay window moved; before authentication the frame is
//! byte-identical, and after a failed authentication its opaque bytes are zero while header,
//! tag, range map and every clear byte are as received (as in RFC 9605 mode).

use secure_frame::BaseKey;
use secure_frame::codec::{Codec, CodecError, Field, Policy, RangeMapError};
use secure_frame::compat::{
    CompatDecryptError, CompatDecryptor, CompatEncryptError, CompatEncryptor, Opened, PassThrough,
    TrailerError, read_header,
};
use secure_frame::{
    CipherSuite, Counter, Decryptor, EncryptError, Encryptor, HeaderError, KeyId, MAX_METADATA_LEN,
};

use super::{BASE_KEY, OK, Table, compat_zeroed, h, receiver, store, windows};

const GCM: CipherSuite = CipherSuite::AesGcm128Sha256;

/// What a receiver returned, copied out of the frame.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Got {
    /// Decrypted: the KID it carried and the normalized frame.
    Decrypted(KeyId, Vec<u8>),
    /// Passed through unauthenticated, as received.
    Passed(PassThrough, Vec<u8>),
}

fn got<S>(opened: &Opened<'_, S>) -> Got {
    match opened {
        Opened::Decrypted { header, frame, .. } => Got::Decrypted(header.key_id(), frame.to_vec()),
        Opened::PassedThrough { reason, frame } => Got::Passed(*reason, frame.to_vec()),
    }
}

/// The frame half of the failure contract: `buf` is what `error` left of `frame`.
fn check_contract(error: CompatDecryptError, frame: &[u8], buf: &[u8]) {
    if error == CompatDecryptError::Authentication {
        assert_eq!(
            buf,
            compat_zeroed(frame, GCM.tag_len()),
            "authentication failure: opaque bytes zero, the rest as received"
        );
    } else {
        assert_eq!(buf, frame, "{error:?} left the frame byte-identical");
    }
}

/// Opens a copy of `frame` with `metadata` and asserts the failure contract.
fn open_md(
    keys: &mut Decryptor,
    receiver: &mut CompatDecryptor,
    metadata: &[u8],
    frame: &[u8],
) -> Result<Got, CompatDecryptError> {
    let before = windows(keys);
    let mut buf = frame.to_vec();
    let result = receiver
        .decrypt_in_place(keys, metadata, &mut buf)
        .map(|opened| {
            let got = got(&opened);
            assert_eq!(opened.is_decrypted(), matches!(got, Got::Decrypted(..)));
            assert_eq!(
                opened.header().map(|h| h.key_id()),
                match &got {
                    Got::Decrypted(kid, _) => Some(*kid),
                    Got::Passed(..) => None,
                }
            );
            got
        });
    if let Err(e) = result {
        check_contract(e, frame, &buf);
        assert_eq!(windows(keys), before, "{e:?} moved no replay window");
    }
    result
}

/// [`open_md`] without metadata.
fn open(
    keys: &mut Decryptor,
    receiver: &mut CompatDecryptor,
    frame: &[u8],
) -> Result<Got, CompatDecryptError> {
    open_md(keys, receiver, b"", frame)
}

/// A trailer after `inner`: header `10` (KID 1, CTR 0), a tag of `tag_len` zero bytes, `map`,
/// then `L` and the magic.
fn forged(inner: &[u8], tag_len: usize, map: &[u8]) -> Vec<u8> {
    let mut frame = inner.to_vec();
    frame.push(0x10);
    frame.extend(std::iter::repeat_n(0, tag_len));
    frame.extend_from_slice(map);
    let l = u16::try_from(1 + tag_len + map.len() + 4).unwrap();
    frame.extend_from_slice(&l.to_be_bytes());
    frame.extend_from_slice(&[0xfa, 0xfa]);
    frame
}

fn sender(codec: Codec, kid: u64, policy: &Policy) -> CompatEncryptor {
    let e = Encryptor::new(GCM, KeyId(kid), &BaseKey::new(BASE_KEY).unwrap());
    CompatEncryptor::new(e, codec, policy.clone())
}

/// Seals with `sender` and asserts the sender half of the contract: nothing emitted on error.
fn seal(sender: &mut CompatEncryptor, frame: &[u8]) -> Result<Vec<u8>, CompatEncryptError> {
    let mut out = vec![0xee; 3];
    let result = sender.encrypt(b"", frame, &mut out);
    if let Err(e) = result {
        assert!(out.is_empty(), "{e:?} emitted nothing");
    }
    result.map(|_| out)
}

pub(super) fn rows(t: &mut Table) {
    trailer_rows(t);
    receive_rows(t);
    send_rows(t);
}

/// Trailers that are malformed before any key is looked up.
fn trailer_rows(t: &mut Table) {
    use CompatDecryptError as E;
    let cases: Vec<(&str, &str, Result<(), CompatDecryptError>)> = vec![
        ("magic only", "fafa", Err(TrailerError::Truncated.into())),
        (
            "one byte and the magic",
            "61 fafa",
            Err(TrailerError::Truncated.into()),
        ),
        ("L = 0", "0000 fafa", Err(TrailerError::BadLength.into())),
        (
            "L = 4, below the smallest trailer",
            "0004 fafa",
            Err(TrailerError::BadLength.into()),
        ),
        (
            "L past the frame",
            "10 0006 fafa",
            Err(TrailerError::BadLength.into()),
        ),
        (
            "L = 0x7fff",
            "7fff fafa",
            Err(TrailerError::BadLength.into()),
        ),
        (
            "L = 0xffff (AV1 flag, 0x7fff)",
            "ffff fafa",
            Err(TrailerError::BadLength.into()),
        ),
        (
            "AV1 flag, no wrapper byte",
            "10 8005 fafa",
            Err(TrailerError::BadWrapper.into()),
        ),
        (
            "AV1 wrapper without its size",
            "2a 8005 fafa",
            Err(TrailerError::BadWrapper.into()),
        ),
        (
            "AV1 wrapper, non-minimal size",
            "2a 8600 1a 10 8009 fafa",
            Err(TrailerError::BadWrapper.into()),
        ),
        (
            "AV1 wrapper, size one too large",
            "2a 07 1a 10 8008 fafa",
            Err(TrailerError::BadWrapper.into()),
        ),
        (
            "AV1 wrapper, size one too small",
            "2a 05 1a 10 8008 fafa",
            Err(TrailerError::BadWrapper.into()),
        ),
        (
            "AV1 wrapper, another metadata type",
            "2a 06 1b 10 8008 fafa",
            Err(TrailerError::BadWrapper.into()),
        ),
        (
            "AV1 wrapper, size field of 9 bytes",
            "2a ffffffffffffffff7f 800e fafa",
            Err(TrailerError::BadWrapper.into()),
        ),
        (
            "header truncated (2-byte CTR)",
            "19 0005 fafa",
            Err(HeaderError::Truncated.into()),
        ),
        (
            "header with a non-minimal KID",
            "80 00 0006 fafa",
            Err(HeaderError::NonMinimalKeyId.into()),
        ),
        (
            "header with a non-minimal CTR",
            "18 00 0006 fafa",
            Err(HeaderError::NonMinimalCounter.into()),
        ),
        (
            "header 00 00 01 unescaped (KID 0x01000001)",
            "b0 01 00 00 01 0009 fafa",
            Err(TrailerError::BadEscape.into()),
        ),
        (
            "header 00 00 03 04: an escape the sender would not write (KID 0x01000004)",
            "b0 01 00 00 03 04 000a fafa",
            Err(TrailerError::BadEscape.into()),
        ),
        (
            "header 00 00 00 unescaped (CTR 0x01000000)",
            "1b 01 00 00 00 0009 fafa",
            Err(TrailerError::BadEscape.into()),
        ),
        (
            "escaped header ends after 00 00",
            "b0 01 00 00 0008 fafa",
            Err(HeaderError::Truncated.into()),
        ),
        (
            "escaped header ends after its 03",
            "b0 01 00 00 03 0009 fafa",
            Err(HeaderError::Truncated.into()),
        ),
        ("no magic", "61", Err(E::NotProtected)),
        ("one magic byte", "fa", Err(E::NotProtected)),
        ("magic reversed", "10 0005 fbfa", Err(E::NotProtected)),
    ];
    let mut keys = store(GCM, &[1]);
    for (name, hex, want) in cases {
        let frame = h(hex);
        let via_read_header = read_header(&frame).map(drop);
        let opened = open(&mut keys, &mut CompatDecryptor::new(), &frame);
        assert_eq!(
            via_read_header,
            opened.clone().map(drop),
            "{name}: read_header agrees"
        );
        t.row(format!("compat: {name}"), opened, want);
    }
    // The AV1 wrapper done right, then no room for the tag: the wrapper was read correctly.
    t.row(
        "compat: AV1 wrapper, tag missing",
        open(
            &mut keys,
            &mut CompatDecryptor::new(),
            &h("2a 06 1a 10 8008 fafa"),
        ),
        Err(E::Trailer(TrailerError::TagTruncated)),
    );
    let unprotected = open(
        &mut keys,
        &mut CompatDecryptor::new().accept_unprotected(true),
        &h("61 e0"),
    );
    assert_eq!(
        unprotected,
        Ok(Got::Passed(PassThrough::Unprotected, h("61 e0"))),
        "an accepted unprotected frame comes back as received, marked so"
    );
    t.row(
        "compat: unprotected frame accepted when asked",
        unprotected,
        OK,
    );
    empty_rows(t, &mut keys);
}

/// 0-byte frames: refused by default, passed through when asked or when the codec's senders
/// pass them through.
fn empty_rows(t: &mut Table, keys: &mut Decryptor) {
    use CompatDecryptError as E;
    t.row(
        "compat: empty frame, CompatDecryptor::new()",
        open(keys, &mut CompatDecryptor::new(), b""),
        Err(E::EmptyFrame),
    );
    t.row(
        "compat: empty frame, accept_unprotected but not accept_empty",
        open(
            keys,
            &mut CompatDecryptor::new().accept_unprotected(true),
            b"",
        ),
        Err(E::EmptyFrame),
    );
    let empty = open(keys, &mut CompatDecryptor::new().accept_empty(true), b"");
    assert_eq!(empty, Ok(Got::Passed(PassThrough::Empty, Vec::new())));
    t.row("compat: empty frame, accept_empty(true)", empty, OK);
    for (codec, passes) in [
        (Codec::Opus, true),
        (Codec::Pcmu, true),
        (Codec::Pcma, true),
        (Codec::G722, true),
        (Codec::Vp8, true),
        (Codec::Vp9, true),
        (Codec::Av1, false),
        (Codec::H264, false),
        (Codec::H265, false),
    ] {
        let mut r = CompatDecryptor::for_codec(codec);
        assert_eq!(r.accepts_empty(), passes, "{codec:?}");
        t.row(
            format!("compat: empty frame, for_codec({codec:?})"),
            open(keys, &mut r, b""),
            if passes { Ok(()) } else { Err(E::EmptyFrame) },
        );
    }
    t.row(
        "compat: empty frame, for_codec(Vp8).accept_empty(false)",
        open(
            keys,
            &mut CompatDecryptor::for_codec(Codec::Vp8).accept_empty(false),
            b"",
        ),
        Err(E::EmptyFrame),
    );
}

/// Trailers that parse, against a receiver holding KID 1 (AES-GCM, 16-byte tag).
fn receive_rows(t: &mut Table) {
    use CompatDecryptError as E;
    let mut keys = store(GCM, &[1]);
    let mut r = CompatDecryptor::new();
    let inner = [0x5a; 10];
    t.row(
        "compat: unknown KID",
        open(&mut keys, &mut r, &h("20 0005 fafa")),
        Err(E::UnknownKeyId(KeyId(2))),
    );
    t.row(
        "compat: escaped KID 0x01000001 (00 00 03 01), unescaped before the lookup",
        open(&mut keys, &mut r, &h("b0 01 00 00 03 01 000a fafa")),
        Err(E::UnknownKeyId(KeyId(0x0100_0001))),
    );
    t.row(
        "compat: no tag",
        open(&mut keys, &mut r, &h("10 0005 fafa")),
        Err(E::Trailer(TrailerError::TagTruncated)),
    );
    t.row(
        "compat: 15-byte tag for a 16-byte suite",
        open(&mut keys, &mut r, &forged(&inner, 15, b"")),
        Err(E::Trailer(TrailerError::TagTruncated)),
    );
    let maps: Vec<(&str, &str, Result<(), CompatDecryptError>)> = vec![
        ("truncated", "80", Err(RangeMapError::Truncated.into())),
        (
            "non-minimal",
            "8000 01",
            Err(RangeMapError::Leb128NonMinimal.into()),
        ),
        (
            "11-byte number",
            "8080808080808080808001 01",
            Err(RangeMapError::Leb128TooLong.into()),
        ),
        (
            "overflowing",
            "ffffffffffffffffff01 01",
            Err(RangeMapError::Overflow.into()),
        ),
        (
            "empty range",
            "00 00",
            Err(RangeMapError::EmptyRange.into()),
        ),
        (
            "adjacent ranges",
            "00 01 00 01",
            Err(RangeMapError::Adjacent.into()),
        ),
        (
            "past the frame",
            "00 0b",
            Err(RangeMapError::OutOfBounds.into()),
        ),
        ("valid, forged tag", "00 0a", Err(E::Authentication)),
        ("none, forged tag", "", Err(E::Authentication)),
    ];
    for (name, map, want) in maps {
        t.row(
            format!("compat: range map {name}"),
            open(&mut keys, &mut r, &forged(&inner, 16, &h(map))),
            want,
        );
    }
    let mut one = CompatDecryptor::new().with_max_ranges(1);
    t.row(
        "compat: two ranges for a receiver allowing one",
        open(&mut keys, &mut one, &forged(&inner, 16, &h("00 01 01 01"))),
        Err(E::RangeMap(RangeMapError::TooManyRanges)),
    );

    // Genuine frames, then tampered ones.
    let frame = h("00000001 61 e0 fafafa");
    let wire = seal(&mut sender(Codec::H264, 1, &Policy::default()), &frame).unwrap();
    let tampered = |at: usize| {
        let mut w = wire.clone();
        w[at] ^= 1;
        w
    };
    let tag_at = frame.len() + 1;
    t.row(
        "compat: clear byte flipped",
        open(&mut keys, &mut r, &tampered(5)),
        Err(E::Authentication),
    );
    t.row(
        "compat: ciphertext flipped",
        open(&mut keys, &mut r, &tampered(6)),
        Err(E::Authentication),
    );
    t.row(
        "compat: tag flipped",
        open(&mut keys, &mut r, &tampered(tag_at)),
        Err(E::Authentication),
    );
    let mut shorter_map = wire.clone();
    let map_at = tag_at + 16;
    assert_eq!(shorter_map[map_at..map_at + 2], [0x00, 0x06]);
    shorter_map[map_at + 1] = 0x05;
    t.row(
        "compat: another valid range map",
        open(&mut keys, &mut r, &shorter_map),
        Err(E::Authentication),
    );
    t.row(
        "compat: first byte cut off",
        open(&mut keys, &mut r, &wire[1..]),
        Err(E::Authentication),
    );
    // Application metadata has no length limit in the container (it joins the associated data
    // on the heap, on both sides); it is authenticated like the rest.
    let long = vec![0x6d; MAX_METADATA_LEN + 1];
    t.row(
        "compat: genuine frame, other metadata of MAX_METADATA_LEN + 1",
        open_md(&mut keys, &mut r, &long, &wire),
        Err(E::Authentication),
    );
    let mut with_long = Vec::new();
    sender(Codec::H264, 3, &Policy::default())
        .encrypt(&long, &frame, &mut with_long)
        .unwrap();
    let mut keys3 = store(GCM, &[3]);
    t.row(
        "compat: sealed with metadata of MAX_METADATA_LEN + 1, opened without",
        open_md(&mut keys3, &mut r, b"", &with_long),
        Err(E::Authentication),
    );
    t.row(
        "compat: sealed and opened with metadata of MAX_METADATA_LEN + 1",
        open_md(&mut keys3, &mut r, &long, &with_long),
        OK,
    );

    // One receive key as the key store.
    let mut k = receiver(GCM, 1);
    let mut buf = wire.clone();
    let with_key = r.decrypt_in_place(&mut k, b"", &mut buf).map(|o| got(&o));
    assert_eq!(with_key, Ok(Got::Decrypted(KeyId(1), frame.clone())));
    t.row("compat: genuine frame, one receive key", with_key, OK);
    let mut k2 = receiver(GCM, 2);
    let before = *k2.replay_window();
    let mut buf = wire.clone();
    let other = r.decrypt_in_place(&mut k2, b"", &mut buf).map(drop);
    assert_eq!(buf, wire, "an unknown KID left the frame byte-identical");
    assert_eq!(*k2.replay_window(), before);
    t.row(
        "compat: frame for another receive key",
        other,
        Err(E::UnknownKeyId(KeyId(1))),
    );
    let genuine = open(&mut keys, &mut r, &wire);
    assert_eq!(genuine, Ok(Got::Decrypted(KeyId(1), frame)));
    t.row("compat: genuine frame", genuine, OK);
    t.row(
        "compat: genuine frame replayed",
        open(&mut keys, &mut r, &wire),
        Err(E::Replay),
    );
}

fn send_rows(t: &mut Table) {
    use CompatEncryptError as E;
    let d = Policy::default();
    t.row(
        "compat send: H.264 frame without a start code",
        seal(&mut sender(Codec::H264, 1, &d), &h("61 e0 fa")),
        Err(E::Codec(CodecError::NoStartCode { at: 0 })),
    );
    t.row(
        "compat send: truncated VP8 key frame",
        seal(&mut sender(Codec::Vp8, 1, &d), &h("10 02 00 9d 01")),
        Err(E::Codec(CodecError::Truncated {
            at: 0,
            need: 10,
            have: 5,
            what: Field::Vp8KeyFrameHeader,
        })),
    );
    t.row(
        "compat send: empty VP8 frame passes through",
        seal(&mut sender(Codec::Vp8, 1, &d), b""),
        OK,
    );
    t.row(
        "compat send: empty H.264 frame",
        seal(&mut sender(Codec::H264, 1, &d), b""),
        Err(E::Codec(CodecError::NoStartCode { at: 0 })),
    );
    t.row(
        "compat send: empty AV1 frame",
        seal(&mut sender(Codec::Av1, 1, &d), b""),
        Err(E::Codec(CodecError::NoMediaUnits)),
    );

    // The last counter seals; the one after it does not exist.
    let mut e = Encryptor::new(GCM, KeyId(1), &BaseKey::new(BASE_KEY).unwrap());
    e.advance_counter_to(Counter(u64::MAX)).unwrap();
    let mut last = CompatEncryptor::new(e, Codec::Vp8, d.clone());
    let delta = h("31 00 00 aa bb");
    t.row("compat send: CTR u64::MAX", seal(&mut last, &delta), OK);
    t.row(
        "compat send: past CTR u64::MAX",
        seal(&mut last, &delta),
        Err(E::Encrypt(EncryptError::CounterExhausted)),
    );

    // 64 slices: each attempt emulates a start code about a quarter of the time (a last
    // ciphertext byte of 00 before the next start code). With one attempt allowed, some
    // counter among the first hundred must give up.
    let mut one_attempt = d.clone();
    one_attempt.max_attempts = 1;
    let slices = h(&"00000001 61 e0 fafafafa ".repeat(64));
    let mut s = sender(Codec::H264, 1, &one_attempt);
    let first_failure = (0..100)
        .map(|_| seal(&mut s, &slices))
        .find(Result::is_err)
        .unwrap_or(Ok(Vec::new()));
    t.row(
        "compat send: start code emulation, one attempt",
        first_failure,
        Err(E::AnnexBEmulation { attempts: 1 }),
    );

    // 20 000 AV1 OBUs need a range map over 32 KiB: refused before a counter is used.
    let mut many = d;
    many.max_ranges = 100_000;
    let obus = h("32 01 aa").repeat(20_000);
    let mut s = sender(Codec::Av1, 1, &many);
    t.row(
        "compat send: trailer over 32 KiB",
        seal(&mut s, &obus),
        Err(E::TrailerTooLong),
    );
    assert_eq!(s.encryptor().next_counter(), Some(Counter(0)));
}
