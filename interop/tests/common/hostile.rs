//! The hostile inputs fed side by side to ours, cisco/sframe and sframe-rs (the rows of
//! `tests/malformed.rs` that a peer can see: header, length and metadata), with what each
//! implementation does. `src/manual/interop.md` is this table in prose; a row that changes
//! fails the tests of both peers.
//!
//! Every frame is for suite 4 (`AES_128_GCM_SHA256_128`), the one suite all four have (the ring
//! backend of sframe-rs has no AES-CTR). A frame with a non-minimal header is sealed over the
//! non-minimal header bytes (`hazmat`), as a sender that encoded it so would: an
//! implementation that parses it and authenticates the bytes received opens it.
#![allow(dead_code, reason = "each test file uses a part")]

use secure_frame::hazmat::{RawAead, derive_key_salt};
use secure_frame::{BaseKey, CipherSuite, Counter, DecryptError, Decryptor, Encryptor, KeyId};

pub(crate) const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;
pub(crate) const BASE_KEY: [u8; 16] = [0x11; 16];

/// One hostile input: the frame, its metadata, the KID whose key the receiver holds, and what
/// each implementation does with it.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    pub(crate) name: &'static str,
    pub(crate) frame: Vec<u8>,
    pub(crate) metadata: Vec<u8>,
    pub(crate) key_kid: u64,
    /// What ours returns: `ok` or the `DecryptError` variant.
    pub(crate) ours: &'static str,
    /// What cisco/sframe returns: `ok` or its `SFrameErrorType`.
    pub(crate) cisco: &'static str,
    /// What sframe-rs 2.1 (ring) returns: `ok` or its `SframeError` variant.
    pub(crate) sframe_ring: &'static str,
    /// What sframe-rs 1.4.3 (RustCrypto) returns.
    pub(crate) sframe_rust_crypto: &'static str,
}

/// A frame sealed by us.
pub(crate) fn sealed(kid: u64, ctr: u64, metadata: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut e = Encryptor::new(SUITE, KeyId(kid), &BaseKey::new(&BASE_KEY).unwrap());
    e.advance_counter_to(Counter(ctr)).unwrap();
    e.encrypt_to_vec(metadata, plaintext).unwrap()
}

/// A frame sealed under any header bytes: the AEAD of RFC 9605 §4.4.3 with `aad = header ||
/// metadata`, whatever `header` is.
pub(crate) fn sealed_raw(
    kid: u64,
    ctr: u64,
    header: &[u8],
    metadata: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let (_, key, salt) = derive_key_salt(SUITE, KeyId(kid), &BaseKey::new(&BASE_KEY).unwrap());
    let aead = RawAead::new(SUITE, key.expose_secret()).unwrap();
    let header_and_metadata = [header, metadata].concat();
    let mut body = plaintext.to_vec();
    let mut tag = vec![0; SUITE.tag_len()];
    aead.seal(&salt.nonce(ctr), &header_and_metadata, &mut body, &mut tag)
        .unwrap();
    [header, &body, &tag].concat()
}

/// What ours does with a row.
pub(crate) fn ours(row: &Row) -> String {
    let mut d = Decryptor::new(SUITE);
    d.add_key(KeyId(row.key_kid), &BaseKey::new(&BASE_KEY).unwrap())
        .unwrap();
    match d.decrypt_to_vec(&row.metadata, &row.frame) {
        Ok(_) => "ok".into(),
        Err(DecryptError::Header(e)) => format!("Header({e:?})"),
        Err(e) => variant(&e),
    }
}

/// `Variant` of an error's `Debug` text.
pub(crate) fn variant(e: &impl core::fmt::Debug) -> String {
    let debug = format!("{e:?}");
    debug
        .split(['(', ' ', '{'])
        .next()
        .unwrap_or_default()
        .to_string()
}

#[expect(clippy::too_many_lines, reason = "a table")]
pub(crate) fn rows() -> Vec<Row> {
    let genuine = sealed(0x1234, 0x5678, b"md", b"payload");
    let header_len = 5;
    let nt = SUITE.tag_len();
    let mut tag_only = vec![0x73];
    tag_only.resize(1 + nt, 0);
    let md_513 = vec![0x6d; 513];
    let md_1025 = vec![0x6d; 1025];
    let row = |name, frame: Vec<u8>, metadata: &[u8], key_kid, expected: [&'static str; 4]| Row {
        name,
        frame,
        metadata: metadata.to_vec(),
        key_kid,
        ours: expected[0],
        cisco: expected[1],
        sframe_ring: expected[2],
        sframe_rust_crypto: expected[3],
    };
    vec![
        row(
            "genuine frame (control)",
            sealed(0x1234, 0x5678, b"", b"payload"),
            b"",
            0x1234,
            ["ok", "ok", "ok", "ok"],
        ),
        // sframe-rs before 2.1 authenticates `metadata || header`, not RFC 9605 §4.4.3's
        // `header || metadata` (fixed in 2.1, sframe-rs #124): every frame with metadata fails.
        row(
            "genuine frame with 2 bytes of metadata",
            genuine.clone(),
            b"md",
            0x1234,
            ["ok", "ok", "ok", "DecryptionFailure"],
        ),
        row(
            "genuine frame, empty plaintext (header + tag)",
            sealed(7, 3, b"", b""),
            b"",
            7,
            ["ok", "ok", "ok", "ok"],
        ),
        row(
            "tag-only frame, zero tag",
            tag_only,
            b"",
            7,
            [
                "Authentication",
                "Authentication",
                "DecryptionFailure",
                "DecryptionFailure",
            ],
        ),
        row(
            "KID 7 in extended form (80 07), sealed over it",
            sealed_raw(7, 0, &[0x80, 0x07], b"", b"payload"),
            b"",
            7,
            ["Header(NonMinimalKeyId)", "ok", "ok", "ok"],
        ),
        row(
            "KID 0 in extended form (80 00), sealed over it",
            sealed_raw(0, 0, &[0x80, 0x00], b"", b"payload"),
            b"",
            0,
            ["Header(NonMinimalKeyId)", "InvalidParameter", "ok", "ok"],
        ),
        row(
            "KID 8 with a leading zero byte (90 00 08), sealed over it",
            sealed_raw(8, 0, &[0x90, 0x00, 0x08], b"", b"payload"),
            b"",
            8,
            ["Header(NonMinimalKeyId)", "InvalidParameter", "ok", "ok"],
        ),
        row(
            "KID 0x1234 in 8 bytes (f0 00..12 34), sealed over it",
            sealed_raw(
                0x1234,
                0,
                &[0xf0, 0, 0, 0, 0, 0, 0, 0x12, 0x34],
                b"",
                b"payload",
            ),
            b"",
            0x1234,
            ["Header(NonMinimalKeyId)", "InvalidParameter", "ok", "ok"],
        ),
        row(
            "CTR 5 in extended form (18 05), sealed over it",
            sealed_raw(1, 5, &[0x18, 0x05], b"", b"payload"),
            b"",
            1,
            ["Header(NonMinimalCounter)", "ok", "ok", "ok"],
        ),
        row(
            "CTR 0xff with a leading zero byte (19 00 ff), sealed over it",
            sealed_raw(1, 0xff, &[0x19, 0x00, 0xff], b"", b"payload"),
            b"",
            1,
            ["Header(NonMinimalCounter)", "InvalidParameter", "ok", "ok"],
        ),
        row(
            "empty frame",
            vec![],
            b"",
            0,
            [
                "Header(Truncated)",
                "BufferTooSmall",
                "InvalidBuffer",
                "InvalidBuffer",
            ],
        ),
        row(
            "1 byte: KID announced, absent (80)",
            vec![0x80],
            b"",
            0,
            [
                "Header(Truncated)",
                "BufferTooSmall",
                "InvalidBuffer",
                "InvalidBuffer",
            ],
        ),
        row(
            "1 byte: CTR announced, absent (08)",
            vec![0x08],
            b"",
            0,
            [
                "Header(Truncated)",
                "BufferTooSmall",
                "InvalidBuffer",
                "InvalidBuffer",
            ],
        ),
        row(
            "KID of 8 bytes cut to 7",
            [&[0xf0][..], &[0xff; 7]].concat(),
            b"",
            0,
            [
                "Header(Truncated)",
                "BufferTooSmall",
                "InvalidBuffer",
                "InvalidBuffer",
            ],
        ),
        row(
            "header only",
            genuine[..header_len].to_vec(),
            b"md",
            0x1234,
            [
                "TooShort",
                "BufferTooSmall",
                "DecryptionFailure",
                "DecryptionFailure",
            ],
        ),
        row(
            "one byte shorter than header + tag",
            genuine[..header_len + nt - 1].to_vec(),
            b"md",
            0x1234,
            [
                "TooShort",
                "BufferTooSmall",
                "DecryptionFailure",
                "DecryptionFailure",
            ],
        ),
        row(
            "frame cut by one byte",
            genuine[..genuine.len() - 1].to_vec(),
            b"md",
            0x1234,
            [
                "Authentication",
                "Authentication",
                "DecryptionFailure",
                "DecryptionFailure",
            ],
        ),
        row(
            "one byte appended",
            [&genuine[..], &[0]].concat(),
            b"md",
            0x1234,
            [
                "Authentication",
                "Authentication",
                "DecryptionFailure",
                "DecryptionFailure",
            ],
        ),
        row(
            "wrong metadata",
            genuine.clone(),
            b"mx",
            0x1234,
            [
                "Authentication",
                "Authentication",
                "DecryptionFailure",
                "DecryptionFailure",
            ],
        ),
        row(
            "unknown KID",
            genuine,
            b"md",
            0x99,
            [
                "UnknownKeyId",
                "InvalidParameter",
                "MissingDecryptionKey",
                "MissingDecryptionKey",
            ],
        ),
        row(
            "metadata of 513 bytes (over cisco's 512)",
            sealed(0x1234, 1, &md_513, b"payload"),
            &md_513,
            0x1234,
            ["ok", "BufferTooSmall", "ok", "DecryptionFailure"],
        ),
        row(
            "metadata of 1025 bytes (over our 1024), sealed raw",
            sealed_raw(0x1234, 1, &[0x91, 0x12, 0x34], &md_1025, b"payload"),
            &md_1025,
            0x1234,
            [
                "MetadataTooLong",
                "BufferTooSmall",
                "ok",
                "DecryptionFailure",
            ],
        ),
    ]
}
