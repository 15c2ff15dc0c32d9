//! The compat container (not part of RFC 9605): research/codecs.md §7.6 checked against an
//! independent model of the v1 layout (built on the raw AEAD, so every wire byte is predicted),
//! every frame of the real clips through plan → encrypt → decrypt for two suites, the Annex B
//! retry loop, receiver hostility (exact errors; buffers and replay windows unchanged), and
//! property tests over generated frames of every codec.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::too_many_lines,
    clippy::single_range_in_vec_init,
    clippy::many_single_char_names,
    clippy::range_plus_one,
    reason = "test code: a panic is a failure, and expected clear ranges read best as ranges"
)]

mod common;

use core::ops::Range;

use common::frames::{
    GenNal, assemble, assemble_av1, h264_nal, h265_nal, obu, parse_normalized_av1, vp8_frame,
};
use common::media::{self, AnnexB};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use secure_frame::BaseKey;
use secure_frame::codec::{
    ClearRanges, Codec, CodecError, Framing, H265Cover, Plan, Policy, RangeMapError, SeiPolicy,
    Vp8Delta, plan,
};
use secure_frame::compat::{
    AV1_METADATA_TYPE, CompatDecryptError, CompatDecryptor, CompatEncryptError, CompatEncryptor,
    MAGIC, MAX_TRAILER_LEN, Opened, PassThrough, TrailerError, read_header,
};
use secure_frame::hazmat::{self, RawAead};
use secure_frame::{
    CipherSuite, Counter, Decryptor, Encryptor, Header, HeaderError, KeyId, ReceiveKey,
    ReplayWindow,
};

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

const BASE_KEY: &[u8] = b"compat container test key";
const GCM: CipherSuite = CipherSuite::AesGcm128Sha256;
const CTR80: CipherSuite = CipherSuite::AesCtr128HmacSha256_80;
const CTR32: CipherSuite = CipherSuite::AesCtr128HmacSha256_32;
const KID: u64 = 0x2b;

/// Hex with spaces allowed.
fn h(hex: &str) -> Vec<u8> {
    hex::decode(hex.replace([' ', '\n'], "")).unwrap()
}

fn leb128(mut v: u64) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let low = u8::try_from(v & 0x7f).unwrap();
        v >>= 7;
        if v == 0 {
            out.push(low);
            return out;
        }
        out.push(low | 0x80);
    }
}

fn leb128_len(v: u64) -> usize {
    leb128(v).len()
}

fn usize_u64(v: usize) -> u64 {
    u64::try_from(v).unwrap()
}

/// The range map, test-side: ULEB128 (gap from the previous end, length) per range.
fn encode_map(clear: &[Range<usize>]) -> Vec<u8> {
    let mut prev = 0;
    let mut out = Vec::new();
    for r in clear {
        out.extend(leb128(usize_u64(r.start - prev)));
        out.extend(leb128(usize_u64(r.len())));
        prev = r.end;
    }
    out
}

/// The complement of `clear` in `0..len`.
fn opaque(clear: &[Range<usize>], len: usize) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut pos = 0;
    for r in clear {
        if r.start > pos {
            out.push(pos..r.start);
        }
        pos = r.end;
    }
    if len > pos {
        out.push(pos..len);
    }
    out
}

fn is_forbidden(t: &[u8]) -> bool {
    t[0] == 0 && t[1] == 0 && t[2] <= 3
}

/// In the trailer, where the escaped header holds `00 00 03 0x`: `00 00 0x` (x ≤ 2), or a
/// `00 00 03` that no byte ≤ 3 follows within `window`.
fn is_forbidden_in_trailer(window: &[u8], p: usize) -> bool {
    match window[p..p + 3] {
        [0, 0, 0..=2] => true,
        [0, 0, 3] => window.get(p + 3).is_none_or(|&b| b > 3),
        _ => false,
    }
}

/// Positions `p` of `00 00 0x` (x ≤ 3) with `p..p + 3` inside an opaque run, or of what
/// [`is_forbidden_in_trailer`] finds in the trailer, each widened by 2 bytes on each side:
/// where the sender must not leave one.
fn hits(wire: &[u8], clear: &[Range<usize>], inner_len: usize) -> Vec<usize> {
    let mut out = Vec::new();
    let trailer = inner_len..wire.len();
    for w in opaque(clear, inner_len)
        .into_iter()
        .chain([trailer.clone()])
    {
        let start = w.start.saturating_sub(2);
        let end = (w.end + 2).min(wire.len());
        let window = &wire[start..end];
        for q in 0..window.len().saturating_sub(2) {
            let hit = if w == trailer {
                is_forbidden_in_trailer(window, q)
            } else {
                is_forbidden(&window[q..q + 3])
            };
            if hit && !out.contains(&(start + q)) {
                out.push(start + q);
            }
        }
    }
    out.sort_unstable();
    out
}

/// The header as the trailer carries it (the module docs of `compat`, written again here): a
/// `03` after every `00 00` that a byte ≤ 3 follows.
fn escape(header: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut zeros = 0;
    for &b in header {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        out.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
    }
    out
}

/// The inverse of [`escape`] at the start of `bytes`: the header and how many bytes it took.
fn unescape_header(bytes: &[u8]) -> (Header, usize) {
    for taken in 1..=bytes.len() {
        let mut raw = Vec::new();
        let mut zeros = 0;
        for &b in &bytes[..taken] {
            if zeros >= 2 && b == 3 {
                zeros = 0;
                continue;
            }
            raw.push(b);
            zeros = if b == 0 { zeros + 1 } else { 0 };
        }
        if let Ok((header, len)) = Header::decode(&raw)
            && len == raw.len()
            && escape(&header.encode()) == bytes[..taken]
        {
            return (header, taken);
        }
    }
    panic!("no escaped header in {bytes:02x?}")
}

/// What `plan` makes of a frame: the normalized frame, the clear ranges and the framing.
fn planned(codec: Codec, frame: &[u8], policy: &Policy) -> (Vec<u8>, Vec<Range<usize>>, Framing) {
    match plan(codec, frame, policy).unwrap() {
        Plan::Protect(p) => (p.frame().to_vec(), p.clear().iter().collect(), p.framing()),
        Plan::PassThrough => panic!("pass-through"),
    }
}

/// A trailer taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parts {
    inner: Vec<u8>,
    av1: bool,
    /// `escape(H)`.
    header: Vec<u8>,
    tag: Vec<u8>,
    map: Vec<u8>,
}

impl Parts {
    /// Joins the parts as v2 lays them out:
    /// `I ‖ [2A ‖ leb128(size) ‖ 1A] ‖ escape(H) ‖ T ‖ M ‖ L ‖ FA FA` (`header` is escaped).
    fn join(&self) -> Vec<u8> {
        let core = [self.header.clone(), self.tag.clone(), self.map.clone()].concat();
        let mut s = Vec::new();
        if self.av1 {
            let obu_size = 1 + core.len() + 4;
            s.push(0x2a);
            s.extend(leb128(usize_u64(obu_size)));
            s.push(26);
        }
        s.extend(core);
        let len = u16::try_from(s.len() + 4).unwrap();
        let l = if self.av1 { len | 0x8000 } else { len };
        [
            self.inner.clone(),
            s,
            l.to_be_bytes().to_vec(),
            vec![0xfa, 0xfa],
        ]
        .concat()
    }

    /// Takes a well-formed wire frame apart, given `|I|` and the tag length.
    fn split(wire: &[u8], inner_len: usize, tag_len: usize) -> Self {
        let n = wire.len();
        let l = u16::from_be_bytes([wire[n - 4], wire[n - 3]]);
        let av1 = l & 0x8000 != 0;
        assert_eq!(usize::from(l & 0x7fff), n - inner_len);
        let s = &wire[inner_len..n - 4];
        let core = if av1 {
            // OBU header 2A, the size (its last byte has bit 7 clear), metadata_type 26.
            assert_eq!(s[0], 0x2a);
            let mut i = 1;
            while s[i] & 0x80 != 0 {
                i += 1;
            }
            assert_eq!(s[i + 1], 26);
            &s[i + 2..]
        } else {
            s
        };
        let (_, hl) = unescape_header(core);
        Self {
            inner: wire[..inner_len].to_vec(),
            av1,
            header: core[..hl].to_vec(),
            tag: core[hl..hl + tag_len].to_vec(),
            map: core[hl + tag_len..].to_vec(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The model: an independent sender built on the raw AEAD (hazmat), not on src/compat.rs
// ---------------------------------------------------------------------------------------------

struct Model {
    kid: u64,
    tag_len: usize,
    aead: RawAead,
    salt: [u8; 12],
}

/// What the model's sender does with one frame.
#[derive(Debug, PartialEq, Eq)]
struct ModelRun {
    /// The counter and wire of the emitted frame, or `None` after too many attempts.
    emitted: Option<(u64, Vec<u8>)>,
    attempts: u8,
    /// The next counter afterwards.
    next: u64,
}

impl Model {
    fn new(suite: CipherSuite, kid: u64, base_key: &[u8]) -> Self {
        let (_, key, salt) =
            hazmat::derive_key_salt(suite, KeyId(kid), &BaseKey::new(base_key).unwrap());
        Self {
            kid,
            tag_len: suite.tag_len(),
            aead: RawAead::new(suite, key.expose_secret()).unwrap(),
            salt: *salt.expose_secret(),
        }
    }

    fn header(&self, ctr: u64) -> Vec<u8> {
        Header::new(KeyId(self.kid), Counter(ctr)).encode().to_vec()
    }

    /// `A`, as research/codecs.md §5.4 writes it.
    fn aad(n: &[u8], clear: &[Range<usize>], metadata: &[u8]) -> Vec<u8> {
        let map = encode_map(clear);
        let mut a = b"sframe-compat-v2".to_vec();
        a.extend(u16::try_from(map.len()).unwrap().to_be_bytes());
        a.extend(&map);
        for r in clear {
            a.extend(&n[r.clone()]);
        }
        a.extend(metadata);
        a
    }

    /// One attempt under `ctr`.
    fn seal(
        &self,
        ctr: u64,
        av1: bool,
        n: &[u8],
        clear: &[Range<usize>],
        metadata: &[u8],
    ) -> Vec<u8> {
        let header = self.header(ctr);
        let aad = [header.clone(), Self::aad(n, clear, metadata)].concat();
        let runs = opaque(clear, n.len());
        let mut o: Vec<u8> = runs.iter().flat_map(|r| n[r.clone()].to_vec()).collect();
        let mut nonce = self.salt;
        for (i, b) in ctr.to_be_bytes().iter().enumerate() {
            nonce[4 + i] ^= b;
        }
        let mut tag = vec![0; self.tag_len];
        self.aead.seal(&nonce, &aad, &mut o, &mut tag).unwrap();
        let mut inner = n.to_vec();
        let mut c = o.as_slice();
        for r in runs {
            let (chunk, rest) = c.split_at(r.len());
            inner[r].copy_from_slice(chunk);
            c = rest;
        }
        Parts {
            inner,
            av1,
            header: escape(&header),
            tag,
            map: encode_map(clear),
        }
        .join()
    }

    /// The whole sender: for Annex B, retry under the next counter on a hit.
    fn run(
        &self,
        start: u64,
        max_attempts: u8,
        framing: Framing,
        n: &[u8],
        clear: &[Range<usize>],
        metadata: &[u8],
    ) -> ModelRun {
        let annexb = framing == Framing::AnnexB;
        let allowed = if annexb { max_attempts.max(1) } else { 1 };
        let mut ctr = start;
        let mut attempts = 0;
        while attempts < allowed {
            let wire = self.seal(ctr, framing == Framing::Av1Obu, n, clear, metadata);
            attempts += 1;
            ctr += 1;
            if !annexb || hits(&wire, clear, n.len()).is_empty() {
                return ModelRun {
                    emitted: Some((ctr - 1, wire)),
                    attempts,
                    next: ctr,
                };
            }
        }
        ModelRun {
            emitted: None,
            attempts,
            next: ctr,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sender/receiver pair and the checks every protected frame gets
// ---------------------------------------------------------------------------------------------

struct Pair {
    suite: CipherSuite,
    codec: Codec,
    policy: Policy,
    sender: CompatEncryptor,
    model: Model,
    keys: Decryptor,
    receiver: CompatDecryptor,
}

fn pair(suite: CipherSuite, kid: u64, codec: Codec, policy: &Policy) -> Pair {
    let encryptor = Encryptor::new(suite, KeyId(kid), &BaseKey::new(BASE_KEY).unwrap());
    let mut keys = Decryptor::new(suite);
    keys.add_key(KeyId(kid), &BaseKey::new(BASE_KEY).unwrap())
        .unwrap();
    Pair {
        suite,
        codec,
        policy: policy.clone(),
        sender: CompatEncryptor::new(encryptor, codec, policy.clone()),
        model: Model::new(suite, kid, BASE_KEY),
        keys,
        receiver: CompatDecryptor::for_codec(codec),
    }
}

impl Pair {
    /// Protects `frame`, checks the wire byte for byte against the model and against the layout
    /// rules, and returns it with `|I|`. Does not decrypt.
    fn seal(&mut self, frame: &[u8], metadata: &[u8]) -> (Vec<u8>, usize) {
        let (n, clear, framing) = planned(self.codec, frame, &self.policy);
        let start = self.sender.encryptor().next_counter().unwrap().0;
        let mut wire = vec![0xee; 3];
        let sealed = self.sender.encrypt(metadata, frame, &mut wire).unwrap();
        let header = sealed.header().unwrap();
        let run = self.model.run(
            start,
            self.policy.max_attempts,
            framing,
            &n,
            &clear,
            metadata,
        );
        assert_eq!(
            run.emitted,
            Some((header.counter().0, wire.clone())),
            "model"
        );
        assert_eq!(run.attempts, sealed.attempts());
        assert_eq!(
            self.sender.encryptor().next_counter(),
            Some(Counter(run.next))
        );
        assert_eq!(header.key_id(), KeyId(self.model.kid));
        assert_eq!(read_header(&wire), Ok(header));
        check_wire(self.codec, &n, &clear, &wire);
        self.check_in_place(start, frame, metadata, &wire);
        (wire, n.len())
    }

    /// `encrypt_in_place` from the same counter gives the same wire frame, in the frame's own
    /// buffer when normalization did not rewrite it (and it had the capacity).
    fn check_in_place(&self, start: u64, frame: &[u8], metadata: &[u8], wire: &[u8]) {
        let mut e = Encryptor::new(
            self.suite,
            KeyId(self.model.kid),
            &BaseKey::new(BASE_KEY).unwrap(),
        );
        e.advance_counter_to(Counter(start)).unwrap();
        let mut twin = CompatEncryptor::new(e, self.codec, self.policy.clone());
        let mut buf = Vec::with_capacity(frame.len() + MAX_TRAILER_LEN);
        buf.extend_from_slice(frame);
        let at = buf.as_ptr();
        let rewritten = match plan(self.codec, frame, &self.policy).unwrap() {
            Plan::Protect(p) => p.is_rewritten(),
            Plan::PassThrough => false,
        };
        twin.encrypt_in_place(metadata, &mut buf).unwrap();
        assert_eq!(buf, wire, "in place");
        assert_eq!(
            twin.encryptor().next_counter(),
            self.sender.encryptor().next_counter()
        );
        if !rewritten {
            assert_eq!(buf.as_ptr(), at, "sealed in the frame's own buffer");
        }
    }

    /// [`Pair::seal`], then decrypts and checks the normalized frame comes back.
    fn round_trip(&mut self, frame: &[u8], metadata: &[u8]) -> Vec<u8> {
        let (wire, inner_len) = self.seal(frame, metadata);
        let (n, _, _) = planned(self.codec, frame, &self.policy);
        let mut buf = wire.clone();
        let opened = self
            .receiver
            .decrypt_in_place(&mut self.keys, metadata, &mut buf)
            .unwrap();
        assert_eq!(opened.frame(), &n[..]);
        assert_eq!(opened.header(), read_header(&wire).ok());
        assert_eq!(buf.len(), wire.len());
        assert_eq!(&buf[..inner_len], &n[..], "restored in place, as a prefix");
        wire
    }
}

/// The layout rules of a wire frame made from the normalized frame `n`.
fn check_wire(codec: Codec, n: &[u8], clear: &[Range<usize>], wire: &[u8]) {
    assert!(wire.len() > n.len());
    for r in clear {
        assert_eq!(&wire[r.clone()], &n[r.clone()], "clear bytes in place");
    }
    assert_eq!(wire[wire.len() - 2..], MAGIC);
    let l = u16::from_be_bytes([wire[wire.len() - 4], wire[wire.len() - 3]]);
    assert_eq!(usize::from(l & 0x7fff), wire.len() - n.len());
    assert_eq!(l & 0x8000 != 0, codec == Codec::Av1);
    match codec.framing() {
        Framing::AnnexB => check_annexb_wire(codec, n, clear, wire),
        Framing::Av1Obu => check_av1_wire(n, wire),
        _ => {
            if codec == Codec::Vp8 && n[0] & 1 == 0 {
                // The depacketizer's view of a key frame: P bit, start code, dimensions.
                assert_eq!(wire[0] & 1, 0);
                assert_eq!(&wire[3..10], &n[3..10]);
            }
        }
    }
}

/// H.26x: the same NAL units with the same headers, the trailer extending the last one only, no
/// start code emulation, and the simulated libwebrtc split-and-rejoin is the identity.
fn check_annexb_wire(codec: Codec, n: &[u8], clear: &[Range<usize>], wire: &[u8]) {
    let kind = if codec == Codec::H264 {
        AnnexB::H264
    } else {
        AnnexB::H265
    };
    let units_n = media::nal_units(n);
    let units_w = media::nal_units(wire);
    assert_eq!(units_w.len(), units_n.len(), "same NAL units");
    let hl = kind.header_len();
    for (i, (w, u)) in units_w.iter().zip(&units_n).enumerate() {
        assert_eq!((w.start_code_at, w.start_code_len), (u.start_code_at, 4));
        assert_eq!(u.start_code_len, 4);
        assert_eq!(&w.bytes[..hl], &u.bytes[..hl], "same NAL header");
        let grown = if i + 1 == units_n.len() {
            wire.len() - n.len()
        } else {
            0
        };
        assert_eq!(w.bytes.len(), u.bytes.len() + grown);
    }
    let real: Vec<usize> = units_n
        .iter()
        .flat_map(|u| [u.start_code_at, u.start_code_at + 1])
        .collect();
    for p in 0..wire.len() - 2 {
        let t = &wire[p..p + 3];
        if t[0] == 0 && t[1] == 0 && t[2] <= 2 {
            assert!(real.contains(&p), "start code emulation at {p}");
        }
        if t == [0, 0, 3] {
            // Clear bytes as the encoder wrote them, or the trailer's escaped header.
            let escape = p >= n.len() && wire.get(p + 3).is_some_and(|&b| b <= 3);
            assert!(
                escape || clear.iter().any(|r| r.start <= p && p + 3 <= r.end),
                "00 00 03 made at {p}"
            );
        }
    }
    // libwebrtc: FindNaluIndices on the sender, 4-byte start codes from the depacketizer.
    let rejoined: Vec<u8> = units_w
        .iter()
        .flat_map(|u| [&[0, 0, 0, 1][..], u.bytes].concat())
        .collect();
    assert_eq!(rejoined, wire);
}

/// AV1: the same OBUs plus one final METADATA OBU of the private type, every size minimal, and
/// the simulated libwebrtc packetizer/depacketizer round trip is the identity.
fn check_av1_wire(n: &[u8], wire: &[u8]) {
    let obus_n = parse_normalized_av1(n);
    let obus_w = parse_normalized_av1(wire);
    assert_eq!(obus_w.len(), obus_n.len() + 1);
    for (w, u) in obus_w.iter().zip(&obus_n) {
        assert_eq!(w, u);
        assert_eq!(&wire[w.0.clone()], &n[u.0.clone()]);
    }
    let (hdr, payload) = obus_w.last().unwrap();
    assert_eq!(hdr.start, n.len());
    assert_eq!(wire[hdr.start], 0x2a, "METADATA, has_size_field");
    assert_eq!(wire[payload.start], AV1_METADATA_TYPE);
    assert_eq!(payload.end, wire.len());
    assert_eq!(libwebrtc_av1(wire), wire);
}

/// The libwebrtc AV1 path, simulated: the packetizer drops temporal delimiters, tile lists and
/// padding and strips `obu_size`; the depacketizer writes every OBU back with a minimal size.
fn libwebrtc_av1(frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < frame.len() {
        let header = frame[i];
        let ext = (header & 4 != 0).then(|| frame[i + 1]);
        i += 1 + usize::from(ext.is_some());
        let size = if header & 2 != 0 {
            let mut size = 0usize;
            let mut n = 0;
            loop {
                let b = frame[i + n];
                size |= usize::from(b & 0x7f) << (7 * n);
                n += 1;
                if b & 0x80 == 0 {
                    break;
                }
            }
            i += n;
            size
        } else {
            frame.len() - i
        };
        let payload = &frame[i..i + size];
        i += size;
        if !matches!((header >> 3) & 15, 2 | 8 | 15) {
            out.push(header | 2);
            out.extend(ext);
            out.extend(leb128(usize_u64(size)));
            out.extend(payload);
        }
    }
    out
}

#[test]
fn av1_pipeline_rewrites_what_plan_normalizes() {
    // research/codecs.md §7.6.7: a padded obu_size, a missing one, a temporal delimiter and
    // padding OBU are all rewritten on the way; authenticating the input as it was would fail.
    // What comes out of the pipeline is exactly plan's normalized frame, and the protected
    // frame goes through unchanged.
    for input in [
        "32 85 80 80 00 1122334455",
        "12 00 0a 0a 0000002ca44c4b6c7a40 30 1122334455",
        "32 03 aabbcc 7a 02 ffff",
    ] {
        let input = h(input);
        let through = libwebrtc_av1(&input);
        assert_ne!(through, input, "mangled");
        let (n, _, _) = planned(Codec::Av1, &input, &Policy::default());
        assert_eq!(through, n);
        let mut p = pair(GCM, KID, Codec::Av1, &Policy::default());
        let wire = p.round_trip(&input, b"");
        assert_eq!(libwebrtc_av1(&wire), wire);
    }
}

/// Decrypts through `keys`; on an error asserts that no replay window moved and that the frame
/// is byte-identical, except after a failed authentication, which may only have zeroed bytes
/// (the opaque ones: never plaintext).
fn open_checked(
    receiver: &mut CompatDecryptor,
    keys: &mut Decryptor,
    metadata: &[u8],
    frame: &mut [u8],
) -> Result<Vec<u8>, CompatDecryptError> {
    let before = frame.to_vec();
    let windows = |keys: &Decryptor| -> Vec<ReplayWindow> {
        keys.key_ids()
            .map(|k| *keys.get(k).unwrap().replay_window())
            .collect()
    };
    let windows_before = windows(keys);
    match receiver.decrypt_in_place(keys, metadata, frame) {
        Ok(opened) => Ok(opened.frame().to_vec()),
        Err(e) => {
            if e == CompatDecryptError::Authentication {
                assert!(
                    frame
                        .iter()
                        .zip(&before)
                        .all(|(&now, &was)| now == was || now == 0),
                    "a failed authentication only zeroes bytes ({e:?})"
                );
            } else {
                assert_eq!(
                    frame,
                    &before[..],
                    "frame changed by a failed decrypt ({e:?})"
                );
            }
            assert_eq!(windows(keys), windows_before, "replay window moved ({e:?})");
            Err(e)
        }
    }
}

/// The receiver's structural verdict, test-side: what must go wrong before authentication, or
/// `None` when the frame parses (and must then fail authentication unless it is authentic).
fn structural_error(
    frame: &[u8],
    tag_len_of: &dyn Fn(KeyId) -> Option<usize>,
    max_ranges: usize,
) -> Option<CompatDecryptError> {
    use CompatDecryptError as E;
    let n = frame.len();
    if n < 2 || frame[n - 2..] != [0xfa, 0xfa] {
        return Some(E::NotProtected);
    }
    if n < 4 {
        return Some(E::Trailer(TrailerError::Truncated));
    }
    let l = u16::from_be_bytes([frame[n - 4], frame[n - 3]]);
    let s_len = usize::from(l & 0x7fff);
    if s_len < 5 || s_len > n {
        return Some(E::Trailer(TrailerError::BadLength));
    }
    let inner_len = n - s_len;
    let mut core = &frame[inner_len..n - 4];
    if l & 0x8000 != 0 {
        let bad = Some(E::Trailer(TrailerError::BadWrapper));
        if core.first() != Some(&0x2a) {
            return bad;
        }
        let mut value = 0u64;
        let mut len = 0;
        loop {
            if len == 8 {
                return bad;
            }
            let Some(&b) = core.get(1 + len) else {
                return bad;
            };
            value |= u64::from(b & 0x7f) << (7 * len);
            len += 1;
            if b & 0x80 == 0 {
                break;
            }
        }
        if len != leb128_len(value) {
            return bad;
        }
        let payload = &core[1 + len..];
        if value != usize_u64(payload.len() + 4) || payload.first() != Some(&26) {
            return bad;
        }
        core = &payload[1..];
    }
    let (header, hl) = match model_unescape(core) {
        Ok(x) => x,
        Err(e) => return Some(e),
    };
    let Some(tag_len) = tag_len_of(header.key_id()) else {
        return Some(E::UnknownKeyId(header.key_id()));
    };
    let rest = &core[hl..];
    if rest.len() < tag_len {
        return Some(E::Trailer(TrailerError::TagTruncated));
    }
    ClearRanges::decode_map(&rest[tag_len..], inner_len, max_ranges)
        .err()
        .map(E::RangeMap)
}

/// The escaped header at the start of `core`, read as the module docs of `compat` say, byte by
/// byte: after `00 00`, a `03` is an escape, which only a byte `<= 03` may follow, and `00`,
/// `01`, `02` are refused (they would have been escaped); the header's length comes from its
/// first byte. The header and how many bytes of `core` it took, or the receiver's error.
fn model_unescape(core: &[u8]) -> Result<(Header, usize), CompatDecryptError> {
    use CompatDecryptError as E;
    let bad = E::Trailer(TrailerError::BadEscape);
    let field = |bits: u8| {
        if bits & 0x08 == 0 {
            0
        } else {
            usize::from(bits & 0x07) + 1
        }
    };
    let mut raw: Vec<u8> = Vec::new();
    let (mut taken, mut needed, mut zeros, mut after_escape) = (0, 1, 0, false);
    while raw.len() < needed {
        let Some(&b) = core.get(taken) else {
            return Err(E::Header(HeaderError::Truncated));
        };
        taken += 1;
        if after_escape {
            after_escape = false;
            if b > 3 {
                return Err(bad);
            }
        } else if zeros >= 2 {
            zeros = 0;
            if b == 3 {
                after_escape = true;
                continue;
            }
            if b < 3 {
                return Err(bad);
            }
        }
        raw.push(b);
        zeros = if b == 0 { zeros + 1 } else { 0 };
        if raw.len() == 1 {
            needed = 1 + field(b >> 4) + field(b & 0x0f);
        }
    }
    let (header, _) = Header::decode(&raw).map_err(E::Header)?;
    Ok((header, taken))
}

/// A fresh receiver for `suite` holding the key of [`KID`] (nothing accepted yet).
fn fresh_keys(suite: CipherSuite) -> Decryptor {
    let mut keys = Decryptor::new(suite);
    keys.add_key(KeyId(KID), &BaseKey::new(BASE_KEY).unwrap())
        .unwrap();
    keys
}

/// Opens `frame` with fresh keys and asserts the exact error the structural model predicts
/// (or authentication failure when it parses). An empty frame is refused: a receiver that
/// knows no codec accepts none (`None`).
fn assert_refused_as_predicted(
    suite: CipherSuite,
    frame: &[u8],
    what: &str,
) -> Option<CompatDecryptError> {
    let mut keys = fresh_keys(suite);
    let mut buf = frame.to_vec();
    let got = open_checked(&mut CompatDecryptor::new(), &mut keys, b"md", &mut buf);
    if frame.is_empty() {
        assert_eq!(got, Err(CompatDecryptError::EmptyFrame), "{what}");
        return None;
    }
    let tag_len = suite.tag_len();
    let tag_of = |kid: KeyId| (kid == KeyId(KID)).then_some(tag_len);
    let want = structural_error(frame, &tag_of, 1024).unwrap_or(CompatDecryptError::Authentication);
    assert_eq!(got, Err(want), "{what}");
    Some(want)
}

fn keep_aud() -> Policy {
    let mut p = Policy::default();
    p.keep_access_unit_delimiters = true;
    p
}

fn sei_clear() -> Policy {
    let mut p = Policy::default();
    p.sei = SeiPolicy::Clear;
    p
}

fn dave_parity() -> Policy {
    let mut p = sei_clear();
    p.h265_cover = H265Cover::HeaderOnly;
    p
}

// ---------------------------------------------------------------------------------------------
// The worked example of the module docs, through the model
// ---------------------------------------------------------------------------------------------

#[test]
fn worked_example_matches_the_model() {
    let base_key: Vec<u8> = (0..16).collect();
    let model = Model::new(GCM, 1, &base_key);
    let n = h("00000001 61 e0 fafafa");
    let a = Model::aad(&n, &[0..6], &[]);
    assert_eq!(
        hex::encode(&a),
        "73667261 6d652d63 6f6d7061 742d7632 0002 0006 00000001 61e0".replace(' ', "")
    );
    let wire = model.seal(0, false, &n, &[0..6], &[]);
    assert_eq!(
        hex::encode(&wire),
        "0000000161e0 2a2e5b 10 1bf8a4c50e066f6f2a142a943689c27d 0006 0017 fafa".replace(' ', "")
    );
    // And the implementation, with the same key.
    let encryptor = Encryptor::new(GCM, KeyId(1), &BaseKey::new(&base_key).unwrap());
    let mut sender = CompatEncryptor::new(encryptor, Codec::H264, Policy::default());
    assert_eq!(sender.encrypt_to_vec(&[], &n).unwrap(), wire);
}

// ---------------------------------------------------------------------------------------------
// §7.6.1 Round trip of every planable vector of §7.1–§7.5, byte for byte against the model
// ---------------------------------------------------------------------------------------------

const SPS_H2: &str = "6742c00d8c8d40d0fbc900f08846a0";
const H4: &str = "00000001 274d0033ab402802dd00da08846a00 00000001 28ee3c80 \
    00000001 06 051a47564adc5c4c433f94efc5113cd143a801ffccccff020004ca9080 00000001 25 b8 fafafa";
const G3: &str = "0000000140010c01ffff016000000300b0000003000003005d17024\
    000000001420101016000000300b0000003000003005da00280802d16205ee45914bff2e7f13fa2\
    000000014401c072f05324000000014e01051a47564adc5c4c433f94efc5113cd143a803ee0000ee02001fc8b88\
    0000000012801abab";
const G4: &str = "00000140010c01ffff016000000300b0000003000003005d17024\
    0000001420101016000000300b0000003000003005da00280802d16205ee45914bff2e7f13fa2\
    000000014401c072f05324000000014e01051a47564adc5c4c433f94efc5113cd143a803ee0000ee02001fc8b88\
    00000012801abab";
const P1: &str = "10 02 00 9d 01 2a 08 00 08 00 00 47 08 85 85 88 85 84 88 02 02 00 0c 0d 60 00 fe \
    ff ab 50 80";
const A1: &str = "12 00 0a 0a 0000002ca44c4b6c7a40 32 05 1122334455";

/// A test frame: name, codec, policy, input, normalized length, clear ranges.
type Vector = (
    &'static str,
    Codec,
    Policy,
    Vec<u8>,
    usize,
    Vec<Range<usize>>,
);

/// Every vector of research/codecs.md §7.1–§7.5 that plans.
fn vectors() -> Vec<Vector> {
    let d = Policy::default;
    let mut tag = Policy::default();
    tag.vp8_delta = Vp8Delta::FrameTag;
    let mut toc = Policy::default();
    toc.opus_keep_toc = true;
    vec![
        (
            "H1",
            Codec::H264,
            d(),
            h("00000001 61 e0 fafafa"),
            9,
            vec![0..6],
        ),
        (
            "H2",
            Codec::H264,
            d(),
            h(&format!(
                "00000001 {SPS_H2} 00000001 68ce3c80 00000001 65 b8 fafafa"
            )),
            36,
            vec![0..33],
        ),
        (
            "H3",
            Codec::H264,
            d(),
            h(&format!(
                "00000001 {SPS_H2} 00000001 68ce3c80 00000001 65 4760 fafafa"
            )),
            37,
            vec![0..34],
        ),
        ("H4", Codec::H264, d(), h(H4), 69, vec![0..31, 60..66]),
        (
            "H4 SEI clear",
            Codec::H264,
            sei_clear(),
            h(H4),
            69,
            vec![0..66],
        ),
        (
            "H4b",
            Codec::H264,
            d(),
            h("00000001 61 e0 fa 0000"),
            7,
            vec![0..6],
        ),
        (
            "H4c",
            Codec::H264,
            d(),
            h("00000001 61 e0 fa 00 00000001 61 e0 fa"),
            14,
            vec![0..6, 7..13],
        ),
        (
            "H5",
            Codec::H264,
            d(),
            h("00000001 61 000003 8000 e0 fafafa"),
            14,
            vec![0..11],
        ),
        (
            "H6",
            Codec::H264,
            d(),
            h(
                "00000001 2764001fac2b602802dd8088000003000800000301b46d0e1970 000001 28ee3cb0 000001 25 8880 ababab",
            ),
            48,
            vec![0..45],
        ),
        (
            "H7",
            Codec::H264,
            d(),
            h("00000001 61 e0 fafafa 00000001 61 e0 fafafa"),
            18,
            vec![0..6, 9..15],
        ),
        (
            "H8",
            Codec::H264,
            d(),
            h(
                "00000001 6742c01f0fd91f888884000003000400000300c83c60c920 00000001 6887cb83cb20 00000001 6588840af2628000a7be",
            ),
            52,
            vec![0..45],
        ),
        (
            "H9",
            Codec::H264,
            d(),
            h("00000001 41 000ff070 aabb"),
            11,
            vec![0..9],
        ),
        (
            "H10",
            Codec::H264,
            d(),
            h(&format!(
                "00000001 09f0 00000001 {SPS_H2} 00000001 68ce3c80 00000001 65 b8 fafa"
            )),
            35,
            vec![0..33],
        ),
        (
            "H10 (AUD kept)",
            Codec::H264,
            keep_aud(),
            h(&format!(
                "00000001 09f0 00000001 {SPS_H2} 00000001 68ce3c80 00000001 65 b8 fafa"
            )),
            41,
            vec![0..39],
        ),
        (
            "H11",
            Codec::H264,
            d(),
            h(&format!("00000001 {SPS_H2} 00000001 68ce3c80")),
            27,
            vec![0..27],
        ),
        (
            "H12",
            Codec::H264,
            d(),
            h("00000001 6e c00000 aa 00000001 74 c00001 bbcc"),
            19,
            vec![0..17],
        ),
        (
            "E5",
            Codec::H264,
            d(),
            h("00 00000001 61 e0 fa"),
            7,
            vec![0..6],
        ),
        (
            "G1",
            Codec::H265,
            d(),
            h("00000001 0201 abab"),
            8,
            vec![0..7],
        ),
        (
            "G1 DAVE",
            Codec::H265,
            dave_parity(),
            h("00000001 0201 abab"),
            8,
            vec![0..6],
        ),
        ("G2", Codec::H265, d(), h("000001 0201 abab"), 8, vec![0..7]),
        ("G3", Codec::H265, d(), h(G3), 121, vec![0..84, 113..120]),
        (
            "G3 DAVE",
            Codec::H265,
            dave_parity(),
            h(G3),
            121,
            vec![0..119],
        ),
        ("G4", Codec::H265, d(), h(G4), 121, vec![0..84, 113..120]),
        (
            "G5",
            Codec::H265,
            d(),
            h("000001 0201 abab 000001 0201 abab"),
            16,
            vec![0..7, 8..15],
        ),
        (
            "G6",
            Codec::H265,
            d(),
            h("00000001 2601 c4 aabb"),
            9,
            vec![0..8],
        ),
        ("P1", Codec::Vp8, d(), h(P1), 31, vec![0..10]),
        ("P2", Codec::Vp8, d(), h("31 23 01 02 03"), 5, vec![0..1]),
        (
            "P2 frame tag",
            Codec::Vp8,
            tag,
            h("31 23 01 02 03"),
            5,
            vec![0..3],
        ),
        (
            "P5",
            Codec::Vp8,
            d(),
            h("10 02 00 9d 01 2a 08 00 08 00"),
            10,
            vec![0..10],
        ),
        ("VP9", Codec::Vp9, d(), h("82 49 83 42 00 aa bb"), 7, vec![]),
        ("A1", Codec::Av1, d(), h(A1), 19, vec![0..2, 12..14]),
        (
            "A2",
            Codec::Av1,
            d(),
            h("12 00 0a 0a 0000002ca44c4b6c7a40 30 1122334455"),
            19,
            vec![0..2, 12..14],
        ),
        (
            "A3",
            Codec::Av1,
            d(),
            h("32 85 80 80 00 1122334455"),
            7,
            vec![0..2],
        ),
        ("A4", Codec::Av1, d(), h("36 11 03 aabbcc"), 6, vec![0..3]),
        (
            "A5",
            Codec::Av1,
            d(),
            h("32 03 aabbcc 7a 02 ffff"),
            5,
            vec![0..2],
        ),
        ("O1", Codec::Opus, d(), h("f8 ff fe"), 3, vec![]),
        (
            "O1 TOC",
            Codec::Opus,
            toc.clone(),
            h("f8 ff fe"),
            3,
            vec![0..1],
        ),
        ("O2", Codec::Opus, d(), h("f8"), 1, vec![]),
        ("O2 TOC", Codec::Opus, toc, h("f8"), 1, vec![0..1]),
        ("PCMU", Codec::Pcmu, d(), h("ff 7f 00 80"), 4, vec![]),
    ]
}

#[test]
fn every_vector_round_trips_byte_for_byte() {
    for suite in [GCM, CTR80, CTR32, CipherSuite::AesGcm256Sha512] {
        for (name, codec, policy, input, norm_len, want) in vectors() {
            let (n, clear, _) = planned(codec, &input, &policy);
            assert_eq!((n.len(), &clear), (norm_len, &want), "{name}");
            let mut p = pair(suite, KID, codec, &policy);
            for metadata in [&b""[..], b"app metadata"] {
                let wire = p.round_trip(&input, metadata);
                let tag_len = suite.tag_len();
                let parts = Parts::split(&wire, norm_len, tag_len);
                assert_eq!(parts.map, encode_map(&want), "{name}");
                assert_eq!(parts.av1, codec == Codec::Av1, "{name}");
            }
        }
    }
}

#[test]
fn overhead_per_codec() {
    // |S| = wrapper + H + T + M + 4.
    for (name, codec, policy, input, norm_len, want) in vectors() {
        let mut p = pair(GCM, KID, codec, &policy);
        let (wire, _) = p.seal(&input, b"");
        let wrapper = if codec == Codec::Av1 { 3 } else { 0 };
        let map = encode_map(&want).len();
        assert_eq!(wire.len() - norm_len, wrapper + 2 + 16 + map + 4, "{name}");
    }
}

#[test]
fn empty_frames_pass_through_both_ways() {
    for codec in [
        Codec::Opus,
        Codec::Pcma,
        Codec::G722,
        Codec::Vp8,
        Codec::Vp9,
    ] {
        let mut p = pair(GCM, KID, codec, &Policy::default());
        let mut out = vec![1, 2, 3];
        let sealed = p.sender.encrypt(b"", &[], &mut out).unwrap();
        assert!(out.is_empty());
        assert_eq!(
            (sealed.header(), sealed.attempts(), sealed.keyframe()),
            (None, 0, None)
        );
        assert_eq!(
            p.sender.encryptor().next_counter(),
            Some(Counter(0)),
            "no counter used"
        );
        let mut empty: [u8; 0] = [];
        let opened = p
            .receiver
            .decrypt_in_place(&mut p.keys, b"", &mut empty)
            .unwrap();
        assert_eq!((opened.frame(), opened.header()), (&[][..], None));
        assert!(matches!(
            opened,
            Opened::PassedThrough {
                reason: PassThrough::Empty,
                ..
            }
        ));
    }
    // The codecs whose senders never send an empty frame: the receiver refuses one.
    for codec in [Codec::Av1, Codec::H264, Codec::H265] {
        let mut p = pair(GCM, KID, codec, &Policy::default());
        assert!(p.sender.encrypt(b"", &[], &mut Vec::new()).is_err());
        assert_eq!(
            p.receiver
                .decrypt_in_place(&mut p.keys, b"", &mut [])
                .unwrap_err(),
            CompatDecryptError::EmptyFrame
        );
    }
    assert_eq!(
        CompatDecryptor::new()
            .decrypt_in_place(&mut Decryptor::new(GCM), b"", &mut [])
            .unwrap_err(),
        CompatDecryptError::EmptyFrame,
        "refused unless opted in"
    );
}

#[test]
fn codec_errors_emit_nothing() {
    let mut p = pair(GCM, KID, Codec::H264, &Policy::default());
    for (hex, want) in [
        ("00000001 65", "Truncated"),
        ("ff 00000001 61 e0 fa", "LeadingGarbage"),
        ("00000001 78 e0 fa", "RtpOnlyNalType"),
    ] {
        let mut out = vec![7; 10];
        let err = p.sender.encrypt(b"", &h(hex), &mut out).unwrap_err();
        assert!(matches!(err, CompatEncryptError::Codec(_)));
        assert!(format!("{err:?}").contains(want));
        assert!(out.is_empty());
    }
    assert_eq!(p.sender.encryptor().next_counter(), Some(Counter(0)));
    let mut out = Vec::new();
    assert!(matches!(
        pair(GCM, KID, Codec::Av1, &Policy::default())
            .sender
            .encrypt(b"", &h("12 00"), &mut out),
        Err(CompatEncryptError::Codec(_))
    ));
}

// ---------------------------------------------------------------------------------------------
// The Annex B retry loop (§7.6.3) and KID safety (§7.6.4)
// ---------------------------------------------------------------------------------------------

/// An H.264 slice whose 64 KiB opaque run emulates a start code for about 1.6 % of counters.
fn big_slice() -> Vec<u8> {
    let mut f = h("00000001 61 e0");
    f.extend((0..65_536u32).map(|i| u8::try_from(i % 251).unwrap() + 1));
    f
}

/// An H.264 slice whose clear cover ends in `00`: `first_mb_in_slice` 0, `slice_type` 0,
/// `pic_parameter_set_id` 255 = bits `1 1 000000001 00000000`, so the cover is `c0 20 00`.
fn cover_ends_in_zero() -> Vec<u8> {
    h("00000001 61 c02000 aabbcc")
}

/// Counters (KID [`KID`], GCM, [`BASE_KEY`]) whose first attempt emulates, found by
/// `search_emulating_counters` below: for [`big_slice`], the first hit inside the opaque run of
/// each kind `00 00 00`, `00 00 01`, `00 00 02`, `00 00 03`, and the first two failing counters in
/// a row; for [`cover_ends_in_zero`], a hit only at the clear/opaque boundary, and one only between
/// the tag and the map.
const BIG_HITS: [u64; 4] = [811, 9, 306, 119];
const BIG_TWO_IN_A_ROW: u64 = 973;
const BOUNDARY_HIT: u64 = 16_460;
const TAG_MAP_HIT: u64 = 8_109;

/// Where the model's first attempt under `ctr` emulates.
fn first_attempt_hits(frame: &[u8], ctr: u64) -> (Vec<u8>, Vec<usize>, usize, Vec<Range<usize>>) {
    let (n, clear, _) = planned(Codec::H264, frame, &Policy::default());
    let wire = Model::new(GCM, KID, BASE_KEY).seal(ctr, false, &n, &clear, &[]);
    let found = hits(&wire, &clear, n.len());
    (wire, found, n.len(), clear)
}

#[test]
#[ignore = "a search: prints the constants used by forced_emulation_is_retried"]
fn search_emulating_counters() {
    let model = Model::new(GCM, KID, BASE_KEY);
    let frame = big_slice();
    let (n, clear, _) = planned(Codec::H264, &frame, &Policy::default());
    let mut big = [None; 4];
    let mut failed = Vec::new();
    let mut two = None;
    for ctr in 0..100_000u64 {
        let wire = model.seal(ctr, false, &n, &clear, &[]);
        let found = hits(&wire, &clear, n.len());
        if let [p] = found[..] {
            if p > 8 && p + 3 < n.len() {
                big[usize::from(wire[p + 2])].get_or_insert(ctr);
            }
        }
        if !found.is_empty() {
            if failed.last() == Some(&(ctr.wrapping_sub(1))) {
                two = two.or(Some(ctr - 1));
            }
            failed.push(ctr);
        }
        if big.iter().all(Option::is_some) && two.is_some() {
            break;
        }
    }
    println!("BIG_HITS: {big:?}, BIG_TWO_IN_A_ROW: {two:?}");
    let frame = cover_ends_in_zero();
    let (n, clear, _) = planned(Codec::H264, &frame, &Policy::default());
    let (mut boundary, mut tag_map) = (None, None);
    for ctr in 0..1_000_000u64 {
        let wire = model.seal(ctr, false, &n, &clear, &[]);
        let hl = model.header(ctr).len();
        match hits(&wire, &clear, n.len())[..] {
            [7] => boundary = boundary.or(Some(ctr)),
            [p] if p == n.len() + hl + 16 - 2 => tag_map = tag_map.or(Some(ctr)),
            _ => {}
        }
        if boundary.is_some() && tag_map.is_some() {
            break;
        }
    }
    println!("BOUNDARY_HIT: {boundary:?}, TAG_MAP_HIT: {tag_map:?}");
}

#[test]
fn forced_emulation_is_retried() {
    let mut policy = Policy::default();
    policy.max_attempts = 3;
    // Inside the opaque run, each forbidden third byte.
    for (third, &ctr) in BIG_HITS.iter().enumerate() {
        let (wire, found, _, _) = first_attempt_hits(&big_slice(), ctr);
        assert_eq!(found.len(), 1);
        assert_eq!(usize::from(wire[found[0] + 2]), third);
        retried_once(&big_slice(), ctr, &policy);
    }
    // At the boundary: the clear cover ends in 00 and the ciphertext starts with 00 0x.
    let frame = cover_ends_in_zero();
    let (n, clear, _) = planned(Codec::H264, &frame, &Policy::default());
    assert_eq!((n.len(), clear), (11, vec![0..8]));
    let (wire, found, _, _) = first_attempt_hits(&frame, BOUNDARY_HIT);
    assert_eq!(found, [7]);
    assert_eq!(wire[7], 0);
    assert!(wire[8] == 0 && wire[9] <= 3);
    retried_once(&frame, BOUNDARY_HIT, &policy);
    // In the trailer: the tag ends in 00 00 and the map starts with 00.
    let (wire, found, inner_len, _) = first_attempt_hits(&frame, TAG_MAP_HIT);
    let parts = Parts::split(&wire, inner_len, 16);
    assert_eq!(parts.tag[14..], [0, 0]);
    assert_eq!(parts.map[0], 0);
    assert_eq!(found, [inner_len + parts.header.len() + 14]);
    retried_once(&frame, TAG_MAP_HIT, &policy);
}

/// A sender for H.264 whose next counter is `ctr`.
fn sender_at(ctr: u64, policy: &Policy) -> CompatEncryptor {
    let mut e = Encryptor::new(GCM, KeyId(KID), &BaseKey::new(BASE_KEY).unwrap());
    e.advance_counter_to(Counter(ctr)).unwrap();
    CompatEncryptor::new(e, Codec::H264, policy.clone())
}

/// Starting at `ctr` (whose first attempt emulates, the next one not), the sender uses `ctr + 1`.
fn retried_once(frame: &[u8], ctr: u64, policy: &Policy) {
    let mut p = pair(GCM, KID, Codec::H264, policy);
    p.sender = sender_at(ctr, policy);
    let (wire, _) = p.seal(frame, b""); // checks the wire against the model
    let header = read_header(&wire).unwrap();
    assert_eq!(header.counter(), Counter(ctr + 1), "the next counter");
    assert_eq!(p.sender.encryptor().next_counter(), Some(Counter(ctr + 2)));
    let mut buf = wire.clone();
    assert_eq!(
        open_checked(&mut p.receiver, &mut p.keys, b"", &mut buf).unwrap(),
        planned(Codec::H264, frame, policy).0
    );
}

#[test]
fn exhausted_attempts_emit_nothing() {
    for max_attempts in [0u8, 1] {
        let mut policy = Policy::default();
        policy.max_attempts = max_attempts;
        let mut sender = sender_at(BIG_HITS[1], &policy);
        let mut out = vec![1, 2, 3];
        assert_eq!(
            sender.encrypt(b"", &big_slice(), &mut out),
            Err(CompatEncryptError::AnnexBEmulation { attempts: 1 })
        );
        assert!(out.is_empty(), "nothing emitted");
        assert_eq!(
            sender.encryptor().next_counter(),
            Some(Counter(BIG_HITS[1] + 1)),
            "used up"
        );
        // In place: the frame is the plaintext again, opened back from the attempt.
        let mut sender = sender_at(BIG_HITS[1], &policy);
        let mut frame = big_slice();
        assert_eq!(
            sender.encrypt_in_place(b"", &mut frame),
            Err(CompatEncryptError::AnnexBEmulation { attempts: 1 })
        );
        assert_eq!(frame, big_slice(), "plaintext kept");
    }
    // Two attempts, both emulating (the model says so), then a clean third counter.
    let model = Model::new(GCM, KID, BASE_KEY);
    let (n, clear, framing) = planned(Codec::H264, &big_slice(), &Policy::default());
    let start = BIG_TWO_IN_A_ROW;
    let run = model.run(start, 2, framing, &n, &clear, &[]);
    assert_eq!((run.emitted, run.attempts, run.next), (None, 2, start + 2));
    let mut policy = Policy::default();
    policy.max_attempts = 2;
    let mut sender = sender_at(start, &policy);
    let mut out = Vec::new();
    assert_eq!(
        sender.encrypt(b"", &big_slice(), &mut out),
        Err(CompatEncryptError::AnnexBEmulation { attempts: 2 })
    );
    assert!(out.is_empty());
    assert_eq!(sender.encryptor().next_counter(), Some(Counter(start + 2)));
    // In place, from a frame with a 3-byte start code (normalization rewrites it): the input
    // comes back as it was given.
    let mut sender = sender_at(start, &policy);
    let mut three = big_slice();
    three.remove(0);
    let mut frame = three.clone();
    assert_eq!(
        sender.encrypt_in_place(b"", &mut frame),
        Err(CompatEncryptError::AnnexBEmulation { attempts: 2 })
    );
    assert_eq!(frame, three, "the input, not its normalized form");
    // And once more from the third counter: the normalized frame, sealed.
    sender.encrypt_in_place(b"", &mut frame).unwrap();
    assert_eq!(read_header(&frame).unwrap().counter(), Counter(start + 2));
}

#[test]
fn big_frames_retry_as_the_model_says() {
    // 200 frames of 64 KiB: a few need a second counter; every one matches the model.
    let mut p = pair(GCM, KID, Codec::H264, &Policy::default());
    let mut retried = 0;
    for _ in 0..200 {
        let before = p.sender.encryptor().next_counter().unwrap().0;
        p.seal(&big_slice(), b"");
        if p.sender.encryptor().next_counter().unwrap().0 > before + 1 {
            retried += 1;
        }
    }
    assert!(retried > 0, "no retry in 200 frames of 64 KiB");
}

#[test]
fn every_kid_works_with_every_codec() {
    // KIDs whose bytes hold 00 00, followed by a byte ≤ 3 or not (v1 refused them for Annex B).
    for kid in [
        0x01_0000u64,
        0x0100_0002,
        0x0100_0001,
        0x0100_0000_0000,
        0xff00_00ff,
        0x0100_0000_0000_0003,
        1 << 63,
    ] {
        for codec in [
            Codec::H264,
            Codec::H265,
            Codec::Vp8,
            Codec::Vp9,
            Codec::Av1,
            Codec::Opus,
            Codec::Pcmu,
        ] {
            let mut p = pair(GCM, kid, codec, &Policy::default());
            let frame = match codec {
                Codec::Av1 => h(A1),
                Codec::H264 => h("00000001 61 e0 fafafa"),
                Codec::H265 => h("000001 0201 abab"),
                _ => h(P1),
            };
            // Every counter of the first 300, across the 8 where the counter sits in the config
            // byte and the KID's 00 00 ends the header.
            for _ in 0..300 {
                let wire = p.round_trip(&frame, b"");
                let (n, clear, _) = planned(codec, &frame, &Policy::default());
                let header = read_header(&wire).unwrap();
                assert_eq!(header.key_id(), KeyId(kid));
                let parts = Parts::split(&wire, n.len(), GCM.tag_len());
                assert_eq!(parts.header, escape(&header.encode()));
                if matches!(codec, Codec::H264 | Codec::H265) {
                    assert_eq!(hits(&wire, &clear, n.len()), Vec::<usize>::new());
                }
            }
        }
    }
}

#[test]
fn no_counter_exhausts_the_retries() {
    // research/codecs.md §7.6.4: 2^16 consecutive counters from 0 with KID 0 and KID 7.
    let frame = h("00000001 65 b8 fafafa 00000001 41 9a 0102030405");
    for kid in [0u64, 7] {
        let e = Encryptor::new(CTR80, KeyId(kid), &BaseKey::new(BASE_KEY).unwrap());
        let mut sender = CompatEncryptor::new(e, Codec::H264, Policy::default());
        let mut out = Vec::new();
        let mut counters = 0;
        while sender.encryptor().next_counter().unwrap().0 < 1 << 16 {
            sender.encrypt(b"", &frame, &mut out).unwrap();
            counters += 1;
        }
        assert!(counters > 60_000);
    }
    // Counters whose own bytes hold 00 00 0x are escaped in the trailer, not skipped.
    let (n, clear, _) = planned(Codec::H264, &frame, &Policy::default());
    for start in [
        0xffff_ff00u64,
        0x00ff_ffff_ff00,
        0x0100_0000_0000_0000 - 256,
    ] {
        let mut e = Encryptor::new(GCM, KeyId(KID), &BaseKey::new(BASE_KEY).unwrap());
        e.advance_counter_to(Counter(start)).unwrap();
        let mut sender = CompatEncryptor::new(e, Codec::H264, Policy::default());
        let mut escaped = 0;
        for _ in 0..400 {
            let wire = sender.encrypt_to_vec(b"", &frame).unwrap();
            let header = read_header(&wire).unwrap();
            let raw = header.encode();
            if raw.windows(3).any(is_forbidden) {
                escaped += 1;
                let parts = Parts::split(&wire, n.len(), GCM.tag_len());
                assert_eq!(parts.header, escape(&raw));
                assert_ne!(parts.header, raw.to_vec());
            }
            assert!(hits(&wire, &clear, n.len()).is_empty());
            check_wire(Codec::H264, &n, &clear, &wire);
        }
        assert!(escaped > 0, "no counter from {start:#x} needed escaping");
    }
}

// ---------------------------------------------------------------------------------------------
// Real media: every frame of every clip, two suites
// ---------------------------------------------------------------------------------------------

#[test]
fn media_every_frame_round_trips() {
    let mut frames = 0;
    for clip in media::load_all() {
        let codec = Codec::from_mime(clip.mime).unwrap();
        for suite in [GCM, CTR80] {
            let mut p = pair(suite, KID, codec, &Policy::default());
            for (i, frame) in clip.frames.iter().enumerate() {
                let metadata = format!("{} frame {i}", clip.file);
                let wire = p.round_trip(frame, metadata.as_bytes());
                // A wrong metadata fails authentication, and nothing moves.
                let mut buf = wire.clone();
                let mut keys = fresh_keys(suite);
                assert_eq!(
                    open_checked(&mut CompatDecryptor::new(), &mut keys, b"other", &mut buf),
                    Err(CompatDecryptError::Authentication)
                );
                frames += 1;
            }
        }
    }
    assert!(frames >= 2 * 70, "{frames} frames");
}

#[test]
fn media_keyframe_hints_pass_through_the_sender() {
    for clip in media::load_all() {
        let codec = Codec::from_mime(clip.mime).unwrap();
        let mut p = pair(GCM, KID, codec, &Policy::default());
        let Some(flags) = &clip.keyframes else {
            continue;
        };
        for (frame, &key) in clip.frames.iter().zip(flags) {
            let sealed = p.sender.encrypt(b"", frame, &mut Vec::new()).unwrap();
            assert_eq!(sealed.keyframe(), Some(key), "{}", clip.file);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Receiver hostility (§7.6.5, §7.6.6)
// ---------------------------------------------------------------------------------------------

/// Sealed samples of each framing under `suite`: (name, wire, |I|).
fn samples(suite: CipherSuite) -> Vec<(&'static str, Vec<u8>, usize)> {
    let mut out = Vec::new();
    for (name, codec, frame) in [
        (
            "H2",
            Codec::H264,
            h(&format!(
                "00000001 {SPS_H2} 00000001 68ce3c80 00000001 65 b8 fafafa"
            )),
        ),
        (
            "H7",
            Codec::H264,
            h("00000001 61 e0 fafafa 00000001 61 e0 fafafa"),
        ),
        ("G5", Codec::H265, h("000001 0201 abab 000001 0201 abab")),
        ("A1", Codec::Av1, h(A1)),
        ("P1", Codec::Vp8, h(P1)),
        ("O1", Codec::Opus, h("f8 ff fe")),
    ] {
        let mut p = pair(suite, KID, codec, &Policy::default());
        let (wire, inner_len) = p.seal(&frame, b"md");
        out.push((name, wire, inner_len));
    }
    out
}

#[test]
fn every_bit_flip_is_refused_exactly() {
    for suite in [GCM, CTR80] {
        for (name, wire, _) in samples(suite) {
            let mut kinds = std::collections::BTreeSet::new();
            for byte in 0..wire.len() {
                for bit in 0..8 {
                    let mut frame = wire.clone();
                    frame[byte] ^= 1 << bit;
                    let e = assert_refused_as_predicted(
                        suite,
                        &frame,
                        &format!("{name} byte {byte} bit {bit}"),
                    );
                    kinds.insert(
                        format!("{:?}", e.unwrap())
                            .split('(')
                            .next()
                            .unwrap()
                            .to_owned(),
                    );
                }
            }
            assert!(kinds.contains("Authentication"), "{name}: {kinds:?}");
            assert!(kinds.contains("NotProtected"), "{name}: {kinds:?}");
            // Every failure left the window alone: the authentic frame still opens.
            let mut keys = fresh_keys(suite);
            let mut buf = wire.clone();
            open_checked(&mut CompatDecryptor::new(), &mut keys, b"md", &mut buf).unwrap();
        }
    }
}

#[test]
fn truncations_are_refused_exactly() {
    for suite in [GCM, CTR80] {
        for (name, wire, inner_len) in samples(suite) {
            for k in 0..wire.len() {
                // The end cut off (the magic goes first), the start cut off (L points past the
                // start once the cut reaches the trailer), and bytes of I removed (ranges past
                // the end, or authentication).
                assert_refused_as_predicted(suite, &wire[..k], &format!("{name} prefix {k}"));
                let e = assert_refused_as_predicted(
                    suite,
                    &wire[k + 1..],
                    &format!("{name} suffix {k}"),
                );
                if k + 1 > inner_len && wire.len() - (k + 1) >= 4 {
                    assert_eq!(
                        e,
                        Some(CompatDecryptError::Trailer(TrailerError::BadLength)),
                        "{name} {k}"
                    );
                }
                if k < inner_len {
                    let frame = [&wire[..k], &wire[inner_len..]].concat();
                    assert_refused_as_predicted(suite, &frame, &format!("{name} inner {k}"));
                }
            }
            // The trailer alone, shortened from the front.
            let s = &wire[inner_len..];
            for j in 1..s.len() {
                let e = assert_refused_as_predicted(suite, &s[j..], &format!("{name} trailer {j}"));
                let want = match s.len() - j {
                    1 => CompatDecryptError::NotProtected,
                    2 | 3 => CompatDecryptError::Trailer(TrailerError::Truncated),
                    _ => CompatDecryptError::Trailer(TrailerError::BadLength),
                };
                assert_eq!(e, Some(want), "{name} {j}");
            }
        }
    }
}

#[test]
fn magic_and_length_errors() {
    use CompatDecryptError as E;
    let (_, wire, _) = samples(GCM).remove(0);
    let refuse = |frame: &[u8]| {
        let mut keys = fresh_keys(GCM);
        open_checked(
            &mut CompatDecryptor::new(),
            &mut keys,
            b"md",
            &mut frame.to_vec(),
        )
        .unwrap_err()
    };
    // Wrong or missing magic.
    for magic in [[0xfa, 0xfb], [0xfb, 0xfa], [0, 0]] {
        let mut f = wire.clone();
        let n = f.len();
        f[n - 2..].copy_from_slice(&magic);
        assert_eq!(refuse(&f), E::NotProtected);
    }
    assert_eq!(refuse(&[0x61]), E::NotProtected);
    assert_eq!(refuse(&[0xfa, 0xfa]), E::Trailer(TrailerError::Truncated));
    assert_eq!(
        refuse(&[0x00, 0xfa, 0xfa]),
        E::Trailer(TrailerError::Truncated)
    );
    // L below the minimum, past the start, exactly the frame (I empty: ranges out of bounds).
    let set_l = |l: u16| {
        let mut f = wire.clone();
        let n = f.len();
        f[n - 4..n - 2].copy_from_slice(&l.to_be_bytes());
        f
    };
    for l in [0u16, 1, 4, 0x8000, 0x8004] {
        assert_eq!(
            refuse(&set_l(l)),
            E::Trailer(TrailerError::BadLength),
            "L = {l:#x}"
        );
    }
    let n = u16::try_from(wire.len()).unwrap();
    for l in [n + 1, 0x7fff, 0xffff] {
        assert_eq!(
            refuse(&set_l(l)),
            E::Trailer(TrailerError::BadLength),
            "L = {l:#x}"
        );
    }
    // L covering the whole frame: I is empty and the "header" is the start code's 00 (KID 0).
    let whole = set_l(n);
    assert_eq!(refuse(&whole), E::UnknownKeyId(KeyId(0)));
    // L one or two bytes short: the header is read inside I (and then whatever follows).
    for l in [n - 1, n - 2] {
        let f = set_l(l);
        assert_refused_as_predicted(GCM, &f, "L moved");
    }
}

#[test]
fn malformed_range_maps_are_refused_exactly() {
    use CompatDecryptError as E;
    use RangeMapError as R;
    // H7: |I| = 18, clear [0,6) [9,15): map 00 06 03 06.
    let (_, wire, inner_len) = samples(GCM).remove(1);
    assert_eq!(inner_len, 18);
    let parts = Parts::split(&wire, inner_len, 16);
    assert_eq!(parts.map, [0, 6, 3, 6]);
    let with_map = |map: &[u8]| {
        let mut p = parts.clone();
        p.map = map.to_vec();
        p.join()
    };
    let cases: Vec<(&str, Vec<u8>, E)> = vec![
        (
            "touching: gap 0 after the first range",
            h("0006 0003"),
            E::RangeMap(R::Adjacent),
        ),
        (
            "overlapping ranges cannot be written; gap 0 is the closest",
            h("0006 0006"),
            E::RangeMap(R::Adjacent),
        ),
        ("zero-length range", h("0000"), E::RangeMap(R::EmptyRange)),
        (
            "zero-length second range",
            h("0006 0300"),
            E::RangeMap(R::EmptyRange),
        ),
        ("past the end", h("0013"), E::RangeMap(R::OutOfBounds)),
        (
            "second range past the end",
            h("0006 0306 0104"),
            E::RangeMap(R::OutOfBounds),
        ),
        ("truncated pair", h("0006 03"), E::RangeMap(R::Truncated)),
        (
            "truncated number",
            h("0006 0386"),
            E::RangeMap(R::Truncated),
        ),
        (
            "non-minimal number",
            h("8000 06"),
            E::RangeMap(R::Leb128NonMinimal),
        ),
        (
            "11-byte number",
            h("ffffffffffffffffffff01 01"),
            E::RangeMap(R::Leb128TooLong),
        ),
        (
            "overflow",
            h("ffffffffffffffffff01 01"),
            E::RangeMap(R::Overflow),
        ),
        (
            "overflow in the second range",
            h("0006 ffffffffffffffffff01 01"),
            E::RangeMap(R::Overflow),
        ),
    ];
    for (what, map, want) in cases {
        let frame = with_map(&map);
        let mut keys = fresh_keys(GCM);
        let got = open_checked(
            &mut CompatDecryptor::new(),
            &mut keys,
            b"md",
            &mut frame.clone(),
        );
        assert_eq!(got, Err(want), "{what}");
        assert_eq!(
            structural_error(&frame, &|_| Some(16), 1024),
            Some(want),
            "{what}"
        );
    }
    // Too many ranges: a limit of 1, and the default limit of 1024.
    let mut keys = fresh_keys(GCM);
    let got = open_checked(
        &mut CompatDecryptor::new().with_max_ranges(1),
        &mut keys,
        b"md",
        &mut wire.clone(),
    );
    assert_eq!(got, Err(E::RangeMap(R::TooManyRanges)));
    let mut many = parts.clone();
    many.inner = vec![0x55; 4096];
    many.map = [vec![0, 1], [1, 1].repeat(1024)].concat();
    let got = open_checked(
        &mut CompatDecryptor::new(),
        &mut keys,
        b"md",
        &mut many.join(),
    );
    assert_eq!(got, Err(E::RangeMap(R::TooManyRanges)));
    many.map.truncate(many.map.len() - 2);
    let got = open_checked(
        &mut CompatDecryptor::new(),
        &mut keys,
        b"md",
        &mut many.join(),
    );
    assert_eq!(got, Err(E::Authentication), "1024 ranges parse");
    // A range boundary moved by one (TOB-DISCE2EC-7): well-formed, and not authentic.
    for map in [
        h("0005 0406"),
        h("0007 0206"),
        h("0006 0206"),
        h("0006 0307"),
        h("0006 0305"),
    ] {
        let got = open_checked(
            &mut CompatDecryptor::new(),
            &mut fresh_keys(GCM),
            b"md",
            &mut with_map(&map),
        );
        assert_eq!(got, Err(E::Authentication), "{map:02x?}");
    }
    // No map at all: everything opaque, not authentic.
    let got = open_checked(
        &mut CompatDecryptor::new(),
        &mut fresh_keys(GCM),
        b"md",
        &mut with_map(&[]),
    );
    assert_eq!(got, Err(E::Authentication));
}

#[test]
fn header_tag_and_wrapper_errors() {
    use CompatDecryptError as E;
    let (_, wire, inner_len) = samples(GCM).remove(0);
    let parts = Parts::split(&wire, inner_len, 16);
    let refuse = |frame: Vec<u8>, keys: &mut Decryptor| {
        open_checked(&mut CompatDecryptor::new(), keys, b"md", &mut frame.clone()).unwrap_err()
    };
    // A non-minimal header; a truncated one (the trailer holds only L and the magic after it).
    let mut p = parts.clone();
    p.header = vec![0x80, 0x05];
    assert_eq!(
        refuse(p.join(), &mut fresh_keys(GCM)),
        E::Header(HeaderError::NonMinimalKeyId)
    );
    let mut p = parts.clone();
    p.header = vec![0xb0, 0x01];
    p.tag.clear();
    p.map.clear();
    assert_eq!(
        refuse(p.join(), &mut fresh_keys(GCM)),
        E::Header(HeaderError::Truncated)
    );
    // An unknown KID, then the same frame once the key is there.
    let mut keys = Decryptor::new(GCM);
    assert_eq!(refuse(wire.clone(), &mut keys), E::UnknownKeyId(KeyId(KID)));
    keys.add_key(KeyId(KID), &BaseKey::new(BASE_KEY).unwrap())
        .unwrap();
    open_checked(
        &mut CompatDecryptor::new(),
        &mut keys,
        b"md",
        &mut wire.clone(),
    )
    .unwrap();
    // A tag shorter than the suite's.
    let mut p = parts.clone();
    p.tag.truncate(3);
    p.map.clear();
    assert_eq!(
        refuse(p.join(), &mut fresh_keys(GCM)),
        E::Trailer(TrailerError::TagTruncated)
    );
    // A GCM frame read with a 4-byte-tag key of the same KID: the map starts inside the tag.
    let mut short = Decryptor::new(CTR32);
    short
        .add_key(KeyId(KID), &BaseKey::new(BASE_KEY).unwrap())
        .unwrap();
    let want = structural_error(&wire, &|_| Some(4), 1024).unwrap_or(E::Authentication);
    assert_eq!(refuse(wire.clone(), &mut short), want);
    // A CTR-32 frame read with a GCM key: the tag runs into the map.
    let (_, wire32, _) = samples(CTR32).remove(0);
    assert_eq!(
        refuse(wire32, &mut fresh_keys(GCM)),
        E::Trailer(TrailerError::TagTruncated)
    );

    // The AV1 wrapper.
    let (_, av1, av1_inner) = samples(GCM).remove(3);
    let n = av1.len();
    let s = av1_inner;
    assert_eq!(
        &av1[s..s + 3],
        &[0x2a, u8::try_from(n - s - 2).unwrap(), AV1_METADATA_TYPE]
    );
    let edit = |at: usize, v: u8| {
        let mut f = av1.clone();
        f[at] = v;
        f
    };
    for (what, frame) in [
        ("OBU header", edit(s, 0x2b)),
        ("OBU type", edit(s, 0x32)),
        ("size too small", edit(s + 1, av1[s + 1] - 1)),
        ("size too large", edit(s + 1, av1[s + 1] + 1)),
        ("metadata_type", edit(s + 2, 25)),
        ("metadata_type continued", edit(s + 2, 0x9a)),
    ] {
        assert_eq!(
            refuse(frame, &mut fresh_keys(GCM)),
            E::Trailer(TrailerError::BadWrapper),
            "{what}"
        );
    }
    // A non-minimal size (one byte longer, L adjusted).
    let mut f = av1[..s + 1].to_vec();
    f.extend([av1[s + 1] | 0x80, 0x00]);
    f.extend(&av1[s + 2..n - 4]);
    let l = u16::try_from(f.len() - s + 4).unwrap() | 0x8000;
    f.extend(l.to_be_bytes());
    f.extend(MAGIC);
    assert_eq!(
        refuse(f, &mut fresh_keys(GCM)),
        E::Trailer(TrailerError::BadWrapper)
    );
    // Truncated wrappers: L flagged but only 1 to 3 bytes before L.
    for keep in 1..=3 {
        let mut f = av1[..s + keep].to_vec();
        f.extend((u16::try_from(keep + 4).unwrap() | 0x8000).to_be_bytes());
        f.extend(MAGIC);
        let f = [vec![0x55; 3], f].concat();
        assert_eq!(
            refuse(f, &mut fresh_keys(GCM)),
            E::Trailer(TrailerError::BadWrapper),
            "keep {keep}"
        );
    }
    // The flag cleared: the wrapper is read as an SFrame header (2A: KID 2).
    let mut f = av1.clone();
    f[n - 4] &= 0x7f;
    assert_eq!(refuse(f, &mut fresh_keys(GCM)), E::UnknownKeyId(KeyId(2)));
    // The flag set on a frame without a wrapper.
    let mut f = wire.clone();
    let n = f.len();
    f[n - 4] |= 0x80;
    assert_eq!(
        refuse(f, &mut fresh_keys(GCM)),
        E::Trailer(TrailerError::BadWrapper)
    );
}

#[test]
fn replay_and_unknown_keys() {
    use CompatDecryptError as E;
    let (_, wire, _) = samples(GCM).remove(1);
    let mut keys = fresh_keys(GCM);
    let mut receiver = CompatDecryptor::new();
    open_checked(&mut receiver, &mut keys, b"md", &mut wire.clone()).unwrap();
    assert_eq!(
        open_checked(&mut receiver, &mut keys, b"md", &mut wire.clone()),
        Err(E::Replay)
    );
    // With a single receive key.
    let mut key = ReceiveKey::new(GCM, KeyId(KID), &BaseKey::new(BASE_KEY).unwrap());
    let mut buf = wire.clone();
    assert!(receiver.decrypt_in_place(&mut key, b"md", &mut buf).is_ok());
    let mut buf = wire.clone();
    assert_eq!(
        receiver
            .decrypt_in_place(&mut key, b"md", &mut buf)
            .unwrap_err(),
        E::Replay
    );
    assert_eq!(buf, wire);
    let mut other = ReceiveKey::new(GCM, KeyId(KID + 1), &BaseKey::new(BASE_KEY).unwrap());
    assert_eq!(
        receiver
            .decrypt_in_place(&mut other, b"md", &mut buf)
            .unwrap_err(),
        E::UnknownKeyId(KeyId(KID))
    );
    assert_eq!(buf, wire);
    assert_eq!(other.replay_window(), &ReplayWindow::default());
    // A key of the right KID but another base key: authentication.
    let mut wrong = ReceiveKey::new(GCM, KeyId(KID), &BaseKey::new(b"another base key").unwrap());
    assert_eq!(
        receiver
            .decrypt_in_place(&mut wrong, b"md", &mut buf)
            .unwrap_err(),
        E::Authentication
    );
    // The failure contract: the opaque bytes are zeroed, the clear bytes and trailer kept.
    assert_ne!(buf, wire);
    for (i, (&now, &was)) in buf.iter().zip(&wire).enumerate() {
        assert!(
            now == was || now == 0,
            "byte {i}: {was:02x} became {now:02x}"
        );
    }
    // Two slices of six clear bytes each, then the 26-byte trailer.
    assert!(buf[..6] == wire[..6] && buf[9..15] == wire[9..15]);
    assert!(buf[buf.len() - 26..] == wire[wire.len() - 26..]);
    assert_eq!(wrong.replay_window(), &ReplayWindow::default());
}

#[test]
fn unprotected_frames_only_when_accepted() {
    let frame = h("00000001 61 e0 fafafb");
    let mut keys = fresh_keys(GCM);
    let mut buf = frame.clone();
    assert_eq!(
        CompatDecryptor::new()
            .decrypt_in_place(&mut keys, b"", &mut buf)
            .unwrap_err(),
        CompatDecryptError::NotProtected
    );
    assert_eq!(read_header(&frame), Err(CompatDecryptError::NotProtected));
    let mut receiver = CompatDecryptor::new().accept_unprotected(true);
    assert!(receiver.accepts_unprotected());
    let opened = receiver.decrypt_in_place(&mut keys, b"", &mut buf).unwrap();
    assert_eq!((opened.header(), opened.frame()), (None, &frame[..]));
    // Protected frames still need to authenticate.
    let (_, wire, _) = samples(GCM).remove(1);
    let mut tampered = wire.clone();
    tampered[20] ^= 1;
    assert_eq!(
        open_checked(&mut receiver, &mut keys, b"md", &mut tampered),
        Err(CompatDecryptError::Authentication)
    );
    let mut buf = wire.clone();
    let mut opened = receiver
        .decrypt_in_place(&mut keys, b"md", &mut buf)
        .unwrap();
    assert!(opened.header().is_some());
    opened.frame_mut()[0] = 9;
    assert_eq!(opened.into_frame().len(), 18);
    // A plaintext frame that happens to end in FA FA (probability 2^-16) is taken for a
    // protected one and refused even when plaintext is accepted: H1 does.
    let h1 = h("00000001 61 e0 fafafa");
    let mut buf = h1.clone();
    assert_eq!(
        receiver
            .decrypt_in_place(&mut keys, b"", &mut buf)
            .unwrap_err(),
        CompatDecryptError::Trailer(TrailerError::BadLength)
    );
    assert_eq!(buf, h1);
}

#[test]
fn long_metadata_and_large_clear_parts() {
    // A over 1 KiB of clear bytes (a big SEI kept clear) and 4 KiB of metadata: beyond the
    // stack buffer of RFC mode, which compat mode does not use.
    let mut frame = h("00000001 06 05");
    frame.extend((0..3000u32).map(|i| u8::try_from(i % 200).unwrap() + 10));
    frame.extend(h("80 00000001 65 b8 fafafa"));
    let metadata = vec![0x42; 4096];
    for suite in [GCM, CTR80] {
        let mut p = pair(suite, KID, Codec::H264, &sei_clear());
        let wire = p.round_trip(&frame, &metadata);
        let (n, clear, _) = planned(Codec::H264, &frame, &sei_clear());
        assert!(clear[0].len() > 3000 && n.len() - clear[0].len() == 3);
        assert_eq!(
            wire.len(),
            n.len() + 2 + suite.tag_len() + encode_map(&clear).len() + 4
        );
    }
}

#[test]
fn too_many_ranges_for_the_trailer() {
    // 4 000 AV1 OBUs: a map of 8 000 bytes passes; with max_ranges large enough, 20 000 OBUs
    // need a map over 32 KiB and the sender refuses before using a counter.
    let unit = h("32 01 aa");
    let mut policy = Policy::default();
    policy.max_ranges = 100_000;
    for (count, ok) in [(4000, true), (20_000, false)] {
        let frame = unit.repeat(count);
        let e = Encryptor::new(CTR32, KeyId(KID), &BaseKey::new(BASE_KEY).unwrap());
        let mut sender = CompatEncryptor::new(e, Codec::Av1, policy.clone());
        let mut out = Vec::new();
        let result = sender.encrypt(b"", &frame, &mut out);
        if ok {
            let s = out.len() - frame.len();
            assert!(s < MAX_TRAILER_LEN && s > 8000);
            let mut keys = Decryptor::new(CTR32);
            keys.add_key(KeyId(KID), &BaseKey::new(BASE_KEY).unwrap())
                .unwrap();
            let mut receiver = CompatDecryptor::new().with_max_ranges(count);
            assert_eq!(receiver.max_ranges(), count);
            assert_eq!(
                receiver
                    .decrypt_in_place(&mut keys, b"", &mut out)
                    .unwrap()
                    .frame(),
                &frame[..]
            );
        } else {
            assert_eq!(result, Err(CompatEncryptError::TrailerTooLong));
            assert!(out.is_empty());
            assert_eq!(sender.encryptor().next_counter(), Some(Counter(0)));
        }
    }
}

#[test]
fn exhausted_counter_is_typed() {
    let mut e = Encryptor::new(GCM, KeyId(KID), &BaseKey::new(BASE_KEY).unwrap());
    e.advance_counter_to(Counter(u64::MAX)).unwrap();
    let mut sender = CompatEncryptor::new(e, Codec::Vp8, Policy::default());
    sender.encrypt_to_vec(b"", &h(P1)).unwrap();
    let mut out = Vec::new();
    assert_eq!(
        sender.encrypt(b"", &h(P1), &mut out),
        Err(CompatEncryptError::Encrypt(
            secure_frame::EncryptError::CounterExhausted
        ))
    );
    assert!(out.is_empty());
    let encryptor = sender.into_encryptor();
    assert_eq!(encryptor.next_counter(), None);
}

#[test]
fn debug_and_accessors() {
    let e = Encryptor::new(GCM, KeyId(3), &BaseKey::new(BASE_KEY).unwrap());
    let sender = CompatEncryptor::new(e, Codec::Vp8, Policy::default());
    assert_eq!(sender.codec(), Codec::Vp8);
    assert_eq!(sender.policy(), &Policy::default());
    let printed = format!("{sender:?}");
    assert!(printed.starts_with(
        "CompatEncryptor { encryptor: Encryptor { suite: AesGcm128Sha256, kid: KeyId(3), next_counter: Some(0), .. }, codec: Vp8, policy: Policy {"
    ), "{printed}");
    assert_eq!(
        format!("{:?}", CompatDecryptor::default()),
        "CompatDecryptor { max_ranges: 1024, accept_unprotected: false, accept_empty: false, .. }"
    );
    let errors = [
        CompatDecryptError::NotProtected.to_string(),
        CompatDecryptError::Trailer(TrailerError::BadWrapper).to_string(),
        CompatDecryptError::UnknownKeyId(KeyId(0x2b)).to_string(),
        CompatEncryptError::AnnexBEmulation { attempts: 10 }.to_string(),
    ];
    assert_eq!(
        errors,
        [
            "frame is not protected",
            "malformed compat trailer: malformed AV1 metadata OBU around the compat trailer",
            "no receive key for KID 0x2b",
            "start code emulation after 10 attempts",
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Properties over generated frames of every codec
// ---------------------------------------------------------------------------------------------

fn suite_strategy() -> impl Strategy<Value = CipherSuite> {
    prop::sample::select(vec![
        GCM,
        CTR80,
        CTR32,
        CipherSuite::AesCtr128HmacSha256_64,
        CipherSuite::AesGcm256Sha512,
    ])
}

/// 1–7 NAL units, not all access unit delimiters (which normalization drops).
fn with_media(nal: impl Strategy<Value = GenNal>) -> impl Strategy<Value = Vec<GenNal>> {
    prop::collection::vec(nal, 1..8).prop_filter("only AUDs", |nals| nals.iter().any(|n| !n.aud))
}

/// A valid frame of some codec, with the policy it is planned under.
fn any_frame() -> impl Strategy<Value = (Codec, Policy, Vec<u8>)> {
    let mut h265_header_only = Policy::default();
    h265_header_only.h265_cover = H265Cover::HeaderOnly;
    let mut frame_tag = Policy::default();
    frame_tag.vp8_delta = Vp8Delta::FrameTag;
    let mut toc = Policy::default();
    toc.opus_keep_toc = true;
    prop_oneof![
        (0usize..=2, with_media(h264_nal(false))).prop_map(|(lead, nals)| (
            Codec::H264,
            Policy::default(),
            assemble(lead, &nals).0
        )),
        with_media(h264_nal(true)).prop_map(|nals| (
            Codec::H264,
            sei_clear(),
            assemble(1, &nals).0
        )),
        (0usize..=2, with_media(h265_nal(false, false))).prop_map(|(lead, nals)| (
            Codec::H265,
            Policy::default(),
            assemble(lead, &nals).0
        )),
        with_media(h265_nal(true, false)).prop_map(move |nals| (
            Codec::H265,
            h265_header_only.clone(),
            assemble(0, &nals).0
        )),
        prop::collection::vec(obu(), 1..8).prop_filter_map("no OBU kept", |obus| {
            let (input, expected) = assemble_av1(&obus);
            expected.map(|_| (Codec::Av1, Policy::default(), input))
        }),
        vp8_frame().prop_map(|(f, _)| (Codec::Vp8, Policy::default(), f)),
        vp8_frame()
            .prop_filter("3-byte delta tag", |(f, key)| *key || f.len() >= 3)
            .prop_map(move |(f, _)| (Codec::Vp8, frame_tag.clone(), f)),
        prop::collection::vec(any::<u8>(), 1..300).prop_map(|f| (Codec::Vp9, Policy::default(), f)),
        prop::collection::vec(any::<u8>(), 1..300).prop_map(move |f| (Codec::Opus, toc.clone(), f)),
        prop::collection::vec(any::<u8>(), 1..300).prop_map(|f| (
            Codec::G722,
            Policy::default(),
            f
        )),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(std::env::var("COMPAT_PROPTEST_CASES").map_or(512, |v| v.parse().unwrap())))]

    #[test]
    fn prop_round_trip((codec, policy, frame) in any_frame(), suite in suite_strategy(), metadata in prop::collection::vec(any::<u8>(), 0..40)) {
        let mut p = pair(suite, KID, codec, &policy);
        p.round_trip(&frame, &metadata);
    }

    #[test]
    fn prop_tampering_is_refused_exactly(
        (codec, policy, frame) in any_frame(),
        suite in prop::sample::select(vec![GCM, CTR80]),
        flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        cut in any::<prop::sample::Index>(),
    ) {
        let mut p = pair(suite, KID, codec, &policy);
        let (wire, _) = p.seal(&frame, b"md");
        let mut tampered = wire.clone();
        for (i, x) in &flips {
            tampered[i.index(wire.len())] ^= x;
        }
        if tampered != wire {
            assert_refused_as_predicted(suite, &tampered, "flips");
        }
        let cut = cut.index(wire.len());
        assert_refused_as_predicted(suite, &wire[..cut], "prefix");
        assert_refused_as_predicted(suite, &wire[cut + 1..], "suffix");
    }

    #[test]
    fn prop_garbage_never_panics(frame in prop::collection::vec(any::<u8>(), 0..120), tail in prop::collection::vec(any::<u8>(), 0..40), l in any::<u16>(), wrap in any::<bool>()) {
        // Random bytes, and random bytes made to end in a plausible trailer.
        let mut keys = fresh_keys(GCM);
        let mut receiver = CompatDecryptor::new();
        let _ = open_checked(&mut receiver, &mut keys, b"", &mut frame.clone());
        let mut f = frame.clone();
        if wrap { f.extend([0x2a, 0x30, 26]); }
        f.extend(Header::new(KeyId(KID), Counter(5)).encode().iter());
        f.extend(&tail);
        f.extend(l.to_be_bytes());
        f.extend(MAGIC);
        let want = structural_error(&f, &|kid| (kid == KeyId(KID)).then_some(16), 1024)
            .unwrap_or(CompatDecryptError::Authentication);
        prop_assert_eq!(open_checked(&mut receiver, &mut keys, b"", &mut f), Err(want));
    }
}

/// research/codecs.md §7.6.2: the simulated libwebrtc H.26x pipeline over 10^5 random frames.
#[test]
fn annexb_pipeline_over_many_random_frames() {
    let frames = prop_oneof![
        prop::collection::vec(h264_nal(false), 1..6).prop_map(|nals| (Codec::H264, nals)),
        prop::collection::vec(h265_nal(false, false), 1..6).prop_map(|nals| (Codec::H265, nals)),
    ];
    let count: usize =
        std::env::var("COMPAT_PIPELINE_FRAMES").map_or(100_000, |v| v.parse().unwrap());
    let mut runner = TestRunner::deterministic();
    let policy = Policy::default();
    let mut h264 = pair(CTR80, KID, Codec::H264, &policy);
    let mut h265 = pair(CTR80, KID, Codec::H265, &policy);
    let mut out = Vec::new();
    let mut retried = 0;
    for _ in 0..count {
        let (codec, nals) = frames.new_tree(&mut runner).unwrap().current();
        let (frame, n, clear, _) = assemble(0, &nals);
        let p = if codec == Codec::H264 {
            &mut h264
        } else {
            &mut h265
        };
        if n.is_empty() {
            // Only access unit delimiters, which normalization drops: refused.
            let refused = p.sender.encrypt(b"", &frame, &mut out);
            assert!(
                matches!(
                    refused,
                    Err(CompatEncryptError::Codec(CodecError::NoMediaUnits))
                ),
                "{refused:?}"
            );
            continue;
        }
        let clear: Vec<Range<usize>> = clear.iter().collect();
        let sealed = p.sender.encrypt(b"", &frame, &mut out).unwrap();
        retried += usize::from(sealed.attempts() > 1);
        check_annexb_wire(codec, &n, &clear, &out);
        let opened = p
            .receiver
            .decrypt_in_place(&mut p.keys, b"", &mut out)
            .unwrap();
        assert_eq!(opened.frame(), &n[..]);
    }
    // About 1 frame in 60 needs a second counter (each opaque run before a start code ends in
    // 00 once in 256).
    assert!(retried > count / 200, "{retried} retries");
}
