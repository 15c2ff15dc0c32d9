//! Laws, checked by proptest over random inputs.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

use proptest::prelude::*;
use secure_frame::BaseKey;
use secure_frame::{
    CipherSuite, Counter, DecryptError, Decryptor, Encryptor, FrameView, Header, KeyId, ReceiveKey,
    ReplayWindow,
};

fn suite() -> impl Strategy<Value = CipherSuite> {
    proptest::sample::select(CipherSuite::ALL)
}

/// Plaintext lengths 0..64 KiB, biased towards media-like sizes.
fn plaintext() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        proptest::collection::vec(any::<u8>(), 200..2000),
        (2000usize..65536).prop_map(|n| (0..n)
            .map(|i| u8::try_from(i * 31 % 251).unwrap())
            .collect()),
    ]
}

proptest! {
    #[test]
    fn header_round_trips(kid: u64, ctr: u64, tail in proptest::collection::vec(any::<u8>(), 0..4)) {
        let header = Header::new(KeyId(kid), Counter(ctr));
        let mut bytes = header.encode().to_vec();
        prop_assert_eq!(bytes.len(), header.encoded_len());
        let len = bytes.len();
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(Header::decode(&bytes), Ok((header, len)));
    }

    /// The decoder is canonical: whatever it accepts re-encodes to exactly the bytes it read.
    #[test]
    fn decode_is_canonical(bytes in proptest::collection::vec(any::<u8>(), 0..20)) {
        if let Ok((header, len)) = Header::decode(&bytes) {
            let encoded = header.encode();
            prop_assert_eq!(encoded.as_bytes(), &bytes[..len]);
        }
    }

    #[test]
    fn encrypt_then_decrypt_is_identity(
        suite in suite(),
        kid: u64,
        start: u64,
        metadata in proptest::collection::vec(any::<u8>(), 0..64),
        plaintext in plaintext(),
    ) {
        let base_key = kid.to_be_bytes();
        let mut sender = Encryptor::new(suite, KeyId(kid), &BaseKey::new(&base_key).unwrap());
        sender.advance_counter_to(Counter(start)).unwrap();
        let frame = sender.encrypt_to_vec(&metadata, &plaintext).unwrap();
        prop_assert_eq!(frame.len(), plaintext.len() + suite.tag_len()
            + Header::new(KeyId(kid), Counter(start)).encoded_len());
        let mut receiver = ReceiveKey::new(suite, KeyId(kid), &BaseKey::new(&base_key).unwrap());
        let mut wire = frame.clone();
        prop_assert_eq!(receiver.decrypt_in_place(&metadata, &mut wire).unwrap(), &plaintext[..]);
    }

    /// Any single-bit change in header, metadata, ciphertext or tag is rejected; the receiver
    /// moves nothing, the header and tag stay, and no plaintext is exposed.
    #[test]
    fn any_bit_flip_is_rejected(
        suite in suite(),
        metadata in proptest::collection::vec(any::<u8>(), 1..32),
        plaintext in proptest::collection::vec(any::<u8>(), 0..300),
        flip_frame: bool,
        position: usize,
        bit in 0u8..8,
    ) {
        let kid = KeyId(77);
        let mut sender = Encryptor::new(suite, kid, &BaseKey::new(b"key").unwrap());
        let frame = sender.encrypt_to_vec(&metadata, &plaintext).unwrap();
        let mut receiver = ReceiveKey::new(suite, kid, &BaseKey::new(b"key").unwrap());
        let (mut wire, mut meta) = (frame.clone(), metadata.clone());
        if flip_frame {
            let i = position % wire.len();
            wire[i] ^= 1 << bit;
        } else {
            let i = position % meta.len();
            meta[i] ^= 1 << bit;
        }
        let tampered = wire.clone();
        let before = *receiver.replay_window();
        let err = receiver.decrypt_in_place(&meta, &mut wire).unwrap_err();
        prop_assert_eq!(*receiver.replay_window(), before);
        let tag_start = wire.len() - suite.tag_len();
        if err == DecryptError::Authentication {
            let header_len = FrameView::parse(&tampered).unwrap().header_bytes().len();
            prop_assert_eq!(&wire[..header_len], &tampered[..header_len]);
            prop_assert_eq!(&wire[tag_start..], &tampered[tag_start..]);
            prop_assert!(wire[header_len..tag_start].iter().all(|&b| b == 0));
        } else {
            prop_assert_eq!(wire, tampered);
        }
        // and the genuine frame still decrypts afterwards
        let mut genuine = frame;
        prop_assert_eq!(receiver.decrypt_in_place(&metadata, &mut genuine).unwrap(), &plaintext[..]);
    }

    /// Frames reordered within the window are all accepted once; every replay is refused.
    #[test]
    fn reordering_inside_the_window_is_accepted_and_replays_are_not(
        suite in suite(),
        width in 1u32..=128,
        seed: u64,
    ) {
        let kid = KeyId(5);
        let mut sender = Encryptor::new(suite, kid, &BaseKey::new(b"k").unwrap());
        let frames: Vec<Vec<u8>> =
            (0..200).map(|i: u32| sender.encrypt_to_vec(b"", &i.to_be_bytes()).unwrap()).collect();
        // A delivery order in which no frame arrives `width` or more counters after a newer
        // one: shuffle inside consecutive blocks of `width`.
        let mut order: Vec<usize> = (0..frames.len()).collect();
        let mut state = seed | 1;
        for block in order.chunks_mut(usize::try_from(width).unwrap()) {
            for i in (1..block.len()).rev() {
                state ^= state << 13; state ^= state >> 7; state ^= state << 17;
                block.swap(i, usize::try_from(state % (u64::try_from(i).unwrap() + 1)).unwrap());
            }
        }
        let mut receiver = ReceiveKey::new(suite, kid, &BaseKey::new(b"k").unwrap())
            .with_replay_window(ReplayWindow::new(width).unwrap());
        for &i in &order {
            let mut wire = frames[i].clone();
            let plaintext = receiver.decrypt_in_place(b"", &mut wire).unwrap();
            prop_assert_eq!(plaintext, &u32::try_from(i).unwrap().to_be_bytes()[..]);
        }
        for &i in &order {
            let mut wire = frames[i].clone();
            prop_assert_eq!(receiver.decrypt_in_place(b"", &mut wire), Err(DecryptError::Replay));
        }
    }
}

proptest! {
    /// The ring-bitmap replay window agrees with the obvious model — a set of accepted counters
    /// and "new unless seen, and not `width` or more below the highest" — on any stream.
    #[test]
    fn replay_window_matches_a_set_model(
        width in 1u32..=128,
        steps in proptest::collection::vec((0u64..400, any::<bool>()), 1..300),
        base: u64,
    ) {
        let mut window = ReplayWindow::new(width).unwrap();
        let mut accepted = std::collections::BTreeSet::new();
        let base = base.min(u64::MAX - 400);
        for (offset, authentic) in steps {
            let ctr = base + offset;
            let highest = accepted.last().copied();
            let model_ok = !accepted.contains(&ctr)
                && highest.is_none_or(|top| ctr > top || top - ctr < u64::from(width));
            prop_assert_eq!(window.check(ctr).is_ok(), model_ok, "ctr {}", ctr);
            // only authentic frames move the window
            if model_ok && authentic {
                window.accept(ctr);
                accepted.insert(ctr);
            }
            prop_assert_eq!(window.highest(), accepted.last().copied());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any sequence of adds and removes leaves the store holding exactly the model's KIDs, each
    /// opening its own frames and only those: the index and the unordered key array agree.
    #[test]
    fn decryptor_store_matches_a_model(ops in proptest::collection::vec((any::<bool>(), 0u64..40), 0..120)) {
        use std::collections::BTreeSet;
        let suite = CipherSuite::AesCtr128HmacSha256_32;
        let base = |kid: u64| BaseKey::new(&[u8::try_from(kid).unwrap() + 1; 16]).unwrap();
        let mut store = Decryptor::new(suite);
        let mut model = BTreeSet::new();
        for (add, kid) in ops {
            if add {
                let added = store.add_key(KeyId(kid), &base(kid)).is_ok();
                prop_assert_eq!(added, model.insert(kid));
            } else {
                let removed = store.remove_key(KeyId(kid)).map(|k| ReceiveKey::key_id(&k));
                prop_assert_eq!(removed, model.remove(&kid).then_some(KeyId(kid)));
            }
            prop_assert_eq!(store.len(), model.len());
            let listed: BTreeSet<u64> = store.key_ids().map(|k| k.0).collect();
            prop_assert_eq!(listed.len(), store.len(), "each KID listed once");
            prop_assert_eq!(&listed, &model);
        }
        for kid in 0..40u64 {
            prop_assert_eq!(store.get(KeyId(kid)).map(ReceiveKey::key_id), model.contains(&kid).then_some(KeyId(kid)));
            let mut frame = Encryptor::new(suite, KeyId(kid), &base(kid)).encrypt_to_vec(b"", b"x").unwrap();
            let opened = store.decrypt_in_place(b"", &mut frame).map(|p| p.to_vec());
            if model.contains(&kid) {
                prop_assert_eq!(opened, Ok(b"x".to_vec()));
            } else {
                prop_assert_eq!(opened, Err(DecryptError::UnknownKeyId(KeyId(kid))));
            }
        }
    }
}
