//! Target `envelope_parse`: [`Envelope::parse`] on arbitrary bytes.

use secure_frame::EnvelopeError;
use secure_frame::agreement::group::ENVELOPE_VERSION;
use secure_frame::agreement::{Envelope, PublicKey};

use crate::Output;

/// The bytes of `envelope` in the version 1 layout (`agreement::group`'s module docs), built
/// from its public fields only.
#[must_use]
pub fn envelope_bytes(envelope: &Envelope<'_>) -> Vec<u8> {
    Output::new()
        .u8(ENVELOPE_VERSION)
        .u16(envelope.suite.id())
        .u8(envelope.ratchet_bits.get())
        .u64(envelope.key_id.0)
        .u8(u8::try_from(envelope.sender_id.len()).unwrap_or(0))
        .bytes(envelope.sender_id)
        .bytes(envelope.encapsulated_key)
        .u16(u16::try_from(envelope.sealed.len()).unwrap_or(0))
        .bytes(envelope.sealed)
        .finish()
}

/// Whether `part` is the sub-slice `whole[offset..offset + part.len()]` itself (not a copy).
fn is_at(whole: &[u8], part: &[u8], offset: usize) -> bool {
    part.as_ptr().addr().checked_sub(whole.as_ptr().addr()) == Some(offset)
}

/// Fuzzes the sender-key envelope parser with arbitrary bytes.
///
/// # Panics
///
/// When [`Envelope::parse`] panics; when an accepted envelope does not re-serialize from its
/// fields to exactly the input, its fields are not the input's own bytes at the layout's
/// offsets, or a field is out of its range (empty sender identity, an encapsulated key that is
/// not 65 bytes of a P-256 point, a sealed key outside 17–144 bytes); when a strict prefix of an
/// accepted envelope is anything but [`EnvelopeError::Truncated`], or the envelope with one byte
/// appended anything but [`EnvelopeError::TrailingBytes`]; or when a refusal names a field the
/// input does not break (`Version` with a version byte of 1, `SenderId` with a non-zero length).
pub fn envelope_parse(data: &[u8]) {
    let envelope = match Envelope::parse(data) {
        Ok(envelope) => envelope,
        Err(e) => {
            match e {
                EnvelopeError::Version(v) => {
                    assert_eq!(data.first(), Some(&v), "the version read");
                    assert_ne!(v, ENVELOPE_VERSION, "version 1 refused");
                }
                EnvelopeError::SenderId => assert_eq!(data.get(12), Some(&0), "empty sender id"),
                _ => {}
            }
            return;
        }
    };
    assert_eq!(
        envelope_bytes(&envelope),
        data,
        "re-serializes to the input"
    );
    let id_len = envelope.sender_id.len();
    assert!((1..=255).contains(&id_len), "sender id length");
    assert_eq!(
        envelope.encapsulated_key.len(),
        PublicKey::LEN,
        "encapsulated key length"
    );
    assert!(
        PublicKey::from_sec1_bytes(envelope.encapsulated_key).is_ok(),
        "encapsulated key is a point"
    );
    assert!(
        (17..=144).contains(&envelope.sealed.len()),
        "sealed key length"
    );
    assert!(
        is_at(data, envelope.sender_id, 13),
        "sender id borrowed in place"
    );
    assert!(
        is_at(data, envelope.encapsulated_key, 13 + id_len),
        "encapsulated key borrowed in place"
    );
    assert!(
        is_at(data, envelope.sealed, 13 + id_len + PublicKey::LEN + 2),
        "sealed key borrowed in place"
    );
    assert_eq!(
        envelope.sender_key_id().to_key_id(envelope.ratchet_bits),
        Ok(envelope.key_id),
        "the KID takes apart and back"
    );
    for end in 0..data.len() {
        let prefix = data.get(..end).unwrap_or_default();
        assert_eq!(
            Envelope::parse(prefix).err(),
            Some(EnvelopeError::Truncated),
            "a strict prefix of {end} bytes is truncated"
        );
    }
    let mut longer = data.to_vec();
    longer.push(0);
    assert_eq!(
        Envelope::parse(&longer).err(),
        Some(EnvelopeError::TrailingBytes),
        "a byte appended is trailing"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smoke() {
        envelope_parse(&[]);
        envelope_parse(&[1]);
        envelope_parse(&[1, 0, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        envelope_parse(&[2, 0, 1]);
    }
}
