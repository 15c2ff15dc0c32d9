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
    // The CryptoKey of the send key, and the encrypter's keysVersion it was taken at: good
    // only while that has not moved (a ratchet step, a new epoch, another key: the KID alone
    // does not tell, an MLS epoch with the same low bits is another key under the same KID).
    this.key = null;
    this.version = -1;
    this.importing = -1;
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
    this.version = this.sframe.keysVersion;
  }

  /**
   * Takes the CryptoKey of the current send key again (after `ratchet` or `setEpoch`); frames
   * take the wasm path until it is imported, never WebCrypto under the previous key.
   */
  refresh() {
    if (!this.external) return Promise.resolve();
    const version = this.sframe.keysVersion;
    if (version === this.version || version === this.importing) return Promise.resolve();
    const raw = this.sframe.currentAeadKey();
    if (raw === undefined) return Promise.resolve();
    this.importing = version;
    const imported = importKey(raw, 'encrypt');
    raw.fill(0);
    return imported.then((key) => {
      // Installed only if no other key came meanwhile.
      if (this.sframe.keysVersion === version) { this.key = key; this.version = version; }
    }, () => {}).finally(() => { if (this.importing === version) this.importing = -1; });
  }

  /** Which path a frame of `length` bytes takes. */
  usesWebCrypto(length) {
    if (!this.external || length < this.threshold) return false;
    if (this.key !== null && this.sframe.keysVersion === this.version) return true;
    this.refresh();
    return false;
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
    // CryptoKeys by KID. With ratchetBits or mls they are imported lazily (a frame whose KID
    // has none takes the wasm path and starts the import) and all dropped whenever the
    // decrypter's keysVersion moves (a ratchet step, an epoch installed or removed: a KID may
    // name another key now); `generation` discards imports that finish after that.
    this.keys = new Map();
    this.importing = new Set();
    this.version = external ? sframe.keysVersion : 0;
    this.generation = 0;
    this.webcryptoFrames = 0;
  }

  /** Drops every CryptoKey if the decrypter's keys changed since they were imported. */
  syncKeys() {
    const version = this.sframe.keysVersion;
    if (version === this.version) return;
    this.version = version;
    this.keys.clear();
    this.discardImports();
  }

  /** Starts importing the CryptoKey of `kid` (a bigint), if the decrypter holds a key for it. */
  importFor(kid) {
    if (this.keys.has(kid) || this.importing.has(kid)) return;
    const raw = this.sframe.aeadKeyFor(kid);
    if (raw === undefined) return;
    const generation = this.generation;
    this.importing.add(kid);
    const imported = importKey(raw, 'decrypt');
    raw.fill(0);
    imported.then((key) => {
      if (generation !== this.generation) return;
      this.importing.delete(kid);
      this.keys.set(kid, key);
    }, () => { if (generation === this.generation) this.importing.delete(kid); });
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
    if (!key) return;
    this.syncKeys();
    this.discardImports();
    this.keys.set(kid, key);
  }

  removeKey(keyID) {
    const kid = BigInt(keyID);
    this.keys.delete(kid);
    this.discardImports();
    return this.sframe.removeDecryptionKey(kid);
  }

  /** An import still under way was for a key that may be gone now: it is not installed. */
  discardImports() {
    this.importing.clear();
    this.generation += 1;
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
    this.syncKeys();
    const ticket = this.sframe.beginOpen(data);
    if (ticket === undefined) return { failure: this.failure() };
    const kid = ticket.keyID;
    const key = this.keys.get(kid);
    if (key === undefined) {
      // No CryptoKey for this KID yet: this frame through wasm (which may move the ratchet),
      // and the key imported for the next ones.
      ticket.free();
      const r = this.openWasm(data, mime);
      if (r.plain) { this.syncKeys(); this.importFor(kid); }
      return r;
    }
    const headerLength = ticket.headerLength;
    this.webcryptoFrames += 1;
    return crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: ticket.nonce, additionalData: data.subarray(0, headerLength), tagLength: 128 },
      key, data.subarray(headerLength),
    ).then((plain) => {
      // The commit checks the ticket against the keys held now: another frame may have moved
      // the ratchet or an epoch may be gone meanwhile.
      if (!this.sframe.commitOpen(ticket)) return { failure: this.failure() };
      return { plain: new Uint8Array(plain) };
    }, () => {
      ticket.free();
      this.sframe.externalAuthenticationFailed();
      return { failure: this.failure() };
    });
  }
}
