//! Behaviour through the public API, driven by a sender/receiver pair over a lossy, reordering
//! "network".

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

use secure_frame::BaseKey;
use secure_frame::{
    CipherSuite, Ciphertext, Counter, DecryptError, Decryptor, EncryptError, Encryptor, FrameView,
    Header, KeyError, KeyId, KeyLease, ReceiveKey, ReceiveKeys, ReplayWindow, open_in_place,
};

/// One sender, one receiver store, and the frames in flight.
struct Pair {
    sender: Encryptor,
    receiver: Decryptor,
    sent: Vec<(Vec<u8>, Vec<u8>)>, // (plaintext, wire)
}

impl Pair {
    fn new(suite: CipherSuite, kid: u64) -> Self {
        let base_key = kid.to_le_bytes();
        let mut receiver = Decryptor::new(suite);
        receiver
            .add_key(KeyId(kid), &BaseKey::new(&base_key).unwrap())
            .unwrap();
        Self {
            sender: Encryptor::new(suite, KeyId(kid), &BaseKey::new(&base_key).unwrap()),
            receiver,
            sent: Vec::new(),
        }
    }

    fn send(&mut self, n: usize) {
        for _ in 0..n {
            let plaintext = format!("frame {}", self.sent.len()).into_bytes();
            let wire = self.sender.encrypt_to_vec(b"rtp", &plaintext).unwrap();
            self.sent.push((plaintext, wire));
        }
    }

    /// Delivers frame `i`; checks the plaintext when it is accepted.
    fn deliver(&mut self, i: usize) -> Result<(), DecryptError> {
        let (plaintext, wire) = &self.sent[i];
        let mut wire = wire.clone();
        let got = self.receiver.decrypt_in_place(b"rtp", &mut wire)?;
        assert_eq!(got, plaintext.as_slice());
        Ok(())
    }
}

#[test]
fn counters_start_at_zero_and_increase_by_one() {
    for &suite in CipherSuite::ALL {
        let mut pair = Pair::new(suite, 300);
        pair.send(20);
        for (i, (_, wire)) in pair.sent.iter().enumerate() {
            let view = FrameView::parse(wire).unwrap();
            assert_eq!(view.key_id(), KeyId(300));
            assert_eq!(view.counter(), Counter(u64::try_from(i).unwrap()));
        }
    }
}

#[test]
fn loss_is_tolerated() {
    let mut pair = Pair::new(CipherSuite::AesGcm128Sha256, 1);
    pair.send(100);
    for i in (0..100).filter(|i| i % 3 != 0) {
        pair.deliver(i).unwrap();
    }
}

#[test]
fn reordering_within_the_window_and_replay_outside_it() {
    let mut pair = Pair::new(CipherSuite::AesCtr128HmacSha256_80, 2);
    pair.send(300);
    // newest first inside the default 128-wide window
    for i in (0..128).rev() {
        pair.deliver(i).unwrap();
    }
    pair.deliver(299).unwrap();
    // 299 - 171 = 128: just outside the window; 172 is just inside
    assert_eq!(pair.deliver(171), Err(DecryptError::Replay));
    pair.deliver(172).unwrap();
    assert_eq!(pair.deliver(172), Err(DecryptError::Replay));
    assert_eq!(pair.deliver(299), Err(DecryptError::Replay));
}

#[test]
fn unknown_kid_is_distinct_and_the_frame_can_be_retried() {
    let suite = CipherSuite::AesGcm256Sha512;
    let mut sender = Encryptor::new(
        suite,
        KeyId(0x00ab_cdef),
        &BaseKey::new(b"late key").unwrap(),
    );
    let mut receiver = Decryptor::new(suite);
    let mut wire = sender.encrypt_to_vec(b"", b"early frame").unwrap();
    let kept = wire.clone();
    assert_eq!(
        receiver.decrypt_in_place(b"", &mut wire),
        Err(DecryptError::UnknownKeyId(KeyId(0x00ab_cdef)))
    );
    assert_eq!(wire, kept, "the frame is unchanged and can be kept");
    receiver
        .add_key(KeyId(0x00ab_cdef), &BaseKey::new(b"late key").unwrap())
        .unwrap();
    assert_eq!(
        receiver.decrypt_in_place(b"", &mut wire).unwrap(),
        b"early frame"
    );
}

#[test]
fn key_rotation_and_removal() {
    let suite = CipherSuite::AesGcm128Sha256;
    let mut receiver = Decryptor::new(suite);
    receiver
        .add_key(KeyId(1), &BaseKey::new(b"old").unwrap())
        .unwrap();
    receiver
        .add_key(KeyId(2), &BaseKey::new(b"new").unwrap())
        .unwrap();
    assert_eq!(
        receiver.add_key(KeyId(2), &BaseKey::new(b"other").unwrap()),
        Err(KeyError::DuplicateKeyId(KeyId(2)))
    );
    let mut old = Encryptor::new(suite, KeyId(1), &BaseKey::new(b"old").unwrap());
    let mut new = Encryptor::new(suite, KeyId(2), &BaseKey::new(b"new").unwrap());
    let (mut a, mut b) = (
        old.encrypt_to_vec(b"", b"a").unwrap(),
        new.encrypt_to_vec(b"", b"b").unwrap(),
    );
    let mut a2 = old.encrypt_to_vec(b"", b"a2").unwrap();
    assert_eq!(receiver.decrypt_in_place(b"", &mut a).unwrap(), b"a");
    assert_eq!(receiver.decrypt_in_place(b"", &mut b).unwrap(), b"b");
    assert!(receiver.remove_key(KeyId(1)).is_some());
    assert_eq!(
        receiver.decrypt_in_place(b"", &mut a2),
        Err(DecryptError::UnknownKeyId(KeyId(1)))
    );
    assert_eq!(receiver.key_ids().collect::<Vec<_>>(), [KeyId(2)]);
}

#[test]
fn a_receive_key_only_opens_its_own_kid() {
    let suite = CipherSuite::AesGcm128Sha256;
    let mut sender = Encryptor::new(suite, KeyId(8), &BaseKey::new(b"k").unwrap());
    let mut receiver = ReceiveKey::new(suite, KeyId(9), &BaseKey::new(b"k").unwrap());
    let mut wire = sender.encrypt_to_vec(b"", b"x").unwrap();
    assert_eq!(
        receiver.decrypt_in_place(b"", &mut wire),
        Err(DecryptError::UnknownKeyId(KeyId(8)))
    );
}

#[test]
fn keys_are_bound_to_kid_suite_and_metadata() {
    let mut sender = Encryptor::new(
        CipherSuite::AesCtr128HmacSha256_80,
        KeyId(8),
        &BaseKey::new(b"k").unwrap(),
    );
    let frame = sender.encrypt_to_vec(b"m", b"payload").unwrap();
    // same base key, another suite with the same tag length would still fail: try all
    for &suite in CipherSuite::ALL {
        if suite == CipherSuite::AesCtr128HmacSha256_80 {
            continue;
        }
        let mut receiver = ReceiveKey::new(suite, KeyId(8), &BaseKey::new(b"k").unwrap());
        let mut wire = frame.clone();
        assert!(
            receiver.decrypt_in_place(b"m", &mut wire).is_err(),
            "{suite}"
        );
    }
    let mut receiver = ReceiveKey::new(
        CipherSuite::AesCtr128HmacSha256_80,
        KeyId(8),
        &BaseKey::new(b"k").unwrap(),
    );
    let mut wire = frame.clone();
    assert_eq!(
        receiver.decrypt_in_place(b"M", &mut wire),
        Err(DecryptError::Authentication)
    );
    let mut wire = frame;
    assert_eq!(
        receiver.decrypt_in_place(b"m", &mut wire).unwrap(),
        b"payload"
    );
}

#[test]
fn counter_exhaustion_is_permanent() {
    for &suite in CipherSuite::ALL {
        let mut sender = Encryptor::new(suite, KeyId(1), &BaseKey::new(b"k").unwrap());
        sender.advance_counter_to(Counter(u64::MAX - 1)).unwrap();
        let mut receiver = ReceiveKey::new(suite, KeyId(1), &BaseKey::new(b"k").unwrap());
        for expected in [u64::MAX - 1, u64::MAX] {
            let mut wire = sender.encrypt_to_vec(b"", b"x").unwrap();
            assert_eq!(
                FrameView::parse(&wire).unwrap().counter(),
                Counter(expected)
            );
            assert_eq!(
                wire.len(),
                9 + 1 + suite.tag_len(),
                "config byte + 8-byte CTR"
            );
            assert_eq!(receiver.decrypt_in_place(b"", &mut wire).unwrap(), b"x");
        }
        assert_eq!(sender.next_counter(), None);
        for _ in 0..3 {
            assert_eq!(
                sender.encrypt_to_vec(b"", b"x"),
                Err(EncryptError::CounterExhausted)
            );
        }
        let mut out = [0u8; 64];
        assert_eq!(
            sender.encrypt(b"", b"x", &mut out),
            Err(EncryptError::CounterExhausted)
        );
        assert_eq!(
            sender.advance_counter_to(Counter(u64::MAX)),
            Err(EncryptError::CounterExhausted)
        );
    }
}

#[test]
fn counter_never_moves_back() {
    let mut sender = Encryptor::new(
        CipherSuite::AesGcm128Sha256,
        KeyId(1),
        &BaseKey::new(b"k").unwrap(),
    );
    sender.advance_counter_to(Counter(10)).unwrap();
    sender.encrypt_to_vec(b"", b"x").unwrap();
    assert_eq!(
        sender.advance_counter_to(Counter(10)),
        Err(EncryptError::CounterReuse)
    );
    sender.advance_counter_to(Counter(11)).unwrap();
    assert_eq!(sender.next_counter(), Some(Counter(11)));
}

#[test]
fn failed_encrypt_consumes_no_counter() {
    let suite = CipherSuite::AesGcm128Sha256;
    let mut sender = Encryptor::new(suite, KeyId(1), &BaseKey::new(b"k").unwrap());
    let needed = sender.ciphertext_len(100);
    assert_eq!(needed, 1 + 100 + 16);
    let mut small = vec![0; needed - 1];
    assert_eq!(
        sender.encrypt(b"", &[0; 100], &mut small),
        Err(EncryptError::BufferTooSmall { needed })
    );
    let mut room = vec![0; Encryptor::HEADER_ROOM + 15];
    assert_eq!(
        sender.encrypt_in_room(b"", &mut room),
        Err(EncryptError::BufferTooSmall {
            needed: Encryptor::HEADER_ROOM + 16
        })
    );
    let too_long = vec![0; secure_frame::MAX_METADATA_LEN + 1];
    let mut in_place = b"plaintext".to_vec();
    assert_eq!(
        sender.encrypt_in_place(&too_long, &mut in_place),
        Err(EncryptError::MetadataTooLong)
    );
    assert_eq!(in_place, b"plaintext");
    assert_eq!(sender.next_counter(), Some(Counter(0)));
}

#[test]
fn every_entry_point_agrees() {
    let suite = CipherSuite::AesCtr128HmacSha256_64;
    let plaintext = vec![0x33; 1000];
    let make = || Encryptor::new(suite, KeyId(4242), &BaseKey::new(b"k").unwrap());
    let reference = make().encrypt_to_vec(b"md", &plaintext).unwrap();

    let mut out = vec![0; 2000];
    assert_eq!(
        make().encrypt(b"md", &plaintext, &mut out).unwrap(),
        reference
    );

    let mut room = vec![0xff; Encryptor::HEADER_ROOM];
    room.extend_from_slice(&plaintext);
    room.extend_from_slice(&[0xff; 8]);
    let sealed = make().encrypt_in_room(b"md", &mut room).unwrap();
    assert_eq!(sealed, reference.as_slice());

    let mut in_place = plaintext.clone();
    make().encrypt_in_place(b"md", &mut in_place).unwrap();
    assert_eq!(in_place, reference);

    let mut receiver = ReceiveKey::new(suite, KeyId(4242), &BaseKey::new(b"k").unwrap())
        .with_replay_window(ReplayWindow::disabled());
    let mut out = vec![0; 999];
    assert_eq!(
        receiver.decrypt(b"md", &reference, &mut out),
        Err(DecryptError::BufferTooSmall { needed: 1000 })
    );
    let mut out = vec![0; 1000];
    assert_eq!(
        receiver.decrypt(b"md", &reference, &mut out).unwrap(),
        plaintext
    );
    let mut store = Decryptor::new(suite);
    store
        .add_key(KeyId(4242), &BaseKey::new(b"k").unwrap())
        .unwrap();
    assert_eq!(store.decrypt_to_vec(b"md", &reference).unwrap(), plaintext);
}

/// Each suite at the sizes either side of where a build with `ring` and `aws-lc` moves AES-GCM
/// from one provider to the other (3 072 B; `src/aead/gcm.rs`): the in-room path (inline below
/// the crossover, out of line from it) and the copy path seal the same bytes, every receive path
/// opens them, and a flipped tag bit is refused with nothing left of the plaintext. With
/// `hazmat`, the GCM frames are also checked against RustCrypto's `aes-gcm` under the derived
/// key and nonce, whichever provider the build uses.
#[test]
fn every_path_agrees_on_both_sides_of_the_provider_crossover() {
    for suite in CipherSuite::ALL.iter().copied() {
        let base = BaseKey::new(b"crossover").unwrap();
        let kid = KeyId(9);
        let mut in_room = Encryptor::new(suite, kid, &base);
        let mut copied = Encryptor::new(suite, kid, &base);
        let mut receiver = ReceiveKey::new(suite, kid, &base);
        let mut store = Decryptor::new(suite);
        store.add_key(kid, &base).unwrap();
        for size in [0, 1, 160, 1200, 3071, 3072, 3073, 16 * 1024] {
            let plaintext: Vec<u8> = (0..size)
                .map(|i: usize| u8::try_from(i * 7 % 251).unwrap())
                .collect();
            let reference = copied.encrypt_to_vec(b"", &plaintext).unwrap();
            let mut room = vec![0xee; Encryptor::HEADER_ROOM];
            room.extend_from_slice(&plaintext);
            room.resize(room.len() + suite.tag_len(), 0xee);
            let sealed = in_room.encrypt_in_room(b"", &mut room).unwrap().to_vec();
            assert_eq!(sealed, reference, "{suite:?}, {size} B");

            #[cfg(feature = "hazmat")]
            if matches!(
                suite,
                CipherSuite::AesGcm128Sha256 | CipherSuite::AesGcm256Sha512
            ) {
                use aes_gcm::aead::{AeadInOut, KeyInit};
                let (_, key, salt) = secure_frame::hazmat::derive_key_salt(suite, kid, &base);
                let view = FrameView::parse(&sealed).unwrap();
                let header = view.header_bytes();
                let nonce = aes_gcm::Nonce::from(salt.nonce(view.header().counter().0));
                let mut ct = plaintext.clone();
                let tag = if suite == CipherSuite::AesGcm128Sha256 {
                    aes_gcm::Aes128Gcm::new_from_slice(key.expose_secret())
                        .unwrap()
                        .encrypt_inout_detached(&nonce, header, ct.as_mut_slice().into())
                } else {
                    aes_gcm::Aes256Gcm::new_from_slice(key.expose_secret())
                        .unwrap()
                        .encrypt_inout_detached(&nonce, header, ct.as_mut_slice().into())
                }
                .unwrap();
                let want = [header, &ct, &tag].concat();
                assert_eq!(sealed, want, "{suite:?}, {size} B against aes-gcm");
            }

            let mut forged = sealed.clone();
            let last = forged.len() - 1;
            forged[last] ^= 1;
            let tag_start = forged.len() - suite.tag_len();
            let header_len = FrameView::parse(&forged).unwrap().header_bytes().len();
            assert_eq!(
                receiver.decrypt_in_place(b"", &mut forged).map(|_| ()),
                Err(DecryptError::Authentication),
                "{suite:?}, {size} B"
            );
            assert!(forged[header_len..tag_start].iter().all(|&b| b == 0));

            let mut wire = sealed.clone();
            let opened = receiver.decrypt_in_place(b"", &mut wire).unwrap();
            assert_eq!(opened, plaintext.as_slice(), "{suite:?}, {size} B");
            assert_eq!(
                store.decrypt_to_vec(b"", &sealed).unwrap(),
                plaintext,
                "{suite:?}, {size} B"
            );
        }
    }
}

#[test]
fn header_view_reads_kid_and_counter_without_a_key() {
    let mut sender = Encryptor::new(
        CipherSuite::AesGcm128Sha256,
        KeyId(0x123),
        &BaseKey::new(b"k").unwrap(),
    );
    sender.advance_counter_to(Counter(0x4567)).unwrap();
    let wire = sender.encrypt_to_vec(b"", b"abc").unwrap();
    let view = FrameView::parse(&wire).unwrap();
    assert_eq!(view.header(), Header::new(KeyId(0x123), Counter(0x4567)));
    assert_eq!(view.header_bytes(), [0x99, 0x01, 0x23, 0x45, 0x67]);
    assert_eq!(view.body().len(), 3 + 16);
}

#[test]
fn suites_know_their_constants() {
    let table: Vec<_> = CipherSuite::ALL
        .iter()
        .take(5)
        .map(|s| {
            (
                s.id(),
                s.name(),
                s.hash_len(),
                s.key_len(),
                s.nonce_len(),
                s.tag_len(),
            )
        })
        .collect();
    assert_eq!(
        table,
        [
            (1, "AES_128_CTR_HMAC_SHA256_80", 32, 48, 12, 10),
            (2, "AES_128_CTR_HMAC_SHA256_64", 32, 48, 12, 8),
            (3, "AES_128_CTR_HMAC_SHA256_32", 32, 48, 12, 4),
            (4, "AES_128_GCM_SHA256_128", 32, 16, 12, 16),
            (5, "AES_256_GCM_SHA512_128", 64, 32, 12, 16),
        ]
    );
    assert_eq!(
        CipherSuite::from_id(0),
        Err(KeyError::UnsupportedCipherSuite(0))
    );
    assert_eq!(
        CipherSuite::from_id(0xf000),
        Err(KeyError::UnsupportedCipherSuite(0xf000))
    );
    // Only the base key checks its length; the keys made from one cannot fail.
    assert_eq!(BaseKey::new(b"").unwrap_err(), KeyError::BaseKeyLength);
    assert!(BaseKey::new(&[1; 129]).is_err());
    assert_eq!(BaseKey::try_from(&[1u8; 128][..]).map(|k| k.len()), Ok(128));
}

#[test]
fn a_store_of_many_kids_finds_each_one() {
    let suite = CipherSuite::AesCtr128HmacSha256_80;
    let mut store = Decryptor::new(suite);
    // scrambled insertion order, KIDs spread over the whole u64 range
    let kids: Vec<u64> = (0..300u64)
        .map(|i| i.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ (i << 3))
        .collect();
    for &kid in &kids {
        store
            .add_key(KeyId(kid), &BaseKey::new(&kid.to_be_bytes()).unwrap())
            .unwrap();
    }
    assert_eq!(store.len(), kids.len());
    // Listed in installation order while nothing was removed.
    let listed: Vec<u64> = store.key_ids().map(|k| k.0).collect();
    assert_eq!(listed, kids);
    for &kid in kids.iter().rev() {
        let mut sender = Encryptor::new(
            suite,
            KeyId(kid),
            &BaseKey::new(&kid.to_be_bytes()).unwrap(),
        );
        let mut wire = sender.encrypt_to_vec(b"", &kid.to_le_bytes()).unwrap();
        assert_eq!(
            store.decrypt_in_place(b"", &mut wire).unwrap(),
            kid.to_le_bytes()
        );
    }
    for &kid in kids.iter().step_by(2) {
        assert_eq!(store.remove_key(KeyId(kid)).unwrap().key_id(), KeyId(kid));
        assert!(!store.contains_key(KeyId(kid)));
    }
    assert_eq!(store.len(), kids.len() / 2);
    for &kid in kids.iter().skip(1).step_by(2) {
        assert_eq!(store.get(KeyId(kid)).unwrap().key_id(), KeyId(kid));
    }
    // Each removal moved the last key into the removed one's place: every key left is still
    // found, listed once, and opens its own frames.
    let mut listed: Vec<u64> = store.key_ids().map(|k| k.0).collect();
    listed.sort_unstable();
    let mut kept: Vec<u64> = kids.iter().skip(1).step_by(2).copied().collect();
    kept.sort_unstable();
    assert_eq!(listed, kept);
    for &kid in &kept {
        let mut sender = Encryptor::new(
            suite,
            KeyId(kid),
            &BaseKey::new(&kid.to_be_bytes()).unwrap(),
        );
        // Counter 0 of each KID was opened above: the replay windows moved with their keys.
        let mut replayed = sender.encrypt_to_vec(b"", b"kept").unwrap();
        assert_eq!(
            store.decrypt_in_place(b"", &mut replayed),
            Err(DecryptError::Replay)
        );
        let mut wire = sender.encrypt_to_vec(b"", b"kept").unwrap();
        assert_eq!(store.decrypt_in_place(b"", &mut wire).unwrap(), b"kept");
    }
}

/// A key store written outside the library: its lease implements only `KeyLease::open`, so
/// `open_in_place` goes through the provided `open_frame` (the `Ciphertext` path).
struct TwoKeys {
    keys: [ReceiveKey; 2],
}

struct TwoKeysLease<'s> {
    index: u8,
    key: &'s mut ReceiveKey,
}

impl KeyLease for TwoKeysLease<'_> {
    type Sender = u8;

    fn suite(&self) -> CipherSuite {
        self.key.suite()
    }

    fn open(self, ciphertext: &mut Ciphertext<'_, '_>) -> Result<u8, DecryptError> {
        self.key.open(ciphertext)?;
        Ok(self.index)
    }
}

impl ReceiveKeys for TwoKeys {
    type Sender = u8;
    type Lease<'s> = TwoKeysLease<'s>;

    fn lend(&mut self, kid: KeyId) -> Option<TwoKeysLease<'_>> {
        let [first, second] = &mut self.keys;
        if first.key_id() == kid {
            Some(TwoKeysLease {
                index: 0,
                key: first,
            })
        } else if second.key_id() == kid {
            Some(TwoKeysLease {
                index: 1,
                key: second,
            })
        } else {
            None
        }
    }
}

#[test]
fn a_store_written_outside_the_library_opens_through_the_provided_method() {
    let suite = CipherSuite::AesGcm128Sha256;
    let base = |b: u8| BaseKey::new(&[b; 16]).unwrap();
    let mut store = TwoKeys {
        keys: [
            ReceiveKey::new(suite, KeyId(3), &base(3)),
            ReceiveKey::new(suite, KeyId(900), &base(9)),
        ],
    };
    let mut second = Encryptor::new(suite, KeyId(900), &base(9));
    let frame = second.encrypt_to_vec(b"meta", b"hello").unwrap();

    // Opened, and the store's own sender value comes back.
    let mut wire = frame.clone();
    let (sender, plaintext) = open_in_place(&mut store, b"meta", &mut wire).unwrap();
    assert_eq!((sender, &*plaintext), (1, &b"hello"[..]));

    // The same frame again: the replay window moved.
    let mut again = frame.clone();
    assert_eq!(
        open_in_place(&mut store, b"meta", &mut again),
        Err(DecryptError::Replay)
    );

    // Other metadata: refused, the body zeroed, and the window did not move.
    let next = second.encrypt_to_vec(b"meta", b"world").unwrap();
    let mut forged = next.clone();
    assert_eq!(
        open_in_place(&mut store, b"other", &mut forged),
        Err(DecryptError::Authentication)
    );
    let header_len = FrameView::parse(&next).unwrap().header_bytes().len();
    assert!(
        forged[header_len..forged.len() - suite.tag_len()]
            .iter()
            .all(|&b| b == 0)
    );
    let mut genuine = next.clone();
    let (_, plaintext) = open_in_place(&mut store, b"meta", &mut genuine).unwrap();
    assert_eq!(plaintext, b"world");

    // A KID the store does not hold: the frame is untouched.
    let mut other = Encryptor::new(suite, KeyId(4), &base(3))
        .encrypt_to_vec(b"", b"x")
        .unwrap();
    let before = other.clone();
    assert_eq!(
        open_in_place(&mut store, b"", &mut other),
        Err(DecryptError::UnknownKeyId(KeyId(4)))
    );
    assert_eq!(other, before);

    // Too short to hold a tag after the header.
    let mut short = frame[..frame.len() - suite.tag_len()].to_vec();
    short.truncate(header_len + 3);
    assert_eq!(
        open_in_place(&mut store, b"meta", &mut short),
        Err(DecryptError::TooShort)
    );
}
