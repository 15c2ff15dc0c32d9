//! Sender-key session protect + unprotect of real H.264 access units, frame format
//! `Rfc9605`; the copy of the frame into the wire buffer is outside the probe. See
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

use secure_frame::SenderKeySession;
#[allow(unused_imports, reason = "one of the two formats")]
use secure_frame::codec::Codec;
use secure_frame::session::FrameFormat;

#[inline(never)]
fn probe(alice: &mut SenderKeySession, bob: &mut SenderKeySession, wire: &mut Vec<u8>) -> usize {
    alice.protect(b"", wire).unwrap();
    bob.unprotect(b"", wire)
        .unwrap()
        .decrypted()
        .unwrap()
        .plaintext
        .len()
}

fn main() {
    common::run_sessions(|| FrameFormat::Rfc9605, probe);
}
