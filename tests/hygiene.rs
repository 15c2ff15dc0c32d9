//! Hygiene: secrets never print, the types that cross threads are `Send + Sync`, nothing
//! nonce-like is `Clone`, and failed decrypts leave exactly what the contract says.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

use secure_frame::hazmat::{self, RawAead};
use secure_frame::{
    BaseKey, CipherSuite, DecryptError, Decryptor, Encryptor, KeyId, ReceiveKey, ReplayWindow,
    SframeKey, SframeSalt, SframeSecret,
};

fn assert_zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}

const KEY: &[u8] = &[0xa5; 16];

#[test]
fn debug_prints_no_key_material() {
    let suite = CipherSuite::AesCtr128HmacSha256_80;
    let (secret, key, salt) = hazmat::derive_key_salt(suite, KeyId(3), &BaseKey::new(KEY).unwrap());
    assert_eq!(
        format!("{:?}", BaseKey::new(KEY).unwrap()),
        "BaseKey { len: 16, .. }"
    );
    assert_eq!(format!("{secret:?}"), "SframeSecret { len: 32, .. }");
    assert_eq!(format!("{key:?}"), "SframeKey { len: 48, .. }");
    assert_eq!(format!("{salt:?}"), "SframeSalt { .. }");
    assert_eq!(
        format!("{:?}", RawAead::new(suite, key.expose_secret()).unwrap()),
        "RawAead { .. }"
    );

    let sender = Encryptor::new(suite, KeyId(3), &BaseKey::new(KEY).unwrap());
    assert_eq!(
        format!("{sender:?}"),
        "Encryptor { suite: AesCtr128HmacSha256_80, kid: KeyId(3), next_counter: Some(0), .. }"
    );
    let receiver = ReceiveKey::new(suite, KeyId(3), &BaseKey::new(KEY).unwrap());
    assert_eq!(
        format!("{receiver:?}"),
        "ReceiveKey { suite: AesCtr128HmacSha256_80, kid: KeyId(3), \
         replay: ReplayWindow { width: 128, highest: None, .. }, .. }"
    );
    let mut store = Decryptor::new(suite);
    store
        .add_key(KeyId(3), &BaseKey::new(KEY).unwrap())
        .unwrap();
    assert_eq!(
        format!("{store:?}"),
        "Decryptor { suite: AesCtr128HmacSha256_80, keys: 1, .. }"
    );

    // Belt and braces: no derived secret's bytes appear in any of those.
    let printed = format!("{sender:?}{receiver:?}{store:?}{secret:?}{key:?}{salt:?}");
    for secret_bytes in [
        key.expose_secret(),
        salt.expose_secret(),
        secret.expose_secret(),
    ] {
        let hex = hex::encode(secret_bytes);
        assert!(!printed.contains(&hex[..8]));
    }
}

#[test]
fn secrets_zeroize_on_drop() {
    assert_zeroize_on_drop::<BaseKey>();
    assert_zeroize_on_drop::<SframeKey>();
    assert_zeroize_on_drop::<SframeSalt>();
    assert_zeroize_on_drop::<SframeSecret>();
}

#[test]
fn thread_safety() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<Encryptor>();
    send_sync::<ReceiveKey>();
    send_sync::<Decryptor>();
    send_sync::<BaseKey>();
    send_sync::<DecryptError>();
    send_sync::<secure_frame::EncryptError>();
    // An encryptor moves to the thread that sends; a decryptor to the one that receives.
    let mut sender = Encryptor::new(
        CipherSuite::AesGcm128Sha256,
        KeyId(1),
        &BaseKey::new(KEY).unwrap(),
    );
    let frame = std::thread::spawn(move || sender.encrypt_to_vec(b"", b"frame").unwrap())
        .join()
        .unwrap();
    let mut store = Decryptor::new(CipherSuite::AesGcm128Sha256);
    store
        .add_key(KeyId(1), &BaseKey::new(KEY).unwrap())
        .unwrap();
    let plaintext = std::thread::spawn(move || store.decrypt_to_vec(b"", &frame).unwrap())
        .join()
        .unwrap();
    assert_eq!(plaintext, b"frame");
}

/// The failure contract of `decrypt_in_place`, for every suite and every single-bit flip.
#[test]
fn failed_decrypt_leaves_what_the_contract_says() {
    for &suite in CipherSuite::ALL {
        let kid = KeyId(0x42);
        let mut sender = Encryptor::new(suite, kid, &BaseKey::new(KEY).unwrap());
        let frame = sender.encrypt_to_vec(b"meta", b"some frame bytes").unwrap();
        for bit in 0..frame.len() * 8 {
            let mut receiver = ReceiveKey::new(suite, kid, &BaseKey::new(KEY).unwrap());
            let before = *receiver.replay_window();
            let mut bad = frame.clone();
            bad[bit / 8] ^= 1 << (bit % 8);
            let original = bad.clone();
            let err = receiver.decrypt_in_place(b"meta", &mut bad).unwrap_err();
            assert_eq!(*receiver.replay_window(), before, "state moved");
            if err == DecryptError::Authentication {
                // a flipped config bit can change where the header ends: read it from the frame
                let header_len = secure_frame::FrameView::parse(&original)
                    .unwrap()
                    .header_bytes()
                    .len();
                let ct_end = bad.len() - suite.tag_len();
                assert_eq!(bad[..header_len], original[..header_len], "header kept");
                assert_eq!(bad[ct_end..], original[ct_end..], "tag kept");
                assert!(
                    bad[header_len..ct_end].iter().all(|&b| b == 0),
                    "no plaintext"
                );
            } else {
                assert_eq!(
                    bad, original,
                    "{suite}: {err:?} must leave the frame unchanged"
                );
            }
        }
    }
}

#[test]
fn replay_window_is_per_key_and_can_be_disabled() {
    let suite = CipherSuite::AesGcm256Sha512;
    let mut sender = Encryptor::new(suite, KeyId(9), &BaseKey::new(KEY).unwrap());
    let frame = sender.encrypt_to_vec(b"", b"x").unwrap();
    let mut open = ReceiveKey::new(suite, KeyId(9), &BaseKey::new(KEY).unwrap())
        .with_replay_window(ReplayWindow::disabled());
    for _ in 0..3 {
        let mut copy = frame.clone();
        assert_eq!(open.decrypt_in_place(b"", &mut copy).unwrap(), b"x");
    }
}
