//! Byte for byte with cisco/sframe, the implementation libwebrtc's native SFrame is built on:
//! frames sealed by one open in the other, both directions, for suites 1–5 (cisco has no
//! others), KIDs and counters at every header-length boundary, metadata of 0 to 512 bytes and
//! plaintexts of 0 to 64 KiB; the same inputs give the same bytes. Then the differences, each
//! pinned: cisco refuses counter `u64::MAX` and metadata over 512 bytes, and its `MLSContext`
//! derives one more key than RFC 9605 §5.2 (`src/manual/interop.md` has the table).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

mod common;
#[path = "common/hostile.rs"]
mod hostile;

use common::{Frame, flipped, frame};
use hmac::{KeyInit, Mac};
use interop::cisco::{CiscoContext, CiscoError, CiscoMlsContext, KeyUsage};
use proptest::prelude::*;
use secure_frame::mls::{MlsEpochStore, MlsKeyId, MlsKidLayout};
use secure_frame::{
    BaseKey, CipherSuite, Counter, DecryptError, Decryptor, Encryptor, Header, KeyId,
    MAX_METADATA_LEN,
};

/// The suites cisco/sframe has: RFC 9605's five.
fn cisco_suites() -> impl Iterator<Item = CipherSuite> {
    CipherSuite::ALL.iter().copied().filter(|s| s.id() <= 5)
}

/// Counters up to this are reached in cisco by protecting that many frames first; above it,
/// through the shim's counter door.
const DRIVE_LIMIT: u64 = 64;

fn ours_seal(suite: CipherSuite, f: &Frame) -> Vec<u8> {
    let mut e = Encryptor::new(suite, KeyId(f.kid), &BaseKey::new(&f.base_key).unwrap());
    e.advance_counter_to(Counter(f.ctr)).unwrap();
    e.encrypt_to_vec(&f.metadata, &f.plaintext).unwrap()
}

fn ours_open(suite: CipherSuite, f: &Frame, frame: &[u8]) -> Result<Vec<u8>, DecryptError> {
    let mut d = Decryptor::new(suite);
    d.add_key(KeyId(f.kid), &BaseKey::new(&f.base_key).unwrap())
        .unwrap();
    d.decrypt_to_vec(&f.metadata, frame)
}

fn cisco_seal(suite: CipherSuite, f: &Frame) -> Result<Vec<u8>, CiscoError> {
    let mut c = CiscoContext::new(suite.id()).unwrap();
    c.add_key(f.kid, KeyUsage::Protect, &f.base_key)?;
    if f.ctr <= DRIVE_LIMIT {
        for _ in 0..f.ctr {
            c.protect(f.kid, b"", b"")?;
        }
    } else {
        c.set_counter(f.kid, f.ctr)?;
    }
    c.protect(f.kid, &f.plaintext, &f.metadata)
}

fn cisco_open(suite: CipherSuite, f: &Frame, frame: &[u8]) -> Result<Vec<u8>, CiscoError> {
    let mut c = CiscoContext::new(suite.id()).unwrap();
    c.add_key(f.kid, KeyUsage::Unprotect, &f.base_key)?;
    c.unprotect(frame, &f.metadata)
}

proptest! {
    #![proptest_config(common::config())]

    /// Ours → cisco, every suite: the frame opens to the plaintext; one flipped bit and it
    /// does not.
    #[test]
    fn ours_to_cisco(f in frame()) {
        for suite in cisco_suites() {
            let sealed = ours_seal(suite, &f);
            prop_assert_eq!(cisco_open(suite, &f, &sealed), Ok(f.plaintext.clone()), "{}", suite);
            prop_assert!(cisco_open(suite, &f, &flipped(&sealed, f.flip)).is_err(), "{}", suite);
        }
    }

    /// Cisco → ours, every suite: the frame opens to the plaintext and is byte for byte the one
    /// we seal from the same inputs; one flipped bit and it does not open. At counter
    /// `u64::MAX` cisco refuses to protect (its choice, see `counter_u64_max`).
    #[test]
    fn cisco_to_ours(f in frame()) {
        for suite in cisco_suites() {
            let sealed = cisco_seal(suite, &f);
            if f.ctr == u64::MAX {
                prop_assert_eq!(sealed, Err(CiscoError::InvalidParameter));
                continue;
            }
            let sealed = sealed.unwrap();
            prop_assert_eq!(ours_open(suite, &f, &sealed), Ok(f.plaintext.clone()), "{}", suite);
            prop_assert!(sealed == ours_seal(suite, &f), "{}: not the same bytes", suite);
            prop_assert!(ours_open(suite, &f, &flipped(&sealed, f.flip)).is_err(), "{}", suite);
        }
    }
}

/// Both counters move the same way: 300 frames in a row from one key on each side are the same
/// frames, and each opens on the other side (cisco's counter is driven only by protecting).
#[test]
fn three_hundred_frames_in_a_row() {
    let base_key = [0x42; 16];
    for suite in cisco_suites() {
        for kid in [0, 7, 8, 0xff, 0x100, u64::MAX] {
            let mut ours = Encryptor::new(suite, KeyId(kid), &BaseKey::new(&base_key).unwrap());
            let mut theirs = CiscoContext::new(suite.id()).unwrap();
            theirs.add_key(kid, KeyUsage::Protect, &base_key).unwrap();
            let mut their_receiver = CiscoContext::new(suite.id()).unwrap();
            their_receiver
                .add_key(kid, KeyUsage::Unprotect, &base_key)
                .unwrap();
            let mut our_receiver = Decryptor::new(suite);
            our_receiver
                .add_key(KeyId(kid), &BaseKey::new(&base_key).unwrap())
                .unwrap();
            for n in 0..300u32 {
                let plaintext = n.to_be_bytes().repeat(usize::try_from(n % 7).unwrap());
                let metadata = [u8::try_from(n % 256).unwrap()];
                let a = ours.encrypt_to_vec(&metadata, &plaintext).unwrap();
                let b = theirs.protect(kid, &plaintext, &metadata).unwrap();
                assert_eq!(a, b, "{suite}, KID {kid}, frame {n}");
                assert_eq!(their_receiver.unprotect(&a, &metadata).unwrap(), plaintext);
                assert_eq!(
                    our_receiver.decrypt_to_vec(&metadata, &b).unwrap(),
                    plaintext
                );
            }
        }
    }
}

/// Counter `u64::MAX`: we seal one last frame with it (then the key is exhausted) and cisco
/// opens it; cisco never protects with it ("Counter exhausted" one value early). RFC 9605
/// §4.3 allows every 64-bit value, and §9.1 only asks that none is used twice: both are
/// conforming, cisco gives up one nonce.
#[test]
fn counter_u64_max() {
    let f = Frame {
        kid: 0x1234,
        ctr: u64::MAX,
        base_key: vec![1; 16],
        metadata: b"md".to_vec(),
        plaintext: b"the last frame".to_vec(),
        flip: 0,
    };
    for suite in cisco_suites() {
        let mut e = Encryptor::new(suite, KeyId(f.kid), &BaseKey::new(&f.base_key).unwrap());
        e.advance_counter_to(Counter(u64::MAX)).unwrap();
        let sealed = e.encrypt_to_vec(&f.metadata, &f.plaintext).unwrap();
        assert_eq!(e.next_counter(), None, "exhausted after u64::MAX");
        assert_eq!(cisco_open(suite, &f, &sealed), Ok(f.plaintext.clone()));
        assert_eq!(cisco_seal(suite, &f), Err(CiscoError::InvalidParameter));
        let one_below = Frame {
            ctr: u64::MAX - 1,
            ..f.clone()
        };
        assert_eq!(
            cisco_seal(suite, &one_below).unwrap(),
            ours_seal(suite, &one_below)
        );
    }
}

/// Metadata of 513 to 1024 bytes: ours seals and opens it (our limit is `MAX_METADATA_LEN`,
/// 1024); cisco refuses it both ways (`max_metadata_size`, 512). RFC 9605 sets no limit
/// (§4.4.3: metadata is opaque application data), so neither is wrong; a sender that talks to
/// cisco keeps its metadata to 512 bytes.
#[test]
fn metadata_over_cisco_limit() {
    assert_eq!(MAX_METADATA_LEN, 1024);
    for suite in cisco_suites() {
        for len in [513, 600, 1024] {
            let f = Frame {
                kid: 9,
                ctr: 3,
                base_key: vec![2; 16],
                metadata: vec![0x6d; len],
                plaintext: b"payload".to_vec(),
                flip: 0,
            };
            let sealed = ours_seal(suite, &f);
            assert_eq!(ours_open(suite, &f, &sealed), Ok(f.plaintext.clone()));
            assert_eq!(
                cisco_open(suite, &f, &sealed),
                Err(CiscoError::BufferTooSmall)
            );
            assert_eq!(cisco_seal(suite, &f), Err(CiscoError::BufferTooSmall));
        }
    }
}

/// Suites 6–8 (AES-256-CTR-HMAC-SHA512, IANA-registered after RFC 9605): cisco has none, so
/// there is nothing to exchange; ours has them.
#[test]
fn cisco_has_no_suites_6_to_8() {
    for suite in CipherSuite::ALL.iter().filter(|s| s.id() > 5) {
        assert_eq!(
            CiscoContext::new(suite.id()).err(),
            Some(CiscoError::BadArgument)
        );
    }
    assert_eq!(CipherSuite::ALL.len(), 8);
}

/// cisco keeps the first key installed for a KID (`std::map::emplace`); a second `add_key`
/// for the same KID is silently ignored, where ours replaces it. Pinned because a peer that
/// re-keys under the same KID would keep the old key at cisco.
#[test]
fn cisco_keeps_the_first_key_of_a_kid() {
    let suite = CipherSuite::AesGcm128Sha256;
    let f = Frame {
        kid: 5,
        ctr: 0,
        base_key: vec![3; 16],
        metadata: vec![],
        plaintext: b"new key".to_vec(),
        flip: 0,
    };
    let sealed = ours_seal(suite, &f);
    let mut c = CiscoContext::new(suite.id()).unwrap();
    c.add_key(5, KeyUsage::Unprotect, &[9; 16]).unwrap();
    c.add_key(5, KeyUsage::Unprotect, &f.base_key).unwrap();
    assert_eq!(
        c.unprotect(&sealed, b""),
        Err(CiscoError::Authentication),
        "the old key is still there"
    );
    c.remove_key(5);
    c.add_key(5, KeyUsage::Unprotect, &f.base_key).unwrap();
    assert_eq!(c.unprotect(&sealed, b""), Ok(f.plaintext));
}

// ---------------------------------------------------------------------------------------------
// RFC 9605 §5.2 (MLS) against cisco's MLSContext.

/// `HKDF-Expand(prk, info, Nh)` with the suite's hash: one HMAC block, `T(1)`.
fn hkdf_expand_one_block(suite: CipherSuite, prk: &[u8], info: &[u8]) -> Vec<u8> {
    fn t1<M: Mac + KeyInit>(prk: &[u8], info: &[u8]) -> Vec<u8> {
        let mut mac = <M as KeyInit>::new_from_slice(prk).unwrap();
        mac.update(info);
        mac.update(&[1]);
        mac.finalize().into_bytes().to_vec()
    }
    match suite.hash_len() {
        32 => t1::<hmac::Hmac<sha2::Sha256>>(prk, info),
        64 => t1::<hmac::Hmac<sha2::Sha512>>(prk, info),
        other => panic!("no hash of {other} bytes"),
    }
}

/// What cisco's `MLSContext` uses as the base key of a KID: one more step than RFC 9605 §5.2,
/// `HKDF-Expand(epoch_secret, u64be(KID >> E), Nh)` (`EpochKeys::base_key`).
fn cisco_sender_base_key(suite: CipherSuite, epoch_secret: &[u8], kid: u64, e: u32) -> Vec<u8> {
    hkdf_expand_one_block(suite, epoch_secret, &(kid >> e).to_be_bytes())
}

/// The widths tried: (E, S) with cisco's `sender_bits` = S (cisco's 0 means "every bit above
/// the epoch", which ours writes as S = 31 with context 0 for the senders tried).
const WIDTHS: &[(u8, u8)] = &[
    (1, 1),
    (2, 3),
    (4, 6),
    (4, 0),
    (8, 8),
    (8, 16),
    (16, 31),
    (16, 0),
    (3, 20),
];

/// The (epoch, sender, context) triples tried for a width.
fn triples(e: u8, s: u8) -> Vec<(u64, u64, u64)> {
    let sender_max = if s == 0 {
        (1 << 31) - 1
    } else {
        (1u64 << s) - 1
    };
    let context_max = if s == 0 {
        0
    } else {
        u64::MAX >> (u32::from(e) + u32::from(s))
    };
    let epoch_mask = (1u64 << e) - 1;
    let mut out = Vec::new();
    for epoch in [
        0,
        1,
        epoch_mask,
        epoch_mask + 1,
        1000 * (epoch_mask + 1) + 3,
    ] {
        for sender in [0, 1, sender_max.min(5), sender_max] {
            for context in [0, 1.min(context_max), context_max] {
                out.push((epoch, sender, context));
            }
        }
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// Our KID for a triple.
fn our_kid(e: u8, s: u8, (epoch, sender, context): (u64, u64, u64)) -> u64 {
    let layout = MlsKidLayout::new(e, if s == 0 { 31 } else { s }).unwrap();
    MlsKeyId {
        context,
        sender_index: u32::try_from(sender).unwrap(),
        epoch,
    }
    .to_key_id(layout)
    .unwrap()
    .0
}

/// KIDs agree: the header of every frame cisco's `MLSContext` protects carries the KID our
/// `MlsKeyId` packs for the same epoch, sender and context.
#[test]
fn mls_kids_agree() {
    let suite = CipherSuite::AesGcm128Sha256;
    let secret = [7u8; 16];
    let mut checked = 0;
    for &(e, s) in WIDTHS {
        for triple in triples(e, s) {
            let (epoch, sender, context) = triple;
            let mut c = CiscoMlsContext::new(suite.id(), u32::from(e)).unwrap();
            c.add_epoch(epoch, &secret, u32::from(s)).unwrap();
            let frame = c.protect(epoch, sender, context, b"pt", b"").unwrap();
            let (header, _) = Header::decode(&frame).unwrap();
            assert_eq!(
                header.key_id().0,
                our_kid(e, s, triple),
                "E {e}, S {s}, {triple:?}"
            );
            checked += 1;
        }
    }
    assert!(checked > 100, "{checked} KIDs");
}

/// Keys differ: with the same epoch secret (our `epoch_base_key`, `Nk` bytes), a frame from
/// cisco's `MLSContext` does not open in our `MlsEpochStore`, nor ours in cisco's, because
/// cisco derives a per-sender key first. With that one step added on our side (computed here,
/// `cisco_sender_base_key`), the frames are byte for byte cisco's and open both ways: that step
/// is the whole difference.
#[test]
fn mls_keys_differ_by_one_expand() {
    let mut checked = 0;
    for suite in cisco_suites() {
        let secret: Vec<u8> = (0..suite.key_len())
            .map(|i| u8::try_from(i).unwrap())
            .collect();
        for &(e, s) in WIDTHS {
            for triple in triples(e, s) {
                let (epoch, sender, context) = triple;
                let kid = our_kid(e, s, triple);
                let metadata = b"md";
                let plaintext = b"mls frame";

                let mut theirs = CiscoMlsContext::new(suite.id(), u32::from(e)).unwrap();
                theirs.add_epoch(epoch, &secret, u32::from(s)).unwrap();
                let their_frame = theirs
                    .protect(epoch, sender, context, plaintext, metadata)
                    .unwrap();

                // RFC 9605 §5.2 as we implement it: the epoch's base key, keys per KID.
                let rfc_frame = Encryptor::new(suite, KeyId(kid), &BaseKey::new(&secret).unwrap())
                    .encrypt_to_vec(metadata, plaintext)
                    .unwrap();
                assert_ne!(their_frame, rfc_frame, "{suite} E {e} S {s} {triple:?}");
                if context == 0 {
                    // Our MLS receive side, for a group whose S is cisco's: the KID resolves
                    // to the sender, and the key is what fails.
                    let group = if s == 0 {
                        u32::try_from(sender + 1).unwrap()
                    } else {
                        1 << s
                    };
                    let mut store = MlsEpochStore::new(suite, e).unwrap();
                    store
                        .install_epoch(epoch, group, None, BaseKey::new(&secret).unwrap())
                        .unwrap();
                    let mut copy = their_frame.clone();
                    let got = store.decrypt_in_place(metadata, &mut copy).map(|_| ());
                    assert_eq!(
                        got,
                        Err(DecryptError::Authentication),
                        "{suite} E {e} S {s} {triple:?}"
                    );
                }
                let mut their_receiver = CiscoMlsContext::new(suite.id(), u32::from(e)).unwrap();
                their_receiver
                    .add_epoch(epoch, &secret, u32::from(s))
                    .unwrap();
                assert_eq!(
                    their_receiver.unprotect(&rfc_frame, metadata),
                    Err(CiscoError::Authentication)
                );

                // With cisco's extra step, the same bytes both ways.
                let sender_key = cisco_sender_base_key(suite, &secret, kid, u32::from(e));
                let sender_key = BaseKey::new(&sender_key).unwrap();
                let compat_frame = Encryptor::new(suite, KeyId(kid), &sender_key)
                    .encrypt_to_vec(metadata, plaintext)
                    .unwrap();
                assert_eq!(compat_frame, their_frame, "{suite} E {e} S {s} {triple:?}");
                assert_eq!(
                    their_receiver.unprotect(&compat_frame, metadata),
                    Ok(plaintext.to_vec())
                );
                let mut d = Decryptor::new(suite);
                d.add_key(KeyId(kid), &sender_key).unwrap();
                assert_eq!(
                    d.decrypt_to_vec(metadata, &their_frame),
                    Ok(plaintext.to_vec())
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 500, "{checked} cases");
}

/// Epoch rollover (RFC 9605 §5.2: "receivers MUST remove an old epoch when a new epoch with
/// the same low-order E bits appears"): both sides drop epoch 1 when epoch 1 + 2^E arrives.
#[test]
fn mls_rollover_agrees() {
    let suite = CipherSuite::AesGcm128Sha256;
    let e = 2u8;
    let old = 1u64;
    let new = old + (1 << e);
    let secret_old = [1u8; 16];
    let secret_new = [2u8; 16];

    let mut sender = CiscoMlsContext::new(suite.id(), u32::from(e)).unwrap();
    sender.add_epoch(old, &secret_old, 4).unwrap();
    let old_frame = sender.protect(old, 3, 0, b"old", b"").unwrap();

    let mut theirs = CiscoMlsContext::new(suite.id(), u32::from(e)).unwrap();
    theirs.add_epoch(old, &secret_old, 4).unwrap();
    assert_eq!(theirs.unprotect(&old_frame, b""), Ok(b"old".to_vec()));
    theirs.add_epoch(new, &secret_new, 4).unwrap();
    assert!(theirs.unprotect(&old_frame, b"").is_err());

    let mut ours = MlsEpochStore::new(suite, e).unwrap();
    ours.install_epoch(old, 16, None, BaseKey::new(&secret_old).unwrap())
        .unwrap();
    let installed = ours
        .install_epoch(new, 16, None, BaseKey::new(&secret_new).unwrap())
        .unwrap();
    assert_eq!(installed.rolled_over, Some(old));
}

/// The hostile rows (`tests/common/hostile.rs`), ours and cisco side by side.
#[test]
fn hostile_inputs_side_by_side() {
    let mut wrong = Vec::new();
    for row in hostile::rows() {
        let ours = hostile::ours(&row);
        let mut c = CiscoContext::new(hostile::SUITE.id()).unwrap();
        c.add_key(row.key_kid, KeyUsage::Unprotect, &hostile::BASE_KEY)
            .unwrap();
        let cisco = match c.unprotect(&row.frame, &row.metadata) {
            Ok(_) => "ok".to_string(),
            Err(e) => hostile::variant(&e),
        };
        println!("| {} | {ours} | {cisco} |", row.name);
        if ours != row.ours || cisco != row.cisco {
            wrong.push(format!(
                "{}: ours {ours} (want {}), cisco {cisco} (want {})",
                row.name, row.ours, row.cisco
            ));
        }
    }
    assert!(wrong.is_empty(), "rows that changed:\n{}", wrong.join("\n"));
}
