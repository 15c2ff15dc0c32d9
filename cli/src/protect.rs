//! `sframe encrypt` and `sframe decrypt`: every frame of a media file, in RFC 9605 mode or the
//! codec-aware mode, written back in the same container.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, anyhow};
use secure_frame::codec::{Codec, Policy};
use secure_frame::compat::{CompatDecryptor, CompatEncryptor, Opened};
use secure_frame::{BaseKey, CipherSuite, Decryptor, Encryptor, FrameView, KeyId};

use crate::UsageError;
use crate::media::{self, AnnexB, Container, Format, Media};

/// How frames are protected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// The codec-aware container: what packetizers read stays clear, the file stays a valid
    /// file of its codec.
    CodecAware,
    /// RFC 9605: `header || AEAD(whole frame)`.
    Rfc,
}

/// The key and format options both directions share.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// codec-aware (a valid file of the same codec) or rfc (RFC 9605 frames).
    #[arg(long, value_enum)]
    pub mode: Mode,
    /// The cipher suite, 1-8 (RFC 9605 §4.5; 6-8 of the IANA registry, draft-barnes-sframe-iana-256).
    #[arg(long)]
    pub suite: u16,
    /// The base key in hex.
    #[arg(
        long,
        conflicts_with = "key_file",
        required_unless_present = "key_file"
    )]
    pub key: Option<String>,
    /// A file holding the base key in hex.
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// The container, instead of the one the input's extension names.
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// The input file.
    pub input: PathBuf,
    /// The output file.
    pub output: PathBuf,
}

/// `sframe encrypt`.
#[derive(Debug, clap::Args)]
pub struct EncryptArgs {
    #[command(flatten)]
    /// Mode, suite, key, format, files.
    pub common: Common,
    /// The KID every frame is sent under.
    #[arg(long)]
    pub kid: u64,
}

/// `sframe decrypt`.
#[derive(Debug, clap::Args)]
pub struct DecryptArgs {
    #[command(flatten)]
    /// Mode, suite, key, format, files.
    pub common: Common,
    /// Pass frames without protection (and empty frames) through instead of refusing them.
    #[arg(long)]
    pub accept_unprotected: bool,
}

/// The suite and base key of the options.
///
/// # Errors
///
/// [`UsageError`] for an unknown suite or a key that is not hex or of no valid length.
pub fn suite_and_key(common: &Common) -> anyhow::Result<(CipherSuite, BaseKey)> {
    let suite = CipherSuite::from_id(common.suite)
        .map_err(|e| UsageError(format!("--suite {}: {e}", common.suite)))?;
    let text = match (&common.key, &common.key_file) {
        (Some(k), _) => k.clone(),
        (None, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| UsageError(format!("--key-file {}: {e}", path.display())))?,
        (None, None) => return Err(UsageError("--key or --key-file is required".into()).into()),
    };
    let bytes =
        hex::decode(text.trim()).map_err(|e| UsageError(format!("the key is not hex: {e}")))?;
    let key = BaseKey::new(&bytes).map_err(|e| UsageError(format!("the key: {e}")))?;
    Ok((suite, key))
}

/// Reads the input as `--format` or its name says.
fn read_input(common: &Common, rfc_protected: bool) -> anyhow::Result<Media> {
    let path = &common.input;
    let data = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let format = match common.format {
        Some(f) => f,
        None => Format::of_file(path, &data).with_context(|| path.display().to_string())?,
    };
    media::read(format, &data, rfc_protected).with_context(|| path.display().to_string())
}

/// The codec of a file's frames.
///
/// # Errors
///
/// An IVF `FourCC` other than VP8, VP9 or AV1.
pub fn codec_of(container: &Container) -> anyhow::Result<Codec> {
    Ok(match container {
        Container::Ivf { .. } => match container.fourcc().as_ref().map(<[u8; 4]>::as_slice) {
            Some(b"VP80") => Codec::Vp8,
            Some(b"VP90") => Codec::Vp9,
            Some(b"AV01") => Codec::Av1,
            other => {
                let shown = other.map(String::from_utf8_lossy).unwrap_or_default();
                return Err(
                    media::MediaError::UnsupportedCodec(format!("IVF FourCC {shown:?}")).into(),
                );
            }
        },
        Container::AnnexB(AnnexB::H264) | Container::Sfab(AnnexB::H264) => Codec::H264,
        Container::AnnexB(AnnexB::H265) | Container::Sfab(AnnexB::H265) => Codec::H265,
        Container::Ogg(_) => Codec::Opus,
    })
}

fn write_output(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

/// `sframe encrypt`.
///
/// # Errors
///
/// Usage errors, unreadable or malformed input, a frame the codec layer refuses.
pub fn encrypt(args: &EncryptArgs) -> anyhow::Result<bool> {
    let c = &args.common;
    let (suite, key) = suite_and_key(c)?;
    let input = read_input(c, false)?;
    let codec = codec_of(&input.container)?;
    let kid = KeyId(args.kid);
    let encryptor = Encryptor::new(suite, kid, &key);
    let mut frames = Vec::with_capacity(input.frames.len());
    match c.mode {
        Mode::Rfc => {
            let mut encryptor = encryptor;
            for (i, frame) in input.frames.iter().enumerate() {
                frames.push(
                    encryptor
                        .encrypt_to_vec(&[], frame)
                        .map_err(|e| anyhow!("frame {i}: {e}"))?,
                );
            }
        }
        Mode::CodecAware => {
            // A file has no packetizer to drop access unit delimiters, and its Annex B
            // frames are delimited by them: keep them.
            let mut policy = Policy::default();
            policy.keep_access_unit_delimiters = true;
            let mut sender = CompatEncryptor::new(encryptor, codec, policy);
            for (i, frame) in input.frames.iter().enumerate() {
                let mut out = Vec::new();
                sender
                    .encrypt(&[], frame, &mut out)
                    .map_err(|e| anyhow!("frame {i}: {e}"))?;
                frames.push(out);
            }
        }
    }
    let bytes = media::write(&input.container, &frames, c.mode == Mode::Rfc)?;
    write_output(&c.output, &bytes)?;
    let plain: usize = input.frames.iter().map(Vec::len).sum();
    let protected: usize = frames.iter().map(Vec::len).sum();
    println!(
        "encrypted {} frames of {} ({}) in {} mode with {} (suite {}), KID {}: {} -> {} frame bytes (+{}), {} written",
        frames.len(),
        input.container.describe(),
        codec.mime(),
        mode_name(c.mode),
        suite.name(),
        suite.id(),
        args.kid,
        plain,
        protected,
        protected.saturating_sub(plain),
        c.output.display()
    );
    Ok(true)
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Rfc => "RFC 9605",
        Mode::CodecAware => "codec-aware",
    }
}

/// `sframe decrypt`: the KID of each frame is read from it, and the base key installed for
/// it. Nothing is written unless every frame opened.
///
/// # Errors
///
/// Usage errors, unreadable or malformed input; a frame that does not open is reported as
/// `frame N: … (kind)`.
pub fn decrypt(args: &DecryptArgs) -> anyhow::Result<bool> {
    let c = &args.common;
    let (suite, key) = suite_and_key(c)?;
    let input = read_input(c, c.mode == Mode::Rfc)?;
    let codec = codec_of(&input.container)?;
    let mut keys = Decryptor::new(suite);
    let mut frames = Vec::with_capacity(input.frames.len());
    let mut passed = 0usize;
    let mut kids = std::collections::BTreeSet::new();
    match c.mode {
        Mode::Rfc => {
            for (i, frame) in input.frames.iter().enumerate() {
                if frame.is_empty() {
                    if args.accept_unprotected {
                        passed += 1;
                        frames.push(Vec::new());
                        continue;
                    }
                    return Err(anyhow!("frame {i}: empty frame, not protected (syntax)"));
                }
                let kid = FrameView::parse(frame)
                    .map_err(|e| anyhow!("frame {i}: malformed SFrame header: {e} (syntax)"))?
                    .key_id();
                install(&mut keys, kid, &key)?;
                kids.insert(kid.0);
                let mut buf = frame.clone();
                let plain = keys
                    .decrypt_in_place(&[], &mut buf)
                    .map_err(|e| anyhow!("frame {i}: {e} ({})", e.kind()))?;
                frames.push(plain.to_vec());
            }
        }
        Mode::CodecAware => {
            let mut receiver =
                CompatDecryptor::for_codec(codec).accept_unprotected(args.accept_unprotected);
            if args.accept_unprotected {
                receiver = receiver.accept_empty(true);
            }
            for (i, frame) in input.frames.iter().enumerate() {
                if let Ok(header) = secure_frame::compat::read_header(frame) {
                    install(&mut keys, header.key_id(), &key)?;
                    kids.insert(header.key_id().0);
                }
                let mut buf = frame.clone();
                let opened = receiver
                    .decrypt_in_place(&mut keys, &[], &mut buf)
                    .map_err(|e| anyhow!("frame {i}: {e} ({})", e.kind()))?;
                if matches!(opened, Opened::PassedThrough { .. }) {
                    passed += 1;
                }
                frames.push(opened.frame().to_vec());
            }
        }
    }
    let bytes = media::write(&input.container, &frames, false)?;
    write_output(&c.output, &bytes)?;
    let kids: Vec<String> = kids.iter().map(u64::to_string).collect();
    println!(
        "decrypted {} frames of {} ({}) in {} mode with {} (suite {}), KID {}{}; {} written",
        frames.len() - passed,
        input.container.describe(),
        codec.mime(),
        mode_name(c.mode),
        suite.name(),
        suite.id(),
        if kids.is_empty() {
            "-".to_owned()
        } else {
            kids.join(",")
        },
        if passed > 0 {
            format!(", {passed} passed through unprotected")
        } else {
            String::new()
        },
        c.output.display()
    );
    Ok(true)
}

fn install(keys: &mut Decryptor, kid: KeyId, key: &BaseKey) -> anyhow::Result<()> {
    if !keys.contains_key(kid) {
        keys.add_key(kid, key)
            .map_err(|e| UsageError(format!("the key for KID {kid}: {e}")))?;
    }
    Ok(())
}
