//! What `tests/cisco.rs` and `tests/sframe_rs.rs` share: the random inputs of the property
//! tests and the case count.
#![allow(dead_code, reason = "each test file uses a part")]

use proptest::prelude::*;
use proptest::test_runner::Config;

/// Cases per property (each covers every suite the peer has, both directions): 256 by
/// default, `INTEROP_CASES` in CI (`scripts/test` sets 2000).
pub(crate) fn config() -> Config {
    let cases = std::env::var("INTEROP_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    Config {
        cases,
        // Failures are shrunk, but a 64 KiB plaintext makes every shrink step slow.
        max_shrink_iters: 256,
        ..Config::default()
    }
}

/// A value at each byte-length boundary of the header's KID and CTR fields (RFC 9605 §4.3):
/// 0..=7 in the config byte, then the first and last value of 1, 2, …, 8 bytes, `u64::MAX`.
pub(crate) fn boundary() -> impl Strategy<Value = u64> {
    let mut values: Vec<u64> = (0..=8).collect();
    for bytes in 1..8u32 {
        let first_above = 1u64 << (8 * bytes);
        values.extend([first_above - 1, first_above, first_above + 1]);
    }
    values.extend([u64::MAX - 1, u64::MAX]);
    proptest::sample::select(values)
}

/// A KID or counter: a boundary value, a small one, or any.
pub(crate) fn header_value() -> impl Strategy<Value = u64> {
    prop_oneof![
        4 => boundary(),
        2 => 0..300u64,
        3 => any::<u64>(),
        // Every byte length equally likely.
        3 => (1..=8u32).prop_flat_map(|bytes| {
            let low = if bytes == 1 { 8 } else { 1u64 << (8 * (bytes - 1)) };
            let high = if bytes == 8 { u64::MAX } else { (1u64 << (8 * bytes)) - 1 };
            low..=high
        }),
    ]
}

/// Metadata of 0 to 512 bytes (cisco's limit), the short ones likelier.
pub(crate) fn metadata() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 0..=16),
        1 => proptest::collection::vec(any::<u8>(), 0..=512),
        1 => proptest::collection::vec(any::<u8>(), 512..=512),
    ]
}

/// A plaintext of 0 to 64 KiB: audio-sized, video-sized, up to a 64 KiB keyframe.
pub(crate) fn plaintext() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..=200),
        3 => proptest::collection::vec(any::<u8>(), 0..=2048),
        1 => proptest::collection::vec(any::<u8>(), 0..=65536),
        1 => proptest::collection::vec(any::<u8>(), 65536..=65536),
    ]
}

/// A base key of 1 to 64 bytes.
pub(crate) fn base_key() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        3 => proptest::collection::vec(any::<u8>(), 16..=16),
        1 => proptest::collection::vec(any::<u8>(), 1..=64),
    ]
}

/// One frame's inputs.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub(crate) kid: u64,
    pub(crate) ctr: u64,
    pub(crate) base_key: Vec<u8>,
    pub(crate) metadata: Vec<u8>,
    pub(crate) plaintext: Vec<u8>,
    /// Which bit of the frame the tamper check flips (taken modulo its length in bits).
    pub(crate) flip: usize,
}

pub(crate) fn frame() -> impl Strategy<Value = Frame> {
    (
        header_value(),
        header_value(),
        base_key(),
        metadata(),
        plaintext(),
        any::<usize>(),
    )
        .prop_map(|(kid, ctr, base_key, metadata, plaintext, flip)| Frame {
            kid,
            ctr,
            base_key,
            metadata,
            plaintext,
            flip,
        })
}

/// `bytes` with one bit flipped.
pub(crate) fn flipped(bytes: &[u8], bit: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let bit = bit % (out.len() * 8);
    out[bit / 8] ^= 1 << (bit % 8);
    out
}
