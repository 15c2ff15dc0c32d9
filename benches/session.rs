//! What an application calls, per frame: the sender-key and MLS sessions (RFC 9605 format,
//! in room), the codec-aware mode on real frames of the bundled clips, and how decryption and
//! key installation grow with the number of installed keys and participants. Every group has
//! the raw AEAD doing the same cipher work as its reference row.
//!
//! `cargo bench --bench session --features hazmat` (add `aws-lc` for that provider).
//! BENCHMARKS.md has the figures.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::missing_panics_doc,
    clippy::panic,
    missing_docs,
    unreachable_pub,
    dead_code,
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    reason = "benchmark code"
)]

#[path = "common/batch.rs"]
mod batch;
#[path = "../tests/common/media.rs"]
mod media;

use std::hint::black_box;

use batch::batch;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use secure_frame::codec::Codec;
use secure_frame::hazmat::{RawAead, derive_key_salt};
use secure_frame::mls::MlsExporter;
use secure_frame::session::{FrameFormat, KeyScheme, Session};
use secure_frame::{
    BaseKey, CipherSuite, Counter, Decryptor, Encryptor, Header, KeyId, MlsSession, ParticipantId,
    SenderKeyId, SenderKeyLayout, SenderKeySession,
};

const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;
const SIZES: [usize; 4] = [160, 1200, 16 * 1024, 256 * 1024];

fn key(byte: u8) -> BaseKey {
    BaseKey::new(&[byte; 16]).unwrap()
}

/// The reference row: the suite's raw AEAD (the crate's provider) sealing or opening `size`
/// bytes under a header as AAD, keyed once.
struct Raw {
    aead: RawAead,
    nonce: [u8; 12],
    header: Vec<u8>,
}

impl Raw {
    fn new(suite: CipherSuite) -> Self {
        let (_, key, salt) = derive_key_salt(suite, KeyId(0x101), &key(1));
        Self {
            aead: RawAead::new(suite, key.expose_secret()).unwrap(),
            nonce: salt.nonce(1000),
            header: Header::new(KeyId(0x101), Counter(1000)).encode().to_vec(),
        }
    }

    fn seal_row(
        &self,
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        size: usize,
    ) {
        let mut buf = vec![0x5a; size];
        let mut tag = vec![0; SUITE.tag_len()];
        group.bench_function(BenchmarkId::new("raw AEAD", size), |b| {
            b.iter(|| {
                self.aead
                    .seal(
                        &self.nonce,
                        black_box(&self.header),
                        black_box(&mut buf),
                        &mut tag,
                    )
                    .unwrap();
            });
        });
    }

    fn open_row(
        &self,
        group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        size: usize,
    ) {
        let mut sealed = vec![0x5a; size];
        let mut tag = vec![0; SUITE.tag_len()];
        self.aead
            .seal(&self.nonce, &self.header, &mut sealed, &mut tag)
            .unwrap();
        group.bench_function(BenchmarkId::new("raw AEAD", size), |b| {
            b.iter_batched_ref(
                || sealed.clone(),
                |ct| self.aead.open(&self.nonce, &self.header, ct, &tag).unwrap(),
                batch(size),
            );
        });
    }
}

/// Alice (participant 0) sending to Bob (participant 1), both in `format`.
fn sender_key_pair(format: FrameFormat) -> (SenderKeySession, SenderKeySession) {
    let layout = SenderKeyLayout::default();
    let mut alice = SenderKeySession::new(SUITE, layout, ParticipantId(0))
        .unwrap()
        .with_format(format);
    alice.set_send_key(0, key(1)).unwrap();
    let mut bob = SenderKeySession::new(SUITE, layout, ParticipantId(1))
        .unwrap()
        .with_format(format);
    let (id, base) = alice.send_key().unwrap();
    bob.add_participant(ParticipantId(0), id, base).unwrap();
    (alice, bob)
}

struct Exporter;

impl MlsExporter for Exporter {
    type Error = ();
    fn export(&self, _: &str, _: &[u8], out: &mut [u8]) -> Result<(), ()> {
        out.fill(7);
        Ok(())
    }
}

fn mls_pair() -> (MlsSession, MlsSession) {
    let mut a = MlsSession::new(SUITE, 4, 0).unwrap();
    let mut b = MlsSession::new(SUITE, 4, 0).unwrap();
    a.install_epoch_from(&Exporter, 1, 2, 0).unwrap();
    b.install_epoch_from(&Exporter, 1, 2, 1).unwrap();
    (a, b)
}

/// `[header room][frame][tag room]`, filled with the frame.
fn room(frame: &[u8]) -> Vec<u8> {
    let mut buf = vec![0; Encryptor::HEADER_ROOM + frame.len() + SUITE.tag_len()];
    buf[Encryptor::HEADER_ROOM..][..frame.len()].copy_from_slice(frame);
    buf
}

/// `plaintext` protected by `session`, in a buffer just large enough for the wire frame, as a
/// receiver holds a frame it just read. (`protect` on a clone of the plaintext moved each frame into a
/// buffer twice its size, and batches of such frames opened in 1.2–1.6× the raw row's time at
/// 1 200 B, by how the allocator laid them out; 1.05–1.10× in exact buffers.)
fn received<S: KeyScheme>(session: &mut Session<S>, plaintext: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(Encryptor::HEADER_ROOM + plaintext.len() + SUITE.tag_len());
    frame.extend_from_slice(plaintext);
    session.protect(b"", &mut frame).unwrap();
    frame
}

fn sessions(c: &mut Criterion) {
    let raw = Raw::new(SUITE);
    let mut group = c.benchmark_group("session protect (RFC 9605, in room)");
    for size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        raw.seal_row(&mut group, size);
        let (mut alice, _) = sender_key_pair(FrameFormat::Rfc9605);
        let mut buf = room(&vec![0x5a; size]);
        group.bench_function(BenchmarkId::new("sender-key session", size), |b| {
            b.iter(|| {
                black_box(
                    alice
                        .protect_in_room(b"", black_box(&mut buf))
                        .unwrap()
                        .len(),
                )
            });
        });
        let (mut a, _) = mls_pair();
        group.bench_function(BenchmarkId::new("MLS session", size), |b| {
            b.iter(|| black_box(a.protect_in_room(b"", black_box(&mut buf)).unwrap().len()));
        });
    }
    group.finish();

    let mut group = c.benchmark_group("session unprotect (RFC 9605)");
    for size in SIZES {
        group.throughput(Throughput::Bytes(size as u64));
        raw.open_row(&mut group, size);
        let plaintext = vec![0x5a; size];
        let (mut alice, mut bob) = sender_key_pair(FrameFormat::Rfc9605);
        group.bench_function(BenchmarkId::new("sender-key session", size), |b| {
            b.iter_batched_ref(
                || received(&mut alice, &plaintext),
                |frame| black_box(bob.unprotect(b"", frame).unwrap().decrypted().is_some()),
                batch(size),
            );
        });
        let (mut a, mut b2) = mls_pair();
        group.bench_function(BenchmarkId::new("MLS session", size), |b| {
            b.iter_batched_ref(
                || received(&mut a, &plaintext),
                |frame| black_box(b2.unprotect(b"", frame).unwrap().decrypted().is_some()),
                batch(size),
            );
        });
    }
    group.finish();
}

/// The smallest, the median, the one closest to 1 200 B and the largest non-empty frame of a
/// clip (fewer when two of them are the same frame).
fn frames_of(file: &'static str) -> Vec<Vec<u8>> {
    let clip = media::load(file);
    let mut frames = clip.frames.clone();
    frames.retain(|f| !f.is_empty());
    frames.sort_by_key(Vec::len);
    let near_1200 = frames
        .iter()
        .min_by_key(|f| f.len().abs_diff(1200))
        .unwrap()
        .clone();
    let mut picked = vec![
        frames[0].clone(),
        frames[frames.len() / 2].clone(),
        near_1200,
        frames[frames.len() - 1].clone(),
    ];
    picked.sort_by_key(Vec::len);
    picked.dedup_by_key(|f| f.len());
    picked
}

fn codec_aware(c: &mut Criterion) {
    let raw = Raw::new(SUITE);
    for (file, codec) in [
        ("h264-main.h264", Codec::H264),
        // Two slices per picture: every frame has several opaque runs (BENCHMARKS.md).
        ("h264-baseline.h264", Codec::H264),
        ("vp8.ivf", Codec::Vp8),
        ("av1.ivf", Codec::Av1),
    ] {
        let mut group = c.benchmark_group(format!("codec-aware protect+unprotect/{file}"));
        for frame in frames_of(file) {
            let size = frame.len();
            group.throughput(Throughput::Bytes(size as u64));
            // Reference: seal and open the same number of bytes once each.
            let mut buf = vec![0x5a; size];
            let mut tag = vec![0; SUITE.tag_len()];
            group.bench_function(BenchmarkId::new("raw AEAD", size), |b| {
                b.iter(|| {
                    raw.aead
                        .seal(&raw.nonce, &raw.header, black_box(&mut buf), &mut tag)
                        .unwrap();
                    raw.aead
                        .open(&raw.nonce, &raw.header, black_box(&mut buf), &tag)
                        .unwrap();
                });
            });
            let (mut alice, mut bob) = sender_key_pair(FrameFormat::Rfc9605);
            let mut wire = Vec::with_capacity(size + 64);
            group.bench_function(BenchmarkId::new("RFC 9605 session", size), |b| {
                b.iter(|| {
                    wire.clear();
                    wire.extend_from_slice(&frame);
                    alice.protect(b"", &mut wire).unwrap();
                    black_box(bob.unprotect(b"", &mut wire).unwrap().decrypted().is_some());
                });
            });
            let (mut alice, mut bob) = sender_key_pair(FrameFormat::CodecAware(codec));
            group.bench_function(BenchmarkId::new("codec-aware session", size), |b| {
                b.iter(|| {
                    wire.clear();
                    wire.extend_from_slice(&frame);
                    alice.protect(b"", &mut wire).unwrap();
                    black_box(bob.unprotect(b"", &mut wire).unwrap().decrypted().is_some());
                });
            });
        }
        group.finish();
    }
}

fn scaling(c: &mut Criterion) {
    const SIZE: usize = 1200;
    let raw = Raw::new(SUITE);
    let plaintext = vec![0x5a; SIZE];
    let mut group = c.benchmark_group("decrypt among N keys (1200 B)");
    group.throughput(Throughput::Bytes(SIZE as u64));
    raw.open_row(&mut group, SIZE);
    for n in [1u64, 100, 1000, 10_000] {
        // A Decryptor with N KIDs; frames of the one in the middle.
        let mut store = Decryptor::new(SUITE);
        for kid in 0..n {
            store.add_key(KeyId(kid), &key(1)).unwrap();
        }
        let mut sender = Encryptor::new(SUITE, KeyId(n / 2), &key(1));
        group.bench_function(BenchmarkId::new("Decryptor, N KIDs", n), |b| {
            b.iter_batched_ref(
                || sender.encrypt_to_vec(b"", &plaintext).unwrap(),
                |frame| black_box(store.decrypt_in_place(b"", frame).unwrap().len()),
                batch(SIZE),
            );
        });
        // A sender-key session with N participants (S = 14 bits of participant index).
        let layout = SenderKeyLayout::new(8, 14).unwrap();
        let mut receiver = SenderKeySession::new(SUITE, layout, ParticipantId(n)).unwrap();
        let mut middle = None;
        for p in 0..n {
            let mut s = SenderKeySession::new(SUITE, layout, ParticipantId(p)).unwrap();
            s.set_send_key(0, key(2)).unwrap();
            let (id, base) = s.send_key().unwrap();
            receiver
                .add_participant(ParticipantId(p), id, base)
                .unwrap();
            if p == n / 2 {
                middle = Some(s);
            }
        }
        let mut middle = middle.unwrap();
        group.bench_function(BenchmarkId::new("session, N participants", n), |b| {
            b.iter_batched_ref(
                || received(&mut middle, &plaintext),
                |frame| {
                    black_box(
                        receiver
                            .unprotect(b"", frame)
                            .unwrap()
                            .decrypted()
                            .is_some(),
                    )
                },
                batch(SIZE),
            );
        });
    }
    group.finish();

    let mut group = c.benchmark_group("key install with N keys installed");
    for n in [1u64, 100, 1000, 10_000] {
        let mut store = Decryptor::new(SUITE);
        for kid in 0..n {
            store.add_key(KeyId(kid * 2), &key(1)).unwrap();
        }
        let base = key(3);
        // A KID between the installed ones (it landed mid-table in the sorted index this store
        // had before its hash index); each iteration installs and removes it again.
        let kid = KeyId(n | 1);
        group.bench_function(BenchmarkId::new("Decryptor::add_key", n), |b| {
            b.iter_batched_ref(
                || (),
                |()| {
                    store.add_key(kid, black_box(&base)).unwrap();
                    store.remove_key(kid);
                },
                BatchSize::SmallInput,
            );
        });
        let layout = SenderKeyLayout::new(8, 14).unwrap();
        let mut receiver = SenderKeySession::new(SUITE, layout, ParticipantId(16_000)).unwrap();
        for p in 0..n {
            let id = SenderKeyId::new(p + 1, 0);
            receiver
                .add_participant(ParticipantId(p), id, &base)
                .unwrap();
        }
        let newcomer = ParticipantId(n);
        let id = SenderKeyId::new(n + 1, 0);
        group.bench_function(
            BenchmarkId::new("SenderKeySession::add_participant", n),
            |b| {
                b.iter(|| {
                    receiver
                        .add_participant(newcomer, id, black_box(&base))
                        .unwrap();
                    receiver.remove_participant(newcomer);
                });
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1))
        .sample_size(30);
    targets = sessions, codec_aware, scaling
}
criterion_main!(benches);
