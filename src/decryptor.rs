//! SFrame decryption with receive keys (RFC 9605 §4.4.4).
//!
//! Receiving is two phases: [`FrameView::parse`](crate::FrameView::parse) reads the header
//! without any key (an SFU or a key manager can stop there), then a [`ReceiveKey`] or the
//! multi-KID [`Decryptor`] authenticates and decrypts in place.
//!
//! On every failure the receiver's state is unchanged. Failures found before authentication —
//! a malformed header, an unknown KID, a frame shorter than its tag, a replayed counter — leave
//! the frame byte-identical, so a frame with an unknown KID can be kept and retried when its key
//! arrives (§4.4.4). An authentication failure leaves the header and tag as they were and the
//! ciphertext zeroed: never unauthenticated plaintext (the frame MUST be discarded, §4.4.4).

use core::fmt;

use crate::MAX_METADATA_LEN;
use crate::aead::{Aad, AeadKey};
use crate::encryptor::check_base_key;
use crate::error::{DecryptError, KeyError};
#[cfg(feature = "alloc")]
use crate::header::Counter;
use crate::header::{Header, KeyId};
use crate::key_schedule::derive_key_salt;
use crate::replay::ReplayWindow;
use crate::secret::SframeSalt;
use crate::suite::CipherSuite;

/// One receive key: decrypts frames carrying one KID, with its own anti-replay window.
///
/// A receive key can only decrypt (RFC 9605 §4.4.1: a key is encrypt-only or decrypt-only); the
/// send side is [`Encryptor`](crate::Encryptor). Needs no allocator.
pub struct ReceiveKey {
    suite: CipherSuite,
    kid: KeyId,
    key: AeadKey,
    salt: SframeSalt,
    replay: ReplayWindow,
}

impl ReceiveKey {
    /// Derives the receive key for `kid` from `base_key` (RFC 9605 §4.4.2), with the default
    /// 128-counter replay window.
    ///
    /// # Errors
    ///
    /// [`KeyError::BaseKeyLength`] when `base_key` is empty or longer than
    /// [`BaseKey::MAX_LEN`](crate::BaseKey::MAX_LEN).
    pub fn new(suite: CipherSuite, kid: KeyId, base_key: &[u8]) -> Result<Self, KeyError> {
        check_base_key(base_key)?;
        let (key, salt, _) = derive_key_salt(suite, kid, base_key);
        Ok(Self {
            suite,
            kid,
            key: AeadKey::new(suite, &key)?,
            salt,
            replay: ReplayWindow::default(),
        })
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
    pub fn decrypt_in_place<'f>(
        &mut self,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<&'f mut [u8], DecryptError> {
        let (header, header_len) = Header::decode(frame)?;
        if header.key_id() != self.kid {
            return Err(DecryptError::UnknownKeyId(header.key_id()));
        }
        self.open(header, header_len, metadata, frame)
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
        let (header, header_len) = Header::decode(frame)?;
        if header.key_id() != self.kid {
            return Err(DecryptError::UnknownKeyId(header.key_id()));
        }
        self.open_copy(header, header_len, metadata, frame, out)
    }

    fn split_check(
        &self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        frame_len: usize,
    ) -> Result<usize, DecryptError> {
        if metadata.len() > MAX_METADATA_LEN {
            return Err(DecryptError::MetadataTooLong);
        }
        let ciphertext_len = frame_len
            .checked_sub(header_len)
            .and_then(|body| body.checked_sub(self.suite.tag_len()))
            .ok_or(DecryptError::TooShort)?;
        self.replay.check(header.counter().0)?;
        Ok(ciphertext_len)
    }

    // RFC 9605 §4.4.4
    // def decrypt(metadata, sframe_ciphertext):
    //   KID, CTR, header, ciphertext = parse_ciphertext(sframe_ciphertext)
    //   sframe_key, sframe_salt = key_store[KID]
    //   ctr = encode_big_endian(CTR, AEAD.Nn)
    //   nonce = xor(sframe_salt, ctr)
    //   aad = header + metadata
    //   return AEAD.Decrypt(sframe_key, nonce, aad, ciphertext)
    /// The second phase, for a header already parsed from `frame`.
    pub(crate) fn open<'f>(
        &mut self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        frame: &'f mut [u8],
    ) -> Result<&'f mut [u8], DecryptError> {
        let ciphertext_len = self.split_check(header, header_len, metadata, frame.len())?;
        let (header_bytes, rest) = frame.split_at_mut(header_len);
        let (ciphertext, tag) = rest.split_at_mut(ciphertext_len);
        let ctr = header.counter().0;
        let aad = Aad {
            header: header_bytes,
            metadata,
        };
        self.key
            .open(&self.salt.nonce(ctr), aad, ciphertext, tag)
            .map_err(|_| DecryptError::Authentication)?;
        self.replay.accept(ctr);
        Ok(ciphertext)
    }

    /// The compat container's door: authenticates and decrypts `ciphertext` in place under
    /// counter `ctr`, where `aad` is the received header followed by the metadata, as one slice
    /// of any length. Moves the replay window only on success; on an authentication failure
    /// `ciphertext` is zeroed.
    #[cfg(feature = "alloc")]
    pub(crate) fn open_detached(
        &mut self,
        ctr: Counter,
        aad: &[u8],
        ciphertext: &mut [u8],
        tag: &[u8],
    ) -> Result<(), DecryptError> {
        self.replay.check(ctr.0)?;
        let aad = Aad {
            header: aad,
            metadata: &[],
        };
        self.key
            .open(&self.salt.nonce(ctr.0), aad, ciphertext, tag)
            .map_err(|_| DecryptError::Authentication)?;
        self.replay.accept(ctr.0);
        Ok(())
    }

    fn open_copy<'o>(
        &mut self,
        header: Header,
        header_len: usize,
        metadata: &[u8],
        frame: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o [u8], DecryptError> {
        let ciphertext_len = self.split_check(header, header_len, metadata, frame.len())?;
        let (header_bytes, rest) = frame.split_at(header_len);
        let (ciphertext, tag) = rest.split_at(ciphertext_len);
        let plaintext = out
            .get_mut(..ciphertext_len)
            .ok_or(DecryptError::BufferTooSmall {
                needed: ciphertext_len,
            })?;
        plaintext.copy_from_slice(ciphertext);
        let ctr = header.counter().0;
        let aad = Aad {
            header: header_bytes,
            metadata,
        };
        self.key
            .open(&self.salt.nonce(ctr), aad, plaintext, tag)
            .map_err(|_| DecryptError::Authentication)?;
        self.replay.accept(ctr);
        Ok(plaintext)
    }
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

    use super::ReceiveKey;
    use crate::error::{DecryptError, KeyError};
    use crate::header::{Header, KeyId};
    use crate::replay::ReplayWindow;
    use crate::suite::CipherSuite;

    /// The receive keys of one media stream, by KID (RFC 9605 §4.4.1 `recv_keys`), each with
    /// its own replay window.
    ///
    /// KIDs are kept sorted in their own contiguous array, apart from the keys, so a lookup is a
    /// binary search over 8 bytes per key (1 000 KIDs: 10 comparisons within 8 KB).
    pub struct Decryptor {
        suite: CipherSuite,
        window: ReplayWindow,
        /// Sorted, unique; `keys[i]` is the key of `kids[i]`.
        kids: Vec<KeyId>,
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
                kids: Vec::new(),
                keys: Vec::new(),
            }
        }

        pub(crate) fn find_mut(&mut self, kid: KeyId) -> Option<&mut ReceiveKey> {
            let index = self.kids.binary_search(&kid).ok()?;
            self.keys.get_mut(index)
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
        /// to one base key); [`KeyError::BaseKeyLength`].
        pub fn add_key(&mut self, kid: KeyId, base_key: &[u8]) -> Result<(), KeyError> {
            if self.contains_key(kid) {
                return Err(KeyError::DuplicateKeyId(kid));
            }
            let key = ReceiveKey::new(self.suite, kid, base_key)?.with_replay_window(self.window);
            self.insert(key)
        }

        /// Installs a receive key built elsewhere (its own suite and window are kept).
        ///
        /// # Errors
        ///
        /// [`KeyError::DuplicateKeyId`] when its KID is installed.
        pub fn insert(&mut self, key: ReceiveKey) -> Result<(), KeyError> {
            let kid = key.key_id();
            match self.kids.binary_search(&kid) {
                Ok(_) => Err(KeyError::DuplicateKeyId(kid)),
                Err(index) => {
                    self.kids.insert(index, kid);
                    self.keys.insert(index, key);
                    Ok(())
                }
            }
        }

        /// Removes the key for `kid`; returns it if it was installed.
        pub fn remove_key(&mut self, kid: KeyId) -> Option<ReceiveKey> {
            let index = self.kids.binary_search(&kid).ok()?;
            self.kids.remove(index);
            Some(self.keys.remove(index))
        }

        /// Whether a key for `kid` is installed.
        #[must_use]
        pub fn contains_key(&self, kid: KeyId) -> bool {
            self.kids.binary_search(&kid).is_ok()
        }

        /// The installed key for `kid`.
        #[must_use]
        pub fn get(&self, kid: KeyId) -> Option<&ReceiveKey> {
            let index = self.kids.binary_search(&kid).ok()?;
            self.keys.get(index)
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

        /// The installed KIDs, ascending.
        pub fn key_ids(&self) -> impl Iterator<Item = KeyId> + '_ {
            self.kids.iter().copied()
        }

        /// Looks up the frame's KID and decrypts in place, returning the plaintext as a
        /// sub-slice of `frame`.
        ///
        /// # Errors
        ///
        /// As [`ReceiveKey::decrypt_in_place`]; [`DecryptError::UnknownKeyId`] when no key is
        /// installed for the frame's KID (the frame is unchanged: keep it and retry once the
        /// key arrives).
        pub fn decrypt_in_place<'f>(
            &mut self,
            metadata: &[u8],
            frame: &'f mut [u8],
        ) -> Result<&'f mut [u8], DecryptError> {
            let (header, header_len) = Header::decode(frame)?;
            let key = self
                .find_mut(header.key_id())
                .ok_or(DecryptError::UnknownKeyId(header.key_id()))?;
            key.open(header, header_len, metadata, frame)
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
            let key = self
                .find_mut(header.key_id())
                .ok_or(DecryptError::UnknownKeyId(header.key_id()))?;
            let mut out = alloc::vec![0; frame.len()];
            let len = key
                .open_copy(header, header_len, metadata, frame, &mut out)?
                .len();
            out.truncate(len);
            Ok(out)
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
