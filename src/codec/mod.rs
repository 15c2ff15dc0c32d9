//! Codec-aware clear ranges: which bytes of a frame stay clear (not part of RFC 9605).
//!
//! RFC 9605 encrypts whole frames and expects a codec-agnostic packetizer. The packetizers that
//! browsers ship today parse VP8, AV1 and H.264/H.265 frames, so a fully encrypted frame breaks
//! them. This module is the pure, crypto-free half of the codec-aware (compat) mode: given a
//! [`Codec`], a frame and a [`Policy`], [`plan`] returns a [`FramePlan`]: the frame *normalized*
//! the way the receiver's depacketizer will hand it over, the [`ClearRanges`] that must stay in
//! the clear (start codes, NAL/OBU headers, parameter sets, slice header starts, the VP8 frame
//! tag), the [`Framing`] and a key frame hint. The compat container encrypts the rest in place and
//! authenticates the clear bytes and the range map.
//!
//! Rule set v1:
//!
//! | codec | clear | notes |
//! |---|---|---|
//! | Opus, PCMU, PCMA, G.722 | nothing (`opus_keep_toc`: the TOC byte) | 0-byte frames pass through; RED is refused |
//! | VP8 | key frame bytes 0..10, delta byte 0 (`Vp8Delta::FrameTag`: 0..3) | key frames need ≥ 10 bytes and `9d 01 2a` at 3..6 |
//! | VP9 | nothing | |
//! | AV1 | each OBU's header, extension and size | temporal delimiters, tile lists and padding dropped; every size present and minimal |
//! | H.264 | start codes, NAL headers, parameter sets and other non-media units whole, slice headers up to the PPS id | 4-byte start codes, no trailing zero bytes, access unit delimiters dropped (see below) |
//! | H.265 | start codes, NAL headers, VPS/SPS/PPS whole, slice headers up to the PPS id | as H.264 |
//!
//! # H.264
//!
//! Per `nal_unit_type`: 1 and 5 keep the header and the bytes holding `first_mb_in_slice`,
//! `slice_type` and `pic_parameter_set_id`; 2–4 and 19 the header; 20 and 21 the header and its 3
//! extension bytes; 6 (SEI) the header, or everything with [`SeiPolicy::Clear`]; 9 (AUD) is dropped
//! (kept whole with [`Policy::keep_access_unit_delimiters`]); 7, 8 and 10–16 everything;
//! 0, 17, 18, 22 and 23 the header; 24–31 are refused.
//!
//! # H.265
//!
//! Per `nal_unit_type`: 0–9 and 16–21 keep the 2-byte header and the bytes holding the first
//! slice segment flag, `no_output_of_prior_pics_flag` (IRAP) and `slice_pic_parameter_set_id`
//! (only the header with [`H265Cover::HeaderOnly`]); 10–15 and 22–31 the header; 35 (AUD) is
//! dropped (kept whole with [`Policy::keep_access_unit_delimiters`]); 32–34 and 36–38
//! everything; 39 and 40 (SEI) the header, or everything with [`SeiPolicy::Clear`]; 41–47 the
//! header; 48–63 are refused.
//!
//! Every parser reads only inside the current NAL unit or OBU, never panics and never overflows.
//!
//! # Example
//!
//! ```
//! use secure_frame::codec::{Codec, Plan, Policy, plan};
//!
//! // One H.264 slice behind a 3-byte start code: `61` header, `e0` = first_mb 0, slice_type 0,
//! // pps_id 0, then slice data.
//! let frame = [0x00, 0x00, 0x01, 0x61, 0xe0, 0xfa, 0xfa, 0xfa];
//! let codec = Codec::from_mime("video/H264").unwrap();
//! let Ok(Plan::Protect(p)) = plan(codec, &frame, &Policy::default()) else {
//!     panic!("not an H.264 frame");
//! };
//! // Normalized to a 4-byte start code; the start code, header and slice header start stay clear.
//! assert_eq!(p.frame(), &[0x00, 0x00, 0x00, 0x01, 0x61, 0xe0, 0xfa, 0xfa, 0xfa]);
//! assert_eq!(p.clear().iter().collect::<Vec<_>>(), [0..6]);
//! assert_eq!(p.opaque().collect::<Vec<_>>(), [6..9]);
//!
//! // The range map the compat container authenticates and sends.
//! let mut map = Vec::new();
//! p.clear().encode_map(&mut map);
//! assert_eq!(map, [0, 6]);
//! ```

mod annexb;
mod audio;
mod av1;
mod bits;
mod error;
mod h264;
mod h265;
pub(crate) mod leb128;
mod ranges;
mod vp8;
mod vp9;

pub(crate) use annexb::with_zero_pair_finder;

use alloc::borrow::Cow;
use alloc::vec::Vec;
use core::str::FromStr;

pub use error::{CodecError, Field, Leb128ErrorKind, RangeMapError};
pub use ranges::{ClearIter, ClearRanges, OpaqueIter};

/// A media codec, as named by the W3C encoded transform's `mimeType`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// `audio/opus` (RFC 6716 packets).
    Opus,
    /// `audio/PCMU` (G.711 µ-law).
    Pcmu,
    /// `audio/PCMA` (G.711 A-law).
    Pcma,
    /// `audio/G722`.
    G722,
    /// `video/VP8` (RFC 6386 frames).
    Vp8,
    /// `video/VP9`.
    Vp9,
    /// `video/AV1` (low-overhead OBU format).
    Av1,
    /// `video/H264` (Annex B).
    H264,
    /// `video/H265` (Annex B).
    H265,
}

/// Every codec with its MIME type.
const MIME_TYPES: [(Codec, &str); 9] = [
    (Codec::Opus, "audio/opus"),
    (Codec::Pcmu, "audio/PCMU"),
    (Codec::Pcma, "audio/PCMA"),
    (Codec::G722, "audio/G722"),
    (Codec::Vp8, "video/VP8"),
    (Codec::Vp9, "video/VP9"),
    (Codec::Av1, "video/AV1"),
    (Codec::H264, "video/H264"),
    (Codec::H265, "video/H265"),
];

impl Codec {
    /// The codec for a MIME type such as `video/H264` or `audio/opus`, compared ASCII
    /// case-insensitively. `None` for anything else, including `audio/red`: RED is refused (an SFU
    /// that splits or converts RED would break the per-frame tag; negotiate it off).
    #[must_use]
    pub fn from_mime(mime: &str) -> Option<Self> {
        MIME_TYPES
            .iter()
            .find(|(_, name)| name.eq_ignore_ascii_case(mime))
            .map(|&(codec, _)| codec)
    }

    /// The MIME type in its usual spelling (`video/H264`, `audio/opus`, …).
    #[must_use]
    pub fn mime(self) -> &'static str {
        MIME_TYPES
            .iter()
            .find(|&&(codec, _)| codec == self)
            .map_or("", |&(_, name)| name)
    }

    /// How the codec's packetizer splits frames, and so what the compat container must preserve.
    #[must_use]
    pub fn framing(self) -> Framing {
        match self {
            Self::Opus | Self::Pcmu | Self::Pcma | Self::G722 | Self::Vp8 | Self::Vp9 => {
                Framing::Opaque
            }
            Self::Av1 => Framing::Av1Obu,
            Self::H264 | Self::H265 => Framing::AnnexB,
        }
    }
}

impl FromStr for Codec {
    type Err = CodecError;

    /// [`Codec::from_mime`] as a `Result`.
    ///
    /// # Errors
    ///
    /// [`CodecError::UnsupportedCodec`] for RED and unknown MIME types.
    fn from_str(mime: &str) -> Result<Self, CodecError> {
        Self::from_mime(mime).ok_or(CodecError::UnsupportedCodec)
    }
}

/// What the packetizer parses in a frame, so what the protected frame must still look like.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Framing {
    /// Nothing beyond the clear prefix (VP8, VP9, audio): the container may append its trailer.
    Opaque,
    /// Annex B NAL units (H.264, H.265): no start code may appear in opaque bytes or the trailer,
    /// and the trailer becomes the tail of the last NAL unit.
    AnnexB,
    /// AV1 OBUs with size fields: the trailer goes in a final metadata OBU.
    Av1Obu,
}

/// How much of a VP8 delta frame stays clear.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Vp8Delta {
    /// Byte 0, which holds the P (inverse key frame) bit the depacketizer reads (DAVE).
    #[default]
    OneByte,
    /// The 3-byte frame tag (parity with Jitsi and the `LiveKit` SDKs).
    FrameTag,
}

/// What happens to SEI NAL units (H.264 type 6, H.265 types 39 and 40).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SeiPolicy {
    /// Only the NAL header stays clear; the SEI payload (which may carry user data) is encrypted.
    #[default]
    Encrypt,
    /// The whole SEI unit stays clear (DAVE parity).
    Clear,
}

/// How much of an H.265 slice segment header stays clear.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum H265Cover {
    /// The NAL header plus the bytes holding `first_slice_segment_in_pic_flag`,
    /// `no_output_of_prior_pics_flag` (IRAP) and `slice_pic_parameter_set_id`.
    #[default]
    SliceHeaderCover,
    /// The 2-byte NAL header only (parity with DAVE and the `LiveKit` SDKs).
    HeaderOnly,
}

/// The sender's choices for the codec-aware mode. Fields are public; start from
/// [`Policy::default`] and change what you need.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Policy {
    /// Keep the Opus TOC byte clear. Default `false`.
    pub opus_keep_toc: bool,
    /// VP8 delta frames: one byte (default) or the 3-byte frame tag.
    pub vp8_delta: Vp8Delta,
    /// SEI NAL units: payload encrypted (default) or fully clear.
    pub sei: SeiPolicy,
    /// H.265 slices: header plus slice header cover (default) or header only.
    pub h265_cover: H265Cover,
    /// Keep H.264/H.265 access unit delimiters (H.264 type 9, H.265 type 35). Default `false`:
    /// normalization drops them, because the str0m, Pion and Medooze packetizers drop them while
    /// libwebrtc's forwards them, and the container authenticates every clear byte, so a frame
    /// that still had one would fail at a receiver behind a packetizer that dropped it. An AUD
    /// carries only `primary_pic_type`, which decoders do not need. Set `true` only when every
    /// packetizer on the path is known to forward AUDs.
    pub keep_access_unit_delimiters: bool,
    /// Extra sanity checks that no packetizer needs (VP9 frame marker). Default `false`.
    pub strict_syntax: bool,
    /// How many counters the container may try before giving up on an H.26x frame whose
    /// ciphertext emulates a start code. Default 10. Not used by [`plan`].
    pub max_attempts: u8,
    /// The most clear ranges a frame may have; [`plan`] refuses frames that need more, and a
    /// receiver should decode range maps with the same limit. Default 1024.
    pub max_ranges: usize,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            opus_keep_toc: false,
            vp8_delta: Vp8Delta::OneByte,
            sei: SeiPolicy::Encrypt,
            h265_cover: H265Cover::SliceHeaderCover,
            keep_access_unit_delimiters: false,
            strict_syntax: false,
            max_attempts: 10,
            max_ranges: 1024,
        }
    }
}

/// What to do with a frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan<'a> {
    /// Send the frame as it is: a 0-byte frame (audio DTX, or an empty VP8/VP9 frame) has nothing
    /// to protect, and receivers pass 0-byte frames through likewise.
    PassThrough,
    /// Protect the frame as planned.
    Protect(FramePlan<'a>),
}

/// A frame ready for the compat container: its normalized bytes, the ranges that stay clear,
/// the framing and a key frame hint.
///
/// Invariant: every clear range ends within [`FramePlan::frame`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FramePlan<'a> {
    frame: Cow<'a, [u8]>,
    clear: ClearRanges,
    /// The normalization buffer, when the frame did not need one.
    spare: Vec<u8>,
    framing: Framing,
    keyframe: Option<bool>,
}

/// Storage a plan fills and gives back ([`plan_reusing`], [`FramePlan::into_buffers`]): the
/// clear ranges and the buffer of a normalized frame. A sender that keeps one plans every
/// frame without allocating, once the buffers have grown to its frames.
#[derive(Clone, Debug, Default)]
pub struct PlanBuffers {
    clear: ClearRanges,
    frame: Vec<u8>,
}

impl PlanBuffers {
    /// Empty buffers.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The clear ranges of the last plan ([`FramePlan::into_rewritten`]).
    pub(crate) fn clear(&self) -> &ClearRanges {
        &self.clear
    }

    /// Makes `spare` the normalization buffer of the next plan.
    pub(crate) fn set_spare(&mut self, spare: Vec<u8>) {
        self.frame = spare;
    }

    /// The two buffers, emptied, for a planner.
    fn take(self) -> (ClearRanges, Vec<u8>) {
        let Self {
            mut clear,
            mut frame,
        } = self;
        clear.reset();
        frame.clear();
        (clear, frame)
    }
}

impl<'a> FramePlan<'a> {
    /// Builds a plan; the parsers guarantee `clear.end() <= frame.len()`. `spare` is the
    /// normalization buffer when `frame` does not hold it.
    fn new(
        frame: Cow<'a, [u8]>,
        clear: ClearRanges,
        spare: Vec<u8>,
        framing: Framing,
        keyframe: Option<bool>,
    ) -> Self {
        debug_assert!(clear.end() <= frame.len(), "clear ranges past the frame");
        Self {
            frame,
            clear,
            spare,
            framing,
            keyframe,
        }
    }

    /// Splits the plan for sealing in place: the normalized frame when normalization rewrote
    /// it (`None`: the input already is the normalized frame), and the plan's storage with the
    /// clear ranges still in it ([`PlanBuffers::clear`]) and the spare normalization buffer,
    /// if the plan had one.
    pub(crate) fn into_rewritten(self) -> (Option<Vec<u8>>, PlanBuffers) {
        match self.frame {
            Cow::Owned(frame) => (
                Some(frame),
                PlanBuffers {
                    clear: self.clear,
                    frame: Vec::new(),
                },
            ),
            Cow::Borrowed(_) => (
                None,
                PlanBuffers {
                    clear: self.clear,
                    frame: self.spare,
                },
            ),
        }
    }

    /// Gives the plan's storage back, to plan the next frame without allocating.
    #[must_use]
    pub fn into_buffers(self) -> PlanBuffers {
        let frame = match self.frame {
            Cow::Owned(frame) => frame,
            Cow::Borrowed(_) => self.spare,
        };
        PlanBuffers {
            clear: self.clear,
            frame,
        }
    }

    /// The normalized frame: what the receiver's depacketizer will hand over (H.26x: 4-byte
    /// start codes, no trailing zero bytes; AV1: no temporal delimiter, tile list or padding OBU,
    /// every size field present and minimal). Borrowed from the input when nothing changed.
    #[must_use]
    pub fn frame(&self) -> &[u8] {
        &self.frame
    }

    /// Whether normalization changed the frame (so [`FramePlan::frame`] is a new buffer).
    #[must_use]
    pub fn is_rewritten(&self) -> bool {
        matches!(self.frame, Cow::Owned(_))
    }

    /// The ranges of [`FramePlan::frame`] that stay clear.
    #[must_use]
    pub fn clear(&self) -> &ClearRanges {
        &self.clear
    }

    /// The ranges of [`FramePlan::frame`] to encrypt.
    #[must_use]
    pub fn opaque(&self) -> OpaqueIter<'_> {
        self.clear.opaque(self.frame.len())
    }

    /// How the packetizer will split the protected frame.
    #[must_use]
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// Whether the bitstream says key frame: VP8 P bit, VP9 `frame_type`, H.264 IDR present,
    /// H.265 IRAP present, AV1 sequence header first. `None` for audio, and for VP9 frames
    /// without a valid frame marker.
    #[must_use]
    pub fn keyframe(&self) -> Option<bool> {
        self.keyframe
    }

    /// The normalized frame and its clear ranges, for in-place encryption.
    #[must_use]
    pub fn into_parts(self) -> (Cow<'a, [u8]>, ClearRanges) {
        (self.frame, self.clear)
    }
}

/// Plans the protection of one encoded frame of `codec` under `policy` (rule set v1).
///
/// # Errors
///
/// Any [`CodecError`] when the frame does not parse as `codec` (see each variant), and
/// [`CodecError::TooManyRanges`] when it needs more than `policy.max_ranges` clear ranges. Such
/// a frame must be dropped, never sent in the clear.
pub fn plan<'a>(codec: Codec, frame: &'a [u8], policy: &Policy) -> Result<Plan<'a>, CodecError> {
    plan_reusing(codec, frame, policy, PlanBuffers::new())
}

/// [`plan`], filling `buffers` (from [`FramePlan::into_buffers`] of an earlier frame) instead
/// of allocating new ones.
///
/// # Errors
///
/// As [`plan`]; the buffers are then dropped.
pub fn plan_reusing<'a>(
    codec: Codec,
    frame: &'a [u8],
    policy: &Policy,
    buffers: PlanBuffers,
) -> Result<Plan<'a>, CodecError> {
    let (clear, out) = buffers.take();
    match codec {
        Codec::Opus => audio::plan_opus(frame, policy, clear, out),
        Codec::Pcmu | Codec::Pcma | Codec::G722 => Ok(audio::plan_opaque(frame, clear, out)),
        Codec::Vp8 => vp8::plan(frame, policy, clear, out),
        Codec::Vp9 => vp9::plan(frame, policy, clear, out),
        Codec::Av1 => av1::plan(frame, policy, clear, out),
        Codec::H264 => annexb::plan(frame, policy, h264::dropped, h264::classify, clear, out),
        Codec::H265 => annexb::plan(frame, policy, h265::dropped, h265::classify, clear, out),
    }
}
