//! H.264 (video/H264, Annex B): which bytes of each NAL unit stay clear (not part of RFC 9605).
//!
//! | `nal_unit_type` | clear | opaque |
//! |---|---|---|
//! | 1, 5 (slice, IDR slice) | header + cover of `first_mb_in_slice`, `slice_type`, `pic_parameter_set_id` | the rest |
//! | 2, 3, 4, 19 (partitions, auxiliary slice) | header | the rest |
//! | 20, 21 (SVC/MVC slice extensions) | header + 3 extension bytes | the rest |
//! | 6 (SEI) | header (`SeiPolicy::Clear`: whole unit) | payload |
//! | 9 (access unit delimiter) | dropped (`Policy::keep_access_unit_delimiters`: whole unit) | – |
//! | 7, 8, 10–16 (SPS, PPS, end of sequence/stream, filler, SPS extension, prefix, subset SPS, DPS) | whole unit | – |
//! | 0, 17, 18, 22, 23 (unspecified, reserved) | header | the rest (fail closed) |
//! | 24–31 | refused: [`CodecError::RtpOnlyNalType`] | |
//!
//! The cover ends with the byte that holds the last bit of `pic_parameter_set_id`, which the
//! libwebrtc depacketizer reads (`ParsePpsIdFromSlice`) to match an IDR with its SPS/PPS; the
//! reader skips emulation prevention bytes and stops at the end of the unit. Every start code
//! stays clear. Key frame hint: an IDR slice is present.

use super::annexb::{NalClass, NalUnit};
use super::bits::{BitError, RbspReader};
use super::error::{CodecError, Field};
use super::{Policy, SeiPolicy};

/// The access unit delimiter's `nal_unit_type`.
const AUD: u8 = 9;

/// The NAL unit header length for types 14, 20 and 21 (1 + 3 extension bytes).
const EXTENDED_HEADER_LEN: usize = 4;

/// Whether normalization leaves the unit out: an access unit delimiter, unless kept.
pub(crate) fn dropped(unit: &NalUnit<'_>, policy: &Policy) -> bool {
    !policy.keep_access_unit_delimiters && unit.bytes.first().map(|h| h & 0x9f) == Some(AUD)
}

/// Classifies one H.264 NAL unit that is not [`dropped`].
pub(crate) fn classify(unit: &NalUnit<'_>, policy: &Policy) -> Result<NalClass, CodecError> {
    let Some(&header) = unit.bytes.first() else {
        return Err(CodecError::EmptyNalUnit {
            at: unit.start_code_at,
        });
    };
    if header & 0x80 != 0 {
        return Err(CodecError::ForbiddenBit { at: unit.at });
    }
    let ty = header & 0x1f;
    let len = unit.bytes.len();
    let clear = match ty {
        24..=31 => return Err(CodecError::RtpOnlyNalType { at: unit.at, ty }),
        1 | 5 => 1 + slice_cover(unit)?,
        20 | 21 => {
            if len < EXTENDED_HEADER_LEN {
                return Err(CodecError::Truncated {
                    at: unit.at,
                    need: EXTENDED_HEADER_LEN,
                    have: len,
                    what: Field::NalHeaderExtension,
                });
            }
            EXTENDED_HEADER_LEN
        }
        6 => match policy.sei {
            SeiPolicy::Clear => len,
            SeiPolicy::Encrypt => 1,
        },
        7..=16 => len,
        _ => 1,
    };
    Ok(NalClass {
        clear,
        key: ty == 5,
    })
}

/// The number of bytes after the header that hold `first_mb_in_slice`, `slice_type` and
/// `pic_parameter_set_id` (H.264 §7.3.3).
fn slice_cover(unit: &NalUnit<'_>) -> Result<usize, CodecError> {
    let body = unit.bytes.get(1..).unwrap_or_default();
    let body_at = unit.at.saturating_add(1);
    let mut reader = RbspReader::new(body);
    let error =
        |e: BitError, reader: &RbspReader<'_>| e.in_slice_header(body_at, body.len(), reader);
    let _first_mb_in_slice = reader.read_ue().map_err(|e| error(e, &reader))?;
    let slice_type_at = body_at.saturating_add(reader.offset());
    let slice_type = reader.read_ue().map_err(|e| error(e, &reader))?;
    if slice_type > 9 {
        return Err(CodecError::InvalidSliceHeader { at: slice_type_at });
    }
    let pps_id_at = body_at.saturating_add(reader.offset());
    let pps_id = reader.read_ue().map_err(|e| error(e, &reader))?;
    if pps_id > 255 {
        return Err(CodecError::InvalidSliceHeader { at: pps_id_at });
    }
    Ok(reader.consumed())
}
