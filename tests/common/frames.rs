//! Generators of valid frames per codec, with what the codec layer must make of them: shared by
//! `tests/codecs.rs` (plans) and `tests/compat.rs` (the container round trip).

use core::ops::Range;

use proptest::prelude::*;
use secure_frame::codec::ClearRanges;

/// MSB-first bit writer for RBSPs.
#[derive(Default)]
pub struct BitWriter {
    pub bytes: Vec<u8>,
    pub bits: usize,
}

impl BitWriter {
    pub fn bit(&mut self, b: bool) {
        if self.bits.is_multiple_of(8) {
            self.bytes.push(0);
        }
        if b {
            *self.bytes.last_mut().unwrap() |= 0x80 >> (self.bits % 8);
        }
        self.bits += 1;
    }

    pub fn ue(&mut self, v: u32) {
        let v = u64::from(v) + 1;
        let n = v.ilog2();
        for _ in 0..n {
            self.bit(false);
        }
        for i in (0..=n).rev() {
            self.bit((v >> i) & 1 == 1);
        }
    }
}

/// Inserts emulation prevention bytes; returns the escaped bytes and, per input byte, its index
/// in the output.
pub fn escape(rbsp: &[u8]) -> (Vec<u8>, Vec<usize>) {
    let mut out = Vec::new();
    let mut map = Vec::new();
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        map.push(out.len());
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    (out, map)
}

/// A generated NAL unit with what the rules must make of it.
#[derive(Clone, Debug)]
pub struct GenNal {
    pub bytes: Vec<u8>,
    /// Clear bytes of the unit under the test's policy.
    pub clear: usize,
    pub key: bool,
    pub start_code_4: bool,
    pub trailing_zeros: usize,
    /// An access unit delimiter: dropped by normalization unless the policy keeps it.
    pub aud: bool,
}

/// Slice header fields, extra bits and payload.
#[derive(Clone, Debug)]
pub struct SliceBits {
    pub first_mb: u32,
    pub slice_type: u32,
    pub pps_id: u32,
    pub extra_bits: Vec<bool>,
    pub payload: Vec<u8>,
    pub last: u8,
}

pub fn slice_bits(max_pps: u32) -> impl Strategy<Value = SliceBits> {
    (
        prop_oneof![0u32..4, 0u32..100_000, Just(u32::MAX - 1)],
        0u32..=9,
        prop_oneof![0..=max_pps, Just(max_pps)],
        prop::collection::vec(any::<bool>(), 0..12),
        prop::collection::vec(prop_oneof![Just(0u8), any::<u8>()], 0..24),
        1u8..=255,
    )
        .prop_map(
            |(first_mb, slice_type, pps_id, extra_bits, payload, last)| SliceBits {
                first_mb,
                slice_type,
                pps_id,
                extra_bits,
                payload,
                last,
            },
        )
}

/// Writes `fields` then the slice bits; returns the escaped body and the escaped length of the
/// cover (the raw index of the byte holding the last header field bit, plus 1).
pub fn slice_body(fields: impl FnOnce(&mut BitWriter), s: &SliceBits) -> (Vec<u8>, usize) {
    let mut w = BitWriter::default();
    fields(&mut w);
    let last_bit = w.bits - 1;
    for &b in &s.extra_bits {
        w.bit(b);
    }
    let mut rbsp = w.bytes;
    rbsp.extend_from_slice(&s.payload);
    rbsp.push(s.last);
    let (raw, map) = escape(&rbsp);
    let cover = map[last_bit / 8] + 1;
    (raw, cover)
}

/// Payload bytes for non-slice units: escaped, ending in a non-zero byte.
pub fn plain_body(payload: &[u8], last: u8) -> Vec<u8> {
    let mut rbsp = payload.to_vec();
    rbsp.push(last);
    escape(&rbsp).0
}

pub fn h264_nal(sei_clear: bool) -> impl Strategy<Value = GenNal> {
    (
        0u8..=23,
        0u8..=3,
        slice_bits(255),
        prop::array::uniform3(1u8..=255),
        any::<bool>(),
        0usize..=2,
    )
        .prop_map(move |(ty, nri, s, ext, start_code_4, trailing_zeros)| {
            let nri = if ty == 0 && nri == 0 { 1 } else { nri };
            let header = (nri << 5) | ty;
            let mut bytes = vec![header];
            let clear = match ty {
                1 | 5 => {
                    let (body, cover) = slice_body(
                        |w| {
                            w.ue(s.first_mb);
                            w.ue(s.slice_type);
                            w.ue(s.pps_id);
                        },
                        &s,
                    );
                    bytes.extend(body);
                    1 + cover
                }
                20 | 21 => {
                    bytes.extend(ext);
                    bytes.extend(plain_body(&s.payload, s.last));
                    4
                }
                _ => {
                    bytes.extend(plain_body(&s.payload, s.last));
                    match ty {
                        6 if sei_clear => bytes.len(),
                        7..=16 => bytes.len(),
                        _ => 1,
                    }
                }
            };
            GenNal {
                bytes,
                clear,
                key: ty == 5,
                start_code_4,
                trailing_zeros,
                aud: ty == 9,
            }
        })
}

pub fn h265_nal(header_only: bool, sei_clear: bool) -> impl Strategy<Value = GenNal> {
    (
        0u8..=47,
        0u8..=63,
        1u8..=7,
        any::<bool>(),
        any::<bool>(),
        slice_bits(63),
        any::<bool>(),
        0usize..=2,
    )
        .prop_map(
            move |(ty, layer, tid, flag, no_output, s, start_code_4, trailing_zeros)| {
                let mut bytes = vec![(ty << 1) | (layer >> 5), ((layer & 31) << 3) | tid];
                let irap = (16..=23).contains(&ty);
                let clear = match ty {
                    0..=9 | 16..=21 => {
                        let (body, cover) = slice_body(
                            |w| {
                                w.bit(flag);
                                if irap {
                                    w.bit(no_output);
                                }
                                w.ue(s.pps_id);
                            },
                            &s,
                        );
                        bytes.extend(body);
                        if header_only { 2 } else { 2 + cover }
                    }
                    _ => {
                        bytes.extend(plain_body(&s.payload, s.last));
                        match ty {
                            32..=38 => bytes.len(),
                            39 | 40 if sei_clear => bytes.len(),
                            _ => 2,
                        }
                    }
                };
                GenNal {
                    bytes,
                    clear,
                    key: irap,
                    start_code_4,
                    trailing_zeros,
                    aud: ty == 35,
                }
            },
        )
}

/// An Annex B frame of the generated units with the expected normalized frame and ranges.
/// Access unit delimiters are dropped (the default policy); the normalized frame is empty when
/// nothing else is left.
pub fn assemble(leading_zeros: usize, nals: &[GenNal]) -> (Vec<u8>, Vec<u8>, ClearRanges, bool) {
    assemble_with(leading_zeros, nals, false)
}

/// [`assemble`], keeping access unit delimiters when `keep_aud`.
pub fn assemble_with(
    leading_zeros: usize,
    nals: &[GenNal],
    keep_aud: bool,
) -> (Vec<u8>, Vec<u8>, ClearRanges, bool) {
    let mut input = vec![0; leading_zeros];
    let mut norm = Vec::new();
    let mut clear = ClearRanges::new();
    for nal in nals {
        if nal.start_code_4 {
            input.push(0);
        }
        input.extend([0, 0, 1]);
        input.extend(&nal.bytes);
        input.extend(core::iter::repeat_n(0, nal.trailing_zeros));
        if nal.aud && !keep_aud {
            continue;
        }
        let at = norm.len();
        norm.extend([0, 0, 0, 1]);
        norm.extend(&nal.bytes);
        // Touching ranges merge inside push.
        clear.push(at..at + 4 + nal.clear).unwrap();
    }
    let key = nals.iter().any(|n| n.key);
    (input, norm, clear, key)
}

/// A generated OBU.
#[derive(Clone, Debug)]
pub struct GenObu {
    pub ty: u8,
    pub extension: Option<u8>,
    pub reserved: bool,
    /// `None`: no size field (only honoured for the last OBU); `Some(n)`: size in `n` bytes, at
    /// least the minimum.
    pub size_len: Option<usize>,
    pub payload: Vec<u8>,
}

pub fn obu() -> impl Strategy<Value = GenObu> {
    (
        0u8..=15,
        prop::option::of(any::<u8>()),
        any::<bool>(),
        prop::option::weighted(0.8, 1usize..=8),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(ty, extension, reserved, size_len, payload)| GenObu {
            ty,
            extension,
            reserved,
            size_len,
            payload,
        })
}

pub fn leb128_min_len(v: usize) -> usize {
    let mut n = 1;
    let mut v = v >> 7;
    while v > 0 {
        n += 1;
        v >>= 7;
    }
    n
}

pub fn leb128_padded(v: usize, len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| {
            let low = u8::try_from((v >> (7 * i)) & 0x7f).unwrap();
            if i + 1 < len { low | 0x80 } else { low }
        })
        .collect()
}

pub fn obu_header(o: &GenObu, has_size: bool) -> u8 {
    (o.ty << 3)
        | if o.extension.is_some() { 4 } else { 0 }
        | if has_size { 2 } else { 0 }
        | u8::from(o.reserved)
}

/// What planning a generated temporal unit must give: normalized frame, ranges, key frame hint.
pub type Av1Expected = (Vec<u8>, ClearRanges, bool);

/// The input temporal unit and the expected result, or `None` when no OBU is kept.
pub fn assemble_av1(obus: &[GenObu]) -> (Vec<u8>, Option<Av1Expected>) {
    let mut input = Vec::new();
    let mut norm = Vec::new();
    let mut clear = ClearRanges::new();
    let mut key = None;
    for (i, o) in obus.iter().enumerate() {
        let last = i + 1 == obus.len();
        let size_len = match o.size_len {
            None if last => None,
            None => Some(leb128_min_len(o.payload.len())),
            Some(n) => Some(n.max(leb128_min_len(o.payload.len()))),
        };
        input.push(obu_header(o, size_len.is_some()));
        input.extend(o.extension);
        if let Some(n) = size_len {
            input.extend(leb128_padded(o.payload.len(), n));
        }
        input.extend(&o.payload);
        if matches!(o.ty, 2 | 8 | 15) {
            continue;
        }
        key.get_or_insert(o.ty == 1);
        let at = norm.len();
        norm.push(obu_header(o, true));
        norm.extend(o.extension);
        norm.extend(leb128_padded(
            o.payload.len(),
            leb128_min_len(o.payload.len()),
        ));
        clear.push(at..norm.len()).unwrap();
        norm.extend(&o.payload);
    }
    let expected = key.map(|k| (norm, clear, k));
    (input, expected)
}

/// Parses a normalized AV1 frame test-side: every OBU sized minimally, no dropped types; returns
/// per OBU (header range, payload range).
pub fn parse_normalized_av1(frame: &[u8]) -> Vec<(Range<usize>, Range<usize>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < frame.len() {
        let header = frame[i];
        assert_eq!(header & 0x80, 0, "forbidden bit");
        assert_ne!(header & 2, 0, "has_size_field");
        let ty = (header >> 3) & 15;
        assert!(!matches!(ty, 2 | 8 | 15), "type {ty} kept");
        let mut j = i + 1 + usize::from(header & 4 != 0);
        let mut size = 0usize;
        let mut n = 0;
        loop {
            let b = frame[j + n];
            size |= usize::from(b & 0x7f) << (7 * n);
            n += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        assert_eq!(n, leb128_min_len(size), "non-minimal size");
        j += n;
        assert!(j + size <= frame.len(), "size past the end");
        out.push((i..j, j..j + size));
        i = j + size;
    }
    out
}

pub fn vp8_frame() -> impl Strategy<Value = (Vec<u8>, bool)> {
    (
        any::<bool>(),
        any::<[u8; 3]>(),
        any::<[u8; 4]>(),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(key, tag, dims, rest)| {
            let mut f = Vec::new();
            if key {
                f.push(tag[0] & 0xfe);
                f.extend(&tag[1..]);
                f.extend([0x9d, 0x01, 0x2a]);
                f.extend(dims);
            } else {
                f.push(tag[0] | 1);
            }
            f.extend(rest);
            (f, key)
        })
}
