//! confd-register: start-up. The modules are in the library half (`lib.rs`).
#![forbid(unsafe_code)]

use confd_register::cli::Parsed;
use confd_register::{agent, cli, docker};

fn main() {
    let args: Vec<String> =
        std::env::args_os().skip(1).map(|a| a.to_string_lossy().into_owned()).collect();
    let code = match cli::parse(&args, &|name| std::env::var(name).ok(), &hostname()) {
        Ok(Parsed::Help) => {
            print!("{}", cli::USAGE);
            0
        }
        Ok(Parsed::DockerHelp) => {
            print!("{}", cli::DOCKER_USAGE);
            0
        }
        Ok(Parsed::Version) => {
            println!("confd-register {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Ok(Parsed::Run(cfg)) => agent::run(*cfg),
        Ok(Parsed::Docker(cfg)) => docker::run(*cfg),
        Err(e) => {
            eprintln!("confd-register: {e} (see confd-register --help)");
            2
        }
    };
    std::process::exit(code);
}

/// This machine's name (for the default instance id and the log lines).
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
