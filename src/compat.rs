//! The codec-aware compat container, v2 (not part of RFC 9605).
//!
//! RFC 9605 encrypts a whole frame. The packetizers browsers ship today parse VP8, AV1 and
//! H.264/H.265 frames, and a frame encrypted whole breaks them. The compat container keeps what
//! they read in the clear and in place — the [`ClearRanges`] that [`codec::plan`] finds — and
//! encrypts the rest with the unchanged SFrame core: the same key schedule, nonce, header and
//! AEAD as RFC mode, over the concatenated opaque bytes, with associated data that covers the
//! range map and every clear byte. A trailer at the end of the frame carries the SFrame header,
//! the tag and the range map, so the receiver needs no codec knowledge at all.
//!
//! [`CompatEncryptor`] protects frames of one codec under one send key; [`CompatDecryptor`]
//! opens frames of any codec with a [`ReceiveKey`](crate::ReceiveKey) or a [`Decryptor`](crate::Decryptor).
//!
//! # Wire layout (v2)
//!
//! `N` is the frame normalized by [`codec::plan`] (what the receiver's depacketizer will hand
//! over), its clear ranges are `R`, and `O` is the concatenation of its opaque runs (everything
//! outside `R`, in order). The SFrame core runs unchanged (RFC 9605 §4.4.3):
//!
//! ```text
//! header H, ciphertext C (|C| = |O|), tag T = SFrame encrypt(KID, CTR, metadata = A, plaintext = O)
//!   where the AEAD's associated data is H ‖ A
//! A    = "sframe-compat-v2" ‖ u16 |M| ‖ M ‖ (clear bytes of N, in order) ‖ application metadata
//! wire = I ‖ S
//! I    = N with its opaque bytes replaced, in order, by the bytes of C   (|I| = |N|)
//! S    = [AV1 only: 2A ‖ leb128(obu_size) ‖ 1A] ‖ escape(H) ‖ T ‖ M ‖ L ‖ FA FA
//! ```
//!
//! `escape(H)` is the header with the emulation prevention of H.264 and H.265 (ITU-T H.264
//! §7.4.1): a byte `03` is inserted after every `00 00` of `H` that a byte `00` to `03`
//! follows, counting from the header's first byte. For every codec, so that the receiver needs no
//! codec knowledge; most headers hold no `00 00` and are written as they are. The AEAD
//! authenticates `H` itself.
//!
//! | bytes | field | meaning |
//! |---|---|---|
//! | `\|N\|` | `I` | the normalized frame: clear bytes unchanged and in place, opaque bytes replaced by ciphertext |
//! | 1 | `2A` | AV1 only: OBU header of a METADATA OBU (type 5) with `obu_has_size_field` |
//! | 1–8 | `obu_size` | AV1 only: minimal LEB128 of the bytes from `metadata_type` to the end of the frame |
//! | 1 | `1A` | AV1 only: `metadata_type` 26, in the "unregistered user private" range 6–31 ([`AV1_METADATA_TYPE`]) |
//! | 1–25 | `escape(H)` | the SFrame header (RFC 9605 §4.3), self-delimiting, escaped: a `03` after each `00 00` that `00`–`03` follows |
//! | `Nt` | `T` | the AEAD tag: 16 bytes for AES-GCM, 10, 8 or 4 for AES-CTR+HMAC |
//! | `\|M\|` | `M` | the range map: for each clear range, ULEB128 of its distance from the previous range's end (from 0 for the first), then ULEB128 of its length ([`ClearRanges::encode_map`]) |
//! | 2 | `L` | big-endian: bits 0–14 are `\|S\|`, the whole trailer (wrapper, `L` and magic included); bit 15 is set exactly when the AV1 wrapper is present |
//! | 2 | `FA FA` | the magic ([`MAGIC`]) |
//!
//! Where the trailer goes follows from appending it: after VP8, VP9 and audio frames it is
//! opaque tail data; for H.264/H.265 it becomes the tail of the last NAL unit (which ends in the
//! non-zero magic, so no receiver strips it as trailing zeros); for AV1 it is a final METADATA
//! OBU that decoders ignore ("unregistered user private"), sized minimally as the libwebrtc
//! depacketizer rewrites it, and ending in a non-zero byte as the AV1 spec asks of metadata.
//!
//! Bit 15 of `L` marks the AV1 wrapper because its first byte cannot: `2A` is also a valid
//! SFrame config byte (KID 2 with a 3-byte counter), so a receiver that guessed from the bytes
//! could misread the trailer of a VP8 frame. With the flag the layout describes itself and a
//! malformed wrapper is a definite error.
//!
//! Authenticated: the SFrame header (RFC 9605 does that), and through `A` the range map and every
//! clear byte. The length of `I` is implied: the AEAD authenticates `|C|`, and `A` holds every
//! clear byte. `L`, the magic and the AV1 wrapper are structure that the receiver validates
//! exactly; changing any of them moves the split between `I`, `H`, `T` and `M`, and
//! authentication fails.
//!
//! ## Worked example
//!
//! H.264 frame `00000001 61 e0 fafafa` (one non-IDR slice; research/codecs.md H1), suite
//! `AES_128_GCM_SHA256_128`, base key `00 01 … 0f`, KID 1, CTR 0, no application metadata.
//! [`codec::plan`] keeps `[0, 6)` clear (start code, NAL header, the slice header byte `e0`), so
//! `M = 00 06` and `O = fa fa fa`:
//!
//! ```text
//! A    = 73667261 6d652d63 6f6d7061 742d7632   "sframe-compat-v2" (16 bytes)
//!        0002                                  |M|
//!        0006                                  M: gap 0, length 6
//!        00000001 61e0                         the clear bytes
//! aad  = 10 ‖ A                                H ‖ A: H = 10 is KID 1, CTR 0
//! C, T = AES-128-GCM(sframe_key, nonce = sframe_salt XOR 0, aad, O = fafafa)
//!
//! wire = 00000001 61e0 2a2e5b                  I: clear bytes in place, then C (9 bytes)
//!        10                                    H
//!        1bf8a4c5 0e066f6f 2a142a94 3689c27d   T (16 bytes)
//!        0006                                  M
//!        0017                                  L = 23 = |S|, no AV1 wrapper
//!        fafa                                  magic
//! ```
//!
//! ```
//! use secure_frame::codec::{Codec, Policy};
//! use secure_frame::compat::{CompatDecryptor, CompatEncryptor};
//! use secure_frame::{BaseKey, CipherSuite, Decryptor, Encryptor, KeyId};
//!
//! let suite = CipherSuite::AesGcm128Sha256;
//! let base_key = BaseKey::new(&(0..16).collect::<Vec<u8>>())?;
//! let encryptor = Encryptor::new(suite, KeyId(1), &base_key);
//! let mut sender = CompatEncryptor::new(encryptor, Codec::H264, Policy::default());
//!
//! let frame = [0, 0, 0, 1, 0x61, 0xe0, 0xfa, 0xfa, 0xfa];
//! let mut wire = Vec::new();
//! let sealed = sender.encrypt(&[], &frame, &mut wire)?;
//! assert_eq!(sealed.attempts(), 1);
//! assert_eq!(
//!     hex(&wire),
//!     concat!(
//!         "0000000161e0", "2a2e5b",            // I
//!         "10",                                // H
//!         "1bf8a4c50e066f6f2a142a943689c27d",  // T
//!         "0006",                              // M
//!         "0017",                              // L
//!         "fafa",                              // magic
//!     )
//! );
//!
//! let mut keys = Decryptor::new(suite);
//! keys.add_key(KeyId(1), &base_key)?;
//! let mut receiver = CompatDecryptor::new();
//! let opened = receiver.decrypt_in_place(&mut keys, &[], &mut wire)?;
//! assert_eq!(opened.frame(), &frame);
//! # fn hex(bytes: &[u8]) -> String { bytes.iter().map(|b| format!("{b:02x}")).collect() }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # H.264 and H.265: no start code emulation
//!
//! Ciphertext is random, and a `00 00 01` inside it would be read as a start code by the
//! packetizer (splitting the frame and corrupting it). After composing the wire frame the sender
//! scans every opaque run and the trailer, each with 2 bytes of context on both sides, for
//! `00 00 00`, `00 00 01`, `00 00 02` and `00 00 03`; on a hit it encrypts again under the next
//! counter, at most [`Policy::max_attempts`] times (0 counts as 1), then gives up with
//! [`CompatEncryptError::AnnexBEmulation`] and emits nothing. Every opaque run so looks like an
//! already escaped NAL unit payload, and the check at its end also rules out a `00` before the
//! next 4-byte start code. Clear bytes are left as they are (parameter sets legitimately hold
//! `00 00 03`). RFC 9605 only needs unique (KID, CTR) pairs: skipping counters is harmless.
//!
//! Retrying must be able to succeed, so no byte of the trailer may emulate for every counter.
//! The range map has no `00 00` (only the first gap may be 0, and a minimal ULEB128 of a value
//! ≥ 1 has no zero byte), the two bytes of `L` are never both `00` (it is 5 to 32 767) and the
//! magic is `FA FA`. The header is escaped: a KID or counter whose bytes hold `00 00 01` (such
//! as KID `0x01000001`, or generation 256 of a sender-key session) is written `00 00 03 01`,
//! which is what an escaped NAL unit holds, so in the trailer the check accepts a `00 00 03`
//! that `00` to `03` follows. Every KID works with every codec. (Version 1 refused KIDs with
//! `00 00` for H.264 and H.265 and wrote the header unescaped; version 2 changed the bytes
//! of such headers, and the label in `A`.) What remains depends on the counter's ciphertext and
//! tag, and another counter clears it: a header that ends in `00 00` before a tag byte ≤ `03`,
//! ciphertext ending in `00 00` before the header.
//!
//! An opaque run followed by a start code fails the check when its last ciphertext byte is `00`
//! (`00 00 00 01` would absorb it), so a frame of `k` slices needs a second counter about
//! `k / 256` of the time; with the default 10 attempts a frame of 64 slices (22 % per attempt)
//! is dropped about once in 3 million.
//!
//! # Receiving
//!
//! The receiver reads only the trailer, from the end: the magic (a frame without it is
//! [`CompatDecryptError::NotProtected`], refused unless [`CompatDecryptor::accept_unprotected`]
//! opted in; an empty frame is refused unless [`CompatDecryptor::accept_empty`] or
//! [`CompatDecryptor::for_codec`] accepts it), `L` (bounds-checked), the AV1 wrapper when `L`
//! says so, the escaped SFrame header (unescaped as it is read; an escape the sender would not
//! have written is [`TrailerError::BadEscape`], so a header has one encoding), the
//! key by KID, the tag of the key's suite, and the range map (validated against `|I|`: minimal
//! numbers, ascending, no overlap, no empty or adjacent ranges, at most
//! [`CompatDecryptor::with_max_ranges`] of them). It then rebuilds `A`, authenticates and
//! decrypts `O` (in place when it is one run, else gathered into a scratch buffer and scattered
//! back only after the tag checked). On every error no key's state changed (the replay window
//! has not moved); before authentication the frame is byte-identical, and after a failed
//! authentication its opaque bytes are zero, as in RFC 9605 mode (`manual::security`). The
//! result is `I` as a prefix of the input, equal to the sender's normalized frame.

use alloc::vec::Vec;
use core::fmt;
use core::ops::Range;

use crate::aead::Aad;
use crate::codec::{self, ClearRanges, Codec, Framing, Plan, PlanBuffers, Policy, leb128};
use crate::decryptor::{Ciphertext, DecryptError, ErrorKind, KeyLease, ReceiveKeys};
use crate::encryptor::EncryptError;
use crate::encryptor::Encryptor;
use crate::header::HeaderError;
use crate::header::{Header, KeyId};
use crate::suite::MAX_TAG_LEN;

/// The last two bytes of every compat frame.
pub const MAGIC: [u8; 2] = [0xfa, 0xfa];

/// The first bytes of the associated data `A`: the container and its version.
pub const AAD_LABEL: &[u8; 16] = b"sframe-compat-v2";

/// The AV1 `metadata_type` of the trailer's METADATA OBU: 26, in the range 6–31 that the AV1
/// spec leaves to "unregistered user private" use (decoders ignore such OBUs).
pub const AV1_METADATA_TYPE: u8 = 26;

/// The longest trailer `S`, in bytes: `L` holds it in 15 bits.
pub const MAX_TRAILER_LEN: usize = 0x7fff;

/// Bit 15 of `L`: the trailer is wrapped in an AV1 METADATA OBU.
const AV1_WRAPPER_FLAG: u16 = 0x8000;

/// OBU header: `obu_type` 5 (METADATA), `obu_has_size_field` 1.
const OBU_METADATA_HEADER: u8 = 0x2a;

/// The longest `leb128()` AV1 allows.
const OBU_SIZE_MAX_LEN: usize = 8;

/// `L` and the magic.
const TRAILER_END_LEN: usize = 4;

/// The shortest trailer: a one-byte header, `L` and the magic (a zero-length tag is impossible,
/// but the tag length is only known after the key lookup).
const MIN_TRAILER_LEN: usize = 1 + TRAILER_END_LEN;

/// Bytes of context on each side of a scanned window.
const SCAN_CONTEXT: usize = 2;

/// Reads the SFrame header of a compat frame without any key: the first phase of receiving
/// (an SFU or a key manager can stop here).
///
/// # Errors
///
/// [`CompatDecryptError::NotProtected`] without the magic, [`CompatDecryptError::Trailer`] and
/// [`CompatDecryptError::Header`] for a malformed trailer.
pub fn read_header(frame: &[u8]) -> Result<Header, CompatDecryptError> {
    match Trailer::parse(frame).map_err(CompatDecryptError::from)? {
        Some(trailer) => Ok(trailer.header()),
        None => Err(CompatDecryptError::NotProtected),
    }
}

// ---------------------------------------------------------------------------------------------
// Sender
// ---------------------------------------------------------------------------------------------

/// Protects frames of one codec under one send key in the compat container.
///
/// Owns the [`Encryptor`] and scratch buffers that are reused from frame to frame.
pub struct CompatEncryptor {
    encryptor: Encryptor,
    codec: Codec,
    policy: Policy,
    scratch: SealScratch,
}

/// Plans `frame` and seals it with `encryptor` into `out` (replacing what it held); the plan's
/// buffers go back to `scratch`. `Ok(None)` for a frame that passes through. The copying
/// sender of [`CompatEncryptor::encrypt`] and the session's `protect_into`: after the first
/// frames it allocates nothing.
pub(crate) fn plan_and_seal(
    encryptor: &mut Encryptor,
    codec: Codec,
    policy: &Policy,
    metadata: &[u8],
    frame: &[u8],
    out: &mut Vec<u8>,
    scratch: &mut SealScratch,
) -> Result<Option<Sealed>, CompatEncryptError> {
    out.clear();
    let buffers = core::mem::take(&mut scratch.plan);
    match codec::plan_reusing(codec, frame, policy, buffers)? {
        Plan::PassThrough => Ok(None),
        Plan::Protect(plan) => {
            out.extend_from_slice(plan.frame());
            let sealed = seal_in_buffer(
                encryptor,
                plan.clear(),
                plan.framing(),
                plan.keyframe(),
                policy.max_attempts,
                metadata,
                out,
                scratch,
            );
            scratch.plan = plan.into_buffers();
            if sealed.is_err() {
                out.clear();
            }
            sealed.map(Some)
        }
    }
}

/// Plans `frame` and seals it where it lies: its opaque bytes are encrypted in place and the
/// trailer is appended, so the payload never moves (a frame that normalization rewrites is
/// replaced by its normalized form, whose buffer is swapped in). `Ok(None)` for a frame that
/// passes through. On error `frame` holds the plaintext it held. After the first frames it
/// allocates nothing when `frame` has room for the trailer.
pub(crate) fn plan_and_seal_in_place(
    encryptor: &mut Encryptor,
    codec: Codec,
    policy: &Policy,
    metadata: &[u8],
    frame: &mut Vec<u8>,
    scratch: &mut SealScratch,
) -> Result<Option<Sealed>, CompatEncryptError> {
    let buffers = core::mem::take(&mut scratch.plan);
    let plan = match codec::plan_reusing(codec, frame, policy, buffers)? {
        Plan::PassThrough => return Ok(None),
        Plan::Protect(plan) => plan,
    };
    let (framing, keyframe) = (plan.framing(), plan.keyframe());
    let (rewritten, mut buffers) = plan.into_rewritten();
    // The input, when normalization rewrote it: kept to be given back on error.
    let mut original = rewritten.map(|normalized| core::mem::replace(frame, normalized));
    let sealed = seal_in_buffer(
        encryptor,
        buffers.clear(),
        framing,
        keyframe,
        policy.max_attempts,
        metadata,
        frame,
        scratch,
    );
    if sealed.is_err() {
        if let Some(input) = original.as_mut() {
            core::mem::swap(frame, input);
        }
    }
    if let Some(spare) = original {
        buffers.set_spare(spare);
    }
    scratch.plan = buffers;
    sealed.map(Some)
}

/// What [`CompatEncryptor::encrypt`] did with a frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sealed {
    header: Option<Header>,
    attempts: u8,
    keyframe: Option<bool>,
}

impl Sealed {
    /// The SFrame header the frame carries; `None` when it passed through (a 0-byte frame).
    #[must_use]
    pub fn header(&self) -> Option<Header> {
        self.header
    }

    /// How many counters were used: 1, more after H.264/H.265 start code emulation, 0 for a
    /// frame that passed through.
    #[must_use]
    pub fn attempts(&self) -> u8 {
        self.attempts
    }

    /// The codec layer's key frame hint ([`FramePlan::keyframe`](codec::FramePlan::keyframe)).
    #[must_use]
    pub fn keyframe(&self) -> Option<bool> {
        self.keyframe
    }
}

impl CompatEncryptor {
    /// Protects frames of `codec` with `encryptor`, under `policy`. Every KID works with every
    /// codec (the trailer's header is escaped; see the module docs).
    #[must_use]
    pub fn new(encryptor: Encryptor, codec: Codec, policy: Policy) -> Self {
        Self {
            encryptor,
            codec,
            policy,
            scratch: SealScratch::default(),
        }
    }

    /// The send key.
    #[must_use]
    pub fn encryptor(&self) -> &Encryptor {
        &self.encryptor
    }

    /// Gives the send key back.
    #[must_use]
    pub fn into_encryptor(self) -> Encryptor {
        self.encryptor
    }

    /// The codec.
    #[must_use]
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// The policy.
    #[must_use]
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Protects `frame` and writes the wire frame to `out` (replacing what it held). A 0-byte
    /// audio, VP8 or VP9 frame passes through: `out` is left empty and [`Sealed::header`] is
    /// `None` (an empty H.264, H.265 or AV1 frame is not a valid frame:
    /// [`CompatEncryptError::Codec`]).
    ///
    /// # Errors
    ///
    /// [`CompatEncryptError::Codec`] when the frame does not parse as the codec;
    /// [`CompatEncryptError::AnnexBEmulation`], [`CompatEncryptError::TrailerTooLong`] and
    /// [`CompatEncryptError::Encrypt`]. On every error `out` is empty: drop the frame.
    pub fn encrypt(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<Sealed, CompatEncryptError> {
        let sealed = plan_and_seal(
            &mut self.encryptor,
            self.codec,
            &self.policy,
            metadata,
            frame,
            out,
            &mut self.scratch,
        )?;
        Ok(sealed.unwrap_or(Sealed {
            header: None,
            attempts: 0,
            keyframe: None,
        }))
    }

    /// Protects `frame` where it lies: its opaque bytes are encrypted in place and the trailer
    /// is appended, so the payload never moves (give `frame` spare capacity for the trailer,
    /// [`MAX_TRAILER_LEN`] covers any, and nothing is allocated after the first frames). A
    /// frame that normalization rewrites ([`FramePlan::is_rewritten`](codec::FramePlan::is_rewritten):
    /// 3-byte start codes, AV1 size fields) is replaced by its normalized form. A 0-byte audio,
    /// VP8 or VP9 frame passes through unchanged ([`Sealed::header`] is `None`).
    ///
    /// # Errors
    ///
    /// As [`encrypt`](Self::encrypt). On every error `frame` holds the plaintext it held.
    pub fn encrypt_in_place(
        &mut self,
        metadata: &[u8],
        frame: &mut Vec<u8>,
    ) -> Result<Sealed, CompatEncryptError> {
        let sealed = plan_and_seal_in_place(
            &mut self.encryptor,
            self.codec,
            &self.policy,
            metadata,
            frame,
            &mut self.scratch,
        )?;
        Ok(sealed.unwrap_or(Sealed {
            header: None,
            attempts: 0,
            keyframe: None,
        }))
    }

    /// Protects `frame` into a new `Vec`.
    ///
    /// # Errors
    ///
    /// As [`encrypt`](Self::encrypt).
    pub fn encrypt_to_vec(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<Vec<u8>, CompatEncryptError> {
        let mut out = Vec::new();
        self.encrypt(metadata, frame, &mut out)?;
        Ok(out)
    }
}

impl fmt::Debug for CompatEncryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompatEncryptor")
            .field("encryptor", &self.encryptor)
            .field("codec", &self.codec)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// The sender's buffers, kept between frames.
#[derive(Default)]
pub(crate) struct SealScratch {
    /// The clear ranges and normalization buffer of the last plan.
    plan: PlanBuffers,
    /// `[room for H][A]`.
    aad: Vec<u8>,
    /// The range map `M`.
    map: Vec<u8>,
    /// `O`, then `C`, when the frame has more than one opaque run.
    work: Vec<u8>,
}

/// Seals the normalized frame `buf` (of `clear` ranges) in place: encrypts its opaque bytes
/// under the next counter, appends the trailer and, for H.264/H.265, checks the wire for start
/// code emulation, retrying under the next counter up to `max_attempts` times. Between
/// attempts the plaintext comes back by opening the attempt's own ciphertext, so nothing is
/// copied aside. On error `buf` is the plaintext again (or, were its own tag ever refused, an
/// invariant no input reaches, its opaque bytes are zero: never ciphertext sent half-done).
#[expect(
    clippy::too_many_arguments,
    reason = "the plan's parts and the sender's state"
)]
fn seal_in_buffer(
    encryptor: &mut Encryptor,
    clear: &ClearRanges,
    framing: Framing,
    keyframe: Option<bool>,
    max_attempts: u8,
    metadata: &[u8],
    buf: &mut Vec<u8>,
    scratch: &mut SealScratch,
) -> Result<Sealed, CompatEncryptError> {
    let inner_len = buf.len();
    let annexb = framing == Framing::AnnexB;
    let wrapped = framing == Framing::Av1Obu;

    scratch.map.clear();
    clear.encode_map(&mut scratch.map);
    let map_len =
        u16::try_from(scratch.map.len()).map_err(|_| CompatEncryptError::TrailerTooLong)?;
    build_aad(
        &mut scratch.aad,
        &[0; Encryptor::HEADER_ROOM],
        &scratch.map,
        map_len,
        buf,
        clear,
        metadata,
    );

    let single_run = single_opaque_run(clear, inner_len);
    let allowed = if annexb { max_attempts.max(1) } else { 1 };
    let mut attempts: u8 = 0;
    while attempts < allowed {
        let next = encryptor
            .next_counter()
            .ok_or(EncryptError::CounterExhausted)?;
        let escaped = EscapedHeader::new(Header::new(encryptor.key_id(), next));
        let layout = TrailerLayout::new(
            wrapped,
            escaped.as_bytes().len(),
            encryptor.tag_len(),
            scratch.map.len(),
        )?;

        let mut tag = [0u8; MAX_TAG_LEN];
        let header = if let Some(run) = &single_run {
            // One opaque run: encrypted where it is. A run outside the frame would leave
            // plaintext under a valid trailer: fail closed.
            let slot = buf
                .get_mut(run.clone())
                .ok_or(EncryptError::BufferTooSmall { needed: run.end })?;
            encryptor.seal_detached(&mut scratch.aad, slot, &mut tag)?
        } else {
            // Several runs (or none): gather, encrypt, scatter. Every opaque byte must be
            // replaced by ciphertext, or nothing is emitted.
            gather(&mut scratch.work, buf, clear);
            let header = encryptor.seal_detached(&mut scratch.aad, &mut scratch.work, &mut tag)?;
            if !scatter(&scratch.work, clear, buf) {
                return Err(EncryptError::BufferTooSmall { needed: inner_len }.into());
            }
            header
        };
        attempts = attempts.saturating_add(1);
        let tag = tag.get(..encryptor.tag_len()).unwrap_or_default();
        layout.write(&escaped, tag, &scratch.map, buf);
        if !annexb || !emulates_start_code(buf, clear, inner_len) {
            return Ok(Sealed {
                header: Some(header),
                attempts,
                keyframe,
            });
        }
        // Not sent: take the trailer off and the plaintext back.
        buf.truncate(inner_len);
        if !restore_plaintext(
            encryptor,
            header,
            tag,
            clear,
            buf,
            scratch,
            single_run.as_ref(),
        ) {
            return Err(CompatEncryptError::AnnexBEmulation { attempts });
        }
    }
    Err(CompatEncryptError::AnnexBEmulation { attempts })
}

/// Opens the ciphertext of an attempt that was not sent, giving `buf` its plaintext back.
/// Returns false (with zero opaque bytes) if the attempt's own tag did not verify.
fn restore_plaintext(
    encryptor: &Encryptor,
    header: Header,
    tag: &[u8],
    clear: &ClearRanges,
    buf: &mut [u8],
    scratch: &mut SealScratch,
    single_run: Option<&Range<usize>>,
) -> bool {
    if let Some(run) = single_run {
        let Some(slot) = buf.get_mut(run.clone()) else {
            return false;
        };
        encryptor.unseal_detached(header, &scratch.aad, slot, tag)
    } else {
        let opened = encryptor.unseal_detached(header, &scratch.aad, &mut scratch.work, tag);
        // The zeros of a failed open overwrite the ciphertext too.
        scatter(&scratch.work, clear, buf) && opened
    }
}

/// Writes `prefix ‖ A` to `aad`: the received header, or room for the header to come.
fn build_aad(
    aad: &mut Vec<u8>,
    prefix: &[u8],
    map: &[u8],
    map_len: u16,
    frame: &[u8],
    clear: &ClearRanges,
    metadata: &[u8],
) {
    aad.clear();
    aad.extend_from_slice(prefix);
    aad.extend_from_slice(AAD_LABEL);
    aad.extend_from_slice(&map_len.to_be_bytes());
    aad.extend_from_slice(map);
    for range in clear {
        aad.extend_from_slice(frame.get(range).unwrap_or_default());
    }
    aad.extend_from_slice(metadata);
}

/// The frame's only opaque run, if it has exactly one.
fn single_opaque_run(clear: &ClearRanges, frame_len: usize) -> Option<Range<usize>> {
    let mut runs = clear.opaque(frame_len);
    match (runs.next(), runs.next()) {
        (Some(run), None) => Some(run),
        _ => None,
    }
}

/// Writes the concatenated opaque runs of `frame` to `work`.
fn gather(work: &mut Vec<u8>, frame: &[u8], clear: &ClearRanges) {
    work.clear();
    for run in clear.opaque(frame.len()) {
        work.extend_from_slice(frame.get(run).unwrap_or_default());
    }
}

/// Writes `src` back into the opaque runs of `frame`, in order (the inverse of [`gather`]).
/// Returns false, having written some runs, when `src` does not fill them exactly: a broken
/// invariant, on which the caller fails (never emits or returns the frame).
#[must_use]
fn scatter(src: &[u8], clear: &ClearRanges, frame: &mut [u8]) -> bool {
    let mut rest = src;
    for run in clear.opaque(frame.len()) {
        let Some((chunk, tail)) = rest.split_at_checked(run.len()) else {
            return false;
        };
        let Some(slot) = frame.get_mut(run) else {
            return false;
        };
        // Both are `run.len()` bytes long.
        slot.copy_from_slice(chunk);
        rest = tail;
    }
    rest.is_empty()
}

/// The SFrame header as the trailer carries it: with an emulation prevention byte `03` inserted
/// after every `00 00` that a byte `00` to `03` follows, as H.264 and H.265 escape a NAL unit
/// (counted from the header's first byte). At most one byte in two after the first is
/// inserted: 17 + 8 bytes.
struct EscapedHeader {
    bytes: [u8; MAX_ESCAPED_HEADER_LEN],
    len: usize,
}

/// The longest escaped header.
const MAX_ESCAPED_HEADER_LEN: usize = Header::MAX_LEN + Header::MAX_LEN / 2;

/// The emulation prevention byte.
const EPB: u8 = 3;

impl EscapedHeader {
    fn new(header: Header) -> Self {
        let mut escaped = Self {
            bytes: [0; MAX_ESCAPED_HEADER_LEN],
            len: 0,
        };
        let mut zeros = 0usize;
        for &byte in header.encode().as_bytes() {
            if zeros >= 2 && byte <= EPB {
                escaped.push(EPB);
                zeros = 0;
            }
            escaped.push(byte);
            zeros = if byte == 0 { zeros + 1 } else { 0 };
        }
        escaped
    }

    fn push(&mut self, byte: u8) {
        // Within the bound above; a longer header cannot be encoded.
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }

    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// Reads the escaped SFrame header at the start of `core`: returns the header, its bytes
/// unescaped (what the AEAD authenticates) and how many bytes of `core` it took. Exactly the
/// output of [`EscapedHeader::new`] is accepted: a `00 00` followed by `00`, `01` or `02` (it
/// would have been escaped), and an escape `00 00 03` followed by a byte above `03` (it would
/// not have been), are [`TrailerError::BadEscape`], so every header has one encoding.
fn decode_escaped_header(core: &[u8]) -> Result<(Header, EncodedRaw, usize), Refused> {
    let mut raw = EncodedRaw {
        bytes: [0; Header::MAX_LEN],
        len: 0,
    };
    let mut needed = 1;
    let mut zeros = 0usize;
    let mut escaped = false;
    let mut taken = 0;
    while raw.len < needed {
        let &byte = core.get(taken).ok_or(HeaderError::Truncated)?;
        taken += 1;
        if escaped {
            // The sender escapes only a byte <= 3.
            escaped = false;
            if byte > EPB {
                return Err(TrailerError::BadEscape.into());
            }
        } else if zeros >= 2 {
            zeros = 0;
            match byte {
                EPB => {
                    escaped = true;
                    continue;
                }
                0..EPB => return Err(TrailerError::BadEscape.into()),
                _ => {}
            }
        }
        let slot = raw.bytes.get_mut(raw.len).ok_or(HeaderError::Truncated)?;
        *slot = byte;
        raw.len += 1;
        zeros = if byte == 0 { zeros + 1 } else { 0 };
        if raw.len == 1 {
            needed = header_len_from_config(byte);
        }
    }
    let (header, _) = Header::decode(raw.as_bytes())?;
    Ok((header, raw, taken))
}

/// An unescaped header as received.
#[derive(Clone, Copy)]
pub(crate) struct EncodedRaw {
    bytes: [u8; Header::MAX_LEN],
    len: usize,
}

impl EncodedRaw {
    fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

/// The length of an SFrame header from its config byte (RFC 9605 §4.3): 1, plus `K + 1` bytes
/// when `X` is set, plus `C + 1` when `Y` is set.
fn header_len_from_config(config: u8) -> usize {
    let field = |bits: u8| {
        if bits & 0x08 == 0 {
            0
        } else {
            usize::from(bits & 0x07) + 1
        }
    };
    1 + field(config >> 4) + field(config & 0x0f)
}

/// Whether the wire frame holds `00 00 0x` (x ≤ 3) in an opaque run, or a start code prefix
/// or an invalid emulation prevention sequence in the trailer ([`emulates_in_trailer`]), each
/// with [`SCAN_CONTEXT`] bytes on both sides. `inner_len` is `|I|`; the trailer follows it.
fn emulates_start_code(wire: &[u8], clear: &ClearRanges, inner_len: usize) -> bool {
    let window = |run: Range<usize>| {
        let start = run.start.saturating_sub(SCAN_CONTEXT);
        let end = run.end.saturating_add(SCAN_CONTEXT).min(wire.len());
        wire.get(start..end).unwrap_or_default()
    };
    codec::with_zero_pair_finder(|finder| {
        clear
            .opaque(inner_len)
            .any(|run| has_start_code_prefix(finder, window(run)))
    }) || emulates_in_trailer(window(inner_len..wire.len()))
}

/// Whether `bytes` contains `00 00 00`, `00 00 01` or `00 00 02`, or a `00 00 03` that a byte
/// `00` to `03` does not follow: what a validly escaped NAL unit never holds. The escaped
/// header's `00 00 03 0x` passes; anything else fails the attempt.
fn emulates_in_trailer(bytes: &[u8]) -> bool {
    bytes.windows(3).enumerate().any(|(i, w)| match *w {
        [0, 0, 0..EPB] => true,
        [0, 0, EPB] => bytes.get(i + 3).is_none_or(|&next| next > EPB),
        _ => false,
    })
}

/// Whether `bytes` contains `00 00 00`, `00 00 01`, `00 00 02` or `00 00 03`: `memmem` finds
/// each `00 00` (vectorized; ciphertext holds one in 65 536 byte pairs, where finding each `00`
/// stopped once in 256 bytes), then the byte after it is checked.
fn has_start_code_prefix(finder: &memchr::memmem::Finder<'_>, bytes: &[u8]) -> bool {
    let mut at = 0;
    while let Some(rest) = bytes.get(at..) {
        let Some(found) = finder.find(rest) else {
            return false;
        };
        let zeros = at + found;
        if matches!(bytes.get(zeros + 2), Some(&third) if third <= 3) {
            return true;
        }
        at = zeros + 1;
    }
    false
}

/// The sizes of one trailer.
#[derive(Clone, Copy, Debug)]
struct TrailerLayout {
    /// The AV1 OBU's `obu_size` when wrapped.
    obu_size: Option<usize>,
    /// `|S|`.
    len: usize,
}

impl TrailerLayout {
    fn new(
        wrapped: bool,
        header_len: usize,
        tag_len: usize,
        map_len: usize,
    ) -> Result<Self, CompatEncryptError> {
        let too_long = CompatEncryptError::TrailerTooLong;
        let core = header_len
            .checked_add(tag_len)
            .and_then(|n| n.checked_add(map_len))
            .and_then(|n| n.checked_add(TRAILER_END_LEN))
            .ok_or(too_long)?;
        let (obu_size, len) = if wrapped {
            // metadata_type, then the core.
            let obu_size = core.checked_add(1).ok_or(too_long)?;
            let len = obu_size
                .checked_add(1 + leb128::encoded_len(obu_size))
                .ok_or(too_long)?;
            (Some(obu_size), len)
        } else {
            (None, core)
        };
        if len > MAX_TRAILER_LEN {
            return Err(too_long);
        }
        Ok(Self { obu_size, len })
    }

    /// Appends `S` to `out`.
    fn write(self, header: &EscapedHeader, tag: &[u8], map: &[u8], out: &mut Vec<u8>) {
        let mut l = u16::try_from(self.len).unwrap_or(u16::MAX) & !AV1_WRAPPER_FLAG;
        if let Some(obu_size) = self.obu_size {
            out.push(OBU_METADATA_HEADER);
            leb128::write(obu_size, out);
            out.push(AV1_METADATA_TYPE);
            l |= AV1_WRAPPER_FLAG;
        }
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(tag);
        out.extend_from_slice(map);
        out.extend_from_slice(&l.to_be_bytes());
        out.extend_from_slice(&MAGIC);
    }
}

// ---------------------------------------------------------------------------------------------
// Receiver
// ---------------------------------------------------------------------------------------------

/// Opens compat frames of any codec: reads the trailer, lends the key for its KID from any
/// [`ReceiveKeys`] store, authenticates and decrypts, and restores the frame in place.
///
/// Holds no keys (pass a [`Decryptor`](crate::Decryptor), a [`ReceiveKey`](crate::ReceiveKey) or any other store to each call), only
/// its options and scratch buffers reused from frame to frame: after the first frames it
/// allocates nothing.
pub struct CompatDecryptor {
    max_ranges: usize,
    accept_unprotected: bool,
    accept_empty: bool,
    /// `H ‖ A`.
    aad: Vec<u8>,
    /// The range map of the frame being opened.
    clear: ClearRanges,
    /// The opaque bytes of a frame with several opaque runs, decrypted here and then written
    /// back.
    work: Vec<u8>,
}

/// Why a received frame was returned as it came, without decryption.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PassThrough {
    /// A 0-byte frame (audio DTX, an empty VP8 or VP9 frame), accepted with
    /// [`CompatDecryptor::accept_empty`].
    Empty,
    /// A frame without the container's trailer, accepted with
    /// [`CompatDecryptor::accept_unprotected`]. Nothing about it is authenticated.
    Unprotected,
}

/// A frame opened by [`CompatDecryptor`]: decrypted and authenticated, or passed through as it
/// came (which the application opted into). The two never look alike.
#[derive(Debug)]
pub enum Opened<'f, S = ()> {
    /// Authenticated and decrypted: the normalized frame, a prefix of the input.
    Decrypted {
        /// Who sent it, as the key store knows it.
        sender: S,
        /// The SFrame header it carried.
        header: Header,
        /// The normalized frame.
        frame: &'f mut [u8],
    },
    /// Returned as received, unauthenticated.
    PassedThrough {
        /// Why.
        reason: PassThrough,
        /// The frame as received.
        frame: &'f mut [u8],
    },
}

impl<'f, S> Opened<'f, S> {
    /// The frame: decrypted, or as received when it passed through.
    #[must_use]
    pub fn frame(&self) -> &[u8] {
        match self {
            Self::Decrypted { frame, .. } | Self::PassedThrough { frame, .. } => frame,
        }
    }

    /// The SFrame header of a decrypted frame; `None` when it passed through.
    #[must_use]
    pub fn header(&self) -> Option<Header> {
        match self {
            Self::Decrypted { header, .. } => Some(*header),
            Self::PassedThrough { .. } => None,
        }
    }

    /// The frame, mutably.
    #[must_use]
    pub fn frame_mut(&mut self) -> &mut [u8] {
        match self {
            Self::Decrypted { frame, .. } | Self::PassedThrough { frame, .. } => frame,
        }
    }

    /// Whether the frame was authenticated and decrypted.
    #[must_use]
    pub fn is_decrypted(&self) -> bool {
        matches!(self, Self::Decrypted { .. })
    }

    /// The frame with the input's lifetime, decrypted or as received.
    #[must_use]
    pub fn into_frame(self) -> &'f mut [u8] {
        match self {
            Self::Decrypted { frame, .. } | Self::PassedThrough { frame, .. } => frame,
        }
    }
}

impl Default for CompatDecryptor {
    fn default() -> Self {
        Self::new()
    }
}

impl CompatDecryptor {
    /// A receiver that refuses unprotected and empty frames and accepts at most as many clear
    /// ranges as the default [`Policy::max_ranges`] (1024).
    #[must_use]
    pub fn new() -> Self {
        Self {
            max_ranges: Policy::default().max_ranges,
            accept_unprotected: false,
            accept_empty: false,
            aad: Vec::new(),
            clear: ClearRanges::new(),
            work: Vec::new(),
        }
    }

    /// A receiver for frames of `codec`: as [`new`](Self::new), and accepting 0-byte frames
    /// exactly when the codec's senders pass them through (Opus, G.711, G.722, VP8, VP9;
    /// never AV1, H.264 or H.265, whose senders refuse empty frames).
    #[must_use]
    pub fn for_codec(codec: Codec) -> Self {
        Self::new().accept_empty(passes_empty_frames(codec))
    }

    /// Sets the most clear ranges a frame's range map may hold.
    #[must_use]
    pub fn with_max_ranges(mut self, max_ranges: usize) -> Self {
        self.max_ranges = max_ranges;
        self
    }

    /// Whether frames without the magic are returned as they are (for example while an SFU
    /// injects plaintext frames, or before encryption starts) as
    /// [`Opened::PassedThrough`] instead of refused with
    /// [`CompatDecryptError::NotProtected`]. Off by default.
    #[must_use]
    pub fn accept_unprotected(mut self, accept: bool) -> Self {
        self.accept_unprotected = accept;
        self
    }

    /// Whether 0-byte frames are returned as [`Opened::PassedThrough`] instead of refused
    /// with [`CompatDecryptError::EmptyFrame`]. Off in [`new`](Self::new); see
    /// [`for_codec`](Self::for_codec).
    #[must_use]
    pub fn accept_empty(mut self, accept: bool) -> Self {
        self.accept_empty = accept;
        self
    }

    /// The most clear ranges accepted.
    #[must_use]
    pub fn max_ranges(&self) -> usize {
        self.max_ranges
    }

    /// Whether unprotected frames are accepted.
    #[must_use]
    pub fn accepts_unprotected(&self) -> bool {
        self.accept_unprotected
    }

    /// Whether 0-byte frames are accepted.
    #[must_use]
    pub fn accepts_empty(&self) -> bool {
        self.accept_empty
    }

    /// Reads the trailer once, lends the key for its KID from `keys`, authenticates and
    /// decrypts in place, and returns the normalized frame (a prefix of `frame`: the trailer is
    /// cut off) with who sent it, as `keys` knows it.
    ///
    /// # Errors
    ///
    /// [`CompatDecryptError::NotProtected`], [`CompatDecryptError::EmptyFrame`],
    /// [`CompatDecryptError::Trailer`], [`CompatDecryptError::Header`],
    /// [`CompatDecryptError::RangeMap`],
    /// [`CompatDecryptError::UnknownKeyId`] (keep the frame and retry once the key arrives),
    /// [`CompatDecryptError::Replay`], [`CompatDecryptError::Authentication`]. On every error
    /// no key's state changed; before authentication the frame is byte-identical, and after a
    /// failed authentication its opaque bytes are zero (clear bytes and trailer unchanged), as
    /// in RFC 9605 mode.
    pub fn decrypt_in_place<'f, K: ReceiveKeys + ?Sized>(
        &mut self,
        keys: &mut K,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<Opened<'f, K::Sender>, CompatDecryptError> {
        let trailer = match self.read(frame)? {
            Read::Trailer(trailer) => trailer,
            Read::PassThrough(reason) => return Ok(Opened::PassedThrough { reason, frame }),
        };
        let kid = trailer.header.key_id();
        let lease = keys
            .lend(kid)
            .ok_or(CompatDecryptError::UnknownKeyId(kid))?;
        self.open_leased(lease, &trailer, metadata, frame)
    }

    /// The first phase: the frame's trailer, or how a frame without one passes through (or
    /// why it is refused, before any KID is known).
    pub(crate) fn read(&self, frame: &[u8]) -> Result<Read, Refused> {
        if frame.is_empty() {
            return if self.accept_empty {
                Ok(Read::PassThrough(PassThrough::Empty))
            } else {
                Err(Refused::Empty)
            };
        }
        match Trailer::parse(frame)? {
            Some(trailer) => Ok(Read::Trailer(trailer)),
            None if self.accept_unprotected => Ok(Read::PassThrough(PassThrough::Unprotected)),
            None => Err(Refused::NotProtected),
        }
    }

    /// The second phase, for a frame whose trailer was parsed as `trailer`, with the key lent
    /// for its KID.
    pub(crate) fn open_leased<'f, L: KeyLease>(
        &mut self,
        lease: L,
        trailer: &Trailer,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<Opened<'f, L::Sender>, CompatDecryptError> {
        let header = trailer.header;
        let tag_len = lease.suite().tag_len();
        let (inner, rest) = frame
            .split_at_mut_checked(trailer.inner_len)
            .ok_or(TrailerError::BadLength)?;
        let rest: &[u8] = rest;
        let header_bytes = trailer.header_bytes.as_bytes();
        let (tag, map) = rest
            .get(trailer.after_header_at.clone())
            .ok_or(TrailerError::BadLength)?
            .split_at_checked(tag_len)
            .ok_or(TrailerError::TagTruncated)?;
        self.clear
            .decode_map_into(map, inner.len(), self.max_ranges)?;
        // |M| < |S| ≤ MAX_TRAILER_LEN.
        let map_len = u16::try_from(map.len()).map_err(|_| TrailerError::BadLength)?;
        build_aad(
            &mut self.aad,
            header_bytes,
            map,
            map_len,
            inner,
            &self.clear,
            metadata,
        );
        let aad = Aad {
            header: &self.aad,
            metadata: &[],
        };
        let sender = if let Some(run) = single_opaque_run(&self.clear, inner.len()) {
            // One opaque run: decrypted where it lies; a failed open zeroes it.
            let body = inner.get_mut(run).ok_or(TrailerError::BadLength)?;
            let mut ciphertext = Ciphertext::from_parts(header, aad, body, tag);
            let sender = lease.open(&mut ciphertext).map_err(open_error)?;
            ciphertext
                .into_plaintext()
                .ok_or(CompatDecryptError::Authentication)?;
            sender
        } else {
            // Several runs (or none): gather, decrypt, scatter.
            gather(&mut self.work, inner, &self.clear);
            let mut ciphertext = Ciphertext::from_parts(header, aad, &mut self.work, tag);
            let opened = lease.open(&mut ciphertext);
            let authenticated = ciphertext.into_plaintext().is_some();
            match opened {
                Ok(sender) if authenticated => {
                    if !scatter(&self.work, &self.clear, inner) {
                        return Err(CompatDecryptError::Authentication);
                    }
                    sender
                }
                Ok(_) => return Err(CompatDecryptError::Authentication),
                Err(error) => {
                    if error == DecryptError::Authentication {
                        for run in self.clear.opaque(inner.len()) {
                            if let Some(bytes) = inner.get_mut(run) {
                                bytes.fill(0);
                            }
                        }
                    }
                    return Err(open_error(error));
                }
            }
        };
        Ok(Opened::Decrypted {
            sender,
            header,
            frame: inner,
        })
    }
}

/// Whether `codec`'s sender passes 0-byte frames through ([`codec::plan`] gives
/// [`Plan::PassThrough`]) rather than refusing them.
fn passes_empty_frames(codec: Codec) -> bool {
    matches!(
        codec::plan(codec, &[], &Policy::default()),
        Ok(Plan::PassThrough)
    )
}

/// A key store's refusal, as the compat receiver reports it.
fn open_error(error: DecryptError) -> CompatDecryptError {
    match error {
        DecryptError::Replay => CompatDecryptError::Replay,
        DecryptError::UnknownKeyId(kid) => CompatDecryptError::UnknownKeyId(kid),
        _ => CompatDecryptError::Authentication,
    }
}

impl fmt::Debug for CompatDecryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompatDecryptor")
            .field("max_ranges", &self.max_ranges)
            .field("accept_unprotected", &self.accept_unprotected)
            .field("accept_empty", &self.accept_empty)
            .finish_non_exhaustive()
    }
}

/// What the first phase of receiving found in a frame.
pub(crate) enum Read {
    /// A trailer, to be opened with the key for its KID.
    Trailer(Trailer),
    /// No trailer, and the application accepts such frames.
    PassThrough(PassThrough),
}

/// Why a frame was refused before its KID was read: the errors that carry no KID.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refused {
    Empty,
    NotProtected,
    Trailer(TrailerError),
    Header(HeaderError),
}

impl From<TrailerError> for Refused {
    fn from(error: TrailerError) -> Self {
        Self::Trailer(error)
    }
}

impl From<HeaderError> for Refused {
    fn from(error: HeaderError) -> Self {
        Self::Header(error)
    }
}

impl From<Refused> for CompatDecryptError {
    fn from(refused: Refused) -> Self {
        match refused {
            Refused::Empty => Self::EmptyFrame,
            Refused::NotProtected => Self::NotProtected,
            Refused::Trailer(e) => Self::Trailer(e),
            Refused::Header(e) => Self::Header(e),
        }
    }
}

/// The parsed trailer of a received frame, before the key lookup: where its pieces are, as
/// offsets into the frame, so that the frame can then be split mutably without parsing again.
pub(crate) struct Trailer {
    /// `|I|`.
    inner_len: usize,
    header: Header,
    /// `H` unescaped: the bytes the AEAD authenticates.
    header_bytes: EncodedRaw,
    /// `T ‖ M` (where one ends depends on the key's suite), relative to the end of `I`.
    after_header_at: Range<usize>,
}

impl Trailer {
    /// `Ok(None)` when the frame does not end in the magic.
    pub(crate) fn parse(frame: &[u8]) -> Result<Option<Self>, Refused> {
        let Some((body, magic)) = frame.split_last_chunk::<2>() else {
            return Ok(None);
        };
        if *magic != MAGIC {
            return Ok(None);
        }
        let (body, l) = body
            .split_last_chunk::<2>()
            .ok_or(TrailerError::Truncated)?;
        let l = u16::from_be_bytes(*l);
        let len = usize::from(l & !AV1_WRAPPER_FLAG);
        if len < MIN_TRAILER_LEN {
            return Err(TrailerError::BadLength.into());
        }
        let inner_len = frame
            .len()
            .checked_sub(len)
            .ok_or(TrailerError::BadLength)?;
        let core = body.get(inner_len..).ok_or(TrailerError::BadLength)?;
        let core = if l & AV1_WRAPPER_FLAG == 0 {
            core
        } else {
            unwrap_av1(core)?
        };
        let (header, header_bytes, escaped_len) = decode_escaped_header(core)?;
        // `core` ends where `L` begins.
        let core_end = len - TRAILER_END_LEN;
        let header_end = core_end - core.len() + escaped_len;
        Ok(Some(Self {
            inner_len,
            header,
            header_bytes,
            after_header_at: header_end..core_end,
        }))
    }

    /// The SFrame header.
    pub(crate) fn header(&self) -> Header {
        self.header
    }
}

/// Strips the AV1 METADATA OBU header, size and type from the front of `core` (the trailer
/// without `L` and the magic). The OBU runs to the end of the frame.
fn unwrap_av1(core: &[u8]) -> Result<&[u8], TrailerError> {
    let bad = TrailerError::BadWrapper;
    let (&obu_header, rest) = core.split_first().ok_or(bad)?;
    if obu_header != OBU_METADATA_HEADER {
        return Err(bad);
    }
    let size = leb128::read(rest, OBU_SIZE_MAX_LEN).map_err(|_| bad)?;
    if !size.is_minimal() {
        return Err(bad);
    }
    let payload = rest.get(size.len..).ok_or(bad)?;
    let payload_len = payload.len().checked_add(TRAILER_END_LEN).ok_or(bad)?;
    if usize::try_from(size.value).ok() != Some(payload_len) {
        return Err(bad);
    }
    match payload.split_first() {
        Some((&AV1_METADATA_TYPE, rest)) => Ok(rest),
        _ => Err(bad),
    }
}

/// Why a frame could not be protected in the codec-aware (compat) mode (not part of RFC 9605).
///
/// On every error nothing is emitted: the frame must be dropped, never sent in the clear and
/// never protected under another codec's rules.
#[cfg(feature = "alloc")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CompatEncryptError {
    /// The frame does not parse as the codec ([`codec::plan`] refused it).
    #[error("frame refused by the codec layer: {0}")]
    Codec(#[from] codec::CodecError),
    /// The SFrame core refused: [`EncryptError::CounterExhausted`] (permanent for this key) or
    /// [`EncryptError::FrameTooLong`].
    #[error("SFrame encryption failed: {0}")]
    Encrypt(#[from] EncryptError),
    /// Every one of `attempts` counters gave an H.264/H.265 frame whose ciphertext or trailer
    /// emulates a start code (`00 00 00`, `00 00 01`, `00 00 02` or `00 00 03`). The counters
    /// tried are used up.
    #[error("start code emulation after {attempts} attempts")]
    AnnexBEmulation {
        /// How many counters were tried.
        attempts: u8,
    },
    /// The trailer would be longer than [`MAX_TRAILER_LEN`]
    /// bytes (a range map of thousands of ranges).
    #[error("compat trailer too long")]
    TrailerTooLong,
}

/// What is wrong with the trailer of a received compat frame: the `syntax` errors of the W3C
/// `SFrameTransformErrorEvent` (not part of RFC 9605).
#[cfg(feature = "alloc")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum TrailerError {
    /// The frame ends in the magic but has no room for the length field before it.
    #[error("compat trailer truncated")]
    Truncated,
    /// The length field `L` is below the smallest trailer (5 bytes) or larger than the frame.
    #[error("compat trailer length out of range")]
    BadLength,
    /// `L` announces the AV1 metadata OBU wrapper, but it is not `0x2A`, a minimal size that
    /// matches `L`, and the private `metadata_type`.
    #[error("malformed AV1 metadata OBU around the compat trailer")]
    BadWrapper,
    /// The trailer ends before the tag of the key's cipher suite does.
    #[error("compat trailer shorter than the tag")]
    TagTruncated,
    /// The escaped SFrame header holds `00 00` followed by `00`, `01` or `02`, or an escape
    /// `00 00 03` followed by a byte above `03`: not what a sender writes.
    #[error("malformed emulation prevention in the compat trailer's header")]
    BadEscape,
}

/// Why a compat frame could not be decrypted (not part of RFC 9605). On every error no key's
/// state changed; see [`CompatDecryptor::decrypt_in_place`] for what the frame holds.
///
/// [`kind`](Self::kind) gives the W3C `SFrameTransformErrorEvent` class of each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum CompatDecryptError {
    /// The frame does not end in the compat magic, and unprotected frames are not accepted.
    #[error("frame is not protected")]
    NotProtected,
    /// The frame is empty, and empty frames are not accepted (the codec's senders never send
    /// one; see [`CompatDecryptor::for_codec`]).
    #[error("empty frame")]
    EmptyFrame,
    /// The trailer is malformed.
    #[error("malformed compat trailer: {0}")]
    Trailer(#[from] TrailerError),
    /// The SFrame header inside the trailer is malformed.
    #[error("malformed SFrame header: {0}")]
    Header(#[from] HeaderError),
    /// The range map is malformed or does not fit the frame.
    #[error("malformed range map: {0}")]
    RangeMap(#[from] codec::RangeMapError),
    /// No receive key is installed for this KID; the frame is unchanged and may be retried once
    /// the key arrives (RFC 9605 §4.4.4).
    #[error("no receive key for KID {0}")]
    UnknownKeyId(KeyId),
    /// The anti-replay window rejected the counter.
    #[error("replayed or too old SFrame counter")]
    Replay,
    /// Authentication failed. Deliberately carries no detail.
    #[error("SFrame authentication failed")]
    Authentication,
}

impl CompatDecryptError {
    /// The W3C `SFrameTransformErrorEvent.errorType` of this error: a missing trailer, an
    /// empty frame, a malformed trailer, header or range map are `syntax`; an unknown KID is
    /// `keyID`; a replay or a failed tag is `authentication`.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownKeyId(_) => ErrorKind::KeyId,
            Self::Replay | Self::Authentication => ErrorKind::Authentication,
            Self::NotProtected
            | Self::EmptyFrame
            | Self::Trailer(_)
            | Self::Header(_)
            | Self::RangeMap(_) => ErrorKind::Syntax,
        }
    }

    /// Whether keeping the frame and trying again later can succeed: only for an unknown KID,
    /// once its key is installed.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::UnknownKeyId(_))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

    use super::*;
    use crate::header::Counter;

    fn has_start_code_prefix(bytes: &[u8]) -> bool {
        codec::with_zero_pair_finder(|finder| super::has_start_code_prefix(finder, bytes))
    }

    /// The search against the plain definition, on inputs long enough for the vectorized
    /// loops and with `00` bytes dense enough for every near miss: `00 00 04`, `00 00` at the
    /// end, overlapping runs of `00`.
    #[test]
    fn start_code_prefix_search_matches_its_definition() {
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        for len in [0, 1, 2, 3, 31, 32, 33, 63, 64, 65, 200, 1500] {
            for _ in 0..200 {
                let bytes: Vec<u8> = (0..len)
                    .map(|_| {
                        state ^= state << 13;
                        state ^= state >> 7;
                        state ^= state << 17;
                        // Mostly non-zero, `00` one byte in eight, `01`..`04` as likely.
                        match state % 16 {
                            0 | 1 => 0,
                            2 => 1,
                            3 => 2,
                            4 => 3,
                            5 => 4,
                            _ => state.to_le_bytes()[1] | 0x10,
                        }
                    })
                    .collect();
                let expected = bytes
                    .windows(3)
                    .any(|w| w[0] == 0 && w[1] == 0 && w[2] <= 3);
                assert_eq!(has_start_code_prefix(&bytes), expected, "{bytes:02x?}");
            }
        }
    }

    #[test]
    fn start_code_prefixes() {
        for bad in [[0, 0, 0], [0, 0, 1], [0, 0, 2], [0, 0, 3]] {
            assert!(has_start_code_prefix(&bad));
            for pad in 0..5 {
                let mut v = std::vec![0x55; pad];
                v.extend_from_slice(&bad);
                v.extend(std::iter::repeat_n(0x66, pad));
                assert!(has_start_code_prefix(&v), "{v:02x?}");
            }
        }
        for good in [
            &[0, 0, 4][..],
            &[0, 1, 0, 0],
            &[1, 0, 0],
            &[0, 0],
            &[],
            &[3, 0, 0, 4],
        ] {
            assert!(!has_start_code_prefix(good), "{good:02x?}");
        }
    }

    /// Headers whose KID or counter bytes hold zero runs, around the lengths where they
    /// change.
    fn awkward_values() -> Vec<u64> {
        let mut values = std::vec![0, 1, 7, 8, 0xff, 0x100, u64::MAX];
        for shift in 0..64 {
            for delta in [0u64, 1, 2, 3, 4, 0xff] {
                values.push((1u64 << shift).saturating_add(delta));
                values.push((0xffu64 << (shift / 8 * 8)).saturating_add(delta));
            }
        }
        values
    }

    #[test]
    fn escaped_headers_round_trip_and_never_emulate() {
        let values = awkward_values();
        for &kid in &values {
            for &ctr in &values {
                let header = Header::new(KeyId(kid), Counter(ctr));
                let escaped = EscapedHeader::new(header);
                let bytes = escaped.as_bytes();
                assert!(bytes.len() <= MAX_ESCAPED_HEADER_LEN);
                // No start code prefix, and every 00 00 03 is followed by 00..=03.
                for (i, w) in bytes.windows(3).enumerate() {
                    assert!(!matches!(w, [0, 0, 0..=2]), "{bytes:02x?}");
                    if w == [0, 0, 3] {
                        assert!(bytes.get(i + 3).is_some_and(|&b| b <= 3), "{bytes:02x?}");
                    }
                }
                // Followed by anything, it decodes to the header and its minimal encoding.
                let mut wire = bytes.to_vec();
                wire.extend_from_slice(&[0, 0, 1, 3]);
                let (decoded, raw, taken) = decode_escaped_header(&wire).unwrap();
                assert_eq!(decoded, header);
                assert_eq!(raw.as_bytes(), header.encode().as_bytes());
                assert_eq!(taken, bytes.len());
                // Cut short, it is truncated, never misread.
                for cut in 0..bytes.len() {
                    assert_eq!(
                        decode_escaped_header(&bytes[..cut]).err(),
                        Some(Refused::Header(HeaderError::Truncated))
                    );
                }
            }
        }
    }

    #[test]
    fn escaping_examples() {
        let escaped = |kid, ctr| {
            EscapedHeader::new(Header::new(KeyId(kid), Counter(ctr)))
                .as_bytes()
                .to_vec()
        };
        // KID 0x010000 (which v1 refused), CTR 2: the counter sits in the config byte, nothing
        // follows the KID's 00 00 within the header.
        assert_eq!(escaped(0x01_0000, 2), [0xa2, 0x01, 0x00, 0x00]);
        // KID 0x01000001: 01 00 00 01 becomes 01 00 00 03 01.
        assert_eq!(
            escaped(0x0100_0001, 0),
            [0xb0, 0x01, 0x00, 0x00, 0x03, 0x01]
        );
        // CTR 0x01000000: 01 00 00 00 becomes 01 00 00 03 00.
        assert_eq!(
            escaped(1, 0x0100_0000),
            [0x1b, 0x01, 0x00, 0x00, 0x03, 0x00]
        );
        // No zero pair: unchanged.
        assert_eq!(
            escaped(7, 0x1234),
            Header::new(KeyId(7), Counter(0x1234)).encode().as_bytes()
        );
    }

    #[test]
    fn non_canonical_escapes_are_refused() {
        // 00 00 01 inside the header would have been escaped.
        assert_eq!(
            decode_escaped_header(&[0xb0, 0x01, 0x00, 0x00, 0x01]).err(),
            Some(Refused::Trailer(TrailerError::BadEscape))
        );
        assert_eq!(
            decode_escaped_header(&[0x1b, 0x01, 0x00, 0x00, 0x00]).err(),
            Some(Refused::Trailer(TrailerError::BadEscape))
        );
        // 00 00 03 04: the 03 would not have been written (04 is not escaped).
        assert_eq!(
            decode_escaped_header(&[0xb0, 0x01, 0x00, 0x00, 0x03, 0x04]).err(),
            Some(Refused::Trailer(TrailerError::BadEscape))
        );
        // 00 00 03 03 is the escape of 00 00 03.
        assert!(
            decode_escaped_header(&[0xb0, 0x01, 0x00, 0x00, 0x03, 0x03])
                .is_ok_and(|(h, _, taken)| h.key_id() == KeyId(0x0100_0003) && taken == 6)
        );
        // An escape byte where none is needed is part of the header: a non-minimal value.
        assert!(
            decode_escaped_header(&[0x1b, 0x01, 0x00, 0x03, 0x00, 0x00])
                .is_ok_and(|(h, _, taken)| h.counter() == Counter(0x0100_0300) && taken == 5)
        );
    }

    #[test]
    fn trailer_scan_accepts_only_valid_escapes() {
        assert!(!emulates_in_trailer(&[0x55, 0, 0, 3, 1, 0x66]));
        assert!(!emulates_in_trailer(&[0, 0, 3, 3]));
        assert!(emulates_in_trailer(&[0, 0, 3, 4]));
        assert!(emulates_in_trailer(&[0x55, 0, 0, 3]));
        for bad in [[0, 0, 0], [0, 0, 1], [0, 0, 2]] {
            assert!(emulates_in_trailer(&bad));
        }
        assert!(!emulates_in_trailer(&[0, 0, 4, 0, 0]));
    }

    #[test]
    fn trailer_layout_limits() {
        let layout = TrailerLayout::new(false, 2, 16, 2).unwrap();
        assert_eq!(layout.len, 24);
        let wrapped = TrailerLayout::new(true, 2, 16, 2).unwrap();
        assert_eq!((wrapped.obu_size, wrapped.len), (Some(25), 27));
        assert!(TrailerLayout::new(false, 1, 4, MAX_TRAILER_LEN - 9).is_ok());
        assert_eq!(
            TrailerLayout::new(false, 1, 4, MAX_TRAILER_LEN - 8).unwrap_err(),
            CompatEncryptError::TrailerTooLong
        );
        assert!(TrailerLayout::new(false, 1, 4, usize::MAX).is_err());
    }
}
