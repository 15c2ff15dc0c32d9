//! Target `roundtrip`: encrypt → decrypt through every entry point, and one flipped bit.

use secure_frame::{
    CipherSuite, Counter, DecryptError, Decryptor, EncryptError, Encryptor, Header, KeyId,
    MAX_METADATA_LEN, ReceiveKey,
};

use crate::contract::{self, must, must_base_key};
use crate::{Input, Output, slow_decode, suite_at, suite_index};

/// Which encrypt entry point seals the frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EncryptEntry {
    /// [`Encryptor::encrypt`] into an output buffer.
    Encrypt,
    /// [`Encryptor::encrypt_in_room`].
    InRoom,
    /// [`Encryptor::encrypt_in_place`] on a `Vec`.
    InPlace,
    /// [`Encryptor::encrypt_to_vec`].
    ToVec,
}

impl EncryptEntry {
    const ALL: [Self; 4] = [Self::Encrypt, Self::InRoom, Self::InPlace, Self::ToVec];

    /// Another entry point, to compare with.
    fn next(self) -> Self {
        match self {
            Self::Encrypt => Self::InRoom,
            Self::InRoom => Self::InPlace,
            Self::InPlace => Self::ToVec,
            Self::ToVec => Self::Encrypt,
        }
    }
}

/// One input of the `roundtrip` target.
///
/// Format: suite index (one byte, into [`CipherSuite::ALL`]), flags (bits 0–1 the
/// [`EncryptEntry`], bit 2 `refusal_first`), KID and CTR (eight bytes each, big-endian), the
/// bit to flip (four bytes), the base key length minus one (one byte, modulo 128), the metadata
/// length (one byte), the base key, the metadata, and the plaintext: everything else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoundTripCase {
    /// The cipher suite.
    pub suite: CipherSuite,
    /// The encrypt entry point.
    pub entry: EncryptEntry,
    /// First make the entry point refuse (a buffer one byte short for the slice entry points,
    /// metadata one byte too long for the `Vec` ones) and check that nothing moved.
    pub refusal_first: bool,
    /// The KID.
    pub kid: KeyId,
    /// The counter, reached with [`Encryptor::advance_counter_to`].
    pub ctr: Counter,
    /// Which bit of `frame || metadata` to flip, modulo their length in bits.
    pub flip_bit: u32,
    /// The base key, 1 to 128 bytes.
    pub base_key: Vec<u8>,
    /// The metadata.
    pub metadata: Vec<u8>,
    /// The plaintext.
    pub plaintext: Vec<u8>,
}

impl RoundTripCase {
    /// Reads a case; every byte string is one.
    #[must_use]
    pub fn decode(data: &[u8]) -> Self {
        let mut input = Input::new(data);
        let suite = suite_at(input.u8());
        let flags = input.u8();
        let (kid, ctr, flip_bit) = (input.u64(), input.u64(), input.u32());
        let key_len = usize::from(input.u8() % 128) + 1;
        let metadata_len = usize::from(input.u8());
        let mut base_key = input.bytes(key_len).to_vec();
        if base_key.is_empty() {
            base_key.push(0);
        }
        Self {
            suite,
            entry: EncryptEntry::ALL
                .get(usize::from(flags & 0x03))
                .copied()
                .unwrap_or(EncryptEntry::Encrypt),
            refusal_first: flags & 0x04 != 0,
            kid: KeyId(kid),
            ctr: Counter(ctr),
            flip_bit,
            base_key,
            metadata: input.bytes(metadata_len).to_vec(),
            plaintext: input.rest().to_vec(),
        }
    }

    /// The bytes that [`decode`](Self::decode) reads as this case (metadata up to 255 bytes,
    /// base key 1 to 128).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let entry = EncryptEntry::ALL
            .iter()
            .position(|e| *e == self.entry)
            .unwrap_or(0);
        let flags = u8::try_from(entry).unwrap_or(0) | if self.refusal_first { 0x04 } else { 0 };
        Output::new()
            .u8(suite_index(self.suite))
            .u8(flags)
            .u64(self.kid.0)
            .u64(self.ctr.0)
            .u32(self.flip_bit)
            .u8(u8::try_from(self.base_key.len().saturating_sub(1)).unwrap_or(0))
            .u8(u8::try_from(self.metadata.len()).unwrap_or(u8::MAX))
            .bytes(&self.base_key)
            .bytes(&self.metadata)
            .bytes(&self.plaintext)
            .finish()
    }

    fn encryptor(&self) -> Encryptor {
        let mut encryptor = Encryptor::new(self.suite, self.kid, &must_base_key(&self.base_key));
        assert_eq!(
            encryptor.next_counter(),
            Some(Counter(0)),
            "a new key starts at 0"
        );
        must(encryptor.advance_counter_to(self.ctr), "advance a new key");
        assert_eq!(encryptor.next_counter(), Some(self.ctr));
        encryptor
    }

    fn receiver(&self) -> ReceiveKey {
        ReceiveKey::new(self.suite, self.kid, &must_base_key(&self.base_key))
    }
}

/// Seals `plaintext` through `entry`.
fn seal(
    encryptor: &mut Encryptor,
    entry: EncryptEntry,
    metadata: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>, EncryptError> {
    let tag_len = encryptor.tag_len();
    match entry {
        EncryptEntry::Encrypt => {
            let mut out = vec![0xee; encryptor.ciphertext_len(plaintext.len()) + 3];
            encryptor
                .encrypt(metadata, plaintext, &mut out)
                .map(<[u8]>::to_vec)
        }
        EncryptEntry::InRoom => {
            let mut buf = vec![0xee; Encryptor::HEADER_ROOM];
            buf.extend_from_slice(plaintext);
            buf.resize(buf.len() + tag_len, 0xee);
            let total = buf.len();
            let frame = encryptor
                .encrypt_in_room(metadata, &mut buf)
                .map(|f| f.to_vec())?;
            assert_eq!(
                buf.get(total - frame.len()..),
                Some(frame.as_slice()),
                "encrypt_in_room returns the tail of its buffer"
            );
            Ok(frame)
        }
        EncryptEntry::InPlace => {
            let mut frame = plaintext.to_vec();
            let result = encryptor.encrypt_in_place(metadata, &mut frame);
            if result.is_err() {
                assert_eq!(
                    frame, plaintext,
                    "a refused encrypt_in_place restores the plaintext"
                );
            }
            result.map(|()| frame)
        }
        EncryptEntry::ToVec => encryptor.encrypt_to_vec(metadata, plaintext),
    }
}

/// Fuzzes encrypt → decrypt (see [`RoundTripCase`] for the format).
///
/// # Panics
///
/// When a round trip does not give the plaintext back through every decrypt entry point, when
/// the ciphertext length is not `ciphertext_len` (header + plaintext + `Nt`), when entry points
/// disagree on the ciphertext, when the header is not the canonical (KID, CTR), when the counter
/// does not move by exactly one (or, after `u64::MAX`, the key is not exhausted for good), when
/// a refusal moves the counter, when a replay is accepted, or when a frame or metadata with one
/// flipped bit is accepted or breaks the failure contract. For the 32-bit-tag suite a flipped
/// bit is accepted with probability 2^-32 (RFC 9605 §7.5): such a "finding" is expected once in
/// about four billion distinct inputs.
pub fn roundtrip(data: &[u8]) {
    let case = RoundTripCase::decode(data);
    let frame = encrypt(&case);
    open(&case, &frame);
    flip(&case, &frame);
}

/// Seals the case through its entry point and checks lengths, header, counter movement and
/// agreement with another entry point.
fn encrypt(case: &RoundTripCase) -> Vec<u8> {
    let mut encryptor = case.encryptor();
    if let Some(below) = case.ctr.0.checked_sub(1) {
        let refused = encryptor.advance_counter_to(Counter(below));
        assert_eq!(refused, Err(EncryptError::CounterReuse));
        assert_eq!(
            encryptor.next_counter(),
            Some(case.ctr),
            "a refused advance moves nothing"
        );
    }
    let header = Header::new(case.kid, case.ctr);
    let expected_len = header.encoded_len() + case.plaintext.len() + case.suite.tag_len();
    assert_eq!(encryptor.ciphertext_len(case.plaintext.len()), expected_len);

    if case.refusal_first {
        refuse(&mut encryptor, case, expected_len);
        assert_eq!(
            encryptor.next_counter(),
            Some(case.ctr),
            "a refusal moves nothing"
        );
    }

    let frame = must(
        seal(&mut encryptor, case.entry, &case.metadata, &case.plaintext),
        "encrypt",
    );
    assert_eq!(frame.len(), expected_len, "ciphertext_len");
    assert_eq!(
        encryptor.next_counter(),
        case.ctr.0.checked_add(1).map(Counter)
    );
    assert_eq!(Header::decode(&frame), Ok((header, header.encoded_len())));
    assert_eq!(
        frame.get(..header.encoded_len()),
        Some(header.encode().as_bytes())
    );

    // Every entry point seals the same (KID, CTR, metadata, plaintext) to the same bytes.
    let other = case.entry.next();
    let again = seal(
        &mut case.encryptor(),
        other,
        &case.metadata,
        &case.plaintext,
    );
    assert_eq!(
        again.as_ref(),
        Ok(&frame),
        "{:?} and {other:?} agree",
        case.entry
    );

    if case.ctr.0 == u64::MAX {
        // Exhausted for good: every entry point and every advance refuse, forever.
        for entry in EncryptEntry::ALL {
            let refused = seal(&mut encryptor, entry, &case.metadata, &case.plaintext);
            assert_eq!(
                refused,
                Err(EncryptError::CounterExhausted),
                "{entry:?} after u64::MAX"
            );
        }
        let refused = encryptor.advance_counter_to(Counter(u64::MAX));
        assert_eq!(refused, Err(EncryptError::CounterExhausted));
        assert_eq!(encryptor.next_counter(), None);
    }
    frame
}

/// Decrypts `frame` in place, into a buffer and through a store, then replays it.
fn open(case: &RoundTripCase, frame: &[u8]) {
    let mut receiver = case.receiver();
    let opened = contract::in_place(frame, case.suite.tag_len(), |buf| {
        receiver.decrypt_in_place(&case.metadata, buf)
    });
    assert_eq!(opened.as_ref(), Ok(&case.plaintext), "round trip");
    let replayed = contract::in_place(frame, case.suite.tag_len(), |buf| {
        receiver.decrypt_in_place(&case.metadata, buf)
    });
    assert_eq!(replayed, Err(DecryptError::Replay));

    let mut out = vec![0; case.plaintext.len()];
    let copied = case
        .receiver()
        .decrypt(&case.metadata, frame, &mut out)
        .map(<[u8]>::to_vec);
    assert_eq!(
        copied.as_ref(),
        Ok(&case.plaintext),
        "decrypt into an exact buffer"
    );

    let mut store = Decryptor::new(case.suite);
    must(
        store.add_key(case.kid, &must_base_key(&case.base_key)),
        "add key",
    );
    assert_eq!(
        store.decrypt_to_vec(&case.metadata, frame).as_ref(),
        Ok(&case.plaintext)
    );
}

/// Makes `case.entry` refuse without sealing: a buffer one byte short for the slice entry points,
/// metadata one byte too long for all of them.
fn refuse(encryptor: &mut Encryptor, case: &RoundTripCase, expected_len: usize) {
    let too_long = vec![0; MAX_METADATA_LEN + 1];
    let refused = seal(encryptor, case.entry, &too_long, &case.plaintext);
    assert_eq!(refused, Err(EncryptError::MetadataTooLong));
    let tag_len = encryptor.tag_len();
    match case.entry {
        EncryptEntry::Encrypt => {
            let mut out = vec![0xee; expected_len - 1];
            let refused = encryptor.encrypt(&case.metadata, &case.plaintext, &mut out);
            assert_eq!(
                refused,
                Err(EncryptError::BufferTooSmall {
                    needed: expected_len
                })
            );
            assert!(
                out.iter().all(|&b| b == 0xee),
                "a refused encrypt wrote nothing"
            );
        }
        EncryptEntry::InRoom => {
            let needed = Encryptor::HEADER_ROOM + tag_len;
            let mut buf = vec![0xee; needed - 1];
            let refused = encryptor
                .encrypt_in_room(&case.metadata, &mut buf)
                .map(|_| ());
            assert_eq!(refused, Err(EncryptError::BufferTooSmall { needed }));
            assert!(
                buf.iter().all(|&b| b == 0xee),
                "a refused encrypt_in_room wrote nothing"
            );
        }
        EncryptEntry::InPlace | EncryptEntry::ToVec => {}
    }
}

/// Flips one bit of `frame || metadata` and checks a fresh receiver refuses it with exactly
/// the error the change implies, under the failure contract.
fn flip(case: &RoundTripCase, frame: &[u8]) {
    let tag_len = case.suite.tag_len();
    let mut forged = frame.to_vec();
    let mut metadata = case.metadata.clone();
    let bits = (frame.len() + metadata.len()) * 8;
    let bit = usize::try_from(case.flip_bit).unwrap_or(0) % bits;
    let (byte, mask) = (bit / 8, 1u8 << (bit % 8));
    let in_frame = byte < frame.len();
    let target = if in_frame {
        forged.get_mut(byte)
    } else {
        metadata.get_mut(byte - frame.len())
    };
    if let Some(b) = target {
        *b ^= mask;
    }

    let expected = match slow_decode(&forged) {
        Err(e) => Err(DecryptError::Header(e)),
        Ok((kid, _, _)) if KeyId(kid) != case.kid => Err(DecryptError::UnknownKeyId(KeyId(kid))),
        Ok((_, _, header_len)) if forged.len() < header_len + tag_len => {
            Err(DecryptError::TooShort)
        }
        Ok(_) => Err(DecryptError::Authentication),
    };
    let mut receiver = case.receiver();
    let before = *receiver.replay_window();
    let result = contract::in_place(&forged, tag_len, |buf| {
        receiver.decrypt_in_place(&metadata, buf)
    });
    assert_eq!(
        result.map(|_| ()),
        expected,
        "flipped bit {bit} ({}) of {} (a 32-bit tag is forged once in 2^32 tries)",
        if in_frame { "frame" } else { "metadata" },
        case.suite
    );
    assert_eq!(*receiver.replay_window(), before, "a forgery moved nothing");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_format_round_trips() {
        let case = RoundTripCase {
            suite: CipherSuite::AesCtr128HmacSha256_32,
            entry: EncryptEntry::InRoom,
            refusal_first: true,
            kid: KeyId(0x1234),
            ctr: Counter(u64::MAX),
            flip_bit: 77,
            base_key: vec![9; 128],
            metadata: b"md".to_vec(),
            plaintext: b"pt".to_vec(),
        };
        assert_eq!(RoundTripCase::decode(&case.encode()), case);
    }

    #[test]
    fn smoke() {
        for suite in 0..8 {
            for flags in 0..8 {
                roundtrip(&[suite, flags]);
                roundtrip(&[
                    suite, flags, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                    0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0, 127, 3,
                ]);
            }
        }
    }
}
