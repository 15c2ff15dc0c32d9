//! Unsigned LEB128 for AV1 `obu_size` and the range map (not part of RFC 9605).
//!
//! AV1 spec §4.10.5 `leb128()`: each byte carries 7 bits, least significant group first; bit 7
//! says another byte follows.

use alloc::vec::Vec;

/// Why a LEB128 number could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReadError {
    /// The input ends inside the number.
    Truncated,
    /// The number is longer than allowed.
    TooLong,
}

/// One number read from the front of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Number {
    /// Its value; at most 70 bits for `max_len` ≤ 10.
    pub(crate) value: u128,
    /// How many bytes it took.
    pub(crate) len: usize,
}

impl Number {
    /// Whether the encoding is the shortest one for its value (`00` is the only one-byte zero;
    /// a longer encoding must not end in `00`).
    pub(crate) fn is_minimal(self) -> bool {
        self.len == encoded_len_u128(self.value)
    }
}

/// Reads one number of at most `max_len` bytes (`max_len` ≤ 10) from the front of `bytes`.
pub(crate) fn read(bytes: &[u8], max_len: usize) -> Result<Number, ReadError> {
    let mut value: u128 = 0;
    for (i, &byte) in bytes.iter().enumerate() {
        if i >= max_len.min(10) {
            return Err(ReadError::TooLong);
        }
        value |= u128::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Ok(Number { value, len: i + 1 });
        }
    }
    if bytes.len() >= max_len.min(10) {
        Err(ReadError::TooLong)
    } else {
        Err(ReadError::Truncated)
    }
}

/// Appends the minimal encoding of `value`.
pub(crate) fn write(mut value: usize, out: &mut Vec<u8>) {
    loop {
        let [low, ..] = value.to_le_bytes();
        let low = low & 0x7f;
        value >>= 7;
        if value == 0 {
            out.push(low);
            return;
        }
        out.push(low | 0x80);
    }
}

/// Length of the minimal encoding of `value`.
pub(crate) fn encoded_len(value: usize) -> usize {
    let mut len = 1;
    let mut rest = value >> 7;
    while rest != 0 {
        len += 1;
        rest >>= 7;
    }
    len
}

fn encoded_len_u128(value: u128) -> usize {
    let mut len = 1;
    let mut rest = value >> 7;
    while rest != 0 {
        len += 1;
        rest >>= 7;
    }
    len
}
