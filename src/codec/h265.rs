//! H.265 (video/H265, Annex B): which bytes of each NAL unit stay clear (not part of RFC 9605).
//!
//! | `nal_unit_type` | clear | opaque |
//! |---|---|---|
//! | 0–9, 16–21 (slices, IRAP slices) | 2-byte header + cover of `first_slice_segment_in_pic_flag`, `no_output_of_prior_pics_flag` (IRAP only), `slice_pic_parameter_set_id` (`H265Cover::HeaderOnly`: the header only) | the rest |
//! | 10–15, 22–31 (reserved VCL) | header | the rest |
//! | 35 (access unit delimiter) | dropped (`Policy::keep_access_unit_delimiters`: whole unit) | – |
//! | 32–34, 36–38 (VPS, SPS, PPS, end of sequence/bitstream, filler) | whole unit | – |
//! | 39, 40 (prefix/suffix SEI) | header (`SeiPolicy::Clear`: whole unit) | payload |
//! | 41–47 (reserved) | header | payload |
//! | 48–63 (RTP aggregation/fragmentation, unspecified) | refused: [`CodecError::RtpOnlyNalType`] | |
//!
//! Every start code stays clear. A unit shorter than its 2-byte header, a set forbidden bit or
//! `nuh_temporal_id_plus1 == 0` is refused. Key frame hint: an IRAP unit (16–23) is present.

use super::annexb::{NalClass, NalUnit};
use super::bits::{BitError, RbspReader};
use super::error::{CodecError, Field};
use super::{H265Cover, Policy, SeiPolicy};

/// The H.265 NAL unit header length.
const HEADER_LEN: usize = 2;

/// The access unit delimiter's `nal_unit_type`.
const AUD: u8 = 35;

/// Whether normalization leaves the unit out: an access unit delimiter with a valid header
/// (forbidden bit clear, `nuh_temporal_id_plus1` not 0), unless kept.
pub(crate) fn dropped(unit: &NalUnit<'_>, policy: &Policy) -> bool {
    match unit.bytes {
        [first, second, ..] => {
            !policy.keep_access_unit_delimiters
                && first & 0x80 == 0
                && (first >> 1) & 0x3f == AUD
                && second & 0x07 != 0
        }
        _ => false,
    }
}

/// Classifies one H.265 NAL unit that is not [`dropped`].
pub(crate) fn classify(unit: &NalUnit<'_>, policy: &Policy) -> Result<NalClass, CodecError> {
    let (&[first, second], _) =
        unit.bytes
            .split_first_chunk::<HEADER_LEN>()
            .ok_or(CodecError::Truncated {
                at: unit.at,
                need: HEADER_LEN,
                have: unit.bytes.len(),
                what: Field::NalHeader,
            })?;
    if first & 0x80 != 0 {
        return Err(CodecError::ForbiddenBit { at: unit.at });
    }
    let ty = (first >> 1) & 0x3f;
    if ty >= 48 {
        return Err(CodecError::RtpOnlyNalType { at: unit.at, ty });
    }
    let temporal_id_plus1 = second & 0x07;
    if temporal_id_plus1 == 0 {
        return Err(CodecError::InvalidNalHeader { at: unit.at });
    }
    let len = unit.bytes.len();
    let irap = (16..=23).contains(&ty);
    let clear = match ty {
        0..=9 | 16..=21 => match policy.h265_cover {
            H265Cover::SliceHeaderCover => HEADER_LEN + slice_cover(unit, irap)?,
            H265Cover::HeaderOnly => HEADER_LEN,
        },
        32..=38 => len,
        39 | 40 => match policy.sei {
            SeiPolicy::Clear => len,
            SeiPolicy::Encrypt => HEADER_LEN,
        },
        _ => HEADER_LEN,
    };
    Ok(NalClass { clear, key: irap })
}

/// The number of bytes after the header that hold `first_slice_segment_in_pic_flag`,
/// `no_output_of_prior_pics_flag` (IRAP) and `slice_pic_parameter_set_id` (H.265 §7.3.6.1).
fn slice_cover(unit: &NalUnit<'_>, irap: bool) -> Result<usize, CodecError> {
    let body = unit.bytes.get(HEADER_LEN..).unwrap_or_default();
    let body_at = unit.at.saturating_add(HEADER_LEN);
    let mut reader = RbspReader::new(body);
    let error =
        |e: BitError, reader: &RbspReader<'_>| e.in_slice_header(body_at, body.len(), reader);
    let _first_slice_segment_in_pic = reader.read_bit().map_err(|e| error(e, &reader))?;
    if irap {
        let _no_output_of_prior_pics = reader.read_bit().map_err(|e| error(e, &reader))?;
    }
    let pps_id_at = body_at.saturating_add(reader.offset());
    let pps_id = reader.read_ue().map_err(|e| error(e, &reader))?;
    if pps_id > 63 {
        return Err(CodecError::InvalidSliceHeader { at: pps_id_at });
    }
    Ok(reader.consumed())
}
