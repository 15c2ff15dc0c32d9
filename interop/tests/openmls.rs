//! RFC 9605 §5.2 with a real MLS group (openmls): three members, one added later, one
//! removed. Every member derives its SFrame keys from its own MLS exporter through
//! `secure_frame::mls::MlsExporter`; frames from each member decrypt at the others; after the
//! removal, the removed member's keys are not the new epoch's and its frames do not decrypt.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "test code"
)]

use openmls::prelude::*;
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use secure_frame::mls::{MlsExporter, epoch_base_key};
use secure_frame::{BaseKey, CipherSuite, MlsSession, ParticipantId, UnprotectError};

const MLS_SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_AES128GCM_SHA256_Ed25519;
const SFRAME_SUITE: CipherSuite = CipherSuite::AesGcm128Sha256;
const EPOCH_BITS: u8 = 4;

/// The bridge: openmls's exporter behind our trait.
struct Exporter<'a> {
    group: &'a MlsGroup,
    provider: &'a OpenMlsRustCrypto,
}

impl MlsExporter for Exporter<'_> {
    type Error = ExportSecretError;
    fn export(&self, label: &str, context: &[u8], out: &mut [u8]) -> Result<(), Self::Error> {
        let secret = self
            .group
            .export_secret(self.provider.crypto(), label, context, out.len())?;
        out.copy_from_slice(&secret);
        Ok(())
    }
}

/// One MLS client with its SFrame session.
struct Member {
    name: &'static str,
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
    group: Option<MlsGroup>,
    session: MlsSession,
}

impl Member {
    fn new(name: &'static str) -> Self {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(MLS_SUITE.signature_algorithm()).unwrap();
        signer.store(provider.storage()).unwrap();
        let credential = CredentialWithKey {
            credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: signer.to_public_vec().into(),
        };
        Self {
            name,
            provider,
            signer,
            credential,
            group: None,
            session: MlsSession::new(SFRAME_SUITE, EPOCH_BITS, 0).unwrap(),
        }
    }

    fn group(&self) -> &MlsGroup {
        self.group.as_ref().expect("in a group")
    }

    fn key_package(&self) -> KeyPackage {
        KeyPackage::builder()
            .build(
                MLS_SUITE,
                &self.provider,
                &self.signer,
                self.credential.clone(),
            )
            .unwrap()
            .key_package()
            .clone()
    }

    fn exporter(&self) -> Exporter<'_> {
        Exporter {
            group: self.group(),
            provider: &self.provider,
        }
    }

    /// Moves the SFrame session to the MLS group's current epoch, from this member's own
    /// exporter.
    fn sync_sframe(&mut self) {
        let group = self.group.as_ref().unwrap();
        let (epoch, size, index) = (
            group.epoch().as_u64(),
            group_size(group),
            group.own_leaf_index().u32(),
        );
        let exporter = Exporter {
            group,
            provider: &self.provider,
        };
        self.session
            .install_epoch_from(&exporter, epoch, size, index)
            .unwrap();
    }

    fn join(&mut self, welcome: MlsMessageOut) {
        let MlsMessageBodyIn::Welcome(welcome) = MlsMessageIn::from(welcome).extract() else {
            panic!("{}: expected a welcome", self.name);
        };
        let config = MlsGroupJoinConfig::builder()
            .use_ratchet_tree_extension(true)
            .build();
        let group = StagedWelcome::new_from_welcome(&self.provider, &config, welcome, None)
            .unwrap()
            .into_group(&self.provider)
            .unwrap();
        self.group = Some(group);
    }

    fn process_commit(&mut self, commit: &MlsMessageOut) {
        let message = MlsMessageIn::from(commit.clone())
            .try_into_protocol_message()
            .unwrap();
        let group = self.group.as_mut().unwrap();
        let processed = group.process_message(&self.provider, message).unwrap();
        let ProcessedMessageContent::StagedCommitMessage(staged) = processed.into_content() else {
            panic!("{}: expected a commit", self.name);
        };
        group.merge_staged_commit(&self.provider, *staged).unwrap();
    }

    fn protect(&mut self, text: &str) -> Vec<u8> {
        let mut frame = text.as_bytes().to_vec();
        self.session.protect(b"", &mut frame).unwrap();
        frame
    }

    fn unprotect(&mut self, frame: &[u8]) -> Result<(ParticipantId, String), UnprotectError> {
        let mut buf = frame.to_vec();
        self.session.unprotect(b"", &mut buf).map(|u| {
            let d = u.decrypted().expect("RFC 9605 frames never pass through");
            (d.sender, String::from_utf8(d.plaintext.to_vec()).unwrap())
        })
    }
}

/// `S` counts leaves, including blank ones left by removals.
fn group_size(group: &MlsGroup) -> u32 {
    group.members().map(|m| m.index.u32()).max().unwrap() + 1
}

/// Every member sends a frame; every other member decrypts it and attributes it.
fn all_frames_decrypt(members: &mut [&mut Member]) {
    for from in 0..members.len() {
        let text = format!(
            "{} in epoch {}",
            members[from].name,
            members[from].group().epoch().as_u64()
        );
        let frame = members[from].protect(&text);
        let index = u64::from(members[from].group().own_leaf_index().u32());
        for to in (0..members.len()).filter(|&to| to != from) {
            let (sender, plaintext) = members[to].unprotect(&frame).unwrap();
            assert_eq!(
                sender,
                ParticipantId(index),
                "{} → {}",
                members[from].name,
                members[to].name
            );
            assert_eq!(plaintext, text);
        }
    }
}

fn base_key(member: &Member) -> Vec<u8> {
    epoch_base_key(&member.exporter(), SFRAME_SUITE)
        .unwrap()
        .expose_secret()
        .to_vec()
}

#[test]
fn three_members_one_added_one_removed() {
    let mut alice = Member::new("alice");
    let mut bob = Member::new("bob");
    let mut carol = Member::new("carol");

    let config = MlsGroupCreateConfig::builder()
        .ciphersuite(MLS_SUITE)
        .use_ratchet_tree_extension(true)
        .build();
    alice.group = Some(
        MlsGroup::new(
            &alice.provider,
            &alice.signer,
            &config,
            alice.credential.clone(),
        )
        .unwrap(),
    );

    // Epoch 1: Alice adds Bob.
    let kp = bob.key_package();
    let group = alice.group.as_mut().unwrap();
    let (_, welcome, _) = group
        .add_members(&alice.provider, &alice.signer, &[kp])
        .unwrap();
    group.merge_pending_commit(&alice.provider).unwrap();
    bob.join(welcome);
    assert_eq!(alice.group().epoch().as_u64(), 1);
    alice.sync_sframe();
    bob.sync_sframe();
    assert_eq!(
        base_key(&alice),
        base_key(&bob),
        "one exporter secret per epoch"
    );
    assert_eq!(
        base_key(&alice).len(),
        SFRAME_SUITE.key_len(),
        "Nk of the SFrame suite"
    );
    all_frames_decrypt(&mut [&mut alice, &mut bob]);

    // Epoch 2: Alice adds Carol, who joins late.
    let kp = carol.key_package();
    let group = alice.group.as_mut().unwrap();
    let (commit, welcome, _) = group
        .add_members(&alice.provider, &alice.signer, &[kp])
        .unwrap();
    group.merge_pending_commit(&alice.provider).unwrap();
    bob.process_commit(&commit);
    carol.join(welcome);
    for m in [&mut alice, &mut bob, &mut carol] {
        assert_eq!(m.group().epoch().as_u64(), 2);
        m.sync_sframe();
    }
    let epoch_2_key = base_key(&alice);
    assert_eq!(base_key(&carol), epoch_2_key);
    all_frames_decrypt(&mut [&mut alice, &mut bob, &mut carol]);
    // A frame Bob sends in epoch 2, kept for later.
    let bob_epoch_2 = bob.protect("bob, epoch 2");

    // Epoch 3: Alice removes Bob.
    let bob_index = bob.group().own_leaf_index();
    let group = alice.group.as_mut().unwrap();
    let (commit, _, _) = group
        .remove_members(&alice.provider, &alice.signer, &[bob_index])
        .unwrap();
    group.merge_pending_commit(&alice.provider).unwrap();
    carol.process_commit(&commit);
    bob.process_commit(&commit);
    assert!(!bob.group().is_active(), "bob knows he was removed");
    for m in [&mut alice, &mut carol] {
        assert_eq!(m.group().epoch().as_u64(), 3);
        m.sync_sframe();
    }
    all_frames_decrypt(&mut [&mut alice, &mut carol]);

    // Bob's exporter does not give the new epoch's key.
    let epoch_3_key = base_key(&alice);
    assert_ne!(epoch_3_key, epoch_2_key);
    // openmls refuses to export for a removed member at all.
    assert!(matches!(
        epoch_base_key(&bob.exporter(), SFRAME_SUITE),
        Err(ExportSecretError::GroupStateError(_))
    ));
    // New-epoch frames are unknown to Bob's session...
    let secret = alice.protect("after bob left");
    assert!(matches!(
        bob.unprotect(&secret),
        Err(UnprotectError::UnknownKeyId(_))
    ));
    bob.session.clear_pending();
    // ...and the last key he had, installed as if it were epoch 3, does not help.
    let last_known = BaseKey::new(&epoch_2_key).unwrap();
    bob.session
        .install_epoch(3, 3, bob_index.u32(), last_known)
        .unwrap();
    assert!(matches!(
        bob.unprotect(&secret),
        Err(UnprotectError::Authentication(_))
    ));
    // Bob's frames are not accepted in epoch 3 either (his index left the group's keys).
    let from_bob = bob.protect("bob, still sending");
    assert!(alice.unprotect(&from_bob).is_err());
    // A late epoch-2 frame from Bob still decrypts at Carol while epoch 2 is live.
    assert_eq!(carol.unprotect(&bob_epoch_2).unwrap().1, "bob, epoch 2");
}
