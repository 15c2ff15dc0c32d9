//! Hostile input: one table, one row per malformed or abusive input, each asserting the exact
//! typed error (or the exact success at a boundary). Decrypt rows also check the failure
//! contract of `decryptor.rs`: before authentication the frame is byte-identical and no replay
//! window moved; after an authentication failure header and tag are intact and the ciphertext is
//! zero. The rows of the layers above the core (codec planners and range maps, the compat
//! container, the session, key agreement) live in `tests/malformed/`.
//!
//! `every_error_variant_has_a_row` reads the error enums out of the files that declare them
//! (listed in [`ENUMS`]) and fails when a variant has no row here (or sits on the short list of
//! variants no test machine can reach). A row expecting a wrapping variant such as
//! `UnprotectError::Trailer(TrailerError::BadLength)` covers both variants.
//!
//! Every receive error a row produces (`DecryptError`, `CompatDecryptError`, `UnprotectError`)
//! is also checked against the W3C `SFrameTransformErrorEvent` class this file assigns to its
//! variant ([`W3C_CLASS`]): `kind()`, and `is_retryable()` exactly for an unknown KID. Every
//! session row also checks `UnprotectError::key_id()`: the KID of the frame exactly when its
//! header (or trailer) was read, and `None` otherwise.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::too_many_lines,
    clippy::type_complexity,
    reason = "test code"
)]

use std::collections::{BTreeMap, BTreeSet};

use secure_frame::codec::{ClearRanges, CodecError, RangeMapError};
use secure_frame::compat::{CompatDecryptError, CompatEncryptError, TrailerError};
use secure_frame::hazmat::RawAead;
#[cfg(feature = "agreement")]
use secure_frame::{AgreementError, EnvelopeError};
use secure_frame::{
    BaseKey, CipherSuite, Counter, DecryptError, Decryptor, EncryptError, Encryptor, ErrorKind,
    FrameView, Header, HeaderError, KeyError, KeyId, MAX_METADATA_LEN, MlsError, ProtectError,
    RatchetError, ReceiveKey, ReplayWindow, SessionKeyError, UnprotectError,
};

#[path = "malformed/agreement.rs"]
mod agreement;
#[path = "malformed/codec.rs"]
mod codec;
#[path = "malformed/compat.rs"]
mod compat;
#[path = "malformed/session.rs"]
mod session;

macro_rules! errors {
    ($($(#[$attr:meta])* $variant:ident($ty:ty)),* $(,)?) => {
        /// Any error of the crate, so that one table holds them all.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        enum Error {
            $($(#[$attr])* $variant($ty),)*
        }

        $($(#[$attr])* impl From<$ty> for Error {
            fn from(e: $ty) -> Self {
                Self::$variant(e)
            }
        })*

        impl Error {
            /// `Enum::Variant`, the way the source spells it.
            fn variant(self) -> String {
                let (enum_name, debug) = match self {
                    $($(#[$attr])* Self::$variant(e) => (stringify!($ty), format!("{e:?}")),)*
                };
                let name = debug.split(['(', ' ', '{']).next().unwrap();
                format!("{enum_name}::{name}")
            }
        }
    };
}

errors!(
    Header(HeaderError),
    Encrypt(EncryptError),
    Decrypt(DecryptError),
    Key(KeyError),
    Ratchet(RatchetError),
    Mls(MlsError),
    SessionKey(SessionKeyError),
    Codec(CodecError),
    RangeMap(RangeMapError),
    Trailer(TrailerError),
    CompatEncrypt(CompatEncryptError),
    CompatDecrypt(CompatDecryptError),
    Protect(ProtectError),
    Unprotect(UnprotectError),
    #[cfg(feature = "agreement")]
    Agreement(AgreementError),
    #[cfg(feature = "agreement")]
    Envelope(EnvelopeError),
);

impl Error {
    /// The error a wrapping variant carries, if any.
    fn inner(self) -> Option<Self> {
        Some(match self {
            Self::Decrypt(DecryptError::Header(e))
            | Self::CompatDecrypt(CompatDecryptError::Header(e))
            | Self::Unprotect(UnprotectError::Header(e)) => e.into(),
            Self::CompatEncrypt(CompatEncryptError::Codec(e)) => e.into(),
            Self::CompatEncrypt(CompatEncryptError::Encrypt(e))
            | Self::Protect(ProtectError::Encrypt(e)) => e.into(),
            Self::Protect(ProtectError::CodecAware(e)) => e.into(),
            Self::SessionKey(SessionKeyError::Ratchet(e)) => e.into(),
            #[cfg(feature = "agreement")]
            Self::Agreement(AgreementError::Ratchet(e)) => e.into(),
            Self::CompatDecrypt(CompatDecryptError::Trailer(e))
            | Self::Unprotect(UnprotectError::Trailer(e)) => e.into(),
            Self::CompatDecrypt(CompatDecryptError::RangeMap(e))
            | Self::Unprotect(UnprotectError::RangeMap(_, e)) => e.into(),
            #[cfg(feature = "agreement")]
            Self::Agreement(AgreementError::Envelope(e)) => e.into(),
            _ => return None,
        })
    }

    /// This variant and every variant it wraps.
    fn variants(self) -> Vec<String> {
        std::iter::successors(Some(self), |e| e.inner())
            .map(Self::variant)
            .collect()
    }

    /// For a receive error: its W3C class and whether it is retryable, as the library says.
    fn receive_class(self) -> Option<(ErrorKind, bool)> {
        match self {
            Self::Decrypt(e) => Some((e.kind(), e.is_retryable())),
            Self::CompatDecrypt(e) => Some((e.kind(), e.is_retryable())),
            Self::Unprotect(e) => Some((e.kind(), e.is_retryable())),
            _ => None,
        }
    }
}

/// The W3C `SFrameTransformErrorEvent.errorType` of every receive error variant, assigned here
/// and not read from the library: a frame that is not SFrame (malformed header, trailer, range
/// map or length, over-long metadata, missing trailer, refused empty frame) is `syntax`; a KID
/// with no key is `keyID`; a tag that does not verify or a replayed counter is
/// `authentication`.
const W3C_CLASS: &[(&str, &str)] = &[
    ("DecryptError::Header", "syntax"),
    ("DecryptError::UnknownKeyId", "keyID"),
    ("DecryptError::TooShort", "syntax"),
    ("DecryptError::MetadataTooLong", "syntax"),
    ("DecryptError::BufferTooSmall", "syntax"),
    ("DecryptError::Replay", "authentication"),
    ("DecryptError::Authentication", "authentication"),
    ("CompatDecryptError::NotProtected", "syntax"),
    ("CompatDecryptError::EmptyFrame", "syntax"),
    ("CompatDecryptError::Trailer", "syntax"),
    ("CompatDecryptError::Header", "syntax"),
    ("CompatDecryptError::RangeMap", "syntax"),
    ("CompatDecryptError::UnknownKeyId", "keyID"),
    ("CompatDecryptError::Replay", "authentication"),
    ("CompatDecryptError::Authentication", "authentication"),
    ("UnprotectError::Header", "syntax"),
    ("UnprotectError::TooShort", "syntax"),
    ("UnprotectError::MetadataTooLong", "syntax"),
    ("UnprotectError::NotProtected", "syntax"),
    ("UnprotectError::EmptyFrame", "syntax"),
    ("UnprotectError::Trailer", "syntax"),
    ("UnprotectError::RangeMap", "syntax"),
    ("UnprotectError::UnknownKeyId", "keyID"),
    ("UnprotectError::Replay", "authentication"),
    ("UnprotectError::Authentication", "authentication"),
];

/// The W3C class [`W3C_CLASS`] gives `variant` (`Enum::Variant`).
fn w3c_class(variant: &str) -> &'static str {
    W3C_CLASS.iter().find(|(v, _)| *v == variant).map_or_else(
        || panic!("{variant} has no W3C class in W3C_CLASS"),
        |(_, class)| *class,
    )
}

/// `UnprotectError` variants that the library reports without a KID although the frame's
/// header was read, and why that is so today. The session rows assert that each one really
/// leaves the KID out (and at least one row shows it), so that a library that starts reporting
/// the KID fails here until the entry is removed.
const KID_NOT_REPORTED: &[(&str, &str)] = &[(
    "UnprotectError::MetadataTooLong",
    "RFC 9605 format: the metadata length is checked before the frame is read (the \
         session refuses the call, whatever the frame holds)",
)];

/// Variants no test can reach on a 24 GiB machine, and why.
const UNREACHABLE: &[(&str, &str)] = &[
    (
        "EncryptError::FrameTooLong",
        "needs a plaintext of 2^32 AES blocks (64 GiB): AES-CTR's 32-bit block counter \
         (RFC 9605 §4.5.1) and AES-GCM's P_MAX; the metadata that could also overflow the joined \
         AAD is capped at MAX_METADATA_LEN first",
    ),
    (
        "AgreementError::Seal",
        "HPKE sealing fails only inside the hpke crate: the recipient key is a valid point \
         (PublicKey holds no other), the plaintext is a base key of at most 128 bytes, far below \
         AES-GCM's limit, and the sealed key (at most 144 bytes) always fits its u16 length",
    ),
    (
        "RatchetError::Exhausted",
        "a sender's ratchet step counter reaches u64::MAX only after 2^64 ratchet steps",
    ),
];

struct Row {
    name: String,
    got: Result<(), Error>,
    want: Result<(), Error>,
    /// Set for the rows of a frame given to a session.
    session: Option<SessionFrame>,
}

/// What a session row knows of its frame without any key.
#[derive(Clone, Copy)]
struct SessionFrame {
    /// The KID of the frame's header when the header (RFC 9605) or trailer (codec-aware) could
    /// be read, `None` when not: what `UnprotectError::key_id` must say.
    header_kid: Option<KeyId>,
}

#[derive(Default)]
struct Table {
    rows: Vec<Row>,
}

impl Table {
    fn row<T, E: Into<Error>>(
        &mut self,
        name: impl Into<String>,
        got: Result<T, E>,
        want: Result<(), impl Into<Error>>,
    ) {
        self.rows.push(Row {
            name: name.into(),
            got: got.map(drop).map_err(Into::into),
            want: want.map_err(Into::into),
            session: None,
        });
    }

    /// A row of a frame given to a session, with the KID its header carries if it was read.
    fn unprotect_row<T>(
        &mut self,
        name: impl Into<String>,
        (got, header_kid): (Result<T, UnprotectError>, Option<KeyId>),
        want: Result<(), impl Into<Error>>,
    ) {
        self.rows.push(Row {
            name: name.into(),
            got: got.map(drop).map_err(Into::into),
            want: want.map_err(Into::into),
            session: Some(SessionFrame { header_kid }),
        });
    }
}

const OK: Result<(), Error> = Ok(());

/// Bytes from hex with spaces.
fn h(hex: &str) -> Vec<u8> {
    hex::decode(hex.replace(' ', "")).unwrap()
}
const BASE_KEY: &[u8] = b"malformed-table base key";

fn sealed(suite: CipherSuite, kid: u64, ctr: u64, metadata: &[u8], pt: &[u8]) -> Vec<u8> {
    let mut e = Encryptor::new(suite, KeyId(kid), &BaseKey::new(BASE_KEY).unwrap());
    e.advance_counter_to(Counter(ctr)).unwrap();
    e.encrypt_to_vec(metadata, pt).unwrap()
}

fn receiver(suite: CipherSuite, kid: u64) -> ReceiveKey {
    ReceiveKey::new(suite, KeyId(kid), &BaseKey::new(BASE_KEY).unwrap())
}

fn store(suite: CipherSuite, kids: &[u64]) -> Decryptor {
    let mut store = Decryptor::new(suite);
    for kid in kids {
        store
            .add_key(KeyId(*kid), &BaseKey::new(BASE_KEY).unwrap())
            .unwrap();
    }
    store
}

/// What a codec-aware frame must hold after its authentication failed: its opaque bytes (the
/// complement of the clear ranges its range map names) zero, header, tag, map and every clear
/// byte as received. Reads the trailer (without an AV1 wrapper) itself, for a key whose tag is
/// `tag_len` bytes.
fn compat_zeroed(frame: &[u8], tag_len: usize) -> Vec<u8> {
    let n = frame.len();
    assert_eq!(frame[n - 2..], [0xfa, 0xfa], "a trailer");
    let l = u16::from_be_bytes([frame[n - 4], frame[n - 3]]);
    assert_eq!(l & 0x8000, 0, "no AV1 wrapper in these rows");
    let inner_len = n - usize::from(l);
    let (_, header_len) = Header::decode(&frame[inner_len..]).unwrap();
    let map = &frame[inner_len + header_len + tag_len..n - 4];
    let clear = ClearRanges::decode_map(map, inner_len, usize::MAX).unwrap();
    let mut want = frame.to_vec();
    let mut at = 0;
    for range in &clear {
        want[at..range.start].fill(0);
        at = range.end;
    }
    want[at..inner_len].fill(0);
    want
}

fn windows(store: &Decryptor) -> Vec<(KeyId, ReplayWindow)> {
    store
        .key_ids()
        .map(|kid| (kid, *store.get(kid).unwrap().replay_window()))
        .collect()
}

/// Decrypts a copy of `frame` in place with `open` and asserts the frame half of the failure
/// contract. `tag_len` is `Nt` of the receiving key.
fn open_checked(
    frame: &[u8],
    tag_len: usize,
    open: impl FnOnce(&mut [u8]) -> Result<&mut [u8], DecryptError>,
) -> Result<Vec<u8>, DecryptError> {
    let mut buf = frame.to_vec();
    let result = open(&mut buf).map(|pt| pt.to_vec());
    match result {
        Err(DecryptError::Authentication) => {
            let (_, h) = Header::decode(frame).unwrap();
            let t = frame.len() - tag_len;
            assert_eq!(
                buf[..h],
                frame[..h],
                "header intact after authentication failure"
            );
            assert_eq!(
                buf[t..],
                frame[t..],
                "tag intact after authentication failure"
            );
            assert!(buf[h..t].iter().all(|&b| b == 0), "ciphertext zeroed");
        }
        Err(e) => assert_eq!(buf, frame, "{e:?} left the frame byte-identical"),
        Ok(_) => {}
    }
    result
}

/// [`open_checked`] through a store, also asserting that an error moved no replay window.
fn store_open(
    store: &mut Decryptor,
    metadata: &[u8],
    frame: &[u8],
    tag_len: usize,
) -> Result<Vec<u8>, DecryptError> {
    let before = windows(store);
    let result = open_checked(frame, tag_len, |buf| store.decrypt_in_place(metadata, buf));
    if result.is_err() {
        assert_eq!(windows(store), before, "an error moved a replay window");
    }
    result
}

/// [`open_checked`] through one receive key, also asserting that an error moved its window.
fn key_open(key: &mut ReceiveKey, metadata: &[u8], frame: &[u8]) -> Result<Vec<u8>, DecryptError> {
    let before = *key.replay_window();
    let tag_len = key.suite().tag_len();
    let result = open_checked(frame, tag_len, |buf| key.decrypt_in_place(metadata, buf));
    if result.is_err() {
        assert_eq!(
            *key.replay_window(),
            before,
            "an error moved the replay window"
        );
    }
    result
}

fn header_rows(t: &mut Table) {
    let ff7 = [0xff; 7];
    let cases: Vec<(&str, Vec<u8>, Result<(), HeaderError>)> = vec![
        ("empty", vec![], Err(HeaderError::Truncated)),
        (
            "1 byte: KID announced, absent",
            vec![0x80],
            Err(HeaderError::Truncated),
        ),
        (
            "1 byte: CTR announced, absent",
            vec![0x08],
            Err(HeaderError::Truncated),
        ),
        ("1 byte: KID 0, CTR 0", vec![0x00], Ok(())),
        ("1 byte: KID 7, CTR 7", vec![0x77], Ok(())),
        (
            "KID of 8 bytes cut to 7",
            [&[0xf0][..], &ff7].concat(),
            Err(HeaderError::Truncated),
        ),
        (
            "CTR of 8 bytes cut to 7",
            [&[0x0f][..], &ff7].concat(),
            Err(HeaderError::Truncated),
        ),
        (
            "KID whole, CTR cut",
            [&[0x8f, 0x08][..], &ff7].concat(),
            Err(HeaderError::Truncated),
        ),
        ("maximal: 17 bytes, both u64::MAX", vec![0xff; 17], Ok(())),
        (
            "maximal cut by one byte",
            vec![0xff; 16],
            Err(HeaderError::Truncated),
        ),
        (
            "KID 7 in extended form",
            vec![0x80, 0x07],
            Err(HeaderError::NonMinimalKeyId),
        ),
        (
            "KID 0 in extended form",
            vec![0x80, 0x00],
            Err(HeaderError::NonMinimalKeyId),
        ),
        (
            "KID 8 with a leading zero byte",
            vec![0x90, 0x00, 0x08],
            Err(HeaderError::NonMinimalKeyId),
        ),
        (
            "KID of 8 bytes with a leading zero",
            [&[0xf0, 0x00][..], &ff7].concat(),
            Err(HeaderError::NonMinimalKeyId),
        ),
        (
            "CTR 7 in extended form",
            vec![0x08, 0x07],
            Err(HeaderError::NonMinimalCounter),
        ),
        (
            "CTR 0xff with a leading zero byte",
            vec![0x09, 0x00, 0xff],
            Err(HeaderError::NonMinimalCounter),
        ),
        (
            "CTR of 8 bytes with a leading zero",
            [&[0x0f, 0x00][..], &ff7].concat(),
            Err(HeaderError::NonMinimalCounter),
        ),
        (
            "both non-minimal: the KID is reported",
            vec![0x88, 0x05, 0x05],
            Err(HeaderError::NonMinimalKeyId),
        ),
        (
            "non-minimal KID before a cut CTR",
            vec![0x8f, 0x05],
            Err(HeaderError::NonMinimalKeyId),
        ),
    ];
    for (name, bytes, want) in cases {
        let decoded = Header::decode(&bytes);
        if let Ok((header, len)) = decoded {
            assert_eq!(
                header.encode().as_bytes(),
                &bytes[..len],
                "{name}: canonical"
            );
        }
        t.row(format!("Header::decode: {name}"), decoded, want);
        t.row(
            format!("FrameView::parse: {name}"),
            FrameView::parse(&bytes),
            want,
        );
        // The same bytes as a frame: refused as a header error, or (for a header that parses
        // with nothing after it) as too short, and left unchanged either way.
        let mut store = store(CipherSuite::AesGcm128Sha256, &[0, 7, u64::MAX]);
        let want = want
            .map_err(DecryptError::Header)
            .and(Err(DecryptError::TooShort));
        t.row(
            format!("decrypt: {name}"),
            store_open(&mut store, b"", &bytes, 16),
            want,
        );
    }
}

fn length_rows(t: &mut Table) {
    for &suite in CipherSuite::ALL {
        let nt = suite.tag_len();
        let genuine_empty = sealed(suite, 7, 3, b"", b"");
        assert_eq!(genuine_empty.len(), 1 + nt, "header + tag");
        let mut key = receiver(suite, 7);
        t.row(
            format!("{suite}: genuine empty frame (header + tag)"),
            key_open(&mut key, b"", &genuine_empty),
            OK,
        );

        let mut tag_only = vec![0x73];
        tag_only.resize(1 + nt, 0);
        t.row(
            format!("{suite}: tag-only frame, zero tag"),
            key_open(&mut receiver(suite, 7), b"", &tag_only),
            Err(DecryptError::Authentication),
        );

        let frame = sealed(suite, 0x1234, 0x5678, b"md", b"payload");
        let header_len = 5;
        let mut key = receiver(suite, 0x1234);
        let short = &frame[..header_len + nt - 1];
        t.row(
            format!("{suite}: one byte shorter than header + tag"),
            key_open(&mut key, b"md", short),
            Err(DecryptError::TooShort),
        );
        t.row(
            format!("{suite}: header only"),
            key_open(&mut key, b"md", &frame[..header_len]),
            Err(DecryptError::TooShort),
        );
        t.row(
            format!("{suite}: frame cut by one byte"),
            key_open(&mut key, b"md", &frame[..frame.len() - 1]),
            Err(DecryptError::Authentication),
        );

        // A frame sealed under a suite with another tag length, given to this suite's key.
        let other = if nt == 16 {
            CipherSuite::AesCtr128HmacSha256_32
        } else {
            CipherSuite::AesGcm128Sha256
        };
        let foreign = sealed(other, 0x1234, 1, b"md", b"payload long enough for any tag");
        t.row(
            format!("{suite}: tag length of {other}"),
            key_open(&mut key, b"md", &foreign),
            Err(DecryptError::Authentication),
        );
        let foreign = sealed(other, 0x1234, 1, b"md", b"pt");
        let want = if foreign.len() < 3 + nt {
            DecryptError::TooShort
        } else {
            DecryptError::Authentication
        };
        t.row(
            format!("{suite}: tag length of {other}, 2-byte payload"),
            key_open(&mut key, b"md", &foreign),
            Err(want),
        );

        // Metadata at and over the limit, both directions and every entry point.
        let max = vec![0x6d; MAX_METADATA_LEN];
        let over = vec![0x6d; MAX_METADATA_LEN + 1];
        let at_max = sealed(suite, 0x1234, 2, &max, b"payload");
        t.row(
            format!("{suite}: metadata of MAX_METADATA_LEN bytes"),
            key_open(&mut key, &max, &at_max),
            OK,
        );
        let frame = sealed(suite, 0x1234, 3, b"", b"payload");
        t.row(
            format!("{suite}: decrypt_in_place, metadata of MAX_METADATA_LEN + 1"),
            key_open(&mut key, &over, &frame),
            Err(DecryptError::MetadataTooLong),
        );
        let mut out = vec![0; 64];
        t.row(
            format!("{suite}: decrypt, metadata of MAX_METADATA_LEN + 1"),
            key.decrypt(&over, &frame, &mut out),
            Err(DecryptError::MetadataTooLong),
        );
        let mut s = store(suite, &[0x1234]);
        t.row(
            format!("{suite}: Decryptor, metadata of MAX_METADATA_LEN + 1"),
            store_open(&mut s, &over, &frame, nt),
            Err(DecryptError::MetadataTooLong),
        );
        t.row(
            format!("{suite}: decrypt_to_vec, metadata of MAX_METADATA_LEN + 1"),
            s.decrypt_to_vec(&over, &frame),
            Err(DecryptError::MetadataTooLong),
        );

        let mut e = Encryptor::new(suite, KeyId(1), &BaseKey::new(BASE_KEY).unwrap());
        let mut out = vec![0; 64];
        t.row(
            format!("{suite}: encrypt, metadata of MAX_METADATA_LEN + 1"),
            e.encrypt(&over, b"pt", &mut out),
            Err(EncryptError::MetadataTooLong),
        );
        let mut room = vec![0; 64];
        t.row(
            format!("{suite}: encrypt_in_room, metadata of MAX_METADATA_LEN + 1"),
            e.encrypt_in_room(&over, &mut room),
            Err(EncryptError::MetadataTooLong),
        );
        let mut frame = b"pt".to_vec();
        t.row(
            format!("{suite}: encrypt_in_place, metadata of MAX_METADATA_LEN + 1"),
            e.encrypt_in_place(&over, &mut frame),
            Err(EncryptError::MetadataTooLong),
        );
        assert_eq!(
            frame, b"pt",
            "a refused encrypt_in_place keeps the plaintext"
        );
        t.row(
            format!("{suite}: encrypt_to_vec, metadata of MAX_METADATA_LEN + 1"),
            e.encrypt_to_vec(&over, b"pt"),
            Err(EncryptError::MetadataTooLong),
        );
        assert_eq!(
            e.next_counter(),
            Some(Counter(0)),
            "refusals used no counter"
        );

        // Buffers too small, for each entry point that takes one.
        let needed = e.ciphertext_len(2);
        let mut out = vec![0xee; needed - 1];
        t.row(
            format!("{suite}: encrypt into a buffer one byte short"),
            e.encrypt(b"", b"pt", &mut out),
            Err(EncryptError::BufferTooSmall { needed }),
        );
        assert!(
            out.iter().all(|&b| b == 0xee),
            "a refused encrypt wrote nothing"
        );
        t.row(
            format!("{suite}: encrypt into an empty buffer"),
            e.encrypt(b"", b"pt", &mut []),
            Err(EncryptError::BufferTooSmall { needed }),
        );
        let room_needed = Encryptor::HEADER_ROOM + nt;
        let mut room = vec![0xee; room_needed - 1];
        t.row(
            format!("{suite}: encrypt_in_room, buffer smaller than the room"),
            e.encrypt_in_room(b"", &mut room),
            Err(EncryptError::BufferTooSmall {
                needed: room_needed,
            }),
        );
        let mut room = vec![0xee; room_needed];
        t.row(
            format!("{suite}: encrypt_in_room, exactly the room (empty plaintext)"),
            e.encrypt_in_room(b"", &mut room),
            OK,
        );
        let frame = sealed(suite, 0x1234, 9, b"", b"payload");
        let mut out = vec![0xee; 6];
        let mut key = receiver(suite, 0x1234);
        t.row(
            format!("{suite}: decrypt into a buffer one byte short"),
            key.decrypt(b"", &frame, &mut out),
            Err(DecryptError::BufferTooSmall { needed: 7 }),
        );
        assert!(
            out.iter().all(|&b| b == 0xee),
            "a refused decrypt wrote nothing"
        );
        assert_eq!(key.replay_window().highest(), None);

        // The raw AEAD (hazmat): wrong key and tag lengths.
        let nk = suite.key_len();
        t.row(
            format!("{suite}: RawAead key of Nk - 1 bytes"),
            RawAead::new(suite, &vec![0; nk - 1]),
            Err(KeyError::AeadKeyLength),
        );
        t.row(
            format!("{suite}: RawAead key of Nk + 1 bytes"),
            RawAead::new(suite, &vec![0; nk + 1]),
            Err(KeyError::AeadKeyLength),
        );
        let raw = RawAead::new(suite, &vec![0; nk]).unwrap();
        let nonce = [0; 12];
        let mut buf = b"pt".to_vec();
        t.row(
            format!("{suite}: RawAead seal, tag buffer of Nt - 1"),
            raw.seal(&nonce, b"", &mut buf, &mut vec![0; nt - 1]),
            Err(EncryptError::BufferTooSmall { needed: nt }),
        );
        t.row(
            format!("{suite}: RawAead seal, tag buffer of Nt + 1"),
            raw.seal(&nonce, b"", &mut buf, &mut vec![0; nt + 1]),
            Err(EncryptError::BufferTooSmall { needed: nt }),
        );
        let mut tag = vec![0; nt];
        raw.seal(&nonce, b"", &mut buf, &mut tag).unwrap();
        let mut opened = buf.clone();
        t.row(
            format!("{suite}: RawAead open, tag of Nt - 1"),
            raw.open(&nonce, b"", &mut opened, &tag[..nt - 1]),
            Err(DecryptError::Authentication),
        );
        assert!(opened.iter().all(|&b| b == 0), "no plaintext after failure");
    }
}

fn counter_rows(t: &mut Table) {
    let suite = CipherSuite::AesGcm128Sha256;
    let mut e = Encryptor::new(suite, KeyId(3), &BaseKey::new(BASE_KEY).unwrap());
    t.row(
        "advance_counter_to(10)",
        e.advance_counter_to(Counter(10)),
        OK,
    );
    t.row(
        "advance_counter_to(10) again: not used yet",
        e.advance_counter_to(Counter(10)),
        OK,
    );
    t.row(
        "advance_counter_to(9): backwards",
        e.advance_counter_to(Counter(9)),
        Err(EncryptError::CounterReuse),
    );
    t.row("encrypt at 10", e.encrypt_to_vec(b"", b"x"), OK);
    t.row(
        "advance_counter_to(10) after using it",
        e.advance_counter_to(Counter(10)),
        Err(EncryptError::CounterReuse),
    );
    t.row(
        "advance_counter_to(0)",
        e.advance_counter_to(Counter(0)),
        Err(EncryptError::CounterReuse),
    );
    assert_eq!(e.next_counter(), Some(Counter(11)));

    t.row(
        "advance_counter_to(u64::MAX)",
        e.advance_counter_to(Counter(u64::MAX)),
        OK,
    );
    let last = e.encrypt_to_vec(b"", b"last");
    t.row("encrypt with CTR u64::MAX: works once", last.clone(), OK);
    let last = last.unwrap();
    assert_eq!(
        Header::decode(&last).unwrap().0.counter(),
        Counter(u64::MAX)
    );
    assert_eq!(e.next_counter(), None);
    for round in ["", " (still)"] {
        let mut out = vec![0; 64];
        t.row(
            format!("encrypt after u64::MAX{round}"),
            e.encrypt(b"", b"x", &mut out),
            Err(EncryptError::CounterExhausted),
        );
        let mut room = vec![0; 64];
        t.row(
            format!("encrypt_in_room after u64::MAX{round}"),
            e.encrypt_in_room(b"", &mut room),
            Err(EncryptError::CounterExhausted),
        );
        let mut frame = b"x".to_vec();
        t.row(
            format!("encrypt_in_place after u64::MAX{round}"),
            e.encrypt_in_place(b"", &mut frame),
            Err(EncryptError::CounterExhausted),
        );
        assert_eq!(frame, b"x");
        t.row(
            format!("encrypt_to_vec after u64::MAX{round}"),
            e.encrypt_to_vec(b"", b"x"),
            Err(EncryptError::CounterExhausted),
        );
        t.row(
            format!("advance_counter_to(u64::MAX) after u64::MAX{round}"),
            e.advance_counter_to(Counter(u64::MAX)),
            Err(EncryptError::CounterExhausted),
        );
        t.row(
            format!("advance_counter_to(0) after u64::MAX{round}"),
            e.advance_counter_to(Counter(0)),
            Err(EncryptError::CounterExhausted),
        );
    }
    // Checking exhaustion comes before checking the metadata.
    let over = vec![0; MAX_METADATA_LEN + 1];
    t.row(
        "encrypt after u64::MAX with oversized metadata",
        e.encrypt_to_vec(&over, b"x"),
        Err(EncryptError::CounterExhausted),
    );

    let mut key = receiver(suite, 3);
    t.row("decrypt CTR u64::MAX", key_open(&mut key, b"", &last), OK);
    t.row(
        "decrypt CTR u64::MAX again",
        key_open(&mut key, b"", &last),
        Err(DecryptError::Replay),
    );
}

fn replay_rows(t: &mut Table) {
    let suite = CipherSuite::AesCtr128HmacSha256_80;
    let frame = |ctr| sealed(suite, 1, ctr, b"md", b"media");
    let mut key = receiver(suite, 1).with_replay_window(ReplayWindow::new(4).unwrap());
    t.row(
        "window 4: accept 10",
        key_open(&mut key, b"md", &frame(10)),
        OK,
    );
    t.row(
        "window 4: replay 10",
        key_open(&mut key, b"md", &frame(10)),
        Err(DecryptError::Replay),
    );
    t.row(
        "window 4: 7, inside the window",
        key_open(&mut key, b"md", &frame(7)),
        OK,
    );
    t.row(
        "window 4: 7 again",
        key_open(&mut key, b"md", &frame(7)),
        Err(DecryptError::Replay),
    );
    t.row(
        "window 4: 6, older than the window",
        key_open(&mut key, b"md", &frame(6)),
        Err(DecryptError::Replay),
    );
    t.row(
        "window 4: 0, far older than the window",
        key_open(&mut key, b"md", &frame(0)),
        Err(DecryptError::Replay),
    );
    let mut forged = frame(10);
    *forged.last_mut().unwrap() ^= 1;
    t.row(
        "window 4: forged frame with a replayed CTR",
        key_open(&mut key, b"md", &forged),
        Err(DecryptError::Replay),
    );
    let mut forged = frame(11);
    *forged.last_mut().unwrap() ^= 1;
    t.row(
        "window 4: forged frame with a new CTR",
        key_open(&mut key, b"md", &forged),
        Err(DecryptError::Authentication),
    );
    t.row(
        "window 4: the genuine 11 after its forgery",
        key_open(&mut key, b"md", &frame(11)),
        OK,
    );
    t.row(
        "window 4: u64::MAX jumps the window",
        key_open(&mut key, b"md", &frame(u64::MAX)),
        OK,
    );
    t.row(
        "window 4: 11 after the jump",
        key_open(&mut key, b"md", &frame(11)),
        Err(DecryptError::Replay),
    );

    let mut key = receiver(suite, 1).with_replay_window(ReplayWindow::disabled());
    t.row(
        "window disabled: accept 5",
        key_open(&mut key, b"md", &frame(5)),
        OK,
    );
    t.row(
        "window disabled: replay 5 is accepted",
        key_open(&mut key, b"md", &frame(5)),
        OK,
    );

    let mut s = store(suite, &[1, 2]);
    t.row(
        "store: accept KID 1 CTR 5",
        store_open(&mut s, b"md", &frame(5), 10),
        OK,
    );
    t.row(
        "store: replay KID 1 CTR 5",
        store_open(&mut s, b"md", &frame(5), 10),
        Err(DecryptError::Replay),
    );
    let other_kid = sealed(suite, 2, 5, b"md", b"media");
    t.row(
        "store: KID 2 CTR 5 has its own window",
        store_open(&mut s, b"md", &other_kid, 10),
        OK,
    );
    t.row(
        "store: decrypt_to_vec replay",
        s.decrypt_to_vec(b"md", &frame(5)),
        Err(DecryptError::Replay),
    );
}

fn key_id_rows(t: &mut Table) {
    let suite = CipherSuite::AesGcm256Sha512;
    let mut s = store(suite, &[1]);
    for kid in [5, 0, u64::MAX] {
        let frame = sealed(suite, kid, 0, b"", b"early");
        t.row(
            format!("unknown KID {kid:#x}"),
            store_open(&mut s, b"", &frame, 16),
            Err(DecryptError::UnknownKeyId(KeyId(kid))),
        );
        t.row(
            format!("unknown KID {kid:#x}, decrypt_to_vec"),
            s.decrypt_to_vec(b"", &frame),
            Err(DecryptError::UnknownKeyId(KeyId(kid))),
        );
        t.row(
            format!("add the key for KID {kid:#x}"),
            s.add_key(KeyId(kid), &BaseKey::new(BASE_KEY).unwrap()),
            OK,
        );
        t.row(
            format!("the kept frame for KID {kid:#x} now decrypts"),
            store_open(&mut s, b"", &frame, 16),
            OK,
        );
        t.row(
            format!("add KID {kid:#x} twice"),
            s.add_key(KeyId(kid), &BaseKey::new(BASE_KEY).unwrap()),
            Err(KeyError::DuplicateKeyId(KeyId(kid))),
        );
        t.row(
            format!("insert KID {kid:#x} twice"),
            s.insert(receiver(suite, kid)),
            Err(KeyError::DuplicateKeyId(KeyId(kid))),
        );
    }
    let mut key = receiver(suite, 1);
    let frame = sealed(suite, 2, 0, b"", b"x");
    t.row(
        "ReceiveKey for KID 1, frame for KID 2",
        key_open(&mut key, b"", &frame),
        Err(DecryptError::UnknownKeyId(KeyId(2))),
    );
    let mut out = vec![0; 16];
    t.row(
        "ReceiveKey::decrypt for KID 1, frame for KID 2",
        key.decrypt(b"", &frame, &mut out),
        Err(DecryptError::UnknownKeyId(KeyId(2))),
    );

    // Authentication, the bare variant.
    let genuine = sealed(suite, 1, 4, b"md", b"payload");
    let mut tag_flip = genuine.clone();
    *tag_flip.last_mut().unwrap() ^= 0x80;
    t.row(
        "flipped tag bit",
        key_open(&mut key, b"md", &tag_flip),
        Err(DecryptError::Authentication),
    );
    let mut ct_flip = genuine.clone();
    ct_flip[3] ^= 1;
    t.row(
        "flipped ciphertext bit",
        key_open(&mut key, b"md", &ct_flip),
        Err(DecryptError::Authentication),
    );
    t.row(
        "other metadata",
        key_open(&mut key, b"mD", &genuine),
        Err(DecryptError::Authentication),
    );
    let mut out = vec![0xee; 16];
    t.row(
        "other metadata, decrypt into a buffer",
        key.decrypt(b"mD", &genuine, &mut out),
        Err(DecryptError::Authentication),
    );
    assert!(
        out[..7].iter().all(|&b| b == 0) && out[7..].iter().all(|&b| b == 0xee),
        "zeros, and only where the plaintext would be"
    );
    let mut stranger =
        ReceiveKey::new(suite, KeyId(1), &BaseKey::new(b"another base key").unwrap());
    t.row(
        "same KID, another base key",
        key_open(&mut stranger, b"md", &genuine),
        Err(DecryptError::Authentication),
    );
    t.row(
        "the genuine frame after all that",
        key_open(&mut key, b"md", &genuine),
        OK,
    );
}

fn setup_rows(t: &mut Table) {
    let suite = CipherSuite::AesCtr128HmacSha256_64;
    let too_long = vec![1; BaseKey::MAX_LEN + 1];
    let max = vec![1; BaseKey::MAX_LEN];
    // A base key of every accepted length keys both directions (the constructors cannot
    // fail: only BaseKey::new checks the length).
    let max_key = BaseKey::new(&max).unwrap();
    let mut sender = Encryptor::new(suite, KeyId(1), &max_key);
    let mut receiver = ReceiveKey::new(suite, KeyId(1), &max_key);
    let mut frame = sender.encrypt_to_vec(b"", b"x").unwrap();
    t.row(
        "Encryptor::new and ReceiveKey::new, base key of MAX_LEN",
        receiver.decrypt_in_place(b"", &mut frame).map(|_| ()),
        OK,
    );
    t.row(
        "BaseKey::new, empty",
        BaseKey::new(b""),
        Err(KeyError::BaseKeyLength),
    );
    t.row(
        "BaseKey::new, MAX_LEN + 1",
        BaseKey::new(&too_long),
        Err(KeyError::BaseKeyLength),
    );
    t.row(
        "BaseKey::new, 256 bytes (past a u8 length)",
        BaseKey::new(&[1; 256]),
        Err(KeyError::BaseKeyLength),
    );
    t.row(
        "BaseKey::try_from, empty",
        BaseKey::try_from(&b""[..]).map(|_| ()),
        Err(KeyError::BaseKeyLength),
    );

    for id in [0x0000, 0x0009, 0x00ff, 0xf000, 0xffff] {
        t.row(
            format!("CipherSuite::from_id({id:#06x})"),
            CipherSuite::from_id(id),
            Err(KeyError::UnsupportedCipherSuite(id)),
        );
    }
    t.row(
        "CipherSuite::try_from(0)",
        CipherSuite::try_from(0),
        Err(KeyError::UnsupportedCipherSuite(0)),
    );
    for id in 6..=8 {
        t.row(
            format!(
                "CipherSuite::from_id({id:#06x}) (IANA registry, draft-barnes-sframe-iana-256)"
            ),
            CipherSuite::from_id(id),
            OK,
        );
    }

    for width in [0, 129, 256, u32::MAX] {
        t.row(
            format!("ReplayWindow::new({width})"),
            ReplayWindow::new(width),
            Err(KeyError::ReplayWindowWidth),
        );
    }
    for width in [1, 128] {
        t.row(
            format!("ReplayWindow::new({width})"),
            ReplayWindow::new(width),
            OK,
        );
    }
}

/// An MLS exporter that always fails.
struct Failing;
impl secure_frame::mls::MlsExporter for Failing {
    type Error = ();
    fn export(&self, _: &str, _: &[u8], _: &mut [u8]) -> Result<(), ()> {
        Err(())
    }
}

/// Key management and session setup (RFC 9605 §5): every `KeyError` those layers add.
fn key_management_rows(t: &mut Table) {
    use secure_frame::mls::{MlsEpochStore, MlsKeyId, MlsKidLayout};
    use secure_frame::ratchet::{RatchetBits, RatchetReceiver, RatchetSender, SenderKeyId};
    use secure_frame::session::{MlsSession, ParticipantId, SenderKeyLayout, SenderKeySession};

    let suite = CipherSuite::AesGcm128Sha256;
    let key = || BaseKey::new(&[7; 16]).unwrap();
    for r in [0, 64, 255] {
        t.row(
            format!("RatchetBits::new({r})"),
            RatchetBits::new(r),
            Err(RatchetError::Bits),
        );
    }
    let r8 = RatchetBits::new(8).unwrap();
    t.row(
        "generation 2^56 with R = 8",
        SenderKeyId::new(1 << 56, 0).to_key_id(r8),
        Err(RatchetError::GenerationOutOfRange),
    );
    let receiver = || RatchetReceiver::new(suite, r8, SenderKeyId::new(0, 0), key()).unwrap();
    // A receiver at generation 1, step 5 of a sender whose keys the test ratchets itself.
    let r16 = RatchetBits::new(16).unwrap();
    let mut sender = RatchetSender::new(suite, r16, 1, key()).unwrap();
    let mut chain = Vec::new(); // (step, base key) of steps 0..=4102
    for step in 0..=4102u64 {
        chain.push((
            step,
            BaseKey::new(sender.base_key().expose_secret()).unwrap(),
        ));
        sender.ratchet().unwrap();
    }
    let chain_key = |step: usize| BaseKey::new(chain[step].1.expose_secret()).unwrap();
    let mut at_gen_1 =
        RatchetReceiver::new(suite, r16, SenderKeyId::new(1, 5), chain_key(5)).unwrap();
    for (name, id, base_key) in [
        ("an older generation", SenderKeyId::new(0, 9), key()),
        ("its step behind", SenderKeyId::new(1, 4), chain_key(4)),
        (
            "an unrelated key 3 steps ahead",
            SenderKeyId::new(1, 8),
            key(),
        ),
        (
            "its key 4097 steps ahead",
            SenderKeyId::new(1, 4102),
            chain_key(4102),
        ),
    ] {
        t.row(
            format!("RatchetReceiver::install, {name}"),
            at_gen_1.install(id, base_key),
            Err(RatchetError::NotNewer),
        );
    }
    t.row(
        "RatchetReceiver::install, the current key again",
        at_gen_1.install(SenderKeyId::new(1, 5), chain_key(5)),
        Err(RatchetError::DuplicateKeyId(KeyId(0x1_0005))),
    );
    t.row(
        "RatchetReceiver::install, its key 4096 steps ahead",
        at_gen_1.install(SenderKeyId::new(1, 4101), chain_key(4101)),
        OK,
    );
    t.row(
        "RatchetReceiver max_forward 0",
        receiver().with_limits(0, 1),
        Err(RatchetError::Window),
    );
    t.row(
        "RatchetReceiver max_forward + retained = 2^R",
        receiver().with_limits(250, 6),
        Err(RatchetError::Window),
    );
    t.row(
        "MlsKidLayout E = 0",
        MlsKidLayout::new(0, 4),
        Err(MlsError::Bits),
    );
    t.row(
        "MlsKidLayout E = 33",
        MlsKidLayout::new(33, 4),
        Err(MlsError::Bits),
    );
    t.row(
        "MlsEpochStore E = 0",
        MlsEpochStore::new(suite, 0),
        Err(MlsError::Bits),
    );
    t.row(
        "group of 0",
        MlsKidLayout::sender_bits_for(0),
        Err(MlsError::GroupSize),
    );
    let layout = MlsKidLayout::new(4, 6).unwrap();
    let mls_kid = |context, sender_index, epoch| {
        MlsKeyId {
            context,
            sender_index,
            epoch,
        }
        .to_key_id(layout)
    };
    t.row(
        "sender index 64 with S = 6",
        mls_kid(0, 64, 1),
        Err(MlsError::SenderIndexOutOfRange),
    );
    t.row(
        "context 2^54 with S + E = 10",
        mls_kid(1 << 54, 1, 1),
        Err(MlsError::ContextOutOfRange),
    );
    let mut store = MlsEpochStore::new(suite, 4).unwrap();
    store.install_epoch(5, 3, Some(0), key()).unwrap();
    t.row(
        "epoch 5 installed twice",
        store.install_epoch(5, 3, Some(0), key()),
        Err(MlsError::DuplicateEpoch(5)),
    );
    t.row(
        "MlsEpochStore max_epochs 0",
        MlsEpochStore::new(suite, 4).unwrap().with_max_epochs(0),
        Err(MlsError::Capacity),
    );
    t.row(
        "MlsEpochStore max_epochs above 2^E",
        MlsEpochStore::new(suite, 2).unwrap().with_max_epochs(5),
        Err(MlsError::Capacity),
    );

    let layout = SenderKeyLayout::default();
    let mut sender_keys = SenderKeySession::new(suite, layout, ParticipantId(0)).unwrap();
    sender_keys.set_send_key(3, key()).unwrap();
    t.row(
        "generation not newer",
        sender_keys.set_send_key(3, key()),
        Err(RatchetError::NotNewer),
    );
    let mut mls = MlsSession::new(suite, 4, 0).unwrap();
    t.row(
        "exporter that fails",
        mls.install_epoch_from(&Failing, 1, 2, 0),
        Err(MlsError::Exporter),
    );
    let mut out = [0; 64];
    t.row(
        "protect before any send key",
        SenderKeySession::new(suite, layout, ParticipantId(0))
            .unwrap()
            .protect_into(b"", b"frame", &mut out),
        Err(ProtectError::NoSendKey),
    );
}

fn table() -> Table {
    let mut t = Table::default();
    key_management_rows(&mut t);
    header_rows(&mut t);
    length_rows(&mut t);
    counter_rows(&mut t);
    replay_rows(&mut t);
    key_id_rows(&mut t);
    setup_rows(&mut t);
    codec::rows(&mut t);
    compat::rows(&mut t);
    session::rows(&mut t);
    agreement::rows(&mut t);
    t
}

#[test]
fn hostile_inputs_get_the_exact_error() {
    let t = table();
    let wrong: Vec<String> = t
        .rows
        .iter()
        .filter(|r| r.got != r.want)
        .map(|r| format!("{}: got {:?}, want {:?}", r.name, r.got, r.want))
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} rows wrong:\n{}",
        wrong.len(),
        t.rows.len(),
        wrong.join("\n")
    );
    let mut names = BTreeSet::new();
    let twice: Vec<&str> = t
        .rows
        .iter()
        .map(|r| r.name.as_str())
        .filter(|name| !names.insert(*name))
        .collect();
    assert!(twice.is_empty(), "row names are unique: {twice:?}");
    let mut per_variant = BTreeMap::<String, usize>::new();
    for row in &t.rows {
        let key = row.want.map_or_else(Error::variant, |()| "Ok".to_string());
        *per_variant.entry(key).or_default() += 1;
    }
    eprintln!("{} rows: {per_variant:#?}", t.rows.len());
}

/// The variants of `enum_name` as declared in `source`: the lines indented one level inside its
/// body that start with a capital letter.
fn declared_variants(source: &str, enum_name: &str) -> Vec<String> {
    let start = source
        .find(&format!("pub enum {enum_name} {{"))
        .unwrap_or_else(|| panic!("no declaration of {enum_name}"));
    let body = &source[start..];
    let body = &body[..body.find("\n}").unwrap()];
    body.lines()
        .skip(1)
        .filter_map(|line| {
            let rest = line.strip_prefix("    ")?;
            let first = rest.chars().next()?;
            first.is_ascii_uppercase().then(|| {
                let name: String = rest
                    .chars()
                    .take_while(char::is_ascii_alphanumeric)
                    .collect();
                format!("{enum_name}::{name}")
            })
        })
        .collect()
}

/// The enums the table must cover, and the file that declares each.
const ENUMS: &[(&str, &str)] = &[
    ("src/header.rs", "HeaderError"),
    ("src/encryptor.rs", "EncryptError"),
    ("src/decryptor.rs", "DecryptError"),
    ("src/secret.rs", "KeyError"),
    ("src/ratchet.rs", "RatchetError"),
    ("src/mls.rs", "MlsError"),
    ("src/session.rs", "SessionKeyError"),
    ("src/codec/error.rs", "CodecError"),
    ("src/codec/error.rs", "RangeMapError"),
    ("src/compat.rs", "TrailerError"),
    ("src/compat.rs", "CompatEncryptError"),
    ("src/compat.rs", "CompatDecryptError"),
    ("src/session.rs", "ProtectError"),
    ("src/session.rs", "UnprotectError"),
    ("src/agreement/mod.rs", "AgreementError"),
    ("src/agreement/mod.rs", "EnvelopeError"),
];

/// The receive errors: those with a W3C class.
const RECEIVE_ENUMS: &[&str] = &["DecryptError", "CompatDecryptError", "UnprotectError"];

/// The variants `enum_name` declares in its file (see [`ENUMS`]).
fn declared(enum_name: &str) -> Vec<String> {
    let (file, _) = ENUMS
        .iter()
        .find(|(_, name)| *name == enum_name)
        .unwrap_or_else(|| panic!("{enum_name} is not in ENUMS"));
    let path = format!("{}/{file}", env!("CARGO_MANIFEST_DIR"));
    let source = std::fs::read_to_string(path).unwrap();
    let variants = declared_variants(&source, enum_name);
    assert!(variants.len() >= 2, "parsed {enum_name}: {variants:?}");
    variants
}

#[test]
fn every_error_variant_has_a_row() {
    let mut declared_all = BTreeSet::new();
    for (_, enum_name) in ENUMS {
        if !cfg!(feature = "agreement") && ["AgreementError", "EnvelopeError"].contains(enum_name) {
            continue; // Their rows need the `agreement` feature.
        }
        declared_all.extend(declared(enum_name));
    }
    let t = table();
    let covered: BTreeSet<String> = t
        .rows
        .iter()
        .filter_map(|row| row.want.err())
        .flat_map(Error::variants)
        .collect();
    let unreachable: BTreeSet<String> = UNREACHABLE.iter().map(|(v, _)| (*v).to_string()).collect();
    let missing: Vec<&String> = declared_all
        .iter()
        .filter(|v| !covered.contains(*v) && !unreachable.contains(*v))
        .collect();
    assert!(
        missing.is_empty(),
        "error variants with no row in tests/malformed.rs: {missing:?}"
    );
    let stale: Vec<&String> = unreachable
        .iter()
        .filter(|v| covered.contains(*v) || (!declared_all.contains(*v) && !is_agreement(v)))
        .collect();
    assert!(
        stale.is_empty(),
        "UNREACHABLE lists variants that have rows or no longer exist: {stale:?}"
    );
}

fn is_agreement(variant: &str) -> bool {
    variant.starts_with("AgreementError::") || variant.starts_with("EnvelopeError::")
}

/// Every receive error a row produced is of the W3C class [`W3C_CLASS`] gives its variant, and
/// retryable exactly when that class is `keyID` (an unknown KID); `W3C_CLASS` names exactly the
/// declared receive variants, and every one of them is checked on at least one row.
#[test]
fn receive_errors_have_their_w3c_class() {
    assert_eq!(ErrorKind::Syntax.as_str(), "syntax");
    assert_eq!(ErrorKind::KeyId.as_str(), "keyID");
    assert_eq!(ErrorKind::Authentication.as_str(), "authentication");
    assert_eq!(
        ErrorKind::KeyId.to_string(),
        "keyID",
        "Display is the W3C string"
    );

    let declared_receive: BTreeSet<String> =
        RECEIVE_ENUMS.iter().flat_map(|e| declared(e)).collect();
    let classified: BTreeSet<String> = W3C_CLASS.iter().map(|(v, _)| (*v).to_string()).collect();
    assert_eq!(
        classified, declared_receive,
        "W3C_CLASS names exactly the declared receive error variants"
    );
    assert_eq!(
        classified.len(),
        W3C_CLASS.len(),
        "no variant twice in W3C_CLASS"
    );

    let t = table();
    let mut checked = BTreeMap::<String, usize>::new();
    let mut wrong = Vec::new();
    for row in &t.rows {
        let Err(e) = row.got else { continue };
        let Some((kind, retryable)) = e.receive_class() else {
            continue;
        };
        let variant = e.variant();
        let want = w3c_class(&variant);
        if kind.as_str() != want {
            wrong.push(format!("{}: {e:?} is {kind}, want {want}", row.name));
        }
        if retryable != (want == "keyID") {
            wrong.push(format!("{}: {e:?} is_retryable() = {retryable}", row.name));
        }
        *checked.entry(variant).or_default() += 1;
    }
    assert!(wrong.is_empty(), "wrong W3C classes:\n{}", wrong.join("\n"));
    let unchecked: Vec<&String> = classified
        .iter()
        .filter(|v| !checked.contains_key(*v))
        .collect();
    assert!(
        unchecked.is_empty(),
        "receive variants no row produced: {unchecked:?}"
    );
    eprintln!("W3C classes checked: {checked:#?}");
}

/// `UnprotectError::key_id` on every session row: the KID of the frame exactly when its header
/// was read, `None` otherwise, but for the variants of [`KID_NOT_REPORTED`] (each asserted to
/// still leave the KID out, on at least one row).
#[test]
fn unprotect_errors_carry_the_kid_once_the_header_was_read() {
    let t = table();
    let mut wrong = Vec::new();
    let mut gaps_seen = BTreeSet::new();
    let mut checked = BTreeSet::new();
    for row in &t.rows {
        let Some(SessionFrame { header_kid }) = row.session else {
            assert!(
                !matches!(row.want, Err(Error::Unprotect(_))),
                "{}: an UnprotectError row that is not a session row",
                row.name
            );
            continue;
        };
        let Err(Error::Unprotect(e)) = row.got else {
            continue;
        };
        let variant = Error::Unprotect(e).variant();
        checked.insert(variant.clone());
        let gap = KID_NOT_REPORTED.iter().any(|(v, _)| *v == variant);
        if gap && header_kid.is_some() {
            gaps_seen.insert(variant.clone());
            if e.key_id().is_some() {
                wrong.push(format!(
                    "{}: {e:?} now reports its KID: remove {variant} from KID_NOT_REPORTED",
                    row.name
                ));
            }
        } else if e.key_id() != header_kid {
            wrong.push(format!(
                "{}: {e:?}.key_id() = {:?}, the header says {header_kid:?}",
                row.name,
                e.key_id()
            ));
        }
    }
    assert!(wrong.is_empty(), "wrong KIDs:\n{}", wrong.join("\n"));
    let stale: Vec<&str> = KID_NOT_REPORTED
        .iter()
        .map(|(v, _)| *v)
        .filter(|v| !gaps_seen.contains(*v))
        .collect();
    assert!(
        stale.is_empty(),
        "KID_NOT_REPORTED lists variants no row shows without their KID: {stale:?}"
    );
    let all: BTreeSet<String> = declared("UnprotectError").into_iter().collect();
    assert_eq!(
        checked, all,
        "every UnprotectError variant's KID is checked"
    );
}

/// A wrapping variant covers what it wraps, however deep.
#[test]
fn wrapped_variants_are_covered() {
    let e = Error::Protect(ProtectError::CodecAware(CompatEncryptError::Encrypt(
        EncryptError::CounterExhausted,
    )));
    assert_eq!(
        e.variants(),
        [
            "ProtectError::CodecAware",
            "CompatEncryptError::Encrypt",
            "EncryptError::CounterExhausted"
        ]
    );
    let e = Error::Unprotect(UnprotectError::RangeMap(KeyId(1), RangeMapError::Truncated));
    assert_eq!(
        e.variants(),
        ["UnprotectError::RangeMap", "RangeMapError::Truncated"]
    );
    let e = Error::Unprotect(UnprotectError::Header(HeaderError::Truncated));
    assert_eq!(
        e.variants(),
        ["UnprotectError::Header", "HeaderError::Truncated"]
    );
    assert_eq!(
        Error::Unprotect(UnprotectError::Replay(KeyId(1))).variants(),
        ["UnprotectError::Replay"]
    );
    assert_eq!(Error::Mls(MlsError::Bits).variants(), ["MlsError::Bits"]);
    assert_eq!(
        Error::SessionKey(SessionKeyError::Ratchet(RatchetError::Bits)).variants(),
        ["SessionKeyError::Ratchet", "RatchetError::Bits"]
    );
}

/// The parser behind `every_error_variant_has_a_row` finds unit, struct and tuple variants
/// past doc comments and attributes.
#[test]
fn declared_variants_reads_every_shape() {
    let source = "pub enum DemoError {\n    /// doc\n    #[error(\"a\")]\n    First,\n    Second {\n        needed: usize,\n    },\n    Third(u16),\n}\n";
    assert_eq!(
        declared_variants(source, "DemoError"),
        ["DemoError::First", "DemoError::Second", "DemoError::Third"]
    );
}
