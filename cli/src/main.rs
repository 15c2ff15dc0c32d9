//! The `sframe` command.
fn main() -> std::process::ExitCode {
    sframe_cli::main()
}
