//! Audio (Opus, PCMU, PCMA, G.722): nothing stays clear (not part of RFC 9605).
//!
//! RTP audio payloads are opaque to packetizers and depacketizers, so the whole frame is
//! encrypted. `Policy::opus_keep_toc` keeps the Opus TOC byte (RFC 6716 §3.1: config, stereo
//! flag, frame count code) clear for SFUs that sniff the mode (what Jitsi does). A 0-byte
//! frame (Opus DTX) passes through untouched. RED is refused ([`Codec::from_mime`] does not know
//! it): an SFU that splits or rewrites RED would break a per-frame tag.
//!
//! [`Codec::from_mime`]: super::Codec::from_mime

use alloc::borrow::Cow;
use alloc::vec::Vec;

use super::error::CodecError;
use super::ranges::ClearRanges;
use super::vp8::check_ranges;
use super::{FramePlan, Framing, Plan, Policy};

/// Plans an Opus packet.
pub(crate) fn plan_opus<'a>(
    frame: &'a [u8],
    policy: &Policy,
    mut clear: ClearRanges,
    spare: Vec<u8>,
) -> Result<Plan<'a>, CodecError> {
    if frame.is_empty() {
        return Ok(Plan::PassThrough);
    }
    if policy.opus_keep_toc {
        clear.union_push(0, 1);
    }
    check_ranges(&clear, policy)?;
    Ok(Plan::Protect(FramePlan::new(
        Cow::Borrowed(frame),
        clear,
        spare,
        Framing::Opaque,
        None,
    )))
}

/// Plans a frame of a codec with no structure to keep (G.711, G.722).
pub(crate) fn plan_opaque(frame: &[u8], clear: ClearRanges, spare: Vec<u8>) -> Plan<'_> {
    if frame.is_empty() {
        return Plan::PassThrough;
    }
    Plan::Protect(FramePlan::new(
        Cow::Borrowed(frame),
        clear,
        spare,
        Framing::Opaque,
        None,
    ))
}
