//! The RTP payload format for SFrame (draft-ietf-avtcore-rtp-sframe-02, feature `rtp`; not
//! RFC 9605, and a draft: the wire format may still change).
//!
//! Sans-IO: no sockets and no RTP header handling. The application (or its WebRTC stack) owns
//! SSRC, sequence numbers, timestamps and the marker bit; this module owns what goes after the
//! RTP header:
//!
//! - the one-byte [`Descriptor`] (S, E, T bits, draft §4) in front of every payload;
//! - the [`Packetizer`] (draft §5.1): one SFrame ciphertext in, fragments of at most a given
//!   payload size out. **Per-frame** mode encrypts a whole media frame once and fragments the
//!   ciphertext ([`PayloadOrigin::Raw`], T = 0); **per-packet** mode encrypts each payload the
//!   codec's own packetizer produced ([`PayloadOrigin::Packetized`], T = 1), usually one
//!   packet each;
//! - the [`Depacketizer`] (draft §5.2): packets in, in any order, reassembled SFrame
//!   ciphertexts out, with a typed [`DepacketizeError`] for every group it gives up on;
//! - the per-SSRC key derivation (draft §7, [`stream_base_key`]), whose result is the base key
//!   of that stream's §5.1 ratchet ([`stream_ratchet_sender`], [`stream_ratchet_receiver`]).
//!
//! Encryption itself is the core's ([`Encryptor`](crate::Encryptor), a
//! [`SenderKeySession`](crate::SenderKeySession) in [`FrameFormat::Rfc9605`](crate::FrameFormat)):
//! this module never sees keys except in the derivation.
//!
//! ```
//! use secure_frame::rtp::{Depacketizer, Packetizer, PayloadOrigin, RtpPacket};
//!
//! let ciphertext = [7u8; 3000]; // an SFrame ciphertext of one video frame
//! let packetizer = Packetizer::new(1200)?;
//! let mut rx = Depacketizer::default();
//! for (i, fragment) in packetizer.fragments(&ciphertext, PayloadOrigin::Raw)?.enumerate() {
//!     let payload = fragment.to_payload(); // descriptor byte, then the fragment
//!     let seq = u16::try_from(i)? + 100;
//!     rx.push(RtpPacket { sequence_number: seq, payload_type: 96, timestamp: 9000, marker: fragment.descriptor().end, payload: &payload })?;
//! }
//! let frame = rx.poll().expect("complete")?;
//! assert_eq!(frame.data, ciphertext);
//! assert_eq!(frame.origin, PayloadOrigin::Raw);
//! # Ok::<(), Box<dyn core::error::Error>>(())
//! ```

use alloc::collections::{BTreeMap, BTreeSet, VecDeque};
use alloc::vec::Vec;

use crate::kdf::Prk;
use crate::ratchet::{RatchetBits, RatchetError, RatchetReceiver, RatchetSender, SenderKeyId};
use crate::secret::BaseKey;
use crate::suite::CipherSuite;

/// `"SFrame 1.0 RTP Stream"` (draft §7): the label of the per-SSRC derivation, 21 bytes.
pub const STREAM_LABEL: &[u8] = b"SFrame 1.0 RTP Stream";

// ---------------------------------------------------------------------------------------------
// Per-SSRC keys (draft §7, §8)
// ---------------------------------------------------------------------------------------------

// draft-ietf-avtcore-rtp-sframe §7
// ssrc_key = HKDF-Expand(HKDF-Extract(SSRC, base_key), "SFrame 1.0 RTP Stream", CipherSuite.Nh)
/// The base key of one RTP stream: `base_key` derived for `ssrc` (big-endian, the HKDF salt)
/// with the suite's hash, `Nh` bytes. It is the base key the stream's SFrame keys are derived
/// from (RFC 9605 §4.4.2) and the start of its §5.1 ratchet.
#[must_use]
pub fn stream_base_key(suite: CipherSuite, base_key: &BaseKey, ssrc: u32) -> BaseKey {
    let salt = ssrc.to_be_bytes();
    let ikm = base_key.expose_secret();
    let mut key = BaseKey::zeroed(suite.hash_len());
    Prk::extract(suite.hash(), &salt, ikm).expand(&[STREAM_LABEL], key.as_mut_bytes());
    key
}

/// The §5.1 ratchet sender of the stream `ssrc` (draft §8): the per-SSRC derivation is done
/// once, here, and every later ratchet step works on the stream's own key. Every stream of a
/// sender carries the same KIDs, with different keys.
///
/// # Errors
///
/// As [`RatchetSender::new`].
pub fn stream_ratchet_sender(
    suite: CipherSuite,
    bits: RatchetBits,
    generation: u64,
    base_key: &BaseKey,
    ssrc: u32,
) -> Result<RatchetSender, RatchetError> {
    RatchetSender::new(
        suite,
        bits,
        generation,
        stream_base_key(suite, base_key, ssrc),
    )
}

/// The receiving mirror of [`stream_ratchet_sender`]: a receiver of stream `ssrc` whose sender
/// distributed `base_key` at `key` (its session-wide key, before the per-SSRC step).
///
/// # Errors
///
/// As [`RatchetReceiver::new`].
pub fn stream_ratchet_receiver(
    suite: CipherSuite,
    bits: RatchetBits,
    key: SenderKeyId,
    base_key: &BaseKey,
    ssrc: u32,
) -> Result<RatchetReceiver, RatchetError> {
    RatchetReceiver::new(suite, bits, key, stream_base_key(suite, base_key, ssrc))
}

// ---------------------------------------------------------------------------------------------
// Payload descriptor (draft §4)
// ---------------------------------------------------------------------------------------------

/// Where the media an SFrame frame protects came from: the T bit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PayloadOrigin {
    /// T = 0: a whole media frame ("raw", as a WebRTC encoded transform sees it): per-frame
    /// mode. The receiver hands the decrypted frame to its pipeline.
    Raw,
    /// T = 1: one payload of the codec's own packetizer: per-packet mode. The receiver feeds
    /// the decrypted payload to the codec's depacketizer.
    Packetized,
}

/// The SFrame payload descriptor, the first byte of every SFrame RTP payload:
/// `|S|E|T|x x x x x|`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Descriptor {
    /// S: the first fragment of an SFrame frame.
    pub start: bool,
    /// E: the last fragment.
    pub end: bool,
    /// T: what the frame protects.
    pub origin: PayloadOrigin,
}

impl Descriptor {
    /// The descriptor's length: one byte.
    pub const LEN: usize = 1;
    const S: u8 = 0x80;
    const E: u8 = 0x40;
    const T: u8 = 0x20;

    /// The byte, with the five reserved bits zero.
    #[must_use]
    pub const fn to_byte(self) -> u8 {
        let mut b = 0;
        if self.start {
            b |= Self::S;
        }
        if self.end {
            b |= Self::E;
        }
        if matches!(self.origin, PayloadOrigin::Packetized) {
            b |= Self::T;
        }
        b
    }

    /// Reads a descriptor byte. The reserved bits are "for future use" (draft §4): ignored.
    #[must_use]
    pub const fn from_byte(b: u8) -> Self {
        Self {
            start: b & Self::S != 0,
            end: b & Self::E != 0,
            origin: if b & Self::T != 0 {
                PayloadOrigin::Packetized
            } else {
                PayloadOrigin::Raw
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Packetization (draft §5.1)
// ---------------------------------------------------------------------------------------------

/// Why a frame could not be packetized.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum PacketizeError {
    /// The payload size leaves no room after the descriptor byte.
    #[error("RTP payload size too small for the SFrame descriptor and one byte")]
    PayloadSize,
    /// An SFrame ciphertext is never empty (it starts with its header).
    #[error("empty SFrame ciphertext")]
    Empty,
}

/// Fragments SFrame ciphertexts into RTP payloads of at most `max_payload` bytes, descriptor
/// included (draft §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Packetizer {
    max_payload: usize,
}

impl Packetizer {
    /// A packetizer for RTP payloads of at most `max_payload` bytes (the MTU minus the RTP
    /// header, its extensions and SRTP's tag).
    ///
    /// # Errors
    ///
    /// [`PacketizeError::PayloadSize`] below 2 bytes.
    pub const fn new(max_payload: usize) -> Result<Self, PacketizeError> {
        if max_payload <= Descriptor::LEN {
            return Err(PacketizeError::PayloadSize);
        }
        Ok(Self { max_payload })
    }

    /// The largest payload it emits, descriptor included.
    #[must_use]
    pub const fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// How many packets `ciphertext_len` bytes take.
    #[must_use]
    pub const fn packet_count(&self, ciphertext_len: usize) -> usize {
        ciphertext_len.div_ceil(self.max_payload - Descriptor::LEN)
    }

    /// The fragments of `ciphertext`, in order: the first has S, the last E, every one the T
    /// bit of `origin`. Give each its own RTP packet with consecutive sequence numbers and the
    /// frame's timestamp; when the frame's marker bit is set, set each packet's marker to
    /// [`Fragment::marker`].
    ///
    /// # Errors
    ///
    /// [`PacketizeError::Empty`] for an empty ciphertext.
    pub fn fragments<'c>(
        &self,
        ciphertext: &'c [u8],
        origin: PayloadOrigin,
    ) -> Result<Fragments<'c>, PacketizeError> {
        if ciphertext.is_empty() {
            return Err(PacketizeError::Empty);
        }
        Ok(Fragments {
            chunks: ciphertext.chunks(self.max_payload - Descriptor::LEN),
            origin,
            first: true,
        })
    }
}

/// The fragments of one SFrame ciphertext ([`Packetizer::fragments`]).
#[derive(Clone, Debug)]
pub struct Fragments<'c> {
    chunks: core::slice::Chunks<'c, u8>,
    origin: PayloadOrigin,
    first: bool,
}

impl<'c> Iterator for Fragments<'c> {
    type Item = Fragment<'c>;

    fn next(&mut self) -> Option<Fragment<'c>> {
        let data = self.chunks.next()?;
        let descriptor = Descriptor {
            start: core::mem::take(&mut self.first),
            end: self.chunks.len() == 0,
            origin: self.origin,
        };
        Some(Fragment { descriptor, data })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.chunks.size_hint()
    }
}

impl ExactSizeIterator for Fragments<'_> {}

/// One RTP payload of an SFrame frame: its descriptor and a slice of the ciphertext.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment<'c> {
    descriptor: Descriptor,
    data: &'c [u8],
}

impl Fragment<'_> {
    /// The descriptor.
    #[must_use]
    pub const fn descriptor(&self) -> Descriptor {
        self.descriptor
    }

    /// The ciphertext bytes after the descriptor.
    #[must_use]
    pub const fn data(&self) -> &[u8] {
        self.data
    }

    /// The RTP marker bit of this packet when the frame's marker bit is set: E (draft §5.1).
    #[must_use]
    pub const fn marker(&self) -> bool {
        self.descriptor.end
    }

    /// The payload's length, descriptor included.
    #[must_use]
    pub const fn payload_len(&self) -> usize {
        self.data.len() + Descriptor::LEN
    }

    /// Writes the payload (descriptor, then the fragment) to `out`, returning its length.
    ///
    /// # Errors
    ///
    /// [`PacketizeError::PayloadSize`] when `out` is shorter than
    /// [`payload_len`](Self::payload_len).
    pub fn write_to(&self, out: &mut [u8]) -> Result<usize, PacketizeError> {
        let (first, rest) = out.split_first_mut().ok_or(PacketizeError::PayloadSize)?;
        let rest = rest
            .get_mut(..self.data.len())
            .ok_or(PacketizeError::PayloadSize)?;
        *first = self.descriptor.to_byte();
        rest.copy_from_slice(self.data);
        Ok(self.payload_len())
    }

    /// The payload as a new vector.
    #[must_use]
    pub fn to_payload(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(self.payload_len());
        v.push(self.descriptor.to_byte());
        v.extend_from_slice(self.data);
        v
    }
}

// ---------------------------------------------------------------------------------------------
// Depacketization (draft §5.2)
// ---------------------------------------------------------------------------------------------

/// Why the [`Depacketizer`] refused a packet ([`Depacketizer::push`]) or gave up on a group of
/// packets ([`Depacketizer::poll`]). Each names one packet or one group: nothing was
/// emitted from it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DepacketizeError {
    /// The payload has no descriptor byte (push).
    #[error("empty SFrame RTP payload")]
    EmptyPayload,
    /// A packet with this sequence number is already held or was already used (push).
    #[error("duplicate RTP sequence number")]
    Duplicate,
    /// The packet is older than the reorder window (push).
    #[error("RTP packet older than the reorder window")]
    TooOld,
    /// A group with S and E whose packets are not all there: a packet between was lost.
    #[error("SFrame RTP group with a missing packet")]
    Gap,
    /// Packets with no S packet before them: the frame's first packet was lost.
    #[error("SFrame RTP group without its first packet (S)")]
    MissingStart,
    /// Packets from an S packet on, with no E packet: the frame's last packet was lost.
    #[error("SFrame RTP group without its last packet (E)")]
    MissingEnd,
    /// The packets of a group do not all carry the same T bit (draft §5.2).
    #[error("SFrame RTP group with mixed T bits")]
    MixedOrigin,
    /// The packets of a group do not all carry the same payload type (draft §5.2).
    #[error("SFrame RTP group with mixed payload types")]
    MixedPayloadType,
    /// The packets of a group do not all carry the same RTP timestamp.
    #[error("SFrame RTP group with mixed timestamps")]
    MixedTimestamp,
    /// The group is longer than the frame bounds allow (bytes or packets).
    #[error("SFrame RTP group too large")]
    Oversize,
    /// The buffer was full: the oldest packets were dropped.
    #[error("SFrame RTP depacketizer buffer full")]
    Overflow,
}

/// One received RTP packet, as far as SFrame's payload format cares.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtpPacket<'p> {
    /// The RTP sequence number.
    pub sequence_number: u16,
    /// The RTP payload type.
    pub payload_type: u8,
    /// The RTP timestamp.
    pub timestamp: u32,
    /// The RTP marker bit.
    pub marker: bool,
    /// The RTP payload: descriptor, then the fragment.
    pub payload: &'p [u8],
}

/// A reassembled SFrame frame: the ciphertext and the metadata of its packets (draft §5.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SframePacketGroup {
    /// The payload type, the same in every packet.
    pub payload_type: u8,
    /// The RTP timestamp, the same in every packet.
    pub timestamp: u32,
    /// The marker bit of the last packet.
    pub marker: bool,
    /// The T bit, the same in every packet.
    pub origin: PayloadOrigin,
    /// The sequence number of the first packet.
    pub first_sequence_number: u16,
    /// How many packets it came in.
    pub packets: usize,
    /// The SFrame ciphertext: the fragments, concatenated, without their descriptors.
    pub data: Vec<u8>,
}

/// Bounds on what a [`Depacketizer`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DepacketizerLimits {
    /// How far behind the newest sequence number a packet may arrive; older held packets are
    /// given up on.
    pub reorder_window: u16,
    /// The most packets one frame may take.
    pub max_packets_per_frame: usize,
    /// The longest reassembled ciphertext.
    pub max_frame_len: usize,
    /// The most payload bytes held at once.
    pub max_buffered_bytes: usize,
}

impl Default for DepacketizerLimits {
    /// 512 packets of reordering, 1024 packets and 1 MiB per frame, 2 MiB held.
    fn default() -> Self {
        Self {
            reorder_window: 512,
            max_packets_per_frame: 1024,
            max_frame_len: 1 << 20,
            max_buffered_bytes: 2 << 20,
        }
    }
}

#[derive(Debug)]
struct Held {
    descriptor: Descriptor,
    payload_type: u8,
    timestamp: u32,
    marker: bool,
    data: Vec<u8>,
}

/// Reassembles SFrame frames from the RTP packets of one stream (one SSRC), in any order
/// (draft §5.2): a frame is emitted as soon as a run of consecutive sequence numbers from an
/// S packet to an E packet is held, even before older frames complete. Packets that fall
/// behind the reorder window without completing a frame are given up on, one typed error per
/// group. Sequence numbers are extended past their 16-bit wrap.
#[derive(Debug)]
pub struct Depacketizer {
    limits: DepacketizerLimits,
    held: BTreeMap<u64, Held>,
    held_bytes: usize,
    /// Sequence numbers already emitted, within the reorder window.
    used: BTreeSet<u64>,
    highest: Option<u64>,
    ready: VecDeque<Result<SframePacketGroup, DepacketizeError>>,
}

impl Default for Depacketizer {
    fn default() -> Self {
        Self::new(DepacketizerLimits::default())
    }
}

impl Depacketizer {
    /// A depacketizer with these bounds.
    #[must_use]
    pub fn new(limits: DepacketizerLimits) -> Self {
        Self {
            limits,
            held: BTreeMap::new(),
            held_bytes: 0,
            used: BTreeSet::new(),
            highest: None,
            ready: VecDeque::new(),
        }
    }

    /// The bounds.
    #[must_use]
    pub fn limits(&self) -> DepacketizerLimits {
        self.limits
    }

    /// How many packets are held, waiting for their frame to complete.
    #[must_use]
    pub fn held_packets(&self) -> usize {
        self.held.len()
    }

    /// How many payload bytes are held.
    #[must_use]
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Takes one packet. Completed frames and the groups given up on are then in
    /// [`poll`](Self::poll).
    ///
    /// # Errors
    ///
    /// [`DepacketizeError::EmptyPayload`], [`DepacketizeError::Duplicate`],
    /// [`DepacketizeError::TooOld`]: the packet was not kept.
    pub fn push(&mut self, packet: RtpPacket<'_>) -> Result<(), DepacketizeError> {
        let (&first, data) = packet
            .payload
            .split_first()
            .ok_or(DepacketizeError::EmptyPayload)?;
        let seq = self.extend(packet.sequence_number);
        let window = u64::from(self.limits.reorder_window);
        if self.highest.is_some_and(|h| seq.saturating_add(window) < h) {
            return Err(DepacketizeError::TooOld);
        }
        if self.held.contains_key(&seq) || self.used.contains(&seq) {
            return Err(DepacketizeError::Duplicate);
        }
        self.held_bytes = self.held_bytes.saturating_add(data.len());
        self.held.insert(
            seq,
            Held {
                descriptor: Descriptor::from_byte(first),
                payload_type: packet.payload_type,
                timestamp: packet.timestamp,
                marker: packet.marker,
                data: data.to_vec(),
            },
        );
        if self.highest.is_none_or(|h| seq > h) {
            self.highest = Some(seq);
        }
        self.complete_around(seq);
        self.age();
        Ok(())
    }

    /// The next completed frame, or the next group given up on, in the order they happened.
    pub fn poll(&mut self) -> Option<Result<SframePacketGroup, DepacketizeError>> {
        self.ready.pop_front()
    }

    /// Gives up on every held packet (at the end of a stream), reporting each group in
    /// [`poll`](Self::poll).
    pub fn flush(&mut self) {
        let all = core::mem::take(&mut self.held);
        self.held_bytes = 0;
        self.give_up(all);
    }

    /// The sequence number extended to 64 bits: the candidate nearest the highest seen.
    fn extend(&self, seq: u16) -> u64 {
        let Some(highest) = self.highest else {
            // Start one cycle in, so that packets from just before the first wrap below it.
            return (1 << 16) | u64::from(seq);
        };
        let cycle = highest >> 16;
        let candidates = [cycle.saturating_sub(1), cycle, cycle.saturating_add(1)]
            .map(|c| (c << 16) | u64::from(seq));
        let mut best = candidates[1];
        for c in candidates {
            if c.abs_diff(highest) < best.abs_diff(highest) {
                best = c;
            }
        }
        best
    }

    /// Emits the frame `seq` belongs to if every packet of it is now held.
    fn complete_around(&mut self, seq: u64) {
        let max = self.limits.max_packets_per_frame;
        // Back to the S packet, over consecutive held packets.
        let mut start = seq;
        let mut steps = 0;
        loop {
            let Some(p) = self.held.get(&start) else {
                return;
            };
            if p.descriptor.start {
                break;
            }
            steps += 1;
            if steps >= max {
                return;
            }
            start = start.saturating_sub(1);
            // The packet before an E packet belongs to the frame before.
            if self.held.get(&start).is_some_and(|p| p.descriptor.end) {
                return;
            }
        }
        // Forward to the E packet.
        let mut end = seq;
        loop {
            let Some(p) = self.held.get(&end) else {
                return;
            };
            if p.descriptor.end {
                break;
            }
            end = end.saturating_add(1);
            if self.held.get(&end).is_some_and(|p| p.descriptor.start) {
                return;
            }
        }
        let group: BTreeMap<u64, Held> = {
            let mut tail = self.held.split_off(&start);
            let mut after = tail.split_off(&end.saturating_add(1));
            self.held.append(&mut after);
            tail
        };
        for (&s, p) in &group {
            self.held_bytes = self.held_bytes.saturating_sub(p.data.len());
            self.used.insert(s);
        }
        let result = self.assemble(group);
        self.ready.push_back(result);
    }

    /// Checks and concatenates one complete S..E run.
    fn assemble(&self, group: BTreeMap<u64, Held>) -> Result<SframePacketGroup, DepacketizeError> {
        let mut packets = group.into_iter();
        let (first_seq, first) = packets.next().ok_or(DepacketizeError::MissingStart)?;
        let count = packets.len().saturating_add(1);
        if count > self.limits.max_packets_per_frame {
            return Err(DepacketizeError::Oversize);
        }
        let mut frame = SframePacketGroup {
            payload_type: first.payload_type,
            timestamp: first.timestamp,
            marker: first.marker,
            origin: first.descriptor.origin,
            first_sequence_number: u16::try_from(first_seq & 0xffff).unwrap_or(0),
            packets: count,
            data: first.data,
        };
        let mut error = None;
        for (_, p) in packets {
            if p.descriptor.origin != frame.origin {
                error.get_or_insert(DepacketizeError::MixedOrigin);
            }
            if p.payload_type != frame.payload_type {
                error.get_or_insert(DepacketizeError::MixedPayloadType);
            }
            if p.timestamp != frame.timestamp {
                error.get_or_insert(DepacketizeError::MixedTimestamp);
            }
            if frame.data.len().saturating_add(p.data.len()) > self.limits.max_frame_len {
                error.get_or_insert(DepacketizeError::Oversize);
            }
            if error.is_none() {
                frame.data.extend_from_slice(&p.data);
            }
            frame.marker = p.marker;
        }
        if frame.data.len() > self.limits.max_frame_len {
            error.get_or_insert(DepacketizeError::Oversize);
        }
        error.map_or(Ok(frame), Err)
    }

    /// Gives up on packets behind the reorder window, and on the oldest while over the byte
    /// bound; forgets used sequence numbers behind the window.
    fn age(&mut self) {
        let Some(highest) = self.highest else {
            return;
        };
        let floor = highest.saturating_sub(u64::from(self.limits.reorder_window));
        let keep = self.held.split_off(&floor);
        let mut old = core::mem::replace(&mut self.held, keep);
        // The rest of a group whose first packets fell behind can never complete: give up on
        // it with them, so that one lost packet is one error.
        if !old.is_empty() {
            while let Some(entry) = self.held.first_entry() {
                if entry.get().descriptor.start {
                    break;
                }
                let (seq, p) = entry.remove_entry();
                let end = p.descriptor.end;
                old.insert(seq, p);
                if end {
                    break;
                }
            }
        }
        for p in old.values() {
            self.held_bytes = self.held_bytes.saturating_sub(p.data.len());
        }
        self.give_up(old);
        self.used = self.used.split_off(&floor);
        // Over the byte bound: drop the oldest packets, and the rest of their group.
        let mut overflowed = false;
        while self.held_bytes > self.limits.max_buffered_bytes {
            let Some((_, p)) = self.held.pop_first() else {
                break;
            };
            self.held_bytes = self.held_bytes.saturating_sub(p.data.len());
            overflowed = true;
        }
        if overflowed {
            self.ready.push_back(Err(DepacketizeError::Overflow));
        }
    }

    /// One error per group among packets that will never complete a frame.
    fn give_up(&mut self, packets: BTreeMap<u64, Held>) {
        // A group: from an S packet (or the first packet) to an E packet (or the last one
        // before the next S).
        let mut group: Option<(u64, u64, bool, bool)> = None; // (first, last, has S, gap)
        let mut close = |group: Option<(u64, u64, bool, bool)>, has_end: bool| {
            if let Some((_, _, has_start, gap)) = group {
                let error = if !has_start {
                    DepacketizeError::MissingStart
                } else if gap {
                    DepacketizeError::Gap
                } else if has_end {
                    // A complete run is emitted when its last packet arrives: only a run the
                    // frame bounds refused ends here.
                    DepacketizeError::Oversize
                } else {
                    DepacketizeError::MissingEnd
                };
                self.ready.push_back(Err(error));
            }
        };
        for (seq, p) in packets {
            if p.descriptor.start {
                close(group.take(), false);
            }
            group = Some(match group {
                None => (seq, seq, p.descriptor.start, false),
                Some((first, last, s, gap)) => {
                    (first, seq, s, gap || seq != last.saturating_add(1))
                }
            });
            if p.descriptor.end {
                close(group.take(), true);
            }
        }
        close(group, false);
    }
}
