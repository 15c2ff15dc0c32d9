//! A group call with sender keys (RFC 9605 §5.1), distributed with HPKE envelopes (not RFC
//! 9605): Alice's sender key reaches Bob, then Carol joins (Alice ratchets, Carol cannot read
//! earlier frames), then Bob leaves (a new generation, sealed to Carol only). Each receiver
//! holds Alice's key in a `RatchetReceiver`, built from and updated by her envelopes.
//!
//! `cargo run --example group_sender_keys --features getrandom`
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    reason = "application code: the restriction lints guard the library"
)]

use secure_frame::agreement::{GroupSender, KeyPair, open_sender_key, os_rng};
use secure_frame::{CipherSuite, RatchetBits};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let suite = CipherSuite::AesGcm128Sha256;
    let bits = RatchetBits::new(8)?;
    let mut rng = os_rng();
    let identity = KeyPair::generate(&mut rng);
    let mut alice = GroupSender::new(&mut rng, identity, b"alice", suite, bits)?;
    let alice_public = alice.identity().public_key().clone();
    let (bob_keys, carol_keys) = (KeyPair::generate(&mut rng), KeyPair::generate(&mut rng));

    // Bob joins.
    let envelope = alice.add_member(&mut rng, b"bob", bob_keys.public_key().clone())?;
    let opened = open_sender_key(&bob_keys, &alice_public, b"alice", &envelope)?;
    let mut bob = opened.into_receiver()?;
    let early = alice
        .sender()
        .encryptor()
        .encrypt_to_vec(b"", b"before carol")?;
    let mut buf = early.clone();
    println!(
        "bob:   {}",
        String::from_utf8_lossy(bob.decrypt_in_place(b"", &mut buf)?)
    );

    // Carol joins: Alice ratchets; Bob follows by himself.
    let envelope = alice.add_member(&mut rng, b"carol", carol_keys.public_key().clone())?;
    let opened = open_sender_key(&carol_keys, &alice_public, b"alice", &envelope)?;
    let mut carol = opened.into_receiver()?;
    println!(
        "carol, frame from before she joined: {:?}",
        carol.decrypt_in_place(b"", &mut early.clone()).err()
    );
    let frame = alice
        .sender()
        .encryptor()
        .encrypt_to_vec(b"", b"welcome carol")?;
    println!(
        "bob:   {}",
        String::from_utf8_lossy(bob.decrypt_in_place(b"", &mut frame.clone())?)
    );
    println!(
        "carol: {}",
        String::from_utf8_lossy(carol.decrypt_in_place(b"", &mut frame.clone())?)
    );

    // Bob leaves: a fresh generation, sealed to Carol only.
    for sealed in alice.remove_member(&mut rng, b"bob")? {
        let opened = open_sender_key(&carol_keys, &alice_public, b"alice", &sealed.envelope)?;
        opened.install_into(&mut carol)?;
    }
    let frame = alice
        .sender()
        .encryptor()
        .encrypt_to_vec(b"", b"bob has left")?;
    println!(
        "carol: {}",
        String::from_utf8_lossy(carol.decrypt_in_place(b"", &mut frame.clone())?)
    );
    println!(
        "bob:   {:?}",
        bob.decrypt_in_place(b"", &mut frame.clone()).err()
    );
    Ok(())
}
