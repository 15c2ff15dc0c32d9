// The browser scenarios and the demo: Alice sends a canvas and a 440 Hz tone to Bob over
// loopback, every encoded frame SFrame-protected in a worker. Query parameters pick the
// scenario (run.mjs); without any it is the interactive demo.
//   codec=VP8|VP9|H264|AV1  format=codec|rfc  raw=1 (raw packetization + dependency descriptor)
//   rkey=right|wrong|missing  garbage=1  rotate=early|late  capture=N  seconds=S  suite=NAME
//   mls=1|late (RFC 9605 §5.2 epochs, a new epoch mid-call; late: Bob gets it 300 ms after
//   Alice moved)  agree=1 (keys from SFrameKeyAgreement)
import { SFrameEncrypter, SFrameDecrypter, SFrameKeyAgreement, toKeyID } from '../pkg/sframe.js';
import { Opener } from '../pkg/sframe-aead.js';

const q = new URLSearchParams(location.search);
const P = {
  codec: q.get('codec') || 'VP8',
  format: q.get('format') || 'codec',
  raw: q.get('raw') === '1',
  rkey: q.get('rkey') || 'right',
  garbage: q.get('garbage') === '1',
  rotate: q.get('rotate') || '',
  capture: Number(q.get('capture') || 0),
  seconds: Number(q.get('seconds') || 6),
  suite: q.get('suite') || 'AES_128_GCM_SHA256_128',
  aead: q.get('aead') || 'hybrid',
  ratchet: q.get('ratchet') === '1',
  legacy: q.get('legacy') === '1',
  mls: q.get('mls') === '1' || q.get('mls') === 'late',
  mlsLate: q.get('mls') === 'late',
  agree: q.get('agree') === '1',
  demo: !q.has('scenario'),
};
const log = (...a) => console.log('[page]', ...a);
const $ = (id) => document.getElementById(id);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const bytes = (n, f) => Uint8Array.from({ length: n }, (_, i) => f(i));
const K1 = bytes(16, (i) => i + 1);
const K2 = bytes(16, (i) => 0x42 ^ i);
const WRONG = bytes(16, () => 0x99);
// MLS-Exporter("SFrame 1.0 Base Key", "", 16) of epochs 1 and 2, as an MLS stack would give them.
const EPOCH = { 1: bytes(16, (i) => 0x10 + i), 2: bytes(16, (i) => 0x20 + i) };
// The MLS group: Bob is leaf 0, Alice leaf 1 of 2.
const GROUP = 2; const ALICE = 1; const BOB = 0;
window.__result = { done: false, params: P };

// ---- the source: red | green halves, a moving white bar below, and a 440 Hz tone ----
function startSource() {
  const canvas = $('source');
  const g = canvas.getContext('2d');
  let t = 0;
  const draw = () => {
    g.fillStyle = '#ff0000'; g.fillRect(0, 0, 320, 480);
    g.fillStyle = '#00ff00'; g.fillRect(320, 0, 320, 480);
    g.fillStyle = '#000'; g.fillRect(0, 360, 640, 120);
    g.fillStyle = '#fff'; g.fillRect((t * 8) % 600, 380, 40, 80);
    g.font = '28px sans-serif'; g.fillText('frame ' + t, 420, 470);
    t += 1;
  };
  draw();
  setInterval(draw, 33);
  const ctx = new AudioContext({ sampleRate: 48000 });
  const osc = ctx.createOscillator();
  osc.frequency.value = 440;
  const dest = ctx.createMediaStreamDestination();
  osc.connect(dest);
  osc.start();
  ctx.resume();
  return { video: canvas.captureStream(30).getVideoTracks()[0], audio: dest.stream.getAudioTracks()[0] };
}

// ---- SDP helpers for raw packetization (Chromium-specific; research/browser.md §4) ----
const DD = 'https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension';
function rawPacketization(sdp) {
  return sdp.replace(/a=rtpmap:(\d+) (VP8|VP9|H264|AV1)\/90000\r\n/g,
    (line, pt) => line + 'a=packetization:' + pt + ' raw\r\n');
}
function enableDD(transceiver) {
  const exts = transceiver.getHeaderExtensionsToNegotiate();
  transceiver.setHeaderExtensionsToNegotiate(
    exts.map((e) => (e.uri === DD ? { ...e, direction: 'sendrecv' } : e)));
}
function preferCodec(transceiver, codec) {
  const all = RTCRtpSender.getCapabilities('video').codecs;
  const mine = all.filter((c) => c.mimeType.toLowerCase() === 'video/' + codec.toLowerCase());
  if (codec === 'H264') {
    mine.sort((a, b) => (/packetization-mode=1/.test(b.sdpFmtpLine) ? 1 : 0)
      - (/packetization-mode=1/.test(a.sdpFmtpLine) ? 1 : 0));
  }
  transceiver.setCodecPreferences([...mine, ...all.filter((c) => !mine.includes(c))]);
}

// ---- checks on what Bob decodes ----
function pixelCheck(video, probe) {
  if (!video.videoWidth) return false;
  const g = probe.getContext('2d', { willReadFrequently: true });
  g.drawImage(video, 0, 0, 64, 48);
  const px = (x, y) => g.getImageData(x, y, 1, 1).data;
  const l = px(16, 16); const r = px(48, 16);
  return l[0] > 150 && l[1] < 100 && l[2] < 100 && r[1] > 150 && r[0] < 100 && r[2] < 100;
}
function toneCheck(analyser) {
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  let peak = 0;
  for (let i = 1; i < bins.length; i++) if (bins[i] > bins[peak]) peak = i;
  const hz = (peak * analyser.context.sampleRate) / analyser.fftSize;
  const sorted = Array.from(bins).sort((a, b) => a - b);
  const median = sorted[sorted.length >> 1];
  return { ok: Math.abs(hz - 440) < 30 && bins[peak] > -70 && bins[peak] - median > 30, hz, db: bins[peak] };
}
async function inbound(pc) {
  const out = { video: {}, audio: {} };
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp') out[s.kind] = s;
  });
  return out;
}
async function sentCodec(pc) {
  const stats = await pc.getStats();
  let mime = '';
  stats.forEach((s) => {
    if (s.type === 'outbound-rtp' && s.kind === 'video' && s.codecId) mime = stats.get(s.codecId)?.mimeType || '';
  });
  return mime;
}

// ---- the W3C key-ID rules, checked on the wrapper ----
function apiChecks() {
  const bad = [-1, 1.5, 2 ** 64, -1n, 1n << 64n];
  const ok = [0, 1, 2 ** 53 - 1, 0n, (1n << 64n) - 1n];
  const rangeErrors = bad.filter((v) => { try { toKeyID(v); return false; } catch (e) { return e instanceof RangeError; } }).length;
  const accepted = ok.filter((v) => { try { toKeyID(v); return true; } catch { return false; } }).length;
  return { rangeErrors, rangeErrorsExpected: bad.length, accepted, acceptedExpected: ok.length };
}

// Frames the native library protected (wasm/tests/fixtures/native-frames.json) decrypt here.
async function nativeFrames() {
  const fromHex = (h) => Uint8Array.from(h.match(/../g) || [], (b) => parseInt(b, 16));
  const toHex = (a) => Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
  const fixture = await (await fetch('./native-frames.json')).json();
  const wasm = await import('../pkg/secure_frame_wasm.js');
  await wasm.default();
  let ok = 0; let total = 0; let webcrypto = 0;
  const failures = [];
  for (const aead of ['wasm', 'webcrypto']) {
    for (const f of fixture.frames) {
      const d = new wasm.SFrameDecrypter({ cipherSuite: f.suite, format: f.format });
      const opener = new Opener(d, { aead });
      await opener.addKey(fromHex(fixture.key), BigInt(f.keyID));
      const r = await opener.open(fromHex(f.wire), f.mime);
      total += 1;
      if (r.plain && toHex(r.plain) === f.plain) ok += 1;
      else failures.push(`${aead} ${f.suite}/${f.format}/${f.mime}: ${r.failure && r.failure.errorType}`);
      webcrypto += opener.webcryptoFrames;
      d.free();
    }
  }
  return { ok, total, webcrypto, failures };
}

async function main() {
  const src = startSource();
  const api = apiChecks();
  // The createEncodedStreams fallback needs encodedInsertableStreams on both connections.
  const pcConfig = P.legacy ? { encodedInsertableStreams: true } : {};
  const pc1 = new RTCPeerConnection(pcConfig);
  const pc2 = new RTCPeerConnection(pcConfig);
  pc1.onicecandidate = (e) => e.candidate && pc2.addIceCandidate(e.candidate);
  pc2.onicecandidate = (e) => e.candidate && pc1.addIceCandidate(e.candidate);

  const opts = { cipherSuite: P.suite, format: P.format, aead: P.aead, legacy: P.legacy, ...(P.ratchet ? { ratchetBits: 8 } : {}) };
  const use = (target, transform) => { if (P.legacy) transform.attach(target); else target.transform = transform; };
  // With the §5.1 ratchet (8 step bits) the first key is generation 1, step 0: KID 0x100.
  const KID1 = P.ratchet ? 0x100 : 1;
  const sendWorker = new Worker(new URL('../pkg/sframe-worker.js', import.meta.url), { type: 'module' });
  const recvWorker = new Worker(new URL('../pkg/sframe-worker.js', import.meta.url), { type: 'module' });
  const vt = pc1.addTransceiver(src.video, { direction: 'sendonly' });
  const at = pc1.addTransceiver(src.audio, { direction: 'sendonly' });
  preferCodec(vt, P.codec);
  if (P.raw) enableDD(vt);
  // With MLS epochs Alice's two streams need their own KID context: the same epoch, leaf and
  // context would be the same key and nonces.
  const mlsFor = (context) => (P.mls ? { mls: { epochBits: 4, context } } : {});
  const enc = {
    video: new SFrameEncrypter({ ...opts, ...mlsFor(0), worker: sendWorker, captureFrames: P.capture, tapWire: true }),
    audio: new SFrameEncrypter({ ...opts, ...mlsFor(1n), worker: sendWorker, captureFrames: P.capture }),
  };
  use(vt.sender, enc.video);
  use(at.sender, enc.audio);
  // With agree=1 the keys come from a P-256 agreement between Alice (initiator) and Bob.
  let sendKey = K1; let recvKey = K1;
  const result0 = {};
  if (P.agree) {
    const alice = await SFrameKeyAgreement.create({ role: 'initiator', cipherSuite: P.suite });
    const bob = await SFrameKeyAgreement.create({ role: 'responder', cipherSuite: P.suite });
    const committed = alice.verifyCommitment(bob.publicKey, bob.commitment) && bob.verifyCommitment(alice.publicKey, alice.commitment);
    const a = alice.agree(bob.publicKey); const b = bob.agree(alice.publicKey);
    let badKey = '';
    try { alice.agree(new Uint8Array(65).fill(4)); } catch (e) { badKey = e.name; }
    result0.agreement = { committed, codes: [a.verificationCode, b.verificationCode], keyLength: a.sendKey.byteLength, badKey };
    sendKey = a.sendKey; recvKey = b.receiveKey;
    alice.free(); bob.free();
  }
  // Options a transform would refuse are refused by the constructor, before any worker.
  result0.optionRefusals = [];
  for (const bad of [{ cipherSuite: 'AES_128_GCM' }, { format: 'whole' }, { aead: 'gpu' }, { ratchetBits: 0 },
    { ratchetBits: 64 }, { ratchetBits: 1.5 }, { sealThreshold: -1 }, { openThreshold: NaN }]) {
    try { new SFrameDecrypter({ ...bad, worker: recvWorker }); result0.optionRefusals.push('constructed'); } catch (e) { result0.optionRefusals.push(e.name); }
  }
  if (P.mls) {
    result0.mlsKeyIDs = [[String(await enc.video.setEpoch(1, EPOCH[1], GROUP, ALICE)),
      String(await enc.audio.setEpoch(1n, EPOCH[1].buffer.slice(0), GROUP, ALICE))]];
    // Typed refusals, none of which changes the key in use.
    const nameOf = (p) => p.then(() => 'resolved', (e) => e.name);
    result0.mlsRefusals = [
      await nameOf(enc.video.setEncryptionKey(K1, 1)),
      await nameOf(enc.video.setEpoch(5, new Uint8Array(32), GROUP, ALICE)),
      await nameOf(enc.video.setEpoch(5, EPOCH[1], GROUP, GROUP)),
      await nameOf(enc.video.setEpoch(-1, EPOCH[1], GROUP, ALICE)),
    ];
    for (const bad of [{ mls: { epochBits: 0 } }, { mls: { epochBits: 4, maxEpochs: 17 } }, { mls: 4 },
      { mls: { epochBits: 4 }, ratchetBits: 8 }]) {
      try { new SFrameDecrypter({ ...bad, worker: recvWorker }); result0.mlsRefusals.push('constructed'); } catch (e) { result0.mlsRefusals.push(e.name); }
    }
  } else {
    await enc.video.setEncryptionKey(sendKey, KID1);
    await enc.audio.setEncryptionKey(sendKey.slice().buffer, BigInt(KID1));
  }
  if (P.garbage) { await enc.video.sendGarbage(true); await enc.audio.sendGarbage(true); }

  const errors = { syntax: 0, keyID: 0, authentication: 0, replay: 0, lateReplay: 0, keyIDs: [], at: [] };
  const t0 = performance.now();
  const dec = {};
  const remote = new MediaStream();
  const keysReady = [];
  pc2.ontrack = (e) => {
    const d = new SFrameDecrypter({ ...opts, ...(P.mls ? { mls: { epochBits: 4 } } : {}), worker: recvWorker, captureFrames: P.capture });
    use(e.receiver, d);
    d.addEventListener('error', (ev) => {
      errors[ev.errorType] += 1;
      if (ev.replay) errors.replay += 1;
      if (ev.replay && performance.now() - t0 > 1500) errors.lateReplay += 1;
      if (errors.at.length < 8) errors.at.push(`${e.track.kind}:${ev.errorType}${ev.replay ? '(replay)' : ''}@${Math.round(performance.now() - t0)}ms`);
      if (ev.errorType === 'keyID' && !errors.keyIDs.includes(String(ev.keyID))) errors.keyIDs.push(String(ev.keyID));
    });
    dec[e.track.kind] = d;
    remote.addTrack(e.track);
    keysReady.push((async () => {
      if (P.mls) await d.addEpoch(1, EPOCH[1], GROUP, BOB);
      else if (P.agree) await d.addDecryptionKey(recvKey, KID1);
      else if (P.rkey === 'wrong') await d.addDecryptionKey(WRONG, KID1);
      else if (P.rkey === 'missing') await d.addDecryptionKey(K2, 7);
      else {
        // An extractable CryptoKey, as the W3C API takes keys.
        const key = await crypto.subtle.importKey('raw', K1, { name: 'AES-GCM' }, true, ['encrypt']);
        await d.addDecryptionKey(key, BigInt(KID1));
      }
    })());
  };

  let offer = await pc1.createOffer();
  if (P.raw) offer = { type: 'offer', sdp: rawPacketization(offer.sdp) };
  await pc1.setLocalDescription(offer);
  await pc2.setRemoteDescription(offer);
  if (P.raw) pc2.getTransceivers().forEach((t) => { if (t.receiver.track.kind === 'video') enableDD(t); });
  let answer = await pc2.createAnswer();
  if (P.raw) answer = { type: 'answer', sdp: rawPacketization(answer.sdp) };
  await pc2.setLocalDescription(answer);
  await pc1.setRemoteDescription(answer);
  await Promise.all(keysReady);

  const video = $('remote');
  video.srcObject = new MediaStream(remote.getVideoTracks());
  $('remoteAudio').srcObject = new MediaStream(remote.getAudioTracks());
  video.play().catch(() => {});
  const actx = new AudioContext();
  const analyser = actx.createAnalyser();
  analyser.fftSize = 2048;
  actx.createMediaStreamSource(new MediaStream(remote.getAudioTracks())).connect(analyser);
  actx.resume();

  // Demo controls and counters.
  let kid = 1;
  const rotate = async (late) => {
    const next = kid + 1;
    const key = next % 2 ? K1 : K2;
    if (late) {
      // The sender moves first; Bob's key arrives by message 300 ms later: held frames go on.
      await enc.video.setEncryptionKey(key, next); await enc.audio.setEncryptionKey(key, next);
      await sleep(300);
      await dec.video.addDecryptionKey(key, next); await dec.audio.addDecryptionKey(key, next);
    } else {
      await dec.video.addDecryptionKey(key, next); await dec.audio.addDecryptionKey(key, next);
      await enc.video.setEncryptionKey(key, next); await enc.audio.setEncryptionKey(key, next);
    }
    const old = kid;
    kid = next;
    setTimeout(() => { dec.video.removeDecryptionKey(old); dec.audio.removeDecryptionKey(old); }, 1000);
  };
  $('rotate').onclick = () => rotate(false);
  $('wrong').onclick = async () => { await dec.video.addDecryptionKey(WRONG, kid); await dec.audio.addDecryptionKey(WRONG, kid); };
  $('fix').onclick = async () => {
    const key = kid % 2 ? K1 : K2;
    await dec.video.addDecryptionKey(key, kid); await dec.audio.addDecryptionKey(key, kid);
  };
  enc.video.addEventListener('wire', (e) => {
    $('wire').textContent = e.mime + ', ' + e.length + ' bytes, KID ' + kid + ':\n' + e.hex + ' …';
  });
  const counters = async () => {
    const [sv, sa, rv, ra] = await Promise.all([enc.video.getStats(), enc.audio.getStats(),
      dec.video.getStats(), dec.audio.getStats()]);
    const rows = [['encrypted', sv.encrypted, sa.encrypted], ['decrypted', rv.decrypted, ra.decrypted],
      ['failed: authentication', rv.authentication, ra.authentication],
      ['… of which replayed copies', rv.replay, ra.replay], ['failed: keyID', rv.keyID, ra.keyID],
      ['failed: syntax', rv.syntax, ra.syntax], ['held for a key, then decrypted', rv.released, ra.released],
      ['dropped', rv.dropped, ra.dropped]];
    $('counters').innerHTML = rows.map((r) => `<tr><th>${r[0]}</th><td>${r[1]}</td><td>${r[2]}</td></tr>`).join('');
    return { sv, sa, rv, ra };
  };
  setInterval(counters, 500);
  if (P.demo) return;

  // ---- the measuring window ----
  await sleep(2000);
  const probe = document.createElement('canvas');
  probe.width = 64; probe.height = 48;
  const before = await inbound(pc2);
  const samples = { pixel: 0, tone: 0, n: 0, hz: [] };
  const steps = Math.round(P.seconds * 2);
  for (let i = 0; i < steps; i++) {
    if (P.rotate && i === Math.floor(steps / 2)) await rotate(P.rotate === 'late');
    if (P.mls && i === Math.floor(steps / 3)) {
      // A new MLS epoch mid-call: Bob installs it, Alice moves to it, epoch 1 goes a second
      // later. Late: Alice moves first and Bob's epoch arrives 300 ms later (held frames go on).
      const install = async () => { await dec.video.addEpoch(2, EPOCH[2], GROUP, BOB); await dec.audio.addEpoch(2, EPOCH[2], GROUP, BOB); };
      if (!P.mlsLate) await install();
      result0.mlsKeyIDs.push([String(await enc.video.setEpoch(2, EPOCH[2], GROUP, ALICE)),
        String(await enc.audio.setEpoch(2, EPOCH[2], GROUP, ALICE))]);
      if (P.mlsLate) { await sleep(300); await install(); }
      setTimeout(async () => {
        result0.removedEpoch1 = [await dec.video.removeEpoch(1), await dec.audio.removeEpoch(1)];
        try { await enc.video.setEpoch(1, EPOCH[1], GROUP, ALICE); } catch (e) { result0.olderEpoch = e.name; }
      }, 1000);
    }
    if (P.ratchet && (i === Math.floor(steps / 3) || i === Math.floor((2 * steps) / 3))) {
      // One §5.1 step on both senders; Bob gets no key message.
      result0.ratchetedTo = [String(await enc.video.ratchet()), String(await enc.audio.ratchet())];
    }
    await sleep(500);
    samples.n += 1;
    if (pixelCheck(video, probe)) samples.pixel += 1;
    const tone = toneCheck(analyser);
    if (tone.ok) samples.tone += 1;
    samples.hz.push(Math.round(tone.hz));
  }
  const after = await inbound(pc2);
  const c = await counters();
  const result = {
    done: true,
    params: P,
    api,
    sentCodec: await sentCodec(pc1),
    receivedMime: null,
    samples,
    video: {
      framesDecoded: (after.video.framesDecoded || 0) - (before.video.framesDecoded || 0),
      framesReceived: (after.video.framesReceived || 0) - (before.video.framesReceived || 0),
      pliCount: after.video.pliCount || 0,
      width: video.videoWidth,
    },
    audio: {
      samplesReceived: (after.audio.totalSamplesReceived || 0) - (before.audio.totalSamplesReceived || 0),
      concealed: (after.audio.concealedSamples || 0) - (before.audio.concealedSamples || 0),
    },
    errors,
    counts: c,
    senderKeyID: kid,
    ...result0,
  };
  if (P.capture) {
    result.captured = {
      key1: Array.from(K1), suite: P.suite, format: P.format, codec: P.codec,
      sent: { video: await enc.video.capturedFrames(), audio: await enc.audio.capturedFrames() },
      received: { video: await dec.video.capturedFrames(), audio: await dec.audio.capturedFrames() },
    };
  }
  if (P.capture) result.native = await nativeFrames();
  window.__result = JSON.parse(JSON.stringify(result, (k, v) => (typeof v === 'bigint' ? v.toString() : v)));
  log('result', JSON.stringify(window.__result).slice(0, 2000));
}

main().catch((e) => {
  console.error('[page] failed', e && e.stack ? e.stack : e);
  window.__result = { done: true, failed: String(e && e.stack ? e.stack : e) };
});
