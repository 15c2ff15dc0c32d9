// Types of sframe.js: the W3C editor's draft shape (RTCRtpSFrameEncrypter /
// RTCRtpSFrameDecrypter), done in a worker by the secure-frame library compiled to wasm.

/** The W3C SFrameCipherSuite names (RFC 9605 §4.5, and 6–8 of draft-barnes-sframe-iana-256). */
export type SFrameCipherSuite =
  | 'AES_128_CTR_HMAC_SHA256_80'
  | 'AES_128_CTR_HMAC_SHA256_64'
  | 'AES_128_CTR_HMAC_SHA256_32'
  | 'AES_128_GCM_SHA256_128'
  | 'AES_256_GCM_SHA512_128'
  | 'AES_256_CTR_HMAC_SHA512_80'
  | 'AES_256_CTR_HMAC_SHA512_64'
  | 'AES_256_CTR_HMAC_SHA512_32';

/** A CryptoKeyID: a number or a bigint in 0..2^64−1 (else RangeError). */
export type CryptoKeyID = number | bigint;
/** A base key: raw bytes or an extractable CryptoKey. */
export type SFrameKey = Uint8Array | ArrayBuffer | CryptoKey;

/** RFC 9605 §5.2 MLS epochs (option `mls`). */
export interface SFrameMlsOptions {
  /** E, the KID's epoch bits (1–32): at most 2^E epochs live at once. */
  epochBits: number;
  /** The encrypter's KID context (the high 64 − S − E bits; default 0). */
  context?: number | bigint;
  /** The decrypter's bound on live epochs (1–2^E; default 4, or 2^E when smaller). */
  maxEpochs?: number;
}

export interface SFrameOptions {
  /** A W3C suite name, or its RFC 9605 number. */
  cipherSuite?: SFrameCipherSuite | number;
  /** Beyond the standard: `"codec"` keeps what packetizers read clear (VP8, H.264, AV1). */
  format?: 'rfc' | 'codec';
  /** Share one worker between several transforms; by default each gets its own. */
  worker?: Worker;
  /** Hold frames with an unknown KID for up to 1 s until its key arrives (default true). */
  holdUnknownKeyID?: boolean;
  /** Use createEncodedStreams even where RTCRtpScriptTransform exists (then call attach()). */
  legacy?: boolean;
  /** Keep copies of the first N frames (plaintext and wire) for export. */
  captureFrames?: number;
  /** Where the AES-GCM of a frame runs (RFC format): by size (default), always wasm, always WebCrypto. */
  aead?: 'hybrid' | 'wasm' | 'webcrypto';
  /** Frames of at least this many bytes are sealed by WebCrypto in hybrid mode (default 1024). */
  sealThreshold?: number;
  /** Frames of at least this many bytes are opened by WebCrypto in hybrid mode (default 768). */
  openThreshold?: number;
  /** The RFC 9605 §5.1 sender-key ratchet with R step bits (1–63): keyIDs are generation << R at step 0. */
  ratchetBits?: number;
  /**
   * RFC 9605 §5.2 MLS epochs: keys come from `setEpoch` / `addEpoch`, not by KID (then
   * `setEncryptionKey` and `addDecryptionKey` reject with InvalidStateError). Excludes `ratchetBits`.
   */
  mls?: SFrameMlsOptions;
  /** Emit `wire` events with the first bytes of a wire frame twice a second. */
  tapWire?: boolean;
}

export type SFrameErrorType = 'syntax' | 'keyID' | 'authentication';

export interface SFrameCounts {
  frames: number; encrypted: number; decrypted: number; dropped: number; held: number;
  released: number; syntax: number; keyID: number; authentication: number; replay: number;
  sendErrors: number;
}

export declare class SFrameErrorEvent extends Event {
  readonly errorType: SFrameErrorType;
  /** The frame's KID, for `keyID` errors. */
  readonly keyID?: bigint;
  readonly counts: SFrameCounts;
  /** Beyond the W3C event: an `authentication` error that was a replayed counter. */
  readonly replay: boolean;
}

declare class SFrameTransform extends RTCRtpScriptTransform {
  onerror: ((event: SFrameErrorEvent) => void) | null;
  addEventListener(type: 'error', listener: (event: SFrameErrorEvent) => void): void;
  addEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
  removeEventListener(type: string, listener: EventListenerOrEventListenerObject): void;
  dispatchEvent(event: Event): boolean;
  /** Where RTCRtpScriptTransform is missing: route the sender's or receiver's encoded streams. */
  attach(target: RTCRtpSender | RTCRtpReceiver): void;
  getStats(): Promise<SFrameCounts>;
}

export declare class SFrameEncrypter extends SFrameTransform {
  constructor(options?: SFrameOptions);
  setEncryptionKey(key: SFrameKey, keyID?: CryptoKeyID): Promise<void>;
  /** With `ratchetBits`: one §5.1 ratchet step; resolves to the new KID. */
  ratchet(): Promise<bigint>;
  /**
   * With `mls`: sends in MLS `epoch` (newer than the current one) of a group of `groupSize` as
   * leaf `senderIndex`; `baseKey` is MLS-Exporter("SFrame 1.0 Base Key", "", Nk). Resolves to
   * the KID frames are sent under.
   */
  setEpoch(epoch: number | bigint, baseKey: SFrameKey, groupSize: number, senderIndex: number): Promise<bigint>;
}

export declare class SFrameDecrypter extends SFrameTransform {
  constructor(options?: SFrameOptions);
  addDecryptionKey(key: SFrameKey, keyID: CryptoKeyID): Promise<void>;
  removeDecryptionKey(keyID: CryptoKeyID): Promise<void>;
  /**
   * With `mls`: installs MLS `epoch` (several live at once); every member's frames in it
   * decrypt except leaf `ownIndex`'s (this member, if it also sends).
   */
  addEpoch(epoch: number | bigint, baseKey: SFrameKey, groupSize: number, ownIndex?: number): Promise<void>;
  /** With `mls`: removes `epoch` (its frames become `keyID` errors); whether it was live. */
  removeEpoch(epoch: number | bigint): Promise<boolean>;
}

/** The RFC 9605 §5.2 exporter label: an epoch's base key is MLS-Exporter(label, "", Nk). */
export declare const MLS_BASE_KEY_LABEL: 'SFrame 1.0 Base Key';
/** Nk for a suite: the length of an epoch's exported base key. */
export declare function mlsBaseKeyLength(cipherSuite?: SFrameCipherSuite | number): number;

export interface SFrameKeyAgreementOptions {
  /** The two sides take different roles (the caller is usually the initiator). */
  role: 'initiator' | 'responder';
  cipherSuite?: SFrameCipherSuite | number;
}

export interface SFrameAgreedKeys {
  /** The base key this side sends with (for setEncryptionKey). */
  sendKey: Uint8Array;
  /** The base key of the peer's frames (for addDecryptionKey). */
  receiveKey: Uint8Array;
  /** Six digits, equal on both sides unless someone sits in the middle. */
  verificationCode: string;
  /** SHA-256 of the transcript (32 bytes). */
  transcriptHash: Uint8Array;
}

/** Beyond the standard: P-256 pairwise key agreement for a 1:1 call, with a verification code. */
export declare class SFrameKeyAgreement {
  static create(options: SFrameKeyAgreementOptions): Promise<SFrameKeyAgreement>;
  private constructor();
  /** Uncompressed SEC1, 65 bytes. */
  readonly publicKey: Uint8Array;
  /** SHA-256 commitment to publicKey, 32 bytes: send it first. */
  readonly commitment: Uint8Array;
  verifyCommitment(peerPublicKey: Uint8Array | ArrayBuffer, commitment: Uint8Array | ArrayBuffer): boolean;
  /** Throws a DataError DOMException for a key that is not a P-256 point. */
  agree(peerPublicKey: Uint8Array | ArrayBuffer): SFrameAgreedKeys;
  free(): void;
}

/** Throws RangeError (or TypeError) as the W3C API does; returns the bigint. */
export declare function toKeyID(keyID: CryptoKeyID): bigint;
/** The browser's own classes when it ships them, else null. */
export declare function native(): { SFrameEncrypter: unknown; SFrameDecrypter: unknown } | null;
