//! Reference: the raw AEAD's (`common::raw`: ring, aws-lc-rs or RustCrypto) in-place open, with
//! a separate tag, of a 160 B SFrame frame whose header is
//! decoded (`Header::decode`) and nonce made (`SframeSalt::nonce`) per frame; no replay
//! window, no checks. See `common.rs`.

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

use secure_frame::{Header, SframeSalt};

#[inline(never)]
fn probe(key: &common::raw::Key, salt: &SframeSalt, frame: &mut [u8]) -> usize {
    let (header, header_len) = Header::decode(frame).unwrap();
    let nonce = salt.nonce(header.counter().0);
    let (aad, rest) = frame.split_at_mut(header_len);
    let (body, tag) = rest.split_at_mut(rest.len() - 16);
    key.open(nonce, aad, body, tag)
}

fn main() {
    let n = common::frames(20_000);
    let (key, salt) = common::raw_key();
    let mut frames = common::sealed_frames(n);
    let mut sum = 0;
    for frame in &mut frames {
        sum += probe(&key, &salt, black_box(frame));
    }
    assert_eq!(sum, n * common::SIZE);
    println!("raw open: {n} frames");
}
