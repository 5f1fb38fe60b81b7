//! The `perpsim` binary: everything lives in the library; see `perpsim --help`.

fn main() -> std::process::ExitCode {
    perpsim::cli::main()
}
