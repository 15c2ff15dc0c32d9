//! `Encryptor::encrypt`, the copy path: a 160 B plaintext from one buffer into an SFrame frame
//! in another (header written, plaintext copied, sealed in place), the counter advancing per
//! frame. See `common.rs`.

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

use secure_frame::Encryptor;

#[inline(never)]
fn probe(e: &mut Encryptor, plaintext: &[u8], out: &mut [u8]) -> usize {
    e.encrypt(b"", plaintext, out).unwrap().len()
}

fn main() {
    let n = common::frames(20_000);
    let mut e = common::encryptor();
    let plaintext = vec![0x5a; common::SIZE];
    let mut out = vec![0; Encryptor::HEADER_ROOM + common::SIZE + common::SUITE.tag_len()];
    let mut len = 0;
    for _ in 0..n {
        len = probe(&mut e, black_box(&plaintext), black_box(&mut out));
    }
    println!("encrypt: {n} frames, {len} B each");
}
