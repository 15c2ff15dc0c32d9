//! Key agreement (not RFC 9605): P-256 pairwise keys and verification codes, HPKE sender-key
//! envelopes, re-keying on join and leave, and secret hygiene.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use proptest::prelude::*;
use secure_frame::agreement::rand_core::{Infallible, TryCryptoRng, TryRng};
use secure_frame::agreement::{
    Envelope, GroupSender, KeyPair, OpenedSenderKey, PublicKey, Role, agree, open_sender_key,
    seal_sender_key,
};
use secure_frame::{
    AgreementError, BaseKey, CipherSuite, DecryptError, Encryptor, EnvelopeError, KeyId,
    RatchetBits, RatchetReceiver, RatchetSender, ReceiveKey, SenderKeyId,
};

const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;

/// A deterministic generator for tests (`SplitMix64`). Never use outside tests.
struct TestRng(u64);

impl TryRng for TestRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(u32::try_from(self.try_next_u64()? >> 32).unwrap())
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Ok(z ^ (z >> 31))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let v = self.try_next_u64()?.to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
        Ok(())
    }
}
impl TryCryptoRng for TestRng {}

fn rng(seed: u64) -> TestRng {
    TestRng(seed)
}

#[test]
fn pairwise_both_directions() {
    let mut r = rng(1);
    let alice = KeyPair::generate(&mut r);
    let bob = KeyPair::generate(&mut r);
    let a = agree(&alice, Role::Initiator, bob.public_key(), SUITE).unwrap();
    let b = agree(&bob, Role::Responder, alice.public_key(), SUITE).unwrap();
    assert_eq!(a.send().expose_secret(), b.receive().expose_secret());
    assert_eq!(a.receive().expose_secret(), b.send().expose_secret());
    assert_ne!(a.send().expose_secret(), a.receive().expose_secret());
    assert_eq!(a.verification_code(), b.verification_code());
    assert_eq!(a.verification_code().to_string().len(), 6);

    // The keys work as SFrame base keys in each direction.
    let mut to_bob = Encryptor::new(
        SUITE,
        KeyId(1),
        &BaseKey::new(a.send().expose_secret()).unwrap(),
    );
    let mut bob_in = ReceiveKey::new(
        SUITE,
        KeyId(1),
        &BaseKey::new(b.receive().expose_secret()).unwrap(),
    );
    let mut frame = to_bob.encrypt_to_vec(b"", b"hi bob").unwrap();
    assert_eq!(bob_in.decrypt_in_place(b"", &mut frame).unwrap(), b"hi bob");

    // The suite and the roles are bound in: same keys, other suite → other keys and code.
    let other = agree(
        &alice,
        Role::Initiator,
        bob.public_key(),
        CipherSuite::AesGcm256Sha512,
    )
    .unwrap();
    assert_ne!(other.transcript_hash(), a.transcript_hash());
    assert_eq!(other.send().len(), 64, "Nh of suite 5");
    let swapped = agree(&alice, Role::Responder, bob.public_key(), SUITE).unwrap();
    assert_ne!(swapped.transcript_hash(), a.transcript_hash());
}

#[test]
fn man_in_the_middle_gets_different_codes() {
    let mut r = rng(2);
    let alice = KeyPair::generate(&mut r);
    let bob = KeyPair::generate(&mut r);
    let mallory_a = KeyPair::generate(&mut r); // what Alice thinks is Bob
    let mallory_b = KeyPair::generate(&mut r); // what Bob thinks is Alice
    let alice_side = agree(&alice, Role::Initiator, mallory_a.public_key(), SUITE).unwrap();
    let bob_side = agree(&bob, Role::Responder, mallory_b.public_key(), SUITE).unwrap();
    // Mallory can read both legs...
    let m1 = agree(&mallory_a, Role::Responder, alice.public_key(), SUITE).unwrap();
    let m2 = agree(&mallory_b, Role::Initiator, bob.public_key(), SUITE).unwrap();
    assert_eq!(
        m1.receive().expose_secret(),
        alice_side.send().expose_secret()
    );
    assert_eq!(
        m2.receive().expose_secret(),
        bob_side.send().expose_secret()
    );
    // ...but the codes Alice and Bob read out differ.
    assert_ne!(alice_side.verification_code(), bob_side.verification_code());
    assert_ne!(alice_side.transcript_hash(), bob_side.transcript_hash());
    // Many MITM attempts: essentially never the same code.
    let mut same = 0;
    for seed in 0..50 {
        let mut r = rng(1000 + seed);
        let ma = KeyPair::generate(&mut r);
        let mb = KeyPair::generate(&mut r);
        let x = agree(&alice, Role::Initiator, ma.public_key(), SUITE).unwrap();
        let y = agree(&bob, Role::Responder, mb.public_key(), SUITE).unwrap();
        same += usize::from(x.verification_code() == y.verification_code());
    }
    assert_eq!(same, 0);
}

#[test]
fn commitments_bind_the_key() {
    let mut r = rng(3);
    let a = KeyPair::generate(&mut r);
    let b = KeyPair::generate(&mut r);
    let c = a.public_key().commitment();
    assert!(a.public_key().matches_commitment(&c));
    assert!(!b.public_key().matches_commitment(&c));
}

#[test]
fn invalid_points_and_keys_are_rejected() {
    let mut r = rng(4);
    let good = *KeyPair::generate(&mut r).public_key().as_bytes();
    // Off the curve: y changed.
    let mut off = good;
    off[64] ^= 1;
    assert_eq!(
        PublicKey::from_sec1_bytes(&off),
        Err(AgreementError::InvalidPublicKey)
    );
    // The identity (SEC1 0x00), empty, truncated, bad tag byte, x >= p.
    for bad in [&[0u8][..], &[], &good[..64], &[5; 65], &[0xff; 65]] {
        assert_eq!(
            PublicKey::from_sec1_bytes(bad),
            Err(AgreementError::InvalidPublicKey)
        );
    }
    let mut x_ge_p = [0xffu8; 65];
    x_ge_p[0] = 4;
    assert_eq!(
        PublicKey::from_sec1_bytes(&x_ge_p),
        Err(AgreementError::InvalidPublicKey)
    );
    // Compressed points are accepted and re-encoded uncompressed.
    let kp = KeyPair::generate(&mut r);
    let mut compressed = [0u8; 33];
    compressed[0] = 2 + (kp.public_key().as_bytes()[64] & 1);
    compressed[1..].copy_from_slice(&kp.public_key().as_bytes()[1..33]);
    assert_eq!(
        &PublicKey::from_sec1_bytes(&compressed).unwrap(),
        kp.public_key()
    );
    // Private scalars: zero and the group order are not keys.
    assert_eq!(
        KeyPair::from_secret_bytes(&[0; 32]).err(),
        Some(AgreementError::InvalidPrivateKey)
    );
    let n =
        hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551").unwrap();
    assert_eq!(
        KeyPair::from_secret_bytes(&n.try_into().unwrap()).err(),
        Some(AgreementError::InvalidPrivateKey)
    );
    // A key agreeing with itself is refused.
    assert_eq!(
        agree(&kp, Role::Initiator, kp.public_key(), SUITE).err(),
        Some(AgreementError::SameRoleOrKey)
    );
    let again = KeyPair::from_secret_bytes(&kp.expose_secret_bytes()).unwrap();
    assert_eq!(again.public_key(), kp.public_key());
}

#[test]
fn debug_prints_no_private_key_bytes() {
    let kp = KeyPair::from_secret_bytes(&[0x11; 32]).unwrap();
    let public = hex::encode(kp.public_key().as_bytes());
    assert_eq!(
        format!("{kp:?}"),
        format!("KeyPair {{ public: PublicKey({public}), .. }}")
    );
    let peer = KeyPair::from_secret_bytes(&[0x22; 32]).unwrap();
    let keys = agree(&kp, Role::Initiator, peer.public_key(), SUITE).unwrap();
    let code = keys.verification_code();
    assert_eq!(
        format!("{keys:?}"),
        format!("PairwiseKeys {{ verification_code: VerificationCode({code}), .. }}")
    );
    assert_eq!(format!("{:?}", keys.send()), "BaseKey { len: 32, .. }");
}

fn r8() -> RatchetBits {
    RatchetBits::new(8).unwrap()
}

/// Seals a key for (generation, step) from `sender` (identity "alice") to `to`.
fn envelope(r: &mut TestRng, sender: &KeyPair, to: &PublicKey, key: SenderKeyId) -> Vec<u8> {
    seal_sender_key(
        r,
        sender,
        b"alice",
        to,
        SUITE,
        r8(),
        key,
        &BaseKey::new(&[9; 32]).unwrap(),
    )
    .unwrap()
}

#[test]
fn envelope_round_trip_and_layout() {
    let mut r = rng(5);
    let alice = KeyPair::generate(&mut r);
    let bob = KeyPair::generate(&mut r);
    let sealed = envelope(&mut r, &alice, bob.public_key(), SenderKeyId::new(3, 7));
    // 13 + 5 (id) + 65 (enc) + 2 + 32 + 16 (tag)
    assert_eq!(sealed.len(), 13 + 5 + 65 + 2 + 32 + 16);
    assert_eq!(&sealed[..13], &[1, 0, 4, 8, 0, 0, 0, 0, 0, 0, 3, 7, 5]);
    let parsed = Envelope::parse(&sealed).unwrap();
    assert_eq!(parsed.key_id, KeyId(0x307));
    assert_eq!(parsed.sender_key_id(), SenderKeyId::new(3, 7));
    assert_eq!(parsed.sender_id, b"alice");

    let opened = open_sender_key(&bob, alice.public_key(), b"alice", &sealed).unwrap();
    assert_eq!(opened.key_id, SenderKeyId::new(3, 7));
    assert_eq!(opened.base_key.expose_secret(), &[9; 32]);
    assert_eq!(opened.suite, SUITE);
    assert_eq!(
        format!("{opened:?}"),
        "OpenedSenderKey { suite: AesGcm128Sha256, key_id: SenderKeyId { generation: 3, ratchet_step: 7 }, .. }"
    );
}

#[test]
fn envelope_opens_only_for_its_recipient_sender_kid_and_generation() {
    let mut r = rng(6);
    let alice = KeyPair::generate(&mut r);
    let bob = KeyPair::generate(&mut r);
    let carol = KeyPair::generate(&mut r);
    let sealed = envelope(&mut r, &alice, bob.public_key(), SenderKeyId::new(3, 7));
    // Another recipient, another claimed sender key, another identity.
    assert_eq!(
        open_sender_key(&carol, alice.public_key(), b"alice", &sealed).err(),
        Some(AgreementError::Open)
    );
    assert_eq!(
        open_sender_key(&bob, carol.public_key(), b"alice", &sealed).err(),
        Some(AgreementError::Open)
    );
    assert_eq!(
        open_sender_key(&bob, alice.public_key(), b"carol", &sealed).err(),
        Some(AgreementError::WrongSender)
    );
    // Carol relabels Alice's envelope as her own: the identity is bound into HPKE.
    let mut relabeled = sealed.clone();
    relabeled[13..18].copy_from_slice(b"carol");
    assert_eq!(
        open_sender_key(&bob, alice.public_key(), b"carol", &relabeled).err(),
        Some(AgreementError::Open)
    );
    // Another KID (generation byte, step byte), another R, another suite.
    for (offset, value) in [(10, 4), (11, 8), (3, 4), (2, 1)] {
        let mut altered = sealed.clone();
        altered[offset] = value;
        assert_eq!(
            open_sender_key(&bob, alice.public_key(), b"alice", &altered).err(),
            Some(AgreementError::Open),
            "byte {offset}"
        );
    }
    // Every bit of the ciphertext.
    for i in 85..sealed.len() {
        let mut altered = sealed.clone();
        altered[i] ^= 0x40;
        assert_eq!(
            open_sender_key(&bob, alice.public_key(), b"alice", &altered).err(),
            Some(AgreementError::Open)
        );
    }
}

#[test]
fn envelope_parser_typed_errors() {
    let mut r = rng(7);
    let alice = KeyPair::generate(&mut r);
    let bob = KeyPair::generate(&mut r);
    let sealed = envelope(&mut r, &alice, bob.public_key(), SenderKeyId::new(1, 0));
    for cut in 0..sealed.len() {
        assert!(Envelope::parse(&sealed[..cut]).is_err(), "cut at {cut}");
    }
    assert_eq!(Envelope::parse(&[]), Err(EnvelopeError::Truncated));
    let with = |offset: usize, value: u8| {
        let mut v = sealed.clone();
        v[offset] = value;
        Envelope::parse(&v).map(|_| ())
    };
    assert_eq!(with(0, 2), Err(EnvelopeError::Version(2)));
    assert_eq!(with(2, 9), Err(EnvelopeError::CipherSuite(9)));
    assert_eq!(with(3, 0), Err(EnvelopeError::RatchetBits));
    assert_eq!(with(3, 64), Err(EnvelopeError::RatchetBits));
    assert_eq!(with(12, 0), Err(EnvelopeError::SenderId));
    assert_eq!(with(18, 3), Err(EnvelopeError::EncapsulatedKey));
    assert_eq!(with(84, 16), Err(EnvelopeError::SealedKeyLength));
    assert_eq!(with(83, 1), Err(EnvelopeError::SealedKeyLength));
    let mut long = sealed.clone();
    long.push(0);
    assert_eq!(Envelope::parse(&long), Err(EnvelopeError::TrailingBytes));
    assert_eq!(
        open_sender_key(&bob, alice.public_key(), b"alice", &long).err(),
        Some(AgreementError::Envelope(EnvelopeError::TrailingBytes))
    );
}

proptest! {
    #[test]
    fn envelope_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = Envelope::parse(&bytes);
    }
}

#[test]
fn sender_id_length_is_checked() {
    let mut r = rng(8);
    let a = KeyPair::generate(&mut r);
    let key = BaseKey::new(&[1; 16]).unwrap();
    for id in [&[][..], &[b'x'; 256][..]] {
        assert_eq!(
            seal_sender_key(
                &mut r,
                &a,
                id,
                a.public_key(),
                SUITE,
                r8(),
                SenderKeyId::new(0, 0),
                &key
            )
            .err(),
            Some(AgreementError::SenderIdLength)
        );
    }
    let long_id = [b'x'; 255];
    let ok = seal_sender_key(
        &mut r,
        &a,
        &long_id,
        a.public_key(),
        SUITE,
        r8(),
        SenderKeyId::new(0, 0),
        &key,
    )
    .unwrap();
    assert_eq!(Envelope::parse(&ok).unwrap().sender_id.len(), 255);
}

struct Member {
    name: &'static [u8],
    keys: KeyPair,
    receiver: Option<RatchetReceiver>,
}

impl Member {
    fn new(name: &'static [u8], r: &mut TestRng) -> Self {
        Self {
            name,
            keys: KeyPair::generate(r),
            receiver: None,
        }
    }

    fn accept(&mut self, group: &GroupSender, envelope: &[u8]) -> Result<(), AgreementError> {
        let opened: OpenedSenderKey = open_sender_key(
            &self.keys,
            group.identity().public_key(),
            group.sender_id(),
            envelope,
        )?;
        if let Some(receiver) = &mut self.receiver {
            opened.install_into(receiver)
        } else {
            self.receiver = Some(opened.into_receiver()?);
            Ok(())
        }
    }

    fn open(&mut self, frame: &[u8]) -> Result<Vec<u8>, DecryptError> {
        let mut buf = frame.to_vec();
        self.receiver
            .as_mut()
            .unwrap()
            .decrypt_in_place(b"", &mut buf)
            .map(|p| p.to_vec())
    }
}

#[test]
fn group_join_ratchets_and_leave_starts_a_new_generation() {
    let mut r = rng(9);
    let identity = KeyPair::generate(&mut r);
    let mut alice = GroupSender::new(&mut r, identity, b"alice", SUITE, r8()).unwrap();
    let mut bob = Member::new(b"bob", &mut r);
    let mut carol = Member::new(b"carol", &mut r);

    let e = alice
        .add_member(&mut r, bob.name, bob.keys.public_key().clone())
        .unwrap();
    bob.accept(&alice, &e).unwrap();
    let before_carol = alice
        .sender()
        .encryptor()
        .encrypt_to_vec(b"", b"before carol")
        .unwrap();
    assert_eq!(bob.open(&before_carol).unwrap(), b"before carol");

    // Carol joins: Alice ratchets, Carol gets the new step only.
    let e = alice
        .add_member(&mut r, carol.name, carol.keys.public_key().clone())
        .unwrap();
    carol.accept(&alice, &e).unwrap();
    assert_eq!(alice.sender().sender_key_id(), SenderKeyId::new(0, 2));
    assert!(matches!(
        carol.open(&before_carol),
        Err(DecryptError::UnknownKeyId(_))
    ));
    let with_carol = alice
        .sender()
        .encryptor()
        .encrypt_to_vec(b"", b"with carol")
        .unwrap();
    assert_eq!(carol.open(&with_carol).unwrap(), b"with carol");
    assert_eq!(
        bob.open(&with_carol).unwrap(),
        b"with carol",
        "bob follows the ratchet"
    );

    // Bob leaves: a fresh generation, sealed to Carol only.
    let envelopes = alice.remove_member(&mut r, bob.name).unwrap();
    assert_eq!(envelopes.len(), 1);
    assert_eq!(envelopes[0].member_id, b"carol");
    // Bob cannot open Carol's envelope.
    assert_eq!(
        bob.accept(&alice, &envelopes[0].envelope).err(),
        Some(AgreementError::Open)
    );
    carol.accept(&alice, &envelopes[0].envelope).unwrap();
    let after_bob = alice
        .sender()
        .encryptor()
        .encrypt_to_vec(b"", b"after bob")
        .unwrap();
    assert_eq!(alice.sender().sender_key_id(), SenderKeyId::new(1, 0));
    assert_eq!(carol.open(&after_bob).unwrap(), b"after bob");
    assert!(matches!(
        bob.open(&after_bob),
        Err(DecryptError::UnknownKeyId(_))
    ));
    assert_eq!(alice.members().collect::<Vec<_>>(), [b"carol".as_slice()]);

    // Replaying an old envelope is refused: it is not newer than what Carol holds.
    assert_eq!(
        carol.accept(&alice, &envelopes[0].envelope).err(),
        Some(AgreementError::Stale)
    );
    assert_eq!(carol.accept(&alice, &e).err(), Some(AgreementError::Stale));
    assert_eq!(
        alice.remove_member(&mut r, b"nobody").err(),
        Some(AgreementError::UnknownMember)
    );
}

#[cfg(feature = "getrandom")]
#[test]
fn os_rng_generates_distinct_keys() {
    let mut r = secure_frame::agreement::os_rng();
    let a = KeyPair::generate(&mut r);
    let b = KeyPair::generate(&mut r);
    assert_ne!(a.public_key(), b.public_key());
}

/// A replayed envelope of the receiver's own generation, for a step it has already ratcheted
/// past and dropped, must not move it back (the hole: such a KID is no longer "held").
#[test]
fn replayed_same_generation_envelope_cannot_move_a_receiver_back() {
    let mut r = rng(77);
    let alice = KeyPair::generate(&mut r);
    let bob = KeyPair::generate(&mut r);
    let old = envelope(&mut r, &alice, bob.public_key(), SenderKeyId::new(0, 1));
    let mut receiver = open_sender_key(&bob, alice.public_key(), b"alice", &old)
        .unwrap()
        .into_receiver()
        .unwrap();
    // The sender's key 8 steps after the sealed one (step 1, base key [9; 32]).
    let mut chain = RatchetSender::new(SUITE, r8(), 0, BaseKey::new(&[9; 32]).unwrap()).unwrap();
    for _ in 0..8 {
        chain.ratchet().unwrap();
    }
    let step9 = BaseKey::new(chain.base_key().expose_secret()).unwrap();
    receiver.install(SenderKeyId::new(0, 9), step9).unwrap();
    let before = receiver.sender_key_id();
    assert_eq!(before, SenderKeyId::new(0, 9));
    for step in [1, 2, 9, 200] {
        let replay = envelope(&mut r, &alice, bob.public_key(), SenderKeyId::new(0, step));
        let opened = open_sender_key(&bob, alice.public_key(), b"alice", &replay).unwrap();
        assert_eq!(
            opened.install_into(&mut receiver).err(),
            Some(AgreementError::Stale)
        );
        assert_eq!(
            receiver.sender_key_id(),
            before,
            "step {step} moved the receiver"
        );
    }
    // a new generation is accepted
    let next = envelope(&mut r, &alice, bob.public_key(), SenderKeyId::new(1, 0));
    let opened = open_sender_key(&bob, alice.public_key(), b"alice", &next).unwrap();
    opened.install_into(&mut receiver).unwrap();
    assert_eq!(receiver.sender_key_id(), SenderKeyId::new(1, 0));
}

#[test]
fn group_keys_seal_the_sessions_own_sender_key() {
    use secure_frame::agreement::GroupKeys;
    use secure_frame::{ParticipantId, RatchetError, SenderKeyLayout, SenderKeySession};
    let mut r = rng(21);
    let layout = SenderKeyLayout::default();
    let mut alice = SenderKeySession::new(SUITE, layout, ParticipantId(0)).unwrap();
    let mut keys = GroupKeys::new(KeyPair::generate(&mut r), b"alice").unwrap();
    assert_eq!(
        keys.seal_to_all(&mut r, &alice).err(),
        None,
        "no members: nothing to seal"
    );
    let (bob_pair, carol_pair) = (KeyPair::generate(&mut r), KeyPair::generate(&mut r));
    let receiver = |me: u64| SenderKeySession::new(SUITE, layout, ParticipantId(me)).unwrap();
    let (mut bob, mut carol) = (receiver(1), receiver(2));
    let alice_pub = keys.identity().public_key().clone();

    // The first member gives the session its first key; the envelope carries the session's KID.
    let e = keys
        .add_member(&mut r, &mut alice, b"bob", bob_pair.public_key().clone())
        .unwrap();
    assert_eq!(
        Envelope::parse(&e).unwrap().sender_key_id(),
        alice.send_key().unwrap().0
    );
    let opened = open_sender_key(&bob_pair, &alice_pub, b"alice", &e).unwrap();
    bob.add_participant(ParticipantId(0), opened.key_id, &opened.base_key)
        .unwrap();
    let mut frame = b"one".to_vec();
    alice.protect(b"", &mut frame).unwrap();
    let d = bob.unprotect(b"", &mut frame).unwrap().decrypted().unwrap();
    assert_eq!((d.sender, &*d.plaintext), (ParticipantId(0), &b"one"[..]));

    // A join ratchets the session's sender: same generation, next step.
    let before = alice.send_key().unwrap().0;
    let e = keys
        .add_member(
            &mut r,
            &mut alice,
            b"carol",
            carol_pair.public_key().clone(),
        )
        .unwrap();
    let after = alice.send_key().unwrap().0;
    assert_eq!(
        (after.generation, after.ratchet_step),
        (before.generation, before.ratchet_step + 1)
    );
    let opened = open_sender_key(&carol_pair, &alice_pub, b"alice", &e).unwrap();
    carol
        .add_participant(ParticipantId(0), opened.key_id, &opened.base_key)
        .unwrap();

    // A leave starts the session's next generation, sealed to Carol only.
    assert_eq!(alice.send_generation(), Some(0));
    let sealed = keys.remove_member(&mut r, &mut alice, b"bob").unwrap();
    assert_eq!(alice.send_generation(), Some(1));
    assert_eq!(sealed.len(), 1);
    assert_eq!(sealed[0].member_id, b"carol");
    let opened = open_sender_key(&carol_pair, &alice_pub, b"alice", &sealed[0].envelope).unwrap();
    carol
        .add_participant(ParticipantId(0), opened.key_id, &opened.base_key)
        .unwrap();
    let mut frame = b"two".to_vec();
    alice.protect(b"", &mut frame).unwrap();
    assert!(bob.unprotect(b"", &mut frame.clone()).is_err());
    let d = carol
        .unprotect(b"", &mut frame)
        .unwrap()
        .decrypted()
        .unwrap();
    assert_eq!(&*d.plaintext, b"two");
    assert_eq!(
        alice.stats().frames_protected,
        2,
        "one encryptor sent every frame"
    );

    // A keyless holder cannot be sealed.
    let keyless = receiver(3);
    let mut lonely = GroupKeys::new(KeyPair::generate(&mut r), b"dave").unwrap();
    lonely
        .add_member(
            &mut r,
            &mut receiver(4),
            b"x",
            bob_pair.public_key().clone(),
        )
        .unwrap();
    assert_eq!(
        lonely.seal_to_all(&mut r, &keyless).err(),
        Some(AgreementError::Ratchet(RatchetError::NoSendKey))
    );
}
