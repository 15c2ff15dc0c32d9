//! Interoperability tests of `secure-frame` against real protocol stacks; not published. The
//! tests live in `tests/`: MLS with openmls, and calls over str0m (a sans-IO WebRTC stack) in
//! the codec-aware format through str0m's packetizers and in SFrame's own RTP payload format
//! (`secure_frame::rtp`) through its RTP-level API, and frames both ways with cisco/sframe (a C
//! ABI shim, `cisco`) and sframe-rs. The call harness is here, shared by the tests and
//! `examples/call.rs`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::missing_panics_doc,
    clippy::cast_possible_truncation,
    clippy::as_conversions,
    clippy::too_many_lines,
    reason = "test harness: a panic is a failed assertion"
)]

pub mod call;
pub mod cisco;
pub mod media;
pub mod net;
pub mod sfu;
