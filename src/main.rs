//! The `yui` binary: parse the command line, run it, map failure to an exit code.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = yui::cli::Cli::parse();
    match yui::cli::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("yui: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
