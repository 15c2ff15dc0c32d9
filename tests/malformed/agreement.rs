//! Hostile input for key agreement and sender-key envelopes (feature `agreement`): every
//! `AgreementError` and `EnvelopeError` variant but `AgreementError::Seal`.

#[cfg(not(feature = "agreement"))]
pub(super) fn rows(_: &mut super::Table) {}

#[cfg(feature = "agreement")]
pub(super) use with_agreement::rows;

#[cfg(feature = "agreement")]
mod with_agreement {
    use p256::elliptic_curve::ff::PrimeField;
    use p256::elliptic_curve::sec1::ToSec1Point;
    use secure_frame::agreement::rand_core::{Infallible, TryCryptoRng, TryRng};
    use secure_frame::agreement::{
        Envelope, GroupSender, KeyPair, PublicKey, Role, agree, open_sender_key, seal_sender_key,
    };
    use secure_frame::{
        AgreementError, BaseKey, CipherSuite, EnvelopeError, RatchetBits, RatchetError,
        RatchetReceiver, SenderKeyId,
    };

    use super::super::{OK, Table};

    const SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;

    /// Bytes counting up from a seed: enough for HPKE's ephemeral keys in a test, nothing more.
    struct Counting(u8);

    impl TryRng for Counting {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            let mut b = [0; 4];
            self.try_fill_bytes(&mut b)?;
            Ok(u32::from_le_bytes(b))
        }
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            let mut b = [0; 8];
            self.try_fill_bytes(&mut b)?;
            Ok(u64::from_le_bytes(b))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
            for b in dst {
                self.0 = self.0.wrapping_add(0x9d);
                *b = self.0;
            }
            Ok(())
        }
    }
    impl TryCryptoRng for Counting {}

    fn pair(byte: u8) -> KeyPair {
        KeyPair::from_secret_bytes(&[byte; 32]).unwrap()
    }

    fn r8() -> RatchetBits {
        RatchetBits::new(8).unwrap()
    }

    /// A peer public key that makes `me`'s ECDH output the point (0, y), whose x-coordinate
    /// is all zeros: `me⁻¹ · (0, y)`. Such a point exists on P-256 (its `b` is a square mod
    /// `p`); an attacker who knew `me`'s private key could send it.
    fn zero_shared_secret_peer(me: &KeyPair) -> PublicKey {
        let mut x_zero = [0u8; 33];
        x_zero[0] = 0x02;
        let target = p256::PublicKey::from_sec1_bytes(&x_zero).unwrap();
        let secret = me.expose_secret_bytes();
        let d = p256::Scalar::from_repr((*secret).into()).unwrap();
        let peer = (target.to_projective() * d.invert().unwrap()).to_affine();
        let peer = p256::PublicKey::from_affine(peer).unwrap();
        PublicKey::from_sec1_bytes(peer.to_sec1_point(false).as_bytes()).unwrap()
    }

    pub(in super::super) fn rows(t: &mut Table) {
        key_rows(t);
        envelope_rows(t);
        group_rows(t);
    }

    fn key_rows(t: &mut Table) {
        use AgreementError as E;
        let good = *pair(1).public_key().as_bytes();
        let mut off_curve = good;
        off_curve[64] ^= 1;
        let mut x_ge_p = [0xff; 65];
        x_ge_p[0] = 4;
        let mut compressed_x_ge_p = [0xff; 33];
        compressed_x_ge_p[0] = 2;
        let cases: [(&str, &[u8]); 7] = [
            ("empty", &[]),
            ("the identity", &[0]),
            ("truncated", &good[..64]),
            ("bad SEC1 tag", &[5; 65]),
            ("off the curve", &off_curve),
            ("x >= p", &x_ge_p),
            ("compressed, x >= p", &compressed_x_ge_p),
        ];
        for (name, bytes) in cases {
            t.row(
                format!("P-256 public key: {name}"),
                PublicKey::from_sec1_bytes(bytes),
                Err(E::InvalidPublicKey),
            );
        }
        let order = hex::decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551")
            .unwrap();
        let order: [u8; 32] = order.try_into().unwrap();
        let mut below_order = order;
        below_order[31] -= 1;
        for (name, bytes, want) in [
            ("zero", [0; 32], Err(E::InvalidPrivateKey)),
            ("the group order", order, Err(E::InvalidPrivateKey)),
            ("all ones", [0xff; 32], Err(E::InvalidPrivateKey)),
            ("the group order - 1", below_order, Ok(())),
        ] {
            t.row(
                format!("P-256 private key: {name}"),
                KeyPair::from_secret_bytes(&bytes),
                want,
            );
        }
        let me = pair(7);
        t.row(
            "agree with my own key",
            agree(&me, Role::Initiator, me.public_key(), SUITE),
            Err(E::SameRoleOrKey),
        );
        t.row(
            "agree on an all-zero shared secret",
            agree(&me, Role::Responder, &zero_shared_secret_peer(&me), SUITE),
            Err(E::ZeroSharedSecret),
        );
        t.row(
            "agree with a valid peer",
            agree(&me, Role::Responder, pair(8).public_key(), SUITE),
            OK,
        );
    }

    fn envelope_rows(t: &mut Table) {
        use AgreementError as E;
        let (alice, bob) = (pair(1), pair(2));
        let base_key = || BaseKey::new(&[9; 16]).unwrap();
        let seal = |key: SenderKeyId, id: &[u8]| {
            seal_sender_key(
                &mut Counting(3),
                &alice,
                id,
                bob.public_key(),
                SUITE,
                r8(),
                key,
                &base_key(),
            )
        };
        t.row(
            "seal: empty sender identity",
            seal(SenderKeyId::new(1, 0), b""),
            Err(E::SenderIdLength),
        );
        t.row(
            "seal: 256-byte sender identity",
            seal(SenderKeyId::new(1, 0), &[b'a'; 256]),
            Err(E::SenderIdLength),
        );
        t.row(
            "seal: 255-byte sender identity",
            seal(SenderKeyId::new(1, 0), &[b'a'; 255]),
            OK,
        );
        t.row(
            "seal: generation 2^56 with R = 8",
            seal(SenderKeyId::new(1 << 56, 0), b"alice"),
            Err(E::Ratchet(RatchetError::GenerationOutOfRange)),
        );
        let sealed = seal(SenderKeyId::new(1, 0), b"alice").unwrap();
        let with = |offset: usize, value: u8| {
            let mut v = sealed.clone();
            v[offset] = value;
            v
        };
        // Layout: version 0, suite 1..3, R 3, KID 4..12, id length 12, id 13..18, the
        // encapsulated key 18..83, sealed length 83..85, sealed key 85...
        let mut trailing = sealed.clone();
        trailing.push(0);
        let parse_cases: Vec<(&str, Vec<u8>, EnvelopeError)> = vec![
            ("empty", Vec::new(), EnvelopeError::Truncated),
            (
                "version only",
                sealed[..1].to_vec(),
                EnvelopeError::Truncated,
            ),
            (
                "cut inside the sender identity",
                sealed[..15].to_vec(),
                EnvelopeError::Truncated,
            ),
            (
                "cut inside the sealed key",
                sealed[..sealed.len() - 1].to_vec(),
                EnvelopeError::Truncated,
            ),
            ("version 0", with(0, 0), EnvelopeError::Version(0)),
            ("version 2", with(0, 2), EnvelopeError::Version(2)),
            ("suite 9", with(2, 9), EnvelopeError::CipherSuite(9)),
            ("R = 0", with(3, 0), EnvelopeError::RatchetBits),
            ("R = 64", with(3, 64), EnvelopeError::RatchetBits),
            (
                "empty sender identity",
                with(12, 0),
                EnvelopeError::SenderId,
            ),
            (
                "encapsulated key not a point",
                with(18, 3),
                EnvelopeError::EncapsulatedKey,
            ),
            (
                "sealed key of 16 bytes (tag only)",
                with(84, 16),
                EnvelopeError::SealedKeyLength,
            ),
            (
                "sealed key of 0 bytes",
                {
                    let mut v = with(83, 0);
                    v[84] = 0;
                    v
                },
                EnvelopeError::SealedKeyLength,
            ),
            (
                "sealed key of 288 bytes",
                with(83, 1),
                EnvelopeError::SealedKeyLength,
            ),
            (
                "a byte after the envelope",
                trailing,
                EnvelopeError::TrailingBytes,
            ),
        ];
        for (name, bytes, want) in parse_cases {
            t.row(
                format!("envelope parse: {name}"),
                Envelope::parse(&bytes),
                Err(want),
            );
            t.row(
                format!("envelope open: {name}"),
                open_sender_key(&bob, alice.public_key(), b"alice", &bytes),
                Err(E::Envelope(want)),
            );
        }
        let open = |bytes: &[u8]| open_sender_key(&bob, alice.public_key(), b"alice", bytes);
        t.row("envelope open: genuine", open(&sealed), OK);
        t.row(
            "envelope open: expecting another sender",
            open_sender_key(&bob, alice.public_key(), b"mallory", &sealed),
            Err(E::WrongSender),
        );
        t.row(
            "envelope open: by someone it was not sealed to",
            open_sender_key(&pair(3), alice.public_key(), b"alice", &sealed),
            Err(E::Open),
        );
        t.row(
            "envelope open: from another sender's key",
            open_sender_key(&bob, pair(3).public_key(), b"alice", &sealed),
            Err(E::Open),
        );
        for (name, offset) in [
            ("R", 3),
            ("KID", 11),
            ("sender identity", 13),
            ("sealed key", sealed.len() - 17),
            ("tag", sealed.len() - 1),
        ] {
            let mut v = sealed.clone();
            v[offset] ^= if offset == 3 { 0x03 } else { 0x01 };
            t.row(
                format!("envelope open: {name} altered"),
                open(&v),
                Err(if name == "sender identity" {
                    E::WrongSender
                } else {
                    E::Open
                }),
            );
        }

        // Installing: another suite or R, then the same generation again.
        let receiver = |suite, bits| {
            RatchetReceiver::new(suite, bits, SenderKeyId::new(0, 0), base_key()).unwrap()
        };
        let mut other_suite = receiver(CipherSuite::AesCtr128HmacSha256_80, r8());
        let mut other_bits = receiver(SUITE, RatchetBits::new(16).unwrap());
        let mut receiver = receiver(SUITE, r8());
        t.row(
            "install into a receiver of another suite",
            open(&sealed).unwrap().install_into(&mut other_suite),
            Err(E::SuiteMismatch),
        );
        t.row(
            "install into a receiver of another R",
            open(&sealed).unwrap().install_into(&mut other_bits),
            Err(E::SuiteMismatch),
        );
        t.row(
            "install generation 1",
            open(&sealed).unwrap().install_into(&mut receiver),
            OK,
        );
        t.row(
            "install generation 1 again",
            open(&sealed).unwrap().install_into(&mut receiver),
            Err(E::Stale),
        );
    }

    fn group_rows(t: &mut Table) {
        use AgreementError as E;
        let new = |id: &[u8]| GroupSender::new(&mut Counting(5), pair(1), id, SUITE, r8());
        t.row(
            "group sender: empty identity",
            new(b""),
            Err(E::SenderIdLength),
        );
        t.row(
            "group sender: 256-byte identity",
            new(&[b'a'; 256]),
            Err(E::SenderIdLength),
        );
        let mut alice = new(b"alice").unwrap();
        t.row(
            "group sender: remove an unknown member",
            alice.remove_member(&mut Counting(6), b"nobody"),
            Err(E::UnknownMember),
        );
        t.row(
            "group sender: add a member",
            alice.add_member(&mut Counting(7), b"bob", pair(2).public_key().clone()),
            OK,
        );
        t.row(
            "group sender: remove that member",
            alice.remove_member(&mut Counting(8), b"bob"),
            OK,
        );
    }
}
