//! The browser and the native library make the same frames (issue #12).
//!
//! - Frames the page exported (captured in its transform workers, `wasm/test/run.mjs` scenarios
//!   `export-rfc` and `export-codec`) decrypt with the library on the host, and re-encrypting
//!   their plaintext at their counter gives the same bytes. The committed copies in
//!   `tests/fixtures/browser-*.json` always run; `SFRAME_BROWSER_FRAMES=<dir>` (set by
//!   `wasm/test.sh`) adds the ones the page just wrote.
//! - `tests/fixtures/native-frames.json` holds frames the native library protected; the page
//!   decrypts them in wasm. This test checks the file is what the library makes today
//!   (`SFRAME_WRITE_FIXTURES=1` rewrites it).

#![allow(
    clippy::indexing_slicing,
    reason = "test code: JSON lookups, a missing field reads as null and fails the test"
)]

use std::path::{Path, PathBuf};

use secure_frame::codec::{Codec, Policy};
use secure_frame::compat::{CompatDecryptor, CompatEncryptor, read_header};
use secure_frame::{BaseKey, CipherSuite, Counter, Decryptor, Encryptor, Header, KeyId};
use secure_frame_wasm::transform::{Format, suite_by_name};
use serde_json::{Value, json};

type TestResult = Result<(), Box<dyn std::error::Error>>;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn bytes(v: &Value) -> Vec<u8> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_u64)
                .filter_map(|b| u8::try_from(b).ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Checks one exported capture: `{ key1, suite, format, sent: {video, audio}, received: {…} }`.
fn check_capture(name: &str, captured: &Value) -> Result<usize, Box<dyn std::error::Error>> {
    let suite = suite_by_name(captured["suite"].as_str().ok_or("suite")?).ok_or("unknown suite")?;
    let format = Format::parse(captured["format"].as_str().ok_or("format")?).ok_or("format")?;
    let base_key = BaseKey::new(&bytes(&captured["key1"]))?;
    let mut checked = 0;
    let mut webcrypto = 0;
    for direction in ["sent", "received"] {
        for kind in ["video", "audio"] {
            let frames = captured[direction][kind].as_array().ok_or("frames")?;
            for (i, frame) in frames.iter().enumerate() {
                let mime = frame["mime"].as_str().ok_or("mime")?;
                let plain = bytes(&frame["plain"]);
                let wire = bytes(&frame["wire"]);
                let what = format!(
                    "{name} {direction} {kind} #{i} ({mime}, {} bytes)",
                    wire.len()
                );
                let header = match format {
                    Format::Rfc => Header::decode(&wire)?.0,
                    Format::Codec => read_header(&wire)?,
                };
                // Decrypts natively.
                let mut keys = Decryptor::new(suite);
                keys.add_key(header.key_id(), &base_key)?;
                let mut opened = wire.clone();
                let got: Vec<u8> = match format {
                    Format::Rfc => keys.decrypt_in_place(&[], &mut opened)?.to_vec(),
                    Format::Codec => CompatDecryptor::new()
                        .decrypt_in_place(&mut keys, &[], &mut opened)?
                        .frame()
                        .to_vec(),
                };
                assert_eq!(got, plain, "{what}: native decryption differs");
                // Re-encrypts bit-exact at the frame's counter (only what the sender saw: a
                // receiver's plaintext is the depacketizer's, which may normalize).
                if direction == "sent" {
                    let mut encryptor = Encryptor::new(suite, header.key_id(), &base_key);
                    encryptor.advance_counter_to(header.counter())?;
                    let again = match format {
                        Format::Rfc => encryptor.encrypt_to_vec(&[], &plain)?,
                        Format::Codec => {
                            let codec = Codec::from_mime(mime).ok_or("codec")?;
                            CompatEncryptor::new(encryptor, codec, Policy::default())
                                .encrypt_to_vec(&[], &plain)?
                        }
                    };
                    assert_eq!(again, wire, "{what}: native encryption differs");
                }
                checked += 1;
                webcrypto += usize::from(frame["aead"] == "webcrypto");
            }
        }
    }
    if format == Format::Rfc {
        assert!(webcrypto > 0, "{name}: no frame from the WebCrypto path");
    }
    Ok(checked)
}

fn check_file(path: &Path) -> Result<usize, Box<dyn std::error::Error>> {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(path)?)?;
    let captured = value.get("captured").unwrap_or(&value);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("?");
    let n = check_capture(name, captured)?;
    assert!(n >= 4, "{name}: only {n} frames");
    Ok(n)
}

#[test]
fn committed_browser_frames_decrypt_natively() -> TestResult {
    let mut files = 0;
    for entry in std::fs::read_dir(fixtures())? {
        let path = entry?.path();
        let is_browser = path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("browser-"))
            && path.extension().is_some_and(|e| e == "json");
        if is_browser {
            check_file(&path)?;
            files += 1;
        }
    }
    assert!(
        files >= 2,
        "expected the RFC and codec-aware exports, found {files}"
    );
    Ok(())
}

#[test]
fn fresh_browser_frames_decrypt_natively() -> TestResult {
    let Some(dir) = std::env::var_os("SFRAME_BROWSER_FRAMES") else {
        return Ok(());
    };
    let dir = PathBuf::from(dir);
    let mut files = 0;
    for name in ["export-rfc.json", "export-codec.json"] {
        let path = dir.join(name);
        if !path.exists() {
            continue;
        }
        let n = check_file(&path)?;
        files += 1;
        println!("{name}: {n} frames decrypt natively and re-encrypt bit-exact");
    }
    assert!(files > 0, "no export in {}", dir.display());
    Ok(())
}

/// One frame of `native-frames.json`: `(suite, format, mime, kid, counter, plaintext)`.
type NativeCase = (CipherSuite, Format, &'static str, u64, u64, Vec<u8>);

/// The frames `native-frames.json` holds.
fn native_frames() -> Result<Value, Box<dyn std::error::Error>> {
    let key: Vec<u8> = (0u8..16).map(|i| 0xa0 ^ i).collect();
    let base_key = BaseKey::new(&key)?;
    let h264: Vec<u8> = [0, 0, 0, 1, 0x65, 0x88, 0x84, 0x00, 0x33, 0xff]
        .into_iter()
        .chain((0u8..200).map(|i| i.wrapping_mul(7) | 1))
        .collect();
    let opus: Vec<u8> = (0u8..160).map(|i| i.wrapping_mul(13)).collect();
    let big: Vec<u8> = (0..1200u32)
        .map(|i| u8::try_from(i % 251).unwrap_or(0))
        .collect();
    let cases: Vec<NativeCase> = vec![
        (
            CipherSuite::AesGcm128Sha256,
            Format::Rfc,
            "video/VP9",
            5,
            0,
            big.clone(),
        ),
        (
            CipherSuite::AesGcm128Sha256,
            Format::Rfc,
            "audio/opus",
            5,
            1,
            opus.clone(),
        ),
        (
            CipherSuite::AesGcm128Sha256,
            Format::Rfc,
            "video/VP9",
            u64::MAX,
            300,
            big.clone(),
        ),
        (
            CipherSuite::AesCtr128HmacSha256_80,
            Format::Rfc,
            "audio/opus",
            9,
            7,
            opus.clone(),
        ),
        (
            CipherSuite::AesGcm256Sha512,
            Format::Rfc,
            "video/VP9",
            1,
            2,
            big,
        ),
        (
            CipherSuite::AesGcm128Sha256,
            Format::Codec,
            "video/H264",
            5,
            3,
            h264,
        ),
        (
            CipherSuite::AesGcm128Sha256,
            Format::Codec,
            "audio/opus",
            5,
            4,
            opus,
        ),
    ];
    let mut frames = Vec::new();
    for (suite, format, mime, kid, ctr, plain) in cases {
        let mut encryptor = Encryptor::new(suite, KeyId(kid), &base_key);
        encryptor.advance_counter_to(Counter(ctr))?;
        let wire = match format {
            Format::Rfc => encryptor.encrypt_to_vec(&[], &plain)?,
            Format::Codec => {
                let codec = Codec::from_mime(mime).ok_or("codec")?;
                CompatEncryptor::new(encryptor, codec, Policy::default())
                    .encrypt_to_vec(&[], &plain)?
            }
        };
        frames.push(json!({
            "suite": suite.name(), "format": format.name(), "mime": mime,
            "keyID": kid.to_string(), "plain": hex::encode(&plain), "wire": hex::encode(&wire),
        }));
    }
    Ok(json!({ "key": hex::encode(&key), "frames": frames }))
}

#[test]
fn native_frames_fixture_is_current() -> TestResult {
    let path = fixtures().join("native-frames.json");
    let want = serde_json::to_string_pretty(&native_frames()?)? + "\n";
    if std::env::var_os("SFRAME_WRITE_FIXTURES").is_some() {
        std::fs::write(&path, &want)?;
    }
    let have = std::fs::read_to_string(&path)?;
    assert_eq!(have, want, "rewrite with SFRAME_WRITE_FIXTURES=1");
    Ok(())
}
