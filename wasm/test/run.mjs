// Drives Debian's Chromium (headless, through playwright-core) through the SFrame scenarios of
// page.js, served at BASE. Usage: node run.mjs OUT_DIR [only-these-scenario-names...]
// Prints one line per scenario and `N passed, M failed` last; exits 1 on any failure, leaving
// OUT_DIR/<scenario>.png and OUT_DIR/<scenario>.console.log.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';

const OUT = process.argv[2] || 'out';
const ONLY = process.argv.slice(3);
const BASE = process.env.BASE || 'http://127.0.0.1:8765';
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(OUT, { recursive: true });

// What Bob must see when it works: most samples show the bars and hear the tone, and most
// frames decode (majority votes: research/browser.md gotcha 4).
const decodes = (r) => {
  const why = [];
  if (r.samples.pixel < r.samples.n * 0.7) why.push(`pixel ${r.samples.pixel}/${r.samples.n}`);
  if (r.samples.tone < r.samples.n * 0.7) why.push(`tone ${r.samples.tone}/${r.samples.n}`);
  if (r.video.framesDecoded < 10 * r.params.seconds) why.push(`framesDecoded ${r.video.framesDecoded}`);
  if (r.counts.rv.decrypted < 30 || r.counts.ra.decrypted < 30) why.push('few frames decrypted');
  return why;
};
// What Bob must see when it must not work: no picture, no tone, no frame decrypted.
const nothing = (r) => {
  const why = [];
  if (r.samples.pixel > 0) why.push(`pixel ${r.samples.pixel}/${r.samples.n}`);
  if (r.samples.tone > 0) why.push(`tone ${r.samples.tone}/${r.samples.n}`);
  if (r.video.framesDecoded > 5) why.push(`framesDecoded ${r.video.framesDecoded}`);
  if (r.counts.rv.decrypted > 0 || r.counts.ra.decrypted > 0) why.push('frames decrypted');
  return why;
};
const OPTION_REFUSALS = ['TypeError', 'TypeError', 'TypeError', 'RangeError', 'RangeError', 'RangeError', 'RangeError', 'RangeError'];
const api = (r) => {
  const a = r.api;
  const why = a.rangeErrors === a.rangeErrorsExpected && a.accepted === a.acceptedExpected ? [] : ['keyID RangeError rules'];
  if (JSON.stringify(r.optionRefusals) !== JSON.stringify(OPTION_REFUSALS)) why.push(`option refusals ${JSON.stringify(r.optionRefusals)}`);
  return why;
};
const codecIs = (name) => (r) => (r.sentCodec.toLowerCase() === 'video/' + name.toLowerCase() ? [] : [`sent codec ${r.sentCodec}`]);
// Chromium hands a receiver transform some video frames twice: up to ~17 VP8 frames in its
// first 300 ms, and now and then one later on a loaded machine. The replay window drops the
// copies (their originals were decrypted) and reports them as `authentication` with
// `replay: true`. Replays up to 10% of the frames decrypted are tolerated; any other error is
// not.
const errorsOnly = (type) => (r) => {
  const why = [];
  const decrypted = r.counts.rv.decrypted + r.counts.ra.decrypted;
  const tolerated = type !== 'authentication' && r.errors.replay <= decrypted / 10 ? r.errors.replay : 0;
  for (const t of ['syntax', 'keyID', 'authentication']) {
    const n = t === 'authentication' ? r.errors[t] - tolerated : r.errors[t];
    if (t === type && n < 20) why.push(`only ${n} ${t} errors`);
    if (t !== type && n > 0) why.push(`${n} ${t} errors (${r.errors.at.join(' ')})`);
  }
  return why;
};
const check = (...fns) => (r) => fns.flatMap((f) => f(r));

const scenarios = [];
const add = (name, query, expect, page = 'index.html') => scenarios.push({ name, query, expect, page });
for (const codec of ['VP8', 'VP9', 'H264', 'AV1']) {
  add(`codec-aware-${codec}`, `codec=${codec}&format=codec`, check(api, decodes, codecIs(codec), errorsOnly(null)));
}
for (const codec of ['VP8', 'VP9', 'H264', 'AV1']) {
  add(`rfc-raw-${codec}`, `codec=${codec}&format=rfc&raw=1`, check(decodes, codecIs(codec), errorsOnly(null)));
}
add('rfc-VP9-default-packetizer', 'codec=VP9&format=rfc', check(decodes, errorsOnly(null)));
add('wrong-key', 'codec=VP8&format=codec&rkey=wrong', check(nothing, errorsOnly('authentication')));
add('missing-kid', 'codec=VP8&format=codec&rkey=missing', check(nothing, errorsOnly('keyID'),
  (r) => (r.errors.keyIDs.length === 1 && r.errors.keyIDs[0] === '1' ? [] : [`keyIDs ${r.errors.keyIDs}`])));
add('garbage', 'codec=VP9&format=rfc&garbage=1', check(nothing, errorsOnly('syntax')));
add('garbage-codec-aware', 'codec=VP9&format=codec&garbage=1', check(nothing, errorsOnly('syntax')));
add('rotate', 'codec=VP8&format=codec&rotate=early', check(decodes, errorsOnly(null),
  (r) => (r.senderKeyID === 2 ? [] : ['no rotation'])));
add('rotate-key-late', 'codec=VP8&format=codec&rotate=late', check(decodes,
  (r) => (r.counts.rv.released > 0 ? [] : ['no frame held and released']),
  (r) => (r.counts.rv.decrypted >= r.counts.sv.encrypted - 2 && r.counts.ra.decrypted >= r.counts.sa.encrypted - 2 ? []
    : [`sent v${r.counts.sv.encrypted}/a${r.counts.sa.encrypted}, decrypted v${r.counts.rv.decrypted}/a${r.counts.ra.decrypted}`])));
const native = (r) => (r.native && r.native.ok === r.native.total && r.native.webcrypto > 0 ? [] : [`native frames ${JSON.stringify(r.native)}`]);
const bothPaths = (r) => {
  const paths = new Set(['sent', 'received'].flatMap((d) => ['video', 'audio'].flatMap((k) => r.captured[d][k].map((f) => f.aead))));
  return paths.has('wasm') && paths.has('webcrypto') ? [] : [`frames exported only from ${[...paths]}`];
};
add('rfc-raw-H264-webcrypto', 'codec=H264&format=rfc&raw=1&aead=webcrypto', check(decodes, errorsOnly(null)));
add('rfc-raw-VP8-wasm', 'codec=VP8&format=rfc&raw=1&aead=wasm', check(decodes, errorsOnly(null)));
add('wrong-key-rfc', 'codec=VP9&format=rfc&rkey=wrong', check(nothing, errorsOnly('authentication')));
add('ratchet', 'codec=VP8&format=codec&ratchet=1', check(decodes, errorsOnly(null),
  (r) => (r.ratchetedTo && r.ratchetedTo[0] === '258' ? [] : [`ratcheted to ${r.ratchetedTo}`])));
// RFC 9605 §5.2: Alice is leaf 1 of 2, E = 4, S = 1; video sends with context 0, audio with
// context 1: KID = context << 5 | 1 << 4 | epoch. Epoch 2 comes a third of the way in, epoch 1
// is removed a second later, and an older epoch is refused to the sender.
add('mls-epochs', 'codec=VP8&format=codec&mls=1', check(decodes, errorsOnly(null), (r) => {
  const kids = JSON.stringify(r.mlsKeyIDs);
  const why = kids === JSON.stringify([['17', '49'], ['18', '50']]) ? [] : [`MLS keyIDs ${kids}`];
  if (JSON.stringify(r.removedEpoch1) !== '[true,true]') why.push(`removed epoch 1: ${r.removedEpoch1}`);
  if (r.olderEpoch !== 'InvalidModificationError') why.push(`older epoch: ${r.olderEpoch}`);
  const refusals = JSON.stringify(r.mlsRefusals);
  if (refusals !== JSON.stringify(['InvalidStateError', 'InvalidModificationError', 'RangeError', 'RangeError',
    'RangeError', 'RangeError', 'TypeError', 'TypeError'])) why.push(`refusals ${refusals}`);
  return why;
}));
add('mls-epoch-late', 'codec=VP8&format=codec&mls=late', check(decodes,
  (r) => (JSON.stringify(r.mlsKeyIDs) === JSON.stringify([['17', '49'], ['18', '50']]) ? [] : [`MLS keyIDs ${JSON.stringify(r.mlsKeyIDs)}`]),
  (r) => (r.counts.rv.released > 0 && r.counts.ra.released > 0 ? [] : ['no frame held and released']),
  (r) => (r.errors.syntax === 0 && r.errors.authentication - r.errors.replay === 0 ? [] : [`errors ${JSON.stringify(r.errors)}`]),
  (r) => (r.counts.rv.decrypted >= r.counts.sv.encrypted - 2 && r.counts.ra.decrypted >= r.counts.sa.encrypted - 2 ? []
    : [`sent v${r.counts.sv.encrypted}/a${r.counts.sa.encrypted}, decrypted v${r.counts.rv.decrypted}/a${r.counts.ra.decrypted}`])));
// The WebCrypto hybrid with the §5.1 ratchet and with MLS epochs (RFC format, VP9): large
// frames go through WebCrypto on both sides, also after the last ratchet step or epoch change
// (the CryptoKeys were imported again), and everything decodes.
const webcryptoAfterKeyChange = (r) => {
  const { sv, rv } = r.counts;
  return sv.webcryptoSinceKeyChange > 0 && rv.webcryptoSinceKeyChange > 0 ? []
    : [`webcrypto frames sent ${sv.webcrypto} (${sv.webcryptoSinceKeyChange} after the key change), received ${rv.webcrypto} (${rv.webcryptoSinceKeyChange})`];
};
add('ratchet-webcrypto', 'codec=VP9&format=rfc&ratchet=1', check(decodes, errorsOnly(null), webcryptoAfterKeyChange,
  (r) => (r.ratchetedTo && r.ratchetedTo[0] === '258' ? [] : [`ratcheted to ${r.ratchetedTo}`])));
add('mls-webcrypto', 'codec=VP9&format=rfc&mls=1', check(decodes, errorsOnly(null), webcryptoAfterKeyChange,
  (r) => (JSON.stringify(r.mlsKeyIDs) === JSON.stringify([['17', '49'], ['18', '50']]) ? [] : [`MLS keyIDs ${JSON.stringify(r.mlsKeyIDs)}`])));
add('agreement', 'codec=VP9&format=rfc&agree=1', check(decodes, errorsOnly(null), (r) => {
  const a = r.agreement || {};
  const ok = a.committed && a.codes && /^\d{6}$/.test(a.codes[0]) && a.codes[0] === a.codes[1] && a.keyLength === 32 && a.badKey === 'DataError';
  return ok ? [] : [`agreement ${JSON.stringify(a)}`];
}));
add('legacy-createEncodedStreams', 'codec=VP8&format=codec&legacy=1', check(decodes, errorsOnly(null)));
add('export-rfc', 'codec=VP9&format=rfc&capture=40', check(decodes, native, bothPaths));
// The per-frame costs (BENCHMARKS.md): checked for completing with correct plaintexts; the
// figures are printed, and the hybrid's goals reported, not enforced (a shared CI machine is
// too noisy for timing assertions).
add('bench', `budget=${process.env.SFRAME_BENCH_BUDGET || 300}&rounds=${process.env.SFRAME_BENCH_ROUNDS || 5}`, (r) => (r.rows && r.rows.length === 8 ? [] : ['no benchmark rows']), 'bench.html');
add('export-codec', 'codec=H264&format=codec&capture=40', check(decodes, native));

const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--autoplay-policy=no-user-gesture-required', '--disable-features=WebRtcHideLocalIpsWithMdns'];

let passed = 0; let failed = 0;
const userDataDir = fs.mkdtempSync(path.join(OUT, 'profile-'));
const ctx = await chromium.launchPersistentContext(userDataDir, {
  executablePath: CHROMIUM, headless: true, args: FLAGS, viewport: { width: 1100, height: 560 },
});
for (const s of scenarios) {
  if (ONLY.length && !ONLY.includes(s.name)) continue;
  const t0 = Date.now();
  const page = await ctx.newPage();
  const lines = [];
  page.on('console', (m) => lines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => lines.push(`pageerror: ${e.stack || e}`));
  let result = null; let why = [];
  try {
    await page.goto(`${BASE}/test/${s.page}?scenario=${s.name}&${s.query}`, { waitUntil: 'domcontentloaded' });
    await page.waitForFunction(() => window.__result && window.__result.done, null, { timeout: 120000, polling: 250 });
    result = await page.evaluate(() => window.__result);
    why = result.failed ? [result.failed] : s.expect(result);
  } catch (e) {
    why = [String(e).split('\n')[0]];
  }
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  if (result) fs.writeFileSync(path.join(OUT, `${s.name}.json`), JSON.stringify(result, null, 1));
  if (s.name === 'codec-aware-VP8' || why.length) await page.screenshot({ path: path.join(OUT, `${s.name}.png`) }).catch(() => {});
  if (why.length) {
    failed += 1;
    fs.writeFileSync(path.join(OUT, `${s.name}.console.log`), lines.join('\n') + '\n');
    console.log(`FAIL ${s.name} (${secs} s): ${why.join('; ')}  [${OUT}/${s.name}.png, ${OUT}/${s.name}.console.log]`);
  } else if (s.name === 'bench') {
    passed += 1;
    const lines = ['| frame | op | wasm (µs) | WebCrypto (µs) | hybrid (µs) | hybrid ÷ best | WebCrypto ÷ hybrid |', '|---|---|---|---|---|---|---|'];
    for (const x of result.rows) {
      const best = Math.min(x.wasm, x.webcrypto);
      lines.push(`| ${x.size} B | ${x.op} | ${x.wasm.toFixed(1)} | ${x.webcrypto.toFixed(1)} | ${x.hybrid.toFixed(1)} | ${(x.hybrid / best).toFixed(2)} | ${(x.webcrypto / x.hybrid).toFixed(2)} |`);
    }
    fs.writeFileSync(path.join(OUT, 'bench.md'), lines.join('\n') + '\n');
    console.log(`ok   bench (${secs} s):\n${lines.join('\n')}`);
  } else {
    passed += 1;
    const r = result;
    console.log(`ok   ${s.name} (${secs} s): ${r.sentCodec} decoded ${r.video.framesDecoded}/${r.video.framesReceived}, `
      + `pixel ${r.samples.pixel}/${r.samples.n}, tone ${r.samples.tone}/${r.samples.n}, `
      + `decrypted v${r.counts.rv.decrypted}/a${r.counts.ra.decrypted}, errors ${JSON.stringify(r.errors)}`
      + (r.counts.sv.webcrypto ? `, webcrypto sent v${r.counts.sv.webcrypto} received v${r.counts.rv.webcrypto}` : ''));
  }
  await page.close();
}
await ctx.close();
fs.rmSync(userDataDir, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
