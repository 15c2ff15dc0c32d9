//! AES-CTR with HMAC (RFC 9605 §4.5.1), the AEAD of suites 1-3 (and draft suites 6-8).
//!
//! Encrypt-then-MAC: the tag is checked, in constant time, before any keystream touches the
//! ciphertext.

#[cfg(any(not(feature = "fips"), test))]
use aes::cipher::{
    BlockCipherEncrypt, BlockSizeUser, InnerIvInit, KeyInit, StreamCipher, consts::U16,
};
#[cfg(any(not(feature = "fips"), test))]
use hmac::digest::block_api::EagerHash;
#[cfg(any(not(feature = "fips"), test))]
use hmac::{Hmac, Mac};

use super::{Aad, AeadError, tags_equal};
use crate::suite::NONCE_LEN;

/// An expanded AES-CTR+HMAC key: AES round keys and the keyed HMAC state. With feature `fips`
/// the AWS-LC one below is used, and this one only checks it in the tests.
#[cfg(any(not(feature = "fips"), test))]
pub(crate) struct CtrHmac<C, D: EagerHash> {
    cipher: C,
    mac: Hmac<D>,
    tag_len: usize,
}

#[cfg(any(not(feature = "fips"), test))]
impl<C, D> CtrHmac<C, D>
where
    C: KeyInit + BlockCipherEncrypt + BlockSizeUser<BlockSize = U16>,
    D: EagerHash,
    Hmac<D>: KeyInit + Mac + Clone,
{
    // RFC 9605 §4.5.1
    // def derive_subkeys(sframe_key):
    //   enc_key = sframe_key[..AEAD.Nka]
    //   auth_key = sframe_key[AEAD.Nka..]
    //   return enc_key, auth_key
    /// `key` is `Nka + Nh` bytes.
    /// `None` when the lengths do not match the suite.
    pub(crate) fn new(key: &[u8], enc_key_len: usize, tag_len: usize) -> Option<Self> {
        let (enc_key, auth_key) = key.split_at_checked(enc_key_len)?;
        let cipher = C::new_from_slice(enc_key).ok()?;
        let mac = <Hmac<D> as KeyInit>::new_from_slice(auth_key).ok()?;
        Some(Self {
            cipher,
            mac,
            tag_len,
        })
    }

    // RFC 9605 §4.5.1
    // def compute_tag(auth_key, nonce, aad, ct):
    //   aad_len = encode_big_endian(len(aad), 8)
    //   ct_len = encode_big_endian(len(ct), 8)
    //   tag_len = encode_big_endian(AEAD.Nt, 8)
    //   auth_data = aad_len + ct_len + tag_len + nonce + aad + ct
    //   tag = HMAC(auth_key, auth_data)
    //   return truncate(tag, AEAD.Nt)
    #[expect(
        clippy::inline_always,
        reason = "called, it returned the tag through memory: ~100 instructions a frame of the \
                  encrypt path (issue #15)"
    )]
    #[inline(always)]
    fn full_tag(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: Aad<'_>,
        ct: &[u8],
    ) -> hmac::digest::Output<Hmac<D>> {
        let mut mac = self.mac.clone();
        mac.update(&u64_be(aad.len()));
        mac.update(&u64_be(ct.len()));
        mac.update(&u64_be(self.tag_len));
        mac.update(nonce);
        mac.update(aad.header);
        mac.update(aad.metadata);
        mac.update(ct);
        mac.finalize().into_bytes()
    }

    /// AES-CTR over `buf` with the initial counter block `nonce || 0x00000000` (the low 32 bits
    /// count blocks, big-endian). Fails, leaving `buf` unchanged, past 2^32 blocks.
    fn apply_keystream(&self, nonce: &[u8; NONCE_LEN], buf: &mut [u8]) -> Result<(), AeadError> {
        let mut iv = aes::Block::default();
        for (i, n) in iv.iter_mut().zip(nonce) {
            *i = *n;
        }
        let core = ctr::CtrCore::<&C, ctr::flavors::Ctr32BE>::inner_iv_init(&self.cipher, &iv);
        let mut ctr = ctr::Ctr32BE::<&C>::from_core(core);
        ctr.try_apply_keystream(buf).map_err(|_| AeadError::TooLong)
    }

    // RFC 9605 §4.5.1
    // def AEAD.Encrypt(key, nonce, aad, pt):
    //   enc_key, auth_key = derive_subkeys(key)
    //   initial_counter = nonce + 0x00000000 # append four zero bytes
    //   ct = AES-CTR.Encrypt(enc_key, initial_counter, pt)
    //   tag = compute_tag(auth_key, nonce, aad, ct)
    //   return ct + tag
    // `#[inline]` into the callers' out-of-line `seal_cold` / `open_cold` (issue #15: called
    // from the GCM frame's path, the CTR+HMAC bodies spilled its registers; compiled here
    // instead of in the calling crate, their AES-CTR loop is slower: `Encryptor`'s `seal_cold`).
    #[inline]
    pub(crate) fn seal(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: Aad<'_>,
        in_out: &mut [u8],
        tag: &mut [u8],
    ) -> Result<(), AeadError> {
        self.apply_keystream(nonce, in_out)?;
        let full = self.full_tag(nonce, aad, in_out);
        for (t, f) in tag.iter_mut().zip(full.iter()) {
            *t = *f;
        }
        Ok(())
    }

    // RFC 9605 §4.5.1
    // def AEAD.Decrypt(key, nonce, aad, ct):
    //   inner_ct, tag = split_ct(ct, AEAD.Nt)
    //   enc_key, auth_key = derive_subkeys(key)
    //   candidate_tag = compute_tag(auth_key, nonce, aad, inner_ct)
    //   if !constant_time_equal(tag, candidate_tag):
    //     raise Exception("Authentication Failure")
    //   initial_counter = nonce + 0x00000000 # append four zero bytes
    //   return AES-CTR.Decrypt(enc_key, initial_counter, inner_ct)
    #[inline]
    pub(crate) fn open(
        &self,
        nonce: &[u8; NONCE_LEN],
        aad: Aad<'_>,
        in_out: &mut [u8],
        tag: &[u8],
    ) -> Result<(), AeadError> {
        let full = self.full_tag(nonce, aad, in_out);
        let computed = full.get(..self.tag_len).unwrap_or_default();
        if tag.len() != self.tag_len || !tags_equal(computed, tag) {
            return Err(AeadError::Authentication);
        }
        self.apply_keystream(nonce, in_out)
    }
}

fn u64_be(len: usize) -> [u8; 8] {
    u64::try_from(len).unwrap_or(u64::MAX).to_be_bytes()
}

/// AES-CTR with HMAC through AWS-LC: its AES-CTR and HMAC, so that with feature `fips` every
/// algorithm of the frame runs inside AWS-LC's FIPS module.
#[cfg(feature = "fips")]
pub(crate) mod aws_lc {
    use aws_lc_rs::cipher::{AES_128, AES_256, EncryptingKey, EncryptionContext, UnboundCipherKey};
    use aws_lc_rs::hmac;
    use aws_lc_rs::iv::FixedLength;

    use super::{Aad, AeadError, NONCE_LEN, tags_equal, u64_be};

    /// The most AES blocks one nonce may cover: the low 32 bits of the counter block count
    /// them (RFC 9605 §4.5.1). AWS-LC increments all 128 bits, which is the same as long as the
    /// low 32 never wrap, so the bound is checked here.
    const MAX_BLOCKS: u64 = 1 << 32;

    /// An expanded AES-CTR+HMAC key: AWS-LC's AES round keys and keyed HMAC state.
    pub(crate) struct CtrHmac {
        cipher: EncryptingKey,
        mac: hmac::Key,
        tag_len: usize,
    }

    impl CtrHmac {
        /// `key` is `Nka + Nh` bytes: 16 + 32 (AES-128, HMAC-SHA-256) or 32 + 64 (AES-256,
        /// HMAC-SHA-512). `None` when the lengths do not match the suite.
        pub(crate) fn new(key: &[u8], enc_key_len: usize, tag_len: usize) -> Option<Self> {
            let (enc_key, auth_key) = key.split_at_checked(enc_key_len)?;
            let (cipher, mac) = match enc_key_len {
                16 => (&AES_128, hmac::HMAC_SHA256),
                32 => (&AES_256, hmac::HMAC_SHA512),
                _ => return None,
            };
            if auth_key.len() != mac.digest_algorithm().output_len {
                return None;
            }
            let cipher = EncryptingKey::ctr(UnboundCipherKey::new(cipher, enc_key).ok()?).ok()?;
            Some(Self {
                cipher,
                mac: hmac::Key::new(mac, auth_key),
                tag_len,
            })
        }

        fn full_tag(&self, nonce: &[u8; NONCE_LEN], aad: Aad<'_>, ct: &[u8]) -> hmac::Tag {
            let mut mac = hmac::Context::with_key(&self.mac);
            mac.update(&u64_be(aad.len()));
            mac.update(&u64_be(ct.len()));
            mac.update(&u64_be(self.tag_len));
            mac.update(nonce);
            mac.update(aad.header);
            mac.update(aad.metadata);
            mac.update(ct);
            mac.sign()
        }

        fn apply_keystream(
            &self,
            nonce: &[u8; NONCE_LEN],
            buf: &mut [u8],
        ) -> Result<(), AeadError> {
            let blocks = u64::try_from(buf.len().div_ceil(16)).unwrap_or(u64::MAX);
            if blocks > MAX_BLOCKS {
                return Err(AeadError::TooLong);
            }
            let mut iv = [0u8; 16];
            for (i, n) in iv.iter_mut().zip(nonce) {
                *i = *n;
            }
            let context = EncryptionContext::Iv128(FixedLength::from(iv));
            self.cipher
                .less_safe_encrypt(buf, context)
                .map(|_| ())
                .map_err(|_| AeadError::TooLong)
        }

        #[inline(never)]
        pub(crate) fn seal(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: Aad<'_>,
            in_out: &mut [u8],
            tag: &mut [u8],
        ) -> Result<(), AeadError> {
            self.apply_keystream(nonce, in_out)?;
            let full = self.full_tag(nonce, aad, in_out);
            for (t, f) in tag.iter_mut().zip(full.as_ref()) {
                *t = *f;
            }
            Ok(())
        }

        #[inline(never)]
        pub(crate) fn open(
            &self,
            nonce: &[u8; NONCE_LEN],
            aad: Aad<'_>,
            in_out: &mut [u8],
            tag: &[u8],
        ) -> Result<(), AeadError> {
            let full = self.full_tag(nonce, aad, in_out);
            let computed = full.as_ref().get(..self.tag_len).unwrap_or_default();
            if tag.len() != self.tag_len || !tags_equal(computed, tag) {
                return Err(AeadError::Authentication);
            }
            self.apply_keystream(nonce, in_out)
        }
    }
}

/// What an expanded key holds is wiped when it is dropped: the AES round keys, and the keyed
/// inner and outer SHA-2 states of the HMAC (each one as good as the key for forging tags) with
/// the block buffers beside them. Those are wiped only under the `zeroize` features of `aes`,
/// `sha2` and `hmac`, which `Cargo.toml` enables; this fails to build if one goes missing.
#[cfg(all(test, not(feature = "fips")))]
mod wiped {
    use hmac::digest::block_api::{Buffer, CoreProxy};

    type Core<D> = <D as CoreProxy>::Core;

    fn zeroize_on_drop<T: zeroize::ZeroizeOnDrop>() {}

    #[test]
    fn expanded_keys_are_wiped_on_drop() {
        zeroize_on_drop::<aes::Aes128>();
        zeroize_on_drop::<aes::Aes256>();
        zeroize_on_drop::<Core<sha2::Sha256>>();
        zeroize_on_drop::<Core<sha2::Sha512>>();
        zeroize_on_drop::<Buffer<Core<sha2::Sha256>>>();
        zeroize_on_drop::<Buffer<Core<sha2::Sha512>>>();
    }
}

/// AWS-LC's CTR+HMAC against RustCrypto's: the same ciphertext and tag for every suite's key
/// sizes and tag lengths, frame sizes across block boundaries, with and without metadata, and
/// each refuses what the other sealed with a changed byte.
#[cfg(all(test, feature = "fips"))]
#[allow(
    clippy::unwrap_used,
    clippy::as_conversions,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::indexing_slicing,
    reason = "test code"
)]
mod tests {
    use super::{Aad, AeadError, CtrHmac, aws_lc};

    fn check<C, D>(enc_key_len: usize, key_len: usize)
    where
        C: aes::cipher::KeyInit
            + aes::cipher::BlockCipherEncrypt
            + aes::cipher::BlockSizeUser<BlockSize = aes::cipher::consts::U16>,
        D: hmac::digest::block_api::EagerHash,
        hmac::Hmac<D>: aes::cipher::KeyInit + hmac::Mac + Clone,
    {
        let key: std::vec::Vec<u8> = (0..key_len).map(|i| (i * 7 + 3) as u8).collect();
        for tag_len in [4, 8, 10] {
            let ours = aws_lc::CtrHmac::new(&key, enc_key_len, tag_len).unwrap();
            let theirs = CtrHmac::<C, D>::new(&key, enc_key_len, tag_len).unwrap();
            for size in [0, 1, 15, 16, 17, 160, 1200, 4099] {
                for metadata in [&b""[..], b"meta"] {
                    let nonce = [size as u8; 12];
                    let aad = Aad {
                        header: b"\x19\x2a",
                        metadata,
                    };
                    let pt: std::vec::Vec<u8> = (0..size).map(|i| (i * 31) as u8).collect();
                    let (mut a, mut b) = (pt.clone(), pt.clone());
                    let (mut tag_a, mut tag_b) = ([0; 10], [0; 10]);
                    ours.seal(&nonce, aad, &mut a, &mut tag_a[..tag_len])
                        .unwrap();
                    theirs
                        .seal(&nonce, aad, &mut b, &mut tag_b[..tag_len])
                        .unwrap();
                    assert_eq!(a, b, "ciphertext, {size} B");
                    assert_eq!(tag_a, tag_b, "tag, {size} B");
                    let mut opened = a.clone();
                    ours.open(&nonce, aad, &mut opened, &tag_b[..tag_len])
                        .unwrap();
                    assert_eq!(opened, pt);
                    let mut opened = a.clone();
                    theirs
                        .open(&nonce, aad, &mut opened, &tag_a[..tag_len])
                        .unwrap();
                    assert_eq!(opened, pt);
                    let mut forged = a.clone();
                    tag_a[0] ^= 1;
                    assert_eq!(
                        ours.open(&nonce, aad, &mut forged, &tag_a[..tag_len]),
                        Err(AeadError::Authentication)
                    );
                    assert_eq!(forged, a, "a refused frame is not decrypted");
                }
            }
        }
    }

    #[test]
    fn aws_lc_matches_rustcrypto() {
        check::<aes::Aes128, sha2::Sha256>(16, 48);
        check::<aes::Aes256, sha2::Sha512>(32, 96);
    }

    #[test]
    fn wrong_lengths_are_refused() {
        assert!(aws_lc::CtrHmac::new(&[0; 47], 16, 10).is_none());
        assert!(aws_lc::CtrHmac::new(&[0; 48], 24, 10).is_none());
        assert!(aws_lc::CtrHmac::new(&[0; 95], 32, 10).is_none());
    }
}
