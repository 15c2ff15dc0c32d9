//! Feature `fips`: the module is in FIPS mode, and frames of every suite go through it. The RFC
//! 9605 vectors (tests/vectors.rs) and every other test also run in the `fips` build
//! (`scripts/test`), so the key schedule, the ratchet and each AEAD are checked byte for byte
//! against the RFC with AWS-LC doing the work.

#![cfg(feature = "fips")]
#![allow(clippy::unwrap_used, reason = "test code")]

use secure_frame::{BaseKey, CipherSuite, DecryptError, Encryptor, KeyId, ReceiveKey};

#[test]
fn the_module_is_in_fips_mode() {
    assert_eq!(secure_frame::fips_mode(), Ok(()));
}

#[test]
fn random_base_keys_come_from_the_module() {
    for suite in CipherSuite::ALL.iter().copied() {
        let a = BaseKey::random(suite);
        let b = BaseKey::random(suite);
        assert_eq!(a.len(), suite.hash_len());
        assert_ne!(a.expose_secret(), b.expose_secret());
    }
}

#[test]
fn every_suite_seals_and_opens_through_the_module() {
    for suite in CipherSuite::ALL.iter().copied() {
        let key = BaseKey::new(b"fips base key").unwrap();
        let mut sender = Encryptor::new(suite, KeyId(7), &key);
        let mut receiver = ReceiveKey::new(suite, KeyId(7), &key);
        for size in [0, 1, 160, 1200, 16 * 1024] {
            let plaintext: Vec<u8> = (0..size)
                .map(|i: usize| u8::try_from(i % 251).unwrap())
                .collect();
            let mut frame = sender.encrypt_to_vec(b"meta", &plaintext).unwrap();
            let mut tampered = frame.clone();
            let last = tampered.len() - 1;
            tampered[last] ^= 0x80;
            assert_eq!(
                receiver
                    .decrypt_in_place(b"meta", &mut tampered)
                    .map(|_| ()),
                Err(DecryptError::Authentication),
                "{suite:?}, {size} B"
            );
            let opened = receiver.decrypt_in_place(b"meta", &mut frame).unwrap();
            assert_eq!(&*opened, plaintext.as_slice(), "{suite:?}, {size} B");
        }
    }
}
