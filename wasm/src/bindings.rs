//! The JavaScript classes (wasm-bindgen), shaped as the W3C WebRTC Encoded Transform editor's
//! draft (`RTCRtpSFrameEncrypter` / `RTCRtpSFrameDecrypter`), synchronous, for use inside a
//! transform worker: keys as `Uint8Array` or `ArrayBuffer`, key IDs as `number` or `bigint`.

use js_sys::{ArrayBuffer, BigInt, Error, Function, RangeError, Reflect, TypeError, Uint8Array};
use secure_frame::{CipherSuite, KeyId, MlsError, RatchetBits};
use wasm_bindgen::prelude::*;

use crate::agreement::{Agreement, AgreementError, role_by_name};
use crate::transform::{
    Failure, Format, KeyChangeError, Receiver, Sender, external_aead_key, external_aead_supported,
    suite_by_name,
};

/// 2^64, the first number that is not a valid `CryptoKeyID`.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// A W3C `CryptoKeyID`: a `number` or a `bigint` in 0..2^64−1, else a `RangeError`.
fn key_id(value: &JsValue) -> Result<KeyId, JsValue> {
    u64_arg(value, "keyID").map(KeyId)
}

/// A `number` or a `bigint` in 0..2^64−1 (a key ID, an MLS epoch), else a `RangeError`.
fn u64_arg(value: &JsValue, name: &str) -> Result<u64, JsValue> {
    let out_of_range = || {
        JsValue::from(RangeError::new(&format!(
            "{name} must be an integer in 0..2^64-1"
        )))
    };
    if let Some(n) = value.as_f64() {
        if n.fract() != 0.0 || !(0.0..TWO_POW_64).contains(&n) {
            return Err(out_of_range());
        }
        let big = BigInt::new(value).map_err(|_| out_of_range())?;
        return u64::try_from(JsValue::from(big)).map_err(|_| out_of_range());
    }
    if value.is_bigint() {
        return u64::try_from(value.clone()).map_err(|_| out_of_range());
    }
    Err(TypeError::new(&format!("{name} must be a number or a bigint")).into())
}

/// An integer `number` in `lo..=hi` (a group size, a leaf index, bits), else a `RangeError`.
fn u32_arg(value: &JsValue, name: &str, lo: u32, hi: u32) -> Result<u32, JsValue> {
    let bad = || {
        JsValue::from(RangeError::new(&format!(
            "{name} must be an integer in {lo}..{hi}"
        )))
    };
    let n = value
        .as_f64()
        .filter(|n| n.fract() == 0.0)
        .ok_or_else(bad)?;
    if !(f64::from(lo)..=f64::from(hi)).contains(&n) {
        return Err(bad());
    }
    let n = u64_arg(value, name).map_err(|_| bad())?;
    u32::try_from(n).map_err(|_| bad())
}

/// The JS error for a refused key change: `RangeError` for a group size, leaf index or
/// context out of range, `InvalidStateError` for a key operation of the other key mode,
/// `InvalidModificationError` for the rest (a bad key, an epoch that is not newer, …).
fn key_change_error(e: &KeyChangeError) -> JsValue {
    match e {
        KeyChangeError::Mls(
            MlsError::GroupSize | MlsError::SenderIndexOutOfRange | MlsError::ContextOutOfRange,
        ) => RangeError::new(&e.to_string()).into(),
        KeyChangeError::WrongMode => {
            let error = Error::new(&e.to_string());
            error.set_name("InvalidStateError");
            error.into()
        }
        _ => invalid_modification(&e.to_string()),
    }
}

/// `{ mls: { epochBits, context, maxEpochs } }`: RFC 9605 §5.2 epochs with E = `epochBits`
/// (1–32); the encrypter's KID `context` (default 0), the decrypter's live-epoch bound
/// `maxEpochs` (default the library's, 4).
struct MlsOption {
    epoch_bits: u8,
    context: u64,
    max_epochs: Option<usize>,
}

fn mls_option(options: &JsValue) -> Result<Option<MlsOption>, JsValue> {
    if !options.is_object() {
        return Ok(None);
    }
    let mls = Reflect::get(options, &JsValue::from_str("mls"))?;
    if mls.is_undefined() || mls.is_null() {
        return Ok(None);
    }
    if !mls.is_object() {
        return Err(
            TypeError::new("mls must be an object { epochBits, context, maxEpochs }").into(),
        );
    }
    let field = |name: &str| Reflect::get(&mls, &JsValue::from_str(name));
    let bits = u32_arg(&field("epochBits")?, "mls.epochBits", 1, 32)?;
    let context = field("context")?;
    let context = if context.is_undefined() {
        0
    } else {
        u64_arg(&context, "mls.context")?
    };
    let max = field("maxEpochs")?;
    let max_epochs = if max.is_undefined() {
        None
    } else {
        let n = u32_arg(&max, "mls.maxEpochs", 1, u32::MAX)?;
        Some(usize::try_from(n).map_err(|_| RangeError::new("mls.maxEpochs is too large"))?)
    };
    if !Reflect::get(options, &JsValue::from_str("ratchetBits"))?.is_undefined() {
        return Err(TypeError::new("the mls and ratchetBits options exclude each other").into());
    }
    Ok(Some(MlsOption {
        epoch_bits: u8::try_from(bits).unwrap_or(u8::MAX),
        context,
        max_epochs,
    }))
}

fn key_bytes(key: &JsValue) -> Result<Vec<u8>, JsValue> {
    if let Some(bytes) = key.dyn_ref::<Uint8Array>() {
        return Ok(bytes.to_vec());
    }
    if key.is_instance_of::<ArrayBuffer>() {
        return Ok(Uint8Array::new(key).to_vec());
    }
    Err(TypeError::new(
        "key must be a Uint8Array or an ArrayBuffer (sframe.js exports an extractable CryptoKey first)",
    )
    .into())
}

fn invalid_modification(message: &str) -> JsValue {
    let error = Error::new(message);
    error.set_name("InvalidModificationError");
    error.into()
}

/// `{ ratchetBits }`: the RFC 9605 §5.1 ratchet with that many step bits (1–63), or none.
fn ratchet_option(options: &JsValue) -> Result<Option<RatchetBits>, JsValue> {
    if !options.is_object() {
        return Ok(None);
    }
    let bits = Reflect::get(options, &JsValue::from_str("ratchetBits"))?;
    if bits.is_undefined() || bits.is_null() {
        return Ok(None);
    }
    let bad = || JsValue::from(RangeError::new("ratchetBits must be an integer in 1..63"));
    let n = bits.as_f64().filter(|n| n.fract() == 0.0).ok_or_else(bad)?;
    let n = (1u8..=63)
        .find(|&b| (f64::from(b) - n).abs() < 0.5)
        .ok_or_else(bad)?;
    RatchetBits::new(n).map(Some).map_err(|_| bad())
}

/// `{ cipherSuite, format }`: the suite by its W3C name or its RFC 9605 number (default
/// `AES_128_GCM_SHA256_128`), the wire format `"rfc"` (default) or `"codec"`.
fn options(options: &JsValue) -> Result<(CipherSuite, Format), JsValue> {
    let get = |name: &str| {
        if options.is_object() {
            Reflect::get(options, &JsValue::from_str(name))
        } else {
            Ok(JsValue::UNDEFINED)
        }
    };
    let suite = get("cipherSuite")?;
    let suite = if suite.is_undefined() {
        CipherSuite::AesGcm128Sha256
    } else if let Some(name) = suite.as_string() {
        suite_by_name(&name).ok_or_else(|| TypeError::new("unknown cipherSuite"))?
    } else if let Some(id) = suite.as_f64() {
        u16::try_from(
            u64::try_from(
                BigInt::new(&JsValue::from(id))
                    .map_err(|_| TypeError::new("unknown cipherSuite"))?,
            )
            .unwrap_or(u64::MAX),
        )
        .ok()
        .and_then(|id| CipherSuite::from_id(id).ok())
        .ok_or_else(|| TypeError::new("unknown cipherSuite"))?
    } else {
        return Err(TypeError::new("unknown cipherSuite").into());
    };
    let format = get("format")?;
    let format = if format.is_undefined() {
        Format::Rfc
    } else {
        format
            .as_string()
            .as_deref()
            .and_then(Format::parse)
            .ok_or_else(|| TypeError::new("format must be \"rfc\" or \"codec\""))?
    };
    Ok((suite, format))
}

fn count(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// The derived AES-GCM key for a WebCrypto import, once per key.
fn aead_key_bytes(
    suite: CipherSuite,
    key: &JsValue,
    key_id_value: &JsValue,
) -> Result<Uint8Array, JsValue> {
    if !external_aead_supported(suite) {
        return Err(TypeError::new("only the AES-GCM suites have an external AEAD path").into());
    }
    let kid = key_id(key_id_value)?;
    let bytes = key_bytes(key)?;
    let key =
        external_aead_key(suite, kid, &bytes).map_err(|e| invalid_modification(&e.to_string()))?;
    Ok(Uint8Array::from(key.expose_secret()))
}

/// A received frame whose header, key and replay window were checked, waiting for an external
/// AEAD (`SFrameDecrypter.beginOpen`); give it back to `commitOpen` once the tag verified.
#[wasm_bindgen]
#[derive(Debug)]
pub struct OpenTicket {
    inner: secure_frame::external::OpenRequest,
}

#[wasm_bindgen]
impl OpenTicket {
    /// The AES-GCM nonce (12 bytes).
    #[wasm_bindgen(getter)]
    pub fn nonce(&self) -> Uint8Array {
        Uint8Array::from(&self.inner.nonce()[..])
    }

    /// The header's length: the associated data is the frame's first `headerLength` bytes,
    /// the rest is ciphertext ‖ tag.
    #[wasm_bindgen(getter, js_name = headerLength)]
    pub fn header_length(&self) -> u32 {
        count(u64::try_from(self.inner.header_len()).unwrap_or(u64::MAX))
    }

    /// The frame's KID (a `bigint`).
    #[wasm_bindgen(getter, js_name = keyID)]
    pub fn key_id(&self) -> BigInt {
        BigInt::from(self.inner.key_id().0)
    }
}

/// The sending half: `setEncryptionKey(key, keyID)`, then `encrypt(data, mimeType)` per frame.
#[wasm_bindgen]
#[derive(Debug)]
pub struct SFrameEncrypter {
    inner: Sender,
    suite: CipherSuite,
}

#[wasm_bindgen]
impl SFrameEncrypter {
    /// `new SFrameEncrypter({ cipherSuite, format })`.
    ///
    /// # Errors
    ///
    /// A `TypeError` for an unknown suite or format.
    #[wasm_bindgen(constructor)]
    pub fn new(opts: &JsValue) -> Result<SFrameEncrypter, JsValue> {
        let (suite, format) = options(opts)?;
        let mut inner = Sender::new(suite, format);
        if let Some(mls) = mls_option(opts)? {
            inner = inner
                .with_mls(mls.epoch_bits, mls.context)
                .map_err(|e| RangeError::new(&e.to_string()))?;
        } else if let Some(bits) = ratchet_option(opts)? {
            inner = inner.with_ratchet(bits);
        }
        Ok(Self { inner, suite })
    }

    /// With the `mls` option: moves to MLS `epoch` (a `number` or `bigint`) of a group of
    /// `groupSize` members in which this member is leaf `senderIndex`. `baseKey` is the
    /// epoch's `MLS-Exporter("SFrame 1.0 Base Key", "", Nk)` (Nk = 16 or 32 bytes, of the SFrame
    /// suite). Returns the KID every following frame is sent under (a `bigint`).
    ///
    /// # Errors
    ///
    /// `InvalidStateError` without the `mls` option; `RangeError` for an epoch, group size or
    /// index out of range; `InvalidModificationError` for a key that is not Nk bytes or an
    /// epoch that is not newer than the current one.
    #[wasm_bindgen(js_name = setEpoch)]
    pub fn set_epoch(
        &mut self,
        epoch: &JsValue,
        base_key: &JsValue,
        group_size: &JsValue,
        sender_index: &JsValue,
    ) -> Result<BigInt, JsValue> {
        let epoch = u64_arg(epoch, "epoch")?;
        let bytes = key_bytes(base_key)?;
        let group_size = u32_arg(group_size, "groupSize", 1, 1 << 31)?;
        let sender_index = u32_arg(sender_index, "senderIndex", 0, (1 << 31) - 1)?;
        self.inner
            .set_epoch(epoch, group_size, sender_index, &bytes)
            .map(|kid| BigInt::from(kid.0))
            .map_err(|e| key_change_error(&e))
    }

    /// With the `mls` option: the epoch frames are sent in (a `bigint`), `undefined` before
    /// `setEpoch`.
    #[wasm_bindgen(getter)]
    pub fn epoch(&self) -> JsValue {
        self.inner
            .epoch()
            .map_or(JsValue::UNDEFINED, |e| BigInt::from(e).into())
    }

    /// Whether frames can be sealed by WebCrypto (`beginSeal`): RFC format, an AES-GCM suite
    /// (with or without the ratchet or MLS epochs: `currentAeadKey` follows them).
    #[wasm_bindgen(getter, js_name = externalAeadSupported)]
    pub fn external_aead_supported(&self) -> bool {
        external_aead_supported(self.suite) && self.inner.format() == Format::Rfc
    }

    /// The AES-GCM key of the KID frames are sent under now (`keyID`), to import as a
    /// non-extractable WebCrypto key and zero; `undefined` without a key, in codec-aware mode
    /// or for a suite that is not AES-GCM. It changes with `setEncryptionKey`, `ratchet` and
    /// `setEpoch`, which move `keysVersion`: seal through WebCrypto only while `keysVersion` is
    /// what it was when the key was taken (the KID alone does not tell: an MLS epoch with the
    /// same low bits is another key under the same KID).
    #[wasm_bindgen(js_name = currentAeadKey)]
    pub fn current_aead_key(&self) -> Option<Uint8Array> {
        if !external_aead_supported(self.suite) {
            return None;
        }
        let (_, key) = self.inner.current_aead_key()?;
        Some(Uint8Array::from(key.expose_secret()))
    }

    /// Moves whenever the send key changes (`setEncryptionKey` with another key, `ratchet`,
    /// `setEpoch`).
    #[wasm_bindgen(getter, js_name = keysVersion)]
    pub fn keys_version(&self) -> u32 {
        // Wrapping: only equality matters.
        u32::try_from(self.inner.key_version() & u64::from(u32::MAX)).unwrap_or(0)
    }

    /// With `ratchetBits`: ratchets the send key one step forward (RFC 9605 §5.1) and returns
    /// the new KID (a `bigint`); receivers follow without a key message.
    ///
    /// # Errors
    ///
    /// An `InvalidModificationError` without the ratchet option or a key.
    pub fn ratchet(&mut self) -> Result<BigInt, JsValue> {
        self.inner
            .ratchet()
            .map(|kid| BigInt::from(kid.0))
            .map_err(|e| invalid_modification(&e.to_string()))
    }

    /// The AES-GCM key derived from `key` under `keyID` (RFC 9605 §4.4.2), to import once as a
    /// non-extractable WebCrypto key; zero it after the import.
    ///
    /// # Errors
    ///
    /// As `setEncryptionKey`, and a `TypeError` for a suite that is not AES-GCM.
    #[wasm_bindgen(js_name = aeadKey)]
    pub fn aead_key(&self, key: &JsValue, key_id_value: &JsValue) -> Result<Uint8Array, JsValue> {
        aead_key_bytes(self.suite, key, key_id_value)
    }

    /// Reserves the next counter for a frame WebCrypto seals: returns `nonce (12 bytes) ‖
    /// header`. The frame is `header ‖ AES-GCM(key, nonce, additionalData = header, data)`.
    ///
    /// # Errors
    ///
    /// An `Error` without a key, in codec-aware mode, or when the counter is exhausted.
    #[wasm_bindgen(js_name = beginSeal)]
    pub fn begin_seal(&mut self) -> Result<Uint8Array, JsValue> {
        let request = self
            .inner
            .begin_seal()
            .map_err(|e| JsValue::from(Error::new(&e.to_string())))?;
        let mut out = request.nonce().to_vec();
        out.extend_from_slice(request.header());
        Ok(Uint8Array::from(&out[..]))
    }

    /// Makes `key` (the base key) under `keyID` the key every following frame is sent with.
    ///
    /// # Errors
    ///
    /// `RangeError` for a key ID outside 0..2^64−1, `TypeError` for a key that is not bytes,
    /// `InvalidModificationError` for an empty or over-long key.
    #[wasm_bindgen(js_name = setEncryptionKey)]
    pub fn set_encryption_key(
        &mut self,
        key: &JsValue,
        key_id_value: &JsValue,
    ) -> Result<(), JsValue> {
        let kid = if key_id_value.is_undefined() {
            KeyId(0)
        } else {
            key_id(key_id_value)?
        };
        let bytes = key_bytes(key)?;
        self.inner
            .set_key(kid, &bytes)
            .map_err(|e| key_change_error(&e))
    }

    /// Protects one frame's `data`; `mimeType` is the frame metadata's (used in codec-aware
    /// mode).
    ///
    /// # Errors
    ///
    /// An `Error` naming why the frame cannot be sent (no key, unknown codec, a frame the codec
    /// layer refuses): drop the frame.
    pub fn encrypt(&mut self, data: &[u8], mime_type: &str) -> Result<Uint8Array, JsValue> {
        self.inner
            .protect(mime_type, data)
            .map(Uint8Array::from)
            .map_err(|e| Error::new(&e.to_string()).into())
    }

    /// The KID frames are sent under (a `bigint`), `undefined` before a key is set.
    #[wasm_bindgen(getter, js_name = keyID)]
    pub fn current_key_id(&self) -> JsValue {
        self.inner
            .key_id()
            .map_or(JsValue::UNDEFINED, |kid| BigInt::from(kid.0).into())
    }

    /// Frames encrypted.
    #[wasm_bindgen(getter, js_name = encryptedFrames)]
    pub fn encrypted_frames(&self) -> u32 {
        count(self.inner.frames())
    }
}

/// The receiving half: `addDecryptionKey(key, keyID)`, `removeDecryptionKey(keyID)`, then
/// `decrypt(data, mimeType)` per frame, which gives the plaintext or `undefined` and sets
/// `errorType` (and `errorKeyID`).
#[wasm_bindgen]
#[derive(Debug)]
pub struct SFrameDecrypter {
    inner: Receiver,
    suite: CipherSuite,
    last: Option<Failure>,
}

#[wasm_bindgen]
impl SFrameDecrypter {
    /// `new SFrameDecrypter({ cipherSuite, format })`.
    ///
    /// # Errors
    ///
    /// A `TypeError` for an unknown suite or format.
    #[wasm_bindgen(constructor)]
    pub fn new(opts: &JsValue) -> Result<SFrameDecrypter, JsValue> {
        let (suite, format) = options(opts)?;
        let mut inner = Receiver::new(suite, format);
        if let Some(mls) = mls_option(opts)? {
            inner = inner
                .with_mls(mls.epoch_bits, mls.max_epochs)
                .map_err(|e| RangeError::new(&e.to_string()))?;
        } else if let Some(bits) = ratchet_option(opts)? {
            inner = inner.with_ratchet(bits);
        }
        Ok(Self {
            inner,
            suite,
            last: None,
        })
    }

    /// Whether frames can be opened by WebCrypto (`beginOpen`): RFC format, an AES-GCM suite
    /// (with or without the ratchet or MLS epochs: `aeadKeyFor` gives the key of a KID).
    #[wasm_bindgen(getter, js_name = externalAeadSupported)]
    pub fn external_aead_supported(&self) -> bool {
        external_aead_supported(self.suite) && self.inner.format() == Format::Rfc
    }

    /// The AES-GCM key that opens frames of `keyID` now (the installed key, the ratchet's
    /// current or a kept older step, a sender's key in a live MLS epoch), to import as a
    /// non-extractable WebCrypto key and zero; `undefined` when none does, or for a suite that
    /// is not AES-GCM. Drop every key imported this way when `keysVersion` moves.
    ///
    /// # Errors
    ///
    /// `RangeError` for a key ID outside 0..2^64−1.
    #[wasm_bindgen(js_name = aeadKeyFor)]
    pub fn aead_key_for(&self, key_id_value: &JsValue) -> Result<Option<Uint8Array>, JsValue> {
        let kid = key_id(key_id_value)?;
        if !external_aead_supported(self.suite) {
            return Ok(None);
        }
        Ok(self
            .inner
            .aead_key(kid)
            .map(|key| Uint8Array::from(key.expose_secret())))
    }

    /// Moves whenever the keys held under `ratchetBits` or `mls` change (a key or an epoch
    /// installed or removed, the ratchet moved forward by a frame): WebCrypto keys imported by
    /// KID (`aeadKeyFor`) must then be dropped, a KID may name another key now. Never moves
    /// without those options.
    #[wasm_bindgen(getter, js_name = keysVersion)]
    pub fn keys_version(&self) -> u32 {
        // Wrapping: only equality matters.
        u32::try_from(self.inner.key_version() & u64::from(u32::MAX)).unwrap_or(0)
    }

    /// With the `mls` option: installs MLS `epoch` of a group of `groupSize` members, `baseKey`
    /// being its `MLS-Exporter("SFrame 1.0 Base Key", "", Nk)`; every member's frames in it
    /// decrypt, except leaf `ownIndex` (optional: this member, if it sends too). Several
    /// epochs are live at once (option `mls.maxEpochs`); an epoch with the same low
    /// `epochBits` bits as a live one replaces it.
    ///
    /// # Errors
    ///
    /// `InvalidStateError` without the `mls` option; `RangeError` for an epoch, group size or
    /// index out of range; `InvalidModificationError` for a key that is not Nk bytes, a live
    /// epoch, or one at or below an epoch removed before.
    #[wasm_bindgen(js_name = addEpoch)]
    pub fn add_epoch(
        &mut self,
        epoch: &JsValue,
        base_key: &JsValue,
        group_size: &JsValue,
        own_index: &JsValue,
    ) -> Result<(), JsValue> {
        let epoch = u64_arg(epoch, "epoch")?;
        let bytes = key_bytes(base_key)?;
        let group_size = u32_arg(group_size, "groupSize", 1, 1 << 31)?;
        let own_index = if own_index.is_undefined() || own_index.is_null() {
            None
        } else {
            Some(u32_arg(own_index, "ownIndex", 0, (1 << 31) - 1)?)
        };
        self.inner
            .add_epoch(epoch, group_size, own_index, &bytes)
            .map(|_| ())
            .map_err(|e| key_change_error(&e))
    }

    /// With the `mls` option: removes MLS `epoch` (its frames become `keyID` errors); whether
    /// it was live.
    ///
    /// # Errors
    ///
    /// `RangeError` for an epoch outside 0..2^64−1.
    #[wasm_bindgen(js_name = removeEpoch)]
    pub fn remove_epoch(&mut self, epoch: &JsValue) -> Result<bool, JsValue> {
        Ok(self.inner.remove_epoch(u64_arg(epoch, "epoch")?))
    }

    /// With the `mls` option: the live epochs, oldest installed first.
    #[wasm_bindgen(getter, js_name = liveEpochs)]
    pub fn live_epochs(&self) -> Vec<u64> {
        self.inner.live_epochs()
    }

    /// As `SFrameEncrypter.aeadKey`.
    ///
    /// # Errors
    ///
    /// As `SFrameEncrypter.aeadKey`.
    #[wasm_bindgen(js_name = aeadKey)]
    pub fn aead_key(&self, key: &JsValue, key_id_value: &JsValue) -> Result<Uint8Array, JsValue> {
        aead_key_bytes(self.suite, key, key_id_value)
    }

    /// The first half of opening `data` with WebCrypto: the ticket (nonce, header length, KID),
    /// or `undefined` with `errorType` set. Changes nothing.
    #[wasm_bindgen(js_name = beginOpen)]
    pub fn begin_open(&mut self, data: &[u8]) -> Option<OpenTicket> {
        match self.inner.begin_open(data) {
            Ok(inner) => Some(OpenTicket { inner }),
            Err(failure) => {
                self.last = Some(failure);
                None
            }
        }
    }

    /// The second half, after WebCrypto verified the tag: commits the replay window. `false`
    /// with `errorType` set when the counter was committed meanwhile (drop the frame).
    #[wasm_bindgen(js_name = commitOpen)]
    pub fn commit_open(&mut self, ticket: OpenTicket) -> bool {
        match self.inner.commit_open(ticket.inner) {
            Ok(()) => {
                self.last = None;
                true
            }
            Err(failure) => {
                self.last = Some(failure);
                false
            }
        }
    }

    /// Records that WebCrypto refused a frame's tag (`errorType` becomes `authentication`).
    #[wasm_bindgen(js_name = externalAuthenticationFailed)]
    pub fn external_authentication_failed(&mut self) {
        self.inner.external_authentication_failed();
        self.last = Some(Failure {
            kind: secure_frame::ErrorKind::Authentication,
            key_id: None,
            replay: false,
        });
    }

    /// Installs `key` under `keyID`, replacing the key that KID had.
    ///
    /// # Errors
    ///
    /// As `SFrameEncrypter.setEncryptionKey`.
    #[wasm_bindgen(js_name = addDecryptionKey)]
    pub fn add_decryption_key(
        &mut self,
        key: &JsValue,
        key_id_value: &JsValue,
    ) -> Result<(), JsValue> {
        let kid = key_id(key_id_value)?;
        let bytes = key_bytes(key)?;
        self.inner
            .add_key(kid, &bytes)
            .map_err(|e| key_change_error(&e))
    }

    /// Removes the key for `keyID`; whether there was one.
    ///
    /// # Errors
    ///
    /// `RangeError` for a key ID outside 0..2^64−1.
    #[wasm_bindgen(js_name = removeDecryptionKey)]
    pub fn remove_decryption_key(&mut self, key_id_value: &JsValue) -> Result<bool, JsValue> {
        Ok(self.inner.remove_key(key_id(key_id_value)?))
    }

    /// Whether a key for `keyID` is installed.
    ///
    /// # Errors
    ///
    /// `RangeError` for a key ID outside 0..2^64−1.
    #[wasm_bindgen(js_name = hasDecryptionKey)]
    pub fn has_decryption_key(&self, key_id_value: &JsValue) -> Result<bool, JsValue> {
        Ok(self.inner.has_key(key_id(key_id_value)?))
    }

    /// Authenticates and decrypts one frame's `data`: the plaintext, or `undefined` with
    /// `errorType` set.
    pub fn decrypt(&mut self, data: Box<[u8]>, mime_type: &str) -> Option<Uint8Array> {
        let mut data = data;
        match self.inner.unprotect(mime_type, &mut data) {
            Ok(plain) => {
                self.last = None;
                Some(Uint8Array::from(plain))
            }
            Err(failure) => {
                self.last = Some(failure);
                None
            }
        }
    }

    /// The W3C `errorType` of the last frame that failed: `"syntax"`, `"keyID"` or
    /// `"authentication"`; `undefined` after a success.
    #[wasm_bindgen(getter, js_name = errorType)]
    pub fn error_type(&self) -> Option<String> {
        self.last.map(|f| f.kind.as_str().to_owned())
    }

    /// The KID of the last `keyID` error (a `bigint`).
    #[wasm_bindgen(getter, js_name = errorKeyID)]
    pub fn error_key_id(&self) -> JsValue {
        self.last
            .and_then(|f| f.key_id)
            .map_or(JsValue::UNDEFINED, |kid| BigInt::from(kid.0).into())
    }

    /// Whether the last `authentication` error was a replayed or too old counter rather than a
    /// failed tag (beyond the W3C error types).
    #[wasm_bindgen(getter, js_name = errorIsReplay)]
    pub fn error_is_replay(&self) -> bool {
        self.last.is_some_and(|f| f.replay)
    }

    /// Frames decrypted.
    #[wasm_bindgen(getter, js_name = decryptedFrames)]
    pub fn decrypted_frames(&self) -> u32 {
        count(self.inner.counts().decrypted)
    }

    /// Frames dropped as `syntax`.
    #[wasm_bindgen(getter, js_name = syntaxErrors)]
    pub fn syntax_errors(&self) -> u32 {
        count(self.inner.counts().syntax)
    }

    /// Frames dropped as `keyID`.
    #[wasm_bindgen(getter, js_name = keyIDErrors)]
    pub fn key_id_errors(&self) -> u32 {
        count(self.inner.counts().key_id)
    }

    /// Frames dropped as `authentication`.
    #[wasm_bindgen(getter, js_name = authenticationErrors)]
    pub fn authentication_errors(&self) -> u32 {
        count(self.inner.counts().authentication)
    }
}

/// A `DOMException`-named `Error` (`sframe.js` turns the name into a `DOMException`).
fn named_error(name: &str, message: &str) -> JsValue {
    let error = Error::new(message);
    error.set_name(name);
    error.into()
}

/// `DataError` for a peer key that is not a P-256 point (as WebCrypto's `importKey`),
/// `OperationError` for the rest.
fn agreement_error(e: AgreementError) -> JsValue {
    match e {
        AgreementError::InvalidPublicKey => named_error("DataError", &e.to_string()),
        _ => named_error("OperationError", &e.to_string()),
    }
}

/// 32 bytes from `crypto.getRandomValues`, the JS copy zeroed.
fn random_scalar() -> Result<zeroize::Zeroizing<[u8; 32]>, JsValue> {
    let unsupported = || named_error("NotSupportedError", "crypto.getRandomValues is missing");
    let crypto = Reflect::get(&js_sys::global(), &JsValue::from_str("crypto"))?;
    if !crypto.is_object() {
        return Err(unsupported());
    }
    let get_random_values = Reflect::get(&crypto, &JsValue::from_str("getRandomValues"))?
        .dyn_into::<Function>()
        .map_err(|_| unsupported())?;
    let bytes = Uint8Array::new_with_length(32);
    get_random_values.call1(&crypto, &bytes)?;
    let mut out = zeroize::Zeroizing::new([0u8; 32]);
    bytes.copy_to(&mut out[..]);
    bytes.fill(0, 0, 32);
    Ok(out)
}

/// One side of the P-256 pairwise agreement for a 1:1 call (not RFC 9605): `new
/// KeyAgreement({ role: "initiator" | "responder", cipherSuite })` makes a random key pair;
/// send `commitment`, then `publicKey`; `agree(peerPublicKey)` gives the base keys and the code.
#[wasm_bindgen]
#[derive(Debug)]
pub struct KeyAgreement {
    inner: Agreement,
}

#[wasm_bindgen]
impl KeyAgreement {
    /// `new KeyAgreement({ role, cipherSuite })`.
    ///
    /// # Errors
    ///
    /// `TypeError` for a role that is not `"initiator"` or `"responder"` or an unknown suite;
    /// `NotSupportedError` without `crypto.getRandomValues`.
    #[wasm_bindgen(constructor)]
    pub fn new(opts: &JsValue) -> Result<KeyAgreement, JsValue> {
        let (suite, _) = options(opts)?;
        let role = if opts.is_object() {
            Reflect::get(opts, &JsValue::from_str("role"))?
        } else {
            JsValue::UNDEFINED
        };
        let role = role
            .as_string()
            .as_deref()
            .and_then(role_by_name)
            .ok_or_else(|| TypeError::new("role must be \"initiator\" or \"responder\""))?;
        // A random 32-byte string is not a valid scalar about once in 2^32: draw again.
        let mut last = AgreementError::InvalidPrivateKey;
        for _ in 0..4 {
            let scalar = random_scalar()?;
            match Agreement::from_secret(&scalar, role, suite) {
                Ok(inner) => return Ok(Self { inner }),
                Err(e) => last = e,
            }
        }
        Err(agreement_error(last))
    }

    /// This side's public key, uncompressed SEC1 (65 bytes): send it to the peer.
    #[wasm_bindgen(getter, js_name = publicKey)]
    pub fn public_key(&self) -> Uint8Array {
        Uint8Array::from(&self.inner.public_key()[..])
    }

    /// The commitment to `publicKey` (32 bytes): send it first, the key once the peer's key
    /// arrived.
    #[wasm_bindgen(getter)]
    pub fn commitment(&self) -> Uint8Array {
        Uint8Array::from(&self.inner.commitment()[..])
    }

    /// Whether `peerPublicKey` is a P-256 key that `commitment` (32 bytes) commits to.
    #[wasm_bindgen(js_name = verifyCommitment)]
    pub fn verify_commitment(peer_public_key: &[u8], commitment: &[u8]) -> bool {
        <&[u8; 32]>::try_from(commitment)
            .is_ok_and(|c| Agreement::verify_commitment(peer_public_key, c))
    }

    /// ECDH with `peerPublicKey`, HKDF over both keys, roles and suite: the base keys per
    /// direction and the verification code.
    ///
    /// # Errors
    ///
    /// `DataError` for a key that is not a P-256 point; `OperationError` for this side's own
    /// key.
    pub fn agree(&self, peer_public_key: &[u8]) -> Result<AgreedKeys, JsValue> {
        self.inner
            .agree(peer_public_key)
            .map(|inner| AgreedKeys { inner })
            .map_err(agreement_error)
    }
}

/// What `KeyAgreement.agree` gives: `sendKey` for `setEncryptionKey`, `receiveKey` for the
/// peer's frames in `addDecryptionKey`, and the six digits both people compare.
#[wasm_bindgen]
#[derive(Debug)]
pub struct AgreedKeys {
    inner: secure_frame::agreement::PairwiseKeys,
}

#[wasm_bindgen]
impl AgreedKeys {
    /// The base key this side sends with (the peer's `receiveKey`).
    #[wasm_bindgen(getter, js_name = sendKey)]
    pub fn send_key(&self) -> Uint8Array {
        Uint8Array::from(self.inner.send().expose_secret())
    }

    /// The base key the peer's frames are opened with (the peer's `sendKey`).
    #[wasm_bindgen(getter, js_name = receiveKey)]
    pub fn receive_key(&self) -> Uint8Array {
        Uint8Array::from(self.inner.receive().expose_secret())
    }

    /// Six digits, zero-padded: equal on both sides exactly when no one sat in the middle.
    #[wasm_bindgen(getter, js_name = verificationCode)]
    pub fn verification_code(&self) -> String {
        self.inner.verification_code().to_string()
    }

    /// `SHA-256` of the transcript (32 bytes), equal on both sides.
    #[wasm_bindgen(getter, js_name = transcriptHash)]
    pub fn transcript_hash(&self) -> Uint8Array {
        Uint8Array::from(&self.inner.transcript_hash()[..])
    }
}
