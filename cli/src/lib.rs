//! The `sframe` command (package `sframe-cli`): checks SFrame (RFC 9605) test vectors, measures
//! throughput, protects and opens real media files, shows what an SFU sees of a frame, and runs
//! a demo call. Exit status 0 on success, 1 when a check or a decryption fails, 2 on a usage
//! error.
//!
//! The modules are a library so that the integration tests can read the files the binary
//! writes with the same container code.

pub mod bench;
pub mod demo;
pub mod inspect;
pub mod media;
pub mod protect;
pub mod vectors;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// A usage error: a bad option value (exit status 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// SFrame (RFC 9605): verify vectors, measure throughput, protect media files, inspect frames,
/// run a demo call.
#[derive(Debug, Parser)]
#[command(name = "sframe", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check test-vector files (default: every .json under test-vectors/).
    Vectors {
        /// Vector files or directories.
        files: Vec<PathBuf>,
        /// The results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Measure encrypt and decrypt throughput beside the raw AEAD.
    Bench(bench::BenchArgs),
    /// Protect every frame of a media file.
    Encrypt(protect::EncryptArgs),
    /// Open every frame of a protected media file (the KID is read from each frame).
    Decrypt(protect::DecryptArgs),
    /// Show what an SFU sees of each frame, without any key.
    Inspect(inspect::InspectArgs),
    /// A simulated three-party call on the bundled clips.
    Demo(demo::DemoArgs),
}

/// Parses the arguments, runs the command and maps the outcome to the exit status.
#[must_use]
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Vectors { files, json } => run_vectors(&files, json),
        Command::Bench(args) => bench::run(&args),
        Command::Encrypt(args) => protect::encrypt(&args),
        Command::Decrypt(args) => protect::decrypt(&args),
        Command::Inspect(args) => inspect::run(&args),
        Command::Demo(args) => demo::run(&args),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("sframe: error: {e:#}");
            if e.is::<UsageError>() {
                ExitCode::from(2)
            } else {
                ExitCode::from(1)
            }
        }
    }
}

/// The repository directory `name` (`test-vectors`, `test-data/media`): under the current
/// directory if it is there, else beside this package.
#[must_use]
pub fn repo_dir(name: &str) -> PathBuf {
    let here = PathBuf::from(name);
    if here.is_dir() {
        return here;
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(name)
}

fn run_vectors(files: &[PathBuf], json: bool) -> anyhow::Result<bool> {
    let mut paths = Vec::new();
    let inputs = if files.is_empty() {
        vec![repo_dir("test-vectors")]
    } else {
        files.to_vec()
    };
    for input in inputs {
        if input.is_dir() {
            paths.extend(vectors::json_files(&input)?);
        } else {
            paths.push(input);
        }
    }
    let mut results = Vec::new();
    for path in &paths {
        results.extend(vectors::check_file(path)?);
    }
    let (table, passed, failed) = vectors::report(&results);
    if json {
        let value = serde_json::json!({
            "groups": results,
            "passed": passed,
            "failed": failed,
        });
        println!("{}", serde_json::to_string_pretty(&value)?);
    } else {
        print!("{table}");
        println!("{passed} passed, {failed} failed");
    }
    Ok(failed == 0)
}
