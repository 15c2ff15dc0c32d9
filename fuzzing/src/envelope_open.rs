//! Target `envelope_open`: [`open_sender_key`] of arbitrary bytes and of genuine sender-key
//! envelopes, altered or not, and [`OpenedSenderKey::install_into`] of what opens.

use rand_core::{Infallible, TryCryptoRng, TryRng};
use secure_frame::AgreementError;
use secure_frame::agreement::{
    Envelope, KeyPair, OpenedSenderKey, open_sender_key, seal_sender_key,
};
use secure_frame::{
    BaseKey, CipherSuite, Encryptor, KeyId, RatchetBits, RatchetReceiver, SenderKeyId,
};

use crate::contract::{must, must_base_key};
use crate::{Input, Output};

/// The most edits a case applies.
const MAX_EDITS: usize = 16;
/// The secret scalars of the fixed key pairs: the recipient, the sender, and a stranger who is
/// neither.
const RECIPIENT: [u8; 32] = [0x11; 32];
const SENDER: [u8; 32] = [0x22; 32];
const STRANGER: [u8; 32] = [0x33; 32];
/// An identity no genuine envelope has.
const OTHER_ID: &[u8] = b"mallory";
/// The receiver's own base key before it installs an envelope's key.
const RECEIVER_KEY: [u8; 16] = [0x44; 16];

/// What a genuine envelope seals: suite, `R`, generation and step, base key (`len` bytes of
/// `byte`) and the sender's identity. Between them they reach every field's extremes: `R` 1 and
/// 63, the largest generation of `R` = 32, base keys of 1 and 128 bytes (sealed keys of 17 and
/// 144), identities of 1 and 255 bytes.
struct Spec {
    suite: CipherSuite,
    bits: u8,
    key: SenderKeyId,
    len: usize,
    byte: u8,
    sender_id: &'static [u8],
}

const SPECS: [Spec; 4] = [
    Spec {
        suite: CipherSuite::AesGcm128Sha256,
        bits: 8,
        key: SenderKeyId::new(3, 7),
        len: 16,
        byte: 0x09,
        sender_id: b"alice",
    },
    Spec {
        suite: CipherSuite::AesGcm256Sha512,
        bits: 1,
        key: SenderKeyId::new(5, 1),
        len: 32,
        byte: 0x0a,
        sender_id: b"b",
    },
    Spec {
        suite: CipherSuite::AesCtr128HmacSha256_32,
        bits: 63,
        key: SenderKeyId::new(1, (1 << 62) + 5),
        len: 128,
        byte: 0x0b,
        sender_id: &[0x42; 255],
    },
    Spec {
        suite: CipherSuite::AesCtr128HmacSha256_80,
        bits: 32,
        key: SenderKeyId::new(0xffff_ffff, 0),
        len: 1,
        byte: 0x0c,
        sender_id: b"carol",
    },
];

/// Not random: a `SplitMix64` stream from a fixed seed, so that the fixture seals the same
/// envelopes on every run (and the seeds that hold them stay current). Never for anything else.
struct NotRandom(u64);

impl TryRng for NotRandom {
    type Error = Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let [a, b, c, d, ..] = self.try_next_u64()?.to_be_bytes();
        Ok(u32::from_be_bytes([a, b, c, d]))
    }

    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        Ok(z ^ (z >> 31))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.try_next_u64()?.to_le_bytes();
            for (d, s) in chunk.iter_mut().zip(bytes) {
                *d = s;
            }
        }
        Ok(())
    }
}

impl TryCryptoRng for NotRandom {}

/// A genuine envelope and what it holds.
struct Genuine {
    suite: CipherSuite,
    bits: RatchetBits,
    key: SenderKeyId,
    kid: KeyId,
    base_key: Vec<u8>,
    sender_id: &'static [u8],
    bytes: Vec<u8>,
}

/// The key pairs and the genuine envelopes, each sealed by the sender to the recipient.
struct Fixture {
    recipient: KeyPair,
    sender: KeyPair,
    stranger: KeyPair,
    envelopes: Vec<Genuine>,
}

impl Fixture {
    fn new() -> Self {
        let pair = |secret: &[u8; 32]| must(KeyPair::from_secret_bytes(secret), "key pair");
        let (recipient, sender, stranger) = (pair(&RECIPIENT), pair(&SENDER), pair(&STRANGER));
        let envelopes = SPECS
            .iter()
            .zip(1..)
            .map(|(spec, seed)| {
                let bits = must(RatchetBits::new(spec.bits), "R");
                let base_key = vec![spec.byte; spec.len];
                let bytes = must(
                    seal_sender_key(
                        &mut NotRandom(seed),
                        &sender,
                        spec.sender_id,
                        recipient.public_key(),
                        spec.suite,
                        bits,
                        spec.key,
                        &must(BaseKey::new(&base_key), "base key"),
                    ),
                    "seal",
                );
                Genuine {
                    suite: spec.suite,
                    bits,
                    key: spec.key,
                    kid: must(spec.key.to_key_id(bits), "KID"),
                    base_key,
                    sender_id: spec.sender_id,
                    bytes,
                }
            })
            .collect();
        Self {
            recipient,
            sender,
            stranger,
            envelopes,
        }
    }
}

/// Runs `f` with the fixture, built once per process (sealing costs more than opening).
fn with_fixture<R>(f: impl FnOnce(&Fixture) -> R) -> R {
    static FIXTURE: std::sync::OnceLock<Fixture> = std::sync::OnceLock::new();
    f(FIXTURE.get_or_init(Fixture::new))
}

/// The genuine envelopes the target opens, in the order [`EnvelopeCase::envelope`] picks them
/// (for the seed generator).
#[must_use]
pub fn genuine_envelopes() -> Vec<Vec<u8>> {
    with_fixture(|fixture| fixture.envelopes.iter().map(|g| g.bytes.clone()).collect())
}

/// Who opens the envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opener {
    /// The recipient, expecting the sender's key and identity.
    Recipient,
    /// Another key pair than the recipient's.
    Stranger,
    /// The recipient, expecting another sender key (the stranger's).
    OtherSender,
    /// The recipient, expecting another identity.
    OtherId,
}

/// One change to a genuine envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edit {
    /// The byte `position % len`.
    pub position: u16,
    /// XOR-ed into that byte; 0 cuts the envelope there instead.
    pub mask: u8,
}

/// The envelope a case opens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnvelopeBody {
    /// The genuine envelope with these edits, in order (none: unaltered).
    Edits(Vec<Edit>),
    /// These bytes.
    Raw(Vec<u8>),
}

/// One input of the `envelope_open` target.
///
/// Format: a flags byte (bit 0 raw, bits 1–2 the [`Opener`] in declaration order, bit 3 a
/// receiver of another suite, bit 4 of another `R`), the genuine envelope's index (modulo 4),
/// the receiver's generation byte and step byte, then either the raw envelope (everything else)
/// or up to 16 edits of three bytes each (a big-endian `u16` position and a mask).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EnvelopeCase {
    /// Which genuine envelope: the one edited, and the sender identity expected.
    pub envelope: u8,
    /// Who opens it.
    pub opener: Opener,
    /// The receiver that installs the opened key has the next suite.
    pub other_suite: bool,
    /// The receiver has `R % 63 + 1` ratchet bits.
    pub other_bits: bool,
    /// The receiver's generation: the envelope's plus `g % 5` minus 2, within what its `R`
    /// allows.
    pub generation: u8,
    /// The receiver's ratchet step (masked to its `R`).
    pub step: u8,
    /// The bytes opened.
    pub body: EnvelopeBody,
}

impl EnvelopeCase {
    /// Reads a case; every byte string is one.
    #[must_use]
    pub fn decode(data: &[u8]) -> Self {
        let mut input = Input::new(data);
        let flags = input.u8();
        let envelope = input.u8();
        let generation = input.u8();
        let step = input.u8();
        let body = if flags & 1 == 1 {
            EnvelopeBody::Raw(input.rest().to_vec())
        } else {
            let mut edits = Vec::new();
            while !input.is_empty() && edits.len() < MAX_EDITS {
                edits.push(Edit {
                    position: input.u16(),
                    mask: input.u8(),
                });
            }
            EnvelopeBody::Edits(edits)
        };
        Self {
            envelope,
            opener: match (flags >> 1) & 3 {
                0 => Opener::Recipient,
                1 => Opener::Stranger,
                2 => Opener::OtherSender,
                _ => Opener::OtherId,
            },
            other_suite: flags & 0x08 != 0,
            other_bits: flags & 0x10 != 0,
            generation,
            step,
            body,
        }
    }

    /// The bytes that [`decode`](Self::decode) reads as this case (at most 16 edits).
    #[must_use]
    pub fn encode(&self) -> Vec<u8> {
        let opener = match self.opener {
            Opener::Recipient => 0,
            Opener::Stranger => 1,
            Opener::OtherSender => 2,
            Opener::OtherId => 3,
        };
        let flags = u8::from(matches!(self.body, EnvelopeBody::Raw(_)))
            | opener << 1
            | u8::from(self.other_suite) << 3
            | u8::from(self.other_bits) << 4;
        let mut out = Output::new();
        out.u8(flags)
            .u8(self.envelope)
            .u8(self.generation)
            .u8(self.step);
        match &self.body {
            EnvelopeBody::Raw(bytes) => {
                out.bytes(bytes);
            }
            EnvelopeBody::Edits(edits) => {
                for edit in edits {
                    out.u16(edit.position).u8(edit.mask);
                }
            }
        }
        out.finish()
    }
}

/// Fuzzes sender-key envelope opening (see [`EnvelopeCase`]).
///
/// # Panics
///
/// When [`open_sender_key`] panics, or gives anything but what the envelope's bytes imply: the
/// parser's [`EnvelopeError`](secure_frame::EnvelopeError) for malformed bytes, then
/// [`AgreementError::WrongSender`] for another identity than the expected one, then
/// [`AgreementError::Open`] for anything not byte-identical to the genuine envelope opened by its
/// recipient with the sender's key (another recipient, another sender key, one altered byte);
/// when the unaltered genuine envelope does not open to exactly the sealed suite, `R`,
/// generation, step and base key; when [`OpenedSenderKey::install_into`] accepts a key for
/// another suite or `R` ([`AgreementError::SuiteMismatch`]) or of a generation not newer than the
/// receiver's ([`AgreementError::Stale`]), moves the receiver when it refuses, or after
/// accepting is not at the envelope's KID with its previous KID retained and able to open a
/// frame sealed under the envelope's key.
pub fn envelope_open(data: &[u8]) {
    let case = EnvelopeCase::decode(data);
    with_fixture(|fixture| open(fixture, &case));
}

fn open(fixture: &Fixture, case: &EnvelopeCase) {
    let count = fixture.envelopes.len();
    let genuine = must(
        fixture
            .envelopes
            .get(usize::from(case.envelope) % count)
            .ok_or(()),
        "genuine envelope",
    );
    let bytes = match &case.body {
        EnvelopeBody::Raw(bytes) => bytes.clone(),
        EnvelopeBody::Edits(edits) => edited(&genuine.bytes, edits),
    };
    let (recipient, sender, sender_id) = match case.opener {
        Opener::Recipient => (&fixture.recipient, &fixture.sender, genuine.sender_id),
        Opener::Stranger => (&fixture.stranger, &fixture.sender, genuine.sender_id),
        Opener::OtherSender => (&fixture.recipient, &fixture.stranger, genuine.sender_id),
        Opener::OtherId => (&fixture.recipient, &fixture.sender, OTHER_ID),
    };
    let expected = match Envelope::parse(&bytes) {
        Err(e) => Err(AgreementError::Envelope(e)),
        Ok(parsed) if parsed.sender_id != sender_id => Err(AgreementError::WrongSender),
        Ok(_) if case.opener == Opener::Recipient && bytes == genuine.bytes => Ok(genuine.key),
        Ok(_) => Err(AgreementError::Open),
    };
    let result = open_sender_key(recipient, sender.public_key(), sender_id, &bytes);
    assert_eq!(
        result.as_ref().map(|opened| opened.key_id).map_err(|e| *e),
        expected,
        "{:?} opening {bytes:02x?}",
        case.opener
    );
    if let Ok(opened) = result {
        assert_eq!(
            (opened.suite, opened.ratchet_bits, opened.key_id),
            (genuine.suite, genuine.bits, genuine.key),
            "opened what was sealed"
        );
        assert_eq!(
            opened.base_key.expose_secret(),
            genuine.base_key.as_slice(),
            "opened the sealed base key"
        );
        install(opened, genuine, case);
    }
}

/// The genuine bytes with `edits` applied in order.
fn edited(genuine: &[u8], edits: &[Edit]) -> Vec<u8> {
    let mut bytes = genuine.to_vec();
    for edit in edits {
        if bytes.is_empty() {
            break;
        }
        let at = usize::from(edit.position) % bytes.len();
        if edit.mask == 0 {
            bytes.truncate(at);
        } else if let Some(byte) = bytes.get_mut(at) {
            *byte ^= edit.mask;
        }
    }
    bytes
}

/// What installing a key can move in a receiver.
type State = (KeyId, SenderKeyId, Vec<KeyId>);

fn state(receiver: &RatchetReceiver) -> State {
    (
        receiver.key_id(),
        receiver.sender_key_id(),
        receiver.retained_key_ids().collect(),
    )
}

/// Installs the opened key into a receiver of the case's suite, `R`, generation and step.
fn install(opened: OpenedSenderKey, genuine: &Genuine, case: &EnvelopeCase) {
    let suite = if case.other_suite {
        let all = CipherSuite::ALL;
        let at = all.iter().position(|s| *s == genuine.suite).unwrap_or(0);
        all.get((at + 1) % all.len())
            .copied()
            .unwrap_or(genuine.suite)
    } else {
        genuine.suite
    };
    let bits = if case.other_bits {
        must(RatchetBits::new(genuine.bits.get() % 63 + 1), "other R")
    } else {
        genuine.bits
    };
    let generation = genuine
        .key
        .generation
        .saturating_add(u64::from(case.generation % 5))
        .saturating_sub(2)
        .min(bits.max_generation());
    let current = SenderKeyId::new(generation, u64::from(case.step) & bits.step_mask());
    let mut receiver = must(
        RatchetReceiver::new(
            suite,
            bits,
            current,
            must(BaseKey::new(&RECEIVER_KEY), "receiver key"),
        ),
        "receiver",
    );
    let before = state(&receiver);
    let expected = if suite != genuine.suite || bits != genuine.bits {
        Err(AgreementError::SuiteMismatch)
    } else if genuine.key.generation <= generation {
        Err(AgreementError::Stale)
    } else {
        Ok(())
    };
    let result = opened.install_into(&mut receiver);
    assert_eq!(
        result, expected,
        "install {:?} into a receiver at {current:?}",
        genuine.key
    );
    if result.is_err() {
        assert_eq!(
            state(&receiver),
            before,
            "a refused install moved the receiver"
        );
        return;
    }
    assert_eq!(
        (receiver.key_id(), receiver.sender_key_id()),
        (genuine.kid, genuine.key),
        "installed at the envelope's KID"
    );
    if receiver.retained_steps() > 0 {
        assert_eq!(
            receiver.retained_key_ids().next(),
            Some(before.0),
            "the previous key retained"
        );
    }
    let mut encryptor = Encryptor::new(
        genuine.suite,
        genuine.kid,
        &must_base_key(&genuine.base_key),
    );
    let mut frame = must(encryptor.encrypt_to_vec(b"md", b"after install"), "seal");
    assert_eq!(
        receiver
            .decrypt_in_place(b"md", &mut frame)
            .map(|plaintext| plaintext.to_vec()),
        Ok(b"after install".to_vec()),
        "the installed key opens the sender's frames"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_format_round_trips() {
        for opener in [
            Opener::Recipient,
            Opener::Stranger,
            Opener::OtherSender,
            Opener::OtherId,
        ] {
            let case = EnvelopeCase {
                envelope: 3,
                opener,
                other_suite: true,
                other_bits: false,
                generation: 4,
                step: 0xff,
                body: EnvelopeBody::Edits(vec![
                    Edit {
                        position: 0x1234,
                        mask: 0,
                    },
                    Edit {
                        position: 7,
                        mask: 0x80,
                    },
                ]),
            };
            assert_eq!(EnvelopeCase::decode(&case.encode()), case);
            let raw = EnvelopeCase {
                body: EnvelopeBody::Raw(vec![1, 2, 3]),
                other_suite: false,
                other_bits: true,
                ..case
            };
            assert_eq!(EnvelopeCase::decode(&raw.encode()), raw);
        }
    }

    #[test]
    fn fixture_is_deterministic() {
        assert_eq!(
            Fixture::new().envelopes.first().map(|g| g.bytes.clone()),
            genuine_envelopes().first().cloned()
        );
    }

    #[test]
    fn smoke() {
        envelope_open(&[]);
        for envelope in 0..4 {
            for generation in 0..5 {
                envelope_open(&[0, envelope, generation, 9]);
            }
            envelope_open(&[0x18, envelope, 0, 0]);
            envelope_open(&[0x06, envelope, 0, 0, 0, 20, 0x01]);
            envelope_open(&[0, envelope, 0, 0, 0, 90, 0x40, 0, 90, 0x40]);
        }
        envelope_open(&[1, 0, 0, 0, 1, 0, 4, 8]);
    }
}
