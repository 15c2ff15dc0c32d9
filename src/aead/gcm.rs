//! AES-GCM (RFC 5116), the AEAD of suites 4 and 5. With `ring` and `aws-lc` both on, each frame
//! goes through the faster of the two at its size on the machines measured (BENCHMARKS.md): ring
//! below `AWS_LC_FROM` bytes of plaintext, aws-lc-rs from there (its VAES code wins on large
//! frames, ring's shorter setup on small ones). With one of them on, through that one; with
//! `fips`, always through AWS-LC's module; with none, through RustCrypto's `aes-gcm`.

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
                aad.with_contiguous(|aad| self.seal_separate(nonce, aad, in_out, tag))
            }

            /// [`seal`](Self::seal) with the AAD as one slice, through the provider's
            /// `seal_in_place_separate_tag`: the frames with metadata, and every frame with
            /// ring (its `seal_joined`).
            #[inline]
            fn seal_separate(
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

#[cfg(all(feature = "ring", not(feature = "fips")))]
mod ring_gcm {
    use ring::aead::Tag;

    gcm_key!(ring);

    /// The tag as ring's `open` takes it.
    #[inline]
    fn open_tag(tag: &[u8; 16]) -> Tag {
        Tag::from(*tag)
    }

    impl Gcm {
        /// [`seal`](Self::seal) of a frame without metadata.
        #[inline]
        fn seal_joined(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            in_out: &mut [u8],
            tag: &mut [u8; 16],
        ) -> Result<(), AeadError> {
            self.seal_separate(nonce, aad, in_out, tag)
        }

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
mod aws_lc_gcm {
    gcm_key!(aws_lc_rs);

    /// The tag as aws-lc-rs's `open` takes it: as it is.
    #[inline]
    fn open_tag(tag: &[u8; 16]) -> &[u8; 16] {
        tag
    }

    impl Gcm {
        /// [`seal`](Self::seal) of a frame without metadata: `seal_in_place_scatter`, which
        /// writes the tag where it goes (no `Tag` to copy out), and a function of aws-lc-rs
        /// that nothing else in the library calls, so that LTO inlines it (issue #15: with
        /// the metadata path calling the same one, it stayed out of line, +48 instructions a
        /// frame; `NO_DEFAULT=1 FEATURES=alloc,std,hazmat,aws-lc scripts/instructions`).
        #[inline]
        fn seal_joined(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: &[u8],
            in_out: &mut [u8],
            tag: &mut [u8; 16],
        ) -> Result<(), AeadError> {
            self.0
                .seal_in_place_scatter(
                    Nonce::assume_unique_for_key(*nonce),
                    aws_lc_rs::aead::Aad::from(aad),
                    in_out,
                    &[],
                    tag,
                )
                .map_err(|_| AeadError::TooLong)
        }

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
mod rust_crypto {
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

/// From this many bytes of plaintext on, a build with both `ring` and `aws-lc` seals and opens
/// through aws-lc-rs; below, through ring. The crossover measured on this project's machine
/// (AMD EPYC with VAES and AVX-512, `gcm providers` in benches/sframe.rs): ring is 12-13 %
/// faster at 1 200 B and level at 2-3 KiB, aws-lc-rs 7-8 % faster at 4 KiB and 17-20 % at
/// 16 KiB, for both key sizes.
#[cfg(all(feature = "ring", feature = "aws-lc", not(feature = "fips")))]
pub(crate) const AWS_LC_FROM: usize = 3072;

/// Both providers' keys for one KID, each frame sealed or opened by the faster at its size.
#[cfg(all(feature = "ring", feature = "aws-lc", not(feature = "fips")))]
mod by_size {
    use super::{AWS_LC_FROM, Aad, AeadError, NONCE_LEN, aws_lc_gcm, ring_gcm};

    /// An AES-GCM key expanded for ring and for aws-lc-rs.
    pub(crate) struct Gcm {
        ring: ring_gcm::Gcm,
        aws_lc: aws_lc_gcm::Gcm,
    }

    impl Gcm {
        /// `None` unless `key` is 16 or 32 bytes.
        pub(crate) fn new(key: &[u8]) -> Option<Self> {
            Some(Self {
                ring: ring_gcm::Gcm::new(key)?,
                aws_lc: aws_lc_gcm::Gcm::new(key)?,
            })
        }

        // `AeadKey::seal`'s arm (the copy paths): inlined, with ring's path, as the
        // single-provider `seal` is; the large-frame path stays out of line. The per-frame
        // paths choose with `inline_for` instead, before the nonce is made.
        #[expect(clippy::inline_always, reason = "measured: scripts/instructions frame")]
        #[inline(always)]
        pub(crate) fn seal(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: Aad<'_>,
            in_out: &mut [u8],
            tag: &mut [u8],
        ) -> Result<(), AeadError> {
            if in_out.len() >= AWS_LC_FROM {
                return self.seal_large(nonce, aad, in_out, tag);
            }
            self.ring.seal(nonce, aad, in_out, tag)
        }

        /// ring's key when a frame of `len` bytes of plaintext goes through ring: what the
        /// per-frame paths call inline. `None` from `AWS_LC_FROM` on: those frames go through
        /// [`seal`](Self::seal) and [`open`](Self::open) out of line, so that the small frames'
        /// path does not lay out the nonce and the AAD for a call it does not make (issue #15:
        /// the dispatch inside `seal` and `open` cost small frames 12-15 instructions).
        #[inline]
        pub(crate) fn inline_for(&self, len: usize) -> Option<&ring_gcm::Gcm> {
            if len >= AWS_LC_FROM {
                return None;
            }
            Some(&self.ring)
        }

        #[inline(never)]
        fn seal_large(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: Aad<'_>,
            in_out: &mut [u8],
            tag: &mut [u8],
        ) -> Result<(), AeadError> {
            self.aws_lc.seal(nonce, aad, in_out, tag)
        }

        #[expect(clippy::inline_always, reason = "measured: scripts/instructions frame")]
        #[inline(always)]
        pub(crate) fn open(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: Aad<'_>,
            in_out: &mut [u8],
            tag: &[u8],
        ) -> Result<(), AeadError> {
            if in_out.len() >= AWS_LC_FROM {
                return self.open_large(nonce, aad, in_out, tag);
            }
            self.ring.open(nonce, aad, in_out, tag)
        }

        #[inline(never)]
        fn open_large(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: Aad<'_>,
            in_out: &mut [u8],
            tag: &[u8],
        ) -> Result<(), AeadError> {
            self.aws_lc.open(nonce, aad, in_out, tag)
        }
    }
}

#[cfg(any(feature = "fips", all(feature = "aws-lc", not(feature = "ring"))))]
pub(crate) use aws_lc_gcm::Gcm;
#[cfg(all(feature = "ring", feature = "aws-lc", not(feature = "fips")))]
pub(crate) use by_size::Gcm;
#[cfg(all(feature = "ring", not(any(feature = "aws-lc", feature = "fips"))))]
pub(crate) use ring_gcm::Gcm;
#[cfg(not(any(feature = "ring", feature = "aws-lc", feature = "fips")))]
pub(crate) use rust_crypto::Gcm;

/// The key type the per-frame paths seal and open with inline: with one provider, the key.
#[cfg(not(all(feature = "ring", feature = "aws-lc", not(feature = "fips"))))]
pub(crate) use Gcm as Inline;
/// The key type the per-frame paths seal and open with inline (see [`Gcm::inline_for`]).
#[cfg(all(feature = "ring", feature = "aws-lc", not(feature = "fips")))]
pub(crate) use ring_gcm::Gcm as Inline;

/// With one provider every frame is sealed and opened inline.
#[cfg(not(all(feature = "ring", feature = "aws-lc", not(feature = "fips"))))]
impl Gcm {
    #[expect(
        clippy::unnecessary_wraps,
        reason = "the same signature as the two-provider key's, whose frames from AWS_LC_FROM are not inline"
    )]
    #[inline]
    pub(crate) fn inline_for(&self, _len: usize) -> Option<&Inline> {
        Some(self)
    }
}

/// The size dispatch against RustCrypto's `aes-gcm` as the reference, and each side's frames
/// opened by the other provider on its own, on both sides of the crossover.
#[cfg(all(test, feature = "ring", feature = "aws-lc", not(feature = "fips")))]
#[allow(
    clippy::unwrap_used,
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    clippy::indexing_slicing,
    reason = "test code"
)]
mod tests {
    use aes_gcm::aead::{AeadInOut, KeyInit};
    use aes_gcm::{Aes128Gcm, Aes256Gcm};
    use std::vec::Vec;

    use super::{AWS_LC_FROM, Aad, AeadError, Gcm, aws_lc_gcm, ring_gcm};

    /// One provider's open with the nonce and AAD bound.
    type Open<'a> = dyn Fn(&mut [u8], &[u8]) -> Result<(), AeadError> + 'a;

    /// `aes-gcm`'s ciphertext and tag of `pt`.
    fn reference(key: &[u8], nonce: &[u8; 12], aad: &[u8], pt: &[u8]) -> (Vec<u8>, [u8; 16]) {
        let mut ct = pt.to_vec();
        let nonce = aes_gcm::Nonce::from(*nonce);
        let tag = match key.len() {
            16 => Aes128Gcm::new_from_slice(key)
                .unwrap()
                .encrypt_inout_detached(&nonce, aad, ct.as_mut_slice().into()),
            _ => Aes256Gcm::new_from_slice(key)
                .unwrap()
                .encrypt_inout_detached(&nonce, aad, ct.as_mut_slice().into()),
        }
        .unwrap();
        (ct, tag.into())
    }

    #[test]
    fn by_size_matches_each_provider_and_rustcrypto() {
        let sizes = [
            0,
            1,
            160,
            1200,
            AWS_LC_FROM - 1,
            AWS_LC_FROM,
            AWS_LC_FROM + 1,
            16 * 1024,
        ];
        for key_len in [16_usize, 32] {
            let key: Vec<u8> = (0..key_len).map(|i| (i * 13 + 5) as u8).collect();
            let ours = Gcm::new(&key).unwrap();
            let ring = ring_gcm::Gcm::new(&key).unwrap();
            let aws_lc = aws_lc_gcm::Gcm::new(&key).unwrap();
            for size in sizes {
                for metadata in [&b""[..], b"meta"] {
                    let header = b"\x19\x2a";
                    let aad = Aad { header, metadata };
                    let joined = [&header[..], metadata].concat();
                    let nonce = [(size % 251) as u8; 12];
                    let pt: Vec<u8> = (0..size).map(|i| (i * 31 + 7) as u8).collect();
                    let (want_ct, want_tag) = reference(&key, &nonce, &joined, &pt);

                    let mut ct = pt.clone();
                    let mut tag = [0; 16];
                    ours.seal(&nonce, aad, &mut ct, &mut tag).unwrap();
                    assert_eq!(ct, want_ct, "ciphertext, {key_len} B key, {size} B");
                    assert_eq!(tag, want_tag, "tag, {key_len} B key, {size} B");

                    // Opened by each provider alone, and by the dispatch.
                    let opens: [(&str, &Open<'_>); 3] = [
                        ("ring", &|b, t| ring.open(&nonce, aad, b, t)),
                        ("aws-lc", &|b, t| aws_lc.open(&nonce, aad, b, t)),
                        ("by size", &|b, t| ours.open(&nonce, aad, b, t)),
                    ];
                    for (name, open) in opens {
                        let mut buf = want_ct.clone();
                        open(&mut buf, &want_tag).unwrap();
                        assert_eq!(buf, pt, "{name} opened, {key_len} B key, {size} B");
                        let mut bad = want_tag;
                        bad[15] ^= 1;
                        let mut buf = want_ct.clone();
                        assert_eq!(
                            open(&mut buf, &bad),
                            Err(AeadError::Authentication),
                            "{name}"
                        );
                    }
                }
            }
        }
    }
}
