//! Helpers shared by the integration tests (`mod common;`).

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic,
    reason = "shared by several test crates, each using a different subset"
)]

pub mod frames;
pub mod media;
