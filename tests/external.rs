//! The split seal and open for an external AEAD (`external`): the raw AEAD of `hazmat` plays
//! the external one. Every frame made through the split path equals the one-call path's bytes
//! for the same counter, opens in the one-call path and vice versa, and the receive state rules
//! are the one-call path's: nothing moves before the commit, and a commit is refused for a
//! counter committed meanwhile.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use proptest::prelude::*;
use secure_frame::external::{OpenRequest, aead_key};
use secure_frame::hazmat::RawAead;
use secure_frame::{
    BaseKey, CipherSuite, Counter, DecryptError, Decryptor, EncryptError, Encryptor, KeyId,
    MAX_METADATA_LEN, ReceiveKey,
};

fn suites() -> impl Strategy<Value = CipherSuite> {
    proptest::sample::select(CipherSuite::ALL.to_vec())
}

fn base_key() -> BaseKey {
    BaseKey::new(b"external aead base key").unwrap()
}

/// Seals `plaintext` through the split path with `aead` as the external AEAD.
fn seal_external(
    sender: &mut Encryptor,
    aead: &RawAead,
    metadata: &[u8],
    plaintext: &[u8],
) -> Vec<u8> {
    let request = sender.begin_seal(metadata).unwrap();
    let associated = [request.header(), metadata].concat();
    let mut body = plaintext.to_vec();
    let mut tag = vec![0; request.suite().tag_len()];
    aead.seal(request.nonce(), &associated, &mut body, &mut tag)
        .unwrap();
    [request.header(), &body, &tag].concat()
}

/// Opens `frame` with `aead`, as the external AEAD, for `request`; `None` if its tag fails.
fn open_external(
    request: &OpenRequest,
    aead: &RawAead,
    metadata: &[u8],
    frame: &[u8],
) -> Option<Vec<u8>> {
    let (header, sealed) = request.split(frame);
    let (ciphertext, tag) = sealed.split_at(sealed.len() - request.suite().tag_len());
    let mut plaintext = ciphertext.to_vec();
    aead.open(
        request.nonce(),
        &[header, metadata].concat(),
        &mut plaintext,
        tag,
    )
    .ok()?;
    Some(plaintext)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn split_path_matches_the_one_call_path(
        suite in suites(),
        kid in prop_oneof![0u64..300, any::<u64>()],
        ctr in prop_oneof![0u64..300, any::<u64>().prop_map(|c| c >> 1)],
        metadata in proptest::collection::vec(any::<u8>(), 0..64),
        plaintext in proptest::collection::vec(any::<u8>(), 0..2000),
    ) {
        let kid = KeyId(kid);
        let key = aead_key(suite, kid, &base_key());
        let aead = RawAead::new(suite, key.expose_secret()).unwrap();
        let mut split = Encryptor::new(suite, kid, &base_key());
        let mut one_call = Encryptor::new(suite, kid, &base_key());
        split.advance_counter_to(Counter(ctr)).unwrap();
        one_call.advance_counter_to(Counter(ctr)).unwrap();

        // Same bytes, and the counter reserved.
        let frame = seal_external(&mut split, &aead, &metadata, &plaintext);
        prop_assert_eq!(&frame, &one_call.encrypt_to_vec(&metadata, &plaintext).unwrap());
        prop_assert_eq!(split.next_counter(), one_call.next_counter());

        // The split open gives the plaintext, and the one-call open agrees.
        let mut receiver = Decryptor::new(suite);
        receiver.add_key(kid, &base_key()).unwrap();
        let request = receiver.begin_open(&metadata, &frame).unwrap();
        prop_assert_eq!(request.key_id(), kid);
        prop_assert_eq!(request.counter(), Counter(ctr));
        let opened = open_external(&request, &aead, &metadata, &frame).unwrap();
        prop_assert_eq!(&opened, &plaintext);
        receiver.commit_open(request).unwrap();
        // Committed: the same frame is a replay in both paths.
        prop_assert_eq!(receiver.begin_open(&metadata, &frame).err(), Some(DecryptError::Replay));
        prop_assert_eq!(
            receiver.decrypt_to_vec(&metadata, &frame).err(),
            Some(DecryptError::Replay)
        );

        // A frame from the one-call path opens through the split path.
        let next = one_call.encrypt_to_vec(&metadata, &plaintext).unwrap();
        let request = receiver.begin_open(&metadata, &next).unwrap();
        prop_assert_eq!(open_external(&request, &aead, &metadata, &next), Some(plaintext.clone()));
        receiver.commit_open(request).unwrap();

        // A flipped bit fails the external AEAD; nothing was committed, so the genuine frame
        // with that counter still opens.
        split.advance_counter_to(one_call.next_counter().unwrap()).unwrap();
        let genuine = seal_external(&mut split, &aead, &metadata, &plaintext);
        let bit = usize::try_from(ctr % 8).unwrap();
        let at = genuine.len() - 1 - (plaintext.len() % genuine.len());
        let mut forged = genuine.clone();
        forged[at] ^= 1 << bit;
        if let Ok(request) = receiver.begin_open(&metadata, &forged) {
            prop_assert_eq!(open_external(&request, &aead, &metadata, &forged), None);
        }
        let mut buf = genuine.clone();
        prop_assert_eq!(&*receiver.decrypt_in_place(&metadata, &mut buf).unwrap(), &plaintext[..]);
    }
}

#[test]
fn begin_open_refuses_what_decrypt_refuses_and_changes_nothing() {
    let suite = CipherSuite::AesGcm128Sha256;
    let kid = KeyId(5);
    let mut sender = Encryptor::new(suite, kid, &base_key());
    let frame = sender.encrypt_to_vec(b"", b"frame").unwrap();
    let mut receiver = Decryptor::new(suite);
    receiver.add_key(kid, &base_key()).unwrap();

    let cases: [(&str, Vec<u8>, Vec<u8>); 5] = [
        ("empty", Vec::new(), Vec::new()),
        ("header only", frame[..1].to_vec(), Vec::new()),
        (
            "tag cut short",
            frame[..frame.len() - 1 - 5].to_vec(),
            Vec::new(),
        ),
        (
            "unknown KID",
            Encryptor::new(suite, KeyId(6), &base_key())
                .encrypt_to_vec(b"", b"x")
                .unwrap(),
            Vec::new(),
        ),
        (
            "metadata too long",
            frame.clone(),
            vec![0; MAX_METADATA_LEN + 1],
        ),
    ];
    for (name, bytes, metadata) in cases {
        let split = receiver.begin_open(&metadata, &bytes).err();
        let one_call = receiver.decrypt_to_vec(&metadata, &bytes).err();
        assert!(split.is_some(), "{name}");
        assert_eq!(split, one_call, "{name}");
    }
    // Nothing moved: the genuine frame opens.
    let request = receiver.begin_open(b"", &frame).unwrap();
    let again = receiver.begin_open(b"", &frame).unwrap();
    receiver.commit_open(request).unwrap();
    // Two requests for one counter: the second commit is a replay.
    assert_eq!(receiver.commit_open(again), Err(DecryptError::Replay));
}

#[test]
fn a_removed_key_or_another_kid_is_not_committed() {
    let suite = CipherSuite::AesCtr128HmacSha256_80;
    let mut sender = Encryptor::new(suite, KeyId(1), &base_key());
    let frame = sender.encrypt_to_vec(b"", b"frame").unwrap();
    let mut store = Decryptor::new(suite);
    store.add_key(KeyId(1), &base_key()).unwrap();
    let request = store.begin_open(b"", &frame).unwrap();
    store.remove_key(KeyId(1));
    assert_eq!(
        store.commit_open(request),
        Err(DecryptError::UnknownKeyId(KeyId(1)))
    );

    let single = ReceiveKey::new(suite, KeyId(1), &base_key());
    let request = single.begin_open(b"", &frame).unwrap();
    let mut other = ReceiveKey::new(suite, KeyId(2), &base_key());
    assert_eq!(
        other.commit_open(request),
        Err(DecryptError::UnknownKeyId(KeyId(1)))
    );
    assert_eq!(
        single.begin_open(b"", &frame).map(|r| r.counter()),
        Ok(Counter(0)),
        "the failed commit moved nothing"
    );
}

#[test]
fn reserved_counters_are_used_up_and_never_reused() {
    let suite = CipherSuite::AesGcm256Sha512;
    let mut sender = Encryptor::new(suite, KeyId(9), &base_key());
    let first = sender.begin_seal(b"").unwrap();
    // Abandoned: the next frame gets the next counter, never this one again.
    let second = sender.begin_seal(b"").unwrap();
    assert_eq!(
        (first.counter(), second.counter()),
        (Counter(0), Counter(1))
    );
    assert_ne!(first.nonce(), second.nonce());
    assert_eq!(
        sender.encrypt_to_vec(b"", b"x").map(|f| f[0]),
        Ok(0x82),
        "KID 9 takes one byte after the config byte; CTR 2 sits in it"
    );
    assert_eq!(
        sender.begin_seal(&[0; MAX_METADATA_LEN + 1]).err(),
        Some(EncryptError::MetadataTooLong)
    );
    sender.advance_counter_to(Counter(u64::MAX)).unwrap();
    assert_eq!(sender.begin_seal(b"").unwrap().counter(), Counter(u64::MAX));
    assert_eq!(
        sender.begin_seal(b"").err(),
        Some(EncryptError::CounterExhausted)
    );
}

#[test]
fn the_aead_key_is_the_key_schedules() {
    for &suite in CipherSuite::ALL {
        let (_, key, _) = secure_frame::hazmat::derive_key_salt(suite, KeyId(77), &base_key());
        assert_eq!(
            aead_key(suite, KeyId(77), &base_key()).expose_secret(),
            key.expose_secret()
        );
        assert_eq!(key.expose_secret().len(), suite.key_len());
    }
}
