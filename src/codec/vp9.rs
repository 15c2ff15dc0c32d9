//! VP9 (video/VP9): nothing stays clear (not part of RFC 9605).
//!
//! The VP9 RTP payload descriptor is built from the encoder's codec-specific information and
//! carries everything the depacketizer and SFUs need, so the whole frame is opaque.
//!
//! The key frame hint comes from the start of the uncompressed header (VP9 spec §6.2):
//! `frame_marker(2) profile_low_bit(1) profile_high_bit(1) [reserved_zero(1) if profile 3]
//! show_existing_frame(1) frame_type(1)`, `frame_type == 0` meaning a key frame. All of it is in
//! byte 0.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::error::CodecError;
use super::ranges::ClearRanges;
use super::{FramePlan, Framing, Plan, Policy};

/// Plans a VP9 frame.
pub(crate) fn plan<'a>(
    frame: &'a [u8],
    policy: &Policy,
    clear: ClearRanges,
    spare: Vec<u8>,
) -> Result<Plan<'a>, CodecError> {
    let Some(&first) = frame.first() else {
        return Ok(Plan::PassThrough);
    };
    let marker_ok = first >> 6 == 0b10;
    if policy.strict_syntax && !marker_ok {
        return Err(CodecError::BadVp9FrameMarker { at: 0 });
    }
    let keyframe = marker_ok.then(|| {
        let profile_low = (first >> 5) & 1;
        let profile_high = (first >> 4) & 1;
        let profile = (profile_high << 1) | profile_low;
        // Bit index (from the MSB) of show_existing_frame: 4, or 5 after profile 3's reserved bit.
        let show_existing_shift = if profile == 3 { 2 } else { 3 };
        let show_existing = (first >> show_existing_shift) & 1 == 1;
        let frame_type = (first >> (show_existing_shift - 1)) & 1;
        !show_existing && frame_type == 0
    });
    Ok(Plan::Protect(FramePlan::new(
        Cow::Borrowed(frame),
        clear,
        spare,
        Framing::Opaque,
        keyframe,
    )))
}
