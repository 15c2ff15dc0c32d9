//! SFrame encryption with one send key (RFC 9605 §4.4.3).

use core::fmt;

use crate::aead::{Aad, AeadKey, MAX_METADATA_LEN};
use crate::header::{Counter, Header, HeaderTemplate, KeyId, MAX_HEADER_LEN};
use crate::key_schedule::derive_key_salt;
use crate::secret::{BaseKey, SframeSalt};
use crate::suite::CipherSuite;

/// One send key: encrypts frames under one KID with counters 0, 1, 2, … (RFC 9605 §4.4.1,
/// §4.4.3).
///
/// The encryptor owns the counter and never uses a value twice: it increments only after a
/// successful encryption, never wraps, and refuses to encrypt forever once `u64::MAX` has been
/// used. It is deliberately not `Clone` (two copies would reuse nonces). The AEAD key is
/// expanded once, here; a frame costs the header, a 12-byte XOR and the cipher.
pub struct Encryptor {
    suite: CipherSuite,
    kid: KeyId,
    /// The header of the counters of the current counter's length, encoded once per length.
    template: HeaderTemplate,
    /// `Nt` of the suite, looked up once (a byte, so that the key does not grow).
    tag_len: u8,
    key: AeadKey,
    salt: SframeSalt,
    /// The next counter, unless `exhausted`.
    next: u64,
    /// Every counter, `u64::MAX` included, has been used. Apart from `next` so that a frame
    /// reads the counter without testing an `Option` (issue #15).
    exhausted: bool,
}

impl Encryptor {
    /// Room to keep in front of the plaintext for [`encrypt_in_room`](Self::encrypt_in_room):
    /// the longest header.
    pub const HEADER_ROOM: usize = MAX_HEADER_LEN;

    /// Derives the send key for `kid` from `base_key` (RFC 9605 §4.4.2). The counter starts at 0.
    #[must_use]
    pub fn new(suite: CipherSuite, kid: KeyId, base_key: &BaseKey) -> Self {
        let (key, salt) = derive_key_salt(suite, kid, base_key.expose_secret());
        Self {
            suite,
            kid,
            template: HeaderTemplate::EMPTY,
            tag_len: suite.tag_len_u8(),
            key: AeadKey::derived(suite, &key),
            salt,
            next: 0,
            exhausted: false,
        }
    }

    /// The cipher suite.
    #[must_use]
    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The KID every frame carries.
    #[must_use]
    pub fn key_id(&self) -> KeyId {
        self.kid
    }

    /// The counter the next frame will carry, or `None` once the key is exhausted.
    #[must_use]
    pub fn next_counter(&self) -> Option<Counter> {
        self.next().map(Counter)
    }

    /// The next counter, `None` once the key is exhausted.
    fn next(&self) -> Option<u64> {
        (!self.exhausted).then_some(self.next)
    }

    /// Records that `ctr`, the next counter, was used.
    fn consume(&mut self, ctr: u64) {
        match ctr.checked_add(1) {
            Some(next) => self.next = next,
            None => self.exhausted = true,
        }
    }

    /// Moves the counter forward to `ctr`, skipping the values in between; for restoring a
    /// persisted counter (RFC 9605 §9.1: store the next counter before using the current one).
    ///
    /// # Errors
    ///
    /// [`EncryptError::CounterReuse`] when `ctr` is below the next counter (the counter never
    /// moves back); [`EncryptError::CounterExhausted`] when the key is exhausted.
    pub fn advance_counter_to(&mut self, ctr: Counter) -> Result<(), EncryptError> {
        let next = self.next().ok_or(EncryptError::CounterExhausted)?;
        if ctr.0 < next {
            return Err(EncryptError::CounterReuse);
        }
        self.next = ctr.0;
        Ok(())
    }

    /// `Nt` of the suite: the tag bytes after the ciphertext.
    #[must_use]
    pub fn tag_len(&self) -> usize {
        usize::from(self.tag_len)
    }

    /// The length of the next frame's SFrame ciphertext for a plaintext of `plaintext_len`
    /// bytes: header, ciphertext and tag.
    #[must_use]
    pub fn ciphertext_len(&self, plaintext_len: usize) -> usize {
        let header_len = self.next().map_or(MAX_HEADER_LEN, |ctr| {
            Header::new(self.kid, Counter(ctr)).encoded_len()
        });
        header_len
            .saturating_add(plaintext_len)
            .saturating_add(self.tag_len())
    }

    /// The next counter and its header, without consuming the counter.
    fn next_header(&self, metadata: &[u8]) -> Result<(u64, Header), EncryptError> {
        let ctr = self.next().ok_or(EncryptError::CounterExhausted)?;
        if metadata.len() > MAX_METADATA_LEN {
            return Err(EncryptError::MetadataTooLong);
        }
        Ok((ctr, Header::new(self.kid, Counter(ctr))))
    }

    // RFC 9605 §4.4.3
    // def encrypt(CTR, KID, metadata, plaintext):
    //   sframe_key, sframe_salt = key_store[KID]
    //   ctr = encode_big_endian(CTR, AEAD.Nn)
    //   nonce = xor(sframe_salt, ctr)
    //   header = encode_sframe_header(CTR, KID)
    //   aad = header + metadata
    //   ciphertext = AEAD.Encrypt(sframe_key, nonce, aad, plaintext)
    //   return header + ciphertext
    /// Seals `frame` = `header || plaintext || tag room` in place, then consumes the counter.
    // `always`: with three callers (`encrypt` and the two cold paths) LTO left it out of line,
    // +10 instructions for `encrypt`'s frame (issue #15).
    #[expect(clippy::inline_always, reason = "measured: callgrind, 160 B")]
    #[inline(always)]
    fn seal(
        &mut self,
        ctr: u64,
        header_len: usize,
        metadata: &[u8],
        frame: &mut [u8],
    ) -> Result<(), EncryptError> {
        let needed = header_len + self.tag_len();
        let (header, rest) = frame
            .split_at_mut_checked(header_len)
            .ok_or(EncryptError::BufferTooSmall { needed })?;
        let payload_len = rest
            .len()
            .checked_sub(self.tag_len())
            .ok_or(EncryptError::BufferTooSmall { needed })?;
        let (payload, tag) = rest.split_at_mut(payload_len);
        // As in `seal_in_room`: GCM here, the other suites through `seal_cold`. Not one helper
        // for both: there each arm returns its own error, and the merged result cost the
        // in-room frame 4 instructions (callgrind, 160 B).
        let sealed = match self.key.inline_gcm(payload.len()) {
            Some(gcm) => gcm.seal(
                &self.salt.nonce(ctr),
                Aad { header, metadata },
                payload,
                tag,
            ),
            None => seal_cold(&self.key, &self.salt, ctr, header, metadata, payload, tag),
        };
        sealed.map_err(|_| EncryptError::FrameTooLong)?;
        self.consume(ctr);
        Ok(())
    }

    /// The compat container's door: seals `payload` in place under the next counter and
    /// consumes it. `aad` is `[HEADER_ROOM bytes][metadata]`; the header is written at the end
    /// of the room and `header || metadata` is authenticated as one slice, so the metadata has
    /// no length limit (the caller builds it on the heap). Writes exactly `tag_len()` bytes of
    /// tag to the front of `tag`.
    #[cfg(feature = "alloc")]
    pub(crate) fn seal_detached(
        &mut self,
        aad: &mut [u8],
        payload: &mut [u8],
        tag: &mut [u8],
    ) -> Result<Header, EncryptError> {
        let ctr = self.next().ok_or(EncryptError::CounterExhausted)?;
        let header = Header::new(self.kid, Counter(ctr));
        let room = aad
            .first_chunk_mut::<MAX_HEADER_LEN>()
            .ok_or(EncryptError::BufferTooSmall {
                needed: Self::HEADER_ROOM,
            })?;
        let header_len = header.write_right_aligned(room);
        let (_, joined) = aad.split_at(Self::HEADER_ROOM - header_len);
        let tag_len = self.tag_len();
        let tag = tag
            .get_mut(..tag_len)
            .ok_or(EncryptError::BufferTooSmall { needed: tag_len })?;
        let aad = Aad {
            header: joined,
            metadata: &[],
        };
        self.key
            .seal(&self.salt.nonce(ctr), aad, payload, tag)
            .map_err(|_| EncryptError::FrameTooLong)?;
        self.consume(ctr);
        Ok(header)
    }

    /// Reserves the next counter for a frame sealed by an AEAD outside the library (feature
    /// `external-aead`; see [`external`](crate::external)): returns its header and nonce. The
    /// counter is used up whether or not the frame is sealed.
    ///
    /// # Errors
    ///
    /// [`EncryptError::CounterExhausted`]; [`EncryptError::MetadataTooLong`] for metadata no
    /// receiver of this library accepts. On error the counter is unchanged.
    #[cfg(feature = "external-aead")]
    pub fn begin_seal(
        &mut self,
        metadata: &[u8],
    ) -> Result<crate::external::SealRequest, EncryptError> {
        let (ctr, header) = self.next_header(metadata)?;
        self.consume(ctr);
        Ok(crate::external::SealRequest::new(
            self.suite(),
            header,
            self.salt.nonce(ctr),
        ))
    }

    /// The inverse of [`seal_detached`](Self::seal_detached), for the compat sender only: opens
    /// `payload`, sealed under `header` (this encryptor's own KID and an earlier counter) with
    /// `aad` = `[HEADER_ROOM bytes ending in the header][metadata]` and `tag`, in place, to get
    /// the plaintext back after an attempt that was not sent (the counter stays used). Returns
    /// whether the tag verified, which it always does for what `seal_detached` made; if not,
    /// the payload is zero.
    #[cfg(feature = "alloc")]
    #[must_use]
    pub(crate) fn unseal_detached(
        &self,
        header: Header,
        aad: &[u8],
        payload: &mut [u8],
        tag: &[u8],
    ) -> bool {
        let Some(joined) = aad.get(Self::HEADER_ROOM - header.encoded_len()..) else {
            payload.fill(0);
            return false;
        };
        let aad = Aad {
            header: joined,
            metadata: &[],
        };
        self.key
            .open(&self.salt.nonce(header.counter().0), aad, payload, tag)
            .is_ok()
    }

    /// Encrypts `plaintext` into `out` and returns the SFrame ciphertext, a prefix of `out` of
    /// [`ciphertext_len`](Self::ciphertext_len) bytes. Copies the plaintext once; see
    /// [`encrypt_in_room`](Self::encrypt_in_room) for the copy-free form.
    ///
    /// # Errors
    ///
    /// [`EncryptError::BufferTooSmall`] when `out` is too short;
    /// [`EncryptError::CounterExhausted`], [`EncryptError::MetadataTooLong`],
    /// [`EncryptError::FrameTooLong`]. On error the counter is unchanged.
    pub fn encrypt<'o>(
        &mut self,
        metadata: &[u8],
        plaintext: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o [u8], EncryptError> {
        let ctr = self.next;
        // The header from the template, as `encrypt_in_room` writes it, into the first half of
        // `room`, and copied out as a fixed 17 bytes (the header and the zeros after it) when
        // the frame is that long: encoding it and copying it by its length cost ~60
        // instructions a frame (issue #15). As there, a covered counter is not the last, so
        // the key is not exhausted; the others take the general path.
        let mut room = [0u8; 2 * MAX_HEADER_LEN];
        let start = match room.first_chunk_mut::<MAX_HEADER_LEN>() {
            Some(head) => self.template.write(ctr, head),
            None => None,
        };
        let Some(start) = start else {
            return self.encrypt_uncovered(metadata, plaintext, out);
        };
        if metadata.len() > MAX_METADATA_LEN {
            return Err(EncryptError::MetadataTooLong);
        }
        let header_len = MAX_HEADER_LEN - start;
        let needed = header_len + plaintext.len() + self.tag_len();
        // A frame shorter than 17 bytes (a near-empty plaintext) takes the general path: no
        // second copy of a variable length here, which the compiler merged with this one.
        let window = room
            .get(start..)
            .and_then(<[u8]>::first_chunk::<MAX_HEADER_LEN>);
        let (Some(window), true) = (window, needed >= MAX_HEADER_LEN) else {
            return self.encrypt_uncovered(metadata, plaintext, out);
        };
        let frame = out
            .get_mut(..needed)
            .ok_or(EncryptError::BufferTooSmall { needed })?;
        // The bytes after the header are the plaintext's and the tag's, written next.
        if let Some(to) = frame.first_chunk_mut::<MAX_HEADER_LEN>() {
            *to = *window;
        }
        let (_, rest) = frame.split_at_mut(header_len);
        let (payload, _) = rest.split_at_mut(plaintext.len());
        payload.copy_from_slice(plaintext);
        self.seal(ctr, header_len, metadata, frame)?;
        Ok(frame)
    }

    /// [`encrypt`](Self::encrypt) for a counter the header template does not cover: the same
    /// checks in the same order, a new template for the counter's length, the header from the
    /// canonical encoder.
    #[cold]
    #[inline(never)]
    fn encrypt_uncovered<'o>(
        &mut self,
        metadata: &[u8],
        plaintext: &[u8],
        out: &'o mut [u8],
    ) -> Result<&'o [u8], EncryptError> {
        let (ctr, header) = self.next_header(metadata)?;
        self.template = HeaderTemplate::new(self.kid, ctr);
        let header = header.encode();
        let needed = header.len() + plaintext.len() + self.tag_len();
        let frame = out
            .get_mut(..needed)
            .ok_or(EncryptError::BufferTooSmall { needed })?;
        let (head, rest) = frame.split_at_mut(header.len());
        head.copy_from_slice(&header);
        let (payload, _) = rest.split_at_mut(plaintext.len());
        payload.copy_from_slice(plaintext);
        self.seal(ctr, header.len(), metadata, frame)?;
        Ok(frame)
    }

    /// Encrypts in place without moving the plaintext. `buf` is laid out as
    /// `[HEADER_ROOM bytes][plaintext][tag_len() bytes]`; the room before and after is
    /// overwritten. Returns the SFrame ciphertext: the sub-slice of `buf` that ends at its end
    /// and starts `HEADER_ROOM - header length` bytes in.
    ///
    /// # Errors
    ///
    /// [`EncryptError::BufferTooSmall`] when `buf` is shorter than the room;
    /// [`EncryptError::CounterExhausted`], [`EncryptError::MetadataTooLong`],
    /// [`EncryptError::FrameTooLong`]. On error the counter is unchanged and the plaintext is
    /// where it was.
    // `#[inline]`: see `seal_cold`.
    #[inline]
    pub fn encrypt_in_room<'b>(
        &mut self,
        metadata: &[u8],
        buf: &'b mut [u8],
    ) -> Result<&'b mut [u8], EncryptError> {
        let start = self.seal_in_room(metadata, buf)?;
        buf.get_mut(start..).ok_or(EncryptError::BufferTooSmall {
            needed: Self::HEADER_ROOM + self.tag_len(),
        })
    }

    /// [`encrypt_in_room`](Self::encrypt_in_room) up to where the ciphertext starts in `buf`
    /// (returned so that the general path's result merges with the template path's as one
    /// number, not as a slice through the stack: issue #15).
    #[inline]
    fn seal_in_room(&mut self, metadata: &[u8], buf: &mut [u8]) -> Result<usize, EncryptError> {
        let ctr = self.next;
        // Every counter a header template covers has a successor (no template covers
        // `u64::MAX`), so the key is not exhausted and the increment below cannot overflow: one
        // test serves the counter and the header (issue #15). The first frame, the first of
        // each counter length and the last counter take the general path.
        if !self.template.covers(ctr) {
            return self.seal_in_room_uncovered(metadata, buf);
        }
        if metadata.len() > MAX_METADATA_LEN {
            return Err(EncryptError::MetadataTooLong);
        }
        // One length check and one split; the header is the CTR added into the template.
        let tag_len = self.tag_len();
        let needed = Self::HEADER_ROOM + tag_len;
        let (room, rest) = buf
            .split_first_chunk_mut::<MAX_HEADER_LEN>()
            .ok_or(EncryptError::BufferTooSmall { needed })?;
        let payload_len = rest
            .len()
            .checked_sub(tag_len)
            .ok_or(EncryptError::BufferTooSmall { needed })?;
        let (payload, tag) = rest.split_at_mut(payload_len);
        let Some(start) = self.template.write(ctr, room) else {
            return self.seal_in_room_uncovered(metadata, buf);
        };
        let header = room
            .get(start..)
            .ok_or(EncryptError::BufferTooSmall { needed })?;
        let aad = Aad { header, metadata };
        // The counter is consumed before the AEAD runs and given back if it refuses (so that
        // it is not kept live across the call: issue #15); nothing reads it in between, so on
        // error it is unchanged, as documented. Below `u64::MAX`: the template covers it.
        self.next = ctr + 1;
        // GCM called here, the nonce made for it alone; the other suites, and the frames of a
        // ring+aws-lc build that aws-lc takes, out of line (issue #15: through `AeadKey::seal`
        // the nonce and the AAD were laid out on the stack for the calls those make, and the
        // nonce copied again for ring).
        match self.key.inline_gcm(payload.len()) {
            Some(gcm) => {
                if gcm.seal(&self.salt.nonce(ctr), aad, payload, tag).is_err() {
                    self.next -= 1;
                    return Err(EncryptError::FrameTooLong);
                }
            }
            None => {
                if seal_cold(&self.key, &self.salt, ctr, header, metadata, payload, tag).is_err() {
                    self.next -= 1;
                    return Err(EncryptError::FrameTooLong);
                }
            }
        }
        Ok(start)
    }

    /// [`seal_in_room`](Self::seal_in_room) for a counter the header template does not
    /// cover: the same checks in the same order, a new template for the counter's length, the
    /// header from the canonical encoder, and [`seal`](Self::seal).
    #[cold]
    #[inline(never)]
    fn seal_in_room_uncovered(
        &mut self,
        metadata: &[u8],
        buf: &mut [u8],
    ) -> Result<usize, EncryptError> {
        let ctr = self.next().ok_or(EncryptError::CounterExhausted)?;
        if metadata.len() > MAX_METADATA_LEN {
            return Err(EncryptError::MetadataTooLong);
        }
        let needed = Self::HEADER_ROOM + self.tag_len();
        if buf.len() < needed {
            return Err(EncryptError::BufferTooSmall { needed });
        }
        let room = buf
            .first_chunk_mut::<MAX_HEADER_LEN>()
            .ok_or(EncryptError::BufferTooSmall { needed })?;
        self.template = HeaderTemplate::new(self.kid, ctr);
        let header_len = Header::new(self.kid, Counter(ctr)).write_right_aligned(room);
        let start = MAX_HEADER_LEN - header_len;
        let frame = buf
            .get_mut(start..)
            .ok_or(EncryptError::BufferTooSmall { needed })?;
        self.seal(ctr, header_len, metadata, frame)?;
        Ok(start)
    }

    /// Encrypts the plaintext in `frame` in place, growing it to the SFrame ciphertext: the
    /// header is inserted in front (the payload moves by the header length) and the tag
    /// appended.
    ///
    /// # Errors
    ///
    /// [`EncryptError::CounterExhausted`], [`EncryptError::MetadataTooLong`],
    /// [`EncryptError::FrameTooLong`]. On error `frame` holds the plaintext again and the
    /// counter is unchanged.
    #[cfg(feature = "alloc")]
    pub fn encrypt_in_place(
        &mut self,
        metadata: &[u8],
        frame: &mut alloc::vec::Vec<u8>,
    ) -> Result<(), EncryptError> {
        let (ctr, header) = self.next_header(metadata)?;
        let header = header.encode();
        let plaintext_len = frame.len();
        frame.resize(header.len() + plaintext_len + self.tag_len(), 0);
        frame.copy_within(..plaintext_len, header.len());
        if let Some(head) = frame.get_mut(..header.len()) {
            head.copy_from_slice(&header);
        }
        let result = self.seal(ctr, header.len(), metadata, frame);
        if result.is_err() {
            frame.drain(..header.len());
            frame.truncate(plaintext_len);
        }
        result
    }

    /// Encrypts `plaintext` into a new `Vec`.
    ///
    /// # Errors
    ///
    /// As [`encrypt`](Self::encrypt), except that the buffer cannot be too small.
    #[cfg(feature = "alloc")]
    pub fn encrypt_to_vec(
        &mut self,
        metadata: &[u8],
        plaintext: &[u8],
    ) -> Result<alloc::vec::Vec<u8>, EncryptError> {
        let mut out = alloc::vec![0; self.ciphertext_len(plaintext.len())];
        let len = self.encrypt(metadata, plaintext, &mut out)?.len();
        out.truncate(len);
        Ok(out)
    }
}

/// `AeadKey::seal` for the suites `encrypt_in_room` does not call inline; the AAD in pieces,
/// so that the caller does not lay it out on the stack before it knows the suite.
///
/// `#[cold]` keeps it out of its callers; `#[inline]`, with `encrypt_in_room`'s, compiles it,
/// and the `aes` crate's AES-CTR inside it, in the crate that calls `encrypt_in_room`. Compiled
/// inside this library, under fat LTO, that AES-CTR is a slower loop than the same code
/// compiled in the application (issue #15: suites 1-3 ran 1.03-1.08x the raw `ctr`+`hmac`
/// calls at every size; BENCHMARKS.md).
#[cold]
#[inline]
fn seal_cold(
    key: &AeadKey,
    salt: &SframeSalt,
    ctr: u64,
    header: &[u8],
    metadata: &[u8],
    payload: &mut [u8],
    tag: &mut [u8],
) -> Result<(), crate::aead::AeadError> {
    key.seal(&salt.nonce(ctr), Aad { header, metadata }, payload, tag)
}

impl fmt::Debug for Encryptor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encryptor")
            .field("suite", &self.suite)
            .field("kid", &self.kid)
            .field("next_counter", &self.next())
            .finish_non_exhaustive()
    }
}

/// Why a frame could not be encrypted. On every error the encryptor's counter is unchanged,
/// except that [`EncryptError::CounterExhausted`] is permanent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, thiserror::Error)]
#[non_exhaustive]
pub enum EncryptError {
    /// Every counter value of this key has been used; the key can never encrypt again
    /// (RFC 9605 §4.4.3, §9.1). Install a new key.
    #[error("SFrame counter exhausted for this key")]
    CounterExhausted,
    /// The output buffer is smaller than the SFrame ciphertext.
    #[error("output buffer too small: {needed} bytes needed")]
    BufferTooSmall {
        /// Bytes the ciphertext needs.
        needed: usize,
    },
    /// The metadata is longer than [`MAX_METADATA_LEN`](crate::MAX_METADATA_LEN).
    #[error("metadata too long")]
    MetadataTooLong,
    /// The plaintext is longer than the cipher suite can encrypt under one nonce.
    #[error("frame too long for the cipher suite")]
    FrameTooLong,
    /// The counter cannot move backwards: the requested value was already used or passed.
    #[error("counter would move backwards")]
    CounterReuse,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ReceiveKey;

    /// `encrypt_in_room` across every change of counter length, to the last counter: the
    /// header template's frames and the general path's agree with the canonical encoder, open,
    /// and the key is exhausted after `u64::MAX`.
    #[test]
    fn in_room_headers_across_counter_lengths() {
        let plaintext = [0x42u8; 24];
        for suite in [
            CipherSuite::AesGcm128Sha256,
            CipherSuite::AesCtr128HmacSha256_80,
        ] {
            for kid in [KeyId(3), KeyId(0x1234), KeyId(u64::MAX)] {
                let base = BaseKey::new(b"template").unwrap();
                let mut sender = Encryptor::new(suite, kid, &base);
                let mut receiver = ReceiveKey::new(suite, kid, &base);
                let mut starts = std::vec![0];
                for shift in (16..64).step_by(8) {
                    starts.push((1u64 << shift) - 3);
                }
                starts.push(u64::MAX - 2);
                for start in starts {
                    sender.advance_counter_to(Counter(start)).unwrap();
                    let frames = if start == 0 { 300 } else { 3 };
                    for ctr in start..=start + (frames - 1) {
                        let mut buf = std::vec![0xee; Encryptor::HEADER_ROOM];
                        buf.extend_from_slice(&plaintext);
                        buf.resize(buf.len() + sender.tag_len(), 0xee);
                        let expected_len = sender.ciphertext_len(plaintext.len());
                        let wire = sender.encrypt_in_room(b"", &mut buf).unwrap().to_vec();
                        let header = Header::new(kid, Counter(ctr)).encode();
                        assert_eq!(wire.len(), expected_len);
                        assert_eq!(&wire[..header.len()], &header[..], "{suite:?} {ctr}");
                        let mut wire = wire;
                        assert_eq!(
                            receiver.decrypt_in_place(b"", &mut wire).unwrap(),
                            plaintext
                        );
                    }
                    let next = start.checked_add(frames).map(Counter);
                    assert_eq!(sender.next_counter(), next);
                }
                // Exhausted: that error first, whatever else is wrong, and it stays.
                for _ in 0..2 {
                    assert_eq!(
                        sender.encrypt_in_room(&[0; MAX_METADATA_LEN + 1], &mut [0; 3]),
                        Err(EncryptError::CounterExhausted)
                    );
                }
            }
        }
    }

    /// `encrypt` (the copy path) across every change of counter length, beside a twin sealing
    /// in room: the same bytes on the template's path and the general one, frames shorter
    /// than the 17 bytes the template copies among them (an empty plaintext under a 4-byte
    /// tag), the canonical header, and each opens. Then its errors on the template's path:
    /// metadata before the buffer, the counter unchanged.
    #[test]
    fn copy_path_headers_across_counter_lengths() {
        for suite in [
            CipherSuite::AesGcm128Sha256,
            CipherSuite::AesCtr128HmacSha256_32,
        ] {
            for kid in [KeyId(3), KeyId(0x1234), KeyId(u64::MAX)] {
                let base = BaseKey::new(b"copy path").unwrap();
                let mut copied = Encryptor::new(suite, kid, &base);
                let mut in_room = Encryptor::new(suite, kid, &base);
                let mut receiver = ReceiveKey::new(suite, kid, &base);
                let mut starts = std::vec![0];
                for shift in (8..64).step_by(8) {
                    starts.push((1u64 << shift) - 3);
                }
                starts.push(u64::MAX - 2);
                for start in starts {
                    copied.advance_counter_to(Counter(start)).unwrap();
                    in_room.advance_counter_to(Counter(start)).unwrap();
                    let frames = if start == 0 { 40 } else { 3 };
                    for ctr in start..=start + (frames - 1) {
                        let size = usize::try_from(ctr % 3).unwrap() * 12;
                        let plaintext = std::vec![0x42u8; size];
                        let metadata: &[u8] = if ctr % 2 == 0 { b"" } else { b"md" };
                        let mut out = std::vec![0xee; copied.ciphertext_len(size) + 5];
                        let wire = copied.encrypt(metadata, &plaintext, &mut out).unwrap();
                        let mut room = std::vec![0xee; Encryptor::HEADER_ROOM];
                        room.extend_from_slice(&plaintext);
                        room.resize(room.len() + suite.tag_len(), 0xee);
                        let reference = in_room.encrypt_in_room(metadata, &mut room).unwrap();
                        assert_eq!(wire, &reference[..], "{suite:?} {kid:?} {ctr}");
                        let header = Header::new(kid, Counter(ctr)).encode();
                        assert_eq!(&wire[..header.len()], &header[..], "{suite:?} {ctr}");
                        let mut wire = wire.to_vec();
                        assert_eq!(
                            receiver.decrypt_in_place(metadata, &mut wire).unwrap(),
                            plaintext
                        );
                    }
                }
            }
        }
        let mut sender = Encryptor::new(
            CipherSuite::AesGcm128Sha256,
            KeyId(9),
            &BaseKey::new(b"order").unwrap(),
        );
        sender.advance_counter_to(Counter(8)).unwrap();
        for next in 8..10 {
            let long = [0; MAX_METADATA_LEN + 1];
            assert_eq!(
                sender.encrypt(&long, b"x", &mut [0; 3]),
                Err(EncryptError::MetadataTooLong)
            );
            let needed = sender.ciphertext_len(1);
            for len in [0, 3, needed - 1] {
                assert_eq!(
                    sender.encrypt(b"", b"x", &mut std::vec![0; len]),
                    Err(EncryptError::BufferTooSmall { needed })
                );
            }
            assert_eq!(sender.next_counter(), Some(Counter(next)));
            sender
                .encrypt(b"", b"x", &mut std::vec![0; needed])
                .unwrap();
        }
    }

    /// The errors of `encrypt_in_room` in the order the general path checks them, on the
    /// template's path (the second frame) as on the general one (the first).
    #[test]
    fn in_room_error_order() {
        let mut sender = Encryptor::new(
            CipherSuite::AesGcm128Sha256,
            KeyId(9),
            &BaseKey::new(b"order").unwrap(),
        );
        for next in 0..2 {
            let long = [0; MAX_METADATA_LEN + 1];
            assert_eq!(
                sender.encrypt_in_room(&long, &mut [0; 3]),
                Err(EncryptError::MetadataTooLong)
            );
            let needed = Encryptor::HEADER_ROOM + 16;
            for len in [0, 3, Encryptor::HEADER_ROOM, needed - 1] {
                let mut buf = std::vec![0x77; len];
                assert_eq!(
                    sender.encrypt_in_room(b"", &mut buf),
                    Err(EncryptError::BufferTooSmall { needed })
                );
                assert!(buf.iter().all(|&b| b == 0x77), "nothing written");
            }
            assert_eq!(sender.next_counter(), Some(Counter(next)));
            let mut buf = [0; Encryptor::HEADER_ROOM + 16];
            // The config byte, one KID byte, the tag.
            assert_eq!(sender.encrypt_in_room(b"", &mut buf).unwrap().len(), 18);
        }
    }
}
