//! Clear ranges of a frame and their wire form, the range map (not part of RFC 9605).
//!
//! The compat container keeps the bytes of each clear range in place and in the clear, and
//! encrypts the rest (the *opaque* bytes). The receiver learns the ranges from the authenticated
//! range map `M`: a sequence of ULEB128 pairs `(gap from the previous range's end, length)`, the
//! first gap counted from byte 0.

use alloc::vec::Vec;
use core::iter::FusedIterator;
use core::ops::Range;

use super::error::RangeMapError;
use super::leb128;

/// The longest number in a range map, in bytes: enough for any `u64`.
const MAP_NUMBER_MAX_LEN: usize = 10;

/// The clear ranges of a frame: sorted, disjoint, non-adjacent (touching ranges are merged) and
/// non-empty.
///
/// The invariants hold by construction: the only ways to build one are [`ClearRanges::new`] plus
/// [`ClearRanges::push`] (which merges and refuses anything else) and
/// [`ClearRanges::decode_map`] (which validates). Being inside a frame is a property of the pair:
/// a [`FramePlan`](super::FramePlan)'s ranges all end within its frame, and `decode_map` checks it
/// against the length it is given; [`ClearRanges::end`] tells where the last range ends.
///
/// Because adjacent ranges are always merged, every gap in the wire form after the first is at
/// least 1. So the map never holds two `00` bytes in a row, which the Annex B retry loop relies on.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClearRanges {
    /// `(start, end)` pairs, `start < end`, each `start` greater than the previous `end`.
    ranges: Vec<(usize, usize)>,
}

impl ClearRanges {
    /// No clear ranges: the whole frame is opaque.
    #[must_use]
    pub const fn new() -> Self {
        Self { ranges: Vec::new() }
    }

    /// Removes every range, keeping the storage.
    pub(crate) fn reset(&mut self) {
        self.ranges.clear();
    }

    /// Appends `range`, merging it into the last range when the two touch.
    ///
    /// # Errors
    ///
    /// [`RangeMapError::EmptyRange`] if `range` is empty (or reversed), and
    /// [`RangeMapError::Unordered`] if it starts before the end of the last range.
    pub fn push(&mut self, range: Range<usize>) -> Result<(), RangeMapError> {
        if range.start >= range.end {
            return Err(RangeMapError::EmptyRange);
        }
        if range.start < self.end() {
            return Err(RangeMapError::Unordered);
        }
        self.union_push(range.start, range.end);
        Ok(())
    }

    /// Adds `[start, end)`; used by the parsers, which build ranges front to back. Empty ranges
    /// are ignored and a range that starts at or before the end of the last one extends that one,
    /// so the invariants hold whatever the arguments.
    pub(crate) fn union_push(&mut self, start: usize, end: usize) {
        if start >= end {
            return;
        }
        match self.ranges.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => self.ranges.push((start, end)),
        }
    }

    /// The number of ranges.
    #[must_use]
    pub fn len(&self) -> usize {
        self.ranges.len()
    }

    /// Whether there is no clear range (everything is opaque).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// The total number of clear bytes.
    #[must_use]
    pub fn clear_len(&self) -> usize {
        // Disjoint ranges inside `0..usize::MAX` cannot sum past `usize::MAX`.
        self.ranges
            .iter()
            .fold(0, |sum, &(start, end)| sum.saturating_add(end - start))
    }

    /// Where the last range ends, or 0 without ranges. The ranges fit a frame of length `n`
    /// exactly when `end() <= n`.
    #[must_use]
    pub fn end(&self) -> usize {
        self.ranges.last().map_or(0, |&(_, end)| end)
    }

    /// The clear ranges, in ascending order.
    #[must_use]
    pub fn iter(&self) -> ClearIter<'_> {
        ClearIter {
            inner: self.ranges.iter(),
        }
    }

    /// The opaque ranges of a frame of `frame_len` bytes: the complement of the clear ranges in
    /// `0..frame_len`, ascending, non-empty. Clear ranges past `frame_len` are ignored.
    #[must_use]
    pub fn opaque(&self, frame_len: usize) -> OpaqueIter<'_> {
        OpaqueIter {
            clear: self.ranges.iter(),
            pos: 0,
            frame_len,
        }
    }

    /// Appends the range map: for each range the ULEB128 of its distance from the previous range's
    /// end (from 0 for the first), then the ULEB128 of its length. No ranges give no bytes.
    pub fn encode_map(&self, out: &mut Vec<u8>) {
        let mut prev_end = 0;
        for &(start, end) in &self.ranges {
            leb128::write(start - prev_end, out);
            leb128::write(end - start, out);
            prev_end = end;
        }
    }

    /// The length of [`ClearRanges::encode_map`]'s output.
    #[must_use]
    pub fn encoded_map_len(&self) -> usize {
        let mut prev_end = 0;
        let mut len: usize = 0;
        for &(start, end) in &self.ranges {
            len = len
                .saturating_add(leb128::encoded_len(start - prev_end))
                .saturating_add(leb128::encoded_len(end - start));
            prev_end = end;
        }
        len
    }

    /// Parses a range map that must fill `bytes` exactly, for a frame of `frame_len` bytes.
    ///
    /// Rules: every number is a ULEB128 of at most 10 bytes in its shortest encoding; numbers come
    /// in pairs `(gap, len)`; `len` ≥ 1; the gap of every range after the first is ≥ 1 (adjacent
    /// ranges must have been merged, so there is exactly one encoding per set of ranges); every
    /// range ends at or before `frame_len`; at most `max_ranges` ranges. The ascending order and
    /// the absence of overlap follow from the gap encoding.
    ///
    /// # Errors
    ///
    /// [`RangeMapError::Truncated`] (the bytes end inside a number or a pair),
    /// [`RangeMapError::Leb128TooLong`], [`RangeMapError::Leb128NonMinimal`],
    /// [`RangeMapError::Overflow`] (a number or position past `usize`),
    /// [`RangeMapError::EmptyRange`], [`RangeMapError::Adjacent`],
    /// [`RangeMapError::OutOfBounds`] and [`RangeMapError::TooManyRanges`].
    pub fn decode_map(
        bytes: &[u8],
        frame_len: usize,
        max_ranges: usize,
    ) -> Result<Self, RangeMapError> {
        let mut ranges = Self::new();
        ranges.decode_map_into(bytes, frame_len, max_ranges)?;
        Ok(ranges)
    }

    /// [`decode_map`](Self::decode_map) into `self`, reusing its storage (a receiver that keeps
    /// one `ClearRanges` decodes every frame's map without allocating). On error `self` is
    /// empty.
    ///
    /// # Errors
    ///
    /// As [`decode_map`](Self::decode_map).
    pub fn decode_map_into(
        &mut self,
        bytes: &[u8],
        frame_len: usize,
        max_ranges: usize,
    ) -> Result<(), RangeMapError> {
        self.reset();
        let result = self.decode_pairs(bytes, frame_len, max_ranges);
        if result.is_err() {
            self.ranges.clear();
        }
        result
    }

    fn decode_pairs(
        &mut self,
        bytes: &[u8],
        frame_len: usize,
        max_ranges: usize,
    ) -> Result<(), RangeMapError> {
        let ranges = &mut self.ranges;
        let mut rest = bytes;
        let mut prev_end: usize = 0;
        while !rest.is_empty() {
            let (gap, after_gap) = read_map_number(rest)?;
            if after_gap.is_empty() {
                return Err(RangeMapError::Truncated);
            }
            let (len, after_len) = read_map_number(after_gap)?;
            rest = after_len;
            if len == 0 {
                return Err(RangeMapError::EmptyRange);
            }
            if gap == 0 && !ranges.is_empty() {
                return Err(RangeMapError::Adjacent);
            }
            let start = prev_end.checked_add(gap).ok_or(RangeMapError::Overflow)?;
            let end = start.checked_add(len).ok_or(RangeMapError::Overflow)?;
            if end > frame_len {
                return Err(RangeMapError::OutOfBounds);
            }
            if ranges.len() >= max_ranges {
                return Err(RangeMapError::TooManyRanges);
            }
            ranges.push((start, end));
            prev_end = end;
        }
        Ok(())
    }
}

/// Reads one range-map number and returns it with the bytes after it.
fn read_map_number(bytes: &[u8]) -> Result<(usize, &[u8]), RangeMapError> {
    let number = leb128::read(bytes, MAP_NUMBER_MAX_LEN).map_err(|e| match e {
        leb128::ReadError::Truncated => RangeMapError::Truncated,
        leb128::ReadError::TooLong => RangeMapError::Leb128TooLong,
    })?;
    if !number.is_minimal() {
        return Err(RangeMapError::Leb128NonMinimal);
    }
    let value = usize::try_from(number.value).map_err(|_| RangeMapError::Overflow)?;
    let rest = bytes.get(number.len..).ok_or(RangeMapError::Truncated)?;
    Ok((value, rest))
}

impl<'a> IntoIterator for &'a ClearRanges {
    type Item = Range<usize>;
    type IntoIter = ClearIter<'a>;

    fn into_iter(self) -> ClearIter<'a> {
        self.iter()
    }
}

/// Iterator over the clear ranges ([`ClearRanges::iter`]).
#[derive(Clone, Debug)]
pub struct ClearIter<'a> {
    inner: core::slice::Iter<'a, (usize, usize)>,
}

impl Iterator for ClearIter<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        self.inner.next().map(|&(start, end)| start..end)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for ClearIter<'_> {
    fn next_back(&mut self) -> Option<Range<usize>> {
        self.inner.next_back().map(|&(start, end)| start..end)
    }
}

impl ExactSizeIterator for ClearIter<'_> {}
impl FusedIterator for ClearIter<'_> {}

/// Iterator over the opaque ranges of a frame ([`ClearRanges::opaque`]).
#[derive(Clone, Debug)]
pub struct OpaqueIter<'a> {
    clear: core::slice::Iter<'a, (usize, usize)>,
    /// Where the next opaque range may start: the end of the last clear range seen.
    pos: usize,
    frame_len: usize,
}

impl Iterator for OpaqueIter<'_> {
    type Item = Range<usize>;

    fn next(&mut self) -> Option<Range<usize>> {
        while self.pos < self.frame_len {
            let (start, end) = match self.clear.next() {
                Some(&(start, end)) => (start.min(self.frame_len), end),
                None => (self.frame_len, self.frame_len),
            };
            let gap = self.pos..start;
            self.pos = end;
            if !gap.is_empty() {
                return Some(gap);
            }
        }
        None
    }
}

impl FusedIterator for OpaqueIter<'_> {}
