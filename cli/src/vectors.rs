//! `sframe vectors`: test-vector files through the library, every entry in both directions and
//! every intermediate value the file has.
//!
//! Schemas read: the RFC 9605 JSON as published (groups `header`, `aes_ctr_hmac`, `sframe`,
//! bare u64 numbers), the project's `secure-frame-vectors/1` files (`header`, `aead`, `sframe`,
//! `ratchet`, `kid`, `sender_bits`, `sender_keys`, `pairwise`; u64 as `"0x…"` strings) and the
//! draft files (`sframe_aes_256_ctr_hmac`, `sframe_per_ssrc_key_derivation`). An entry passes
//! when every check on it holds; the last line is `N passed, M failed`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use hkdf::Hkdf;
use secure_frame::agreement::{KeyPair, Role, agree};
use secure_frame::hazmat::{self, RawAead};
use secure_frame::mls::{MlsKeyId, MlsKidLayout};
use secure_frame::{
    BaseKey, CipherSuite, Counter, Encryptor, Header, HeaderError, KeyId, RatchetBits,
    RatchetReceiver, RatchetSender, ReceiveKey, SenderKeyId,
};
use serde_json::Value;
use sha2::{Digest, Sha256, Sha512};

/// One group of one file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct GroupResult {
    /// The file.
    pub file: String,
    /// The group's key in the file.
    pub group: String,
    /// Entries checked.
    pub entries: usize,
    /// Entries whose every check held.
    pub passed: usize,
    /// Failing entries: index, what identifies it, what differed.
    pub failures: Vec<(usize, String, Vec<String>)>,
}

/// A file that could not be read or parsed.
#[derive(Debug)]
pub struct FileError(pub String);

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FileError {}

/// The `.json` files under `dir`, recursively, sorted.
///
/// # Errors
///
/// When `dir` cannot be listed.
pub fn json_files(dir: &Path) -> Result<Vec<PathBuf>, FileError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d)
            .map_err(|e| FileError(format!("cannot list {}: {e}", d.display())))?;
        for entry in entries {
            let path = entry
                .map_err(|e| FileError(format!("cannot list {}: {e}", d.display())))?
                .path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "json") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Checks every group of one file.
///
/// # Errors
///
/// A file that cannot be read, is not JSON, or has no group this tool knows (or one it does
/// not know).
pub fn check_file(path: &Path) -> Result<Vec<GroupResult>, FileError> {
    let name = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| FileError(format!("cannot read {name}: {e}")))?;
    let json: Value =
        serde_json::from_str(&text).map_err(|e| FileError(format!("cannot parse {name}: {e}")))?;
    let object = json
        .as_object()
        .ok_or_else(|| FileError(format!("{name}: the top level is not a JSON object")))?;
    let mut results = Vec::new();
    for (key, value) in object {
        let Some(entries) = value.as_array() else {
            continue; // `schema`, `source`
        };
        let check: fn(&Value, &mut Check) = match key.as_str() {
            "header" => header_entry,
            "aes_ctr_hmac" | "aead" => aead_entry,
            "sframe" | "sframe_aes_256_ctr_hmac" => sframe_entry,
            "ratchet" => ratchet_entry,
            "kid" => mls_kid_entry,
            "sender_bits" => mls_sender_bits_entry,
            "sender_keys" => mls_sender_keys_entry,
            "pairwise" => pairwise_entry,
            "sframe_per_ssrc_key_derivation" => per_ssrc_entry,
            other => {
                return Err(FileError(format!("{name}: unknown vector group `{other}`")));
            }
        };
        let mut group = GroupResult {
            file: name.clone(),
            group: key.clone(),
            entries: entries.len(),
            passed: 0,
            failures: Vec::new(),
        };
        for (i, entry) in entries.iter().enumerate() {
            let mut c = Check::default();
            check(entry, &mut c);
            if c.diffs.is_empty() {
                group.passed += 1;
            } else {
                group.failures.push((i, identify(entry), c.diffs));
            }
        }
        results.push(group);
    }
    if results.is_empty() {
        return Err(FileError(format!("{name}: no vector groups")));
    }
    Ok(results)
}

/// What names an entry in a failure message.
fn identify(v: &Value) -> String {
    let mut parts = Vec::new();
    for field in [
        "cipher_suite",
        "suite",
        "kid",
        "ctr",
        "generation",
        "group_size",
    ] {
        if let Some(x) = v.get(field) {
            let shown = x.as_str().map_or_else(|| x.to_string(), str::to_owned);
            parts.push(format!("{field} {shown}"));
        }
    }
    parts.join(", ")
}

/// What went wrong with one entry.
#[derive(Default)]
struct Check {
    diffs: Vec<String>,
}

impl Check {
    fn fail(&mut self, what: impl Into<String>) {
        self.diffs.push(what.into());
    }

    fn that(&mut self, what: &str, ok: bool) {
        if !ok {
            self.fail(what);
        }
    }

    fn bytes(&mut self, what: &str, got: &[u8], want: &[u8]) {
        if got != want {
            self.fail(format!(
                "{what}: expected {}, got {}",
                hex::encode(want),
                hex::encode(got)
            ));
        }
    }

    fn num_eq(&mut self, what: &str, got: u64, want: u64) {
        if got != want {
            self.fail(format!("{what}: expected {want:#x}, got {got:#x}"));
        }
    }

    fn hex(&mut self, v: &Value, field: &str) -> Vec<u8> {
        match v.get(field).and_then(Value::as_str).map(hex::decode) {
            Some(Ok(bytes)) => bytes,
            Some(Err(_)) => {
                self.fail(format!("{field}: not hex"));
                Vec::new()
            }
            None => {
                self.fail(format!("{field}: missing"));
                Vec::new()
            }
        }
    }

    /// A u64: a JSON number (read exactly) or a `"0x…"` / decimal string.
    fn num(&mut self, v: &Value, field: &str) -> u64 {
        let parsed = match v.get(field) {
            Some(Value::Number(n)) => n.as_u64(),
            Some(Value::String(s)) => s
                .strip_prefix("0x")
                .map_or_else(|| s.parse().ok(), |h| u64::from_str_radix(h, 16).ok()),
            _ => None,
        };
        parsed.unwrap_or_else(|| {
            self.fail(format!("{field}: missing or not a u64"));
            0
        })
    }

    fn suite(&mut self, v: &Value) -> Option<CipherSuite> {
        let field = if v.get("cipher_suite").is_some() {
            "cipher_suite"
        } else {
            "suite"
        };
        let id = self.num(v, field);
        let suite = u16::try_from(id)
            .ok()
            .and_then(|id| CipherSuite::from_id(id).ok());
        let Some(suite) = suite else {
            self.fail(format!("cipher suite {id}: not in this build"));
            return None;
        };
        if let Some(name) = v.get("suite_name").and_then(Value::as_str) {
            if name != suite.name() {
                self.fail(format!("suite_name: expected {}, got {name}", suite.name()));
            }
        }
        Some(suite)
    }

    fn base_key(&mut self, bytes: &[u8]) -> Option<BaseKey> {
        match BaseKey::new(bytes) {
            Ok(k) => Some(k),
            Err(e) => {
                self.fail(format!("base_key: {e}"));
                None
            }
        }
    }
}

/// Every copy of `bytes` with one bit flipped.
fn flipped(bytes: &[u8]) -> impl Iterator<Item = Vec<u8>> + '_ {
    (0..bytes.len() * 8).map(move |i| {
        let mut copy = bytes.to_vec();
        if let Some(b) = copy.get_mut(i / 8) {
            *b ^= 1 << (i % 8);
        }
        copy
    })
}

/// RFC 9605 §4.3, Appendix C.1: encode gives `encoded`; decode gives (KID, CTR) back and
/// consumes it all; every truncation is refused; no flipped bit decodes to the same header.
fn header_entry(v: &Value, c: &mut Check) {
    let (kid, ctr, encoded) = (c.num(v, "kid"), c.num(v, "ctr"), c.hex(v, "encoded"));
    if !c.diffs.is_empty() {
        return;
    }
    let header = Header::new(KeyId(kid), Counter(ctr));
    c.bytes("encode", header.encode().as_bytes(), &encoded);
    c.that("encoded_len", header.encoded_len() == encoded.len());
    let mut with_payload = encoded.clone();
    with_payload.extend_from_slice(b"payload");
    match Header::decode(&with_payload) {
        Ok((h, len)) => {
            c.num_eq("decode: kid", h.key_id().0, kid);
            c.num_eq("decode: ctr", h.counter().0, ctr);
            c.that("decode: consumed length", len == encoded.len());
        }
        Err(e) => c.fail(format!("decode: {e}")),
    }
    for cut in 0..encoded.len() {
        let prefix = encoded.get(..cut).unwrap_or_default();
        if Header::decode(prefix) != Err(HeaderError::Truncated) {
            c.fail(format!("decode of the first {cut} bytes was not refused"));
        }
    }
    for bad in flipped(&encoded) {
        if let Ok((h, len)) = Header::decode(&bad) {
            if h == header && len == encoded.len() {
                c.fail(format!(
                    "flipped bit: {} decodes to the same header",
                    hex::encode(&bad)
                ));
            }
        }
    }
}

/// RFC 9605 §4.5.1, Appendix C.2: the key split, `AEAD.Encrypt`, `AEAD.Decrypt`, and any
/// flipped bit of ciphertext, tag, AAD or nonce refused (with nothing left in the buffer).
fn aead_entry(v: &Value, c: &mut Check) {
    let Some(suite) = c.suite(v) else { return };
    let (key, nonce, aad, pt, ct) = (
        c.hex(v, "key"),
        c.hex(v, "nonce"),
        c.hex(v, "aad"),
        c.hex(v, "pt"),
        c.hex(v, "ct"),
    );
    let Ok(nonce) = <[u8; 12]>::try_from(nonce.as_slice()) else {
        c.fail("nonce: not 12 bytes");
        return;
    };
    if let Some(nka) = suite.enc_key_len() {
        if v.get("enc_key").is_some() {
            let want = c.hex(v, "enc_key");
            c.bytes("enc_key", key.get(..nka).unwrap_or_default(), &want);
        }
        if v.get("auth_key").is_some() {
            let want = c.hex(v, "auth_key");
            c.bytes("auth_key", key.get(nka..).unwrap_or_default(), &want);
        }
    }
    let cipher = match RawAead::new(suite, &key) {
        Ok(a) => a,
        Err(e) => return c.fail(format!("key: {e}")),
    };
    let mut buf = pt.clone();
    let mut tag = vec![0; suite.tag_len()];
    match cipher.seal(&nonce, &aad, &mut buf, &mut tag) {
        Ok(()) => c.bytes("encrypt: ct", &[buf, tag].concat(), &ct),
        Err(e) => c.fail(format!("encrypt: {e}")),
    }
    let Some((body, tag)) = ct.split_at_checked(pt.len()) else {
        return c.fail("ct: shorter than pt");
    };
    let mut buf = body.to_vec();
    match cipher.open(&nonce, &aad, &mut buf, tag) {
        Ok(()) => c.bytes("decrypt: pt", &buf, &pt),
        Err(e) => c.fail(format!("decrypt: {e}")),
    }
    let mut accepted = 0;
    for bad in flipped(&ct) {
        let (body, tag) = bad.split_at(pt.len());
        let mut buf = body.to_vec();
        if cipher.open(&nonce, &aad, &mut buf, tag).is_ok() || buf.iter().any(|&b| b != 0) {
            accepted += 1;
        }
    }
    for bad in flipped(&aad) {
        let mut buf = body.to_vec();
        if cipher.open(&nonce, &bad, &mut buf, tag).is_ok() {
            accepted += 1;
        }
    }
    for bad in flipped(&nonce) {
        let mut buf = body.to_vec();
        let bad: [u8; 12] = bad.try_into().unwrap_or_default();
        if cipher.open(&bad, &aad, &mut buf, tag).is_ok() {
            accepted += 1;
        }
    }
    if accepted > 0 {
        c.fail(format!("{accepted} flipped bits were not refused"));
    }
}

/// RFC 9605 §4.4, Appendix C.3: labels, secret, key, salt, nonce, AAD; encrypt at CTR gives
/// `ct`; decrypt gives `pt`; any flipped bit of the frame or the metadata is refused.
fn sframe_entry(v: &Value, c: &mut Check) {
    let Some(suite) = c.suite(v) else { return };
    let (kid, ctr) = (KeyId(c.num(v, "kid")), c.num(v, "ctr"));
    let base = c.hex(v, "base_key");
    let (metadata, pt, ct) = (c.hex(v, "metadata"), c.hex(v, "pt"), c.hex(v, "ct"));
    let Some(base_key) = c.base_key(&base) else {
        return;
    };
    let optional = |c: &mut Check, field: &str, got: &[u8]| {
        if v.get(field).is_some() {
            let want = c.hex(v, field);
            c.bytes(field, got, &want);
        }
    };
    optional(c, "sframe_key_label", &hazmat::key_label(kid, suite));
    optional(c, "sframe_salt_label", &hazmat::salt_label(kid, suite));
    let (secret, key, salt) = hazmat::derive_key_salt(suite, kid, &base_key);
    optional(c, "sframe_secret", secret.expose_secret());
    optional(c, "sframe_key", key.expose_secret());
    optional(c, "sframe_salt", salt.expose_secret());
    optional(c, "nonce", &salt.nonce(ctr));
    let header = Header::new(kid, Counter(ctr)).encode();
    optional(c, "aad", &[header.as_bytes(), &metadata].concat());

    let mut encryptor = Encryptor::new(suite, kid, &base_key);
    match encryptor.advance_counter_to(Counter(ctr)) {
        Ok(()) => match encryptor.encrypt_to_vec(&metadata, &pt) {
            Ok(got) => c.bytes("encrypt: ct", &got, &ct),
            Err(e) => c.fail(format!("encrypt: {e}")),
        },
        Err(e) => c.fail(format!("encrypt at ctr: {e}")),
    }
    let receiver = || ReceiveKey::new(suite, kid, &base_key);
    let mut frame = ct.clone();
    match receiver().decrypt_in_place(&metadata, &mut frame) {
        Ok(got) => c.bytes("decrypt: pt", got, &pt),
        Err(e) => c.fail(format!("decrypt: {e} ({})", e.kind())),
    }
    let mut accepted = 0;
    for mut bad in flipped(&ct) {
        if receiver().decrypt_in_place(&metadata, &mut bad).is_ok() {
            accepted += 1;
        }
    }
    for bad in flipped(&metadata) {
        let mut frame = ct.clone();
        if receiver().decrypt_in_place(&bad, &mut frame).is_ok() {
            accepted += 1;
        }
    }
    if accepted > 0 {
        c.fail(format!("{accepted} flipped bits were not refused"));
    }
}

/// `HKDF-Expand(HKDF-Extract(salt, ikm), info, len)` with SHA-256 or SHA-512.
fn hkdf(sha512: bool, salt: Option<&[u8]>, ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    let ok = if sha512 {
        Hkdf::<Sha512>::new(salt, ikm)
            .expand(info, &mut out)
            .is_ok()
    } else {
        Hkdf::<Sha256>::new(salt, ikm)
            .expand(info, &mut out)
            .is_ok()
    };
    if ok { out } else { Vec::new() }
}

/// RFC 9605 §5.1 (the project's `sender-key-ratchet.json`): the chain of base keys, KIDs, keys
/// and salts as the library's ratchet sender walks it, the frames it encrypts, a receiver that
/// follows it, and a flipped bit refused.
fn ratchet_entry(v: &Value, c: &mut Check) {
    let Some(suite) = c.suite(v) else { return };
    let r = c.num(v, "ratchet_bits");
    let generation = c.num(v, "generation");
    let Some(bits) = u8::try_from(r).ok().and_then(|r| RatchetBits::new(r).ok()) else {
        return c.fail("ratchet_bits: out of range");
    };
    let Some(steps) = v.get("steps").and_then(Value::as_array) else {
        return c.fail("steps: missing");
    };
    let Some(first) = steps.first() else {
        return c.fail("steps: empty");
    };
    let first = c.hex(first, "base_key");
    let Some(first_key) = c.base_key(&first) else {
        return;
    };
    let mut sender = match RatchetSender::new(suite, bits, generation, first_key) {
        Ok(s) => s,
        Err(e) => return c.fail(format!("ratchet sender: {e}")),
    };
    let receiver_key = c.base_key(&first);
    let mut receiver = receiver_key.and_then(|k| {
        RatchetReceiver::new(suite, bits, SenderKeyId::new(generation, 0), k)
            .ok()?
            .with_limits(1, 0)
            .ok()
    });
    for (i, step) in steps.iter().enumerate() {
        if i > 0 {
            if let Err(e) = sender.ratchet() {
                return c.fail(format!("step {i}: ratchet: {e}"));
            }
        }
        c.num_eq(
            &format!("step {i}: kid"),
            sender.key_id().0,
            c_num(step, "kid"),
        );
        let want = c.hex(step, "base_key");
        c.bytes(
            &format!("step {i}: base_key"),
            sender.base_key().expose_secret(),
            &want,
        );
        let (_, key, salt) = hazmat::derive_key_salt(suite, sender.key_id(), sender.base_key());
        let want = c.hex(step, "sframe_key");
        c.bytes(&format!("step {i}: sframe_key"), key.expose_secret(), &want);
        let want = c.hex(step, "sframe_salt");
        c.bytes(
            &format!("step {i}: sframe_salt"),
            salt.expose_secret(),
            &want,
        );
        if step.get("ct").is_some() {
            let (metadata, pt, ct) = (
                c.hex(step, "metadata"),
                c.hex(step, "pt"),
                c.hex(step, "ct"),
            );
            let ctr = c.num(step, "ctr");
            let encryptor = sender.encryptor();
            if encryptor.next_counter() != Some(Counter(ctr)) {
                if let Err(e) = encryptor.advance_counter_to(Counter(ctr)) {
                    c.fail(format!("step {i}: counter: {e}"));
                }
            }
            match encryptor.encrypt_to_vec(&metadata, &pt) {
                Ok(got) => c.bytes(&format!("step {i}: ct"), &got, &ct),
                Err(e) => c.fail(format!("step {i}: encrypt: {e}")),
            }
            if let Some(receiver) = receiver.as_mut() {
                if let Some(mut bad) = flipped(&ct).last() {
                    if receiver.decrypt_in_place(&metadata, &mut bad).is_ok() {
                        c.fail(format!("step {i}: a flipped bit was not refused"));
                    }
                }
                let mut frame = ct.clone();
                match receiver.decrypt_in_place(&metadata, &mut frame) {
                    Ok(got) => c.bytes(&format!("step {i}: receiver pt"), got, &pt),
                    Err(e) => c.fail(format!("step {i}: receiver: {e}")),
                }
            }
        }
    }
}

/// A number field read without recording (the caller compares it).
fn c_num(v: &Value, field: &str) -> u64 {
    let mut c = Check::default();
    c.num(v, field)
}

/// RFC 9605 §5.2: `KID = context << (S+E) | sender_index << E | epoch mod 2^E`, both ways.
fn mls_kid_entry(v: &Value, c: &mut Check) {
    let (e, s) = (c.num(v, "epoch_bits"), c.num(v, "sender_bits"));
    let (context, index, epoch, kid) = (
        c.num(v, "context"),
        c.num(v, "sender_index"),
        c.num(v, "epoch"),
        c.num(v, "kid"),
    );
    let layout = u8::try_from(e)
        .ok()
        .zip(u8::try_from(s).ok())
        .and_then(|(e, s)| MlsKidLayout::new(e, s).ok());
    let (Some(layout), Ok(sender_index)) = (layout, u32::try_from(index)) else {
        return c.fail("epoch_bits, sender_bits or sender_index out of range");
    };
    let id = MlsKeyId {
        context,
        sender_index,
        epoch,
    };
    match id.to_key_id(layout) {
        Ok(got) => c.num_eq("kid", got.0, kid),
        Err(err) => c.fail(format!("kid: {err}")),
    }
    let back = MlsKeyId::from_key_id(KeyId(kid), layout);
    c.num_eq("decoded context", back.context, context);
    c.num_eq("decoded sender_index", u64::from(back.sender_index), index);
    let mask = 1u64
        .checked_shl(u32::try_from(e).unwrap_or(64))
        .map_or(u64::MAX, |m| m - 1);
    c.num_eq("decoded epoch bits", back.epoch, epoch & mask);
}

/// RFC 9605 §5.2: the smallest `S` with `group_size <= 2^S`.
fn mls_sender_bits_entry(v: &Value, c: &mut Check) {
    let (size, bits) = (c.num(v, "group_size"), c.num(v, "sender_bits"));
    match u32::try_from(size).map(MlsKidLayout::sender_bits_for) {
        Ok(Ok(got)) => c.num_eq("sender_bits", u64::from(got), bits),
        Ok(Err(e)) => c.fail(format!("sender_bits: {e}")),
        Err(_) => c.fail("group_size: out of range"),
    }
}

/// RFC 9605 §5.2 and §4.4.2: a member's KID and its key and salt.
fn mls_sender_keys_entry(v: &Value, c: &mut Check) {
    let Some(suite) = c.suite(v) else { return };
    let base = c.hex(v, "base_key");
    c.that(
        "base_key: the exporter gives Nk bytes",
        base.len() == suite.key_len(),
    );
    let (e, s) = (c.num(v, "epoch_bits"), c.num(v, "sender_bits"));
    let layout = u8::try_from(e)
        .ok()
        .zip(u8::try_from(s).ok())
        .and_then(|(e, s)| MlsKidLayout::new(e, s).ok());
    let Some(layout) = layout else {
        return c.fail("epoch_bits or sender_bits out of range");
    };
    let id = MlsKeyId {
        context: 0,
        sender_index: u32::try_from(c.num(v, "sender_index")).unwrap_or(u32::MAX),
        epoch: c.num(v, "epoch"),
    };
    let want_kid = c.num(v, "kid");
    let kid = match id.to_key_id(layout) {
        Ok(kid) => kid,
        Err(e) => return c.fail(format!("kid: {e}")),
    };
    c.num_eq("kid", kid.0, want_kid);
    let Some(base_key) = c.base_key(&base) else {
        return;
    };
    let (_, key, salt) = hazmat::derive_key_salt(suite, kid, &base_key);
    let want = c.hex(v, "sframe_key");
    c.bytes("sframe_key", key.expose_secret(), &want);
    let want = c.hex(v, "sframe_salt");
    c.bytes("sframe_salt", salt.expose_secret(), &want);
}

/// P-256 pairwise agreement (not RFC 9605): public keys, commitment, transcript and its hash,
/// both directions' base keys from both sides, the verification code; the shared secret is
/// checked through HKDF (the library does not expose it).
fn pairwise_entry(v: &Value, c: &mut Check) {
    let Some(suite) = c.suite(v) else { return };
    let i_priv = c.hex(v, "initiator_private");
    let r_priv = c.hex(v, "responder_private");
    let (Ok(i_priv), Ok(r_priv)) = (<[u8; 32]>::try_from(i_priv), <[u8; 32]>::try_from(r_priv))
    else {
        return c.fail("private keys: not 32 bytes");
    };
    let (Ok(initiator), Ok(responder)) = (
        KeyPair::from_secret_bytes(&i_priv),
        KeyPair::from_secret_bytes(&r_priv),
    ) else {
        return c.fail("private keys: refused");
    };
    let want = c.hex(v, "initiator_public");
    c.bytes("initiator_public", initiator.public_key().as_bytes(), &want);
    let want = c.hex(v, "responder_public");
    c.bytes("responder_public", responder.public_key().as_bytes(), &want);
    if v.get("initiator_commitment").is_some() {
        let want = c.hex(v, "initiator_commitment");
        c.bytes(
            "initiator_commitment",
            &initiator.public_key().commitment(),
            &want,
        );
    }
    let transcript = [
        b"secure-frame 1.0 P-256 pairwise".as_slice(),
        &suite.id().to_be_bytes(),
        &[1],
        initiator.public_key().as_bytes(),
        &[2],
        responder.public_key().as_bytes(),
    ]
    .concat();
    let want = c.hex(v, "transcript");
    c.bytes("transcript", &transcript, &want);
    let th = Sha256::digest(&transcript);
    let want = c.hex(v, "transcript_hash");
    c.bytes("transcript_hash", &th, &want);
    let shared = c.hex(v, "shared_secret");
    let i2r = c.hex(v, "initiator_to_responder");
    let r2i = c.hex(v, "responder_to_initiator");
    let nh = suite.hash_len();
    c.bytes(
        "initiator_to_responder from shared_secret",
        &hkdf(
            false,
            Some(&th),
            &shared,
            b"secure-frame 1.0 initiator to responder",
            nh,
        ),
        &i2r,
    );
    c.bytes(
        "responder_to_initiator from shared_secret",
        &hkdf(
            false,
            Some(&th),
            &shared,
            b"secure-frame 1.0 responder to initiator",
            nh,
        ),
        &r2i,
    );
    let (ours_i, ours_r) = match (
        agree(&initiator, Role::Initiator, responder.public_key(), suite),
        agree(&responder, Role::Responder, initiator.public_key(), suite),
    ) {
        (Ok(i), Ok(r)) => (i, r),
        (Err(e), _) | (_, Err(e)) => return c.fail(format!("agree: {e}")),
    };
    c.bytes("initiator send", ours_i.send().expose_secret(), &i2r);
    c.bytes("initiator receive", ours_i.receive().expose_secret(), &r2i);
    c.bytes("responder send", ours_r.send().expose_secret(), &r2i);
    c.bytes("responder receive", ours_r.receive().expose_secret(), &i2r);
    c.bytes("library transcript_hash", ours_i.transcript_hash(), &th);
    let code = v
        .get("verification_code")
        .and_then(Value::as_str)
        .unwrap_or("");
    c.that(
        "verification_code",
        ours_i.verification_code().to_string() == code
            && ours_r.verification_code().to_string() == code,
    );
}

/// draft-ietf-avtcore-rtp-sframe per-SSRC keys (not RFC 9605, not in the library):
/// `HKDF-Expand(HKDF-Extract(SSRC as 4 bytes, base_key), "SFrame 1.0 RTP Stream", Nh)`,
/// computed here with the suite's hash (SHA-256 for suites 1-4, SHA-512 for 5-8).
fn per_ssrc_entry(v: &Value, c: &mut Check) {
    let id = c.num(v, "cipher_suite");
    let (sha512, nh) = match id {
        1..=4 => (false, 32),
        5..=8 => (true, 64),
        _ => return c.fail(format!("cipher_suite {id}: unknown")),
    };
    let base = c.hex(v, "base_key");
    for side in ["a", "b"] {
        let ssrc = c.num(v, &format!("ssrc_{side}"));
        let Ok(ssrc) = u32::try_from(ssrc) else {
            c.fail(format!("ssrc_{side}: not a u32"));
            continue;
        };
        let want = c.hex(v, &format!("stream_key_{side}"));
        let got = hkdf(
            sha512,
            Some(&ssrc.to_be_bytes()),
            &base,
            b"SFrame 1.0 RTP Stream",
            nh,
        );
        c.bytes(&format!("stream_key_{side}"), &got, &want);
    }
}

/// Prints the table of every group and the failures; returns the totals.
#[must_use]
pub fn report(results: &[GroupResult]) -> (String, usize, usize) {
    let mut out = String::new();
    let mut current_file = "";
    let (mut passed, mut failed) = (0, 0);
    for g in results {
        if g.file != current_file {
            current_file = &g.file;
            let _ = writeln!(out, "{}", g.file);
            let _ = writeln!(
                out,
                "  {:<32} {:>7} {:>7} {:>7}",
                "group", "entries", "passed", "failed"
            );
        }
        let _ = writeln!(
            out,
            "  {:<32} {:>7} {:>7} {:>7}",
            g.group,
            g.entries,
            g.passed,
            g.failures.len()
        );
        passed += g.passed;
        failed += g.failures.len();
    }
    for g in results {
        for (i, id, diffs) in &g.failures {
            let _ = writeln!(out, "FAILED {} {}[{i}] ({id}):", g.file, g.group);
            for d in diffs {
                let _ = writeln!(out, "  {d}");
            }
        }
    }
    (out, passed, failed)
}
