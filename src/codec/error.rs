//! Errors of the codec layer (not part of RFC 9605).
//!
//! [`CodecError`] is what [`plan`](super::plan) returns when a sender's frame cannot be split into
//! clear and opaque bytes; [`RangeMapError`] is what [`ClearRanges::decode_map`] returns when a
//! received range map is malformed. Both are small `Copy` enums that carry no frame bytes.
//!
//! [`ClearRanges::decode_map`]: super::ClearRanges::decode_map

use core::fmt;

/// Why [`plan`](super::plan) refused a frame.
///
/// Every variant that points into the frame carries `at`, a byte offset into the frame *as it was
/// given to `plan`* (before normalization), for diagnostics. The sender's policy on any of these is
/// to drop the frame: never send it in plaintext and never fall back to another codec's rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// A structure (VP8 key frame header, NAL header, slice header, OBU extension, …) ends before
    /// all of its bytes are there. For a slice header the reader ran off the end of its NAL unit.
    #[error("truncated {what} at byte {at}: need at least {need} bytes, have {have}")]
    Truncated {
        /// Offset of the first byte of the structure.
        at: usize,
        /// The least number of bytes (from `at`) that would have let parsing go on.
        need: usize,
        /// The number of bytes available from `at` to the end of the unit.
        have: usize,
        /// Which structure.
        what: Field,
    },
    /// An Annex B frame without any `00 00 01` start code.
    #[error("no Annex B start code (at byte {at})")]
    NoStartCode {
        /// Always 0: the whole frame was searched.
        at: usize,
    },
    /// Bytes other than `00` before the first start code. libwebrtc would drop them silently,
    /// so they could not be authenticated.
    #[error("{len} bytes before the first start code, the first non-zero one at byte {at}")]
    LeadingGarbage {
        /// Offset of the first non-zero byte before the first start code.
        at: usize,
        /// Number of bytes before the first `00 00 01` (a `00` of a 4-byte start code counts).
        len: usize,
    },
    /// A start code followed by another start code, or a start code at the end of the frame, or
    /// a NAL unit made only of zero bytes. The libwebrtc H.264 packetizer drops such a frame whole.
    #[error("empty NAL unit after the start code at byte {at}")]
    EmptyNalUnit {
        /// Offset of the start code (`00 00 01`) that opens the empty unit.
        at: usize,
    },
    /// The forbidden bit of a NAL unit or OBU header is set.
    #[error("forbidden bit set in the header at byte {at}")]
    ForbiddenBit {
        /// Offset of the header byte.
        at: usize,
    },
    /// An H.265 NAL unit header with `nuh_temporal_id_plus1 == 0`.
    #[error("invalid NAL unit header at byte {at}")]
    InvalidNalHeader {
        /// Offset of the NAL unit header.
        at: usize,
    },
    /// A NAL unit type that exists only in RTP payloads (H.264 24–31: STAP, MTAP, FU; H.265 48–63:
    /// AP, FU, PACI, unspecified) inside an Annex B frame.
    #[error("RTP-only NAL unit type {ty} at byte {at}")]
    RtpOnlyNalType {
        /// Offset of the NAL unit header.
        at: usize,
        /// The `nal_unit_type`.
        ty: u8,
    },
    /// An Exp-Golomb code with more than 31 leading zero bits.
    #[error("Exp-Golomb code with more than 31 leading zeros at byte {at}")]
    ExpGolombOverflow {
        /// Offset of the byte where the code starts.
        at: usize,
    },
    /// A slice header field out of its range: H.264 `slice_type` > 9 or `pic_parameter_set_id`
    /// > 255, H.265 `slice_pic_parameter_set_id` > 63.
    #[error("invalid slice header field at byte {at}")]
    InvalidSliceHeader {
        /// Offset of the byte where the field starts.
        at: usize,
    },
    /// A VP8 key frame without the start code `9d 01 2a` at bytes 3..6.
    #[error("VP8 key frame without its start code at byte {at}")]
    BadVp8StartCode {
        /// Always 3.
        at: usize,
    },
    /// A VP9 frame whose `frame_marker` is not `0b10` (checked with `Policy::strict_syntax`).
    #[error("VP9 frame marker is not 0b10 at byte {at}")]
    BadVp9FrameMarker {
        /// Always 0.
        at: usize,
    },
    /// A malformed AV1 `obu_size`.
    #[error("bad LEB128 OBU size at byte {at}: {kind}")]
    Leb128 {
        /// Offset of the first byte of the LEB128 field.
        at: usize,
        /// What is wrong with it.
        kind: Leb128ErrorKind,
    },
    /// An AV1 OBU whose `obu_size` runs past the end of the frame.
    #[error("OBU at byte {at} claims {size} bytes but only {remaining} remain")]
    ObuOverflow {
        /// Offset of the OBU header.
        at: usize,
        /// The `obu_size` read.
        size: u32,
        /// The bytes left after the size field.
        remaining: usize,
    },
    /// A frame with no unit left after normalization dropped what packetizers drop: an AV1
    /// frame made only of temporal delimiters, tile lists and padding, or an H.264/H.265 frame
    /// made only of access unit delimiters.
    #[error("no media units left in the frame")]
    NoMediaUnits,
    /// A codec this layer refuses: RED, or an unknown MIME type.
    #[error("unsupported codec")]
    UnsupportedCodec,
    /// The frame would need more than `Policy::max_ranges` clear ranges.
    #[error("more than {max} clear ranges (at byte {at})")]
    TooManyRanges {
        /// Offset of the unit that would open one range too many.
        at: usize,
        /// The limit.
        max: usize,
    },
}

/// The structure named by [`CodecError::Truncated`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// The 10-byte VP8 key frame header (frame tag, start code, dimensions).
    Vp8KeyFrameHeader,
    /// The 3-byte VP8 frame tag of a delta frame (with `Vp8Delta::FrameTag`).
    Vp8FrameTag,
    /// A NAL unit header (H.265: 2 bytes).
    NalHeader,
    /// The 3 extra header bytes of H.264 NAL unit types 20 and 21.
    NalHeaderExtension,
    /// The start of a slice (segment) header, up to the PPS id.
    SliceHeader,
    /// An AV1 OBU extension byte.
    ObuExtension,
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Vp8KeyFrameHeader => "VP8 key frame header",
            Self::Vp8FrameTag => "VP8 frame tag",
            Self::NalHeader => "NAL unit header",
            Self::NalHeaderExtension => "NAL unit header extension",
            Self::SliceHeader => "slice header",
            Self::ObuExtension => "OBU extension",
        })
    }
}

/// What is wrong with an AV1 LEB128 field ([`CodecError::Leb128`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Leb128ErrorKind {
    /// More than 8 bytes (AV1 spec §4.10.5).
    TooLong,
    /// A value above 2³² − 1.
    Overflow,
    /// The frame ends inside the field.
    Truncated,
}

impl fmt::Display for Leb128ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLong => "longer than 8 bytes",
            Self::Overflow => "value above 2^32 - 1",
            Self::Truncated => "truncated",
        })
    }
}

/// Why a range map (the compat container's `M`) or a [`ClearRanges::push`] was refused.
///
/// The map is a sequence of ULEB128 pairs `(gap from the previous range's end, length)`; see
/// [`ClearRanges::decode_map`] for the exact rules.
///
/// [`ClearRanges::push`]: super::ClearRanges::push
/// [`ClearRanges::decode_map`]: super::ClearRanges::decode_map
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum RangeMapError {
    /// The map ends inside a number, or after the gap of a pair.
    #[error("range map truncated")]
    Truncated,
    /// A number longer than 10 bytes.
    #[error("range map number too long")]
    Leb128TooLong,
    /// A number not in its shortest encoding (a last byte of `00` after a continuation byte).
    #[error("range map number not minimally encoded")]
    Leb128NonMinimal,
    /// A number, or a range's start or end, that does not fit in `usize`.
    #[error("range map arithmetic overflow")]
    Overflow,
    /// A range of length zero.
    #[error("empty clear range")]
    EmptyRange,
    /// A range that starts where the previous one ends (gap 0 after the first range): adjacent
    /// ranges must be merged.
    #[error("adjacent clear ranges")]
    Adjacent,
    /// A range that starts before the previous one ends ([`ClearRanges::push`] only; the wire
    /// form cannot express it).
    ///
    /// [`ClearRanges::push`]: super::ClearRanges::push
    #[error("clear ranges out of order or overlapping")]
    Unordered,
    /// A range that ends past the frame.
    #[error("clear range past the end of the frame")]
    OutOfBounds,
    /// More ranges than allowed.
    #[error("too many clear ranges")]
    TooManyRanges,
}
