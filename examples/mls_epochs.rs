//! SFrame keys from MLS (RFC 9605 §5.2) through the `MlsExporter` trait. A stand-in exporter
//! plays the MLS group here (the `interop/` crate runs the same flow on a real openmls group):
//! three members move through epochs, with rollover after `2^E` epochs.
//!
//! `cargo run --example mls_epochs`
#![allow(
    clippy::indexing_slicing,
    clippy::expect_used,
    reason = "application code: the restriction lints guard the library"
)]

use secure_frame::mls::MlsExporter;
use secure_frame::{CipherSuite, Encryptor, MAX_TAG_LEN, MlsSession};

/// Not MLS: a hash of the epoch number, standing in for `MLS-Exporter` so the example needs no
/// MLS stack. Every member computes the same bytes for the same epoch, as MLS guarantees.
struct StandInExporter {
    epoch: u64,
}

impl MlsExporter for StandInExporter {
    type Error = core::convert::Infallible;
    fn export(&self, label: &str, context: &[u8], out: &mut [u8]) -> Result<(), Self::Error> {
        for (i, byte) in out.iter_mut().enumerate() {
            let mix = u64::try_from(label.len() + context.len() + i).expect("small");
            *byte = u8::try_from(self.epoch.wrapping_mul(131).wrapping_add(mix) % 251)
                .expect("below 251");
        }
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let suite = CipherSuite::AesGcm128Sha256;
    let epoch_bits = 2; // at most 4 epochs live; epoch 4 evicts epoch 0
    let mut members: Vec<MlsSession> = (0..3)
        .map(|_| MlsSession::new(suite, epoch_bits, 0))
        .collect::<Result<_, _>>()?;
    for epoch in 0..6u64 {
        for (index, member) in members.iter_mut().enumerate() {
            let installed = member.install_epoch_from(
                &StandInExporter { epoch },
                epoch,
                3,
                u32::try_from(index)?,
            )?;
            if index == 0 && installed.rolled_over.is_some() {
                println!(
                    "epoch {epoch}: rolled over epoch {:?}",
                    installed.rolled_over
                );
            }
        }
        // Encrypted in place: room for the header before the frame, for the tag after it.
        let text = b"frame from member 2";
        let mut room = vec![0; Encryptor::HEADER_ROOM + text.len() + MAX_TAG_LEN];
        room[Encryptor::HEADER_ROOM..][..text.len()].copy_from_slice(text);
        let end = Encryptor::HEADER_ROOM + text.len() + members[2].suite().tag_len();
        let kid = members[2].send_key_id().expect("installed");
        let mut frame = members[2].protect_in_room(b"", &mut room[..end])?.to_vec();
        let opened = members[0]
            .unprotect(b"", &mut frame)?
            .decrypted()
            .ok_or("RFC 9605 frames never pass through")?;
        println!(
            "epoch {epoch}: KID {kid} from participant {}: {}",
            opened.sender,
            String::from_utf8_lossy(opened.plaintext)
        );
    }
    Ok(())
}
