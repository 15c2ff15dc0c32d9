//! Reference: the raw AEAD's (`common::raw`: ring, aws-lc-rs or RustCrypto) in-place seal of
//! 160 B under a constant header (as AAD) and nonce, the tag copied out. See `common.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    missing_docs,
    unreachable_pub,
    reason = "measurement code"
)]

mod common;

use std::hint::black_box;

use secure_frame::{Counter, Header};

#[inline(never)]
fn probe(
    key: &common::raw::Key,
    nonce: [u8; 12],
    header: &[u8],
    buf: &mut [u8],
    tag: &mut [u8; 16],
) {
    key.seal(nonce, header, buf, tag);
}

fn main() {
    let n = common::frames(20_000);
    let (key, salt) = common::raw_key();
    let header = Header::new(common::KID, Counter(common::FIRST_CTR)).encode();
    let nonce = salt.nonce(common::FIRST_CTR);
    let mut buf = vec![0x5a; common::SIZE];
    let mut tag = [0; 16];
    for _ in 0..n {
        probe(
            &key,
            black_box(nonce),
            black_box(&header),
            black_box(&mut buf),
            &mut tag,
        );
    }
    println!(
        "raw seal ({}): {n} frames, tag {:02x?}",
        common::raw::NAME,
        &tag[..4]
    );
}
