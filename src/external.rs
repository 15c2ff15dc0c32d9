//! Seal and open with an AEAD that runs outside the library (feature `external-aead`): the
//! WebCrypto API in a browser worker, a hardware engine, an asynchronous service.
//!
//! The library keeps everything that makes SFrame safe — the header, the counter, the nonce,
//! the key schedule, the replay window and the order in which state changes — and hands out
//! only what one AEAD call needs. The AEAD is the suite's, as RFC 9605 §4.5 defines it (for the
//! AES-GCM suites exactly what WebCrypto's `AES-GCM` with a 128-bit tag computes), keyed with
//! the `sframe_key` of [`aead_key`].
//!
//! Sending: [`Encryptor::begin_seal`] reserves the next counter and returns a [`SealRequest`]
//! with the header and the nonce. The frame is `header ‖ AEAD.Encrypt(sframe_key, nonce,
//! header ‖ metadata, plaintext)`. A reserved counter is used up whether or not the seal
//! happens, so no nonce is ever used twice.
//!
//! Receiving: [`Decryptor::begin_open`] (or [`ReceiveKey::begin_open`]) reads the header, finds
//! the key and checks the replay window — the same checks, in the same order and with the same
//! errors, as [`Decryptor::decrypt_in_place`] — and changes nothing. Only after the external
//! AEAD verified the tag does [`Decryptor::commit_open`] move the replay window (it checks the
//! window again: another frame with the same counter may have been committed meanwhile). A frame
//! whose tag did not verify is simply not committed: the receiver's state never changed, and the
//! caller must drop what its AEAD returned.
//!
//! The key stores of RFC 9605 §5 have the same pair: [`RatchetReceiver::begin_open`] tries a
//! KID a few steps ahead under its candidate key and changes nothing, and
//! [`RatchetReceiver::commit_open`] ratchets forward only then, as a one-call open does;
//! [`MlsEpochStore::begin_open`] / [`MlsEpochStore::commit_open`] cache a sender's key only on
//! commit. Each has an `aead_key(kid)` for the key to hand the external AEAD
//! ([`Decryptor::aead_key`], [`RatchetReceiver::aead_key`], [`MlsEpochStore::aead_key`];
//! [`RatchetSender::aead_key`] on the send side, taken again after every ratchet step). A
//! commit looks the KID up again: a request whose key is gone or was replaced under its KID
//! meanwhile is [`DecryptError::UnknownKeyId`](crate::DecryptError::UnknownKeyId).
//!
//! ```
//! # #[cfg(feature = "hazmat")] {
//! use secure_frame::external::aead_key;
//! use secure_frame::hazmat::RawAead;
//! use secure_frame::{BaseKey, CipherSuite, Decryptor, Encryptor, KeyId};
//!
//! let suite = CipherSuite::AesGcm128Sha256;
//! let (kid, base_key) = (KeyId(3), BaseKey::new(&[9; 16])?);
//! // The external AEAD, keyed once per key (here the library's own raw AEAD stands in).
//! let key = aead_key(suite, kid, &base_key);
//! let aead = RawAead::new(suite, key.expose_secret())?;
//!
//! let mut sender = Encryptor::new(suite, kid, &base_key);
//! let request = sender.begin_seal(b"meta")?;
//! let mut body = b"frame".to_vec();
//! let mut tag = [0; 16];
//! aead.seal(request.nonce(), &[request.header(), b"meta"].concat(), &mut body, &mut tag)?;
//! let frame = [request.header(), &body, &tag].concat();
//!
//! let mut receiver = Decryptor::new(suite);
//! receiver.add_key(kid, &base_key)?;
//! let request = receiver.begin_open(b"meta", &frame)?;
//! let (header, sealed) = request.split(&frame);
//! let (ciphertext, tag) = sealed.split_at(sealed.len() - suite.tag_len());
//! let mut plaintext = ciphertext.to_vec();
//! aead.open(request.nonce(), &[header, b"meta"].concat(), &mut plaintext, tag)?;
//! receiver.commit_open(request)?; // only now does the replay window move
//! assert_eq!(plaintext, b"frame");
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::header::{Counter, EncodedHeader, Header, KeyId};
use crate::key_schedule;
use crate::secret::{BaseKey, SframeKey};
use crate::suite::{CipherSuite, NONCE_LEN};

#[cfg(feature = "alloc")]
use crate::decryptor::Decryptor;
#[cfg(doc)]
use crate::decryptor::ReceiveKey;
#[cfg(doc)]
use crate::encryptor::Encryptor;
#[cfg(all(doc, feature = "alloc"))]
use crate::mls::MlsEpochStore;
#[cfg(doc)]
use crate::ratchet::{RatchetReceiver, RatchetSender};

/// The `sframe_key` of `kid` (RFC 9605 §4.4.2): what the external AEAD is keyed with, derived
/// once per key (import it into WebCrypto as a non-extractable key, for example). Zeroized on
/// drop.
#[must_use]
pub fn aead_key(suite: CipherSuite, kid: KeyId, base_key: &BaseKey) -> SframeKey {
    let (key, _salt) = key_schedule::derive_key_salt(suite, kid, base_key.expose_secret());
    key
}

/// One frame to seal outside the library: its header and nonce, the counter already reserved
/// ([`Encryptor::begin_seal`]).
#[derive(Debug)]
pub struct SealRequest {
    suite: CipherSuite,
    header: Header,
    encoded: EncodedHeader,
    nonce: [u8; NONCE_LEN],
}

impl SealRequest {
    pub(crate) fn new(suite: CipherSuite, header: Header, nonce: [u8; NONCE_LEN]) -> Self {
        Self {
            suite,
            header,
            encoded: header.encode(),
            nonce,
        }
    }

    /// The SFrame header: the frame's first bytes, and the first part of the associated data
    /// (`header ‖ metadata`).
    #[must_use]
    pub fn header(&self) -> &[u8] {
        self.encoded.as_bytes()
    }

    /// The AEAD nonce: `sframe_salt XOR counter`.
    #[must_use]
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// The KID.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.header.key_id()
    }

    /// The counter reserved for this frame.
    #[must_use]
    pub fn counter(&self) -> Counter {
        self.header.counter()
    }

    /// The suite whose AEAD seals the frame (its tag is [`CipherSuite::tag_len`] bytes).
    #[must_use]
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }
}

/// One received frame to open outside the library: header read, key found, replay window
/// checked, nothing changed ([`Decryptor::begin_open`]). Commit it only after the external
/// AEAD verified the tag ([`Decryptor::commit_open`]).
#[derive(Debug)]
pub struct OpenRequest {
    suite: CipherSuite,
    header: Header,
    header_len: usize,
    nonce: [u8; NONCE_LEN],
}

impl OpenRequest {
    pub(crate) fn new(
        suite: CipherSuite,
        header: Header,
        header_len: usize,
        nonce: [u8; NONCE_LEN],
    ) -> Self {
        Self {
            suite,
            header,
            header_len,
            nonce,
        }
    }

    /// The KID.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.header.key_id()
    }

    /// The frame's counter.
    #[must_use]
    pub fn counter(&self) -> Counter {
        self.header.counter()
    }

    /// The AEAD nonce: `sframe_salt XOR counter`.
    #[must_use]
    pub fn nonce(&self) -> &[u8; NONCE_LEN] {
        &self.nonce
    }

    /// The header's length in bytes.
    #[must_use]
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    /// The suite whose AEAD opens the frame.
    #[must_use]
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// Splits the frame this request was made for into its header (the first part of the
    /// associated data, `header ‖ metadata`) and the sealed rest, `ciphertext ‖ tag` (at least
    /// the tag: [`Decryptor::begin_open`] checked the length).
    #[must_use]
    pub fn split<'f>(&self, frame: &'f [u8]) -> (&'f [u8], &'f [u8]) {
        frame.split_at(self.header_len.min(frame.len()))
    }
}

#[cfg(feature = "alloc")]
impl Decryptor {
    /// The first half of opening a frame with an external AEAD: decodes the header, finds the
    /// key for its KID and checks the metadata, the length and the replay window, exactly as
    /// [`decrypt_in_place`](Self::decrypt_in_place) does before it authenticates. Changes
    /// nothing.
    ///
    /// # Errors
    ///
    /// [`DecryptError::Header`](crate::DecryptError::Header),
    /// [`DecryptError::UnknownKeyId`](crate::DecryptError::UnknownKeyId) (keep the frame and
    /// retry once the key arrives), [`DecryptError::MetadataTooLong`](crate::DecryptError::MetadataTooLong),
    /// [`DecryptError::TooShort`](crate::DecryptError::TooShort),
    /// [`DecryptError::Replay`](crate::DecryptError::Replay).
    pub fn begin_open(
        &self,
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<OpenRequest, crate::DecryptError> {
        let (header, header_len) = Header::decode(frame)?;
        let kid = header.key_id();
        self.get(kid)
            .ok_or(crate::DecryptError::UnknownKeyId(kid))?
            .begin_open_decoded(header, header_len, metadata, frame)
    }

    /// The second half, once the external AEAD verified the frame's tag: moves the replay
    /// window of the request's key. Never call it for a frame whose tag did not verify.
    ///
    /// # Errors
    ///
    /// [`DecryptError::UnknownKeyId`](crate::DecryptError::UnknownKeyId) when the key was
    /// removed meanwhile; [`DecryptError::Replay`](crate::DecryptError::Replay) when a frame
    /// with the same counter was committed meanwhile (drop this one: it is a replay).
    pub fn commit_open(&mut self, request: OpenRequest) -> Result<(), crate::DecryptError> {
        let kid = request.key_id();
        self.find_mut(kid)
            .ok_or(crate::DecryptError::UnknownKeyId(kid))?
            .commit_open(request)
    }

    /// The `sframe_key` of the installed key for `kid`, to key the external AEAD with; `None`
    /// when no key is installed for it.
    #[must_use]
    pub fn aead_key(&self, kid: KeyId) -> Option<SframeKey> {
        self.get(kid).map(crate::decryptor::ReceiveKey::aead_key)
    }
}
