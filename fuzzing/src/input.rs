//! The byte format shared by every structured fuzz input.

/// Reads a fuzz input front to back. Past the end every read yields zeros (and `bytes` fewer
/// bytes), so every byte string decodes to some case and libFuzzer never wastes a mutation on
/// a rejected input.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    rest: &'a [u8],
}

impl<'a> Input<'a> {
    /// A reader over `data`.
    #[must_use]
    pub fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    /// Up to `n` bytes; fewer at the end of the input.
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.rest.split_at(n.min(self.rest.len()));
        self.rest = rest;
        head
    }

    /// Everything not read yet.
    pub fn rest(&mut self) -> &'a [u8] {
        self.bytes(self.rest.len())
    }

    /// Whether every byte has been read.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0; N];
        for (o, b) in out.iter_mut().zip(self.bytes(N)) {
            *o = *b;
        }
        out
    }

    /// One byte.
    pub fn u8(&mut self) -> u8 {
        u8::from_be_bytes(self.array())
    }

    /// Two bytes, big-endian.
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes(self.array())
    }

    /// Four bytes, big-endian.
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.array())
    }

    /// Eight bytes, big-endian.
    pub fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.array())
    }
}

/// Writes what [`Input`] reads: the seed generator's half of each `*Case` format.
#[derive(Clone, Debug, Default)]
pub struct Output {
    bytes: Vec<u8>,
}

impl Output {
    /// An empty input.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends raw bytes.
    pub fn bytes(&mut self, bytes: &[u8]) -> &mut Self {
        self.bytes.extend_from_slice(bytes);
        self
    }

    /// Appends one byte.
    pub fn u8(&mut self, v: u8) -> &mut Self {
        self.bytes(&[v])
    }

    /// Appends two bytes, big-endian.
    pub fn u16(&mut self, v: u16) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends four bytes, big-endian.
    pub fn u32(&mut self, v: u32) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    /// Appends eight bytes, big-endian.
    pub fn u64(&mut self, v: u64) -> &mut Self {
        self.bytes(&v.to_be_bytes())
    }

    /// The input written so far.
    #[must_use]
    pub fn finish(&self) -> Vec<u8> {
        self.bytes.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_zeros_past_the_end() {
        let mut input = Input::new(&[1, 2, 3]);
        assert_eq!(input.u16(), 0x0102);
        assert_eq!(input.u32(), 0x0300_0000);
        assert_eq!(input.u64(), 0);
        assert!(input.bytes(5).is_empty());
        assert!(input.is_empty());
    }

    #[test]
    fn output_is_what_input_reads() {
        let bytes = Output::new()
            .u8(7)
            .u16(0x1234)
            .u32(5)
            .u64(u64::MAX)
            .bytes(b"xy")
            .finish();
        let mut input = Input::new(&bytes);
        assert_eq!(
            (input.u8(), input.u16(), input.u32(), input.u64()),
            (7, 0x1234, 5, u64::MAX)
        );
        assert_eq!(input.rest(), b"xy");
    }
}
