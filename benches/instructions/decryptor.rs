//! `Decryptor::decrypt_in_place` of a 160 B frame among N installed KIDs (the second argument,
//! default 1), replay window on, each frame a new counter of one of the KIDs, as in
//! `benches/session.rs`. See `common.rs`.

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

use secure_frame::{Decryptor, KeyId};

#[inline(never)]
fn probe(store: &mut Decryptor, frame: &mut [u8]) -> usize {
    store.decrypt_in_place(b"", frame).unwrap().len()
}

fn main() {
    let n = common::frames(20_000);
    let kids: u64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    // Consecutive KIDs from 0 or around `common::KID` (the sorted index it replaced took the
    // same ceil(log2 N) steps wherever the KID was).
    let first = common::KID.0.saturating_sub(kids / 2);
    let mut store = Decryptor::new(common::SUITE);
    for kid in first..first + kids {
        store.add_key(KeyId(kid), &common::base_key()).unwrap();
    }
    let mut frames = common::sealed_frames(n);
    let mut sum = 0;
    for frame in &mut frames {
        sum += probe(&mut store, black_box(frame));
    }
    assert_eq!(sum, n * common::SIZE);
    println!("Decryptor::decrypt_in_place among {kids} KIDs: {n} frames");
}
