//! The receiver's failure contract (module docs of the library's `src/decryptor.rs`) as
//! assertions, and an AEAD oracle built from the `hazmat` doors rather than the receive path
//! under test.

use core::fmt::Debug;

use secure_frame::hazmat::{self, RawAead};
use secure_frame::{
    BaseKey, CipherSuite, Counter, DecryptError, Decryptor, Header, KeyId, MAX_METADATA_LEN,
    ReplayWindow, SframeSalt,
};

/// `bytes` as a base key: the fixtures hold valid lengths only.
pub(crate) fn must_base_key(bytes: &[u8]) -> BaseKey {
    must(BaseKey::new(bytes), "base key")
}

/// `Ok` or a panic naming what failed: the harness's own setup cannot fail, and if it does
/// that is a finding too.
pub(super) fn must<T, E: Debug>(result: Result<T, E>, what: &str) -> T {
    match result {
        Ok(value) => value,
        Err(e) => unreachable!("{what}: {e:?}"),
    }
}

/// Everything of a [`Decryptor`]'s state that a frame can move: the installed KIDs and their
/// replay windows, by KID (the store's own order is not state: taking a key out and putting it
/// back, as the single-key entries do, moves it in the listing).
pub(super) type Snapshot = Vec<(KeyId, ReplayWindow)>;

pub(super) fn snapshot(store: &Decryptor) -> Snapshot {
    let mut keys: Snapshot = store
        .key_ids()
        .filter_map(|kid| store.get(kid).map(|key| (kid, *key.replay_window())))
        .collect();
    keys.sort_unstable_by_key(|&(kid, _)| kid);
    keys
}

/// The state after `before` accepted `ctr` for `kid`: only that window moved, and only by
/// [`ReplayWindow::accept`].
pub(super) fn accepted(before: &Snapshot, kid: KeyId, ctr: Counter) -> Snapshot {
    let mut after = before.clone();
    for (k, window) in &mut after {
        if *k == kid {
            window.accept(ctr.0);
        }
    }
    after
}

/// Where an in-place decrypt's plaintext sits in its frame: (offset, length), or `None` when
/// the returned slice is not inside the frame at all.
pub(super) fn locate(
    frame_addr: usize,
    frame_len: usize,
    plaintext: &[u8],
) -> Option<(usize, usize)> {
    let offset = plaintext.as_ptr().addr().checked_sub(frame_addr)?;
    (offset.checked_add(plaintext.len())? <= frame_len).then_some((offset, plaintext.len()))
}

/// Asserts what an in-place decrypt left in the frame: on success the plaintext is exactly the
/// bytes between header and tag, which are intact; on an authentication failure the header and
/// tag are intact and the ciphertext is zero; on any other error the frame is byte-identical.
/// `tag_len` is `Nt` of the key the frame was given to (unused unless the frame got that far).
pub(super) fn check_in_place(
    before: &[u8],
    after: &[u8],
    result: Result<Option<(usize, usize)>, DecryptError>,
    tag_len: usize,
) {
    assert_eq!(before.len(), after.len(), "a frame never changes length");
    let sections = |frame: &[u8]| -> Option<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let (_, header_len) = Header::decode(before).ok()?;
        let (header, rest) = frame.split_at_checked(header_len)?;
        let (ciphertext, tag) = rest.split_at_checked(rest.len().checked_sub(tag_len)?)?;
        Some((header.to_vec(), ciphertext.to_vec(), tag.to_vec()))
    };
    match result {
        Ok(location) => {
            let (h0, c0, t0) = must(sections(before).ok_or(()), "an accepted frame has sections");
            let (h1, _, t1) = must(sections(after).ok_or(()), "an accepted frame has sections");
            assert_eq!(
                (h0.len(), c0.len()),
                must(location.ok_or(()), "plaintext inside the frame")
            );
            assert_eq!((h0, t0), (h1, t1), "decrypt left header and tag intact");
        }
        Err(DecryptError::Authentication) => {
            let (h0, _, t0) = must(
                sections(before).ok_or(()),
                "an authenticated frame has sections",
            );
            let (h1, c1, t1) = must(
                sections(after).ok_or(()),
                "an authenticated frame has sections",
            );
            assert_eq!(
                (h0, t0),
                (h1, t1),
                "authentication failure left header and tag intact"
            );
            assert!(
                c1.iter().all(|&b| b == 0),
                "authentication failure zeroed the ciphertext"
            );
        }
        Err(e) => assert!(
            before == after,
            "{e:?} before authentication left the frame unchanged"
        ),
    }
}

/// Runs an in-place entry point on a copy of `frame` and checks the frame half of the contract.
pub(super) fn in_place(
    frame: &[u8],
    tag_len: usize,
    open: impl FnOnce(&mut [u8]) -> Result<&mut [u8], DecryptError>,
) -> Result<Vec<u8>, DecryptError> {
    let mut buf = frame.to_vec();
    let addr = buf.as_ptr().addr();
    let len = buf.len();
    let result = open(&mut buf).map(|plaintext| (locate(addr, len, plaintext), plaintext.to_vec()));
    check_in_place(
        frame,
        &buf,
        result.as_ref().map(|(at, _)| *at).map_err(|e| *e),
        tag_len,
    );
    result.map(|(_, plaintext)| plaintext)
}

/// Asserts what a copying decrypt (`ReceiveKey::decrypt`) left in `out`: the plaintext as a
/// prefix on success and nothing else touched; zeros in the first `ciphertext_len` bytes on an
/// authentication failure; nothing touched on any other error.
pub(super) fn check_copy(
    out_before: &[u8],
    out_after: &[u8],
    result: Result<usize, DecryptError>,
    ciphertext_len: usize,
) {
    let untouched_from = |n: usize| out_before.get(n..) == out_after.get(n..);
    match result {
        Ok(len) => assert!(untouched_from(len), "decrypt wrote past the plaintext"),
        Err(DecryptError::Authentication) => {
            let written = must(
                out_after.get(..ciphertext_len).ok_or(()),
                "out holds the ciphertext",
            );
            assert!(
                written.iter().all(|&b| b == 0),
                "authentication failure left zeros in out"
            );
            assert!(
                untouched_from(ciphertext_len),
                "decrypt wrote past the ciphertext"
            );
        }
        Err(e) => assert!(
            out_before == out_after,
            "{e:?} before authentication wrote to out"
        ),
    }
}

/// The AEAD of one receive key rebuilt from its base key with the `hazmat` doors: seals frames
/// at any counter (which an [`Encryptor`](secure_frame::Encryptor) rightly refuses to do twice) and
/// decides independently whether a frame is authentic.
pub(super) struct Oracle {
    aead: RawAead,
    salt: SframeSalt,
    tag_len: usize,
}

impl Oracle {
    pub(super) fn new(suite: CipherSuite, kid: KeyId, base_key: &[u8]) -> Self {
        let (_, key, salt) = hazmat::derive_key_salt(suite, kid, &must_base_key(base_key));
        Self {
            aead: must(RawAead::new(suite, key.expose_secret()), "raw AEAD"),
            salt,
            tag_len: suite.tag_len(),
        }
    }

    /// `header || AEAD.Encrypt(plaintext) || tag` for `header` (RFC 9605 §4.4.3).
    pub(super) fn seal(&self, header: Header, metadata: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let header_bytes = header.encode();
        let aad = [header_bytes.as_bytes(), metadata].concat();
        let mut body = plaintext.to_vec();
        let mut tag = vec![0; self.tag_len];
        let nonce = self.salt.nonce(header.counter().0);
        must(self.aead.seal(&nonce, &aad, &mut body, &mut tag), "seal");
        [header_bytes.as_bytes(), &body, &tag].concat()
    }

    /// The plaintext of `frame` if it is authentic under this key, else `None`.
    pub(super) fn open(&self, metadata: &[u8], frame: &[u8]) -> Option<Vec<u8>> {
        if metadata.len() > MAX_METADATA_LEN {
            return None;
        }
        let (header, header_len) = Header::decode(frame).ok()?;
        let (header_bytes, rest) = frame.split_at_checked(header_len)?;
        let (ciphertext, tag) = rest.split_at_checked(rest.len().checked_sub(self.tag_len)?)?;
        let aad = [header_bytes, metadata].concat();
        let mut body = ciphertext.to_vec();
        let nonce = self.salt.nonce(header.counter().0);
        self.aead.open(&nonce, &aad, &mut body, tag).ok()?;
        Some(body)
    }
}
