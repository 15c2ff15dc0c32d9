//! A call: participants, each a str0m `Rtc` connected to the [`Sfu`], exchanging the bundled
//! clips at their frame rate, protected by `secure-frame`.
//!
//! Three ways to carry SFrame, the [`Mode`]:
//! - [`Mode::CodecAware`]: str0m's own packetizers (frame-level `Writer::write`, `MediaData`
//!   events); frames in the library's codec-aware format.
//! - [`Mode::PerFrame`] and [`Mode::PerPacket`]: RFC 9605 frames in SFrame's own RTP payload
//!   format (`secure_frame::rtp`, draft-ietf-avtcore-rtp-sframe) over str0m's RTP-level API,
//!   with `a=sframe` in both SDPs.
//!
//! Keys: one session per participant and stream kind (a codec-aware session is of one codec),
//! each stream keyed with the draft's per-SSRC derivation from the participant's root key of
//! the generation, so that no two streams share a key. Root keys come from P-256 ECDH between
//! two participants, and are HPKE-sealed sender keys (`agreement::seal_sender_key`) in a group.
//! Every frame sent is written down in a ledger, by a hash of its wire bytes: a frame that
//! arrives unchanged must decrypt to what was sent; one that the relay corrupted must not.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use secure_frame::agreement::{KeyPair, PublicKey, Role, agree, open_sender_key, seal_sender_key};
use secure_frame::codec::{Plan, Policy, plan};
use secure_frame::rtp::{
    DepacketizeError, Depacketizer, Packetizer, PayloadOrigin, RtpPacket as SframeRtp,
    stream_base_key,
};
use secure_frame::{
    BaseKey, CipherSuite, ErrorKind, FrameFormat, ParticipantId, SenderKeyId, SenderKeyLayout,
    SenderKeySession, UnprotectError, Unprotected,
};
use str0m::change::{SdpAnswer, SdpOffer};
use str0m::format::Codec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid, Pt};
use str0m::rtp::{RtpWrite, SeqNo};
use str0m::unversioned::{Depacketizer as _, Packetizer as _, Vp8Depacketizer, Vp8Packetizer};
use str0m::{Event, Rtc};

use crate::media::Kind;
use crate::net::{self, Clock, Endpoint};
use crate::sfu::{Impairments, Leg, Sfu};

/// The cipher suite of every call.
pub const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;
/// The RTP payload size of SFrame packets (per-frame and per-packet modes).
pub const MAX_PAYLOAD: usize = 1100;
/// What per-packet mode leaves for SFrame: descriptor, header (up to 17) and tag (16).
const PER_PACKET_OVERHEAD: usize = 1 + 17 + 16;
/// Ledger entries are forgotten after this long (virtual).
const LEDGER_MS: u64 = 5_000;

/// How SFrame travels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Codec-aware frames through str0m's packetizers.
    CodecAware,
    /// RFC 9605 frames, one ciphertext per frame fragmented by `secure_frame::rtp`.
    PerFrame,
    /// RFC 9605 frames, one ciphertext per payload of the codec's packetizer (str0m's VP8
    /// packetizer; Opus frames are one payload each).
    PerPacket,
}

impl Mode {
    /// Whether the participants run str0m in RTP mode.
    #[must_use]
    pub fn rtp_mode(self) -> bool {
        !matches!(self, Self::CodecAware)
    }
}

/// The shape of a call.
#[derive(Clone, Debug)]
pub struct CallConfig {
    /// How SFrame travels.
    pub mode: Mode,
    /// How many participants (2 uses ECDH, more HPKE-sealed sender keys).
    pub participants: usize,
    /// The streams each participant sends.
    pub kinds: Vec<Kind>,
    /// The relay's impairments.
    pub impairments: Impairments,
    /// Whether the relay records what it forwards.
    pub record: bool,
    /// The seed of the relay's randomness.
    pub seed: u64,
    /// How long after a key rotation its key reaches the other participants (virtual ms).
    pub key_delay_ms: u64,
    /// The codec-aware rules every sender uses. The default drops H.264/H.265 access unit
    /// delimiters in normalization, as str0m's packetizers do.
    pub policy: Policy,
}

impl Default for CallConfig {
    fn default() -> Self {
        Self {
            mode: Mode::CodecAware,
            participants: 2,
            kinds: vec![Kind::Vp8, Kind::Opus],
            impairments: Impairments::default(),
            record: true,
            seed: 1,
            key_delay_ms: 30,
            policy: Policy::default(),
        }
    }
}

/// What one participant saw.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Frames sent (all streams).
    pub sent: u64,
    /// Frames that arrived (depacketized by str0m or by `secure_frame::rtp`).
    pub received: u64,
    /// Frames that decrypted (released buffered ones included), each compared with the sent
    /// frame.
    pub decrypted: u64,
    /// Of those, released from the unknown-KID buffer after their key arrived.
    pub released: u64,
    /// Unprotect failures by W3C error kind; `keyID` counts frames that were buffered.
    pub failed: BTreeMap<String, u64>,
    /// SFrame packets the depacketizer gave up on, by error.
    pub depacketize_errors: BTreeMap<String, u64>,
    /// Bytes of its frames the relay could read in the clear (codec bytes kept clear by the
    /// codec-aware format; headers and trailers not counted).
    pub clear_bytes: u64,
    /// Bytes of its frames it encrypted.
    pub opaque_bytes: u64,
}

/// An unprotect failure of one frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Failure {
    /// Who sent it.
    pub from: usize,
    /// Which stream.
    pub kind: Kind,
    /// Its RTP timestamp.
    pub timestamp: u32,
    /// The error.
    pub error: UnprotectError,
}

#[derive(Clone, Debug)]
struct Sent {
    from: usize,
    kind: Kind,
    /// The frame's index in its clip.
    index: usize,
    /// Per-packet mode: the codec payload this packet protects.
    payload: Option<Vec<u8>>,
    at_ms: u64,
}

/// Every frame (per-packet mode: every packet) sent, by a hash of its wire bytes.
#[derive(Debug, Default)]
struct Ledger {
    sent: HashMap<u64, Sent>,
    order: VecDeque<(u64, u64)>,
}

impl Ledger {
    fn insert(&mut self, wire: &[u8], sent: Sent) {
        let h = hash(wire);
        self.order.push_back((sent.at_ms, h));
        self.sent.insert(h, sent);
    }

    fn get(&self, wire: &[u8]) -> Option<&Sent> {
        self.sent.get(&hash(wire))
    }

    fn purge(&mut self, now_ms: u64) {
        while let Some(&(at, h)) = self.order.front() {
            if at + LEDGER_MS > now_ms {
                break;
            }
            self.order.pop_front();
            if self.sent.get(&h).is_some_and(|s| s.at_ms == at) {
                self.sent.remove(&h);
            }
        }
    }

    fn len(&self) -> usize {
        self.sent.len()
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}

/// One clip, with what the receiver must get back for each frame.
#[derive(Debug)]
struct Clip {
    frames: Vec<Vec<u8>>,
    /// The normalized frame (codec-aware mode), or the frame itself.
    expected: Vec<Vec<u8>>,
    /// Clear bytes per frame (codec-aware mode).
    clear: Vec<u64>,
}

impl Clip {
    fn new(kind: Kind, mode: Mode, policy: &Policy) -> Self {
        let frames = kind.frames();
        let mut expected = Vec::new();
        let mut clear = Vec::new();
        for f in &frames {
            if mode == Mode::CodecAware {
                match plan(kind.codec(), f, policy).expect("plan") {
                    Plan::Protect(p) => {
                        clear.push(
                            p.clear()
                                .iter()
                                .map(|r| u64::try_from(r.len()).unwrap())
                                .sum(),
                        );
                        expected.push(p.frame().to_vec());
                    }
                    other @ Plan::PassThrough => panic!("{kind:?}: frame not protected: {other:?}"),
                }
            } else {
                clear.push(0);
                expected.push(f.clone());
            }
        }
        Self {
            frames,
            expected,
            clear,
        }
    }

    /// 16-byte windows of plaintext that must not be in the relay's recording: from the
    /// encrypted bytes of each frame.
    fn secret_windows(&self, kind: Kind, mode: Mode, policy: &Policy) -> Vec<[u8; 16]> {
        let mut out = Vec::new();
        for f in &self.expected {
            let runs: Vec<std::ops::Range<usize>> = if mode == Mode::CodecAware {
                match plan(kind.codec(), f, policy).expect("plan") {
                    Plan::Protect(p) => p.opaque().collect(),
                    Plan::PassThrough => Vec::new(),
                }
            } else {
                std::iter::once(0..f.len()).collect()
            };
            for r in runs {
                if r.len() >= 32 {
                    let w: [u8; 16] = f[r.start + 8..r.start + 24].try_into().unwrap();
                    // Runs of one byte (silence) are not a secret worth checking.
                    if w.iter().any(|&b| b != w[0]) {
                        out.push(w);
                    }
                }
            }
        }
        out
    }
}

#[derive(Debug)]
struct SendStream {
    kind: Kind,
    mid: Mid,
    pt: Pt,
    ssrc: u32,
    /// Extended RTP sequence number (RTP modes).
    seq: u64,
    vp8: Vp8Packetizer,
}

/// Per-packet mode: the decrypted codec payloads of one frame, by extended sequence number.
#[derive(Debug, Default)]
struct CodecFrame {
    index: Option<usize>,
    payloads: BTreeMap<u64, (bool, Vec<u8>)>,
}

#[derive(Debug)]
struct RecvStream {
    depacketizer: Depacketizer,
    last_seq: Option<u64>,
    frames: BTreeMap<u32, CodecFrame>,
}

impl RecvStream {
    /// Extends a 16-bit sequence number near the last one seen.
    fn extend(&mut self, seq: u16) -> u64 {
        let ext = match self.last_seq {
            None => (1 << 16) | u64::from(seq),
            Some(last) => {
                let low = u16::try_from(last & 0xffff).unwrap();
                let delta = i64::from(seq.wrapping_sub(low).cast_signed());
                last.checked_add_signed(delta).unwrap()
            }
        };
        if self.last_seq.is_none_or(|l| ext > l) {
            self.last_seq = Some(ext);
        }
        ext
    }
}

/// A frame (per-packet mode: a packet) in a session's unknown-KID buffer.
#[derive(Debug)]
struct Buffered {
    from: usize,
    kind: Kind,
    index: usize,
    expected: Vec<u8>,
    /// Per-packet mode: where the payload goes once released.
    packet: Option<(u32, u64, bool)>,
}

/// Keys waiting to reach a participant.
#[derive(Debug)]
enum Install {
    /// An HPKE envelope with the sender's root key.
    Envelope(Vec<u8>),
    /// A root key agreed by ECDH (the receiving half).
    Direct(SenderKeyId, BaseKey),
}

/// One participant.
pub struct Participant {
    /// Its index.
    pub id: usize,
    /// Its str0m endpoint.
    pub ep: Endpoint,
    /// One session per stream kind: sends mine, receives everyone's of that kind.
    pub sessions: BTreeMap<Kind, SenderKeySession>,
    /// Whether it is in the call.
    pub active: bool,
    /// What it saw.
    pub stats: Stats,
    /// Every unprotect failure but unknown KIDs.
    pub failures: Vec<Failure>,
    identity: KeyPair,
    generation: u64,
    send: Vec<SendStream>,
    recv_mids: HashMap<Mid, (usize, Kind)>,
    recv: HashMap<(usize, Kind), RecvStream>,
    /// Unknown-KID frames waiting in the sessions, with what they must decrypt to.
    buffered: Vec<Buffered>,
    /// Per participant, per kind, the SSRC its stream key is derived with.
    peers_ssrc: HashMap<(usize, Kind), u32>,
}

impl std::fmt::Debug for Participant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Participant")
            .field("id", &self.id)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

/// Sizes of what a participant holds, to show that a long call stays flat.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Footprint {
    /// Frames in the sessions' unknown-KID buffers.
    pub pending_frames: usize,
    /// Their bytes.
    pub pending_bytes: usize,
    /// Receivers (one per sender per kind) in the sessions.
    pub receivers: usize,
    /// Packets held by the SFrame depacketizers.
    pub held_packets: usize,
    /// Frames of codec payloads waiting (per-packet mode).
    pub codec_frames: usize,
}

/// A whole call.
pub struct Call {
    /// The shape.
    pub config: CallConfig,
    /// The participants.
    pub participants: Vec<Participant>,
    /// The SFU.
    pub sfu: Sfu,
    /// The virtual clock.
    pub clock: Clock,
    clips: BTreeMap<Kind, Clip>,
    ledger: Ledger,
    installs: Vec<(u64, usize, usize, Install)>,
    frame_index: BTreeMap<Kind, u64>,
    next_send: BTreeMap<Kind, Instant>,
    /// Participants that left at some point.
    pub left: Vec<usize>,
}

impl std::fmt::Debug for Call {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Call")
            .field("participants", &self.participants)
            .finish_non_exhaustive()
    }
}

fn name(i: usize) -> Vec<u8> {
    format!("participant-{i}").into_bytes()
}

fn codec_of(kind: Kind) -> Codec {
    match kind {
        Kind::Vp8 => Codec::Vp8,
        Kind::H264 => Codec::H264,
        Kind::Opus => Codec::Opus,
    }
}

fn media_kind(kind: Kind) -> MediaKind {
    if kind.is_video() {
        MediaKind::Video
    } else {
        MediaKind::Audio
    }
}

fn pt_for(rtc: &Rtc, kind: Kind) -> Pt {
    let codec = codec_of(kind);
    rtc.codec_config()
        .params()
        .iter()
        .find(|p| p.spec().codec == codec)
        .map_or_else(
            || panic!("no PT for {codec:?}"),
            str0m::format::PayloadParams::pt,
        )
}

/// Adds `a=sframe` after every `a=mid:` line (draft §6).
fn with_sframe(sdp: &str) -> String {
    let mut out = String::new();
    for line in sdp.split_inclusive("\r\n") {
        out.push_str(line);
        if line.starts_with("a=mid:") {
            out.push_str("a=sframe\r\n");
        }
    }
    out
}

/// Whether every media section of `sdp` has `a=sframe`.
fn all_sframe(sdp: &str) -> bool {
    let sections: Vec<&str> = sdp.split("\r\nm=").skip(1).collect();
    !sections.is_empty() && sections.iter().all(|s| s.contains("\r\na=sframe\r\n"))
}

fn peak_rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// The process's resident set and its peak, in KiB (Linux; zeros elsewhere).
#[must_use]
pub fn rss_kib() -> (u64, u64) {
    peak_rss_kib()
}

impl Call {
    /// Connects every participant to the SFU and distributes the first keys.
    ///
    /// # Panics
    ///
    /// If str0m refuses the SDP or the connections do not come up.
    #[must_use]
    pub fn new(config: CallConfig) -> Self {
        let mut clock = Clock::new();
        let n = config.participants;
        let mode = config.mode;
        let mut sfu = Sfu::new(config.seed);
        sfu.relay.impairments = config.impairments;
        sfu.relay.record = config.record;
        let mut participants = Vec::new();
        for i in 0..n {
            let cfg = Rtc::builder().set_rtp_mode(mode.rtp_mode());
            let mut ep = Endpoint::new(&format!("p{i}"), cfg, clock.now);
            let mut leg = Endpoint::new(
                &format!("sfu{i}"),
                Rtc::builder().set_rtp_mode(true),
                clock.now,
            );
            let mut api = ep.rtc.sdp_api();
            let mut own = Vec::new();
            for &k in &config.kinds {
                own.push((
                    k,
                    api.add_media(media_kind(k), Direction::SendOnly, None, None, None),
                ));
            }
            let mut recv_mids = HashMap::new();
            let mut outgoing = HashMap::new();
            for j in (0..n).filter(|&j| j != i) {
                for &k in &config.kinds {
                    let mid = api.add_media(media_kind(k), Direction::RecvOnly, None, None, None);
                    recv_mids.insert(mid, (j, k));
                    outgoing.insert((j, k), mid);
                }
            }
            let (offer, pending) = api.apply().expect("offer");
            let mut offer = offer.to_sdp_string();
            if mode.rtp_mode() {
                offer = with_sframe(&offer);
            }
            let offer = SdpOffer::from_sdp_string(&offer).expect("offer parses");
            let answer = leg.rtc.sdp_api().accept_offer(offer).expect("accept offer");
            let mut answer = answer.to_sdp_string();
            // str0m never writes `a=sframe` itself: the answerer adds it, the offerer checks.
            if mode.rtp_mode() {
                answer = with_sframe(&answer);
                assert!(all_sframe(&answer), "a=sframe in every answer section");
            }
            let answer = SdpAnswer::from_sdp_string(&answer).expect("answer parses");
            ep.rtc
                .sdp_api()
                .accept_answer(pending, answer)
                .expect("accept answer");
            ep.drain();
            leg.drain();
            let mut send = Vec::new();
            for (k, mid) in own {
                send.push(SendStream {
                    kind: k,
                    mid,
                    pt: Pt::from(0),
                    ssrc: 0,
                    seq: 0,
                    vp8: Vp8Packetizer::default(),
                });
            }
            let sessions = config
                .kinds
                .iter()
                .map(|&k| {
                    let mut s = SenderKeySession::new(
                        SUITE,
                        SenderKeyLayout::default(),
                        ParticipantId(i as u64),
                    )
                    .expect("session");
                    if mode == Mode::CodecAware {
                        s = s
                            .with_format(FrameFormat::CodecAware(k.codec()))
                            .with_codec_policy(config.policy.clone());
                    }
                    (k, s)
                })
                .collect();
            participants.push(Participant {
                id: i,
                ep,
                sessions,
                active: true,
                stats: Stats::default(),
                failures: Vec::new(),
                identity: KeyPair::generate(&mut secure_frame::os_rng()),
                generation: 0,
                send,
                recv_mids,
                recv: HashMap::new(),
                buffered: Vec::new(),
                peers_ssrc: HashMap::new(),
            });
            let incoming = participants[i]
                .send
                .iter()
                .map(|s| (s.mid, s.kind))
                .collect();
            sfu.legs.push(Leg {
                ep: leg,
                incoming,
                outgoing,
                active: true,
            });
        }
        // Connect.
        let until = clock.now + Duration::from_secs(5);
        loop {
            let connected = participants.iter().all(|p| p.ep.rtc.is_connected())
                && sfu.legs.iter().all(|l| l.ep.rtc.is_connected());
            if connected {
                break;
            }
            assert!(clock.now < until, "connections did not come up");
            let mut eps: Vec<&mut Endpoint> = participants
                .iter_mut()
                .map(|p| &mut p.ep)
                .chain(sfu.legs.iter_mut().map(|l| &mut l.ep))
                .collect();
            net::turn(&mut eps, &mut clock, until);
        }
        for p in &mut participants {
            p.ep.events.clear();
            let rtp_mode = mode.rtp_mode();
            for s in &mut p.send {
                s.pt = if rtp_mode {
                    pt_for(&p.ep.rtc, s.kind)
                } else {
                    let writer = p.ep.rtc.writer(s.mid).expect("writer");
                    let codec = codec_of(s.kind);
                    writer
                        .payload_params()
                        .find(|pp| pp.spec().codec == codec)
                        .map(str0m::format::PayloadParams::pt)
                        .expect("pt")
                };
                let mut api = p.ep.rtc.direct_api();
                let tx = api.stream_tx_by_mid(s.mid, None).expect("send stream");
                s.ssrc = *tx.ssrc();
            }
        }
        for l in &mut sfu.legs {
            l.ep.events.clear();
        }
        // The SSRCs each participant's stream keys derive from, told to everyone (signalling).
        let ssrcs: Vec<(usize, Kind, u32)> = participants
            .iter()
            .flat_map(|p| p.send.iter().map(|s| (p.id, s.kind, s.ssrc)))
            .collect();
        for p in &mut participants {
            for &(j, k, ssrc) in &ssrcs {
                p.peers_ssrc.insert((j, k), ssrc);
            }
        }
        let clips = config
            .kinds
            .iter()
            .map(|&k| (k, Clip::new(k, mode, &config.policy)))
            .collect();
        let next_send = config.kinds.iter().map(|&k| (k, clock.now)).collect();
        let frame_index = config.kinds.iter().map(|&k| (k, 0)).collect();
        let mut call = Self {
            config,
            participants,
            sfu,
            clock,
            clips,
            ledger: Ledger::default(),
            installs: Vec::new(),
            frame_index,
            next_send,
            left: Vec::new(),
        };
        call.first_keys();
        call
    }

    /// The first keys, installed at once.
    fn first_keys(&mut self) {
        let n = self.participants.len();
        if n == 2 {
            // P-256 ECDH between the two.
            let mut rng = secure_frame::os_rng();
            let (a, b) = (KeyPair::generate(&mut rng), KeyPair::generate(&mut rng));
            let ka = agree(&a, Role::Initiator, b.public_key(), SUITE).expect("agree");
            let kb = agree(&b, Role::Responder, a.public_key(), SUITE).expect("agree");
            let (a_send, a_receive) = ka.into_keys();
            let (b_send, b_receive) = kb.into_keys();
            let id0 = self.set_root(0, &a_send);
            let id1 = self.set_root(1, &b_send);
            self.installs
                .push((0, 1, 0, Install::Direct(id0, b_receive)));
            self.installs
                .push((0, 0, 1, Install::Direct(id1, a_receive)));
        } else {
            for i in 0..n {
                self.rotate(i, 0);
            }
        }
        self.deliver_installs();
    }
}

impl Call {
    fn now_ms(&self) -> u64 {
        self.clock.elapsed_ms()
    }

    /// Starts participant `i`'s next generation with `root`: every stream key derived from it
    /// for its SSRC. Returns the sessions' send key (the same in every session).
    fn set_root(&mut self, i: usize, root: &BaseKey) -> SenderKeyId {
        let p = &mut self.participants[i];
        let generation = p.generation;
        p.generation += 1;
        let mut key = None;
        for s in &p.send {
            let session = p.sessions.get_mut(&s.kind).unwrap();
            session
                .set_send_key(generation, stream_base_key(SUITE, root, s.ssrc))
                .expect("send key");
            key = Some(session.send_key().unwrap().0);
        }
        key.unwrap()
    }

    /// Participant `i` starts a new generation from a fresh root and sends it to every other
    /// active participant, arriving `delay_ms` later: by ECDH with the other of two, sealed
    /// with HPKE in a group.
    pub fn rotate(&mut self, i: usize, delay_ms: u64) {
        let at = self.now_ms() + delay_ms;
        let mut rng = secure_frame::os_rng();
        let others: Vec<usize> = self
            .participants
            .iter()
            .filter(|p| p.id != i && p.active)
            .map(|p| p.id)
            .collect();
        if self.participants.len() == 2 {
            let (a, b) = (KeyPair::generate(&mut rng), KeyPair::generate(&mut rng));
            let ka = agree(&a, Role::Initiator, b.public_key(), SUITE).expect("agree");
            let kb = agree(&b, Role::Responder, a.public_key(), SUITE).expect("agree");
            let (send, _) = ka.into_keys();
            let (_, receive) = kb.into_keys();
            let key = self.set_root(i, &send);
            for r in others {
                self.installs.push((
                    at,
                    r,
                    i,
                    Install::Direct(key, BaseKey::new(receive.expose_secret()).unwrap()),
                ));
            }
        } else {
            let root = BaseKey::generate(SUITE, &mut rng);
            let key = self.set_root(i, &root);
            let bits = SenderKeyLayout::default().ratchet_bits();
            for r in others {
                let recipient: PublicKey = self.participants[r].identity.public_key().clone();
                let envelope = seal_sender_key(
                    &mut rng,
                    &self.participants[i].identity,
                    &name(i),
                    &recipient,
                    SUITE,
                    bits,
                    key,
                    &root,
                )
                .expect("seal");
                self.installs.push((at, r, i, Install::Envelope(envelope)));
            }
        }
    }

    /// Installs the keys whose time has come; buffered frames they open are checked.
    fn deliver_installs(&mut self) {
        let now = self.now_ms();
        let due: Vec<_> = {
            let (due, later) = std::mem::take(&mut self.installs)
                .into_iter()
                .partition(|(at, ..)| *at <= now);
            self.installs = later;
            due
        };
        for (_, r, from, install) in due {
            if !self.participants[r].active {
                continue;
            }
            let sender_public = self.participants[from].identity.public_key().clone();
            let p = &mut self.participants[r];
            let (key, root) = match install {
                Install::Direct(key, root) => (key, root),
                Install::Envelope(envelope) => {
                    let opened =
                        open_sender_key(&p.identity, &sender_public, &name(from), &envelope)
                            .expect("open envelope");
                    (opened.key_id, opened.base_key)
                }
            };
            for (&kind, session) in &mut p.sessions {
                let ssrc = p.peers_ssrc[&(from, kind)];
                session
                    .add_participant(
                        ParticipantId(from as u64),
                        key,
                        &stream_base_key(SUITE, &root, ssrc),
                    )
                    .expect("add participant");
            }
            self.collect_released(r);
        }
    }

    fn collect_released(&mut self, r: usize) {
        let kinds: Vec<Kind> = self.participants[r].sessions.keys().copied().collect();
        for kind in kinds {
            while let Some(rel) = self.participants[r]
                .sessions
                .get_mut(&kind)
                .unwrap()
                .poll_released()
            {
                let from = usize::try_from(rel.sender.0).unwrap();
                let p = &mut self.participants[r];
                let at = p
                    .buffered
                    .iter()
                    .position(|b| b.from == from && b.kind == kind && b.expected == rel.plaintext)
                    .expect("a released frame is one that was buffered, unchanged");
                let b = p.buffered.remove(at);
                if let Some((timestamp, seq, marker)) = b.packet {
                    let stream = p.recv.get_mut(&(from, kind)).unwrap();
                    let frame = stream.frames.entry(timestamp).or_default();
                    frame.index = Some(b.index);
                    frame.payloads.insert(seq, (marker, rel.plaintext));
                    p.stats.released += 1;
                    self.reassemble_codec(r, from, kind);
                    continue;
                }
                p.stats.decrypted += 1;
                p.stats.released += 1;
            }
        }
    }

    /// Runs the call for `duration` (virtual): every active participant sends each stream at
    /// its frame rate; `each_frame` is called before every video frame with its number.
    pub fn run(&mut self, duration: Duration) {
        self.run_with(duration, |_, _| {});
    }

    /// As [`run`](Self::run), calling `hook(call, frame)` before each frame of the first
    /// stream kind is sent (frame counts from 0 over the whole call).
    pub fn run_with(&mut self, duration: Duration, mut hook: impl FnMut(&mut Self, u64)) {
        let end = self.clock.now + duration;
        let first = self.config.kinds[0];
        while self.clock.now < end {
            // Send what is due.
            let kinds: Vec<Kind> = self.config.kinds.clone();
            for kind in kinds {
                while self.next_send[&kind] <= self.clock.now {
                    let n = self.frame_index[&kind];
                    if kind == first {
                        hook(self, n);
                    }
                    self.send_frame(kind, n);
                    *self.frame_index.get_mut(&kind).unwrap() += 1;
                    *self.next_send.get_mut(&kind).unwrap() +=
                        Duration::from_millis(kind.frame_ms());
                }
            }
            let next = self.next_send.values().min().copied().unwrap().min(end);
            while self.clock.now < next {
                self.pump(next);
            }
            self.deliver_installs();
            self.ledger.purge(self.now_ms());
        }
    }

    /// Lets the network settle for `duration` without sending (held packets released).
    pub fn settle(&mut self, duration: Duration) {
        self.sfu.release_held(&self.clock);
        let end = self.clock.now + duration;
        while self.clock.now < end {
            self.pump(end);
            self.deliver_installs();
        }
        for r in 0..self.participants.len() {
            self.collect_released(r);
            let streams: Vec<(usize, Kind)> = self.participants[r].recv.keys().copied().collect();
            for (from, kind) in streams {
                self.participants[r]
                    .recv
                    .get_mut(&(from, kind))
                    .unwrap()
                    .depacketizer
                    .flush();
                self.drain_depacketizer(r, from, kind);
            }
        }
    }

    /// What participant `r` still has in its unknown-KID buffers: (sender, kind, clip index).
    #[must_use]
    pub fn buffered(&self, r: usize) -> Vec<(usize, Kind, usize)> {
        self.participants[r]
            .buffered
            .iter()
            .map(|b| (b.from, b.kind, b.index))
            .collect()
    }

    /// One network turn, then the SFU forwards and the participants take their events.
    fn pump(&mut self, until: Instant) {
        {
            let mut eps: Vec<&mut Endpoint> = self
                .participants
                .iter_mut()
                .map(|p| &mut p.ep)
                .chain(self.sfu.legs.iter_mut().map(|l| &mut l.ep))
                .collect();
            net::turn(&mut eps, &mut self.clock, until);
        }
        self.sfu.forward(&self.clock);
        for i in 0..self.participants.len() {
            self.take_events(i);
        }
    }

    fn send_frame(&mut self, kind: Kind, n: u64) {
        let mode = self.config.mode;
        let now_ms = self.now_ms();
        let clip = &self.clips[&kind];
        let index = usize::try_from(n).unwrap() % clip.frames.len();
        let timestamp = u32::try_from((n * u64::from(kind.rtp_ticks())) & 0xffff_ffff).unwrap();
        for i in 0..self.participants.len() {
            let p = &mut self.participants[i];
            if !p.active {
                continue;
            }
            let Some(stream) = p.send.iter_mut().find(|s| s.kind == kind) else {
                continue;
            };
            let session = p.sessions.get_mut(&kind).unwrap();
            p.stats.sent += 1;
            p.stats.clear_bytes += clip.clear[index];
            p.stats.opaque_bytes +=
                u64::try_from(clip.expected[index].len()).unwrap() - clip.clear[index];
            let sent = Sent {
                from: i,
                kind,
                index,
                payload: None,
                at_ms: now_ms,
            };
            match mode {
                Mode::CodecAware => {
                    let mut frame = clip.frames[index].clone();
                    session.protect(&[], &mut frame).expect("protect");
                    self.ledger.insert(&frame, sent);
                    let freq = if kind.is_video() {
                        Frequency::NINETY_KHZ
                    } else {
                        Frequency::FORTY_EIGHT_KHZ
                    };
                    let writer = p.ep.rtc.writer(stream.mid).expect("writer");
                    writer
                        .write(
                            stream.pt,
                            self.clock.now,
                            MediaTime::new(u64::from(timestamp), freq),
                            frame,
                        )
                        .expect("write");
                    p.ep.drain();
                }
                Mode::PerFrame => {
                    let mut frame = clip.frames[index].clone();
                    session.protect(&[], &mut frame).expect("protect");
                    self.ledger.insert(&frame, sent);
                    let packetizer = Packetizer::new(MAX_PAYLOAD).unwrap();
                    for fragment in packetizer.fragments(&frame, PayloadOrigin::Raw).unwrap() {
                        write_sframe_rtp(
                            &mut p.ep,
                            stream,
                            timestamp,
                            fragment.marker(),
                            fragment.to_payload(),
                            self.clock.now,
                        );
                    }
                }
                Mode::PerPacket => {
                    let frame = &clip.frames[index];
                    let payloads = if kind == Kind::Vp8 {
                        stream
                            .vp8
                            .packetize(MAX_PAYLOAD - PER_PACKET_OVERHEAD, frame)
                            .expect("VP8 packetizer")
                    } else {
                        vec![frame.clone()]
                    };
                    let count = payloads.len();
                    for (k, payload) in payloads.into_iter().enumerate() {
                        let mut protected = payload.clone();
                        session.protect(&[], &mut protected).expect("protect");
                        self.ledger.insert(
                            &protected,
                            Sent {
                                payload: Some(payload),
                                ..sent.clone()
                            },
                        );
                        let packetizer = Packetizer::new(MAX_PAYLOAD).unwrap();
                        let mut fragments = packetizer
                            .fragments(&protected, PayloadOrigin::Packetized)
                            .unwrap();
                        assert_eq!(fragments.len(), 1, "one SFrame packet per codec packet");
                        let fragment = fragments.next().unwrap();
                        write_sframe_rtp(
                            &mut p.ep,
                            stream,
                            timestamp,
                            k + 1 == count,
                            fragment.to_payload(),
                            self.clock.now,
                        );
                    }
                }
            }
        }
    }

    fn take_events(&mut self, r: usize) {
        let events = std::mem::take(&mut self.participants[r].ep.events);
        for e in events {
            match e {
                Event::MediaData(d) => {
                    let Some(&(from, kind)) = self.participants[r].recv_mids.get(&d.mid) else {
                        continue;
                    };
                    let timestamp = u32::try_from(d.time.numer() & 0xffff_ffff).unwrap();
                    let mut data = d.data.to_vec();
                    self.participants[r].stats.received += 1;
                    self.open_frame(r, from, kind, timestamp, &mut data, None);
                }
                Event::RtpPacket(pkt) => {
                    let p = &mut self.participants[r];
                    let Some(mid) =
                        p.ep.rtc
                            .direct_api()
                            .stream_rx(&pkt.header.ssrc)
                            .map(|s| s.mid())
                    else {
                        continue;
                    };
                    let Some(&(from, kind)) = p.recv_mids.get(&mid) else {
                        continue;
                    };
                    let stream = p.recv.entry((from, kind)).or_insert_with(|| RecvStream {
                        depacketizer: Depacketizer::default(),
                        last_seq: None,
                        frames: BTreeMap::new(),
                    });
                    let pushed = stream.depacketizer.push(SframeRtp {
                        sequence_number: pkt.header.sequence_number,
                        payload_type: *pkt.header.payload_type,
                        timestamp: pkt.header.timestamp,
                        marker: pkt.header.marker,
                        payload: &pkt.payload,
                    });
                    if let Err(e) = pushed {
                        count_depacketize(&mut p.stats, e);
                    }
                    self.drain_depacketizer(r, from, kind);
                }
                _ => {}
            }
        }
    }

    fn drain_depacketizer(&mut self, r: usize, from: usize, kind: Kind) {
        loop {
            let p = &mut self.participants[r];
            let stream = p.recv.get_mut(&(from, kind)).unwrap();
            let Some(result) = stream.depacketizer.poll() else {
                return;
            };
            match result {
                Err(e) => count_depacketize(&mut p.stats, e),
                Ok(mut group) => {
                    let seq = stream.extend(group.first_sequence_number);
                    let origin = group.origin;
                    if origin == PayloadOrigin::Raw {
                        p.stats.received += 1;
                    }
                    let packet =
                        (origin == PayloadOrigin::Packetized).then_some((seq, group.marker));
                    self.open_frame(r, from, kind, group.timestamp, &mut group.data, packet);
                }
            }
        }
    }

    /// Unprotects one frame (per-packet mode: one packet) from `from` and checks it against
    /// the ledger.
    fn open_frame(
        &mut self,
        r: usize,
        from: usize,
        kind: Kind,
        timestamp: u32,
        data: &mut [u8],
        packet: Option<(u64, bool)>,
    ) {
        let sent = self.ledger.get(data).cloned();
        let p = &mut self.participants[r];
        let session = p.sessions.get_mut(&kind).unwrap();
        match session.unprotect_from(ParticipantId(from as u64), &[], data) {
            Ok(Unprotected::Decrypted(d)) => {
                let sent = sent.expect("a frame that decrypted was sent as it arrived");
                assert_eq!((sent.from, sent.kind), (from, kind));
                match packet {
                    None => {
                        assert_eq!(
                            d.plaintext,
                            &self.clips[&kind].expected[sent.index][..],
                            "p{r}: frame {} of p{from} {kind:?}",
                            sent.index
                        );
                        p.stats.decrypted += 1;
                    }
                    Some((seq, marker)) => {
                        assert_eq!(Some(&d.plaintext[..]), sent.payload.as_deref());
                        let plaintext = d.plaintext.to_vec();
                        let frame = p
                            .recv
                            .get_mut(&(from, kind))
                            .unwrap()
                            .frames
                            .entry(timestamp)
                            .or_default();
                        frame.index = Some(sent.index);
                        frame.payloads.insert(seq, (marker, plaintext));
                        self.reassemble_codec(r, from, kind);
                    }
                }
            }
            Ok(Unprotected::PassedThrough { .. }) => panic!("nothing passes through"),
            Err(UnprotectError::UnknownKeyId(_)) => {
                *p.stats
                    .failed
                    .entry(ErrorKind::KeyId.to_string())
                    .or_default() += 1;
                if let Some(sent) = sent {
                    let expected = sent
                        .payload
                        .clone()
                        .unwrap_or_else(|| self.clips[&kind].expected[sent.index].clone());
                    p.buffered.push(Buffered {
                        from,
                        kind,
                        index: sent.index,
                        expected,
                        packet: packet.map(|(seq, marker)| (timestamp, seq, marker)),
                    });
                }
            }
            Err(error) => {
                *p.stats.failed.entry(error.kind().to_string()).or_default() += 1;
                p.failures.push(Failure {
                    from,
                    kind,
                    timestamp,
                    error,
                });
            }
        }
    }

    /// Per-packet mode: hands complete frames of decrypted codec payloads to the codec's
    /// depacketizer (str0m's for VP8; an Opus payload is the frame) and checks the frame.
    fn reassemble_codec(&mut self, r: usize, from: usize, kind: Kind) {
        let clip = &self.clips[&kind];
        let p = &mut self.participants[r];
        let stream = p.recv.get_mut(&(from, kind)).unwrap();
        let mut done = Vec::new();
        for (&ts, frame) in &stream.frames {
            let mut seqs = frame.payloads.keys().copied();
            let first = seqs.next().unwrap();
            let contiguous = frame
                .payloads
                .keys()
                .copied()
                .zip(first..)
                .all(|(a, b)| a == b);
            let (last_marker, _) = frame.payloads.values().last().unwrap();
            let head = &frame.payloads[&first].1;
            let complete = contiguous
                && (kind != Kind::Vp8
                    || (Vp8Depacketizer::default().is_partition_head(head) && *last_marker));
            if complete {
                done.push(ts);
            }
        }
        for ts in done {
            let frame = stream.frames.remove(&ts).unwrap();
            let mut out = Vec::new();
            if kind == Kind::Vp8 {
                let mut depacketizer = Vp8Depacketizer::default();
                let mut extra = str0m::format::CodecExtra::None;
                for (_, payload) in frame.payloads.values() {
                    depacketizer
                        .depacketize(payload, &mut out, &mut extra)
                        .expect("VP8 depacketize");
                }
            } else {
                for (_, payload) in frame.payloads.values() {
                    out.extend_from_slice(payload);
                }
            }
            let index = frame.index.unwrap();
            assert_eq!(
                out, clip.frames[index],
                "p{r}: per-packet frame {index} of p{from}"
            );
            p.stats.received += 1;
            p.stats.decrypted += 1;
        }
        // Frames that can no longer complete: far behind the newest.
        let newest = stream.frames.keys().next_back().copied();
        if let Some(newest) = newest {
            let horizon = kind.rtp_ticks() * 30;
            stream
                .frames
                .retain(|&ts, _| newest.wrapping_sub(ts) < horizon);
        }
    }

    /// Participant `i` leaves: the SFU stops forwarding to and from it, the others forget its
    /// keys and start new generations sealed to those who stay (RFC 9605 §7.3).
    pub fn leave(&mut self, i: usize) {
        self.sfu.release_held(&self.clock);
        self.left.push(i);
        self.participants[i].active = false;
        self.sfu.legs[i].active = false;
        for p in &mut self.participants {
            if p.id != i {
                for s in p.sessions.values_mut() {
                    s.remove_participant(ParticipantId(i as u64));
                }
            }
        }
        let delay = self.config.key_delay_ms;
        for j in 0..self.participants.len() {
            if j != i && self.participants[j].active {
                self.rotate(j, delay);
            }
        }
    }

    /// Participant `i` comes back: everyone, `i` included, starts a new generation sealed to
    /// everyone in the call.
    pub fn rejoin(&mut self, i: usize) {
        self.participants[i].active = true;
        self.sfu.legs[i].active = true;
        let p = &mut self.participants[i];
        for s in p.sessions.values_mut() {
            let others: Vec<ParticipantId> = s.participants().collect();
            for o in others {
                s.remove_participant(o);
            }
            s.clear_pending();
        }
        p.buffered.clear();
        p.recv.clear();
        let delay = self.config.key_delay_ms;
        for j in 0..self.participants.len() {
            if self.participants[j].active {
                self.rotate(j, delay);
            }
        }
    }

    /// What participant `i` holds now.
    #[must_use]
    pub fn footprint(&self, i: usize) -> Footprint {
        let p = &self.participants[i];
        let mut f = Footprint::default();
        for s in p.sessions.values() {
            f.pending_frames += s.pending_frames();
            f.pending_bytes += s.pending_bytes();
            f.receivers += s.participants().count();
        }
        for r in p.recv.values() {
            f.held_packets += r.depacketizer.held_packets();
            f.codec_frames += r.frames.len();
        }
        f
    }

    /// Entries in the ledger (bounded by its 5 s horizon).
    #[must_use]
    pub fn ledger_len(&self) -> usize {
        self.ledger.len()
    }

    /// How many 16-byte windows of frame plaintext (from bytes the mode encrypts) appear in
    /// what the relay recorded. Must be 0.
    #[must_use]
    pub fn plaintext_seen_by_relay(&self) -> usize {
        let mut needles = std::collections::HashSet::new();
        for (&kind, clip) in &self.clips {
            needles.extend(clip.secret_windows(kind, self.config.mode, &self.config.policy));
        }
        assert!(!needles.is_empty());
        let recorded = &self.sfu.relay.recorded;
        recorded
            .windows(16)
            .filter(|w| needles.contains(*w))
            .count()
    }

    /// The per-participant statistics, one line each.
    #[must_use]
    pub fn report(&self) -> String {
        let mut out = String::new();
        for p in &self.participants {
            let s = &p.stats;
            let _ = writeln!(
                out,
                "  p{}: sent {} received {} decrypted {} (released from buffer {}) failed {:?} depacketizer {:?} relay-readable {} of {} media bytes",
                p.id,
                s.sent,
                s.received,
                s.decrypted,
                s.released,
                s.failed,
                s.depacketize_errors,
                s.clear_bytes,
                s.clear_bytes + s.opaque_bytes,
            );
        }
        let r = &self.sfu.relay;
        let _ = writeln!(
            out,
            "  relay: forwarded {} packets ({} bytes), dropped {}, reordered {}, duplicated {}, corrupted {}",
            r.forwarded,
            r.forwarded_bytes,
            r.dropped,
            r.reordered,
            r.duplicated,
            r.corrupted.len()
        );
        out
    }
}

fn count_depacketize(stats: &mut Stats, e: DepacketizeError) {
    *stats
        .depacketize_errors
        .entry(format!("{e:?}"))
        .or_default() += 1;
}

fn write_sframe_rtp(
    ep: &mut Endpoint,
    stream: &mut SendStream,
    timestamp: u32,
    marker: bool,
    payload: Vec<u8>,
    now: Instant,
) {
    let payload: std::sync::Arc<[u8]> = payload.into();
    let seq = SeqNo::from(stream.seq);
    stream.seq += 1;
    let mut api = ep.rtc.direct_api();
    let tx = api.stream_tx_by_mid(stream.mid, None).expect("send stream");
    tx.write_rtp(
        RtpWrite::new(stream.pt, seq, timestamp, now, payload)
            .marker(marker)
            .nackable(stream.kind.is_video()),
    );
    ep.drain();
}
