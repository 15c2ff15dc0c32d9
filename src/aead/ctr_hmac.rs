//! AES-CTR with HMAC (RFC 9605 §4.5.1), the AEAD of suites 1-3 (and draft suites 6-8).
//!
//! Encrypt-then-MAC: the tag is checked, in constant time, before any keystream touches the
//! ciphertext.

use aes::cipher::{
    BlockCipherEncrypt, BlockSizeUser, InnerIvInit, KeyInit, StreamCipher, consts::U16,
};
use hmac::digest::block_api::EagerHash;
use hmac::{Hmac, Mac};

use super::{Aad, AeadError, tags_equal};
use crate::suite::NONCE_LEN;

/// An expanded AES-CTR+HMAC key: AES round keys and the keyed HMAC state.
pub(crate) struct CtrHmac<C, D: EagerHash> {
    cipher: C,
    mac: Hmac<D>,
    tag_len: usize,
}

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
    // Out of line: inlined, the CTR+HMAC bodies spill the registers of every frame of the
    // other suites too (issue #15: the GCM frame paid ~25 instructions for them).
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
    #[inline(never)]
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
