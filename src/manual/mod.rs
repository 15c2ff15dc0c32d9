//! The manual: how this crate maps onto RFC 9605, and what it guarantees. Documentation only.

#[doc = include_str!("rfc9605.md")]
pub mod rfc9605 {}

#[doc = include_str!("security.md")]
pub mod security {}

#[doc = include_str!("interop.md")]
pub mod interop {}
