//! The per-frame path allocates nothing: a counting global allocator watches every encrypt and
//! decrypt entry point that does not return a `Vec`, for every suite, after setup.
//!
//! One test in this binary, so no other test thread allocates while it counts.

#![allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]

use std::alloc::System;

use secure_frame::codec::Codec;
use secure_frame::session::{FrameFormat, ParticipantId, SenderKeyLayout, SenderKeySession};
use secure_frame::{BaseKey, CipherSuite, Decryptor, Encryptor, KeyId, MAX_TAG_LEN, ReceiveKey};
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
            let mut sender = Encryptor::new(suite, kid, &BaseKey::new(b"base key").unwrap());
            let mut single = ReceiveKey::new(suite, kid, &BaseKey::new(b"base key").unwrap());
            let mut store = Decryptor::new(suite);
            for other in 0..1000 {
                store
                    .add_key(KeyId(other), &BaseKey::new(b"another key").unwrap())
                    .unwrap();
            }
            store.remove_key(kid);
            store
                .add_key(kid, &BaseKey::new(b"base key").unwrap())
                .unwrap();
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

            session_receives_without_allocating(suite, len, FrameFormat::Rfc9605);
        }
        session_receives_without_allocating(suite, 1200, FrameFormat::CodecAware(Codec::Vp8));
        session_receives_without_allocating(suite, 1200, FrameFormat::CodecAware(Codec::H264));
    }
}

/// Eight participants keyed as the docs say (everyone at generation 0): the KID names the
/// sender, so participant 0 opens each frame with one key, and neither protect (in room for
/// RFC 9605, in the frame's own buffer for the codec-aware format) nor unprotect allocates.
fn session_receives_without_allocating(suite: CipherSuite, len: usize, format: FrameFormat) {
    let layout = SenderKeyLayout::default();
    let mut sessions: Vec<SenderKeySession> = (0..8)
        .map(|i| {
            let mut s = SenderKeySession::new(suite, layout, ParticipantId(i))
                .unwrap()
                .with_format(format);
            s.set_send_key(
                0,
                BaseKey::new(&[u8::try_from(i).unwrap() + 1; 16]).unwrap(),
            )
            .unwrap();
            s
        })
        .collect();
    let (receiver, senders) = sessions.split_first_mut().unwrap();
    for (i, sender) in senders.iter().enumerate() {
        let (id, base) = sender.send_key().unwrap();
        receiver
            .add_participant(ParticipantId(u64::try_from(i + 1).unwrap()), id, base)
            .unwrap();
    }
    let plaintext: Vec<u8> = match format {
        // A VP8 delta frame; an H.264 non-IDR slice.
        FrameFormat::CodecAware(Codec::Vp8) => {
            [&[0x31u8, 0x22, 0x33][..], &vec![0x5a; len]].concat()
        }
        FrameFormat::CodecAware(_) => [&[0, 0, 0, 1, 0x61, 0xe0][..], &vec![0x5a; len]].concat(),
        _ => vec![0x5a; len],
    };
    let metadata = [9u8; 12];
    let mut room = vec![0u8; Encryptor::HEADER_ROOM + plaintext.len() + MAX_TAG_LEN];
    let mut wires: Vec<Vec<u8>> = vec![Vec::new(); senders.len()];
    for round in 0..3 {
        // The first rounds grow every buffer; the last must not allocate.
        for (sender, wire) in senders.iter_mut().zip(&mut wires) {
            let region = Region::new(GLOBAL);
            if format == FrameFormat::Rfc9605 {
                room[Encryptor::HEADER_ROOM..][..plaintext.len()].copy_from_slice(&plaintext);
                let end = Encryptor::HEADER_ROOM + plaintext.len() + suite.tag_len();
                let protected = sender.protect_in_room(&metadata, &mut room[..end]).unwrap();
                wire.clear();
                wire.extend_from_slice(protected);
            } else {
                wire.clear();
                wire.extend_from_slice(&plaintext);
                let at = wire.as_ptr();
                sender.protect(&metadata, wire).unwrap();
                if round == 2 {
                    // Encrypted where it lay, the trailer appended in the spare capacity.
                    assert_eq!(wire.as_ptr(), at, "protect moved the frame");
                    // VP8 keeps its first byte clear, H.264 the start code, NAL and slice header.
                    let clear = if format == FrameFormat::CodecAware(Codec::Vp8) {
                        1
                    } else {
                        6
                    };
                    assert_eq!(wire[..clear], plaintext[..clear], "clear bytes in place");
                    assert_ne!(wire[clear], plaintext[clear], "the rest encrypted");
                }
            }
            let stats = region.change();
            if round == 2 {
                assert_eq!(
                    (stats.allocations, stats.reallocations),
                    (0, 0),
                    "protect {format:?} {suite} {len} B: {stats:?}"
                );
            }
        }
        let before = receiver.stats().frames_ok;
        let region = Region::new(GLOBAL);
        for (i, wire) in wires.iter_mut().enumerate() {
            let opened = receiver.unprotect(&metadata, wire).unwrap();
            let decrypted = opened.decrypted().unwrap();
            assert_eq!(
                decrypted.sender,
                ParticipantId(u64::try_from(i + 1).unwrap())
            );
            assert_eq!(decrypted.plaintext.len(), plaintext.len());
        }
        let stats = region.change();
        if round == 2 {
            assert_eq!(
                (
                    stats.allocations,
                    stats.reallocations,
                    stats.bytes_allocated
                ),
                (0, 0, 0),
                "session {format:?} {suite} {len} B allocated per frame: {stats:?}"
            );
        }
        assert_eq!(receiver.stats().frames_ok - before, 7);
    }
    assert_eq!(
        receiver.stats().authentication_errors,
        0,
        "no frame was tried under a wrong key"
    );
}
