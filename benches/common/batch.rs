//! The batch size of every receive row of `benches/sframe.rs` and `benches/session.rs`.

use criterion::BatchSize;

/// Iterations per timed batch of a receive row of `size`-byte frames, the same for the raw row
/// and the library's: at most 256 KiB of frames (at most 1 024), so that each is opened from
/// cache, as a frame just received is. Criterion's `SmallInput` batches a tenth of a sample's
/// iterations, tens of megabytes of 1 200 B frames, and every row then paid for reading its
/// frames from memory (BENCHMARKS.md, 2026-12-04).
pub fn batch(size: usize) -> BatchSize {
    BatchSize::NumIterations(u64::try_from((256 * 1024 / size.max(1)).clamp(1, 1024)).unwrap())
}
