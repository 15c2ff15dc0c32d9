//! The fuzzing harness of `secure-frame`: not RFC 9605, not published, not a stable API.
//!
//! The targets in `fuzz/fuzz_targets/` are one call each into this crate (rustls's
//! `internal::fuzzing` style, in a workspace crate because it needs only the library's public API
//! and `hazmat`): the logic and every invariant assertion live here, where they are
//! type-checked, linted and unit-tested with the workspace, and where `tests/fuzz_corpus.rs`
//! replays the committed seeds and regression inputs on every `cargo test --workspace`.
//!
//! Every function takes raw bytes and never rejects them: each one decodes its input with
//! [`Input`], which reads zeros past the end, so libFuzzer's mutations are all meaningful. The
//! structured targets have a `*Case` type whose `encode` is the exact inverse of its `decode`;
//! the seed generator writes corpora with it.
//!
//! A function returns normally when every invariant held and panics (an assertion) when one did
//! not: a panic is a finding.
//!
//! | target | function | asserts |
//! |---|---|---|
//! | `header_decode` | [`header_decode`] | decode agrees with an independent slow decoder (value, length, exact error); a decoded header re-encodes to the consumed bytes; `FrameView::parse` agrees; encode → decode is the identity |
//! | `decrypt` | [`decrypt`](fn@decrypt) | arbitrary bytes against a receiver holding five keys of several suites and windows: the exact error a model predicts; the failure contract of [`secure_frame::Decryptor`] (frame and state unchanged, or ciphertext zeroed on authentication failure); on success a plaintext sub-slice of the right length that re-seals to the frame, and a replay is refused |
//! | `roundtrip` | [`roundtrip`](fn@roundtrip) | encrypt (any entry point, suite, KID, CTR, metadata, plaintext) → decrypt is the identity; lengths match `ciphertext_len`; entry points agree; the counter moves by one (exhausted after `u64::MAX`); a flipped bit is refused under the contract |
//! | `receiver_sequence` | [`receiver_sequence`] | a stream of (KID, CTR, forged?) frames against a [`secure_frame::Decryptor`] agrees with a set-based model of the replay window after every step |
//! | `codec_plan` | [`codec_plan`](fn@codec_plan) | [`secure_frame::codec::plan`] of any codec and policy never panics; clear ranges sorted, disjoint, merged, non-empty, within the normalized frame; the range map round-trips; planning the normalized frame again is the identity |
//! | `compat_open` | [`compat_open`](fn@compat_open) | arbitrary bytes and mutated genuine frames against [`secure_frame::compat::CompatDecryptor`]: an error leaves the buffer byte-identical and every window unmoved; a success is a prefix of the buffer that moved only its own window; a genuine frame opens to the sender's normalized frame once; an accepted range map is canonical |
//! | `ratchet_sequence` | [`ratchet_sequence`](fn@ratchet_sequence) | sender ratchets and new generations, installs (the sender's current key, a key it held earlier, a foreign key under a KID near the receiver's) and genuine, late, replayed, forged and far-KID frames against a [`secure_frame::RatchetReceiver`]: current and retained KIDs equal a model's after every event; `install` returns exactly the documented verdict and a refusal changes nothing; a frame opens exactly when the receiver holds or can derive its key and that key's window has not accepted it; an accepted frame never opens again unless an install moved the receiver back (the modulo-`2^R` step rule allows that only `2^(R-1)` or more steps back); refused frames change nothing, KIDs out of reach are unknown without being tried |
//! | `envelope_parse` | [`envelope_parse`](fn@envelope_parse) | `agreement::Envelope::parse` of any bytes never panics; an accepted envelope re-serializes from its fields to the input, borrows them at the layout's offsets, and every strict prefix is `Truncated`, one more byte `TrailingBytes` |
//! | `epoch_sequence` | [`epoch_sequence`](fn@epoch_sequence) | installs, rollovers, removals, resolves and genuine, replayed, forged, mutated and arbitrary frames against a [`secure_frame::mls::MlsEpochStore`]: live epochs and cached key counts equal a model's after every step (within `max_epochs`, one per low `E` bits); a frame opens exactly when its epoch is live, its sender a member (not this one), its counter new to the sender's window, and it authenticates; refusals follow the failure contract and change nothing |
//! | `envelope_open` | [`envelope_open`](fn@envelope_open) | `agreement::open_sender_key` of arbitrary bytes and of genuine envelopes (sealed once from fixed key pairs), unaltered or with bytes flipped or cut, by the recipient, another recipient, against another sender key or identity: exactly the parser's error, `WrongSender`, `Open`, or (only the unaltered envelope at its recipient) the sealed key; `install_into` a receiver refuses another suite or `R` and generations not newer (`Stale`) without moving it, and otherwise moves it to the envelope's KID, whose frames it opens |
//! | `rtp_depacketize` | [`rtp_depacketize`](fn@rtp_depacketize) | the SFrame RTP depacketizer (draft-ietf-avtcore-rtp-sframe, feature `rtp`) never panics on arbitrary packets, keeps to its byte, frame and packet bounds, holds nothing after `flush`; a genuine frame's fragments in any order, with duplicates, reassemble to it exactly once, duplicates refused |
//!
//! Adding a target (`fuzz/README.md` has the checklist): a module here with a
//! `pub fn name(data: &[u8])` (and a `*Case` if its input is structured) listed in
//! [`TARGETS`], a three-line file in `fuzz/fuzz_targets/` with its `[[bin]]` entry in
//! `fuzz/Cargo.toml`, and its seeds in the generator of `tests/fuzz_corpus.rs` (in this crate).

mod codec_plan;
mod compat_open;
mod contract;
mod decrypt;
mod envelope;
mod envelope_open;
mod epoch_sequence;
mod header;
mod input;
mod ratchet_sequence;
mod roundtrip;
mod rtp_depacketize;
mod sequence;

pub use codec_plan::{CODECS, codec_control, codec_plan, codec_policy};
pub use compat_open::{CompatCase, compat_open};
pub use decrypt::{DecryptCase, DecryptEntry, FixtureKey, decrypt, fixture_keys};
pub use envelope::{envelope_bytes, envelope_parse};
pub use envelope_open::{
    Edit, EnvelopeBody, EnvelopeCase, Opener, envelope_open, genuine_envelopes,
};
pub use epoch_sequence::{EpochCase, EpochChoice, EpochOp, Sealer, epoch_sequence};
pub use header::{header_decode, slow_decode, slow_encode};
pub use input::{Input, Output};
pub use ratchet_sequence::{RatchetCase, RatchetEvent, ratchet_sequence};
pub use roundtrip::{EncryptEntry, RoundTripCase, roundtrip};
pub use rtp_depacketize::rtp_depacketize;
pub use sequence::{CtrChoice, Event, SequenceCase, receiver_sequence};

use secure_frame::CipherSuite;

/// A fuzz target: any bytes in, a panic on a finding.
pub type Target = fn(&[u8]);

/// The fuzz targets by name, as `fuzz/fuzz_targets/<name>.rs` calls them, for tools that replay
/// a corpus directory per target (`tests/fuzz_corpus.rs`).
pub const TARGETS: &[(&str, Target)] = &[
    ("header_decode", header_decode),
    ("decrypt", decrypt),
    ("roundtrip", roundtrip),
    ("receiver_sequence", receiver_sequence),
    ("codec_plan", codec_plan),
    ("compat_open", compat_open),
    ("ratchet_sequence", ratchet_sequence),
    ("envelope_parse", envelope_parse),
    ("epoch_sequence", epoch_sequence),
    ("envelope_open", envelope_open),
    ("rtp_depacketize", rtp_depacketize),
];

/// `CipherSuite::ALL[index % len]`: every byte names a suite this build implements.
fn suite_at(index: u8) -> CipherSuite {
    let all = CipherSuite::ALL;
    all.get(usize::from(index) % all.len())
        .copied()
        .unwrap_or(CipherSuite::AesGcm128Sha256)
}

/// The index of `suite` in `CipherSuite::ALL` (the inverse of [`suite_at`]).
fn suite_index(suite: CipherSuite) -> u8 {
    CipherSuite::ALL
        .iter()
        .position(|s| *s == suite)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(0)
}
