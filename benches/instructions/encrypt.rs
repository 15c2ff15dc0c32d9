//! `Encryptor::encrypt_in_room` of 160 B (a new counter and header per frame). See
//! `common.rs`.

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
fn probe(e: &mut Encryptor, buf: &mut [u8]) -> usize {
    e.encrypt_in_room(b"", buf).unwrap().len()
}

fn main() {
    let n = common::frames(20_000);
    let mut e = common::encryptor();
    let mut buf = vec![0x5a; Encryptor::HEADER_ROOM + common::SIZE + common::SUITE.tag_len()];
    let mut len = 0;
    for _ in 0..n {
        len = probe(&mut e, black_box(&mut buf));
    }
    println!("encrypt_in_room: {n} frames, {len} B each");
}
