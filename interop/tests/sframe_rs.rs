//! Against sframe-rs (the `sframe` crate), the other Rust SFrame library, through both its
//! ring backend (2.1, suites 4 and 5: ring has no AES-CTR) and its RustCrypto backend (1.4.3,
//! suites 1–5; the backends are mutually exclusive features, so one release of each is built,
//! see `src/manual/interop.md`). Frames sealed by one open in the other, both directions; the
//! same inputs give the same bytes. sframe-rs has no suites 6–8.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

mod common;
#[path = "common/hostile.rs"]
mod hostile;

use common::{Frame, flipped, frame};
use proptest::prelude::*;
use secure_frame::{BaseKey, CipherSuite, Counter, DecryptError, Decryptor, Encryptor, KeyId};

fn ours_seal(suite: CipherSuite, f: &Frame) -> Vec<u8> {
    let mut e = Encryptor::new(suite, KeyId(f.kid), &BaseKey::new(&f.base_key).unwrap());
    e.advance_counter_to(Counter(f.ctr)).unwrap();
    e.encrypt_to_vec(&f.metadata, &f.plaintext).unwrap()
}

fn ours_open(suite: CipherSuite, f: &Frame, frame: &[u8]) -> Result<Vec<u8>, DecryptError> {
    let mut d = Decryptor::new(suite);
    d.add_key(KeyId(f.kid), &BaseKey::new(&f.base_key).unwrap())
        .unwrap();
    d.decrypt_to_vec(&f.metadata, frame)
}

/// sframe-rs 2.1 with ring.
mod ring {
    use super::Frame;
    use secure_frame::CipherSuite;
    use sframe::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
    use sframe::key::{DecryptionKey, EncryptionKey};

    pub(crate) fn suite(suite: CipherSuite) -> Option<sframe::CipherSuite> {
        match suite.id() {
            4 => Some(sframe::CipherSuite::AesGcm128Sha256),
            5 => Some(sframe::CipherSuite::AesGcm256Sha512),
            _ => None,
        }
    }

    pub(crate) fn seal(
        suite: sframe::CipherSuite,
        f: &Frame,
    ) -> Result<Vec<u8>, sframe::error::SframeError> {
        let key = EncryptionKey::derive_from(suite, f.kid, &f.base_key)?;
        let mut counter = MonotonicCounter::with_start_value(f.ctr, u64::MAX);
        let media = MediaFrameView::try_with_meta_data(&mut counter, &f.plaintext, &f.metadata)?;
        Ok(media.encrypt(&key)?.sframe_cipher_text().to_vec())
    }

    pub(crate) fn open(
        suite: sframe::CipherSuite,
        kid: u64,
        base_key: &[u8],
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<Vec<u8>, sframe::error::SframeError> {
        let key = DecryptionKey::derive_from(suite, kid, base_key)?;
        let view = EncryptedFrameView::try_with_meta_data(frame, metadata)?;
        Ok(view.decrypt(&key)?.payload().to_vec())
    }
}

/// sframe-rs 1.4.3 with RustCrypto.
mod rust_crypto {
    use super::Frame;
    use secure_frame::CipherSuite;
    use sframe_rust_crypto::frame::{EncryptedFrameView, MediaFrameView, MonotonicCounter};
    use sframe_rust_crypto::key::{DecryptionKey, EncryptionKey};

    pub(crate) fn suite(suite: CipherSuite) -> Option<sframe_rust_crypto::CipherSuite> {
        use sframe_rust_crypto::CipherSuite as S;
        Some(match suite.id() {
            1 => S::AesCtr128HmacSha256_80,
            2 => S::AesCtr128HmacSha256_64,
            3 => S::AesCtr128HmacSha256_32,
            4 => S::AesGcm128Sha256,
            5 => S::AesGcm256Sha512,
            _ => return None,
        })
    }

    pub(crate) fn seal(
        suite: sframe_rust_crypto::CipherSuite,
        f: &Frame,
    ) -> Result<Vec<u8>, sframe_rust_crypto::error::SframeError> {
        let key = EncryptionKey::derive_from(suite, f.kid, &f.base_key)?;
        let mut counter = MonotonicCounter::with_start_value(f.ctr, u64::MAX);
        let media = MediaFrameView::with_meta_data(&mut counter, &f.plaintext, &f.metadata);
        let encrypted = media.encrypt(&key)?;
        // 1.4's frame buffer is `metadata || SFrame ciphertext`.
        Ok(encrypted.as_ref()[f.metadata.len()..].to_vec())
    }

    pub(crate) fn open(
        suite: sframe_rust_crypto::CipherSuite,
        kid: u64,
        base_key: &[u8],
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<Vec<u8>, sframe_rust_crypto::error::SframeError> {
        let key = DecryptionKey::derive_from(suite, kid, base_key)?;
        let view = EncryptedFrameView::try_with_meta_data(frame, metadata)?;
        Ok(view.decrypt(&key)?.payload().to_vec())
    }
}

proptest! {
    #![proptest_config(common::config())]

    /// Ours → sframe-rs (ring, suites 4–5).
    #[test]
    fn ours_to_ring(f in frame()) {
        for &suite in CipherSuite::ALL {
            let Some(theirs) = ring::suite(suite) else { continue };
            let sealed = ours_seal(suite, &f);
            let opened = ring::open(theirs, f.kid, &f.base_key, &f.metadata, &sealed);
            prop_assert_eq!(opened.ok(), Some(f.plaintext.clone()), "{}", suite);
            let tampered = flipped(&sealed, f.flip);
            prop_assert!(ring::open(theirs, f.kid, &f.base_key, &f.metadata, &tampered).is_err());
        }
    }

    /// sframe-rs (ring, suites 4–5) → ours, and the same bytes.
    #[test]
    fn ring_to_ours(f in frame()) {
        for &suite in CipherSuite::ALL {
            let Some(theirs) = ring::suite(suite) else { continue };
            let sealed = ring::seal(theirs, &f).unwrap();
            prop_assert_eq!(ours_open(suite, &f, &sealed), Ok(f.plaintext.clone()), "{}", suite);
            prop_assert!(sealed == ours_seal(suite, &f), "{}: not the same bytes", suite);
            prop_assert!(ours_open(suite, &f, &flipped(&sealed, f.flip)).is_err());
        }
    }

    /// Ours → sframe-rs (RustCrypto, suites 1–5), without metadata: 1.4 authenticates
    /// metadata in the wrong place (`rust_crypto_1_4_authenticates_metadata_first`).
    #[test]
    fn ours_to_rust_crypto(f in frame()) {
        let f = Frame { metadata: Vec::new(), ..f };
        for &suite in CipherSuite::ALL {
            let Some(theirs) = rust_crypto::suite(suite) else { continue };
            let sealed = ours_seal(suite, &f);
            let opened = rust_crypto::open(theirs, f.kid, &f.base_key, &f.metadata, &sealed);
            prop_assert_eq!(opened.ok(), Some(f.plaintext.clone()), "{}", suite);
            let tampered = flipped(&sealed, f.flip);
            prop_assert!(
                rust_crypto::open(theirs, f.kid, &f.base_key, &f.metadata, &tampered).is_err()
            );
        }
    }

    /// sframe-rs (RustCrypto, suites 1–5) → ours, and the same bytes; without metadata, as
    /// above.
    #[test]
    fn rust_crypto_to_ours(f in frame()) {
        let f = Frame { metadata: Vec::new(), ..f };
        for &suite in CipherSuite::ALL {
            let Some(theirs) = rust_crypto::suite(suite) else { continue };
            let sealed = rust_crypto::seal(theirs, &f).unwrap();
            prop_assert_eq!(ours_open(suite, &f, &sealed), Ok(f.plaintext.clone()), "{}", suite);
            prop_assert!(sealed == ours_seal(suite, &f), "{}: not the same bytes", suite);
            prop_assert!(ours_open(suite, &f, &flipped(&sealed, f.flip)).is_err());
        }
    }
}

/// The hostile rows, ours and both sframe-rs backends side by side.
#[test]
fn hostile_inputs_side_by_side() {
    let mut wrong = Vec::new();
    for row in hostile::rows() {
        let ours = hostile::ours(&row);
        let ring = match ring::open(
            ring::suite(hostile::SUITE).unwrap(),
            row.key_kid,
            &hostile::BASE_KEY,
            &row.metadata,
            &row.frame,
        ) {
            Ok(_) => "ok".to_string(),
            Err(e) => hostile::variant(&e),
        };
        let rust_crypto = match rust_crypto::open(
            rust_crypto::suite(hostile::SUITE).unwrap(),
            row.key_kid,
            &hostile::BASE_KEY,
            &row.metadata,
            &row.frame,
        ) {
            Ok(_) => "ok".to_string(),
            Err(e) => hostile::variant(&e),
        };
        println!(
            "| {} | {ours} | {} | {ring} | {rust_crypto} |",
            row.name, row.cisco
        );
        if ours != row.ours || ring != row.sframe_ring || rust_crypto != row.sframe_rust_crypto {
            wrong.push(format!(
                "{}: ours {ours} (want {}), ring {ring} (want {}), rust-crypto {rust_crypto} \
                 (want {})",
                row.name, row.ours, row.sframe_ring, row.sframe_rust_crypto
            ));
        }
    }
    assert!(wrong.is_empty(), "rows that changed:\n{}", wrong.join("\n"));
}

/// sframe-rs 1.4 (the release with the RustCrypto backend here) authenticates
/// `metadata || header`; RFC 9605 §4.4.3 says `aad = header + metadata`, and ours, cisco and
/// sframe-rs 2.1 do that. So a frame with metadata fails between 1.4 and everyone else, both
/// ways, in every suite, and a frame sealed with the swapped AAD opens in 1.4 only. Fixed
/// upstream in 2.1 ("Authenticate the header before the meta data", sframe-rs #124).
#[test]
fn rust_crypto_1_4_authenticates_metadata_first() {
    use secure_frame::hazmat::{RawAead, derive_key_salt};
    let base_key = [5u8; 16];
    let metadata = b"metadata".as_slice();
    for &suite in CipherSuite::ALL {
        let Some(theirs) = rust_crypto::suite(suite) else {
            continue;
        };
        let f = Frame {
            kid: 0x1234,
            ctr: 0x5678,
            base_key: base_key.to_vec(),
            metadata: metadata.to_vec(),
            plaintext: b"payload".to_vec(),
            flip: 0,
        };
        let ours = ours_seal(suite, &f);
        assert!(rust_crypto::open(theirs, f.kid, &base_key, metadata, &ours).is_err());
        let their_frame = rust_crypto::seal(theirs, &f).unwrap();
        assert_eq!(
            ours_open(suite, &f, &their_frame),
            Err(DecryptError::Authentication),
            "{suite}"
        );

        // The same frame, sealed over `metadata || header`: 1.4 opens it, and it is 1.4's.
        let header = &ours[..5];
        let (_, key, salt) =
            derive_key_salt(suite, KeyId(f.kid), &BaseKey::new(&base_key).unwrap());
        let aead = RawAead::new(suite, key.expose_secret()).unwrap();
        let mut body = f.plaintext.clone();
        let mut tag = vec![0; suite.tag_len()];
        aead.seal(
            &salt.nonce(f.ctr),
            &[metadata, header].concat(),
            &mut body,
            &mut tag,
        )
        .unwrap();
        let swapped = [header, &body, &tag].concat();
        assert_eq!(swapped, their_frame, "{suite}");
        assert_eq!(
            rust_crypto::open(theirs, f.kid, &base_key, metadata, &swapped).unwrap(),
            f.plaintext
        );
    }
}

/// RFC 9605 §5.2 with sframe-rs 2.1 (ring, suites 4–5): its `MlsKeyId` packs the KIDs ours
/// packs, its `derive_from_mls` asks the exporter for what our `epoch_base_key` asks for, and
/// the frames are the same bytes both ways; a frame of its member opens in our
/// `MlsEpochStore`. Unlike cisco's `MLSContext`, no extra per-sender step.
#[test]
fn mls_agrees_with_ring() {
    use secure_frame::mls::{MlsEpochStore, MlsKeyId, MlsKidLayout, epoch_base_key};
    use sframe::frame::{MediaFrameView, MonotonicCounter};
    use sframe::key::EncryptionKey;
    use sframe::mls::{MlsKeyId as TheirKeyId, MlsKeyIdBitRange};

    /// One fake exporter, for both libraries: the label, context and length go into the
    /// secret, so both must ask for the same thing to get the same key.
    struct Exporter;
    fn export(label: &str, context: &[u8], len: usize) -> Vec<u8> {
        let seed: Vec<u8> = [label.as_bytes(), context].concat();
        (0..len)
            .map(|i| {
                seed[i % seed.len()] ^ u8::try_from(i % 256).unwrap() ^ u8::try_from(len).unwrap()
            })
            .collect()
    }
    impl secure_frame::mls::MlsExporter for Exporter {
        type Error = core::convert::Infallible;
        fn export(&self, label: &str, context: &[u8], out: &mut [u8]) -> Result<(), Self::Error> {
            out.copy_from_slice(&export(label, context, out.len()));
            Ok(())
        }
    }
    impl sframe::mls::MlsExporter for Exporter {
        type BaseKey = Vec<u8>;
        type Error = core::convert::Infallible;
        fn export_secret(
            &self,
            label: &str,
            context: &[u8],
            key_length: usize,
        ) -> Result<Vec<u8>, Self::Error> {
            Ok(export(label, context, key_length))
        }
    }

    let mut checked = 0;
    for &suite in CipherSuite::ALL {
        let Some(theirs) = ring::suite(suite) else {
            continue;
        };
        for (e, s) in [(1u8, 1u8), (4, 6), (8, 8), (16, 20)] {
            for (epoch, sender, context) in
                [(0u64, 0u32, 0u64), (5, 1, 0), (1000, 3, 2), (17, 0, 9)]
            {
                let sender = sender.min((1 << s) - 1);
                let layout = MlsKidLayout::new(e, s).unwrap();
                let ours_kid = MlsKeyId {
                    context,
                    sender_index: sender,
                    epoch,
                }
                .to_key_id(layout)
                .unwrap();
                let their_kid = TheirKeyId::try_new(
                    context,
                    epoch,
                    u64::from(sender),
                    MlsKeyIdBitRange::new(e, s),
                )
                .unwrap();
                assert_eq!(u64::from(their_kid), ours_kid.0, "E {e} S {s}");

                let their_key =
                    EncryptionKey::derive_from_mls(theirs, &Exporter, their_kid).unwrap();
                let mut counter = MonotonicCounter::with_start_value(0, u64::MAX);
                let their_frame = MediaFrameView::try_with_meta_data(&mut counter, b"mls", b"md")
                    .unwrap()
                    .encrypt(&their_key)
                    .unwrap()
                    .sframe_cipher_text()
                    .to_vec();
                let base_key = epoch_base_key(&Exporter, suite).unwrap();
                let our_frame = Encryptor::new(suite, ours_kid, &base_key)
                    .encrypt_to_vec(b"md", b"mls")
                    .unwrap();
                assert_eq!(their_frame, our_frame, "{suite} E {e} S {s}");

                if context == 0 {
                    let mut store = MlsEpochStore::new(suite, e).unwrap();
                    store.install_epoch(epoch, 1 << s, None, base_key).unwrap();
                    let mut copy = their_frame.clone();
                    let opened = store.decrypt_in_place(b"md", &mut copy).unwrap();
                    assert_eq!(&*opened.plaintext, b"mls");
                    assert_eq!(opened.sender.sender_index, sender);
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 32);
}
