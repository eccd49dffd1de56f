//! confd-register: registers a service instance in etcd while it is healthy, under a lease it
//! keeps alive, for confd to render into nginx's configuration. See `agent` for the theory of
//! operation and `cli` for the command line and what is validated.
#![forbid(unsafe_code)]

mod agent;
mod check;
mod cli;
mod docker;
mod log;

use cli::Parsed;

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
pub fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}
