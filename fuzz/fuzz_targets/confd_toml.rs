//! `confd.toml`: arbitrary text as the config file, applied over confd's defaults as the
//! binary does at start. Any panic is a bug: a bad file must end in an error naming it.
#![no_main]

use confd::cli::{self, Command};
use confd::config::{self, Env};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Command::Run(invocation) = cli::parse("confd", &[]) else {
        panic!("no flags must mean: run");
    };
    let env = Env::new();
    if let Ok(loaded) = config::load(&invocation, Some(text), &env) {
        // What the binary does next with the file's values, short of the network.
        let _ = config::finish(loaded.config, None, &env);
    }
});
