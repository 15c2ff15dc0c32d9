//! Per-frame cost of secure-frame, with the raw AEAD doing the same work as the reference row of
//! every group, and the `sframe` crate (2.x, ring backend) beside it, all in one run.
//!
//! `cargo bench --bench sframe --features hazmat` measures the ring provider (the default);
//! `--features hazmat,aws-lc` the aws-lc-rs provider against raw aws-lc-rs (raw ring beside it;
//! for the CTR+HMAC suites, raw AWS-LC beside raw RustCrypto), and
//! `--no-default-features --features alloc,std,hazmat,fips` the FIPS module the same way;
//! `cargo bench --bench sframe --no-default-features --features alloc,hazmat` measures the
//! pure-Rust provider against raw `aes-gcm`. BENCHMARKS.md has the figures and how to read them.

#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::missing_panics_doc,
    clippy::missing_docs_in_private_items,
    missing_docs,
    unreachable_pub,
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    clippy::large_enum_variant,
    reason = "benchmark code"
)]

#[path = "common/batch.rs"]
mod batch;

use std::hint::black_box;

use batch::batch;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use secure_frame::BaseKey;
use secure_frame::hazmat::derive_key_salt;
use secure_frame::{
    CipherSuite, Counter, Decryptor, Encryptor, FrameView, Header, KeyId, ReceiveKey,
};

/// Media, not powers of two: an audio frame, a small and a typical video packet-sized frame, a
/// video delta frame, a keyframe.
const SIZES: [usize; 5] = [32, 160, 1200, 16 * 1024, 256 * 1024];
const BASE_KEY: &[u8] = b"benchmark base key";
const KID: KeyId = KeyId(500);

/// The raw AEAD of a suite, built once like ours, sealing and opening with a header as AAD.
mod raw {
    use aes::cipher::{InnerIvInit, KeyInit, StreamCipher};
    use hmac::{Hmac, Mac};
    use secure_frame::CipherSuite;

    pub enum Raw {
        #[cfg(any(feature = "aws-lc", feature = "fips"))]
        GcmAwsLc(aws_lc_rs::aead::LessSafeKey),
        #[cfg(all(feature = "ring", not(any(feature = "aws-lc", feature = "fips"))))]
        Gcm(ring::aead::LessSafeKey),
        #[cfg(not(any(feature = "ring", feature = "aws-lc", feature = "fips")))]
        Gcm128(aes_gcm::Aes128Gcm),
        #[cfg(not(any(feature = "ring", feature = "aws-lc", feature = "fips")))]
        Gcm256(aes_gcm::Aes256Gcm),
        CtrHmac(aes::Aes128, Hmac<sha2::Sha256>, usize),
        CtrHmac256(aes::Aes256, Hmac<sha2::Sha512>, usize),
    }

    /// AES-CTR with a 32-bit big-endian block counter from `nonce ‖ 0` (RFC 9605 §4.5.1).
    macro_rules! ctr {
        ($aes:expr, $cipher:ty, $nonce:expr, $buf:expr) => {{
            let mut iv = aes::Block::default();
            iv[..12].copy_from_slice($nonce);
            let core = ctr::CtrCore::<&$cipher, ctr::flavors::Ctr32BE>::inner_iv_init($aes, &iv);
            ctr::Ctr32BE::from_core(core).apply_keystream($buf);
        }};
    }

    /// The tag input of RFC 9605 §4.5.1: lengths, nonce, AAD, ciphertext.
    macro_rules! mac {
        ($h:expr, $nt:expr, $nonce:expr, $aad:expr, $ct:expr) => {{
            let mut m = $h.clone();
            m.update(&($aad.len() as u64).to_be_bytes());
            m.update(&($ct.len() as u64).to_be_bytes());
            m.update(&($nt as u64).to_be_bytes());
            m.update($nonce);
            m.update($aad);
            m.update($ct);
            m.finalize().into_bytes()
        }};
    }

    impl Raw {
        pub fn new(suite: CipherSuite, key: &[u8]) -> Self {
            match suite {
                CipherSuite::AesGcm128Sha256 | CipherSuite::AesGcm256Sha512 => {
                    #[cfg(any(feature = "aws-lc", feature = "fips"))]
                    {
                        let alg = if key.len() == 32 {
                            &aws_lc_rs::aead::AES_256_GCM
                        } else {
                            &aws_lc_rs::aead::AES_128_GCM
                        };
                        Self::GcmAwsLc(aws_lc_rs::aead::LessSafeKey::new(
                            aws_lc_rs::aead::UnboundKey::new(alg, key).unwrap(),
                        ))
                    }
                    #[cfg(all(feature = "ring", not(any(feature = "aws-lc", feature = "fips"))))]
                    {
                        let alg = if key.len() == 32 {
                            &ring::aead::AES_256_GCM
                        } else {
                            &ring::aead::AES_128_GCM
                        };
                        Self::Gcm(ring::aead::LessSafeKey::new(
                            ring::aead::UnboundKey::new(alg, key).unwrap(),
                        ))
                    }
                    #[cfg(not(any(feature = "ring", feature = "aws-lc", feature = "fips")))]
                    {
                        if key.len() == 32 {
                            Self::Gcm256(aes_gcm::Aes256Gcm::new_from_slice(key).unwrap())
                        } else {
                            Self::Gcm128(aes_gcm::Aes128Gcm::new_from_slice(key).unwrap())
                        }
                    }
                }
                CipherSuite::AesCtr256HmacSha512_80
                | CipherSuite::AesCtr256HmacSha512_64
                | CipherSuite::AesCtr256HmacSha512_32 => Self::CtrHmac256(
                    aes::Aes256::new_from_slice(&key[..32]).unwrap(),
                    <Hmac<sha2::Sha512> as KeyInit>::new_from_slice(&key[32..]).unwrap(),
                    suite.tag_len(),
                ),
                _ => Self::CtrHmac(
                    aes::Aes128::new_from_slice(&key[..16]).unwrap(),
                    <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&key[16..]).unwrap(),
                    suite.tag_len(),
                ),
            }
        }

        pub fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) {
            match self {
                #[cfg(any(feature = "aws-lc", feature = "fips"))]
                // `seal_in_place_scatter`, the cheaper of aws-lc-rs's in-place seals for a
                // separate tag (it writes the tag where it goes): the library's call.
                Self::GcmAwsLc(k) => k
                    .seal_in_place_scatter(
                        aws_lc_rs::aead::Nonce::assume_unique_for_key(*nonce),
                        aws_lc_rs::aead::Aad::from(aad),
                        buf,
                        &[],
                        tag,
                    )
                    .unwrap(),
                #[cfg(all(feature = "ring", not(any(feature = "aws-lc", feature = "fips"))))]
                Self::Gcm(k) => {
                    let t = k
                        .seal_in_place_separate_tag(
                            ring::aead::Nonce::assume_unique_for_key(*nonce),
                            ring::aead::Aad::from(aad),
                            buf,
                        )
                        .unwrap();
                    tag.copy_from_slice(t.as_ref());
                }
                #[cfg(not(any(feature = "ring", feature = "aws-lc", feature = "fips")))]
                Self::Gcm128(k) => {
                    use aes_gcm::aead::AeadInOut;
                    let t = k
                        .encrypt_inout_detached(&(*nonce).into(), aad, buf.into())
                        .unwrap();
                    tag.copy_from_slice(&t);
                }
                #[cfg(not(any(feature = "ring", feature = "aws-lc", feature = "fips")))]
                Self::Gcm256(k) => {
                    use aes_gcm::aead::AeadInOut;
                    let t = k
                        .encrypt_inout_detached(&(*nonce).into(), aad, buf.into())
                        .unwrap();
                    tag.copy_from_slice(&t);
                }
                Self::CtrHmac(aes, h, nt) => {
                    ctr!(aes, aes::Aes128, nonce, buf);
                    tag.copy_from_slice(&mac!(h, *nt, nonce, aad, buf)[..*nt]);
                }
                Self::CtrHmac256(aes, h, nt) => {
                    ctr!(aes, aes::Aes256, nonce, buf);
                    tag.copy_from_slice(&mac!(h, *nt, nonce, aad, buf)[..*nt]);
                }
            }
        }

        pub fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
            match self {
                #[cfg(any(feature = "aws-lc", feature = "fips"))]
                Self::GcmAwsLc(k) => k
                    .open_in_place_separate_tag(
                        aws_lc_rs::aead::Nonce::assume_unique_for_key(*nonce),
                        aws_lc_rs::aead::Aad::from(aad),
                        tag,
                        buf,
                    )
                    .is_ok(),
                #[cfg(all(feature = "ring", not(any(feature = "aws-lc", feature = "fips"))))]
                Self::Gcm(k) => k
                    .open_in_place_separate_tag(
                        ring::aead::Nonce::assume_unique_for_key(*nonce),
                        ring::aead::Aad::from(aad),
                        ring::aead::Tag::try_from(tag).unwrap(),
                        buf,
                        0..,
                    )
                    .is_ok(),
                #[cfg(not(any(feature = "ring", feature = "aws-lc", feature = "fips")))]
                Self::Gcm128(k) => {
                    use aes_gcm::aead::AeadInOut;
                    let tag = aes_gcm::Tag::try_from(tag).unwrap();
                    k.decrypt_inout_detached(&(*nonce).into(), aad, buf.into(), &tag)
                        .is_ok()
                }
                #[cfg(not(any(feature = "ring", feature = "aws-lc", feature = "fips")))]
                Self::Gcm256(k) => {
                    use aes_gcm::aead::AeadInOut;
                    let tag = aes_gcm::Tag::try_from(tag).unwrap();
                    k.decrypt_inout_detached(&(*nonce).into(), aad, buf.into(), &tag)
                        .is_ok()
                }
                Self::CtrHmac(aes, h, nt) => {
                    let ok = mac!(h, *nt, nonce, aad, buf)[..*nt] == *tag;
                    if ok {
                        ctr!(aes, aes::Aes128, nonce, buf);
                    }
                    ok
                }
                Self::CtrHmac256(aes, h, nt) => {
                    let ok = mac!(h, *nt, nonce, aad, buf)[..*nt] == *tag;
                    if ok {
                        ctr!(aes, aes::Aes256, nonce, buf);
                    }
                    ok
                }
            }
        }
    }
}

/// AWS-LC's AES-CTR and HMAC doing RFC 9605 §4.5.1 for a CTR+HMAC suite: the reference row
/// that decides whether the `aws-lc` feature routes those suites through AWS-LC (it does only
/// with `fips`; BENCHMARKS.md has the figures).
#[cfg(any(feature = "aws-lc", feature = "fips"))]
mod raw_aws_lc {
    use aws_lc_rs::cipher::{AES_128, AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
    use aws_lc_rs::hmac;
    use aws_lc_rs::iv::FixedLength;
    use secure_frame::CipherSuite;

    pub struct CtrHmac(EncryptingKey, hmac::Key, usize);

    impl CtrHmac {
        pub fn new(suite: CipherSuite, key: &[u8]) -> Option<Self> {
            let (cipher, mac, enc_len) = match suite {
                CipherSuite::AesGcm128Sha256 | CipherSuite::AesGcm256Sha512 => return None,
                CipherSuite::AesCtr256HmacSha512_80
                | CipherSuite::AesCtr256HmacSha512_64
                | CipherSuite::AesCtr256HmacSha512_32 => (&AES_256, hmac::HMAC_SHA512, 32),
                _ => (&AES_128, hmac::HMAC_SHA256, 16),
            };
            let ctr = EncryptingKey::ctr(UnboundCipherKey::new(cipher, &key[..enc_len]).unwrap())
                .unwrap();
            Some(Self(
                ctr,
                hmac::Key::new(mac, &key[enc_len..]),
                suite.tag_len(),
            ))
        }

        fn ctr(&self, nonce: &[u8; 12], buf: &mut [u8]) {
            let mut iv = [0; 16];
            iv[..12].copy_from_slice(nonce);
            let context = EncryptionContext::Iv128(FixedLength::from(iv));
            self.0.less_safe_encrypt(buf, context).unwrap();
        }

        fn mac(&self, nonce: &[u8; 12], aad: &[u8], ct: &[u8]) -> hmac::Tag {
            let mut m = hmac::Context::with_key(&self.1);
            m.update(&(aad.len() as u64).to_be_bytes());
            m.update(&(ct.len() as u64).to_be_bytes());
            m.update(&(self.2 as u64).to_be_bytes());
            m.update(nonce);
            m.update(aad);
            m.update(ct);
            m.sign()
        }

        pub fn seal(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &mut [u8]) {
            self.ctr(nonce, buf);
            tag.copy_from_slice(&self.mac(nonce, aad, buf).as_ref()[..self.2]);
        }

        pub fn open(&self, nonce: &[u8; 12], aad: &[u8], buf: &mut [u8], tag: &[u8]) -> bool {
            let ok = aws_lc_rs::constant_time::verify_slices_are_equal(
                &self.mac(nonce, aad, buf).as_ref()[..self.2],
                tag,
            )
            .is_ok();
            if ok {
                self.ctr(nonce, buf);
            }
            ok
        }
    }
}

/// ring's AES-GCM key for a GCM suite.
#[cfg(any(feature = "aws-lc", feature = "fips"))]
fn raw_ring(suite: CipherSuite, key: &[u8]) -> Option<ring::aead::LessSafeKey> {
    let alg = match suite {
        CipherSuite::AesGcm128Sha256 => &ring::aead::AES_128_GCM,
        CipherSuite::AesGcm256Sha512 => &ring::aead::AES_256_GCM,
        _ => return None,
    };
    Some(ring::aead::LessSafeKey::new(
        ring::aead::UnboundKey::new(alg, key).unwrap(),
    ))
}

#[cfg(feature = "ring")]
fn competitor_suite(suite: CipherSuite) -> Option<sframe::CipherSuite> {
    match suite {
        CipherSuite::AesGcm128Sha256 => Some(sframe::CipherSuite::AesGcm128Sha256),
        CipherSuite::AesGcm256Sha512 => Some(sframe::CipherSuite::AesGcm256Sha512),
        _ => None, // its ring backend has no AES-CTR+HMAC
    }
}

fn suites() -> impl Iterator<Item = CipherSuite> {
    CipherSuite::ALL.iter().copied()
}

fn encrypt(c: &mut Criterion) {
    for suite in suites() {
        let mut group = c.benchmark_group(format!("encrypt/{}", suite.name()));
        let tag_len = suite.tag_len();
        let (_, key, salt) = derive_key_salt(suite, KID, &BaseKey::new(BASE_KEY).unwrap());
        let raw = raw::Raw::new(suite, key.expose_secret());
        for size in SIZES {
            group.throughput(Throughput::Bytes(size as u64));

            // Reference: the raw AEAD sealing the same bytes with the same nonce and AAD.
            let header = Header::new(KID, Counter(1000)).encode();
            let nonce = salt.nonce(1000);
            let mut buf = vec![0x5a; size];
            let mut tag = vec![0; tag_len];
            group.bench_function(BenchmarkId::new("raw AEAD", size), |b| {
                b.iter(|| raw.seal(&nonce, black_box(&header), black_box(&mut buf), &mut tag));
            });
            // With aws-lc as the provider, raw ring beside it: which is the fastest here.
            #[cfg(any(feature = "aws-lc", feature = "fips"))]
            if let Some(ring_key) = raw_ring(suite, key.expose_secret()) {
                group.bench_function(BenchmarkId::new("raw ring", size), |b| {
                    b.iter(|| {
                        let t = ring_key
                            .seal_in_place_separate_tag(
                                ring::aead::Nonce::assume_unique_for_key(nonce),
                                ring::aead::Aad::from(black_box(&header[..])),
                                black_box(&mut buf),
                            )
                            .unwrap();
                        tag.copy_from_slice(t.as_ref());
                    });
                });
            }

            #[cfg(any(feature = "aws-lc", feature = "fips"))]
            if let Some(aws) = raw_aws_lc::CtrHmac::new(suite, key.expose_secret()) {
                group.bench_function(BenchmarkId::new("raw aws-lc", size), |b| {
                    b.iter(|| aws.seal(&nonce, black_box(&header), black_box(&mut buf), &mut tag));
                });
            }

            let mut sender = Encryptor::new(suite, KID, &BaseKey::new(BASE_KEY).unwrap());
            sender.advance_counter_to(Counter(1000)).unwrap();
            let mut room = vec![0x5a; Encryptor::HEADER_ROOM + size + tag_len];
            group.bench_function(BenchmarkId::new("secure-frame in room", size), |b| {
                b.iter(|| {
                    black_box(sender.encrypt_in_room(b"", black_box(&mut room)).unwrap());
                });
            });

            let plaintext = vec![0x5a; size];
            let mut out = vec![0; size + 64];
            group.bench_function(BenchmarkId::new("secure-frame copy", size), |b| {
                b.iter(|| {
                    black_box(
                        sender
                            .encrypt(b"", black_box(&plaintext), &mut out)
                            .unwrap(),
                    );
                });
            });

            #[cfg(feature = "ring")]
            if let Some(theirs) = competitor_suite(suite) {
                use sframe::frame::{MediaFrameView, MonotonicCounter};
                let key = sframe::key::EncryptionKey::derive_from(theirs, KID.0, BASE_KEY).unwrap();
                let mut counter = MonotonicCounter::with_start_value(1000, u64::MAX);
                let mut out = Vec::with_capacity(size + 64);
                group.bench_function(BenchmarkId::new("sframe 2.1", size), |b| {
                    b.iter(|| {
                        let frame = MediaFrameView::try_new(&mut counter, &plaintext).unwrap();
                        black_box(frame.encrypt_into(&key, &mut out).unwrap());
                    });
                });
            }
        }
        group.finish();
    }
}

/// The "raw ring" row of `decrypt`: ring opening a fresh copy of `frame` each iteration.
#[cfg(any(feature = "aws-lc", feature = "fips"))]
fn raw_ring_open_row(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    ring_key: &ring::aead::LessSafeKey,
    frame: &[u8],
    header_len: usize,
    nonce: [u8; 12],
) {
    let size = frame.len() - header_len - 16;
    group.bench_function(BenchmarkId::new("raw ring", size), |b| {
        b.iter_batched_ref(
            || frame.to_vec(),
            |f| {
                let (header, rest) = f.split_at_mut(header_len);
                let (ct, tag) = rest.split_at_mut(size);
                let tag = ring::aead::Tag::try_from(&tag[..]).unwrap();
                ring_key
                    .open_in_place_separate_tag(
                        ring::aead::Nonce::assume_unique_for_key(nonce),
                        ring::aead::Aad::from(black_box(&header[..])),
                        tag,
                        ct,
                        0..,
                    )
                    .unwrap();
            },
            batch(size),
        );
    });
}

fn decrypt(c: &mut Criterion) {
    for suite in suites() {
        let mut group = c.benchmark_group(format!("decrypt/{}", suite.name()));
        let (_, key, salt) = derive_key_salt(suite, KID, &BaseKey::new(BASE_KEY).unwrap());
        let raw = raw::Raw::new(suite, key.expose_secret());
        for size in SIZES {
            group.throughput(Throughput::Bytes(size as u64));
            let mut sender = Encryptor::new(suite, KID, &BaseKey::new(BASE_KEY).unwrap());
            sender.advance_counter_to(Counter(1000)).unwrap();
            let frame = sender.encrypt_to_vec(b"", &vec![0x5a; size]).unwrap();
            let header_len = FrameView::parse(&frame).unwrap().header_bytes().len();

            // Reference: the raw AEAD opening the same ciphertext, nonce and AAD. Every
            // variant gets a fresh copy of its input from an untimed setup.
            let nonce = salt.nonce(1000);
            group.bench_function(BenchmarkId::new("raw AEAD", size), |b| {
                b.iter_batched_ref(
                    || frame.clone(),
                    |f| {
                        let (header, rest) = f.split_at_mut(header_len);
                        let (ct, tag) = rest.split_at_mut(size);
                        assert!(raw.open(&nonce, header, ct, tag));
                    },
                    batch(size),
                );
            });

            // With aws-lc as a provider, raw ring beside it, as in `encrypt`.
            #[cfg(any(feature = "aws-lc", feature = "fips"))]
            if let Some(ring_key) = raw_ring(suite, key.expose_secret()) {
                raw_ring_open_row(&mut group, &ring_key, &frame, header_len, nonce);
            }

            #[cfg(any(feature = "aws-lc", feature = "fips"))]
            if let Some(aws) = raw_aws_lc::CtrHmac::new(suite, key.expose_secret()) {
                group.bench_function(BenchmarkId::new("raw aws-lc", size), |b| {
                    b.iter_batched_ref(
                        || frame.clone(),
                        |f| {
                            let (header, rest) = f.split_at_mut(header_len);
                            let (ct, tag) = rest.split_at_mut(size);
                            assert!(aws.open(&nonce, header, ct, tag));
                        },
                        batch(size),
                    );
                });
            }

            // Replay protection on: every iteration gets a new frame with a new counter.
            let mut receiver = ReceiveKey::new(suite, KID, &BaseKey::new(BASE_KEY).unwrap());
            let plaintext = vec![0x5a; size];
            group.bench_function(BenchmarkId::new("secure-frame 1 key", size), |b| {
                b.iter_batched_ref(
                    || sender.encrypt_to_vec(b"", &plaintext).unwrap(),
                    |f| {
                        black_box(receiver.decrypt_in_place(b"", f).unwrap());
                    },
                    batch(size),
                );
            });

            let mut store = Decryptor::new(suite);
            for kid in 0..1000 {
                store
                    .add_key(KeyId(kid), &BaseKey::new(BASE_KEY).unwrap())
                    .unwrap();
            }
            group.bench_function(BenchmarkId::new("secure-frame 1000 KIDs", size), |b| {
                b.iter_batched_ref(
                    || sender.encrypt_to_vec(b"", &plaintext).unwrap(),
                    |f| {
                        black_box(store.decrypt_in_place(b"", f).unwrap());
                    },
                    batch(size),
                );
            });

            #[cfg(feature = "ring")]
            if let Some(theirs) = competitor_suite(suite) {
                use sframe::frame::EncryptedFrame;
                let key = sframe::key::DecryptionKey::derive_from(theirs, KID.0, BASE_KEY).unwrap();
                let mut out = Vec::with_capacity(size + 64);
                group.bench_function(BenchmarkId::new("sframe 2.1", size), |b| {
                    b.iter_batched_ref(
                        || EncryptedFrame::try_new(frame.clone()).unwrap(),
                        |f| {
                            black_box(f.decrypt_into(&key, &mut out).unwrap());
                        },
                        batch(size),
                    );
                });
            }
        }
        group.finish();
    }
}

/// Where aws-lc-rs overtakes ring, sealing and opening the same frame with the same key: the
/// size from which the library sends GCM through aws-lc when both providers are on
/// (`src/aead/gcm.rs`, `AWS_LC_FROM`).
#[cfg(all(feature = "ring", feature = "aws-lc", not(feature = "fips")))]
fn gcm_providers(c: &mut Criterion) {
    use aws_lc_rs::aead as aws;
    use ring::aead as rng;

    for suite in [CipherSuite::AesGcm128Sha256, CipherSuite::AesGcm256Sha512] {
        let mut group = c.benchmark_group(format!("gcm providers/{}", suite.name()));
        let (_, key, salt) = derive_key_salt(suite, KID, &BaseKey::new(BASE_KEY).unwrap());
        let key = key.expose_secret();
        let (ring_alg, aws_alg) = if key.len() == 32 {
            (&rng::AES_256_GCM, &aws::AES_256_GCM)
        } else {
            (&rng::AES_128_GCM, &aws::AES_128_GCM)
        };
        let ring_key = rng::LessSafeKey::new(rng::UnboundKey::new(ring_alg, key).unwrap());
        let aws_key = aws::LessSafeKey::new(aws::UnboundKey::new(aws_alg, key).unwrap());
        let header = Header::new(KID, Counter(1000)).encode();
        let nonce = salt.nonce(1000);
        for size in [1200, 2048, 3072, 4096, 6144, 8192, 16 * 1024] {
            group.throughput(Throughput::Bytes(size as u64));
            let mut buf = vec![0x5a; size];
            group.bench_function(BenchmarkId::new("ring seal", size), |b| {
                b.iter(|| {
                    let n = rng::Nonce::assume_unique_for_key(nonce);
                    let aad = rng::Aad::from(black_box(&header[..]));
                    ring_key
                        .seal_in_place_separate_tag(n, aad, &mut buf)
                        .unwrap()
                });
            });
            group.bench_function(BenchmarkId::new("aws-lc seal", size), |b| {
                b.iter(|| {
                    let n = aws::Nonce::assume_unique_for_key(nonce);
                    let aad = aws::Aad::from(black_box(&header[..]));
                    aws_key
                        .seal_in_place_separate_tag(n, aad, &mut buf)
                        .unwrap()
                });
            });
            // One sealed frame, opened from a fresh copy each iteration by both.
            let mut sealed = vec![0x5a; size];
            let tag = aws_key
                .seal_in_place_separate_tag(
                    aws::Nonce::assume_unique_for_key(nonce),
                    aws::Aad::from(&header[..]),
                    &mut sealed,
                )
                .unwrap();
            let tag: [u8; 16] = tag.as_ref().try_into().unwrap();
            group.bench_function(BenchmarkId::new("ring open", size), |b| {
                b.iter_batched_ref(
                    || sealed.clone(),
                    |ct| {
                        let n = rng::Nonce::assume_unique_for_key(nonce);
                        let aad = rng::Aad::from(black_box(&header[..]));
                        let t = rng::Tag::from(tag);
                        black_box(
                            ring_key
                                .open_in_place_separate_tag(n, aad, t, ct, 0..)
                                .unwrap(),
                        );
                    },
                    batch(size),
                );
            });
            group.bench_function(BenchmarkId::new("aws-lc open", size), |b| {
                b.iter_batched_ref(
                    || sealed.clone(),
                    |ct| {
                        let n = aws::Nonce::assume_unique_for_key(nonce);
                        let aad = aws::Aad::from(black_box(&header[..]));
                        black_box(
                            aws_key
                                .open_in_place_separate_tag(n, aad, &tag, ct)
                                .unwrap(),
                        );
                    },
                    batch(size),
                );
            });
        }
        group.finish();
    }
}

/// Without both providers there is nothing to choose between.
#[cfg(not(all(feature = "ring", feature = "aws-lc", not(feature = "fips"))))]
fn gcm_providers(_: &mut Criterion) {}

fn header(c: &mut Criterion) {
    let mut group = c.benchmark_group("header");
    for (name, kid, ctr) in [
        ("short", 3, 5),
        ("typical", 0x123, 0x4567),
        ("max", u64::MAX, u64::MAX),
    ] {
        let header = Header::new(KeyId(kid), Counter(ctr));
        let bytes = header.encode();
        group.bench_function(BenchmarkId::new("encode", name), |b| {
            b.iter(|| black_box(black_box(header).encode()));
        });
        group.bench_function(BenchmarkId::new("decode", name), |b| {
            b.iter(|| black_box(Header::decode(black_box(&bytes)).unwrap()));
        });
    }
    group.finish();
}

fn key_installation(c: &mut Criterion) {
    let mut group = c.benchmark_group("key installation");
    for suite in suites() {
        group.bench_function(BenchmarkId::new("Encryptor::new", suite.name()), |b| {
            b.iter(|| {
                black_box(Encryptor::new(
                    suite,
                    KID,
                    &BaseKey::new(black_box(BASE_KEY)).unwrap(),
                ))
            });
        });
        group.bench_function(BenchmarkId::new("ReceiveKey::new", suite.name()), |b| {
            b.iter(|| {
                black_box(ReceiveKey::new(
                    suite,
                    KID,
                    &BaseKey::new(black_box(BASE_KEY)).unwrap(),
                ))
            });
        });
    }
    group.finish();
    println!(
        "memory per installed key: ReceiveKey {} B, Encryptor {} B",
        size_of::<ReceiveKey>(),
        size_of::<Encryptor>()
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .sample_size(40);
    targets = encrypt, decrypt, gcm_providers, header, key_installation
}
criterion_main!(benches);
