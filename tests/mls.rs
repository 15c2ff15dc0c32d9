//! RFC 9605 §5.2: MLS KIDs (Figure 9), the exporter, and the epoch store: rollover eviction,
//! bounded epochs and key caches, membership checks, forged frames.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use std::cell::RefCell;

use proptest::prelude::*;
use secure_frame::mls::{
    BASE_KEY_LABEL, EpochInstalled, MlsEpochStore, MlsExporter, MlsKeyId, MlsKidLayout,
    epoch_base_key,
};
use secure_frame::{BaseKey, CipherSuite, DecryptError, Encryptor, KeyId, MlsError};

const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;

#[test]
fn figure_9() {
    let layout = MlsKidLayout::new(4, 6).unwrap();
    let cases = [
        (14, 3, 0, 0x3e),
        (14, 7, 0, 0x7e),
        (14, 20, 0, 0x14e),
        (15, 3, 0, 0x3f),
        (15, 5, 0, 0x5f),
        (16, 2, 2, 0x820),
        (16, 2, 3, 0xc20),
        (17, 33, 0, 0x211),
        (17, 51, 0, 0x331),
    ];
    for (epoch, sender_index, context, kid) in cases {
        let id = MlsKeyId {
            context,
            sender_index,
            epoch,
        };
        assert_eq!(id.to_key_id(layout), Ok(KeyId(kid)), "{id:?}");
        let back = MlsKeyId::from_key_id(KeyId(kid), layout);
        assert_eq!(back.epoch, epoch % 16);
        assert_eq!((back.sender_index, back.context), (sender_index, context));
    }
}

#[test]
fn sender_bits_from_group_size() {
    for (size, s) in [
        (1, 0),
        (2, 1),
        (3, 2),
        (4, 2),
        (5, 3),
        (64, 6),
        (65, 7),
        (1 << 31, 31),
    ] {
        assert_eq!(
            MlsKidLayout::sender_bits_for(size),
            Ok(s),
            "group of {size}"
        );
    }
    assert_eq!(MlsKidLayout::sender_bits_for(0), Err(MlsError::GroupSize));
    assert_eq!(
        MlsKidLayout::sender_bits_for((1 << 31) + 1),
        Err(MlsError::GroupSize)
    );
    assert_eq!(MlsKidLayout::for_group(4, 50).unwrap().sender_bits(), 6);
}

#[test]
fn layout_bounds_and_no_truncation() {
    assert_eq!(MlsKidLayout::new(0, 6), Err(MlsError::Bits));
    assert_eq!(MlsKidLayout::new(33, 0), Err(MlsError::Bits));
    assert_eq!(MlsKidLayout::new(4, 32), Err(MlsError::Bits));
    let widest = MlsKidLayout::new(32, 31).unwrap();
    assert_eq!(widest.context_bits(), 1);
    let layout = MlsKidLayout::new(4, 6).unwrap();
    let id = |context, sender_index| MlsKeyId {
        context,
        sender_index,
        epoch: 0,
    };
    assert_eq!(
        id(0, 64).to_key_id(layout),
        Err(MlsError::SenderIndexOutOfRange)
    );
    assert_eq!(
        id(1 << 54, 0).to_key_id(layout),
        Err(MlsError::ContextOutOfRange)
    );
    assert_eq!(
        id((1 << 54) - 1, 63).to_key_id(layout),
        Ok(KeyId(u64::MAX - 15))
    );
    // S = 0 (a group of one): the index must be 0.
    let solo = MlsKidLayout::new(4, 0).unwrap();
    assert_eq!(id(0, 0).to_key_id(solo), Ok(KeyId(0)));
    assert_eq!(
        id(0, 1).to_key_id(solo),
        Err(MlsError::SenderIndexOutOfRange)
    );
}

proptest! {
    #[test]
    fn kid_round_trips(e in 1u8..=32, s in 0u8..=31, context: u64, index: u32, epoch: u64) {
        let layout = MlsKidLayout::new(e, s).unwrap();
        let id = MlsKeyId {
            context: context & layout.max_context(),
            sender_index: u32::try_from(u64::from(index) & layout.sender_mask()).unwrap(),
            epoch,
        };
        let back = MlsKeyId::from_key_id(id.to_key_id(layout).unwrap(), layout);
        prop_assert_eq!(back, MlsKeyId { epoch: epoch & layout.epoch_mask(), ..id });
    }
}

/// An exporter that records what it was asked and answers with a function of the epoch.
struct StubExporter {
    epoch: u8,
    calls: RefCell<Vec<(String, Vec<u8>, usize)>>,
}

impl MlsExporter for StubExporter {
    type Error = ();
    fn export(&self, label: &str, context: &[u8], out: &mut [u8]) -> Result<(), ()> {
        self.calls
            .borrow_mut()
            .push((label.to_owned(), context.to_vec(), out.len()));
        out.fill(self.epoch);
        Ok(())
    }
}

struct Failing;

impl MlsExporter for Failing {
    type Error = &'static str;
    fn export(&self, _: &str, _: &[u8], _: &mut [u8]) -> Result<(), &'static str> {
        Err("no epoch")
    }
}

#[test]
fn exporter_gets_the_rfc_label_empty_context_and_nk() {
    for suite in CipherSuite::ALL.iter().copied() {
        let exporter = StubExporter {
            epoch: 5,
            calls: RefCell::default(),
        };
        let key = epoch_base_key(&exporter, suite).unwrap();
        assert_eq!(key.len(), suite.key_len());
        assert_eq!(
            exporter.calls.borrow().as_slice(),
            [("SFrame 1.0 Base Key".to_owned(), vec![], suite.key_len())]
        );
    }
    assert_eq!(BASE_KEY_LABEL, "SFrame 1.0 Base Key");

    assert_eq!(epoch_base_key(&Failing, SUITE).err(), Some("no epoch"));
}

fn epoch_key(epoch: u64) -> BaseKey {
    BaseKey::new(&[u8::try_from(epoch % 251).unwrap() + 1; 16]).unwrap()
}

/// The encryptor of member `index` in `epoch` of a group of `size`.
fn member(epoch: u64, size: u32, index: u32) -> Encryptor {
    member_e(4, epoch, size, index)
}

fn member_e(epoch_bits: u8, epoch: u64, size: u32, index: u32) -> Encryptor {
    let layout = MlsKidLayout::for_group(epoch_bits, size).unwrap();
    let kid = MlsKeyId {
        context: 0,
        sender_index: index,
        epoch,
    }
    .to_key_id(layout)
    .unwrap();
    Encryptor::new(
        SUITE,
        kid,
        &BaseKey::new(epoch_key(epoch).expose_secret()).unwrap(),
    )
}

fn new_store() -> MlsEpochStore {
    MlsEpochStore::new(SUITE, 4).unwrap()
}

fn open(store: &mut MlsEpochStore, frame: &[u8]) -> Result<(u32, u64, Vec<u8>), DecryptError> {
    let mut buf = frame.to_vec();
    store
        .decrypt_in_place(b"", &mut buf)
        .map(|f| (f.sender.sender_index, f.sender.epoch, f.plaintext.to_vec()))
}

#[test]
fn frames_from_every_member_decrypt() {
    let mut store = new_store();
    store.install_epoch(7, 3, Some(0), epoch_key(7)).unwrap();
    for index in 1..3 {
        let f = member(7, 3, index).encrypt_to_vec(b"", b"hello").unwrap();
        assert_eq!(open(&mut store, &f).unwrap(), (index, 7, b"hello".to_vec()));
    }
    assert_eq!(store.cached_keys(7), 2);
    // My own KID is encrypt-only (RFC 9605 §4.4.1), a non-member index is unknown.
    let mine = member(7, 3, 0).encrypt_to_vec(b"", b"me").unwrap();
    assert!(matches!(
        open(&mut store, &mine),
        Err(DecryptError::UnknownKeyId(_))
    ));
    let outsider = member(7, 4, 3).encrypt_to_vec(b"", b"who?").unwrap();
    assert!(matches!(
        open(&mut store, &outsider),
        Err(DecryptError::UnknownKeyId(_))
    ));
    assert_eq!(
        store.cached_keys(7),
        2,
        "no key was derived and kept for them"
    );
}

#[test]
fn rollover_evicts_the_epoch_with_the_same_low_bits() {
    // RFC 9605 §5.2: MUST remove an old epoch when a new one has the same low E bits.
    let mut store = new_store().with_max_epochs(16).unwrap();
    store.install_epoch(3, 2, Some(0), epoch_key(3)).unwrap();
    store.install_epoch(4, 2, Some(0), epoch_key(4)).unwrap();
    let old = member(3, 2, 1).encrypt_to_vec(b"", b"epoch 3").unwrap();
    assert!(open(&mut store, &old.clone()).is_ok());
    assert_eq!(store.evict_rollover(3 + 16), Some(3));
    assert_eq!(store.live_epochs().collect::<Vec<_>>(), [4]);
    assert_eq!(store.evict_rollover(5), None);

    // Through install_epoch: epoch 20 (low bits 4) replaces epoch 4.
    assert_eq!(
        store.install_epoch(20, 2, Some(0), epoch_key(20)),
        Ok(EpochInstalled {
            rolled_over: Some(4),
            evicted_oldest: None
        })
    );
    assert_eq!(store.live_epochs().collect::<Vec<_>>(), [20]);
    // A frame of epoch 4 carries low bits 4 and is tried under epoch 20: it fails.
    let stale = member(4, 2, 1).encrypt_to_vec(b"", b"epoch 4").unwrap();
    assert_eq!(open(&mut store, &stale), Err(DecryptError::Authentication));
    let fresh = member(20, 2, 1).encrypt_to_vec(b"", b"epoch 20").unwrap();
    assert_eq!(
        open(&mut store, &fresh).unwrap().1,
        20,
        "full epoch reported"
    );
}

#[test]
fn epoch_rollover_over_a_long_run() {
    // 40 epochs with E = 2: never more than the bound live, never two with the same low bits.
    let mut store = MlsEpochStore::new(SUITE, 2).unwrap();
    assert_eq!(store.max_epochs(), 4);
    for epoch in 0..40 {
        store
            .install_epoch(epoch, 2, Some(0), epoch_key(epoch))
            .unwrap();
        let live: Vec<u64> = store.live_epochs().collect();
        assert!(live.len() <= 4);
        let mut lows: Vec<u64> = live.iter().map(|e| e % 4).collect();
        lows.sort_unstable();
        lows.dedup();
        assert_eq!(lows.len(), live.len());
        let f = member_e(2, epoch, 2, 1).encrypt_to_vec(b"", b"x").unwrap();
        assert_eq!(open(&mut store, &f).unwrap().1, epoch);
    }
}

#[test]
fn bounded_live_epochs_evict_the_oldest() {
    let mut store = new_store().with_max_epochs(2).unwrap();
    store.install_epoch(1, 2, None, epoch_key(1)).unwrap();
    store.install_epoch(2, 2, None, epoch_key(2)).unwrap();
    let installed = store.install_epoch(3, 2, None, epoch_key(3)).unwrap();
    assert_eq!(installed.evicted_oldest, Some(1));
    assert_eq!(store.live_epochs().collect::<Vec<_>>(), [2, 3]);
    assert_eq!(
        store.install_epoch(3, 2, None, epoch_key(3)).err(),
        Some(MlsError::DuplicateEpoch(3))
    );
    assert_eq!(
        new_store().with_max_epochs(17).err(),
        Some(MlsError::Capacity)
    );
    assert_eq!(
        new_store().with_max_epochs(0).err(),
        Some(MlsError::Capacity)
    );
    assert!(store.remove_epoch(2));
    assert!(!store.remove_epoch(2));
    assert_eq!(store.remove_epochs_before(10), 1);
    assert_eq!(store.live_epochs().count(), 0);
    assert_eq!(
        store.install_epoch(9, 3, Some(3), epoch_key(9)).err(),
        Some(MlsError::SenderIndexOutOfRange)
    );
}

#[test]
fn forged_frames_cache_nothing_and_move_nothing() {
    let mut store = new_store();
    store.install_epoch(7, 64, Some(0), epoch_key(7)).unwrap();
    // A forged frame for every member: each costs one derivation; none is cached.
    for index in 1..64 {
        let mut f = member(7, 64, index).encrypt_to_vec(b"", b"x").unwrap();
        *f.last_mut().unwrap() ^= 1;
        assert_eq!(open(&mut store, &f), Err(DecryptError::Authentication));
    }
    assert_eq!(store.cached_keys(7), 0);
    // An authentic frame after a forged copy with the same counter still decrypts.
    let mut alice = member(7, 64, 5);
    let real = alice.encrypt_to_vec(b"", b"real").unwrap();
    let mut forged = real.clone();
    forged[3] ^= 0xff;
    assert_eq!(open(&mut store, &forged), Err(DecryptError::Authentication));
    assert_eq!(open(&mut store, &real).unwrap().2, b"real");
    assert_eq!(open(&mut store, &real), Err(DecryptError::Replay));
}

#[test]
fn sender_key_cache_is_bounded() {
    let mut store = new_store().with_max_cached_keys(2).unwrap();
    store.install_epoch(1, 8, None, epoch_key(1)).unwrap();
    let mut senders: Vec<Encryptor> = (0..4).map(|i| member(1, 8, i)).collect();
    for (i, s) in senders.iter_mut().enumerate() {
        let f = s.encrypt_to_vec(b"", b"x").unwrap();
        assert_eq!(open(&mut store, &f).unwrap().0, u32::try_from(i).unwrap());
        assert!(store.cached_keys(1) <= 2);
    }
    // An evicted sender is derived again, resuming its replay window.
    let again = senders[0].encrypt_to_vec(b"", b"y").unwrap();
    assert_eq!(open(&mut store, &again).unwrap().2, b"y");
    assert_eq!(
        store.with_max_cached_keys(0).err(),
        Some(MlsError::Capacity)
    );
}

/// Eviction from the key cache must not reset a sender's replay window: with a cache of one,
/// every frame of another sender evicts the key, and an old frame would otherwise be accepted
/// again (found by the `epoch_sequence` fuzz target).
#[test]
fn evicted_keys_keep_their_replay_windows() {
    let mut store = new_store().with_max_cached_keys(1).unwrap();
    store.install_epoch(1, 8, None, epoch_key(1)).unwrap();
    let (mut one, mut two) = (member(1, 8, 1), member(1, 8, 2));
    let first: Vec<Vec<u8>> = (0..4)
        .map(|i| one.encrypt_to_vec(b"", &[i]).unwrap())
        .collect();
    // Counters 0, 1 and 3 arrive; 2 is late.
    for i in [0, 1, 3] {
        assert_eq!(
            open(&mut store, &first[i]).unwrap().2,
            [u8::try_from(i).unwrap()]
        );
    }
    let evict = |store: &mut MlsEpochStore, two: &mut Encryptor| {
        let f = two.encrypt_to_vec(b"", b"2").unwrap();
        assert_eq!(open(store, &f).unwrap().0, 2);
        assert_eq!(store.cached_keys(1), 1);
    };
    evict(&mut store, &mut two);
    for i in [0, 1, 3] {
        assert_eq!(
            open(&mut store, &first[i]),
            Err(DecryptError::Replay),
            "frame {i}"
        );
    }
    // A refused frame derives the key but caches nothing: sender 2 is still cached.
    assert_eq!(store.cached_keys(1), 1);
    // The late frame is inside the resumed window, once.
    assert_eq!(open(&mut store, &first[2]).unwrap().2, [2]);
    evict(&mut store, &mut two);
    assert_eq!(open(&mut store, &first[2]), Err(DecryptError::Replay));
    let next = one.encrypt_to_vec(b"", b"4").unwrap();
    assert_eq!(open(&mut store, &next).unwrap().2, b"4");
    // A forged frame of an evicted sender moves no retired window.
    evict(&mut store, &mut two);
    let mut forged = one.encrypt_to_vec(b"", b"5").unwrap();
    let real = forged.clone();
    *forged.last_mut().unwrap() ^= 1;
    assert_eq!(open(&mut store, &forged), Err(DecryptError::Authentication));
    assert_eq!(open(&mut store, &real).unwrap().2, b"5");
}

#[test]
fn group_size_changes_sender_bits_per_epoch() {
    let mut store = new_store();
    store.install_epoch(1, 2, None, epoch_key(1)).unwrap(); // S = 1
    store.install_epoch(2, 5, None, epoch_key(2)).unwrap(); // S = 3
    let a = member(1, 2, 1).encrypt_to_vec(b"", b"small").unwrap();
    let b = member(2, 5, 4).encrypt_to_vec(b"", b"grown").unwrap();
    assert_eq!(open(&mut store, &a).unwrap(), (1, 1, b"small".to_vec()));
    assert_eq!(open(&mut store, &b).unwrap(), (4, 2, b"grown".to_vec()));
    assert_eq!(
        store.resolve(KeyId(0x42)),
        Some(MlsKeyId {
            context: 0,
            sender_index: 4,
            epoch: 2
        })
    );
}
