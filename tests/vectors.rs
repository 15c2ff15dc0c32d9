//! RFC 9605 Appendix C, every vector and every intermediate value, in both directions; and the
//! draft-barnes-sframe-iana-256 vectors for suites 6-8.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    clippy::similar_names,
    reason = "test code"
)]

use secure_frame::BaseKey;
use secure_frame::hazmat::{self, RawAead};
use secure_frame::{
    CipherSuite, Counter, DecryptError, Encryptor, Header, HeaderError, KeyId, ReceiveKey,
};
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/test-vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn hex(v: &Value, field: &str) -> Vec<u8> {
    hex::decode(
        v[field]
            .as_str()
            .unwrap_or_else(|| panic!("missing {field}")),
    )
    .unwrap()
}

/// Our schema writes u64 as "0x…" strings, so JavaScript readers never lose precision.
fn u64_of(v: &Value, field: &str) -> u64 {
    let s = v[field].as_str().unwrap();
    u64::from_str_radix(s.strip_prefix("0x").unwrap(), 16).unwrap()
}

fn suite_of(v: &Value) -> CipherSuite {
    let suite = CipherSuite::from_id(u16::try_from(v["suite"].as_u64().unwrap()).unwrap()).unwrap();
    assert_eq!(suite.name(), v["suite_name"].as_str().unwrap());
    suite
}

#[test]
fn header_vectors_both_ways() {
    let vectors = load("rfc9605.json");
    let headers = vectors["header"].as_array().unwrap();
    assert_eq!(headers.len(), 289);
    for v in headers {
        let (kid, ctr, encoded) = (u64_of(v, "kid"), u64_of(v, "ctr"), hex(v, "encoded"));
        let header = Header::new(KeyId(kid), Counter(ctr));
        assert_eq!(
            header.encode().as_bytes(),
            encoded,
            "encode({kid:#x}, {ctr:#x})"
        );
        assert_eq!(header.encoded_len(), encoded.len());

        let mut with_payload = encoded.clone();
        with_payload.extend_from_slice(b"payload");
        assert_eq!(Header::decode(&with_payload), Ok((header, encoded.len())));
        for cut in 0..encoded.len() {
            assert_eq!(
                Header::decode(&encoded[..cut]),
                Err(HeaderError::Truncated),
                "{encoded:02x?} cut at {cut}"
            );
        }
    }
}

fn flip_each_bit(bytes: &[u8], mut check: impl FnMut(&[u8])) {
    for i in 0..bytes.len() * 8 {
        let mut flipped = bytes.to_vec();
        flipped[i / 8] ^= 1 << (i % 8);
        check(&flipped);
    }
}

fn check_aead_vector(v: &Value, suite: CipherSuite) {
    let (key, nonce, aad, pt, ct) = (
        hex(v, "key"),
        hex(v, "nonce"),
        hex(v, "aad"),
        hex(v, "pt"),
        hex(v, "ct"),
    );
    let nonce: [u8; 12] = nonce.try_into().unwrap();
    // derive_subkeys: enc_key = key[..Nka], auth_key = key[Nka..]
    let nka = suite.enc_key_len().unwrap();
    assert_eq!(key[..nka], hex(v, "enc_key"));
    assert_eq!(key[nka..], hex(v, "auth_key"));
    assert_eq!(ct.len(), pt.len() + suite.tag_len());

    let aead = RawAead::new(suite, &key).unwrap();
    let mut buf = pt.clone();
    let mut tag = vec![0; suite.tag_len()];
    aead.seal(&nonce, &aad, &mut buf, &mut tag).unwrap();
    assert_eq!([buf.clone(), tag.clone()].concat(), ct, "{suite} encrypt");

    let (body, tag) = ct.split_at(pt.len());
    let mut buf = body.to_vec();
    aead.open(&nonce, &aad, &mut buf, tag).unwrap();
    assert_eq!(buf, pt, "{suite} decrypt");

    // Any flipped bit of ciphertext, tag, AAD or nonce is refused.
    flip_each_bit(&ct, |bad| {
        let (body, tag) = bad.split_at(pt.len());
        let mut buf = body.to_vec();
        assert_eq!(
            aead.open(&nonce, &aad, &mut buf, tag),
            Err(DecryptError::Authentication)
        );
        assert!(buf.iter().all(|&b| b == 0), "no plaintext after failure");
    });
    flip_each_bit(&aad, |bad| {
        let mut buf = body.to_vec();
        assert!(aead.open(&nonce, bad, &mut buf, tag).is_err());
    });
    flip_each_bit(&nonce, |bad| {
        let mut buf = body.to_vec();
        assert!(
            aead.open(bad.try_into().unwrap(), &aad, &mut buf, tag)
                .is_err()
        );
    });
}

#[test]
fn aes_ctr_hmac_vectors() {
    let vectors = load("rfc9605.json");
    let aead = vectors["aead"].as_array().unwrap();
    assert_eq!(aead.len(), 3);
    for v in aead {
        check_aead_vector(v, suite_of(v));
    }
}

fn check_sframe_vector(v: &Value) {
    let suite = suite_of(v);
    let (kid, ctr) = (KeyId(u64_of(v, "kid")), u64_of(v, "ctr"));
    let base_key = hex(v, "base_key");
    let (metadata, pt, ct) = (hex(v, "metadata"), hex(v, "pt"), hex(v, "ct"));

    // Key schedule (§4.4.2), every intermediate.
    assert_eq!(
        hazmat::key_label(kid, suite).as_slice(),
        hex(v, "sframe_key_label")
    );
    assert_eq!(
        hazmat::salt_label(kid, suite).as_slice(),
        hex(v, "sframe_salt_label")
    );
    let (secret, key, salt) =
        hazmat::derive_key_salt(suite, kid, &BaseKey::new(&base_key).unwrap());
    assert_eq!(
        secret.expose_secret(),
        hex(v, "sframe_secret"),
        "{suite} sframe_secret"
    );
    assert_eq!(
        key.expose_secret(),
        hex(v, "sframe_key"),
        "{suite} sframe_key"
    );
    assert_eq!(
        salt.expose_secret().as_slice(),
        hex(v, "sframe_salt"),
        "{suite} sframe_salt"
    );

    // Nonce and AAD (§4.4.3).
    let nonce = salt.nonce(ctr);
    assert_eq!(nonce.as_slice(), hex(v, "nonce"), "{suite} nonce");
    let header = Header::new(kid, Counter(ctr)).encode();
    assert_eq!(
        [header.as_bytes(), &metadata].concat(),
        hex(v, "aad"),
        "{suite} aad"
    );

    // Encrypt gives the ciphertext, through every entry point.
    let encryptor_at_ctr = || {
        let mut e = Encryptor::new(suite, kid, &BaseKey::new(&base_key).unwrap());
        e.advance_counter_to(Counter(ctr)).unwrap();
        e
    };
    let mut e = encryptor_at_ctr();
    assert_eq!(e.ciphertext_len(pt.len()), ct.len());
    assert_eq!(
        e.encrypt_to_vec(&metadata, &pt).unwrap(),
        ct,
        "{suite} encrypt"
    );
    assert_eq!(e.next_counter(), Some(Counter(ctr + 1)));

    let mut out = vec![0xee; ct.len() + 5];
    assert_eq!(
        encryptor_at_ctr()
            .encrypt(&metadata, &pt, &mut out)
            .unwrap(),
        ct
    );

    let mut room = vec![0xee; Encryptor::HEADER_ROOM];
    room.extend_from_slice(&pt);
    room.extend(std::iter::repeat_n(0xee, suite.tag_len()));
    assert_eq!(
        encryptor_at_ctr()
            .encrypt_in_room(&metadata, &mut room)
            .unwrap(),
        ct
    );

    let mut in_place = pt.clone();
    encryptor_at_ctr()
        .encrypt_in_place(&metadata, &mut in_place)
        .unwrap();
    assert_eq!(in_place, ct);

    // Decrypt of the ciphertext gives the plaintext.
    let receiver = || ReceiveKey::new(suite, kid, &BaseKey::new(&base_key).unwrap());
    let mut frame = ct.clone();
    assert_eq!(
        receiver().decrypt_in_place(&metadata, &mut frame).unwrap(),
        pt
    );
    let mut out = vec![0; ct.len()];
    assert_eq!(receiver().decrypt(&metadata, &ct, &mut out).unwrap(), pt);

    // One flipped bit anywhere in the frame or the metadata fails.
    flip_each_bit(&ct, |bad| {
        let mut frame = bad.to_vec();
        assert!(
            receiver().decrypt_in_place(&metadata, &mut frame).is_err(),
            "{suite} {bad:02x?}"
        );
    });
    flip_each_bit(&metadata, |bad| {
        let mut frame = ct.clone();
        assert_eq!(
            receiver().decrypt_in_place(bad, &mut frame),
            Err(DecryptError::Authentication)
        );
    });
}

#[test]
fn sframe_vectors() {
    let vectors = load("rfc9605.json");
    let sframe = vectors["sframe"].as_array().unwrap();
    assert_eq!(sframe.len(), 5);
    let suites: Vec<u16> = sframe.iter().map(|v| suite_of(v).id()).collect();
    assert_eq!(suites, [1, 2, 3, 4, 5]);
    for v in sframe {
        check_sframe_vector(v);
    }
}

#[test]
fn draft_aes_256_ctr_hmac_vectors() {
    let vectors = load("draft-barnes-sframe-iana-256.json");
    let sframe = vectors["sframe"].as_array().unwrap();
    assert_eq!(sframe.len(), 3);
    for v in sframe {
        check_sframe_vector(v);
    }
}

/// The official RFC 9605 vector file, committed byte for byte: RFC 9605 cites it as
/// `[TestVectors]` (sframe-wg/sframe, `test-vectors/test-vectors.json`, commit `025d568`), and
/// this is its published SHA-256.
const OFFICIAL_SHA256: &str = "b8d35efd41749567427cb9ae52d9a7362904154978ff6a5fb20c0258a8ffdec1";

/// Our transcription in `test-vectors/rfc9605.json` says exactly what the official file says.
#[test]
fn transcription_matches_official_json() {
    use sha2::Digest;
    let official = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/test-vectors/official/rfc9605-test-vectors.json"
    );
    let text = std::fs::read_to_string(official).unwrap();
    assert_eq!(
        hex::encode(sha2::Sha256::digest(text.as_bytes())),
        OFFICIAL_SHA256
    );
    // Where the project's shared copy sits beside the repository, it is the same file.
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/test-vectors/rfc9605.json"
    );
    if let Ok(shared) = std::fs::read_to_string(shared) {
        assert_eq!(
            shared, text,
            "the shared copy differs from the committed one"
        );
    }
    let official: Value = serde_json::from_str(&text).unwrap();
    let ours = load("rfc9605.json");
    let hexu = |v: &Value| format!("{:#x}", v.as_u64().unwrap());

    let (o, m) = (
        official["header"].as_array().unwrap(),
        ours["header"].as_array().unwrap(),
    );
    assert_eq!(o.len(), m.len());
    for (o, m) in o.iter().zip(m) {
        assert_eq!(hexu(&o["kid"]), m["kid"].as_str().unwrap());
        assert_eq!(hexu(&o["ctr"]), m["ctr"].as_str().unwrap());
        assert_eq!(o["encoded"], m["encoded"]);
    }
    let (o, m) = (
        official["aes_ctr_hmac"].as_array().unwrap(),
        ours["aead"].as_array().unwrap(),
    );
    assert_eq!(o.len(), m.len());
    for (o, m) in o.iter().zip(m) {
        assert_eq!(o["cipher_suite"], m["suite"]);
        for f in ["key", "enc_key", "auth_key", "nonce", "aad", "pt", "ct"] {
            assert_eq!(o[f], m[f], "{f}");
        }
    }
    let (o, m) = (
        official["sframe"].as_array().unwrap(),
        ours["sframe"].as_array().unwrap(),
    );
    assert_eq!(o.len(), m.len());
    for (o, m) in o.iter().zip(m) {
        assert_eq!(o["cipher_suite"], m["suite"]);
        assert_eq!(hexu(&o["kid"]), m["kid"].as_str().unwrap());
        assert_eq!(hexu(&o["ctr"]), m["ctr"].as_str().unwrap());
        for f in [
            "base_key",
            "sframe_key_label",
            "sframe_salt_label",
            "sframe_secret",
            "sframe_key",
            "sframe_salt",
            "metadata",
            "nonce",
            "aad",
            "pt",
            "ct",
        ] {
            assert_eq!(o[f], m[f], "{f}");
        }
    }
}
