//! AV1 (video/AV1): OBU normalization and clear ranges (not part of RFC 9605).
//!
//! Frames are temporal units in the low-overhead OBU format.
//!
//! The libwebrtc AV1 packetizer drops temporal delimiter, tile list and padding OBUs and strips
//! `obu_size`; its depacketizer writes every OBU back with `obu_has_size_field = 1` and a minimal
//! LEB128 size. We normalize the same way, so the frame a receiver decrypts is the frame we
//! planned. Clear: each OBU's header, extension and size bytes. Opaque: every payload (sequence
//! headers, frame headers and metadata too). Key frame hint: the first OBU kept is a sequence
//! header.
//!
//! OBU header (AV1 spec §5.3.2): `obu_forbidden_bit(1) obu_type(4) obu_extension_flag(1)
//! obu_has_size_field(1) obu_reserved_1bit(1)`; the extension byte follows when the flag is set,
//! then `obu_size` as `leb128()` when `obu_has_size_field` is set.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::error::{CodecError, Field, Leb128ErrorKind};
use super::leb128;
use super::ranges::ClearRanges;
use super::{FramePlan, Framing, Plan, Policy};

/// `OBU_SEQUENCE_HEADER`.
const OBU_SEQUENCE_HEADER: u8 = 1;
/// `OBU_TEMPORAL_DELIMITER`.
const OBU_TEMPORAL_DELIMITER: u8 = 2;
/// `OBU_TILE_LIST`.
const OBU_TILE_LIST: u8 = 8;
/// `OBU_PADDING`.
const OBU_PADDING: u8 = 15;
/// `obu_extension_flag`.
const EXTENSION_FLAG: u8 = 0x04;
/// `obu_has_size_field`.
const HAS_SIZE_FIELD: u8 = 0x02;
/// The longest `leb128()` the spec allows.
const LEB128_MAX_LEN: usize = 8;

/// One OBU of the input frame.
#[derive(Clone, Copy, Debug)]
struct Obu<'a> {
    /// Offset of the header in the input.
    at: usize,
    /// The header byte as given.
    header: u8,
    /// The extension byte, if any.
    extension: Option<u8>,
    /// Whether the input's size field was present and minimal.
    size_minimal: bool,
    /// The payload.
    payload: &'a [u8],
}

impl Obu<'_> {
    fn obu_type(&self) -> u8 {
        (self.header >> 3) & 0x0f
    }

    /// Whether the libwebrtc packetizer drops this OBU.
    fn dropped(&self) -> bool {
        matches!(
            self.obu_type(),
            OBU_TEMPORAL_DELIMITER | OBU_TILE_LIST | OBU_PADDING
        )
    }

    /// Header, extension and size field as normalized.
    fn normalized_header_len(&self) -> usize {
        1 + usize::from(self.extension.is_some()) + leb128::encoded_len(self.payload.len())
    }
}

/// Reads the OBU at the front of `rest`, which starts at offset `at` of the input.
fn read_obu(rest: &[u8], at: usize) -> Result<(Obu<'_>, &[u8]), CodecError> {
    let Some((&header, mut tail)) = rest.split_first() else {
        return Err(CodecError::NoMediaUnits);
    };
    if header & 0x80 != 0 {
        return Err(CodecError::ForbiddenBit { at });
    }
    let mut extension = None;
    if header & EXTENSION_FLAG != 0 {
        let Some((&ext, after)) = tail.split_first() else {
            return Err(CodecError::Truncated {
                at,
                need: 2,
                have: 1,
                what: Field::ObuExtension,
            });
        };
        extension = Some(ext);
        tail = after;
    }
    let size_at = at
        .saturating_add(1)
        .saturating_add(usize::from(extension.is_some()));
    let (payload, next, size_minimal) = if header & HAS_SIZE_FIELD != 0 {
        let number = leb128::read(tail, LEB128_MAX_LEN).map_err(|e| CodecError::Leb128 {
            at: size_at,
            kind: match e {
                leb128::ReadError::Truncated => Leb128ErrorKind::Truncated,
                leb128::ReadError::TooLong => Leb128ErrorKind::TooLong,
            },
        })?;
        let size = u32::try_from(number.value).map_err(|_| CodecError::Leb128 {
            at: size_at,
            kind: Leb128ErrorKind::Overflow,
        })?;
        let after_size = tail.get(number.len..).unwrap_or_default();
        let overflow = CodecError::ObuOverflow {
            at,
            size,
            remaining: after_size.len(),
        };
        let size_usize = usize::try_from(size).map_err(|_| overflow)?;
        let (payload, next) = after_size.split_at_checked(size_usize).ok_or(overflow)?;
        (payload, next, number.is_minimal())
    } else {
        (tail, &[][..], false)
    };
    Ok((
        Obu {
            at,
            header,
            extension,
            size_minimal,
            payload,
        },
        next,
    ))
}

/// Iterator over the OBUs of a frame.
struct Obus<'a> {
    rest: &'a [u8],
    at: usize,
}

impl<'a> Iterator for Obus<'a> {
    type Item = Result<Obu<'a>, CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.rest.is_empty() {
            return None;
        }
        match read_obu(self.rest, self.at) {
            Ok((obu, next)) => {
                self.at = self
                    .at
                    .saturating_add(self.rest.len().saturating_sub(next.len()));
                self.rest = next;
                Some(Ok(obu))
            }
            Err(e) => {
                self.rest = &[];
                Some(Err(e))
            }
        }
    }
}

fn obus(frame: &[u8]) -> Obus<'_> {
    Obus { rest: frame, at: 0 }
}

/// Plans an AV1 temporal unit.
pub(crate) fn plan<'a>(
    frame: &'a [u8],
    policy: &Policy,
    mut clear: ClearRanges,
    mut out: Vec<u8>,
) -> Result<Plan<'a>, CodecError> {
    let mut out_len: usize = 0;
    let mut unchanged = true;
    let mut key = None;
    for obu in obus(frame) {
        let obu = obu?;
        if obu.dropped() {
            unchanged = false;
            continue;
        }
        if !obu.size_minimal {
            unchanged = false;
        }
        key.get_or_insert(obu.obu_type() == OBU_SEQUENCE_HEADER);
        let header_len = obu.normalized_header_len();
        clear.union_push(out_len, out_len.saturating_add(header_len));
        if clear.len() > policy.max_ranges {
            return Err(CodecError::TooManyRanges {
                at: obu.at,
                max: policy.max_ranges,
            });
        }
        // Only the last OBU can lack a size field (it then runs to the end of the frame), and a
        // minimal size field is never longer than the given one: the normalized frame is at most
        // a few bytes longer than the input, so this cannot overflow.
        out_len = out_len
            .saturating_add(header_len)
            .saturating_add(obu.payload.len());
    }
    let Some(key) = key else {
        return Err(CodecError::NoMediaUnits);
    };
    let (normalized, spare) = if unchanged {
        (Cow::Borrowed(frame), out)
    } else {
        out.reserve(out_len);
        for obu in obus(frame) {
            let obu = obu?;
            if obu.dropped() {
                continue;
            }
            out.push(obu.header | HAS_SIZE_FIELD);
            if let Some(ext) = obu.extension {
                out.push(ext);
            }
            leb128::write(obu.payload.len(), &mut out);
            out.extend_from_slice(obu.payload);
        }
        (Cow::Owned(out), Vec::new())
    };
    Ok(Plan::Protect(FramePlan::new(
        normalized,
        clear,
        spare,
        Framing::Av1Obu,
        Some(key),
    )))
}
