//! A sender encrypts a short run of media frames; a receiver decrypts them, rejects a replay
//! and a forgery, and keeps a frame whose key has not arrived yet until it does.
//!
//! `cargo run --example sender_receiver`
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    reason = "application code: the restriction lints guard the library"
)]

use secure_frame::{BaseKey, CipherSuite, DecryptError, Decryptor, Encryptor, KeyId};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let suite = CipherSuite::AesGcm128Sha256;
    // In a real call these come from key management (sender keys, MLS or ECDH).
    let (alice_kid, alice_key) = (KeyId(1), BaseKey::new(&[0x11; 16])?);
    let (bob_kid, bob_key) = (KeyId(2), BaseKey::new(&[0x22; 16])?);

    let mut alice = Encryptor::new(suite, alice_kid, &alice_key);
    let mut bob = Encryptor::new(suite, bob_kid, &bob_key);
    let mut receiver = Decryptor::new(suite);
    receiver.add_key(alice_kid, &alice_key)?;

    let frames: [&[u8]; 3] = [b"keyframe: IDR slice", b"delta frame 1", b"delta frame 2"];
    let mut wire = Vec::new();
    // One buffer for every frame, laid out [header room][frame][tag room]: the frame is
    // encrypted where it lies, and the header lands right in front of it.
    let mut room = vec![0; Encryptor::HEADER_ROOM + 64 + suite.tag_len()];
    for frame in frames {
        let end = Encryptor::HEADER_ROOM + frame.len() + suite.tag_len();
        room[Encryptor::HEADER_ROOM..][..frame.len()].copy_from_slice(frame);
        let ciphertext = alice.encrypt_in_room(b"", &mut room[..end])?.to_vec();
        println!(
            "sent     {:>2} bytes -> {:>2} bytes  header {:02x?}",
            frame.len(),
            ciphertext.len(),
            &ciphertext[..ciphertext.len() - frame.len() - suite.tag_len()],
        );
        wire.push(ciphertext);
    }

    for ciphertext in &wire {
        let mut frame = ciphertext.clone();
        let plaintext = receiver.decrypt_in_place(b"", &mut frame)?;
        println!("received {:?}", String::from_utf8_lossy(plaintext));
    }

    let mut replayed = wire[0].clone();
    let replay = receiver.decrypt_in_place(b"", &mut replayed);
    println!("replayed first frame: {replay:?}");
    assert_eq!(replay, Err(DecryptError::Replay));

    let next = alice.encrypt_to_vec(b"", b"delta frame 3")?;
    let mut forged = next.clone();
    *forged.last_mut().expect("frames are not empty") ^= 1;
    let forgery = receiver.decrypt_in_place(b"", &mut forged);
    println!("flipped one tag bit:  {forgery:?}");
    assert_eq!(forgery, Err(DecryptError::Authentication));
    // The forgery moved nothing: the genuine frame with the same counter still decrypts.
    let mut genuine = next;
    let plaintext = receiver.decrypt_in_place(b"", &mut genuine)?;
    println!(
        "genuine after forgery: {:?}",
        String::from_utf8_lossy(plaintext)
    );

    // Bob's frame arrives before his key: RFC 9605 §4.4.4 lets the receiver keep it.
    let mut early = bob.encrypt_to_vec(b"", b"bob's first frame")?;
    let unknown = receiver.decrypt_in_place(b"", &mut early);
    println!("bob before his key:   {unknown:?}");
    assert_eq!(unknown, Err(DecryptError::UnknownKeyId(bob_kid)));
    receiver.add_key(bob_kid, &bob_key)?;
    let plaintext = receiver.decrypt_in_place(b"", &mut early)?;
    println!(
        "bob after his key:    {:?}",
        String::from_utf8_lossy(plaintext)
    );
    Ok(())
}
