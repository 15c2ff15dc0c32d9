//! Annex B start codes, NAL unit splitting and normalization (not part of RFC 9605).
//!
//! Shared by H.264 and H.265.
//!
//! Splitting follows libwebrtc's `H264::FindNaluIndices`: every `00 00 01` opens a NAL unit. The
//! normalized frame is what the libwebrtc depacketizer hands a receiver: every unit behind a 4-byte
//! start code `00 00 00 01`, with its trailing `00` bytes (Annex B `trailing_zero_8bits`, and the
//! `zero_byte` of a following 4-byte start code) removed. A NAL unit never ends in `00`
//! (H.264 §7.4.1, H.265 §7.4.2), so nothing of the unit itself is lost.

use alloc::borrow::Cow;
use alloc::vec::Vec;

use memchr::memmem;

use super::error::CodecError;
use super::ranges::ClearRanges;
use super::{FramePlan, Framing, Plan, Policy};

/// The normalized start code.
pub(crate) const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// One NAL unit of the input frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NalUnit<'a> {
    /// Offset in the input frame of the `00 00 01` that opens the unit.
    pub(crate) start_code_at: usize,
    /// Offset in the input frame of the unit's first byte (its header).
    pub(crate) at: usize,
    /// The unit's bytes, header included, without trailing `00` bytes; never empty.
    pub(crate) bytes: &'a [u8],
}

/// How one NAL unit is split, as decided by the codec.
#[derive(Clone, Copy, Debug)]
pub(crate) struct NalClass {
    /// How many bytes from the start of the unit stay clear (header included), at most its length.
    pub(crate) clear: usize,
    /// Whether the unit makes the frame a key frame (H.264 IDR, H.265 IRAP).
    pub(crate) key: bool,
}

/// The three bytes that open a NAL unit.
const SHORT_START_CODE: [u8; 3] = [0, 0, 1];

/// Defines `fn $name(f)`, which calls `f` with the searcher for `$needle`: built once and kept
/// where `std` can keep it, built per call without (building one takes about as long as
/// scanning a 1 KiB frame).
macro_rules! with_finder {
    ($(#[$doc:meta])* $name:ident, $needle:expr) => {
        $(#[$doc])*
        pub(crate) fn $name<R>(f: impl FnOnce(&memmem::Finder<'static>) -> R) -> R {
            #[cfg(feature = "std")]
            {
                static FINDER: std::sync::OnceLock<memmem::Finder<'static>> =
                    std::sync::OnceLock::new();
                f(FINDER.get_or_init(|| memmem::Finder::new(&$needle)))
            }
            #[cfg(not(feature = "std"))]
            {
                f(&memmem::Finder::new(&$needle))
            }
        }
    };
}

with_finder!(
    /// Calls `f` with the searcher for `00 00 01`.
    with_start_code_finder,
    SHORT_START_CODE
);

with_finder!(
    /// Calls `f` with the searcher for `00 00`, the prefix of every start code and of the byte
    /// patterns emulation prevention escapes.
    with_zero_pair_finder,
    [0u8, 0]
);

/// Offset of the first `00 00 01` at or after `from`. `memmem` looks for the two rarest bytes
/// of the needle together (vectorized), so it stops only at a real start code or, rarely, a
/// near miss, where finding each `01` stopped at every `01` of the payload (issue #15: 2.6×
/// faster on a 16 KB two-slice frame, level at 1–3 KB).
fn find_start_code(finder: &memmem::Finder<'_>, frame: &[u8], from: usize) -> Option<usize> {
    finder
        .find(frame.get(from..)?)
        .map(|at| from.saturating_add(at))
}

/// Iterator over the NAL units of a frame, in order.
#[derive(Clone, Debug)]
pub(crate) struct NalUnits<'a> {
    frame: &'a [u8],
    /// The searcher for `00 00 01`.
    finder: &'a memmem::Finder<'static>,
    /// Offset of the next start code, if any.
    next: Option<usize>,
}

/// Splits `frame` into NAL units.
///
/// # Errors
///
/// `NoStartCode` and `LeadingGarbage` here; the iterator yields `EmptyNalUnit`.
pub(crate) fn nal_units<'a>(
    frame: &'a [u8],
    finder: &'a memmem::Finder<'static>,
) -> Result<NalUnits<'a>, CodecError> {
    let first = find_start_code(finder, frame, 0).ok_or(CodecError::NoStartCode { at: 0 })?;
    let leading = frame.get(..first).unwrap_or_default();
    if let Some(garbage) = leading.iter().position(|&b| b != 0) {
        return Err(CodecError::LeadingGarbage {
            at: garbage,
            len: first,
        });
    }
    Ok(NalUnits {
        frame,
        finder,
        next: Some(first),
    })
}

impl<'a> Iterator for NalUnits<'a> {
    type Item = Result<NalUnit<'a>, CodecError>;

    fn next(&mut self) -> Option<Self::Item> {
        let start_code_at = self.next?;
        let at = start_code_at.saturating_add(3);
        let following = find_start_code(self.finder, self.frame, at);
        self.next = following;
        let end = following.unwrap_or(self.frame.len());
        let raw = self.frame.get(at..end).unwrap_or_default();
        let kept = raw.iter().rposition(|&b| b != 0).map_or(0, |last| last + 1);
        match raw.get(..kept) {
            Some(bytes) if !bytes.is_empty() => Some(Ok(NalUnit {
                start_code_at,
                at,
                bytes,
            })),
            _ => {
                self.next = None;
                Some(Err(CodecError::EmptyNalUnit { at: start_code_at }))
            }
        }
    }
}

/// Plans an Annex B frame: splits it, leaves out the units `dropped` says normalization drops,
/// asks `classify` how much of each other unit stays clear, and normalizes it (borrowing the
/// input when it is already normal).
pub(crate) fn plan<'a, D, C>(
    frame: &'a [u8],
    policy: &Policy,
    dropped: D,
    classify: C,
    mut clear: ClearRanges,
    mut out: Vec<u8>,
) -> Result<Plan<'a>, CodecError>
where
    D: Fn(&NalUnit<'_>, &Policy) -> bool,
    C: Fn(&NalUnit<'_>, &Policy) -> Result<NalClass, CodecError>,
{
    // The body inside the closure: moved to a function of its own, it cost 37–87 instructions
    // a frame more (scripts/instructions codec).
    with_start_code_finder(move |finder| {
        // Length of the normalized frame so far; the next unit's start code goes here. Each
        // input unit takes at least 4 bytes and at most 5 normalized, so this cannot overflow;
        // saturate anyway.
        let mut out_len: usize = 0;
        // Whether `out` holds the normalized frame so far. Until a unit is not where its
        // normalized form goes, the normalized frame so far is the input's first `out_len`
        // bytes and nothing is copied; from that unit on it is built as the units are found,
        // in the same pass (issue #15: a second pass searched every start code again).
        let mut copying = false;
        let mut key = false;
        for unit in nal_units(frame, finder)? {
            let unit = unit?;
            let dropped = dropped(&unit, policy);
            // A unit is in place when its 4-byte start code sits where the normalized one goes
            // (then the bytes between the units match as well).
            let in_place = !dropped
                && unit.start_code_at == out_len.saturating_add(1)
                && frame.get(out_len) == Some(&0);
            if !copying && !in_place {
                out.clear();
                out.reserve(frame.len().saturating_add(frame.len() / 4));
                out.extend_from_slice(frame.get(..out_len).unwrap_or_default());
                copying = true;
            }
            if dropped {
                continue;
            }
            let class = classify(&unit, policy)?;
            let clear_end = out_len
                .saturating_add(START_CODE.len())
                .saturating_add(class.clear.min(unit.bytes.len()));
            clear.union_push(out_len, clear_end);
            if clear.len() > policy.max_ranges {
                return Err(CodecError::TooManyRanges {
                    at: unit.start_code_at,
                    max: policy.max_ranges,
                });
            }
            if copying {
                out.extend_from_slice(&START_CODE);
                out.extend_from_slice(unit.bytes);
            }
            out_len = out_len
                .saturating_add(START_CODE.len())
                .saturating_add(unit.bytes.len());
            key |= class.key;
        }
        if out_len == 0 {
            return Err(CodecError::NoMediaUnits);
        }
        let (normalized, spare) = if !copying && out_len == frame.len() {
            (Cow::Borrowed(frame), out)
        } else {
            if !copying {
                // Only trailing `00` bytes differ: the normalized frame is a prefix of the input.
                out.clear();
                out.extend_from_slice(frame.get(..out_len).unwrap_or_default());
            }
            (Cow::Owned(out), Vec::new())
        };
        Ok(Plan::Protect(FramePlan::new(
            normalized,
            clear,
            spare,
            Framing::AnnexB,
            Some(key),
        )))
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::indexing_slicing, reason = "test code")]

    use alloc::vec::Vec;

    use super::{find_start_code, with_start_code_finder};

    /// The search against the plain definition, from every offset, on inputs long enough for
    /// the vectorized loops and with `00` and `01` dense enough for every near miss (`00 01`,
    /// `01` at the start, `00 00` at the end, runs of `00` before a `01`).
    #[test]
    fn start_code_search_matches_its_definition() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        with_start_code_finder(|finder| {
            for len in [0, 1, 2, 3, 4, 31, 32, 33, 64, 65, 200, 700] {
                for _ in 0..50 {
                    let frame: Vec<u8> = (0..len)
                        .map(|_| {
                            state ^= state << 13;
                            state ^= state >> 7;
                            state ^= state << 17;
                            match state % 8 {
                                0 | 1 => 0,
                                2 => 1,
                                _ => state.to_le_bytes()[1] | 0x10,
                            }
                        })
                        .collect();
                    for from in 0..=len + 1 {
                        let expected = frame
                            .get(from..)
                            .and_then(|tail| tail.windows(3).position(|w| w == [0, 0, 1]))
                            .map(|at| from + at);
                        assert_eq!(
                            find_start_code(finder, &frame, from),
                            expected,
                            "{frame:02x?} from {from}"
                        );
                    }
                }
            }
        });
    }
}
