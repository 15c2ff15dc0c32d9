//! AES-GCM (RFC 5116), the AEAD of suites 4 and 5: through aws-lc-rs when the `aws-lc` or the
//! `fips` feature is on (the fastest here), else through ring when `ring` is on, else through
//! RustCrypto's `aes-gcm`.

use super::{Aad, AeadError};
use crate::suite::NONCE_LEN;

/// AES-GCM over ring or aws-lc-rs, whose `aead` APIs are the same but for opening (ring takes its
/// `Tag` and a source range): the invoking module supplies `open_tag`, which makes the tag that
/// crate takes, and `Gcm::open_joined`, the call itself.
#[cfg(any(feature = "ring", feature = "aws-lc", feature = "fips"))]
macro_rules! gcm_key {
    ($krate:ident) => {
        use $krate::aead::{AES_128_GCM, AES_256_GCM, LessSafeKey, Nonce, UnboundKey};

        use super::{Aad, AeadError, NONCE_LEN};

        /// An expanded AES-GCM key.
        pub(crate) struct Gcm(LessSafeKey);

        impl Gcm {
            /// `None` unless `key` is 16 or 32 bytes.
            pub(crate) fn new(key: &[u8]) -> Option<Self> {
                let algorithm = if key.len() == 32 {
                    &AES_256_GCM
                } else {
                    &AES_128_GCM
                };
                let key = UnboundKey::new(algorithm, key).ok()?;
                Some(Self(LessSafeKey::new(key)))
            }

            // Inlined into both of its callers: `Encryptor::encrypt_in_room`'s GCM arm and
            // `AeadKey::seal` (issue #15: out of line, it cost the frame ~35 instructions with
            // ring; with aws-lc, encrypt in room at 160 B went from 1.12x to 1.00x raw).
            // `allow`, not `expect`: clippy does not lint inside a macro expansion.
            #[allow(clippy::inline_always, reason = "measured: scripts/instructions frame")]
            #[inline(always)]
            pub(crate) fn seal(
                &self,
                nonce: &[u8; NONCE_LEN],
                aad: Aad<'_>,
                in_out: &mut [u8],
                tag: &mut [u8],
            ) -> Result<(), AeadError> {
                // Fixed-size copy: `Nt` is 16 for both GCM suites.
                let tag: &mut [u8; 16] = tag.try_into().map_err(|_| AeadError::TooLong)?;
                // Without metadata, the AEAD is called here rather than through
                // `with_contiguous`, which LTO leaves out of line once `seal` has two callers
                // (+40 a frame).
                if aad.metadata.is_empty() {
                    return self.seal_joined(nonce, aad.header, in_out, tag);
                }
                aad.with_contiguous(|aad| self.seal_joined(nonce, aad, in_out, tag))
            }

            /// [`seal`](Self::seal) with the AAD as one slice.
            #[inline]
            fn seal_joined(
                &self,
                nonce: &[u8; NONCE_LEN],
                aad: &[u8],
                in_out: &mut [u8],
                tag: &mut [u8; 16],
            ) -> Result<(), AeadError> {
                // The tag is copied straight out of the result (issue #15: mapping the result
                // first made the compiler move the 16 bytes through the stack in pieces).
                match self.0.seal_in_place_separate_tag(
                    Nonce::assume_unique_for_key(*nonce),
                    $krate::aead::Aad::from(aad),
                    in_out,
                ) {
                    Ok(computed) => {
                        tag.copy_from_slice(computed.as_ref());
                        Ok(())
                    }
                    Err(_) => Err(AeadError::TooLong),
                }
            }

            // As `seal`: inlined into `ReceiveKey`'s GCM arm and into `AeadKey::open`.
            #[allow(clippy::inline_always, reason = "measured: scripts/instructions frame")]
            #[inline(always)]
            pub(crate) fn open(
                &self,
                nonce: &[u8; NONCE_LEN],
                aad: Aad<'_>,
                in_out: &mut [u8],
                tag: &[u8],
            ) -> Result<(), AeadError> {
                // The nonce taken first, so that it is built where the AEAD reads it (with
                // ring, taken after the tag check, it was copied there: issue #15).
                let nonce = Nonce::assume_unique_for_key(*nonce);
                // Through a fixed-size array: ring's `Tag::try_from` on a slice went through
                // its `Result` on the stack as three overlapping moves (issue #15).
                let tag: &[u8; 16] = tag.try_into().map_err(|_| AeadError::Authentication)?;
                let tag = open_tag(tag);
                if aad.metadata.is_empty() {
                    return self.open_joined(nonce, aad.header, in_out, tag);
                }
                aad.with_contiguous(|aad| self.open_joined(nonce, aad, in_out, tag))
            }
        }
    };
}

#[cfg(all(feature = "ring", not(any(feature = "aws-lc", feature = "fips"))))]
mod imp {
    use ring::aead::Tag;

    gcm_key!(ring);

    /// The tag as ring's `open` takes it.
    #[inline]
    fn open_tag(tag: &[u8; 16]) -> Tag {
        Tag::from(*tag)
    }

    impl Gcm {
        /// [`open`](Self::open) with the AAD as one slice.
        #[inline]
        fn open_joined(
            &self,
            nonce: Nonce,
            aad: &[u8],
            in_out: &mut [u8],
            tag: Tag,
        ) -> Result<(), AeadError> {
            self.0
                .open_in_place_separate_tag(nonce, ring::aead::Aad::from(aad), tag, in_out, 0..)
                .map(|_| ())
                .map_err(|_| AeadError::Authentication)
        }
    }
}

#[cfg(any(feature = "aws-lc", feature = "fips"))]
mod imp {
    gcm_key!(aws_lc_rs);

    /// The tag as aws-lc-rs's `open` takes it: as it is.
    #[inline]
    fn open_tag(tag: &[u8; 16]) -> &[u8; 16] {
        tag
    }

    impl Gcm {
        /// [`open`](Self::open) with the AAD as one slice.
        #[inline]
        fn open_joined(
            &self,
            nonce: Nonce,
            aad: &[u8],
            in_out: &mut [u8],
            tag: &[u8; 16],
        ) -> Result<(), AeadError> {
            self.0
                .open_in_place_separate_tag(nonce, aws_lc_rs::aead::Aad::from(aad), tag, in_out)
                .map(|_| ())
                .map_err(|_| AeadError::Authentication)
        }
    }
}

#[cfg(not(any(feature = "ring", feature = "aws-lc", feature = "fips")))]
mod imp {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    use aes_gcm::{Aes128Gcm, Aes256Gcm, Nonce, Tag};

    use super::{Aad, AeadError, NONCE_LEN};
    use crate::aead::JOINED_AAD_LEN;

    /// An expanded AES-GCM key.
    #[expect(
        clippy::large_enum_variant,
        reason = "one key per KID, stored inline so the core needs no allocator"
    )]
    pub(crate) enum Gcm {
        Aes128(Aes128Gcm),
        Aes256(Aes256Gcm),
    }

    impl Gcm {
        /// `key` is 16 or 32 bytes.
        /// `None` unless `key` is 16 or 32 bytes.
        pub(crate) fn new(key: &[u8]) -> Option<Self> {
            match key.len() {
                32 => Aes256Gcm::new_from_slice(key).ok().map(Self::Aes256),
                _ => Aes128Gcm::new_from_slice(key).ok().map(Self::Aes128),
            }
        }

        pub(crate) fn seal(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: Aad<'_>,
            in_out: &mut [u8],
            tag: &mut [u8],
        ) -> Result<(), AeadError> {
            // A fixed-size copy of the tag at the end (`Nt` is 16 for both GCM suites; a byte
            // loop over zipped slices was 20 instructions more), checked before anything is
            // encrypted.
            let tag: &mut [u8; 16] = tag.try_into().map_err(|_| AeadError::TooLong)?;
            let nonce = Nonce::from(*nonce);
            // The AAD made contiguous first, so that each key size has one call site (inlined
            // into each arm of `with_contiguous`, the cipher was compiled six times; 160 B
            // encrypt in room 1 458 -> 1 422 instructions).
            let mut joined = None;
            let aad = match aad.single() {
                Some(single) => single,
                None => aad.join(joined.insert([0; JOINED_AAD_LEN]))?,
            };
            let computed = match self {
                Self::Aes128(k) => k.encrypt_inout_detached(&nonce, aad, in_out.into()),
                Self::Aes256(k) => k.encrypt_inout_detached(&nonce, aad, in_out.into()),
            }
            .map_err(|_| AeadError::TooLong)?;
            tag.copy_from_slice(&computed);
            Ok(())
        }

        pub(crate) fn open(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: Aad<'_>,
            in_out: &mut [u8],
            tag: &[u8],
        ) -> Result<(), AeadError> {
            let nonce = Nonce::from(*nonce);
            let tag = Tag::try_from(tag).map_err(|_| AeadError::Authentication)?;
            let mut joined = None;
            let aad = match aad.single() {
                Some(single) => single,
                None => aad.join(joined.insert([0; JOINED_AAD_LEN]))?,
            };
            match self {
                Self::Aes128(k) => k.decrypt_inout_detached(&nonce, aad, in_out.into(), &tag),
                Self::Aes256(k) => k.decrypt_inout_detached(&nonce, aad, in_out.into(), &tag),
            }
            .map_err(|_| AeadError::Authentication)
        }
    }
}

pub(crate) use imp::Gcm;
