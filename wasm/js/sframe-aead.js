// The AEAD step of a frame, pluggable: the one-call wasm path, or WebCrypto for the AES-GCM
// suites in RFC format, chosen per frame by size (`aead: 'hybrid'`, the default), or always one
// of them (`'wasm'`, `'webcrypto'`). The library keeps the header, the counter, the nonce, the
// key schedule, the replay window and the failure contract on every path; WebCrypto only runs
// AES-GCM, keyed once per key with a non-extractable CryptoKey.
//
// Thresholds measured in Chromium 156 on this project's machine (BENCHMARKS.md, "Browser"):
// WebCrypto costs a ~7 µs floor per call, software AES in wasm ~11 µs per KB, so WebCrypto wins
// from about 1 KB up.
export const DEFAULT_SEAL_THRESHOLD = 1024;
export const DEFAULT_OPEN_THRESHOLD = 768;

const importKey = (raw, usage) => crypto.subtle.importKey('raw', raw, { name: 'AES-GCM' }, false, [usage]);

function pathOf(sframe, options) {
  const aead = options.aead ?? 'hybrid';
  if (!['hybrid', 'wasm', 'webcrypto'].includes(aead)) throw new TypeError('aead must be hybrid, wasm or webcrypto');
  const external = aead !== 'wasm' && sframe.externalAeadSupported && typeof crypto !== 'undefined' && !!crypto.subtle;
  return { aead, external };
}

/** The sending side over a wasm SFrameEncrypter. */
export class Sealer {
  constructor(sframe, options = {}) {
    this.sframe = sframe;
    const { external } = pathOf(sframe, options);
    this.external = external;
    this.threshold = options.aead === 'webcrypto' ? 0 : (options.sealThreshold ?? DEFAULT_SEAL_THRESHOLD);
    this.key = null;
    this.webcryptoFrames = 0;
  }

  /** Installs the key on both paths at once (the CryptoKey is imported first). */
  async setKey(keyBytes, keyID) {
    let key = null;
    if (this.external) {
      const raw = this.sframe.aeadKey(keyBytes, keyID);
      key = await importKey(raw, 'encrypt');
      raw.fill(0);
    }
    this.sframe.setEncryptionKey(keyBytes, keyID);
    this.key = key;
  }

  /** Which path a frame of `length` bytes takes. */
  usesWebCrypto(length) {
    return this.external && this.key !== null && length >= this.threshold;
  }

  /** The wire frame for `plain` (a Uint8Array), or a Promise of it on the WebCrypto path. */
  seal(plain, mime) {
    if (!this.usesWebCrypto(plain.byteLength)) return this.sframe.encrypt(plain, mime);
    const key = this.key;
    const request = this.sframe.beginSeal();
    const nonce = request.subarray(0, 12);
    const header = request.subarray(12);
    this.webcryptoFrames += 1;
    return crypto.subtle.encrypt({ name: 'AES-GCM', iv: nonce, additionalData: header, tagLength: 128 }, key, plain)
      .then((sealed) => {
        const out = new Uint8Array(header.byteLength + sealed.byteLength);
        out.set(header);
        out.set(new Uint8Array(sealed), header.byteLength);
        return out;
      });
  }
}

/** The receiving side over a wasm SFrameDecrypter. */
export class Opener {
  constructor(sframe, options = {}) {
    this.sframe = sframe;
    const { external } = pathOf(sframe, options);
    this.external = external;
    this.threshold = options.aead === 'webcrypto' ? 0 : (options.openThreshold ?? DEFAULT_OPEN_THRESHOLD);
    this.keys = new Map();
    this.webcryptoFrames = 0;
  }

  async addKey(keyBytes, keyID) {
    const kid = BigInt(keyID);
    let key = null;
    if (this.external) {
      const raw = this.sframe.aeadKey(keyBytes, kid);
      key = await importKey(raw, 'decrypt');
      raw.fill(0);
    }
    this.sframe.addDecryptionKey(keyBytes, kid);
    if (key) this.keys.set(kid, key);
  }

  removeKey(keyID) {
    const kid = BigInt(keyID);
    this.keys.delete(kid);
    return this.sframe.removeDecryptionKey(kid);
  }

  failure() {
    return { errorType: this.sframe.errorType, keyID: this.sframe.errorKeyID, replay: this.sframe.errorIsReplay };
  }

  /** On the wasm path only (held frames): `{ plain }` or `{ failure }`. */
  openWasm(data, mime) {
    const plain = this.sframe.decrypt(data, mime);
    return plain === undefined ? { failure: this.failure() } : { plain };
  }

  /** `{ plain }` or `{ failure }`, or a Promise of one on the WebCrypto path. */
  open(data, mime) {
    if (!this.external || data.byteLength < this.threshold) return this.openWasm(data, mime);
    const ticket = this.sframe.beginOpen(data);
    if (ticket === undefined) return { failure: this.failure() };
    const key = this.keys.get(ticket.keyID);
    if (key === undefined) { ticket.free(); return this.openWasm(data, mime); }
    const headerLength = ticket.headerLength;
    this.webcryptoFrames += 1;
    return crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: ticket.nonce, additionalData: data.subarray(0, headerLength), tagLength: 128 },
      key, data.subarray(headerLength),
    ).then((plain) => {
      if (!this.sframe.commitOpen(ticket)) return { failure: this.failure() };
      return { plain: new Uint8Array(plain) };
    }, () => {
      ticket.free();
      this.sframe.externalAuthenticationFailed();
      return { failure: this.failure() };
    });
  }
}
