//! Target `codec_plan`: [`codec::plan`] on arbitrary frames of every codec, under policies the
//! input picks.

use core::ops::Range;

use secure_frame::codec::{self, ClearRanges, Codec, H265Cover, Plan, Policy, SeiPolicy, Vp8Delta};

use crate::Input;
use crate::contract::must;

/// Every codec [`codec::plan`] takes, in the order the control byte picks them.
pub const CODECS: [Codec; 9] = [
    Codec::Opus,
    Codec::Pcmu,
    Codec::Pcma,
    Codec::G722,
    Codec::Vp8,
    Codec::Vp9,
    Codec::Av1,
    Codec::H264,
    Codec::H265,
];

/// The codec and policy a control byte picks: bits 0–3 the codec (modulo 9), bit 4
/// `opus_keep_toc`, bit 5 `Vp8Delta::FrameTag`, bit 6 `SeiPolicy::Clear` and
/// `H265Cover::HeaderOnly`, bit 7 `strict_syntax` and `max_ranges` 4 (instead of the default).
#[must_use]
pub fn codec_policy(control: u8) -> (Codec, Policy) {
    let codec = CODECS
        .get(usize::from(control & 0x0f) % CODECS.len())
        .copied()
        .unwrap_or(Codec::Opus);
    let (clear, strict) = (control & 0x40 != 0, control & 0x80 != 0);
    // `Policy` is `#[non_exhaustive]`: built from the default, field by field.
    let mut policy = Policy::default();
    policy.opus_keep_toc = control & 0x10 != 0;
    policy.vp8_delta = if control & 0x20 != 0 {
        Vp8Delta::FrameTag
    } else {
        Vp8Delta::OneByte
    };
    policy.sei = if clear {
        SeiPolicy::Clear
    } else {
        SeiPolicy::Encrypt
    };
    policy.h265_cover = if clear {
        H265Cover::HeaderOnly
    } else {
        H265Cover::SliceHeaderCover
    };
    policy.strict_syntax = strict;
    if strict {
        policy.max_ranges = 4;
    }
    (codec, policy)
}

/// The control byte [`codec_policy`] reads as `codec` with the default policy.
#[must_use]
pub fn codec_control(codec: Codec) -> u8 {
    CODECS
        .iter()
        .position(|c| *c == codec)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(0)
}

/// Checks the invariants of a set of clear ranges for a frame of `frame_len` bytes and returns
/// them: sorted, disjoint, merged (a gap of at least one byte between ranges), non-empty, at
/// most `max_ranges` of them, within the frame; and the range map round-trips.
fn check_ranges(clear: &ClearRanges, frame_len: usize, max_ranges: usize) -> Vec<Range<usize>> {
    let ranges: Vec<Range<usize>> = clear.iter().collect();
    let mut previous_end = None;
    for r in &ranges {
        assert!(r.start < r.end, "empty clear range {r:?}");
        assert!(
            r.end <= frame_len,
            "clear range {r:?} past the frame ({frame_len})"
        );
        if let Some(end) = previous_end {
            assert!(
                r.start > end,
                "clear ranges unsorted or unmerged: {ranges:?}"
            );
        }
        previous_end = Some(r.end);
    }
    assert!(ranges.len() <= max_ranges, "more than max_ranges ranges");
    assert_eq!(clear.len(), ranges.len(), "len");
    assert_eq!(clear.is_empty(), ranges.is_empty(), "is_empty");
    assert_eq!(clear.end(), previous_end.unwrap_or(0), "end");
    let clear_len: usize = ranges.iter().map(ExactSizeIterator::len).sum();
    assert_eq!(clear.clear_len(), clear_len, "clear_len");
    // The opaque ranges are the complement within the frame.
    let opaque_len: usize = clear.opaque(frame_len).map(|r| r.len()).sum();
    assert_eq!(
        clear_len + opaque_len,
        frame_len,
        "clear and opaque cover the frame"
    );
    let mut map = Vec::new();
    clear.encode_map(&mut map);
    assert_eq!(map.len(), clear.encoded_map_len(), "encoded_map_len");
    let decoded = ClearRanges::decode_map(&map, frame_len, max_ranges);
    assert_eq!(decoded.as_ref(), Ok(clear), "range map round-trips");
    ranges
}

/// Fuzzes the codec planners: the first byte picks codec and policy ([`codec_policy`]), the
/// rest is the frame.
///
/// # Panics
///
/// When [`codec::plan`] panics; when a plan's clear ranges are not sorted, disjoint, merged,
/// non-empty, within the normalized frame and at most `max_ranges`; when the range map does not
/// round-trip; when planning the normalized frame again does not give the same frame, ranges,
/// framing and key frame hint (normalization is idempotent); or when a 0-byte frame is anything
/// but passed through or refused.
pub fn codec_plan(data: &[u8]) {
    let mut input = Input::new(data);
    let (codec, policy) = codec_policy(input.u8());
    let frame = input.rest();
    let Ok(first) = codec::plan(codec, frame, &policy) else {
        return;
    };
    let Plan::Protect(first) = first else {
        assert!(frame.is_empty(), "only 0-byte frames pass through");
        return;
    };
    let normalized = first.frame();
    assert!(!normalized.is_empty(), "a protected frame is not empty");
    if !first.is_rewritten() {
        assert_eq!(normalized, frame, "a borrowed plan is the input");
    }
    let ranges = check_ranges(first.clear(), normalized.len(), policy.max_ranges);
    let opaque: Vec<Range<usize>> = first.opaque().collect();
    assert_eq!(
        opaque,
        first.clear().opaque(normalized.len()).collect::<Vec<_>>(),
        "opaque"
    );

    let again = must(
        codec::plan(codec, normalized, &policy),
        "planning a normalized frame",
    );
    let Plan::Protect(again) = again else {
        unreachable!("a normalized frame passed through")
    };
    assert_eq!(again.frame(), normalized, "normalization is idempotent");
    assert!(!again.is_rewritten(), "a normalized frame is not rewritten");
    assert_eq!(
        again.clear().iter().collect::<Vec<_>>(),
        ranges,
        "same ranges"
    );
    assert_eq!(again.framing(), first.framing(), "same framing");
    assert_eq!(again.keyframe(), first.keyframe(), "same key frame hint");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoke() {
        for control in 0..=u8::MAX {
            codec_plan(&[control]);
            codec_plan(&[control, 0, 0, 0, 1, 0x61, 0xe0, 0xfa]);
            codec_plan(&[control, 0x10, 0x02, 0x9d, 0x01, 0x2a, 1, 2, 3, 4, 5, 6]);
            codec_plan(&[control, 0x12, 0x00, 0x0a, 0x01, 0xff]);
        }
    }

    #[test]
    fn control_round_trips() {
        for codec in CODECS {
            assert_eq!(
                codec_policy(codec_control(codec)),
                (codec, Policy::default())
            );
        }
    }
}
