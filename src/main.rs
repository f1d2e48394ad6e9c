//! The `confab` binary: parses the command line and hands over to `cli`.

fn main() -> std::process::ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    confab::cli::main()
}
