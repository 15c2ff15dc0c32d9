//! The built `sframe` binary on the bundled media and vectors: what it prints and its exit
//! status, for success and for every kind of failure.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    missing_docs,
    reason = "test code"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use secure_frame::codec::{self, Codec, Plan, Policy};
use sframe_cli::media::{self, Format};

const KEY: &str = "000102030405060708090a0b0c0d0e0f";
const WRONG_KEY: &str = "0f0e0d0c0b0a09080706050403020100";

const CLIPS: [(&str, Format, Codec, usize); 7] = [
    ("vp8.ivf", Format::Ivf, Codec::Vp8, 10),
    ("vp9.ivf", Format::Ivf, Codec::Vp9, 10),
    ("av1.ivf", Format::Ivf, Codec::Av1, 10),
    ("h264-main.h264", Format::H264, Codec::H264, 10),
    ("h264-baseline.h264", Format::H264, Codec::H264, 10),
    ("h265.h265", Format::H265, Codec::H265, 10),
    ("opus.ogg", Format::Ogg, Codec::Opus, 21),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn media_path(file: &str) -> PathBuf {
    repo().join("test-data").join("media").join(file)
}

fn sframe(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sframe"))
        .args(args)
        .current_dir(repo())
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exited, not killed")
}

/// A scratch directory for one test.
fn scratch(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new().prefix(name).tempdir().unwrap()
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn encrypt(mode: &str, input: &Path, output: &Path) -> Output {
    sframe(&[
        "encrypt",
        "--mode",
        mode,
        "--suite",
        "4",
        "--kid",
        "7",
        "--key",
        KEY,
        p(input),
        p(output),
    ])
}

fn decrypt(mode: &str, key: &str, input: &Path, output: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["decrypt", "--mode", mode, "--suite", "4", "--key", key];
    args.extend_from_slice(extra);
    args.push(p(input));
    args.push(p(output));
    sframe(&args)
}

// ---- vectors ----

#[test]
fn vectors_rfc_file_passes_all_297() {
    for file in [
        "test-vectors/rfc9605.json",
        "test-vectors/official/rfc9605-test-vectors.json",
    ] {
        let o = sframe(&["vectors", file]);
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        let out = stdout(&o);
        assert_eq!(out.lines().last(), Some("297 passed, 0 failed"), "{out}");
        assert!(out.contains("header"), "{out}");
    }
}

#[test]
fn vectors_default_directory_passes() {
    let o = sframe(&["vectors"]);
    let out = stdout(&o);
    for group in ["ratchet", "pairwise", "sender_keys", "sframe"] {
        assert!(out.contains(group), "{group}: {out}");
    }
    let last = out.lines().last().unwrap();
    assert_eq!(code(&o), 0, "{out}{}", stderr(&o));
    assert_eq!(last, "645 passed, 0 failed", "{out}");
}

/// The project's shared directory: `$SFRAME_SHARED_DIR`, else `../shared` beside the
/// repository (scripts/test sets the variable when the clone sits elsewhere).
fn shared() -> PathBuf {
    std::env::var_os("SFRAME_SHARED_DIR").map_or_else(|| repo().join("../shared"), PathBuf::from)
}

#[test]
fn vectors_shared_drafts_pass() {
    let drafts = shared().join("test-vectors/drafts");
    assert!(
        drafts.is_dir(),
        "{} not found: set SFRAME_SHARED_DIR to the project's shared directory",
        drafts.display()
    );
    let o = sframe(&["vectors", p(&drafts)]);
    let last = stdout(&o).lines().last().map(str::to_owned);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert_eq!(last.as_deref(), Some("11 passed, 0 failed"));
}

#[test]
fn vectors_entry_with_a_wrong_value_fails_and_is_named() {
    let dir = scratch("vectors-wrong");
    let text = std::fs::read_to_string(repo().join("test-vectors/rfc9605.json")).unwrap();
    let mut json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ct = json["sframe"][2]["ct"].as_str().unwrap().to_owned();
    let last = if ct.ends_with('0') { "1" } else { "0" };
    let changed = format!("{}{last}", &ct[..ct.len() - 1]);
    json["sframe"][2]["ct"] = serde_json::Value::String(changed);
    let path = dir.path().join("changed.json");
    std::fs::write(&path, serde_json::to_string_pretty(&json).unwrap()).unwrap();
    let o = sframe(&["vectors", p(&path)]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert_eq!(out.lines().last(), Some("296 passed, 1 failed"), "{out}");
    assert!(out.contains("FAILED"), "{out}");
    assert!(
        out.contains("sframe[2] (suite 3, kid 0x123, ctr 0x4567)"),
        "{out}"
    );
    assert!(out.contains("encrypt: ct: expected"), "{out}");
}

#[test]
fn vectors_unreadable_or_unparsable_file_is_an_error() {
    let o = sframe(&["vectors", "no/such/file.json"]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("cannot read no/such/file.json"),
        "{}",
        stderr(&o)
    );
    assert!(!stdout(&o).contains("passed"));

    let dir = scratch("vectors-bad");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"header\": [").unwrap();
    let o = sframe(&["vectors", p(&bad)]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("cannot parse"), "{}", stderr(&o));

    std::fs::write(&bad, "{\"mystery\": []}").unwrap();
    let o = sframe(&["vectors", p(&bad)]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("unknown vector group `mystery`"),
        "{}",
        stderr(&o)
    );
}

// ---- encrypt / decrypt ----

/// The normalized frame and its clear ranges under the policy `sframe encrypt` uses for files
/// (access unit delimiters kept: they delimit the frames of an Annex B file).
fn normalized(codec: Codec, frame: &[u8]) -> (Vec<u8>, Vec<(usize, usize)>) {
    let mut policy = Policy::default();
    policy.keep_access_unit_delimiters = true;
    match codec::plan(codec, frame, &policy).unwrap() {
        Plan::Protect(plan) => (
            plan.frame().to_vec(),
            plan.clear().iter().map(|r| (r.start, r.end)).collect(),
        ),
        Plan::PassThrough => (frame.to_vec(), Vec::new()),
    }
}

#[test]
fn rfc_mode_round_trips_byte_exact() {
    let dir = scratch("rfc");
    for (file, format, _, count) in CLIPS {
        let (enc, dec) = (
            dir.path().join(format!("enc-{file}")),
            dir.path().join(format!("dec-{file}")),
        );
        let o = encrypt("rfc", &media_path(file), &enc);
        assert_eq!(code(&o), 0, "{file}: {}", stderr(&o));
        assert!(
            stdout(&o).starts_with(&format!("encrypted {count} frames of ")),
            "{}",
            stdout(&o)
        );
        assert!(
            stdout(&o).contains("in RFC 9605 mode with AES_128_GCM_SHA256_128 (suite 4), KID 7")
        );
        let protected = std::fs::read(&enc).unwrap();
        let original = std::fs::read(media_path(file)).unwrap();
        // The container is kept (Annex B becomes SFAB), with SFrame frames inside.
        let m = media::read(format, &protected, true).unwrap();
        assert_eq!(m.frames.len(), count, "{file}");
        if matches!(format, Format::H264 | Format::H265) {
            assert!(protected.starts_with(b"SFAB\x01"));
        }
        for frame in &m.frames {
            let (header, _) = secure_frame::Header::decode(frame).unwrap();
            assert_eq!(header.key_id().0, 7);
        }
        let o = decrypt("rfc", KEY, &enc, &dec, &[]);
        assert_eq!(code(&o), 0, "{file}: {}", stderr(&o));
        assert!(stdout(&o).starts_with(&format!("decrypted {count} frames")));
        assert_eq!(
            std::fs::read(&dec).unwrap(),
            original,
            "{file}: not byte-exact"
        );
    }
}

#[test]
fn codec_aware_round_trips_to_normalized_frames_in_a_valid_file() {
    let dir = scratch("codec-aware");
    for (file, format, codec, count) in CLIPS {
        let (enc, dec) = (
            dir.path().join(format!("enc-{file}")),
            dir.path().join(format!("dec-{file}")),
        );
        let o = encrypt("codec-aware", &media_path(file), &enc);
        assert_eq!(code(&o), 0, "{file}: {}", stderr(&o));
        assert!(stdout(&o).contains("codec-aware mode"), "{}", stdout(&o));
        let original =
            media::read(format, &std::fs::read(media_path(file)).unwrap(), false).unwrap();
        // The protected file is a file of the same codec: our reader splits it into as many
        // frames (Annex B at its AUDs, Ogg pages with valid CRCs), and every clear codec byte
        // is where it was.
        let protected = media::read(format, &std::fs::read(&enc).unwrap(), false)
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(protected.frames.len(), count, "{file}");
        assert_eq!(protected.container.fourcc(), original.container.fourcc());
        let mut expected = Vec::new();
        for (k, (plain, wire)) in original.frames.iter().zip(&protected.frames).enumerate() {
            let (norm, clear) = normalized(codec, plain);
            assert!(wire.len() > norm.len(), "{file} frame {k}: no trailer");
            for (s, e) in clear {
                assert_eq!(
                    wire[s..e],
                    norm[s..e],
                    "{file} frame {k}: clear bytes {s}..{e}"
                );
            }
            expected.push(norm);
        }
        let o = decrypt("codec-aware", KEY, &enc, &dec, &[]);
        assert_eq!(code(&o), 0, "{file}: {}", stderr(&o));
        let back = media::read(format, &std::fs::read(&dec).unwrap(), false).unwrap();
        assert_eq!(back.frames, expected, "{file}: not the normalized frames");
    }
}

#[test]
fn key_file_and_format_override() {
    let dir = scratch("keyfile");
    let key_file = dir.path().join("key.hex");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let input = dir.path().join("clip.video");
    std::fs::copy(media_path("vp8.ivf"), &input).unwrap();
    let enc = dir.path().join("enc.bin");
    let o = sframe(&[
        "encrypt",
        "--mode",
        "rfc",
        "--suite",
        "1",
        "--kid",
        "3",
        "--key-file",
        p(&key_file),
        "--format",
        "ivf",
        p(&input),
        p(&enc),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let dec = dir.path().join("dec.bin");
    let o = sframe(&[
        "decrypt",
        "--mode",
        "rfc",
        "--suite",
        "1",
        "--key-file",
        p(&key_file),
        "--format",
        "ivf",
        p(&enc),
        p(&dec),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        std::fs::read(dec).unwrap(),
        std::fs::read(media_path("vp8.ivf")).unwrap()
    );
}

/// Byte offset of frame `k`'s data in an IVF file.
fn ivf_frame_offset(data: &[u8], k: usize) -> usize {
    let mut at = 32;
    for _ in 0..k {
        let size = u32::from_le_bytes(data[at..at + 4].try_into().unwrap());
        at += 12 + usize::try_from(size).unwrap();
    }
    at + 12
}

#[test]
fn wrong_key_names_the_frame_and_the_kind() {
    let dir = scratch("wrong-key");
    for mode in ["rfc", "codec-aware"] {
        let enc = dir.path().join(format!("{mode}.ivf"));
        assert_eq!(code(&encrypt(mode, &media_path("vp8.ivf"), &enc)), 0);
        let out = dir.path().join("out.ivf");
        let o = decrypt(mode, WRONG_KEY, &enc, &out, &[]);
        assert_eq!(code(&o), 1);
        assert_eq!(
            stderr(&o).trim(),
            "sframe: error: frame 0: SFrame authentication failed (authentication)"
        );
        assert!(!out.exists(), "nothing is written when a frame fails");
    }
}

#[test]
fn tampered_clear_byte_is_refused() {
    let dir = scratch("tamper");
    let enc = dir.path().join("enc.ivf");
    assert_eq!(
        code(&encrypt("codec-aware", &media_path("vp8.ivf"), &enc)),
        0
    );
    let mut data = std::fs::read(&enc).unwrap();
    // Frame 3, byte 0: VP8's frame tag, clear in the codec-aware mode and authenticated.
    let at = ivf_frame_offset(&data, 3);
    data[at] ^= 0x01;
    std::fs::write(&enc, &data).unwrap();
    let o = decrypt("codec-aware", KEY, &enc, &dir.path().join("out.ivf"), &[]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o).trim(),
        "sframe: error: frame 3: SFrame authentication failed (authentication)"
    );
}

#[test]
fn truncated_file_is_refused() {
    let dir = scratch("truncated");
    let enc = dir.path().join("enc.ivf");
    assert_eq!(code(&encrypt("rfc", &media_path("vp8.ivf"), &enc)), 0);
    let data = std::fs::read(&enc).unwrap();
    std::fs::write(&enc, &data[..data.len() - 100]).unwrap();
    let o = decrypt("rfc", KEY, &enc, &dir.path().join("out.ivf"), &[]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("an IVF file truncated at frame 9"),
        "{}",
        stderr(&o)
    );

    let ogg = dir.path().join("enc.ogg");
    assert_eq!(
        code(&encrypt("codec-aware", &media_path("opus.ogg"), &ogg)),
        0
    );
    let data = std::fs::read(&ogg).unwrap();
    std::fs::write(&ogg, &data[..data.len() - 10]).unwrap();
    let o = decrypt("codec-aware", KEY, &ogg, &dir.path().join("out.ogg"), &[]);
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("an Ogg Opus file truncated in page 2 (frames from 0 on)"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn garbage_files_are_refused_without_a_panic() {
    let dir = scratch("garbage");
    let garbage: Vec<u8> = (0..4000u32)
        .map(|i| u8::try_from((i * 7919 + 13) % 251).unwrap())
        .collect();
    for (name, message) in [
        ("g.ivf", "not an IVF file: no DKIF signature"),
        ("g.ogg", "not an Ogg Opus file: no OggS capture pattern"),
        ("g.h264", "not an H.264 Annex B stream"),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, &garbage).unwrap();
        for mode in ["rfc", "codec-aware"] {
            let o = decrypt(mode, KEY, &path, &dir.path().join("out"), &[]);
            assert_eq!(code(&o), 1, "{name} {mode}");
            let err = stderr(&o);
            assert!(err.starts_with("sframe: error: "), "{err}");
            assert_eq!(err.trim().lines().count(), 1, "{err}");
            if !(mode == "rfc" && name == "g.h264") {
                assert!(err.contains(message), "{name} {mode}: {err}");
            }
        }
    }
    // Every single-byte corruption of a protected file: refused or decrypted, never a panic.
    let enc = dir.path().join("enc.ivf");
    assert_eq!(
        code(&encrypt("codec-aware", &media_path("vp8.ivf"), &enc)),
        0
    );
    let data = std::fs::read(&enc).unwrap();
    for at in (0..data.len()).step_by(data.len() / 40) {
        let mut bad = data.clone();
        bad[at] ^= 0x80;
        let path = dir.path().join("bad.ivf");
        std::fs::write(&path, &bad).unwrap();
        let o = decrypt("codec-aware", KEY, &path, &dir.path().join("out.ivf"), &[]);
        assert!(matches!(code(&o), 0 | 1), "byte {at}: {}", stderr(&o));
        let o = sframe(&["inspect", p(&path)]);
        assert!(
            matches!(code(&o), 0 | 1),
            "inspect byte {at}: {}",
            stderr(&o)
        );
    }
}

#[test]
fn unknown_extension_is_refused() {
    let dir = scratch("ext");
    let path = dir.path().join("clip.mkv");
    std::fs::copy(media_path("vp8.ivf"), &path).unwrap();
    let o = encrypt("rfc", &path, &dir.path().join("out.mkv"));
    assert_eq!(code(&o), 1);
    assert!(
        stderr(&o).contains("unknown container (extension .mkv): use --format ivf|h264|h265|ogg"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn unprotected_frames_are_refused_unless_accepted() {
    let dir = scratch("unprotected");
    let out = dir.path().join("out.ivf");
    let o = decrypt("codec-aware", KEY, &media_path("vp8.ivf"), &out, &[]);
    assert_eq!(code(&o), 1);
    assert_eq!(
        stderr(&o).trim(),
        "sframe: error: frame 0: frame is not protected (syntax)"
    );
    let o = decrypt(
        "codec-aware",
        KEY,
        &media_path("vp8.ivf"),
        &out,
        &["--accept-unprotected"],
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stdout(&o).contains("10 passed through unprotected"),
        "{}",
        stdout(&o)
    );
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(media_path("vp8.ivf")).unwrap()
    );
}

#[test]
fn usage_errors_exit_2() {
    let dir = scratch("usage");
    let out = dir.path().join("out.ivf");
    let input = media_path("vp8.ivf");
    for args in [
        vec![
            "encrypt",
            "--mode",
            "rfc",
            "--suite",
            "4",
            "--kid",
            "7",
            "--key",
            "zz",
            p(&input),
            p(&out),
        ],
        vec![
            "encrypt",
            "--mode",
            "rfc",
            "--suite",
            "9",
            "--kid",
            "7",
            "--key",
            KEY,
            p(&input),
            p(&out),
        ],
        vec![
            "encrypt",
            "--mode",
            "sideways",
            "--suite",
            "4",
            "--kid",
            "7",
            "--key",
            KEY,
            p(&input),
            p(&out),
        ],
        vec![
            "encrypt",
            "--suite",
            "4",
            "--kid",
            "7",
            "--key",
            KEY,
            p(&input),
            p(&out),
        ],
        vec![
            "decrypt",
            "--mode",
            "rfc",
            "--suite",
            "4",
            p(&input),
            p(&out),
        ],
        vec!["frobnicate"],
    ] {
        let o = sframe(&args);
        assert_eq!(code(&o), 2, "{args:?}: {}", stderr(&o));
    }
    // A KID whose bytes hold 00 00 protects H.264 in the codec-aware mode too (container v2
    // escapes the trailer's header), and the file decrypts back.
    let o = sframe(&[
        "encrypt",
        "--mode",
        "codec-aware",
        "--suite",
        "4",
        "--kid",
        "65536",
        "--key",
        KEY,
        p(&media_path("h264-main.h264")),
        p(&dir.path().join("out.h264")),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let o = sframe(&[
        "decrypt",
        "--mode",
        "codec-aware",
        "--suite",
        "4",
        "--key",
        KEY,
        p(&dir.path().join("out.h264")),
        p(&dir.path().join("back.h264")),
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

// ---- inspect ----

#[test]
fn inspect_shows_what_an_sfu_sees() {
    let dir = scratch("inspect");
    let enc = dir.path().join("enc.ivf");
    assert_eq!(
        code(&encrypt("codec-aware", &media_path("vp8.ivf"), &enc)),
        0
    );
    let o = sframe(&["inspect", p(&enc)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("IVF VP80, 10 frames"), "{out}");
    let first = out.lines().nth(2).unwrap();
    assert!(first.contains("codec-aware"), "{first}");
    assert!(first.contains("Nt 16 (4,5"), "{first}");
    assert!(first.contains("clear 10 B [0..10]"), "{first}");
    assert!(out.contains("total overhead"), "{out}");

    let o = sframe(&["inspect", "--json", p(&enc)]);
    let frames: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(frames.as_array().unwrap().len(), 10);
    assert_eq!(frames[0]["kid"], 7);
    assert_eq!(frames[0]["ctr"], 0);
    assert_eq!(frames[1]["ctr"], 1);

    // RFC 9605 Appendix C.3, suite 4: KID 0x123, CTR 0x4567, a 5-byte header.
    let o = sframe(&[
        "inspect",
        "--json",
        "--hex",
        "9901234567b7412c2513a1b66dbb48841bbaf17f598751176ad847681a69c6d0b091c07018ce4adb34eb",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let frames: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(frames[0]["framing"], "rfc9605");
    assert_eq!(frames[0]["kid"], 0x123);
    assert_eq!(frames[0]["ctr"], 0x4567);
    assert_eq!(frames[0]["header_len"], 5);
    let gcm = frames[0]["by_tag"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["tag_len"] == 16)
        .unwrap();
    assert_eq!(gcm["payload_len"], 21);

    let o = sframe(&["inspect", "--hex", "xyz"]);
    assert_eq!(code(&o), 2);
    let o = sframe(&["inspect", "--hex", "ff"]);
    assert_eq!(code(&o), 1, "a truncated header is not readable");
    assert!(
        stdout(&o).contains("malformed SFrame header"),
        "{}",
        stdout(&o)
    );
}

// ---- bench, demo ----

#[test]
fn bench_measures_beside_the_raw_aead() {
    let o = sframe(&[
        "bench",
        "--suite",
        "4,1",
        "--sizes",
        "32,1K",
        "--seconds",
        "0.001",
        "--json",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let rows: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 2 * 2 * 2 + 7 * 2);
    assert_eq!(rows[0]["what"], "AES_128_GCM_SHA256_128");
    assert_eq!(rows[2]["size"], 1024);
    for r in &rows[..8] {
        assert!(r["ns_per_frame"].as_f64().unwrap() > 0.0);
        assert!(r["ratio"].as_f64().unwrap() > 0.0);
    }
    assert!(
        rows[8]["what"]
            .as_str()
            .unwrap()
            .starts_with("codec-aware vp8.ivf")
    );
    let o = sframe(&[
        "bench",
        "--suite",
        "4",
        "--sizes",
        "32",
        "--seconds",
        "0.001",
    ]);
    assert_eq!(code(&o), 0);
    assert!(stdout(&o).starts_with("what "), "{}", stdout(&o));
    assert!(
        stderr(&o).is_empty(),
        "no progress bar when stderr is not a terminal"
    );
    let o = sframe(&["bench", "--sizes", "lots"]);
    assert_eq!(code(&o), 2);
}

#[test]
fn demo_holds_every_check() {
    let o = sframe(&["demo"]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    let out = stdout(&o);
    for expected in [
        "verification codes",
        "(match)",
        "12 envelopes opened",
        "forged ciphertext byte   refused: SFrame authentication failed",
        "forged clear codec byte  refused: SFrame authentication failed",
        "replayed frame           refused: replayed or too old SFrame counter",
        "(keyID), kept",
        "released (bit-exact)",
        "Carol opens 0 of them",
        "VP8: 3 key frames seen, size 160x120",
        "0 of 32",
    ] {
        assert!(out.contains(expected), "{expected}: {out}");
    }
    assert!(
        out.lines().last().unwrap().starts_with("verdict: PASS"),
        "{out}"
    );
}

#[test]
fn sfab_files_name_their_codec() {
    let dir = scratch("sfab");
    let enc = dir.path().join("clip.sfab");
    let o = encrypt("rfc", &media_path("h265.h265"), &enc);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let dec = dir.path().join("clip.h265");
    let o = decrypt("rfc", KEY, &enc, &dec, &[]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("H.265 in SFAB"), "{}", stdout(&o));
    assert_eq!(
        std::fs::read(dec).unwrap(),
        std::fs::read(media_path("h265.h265")).unwrap()
    );
    let o = sframe(&["inspect", p(&enc)]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stdout(&o).contains("rfc9605"), "{}", stdout(&o));
}
