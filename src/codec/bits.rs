//! An emulation-prevention-aware bit reader for H.264/H.265 slice headers (not part of RFC 9605).
//!
//! It reads the RBSP of one NAL unit straight from the NAL unit's bytes: a `03` that follows two
//! `00` bytes is an `emulation_prevention_three_byte` (H.264 §7.3.1, H.265 §7.3.1.1) and is
//! skipped. It never reads past the slice it was given, which is the unit's payload and nothing
//! beyond.

use super::error::{CodecError, Field};

/// Why a read failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BitError {
    /// The unit ended.
    Truncated,
    /// An Exp-Golomb code with more than 31 leading zeros; the offset is the raw byte where the
    /// code started.
    ExpGolombOverflow(usize),
}

impl BitError {
    /// The slice-header error for a failed read in a NAL unit body that starts at frame offset
    /// `body_at` and is `body_len` bytes long, after `reader` consumed what it could (shared by
    /// the H.264 and H.265 slice covers).
    pub(crate) fn in_slice_header(
        self,
        body_at: usize,
        body_len: usize,
        reader: &RbspReader<'_>,
    ) -> CodecError {
        match self {
            Self::Truncated => CodecError::Truncated {
                at: body_at,
                need: reader.consumed().saturating_add(1),
                have: body_len,
                what: Field::SliceHeader,
            },
            Self::ExpGolombOverflow(offset) => CodecError::ExpGolombOverflow {
                at: body_at.saturating_add(offset),
            },
        }
    }
}

/// Reads bits MSB-first from the RBSP held (escaped) in `data`.
#[derive(Clone, Debug)]
pub(crate) struct RbspReader<'a> {
    data: &'a [u8],
    /// Index of the next raw byte to load.
    pos: usize,
    /// The byte being read.
    current: u8,
    /// Bits of `current` not yet read.
    bits_left: u8,
    /// Consecutive `00` RBSP bytes just loaded (at most 2 matter).
    zeros: u8,
}

impl<'a> RbspReader<'a> {
    /// A reader over the escaped bytes `data`.
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Self {
            data,
            pos: 0,
            current: 0,
            bits_left: 0,
            zeros: 0,
        }
    }

    /// The number of raw bytes up to and including the one that holds the last bit read (so a
    /// clear cover of this many bytes holds every bit read).
    pub(crate) fn consumed(&self) -> usize {
        self.pos
    }

    /// The raw offset of the byte holding the next bit (for diagnostics; an escape byte still to
    /// be skipped is not accounted for).
    pub(crate) fn offset(&self) -> usize {
        if self.bits_left > 0 {
            self.pos.saturating_sub(1)
        } else {
            self.pos
        }
    }

    fn load(&mut self) -> Result<(), BitError> {
        loop {
            let byte = *self.data.get(self.pos).ok_or(BitError::Truncated)?;
            self.pos += 1;
            if self.zeros >= 2 && byte == 0x03 {
                self.zeros = 0;
                continue;
            }
            self.zeros = if byte == 0 {
                self.zeros.saturating_add(1)
            } else {
                0
            };
            self.current = byte;
            self.bits_left = 8;
            return Ok(());
        }
    }

    /// `u(1)`.
    pub(crate) fn read_bit(&mut self) -> Result<bool, BitError> {
        if self.bits_left == 0 {
            self.load()?;
        }
        self.bits_left -= 1;
        Ok((self.current >> self.bits_left) & 1 == 1)
    }

    /// `ue(v)` (H.264 §9.1): up to 31 leading zeros, so the value fits in a `u32`.
    ///
    /// A code that ends in the current byte (the small values of a slice header's first
    /// fields) is taken whole, inline; a longer one out of line, its leading zeros counted and
    /// its info bits taken a byte at a time (issue #15: bit by bit, a slice header's three
    /// codes cost ~100 instructions each; out of line and byte-wise, 44–62). The bytes loaded,
    /// the escapes skipped and the errors are those of reading bit by bit.
    #[inline]
    pub(crate) fn read_ue(&mut self) -> Result<u32, BitError> {
        let start = self.offset();
        if self.bits_left == 0 {
            self.load()?;
        }
        // The whole code in the current byte's unread bits (the small values of a slice
        // header's first fields): its `2z + 1` top bits are `value + 1`.
        let unread = self.current << (8 - self.bits_left);
        let len = 2 * unread.leading_zeros() + 1;
        if len <= u32::from(self.bits_left) {
            // `len` is 1, 3, 5 or 7 here.
            self.bits_left -= u8::try_from(len).unwrap_or(self.bits_left);
            return Ok(u32::from(unread >> (8 - len)) - 1);
        }
        self.read_ue_across(start)
    }

    /// The rest of [`read_ue`](Self::read_ue), for a code that does not end in the current
    /// byte (`start` is where it began); out of line, so that the common case saves no
    /// registers for it.
    #[inline(never)]
    fn read_ue_across(&mut self, start: usize) -> Result<u32, BitError> {
        let mut leading_zeros: u32 = 0;
        loop {
            if self.bits_left == 0 {
                self.load()?;
            }
            // The unread bits of the current byte, at its top (`bits_left` is 1 to 8).
            let unread = self.current << (8 - self.bits_left);
            if unread == 0 {
                leading_zeros += u32::from(self.bits_left);
                self.bits_left = 0;
            } else {
                // Fewer than `bits_left` zeros, then the code's 1 bit.
                let zeros = unread.leading_zeros();
                leading_zeros += zeros;
                self.bits_left -= u8::try_from(zeros + 1).unwrap_or(self.bits_left);
                if leading_zeros > 31 {
                    return Err(BitError::ExpGolombOverflow(start));
                }
                break;
            }
            if leading_zeros > 31 {
                return Err(BitError::ExpGolombOverflow(start));
            }
        }
        let info = self.read_bits(leading_zeros)?;
        // 2^n - 1 + info with n ≤ 31 and info < 2^n: at most 2^32 - 2.
        let value = (1u64 << leading_zeros) - 1 + info;
        u32::try_from(value).map_err(|_| BitError::ExpGolombOverflow(start))
    }

    /// `u(n)` for `n` ≤ 32, a byte's worth of bits at a time.
    fn read_bits(&mut self, mut n: u32) -> Result<u64, BitError> {
        let mut value: u64 = 0;
        while n > 0 {
            if self.bits_left == 0 {
                self.load()?;
            }
            let left = u32::from(self.bits_left);
            let take = n.min(left);
            let bits = (u32::from(self.current) >> (left - take)) & ((1 << take) - 1);
            value = (value << take) | u64::from(bits);
            // `take` ≤ `bits_left` ≤ 8.
            self.bits_left -= u8::try_from(take).unwrap_or(self.bits_left);
            n -= take;
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `ue(v)` read bit by bit, as it was: the reference the byte-wise reader must match.
    fn read_ue_bitwise(reader: &mut RbspReader<'_>) -> Result<u32, BitError> {
        let start = reader.offset();
        let mut leading_zeros: u32 = 0;
        while !reader.read_bit()? {
            leading_zeros += 1;
            if leading_zeros > 31 {
                return Err(BitError::ExpGolombOverflow(start));
            }
        }
        let mut info: u64 = 0;
        for _ in 0..leading_zeros {
            info = (info << 1) | u64::from(reader.read_bit()?);
        }
        let value = (1u64 << leading_zeros) - 1 + info;
        u32::try_from(value).map_err(|_| BitError::ExpGolombOverflow(start))
    }

    /// Same values, errors, bytes consumed and position, code after code, on every kind of
    /// input: random bytes, long zero runs (overflow, truncation), escapes.
    #[test]
    fn read_ue_matches_bit_by_bit() {
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for case in 0..20_000 {
            let len = usize::try_from(next() % 24).unwrap();
            let data: std::vec::Vec<u8> = (0..len)
                .map(|_| match next() % 8 {
                    0..=2 => 0,
                    3 => 3,
                    4 => 1,
                    _ => u8::try_from(next() & 0xff).unwrap(),
                })
                .collect();
            let skip = u32::try_from(next() % 8).unwrap();
            let mut fast = RbspReader::new(&data);
            let mut slow = RbspReader::new(&data);
            for _ in 0..skip {
                assert_eq!(fast.read_bit(), slow.read_bit(), "case {case}");
            }
            for _ in 0..6 {
                let (a, b) = (fast.read_ue(), read_ue_bitwise(&mut slow));
                assert_eq!(a, b, "case {case}: {data:02x?}");
                assert_eq!(fast.consumed(), slow.consumed(), "case {case}: {data:02x?}");
                if a.is_err() {
                    break;
                }
                assert_eq!(fast.offset(), slow.offset(), "case {case}: {data:02x?}");
                assert_eq!(fast.read_bit(), slow.read_bit(), "case {case}: {data:02x?}");
            }
        }
    }
}
