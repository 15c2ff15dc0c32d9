//! `sframe bench`: per-frame encrypt and decrypt cost per suite and frame size, with the raw
//! AEAD of the suite (the library's `hazmat::RawAead`, same provider) doing the same work beside
//! each row, and the codec-aware path on one real frame of each bundled clip.

use std::hint::black_box;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use secure_frame::codec::{Codec, Policy};
use secure_frame::compat::{CompatDecryptor, CompatEncryptor};
use secure_frame::hazmat::{RawAead, derive_key_salt};
use secure_frame::{
    BaseKey, CipherSuite, Counter, Encryptor, Header, KeyId, ReceiveKey, ReplayWindow,
};

use crate::UsageError;
use crate::media::{self, Format};

/// `sframe bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Cipher suites (comma-separated ids; default every suite of this build).
    #[arg(long, value_delimiter = ',')]
    pub suite: Vec<u16>,
    /// Frame sizes in bytes, `K` for KiB (default 32,160,1200,16K,256K).
    #[arg(long, value_delimiter = ',')]
    pub sizes: Vec<String>,
    /// Seconds per measurement.
    #[arg(long, default_value_t = 0.02)]
    pub seconds: f64,
    /// The results as JSON.
    #[arg(long)]
    pub json: bool,
}

/// One measured row.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Row {
    /// What was measured: the suite, or `codec-aware <clip>`.
    pub what: String,
    /// The cipher suite's id.
    pub suite: u16,
    /// Plaintext bytes per frame.
    pub size: usize,
    /// `encrypt` or `decrypt`.
    pub op: &'static str,
    /// Nanoseconds per frame.
    pub ns_per_frame: f64,
    /// Megabytes (10^6) of plaintext per second.
    pub mb_per_s: f64,
    /// Frames per second.
    pub frames_per_s: f64,
    /// The raw AEAD doing the same work, ns per frame (none for the codec-aware rows).
    pub raw_ns_per_frame: Option<f64>,
    /// SFrame over raw AEAD.
    pub ratio: Option<f64>,
}

const SIZES: [usize; 5] = [32, 160, 1200, 16 * 1024, 256 * 1024];
const KID: KeyId = KeyId(500);

const CLIPS: [(&str, &[u8], Format, Codec); 7] = [
    (
        "vp8.ivf",
        include_bytes!("../../test-data/media/vp8.ivf"),
        Format::Ivf,
        Codec::Vp8,
    ),
    (
        "vp9.ivf",
        include_bytes!("../../test-data/media/vp9.ivf"),
        Format::Ivf,
        Codec::Vp9,
    ),
    (
        "av1.ivf",
        include_bytes!("../../test-data/media/av1.ivf"),
        Format::Ivf,
        Codec::Av1,
    ),
    (
        "h264-main.h264",
        include_bytes!("../../test-data/media/h264-main.h264"),
        Format::H264,
        Codec::H264,
    ),
    (
        "h264-baseline.h264",
        include_bytes!("../../test-data/media/h264-baseline.h264"),
        Format::H264,
        Codec::H264,
    ),
    (
        "h265.h265",
        include_bytes!("../../test-data/media/h265.h265"),
        Format::H265,
        Codec::H265,
    ),
    (
        "opus.ogg",
        include_bytes!("../../test-data/media/opus.ogg"),
        Format::Ogg,
        Codec::Opus,
    ),
];

fn parse_size(s: &str) -> Result<usize, UsageError> {
    let t = s.trim();
    let (digits, mult) = match t.strip_suffix(['K', 'k']) {
        Some(d) => (d, 1024),
        None => (
            t.strip_suffix("KiB").map_or(t, |d| d),
            if t.ends_with("KiB") { 1024 } else { 1 },
        ),
    };
    digits
        .parse::<usize>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .filter(|&n| n <= 64 << 20)
        .ok_or_else(|| {
            UsageError(format!(
                "--sizes: {s:?} is not a size (like 1200 or 16K, at most 64M)"
            ))
        })
}

/// Runs `f` for at least `budget`, returning nanoseconds per call.
fn measure(budget: Duration, mut f: impl FnMut()) -> f64 {
    f(); // warm up
    let mut iterations: u64 = 0;
    let mut batch: u64 = 1;
    let start = Instant::now();
    loop {
        for _ in 0..batch {
            f();
        }
        iterations += batch;
        let elapsed = start.elapsed();
        if elapsed >= budget {
            return to_f64(elapsed.as_nanos()) / to_f64(u128::from(iterations));
        }
        batch = batch.saturating_mul(2).min(1 << 20);
    }
}

#[expect(
    clippy::cast_precision_loss,
    clippy::as_conversions,
    reason = "timings as floats"
)]
fn to_f64(n: u128) -> f64 {
    n as f64
}

fn row(what: String, suite: u16, size: usize, op: &'static str, ns: f64, raw: Option<f64>) -> Row {
    let bytes = to_f64(u128::try_from(size).unwrap_or(0));
    Row {
        what,
        suite,
        size,
        op,
        ns_per_frame: ns,
        mb_per_s: bytes / ns * 1e3,
        frames_per_s: 1e9 / ns,
        raw_ns_per_frame: raw,
        ratio: raw.map(|r| ns / r),
    }
}

/// `sframe bench`.
///
/// # Errors
///
/// A bad `--suite`, `--sizes` or `--seconds`.
pub fn run(args: &BenchArgs) -> anyhow::Result<bool> {
    let suites: Vec<CipherSuite> = if args.suite.is_empty() {
        CipherSuite::ALL.to_vec()
    } else {
        args.suite
            .iter()
            .map(|&id| {
                CipherSuite::from_id(id).map_err(|e| UsageError(format!("--suite {id}: {e}")))
            })
            .collect::<Result<_, _>>()?
    };
    let sizes: Vec<usize> = if args.sizes.is_empty() {
        SIZES.to_vec()
    } else {
        args.sizes
            .iter()
            .map(|s| parse_size(s))
            .collect::<Result<_, _>>()?
    };
    if !(args.seconds.is_finite() && args.seconds > 0.0 && args.seconds <= 60.0) {
        return Err(UsageError("--seconds: between 0 and 60".into()).into());
    }
    let budget = Duration::from_secs_f64(args.seconds);
    let total = suites.len() * sizes.len() * 4 + CLIPS.len() * 2;
    let bar = ProgressBar::with_draw_target(
        Some(u64::try_from(total).unwrap_or(0)),
        ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}") {
        bar.set_style(style);
    }
    let mut rows = Vec::new();
    for &suite in &suites {
        let base_key = BaseKey::new(b"benchmark base key")?;
        for &size in &sizes {
            bar.set_message(format!("{} {size} B", suite.name()));
            rows.extend(suite_rows(suite, &base_key, size, budget, &bar)?);
        }
    }
    let codec_suite = suites
        .first()
        .copied()
        .unwrap_or(CipherSuite::AesGcm128Sha256);
    for (name, data, format, codec) in CLIPS {
        bar.set_message(format!("codec-aware {name}"));
        rows.extend(codec_rows(name, data, format, codec, codec_suite, budget)?);
        bar.inc(2);
    }
    bar.finish_and_clear();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", table(&rows));
    }
    Ok(true)
}

fn suite_rows(
    suite: CipherSuite,
    base_key: &BaseKey,
    size: usize,
    budget: Duration,
    bar: &ProgressBar,
) -> anyhow::Result<Vec<Row>> {
    let tag = suite.tag_len();
    let (_, key, salt) = derive_key_salt(suite, KID, base_key);
    let raw = RawAead::new(suite, key.expose_secret())?;

    // Encrypt: in place with the header room kept, as a sender does; the raw AEAD seals the
    // same bytes with a header as AAD.
    let mut encryptor = Encryptor::new(suite, KID, base_key);
    let mut room = vec![0x5a; Encryptor::HEADER_ROOM + size + tag];
    let mut failed = false;
    let enc = measure(budget, || {
        failed |= encryptor
            .encrypt_in_room(b"", black_box(&mut room))
            .is_err();
    });
    bar.inc(1);
    let header = Header::new(KID, Counter(1)).encode();
    let mut buf = vec![0x5a; size];
    let mut tag_buf = vec![0; tag];
    let mut ctr = 0u64;
    let raw_enc = measure(budget, || {
        ctr = ctr.wrapping_add(1);
        let nonce = salt.nonce(ctr);
        failed |= raw
            .seal(&nonce, header.as_bytes(), black_box(&mut buf), &mut tag_buf)
            .is_err();
    });
    bar.inc(1);

    // Decrypt: a copy of one frame (the replay window off, so it may be opened again), then
    // decrypt in place; the raw AEAD copies and opens the same bytes.
    let mut once = Encryptor::new(suite, KID, base_key);
    let frame = once.encrypt_to_vec(b"", &vec![0x5a; size])?;
    let mut receiver =
        ReceiveKey::new(suite, KID, base_key).with_replay_window(ReplayWindow::disabled());
    let mut work = frame.clone();
    let dec = measure(budget, || {
        work.copy_from_slice(&frame);
        failed |= receiver
            .decrypt_in_place(b"", black_box(&mut work))
            .is_err();
    });
    bar.inc(1);
    let header = Header::new(KID, Counter(0)).encode();
    let nonce = salt.nonce(0);
    let mut body = vec![0x5a; size];
    raw.seal(&nonce, header.as_bytes(), &mut body, &mut tag_buf)?;
    let sealed = body.clone();
    let raw_dec = measure(budget, || {
        body.copy_from_slice(&sealed);
        failed |= raw
            .open(&nonce, header.as_bytes(), black_box(&mut body), &tag_buf)
            .is_err();
    });
    bar.inc(1);
    if failed {
        anyhow::bail!("{suite}: a measured operation failed");
    }
    let name = suite.name().to_owned();
    Ok(vec![
        row(
            name.clone(),
            suite.id(),
            size,
            "encrypt",
            enc,
            Some(raw_enc),
        ),
        row(name, suite.id(), size, "decrypt", dec, Some(raw_dec)),
    ])
}

fn codec_rows(
    name: &str,
    data: &[u8],
    format: Format,
    codec: Codec,
    suite: CipherSuite,
    budget: Duration,
) -> anyhow::Result<Vec<Row>> {
    let frames = media::read(format, data, false)?.frames;
    let frame = frames.into_iter().next().unwrap_or_default();
    let base_key = BaseKey::new(b"benchmark base key")?;
    let kid = KeyId(7);
    let mut sender = CompatEncryptor::new(
        Encryptor::new(suite, kid, &base_key),
        codec,
        Policy::default(),
    );
    let mut out = Vec::new();
    let mut failed = false;
    let enc = measure(budget, || {
        failed |= sender.encrypt(b"", black_box(&frame), &mut out).is_err();
    });
    let wire = out.clone();
    let mut receiver = CompatDecryptor::for_codec(codec);
    let mut key =
        ReceiveKey::new(suite, kid, &base_key).with_replay_window(ReplayWindow::disabled());
    let mut work = wire.clone();
    let dec = measure(budget, || {
        work.copy_from_slice(&wire);
        failed |= receiver
            .decrypt_in_place(&mut key, b"", black_box(&mut work))
            .is_err();
    });
    if failed {
        anyhow::bail!("codec-aware {name}: a measured operation failed");
    }
    let what = format!("codec-aware {name} frame 0");
    Ok(vec![
        row(what.clone(), suite.id(), frame.len(), "encrypt", enc, None),
        row(what, suite.id(), frame.len(), "decrypt", dec, None),
    ])
}

/// The text table.
#[must_use]
pub fn table(rows: &[Row]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<40} {:>7} {:<7} {:>11} {:>9} {:>11} {:>11} {:>6}",
        "what", "bytes", "op", "ns/frame", "MB/s", "frames/s", "raw ns", "ratio"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<40} {:>7} {:<7} {:>11.1} {:>9.1} {:>11.0} {:>11} {:>6}",
            r.what,
            r.size,
            r.op,
            r.ns_per_frame,
            r.mb_per_s,
            r.frames_per_s,
            r.raw_ns_per_frame
                .map_or("-".to_owned(), |n| format!("{n:.1}")),
            r.ratio.map_or("-".to_owned(), |n| format!("{n:.2}")),
        );
    }
    out
}
