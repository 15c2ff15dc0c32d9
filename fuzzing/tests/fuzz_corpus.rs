//! The fuzz corpora under `fuzz/` (beside this crate): the seed generator, and every committed
//! input replayed through its target on each `cargo test --workspace`.
//!
//! - `fuzz/seeds/<target>/` is written by [`seeds`] from the RFC 9605 vectors and from frames
//!   the library seals. `seeds_are_current` fails when the files differ from what the generator
//!   writes; regenerate with
//!   `SFRAME_WRITE_SEEDS=1 cargo test -p secure-frame-fuzzing --test fuzz_corpus`.
//! - `fuzz/regressions/<target>/` holds inputs that once made a target fail (a crash file from
//!   `fuzz/artifacts/`, renamed for what it found). They are replayed here forever.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use secure_frame::codec::Codec;
use secure_frame::{BaseKey, CipherSuite, Counter, Encryptor, Header, KeyId};
use secure_frame_fuzzing::{
    self as fuzzing, CompatCase, CtrChoice, DecryptCase, DecryptEntry, EncryptEntry, EpochCase,
    EpochChoice, EpochOp, Event, RatchetCase, RatchetEvent, RoundTripCase, Sealer, SequenceCase,
    fixture_keys,
};
use serde_json::Value;

/// The repository's root: this crate is `fuzzing/` in it.
fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
}

fn fuzz_dir() -> PathBuf {
    root().join("fuzz")
}

fn hex(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(v[field].as_str().unwrap()).unwrap()
}

fn u64_of(v: &Value, field: &str) -> u64 {
    u64::from_str_radix(v[field].as_str().unwrap().strip_prefix("0x").unwrap(), 16).unwrap()
}

/// The RFC 9605 Appendix C.3 vectors: (suite, KID, CTR, base key, metadata, plaintext,
/// ciphertext).
struct Vector {
    suite: CipherSuite,
    kid: KeyId,
    ctr: Counter,
    base_key: Vec<u8>,
    metadata: Vec<u8>,
    pt: Vec<u8>,
    ct: Vec<u8>,
}

fn rfc() -> Value {
    let path = root().join("test-vectors/rfc9605.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn sframe_vectors(rfc: &Value) -> Vec<Vector> {
    rfc["sframe"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| Vector {
            suite: CipherSuite::from_id(u16::try_from(v["suite"].as_u64().unwrap()).unwrap())
                .unwrap(),
            kid: KeyId(u64_of(v, "kid")),
            ctr: Counter(u64_of(v, "ctr")),
            base_key: hex(v, "base_key"),
            metadata: hex(v, "metadata"),
            pt: hex(v, "pt"),
            ct: hex(v, "ct"),
        })
        .collect()
}

fn slug(suite: CipherSuite) -> String {
    suite.name().to_lowercase()
}

/// Every seed, by (target, file name).
fn seeds() -> BTreeMap<(&'static str, String), Vec<u8>> {
    let rfc = rfc();
    let vectors = sframe_vectors(&rfc);
    let mut seeds = BTreeMap::new();
    let targets = vec![
        ("header_decode", header_seeds(&rfc)),
        ("decrypt", decrypt_seeds(&vectors)),
        ("roundtrip", roundtrip_seeds(&vectors)),
        ("receiver_sequence", sequence_seeds()),
        ("codec_plan", codec_plan_seeds()),
        ("compat_open", compat_open_seeds()),
        (
            "ratchet_sequence",
            [ratchet_seeds(), ratchet_install_seeds()].concat(),
        ),
        ("envelope_parse", envelope_seeds()),
        (
            "epoch_sequence",
            [epoch_seeds(), epoch_window_seeds(), epoch_more_seeds()].concat(),
        ),
        ("envelope_open", envelope_open_seeds()),
        ("rtp_depacketize", rtp_depacketize_seeds()),
    ];
    for (target, files) in targets {
        for (name, bytes) in files {
            assert!(
                seeds.insert((target, name), bytes).is_none(),
                "duplicate seed name"
            );
        }
    }
    seeds
}

/// `header_decode`: the RFC's header vectors on the diagonal and both axes, each followed by
/// payload bytes; the malformed shapes; and (KID, CTR) pairs for the encode direction.
fn header_seeds(rfc: &Value) -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let mut add = |name: String, bytes: Vec<u8>| seeds.push((name, bytes));
    for v in rfc["header"].as_array().unwrap() {
        let (kid, ctr) = (u64_of(v, "kid"), u64_of(v, "ctr"));
        if kid == ctr || kid == 0 || ctr == 0 {
            let mut bytes = hex(v, "encoded");
            bytes.extend_from_slice(b"payload");
            add(format!("rfc9605-c1-kid{kid:x}-ctr{ctr:x}"), bytes);
        }
    }
    let malformed: [(&str, &[u8]); 8] = [
        ("empty", &[]),
        ("kid-truncated", &[0xf0, 0xff, 0xff]),
        ("ctr-truncated", &[0x8f, 0x08, 0xff]),
        ("kid-below-8-extended", &[0x80, 0x07]),
        ("kid-leading-zero", &[0x90, 0x00, 0x08]),
        ("ctr-below-8-extended", &[0x08, 0x05]),
        (
            "ctr-leading-zero",
            &[0x0f, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ),
        ("both-non-minimal", &[0x88, 0x00, 0x00]),
    ];
    for (name, bytes) in malformed {
        add(format!("malformed-{name}"), bytes.to_vec());
    }
    for (kid, ctr) in [(7, 8), (0xff, 0x100), (u64::MAX, u64::MAX)] {
        let bytes = [u64::to_be_bytes(kid), u64::to_be_bytes(ctr)].concat();
        add(format!("encode-kid{kid:x}-ctr{ctr:x}"), bytes);
    }
    seeds
}

/// `decrypt`: the RFC ciphertexts under KID 0x123 (one per suite, then every entry point),
/// genuine frames for the other keys, and the refusals just around them.
fn decrypt_seeds(vectors: &[Vector]) -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let mut add = |name: String, bytes: Vec<u8>| seeds.push((name, bytes));
    let base = |v: &Vector| DecryptCase {
        suite: v.suite,
        entry: DecryptEntry::StoreInPlace,
        prime: None,
        oversized_metadata: false,
        metadata: v.metadata.clone(),
        out_slack: 0,
        frame: v.ct.clone(),
    };
    for v in vectors {
        add(format!("rfc9605-c3-{}", slug(v.suite)), base(v).encode());
    }
    let gcm = &vectors[3];
    let entries = [
        ("store-to-vec", DecryptEntry::StoreToVec),
        ("key-in-place", DecryptEntry::KeyInPlace),
        ("key-copy", DecryptEntry::KeyCopy),
    ];
    for (name, entry) in entries {
        add(
            format!("rfc9605-c3-gcm-{name}"),
            DecryptCase { entry, ..base(gcm) }.encode(),
        );
    }
    let variants = [
        (
            "replayed",
            DecryptCase {
                prime: Some(0),
                ..base(gcm)
            },
        ),
        (
            "too-old",
            DecryptCase {
                prime: Some(127),
                ..base(gcm)
            },
        ),
        (
            "in-window",
            DecryptCase {
                prime: Some(1),
                ..base(gcm)
            },
        ),
        (
            "metadata-too-long",
            DecryptCase {
                oversized_metadata: true,
                ..base(gcm)
            },
        ),
        (
            "out-one-short",
            DecryptCase {
                entry: DecryptEntry::KeyCopy,
                out_slack: -1,
                ..base(gcm)
            },
        ),
        (
            "tag-cut",
            DecryptCase {
                frame: gcm.ct[..gcm.ct.len() - 1].to_vec(),
                ..base(gcm)
            },
        ),
        (
            "header-only",
            DecryptCase {
                frame: gcm.ct[..5].to_vec(),
                ..base(gcm)
            },
        ),
    ];
    for (name, case) in variants {
        add(format!("rfc9605-c3-gcm-{name}"), case.encode());
    }
    for key in &fixture_keys(CipherSuite::AesGcm128Sha256)[1..] {
        for ctr in [0, 0x1_0000_0000, u64::MAX] {
            let mut e = Encryptor::new(key.suite, key.kid, &BaseKey::new(key.base_key).unwrap());
            e.advance_counter_to(Counter(ctr)).unwrap();
            let frame = e.encrypt_to_vec(b"md", b"frame payload").unwrap();
            let case = DecryptCase {
                suite: CipherSuite::AesGcm128Sha256,
                entry: DecryptEntry::StoreInPlace,
                prime: None,
                oversized_metadata: false,
                metadata: b"md".to_vec(),
                out_slack: 0,
                frame,
            };
            let name = format!("genuine-kid{:x}-{}-ctr{ctr:x}", key.kid.0, slug(key.suite));
            add(name, case.encode());
        }
    }
    seeds
}

/// `roundtrip`: the RFC vectors through each encrypt entry point in turn, then the extremes.
fn roundtrip_seeds(vectors: &[Vector]) -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let mut add = |name: String, bytes: Vec<u8>| seeds.push((name, bytes));
    for (v, entry) in vectors.iter().zip(
        [
            EncryptEntry::Encrypt,
            EncryptEntry::InRoom,
            EncryptEntry::InPlace,
            EncryptEntry::ToVec,
        ]
        .into_iter()
        .cycle(),
    ) {
        let case = RoundTripCase {
            suite: v.suite,
            entry,
            refusal_first: false,
            kid: v.kid,
            ctr: v.ctr,
            flip_bit: 0,
            base_key: v.base_key.clone(),
            metadata: v.metadata.clone(),
            plaintext: v.pt.clone(),
        };
        add(format!("rfc9605-c3-{}", slug(v.suite)), case.encode());
    }
    for suite in CipherSuite::ALL.iter().copied().take(5) {
        let case = RoundTripCase {
            suite,
            entry: EncryptEntry::InRoom,
            refusal_first: true,
            kid: KeyId(u64::MAX),
            ctr: Counter(u64::MAX),
            flip_bit: 8 * 17 + 3,
            base_key: vec![0x42; 128],
            metadata: vec![],
            plaintext: vec![],
        };
        add(format!("exhausted-empty-{}", slug(suite)), case.encode());
    }
    seeds
}

/// `receiver_sequence`: the window's rules, one stream each.
fn sequence_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let mut add = |name: String, bytes: Vec<u8>| seeds.push((name, bytes));
    let ev = |slot, ctr, forged, forge_metadata, to_vec| Event {
        slot,
        ctr,
        forged,
        forge_metadata,
        to_vec,
    };
    let genuine = |slot, ctr| ev(slot, ctr, false, false, false);
    let streams = [
        (
            "in-order",
            128,
            (0..8)
                .map(|_| genuine(0, CtrChoice::Forward(1)))
                .collect::<Vec<_>>(),
        ),
        (
            "reordered-in-window",
            16,
            vec![
                genuine(0, CtrChoice::Absolute(100)),
                genuine(0, CtrChoice::Backward(3)),
                genuine(0, CtrChoice::Backward(15)),
                genuine(0, CtrChoice::Forward(2)),
            ],
        ),
        (
            "replay-and-too-old",
            4,
            vec![
                genuine(1, CtrChoice::Absolute(10)),
                genuine(1, CtrChoice::Forward(0)),
                genuine(1, CtrChoice::Backward(4)),
                genuine(1, CtrChoice::Backward(3)),
            ],
        ),
        (
            "forged-then-genuine",
            128,
            vec![
                ev(2, CtrChoice::Forward(5), true, false, false),
                ev(2, CtrChoice::Forward(5), true, true, true),
                genuine(2, CtrChoice::Forward(5)),
            ],
        ),
        (
            "unknown-kid",
            128,
            vec![
                genuine(3, CtrChoice::Forward(0)),
                genuine(0, CtrChoice::Forward(0)),
            ],
        ),
        (
            "window-disabled-replays",
            0,
            vec![
                genuine(0, CtrChoice::Absolute(7)),
                ev(0, CtrChoice::Absolute(7), false, false, true),
            ],
        ),
        (
            "top-of-counter-space",
            1,
            vec![
                genuine(2, CtrChoice::Absolute(u64::MAX)),
                genuine(2, CtrChoice::Backward(0)),
                genuine(2, CtrChoice::Backward(1)),
            ],
        ),
    ];
    for (name, window, events) in streams {
        add(
            name.to_string(),
            SequenceCase {
                window,
                suite: 0,
                events,
            }
            .encode(),
        );
    }
    seeds
}

/// Frames of every codec, from `tests/codecs.rs` (research/codecs.md), as hex with spaces.
const CODEC_FRAMES: [(&str, Codec, &str); 9] = [
    ("opus-silk", Codec::Opus, "78 0b e4 c1 36 ec c5 80"),
    ("pcmu", Codec::Pcmu, "ff 7f 00 80"),
    (
        "vp8-key",
        Codec::Vp8,
        "10 02 00 9d 01 2a 08 00 08 00 00 47 08 85 85 88 85 84 88 02 02 00 0c 0d 60 00 fe ff ab 50 80",
    ),
    ("vp8-delta", Codec::Vp8, "31 01 00 aa bb cc"),
    (
        "vp9-key",
        Codec::Vp9,
        "82 49 83 42 00 01 e0 01 e0 02 c7 01 00",
    ),
    (
        "av1-td-seq-frame",
        Codec::Av1,
        "12 00 0a 0a 0000002ca44c4b6c7a40 32 05 1122334455",
    ),
    (
        "h264-slice-3-byte-start",
        Codec::H264,
        "000001 61 e0 fafafa",
    ),
    (
        "h264-sps-pps-sei-idr",
        Codec::H264,
        "00000001 274d0033ab402802dd00da08846a00 00000001 28ee3c80 00000001 06 051a47564adc5c4c433f94efc5113cd143a801ffccccff020004ca9080 00000001 25 b8 fafafa",
    ),
    (
        "h265-vps-sps-pps-sei-slice",
        Codec::H265,
        "0000000140010c01ffff016000000300b0000003000003005d17024 000000001420101016000000300b0000003000003005da00280802d16205ee45914bff2e7f13fa2 000000014401c072f05324000000014e01051a47564adc5c4c433f94efc5113cd143a803ee0000ee02001fc8b88 0000000012801abab",
    ),
];

fn codec_frame(hex_with_spaces: &str) -> Vec<u8> {
    hex::decode(hex_with_spaces.replace(' ', "")).unwrap()
}

/// `codec_plan`: a frame of each codec under the default policy, the Annex B and AV1 ones again
/// under the other policy switches, and the empty frame.
fn codec_plan_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    for (name, codec, hex) in CODEC_FRAMES {
        let control = fuzzing::codec_control(codec);
        let frame = codec_frame(hex);
        seeds.push((name.to_string(), [&[control][..], &frame].concat()));
        if matches!(codec, Codec::H264 | Codec::H265 | Codec::Av1 | Codec::Vp8) {
            seeds.push((
                format!("{name}-other-policy"),
                [&[control | 0xf0][..], &frame].concat(),
            ));
        }
    }
    seeds.push((
        "empty-vp9".to_string(),
        vec![fuzzing::codec_control(Codec::Vp9)],
    ));
    seeds
}

/// `compat_open`: genuine frames of each codec (clean, with one flipped bit, truncated by one
/// byte, under `max_ranges` 2, accepted unprotected), the compat module's worked example as
/// received, and range maps for the direct `decode_map` check.
fn compat_open_seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let case = |control: u8, position: u16, mask: u8, body: Vec<u8>| {
        CompatCase {
            control,
            ctr: 5,
            position,
            mask,
            metadata: b"md".to_vec(),
            body,
        }
        .encode()
    };
    for (name, codec, hex) in CODEC_FRAMES {
        let control = fuzzing::codec_control(codec) | 0x10;
        let frame = codec_frame(hex);
        seeds.push((
            format!("genuine-{name}"),
            case(control, 0, 0, frame.clone()),
        ));
        if matches!(codec, Codec::H264 | Codec::Av1 | Codec::Vp8) {
            seeds.push((
                format!("flipped-{name}"),
                case(control, 3, 0x01, frame.clone()),
            ));
            seeds.push((
                format!("cut-{name}"),
                case(control, u16::MAX, 0x01, frame.clone()),
            ));
            seeds.push((
                format!("max-ranges-2-{name}"),
                case(control | 0x40, 0, 0, frame),
            ));
        }
    }
    let example =
        codec_frame("0000000161e0 2a2e5b 10 a9d8a8eb13787cafb43c67303ef925e6 0006 0017 fafa");
    seeds.push((
        "module-example-unknown-kid".to_string(),
        case(0, 0, 0, example),
    ));
    seeds.push((
        "unprotected-accepted".to_string(),
        case(0x20, 0, 0, b"plain frame".to_vec()),
    ));
    seeds.push((
        "range-map".to_string(),
        case(0, 0, 4, vec![0x00, 0x02, 0x01, 0x01]),
    ));
    seeds
}

/// `ratchet_sequence`: in-order ratchets, a catch-up, late frames within and beyond the
/// retained steps, replays, forgeries and far KIDs, under wide and narrow `R`.
fn ratchet_seeds() -> Vec<(String, Vec<u8>)> {
    use RatchetEvent::{Deliver, FarKid, Forge, Ratchet, Seal};
    let case = |bits, max_forward, retained, events: Vec<RatchetEvent>| {
        RatchetCase {
            suite: CipherSuite::AesGcm128Sha256,
            bits,
            max_forward,
            retained,
            generation: 3,
            events,
        }
        .encode()
    };
    vec![
        (
            "in-order".to_string(),
            case(
                8,
                16,
                2,
                vec![Seal(true), Ratchet(0), Seal(true), Ratchet(0), Seal(true)],
            ),
        ),
        (
            "catch-up-then-late".to_string(),
            case(
                4,
                8,
                2,
                vec![
                    Seal(false),
                    Ratchet(2),
                    Seal(false),
                    Ratchet(1),
                    Seal(true),
                    Deliver(1),
                    Deliver(0),
                ],
            ),
        ),
        (
            "replay-and-forge".to_string(),
            case(
                4,
                4,
                1,
                vec![
                    Seal(true),
                    Deliver(0),
                    Forge(3),
                    Ratchet(0),
                    Seal(true),
                    Forge(9),
                ],
            ),
        ),
        (
            "beyond-max-forward".to_string(),
            case(
                3,
                2,
                1,
                vec![Ratchet(3), Seal(true), FarKid(0), FarKid(1), FarKid(6)],
            ),
        ),
        (
            "one-bit".to_string(),
            case(
                1,
                1,
                0,
                vec![
                    Seal(true),
                    Ratchet(0),
                    Seal(true),
                    Ratchet(0),
                    Seal(true),
                    Deliver(0),
                ],
            ),
        ),
    ]
}

/// `ratchet_sequence` with installs and new generations: replayed keys refused, a late frame of
/// the previous generation, the `2^(R-1)` boundary, and the one replay the modulo-`2^R` step
/// rule lets through.
fn ratchet_install_seeds() -> Vec<(String, Vec<u8>)> {
    use RatchetEvent::{
        Deliver, FarKid, InstallArbitrary, InstallRecorded, InstallSender, NewGeneration, Ratchet,
        Seal,
    };
    let case = |bits, max_forward, retained, events: Vec<RatchetEvent>| {
        RatchetCase {
            suite: CipherSuite::AesGcm128Sha256,
            bits,
            max_forward,
            retained,
            generation: 3,
            events,
        }
        .encode()
    };
    vec![
        (
            // Step 0 is retained, step 1 current: both installs are refused and both frames
            // stay replays; after a new generation, generation 3's keys are older.
            "install-replayed-keys-refused".to_string(),
            case(
                4,
                8,
                2,
                vec![
                    Seal(true),
                    Ratchet(0),
                    Seal(true),
                    InstallRecorded(2),
                    Deliver(0),
                    InstallRecorded(1),
                    Deliver(1),
                    NewGeneration(9),
                    InstallSender(0),
                    InstallRecorded(2),
                    Deliver(1),
                    Deliver(0),
                ],
            ),
        ),
        (
            // A frame kept from generation 3 opens under the retained key after generation
            // 4 was installed, once.
            "new-generation-then-late-frame".to_string(),
            case(
                8,
                16,
                2,
                vec![
                    Seal(true),
                    Seal(false),
                    NewGeneration(1),
                    InstallSender(0),
                    Seal(true),
                    Deliver(1),
                    Deliver(1),
                    FarKid(1),
                ],
            ),
        ),
        (
            // R = 3: the sender's key 4 = 2^(R-1) steps ahead is installed; step 0, now
            // retained and so also 4 steps ahead, is not, and its frame stays a replay; 5
            // ahead is not (a frame then catches up to it); a foreign key 4 ahead is, 5 ahead
            // of that is not, nor a generation past 2^(64-R) - 1.
            "install-half-the-steps-ahead".to_string(),
            case(
                3,
                5,
                2,
                vec![
                    Seal(true),
                    Ratchet(3),
                    InstallSender(0),
                    InstallRecorded(8),
                    Deliver(0),
                    Seal(true),
                    Ratchet(3),
                    Ratchet(0),
                    InstallSender(1),
                    Seal(true),
                    InstallArbitrary(0x44),
                    InstallArbitrary(0x4c),
                    InstallArbitrary(0x83),
                    Deliver(1),
                ],
            ),
        ),
        (
            // R = 2, nothing retained: step 0's key, replayed when the receiver is at step 2,
            // is 2 = 2^(R-1) steps ahead modulo 4 but not on the current key's path: refused,
            // and frame 0 stays a replay (a step comparison modulo 2^R installed it).
            "replayed-key-wrapped-ahead-refused".to_string(),
            case(
                2,
                1,
                0,
                vec![
                    Seal(true),
                    Ratchet(1),
                    InstallSender(0),
                    InstallRecorded(4),
                    Deliver(0),
                    Deliver(0),
                ],
            ),
        ),
    ]
}

/// An `epoch_sequence` install: `Near(8)` is the epoch installed last (0 at first), `Near(9)`
/// the one after it.
fn install(epoch: EpochChoice, group_size: u8, own_index: u8, key: u8) -> EpochOp {
    EpochOp::Install {
        epoch,
        group_size,
        own_index,
        key,
    }
}

/// Sender `sender` (context 0) of installed epoch `epoch`.
fn sealer(epoch: u8, sender: u8) -> Sealer {
    Sealer {
        epoch,
        sender,
        context: 0,
    }
}

fn seal(epoch: u8, sender: u8, ctr: CtrChoice, deliver: bool) -> EpochOp {
    EpochOp::Seal {
        sealer: sealer(epoch, sender),
        ctr,
        deliver,
    }
}

fn deliver(frame: u8) -> EpochOp {
    EpochOp::Deliver {
        frame,
        other_metadata: false,
    }
}

fn epoch_case(
    epoch_bits: u8,
    max_epochs: u8,
    max_cached_keys: u8,
    window: u8,
    ops: Vec<EpochOp>,
) -> Vec<u8> {
    EpochCase {
        suite: CipherSuite::AesGcm128Sha256,
        epoch_bits,
        max_epochs,
        max_cached_keys,
        window,
        ops,
    }
    .encode()
}

/// `epoch_sequence`: one stream per rule of the MLS epoch store (RFC 9605 §5.2): frames from
/// live, rolled-over, evicted and removed epochs; members, non-members and the receiver's own
/// index.
fn epoch_seeds() -> Vec<(String, Vec<u8>)> {
    use EpochChoice::Near;
    let case = epoch_case;
    let fwd = CtrChoice::Forward;
    vec![
        (
            "live-epochs-replay-and-forge".to_string(),
            case(
                4,
                4,
                4,
                0,
                vec![
                    install(Near(8), 4, 0, 1),
                    install(Near(9), 4, 0, 1),
                    seal(1, 1, fwd(3), true),
                    seal(0, 2, fwd(0), true),
                    deliver(0),
                    EpochOp::Deliver {
                        frame: 1,
                        other_metadata: true,
                    },
                    EpochOp::Resolve(sealer(0, 3)),
                ],
            ),
        ),
        (
            "rollover-one-epoch-bit".to_string(),
            case(
                1,
                2,
                4,
                0,
                vec![
                    install(Near(8), 2, 0, 1),
                    seal(0, 1, fwd(1), true),
                    install(Near(9), 2, 0, 1),
                    install(Near(9), 2, 0, 1),
                    seal(0, 1, fwd(0), false),
                    deliver(0),
                    EpochOp::EvictRollover(Near(9)),
                    deliver(1),
                ],
            ),
        ),
        (
            "max-epochs-evicts-oldest".to_string(),
            case(
                4,
                2,
                4,
                0,
                vec![
                    install(Near(8), 3, 0xff, 1),
                    seal(0, 2, fwd(0), false),
                    install(Near(9), 3, 0xff, 1),
                    install(Near(9), 3, 0xff, 1),
                    deliver(0),
                    seal(2, 1, fwd(5), true),
                ],
            ),
        ),
        (
            "members-and-own-index".to_string(),
            case(
                8,
                4,
                4,
                0,
                vec![
                    install(Near(8), 5, 2, 1),
                    seal(0, 2, fwd(0), true),
                    seal(0, 6, fwd(0), true),
                    seal(0, 4, fwd(0), true),
                    EpochOp::Resolve(sealer(0, 5)),
                    EpochOp::ResolveKid(0x0400),
                ],
            ),
        ),
    ]
}

/// `epoch_sequence`, continued: the replay window's edges, switched off, kept for a key evicted
/// from the cache (a replay after the eviction is refused), and forgotten with a removed epoch.
fn epoch_window_seeds() -> Vec<(String, Vec<u8>)> {
    use EpochChoice::{Absolute, Live, Near};
    let case = epoch_case;
    let fwd = CtrChoice::Forward;
    vec![
        (
            "window-edges".to_string(),
            case(
                4,
                4,
                4,
                2 + 3,
                vec![
                    install(Near(8), 2, 0, 1),
                    seal(0, 1, CtrChoice::Absolute(100), true),
                    seal(0, 1, CtrChoice::Backward(3), true),
                    seal(0, 1, CtrChoice::Backward(4), true),
                    seal(0, 1, fwd(0), true),
                    EpochOp::SetWindow(1),
                    EpochOp::Remove(Live(0)),
                    install(Near(8), 2, 0, 1),
                    deliver(0),
                    deliver(0),
                ],
            ),
        ),
        (
            "replay-after-cache-eviction".to_string(),
            case(
                4,
                4,
                1,
                0,
                vec![
                    install(Near(8), 4, 0, 1),
                    seal(0, 1, fwd(1), true),
                    seal(0, 2, fwd(1), true),
                    deliver(0),
                ],
            ),
        ),
        (
            "remove-and-reinstall".to_string(),
            case(
                8,
                8,
                4,
                0,
                vec![
                    install(Absolute(1000), 4, 0, 1),
                    install(Near(9), 4, 0, 1),
                    seal(0, 3, fwd(7), true),
                    EpochOp::RemoveBefore(Near(8)),
                    deliver(0),
                    install(Absolute(1000), 4, 0, 1),
                    deliver(0),
                    EpochOp::Remove(Absolute(1000)),
                    install(Absolute(1000), 4, 0, 2),
                    deliver(0),
                ],
            ),
        ),
    ]
}

/// `epoch_sequence`, continued: refused installs and limits, mutated and arbitrary frames, the
/// widest KID layout.
fn epoch_more_seeds() -> Vec<(String, Vec<u8>)> {
    use EpochChoice::{Absolute, Near};
    let case = epoch_case;
    let fwd = CtrChoice::Forward;
    vec![
        (
            "refused-installs-and-limits".to_string(),
            case(
                1,
                3,
                0,
                1,
                vec![
                    install(Near(8), 4, 0, 1),
                    install(Near(8), 4, 0, 1),
                    install(Near(9), 0, 0, 1),
                    install(Near(9), 0xfe, 0, 1),
                    install(Near(9), 0xff, 0xff, 1),
                    install(Near(9), 4, 4, 1),
                    install(Near(9), 0xfd, 31, 1),
                ],
            ),
        ),
        (
            "mutated-and-raw".to_string(),
            case(
                2,
                4,
                4,
                0,
                vec![
                    install(Near(8), 4, 0, 1),
                    seal(0, 1, fwd(0), false),
                    EpochOp::Mutate {
                        frame: 0,
                        position: 0,
                        mask: 0x01,
                    },
                    EpochOp::Mutate {
                        frame: 0,
                        position: 5,
                        mask: 0x80,
                    },
                    EpochOp::Mutate {
                        frame: 0,
                        position: 17,
                        mask: 0,
                    },
                    EpochOp::Raw(vec![0x44, 0xaa, 0xbb]),
                    EpochOp::Raw(vec![0x88]),
                    deliver(0),
                ],
            ),
        ),
        (
            "widest-layout".to_string(),
            case(
                32,
                8,
                2,
                0,
                vec![
                    install(Absolute(u64::MAX), 0xfd, 0, 1),
                    EpochOp::Seal {
                        sealer: Sealer {
                            epoch: 0,
                            sender: 0xff,
                            context: 1,
                        },
                        ctr: CtrChoice::Absolute(u64::MAX),
                        deliver: true,
                    },
                    install(Absolute(u64::MAX >> 32), 1, 0xff, 1),
                    seal(1, 0, fwd(0), true),
                    EpochOp::ResolveKid(u64::MAX),
                ],
            ),
        ),
    ]
}

/// The P-256 base point, uncompressed: a valid encapsulated key for envelope seeds.
const P256_G: &str = "04 6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296 \
    4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5";

/// `envelope_parse`: well-formed version 1 envelopes (shortest and longest sealed key, a long
/// sender identity) and one malformed per refusal.
fn envelope_seeds() -> Vec<(String, Vec<u8>)> {
    let envelope = |version: u8, suite: u16, bits: u8, id: &[u8], point: &[u8], sealed: usize| {
        let mut out = vec![version];
        out.extend_from_slice(&suite.to_be_bytes());
        out.push(bits);
        out.extend_from_slice(&0x0123_4567_89ab_cdef_u64.to_be_bytes());
        out.push(u8::try_from(id.len()).unwrap());
        out.extend_from_slice(id);
        out.extend_from_slice(point);
        out.extend_from_slice(&u16::try_from(sealed).unwrap().to_be_bytes());
        out.extend(std::iter::repeat_n(0x5e, sealed));
        out
    };
    let g = codec_frame(P256_G);
    let gcm = CipherSuite::AesGcm128Sha256.id();
    let mut not_a_point = g.clone();
    not_a_point[64] ^= 1;
    let mut trailing = envelope(1, gcm, 8, b"alice", &g, 32);
    trailing.push(0);
    let mut truncated = envelope(1, gcm, 8, b"alice", &g, 32);
    truncated.pop();
    vec![
        (
            "valid-shortest-sealed".to_string(),
            envelope(1, gcm, 8, b"alice", &g, 17),
        ),
        (
            "valid-longest-sealed".to_string(),
            envelope(1, 0x0005, 63, b"b", &g, 144),
        ),
        (
            "valid-long-sender".to_string(),
            envelope(1, 0x0001, 1, &[0x42; 255], &g, 48),
        ),
        (
            "bad-version".to_string(),
            envelope(2, gcm, 8, b"alice", &g, 32),
        ),
        (
            "bad-suite".to_string(),
            envelope(1, 0xffff, 8, b"alice", &g, 32),
        ),
        (
            "bad-ratchet-bits".to_string(),
            envelope(1, gcm, 64, b"alice", &g, 32),
        ),
        ("empty-sender".to_string(), envelope(1, gcm, 8, b"", &g, 32)),
        (
            "not-a-point".to_string(),
            envelope(1, gcm, 8, b"alice", &not_a_point, 32),
        ),
        (
            "sealed-too-short".to_string(),
            envelope(1, gcm, 8, b"alice", &g, 16),
        ),
        ("trailing".to_string(), trailing),
        ("truncated".to_string(), truncated),
    ]
}

/// `envelope_open`: each genuine envelope unaltered (then installed into a receiver that is
/// older, as old, newer, or of another suite or `R`), opened by the wrong party, with one byte of
/// each field flipped, cut, flipped twice back to genuine, and as raw bytes.
fn envelope_open_seeds() -> Vec<(String, Vec<u8>)> {
    use fuzzing::{Edit, EnvelopeBody, EnvelopeCase, Opener};
    type Edits = &'static [(u16, u8)];
    let case = |envelope, opener, generation, edits: &[(u16, u8)]| EnvelopeCase {
        envelope,
        opener,
        other_suite: false,
        other_bits: false,
        generation,
        step: 5,
        body: EnvelopeBody::Edits(
            edits
                .iter()
                .map(|&(position, mask)| Edit { position, mask })
                .collect(),
        ),
    };
    let genuine = |envelope| case(envelope, Opener::Recipient, 0, &[]);
    let mut seeds = Vec::new();
    for envelope in 0..4 {
        seeds.push((format!("genuine-{envelope}"), genuine(envelope).encode()));
    }
    let stale = case(0, Opener::Recipient, 2, &[]);
    let other_suite = EnvelopeCase {
        other_suite: true,
        ..genuine(0)
    };
    let other_bits = EnvelopeCase {
        other_bits: true,
        ..genuine(1)
    };
    seeds.extend([
        ("genuine-0-same-generation".to_string(), stale.encode()),
        ("genuine-0-other-suite".to_string(), other_suite.encode()),
        ("genuine-1-other-r".to_string(), other_bits.encode()),
    ]);
    // Envelope 0 ("alice", 16-byte key): header 0..18, encapsulated key 18..83, length 83..85,
    // ciphertext 85..101, tag 101..117.
    let altered: [(&str, Opener, Edits); 14] = [
        ("another-recipient", Opener::Stranger, &[]),
        ("another-sender-key", Opener::OtherSender, &[]),
        ("another-identity", Opener::OtherId, &[]),
        ("flipped-version", Opener::Recipient, &[(0, 0x01)]),
        ("flipped-suite", Opener::Recipient, &[(2, 0x01)]),
        ("flipped-r", Opener::Recipient, &[(3, 0x01)]),
        ("flipped-kid", Opener::Recipient, &[(11, 0x01)]),
        ("flipped-sender-id", Opener::Recipient, &[(13, 0x20)]),
        ("flipped-encapsulated-key", Opener::Recipient, &[(18, 0x01)]),
        ("flipped-sealed-length", Opener::Recipient, &[(84, 0x01)]),
        ("flipped-ciphertext", Opener::Recipient, &[(90, 0x40)]),
        ("flipped-tag", Opener::Recipient, &[(116, 0x80)]),
        ("cut", Opener::Recipient, &[(100, 0)]),
        (
            "flipped-twice-is-genuine",
            Opener::Recipient,
            &[(90, 0x40), (90, 0x40)],
        ),
    ];
    for (name, opener, edits) in altered {
        seeds.push((name.to_string(), case(0, opener, 0, edits).encode()));
    }
    let envelopes = fuzzing::genuine_envelopes();
    let raw = |envelope, bytes: Vec<u8>| EnvelopeCase {
        body: EnvelopeBody::Raw(bytes),
        ..genuine(envelope)
    };
    seeds.extend([
        (
            "raw-genuine-0".to_string(),
            raw(0, envelopes[0].clone()).encode(),
        ),
        (
            "raw-genuine-3-as-0".to_string(),
            raw(0, envelopes[3].clone()).encode(),
        ),
        (
            "raw-truncated".to_string(),
            raw(0, vec![1, 0, 4, 8]).encode(),
        ),
    ]);
    seeds
}

/// Every file under `fuzz/<kind>/<target>/`, by target.
fn corpus(kind: &str) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    let Ok(targets) = std::fs::read_dir(fuzz_dir().join(kind)) else {
        return files;
    };
    for target in targets {
        let target = target.unwrap();
        let name = target.file_name().into_string().unwrap();
        for file in std::fs::read_dir(target.path()).unwrap() {
            files.push((name.clone(), file.unwrap().path()));
        }
    }
    files.sort();
    files
}

/// `rtp_depacketize`: no arbitrary packets then genuine frames of one and several fragments in
/// order, reversed and with duplicates; arbitrary packets of every descriptor shape.
fn rtp_depacketize_seeds() -> Vec<(String, Vec<u8>)> {
    let genuine = |len: u8, max_payload: u8, origin: u8, shuffle: &[u8], dups: &[u8]| {
        let mut out = vec![0x12, 0x34, 0]; // start sequence number, no arbitrary packets
        out.extend_from_slice(&[len - 1, max_payload - 2, origin]);
        out.extend_from_slice(shuffle);
        out.push(u8::try_from(dups.len()).unwrap());
        out.extend_from_slice(dups);
        out
    };
    let mut arbitrary = vec![0xff, 0xf0, 12];
    for (i, descriptor) in [
        0x80u8, 0x00, 0x40, 0xc0, 0xa0, 0x60, 0x20, 0xe0, 0x80, 0x40, 0x00, 0xff,
    ]
    .into_iter()
    .enumerate()
    {
        let step = u8::try_from(i % 5).unwrap() + 1;
        arbitrary.extend_from_slice(&[
            step,
            u8::try_from(i * 37 % 256).unwrap(),
            5,
            descriptor,
            1,
            2,
            3,
            4,
        ]);
    }
    vec![
        (
            "genuine-one-fragment".to_string(),
            genuine(10, 60, 0, &[], &[]),
        ),
        (
            "genuine-in-order".to_string(),
            genuine(100, 20, 0, &[0; 5], &[]),
        ),
        (
            "genuine-rotated-packetized".to_string(),
            genuine(100, 20, 1, &[0, 0, 0, 0, 0], &[1, 3]),
        ),
        (
            "genuine-tiny-fragments-duplicated".to_string(),
            genuine(7, 2, 0, &[3, 1, 4, 1, 5, 2], &[0, 6, 3]),
        ),
        (
            "arbitrary-descriptors-across-the-wrap".to_string(),
            arbitrary,
        ),
    ]
}

/// Held by the tests that read or write `fuzz/seeds/`, so that regenerating the seeds never
/// races the replay of the committed inputs (the tests of one binary run in parallel).
static SEED_FILES: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn seeds_are_current() {
    let _files = SEED_FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let seeds = seeds();
    let targets: Vec<&str> = seeds.keys().map(|(target, _)| *target).collect();
    if std::env::var_os("SFRAME_WRITE_SEEDS").is_some() {
        let dir = fuzz_dir().join("seeds");
        for target in &targets {
            let _ = std::fs::remove_dir_all(dir.join(target));
        }
        for ((target, name), bytes) in &seeds {
            std::fs::create_dir_all(dir.join(target)).unwrap();
            std::fs::write(dir.join(target).join(name), bytes).unwrap();
        }
    }
    let on_disk: BTreeMap<(String, String), Vec<u8>> = corpus("seeds")
        .into_iter()
        .map(|(target, path)| {
            let name = path.file_name().unwrap().to_str().unwrap().to_string();
            ((target, name), std::fs::read(&path).unwrap())
        })
        .collect();
    let generated: BTreeMap<(String, String), Vec<u8>> = seeds
        .into_iter()
        .map(|((t, n), b)| ((t.to_string(), n), b))
        .collect();
    assert!(
        on_disk == generated,
        "fuzz/seeds differs from the generator: regenerate with \
         SFRAME_WRITE_SEEDS=1 cargo test -p secure-frame-fuzzing --test fuzz_corpus"
    );
    let total: usize = generated.values().map(Vec::len).sum();
    assert!(total < 16 * 1024, "seeds stay small: {total} bytes");
}

#[test]
fn every_committed_input_passes_its_target() {
    let _files = SEED_FILES
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let mut ran = 0;
    for kind in ["seeds", "regressions"] {
        for (target, path) in corpus(kind) {
            let (_, run) = fuzzing::TARGETS
                .iter()
                .find(|(name, _)| *name == target)
                .unwrap_or_else(|| panic!("fuzz/{kind}/{target}: no such target"));
            run(&std::fs::read(&path).unwrap());
            ran += 1;
        }
    }
    assert!(ran > 0, "no corpus files found under fuzz/");
}

/// The seeds reach what they are named for: the RFC frames decrypt in the `decrypt` target's
/// receiver (so the fuzzer starts from accepted frames, not only from refusals).
#[test]
fn rfc_frames_are_accepted_by_the_decrypt_fixture() {
    for v in sframe_vectors(&rfc()) {
        let mut store = secure_frame::Decryptor::new(v.suite);
        let key = fixture_keys(v.suite)[0];
        assert_eq!((key.kid, key.base_key), (v.kid, v.base_key.as_slice()));
        store
            .add_key(key.kid, &BaseKey::new(key.base_key).unwrap())
            .unwrap();
        let mut frame = v.ct.clone();
        assert_eq!(
            store.decrypt_in_place(&v.metadata, &mut frame).unwrap(),
            v.pt
        );
        assert_eq!(Header::decode(&v.ct).unwrap().0.counter(), v.ctr);
    }
}
