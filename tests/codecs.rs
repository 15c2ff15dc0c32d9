//! The codec layer (not part of RFC 9605): the frames of research/codecs.md §7.1–§7.5 with their
//! exact expectations, property tests over generated valid frames and garbage, range map round
//! trips and rejections, and every frame of the real clips in `test-data/media/`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::single_range_in_vec_init,
    reason = "test code: a panic is a failure, and expected clear ranges read best as ranges"
)]

mod common;

use core::ops::Range;

use common::frames::{
    GenNal, assemble, assemble_av1, assemble_with, h264_nal, h265_nal, obu, parse_normalized_av1,
    vp8_frame,
};
use common::media::{self, AnnexB};
use proptest::prelude::*;
use secure_frame::codec::{
    ClearRanges, Codec, CodecError, Field, FramePlan, Framing, H265Cover, Leb128ErrorKind, Plan,
    Policy, RangeMapError, SeiPolicy, Vp8Delta, plan,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/// Hex with spaces allowed.
fn h(hex: &str) -> Vec<u8> {
    hex::decode(hex.replace([' ', '\n'], "")).unwrap()
}

fn ranges(clear: &ClearRanges) -> Vec<Range<usize>> {
    clear.iter().collect()
}

/// Every invariant of a plan's ranges, and the range map round trip.
fn check_invariants(frame: &[u8], clear: &ClearRanges) {
    let list = ranges(clear);
    assert_eq!(list.len(), clear.len());
    assert_eq!(clear.is_empty(), list.is_empty());
    for r in &list {
        assert!(r.start < r.end, "empty range {r:?}");
        assert!(
            r.end <= frame.len(),
            "range {r:?} past the frame ({})",
            frame.len()
        );
    }
    for pair in list.windows(2) {
        assert!(pair[0].end < pair[1].start, "unsorted/adjacent {pair:?}");
    }
    assert_eq!(clear.end(), list.last().map_or(0, |r| r.end));
    assert_eq!(
        clear.clear_len(),
        list.iter().map(ExactSizeIterator::len).sum::<usize>()
    );
    // Clear and opaque ranges tile the frame, alternating.
    let opaque: Vec<Range<usize>> = clear.opaque(frame.len()).collect();
    let mut all: Vec<(Range<usize>, bool)> = list
        .iter()
        .cloned()
        .map(|r| (r, true))
        .chain(opaque.iter().cloned().map(|r| (r, false)))
        .collect();
    all.sort_by_key(|(r, _)| r.start);
    let mut pos = 0;
    for (i, (r, is_clear)) in all.iter().enumerate() {
        assert_eq!(r.start, pos, "gap or overlap at {pos}");
        assert!(!r.is_empty());
        if i > 0 {
            assert_ne!(all[i - 1].1, *is_clear, "two neighbours of the same kind");
        }
        pos = r.end;
    }
    assert_eq!(pos, frame.len());
    // The map round trip, its canonical form, and no `00 00` inside it.
    let mut map = Vec::new();
    clear.encode_map(&mut map);
    assert_eq!(map.len(), clear.encoded_map_len());
    assert!(
        !map.windows(2).any(|w| w == [0, 0]),
        "00 00 in map {map:02x?}"
    );
    let back = ClearRanges::decode_map(&map, frame.len(), clear.len()).unwrap();
    assert_eq!(&back, clear);
    if !clear.is_empty() {
        assert_eq!(
            ClearRanges::decode_map(&map, frame.len(), clear.len() - 1),
            Err(RangeMapError::TooManyRanges)
        );
    }
}

/// Plans, expects `Protect`, checks the invariants and that planning the normalized frame again
/// changes nothing (idempotence).
fn protect<'a>(codec: Codec, frame: &'a [u8], policy: &Policy) -> FramePlan<'a> {
    let plan_result = plan(codec, frame, policy);
    let Ok(Plan::Protect(p)) = plan_result else {
        panic!("{codec:?}: expected Protect, got {plan_result:?}");
    };
    check_plan(codec, &p, policy);
    p
}

fn check_plan(codec: Codec, p: &FramePlan<'_>, policy: &Policy) {
    check_invariants(p.frame(), p.clear());
    assert_eq!(p.framing(), codec.framing());
    assert_eq!(
        p.opaque().collect::<Vec<_>>(),
        p.clear().opaque(p.frame().len()).collect::<Vec<_>>()
    );
    let again = plan(codec, p.frame(), policy);
    let Ok(Plan::Protect(q)) = again else {
        panic!("{codec:?}: normalized frame does not plan again: {again:?}");
    };
    assert!(
        !q.is_rewritten(),
        "{codec:?}: normalization is not idempotent"
    );
    assert_eq!(q.frame(), p.frame());
    assert_eq!(q.clear(), p.clear());
    assert_eq!(q.keyframe(), p.keyframe());
}

/// Plans the hex frame and checks the normalized length and the exact ranges.
#[track_caller]
fn expect(codec: Codec, hex: &str, policy: &Policy, norm_len: usize, want: &[Range<usize>]) {
    let frame = h(hex);
    let p = protect(codec, &frame, policy);
    assert_eq!(p.frame().len(), norm_len, "normalized length");
    assert_eq!(ranges(p.clear()), want, "clear ranges");
    assert_eq!(p.is_rewritten(), p.frame() != &frame[..]);
}

#[track_caller]
fn expect_err(codec: Codec, hex: &str, policy: &Policy, want: CodecError) {
    assert_eq!(plan(codec, &h(hex), policy), Err(want));
}

fn dave_parity() -> Policy {
    let mut p = Policy::default();
    p.sei = SeiPolicy::Clear;
    p.h265_cover = H265Cover::HeaderOnly;
    p
}

fn sei_clear() -> Policy {
    let mut p = Policy::default();
    p.sei = SeiPolicy::Clear;
    p
}

const SPS_H2: &str = "6742c00d8c8d40d0fbc900f08846a0";

// ---------------------------------------------------------------------------------------------
// §7.1 H.264
// ---------------------------------------------------------------------------------------------

#[test]
fn h1_slice_one_byte_cover() {
    expect(
        Codec::H264,
        "00000001 61 e0 fafafa",
        &Policy::default(),
        9,
        &[0..6],
    );
    let frame = h("00000001 61 e0 fafafa");
    let p = protect(Codec::H264, &frame, &Policy::default());
    assert!(!p.is_rewritten());
    assert_eq!(p.keyframe(), Some(false));
}

#[test]
fn h2_short_idr() {
    let hex = format!("00000001 {SPS_H2} 00000001 68ce3c80 00000001 65 b8 fafafa");
    expect(Codec::H264, &hex, &Policy::default(), 36, &[0..33]);
    assert_eq!(
        protect(Codec::H264, &h(&hex), &Policy::default()).keyframe(),
        Some(true)
    );
}

#[test]
fn h3_two_byte_exp_golomb_cover() {
    let hex = format!("00000001 {SPS_H2} 00000001 68ce3c80 00000001 65 4760 fafafa");
    expect(Codec::H264, &hex, &Policy::default(), 37, &[0..34]);
}

const H4: &str = "00000001 274d0033ab402802dd00da08846a00 00000001 28ee3c80 \
    00000001 06 051a47564adc5c4c433f94efc5113cd143a801ffccccff020004ca9080 00000001 25 b8 fafafa";

#[test]
fn h4_sei_encrypted_and_sps_trailing_zero_stripped() {
    expect(Codec::H264, H4, &Policy::default(), 69, &[0..31, 60..66]);
    let frame = h(H4);
    let p = protect(Codec::H264, &frame, &Policy::default());
    assert!(p.is_rewritten());
    assert_eq!(frame.len(), 70);
}

#[test]
fn h4_sei_clear() {
    expect(Codec::H264, H4, &sei_clear(), 69, &[0..66]);
}

#[test]
fn h4b_trailing_zeros_at_end() {
    expect(
        Codec::H264,
        "00000001 61 e0 fa 0000",
        &Policy::default(),
        7,
        &[0..6],
    );
}

#[test]
fn h4c_trailing_zero_before_start_code() {
    expect(
        Codec::H264,
        "00000001 61 e0 fa 00 00000001 61 e0 fa",
        &Policy::default(),
        14,
        &[0..6, 7..13],
    );
}

#[test]
fn h5_emulation_prevention_inside_cover() {
    expect(
        Codec::H264,
        "00000001 61 000003 8000 e0 fafafa",
        &Policy::default(),
        14,
        &[0..11],
    );
}

#[test]
fn h6_three_byte_start_codes_normalized() {
    let input = "00000001 2764001fac2b602802dd8088000003000800000301b46d0e1970 \
        000001 28ee3cb0 000001 25 8880 ababab";
    expect(Codec::H264, input, &Policy::default(), 48, &[0..45]);
    let frame = h(input);
    let p = protect(Codec::H264, &frame, &Policy::default());
    let want_prefix = h(
        "000000012764001fac2b602802dd8088000003000800000301b46d0e1970\
        0000000128ee3cb000000001258880",
    );
    assert_eq!(&p.frame()[..45], &want_prefix[..]);
    assert_eq!(&p.frame()[45..], &h("ababab")[..]);
}

#[test]
fn h7_two_slices() {
    expect(
        Codec::H264,
        "00000001 61 e0 fafafa 00000001 61 e0 fafafa",
        &Policy::default(),
        18,
        &[0..6, 9..15],
    );
}

#[test]
fn h8_livekit_sif_keyframe() {
    expect(
        Codec::H264,
        "00000001 6742c01f0fd91f888884000003000400000300c83c60c920 00000001 6887cb83cb20 \
         00000001 6588840af2628000a7be",
        &Policy::default(),
        52,
        &[0..45],
    );
}

#[test]
fn h9_27_bit_cover() {
    expect(
        Codec::H264,
        "00000001 41 000ff070 aabb",
        &Policy::default(),
        11,
        &[0..9],
    );
}

fn keep_aud() -> Policy {
    let mut p = Policy::default();
    p.keep_access_unit_delimiters = true;
    p
}

#[test]
fn h10_aud_first() {
    // Dropped by default (as str0m's and Pion's packetizers drop it): the frame is what follows.
    let rest = format!("00000001 {SPS_H2} 00000001 68ce3c80 00000001 65 b8 fafa");
    let hex = format!("00000001 09f0 {rest}");
    expect(Codec::H264, &hex, &Policy::default(), 35, &[0..33]);
    let frame = h(&hex);
    let p = protect(Codec::H264, &frame, &Policy::default());
    assert_eq!(p.frame(), &h(&rest)[..]);
    assert!(p.is_rewritten());
    assert_eq!(p.keyframe(), Some(true));
    // Kept: whole and clear.
    expect(Codec::H264, &hex, &keep_aud(), 41, &[0..39]);
    assert_eq!(
        protect(Codec::H264, &h(&hex), &keep_aud()).keyframe(),
        Some(true)
    );
}

#[test]
fn h10b_aud_dropped_anywhere_with_any_start_code_and_ref_idc() {
    // AUDs behind 3-byte start codes, between units, with nal_ref_idc set (0x29: the type is
    // still 9), and trailing zeros: all dropped; the rest normalized.
    let hex = "000001 09f0 00 000001 61 e0 fa 000001 2910 00000001 61 e0 fb 000001 0930";
    expect(Codec::H264, hex, &Policy::default(), 14, &[0..6, 7..13]);
    assert_eq!(
        protect(Codec::H264, &h(hex), &Policy::default()).frame(),
        &h("00000001 61 e0 fa 00000001 61 e0 fb")[..]
    );
    expect(Codec::H264, hex, &keep_aud(), 32, &[0..12, 13..25, 26..32]);
}

#[test]
fn h10c_only_aud_is_no_media() {
    expect_err(
        Codec::H264,
        "00000001 09f0",
        &Policy::default(),
        CodecError::NoMediaUnits,
    );
    expect_err(
        Codec::H264,
        "00000001 09f0 000001 0910",
        &Policy::default(),
        CodecError::NoMediaUnits,
    );
    expect(Codec::H264, "00000001 09f0", &keep_aud(), 6, &[0..6]);
    // A forbidden bit is refused before anything is dropped.
    expect_err(
        Codec::H264,
        "00000001 89f0 00000001 61 e0 fa",
        &Policy::default(),
        CodecError::ForbiddenBit { at: 4 },
    );
}

#[test]
fn h11_parameter_sets_only() {
    let hex = format!("00000001 {SPS_H2} 00000001 68ce3c80");
    expect(Codec::H264, &hex, &Policy::default(), 27, &[0..27]);
    let frame = h(&hex);
    let p = protect(Codec::H264, &frame, &Policy::default());
    assert_eq!(p.opaque().count(), 0);
    assert_eq!(p.keyframe(), Some(false));
}

#[test]
fn h12_prefix_nal_and_slice_extension() {
    expect(
        Codec::H264,
        "00000001 6e c00000 aa 00000001 74 c00001 bbcc",
        &Policy::default(),
        19,
        &[0..17],
    );
}

#[test]
fn e1_slice_header_missing() {
    expect_err(
        Codec::H264,
        "00000001 65",
        &Policy::default(),
        CodecError::Truncated {
            at: 5,
            need: 1,
            have: 0,
            what: Field::SliceHeader,
        },
    );
}

#[test]
fn e2_ue_runs_off_the_nal() {
    // The trailing 00 is stripped, so nothing of the slice header is left.
    expect_err(
        Codec::H264,
        "00000001 65 00",
        &Policy::default(),
        CodecError::Truncated {
            at: 5,
            need: 1,
            have: 0,
            what: Field::SliceHeader,
        },
    );
    // A real run-off: 0x01 starts a 7-zero code that the unit does not finish.
    expect_err(
        Codec::H264,
        "00000001 65 01",
        &Policy::default(),
        CodecError::Truncated {
            at: 5,
            need: 2,
            have: 1,
            what: Field::SliceHeader,
        },
    );
}

#[test]
fn e3_cover_does_not_cross_into_the_next_nal() {
    expect_err(
        Codec::H264,
        "00000001 65 00 00000001 61 e0 fa",
        &Policy::default(),
        CodecError::Truncated {
            at: 5,
            need: 1,
            have: 0,
            what: Field::SliceHeader,
        },
    );
}

#[test]
fn e4_leading_garbage() {
    expect_err(
        Codec::H264,
        "ff 00000001 61 e0 fa",
        &Policy::default(),
        CodecError::LeadingGarbage { at: 0, len: 2 },
    );
    expect_err(
        Codec::H265,
        "00 ff 00 000001 0201 abab",
        &Policy::default(),
        CodecError::LeadingGarbage { at: 1, len: 3 },
    );
}

#[test]
fn e5_leading_zero_byte_normalized_away() {
    expect(
        Codec::H264,
        "00 00000001 61 e0 fa",
        &Policy::default(),
        7,
        &[0..6],
    );
}

#[test]
fn e6_no_start_code() {
    expect_err(
        Codec::H264,
        "61 e0 fa fa fa",
        &Policy::default(),
        CodecError::NoStartCode { at: 0 },
    );
    expect_err(
        Codec::H264,
        "",
        &Policy::default(),
        CodecError::NoStartCode { at: 0 },
    );
    expect_err(
        Codec::H265,
        "",
        &Policy::default(),
        CodecError::NoStartCode { at: 0 },
    );
}

#[test]
fn e7_stap_a_inside_annex_b() {
    expect_err(
        Codec::H264,
        "00000001 78 e0 fa",
        &Policy::default(),
        CodecError::RtpOnlyNalType { at: 4, ty: 24 },
    );
}

#[test]
fn e8_forbidden_bit() {
    expect_err(
        Codec::H264,
        "00000001 e1 e0 fa",
        &Policy::default(),
        CodecError::ForbiddenBit { at: 4 },
    );
}

#[test]
fn e9_empty_nal_between_start_codes() {
    expect_err(
        Codec::H264,
        "00000001 00000001 61 e0 fa",
        &Policy::default(),
        CodecError::EmptyNalUnit { at: 1 },
    );
}

#[test]
fn e10_start_code_at_the_end() {
    expect_err(
        Codec::H264,
        "00000001 61 e0 fa 00000001",
        &Policy::default(),
        CodecError::EmptyNalUnit { at: 8 },
    );
}

#[test]
fn e11_exp_golomb_overflow_across_epbs() {
    expect_err(
        Codec::H264,
        "00000001 61 000003 000003 0080",
        &Policy::default(),
        CodecError::ExpGolombOverflow { at: 5 },
    );
}

#[test]
fn h264_invalid_slice_header_fields() {
    // slice_type = 10 (ue 0001011), pps 0.
    expect_err(
        Codec::H264,
        "00000001 61 8b 80",
        &Policy::default(),
        CodecError::InvalidSliceHeader { at: 5 },
    );
    // first_mb 0, slice_type 0, pps_id 256 (ue 00000000 100000001).
    expect_err(
        Codec::H264,
        "00000001 61 c0 20 30",
        &Policy::default(),
        CodecError::InvalidSliceHeader { at: 5 },
    );
    // pps_id 255 is fine: 1 1 00000000 100000000 then the stop bit.
    expect(
        Codec::H264,
        "00000001 61 c0 20 10",
        &Policy::default(),
        8,
        &[0..8],
    );
}

#[test]
fn h264_extension_header_truncated() {
    expect_err(
        Codec::H264,
        "00000001 74 c0 01",
        &Policy::default(),
        CodecError::Truncated {
            at: 4,
            need: 4,
            have: 3,
            what: Field::NalHeaderExtension,
        },
    );
}

#[test]
fn h264_other_types() {
    // Data partition A (2), reserved (17), unspecified (0): header only.
    for header in ["42", "51", "60"] {
        expect(
            Codec::H264,
            &format!("00000001 {header} aabbcc"),
            &Policy::default(),
            8,
            &[0..5],
        );
    }
    // End of stream (11), filler (12): whole.
    expect(
        Codec::H264,
        "00000001 0b 00000001 0c ffff80",
        &Policy::default(),
        13,
        &[0..13],
    );
}

// ---------------------------------------------------------------------------------------------
// §7.2 H.265
// ---------------------------------------------------------------------------------------------

#[test]
fn g1_tsa_slice() {
    expect(
        Codec::H265,
        "00000001 0201 abab",
        &Policy::default(),
        8,
        &[0..7],
    );
    expect(
        Codec::H265,
        "00000001 0201 abab",
        &dave_parity(),
        8,
        &[0..6],
    );
}

#[test]
fn g2_three_byte_start_code() {
    expect(
        Codec::H265,
        "000001 0201 abab",
        &Policy::default(),
        8,
        &[0..7],
    );
    expect(Codec::H265, "000001 0201 abab", &dave_parity(), 8, &[0..6]);
}

const G3: &str = "0000000140010c01ffff016000000300b0000003000003005d17024\
    000000001420101016000000300b0000003000003005da00280802d16205ee45914bff2e7f13fa2\
    000000014401c072f05324000000014e01051a47564adc5c4c433f94efc5113cd143a803ee0000ee02001fc8b88\
    0000000012801abab";

const G4: &str = "00000140010c01ffff016000000300b0000003000003005d17024\
    0000001420101016000000300b0000003000003005da00280802d16205ee45914bff2e7f13fa2\
    000000014401c072f05324000000014e01051a47564adc5c4c433f94efc5113cd143a803ee0000ee02001fc8b88\
    00000012801abab";

#[test]
fn g3_idr_with_parameter_sets_and_sei() {
    expect(Codec::H265, G3, &Policy::default(), 121, &[0..84, 113..120]);
    expect(Codec::H265, G3, &dave_parity(), 121, &[0..119]);
    let frame = h(G3);
    let p = protect(Codec::H265, &frame, &Policy::default());
    assert!(!p.is_rewritten());
    assert_eq!(p.keyframe(), Some(true));
}

#[test]
fn g4_three_byte_start_codes() {
    expect(Codec::H265, G4, &Policy::default(), 121, &[0..84, 113..120]);
    expect(Codec::H265, G4, &dave_parity(), 121, &[0..119]);
    let (g3, g4) = (h(G3), h(G4));
    assert_eq!(g4.len(), 118);
    assert_eq!(
        protect(Codec::H265, &g4, &Policy::default()).frame(),
        &g3[..]
    );
}

#[test]
fn g5_two_slices() {
    let hex = "000001 0201 abab 000001 0201 abab";
    expect(Codec::H265, hex, &Policy::default(), 16, &[0..7, 8..15]);
    expect(Codec::H265, hex, &dave_parity(), 16, &[0..6, 8..14]);
}

#[test]
fn g6_idr_w_radl_cover() {
    expect(
        Codec::H265,
        "00000001 2601 c4 aabb",
        &Policy::default(),
        9,
        &[0..8],
    );
    expect(
        Codec::H265,
        "00000001 2601 c4 aabb",
        &dave_parity(),
        9,
        &[0..6],
    );
}

#[test]
fn f1_temporal_id_zero() {
    expect_err(
        Codec::H265,
        "00000001 0200 abab",
        &Policy::default(),
        CodecError::InvalidNalHeader { at: 4 },
    );
}

#[test]
fn f2_fragmentation_unit_type() {
    expect_err(
        Codec::H265,
        "00000001 6201 abab",
        &Policy::default(),
        CodecError::RtpOnlyNalType { at: 4, ty: 49 },
    );
}

#[test]
fn f3_one_byte_nal() {
    expect_err(
        Codec::H265,
        "00000001 02",
        &Policy::default(),
        CodecError::Truncated {
            at: 4,
            need: 2,
            have: 1,
            what: Field::NalHeader,
        },
    );
}

#[test]
fn h265_more_rules() {
    // Forbidden bit.
    expect_err(
        Codec::H265,
        "00000001 8201 ab",
        &Policy::default(),
        CodecError::ForbiddenBit { at: 4 },
    );
    // pps_id 64 (ue 0000001000001) in a TRAIL_R slice: flag 1, then the code.
    expect_err(
        Codec::H265,
        "00000001 0201 81 04",
        &Policy::default(),
        CodecError::InvalidSliceHeader { at: 6 },
    );
    // Slice header running off the unit.
    expect_err(
        Codec::H265,
        "00000001 0201 80",
        &Policy::default(),
        CodecError::Truncated {
            at: 6,
            need: 2,
            have: 1,
            what: Field::SliceHeader,
        },
    );
    // Reserved VCL (10) and reserved non-VCL (41): header only; AUD (35): dropped (kept: whole);
    // suffix SEI (40).
    expect(
        Codec::H265,
        "00000001 1401 aabb",
        &Policy::default(),
        8,
        &[0..6],
    );
    expect(
        Codec::H265,
        "00000001 5201 aabb",
        &Policy::default(),
        8,
        &[0..6],
    );
    expect(Codec::H265, "00000001 4601 50", &keep_aud(), 7, &[0..7]);
    expect_err(
        Codec::H265,
        "00000001 4601 50",
        &Policy::default(),
        CodecError::NoMediaUnits,
    );
    expect(
        Codec::H265,
        "00000001 4601 50 00000001 5201 aabb",
        &Policy::default(),
        8,
        &[0..6],
    );
    // An AUD with nuh_temporal_id_plus1 = 0 is refused, not dropped.
    expect_err(
        Codec::H265,
        "00000001 4600 50 00000001 5201 aabb",
        &Policy::default(),
        CodecError::InvalidNalHeader { at: 4 },
    );
    expect(
        Codec::H265,
        "00000001 5001 aabb",
        &Policy::default(),
        8,
        &[0..6],
    );
    expect(Codec::H265, "00000001 5001 aabb", &sei_clear(), 8, &[0..8]);
    // A CRA (21) is a key frame; a TRAIL_R is not.
    let cra = h("00000001 2a01 a0 aa");
    assert_eq!(
        protect(Codec::H265, &cra, &Policy::default()).keyframe(),
        Some(true)
    );
    let trail = h("00000001 0201 abab");
    assert_eq!(
        protect(Codec::H265, &trail, &Policy::default()).keyframe(),
        Some(false)
    );
}

// ---------------------------------------------------------------------------------------------
// §7.3 VP8
// ---------------------------------------------------------------------------------------------

const P1: &str = "10 02 00 9d 01 2a 08 00 08 00 00 47 08 85 85 88 85 84 88 02 02 00 0c 0d 60 00 fe \
    ff ab 50 80";

#[test]
fn p1_keyframe() {
    expect(Codec::Vp8, P1, &Policy::default(), 31, &[0..10]);
    let frame = h(P1);
    let p = protect(Codec::Vp8, &frame, &Policy::default());
    assert_eq!(p.keyframe(), Some(true));
    assert!(!p.is_rewritten());
    let f = p.frame();
    assert_eq!(u16::from_le_bytes([f[6], f[7]]) & 0x3fff, 8);
    assert_eq!(u16::from_le_bytes([f[8], f[9]]) & 0x3fff, 8);
}

#[test]
fn p2_delta_frame() {
    expect(Codec::Vp8, "31 23 01 02 03", &Policy::default(), 5, &[0..1]);
    let mut tag = Policy::default();
    tag.vp8_delta = Vp8Delta::FrameTag;
    expect(Codec::Vp8, "31 23 01 02 03", &tag, 5, &[0..3]);
    let frame = h("31 23 01 02 03");
    assert_eq!(
        protect(Codec::Vp8, &frame, &Policy::default()).keyframe(),
        Some(false)
    );
    // A delta frame shorter than the frame tag.
    expect_err(
        Codec::Vp8,
        "31 23",
        &tag,
        CodecError::Truncated {
            at: 0,
            need: 3,
            have: 2,
            what: Field::Vp8FrameTag,
        },
    );
    expect(Codec::Vp8, "31", &Policy::default(), 1, &[0..1]);
}

#[test]
fn p3_truncated_keyframe() {
    expect_err(
        Codec::Vp8,
        "10 02 00 9d 01",
        &Policy::default(),
        CodecError::Truncated {
            at: 0,
            need: 10,
            have: 5,
            what: Field::Vp8KeyFrameHeader,
        },
    );
}

#[test]
fn p4_bad_start_code() {
    expect_err(
        Codec::Vp8,
        "10 02 00 aa bb cc 08 00 08 00 00",
        &Policy::default(),
        CodecError::BadVp8StartCode { at: 3 },
    );
}

#[test]
fn p5_ten_byte_keyframe() {
    expect(
        Codec::Vp8,
        "10 02 00 9d 01 2a 08 00 08 00",
        &Policy::default(),
        10,
        &[0..10],
    );
    let frame = h("10 02 00 9d 01 2a 08 00 08 00");
    assert_eq!(
        protect(Codec::Vp8, &frame, &Policy::default())
            .opaque()
            .count(),
        0
    );
}

#[test]
fn p6_empty_passes_through() {
    assert_eq!(
        plan(Codec::Vp8, &[], &Policy::default()),
        Ok(Plan::PassThrough)
    );
    assert_eq!(
        plan(Codec::Vp9, &[], &Policy::default()),
        Ok(Plan::PassThrough)
    );
}

#[test]
fn vp9_nothing_clear() {
    // 0x82: frame marker, profile 0, key frame, shown; 0x86: inter frame.
    for (hex, key) in [("82 49 83 42 00 aa", Some(true)), ("86 00 11", Some(false))] {
        let frame = h(hex);
        let p = protect(Codec::Vp9, &frame, &Policy::default());
        assert!(p.clear().is_empty());
        assert_eq!(p.keyframe(), key);
    }
    // Profile 3 (reserved bit before show_existing_frame): 0xb0 = 10 1 1 0 0 0 0 → key.
    let frame = h("b0 00");
    assert_eq!(
        protect(Codec::Vp9, &frame, &Policy::default()).keyframe(),
        Some(true)
    );
    // show_existing_frame is never a key frame.
    let frame = h("88");
    assert_eq!(
        protect(Codec::Vp9, &frame, &Policy::default()).keyframe(),
        Some(false)
    );
    // A bad frame marker: no hint, or an error with strict syntax.
    let frame = h("42 00");
    assert_eq!(
        protect(Codec::Vp9, &frame, &Policy::default()).keyframe(),
        None
    );
    let mut strict = Policy::default();
    strict.strict_syntax = true;
    expect_err(
        Codec::Vp9,
        "42 00",
        &strict,
        CodecError::BadVp9FrameMarker { at: 0 },
    );
}

// ---------------------------------------------------------------------------------------------
// §7.4 AV1
// ---------------------------------------------------------------------------------------------

const A1: &str = "12 00 0a 0a 0000002ca44c4b6c7a40 32 05 1122334455";
const A1_NORM: &str = "0a 0a 0000002ca44c4b6c7a40 32 05 1122334455";

#[test]
fn a1_temporal_delimiter_dropped() {
    expect(Codec::Av1, A1, &Policy::default(), 19, &[0..2, 12..14]);
    let frame = h(A1);
    let p = protect(Codec::Av1, &frame, &Policy::default());
    assert_eq!(p.frame(), &h(A1_NORM)[..]);
    assert_eq!(p.keyframe(), Some(true));
}

#[test]
fn a2_size_field_added() {
    let input = "12 00 0a 0a 0000002ca44c4b6c7a40 30 1122334455";
    expect(Codec::Av1, input, &Policy::default(), 19, &[0..2, 12..14]);
    let frame = h(input);
    assert_eq!(
        protect(Codec::Av1, &frame, &Policy::default()).frame(),
        &h(A1_NORM)[..]
    );
}

#[test]
fn a3_padded_leb128_minimized() {
    let frame = h("32 85 80 80 00 1122334455");
    expect(
        Codec::Av1,
        "32 85 80 80 00 1122334455",
        &Policy::default(),
        7,
        &[0..2],
    );
    let p = protect(Codec::Av1, &frame, &Policy::default());
    assert_eq!(p.frame(), &h("32 05 1122334455")[..]);
    assert_eq!(p.keyframe(), Some(false));
}

#[test]
fn a4_extension_byte() {
    expect(
        Codec::Av1,
        "36 11 03 aabbcc",
        &Policy::default(),
        6,
        &[0..3],
    );
    let frame = h("36 11 03 aabbcc");
    assert!(!protect(Codec::Av1, &frame, &Policy::default()).is_rewritten());
}

#[test]
fn a5_padding_dropped() {
    expect(
        Codec::Av1,
        "32 03 aabbcc 7a 02 ffff",
        &Policy::default(),
        5,
        &[0..2],
    );
    let frame = h("32 03 aabbcc 7a 02 ffff");
    assert_eq!(
        protect(Codec::Av1, &frame, &Policy::default()).frame(),
        &h("32 03 aabbcc")[..]
    );
}

#[test]
fn a6_obu_overflow() {
    expect_err(
        Codec::Av1,
        "32 09 aabb",
        &Policy::default(),
        CodecError::ObuOverflow {
            at: 0,
            size: 9,
            remaining: 2,
        },
    );
}

#[test]
fn a7_extension_truncated() {
    expect_err(
        Codec::Av1,
        "36",
        &Policy::default(),
        CodecError::Truncated {
            at: 0,
            need: 2,
            have: 1,
            what: Field::ObuExtension,
        },
    );
}

#[test]
fn a8_leb128_too_long() {
    expect_err(
        Codec::Av1,
        "32 ff ff ff ff ff ff ff ff ff",
        &Policy::default(),
        CodecError::Leb128 {
            at: 1,
            kind: Leb128ErrorKind::TooLong,
        },
    );
}

#[test]
fn a9_forbidden_bit() {
    expect_err(
        Codec::Av1,
        "b2 00",
        &Policy::default(),
        CodecError::ForbiddenBit { at: 0 },
    );
}

#[test]
fn a10_only_a_temporal_delimiter() {
    expect_err(
        Codec::Av1,
        "12 00",
        &Policy::default(),
        CodecError::NoMediaUnits,
    );
    expect_err(Codec::Av1, "", &Policy::default(), CodecError::NoMediaUnits);
    expect_err(
        Codec::Av1,
        "12 00 42 00 7a 01 00",
        &Policy::default(),
        CodecError::NoMediaUnits,
    );
}

#[test]
fn av1_more_leb128_errors() {
    expect_err(
        Codec::Av1,
        "32 80",
        &Policy::default(),
        CodecError::Leb128 {
            at: 1,
            kind: Leb128ErrorKind::Truncated,
        },
    );
    // 2^32 in 5 bytes.
    expect_err(
        Codec::Av1,
        "12 00 32 80 80 80 80 10",
        &Policy::default(),
        CodecError::Leb128 {
            at: 3,
            kind: Leb128ErrorKind::Overflow,
        },
    );
    // 2^32 - 1 is a valid size, just too large for this frame.
    expect_err(
        Codec::Av1,
        "32 ff ff ff ff 0f 00",
        &Policy::default(),
        CodecError::ObuOverflow {
            at: 0,
            size: u32::MAX,
            remaining: 1,
        },
    );
    // The error offset of a later OBU counts from the frame start.
    expect_err(
        Codec::Av1,
        "32 01 aa 36",
        &Policy::default(),
        CodecError::Truncated {
            at: 3,
            need: 2,
            have: 1,
            what: Field::ObuExtension,
        },
    );
}

#[test]
fn av1_zero_size_obus_merge_ranges() {
    // Two empty metadata OBUs and a frame: their header ranges touch and merge.
    expect(
        Codec::Av1,
        "2a 00 2a 00 32 01 aa",
        &Policy::default(),
        7,
        &[0..6],
    );
}

// ---------------------------------------------------------------------------------------------
// §7.5 Opus and other audio
// ---------------------------------------------------------------------------------------------

fn keep_toc() -> Policy {
    let mut p = Policy::default();
    p.opus_keep_toc = true;
    p
}

#[test]
fn o1_opus_all_opaque() {
    expect(Codec::Opus, "f8 ff fe", &Policy::default(), 3, &[]);
    expect(Codec::Opus, "f8 ff fe", &keep_toc(), 3, &[0..1]);
    let frame = h("f8 ff fe");
    let p = protect(Codec::Opus, &frame, &Policy::default());
    assert_eq!(p.keyframe(), None);
    assert_eq!(p.opaque().collect::<Vec<_>>(), vec![0..3]);
}

#[test]
fn o2_one_byte_opus() {
    expect(Codec::Opus, "f8", &Policy::default(), 1, &[]);
    expect(Codec::Opus, "f8", &keep_toc(), 1, &[0..1]);
}

#[test]
fn o3_empty_passes_through() {
    for codec in [Codec::Opus, Codec::Pcmu, Codec::Pcma, Codec::G722] {
        assert_eq!(plan(codec, &[], &keep_toc()), Ok(Plan::PassThrough));
    }
}

#[test]
fn o4_red_refused() {
    assert_eq!(Codec::from_mime("audio/red"), None);
    assert_eq!(
        "audio/red".parse::<Codec>(),
        Err(CodecError::UnsupportedCodec)
    );
    assert_eq!(
        "video/rtx".parse::<Codec>(),
        Err(CodecError::UnsupportedCodec)
    );
}

#[test]
fn g711_g722_all_opaque() {
    for codec in [Codec::Pcmu, Codec::Pcma, Codec::G722] {
        expect(codec, "d5 d5 55 00", &keep_toc(), 4, &[]);
    }
}

// ---------------------------------------------------------------------------------------------
// Codec names, policy, limits
// ---------------------------------------------------------------------------------------------

#[test]
fn codec_from_mime() {
    let cases = [
        ("audio/opus", Codec::Opus),
        ("AUDIO/OPUS", Codec::Opus),
        ("audio/PCMU", Codec::Pcmu),
        ("audio/pcma", Codec::Pcma),
        ("audio/G722", Codec::G722),
        ("video/VP8", Codec::Vp8),
        ("video/vp9", Codec::Vp9),
        ("video/AV1", Codec::Av1),
        ("video/H264", Codec::H264),
        ("video/h265", Codec::H265),
    ];
    for (mime, codec) in cases {
        assert_eq!(Codec::from_mime(mime), Some(codec), "{mime}");
        assert_eq!(Codec::from_mime(codec.mime()), Some(codec));
        assert_eq!(mime.parse::<Codec>(), Ok(codec));
    }
    for bad in [
        "",
        "video/",
        "H264",
        "video/H264 ",
        "audio/red",
        "audio/CN",
        "video/H266",
    ] {
        assert_eq!(Codec::from_mime(bad), None, "{bad}");
    }
    assert_eq!(Codec::H264.framing(), Framing::AnnexB);
    assert_eq!(Codec::H265.framing(), Framing::AnnexB);
    assert_eq!(Codec::Av1.framing(), Framing::Av1Obu);
    assert_eq!(Codec::Vp8.framing(), Framing::Opaque);
    assert_eq!(Codec::Opus.framing(), Framing::Opaque);
}

#[test]
fn policy_defaults() {
    let p = Policy::default();
    assert!(!p.opus_keep_toc);
    assert_eq!(p.vp8_delta, Vp8Delta::OneByte);
    assert_eq!(p.sei, SeiPolicy::Encrypt);
    assert_eq!(p.h265_cover, H265Cover::SliceHeaderCover);
    assert!(!p.strict_syntax);
    assert_eq!(p.max_attempts, 10);
    assert_eq!(p.max_ranges, 1024);
}

#[test]
fn too_many_ranges() {
    let mut p = Policy::default();
    p.max_ranges = 1;
    let two = "00000001 61 e0 fafafa 00000001 61 e0 fafafa";
    expect_err(
        Codec::H264,
        two,
        &p,
        CodecError::TooManyRanges { at: 10, max: 1 },
    );
    expect(Codec::H264, "00000001 61 e0 fafafa", &p, 9, &[0..6]);
    expect_err(
        Codec::Av1,
        "32 01 aa 32 01 bb",
        &p,
        CodecError::TooManyRanges { at: 3, max: 1 },
    );
    p.max_ranges = 0;
    expect_err(
        Codec::Vp8,
        "31 00",
        &p,
        CodecError::TooManyRanges { at: 0, max: 0 },
    );
    expect_err(
        Codec::Opus,
        "f8",
        &{
            let mut q = keep_toc();
            q.max_ranges = 0;
            q
        },
        CodecError::TooManyRanges { at: 0, max: 0 },
    );
    // Nothing clear needs no range.
    expect(Codec::Vp9, "82", &p, 1, &[]);
}

#[test]
fn errors_display() {
    let errors = [
        CodecError::Truncated {
            at: 1,
            need: 2,
            have: 1,
            what: Field::SliceHeader,
        },
        CodecError::NoStartCode { at: 0 },
        CodecError::LeadingGarbage { at: 0, len: 2 },
        CodecError::EmptyNalUnit { at: 0 },
        CodecError::ForbiddenBit { at: 0 },
        CodecError::InvalidNalHeader { at: 0 },
        CodecError::RtpOnlyNalType { at: 0, ty: 24 },
        CodecError::ExpGolombOverflow { at: 0 },
        CodecError::InvalidSliceHeader { at: 0 },
        CodecError::BadVp8StartCode { at: 3 },
        CodecError::BadVp9FrameMarker { at: 0 },
        CodecError::Leb128 {
            at: 1,
            kind: Leb128ErrorKind::Overflow,
        },
        CodecError::ObuOverflow {
            at: 0,
            size: 9,
            remaining: 2,
        },
        CodecError::NoMediaUnits,
        CodecError::UnsupportedCodec,
        CodecError::TooManyRanges { at: 0, max: 1 },
    ];
    for e in errors {
        assert!(!e.to_string().is_empty());
    }
    assert_eq!(
        CodecError::Truncated {
            at: 0,
            need: 10,
            have: 5,
            what: Field::Vp8KeyFrameHeader
        }
        .to_string(),
        "truncated VP8 key frame header at byte 0: need at least 10 bytes, have 5"
    );
    assert_eq!(RangeMapError::Adjacent.to_string(), "adjacent clear ranges");
}

// ---------------------------------------------------------------------------------------------
// Range map
// ---------------------------------------------------------------------------------------------

#[test]
fn range_map_round_trip_examples() {
    let mut c = ClearRanges::new();
    c.push(0..6).unwrap();
    c.push(9..15).unwrap();
    c.push(15..20).unwrap(); // merges with 9..15
    c.push(200..400).unwrap();
    assert_eq!(ranges(&c), vec![0..6, 9..20, 200..400]);
    let mut map = Vec::new();
    c.encode_map(&mut map);
    assert_eq!(map, h("00 06 03 0b b401 c801"));
    assert_eq!(ClearRanges::decode_map(&map, 400, 3), Ok(c.clone()));
    assert_eq!(
        ClearRanges::decode_map(&map, 399, 3),
        Err(RangeMapError::OutOfBounds)
    );
    assert_eq!(c.clear_len(), 6 + 11 + 200);
    assert_eq!(
        c.opaque(450).collect::<Vec<_>>(),
        vec![6..9, 20..200, 400..450]
    );
    assert_eq!(c.opaque(300).collect::<Vec<_>>(), vec![6..9, 20..200]);
    // Empty: no bytes.
    let empty = ClearRanges::new();
    let mut map = Vec::new();
    empty.encode_map(&mut map);
    assert!(map.is_empty());
    assert_eq!(ClearRanges::decode_map(&[], 0, 0), Ok(empty.clone()));
    assert_eq!(empty.opaque(5).collect::<Vec<_>>(), vec![0..5]);
    assert_eq!(empty.opaque(0).count(), 0);
}

#[test]
fn range_map_rejections() {
    let d = |hex: &str, len: usize, max: usize| ClearRanges::decode_map(&h(hex), len, max);
    // Truncated: inside a number, and a gap without a length.
    assert_eq!(d("80", 10, 10), Err(RangeMapError::Truncated));
    assert_eq!(d("00 01 05", 10, 10), Err(RangeMapError::Truncated));
    assert_eq!(d("00 81", 10, 10), Err(RangeMapError::Truncated));
    // More than 10 bytes, or 10 bytes that still continue.
    assert_eq!(
        d("80808080808080808080 01 01", 10, 10),
        Err(RangeMapError::Leb128TooLong)
    );
    assert_eq!(
        d("80808080808080808080", 10, 10),
        Err(RangeMapError::Leb128TooLong)
    );
    // Non-minimal.
    assert_eq!(d("8000 01", 10, 10), Err(RangeMapError::Leb128NonMinimal));
    assert_eq!(d("00 8100", 10, 10), Err(RangeMapError::Leb128NonMinimal));
    // A value past u64, and a start + len past usize.
    assert_eq!(
        d("ffffffffffffffffff7f 01", usize::MAX, 10),
        Err(RangeMapError::Overflow)
    );
    assert_eq!(
        d("ffffffffffffffffff01 01", usize::MAX, 10),
        Err(RangeMapError::Overflow)
    );
    assert_eq!(
        d("00 01 ffffffffffffffffff01 01", usize::MAX, 10),
        Err(RangeMapError::Overflow)
    );
    // Empty and adjacent ranges.
    assert_eq!(d("00 00", 10, 10), Err(RangeMapError::EmptyRange));
    assert_eq!(d("00 01 00 01", 10, 10), Err(RangeMapError::Adjacent));
    // Out of bounds.
    assert_eq!(d("00 05", 4, 10), Err(RangeMapError::OutOfBounds));
    assert_eq!(d("04 01", 4, 10), Err(RangeMapError::OutOfBounds));
    assert_eq!(d("03 01", 4, 10), Ok(build(&[3..4])));
    // Too many.
    assert_eq!(d("00 01 01 01", 10, 1), Err(RangeMapError::TooManyRanges));
    assert_eq!(d("00 01", 10, 0), Err(RangeMapError::TooManyRanges));
    // push
    let mut c = ClearRanges::new();
    assert_eq!(c.push(3..3), Err(RangeMapError::EmptyRange));
    #[expect(clippy::reversed_empty_ranges, reason = "testing a reversed range")]
    let reversed = 5..3;
    assert_eq!(c.push(reversed), Err(RangeMapError::EmptyRange));
    c.push(5..6).unwrap();
    assert_eq!(c.push(3..4), Err(RangeMapError::Unordered));
    assert_eq!(c.push(5..8), Err(RangeMapError::Unordered));
    assert_eq!(ranges(&c), vec![5..6]);
}

fn build(list: &[Range<usize>]) -> ClearRanges {
    let mut c = ClearRanges::new();
    for r in list {
        c.push(r.clone()).unwrap();
    }
    c
}

// ---------------------------------------------------------------------------------------------
// Checks over generated frames (the generators are in tests/common/frames.rs)
// ---------------------------------------------------------------------------------------------

fn check_annexb(codec: Codec, policy: &Policy, leading: usize, nals: &[GenNal]) {
    let keep_aud = policy.keep_access_unit_delimiters;
    let (input, norm, want_clear, key) = assemble_with(leading, nals, keep_aud);
    if norm.is_empty() {
        // Only access unit delimiters, all dropped.
        assert!(nals.iter().all(|n| n.aud));
        assert_eq!(plan(codec, &input, policy), Err(CodecError::NoMediaUnits));
        return;
    }
    let nals: Vec<&GenNal> = nals.iter().filter(|n| keep_aud || !n.aud).collect();
    let p = protect(codec, &input, policy);
    assert_eq!(p.frame(), &norm[..]);
    assert_eq!(p.clear(), &want_clear);
    assert_eq!(p.keyframe(), Some(key));
    assert_eq!(p.is_rewritten(), input != norm);
    // The normalized frame splits back into the same units behind 4-byte start codes.
    let kind = if codec == Codec::H264 {
        AnnexB::H264
    } else {
        AnnexB::H265
    };
    let units = media::nal_units(p.frame());
    assert_eq!(units.len(), nals.len());
    for (unit, nal) in units.iter().zip(&nals) {
        assert_eq!(unit.start_code_len, 4);
        assert_eq!(unit.bytes, &nal.bytes[..]);
        let header_end = unit.at() + kind.header_len();
        assert!(is_clear(p.clear(), unit.start_code_at..header_end));
    }
}

/// Whether every byte of `r` is in a clear range.
fn is_clear(clear: &ClearRanges, r: Range<usize>) -> bool {
    r.is_empty() || clear.iter().any(|c| c.start <= r.start && r.end <= c.end)
}

/// Byte soup rich in start codes and zeros, to reach deep into the Annex B parser.
fn annexb_soup() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop_oneof![
            3 => any::<u8>().prop_map(|b| vec![b]),
            2 => Just(vec![0]),
            2 => Just(vec![0, 0, 1]),
            1 => Just(vec![0, 0, 0, 1]),
            1 => Just(vec![0, 0, 3]),
            2 => (0u8..=63).prop_map(|t| vec![t << 1, 1]),
            2 => (0u8..=31).prop_map(|t| vec![0x60 | t]),
        ],
        0..40,
    )
    .prop_map(|chunks| chunks.concat())
}

const ALL_CODECS: [Codec; 9] = [
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

/// Plans anything: must not panic; when it succeeds, the plan must be sound and idempotent.
fn plan_anything(codec: Codec, frame: &[u8], policy: &Policy) {
    match plan(codec, frame, policy) {
        Ok(Plan::Protect(p)) => check_plan(codec, &p, policy),
        Ok(Plan::PassThrough) => assert!(frame.is_empty()),
        Err(_) => {}
    }
}

fn any_policy() -> impl Strategy<Value = Policy> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(toc, tag, sei, header_only, strict)| {
            let mut p = Policy::default();
            p.opus_keep_toc = toc;
            p.vp8_delta = if tag {
                Vp8Delta::FrameTag
            } else {
                Vp8Delta::OneByte
            };
            p.sei = if sei {
                SeiPolicy::Clear
            } else {
                SeiPolicy::Encrypt
            };
            p.h265_cover = if header_only {
                H265Cover::HeaderOnly
            } else {
                H265Cover::SliceHeaderCover
            };
            p.strict_syntax = strict;
            p
        })
}

/// Sorted, disjoint, non-adjacent ranges from (gap, len) pairs, and a frame length past them.
fn gen_ranges() -> impl Strategy<Value = (Vec<Range<usize>>, usize)> {
    (
        prop::collection::vec(
            (
                prop_oneof![1usize..4, 1usize..300, 1usize..100_000],
                prop_oneof![1usize..4, 1usize..300, 1usize..100_000],
            ),
            0..20,
        ),
        any::<bool>(),
        0usize..50,
    )
        .prop_map(|(pairs, first_at_zero, extra)| {
            let mut pos = 0;
            let mut list = Vec::new();
            for (i, (gap, len)) in pairs.into_iter().enumerate() {
                let start = if i == 0 && first_at_zero {
                    0
                } else {
                    pos + gap
                };
                list.push(start..start + len);
                pos = start + len;
            }
            (list, pos + extra)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn prop_h264_valid_frames(
        sei in any::<bool>(),
        leading in 0usize..=2,
        nals in prop::collection::vec(h264_nal(false), 1..8),
        nals_sei in prop::collection::vec(h264_nal(true), 1..8),
    ) {
        let (nals, mut policy) = if sei { (nals_sei, sei_clear()) } else { (nals, Policy::default()) };
        check_annexb(Codec::H264, &policy, leading, &nals);
        policy.keep_access_unit_delimiters = true;
        check_annexb(Codec::H264, &policy, leading, &nals);
    }

    #[test]
    fn prop_h265_valid_frames(
        which in 0u8..4,
        leading in 0usize..=2,
        a in prop::collection::vec(h265_nal(false, false), 1..8),
        b in prop::collection::vec(h265_nal(true, false), 1..8),
        c in prop::collection::vec(h265_nal(false, true), 1..8),
        d in prop::collection::vec(h265_nal(true, true), 1..8),
    ) {
        let (nals, header_only, sei) = match which {
            0 => (a, false, false),
            1 => (b, true, false),
            2 => (c, false, true),
            _ => (d, true, true),
        };
        let mut policy = Policy::default();
        if header_only { policy.h265_cover = H265Cover::HeaderOnly; }
        if sei { policy.sei = SeiPolicy::Clear; }
        check_annexb(Codec::H265, &policy, leading, &nals);
        policy.keep_access_unit_delimiters = true;
        check_annexb(Codec::H265, &policy, leading, &nals);
    }

    #[test]
    fn prop_av1_valid_frames(obus in prop::collection::vec(obu(), 1..8)) {
        let (input, expected) = assemble_av1(&obus);
        let policy = Policy::default();
        match expected {
            None => prop_assert_eq!(plan(Codec::Av1, &input, &policy), Err(CodecError::NoMediaUnits)),
            Some((norm, clear, key)) => {
                let p = protect(Codec::Av1, &input, &policy);
                prop_assert_eq!(p.frame(), &norm[..]);
                prop_assert_eq!(p.clear(), &clear);
                prop_assert_eq!(p.keyframe(), Some(key));
                prop_assert_eq!(p.is_rewritten(), input != norm);
                let parsed = parse_normalized_av1(p.frame());
                let headers: Vec<Range<usize>> = parsed.iter().map(|(hdr, _)| hdr.clone()).collect();
                prop_assert_eq!(ranges(&build_merged(&headers)), ranges(p.clear()));
            }
        }
    }

    #[test]
    fn prop_vp8_valid_frames((frame, key) in vp8_frame(), tag in any::<bool>()) {
        let mut policy = Policy::default();
        if tag { policy.vp8_delta = Vp8Delta::FrameTag; }
        let want_len = if key { 10 } else if tag { 3 } else { 1 };
        if !key && frame.len() < want_len {
            prop_assert!(plan(Codec::Vp8, &frame, &policy).is_err());
        } else {
            let p = protect(Codec::Vp8, &frame, &policy);
            prop_assert_eq!(ranges(p.clear()), vec![0..want_len]);
            prop_assert_eq!(p.keyframe(), Some(key));
            prop_assert!(!p.is_rewritten());
        }
    }

    #[test]
    fn prop_audio_and_vp9_frames(frame in prop::collection::vec(any::<u8>(), 1..300), toc in any::<bool>()) {
        let mut policy = Policy::default();
        policy.opus_keep_toc = toc;
        let p = protect(Codec::Opus, &frame, &policy);
        prop_assert_eq!(ranges(p.clear()), if toc { vec![0..1] } else { vec![] });
        for codec in [Codec::Pcmu, Codec::Pcma, Codec::G722, Codec::Vp9] {
            let p = protect(codec, &frame, &policy);
            prop_assert!(p.clear().is_empty());
            prop_assert!(!p.is_rewritten());
        }
    }

    #[test]
    fn prop_garbage_never_panics(
        frame in prop::collection::vec(any::<u8>(), 0..200),
        policy in any_policy(),
    ) {
        for codec in ALL_CODECS {
            plan_anything(codec, &frame, &policy);
        }
    }

    #[test]
    fn prop_annexb_soup_never_panics(frame in annexb_soup(), policy in any_policy()) {
        plan_anything(Codec::H264, &frame, &policy);
        plan_anything(Codec::H265, &frame, &policy);
    }

    #[test]
    fn prop_mutated_valid_frames_never_panic(
        nals in prop::collection::vec(h264_nal(false), 1..6),
        hevc in prop::collection::vec(h265_nal(false, false), 1..6),
        obus in prop::collection::vec(obu(), 1..6),
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in any::<prop::sample::Index>(),
        policy in any_policy(),
    ) {
        let frames = [
            (Codec::H264, assemble(1, &nals).0),
            (Codec::H265, assemble(0, &hevc).0),
            (Codec::Av1, assemble_av1(&obus).0),
        ];
        for (codec, mut frame) in frames {
            if frame.is_empty() { continue; }
            for (i, x) in &flips {
                let i = i.index(frame.len());
                frame[i] ^= x;
            }
            plan_anything(codec, &frame, &policy);
            let cut = cut.index(frame.len());
            plan_anything(codec, &frame[..cut], &policy);
        }
    }

    #[test]
    fn prop_range_map_round_trip((list, frame_len) in gen_ranges()) {
        let c = build(&list);
        prop_assert_eq!(ranges(&c), list.clone());
        let mut map = Vec::new();
        c.encode_map(&mut map);
        prop_assert_eq!(map.len(), c.encoded_map_len());
        prop_assert_eq!(ClearRanges::decode_map(&map, frame_len, list.len()), Ok(c.clone()));
        let end = c.end();
        if end > 0 {
            prop_assert_eq!(ClearRanges::decode_map(&map, end - 1, list.len()), Err(RangeMapError::OutOfBounds));
        }
        // A map that does not end where it should is refused.
        if !map.is_empty() {
            prop_assert!(ClearRanges::decode_map(&map[..map.len() - 1], frame_len, list.len()).is_err());
        }
        let mut longer = map.clone();
        longer.push(1);
        prop_assert!(ClearRanges::decode_map(&longer, frame_len, list.len() + 1).is_err());
    }

    #[test]
    fn prop_range_map_decode_is_canonical(bytes in prop::collection::vec(any::<u8>(), 0..40), frame_len in any::<usize>()) {
        if let Ok(c) = ClearRanges::decode_map(&bytes, frame_len, 64) {
            let mut map = Vec::new();
            c.encode_map(&mut map);
            prop_assert_eq!(map, bytes);
            check_invariants_no_frame(&c, frame_len);
        }
    }
}

fn check_invariants_no_frame(c: &ClearRanges, frame_len: usize) {
    let list = ranges(c);
    assert!(list.iter().all(|r| r.start < r.end && r.end <= frame_len));
    assert!(list.windows(2).all(|w| w[0].end < w[1].start));
}

fn build_merged(list: &[Range<usize>]) -> ClearRanges {
    let mut c = ClearRanges::new();
    for r in list {
        c.push(r.clone()).unwrap();
    }
    c
}

// ---------------------------------------------------------------------------------------------
// Real media (test-data/media, scripts/gen-media.sh)
// ---------------------------------------------------------------------------------------------

/// Reads `first_mb_in_slice`, `slice_type`, `pps_id` (H.264) or the flags and `pps_id` (H.265) from the
/// clear bytes of a slice only, removing emulation prevention; `None` if they do not suffice.
fn pps_id_from_clear(kind: AnnexB, clear_body: &[u8], irap: bool) -> Option<u32> {
    let mut rbsp = Vec::new();
    let mut zeros = 0;
    for &b in clear_body {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        rbsp.push(b);
    }
    let mut pos = 0usize;
    let mut bit = || -> Option<u32> {
        let byte = rbsp.get(pos / 8)?;
        let v = (byte >> (7 - pos % 8)) & 1;
        pos += 1;
        Some(u32::from(v))
    };
    let ue = |bit: &mut dyn FnMut() -> Option<u32>| -> Option<u32> {
        let mut n = 0;
        while bit()? == 0 {
            n += 1;
        }
        let mut v = 0u64;
        for _ in 0..n {
            v = (v << 1) | u64::from(bit()?);
        }
        u32::try_from((1u64 << n) - 1 + v).ok()
    };
    match kind {
        AnnexB::H264 => {
            ue(&mut bit)?;
            let slice_type = ue(&mut bit)?;
            assert!(slice_type <= 9);
            ue(&mut bit)
        }
        AnnexB::H265 => {
            bit()?;
            if irap {
                bit()?;
            }
            ue(&mut bit)
        }
    }
}

fn check_clip(file: &'static str) {
    let clip = media::load(file);
    let codec = Codec::from_mime(clip.mime).unwrap();
    assert!(
        clip.frames.len() >= 8,
        "{file}: {} frames",
        clip.frames.len()
    );
    let policy = Policy::default();
    let mut keyframes = 0;
    for (i, frame) in clip.frames.iter().enumerate() {
        let p = protect(codec, frame, &policy);
        if let Some(flags) = &clip.keyframes {
            assert_eq!(
                p.keyframe(),
                Some(flags[i]),
                "{file} frame {i}: key frame hint"
            );
            keyframes += usize::from(flags[i]);
        } else {
            assert_eq!(p.keyframe(), None);
        }
        match codec {
            Codec::H264 | Codec::H265 => check_annexb_frame(codec, frame, &p, file, i),
            Codec::Av1 => check_av1_frame(frame, &p),
            Codec::Vp8 => {
                let f = p.frame();
                if p.keyframe() == Some(true) {
                    assert_eq!(ranges(p.clear()), vec![0..10]);
                    assert_eq!(u16::from_le_bytes([f[6], f[7]]) & 0x3fff, 160);
                    assert_eq!(u16::from_le_bytes([f[8], f[9]]) & 0x3fff, 120);
                } else {
                    assert_eq!(ranges(p.clear()), vec![0..1]);
                }
                assert!(!p.is_rewritten());
            }
            Codec::Vp9 => {
                assert!(p.clear().is_empty());
                assert!(!p.is_rewritten());
            }
            Codec::Opus => {
                assert!(p.clear().is_empty());
                assert_eq!(
                    ranges(protect(codec, frame, &keep_toc()).clear()),
                    vec![0..1]
                );
            }
            _ => unreachable!(),
        }
    }
    if clip.keyframes.is_some() {
        assert!(
            keyframes >= 1 && keyframes < clip.frames.len(),
            "{file}: key and delta frames"
        );
    }
}

fn check_annexb_frame(codec: Codec, input: &[u8], p: &FramePlan<'_>, file: &str, i: usize) {
    let kind = if codec == Codec::H264 {
        AnnexB::H264
    } else {
        AnnexB::H265
    };
    // The clips are split at access unit delimiters, which normalization drops.
    let mut input_units = media::nal_units(input);
    assert_eq!(
        kind.nal_type(input_units[0].bytes[0]),
        kind.aud_type(),
        "{file} frame {i}"
    );
    input_units.retain(|u| kind.nal_type(u.bytes[0]) != kind.aud_type());
    let units = media::nal_units(p.frame());
    assert_eq!(units.len(), input_units.len(), "{file} frame {i}");
    assert!(p.is_rewritten(), "{file} frame {i}: the AUD is gone");
    let mut has_slice = false;
    for (unit, original) in units.iter().zip(&input_units) {
        let stripped_len = original.bytes.iter().rposition(|&b| b != 0).unwrap() + 1;
        assert_eq!(unit.bytes, &original.bytes[..stripped_len]);
        assert_eq!(unit.start_code_len, 4);
        let ty = kind.nal_type(unit.bytes[0]);
        let header_end = unit.at() + kind.header_len();
        assert!(
            is_clear(p.clear(), unit.start_code_at..header_end),
            "{file} frame {i}: header"
        );
        let whole = unit.start_code_at..unit.at() + unit.bytes.len();
        let parameter_set = match kind {
            AnnexB::H264 => matches!(ty, 7 | 8),
            AnnexB::H265 => matches!(ty, 32..=34),
        };
        if parameter_set || ty == kind.aud_type() {
            assert!(
                is_clear(p.clear(), whole.clone()),
                "{file} frame {i}: type {ty} whole"
            );
        }
        let slice = match kind {
            AnnexB::H264 => matches!(ty, 1 | 5),
            AnnexB::H265 => matches!(ty, 0..=9 | 16..=21),
        };
        if slice {
            has_slice = true;
            // The clear bytes of the slice are enough to read its PPS id, and the rest is opaque.
            let clear_end = p
                .clear()
                .iter()
                .find(|c| c.start <= unit.start_code_at && unit.start_code_at < c.end)
                .unwrap()
                .end;
            assert!(
                clear_end < whole.end,
                "{file} frame {i}: slice data left opaque"
            );
            let body = &p.frame()[header_end..clear_end];
            let irap = (16..=23).contains(&ty);
            assert_eq!(
                pps_id_from_clear(kind, body, irap),
                Some(0),
                "{file} frame {i}"
            );
        }
    }
    assert!(has_slice);
}

fn check_av1_frame(input: &[u8], p: &FramePlan<'_>) {
    assert!(p.is_rewritten(), "the clips carry temporal delimiters");
    let parsed = parse_normalized_av1(p.frame());
    let headers: Vec<Range<usize>> = parsed.iter().map(|(hdr, _)| hdr.clone()).collect();
    assert_eq!(ranges(p.clear()), ranges(&build_merged(&headers)));
    assert_eq!(
        p.keyframe(),
        Some((p.frame()[0] >> 3) & 15 == 1),
        "sequence header first"
    );
    // The payloads are those of the input's kept OBUs, in order.
    let payloads: Vec<&[u8]> = parsed
        .iter()
        .map(|(_, pl)| &p.frame()[pl.clone()])
        .collect();
    assert_eq!(payloads, kept_av1_payloads(input));
}

/// The payloads of the OBUs a packetizer keeps, parsed test-side from any valid temporal unit.
fn kept_av1_payloads(frame: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < frame.len() {
        let header = frame[i];
        let mut j = i + 1 + usize::from(header & 4 != 0);
        let size = if header & 2 != 0 {
            let mut size = 0usize;
            let mut n = 0;
            loop {
                let b = frame[j + n];
                size |= usize::from(b & 0x7f) << (7 * n);
                n += 1;
                if b & 0x80 == 0 {
                    break;
                }
            }
            j += n;
            size
        } else {
            frame.len() - j
        };
        if !matches!((header >> 3) & 15, 2 | 8 | 15) {
            out.push(&frame[j..j + size]);
        }
        i = j + size;
    }
    out
}

#[test]
fn media_vp8() {
    check_clip("vp8.ivf");
}

#[test]
fn media_vp9() {
    check_clip("vp9.ivf");
}

#[test]
fn media_av1() {
    check_clip("av1.ivf");
}

#[test]
fn media_h264_main() {
    check_clip("h264-main.h264");
}

#[test]
fn media_h264_baseline() {
    check_clip("h264-baseline.h264");
}

#[test]
fn media_h265() {
    check_clip("h265.h265");
}

#[test]
fn media_opus() {
    check_clip("opus.ogg");
}

#[test]
fn media_all_clips_load_and_stay_small() {
    let clips = media::load_all();
    assert_eq!(clips.len(), media::CLIPS.len());
    let total: u64 = std::fs::read_dir(media::media_dir())
        .unwrap()
        .map(|e| e.unwrap().metadata().unwrap().len())
        .sum();
    assert!(total < 200 * 1024, "test-data/media is {total} bytes");
    // Every policy plans every frame.
    for clip in &clips {
        let codec = Codec::from_mime(clip.mime).unwrap();
        for policy in [dave_parity(), keep_toc(), {
            let mut p = Policy::default();
            p.vp8_delta = Vp8Delta::FrameTag;
            p.strict_syntax = true;
            p
        }] {
            for frame in &clip.frames {
                protect(codec, frame, &policy);
            }
        }
    }
}
