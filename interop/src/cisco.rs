//! cisco/sframe as a test peer: safe Rust over our C ABI shim (`cshim/cisco_shim.cpp`), which
//! wraps cisco's `sframe::Context` and `sframe::MLSContext`. Not RFC 9605 itself: the peer
//! implementation that libwebrtc's native SFrame is built on, compiled from
//! `../shared/peers/cisco-sframe` by `build.rs`.
//!
//! This module is the only `unsafe` code of the workspace (the FFI calls); the library has none.
#![expect(
    unsafe_code,
    reason = "the FFI calls into the C++ peer; each unsafe block states why it is sound"
)]

use core::ffi::c_void;
use core::fmt;
use core::ptr::{self, NonNull};

/// What cisco/sframe's `Context::max_overhead` says a frame adds at most: a 17-byte header and
/// a 16-byte tag.
pub const MAX_OVERHEAD: usize = 17 + 16;

/// What cisco/sframe's `Context::max_metadata_size` allows.
pub const MAX_METADATA_LEN: usize = 512;

mod sys {
    use core::ffi::c_void;

    // The declarations of `cshim/cisco_shim.cpp`. The handles are opaque: `c_void` behind a
    // pointer that only the shim creates and frees.
    unsafe extern "C" {
        pub(super) fn sfs_ctx_new(suite: u16, out: *mut *mut c_void) -> i32;
        pub(super) fn sfs_ctx_free(ctx: *mut c_void);
        pub(super) fn sfs_ctx_add_key(
            ctx: *mut c_void,
            kid: u64,
            usage: u32,
            key: *const u8,
            key_len: usize,
        ) -> i32;
        pub(super) fn sfs_ctx_remove_key(ctx: *mut c_void, kid: u64) -> i32;
        pub(super) fn sfs_ctx_set_counter(ctx: *mut c_void, kid: u64, ctr: u64) -> i32;
        pub(super) fn sfs_ctx_protect(
            ctx: *mut c_void,
            kid: u64,
            plaintext: *const u8,
            plaintext_len: usize,
            metadata: *const u8,
            metadata_len: usize,
            out: *mut u8,
            out_cap: usize,
            out_len: *mut usize,
        ) -> i32;
        pub(super) fn sfs_ctx_unprotect(
            ctx: *mut c_void,
            ciphertext: *const u8,
            ciphertext_len: usize,
            metadata: *const u8,
            metadata_len: usize,
            out: *mut u8,
            out_cap: usize,
            out_len: *mut usize,
        ) -> i32;
        pub(super) fn sfs_mls_new(suite: u16, epoch_bits: u32, out: *mut *mut c_void) -> i32;
        pub(super) fn sfs_mls_free(ctx: *mut c_void);
        pub(super) fn sfs_mls_add_epoch(
            ctx: *mut c_void,
            epoch: u64,
            secret: *const u8,
            secret_len: usize,
            sender_bits: u32,
        ) -> i32;
        pub(super) fn sfs_mls_remove_epoch(ctx: *mut c_void, epoch: u64) -> i32;
        pub(super) fn sfs_mls_purge_before(ctx: *mut c_void, epoch: u64) -> i32;
        pub(super) fn sfs_mls_protect(
            ctx: *mut c_void,
            epoch: u64,
            sender: u64,
            context: u64,
            plaintext: *const u8,
            plaintext_len: usize,
            metadata: *const u8,
            metadata_len: usize,
            out: *mut u8,
            out_cap: usize,
            out_len: *mut usize,
        ) -> i32;
        pub(super) fn sfs_mls_unprotect(
            ctx: *mut c_void,
            ciphertext: *const u8,
            ciphertext_len: usize,
            metadata: *const u8,
            metadata_len: usize,
            out: *mut u8,
            out_cap: usize,
            out_len: *mut usize,
        ) -> i32;
    }
}

/// An error cisco/sframe returned (its `SFrameErrorType`), or one of the shim's own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CiscoError {
    /// `internal_error`.
    Internal,
    /// `invalid_parameter_error`: an unknown KID or epoch, a malformed header, a sender or
    /// context ID out of range.
    InvalidParameter,
    /// `buffer_too_small_error`: a frame shorter than its header or tag, metadata over 512
    /// bytes, an output buffer too small.
    BufferTooSmall,
    /// `crypto_error`.
    Crypto,
    /// `unsupported_ciphersuite_error`.
    UnsupportedCipherSuite,
    /// `authentication_error`: the tag did not verify.
    Authentication,
    /// `invalid_key_usage_error`: a protect key used to unprotect, or the other way round.
    InvalidKeyUsage,
    /// The shim refused an argument (a suite cisco does not have, an epoch width over 16).
    BadArgument,
    /// cisco threw a C++ exception, which the shim caught.
    Exception,
    /// A code this wrapper does not know.
    Unknown(i32),
}

impl CiscoError {
    fn check(code: i32) -> Result<(), Self> {
        Err(match code {
            0 => return Ok(()),
            1 => Self::Internal,
            2 => Self::InvalidParameter,
            3 => Self::BufferTooSmall,
            4 => Self::Crypto,
            5 => Self::UnsupportedCipherSuite,
            6 => Self::Authentication,
            7 => Self::InvalidKeyUsage,
            -2 => Self::Exception,
            -3 => Self::BadArgument,
            other => Self::Unknown(other),
        })
    }
}

impl fmt::Display for CiscoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl std::error::Error for CiscoError {}

/// How a key is used (cisco's `KeyUsage`): each key is one or the other (RFC 9605 §4.4.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyUsage {
    /// A send key.
    Protect,
    /// A receive key.
    Unprotect,
}

/// Runs an FFI call that writes a frame into `out` (capacity `cap`) and its length into
/// `*out_len`; returns the bytes written.
fn with_output(
    cap: usize,
    call: impl FnOnce(*mut u8, usize, *mut usize) -> i32,
) -> Result<Vec<u8>, CiscoError> {
    let mut out = vec![0u8; cap];
    let mut len = 0usize;
    CiscoError::check(call(out.as_mut_ptr(), out.len(), &raw mut len))?;
    // The shim reports the size of a sub-span of `out`; never trust it past the buffer.
    if len > out.len() {
        return Err(CiscoError::Unknown(i32::MIN));
    }
    out.truncate(len);
    Ok(out)
}

/// Creates a shim object through `new`, which writes the handle into its out-pointer.
fn create(new: impl FnOnce(*mut *mut c_void) -> i32) -> Result<NonNull<c_void>, CiscoError> {
    let mut raw = ptr::null_mut();
    CiscoError::check(new(&raw mut raw))?;
    NonNull::new(raw).ok_or(CiscoError::Unknown(0))
}

/// cisco/sframe's `sframe::Context`: keys added by KID, each a protect key (with its own
/// counter, starting at 0) or an unprotect key.
pub struct CiscoContext {
    raw: NonNull<c_void>,
}

impl CiscoContext {
    /// A context for the suite with this RFC 9605 identifier (1 to 5: cisco has no others).
    ///
    /// # Errors
    ///
    /// [`CiscoError::BadArgument`] for another suite.
    pub fn new(suite: u16) -> Result<Self, CiscoError> {
        // SAFETY: `out` is a valid pointer to a local; the shim writes a handle only on success.
        let raw = create(|out| unsafe { sys::sfs_ctx_new(suite, out) })?;
        Ok(Self { raw })
    }

    /// `add_key(kid, usage, base_key)`. cisco keeps the first key of a KID: adding a KID again
    /// changes nothing.
    ///
    /// # Errors
    ///
    /// cisco's error.
    pub fn add_key(
        &mut self,
        kid: u64,
        usage: KeyUsage,
        base_key: &[u8],
    ) -> Result<(), CiscoError> {
        let usage = match usage {
            KeyUsage::Protect => 0,
            KeyUsage::Unprotect => 1,
        };
        // SAFETY: `self.raw` is a live handle (freed only in `drop`); the key pointer and
        // length come from one slice, which the shim only reads during the call.
        CiscoError::check(unsafe {
            sys::sfs_ctx_add_key(
                self.raw.as_ptr(),
                kid,
                usage,
                base_key.as_ptr(),
                base_key.len(),
            )
        })
    }

    /// `remove_key(kid)`.
    pub fn remove_key(&mut self, kid: u64) {
        // SAFETY: `self.raw` is a live handle. The call cannot fail.
        let code = unsafe { sys::sfs_ctx_remove_key(self.raw.as_ptr(), kid) };
        debug_assert_eq!(code, 0, "remove_key does not fail");
    }

    /// The test door: sets the next counter of the protect key `kid`, so that a test reaches
    /// a counter without protecting that many frames. (cisco has no such call; the shim reaches
    /// its per-key record through a subclass.)
    ///
    /// # Errors
    ///
    /// [`CiscoError::InvalidParameter`] for a KID with no key.
    pub fn set_counter(&mut self, kid: u64, ctr: u64) -> Result<(), CiscoError> {
        // SAFETY: `self.raw` is a live handle.
        CiscoError::check(unsafe { sys::sfs_ctx_set_counter(self.raw.as_ptr(), kid, ctr) })
    }

    /// `protect(kid, out, plaintext, metadata)`: the SFrame ciphertext, with the key's next
    /// counter.
    ///
    /// # Errors
    ///
    /// cisco's error.
    pub fn protect(
        &mut self,
        kid: u64,
        plaintext: &[u8],
        metadata: &[u8],
    ) -> Result<Vec<u8>, CiscoError> {
        let ctx = self.raw.as_ptr();
        with_output(plaintext.len() + MAX_OVERHEAD, |out, cap, len| {
            // SAFETY: live handle; every pointer comes with the length of its own slice or
            // buffer (`out` holds `cap` bytes), and the shim touches them only during the call.
            unsafe {
                sys::sfs_ctx_protect(
                    ctx,
                    kid,
                    plaintext.as_ptr(),
                    plaintext.len(),
                    metadata.as_ptr(),
                    metadata.len(),
                    out,
                    cap,
                    len,
                )
            }
        })
    }

    /// `unprotect(out, ciphertext, metadata)`: the plaintext.
    ///
    /// # Errors
    ///
    /// cisco's error.
    pub fn unprotect(&mut self, ciphertext: &[u8], metadata: &[u8]) -> Result<Vec<u8>, CiscoError> {
        let ctx = self.raw.as_ptr();
        with_output(ciphertext.len(), |out, cap, len| {
            // SAFETY: as in `protect`.
            unsafe {
                sys::sfs_ctx_unprotect(
                    ctx,
                    ciphertext.as_ptr(),
                    ciphertext.len(),
                    metadata.as_ptr(),
                    metadata.len(),
                    out,
                    cap,
                    len,
                )
            }
        })
    }
}

impl Drop for CiscoContext {
    fn drop(&mut self) {
        // SAFETY: the handle came from `sfs_ctx_new` and is freed once, here.
        unsafe { sys::sfs_ctx_free(self.raw.as_ptr()) }
    }
}

impl fmt::Debug for CiscoContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CiscoContext").finish_non_exhaustive()
    }
}

/// cisco/sframe's `sframe::MLSContext` (its take on RFC 9605 §5.2): epochs added with their
/// secret; keys derived per KID on demand.
pub struct CiscoMlsContext {
    raw: NonNull<c_void>,
}

impl CiscoMlsContext {
    /// A context for `suite` (1 to 5) with `epoch_bits` (`E`, 1 to 16) low epoch bits in the KID.
    ///
    /// # Errors
    ///
    /// [`CiscoError::BadArgument`] for another suite or width.
    pub fn new(suite: u16, epoch_bits: u32) -> Result<Self, CiscoError> {
        // SAFETY: as in `CiscoContext::new`.
        let raw = create(|out| unsafe { sys::sfs_mls_new(suite, epoch_bits, out) })?;
        Ok(Self { raw })
    }

    /// `add_epoch(epoch, sframe_epoch_secret, sender_bits)`; `sender_bits = 0` gives the sender
    /// every bit above the epoch (no context).
    ///
    /// # Errors
    ///
    /// cisco's error.
    pub fn add_epoch(
        &mut self,
        epoch: u64,
        secret: &[u8],
        sender_bits: u32,
    ) -> Result<(), CiscoError> {
        // SAFETY: live handle; the secret's pointer and length come from one slice.
        CiscoError::check(unsafe {
            sys::sfs_mls_add_epoch(
                self.raw.as_ptr(),
                epoch,
                secret.as_ptr(),
                secret.len(),
                sender_bits,
            )
        })
    }

    /// `remove_epoch(epoch)`.
    pub fn remove_epoch(&mut self, epoch: u64) {
        // SAFETY: live handle. The call cannot fail.
        let code = unsafe { sys::sfs_mls_remove_epoch(self.raw.as_ptr(), epoch) };
        debug_assert_eq!(code, 0, "remove_epoch does not fail");
    }

    /// `purge_before(epoch)`.
    pub fn purge_before(&mut self, epoch: u64) {
        // SAFETY: live handle. The call cannot fail.
        let code = unsafe { sys::sfs_mls_purge_before(self.raw.as_ptr(), epoch) };
        debug_assert_eq!(code, 0, "purge_before does not fail");
    }

    /// `protect(epoch, sender, context, out, plaintext, metadata)`.
    ///
    /// # Errors
    ///
    /// cisco's error.
    pub fn protect(
        &mut self,
        epoch: u64,
        sender: u64,
        context: u64,
        plaintext: &[u8],
        metadata: &[u8],
    ) -> Result<Vec<u8>, CiscoError> {
        let ctx = self.raw.as_ptr();
        with_output(plaintext.len() + MAX_OVERHEAD, |out, cap, len| {
            // SAFETY: as in `CiscoContext::protect`.
            unsafe {
                sys::sfs_mls_protect(
                    ctx,
                    epoch,
                    sender,
                    context,
                    plaintext.as_ptr(),
                    plaintext.len(),
                    metadata.as_ptr(),
                    metadata.len(),
                    out,
                    cap,
                    len,
                )
            }
        })
    }

    /// `unprotect(out, ciphertext, metadata)`.
    ///
    /// # Errors
    ///
    /// cisco's error.
    pub fn unprotect(&mut self, ciphertext: &[u8], metadata: &[u8]) -> Result<Vec<u8>, CiscoError> {
        let ctx = self.raw.as_ptr();
        with_output(ciphertext.len(), |out, cap, len| {
            // SAFETY: as in `CiscoContext::protect`.
            unsafe {
                sys::sfs_mls_unprotect(
                    ctx,
                    ciphertext.as_ptr(),
                    ciphertext.len(),
                    metadata.as_ptr(),
                    metadata.len(),
                    out,
                    cap,
                    len,
                )
            }
        })
    }
}

impl Drop for CiscoMlsContext {
    fn drop(&mut self) {
        // SAFETY: the handle came from `sfs_mls_new` and is freed once, here.
        unsafe { sys::sfs_mls_free(self.raw.as_ptr()) }
    }
}

impl fmt::Debug for CiscoMlsContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CiscoMlsContext").finish_non_exhaustive()
    }
}
