// The README is the crate's front page; its first example uses the multi-KID `Decryptor`,
// so a build without `alloc` (where that example could not compile) gets a line instead.
#![cfg_attr(feature = "alloc", doc = include_str!("../README.md"))]
#![cfg_attr(
    not(feature = "alloc"),
    doc = "SFrame (RFC 9605) end-to-end encryption of media frames. This build is without \
           `alloc`: the single-key [`Encryptor`] and [`ReceiveKey`] are here, the multi-KID \
           store and the sessions need feature `alloc` (the README, the front page of a build \
           with `alloc`, shows them)."
)]
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `std` | yes | `std::error::Error` through `core::error::Error`; implies `alloc` |
//! | `alloc` | with `std` | the multi-KID [`Decryptor`], the MLS epoch store, the [`Session`], `Vec` conveniences |
//! | `ring` | yes | AES-GCM through ring (about 2–3× RustCrypto's `aes-gcm` on x86-64); everything else stays on RustCrypto |
//! | `aws-lc` | no | AES-GCM through aws-lc-rs (AWS-LC; faster than ring on large frames where AVX-512/VAES are present); with `ring` also on, each frame through the faster of the two at its size (ring below 3 KiB, AWS-LC from 3 KiB on; both expand every key); needs `std` and a C compiler |
//! | `fips` | no | every algorithm of RFC 9605 — AES-GCM, AES-CTR, HMAC, HKDF (key schedule, ratchet, MLS and RTP stream keys) — and `BaseKey::random` inside AWS-LC's FIPS 140-3 module (aws-lc-rs `fips`); `fips_mode()` checks the module; AES-GCM sealing is not an approved service there (the SFrame nonce is built outside it: the security manual); needs `std`, a C compiler, CMake and Go; not with `agreement` |
//! | `external-aead` | no | [`external`]: split seal and open for an AEAD outside the library (WebCrypto in a browser worker) |
//! | `draft-iana-256` | no | nothing any more: suites 6–8 are always built; kept for one release so that dependents that name it still build |
//! | `agreement` | no | [`agreement`]: P-256 ECDH pairwise keys, HPKE sender-key envelopes, verification codes (not RFC 9605; needs an allocator and Rust 1.87) |
//! | `getrandom` | no | [`os_rng`], the operating system's generator, and `BaseKey::random` |
//! | `hazmat` | no | [`hazmat`]: raw key-schedule outputs and the raw AEAD, for test vectors and audits |
//! | `rtp` | no | [`rtp`]: the RTP payload format for SFrame (draft-ietf-avtcore-rtp-sframe, not RFC 9605): descriptor, per-frame and per-packet packetization, per-SSRC keys; needs an allocator |
//!
//! Features are additive; with none at all the crate builds for bare-metal targets with no
//! allocator.
//!
//! # Design
//!
//! - **Sans-IO**: no sockets, no clocks, no hidden randomness.
//! - **No panics on input**: every malformed frame, truncated header, unknown key or absurd
//!   length is a typed error.
//! - **Allocation-free per frame**: keys are expanded when installed; a frame costs the header
//!   on the stack, a 12-byte XOR and the cipher.
//! - **State moves only after authentication**: replay windows and counters change only when a
//!   frame authenticated (decrypt) or was sealed (encrypt).
//! - **Not done here**: header confidentiality (RFC 9605 §7.1: KID and CTR are visible) and
//!   per-sender authentication (§7.2: any key holder can forge frames).
#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(all(feature = "fips", feature = "agreement"))]
compile_error!(
    "feature `fips` keeps every algorithm inside AWS-LC's FIPS module, and `agreement`'s P-256 \
     and HPKE are RustCrypto's: enable one of them, not both"
);

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod aead;
#[cfg(feature = "agreement")]
pub mod agreement;
#[cfg(feature = "alloc")]
pub mod codec;
#[cfg(feature = "alloc")]
pub mod compat;
mod decryptor;
mod encryptor;
#[cfg(feature = "external-aead")]
pub mod external;
#[cfg(feature = "hazmat")]
pub mod hazmat;
mod header;
mod kdf;
mod key_schedule;
pub mod manual;
pub mod mls;
pub mod ratchet;
mod replay;
#[cfg(feature = "rtp")]
pub mod rtp;
mod secret;
#[cfg(feature = "alloc")]
pub mod session;
mod suite;

pub use aead::MAX_METADATA_LEN;
#[cfg(feature = "agreement")]
pub use agreement::{AgreementError, EnvelopeError};
#[cfg(feature = "alloc")]
pub use decryptor::Decryptor;
pub use decryptor::ReceiveKey;
pub use decryptor::{Ciphertext, DecryptError, ErrorKind, KeyLease, ReceiveKeys, open_in_place};
pub use encryptor::EncryptError;
pub use encryptor::Encryptor;
pub use header::{Counter, EncodedHeader, FrameView, Header, HeaderError, KeyId, MAX_HEADER_LEN};
pub use mls::MlsError;
pub use rand_core;
pub use ratchet::{
    RatchetBits, RatchetError, RatchetReceiver, RatchetSender, SenderKeyHolder, SenderKeyId,
};
pub use replay::ReplayWindow;
pub use secret::{BaseKey, KeyError, SframeKey, SframeSalt, SframeSecret};
#[cfg(feature = "alloc")]
pub use session::{
    Decrypted, FrameFormat, MlsSession, ParticipantId, ProtectError, ReleasedFrame,
    SenderKeyLayout, SenderKeySession, Session, SessionKeyError, SessionStats, UnprotectError,
    Unprotected,
};
pub use suite::{CipherSuite, MAX_TAG_LEN};

/// The operating system's random number generator (feature `getrandom`), for the functions that
/// take a `CryptoRng` ([`BaseKey::generate`], the `agreement` functions).
///
/// # Panics
///
/// Drawing from it panics if the operating system cannot supply randomness (as `std`'s
/// `HashMap` seeding does): there is no safe way to go on without it.
#[cfg(feature = "getrandom")]
#[must_use]
pub fn os_rng() -> impl rand_core::CryptoRng {
    rand_core::UnwrapErr(getrandom::SysRng)
}

/// Checks that AWS-LC's FIPS 140-3 module is in FIPS mode (feature `fips`): its power-on self
/// tests passed, and every algorithm this crate calls runs inside it. A deployment that must use
/// a validated module calls this once at startup.
///
/// # Errors
///
/// [`NotInFipsMode`] when the module is not in FIPS mode.
#[cfg(feature = "fips")]
pub fn fips_mode() -> Result<(), NotInFipsMode> {
    aws_lc_rs::try_fips_mode().map_err(|_| NotInFipsMode)
}

/// AWS-LC's module is not in FIPS mode ([`fips_mode`]).
#[cfg(feature = "fips")]
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("AWS-LC is not in FIPS mode")]
pub struct NotInFipsMode;
