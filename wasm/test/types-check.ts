// Compiled by wasm/test.sh with `tsc --noEmit --strict` against sframe.d.ts: every class and
// option of the package is used once the way an application would, and the lines marked as
// expected errors must stay errors (a declaration that got too loose fails the check too).
import {
  MLS_BASE_KEY_LABEL,
  SFrameDecrypter,
  SFrameEncrypter,
  SFrameErrorEvent,
  SFrameKeyAgreement,
  mlsBaseKeyLength,
  native,
  toKeyID,
} from './sframe.js';
import type {
  CryptoKeyID,
  SFrameAgreedKeys,
  SFrameCipherSuite,
  SFrameCounts,
  SFrameErrorType,
  SFrameKey,
  SFrameMlsOptions,
  SFrameOptions,
} from './sframe.js';

export async function call(pc: RTCPeerConnection, track: MediaStreamTrack, worker: Worker): Promise<void> {
  const suite: SFrameCipherSuite = 'AES_128_GCM_SHA256_128';
  const options: SFrameOptions = {
    cipherSuite: suite, format: 'codec', worker, holdUnknownKeyID: true, legacy: false,
    captureFrames: 0, aead: 'hybrid', sealThreshold: 1024, openThreshold: 768, tapWire: false,
  };
  const sender = pc.addTrack(track);
  const encrypter = new SFrameEncrypter(options);
  sender.transform = encrypter;
  const key: SFrameKey = new Uint8Array(16);
  const kid: CryptoKeyID = 1n;
  await encrypter.setEncryptionKey(key, kid);
  await encrypter.setEncryptionKey(new ArrayBuffer(16));
  const counts: SFrameCounts = await encrypter.getStats();
  const replays: number = counts.replay + counts.sendErrors;

  const decrypter = new SFrameDecrypter({ cipherSuite: 5, ratchetBits: 8 });
  pc.getReceivers()[0].transform = decrypter;
  await decrypter.addDecryptionKey(key, 0x100);
  await decrypter.removeDecryptionKey(0x100);
  decrypter.onerror = (e: SFrameErrorEvent) => {
    const type: SFrameErrorType = e.errorType;
    const id: bigint | undefined = e.keyID;
    console.log(type, id, e.replay, e.counts.authentication, replays);
  };
  decrypter.addEventListener('error', (e) => console.log(e.errorType satisfies SFrameErrorType));
  const ratcheted: bigint = await new SFrameEncrypter({ ratchetBits: 8 }).ratchet();
  const legacy = new SFrameDecrypter({ legacy: true });
  legacy.attach(pc.getReceivers()[0]);
  const big: bigint = toKeyID(ratcheted);
  console.log(big, native()?.SFrameEncrypter);

  // RFC 9605 §5.2 MLS epochs.
  const mls: SFrameMlsOptions = { epochBits: 4, context: 0n, maxEpochs: 3 };
  const mlsEncrypter = new SFrameEncrypter({ mls });
  const exported = new Uint8Array(mlsBaseKeyLength(suite));
  const label: 'SFrame 1.0 Base Key' = MLS_BASE_KEY_LABEL;
  const sentUnder: bigint = await mlsEncrypter.setEpoch(7, exported, 4, 2);
  const mlsDecrypter = new SFrameDecrypter({ mls: { epochBits: 4 } });
  await mlsDecrypter.addEpoch(7n, exported, 4, 2);
  await mlsDecrypter.addEpoch(8, exported.buffer, 4);
  const removed: boolean = await mlsDecrypter.removeEpoch(7);
  console.log(label, sentUnder, removed);

  // P-256 pairwise agreement.
  const alice = await SFrameKeyAgreement.create({ role: 'initiator', cipherSuite: suite });
  const bob = await SFrameKeyAgreement.create({ role: 'responder' });
  const ok: boolean = alice.verifyCommitment(bob.publicKey, bob.commitment);
  const agreed: SFrameAgreedKeys = alice.agree(bob.publicKey.buffer as ArrayBuffer);
  const code: string = agreed.verificationCode;
  await encrypter.setEncryptionKey(agreed.sendKey, 1);
  await decrypter.addDecryptionKey(agreed.receiveKey, 2);
  console.log(ok, code, agreed.transcriptHash.byteLength);
  alice.free();
  bob.free();

  // What must stay a type error.
  // @ts-expect-error: not a wire format
  new SFrameEncrypter({ format: 'xml' });
  // @ts-expect-error: not a suite name
  new SFrameDecrypter({ cipherSuite: 'AES_128_GCM' });
  // @ts-expect-error: a key ID is a number or a bigint
  await decrypter.addDecryptionKey(key, '1');
  // @ts-expect-error: epochBits is required
  new SFrameDecrypter({ mls: {} });
  // @ts-expect-error: a role is required
  await SFrameKeyAgreement.create({});
  // @ts-expect-error: made by create() only
  new SFrameKeyAgreement();
  // @ts-expect-error: setEpoch needs the group size and the sender index
  await mlsEncrypter.setEpoch(9, exported);
}
