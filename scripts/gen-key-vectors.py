#!/usr/bin/env python3
"""Generates the key-management vectors in test-vectors/ from the formulas, independently of
the Rust code: HKDF from hashlib/hmac (RFC 5869), P-256 ECDH and AES-GCM from `cryptography`.

    python3 scripts/gen-key-vectors.py      # rewrites the three files

The Rust tests (tests/key_vectors.rs) recompute every value again with RustCrypto's hkdf/sha2
and check the library against them.
"""
import hashlib
import hmac
import json
import os

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

OUT = os.path.join(os.path.dirname(__file__), "..", "test-vectors")

SUITES = {  # id: (name, hash, Nh, Nk, Nn)
    1: ("AES_128_CTR_HMAC_SHA256_80", hashlib.sha256, 32, 48, 12),
    2: ("AES_128_CTR_HMAC_SHA256_64", hashlib.sha256, 32, 48, 12),
    3: ("AES_128_CTR_HMAC_SHA256_32", hashlib.sha256, 32, 48, 12),
    4: ("AES_128_GCM_SHA256_128", hashlib.sha256, 32, 16, 12),
    5: ("AES_256_GCM_SHA512_128", hashlib.sha512, 64, 32, 12),
}


def u64(v):
    return "0x%x" % v


def hkdf_extract(h, salt, ikm):
    if not salt:
        salt = b"\0" * h().digest_size
    return hmac.new(salt, ikm, h).digest()


def hkdf_expand(h, prk, info, n):
    out, t, i = b"", b"", 1
    while len(out) < n:
        t = hmac.new(prk, t + info + bytes([i]), h).digest()
        out += t
        i += 1
    return out[:n]


def derive_key_salt(suite, kid, base_key):
    _, h, _, nk, nn = SUITES[suite]
    secret = hkdf_extract(h, b"", base_key)
    suffix = kid.to_bytes(8, "big") + suite.to_bytes(2, "big")
    key = hkdf_expand(h, secret, b"SFrame 1.0 Secret key " + suffix, nk)
    salt = hkdf_expand(h, secret, b"SFrame 1.0 Secret salt " + suffix, nn)
    return key, salt


def header(kid, ctr):
    def field(v):
        if v < 8:
            return v, b""
        n = (v.bit_length() + 7) // 8
        return 0x08 | (n - 1), v.to_bytes(n, "big")

    k, kb = field(kid)
    c, cb = field(ctr)
    return bytes([(k << 4) | c]) + kb + cb


def gcm_frame(suite, kid, ctr, key, salt, metadata, pt):
    nonce = bytes(a ^ b for a, b in zip(salt, ctr.to_bytes(12, "big")))
    hdr = header(kid, ctr)
    return hdr + AESGCM(key).encrypt(nonce, pt, hdr + metadata)


def ratchet_vectors():
    cases = []
    for suite, bits, generation in [(1, 2, 5), (3, 4, 0x1), (4, 2, 5), (4, 8, 0x123), (5, 3, 2)]:
        name, h, nh, _, _ = SUITES[suite]
        base = bytes(range(0x10, 0x20)) if suite != 5 else bytes(range(0x40, 0x60))
        steps, key = [], base
        metadata, pt = b"metadata", b"ratcheted frame"
        for step in range(6):
            kid = (generation << bits) + (step % (1 << bits))
            sk, ss = derive_key_salt(suite, kid, key)
            entry = {
                "step": step,
                "kid": u64(kid),
                "base_key": key.hex(),
                "sframe_key": sk.hex(),
                "sframe_salt": ss.hex(),
            }
            if suite in (4, 5):
                entry.update(
                    ctr=u64(0),
                    metadata=metadata.hex(),
                    pt=pt.hex(),
                    ct=gcm_frame(suite, kid, 0, sk, ss, metadata, pt).hex(),
                )
            steps.append(entry)
            # RFC 9605 §5.1: base_key[i+1] = HKDF-Expand(HKDF-Extract("", base_key[i]), "SFrame 1.0 Ratchet", Nh)
            key = hkdf_expand(h, hkdf_extract(h, b"", key), b"SFrame 1.0 Ratchet", nh)
        cases.append(
            {
                "suite": suite,
                "suite_name": name,
                "ratchet_bits": bits,
                "generation": u64(generation),
                "steps": steps,
            }
        )
    return {
        "schema": "secure-frame-vectors/1",
        "source": "secure-frame, from RFC 9605 §5.1 and §4.4.2 (scripts/gen-key-vectors.py)",
        "ratchet": cases,
    }


def mls_vectors():
    def kid(e, s, ctx, idx, epoch):
        return (ctx << (s + e)) + (idx << e) + (epoch % (1 << e))

    figure9 = [(14, 3, 0), (14, 7, 0), (14, 20, 0), (15, 3, 0), (15, 5, 0), (16, 2, 2), (16, 2, 3), (17, 33, 0), (17, 51, 0)]
    kids = []
    for epoch, idx, ctx in figure9:
        kids.append({"epoch_bits": 4, "sender_bits": 6, "context": u64(ctx), "sender_index": idx, "epoch": u64(epoch), "kid": u64(kid(4, 6, ctx, idx, epoch))})
    for e, s, ctx, idx, epoch in [(1, 0, 0, 0, 3), (8, 1, 0, 1, 0x1ff), (16, 16, 0xffffffff, 0xffff, 0x12345), (32, 31, 1, 0x7fffffff, 0xffffffff), (2, 10, (1 << 52) - 1, 1000, 6)]:
        kids.append({"epoch_bits": e, "sender_bits": s, "context": u64(ctx), "sender_index": idx, "epoch": u64(epoch), "kid": u64(kid(e, s, ctx, idx, epoch))})
    sizes = []
    for g in [1, 2, 3, 4, 5, 8, 9, 64, 65, 1000, 1 << 16, (1 << 16) + 1, 1 << 31]:
        s = 0
        while g > (1 << s):
            s += 1
        sizes.append({"group_size": g, "sender_bits": s})
    senders = []
    for suite in (4, 1):
        nk = SUITES[suite][3]
        base = bytes((0xa0 + i) % 256 for i in range(nk))  # an exporter output of Nk bytes
        for epoch, idx in [(14, 3), (14, 7), (15, 3)]:
            k = kid(4, 6, 0, idx, epoch)
            sk, ss = derive_key_salt(suite, k, base)
            senders.append({"suite": suite, "suite_name": SUITES[suite][0], "epoch_bits": 4, "sender_bits": 6, "epoch": u64(epoch), "sender_index": idx, "base_key": base.hex(), "kid": u64(k), "sframe_key": sk.hex(), "sframe_salt": ss.hex()})
    return {
        "schema": "secure-frame-vectors/1",
        "source": "secure-frame, from RFC 9605 §5.2 (Figure 9 and more) and §4.4.2 (scripts/gen-key-vectors.py)",
        "kid": kids,
        "sender_bits": sizes,
        "sender_keys": senders,
    }


def ecdh_vectors():
    cases = []
    for suite, i_priv, r_priv in [
        (4, 0x1111111111111111111111111111111111111111111111111111111111111111, 0x2222222222222222222222222222222222222222222222222222222222222222),
        (5, 0x0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef, 0x3),
    ]:
        _, _, nh, _, _ = SUITES[suite]
        i = ec.derive_private_key(i_priv, ec.SECP256R1())
        r = ec.derive_private_key(r_priv, ec.SECP256R1())
        pub = lambda k: k.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
        shared = i.exchange(ec.ECDH(), r.public_key())
        assert shared == r.exchange(ec.ECDH(), i.public_key())
        transcript = b"secure-frame 1.0 P-256 pairwise" + suite.to_bytes(2, "big") + b"\x01" + pub(i) + b"\x02" + pub(r)
        th = hashlib.sha256(transcript).digest()
        prk = hkdf_extract(hashlib.sha256, th, shared)
        i2r = hkdf_expand(hashlib.sha256, prk, b"secure-frame 1.0 initiator to responder", nh)
        r2i = hkdf_expand(hashlib.sha256, prk, b"secure-frame 1.0 responder to initiator", nh)
        code = int.from_bytes(hashlib.sha256(b"secure-frame 1.0 verification code" + th).digest()[:8], "big") % 1000000
        cases.append({
            "suite": suite, "suite_name": SUITES[suite][0],
            "initiator_private": i_priv.to_bytes(32, "big").hex(), "initiator_public": pub(i).hex(),
            "responder_private": r_priv.to_bytes(32, "big").hex(), "responder_public": pub(r).hex(),
            "shared_secret": shared.hex(), "transcript": transcript.hex(), "transcript_hash": th.hex(),
            "initiator_to_responder": i2r.hex(), "responder_to_initiator": r2i.hex(),
            "verification_code": "%06d" % code,
            "initiator_commitment": hashlib.sha256(b"secure-frame 1.0 P-256 commitment" + pub(i)).hexdigest(),
        })
    return {
        "schema": "secure-frame-vectors/1",
        "source": "secure-frame P-256 pairwise agreement, not RFC 9605 (src/agreement/pairwise.rs; scripts/gen-key-vectors.py)",
        "pairwise": cases,
    }


for name, data in [("sender-key-ratchet.json", ratchet_vectors()), ("mls-kid.json", mls_vectors()), ("ecdh-p256.json", ecdh_vectors())]:
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
