//! Media containers (not RFC 9605): IVF, Annex B, Ogg, and the `SFAB` container that holds
//! RFC 9605 frames of an Annex B stream. Readers and writers: a file is read into frames, the
//! frames are replaced, and the same container is written around them.

use std::fmt;
use std::path::Path;

/// A container format, from `--format` or the file's extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// IVF (VP8, VP9, AV1 by `FourCC`).
    Ivf,
    /// Annex B H.264, one access unit per frame.
    H264,
    /// Annex B H.265, one access unit per frame.
    H265,
    /// Ogg Opus, one packet per frame.
    Ogg,
}

impl Format {
    /// The format of a file: the one its extension names; for `.sfab` the codec its `SFAB`
    /// header names.
    ///
    /// # Errors
    ///
    /// [`MediaError::UnknownExtension`]; [`MediaError::NotContainer`] for an `.sfab` file
    /// without a valid header.
    pub fn of_file(path: &Path, data: &[u8]) -> Result<Self, MediaError> {
        let sfab = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("sfab"));
        if !sfab {
            return Self::from_path(path);
        }
        match (data.get(..4), data.get(5)) {
            (Some(magic), Some(1)) if magic == SFAB_MAGIC => Ok(Self::H264),
            (Some(magic), Some(2)) if magic == SFAB_MAGIC => Ok(Self::H265),
            _ => Err(MediaError::NotContainer(SFAB, "no SFAB header")),
        }
    }

    /// The format a file name's extension names.
    ///
    /// # Errors
    ///
    /// [`MediaError::UnknownExtension`].
    pub fn from_path(path: &Path) -> Result<Self, MediaError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        match ext.as_str() {
            "ivf" => Ok(Self::Ivf),
            "h264" | "264" => Ok(Self::H264),
            "h265" | "hevc" | "265" => Ok(Self::H265),
            "ogg" | "opus" => Ok(Self::Ogg),
            _ => Err(MediaError::UnknownExtension(ext)),
            // `.sfab` needs the file's header: `of_file`.
        }
    }
}

/// Which Annex B codec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnnexB {
    /// H.264: 1-byte NAL header, AUD = type 9.
    H264,
    /// H.265: 2-byte NAL header, AUD = type 35.
    H265,
}

impl AnnexB {
    /// The `nal_unit_type` of a NAL unit whose first byte is `header`.
    #[must_use]
    pub fn nal_type(self, header: u8) -> u8 {
        match self {
            Self::H264 => header & 0x1f,
            Self::H265 => (header >> 1) & 0x3f,
        }
    }

    fn aud_type(self) -> u8 {
        match self {
            Self::H264 => 9,
            Self::H265 => 35,
        }
    }

    fn sfab_id(self) -> u8 {
        match self {
            Self::H264 => 1,
            Self::H265 => 2,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::H264 => "H.264",
            Self::H265 => "H.265",
        }
    }
}

/// Why a file could not be read as its container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaError {
    /// The extension names no container this tool knows.
    UnknownExtension(String),
    /// The file is not of the container it should be (bad magic, bad header).
    NotContainer(&'static str, &'static str),
    /// The file ends inside frame `index`.
    Truncated(&'static str, usize),
    /// Something else is wrong at frame or page `index`.
    Corrupt(&'static str, usize, &'static str),
    /// An Ogg file ends inside `page`, which holds audio frame `frame`.
    OggTruncated {
        /// The page index.
        page: usize,
        /// The audio frame (packet after `OpusHead` and `OpusTags`) it holds.
        frame: usize,
    },
    /// Something is wrong with Ogg `page`, which holds audio frame `frame`.
    OggCorrupt {
        /// The page index.
        page: usize,
        /// The audio frame it holds.
        frame: usize,
        /// What.
        why: &'static str,
    },
    /// A container this tool reads but a codec it does not handle.
    UnsupportedCodec(String),
    /// A frame too large for the container's length field.
    TooLarge(usize),
}

impl fmt::Display for MediaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownExtension(ext) if ext.is_empty() => {
                write!(
                    f,
                    "unknown container (no extension): use --format ivf|h264|h265|ogg"
                )
            }
            Self::UnknownExtension(ext) => write!(
                f,
                "unknown container (extension .{ext}): use --format ivf|h264|h265|ogg"
            ),
            Self::NotContainer(what, why) => write!(f, "not {what}: {why}"),
            Self::Truncated(what, i) => write!(f, "{what} truncated at frame {i}"),
            Self::Corrupt(what, i, why) => write!(f, "{what} corrupt at frame {i}: {why}"),
            Self::OggTruncated { page, frame } => {
                write!(f, "{OGG} truncated in page {page} (frames from {frame} on)")
            }
            Self::OggCorrupt { page, frame, why } => {
                write!(
                    f,
                    "{OGG} corrupt in page {page} (frames from {frame} on): {why}"
                )
            }
            Self::UnsupportedCodec(c) => write!(f, "unsupported codec {c}"),
            Self::TooLarge(i) => write!(f, "frame {i} too large for its container"),
        }
    }
}

impl std::error::Error for MediaError {}

/// A media file split into frames, with what is needed to write it again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Media {
    /// The container around the frames.
    pub container: Container,
    /// The frames, in file order.
    pub frames: Vec<Vec<u8>>,
}

/// The container, without its frames.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Container {
    /// IVF: the file header as it was and each frame's timestamp.
    Ivf {
        /// The file header (32 bytes or what its length field says).
        header: Vec<u8>,
        /// Per frame, its 64-bit timestamp.
        timestamps: Vec<u64>,
    },
    /// An Annex B byte stream: the frames are its access units, concatenated.
    AnnexB(AnnexB),
    /// `SFAB`: RFC 9605 frames of an Annex B stream, length-prefixed.
    Sfab(AnnexB),
    /// Ogg (one logical stream): the header packets and the page layout.
    Ogg(OggLayout),
}

impl Container {
    /// The codec's name and container, for messages.
    #[must_use]
    pub fn describe(&self) -> String {
        match self {
            Self::Ivf { header, .. } => {
                let fourcc = header.get(8..12).unwrap_or_default();
                format!("IVF {}", String::from_utf8_lossy(fourcc))
            }
            Self::AnnexB(c) => format!("{} Annex B", c.name()),
            Self::Sfab(c) => format!("{} in SFAB (RFC 9605 frames)", c.name()),
            Self::Ogg(_) => "Ogg Opus".to_owned(),
        }
    }

    /// The IVF `FourCC`.
    #[must_use]
    pub fn fourcc(&self) -> Option<[u8; 4]> {
        match self {
            Self::Ivf { header, .. } => header.get(8..12)?.try_into().ok(),
            _ => None,
        }
    }
}

/// Reads `data` as `format`. In RFC mode (`rfc_protected`) an Annex B format means the `SFAB`
/// container of protected frames.
///
/// # Errors
///
/// [`MediaError`] for anything that is not a well-formed file of the format.
pub fn read(format: Format, data: &[u8], rfc_protected: bool) -> Result<Media, MediaError> {
    match format {
        Format::Ivf => read_ivf(data),
        Format::H264 | Format::H265 => {
            let codec = if format == Format::H264 {
                AnnexB::H264
            } else {
                AnnexB::H265
            };
            if rfc_protected {
                read_sfab(data, codec)
            } else {
                Ok(Media {
                    container: Container::AnnexB(codec),
                    frames: access_units(data, codec)?,
                })
            }
        }
        Format::Ogg => read_ogg(data),
    }
}

/// Writes `frames` in `container`. An Annex B container with `rfc_protected` is written as
/// `SFAB`, and an `SFAB` one without it as Annex B.
///
/// # Errors
///
/// [`MediaError::TooLarge`] when a frame does not fit a length field.
pub fn write(
    container: &Container,
    frames: &[Vec<u8>],
    rfc_protected: bool,
) -> Result<Vec<u8>, MediaError> {
    match container {
        Container::Ivf { header, timestamps } => write_ivf(header, timestamps, frames),
        Container::AnnexB(codec) | Container::Sfab(codec) => {
            if rfc_protected {
                write_sfab(*codec, frames)
            } else {
                Ok(frames.concat())
            }
        }
        Container::Ogg(layout) => Ok(write_ogg(layout, frames)),
    }
}

/// A borrowed cursor (rustls `Reader` style).
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, rest) = self.rest.split_at_checked(n)?;
        self.rest = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }
}

// ---- IVF ------------------------------------------------------------------------------------

const IVF: &str = "an IVF file";

/// IVF: a header (`DKIF`, version u16, header length u16, `FourCC`, width u16, height u16, rate
/// u32, scale u32, frame count u32, unused u32; little-endian), then per frame a 12-byte header
/// (size u32, timestamp u64) and the frame.
fn read_ivf(data: &[u8]) -> Result<Media, MediaError> {
    let mut r = Reader { rest: data };
    let fixed = r.take(32).ok_or(MediaError::NotContainer(
        IVF,
        "shorter than its 32-byte header",
    ))?;
    if fixed.get(..4) != Some(b"DKIF") {
        return Err(MediaError::NotContainer(IVF, "no DKIF signature"));
    }
    let header_len = fixed
        .get(6..8)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map_or(0, |b| usize::from(u16::from_le_bytes(b)));
    if header_len < 32 {
        return Err(MediaError::NotContainer(IVF, "header length below 32"));
    }
    let extra = r
        .take(header_len - 32)
        .ok_or(MediaError::NotContainer(IVF, "shorter than its header"))?;
    let header = [fixed, extra].concat();
    let (mut frames, mut timestamps) = (Vec::new(), Vec::new());
    while !r.rest.is_empty() {
        let index = frames.len();
        let size: [u8; 4] = r.array().ok_or(MediaError::Truncated(IVF, index))?;
        let ts: [u8; 8] = r.array().ok_or(MediaError::Truncated(IVF, index))?;
        let size = usize::try_from(u32::from_le_bytes(size))
            .map_err(|_| MediaError::Corrupt(IVF, index, "frame size"))?;
        let frame = r.take(size).ok_or(MediaError::Truncated(IVF, index))?;
        frames.push(frame.to_vec());
        timestamps.push(u64::from_le_bytes(ts));
    }
    Ok(Media {
        container: Container::Ivf { header, timestamps },
        frames,
    })
}

fn write_ivf(header: &[u8], timestamps: &[u64], frames: &[Vec<u8>]) -> Result<Vec<u8>, MediaError> {
    let mut out = header.to_vec();
    let count = u32::try_from(frames.len()).map_err(|_| MediaError::TooLarge(frames.len()))?;
    if let Some(field) = out.get_mut(24..28) {
        field.copy_from_slice(&count.to_le_bytes());
    }
    for (i, frame) in frames.iter().enumerate() {
        let size = u32::try_from(frame.len()).map_err(|_| MediaError::TooLarge(i))?;
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&timestamps.get(i).copied().unwrap_or(0).to_le_bytes());
        out.extend_from_slice(frame);
    }
    Ok(out)
}

// ---- Annex B --------------------------------------------------------------------------------

/// One NAL unit: where its start code begins and its bytes.
#[derive(Clone, Copy, Debug)]
pub struct Nal<'a> {
    /// Offset of the start code (its leading `00` when it has 4 bytes).
    pub start_code_at: usize,
    /// The unit after its start code, up to the next start code.
    pub bytes: &'a [u8],
}

/// Splits an Annex B byte stream at every `00 00 01` (one `00` before it makes a 4-byte start
/// code), as libwebrtc's `FindNaluIndices` does.
#[must_use]
pub fn nal_units(data: &[u8]) -> Vec<Nal<'_>> {
    let mut codes = Vec::new();
    let mut i: usize = 0;
    while let Some(window) = data.get(i..i.saturating_add(3)) {
        if window == [0, 0, 1] {
            let four = i > 0 && data.get(i - 1) == Some(&0);
            codes.push(if four { (i - 1, 4) } else { (i, 3) });
            i += 3;
        } else {
            i += 1;
        }
    }
    codes
        .iter()
        .enumerate()
        .map(|(k, &(at, len))| {
            let end = codes.get(k + 1).map_or(data.len(), |&(next, _)| next);
            Nal {
                start_code_at: at,
                bytes: data.get(at + len..end).unwrap_or_default(),
            }
        })
        .collect()
}

/// Splits an Annex B stream into access units at every access unit delimiter; anything before
/// the first AUD belongs to the first unit. The units concatenated are the stream.
fn access_units(data: &[u8], codec: AnnexB) -> Result<Vec<Vec<u8>>, MediaError> {
    let what = match codec {
        AnnexB::H264 => "an H.264 Annex B stream",
        AnnexB::H265 => "an H.265 Annex B stream",
    };
    let nals = nal_units(data);
    if nals.is_empty() {
        return Err(MediaError::NotContainer(what, "no start code"));
    }
    let starts: Vec<usize> = nals
        .iter()
        .filter(|nal| {
            nal.bytes
                .first()
                .is_some_and(|&h| codec.nal_type(h) == codec.aud_type())
        })
        .map(|nal| nal.start_code_at)
        .collect();
    if starts.is_empty() {
        return Err(MediaError::NotContainer(
            what,
            "no access unit delimiters (frames are split at AUDs)",
        ));
    }
    let mut units = Vec::new();
    for (k, &start) in starts.iter().enumerate() {
        let start = if k == 0 { 0 } else { start };
        let end = starts.get(k + 1).copied().unwrap_or(data.len());
        units.push(data.get(start..end).unwrap_or_default().to_vec());
    }
    Ok(units)
}

// ---- SFAB: RFC 9605 frames of an Annex B stream ---------------------------------------------

const SFAB: &str = "an SFAB file";
/// The `SFAB` magic.
pub const SFAB_MAGIC: &[u8; 4] = b"SFAB";
/// The `SFAB` version this tool writes and reads.
pub const SFAB_VERSION: u8 = 1;

/// `SFAB` (this tool's own container, not RFC 9605): `"SFAB"`, version `01`, codec (`01` H.264,
/// `02` H.265), two reserved zero bytes; then per frame a u32 big-endian length and the frame.
fn read_sfab(data: &[u8], codec: AnnexB) -> Result<Media, MediaError> {
    let mut r = Reader { rest: data };
    let head: [u8; 8] = r.array().ok_or(MediaError::NotContainer(
        SFAB,
        "shorter than its 8-byte header",
    ))?;
    if head.get(..4) != Some(SFAB_MAGIC) {
        return Err(MediaError::NotContainer(
            SFAB,
            "no SFAB magic (RFC mode keeps Annex B frames in SFAB)",
        ));
    }
    if head.get(4) != Some(&SFAB_VERSION) || head.get(6..8) != Some(&[0, 0]) {
        return Err(MediaError::NotContainer(SFAB, "unknown version"));
    }
    if head.get(5) != Some(&codec.sfab_id()) {
        return Err(MediaError::NotContainer(SFAB, "it holds another codec"));
    }
    let mut frames = Vec::new();
    while !r.rest.is_empty() {
        let index = frames.len();
        let len: [u8; 4] = r.array().ok_or(MediaError::Truncated(SFAB, index))?;
        let len = usize::try_from(u32::from_be_bytes(len))
            .map_err(|_| MediaError::Corrupt(SFAB, index, "length"))?;
        frames.push(
            r.take(len)
                .ok_or(MediaError::Truncated(SFAB, index))?
                .to_vec(),
        );
    }
    Ok(Media {
        container: Container::Sfab(codec),
        frames,
    })
}

fn write_sfab(codec: AnnexB, frames: &[Vec<u8>]) -> Result<Vec<u8>, MediaError> {
    let mut out = SFAB_MAGIC.to_vec();
    out.extend_from_slice(&[SFAB_VERSION, codec.sfab_id(), 0, 0]);
    for (i, frame) in frames.iter().enumerate() {
        let len = u32::try_from(frame.len()).map_err(|_| MediaError::TooLarge(i))?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(frame);
    }
    Ok(out)
}

// ---- Ogg ------------------------------------------------------------------------------------

const OGG: &str = "an Ogg Opus file";
const OGG_CONTINUED: u8 = 1;
const OGG_BOS: u8 = 2;
const OGG_EOS: u8 = 4;
/// The granule position of a page on which no packet ends.
const NO_GRANULE: u64 = u64::MAX;

/// The page layout of an Ogg stream: the header packets (`OpusHead`, `OpusTags`), and for the
/// audio packets, the page each ended on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OggLayout {
    /// The stream serial number.
    pub serial: u32,
    /// `OpusHead` and `OpusTags`, written as they were, each on its own page(s).
    pub header_packets: Vec<Vec<u8>>,
    /// Per audio page of the input: how many packets ended on it, its granule position, and
    /// whether it was the last page (EOS).
    pub pages: Vec<OggPage>,
}

/// One page of the input's audio packets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OggPage {
    /// Packets that ended on the page.
    pub packets: usize,
    /// Its granule position.
    pub granule: u64,
    /// Whether it had the EOS flag.
    pub eos: bool,
}

/// CRC-32 of Ogg pages: polynomial 0x04c11db7, initial value 0, not reflected, no final XOR.
#[must_use]
pub fn ogg_crc(bytes: &[u8]) -> u32 {
    let mut crc: u32 = 0;
    for &b in bytes {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 == 0 {
                crc << 1
            } else {
                (crc << 1) ^ 0x04c1_1db7
            };
        }
    }
    crc
}

fn truncated(page: usize, packets: usize) -> MediaError {
    MediaError::OggTruncated {
        page,
        frame: packets.saturating_sub(2),
    }
}

fn corrupt(page: usize, packets: usize, why: &'static str) -> MediaError {
    MediaError::OggCorrupt {
        page,
        frame: packets.saturating_sub(2),
        why,
    }
}

/// Reads a single-stream Ogg Opus file (RFC 3533, RFC 7845), checking every page's CRC.
#[expect(
    clippy::too_many_lines,
    reason = "one pass over the pages, in the order of RFC 3533"
)]
fn read_ogg(data: &[u8]) -> Result<Media, MediaError> {
    let mut r = Reader { rest: data };
    let mut packets: Vec<Vec<u8>> = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    // Per page: (packets that ended on it, granule, eos).
    let mut pages: Vec<OggPage> = Vec::new();
    let mut serial = None;
    let mut page_index = 0;
    while !r.rest.is_empty() {
        let start = r.rest;
        let fixed: [u8; 27] = r.array().ok_or(truncated(page_index, packets.len()))?;
        if fixed.get(..4) != Some(b"OggS") {
            return Err(if page_index == 0 {
                MediaError::NotContainer(OGG, "no OggS capture pattern")
            } else {
                corrupt(page_index, packets.len(), "no OggS capture pattern")
            });
        }
        let field = |range: std::ops::Range<usize>| fixed.get(range).unwrap_or_default();
        if field(4..5) != [0] {
            return Err(corrupt(page_index, packets.len(), "unknown Ogg version"));
        }
        let flags = field(5..6).first().copied().unwrap_or(0);
        let granule = u64::from_le_bytes(field(6..14).try_into().unwrap_or_default());
        let page_serial = u32::from_le_bytes(field(14..18).try_into().unwrap_or_default());
        let crc = u32::from_le_bytes(field(22..26).try_into().unwrap_or_default());
        let segments = usize::from(field(26..27).first().copied().unwrap_or(0));
        if *serial.get_or_insert(page_serial) != page_serial {
            return Err(MediaError::Corrupt(
                OGG,
                page_index,
                "more than one logical stream",
            ));
        }
        let lacing = r
            .take(segments)
            .ok_or(truncated(page_index, packets.len()))?;
        let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        let mut body = r
            .take(body_len)
            .ok_or(truncated(page_index, packets.len()))?;
        let page_len = 27 + segments + body_len;
        let mut page = start.get(..page_len).unwrap_or_default().to_vec();
        if let Some(c) = page.get_mut(22..26) {
            c.fill(0);
        }
        if ogg_crc(&page) != crc {
            return Err(corrupt(page_index, packets.len(), "CRC mismatch"));
        }
        if (flags & OGG_CONTINUED != 0) != current.is_some() {
            return Err(MediaError::Corrupt(
                OGG,
                page_index,
                "continuation flag does not match the previous page",
            ));
        }
        let mut ended = 0;
        for &len in lacing {
            let (segment, after) = body
                .split_at_checked(usize::from(len))
                .ok_or(truncated(page_index, packets.len()))?;
            current
                .get_or_insert_with(Vec::new)
                .extend_from_slice(segment);
            body = after;
            if len < 255 {
                packets.push(current.take().unwrap_or_default());
                ended += 1;
            }
        }
        pages.push(OggPage {
            packets: ended,
            granule,
            eos: flags & OGG_EOS != 0,
        });
        page_index += 1;
    }
    if current.is_some() {
        return Err(truncated(page_index, packets.len()));
    }
    let mut packets = packets.into_iter();
    let head = packets
        .next()
        .ok_or(MediaError::NotContainer(OGG, "no OpusHead"))?;
    if !head.starts_with(b"OpusHead") {
        return Err(MediaError::NotContainer(
            OGG,
            "first packet is not OpusHead",
        ));
    }
    let tags = packets
        .next()
        .ok_or(MediaError::NotContainer(OGG, "no OpusTags"))?;
    if !tags.starts_with(b"OpusTags") {
        return Err(MediaError::NotContainer(
            OGG,
            "second packet is not OpusTags",
        ));
    }
    // Drop the pages of the two header packets (each on its own page(s), RFC 7845 §3).
    let mut header_left = 2;
    let mut audio_pages = Vec::new();
    for page in pages {
        if header_left > 0 {
            if page.packets > header_left {
                return Err(corrupt(0, 0, "audio on the page of a header packet"));
            }
            header_left -= page.packets;
            continue;
        }
        audio_pages.push(page);
    }
    Ok(Media {
        container: Container::Ogg(OggLayout {
            serial: serial.unwrap_or(0),
            header_packets: vec![head, tags],
            pages: audio_pages,
        }),
        frames: packets.collect(),
    })
}

/// Writes the stream: the header packets on their own pages, then the audio packets grouped
/// as in the input (the packets that ended on one input page end on one output page, with its
/// granule position). A group too long for one page is split over several; a split page on
/// which packets end gets a granule position interpolated by packet count (exact for the
/// constant frame duration of real-time Opus), one on which none ends gets -1 (RFC 3533).
fn write_ogg(layout: &OggLayout, frames: &[Vec<u8>]) -> Vec<u8> {
    let mut w = OggWriter {
        out: Vec::new(),
        serial: layout.serial,
        sequence: 0,
    };
    for (i, packet) in layout.header_packets.iter().enumerate() {
        let flags = if i == 0 { OGG_BOS } else { 0 };
        w.group(&[packet.as_slice()], 0, 0, flags, false);
    }
    let mut frames = frames.iter();
    let mut previous_granule = 0;
    let page_count = layout.pages.len();
    for (k, page) in layout.pages.iter().enumerate() {
        let group: Vec<&[u8]> = frames
            .by_ref()
            .take(page.packets)
            .map(Vec::as_slice)
            .collect();
        // Packets beyond the input's layout (none when the frame count is unchanged) go on the
        // last page.
        let mut group = group;
        if k + 1 == page_count {
            group.extend(frames.by_ref().map(Vec::as_slice));
        }
        if group.is_empty() {
            continue;
        }
        w.group(&group, previous_granule, page.granule, 0, page.eos);
        if page.packets > 0 {
            previous_granule = page.granule;
        }
    }
    let rest: Vec<&[u8]> = frames.map(Vec::as_slice).collect();
    if !rest.is_empty() {
        w.group(&rest, previous_granule, previous_granule, 0, true);
    }
    w.out
}

struct OggWriter {
    out: Vec<u8>,
    serial: u32,
    sequence: u32,
}

impl OggWriter {
    /// Writes `packets` on as few pages as they fit, the last one with `granule`.
    fn group(&mut self, packets: &[&[u8]], from_granule: u64, granule: u64, flags: u8, eos: bool) {
        // Lacing values per packet: len / 255 values of 255, then len % 255.
        let mut segments: Vec<(u8, usize, bool)> = Vec::new(); // (lacing, packet, last of packet)
        for (p, packet) in packets.iter().enumerate() {
            let mut left = packet.len();
            loop {
                let value = left.min(255);
                left -= value;
                let last = value < 255;
                segments.push((u8::try_from(value).unwrap_or(255), p, last));
                if last {
                    break;
                }
            }
        }
        let total = packets.len();
        let mut offsets = vec![0usize; total];
        let mut continued = false;
        let chunks: Vec<&[(u8, usize, bool)]> = if segments.is_empty() {
            vec![&[]]
        } else {
            segments.chunks(255).collect()
        };
        let chunk_count = chunks.len();
        let mut ended_so_far = 0u64;
        for (c, chunk) in chunks.iter().enumerate() {
            let last_page = c + 1 == chunk_count;
            let mut body = Vec::new();
            let mut ended = 0u64;
            for &(value, p, last) in *chunk {
                let packet = packets.get(p).copied().unwrap_or_default();
                let at = offsets.get(p).copied().unwrap_or(0);
                let end = at + usize::from(value);
                body.extend_from_slice(packet.get(at..end).unwrap_or_default());
                if let Some(o) = offsets.get_mut(p) {
                    *o = end;
                }
                if last {
                    ended += 1;
                }
            }
            ended_so_far += ended;
            let page_granule = if last_page {
                granule
            } else if ended == 0 {
                NO_GRANULE
            } else {
                let total = u64::try_from(total).unwrap_or(u64::MAX).max(1);
                let span = granule.saturating_sub(from_granule);
                from_granule.saturating_add(span.saturating_mul(ended_so_far) / total)
            };
            let mut page_flags = flags & OGG_BOS;
            if c > 0 {
                page_flags &= !OGG_BOS;
            }
            if continued {
                page_flags |= OGG_CONTINUED;
            }
            if last_page && eos {
                page_flags |= OGG_EOS;
            }
            self.page(page_flags, page_granule, chunk, &body);
            continued = chunk.last().is_some_and(|&(_, _, last)| !last);
        }
    }

    fn page(&mut self, flags: u8, granule: u64, lacing: &[(u8, usize, bool)], body: &[u8]) {
        let start = self.out.len();
        self.out.extend_from_slice(b"OggS");
        self.out.push(0);
        self.out.push(flags);
        self.out.extend_from_slice(&granule.to_le_bytes());
        self.out.extend_from_slice(&self.serial.to_le_bytes());
        self.out.extend_from_slice(&self.sequence.to_le_bytes());
        self.out.extend_from_slice(&[0; 4]);
        self.out.push(u8::try_from(lacing.len()).unwrap_or(255));
        self.out.extend(lacing.iter().map(|&(v, _, _)| v));
        self.out.extend_from_slice(body);
        let crc = ogg_crc(self.out.get(start..).unwrap_or_default());
        if let Some(field) = self.out.get_mut(start + 22..start + 26) {
            field.copy_from_slice(&crc.to_le_bytes());
        }
        self.sequence = self.sequence.wrapping_add(1);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]
    use super::*;

    #[test]
    fn bundled_clips_round_trip_byte_exact() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../test-data/media/");
        for (file, format, count) in [
            ("vp8.ivf", Format::Ivf, 10),
            ("vp9.ivf", Format::Ivf, 10),
            ("av1.ivf", Format::Ivf, 10),
            ("h264-main.h264", Format::H264, 10),
            ("h264-baseline.h264", Format::H264, 10),
            ("h265.h265", Format::H265, 10),
            ("opus.ogg", Format::Ogg, 21),
        ] {
            let data = std::fs::read(format!("{dir}{file}")).unwrap();
            let media = read(format, &data, false).unwrap();
            assert_eq!(media.frames.len(), count, "{file}");
            assert_eq!(
                write(&media.container, &media.frames, false).unwrap(),
                data,
                "{file}"
            );
            if matches!(format, Format::H264 | Format::H265) {
                let sfab = write(&media.container, &media.frames, true).unwrap();
                let back = read(format, &sfab, true).unwrap();
                assert_eq!(back.frames, media.frames);
            }
        }
    }

    #[test]
    fn ogg_splits_long_groups_over_pages() {
        let data = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../test-data/media/opus.ogg"
        ))
        .unwrap();
        let media = read(Format::Ogg, &data, false).unwrap();
        let big: Vec<Vec<u8>> = media
            .frames
            .iter()
            .map(|f| [f.as_slice(), &[7; 3000]].concat())
            .collect();
        let out = write(&media.container, &big, false).unwrap();
        let again = read(Format::Ogg, &out, false).unwrap();
        assert_eq!(again.frames, big);
    }
}
