// The SFrame transform worker (module worker): every encoded frame of one sender or receiver
// goes through the wasm SFrameEncrypter / SFrameDecrypter here. Started by sframe.js, through
// RTCRtpScriptTransform (the `rtctransform` event) or, where only that exists, the legacy
// createEncodedStreams (a `{ sframe, readable, writable }` message).
//
// The AEAD of a frame is one pluggable step (sframe-aead.js): the one-call wasm path, or
// WebCrypto for large AES-GCM frames (option `aead`: 'hybrid' by default, 'wasm', 'webcrypto').
import init, { SFrameEncrypter, SFrameDecrypter } from './secure_frame_wasm.js';
import { Sealer, Opener } from './sframe-aead.js';

// Started at once, awaited inside each transform (a module worker must install its handlers
// synchronously: no top-level await).
const ready = init();

// Frames whose KID is not installed yet are held this long, then dropped (RFC 9605 §4.4.4:
// a receiver may keep them until the key arrives), so a key change by message loses nothing.
const HOLD_MAX_FRAMES = 64;
const HOLD_MAX_MS = 1000;

function mimeOf(frame) {
  const meta = frame.getMetadata ? frame.getMetadata() : {};
  if (meta.mimeType) return meta.mimeType;
  return frame.type === undefined ? 'audio/opus' : '';
}

function errorDetail(e) {
  return { name: e && e.name ? e.name : 'Error', message: e && e.message ? e.message : String(e) };
}

function start(options, readable, writable) {
  const port = options.port;
  const side = options.side;
  const counts = { frames: 0, encrypted: 0, decrypted: 0, dropped: 0, held: 0, released: 0,
                   syntax: 0, keyID: 0, authentication: 0, replay: 0, sendErrors: 0,
                   // Frames sealed or opened by WebCrypto, in all and since the last key change
                   // (a ratchet step, an MLS epoch: the CryptoKey was imported again).
                   webcrypto: 0, webcryptoSinceKeyChange: 0 };
  let keyGeneration = 0;
  let sframe = null;
  let path = null;
  let controller = null;
  const held = [];
  const samples = options.captureFrames ? [] : null;

  const report = (errorType, keyID, replay) => {
    counts[errorType] += 1;
    if (replay) counts.replay += 1;
    port.postMessage({ event: 'error', errorType, keyID, replay, counts });
  };

  const capture = (entry) => {
    if (samples && samples.length < options.captureFrames) samples.push(entry);
  };

  // Opens `frame` on the path its size picks; returns null or the failure (or a Promise of it).
  const open = (frame, mime, wasmOnly) => {
    const input = new Uint8Array(frame.data);
    const finish = (r) => {
      if (r.failure) return r.failure;
      capture({ mime, aead: r.webcrypto ? 'webcrypto' : 'wasm', wire: Array.from(input), plain: Array.from(r.plain) });
      frame.data = r.plain.buffer;
      return null;
    };
    if (wasmOnly) return finish(path.openWasm(input, mime));
    const before = path.webcryptoFrames;
    const generation = path.generation;
    const r = path.open(input, mime);
    const webcrypto = path.webcryptoFrames > before;
    if (r instanceof Promise) {
      return r.then((x) => {
        if (x.plain && webcrypto) {
          if (generation !== keyGeneration) { keyGeneration = generation; counts.webcryptoSinceKeyChange = 0; }
          counts.webcrypto += 1;
          counts.webcryptoSinceKeyChange += 1;
        }
        return finish({ ...x, webcrypto });
      });
    }
    return finish(r);
  };

  // Seals `frame`; returns undefined or a Promise.
  const seal = (frame, mime) => {
    const plain = new Uint8Array(frame.data);
    const keyID = sframe.keyID;
    const done = (wire, aead) => {
      capture({ mime, keyID, aead, plain: Array.from(plain), wire: Array.from(wire) });
      frame.data = wire.buffer;
    };
    const wire = path.seal(plain, mime);
    if (wire instanceof Promise) {
      return wire.then((w) => {
        counts.webcrypto += 1;
        counts.webcryptoSinceKeyChange += 1;
        done(w, 'webcrypto');
      });
    }
    return done(wire, 'wasm');
  };

  // What an SFU sees: the first bytes of a wire frame, twice a second (option tapWire).
  let lastTap = 0;
  const tap = (frame, mime) => {
    const now = performance.now();
    if (now - lastTap < 500) return;
    lastTap = now;
    const bytes = new Uint8Array(frame.data, 0, Math.min(frame.data.byteLength, 48));
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
    port.postMessage({ event: 'wire', mime, length: frame.data.byteLength, hex });
  };

  const releaseHeld = () => {
    const now = performance.now();
    while (held.length) {
      const { frame, mime, at } = held[0];
      if (now - at > HOLD_MAX_MS) { held.shift(); counts.dropped += 1; continue; }
      const failure = open(frame, mime, true);
      if (failure && failure.errorType === 'keyID') break;
      held.shift();
      if (failure) { counts.dropped += 1; report(failure.errorType, failure.keyID, failure.replay); continue; }
      counts.released += 1;
      counts.decrypted += 1;
      controller.enqueue(frame);
    }
  };

  const ensure = () => {
    if (sframe) return;
    const opts = { cipherSuite: options.cipherSuite, format: options.format, ratchetBits: options.ratchetBits, mls: options.mls };
    sframe = side === 'encrypt' ? new SFrameEncrypter(opts) : new SFrameDecrypter(opts);
    path = side === 'encrypt' ? new Sealer(sframe, options) : new Opener(sframe, options);
  };

  const handle = async (msg) => {
    await ready;
    try {
      ensure();
      switch (msg.op) {
        case 'setEncryptionKey': await path.setKey(new Uint8Array(msg.key), msg.keyID); break;
        case 'addDecryptionKey':
          await path.addKey(new Uint8Array(msg.key), msg.keyID);
          if (controller) releaseHeld();
          break;
        case 'removeDecryptionKey': path.removeKey(msg.keyID); break;
        case 'ratchet': {
          // The Sealer takes the new step's CryptoKey; frames go through wasm until it is in.
          const keyID = sframe.ratchet();
          counts.webcryptoSinceKeyChange = 0;
          path.refresh();
          port.postMessage({ id: msg.id, ok: true, keyID });
          return;
        }
        case 'setEpoch': {
          const keyID = sframe.setEpoch(msg.epoch, new Uint8Array(msg.key), msg.groupSize, msg.senderIndex);
          counts.webcryptoSinceKeyChange = 0;
          path.refresh();
          port.postMessage({ id: msg.id, ok: true, keyID });
          return;
        }
        case 'addEpoch':
          sframe.addEpoch(msg.epoch, new Uint8Array(msg.key), msg.groupSize, msg.ownIndex);
          if (controller) releaseHeld();
          break;
        case 'removeEpoch': port.postMessage({ id: msg.id, ok: true, removed: sframe.removeEpoch(msg.epoch) }); return;
        case 'stats': break;
        case 'samples': port.postMessage({ id: msg.id, ok: true, samples: samples || [] }); return;
        case 'garbage': options.garbage = msg.on; break;
        default: throw new TypeError('unknown op ' + msg.op);
      }
      port.postMessage({ id: msg.id, ok: true, counts });
    } catch (e) {
      port.postMessage({ id: msg.id, ok: false, error: errorDetail(e) });
    }
  };
  // One message at a time, in order (key installs await a WebCrypto import).
  let queue = Promise.resolve();
  port.onmessage = (e) => { queue = queue.then(() => handle(e.data)); };

  const transform = new TransformStream({
    async start(c) {
      controller = c;
      await ready;
      ensure();
      port.postMessage({ event: 'ready' });
    },
    transform(frame, c) {
      counts.frames += 1;
      const mime = mimeOf(frame);
      if (side === 'encrypt') {
        const sent = () => {
          if (options.garbage) {
            // Test hook: what an SFU or a broken peer might send instead of SFrame. 8 bytes: a
            // header that claims 17 (KID and CTR of 8 bytes each) and no compat trailer, so
            // both formats must call it `syntax`.
            const junk = new Uint8Array(8);
            crypto.getRandomValues(junk);
            junk[0] = 0xff;
            junk[6] = 0x00; junk[7] = 0x00;
            frame.data = junk.buffer;
          }
          counts.encrypted += 1;
          if (options.tapWire) tap(frame, mime);
          c.enqueue(frame);
        };
        const dropped = () => { counts.sendErrors += 1; counts.dropped += 1; };
        let r;
        try { r = seal(frame, mime); } catch (e) { dropped(); return undefined; }
        if (r instanceof Promise) return r.then(sent, dropped);
        sent();
        return undefined;
      }
      if (held.length) releaseHeld();
      const received = (failure) => {
        if (!failure) { counts.decrypted += 1; c.enqueue(frame); return; }
        if (failure.errorType === 'keyID' && options.holdUnknownKeyID !== false) {
          held.push({ frame, mime, at: performance.now() });
          counts.held += 1;
          if (held.length > HOLD_MAX_FRAMES) { held.shift(); counts.dropped += 1; }
        } else {
          counts.dropped += 1;
        }
        report(failure.errorType, failure.keyID, failure.replay);
      };
      const r = open(frame, mime, false);
      if (r instanceof Promise) return r.then(received);
      received(r);
      return undefined;
    },
  });
  readable.pipeThrough(transform).pipeTo(writable).catch(() => {});
}

self.onrtctransform = (event) => {
  const t = event.transformer;
  start(t.options, t.readable, t.writable);
};

self.onmessage = (event) => {
  const d = event.data;
  if (d && d.sframe) start(d.sframe, d.readable, d.writable);
};
