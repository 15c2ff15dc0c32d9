//! RFC 9605 §5.1 sender keys: KID packing, the sender's ratchet and generations, and the
//! receiver's bounded catch-up under loss, reordering, late joining and forgery.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use proptest::prelude::*;
use secure_frame::{
    BaseKey, CipherSuite, Counter, DecryptError, Header, KeyId, RatchetBits, RatchetError,
    RatchetReceiver, RatchetSender, SenderKeyId,
};

const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;

fn key(byte: u8) -> BaseKey {
    BaseKey::new(&[byte; 16]).unwrap()
}

fn bits(r: u8) -> RatchetBits {
    RatchetBits::new(r).unwrap()
}

/// A sender at generation 0 and a receiver that joined at the start.
fn pair(r: u8) -> (RatchetSender, RatchetReceiver) {
    let sender = RatchetSender::new(SUITE, bits(r), 0, key(7)).unwrap();
    let receiver = RatchetReceiver::new(SUITE, bits(r), SenderKeyId::new(0, 0), key(7)).unwrap();
    (sender, receiver)
}

fn frame(sender: &mut RatchetSender, text: &[u8]) -> Vec<u8> {
    sender.encryptor().encrypt_to_vec(b"m", text).unwrap()
}

fn open(receiver: &mut RatchetReceiver, frame: &[u8]) -> Result<Vec<u8>, DecryptError> {
    let mut buf = frame.to_vec();
    receiver
        .decrypt_in_place(b"m", &mut buf)
        .map(|p| p.to_vec())
}

/// Everything observable about a receiver's state.
fn state(receiver: &RatchetReceiver) -> (KeyId, SenderKeyId, Vec<KeyId>) {
    (
        receiver.key_id(),
        receiver.sender_key_id(),
        receiver.retained_key_ids().collect(),
    )
}

#[test]
fn ratchet_bits_are_validated() {
    assert_eq!(RatchetBits::new(0), Err(RatchetError::Bits));
    assert_eq!(RatchetBits::new(64), Err(RatchetError::Bits));
    assert_eq!(RatchetBits::new(255), Err(RatchetError::Bits));
    assert_eq!(bits(1).step_values(), 2);
    assert_eq!(bits(63).step_mask(), u64::MAX >> 1);
    assert_eq!(bits(63).max_generation(), 1);
    assert_eq!(bits(1).max_generation(), u64::MAX >> 1);
}

#[test]
fn kid_packing_and_overflow() {
    // KID = (generation << R) + (step % 2^R)
    let r = bits(8);
    assert_eq!(SenderKeyId::new(0, 0).to_key_id(r), Ok(KeyId(0)));
    assert_eq!(SenderKeyId::new(1, 0).to_key_id(r), Ok(KeyId(0x100)));
    assert_eq!(SenderKeyId::new(1, 0x1ff).to_key_id(r), Ok(KeyId(0x1ff)));
    assert_eq!(SenderKeyId::new(1, 0x200).to_key_id(r), Ok(KeyId(0x100)));
    // The generation must fit in 64 - R bits: never silently shifted out.
    let max = r.max_generation();
    assert_eq!(
        SenderKeyId::new(max, 0xff).to_key_id(r),
        Ok(KeyId(u64::MAX))
    );
    assert_eq!(
        SenderKeyId::new(max + 1, 0).to_key_id(r),
        Err(RatchetError::GenerationOutOfRange)
    );
    assert_eq!(
        SenderKeyId::new(2, 0).to_key_id(bits(63)),
        Err(RatchetError::GenerationOutOfRange)
    );
    assert_eq!(
        SenderKeyId::from_key_id(KeyId(u64::MAX), bits(63)),
        SenderKeyId::new(1, u64::MAX >> 1)
    );
}

proptest! {
    #[test]
    fn kid_round_trips(r in 1u8..=63, generation: u64, step: u64) {
        let r = bits(r);
        let generation = generation & r.max_generation();
        let kid = SenderKeyId::new(generation, step).to_key_id(r).unwrap();
        prop_assert_eq!(
            SenderKeyId::from_key_id(kid, r),
            SenderKeyId::new(generation, step & r.step_mask())
        );
    }
}

#[test]
fn sender_ratchets_on_demand_and_restarts_the_counter() {
    let (mut sender, _) = pair(4);
    assert_eq!(sender.key_id(), KeyId(0));
    frame(&mut sender, b"a");
    frame(&mut sender, b"b");
    assert_eq!(sender.encryptor().next_counter(), Some(Counter(2)));
    let before = sender.base_key().expose_secret().to_vec();
    assert_eq!(sender.ratchet(), Ok(KeyId(1)));
    assert_eq!(sender.ratchet_step(), 1);
    assert_ne!(sender.base_key().expose_secret(), before.as_slice());
    assert_eq!(
        sender.base_key().len(),
        SUITE.hash_len(),
        "ratchet output is Nh"
    );
    // New key, new KID: counter 0 again is a fresh nonce.
    assert_eq!(sender.encryptor().next_counter(), Some(Counter(0)));
    let f = frame(&mut sender, b"c");
    let (h, _) = Header::decode(&f).unwrap();
    assert_eq!((h.key_id(), h.counter()), (KeyId(1), Counter(0)));

    assert_eq!(sender.new_generation(key(9)), Ok(KeyId(0x10)));
    assert_eq!(sender.sender_key_id(), SenderKeyId::new(1, 0));
    assert_eq!(sender.base_key().expose_secret(), &[9; 16]);
}

#[test]
fn sender_generation_cannot_overflow_r() {
    let r = bits(63);
    assert!(RatchetSender::new(SUITE, r, 2, key(1)).is_err());
    let mut sender = RatchetSender::new(SUITE, r, 1, key(1)).unwrap();
    assert_eq!(
        sender.new_generation(key(2)),
        Err(RatchetError::GenerationOutOfRange)
    );
    assert_eq!(sender.generation(), 1, "nothing changed");
    assert_eq!(sender.base_key().expose_secret(), &[1; 16]);
}

#[test]
fn receiver_follows_each_step_and_keeps_late_frames() {
    let (mut sender, mut receiver) = pair(4);
    let f0 = frame(&mut sender, b"step 0");
    let f0b = frame(&mut sender, b"step 0 late");
    assert_eq!(open(&mut receiver, &f0).unwrap(), b"step 0");
    sender.ratchet().unwrap();
    let f1 = frame(&mut sender, b"step 1");
    assert_eq!(open(&mut receiver, &f1).unwrap(), b"step 1");
    assert_eq!(receiver.key_id(), KeyId(1));
    // A late frame of the previous step still decrypts: it was kept.
    assert_eq!(receiver.retained_key_ids().collect::<Vec<_>>(), [KeyId(0)]);
    assert_eq!(open(&mut receiver, &f0b).unwrap(), b"step 0 late");
    // Replays are caught across the ratchet, per key.
    assert_eq!(open(&mut receiver, &f0), Err(DecryptError::Replay));
    assert_eq!(open(&mut receiver, &f1), Err(DecryptError::Replay));
}

#[test]
fn loss_multi_step_catch_up() {
    // The competitor caught up one step only (permanent failure after a loss).
    let (mut sender, mut receiver) = pair(6);
    let mut lost = Vec::new();
    for _ in 0..5 {
        sender.ratchet().unwrap();
        lost.push(frame(&mut sender, b"lost"));
    }
    sender.ratchet().unwrap();
    let f6 = frame(&mut sender, b"step 6 after five lost steps");
    assert_eq!(
        open(&mut receiver, &f6).unwrap(),
        b"step 6 after five lost steps"
    );
    assert_eq!(receiver.sender_key_id(), SenderKeyId::new(0, 6));
    // The steps passed over closest to the new one are kept (default 2): 5 and 4.
    assert_eq!(
        receiver.retained_key_ids().collect::<Vec<_>>(),
        [KeyId(5), KeyId(4)]
    );
    // So reordered frames of step 5 and 4 still decrypt; step 3 and the old step 0 are gone.
    assert_eq!(open(&mut receiver, &lost[4]).unwrap(), b"lost");
    assert_eq!(open(&mut receiver, &lost[3]).unwrap(), b"lost");
    assert_eq!(
        open(&mut receiver, &lost[2]),
        Err(DecryptError::UnknownKeyId(KeyId(3)))
    );
}

#[test]
fn reordering_across_a_ratchet() {
    let (mut sender, mut receiver) = pair(4);
    let a = frame(&mut sender, b"0a");
    let b = frame(&mut sender, b"0b");
    sender.ratchet().unwrap();
    let c = frame(&mut sender, b"1a");
    sender.ratchet().unwrap();
    let d = frame(&mut sender, b"2a");
    // Arrival order: d, a, c, b.
    assert_eq!(open(&mut receiver, &d).unwrap(), b"2a");
    assert_eq!(open(&mut receiver, &a).unwrap(), b"0a");
    assert_eq!(open(&mut receiver, &c).unwrap(), b"1a");
    assert_eq!(open(&mut receiver, &b).unwrap(), b"0b");
}

#[test]
fn catch_up_is_bounded_by_max_forward() {
    let (mut sender, receiver) = pair(8);
    let mut receiver = receiver.with_limits(3, 1).unwrap();
    for _ in 0..4 {
        sender.ratchet().unwrap();
    }
    let far = frame(&mut sender, b"4 steps ahead");
    let before = state(&receiver);
    assert_eq!(
        open(&mut receiver, &far),
        Err(DecryptError::UnknownKeyId(KeyId(4)))
    );
    assert_eq!(state(&receiver), before);
    // Exactly at the bound works.
    let (mut sender, receiver) = pair(8);
    let mut receiver = receiver.with_limits(3, 1).unwrap();
    for _ in 0..3 {
        sender.ratchet().unwrap();
    }
    let near = frame(&mut sender, b"3 steps ahead");
    assert_eq!(open(&mut receiver, &near).unwrap(), b"3 steps ahead");
}

#[test]
fn limits_must_fit_in_r() {
    let (_, receiver) = pair(2);
    // R = 2: four step values; current + forward + retained must fit.
    assert_eq!(
        receiver.max_forward() + 1 + u64::try_from(receiver.retained_steps()).unwrap(),
        4
    );
    let (_, receiver) = pair(2);
    assert_eq!(receiver.with_limits(3, 1).err(), Some(RatchetError::Window));
    let (_, receiver) = pair(2);
    assert_eq!(receiver.with_limits(0, 1).err(), Some(RatchetError::Window));
    let (_, receiver) = pair(8);
    assert_eq!(receiver.with_limits(1, 5).err(), Some(RatchetError::Window));
    let (_, receiver) = pair(1);
    assert_eq!((receiver.max_forward(), receiver.retained_steps()), (1, 0));
}

#[test]
fn step_wraps_modulo_two_to_the_r() {
    // R = 1: KIDs alternate 0, 1, 0, 1 with different keys; the receiver follows.
    let (mut sender, mut receiver) = pair(1);
    for i in 0..6u8 {
        let f = frame(&mut sender, &[i]);
        assert_eq!(
            Header::decode(&f).unwrap().0.key_id(),
            KeyId(u64::from(i % 2))
        );
        assert_eq!(open(&mut receiver, &f).unwrap(), [i]);
        sender.ratchet().unwrap();
    }
}

#[test]
fn forged_far_future_step_changes_nothing() {
    let (mut sender, mut receiver) = pair(8);
    let genuine = frame(&mut sender, b"genuine");
    assert!(open(&mut receiver, &genuine).is_ok());
    let before = state(&receiver);
    // A forged frame claiming step 200 (beyond max_forward): no work at all.
    let mut forged = genuine.clone();
    forged[0] = 0x80; // extended KID, 1 byte
    forged.insert(1, 200);
    assert_eq!(
        open(&mut receiver, &forged),
        Err(DecryptError::UnknownKeyId(KeyId(200)))
    );
    assert_eq!(state(&receiver), before);
}

#[test]
fn forged_near_future_step_changes_nothing() {
    let (mut sender, mut receiver) = pair(8);
    let now = frame(&mut sender, b"now");
    assert!(open(&mut receiver, &now).is_ok());
    let before = state(&receiver);
    // The real sender's next step, but with a corrupted tag: ratcheted, tried, refused.
    let mut next_sender = RatchetSender::new(SUITE, bits(8), 0, key(7)).unwrap();
    next_sender.ratchet().unwrap();
    next_sender.ratchet().unwrap();
    let real = frame(&mut next_sender, b"step 2");
    let mut forged = real.clone();
    *forged.last_mut().unwrap() ^= 1;
    assert_eq!(
        open(&mut receiver, &forged),
        Err(DecryptError::Authentication)
    );
    assert_eq!(state(&receiver), before, "a forgery moved the ratchet");
    // A frame for step 2 under another key (an outsider's guess) also changes nothing.
    let mut outsider = RatchetSender::new(SUITE, bits(8), 0, key(8)).unwrap();
    outsider.ratchet().unwrap();
    outsider.ratchet().unwrap();
    let fake = frame(&mut outsider, b"fake");
    assert_eq!(
        open(&mut receiver, &fake),
        Err(DecryptError::Authentication)
    );
    assert_eq!(state(&receiver), before);
    // The genuine frame still moves it, with the same counter the forgery carried.
    assert_eq!(open(&mut receiver, &real).unwrap(), b"step 2");
    assert_eq!(receiver.sender_key_id(), SenderKeyId::new(0, 2));
}

#[test]
fn new_generation_and_late_joiner() {
    let (mut sender, mut receiver) = pair(4);
    let old = frame(&mut sender, b"gen 0");
    assert!(open(&mut receiver, &old).is_ok());
    sender.ratchet().unwrap();
    sender.ratchet().unwrap();

    // A late joiner gets the sender's current key and position, and cannot read before it.
    let mut joiner = RatchetReceiver::new(
        SUITE,
        bits(4),
        sender.sender_key_id(),
        BaseKey::new(sender.base_key().expose_secret()).unwrap(),
    )
    .unwrap();
    assert_eq!(
        open(&mut joiner, &old),
        Err(DecryptError::UnknownKeyId(KeyId(0)))
    );
    let now = frame(&mut sender, b"gen 0 step 2");
    assert_eq!(open(&mut joiner, &now).unwrap(), b"gen 0 step 2");
    assert_eq!(open(&mut receiver, &now).unwrap(), b"gen 0 step 2");

    // New generation: frames under it are unknown until the key is installed.
    sender.new_generation(key(42)).unwrap();
    let g1 = frame(&mut sender, b"gen 1");
    assert_eq!(
        open(&mut receiver, &g1),
        Err(DecryptError::UnknownKeyId(KeyId(0x10)))
    );
    receiver.install(SenderKeyId::new(1, 0), key(42)).unwrap();
    assert_eq!(open(&mut receiver, &g1).unwrap(), b"gen 1");
    // The previous generation's key is kept for a late frame.
    assert!(receiver.retained_key_ids().any(|k| k == KeyId(2)));
    assert_eq!(
        receiver.install(SenderKeyId::new(1, 0), key(42)),
        Err(RatchetError::DuplicateKeyId(KeyId(0x10)))
    );
}

#[test]
fn old_keys_beyond_the_bound_are_dropped() {
    let (mut sender, receiver) = pair(8);
    let mut receiver = receiver.with_limits(2, 1).unwrap();
    let f0 = frame(&mut sender, b"0");
    assert!(open(&mut receiver, &f0).is_ok());
    for step in 1..=3u64 {
        sender.ratchet().unwrap();
        let f = frame(&mut sender, b"x");
        assert!(open(&mut receiver, &f).is_ok());
        assert_eq!(
            receiver.retained_key_ids().collect::<Vec<_>>(),
            [KeyId(step - 1)]
        );
    }
    let mut f0_copy = f0.clone();
    assert_eq!(
        receiver.decrypt_in_place(b"m", &mut f0_copy),
        Err(DecryptError::UnknownKeyId(KeyId(0)))
    );
    assert_eq!(f0_copy, f0, "an unknown-KID frame is left as it was");
}

#[test]
fn other_generation_is_unknown() {
    let (mut sender, mut receiver) = pair(4);
    sender.new_generation(key(3)).unwrap();
    let f = frame(&mut sender, b"gen 1");
    let before = state(&receiver);
    assert_eq!(
        open(&mut receiver, &f),
        Err(DecryptError::UnknownKeyId(KeyId(0x10)))
    );
    assert_eq!(state(&receiver), before);
}

#[test]
fn debug_prints_no_key_bytes() {
    let (sender, receiver) = pair(4);
    assert_eq!(
        format!("{sender:?}"),
        "RatchetSender { bits: 4, generation: 0, step: 0, encryptor: Encryptor { suite: AesGcm128Sha256, kid: KeyId(0), next_counter: Some(0), .. }, .. }"
    );
    assert_eq!(
        format!("{receiver:?}"),
        "RatchetReceiver { bits: 4, generation: 0, step: 0, max_forward: 13, retained: 0, .. }"
    );
}

/// A key message delivered twice, or replayed, cannot move a receiver back: with a fresh
/// replay window, the frames of the older key would be accepted again.
#[test]
fn install_refuses_keys_that_are_not_ahead() {
    let (mut sender, mut receiver) = pair(8);
    let step0 = (
        sender.sender_key_id(),
        BaseKey::new(sender.base_key().expose_secret()).unwrap(),
    );
    let f0 = frame(&mut sender, b"step 0");
    assert_eq!(open(&mut receiver, &f0).unwrap(), b"step 0");
    sender.ratchet().unwrap();
    let f1 = frame(&mut sender, b"step 1");
    assert_eq!(open(&mut receiver, &f1).unwrap(), b"step 1");
    assert_eq!(receiver.sender_key_id(), SenderKeyId::new(0, 1));
    // Step 0 is retained (its window has seen f0): installing it again is refused.
    assert!(receiver.retained_key_ids().any(|k| k == KeyId(0)));
    assert_eq!(
        receiver.install(step0.0, step0.1),
        Err(RatchetError::NotNewer)
    );
    assert_eq!(open(&mut receiver, &f0), Err(DecryptError::Replay));
    // Keys of generation 0 that are not the sender's: refused wherever their step is.
    let before = receiver.sender_key_id();
    for (step, want) in [
        (1, Err(RatchetError::DuplicateKeyId(KeyId(1)))),
        (2, Err(RatchetError::NotNewer)),
        (130, Err(RatchetError::NotNewer)),
        (255, Err(RatchetError::NotNewer)),
        (256, Err(RatchetError::NotNewer)),
    ] {
        assert_eq!(
            receiver.install(SenderKeyId::new(0, step), key(9)),
            want,
            "step {step}"
        );
        assert_eq!(receiver.sender_key_id(), before, "step {step} moved it");
    }
    // A new generation moves it; the old one is then refused.
    receiver.install(SenderKeyId::new(1, 0), key(42)).unwrap();
    assert_eq!(
        receiver.install(SenderKeyId::new(0, 2), key(9)),
        Err(RatchetError::NotNewer)
    );
    assert_eq!(receiver.sender_key_id(), SenderKeyId::new(1, 0));
    // Within a generation, the sender's own key further on is accepted, and only that.
    let mut gen1 = RatchetSender::new(SUITE, bits(8), 1, key(42)).unwrap();
    for _ in 0..200 {
        gen1.ratchet().unwrap();
    }
    assert_eq!(
        receiver.install(SenderKeyId::new(1, 200), key(43)),
        Err(RatchetError::NotNewer)
    );
    let ahead = BaseKey::new(gen1.base_key().expose_secret()).unwrap();
    receiver.install(gen1.sender_key_id(), ahead).unwrap();
    assert_eq!(receiver.sender_key_id(), SenderKeyId::new(1, 200));
    let f = frame(&mut gen1, b"gen 1 step 200");
    assert_eq!(open(&mut receiver, &f).unwrap(), b"gen 1 step 200");
}

/// Step numbers wrap modulo `2^R`: a key message replayed once the receiver is `2^(R-1)` or
/// more steps further on (and the replayed step is no longer retained) has a step that looks
/// ahead. The receiver checks the key itself, so it is refused and the frames of that step stay
/// replays (found by `fuzz/seeds/ratchet_sequence/replayed-key-wrapped-ahead-refused`). Here at
/// `R = 8` with the default limits: a join-time key 128 steps ahead, two more steps, then
/// step 0's key replayed.
#[test]
fn install_refuses_a_key_replayed_half_the_step_space_later() {
    let (mut sender, mut receiver) = pair(8);
    let step0 = BaseKey::new(sender.base_key().expose_secret()).unwrap();
    let f0 = frame(&mut sender, b"step 0");
    assert_eq!(open(&mut receiver, &f0).unwrap(), b"step 0");
    for _ in 0..128 {
        sender.ratchet().unwrap();
    }
    let join = BaseKey::new(sender.base_key().expose_secret()).unwrap();
    receiver.install(sender.sender_key_id(), join).unwrap();
    for _ in 0..2 {
        sender.ratchet().unwrap();
        let f = frame(&mut sender, b"later");
        assert_eq!(open(&mut receiver, &f).unwrap(), b"later");
    }
    assert_eq!(receiver.sender_key_id(), SenderKeyId::new(0, 130));
    assert!(!receiver.retained_key_ids().any(|k| k == KeyId(0)));
    // Step 0 is 126 steps "ahead" of step 130 modulo 256.
    assert_eq!(
        receiver.install(SenderKeyId::new(0, 0), step0),
        Err(RatchetError::NotNewer)
    );
    // Step 0's key is gone: its frame is refused as unknown, not opened a second time.
    assert_eq!(
        open(&mut receiver, &f0),
        Err(DecryptError::UnknownKeyId(KeyId(0)))
    );
}
