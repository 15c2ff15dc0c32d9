//! The bundled clips of `test-data/media/` (VP8 in IVF, H.264 Annex B, Opus in Ogg), split into
//! the frames a sender's encoder hands over, and looped for longer calls. A trimmed copy of
//! the library's `tests/common/media.rs`.

use std::path::PathBuf;

/// Which media a stream carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// VP8 video, 15 frames a second.
    Vp8,
    /// H.264 (constrained baseline, two slices per picture) video, 15 frames a second.
    H264,
    /// Opus audio, 20 ms frames.
    Opus,
}

impl Kind {
    /// Frame duration in the RTP clock (90 kHz video, 48 kHz audio).
    #[must_use]
    pub fn rtp_ticks(self) -> u32 {
        match self {
            Self::Vp8 | Self::H264 => 6000,
            Self::Opus => 960,
        }
    }

    /// Frame duration in milliseconds (the clips are 15 fps and 20 ms).
    #[must_use]
    pub fn frame_ms(self) -> u64 {
        match self {
            Self::Vp8 | Self::H264 => 66,
            Self::Opus => 20,
        }
    }

    /// Video or audio.
    #[must_use]
    pub fn is_video(self) -> bool {
        !matches!(self, Self::Opus)
    }

    /// The codec of the library's codec-aware mode.
    #[must_use]
    pub fn codec(self) -> secure_frame::codec::Codec {
        match self {
            Self::Vp8 => secure_frame::codec::Codec::Vp8,
            Self::H264 => secure_frame::codec::Codec::H264,
            Self::Opus => secure_frame::codec::Codec::Opus,
        }
    }

    /// The frames of its clip.
    ///
    /// # Panics
    ///
    /// If the clip is missing or malformed.
    #[must_use]
    pub fn frames(self) -> Vec<Vec<u8>> {
        match self {
            Self::Vp8 => ivf_frames(&read("vp8.ivf")),
            Self::H264 => access_units(&read("h264-baseline.h264")),
            Self::Opus => opus_packets(&read("opus.ogg")),
        }
    }
}

/// `test-data/media/` of the workspace.
#[must_use]
pub fn media_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("test-data")
        .join("media")
}

fn read(file: &str) -> Vec<u8> {
    let path = media_dir().join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// IVF: a header (its length at bytes 6..8), then per frame a 12-byte header (u32 size, u64
/// timestamp, little-endian) and the frame.
fn ivf_frames(data: &[u8]) -> Vec<Vec<u8>> {
    assert_eq!(&data[..4], b"DKIF", "not an IVF file");
    let header_len = usize::from(u16::from_le_bytes([data[6], data[7]]));
    let mut rest = &data[header_len..];
    let mut frames = Vec::new();
    while !rest.is_empty() {
        let size = u32::from_le_bytes(rest[..4].try_into().unwrap());
        let size = usize::try_from(size).unwrap();
        frames.push(rest[12..12 + size].to_vec());
        rest = &rest[12 + size..];
    }
    frames
}

/// Splits an H.264 Annex B stream at its access unit delimiters (NAL type 9).
fn access_units(data: &[u8]) -> Vec<Vec<u8>> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 4 <= data.len() {
        if data[i..i + 3] == [0, 0, 1] && data[i + 3] & 0x1f == 9 {
            starts.push(if i > 0 && data[i - 1] == 0 { i - 1 } else { i });
            i += 3;
        } else {
            i += 1;
        }
    }
    starts
        .iter()
        .enumerate()
        .map(|(k, &s)| {
            let s = if k == 0 { 0 } else { s };
            let e = starts.get(k + 1).copied().unwrap_or(data.len());
            data[s..e].to_vec()
        })
        .collect()
}

/// The Opus packets of an Ogg Opus file, after `OpusHead` and `OpusTags`.
fn opus_packets(data: &[u8]) -> Vec<Vec<u8>> {
    let mut packets = Vec::new();
    let mut current = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        assert_eq!(&rest[..4], b"OggS", "bad Ogg page");
        let segments = usize::from(rest[26]);
        let lacing = &rest[27..27 + segments];
        let mut body = &rest[27 + segments..];
        for &len in lacing {
            let (segment, after) = body.split_at(usize::from(len));
            current.extend_from_slice(segment);
            body = after;
            if len < 255 {
                packets.push(std::mem::take(&mut current));
            }
        }
        rest = body;
    }
    assert!(packets[0].starts_with(b"OpusHead") && packets[1].starts_with(b"OpusTags"));
    packets.split_off(2)
}
