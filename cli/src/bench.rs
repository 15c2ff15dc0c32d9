//! `sframe bench`.
/// Bench options.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {}
/// Runs.
///
/// # Errors
///
/// Never yet.
pub fn run(_args: &BenchArgs) -> anyhow::Result<bool> {
    Ok(true)
}
