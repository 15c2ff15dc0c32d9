//! Target `decrypt`: arbitrary bytes against a receiver holding keys of several suites.

use secure_frame::{
    CipherSuite, Counter, DecryptError, Decryptor, Encryptor, KeyId, MAX_METADATA_LEN, ReceiveKey,
    ReplayWindow,
};

use crate::contract::{self, Oracle, must, must_base_key};
use crate::{Input, Output, slow_decode, suite_at, suite_index};

/// The base key of the RFC 9605 Appendix C.3 vectors (`000102…0f`), used for KID `0x123` so the
/// RFC's own ciphertexts decrypt in this target.
const RFC_BASE_KEY: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/// A receive key installed in the `decrypt` target's receiver.
#[derive(Clone, Copy, Debug)]
pub struct FixtureKey {
    /// Its KID.
    pub kid: KeyId,
    /// Its suite.
    pub suite: CipherSuite,
    /// Its base key.
    pub base_key: &'static [u8],
    /// Its replay window width; 0 is disabled.
    pub window: u32,
}

/// The keys of the `decrypt` target's receiver: KID `0x123` (the RFC vectors' KID and base key)
/// with `suite`, and four fixed keys spanning the suites, header shapes (KID 0, 7, 8 and
/// `u64::MAX` sit on both sides of every encoding boundary), base-key lengths and windows
/// (128, disabled, 1, 16).
#[must_use]
pub fn fixture_keys(suite: CipherSuite) -> [FixtureKey; 5] {
    [
        FixtureKey {
            kid: KeyId(0x123),
            suite,
            base_key: &RFC_BASE_KEY,
            window: 128,
        },
        FixtureKey {
            kid: KeyId(0),
            suite: CipherSuite::AesGcm128Sha256,
            base_key: &[0x11; 16],
            window: 128,
        },
        FixtureKey {
            kid: KeyId(7),
            suite: CipherSuite::AesCtr128HmacSha256_32,
            base_key: &[0x22; 1],
            window: 0,
        },
        FixtureKey {
            kid: KeyId(8),
            suite: CipherSuite::AesGcm256Sha512,
            base_key: &[0x33; 32],
            window: 1,
        },
        FixtureKey {
            kid: KeyId(u64::MAX),
            suite: CipherSuite::AesCtr128HmacSha256_64,
            base_key: &[0x44; 128],
            window: 16,
        },
    ]
}

fn window(width: u32) -> ReplayWindow {
    if width == 0 {
        ReplayWindow::disabled()
    } else {
        must(ReplayWindow::new(width), "window")
    }
}

/// Which receive entry point the frame is given to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecryptEntry {
    /// [`Decryptor::decrypt_in_place`].
    StoreInPlace,
    /// [`Decryptor::decrypt_to_vec`].
    StoreToVec,
    /// [`ReceiveKey::decrypt_in_place`] of the key for the frame's KID, or of KID `0x123`'s key
    /// when no key has that KID.
    KeyInPlace,
    /// [`ReceiveKey::decrypt`] into an output buffer, key chosen as for `KeyInPlace`.
    KeyCopy,
}

impl DecryptEntry {
    const ALL: [Self; 4] = [
        Self::StoreInPlace,
        Self::StoreToVec,
        Self::KeyInPlace,
        Self::KeyCopy,
    ];
}

/// One input of the `decrypt` target.
///
/// Format: a control byte (bits 0–2 the suite of KID `0x123` as an index into
/// [`CipherSuite::ALL`], bits 3–4 the [`DecryptEntry`], bit 5 prime, bit 6 oversized metadata),
/// the metadata length (one byte), the prime delta (`i8`), the output slack (`i8`), the
/// metadata, and the frame: everything else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecryptCase {
    /// The suite of KID `0x123`.
    pub suite: CipherSuite,
    /// The entry point.
    pub entry: DecryptEntry,
    /// Before the frame, the receiver accepts a genuine frame with the frame's KID and a
    /// counter this far above the frame's (so the frame may be a replay or too old).
    pub prime: Option<i8>,
    /// Pad the metadata with zeros to `MAX_METADATA_LEN + 1` bytes.
    pub oversized_metadata: bool,
    /// The metadata (before padding).
    pub metadata: Vec<u8>,
    /// For [`DecryptEntry::KeyCopy`]: the output buffer is the ciphertext length plus this.
    pub out_slack: i8,
    /// The SFrame ciphertext, as received.
    pub frame: Vec<u8>,
}

impl DecryptCase {
    /// Reads a case; every byte string is one.
    #[must_use]
    pub fn decode(data: &[u8]) -> Self {
        let mut input = Input::new(data);
        let control = input.u8();
        let metadata_len = usize::from(input.u8());
        let prime_delta = i8::from_be_bytes([input.u8()]);
        let out_slack = i8::from_be_bytes([input.u8()]);
        let metadata = input.bytes(metadata_len).to_vec();
        Self {
            suite: suite_at(control & 0x07),
            entry: DecryptEntry::ALL
                .get(usize::from((control >> 3) & 0x03))
                .copied()
                .unwrap_or(DecryptEntry::StoreInPlace),
            prime: (control & 0x20 != 0).then_some(prime_delta),
            oversized_metadata: control & 0x40 != 0,
            metadata,
            out_slack,
            frame: input.rest().to_vec(),
        }
    }

    /// The bytes that [`decode`](Self::decode) reads as this case (metadata up to 255 bytes).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let entry = DecryptEntry::ALL
            .iter()
            .position(|e| *e == self.entry)
            .unwrap_or(0);
        let control = suite_index(self.suite)
            | (u8::try_from(entry).unwrap_or(0) << 3)
            | if self.prime.is_some() { 0x20 } else { 0 }
            | if self.oversized_metadata { 0x40 } else { 0 };
        Output::new()
            .u8(control)
            .u8(u8::try_from(self.metadata.len()).unwrap_or(u8::MAX))
            .bytes(&self.prime.unwrap_or(0).to_be_bytes())
            .bytes(&self.out_slack.to_be_bytes())
            .bytes(&self.metadata)
            .bytes(&self.frame)
            .finish()
    }

    fn metadata(&self) -> Vec<u8> {
        let mut metadata = self.metadata.clone();
        if self.oversized_metadata {
            metadata.resize(MAX_METADATA_LEN + 1, 0);
        }
        metadata
    }
}

/// Fuzzes the receive path with arbitrary bytes (see [`DecryptCase`] for the format).
///
/// # Panics
///
/// When the result is not exactly the one a model predicts (header error from
/// [`slow_decode`], then unknown KID, metadata too long, too short, replay against the primed
/// counter, buffer too small, then authentic or not according to an AEAD rebuilt from the base
/// key), when the frame or the output buffer breaks the failure contract, when the receiver's
/// state moved on an error or moved other than by accepting the frame's counter on success, or
/// when an accepted frame is accepted again under a replay window.
pub fn decrypt(data: &[u8]) {
    let case = DecryptCase::decode(data);
    let keys = fixture_keys(case.suite);
    let mut store = Decryptor::new(CipherSuite::AesGcm128Sha256);
    for key in &keys {
        let receive = ReceiveKey::new(key.suite, key.kid, &must_base_key(key.base_key));
        must(
            store.insert(receive.with_replay_window(window(key.window))),
            "insert",
        );
    }
    let metadata = case.metadata();
    let header = slow_decode(&case.frame).ok();
    let fixture = |kid: KeyId| keys.iter().find(|k| k.kid == kid);

    // Prime: accept a genuine frame for the frame's KID at CTR + delta.
    let mut primed = None;
    if let (Some(delta), Some((kid, ctr, _))) = (case.prime, header) {
        if let (Some(key), Some(prime_ctr)) = (
            fixture(KeyId(kid)),
            ctr.checked_add_signed(i64::from(delta)),
        ) {
            let mut encryptor = Encryptor::new(key.suite, key.kid, &must_base_key(key.base_key));
            must(encryptor.advance_counter_to(Counter(prime_ctr)), "advance");
            let mut genuine = must(encryptor.encrypt_to_vec(b"prime", b"prime"), "encrypt");
            must(
                store.decrypt_in_place(b"prime", &mut genuine).map(|_| ()),
                "prime",
            );
            primed = Some(prime_ctr);
        }
    }

    // The key a single-key entry point gets: the frame's, else KID 0x123's.
    let single = header
        .map(|(kid, _, _)| KeyId(kid))
        .filter(|kid| store.contains_key(*kid))
        .unwrap_or(KeyId(0x123));
    let target = match case.entry {
        DecryptEntry::StoreInPlace | DecryptEntry::StoreToVec => {
            header.and_then(|(kid, _, _)| fixture(KeyId(kid)))
        }
        DecryptEntry::KeyInPlace | DecryptEntry::KeyCopy => fixture(single),
    };
    let tag_len = target.map_or(0, |k| k.suite.tag_len());
    let header_len = header.map_or(0, |(_, _, len)| len);
    let ciphertext_len = case
        .frame
        .len()
        .saturating_sub(header_len)
        .saturating_sub(tag_len);
    let out_len = ciphertext_len
        .checked_add_signed(isize::from(case.out_slack))
        .unwrap_or(0);

    // The model.
    let expected = expect(&case, &metadata, target, primed, out_len);

    let before = contract::snapshot(&store);
    let sizes = Sizes {
        tag: tag_len,
        ciphertext: ciphertext_len,
        out: out_len,
    };
    let result = run(
        &mut store,
        case.entry,
        single,
        &metadata,
        &case.frame,
        sizes,
    );
    let after = contract::snapshot(&store);
    assert_eq!(result, expected, "decrypt {case:02x?}");
    match (result, header) {
        (Ok(plaintext), Some((kid, ctr, _))) => {
            assert_eq!(
                after,
                contract::accepted(&before, KeyId(kid), Counter(ctr)),
                "accepting moved only the frame's window"
            );
            // The same bytes again: a replay under a window, accepted again without one.
            let again = run(
                &mut store,
                case.entry,
                single,
                &metadata,
                &case.frame,
                sizes,
            );
            if target.is_some_and(|k| k.window > 0) {
                assert_eq!(again, Err(DecryptError::Replay), "replay refused");
                assert_eq!(contract::snapshot(&store), after, "a replay moved nothing");
            } else {
                assert_eq!(again, Ok(plaintext), "no window: accepted again");
            }
        }
        (Ok(_), None) => unreachable!("a frame without a header decrypted"),
        (Err(_), _) => assert_eq!(after, before, "an error moved receiver state"),
    }
}

/// The result the contract and the RFC predict, computed without the receive path.
fn expect(
    case: &DecryptCase,
    metadata: &[u8],
    target: Option<&FixtureKey>,
    primed: Option<u64>,
    out_len: usize,
) -> Result<Vec<u8>, DecryptError> {
    let (kid, ctr, header_len) = slow_decode(&case.frame)?;
    let key = target
        .filter(|k| k.kid == KeyId(kid))
        .ok_or(DecryptError::UnknownKeyId(KeyId(kid)))?;
    if metadata.len() > MAX_METADATA_LEN {
        return Err(DecryptError::MetadataTooLong);
    }
    let ciphertext_len = case
        .frame
        .len()
        .checked_sub(header_len + key.suite.tag_len())
        .ok_or(DecryptError::TooShort)?;
    let width = u64::from(key.window);
    if let Some(top) = primed.filter(|_| width > 0) {
        if ctr == top || (ctr < top && top - ctr >= width) {
            return Err(DecryptError::Replay);
        }
    }
    if case.entry == DecryptEntry::KeyCopy && out_len < ciphertext_len {
        return Err(DecryptError::BufferTooSmall {
            needed: ciphertext_len,
        });
    }
    Oracle::new(key.suite, key.kid, key.base_key)
        .open(metadata, &case.frame)
        .ok_or(DecryptError::Authentication)
}

/// `Nt` of the key a frame goes to, the ciphertext length that implies, and the output buffer
/// length for [`DecryptEntry::KeyCopy`].
#[derive(Clone, Copy)]
struct Sizes {
    tag: usize,
    ciphertext: usize,
    out: usize,
}

/// Gives `frame` to one entry point, checks the buffer half of the contract, and returns the
/// plaintext.
fn run(
    store: &mut Decryptor,
    entry: DecryptEntry,
    single: KeyId,
    metadata: &[u8],
    frame: &[u8],
    sizes: Sizes,
) -> Result<Vec<u8>, DecryptError> {
    match entry {
        DecryptEntry::StoreInPlace => contract::in_place(frame, sizes.tag, |buf| {
            store.decrypt_in_place(metadata, buf)
        }),
        DecryptEntry::StoreToVec => store.decrypt_to_vec(metadata, frame),
        DecryptEntry::KeyInPlace | DecryptEntry::KeyCopy => {
            let mut key = must(store.remove_key(single).ok_or(()), "fixture key installed");
            let result = if entry == DecryptEntry::KeyInPlace {
                contract::in_place(frame, sizes.tag, |buf| key.decrypt_in_place(metadata, buf))
            } else {
                let before = vec![0xa5; sizes.out];
                let mut out = before.clone();
                let result = key.decrypt(metadata, frame, &mut out).map(<[u8]>::to_vec);
                let written = result.as_ref().map(Vec::len).map_err(|e| *e);
                contract::check_copy(&before, &out, written, sizes.ciphertext);
                if let Ok(plaintext) = &result {
                    let prefix = out.get(..plaintext.len());
                    assert_eq!(
                        prefix,
                        Some(plaintext.as_slice()),
                        "plaintext is a prefix of out"
                    );
                }
                result
            };
            must(store.insert(key), "reinsert");
            result
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_format_round_trips() {
        let case = DecryptCase {
            suite: CipherSuite::AesGcm256Sha512,
            entry: DecryptEntry::KeyCopy,
            prime: Some(-3),
            oversized_metadata: true,
            metadata: b"meta".to_vec(),
            out_slack: -1,
            frame: vec![0x12, 0x34],
        };
        assert_eq!(DecryptCase::decode(&case.encode()), case);
    }

    #[test]
    fn smoke() {
        for control in 0..=0x7f {
            decrypt(&[control]);
            decrypt(&[control, 0, 0xff, 0xff, 0x00]);
        }
    }
}
