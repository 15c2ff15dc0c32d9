//! `sframe demo`: a simulated call of three participants on the bundled clips.
//!
//! Alice sends VP8 and Opus, Bob H.264 (main) and Opus, Carol H.264 (baseline) and Opus, all in
//! the codec-aware format. Each pair agrees P-256 ECDH keys and compares a verification code;
//! each sender's keys reach the others sealed with HPKE to their identity keys. An SFU in the
//! middle forwards every frame and reports what it could read. Every receiver checks every
//! frame bit-exact against what the sender's codec layer produced. Mid-call Carol leaves: the
//! others start new key generations sealed to each other only, and Carol cannot read a single
//! frame after that. A forged frame, a forged clear byte, a replayed frame and a frame for a KID
//! whose key has not arrived yet are injected; the last one is buffered and released when its
//! key arrives. Exit status 0 only if every check held.

#![expect(
    clippy::indexing_slicing,
    clippy::needless_range_loop,
    reason = "indices into the fixed lists of participants and streams, bounded by their loops"
)]

use std::fmt::Write as _;
use std::time::Instant;

use anyhow::{Context as _, anyhow};
use secure_frame::agreement::{GroupKeys, KeyPair, Role, agree, open_sender_key};
use secure_frame::codec::{self, Codec, Plan, Policy};
use secure_frame::{
    CipherSuite, Encryptor, FrameFormat, KeyId, ParticipantId, ReceiveKey, SenderKeyLayout,
    SenderKeySession, UnprotectError, Unprotected,
};

use crate::inspect;
use crate::media::{self, Format};

/// `sframe demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The cipher suite (1-8).
    #[arg(long, default_value_t = 4)]
    pub suite: u16,
}

const VP8: &[u8] = include_bytes!("../../test-data/media/vp8.ivf");
const H264_MAIN: &[u8] = include_bytes!("../../test-data/media/h264-main.h264");
const H264_BASELINE: &[u8] = include_bytes!("../../test-data/media/h264-baseline.h264");
const OPUS: &[u8] = include_bytes!("../../test-data/media/opus.ogg");

/// Where the call leaves Carol out: after this many video frames.
const LEAVE_AT: usize = 5;

/// An injected frame: what it is, its bytes, the refusal expected.
type Injected = (&'static str, Vec<u8>, fn(&UnprotectError) -> bool);

/// One stream a participant sends.
struct Stream {
    kind: &'static str,
    codec: Codec,
    frames: Vec<Vec<u8>>,
    session: SenderKeySession,
    keys: GroupKeys,
}

/// What happened to one participant.
#[derive(Default, Clone, Copy)]
struct Tally {
    sent: u64,
    received: u64,
    bit_exact: u64,
    refused_injected: u64,
    released: u64,
    after_leave_forwarded: u64,
    after_leave_read: u64,
}

struct Participant {
    name: &'static str,
    id: ParticipantId,
    identity: KeyPair,
    streams: Vec<Stream>,
    present: bool,
    tally: Tally,
}

/// The checks of the run.
#[derive(Default)]
struct Checks {
    held: usize,
    failed: Vec<String>,
}

impl Checks {
    fn check(&mut self, what: impl Into<String>, ok: bool) {
        if ok {
            self.held += 1;
        } else {
            self.failed.push(what.into());
        }
    }
}

/// What the SFU learned from the frames it forwarded.
#[derive(Default)]
struct SfuView {
    frames: u64,
    bytes: u64,
    headers_read: u64,
    clear_bytes: u64,
    opaque_bytes: u64,
    vp8_keyframes: Vec<(u16, u16)>,
    nal_types: std::collections::BTreeSet<u8>,
    plaintext_leaks: u64,
}

fn clip(data: &[u8], format: Format) -> anyhow::Result<Vec<Vec<u8>>> {
    Ok(media::read(format, data, false)?.frames)
}

/// The frame a receiver must get back: the sender's normalized frame.
fn normalized(codec: Codec, frame: &[u8]) -> Vec<u8> {
    match codec::plan(codec, frame, &Policy::default()) {
        Ok(Plan::Protect(plan)) => plan.frame().to_vec(),
        _ => frame.to_vec(),
    }
}

/// `sframe demo`.
///
/// # Errors
///
/// A bad `--suite`, or a key-management step that failed (each check that can fail is a
/// check, not an error).
#[expect(clippy::too_many_lines, reason = "the call, in the order it happens")]
pub fn run(args: &DemoArgs) -> anyhow::Result<bool> {
    let started = Instant::now();
    let suite = CipherSuite::from_id(args.suite)
        .map_err(|e| crate::UsageError(format!("--suite {}: {e}", args.suite)))?;
    let mut rng = secure_frame::os_rng();
    let mut checks = Checks::default();
    let layout = SenderKeyLayout::default();
    let opus = clip(OPUS, Format::Ogg)?;
    let videos = [
        ("alice", Codec::Vp8, clip(VP8, Format::Ivf)?),
        ("bob", Codec::H264, clip(H264_MAIN, Format::H264)?),
        ("carol", Codec::H264, clip(H264_BASELINE, Format::H264)?),
    ];
    let mut people = Vec::new();
    for (i, (name, codec, video)) in videos.into_iter().enumerate() {
        let id = ParticipantId(u64::try_from(i)?);
        let identity = KeyPair::generate(&mut rng);
        let mut streams = Vec::new();
        for (kind, codec, frames) in [
            ("video", codec, video),
            ("audio", Codec::Opus, opus.clone()),
        ] {
            let session = SenderKeySession::new(suite, layout, id)?
                .with_format(FrameFormat::CodecAware(codec));
            let keys = GroupKeys::new(
                identity.duplicate_for_demo()?,
                format!("{name}/{kind}").as_bytes(),
            )?;
            streams.push(Stream {
                kind,
                codec,
                frames,
                session,
                keys,
            });
        }
        people.push(Participant {
            name,
            id,
            identity,
            streams,
            present: true,
            tally: Tally::default(),
        });
    }
    println!(
        "sframe demo: a call of {} participants, {} (suite {}), codec-aware format",
        people.len(),
        suite.name(),
        suite.id()
    );
    for p in &people {
        let what: Vec<String> = p
            .streams
            .iter()
            .map(|s| format!("{} {} ({} frames)", s.kind, s.codec.mime(), s.frames.len()))
            .collect();
        println!("  {} sends {}", p.name, what.join(" and "));
    }

    // 1. Pairwise P-256 ECDH: each pair compares its verification code and says hello 1:1.
    println!("\n1. P-256 ECDH between each pair (verification codes read out loud):");
    for a in 0..people.len() {
        for b in a + 1..people.len() {
            let (pa, pb) = (&people[a], &people[b]);
            let ka = agree(
                &pa.identity,
                Role::Initiator,
                pb.identity.public_key(),
                suite,
            )?;
            let kb = agree(
                &pb.identity,
                Role::Responder,
                pa.identity.public_key(),
                suite,
            )?;
            let same = ka.verification_code() == kb.verification_code();
            println!(
                "   {} <-> {}: {} reads {}, {} reads {} ({})",
                pa.name,
                pb.name,
                pa.name,
                ka.verification_code(),
                pb.name,
                kb.verification_code(),
                if same { "match" } else { "MISMATCH" }
            );
            checks.check(
                format!("{}-{} verification codes match", pa.name, pb.name),
                same,
            );
            let mut out = Encryptor::new(suite, KeyId(0), ka.send());
            let mut back = ReceiveKey::new(suite, KeyId(0), kb.receive());
            let hello = format!("hello {}, this is {}", pb.name, pa.name);
            let mut wire = out.encrypt_to_vec(b"", hello.as_bytes())?;
            let opened = back.decrypt_in_place(b"", &mut wire).map(|p| p.to_vec());
            checks.check(
                format!("{}-{} pairwise frame opens", pa.name, pb.name),
                opened.as_deref() == Ok(hello.as_bytes()),
            );
        }
    }

    // 2. Sender keys, sealed with HPKE to each other member.
    println!("\n2. Sender keys sealed with HPKE to each member:");
    let mut envelopes = 0;
    for s in 0..people.len() {
        for r in 0..people.len() {
            if s == r {
                continue;
            }
            envelopes += distribute_join(&mut people, s, r, &mut rng, &mut checks)?;
        }
    }
    println!("   {envelopes} envelopes opened; every participant holds the others' keys");

    // 3. The call.
    println!("\n3. The call: every frame through the SFU to every other participant");
    let mut sfu = SfuView::default();
    let video_len = people
        .iter()
        .map(|p| p.streams[0].frames.len())
        .max()
        .unwrap_or(0);
    let audio_len = opus.len();
    let mut injected = false;
    for tick in 0..video_len {
        if tick == LEAVE_AT {
            println!(
                "\n4. Carol leaves after {LEAVE_AT} video frames: Alice and Bob start new key generations"
            );
            leave(&mut people, 2, &mut rng, &mut checks, &mut sfu)?;
            println!("\n5. The call goes on without Carol (the SFU still forwards to her)");
        }
        let audio_from = tick * audio_len / video_len;
        let audio_to = (tick + 1) * audio_len / video_len;
        for s in 0..people.len() {
            if !people[s].present {
                continue;
            }
            for stream in 0..2 {
                let range = if stream == 0 {
                    tick..tick + 1
                } else {
                    audio_from..audio_to
                };
                for f in range {
                    if s == 0 && stream == 0 && f == LEAVE_AT {
                        continue; // sent by `leave`, before Bob had its key
                    }
                    let Some(frame) = people[s].streams[stream].frames.get(f).cloned() else {
                        continue;
                    };
                    let codec = people[s].streams[stream].codec;
                    let mut wire = frame.clone();
                    people[s].streams[stream]
                        .session
                        .protect(b"", &mut wire)
                        .with_context(|| format!("{} protecting frame {f}", people[s].name))?;
                    people[s].tally.sent += 1;
                    let expected = normalized(codec, &frame);
                    sfu.observe(codec, suite, &wire, &expected);
                    let inject_here = !injected && s == 0 && stream == 0 && tick == 2;
                    if inject_here {
                        // Forgeries arrive before the real frame (after it, the replay
                        // window refuses them before any tag is checked).
                        inject(&mut people, &wire, &mut checks, false)?;
                    }
                    forward(&mut people, s, stream, &wire, &expected, &mut checks);
                    if inject_here {
                        injected = true;
                        inject(&mut people, &wire, &mut checks, true)?;
                    }
                }
            }
        }
    }

    // 6. The report.
    println!("\n6. What the SFU could read (it holds no key):");
    println!("{}", sfu.report());
    checks.check("the SFU read every header", sfu.headers_read == sfu.frames);
    checks.check(
        "no opaque run reached the SFU in the clear",
        sfu.plaintext_leaks == 0,
    );

    println!("\n7. Per participant:");
    println!(
        "   {:<6} {:>5} {:>9} {:>9} {:>8} {:>8} {:>21}  session counters",
        "who", "sent", "received", "bit-exact", "refused", "released", "read after Carol left"
    );
    for p in &mut people {
        let t = p.tally;
        let stats: Vec<String> = p
            .streams
            .iter()
            .map(|s| {
                let st = s.session.stats();
                format!(
                    "{}: ok {} auth {} (replay {}) keyID {} buffered {} released {}",
                    s.kind,
                    st.frames_ok,
                    st.authentication_errors,
                    st.replays,
                    st.key_id_errors,
                    st.buffered,
                    st.released
                )
            })
            .collect();
        let after = if p.present {
            "-".to_owned()
        } else {
            format!("{} of {}", t.after_leave_read, t.after_leave_forwarded)
        };
        println!(
            "   {:<6} {:>5} {:>9} {:>9} {:>8} {:>8} {:>21}  {}",
            p.name,
            t.sent,
            t.received,
            t.bit_exact,
            t.refused_injected,
            t.released,
            after,
            stats.join("; ")
        );
        checks.check(
            format!("{}: every frame received was bit-exact", p.name),
            t.received == t.bit_exact,
        );
        if !p.present {
            checks.check(
                format!("{} read nothing after leaving", p.name),
                t.after_leave_read == 0 && t.after_leave_forwarded > 0,
            );
        }
        for s in &mut p.streams {
            s.session.clear_pending();
        }
    }
    let elapsed = started.elapsed();
    println!();
    if checks.failed.is_empty() {
        println!(
            "verdict: PASS, all {} checks held ({:.2} s)",
            checks.held,
            elapsed.as_secs_f64()
        );
        Ok(true)
    } else {
        for f in &checks.failed {
            println!("check failed: {f}");
        }
        println!(
            "verdict: FAIL, {} of {} checks failed ({:.2} s)",
            checks.failed.len(),
            checks.failed.len() + checks.held,
            elapsed.as_secs_f64()
        );
        Ok(false)
    }
}

trait DuplicateForDemo: Sized {
    fn duplicate_for_demo(&self) -> anyhow::Result<Self>;
}

impl DuplicateForDemo for KeyPair {
    /// The same identity key pair for each stream's `GroupKeys` (which own theirs).
    fn duplicate_for_demo(&self) -> anyhow::Result<Self> {
        Ok(Self::from_secret_bytes(&self.expose_secret_bytes())?)
    }
}

/// Sender `s` adds member `r` to both its streams; `r` opens the envelopes. Returns how many
/// were opened.
fn distribute_join(
    people: &mut [Participant],
    s: usize,
    r: usize,
    rng: &mut impl secure_frame::rand_core::CryptoRng,
    checks: &mut Checks,
) -> anyhow::Result<usize> {
    let member_id = people[r].name.as_bytes().to_vec();
    let member_public = people[r].identity.public_key().clone();
    let sender_public = people[s].identity.public_key().clone();
    let sender_id = people[s].id;
    let mut sealed = Vec::new();
    for stream in &mut people[s].streams {
        let envelope =
            stream
                .keys
                .add_member(rng, &mut stream.session, &member_id, member_public.clone())?;
        sealed.push((stream.keys.sender_id().to_vec(), envelope));
    }
    let mut opened_count = 0;
    for (k, (id, envelope)) in sealed.iter().enumerate() {
        let opened = open_sender_key(&people[r].identity, &sender_public, id, envelope);
        checks.check(
            format!(
                "{} opens the envelope of {}",
                people[r].name,
                String::from_utf8_lossy(id)
            ),
            opened.is_ok(),
        );
        let opened = opened?;
        people[r].streams[k]
            .session
            .add_participant(sender_id, opened.key_id, &opened.base_key)?;
        opened_count += 1;
    }
    Ok(opened_count)
}

/// The SFU forwards `wire` from participant `s` to everyone else.
fn forward(
    people: &mut [Participant],
    s: usize,
    stream: usize,
    wire: &[u8],
    expected: &[u8],
    checks: &mut Checks,
) {
    let from = people[s].id;
    for r in 0..people.len() {
        if r == s {
            continue;
        }
        let rx = &mut people[r];
        let mut frame = wire.to_vec();
        let result = rx.streams[stream]
            .session
            .unprotect_from(from, b"", &mut frame);
        if rx.present {
            rx.tally.received += 1;
            match result {
                Ok(Unprotected::Decrypted(d)) if d.plaintext == expected => rx.tally.bit_exact += 1,
                Ok(_) => {}
                Err(e) => checks.check(
                    format!("{} opens a frame: {e} ({})", rx.name, e.kind()),
                    false,
                ),
            }
        } else {
            rx.tally.after_leave_forwarded += 1;
            if matches!(result, Ok(Unprotected::Decrypted(_))) {
                rx.tally.after_leave_read += 1;
            }
            rx.streams[stream].session.clear_pending();
        }
    }
}

/// Forged, replayed and unknown-KID frames, injected into Bob's video from Alice.
fn inject(
    people: &mut [Participant],
    wire: &[u8],
    checks: &mut Checks,
    replay: bool,
) -> anyhow::Result<()> {
    if !replay {
        println!("   injected into Bob's copy of Alice's video frame 2:");
    }
    let alice = people[0].id;
    let bob = &mut people[1];
    let session = &mut bob.streams[0].session;
    let mut cases: Vec<Injected> = Vec::new();
    if replay {
        cases.push(("replayed frame", wire.to_vec(), |e| {
            matches!(e, UnprotectError::Replay(_))
        }));
        run_injected(session, alice, cases, checks, &mut bob.tally);
        return Ok(());
    }
    let mut opaque = wire.to_vec();
    let mid = opaque.len() / 2;
    *opaque.get_mut(mid).context("frame too short")? ^= 0x01;
    cases.push(("forged ciphertext byte", opaque, |e| {
        matches!(e, UnprotectError::Authentication(_))
    }));
    let mut clear = wire.to_vec();
    *clear.get_mut(0).context("frame too short")? ^= 0x01;
    cases.push(("forged clear codec byte", clear, |e| {
        matches!(e, UnprotectError::Authentication(_))
    }));
    run_injected(session, alice, cases, checks, &mut bob.tally);
    Ok(())
}

/// Offers each injected frame to `session` and checks it is refused as expected.
fn run_injected(
    session: &mut SenderKeySession,
    alice: ParticipantId,
    cases: Vec<Injected>,
    checks: &mut Checks,
    tally: &mut Tally,
) {
    for (what, mut frame, expected) in cases {
        let result = session.unprotect_from(alice, b"", &mut frame);
        let (ok, shown) = match &result {
            Err(e) => (expected(e), format!("refused: {e} ({})", e.kind())),
            Ok(_) => (false, "ACCEPTED".to_owned()),
        };
        println!("     {what:<24} {shown}");
        checks.check(format!("{what} refused"), ok);
        if ok {
            tally.refused_injected += 1;
        }
    }
}

/// Participant `leaver` leaves: the others remove it and start a new generation sealed to
/// those who stay. The first frame of Alice's new video key reaches Bob before its envelope
/// does: buffered, then released.
#[expect(clippy::too_many_lines, reason = "the leave, in the order it happens")]
fn leave(
    people: &mut [Participant],
    leaver: usize,
    rng: &mut impl secure_frame::rand_core::CryptoRng,
    checks: &mut Checks,
    sfu: &mut SfuView,
) -> anyhow::Result<()> {
    people[leaver].present = false;
    let leaver_id = people[leaver].id;
    let leaver_name = people[leaver].name.as_bytes().to_vec();
    let mut rotations = Vec::new(); // (sender, stream, member name, envelope)
    for s in 0..people.len() {
        if s == leaver {
            continue;
        }
        for (k, stream) in people[s].streams.iter_mut().enumerate() {
            stream.session.remove_participant(leaver_id);
            for sealed in stream
                .keys
                .remove_member(rng, &mut stream.session, &leaver_name)?
            {
                rotations.push((s, k, sealed.member_id, sealed.envelope));
            }
        }
    }
    println!(
        "   {} envelopes with the new keys, sealed to those who stay",
        rotations.len()
    );
    // Carol tries the envelopes meant for the others.
    let mut carol_opened = 0;
    for (s, k, _, envelope) in &rotations {
        let sender_public = people[*s].identity.public_key().clone();
        let id = people[*s].streams[*k].keys.sender_id().to_vec();
        if open_sender_key(&people[leaver].identity, &sender_public, &id, envelope).is_ok() {
            carol_opened += 1;
        }
    }
    println!("   Carol opens {carol_opened} of them");
    checks.check("the leaver opens no new envelope", carol_opened == 0);

    // Alice's first video frame under her new key, before Bob has that key.
    let (alice, bob) = (0, 1);
    let frame = people[alice].streams[0]
        .frames
        .get(LEAVE_AT)
        .cloned()
        .ok_or_else(|| anyhow!("clip too short"))?;
    let codec = people[alice].streams[0].codec;
    let expected = normalized(codec, &frame);
    let mut wire = frame;
    people[alice].streams[0].session.protect(b"", &mut wire)?;
    people[alice].tally.sent += 1;
    sfu.observe(
        codec,
        people[alice].streams[0].session.suite(),
        &wire,
        &expected,
    );
    let alice_id = people[alice].id;
    let mut early = wire.clone();
    let result = people[bob].streams[0]
        .session
        .unprotect_from(alice_id, b"", &mut early);
    let buffered = matches!(&result, Err(e) if e.is_retryable());
    println!(
        "   Alice's first frame under her new key reaches Bob before the key: {}",
        match &result {
            Err(e) => format!("{e} ({}), kept", e.kind()),
            Ok(_) => "opened?!".to_owned(),
        }
    );
    checks.check(
        "a frame for a KID whose key has not arrived is kept",
        buffered,
    );
    // Carol gets that frame too.
    let mut to_carol = wire.clone();
    let read = people[leaver].streams[0]
        .session
        .unprotect_from(alice_id, b"", &mut to_carol)
        .is_ok_and(|u| matches!(u, Unprotected::Decrypted(_)));
    people[leaver].tally.after_leave_forwarded += 1;
    if read {
        people[leaver].tally.after_leave_read += 1;
    }
    people[leaver].streams[0].session.clear_pending();

    for (s, k, member, envelope) in rotations {
        let Some(r) = people
            .iter()
            .position(|p| p.name.as_bytes() == member.as_slice())
        else {
            continue;
        };
        let sender_public = people[s].identity.public_key().clone();
        let sender_id = people[s].id;
        let id = people[s].streams[k].keys.sender_id().to_vec();
        let opened = open_sender_key(&people[r].identity, &sender_public, &id, &envelope)?;
        people[r].streams[k]
            .session
            .add_participant(sender_id, opened.key_id, &opened.base_key)?;
    }
    let released = people[bob].streams[0].session.poll_released();
    let exact = released.as_ref().is_some_and(|f| f.plaintext == expected);
    println!(
        "   the key arrives: Bob's kept frame is released ({})",
        if exact { "bit-exact" } else { "NOT bit-exact" }
    );
    checks.check(
        "the kept frame is released bit-exact when its key arrives",
        exact,
    );
    if exact {
        people[bob].tally.released += 1;
        people[bob].tally.received += 1;
        people[bob].tally.bit_exact += 1;
    }
    // A frame Carol sends with her old key after leaving.
    let mut stale = people[leaver].streams[1]
        .frames
        .first()
        .cloned()
        .unwrap_or_default();
    people[leaver].streams[1].session.protect(b"", &mut stale)?;
    let result = people[alice].streams[1]
        .session
        .unprotect_from(leaver_id, b"", &mut stale);
    println!(
        "   a frame Carol sends after leaving, at Alice: {}",
        match &result {
            Err(e) => format!("refused: {e} ({})", e.kind()),
            Ok(_) => "ACCEPTED".to_owned(),
        }
    );
    checks.check("a frame from the leaver is refused", result.is_err());
    people[alice].streams[1].session.clear_pending();
    Ok(())
}

impl SfuView {
    /// Reads a forwarded frame as an SFU can: the trailer, the header, the clear bytes.
    fn observe(&mut self, codec: Codec, suite: CipherSuite, wire: &[u8], plaintext: &[u8]) {
        self.frames += 1;
        self.bytes += u64::try_from(wire.len()).unwrap_or(0);
        // The header through the library's first receive phase; the clear ranges from the
        // trailer's range map, read with `inspect`'s parser of the documented v1 layout.
        if secure_frame::compat::read_header(wire).is_ok() {
            self.headers_read += 1;
        }
        let info = inspect::codec_aware(0, wire);
        let Some(reading) = info.by_tag.iter().find(|t| t.tag_len == suite.tag_len()) else {
            return;
        };
        let ranges = reading.clear.clone().unwrap_or_default();
        let inner = wire.len().saturating_sub(reading.overhead);
        let mut clear_mask = vec![false; inner];
        for &(s, e) in &ranges {
            for m in clear_mask.iter_mut().take(e).skip(s) {
                *m = true;
            }
        }
        let clear: usize = ranges.iter().map(|(s, e)| e - s).sum();
        self.clear_bytes += u64::try_from(clear).unwrap_or(0);
        self.opaque_bytes += u64::try_from(inner - clear).unwrap_or(0);
        // The opaque bytes as the SFU sees them, against the plaintext it must not see.
        let seen: Vec<u8> = wire
            .iter()
            .zip(&clear_mask)
            .filter(|(_, c)| !**c)
            .map(|(b, _)| *b)
            .collect();
        let real: Vec<u8> = plaintext
            .iter()
            .zip(&clear_mask)
            .filter(|(_, c)| !**c)
            .map(|(b, _)| *b)
            .collect();
        if seen.len() >= 8 && seen == real {
            self.plaintext_leaks += 1;
        }
        let clear_bytes: Vec<u8> = wire
            .iter()
            .zip(&clear_mask)
            .filter(|(_, c)| **c)
            .map(|(b, _)| *b)
            .collect();
        match codec {
            // RFC 6386 §9.1: a key frame has bit 0 of byte 0 clear; width and height follow
            // the start code, all in the clear 10 bytes.
            Codec::Vp8 if clear_bytes.first().is_some_and(|b| b & 1 == 0) => {
                if let Some(dims) = clear_bytes.get(6..10) {
                    let w = u16::from_le_bytes([dims[0], dims[1]]) & 0x3fff;
                    let h = u16::from_le_bytes([dims[2], dims[3]]) & 0x3fff;
                    self.vp8_keyframes.push((w, h));
                }
            }
            Codec::H264 => {
                for nal in media::nal_units(wire.get(..inner).unwrap_or_default()) {
                    if let Some(&h) = nal.bytes.first() {
                        self.nal_types.insert(h & 0x1f);
                    }
                }
            }
            _ => {}
        }
    }

    fn report(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "   forwarded {} frames ({} bytes); read the SFrame header (KID, CTR) of {}",
            self.frames, self.bytes, self.headers_read
        );
        let _ = writeln!(
            out,
            "   clear codec bytes: {} (frame headers, NAL headers, parameter sets); opaque: {}",
            self.clear_bytes, self.opaque_bytes
        );
        let sizes: std::collections::BTreeSet<String> = self
            .vp8_keyframes
            .iter()
            .map(|(w, h)| format!("{w}x{h}"))
            .collect();
        let _ = writeln!(
            out,
            "   VP8: {} key frames seen, size {}",
            self.vp8_keyframes.len(),
            sizes.into_iter().collect::<Vec<_>>().join(", ")
        );
        let types: Vec<String> = self.nal_types.iter().map(u8::to_string).collect();
        let _ = writeln!(out, "   H.264: NAL unit types seen {}", types.join(", "));
        let _ = write!(
            out,
            "   Opus: nothing but sizes; frames whose opaque bytes equal the plaintext: {}",
            self.plaintext_leaks
        );
        out
    }
}
