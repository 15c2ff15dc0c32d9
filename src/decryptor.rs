//! SFrame decryption with receive keys (RFC 9605 §4.4.4), and the one seam every key store
//! plugs into.
//!
//! Receiving is two phases. The first reads the header without any key:
//! [`FrameView::parse`](crate::FrameView::parse) for an RFC 9605 frame (an SFU or a key manager
//! can stop there). The second finds the key, authenticates and decrypts in place. Between them
//! sits one trait, [`ReceiveKeys`]: a key store *lends* the key for a KID ([`KeyLease`]), the
//! framing hands it the frame it parsed once ([`Ciphertext`]), and the store commits state
//! (replay window, ratchet position, key cache) only when that frame authenticated.
//! [`ReceiveKey`], [`Decryptor`], [`RatchetReceiver`](crate::RatchetReceiver),
//! [`MlsEpochStore`](crate::mls::MlsEpochStore) and the session's participants all implement
//! it, and both framings (RFC 9605 here, the codec-aware container in `compat`) call it.
//!
//! # Failure contract
//!
//! On every failure the receiver's state is unchanged. Failures found before authentication —
//! a malformed header, an unknown KID, a frame shorter than its tag, a replayed counter — leave
//! the frame byte-identical, so a frame with an unknown KID can be kept and retried when its key
//! arrives (§4.4.4). An authentication failure leaves the header and tag as they were and the
//! encrypted bytes zeroed: never unauthenticated plaintext (the frame MUST be discarded,
//! §4.4.4). The codec-aware framing keeps the same contract.

use core::fmt;

use crate::aead::{Aad, AeadError, AeadKey, MAX_METADATA_LEN};
use crate::header::{Header, HeaderError, KeyId};
use crate::key_schedule::derive_key_salt;
use crate::replay::ReplayWindow;
use crate::secret::{BaseKey, SframeSalt};
use crate::suite::CipherSuite;

/// The W3C WebRTC Encoded Transform's `SFrameTransformErrorEventType`: what a receive error
/// means to an application, in the three classes a browser reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// `"syntax"`: not an SFrame frame (malformed header, trailer or length).
    Syntax,
    /// `"keyID"`: no key is installed for the frame's KID. The frame may be kept and retried
    /// once its key arrives (RFC 9605 §4.4.4).
    KeyId,
    /// `"authentication"`: the tag did not verify, or the counter was replayed.
    Authentication,
}

impl ErrorKind {
    /// The W3C `errorType` string: `"syntax"`, `"keyID"` or `"authentication"`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Syntax => "syntax",
            Self::KeyId => "keyID",
            Self::Authentication => "authentication",
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The encrypted part of one received frame, parsed once by its framing and handed to a key
/// store: the header, the associated data, the ciphertext (decrypted in place) and the tag.
///
/// Only a [`ReceiveKey`] can open it ([`ReceiveKey::open`]); the framing gets the plaintext
/// back only from a `Ciphertext` that authenticated, so no key store can hand unauthenticated
/// bytes back as if they were plaintext.
pub struct Ciphertext<'a, 'f> {
    header: Header,
    aad: Aad<'a>,
    body: &'f mut [u8],
    tag: &'f [u8],
    opened: bool,
}

impl<'a, 'f> Ciphertext<'a, 'f> {
    /// Splits an RFC 9605 frame whose header (`header_len` bytes) was decoded as `header`,
    /// for a key whose tag is `tag_len` bytes.
    pub(crate) fn rfc9605(
        header: Header,
        header_len: usize,
        tag_len: usize,
        metadata: &'a [u8],
        frame: &'f mut [u8],
    ) -> Result<Self, DecryptError>
    where
        'f: 'a,
    {
        if metadata.len() > MAX_METADATA_LEN {
            return Err(DecryptError::MetadataTooLong);
        }
        let (header_bytes, rest) = frame
            .split_at_mut_checked(header_len)
            .ok_or(DecryptError::TooShort)?;
        let body_len = rest
            .len()
            .checked_sub(tag_len)
            .ok_or(DecryptError::TooShort)?;
        let (body, tag) = rest.split_at_mut(body_len);
        Ok(Self {
            header,
            aad: Aad {
                header: header_bytes,
                metadata,
            },
            body,
            tag,
            opened: false,
        })
    }

    /// A ciphertext from its pieces: the associated data (header as received, metadata; the
    /// codec-aware container passes `H ‖ A` as one slice), and a body and tag that may lie
    /// apart.
    pub(crate) fn from_parts(
        header: Header,
        aad: Aad<'a>,
        body: &'f mut [u8],
        tag: &'f [u8],
    ) -> Self {
        Self {
            header,
            aad,
            body,
            tag,
            opened: false,
        }
    }

    /// The frame's header.
    #[must_use]
    pub fn header(&self) -> Header {
        self.header
    }

    /// The frame's KID.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.header.key_id()
    }

    /// The length of the ciphertext (and of the plaintext it hides), tag excluded.
    #[must_use]
    pub fn len(&self) -> usize {
        self.body.len()
    }

    /// Whether the ciphertext is empty (a frame of only header and tag).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    /// Whether a key authenticated and decrypted it.
    #[must_use]
    pub fn is_opened(&self) -> bool {
        self.opened
    }

    /// The plaintext, once a key authenticated the frame; `None` before.
    pub(crate) fn into_plaintext(self) -> Option<&'f mut [u8]> {
        self.opened.then_some(self.body)
    }
}

impl fmt::Debug for Ciphertext<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ciphertext")
            .field("header", &self.header)
            .field("len", &self.body.len())
            .field("opened", &self.opened)
            .finish_non_exhaustive()
    }
}

/// A key store: finds the key for a KID and lends it for one frame (RFC 9605 §4.4.1
/// `recv_keys`).
///
/// The one seam of the receive path. A framing parses the frame once, asks
/// [`lend`](Self::lend) for the frame's KID (`None` is an unknown KID: the frame is untouched
/// and may be kept for later), learns the key's suite from the lease (the codec-aware trailer
/// needs the tag length to find its range map), and calls [`KeyLease::open`]. The store commits
/// state only inside a successful `open`; a lease dropped unused changes nothing.
pub trait ReceiveKeys {
    /// Who a frame came from, as this store knows it: `()` for plain key stores, the MLS
    /// sender for the epoch store, the participant for a session.
    type Sender;
    /// The key lent for one frame.
    type Lease<'s>: KeyLease<Sender = Self::Sender>
    where
        Self: 's;

    /// The key that opens frames of `kid`, if there is one. Looking never changes state (a
    /// ratchet receiver may derive a candidate key for a KID a few steps ahead; it is kept only
    /// if the frame authenticates).
    fn lend(&mut self, kid: KeyId) -> Option<Self::Lease<'_>>;
}

/// A key lent by a [`ReceiveKeys`] store for one frame.
pub trait KeyLease {
    /// As [`ReceiveKeys::Sender`].
    type Sender;

    /// The cipher suite of the key (its tag length splits the frame).
    fn suite(&self) -> CipherSuite;

    /// Authenticates and decrypts `ciphertext` in place, and only then commits the store's
    /// state (replay window, ratchet position, key cache).
    ///
    /// # Errors
    ///
    /// [`DecryptError::Replay`], [`DecryptError::Authentication`] (the ciphertext is then
    /// zeroed), [`DecryptError::UnknownKeyId`] when the lease does not hold the frame's KID.
    fn open(self, ciphertext: &mut Ciphertext<'_, '_>) -> Result<Self::Sender, DecryptError>;

    /// Authenticates and decrypts an RFC 9605 `frame` in place, whose header (its first
    /// `header_len` bytes) was decoded as `header`; returns the sender and the plaintext, a
    /// sub-slice of `frame`. This provided method splits the frame into a [`Ciphertext`] and
    /// calls [`open`](Self::open); the library's stores override it to open the frame where it
    /// lies (issue #15: the `Ciphertext` went through the stack on every frame), with the same
    /// checks and the same failure contract (a frame failing two checks may report either).
    ///
    /// # Errors
    ///
    /// As [`open`](Self::open), and [`DecryptError::MetadataTooLong`] and
    /// [`DecryptError::TooShort`] for a frame that cannot be split.
    fn open_frame<'f>(
        self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<(Self::Sender, &'f mut [u8]), DecryptError>
    where
        Self: Sized,
    {
        open_split(self, header, header_len, metadata, frame)
    }
}

/// [`KeyLease::open_frame`] through a [`Ciphertext`] and [`KeyLease::open`]: the provided
/// method, and the way of the leases that override it for the keys they open in other ways.
pub(crate) fn open_split<'f, L: KeyLease>(
    lease: L,
    header: Header,
    header_len: usize,
    metadata: &[u8],
    frame: &'f mut [u8],
) -> Result<(L::Sender, &'f mut [u8]), DecryptError> {
    let tag_len = lease.suite().tag_len();
    let mut ciphertext = Ciphertext::rfc9605(header, header_len, tag_len, metadata, frame)?;
    let sender = lease.open(&mut ciphertext)?;
    let plaintext = ciphertext
        .into_plaintext()
        .ok_or(DecryptError::Authentication)?;
    Ok((sender, plaintext))
}

impl KeyLease for &mut ReceiveKey {
    type Sender = ();

    fn suite(&self) -> CipherSuite {
        self.suite
    }

    fn open(self, ciphertext: &mut Ciphertext<'_, '_>) -> Result<(), DecryptError> {
        ReceiveKey::open(self, ciphertext)
    }

    #[inline]
    fn open_frame<'f>(
        self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<((), &'f mut [u8]), DecryptError> {
        self.open_decoded(header, header_len, metadata, frame)
            .map(|plaintext| ((), plaintext))
    }
}

impl ReceiveKeys for ReceiveKey {
    type Sender = ();
    type Lease<'s> = &'s mut ReceiveKey;

    fn lend(&mut self, kid: KeyId) -> Option<&mut ReceiveKey> {
        (kid == self.kid).then_some(self)
    }
}

/// The second phase of receiving an RFC 9605 frame (§4.4.4): decodes the header once, lends
/// the key for its KID from `keys`, authenticates and decrypts in place. Returns who sent it
/// (as `keys` knows it) and the plaintext, a sub-slice of `frame`.
///
/// # Errors
///
/// [`DecryptError::Header`], [`DecryptError::UnknownKeyId`] (the frame is unchanged),
/// [`DecryptError::TooShort`], [`DecryptError::MetadataTooLong`], [`DecryptError::Replay`],
/// [`DecryptError::Authentication`]. See the module docs for what each leaves in `frame`.
pub fn open_in_place<'f, K: ReceiveKeys + ?Sized>(
    keys: &mut K,
    metadata: &[u8],
    frame: &'f mut [u8],
) -> Result<(K::Sender, &'f mut [u8]), DecryptError> {
    let (header, header_len) = Header::decode(frame)?;
    open_decoded(keys, header, header_len, metadata, frame)
}

/// [`open_in_place`] for a header already decoded from `frame` (`header_len` bytes).
pub(crate) fn open_decoded<'f, K: ReceiveKeys + ?Sized>(
    keys: &mut K,
    header: Header,
    header_len: usize,
    metadata: &[u8],
    frame: &'f mut [u8],
) -> Result<(K::Sender, &'f mut [u8]), DecryptError> {
    let kid = header.key_id();
    let lease = keys.lend(kid).ok_or(DecryptError::UnknownKeyId(kid))?;
    lease.open_frame(header, header_len, metadata, frame)
}

/// One receive key: decrypts frames carrying one KID, with its own anti-replay window.
///
/// A receive key can only decrypt (RFC 9605 §4.4.1: a key is encrypt-only or decrypt-only); the
/// send side is [`Encryptor`](crate::Encryptor). Needs no allocator.
pub struct ReceiveKey {
    suite: CipherSuite,
    kid: KeyId,
    /// `Nt` of the suite, looked up once (a byte, so that the key does not grow).
    tag_len: u8,
    key: AeadKey,
    salt: SframeSalt,
    replay: ReplayWindow,
    /// The `sframe_key` itself, for an external AEAD ([`aead_key`](Self::aead_key)).
    #[cfg(feature = "external-aead")]
    sframe_key: crate::secret::SframeKey,
}

impl ReceiveKey {
    /// Derives the receive key for `kid` from `base_key` (RFC 9605 §4.4.2), with the default
    /// 128-counter replay window.
    #[must_use]
    pub fn new(suite: CipherSuite, kid: KeyId, base_key: &BaseKey) -> Self {
        let (key, salt) = derive_key_salt(suite, kid, base_key.expose_secret());
        Self {
            suite,
            kid,
            tag_len: suite.tag_len_u8(),
            key: AeadKey::derived(suite, &key),
            salt,
            replay: ReplayWindow::default(),
            #[cfg(feature = "external-aead")]
            sframe_key: key,
        }
    }

    /// Replaces the replay window (for example with [`ReplayWindow::disabled`]).
    #[must_use]
    pub fn with_replay_window(mut self, window: ReplayWindow) -> Self {
        self.replay = window;
        self
    }

    /// The cipher suite.
    #[must_use]
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The KID this key decrypts.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.kid
    }

    /// The anti-replay window and what it has seen.
    #[must_use]
    pub fn replay_window(&self) -> &ReplayWindow {
        &self.replay
    }

    /// Authenticates and decrypts `frame` (`header || ciphertext || tag`) in place, returning
    /// the plaintext as a sub-slice of `frame`.
    ///
    /// # Errors
    ///
    /// [`DecryptError::Header`] for a malformed header; [`DecryptError::UnknownKeyId`] when the
    /// frame carries another KID; [`DecryptError::TooShort`], [`DecryptError::MetadataTooLong`],
    /// [`DecryptError::Replay`], [`DecryptError::Authentication`]. See the module docs for
    /// what each leaves in `frame`; the key's state is unchanged on every error.
    // `#[inline]`: see `open_cold`.
    #[inline]
    pub fn decrypt_in_place<'f>(
        &mut self,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<&'f mut [u8], DecryptError> {
        // What `open_in_place(self, ..)` does, in the same order of checks, without building
        // a `Ciphertext` (issue #15: its fields went through the stack on every frame).
        let (header, header_len) = Header::decode(frame)?;
        self.open_decoded(header, header_len, metadata, frame)
    }

    /// [`decrypt_in_place`](Self::decrypt_in_place) of a frame whose header was decoded.
    #[inline]
    fn open_decoded<'f>(
        &mut self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<&'f mut [u8], DecryptError> {
        if header.key_id() != self.kid {
            return Err(DecryptError::UnknownKeyId(header.key_id()));
        }
        if metadata.len() > MAX_METADATA_LEN {
            return Err(DecryptError::MetadataTooLong);
        }
        let (header_bytes, rest) = frame
            .split_at_mut_checked(header_len)
            .ok_or(DecryptError::TooShort)?;
        let body_len = rest
            .len()
            .checked_sub(usize::from(self.tag_len))
            .ok_or(DecryptError::TooShort)?;
        let (body, tag) = rest.split_at_mut(body_len);
        let aad = Aad {
            header: header_bytes,
            metadata,
        };
        self.open_parts(header.counter().0, aad, body, tag)?;
        Ok(body)
    }

    /// Authenticates and decrypts `frame` into `out`, returning the plaintext as a prefix of
    /// `out`. `frame` is never modified.
    ///
    /// # Errors
    ///
    /// As [`decrypt_in_place`](Self::decrypt_in_place), plus [`DecryptError::BufferTooSmall`].
    /// On an authentication failure the bytes written to `out` are zero.
    pub fn decrypt<'o>(
        &mut self,
        metadata: &[u8],
        frame: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o [u8], DecryptError> {
        let view = crate::header::FrameView::parse(frame)?;
        if view.key_id() != self.kid {
            return Err(DecryptError::UnknownKeyId(view.key_id()));
        }
        if metadata.len() > MAX_METADATA_LEN {
            return Err(DecryptError::MetadataTooLong);
        }
        let body_len = view
            .body()
            .len()
            .checked_sub(self.suite.tag_len())
            .ok_or(DecryptError::TooShort)?;
        let (body, tag) = view.body().split_at(body_len);
        // Nothing is written to `out` for a frame refused before authentication.
        self.replay.check(view.counter().0)?;
        let plaintext = out
            .get_mut(..body.len())
            .ok_or(DecryptError::BufferTooSmall { needed: body.len() })?;
        plaintext.copy_from_slice(body);
        let mut ciphertext = Ciphertext::from_parts(
            view.header(),
            Aad {
                header: view.header_bytes(),
                metadata,
            },
            plaintext,
            tag,
        );
        self.open(&mut ciphertext)?;
        if !ciphertext.is_opened() {
            return Err(DecryptError::Authentication);
        }
        out.get(..body.len()).ok_or(DecryptError::Authentication)
    }

    /// The first half of opening a frame with an AEAD outside the library (feature
    /// `external-aead`; see [`external`](crate::external)): decodes the header and checks
    /// the KID, the metadata, the length and the replay window, as
    /// [`decrypt_in_place`](Self::decrypt_in_place) does before it authenticates. Changes
    /// nothing.
    ///
    /// # Errors
    ///
    /// [`DecryptError::Header`]; [`DecryptError::UnknownKeyId`] when the frame carries another
    /// KID; [`DecryptError::MetadataTooLong`], [`DecryptError::TooShort`],
    /// [`DecryptError::Replay`].
    #[cfg(feature = "external-aead")]
    pub fn begin_open(
        &self,
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<crate::external::OpenRequest, DecryptError> {
        let (header, header_len) = Header::decode(frame)?;
        self.begin_open_decoded(header, header_len, metadata, frame)
    }

    /// [`begin_open`](Self::begin_open) for a frame whose header was decoded as `header`
    /// (`header_len` bytes): the store's door, so a frame is decoded once.
    #[cfg(feature = "external-aead")]
    pub(crate) fn begin_open_decoded(
        &self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        frame: &[u8],
    ) -> Result<crate::external::OpenRequest, DecryptError> {
        if header.key_id() != self.kid {
            return Err(DecryptError::UnknownKeyId(header.key_id()));
        }
        if metadata.len() > MAX_METADATA_LEN {
            return Err(DecryptError::MetadataTooLong);
        }
        if frame.len() < header_len + self.suite.tag_len() {
            return Err(DecryptError::TooShort);
        }
        let ctr = header.counter().0;
        self.replay.check(ctr)?;
        Ok(crate::external::OpenRequest::new(
            self.suite,
            header,
            header_len,
            self.salt.nonce(ctr),
        ))
    }

    /// The second half, once the external AEAD verified the frame's tag: moves the replay
    /// window. Never call it for a frame whose tag did not verify.
    ///
    /// # Errors
    ///
    /// [`DecryptError::UnknownKeyId`] for a request of another KID, or of another key under
    /// this KID (its nonce is not this key's: the key was replaced since `begin_open`);
    /// [`DecryptError::Replay`] when a frame with the same counter was committed since
    /// `begin_open` (drop this one).
    #[cfg(feature = "external-aead")]
    #[expect(
        clippy::needless_pass_by_value,
        reason = "taken so that a request is committed at most once"
    )]
    pub fn commit_open(
        &mut self,
        request: crate::external::OpenRequest,
    ) -> Result<(), DecryptError> {
        if request.key_id() != self.kid {
            return Err(DecryptError::UnknownKeyId(request.key_id()));
        }
        let ctr = request.counter().0;
        // The salt is the key's: a request made under another key for this KID (removed and
        // added again, an MLS epoch rolled over) has another nonce, and moves nothing here.
        if self.salt.nonce(ctr) != *request.nonce() {
            return Err(DecryptError::UnknownKeyId(request.key_id()));
        }
        self.replay.check(ctr)?;
        self.replay.accept(ctr);
        Ok(())
    }

    /// The `sframe_key` of this key (RFC 9605 §4.4.2), to key an external AEAD with (feature
    /// `external-aead`; see [`external::aead_key`](crate::external::aead_key)). Zeroized on
    /// drop.
    #[cfg(feature = "external-aead")]
    #[must_use]
    pub fn aead_key(&self) -> crate::secret::SframeKey {
        self.sframe_key.duplicate()
    }

    // RFC 9605 §4.4.4
    // def decrypt(metadata, sframe_ciphertext):
    //   KID, CTR, header, ciphertext = parse_ciphertext(sframe_ciphertext)
    //   sframe_key, sframe_salt = key_store[KID]
    //   ctr = encode_big_endian(CTR, AEAD.Nn)
    //   nonce = xor(sframe_salt, ctr)
    //   aad = header + metadata
    //   return AEAD.Decrypt(sframe_key, nonce, aad, ciphertext)
    /// Authenticates and decrypts a parsed frame in place, whichever framing parsed it; moves
    /// the replay window only on success. This is what every [`KeyLease`] ends in.
    ///
    /// # Errors
    ///
    /// [`DecryptError::UnknownKeyId`] when the frame carries another KID;
    /// [`DecryptError::TooShort`] when its tag is not this suite's length;
    /// [`DecryptError::Replay`]; [`DecryptError::Authentication`] (the ciphertext is then
    /// zeroed). On every error the key's state is unchanged.
    pub fn open(&mut self, ciphertext: &mut Ciphertext<'_, '_>) -> Result<(), DecryptError> {
        if ciphertext.key_id() != self.kid {
            return Err(DecryptError::UnknownKeyId(ciphertext.key_id()));
        }
        if ciphertext.tag.len() != usize::from(self.tag_len) {
            return Err(DecryptError::TooShort);
        }
        let ctr = ciphertext.header.counter().0;
        self.open_parts(ctr, ciphertext.aad, ciphertext.body, ciphertext.tag)?;
        ciphertext.opened = true;
        Ok(())
    }

    /// The replay check, the AEAD and, only once it authenticated, the window update: the end
    /// of [`open`](Self::open) and [`decrypt_in_place`](Self::decrypt_in_place). The caller has
    /// checked the KID and that `tag` is `Nt` bytes.
    #[inline]
    fn open_parts(
        &mut self,
        ctr: u64,
        aad: Aad<'_>,
        body: &mut [u8],
        tag: &[u8],
    ) -> Result<(), DecryptError> {
        self.replay.check(ctr)?;
        // GCM opened here, the nonce made for it alone; the other suites, and the frames of a
        // ring+aws-lc build that aws-lc takes, out of line (issue #15, as
        // `Encryptor::encrypt_in_room`).
        match self.key.inline_gcm(body.len()) {
            Some(gcm) => {
                // Every error is an authentication failure here (the metadata's length was
                // checked, so the joined AAD fits): tested as one branch, where matching
                // `AeadError::Authentication` and then mapping the result took three more
                // (issue #15). `AeadKey::open`'s failure contract: no plaintext is left.
                if gcm.open(&self.salt.nonce(ctr), aad, body, tag).is_err() {
                    body.fill(0);
                    return Err(DecryptError::Authentication);
                }
            }
            None => open_cold(
                &self.key,
                &self.salt,
                ctr,
                aad.header,
                aad.metadata,
                body,
                tag,
            )
            .map_err(|_| DecryptError::Authentication)?,
        }
        self.replay.accept(ctr);
        Ok(())
    }
}

/// `AeadKey::open` for the suites `ReceiveKey` does not open inline; the AAD in pieces, so
/// that the caller does not lay it out on the stack before it knows the suite.
///
/// `#[cold]` keeps it out of its callers; `#[inline]`, with the `#[inline]` path from
/// `ReceiveKey::decrypt_in_place` and `Decryptor::decrypt_in_place` down to it, compiles it in
/// the crate that calls those, as `Encryptor`'s `seal_cold` (which says why).
#[cold]
#[inline]
fn open_cold(
    key: &AeadKey,
    salt: &SframeSalt,
    ctr: u64,
    header: &[u8],
    metadata: &[u8],
    body: &mut [u8],
    tag: &[u8],
) -> Result<(), AeadError> {
    key.open(&salt.nonce(ctr), Aad { header, metadata }, body, tag)
}

impl fmt::Debug for ReceiveKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReceiveKey")
            .field("suite", &self.suite)
            .field("kid", &self.kid)
            .field("replay", &self.replay)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "alloc")]
pub use store::Decryptor;

#[cfg(feature = "alloc")]
mod store {
    use alloc::vec::Vec;
    use core::fmt;

    use hashbrown::HashMap;
    use hashbrown::hash_map::Entry;

    use super::{DecryptError, ReceiveKey, ReceiveKeys, open_decoded, open_in_place};
    use crate::header::{Header, KeyId};
    use crate::replay::ReplayWindow;
    use crate::secret::{BaseKey, KeyError};
    use crate::suite::CipherSuite;

    /// The receive keys of one media stream, by KID (RFC 9605 §4.4.1 `recv_keys`), each with
    /// its own replay window.
    ///
    /// A hash index maps each KID to where its key lies, so finding the key of a frame and
    /// installing or removing one cost the same with 1 KID or 10 000 (issue #15: a sorted
    /// index took 14 dependent loads per frame and shifted its entries on every install at
    /// 10 000). The keys themselves (about 1 KiB each) never move when another is added. Only
    /// the application installs KIDs; a frame's KID is only looked up, so a hostile sender
    /// cannot lengthen the probe sequences of the index.
    pub struct Decryptor {
        suite: CipherSuite,
        window: ReplayWindow,
        /// `keys[index[kid]]` is the key of `kid`; one entry per key.
        index: HashMap<KeyId, usize>,
        /// In installation order, but that removing a key moves the last one into its place.
        keys: Vec<ReceiveKey>,
    }

    impl Decryptor {
        /// An empty store for `suite`; keys get the default 128-counter replay window.
        #[must_use]
        pub fn new(suite: CipherSuite) -> Self {
            Self::with_replay_window(suite, ReplayWindow::default())
        }

        /// An empty store whose keys get `window` (for example [`ReplayWindow::disabled`]).
        #[must_use]
        pub fn with_replay_window(suite: CipherSuite, window: ReplayWindow) -> Self {
            Self {
                suite,
                window,
                index: HashMap::new(),
                keys: Vec::new(),
            }
        }

        #[inline]
        pub(crate) fn find_mut(&mut self, kid: KeyId) -> Option<&mut ReceiveKey> {
            let slot = *self.index.get(&kid)?;
            self.keys.get_mut(slot)
        }

        /// The cipher suite of keys added with [`add_key`](Self::add_key).
        #[must_use]
        pub fn suite(&self) -> CipherSuite {
            self.suite
        }

        /// Derives and installs the receive key for `kid`.
        ///
        /// # Errors
        ///
        /// [`KeyError::DuplicateKeyId`] when `kid` is installed (remove it first: a KID maps
        /// to one base key).
        pub fn add_key(&mut self, kid: KeyId, base_key: &BaseKey) -> Result<(), KeyError> {
            if self.contains_key(kid) {
                return Err(KeyError::DuplicateKeyId(kid));
            }
            let key = ReceiveKey::new(self.suite, kid, base_key).with_replay_window(self.window);
            self.insert(key)
        }

        /// Installs a receive key built elsewhere (its own suite and window are kept).
        ///
        /// # Errors
        ///
        /// [`KeyError::DuplicateKeyId`] when its KID is installed.
        pub fn insert(&mut self, key: ReceiveKey) -> Result<(), KeyError> {
            let kid = key.key_id();
            match self.index.entry(kid) {
                Entry::Occupied(_) => Err(KeyError::DuplicateKeyId(kid)),
                Entry::Vacant(entry) => {
                    entry.insert(self.keys.len());
                    self.keys.push(key);
                    Ok(())
                }
            }
        }

        /// Removes the key for `kid`; returns it if it was installed.
        pub fn remove_key(&mut self, kid: KeyId) -> Option<ReceiveKey> {
            let slot = self.index.remove(&kid)?;
            if slot >= self.keys.len() {
                return None; // the index always names a key: unreachable
            }
            let removed = self.keys.swap_remove(slot);
            // The last key moved into `slot`: point its index entry there.
            if let Some(moved) = self.keys.get(slot).map(ReceiveKey::key_id) {
                if let Some(entry) = self.index.get_mut(&moved) {
                    *entry = slot;
                }
            }
            Some(removed)
        }

        /// Whether a key for `kid` is installed.
        #[must_use]
        pub fn contains_key(&self, kid: KeyId) -> bool {
            self.index.contains_key(&kid)
        }

        /// The installed key for `kid`.
        #[must_use]
        pub fn get(&self, kid: KeyId) -> Option<&ReceiveKey> {
            self.keys.get(*self.index.get(&kid)?)
        }

        /// The number of installed keys.
        #[must_use]
        pub fn len(&self) -> usize {
            self.keys.len()
        }

        /// Whether no key is installed.
        #[must_use]
        pub fn is_empty(&self) -> bool {
            self.keys.is_empty()
        }

        /// The installed KIDs, in installation order but that removing a key moves the last
        /// installed one into its place (the order depends only on the installs and removals).
        pub fn key_ids(&self) -> impl Iterator<Item = KeyId> + '_ {
            self.keys.iter().map(ReceiveKey::key_id)
        }

        /// Looks up the frame's KID and decrypts in place, returning the plaintext as a
        /// sub-slice of `frame`.
        ///
        /// # Errors
        ///
        /// As [`ReceiveKey::decrypt_in_place`]; [`DecryptError::UnknownKeyId`] when no key is
        /// installed for the frame's KID (the frame is unchanged: keep it and retry once the
        /// key arrives).
        // `#[inline]`: see `open_cold`.
        #[inline]
        pub fn decrypt_in_place<'f>(
            &mut self,
            metadata: &[u8],
            frame: &'f mut [u8],
        ) -> Result<&'f mut [u8], DecryptError> {
            open_in_place(self, metadata, frame).map(|((), plaintext)| plaintext)
        }

        /// Decrypts `frame` into a new `Vec`; `frame` is not modified.
        ///
        /// # Errors
        ///
        /// As [`decrypt_in_place`](Self::decrypt_in_place).
        pub fn decrypt_to_vec(
            &mut self,
            metadata: &[u8],
            frame: &[u8],
        ) -> Result<Vec<u8>, DecryptError> {
            let (header, header_len) = Header::decode(frame)?;
            let mut out = frame.to_vec();
            let len = open_decoded(self, header, header_len, metadata, &mut out)?
                .1
                .len();
            out.truncate(header_len + len);
            out.drain(..header_len);
            Ok(out)
        }
    }

    impl ReceiveKeys for Decryptor {
        type Sender = ();
        type Lease<'s> = &'s mut ReceiveKey;

        #[inline]
        fn lend(&mut self, kid: KeyId) -> Option<&mut ReceiveKey> {
            self.find_mut(kid)
        }
    }

    impl fmt::Debug for Decryptor {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Decryptor")
                .field("suite", &self.suite)
                .field("keys", &self.keys.len())
                .finish_non_exhaustive()
        }
    }
}

/// Why a frame could not be decrypted. On every error the receiver's state is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum DecryptError {
    /// The SFrame header is malformed.
    #[error("malformed SFrame header: {0}")]
    Header(#[from] HeaderError),
    /// No receive key is installed for this KID. RFC 9605 §4.4.4 allows keeping the frame and
    /// retrying once the key arrives: the frame is unchanged.
    #[error("no receive key for KID {0}")]
    UnknownKeyId(KeyId),
    /// The frame is shorter than the header plus the suite's tag.
    #[error("SFrame ciphertext shorter than its tag")]
    TooShort,
    /// The metadata is longer than [`MAX_METADATA_LEN`](crate::MAX_METADATA_LEN).
    #[error("metadata too long")]
    MetadataTooLong,
    /// The output buffer is smaller than the plaintext.
    #[error("output buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes the plaintext needs.
        needed: usize,
    },
    /// The anti-replay window rejected the counter: it was already accepted, or it is older than
    /// the window (RFC 9605 §7.4, §9.3).
    #[error("replayed or too old SFrame counter")]
    Replay,
    /// Authentication failed. Deliberately carries no detail.
    #[error("SFrame authentication failed")]
    Authentication,
}

impl DecryptError {
    /// The W3C `SFrameTransformErrorEvent.errorType` of this error: a malformed header, a frame
    /// shorter than its tag or over-long metadata are `syntax`; an unknown KID is `keyID`; a
    /// replay or a failed tag is `authentication`.
    #[must_use]
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Self::UnknownKeyId(_) => ErrorKind::KeyId,
            Self::Replay | Self::Authentication => ErrorKind::Authentication,
            Self::Header(_)
            | Self::TooShort
            | Self::MetadataTooLong
            | Self::BufferTooSmall { .. } => ErrorKind::Syntax,
        }
    }

    /// Whether keeping the frame and trying again later can succeed: only for an unknown KID,
    /// once its key is installed (RFC 9605 §4.4.4). Every other error means drop the frame.
    #[must_use]
    pub const fn is_retryable(&self) -> bool {
        matches!(self, Self::UnknownKeyId(_))
    }
}
