//! Session unprotect of 160 B frames, RFC 9605 format: what the session adds over
//! `ReceiveKey::decrypt_in_place` (participant or epoch lookup, lease, statistics). The
//! sender-key session, or the MLS session with `mls` as the second argument. See `common.rs`.

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

use secure_frame::session::{FrameFormat, KeyScheme, Session};

#[inline(never)]
fn probe<S: KeyScheme>(bob: &mut Session<S>, frame: &mut [u8]) -> usize {
    bob.unprotect(b"", frame)
        .unwrap()
        .decrypted()
        .unwrap()
        .plaintext
        .len()
}

fn run<S: KeyScheme>(n: usize, alice: &mut Session<S>, bob: &mut Session<S>) {
    let mut frames: Vec<Vec<u8>> = (0..n)
        .map(|_| {
            let mut frame = vec![0x5a; common::SIZE];
            alice.protect(b"", &mut frame).unwrap();
            frame
        })
        .collect();
    let mut sum = 0;
    for frame in &mut frames {
        sum += probe(bob, black_box(frame));
    }
    assert_eq!(sum, n * common::SIZE);
}

fn main() {
    let n = common::frames(20_000);
    if std::env::args().nth(2).as_deref() == Some("mls") {
        let (mut alice, mut bob) = common::mls_pair();
        run(n, &mut alice, &mut bob);
        println!("MLS session unprotect: {n} frames");
    } else {
        let (mut alice, mut bob) = common::sender_key_pair(FrameFormat::Rfc9605);
        run(n, &mut alice, &mut bob);
        println!("sender-key session unprotect: {n} frames");
    }
}
