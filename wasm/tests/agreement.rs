//! The P-256 pairwise agreement a page runs before a 1:1 call: both sides get the same keys
//! and code, frames cross both ways, and the refusals.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failure")]

use secure_frame::agreement::Role;
use secure_frame::{AgreementError, CipherSuite, KeyId};
use secure_frame_wasm::agreement::{Agreement, role_by_name};
use secure_frame_wasm::transform::{Format, Receiver, Sender};

const GCM: CipherSuite = CipherSuite::AesGcm128Sha256;

fn side(byte: u8, role: Role, suite: CipherSuite) -> Agreement {
    Agreement::from_secret(&[byte; 32], role, suite).unwrap()
}

#[test]
fn both_sides_get_the_same_keys_and_code_and_frames_cross() {
    for suite in [
        GCM,
        CipherSuite::AesGcm256Sha512,
        CipherSuite::AesCtr128HmacSha256_80,
    ] {
        let alice = side(1, role_by_name("initiator").unwrap(), suite);
        let bob = side(2, role_by_name("responder").unwrap(), suite);
        assert_eq!(alice.public_key().len(), 65);
        assert_eq!(alice.public_key()[0], 0x04);
        assert_ne!(alice.public_key(), bob.public_key());

        let a = alice.agree(bob.public_key()).unwrap();
        let b = bob.agree(alice.public_key()).unwrap();
        assert_eq!(a.send().expose_secret(), b.receive().expose_secret());
        assert_eq!(a.receive().expose_secret(), b.send().expose_secret());
        assert_ne!(a.send().expose_secret(), a.receive().expose_secret());
        assert_eq!(a.send().len(), suite.hash_len());
        assert_eq!(a.verification_code(), b.verification_code());
        assert_eq!(a.verification_code().to_string().len(), 6);

        // Alice sends under KID 1, Bob under KID 2, each with the key the other receives with.
        for (me, peer, kid) in [(&a, &b, KeyId(1)), (&b, &a, KeyId(2))] {
            let mut sender = Sender::new(suite, Format::Rfc);
            sender.set_key(kid, me.send().expose_secret()).unwrap();
            let mut receiver = Receiver::new(suite, Format::Rfc);
            receiver
                .add_key(kid, peer.receive().expose_secret())
                .unwrap();
            let mut wire = sender.protect("audio/opus", b"hello").unwrap().to_vec();
            assert_eq!(
                receiver.unprotect("audio/opus", &mut wire).unwrap(),
                b"hello"
            );
            // The peer's own send key does not open what it receives.
            let mut wrong = Receiver::new(suite, Format::Rfc);
            wrong.add_key(kid, peer.send().expose_secret()).unwrap();
            let mut wire = sender.protect("audio/opus", b"hello").unwrap().to_vec();
            assert!(wrong.unprotect("audio/opus", &mut wire).is_err());
        }
    }
}

/// A man-in-the-middle runs one agreement with each side: the two codes differ (for these
/// keys; a six-digit code collides with probability 10^-6), and the commitment binds the key.
#[test]
fn a_man_in_the_middle_changes_the_code_and_breaks_the_commitment() {
    let alice = side(1, Role::Initiator, GCM);
    let bob = side(2, Role::Responder, GCM);
    let mallory_to_alice = side(3, Role::Responder, GCM);
    let mallory_to_bob = side(4, Role::Initiator, GCM);
    let alice_side = alice.agree(mallory_to_alice.public_key()).unwrap();
    let bob_side = bob.agree(mallory_to_bob.public_key()).unwrap();
    assert_ne!(alice_side.verification_code(), bob_side.verification_code());
    let honest = alice.agree(bob.public_key()).unwrap();
    assert_ne!(honest.verification_code(), alice_side.verification_code());

    let commitment = bob.commitment();
    assert!(Agreement::verify_commitment(bob.public_key(), &commitment));
    assert!(!Agreement::verify_commitment(
        mallory_to_alice.public_key(),
        &commitment
    ));
    assert!(!Agreement::verify_commitment(&[4; 65], &commitment));
}

#[test]
fn bad_keys_and_roles_are_refused() {
    assert_eq!(role_by_name("caller"), None);
    assert_eq!(
        Agreement::from_secret(&[0; 32], Role::Initiator, GCM).unwrap_err(),
        AgreementError::InvalidPrivateKey
    );
    assert_eq!(
        Agreement::from_secret(&[0xff; 32], Role::Initiator, GCM).unwrap_err(),
        AgreementError::InvalidPrivateKey
    );
    let alice = side(1, Role::Initiator, GCM);
    assert_eq!(
        alice.agree(&[4; 65]).unwrap_err(),
        AgreementError::InvalidPublicKey
    );
    assert_eq!(
        alice.agree(&[]).unwrap_err(),
        AgreementError::InvalidPublicKey
    );
    assert_eq!(
        alice.agree(alice.public_key()).unwrap_err(),
        AgreementError::SameRoleOrKey
    );
    // Both sides as initiator: each gets keys, but they do not match.
    let also_initiator = side(2, Role::Initiator, GCM);
    let a = alice.agree(also_initiator.public_key()).unwrap();
    let b = also_initiator.agree(alice.public_key()).unwrap();
    assert_ne!(a.send().expose_secret(), b.receive().expose_secret());
    assert_ne!(a.verification_code(), b.verification_code());
    // Debug shows no secret.
    let text = format!("{alice:?}");
    assert!(
        text.starts_with("Agreement { pair: KeyPair { public: PublicKey(04"),
        "{text}"
    );
    assert!(!text.contains("secret:"), "{text}");
}
