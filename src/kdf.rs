//! HKDF (RFC 5869) for the key schedule (RFC 9605 §4.4.2), the ratchet (§5.1) and the RTP
//! stream keys: RustCrypto's `hkdf`, or, with feature `fips`, AWS-LC's inside its FIPS 140-3
//! module.
//!
//! RFC 9605 extracts with an empty salt. RFC 5869 §2.2 defines that as `HashLen` zero bytes (and
//! HMAC pads a short key with zeros anyway), so both backends extract with `HashLen` zeros
//! instead: the same output, and AWS-LC's FIPS module counts HKDF with a non-empty salt as an
//! approved service, which it does not with an empty one.

use crate::suite::Hash;

/// `HashLen` zero bytes: the RFC 5869 salt when none is given.
fn zero_salt(hash: Hash) -> &'static [u8] {
    match hash {
        Hash::Sha256 => &[0; 32],
        Hash::Sha512 => &[0; 64],
    }
}

/// A pseudorandom key after `HKDF-Extract`, ready to expand.
pub(crate) struct Prk(imp::Prk);

impl Prk {
    /// `HKDF-Extract(salt, ikm)`; an empty `salt` is `HashLen` zeros (RFC 5869 §2.2).
    pub(crate) fn extract(hash: Hash, salt: &[u8], ikm: &[u8]) -> Self {
        let salt = if salt.is_empty() {
            zero_salt(hash)
        } else {
            salt
        };
        Self(imp::Prk::extract(hash, salt, ikm))
    }

    /// `HKDF-Expand(prk, info[0] || info[1] || ..., okm.len())`. Every length asked for here
    /// (Nk, Nn, Nh) is far below `255 * HashLen`, so expansion cannot fail.
    pub(crate) fn expand(&self, info: &[&[u8]], okm: &mut [u8]) {
        self.0.expand(info, okm);
    }
}

/// The bytes of `HKDF-Extract("", ikm)` (the test vectors' `sframe_secret`), `HashLen` bytes
/// into `out`.
#[cfg(feature = "hazmat")]
pub(crate) fn extract_bytes(hash: Hash, ikm: &[u8], out: &mut [u8; 64]) -> usize {
    imp::extract_bytes(hash, zero_salt(hash), ikm, out)
}

#[cfg(not(feature = "fips"))]
mod imp {
    use hkdf::Hkdf;
    use sha2::{Sha256, Sha512};

    use crate::suite::Hash;

    pub(super) enum Prk {
        Sha256(Hkdf<Sha256>),
        Sha512(Hkdf<Sha512>),
    }

    impl Prk {
        pub(super) fn extract(hash: Hash, salt: &[u8], ikm: &[u8]) -> Self {
            match hash {
                Hash::Sha256 => Self::Sha256(Hkdf::new(Some(salt), ikm)),
                Hash::Sha512 => Self::Sha512(Hkdf::new(Some(salt), ikm)),
            }
        }

        pub(super) fn expand(&self, info: &[&[u8]], okm: &mut [u8]) {
            let result = match self {
                Self::Sha256(h) => h.expand_multi_info(info, okm),
                Self::Sha512(h) => h.expand_multi_info(info, okm),
            };
            debug_assert!(result.is_ok(), "HKDF output length is bounded by the suite");
        }
    }

    #[cfg(feature = "hazmat")]
    pub(super) fn extract_bytes(hash: Hash, salt: &[u8], ikm: &[u8], out: &mut [u8; 64]) -> usize {
        let copy = |prk: &[u8], out: &mut [u8; 64]| {
            for (o, p) in out.iter_mut().zip(prk) {
                *o = *p;
            }
            prk.len()
        };
        match hash {
            Hash::Sha256 => copy(&Hkdf::<Sha256>::extract(Some(salt), ikm).0, out),
            Hash::Sha512 => copy(&Hkdf::<Sha512>::extract(Some(salt), ikm).0, out),
        }
    }
}

#[cfg(feature = "fips")]
mod imp {
    use aws_lc_rs::hkdf;

    use crate::suite::Hash;

    fn algorithm(hash: Hash) -> hkdf::Algorithm {
        match hash {
            Hash::Sha256 => hkdf::HKDF_SHA256,
            Hash::Sha512 => hkdf::HKDF_SHA512,
        }
    }

    /// An output length, as aws-lc-rs's `expand` takes it.
    struct Len(usize);

    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }

    pub(super) struct Prk(hkdf::Prk);

    impl Prk {
        pub(super) fn extract(hash: Hash, salt: &[u8], ikm: &[u8]) -> Self {
            Self(hkdf::Salt::new(algorithm(hash), salt).extract(ikm))
        }

        pub(super) fn expand(&self, info: &[&[u8]], okm: &mut [u8]) {
            let result = self
                .0
                .expand(info, Len(okm.len()))
                .and_then(|expanded| expanded.fill(okm));
            debug_assert!(result.is_ok(), "HKDF output length is bounded by the suite");
        }
    }

    /// `HKDF-Extract` is `HMAC-Hash(salt, ikm)` (RFC 5869 §2.2); aws-lc-rs keeps its PRK inside
    /// the module, so the bytes the test vectors show come from the HMAC itself.
    #[cfg(feature = "hazmat")]
    pub(super) fn extract_bytes(hash: Hash, salt: &[u8], ikm: &[u8], out: &mut [u8; 64]) -> usize {
        use aws_lc_rs::hmac;
        let algorithm = match hash {
            Hash::Sha256 => hmac::HMAC_SHA256,
            Hash::Sha512 => hmac::HMAC_SHA512,
        };
        let tag = hmac::sign(&hmac::Key::new(algorithm, salt), ikm);
        for (o, t) in out.iter_mut().zip(tag.as_ref()) {
            *o = *t;
        }
        tag.as_ref().len()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, reason = "test code")]
mod tests {
    use super::Prk;
    use crate::suite::Hash;

    /// The backend in use (AWS-LC's with `fips`) against RustCrypto's `hkdf` with RFC 5869's
    /// empty salt and with a given one, both hashes, the lengths the crate expands to.
    #[test]
    fn matches_rustcrypto_hkdf() {
        use hkdf::Hkdf;
        use sha2::{Sha256, Sha512};
        let ikm = b"the base key of one sender, any length";
        for salt in [&b""[..], &[0x12, 0x34, 0x56, 0x78]] {
            for len in [12, 16, 32, 48, 64, 96] {
                let info: [&[u8]; 3] = [b"SFrame 1.0 ", b"Secret key ", &[0, 1, 2]];
                let joined = [info[0], info[1], info[2]].concat();
                let salt_opt = if salt.is_empty() { None } else { Some(salt) };
                for hash in [Hash::Sha256, Hash::Sha512] {
                    let mut ours = [0; 96];
                    Prk::extract(hash, salt, ikm).expand(&info, &mut ours[..len]);
                    let mut theirs = [0; 96];
                    match hash {
                        Hash::Sha256 => Hkdf::<Sha256>::new(salt_opt, ikm)
                            .expand(&joined, &mut theirs[..len])
                            .unwrap(),
                        Hash::Sha512 => Hkdf::<Sha512>::new(salt_opt, ikm)
                            .expand(&joined, &mut theirs[..len])
                            .unwrap(),
                    }
                    assert_eq!(ours, theirs, "{hash:?}, {len} bytes, salt {salt:?}");
                }
            }
        }
    }

    #[cfg(feature = "hazmat")]
    #[test]
    fn extract_bytes_are_the_prk() {
        use hkdf::Hkdf;
        use sha2::{Sha256, Sha512};
        let ikm = b"base key";
        let mut out = [0; 64];
        assert_eq!(super::extract_bytes(Hash::Sha256, ikm, &mut out), 32);
        assert_eq!(out[..32], Hkdf::<Sha256>::extract(None, ikm).0[..]);
        assert_eq!(super::extract_bytes(Hash::Sha512, ikm, &mut out), 64);
        assert_eq!(out[..], Hkdf::<Sha512>::extract(None, ikm).0[..]);
    }
}
