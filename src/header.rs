//! SFrame header (RFC 9605 §4.3).
//!
//! ```text
//!  0 1 2 3 4 5 6 7
//! +-+-+-+-+-+-+-+-+---------------------------------+---------------------------------+
//! |X|  K  |Y|  C  |   KID (K+1 bytes, if X=1)       |   CTR (C+1 bytes, if Y=1)       |
//! +-+-+-+-+-+-+-+-+---------------------------------+---------------------------------+
//! ```
//!
//! A value below 8 sits in the config byte with its flag clear; any other value follows the
//! config byte big-endian in the minimum number of bytes, KID first. The decoder here is
//! canonical: it rejects the non-minimal forms a conforming encoder never produces, so every
//! (KID, CTR) has exactly one encoding.

use core::fmt;

/// The key identifier of an SFrame header (RFC 9605 §4.3): selects the key a frame was
/// encrypted with.
#[doc(alias = "KID")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyId(pub u64);

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:x}", self.0)
    }
}

impl From<u64> for KeyId {
    fn from(value: u64) -> Self {
        Self(value)
    }
}

/// The counter of an SFrame header (RFC 9605 §4.3): with the key's salt it forms the nonce.
///
/// This is a value read from or written to a header. Counters for encryption are allocated only
/// inside an [`Encryptor`](crate::Encryptor), which never hands out the same one twice.
#[doc(alias = "CTR")]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Counter(pub u64);

impl fmt::Display for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl From<u64> for Counter {
    fn from(value: u64) -> Self {
        Self(value)
    }
}

/// The longest SFrame header: the config byte, an 8-byte KID and an 8-byte CTR.
pub const MAX_HEADER_LEN: usize = 17;

/// An SFrame header: the KID and CTR of one frame (RFC 9605 §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Header {
    kid: KeyId,
    ctr: Counter,
}

impl Header {
    /// The longest encoding, in bytes.
    pub const MAX_LEN: usize = MAX_HEADER_LEN;

    /// A header for `kid` and `ctr`.
    #[must_use]
    pub const fn new(kid: KeyId, ctr: Counter) -> Self {
        Self { kid, ctr }
    }

    /// The key identifier.
    #[must_use]
    pub const fn key_id(&self) -> KeyId {
        self.kid
    }

    /// The counter.
    #[must_use]
    pub const fn counter(&self) -> Counter {
        self.ctr
    }

    /// The length of this header's encoding: 1 to 17 bytes.
    #[must_use]
    pub const fn encoded_len(&self) -> usize {
        1 + extended_len(self.kid.0) + extended_len(self.ctr.0)
    }

    /// Encodes the header canonically into a stack buffer.
    #[must_use]
    pub fn encode(&self) -> EncodedHeader {
        let mut bytes = [0; MAX_HEADER_LEN];
        let len = self.write_right_aligned(&mut bytes);
        EncodedHeader {
            bytes,
            len: u8::try_from(len).unwrap_or(0),
        }
    }

    /// Writes the canonical encoding so that it ends at the end of `out` and returns its length;
    /// the bytes before it are scratch. Fixed-size stores only: no `memcpy` per frame.
    pub(crate) fn write_right_aligned(&self, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        MAX_HEADER_LEN - KidField::new(self.kid).write_right_aligned(self.ctr.0, out)
    }

    /// Decodes a header from the start of `bytes`, returning it and the number of bytes it
    /// occupies. Bytes after the header are not looked at.
    ///
    /// # Errors
    ///
    /// [`HeaderError::Truncated`] when `bytes` ends inside the header;
    /// [`HeaderError::NonMinimalKeyId`] or [`HeaderError::NonMinimalCounter`] when a value is
    /// not in its minimal encoding.
    pub fn decode(bytes: &[u8]) -> Result<(Self, usize), HeaderError> {
        let (&config, rest) = bytes.split_first().ok_or(HeaderError::Truncated)?;
        let (kid, rest) =
            read_field(config >> 4, rest).map_err(|e| e.unwrap_or(HeaderError::NonMinimalKeyId))?;
        let (ctr, rest) = read_field(config & 0x0f, rest)
            .map_err(|e| e.unwrap_or(HeaderError::NonMinimalCounter))?;
        let len = bytes.len() - rest.len();
        Ok((Self::new(KeyId(kid), Counter(ctr)), len))
    }
}

/// Bytes after the config byte that `value` needs: 0 for 0..=7, else 1..=8.
/// The KID half of every header one sender writes, encoded once when its key is installed:
/// per frame only the CTR is encoded (issue #15).
#[derive(Clone, Copy, Debug)]
pub(crate) struct KidField {
    /// The KID, big-endian.
    word: [u8; 8],
    /// Its config bits, in the high nibble of the config byte.
    config: u8,
    /// Its bytes after the config byte: 0 when it sits in the config byte.
    len: usize,
}

impl KidField {
    pub(crate) fn new(kid: KeyId) -> Self {
        let (bits, len) = config_bits(kid.0);
        Self {
            word: kid.0.to_be_bytes(),
            config: bits << 4,
            len,
        }
    }

    /// Writes the header of (this KID, `ctr`) so that it ends at the end of `out`, and returns
    /// where it starts.
    pub(crate) fn write_right_aligned(&self, ctr: u64, out: &mut [u8; MAX_HEADER_LEN]) -> usize {
        let (ctr_bits, ctr_len) = config_bits(ctr);
        // The CTR's 8 big-endian bytes end the header; its leading zero bytes are either
        // overwritten below or left outside the header.
        let (_, ctr_word) = out.split_at_mut(MAX_HEADER_LEN - 8);
        ctr_word.copy_from_slice(&ctr.to_be_bytes());
        // The KID's 8 bytes end where the CTR begins.
        let kid_end = MAX_HEADER_LEN - ctr_len;
        if let Some(kid_word) = out.get_mut(kid_end - 8..kid_end) {
            kid_word.copy_from_slice(&self.word);
        }
        let start = kid_end - self.len - 1;
        if let Some(config) = out.get_mut(start) {
            *config = self.config | ctr_bits;
        }
        start
    }
}

/// The header of (one KID, every counter of one encoded length), encoded once when the
/// counter reaches that length: per frame the counter is added into its last 8 bytes, and the
/// range check decides whether the template applies (issue #15). The encoder of last resort is
/// [`Header::write_right_aligned`]; a template only ever repeats what it wrote.
#[derive(Clone, Copy, Debug)]
pub(crate) struct HeaderTemplate {
    /// The first counter the template encodes.
    first: u64,
    /// How many counters from `first` it encodes (all of the same encoded length); 0: none.
    span: u64,
    /// Bytes 0..9 of the header of `first`, right-aligned in `MAX_HEADER_LEN` bytes (the bytes
    /// before `start` are scratch).
    head: [u8; 9],
    /// Bytes 9..17 of that encoding, big-endian: the counter `first` is in its low bytes, the
    /// KID and the config byte (or scratch) above them.
    tail: u64,
    /// Where the header starts in the 17 bytes.
    start: usize,
}

impl HeaderTemplate {
    /// Matches no counter: the first frame builds the template.
    pub(crate) const EMPTY: Self = Self {
        first: 0,
        span: 0,
        head: [0; 9],
        tail: 0,
        start: MAX_HEADER_LEN,
    };

    /// The template of `kid` for the counters whose encoding has the length of `ctr`'s (for a
    /// counter below 8, which sits in the config byte, `ctr` alone). No template covers
    /// `u64::MAX`, the last counter: the encryptor's exhaustion test rides on the template's.
    pub(crate) fn new(kid: KeyId, ctr: u64) -> Self {
        let (first, span) = match extended_len(ctr) {
            0 => (ctr, 1),
            len => {
                // The values of `len` significant bytes: 8 (or 2^(8(len-1))) to 2^(8 len) - 1,
                // except `u64::MAX`.
                let last = (u64::MAX >> (64 - 8 * len)).min(u64::MAX - 1);
                let first = if len == 1 { 8 } else { 1 << (8 * (len - 1)) };
                (first, last - first + 1)
            }
        };
        let mut bytes = [0; MAX_HEADER_LEN];
        let len = Header::new(kid, Counter(first)).write_right_aligned(&mut bytes);
        let (head, tail) = bytes.split_first_chunk::<9>().unwrap_or((&[0; 9], &[]));
        let tail = tail.try_into().map_or(0, u64::from_be_bytes);
        Self {
            first,
            span,
            head: *head,
            tail,
            start: MAX_HEADER_LEN - len,
        }
    }

    /// Whether `ctr` is one of the template's counters.
    #[inline]
    pub(crate) fn covers(&self, ctr: u64) -> bool {
        ctr.wrapping_sub(self.first) < self.span
    }

    /// Writes the header of (this KID, `ctr`) so that it ends at the end of `out` and returns
    /// where it starts, if `ctr` is one of the template's counters; else writes nothing.
    #[inline]
    pub(crate) fn write(&self, ctr: u64, out: &mut [u8; MAX_HEADER_LEN]) -> Option<usize> {
        if !self.covers(ctr) {
            return None;
        }
        let offset = ctr - self.first;
        let (head, tail) = out.split_first_chunk_mut::<9>()?;
        *head = self.head;
        // `ctr` has the length of `first`: adding the offset carries into no KID byte.
        tail.copy_from_slice(&(self.tail + offset).to_be_bytes());
        Some(self.start)
    }
}

const fn extended_len(value: u64) -> usize {
    if value < 8 {
        0
    } else {
        // 1..=8 significant bytes; leading_zeros() is at most 60 here.
        let significant_bits = 64 - value.leading_zeros();
        let bytes = significant_bits.div_ceil(8);
        // `bytes` is 1..=8, so the conversion is lossless on every target.
        #[expect(clippy::as_conversions, reason = "1..=8 fits every usize; const fn")]
        {
            bytes as usize
        }
    }
}

/// The 4 config bits for `value` (flag and K or C) and the extended length.
fn config_bits(value: u64) -> (u8, usize) {
    let len = extended_len(value);
    // Both operands are masked to 3 bits, so the conversions cannot fail.
    let bits = if len == 0 {
        u8::try_from(value & 0x07).unwrap_or(0)
    } else {
        0x08 | u8::try_from((len - 1) & 0x07).unwrap_or(0)
    };
    (bits, len)
}

/// Reads one field given its 4 config bits. `Err(None)` means non-minimal, `Err(Some(_))`
/// truncation.
fn read_field(bits: u8, rest: &[u8]) -> Result<(u64, &[u8]), Option<HeaderError>> {
    if bits & 0x08 == 0 {
        return Ok((u64::from(bits & 0x07), rest));
    }
    let len = usize::from(bits & 0x07) + 1;
    let (field, rest) = rest
        .split_at_checked(len)
        .ok_or(Some(HeaderError::Truncated))?;
    let value = field.iter().fold(0, |acc, &b| (acc << 8) | u64::from(b));
    // Minimal means: no leading zero byte, and not a value that fits the config byte.
    if field.first() == Some(&0) || value < 8 {
        return Err(None);
    }
    Ok((value, rest))
}

/// A header encoded on the stack: 1 to 17 bytes, readable as a slice.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct EncodedHeader {
    bytes: [u8; MAX_HEADER_LEN],
    len: u8,
}

impl EncodedHeader {
    /// The encoded bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8] {
        // Stored right-aligned: the header is the last `len` bytes.
        let start = MAX_HEADER_LEN.saturating_sub(usize::from(self.len));
        self.bytes.get(start..).unwrap_or(&self.bytes)
    }
}

impl core::ops::Deref for EncodedHeader {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl AsRef<[u8]> for EncodedHeader {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl fmt::Debug for EncodedHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("EncodedHeader(")?;
        for b in self.as_bytes() {
            write!(f, "{b:02x}")?;
        }
        f.write_str(")")
    }
}

/// A received SFrame ciphertext whose header has been parsed, before any key is looked up
/// (the first phase of receiving; an SFU can stop here).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameView<'a> {
    header: Header,
    header_bytes: &'a [u8],
    body: &'a [u8],
}

impl<'a> FrameView<'a> {
    /// Parses the header at the start of `frame`.
    ///
    /// # Errors
    ///
    /// As [`Header::decode`].
    pub fn parse(frame: &'a [u8]) -> Result<Self, HeaderError> {
        let (header, len) = Header::decode(frame)?;
        let (header_bytes, body) = frame.split_at_checked(len).ok_or(HeaderError::Truncated)?;
        Ok(Self {
            header,
            header_bytes,
            body,
        })
    }

    /// The parsed header.
    #[must_use]
    pub const fn header(&self) -> Header {
        self.header
    }

    /// The key identifier.
    #[must_use]
    pub const fn key_id(&self) -> KeyId {
        self.header.kid
    }

    /// The counter.
    #[must_use]
    pub const fn counter(&self) -> Counter {
        self.header.ctr
    }

    /// The header exactly as received (it is authenticated as received, never re-encoded).
    #[must_use]
    pub const fn header_bytes(&self) -> &'a [u8] {
        self.header_bytes
    }

    /// Everything after the header: the ciphertext followed by the tag.
    #[must_use]
    pub const fn body(&self) -> &'a [u8] {
        self.body
    }
}

/// A malformed SFrame header (RFC 9605 §4.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// The input ends before the config byte or before the KID or CTR bytes it announces.
    #[error("SFrame header truncated")]
    Truncated,
    /// The KID is not encoded in the minimum number of bytes (an extended field holding a value
    /// below 8, or a leading zero byte). RFC 9605 §4.3 requires the minimal form.
    #[error("SFrame header KID is not minimally encoded")]
    NonMinimalKeyId,
    /// The CTR is not encoded in the minimum number of bytes.
    #[error("SFrame header CTR is not minimally encoded")]
    NonMinimalCounter,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(kid: u64, ctr: u64) -> std::vec::Vec<u8> {
        Header::new(KeyId(kid), Counter(ctr)).encode().to_vec()
    }

    #[test]
    fn boundary_encodings() {
        assert_eq!(enc(7, 7), [0x77]);
        assert_eq!(enc(8, 0), [0x80, 0x08]);
        assert_eq!(enc(0, 8), [0x08, 0x08]);
        assert_eq!(enc(7, 8), [0x78, 0x08]);
        assert_eq!(enc(8, 8), [0x88, 0x08, 0x08]);
        let max = enc(u64::MAX, u64::MAX);
        assert_eq!(max.len(), 17);
        assert!(max.iter().all(|&b| b == 0xff));
    }

    #[test]
    fn templates_write_the_canonical_header() {
        let kids = [0, 7, 8, 0xff, 0x100, 0x1234_5678, u64::MAX >> 8, u64::MAX];
        let mut ctrs = std::vec![0, 1, 7, 8, 9, 0xff, 0x100, 0x101, 0xffff, 0x1_0000];
        for shift in (16..64).step_by(8) {
            let edge = 1u64 << shift;
            ctrs.extend([edge - 1, edge, edge + 1]);
        }
        ctrs.extend([u64::MAX - 1, u64::MAX]);
        for kid in kids {
            for &built_at in &ctrs {
                let template = HeaderTemplate::new(KeyId(kid), built_at);
                for &ctr in &ctrs {
                    // A template covers every counter of its length, or only its own below 8.
                    let covers = if extended_len(built_at) == 0 {
                        ctr == built_at
                    } else {
                        extended_len(ctr) == extended_len(built_at) && ctr != u64::MAX
                    };
                    assert_eq!(template.covers(ctr), covers);
                    let mut out = [0xa5; MAX_HEADER_LEN];
                    match template.write(ctr, &mut out) {
                        None => assert!(!covers, "{kid} {built_at} {ctr}"),
                        Some(start) => {
                            assert!(covers, "{kid} {built_at} {ctr}");
                            assert_eq!(&out[start..], &enc(kid, ctr)[..], "{kid} {ctr}");
                        }
                    }
                }
            }
        }
        let mut out = [0; MAX_HEADER_LEN];
        assert_eq!(HeaderTemplate::EMPTY.write(0, &mut out), None);
    }

    #[test]
    fn rejects_non_minimal() {
        // KID 5 in extended form.
        assert_eq!(
            Header::decode(&[0x80, 0x05]),
            Err(HeaderError::NonMinimalKeyId)
        );
        // CTR 0x0100 with a leading zero byte.
        assert_eq!(
            Header::decode(&[0x0a, 0x00, 0x01, 0x00]),
            Err(HeaderError::NonMinimalCounter)
        );
        assert_eq!(Header::decode(&[]), Err(HeaderError::Truncated));
        assert_eq!(Header::decode(&[0x90, 0x01]), Err(HeaderError::Truncated));
    }
}
