//! Target `header_decode`: the header codec against an independent slow codec.

use secure_frame::HeaderError;
use secure_frame::{Counter, FrameView, Header, KeyId};

use crate::Input;

/// Fuzzes [`Header::decode`], [`Header::encode`] and [`FrameView::parse`].
///
/// `data` is read twice: as a header followed by anything (the decode direction), and as a
/// big-endian KID and CTR (the encode direction).
///
/// # Panics
///
/// When decode and [`slow_decode`] disagree (on the value, the length or the exact error), when
/// a decoded header does not re-encode to the bytes it was decoded from, when
/// [`FrameView::parse`] disagrees with [`Header::decode`], or when an encoded header does not
/// decode to itself or a strict prefix of it is not [`HeaderError::Truncated`].
pub fn header_decode(data: &[u8]) {
    // Decode direction.
    let decoded = Header::decode(data);
    let fast = decoded.map(|(h, len)| (h.key_id().0, h.counter().0, len));
    assert_eq!(
        fast,
        slow_decode(data),
        "decode vs slow decode of {data:02x?}"
    );
    match decoded {
        Ok((header, len)) => {
            let (consumed, body) = data.split_at(len);
            assert_eq!(header.encode().as_bytes(), consumed, "re-encode");
            assert_eq!(header.encoded_len(), len);
            let view = FrameView::parse(data);
            assert_eq!(view.map(|v| v.header()), Ok(header));
            assert_eq!(view.map(|v| v.header_bytes()), Ok(consumed));
            assert_eq!(view.map(|v| v.body()), Ok(body));
            assert_eq!(
                view.map(|v| (v.key_id(), v.counter())),
                Ok((header.key_id(), header.counter()))
            );
        }
        Err(e) => assert_eq!(FrameView::parse(data).map(|v| v.header()), Err(e)),
    }

    // Encode direction: any (KID, CTR) encodes canonically and decodes back, whatever follows.
    let mut input = Input::new(data);
    let (kid, ctr) = (input.u64(), input.u64());
    let header = Header::new(KeyId(kid), Counter(ctr));
    let encoded = header.encode();
    assert_eq!(
        encoded.as_bytes(),
        slow_encode(kid, ctr),
        "encode vs slow encode"
    );
    assert_eq!(encoded.len(), header.encoded_len());
    let mut followed = encoded.to_vec();
    followed.extend_from_slice(input.rest());
    assert_eq!(Header::decode(&followed), Ok((header, encoded.len())));
    for cut in 0..encoded.len() {
        assert_eq!(
            encoded.get(..cut).map(Header::decode),
            Some(Err(HeaderError::Truncated)),
            "prefix of {cut} bytes"
        );
    }
}

/// RFC 9605 §4.3 read literally, field by field, with no shared code: the oracle for
/// [`Header::decode`]. Returns (KID, CTR, header length).
///
/// Fields are read in order (config byte, KID, CTR) and the first problem is the error: a KID
/// that is cut off is [`HeaderError::Truncated`] whatever the CTR bits say; a non-minimal KID is
/// [`HeaderError::NonMinimalKeyId`] even when the CTR after it is cut off.
///
/// # Errors
///
/// As [`Header::decode`].
pub fn slow_decode(data: &[u8]) -> Result<(u64, u64, usize), HeaderError> {
    let config = *data.first().ok_or(HeaderError::Truncated)?;
    let mut pos = 1;
    let kid = slow_field(data, &mut pos, config >> 4, HeaderError::NonMinimalKeyId)?;
    let ctr = slow_field(
        data,
        &mut pos,
        config & 0x0f,
        HeaderError::NonMinimalCounter,
    )?;
    Ok((kid, ctr, pos))
}

/// One field from its nibble `X K K K` (or `Y C C C`): the value `K` itself when `X` is clear,
/// else `K + 1` big-endian bytes holding a value of at least 8 with no spare leading byte.
fn slow_field(
    data: &[u8],
    pos: &mut usize,
    nibble: u8,
    non_minimal: HeaderError,
) -> Result<u64, HeaderError> {
    let extended = nibble >= 8;
    let low = nibble % 8;
    if !extended {
        return Ok(u64::from(low));
    }
    let len = usize::from(low) + 1;
    let mut value: u128 = 0;
    for i in 0..len {
        let byte = data.get(*pos + i).ok_or(HeaderError::Truncated)?;
        value = value * 256 + u128::from(*byte);
    }
    *pos += len;
    // The shortest big-endian encoding of `value`.
    let minimal_len = (1..=8u32)
        .find(|n| value < 1u128 << (8 * n))
        .and_then(|n| usize::try_from(n).ok());
    if value < 8 || minimal_len != Some(len) {
        return Err(non_minimal);
    }
    u64::try_from(value).map_err(|_| non_minimal)
}

/// The canonical encoding built the long way: the oracle for [`Header::encode`].
#[must_use]
pub fn slow_encode(kid: u64, ctr: u64) -> Vec<u8> {
    fn field(value: u64) -> (u8, Vec<u8>) {
        if value < 8 {
            return (u8::try_from(value).unwrap_or(0), Vec::new());
        }
        let mut bytes = Vec::new();
        let mut rest = value;
        while rest > 0 {
            bytes.insert(0, rest.to_be_bytes().last().copied().unwrap_or(0));
            rest >>= 8;
        }
        let k = u8::try_from(bytes.len() - 1).unwrap_or(7);
        (0b1000 | k, bytes)
    }
    let (kid_bits, kid_bytes) = field(kid);
    let (ctr_bits, ctr_bytes) = field(ctr);
    let mut out = vec![(kid_bits << 4) | ctr_bits];
    out.extend(kid_bytes);
    out.extend(ctr_bytes);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slow_codec_knows_the_boundaries() {
        assert_eq!(slow_encode(7, 7), [0x77]);
        assert_eq!(slow_encode(8, 0), [0x80, 0x08]);
        assert_eq!(slow_encode(0, 8), [0x08, 0x08]);
        assert_eq!(slow_encode(8, 8), [0x88, 0x08, 0x08]);
        assert_eq!(slow_encode(u64::MAX, u64::MAX).len(), 17);
        assert_eq!(
            slow_decode(&[0x80, 0x05]),
            Err(HeaderError::NonMinimalKeyId)
        );
        assert_eq!(
            slow_decode(&[0x90, 0x00, 0x08]),
            Err(HeaderError::NonMinimalKeyId)
        );
        assert_eq!(
            slow_decode(&[0x08, 0x07]),
            Err(HeaderError::NonMinimalCounter)
        );
        assert_eq!(
            slow_decode(&[0x80, 0x05, 0xff]),
            Err(HeaderError::NonMinimalKeyId)
        );
        // A non-minimal KID is reported even when the CTR after it is cut off.
        assert_eq!(
            slow_decode(&[0x8f, 0x05]),
            Err(HeaderError::NonMinimalKeyId)
        );
        assert_eq!(slow_decode(&[0x8f, 0x08]), Err(HeaderError::Truncated));
        assert_eq!(slow_decode(&[0x77, 0xaa]), Ok((7, 7, 1)));
    }

    #[test]
    fn smoke() {
        for data in [
            &[][..],
            &[0x00],
            &[0xff; 17],
            &[0xff; 16],
            &[0x8f, 0x05],
            &[0x80, 0x00],
        ] {
            header_decode(data);
        }
    }
}
