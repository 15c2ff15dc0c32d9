//! SFrame (RFC 9605) for browsers, from WebAssembly: the W3C `RTCRtpSFrameEncrypter` /
//! `RTCRtpSFrameDecrypter` shape for an `RTCRtpScriptTransform` worker (not part of RFC 9605:
//! how a browser applies it).
//!
//! [`transform`] is what the worker does to each frame, in plain Rust; on `wasm32` the
//! `bindings` module wraps it in the JavaScript classes `SFrameEncrypter` and `SFrameDecrypter`
//! that `wasm/js/sframe-worker.js` drives. [`agreement`] is the P-256 pairwise key agreement a
//! page runs before a 1:1 call (`SFrameKeyAgreement`). `wasm/README.md` shows the JavaScript
//! side.

pub mod agreement;
pub mod transform;

#[cfg(target_arch = "wasm32")]
mod bindings;
