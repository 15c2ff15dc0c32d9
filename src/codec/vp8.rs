//! VP8 (video/VP8): which bytes stay clear (not part of RFC 9605).
//!
//! RFC 6386 §9.1: a frame starts with a 3-byte frame tag, little-endian bit fields
//! `key_frame(1) version(3) show_frame(1) first_part_size(19)`, where `key_frame == 0` means a key
//! frame (RFC 7741 calls it the inverse key frame flag P). A key frame adds the start code
//! `9d 01 2a` and two 16-bit little-endian fields `width(14) scale(2)`, `height(14) scale(2)`.
//!
//! The libwebrtc VP8 depacketizer reads the P bit of every frame and, on key frames, the
//! dimensions from bytes 6..10. So key frames keep bytes 0..10 clear and delta frames byte 0
//! (`Vp8Delta::FrameTag`: the whole frame tag, bytes 0..3).

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::error::{CodecError, Field};
use super::ranges::ClearRanges;
use super::{FramePlan, Framing, Plan, Policy, Vp8Delta};

/// Frame tag, start code and dimensions.
const KEY_FRAME_HEADER_LEN: usize = 10;
/// The key frame start code at bytes 3..6.
const START_CODE: [u8; 3] = [0x9d, 0x01, 0x2a];
/// The frame tag.
const FRAME_TAG_LEN: usize = 3;

/// Plans a VP8 frame.
pub(crate) fn plan<'a>(
    frame: &'a [u8],
    policy: &Policy,
    mut clear: ClearRanges,
    spare: Vec<u8>,
) -> Result<Plan<'a>, CodecError> {
    let Some(&first) = frame.first() else {
        return Ok(Plan::PassThrough);
    };
    let key = first & 0x01 == 0;
    let clear_len = if key {
        let header = frame
            .get(..KEY_FRAME_HEADER_LEN)
            .ok_or(CodecError::Truncated {
                at: 0,
                need: KEY_FRAME_HEADER_LEN,
                have: frame.len(),
                what: Field::Vp8KeyFrameHeader,
            })?;
        if header.get(3..6) != Some(&START_CODE[..]) {
            return Err(CodecError::BadVp8StartCode { at: 3 });
        }
        KEY_FRAME_HEADER_LEN
    } else {
        match policy.vp8_delta {
            Vp8Delta::OneByte => 1,
            Vp8Delta::FrameTag => {
                if frame.len() < FRAME_TAG_LEN {
                    return Err(CodecError::Truncated {
                        at: 0,
                        need: FRAME_TAG_LEN,
                        have: frame.len(),
                        what: Field::Vp8FrameTag,
                    });
                }
                FRAME_TAG_LEN
            }
        }
    };
    clear.union_push(0, clear_len);
    check_ranges(&clear, policy)?;
    Ok(Plan::Protect(FramePlan::new(
        Cow::Borrowed(frame),
        clear,
        spare,
        Framing::Opaque,
        Some(key),
    )))
}

/// `max_ranges` also applies to frames with a single range (a limit of 0 means "nothing clear").
pub(crate) fn check_ranges(clear: &ClearRanges, policy: &Policy) -> Result<(), CodecError> {
    if clear.len() > policy.max_ranges {
        return Err(CodecError::TooManyRanges {
            at: 0,
            max: policy.max_ranges,
        });
    }
    Ok(())
}
