//! Shared setup of the pinned instruction harness (`scripts/instructions`). Each path is its
//! own binary with one `#[inline(never)]` entry, `probe`, called once per frame, so how LTO
//! inlines the library into one path cannot move another path's figure. The script counts
//! the instructions inside `probe` only (`callgrind --toggle-collect`), setup excluded.

#![allow(dead_code, reason = "each binary uses part of the setup")]

#[path = "../../tests/common/media.rs"]
mod media;

use secure_frame::hazmat::derive_key_salt;
use secure_frame::mls::MlsExporter;
use secure_frame::session::FrameFormat;
use secure_frame::{
    BaseKey, CipherSuite, Counter, Encryptor, KeyId, MlsSession, ParticipantId, SenderKeyLayout,
    SenderKeySession,
};

pub const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;
pub const KID: KeyId = KeyId(0x101);
pub const BASE_KEY: &[u8] = &[1; 16];
/// The first counter: a 2-byte CTR in the header, as in `benches/sframe.rs`.
pub const FIRST_CTR: u64 = 1000;
pub const SIZE: usize = 160;

/// Frames per run: the first argument, else `default`.
pub fn frames(default: usize) -> usize {
    std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(default)
}

pub fn base_key() -> BaseKey {
    BaseKey::new(BASE_KEY).unwrap()
}

/// The raw AES-128-GCM the library's 160 B frames go through, so that the reference row and
/// the library's rows use the same provider: ring when it is on (with `aws-lc` also on, frames
/// below `AWS_LC_FROM` go through ring), else aws-lc-rs (`aws-lc` alone, or `fips`), else
/// RustCrypto's `aes-gcm`. Both calls are `#[inline(always)]`, so they compile into `probe`.
#[allow(
    clippy::inline_always,
    reason = "the reference calls compile into `probe`, as the library's do"
)]
pub mod raw {
    #[cfg(all(feature = "ring", not(feature = "fips")))]
    use ring::aead as provider;

    #[cfg(all(
        any(feature = "aws-lc", feature = "fips"),
        not(all(feature = "ring", not(feature = "fips")))
    ))]
    use aws_lc_rs::aead as provider;

    /// The provider's name, for the script's table.
    #[cfg(all(feature = "ring", not(feature = "fips")))]
    pub const NAME: &str = "ring";
    #[cfg(all(
        any(feature = "aws-lc", feature = "fips"),
        not(all(feature = "ring", not(feature = "fips")))
    ))]
    pub const NAME: &str = "aws-lc-rs";
    #[cfg(not(any(feature = "ring", feature = "aws-lc", feature = "fips")))]
    pub const NAME: &str = "RustCrypto";

    #[cfg(any(feature = "ring", feature = "aws-lc", feature = "fips"))]
    pub struct Key(provider::LessSafeKey);

    #[cfg(not(any(feature = "ring", feature = "aws-lc", feature = "fips")))]
    pub struct Key(aes_gcm::Aes128Gcm);

    #[cfg(any(feature = "ring", feature = "aws-lc", feature = "fips"))]
    impl Key {
        pub fn new(key: &[u8]) -> Self {
            let key = provider::UnboundKey::new(&provider::AES_128_GCM, key).unwrap();
            Self(provider::LessSafeKey::new(key))
        }

        #[cfg(not(all(feature = "ring", not(feature = "fips"))))]
        #[inline(always)]
        pub fn seal(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8], tag: &mut [u8; 16]) {
            self.0
                .seal_in_place_scatter(
                    provider::Nonce::assume_unique_for_key(nonce),
                    provider::Aad::from(aad),
                    buf,
                    &[],
                    tag,
                )
                .unwrap();
        }

        #[cfg(all(feature = "ring", not(feature = "fips")))]
        #[inline(always)]
        pub fn seal(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8], tag: &mut [u8; 16]) {
            let t = self
                .0
                .seal_in_place_separate_tag(
                    provider::Nonce::assume_unique_for_key(nonce),
                    provider::Aad::from(aad),
                    buf,
                )
                .unwrap();
            tag.copy_from_slice(t.as_ref());
        }

        /// Opens `body` in place; its length.
        #[cfg(all(feature = "ring", not(feature = "fips")))]
        #[inline(always)]
        pub fn open(&self, nonce: [u8; 12], aad: &[u8], body: &mut [u8], tag: &[u8]) -> usize {
            let tag = provider::Tag::try_from(tag).unwrap();
            self.0
                .open_in_place_separate_tag(
                    provider::Nonce::assume_unique_for_key(nonce),
                    provider::Aad::from(aad),
                    tag,
                    body,
                    0..,
                )
                .unwrap()
                .len()
        }

        /// Opens `body` in place; its length.
        #[cfg(not(all(feature = "ring", not(feature = "fips"))))]
        #[inline(always)]
        pub fn open(&self, nonce: [u8; 12], aad: &[u8], body: &mut [u8], tag: &[u8]) -> usize {
            self.0
                .open_in_place_separate_tag(
                    provider::Nonce::assume_unique_for_key(nonce),
                    provider::Aad::from(aad),
                    tag,
                    body,
                )
                .unwrap()
                .len()
        }
    }

    #[cfg(not(any(feature = "ring", feature = "aws-lc", feature = "fips")))]
    impl Key {
        pub fn new(key: &[u8]) -> Self {
            use aes_gcm::KeyInit;
            Self(aes_gcm::Aes128Gcm::new_from_slice(key).unwrap())
        }

        #[inline(always)]
        pub fn seal(&self, nonce: [u8; 12], aad: &[u8], buf: &mut [u8], tag: &mut [u8; 16]) {
            use aes_gcm::aead::AeadInOut;
            let t = self
                .0
                .encrypt_inout_detached(&nonce.into(), aad, buf.into())
                .unwrap();
            tag.copy_from_slice(&t);
        }

        /// Opens `body` in place; its length.
        #[inline(always)]
        pub fn open(&self, nonce: [u8; 12], aad: &[u8], body: &mut [u8], tag: &[u8]) -> usize {
            use aes_gcm::aead::AeadInOut;
            let tag = aes_gcm::Tag::try_from(tag).unwrap();
            self.0
                .decrypt_inout_detached(&nonce.into(), aad, (&mut *body).into(), &tag)
                .unwrap();
            body.len()
        }
    }
}

/// The raw AES-128-GCM key and the salt for `KID`, derived as the library derives them.
pub fn raw_key() -> (raw::Key, secure_frame::SframeSalt) {
    let (_, key, salt) = derive_key_salt(SUITE, KID, &base_key());
    (raw::Key::new(key.expose_secret()), salt)
}

pub fn encryptor() -> Encryptor {
    let mut e = Encryptor::new(SUITE, KID, &base_key());
    e.advance_counter_to(Counter(FIRST_CTR)).unwrap();
    e
}

/// `n` SFrame frames of `SIZE` bytes, counters `FIRST_CTR..`.
pub fn sealed_frames(n: usize) -> Vec<Vec<u8>> {
    let mut e = encryptor();
    (0..n)
        .map(|_| e.encrypt_to_vec(b"", &[0x5a; SIZE]).unwrap())
        .collect()
}

fn key(byte: u8) -> BaseKey {
    BaseKey::new(&[byte; 16]).unwrap()
}

/// Alice (participant 0) sending to Bob (participant 1), both in `format`.
pub fn sender_key_pair(format: FrameFormat) -> (SenderKeySession, SenderKeySession) {
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

/// An MLS exporter whose secret is all sevens.
struct Exporter;

impl MlsExporter for Exporter {
    type Error = ();
    fn export(&self, _: &str, _: &[u8], out: &mut [u8]) -> Result<(), ()> {
        out.fill(7);
        Ok(())
    }
}

/// Members 0 and 1 of a four-member group in epoch 1.
pub fn mls_pair() -> (MlsSession, MlsSession) {
    let mut a = MlsSession::new(SUITE, 4, 0).unwrap();
    let mut b = MlsSession::new(SUITE, 4, 0).unwrap();
    a.install_epoch_from(&Exporter, 1, 2, 0).unwrap();
    b.install_epoch_from(&Exporter, 1, 2, 1).unwrap();
    (a, b)
}

/// The H.264 access units measured, per clip: the largest (an IDR; the 3 014 B one of issue
/// #15 for `h264-main.h264`) and the one closest to 1 200 B. `h264-baseline.h264` has two
/// slices per picture, so its frames exercise the gather/scatter of multi-slice frames.
pub fn h264_frames() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for file in ["h264-main.h264", "h264-baseline.h264"] {
        let mut frames = media::load(file).frames;
        frames.retain(|f| !f.is_empty());
        let largest = frames.iter().max_by_key(|f| f.len()).unwrap().clone();
        let mid = frames
            .iter()
            .min_by_key(|f| f.len().abs_diff(1200))
            .unwrap()
            .clone();
        out.push((format!("{file} largest"), largest));
        out.push((format!("{file} ~1200 B"), mid));
    }
    out
}

/// The second argument picks one frame (index into [`h264_frames`]); without it, all run.
pub fn run_sessions(
    format_of: fn() -> FrameFormat,
    probe: fn(&mut SenderKeySession, &mut SenderKeySession, &mut Vec<u8>) -> usize,
) {
    let n = frames(2_000);
    let pick: Option<usize> = std::env::args().nth(2).and_then(|a| a.parse().ok());
    for (i, (name, frame)) in h264_frames().into_iter().enumerate() {
        if pick.is_some_and(|p| p != i) {
            continue;
        }
        let (mut alice, mut bob) = sender_key_pair(format_of());
        let mut wire = Vec::with_capacity(frame.len() + 64);
        for _ in 0..n {
            wire.clear();
            wire.extend_from_slice(&frame);
            assert!(probe(&mut alice, &mut bob, &mut wire) > 0);
        }
        println!("{name}: {} B, {n} frames", frame.len());
    }
}
