//! A 1:1 call keyed by P-256 ECDH (not RFC 9605): each side generates a key pair, they swap
//! public keys (commitment first), agree on one base key per direction, read the six-digit
//! code to each other, and exchange SFrame-protected frames.
//!
//! `cargo run --example ecdh_call --features getrandom`
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    reason = "application code: the restriction lints guard the library"
)]

use secure_frame::agreement::{KeyPair, Role, agree, os_rng};
use secure_frame::{CipherSuite, Encryptor, KeyId, ReceiveKey};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let suite = CipherSuite::AesGcm128Sha256;
    let mut rng = os_rng();
    let alice = KeyPair::generate(&mut rng);
    let bob = KeyPair::generate(&mut rng);

    // Alice commits to her key before seeing Bob's, so a man in the middle cannot pick keys
    // that make the short codes collide.
    let commitment = alice.public_key().commitment();
    let bob_sees = alice.public_key().clone(); // sent after Bob's key arrived
    assert!(bob_sees.matches_commitment(&commitment));

    let a = agree(&alice, Role::Initiator, bob.public_key(), suite)?;
    let b = agree(&bob, Role::Responder, &bob_sees, suite)?;
    println!("alice reads: {}", a.verification_code());
    println!("bob reads:   {}", b.verification_code());
    assert_eq!(a.verification_code(), b.verification_code());

    // One KID per direction; each base key encrypts for one sender only (RFC 9605 §4.4.1).
    let (a_send, a_receive) = a.into_keys();
    let (b_send, b_receive) = b.into_keys();
    let mut alice_out = Encryptor::new(suite, KeyId(0), &a_send);
    let mut alice_in = ReceiveKey::new(suite, KeyId(1), &a_receive);
    let mut bob_out = Encryptor::new(suite, KeyId(1), &b_send);
    let mut bob_in = ReceiveKey::new(suite, KeyId(0), &b_receive);

    let mut frame = alice_out.encrypt_to_vec(b"", b"hello bob")?;
    println!(
        "alice -> bob: {}",
        String::from_utf8_lossy(bob_in.decrypt_in_place(b"", &mut frame)?)
    );
    let mut frame = bob_out.encrypt_to_vec(b"", b"hello alice")?;
    println!(
        "bob -> alice: {}",
        String::from_utf8_lossy(alice_in.decrypt_in_place(b"", &mut frame)?)
    );
    Ok(())
}
