//! `sframe demo`.
/// Demo options.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {}
/// Runs.
///
/// # Errors
///
/// Never yet.
pub fn run(_args: &DemoArgs) -> anyhow::Result<bool> {
    Ok(true)
}
