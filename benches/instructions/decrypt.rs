//! `ReceiveKey::decrypt_in_place` of a 160 B frame, replay window on (the default 128), each
//! frame a new counter. See `common.rs`.

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

use secure_frame::ReceiveKey;

#[inline(never)]
fn probe(key: &mut ReceiveKey, frame: &mut [u8]) -> usize {
    key.decrypt_in_place(b"", frame).unwrap().len()
}

fn main() {
    let n = common::frames(20_000);
    let mut key = ReceiveKey::new(common::SUITE, common::KID, &common::base_key());
    let mut frames = common::sealed_frames(n);
    let mut sum = 0;
    for frame in &mut frames {
        sum += probe(&mut key, black_box(frame));
    }
    assert_eq!(sum, n * common::SIZE);
    println!(
        "decrypt_in_place: {n} frames; a ReceiveKey is {} B",
        size_of::<ReceiveKey>()
    );
}
