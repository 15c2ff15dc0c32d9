// Per-frame cost of the AEAD paths of sframe-aead.js in a dedicated worker, including the
// copies a transform makes (frame.data in as an ArrayBuffer, a new ArrayBuffer out), one frame
// awaited at a time as a transform does. AES_128_GCM_SHA256_128, RFC format.
import init, { SFrameEncrypter, SFrameDecrypter } from '../pkg/secure_frame_wasm.js';
import { Sealer, Opener } from '../pkg/sframe-aead.js';

const SIZES = [160, 1200, 16384, 102400];
const MODES = ['wasm', 'webcrypto', 'hybrid'];
const KEY = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const OPTS = { cipherSuite: 'AES_128_GCM_SHA256_128', format: 'rfc' };
const POOL = 64;
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];

async function timeLoop(budgetMs, step) {
  for (let i = 0; i < 30; i++) await step(i);
  let n = 0; let spent = 0;
  while (spent < budgetMs || n < 32) {
    const t0 = performance.now();
    for (let j = 0; j < 16; j++) await step(n + j);
    spent += performance.now() - t0;
    n += 16;
  }
  return (spent * 1000) / n;
}

async function sealCost(mode, size, budgetMs) {
  const enc = new SFrameEncrypter(OPTS);
  const sealer = new Sealer(enc, { aead: mode });
  await sealer.setKey(KEY, 1);
  const frame = new Uint8Array(size).map((_, i) => i & 0xff).buffer;
  const us = await timeLoop(budgetMs, async () => {
    const out = sealer.seal(new Uint8Array(frame), 'video/VP9');
    const wire = out instanceof Promise ? await out : out;
    // A header of 1 to 17 bytes (the counter grows over a long run) and the 16-byte tag.
    if (wire.byteLength < size + 17 || wire.byteLength > size + 33) throw new Error(`${mode}: sealed ${size} B to ${wire.byteLength} B`);
  });
  enc.free();
  return us;
}

async function openCost(mode, size, budgetMs) {
  // A pool of sealed frames; the key is removed and installed again (a fresh replay window)
  // each time the pool comes round again, outside the timed part. (Adding the same key again
  // without removing it keeps its window: the pool's frames would be replays.)
  const enc = new SFrameEncrypter(OPTS);
  enc.setEncryptionKey(KEY, 1);
  const plain = new Uint8Array(size).map((_, i) => (i * 7) & 0xff);
  const pool = Array.from({ length: POOL }, () => enc.encrypt(plain, 'video/VP9').buffer);
  enc.free();
  const dec = new SFrameDecrypter(OPTS);
  const opener = new Opener(dec, { aead: mode });
  await opener.addKey(KEY, 1);
  let checked = false;
  let total = 0; let n = 0;
  const budget = budgetMs;
  for (let round = 0; total < budget || n < POOL; round++) {
    opener.removeKey(1);
    await opener.addKey(KEY, 1);
    const t0 = performance.now();
    for (let i = 0; i < POOL; i++) {
      const r0 = opener.open(new Uint8Array(pool[i]), 'video/VP9');
      const r = r0 instanceof Promise ? await r0 : r0;
      if (!r.plain) throw new Error(`${mode} open failed: ${r.failure.errorType}`);
      if (!checked) { checked = r.plain.length === size && r.plain[size - 1] === plain[size - 1]; }
    }
    const dt = performance.now() - t0;
    if (round > 0) { total += dt; n += POOL; }
  }
  dec.free();
  if (!checked) throw new Error('plaintext differs');
  return (total * 1000) / n;
}

self.onmessage = async (e) => {
  try {
    await init();
    const budgetMs = e.data.budgetMs;
    const ROUNDS = e.data.rounds;
    const rows = [];
    for (const size of SIZES) {
      for (const op of ['encrypt', 'decrypt']) {
        // The modes interleaved, ROUNDS times, and the median of each: a busy machine's noise
        // hits every mode alike.
        const costs = Object.fromEntries(MODES.map((m) => [m, []]));
        for (let round = 0; round < ROUNDS; round++) {
          // The order rotates each round, so no mode always follows the same one.
          for (const mode of MODES.map((_, i) => MODES[(i + round) % MODES.length])) {
            self.postMessage({ progress: `${op} ${size} B ${mode} (round ${round + 1})` });
            costs[mode].push(op === 'encrypt' ? await sealCost(mode, size, budgetMs / ROUNDS)
              : await openCost(mode, size, budgetMs / ROUNDS));
          }
        }
        const row = { size, op };
        for (const mode of MODES) row[mode] = median(costs[mode]);
        rows.push(row);
      }
    }
    self.postMessage({ rows, userAgent: navigator.userAgent });
  } catch (err) {
    self.postMessage({ failed: String(err && err.stack ? err.stack : err) });
  }
};
