// The SFrame transform worker (module worker): every encoded frame of one sender or receiver
// goes through the wasm SFrameEncrypter / SFrameDecrypter here. Started by sframe.js, through
// RTCRtpScriptTransform (the `rtctransform` event) or, where only that exists, the legacy
// createEncodedStreams (a `{ sframe, readable, writable }` message).
//
// The AEAD of a frame is one step, `seal` / `open` below: the one-call wasm path today; a
// WebCrypto path for large frames plugs in there.
import init, { SFrameEncrypter, SFrameDecrypter } from './secure_frame_wasm.js';

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
                   syntax: 0, keyID: 0, authentication: 0, replay: 0, sendErrors: 0 };
  let sframe = null;
  let controller = null;
  const held = [];
  const samples = options.captureFrames ? [] : null;

  const report = (errorType, keyID, replay) => {
    counts[errorType] += 1;
    if (replay) counts.replay += 1;
    port.postMessage({ event: 'error', errorType, keyID, replay, counts });
  };

  const open = (frame, mime) => {
    const input = new Uint8Array(frame.data);
    const plain = sframe.decrypt(input, mime);
    if (plain === undefined) {
      return { errorType: sframe.errorType, keyID: sframe.errorKeyID, replay: sframe.errorIsReplay };
    }
    if (samples && samples.length < options.captureFrames) {
      samples.push({ mime, wire: Array.from(input), plain: Array.from(plain) });
    }
    frame.data = plain.buffer;
    return null;
  };

  const seal = (frame, mime) => {
    const plainBytes = new Uint8Array(frame.data);
    const wire = sframe.encrypt(plainBytes, mime);
    if (samples && samples.length < options.captureFrames) {
      samples.push({ mime, keyID: sframe.keyID, plain: Array.from(plainBytes), wire: Array.from(wire) });
    }
    frame.data = wire.buffer;
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
      const failure = open(frame, mime);
      if (failure && failure.errorType === 'keyID') break;
      held.shift();
      if (failure) { counts.dropped += 1; report(failure.errorType, failure.keyID, failure.replay); continue; }
      counts.released += 1;
      counts.decrypted += 1;
      controller.enqueue(frame);
    }
  };

  const handle = async (msg) => {
    await ready;
    try {
      switch (msg.op) {
        case 'setEncryptionKey': sframe.setEncryptionKey(new Uint8Array(msg.key), msg.keyID); break;
        case 'addDecryptionKey':
          sframe.addDecryptionKey(new Uint8Array(msg.key), msg.keyID);
          if (controller) releaseHeld();
          break;
        case 'removeDecryptionKey': sframe.removeDecryptionKey(msg.keyID); break;
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
  port.onmessage = (e) => { handle(e.data); };

  const transform = new TransformStream({
    async start(c) {
      controller = c;
      await ready;
      const opts = { cipherSuite: options.cipherSuite, format: options.format };
      sframe = side === 'encrypt' ? new SFrameEncrypter(opts) : new SFrameDecrypter(opts);
      port.postMessage({ event: 'ready' });
    },
    transform(frame, c) {
      counts.frames += 1;
      const mime = mimeOf(frame);
      if (side === 'encrypt') {
        try {
          seal(frame, mime);
        } catch (e) {
          counts.sendErrors += 1;
          counts.dropped += 1;
          return;
        }
        if (options.garbage) {
          // Test hook: what an SFU or a broken peer might send instead of SFrame.
          // 8 bytes: a header that claims 17 (KID and CTR of 8 bytes each) and no compat
          // trailer, so both formats must call it `syntax`.
          const junk = new Uint8Array(8);
          crypto.getRandomValues(junk);
          junk[0] = 0xff;
          junk[6] = 0x00; junk[7] = 0x00;
          frame.data = junk.buffer;
        }
        counts.encrypted += 1;
        if (options.tapWire) tap(frame, mime);
        c.enqueue(frame);
        return;
      }
      if (held.length) releaseHeld();
      const failure = open(frame, mime);
      if (!failure) { counts.decrypted += 1; c.enqueue(frame); return; }
      if (failure.errorType === 'keyID' && options.holdUnknownKeyID !== false) {
        held.push({ frame, mime, at: performance.now() });
        counts.held += 1;
        if (held.length > HOLD_MAX_FRAMES) { held.shift(); counts.dropped += 1; }
      } else {
        counts.dropped += 1;
      }
      report(failure.errorType, failure.keyID, failure.replay);
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
