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
use secure_frame::mls::{MlsEpochStore, MlsKeyId, MlsKidLayout};
use secure_frame::{
    BaseKey, CipherSuite, Counter, DecryptError, Decryptor, EncryptError, Encryptor, KeyId,
    MAX_METADATA_LEN, RatchetBits, RatchetReceiver, RatchetSender, ReceiveKey, SenderKeyId,
    SframeKey,
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

/// Opens `frame` through `begin`, the external AEAD keyed with `key_for`'s key, and `commit`:
/// the split path of any key store. `Err` for a refused begin or commit, `Ok(None)` for a tag
/// the external AEAD refused (nothing committed).
fn split_open<S, T>(
    store: &mut S,
    frame: &[u8],
    begin: impl Fn(&S, &[u8], &[u8]) -> Result<OpenRequest, DecryptError>,
    key_for: impl Fn(&S, KeyId) -> Option<SframeKey>,
    commit: impl Fn(&mut S, OpenRequest) -> Result<T, DecryptError>,
) -> Result<Option<(T, Vec<u8>)>, DecryptError> {
    let request = begin(store, META, frame)?;
    let key = key_for(store, request.key_id()).unwrap();
    let aead = RawAead::new(request.suite(), key.expose_secret()).unwrap();
    let Some(plaintext) = open_external(&request, &aead, META, frame) else {
        return Ok(None);
    };
    let sender = commit(store, request)?;
    Ok(Some((sender, plaintext)))
}

const META: &[u8] = b"meta";

/// A frame with its last byte (in the tag) flipped.
fn forge(frame: &[u8]) -> Vec<u8> {
    let mut forged = frame.to_vec();
    *forged.last_mut().unwrap() ^= 1;
    forged
}

fn ratchet_open(r: &mut RatchetReceiver, frame: &[u8]) -> Result<Option<Vec<u8>>, DecryptError> {
    split_open(
        r,
        frame,
        RatchetReceiver::begin_open,
        RatchetReceiver::aead_key,
        RatchetReceiver::commit_open,
    )
    .map(|opened| opened.map(|((), plaintext)| plaintext))
}

fn ratchet_state(r: &RatchetReceiver) -> (KeyId, Vec<KeyId>) {
    (r.key_id(), r.retained_key_ids().collect())
}

#[test]
fn ratchet_split_open_matches_the_one_call_path_over_catch_ups() {
    let suite = CipherSuite::AesGcm128Sha256;
    let bits = RatchetBits::new(4).unwrap();
    let mut sender = RatchetSender::new(suite, bits, 3, base_key()).unwrap();
    let start = sender.sender_key_id();
    let mut split = RatchetReceiver::new(suite, bits, start, base_key()).unwrap();
    let mut one_call = RatchetReceiver::new(suite, bits, start, base_key()).unwrap();

    // Steps 0, 1, then a jump of three (a catch-up over skipped steps), one more, and a wrap
    // of the 4-bit step; a frame of an older step arrives late.
    let mut frames = Vec::new();
    let mut late = None;
    for step in 0..20u64 {
        for i in 0..3 {
            let text = format!("step {step} frame {i}");
            let frame = sender
                .encryptor()
                .encrypt_to_vec(META, text.as_bytes())
                .unwrap();
            if (step, i) == (4, 2) {
                late = Some(frame);
            } else {
                frames.push(frame);
            }
        }
        if step == 5 {
            frames.push(late.take().unwrap());
        }
        sender.ratchet().unwrap();
        if step == 1 {
            sender.ratchet().unwrap();
            sender.ratchet().unwrap();
        }
        // The sender's key for the external AEAD follows each step.
        assert_eq!(
            sender.aead_key().expose_secret(),
            aead_key(suite, sender.key_id(), sender.base_key()).expose_secret()
        );
    }
    for (n, frame) in frames.iter().enumerate() {
        let want = one_call
            .decrypt_in_place(META, &mut frame.clone())
            .map(|p| p.to_vec());
        assert_eq!(ratchet_open(&mut split, frame), want.map(Some), "frame {n}");
        assert_eq!(ratchet_state(&split), ratchet_state(&one_call), "frame {n}");
    }
    // The receiver followed to the last step that sent a frame, past the 4-bit wrap.
    assert_eq!(sender.ratchet_step(), 22);
    assert_eq!(split.sender_key_id(), SenderKeyId::new(3, 21 % 16));
    // Every frame again is refused by both paths: a replay, out of reach, or (an old step
    // whose 4-bit KID now reads as a step ahead) a tag that fails under the candidate key.
    let after = ratchet_state(&split);
    for frame in &frames {
        let got = ratchet_open(&mut split, frame);
        match one_call.decrypt_in_place(META, &mut frame.clone()) {
            Err(DecryptError::Authentication) => assert_eq!(got, Ok(None)),
            want => assert_eq!(got, want.map(|p| Some(p.to_vec()))),
        }
    }
    assert_eq!(ratchet_state(&split), after);
}

#[test]
fn ratchet_forged_tag_ahead_moves_nothing_and_commits_are_rechecked() {
    let suite = CipherSuite::AesGcm256Sha512;
    let bits = RatchetBits::new(8).unwrap();
    let mut sender = RatchetSender::new(suite, bits, 0, base_key()).unwrap();
    let mut receiver =
        RatchetReceiver::new(suite, bits, sender.sender_key_id(), base_key()).unwrap();
    let first = sender.encryptor().encrypt_to_vec(META, b"step 0").unwrap();
    assert_eq!(
        ratchet_open(&mut receiver, &first),
        Ok(Some(b"step 0".to_vec()))
    );
    sender.ratchet().unwrap();
    sender.ratchet().unwrap();
    let ahead = sender.encryptor().encrypt_to_vec(META, b"step 2").unwrap();
    let before = ratchet_state(&receiver);

    // A forged tag two steps ahead: the candidate is tried, nothing is committed.
    assert_eq!(ratchet_open(&mut receiver, &forge(&ahead)), Ok(None));
    assert_eq!(ratchet_state(&receiver), before, "no ratchet step");
    // The genuine frame still opens, and ratchets the receiver as the one-call path does.
    let one = receiver.begin_open(META, &ahead).unwrap();
    let two = receiver.begin_open(META, &ahead).unwrap();
    assert_eq!(ratchet_state(&receiver), before, "begin changes nothing");
    receiver.commit_open(one).unwrap();
    assert_eq!(receiver.key_id(), sender.key_id());
    // The second request for that counter: the receiver moved meanwhile, the KID is now its
    // current key, whose window has the counter.
    assert_eq!(receiver.commit_open(two), Err(DecryptError::Replay));
    assert_eq!(
        receiver.begin_open(META, &ahead).err(),
        Some(DecryptError::Replay)
    );
    // The next real frame decrypts.
    let next = sender.encryptor().encrypt_to_vec(META, b"next").unwrap();
    assert_eq!(
        ratchet_open(&mut receiver, &next),
        Ok(Some(b"next".to_vec()))
    );

    // A request made before new generations are installed: committed while its key is kept
    // as an older step, refused once that key is gone.
    let late = sender.encryptor().encrypt_to_vec(META, b"late").unwrap();
    let kept = receiver.begin_open(META, &late).unwrap();
    let gone = receiver.begin_open(META, &late).unwrap();
    receiver
        .install(
            SenderKeyId::new(1, 0),
            BaseKey::new(b"generation 1").unwrap(),
        )
        .unwrap();
    receiver.commit_open(kept).unwrap();
    for generation in 2..=u64::try_from(RatchetReceiver::DEFAULT_RETAINED_STEPS + 1).unwrap() {
        let key = BaseKey::new(format!("generation {generation}").as_bytes()).unwrap();
        receiver
            .install(SenderKeyId::new(generation, 0), key)
            .unwrap();
    }
    assert_eq!(
        receiver.commit_open(gone),
        Err(DecryptError::UnknownKeyId(sender.key_id()))
    );
}

#[test]
fn ratchet_unknown_kids_match_the_one_call_path() {
    let suite = CipherSuite::AesGcm128Sha256;
    let bits = RatchetBits::new(4).unwrap();
    let mut sender = RatchetSender::new(suite, bits, 2, base_key()).unwrap();
    let mut receiver = RatchetReceiver::new(suite, bits, sender.sender_key_id(), base_key())
        .unwrap()
        .with_limits(3, 1)
        .unwrap();
    let other_generation = Encryptor::new(suite, KeyId(0x30), &base_key())
        .encrypt_to_vec(META, b"x")
        .unwrap();
    for _ in 0..4 {
        sender.ratchet().unwrap();
    }
    let too_far = sender.encryptor().encrypt_to_vec(META, b"x").unwrap();
    for frame in [other_generation, too_far] {
        let one_call = receiver.decrypt_in_place(META, &mut frame.clone()).err();
        assert!(matches!(one_call, Some(DecryptError::UnknownKeyId(_))));
        assert_eq!(receiver.begin_open(META, &frame).err(), one_call);
        let kid = secure_frame::FrameView::parse(&frame).unwrap().key_id();
        assert!(receiver.aead_key(kid).is_none());
    }
}

fn mls_open(
    store: &mut MlsEpochStore,
    frame: &[u8],
) -> Result<Option<(MlsKeyId, Vec<u8>)>, DecryptError> {
    split_open(
        store,
        frame,
        MlsEpochStore::begin_open,
        MlsEpochStore::aead_key,
        MlsEpochStore::commit_open,
    )
}

fn epoch_key(epoch: u64) -> BaseKey {
    BaseKey::new(&[u8::try_from(epoch).unwrap(); 16]).unwrap()
}

/// The encryptor of member `index` in `epoch` of a group of 3, E = 2.
fn mls_sender(epoch: u64, index: u32) -> Encryptor {
    let layout = MlsKidLayout::for_group(2, 3).unwrap();
    let kid = MlsKeyId {
        context: 0,
        sender_index: index,
        epoch,
    }
    .to_key_id(layout)
    .unwrap();
    Encryptor::new(CipherSuite::AesGcm128Sha256, kid, &epoch_key(epoch))
}

fn mls_store() -> MlsEpochStore {
    MlsEpochStore::new(CipherSuite::AesGcm128Sha256, 2)
        .unwrap()
        .with_max_epochs(2)
        .unwrap()
}

#[test]
fn mls_split_open_matches_the_one_call_path_over_epochs() {
    let mut split = mls_store();
    let mut one_call = mls_store();
    // Epochs 1 to 6 with E = 2: epoch 5 rolls over epoch 1's low bits, and at most two are live.
    for epoch in 1..=6 {
        for store in [&mut split, &mut one_call] {
            store
                .install_epoch(epoch, 3, Some(0), epoch_key(epoch))
                .unwrap();
        }
        let mut frames = Vec::new();
        for index in [1, 2] {
            let mut sender = mls_sender(epoch, index);
            for i in 0..3 {
                let text = format!("epoch {epoch} member {index} frame {i}");
                frames.push(sender.encrypt_to_vec(META, text.as_bytes()).unwrap());
            }
            // A frame of the previous epoch, still live, arrives late.
            if epoch > 1 {
                let mut late = mls_sender(epoch - 1, index);
                late.advance_counter_to(Counter(10)).unwrap();
                frames.push(late.encrypt_to_vec(META, b"late").unwrap());
            }
        }
        // And one of an epoch gone (two back), and this member's own KID.
        if epoch > 2 {
            frames.push(
                mls_sender(epoch - 2, 1)
                    .encrypt_to_vec(META, b"old")
                    .unwrap(),
            );
        }
        frames.push(mls_sender(epoch, 0).encrypt_to_vec(META, b"own").unwrap());
        for (n, frame) in frames.iter().enumerate() {
            let want = one_call
                .decrypt_in_place(META, &mut frame.clone())
                .map(|f| (f.sender, f.plaintext.to_vec()));
            assert_eq!(
                mls_open(&mut split, frame),
                want.map(Some),
                "epoch {epoch} frame {n}"
            );
            assert_eq!(split.cached_keys(epoch), one_call.cached_keys(epoch));
        }
        // Each frame again: the same refusal in both paths.
        for frame in &frames {
            let want = one_call.decrypt_in_place(META, &mut frame.clone()).err();
            assert_eq!(split.begin_open(META, frame).err(), want);
        }
    }
    assert_eq!(
        split.live_epochs().collect::<Vec<_>>(),
        one_call.live_epochs().collect::<Vec<_>>()
    );
}

#[test]
fn mls_forged_tag_moves_nothing_and_commits_are_rechecked() {
    let mut store = mls_store();
    store.install_epoch(1, 3, Some(0), epoch_key(1)).unwrap();
    let mut sender = mls_sender(1, 2);
    let frame = sender.encrypt_to_vec(META, b"genuine").unwrap();

    // A forged tag: nothing committed, no key cached.
    assert_eq!(mls_open(&mut store, &forge(&frame)), Ok(None));
    assert_eq!(store.cached_keys(1), 0);
    // The genuine frame opens; a second request for its counter is a replay at commit.
    let one = store.begin_open(META, &frame).unwrap();
    let two = store.begin_open(META, &frame).unwrap();
    assert_eq!(store.cached_keys(1), 0, "begin caches nothing");
    let who = store.commit_open(one).unwrap();
    assert_eq!((who.epoch, who.sender_index), (1, 2));
    assert_eq!(store.cached_keys(1), 1);
    assert_eq!(store.commit_open(two), Err(DecryptError::Replay));
    assert_eq!(
        store.begin_open(META, &frame).err(),
        Some(DecryptError::Replay)
    );
    let forged_cached = forge(&sender.encrypt_to_vec(META, b"x").unwrap());
    assert_eq!(mls_open(&mut store, &forged_cached), Ok(None));
    let next = sender.encrypt_to_vec(META, b"next").unwrap();
    assert_eq!(
        mls_open(&mut store, &next).map(|o| o.map(|(_, p)| p)),
        Ok(Some(b"next".to_vec()))
    );

    // A request of epoch 1 is not committed once epoch 5 took its low bits: the KID is the
    // same, the key is not.
    let late = mls_sender(1, 1).encrypt_to_vec(META, b"late").unwrap();
    let request = store.begin_open(META, &late).unwrap();
    store.install_epoch(5, 3, Some(0), epoch_key(5)).unwrap();
    let kid = request.key_id();
    assert_eq!(
        store.commit_open(request),
        Err(DecryptError::UnknownKeyId(kid))
    );
    assert_eq!(store.cached_keys(5), 0);
    // And once the epoch is removed, unknown.
    let request = store.begin_open(META, &mls_sender(5, 1).encrypt_to_vec(META, b"x").unwrap());
    let request = request.unwrap();
    assert!(store.remove_epoch(5));
    assert_eq!(
        store.commit_open(request),
        Err(DecryptError::UnknownKeyId(kid))
    );
    assert!(store.aead_key(kid).is_none());
}

#[test]
fn the_split_stores_give_the_key_schedules_aead_key() {
    let mut store = mls_store();
    store.install_epoch(3, 3, Some(0), epoch_key(3)).unwrap();
    let sender = mls_sender(3, 1);
    let kid = sender.key_id();
    assert_eq!(
        store.aead_key(kid).unwrap().expose_secret(),
        aead_key(CipherSuite::AesGcm128Sha256, kid, &epoch_key(3)).expose_secret()
    );
    assert!(
        store.aead_key(mls_sender(3, 0).key_id()).is_none(),
        "own index"
    );

    let mut decryptor = Decryptor::new(CipherSuite::AesGcm128Sha256);
    decryptor.add_key(KeyId(4), &base_key()).unwrap();
    assert_eq!(
        decryptor.aead_key(KeyId(4)).unwrap().expose_secret(),
        aead_key(CipherSuite::AesGcm128Sha256, KeyId(4), &base_key()).expose_secret()
    );
    assert!(decryptor.aead_key(KeyId(5)).is_none());
}
