//! Hostile frames for the codec planners, and hostile range maps: every `CodecError` and
//! `RangeMapError` variant. A sender's frame is trusted less than it seems (a buggy or fuzzed
//! encoder, a frame injected into the pipeline); a range map arrives from the network.

use secure_frame::codec::{
    ClearRanges, Codec, CodecError, Field, Leb128ErrorKind, Plan, Policy, RangeMapError, Vp8Delta,
    plan,
};

use super::{Table, h};

fn planned(codec: Codec, hex: &str, policy: &Policy) -> Result<(), CodecError> {
    plan(codec, &h(hex), policy).map(drop)
}

fn with(change: impl FnOnce(&mut Policy)) -> Policy {
    let mut p = Policy::default();
    change(&mut p);
    p
}

pub(super) fn rows(t: &mut Table) {
    plan_rows(t);
    range_map_rows(t);
}

fn plan_rows(t: &mut Table) {
    let d = Policy::default();
    let truncated = |at, need, have, what| CodecError::Truncated {
        at,
        need,
        have,
        what,
    };
    let cases: Vec<(&str, Codec, &str, Policy, Result<(), CodecError>)> = vec![
        // Empty and 1-byte frames of every codec.
        (
            "H.264 empty",
            Codec::H264,
            "",
            d.clone(),
            Err(CodecError::NoStartCode { at: 0 }),
        ),
        (
            "H.265 empty",
            Codec::H265,
            "",
            d.clone(),
            Err(CodecError::NoStartCode { at: 0 }),
        ),
        (
            "AV1 empty",
            Codec::Av1,
            "",
            d.clone(),
            Err(CodecError::NoMediaUnits),
        ),
        (
            "VP8 empty passes through",
            Codec::Vp8,
            "",
            d.clone(),
            OK_CODEC,
        ),
        (
            "VP9 empty passes through",
            Codec::Vp9,
            "",
            d.clone(),
            OK_CODEC,
        ),
        (
            "Opus empty passes through",
            Codec::Opus,
            "",
            d.clone(),
            OK_CODEC,
        ),
        (
            "H.264 one byte",
            Codec::H264,
            "01",
            d.clone(),
            Err(CodecError::NoStartCode { at: 0 }),
        ),
        (
            "H.264 start code only",
            Codec::H264,
            "000001",
            d.clone(),
            Err(CodecError::EmptyNalUnit { at: 0 }),
        ),
        (
            "VP8 key frame of one byte",
            Codec::Vp8,
            "10",
            d.clone(),
            Err(truncated(0, 10, 1, Field::Vp8KeyFrameHeader)),
        ),
        (
            "AV1 one byte, extension flag",
            Codec::Av1,
            "36",
            d.clone(),
            Err(truncated(0, 2, 1, Field::ObuExtension)),
        ),
        // Annex B structure.
        (
            "H.264 no start code",
            Codec::H264,
            "61 e0 fa fa fa",
            d.clone(),
            Err(CodecError::NoStartCode { at: 0 }),
        ),
        (
            "H.264 leading garbage",
            Codec::H264,
            "ff 00000001 61 e0 fa",
            d.clone(),
            Err(CodecError::LeadingGarbage { at: 0, len: 2 }),
        ),
        (
            "H.265 leading garbage after a zero",
            Codec::H265,
            "00 ff 00 000001 0201 abab",
            d.clone(),
            Err(CodecError::LeadingGarbage { at: 1, len: 3 }),
        ),
        (
            "H.264 start code, start code",
            Codec::H264,
            "00000001 00000001 61 e0 fa",
            d.clone(),
            Err(CodecError::EmptyNalUnit { at: 1 }),
        ),
        (
            "H.264 start code at the end",
            Codec::H264,
            "00000001 61 e0 fa 00000001",
            d.clone(),
            Err(CodecError::EmptyNalUnit { at: 8 }),
        ),
        (
            "H.264 forbidden bit",
            Codec::H264,
            "00000001 e1 e0 fa",
            d.clone(),
            Err(CodecError::ForbiddenBit { at: 4 }),
        ),
        (
            "H.265 forbidden bit",
            Codec::H265,
            "00000001 8201 ab",
            d.clone(),
            Err(CodecError::ForbiddenBit { at: 4 }),
        ),
        (
            "H.265 temporal id 0",
            Codec::H265,
            "00000001 0200 abab",
            d.clone(),
            Err(CodecError::InvalidNalHeader { at: 4 }),
        ),
        (
            "H.264 STAP-A in Annex B",
            Codec::H264,
            "00000001 78 e0 fa",
            d.clone(),
            Err(CodecError::RtpOnlyNalType { at: 4, ty: 24 }),
        ),
        (
            "H.264 FU-A in Annex B",
            Codec::H264,
            "00000001 7c 85 fa",
            d.clone(),
            Err(CodecError::RtpOnlyNalType { at: 4, ty: 28 }),
        ),
        (
            "H.265 FU in Annex B",
            Codec::H265,
            "00000001 6201 abab",
            d.clone(),
            Err(CodecError::RtpOnlyNalType { at: 4, ty: 49 }),
        ),
        (
            "H.265 one-byte NAL header",
            Codec::H265,
            "00000001 02",
            d.clone(),
            Err(truncated(4, 2, 1, Field::NalHeader)),
        ),
        (
            "H.264 extension header truncated",
            Codec::H264,
            "00000001 74 c0 01",
            d.clone(),
            Err(truncated(4, 4, 3, Field::NalHeaderExtension)),
        ),
        // Slice headers.
        (
            "H.264 IDR without slice header",
            Codec::H264,
            "00000001 65",
            d.clone(),
            Err(truncated(5, 1, 0, Field::SliceHeader)),
        ),
        (
            "H.264 ue(v) runs off the NAL",
            Codec::H264,
            "00000001 65 01",
            d.clone(),
            Err(truncated(5, 2, 1, Field::SliceHeader)),
        ),
        (
            "H.265 slice header runs off the NAL",
            Codec::H265,
            "00000001 0201 80",
            d.clone(),
            Err(truncated(6, 2, 1, Field::SliceHeader)),
        ),
        (
            "H.264 Exp-Golomb of 32 zeros across EPBs",
            Codec::H264,
            "00000001 61 000003 000003 0080",
            d.clone(),
            Err(CodecError::ExpGolombOverflow { at: 5 }),
        ),
        (
            "H.264 slice_type 10",
            Codec::H264,
            "00000001 61 8b 80",
            d.clone(),
            Err(CodecError::InvalidSliceHeader { at: 5 }),
        ),
        (
            "H.264 pps_id 256",
            Codec::H264,
            "00000001 61 c0 20 30",
            d.clone(),
            Err(CodecError::InvalidSliceHeader { at: 5 }),
        ),
        (
            "H.264 pps_id 255 (maximal)",
            Codec::H264,
            "00000001 61 c0 20 10",
            d.clone(),
            OK_CODEC,
        ),
        (
            "H.265 pps_id 64",
            Codec::H265,
            "00000001 0201 81 04",
            d.clone(),
            Err(CodecError::InvalidSliceHeader { at: 6 }),
        ),
        // VP8 and VP9.
        (
            "VP8 key frame truncated",
            Codec::Vp8,
            "10 02 00 9d 01",
            d.clone(),
            Err(truncated(0, 10, 5, Field::Vp8KeyFrameHeader)),
        ),
        (
            "VP8 key frame without start code",
            Codec::Vp8,
            "10 02 00 aa bb cc 08 00 08 00 00",
            d.clone(),
            Err(CodecError::BadVp8StartCode { at: 3 }),
        ),
        (
            "VP8 delta frame shorter than the frame tag",
            Codec::Vp8,
            "31 23",
            with(|p| p.vp8_delta = Vp8Delta::FrameTag),
            Err(truncated(0, 3, 2, Field::Vp8FrameTag)),
        ),
        (
            "VP9 bad frame marker, strict",
            Codec::Vp9,
            "42 00",
            with(|p| p.strict_syntax = true),
            Err(CodecError::BadVp9FrameMarker { at: 0 }),
        ),
        (
            "VP9 bad frame marker, lenient",
            Codec::Vp9,
            "42 00",
            d.clone(),
            OK_CODEC,
        ),
        // AV1 OBUs.
        (
            "AV1 forbidden bit",
            Codec::Av1,
            "b2 00",
            d.clone(),
            Err(CodecError::ForbiddenBit { at: 0 }),
        ),
        (
            "AV1 obu_size past the end",
            Codec::Av1,
            "32 09 aabb",
            d.clone(),
            Err(CodecError::ObuOverflow {
                at: 0,
                size: 9,
                remaining: 2,
            }),
        ),
        (
            "AV1 obu_size 2^32 - 1",
            Codec::Av1,
            "32 ff ff ff ff 0f 00",
            d.clone(),
            Err(CodecError::ObuOverflow {
                at: 0,
                size: u32::MAX,
                remaining: 1,
            }),
        ),
        (
            "AV1 obu_size of 9 bytes",
            Codec::Av1,
            "32 ff ff ff ff ff ff ff ff ff",
            d.clone(),
            Err(CodecError::Leb128 {
                at: 1,
                kind: Leb128ErrorKind::TooLong,
            }),
        ),
        (
            "AV1 obu_size 2^32",
            Codec::Av1,
            "12 00 32 80 80 80 80 10",
            d.clone(),
            Err(CodecError::Leb128 {
                at: 3,
                kind: Leb128ErrorKind::Overflow,
            }),
        ),
        (
            "AV1 obu_size truncated",
            Codec::Av1,
            "32 80",
            d.clone(),
            Err(CodecError::Leb128 {
                at: 1,
                kind: Leb128ErrorKind::Truncated,
            }),
        ),
        (
            "AV1 only a temporal delimiter",
            Codec::Av1,
            "12 00",
            d.clone(),
            Err(CodecError::NoMediaUnits),
        ),
        (
            "H.264 only an access unit delimiter",
            Codec::H264,
            "00000001 09f0",
            d.clone(),
            Err(CodecError::NoMediaUnits),
        ),
        (
            "H.265 only access unit delimiters",
            Codec::H265,
            "00000001 4601 50 000001 4601 30",
            d.clone(),
            Err(CodecError::NoMediaUnits),
        ),
        (
            "AV1 only delimiter, tile list, padding",
            Codec::Av1,
            "12 00 42 00 7a 01 00",
            d.clone(),
            Err(CodecError::NoMediaUnits),
        ),
        (
            "AV1 second OBU's extension truncated",
            Codec::Av1,
            "32 01 aa 36",
            d.clone(),
            Err(truncated(3, 2, 1, Field::ObuExtension)),
        ),
        // Range limits.
        (
            "H.264 two slices, max_ranges 1",
            Codec::H264,
            "00000001 61 e0 fafafa 00000001 61 e0 fafafa",
            with(|p| p.max_ranges = 1),
            Err(CodecError::TooManyRanges { at: 10, max: 1 }),
        ),
        (
            "AV1 two OBUs, max_ranges 1",
            Codec::Av1,
            "32 01 aa 32 01 bb",
            with(|p| p.max_ranges = 1),
            Err(CodecError::TooManyRanges { at: 3, max: 1 }),
        ),
        (
            "VP8 delta, max_ranges 0",
            Codec::Vp8,
            "31 00",
            with(|p| p.max_ranges = 0),
            Err(CodecError::TooManyRanges { at: 0, max: 0 }),
        ),
        (
            "Opus TOC kept, max_ranges 0",
            Codec::Opus,
            "f8",
            with(|p| {
                p.opus_keep_toc = true;
                p.max_ranges = 0;
            }),
            Err(CodecError::TooManyRanges { at: 0, max: 0 }),
        ),
        (
            "VP9 nothing clear, max_ranges 0",
            Codec::Vp9,
            "82",
            with(|p| p.max_ranges = 0),
            OK_CODEC,
        ),
    ];
    for (name, codec, hex, policy, want) in cases {
        t.row(format!("plan {name}"), planned(codec, hex, &policy), want);
    }

    // 1000 slices of one byte each, one range per slice: the limit is counted, not guessed.
    let thousand = "00000001 61 e0 fa ".repeat(1000);
    t.row(
        "plan H.264 1000 slices, max_ranges 999",
        planned(Codec::H264, &thousand, &with(|p| p.max_ranges = 999)),
        // Unit k starts at 7k; `at` is its 3-byte start code, after the first zero.
        Err(CodecError::TooManyRanges {
            at: 999 * 7 + 1,
            max: 999,
        }),
    );
    t.row(
        "plan H.264 1000 slices, max_ranges 1000",
        planned(Codec::H264, &thousand, &with(|p| p.max_ranges = 1000)),
        OK_CODEC,
    );
    let audio_empty = plan(Codec::Pcmu, &[], &d);
    t.row(
        "plan PCMU empty is a pass-through",
        audio_empty.map(|p| assert_eq!(p, Plan::PassThrough)),
        OK_CODEC,
    );
    for mime in ["audio/red", "video/rtx", "", "video/h264x"] {
        t.row(
            format!("Codec from MIME {mime:?}"),
            mime.parse::<Codec>(),
            Err(CodecError::UnsupportedCodec),
        );
    }
    t.row(
        "Codec from MIME \"VIDEO/h264\"",
        "VIDEO/h264".parse::<Codec>(),
        OK_CODEC,
    );
}

/// `Ok(())` typed for rows whose error type is [`CodecError`].
const OK_CODEC: Result<(), CodecError> = Ok(());

fn range_map_rows(t: &mut Table) {
    let cases: Vec<(&str, &str, usize, usize, Result<(), RangeMapError>)> = vec![
        ("empty map", "", 10, 10, Ok(())),
        ("empty map, frame 0, max 0", "", 0, 0, Ok(())),
        ("one byte", "00", 10, 10, Err(RangeMapError::Truncated)),
        (
            "inside a number",
            "80",
            10,
            10,
            Err(RangeMapError::Truncated),
        ),
        (
            "gap without a length",
            "00 01 05",
            10,
            10,
            Err(RangeMapError::Truncated),
        ),
        (
            "inside the length",
            "00 81",
            10,
            10,
            Err(RangeMapError::Truncated),
        ),
        (
            "11-byte number",
            "80808080808080808080 01 01",
            10,
            10,
            Err(RangeMapError::Leb128TooLong),
        ),
        (
            "10 bytes that continue",
            "80808080808080808080",
            10,
            10,
            Err(RangeMapError::Leb128TooLong),
        ),
        (
            "non-minimal gap",
            "8000 01",
            10,
            10,
            Err(RangeMapError::Leb128NonMinimal),
        ),
        (
            "non-minimal length",
            "00 8100",
            10,
            10,
            Err(RangeMapError::Leb128NonMinimal),
        ),
        (
            "gap past u64",
            "ffffffffffffffffff7f 01",
            usize::MAX,
            10,
            Err(RangeMapError::Overflow),
        ),
        (
            "start + length past usize",
            "ffffffffffffffffff01 01",
            usize::MAX,
            10,
            Err(RangeMapError::Overflow),
        ),
        (
            "second start past usize",
            "00 01 ffffffffffffffffff01 01",
            usize::MAX,
            10,
            Err(RangeMapError::Overflow),
        ),
        (
            "empty range",
            "00 00",
            10,
            10,
            Err(RangeMapError::EmptyRange),
        ),
        (
            "empty second range",
            "00 01 01 00",
            10,
            10,
            Err(RangeMapError::EmptyRange),
        ),
        (
            "adjacent ranges",
            "00 01 00 01",
            10,
            10,
            Err(RangeMapError::Adjacent),
        ),
        (
            "range past the end",
            "00 05",
            4,
            10,
            Err(RangeMapError::OutOfBounds),
        ),
        (
            "range starting at the end",
            "04 01",
            4,
            10,
            Err(RangeMapError::OutOfBounds),
        ),
        ("range ending at the end", "03 01", 4, 10, Ok(())),
        (
            "range in an empty frame",
            "00 01",
            0,
            10,
            Err(RangeMapError::OutOfBounds),
        ),
        (
            "two ranges, max 1",
            "00 01 01 01",
            10,
            1,
            Err(RangeMapError::TooManyRanges),
        ),
        (
            "one range, max 0",
            "00 01",
            10,
            0,
            Err(RangeMapError::TooManyRanges),
        ),
    ];
    for (name, hex, frame_len, max, want) in cases {
        t.row(
            format!("range map: {name}"),
            ClearRanges::decode_map(&h(hex), frame_len, max),
            want,
        );
    }
    // The most ranges a map can hold in a frame: every other byte clear.
    let mut map = vec![0x00, 0x01];
    map.extend([0x01, 0x01].repeat(499));
    t.row(
        "range map: 500 alternating ranges in 1000 bytes",
        ClearRanges::decode_map(&map, 1000, 500),
        Ok::<(), RangeMapError>(()),
    );
    t.row(
        "range map: 500 alternating ranges in 998 bytes",
        ClearRanges::decode_map(&map, 998, 500),
        Err(RangeMapError::OutOfBounds),
    );

    let mut c = ClearRanges::new();
    t.row(
        "push empty range",
        c.push(3..3),
        Err(RangeMapError::EmptyRange),
    );
    #[expect(clippy::reversed_empty_ranges, reason = "a hostile range")]
    let reversed = 5..3;
    t.row(
        "push reversed range",
        c.push(reversed),
        Err(RangeMapError::EmptyRange),
    );
    t.row("push 5..6", c.push(5..6), Ok::<(), RangeMapError>(()));
    t.row(
        "push before the last range",
        c.push(3..4),
        Err(RangeMapError::Unordered),
    );
    t.row(
        "push overlapping the last range",
        c.push(5..8),
        Err(RangeMapError::Unordered),
    );
    t.row(
        "push touching the last range merges",
        c.push(6..8),
        Ok::<(), RangeMapError>(()),
    );
    t.row(
        "push up to usize::MAX",
        c.push(usize::MAX - 1..usize::MAX),
        Ok::<(), RangeMapError>(()),
    );
    t.row(
        "push after a range ending at usize::MAX",
        c.push(usize::MAX - 1..usize::MAX),
        Err(RangeMapError::Unordered),
    );
}
