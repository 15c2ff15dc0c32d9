//! Our own key-management vectors (test-vectors/sender-key-ratchet.json, mls-kid.json,
//! ecdh-p256.json): each value is first recomputed here from the formulas with RustCrypto's
//! hkdf/sha2 (and p256 for ECDH) directly, then the library is checked against it.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::similar_names,
    reason = "test code"
)]

use hkdf::Hkdf;
use secure_frame::hazmat;
use secure_frame::mls::{MlsKeyId, MlsKidLayout};
use secure_frame::{
    BaseKey, CipherSuite, KeyId, RatchetBits, RatchetReceiver, RatchetSender, SenderKeyId,
};
use serde_json::Value;
use sha2::{Sha256, Sha512};

fn load(name: &str) -> Value {
    let path = format!("{}/test-vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn hex(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(
        v[field]
            .as_str()
            .unwrap_or_else(|| panic!("missing {field}")),
    )
    .unwrap()
}

fn u64_of(v: &Value, field: &str) -> u64 {
    let s = v[field].as_str().unwrap();
    u64::from_str_radix(s.strip_prefix("0x").unwrap(), 16).unwrap()
}

fn small(v: &Value, field: &str) -> u64 {
    v[field].as_u64().unwrap()
}

fn suite_of(v: &Value) -> CipherSuite {
    let suite = CipherSuite::from_id(u16::try_from(small(v, "suite")).unwrap()).unwrap();
    assert_eq!(suite.name(), v["suite_name"].as_str().unwrap());
    suite
}

/// `HKDF-Expand(HKDF-Extract("", ikm), info, len)` with the suite's hash.
fn hkdf(suite: CipherSuite, ikm: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let mut out = vec![0; len];
    if suite.hash_len() == 64 {
        Hkdf::<Sha512>::new(None, ikm)
            .expand(info, &mut out)
            .unwrap();
    } else {
        Hkdf::<Sha256>::new(None, ikm)
            .expand(info, &mut out)
            .unwrap();
    }
    out
}

/// RFC 9605 §4.4.2, written out again.
fn key_salt(suite: CipherSuite, kid: u64, base_key: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let suffix = [&kid.to_be_bytes()[..], &suite.id().to_be_bytes()].concat();
    (
        hkdf(
            suite,
            base_key,
            &[b"SFrame 1.0 Secret key ", &suffix[..]].concat(),
            suite.key_len(),
        ),
        hkdf(
            suite,
            base_key,
            &[b"SFrame 1.0 Secret salt ", &suffix[..]].concat(),
            12,
        ),
    )
}

#[test]
fn sender_key_ratchet_vectors() {
    let vectors = load("sender-key-ratchet.json");
    let cases = vectors["ratchet"].as_array().unwrap();
    assert_eq!(cases.len(), 5);
    for case in cases {
        let suite = suite_of(case);
        let bits = RatchetBits::new(u8::try_from(small(case, "ratchet_bits")).unwrap()).unwrap();
        let r = small(case, "ratchet_bits");
        let generation = u64_of(case, "generation");
        let steps = case["steps"].as_array().unwrap();

        // Independent recomputation of the whole chain.
        let mut key = hex(&steps[0], "base_key");
        for (i, step) in steps.iter().enumerate() {
            let i = u64::try_from(i).unwrap();
            assert_eq!(small(step, "step"), i);
            assert_eq!(hex(step, "base_key"), key, "{suite} step {i} base key");
            let kid = (generation << r) + (i % (1 << r));
            assert_eq!(u64_of(step, "kid"), kid);
            let (k, s) = key_salt(suite, kid, &key);
            assert_eq!(hex(step, "sframe_key"), k);
            assert_eq!(hex(step, "sframe_salt"), s);
            // §5.1: label exactly "SFrame 1.0 Ratchet", output Nh bytes.
            key = hkdf(suite, &key, b"SFrame 1.0 Ratchet", suite.hash_len());
        }

        // The library: the sender walks the same chain and encrypts the same frames.
        let first = BaseKey::new(&hex(&steps[0], "base_key")).unwrap();
        let mut sender = RatchetSender::new(suite, bits, generation, first).unwrap();
        for (i, step) in steps.iter().enumerate() {
            if i > 0 {
                assert_eq!(sender.ratchet().unwrap().0, u64_of(step, "kid"));
            }
            assert_eq!(sender.key_id(), KeyId(u64_of(step, "kid")));
            assert_eq!(sender.base_key().expose_secret(), hex(step, "base_key"));
            let (_, key, salt) = hazmat::derive_key_salt(suite, sender.key_id(), sender.base_key());
            assert_eq!(key.expose_secret(), hex(step, "sframe_key"));
            assert_eq!(salt.expose_secret().as_slice(), hex(step, "sframe_salt"));
            if step.get("ct").is_some() {
                let ct = sender
                    .encryptor()
                    .encrypt_to_vec(&hex(step, "metadata"), &hex(step, "pt"))
                    .unwrap();
                assert_eq!(ct, hex(step, "ct"), "{suite} step {i} ciphertext");
            }
        }

        // A receiver that joined at step 0 follows every step (one at a time).
        let mut receiver = RatchetReceiver::new(
            suite,
            bits,
            SenderKeyId::new(generation, 0),
            BaseKey::new(&hex(&steps[0], "base_key")).unwrap(),
        )
        .unwrap()
        .with_limits(1, 0)
        .unwrap();
        for step in steps.iter().filter(|s| s.get("ct").is_some()) {
            let mut frame = hex(step, "ct");
            let plaintext = receiver
                .decrypt_in_place(&hex(step, "metadata"), &mut frame)
                .unwrap();
            assert_eq!(plaintext, hex(step, "pt"));
        }
    }
}

#[test]
fn mls_kid_vectors() {
    let vectors = load("mls-kid.json");
    for v in vectors["kid"].as_array().unwrap() {
        let (e, s) = (small(v, "epoch_bits"), small(v, "sender_bits"));
        let (context, index, epoch) = (
            u64_of(v, "context"),
            small(v, "sender_index"),
            u64_of(v, "epoch"),
        );
        // RFC 9605 §5.2, in u128 so nothing can overflow here.
        let expected = (u128::from(context) << (s + e))
            + (u128::from(index) << e)
            + u128::from(epoch % (1 << e));
        assert_eq!(u128::from(u64_of(v, "kid")), expected);

        let layout = MlsKidLayout::new(u8::try_from(e).unwrap(), u8::try_from(s).unwrap()).unwrap();
        let id = MlsKeyId {
            context,
            sender_index: u32::try_from(index).unwrap(),
            epoch,
        };
        let kid = id.to_key_id(layout).unwrap();
        assert_eq!(kid.0, u64_of(v, "kid"));
        let back = MlsKeyId::from_key_id(kid, layout);
        assert_eq!(
            (back.context, back.sender_index),
            (context, id.sender_index)
        );
        assert_eq!(back.epoch, epoch % (1 << e));
    }
    for v in vectors["sender_bits"].as_array().unwrap() {
        let g = u32::try_from(small(v, "group_size")).unwrap();
        let s = small(v, "sender_bits");
        assert!(u64::from(g) <= 1 << s && (s == 0 || u64::from(g) > 1 << (s - 1)));
        assert_eq!(u64::from(MlsKidLayout::sender_bits_for(g).unwrap()), s);
    }
    for v in vectors["sender_keys"].as_array().unwrap() {
        let suite = suite_of(v);
        let base_key = hex(v, "base_key");
        assert_eq!(
            base_key.len(),
            suite.key_len(),
            "the exporter gives Nk bytes"
        );
        let layout = MlsKidLayout::new(4, 6).unwrap();
        let kid = MlsKeyId {
            context: 0,
            sender_index: u32::try_from(small(v, "sender_index")).unwrap(),
            epoch: u64_of(v, "epoch"),
        }
        .to_key_id(layout)
        .unwrap();
        assert_eq!(kid.0, u64_of(v, "kid"));
        let (k, s) = key_salt(suite, kid.0, &base_key);
        assert_eq!(hex(v, "sframe_key"), k);
        assert_eq!(hex(v, "sframe_salt"), s);
        let (_, key, salt) = hazmat::derive_key_salt(suite, kid, &BaseKey::new(&base_key).unwrap());
        assert_eq!(key.expose_secret(), k);
        assert_eq!(salt.expose_secret().as_slice(), s);
    }
}

#[cfg(feature = "agreement")]
#[test]
fn ecdh_pairwise_vectors() {
    use p256::elliptic_curve::sec1::ToSec1Point;
    use secure_frame::agreement::{KeyPair, PublicKey, Role, agree};
    use sha2::Digest;

    let vectors = load("ecdh-p256.json");
    let cases = vectors["pairwise"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for v in cases {
        let suite = suite_of(v);
        let i_priv: [u8; 32] = hex(v, "initiator_private").try_into().unwrap();
        let r_priv: [u8; 32] = hex(v, "responder_private").try_into().unwrap();

        // Independent: p256 ECDH, SHA-256, HKDF-SHA256.
        let i_sk = p256::SecretKey::from_slice(&i_priv).unwrap();
        let r_sk = p256::SecretKey::from_slice(&r_priv).unwrap();
        let encode = |sk: &p256::SecretKey| {
            sk.public_key()
                .as_affine()
                .to_sec1_point(false)
                .as_bytes()
                .to_vec()
        };
        assert_eq!(encode(&i_sk), hex(v, "initiator_public"));
        assert_eq!(encode(&r_sk), hex(v, "responder_public"));
        let shared =
            p256::ecdh::diffie_hellman(i_sk.to_nonzero_scalar(), r_sk.public_key().as_affine());
        assert_eq!(
            shared.raw_secret_bytes().as_slice(),
            hex(v, "shared_secret")
        );
        let transcript = [
            &b"secure-frame 1.0 P-256 pairwise"[..],
            &suite.id().to_be_bytes(),
            &[1],
            &encode(&i_sk),
            &[2],
            &encode(&r_sk),
        ]
        .concat();
        assert_eq!(transcript, hex(v, "transcript"));
        let th = Sha256::digest(&transcript);
        assert_eq!(th.as_slice(), hex(v, "transcript_hash"));
        let prk = Hkdf::<Sha256>::new(Some(&th), shared.raw_secret_bytes());
        let mut i2r = vec![0; suite.hash_len()];
        prk.expand(b"secure-frame 1.0 initiator to responder", &mut i2r)
            .unwrap();
        let mut r2i = vec![0; suite.hash_len()];
        prk.expand(b"secure-frame 1.0 responder to initiator", &mut r2i)
            .unwrap();
        assert_eq!(i2r, hex(v, "initiator_to_responder"));
        assert_eq!(r2i, hex(v, "responder_to_initiator"));
        let code_hash = Sha256::new()
            .chain_update(b"secure-frame 1.0 verification code")
            .chain_update(th)
            .finalize();
        let code = u64::from_be_bytes(code_hash[..8].try_into().unwrap()) % 1_000_000;
        assert_eq!(
            format!("{code:06}"),
            v["verification_code"].as_str().unwrap()
        );

        // The library, from both sides.
        let initiator = KeyPair::from_secret_bytes(&i_priv).unwrap();
        let responder = KeyPair::from_secret_bytes(&r_priv).unwrap();
        assert_eq!(
            initiator.public_key().as_bytes().as_slice(),
            hex(v, "initiator_public")
        );
        assert_eq!(
            initiator.public_key().commitment().as_slice(),
            hex(v, "initiator_commitment")
        );
        let a = agree(&initiator, Role::Initiator, responder.public_key(), suite).unwrap();
        let b = agree(&responder, Role::Responder, initiator.public_key(), suite).unwrap();
        assert_eq!(a.send().expose_secret(), i2r);
        assert_eq!(a.receive().expose_secret(), r2i);
        assert_eq!(b.send().expose_secret(), r2i);
        assert_eq!(b.receive().expose_secret(), i2r);
        assert_eq!(a.transcript_hash().as_slice(), th.as_slice());
        assert_eq!(b.transcript_hash(), a.transcript_hash());
        assert_eq!(
            a.verification_code().to_string(),
            v["verification_code"].as_str().unwrap()
        );
        assert_eq!(b.verification_code(), a.verification_code());
        let reparsed = PublicKey::from_sec1_bytes(&hex(v, "responder_public")).unwrap();
        assert_eq!(&reparsed, responder.public_key());
    }
}
