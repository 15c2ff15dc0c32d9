//! `sframe inspect`: what an SFU sees of each frame without any key — the SFrame header (KID,
//! CTR, its length), the tag length each suite would imply, and for codec-aware frames the
//! trailer and the clear ranges its range map lists.

use std::path::PathBuf;

use anyhow::Context as _;
use secure_frame::codec::ClearRanges;
use secure_frame::{CipherSuite, Header};

use crate::UsageError;
use crate::media::{self, Format};

/// Which framing to read frames as.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum InspectMode {
    /// Codec-aware when the frame ends in the container's magic, RFC 9605 otherwise.
    Auto,
    /// RFC 9605 frames.
    Rfc,
    /// Codec-aware frames.
    CodecAware,
}

/// `sframe inspect`.
#[derive(Debug, clap::Args)]
pub struct InspectArgs {
    /// A protected media file.
    #[arg(required_unless_present = "hex", conflicts_with = "hex")]
    pub file: Option<PathBuf>,
    /// One frame, in hex.
    #[arg(long)]
    pub hex: Option<String>,
    /// The container, instead of the one the extension names.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// How to read each frame.
    #[arg(long, value_enum, default_value = "auto")]
    pub mode: InspectMode,
    /// The table as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One frame as an SFU sees it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FrameInfo {
    /// Index in the file.
    pub frame: usize,
    /// Bytes.
    pub size: usize,
    /// `rfc9605`, `codec-aware`, or `unreadable`.
    pub framing: &'static str,
    /// KID, when the header parsed.
    pub kid: Option<u64>,
    /// CTR, when the header parsed.
    pub ctr: Option<u64>,
    /// The encoded header's length.
    pub header_len: Option<usize>,
    /// Codec-aware: the whole trailer's length.
    pub trailer_len: Option<usize>,
    /// Codec-aware: whether the trailer sits in an AV1 metadata OBU.
    pub av1_wrapper: bool,
    /// Per tag length (16 for AES-GCM, 10, 8, 4 for AES-CTR-HMAC): the payload length (RFC
    /// mode) or the clear ranges its range map gives (codec-aware), when that reading holds.
    pub by_tag: Vec<TagReading>,
    /// Why the frame is not readable, if it is not.
    pub error: Option<String>,
}

/// One frame read with one tag length.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TagReading {
    /// The tag length, `Nt`.
    pub tag_len: usize,
    /// The suites with that tag length.
    pub suites: Vec<u16>,
    /// RFC mode: the ciphertext length without header and tag.
    pub payload_len: Option<usize>,
    /// Codec-aware: the clear ranges `[start, end)`.
    pub clear: Option<Vec<(usize, usize)>>,
    /// Bytes added to the frame: header and tag (RFC), the trailer (codec-aware).
    pub overhead: usize,
}

/// The distinct tag lengths of the suites this build has, with the suites.
fn tag_lengths() -> Vec<(usize, Vec<u16>)> {
    let mut out: Vec<(usize, Vec<u16>)> = Vec::new();
    for suite in CipherSuite::ALL {
        let nt = suite.tag_len();
        if let Some(entry) = out.iter_mut().find(|(t, _)| *t == nt) {
            entry.1.push(suite.id());
        } else {
            out.push((nt, vec![suite.id()]));
        }
    }
    out
}

/// Reads a ULEB128 number (at most 8 bytes), returning it and its length.
fn leb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, &b) in bytes.iter().enumerate().take(8) {
        value |= u64::from(b & 0x7f).checked_shl(u32::try_from(7 * i).ok()?)?;
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Reads a frame as RFC 9605.
#[must_use]
pub fn rfc(index: usize, frame: &[u8]) -> FrameInfo {
    let mut info = empty(index, frame.len(), "rfc9605");
    match Header::decode(frame) {
        Ok((h, hl)) => {
            info.kid = Some(h.key_id().0);
            info.ctr = Some(h.counter().0);
            info.header_len = Some(hl);
            for (nt, suites) in tag_lengths() {
                let payload_len = frame.len().checked_sub(hl + nt);
                info.by_tag.push(TagReading {
                    tag_len: nt,
                    suites,
                    payload_len,
                    clear: None,
                    overhead: hl + nt,
                });
            }
        }
        Err(e) => {
            info.framing = "unreadable";
            info.error = Some(format!("malformed SFrame header: {e}"));
        }
    }
    info
}

fn empty(frame: usize, size: usize, framing: &'static str) -> FrameInfo {
    FrameInfo {
        frame,
        size,
        framing,
        kid: None,
        ctr: None,
        header_len: None,
        trailer_len: None,
        av1_wrapper: false,
        by_tag: Vec::new(),
        error: None,
    }
}

/// Whether `frame` ends in the codec-aware container's magic.
#[must_use]
pub fn has_trailer_magic(frame: &[u8]) -> bool {
    frame.ends_with(&secure_frame::compat::MAGIC)
}

/// Reads a frame as the codec-aware container: `… ‖ [AV1 wrapper] H ‖ T ‖ M ‖ L ‖ FA FA`
/// (see the library's `compat` module docs).
#[must_use]
pub fn codec_aware(index: usize, frame: &[u8]) -> FrameInfo {
    let mut info = empty(index, frame.len(), "codec-aware");
    if let Err(e) = read_trailer(frame, &mut info) {
        info.framing = "unreadable";
        info.error = Some(e.to_owned());
    }
    info
}

fn read_trailer(frame: &[u8], info: &mut FrameInfo) -> Result<(), &'static str> {
    if !has_trailer_magic(frame) {
        return Err("not protected (no codec-aware trailer)");
    }
    let end = frame.len() - 2;
    let l = frame
        .get(end.checked_sub(2).ok_or("trailer truncated")?..end)
        .and_then(|b| <[u8; 2]>::try_from(b).ok())
        .map(u16::from_be_bytes)
        .ok_or("trailer truncated")?;
    let len = usize::from(l & 0x7fff);
    info.av1_wrapper = l & 0x8000 != 0;
    if len < 5 || len > frame.len() {
        return Err("trailer length out of range");
    }
    info.trailer_len = Some(len);
    let inner_len = frame.len() - len;
    let mut core = frame
        .get(inner_len..frame.len() - 4)
        .ok_or("trailer truncated")?;
    if info.av1_wrapper {
        let (&obu, rest) = core.split_first().ok_or("malformed AV1 wrapper")?;
        let (_, n) = leb128(rest).ok_or("malformed AV1 wrapper")?;
        let rest = rest.get(n..).ok_or("malformed AV1 wrapper")?;
        let (&kind, rest) = rest.split_first().ok_or("malformed AV1 wrapper")?;
        if obu != 0x2a || kind != secure_frame::compat::AV1_METADATA_TYPE {
            return Err("malformed AV1 wrapper");
        }
        core = rest;
    }
    let (h, hl) = Header::decode(core).map_err(|_| "malformed SFrame header in the trailer")?;
    info.kid = Some(h.key_id().0);
    info.ctr = Some(h.counter().0);
    info.header_len = Some(hl);
    let after = core.get(hl..).unwrap_or_default();
    for (nt, suites) in tag_lengths() {
        let Some(map) = after.get(nt..) else { continue };
        if let Ok(ranges) = ClearRanges::decode_map(map, inner_len, 1024) {
            info.by_tag.push(TagReading {
                tag_len: nt,
                suites,
                payload_len: None,
                clear: Some(ranges.iter().map(|r| (r.start, r.end)).collect()),
                overhead: len,
            });
        }
    }
    if info.by_tag.is_empty() {
        return Err("no tag length gives a valid range map");
    }
    Ok(())
}

/// Reads one frame as `mode` says.
#[must_use]
pub fn frame_info(index: usize, frame: &[u8], mode: InspectMode) -> FrameInfo {
    match mode {
        InspectMode::CodecAware => codec_aware(index, frame),
        InspectMode::Auto if has_trailer_magic(frame) => {
            let info = codec_aware(index, frame);
            if info.error.is_some() {
                rfc(index, frame)
            } else {
                info
            }
        }
        InspectMode::Rfc | InspectMode::Auto => rfc(index, frame),
    }
}

/// `sframe inspect`.
///
/// # Errors
///
/// Bad hex, an unreadable or malformed file.
pub fn run(args: &InspectArgs) -> anyhow::Result<bool> {
    let (frames, what) = if let Some(h) = &args.hex {
        let bytes = hex::decode(h.trim()).map_err(|e| UsageError(format!("--hex: {e}")))?;
        (vec![bytes], "one frame".to_owned())
    } else {
        let Some(path) = &args.file else {
            return Err(UsageError("a FILE or --hex is needed".into()).into());
        };
        let data =
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let format = match args.format {
            Some(f) => f,
            None => Format::of_file(path, &data).with_context(|| path.display().to_string())?,
        };
        let sfab = data.starts_with(media::SFAB_MAGIC);
        let m = media::read(format, &data, sfab).with_context(|| path.display().to_string())?;
        let what = format!("{}: {}", path.display(), m.container.describe());
        (m.frames, what)
    };
    let infos: Vec<FrameInfo> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| frame_info(i, f, args.mode))
        .collect();
    let readable = infos.iter().all(|i| i.error.is_none());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&infos)?);
    } else {
        print!("{}", table(&what, &infos));
    }
    Ok(readable)
}

/// The text table.
#[must_use]
pub fn table(what: &str, infos: &[FrameInfo]) -> String {
    use std::fmt::Write as _;
    let mut out = if infos.len() == 1 {
        format!("{what}\n")
    } else {
        format!("{what}, {} frames\n", infos.len())
    };
    let _ = writeln!(
        out,
        "{:>5} {:>6}  {:<11} {:>6} {:>6} {:>3}  overhead and clear bytes by tag length (suites)",
        "frame", "bytes", "framing", "KID", "CTR", "hdr"
    );
    let mut totals: Vec<(usize, usize)> = Vec::new();
    for i in infos {
        let opt = |v: Option<u64>| v.map_or("-".to_owned(), |v| v.to_string());
        let detail = if let Some(e) = &i.error {
            e.clone()
        } else {
            let parts: Vec<String> = i
                .by_tag
                .iter()
                .map(|t| {
                    let suites: Vec<String> = t.suites.iter().map(u16::to_string).collect();
                    let what = match &t.clear {
                        Some(ranges) => {
                            let clear: usize = ranges.iter().map(|(s, e)| e - s).sum();
                            let shown: Vec<String> = ranges
                                .iter()
                                .take(4)
                                .map(|(s, e)| format!("{s}..{e}"))
                                .collect();
                            let more = if ranges.len() > 4 { ",…" } else { "" };
                            format!(
                                "trailer {} B, clear {clear} B [{}{more}]",
                                t.overhead,
                                shown.join(",")
                            )
                        }
                        None => format!("+{} B", t.overhead),
                    };
                    format!("Nt {} ({}): {what}", t.tag_len, suites.join(","))
                })
                .collect();
            parts.join("; ")
        };
        for t in &i.by_tag {
            match totals.iter_mut().find(|(nt, _)| *nt == t.tag_len) {
                Some(entry) => entry.1 += t.overhead,
                None => totals.push((t.tag_len, t.overhead)),
            }
        }
        let _ = writeln!(
            out,
            "{:>5} {:>6}  {:<11} {:>6} {:>6} {:>3}  {detail}",
            i.frame,
            i.size,
            i.framing,
            opt(i.kid),
            opt(i.ctr),
            i.header_len.map_or("-".to_owned(), |h| h.to_string()),
        );
    }
    let totals: Vec<String> = totals
        .iter()
        .map(|(nt, sum)| format!("Nt {nt}: {sum} B"))
        .collect();
    if !totals.is_empty() {
        let _ = writeln!(out, "total overhead: {}", totals.join(", "));
    }
    out
}
