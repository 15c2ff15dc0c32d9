// SFrame (RFC 9605) for RTCRtpSender / RTCRtpReceiver, shaped as the W3C WebRTC Encoded
// Transform editor's draft (RTCRtpSFrameEncrypter / RTCRtpSFrameDecrypter), done in a worker by
// the secure-frame library compiled to WebAssembly. Where RTCRtpScriptTransform exists the
// objects ARE script transforms:
//
//   sender.transform = new SFrameEncrypter({ cipherSuite: 'AES_128_GCM_SHA256_128' });
//   await sender.transform.setEncryptionKey(keyBytesOrCryptoKey, 1n);
//   receiver.transform = new SFrameDecrypter();
//   await receiver.transform.addDecryptionKey(keyBytesOrCryptoKey, 1n);
//   receiver.transform.addEventListener('error', (e) => console.log(e.errorType, e.keyID));
//
// so moving to a browser's native API is a constructor swap (see `native()`). Where only the
// legacy createEncodedStreams exists, call `attach(senderOrReceiver)` instead of assigning.
//
// Beyond the standard: `format: 'codec'` (the library's codec-aware container: VP8, H.264 and
// AV1 survive the default packetizers); frames with a not-yet-installed KID held until
// `addDecryptionKey` delivers it (for up to 1 s); `aead: 'hybrid' | 'wasm' | 'webcrypto'`
// (sframe-aead.js: large AES-GCM frames through WebCrypto, the rest in wasm); `ratchetBits: R`
// (the RFC 9605 §5.1 sender-key ratchet: `encrypter.ratchet()`, receivers follow by themselves);
// `mls: { epochBits }` (RFC 9605 §5.2 MLS epochs: `encrypter.setEpoch()`, `decrypter.addEpoch()`).

const WORKER_URL = new URL('./sframe-worker.js', import.meta.url);
const TWO_POW_64 = 1n << 64n;

/** The W3C CryptoKeyID rules: a number or bigint in 0..2^64-1, else RangeError. */
export function toKeyID(keyID) {
  if (typeof keyID === 'bigint') {
    if (keyID < 0n || keyID >= TWO_POW_64) throw new RangeError('keyID must be in 0..2^64-1');
    return keyID;
  }
  if (typeof keyID === 'number') {
    if (!Number.isInteger(keyID) || keyID < 0 || keyID >= 2 ** 64) {
      throw new RangeError('keyID must be an integer in 0..2^64-1');
    }
    return BigInt(keyID);
  }
  throw new TypeError('keyID must be a number or a bigint');
}

/** Raw key bytes from a Uint8Array, an ArrayBuffer or an extractable CryptoKey. */
export async function toKeyBytes(key) {
  if (key instanceof ArrayBuffer) return key.slice(0);
  if (ArrayBuffer.isView(key)) {
    return key.buffer.slice(key.byteOffset, key.byteOffset + key.byteLength);
  }
  if (typeof CryptoKey !== 'undefined' && key instanceof CryptoKey) {
    return crypto.subtle.exportKey('raw', key);
  }
  throw new TypeError('key must be a Uint8Array, an ArrayBuffer or an extractable CryptoKey');
}

/** The error event: `errorType` is "syntax", "keyID" or "authentication"; `keyID` for "keyID". */
export class SFrameErrorEvent extends Event {
  constructor(init) {
    super('error');
    this.errorType = init.errorType;
    this.keyID = init.keyID;
    this.counts = init.counts;
    // Beyond the W3C event: an `authentication` error that is a replayed counter.
    this.replay = init.replay === true;
  }
}

const hasScriptTransform = typeof RTCRtpScriptTransform === 'function';
const Base = hasScriptTransform ? RTCRtpScriptTransform : Object;

class SFrameTransform extends Base {
  constructor(side, options = {}) {
    checkOptions(options);
    if (options.mls !== undefined) checkMls(options);
    const worker = options.worker ?? new Worker(WORKER_URL, { type: 'module' });
    const channel = new MessageChannel();
    const config = {
      side,
      cipherSuite: options.cipherSuite ?? 'AES_128_GCM_SHA256_128',
      format: options.format ?? 'rfc',
      holdUnknownKeyID: options.holdUnknownKeyID ?? true,
      captureFrames: options.captureFrames ?? 0,
      tapWire: options.tapWire ?? false,
      aead: options.aead ?? 'hybrid',
      ratchetBits: options.ratchetBits,
      mls: options.mls,
      sealThreshold: options.sealThreshold,
      openThreshold: options.openThreshold,
      port: channel.port2,
    };
    const legacy = !hasScriptTransform || options.legacy === true;
    if (legacy) {
      // Not a script transform (none exists, or the legacy API was asked for): a derived
      // constructor may return its own object instead of calling super().
      const self = Object.create(new.target.prototype);
      self._setup(worker, config, channel, true);
      return self;
    }
    super(worker, config, [channel.port2]);
    this._setup(worker, config, channel, false);
  }

  _setup(worker, config, channel, legacy) {
    this._worker = worker;
    this._config = config;
    this._legacy = legacy;
    this._port = channel.port1;
    this._events = new EventTarget();
    this._next = 1;
    this._calls = new Map();
    this.onerror = null;
    this._port.onmessage = (e) => this._onMessage(e.data);
  }

  _onMessage(msg) {
    if (msg.event === 'error') {
      const event = new SFrameErrorEvent(msg);
      this._events.dispatchEvent(event);
      if (typeof this.onerror === 'function') this.onerror(event);
      return;
    }
    if (msg.event === 'wire') {
      this._events.dispatchEvent(Object.assign(new Event('wire'), msg));
      return;
    }
    if (msg.event) return;
    const call = this._calls.get(msg.id);
    if (!call) return;
    this._calls.delete(msg.id);
    if (msg.ok) call.resolve(msg);
    else {
      const error = msg.error.name === 'RangeError' ? new RangeError(msg.error.message)
        : msg.error.name === 'TypeError' ? new TypeError(msg.error.message)
          : new DOMException(msg.error.message, msg.error.name);
      call.reject(error);
    }
  }

  _call(op, fields = {}, transfer = []) {
    const id = this._next++;
    return new Promise((resolve, reject) => {
      this._calls.set(id, { resolve, reject });
      this._port.postMessage({ id, op, ...fields }, transfer);
    });
  }

  /** Where RTCRtpScriptTransform is missing: route `target`'s encoded streams to the worker. */
  attach(target) {
    if (!this._legacy) throw new DOMException('assign to .transform instead', 'InvalidStateError');
    const { readable, writable } = target.createEncodedStreams();
    this._worker.postMessage({ sframe: this._config, readable, writable },
      [readable, writable, this._config.port]);
  }

  addEventListener(...args) { this._events.addEventListener(...args); }
  removeEventListener(...args) { this._events.removeEventListener(...args); }
  dispatchEvent(event) { return this._events.dispatchEvent(event); }

  /** Counts from the worker: frames, encrypted/decrypted, dropped, held, per error type. */
  async getStats() { return (await this._call('stats')).counts; }

  /** Frames captured for export (option captureFrames: N): `{ mime, keyID, plain, wire }`. */
  async capturedFrames() { return (await this._call('samples')).samples; }

  /** Test hook: send garbage instead of SFrame frames. */
  async sendGarbage(on) { await this._call('garbage', { on }); }
}

/** The sender side: `new SFrameEncrypter({ cipherSuite, format })`. */
export class SFrameEncrypter extends SFrameTransform {
  constructor(options = {}) { super('encrypt', options); }

  /** Makes `key` under `keyID` the key every following frame is sent with. */
  async setEncryptionKey(key, keyID = 0n) {
    const kid = toKeyID(keyID);
    const bytes = await toKeyBytes(key);
    await this._call('setEncryptionKey', { key: bytes, keyID: kid }, [bytes]);
  }

  /**
   * Beyond the standard, with option `ratchetBits`: ratchets the send key one step forward
   * (RFC 9605 §5.1); resolves to the new KID. Receivers follow without a key message.
   */
  async ratchet() { return (await this._call('ratchet')).keyID; }

  /**
   * Beyond the standard, with option `mls`: sends in MLS `epoch` of a group of `groupSize`
   * members as leaf `senderIndex`. `baseKey` is the epoch's
   * `MLS-Exporter("SFrame 1.0 Base Key", "", Nk)` (see MLS_BASE_KEY_LABEL); resolves to the KID
   * (RFC 9605 §5.2) every following frame is sent under.
   */
  async setEpoch(epoch, baseKey, groupSize, senderIndex) {
    const bytes = await toKeyBytes(baseKey);
    return (await this._call('setEpoch', { epoch: toEpoch(epoch), key: bytes, groupSize, senderIndex }, [bytes])).keyID;
  }
}

/** The receiver side: `new SFrameDecrypter({ cipherSuite, format })`. */
export class SFrameDecrypter extends SFrameTransform {
  constructor(options = {}) { super('decrypt', options); }

  /** Installs `key` under `keyID` (replacing that KID's key); held frames of that KID go on. */
  async addDecryptionKey(key, keyID) {
    const kid = toKeyID(keyID);
    const bytes = await toKeyBytes(key);
    await this._call('addDecryptionKey', { key: bytes, keyID: kid }, [bytes]);
  }

  /** Removes the key for `keyID`. */
  async removeDecryptionKey(keyID) {
    await this._call('removeDecryptionKey', { keyID: toKeyID(keyID) });
  }

  /**
   * Beyond the standard, with option `mls`: installs MLS `epoch` (several are live at once):
   * every member's frames in it decrypt, except those of leaf `ownIndex` (optional: this
   * member). Held frames of the epoch go on.
   */
  async addEpoch(epoch, baseKey, groupSize, ownIndex) {
    const bytes = await toKeyBytes(baseKey);
    await this._call('addEpoch', { epoch: toEpoch(epoch), key: bytes, groupSize, ownIndex }, [bytes]);
  }

  /** With option `mls`: removes `epoch`; its frames become `keyID` errors. Resolves to whether it was live. */
  async removeEpoch(epoch) {
    return (await this._call('removeEpoch', { epoch: toEpoch(epoch) })).removed;
  }
}

const SUITES = ['AES_128_CTR_HMAC_SHA256_80', 'AES_128_CTR_HMAC_SHA256_64', 'AES_128_CTR_HMAC_SHA256_32',
  'AES_128_GCM_SHA256_128', 'AES_256_GCM_SHA512_128', 'AES_256_CTR_HMAC_SHA512_80',
  'AES_256_CTR_HMAC_SHA512_64', 'AES_256_CTR_HMAC_SHA512_32'];

// The worker builds the wasm object lazily; what it would refuse is refused here, at once, before
// a worker is made: an enum value that is not one (TypeError, as WebIDL does), a number out of
// its range (RangeError).
function checkOptions(options) {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const oneOf = (name, value, allowed) => {
    if (value !== undefined && !allowed.includes(value)) throw new TypeError(`${name} must be one of ${allowed.join(', ')}`);
  };
  oneOf('cipherSuite', options.cipherSuite, SUITES);
  oneOf('format', options.format, ['rfc', 'codec']);
  oneOf('aead', options.aead, ['hybrid', 'wasm', 'webcrypto']);
  const { ratchetBits } = options;
  if (ratchetBits !== undefined && (!Number.isInteger(ratchetBits) || ratchetBits < 1 || ratchetBits > 63)) {
    throw new RangeError('ratchetBits must be an integer in 1..63');
  }
  for (const name of ['sealThreshold', 'openThreshold']) {
    const v = options[name];
    if (v !== undefined && (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v))) {
      throw new RangeError(`${name} must be a finite number of bytes, 0 or more`);
    }
  }
}

function checkMls(options) {
  const { mls } = options;
  if (mls === null || typeof mls !== 'object') throw new TypeError('mls must be an object { epochBits, context, maxEpochs }');
  if (!Number.isInteger(mls.epochBits) || mls.epochBits < 1 || mls.epochBits > 32) {
    throw new RangeError('mls.epochBits must be an integer in 1..32');
  }
  if (mls.maxEpochs !== undefined && (!Number.isInteger(mls.maxEpochs) || mls.maxEpochs < 1 || mls.maxEpochs > 2 ** mls.epochBits)) {
    throw new RangeError('mls.maxEpochs must be an integer in 1..2^epochBits');
  }
  if (mls.context !== undefined) toEpoch(mls.context);
  if (options.ratchetBits !== undefined) throw new TypeError('the mls and ratchetBits options exclude each other');
}

/** The exporter label of RFC 9605 §5.2: an epoch's base key is MLS-Exporter(this, "", Nk). */
export const MLS_BASE_KEY_LABEL = 'SFrame 1.0 Base Key';

/**
 * Nk (RFC 9605 §4.5), the length of an epoch's exported base key, for a cipher suite name or
 * number: 48 for AES_128_CTR_HMAC_*, 16 for AES_128_GCM, 32 for AES_256_GCM, 96 for
 * AES_256_CTR_HMAC_*.
 */
export function mlsBaseKeyLength(cipherSuite = 'AES_128_GCM_SHA256_128') {
  const ids = { AES_128_CTR_HMAC_SHA256_80: 1, AES_128_CTR_HMAC_SHA256_64: 2, AES_128_CTR_HMAC_SHA256_32: 3,
    AES_128_GCM_SHA256_128: 4, AES_256_GCM_SHA512_128: 5, AES_256_CTR_HMAC_SHA512_80: 6,
    AES_256_CTR_HMAC_SHA512_64: 7, AES_256_CTR_HMAC_SHA512_32: 8 };
  const id = typeof cipherSuite === 'number' ? cipherSuite : ids[cipherSuite];
  const nk = { 1: 48, 2: 48, 3: 48, 4: 16, 5: 32, 6: 96, 7: 96, 8: 96 }[id];
  if (nk === undefined) throw new TypeError('unknown cipherSuite');
  return nk;
}

function toEpoch(epoch) {
  if (typeof epoch !== 'number' && typeof epoch !== 'bigint') throw new TypeError('epoch must be a number or a bigint');
  if (typeof epoch === 'number' && (!Number.isInteger(epoch) || epoch < 0 || epoch >= 2 ** 64)) {
    throw new RangeError('epoch must be an integer in 0..2^64-1');
  }
  if (typeof epoch === 'bigint' && (epoch < 0n || epoch >= TWO_POW_64)) throw new RangeError('epoch must be in 0..2^64-1');
  return BigInt(epoch);
}

// The wasm module on the main thread, loaded on first use (only the key agreement needs it).
let wasmModule = null;
function loadWasm() {
  wasmModule ??= import('./secure_frame_wasm.js').then(async (m) => { await m.default(); return m; });
  return wasmModule;
}

const bytesOf = (b) => {
  if (b instanceof Uint8Array) return b;
  if (b instanceof ArrayBuffer) return new Uint8Array(b);
  if (ArrayBuffer.isView(b)) return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  throw new TypeError('expected a Uint8Array or an ArrayBuffer');
};

const domError = (e) => (e && e.name && !['Error', 'TypeError', 'RangeError'].includes(e.name)
  ? new DOMException(e.message, e.name) : e);

/**
 * Beyond the standard (not RFC 9605): base keys for a 1:1 call from P-256 ECDH, with a
 * six-digit verification code both people compare out loud (the library's
 * `agreement::pairwise`). Each side:
 *
 *   const me = await SFrameKeyAgreement.create({ role: 'initiator' });  // the other: 'responder'
 *   send(me.commitment); ... send(me.publicKey);  // the key only once the peer's commitment came
 *   if (!me.verifyCommitment(peerKey, peerCommitment)) throw ...;
 *   const { sendKey, receiveKey, verificationCode } = me.agree(peerKey);
 *   await encrypter.setEncryptionKey(sendKey, myKeyID);
 *   await decrypter.addDecryptionKey(receiveKey, peerKeyID);
 */
export class SFrameKeyAgreement {
  /** A random P-256 key pair in `role` ('initiator' or 'responder') for `cipherSuite`. */
  static async create(options = {}) {
    const wasm = await loadWasm();
    try {
      return new SFrameKeyAgreement(new wasm.KeyAgreement(options), wasm);
    } catch (e) { throw domError(e); }
  }

  constructor(inner, wasm) {
    if (!wasm || !(inner instanceof wasm.KeyAgreement)) throw new TypeError('use SFrameKeyAgreement.create()');
    this._inner = inner;
    this._wasm = wasm;
    /** This side's public key, uncompressed SEC1 (65 bytes). */
    this.publicKey = inner.publicKey;
    /** The commitment to `publicKey` (32 bytes): send it before the key. */
    this.commitment = inner.commitment;
  }

  /** Whether `peerPublicKey` is a valid P-256 key that `commitment` commits to. */
  verifyCommitment(peerPublicKey, commitment) {
    return this._wasm.KeyAgreement.verifyCommitment(bytesOf(peerPublicKey), bytesOf(commitment));
  }

  /**
   * ECDH with the peer's public key: `{ sendKey, receiveKey, verificationCode, transcriptHash }`.
   * Throws a `DataError` DOMException for a key that is not a P-256 point.
   */
  agree(peerPublicKey) {
    let keys;
    try { keys = this._inner.agree(bytesOf(peerPublicKey)); } catch (e) { throw domError(e); }
    try {
      return { sendKey: keys.sendKey, receiveKey: keys.receiveKey,
        verificationCode: keys.verificationCode, transcriptHash: keys.transcriptHash };
    } finally { keys.free(); }
  }

  /** Forgets the private key now (otherwise when garbage-collected). */
  free() { this._inner.free(); }
}

/**
 * The browser's own SFrame classes when it ships them ({ SFrameEncrypter, SFrameDecrypter }
 * bound to RTCRtpSFrameEncrypter / RTCRtpSFrameDecrypter), else null: the constructor swap.
 */
export function native() {
  if (typeof RTCRtpSFrameEncrypter === 'function' && typeof RTCRtpSFrameDecrypter === 'function') {
    // eslint-disable-next-line no-undef
    return { SFrameEncrypter: RTCRtpSFrameEncrypter, SFrameDecrypter: RTCRtpSFrameDecrypter };
  }
  return null;
}
