//! A group call with sender keys (RFC 9605 §5.1), distributed with HPKE envelopes (not RFC
//! 9605): Alice's sender key reaches Bob, then Carol joins (Alice ratchets, Carol cannot read
//! earlier frames), then Bob leaves (a new generation, sealed to Carol only).
//!
//! Everyone holds a `SenderKeySession`; Alice's `GroupKeys` seals the key of her session's own
//! sender, so one key has one counter.
//!
//! `cargo run --example group_sender_keys --features getrandom`
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    reason = "application code: the restriction lints guard the library"
)]

use secure_frame::agreement::{GroupKeys, KeyPair, open_sender_key, os_rng};
use secure_frame::{
    CipherSuite, ParticipantId, SenderKeyLayout, SenderKeySession, UnprotectError, Unprotected,
};

/// What a receiver shows for one frame.
fn show(result: Result<Unprotected<'_>, UnprotectError>) -> String {
    match result {
        Ok(Unprotected::Decrypted(d)) => {
            format!(
                "{} (from {})",
                String::from_utf8_lossy(d.plaintext),
                d.sender
            )
        }
        Ok(Unprotected::PassedThrough { reason, .. }) => format!("passed through: {reason:?}"),
        Err(e) => format!("refused: {e} ({})", e.kind()),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let suite = CipherSuite::AesGcm128Sha256;
    let layout = SenderKeyLayout::default();
    let mut rng = os_rng();
    let (alice_id, bob_id, carol_id) = (ParticipantId(0), ParticipantId(1), ParticipantId(2));
    let mut alice = SenderKeySession::new(suite, layout, alice_id)?;
    let mut alice_keys = GroupKeys::new(KeyPair::generate(&mut rng), b"alice")?;
    let alice_public = alice_keys.identity().public_key().clone();
    let (bob_pair, carol_pair) = (KeyPair::generate(&mut rng), KeyPair::generate(&mut rng));
    let mut bob = SenderKeySession::new(suite, layout, bob_id)?;
    let mut carol = SenderKeySession::new(suite, layout, carol_id)?;

    // Bob joins: Alice's session gets its first key, sealed to Bob.
    let envelope =
        alice_keys.add_member(&mut rng, &mut alice, b"bob", bob_pair.public_key().clone())?;
    let opened = open_sender_key(&bob_pair, &alice_public, b"alice", &envelope)?;
    bob.add_participant(alice_id, opened.key_id, &opened.base_key)?;
    let mut early = b"before carol".to_vec();
    alice.protect(b"", &mut early)?;
    println!("bob:   {}", show(bob.unprotect(b"", &mut early.clone())));

    // Carol joins: Alice ratchets; Bob follows by himself.
    let envelope = alice_keys.add_member(
        &mut rng,
        &mut alice,
        b"carol",
        carol_pair.public_key().clone(),
    )?;
    let opened = open_sender_key(&carol_pair, &alice_public, b"alice", &envelope)?;
    carol.add_participant(alice_id, opened.key_id, &opened.base_key)?;
    println!(
        "carol, frame from before she joined: {}",
        show(carol.unprotect(b"", &mut early.clone()))
    );
    carol.clear_pending();
    let mut frame = b"welcome carol".to_vec();
    alice.protect(b"", &mut frame)?;
    println!("bob:   {}", show(bob.unprotect(b"", &mut frame.clone())));
    println!("carol: {}", show(carol.unprotect(b"", &mut frame.clone())));

    // Bob leaves: a fresh generation, sealed to Carol only.
    for sealed in alice_keys.remove_member(&mut rng, &mut alice, b"bob")? {
        let opened = open_sender_key(&carol_pair, &alice_public, b"alice", &sealed.envelope)?;
        carol.add_participant(alice_id, opened.key_id, &opened.base_key)?;
    }
    let mut frame = b"bob has left".to_vec();
    alice.protect(b"", &mut frame)?;
    println!("carol: {}", show(carol.unprotect(b"", &mut frame.clone())));
    println!("bob:   {}", show(bob.unprotect(b"", &mut frame.clone())));
    bob.clear_pending();
    println!("bob's counters: {:?}", bob.stats());
    Ok(())
}
