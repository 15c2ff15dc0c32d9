//! The per-frame path allocates nothing: a counting global allocator watches every encrypt and
//! decrypt entry point that does not return a `Vec`, for every suite, after setup.
//!
//! One test in this binary, so no other test thread allocates while it counts.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

use std::alloc::System;

use secure_frame::ratchet::{RatchetBits, SenderKeyId};
use secure_frame::session::{ParticipantId, Session};
use secure_frame::{BaseKey, CipherSuite, Decryptor, Encryptor, KeyId, ReceiveKey};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[test]
fn no_heap_allocation_per_frame() {
    let metadata = [7u8; 40];
    for &suite in CipherSuite::ALL {
        for len in [0usize, 32, 1200, 16 * 1024] {
            // Setup may allocate: keys, the KID store with 1 000 keys, buffers.
            let kid = KeyId(0x1234);
            let mut sender = Encryptor::new(suite, kid, b"base key").unwrap();
            let mut single = ReceiveKey::new(suite, kid, b"base key").unwrap();
            let mut store = Decryptor::new(suite);
            for other in 0..1000 {
                store.add_key(KeyId(other), b"another key").unwrap();
            }
            store.remove_key(kid);
            store.add_key(kid, b"base key").unwrap();
            let plaintext = vec![0x5a; len];
            let mut out = vec![0; sender.ciphertext_len(len) + 17];
            let mut room = vec![0; Encryptor::HEADER_ROOM + len + suite.tag_len()];
            let mut frame = vec![0; sender.ciphertext_len(len) + 17];
            let mut decrypted = vec![0; len];

            let region = Region::new(GLOBAL);
            for _ in 0..3 {
                // encrypt into a caller's buffer, then decrypt in place through the store
                let n = sender
                    .encrypt(&metadata, &plaintext, &mut out)
                    .unwrap()
                    .len();
                frame[..n].copy_from_slice(&out[..n]);
                let pt = store.decrypt_in_place(&metadata, &mut frame[..n]).unwrap();
                assert_eq!(pt.len(), len);

                // encrypt in room, decrypt into a caller's buffer with a single key
                room[Encryptor::HEADER_ROOM..Encryptor::HEADER_ROOM + len]
                    .copy_from_slice(&plaintext);
                let sealed = sender.encrypt_in_room(&metadata, &mut room).unwrap();
                let pt = single.decrypt(&metadata, sealed, &mut decrypted).unwrap();
                assert_eq!(pt, plaintext.as_slice());
                let _ = store.decrypt_in_place(&metadata, sealed);
            }
            let stats = region.change();
            assert_eq!(
                (
                    stats.allocations,
                    stats.reallocations,
                    stats.bytes_allocated
                ),
                (0, 0, 0),
                "{suite} {len} B allocated per frame: {stats:?}"
            );

            // The session layer: a sender-key session with three remote participants.
            let bits = RatchetBits::new(8).unwrap();
            let mut alice = Session::sender_keys(suite, bits);
            alice
                .set_send_key(0, BaseKey::new(b"alice key").unwrap())
                .unwrap();
            let mut bob = Session::sender_keys(suite, bits);
            bob.set_send_key(5, BaseKey::new(b"bob key").unwrap())
                .unwrap();
            for (p, generation, key) in [(1, 0, &b"alice key"[..]), (2, 1, b"x"), (3, 2, b"y")] {
                let id = SenderKeyId::new(generation, 0);
                bob.add_participant(ParticipantId(p), id, BaseKey::new(key).unwrap())
                    .unwrap();
            }
            let region = Region::new(GLOBAL);
            for _ in 0..3 {
                let n = alice
                    .protect_into(&metadata, &plaintext, &mut out)
                    .unwrap()
                    .len();
                frame[..n].copy_from_slice(&out[..n]);
                let opened = bob.unprotect(&metadata, &mut frame[..n]).unwrap();
                assert_eq!(
                    (opened.sender, opened.plaintext.len()),
                    (ParticipantId(1), len)
                );
            }
            let stats = region.change();
            assert_eq!(
                (
                    stats.allocations,
                    stats.reallocations,
                    stats.bytes_allocated
                ),
                (0, 0, 0),
                "session {suite} {len} B allocated per frame: {stats:?}"
            );
        }
    }
}
