//! The "SFU": one str0m `Rtc` in RTP mode per participant, forwarding every RTP packet one
//! participant sends to every other, through a [`Relay`] that can drop, reorder, duplicate and
//! corrupt packets, and that records every payload byte it forwarded.
//!
//! A real SFU terminates SRTP (it is each participant's DTLS peer), so it sees RTP headers and
//! payloads: what SFrame must keep from it is everything but clear codec bytes, the SFrame
//! header and the codec-aware trailer.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use str0m::media::{Mid, Pt};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::{Event, Rtc};

use crate::media::Kind;
use crate::net::{Clock, Endpoint};

/// A small deterministic generator (xorshift64*), so that every run of a seed is the same.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded (a zero seed is moved off zero).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(seed | 1)
    }

    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        #[expect(
            clippy::cast_precision_loss,
            clippy::as_conversions,
            reason = "a probability"
        )]
        let x = (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64;
        x < p
    }
}

/// What the relay does to packets, each with its probability.
#[derive(Clone, Copy, Debug, Default)]
pub struct Impairments {
    /// Drop the packet.
    pub drop: f64,
    /// Hold the packet back and send it after the next one of its stream.
    pub reorder: f64,
    /// Send the packet twice.
    pub duplicate: f64,
}

/// A packet the relay changed on purpose: one payload byte flipped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Corrupted {
    /// The sending participant.
    pub from: usize,
    /// The receiving participant.
    pub to: usize,
    /// The stream.
    pub kind: Kind,
    /// The packet's RTP timestamp: its frame.
    pub timestamp: u32,
}

/// The relay's counters and recording.
#[derive(Debug, Default)]
pub struct Relay {
    /// The impairments.
    pub impairments: Impairments,
    /// Flip one payload byte of the next packet of this stream (sender, kind) to each receiver.
    pub corrupt_next: Option<(usize, Kind)>,
    /// Record forwarded payloads in [`recorded`](Self::recorded).
    pub record: bool,
    /// Every payload byte forwarded, when recording.
    pub recorded: Vec<u8>,
    /// Packets forwarded (duplicates counted once).
    pub forwarded: u64,
    /// Payload bytes forwarded.
    pub forwarded_bytes: u64,
    /// Packets dropped on purpose.
    pub dropped: u64,
    /// Packets held back and sent late.
    pub reordered: u64,
    /// Packets sent twice.
    pub duplicated: u64,
    /// The packets corrupted on purpose.
    pub corrupted: Vec<Corrupted>,
}

struct Forward {
    pt: Pt,
    seq_no: SeqNo,
    timestamp: u32,
    marker: bool,
    payload: Arc<[u8]>,
}

/// One leg: the SFU's `Rtc` facing one participant.
pub struct Leg {
    /// The endpoint.
    pub ep: Endpoint,
    /// The mids on which this participant sends, and what.
    pub incoming: HashMap<Mid, Kind>,
    /// The mids on which this participant receives each (sender, kind).
    pub outgoing: HashMap<(usize, Kind), Mid>,
    /// Whether packets flow to and from it.
    pub active: bool,
}

impl std::fmt::Debug for Leg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Leg")
            .field("ep", &self.ep)
            .finish_non_exhaustive()
    }
}

/// The SFU.
pub struct Sfu {
    /// One leg per participant, by participant index.
    pub legs: Vec<Leg>,
    /// The relay between the legs.
    pub relay: Relay,
    rng: Rng,
    held: HashMap<(usize, Mid), Forward>,
    seen_corrupt: HashSet<usize>,
}

impl std::fmt::Debug for Sfu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sfu")
            .field("legs", &self.legs)
            .finish_non_exhaustive()
    }
}

impl Sfu {
    /// An SFU with no legs yet.
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self {
            legs: Vec::new(),
            relay: Relay::default(),
            rng: Rng::new(seed),
            held: HashMap::new(),
            seen_corrupt: HashSet::new(),
        }
    }

    /// Forwards every RTP packet the legs received since the last call.
    pub fn forward(&mut self, clock: &Clock) {
        for from in 0..self.legs.len() {
            let events = std::mem::take(&mut self.legs[from].ep.events);
            for e in events {
                let Event::RtpPacket(p) = e else { continue };
                if !self.legs[from].active {
                    continue;
                }
                let leg = &mut self.legs[from];
                let Some(mid) = leg
                    .ep
                    .rtc
                    .direct_api()
                    .stream_rx(&p.header.ssrc)
                    .map(|s| s.mid())
                else {
                    continue;
                };
                let Some(&kind) = leg.incoming.get(&mid) else {
                    continue;
                };
                let corrupt = self.relay.corrupt_next == Some((from, kind));
                if corrupt {
                    self.relay.corrupt_next = None;
                }
                for to in 0..self.legs.len() {
                    if to == from || !self.legs[to].active {
                        continue;
                    }
                    let Some(&out) = self.legs[to].outgoing.get(&(from, kind)) else {
                        continue;
                    };
                    let mut payload = p.payload.clone();
                    if corrupt {
                        let mut bytes = payload.to_vec();
                        let at = bytes.len() / 2;
                        bytes[at] ^= 0x01;
                        payload = bytes.into();
                        self.relay.corrupted.push(Corrupted {
                            from,
                            to,
                            kind,
                            timestamp: p.header.timestamp,
                        });
                        self.seen_corrupt.insert(to);
                    }
                    let f = Forward {
                        pt: p.header.payload_type,
                        seq_no: p.seq_no,
                        timestamp: p.header.timestamp,
                        marker: p.header.marker,
                        payload,
                    };
                    self.impair(to, out, f, corrupt, clock);
                }
            }
        }
    }

    fn impair(&mut self, to: usize, mid: Mid, f: Forward, corrupted: bool, clock: &Clock) {
        let imp = self.relay.impairments;
        // A corrupted packet is delivered: its frame must arrive and fail.
        if !corrupted && self.rng.chance(imp.drop) {
            self.relay.dropped += 1;
            return;
        }
        if !self.held.contains_key(&(to, mid)) && self.rng.chance(imp.reorder) {
            self.relay.reordered += 1;
            self.held.insert((to, mid), f);
            return;
        }
        let twice = self.rng.chance(imp.duplicate);
        self.send(to, mid, &f, clock);
        if twice {
            self.relay.duplicated += 1;
            self.send(to, mid, &f, clock);
        }
        if let Some(late) = self.held.remove(&(to, mid)) {
            self.send(to, mid, &late, clock);
        }
    }

    /// Sends every held-back packet.
    pub fn release_held(&mut self, clock: &Clock) {
        let held: Vec<_> = self.held.drain().collect();
        for ((to, mid), f) in held {
            self.send(to, mid, &f, clock);
        }
    }

    fn send(&mut self, to: usize, mid: Mid, f: &Forward, clock: &Clock) {
        let leg = &mut self.legs[to];
        if !leg.active {
            return;
        }
        self.relay.forwarded += 1;
        self.relay.forwarded_bytes += u64::try_from(f.payload.len()).unwrap_or(0);
        if self.relay.record {
            self.relay.recorded.extend_from_slice(&f.payload);
        }
        write_rtp(&mut leg.ep.rtc, mid, f, clock);
        leg.ep.drain();
    }
}

fn write_rtp(rtc: &mut Rtc, mid: Mid, f: &Forward, clock: &Clock) {
    let mut api = rtc.direct_api();
    let Some(tx) = api.stream_tx_by_mid(mid, None) else {
        panic!("SFU: no send stream for {mid}");
    };
    tx.write_rtp(
        RtpWrite::new(f.pt, f.seq_no, f.timestamp, clock.now, f.payload.clone())
            .marker(f.marker)
            .nackable(true),
    );
}
